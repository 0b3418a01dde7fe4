/* node/adapter.h: framework adapters behind one interface. The framework
 * decides what the tests are and how each one runs; shoal decides only where
 * and when. An adapter therefore never guesses: it lists tests through the
 * framework itself, passes the user's command through untouched and reads
 * every outcome from the framework's own reports.
 *
 * One file per framework (adapter_pytest.c, adapter_list.c) fills a table of
 * operations (adapter_impl.h); the session only calls the functions below and
 * never names a framework. Two ways to run:
 *  - a hot worker (shoal_adapter_worker_argv non-NULL): a long-lived framework
 *    process per slot that collects the suite itself and runs the ids it is
 *    sent (worker.h); the session's collection is what its worker collected;
 *  - a process per test (shoal_adapter_argv): the collection comes from
 *    shoal_adapter_collect and the outcome from the exit status.
 * Invariant (I3): a process only ever runs the local command, or a test of
 * the local collection; ids from the network are looked up, never parsed.
 */
#ifndef SHOAL_NODE_ADAPTER_H
#define SHOAL_NODE_ADAPTER_H

#include "node/exec.h"

#include <stdbool.h>
#include <stddef.h>

/* Append-only: the numbers travel in session messages. */
typedef enum {
    SHOAL_OUTCOME_PASSED,
    SHOAL_OUTCOME_FAILED,
    SHOAL_OUTCOME_ERROR,
    SHOAL_OUTCOME_SKIPPED,
    SHOAL_OUTCOME_NOT_RUN,
    SHOAL_OUTCOME_XFAILED, /* failed as the test said it would (pytest's xfail) */
    SHOAL_OUTCOME_XPASSED, /* passed although marked to fail, not strictly */
    SHOAL_OUTCOME_COUNT
} shoal_outcome_t;

/* "passed", "failed", "error", "skipped", "not-run", "xfailed", "xpassed";
 * "unknown" for anything else. */
const char *shoal_outcome_str(shoal_outcome_t o);
/* True for FAILED and ERROR: the outcomes that fail a session. */
bool shoal_outcome_failed(shoal_outcome_t o);

/* The longest test id the network carries. A framework's longer id (a
 * parametrized test of a long string) is shortened at collection to its
 * head, "…" and a digest of the whole, the same on every participant; the
 * framework is still asked to run its own id. */
#define SHOAL_TEST_ID_MAX 2048

typedef struct {
    char *id;       /* the framework's own id ("tests/test_a.py::TestX::test_y[1]"),
                       shortened when longer than SHOAL_TEST_ID_MAX */
    char *full;     /* the framework's id when id is shortened, else NULL */
    char *file;     /* the framework's file of the test, or "" */
    unsigned line;  /* 1-based line of its definition, 0 if unknown */
    char *requires; /* "k=v,k2" or "" (list format only) */
    /* Decided at collection (a module that failed to import, a module-level
     * skip): the test is reported with this outcome and never dealt. */
    bool preset;
    shoal_outcome_t outcome;
    char *message, *output; /* preset only; NULL otherwise */
} shoal_test_t;

typedef struct {
    shoal_test_t *tests;
    size_t count;
    size_t cap;           /* tests allocated (count or more; 0 for an array made elsewhere) */
    unsigned maxfail;     /* the framework's "stop after N failures" (-x is 1); 0: none */
    char *interrupted;    /* the framework would run nothing (e.g. errors during
                             collection): why, as it says it; NULL otherwise */
    char *notice;         /* one line for the user about how the command is run, or NULL */
    int verbosity;        /* the user's -v (> 0) or -q (< 0): how much shoal prints */
    char reportchars[16]; /* pytest's -r: outcomes listed in the short summary ("fE") */
    size_t *sorted;       /* by id, built by shoal_collection_index; NULL before */
} shoal_collection_t;

void shoal_collection_clear(shoal_collection_t *c);
/* Appends a test (strings copied; file and requires may be NULL for ""). 0, or
 * -1 out of memory (c unchanged). */
int shoal_collection_add(shoal_collection_t *c, const char *id, const char *file, unsigned line,
                         const char *requires);
/* Appends a test decided at collection. 0, or -1 out of memory. */
int shoal_collection_add_preset(shoal_collection_t *c, const char *id, shoal_outcome_t outcome,
                                const char *message, const char *output);
/* A deep copy into *dst (cleared first). 0, or -1 out of memory (*dst empty). */
int shoal_collection_copy(shoal_collection_t *dst, const shoal_collection_t *src);
/* The id the framework knows test t by (its full id, even when the
 * collection's is shortened). Borrowed. */
const char *shoal_collection_framework_id(const shoal_collection_t *c, size_t t);
/* The same for the test called id (after shoal_collection_index): id itself
 * when no test is called so. Borrowed. */
const char *shoal_collection_framework_id_of(const shoal_collection_t *c, const char *id);
/* Sorts an index by id so shoal_collection_find is a binary search. 0, or -1
 * out of memory. */
int shoal_collection_index(shoal_collection_t *c);
/* After shoal_collection_index: an id two tests share (borrowed), or NULL.
 * A framework whose ids collide (escaping that maps two names to one) would
 * have the two dealt as one and the session never end: the session refuses
 * such a collection, naming the id. */
const char *shoal_collection_duplicate(const shoal_collection_t *c);
/* The position of the test called id, or SIZE_MAX (also before indexing). */
size_t shoal_collection_find(const shoal_collection_t *c, const char *id);
/* 32 hex chars (BLAKE2b-128) over the ids in collected order and the preset
 * outcomes: two runners agree on what the tests are iff their digests match. */
void shoal_collection_digest(const shoal_collection_t *c, char out[33]);

typedef struct {
    size_t index; /* into the batch's ids */
    shoal_outcome_t outcome;
    double seconds;
    char *message; /* failure/error/skip message, may be "" */
    char *output;  /* captured output for failures (may be ""), capped */
    bool held;     /* a worker keeps the test back, to run it first in its next
                      batch (or when flushed): no outcome yet */
    bool reported; /* handed out while the batch ran (shoal_worker_take_finished):
                      nothing more to report */
} shoal_test_result_t;

void shoal_test_result_clear(shoal_test_result_t *r);
/* Replaces r's outcome, seconds, message and output (output and output2
 * joined by a newline, capped at SHOAL_ADAPTER_OUTPUT_CAP). 0, or -1 out of
 * memory (r unchanged). */
int shoal_test_result_set(shoal_test_result_t *r, shoal_outcome_t outcome, double seconds,
                          const char *message, const char *output, const char *output2);
/* The last `max` bytes of a process' output, starting at a line if one
 * starts near. Borrowed from text. */
const char *shoal_output_tail(const char *text, size_t len, size_t max);

typedef struct shoal_adapter shoal_adapter_t;

#define SHOAL_ADAPTER_OUTPUT_CAP (64 * 1024) /* of a result's output */

/* From the command after `--` (argv, argc) or a list file (list_path
 * non-NULL: the list wins and argv is ignored; the file is read and checked
 * here). The framework is recognised from the command's first words
 * ("pytest ...", "py.test ...", "python3 -m pytest ...", "mocha ...", "npx
 * mocha ...", "node node_modules/.bin/mocha ..."); anything else is an
 * error "no adapter for 'cmd': ...". NULL with the reason in err. */
shoal_adapter_t *shoal_adapter_new(int argc, char *const *argv, const char *list_path, char *err,
                                   size_t err_size);
/* As shoal_adapter_new, with the adapter named (`--adapter NAME`: "pytest",
 * "go", ...) rather than recognised from the command; name NULL recognises.
 * An unknown name is an error listing the names there are. */
shoal_adapter_t *shoal_adapter_new_named(const char *name, int argc, char *const *argv,
                                         const char *list_path, char *err, size_t err_size);
void shoal_adapter_destroy(shoal_adapter_t **self_p);
/* "pytest", "mocha" or "list": for messages only. */
const char *shoal_adapter_name(const shoal_adapter_t *self);
/* 32 hex chars (BLAKE2b-128) over the adapter name, the command argv and, for
 * lists, the file's content: participants with different runners never meet. */
const char *shoal_adapter_digest(const shoal_adapter_t *self);

/* The command of a hot worker that loads the plugin `module` (see worker.h)
 * from plugin_dir, where shoal_worker_install wrote it: for pytest the
 * user's command, untouched, with `-p module` after the words that start the
 * framework; for Mocha `node plugin_dir/shoal_mocha_worker.js` and the
 * user's mocha arguments. NULL when the framework has no worker (or out of
 * memory). Free with shoal_adapter_argv_free. */
char **shoal_adapter_worker_argv(const shoal_adapter_t *self, const char *plugin_dir,
                                 const char *module);
/* The command that starts a zygote the worker can be forked from (zygote.h)
 * with the zygote's script: the interpreter the user's command runs, then
 * script. NULL when the framework has none, when the command passes the
 * interpreter options a fork could not take, or out of memory. Free with
 * shoal_adapter_argv_free. */
char **shoal_adapter_zygote_argv(const shoal_adapter_t *self, const char *script);
/* What a hot worker's environment adds to env (the worker's base environment,
 * as for shoal_exec_spec_t: NULL is this process'), NULL-terminated "KEY=VALUE" strings
 * (free with shoal_adapter_argv_free; NULL without a worker or out of
 * memory): what loads the plugin from plugin_dir, and what the framework's
 * own parallel runs set for slot `slot` of `slots` of the run `run_id` (for
 * pytest, pytest-xdist's PYTEST_XDIST_WORKER=gwN, PYTEST_XDIST_WORKER_COUNT
 * and PYTEST_XDIST_TESTRUNUID), so suites that adapt to running in parallel
 * (thread limits, per-worker databases) do so under shoal too. */
char **shoal_adapter_worker_env(const shoal_adapter_t *self, const char *plugin_dir, unsigned slot,
                                unsigned slots, const char *run_id, char *const *env);
/* True if tests run in hot workers, whose collection is the session's. */
bool shoal_adapter_has_worker(const shoal_adapter_t *self);

/* Adapters without a worker: the tests, in the framework's order. 0, or -1
 * with the reason in err (also for an adapter whose workers collect). */
int shoal_adapter_collect(shoal_adapter_t *self, shoal_collection_t *out, char *err,
                          size_t err_size);

/* Seconds one invocation of the framework costs beyond its tests (0 for
 * hot workers): the leader keeps each batch's predicted work at a few times
 * this, so a framework that starts per batch is not started per test. */
double shoal_adapter_invocation_seconds(const shoal_adapter_t *self);

/* The command whose standard output names the toolchain the user's command
 * runs with (see fingerprint.h): the interpreter of a pytest command asked
 * for its Python and pytest versions, `go version`, `rustc -vV`, `node -v`,
 * `uname -sm` for a list of commands. A NULL-terminated argv to run in the
 * run's directory (free with shoal_adapter_argv_free); NULL when the
 * adapter has none, or out of memory. */
char **shoal_adapter_toolchain_argv(const shoal_adapter_t *self);
/* The names or fnmatch globs (NULL-terminated, static) of the files directly
 * in the run's directory whose bytes pin the dependencies: lock files and
 * manifests. NULL when none do. */
const char *const *shoal_adapter_dep_files(const shoal_adapter_t *self);

/* Tests one invocation may run: 1 for a process per test. */
size_t shoal_adapter_batch_max(const shoal_adapter_t *self);

/* A process per test: the argv (NULL-terminated; free with
 * shoal_adapter_argv_free) that runs the test called id. NULL for an id the
 * collection does not have, or out of memory. */
char **shoal_adapter_argv(const shoal_adapter_t *self, const char *id);
void shoal_adapter_argv_free(char ***argv_p);

/* A process per test: its outcome from how the process ended (exit 0 passed,
 * another status failed with the output's tail, a signal or the timeout an
 * error naming it). 0, or -1 out of memory. */
int shoal_adapter_result(const shoal_exec_result_t *exec, shoal_test_result_t *result);

#endif
