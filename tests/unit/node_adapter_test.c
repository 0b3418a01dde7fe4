/* Framework adapters: the list format (good, malformed, duplicate), choosing
 * an adapter from the command, the worker's command (the user's, untouched),
 * a process's outcome, and the collection every adapter shares: its index
 * (what the network may name, I3), its digest and its copies. pytest itself
 * is exercised through real workers in node_worker_test.c.
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
    scratch_write(dir, "suite.list", text);
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
    CHECK_INT(shoal_adapter_collect(list, &c, err, sizeof(err)), ==, 0);
    CHECK_INT(c.count, ==, 3);
    CHECK_STR(c.tests[0].id, "quick");
    CHECK_STR(c.tests[1].id, "nap");
    CHECK_STR(c.tests[2].id, "gpu-only");
    CHECK_STR(c.tests[2].requires, "gpu,os=linux");
    CHECK_STR(c.tests[0].requires, "");
    CHECK_STR(c.tests[0].file, "");
    shoal_collection_clear(&c);
    CHECK(c.tests == NULL && c.count == 0);

    char **argv = shoal_adapter_argv(list, "nap");
    CHECK(argv != NULL);
    CHECK_STR(argv[0], "sleep");
    CHECK_STR(argv[1], "0.01");
    CHECK(argv[2] == NULL);
    shoal_adapter_argv_free(&argv);
    CHECK(argv == NULL);
    CHECK(shoal_adapter_argv(list, "nope") == NULL);

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
    CHECK(s_list_adapter(dir, "a\ttrue\nctl\001x\ttrue\n", err, sizeof(err)) == NULL);
    CHECK(strstr(err, "suite.list:2: a test name may not contain control characters") != NULL);
    CHECK(s_list_adapter(dir, "a\ttrue\tgpu,,x\n", err, sizeof(err)) == NULL);
    CHECK(strstr(err, "suite.list:1: bad requirements 'gpu,,x'") != NULL);
    CHECK(s_list_adapter(dir, "a\ttrue\tgpu\textra\n", err, sizeof(err)) == NULL);
    CHECK(strstr(err, "suite.list:1:") != NULL);
    /* No tests is not malformed: the session is empty and exits 5. */
    shoal_adapter_t *empty = s_list_adapter(dir, "# only comments\n", err, sizeof(err));
    CHECK(empty != NULL);
    shoal_collection_t c;
    CHECK_INT(shoal_adapter_collect(empty, &c, err, sizeof(err)), ==, 0);
    CHECK_INT(c.count, ==, 0);
    shoal_collection_clear(&c);
    shoal_adapter_destroy(&empty);
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
        CHECK(shoal_adapter_has_worker(a));
        CHECK_INT(shoal_adapter_batch_max(a), >, 100);
        snprintf(digests[i], sizeof(digests[i]), "%s", shoal_adapter_digest(a));
        for (size_t k = 0; k < i; k++)
            CHECK(strcmp(digests[k], digests[i]) != 0);
        shoal_collection_t c;
        CHECK_INT(shoal_adapter_collect(a, &c, err, sizeof(err)), ==, -1); /* its workers do */
        shoal_adapter_destroy(&a);
    }
    CHECK(shoal_adapter_new(2, make, NULL, err, sizeof(err)) == NULL);
    CHECK(strstr(err, "no adapter for 'make'") != NULL);
    CHECK(shoal_adapter_new(2, python_script, NULL, err, sizeof(err)) == NULL);
    CHECK(shoal_adapter_new(0, NULL, NULL, err, sizeof(err)) == NULL);
    CHECK(strstr(err, "no test command") != NULL);
}

/* pytest parses the user's command as it would alone: shoal adds only its
 * plugin, after the words that start pytest (so a `--` in the command, or a
 * path after it, stays as the user wrote it). */
void
test_node_adapter_worker_argv_keeps_the_command(void)
{
    char err[256];
    char *command[] = {"python3",          "-X", "dev",         "-m",       "pytest", "-k",
                       "fast or slow",     "-n", "2",           "--pyargs", "pkg",    "-p",
                       "no:cacheprovider", "--", "-odd-name.py"};
    shoal_adapter_t *py = shoal_adapter_new(15, command, NULL, err, sizeof(err));
    CHECK(py != NULL);
    char **argv = shoal_adapter_worker_argv(py, "/tmp/plugin", "shoal_worker");
    CHECK(argv != NULL);
    CHECK_STR(argv[0], "python3");
    CHECK_STR(argv[4], "pytest");
    CHECK_STR(argv[5], "-p");
    CHECK_STR(argv[6], "shoal_worker");
    for (size_t i = 5; i < 15; i++)
        CHECK_STR(argv[i + 2], command[i]);
    CHECK(argv[17] == NULL);
    shoal_adapter_argv_free(&argv);
    CHECK(shoal_adapter_argv(py, "anything") == NULL); /* no process per test */
    shoal_adapter_destroy(&py);

    char *plain[] = {"pytest"};
    py = shoal_adapter_new(1, plain, NULL, err, sizeof(err));
    argv = shoal_adapter_worker_argv(py, "/tmp/plugin", "m");
    CHECK_STR(argv[0], "pytest");
    CHECK_STR(argv[1], "-p");
    CHECK_STR(argv[2], "m");
    CHECK(argv[3] == NULL);
    shoal_adapter_argv_free(&argv);
    shoal_adapter_destroy(&py);
}

/* I3: what the network names is looked up in the local collection, never
 * parsed: any id the framework produced is found, anything else is not. */
void
test_node_adapter_collection_finds_only_its_ids(void)
{
    shoal_collection_t c = {0};
    const char *ids[] = {"tests/test_a.py::test_x", "../outside/test_b.py::test_y[a b::c]",
                         "pkg/doc.txt::pkg/doc.txt", "weird\tid\n[\x00]", "b"};
    for (size_t i = 0; i < 5; i++)
        CHECK_INT(shoal_collection_add(&c, ids[i], "f.py", (unsigned)i, NULL), ==, 0);
    CHECK_INT(shoal_collection_find(&c, ids[0]), ==, SIZE_MAX); /* not indexed yet */
    CHECK_INT(shoal_collection_index(&c), ==, 0);
    for (size_t i = 0; i < 5; i++)
        CHECK_INT(shoal_collection_find(&c, ids[i]), ==, i);
    const char *bad[] = {"", "-x", "tests/test_a.py", "tests/test_a.py::test_x ", "a", "c"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        CHECK_INT(shoal_collection_find(&c, bad[i]), ==, SIZE_MAX);
    CHECK_INT(shoal_collection_find(&c, NULL), ==, SIZE_MAX);
    CHECK_INT(c.tests[2].line, ==, 2);
    CHECK_STR(c.tests[2].file, "f.py");
    shoal_collection_clear(&c);
    CHECK(c.tests == NULL && c.count == 0 && c.sorted == NULL);
}

/* Participants compare digests of their collections: the same tests (in
 * order, with what was decided at collection) give the same digest; a test
 * more, a test less, another order or another preset outcome do not. */
void
test_node_adapter_collection_digest_and_copy(void)
{
    shoal_collection_t a = {0}, b = {0};
    CHECK_INT(shoal_collection_add(&a, "t1", "", 0, NULL), ==, 0);
    CHECK_INT(shoal_collection_add(&a, "t2", "", 0, NULL), ==, 0);
    CHECK_INT(shoal_collection_add_preset(&a, "broken.py", SHOAL_OUTCOME_ERROR, "ImportError",
                                          "Traceback..."),
              ==, 0);
    a.maxfail = 2;
    a.notice = strdup("a notice");
    CHECK_INT(shoal_collection_copy(&b, &a), ==, 0);
    char da[33], db[33];
    shoal_collection_digest(&a, da);
    shoal_collection_digest(&b, db);
    CHECK_STR(da, db);
    CHECK_INT(b.count, ==, 3);
    CHECK(b.tests[2].preset);
    CHECK_INT(b.tests[2].outcome, ==, SHOAL_OUTCOME_ERROR);
    CHECK_STR(b.tests[2].output, "Traceback...");
    CHECK_INT(b.maxfail, ==, 2);
    CHECK_STR(b.notice, "a notice");

    b.tests[2].outcome = SHOAL_OUTCOME_SKIPPED; /* the module skipped there */
    shoal_collection_digest(&b, db);
    CHECK(strcmp(da, db) != 0);
    shoal_collection_clear(&b);
    CHECK_INT(shoal_collection_add(&b, "t2", "", 0, NULL), ==, 0); /* another order */
    CHECK_INT(shoal_collection_add(&b, "t1", "", 0, NULL), ==, 0);
    CHECK_INT(shoal_collection_add_preset(&b, "broken.py", SHOAL_OUTCOME_ERROR, "", ""), ==, 0);
    shoal_collection_digest(&b, db);
    CHECK(strcmp(da, db) != 0);
    CHECK_INT(shoal_collection_add(&b, "t3", "", 0, NULL), ==, 0); /* one more */
    shoal_collection_digest(&b, db);
    CHECK(strcmp(da, db) != 0);
    shoal_collection_clear(&a);
    shoal_collection_clear(&b);
}

void
test_node_adapter_list_results_follow_exit_status(void)
{
    shoal_exec_result_t exec = {
        .exit_code = 0, .duration_ms = 1500, .output = "fine\n", .output_len = 5};
    shoal_test_result_t r = {0};
    CHECK_INT(shoal_adapter_result(&exec, &r), ==, 0);
    CHECK_INT(r.outcome, ==, SHOAL_OUTCOME_PASSED);
    CHECK(r.seconds > 1.49 && r.seconds < 1.51);
    shoal_test_result_clear(&r);

    exec.exit_code = 2;
    exec.output = "boom\n";
    CHECK_INT(shoal_adapter_result(&exec, &r), ==, 0);
    CHECK_INT(r.outcome, ==, SHOAL_OUTCOME_FAILED);
    CHECK_STR(r.message, "exit status 2");
    CHECK_STR(r.output, "boom\n");
    shoal_test_result_clear(&r);

    exec.signal = 11;
    CHECK_INT(shoal_adapter_result(&exec, &r), ==, 0);
    CHECK_INT(r.outcome, ==, SHOAL_OUTCOME_ERROR);
    CHECK_STR(r.message, "crashed: killed by signal 11");
    shoal_test_result_clear(&r);

    exec.signal = 9;
    exec.timed_out = true;
    exec.duration_ms = 3000;
    CHECK_INT(shoal_adapter_result(&exec, &r), ==, 0);
    CHECK_INT(r.outcome, ==, SHOAL_OUTCOME_ERROR);
    CHECK_STR(r.message, "timed out after 3.0s");
    shoal_test_result_clear(&r);

    exec = (shoal_exec_result_t){.spawn_failed = true,
                                 .output = "cannot run 'x': No such file or directory"};
    CHECK_INT(shoal_adapter_result(&exec, &r), ==, 0);
    CHECK_INT(r.outcome, ==, SHOAL_OUTCOME_ERROR);
    CHECK_STR(r.message, "cannot run 'x': No such file or directory");
    shoal_test_result_clear(&r);
}

void
test_node_adapter_outcome_names(void)
{
    CHECK_STR(shoal_outcome_str(SHOAL_OUTCOME_PASSED), "passed");
    CHECK_STR(shoal_outcome_str(SHOAL_OUTCOME_FAILED), "failed");
    CHECK_STR(shoal_outcome_str(SHOAL_OUTCOME_ERROR), "error");
    CHECK_STR(shoal_outcome_str(SHOAL_OUTCOME_SKIPPED), "skipped");
    CHECK_STR(shoal_outcome_str(SHOAL_OUTCOME_NOT_RUN), "not-run");
    CHECK_STR(shoal_outcome_str(SHOAL_OUTCOME_XFAILED), "xfailed");
    CHECK_STR(shoal_outcome_str(SHOAL_OUTCOME_XPASSED), "xpassed");
    CHECK_STR(shoal_outcome_str(SHOAL_OUTCOME_COUNT), "unknown");
    CHECK(shoal_outcome_failed(SHOAL_OUTCOME_FAILED) && shoal_outcome_failed(SHOAL_OUTCOME_ERROR));
    CHECK(!shoal_outcome_failed(SHOAL_OUTCOME_XFAILED) &&
          !shoal_outcome_failed(SHOAL_OUTCOME_XPASSED));
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
    CHECK_INT(shoal_adapter_collect(list, &c, err, sizeof(err)), ==, 0);
    CHECK_INT(c.count, ==, 30);
    size_t gpu = 0;
    for (size_t i = 0; i < c.count; i++)
        gpu += strcmp(c.tests[i].requires, "gpu") == 0;
    CHECK_INT(gpu, ==, 2);
    shoal_collection_clear(&c);
    shoal_adapter_destroy(&list);
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
    char **argv = shoal_adapter_argv(list, "spaced");
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

/* A pytest worker says what pytest-xdist's workers say (suites read it to
 * limit their threads per worker or keep resources apart), and finds the
 * plugin first on PYTHONPATH; a list has no worker. */
void
test_node_adapter_worker_env_is_xdist_like(void)
{
    char err[256];
    char *cmd[] = {"pytest"};
    shoal_adapter_t *py = shoal_adapter_new(1, cmd, NULL, err, sizeof(err));
    CHECK(py != NULL);
    setenv("PYTHONPATH", "/user/lib", 1);
    char **env = shoal_adapter_worker_env(py, "/tmp/plugin", 1, 4, "ci-42", NULL);
    CHECK(env != NULL);
    const char *want[] = {"PYTHONPATH=/tmp/plugin:/user/lib", "PYTEST_XDIST_WORKER=gw1",
                          "PYTEST_XDIST_WORKER_COUNT=4", "PYTEST_XDIST_TESTRUNUID=ci-42"};
    for (size_t i = 0; i < 4; i++)
        CHECK_STR(env[i], want[i]);
    CHECK(env[4] == NULL);
    shoal_adapter_argv_free(&env);
    unsetenv("PYTHONPATH");
    env = shoal_adapter_worker_env(py, "/tmp/plugin", 0, 1, "s", NULL);
    CHECK_STR(env[0], "PYTHONPATH=/tmp/plugin");
    shoal_adapter_argv_free(&env);
    /* a client's session: its environment's PYTHONPATH, not this process' */
    char *client[] = {"PYTHONPATH=/client/lib", NULL};
    env = shoal_adapter_worker_env(py, "/tmp/plugin", 0, 1, "s", client);
    CHECK_STR(env[0], "PYTHONPATH=/tmp/plugin:/client/lib");
    shoal_adapter_argv_free(&env);
    shoal_adapter_destroy(&py);

    char *dir = s_tmpdir();
    shoal_adapter_t *list = s_list_adapter(dir, "a\ttrue\n", err, sizeof(err));
    CHECK(shoal_adapter_worker_env(list, "/tmp/plugin", 0, 1, "s", NULL) == NULL);
    shoal_adapter_destroy(&list);
    scratch_remove_tree(dir);
}

/* Mocha is recognised however users start it; its worker is node running
 * the script in the plugin directory, told how the command finds Mocha
 * (as a shell does, or npx's node_modules/.bin first), with the user's
 * node options and mocha arguments untouched. */
void
test_node_adapter_mocha_worker_runs_the_users_mocha(void)
{
    char err[256];
    struct {
        int argc;
        char *argv[8];
        const char *want[10];
    } cases[] = {
        {2, {"mocha", "-u"}, {"node", "/p/shoal_mocha_worker.js", "path", "mocha", "-u"}},
        {1,
         {"./node_modules/.bin/_mocha"},
         {"node", "/p/shoal_mocha_worker.js", "path", "./node_modules/.bin/_mocha"}},
        {4,
         {"npx", "--yes", "mocha", "t.js"},
         {"node", "/p/shoal_mocha_worker.js", "npx", "mocha", "t.js"}},
        {5,
         {"/usr/bin/node", "--expose-gc", "-r", "x", "node_modules/mocha/bin/mocha.js"},
         {"/usr/bin/node", "--expose-gc", "-r", "x", "/p/shoal_mocha_worker.js", "path",
          "node_modules/mocha/bin/mocha.js"}},
    };
    for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
        shoal_adapter_t *a =
            shoal_adapter_new(cases[k].argc, cases[k].argv, NULL, err, sizeof(err));
        CHECK(a != NULL);
        CHECK_STR(shoal_adapter_name(a), "mocha");
        char **argv = shoal_adapter_worker_argv(a, "/p", "shoal_worker");
        size_t n = 0;
        for (; cases[k].want[n]; n++)
            CHECK_STR(argv[n], cases[k].want[n]);
        CHECK(argv[n] == NULL);
        shoal_adapter_argv_free(&argv);
        char **env = shoal_adapter_worker_env(a, "/p", 3, 4, "s", NULL);
        CHECK_STR(env[0], "MOCHA_WORKER_ID=3");
        CHECK(env[1] == NULL);
        shoal_adapter_argv_free(&env);
        shoal_adapter_destroy(&a);
    }
    char *not_mocha[][3] = {
        {"node", "server.js", NULL}, {"npx", "jest", NULL}, {"mochawesome", NULL, NULL}};
    for (size_t k = 0; k < 3; k++) {
        /* another framework's ("npx jest"), or none */
        shoal_adapter_t *other =
            shoal_adapter_new(not_mocha[k][1] ? 2 : 1, not_mocha[k], NULL, err, sizeof(err));
        CHECK(!other || strcmp(shoal_adapter_name(other), "mocha") != 0);
        shoal_adapter_destroy(&other);
    }
}

/* An id longer than the network carries is shortened alike everywhere (its
 * head, "…", a digest of the whole); the framework still gets its own. */
void test_node_adapter_shortens_ids_the_network_cannot_carry(void);
void
test_node_adapter_shortens_ids_the_network_cannot_carry(void)
{
    size_t len = SHOAL_TEST_ID_MAX + 1000;
    char *long_a = malloc(len + 1), *long_b = malloc(len + 1);
    memset(long_a, 'x', len);
    memcpy(long_b, long_a, len);
    long_a[len] = long_b[len] = '\0';
    long_b[len - 1] = 'y'; /* differs only past the head */
    shoal_collection_t c = {0}, again = {0};
    CHECK_INT(shoal_collection_add(&c, "short", "f.py", 1, NULL), ==, 0);
    CHECK_INT(shoal_collection_add(&c, long_a, "f.py", 2, NULL), ==, 0);
    CHECK_INT(shoal_collection_add_preset(&c, long_b, SHOAL_OUTCOME_SKIPPED, "skip", ""), ==, 0);
    CHECK(strlen(c.tests[1].id) <= SHOAL_TEST_ID_MAX);
    CHECK(strcmp(c.tests[1].id, c.tests[2].id) != 0);
    CHECK(strstr(c.tests[1].id, "\xe2\x80\xa6") != NULL);
    CHECK_STR(shoal_collection_framework_id(&c, 0), "short");
    CHECK_STR(shoal_collection_framework_id(&c, 1), long_a);
    CHECK_STR(shoal_collection_framework_id(&c, 2), long_b);
    /* Another participant's collection (or a copy) names them alike. */
    CHECK_INT(shoal_collection_copy(&again, &c), ==, 0);
    CHECK_STR(again.tests[1].id, c.tests[1].id);
    CHECK_STR(shoal_collection_framework_id(&again, 2), long_b);
    CHECK_INT(shoal_collection_index(&again), ==, 0);
    CHECK_INT(shoal_collection_find(&again, c.tests[2].id), ==, 2);
    shoal_collection_clear(&c);
    shoal_collection_clear(&again);
    free(long_a);
    free(long_b);
}

/* Two tests under one id would be dealt as one, and the session would never
 * end: the collection says which id they share. */
void test_node_adapter_finds_ids_two_tests_share(void);
void
test_node_adapter_finds_ids_two_tests_share(void)
{
    shoal_collection_t c = {0};
    CHECK_INT(shoal_collection_add(&c, "b", "f.py", 1, NULL), ==, 0);
    CHECK_INT(shoal_collection_add(&c, "a", "f.py", 2, NULL), ==, 0);
    CHECK_INT(shoal_collection_index(&c), ==, 0);
    CHECK(shoal_collection_duplicate(&c) == NULL);
    CHECK_INT(shoal_collection_add(&c, "b", "g.py", 3, NULL), ==, 0);
    CHECK_INT(shoal_collection_index(&c), ==, 0);
    CHECK_STR(shoal_collection_duplicate(&c), "b");
    shoal_collection_clear(&c);
}
