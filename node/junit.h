/* node/junit.h: shoal's JUnit XML report (writer) and a streaming JUnit reader
 * (expat) for pytest reports, `shoal history import` and the simulator.
 * The writer's output depends only on the cases given (no timestamp, no host
 * of our own, cases sorted), so every participant of a session writes the
 * same bytes. Test ids map to classname/name as pytest does it (xunit1):
 * "tests/a/test_x.py::TestK::test_y[1]" <-> classname "tests.a.test_x.TestK",
 * name "test_y[1]", file "tests/a/test_x.py"; other ids have classname = suite,
 * a name that does not change between runs (shoal_junit_suite_name).
 */
#ifndef SHOAL_NODE_JUNIT_H
#define SHOAL_NODE_JUNIT_H

#include "node/adapter.h"

#include <stdbool.h>
#include <stddef.h>

typedef struct {
    const char *id, *file, *node; /* node = member name it ran on (hostname attribute) */
    shoal_outcome_t outcome;      /* never NOT_RUN; tests skipped by budget are SKIPPED
                                     with message "time limit" */
    double seconds;
    const char *message, *output; /* may be NULL */
    bool flaky;                   /* failed then passed on retry: a passed testcase with a
                                     <flakyFailure message=...> child */
    unsigned attempts;            /* > 1 adds a testcase property "attempts" */
} shoal_junit_case_t;

/* Writes testsuites/testsuite/testcase with failure/error/skipped children,
 * XML-escaped (characters XML cannot carry are dropped), cases sorted by id, to
 * path.tmp then renamed onto path; the directories above path are made first
 * (as pytest's --junitxml does). 0, or -1 with "cannot write 'PATH': cause"
 * in err. */
int shoal_junit_write(const char *path, const char *suite, const shoal_junit_case_t *cases,
                      size_t count, char *err, size_t err_size);

/* Reads every testcase of the file at path. The id is the pytest node id when
 * the testcase has a file attribute and a classname of that module, or, with
 * no file attribute (pytest's default xunit2), when a dotted prefix of the
 * classname names a .py file under the working directory (the longest one is
 * the module); the name alone when the classname is the enclosing testsuite's
 * name (how shoal writes list tests) or empty; else "classname::name". failure -> FAILED, error ->
 * ERROR, skipped (xfail too) -> SKIPPED, none -> PASSED. 0, or -1 with the
 * reason (naming the file, and the line for XML errors) in err; cases reported
 * before an error stay reported. */
int shoal_junit_read(const char *path,
                     void (*on_case)(void *ctx, const char *id, const char *file,
                                     shoal_outcome_t outcome, double seconds),
                     void *ctx, char *err, size_t err_size);

/* ---- additions: the raw records, and the id <-> names mapping ---- */

/* One testcase as written (all strings borrowed for the callback's duration,
 * "" when absent). message/text come from the deciding child (failure before
 * error before skipped); output is its system-out and system-err text. */
typedef struct {
    const char *suite, *classname, *name, *file;
    shoal_outcome_t outcome;
    double seconds;
    const char *message, *text, *output;
} shoal_junit_record_t;

#define SHOAL_JUNIT_TEXT_CAP (64 * 1024) /* text and output kept per testcase */

int shoal_junit_parse(const char *path,
                      void (*on_record)(void *ctx, const shoal_junit_record_t *record), void *ctx,
                      char *err, size_t err_size);

/* classname and name of id. With suite "pytest", as pytest's xunit1 writes
 * them when file is the path part of the id ("file::..."); with another
 * framework's suite, an id "UNIT::NAME" whose file is UNIT gives classname
 * UNIT and name NAME (the unit is what go's, cargo's and the JS frameworks'
 * JUnit writers use); else suite and id. Both out strings are the caller's.
 * -1 on out of memory. */
int shoal_junit_names(const char *id, const char *file, const char *suite, char **classname_out,
                      char **name_out);

/* The testsuite name of a session's report, which is also the classname of
 * tests without a file (list tests): the list file's name without its
 * directory and extension ("ci/smoke.list" -> "smoke"), or the adapter's
 * name without a list ("pytest", as pytest names its suite; "go", ...).
 * Stable from run to run, so CI keeps each test's history; "shoal.list" if
 * the file name leaves nothing. */
void shoal_junit_suite_name(const char *list_path, const char *adapter, char *out, size_t out_size);

/* The id of a testcase (see shoal_junit_read); the caller frees it. */
char *shoal_junit_id(const char *suite, const char *classname, const char *name, const char *file);

#endif
