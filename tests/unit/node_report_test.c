/* Where reports go: the directories above a report are made (as pytest does
 * for --junitxml), and a path that cannot be written is refused with the path
 * and the cause, before or after the run.
 */
#include "harness.h"
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
