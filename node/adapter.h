/* node/adapter.h: framework adapters. An adapter knows how to list a suite's
 * tests, build the argv that runs a batch of ids in one process (never through
 * a shell) and read per-test outcomes back. Two adapters: "pytest" (the
 * command after `--`) and "list" (a file of `name<TAB>argv[<TAB>requires]`).
 * Invariant (I3): argv is only ever built from the local command or list and
 * from ids the caller validated with shoal_adapter_validate.
 */
#ifndef SHOAL_NODE_ADAPTER_H
#define SHOAL_NODE_ADAPTER_H

#include "node/exec.h"

#include <stdbool.h>
#include <stddef.h>

typedef enum {
    SHOAL_OUTCOME_PASSED,
    SHOAL_OUTCOME_FAILED,
    SHOAL_OUTCOME_ERROR,
    SHOAL_OUTCOME_SKIPPED,
    SHOAL_OUTCOME_NOT_RUN,
} shoal_outcome_t;

/* "passed", "failed", "error", "skipped", "not-run" */
const char *shoal_outcome_str(shoal_outcome_t o);

typedef struct {
    char *id;       /* pytest node id ("tests/test_a.py::TestX::test_y[1]") or the list's name */
    char *file;     /* "tests/test_a.py" or "" */
    char *requires; /* "k=v,k2" or "" (list format only) */
} shoal_test_t;

typedef struct {
    shoal_test_t *tests;
    size_t count;
} shoal_collection_t;

void shoal_collection_clear(shoal_collection_t *c);

typedef struct {
    size_t index; /* into the batch's ids */
    shoal_outcome_t outcome;
    double seconds;
    char *message; /* failure/error/skip message, may be "" */
    char *output;  /* captured output for failures (may be ""), capped */
} shoal_test_result_t;

typedef struct shoal_adapter shoal_adapter_t;

#define SHOAL_ADAPTER_COLLECT_TIMEOUT_MS (10 * 60 * 1000)
#define SHOAL_ADAPTER_OUTPUT_CAP (64 * 1024) /* of a result's output */

/* From the command after `--` (argv, argc) or a list file (list_path
 * non-NULL: the list wins and argv is ignored; the file is read and checked
 * here). "pytest ...", "py.test ...", "python3 -m pytest ..." (any python) ->
 * pytest. Anything else -> error "no adapter for 'cmd': use --list FILE or
 * pytest". NULL with the reason in err. */
shoal_adapter_t *shoal_adapter_new(int argc, char *const *argv, const char *list_path, char *err,
                                   size_t err_size);
void shoal_adapter_destroy(shoal_adapter_t **self_p);
const char *shoal_adapter_name(const shoal_adapter_t *self); /* "pytest" or "list" */
/* 32 hex chars (BLAKE2b-128) over the adapter name, the command argv and, for
 * lists, the file's content. */
const char *shoal_adapter_digest(const shoal_adapter_t *self);

/* Collects the tests: pytest runs `--collect-only` in cwd (blocking, with a
 * timeout); lists copy the parsed file (cwd unused). 0, or -1 with a clear
 * reason (pytest's output tail included) in err. */
int shoal_adapter_collect(shoal_adapter_t *self, const char *cwd, shoal_collection_t *out,
                          char *err, size_t err_size);

/* I3: an id that arrived over the network. 0 if acceptable: lists: a test of
 * the local list; pytest: `path.py::name...` with a relative path without ".."
 * or empty components, no leading '-', no control characters, and the file
 * exists under cwd (NULL: the current directory). -1 otherwise. */
int shoal_adapter_validate(const shoal_adapter_t *self, const char *cwd, const char *id);

/* pytest only: the command of a worker that collects the suite and loads the
 * plugin `module` (see worker.h); NULL for lists or out of memory. Free with
 * shoal_adapter_argv_free. */
char **shoal_adapter_worker_argv(const shoal_adapter_t *self, const char *module);

/* Tests one invocation may run: 1 for lists, large for pytest. */
size_t shoal_adapter_batch_max(const shoal_adapter_t *self);

/* The argv (NULL-terminated; free with shoal_adapter_argv_free) that runs ids
 * in one process, writing the machine-readable report to report_path (which
 * should not exist before the run). pytest: the command with its options (its
 * path arguments dropped), then --verbosity=1 (one line per finished test, so
 * a crash can be pinned on the right test), -p no:cacheprovider,
 * --color=no, --rootdir=. (ids are relative to the run's directory),
 * --junitxml=PATH -o junit_family=xunit1 and the ids after `--`. Lists: the
 * line's own argv. NULL on out of memory or ids a list does not have. */
char **shoal_adapter_argv(const shoal_adapter_t *self, const char *const *ids, size_t count,
                          const char *report_path);
void shoal_adapter_argv_free(char ***argv_p);

/* Per-test outcomes of a finished batch, one per id in order (results[i].index
 * = i). Tests with a result keep it; if tests lack one (crash, timeout, a
 * report that is missing or partial), the FIRST of them is ERROR ("crashed:
 * killed by signal N", "timed out after Ns", "exit status N without a
 * report", ...) with the batch's output tail and the rest NOT_RUN (to be run
 * again). Returns 0, -1 only on allocation failure. */
int shoal_adapter_results(const shoal_adapter_t *self, const char *const *ids, size_t count,
                          const shoal_exec_result_t *exec, const char *report_path,
                          shoal_test_result_t *results);
void shoal_test_result_clear(shoal_test_result_t *r);
/* Replaces r's outcome, seconds, message and output (output and output2
 * joined by a newline, capped at SHOAL_ADAPTER_OUTPUT_CAP). 0, or -1 out of
 * memory (r unchanged). */
int shoal_test_result_set(shoal_test_result_t *r, shoal_outcome_t outcome, double seconds,
                          const char *message, const char *output, const char *output2);
/* The last `max` bytes of a process' output, starting at a line if one
 * starts near. */
const char *shoal_output_tail(const char *text, size_t len, size_t max);

#endif
