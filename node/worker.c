/* A pytest worker (see worker.h): the executor runs the process; this file
 * speaks the line protocol and turns a batch's events into results. */
#include "node/worker.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define S_LINE_MAX (4 * SHOAL_ADAPTER_OUTPUT_CAP) /* a longer event line is a broken worker */
#define S_SEND_TIMEOUT_MS 1000
#define S_FIELDS_MAX 8

extern const char shoal_worker_plugin[];
extern const size_t shoal_worker_plugin_len;

struct shoal_worker {
    shoal_exec_t *exec;
    bool ready;     /* said "ready": collected */
    bool dead;      /* exited or killed; reaped */
    bool busy;      /* a batch was sent and its results not yet taken */
    bool over;      /* ...and it is over ("done", or the worker died) */
    bool timed_out; /* we killed it: the batch ran past its timeout */
    char **ids;
    size_t count;
    shoal_test_result_t *results;
    bool *have;
    size_t next;  /* index of the next id the worker should name */
    size_t begun; /* index of the test it began last; count if none */
    uint64_t started, deadline;
    char *buf; /* partial event line */
    size_t len, cap;
};

int
shoal_worker_install(const char *dir, char *err, size_t err_size)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s.py", dir, SHOAL_WORKER_MODULE);
    FILE *f = fopen(path, "w");
    bool ok =
        f && fwrite(shoal_worker_plugin, 1, shoal_worker_plugin_len, f) == shoal_worker_plugin_len;
    if (f && fclose(f) != 0)
        ok = false;
    if (!ok)
        snprintf(err, err_size, "cannot write %s: %s", path, strerror(errno));
    return ok ? 0 : -1;
}

shoal_worker_t *
shoal_worker_new(const shoal_exec_spec_t *spec, uint64_t now, char *err, size_t err_size)
{
    shoal_worker_t *self = calloc(1, sizeof(*self));
    if (!self) {
        snprintf(err, err_size, "out of memory");
        return NULL;
    }
    shoal_exec_spec_t with_channel = *spec;
    with_channel.channel = true;
    self->exec = shoal_exec_start(&with_channel, now, err, err_size);
    if (!self->exec) {
        free(self);
        return NULL;
    }
    self->dead = shoal_exec_result(self->exec) != NULL; /* could not even start */
    return self;
}

static void
s_batch_clear(shoal_worker_t *self)
{
    for (size_t i = 0; i < self->count; i++) {
        free(self->ids[i]);
        shoal_test_result_clear(&self->results[i]);
    }
    free(self->ids);
    free(self->results);
    free(self->have);
    self->ids = NULL;
    self->results = NULL;
    self->have = NULL;
    self->count = 0;
    self->busy = self->over = false;
}

void
shoal_worker_destroy(shoal_worker_t **self_p)
{
    shoal_worker_t *self = *self_p;
    if (!self)
        return;
    s_batch_clear(self);
    shoal_exec_destroy(&self->exec);
    free(self->buf);
    free(self);
    *self_p = NULL;
}

int
shoal_worker_run(shoal_worker_t *self, const char *const *ids, size_t count, uint64_t timeout_ms,
                 uint64_t now)
{
    if (self->dead || self->busy || count == 0)
        return -1;
    size_t len = strlen("run\n");
    for (size_t i = 0; i < count; i++)
        len += 1 + strlen(ids[i]);
    char *line = malloc(len + 1);
    self->ids = calloc(count, sizeof(char *));
    self->results = calloc(count, sizeof(shoal_test_result_t));
    self->have = calloc(count, sizeof(bool));
    if (!line || !self->ids || !self->results || !self->have) {
        free(line);
        s_batch_clear(self);
        return -1;
    }
    self->count = count;
    char *p = line + sprintf(line, "run");
    for (size_t i = 0; i < count; i++) {
        /* Ids were validated (I3): no tabs or newlines in them. */
        p += sprintf(p, "\t%s", ids[i]);
        self->ids[i] = strdup(ids[i]);
        self->results[i] = (shoal_test_result_t){.index = i, .outcome = SHOAL_OUTCOME_NOT_RUN};
    }
    *p++ = '\n';
    self->busy = true;
    self->next = 0;
    self->begun = count;
    self->started = now;
    self->deadline = timeout_ms ? now + timeout_ms : 0;
    int rc = shoal_exec_channel_send(self->exec, line, (size_t)(p - line), S_SEND_TIMEOUT_MS);
    free(line);
    if (rc != 0)
        shoal_exec_kill(self->exec); /* it cannot take work: the batch ends as a death */
    return 0;
}

size_t
shoal_worker_split(char *line, char **fields, size_t max)
{
    size_t n = 0;
    char *out = line;
    if (max == 0)
        return 0;
    fields[n++] = out;
    for (char *in = line; *in; in++) {
        if (*in == '\t') {
            *out++ = '\0';
            if (n == max)
                return n;
            fields[n++] = out;
        } else if (*in == '\\' && in[1]) {
            in++;
            *out++ = *in == 't' ? '\t' : *in == 'n' ? '\n' : *in == 'r' ? '\r' : *in;
        } else {
            *out++ = *in;
        }
    }
    *out = '\0';
    return n;
}

/* The index of id at or after next (the worker names them in order). */
static size_t
s_index(const shoal_worker_t *self, const char *id)
{
    for (size_t i = self->next; i < self->count; i++)
        if (strcmp(self->ids[i], id) == 0)
            return i;
    return self->count;
}

static shoal_outcome_t
s_outcome(const char *word)
{
    if (strcmp(word, "passed") == 0)
        return SHOAL_OUTCOME_PASSED;
    if (strcmp(word, "failed") == 0)
        return SHOAL_OUTCOME_FAILED;
    if (strcmp(word, "skipped") == 0)
        return SHOAL_OUTCOME_SKIPPED;
    return SHOAL_OUTCOME_ERROR;
}

static void
s_event(shoal_worker_t *self, char *line)
{
    char *f[S_FIELDS_MAX];
    size_t n = shoal_worker_split(line, f, S_FIELDS_MAX);
    if (strcmp(f[0], "ready") == 0) {
        self->ready = true;
    } else if (strcmp(f[0], "done") == 0) {
        self->over = self->busy;
    } else if (strcmp(f[0], "begin") == 0 && n == 2 && self->busy) {
        self->begun = s_index(self, f[1]);
    } else if (strcmp(f[0], "result") == 0 && n == 6 && self->busy) {
        size_t i = s_index(self, f[1]);
        if (i == self->count)
            return; /* not ours: ignore */
        shoal_outcome_t outcome = s_outcome(f[2]);
        bool quiet = outcome == SHOAL_OUTCOME_PASSED || outcome == SHOAL_OUTCOME_SKIPPED;
        if (shoal_test_result_set(&self->results[i], outcome, strtod(f[3], NULL), f[4],
                                  quiet ? "" : f[5], "") != 0)
            return; /* out of memory: it counts as not reported */
        self->have[i] = true;
        self->next = i + 1;
        self->begun = self->count;
    }
}

/* Reads and handles every complete event line that has arrived. */
static void
s_read(shoal_worker_t *self)
{
    int fd = shoal_exec_channel(self->exec);
    for (;;) {
        if (self->cap - self->len < 65536) {
            size_t cap = self->cap ? self->cap * 2 : 131072;
            char *grown = cap <= S_LINE_MAX * 2 ? realloc(self->buf, cap) : NULL;
            if (!grown) {
                shoal_exec_kill(self->exec); /* a line that never ends: a broken worker */
                return;
            }
            self->buf = grown;
            self->cap = cap;
        }
        ssize_t got = recv(fd, self->buf + self->len, self->cap - self->len - 1, MSG_DONTWAIT);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            return;
        self->len += (size_t)got;
        char *start = self->buf, *nl;
        while ((nl = memchr(start, '\n', self->len - (size_t)(start - self->buf)))) {
            *nl = '\0';
            s_event(self, start);
            start = nl + 1;
        }
        self->len -= (size_t)(start - self->buf);
        memmove(self->buf, start, self->len);
    }
}

bool
shoal_worker_poll(shoal_worker_t *self, uint64_t now)
{
    if (!self->dead) {
        s_read(self);
        if (shoal_exec_poll(self->exec, now)) {
            s_read(self); /* what it said before it went */
            self->dead = true;
        } else if (self->busy && !self->over && self->deadline && now >= self->deadline) {
            self->timed_out = true;
            shoal_exec_kill(self->exec);
        }
    }
    if (self->busy && self->dead)
        self->over = true;
    return self->busy && self->over;
}

int
shoal_worker_results(shoal_worker_t *self, shoal_test_result_t *results)
{
    int rc = 0;
    const shoal_exec_result_t *exec = self->dead ? shoal_exec_result(self->exec) : NULL;
    /* Dead before it was ready: nothing of the batch can run here. */
    bool all = exec && !self->ready;
    char reason[512] = "";
    const char *output = "";
    if (exec) {
        const char *lead = all && !exec->spawn_failed ? "pytest could not start: " : "";
        output = shoal_output_tail(exec->output, exec->output_len, SHOAL_ADAPTER_OUTPUT_CAP);
        if (exec->spawn_failed)
            snprintf(reason, sizeof(reason), "%s", exec->output);
        else if (self->timed_out)
            snprintf(reason, sizeof(reason), "timed out after %.1fs",
                     (double)(self->deadline - self->started) / 1000.0);
        else if (exec->signal)
            snprintf(reason, sizeof(reason), "%scrashed: killed by signal %d", lead, exec->signal);
        else
            snprintf(reason, sizeof(reason), "%sthe pytest worker exited with status %d", lead,
                     exec->exit_code);
    }
    size_t blame = self->begun < self->count ? self->begun : self->next;
    for (size_t i = 0; i < self->count; i++) {
        results[i] = self->results[i];
        memset(&self->results[i], 0, sizeof(self->results[i]));
        results[i].index = i;
        if (self->have[i])
            continue;
        if (all || (exec && i == blame))
            rc |= shoal_test_result_set(&results[i], SHOAL_OUTCOME_ERROR, 0,
                                        reason[0] ? reason : "no result", output, "");
        else if (!exec)
            rc |= shoal_test_result_set(&results[i], SHOAL_OUTCOME_ERROR, 0,
                                        "no result from the worker", "", "");
        /* else: after the one that took the worker down: not run, dealt again */
    }
    s_batch_clear(self);
    return rc ? -1 : 0;
}

bool
shoal_worker_alive(const shoal_worker_t *self)
{
    return !self->dead;
}

size_t
shoal_worker_fds(const shoal_worker_t *self, int fds[2])
{
    size_t n = 0;
    if (self->dead)
        return 0;
    if (shoal_exec_channel(self->exec) >= 0)
        fds[n++] = shoal_exec_channel(self->exec);
    if (shoal_exec_fd(self->exec) >= 0)
        fds[n++] = shoal_exec_fd(self->exec);
    return n;
}
