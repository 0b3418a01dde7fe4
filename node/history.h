/* node/history.h: the per-node test history store (SQLite, WAL). Per project
 * and test id it keeps the last SHOAL_HISTORY_WINDOW durations and outcomes,
 * from which recent failures and flakiness are derived, plus a run count and
 * the time of the last run. Every failure (full disk, read-only or corrupt
 * file) is a -1 with a clear message, never a crash: a session goes on
 * without history.
 */
#ifndef SHOAL_NODE_HISTORY_H
#define SHOAL_NODE_HISTORY_H

#include "node/adapter.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SHOAL_HISTORY_WINDOW 8
#define SHOAL_HISTORY_BUSY_MS 5000

typedef struct shoal_history shoal_history_t;

/* Opens (creating it and its directories) the database at path, or the default
 * $XDG_DATA_HOME/shoal/history.db (~/.local/share/shoal/history.db) when path
 * is NULL. NULL with the reason in err. */
shoal_history_t *shoal_history_open(const char *path, char *err, size_t err_size);
void shoal_history_close(shoal_history_t **self_p);
/* The default database's path, from this process' environment. 0, or -1
 * with the reason in err. */
int shoal_history_default_path(char *out, size_t size, char *err, size_t err_size);

typedef struct {
    char *id;
    double durations[SHOAL_HISTORY_WINDOW]; /* oldest first, seconds */
    size_t count;
    unsigned recent_failures; /* failed or error among the last 8 runs */
    bool last_failed;
    double flakiness;  /* share of outcome flips (pass <-> fail) among the last 8 runs */
    uint64_t last_run; /* unix seconds */
    unsigned runs;     /* addition: runs recorded in total (passed, failed or error) */
} shoal_history_entry_t;

/* Loads every entry of project, sorted by id. Caller frees with
 * shoal_history_entries_free. 0, or -1 (see shoal_history_error). */
int shoal_history_load(shoal_history_t *self, const char *project, shoal_history_entry_t **out,
                       size_t *count_out);
void shoal_history_entries_free(shoal_history_entry_t **entries, size_t count);

/* Records one result per test in one transaction. Passed, failed and error
 * results add a duration and an outcome; skipped ones only mark the test as
 * seen (last_run); not-run ones are ignored. 0, or -1 with nothing recorded. */
int shoal_history_record(shoal_history_t *self, const char *project, const char *const *ids,
                         const shoal_outcome_t *outcomes, const double *seconds, size_t count,
                         uint64_t unix_now);

/* Imports a JUnit file (shoal_junit_read). The number of cases imported, or -1. */
long shoal_history_import(shoal_history_t *self, const char *project, const char *junit_path,
                          uint64_t unix_now, char *err, size_t err_size);

/* Additions: the message of the last failed call ("" if none), and the
 * database's path. Both borrowed. */
const char *shoal_history_error(const shoal_history_t *self);
const char *shoal_history_path(const shoal_history_t *self);

#endif
