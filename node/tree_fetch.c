/* Fetching a tree by its root (see tree_fetch.h). */
#include "node/tree_fetch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct shoal_tree_fetch {
    shoal_store_t *store;
    shoal_fetch_t *fetch;
    shoal_tree_fetch_state_t state;
    uint8_t root[SHOAL_DIGEST_BYTES];
    uint64_t index_size;
    shoal_page_t *pages; /* of the manifest */
    size_t page_count;
    shoal_tree_t *tree;
    uint64_t present;
    char why[600];
};

shoal_tree_fetch_t *
shoal_tree_fetch_new(shoal_store_t *store, const char *origin, shoal_fetch_send_fn *send, void *ctx,
                     const uint8_t root[SHOAL_DIGEST_BYTES], uint64_t index_size)
{
    shoal_tree_fetch_t *self = calloc(1, sizeof(*self));
    if (!self)
        return NULL;
    self->store = store;
    memcpy(self->root, root, SHOAL_DIGEST_BYTES);
    self->index_size = index_size;
    self->fetch = shoal_fetch_new(store, origin, send, ctx);
    if (!self->fetch || shoal_fetch_add(self->fetch, root, index_size) != 0)
        shoal_tree_fetch_destroy(&self);
    return self;
}

void
shoal_tree_fetch_destroy(shoal_tree_fetch_t **self_p)
{
    shoal_tree_fetch_t *self = *self_p;
    if (!self)
        return;
    shoal_fetch_destroy(&self->fetch);
    free(self->pages);
    shoal_tree_destroy(&self->tree);
    free(self);
    *self_p = NULL;
}

static void
s_fail(shoal_tree_fetch_t *self, const char *why)
{
    snprintf(self->why, sizeof(self->why), "%s", why);
    self->state = SHOAL_TREE_FETCH_FAILED;
}

/* A blob of the store, whole, into `into` (or a new buffer of its size);
 * NULL when the store lacks it. */
static uint8_t *
s_read_blob(shoal_tree_fetch_t *self, const uint8_t digest[SHOAL_DIGEST_BYTES], uint64_t size,
            uint8_t *into)
{
    uint8_t *buf = into ? into : malloc(size ? size : 1);
    long n = buf ? shoal_store_read(self->store, digest, 0, buf, size) : -1;
    if (n == (long)size)
        return buf;
    if (!into)
        free(buf);
    return NULL;
}

/* The index is in the store: want the manifest's pages. */
static void
s_index_done(shoal_tree_fetch_t *self)
{
    uint8_t *index = s_read_blob(self, self->root, self->index_size, NULL);
    long count = index ? shoal_pages_parse(index, self->index_size, &self->pages) : -1;
    free(index);
    if (count < 0) {
        s_fail(self, "its manifest's index is unreadable");
        return;
    }
    self->page_count = (size_t)count;
    for (size_t i = 0; i < self->page_count; i++)
        if (shoal_fetch_add(self->fetch, self->pages[i].digest, self->pages[i].size) != 0) {
            s_fail(self, "out of memory");
            return;
        }
    self->state = SHOAL_TREE_FETCH_PAGES;
}

/* The manifest's pages are in the store: read it, and want every blob. */
static void
s_manifest_done(shoal_tree_fetch_t *self)
{
    char err[512];
    const shoal_page_t *last = &self->pages[self->page_count - 1];
    uint64_t len = last->offset + last->size;
    uint8_t *manifest = malloc(len);
    bool read = manifest != NULL;
    for (size_t i = 0; read && i < self->page_count; i++)
        read = s_read_blob(self, self->pages[i].digest, self->pages[i].size,
                           manifest + self->pages[i].offset) != NULL;
    self->tree = read ? shoal_tree_decode(manifest, len, err, sizeof(err)) : NULL;
    free(manifest);
    if (!self->tree) {
        char why[sizeof(self->why)];
        snprintf(why, sizeof(why), "its manifest is unreadable: %.400s",
                 read ? err : "a page is not in the store");
        s_fail(self, why);
        return;
    }
    for (size_t i = 0; i < shoal_tree_count(self->tree); i++) {
        const shoal_tree_entry_t *e = shoal_tree_entry(self->tree, i);
        if (e->kind != SHOAL_TREE_FILE)
            continue;
        if (shoal_store_has(self->store, e->digest))
            self->present++;
        else if (shoal_fetch_add(self->fetch, e->digest, e->size) != 0) {
            s_fail(self, "out of memory");
            return;
        }
    }
    self->state = SHOAL_TREE_FETCH_BLOBS;
}

uint64_t
shoal_tree_fetch_tick(shoal_tree_fetch_t *self, uint64_t now)
{
    if (self->state == SHOAL_TREE_FETCH_DONE || self->state == SHOAL_TREE_FETCH_FAILED)
        return UINT64_MAX;
    uint64_t next = shoal_fetch_tick(self->fetch, now);
    const char *failed = shoal_fetch_failed(self->fetch);
    if (failed) {
        s_fail(self, failed);
        return UINT64_MAX;
    }
    if (!shoal_fetch_done(self->fetch))
        return next;
    if (self->state == SHOAL_TREE_FETCH_INDEX)
        s_index_done(self);
    else if (self->state == SHOAL_TREE_FETCH_PAGES)
        s_manifest_done(self);
    else
        self->state = SHOAL_TREE_FETCH_DONE;
    return now; /* the next step's requests go out at once */
}

void
shoal_tree_fetch_on_msg(shoal_tree_fetch_t *self, const char *from, const shoal_ship_msg_t *msg,
                        uint64_t now)
{
    shoal_fetch_on_msg(self->fetch, from, msg, now);
}

shoal_tree_fetch_state_t
shoal_tree_fetch_state(const shoal_tree_fetch_t *self)
{
    return self->state;
}

const char *
shoal_tree_fetch_failed(const shoal_tree_fetch_t *self)
{
    return self->state == SHOAL_TREE_FETCH_FAILED ? self->why : NULL;
}

const shoal_tree_t *
shoal_tree_fetch_tree(const shoal_tree_fetch_t *self)
{
    return self->tree;
}

shoal_tree_t *
shoal_tree_fetch_take(shoal_tree_fetch_t *self)
{
    if (self->state != SHOAL_TREE_FETCH_DONE)
        return NULL;
    shoal_tree_t *tree = self->tree;
    self->tree = NULL;
    return tree;
}

shoal_fetch_t *
shoal_tree_fetch_blobs(shoal_tree_fetch_t *self)
{
    return self->fetch;
}

uint64_t
shoal_tree_fetch_present(const shoal_tree_fetch_t *self)
{
    return self->present;
}
