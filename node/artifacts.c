/* The files shipped sessions' tests leave, back on the developer's machine
 * (see artifacts.h). */
#include "node/artifacts.h"
#include "node/files.h"
#include "node/log.h"
#include "node/serve.h"
#include "node/tree_fetch.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define S_STORE_PREFIX ".store-" /* DIR/.store-PID: a run's fetch store */

/* ---------------------------------------------------------------- the daemon's side */

/* Stores the tree's manifest in pages and their index (the root). */
static int
s_pack_manifest(shoal_store_t *store, const shoal_tree_t *tree, shoal_artifacts_packed_t *out,
                char *err, size_t err_size)
{
    uint8_t *manifest = NULL, *index = NULL;
    shoal_page_t *pages = NULL;
    long len = shoal_tree_encode(tree, &manifest);
    long count = len > 0 ? shoal_pages_cut(manifest, (size_t)len, &pages) : -1;
    long index_len = count > 0 ? shoal_pages_index(pages, (size_t)count, &index) : -1;
    int rc = index_len > 0 ? 0 : -1;
    if (rc != 0)
        snprintf(err, err_size, "out of memory, or a manifest over the cap");
    for (long i = 0; rc == 0 && i < count; i++) {
        uint8_t digest[SHOAL_DIGEST_BYTES];
        rc = shoal_store_put(store, manifest + pages[i].offset, pages[i].size, digest, err,
                             err_size);
    }
    if (rc == 0)
        rc = shoal_store_put(store, index, (size_t)index_len, out->root, err, err_size);
    out->index_size = rc == 0 ? (uint64_t)index_len : 0;
    free(manifest);
    free(pages);
    free(index);
    return rc;
}

int
shoal_artifacts_pack(shoal_store_t *store, const char *dir, char *const *globs,
                     const shoal_tree_t *shipped, shoal_artifacts_packed_t *out, char *err,
                     size_t err_size)
{
    memset(out, 0, sizeof(*out));
    size_t count = 0;
    while (globs && globs[count])
        count++;
    if (count == 0)
        return 0;
    shoal_tree_t *tree =
        shoal_tree_scan_matching(dir, (const char *const *)globs, count, shipped, err, err_size);
    if (!tree)
        return -1;
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < shoal_tree_count(tree); i++) {
        const shoal_tree_entry_t *e = shoal_tree_entry(tree, i);
        char path[PATH_MAX];
        if (e->kind != SHOAL_TREE_FILE)
            continue;
        if (snprintf(path, sizeof(path), "%s/%s", dir, e->path) >= (int)sizeof(path)) {
            snprintf(err, err_size, "a path too long: '%.200s'", e->path);
            rc = -1;
        } else {
            rc = shoal_store_put_file(store, path, e->digest, e->size, err, err_size);
        }
    }
    if (rc == 0 && shoal_tree_count(tree) > 0) {
        rc = s_pack_manifest(store, tree, out, err, err_size);
        out->files = shoal_tree_count(tree);
        for (size_t i = 0; i < out->files; i++)
            out->bytes += shoal_tree_entry(tree, i)->size; /* a link's is 0 */
    }
    shoal_tree_destroy(&tree);
    return rc;
}

/* ---------------------------------------------------------------- the developer's side */

/* Whether an entry of DIR is the fetch store of a run still alive
 * (".store-PID"): another run's, writing its files now. */
static bool
s_live_store(const char *name)
{
    char *end;
    if (strncmp(name, S_STORE_PREFIX, strlen(S_STORE_PREFIX)) != 0)
        return false;
    long pid = strtol(name + strlen(S_STORE_PREFIX), &end, 10);
    return *end == '\0' && pid > 0 && (kill((pid_t)pid, 0) == 0 || errno == EPERM);
}

/* Whether name is a line of the marker's text (the entries shoal wrote). */
static bool
s_listed(const char *listed, const char *name)
{
    size_t n = strlen(name);
    for (const char *line = listed; line && *line;) {
        const char *end = strchr(line, '\n');
        size_t len = end ? (size_t)(end - line) : strlen(line);
        if (len == n && strncmp(line, name, n) == 0)
            return true;
        line = end ? end + 1 : NULL;
    }
    return false;
}

/* The marker's text (malloc'd, "" for an empty one), or NULL unreadable. */
static char *
s_read_marker(const char *marker)
{
    FILE *f = fopen(marker, "r");
    if (!f)
        return NULL;
    char *text = NULL;
    size_t cap = 0, len = 0;
    for (;;) {
        if (len + 4097 > cap) {
            char *grown = realloc(text, cap = cap ? cap * 2 : 8192);
            if (!grown) {
                free(text);
                fclose(f);
                return NULL;
            }
            text = grown;
        }
        size_t got = fread(text + len, 1, 4096, f);
        len += got;
        if (got == 0)
            break;
    }
    text[len] = '\0';
    fclose(f);
    return text;
}

/* Empties a directory shoal owns of what earlier runs wrote there (it would
 * look like this run's): the entries its marker lists and dead runs'
 * stores. Anything else is someone else's: refused, nothing removed. */
static int
s_clear(const char *dir, const char *marker, char *err, size_t err_size)
{
    char *listed = s_read_marker(marker);
    DIR *d = listed ? opendir(dir) : NULL;
    if (!d) {
        snprintf(err, err_size, "--artifacts-dir '%s': %s", dir, strerror(errno));
        free(listed);
        return -1;
    }
    int rc = 0;
    for (int pass = 0; rc == 0 && pass < 2; pass++) { /* check all, then remove */
        rewinddir(d);
        struct dirent *e;
        while (rc == 0 && (e = readdir(d))) {
            const char *name = e->d_name;
            bool store = strncmp(name, S_STORE_PREFIX, strlen(S_STORE_PREFIX)) == 0;
            if (!strcmp(name, ".") || !strcmp(name, "..") ||
                !strcmp(name, SHOAL_ARTIFACTS_MARKER) || s_live_store(name))
                continue;
            if (!store && !s_listed(listed, name)) {
                snprintf(err, err_size,
                         "--artifacts-dir '%s' holds '%s', which shoal did not put there (it "
                         "removes only what its %s lists)",
                         dir, name, SHOAL_ARTIFACTS_MARKER);
                rc = -1;
            } else if (pass == 1) {
                char path[PATH_MAX];
                if (snprintf(path, sizeof(path), "%s/%s", dir, name) < (int)sizeof(path))
                    shoal_remove_tree(path);
            }
        }
    }
    closedir(d);
    free(listed);
    return rc;
}

/* Adds an entry shoal is about to write below dir to its marker: 0, or -1
 * with errno. */
static int
s_list_in_marker(const char *dir, const char *name)
{
    char marker[PATH_MAX];
    snprintf(marker, sizeof(marker), "%s/%s", dir, SHOAL_ARTIFACTS_MARKER);
    int fd = open(marker, O_WRONLY | O_APPEND | O_CLOEXEC);
    if (fd < 0)
        return -1;
    char line[GOSSIP_NAME_MAX + 2];
    int n = snprintf(line, sizeof(line), "%s\n", name);
    int rc = write(fd, line, (size_t)n) == n ? 0 : -1;
    close(fd);
    return rc;
}

int
shoal_artifacts_claim_dir(const char *dir, char *err, size_t err_size)
{
    if (!dir[0]) {
        snprintf(err, err_size, "--artifacts-dir: an empty path");
        return -1;
    }
    if (strlen(dir) >= PATH_MAX - GOSSIP_NAME_MAX - 64) {
        snprintf(err, err_size, "--artifacts-dir: a path that long leaves no room for the files");
        return -1;
    }
    char marker[PATH_MAX];
    snprintf(marker, sizeof(marker), "%s/%s", dir, SHOAL_ARTIFACTS_MARKER);
    struct stat st;
    bool exists = stat(dir, &st) == 0;
    if (!exists && (errno != ENOENT || shoal_make_dirs(dir, 0755) != 0)) {
        snprintf(err, err_size, "--artifacts-dir '%s': %s", dir, strerror(errno));
        return -1;
    } else if (exists && !S_ISDIR(st.st_mode)) {
        snprintf(err, err_size, "--artifacts-dir '%s' is not a directory", dir);
        return -1;
    }
    if (access(marker, F_OK) != 0) {
        DIR *d = opendir(dir);
        if (!d) {
            snprintf(err, err_size, "--artifacts-dir '%s': %s", dir, strerror(errno));
            return -1;
        }
        bool empty = true;
        struct dirent *e;
        while (empty && (e = readdir(d)))
            empty = strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0;
        closedir(d);
        if (!empty) {
            snprintf(err, err_size,
                     "--artifacts-dir '%s' holds files shoal did not put there (it writes only "
                     "into a missing or empty directory, or one it made: %s marks those)",
                     dir, SHOAL_ARTIFACTS_MARKER);
            return -1;
        }
    }
    int fd = open(marker, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        snprintf(err, err_size, "--artifacts-dir '%s': %s", dir, strerror(errno));
        return -1;
    }
    close(fd);
    if (s_clear(dir, marker, err, err_size) != 0)
        return -1;
    /* the store this run fetches into can be made: said now, not after */
    char store[PATH_MAX];
    snprintf(store, sizeof(store), "%s/%s%ld", dir, S_STORE_PREFIX, (long)getpid());
    if (mkdir(store, 0755) != 0 && errno != EEXIST) {
        snprintf(err, err_size, "--artifacts-dir '%s': %s", dir, strerror(errno));
        return -1;
    }
    rmdir(store);
    return 0;
}

typedef enum { S_ASKING, S_FETCHING, S_DONE, S_LOST } s_state_t;

typedef struct {
    char name[GOSSIP_NAME_MAX + 1];
    size_t tests; /* whose final attempt ran there */
    bool must;    /* losing its files fails the run */
    s_state_t state;
    uint64_t first_ask, asked_at; /* ms; 0: not yet */
    uint64_t missing;             /* since when it is not alive (serve.h), ms */
    shoal_tree_fetch_t *fetch;
    uint64_t files, bytes;
    char why[SHOAL_SHIP_TEXT_MAX + 128];
} s_daemon_t;

struct shoal_artifacts {
    shoal_node_t *node;
    shoal_ship_t *ship;
    shoal_loop_t *loop;
    long timer;
    char session[SHOAL_SESSION_ID_MAX + 1];
    char dir[PATH_MAX - GOSSIP_NAME_MAX - 24]; /* room for DIR/DAEMON~N */
    char store_dir[PATH_MAX];
    shoal_store_t *store;
    s_daemon_t *daemons;
    size_t count;
};

static void
s_lost(s_daemon_t *d, const char *why)
{
    snprintf(d->why, sizeof(d->why), "%s", why);
    d->state = S_LOST;
    shoal_tree_fetch_destroy(&d->fetch);
}

/* The directory a daemon's files go to: its member name, with anything a
 * file name cannot hold as '_'. */
static void
s_file_name(const char *member, char name[GOSSIP_NAME_MAX + 1])
{
    snprintf(name, GOSSIP_NAME_MAX + 1, "%s", member);
    for (char *c = name; *c; c++)
        if (*c == '/' || (c == name && *c == '.'))
            *c = '_';
}

/* ...and when an earlier daemon's name comes out the same, "~N" after it
 * (N: this daemon's place), so no daemon's files replace another's. */
static void
s_target(const shoal_artifacts_t *self, const s_daemon_t *d, char *out, size_t size)
{
    char name[GOSSIP_NAME_MAX + 1], other[GOSSIP_NAME_MAX + 1];
    s_file_name(d->name, name);
    size_t place = (size_t)(d - self->daemons);
    bool same = false;
    for (size_t i = 0; i < place && !same; i++) {
        s_file_name(self->daemons[i].name, other);
        same = strcmp(name, other) == 0;
    }
    if (same)
        snprintf(out, size, "%s/%s~%zu", self->dir, name, place);
    else
        snprintf(out, size, "%s/%s", self->dir, name);
}

/* Every blob is in: the files go to DIR/DAEMON, replacing a previous run's. */
static void
s_lay_out(shoal_artifacts_t *self, s_daemon_t *d)
{
    char target[PATH_MAX], err[512], why[sizeof(d->why)];
    shoal_tree_t *tree = shoal_tree_fetch_take(d->fetch);
    s_target(self, d, target, sizeof(target));
    shoal_remove_tree(target);
    if (tree && s_list_in_marker(self->dir, strrchr(target, '/') + 1) != 0) {
        snprintf(why, sizeof(why), "cannot list them in %.300s/%s: %s", self->dir,
                 SHOAL_ARTIFACTS_MARKER, strerror(errno));
        s_lost(d, why);
    } else if (!tree ||
               shoal_store_materialize(self->store, tree, target, true, err, sizeof(err)) != 0) {
        snprintf(why, sizeof(why), "cannot write them into %.300s: %.300s", target,
                 tree ? err : "out of memory");
        s_lost(d, why);
    } else {
        d->state = S_DONE;
        shoal_tree_fetch_destroy(&d->fetch);
    }
    shoal_tree_destroy(&tree);
}

static uint64_t
s_tick(void *ctx, uint64_t now)
{
    shoal_artifacts_t *self = ctx;
    uint64_t next = UINT64_MAX;
    for (size_t i = 0; i < self->count; i++) {
        s_daemon_t *d = &self->daemons[i];
        if (d->state == S_ASKING) {
            if (!d->first_ask)
                d->first_ask = now;
            if (shoal_serve_developer_gone(self->node, d->name, &d->missing, now)) {
                s_lost(d, "it is gone from the mesh (it left or died) before sending them");
                continue;
            }
            if (now - d->first_ask >= SHOAL_ARTIFACTS_WAIT_MS) {
                s_lost(d, "it did not say what its tests left within 120 s");
                continue;
            }
            if (!d->asked_at || now - d->asked_at >= SHOAL_ARTIFACTS_ASK_MS) {
                shoal_ship_msg_t msg = {.type = SHOAL_SHIP_COLLECT};
                snprintf(msg.session, sizeof(msg.session), "%s", self->session);
                shoal_ship_send(self->ship, d->name, &msg); /* lost or not: asked again */
                d->asked_at = now;
            }
            uint64_t at = d->asked_at + SHOAL_ARTIFACTS_ASK_MS;
            next = at < next ? at : next;
        } else if (d->state == S_FETCHING) {
            uint64_t at = shoal_tree_fetch_tick(d->fetch, now);
            const char *failed = shoal_tree_fetch_failed(d->fetch);
            if (failed) {
                char why[sizeof(d->why)];
                snprintf(why, sizeof(why), "cannot fetch them: %.400s", failed);
                s_lost(d, why);
            } else if (shoal_tree_fetch_state(d->fetch) == SHOAL_TREE_FETCH_DONE) {
                s_lay_out(self, d);
            } else {
                next = at < next ? at : next;
            }
        }
    }
    return next;
}

static void
s_on_artifacts(shoal_artifacts_t *self, s_daemon_t *d, const shoal_ship_msg_t *msg)
{
    if (d->state != S_ASKING || strcmp(msg->session, self->session) != 0)
        return; /* a repeated answer, or another session's */
    if (!msg->accepted) {
        char why[sizeof(d->why)];
        snprintf(why, sizeof(why), "%s", msg->text);
        s_lost(d, why);
        return;
    }
    d->files = msg->files;
    d->bytes = msg->bytes;
    if (msg->files == 0) {
        char target[PATH_MAX];
        s_target(self, d, target, sizeof(target));
        shoal_remove_tree(target); /* a previous run's */
        d->state = S_DONE;
        return;
    }
    d->fetch = shoal_tree_fetch_new(self->store, d->name, shoal_ship_send_payload, self->ship,
                                    msg->digest, msg->index_size);
    if (!d->fetch)
        s_lost(d, "out of memory");
    else
        d->state = S_FETCHING;
}

static void
s_on_msg(void *ctx, const char *from, const shoal_ship_msg_t *msg, uint64_t now)
{
    shoal_artifacts_t *self = ctx;
    for (size_t i = 0; i < self->count; i++) {
        s_daemon_t *d = &self->daemons[i];
        if (strcmp(d->name, from) != 0)
            continue;
        if (msg->type == SHOAL_SHIP_ARTIFACTS)
            s_on_artifacts(self, d, msg);
        else if (d->fetch)
            shoal_tree_fetch_on_msg(d->fetch, from, msg, now);
    }
    shoal_loop_set_timer(self->loop, self->timer, now);
}

shoal_artifacts_t *
shoal_artifacts_new(shoal_node_t *node, shoal_ship_t *ship, const char *session, const char *dir,
                    char *err, size_t err_size)
{
    if (strlen(dir) >= sizeof(((shoal_artifacts_t *)NULL)->dir)) {
        snprintf(err, err_size, "--artifacts-dir: a path that long leaves no room for the files");
        return NULL;
    }
    shoal_artifacts_t *self = calloc(1, sizeof(*self));
    if (!self) {
        snprintf(err, err_size, "out of memory");
        return NULL;
    }
    self->node = node;
    self->ship = ship;
    self->loop = shoal_node_loop(node);
    self->timer = -1;
    snprintf(self->session, sizeof(self->session), "%s", session);
    snprintf(self->dir, sizeof(self->dir), "%s", dir);
    snprintf(self->store_dir, sizeof(self->store_dir), "%s/%s%ld", dir, S_STORE_PREFIX,
             (long)getpid());
    shoal_remove_tree(self->store_dir); /* what a killed run of this pid left */
    self->store = shoal_store_new(self->store_dir, 0, err, err_size);
    self->timer = self->store ? shoal_loop_add_timer(self->loop, UINT64_MAX, s_tick, self) : -1;
    if (self->timer < 0) {
        if (self->store)
            snprintf(err, err_size, "out of memory");
        shoal_artifacts_destroy(&self);
        return NULL;
    }
    shoal_ship_set_intake(ship, s_on_msg, self);
    return self;
}

void
shoal_artifacts_destroy(shoal_artifacts_t **self_p)
{
    shoal_artifacts_t *self = *self_p;
    if (!self)
        return;
    if (self->timer >= 0) {
        shoal_ship_set_intake(self->ship, NULL, NULL);
        shoal_loop_remove_timer(self->loop, self->timer);
    }
    for (size_t i = 0; i < self->count; i++)
        shoal_tree_fetch_destroy(&self->daemons[i].fetch);
    free(self->daemons);
    shoal_store_destroy(&self->store);
    shoal_remove_tree(self->store_dir);
    free(self);
    *self_p = NULL;
}

int
shoal_artifacts_want(shoal_artifacts_t *self, const char *daemon, size_t tests, bool retried)
{
    s_daemon_t *grown = realloc(self->daemons, (self->count + 1) * sizeof(*grown));
    if (!grown)
        return -1;
    self->daemons = grown;
    s_daemon_t *d = &self->daemons[self->count++];
    memset(d, 0, sizeof(*d));
    snprintf(d->name, sizeof(d->name), "%s", daemon);
    d->tests = tests;
    d->must = tests > 0 || retried;
    return 0;
}

size_t
shoal_artifacts_collect(shoal_artifacts_t *self, volatile sig_atomic_t *stop, FILE *out)
{
    shoal_loop_set_timer(self->loop, self->timer, shoal_loop_now(self->loop));
    for (;;) {
        size_t pending = 0;
        for (size_t i = 0; i < self->count; i++)
            pending += self->daemons[i].state == S_ASKING || self->daemons[i].state == S_FETCHING;
        if (pending == 0 || *stop)
            break;
        shoal_loop_turn(self->loop, UINT64_MAX);
    }
    size_t lost = 0;
    for (size_t i = 0; i < self->count; i++) {
        s_daemon_t *d = &self->daemons[i];
        char target[PATH_MAX];
        s_target(self, d, target, sizeof(target));
        const char *why = d->state == S_LOST ? d->why : "interrupted";
        if (d->state != S_DONE && d->must) {
            lost++;
            if (d->tests)
                fprintf(out, "shoal: artifacts of the %zu test%s that ran on %s are lost: %s\n",
                        d->tests, d->tests == 1 ? "" : "s", d->name, why);
            else
                fprintf(out, "shoal: artifacts of the attempts that failed on %s are lost: %s\n",
                        d->name, why);
        } else if (d->state != S_DONE) {
            fprintf(out, "shoal: artifacts from %s, where no test ended, are lost: %s\n", d->name,
                    why);
        } else if (d->files == 0) {
            fprintf(out, "shoal: artifacts from %s: no file matched\n", d->name);
        } else {
            fprintf(out, "shoal: artifacts from %s: %llu file%s (%llu bytes) in %s\n", d->name,
                    (unsigned long long)d->files, d->files == 1 ? "" : "s",
                    (unsigned long long)d->bytes, target);
        }
    }
    return lost;
}
