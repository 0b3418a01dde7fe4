/* node/driver_ctest.h: the parts of the ctest driver (driver_ctest.c) that
 * read ctest's words without running it: the user's options, the JSON
 * listing (`--show-only=json-v1`), the test numbers of `-N`, and the
 * progress lines of a run. Declared here so unit tests reach them.
 */
#ifndef SHOAL_NODE_DRIVER_CTEST_H
#define SHOAL_NODE_DRIVER_CTEST_H

#include "node/adapter.h"

#include <stdbool.h>
#include <stddef.h>

/* What shoal must know of the user's ctest options. */
typedef struct {
    bool stop_on_failure; /* --stop-on-failure: the session's maxfail 1 */
    bool parallel;        /* -j/--parallel: shoal's slots replace it */
    const char *test_dir; /* --test-dir's value (borrowed), or NULL */
} shoal_ctest_options_t;

/* Reads argv[1..argc) (argv[0] is ctest). 0, or -1 with why in err for an
 * option that cannot work distributed (listing modes, dashboards, --union,
 * --rerun-failed, --output-junit). */
int shoal_ctest_options(int argc, char *const *argv, shoal_ctest_options_t *out, char *err,
                        size_t err_size);
/* True for the words a batch's invocation leaves out of the user's command
 * (--stop-on-failure: the session stops instead, after the batch). */
bool shoal_ctest_batch_drops(const char *word);

/* One test of the JSON listing, in ctest's order. */
typedef struct {
    char *name, *id; /* ctest's name; shoal's id (the name, or DIR::NAME for a name
                        that several directories use) */
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

/* "  Test  #12: name" (ctest -N): 12, with *name_out at the name. 0 if the
 * line is not one. */
unsigned shoal_ctest_listed(const char *line, const char **name_out);
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

#endif
