/* Where reports go: the directories above a report are made (as pytest does
 * for --junitxml), and a path that cannot be written is refused with the path
 * and the cause, before or after the run.
 */
#include "harness.h"
#include "node/adapter.h"
#include "node/report.h"
#include "scratch.h"

#include <sys/stat.h>
#include <unistd.h>

#define TEST(g, n) void test_##g##_##n(void);
#include "node.list"
#undef TEST

static void
s_scratch(char *dir, size_t size)
{
    snprintf(dir, size, "/tmp/shoal-report-XXXXXX");
    CHECK(mkdtemp(dir) != NULL);
}

static bool
s_is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

void
test_node_report_path_ready_makes_directories(void)
{
    char dir[64], path[160], made[160], err[512];
    s_scratch(dir, sizeof(dir));
    snprintf(path, sizeof(path), "%s/a//b/c/r.xml", dir);
    CHECK_INT(shoal_report_path_ready(path, err, sizeof(err)), ==, 0);
    snprintf(made, sizeof(made), "%s/a/b/c", dir);
    CHECK(s_is_dir(made));
    CHECK(access(path, F_OK) != 0); /* the directories, not the report */
    /* Ready again: existing directories are fine; so is a bare file name. */
    CHECK_INT(shoal_report_path_ready(path, err, sizeof(err)), ==, 0);
    CHECK_INT(shoal_report_path_ready("r.xml", err, sizeof(err)), ==, 0);
    scratch_remove_tree(dir);
}

void
test_node_report_path_ready_names_path_and_cause(void)
{
    char dir[64], path[160], file[160], err[512];
    s_scratch(dir, sizeof(dir));
    /* A file where a directory should be. */
    snprintf(file, sizeof(file), "%s/plain", dir);
    FILE *f = fopen(file, "w");
    CHECK(f != NULL);
    fclose(f);
    snprintf(path, sizeof(path), "%s/plain/sub/r.xml", dir);
    CHECK_INT(shoal_report_path_ready(path, err, sizeof(err)), ==, -1);
    CHECK(strstr(err, path) != NULL);
    CHECK(strstr(err, "Not a directory") != NULL);
    snprintf(path, sizeof(path), "%s/plain/r.xml", dir);
    CHECK_INT(shoal_report_path_ready(path, err, sizeof(err)), ==, -1);
    CHECK(strstr(err, "Not a directory") != NULL);
    /* The report's own path is a directory. */
    CHECK_INT(shoal_report_path_ready(dir, err, sizeof(err)), ==, -1);
    CHECK(strstr(err, dir) != NULL);
    CHECK(strstr(err, "is a directory") != NULL);
    CHECK_INT(shoal_report_path_ready("", err, sizeof(err)), ==, -1);
    scratch_remove_tree(dir);
}

void
test_node_report_json_makes_missing_directories(void)
{
    char dir[64], path[160], err[512];
    s_scratch(dir, sizeof(dir));
    snprintf(path, sizeof(path), "%s/out/r.json", dir);
    shoal_item_t item = {.id = "t1", .outcome = 0, .seconds = 0.5, .node = "n1"};
    CHECK_INT(shoal_report_json(path, &item, 1, 0, err, sizeof(err)), ==, 0);
    FILE *f = fopen(path, "r");
    CHECK(f != NULL);
    char text[256] = "";
    CHECK(fread(text, 1, sizeof(text) - 1, f) > 0);
    fclose(f);
    CHECK(strstr(text, "\"id\":\"t1\"") != NULL);
    /* Unwritable: the path and the cause, no half file left behind. */
    char bad[200];
    snprintf(bad, sizeof(bad), "%s/r.json", path);
    CHECK_INT(shoal_report_json(bad, &item, 1, 0, err, sizeof(err)), ==, -1);
    CHECK(strstr(err, bad) != NULL);
    CHECK(strstr(err, "Not a directory") != NULL);
    scratch_remove_tree(dir);
}

/* The summary an item list gives with the report's options, as a string
 * (the caller frees it). */
static char *
s_summary(shoal_report_t *report, const shoal_item_t *items, size_t count)
{
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    CHECK(out != NULL);
    shoal_report_summary(report, out, items, count, 1, "", 1000);
    CHECK(fclose(out) == 0);
    return text;
}

/* pytest's -r picks the outcomes of the short summary (default fE: failures
 * and errors), -q drops the timing tables, and the closing line counts
 * xpasses as passed and xfails as skipped. */
void
test_node_report_short_summary_follows_reportchars(void)
{
    shoal_item_t items[] = {
        {.id = "t.py::a", .outcome = SHOAL_OUTCOME_FAILED, .node = "n", .message = "boom\nmore"},
        {.id = "t.py::b", .outcome = SHOAL_OUTCOME_SKIPPED, .node = "n", .message = "no db"},
        {.id = "t.py::c", .outcome = SHOAL_OUTCOME_XFAILED, .node = "n", .message = "XFAIL bug"},
        {.id = "t.py::d", .outcome = SHOAL_OUTCOME_XPASSED, .node = "n", .message = ""},
        {.id = "t.py::e", .outcome = SHOAL_OUTCOME_PASSED, .node = "n", .message = ""},
    };
    shoal_report_t report;
    shoal_report_init(&report, 5, 0);
    char *text = s_summary(&report, items, 5);
    CHECK(strstr(text, "FAILED t.py::a - boom\n") != NULL);
    CHECK(strstr(text, "SKIPPED t.py::b") == NULL);
    CHECK(strstr(text, "slowest:") != NULL);
    CHECK(strstr(text, "2 passed, 1 failed, 2 skipped\n") != NULL);
    CHECK(strstr(text, "1 xfailed, 1 xpassed") != NULL);
    free(text);
    shoal_report_options(&report, -1, "sxX");
    text = s_summary(&report, items, 5);
    CHECK(strstr(text, "FAILED t.py::a") == NULL);
    CHECK(strstr(text, "SKIPPED t.py::b - no db\n") != NULL);
    CHECK(strstr(text, "XFAIL t.py::c - XFAIL bug\n") != NULL);
    CHECK(strstr(text, "XPASS t.py::d\n") != NULL);
    CHECK(strstr(text, "slowest:") == NULL); /* -q */
    free(text);
}

/* A report is written to what the path names: through a symlink to its
 * target (the link stays a link), in place for a device (renaming a file
 * over /dev/null would replace the device), and a full disk is an error
 * naming the path and the cause, never a report written. */
void
test_node_report_writes_through_links_and_devices(void)
{
    char dir[64], target[160], link[160], err[512];
    s_scratch(dir, sizeof(dir));
    snprintf(target, sizeof(target), "%s/real.json", dir);
    snprintf(link, sizeof(link), "%s/link.json", dir);
    scratch_write(dir, "real.json", "old");
    CHECK(symlink("real.json", link) == 0);
    shoal_item_t item = {.id = (char *)"t", .outcome = SHOAL_OUTCOME_PASSED, .node = (char *)"n"};
    CHECK_INT(shoal_report_json(link, &item, 1, 0, err, sizeof(err)), ==, 0);
    struct stat st;
    CHECK(lstat(link, &st) == 0 && S_ISLNK(st.st_mode));
    FILE *in = fopen(target, "r");
    char text[64] = "";
    CHECK(in && fgets(text, sizeof(text), in));
    fclose(in);
    CHECK(strncmp(text, "{\"status\":0", 11) == 0);
    CHECK_INT(shoal_report_json("/dev/null", &item, 1, 0, err, sizeof(err)), ==, 0);
    CHECK(stat("/dev/null", &st) == 0 && S_ISCHR(st.st_mode));
    if (access("/dev/full", W_OK) == 0) {
        CHECK_INT(shoal_report_json("/dev/full", &item, 1, 0, err, sizeof(err)), ==, -1);
        CHECK(strstr(err, "/dev/full") && strstr(err, "No space left"));
        CHECK(stat("/dev/full", &st) == 0 && S_ISCHR(st.st_mode));
    }
    scratch_remove_tree(dir);
}
