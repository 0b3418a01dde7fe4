/* What a participant shows and writes about a session: the live progress (a
 * status line on a terminal, one line per finished test otherwise), the final
 * summary, and the JUnit and JSON reports. Every participant renders the same
 * summary items, so they all print and write the same thing. A report goes
 * where it was asked to: missing directories are made, and a path that
 * cannot be written is an error naming it and the cause. */
#ifndef SHOAL_NODE_REPORT_H
#define SHOAL_NODE_REPORT_H

#include "node/session_msg.h"

#include <stdbool.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>

typedef struct {
    bool tty;
    uint64_t started_ms;
    size_t total;
    size_t shown;         /* finished-test lines printed */
    int verbosity;        /* < 0: quieter (-q), > 0: every test (-v) */
    char reportchars[16]; /* the short summary's outcomes, as pytest's -r ("fE") */
    /* A host that runs the session for a client (serve.h) forwards the
     * progress there instead of printing it; NULL prints. */
    void (*forward)(void *arg, const uint32_t counts[SHOAL_COUNT_KINDS],
                    const shoal_item_t *finished, size_t count);
    void *forward_arg;
} shoal_report_t;

/* Verbosity 0, short summary of failures and errors ("fE"). */
void shoal_report_init(shoal_report_t *self, size_t total, uint64_t now_ms);
/* What to print, from the framework's own options (pytest's -v/-q and -r):
 * verbosity < 0 prints no line per passing test and no timing tables; > 0
 * prints every finished test on a terminal too; reportchars picks the
 * outcomes of the short summary (f failed, E error, s skipped, x xfailed,
 * X xpassed, p/P passed). */
void shoal_report_options(shoal_report_t *self, int verbosity, const char *reportchars);
/* Live progress from a PROGRESS message (to the forward hook when set). */
void shoal_report_progress(shoal_report_t *self, const uint32_t counts[SHOAL_COUNT_KINDS],
                           const shoal_item_t *finished, size_t count, uint64_t now_ms);
/* The final summary: counts, failures with their output tail and node, the ten
 * slowest tests, per-member tests and busy time. */
void shoal_report_summary(shoal_report_t *self, FILE *out, const shoal_item_t *items, size_t count,
                          int status, const char *text, uint64_t now_ms);
/* JSON: {"status":N,"tests":[{id, outcome, seconds, node, attempts, flaky, message}]},
 * written to path.tmp then renamed; the directories above path are made
 * first. 0, or -1 with "cannot write 'PATH': cause" in err. */
int shoal_report_json(const char *path, const shoal_item_t *items, size_t count, int status,
                      char *err, size_t err_size);
/* Gets path ready for a report, as pytest does for --junitxml: makes the
 * directories above it (mkdir -p) and checks it is not a directory and its
 * directory is writable. 0, or -1 with "cannot write 'PATH': cause" in err. */
int shoal_report_path_ready(const char *path, char *err, size_t err_size);

/* A report being written to path: as TARGET.tmp beside its target, renamed
 * over it once complete (a reader never sees half a report), where TARGET is
 * path or, for a symlink, the file it names (the link stays). A path that
 * exists and is not a regular file (/dev/stdout, a FIFO, /dev/full) is
 * written in place: renaming over it would replace it. */
typedef struct {
    char target[PATH_MAX];
    char tmp[PATH_MAX + 8];
    bool in_place;
    FILE *out; /* write the report here */
} shoal_report_file_t;

/* The file a report at path ends up in, into out (PATH_MAX bytes): links and
 * ".." resolved, a link followed even to a target not there yet (another
 * report may create it first). False if it cannot be told. Two reports
 * whose targets match would overwrite each other. */
bool shoal_report_target(const char *path, char out[PATH_MAX]);
/* Gets path ready (shoal_report_path_ready) and opens the file to write.
 * 0, or -1 with "cannot write 'PATH': cause" in err. */
int shoal_report_file_open(shoal_report_file_t *self, const char *path, char *err, size_t err_size);
/* Completes the report: every byte written and synced, then renamed into
 * place. 0, or -1 with "cannot write 'PATH': cause" in err (a full disk, a
 * write error: nothing replaced the old report then). Closes in both cases. */
int shoal_report_file_commit(shoal_report_file_t *self, const char *path, char *err,
                             size_t err_size);
/* Gives up a report not committed: closes and removes the temporary. */
void shoal_report_file_abort(shoal_report_file_t *self);

#endif
