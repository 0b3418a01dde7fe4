/* The sandbox, run for real: commands wrapped in bubblewrap through the
 * executor write only where they are bound, see a /tmp of their own, reach
 * no network unless asked, run as nobody, and leave nothing behind when
 * killed. Where bwrap cannot make a sandbox (shoal_sandbox_check fails) a
 * behaviour prints why and passes; waits poll until a deadline.
 */
#include "harness.h"
#include "node/adapter.h"
#include "node/exec.h"
#include "node/sandbox.h"
#include "scratch.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static uint64_t
s_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static bool
s_usable(void)
{
    char err[512];
    if (shoal_sandbox_check(err, sizeof(err)) == 0)
        return true;
    printf("skipped: %s\n", err);
    return false;
}

/* A session directory under /tmp (the tmpfs must not hide it). */
typedef struct {
    char root[64]; /* /tmp/shoal-sandbox-XXXXXX */
    char dir[96];  /* root/work */
} s_scratch_t;

static s_scratch_t
s_scratch(void)
{
    s_scratch_t s = {.root = "/tmp/shoal-sandbox-XXXXXX"};
    CHECK(mkdtemp(s.root) != NULL);
    snprintf(s.dir, sizeof(s.dir), "%s/work", s.root);
    CHECK_INT(mkdir(s.dir, 0755), ==, 0);
    return s;
}

/* Runs `sh -c script sh args...` in the sandbox, cwd the session's dir. */
static shoal_exec_t *
s_run(const shoal_sandbox_t *sandbox, const char *script, char *const *args, uint64_t timeout_ms)
{
    char err[256] = "";
    char **wrap = shoal_sandbox_argv(sandbox, err, sizeof(err));
    if (!wrap)
        fprintf(stderr, "shoal_sandbox_argv: %s\n", err);
    CHECK(wrap != NULL);
    char *argv[16] = {"sh", "-c", (char *)script, "sh"};
    for (size_t i = 0; args && args[i]; i++) {
        CHECK(i + 5 < sizeof(argv) / sizeof(argv[0]));
        argv[4 + i] = args[i];
    }
    shoal_exec_spec_t spec = {
        .argv = argv, .wrap = wrap, .cwd = sandbox->dir, .timeout_ms = timeout_ms};
    shoal_exec_t *exec = shoal_exec_run(&spec, err, sizeof(err));
    if (!exec)
        fprintf(stderr, "shoal_exec_run: %s\n", err);
    CHECK(exec != NULL);
    shoal_adapter_argv_free(&wrap);
    return exec;
}

static bool
s_exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}

void test_node_sandbox_missing_bwrap_says_what_to_install(void);
void
test_node_sandbox_missing_bwrap_says_what_to_install(void)
{
    setenv("PATH", "/nonexistent-shoal", 1);
    char err[256] = "";
    CHECK_INT(shoal_sandbox_check(err, sizeof(err)), ==, -1);
    CHECK(strstr(err, "install bubblewrap") != NULL);
    shoal_sandbox_t sandbox = {.dir = "/tmp"};
    CHECK(shoal_sandbox_argv(&sandbox, err, sizeof(err)) == NULL);
    CHECK(strstr(err, "install bubblewrap") != NULL);
}

void test_node_sandbox_check_gives_bwraps_reason(void);
void
test_node_sandbox_check_gives_bwraps_reason(void)
{
    /* a bwrap that fails as it does where user namespaces are off */
    char dir[] = "/tmp/shoal-sandbox-shim-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    scratch_write(dir, "bwrap",
                  "#!/bin/sh\necho 'bwrap: No permissions to creating new namespace, likely "
                  "because the kernel does not allow non-privileged user namespaces.'\n\nexit 1\n");
    char shim[80];
    snprintf(shim, sizeof(shim), "%s/bwrap", dir);
    CHECK_INT(chmod(shim, 0755), ==, 0);
    setenv("PATH", dir, 1);
    char err[512] = "";
    CHECK_INT(shoal_sandbox_check(err, sizeof(err)), ==, -1);
    CHECK(strstr(err, "bubblewrap cannot make a sandbox here: bwrap: No permissions to creating "
                      "new namespace, likely because the kernel does not allow non-privileged "
                      "user namespaces.") == err);
    /* the sandbox's words start with that bwrap, by its full path */
    shoal_sandbox_t sandbox = {.dir = "/tmp"};
    char **wrap = shoal_sandbox_argv(&sandbox, err, sizeof(err));
    CHECK(wrap != NULL);
    CHECK_STR(wrap[0], shim);
    shoal_adapter_argv_free(&wrap);
    scratch_remove_tree(dir);
}

void test_node_sandbox_writes_only_where_bound(void);
void
test_node_sandbox_writes_only_where_bound(void)
{
    if (!s_usable())
        return;
    s_scratch_t s = s_scratch();
    /* outside /tmp, so not hidden by its tmpfs: one bound, one not */
    char bound[] = "/var/tmp/shoal-sandbox-w-XXXXXX", unbound[] = "/var/tmp/shoal-sandbox-u-XXXXXX";
    CHECK(mkdtemp(bound) != NULL);
    CHECK(mkdtemp(unbound) != NULL);
    char etc[64];
    snprintf(etc, sizeof(etc), "/etc/shoal-sandbox-probe-%d", (int)getpid());
    const char *writable[] = {bound};
    shoal_sandbox_t sandbox = {.dir = s.dir, .writable = writable, .writable_count = 1};
    char *args[] = {s.dir, bound, unbound, etc, NULL};
    shoal_exec_t *exec = s_run(&sandbox,
                               "touch \"$1/in\" \"$2/in\"; touch \"$3/out\" || touch \"$4\" || "
                               "echo refused",
                               args, 0);
    CHECK(strstr(shoal_exec_result(exec)->output, "refused\n") != NULL);
    shoal_exec_destroy(&exec);
    char path[128];
    snprintf(path, sizeof(path), "%s/in", s.dir);
    CHECK(s_exists(path));
    snprintf(path, sizeof(path), "%s/in", bound);
    CHECK(s_exists(path));
    snprintf(path, sizeof(path), "%s/out", unbound);
    bool escaped = s_exists(path) || s_exists(etc);
    unlink(etc);
    scratch_remove_tree(bound);
    scratch_remove_tree(unbound);
    scratch_remove_tree(s.root);
    CHECK(!escaped);
}

void test_node_sandbox_tmp_is_private(void);
void
test_node_sandbox_tmp_is_private(void)
{
    if (!s_usable())
        return;
    s_scratch_t s = s_scratch();
    char host[] = "/tmp/shoal-sandbox-host-XXXXXX";
    int fd = mkstemp(host);
    CHECK(fd >= 0);
    close(fd);
    char inside[64];
    snprintf(inside, sizeof(inside), "/tmp/shoal-sandbox-inside-%d", (int)getpid());
    shoal_sandbox_t sandbox = {.dir = s.dir};
    char *args[] = {host, inside, NULL};
    shoal_exec_t *exec = s_run(
        &sandbox, "test -e \"$1\" && echo host file visible; touch \"$2\" && LC_ALL=C ls -A /tmp",
        args, 0);
    /* only the way to the session's directory, and what it wrote itself, in
     * byte order: the scratch directory's name is random */
    const char *names[2] = {s.root + strlen("/tmp/"), inside + strlen("/tmp/")};
    if (strcmp(names[0], names[1]) > 0) {
        const char *first = names[1];
        names[1] = names[0];
        names[0] = first;
    }
    char expected[512];
    snprintf(expected, sizeof(expected), "%s\n%s\n", names[0], names[1]);
    CHECK_STR(shoal_exec_result(exec)->output, expected);
    shoal_exec_destroy(&exec);
    bool leaked = s_exists(inside);
    unlink(inside);
    unlink(host);
    scratch_remove_tree(s.root);
    CHECK(!leaked);
}

void test_node_sandbox_network_only_when_asked(void);
void
test_node_sandbox_network_only_when_asked(void)
{
    if (!s_usable())
        return;
    int listener = socket(AF_INET, SOCK_STREAM, 0);
    CHECK(listener >= 0);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(addr);
    CHECK_INT(bind(listener, (struct sockaddr *)&addr, sizeof(addr)), ==, 0);
    CHECK_INT(listen(listener, 8), ==, 0);
    CHECK_INT(getsockname(listener, (struct sockaddr *)&addr, &len), ==, 0);
    char port[16];
    snprintf(port, sizeof(port), "%u", (unsigned)ntohs(addr.sin_port));
    s_scratch_t s = s_scratch();
    char *args[] = {port, NULL};
    const char *script = "exec bash -c 'echo hi >/dev/tcp/127.0.0.1/$0' \"$1\"";
    shoal_sandbox_t sandbox = {.dir = s.dir};
    shoal_exec_t *exec = s_run(&sandbox, script, args, 0);
    CHECK_INT(shoal_exec_result(exec)->exit_code, !=, 0);
    shoal_exec_destroy(&exec);
    sandbox.network = true;
    exec = s_run(&sandbox, script, args, 0);
    if (shoal_exec_result(exec)->exit_code != 0)
        fprintf(stderr, "%s\n", shoal_exec_result(exec)->output);
    CHECK_INT(shoal_exec_result(exec)->exit_code, ==, 0);
    shoal_exec_destroy(&exec);
    close(listener);
    scratch_remove_tree(s.root);
}

void test_node_sandbox_runs_as_nobody_at_home_in_its_dir(void);
void
test_node_sandbox_runs_as_nobody_at_home_in_its_dir(void)
{
    if (!s_usable())
        return;
    s_scratch_t s = s_scratch();
    shoal_sandbox_t sandbox = {.dir = s.dir};
    shoal_exec_t *exec = s_run(&sandbox, "id -u; id -g; echo \"$HOME\"; pwd", NULL, 0);
    char expected[256];
    snprintf(expected, sizeof(expected), "65534\n65534\n%s\n%s\n", s.dir, s.dir);
    CHECK_STR(shoal_exec_result(exec)->output, expected);
    shoal_exec_destroy(&exec);
    scratch_remove_tree(s.root);
}

void test_node_sandbox_hides_what_it_is_told_to(void);
void
test_node_sandbox_hides_what_it_is_told_to(void)
{
    if (!s_usable())
        return;
    /* the daemon's secrets, in a directory that also holds its work */
    char secrets[] = "/var/tmp/shoal-sandbox-secrets-XXXXXX";
    CHECK(mkdtemp(secrets) != NULL);
    scratch_write(secrets, "key", "secret\n");
    scratch_write(secrets, "work/session/file", "shipped\n");
    char key[80], dir[80], alone[80];
    snprintf(key, sizeof(key), "%s/key", secrets);
    snprintf(dir, sizeof(dir), "%s/work/session", secrets);
    char only[] = "/var/tmp/shoal-sandbox-file-XXXXXX";
    int fd = mkstemp(only);
    CHECK(fd >= 0);
    CHECK_INT(write(fd, "secret\n", 7), ==, 7);
    close(fd);
    snprintf(alone, sizeof(alone), "%s", only);
    const char *hidden[] = {secrets, alone, "/nonexistent-shoal-secret"};
    shoal_sandbox_t sandbox = {.dir = dir, .hidden = hidden, .hidden_count = 3};
    char *args[] = {key, alone, NULL};
    shoal_exec_t *exec =
        s_run(&sandbox, "cat \"$1\" \"$2\" 2>/dev/null; cat file; echo done", args, 0);
    CHECK_STR(shoal_exec_result(exec)->output, "shipped\ndone\n");
    shoal_exec_destroy(&exec);
    unlink(only);
    scratch_remove_tree(secrets);
}

/* Processes whose argv[0] is marker and that still run (not zombies). */
static int
s_count_marked(const char *marker)
{
    DIR *proc = opendir("/proc");
    CHECK(proc != NULL);
    int count = 0;
    struct dirent *e;
    while ((e = readdir(proc))) {
        if (e->d_name[0] < '0' || e->d_name[0] > '9')
            continue;
        char path[300], cmdline[256] = "", stat[512] = "";
        snprintf(path, sizeof(path), "/proc/%s/cmdline", e->d_name);
        FILE *f = fopen(path, "r");
        if (!f)
            continue;
        size_t n = fread(cmdline, 1, sizeof(cmdline) - 1, f);
        fclose(f);
        cmdline[n] = '\0';
        if (strcmp(cmdline, marker) != 0)
            continue;
        snprintf(path, sizeof(path), "/proc/%s/stat", e->d_name);
        if (!(f = fopen(path, "r")))
            continue;
        n = fread(stat, 1, sizeof(stat) - 1, f);
        fclose(f);
        stat[n] = '\0';
        const char *paren = strrchr(stat, ')');
        count += paren && paren[1] == ' ' && paren[2] != 'Z' && paren[2] != 'X';
    }
    closedir(proc);
    return count;
}

static void
s_wait_count(const char *marker, int want)
{
    uint64_t deadline = s_now_ms() + 10000;
    while (s_count_marked(marker) != want) {
        CHECK(s_now_ms() < deadline);
        poll(NULL, 0, 20);
    }
}

void test_node_sandbox_kill_leaves_nothing_behind(void);
void
test_node_sandbox_kill_leaves_nothing_behind(void)
{
    if (!s_usable())
        return;
    s_scratch_t s = s_scratch();
    char marker[64];
    snprintf(marker, sizeof(marker), "shoal-sandbox-marker-%d", (int)getpid());
    /* two sleepers inside, one in the background, in the sandbox's own
     * session and process group */
    char script[256];
    snprintf(script, sizeof(script),
             "exec bash -c '(exec -a %s sleep 3600) & echo started; exec -a %s sleep 3600'", marker,
             marker);
    char err[256];
    shoal_sandbox_t sandbox = {.dir = s.dir};
    char **wrap = shoal_sandbox_argv(&sandbox, err, sizeof(err));
    CHECK(wrap != NULL);
    char *argv[] = {"sh", "-c", script, NULL};
    shoal_exec_spec_t spec = {.argv = argv, .wrap = wrap};
    /* shoal_exec_kill */
    shoal_exec_t *exec = shoal_exec_start(&spec, s_now_ms(), err, sizeof(err));
    CHECK(exec != NULL);
    uint64_t deadline = s_now_ms() + 10000;
    while (s_count_marked(marker) != 2) {
        CHECK(!shoal_exec_poll(exec, s_now_ms()));
        CHECK(s_now_ms() < deadline);
        poll(NULL, 0, 20);
    }
    shoal_exec_kill(exec);
    while (!shoal_exec_poll(exec, s_now_ms())) {
        CHECK(s_now_ms() < deadline);
        poll(NULL, 0, 20);
    }
    shoal_exec_destroy(&exec);
    s_wait_count(marker, 0);
    /* the timeout */
    spec.timeout_ms = 1500;
    exec = shoal_exec_run(&spec, err, sizeof(err));
    CHECK(exec != NULL);
    CHECK(shoal_exec_result(exec)->timed_out);
    CHECK(strstr(shoal_exec_result(exec)->output, "started") != NULL);
    shoal_exec_destroy(&exec);
    s_wait_count(marker, 0);
    shoal_adapter_argv_free(&wrap);
    scratch_remove_tree(s.root);
}
