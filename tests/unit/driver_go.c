/* The go test driver's reading of go's words, without go: the user's command
 * line (where the package list is, what shoal drops or refuses), -list -json
 * output (ids, build failures, benchmarks left out), and one package's event
 * stream (nested runs, subtests, a binary that ends mid-test, a package that
 * fails after its tests passed).
 */
#include "harness.h"
#include "node/driver_go.h"

#define TEST(g, n) void test_##g##_##n(void);
#include "node.list"
#undef TEST

static int
s_parse(const char *const *words, shoal_go_args_t *args, char *err, size_t err_size)
{
    int argc = 0;
    while (words[argc])
        argc++;
    return shoal_go_args_parse(argc, (char *const *)words, args, err, err_size);
}

void
test_node_driver_go_args_find_packages_and_shoal_flags(void)
{
    const char *words[] = {"go",   "test", "-v",        "-count",   "2", "./...",
                           "-run", "Foo",  "-failfast", "-cpu=1,2", NULL};
    shoal_go_args_t a;
    char err[256] = "";
    CHECK_INT(s_parse(words, &a, err, sizeof(err)), ==, 0);
    CHECK_INT(a.insert, ==, 5);
    CHECK_INT(a.pkg_end, ==, 6);
    CHECK_STR(a.run, "Foo");
    CHECK(a.drop[6] && a.drop[7] && a.drop[8] && !a.drop[5] && !a.drop[9]);
    CHECK(a.failfast && a.count);
    CHECK_INT(a.repeats, ==, 4);
    shoal_go_args_clear(&a);

    /* after a flag go does not know, no package list can start */
    const char *unknown[] = {"go", "test", "-myflag", "x", "./a", NULL};
    CHECK_INT(s_parse(unknown, &a, err, sizeof(err)), ==, 0);
    CHECK_INT(a.insert, ==, 2);
    CHECK_INT(a.pkg_end, ==, 2);
    shoal_go_args_clear(&a);

    const char *none[] = {"go", "test", "-short", "-args", "-x", NULL};
    CHECK_INT(s_parse(none, &a, err, sizeof(err)), ==, 0);
    CHECK_INT(a.insert, ==, 3);
    CHECK_INT(a.repeats, ==, 1);
    shoal_go_args_clear(&a);
}

void
test_node_driver_go_args_refuse_what_cannot_be_distributed(void)
{
    const char *cases[][6] = {{"go", "test", "-bench", ".", NULL},
                              {"go", "test", "-run", "TestA/sub", NULL},
                              {"go", "test", "-coverprofile=c.out", "./...", NULL},
                              {"go", "test", "-c", NULL}};
    const char *why[] = {"-bench", "subtests", "-coverprofile", "-c"};
    for (size_t i = 0; i < 4; i++) {
        shoal_go_args_t a;
        char err[256] = "";
        CHECK_INT(s_parse(cases[i], &a, err, sizeof(err)), ==, -1);
        CHECK(strstr(err, why[i]) != NULL);
    }
}

void
test_node_driver_go_list_ids_presets_and_order(void)
{
    shoal_go_list_t *list = shoal_go_list_new("MARK");
    const char *lines[] = {
        "{\"Action\":\"output\",\"Package\":\"ex.com/b\",\"Output\":\"TestOne\\n\"}",
        "{\"Action\":\"output\",\"Package\":\"ex.com/b\",\"Output\":\"MARK 42\\n\"}",
        "{\"Action\":\"output\",\"Package\":\"ex.com/b\",\"Output\":\"BenchmarkX\\n\"}",
        "{\"Action\":\"output\",\"Package\":\"ex.com/b\",\"Output\":\"Testing is fun\\n\"}",
        "{\"Action\":\"output\",\"Package\":\"ex.com/b\",\"Output\":\"ok  \\tex.com/b\\t0.1s\\n\"}",
        "{\"Action\":\"pass\",\"Package\":\"ex.com/b\"}",
        "{\"Action\":\"output\",\"Package\":\"ex.com/a\",\"Output\":\"TestOne\\n\"}",
        "{\"Action\":\"output\",\"Package\":\"ex.com/a\",\"Output\":\"ExampleHello\\n\"}",
        "{\"Action\":\"output\",\"Package\":\"ex.com/a\",\"Output\":\"Testify\\n\"}",
        "# ex.com/broken",
        "broken/x_test.go:3:1: undefined: nope",
        "FAIL\tex.com/broken [build failed]",
    };
    for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++)
        shoal_go_list_line(list, lines[i], strlen(lines[i]));
    shoal_collection_t c = {0};
    char err[256] = "";
    CHECK_INT(shoal_go_list_finish(list, 1, &c, err, sizeof(err)), ==, 0);
    CHECK_INT(c.count, ==, 4);
    CHECK_STR(c.tests[0].id, "ex.com/a::TestOne");
    CHECK_STR(c.tests[1].id, "ex.com/a::ExampleHello");
    CHECK_STR(c.tests[2].id, "ex.com/b::TestOne");
    CHECK_STR(c.tests[3].id, "ex.com/broken");
    CHECK(c.tests[3].preset && c.tests[3].outcome == SHOAL_OUTCOME_ERROR);
    CHECK(strstr(c.tests[3].message, "build failed") != NULL);
    CHECK(strstr(c.tests[3].output, "undefined: nope") != NULL);
    const char *pkg;
    int pid;
    CHECK(shoal_go_list_capture(list, 0, &pkg, &pid));
    CHECK_STR(pkg, "ex.com/b");
    CHECK_INT(pid, ==, 42);
    shoal_collection_clear(&c);
    shoal_go_list_destroy(&list);

    /* go failing with no package to blame: go's words, no tests */
    list = shoal_go_list_new(NULL);
    const char *bad = "flag provided but not defined: -nope";
    shoal_go_list_line(list, bad, strlen(bad));
    CHECK_INT(shoal_go_list_finish(list, 2, &c, err, sizeof(err)), ==, -1);
    CHECK(strstr(err, "-nope") != NULL);
    shoal_go_list_destroy(&list);
}

typedef struct {
    int begun[4];
    shoal_outcome_t outcome[4];
    int results[4];
    char message[4][128];
} s_seen_t;

static void
s_begin(void *arg, size_t place)
{
    ((s_seen_t *)arg)->begun[place]++;
}

static void
s_result(void *arg, size_t place, shoal_outcome_t outcome, double seconds, const char *message,
         const char *output)
{
    (void)seconds;
    (void)output;
    s_seen_t *seen = arg;
    seen->results[place]++;
    seen->outcome[place] = outcome;
    snprintf(seen->message[place], sizeof(seen->message[place]), "%s", message ? message : "");
}

#define EV(action, test) "{\"Action\":\"" action "\",\"Package\":\"p\",\"Test\":\"" test "\"}"
#define OUT(test, text)                                                                            \
    "{\"Action\":\"output\",\"Package\":\"p\",\"Test\":\"" test "\",\"Output\":\"" text "\\n\"}"

static shoal_go_run_t *
s_feed(const char *const *names, size_t count, s_seen_t *seen, const char *const *lines)
{
    shoal_go_events_t ev = {.begin = s_begin, .result = s_result, .arg = seen};
    shoal_go_run_t *run = shoal_go_run_new(names, count, 1, NULL, ev);
    for (size_t i = 0; lines[i]; i++)
        shoal_go_run_line(run, lines[i], strlen(lines[i]));
    return run;
}

void
test_node_driver_go_run_nested_runs_and_subtests(void)
{
    const char *names[] = {"TestA", "TestB"};
    s_seen_t seen = {0};
    const char *lines[] = {EV("run", "TestA"),
                           EV("run", "TestA/x/y"),
                           OUT("TestA/x/y", "    a_test.go:3: sub fails"),
                           EV("fail", "TestA/x/y"),
                           EV("run", "TestA"), /* testing.RunTests inside TestA */
                           OUT("TestA", "--- FAIL: TestA (0.00s)"),
                           EV("fail", "TestA"),
                           EV("run", "TestB"), /* a name of the batch, nested */
                           EV("fail", "TestB"),
                           OUT("TestA", "--- FAIL: TestA (0.00s)"),
                           EV("fail", "TestA"),
                           EV("run", "TestB"),
                           OUT("TestB", "--- SKIP: TestB (0.00s)"),
                           EV("skip", "TestB"),
                           NULL};
    shoal_go_run_t *run = s_feed(names, 2, &seen, lines);
    CHECK_INT(shoal_go_run_end(run, 1, 0), ==, SHOAL_GO_DONE);
    CHECK_INT(seen.begun[0], ==, 1);
    CHECK_INT(seen.results[0], ==, 1);
    CHECK_INT(seen.outcome[0], ==, SHOAL_OUTCOME_FAILED);
    CHECK_STR(seen.message[0], "a_test.go:3: sub fails");
    CHECK_INT(seen.results[1], ==, 1);
    CHECK_INT(seen.outcome[1], ==, SHOAL_OUTCOME_SKIPPED);
    shoal_go_run_destroy(&run);
}

void
test_node_driver_go_run_binary_end_errs_and_runs_the_rest_again(void)
{
    const char *names[] = {"TestA", "TestB", "TestC"};
    s_seen_t seen = {0};
    /* test2json's own "fail" when the binary exits: no "--- FAIL" line */
    const char *lines[] = {EV("run", "TestA"),
                           OUT("TestA", "--- PASS: TestA (0.00s)"),
                           EV("pass", "TestA"),
                           EV("run", "TestB"),
                           OUT("TestB", "=== RUN   TestB"),
                           EV("fail", "TestB"),
                           NULL};
    shoal_go_run_t *run = s_feed(names, 3, &seen, lines);
    CHECK_INT(shoal_go_run_end(run, 3, 0), ==, SHOAL_GO_AGAIN);
    CHECK_INT(seen.outcome[0], ==, SHOAL_OUTCOME_PASSED);
    CHECK_INT(seen.outcome[1], ==, SHOAL_OUTCOME_ERROR);
    CHECK(strstr(seen.message[1], "while this test ran") != NULL);
    CHECK_INT(seen.results[2], ==, 0);
    CHECK(!shoal_go_run_begun(run, 2));
    shoal_go_run_destroy(&run);

    /* the package fails after every test passed: the last one carries it */
    s_seen_t after = {0};
    const char *passed[] = {EV("run", "TestA"), OUT("TestA", "--- PASS: TestA (0.00s)"),
                            EV("pass", "TestA"), NULL};
    run = s_feed(names, 1, &after, passed);
    CHECK_INT(shoal_go_run_end(run, 1, 0), ==, SHOAL_GO_DONE);
    CHECK_INT(after.outcome[0], ==, SHOAL_OUTCOME_ERROR);
    CHECK(strstr(after.message[0], "after this test") != NULL);
    shoal_go_run_destroy(&run);
}
