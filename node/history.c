/* node/history.c: the history store (see history.h). One row per (project,
 * test): the last SHOAL_HISTORY_WINDOW durations as text ("0.25 1.5", oldest
 * first, portable across machines), the last outcomes as letters ("ppfp":
 * p passed, f failed, e error; newest last), the total run count and the last
 * run. Everything derived (failures, flakiness) is computed on load, so the
 * schema holds only facts. A record is one transaction: all or nothing.
 */
#include "node/history.h"
#include "node/junit.h"

#include <errno.h>
#include <limits.h>
#include <pwd.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define S_SCHEMA_VERSION 1

struct shoal_history {
    sqlite3 *db;
    char path[PATH_MAX];
    char err[PATH_MAX + 256];
};

static const char s_schema[] = "CREATE TABLE IF NOT EXISTS shoal_tests ("
                               " project TEXT NOT NULL,"
                               " id TEXT NOT NULL,"
                               " durations TEXT NOT NULL DEFAULT '',"
                               " outcomes TEXT NOT NULL DEFAULT '',"
                               " runs INTEGER NOT NULL DEFAULT 0,"
                               " last_run INTEGER NOT NULL DEFAULT 0,"
                               " PRIMARY KEY (project, id)) WITHOUT ROWID;";

/* Sets the error from the database's last message; returns -1. */
static int
s_db_fail(shoal_history_t *self, const char *what)
{
    snprintf(self->err, sizeof(self->err), "history '%s': %s: %s", self->path, what,
             self->db ? sqlite3_errmsg(self->db) : "out of memory");
    return -1;
}

/* mkdir -p of the directory part of path. */
static int
s_make_parents(const char *path, char *err, size_t err_size)
{
    char dir[PATH_MAX];
    snprintf(dir, sizeof(dir), "%s", path);
    char *slash = strrchr(dir, '/');
    if (!slash || slash == dir)
        return 0;
    *slash = '\0';
    for (char *p = dir + 1;; p++) {
        if (*p != '/' && *p != '\0')
            continue;
        char saved = *p;
        *p = '\0';
        if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
            snprintf(err, err_size, "cannot create history directory '%s': %s", dir,
                     strerror(errno));
            return -1;
        }
        *p = saved;
        if (saved == '\0')
            break;
    }
    struct stat st;
    int bad = stat(dir, &st) != 0 ? errno : S_ISDIR(st.st_mode) ? 0 : ENOTDIR;
    if (bad) {
        snprintf(err, err_size, "cannot create history directory '%s': %s", dir, strerror(bad));
        return -1;
    }
    return 0;
}

int
shoal_history_default_path(char *out, size_t size, char *err, size_t err_size)
{
    const char *data = getenv("XDG_DATA_HOME");
    int n;
    if (data && data[0] == '/') {
        n = snprintf(out, size, "%s/shoal/history.db", data);
    } else {
        const char *home = getenv("HOME");
        if (!home || !*home) {
            struct passwd *pw = getpwuid(getuid());
            home = pw ? pw->pw_dir : NULL;
        }
        if (!home) {
            snprintf(err, err_size,
                     "cannot find the history database: neither XDG_DATA_HOME "
                     "nor HOME is set (use --db PATH)");
            return -1;
        }
        n = snprintf(out, size, "%s/.local/share/shoal/history.db", home);
    }
    if (n < 0 || (size_t)n >= size) {
        snprintf(err, err_size, "history database path too long");
        return -1;
    }
    return 0;
}

shoal_history_t *
shoal_history_open(const char *path, char *err, size_t err_size)
{
    shoal_history_t *self = calloc(1, sizeof(*self));
    if (!self) {
        snprintf(err, err_size, "out of memory");
        return NULL;
    }
    if (path) {
        if (strlen(path) >= sizeof(self->path)) {
            snprintf(err, err_size, "history database path too long");
            goto failed;
        }
        snprintf(self->path, sizeof(self->path), "%s", path);
    } else if (shoal_history_default_path(self->path, sizeof(self->path), err, err_size) != 0) {
        goto failed;
    }
    if (s_make_parents(self->path, err, err_size) != 0)
        goto failed;
    int rc =
        sqlite3_open_v2(self->path, &self->db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK)
        goto db_failed;
    sqlite3_busy_timeout(self->db, SHOAL_HISTORY_BUSY_MS);
    /* The first statements read the file: a corrupt one fails here. */
    if (sqlite3_exec(self->db, "PRAGMA journal_mode=WAL;", NULL, NULL, NULL) != SQLITE_OK ||
        sqlite3_exec(self->db, s_schema, NULL, NULL, NULL) != SQLITE_OK)
        goto db_failed;
    return self;
db_failed:
    snprintf(err, err_size, "cannot open history database '%s': %s", self->path,
             self->db ? sqlite3_errmsg(self->db) : "out of memory");
failed:
    shoal_history_close(&self);
    return NULL;
}

void
shoal_history_close(shoal_history_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    sqlite3_close((*self_p)->db);
    free(*self_p);
    *self_p = NULL;
}

const char *
shoal_history_error(const shoal_history_t *self)
{
    return self->err;
}

const char *
shoal_history_path(const shoal_history_t *self)
{
    return self->path;
}

/* ---- one row's facts ---- */

typedef struct {
    double durations[SHOAL_HISTORY_WINDOW];
    size_t count;
    char outcomes[SHOAL_HISTORY_WINDOW + 1];
    unsigned runs;
    uint64_t last_run;
} s_row_t;

static void
s_row_parse(s_row_t *row, const char *durations, const char *outcomes)
{
    row->count = 0;
    double all[64];
    size_t n = 0;
    for (const char *p = durations ? durations : ""; *p && n < 64;) {
        char *end;
        double v = strtod(p, &end);
        if (end == p)
            break;
        if (v >= 0)
            all[n++] = v;
        p = end;
    }
    size_t first = n > SHOAL_HISTORY_WINDOW ? n - SHOAL_HISTORY_WINDOW : 0;
    for (size_t i = first; i < n; i++)
        row->durations[row->count++] = all[i];
    size_t len = outcomes ? strlen(outcomes) : 0;
    const char *tail = len > SHOAL_HISTORY_WINDOW ? outcomes + len - SHOAL_HISTORY_WINDOW
                                                  : (outcomes ? outcomes : "");
    snprintf(row->outcomes, sizeof(row->outcomes), "%s", tail);
}

static void
s_row_add(s_row_t *row, shoal_outcome_t outcome, double seconds)
{
    if (row->count == SHOAL_HISTORY_WINDOW) {
        memmove(row->durations, row->durations + 1, (SHOAL_HISTORY_WINDOW - 1) * sizeof(double));
        row->count--;
    }
    row->durations[row->count++] = seconds >= 0 ? seconds : 0;
    size_t len = strlen(row->outcomes);
    if (len == SHOAL_HISTORY_WINDOW) {
        memmove(row->outcomes, row->outcomes + 1, SHOAL_HISTORY_WINDOW - 1);
        len--;
    }
    /* An xfail or an xpass is what the test said it would do: not a failure
     * (it would be run first and counted flaky otherwise). */
    bool passed = outcome == SHOAL_OUTCOME_PASSED || outcome == SHOAL_OUTCOME_XFAILED ||
                  outcome == SHOAL_OUTCOME_XPASSED;
    row->outcomes[len] = passed ? 'p' : outcome == SHOAL_OUTCOME_FAILED ? 'f' : 'e';
    row->outcomes[len + 1] = '\0';
    row->runs++;
}

static void
s_row_entry(const s_row_t *row, shoal_history_entry_t *e)
{
    memcpy(e->durations, row->durations, row->count * sizeof(double));
    e->count = row->count;
    e->recent_failures = 0;
    size_t len = strlen(row->outcomes), flips = 0;
    for (size_t i = 0; i < len; i++) {
        bool failed = row->outcomes[i] != 'p';
        e->recent_failures += failed;
        if (i > 0 && failed != (row->outcomes[i - 1] != 'p'))
            flips++;
    }
    e->last_failed = len > 0 && row->outcomes[len - 1] != 'p';
    e->flakiness = len > 1 ? (double)flips / (double)(len - 1) : 0.0;
    e->last_run = row->last_run;
    e->runs = row->runs;
}

/* ---- load ---- */

static const char *
s_column_text(sqlite3_stmt *stmt, int column)
{
    const unsigned char *text = sqlite3_column_text(stmt, column);
    return text ? (const char *)text : "";
}

int
shoal_history_load(shoal_history_t *self, const char *project, shoal_history_entry_t **out,
                   size_t *count_out)
{
    *out = NULL;
    *count_out = 0;
    sqlite3_stmt *stmt = NULL;
    if (sqlite3_prepare_v2(self->db,
                           "SELECT id, durations, outcomes, runs, last_run FROM shoal_tests "
                           "WHERE project = ?1 ORDER BY id",
                           -1, &stmt, NULL) != SQLITE_OK)
        return s_db_fail(self, "cannot read");
    sqlite3_bind_text(stmt, 1, project, -1, SQLITE_STATIC);
    shoal_history_entry_t *entries = NULL;
    size_t count = 0, cap = 0;
    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        if (count == cap) {
            size_t grown_cap = cap ? cap * 2 : 64;
            shoal_history_entry_t *grown = realloc(entries, grown_cap * sizeof(*grown));
            if (!grown)
                break;
            entries = grown;
            cap = grown_cap;
        }
        s_row_t row = {.runs = (unsigned)sqlite3_column_int64(stmt, 3),
                       .last_run = (uint64_t)sqlite3_column_int64(stmt, 4)};
        s_row_parse(&row, s_column_text(stmt, 1), s_column_text(stmt, 2));
        shoal_history_entry_t *e = &entries[count];
        memset(e, 0, sizeof(*e));
        s_row_entry(&row, e);
        if (!(e->id = strdup(s_column_text(stmt, 0))))
            break;
        count++;
    }
    if (rc != SQLITE_DONE) {
        if (rc == SQLITE_ROW)
            snprintf(self->err, sizeof(self->err), "history '%s': out of memory", self->path);
        else
            s_db_fail(self, "cannot read");
        sqlite3_finalize(stmt);
        shoal_history_entries_free(&entries, count);
        return -1;
    }
    sqlite3_finalize(stmt);
    *out = entries;
    *count_out = count;
    return 0;
}

void
shoal_history_entries_free(shoal_history_entry_t **entries, size_t count)
{
    if (!entries || !*entries)
        return;
    for (size_t i = 0; i < count; i++)
        free((*entries)[i].id);
    free(*entries);
    *entries = NULL;
}

/* ---- record ---- */

static int
s_record_one(shoal_history_t *self, sqlite3_stmt *get, sqlite3_stmt *put, const char *project,
             const char *id, shoal_outcome_t outcome, double seconds, uint64_t unix_now)
{
    s_row_t row = {0};
    sqlite3_reset(get);
    sqlite3_bind_text(get, 1, project, -1, SQLITE_STATIC);
    sqlite3_bind_text(get, 2, id, -1, SQLITE_STATIC);
    int rc = sqlite3_step(get);
    if (rc == SQLITE_ROW) {
        row.runs = (unsigned)sqlite3_column_int64(get, 2);
        s_row_parse(&row, s_column_text(get, 0), s_column_text(get, 1));
    } else if (rc != SQLITE_DONE) {
        return s_db_fail(self, "cannot read");
    }
    if (outcome != SHOAL_OUTCOME_SKIPPED && outcome != SHOAL_OUTCOME_NOT_RUN)
        s_row_add(&row, outcome, seconds);
    char durations[SHOAL_HISTORY_WINDOW * 32] = "";
    size_t k = 0;
    for (size_t i = 0; i < row.count; i++)
        k += (size_t)snprintf(durations + k, sizeof(durations) - k, "%s%.17g", i ? " " : "",
                              row.durations[i]);
    sqlite3_reset(put);
    sqlite3_bind_text(put, 1, project, -1, SQLITE_STATIC);
    sqlite3_bind_text(put, 2, id, -1, SQLITE_STATIC);
    sqlite3_bind_text(put, 3, durations, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(put, 4, row.outcomes, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(put, 5, row.runs);
    sqlite3_bind_int64(put, 6, (sqlite3_int64)unix_now);
    if (sqlite3_step(put) != SQLITE_DONE)
        return s_db_fail(self, "cannot write");
    return 0;
}

int
shoal_history_record(shoal_history_t *self, const char *project, const char *const *ids,
                     const shoal_outcome_t *outcomes, const double *seconds, size_t count,
                     uint64_t unix_now)
{
    sqlite3_stmt *get = NULL, *put = NULL;
    self->err[0] = '\0';
    if (sqlite3_exec(self->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
        return s_db_fail(self, "cannot write");
    int rc = -1;
    if (sqlite3_prepare_v2(self->db,
                           "SELECT durations, outcomes, runs FROM shoal_tests "
                           "WHERE project = ?1 AND id = ?2",
                           -1, &get, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(self->db,
                           "INSERT OR REPLACE INTO shoal_tests "
                           "(project, id, durations, outcomes, runs, last_run) "
                           "VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                           -1, &put, NULL) != SQLITE_OK) {
        s_db_fail(self, "cannot write");
        goto cleanup;
    }
    for (size_t i = 0; i < count; i++) {
        if (outcomes[i] == SHOAL_OUTCOME_NOT_RUN || !ids[i])
            continue;
        if (s_record_one(self, get, put, project, ids[i], outcomes[i], seconds[i], unix_now) != 0)
            goto cleanup;
    }
    if (sqlite3_exec(self->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
        s_db_fail(self, "cannot write");
        goto cleanup;
    }
    rc = 0;
cleanup:
    sqlite3_finalize(get);
    sqlite3_finalize(put);
    if (rc != 0)
        sqlite3_exec(self->db, "ROLLBACK", NULL, NULL, NULL);
    return rc;
}

/* ---- import ---- */

typedef struct {
    char **ids;
    shoal_outcome_t *outcomes;
    double *seconds;
    size_t count, cap;
    bool oom;
} s_import_t;

static void
s_import_case(void *ctx, const char *id, const char *file, shoal_outcome_t outcome, double seconds)
{
    (void)file;
    s_import_t *im = ctx;
    if (im->oom)
        return;
    if (im->count == im->cap) {
        size_t cap = im->cap ? im->cap * 2 : 256;
        char **ids = realloc(im->ids, cap * sizeof(*ids));
        if (ids)
            im->ids = ids;
        shoal_outcome_t *outcomes = realloc(im->outcomes, cap * sizeof(*outcomes));
        if (outcomes)
            im->outcomes = outcomes;
        double *secs = realloc(im->seconds, cap * sizeof(*secs));
        if (secs)
            im->seconds = secs;
        if (!ids || !outcomes || !secs) {
            im->oom = true;
            return;
        }
        im->cap = cap;
    }
    if (!(im->ids[im->count] = strdup(id))) {
        im->oom = true;
        return;
    }
    im->outcomes[im->count] = outcome;
    im->seconds[im->count] = seconds;
    im->count++;
}

long
shoal_history_import(shoal_history_t *self, const char *project, const char *junit_path,
                     uint64_t unix_now, char *err, size_t err_size)
{
    s_import_t im = {0};
    long rc = -1;
    if (shoal_junit_read(junit_path, s_import_case, &im, err, err_size) != 0)
        goto cleanup;
    if (im.oom) {
        snprintf(err, err_size, "%s: out of memory", junit_path);
        goto cleanup;
    }
    if (shoal_history_record(self, project, (const char *const *)im.ids, im.outcomes, im.seconds,
                             im.count, unix_now) != 0) {
        snprintf(err, err_size, "%s", self->err);
        goto cleanup;
    }
    rc = (long)im.count;
cleanup:
    for (size_t i = 0; i < im.count; i++)
        free(im.ids[i]);
    free(im.ids);
    free(im.outcomes);
    free(im.seconds);
    return rc;
}
