/* node/driver.c: the worker process of a driver (driver.h): `shoal worker
 * NAME -- COMMAND...`. It speaks the worker protocol (worker.h) on the
 * channel the session gave it, and leaves the framework to the driver's ops.
 */
#include "node/driver.h"
#include "node/commands.h"
#include "node/loop.h"
#include "node/worker.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sodium.h>
#include <sys/file.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define S_FIELD_CAP (60 * 1024)          /* bytes of a message or output sent per test */
#define S_COMMAND_MAX (64 * 1024 * 1024) /* a longer line from the session ends the worker */
#define S_OUTPUT_LINE_MAX (1024 * 1024)  /* a framework output line is cut here */

/* Add a framework's driver here (and its adapter in adapter.c). */
static const shoal_driver_ops_t *const s_drivers[] = {
    &shoal_driver_jest_ops,  &shoal_driver_vitest_ops, &shoal_driver_go_ops,
    &shoal_driver_cargo_ops, &shoal_driver_ctest_ops,  NULL,
};

struct shoal_driver {
    int chan;
    shoal_collection_t tests;
    unsigned workers;
    /* the batch being run */
    size_t *batch, count;
    size_t *position;  /* per test of the collection: its place in the batch, or SIZE_MAX */
    bool *have;        /* per place: a result was sent */
    size_t begun;      /* the place of the test begun last and not reported, or SIZE_MAX */
    unsigned failures; /* failed or errored tests of this batch */
    size_t reported;   /* results sent in this batch */
    size_t *rest;      /* the batch's tests a crashed round left, to run again */
    const char *dir;   /* where workers of this participant share listings, or NULL */
    /* the last framework invocation */
    char *output;
    int status, signal;
};

const shoal_driver_ops_t *
shoal_driver_find(const char *name)
{
    for (size_t i = 0; s_drivers[i]; i++)
        if (strcmp(s_drivers[i]->name, name) == 0)
            return s_drivers[i];
    return NULL;
}

/* ---- sending events ---- */

/* text, or its head and tail with a marker between if it is longer than the
 * cap; *owned is set when the result must be freed. */
static const char *
s_capped(const char *text, char **owned)
{
    *owned = NULL;
    size_t len = strlen(text);
    if (len <= S_FIELD_CAP)
        return text;
    size_t head = S_FIELD_CAP / 4, tail = S_FIELD_CAP - head;
    char marker[64];
    int m =
        snprintf(marker, sizeof(marker), "\n[... shoal cut %zu bytes ...]\n", len - head - tail);
    char *out = malloc(head + (size_t)m + tail + 1);
    if (!out)
        return "";
    memcpy(out, text, head);
    memcpy(out + head, marker, (size_t)m);
    memcpy(out + head + (size_t)m, text + len - tail, tail + 1);
    *owned = out;
    return out;
}

static void
s_write_all(int fd, const char *data, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, data, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            fprintf(stderr, "shoal worker: the session's channel broke: %s\n", strerror(errno));
            _exit(1); /* the session is gone: nothing is left to report to */
        }
        data += n;
        len -= (size_t)n;
    }
}

/* Sends one event of count fields (NULL fields are sent empty). */
static void
s_send(shoal_driver_t *self, size_t count, const char *const *fields)
{
    size_t len = 1;
    const char *text[8];
    char *owned[8];
    for (size_t i = 0; i < count; i++) {
        text[i] = s_capped(fields[i] ? fields[i] : "", &owned[i]);
        len += 1 + 2 * strlen(text[i]);
    }
    char *line = malloc(len);
    if (line) {
        char *p = line;
        for (size_t i = 0; i < count; i++) {
            if (i)
                *p++ = '\t';
            p = shoal_worker_escape(p, text[i]);
        }
        *p++ = '\n';
        s_write_all(self->chan, line, (size_t)(p - line));
    }
    free(line);
    for (size_t i = 0; i < count; i++)
        free(owned[i]);
    if (!line) {
        fprintf(stderr, "shoal worker: out of memory\n");
        _exit(1);
    }
}

#define S_SEND(self, ...)                                                                          \
    s_send((self), sizeof((const char *[]){__VA_ARGS__}) / sizeof(const char *),                   \
           (const char *[]){__VA_ARGS__})

/* ---- what drivers call ---- */

const shoal_collection_t *
shoal_driver_collection(const shoal_driver_t *driver)
{
    return &driver->tests;
}

unsigned
shoal_driver_workers(const shoal_driver_t *driver)
{
    return driver->workers;
}

void
shoal_driver_begin(shoal_driver_t *driver, size_t test)
{
    if (test >= driver->tests.count || driver->position[test] == SIZE_MAX ||
        driver->have[driver->position[test]])
        return;
    driver->begun = driver->position[test];
    S_SEND(driver, "begin", driver->tests.tests[test].id);
}

void
shoal_driver_result(shoal_driver_t *driver, size_t test, shoal_outcome_t outcome, double seconds,
                    const char *message, const char *output)
{
    if (test >= driver->tests.count || driver->position[test] == SIZE_MAX ||
        driver->have[driver->position[test]])
        return;
    size_t place = driver->position[test];
    driver->have[place] = true;
    driver->reported++;
    driver->failures += shoal_outcome_failed(outcome);
    if (driver->begun == place)
        driver->begun = SIZE_MAX;
    char secs[32];
    snprintf(secs, sizeof(secs), "%.6f", seconds > 0 ? seconds : 0.0);
    S_SEND(driver, "result", driver->tests.tests[test].id, shoal_outcome_str(outcome), secs,
           message, output);
}

/* Splits each chunk into lines for the driver's callback. */
typedef struct {
    shoal_driver_line_fn fn, partial;
    void *arg;
    char *line;
    size_t len, cap;
    bool cut; /* the line grew past the cap: the rest of it is skipped */
} s_lines_t;

static void
s_line_end(s_lines_t *l)
{
    if (l->fn && l->line) {
        l->line[l->len] = '\0';
        l->fn(l->arg, l->line, l->len);
    }
    l->len = 0;
    l->cut = false;
}

static void
s_on_output(void *arg, const char *data, size_t len)
{
    s_lines_t *l = arg;
    for (size_t i = 0; i < len; i++) {
        if (data[i] == '\n') {
            s_line_end(l);
            continue;
        }
        if (l->cut)
            continue;
        if (l->len + 2 > l->cap) {
            size_t cap = l->cap ? l->cap * 2 : 4096;
            char *grown = realloc(l->line, cap);
            if (!grown) {
                l->cut = true;
                continue;
            }
            l->line = grown;
            l->cap = cap;
        }
        l->line[l->len++] = data[i];
        if (l->len >= S_OUTPUT_LINE_MAX) {
            s_line_end(l);
            l->cut = true;
        }
    }
    if (l->partial && l->len > 0 && !l->cut) {
        l->line[l->len] = '\0';
        l->partial(l->arg, l->line, l->len);
    }
}

int
shoal_driver_spawn(shoal_driver_t *driver, char *const *argv, const char *cwd,
                   char *const *env_extra, shoal_driver_line_fn on_line, void *arg)
{
    return shoal_driver_spawn_partial(driver, argv, cwd, env_extra, on_line, NULL, arg);
}

int
shoal_driver_spawn_partial(shoal_driver_t *driver, char *const *argv, const char *cwd,
                           char *const *env_extra, shoal_driver_line_fn on_line,
                           shoal_driver_line_fn on_partial, void *arg)
{
    s_lines_t lines = {.fn = on_line, .partial = on_partial, .arg = arg};
    shoal_exec_spec_t spec = {.argv = argv,
                              .cwd = cwd,
                              .env_extra = env_extra,
                              .output_cap = SHOAL_ADAPTER_OUTPUT_CAP,
                              .share_group = true,
                              .on_output = s_on_output,
                              .on_output_arg = &lines};
    char err[256];
    free(driver->output);
    driver->output = NULL;
    driver->status = -1;
    driver->signal = 0;
    int wake = shoal_exec_wakeup_fd();
    shoal_exec_t *exec = shoal_exec_start(&spec, shoal_clock_ms(), err, sizeof(err));
    if (!exec) {
        driver->output = strdup(err);
        free(lines.line);
        return -1;
    }
    while (!shoal_exec_poll(exec, shoal_clock_ms())) {
        struct pollfd fds[2] = {{.fd = shoal_exec_fd(exec), .events = POLLIN},
                                {.fd = wake, .events = POLLIN}};
        (void)poll(fds, 2, 50);
        if (fds[1].revents)
            shoal_exec_wakeup_drain();
    }
    if (lines.len > 0)
        s_line_end(&lines);
    free(lines.line);
    const shoal_exec_result_t *r = shoal_exec_result(exec);
    bool failed = r->spawn_failed;
    driver->signal = r->signal;
    driver->status = r->signal ? 128 + r->signal : r->exit_code;
    driver->output = strdup(shoal_output_tail(r->output, r->output_len, SHOAL_ADAPTER_OUTPUT_CAP));
    shoal_exec_destroy(&exec);
    return failed ? -1 : driver->status;
}

/* Tees each line into a file for the other workers, then hands it on. */
typedef struct {
    FILE *out;
    shoal_driver_line_fn fn;
    void *arg;
} s_tee_t;

static void
s_tee_line(void *arg, const char *line, size_t len)
{
    s_tee_t *tee = arg;
    fwrite(line, 1, len, tee->out);
    fputc('\n', tee->out);
    if (tee->fn)
        tee->fn(tee->arg, line, len);
}

/* Feeds a kept output to on_line, line by line; its tail becomes the
 * driver's output. 0, or -1 if it cannot be read. */
static int
s_replay(shoal_driver_t *driver, const char *path, shoal_driver_line_fn on_line, void *arg)
{
    FILE *in = fopen(path, "r");
    if (!in)
        return -1;
    char *line = NULL, *tail = NULL;
    size_t cap = 0, tail_len = 0;
    ssize_t n;
    while ((n = getline(&line, &cap, in)) >= 0) {
        if (n > 0 && line[n - 1] == '\n')
            line[--n] = '\0';
        if (on_line)
            on_line(arg, line, (size_t)n);
    }
    long size = ftell(in);
    long from = size > SHOAL_ADAPTER_OUTPUT_CAP ? size - SHOAL_ADAPTER_OUTPUT_CAP : 0;
    if (size >= 0 && fseek(in, from, SEEK_SET) == 0 && (tail = malloc((size_t)(size - from) + 1)))
        tail[tail_len = fread(tail, 1, (size_t)(size - from), in)] = '\0';
    free(line);
    fclose(in);
    free(driver->output);
    driver->output = tail;
    return 0;
}

int
shoal_driver_spawn_shared(shoal_driver_t *driver, char *const *argv, const char *cwd,
                          char *const *env_extra, shoal_driver_line_fn on_line, void *arg)
{
    if (!driver->dir)
        return shoal_driver_spawn(driver, argv, cwd, env_extra, on_line, arg);
    crypto_generichash_state hash;
    crypto_generichash_init(&hash, NULL, 0, 16);
    for (size_t i = 0; argv[i]; i++)
        crypto_generichash_update(&hash, (const unsigned char *)argv[i], strlen(argv[i]) + 1);
    crypto_generichash_update(&hash, (const unsigned char *)"\0cwd", 5);
    if (cwd)
        crypto_generichash_update(&hash, (const unsigned char *)cwd, strlen(cwd) + 1);
    for (size_t i = 0; env_extra && env_extra[i]; i++)
        crypto_generichash_update(&hash, (const unsigned char *)env_extra[i],
                                  strlen(env_extra[i]) + 1);
    unsigned char digest[16];
    char hex[33], path[3][PATH_MAX];
    crypto_generichash_final(&hash, digest, sizeof(digest));
    sodium_bin2hex(hex, sizeof(hex), digest, sizeof(digest));
    const char *ext[3] = {"lock", "out", "status"};
    for (int i = 0; i < 3; i++)
        snprintf(path[i], sizeof(path[i]), "%s/shared-%s.%s", driver->dir, hex, ext[i]);
    int lock = open(path[0], O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (lock < 0 || flock(lock, LOCK_EX) != 0) {
        if (lock >= 0)
            close(lock);
        return shoal_driver_spawn(driver, argv, cwd, env_extra, on_line, arg);
    }
    /* Another worker of this participant ran it: the same words in the same
     * place give the same output, so it is replayed, not run again. */
    int rc;
    FILE *status = fopen(path[2], "r");
    if (status && fscanf(status, "%d %d", &driver->status, &driver->signal) == 2 &&
        s_replay(driver, path[1], on_line, arg) == 0) {
        rc = driver->status;
    } else {
        s_tee_t tee = {.out = fopen(path[1], "w"), .fn = on_line, .arg = arg};
        rc = shoal_driver_spawn(driver, argv, cwd, env_extra, tee.out ? s_tee_line : on_line,
                                tee.out ? (void *)&tee : arg);
        bool kept = tee.out && fclose(tee.out) == 0 && rc >= 0; /* closed either way */
        FILE *done = kept ? fopen(path[2], "w") : NULL;
        if (done) {
            fprintf(done, "%d %d\n", driver->status, driver->signal);
            fclose(done);
        }
    }
    if (status)
        fclose(status);
    close(lock); /* and the lock with it */
    return rc;
}

const char *
shoal_driver_dir(const shoal_driver_t *driver)
{
    return driver->dir;
}

const char *
shoal_driver_output(const shoal_driver_t *driver)
{
    return driver->output ? driver->output : "";
}

int
shoal_driver_signal(const shoal_driver_t *driver)
{
    return driver->signal;
}

char *
shoal_driver_regex_quote(const char *text)
{
    char *out = malloc(2 * strlen(text) + 1), *p = out;
    if (!out)
        return NULL;
    for (; *text; text++) {
        if (strchr("\\.+*?()|[]{}^$/", *text))
            *p++ = '\\';
        *p++ = *text;
    }
    *p = '\0';
    return out;
}

/* ---- the worker ---- */

static void
s_send_collection(shoal_driver_t *self, const char *name)
{
    const shoal_collection_t *c = &self->tests;
    S_SEND(self, "hello", "1", name);
    for (size_t i = 0; i < c->count; i++) {
        const shoal_test_t *t = &c->tests[i];
        char line[16];
        snprintf(line, sizeof(line), "%u", t->line);
        if (t->preset)
            S_SEND(self, "collected", t->id, shoal_outcome_str(t->outcome), t->message, t->output);
        else
            S_SEND(self, "item", t->id, t->file, line);
    }
    if (c->notice)
        S_SEND(self, "notice", c->notice);
    char count[32], maxfail[16], verbosity[16];
    snprintf(count, sizeof(count), "%zu", c->count);
    snprintf(maxfail, sizeof(maxfail), "%u", c->maxfail);
    snprintf(verbosity, sizeof(verbosity), "%d", c->verbosity);
    S_SEND(self, "ready", count, maxfail, c->interrupted, verbosity, c->reportchars);
}

bool
shoal_driver_stopping(const shoal_driver_t *driver)
{
    return driver->tests.maxfail && driver->failures >= driver->tests.maxfail;
}

/* After a round in which the framework ended early: the test it was
 * running is an error; if it was running none and the round reported
 * nothing, the first test without a result is (what it was about to run),
 * so every round settles a test and the rest can run again. Returns how
 * many tests still have no result (into self->rest). */
static size_t
s_after_crash(shoal_driver_t *self, const shoal_driver_ops_t *ops, size_t reported_before)
{
    size_t blamed = self->begun;
    for (size_t i = 0; i < self->count && blamed == SIZE_MAX && self->reported == reported_before;
         i++)
        if (!self->have[i])
            blamed = i;
    if (blamed != SIZE_MAX) {
        char message[256];
        snprintf(message, sizeof(message), "%s ended (%s %d) while this test ran", ops->name,
                 self->signal ? "signal" : "exit status",
                 self->signal ? self->signal : self->status);
        shoal_driver_result(self, self->batch[blamed], SHOAL_OUTCOME_ERROR, 0, message,
                            self->output ? self->output : "");
    }
    size_t left = 0;
    for (size_t i = 0; i < self->count; i++)
        if (!self->have[i])
            self->rest[left++] = self->batch[i];
    return left;
}

/* The tests of a batch that have no result once the framework is done. */
static void
s_settle(shoal_driver_t *self, const shoal_driver_ops_t *ops)
{
    char message[256];
    const char *output = self->output ? self->output : "";
    if (shoal_driver_stopping(self)) {
        /* as the framework alone would stop (-failfast): sent back, and the
         * leader, which counts the session's failures, reports them */
        for (size_t i = 0; i < self->count; i++)
            if (!self->have[i])
                shoal_driver_result(self, self->batch[i], SHOAL_OUTCOME_NOT_RUN, 0,
                                    "not run: the session stops after failures", "");
        return;
    }
    snprintf(message, sizeof(message),
             "%s ran the batch (exit status %d) but reported no result for this test", ops->name,
             self->status);
    for (size_t i = 0; i < self->count; i++)
        if (!self->have[i])
            shoal_driver_result(self, self->batch[i], SHOAL_OUTCOME_ERROR, 0, message, output);
}

/* `run <hold> <workers> <id>...`: runs what it can, answers the rest. */
static void
s_run(shoal_driver_t *self, const shoal_driver_ops_t *ops, void *state, char **f, size_t n)
{
    self->workers = (unsigned)strtoul(f[2], NULL, 10);
    self->count = 0;
    self->begun = SIZE_MAX;
    self->failures = 0;
    size_t runnable = 0;
    for (size_t i = 3; i < n; i++) {
        size_t t = shoal_collection_find(&self->tests, f[i]);
        if (t != SIZE_MAX && (self->tests.tests[t].preset || self->position[t] != SIZE_MAX))
            t = SIZE_MAX; /* decided already, or twice in one batch */
        if (t == SIZE_MAX) {
            /* I3: never run; answered at once. */
            S_SEND(self, "result", f[i], "error", "0",
                   "rejected: not a runnable test of this worker's collection", "");
            continue;
        }
        self->position[t] = runnable;
        self->have[runnable] = false;
        self->batch[runnable++] = t;
    }
    self->count = runnable;
    self->reported = 0;
    if (runnable > 0) {
        /* A framework that ended early ran the batch only up to a test: that
         * one is blamed and the rest run again, in new invocations, here,
         * for every driver alike (go alone would have run them had the test
         * binary lived). */
        size_t reported = 0, left;
        shoal_driver_end_t end = ops->run(state, self, self->batch, runnable);
        while (end == SHOAL_DRIVER_CRASHED && (left = s_after_crash(self, ops, reported)) > 0 &&
               !shoal_driver_stopping(self)) {
            reported = self->reported;
            self->begun = SIZE_MAX;
            end = ops->run(state, self, self->rest, left);
        }
        s_settle(self, ops);
    }
    for (size_t i = 0; i < runnable; i++)
        self->position[self->batch[i]] = SIZE_MAX;
    self->count = 0;
    S_SEND(self, "done");
}

/* Reads the session's lines until it closes the channel. */
static int
s_serve(shoal_driver_t *self, const shoal_driver_ops_t *ops, void *state)
{
    char *buf = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        char *nl = len ? memchr(buf, '\n', len) : NULL;
        if (!nl) {
            if (len + 65536 > cap) {
                if (cap >= S_COMMAND_MAX) {
                    fprintf(stderr, "shoal worker: a line from the session is too long\n");
                    free(buf);
                    return 1;
                }
                char *grown = realloc(buf, cap = cap ? cap * 2 : 65536);
                if (!grown) {
                    free(buf);
                    return 1;
                }
                buf = grown;
            }
            ssize_t got = read(self->chan, buf + len, cap - len);
            if (got < 0 && errno == EINTR)
                continue;
            if (got <= 0) {
                free(buf);
                return got == 0 ? 0 : 1; /* closed: the session is done with us */
            }
            len += (size_t)got;
            continue;
        }
        *nl = '\0';
        size_t fields = 1;
        for (char *p = buf; p < nl; p++)
            fields += *p == '\t';
        char **f = calloc(fields, sizeof(char *));
        if (!f) {
            free(buf);
            return 1;
        }
        size_t n = shoal_worker_split(buf, f, fields);
        if (n >= 3 && strcmp(f[0], "run") == 0)
            s_run(self, ops, state, f, n);
        /* "final" and anything newer: nothing for a driver to do */
        free(f);
        size_t used = (size_t)(nl + 1 - buf);
        memmove(buf, nl + 1, len - used);
        len -= used;
    }
}

int
shoal_cmd_worker(int argc, char **argv)
{
    if (argc < 4 || strcmp(argv[2], "--") != 0 || !shoal_driver_find(argv[1])) {
        fprintf(stderr, "usage: shoal worker DRIVER -- COMMAND...\n"
                        "  started by a session as a slot's worker (see README, 'Worker "
                        "protocol'); DRIVER:");
        for (size_t i = 0; s_drivers[i]; i++)
            fprintf(stderr, " %s", s_drivers[i]->name);
        fprintf(stderr, "\n");
        return SHOAL_EXIT_USAGE;
    }
    const shoal_driver_ops_t *ops = shoal_driver_find(argv[1]);
    const char *fd = getenv("SHOAL_WORKER_CHANNEL");
    if (!fd) {
        fprintf(stderr, "shoal worker: SHOAL_WORKER_CHANNEL is not set: only a session starts "
                        "workers\n");
        return SHOAL_EXIT_USAGE;
    }
    signal(SIGPIPE, SIG_IGN);
    shoal_driver_t self = {.chan = atoi(fd), .begun = SIZE_MAX};
    unsetenv("SHOAL_WORKER_CHANNEL");
    char *dir = getenv("SHOAL_WORKER_DIR");
    self.dir = dir && *dir ? strdup(dir) : NULL;
    unsetenv("SHOAL_WORKER_DIR");
    /* A relative program path ("./run-tests") is the user's from here;
     * frameworks run some invocations elsewhere (go in a package's
     * directory), so it is made absolute. */
    char program[PATH_MAX + 1], cwd[PATH_MAX];
    if (strchr(argv[3], '/') && argv[3][0] != '/' && getcwd(cwd, sizeof(cwd)) &&
        (size_t)snprintf(program, sizeof(program), "%s/%s", cwd, argv[3]) < sizeof(program))
        argv[3] = program;
    void *state = NULL;
    char err[4096] = "";
    if (ops->collect(&state, &self, argc - 3, argv + 3, &self.tests, err, sizeof(err)) != 0) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    int rc = 1;
    if (shoal_collection_index(&self.tests) != 0)
        goto done;
    for (size_t i = 1; i < self.tests.count; i++)
        if (strcmp(self.tests.tests[self.tests.sorted[i]].id,
                   self.tests.tests[self.tests.sorted[i - 1]].id) == 0) {
            fprintf(stderr, "shoal worker: %s listed the test id '%s' twice\n", ops->name,
                    self.tests.tests[self.tests.sorted[i]].id);
            goto done;
        }
    size_t n = self.tests.count ? self.tests.count : 1;
    self.batch = calloc(n, sizeof(size_t));
    self.rest = calloc(n, sizeof(size_t));
    self.position = malloc(n * sizeof(size_t));
    self.have = calloc(n, sizeof(bool));
    if (!self.batch || !self.rest || !self.position || !self.have)
        goto done;
    for (size_t i = 0; i < n; i++)
        self.position[i] = SIZE_MAX;
    s_send_collection(&self, ops->name);
    rc = s_serve(&self, ops, state);
done:
    ops->destroy(state);
    shoal_collection_clear(&self.tests);
    free(self.batch);
    free(self.rest);
    free(self.position);
    free(self.have);
    free(self.output);
    free((char *)self.dir);
    return rc;
}
