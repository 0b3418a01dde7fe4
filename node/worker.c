/* A hot worker (see worker.h): the executor runs the process; this file
 * speaks the line protocol, keeps what the worker collected, and turns a
 * batch's events into results. */
#include "node/worker.h"

#include "node/files.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define S_LINE_MAX (1024 * 1024) /* a longer event line is dropped and counted */
#define S_SEND_TIMEOUT_MS 1000
#define S_FIELDS_MAX 8
#define S_PROTOCOL_VERSION "1" /* what `hello` must say */

extern const char shoal_worker_plugin[];
extern const size_t shoal_worker_plugin_len;
extern const char shoal_worker_mocha_plugin[];
extern const size_t shoal_worker_mocha_plugin_len;

struct shoal_worker {
    shoal_exec_t *exec;
    bool ready;     /* said "ready": collected */
    bool taken;     /* its collection was taken */
    bool dead;      /* exited or killed; reaped */
    bool closing;   /* told to finish: no more batches */
    bool busy;      /* a batch was sent and its results not yet taken */
    bool over;      /* ...and it is over ("done", or the worker died) */
    bool timed_out; /* we killed it: a test ran past its timeout */
    char *held;     /* the test it keeps back for its next batch, or NULL */
    size_t held_at; /* in the batch: the index it said it holds; count if none */
    shoal_collection_t collection;
    char **ids;
    size_t count;
    shoal_test_result_t *results;
    bool *have;
    bool *handed; /* have[i] handed out by shoal_worker_take_finished */
    size_t begun; /* index of the test it began last; count if none */
    uint64_t test_timeout, deadline, kill_at;
    uint64_t begun_at, died_at; /* when the test begun last started; when the worker died */
    char *buf;                  /* partial event line */
    size_t len, cap;
    bool skipping; /* dropping the rest of an overlong line */
    size_t dropped;
};

/* Every plugin, whichever framework runs: they are small, and the session
 * need not know which one its adapter starts. */
int
shoal_worker_install(const char *dir, char *err, size_t err_size)
{
    if (shoal_write_file(dir, SHOAL_WORKER_MODULE ".py", shoal_worker_plugin,
                         shoal_worker_plugin_len, err, err_size) != 0)
        return -1;
    return shoal_write_file(dir, SHOAL_WORKER_MOCHA_SCRIPT, shoal_worker_mocha_plugin,
                            shoal_worker_mocha_plugin_len, err, err_size);
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
    free(self->handed);
    self->ids = NULL;
    self->results = NULL;
    self->have = NULL;
    self->handed = NULL;
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
    free(self->held);
    shoal_exec_destroy(&self->exec);
    shoal_collection_clear(&self->collection);
    free(self->buf);
    free(self);
    *self_p = NULL;
}

bool
shoal_worker_ready(const shoal_worker_t *self)
{
    return self->ready;
}

int
shoal_worker_take_collection(shoal_worker_t *self, shoal_collection_t *out)
{
    shoal_collection_clear(out);
    if (!self->ready || self->taken || shoal_collection_index(&self->collection) != 0)
        return -1;
    *out = self->collection;
    memset(&self->collection, 0, sizeof(self->collection));
    self->taken = true;
    return 0;
}

char *
shoal_worker_escape(char *p, const char *text)
{
    for (; *text; text++) {
        char c = *text;
        if ((unsigned char)c == 0xC0 && (unsigned char)text[1] == 0x80) {
            *p++ = '\\'; /* a NUL as shoal_worker_split keeps it: "\0" again */
            *p++ = '0';
            text++;
            continue;
        }
        if (c == '\\' || c == '\t' || c == '\n' || c == '\r') {
            *p++ = '\\';
            c = c == '\t' ? 't' : c == '\n' ? 'n' : c == '\r' ? 'r' : c;
        }
        *p++ = c;
    }
    return p;
}

int
shoal_worker_run(shoal_worker_t *self, const char *const *ids, size_t count, bool hold,
                 unsigned workers, uint64_t test_timeout_ms, uint64_t now)
{
    size_t held = self->held != NULL;
    if (self->dead || self->busy || self->closing || held + count == 0)
        return -1;
    size_t len = strlen("run\t0\t4294967295\n");
    for (size_t i = 0; i < count; i++)
        len += 1 + 2 * strlen(ids[i]);
    char *line = malloc(len + 1);
    self->ids = calloc(held + count, sizeof(char *));
    self->results = calloc(held + count, sizeof(shoal_test_result_t));
    self->have = calloc(held + count, sizeof(bool));
    self->handed = calloc(held + count, sizeof(bool));
    bool oom = !line || !self->ids || !self->results || !self->have || !self->handed;
    char *p = line;
    if (!oom) {
        p += sprintf(line, "run\t%d\t%u", hold && count > 0 ? 1 : 0, workers); /* none: a flush */
        if (held) {
            /* The test held back is the batch's first: it runs first. */
            self->ids[0] = self->held;
            self->held = NULL;
            self->count = 1;
        }
    }
    for (size_t i = 0; i < count && !oom; i++) {
        *p++ = '\t';
        p = shoal_worker_escape(p, ids[i]);
        oom = !(self->ids[held + i] = strdup(ids[i]));
        self->count = held + i + 1;
    }
    if (oom) {
        free(line);
        s_batch_clear(self);
        return -1;
    }
    for (size_t i = 0; i < self->count; i++)
        self->results[i] = (shoal_test_result_t){.index = i, .outcome = SHOAL_OUTCOME_NOT_RUN};
    *p++ = '\n';
    self->busy = true;
    self->begun = self->held_at = self->count;
    self->test_timeout = test_timeout_ms;
    self->deadline = test_timeout_ms ? now + test_timeout_ms : 0;
    int rc = shoal_exec_channel_send(self->exec, line, (size_t)(p - line), S_SEND_TIMEOUT_MS);
    free(line);
    if (rc != 0)
        shoal_exec_kill(self->exec); /* it cannot take work: the batch ends as a death */
    return 0;
}

int
shoal_worker_tell_final(shoal_worker_t *self, bool failed, const char *const *ids, size_t count)
{
    if (self->dead || self->closing || !self->ready || count == 0)
        return self->dead || self->closing ? -1 : 0;
    size_t len = strlen("final\tpassed\n");
    for (size_t i = 0; i < count; i++)
        len += 1 + 2 * strlen(ids[i]);
    char *line = malloc(len + 1);
    if (!line)
        return -1;
    char *p = line + sprintf(line, "final\t%s", failed ? "failed" : "passed");
    for (size_t i = 0; i < count; i++) {
        *p++ = '\t';
        p = shoal_worker_escape(p, ids[i]);
    }
    *p++ = '\n';
    int rc = shoal_exec_channel_send(self->exec, line, (size_t)(p - line), S_SEND_TIMEOUT_MS);
    free(line);
    return rc;
}

int
shoal_worker_tell_stop(shoal_worker_t *self, const char *why)
{
    if (self->dead || self->closing)
        return -1;
    char *line = malloc(strlen("stop\t\n") + 2 * strlen(why) + 1);
    if (!line)
        return -1;
    char *p = shoal_worker_escape(line + sprintf(line, "stop\t"), why);
    *p++ = '\n';
    int rc = shoal_exec_channel_send(self->exec, line, (size_t)(p - line), S_SEND_TIMEOUT_MS);
    free(line);
    return rc;
}

const char *
shoal_worker_held(const shoal_worker_t *self)
{
    return self->held;
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
            if (*in == '0') {
                /* A NUL cannot live in a C string: kept as C0 80 (the
                 * overlong NUL of modified UTF-8, which no UTF-8 text
                 * holds), so it stays apart from a backslash and a '0',
                 * and shoal_worker_escape sends it back as "\0". */
                *out++ = (char)0xC0;
                *out++ = (char)0x80;
                continue;
            }
            *out++ = *in == 't' ? '\t' : *in == 'n' ? '\n' : *in == 'r' ? '\r' : *in;
        } else {
            *out++ = *in;
        }
    }
    *out = '\0';
    return n;
}

/* The index of id among the tests without a result yet (a worker may report
 * them in any order: a driver runs a batch in several invocations, and a
 * framework may run tests of one invocation side by side). */
static size_t
s_index(const shoal_worker_t *self, const char *id)
{
    for (size_t i = 0; i < self->count; i++)
        if (!self->have[i] && strcmp(self->ids[i], id) == 0)
            return i;
    return self->count;
}

/* An outcome word; "not-run" says the worker never got to the test (a
 * driver's framework ended before it): it is dealt again. Unknown words are
 * errors. */
static shoal_outcome_t
s_outcome(const char *word)
{
    for (int o = 0; o < SHOAL_OUTCOME_COUNT; o++)
        if (strcmp(word, shoal_outcome_str((shoal_outcome_t)o)) == 0)
            return (shoal_outcome_t)o;
    return SHOAL_OUTCOME_ERROR;
}

static unsigned
s_number(const char *text)
{
    unsigned long v = strtoul(text, NULL, 10);
    return v > 1000000000UL ? 1000000000U : (unsigned)v;
}

/* Collection events, before "ready". */
static void
s_on_collected(shoal_worker_t *self, char **f, size_t n)
{
    shoal_collection_t *c = &self->collection;
    if (strcmp(f[0], "hello") == 0 && n >= 2) {
        if (strcmp(f[1], S_PROTOCOL_VERSION) != 0) {
            /* Another protocol: nothing it says can be trusted to mean the same. */
            fprintf(stderr, "shoal: a worker speaks protocol %.20s, this shoal %s: stopped it\n",
                    f[1], S_PROTOCOL_VERSION);
            shoal_exec_kill(self->exec);
        }
    } else if (strcmp(f[0], "item") == 0 && n == 4) {
        (void)shoal_collection_add(c, f[1], f[2], s_number(f[3]), NULL);
    } else if (strcmp(f[0], "collected") == 0 && n == 5) {
        shoal_outcome_t o = s_outcome(f[2]);
        (void)shoal_collection_add_preset(
            c, f[1], o == SHOAL_OUTCOME_NOT_RUN ? SHOAL_OUTCOME_ERROR : o, f[3], f[4]);
    } else if (strcmp(f[0], "notice") == 0 && n == 2 && !c->notice) {
        c->notice = strdup(f[1]);
    } else if (strcmp(f[0], "ready") == 0 && n == 6) {
        c->maxfail = s_number(f[2]);
        c->interrupted = f[3][0] ? strdup(f[3]) : NULL;
        c->verbosity = (int)strtol(f[4], NULL, 10);
        snprintf(c->reportchars, sizeof(c->reportchars), "%s", f[5]);
        self->ready = true;
    }
}

static void
s_event(shoal_worker_t *self, char *line, uint64_t now)
{
    char *f[S_FIELDS_MAX];
    size_t n = shoal_worker_split(line, f, S_FIELDS_MAX);
    if (!self->ready) {
        s_on_collected(self, f, n);
    } else if (strcmp(f[0], "done") == 0) {
        self->over = self->busy;
    } else if (strcmp(f[0], "held") == 0 && n == 2 && self->busy) {
        self->held_at = s_index(self, f[1]);
    } else if (strcmp(f[0], "begin") == 0 && n == 2 && self->busy) {
        self->begun = s_index(self, f[1]);
        self->begun_at = now;
        if (self->test_timeout)
            self->deadline = now + self->test_timeout;
    } else if (strcmp(f[0], "result") == 0 && n == 6 && self->busy) {
        size_t i = s_index(self, f[1]);
        if (i == self->count)
            return; /* not ours: ignore */
        shoal_outcome_t outcome = s_outcome(f[2]);
        bool quiet = !shoal_outcome_failed(outcome);
        if (shoal_test_result_set(&self->results[i], outcome, strtod(f[3], NULL), f[4],
                                  quiet ? "" : f[5], "") != 0)
            return; /* out of memory: it counts as not reported */
        self->have[i] = true;
        if (self->begun == i)
            self->begun = self->count;
    }
}

/* Handles the complete lines in buf[0..len); keeps a partial one. */
static void
s_lines(shoal_worker_t *self, uint64_t now)
{
    char *start = self->buf, *nl;
    while ((nl = memchr(start, '\n', self->len - (size_t)(start - self->buf)))) {
        *nl = '\0';
        if (self->skipping)
            self->skipping = false; /* the end of a dropped line */
        else
            s_event(self, start, now);
        start = nl + 1;
    }
    self->len -= (size_t)(start - self->buf);
    memmove(self->buf, start, self->len);
    if (self->len >= S_LINE_MAX) {
        /* A line that does not end within the cap: drop it, not the worker. */
        if (!self->skipping)
            self->dropped++;
        self->skipping = true;
        self->len = 0;
    }
}

/* Reads and handles every complete event line that has arrived. */
static void
s_read(shoal_worker_t *self, uint64_t now)
{
    int fd = shoal_exec_channel(self->exec);
    for (;;) {
        if (self->cap - self->len < 65536) {
            size_t cap = self->cap ? self->cap * 2 : 131072;
            char *grown = realloc(self->buf, cap);
            if (!grown) {
                self->dropped++;
                self->skipping = true;
                self->len = 0;
                continue;
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
        s_lines(self, now);
    }
}

bool
shoal_worker_poll(shoal_worker_t *self, uint64_t now)
{
    if (!self->dead) {
        s_read(self, now);
        if (shoal_exec_poll(self->exec, now)) {
            s_read(self, now); /* what it said before it went */
            self->dead = true;
            self->died_at = now;
        } else if (self->busy && !self->over && self->deadline && now >= self->deadline) {
            self->timed_out = true;
            shoal_exec_kill(self->exec);
        } else if (self->closing && self->kill_at && now >= self->kill_at) {
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
        const char *lead = all && !exec->spawn_failed ? "the test runner could not start: " : "";
        output = shoal_output_tail(exec->output, exec->output_len, SHOAL_ADAPTER_OUTPUT_CAP);
        if (exec->spawn_failed)
            snprintf(reason, sizeof(reason), "%s", exec->output);
        else if (self->timed_out)
            snprintf(reason, sizeof(reason), "timed out after %.1fs",
                     (double)self->test_timeout / 1000.0);
        else if (exec->signal)
            snprintf(reason, sizeof(reason), "%scrashed: killed by signal %d", lead, exec->signal);
        else
            snprintf(reason, sizeof(reason), "%sthe worker exited with status %d", lead,
                     exec->exit_code);
    }
    size_t blame = self->begun;
    for (size_t i = 0; i < self->count && blame >= self->count; i++)
        if (!self->have[i])
            blame = i; /* nothing begun: what it was about to run */
    for (size_t i = 0; i < self->count; i++) {
        results[i] = self->results[i];
        memset(&self->results[i], 0, sizeof(self->results[i]));
        results[i].index = i;
        results[i].reported = self->handed[i];
        if (self->have[i])
            continue;
        if (i == self->held_at && !exec) {
            /* Kept back alive: it runs first in the next batch. */
            results[i].held = true;
            self->held = self->ids[i];
            self->ids[i] = NULL;
            continue;
        }
        /* The test that took the worker down ran until it went: a hung
         * test's history is its timeout, not 0 s. */
        double ran = !all && i == self->begun && self->died_at > self->begun_at
                         ? (double)(self->died_at - self->begun_at) / 1000.0
                         : 0;
        if (all || (exec && i == blame))
            rc |= shoal_test_result_set(&results[i], SHOAL_OUTCOME_ERROR, ran,
                                        reason[0] ? reason : "no result", output, "");
        else if (!exec)
            rc |= shoal_test_result_set(&results[i], SHOAL_OUTCOME_ERROR, 0,
                                        "no result from the worker", "", "");
        /* else: after the one that took the worker down: not run, dealt again */
    }
    s_batch_clear(self);
    return rc ? -1 : 0;
}

size_t
shoal_worker_take_finished(shoal_worker_t *self, shoal_test_result_t *out, size_t max)
{
    size_t n = 0;
    for (size_t i = 0; i < self->count && n < max; i++) {
        if (!self->have[i] || self->handed[i])
            continue;
        out[n] = self->results[i];
        out[n++].index = i;
        memset(&self->results[i], 0, sizeof(self->results[i]));
        self->handed[i] = true;
    }
    return n;
}

bool
shoal_worker_alive(const shoal_worker_t *self)
{
    return !self->dead;
}

const shoal_exec_result_t *
shoal_worker_exit(const shoal_worker_t *self)
{
    return self->dead ? shoal_exec_result(self->exec) : NULL;
}

void
shoal_worker_close(shoal_worker_t *self, uint64_t kill_at)
{
    if (self->closing || self->dead)
        return;
    self->closing = true;
    self->kill_at = kill_at;
    int fd = shoal_exec_channel(self->exec);
    if (fd >= 0)
        shutdown(fd, SHUT_WR);
}

size_t
shoal_worker_dropped(const shoal_worker_t *self)
{
    return self->dropped;
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
