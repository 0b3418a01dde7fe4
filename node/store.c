/* node/store.c: the blob store (see store.h). Owns blobs/ and partial/
 * under its directory and the counts of what blobs/ holds. Invariants: a
 * blob reaches blobs/AB/HEX only by rename from partial/, after its bytes
 * were hashed and matched HEX; a blob's mtime is its last use, which trim
 * reads to evict the least recently used first. A session directory is
 * made below an O_DIRECTORY descriptor, one component at a time without
 * following links, on top of the path rules tree decoding enforced.
 */
#include "node/store.h"
#include "node/files.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The store's own path leaves room for "/blobs/AB/" and a digest below it. */
#define S_DIR_MAX (PATH_MAX - 128)

struct shoal_store {
    char dir[S_DIR_MAX];
    uint64_t cap; /* bytes, 0: none */
    uint64_t blobs, bytes;
};

struct shoal_store_part {
    shoal_store_t *store;
    uint8_t digest[SHOAL_DIGEST_BYTES];
    uint64_t size;
    int fd;
    char path[PATH_MAX];
};

/* One blob as a listing found it. */
typedef struct {
    char hex[SHOAL_DIGEST_HEX];
    struct timespec used;
    uint64_t size;
} s_blob_t;

/* blobs/AB/HEX of digest into out[PATH_MAX]. */
static void
s_blob_path(const shoal_store_t *self, const uint8_t digest[SHOAL_DIGEST_BYTES], char *out)
{
    char hex[SHOAL_DIGEST_HEX];
    shoal_digest_hex(digest, hex);
    snprintf(out, PATH_MAX, "%s/blobs/%.2s/%s", self->dir, hex, hex);
}

/* Marks a blob used; false when it is not there. */
static bool
s_touch(const char *path)
{
    const struct timespec times[2] = {{.tv_nsec = UTIME_OMIT}, {.tv_nsec = UTIME_NOW}};
    if (utimensat(AT_FDCWD, path, times, 0) == 0)
        return true;
    struct stat st; /* a store another user owns still serves, unmarked */
    return errno != ENOENT && stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* Every blob under blobs/ (names that are not a digest in their AB
 * directory are left alone). -1 with the reason in err. */
static int
s_list(const shoal_store_t *self, s_blob_t **out, size_t *count, char *err, size_t err_size)
{
    *out = NULL;
    *count = 0;
    size_t cap = 0;
    char path[PATH_MAX];
    snprintf(path, sizeof(path), "%s/blobs", self->dir);
    DIR *top = opendir(path);
    if (!top) {
        snprintf(err, err_size, "cannot read '%s': %s", path, strerror(errno));
        return -1;
    }
    struct dirent *d;
    while ((d = readdir(top))) {
        if (strlen(d->d_name) != 2)
            continue;
        int fd = openat(dirfd(top), d->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        DIR *sub = fd >= 0 ? fdopendir(fd) : NULL;
        if (!sub) {
            if (fd >= 0)
                close(fd);
            continue;
        }
        struct dirent *b;
        uint8_t digest[SHOAL_DIGEST_BYTES];
        struct stat st;
        while ((b = readdir(sub))) {
            if (shoal_digest_parse(b->d_name, digest) != 0 || strncmp(b->d_name, d->d_name, 2) ||
                fstatat(dirfd(sub), b->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
                !S_ISREG(st.st_mode))
                continue;
            if (*count == cap) {
                cap = cap ? 2 * cap : 256;
                s_blob_t *more = realloc(*out, cap * sizeof(**out));
                if (!more) {
                    closedir(sub);
                    closedir(top);
                    free(*out);
                    *out = NULL;
                    snprintf(err, err_size, "out of memory");
                    return -1;
                }
                *out = more;
            }
            s_blob_t *blob = &(*out)[(*count)++];
            shoal_digest_hex(digest, blob->hex);
            blob->used = st.st_mtim;
            blob->size = (uint64_t)st.st_size;
        }
        closedir(sub);
    }
    closedir(top);
    return 0;
}

/* Removes what partial/ holds: blobs a previous process never finished. */
static void
s_clear_partial(const shoal_store_t *self)
{
    char path[PATH_MAX];
    snprintf(path, sizeof(path), "%s/partial", self->dir);
    DIR *dir = opendir(path);
    if (!dir)
        return;
    struct dirent *d;
    while ((d = readdir(dir)))
        if (strcmp(d->d_name, ".") && strcmp(d->d_name, ".."))
            unlinkat(dirfd(dir), d->d_name, 0);
    closedir(dir);
}

void
shoal_store_default_dir(char *out, size_t out_size)
{
    shoal_cache_path("store", out, out_size);
}

shoal_store_t *
shoal_store_new(const char *dir, uint64_t cap_bytes, char *err, size_t err_size)
{
    shoal_store_t *self = calloc(1, sizeof(*self));
    if (!self) {
        snprintf(err, err_size, "out of memory");
        return NULL;
    }
    self->cap = cap_bytes;
    char path[PATH_MAX];
    if (dir && *dir)
        snprintf(path, sizeof(path), "%s", dir);
    else
        shoal_store_default_dir(path, sizeof(path));
    if (!path[0] || strlen(path) >= sizeof(self->dir)) {
        snprintf(err, err_size, "no usable store directory: %s",
                 path[0] ? "its path is too long" : "set XDG_CACHE_HOME or HOME");
        goto failed;
    }
    memcpy(self->dir, path, strlen(path) + 1);
    const char *subs[] = {"", "/blobs", "/partial"};
    for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++) {
        snprintf(path, sizeof(path), "%s%s", self->dir, subs[i]);
        if (shoal_make_dirs(path, 0700) != 0) {
            snprintf(err, err_size, "cannot make store directory '%s': %s", path, strerror(errno));
            goto failed;
        }
    }
    s_clear_partial(self);
    s_blob_t *blobs = NULL;
    size_t count = 0;
    if (s_list(self, &blobs, &count, err, err_size) != 0)
        goto failed;
    for (size_t i = 0; i < count; i++)
        self->bytes += blobs[i].size;
    self->blobs = count;
    free(blobs);
    return self;
failed:
    free(self);
    return NULL;
}

void
shoal_store_destroy(shoal_store_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    free(*self_p);
    *self_p = NULL;
}

const char *
shoal_store_dir(const shoal_store_t *self)
{
    return self->dir;
}

uint64_t
shoal_store_blobs(const shoal_store_t *self)
{
    return self->blobs;
}

uint64_t
shoal_store_bytes(const shoal_store_t *self)
{
    return self->bytes;
}

bool
shoal_store_has(shoal_store_t *self, const uint8_t digest[SHOAL_DIGEST_BYTES])
{
    char path[PATH_MAX];
    s_blob_path(self, digest, path);
    return s_touch(path);
}

long
shoal_store_read(shoal_store_t *self, const uint8_t digest[SHOAL_DIGEST_BYTES], uint64_t offset,
                 uint8_t *buf, size_t len)
{
    char path[PATH_MAX];
    s_blob_path(self, digest, path);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    const struct timespec times[2] = {{.tv_nsec = UTIME_OMIT}, {.tv_nsec = UTIME_NOW}};
    futimens(fd, times); /* best effort, as s_touch */
    if (len > LONG_MAX)
        len = LONG_MAX;
    size_t got = 0;
    while (got < len && offset + got <= (uint64_t)INT64_MAX) {
        ssize_t n = pread(fd, buf + got, len - got, (off_t)(offset + got));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            close(fd);
            return -1;
        }
        if (n == 0)
            break;
        got += (size_t)n;
    }
    close(fd);
    return (long)got;
}

int64_t
shoal_store_size(shoal_store_t *self, const uint8_t digest[SHOAL_DIGEST_BYTES])
{
    char path[PATH_MAX];
    s_blob_path(self, digest, path);
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
        return -1;
    return (int64_t)st.st_size;
}

int
shoal_store_put(shoal_store_t *self, const uint8_t *data, size_t len,
                uint8_t digest[SHOAL_DIGEST_BYTES], char *err, size_t err_size)
{
    crypto_generichash(digest, SHOAL_DIGEST_BYTES, data, len, NULL, 0);
    shoal_store_part_t *part = shoal_store_part_new(self, digest, len, err, err_size);
    if (!part)
        return -1;
    if (shoal_store_part_write(part, 0, data, len) != 0) {
        snprintf(err, err_size, "cannot write to the store '%s': %s", self->dir, strerror(errno));
        shoal_store_part_abort(&part);
        return -1;
    }
    return shoal_store_part_commit(&part, err, err_size);
}

int
shoal_store_put_file(shoal_store_t *self, const char *path,
                     const uint8_t digest[SHOAL_DIGEST_BYTES], uint64_t size, char *err,
                     size_t err_size)
{
    if (shoal_store_has(self, digest))
        return 0;
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, err_size, "cannot read '%s': %s", path, strerror(errno));
        return -1;
    }
    shoal_store_part_t *part = shoal_store_part_new(self, digest, size, err, err_size);
    uint8_t buf[64 * 1024];
    uint64_t at = 0;
    ssize_t n = 0;
    while (part && (n = read(fd, buf, sizeof(buf))) > 0) {
        if (shoal_store_part_write(part, at, buf, (size_t)n) != 0) {
            snprintf(err, err_size, "cannot write to the store '%s': %s", self->dir,
                     errno == ERANGE ? "the file grew while it was read" : strerror(errno));
            shoal_store_part_abort(&part);
        }
        at += (uint64_t)n;
    }
    if (part && n < 0) {
        snprintf(err, err_size, "cannot read '%s': %s", path, strerror(errno));
        shoal_store_part_abort(&part);
    }
    close(fd);
    return part ? shoal_store_part_commit(&part, err, err_size) : -1;
}

/* ---------------------------------------------------------------- parts */

shoal_store_part_t *
shoal_store_part_new(shoal_store_t *self, const uint8_t digest[SHOAL_DIGEST_BYTES], uint64_t size,
                     char *err, size_t err_size)
{
    shoal_store_part_t *part = calloc(1, sizeof(*part));
    if (!part) {
        snprintf(err, err_size, "out of memory");
        return NULL;
    }
    part->store = self;
    memcpy(part->digest, digest, SHOAL_DIGEST_BYTES);
    part->size = size;
    snprintf(part->path, sizeof(part->path), "%s/partial/blob-XXXXXX", self->dir);
    part->fd = mkostemp(part->path, O_CLOEXEC);
    if (part->fd < 0) {
        snprintf(err, err_size, "cannot make a file in '%s/partial': %s", self->dir,
                 strerror(errno));
        free(part);
        return NULL;
    }
    return part;
}

int
shoal_store_part_write(shoal_store_part_t *self, uint64_t offset, const uint8_t *data, size_t len)
{
    if (offset > self->size || len > self->size - offset) {
        errno = ERANGE;
        return -1;
    }
    size_t done = 0;
    while (done < len) {
        ssize_t n = pwrite(self->fd, data + done, len - done, (off_t)(offset + done));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        done += (size_t)n;
    }
    return 0;
}

void
shoal_store_part_abort(shoal_store_part_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    shoal_store_part_t *self = *self_p;
    close(self->fd);
    unlink(self->path);
    free(self);
    *self_p = NULL;
}

/* Checks what a part holds against its size and digest; -1 with err. */
static int
s_part_check(shoal_store_part_t *self, char *hex, char *err, size_t err_size)
{
    struct stat st;
    if (fstat(self->fd, &st) != 0) {
        snprintf(err, err_size, "blob %s: %s", hex, strerror(errno));
        return -1;
    }
    if ((uint64_t)st.st_size != self->size) {
        snprintf(err, err_size, "blob %s: %llu of %llu bytes received", hex,
                 (unsigned long long)st.st_size, (unsigned long long)self->size);
        return -1;
    }
    uint8_t digest[SHOAL_DIGEST_BYTES];
    if (shoal_tree_hash_file(self->path, digest) != 0) {
        snprintf(err, err_size, "blob %s: cannot read it back: %s", hex, strerror(errno));
        return -1;
    }
    if (memcmp(digest, self->digest, SHOAL_DIGEST_BYTES) != 0) {
        snprintf(err, err_size, "blob %s: the bytes received do not match the digest", hex);
        return -1;
    }
    return 0;
}

int
shoal_store_part_commit(shoal_store_part_t **self_p, char *err, size_t err_size)
{
    shoal_store_part_t *self = *self_p;
    shoal_store_t *store = self->store;
    char hex[SHOAL_DIGEST_HEX], blob[PATH_MAX], dir[PATH_MAX];
    shoal_digest_hex(self->digest, hex);
    s_blob_path(store, self->digest, blob);
    snprintf(dir, sizeof(dir), "%s/blobs/%.2s", store->dir, hex);
    int rc = s_part_check(self, hex, err, err_size);
    struct stat st;
    if (rc == 0 && stat(blob, &st) == 0) {
        shoal_store_part_abort(self_p); /* the same bytes are there already */
        return 0;
    }
    if (rc == 0 && (fchmod(self->fd, 0444) != 0 || (mkdir(dir, 0700) != 0 && errno != EEXIST) ||
                    rename(self->path, blob) != 0)) {
        snprintf(err, err_size, "cannot store blob %s: %s", hex, strerror(errno));
        rc = -1;
    }
    if (rc == 0) {
        store->blobs++;
        store->bytes += self->size;
    }
    shoal_store_part_abort(self_p); /* after a rename, unlink finds nothing */
    return rc;
}

/* ---------------------------------------------------------------- trim */

static int
s_by_use(const void *a, const void *b)
{
    const s_blob_t *x = a, *y = b;
    if (x->used.tv_sec != y->used.tv_sec)
        return x->used.tv_sec < y->used.tv_sec ? -1 : 1;
    if (x->used.tv_nsec != y->used.tv_nsec)
        return x->used.tv_nsec < y->used.tv_nsec ? -1 : 1;
    return strcmp(x->hex, y->hex);
}

uint64_t
shoal_store_trim(shoal_store_t *self)
{
    if (self->cap == 0 || self->bytes <= self->cap)
        return 0;
    s_blob_t *blobs = NULL;
    size_t count = 0;
    char err[PATH_MAX + 64];
    if (s_list(self, &blobs, &count, err, sizeof(err)) != 0)
        return 0;  /* nothing removed; the next trim tries again */
    if (count > 1) /* blobs is NULL when the store is empty */
        qsort(blobs, count, sizeof(*blobs), s_by_use);
    uint64_t bytes = 0, removed = 0;
    for (size_t i = 0; i < count; i++)
        bytes += blobs[i].size;
    self->blobs = count;
    for (size_t i = 0; i < count && bytes > self->cap; i++) {
        char path[PATH_MAX];
        snprintf(path, sizeof(path), "%s/blobs/%.2s/%s", self->dir, blobs[i].hex, blobs[i].hex);
        if (unlink(path) != 0)
            continue;
        bytes -= blobs[i].size;
        removed += blobs[i].size;
        self->blobs--;
    }
    self->bytes = bytes;
    free(blobs);
    return removed;
}

/* ---------------------------------------------------------------- materialize */

/* The directory being filled: the descriptor of the parent of the entries
 * being placed, and its path relative to the root. */
typedef struct {
    int root;
    int fd;
    char rel[SHOAL_TREE_PATH_MAX + 1];
} s_cursor_t;

static void
s_cursor_close(s_cursor_t *c)
{
    if (c->fd >= 0 && c->fd != c->root)
        close(c->fd);
    c->fd = -1;
}

/* Points the cursor at the directory rel[0..len) below the root, making
 * each missing directory (0755) and never following a link. */
static int
s_cursor_enter(s_cursor_t *c, const char *rel, size_t len)
{
    if (c->fd >= 0 && strlen(c->rel) == len && memcmp(c->rel, rel, len) == 0)
        return 0;
    s_cursor_close(c);
    c->rel[0] = '\0';
    int fd = c->root;
    char name[SHOAL_TREE_PATH_MAX + 1];
    for (size_t start = 0; start < len;) {
        const char *slash = memchr(rel + start, '/', len - start);
        size_t n = (slash ? (size_t)(slash - rel) : len) - start;
        memcpy(name, rel + start, n);
        name[n] = '\0';
        if (mkdirat(fd, name, 0755) == 0)
            fchmodat(fd, name, 0755, 0); /* whatever the umask */
        else if (errno != EEXIST)
            goto failed;
        int next = openat(fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd != c->root)
            close(fd);
        if (next < 0)
            return -1;
        fd = next;
        start += n + 1;
    }
    c->fd = fd;
    memcpy(c->rel, rel, len);
    c->rel[len] = '\0';
    return 0;
failed:
    if (fd != c->root) {
        int saved = errno;
        close(fd);
        errno = saved;
    }
    return -1;
}

/* A private copy of the blob at blob, as name in dir with mode. */
static int
s_copy(const char *blob, int dir, const char *name, mode_t mode)
{
    int in = open(blob, O_RDONLY | O_CLOEXEC);
    if (in < 0)
        return -1;
    int out = openat(dir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    int rc = out < 0 ? -1 : 0;
    char buf[64 * 1024];
    while (rc == 0) {
        ssize_t n = read(in, buf, sizeof(buf));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            rc = n < 0 ? -1 : 0;
            break;
        }
        for (ssize_t done = 0; rc == 0 && done < n;) {
            ssize_t w = write(out, buf + done, (size_t)(n - done));
            if (w < 0 && errno != EINTR)
                rc = -1;
            else if (w > 0)
                done += w;
        }
    }
    if (rc == 0 && fchmod(out, mode) != 0)
        rc = -1;
    int saved = errno;
    close(in);
    if (out >= 0 && close(out) != 0 && rc == 0) {
        saved = errno;
        rc = -1;
    }
    errno = saved;
    return rc;
}

/* Places one entry in the cursor's directory as name; -1 with err. */
static int
s_place(shoal_store_t *self, s_cursor_t *c, const shoal_tree_entry_t *e, const char *name,
        bool copy, char *err, size_t err_size)
{
    if (e->kind == SHOAL_TREE_LINK) {
        if (symlinkat(e->target, c->fd, name) == 0)
            return 0;
        snprintf(err, err_size, "cannot make link '%s': %s", e->path, strerror(errno));
        return -1;
    }
    char blob[PATH_MAX];
    s_blob_path(self, e->digest, blob);
    if (!s_touch(blob)) {
        char hex[SHOAL_DIGEST_HEX];
        shoal_digest_hex(e->digest, hex);
        snprintf(err, err_size, "cannot make '%s': blob %s is not in the store", e->path, hex);
        return -1;
    }
    if (copy) {
        if (s_copy(blob, c->fd, name, e->mode) == 0)
            return 0;
        snprintf(err, err_size, "cannot make '%s': %s", e->path, strerror(errno));
        return -1;
    }
    if (e->mode == 0644) {
        if (linkat(AT_FDCWD, blob, c->fd, name, 0) == 0)
            return 0;
        if (errno != EXDEV && errno != EMLINK && errno != EPERM) {
            snprintf(err, err_size, "cannot make '%s': %s", e->path, strerror(errno));
            return -1;
        }
    }
    if (s_copy(blob, c->fd, name, e->mode == 0755 ? 0555 : 0444) == 0)
        return 0;
    snprintf(err, err_size, "cannot make '%s': %s", e->path, strerror(errno));
    return -1;
}

int
shoal_store_materialize(shoal_store_t *self, const shoal_tree_t *tree, const char *dir, bool copy,
                        char *err, size_t err_size)
{
    if (mkdir(dir, 0755) != 0) {
        snprintf(err, err_size, "cannot make '%s': %s", dir, strerror(errno));
        return -1;
    }
    chmod(dir, 0755); /* whatever the umask */
    s_cursor_t c = {.root = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC), .fd = -1};
    int rc = c.root < 0 ? -1 : 0;
    if (rc != 0)
        snprintf(err, err_size, "cannot open '%s': %s", dir, strerror(errno));
    size_t count = shoal_tree_count(tree);
    for (size_t i = 0; rc == 0 && i < count; i++) {
        const shoal_tree_entry_t *e = shoal_tree_entry(tree, i);
        const char *slash = strrchr(e->path, '/');
        size_t parent = slash ? (size_t)(slash - e->path) : 0;
        if (s_cursor_enter(&c, e->path, parent) != 0) {
            snprintf(err, err_size, "cannot make the directory of '%s': %s", e->path,
                     strerror(errno));
            rc = -1;
        } else {
            rc = s_place(self, &c, e, slash ? slash + 1 : e->path, copy, err, err_size);
        }
    }
    s_cursor_close(&c);
    if (c.root >= 0)
        close(c.root);
    if (rc != 0)
        shoal_remove_tree(dir);
    return rc;
}
