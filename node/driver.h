/* node/driver.h: drivers, shoal's side of the worker protocol (worker.h) for
 * frameworks without a plugin of their own (go test, cargo test, ctest, Jest,
 * Vitest). A session starts `shoal worker NAME -- COMMAND...` as a slot's
 * worker; that process lists the tests through the framework once, then runs
 * each batch it is sent as one or more framework invocations (one per go
 * package, test binary or JS file) and reads every outcome from the
 * framework's own machine-readable output, sending `begin` and `result` as
 * they happen. A driver is a process of its own, so it may block: on the
 * framework, on its output, on files.
 *
 * The framework decides what the tests are and how each one runs: a driver
 * passes the user's command through and adds only what it must (a filter
 * naming the batch's tests, a machine-readable output, "no caching").
 *
 * Invariants:
 *  - exactly one result per id of a batch: an id the collection lacks gets an
 *    error result (I3: never run); a test the framework ran but did not
 *    report gets an error naming that; if the framework ended early (a crash,
 *    a signal, a test that ended the process), the test it was running is an
 *    error with its output (unless the driver reported it) and the core runs
 *    the tests after it again, in a new round of run (each round settles at
 *    least one test); once the framework's stop-after-failures is reached,
 *    the tests left go back not run (outcome not-run), to the leader;
 *  - the framework runs in this process' process group (exec.h share_group):
 *    the session's per-test timeout kills the driver's group, so nothing a
 *    framework started outlives its worker.
 */
#ifndef SHOAL_NODE_DRIVER_H
#define SHOAL_NODE_DRIVER_H

#include "node/adapter.h"
#include "node/exec.h"

#include <stdbool.h>
#include <stddef.h>

typedef struct shoal_driver shoal_driver_t;

/* How a framework invocation ended. */
typedef enum {
    SHOAL_DRIVER_RAN,     /* it ran to its end (any exit status) */
    SHOAL_DRIVER_CRASHED, /* it ended early: killed by a signal, or it said it aborted */
} shoal_driver_end_t;

typedef struct {
    const char *name; /* as in `shoal worker NAME` and the adapter's name */
    /* Lists the tests with the framework, for the command argv (the user's,
     * untouched). Adds each test with shoal_collection_add in the framework's
     * order, ids unique and stable across runs (history keys on them), file
     * and line the framework's own where it says them; tests decided at
     * listing (a package that does not build) with
     * shoal_collection_add_preset. May set out->maxfail (e.g. -failfast) and
     * out->notice. *state is the driver's own, passed to run and destroy.
     * 0, or -1 with the framework's own words in err. */
    int (*collect)(void **state, shoal_driver_t *driver, int argc, char *const *argv,
                   shoal_collection_t *out, char *err, size_t err_size);
    /* Runs tests[0..count) (indexes into the collection, in the order dealt;
     * never presets). Calls shoal_driver_begin/shoal_driver_result as the
     * framework reports, in any order. Returns SHOAL_DRIVER_CRASHED as soon
     * as an invocation ended early, without running the rest itself: the
     * core blames and runs them again (see the invariants). */
    shoal_driver_end_t (*run)(void *state, shoal_driver_t *driver, const size_t *tests,
                              size_t count);
    void (*destroy)(void *state);
} shoal_driver_ops_t;

/* The test at index test of the collection has started. */
void shoal_driver_begin(shoal_driver_t *driver, size_t test);
/* Its outcome; seconds as the framework measured it (or as the driver timed
 * it); message and output may be NULL. A second result for one test in a
 * batch, or one for a test not in the batch, is ignored. */
void shoal_driver_result(shoal_driver_t *driver, size_t test, shoal_outcome_t outcome,
                         double seconds, const char *message, const char *output);
/* True once this batch has as many failed or errored tests as the
 * framework's stop-after-failures (collection maxfail, e.g. go's -failfast):
 * a driver then starts no further invocation, and the tests it did not run
 * go back not run. */
bool shoal_driver_stopping(const shoal_driver_t *driver);
/* The collection (as collect made it; indexed). */
const shoal_collection_t *shoal_driver_collection(const shoal_driver_t *driver);
/* How many workers the whole session has now (0: unknown), for frameworks
 * that share the machine by it. */
unsigned shoal_driver_workers(const shoal_driver_t *driver);

/* Called for each line of a framework's output (stdout and stderr merged), as
 * it arrives, without its newline; len excludes the NUL that ends line. */
typedef void (*shoal_driver_line_fn)(void *arg, const char *line, size_t len);

/* Runs a framework command to its end (blocking) in this process' group,
 * stdin from /dev/null, feeding each output line to on_line (may be NULL).
 * Returns its exit status (128 + N if signal N ended it), or -1 if it could
 * not start; shoal_driver_output then holds the reason. */
int shoal_driver_spawn(shoal_driver_t *driver, char *const *argv, const char *cwd,
                       char *const *env_extra, shoal_driver_line_fn on_line, void *arg);
/* As shoal_driver_spawn, but once per participant and session: the first
 * worker to get here runs it and keeps its output; the others, with the
 * same argv, cwd and env_extra, wait for it and are fed the same lines and
 * status (the framework's listing: one compile of a go or cargo suite
 * instead of one per slot). Without a place to keep it, spawns. */
int shoal_driver_spawn_shared(shoal_driver_t *driver, char *const *argv, const char *cwd,
                              char *const *env_extra, shoal_driver_line_fn on_line, void *arg);
/* As shoal_driver_spawn, and on_partial (may be NULL) also gets the start of
 * a line whose end has not arrived yet, each time output pauses mid-line:
 * libtest writes "test NAME ... " as a test starts and ends that line only
 * when it ends. The whole line still comes to on_line once it ends. */
int shoal_driver_spawn_partial(shoal_driver_t *driver, char *const *argv, const char *cwd,
                               char *const *env_extra, shoal_driver_line_fn on_line,
                               shoal_driver_line_fn on_partial, void *arg);
/* A directory this participant's workers of the session share (removed
 * with the session), or NULL. */
const char *shoal_driver_dir(const shoal_driver_t *driver);
/* The last SHOAL_ADAPTER_OUTPUT_CAP bytes of the last spawn's output (stdout
 * and stderr merged), or ""; borrowed until the next spawn. */
const char *shoal_driver_output(const shoal_driver_t *driver);
/* The signal that ended the last spawn, 0 if none. */
int shoal_driver_signal(const shoal_driver_t *driver);

/* Escapes text as a regular expression literal (RE2 and ECMAScript agree on
 * backslash-escaping every one of \.+*?()|[]{}^$ and '/'). Returns a new
 * string, NULL out of memory. */
char *shoal_driver_regex_quote(const char *text);

extern const shoal_driver_ops_t shoal_driver_cargo_ops;
extern const shoal_driver_ops_t shoal_driver_ctest_ops;

/* The drivers, by name; NULL if none is called name. */
const shoal_driver_ops_t *shoal_driver_find(const char *name);

extern const shoal_driver_ops_t shoal_driver_jest_ops;
extern const shoal_driver_ops_t shoal_driver_vitest_ops;
extern const shoal_driver_ops_t shoal_driver_go_ops;

#endif
