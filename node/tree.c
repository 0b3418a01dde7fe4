/* node/tree.c: a workspace as a content-addressed tree (see tree.h). Owns
 * the listing (git's files through a pipe, then the --include walk), the
 * hashing with its SQLite cache keyed by (device, inode), and the manifest
 * codec. Invariants: every tree, scanned or decoded, passed s_check (the
 * path rules of tree.h, one function for both) and has its digest index;
 * decoding takes exactly the bytes encoding makes, checking each entry's
 * lengths with gossip_wire_check before msgpack-c reads it, so a crafted
 * count never makes us allocate more than a small multiple of the input.
 */
#include "node/tree.h"
#include "gossip/gossip.h"
#include "node/log.h"
#include "node/unpack.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <poll.h>
#include <pwd.h>
#include <sodium.h>
#include <spawn.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define S_VERSION 1
#define S_ENTRY_DEPTH 2        /* entry -> its values */
#define S_ENTRY_MIN 10         /* bytes of the smallest entry: a link "a" -> "b" */
#define S_CACHE_BUSY_MS 2000   /* waiting for another scan's cache writes */
#define S_RACY_NS 2000000000LL /* a file this much younger than the scan is not cached */
#define S_CHANGED_TRIES 3      /* hashing a file that keeps changing */
#define S_GIT_ERR_MAX 512      /* bytes of git's stderr kept for a message */

extern char **environ;

struct shoal_tree {
    shoal_tree_entry_t *entries; /* sorted by path */
    size_t count;
    const shoal_tree_entry_t **by_digest; /* file entries by (digest, path) */
    size_t files;
    uint64_t bytes; /* of the distinct blobs */
};

/* ---------------------------------------------------------------- digests */

void
shoal_digest_hex(const uint8_t digest[SHOAL_DIGEST_BYTES], char *out)
{
    sodium_bin2hex(out, SHOAL_DIGEST_HEX, digest, SHOAL_DIGEST_BYTES);
}

int
shoal_digest_parse(const char *text, uint8_t digest[SHOAL_DIGEST_BYTES])
{
    size_t n = 0;
    const char *end = NULL;
    if (!text || strlen(text) != 2 * SHOAL_DIGEST_BYTES ||
        sodium_hex2bin(digest, SHOAL_DIGEST_BYTES, text, 2 * SHOAL_DIGEST_BYTES, NULL, &n, &end) !=
            0 ||
        n != SHOAL_DIGEST_BYTES || end != text + 2 * SHOAL_DIGEST_BYTES)
        return -1;
    return 0;
}

/* Hashes what fd reads from its offset to the end; *bytes gets the count. */
static int
s_hash_fd(int fd, uint8_t digest[SHOAL_DIGEST_BYTES], uint64_t *bytes)
{
    crypto_generichash_state state;
    crypto_generichash_init(&state, NULL, 0, SHOAL_DIGEST_BYTES);
    uint8_t buf[64 * 1024];
    uint64_t total = 0;
    for (;;) {
        ssize_t n = read(fd, buf, sizeof(buf));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        if (n == 0)
            break;
        crypto_generichash_update(&state, buf, (size_t)n);
        total += (uint64_t)n;
    }
    crypto_generichash_final(&state, digest, SHOAL_DIGEST_BYTES);
    if (bytes)
        *bytes = total;
    return 0;
}

int
shoal_tree_hash_file(const char *path, uint8_t digest[SHOAL_DIGEST_BYTES])
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int rc = s_hash_fd(fd, digest, NULL);
    int saved = errno;
    close(fd);
    errno = saved;
    return rc;
}

/* ---------------------------------------------------------------- paths */

void
shoal_cache_path(const char *name, char *out, size_t out_size)
{
    const char *cache = getenv("XDG_CACHE_HOME");
    int n;
    if (cache && cache[0] == '/')
        n = snprintf(out, out_size, "%s/shoal/%s", cache, name);
    else {
        const char *home = getenv("HOME");
        if (!home || !*home) {
            struct passwd *pw = getpwuid(getuid());
            home = pw ? pw->pw_dir : NULL;
        }
        n = home ? snprintf(out, out_size, "%s/.cache/shoal/%s", home, name) : -1;
    }
    if ((n < 0 || (size_t)n >= out_size) && out_size > 0)
        out[0] = '\0';
}

void
shoal_tree_default_cache(char *out, size_t out_size)
{
    shoal_cache_path("hashes.db", out, out_size);
}

int
shoal_make_dirs(const char *path, mode_t mode)
{
    char dir[PATH_MAX];
    if (strlen(path) >= sizeof(dir)) {
        errno = ENAMETOOLONG;
        return -1;
    }
    snprintf(dir, sizeof(dir), "%s", path);
    for (char *p = dir + 1;; p++) {
        if (*p != '/' && *p != '\0')
            continue;
        char saved = *p;
        *p = '\0';
        if (mkdir(dir, mode) != 0 && errno != EEXIST)
            return -1;
        *p = saved;
        if (saved == '\0')
            break;
    }
    struct stat st;
    if (stat(dir, &st) != 0)
        return -1;
    if (!S_ISDIR(st.st_mode)) {
        errno = ENOTDIR;
        return -1;
    }
    return 0;
}

/* Why path[0..len) cannot be a tree's path, or NULL when it can. */
static const char *
s_path_problem(const char *path, size_t len)
{
    if (len == 0)
        return "empty";
    if (len > SHOAL_TREE_PATH_MAX)
        return "longer than 4096 bytes";
    if (memchr(path, '\0', len))
        return "holds a NUL byte";
    if (path[0] == '/')
        return "absolute";
    for (size_t start = 0; start <= len;) {
        const char *slash = memchr(path + start, '/', len - start);
        size_t n = (slash ? (size_t)(slash - path) : len) - start;
        const char *c = path + start;
        if (n == 0 || (n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.'))
            return "has an empty, '.' or '..' component";
        start += n + 1;
    }
    return NULL;
}
_Static_assert(SHOAL_TREE_PATH_MAX == 4096, "s_path_problem's message names the cap");

/* Whether prefix is a string prefix of path. */
static bool
s_starts(const char *path, const char *prefix, size_t prefix_len)
{
    return strncmp(path, prefix, prefix_len) == 0;
}

/* The rules of tree.h over sorted entries: valid, sorted, unique paths, the
 * mode and data each kind allows, and no entry below a file or link. Any
 * entry q that is a prefix of p sorts before p, and every entry between
 * them starts with q, so a stack of the entries that prefix the current one
 * finds them in one pass. */
static int
s_check(const shoal_tree_entry_t *e, size_t n, char *err, size_t err_size)
{
    if (n > SHOAL_TREE_ENTRIES_MAX) {
        snprintf(err, err_size, "more than %d entries", SHOAL_TREE_ENTRIES_MAX);
        return -1;
    }
    size_t *stack =
        n ? malloc(sizeof(size_t) * (n < SHOAL_TREE_PATH_MAX ? n : SHOAL_TREE_PATH_MAX)) : NULL;
    if (n && !stack) {
        snprintf(err, err_size, "out of memory");
        return -1;
    }
    size_t depth = 0;
    int rc = -1;
    for (size_t i = 0; i < n; i++) {
        const char *path = e[i].path;
        const char *why = s_path_problem(path, strlen(path));
        if (why) {
            snprintf(err, err_size, "path '%.300s' is %s", path, why);
            goto done;
        }
        if (i > 0 && strcmp(e[i - 1].path, path) >= 0) {
            snprintf(err, err_size, "path '%.300s' is out of order or repeated", path);
            goto done;
        }
        bool file = e[i].kind == SHOAL_TREE_FILE && !e[i].target &&
                    (e[i].mode == 0644 || e[i].mode == 0755);
        size_t target = e[i].target ? strlen(e[i].target) : 0;
        bool link = e[i].kind == SHOAL_TREE_LINK && e[i].mode == 0777 && e[i].size == 0 &&
                    target > 0 && target <= SHOAL_TREE_PATH_MAX;
        if (!file && !link) {
            snprintf(err, err_size, "'%.300s': a kind, mode, size or target no tree has", path);
            goto done;
        }
        while (depth > 0 &&
               !s_starts(path, e[stack[depth - 1]].path, strlen(e[stack[depth - 1]].path)))
            depth--;
        for (size_t j = 0; j < depth; j++) {
            const char *above = e[stack[j]].path;
            if (path[strlen(above)] == '/') {
                snprintf(err, err_size, "'%.300s' is below the file or link '%.150s'", path, above);
                goto done;
            }
        }
        /* every stacked path is a shorter prefix of this one */
        if (depth < SHOAL_TREE_PATH_MAX)
            stack[depth++] = i;
    }
    rc = 0;
done:
    free(stack);
    return rc;
}

/* ---------------------------------------------------------------- tree */

static int
s_by_digest(const void *a, const void *b)
{
    const shoal_tree_entry_t *x = *(const shoal_tree_entry_t *const *)a;
    const shoal_tree_entry_t *y = *(const shoal_tree_entry_t *const *)b;
    int c = memcmp(x->digest, y->digest, SHOAL_DIGEST_BYTES);
    return c ? c : (x < y ? -1 : x > y); /* entries are in path order */
}

/* Checks the entries and builds the digest index: 0, or -1 with err. */
static int
s_finish(shoal_tree_t *self, char *err, size_t err_size)
{
    if (s_check(self->entries, self->count, err, err_size) != 0)
        return -1;
    self->by_digest = malloc(sizeof(*self->by_digest) * (self->count ? self->count : 1));
    if (!self->by_digest) {
        snprintf(err, err_size, "out of memory");
        return -1;
    }
    self->files = 0;
    for (size_t i = 0; i < self->count; i++)
        if (self->entries[i].kind == SHOAL_TREE_FILE)
            self->by_digest[self->files++] = &self->entries[i];
    qsort(self->by_digest, self->files, sizeof(*self->by_digest), s_by_digest);
    self->bytes = 0;
    for (size_t i = 0; i < self->files; i++)
        if (i == 0 || memcmp(self->by_digest[i - 1]->digest, self->by_digest[i]->digest,
                             SHOAL_DIGEST_BYTES) != 0)
            self->bytes += self->by_digest[i]->size;
    return 0;
}

void
shoal_tree_destroy(shoal_tree_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    shoal_tree_t *self = *self_p;
    for (size_t i = 0; i < self->count; i++) {
        free(self->entries[i].path);
        free(self->entries[i].target);
    }
    free(self->entries);
    free(self->by_digest);
    free(self);
    *self_p = NULL;
}

size_t
shoal_tree_count(const shoal_tree_t *self)
{
    return self->count;
}

const shoal_tree_entry_t *
shoal_tree_entry(const shoal_tree_t *self, size_t i)
{
    return i < self->count ? &self->entries[i] : NULL;
}

const shoal_tree_entry_t *
shoal_tree_find_blob(const shoal_tree_t *self, const uint8_t digest[SHOAL_DIGEST_BYTES])
{
    size_t lo = 0, hi = self->files; /* the first at or after digest */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (memcmp(self->by_digest[mid]->digest, digest, SHOAL_DIGEST_BYTES) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < self->files && memcmp(self->by_digest[lo]->digest, digest, SHOAL_DIGEST_BYTES) == 0)
        return self->by_digest[lo];
    return NULL;
}

uint64_t
shoal_tree_bytes(const shoal_tree_t *self)
{
    return self->bytes;
}

/* ---------------------------------------------------------------- encode */

static bool
s_pack_entry(msgpack_packer *pk, const shoal_tree_entry_t *e)
{
    return msgpack_pack_array(pk, 5) == 0 && shoal_pack_str(pk, e->path) &&
           msgpack_pack_uint8(pk, (uint8_t)e->kind) == 0 && msgpack_pack_uint32(pk, e->mode) == 0 &&
           msgpack_pack_uint64(pk, e->size) == 0 &&
           (e->kind == SHOAL_TREE_LINK
                ? shoal_pack_str(pk, e->target)
                : msgpack_pack_bin(pk, SHOAL_DIGEST_BYTES) == 0 &&
                      msgpack_pack_bin_body(pk, e->digest, SHOAL_DIGEST_BYTES) == 0);
}

/* msgpack_sbuffer_write, refusing to grow past the manifest cap. */
static int
s_write_capped(void *data, const char *buf, size_t len)
{
    msgpack_sbuffer *sbuf = data;
    if (len > SHOAL_TREE_MANIFEST_MAX - sbuf->size)
        return -1;
    return msgpack_sbuffer_write(data, buf, len);
}

long
shoal_tree_encode(const shoal_tree_t *self, uint8_t **out)
{
    *out = NULL;
    msgpack_sbuffer sbuf;
    msgpack_sbuffer_init(&sbuf);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sbuf, s_write_capped);
    bool ok = msgpack_pack_array(&pk, 2) == 0 && msgpack_pack_uint8(&pk, S_VERSION) == 0 &&
              msgpack_pack_array(&pk, self->count) == 0;
    for (size_t i = 0; ok && i < self->count; i++)
        ok = s_pack_entry(&pk, &self->entries[i]);
    if (!ok) {
        msgpack_sbuffer_destroy(&sbuf);
        return -1;
    }
    long len = (long)sbuf.size;
    *out = (uint8_t *)msgpack_sbuffer_release(&sbuf);
    return *out ? len : -1;
}

int
shoal_tree_root(const shoal_tree_t *self, uint8_t root[SHOAL_DIGEST_BYTES])
{
    uint8_t *manifest = NULL;
    long len = shoal_tree_encode(self, &manifest);
    if (len < 0)
        return -1;
    crypto_generichash(root, SHOAL_DIGEST_BYTES, manifest, (unsigned long long)len, NULL, 0);
    free(manifest);
    return 0;
}

/* ---------------------------------------------------------------- decode */

typedef struct {
    shoal_tree_entry_t *entry;
    const uint8_t *bytes; /* the entry as it came */
    size_t len;
    msgpack_sbuffer *again; /* the entry as we encode it */
    const char *why;
} s_reading_t;

/* A str value of 1..SHOAL_TREE_PATH_MAX bytes without NUL, copied out. */
static char *
s_copy_str(const msgpack_object *o)
{
    return o->type == MSGPACK_OBJECT_STR && o->via.str.size > 0
               ? shoal_unpack_strdup(o, SHOAL_TREE_PATH_MAX)
               : NULL;
}

static int
s_decode_entry(const msgpack_object *root, void *arg)
{
    s_reading_t *r = arg;
    shoal_tree_entry_t *e = r->entry;
    if (root->type != MSGPACK_OBJECT_ARRAY || root->via.array.size != 5) {
        r->why = "is not an array of 5 values";
        return -1;
    }
    const msgpack_object *f = root->via.array.ptr;
    if (f[0].type != MSGPACK_OBJECT_STR || s_path_problem(f[0].via.str.ptr, f[0].via.str.size) ||
        !(e->path = s_copy_str(&f[0]))) {
        r->why = "has a path that is not a str, not allowed or too long";
        return -1;
    }
    if (f[1].type != MSGPACK_OBJECT_POSITIVE_INTEGER ||
        f[2].type != MSGPACK_OBJECT_POSITIVE_INTEGER ||
        f[3].type != MSGPACK_OBJECT_POSITIVE_INTEGER || f[2].via.u64 > UINT32_MAX) {
        r->why = "has a kind, mode or size that is not an integer";
        return -1;
    }
    e->kind = (shoal_tree_kind_t)f[1].via.u64;
    e->mode = (uint32_t)f[2].via.u64;
    e->size = f[3].via.u64;
    if (f[1].via.u64 == SHOAL_TREE_FILE && f[4].type == MSGPACK_OBJECT_BIN &&
        f[4].via.bin.size == SHOAL_DIGEST_BYTES)
        memcpy(e->digest, f[4].via.bin.ptr, SHOAL_DIGEST_BYTES);
    else if (f[1].via.u64 != SHOAL_TREE_LINK || !(e->target = s_copy_str(&f[4]))) {
        r->why = "is neither a file with a 32-byte digest nor a link with a target";
        return -1;
    }
    msgpack_sbuffer_clear(r->again);
    msgpack_packer pk;
    msgpack_packer_init(&pk, r->again, msgpack_sbuffer_write);
    if (!s_pack_entry(&pk, e) || r->again->size != r->len ||
        memcmp(r->again->data, r->bytes, r->len) != 0) {
        r->why = "is not in canonical form";
        return -1;
    }
    return 0;
}

/* Reads [1, [ and the entry count, in its canonical encoding; *off gets
 * where the first entry starts. */
static int
s_decode_head(const uint8_t *buf, size_t len, size_t *off, uint64_t *count, char *err,
              size_t err_size)
{
    if (len < 3 || buf[0] != 0x92 || buf[1] > 0x7f) {
        snprintf(err, err_size, "not a manifest: expected [version, entries]");
        return -1;
    }
    if (buf[1] != S_VERSION) {
        snprintf(err, err_size, "manifest version %u, this shoal reads %d", buf[1], S_VERSION);
        return -1;
    }
    uint8_t b = buf[2];
    size_t head = b == 0xdc ? 3 : b == 0xdd ? 5 : (b & 0xf0) == 0x90 ? 1 : 0;
    if (head == 0 || len < 2 + head) {
        snprintf(err, err_size, "not a manifest: its entries are not an array");
        return -1;
    }
    *count = head == 1 ? (uint64_t)(b & 0x0f) : 0;
    for (size_t i = 3; i < 2 + head; i++) /* big-endian after the type byte */
        *count = (*count << 8) | buf[i];
    if (head != (*count < 16 ? 1u : *count < 65536 ? 3u : 5u)) {
        snprintf(err, err_size, "manifest not in canonical form: its entry count");
        return -1;
    }
    *off = 2 + head;
    if (*count > SHOAL_TREE_ENTRIES_MAX || *count > (len - *off) / S_ENTRY_MIN) {
        snprintf(err, err_size, "manifest of %zu bytes declares %llu entries", len,
                 (unsigned long long)*count);
        return -1;
    }
    return 0;
}

shoal_tree_t *
shoal_tree_decode(const uint8_t *buf, size_t len, char *err, size_t err_size)
{
    if (len > SHOAL_TREE_MANIFEST_MAX) {
        snprintf(err, err_size, "manifest of %zu bytes is over the cap of %u", len,
                 SHOAL_TREE_MANIFEST_MAX);
        return NULL;
    }
    size_t off = 0;
    uint64_t count = 0;
    if (s_decode_head(buf, len, &off, &count, err, err_size) != 0)
        return NULL;
    shoal_tree_t *self = calloc(1, sizeof(*self));
    if (!self || !(self->entries = calloc(count ? count : 1, sizeof(*self->entries)))) {
        free(self);
        snprintf(err, err_size, "out of memory");
        return NULL;
    }
    msgpack_sbuffer again;
    msgpack_sbuffer_init(&again);
    for (size_t i = 0; i < count; i++) {
        self->count = i + 1; /* destroy frees what this entry holds */
        s_reading_t r = {.entry = &self->entries[i], .bytes = buf + off, .again = &again};
        long size = gossip_wire_check(buf + off, len - off, S_ENTRY_DEPTH);
        r.len = size > 0 ? (size_t)size : 0;
        if (size < 0) {
            snprintf(err, err_size, "manifest entry %zu is cut short or malformed", i);
            goto failed;
        }
        if (shoal_unpack(r.bytes, r.len, S_ENTRY_DEPTH, s_decode_entry, &r) != 0) {
            snprintf(err, err_size, "manifest entry %zu %s", i, r.why ? r.why : "is malformed");
            goto failed;
        }
        off += r.len;
    }
    if (off != len) {
        snprintf(err, err_size, "manifest has %zu bytes after its entries", len - off);
        goto failed;
    }
    msgpack_sbuffer_destroy(&again);
    char why[512];
    if (s_finish(self, why, sizeof(why)) != 0) {
        snprintf(err, err_size, "manifest refused: %s", why);
        shoal_tree_destroy(&self);
    }
    return self;
failed:
    msgpack_sbuffer_destroy(&again);
    shoal_tree_destroy(&self);
    return NULL;
}

/* ---------------------------------------------------------------- git */

typedef struct {
    char **v;
    size_t n, cap;
} s_paths_t;

static void
s_paths_free(s_paths_t *paths)
{
    for (size_t i = 0; i < paths->n; i++)
        free(paths->v[i]);
    free(paths->v);
    *paths = (s_paths_t){0};
}

/* Adds a copy of path[0..len); -1 out of memory or over the entry cap. */
static int
s_paths_add(s_paths_t *paths, const char *path, size_t len, char *err, size_t err_size)
{
    if (paths->n >= SHOAL_TREE_ENTRIES_MAX) {
        snprintf(err, err_size, "more than %d files", SHOAL_TREE_ENTRIES_MAX);
        return -1;
    }
    if (paths->n == paths->cap) {
        size_t cap = paths->cap ? 2 * paths->cap : 1024;
        char **v = realloc(paths->v, cap * sizeof(*v));
        if (!v) {
            snprintf(err, err_size, "out of memory");
            return -1;
        }
        paths->v = v;
        paths->cap = cap;
    }
    if (!(paths->v[paths->n] = strndup(path, len))) {
        snprintf(err, err_size, "out of memory");
        return -1;
    }
    paths->n++;
    return 0;
}

/* What git's stdout feeds: NUL-terminated paths (ls-files -z) or the text
 * of one line (rev-parse). After a failure it keeps draining the pipe so
 * git can finish, but keeps nothing. */
typedef struct {
    bool z;
    s_paths_t *paths;
    char *part; /* the path or line read so far */
    size_t len, cap;
    bool failed;
    char *err;
    size_t err_size;
} s_output_t;

static void
s_output_take(s_output_t *o, const char *data, size_t len)
{
    for (size_t i = 0; i < len && !o->failed; i++) {
        if (o->z && data[i] == '\0') {
            const char *why = s_path_problem(o->part, o->len);
            if (why) {
                snprintf(o->err, o->err_size, "git lists a path that is %s: '%.*s'", why,
                         (int)(o->len < 200 ? o->len : 200), o->len ? o->part : "");
                o->failed = true;
            } else if (!o->paths->n || strlen(o->paths->v[o->paths->n - 1]) != o->len ||
                       memcmp(o->paths->v[o->paths->n - 1], o->part, o->len) != 0) {
                /* unmerged entries come once per stage, one after another */
                o->failed = s_paths_add(o->paths, o->part, o->len, o->err, o->err_size) != 0;
            }
            o->len = 0;
            continue;
        }
        if (o->len == o->cap) {
            size_t cap = o->cap ? 2 * o->cap : 256;
            char *part = cap <= 2 * SHOAL_TREE_PATH_MAX + 2 ? realloc(o->part, cap) : NULL;
            if (!part) {
                snprintf(o->err, o->err_size, "git's output has a path over %d bytes",
                         SHOAL_TREE_PATH_MAX);
                o->failed = true;
                break;
            }
            o->part = part;
            o->cap = cap;
        }
        o->part[o->len++] = data[i];
    }
}

/* Reads git's stdout into out and the start of its stderr into text[size]
 * until both are closed; closes them. */
static void
s_git_drain(int fds_in[2], s_output_t *out, char *text, size_t size)
{
    struct pollfd fds[2] = {{.fd = fds_in[0], .events = POLLIN},
                            {.fd = fds_in[1], .events = POLLIN}};
    size_t text_len = 0;
    while (fds[0].fd >= 0 || fds[1].fd >= 0) {
        int ready = poll(fds, 2, -1);
        for (int i = 0; i < 2; i++) {
            if (fds[i].fd < 0 || (ready >= 0 && !fds[i].revents))
                continue;
            char buf[64 * 1024];
            ssize_t n = ready < 0 ? -1 : read(fds[i].fd, buf, sizeof(buf));
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0) { /* an error too: git then dies of SIGPIPE, never blocks */
                close(fds[i].fd);
                fds[i].fd = -1;
            } else if (i == 0) {
                s_output_take(out, buf, (size_t)n);
            } else {
                size_t take = (size_t)n < size - 1 - text_len ? (size_t)n : size - 1 - text_len;
                memcpy(text + text_len, buf, take);
                text_len += take;
            }
        }
    }
    text[text_len] = '\0';
    text[strcspn(text, "\n")] = '\0';
}

/* Runs `git args...` (argv[3] its subcommand) with stdin from /dev/null,
 * its stdout into out and the first line of its stderr kept for the
 * message. 0 when git exits 0 and out took everything, else -1 with err. */
static int
s_git(char *const argv[], s_output_t *out, char *err, size_t err_size)
{
    int pout[2] = {-1, -1}, perr[2] = {-1, -1};
    if (pipe2(pout, O_CLOEXEC) != 0 || pipe2(perr, O_CLOEXEC) != 0) {
        snprintf(err, err_size, "cannot run git: %s", strerror(errno));
        for (int i = 0; i < 2; i++)
            if (pout[i] >= 0)
                close(pout[i]);
        return -1;
    }
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&actions, pout[1], 1);
    posix_spawn_file_actions_adddup2(&actions, perr[1], 2);
    pid_t pid;
    int rc = posix_spawnp(&pid, "git", &actions, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&actions);
    close(pout[1]);
    close(perr[1]);
    int fds[2] = {pout[0], perr[0]};
    if (rc != 0) {
        close(fds[0]);
        close(fds[1]);
        snprintf(err, err_size, "cannot run git%s: %s", rc == ENOENT ? " (is it installed?)" : "",
                 strerror(rc));
        return -1;
    }
    char text[S_GIT_ERR_MAX];
    s_git_drain(fds, out, text, sizeof(text));
    int status = 0;
    pid_t waited;
    while ((waited = waitpid(pid, &status, 0)) < 0 && errno == EINTR)
        ;
    if (waited < 0) { /* ECHILD: SIGCHLD ignored, git's status is lost */
        snprintf(err, err_size, "cannot learn how git %s ended: %s", argv[3], strerror(errno));
        return -1;
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        snprintf(err, err_size, "git %s failed: %s", argv[3], text[0] ? text : "no message");
        return -1;
    }
    return out->failed ? -1 : 0;
}

int
shoal_tree_toplevel(const char *dir, char *out, size_t out_size, char *err, size_t err_size)
{
    char *argv[] = {"git", "-C", (char *)dir, "rev-parse", "--show-toplevel", NULL};
    s_output_t o = {.err = err, .err_size = err_size};
    int rc = s_git(argv, &o, err, err_size);
    if (rc == 0) {
        while (o.len > 0 && o.part[o.len - 1] == '\n')
            o.len--;
        if (o.len == 0 || o.len >= out_size || memchr(o.part, '\0', o.len)) {
            snprintf(err, err_size, "'%s': git names no usable top directory", dir);
            rc = -1;
        } else {
            memcpy(out, o.part, o.len);
            out[o.len] = '\0';
        }
    }
    free(o.part);
    return rc;
}

/* ---------------------------------------------------------------- includes */

typedef struct {
    int top;
    const char *const *globs;
    size_t count;
    s_paths_t *paths;
    /* What the tests left (no git): a directory or file they made
     * unreadable is opened up, and a path too long to list is an error,
     * not skipped. */
    bool own;
    char *err;
    size_t err_size;
} s_walk_t;

static bool
s_matches(const s_walk_t *w, const char *rel)
{
    for (size_t i = 0; i < w->count; i++)
        if (fnmatch(w->globs[i], rel, 0) == 0)
            return true;
    return false;
}

/* Adds the files and links below rel (len bytes, "" for the top) that a
 * glob matches, never entering .git or a linked directory. A directory
 * whose path is already at the cap holds nothing a tree may name. */
static int
s_walk(s_walk_t *w, char *rel, size_t len)
{
    int fd = openat(w->top, len ? rel : ".", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0 && errno == EACCES && w->own && len && fchmodat(w->top, rel, 0700, 0) == 0)
        fd = openat(w->top, rel, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    DIR *dir = fd >= 0 ? fdopendir(fd) : NULL;
    if (!dir) {
        snprintf(w->err, w->err_size, "cannot read directory '%s': %s", len ? rel : ".",
                 strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    int rc = 0;
    struct dirent *d;
    while (rc == 0 && (errno = 0, d = readdir(dir))) {
        const char *name = d->d_name;
        if (!strcmp(name, ".") || !strcmp(name, "..") || !strcmp(name, ".git"))
            continue;
        size_t n = strlen(name), sub = len ? len + 1 + n : n;
        if (sub > SHOAL_TREE_PATH_MAX && w->own) {
            snprintf(w->err, w->err_size, "'%.200s/%.100s...' is longer than %d bytes", rel, name,
                     SHOAL_TREE_PATH_MAX);
            rc = -1;
            break;
        }
        if (sub > SHOAL_TREE_PATH_MAX)
            continue;
        if (len)
            rel[len] = '/';
        memcpy(rel + (len ? len + 1 : 0), name, n + 1);
        struct stat st;
        if (fstatat(w->top, rel, &st, AT_SYMLINK_NOFOLLOW) != 0) {
            if (errno != ENOENT) {
                snprintf(w->err, w->err_size, "cannot read '%s': %s", rel, strerror(errno));
                rc = -1;
            }
        } else if (S_ISDIR(st.st_mode)) {
            rc = sub < SHOAL_TREE_PATH_MAX ? s_walk(w, rel, sub) : 0;
        } else if ((S_ISREG(st.st_mode) || S_ISLNK(st.st_mode)) && s_matches(w, rel)) {
            if (w->own && S_ISREG(st.st_mode) && !(st.st_mode & S_IRUSR))
                fchmodat(w->top, rel, (st.st_mode & 07777) | S_IRUSR, 0); /* a test's chmod 000 */
            rc = s_paths_add(w->paths, rel, sub, w->err, w->err_size);
        }
        rel[len] = '\0';
    }
    if (rc == 0 && errno != 0) {
        snprintf(w->err, w->err_size, "cannot read directory '%s': %s", len ? rel : ".",
                 strerror(errno));
        rc = -1;
    }
    closedir(dir);
    return rc;
}

/* ---------------------------------------------------------------- cache */

/* A digest to store once the scan is over. */
typedef struct {
    int64_t dev, ino, size, mtime_ns;
    uint8_t digest[SHOAL_DIGEST_BYTES];
} s_fresh_t;

typedef struct {
    sqlite3 *db; /* NULL: no cache */
    sqlite3_stmt *get;
    const char *path;
    s_fresh_t *fresh;
    size_t fresh_count, fresh_cap;
} s_cache_t;

static const char s_schema[] = "CREATE TABLE IF NOT EXISTS shoal_hashes ("
                               " dev INTEGER NOT NULL,"
                               " ino INTEGER NOT NULL,"
                               " size INTEGER NOT NULL,"
                               " mtime_ns INTEGER NOT NULL,"
                               " digest BLOB NOT NULL,"
                               " PRIMARY KEY (dev, ino)) WITHOUT ROWID;";

static void
s_cache_close(s_cache_t *cache)
{
    sqlite3_finalize(cache->get);
    sqlite3_close(cache->db);
    free(cache->fresh);
    *cache = (s_cache_t){0};
}

/* Says once why the cache is not used, and goes on without it. */
static void
s_cache_drop(s_cache_t *cache, const char *what)
{
    shoal_log_info("hash cache '%s': %s: %s (hashing without it)", cache->path, what,
                   cache->db ? sqlite3_errmsg(cache->db) : strerror(errno));
    s_cache_close(cache);
}

static void
s_cache_open(s_cache_t *cache, const char *path)
{
    *cache = (s_cache_t){.path = path};
    if (!path || !*path)
        return;
    char dir[PATH_MAX];
    snprintf(dir, sizeof(dir), "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash && slash != dir) {
        *slash = '\0';
        if (shoal_make_dirs(dir, 0700) != 0) {
            s_cache_drop(cache, "cannot make its directory");
            return;
        }
    }
    if (sqlite3_open_v2(path, &cache->db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                        NULL) != SQLITE_OK) {
        s_cache_drop(cache, "cannot open");
        return;
    }
    sqlite3_busy_timeout(cache->db, S_CACHE_BUSY_MS);
    if (sqlite3_exec(cache->db, "PRAGMA journal_mode=WAL;", NULL, NULL, NULL) != SQLITE_OK ||
        sqlite3_exec(cache->db, s_schema, NULL, NULL, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(cache->db,
                           "SELECT size, mtime_ns, digest FROM shoal_hashes"
                           " WHERE dev = ? AND ino = ?",
                           -1, &cache->get, NULL) != SQLITE_OK)
        s_cache_drop(cache, "cannot read");
}

static int64_t
s_mtime_ns(const struct stat *st)
{
    return (int64_t)st->st_mtim.tv_sec * 1000000000LL + st->st_mtim.tv_nsec;
}

/* The cached digest of the file st describes: true on a hit. */
static bool
s_cache_get(s_cache_t *cache, const struct stat *st, uint8_t digest[SHOAL_DIGEST_BYTES])
{
    if (!cache->db)
        return false;
    sqlite3_reset(cache->get);
    sqlite3_bind_int64(cache->get, 1, (int64_t)st->st_dev);
    sqlite3_bind_int64(cache->get, 2, (int64_t)st->st_ino);
    int rc = sqlite3_step(cache->get);
    if (rc == SQLITE_DONE)
        return false;
    if (rc != SQLITE_ROW) {
        s_cache_drop(cache, "cannot read");
        return false;
    }
    bool hit = sqlite3_column_int64(cache->get, 0) == (int64_t)st->st_size &&
               sqlite3_column_int64(cache->get, 1) == s_mtime_ns(st) &&
               sqlite3_column_bytes(cache->get, 2) == SHOAL_DIGEST_BYTES;
    if (hit)
        memcpy(digest, sqlite3_column_blob(cache->get, 2), SHOAL_DIGEST_BYTES);
    sqlite3_reset(cache->get);
    return hit;
}

static void
s_cache_put(s_cache_t *cache, const struct stat *st, const uint8_t digest[SHOAL_DIGEST_BYTES])
{
    if (!cache->db)
        return;
    if (cache->fresh_count == cache->fresh_cap) {
        size_t cap = cache->fresh_cap ? 2 * cache->fresh_cap : 256;
        s_fresh_t *fresh = realloc(cache->fresh, cap * sizeof(*fresh));
        if (!fresh)
            return; /* only costs hashing it again next time */
        cache->fresh = fresh;
        cache->fresh_cap = cap;
    }
    s_fresh_t *f = &cache->fresh[cache->fresh_count++];
    *f = (s_fresh_t){.dev = (int64_t)st->st_dev,
                     .ino = (int64_t)st->st_ino,
                     .size = (int64_t)st->st_size,
                     .mtime_ns = s_mtime_ns(st)};
    memcpy(f->digest, digest, SHOAL_DIGEST_BYTES);
}

/* Stores the scan's new digests in one transaction, taken only now so a
 * long scan never holds the cache's write lock. */
static void
s_cache_commit(s_cache_t *cache)
{
    if (!cache->db || cache->fresh_count == 0)
        return;
    sqlite3_stmt *put = NULL;
    bool ok = sqlite3_exec(cache->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) == SQLITE_OK;
    if (ok && sqlite3_prepare_v2(cache->db,
                                 "INSERT OR REPLACE INTO shoal_hashes"
                                 " (dev, ino, size, mtime_ns, digest) VALUES (?, ?, ?, ?, ?)",
                                 -1, &put, NULL) != SQLITE_OK)
        ok = false;
    for (size_t i = 0; ok && i < cache->fresh_count; i++) {
        const s_fresh_t *f = &cache->fresh[i];
        sqlite3_reset(put);
        sqlite3_bind_int64(put, 1, f->dev);
        sqlite3_bind_int64(put, 2, f->ino);
        sqlite3_bind_int64(put, 3, f->size);
        sqlite3_bind_int64(put, 4, f->mtime_ns);
        sqlite3_bind_blob(put, 5, f->digest, SHOAL_DIGEST_BYTES, SQLITE_STATIC);
        ok = sqlite3_step(put) == SQLITE_DONE;
    }
    sqlite3_finalize(put);
    if (ok && sqlite3_exec(cache->db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK)
        return;
    shoal_log_info("hash cache '%s': cannot write: %s (next scan hashes again)", cache->path,
                   sqlite3_errmsg(cache->db));
    sqlite3_exec(cache->db, "ROLLBACK", NULL, NULL, NULL);
}

/* ---------------------------------------------------------------- scan */

typedef struct {
    int top;
    bool git;                   /* git's files, and the included ones; false: those alone */
    const shoal_tree_t *except; /* entries equal to one of its are left out (NULL: none) */
    s_cache_t cache;
    int64_t racy_ns; /* files modified after this are not cached */
    size_t hashed;
    char *err;
    size_t err_size;
} s_scan_t;

static bool
s_same_file(const struct stat *a, const struct stat *b)
{
    return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
           s_mtime_ns(a) == s_mtime_ns(b);
}

/* Fills e for the regular file path that lstat described as st: from the
 * cache, else hashed from an open descriptor (the size is what was hashed,
 * so the entry is always consistent). 1: it is gone, skip it. */
static int
s_scan_file(s_scan_t *s, const char *path, const struct stat *st, shoal_tree_entry_t *e)
{
    e->kind = SHOAL_TREE_FILE;
    e->mode = st->st_mode & 0111 ? 0755 : 0644;
    e->size = (uint64_t)st->st_size;
    if (s_cache_get(&s->cache, st, e->digest))
        return 0;
    for (int tries = 0; tries < S_CHANGED_TRIES; tries++) {
        int fd = openat(s->top, path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
        if (fd < 0 && (errno == ENOENT || errno == ENOTDIR))
            return 1;
        struct stat before, after;
        uint64_t bytes = 0;
        const char *why = NULL;
        if (fd < 0 || fstat(fd, &before) != 0 || s_hash_fd(fd, e->digest, &bytes) != 0 ||
            fstat(fd, &after) != 0)
            why = strerror(errno);
        else if (!S_ISREG(before.st_mode))
            why = "no longer a regular file";
        if (fd >= 0)
            close(fd);
        if (why) {
            snprintf(s->err, s->err_size, "cannot read '%s': %s", path, why);
            return -1;
        }
        if (!s_same_file(&before, &after) || bytes != (uint64_t)after.st_size)
            continue;
        s->hashed++;
        e->mode = after.st_mode & 0111 ? 0755 : 0644;
        e->size = bytes;
        if (s_mtime_ns(&after) < s->racy_ns)
            s_cache_put(&s->cache, &after, e->digest);
        return 0;
    }
    snprintf(s->err, s->err_size, "'%s' keeps changing while it is read", path);
    return -1;
}

/* Fills e for path: 0, 1 when there is nothing to list (gone, a directory,
 * not a file or link), -1 with the reason. */
static int
s_scan_one(s_scan_t *s, const char *path, shoal_tree_entry_t *e)
{
    struct stat st;
    if (fstatat(s->top, path, &st, AT_SYMLINK_NOFOLLOW) != 0) {
        if (errno == ENOENT || errno == ENOTDIR)
            return 1;
        snprintf(s->err, s->err_size, "cannot read '%s': %s", path, strerror(errno));
        return -1;
    }
    if (S_ISREG(st.st_mode))
        return s_scan_file(s, path, &st, e);
    if (!S_ISLNK(st.st_mode))
        return 1;
    char target[SHOAL_TREE_PATH_MAX + 1];
    ssize_t n = readlinkat(s->top, path, target, sizeof(target));
    if (n < 0 && (errno == ENOENT || errno == EINVAL))
        return 1;
    if (n <= 0 || n > SHOAL_TREE_PATH_MAX) {
        snprintf(s->err, s->err_size, "cannot read link '%s': %s", path,
                 n < 0 ? strerror(errno) : "its target is empty or too long");
        return -1;
    }
    if (!(e->target = strndup(target, (size_t)n))) {
        snprintf(s->err, s->err_size, "out of memory");
        return -1;
    }
    e->kind = SHOAL_TREE_LINK;
    e->mode = 0777;
    e->size = 0;
    return 0;
}

static int
s_strcmp_p(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

const char *
shoal_tree_glob_problem(const char *glob)
{
    size_t n = strlen(glob);
    if (n == 0)
        return "is empty";
    if (glob[0] == '/')
        return "is absolute: globs name paths below the workspace's top";
    if (strncmp(glob, "./", 2) == 0)
        return "starts with './': paths below the top are matched without it";
    if (glob[n - 1] == '/')
        return "ends with '/': a glob names files ('DIR/*' names those below DIR)";
    for (const char *c = glob; c; c = strchr(c, '/')) {
        c += *c == '/';
        size_t len = strcspn(c, "/");
        if (len == 2 && strncmp(c, "..", 2) == 0)
            return "has a '..' component: globs name paths below the workspace's top";
        if (len == 1 && *c == '.')
            return "has a '.' component: paths are matched without one";
        if (len == 0)
            return "has an empty component ('//'): paths are matched without one";
    }
    return NULL;
}

/* Which directories hold SHOAL_TREE_SKIP_MARKER, for paths in sorted
 * order: the answers for the previous path's directories are kept, so each
 * directory is looked at once. */
typedef struct {
    int top;
    char dir[SHOAL_TREE_PATH_MAX + 1];       /* the previous path's directory */
    size_t depth;                            /* how many of its levels are known */
    size_t end[SHOAL_TREE_PATH_MAX / 2 + 1]; /* level k is dir[0..end[k]) */
    bool has[SHOAL_TREE_PATH_MAX / 2 + 1];   /* ...and holds the marker */
} s_marked_t;

/* Whether a directory above path holds the marker (shoal's own output,
 * such as --artifacts-dir: never part of a workspace). */
static bool
s_below_marker(s_marked_t *m, const char *path)
{
    const char *slash = strrchr(path, '/');
    size_t len = slash ? (size_t)(slash - path) : 0;
    /* keep the levels the previous directory shares with this one */
    size_t keep = 0;
    while (keep < m->depth && m->end[keep] <= len && strncmp(m->dir, path, m->end[keep]) == 0 &&
           (path[m->end[keep]] == '/'))
        keep++;
    memcpy(m->dir, path, len);
    m->dir[len] = '\0';
    m->depth = keep;
    for (size_t k = 0; k < keep; k++)
        if (m->has[k])
            return true;
    for (size_t at = keep ? m->end[keep - 1] + 1 : 0; at <= len && len > 0;) {
        const char *next = memchr(m->dir + at, '/', len - at);
        size_t end = next ? (size_t)(next - m->dir) : len;
        char marker[SHOAL_TREE_PATH_MAX + sizeof(SHOAL_TREE_SKIP_MARKER) + 2];
        snprintf(marker, sizeof(marker), "%.*s/%s", (int)end, m->dir, SHOAL_TREE_SKIP_MARKER);
        bool has = faccessat(m->top, marker, F_OK, AT_SYMLINK_NOFOLLOW) == 0;
        m->end[m->depth] = end;
        m->has[m->depth++] = has;
        if (has)
            return true;
        at = end + 1;
    }
    /* the top itself is never skipped: it is the workspace */
    return false;
}

/* Git's files, then the included ones; sorted and unique, without what
 * lies below a directory holding SHOAL_TREE_SKIP_MARKER. */
static int
s_list(s_scan_t *s, const char *top, const char *const *includes, size_t include_count,
       s_paths_t *paths)
{
    int rc = 0;
    if (s->git) {
        char *argv[] = {"git", "-C", (char *)top, "ls-files", "-co", "--exclude-standard",
                        "-z",  NULL};
        s_output_t o = {.z = true, .paths = paths, .err = s->err, .err_size = s->err_size};
        rc = s_git(argv, &o, s->err, s->err_size);
        free(o.part);
        if (rc == 0 && o.len > 0) {
            snprintf(s->err, s->err_size, "git ls-files output ends inside a path");
            rc = -1;
        }
    }
    if (rc == 0 && include_count > 0) {
        char rel[SHOAL_TREE_PATH_MAX + 2] = "";
        s_walk_t w = {.top = s->top,
                      .globs = includes,
                      .count = include_count,
                      .paths = paths,
                      .own = !s->git,
                      .err = s->err,
                      .err_size = s->err_size};
        rc = s_walk(&w, rel, 0);
    }
    if (rc != 0)
        return -1;
    if (paths->n > 1) /* v is NULL when nothing matched */
        qsort(paths->v, paths->n, sizeof(*paths->v), s_strcmp_p);
    size_t kept = 0;
    s_marked_t marked = {.top = s->top};
    for (size_t i = 0; i < paths->n; i++) {
        if ((kept > 0 && strcmp(paths->v[kept - 1], paths->v[i]) == 0) ||
            s_below_marker(&marked, paths->v[i]))
            free(paths->v[i]);
        else
            paths->v[kept++] = paths->v[i];
    }
    paths->n = kept;
    return 0;
}

/* Whether tree has an entry at path equal to e (kind, mode, and digest or
 * target). */
static bool
s_same_entry(const shoal_tree_t *tree, const char *path, const shoal_tree_entry_t *e)
{
    size_t lo = 0, hi = tree->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(tree->entries[mid].path, path);
        if (c == 0) {
            const shoal_tree_entry_t *t = &tree->entries[mid];
            return t->kind == e->kind && t->mode == e->mode &&
                   (e->kind == SHOAL_TREE_LINK
                        ? strcmp(t->target, e->target) == 0
                        : t->size == e->size &&
                              memcmp(t->digest, e->digest, SHOAL_DIGEST_BYTES) == 0);
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return false;
}

static shoal_tree_t *
s_scan(s_scan_t *s, const char *top, const char *const *includes, size_t include_count)
{
    s_paths_t paths = {0};
    shoal_tree_t *self = NULL;
    if (s_list(s, top, includes, include_count, &paths) != 0)
        goto failed;
    self = calloc(1, sizeof(*self));
    if (!self || !(self->entries = calloc(paths.n ? paths.n : 1, sizeof(*self->entries)))) {
        snprintf(s->err, s->err_size, "out of memory");
        goto failed;
    }
    for (size_t i = 0; i < paths.n; i++) {
        shoal_tree_entry_t *e = &self->entries[self->count];
        int rc = s_scan_one(s, paths.v[i], e);
        if (rc < 0) {
            free(e->target);
            goto failed;
        }
        if (rc == 0 && s->except && s_same_entry(s->except, paths.v[i], e))
            rc = 1;
        if (rc == 0) {
            e->path = paths.v[i]; /* taken */
            paths.v[i] = NULL;
            self->count++;
        } else {
            free(e->target);
            memset(e, 0, sizeof(*e)); /* the slot is used again */
        }
    }
    s_cache_commit(&s->cache);
    char why[512];
    if (s_finish(self, why, sizeof(why)) != 0) {
        snprintf(s->err, s->err_size, "cannot ship the workspace: %s", why);
        goto failed;
    }
    uint8_t *manifest = NULL;
    if (shoal_tree_encode(self, &manifest) < 0) {
        snprintf(s->err, s->err_size, "the manifest would be over %u bytes",
                 SHOAL_TREE_MANIFEST_MAX);
        goto failed;
    }
    free(manifest);
    s_paths_free(&paths);
    return self;
failed:
    s_paths_free(&paths);
    shoal_tree_destroy(&self);
    return NULL;
}

shoal_tree_t *
shoal_tree_scan(const char *top, const char *const *includes, size_t include_count,
                const char *cache_path, size_t *hashed, char *err, size_t err_size)
{
    if (hashed)
        *hashed = 0;
    if (sodium_init() < 0) {
        snprintf(err, err_size, "libsodium cannot start");
        return NULL;
    }
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    s_scan_t s = {.top = open(top, O_RDONLY | O_DIRECTORY | O_CLOEXEC),
                  .git = true,
                  .racy_ns = (int64_t)now.tv_sec * 1000000000LL + now.tv_nsec - S_RACY_NS,
                  .err = err,
                  .err_size = err_size};
    if (s.top < 0) {
        snprintf(err, err_size, "cannot open '%s': %s", top, strerror(errno));
        return NULL;
    }
    s_cache_open(&s.cache, cache_path);
    shoal_tree_t *self = s_scan(&s, top, includes, include_count);
    s_cache_close(&s.cache);
    close(s.top);
    if (hashed)
        *hashed = s.hashed;
    return self;
}

shoal_tree_t *
shoal_tree_scan_matching(const char *top, const char *const *globs, size_t glob_count,
                         const shoal_tree_t *except, char *err, size_t err_size)
{
    s_scan_t s = {.top = open(top, O_RDONLY | O_DIRECTORY | O_CLOEXEC),
                  .except = except,
                  .err = err,
                  .err_size = err_size};
    if (s.top < 0) {
        snprintf(err, err_size, "cannot open '%s': %s", top, strerror(errno));
        return NULL;
    }
    shoal_tree_t *self = s_scan(&s, top, globs, glob_count);
    s_cache_close(&s.cache);
    close(s.top);
    return self;
}
