/* The Jest/Vitest driver's pure parts: which commands are Jest's or
 * Vitest's, option values, the reporter's event lines, test ids, and the
 * name filter (every regex metacharacter escaped, the user's -t kept as a
 * lookahead, cut by size).
 */
#include "harness.h"
#include "node/driver_js.h"

#define TEST(g, n) void test_##g##_##n(void);
#include "node.list"
#undef TEST

#define ARGV(...) ((char *const[]){__VA_ARGS__, NULL})
#define ARGC(...) ((int)(sizeof((char *const[]){__VA_ARGS__}) / sizeof(char *)))
#define DETECT(name, ...) shoal_js_detect(ARGC(__VA_ARGS__), ARGV(__VA_ARGS__), name)

void
test_node_driver_js_detects_jest_and_vitest_commands(void)
{
    CHECK(DETECT("jest", "jest", "--ci") == 1);
    CHECK(DETECT("jest", "node_modules/.bin/jest") == 1);
    CHECK(DETECT("jest", "npx", "jest", "-i") == 2);
    CHECK(DETECT("jest", "npx", "--no-install", "jest") == 3);
    CHECK(DETECT("jest", "node", "--expose-gc", "node_modules/jest/bin/jest.js", "x") == 3);
    CHECK(DETECT("jest", "node", "-r", "ts-node/register", "jest") == 4);
    CHECK(DETECT("jest", "npx", "vitest") == 0);
    CHECK(DETECT("jest", "jester") == 0);
    CHECK(DETECT("jest", "node", "script.js") == 0);
    CHECK(DETECT("vitest", "vitest", "run") == 1);
    CHECK(DETECT("vitest", "node", "node_modules/vitest/vitest.mjs", "run") == 2);
}

void
test_node_driver_js_reads_option_values(void)
{
    char *const *argv = ARGV("-t", "a b", "--testNamePattern=x", "-tfoo", "--testTimeout", "5");
    int i = 0;
    CHECK_STR(shoal_js_value(6, argv, &i, "--testNamePattern", "-t"), "a b");
    CHECK(i == 1);
    i = 2;
    CHECK_STR(shoal_js_value(6, argv, &i, "--testNamePattern", "-t"), "x");
    i = 3;
    CHECK_STR(shoal_js_value(6, argv, &i, "--testNamePattern", "-t"), "foo");
    i = 4;
    CHECK(shoal_js_value(6, argv, &i, "--testNamePattern", "-t") == NULL);
    CHECK(shoal_js_flag("--bail=2", "--bail", "-b"));
    CHECK(shoal_js_flag("-b", "--bail", "-b"));
    CHECK(!shoal_js_flag("--bailout", "--bail", "-b"));
}

void
test_node_driver_js_parses_reporter_events(void)
{
    shoal_js_event_t ev;
    CHECK(shoal_js_event_parse("PASS a.test.js", &ev) == 1);
    CHECK(shoal_js_event_parse("shoal-js {not json", &ev) == -1);
    CHECK(shoal_js_event_parse("shoal-js {\"event\":\"case\"}", &ev) == -1); /* no path */
    CHECK(shoal_js_event_parse("shoal-js {\"event\":\"final\",\"path\":\"/r/a.js\",\"fullName\":"
                               "\"d t\",\"status\":\"failed\",\"duration\":1500,\"message\":"
                               "\"boom\",\"ancestorTitles\":[\"d\"],\"title\":\"t\",\"line\":7}",
                               &ev) == 0);
    CHECK_STR(ev.event, "final");
    CHECK_STR(ev.path, "/r/a.js");
    CHECK_STR(ev.full_name, "d t");
    CHECK(shoal_js_outcome(ev.status) == SHOAL_OUTCOME_FAILED);
    CHECK(ev.seconds > 1.49 && ev.seconds < 1.51);
    CHECK(ev.line == 7);
    CHECK_STR(ev.ancestors[0], "d");
    CHECK(ev.ancestors[1] == NULL);
    shoal_js_event_clear(&ev);
    CHECK(shoal_js_outcome("pending") == SHOAL_OUTCOME_SKIPPED);
    CHECK(shoal_js_outcome("todo") == SHOAL_OUTCOME_SKIPPED);
    CHECK(shoal_js_outcome("passed") == SHOAL_OUTCOME_PASSED);
    CHECK(shoal_js_outcome("weird") == SHOAL_OUTCOME_ERROR);
    CHECK(shoal_js_outcome(NULL) == SHOAL_OUTCOME_ERROR);
}

void
test_node_driver_js_names_tests_by_file_and_describe_blocks(void)
{
    const char *const ancestors[] = {"outer", "inner", NULL};
    char *id = shoal_js_id("/r", "/r/src/a.test.js", ancestors, "adds");
    CHECK_STR(id, "src/a.test.js::outer > inner > adds");
    free(id);
    id = shoal_js_id("/r", "/elsewhere/b.test.js", NULL, "t");
    CHECK_STR(id, "/elsewhere/b.test.js::t");
    free(id);
    char *key = shoal_js_key("Outer ÉA b", true);
    CHECK_STR(key, "outer Éa b"); /* ASCII only: -t's i flag folds more */
    free(key);
    key = shoal_js_key("Outer", false);
    CHECK_STR(key, "Outer");
    free(key);
}

void
test_node_driver_js_filter_names_exactly_the_batch(void)
{
    const char *const names[] = {"a (1+1)", "b [x] .* $ ^ | {z} / \\", "c"};
    size_t taken = 0;
    char *re = shoal_js_regex(names, 3, NULL, 1000, &taken);
    CHECK(taken == 3);
    CHECK_STR(re, "^(?:a \\(1\\+1\\)|b \\[x\\] \\.\\* \\$ \\^ \\| \\{z\\} \\/ \\\\|c)$");
    free(re);
    re = shoal_js_regex(names, 3, "a|c", 1000, &taken);
    CHECK_STR(re, "^(?=[\\s\\S]*?(?:a|c))(?:a \\(1\\+1\\)|b \\[x\\] \\.\\* \\$ \\^ \\| \\{z\\} "
                  "\\/ \\\\|c)$");
    free(re);
    re = shoal_js_regex(names, 3, NULL, 20, &taken);
    CHECK(taken == 1); /* cut by size, but never empty */
    CHECK_STR(re, "^(?:a \\(1\\+1\\))$");
    free(re);
}
