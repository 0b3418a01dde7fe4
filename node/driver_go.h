/* node/driver_go.h: the parts of the go test driver (driver_go.c) that read
 * go's words and output without running anything, exposed so unit tests can
 * feed them: the user's command line, `go test -list -json` and the event
 * stream of one package's run. Nothing else includes this.
 */
#ifndef SHOAL_NODE_DRIVER_GO_H
#define SHOAL_NODE_DRIVER_GO_H

#include "node/adapter.h"

#include <stdbool.h>
#include <stddef.h>

/* ---- the user's command: `go test [flags] [packages] [flags] [-args ...]` ---- */

typedef struct {
    size_t insert;    /* where the driver's flags and its package go in argv */
    size_t pkg_end;   /* the user's package list is argv[insert..pkg_end) (maybe empty) */
    const char *run;  /* the user's -run pattern (borrowed from argv), or NULL */
    unsigned repeats; /* runs of each test in one invocation: -count times the -cpu list */
    bool count;       /* the user gave -count (no -count=1 is added) */
    bool exec;        /* the user gave -exec (test binaries are not kept) */
    bool failfast;    /* -failfast: the session stops at the first failure */
    bool *drop;       /* per argv word: left out of every invocation (-run and its value,
                         -failfast: shoal applies them itself) */
} shoal_go_args_t;

/* Reads argv as go test does (flags before and after the package list, values
 * as separate words or after '=', -args and -- end it). 0, or -1 with the
 * reason in err for an option that cannot work distributed (-bench, -fuzz,
 * -list, -c, -n, profiles, a -run with '/'). */
int shoal_go_args_parse(int argc, char *const *argv, shoal_go_args_t *out, char *err,
                        size_t err_size);
void shoal_go_args_clear(shoal_go_args_t *args);

/* ---- listing: `go test -list PATTERN -json ...` ---- */

typedef struct shoal_go_list shoal_go_list_t;

/* marker: the first word of the lines the driver's -exec wrapper prints (they
 * are not test names); NULL for none. */
shoal_go_list_t *shoal_go_list_new(const char *marker);
void shoal_go_list_destroy(shoal_go_list_t **self_p);
/* One line of go's output (stdout and stderr merged), without its newline. */
void shoal_go_list_line(shoal_go_list_t *self, const char *line, size_t len);
/* Adds what was listed to out, packages in import-path order, each test as
 * "IMPORTPATH.Name" (tests, fuzz tests and examples, in go's order; no
 * benchmarks); a package go could not list (build failure, TestMain exiting)
 * as one preset error whose id is its import path, with go's message. status:
 * go's exit status. 0, or -1 with go's words in err when go failed and no
 * package says why (a bad flag, no packages). */
int shoal_go_list_finish(shoal_go_list_t *self, int status, shoal_collection_t *out, char *err,
                         size_t err_size);
/* The wrapper's captures seen while listing: the i-th (from 0) as its
 * package's import path and the wrapper's process id; false past the last. */
bool shoal_go_list_capture(const shoal_go_list_t *self, size_t i, const char **package, int *pid);

/* ---- one invocation of one package's tests ---- */

typedef struct {
    void (*begin)(void *arg, size_t place); /* place: index into the names */
    void (*result)(void *arg, size_t place, shoal_outcome_t outcome, double seconds,
                   const char *message, const char *output);
    void *arg;
} shoal_go_events_t;

typedef enum {
    SHOAL_GO_DONE,    /* every test it could settle is settled */
    SHOAL_GO_AGAIN,   /* the binary ended early: run the tests not begun again */
    SHOAL_GO_CRASHED, /* go itself was killed: the driver ends the batch */
} shoal_go_end_t;

typedef struct shoal_go_run shoal_go_run_t;

/* The top-level tests names[0..count) of one package (borrowed until
 * destroy), each to be run `repeats` times. */
shoal_go_run_t *shoal_go_run_new(const char *const *names, size_t count, unsigned repeats,
                                 const char *marker, shoal_go_events_t events);
void shoal_go_run_destroy(shoal_go_run_t **self_p);
/* One line of the invocation's output (JSON events, or go's plain text). */
void shoal_go_run_line(shoal_go_run_t *self, const char *line, size_t len);
/* The invocation ended with exit status (or signal, non-zero): settles what
 * go's events leave open (see driver_go.c). */
shoal_go_end_t shoal_go_run_end(shoal_go_run_t *self, int status, int signal);
/* True if names[place] began (or was settled) in this invocation. */
bool shoal_go_run_begun(const shoal_go_run_t *self, size_t place);
/* The process id the wrapper printed, or 0. */
int shoal_go_run_capture(const shoal_go_run_t *self);

#endif
