/* The history store: record/load round trip, the window of the last 8
 * durations (oldest first, as the EWMA wants them), failures and flakiness over
 * the last 8 runs, what skipped and not-run results leave behind, JUnit import,
 * projects kept apart, and clear errors for a path that cannot be a database.
 */
#include "harness.h"
#include "scratch.h"
#include "node/cmd_history.h"
#include "node/history.h"
#include "node/junit.h"

#include <ftw.h>
#include <math.h>
#include <sys/stat.h>
#include <unistd.h>

#define TEST(g, n) void test_##g##_##n(void);
#include "node.list"
#undef TEST

static char s_dir[64];

static const char *
s_db(void)
{
    static char path[128];
    snprintf(s_dir, sizeof(s_dir), "/tmp/shoal-history-XXXXXX");
    CHECK(mkdtemp(s_dir) != NULL);
    snprintf(path, sizeof(path), "%s/deeper/dir/history.db", s_dir);
    return path;
}

static void
s_cleanup(void)
{
    scratch_remove_tree(s_dir);
}

static shoal_history_t *
s_open(const char *path)
{
    char err[512] = "";
    shoal_history_t *h = shoal_history_open(path, err, sizeof(err));
    if (!h)
        fprintf(stderr, "%s\n", err);
    CHECK(h != NULL);
    return h;
}

static void
s_record1(shoal_history_t *h, const char *project, const char *id, shoal_outcome_t outcome,
          double seconds, uint64_t now)
{
    const char *ids[] = {id};
    CHECK_INT(shoal_history_record(h, project, ids, &outcome, &seconds, 1, now), ==, 0);
}

static const shoal_history_entry_t *
s_find(const shoal_history_entry_t *entries, size_t count, const char *id)
{
    for (size_t i = 0; i < count; i++)
        if (strcmp(entries[i].id, id) == 0)
            return &entries[i];
    return NULL;
}

void
test_node_history_records_and_loads(void)
{
    const char *path = s_db();
    shoal_history_t *h = s_open(path);
    const char *ids[] = {"b::t", "a::t", "skipped::t", "notrun::t"};
    shoal_outcome_t outcomes[] = {SHOAL_OUTCOME_PASSED, SHOAL_OUTCOME_FAILED, SHOAL_OUTCOME_SKIPPED,
                                  SHOAL_OUTCOME_NOT_RUN};
    double seconds[] = {0.5, 2.0, 9.0, 9.0};
    CHECK_INT(shoal_history_record(h, "proj", ids, outcomes, seconds, 4, 1000), ==, 0);
    shoal_history_close(&h);
    shoal_history_close(&h);
    CHECK(h == NULL);

    h = s_open(path); /* survives a reopen */
    shoal_history_entry_t *e;
    size_t n;
    CHECK_INT(shoal_history_load(h, "proj", &e, &n), ==, 0);
    CHECK_INT(n, ==, 3);
    CHECK_STR(e[0].id, "a::t"); /* sorted by id */
    CHECK_INT(e[0].count, ==, 1);
    CHECK(e[0].durations[0] == 2.0);
    CHECK_INT(e[0].recent_failures, ==, 1);
    CHECK(e[0].last_failed);
    CHECK_INT(e[0].last_run, ==, 1000);
    CHECK_INT(e[0].runs, ==, 1);
    CHECK_STR(e[1].id, "b::t");
    CHECK(!e[1].last_failed);
    CHECK_STR(e[2].id, "skipped::t"); /* seen, but no duration and no run */
    CHECK_INT(e[2].count, ==, 0);
    CHECK_INT(e[2].runs, ==, 0);
    CHECK_INT(e[2].last_run, ==, 1000);
    shoal_history_entries_free(&e, n);
    CHECK(e == NULL);

    CHECK_INT(shoal_history_load(h, "other", &e, &n), ==, 0);
    CHECK_INT(n, ==, 0);
    shoal_history_entries_free(&e, n);
    shoal_history_close(&h);
    s_cleanup();
}

void
test_node_history_keeps_last_eight_durations(void)
{
    shoal_history_t *h = s_open(s_db());
    for (int i = 1; i <= 10; i++)
        s_record1(h, "p", "t", SHOAL_OUTCOME_PASSED, i * 0.1, 100 + (uint64_t)i);
    shoal_history_entry_t *e;
    size_t n;
    CHECK_INT(shoal_history_load(h, "p", &e, &n), ==, 0);
    CHECK_INT(n, ==, 1);
    CHECK_INT(e[0].count, ==, 8);
    for (size_t i = 0; i < 8; i++) /* oldest first: 0.3 .. 1.0 */
        CHECK(fabs(e[0].durations[i] - (double)(i + 3) * 0.1) < 1e-12);
    CHECK_INT(e[0].runs, ==, 10);
    CHECK_INT(e[0].last_run, ==, 110);
    CHECK(e[0].flakiness == 0.0);
    shoal_history_entries_free(&e, n);
    shoal_history_close(&h);
    s_cleanup();
}

void
test_node_history_counts_failures_and_flakiness(void)
{
    shoal_history_t *h = s_open(s_db());
    /* 10 runs; the last 8 are P P F E P P P P: 2 failures, 2 flips in 7 steps */
    const char runs[] = "FFPPFEPPPP";
    for (size_t i = 0; runs[i]; i++) {
        shoal_outcome_t o = runs[i] == 'P'   ? SHOAL_OUTCOME_PASSED
                            : runs[i] == 'F' ? SHOAL_OUTCOME_FAILED
                                             : SHOAL_OUTCOME_ERROR;
        s_record1(h, "p", "t", o, 1.0, 1);
    }
    s_record1(h, "p", "t", SHOAL_OUTCOME_SKIPPED, 1.0, 2); /* changes nothing but last_run */
    shoal_history_entry_t *e;
    size_t n;
    CHECK_INT(shoal_history_load(h, "p", &e, &n), ==, 0);
    CHECK_INT(e[0].recent_failures, ==, 2);
    CHECK(!e[0].last_failed);
    CHECK(fabs(e[0].flakiness - 2.0 / 7.0) < 1e-12);
    CHECK_INT(e[0].last_run, ==, 2);
    shoal_history_entries_free(&e, n);

    s_record1(h, "p", "t", SHOAL_OUTCOME_FAILED, 1.0, 3);
    CHECK_INT(shoal_history_load(h, "p", &e, &n), ==, 0);
    CHECK(e[0].last_failed);
    CHECK_INT(e[0].recent_failures, ==, 3);
    shoal_history_entries_free(&e, n);
    shoal_history_close(&h);
    s_cleanup();
}

void
test_node_history_imports_junit(void)
{
    const char *path = s_db();
    shoal_history_t *h = s_open(path);
    char xml[128], err[512];
    snprintf(xml, sizeof(xml), "%s/report.xml", s_dir);
    shoal_junit_case_t cases[] = {
        {.id = "tests/test_a.py::TestK::test_y[1]",
         .file = "tests/test_a.py",
         .node = "n1",
         .outcome = SHOAL_OUTCOME_PASSED,
         .seconds = 1.25},
        {.id = "tests/test_a.py::test_z",
         .file = "tests/test_a.py",
         .node = "n1",
         .outcome = SHOAL_OUTCOME_FAILED,
         .seconds = 0.5,
         .message = "x"},
        {.id = "list-test",
         .file = "",
         .node = "n2",
         .outcome = SHOAL_OUTCOME_PASSED,
         .seconds = 3},
    };
    CHECK_INT(shoal_junit_write(xml, "suite", cases, 3, err, sizeof(err)), ==, 0);
    CHECK_INT(shoal_history_import(h, "imp", xml, 77, err, sizeof(err)), ==, 3);
    shoal_history_entry_t *e;
    size_t n;
    CHECK_INT(shoal_history_load(h, "imp", &e, &n), ==, 0);
    CHECK_INT(n, ==, 3);
    const shoal_history_entry_t *y = s_find(e, n, "tests/test_a.py::TestK::test_y[1]");
    CHECK(y && y->count == 1 && y->durations[0] == 1.25 && y->last_run == 77);
    const shoal_history_entry_t *z = s_find(e, n, "tests/test_a.py::test_z");
    CHECK(z && z->last_failed);
    CHECK(s_find(e, n, "list-test") != NULL);
    shoal_history_entries_free(&e, n);

    CHECK_INT(shoal_history_import(h, "imp", "/nonexistent.xml", 77, err, sizeof(err)), ==, -1);
    CHECK(strstr(err, "/nonexistent.xml: cannot open") != NULL);
    shoal_history_close(&h);

    /* the command line: import then show (table and JSON) */
    char *import[] = {"history", "import", "--db", (char *)path, "--project", "cli", xml, NULL};
    CHECK_INT(shoal_cmd_history(7, import), ==, 0);
    char *show[] = {"history", "show", "--db", (char *)path, "--project", "cli", "--json", NULL};
    CHECK_INT(shoal_cmd_history(7, show), ==, 0);
    CHECK_INT(shoal_cmd_history(6, show), ==, 0);
    char *bad[] = {"history", "forget", NULL};
    CHECK_INT(shoal_cmd_history(2, bad), ==, 2);
    h = s_open(path);
    CHECK_INT(shoal_history_load(h, "cli", &e, &n), ==, 0);
    CHECK_INT(n, ==, 3);
    shoal_history_entries_free(&e, n);
    shoal_history_close(&h);
    s_cleanup();
}

void
test_node_history_unusable_path_is_clear_error(void)
{
    s_db();
    char file[128], path[160], err[512] = "";
    snprintf(file, sizeof(file), "%s/plain-file", s_dir);
    FILE *f = fopen(file, "w");
    CHECK(f != NULL);
    fputs("this is not a database, not even close; it is just some text in a file\n", f);
    fclose(f);

    snprintf(path, sizeof(path), "%s/history.db", file); /* under a regular file */
    CHECK(shoal_history_open(path, err, sizeof(err)) == NULL);
    CHECK(strstr(err, "cannot create history directory") != NULL);
    CHECK(strstr(err, "Not a directory") != NULL);

    CHECK(shoal_history_open(file, err, sizeof(err)) == NULL); /* not a database */
    CHECK(strstr(err, "cannot open history database") != NULL);
    CHECK(strstr(err, "not a database") != NULL);

    /* the default location follows XDG_DATA_HOME */
    char data[128];
    snprintf(data, sizeof(data), "%s/xdg", s_dir);
    setenv("XDG_DATA_HOME", data, 1);
    shoal_history_t *h = s_open(NULL);
    snprintf(path, sizeof(path), "%s/shoal/history.db", data);
    CHECK_STR(shoal_history_path(h), path);
    CHECK_STR(shoal_history_error(h), "");
    shoal_history_close(&h);
    s_cleanup();
}

/* An xfail or an xpass is what the test said it would do: never a failure
 * (which would put it first and count it flaky); a test not run (after
 * --maxfail stopped a session) records nothing. */
void
test_node_history_xfail_is_no_failure(void)
{
    shoal_history_t *h = s_open(s_db());
    s_record1(h, "p", "x", SHOAL_OUTCOME_XFAILED, 1.0, 1);
    s_record1(h, "p", "x", SHOAL_OUTCOME_XPASSED, 1.0, 2);
    s_record1(h, "p", "x", SHOAL_OUTCOME_XFAILED, 1.0, 3);
    s_record1(h, "p", "x", SHOAL_OUTCOME_NOT_RUN, 0.0, 4);
    shoal_history_entry_t *e;
    size_t n;
    CHECK_INT(shoal_history_load(h, "p", &e, &n), ==, 0);
    CHECK_INT(n, ==, 1);
    CHECK_INT(e[0].recent_failures, ==, 0);
    CHECK(!e[0].last_failed);
    CHECK(e[0].flakiness == 0.0);
    CHECK_INT(e[0].count, ==, 3);
    shoal_history_entries_free(&e, n);
    shoal_history_close(&h);
    s_cleanup();
}
