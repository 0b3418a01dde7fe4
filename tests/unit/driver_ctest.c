/* The ctest driver's reading of ctest's words: the user's options (what
 * cannot run distributed is refused), the JSON listing (ids for names that
 * several directories use, DISABLED, the properties that cannot hold across
 * slots, where add_test is), and the progress lines of a run.
 */
#include "harness.h"
#include "node/driver_ctest.h"

#include <stdarg.h>

#define TEST(g, n) void test_##g##_##n(void);
#include "node.list"
#undef TEST

static int
s_options(shoal_ctest_options_t *opts, char *err, size_t err_size, ...)
{
    char *argv[16] = {"ctest"};
    int argc = 1;
    va_list ap;
    va_start(ap, err_size);
    for (char *w; (w = va_arg(ap, char *)) != NULL && argc < 15;)
        argv[argc++] = w;
    va_end(ap);
    return shoal_ctest_options(argc, argv, opts, err, err_size);
}

void
test_driver_ctest_refuses_what_cannot_run_distributed(void)
{
    shoal_ctest_options_t opts;
    char err[512];
    const char *refused[] = {
        "-N", "--show-only", "--show-only=json-v1", "--rerun-failed", "--output-junit",
        "-T", "-S",          "--print-labels"};
    for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
        err[0] = '\0';
        CHECK_INT(s_options(&opts, err, sizeof(err), "-L", "unit", refused[i], "x", NULL), ==, -1);
        CHECK(strstr(err, refused[i]) != NULL);
    }
    /* a value that looks like a refused option is a value */
    CHECK_INT(s_options(&opts, err, sizeof(err), "-R", "-N", "-E", "--rerun-failed", NULL), ==, 0);
}

void
test_driver_ctest_reads_the_options_it_replaces(void)
{
    shoal_ctest_options_t opts;
    char err[512];
    CHECK_INT(s_options(&opts, err, sizeof(err), "-L", "unit", NULL), ==, 0);
    CHECK(!opts.stop_on_failure && !opts.parallel && opts.test_dir == NULL);
    CHECK_INT(s_options(&opts, err, sizeof(err), "--test-dir", "build", "--stop-on-failure", "-j",
                        "4", NULL),
              ==, 0);
    CHECK(opts.stop_on_failure && opts.parallel);
    CHECK_STR(opts.test_dir, "build");
    CHECK_INT(s_options(&opts, err, sizeof(err), "-j3", NULL), ==, 0);
    CHECK(opts.parallel);
    CHECK_INT(s_options(&opts, err, sizeof(err), "--parallel", "2", NULL), ==, 0);
    CHECK(opts.parallel);
    char *command[] = {"ctest", "--stop-on-failure", "-L", "unit", "--output-on-failure", "-R", "x",
                       "-E"};
    CHECK_INT(shoal_ctest_batch_drops(8, command, 1), ==, 1);
    CHECK_INT(shoal_ctest_batch_drops(8, command, 2), ==, 2);
    CHECK_INT(shoal_ctest_batch_drops(8, command, 4), ==, 0);
    CHECK_INT(shoal_ctest_batch_drops(8, command, 5), ==, 2);
    CHECK_INT(shoal_ctest_batch_drops(8, command, 7), ==, 1);
}

void
test_driver_ctest_reads_progress_lines(void)
{
    const char *rest;
    CHECK_INT(shoal_ctest_started("      Start  3: odd name+(x)[y].*", &rest), ==, 3);
    CHECK_STR(rest, "odd name+(x)[y].*");
    CHECK_INT(shoal_ctest_started("3: Start 4: x", &rest), ==, 0); /* -V output of test 3 */
    CHECK_INT(shoal_ctest_ended(" 2/14 Test  #2: b .......***Failed    0.01 sec", &rest), ==, 2);
    CHECK_INT(shoal_ctest_ended("    Test #16: dup ....***Failed    0.00 sec", &rest), ==, 16);
    CHECK_INT(shoal_ctest_ended("100% tests passed, 0 tests failed out of 3", &rest), ==, 0);
    CHECK_INT(shoal_ctest_ended("1: Test command: /bin/true", &rest), ==, 0);

    char status[128];
    double seconds;
    CHECK(
        shoal_ctest_status("a ......   Passed    0.00 sec", "a", status, sizeof(status), &seconds));
    CHECK_STR(status, "Passed");
    CHECK(shoal_ctest_status("crash ....***Exception: SegFault  0.00 sec", "crash", status,
                             sizeof(status), &seconds));
    CHECK_STR(status, "Exception: SegFault");
    CHECK(shoal_ctest_status("rx ...***Failed  Error regular expression found in output. "
                             "Regex=[FAILED]  0.01 sec",
                             "rx", status, sizeof(status), &seconds));
    CHECK_STR(status, "Failed  Error regular expression found in output. Regex=[FAILED]");
    CHECK(shoal_ctest_status("v1.2. .....***Not Run (Disabled)   0.00 sec", "v1.2.", status,
                             sizeof(status), &seconds));
    CHECK_STR(status, "Not Run (Disabled)");
    CHECK(shoal_ctest_status("slow ...***Timeout  10.02 sec", "slow", status, sizeof(status),
                             &seconds));
    CHECK_STR(status, "Timeout");
    CHECK(seconds > 10.01 && seconds < 10.03);

    /* ctest's rule for what fails a run */
    CHECK_INT(shoal_ctest_status_outcome("Passed"), ==, SHOAL_OUTCOME_PASSED);
    CHECK_INT(shoal_ctest_status_outcome("Skipped"), ==, SHOAL_OUTCOME_SKIPPED);
    CHECK_INT(shoal_ctest_status_outcome("Not Run (Disabled)"), ==, SHOAL_OUTCOME_SKIPPED);
    CHECK_INT(shoal_ctest_status_outcome("Not Run"), ==, SHOAL_OUTCOME_ERROR);
    CHECK_INT(shoal_ctest_status_outcome("Exception: SegFault"), ==, SHOAL_OUTCOME_FAILED);
    CHECK_INT(shoal_ctest_status_outcome("Timeout"), ==, SHOAL_OUTCOME_FAILED);
    CHECK(!shoal_ctest_status("ab ... Passed 0.00 sec", "a", status, sizeof(status), &seconds));
}

void
test_driver_ctest_reads_junit_by_ctests_rule(void)
{
    const char *message;
    shoal_junit_record_t r = {.outcome = SHOAL_OUTCOME_SKIPPED, .message = "SKIP_RETURN_CODE=77"};
    CHECK_INT(shoal_ctest_junit_outcome(&r, "Skipped", &message), ==, SHOAL_OUTCOME_SKIPPED);
    CHECK_STR(message, "SKIP_RETURN_CODE=77");
    r.message = "Unable to find executable";
    CHECK_INT(shoal_ctest_junit_outcome(&r, "Not Run", &message), ==, SHOAL_OUTCOME_ERROR);
    CHECK_STR(message, "Unable to find executable");
    r = (shoal_junit_record_t){.outcome = SHOAL_OUTCOME_FAILED, .message = ""};
    CHECK_INT(shoal_ctest_junit_outcome(&r, "Timeout", &message), ==, SHOAL_OUTCOME_FAILED);
    CHECK_STR(message, "Timeout");
    /* status="disabled" has no child: the result line tells */
    r = (shoal_junit_record_t){.outcome = SHOAL_OUTCOME_PASSED, .message = ""};
    CHECK_INT(shoal_ctest_junit_outcome(&r, "Not Run (Disabled)", &message), ==,
              SHOAL_OUTCOME_SKIPPED);
    CHECK_INT(shoal_ctest_junit_outcome(&r, "Passed", &message), ==, SHOAL_OUTCOME_PASSED);
    CHECK_INT(shoal_ctest_junit_outcome(&r, "", &message), ==, SHOAL_OUTCOME_PASSED);
}

/* Three tests called dup (two directories, then the top one twice over),
 * one disabled, one RUN_SERIAL, one with a RESOURCE_LOCK. */
static const char s_listing[] =
    "{\"backtraceGraph\": {\"commands\": [\"add_test\"],"
    " \"files\": [\"/src/CMakeLists.txt\", \"/src/sub1/CMakeLists.txt\", \"/elsewhere/x.cmake\"],"
    " \"nodes\": [{\"file\": 0}, {\"command\": 0, \"file\": 0, \"line\": 4, \"parent\": 0},"
    "             {\"file\": 1}, {\"command\": 0, \"file\": 1, \"line\": 2, \"parent\": 2},"
    "             {\"command\": 0, \"file\": 2, \"line\": 7}]},"
    " \"kind\": \"ctestInfo\", \"version\": {\"major\": 1, \"minor\": 0},"
    " \"tests\": ["
    "  {\"name\": \"a\", \"backtrace\": 1, \"command\": [\"true\"], \"properties\": ["
    "     {\"name\": \"RUN_SERIAL\", \"value\": true},"
    "     {\"name\": \"WORKING_DIRECTORY\", \"value\": \"/src/build\"}]},"
    "  {\"name\": \"dup\", \"backtrace\": 3, \"properties\": ["
    "     {\"name\": \"WORKING_DIRECTORY\", \"value\": \"/src/build/sub1\"}]},"
    "  {\"name\": \"dup\", \"backtrace\": 4, \"properties\": ["
    "     {\"name\": \"WORKING_DIRECTORY\", \"value\": \"/src/build/sub2\"}]},"
    "  {\"name\": \"off\", \"properties\": [{\"name\": \"DISABLED\", \"value\": true},"
    "     {\"name\": \"RESOURCE_LOCK\", \"value\": [\"db\"]}]},"
    "  {\"name\": \"top\", \"properties\": ["
    "     {\"name\": \"WORKING_DIRECTORY\", \"value\": \"/src/build\"}]},"
    "  {\"name\": \"top\", \"properties\": ["
    "     {\"name\": \"WORKING_DIRECTORY\", \"value\": \"/src/build\"}]}"
    " ]}";

void
test_driver_ctest_names_tests_from_the_listing(void)
{
    shoal_ctest_test_t *tests = NULL;
    size_t count = 0;
    char err[512] = "";
    CHECK_INT(
        shoal_ctest_list_parse(s_listing, "/src/build", "/src", &tests, &count, err, sizeof(err)),
        ==, 0);
    CHECK_INT(count, ==, 6);
    CHECK_STR(tests[0].id, "a");
    CHECK_STR(tests[0].file, "CMakeLists.txt");
    CHECK_INT(tests[0].line, ==, 4);
    CHECK(tests[0].serial && !tests[0].disabled);
    /* a name two directories use: the directory tells them apart */
    CHECK_STR(tests[1].name, "dup");
    CHECK_STR(tests[1].id, "sub1::dup");
    CHECK_STR(tests[1].file, "sub1/CMakeLists.txt");
    CHECK_STR(tests[2].id, "sub2::dup");
    CHECK_STR(tests[2].file, "/elsewhere/x.cmake");
    CHECK_INT(tests[2].line, ==, 7);
    CHECK(tests[3].disabled && tests[3].serial);
    CHECK_STR(tests[3].file, "");
    CHECK_INT(tests[3].line, ==, 0);
    /* one directory twice: the order does */
    CHECK_STR(tests[4].id, "top #1");
    CHECK_STR(tests[5].id, "top #2");
    shoal_ctest_tests_free(tests, count);
}

/* The same project listed with a selection: the second dup alone, its
 * backtrace numbered in a graph of its own; and a test the whole listing
 * lacks. */
static const char s_selected[] =
    "{\"backtraceGraph\": {\"commands\": [\"add_test\"], \"files\": [\"/elsewhere/x.cmake\"],"
    " \"nodes\": [{\"command\": 0, \"file\": 0, \"line\": 7}]},"
    " \"tests\": [{\"name\": \"dup\", \"backtrace\": 0, \"properties\": ["
    "     {\"name\": \"WORKING_DIRECTORY\", \"value\": \"/src/build/sub2\"}]},"
    "  {\"name\": \"a\", \"command\": [\"true\"], \"properties\": ["
    "     {\"name\": \"RUN_SERIAL\", \"value\": true},"
    "     {\"name\": \"WORKING_DIRECTORY\", \"value\": \"/src/build\"}]}]}";

void
test_driver_ctest_numbers_a_selection_as_the_whole_project(void)
{
    shoal_ctest_test_t *all = NULL, *some = NULL;
    size_t all_count = 0, some_count = 0;
    char err[512] = "";
    CHECK_INT(
        shoal_ctest_list_parse(s_listing, "/src/build", "/src", &all, &all_count, err, sizeof(err)),
        ==, 0);
    CHECK_INT(shoal_ctest_list_parse(s_selected, "/src/build", "/src", &some, &some_count, err,
                                     sizeof(err)),
              ==, 0);
    CHECK_INT(some_count, ==, 2);
    CHECK_STR(some[0].id, "dup"); /* alone in the selection */
    unsigned numbers[2] = {0, 0};
    /* "a" differs from the whole listing's (no backtrace there): not found */
    CHECK_INT(shoal_ctest_match(some, 2, all, all_count, numbers, err, sizeof(err)), ==, -1);
    CHECK(strstr(err, "'a'") != NULL);
    CHECK_INT(shoal_ctest_match(some, 1, all, all_count, numbers, err, sizeof(err)), ==, 0);
    CHECK_INT(numbers[0], ==, 3);
    CHECK_STR(some[0].id, "sub2::dup"); /* the id does not depend on the selection */
    shoal_ctest_tests_free(all, all_count);
    shoal_ctest_tests_free(some, some_count);
}

void
test_driver_ctest_refuses_a_listing_it_cannot_read(void)
{
    shoal_ctest_test_t *tests = NULL;
    size_t count = 0;
    char err[512] = "";
    CHECK_INT(shoal_ctest_list_parse("{\"tests\": [", "/b", "/", &tests, &count, err, sizeof(err)),
              ==, -1);
    CHECK(strstr(err, "JSON") != NULL);
    CHECK_INT(
        shoal_ctest_list_parse("{\"kind\": \"x\"}", "/b", "/", &tests, &count, err, sizeof(err)),
        ==, -1);
    CHECK_INT(shoal_ctest_list_parse("{\"tests\": [{\"command\": []}]}", "/b", "/", &tests, &count,
                                     err, sizeof(err)),
              ==, -1);
    CHECK(strstr(err, "no name") != NULL);
    CHECK_INT(
        shoal_ctest_list_parse("{\"tests\": []}", "/b", "/", &tests, &count, err, sizeof(err)), ==,
        0);
    CHECK_INT(count, ==, 0);
    shoal_ctest_tests_free(tests, count);
}
