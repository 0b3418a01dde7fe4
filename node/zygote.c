/* node/zygote.c: the pool of zygotes on a serving daemon (see zygote.h);
 * the stand-in is cmd_zygote.c. */
#include "node/zygote.h"

#include "node/adapter.h"
#include "node/adapter_impl.h"
#include "node/exec.h"
#include "node/files.h"
#include "node/log.h"
#include "node/sandbox.h"

#include <errno.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define S_KEY_BYTES 16
#define S_KEY_HEX (S_KEY_BYTES * 2 + 1)
#define S_TICK_MS 100
#define S_IDLE_TICK_MS 1000
#define S_OUTPUT_CAP (64 * 1024)
#define S_LINE_MAX 512
#define S_EVENT "shoal-zygote: "

extern const char shoal_zygote_script[];
extern const size_t shoal_zygote_script_len;

typedef enum {
    S_STARTING, /* importing; its stand-ins wait for the socket */
    S_READY,    /* takes work */
    S_RETIRING, /* finishes its workers, then exits */
} s_state_t;

typedef struct shoal_zygote_pool shoal_zygote_pool_t;

typedef struct {
    shoal_zygote_pool_t *pool;
    char key[S_KEY_HEX];
    char sock[PATH_MAX + 160];   /* absolute: dir/KEY/zN.sock (the zygote binds zN.sock there) */
    char marker[PATH_MAX + 176]; /* sock SHOAL_ZYGOTE_STARTING: there while it starts */
    shoal_exec_t *exec;
    s_state_t state;
    uint64_t used; /* when a worker was last handed to it */
    char line[S_LINE_MAX];
    size_t line_len;
} s_zygote_t;

typedef struct {
    char key[S_KEY_HEX];
    unsigned fails; /* zygotes of the key that died before they were ready, in a row */
} s_fails_t;

struct shoal_zygote_pool {
    shoal_zygote_config_t config;
    char dir[PATH_MAX], workdir[PATH_MAX], secret[PATH_MAX];
    char self_exe[PATH_MAX];
    long timer;
    unsigned generation;
    s_zygote_t **all;
    size_t count;
    s_fails_t *fails;
    size_t fail_count;
    shoal_zygote_stats_t stats;
};

static s_fails_t *
s_fails(shoal_zygote_pool_t *self, const char *key, bool add)
{
    for (size_t i = 0; i < self->fail_count; i++)
        if (strcmp(self->fails[i].key, key) == 0)
            return &self->fails[i];
    if (!add)
        return NULL;
    s_fails_t *grown = realloc(self->fails, (self->fail_count + 1) * sizeof(*grown));
    if (!grown)
        return NULL;
    self->fails = grown;
    s_fails_t *f = &self->fails[self->fail_count++];
    snprintf(f->key, sizeof(f->key), "%s", key);
    f->fails = 0;
    return f;
}

/* Removes what the zygote leaves in dir: its socket and start marker. */
static void
s_unlink(const s_zygote_t *z)
{
    unlink(z->sock);
    unlink(z->marker);
}

/* One line the zygote printed: its events count, the rest is its own. */
static void
s_event(s_zygote_t *z, const char *line)
{
    shoal_zygote_pool_t *pool = z->pool;
    if (strncmp(line, S_EVENT, strlen(S_EVENT)) != 0) {
        shoal_log_debug("zygote %s: %s", z->key, line);
        return;
    }
    const char *event = line + strlen(S_EVENT);
    if (strcmp(event, "ready") == 0) {
        pool->stats.ready++;
        z->state = S_READY;
        s_fails_t *f = s_fails(pool, z->key, false);
        if (f)
            f->fails = 0;
        unlink(z->marker);
        shoal_log_info("zygote %s: ready", z->key);
    } else if (strcmp(event, "forked") == 0) {
        pool->stats.forked++;
    } else if (strncmp(event, "cold ", 5) == 0) {
        pool->stats.cold++;
        shoal_log_info("zygote %s: a worker runs cold: %s", z->key, event + 5);
    } else if (strncmp(event, "draining ", 9) == 0) {
        pool->stats.retired++;
        z->state = S_RETIRING;
        shoal_log_info("zygote %s: takes no more workers: %s", z->key, event + 9);
    }
}

static void
s_on_output(void *arg, const char *data, size_t len)
{
    s_zygote_t *z = arg;
    for (size_t i = 0; i < len; i++) {
        if (data[i] != '\n') {
            if (z->line_len + 1 < sizeof(z->line))
                z->line[z->line_len++] = data[i];
            continue;
        }
        z->line[z->line_len] = '\0';
        s_event(z, z->line);
        z->line_len = 0;
    }
}

static void
s_free(s_zygote_t **z_p)
{
    s_zygote_t *z = *z_p;
    if (!z)
        return;
    shoal_exec_destroy(&z->exec);
    s_unlink(z);
    free(z);
    *z_p = NULL;
}

/* Forgets zygotes that exited; a zygote that never got ready counts
 * against its key. */
static uint64_t
s_tick(void *ctx, uint64_t now)
{
    shoal_zygote_pool_t *self = ctx;
    size_t kept = 0;
    for (size_t i = 0; i < self->count; i++) {
        s_zygote_t *z = self->all[i];
        if (!shoal_exec_poll(z->exec, now)) {
            self->all[kept++] = z;
            continue;
        }
        if (z->state == S_STARTING) {
            self->stats.failed++;
            s_fails_t *f = s_fails(self, z->key, true);
            if (f)
                f->fails++;
            char last[300];
            shoal_exec_last_line(shoal_exec_result(z->exec), last, sizeof(last));
            shoal_log_info("zygote %s: ended before it was ready%s%s%s", z->key,
                           last[0] ? ": " : "", last,
                           f && f->fails >= SHOAL_ZYGOTE_FAILS_MAX
                               ? " (its key's workers run cold from now on)"
                               : "");
        } else {
            shoal_log_debug("zygote %s: exited", z->key);
        }
        s_free(&z);
    }
    self->count = kept;
    return now + (self->count ? S_TICK_MS : S_IDLE_TICK_MS);
}

shoal_zygote_pool_t *
shoal_zygote_pool_new(const shoal_zygote_config_t *config, char *err, size_t err_size)
{
    shoal_zygote_pool_t *self = calloc(1, sizeof(*self));
    if (!self) {
        snprintf(err, err_size, "out of memory");
        return NULL;
    }
    self->config = *config;
    self->timer = -1;
    snprintf(self->dir, sizeof(self->dir), "%s", config->dir);
    snprintf(self->workdir, sizeof(self->workdir), "%s", config->workdir ? config->workdir : "");
    snprintf(self->secret, sizeof(self->secret), "%s", config->secret ? config->secret : "");
    self->config.dir = self->dir;
    self->config.workdir = self->workdir[0] ? self->workdir : NULL;
    self->config.secret = self->secret[0] ? self->secret : NULL;
    ssize_t n = readlink("/proc/self/exe", self->self_exe, sizeof(self->self_exe) - 1);
    if (n <= 0) {
        snprintf(err, err_size, "cannot find shoal's own binary (/proc/self/exe): %s",
                 strerror(errno));
        shoal_zygote_pool_destroy(&self);
        return NULL;
    }
    self->self_exe[n] = '\0';
    /* Sockets and markers of a daemon killed before: no zygote of them lives. */
    shoal_remove_tree(self->dir);
    if (mkdir(self->dir, 0700) != 0) {
        snprintf(err, err_size, "cannot make %s: %s", self->dir, strerror(errno));
        shoal_zygote_pool_destroy(&self);
        return NULL;
    }
    self->timer = shoal_loop_add_timer(config->loop, shoal_loop_now(config->loop), s_tick, self);
    if (self->timer < 0) {
        snprintf(err, err_size, "out of memory");
        shoal_zygote_pool_destroy(&self);
        return NULL;
    }
    return self;
}

void
shoal_zygote_pool_destroy(shoal_zygote_pool_t **self_p)
{
    shoal_zygote_pool_t *self = *self_p;
    if (!self)
        return;
    for (size_t i = 0; i < self->count; i++)
        s_free(&self->all[i]);
    free(self->all);
    free(self->fails);
    if (self->timer >= 0)
        shoal_loop_remove_timer(self->config.loop, self->timer);
    free(self);
    *self_p = NULL;
}

const char *
shoal_zygote_pool_script(const shoal_zygote_pool_t *self)
{
    (void)self;
    return SHOAL_ZYGOTE_SCRIPT; /* in the zygote's directory, its own key's */
}

const shoal_zygote_stats_t *
shoal_zygote_pool_stats(const shoal_zygote_pool_t *self)
{
    return &self->stats;
}

size_t
shoal_zygote_pool_count(const shoal_zygote_pool_t *self, size_t *taking)
{
    *taking = 0;
    for (size_t i = 0; self && i < self->count; i++)
        *taking += self->all[i]->state != S_RETIRING;
    return self ? self->count : 0;
}

/* The key in hex: the session's part, its root, the zygote's command, the
 * network. */
static void
s_key(const shoal_zygote_ticket_t *ticket, char *const *zygote, char hex[S_KEY_HEX])
{
    crypto_generichash_state h;
    uint8_t digest[S_KEY_BYTES];
    crypto_generichash_init(&h, NULL, 0, sizeof(digest));
    crypto_generichash_update(&h, (const uint8_t *)ticket->key, strlen(ticket->key) + 1);
    crypto_generichash_update(&h, (const uint8_t *)ticket->root, strlen(ticket->root) + 1);
    for (size_t i = 0; zygote[i]; i++)
        crypto_generichash_update(&h, (const uint8_t *)zygote[i], strlen(zygote[i]) + 1);
    uint8_t net = ticket->network;
    crypto_generichash_update(&h, &net, 1);
    crypto_generichash_final(&h, digest, sizeof(digest));
    sodium_bin2hex(hex, S_KEY_HEX, digest, sizeof(digest));
}

/* Retires the least recently used zygote that takes work (it finishes its
 * workers first), when the pool is full. */
static void
s_make_room(shoal_zygote_pool_t *self)
{
    size_t taking = 0;
    s_zygote_t *oldest = NULL;
    for (size_t i = 0; i < self->count; i++) {
        s_zygote_t *z = self->all[i];
        if (z->state == S_RETIRING)
            continue;
        taking++;
        if (!oldest || z->used < oldest->used)
            oldest = z;
    }
    if (oldest && taking >= self->config.pool) {
        shoal_log_info("zygote %s: retired for a new key (--zygotes %u)", oldest->key,
                       self->config.pool);
        s_unlink(oldest); /* it notices, and drains */
        oldest->state = S_RETIRING;
    }
}

static s_zygote_t *
s_start(shoal_zygote_pool_t *self, const char *key, const shoal_zygote_ticket_t *ticket,
        char *const *zygote, char *const *env, uint64_t now)
{
    s_make_room(self);
    s_zygote_t **grown = realloc(self->all, (self->count + 1) * sizeof(*grown));
    s_zygote_t *z = calloc(1, sizeof(*z));
    if (grown)
        self->all = grown;
    if (!grown || !z) {
        free(z);
        return NULL;
    }
    z->pool = self;
    z->used = now;
    snprintf(z->key, sizeof(z->key), "%s", key);
    /* The key's own directory is the only one of the pool its zygote may
     * write (its socket, what it learned); the script stays read-only. */
    char name[64], idle[32], recycle[32], err[512], keydir[PATH_MAX + 40];
    snprintf(keydir, sizeof(keydir), "%s/%s", self->dir, key);
    /* The script is written anew for each zygote: what a test of the key
     * changed there does not outlive the zygote it ran in. */
    if ((mkdir(keydir, 0700) != 0 && errno != EEXIST) ||
        shoal_write_file(keydir, SHOAL_ZYGOTE_SCRIPT, shoal_zygote_script, shoal_zygote_script_len,
                         err, sizeof(err)) != 0) {
        shoal_log_info("zygote %s: cannot make %s: %s", key, keydir, strerror(errno));
        free(z);
        return NULL;
    }
    snprintf(name, sizeof(name), "z%u.sock", ++self->generation);
    snprintf(idle, sizeof(idle), "%.3f", self->config.idle);
    snprintf(recycle, sizeof(recycle), "%u", self->config.recycle ? self->config.recycle : 1);
    snprintf(z->sock, sizeof(z->sock), "%s/%s", keydir, name);
    snprintf(z->marker, sizeof(z->marker), "%s" SHOAL_ZYGOTE_STARTING, z->sock);
    shoal_argv_t a = {0};
    for (size_t i = 0; zygote[i]; i++)
        shoal_argv_push(&a, zygote[i]);
    shoal_argv_push(&a, name);
    shoal_argv_push(&a, idle);
    shoal_argv_push(&a, recycle);
    shoal_argv_push(&a, "learned.modules");
    char **wrap = NULL;
    if (self->config.sandbox) {
        const char *writable[2] = {keydir, self->config.workdir};
        const char *hidden[1] = {self->config.secret};
        shoal_sandbox_t spec = {.dir = ticket->root,
                                .writable = writable,
                                .writable_count = self->config.workdir ? 2 : 1,
                                .hidden = hidden,
                                .hidden_count = self->config.secret ? 1 : 0,
                                .network = ticket->network};
        wrap = shoal_sandbox_argv(&spec, err, sizeof(err));
    }
    FILE *f = fopen(z->marker, "w");
    if (f)
        fclose(f);
    shoal_exec_spec_t spec = {.argv = a.v,
                              .wrap = wrap,
                              .cwd = keydir,
                              .env = env,
                              .output_cap = S_OUTPUT_CAP,
                              .on_output = s_on_output,
                              .on_output_arg = z};
    if (!a.failed && f && (wrap || !self->config.sandbox))
        z->exec = shoal_exec_start(&spec, now, err, sizeof(err));
    else
        snprintf(err, sizeof(err), "%s", f ? "out of memory" : strerror(errno));
    shoal_adapter_argv_free(&a.v);
    shoal_adapter_argv_free(&wrap);
    if (!z->exec) {
        shoal_log_info("zygote %s: cannot start: %s", key, err);
        s_unlink(z);
        free(z);
        return NULL;
    }
    self->all[self->count++] = z;
    self->stats.started++;
    shoal_loop_set_timer(self->config.loop, self->timer, now + S_TICK_MS);
    shoal_log_info("zygote %s: starting (pid %d)", key, (int)shoal_exec_pid(z->exec));
    return z;
}

char **
shoal_zygote_pool_attach(const shoal_zygote_ticket_t *ticket, char *const *zygote, char *const *env,
                         char *const *wrap, char *const *argv)
{
    shoal_zygote_pool_t *self = ticket->pool;
    if (!self || !self->config.pool || !zygote || !zygote[0] || !argv || !argv[0])
        return NULL;
    char hex[S_KEY_HEX];
    s_key(ticket, zygote, hex);
    const s_fails_t *f = s_fails(self, hex, false);
    if (f && f->fails >= SHOAL_ZYGOTE_FAILS_MAX)
        return NULL;
    uint64_t now = shoal_loop_now(self->config.loop);
    s_zygote_t *z = NULL;
    for (size_t i = 0; i < self->count && !z; i++) {
        s_zygote_t *c = self->all[i];
        if (c->state == S_READY && access(c->sock, F_OK) != 0)
            c->state = S_RETIRING; /* it drains (recycled, or its socket removed) */
        if (c->state != S_RETIRING && strcmp(c->key, hex) == 0)
            z = c;
    }
    if (!z && !(z = s_start(self, hex, ticket, zygote, env, now)))
        return NULL;
    z->used = now;
    size_t wrapped = 0;
    while (wrap && wrap[wrapped])
        wrapped++;
    char count[32];
    snprintf(count, sizeof(count), "%zu", wrapped);
    shoal_argv_t a = {0};
    shoal_argv_push(&a, self->self_exe);
    shoal_argv_push(&a, SHOAL_ZYGOTE_COMMAND);
    shoal_argv_push(&a, z->sock);
    shoal_argv_push(&a, ticket->home);
    shoal_argv_push(&a, count);
    shoal_argv_push(&a, "--");
    for (size_t i = 0; i < wrapped; i++)
        shoal_argv_push(&a, wrap[i]);
    for (size_t i = 0; argv[i]; i++)
        shoal_argv_push(&a, argv[i]);
    if (a.failed)
        return NULL;
    self->stats.attached++;
    return a.v;
}
