/* node/driver_ctest.h: the parts of the ctest driver (driver_ctest.c) that
 * read ctest's words without running it: the user's options, the JSON
 * listing (`--show-only=json-v1`), the test numbers of `-N`, and the
 * progress lines of a run. Declared here so unit tests reach them.
 */
#ifndef SHOAL_NODE_DRIVER_CTEST_H
#define SHOAL_NODE_DRIVER_CTEST_H

#include "node/adapter.h"
#include "node/junit.h"

#include <stdbool.h>
#include <stddef.h>

/* What shoal must know of the user's ctest options. */
typedef struct {
    bool stop_on_failure; /* --stop-on-failure: the session's maxfail 1 */
    bool parallel;        /* -j/--parallel: shoal's slots replace it */
    const char *test_dir; /* --test-dir's value (borrowed), or NULL */
} shoal_ctest_options_t;

/* Reads argv[1..argc) (argv[0] is ctest). 0, or -1 with why in err for an
 * option that cannot work distributed (listing modes, dashboards,
 * --rerun-failed, --output-junit). */
int shoal_ctest_options(int argc, char *const *argv, shoal_ctest_options_t *out, char *err,
                        size_t err_size);
/* How many words from argv[i] a batch's invocation leaves out of the user's
 * command: --stop-on-failure (the session stops instead, after the batch),
 * and the selection options with their value (-R, -E, -L, -LE, -I, -U: the
 * listing applied them; -I's numbers count only what they leave). 0 to keep
 * argv[i]. */
size_t shoal_ctest_batch_drops(int argc, char *const *argv, int i);

/* One test of the JSON listing, in ctest's order. */
typedef struct {
    char *name, *id; /* ctest's name; shoal's id (the name, or DIR::NAME for a name
                        that several directories use) */
    char *key;       /* what tells the test apart in another listing of the project */
    char *file;      /* where add_test is (relative to the working directory if under
                        it), or "" */
    unsigned line;
    bool disabled; /* DISABLED: ctest never runs it and says "Disabled" */
    bool serial;   /* RUN_SERIAL, RESOURCE_LOCK or RESOURCE_GROUPS: not
                      honoured across slots */
} shoal_ctest_test_t;

/* Parses the JSON text of `ctest --show-only=json-v1`. test_dir is ctest's
 * test directory (absolute), cwd the working directory (absolute), both for
 * naming. 0 with *tests_out (shoal_ctest_tests_free) and *count_out, or -1
 * with why in err. */
int shoal_ctest_list_parse(const char *json, const char *test_dir, const char *cwd,
                           shoal_ctest_test_t **tests_out, size_t *count_out, char *err,
                           size_t err_size);
void shoal_ctest_tests_free(shoal_ctest_test_t *tests, size_t count);

/* Finds each test of some[0..some_count) (the listing of the user's
 * command) in all[0..all_count) (the listing without the selection options:
 * every test, in ctest's order). Its position there (from 1) is its number
 * in number_out, what -I takes when no selection is given; its id becomes
 * all's, so an id does not depend on the selection. 0, or -1 with err if a
 * test is not in all. */
int shoal_ctest_match(shoal_ctest_test_t *some, size_t some_count, const shoal_ctest_test_t *all,
                      size_t all_count, unsigned *number_out, char *err, size_t err_size);
/* "    Start 12: name": 12, with *name_out at the name. 0 if not one. */
unsigned shoal_ctest_started(const char *line, const char **name_out);
/* " 3/14 Test  #12: name ....***Failed  0.01 sec" (the N/M part is absent
 * when --repeat runs a test again): 12, with *rest_out at the name. 0 if not
 * one. */
unsigned shoal_ctest_ended(const char *line, const char **rest_out);
/* From rest (as shoal_ctest_ended leaves it) of the test called name, ctest's
 * words for how it ended ("Passed", "Failed", "Exception: SegFault",
 * "Timeout", "Skipped", "Not Run (Disabled)") into status, and the seconds it
 * took. false if rest does not start with name. */
bool shoal_ctest_status(const char *rest, const char *name, char *status, size_t status_size,
                        double *seconds);
/* The outcome those words mean, by ctest's rule: Passed; Skipped (a
 * SKIP_RETURN_CODE or SKIP_REGULAR_EXPRESSION) and Disabled are skipped;
 * another Not Run (a missing executable, a failed fixture) is an error, as
 * ctest counts it failed; anything else failed. */
shoal_outcome_t shoal_ctest_status_outcome(const char *status);
/* The outcome of a testcase of ctest's JUnit file (read by junit.c), by the
 * same rule, with status the words of its result line ("" if none), which
 * also name a failure the file leaves blank; *message: the message to give
 * (borrowed from r or status). */
shoal_outcome_t shoal_ctest_junit_outcome(const shoal_junit_record_t *r, const char *status,
                                          const char **message);

#endif
