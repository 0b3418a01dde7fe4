/* The executor: exit codes, signals, a timeout that kills the whole process
 * group, head+tail output capture, environment, spawn failures reported as
 * results, and a grandchild holding the pipe that must not hang us. Time is
 * fake where the behaviour allows it; where a real process must get somewhere
 * first, the test polls with a deadline instead of sleeping.
 */
#include "harness.h"
#include "node/exec.h"
#include "scratch.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#define TEST(g, n) void test_##g##_##n(void);
#include "node.list"
#undef TEST

static uint64_t
s_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void
s_nap(void)
{
    poll(NULL, 0, 10);
}

static shoal_exec_t *
s_run_spec(const shoal_exec_spec_t *spec)
{
    char err[256] = "";
    shoal_exec_t *exec = shoal_exec_run(spec, err, sizeof(err));
    if (!exec)
        fprintf(stderr, "shoal_exec_run: %s\n", err);
    CHECK(exec != NULL);
    CHECK(shoal_exec_result(exec) != NULL);
    return exec;
}

static shoal_exec_t *
s_run(char *const *argv, const char *cwd, char *const *env, size_t cap)
{
    shoal_exec_spec_t spec = {.argv = argv, .cwd = cwd, .env_extra = env, .output_cap = cap};
    return s_run_spec(&spec);
}

/* A process that is gone or a zombie no longer runs. */
static bool
s_alive(pid_t pid)
{
    char path[64], stat[256] = "";
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return false;
    size_t n = fread(stat, 1, sizeof(stat) - 1, f);
    fclose(f);
    stat[n] = '\0';
    const char *paren = strrchr(stat, ')');
    return paren && paren[1] == ' ' && paren[2] != 'Z' && paren[2] != 'X';
}

static void
s_wait_dead(pid_t pid)
{
    uint64_t deadline = s_now_ms() + 5000;
    while (s_alive(pid) && s_now_ms() < deadline)
        s_nap();
    CHECK(!s_alive(pid));
}

/* Waits until the file holds a pid written by the child, and returns it. */
static pid_t
s_read_pid(const char *path)
{
    uint64_t deadline = s_now_ms() + 5000;
    for (;;) {
        FILE *f = fopen(path, "r");
        int pid = 0;
        if (f) {
            if (fscanf(f, "%d", &pid) != 1)
                pid = 0;
            fclose(f);
        }
        if (pid > 0)
            return (pid_t)pid;
        CHECK(s_now_ms() < deadline);
        s_nap();
    }
}

void
test_node_exec_reports_exit_code(void)
{
    char *argv[] = {"sh", "-c", "exit 3", NULL};
    shoal_exec_t *exec = s_run(argv, NULL, NULL, 0);
    const shoal_exec_result_t *r = shoal_exec_result(exec);
    CHECK(!r->spawn_failed && !r->timed_out);
    CHECK_INT(r->signal, ==, 0);
    CHECK_INT(r->exit_code, ==, 3);
    shoal_exec_destroy(&exec);
    shoal_exec_destroy(&exec);
    CHECK(exec == NULL);
}

void
test_node_exec_reports_signal_death(void)
{
    char *argv[] = {"sh", "-c", "kill -USR1 $$", NULL};
    shoal_exec_t *exec = s_run(argv, NULL, NULL, 0);
    const shoal_exec_result_t *r = shoal_exec_result(exec);
    CHECK(!r->spawn_failed && !r->timed_out);
    CHECK_INT(r->signal, ==, SIGUSR1);
    shoal_exec_destroy(&exec);
}

void
test_node_exec_kills_process_group_on_timeout(void)
{
    char pidfile[] = "/tmp/shoal-exec-XXXXXX";
    int fd = mkstemp(pidfile);
    CHECK(fd >= 0);
    close(fd);
    char script[256];
    snprintf(script, sizeof(script), "sleep 30 & echo $! > %s; sleep 30", pidfile);
    char *argv[] = {"sh", "-c", script, NULL};
    shoal_exec_spec_t spec = {.argv = argv, .timeout_ms = 5000};
    char err[256];
    shoal_exec_t *exec = shoal_exec_start(&spec, 1000, err, sizeof(err));
    CHECK(exec != NULL);
    pid_t child = shoal_exec_pid(exec), grandchild = s_read_pid(pidfile);
    CHECK(!shoal_exec_poll(exec, 1000 + 4999));
    uint64_t deadline = s_now_ms() + 5000;
    while (!shoal_exec_poll(exec, 1000 + 5000)) {
        CHECK(s_now_ms() < deadline);
        s_nap();
    }
    const shoal_exec_result_t *r = shoal_exec_result(exec);
    CHECK(r->timed_out);
    CHECK_INT(r->signal, ==, SIGKILL);
    CHECK_INT(r->duration_ms, ==, 5000);
    s_wait_dead(child);
    s_wait_dead(grandchild);
    shoal_exec_destroy(&exec);
    unlink(pidfile);
}

void
test_node_exec_captures_merged_output(void)
{
    char *argv[] = {"sh", "-c", "echo out; echo err >&2; echo out2", NULL};
    shoal_exec_t *exec = s_run(argv, NULL, NULL, 0);
    const shoal_exec_result_t *r = shoal_exec_result(exec);
    CHECK_STR(r->output, "out\nerr\nout2\n");
    CHECK_INT(r->output_len, ==, 13);
    CHECK(!r->truncated);
    shoal_exec_destroy(&exec);
}

void
test_node_exec_keeps_head_and_tail_when_truncated(void)
{
    char *argv[] = {"sh", "-c", "printf HEAD; head -c 100000 /dev/zero | tr '\\000' x; printf TAIL",
                    NULL};
    shoal_exec_t *exec = s_run(argv, NULL, NULL, 1000);
    const shoal_exec_result_t *r = shoal_exec_result(exec);
    CHECK(r->truncated);
    CHECK_INT(r->exit_code, ==, 0);
    CHECK(strncmp(r->output, "HEADxxxx", 8) == 0);
    CHECK(strcmp(r->output + r->output_len - 8, "xxxxTAIL") == 0);
    CHECK(strstr(r->output, "dropped 99008 bytes") != NULL);
    CHECK_INT(strlen(r->output), ==, r->output_len);
    CHECK_INT(r->output_len, <, 1100);
    shoal_exec_destroy(&exec);
}

void
test_node_exec_passes_environment(void)
{
    setenv("SHOAL_SESSION", "inherited", 1);
    setenv("SHOAL_EXEC_TEST_KEEP", "kept", 1);
    char *env[] = {"SHOAL_NODE=n1", "SHOAL_SLOT=3", "SHOAL_SESSION=s9", NULL};
    char *argv[] = {"sh", "-c", "echo $SHOAL_NODE/$SHOAL_SLOT/$SHOAL_SESSION/$SHOAL_EXEC_TEST_KEEP",
                    NULL};
    shoal_exec_t *exec = s_run(argv, NULL, env, 0);
    CHECK_STR(shoal_exec_result(exec)->output, "n1/3/s9/kept\n");
    shoal_exec_destroy(&exec);
}

void
test_node_exec_env_replaces_this_process_environment(void)
{
    /* A node runs a client's session with the client's environment: ours
     * does not leak in, and the session's additions still apply. */
    setenv("SHOAL_EXEC_TEST_KEEP", "ours", 1);
    char *base[] = {"PATH=/usr/bin:/bin", "WHERE=client", "SHOAL_SLOT=0", NULL};
    char *extra[] = {"SHOAL_SLOT=2", NULL};
    char *argv[] = {"sh", "-c", "echo $WHERE/$SHOAL_SLOT/${SHOAL_EXEC_TEST_KEEP:-unset}", NULL};
    shoal_exec_spec_t spec = {.argv = argv, .env = base, .env_extra = extra};
    shoal_exec_t *exec = s_run_spec(&spec);
    CHECK_STR(shoal_exec_result(exec)->output, "client/2/unset\n");
    shoal_exec_destroy(&exec);
}

void
test_node_exec_env_path_finds_the_program(void)
{
    char dir[] = "/tmp/shoal-exec-path-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    scratch_write(dir, "bin/shoal-exec-probe", "#!/bin/sh\necho found in bin \"$1\"\n");
    char path[sizeof(dir) + 64];
    snprintf(path, sizeof(path), "%s/bin/shoal-exec-probe", dir);
    CHECK_INT(chmod(path, 0755), ==, 0);
    /* the environment's PATH, a relative entry read from the child's cwd */
    char *base[] = {"PATH=/nonexistent:bin", NULL};
    char *argv[] = {"shoal-exec-probe", "x", NULL};
    shoal_exec_spec_t spec = {.argv = argv, .cwd = dir, .env = base};
    shoal_exec_t *exec = s_run_spec(&spec);
    CHECK_STR(shoal_exec_result(exec)->output, "found in bin x\n");
    shoal_exec_destroy(&exec);
    /* not on that PATH: not run, even when it is on ours */
    char ours[sizeof(dir) + 16];
    snprintf(ours, sizeof(ours), "%s/bin", dir);
    setenv("PATH", ours, 1);
    char *elsewhere[] = {"PATH=/usr/bin:/bin", NULL};
    spec.env = elsewhere;
    exec = s_run_spec(&spec);
    CHECK(shoal_exec_result(exec)->spawn_failed);
    CHECK_STR(shoal_exec_result(exec)->output,
              "cannot run 'shoal-exec-probe': No such file or directory");
    shoal_exec_destroy(&exec);
    scratch_remove_tree(dir);
}

void
test_node_exec_missing_binary_fails_to_spawn(void)
{
    char *argv[] = {"shoal-no-such-program", "x", NULL};
    shoal_exec_t *exec = s_run(argv, NULL, NULL, 0);
    const shoal_exec_result_t *r = shoal_exec_result(exec);
    CHECK(r->spawn_failed);
    CHECK_STR(r->output, "cannot run 'shoal-no-such-program': No such file or directory");
    CHECK_INT(shoal_exec_fd(exec), ==, -1);
    shoal_exec_destroy(&exec);
}

void
test_node_exec_bad_cwd_fails_to_spawn(void)
{
    char *argv[] = {"true", NULL};
    shoal_exec_t *exec = s_run(argv, "/nonexistent-shoal-dir", NULL, 0);
    const shoal_exec_result_t *r = shoal_exec_result(exec);
    CHECK(r->spawn_failed);
    CHECK_STR(r->output, "cannot enter directory '/nonexistent-shoal-dir': No such file or "
                         "directory");
    shoal_exec_destroy(&exec);

    char *pwd[] = {"pwd", NULL};
    exec = s_run(pwd, "/tmp", NULL, 0);
    CHECK_STR(shoal_exec_result(exec)->output, "/tmp\n");
    shoal_exec_destroy(&exec);
}

void
test_node_exec_grandchild_holding_pipe_does_not_hang(void)
{
    char pidfile[] = "/tmp/shoal-exec-XXXXXX";
    int fd = mkstemp(pidfile);
    CHECK(fd >= 0);
    close(fd);
    char script[256];
    snprintf(script, sizeof(script), "sleep 30 & echo $! > %s; echo bye", pidfile);
    char *argv[] = {"sh", "-c", script, NULL};
    uint64_t started = s_now_ms();
    shoal_exec_t *exec = s_run(argv, NULL, NULL, 0);
    CHECK_INT(s_now_ms() - started, <, 5000);
    const shoal_exec_result_t *r = shoal_exec_result(exec);
    CHECK_INT(r->exit_code, ==, 0);
    CHECK(!r->timed_out);
    CHECK_STR(r->output, "bye\n");
    s_wait_dead(s_read_pid(pidfile)); /* finishing kills what the batch left behind */
    shoal_exec_destroy(&exec);
    unlink(pidfile);
}

void
test_node_exec_child_gets_clean_process_state(void)
{
    /* stdin is /dev/null, an inherited descriptor is closed, an ignored signal
     * is back to its default. */
    int stray = open("/dev/null", O_RDONLY);
    CHECK(stray >= 0);
    CHECK(dup2(stray, 57) == 57);
    signal(SIGTERM, SIG_IGN);
    char *argv[] = {"sh", "-c",
                    "cat; test -e /proc/self/fd/57 && echo leaked; echo ok; kill -TERM $$; "
                    "echo survived",
                    NULL};
    shoal_exec_t *exec = s_run(argv, NULL, NULL, 0);
    const shoal_exec_result_t *r = shoal_exec_result(exec);
    CHECK_STR(r->output, "ok\n");
    CHECK_INT(r->signal, ==, SIGTERM);
    CHECK(shoal_exec_pid(exec) > 0);
    shoal_exec_destroy(&exec);
    signal(SIGTERM, SIG_DFL);
    close(57);
    close(stray);
}

void
test_node_exec_kill_ends_the_group(void)
{
    char *argv[] = {"sleep", "30", NULL};
    shoal_exec_spec_t spec = {.argv = argv};
    char err[256];
    shoal_exec_t *exec = shoal_exec_start(&spec, 0, err, sizeof(err));
    CHECK(exec != NULL);
    CHECK(shoal_exec_fd(exec) >= 0);
    CHECK(!shoal_exec_poll(exec, 10));
    CHECK(shoal_exec_result(exec) == NULL);
    shoal_exec_kill(exec);
    uint64_t deadline = s_now_ms() + 5000;
    while (!shoal_exec_poll(exec, 20)) {
        CHECK(s_now_ms() < deadline);
        s_nap();
    }
    const shoal_exec_result_t *r = shoal_exec_result(exec);
    CHECK_INT(r->signal, ==, SIGKILL);
    CHECK(!r->timed_out);
    CHECK_INT(r->duration_ms, ==, 20);
    shoal_exec_destroy(&exec);

    /* destroying a running one kills and reaps it */
    exec = shoal_exec_start(&spec, 0, err, sizeof(err));
    CHECK(exec != NULL);
    pid_t pid = shoal_exec_pid(exec);
    shoal_exec_destroy(&exec);
    CHECK(kill(pid, 0) != 0 && errno == ESRCH);
}

void
test_node_exec_wrap_runs_before_argv(void)
{
    char *wrap[] = {"env", "FOO=bar", NULL};
    char *argv[] = {"sh", "-c", "echo $FOO", NULL};
    shoal_exec_spec_t spec = {.argv = argv, .wrap = wrap};
    shoal_exec_t *exec = s_run_spec(&spec);
    CHECK_INT(shoal_exec_result(exec)->exit_code, ==, 0);
    CHECK_STR(shoal_exec_result(exec)->output, "bar\n");
    shoal_exec_destroy(&exec);

    /* The wrapper is found in the child's PATH; the command is the
     * wrapper's to find (here on the PATH the wrapper sets). */
    char dir[] = "/tmp/shoal-exec-wrap-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    scratch_write(dir, "bin/shoal-exec-probe", "#!/bin/sh\necho probe \"$1\" $FOO\n");
    char probe[sizeof(dir) + 64], path[sizeof(dir) + 64];
    snprintf(probe, sizeof(probe), "%s/bin/shoal-exec-probe", dir);
    CHECK_INT(chmod(probe, 0755), ==, 0);
    snprintf(path, sizeof(path), "PATH=%s/bin:/usr/bin:/bin", dir);
    char *base[] = {"PATH=/usr/bin:/bin", NULL};
    char *wrap_path[] = {"env", path, "FOO=bar", NULL};
    char *run_probe[] = {"shoal-exec-probe", "x", NULL};
    spec = (shoal_exec_spec_t){.argv = run_probe, .wrap = wrap_path, .env = base};
    exec = s_run_spec(&spec);
    CHECK_STR(shoal_exec_result(exec)->output, "probe x bar\n");
    shoal_exec_destroy(&exec);
    scratch_remove_tree(dir);

    /* an empty wrap is none */
    char *none[] = {NULL};
    spec = (shoal_exec_spec_t){.argv = argv, .wrap = none, .env_extra = wrap + 1};
    exec = s_run_spec(&spec);
    CHECK_STR(shoal_exec_result(exec)->output, "bar\n");
    shoal_exec_destroy(&exec);
}

void
test_node_exec_wrap_spawn_failure_names_the_wrapper(void)
{
    char *wrap[] = {"shoal-no-such-wrapper", "--", NULL};
    char *argv[] = {"true", NULL};
    /* found by execvpe in our PATH, and by lookup in another environment's */
    char *base[] = {"PATH=/usr/bin:/bin", NULL};
    for (int with_env = 0; with_env < 2; with_env++) {
        shoal_exec_spec_t spec = {.argv = argv, .wrap = wrap, .env = with_env ? base : NULL};
        shoal_exec_t *exec = s_run_spec(&spec);
        const shoal_exec_result_t *r = shoal_exec_result(exec);
        CHECK(r->spawn_failed);
        CHECK_STR(r->output, "cannot run 'shoal-no-such-wrapper': No such file or directory");
        shoal_exec_destroy(&exec);
    }
}
