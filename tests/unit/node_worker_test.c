/* pytest workers, run for real: /usr/bin/python3 -m pytest on a small suite in
 * a temporary directory (python3-pytest is a build dependency: these tests
 * fail without it, they never skip). One worker runs batch after batch; a
 * test that kills its process is the error and the rest of its batch is left
 * to run again; a batch past its timeout kills the worker; a worker that
 * cannot start fails the whole batch with pytest's own words.
 */
#include "harness.h"
#include "scratch.h"
#include "node/worker.h"

#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define TEST(g, n) void test_##g##_##n(void);
#include "node.list"
#undef TEST

static const char s_suite[] = "import os, time\n"
                              "import pytest\n"
                              "def test_pass():\n"
                              "    pass\n"
                              "def test_fail():\n"
                              "    assert 1 == 2, 'one is not two'\n"
                              "def test_crash():\n"
                              "    os.kill(os.getpid(), 9)\n"
                              "def test_slow():\n"
                              "    time.sleep(60)\n"
                              "@pytest.mark.skip(reason='not today')\n"
                              "def test_skip():\n"
                              "    pass\n"
                              "def test_hidden():\n"
                              "    assert 'SHOAL_WORKER_CHANNEL' not in os.environ\n"
                              "    assert not os.get_inheritable(3)\n"
                              "def test_pid():\n"
                              "    with open('pids', 'a') as f:\n"
                              "        f.write('%d\\n' % os.getpid())\n";

typedef struct {
    char dir[64];
    char plugin[96];
    shoal_adapter_t *adapter;
} s_fixture_t;

static void
s_setup(s_fixture_t *fx, bool install)
{
    snprintf(fx->dir, sizeof(fx->dir), "/tmp/shoal-worker-XXXXXX");
    CHECK(mkdtemp(fx->dir) != NULL);
    char path[128];
    snprintf(path, sizeof(path), "%s/test_w.py", fx->dir);
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    fputs(s_suite, f);
    CHECK(fclose(f) == 0);
    snprintf(fx->plugin, sizeof(fx->plugin), "%s/py", fx->dir);
    CHECK(mkdir(fx->plugin, 0700) == 0);
    char err[256] = "";
    if (install)
        CHECK(shoal_worker_install(fx->plugin, err, sizeof(err)) == 0);
    char *cmd[] = {"/usr/bin/python3", "-m", "pytest"};
    fx->adapter = shoal_adapter_new(3, cmd, NULL, err, sizeof(err));
    CHECK(fx->adapter != NULL);
}

static void
s_teardown(s_fixture_t *fx)
{
    shoal_adapter_destroy(&fx->adapter);
    scratch_remove_tree(fx->dir);
}

static uint64_t
s_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static shoal_worker_t *
s_worker(s_fixture_t *fx)
{
    char **argv = shoal_adapter_worker_argv(fx->adapter, SHOAL_WORKER_MODULE);
    CHECK(argv != NULL);
    char pythonpath[160], channel[64];
    snprintf(pythonpath, sizeof(pythonpath), "PYTHONPATH=%s", fx->plugin);
    snprintf(channel, sizeof(channel), "SHOAL_WORKER_CHANNEL=%d", SHOAL_EXEC_CHANNEL_FD);
    char *env[] = {pythonpath, channel, NULL};
    shoal_exec_spec_t spec = {.argv = argv, .cwd = fx->dir, .env_extra = env};
    char err[256] = "";
    shoal_worker_t *w = shoal_worker_new(&spec, s_ms(), err, sizeof(err));
    shoal_adapter_argv_free(&argv);
    CHECK(w != NULL);
    return w;
}

/* Runs ids (names in test_w.py) as one batch; polls until it is over. */
static void
s_batch(shoal_worker_t *w, const char *const *names, size_t count, uint64_t timeout_ms,
        shoal_test_result_t *results)
{
    char ids[8][64];
    const char *idp[8];
    CHECK(count <= 8);
    for (size_t i = 0; i < count; i++) {
        snprintf(ids[i], sizeof(ids[i]), "test_w.py::%s", names[i]);
        idp[i] = ids[i];
    }
    CHECK(shoal_worker_run(w, idp, count, timeout_ms, s_ms()) == 0);
    uint64_t deadline = s_ms() + 30000;
    while (!shoal_worker_poll(w, s_ms())) {
        CHECK(s_ms() < deadline);
        usleep(2000);
    }
    CHECK(shoal_worker_results(w, results) == 0);
}

static void
s_clear(shoal_test_result_t *results, size_t count)
{
    for (size_t i = 0; i < count; i++)
        shoal_test_result_clear(&results[i]);
}

void
test_node_worker_runs_batches_in_one_process(void)
{
    s_fixture_t fx;
    s_setup(&fx, true);
    shoal_worker_t *w = s_worker(&fx);
    shoal_test_result_t r[4];
    const char *first[] = {"test_pass", "test_fail", "test_skip", "test_pid"};
    s_batch(w, first, 4, 0, r);
    CHECK_INT(r[0].outcome, ==, SHOAL_OUTCOME_PASSED);
    CHECK_INT(r[1].outcome, ==, SHOAL_OUTCOME_FAILED);
    CHECK(strstr(r[1].message, "one is not two") != NULL);
    CHECK(strstr(r[1].output, "assert 1 == 2") != NULL);
    CHECK_INT(r[2].outcome, ==, SHOAL_OUTCOME_SKIPPED);
    CHECK(strstr(r[2].message, "not today") != NULL);
    CHECK_INT(r[3].outcome, ==, SHOAL_OUTCOME_PASSED);
    s_clear(r, 4);
    CHECK(shoal_worker_alive(w));
    /* The next batch runs in the same process: no start-up, no collection. */
    const char *second[] = {"test_pid", "nope", "test_hidden"};
    s_batch(w, second, 3, 0, r);
    CHECK_INT(r[0].outcome, ==, SHOAL_OUTCOME_PASSED);
    CHECK_INT(r[1].outcome, ==, SHOAL_OUTCOME_ERROR);
    CHECK_STR(r[1].message, "not collected by this runner");
    /* Tests see neither the channel's variable nor an inheritable socket. */
    CHECK_INT(r[2].outcome, ==, SHOAL_OUTCOME_PASSED);
    s_clear(r, 3);
    char path[128], pids[64] = "";
    snprintf(path, sizeof(path), "%s/pids", fx.dir);
    FILE *f = fopen(path, "r");
    CHECK(f != NULL);
    size_t n = fread(pids, 1, sizeof(pids) - 1, f);
    fclose(f);
    pids[n] = '\0';
    char *nl = strchr(pids, '\n');
    CHECK(nl != NULL);
    CHECK(strncmp(pids, nl + 1, (size_t)(nl - pids)) == 0); /* the same pid twice */
    shoal_worker_destroy(&w);
    s_teardown(&fx);
}

void
test_node_worker_crash_blames_the_test_and_spares_the_rest(void)
{
    s_fixture_t fx;
    s_setup(&fx, true);
    shoal_worker_t *w = s_worker(&fx);
    shoal_test_result_t r[3];
    const char *names[] = {"test_pass", "test_crash", "test_pid"};
    s_batch(w, names, 3, 0, r);
    CHECK_INT(r[0].outcome, ==, SHOAL_OUTCOME_PASSED);
    CHECK_INT(r[1].outcome, ==, SHOAL_OUTCOME_ERROR);
    CHECK_STR(r[1].message, "crashed: killed by signal 9");
    CHECK_INT(r[2].outcome, ==, SHOAL_OUTCOME_NOT_RUN); /* dealt again elsewhere */
    CHECK(!shoal_worker_alive(w));
    s_clear(r, 3);
    shoal_worker_destroy(&w);
    s_teardown(&fx);
}

void
test_node_worker_timeout_kills_the_worker(void)
{
    s_fixture_t fx;
    s_setup(&fx, true);
    shoal_worker_t *w = s_worker(&fx);
    shoal_test_result_t r[2];
    const char *names[] = {"test_slow", "test_pass"};
    s_batch(w, names, 2, 1500, r);
    CHECK_INT(r[0].outcome, ==, SHOAL_OUTCOME_ERROR);
    CHECK(strncmp(r[0].message, "timed out after", 15) == 0);
    CHECK_INT(r[1].outcome, ==, SHOAL_OUTCOME_NOT_RUN);
    CHECK(!shoal_worker_alive(w));
    s_clear(r, 2);
    shoal_worker_destroy(&w);
    s_teardown(&fx);
}

void
test_node_worker_that_cannot_start_fails_its_batch(void)
{
    s_fixture_t fx;
    s_setup(&fx, false); /* no plugin: pytest cannot load it */
    shoal_worker_t *w = s_worker(&fx);
    shoal_test_result_t r[2];
    const char *names[] = {"test_pass", "test_pid"};
    s_batch(w, names, 2, 0, r);
    for (size_t i = 0; i < 2; i++) {
        CHECK_INT(r[i].outcome, ==, SHOAL_OUTCOME_ERROR);
        CHECK(strncmp(r[i].message, "pytest could not start", 22) == 0);
        CHECK(strstr(r[i].output, SHOAL_WORKER_MODULE) != NULL); /* pytest's own words */
    }
    s_clear(r, 2);
    shoal_worker_destroy(&w);
    s_teardown(&fx);
}

void
test_node_worker_split_undoes_escapes(void)
{
    char line[] = "result\ta\\tb\tx\\\\y\\n\t\t";
    char *f[8];
    CHECK_INT(shoal_worker_split(line, f, 8), ==, 5);
    CHECK_STR(f[0], "result");
    CHECK_STR(f[1], "a\tb");
    CHECK_STR(f[2], "x\\y\n");
    CHECK_STR(f[3], "");
    CHECK_STR(f[4], "");
    char many[] = "a\tb\tc";
    CHECK_INT(shoal_worker_split(many, f, 2), ==, 2);
    CHECK_STR(f[0], "a");
}
