/* Framework adapters: the list format (good, malformed, duplicate), choosing
 * an adapter from the command, id validation against what the network may
 * send (I3), the argv of a batch, and real pytest runs of a small suite in a
 * temporary directory with /usr/bin/python3 (python3-pytest is a build
 * dependency: if it is missing these tests fail, they never skip).
 */
#include "harness.h"
#include "scratch.h"
#include "node/adapter.h"

#include <ftw.h>
#include <sys/stat.h>
#include <unistd.h>

#define TEST(g, n) void test_##g##_##n(void);
#include "node.list"
#undef TEST

#define S_PYTHON "/usr/bin/python3"

static void
s_write(const char *dir, const char *name, const char *text)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    for (char *p = path + strlen(dir) + 1; *p; p++)
        if (*p == '/') {
            *p = '\0';
            mkdir(path, 0755);
            *p = '/';
        }
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    fputs(text, f);
    CHECK(fclose(f) == 0);
}

static char *
s_tmpdir(void)
{
    static char dir[64];
    snprintf(dir, sizeof(dir), "/tmp/shoal-adapter-XXXXXX");
    CHECK(mkdtemp(dir) != NULL);
    return dir;
}

static shoal_adapter_t *
s_list_adapter(const char *dir, const char *text, char *err, size_t err_size)
{
    s_write(dir, "suite.list", text);
    char path[512];
    snprintf(path, sizeof(path), "%s/suite.list", dir);
    return shoal_adapter_new(0, NULL, path, err, err_size);
}

void
test_node_adapter_parses_list_file(void)
{
    char *dir = s_tmpdir(), err[512] = "";
    shoal_adapter_t *list = s_list_adapter(dir,
                                           "# a comment\n"
                                           "\n"
                                           "quick\ttrue\n"
                                           "   \n"
                                           "nap\tsleep  0.01\n"
                                           "gpu-only\ttest -n x\tgpu,os=linux\n",
                                           err, sizeof(err));
    if (!list)
        fprintf(stderr, "%s\n", err);
    CHECK(list != NULL);
    CHECK_STR(shoal_adapter_name(list), "list");
    CHECK_INT(shoal_adapter_batch_max(list), ==, 1);
    CHECK_INT(strlen(shoal_adapter_digest(list)), ==, 32);
    shoal_collection_t c;
    CHECK_INT(shoal_adapter_collect(list, NULL, &c, err, sizeof(err)), ==, 0);
    CHECK_INT(c.count, ==, 3);
    CHECK_STR(c.tests[0].id, "quick");
    CHECK_STR(c.tests[1].id, "nap");
    CHECK_STR(c.tests[2].id, "gpu-only");
    CHECK_STR(c.tests[2].requires, "gpu,os=linux");
    CHECK_STR(c.tests[0].requires, "");
    CHECK_STR(c.tests[0].file, "");
    shoal_collection_clear(&c);
    CHECK(c.tests == NULL && c.count == 0);

    const char *ids[] = {"nap"};
    char **argv = shoal_adapter_argv(list, ids, 1, "/unused");
    CHECK(argv != NULL);
    CHECK_STR(argv[0], "sleep");
    CHECK_STR(argv[1], "0.01");
    CHECK(argv[2] == NULL);
    shoal_adapter_argv_free(&argv);
    CHECK(argv == NULL);
    const char *unknown[] = {"nope"};
    CHECK(shoal_adapter_argv(list, unknown, 1, "/unused") == NULL);

    /* the digest follows the file's content */
    char digest[33];
    snprintf(digest, sizeof(digest), "%s", shoal_adapter_digest(list));
    shoal_adapter_destroy(&list);
    shoal_adapter_destroy(&list);
    list = s_list_adapter(dir, "quick\ttrue\n", err, sizeof(err));
    CHECK(list != NULL);
    CHECK(strcmp(digest, shoal_adapter_digest(list)) != 0);
    shoal_adapter_destroy(&list);
    scratch_remove_tree(dir);
}

void
test_node_adapter_reports_malformed_list_line(void)
{
    char *dir = s_tmpdir(), err[512] = "";
    CHECK(s_list_adapter(dir, "a\ttrue\n# fine\nbroken line without a tab\n", err, sizeof(err)) ==
          NULL);
    CHECK(strstr(err, "suite.list:3: expected 'name<TAB>command") != NULL);
    CHECK(s_list_adapter(dir, "a\ttrue\nb\t   \n", err, sizeof(err)) == NULL);
    CHECK(strstr(err, "suite.list:2: empty command") != NULL);
    CHECK(s_list_adapter(dir, "a\ttrue\tgpu,,x\n", err, sizeof(err)) == NULL);
    CHECK(strstr(err, "suite.list:1: bad requirements 'gpu,,x'") != NULL);
    CHECK(s_list_adapter(dir, "a\ttrue\tgpu\textra\n", err, sizeof(err)) == NULL);
    CHECK(strstr(err, "suite.list:1:") != NULL);
    CHECK(s_list_adapter(dir, "# only comments\n", err, sizeof(err)) == NULL);
    CHECK(strstr(err, "no tests") != NULL);
    CHECK(shoal_adapter_new(0, NULL, "/nonexistent/suite.list", err, sizeof(err)) == NULL);
    CHECK(strstr(err, "cannot open test list '/nonexistent/suite.list'") != NULL);
    scratch_remove_tree(dir);
}

void
test_node_adapter_rejects_duplicate_list_names(void)
{
    char *dir = s_tmpdir(), err[512] = "";
    CHECK(s_list_adapter(dir, "a\ttrue\nb\ttrue\n\na\tfalse\n", err, sizeof(err)) == NULL);
    CHECK(strstr(err, "suite.list:4: duplicate test name 'a' (first on line 1)") != NULL);
    scratch_remove_tree(dir);
}

void
test_node_adapter_picks_adapter_from_command(void)
{
    char err[256] = "";
    char *pytest[] = {"pytest", "-x", "tests"};
    char *py_test[] = {"py.test"};
    char *module[] = {"python3", "-m", "pytest"};
    char *full[] = {"/usr/bin/python3", "-X", "dev", "-m", "pytest", "-q"};
    char *make[] = {"make", "test"};
    char *python_script[] = {"python3", "run_tests.py"};
    char *const *good[] = {pytest, py_test, module, full};
    int good_argc[] = {3, 1, 3, 6};
    char digests[4][33];
    for (size_t i = 0; i < 4; i++) {
        shoal_adapter_t *a = shoal_adapter_new(good_argc[i], good[i], NULL, err, sizeof(err));
        CHECK(a != NULL);
        CHECK_STR(shoal_adapter_name(a), "pytest");
        CHECK_INT(shoal_adapter_batch_max(a), >, 100);
        snprintf(digests[i], sizeof(digests[i]), "%s", shoal_adapter_digest(a));
        for (size_t k = 0; k < i; k++)
            CHECK(strcmp(digests[k], digests[i]) != 0);
        shoal_adapter_destroy(&a);
    }
    CHECK(shoal_adapter_new(2, make, NULL, err, sizeof(err)) == NULL);
    CHECK_STR(err, "no adapter for 'make': use --list FILE or pytest");
    CHECK(shoal_adapter_new(2, python_script, NULL, err, sizeof(err)) == NULL);
    CHECK(shoal_adapter_new(0, NULL, NULL, err, sizeof(err)) == NULL);
    CHECK(strstr(err, "no test command") != NULL);
}

void
test_node_adapter_validates_network_ids(void)
{
    char *dir = s_tmpdir(), err[256] = "";
    s_write(dir, "tests/sub/test_a.py", "def test_x(): pass\n");
    s_write(dir, "tests/notes.txt", "");
    char *argv[] = {"pytest"};
    shoal_adapter_t *py = shoal_adapter_new(1, argv, NULL, err, sizeof(err));
    CHECK(py != NULL);
    CHECK_INT(shoal_adapter_validate(py, dir, "tests/sub/test_a.py::test_x"), ==, 0);
    CHECK_INT(shoal_adapter_validate(py, dir, "tests/sub/test_a.py::TestK::test_y[a b::c]"), ==, 0);
    const char *bad[] = {
        "",
        "-x",
        "--collect-only",
        "../etc/passwd::t",
        "tests/../../etc/x.py::t",
        "/abs.py::t",
        "tests/sub/test_a.py::t\n",
        "tests/sub/test_a.py::t\tx",
        "tests/sub/test_a.py",
        "tests/sub/test_a.py::",
        "tests//sub/test_a.py::t",
        "./tests/sub/test_a.py::t",
        "tests/missing.py::t",
        "tests/notes.txt::t",
        "tests/sub::t",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (shoal_adapter_validate(py, dir, bad[i]) != -1) {
            fprintf(stderr, "accepted '%s'\n", bad[i]);
            CHECK(0);
        }
    CHECK_INT(shoal_adapter_validate(py, dir, NULL), ==, -1);
    shoal_adapter_destroy(&py);

    shoal_adapter_t *list = s_list_adapter(dir, "a\ttrue\nb c\ttrue\n", err, sizeof(err));
    CHECK(list != NULL);
    CHECK_INT(shoal_adapter_validate(list, dir, "a"), ==, 0);
    CHECK_INT(shoal_adapter_validate(list, dir, "b c"), ==, 0);
    CHECK_INT(shoal_adapter_validate(list, dir, "c"), ==, -1);
    CHECK_INT(shoal_adapter_validate(list, dir, "tests/sub/test_a.py::test_x"), ==, -1);
    shoal_adapter_destroy(&list);
    scratch_remove_tree(dir);
}

void
test_node_adapter_builds_pytest_argv(void)
{
    char err[256];
    char *command[] = {"python3",        "-m",         "pytest", "-k",   "fast", "tests/unit", "-x",
                       "--collect-only", "--tb=short", "-p",     "xdist"};
    shoal_adapter_t *py = shoal_adapter_new(11, command, NULL, err, sizeof(err));
    CHECK(py != NULL);
    const char *ids[] = {"tests/unit/test_a.py::test_1", "tests/unit/test_b.py::K::test_2[x]"};
    char **argv = shoal_adapter_argv(py, ids, 2, "/tmp/report.xml");
    CHECK(argv != NULL);
    const char *expect[] = {"python3",
                            "-m",
                            "pytest",
                            "-k",
                            "fast",
                            "-x",
                            "--tb=short",
                            "-p",
                            "xdist",
                            "--verbosity=1",
                            "-o",
                            "junit_family=xunit1",
                            "-o",
                            "junit_logging=out-err",
                            "-o",
                            "junit_log_passing_tests=False",
                            "-p",
                            "no:cacheprovider",
                            "--color=no",
                            "--rootdir=.",
                            "--junitxml=/tmp/report.xml",
                            "--",
                            ids[0],
                            ids[1]};
    size_t n = 0;
    while (argv[n])
        n++;
    CHECK_INT(n, ==, sizeof(expect) / sizeof(expect[0]));
    for (size_t i = 0; i < n; i++)
        CHECK_STR(argv[i], expect[i]);
    shoal_adapter_argv_free(&argv);
    shoal_adapter_destroy(&py);
}

void
test_node_adapter_list_results_follow_exit_status(void)
{
    char *dir = s_tmpdir(), err[256];
    shoal_adapter_t *list = s_list_adapter(dir, "t\ttrue\n", err, sizeof(err));
    CHECK(list != NULL);
    const char *ids[] = {"t"};
    shoal_exec_result_t exec = {
        .exit_code = 0, .duration_ms = 1500, .output = "fine\n", .output_len = 5};
    shoal_test_result_t r;
    CHECK_INT(shoal_adapter_results(list, ids, 1, &exec, NULL, &r), ==, 0);
    CHECK_INT(r.index, ==, 0);
    CHECK_INT(r.outcome, ==, SHOAL_OUTCOME_PASSED);
    CHECK(r.seconds > 1.49 && r.seconds < 1.51);
    shoal_test_result_clear(&r);

    exec.exit_code = 2;
    exec.output = "boom\n";
    CHECK_INT(shoal_adapter_results(list, ids, 1, &exec, NULL, &r), ==, 0);
    CHECK_INT(r.outcome, ==, SHOAL_OUTCOME_FAILED);
    CHECK_STR(r.message, "exit status 2");
    CHECK_STR(r.output, "boom\n");
    shoal_test_result_clear(&r);

    exec.signal = 11;
    CHECK_INT(shoal_adapter_results(list, ids, 1, &exec, NULL, &r), ==, 0);
    CHECK_INT(r.outcome, ==, SHOAL_OUTCOME_ERROR);
    CHECK_STR(r.message, "crashed: killed by signal 11");
    shoal_test_result_clear(&r);

    exec.signal = 9;
    exec.timed_out = true;
    exec.duration_ms = 3000;
    CHECK_INT(shoal_adapter_results(list, ids, 1, &exec, NULL, &r), ==, 0);
    CHECK_INT(r.outcome, ==, SHOAL_OUTCOME_ERROR);
    CHECK_STR(r.message, "timed out after 3.0s");
    shoal_test_result_clear(&r);

    exec = (shoal_exec_result_t){.spawn_failed = true,
                                 .output = "cannot run 'x': No such file or directory"};
    CHECK_INT(shoal_adapter_results(list, ids, 1, &exec, NULL, &r), ==, 0);
    CHECK_INT(r.outcome, ==, SHOAL_OUTCOME_ERROR);
    CHECK_STR(r.message, "cannot run 'x': No such file or directory");
    shoal_test_result_clear(&r);
    shoal_adapter_destroy(&list);
    scratch_remove_tree(dir);
}

/* A suite covering what pytest reports: pass, fail, fixture error, skip, xfail,
 * parameters, nested classes in a subdirectory, captured output. */
static void
s_write_suite(const char *dir)
{
    s_write(dir, "tests/test_top.py",
            "import pytest\n"
            "@pytest.fixture\n"
            "def broken():\n"
            "    raise RuntimeError('fixture boom')\n"
            "def test_pass():\n"
            "    pass\n"
            "def test_fail():\n"
            "    print('said something')\n"
            "    assert 1 == 2, 'one is not two <&>'\n"
            "def test_error(broken):\n"
            "    pass\n"
            "@pytest.mark.skip(reason='not today')\n"
            "def test_skip():\n"
            "    pass\n"
            "@pytest.mark.xfail(reason='known')\n"
            "def test_xfail():\n"
            "    assert 0\n"
            "@pytest.mark.parametrize('x', [1, 'a::b', 'c.d'])\n"
            "def test_param(x):\n"
            "    assert x != 'c.d'\n");
    s_write(dir, "tests/deep/sub/test_classes.py",
            "class TestOuter:\n"
            "    def test_m(self):\n"
            "        pass\n"
            "    class TestInner:\n"
            "        def test_n(self):\n"
            "            pass\n");
    s_write(dir, "tests/test_crash.py",
            "import os, signal\n"
            "def test_before():\n"
            "    pass\n"
            "def test_crash():\n"
            "    os.kill(os.getpid(), signal.SIGKILL)\n"
            "def test_after():\n"
            "    pass\n");
}

static shoal_adapter_t *
s_pytest(int argc, char **argv)
{
    CHECK(access(S_PYTHON, X_OK) == 0);
    char err[256];
    shoal_adapter_t *py = shoal_adapter_new(argc, argv, NULL, err, sizeof(err));
    CHECK(py != NULL);
    return py;
}

/* Runs ids in one batch in dir; fills results. */
static void
s_run_batch(shoal_adapter_t *py, const char *dir, const char *const *ids, size_t count,
            shoal_test_result_t *results)
{
    char report[512], err[256];
    snprintf(report, sizeof(report), "%s/.report.xml", dir);
    unlink(report);
    char **argv = shoal_adapter_argv(py, ids, count, report);
    CHECK(argv != NULL);
    shoal_exec_spec_t spec = {.argv = argv, .cwd = dir, .timeout_ms = 60000};
    shoal_exec_t *exec = shoal_exec_run(&spec, err, sizeof(err));
    CHECK(exec != NULL);
    CHECK_INT(shoal_adapter_results(py, ids, count, shoal_exec_result(exec), report, results), ==,
              0);
    shoal_exec_destroy(&exec);
    shoal_adapter_argv_free(&argv);
    unlink(report);
}

void
test_node_adapter_collects_pytest_suite(void)
{
    char *dir = s_tmpdir(), err[2048];
    s_write_suite(dir);
    char *argv[] = {S_PYTHON, "-m", "pytest", "tests"};
    shoal_adapter_t *py = s_pytest(4, argv);
    shoal_collection_t c;
    if (shoal_adapter_collect(py, dir, &c, err, sizeof(err)) != 0)
        fprintf(stderr, "%s\n", err);
    CHECK_INT(c.count, ==, 13);
    bool seen_inner = false, seen_param = false;
    for (size_t i = 0; i < c.count; i++) {
        CHECK_INT(shoal_adapter_validate(py, dir, c.tests[i].id), ==, 0);
        CHECK(strncmp(c.tests[i].id, c.tests[i].file, strlen(c.tests[i].file)) == 0);
        CHECK_STR(c.tests[i].requires, "");
        seen_inner |= strcmp(c.tests[i].id,
                             "tests/deep/sub/test_classes.py::TestOuter::TestInner::test_n") == 0;
        seen_param |= strcmp(c.tests[i].id, "tests/test_top.py::test_param[a::b]") == 0;
    }
    CHECK(seen_inner && seen_param);
    shoal_collection_clear(&c);

    /* a broken file: a clear error quoting pytest */
    s_write(dir, "tests/test_syntax.py", "def test_oops(:\n");
    CHECK_INT(shoal_adapter_collect(py, dir, &c, err, sizeof(err)), ==, -1);
    CHECK(strstr(err, "pytest collection failed (exit status 2)") != NULL);
    CHECK(strstr(err, "test_syntax.py") != NULL);
    shoal_adapter_destroy(&py);

    /* a missing interpreter */
    char *missing[] = {"/nonexistent/python3", "-m", "pytest"};
    py = s_pytest(3, missing);
    CHECK_INT(shoal_adapter_collect(py, dir, &c, err, sizeof(err)), ==, -1);
    CHECK(strstr(err, "cannot run '/nonexistent/python3'") != NULL);
    shoal_adapter_destroy(&py);
    scratch_remove_tree(dir);
}

void
test_node_adapter_reads_pytest_outcomes(void)
{
    char *dir = s_tmpdir();
    s_write_suite(dir);
    char *argv[] = {S_PYTHON, "-m", "pytest"};
    shoal_adapter_t *py = s_pytest(3, argv);
    const char *ids[] = {
        "tests/deep/sub/test_classes.py::TestOuter::TestInner::test_n",
        "tests/test_top.py::test_pass",
        "tests/test_top.py::test_fail",
        "tests/test_top.py::test_error",
        "tests/test_top.py::test_skip",
        "tests/test_top.py::test_xfail",
        "tests/test_top.py::test_param[1]",
        "tests/test_top.py::test_param[a::b]",
        "tests/test_top.py::test_param[c.d]",
        "tests/deep/sub/test_classes.py::TestOuter::test_m",
    };
    const shoal_outcome_t expect[] = {
        SHOAL_OUTCOME_PASSED,  SHOAL_OUTCOME_PASSED,  SHOAL_OUTCOME_FAILED, SHOAL_OUTCOME_ERROR,
        SHOAL_OUTCOME_SKIPPED, SHOAL_OUTCOME_SKIPPED, SHOAL_OUTCOME_PASSED, SHOAL_OUTCOME_PASSED,
        SHOAL_OUTCOME_FAILED,  SHOAL_OUTCOME_PASSED,
    };
    size_t n = sizeof(ids) / sizeof(ids[0]);
    shoal_test_result_t results[10];
    s_run_batch(py, dir, ids, n, results);
    for (size_t i = 0; i < n; i++) {
        if (results[i].outcome != expect[i])
            fprintf(stderr, "%s: %s (%s)\n", ids[i], shoal_outcome_str(results[i].outcome),
                    results[i].message);
        CHECK_INT(results[i].index, ==, i);
        CHECK_INT(results[i].outcome, ==, expect[i]);
        CHECK(results[i].seconds >= 0);
    }
    CHECK(strstr(results[2].message, "one is not two <&>") != NULL);
    CHECK(strstr(results[2].output, "assert 1 == 2") != NULL);
    CHECK(strstr(results[2].output, "said something") != NULL);
    CHECK(strstr(results[3].message, "fixture boom") != NULL);
    CHECK_STR(results[4].message, "not today");
    CHECK_STR(results[1].output, "");
    for (size_t i = 0; i < n; i++)
        shoal_test_result_clear(&results[i]);
    shoal_adapter_destroy(&py);
    scratch_remove_tree(dir);
}

void
test_node_adapter_pins_crash_on_running_test(void)
{
    char *dir = s_tmpdir();
    s_write_suite(dir);
    char *argv[] = {S_PYTHON, "-m", "pytest"};
    shoal_adapter_t *py = s_pytest(3, argv);
    const char *ids[] = {"tests/test_top.py::test_pass",    "tests/test_crash.py::test_before",
                         "tests/test_top.py::test_fail",    "tests/test_crash.py::test_crash",
                         "tests/test_crash.py::test_after", "tests/test_top.py::test_param[1]"};
    shoal_test_result_t r[6];
    s_run_batch(py, dir, ids, 6, r);
    CHECK_INT(r[0].outcome, ==, SHOAL_OUTCOME_PASSED);
    CHECK_INT(r[1].outcome, ==, SHOAL_OUTCOME_PASSED);
    CHECK_INT(r[2].outcome, ==, SHOAL_OUTCOME_FAILED);
    CHECK_INT(r[3].outcome, ==, SHOAL_OUTCOME_ERROR);
    CHECK_STR(r[3].message, "crashed: killed by signal 9");
    CHECK(strstr(r[3].output, "tests/test_crash.py::test_crash") != NULL);
    CHECK_INT(r[4].outcome, ==, SHOAL_OUTCOME_NOT_RUN);
    CHECK_INT(r[5].outcome, ==, SHOAL_OUTCOME_NOT_RUN);
    for (size_t i = 0; i < 6; i++)
        shoal_test_result_clear(&r[i]);

    /* a process that never produced a report blames the first test only */
    shoal_exec_result_t exec = {.exit_code = 4, .output = "ERROR: not found\n", .output_len = 17};
    CHECK_INT(shoal_adapter_results(py, ids, 3, &exec, "/nonexistent/report.xml", r), ==, 0);
    CHECK_INT(r[0].outcome, ==, SHOAL_OUTCOME_ERROR);
    CHECK_STR(r[0].message, "exit status 4 without a report");
    CHECK_STR(r[0].output, "ERROR: not found\n");
    CHECK_INT(r[1].outcome, ==, SHOAL_OUTCOME_NOT_RUN);
    CHECK_INT(r[2].outcome, ==, SHOAL_OUTCOME_NOT_RUN);
    for (size_t i = 0; i < 3; i++)
        shoal_test_result_clear(&r[i]);
    shoal_adapter_destroy(&py);
    scratch_remove_tree(dir);
}

void
test_node_adapter_outcome_names(void)
{
    CHECK_STR(shoal_outcome_str(SHOAL_OUTCOME_PASSED), "passed");
    CHECK_STR(shoal_outcome_str(SHOAL_OUTCOME_FAILED), "failed");
    CHECK_STR(shoal_outcome_str(SHOAL_OUTCOME_ERROR), "error");
    CHECK_STR(shoal_outcome_str(SHOAL_OUTCOME_SKIPPED), "skipped");
    CHECK_STR(shoal_outcome_str(SHOAL_OUTCOME_NOT_RUN), "not-run");
}

/* tests/sample/, found from this file's path (CMake compiles it by absolute path). */
static void
s_sample_dir(char *out, size_t size, const char *sub)
{
    snprintf(out, size, "%s", __FILE__);
    char *unit = strstr(out, "/unit/node_adapter_test.c");
    CHECK(unit != NULL);
    snprintf(unit, size - (size_t)(unit - out), "/sample/%s", sub);
}

void
test_node_adapter_sample_suites_collect(void)
{
    char dir[1024], path[1100], err[2048];
    s_sample_dir(dir, sizeof(dir), "list");
    snprintf(path, sizeof(path), "%s/suite.list", dir);
    shoal_adapter_t *list = shoal_adapter_new(0, NULL, path, err, sizeof(err));
    CHECK(list != NULL);
    shoal_collection_t c;
    CHECK_INT(shoal_adapter_collect(list, dir, &c, err, sizeof(err)), ==, 0);
    CHECK_INT(c.count, ==, 30);
    size_t gpu = 0;
    for (size_t i = 0; i < c.count; i++)
        gpu += strcmp(c.tests[i].requires, "gpu") == 0;
    CHECK_INT(gpu, ==, 2);
    shoal_collection_clear(&c);
    shoal_adapter_destroy(&list);

    s_sample_dir(dir, sizeof(dir), "pytest");
    char *argv[] = {S_PYTHON, "-m", "pytest"};
    shoal_adapter_t *py = s_pytest(3, argv);
    if (shoal_adapter_collect(py, dir, &c, err, sizeof(err)) != 0)
        fprintf(stderr, "%s\n", err);
    CHECK_INT(c.count, ==, 39);
    size_t crash = 0;
    for (size_t i = 0; i < c.count; i++) {
        CHECK_INT(shoal_adapter_validate(py, dir, c.tests[i].id), ==, 0);
        crash += strncmp(c.tests[i].id, "test_crash.py::", 15) == 0;
    }
    CHECK_INT(crash, ==, 1);
    shoal_collection_clear(&c);
    shoal_adapter_destroy(&py);
}

void
test_node_adapter_list_commands_take_shell_quoting(void)
{
    /* An argument with spaces, as sh quotes it; no shell runs it. */
    char *dir = s_tmpdir(), err[512] = "";
    shoal_adapter_t *list =
        s_list_adapter(dir, "spaced\tsh -c 'test \"$1\" = \"a b\"' sh \"a b\"\n", err, sizeof(err));
    if (!list)
        fprintf(stderr, "%s\n", err);
    CHECK(list != NULL);
    const char *ids[] = {"spaced"};
    char **argv = shoal_adapter_argv(list, ids, 1, "/unused");
    CHECK(argv != NULL);
    CHECK_STR(argv[0], "sh");
    CHECK_STR(argv[1], "-c");
    CHECK_STR(argv[2], "test \"$1\" = \"a b\"");
    CHECK_STR(argv[3], "sh");
    CHECK_STR(argv[4], "a b");
    CHECK(argv[5] == NULL);
    shoal_adapter_argv_free(&argv);
    shoal_adapter_destroy(&list);
    /* What it cannot take is refused, naming the file and line. */
    CHECK(s_list_adapter(dir, "ok\ttrue\npiped\tcat f | wc -l\n", err, sizeof(err)) == NULL);
    CHECK(strstr(err, "suite.list:2: '|' at character 7: shell syntax is not supported; "
                      "quote it") != NULL);
    CHECK(s_list_adapter(dir, "open\techo 'abc\n", err, sizeof(err)) == NULL);
    CHECK(strstr(err, "suite.list:1: unterminated single quote") != NULL);
    scratch_remove_tree(dir);
}
