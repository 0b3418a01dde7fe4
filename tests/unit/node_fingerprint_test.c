/* Toolchain fingerprints, as a daemon compares them with a session's: what
 * each adapter's toolchain says about itself in this environment and in one
 * whose PATH finds another toolchain, the reason given when the toolchain
 * cannot answer, and the digest of the files that pin the dependencies.
 */
#include "harness.h"
#include "node/adapter.h"
#include "node/fingerprint.h"
#include "scratch.h"

#include <stdbool.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

static void
s_make_program(const char *dir, const char *name, const char *text)
{
    scratch_write(dir, name, text);
    char path[256];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    CHECK_INT(chmod(path, 0755), ==, 0);
}

static shoal_adapter_t *
s_adapter(int argc, char *const *argv, const char *list_path)
{
    char err[512] = "";
    shoal_adapter_t *adapter = shoal_adapter_new(argc, argv, list_path, err, sizeof(err));
    if (!adapter)
        fprintf(stderr, "shoal_adapter_new: %s\n", err);
    CHECK(adapter != NULL);
    return adapter;
}

static int
s_fingerprint(const shoal_adapter_t *adapter, char *const *env, char *out, char *err)
{
    int rc = shoal_fingerprint_adapter(adapter, NULL, env, out, SHOAL_FINGERPRINT_MAX, err, 512);
    if (rc != 0)
        fprintf(stderr, "fingerprint: %s\n", err);
    return rc;
}

void test_node_fingerprint_list_is_bound_to_os_and_machine(void);
void
test_node_fingerprint_list_is_bound_to_os_and_machine(void)
{
    char dir[] = "/tmp/shoal-fingerprint-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    scratch_write(dir, "suite.list", "a\ttrue\n");
    char list[64];
    snprintf(list, sizeof(list), "%s/suite.list", dir);
    shoal_adapter_t *adapter = s_adapter(0, NULL, list);
    CHECK(shoal_adapter_dep_files(adapter) == NULL);
    struct utsname uts;
    CHECK_INT(uname(&uts), ==, 0);
    char expected[512], ours[SHOAL_FINGERPRINT_MAX], err[512];
    snprintf(expected, sizeof(expected), "%s %s", uts.sysname, uts.machine);
    CHECK_INT(s_fingerprint(adapter, NULL, ours, err), ==, 0);
    CHECK_STR(ours, expected);

    /* a session made on another machine */
    s_make_program(dir, "bin/uname", "#!/bin/sh\nprintf 'Linux\\taarch64\\n\\n'\n");
    char path[96];
    snprintf(path, sizeof(path), "PATH=%s/bin:/usr/bin:/bin", dir);
    char *env[] = {path, NULL};
    char theirs[SHOAL_FINGERPRINT_MAX];
    CHECK_INT(s_fingerprint(adapter, env, theirs, err), ==, 0);
    CHECK_STR(theirs, "Linux aarch64");
    char why[512];
    CHECK_INT(shoal_fingerprint_compare(ours, ours, why, sizeof(why)), ==, 0);
    CHECK_INT(shoal_fingerprint_compare(ours, theirs, why, sizeof(why)), ==, -1);
    snprintf(expected, sizeof(expected),
             "toolchain differs: the session's is 'Linux aarch64', this daemon's is '%s'", ours);
    CHECK_STR(why, expected);
    shoal_adapter_destroy(&adapter);
    scratch_remove_tree(dir);
}

static bool
s_is_python_and_pytest(const char *fingerprint)
{
    int py[3], pt[2], end = 0;
    return sscanf(fingerprint, "python %d.%d.%d pytest %d.%d%n", &py[0], &py[1], &py[2], &pt[0],
                  &pt[1], &end) == 5 &&
           end > 0 && py[0] == 3 && !strchr(fingerprint + end, ' ');
}

void test_node_fingerprint_pytest_names_python_and_pytest(void);
void
test_node_fingerprint_pytest_names_python_and_pytest(void)
{
    char *module[] = {"/usr/bin/python3", "-m", "pytest", "-q"};
    shoal_adapter_t *adapter = s_adapter(4, module, NULL);
    char by_module[SHOAL_FINGERPRINT_MAX], err[512];
    CHECK_INT(s_fingerprint(adapter, NULL, by_module, err), ==, 0);
    CHECK(s_is_python_and_pytest(by_module));
    shoal_adapter_destroy(&adapter);

    /* bare pytest runs with its script's interpreter: /usr/bin/pytest's */
    setenv("PATH", "/usr/bin:/bin", 1);
    char *bare[] = {"pytest", "-q"};
    adapter = s_adapter(2, bare, NULL);
    char **argv = shoal_adapter_toolchain_argv(adapter);
    CHECK(argv != NULL);
    CHECK_STR(argv[0], "/usr/bin/python3");
    shoal_adapter_argv_free(&argv);
    char by_script[SHOAL_FINGERPRINT_MAX];
    CHECK_INT(s_fingerprint(adapter, NULL, by_script, err), ==, 0);
    CHECK_STR(by_script, by_module);
    shoal_adapter_destroy(&adapter);
}

void test_node_fingerprint_python_without_pytest_says_so(void);
void
test_node_fingerprint_python_without_pytest_says_so(void)
{
    /* a Python that cannot import pytest: the system's, without site-packages */
    char dir[] = "/tmp/shoal-fingerprint-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    s_make_program(dir, "python3", "#!/bin/sh\nexec /usr/bin/python3 -S \"$@\"\n");
    char python[64];
    snprintf(python, sizeof(python), "%s/python3", dir);
    char *command[] = {python, "-m", "pytest"};
    shoal_adapter_t *adapter = s_adapter(3, command, NULL);
    char out[SHOAL_FINGERPRINT_MAX], err[512], expected[160];
    CHECK_INT(shoal_fingerprint_adapter(adapter, NULL, NULL, out, sizeof(out), err, sizeof(err)),
              ==, -1);
    snprintf(expected, sizeof(expected),
             "%s -c ...: exit 1: ModuleNotFoundError: No module named 'pytest'", python);
    CHECK_STR(err, expected);
    shoal_adapter_destroy(&adapter);
    scratch_remove_tree(dir);
}

void test_node_fingerprint_toolchain_output_is_one_clean_line(void);
void
test_node_fingerprint_toolchain_output_is_one_clean_line(void)
{
    char out[SHOAL_FINGERPRINT_MAX], err[512];
    char *spaced[] = {"printf", "  go version\\t\\tgo1.21.5 \\n\\n\\001 linux/amd64  \\n", NULL};
    CHECK_INT(shoal_fingerprint_toolchain(spaced, NULL, NULL, out, sizeof(out), err, sizeof(err)),
              ==, 0);
    CHECK_STR(out, "go version go1.21.5 linux/amd64");

    /* long: cut at 255 bytes, never inside a character */
    char *long_line[] = {"sh", "-c",
                         "i=0; while [ $i -lt 200 ]; do printf '\\303\\251'; "
                         "i=$((i+1)); done",
                         NULL};
    CHECK_INT(
        shoal_fingerprint_toolchain(long_line, NULL, NULL, out, sizeof(out), err, sizeof(err)), ==,
        0);
    CHECK_INT(strlen(out), ==, 254);
    CHECK_STR(out + 252, "\303\251");
    char small[8];
    CHECK_INT(
        shoal_fingerprint_toolchain(long_line, NULL, NULL, small, sizeof(small), err, sizeof(err)),
        ==, 0);
    CHECK_INT(strlen(small), ==, 6);

    /* invalid bytes are shown as '?' */
    char *invalid[] = {"printf", "a\\377b", NULL};
    CHECK_INT(shoal_fingerprint_toolchain(invalid, NULL, NULL, out, sizeof(out), err, sizeof(err)),
              ==, 0);
    CHECK_STR(out, "a?b");
}

void test_node_fingerprint_toolchain_failures_name_the_command(void);
void
test_node_fingerprint_toolchain_failures_name_the_command(void)
{
    char out[SHOAL_FINGERPRINT_MAX], err[512];
    char *missing[] = {"shoal-no-such-toolchain", "version", NULL};
    CHECK_INT(shoal_fingerprint_toolchain(missing, NULL, NULL, out, sizeof(out), err, sizeof(err)),
              ==, -1);
    CHECK_STR(err, "shoal-no-such-toolchain version: cannot run 'shoal-no-such-toolchain': No "
                   "such file or directory");
    char *silent[] = {"true", NULL};
    CHECK_INT(shoal_fingerprint_toolchain(silent, NULL, NULL, out, sizeof(out), err, sizeof(err)),
              ==, -1);
    CHECK_STR(err, "true: printed nothing");
    char *crashed[] = {"sh", "-c", "kill -9 $$", NULL};
    CHECK_INT(shoal_fingerprint_toolchain(crashed, NULL, NULL, out, sizeof(out), err, sizeof(err)),
              ==, -1);
    CHECK_STR(err, "sh -c ...: killed by signal 9");
}

static void
s_deps(const shoal_adapter_t *adapter, const char *dir, char out[SHOAL_FINGERPRINT_DEPS_HEX])
{
    char err[512] = "";
    int rc = shoal_fingerprint_deps(shoal_adapter_dep_files(adapter), dir, out, err, sizeof(err));
    if (rc != 0)
        fprintf(stderr, "shoal_fingerprint_deps: %s\n", err);
    CHECK_INT(rc, ==, 0);
}

void test_node_fingerprint_deps_follow_the_pinning_files(void);
void
test_node_fingerprint_deps_follow_the_pinning_files(void)
{
    char *command[] = {"pytest"};
    shoal_adapter_t *adapter = s_adapter(1, command, NULL);
    char dir[] = "/tmp/shoal-fingerprint-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char none[SHOAL_FINGERPRINT_DEPS_HEX], first[SHOAL_FINGERPRINT_DEPS_HEX],
        again[SHOAL_FINGERPRINT_DEPS_HEX];
    /* none: the digest of nothing (BLAKE2b-256 of no bytes) */
    s_deps(adapter, dir, none);
    CHECK_STR(none, "0e5751c026e543b2e8ab2eb06099daa1d1e5df47778f7787faab45cdf12fe3a8");
    char err[512];
    CHECK_INT(shoal_fingerprint_deps(NULL, dir, again, err, sizeof(err)), ==, 0);
    CHECK_STR(again, none);

    scratch_write(dir, "requirements.txt", "requests==2.31.0\n");
    scratch_write(dir, "pyproject.toml", "[project]\nname = 'x'\n");
    s_deps(adapter, dir, first);
    CHECK(strcmp(first, none) != 0);
    /* unrelated files, and pinning files below the directory, do not count */
    scratch_write(dir, "README.md", "hello\n");
    scratch_write(dir, "sub/requirements.txt", "numpy\n");
    scratch_write(dir, ".requirements.txt.swp", "x\n");
    char subdir[64];
    snprintf(subdir, sizeof(subdir), "%s/requirements-dir.txt", dir);
    CHECK_INT(mkdir(subdir, 0755), ==, 0);
    s_deps(adapter, dir, again);
    CHECK_STR(again, first);
    /* a changed or added pinning file does */
    scratch_write(dir, "requirements.txt", "requests==2.32.0\n");
    s_deps(adapter, dir, again);
    CHECK(strcmp(again, first) != 0);
    scratch_write(dir, "requirements.txt", "requests==2.31.0\n");
    s_deps(adapter, dir, again);
    CHECK_STR(again, first);
    scratch_write(dir, "requirements-dev.txt", "pytest\n");
    s_deps(adapter, dir, again);
    CHECK(strcmp(again, first) != 0);

    CHECK_INT(shoal_fingerprint_deps(shoal_adapter_dep_files(adapter), "/nonexistent-shoal", again,
                                     err, sizeof(err)),
              ==, -1);
    CHECK_STR(err, "cannot read directory '/nonexistent-shoal': No such file or directory");
    shoal_adapter_destroy(&adapter);
    scratch_remove_tree(dir);
}
