/* Progress, summary and JSON report (see report.h). */
#include "node/report.h"
#include "node/adapter.h"
#include "node/json.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

void
shoal_report_init(shoal_report_t *self, size_t total, uint64_t now_ms)
{
    memset(self, 0, sizeof(*self));
    self->tty = isatty(STDOUT_FILENO);
    self->total = total;
    self->started_ms = now_ms;
    snprintf(self->reportchars, sizeof(self->reportchars), "fE");
}

void
shoal_report_options(shoal_report_t *self, int verbosity, const char *reportchars)
{
    self->verbosity = verbosity;
    snprintf(self->reportchars, sizeof(self->reportchars), "%s", reportchars ? reportchars : "");
}

static const char *
s_label(uint8_t outcome)
{
    static const char *labels[] = {"PASS", "FAIL", "ERROR", "SKIP", "NOTRUN", "XFAIL", "XPASS"};
    _Static_assert(sizeof(labels) / sizeof(labels[0]) == SHOAL_OUTCOME_COUNT, "an outcome unnamed");
    return outcome < SHOAL_OUTCOME_COUNT ? labels[outcome] : "?";
}

/* The terminal's width in columns; 80 if it does not say. */
static size_t
s_columns(void)
{
    struct winsize ws;
    if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
        return ws.ws_col;
    return 80;
}

void
shoal_report_progress(shoal_report_t *self, const uint32_t counts[SHOAL_COUNT_KINDS],
                      const shoal_item_t *finished, size_t count, uint64_t now_ms)
{
    if (self->forward) {
        self->forward(self->forward_arg, counts, finished, count);
        return;
    }
    uint32_t done = counts[SHOAL_COUNT_PASSED] + counts[SHOAL_COUNT_FAILED] +
                    counts[SHOAL_COUNT_ERROR] + counts[SHOAL_COUNT_SKIPPED];
    uint32_t total = done + counts[SHOAL_COUNT_RUNNING] + counts[SHOAL_COUNT_PENDING];
    /* A line per finished test (without a terminal, or with -v); failures
     * show by name as they happen in any case (above the status line). */
    bool every = !self->tty ? self->verbosity >= 0 : self->verbosity > 0;
    for (size_t i = 0; i < count; i++)
        if (every || shoal_outcome_failed((shoal_outcome_t)finished[i].outcome)) {
            printf("%s%-5s %s (%.2fs on %s)\n", self->tty ? "\r\033[K" : "",
                   s_label(finished[i].outcome), finished[i].id, finished[i].seconds,
                   finished[i].node ? finished[i].node : "?");
            self->shown++;
        }
    if (!self->tty) {
        fflush(stdout);
        return;
    }
    double elapsed = (double)(now_ms - self->started_ms) / 1000.0;
    double eta = done ? elapsed * (double)(total - done) / (double)done : 0;
    char line[512];
    snprintf(line, sizeof(line),
             "%u/%u %3.0f%%  passed %u  failed %u  errors %u  skipped %u  running %u  "
             "pending %u  %.0fs elapsed, ETA %.0fs",
             done, total, total ? 100.0 * done / total : 100.0, counts[SHOAL_COUNT_PASSED],
             counts[SHOAL_COUNT_FAILED], counts[SHOAL_COUNT_ERROR], counts[SHOAL_COUNT_SKIPPED],
             counts[SHOAL_COUNT_RUNNING], counts[SHOAL_COUNT_PENDING], elapsed, eta);
    size_t width = s_columns();
    if (width > 1 && strlen(line) >= width)
        line[width - 1] = '\0'; /* one line, never wrapped */
    printf("\r\033[K%s", line);
    fflush(stdout);
}

static int
s_by_seconds(const void *a, const void *b)
{
    const shoal_item_t *x = *(const shoal_item_t *const *)a, *y = *(const shoal_item_t *const *)b;
    return x->seconds < y->seconds ? 1 : x->seconds > y->seconds ? -1 : strcmp(x->id, y->id);
}

static int
s_by_id(const void *a, const void *b)
{
    const shoal_item_t *x = *(const shoal_item_t *const *)a, *y = *(const shoal_item_t *const *)b;
    return strcmp(x->id, y->id);
}

/* The last `lines` lines of text. */
static const char *
s_tail(const char *text, int lines)
{
    const char *p = text + strlen(text);
    while (p > text && lines >= 0) {
        p--;
        if (*p == '\n' && p[1] != '\0')
            lines--;
    }
    return lines < 0 ? p + 1 : text;
}

static void
s_members(FILE *out, const shoal_item_t **sorted, size_t count)
{
    /* per member: tests, busy seconds and tests it stole (sorted by node) */
    const char *names[256] = {0};
    size_t tests[256] = {0}, stolen[256] = {0}, members = 0;
    double busy[256] = {0};
    for (size_t i = 0; i < count; i++) {
        const char *node = sorted[i]->node && *sorted[i]->node ? sorted[i]->node : "-";
        size_t m = 0;
        while (m < members && strcmp(names[m], node) != 0)
            m++;
        if (m == members) {
            if (members == 256)
                continue;
            names[members++] = node;
        }
        tests[m]++;
        stolen[m] += sorted[i]->stolen;
        busy[m] += sorted[i]->seconds;
    }
    fprintf(out, "\nper member:\n");
    for (size_t m = 0; m < members; m++)
        fprintf(out, "  %-24s %6zu tests  %8.2fs busy  %6zu stolen\n", names[m], tests[m], busy[m],
                stolen[m]);
}

/* pytest's "short test summary info": a line per test of the outcomes -r
 * names, in id order. */
static void
s_short_summary(const shoal_report_t *self, FILE *out, const shoal_item_t **sorted, size_t count)
{
    static const struct {
        char c;
        shoal_outcome_t outcome;
        const char *word;
    } kinds[] = {{'p', SHOAL_OUTCOME_PASSED, "PASSED"},   {'P', SHOAL_OUTCOME_PASSED, "PASSED"},
                 {'s', SHOAL_OUTCOME_SKIPPED, "SKIPPED"}, {'x', SHOAL_OUTCOME_XFAILED, "XFAIL"},
                 {'X', SHOAL_OUTCOME_XPASSED, "XPASS"},   {'f', SHOAL_OUTCOME_FAILED, "FAILED"},
                 {'E', SHOAL_OUTCOME_ERROR, "ERROR"}};
    bool header = false;
    for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
        if (!strchr(self->reportchars, kinds[k].c) ||
            (kinds[k].c == 'P' && strchr(self->reportchars, 'p')))
            continue;
        for (size_t i = 0; i < count; i++) {
            const shoal_item_t *it = sorted[i];
            if (it->outcome != kinds[k].outcome)
                continue;
            if (!header)
                fprintf(out, "\nshort test summary info\n");
            header = true;
            const char *msg = it->message ? it->message : "";
            size_t len = strcspn(msg, "\n");
            fprintf(out, "%s %s%s%.*s\n", kinds[k].word, it->id, len ? " - " : "", (int)len, msg);
        }
    }
}

void
shoal_report_summary(shoal_report_t *self, FILE *out, const shoal_item_t *items, size_t count,
                     int status, const char *text, uint64_t now_ms)
{
    if (self->tty)
        fprintf(out, "\r\033[K");
    const shoal_item_t **sorted = calloc(count ? count : 1, sizeof(*sorted));
    size_t by_outcome[SHOAL_OUTCOME_COUNT] = {0}, flaky = 0;
    for (size_t i = 0; i < count; i++) {
        sorted[i] = &items[i];
        by_outcome[items[i].outcome < SHOAL_OUTCOME_COUNT ? items[i].outcome
                                                          : SHOAL_OUTCOME_NOT_RUN]++;
        flaky += items[i].flaky;
    }
    qsort(sorted, count, sizeof(*sorted), s_by_id);
    for (size_t i = 0; i < count; i++) {
        const shoal_item_t *it = sorted[i];
        if (it->outcome != SHOAL_OUTCOME_FAILED && it->outcome != SHOAL_OUTCOME_ERROR)
            continue;
        fprintf(out, "\n==== %s %s (on %s, attempt %u)\n", s_label(it->outcome), it->id,
                it->node && *it->node ? it->node : "?", it->attempt + 1);
        if (it->message && *it->message)
            fprintf(out, "%s\n", it->message);
        if (it->output && *it->output)
            fprintf(out, "---- output (tail)\n%s%s", s_tail(it->output, 20),
                    it->output[strlen(it->output) - 1] == '\n' ? "" : "\n");
    }
    s_short_summary(self, out, sorted, count);
    if (count && self->verbosity >= 0) {
        qsort(sorted, count, sizeof(*sorted), s_by_seconds);
        fprintf(out, "\nslowest:\n");
        for (size_t i = 0; i < count && i < 10; i++)
            fprintf(out, "  %8.2fs  %s\n", sorted[i]->seconds, sorted[i]->id);
        s_members(out, sorted, count);
    }
    for (size_t i = 0; i < count; i++)
        if (items[i].flaky)
            fprintf(out, "flaky: %s (passed on attempt %u)\n", items[i].id, items[i].attempt + 1);
    if (text && *text)
        fprintf(out, "\n%s\n", text);
    fprintf(out, "\n%zu tests in %.2fs: %zu failures, %zu errors, %zu flaky", count,
            (double)(now_ms - self->started_ms) / 1000.0, by_outcome[SHOAL_OUTCOME_FAILED],
            by_outcome[SHOAL_OUTCOME_ERROR], flaky);
    static const shoal_outcome_t more[] = {SHOAL_OUTCOME_XFAILED, SHOAL_OUTCOME_XPASSED,
                                           SHOAL_OUTCOME_NOT_RUN};
    for (size_t i = 0; i < sizeof(more) / sizeof(more[0]); i++)
        if (by_outcome[more[i]])
            fprintf(out, ", %zu %s", by_outcome[more[i]], shoal_outcome_str(more[i]));
    /* The closing line CI systems read: failed counts errors, passed counts
     * xpasses, skipped counts xfails and tests not run. */
    fprintf(out, "\n%zu passed, %zu failed, %zu skipped\n",
            by_outcome[SHOAL_OUTCOME_PASSED] + by_outcome[SHOAL_OUTCOME_XPASSED],
            by_outcome[SHOAL_OUTCOME_FAILED] + by_outcome[SHOAL_OUTCOME_ERROR],
            by_outcome[SHOAL_OUTCOME_SKIPPED] + by_outcome[SHOAL_OUTCOME_XFAILED] +
                by_outcome[SHOAL_OUTCOME_NOT_RUN]);
    (void)status;
    free(sorted);
}

/* mkdir of one directory on the way down; an existing directory is fine. */
static int
s_make_dir(const char *path, const char *dir, char *err, size_t err_size)
{
    struct stat st;
    if (mkdir(dir, 0777) == 0)
        return 0;
    int error = errno;
    if (error == EEXIST && stat(dir, &st) == 0 && S_ISDIR(st.st_mode))
        return 0;
    snprintf(err, err_size, "cannot write '%s': cannot create directory '%s': %s", path, dir,
             strerror(error == EEXIST ? ENOTDIR : error));
    return -1;
}

int
shoal_report_path_ready(const char *path, char *err, size_t err_size)
{
    char dir[PATH_MAX];
    if (!*path || snprintf(dir, sizeof(dir), "%s", path) >= (int)sizeof(dir)) {
        snprintf(err, err_size, "cannot write '%.200s': %s", path,
                 *path ? "the path is too long" : "no file name");
        return -1;
    }
    char *slash = strrchr(dir, '/');
    if (slash)
        *slash = '\0';
    else
        snprintf(dir, sizeof(dir), ".");
    /* Each prefix that ends before a slash, then the directory itself. */
    for (char *p = dir + 1; dir[0] && *p; p++) {
        if (*p != '/' || p[-1] == '/')
            continue;
        *p = '\0';
        int rc = s_make_dir(path, dir, err, err_size);
        *p = '/';
        if (rc != 0)
            return -1;
    }
    if (dir[0] && s_make_dir(path, dir, err, err_size) != 0)
        return -1;
    struct stat st;
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
        snprintf(err, err_size, "cannot write '%s': it is a directory", path);
        return -1;
    }
    if (access(dir[0] ? dir : "/", W_OK | X_OK) != 0) {
        snprintf(err, err_size, "cannot write '%s': %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

/* path with its directory resolved (links, "..") into out; false if it
 * cannot be. */
static bool
s_resolved_dir(const char *path, char out[PATH_MAX])
{
    char dir[PATH_MAX];
    snprintf(dir, sizeof(dir), "%s", path);
    char *slash = strrchr(dir, '/');
    const char *base = slash ? path + (slash - dir) + 1 : path;
    if (slash)
        *(slash == dir ? slash + 1 : slash) = '\0';
    char real[PATH_MAX];
    if (!realpath(slash ? dir : ".", real))
        return false;
    return snprintf(out, PATH_MAX, "%s/%s", real, base) < PATH_MAX;
}

bool
shoal_report_target(const char *path, char out[PATH_MAX])
{
    if (realpath(path, out))
        return true;
    char link[PATH_MAX];
    ssize_t n = readlink(path, link, sizeof(link) - 1);
    if (n <= 0)
        return s_resolved_dir(path, out);
    link[n] = '\0';
    if (link[0] == '/')
        return s_resolved_dir(link, out);
    char beside[2 * PATH_MAX];
    const char *slash = strrchr(path, '/');
    snprintf(beside, sizeof(beside), "%.*s%s", slash ? (int)(slash - path + 1) : 0, path, link);
    return strlen(beside) < PATH_MAX && s_resolved_dir(beside, out);
}

int
shoal_report_file_open(shoal_report_file_t *self, const char *path, char *err, size_t err_size)
{
    memset(self, 0, sizeof(*self));
    if (shoal_report_path_ready(path, err, err_size) != 0)
        return -1;
    struct stat st;
    bool exists = stat(path, &st) == 0;
    self->in_place = exists && !S_ISREG(st.st_mode);
    if (self->in_place)
        self->out = fopen(path, "w");
    else {
        if (!exists || !realpath(path, self->target))
            snprintf(self->target, sizeof(self->target), "%s", path);
        snprintf(self->tmp, sizeof(self->tmp), "%s.tmp", self->target);
        self->out = fopen(self->tmp, "w");
    }
    if (!self->out) {
        snprintf(err, err_size, "cannot write '%s': %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

int
shoal_report_file_commit(shoal_report_file_t *self, const char *path, char *err, size_t err_size)
{
    FILE *out = self->out;
    self->out = NULL;
    errno = 0;
    bool written = fflush(out) == 0 && !ferror(out) && (self->in_place || fsync(fileno(out)) == 0);
    int saved = errno ? errno : EIO;
    if (fclose(out) != 0 && written) {
        written = false;
        saved = errno;
    }
    if (written && !self->in_place && rename(self->tmp, self->target) != 0) {
        written = false;
        saved = errno;
    }
    if (!written) {
        snprintf(err, err_size, "cannot write '%s': %s", path, strerror(saved));
        if (!self->in_place)
            unlink(self->tmp);
        return -1;
    }
    return 0;
}

void
shoal_report_file_abort(shoal_report_file_t *self)
{
    if (self->out)
        fclose(self->out);
    self->out = NULL;
    if (!self->in_place && self->tmp[0])
        unlink(self->tmp);
}

int
shoal_report_json(const char *path, const shoal_item_t *items, size_t count, int status, char *err,
                  size_t err_size)
{
    shoal_report_file_t file;
    if (shoal_report_file_open(&file, path, err, err_size) != 0)
        return -1;
    FILE *out = file.out;
    fprintf(out, "{\"status\":%d,\"tests\":[", status);
    for (size_t i = 0; i < count; i++) {
        const shoal_item_t *it = &items[i];
        fprintf(out, "%s\n{\"id\":", i ? "," : "");
        shoal_json_string(out, it->id);
        fprintf(out, ",\"outcome\":\"%s\",\"seconds\":%.3f,\"node\":",
                shoal_outcome_str((shoal_outcome_t)it->outcome), it->seconds);
        shoal_json_string(out, it->node ? it->node : "");
        fprintf(out, ",\"attempts\":%u,\"flaky\":%s,\"message\":", it->attempt + 1,
                it->flaky ? "true" : "false");
        shoal_json_string(out, it->message ? it->message : "");
        fputc('}', out);
    }
    fprintf(out, "]}\n");
    return shoal_report_file_commit(&file, path, err, err_size);
}
