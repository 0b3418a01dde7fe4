/* The JUnit report: escaping (and dropping what XML cannot carry),
 * byte-identical output whatever the order of the cases, flaky tests, pytest's
 * classname/name mapping both ways, and reading reports back (ours and
 * pytest's own).
 */
#include "harness.h"
#include "node/junit.h"
#include "scratch.h"

#include <unistd.h>

#define TEST(g, n) void test_##g##_##n(void);
#include "node.list"
#undef TEST

static char *
s_slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    CHECK(f != NULL);
    static char buf[65536];
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    return strdup(buf);
}

static void
s_tmpfile(char *path, size_t size)
{
    snprintf(path, size, "/tmp/shoal-junit-XXXXXX");
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    close(fd);
}

typedef struct {
    shoal_junit_record_t records[16];
    char *strings[16][4];
    size_t count;
} s_records_t;

static void
s_keep_record(void *ctx, const shoal_junit_record_t *r)
{
    s_records_t *all = ctx;
    CHECK(all->count < 16);
    all->records[all->count] = *r;
    const char *fields[4] = {r->classname, r->name, r->message, r->text};
    for (size_t i = 0; i < 4; i++)
        all->strings[all->count][i] = strdup(fields[i]);
    all->records[all->count].classname = all->strings[all->count][0];
    all->records[all->count].name = all->strings[all->count][1];
    all->records[all->count].message = all->strings[all->count][2];
    all->records[all->count].text = all->strings[all->count][3];
    all->count++;
}

static void
s_records_free(s_records_t *all)
{
    for (size_t i = 0; i < all->count; i++)
        for (size_t k = 0; k < 4; k++)
            free(all->strings[i][k]);
}

void
test_node_junit_escapes_text(void)
{
    char path[64], err[256];
    s_tmpfile(path, sizeof(path));
    shoal_junit_case_t c = {
        .id = "t<1>&\"q\"",
        .node = "n'1",
        .outcome = SHOAL_OUTCOME_FAILED,
        .seconds = 0.25,
        .message = "bad <&> \"quoted\"\nsecond line\x01\x1b[0m",
        .output = "out ]]> <tag> \xff\xfe bytes \xc3\xa9 \r\n",
    };
    CHECK_INT(shoal_junit_write(path, "suite&co", &c, 1, err, sizeof(err)), ==, 0);
    s_records_t all = {0};
    CHECK_INT(shoal_junit_parse(path, s_keep_record, &all, err, sizeof(err)), ==, 0);
    CHECK_INT(all.count, ==, 1);
    CHECK_STR(all.records[0].classname, "suite&co");
    CHECK_STR(all.records[0].name, "t<1>&\"q\"");
    /* What XML cannot carry is written as pytest's junitxml writes it. */
    CHECK_STR(all.records[0].message, "bad <&> \"quoted\"\nsecond line#x01#x1B[0m");
    CHECK_STR(all.records[0].text, "out ]]> <tag> #xFF#xFE bytes \xc3\xa9 \r\n");
    CHECK_INT(all.records[0].outcome, ==, SHOAL_OUTCOME_FAILED);
    s_records_free(&all);
    char *xml = s_slurp(path);
    CHECK(strstr(xml, "hostname=\"n'1\"") != NULL);
    CHECK(strstr(xml, "failures=\"1\"") != NULL);
    CHECK(strstr(xml, "time=\"0.250\"") != NULL);
    free(xml);
    unlink(path);
}

static const shoal_junit_case_t s_cases[] = {
    {.id = "tests/a/test_x.py::TestK::test_y[1]",
     .file = "tests/a/test_x.py",
     .node = "n1",
     .outcome = SHOAL_OUTCOME_PASSED,
     .seconds = 1.5},
    {.id = "tests/a/test_x.py::test_fail",
     .file = "tests/a/test_x.py",
     .node = "n2",
     .outcome = SHOAL_OUTCOME_FAILED,
     .seconds = 0.125,
     .message = "assert 1 == 2",
     .output = "Traceback"},
    {.id = "tests/test_e.py::test_err",
     .file = "tests/test_e.py",
     .node = "n1",
     .outcome = SHOAL_OUTCOME_ERROR,
     .seconds = 0.001,
     .message = "fixture"},
    {.id = "tests/test_e.py::test_late",
     .file = "tests/test_e.py",
     .node = "n2",
     .outcome = SHOAL_OUTCOME_SKIPPED,
     .message = "time limit"},
    {.id = "tests/test_e.py::test_flaky",
     .file = "tests/test_e.py",
     .node = "n1",
     .outcome = SHOAL_OUTCOME_PASSED,
     .seconds = 2,
     .flaky = true,
     .attempts = 2,
     .message = "first try failed",
     .output = "E assert 0"},
    {.id = "plain-list-test",
     .file = "",
     .node = "n3",
     .outcome = SHOAL_OUTCOME_PASSED,
     .seconds = 0.5},
};
#define S_CASES (sizeof(s_cases) / sizeof(s_cases[0]))

void
test_node_junit_is_deterministic(void)
{
    char a[64], b[64], err[256];
    s_tmpfile(a, sizeof(a));
    s_tmpfile(b, sizeof(b));
    shoal_junit_case_t reversed[S_CASES];
    for (size_t i = 0; i < S_CASES; i++)
        reversed[i] = s_cases[S_CASES - 1 - i];
    CHECK_INT(shoal_junit_write(a, "shoal", s_cases, S_CASES, err, sizeof(err)), ==, 0);
    CHECK_INT(shoal_junit_write(b, "shoal", reversed, S_CASES, err, sizeof(err)), ==, 0);
    char *xa = s_slurp(a), *xb = s_slurp(b);
    CHECK_STR(xa, xb);
    CHECK(strstr(xa, "tests=\"6\" failures=\"1\" errors=\"1\" skipped=\"1\" time=\"4.126\"") !=
          NULL);
    CHECK(strstr(xa, "timestamp") == NULL);
    /* sorted by id: the list test sorts before "tests/..." */
    CHECK(strstr(xa, "plain-list-test") < strstr(xa, "test_x"));
    free(xa);
    free(xb);
    char tmp[80];
    snprintf(tmp, sizeof(tmp), "%s.tmp", a);
    CHECK(access(tmp, F_OK) != 0);
    unlink(a);
    unlink(b);
}

void
test_node_junit_writes_flaky_failure(void)
{
    char path[64], err[256];
    s_tmpfile(path, sizeof(path));
    CHECK_INT(shoal_junit_write(path, "shoal", &s_cases[4], 1, err, sizeof(err)), ==, 0);
    char *xml = s_slurp(path);
    CHECK(strstr(xml, "failures=\"0\" errors=\"0\" skipped=\"0\"") != NULL);
    CHECK(strstr(xml, "<flakyFailure message=\"first try failed\" type=\"failure\">"
                      "<stackTrace>E assert 0</stackTrace></flakyFailure>") != NULL);
    CHECK(strstr(xml, "<property name=\"attempts\" value=\"2\"/>") != NULL);
    CHECK(strstr(xml, "<failure") == NULL);
    free(xml);
    unlink(path);
}

void
test_node_junit_maps_pytest_names(void)
{
    char *classname, *name;
    CHECK_INT(shoal_junit_names("tests/sub/test_a.py::TestK::TestInner::test_n[a::b.c]",
                                "tests/sub/test_a.py", "pytest", &classname, &name),
              ==, 0);
    CHECK_STR(classname, "tests.sub.test_a.TestK.TestInner");
    CHECK_STR(name, "test_n[a::b.c]");
    char *id = shoal_junit_id("pytest", classname, name, "tests/sub/test_a.py");
    CHECK_STR(id, "tests/sub/test_a.py::TestK::TestInner::test_n[a::b.c]");
    free(id);
    free(classname);
    free(name);
    CHECK_INT(shoal_junit_names("test_top.py::test_x", "test_top.py", "pytest", &classname, &name),
              ==, 0);
    CHECK_STR(classname, "test_top");
    CHECK_STR(name, "test_x");
    free(classname);
    free(name);
    CHECK_INT(shoal_junit_names("list-name", "", "suite", &classname, &name), ==, 0);
    CHECK_STR(classname, "suite");
    CHECK_STR(name, "list-name");
    free(classname);
    free(name);
    id = shoal_junit_id("suite", "other.Class", "test", NULL);
    CHECK_STR(id, "other.Class::test");
    free(id);
}

void
test_node_junit_maps_unit_names(void)
{
    /* Other frameworks: "UNIT::NAME" with the unit as classname, verbatim
     * (go-junit-report's package path, not a dotted module), and back. */
    char *classname, *name;
    CHECK_INT(shoal_junit_names("example.org/m/pkg::TestA/sub.x", "example.org/m/pkg", "go",
                                &classname, &name),
              ==, 0);
    CHECK_STR(classname, "example.org/m/pkg");
    CHECK_STR(name, "TestA/sub.x");
    char *id = shoal_junit_id("go", classname, name, classname);
    CHECK_STR(id, "example.org/m/pkg::TestA/sub.x");
    free(id);
    free(classname);
    free(name);
}

typedef struct {
    char ids[16][128];
    shoal_outcome_t outcomes[16];
    double seconds[16];
    size_t count;
} s_cases_t;

static void
s_keep_case(void *ctx, const char *id, const char *file, shoal_outcome_t outcome, double seconds)
{
    (void)file;
    s_cases_t *all = ctx;
    CHECK(all->count < 16);
    snprintf(all->ids[all->count], sizeof(all->ids[0]), "%s", id);
    all->outcomes[all->count] = outcome;
    all->seconds[all->count] = seconds;
    all->count++;
}

void
test_node_junit_reads_back_ids(void)
{
    char path[64], err[256];
    s_tmpfile(path, sizeof(path));
    CHECK_INT(shoal_junit_write(path, "shoal", s_cases, S_CASES, err, sizeof(err)), ==, 0);
    s_cases_t all = {0};
    CHECK_INT(shoal_junit_read(path, s_keep_case, &all, err, sizeof(err)), ==, 0);
    CHECK_INT(all.count, ==, S_CASES);
    for (size_t i = 0; i < S_CASES; i++) {
        size_t k = 0;
        while (k < all.count && strcmp(all.ids[k], s_cases[i].id) != 0)
            k++;
        if (k == all.count)
            fprintf(stderr, "missing %s\n", s_cases[i].id);
        CHECK(k < all.count);
        CHECK_INT(all.outcomes[k], ==, s_cases[i].outcome);
        CHECK(all.seconds[k] > s_cases[i].seconds - 0.001 &&
              all.seconds[k] < s_cases[i].seconds + 0.001);
    }
    unlink(path);
}

void
test_node_junit_reads_pytest_report(void)
{
    char path[64], err[256];
    s_tmpfile(path, sizeof(path));
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    fputs("<?xml version=\"1.0\" encoding=\"utf-8\"?><testsuites><testsuite name=\"pytest\" "
          "errors=\"1\" failures=\"1\" skipped=\"2\" tests=\"6\" time=\"0.033\">"
          "<testcase classname=\"tests.sub.test_a\" name=\"test_pass\" "
          "file=\"tests/sub/test_a.py\" line=\"4\" time=\"0.001\" />"
          "<testcase classname=\"tests.sub.test_a\" name=\"test_fail\" "
          "file=\"tests/sub/test_a.py\" time=\"1,234.5\"><failure message=\"nope\">tb"
          "</failure><system-out>printed</system-out></testcase>"
          "<testcase classname=\"tests.sub.test_a\" name=\"test_err\" "
          "file=\"tests/sub/test_a.py\" time=\"0\"><error message=\"boom\">x</error></testcase>"
          "<testcase classname=\"tests.sub.test_a\" name=\"test_xf\" "
          "file=\"tests/sub/test_a.py\" time=\"0\"><skipped type=\"pytest.xfail\" "
          "message=\"known\" /></testcase>"
          "<testcase classname=\"tests.sub.test_a.TestK.TestInner\" name=\"test_n[1]\" "
          "file=\"tests/sub/test_a.py\" time=\"0.000\" />"
          "<testcase classname=\"Other\" name=\"t\" time=\"2\" />"
          "</testsuite></testsuites>",
          f);
    fclose(f);
    s_cases_t all = {0};
    CHECK_INT(shoal_junit_read(path, s_keep_case, &all, err, sizeof(err)), ==, 0);
    CHECK_INT(all.count, ==, 6);
    CHECK_STR(all.ids[0], "tests/sub/test_a.py::test_pass");
    CHECK_STR(all.ids[1], "tests/sub/test_a.py::test_fail");
    CHECK(all.seconds[1] > 1234.4 && all.seconds[1] < 1234.6);
    CHECK_INT(all.outcomes[1], ==, SHOAL_OUTCOME_FAILED);
    CHECK_INT(all.outcomes[2], ==, SHOAL_OUTCOME_ERROR);
    CHECK_INT(all.outcomes[3], ==, SHOAL_OUTCOME_SKIPPED);
    CHECK_STR(all.ids[4], "tests/sub/test_a.py::TestK::TestInner::test_n[1]");
    CHECK_STR(all.ids[5], "Other::t");

    /* malformed: the line is named, cases before the error stay reported */
    f = fopen(path, "w");
    CHECK(f != NULL);
    fputs("<testsuite name=\"x\">\n<testcase name=\"a\"/>\n<testcase name=\"b\" time=\"-1\"/>\n",
          f);
    fclose(f);
    all.count = 0;
    CHECK_INT(shoal_junit_read(path, s_keep_case, &all, err, sizeof(err)), ==, -1);
    CHECK(strstr(err, ":3: testcase time is not a non-negative number") != NULL);
    CHECK_INT(all.count, ==, 1);
    CHECK_STR(all.ids[0], "a");
    unlink(path);
    CHECK_INT(shoal_junit_read(path, s_keep_case, &all, err, sizeof(err)), ==, -1);
    CHECK(strstr(err, "cannot open") != NULL);
}

void
test_node_junit_makes_missing_directories(void)
{
    /* As pytest's --junitxml: `--junit out/reports/r.xml` in a fresh
     * checkout writes the report, it does not lose it. */
    char dir[64], path[128], err[512];
    snprintf(dir, sizeof(dir), "/tmp/shoal-junit-XXXXXX");
    CHECK(mkdtemp(dir) != NULL);
    snprintf(path, sizeof(path), "%s/out/reports/r.xml", dir);
    CHECK_INT(shoal_junit_write(path, "shoal", s_cases, S_CASES, err, sizeof(err)), ==, 0);
    s_cases_t all = {0};
    CHECK_INT(shoal_junit_read(path, s_keep_case, &all, err, sizeof(err)), ==, 0);
    CHECK_INT(all.count, ==, S_CASES);
    /* What cannot be written is an error naming the path and the cause. */
    char file[160];
    snprintf(file, sizeof(file), "%s/out/reports/r.xml/deeper.xml", dir);
    CHECK_INT(shoal_junit_write(file, "s", s_cases, 1, err, sizeof(err)), ==, -1);
    CHECK(strstr(err, file) != NULL);
    CHECK(strstr(err, "Not a directory") != NULL);
    snprintf(file, sizeof(file), "%s/out", dir);
    CHECK_INT(shoal_junit_write(file, "s", s_cases, 1, err, sizeof(err)), ==, -1);
    CHECK(strstr(err, file) != NULL);
    CHECK(strstr(err, "is a directory") != NULL);
    scratch_remove_tree(dir);
}

void
test_node_junit_list_classname_is_stable(void)
{
    /* The suite (and list tests' classname) comes from the list file, not
     * the session id, so every run names a test alike and CI keeps its
     * history. */
    char suite[128];
    shoal_junit_suite_name("ci/lists/smoke.list", "pytest", suite, sizeof(suite));
    CHECK_STR(suite, "smoke");
    shoal_junit_suite_name("smoke.tests.txt", "pytest", suite, sizeof(suite));
    CHECK_STR(suite, "smoke.tests");
    shoal_junit_suite_name("tests", "pytest", suite, sizeof(suite));
    CHECK_STR(suite, "tests");
    shoal_junit_suite_name("dir/", "pytest", suite, sizeof(suite));
    CHECK_STR(suite, "shoal.list");
    shoal_junit_suite_name(NULL, "pytest", suite, sizeof(suite));
    CHECK_STR(suite, "pytest");
    shoal_junit_suite_name(NULL, "go", suite, sizeof(suite));
    CHECK_STR(suite, "go");

    char path[64], err[256];
    s_tmpfile(path, sizeof(path));
    shoal_junit_suite_name("ci/lists/smoke.list", "pytest", suite, sizeof(suite));
    CHECK_INT(shoal_junit_write(path, suite, s_cases, S_CASES, err, sizeof(err)), ==, 0);
    char *xml = s_slurp(path);
    CHECK(strstr(xml, "<testsuite name=\"smoke\"") != NULL);
    CHECK(strstr(xml, "<testcase classname=\"smoke\" name=\"plain-list-test\"") != NULL);
    free(xml);
    /* Read back (history import), the list test is its name again. */
    s_cases_t all = {0};
    CHECK_INT(shoal_junit_read(path, s_keep_case, &all, err, sizeof(err)), ==, 0);
    bool found = false;
    for (size_t i = 0; i < all.count; i++)
        found |= strcmp(all.ids[i], "plain-list-test") == 0;
    CHECK(found);
    unlink(path);
}
