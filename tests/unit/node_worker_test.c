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

/* A scratch directory with the plugin (if install) and a worker command:
 * /usr/bin/python3 -m pytest followed by args (NULL-terminated, may be NULL). */
static void
s_setup_with(s_fixture_t *fx, bool install, const char *const *args)
{
    snprintf(fx->dir, sizeof(fx->dir), "/tmp/shoal-worker-XXXXXX");
    CHECK(mkdtemp(fx->dir) != NULL);
    snprintf(fx->plugin, sizeof(fx->plugin), "%s/py", fx->dir);
    CHECK(mkdir(fx->plugin, 0700) == 0);
    char err[256] = "";
    if (install)
        CHECK(shoal_worker_install(fx->plugin, err, sizeof(err)) == 0);
    char *cmd[32] = {"/usr/bin/python3", "-m", "pytest"};
    int argc = 3;
    for (size_t i = 0; args && args[i]; i++)
        cmd[argc++] = (char *)args[i];
    fx->adapter = shoal_adapter_new(argc, cmd, NULL, err, sizeof(err));
    CHECK(fx->adapter != NULL);
}

static void
s_setup(s_fixture_t *fx, bool install)
{
    s_setup_with(fx, install, NULL);
    scratch_write(fx->dir, "test_w.py", s_suite);
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

/* A worker running in fx->dir/sub (sub may be ""); pythonpath (may be NULL)
 * replaces the PYTHONPATH that finds the plugin. */
static shoal_worker_t *
s_worker_in(s_fixture_t *fx, const char *sub, const char *pythonpath_env)
{
    char **argv = shoal_adapter_worker_argv(fx->adapter, fx->plugin, SHOAL_WORKER_MODULE);
    CHECK(argv != NULL);
    char pythonpath[160], channel[64], cwd[128];
    snprintf(pythonpath, sizeof(pythonpath), "PYTHONPATH=%s", fx->plugin);
    snprintf(channel, sizeof(channel), "SHOAL_WORKER_CHANNEL=%d", SHOAL_EXEC_CHANNEL_FD);
    snprintf(cwd, sizeof(cwd), "%s/%s", fx->dir, sub);
    char *env[] = {pythonpath_env ? (char *)pythonpath_env : pythonpath, channel, NULL};
    shoal_exec_spec_t spec = {.argv = argv, .cwd = cwd, .env_extra = env};
    char err[256] = "";
    shoal_worker_t *w = shoal_worker_new(&spec, s_ms(), err, sizeof(err));
    shoal_adapter_argv_free(&argv);
    CHECK(w != NULL);
    return w;
}

static shoal_worker_t *
s_worker(s_fixture_t *fx)
{
    return s_worker_in(fx, "", NULL);
}

/* Polls until the worker has collected; takes its collection. */
static void
s_collected(shoal_worker_t *w, shoal_collection_t *c)
{
    uint64_t deadline = s_ms() + 30000;
    while (!shoal_worker_ready(w)) {
        CHECK(shoal_worker_alive(w));
        CHECK(s_ms() < deadline);
        shoal_worker_poll(w, s_ms());
        usleep(2000);
    }
    memset(c, 0, sizeof(*c));
    CHECK_INT(shoal_worker_take_collection(w, c), ==, 0);
}

/* A worker on test_w.py that has collected, as the session starts batches
 * only then. */
static shoal_worker_t *
s_ready_worker(s_fixture_t *fx)
{
    shoal_worker_t *w = s_worker(fx);
    shoal_collection_t c;
    s_collected(w, &c);
    shoal_collection_clear(&c);
    return w;
}

/* A worker on a suite of one file (name, text), pytest given args (may be
 * NULL); what it collected in *c. */
static shoal_worker_t *
s_start(s_fixture_t *fx, const char *const *args, const char *name, const char *text,
        shoal_collection_t *c)
{
    s_setup_with(fx, true, args);
    scratch_write(fx->dir, name, text);
    shoal_worker_t *w = s_worker(fx);
    s_collected(w, c);
    return w;
}

static void
s_stop(s_fixture_t *fx, shoal_worker_t **w_p, shoal_collection_t *c)
{
    shoal_collection_clear(c);
    shoal_worker_destroy(w_p);
    s_teardown(fx);
}

/* The position of the test called id in c; fails the test if absent. */
static size_t
s_find(const shoal_collection_t *c, const char *id)
{
    size_t t = shoal_collection_find(c, id);
    if (t == SIZE_MAX)
        fprintf(stderr, "'%s' was not collected\n", id);
    CHECK(t != SIZE_MAX);
    return t;
}

/* Runs the ids as one batch (the last held back if hold) in a session of
 * `workers` workers (0: unknown); polls until it is over. */
static void
s_run_batch(shoal_worker_t *w, const char *const *ids, size_t count, bool hold, unsigned workers,
            uint64_t timeout_ms, shoal_test_result_t *results)
{
    CHECK(shoal_worker_run(w, ids, count, hold, workers, timeout_ms, s_ms()) == 0);
    uint64_t deadline = s_ms() + 30000;
    while (!shoal_worker_poll(w, s_ms())) {
        CHECK(s_ms() < deadline);
        usleep(2000);
    }
    CHECK(shoal_worker_results(w, results) == 0);
}

static void
s_run_ids(shoal_worker_t *w, const char *const *ids, size_t count, uint64_t timeout_ms,
          shoal_test_result_t *results)
{
    s_run_batch(w, ids, count, false, 0, timeout_ms, results);
}

/* Runs ids (names in test_w.py) as one batch. */
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
    s_run_ids(w, idp, count, timeout_ms, results);
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
    /* As the session does: no batch before the worker has collected, or on
     * a loaded machine its collection eats the test's 1.5 s. */
    shoal_worker_t *w = s_ready_worker(&fx);
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

/* A result is handed out as its test ends, while the batch goes on; the
 * batch's results then say it was reported, and nothing else of it. */
void
test_node_worker_results_stream_while_the_batch_runs(void)
{
    s_fixture_t fx;
    s_setup(&fx, true);
    shoal_worker_t *w = s_ready_worker(&fx);
    const char *ids[] = {"test_w.py::test_fail", "test_w.py::test_slow"};
    CHECK(shoal_worker_run(w, ids, 2, false, 0, 3000, s_ms()) == 0);
    shoal_test_result_t early[2];
    size_t n = 0;
    uint64_t deadline = s_ms() + 30000;
    bool over = false;
    while (n == 0 && !over && s_ms() < deadline) {
        over = shoal_worker_poll(w, s_ms());
        n = shoal_worker_take_finished(w, early, 2);
        usleep(2000);
    }
    CHECK(!over); /* test_slow runs on for 60 s, until its 3 s timeout */
    CHECK_INT(n, ==, 1);
    CHECK_INT(early[0].index, ==, 0);
    CHECK_INT(early[0].outcome, ==, SHOAL_OUTCOME_FAILED);
    CHECK(strstr(early[0].message, "one is not two") != NULL);
    CHECK_INT(shoal_worker_take_finished(w, early + 1, 1), ==, 0); /* once only */
    while (!shoal_worker_poll(w, s_ms())) {
        CHECK(s_ms() < deadline); /* the 3 s timeout ends the batch */
        usleep(2000);
    }
    shoal_test_result_t r[2];
    CHECK(shoal_worker_results(w, r) == 0);
    CHECK(r[0].reported);
    CHECK(r[0].message == NULL);
    CHECK(!r[1].reported);
    CHECK_INT(r[1].outcome, ==, SHOAL_OUTCOME_ERROR);
    s_clear(early, 1);
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
        CHECK(strncmp(r[i].message, "the test runner could not start", 31) == 0);
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
    /* A NUL and a backslash followed by '0' stay apart, both ways. */
    char nul[] = "x\\0y\tx\\\\0y";
    CHECK_INT(shoal_worker_split(nul, f, 8), ==, 2);
    CHECK_STR(f[0], "x\xc0\x80y"); /* not a terminator */
    CHECK_STR(f[1], "x\\0y");
    char back[32];
    *shoal_worker_escape(back, f[0]) = '\0';
    CHECK_STR(back, "x\\0y");
    *shoal_worker_escape(back, f[1]) = '\0';
    CHECK_STR(back, "x\\\\0y");
    char many[] = "a\tb\tc";
    CHECK_INT(shoal_worker_split(many, f, 2), ==, 2);
    CHECK_STR(f[0], "a");
}

/* A conftest collector for a custom file type, as pytest documents it:
 * each "name: value" line of a test_*.spec file is a test that passes when
 * its value is "ok". */
static const char s_spec_conftest[] =
    "import pytest\n"
    "def pytest_collect_file(parent, file_path):\n"
    "    if file_path.suffix == '.spec' and file_path.name.startswith('test_'):\n"
    "        return SpecFile.from_parent(parent, path=file_path)\n"
    "class SpecFile(pytest.File):\n"
    "    def collect(self):\n"
    "        for line in self.path.read_text().splitlines():\n"
    "            name, value = line.split(': ')\n"
    "            yield SpecItem.from_parent(self, name=name, value=value)\n"
    "class SpecItem(pytest.Item):\n"
    "    def __init__(self, *, value, **kwargs):\n"
    "        super().__init__(**kwargs)\n"
    "        self.value = value\n"
    "    def runtest(self):\n"
    "        assert self.value == 'ok', 'spec says ' + self.value\n"
    "    def reportinfo(self):\n"
    "        return self.path, 0, self.name\n";

/* Every kind of item pytest collects runs, with pytest's outcome: doctests of
 * a .txt and an .rst file (--doctest-glob), a custom collector's items and a
 * plain test. pytest alone: 5 tests, 2 failed. */
void
test_node_worker_collects_every_kind_of_item(void)
{
    const char *args[] = {"--doctest-glob=*.txt", "--doctest-glob=*.rst", NULL};
    s_fixture_t fx;
    s_setup_with(&fx, true, args);
    scratch_write(fx.dir, "conftest.py", s_spec_conftest);
    scratch_write(fx.dir, "test_usage.txt", ">>> 1 + 1\n2\n");
    scratch_write(fx.dir, "docs/guide.rst", "Guide\n=====\n\n>>> 2 * 3\n7\n");
    scratch_write(fx.dir, "test_x.spec", "first: ok\nsecond: broken\n");
    scratch_write(fx.dir, "test_mod.py", "def test_ok():\n    pass\n");
    shoal_worker_t *w = s_worker(&fx);
    shoal_collection_t c;
    s_collected(w, &c);
    CHECK_INT(c.count, ==, 5);
    CHECK(c.interrupted == NULL);
    const char *ids[] = {"test_usage.txt::test_usage.txt", "docs/guide.rst::guide.rst",
                         "test_x.spec::first", "test_x.spec::second", "test_mod.py::test_ok"};
    for (size_t i = 0; i < 5; i++)
        CHECK(!c.tests[s_find(&c, ids[i])].preset);
    CHECK_STR(c.tests[s_find(&c, "test_mod.py::test_ok")].file, "test_mod.py");
    CHECK_INT(c.tests[s_find(&c, "test_mod.py::test_ok")].line, ==, 1);
    shoal_test_result_t r[5];
    s_run_ids(w, ids, 5, 0, r);
    shoal_outcome_t want[] = {SHOAL_OUTCOME_PASSED, SHOAL_OUTCOME_FAILED, SHOAL_OUTCOME_PASSED,
                              SHOAL_OUTCOME_FAILED, SHOAL_OUTCOME_PASSED};
    for (size_t i = 0; i < 5; i++)
        CHECK_INT(r[i].outcome, ==, want[i]);
    CHECK(strstr(r[3].output, "spec says broken") != NULL);
    s_clear(r, 5);
    s_stop(&fx, &w, &c);
}

/* What pytest decides while collecting is reported as pytest reports it: a
 * module-level skip and an importorskip are skipped, a module that fails to
 * import is an error; with --continue-on-collection-errors the rest runs,
 * without it pytest runs nothing ("Interrupted: 1 error during collection"). */
void
test_node_worker_reports_collection_outcomes(void)
{
    for (int keep_going = 0; keep_going < 2; keep_going++) {
        const char *args[] = {keep_going ? "--continue-on-collection-errors" : "-q", NULL};
        s_fixture_t fx;
        s_setup_with(&fx, true, args);
        scratch_write(fx.dir, "test_skipmod.py",
                      "import pytest\npytest.skip('no database here', allow_module_level=True)\n");
        scratch_write(fx.dir, "test_optional.py",
                      "import pytest\npytest.importorskip('shoal_no_such_module')\n"
                      "def test_x():\n    pass\n");
        scratch_write(fx.dir, "test_broken.py", "import shoal_no_such_module_either\n");
        scratch_write(fx.dir, "test_fine.py", "def test_fine():\n    pass\n");
        shoal_worker_t *w = s_worker(&fx);
        shoal_collection_t c;
        s_collected(w, &c);
        size_t skip = s_find(&c, "test_skipmod.py"), opt = s_find(&c, "test_optional.py");
        size_t broken = s_find(&c, "test_broken.py");
        CHECK(c.tests[skip].preset && c.tests[opt].preset && c.tests[broken].preset);
        CHECK_INT(c.tests[skip].outcome, ==, SHOAL_OUTCOME_SKIPPED);
        CHECK(strstr(c.tests[skip].message, "no database here") != NULL);
        CHECK_INT(c.tests[opt].outcome, ==, SHOAL_OUTCOME_SKIPPED);
        CHECK_INT(c.tests[broken].outcome, ==, SHOAL_OUTCOME_ERROR);
        CHECK(strstr(c.tests[broken].output, "shoal_no_such_module_either") != NULL);
        if (keep_going) {
            CHECK(c.interrupted == NULL);
            CHECK_INT(c.count, ==, 4);
            CHECK(!c.tests[s_find(&c, "test_fine.py::test_fine")].preset);
        } else {
            CHECK_STR(c.interrupted, "Interrupted: 1 error during collection");
            CHECK_INT(c.count, ==, 3); /* pytest runs nothing */
        }
        shoal_collection_clear(&c);
        shoal_worker_destroy(&w);
        s_teardown(&fx);
    }
}

/* The user's command and ini files reach pytest untouched: --pyargs of a
 * package outside the working directory, a rootdir above it (ids relative
 * to the rootdir, as pytest makes them), and an xdist -n in addopts, which
 * is neutralised inside the worker with a notice. */
void
test_node_worker_takes_the_command_as_pytest_does(void)
{
    const char *args[] = {"--pyargs", "shoalpkg", "-k", "not excluded", NULL};
    s_fixture_t fx;
    s_setup_with(&fx, true, args);
    scratch_write(fx.dir, "pytest.ini", "[pytest]\naddopts = -n 2 -p no:randomly\n");
    scratch_write(fx.dir, "lib/shoalpkg/__init__.py", "");
    scratch_write(fx.dir, "lib/shoalpkg/tests/__init__.py", "");
    scratch_write(fx.dir, "lib/shoalpkg/tests/test_pkg.py",
                  "def test_here():\n    pass\ndef test_excluded():\n    pass\n");
    scratch_write(fx.dir, "work/.keep", "");
    char pythonpath[256];
    snprintf(pythonpath, sizeof(pythonpath), "PYTHONPATH=%s/py:%s/lib", fx.dir, fx.dir);
    shoal_worker_t *w = s_worker_in(&fx, "work", pythonpath);
    shoal_collection_t c;
    s_collected(w, &c);
    CHECK_INT(c.count, ==, 1);
    CHECK(strstr(c.tests[0].id, "shoalpkg/tests/test_pkg.py::test_here") != NULL);
    CHECK(c.notice != NULL && strstr(c.notice, "-n 2") != NULL);
    const char *ids[] = {c.tests[0].id};
    shoal_test_result_t r[1];
    s_run_ids(w, ids, 1, 0, r);
    CHECK_INT(r[0].outcome, ==, SHOAL_OUTCOME_PASSED);
    s_clear(r, 1);
    s_stop(&fx, &w, &c);
}

/* xfail and xpass are their own outcomes, as pytest reports them; a strict
 * xpass is a failure. */
void
test_node_worker_xfail_and_xpass(void)
{
    s_fixture_t fx;
    shoal_collection_t c;
    shoal_worker_t *w = s_start(&fx, NULL, "test_x.py",
                                "import pytest\n"
                                "@pytest.mark.xfail(reason='bug 12')\n"
                                "def test_xfail():\n    assert 0\n"
                                "@pytest.mark.xfail(reason='fixed?')\n"
                                "def test_xpass():\n    pass\n"
                                "@pytest.mark.xfail(reason='must fail', strict=True)\n"
                                "def test_strict():\n    pass\n"
                                "def test_imperative():\n    pytest.xfail('not yet')\n",
                                &c);
    const char *ids[] = {"test_x.py::test_xfail", "test_x.py::test_xpass", "test_x.py::test_strict",
                         "test_x.py::test_imperative"};
    shoal_test_result_t r[4];
    s_run_ids(w, ids, 4, 0, r);
    CHECK_INT(r[0].outcome, ==, SHOAL_OUTCOME_XFAILED);
    CHECK(strstr(r[0].message, "bug 12") != NULL);
    CHECK_INT(r[1].outcome, ==, SHOAL_OUTCOME_XPASSED);
    CHECK_INT(r[2].outcome, ==, SHOAL_OUTCOME_FAILED);
    CHECK(strstr(r[2].message, "XPASS(strict)") != NULL);
    CHECK_INT(r[3].outcome, ==, SHOAL_OUTCOME_XFAILED);
    CHECK(strstr(r[3].message, "not yet") != NULL);
    s_clear(r, 4);
    s_stop(&fx, &w, &c);
}

/* Whatever a test prints travels: a failure with a 1 MB message and bytes
 * the protocol uses (tabs, newlines, a NUL) is the test's failure, capped
 * with a marker; the worker lives on and runs the next test. */
void
test_node_worker_huge_output_is_capped_not_fatal(void)
{
    s_fixture_t fx;
    shoal_collection_t c;
    shoal_worker_t *w = s_start(&fx, NULL, "test_big.py",
                                "def test_big():\n"
                                "    assert False, 'x\\t\\0y\\n' * 250000\n"
                                "def test_after():\n    pass\n",
                                &c);
    const char *ids[] = {"test_big.py::test_big", "test_big.py::test_after"};
    shoal_test_result_t r[2];
    s_run_ids(w, ids, 2, 0, r);
    CHECK_INT(r[0].outcome, ==, SHOAL_OUTCOME_FAILED);
    CHECK(strstr(r[0].output, "shoal cut") != NULL);
    CHECK(strlen(r[0].output) <= SHOAL_ADAPTER_OUTPUT_CAP);
    CHECK_INT(r[1].outcome, ==, SHOAL_OUTCOME_PASSED);
    CHECK(shoal_worker_alive(w));
    CHECK_INT(shoal_worker_dropped(w), ==, 0);
    s_clear(r, 2);
    s_stop(&fx, &w, &c);
}

/* The timeout is per test: a batch of quick tests that together outlast it
 * all pass; a hung test is the only one blamed. */
void
test_node_worker_timeout_is_per_test(void)
{
    s_fixture_t fx;
    shoal_collection_t c;
    shoal_worker_t *w = s_start(&fx, NULL, "test_t.py",
                                "import time, pytest\n"
                                "@pytest.mark.parametrize('i', range(6))\n"
                                "def test_quick(i):\n    time.sleep(0.3)\n"
                                "def test_hang():\n    time.sleep(60)\n",
                                &c);
    const char *ids[] = {"test_t.py::test_quick[0]", "test_t.py::test_quick[1]",
                         "test_t.py::test_quick[2]", "test_t.py::test_quick[3]",
                         "test_t.py::test_quick[4]", "test_t.py::test_quick[5]",
                         "test_t.py::test_hang"};
    shoal_test_result_t r[7];
    s_run_ids(w, ids, 6, 1000, r); /* 1.8 s in all, 0.3 s each */
    for (size_t i = 0; i < 6; i++)
        CHECK_INT(r[i].outcome, ==, SHOAL_OUTCOME_PASSED);
    s_clear(r, 6);
    const char *hang[] = {ids[0], ids[6], ids[1]};
    s_run_ids(w, hang, 3, 1000, r);
    CHECK_INT(r[0].outcome, ==, SHOAL_OUTCOME_PASSED);
    CHECK_INT(r[1].outcome, ==, SHOAL_OUTCOME_ERROR);
    CHECK_STR(r[1].message, "timed out after 1.0s");
    CHECK(r[1].seconds >= 0.9);                         /* it ran until it was killed, not 0 s */
    CHECK_INT(r[2].outcome, ==, SHOAL_OUTCOME_NOT_RUN); /* dealt again */
    s_clear(r, 3);
    s_stop(&fx, &w, &c);
}

/* Closing a worker lets pytest finish its session as it would alone:
 * session fixtures are torn down and sessionfinish hooks run. */
void
test_node_worker_close_lets_pytest_finish(void)
{
    s_fixture_t fx;
    s_setup_with(&fx, true, NULL);
    scratch_write(fx.dir, "conftest.py",
                  "def pytest_sessionfinish(session, exitstatus):\n"
                  "    open('finished', 'w').write('yes')\n");
    scratch_write(fx.dir, "test_c.py", "def test_c():\n    pass\n");
    shoal_worker_t *w = s_worker(&fx);
    shoal_collection_t c;
    s_collected(w, &c);
    const char *ids[] = {"test_c.py::test_c"};
    shoal_test_result_t r[1];
    s_run_ids(w, ids, 1, 0, r);
    s_clear(r, 1);
    shoal_worker_close(w, s_ms() + 30000);
    uint64_t deadline = s_ms() + 30000;
    while (shoal_worker_alive(w)) {
        CHECK(s_ms() < deadline);
        shoal_worker_poll(w, s_ms());
        usleep(2000);
    }
    CHECK_INT(shoal_worker_exit(w)->signal, ==, 0);
    char path[128];
    snprintf(path, sizeof(path), "%s/finished", fx.dir);
    CHECK(access(path, F_OK) == 0);
    s_stop(&fx, &w, &c);
}

/* Reads fx->dir/log, counting lines equal to word. */
static int
s_count_lines(const s_fixture_t *fx, const char *word)
{
    char path[128], line[64];
    snprintf(path, sizeof(path), "%s/log", fx->dir);
    FILE *f = fopen(path, "r");
    int n = 0;
    while (f && fgets(line, sizeof(line), f))
        n += strncmp(line, word, strlen(word)) == 0 && line[strlen(word)] == '\n';
    if (f)
        fclose(f);
    return n;
}

/* A worker told to hold keeps each batch's last test back until its next
 * batch (or a flush), as pytest-xdist does: a module fixture used by four
 * tests dealt in two batches is set up and torn down once, as with pytest
 * alone (a batch that ends with no next test tore it down every time). */
void
test_node_worker_holds_the_last_test_so_fixtures_live_on(void)
{
    s_fixture_t fx;
    shoal_collection_t c;
    shoal_worker_t *w = s_start(&fx, NULL, "test_f.py",
                                "import pytest\n"
                                "def log(word):\n"
                                "    with open('log', 'a') as f:\n"
                                "        f.write(word + '\\n')\n"
                                "@pytest.fixture(scope='module')\n"
                                "def db():\n"
                                "    log('setup')\n"
                                "    yield 1\n"
                                "    log('teardown')\n"
                                "@pytest.mark.parametrize('i', range(4))\n"
                                "def test_f(db, i):\n"
                                "    assert db == 1\n",
                                &c);
    const char *ids[] = {"test_f.py::test_f[0]", "test_f.py::test_f[1]", "test_f.py::test_f[2]",
                         "test_f.py::test_f[3]"};
    shoal_test_result_t r[3];
    s_run_batch(w, ids, 2, true, 0, 0, r);
    CHECK_INT(r[0].outcome, ==, SHOAL_OUTCOME_PASSED);
    CHECK(!r[0].held && r[1].held); /* [1] waits for what follows */
    CHECK_STR(shoal_worker_held(w), ids[1]);
    s_clear(r, 2);
    s_run_batch(w, ids + 2, 2, true, 0, 0, r); /* [1] first, then [2]; [3] held */
    CHECK_INT(r[0].outcome, ==, SHOAL_OUTCOME_PASSED);
    CHECK_INT(r[1].outcome, ==, SHOAL_OUTCOME_PASSED);
    CHECK(r[2].held);
    s_clear(r, 3);
    CHECK_INT(s_count_lines(&fx, "teardown"), ==, 0); /* still set up */
    s_run_batch(w, NULL, 0, true, 0, 0, r);           /* a flush */
    CHECK_INT(r[0].outcome, ==, SHOAL_OUTCOME_PASSED);
    CHECK(!r[0].held && shoal_worker_held(w) == NULL);
    s_clear(r, 1);
    CHECK_INT(s_count_lines(&fx, "setup"), ==, 1);
    CHECK_INT(s_count_lines(&fx, "teardown"), ==, 1);
    CHECK(shoal_worker_run(w, NULL, 0, true, 0, 0, s_ms()) == -1); /* nothing to flush */
    s_stop(&fx, &w, &c);
}

/* As in a pytest-xdist worker, a test sees how many workers the whole run
 * has (suites share the machine by it), as the session counts them. */
void
test_node_worker_tells_tests_the_run_s_workers(void)
{
    s_fixture_t fx;
    shoal_collection_t c;
    shoal_worker_t *w = s_start(&fx, NULL, "test_n.py",
                                "import os\n"
                                "def test_n():\n"
                                "    assert os.environ['PYTEST_XDIST_WORKER_COUNT'] == '6'\n",
                                &c);
    const char *ids[] = {"test_n.py::test_n"};
    shoal_test_result_t r[1];
    s_run_batch(w, ids, 1, false, 6, 0, r);
    CHECK_INT(r[0].outcome, ==, SHOAL_OUTCOME_PASSED);
    s_clear(r, 1);
    s_stop(&fx, &w, &c);
}
