/* The chunk fetch (see fetch.h). Each wanted blob waits in `blobs` until a
 * place among the open ones frees; an open blob has a store part and one
 * state per chunk:
 *
 *   WANT --asked (s_ask)--> ASKED --CHUNK (s_on_chunk)--> HAVE
 *    ^                        |
 *    +--timeout, NOPE, or ----+  (s_expire, s_give_up_source)
 *       a source given up
 *
 * Once every chunk is HAVE the part is committed (the digest checked); a
 * mismatch starts the blob again from another source.
 */
#include "node/fetch.h"
#include "node/log.h"

#include <errno.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#define S_TRIED_MAX 32 /* peers remembered as lacking one blob */

enum { S_WANT = 0, S_ASKED = 1, S_HAVE = 2 };

typedef struct {
    uint8_t digest[SHOAL_DIGEST_BYTES];
    uint64_t size;
    uint32_t chunks;
    uint8_t *state;     /* per chunk */
    uint64_t *asked_at; /* per chunk, ms */
    uint32_t have, next;
    shoal_store_part_t *part;
    char source[GOSSIP_NAME_MAX + 1]; /* "" until chosen */
    bool from_peer;
    unsigned timeouts; /* of this source */
    char tried[S_TRIED_MAX][GOSSIP_NAME_MAX + 1];
    size_t tried_count;
    bool stored;
} s_blob_t;

struct shoal_fetch {
    shoal_store_t *store;
    char origin[GOSSIP_NAME_MAX + 1];
    shoal_fetch_send_fn *send;
    void *ctx;
    char **peers;
    size_t peer_count;
    s_blob_t **blobs; /* in the order added */
    size_t count, cap;
    size_t first_open; /* blobs before it are stored */
    size_t opened;     /* blobs [first_open..opened) may be open */
    size_t open_count, stored_count;
    unsigned in_flight;
    char failed[512];
    shoal_fetch_stats_t stats;
    uint8_t buf[256];
};

static uint32_t
s_chunk_len(const s_blob_t *b, uint32_t i)
{
    uint64_t at = (uint64_t)i * SHOAL_SHIP_CHUNK;
    return (uint32_t)(b->size - at < SHOAL_SHIP_CHUNK ? b->size - at : SHOAL_SHIP_CHUNK);
}

static void
s_blob_free(s_blob_t *b)
{
    shoal_store_part_abort(&b->part);
    free(b->state);
    free(b->asked_at);
    free(b);
}

shoal_fetch_t *
shoal_fetch_new(shoal_store_t *store, const char *origin, shoal_fetch_send_fn *send, void *ctx)
{
    shoal_fetch_t *self = calloc(1, sizeof(*self));
    if (!self)
        return NULL;
    self->store = store;
    snprintf(self->origin, sizeof(self->origin), "%s", origin);
    self->send = send;
    self->ctx = ctx;
    return self;
}

static void
s_peers_free(shoal_fetch_t *self)
{
    for (size_t i = 0; i < self->peer_count; i++)
        free(self->peers[i]);
    free(self->peers);
    self->peers = NULL;
    self->peer_count = 0;
}

void
shoal_fetch_destroy(shoal_fetch_t **self_p)
{
    shoal_fetch_t *self = *self_p;
    if (!self)
        return;
    for (size_t i = 0; i < self->count; i++)
        s_blob_free(self->blobs[i]);
    free(self->blobs);
    s_peers_free(self);
    free(self);
    *self_p = NULL;
}

int
shoal_fetch_add(shoal_fetch_t *self, const uint8_t digest[SHOAL_DIGEST_BYTES], uint64_t size)
{
    if (shoal_store_has(self->store, digest))
        return 0;
    for (size_t i = self->first_open; i < self->count; i++)
        if (memcmp(self->blobs[i]->digest, digest, SHOAL_DIGEST_BYTES) == 0)
            return 0;
    if (self->count == self->cap) {
        size_t cap = self->cap ? self->cap * 2 : 64;
        s_blob_t **grown = realloc(self->blobs, cap * sizeof(*grown));
        if (!grown)
            return -1;
        self->blobs = grown;
        self->cap = cap;
    }
    s_blob_t *b = calloc(1, sizeof(*b));
    uint64_t chunks = (size + SHOAL_SHIP_CHUNK - 1) / SHOAL_SHIP_CHUNK;
    if (!b || chunks > UINT32_MAX)
        return free(b), -1;
    memcpy(b->digest, digest, SHOAL_DIGEST_BYTES);
    b->size = size;
    b->chunks = (uint32_t)chunks;
    self->blobs[self->count++] = b;
    return 0;
}

void
shoal_fetch_set_peers(shoal_fetch_t *self, const char *const *names, size_t count)
{
    s_peers_free(self);
    self->peers = calloc(count ? count : 1, sizeof(char *));
    for (size_t i = 0; self->peers && i < count; i++) {
        bool skip = strcmp(names[i], self->origin) == 0;
        for (size_t j = 0; j < self->peer_count && !skip; j++)
            skip = strcmp(self->peers[j], names[i]) == 0;
        if (!skip && (self->peers[self->peer_count] = strdup(names[i])))
            self->peer_count++;
    }
}

/* ---------------------------------------------------------------- sources */

static bool
s_tried(const s_blob_t *b, const char *name)
{
    for (size_t i = 0; i < b->tried_count; i++)
        if (strcmp(b->tried[i], name) == 0)
            return true;
    return false;
}

/* A peer not yet found lacking the blob, at random, else the origin. */
static void
s_choose_source(shoal_fetch_t *self, s_blob_t *b)
{
    size_t candidates = 0;
    for (size_t i = 0; i < self->peer_count; i++)
        candidates += !s_tried(b, self->peers[i]);
    b->timeouts = 0;
    b->from_peer = candidates > 0 && b->tried_count < S_TRIED_MAX;
    if (!b->from_peer) {
        snprintf(b->source, sizeof(b->source), "%s", self->origin);
        return;
    }
    size_t pick = randombytes_uniform((uint32_t)candidates);
    for (size_t i = 0; i < self->peer_count; i++)
        if (!s_tried(b, self->peers[i]) && pick-- == 0) {
            snprintf(b->source, sizeof(b->source), "%s", self->peers[i]);
            return;
        }
}

/* Every chunk asked of the blob's source goes back to WANT. */
static void
s_unask(shoal_fetch_t *self, s_blob_t *b)
{
    for (uint32_t i = 0; i < b->chunks; i++)
        if (b->state[i] == S_ASKED) {
            b->state[i] = S_WANT;
            self->in_flight--;
            if (i < b->next)
                b->next = i;
        }
}

/* The source failed the blob (why): the next one, or the fetch fails when
 * it was the origin. */
static void
s_give_up_source(shoal_fetch_t *self, s_blob_t *b, const char *why)
{
    s_unask(self, b);
    if (!b->from_peer) {
        char hex[SHOAL_DIGEST_HEX];
        shoal_digest_hex(b->digest, hex);
        snprintf(self->failed, sizeof(self->failed), "blob %.16s from %s: %s", hex, self->origin,
                 why);
        return;
    }
    shoal_log_debug("fetch: %s for a blob: %s; asking another", b->source, why);
    if (b->tried_count < S_TRIED_MAX)
        snprintf(b->tried[b->tried_count++], sizeof(b->tried[0]), "%s", b->source);
    s_choose_source(self, b);
}

/* ---------------------------------------------------------------- asking */

/* Opens the blob: its part and chunk states. An empty blob is stored at
 * once. 0, or -1 (the fetch failed). */
static int
s_open(shoal_fetch_t *self, s_blob_t *b)
{
    char err[256];
    if (b->size == 0) {
        uint8_t digest[SHOAL_DIGEST_BYTES];
        if (shoal_store_put(self->store, (const uint8_t *)"", 0, digest, err, sizeof(err)) != 0) {
            snprintf(self->failed, sizeof(self->failed), "%s", err);
            return -1;
        }
        b->stored = true;
        self->stored_count++;
        return 0;
    }
    b->state = calloc(b->chunks, 1);
    b->asked_at = calloc(b->chunks, sizeof(uint64_t));
    b->part = b->state && b->asked_at
                  ? shoal_store_part_new(self->store, b->digest, b->size, err, sizeof(err))
                  : NULL;
    if (!b->part) {
        snprintf(self->failed, sizeof(self->failed), "%s",
                 b->state && b->asked_at ? err : "out of memory");
        return -1;
    }
    s_choose_source(self, b);
    self->open_count++;
    return 0;
}

/* Asks for chunk i of the blob; false when the request could not be sent
 * now: it stays wanted for the next tick. A peer the mesh cannot send to
 * (it left or died) is given up at once, or the fetch would ask it for
 * ever; the origin is asked again (its loss ends the session instead). */
static bool
s_ask(shoal_fetch_t *self, s_blob_t *b, uint32_t i, uint64_t now)
{
    shoal_ship_msg_t want = {.type = SHOAL_SHIP_WANT,
                             .offset = (uint64_t)i * SHOAL_SHIP_CHUNK,
                             .length = s_chunk_len(b, i)};
    memcpy(want.digest, b->digest, SHOAL_DIGEST_BYTES);
    long len = shoal_ship_encode(&want, self->buf, sizeof(self->buf));
    if (len < 0 || self->send(self->ctx, b->source, self->buf, (size_t)len) != 0) {
        self->stats.unsent++;
        if (len >= 0 && b->from_peer)
            s_give_up_source(self, b, "the mesh cannot reach it");
        return false;
    }
    b->state[i] = S_ASKED;
    b->asked_at[i] = now;
    self->in_flight++;
    self->stats.requests++;
    return true;
}

/* Requests unanswered for too long are asked again (of another source
 * once this one timed out too often). */
static void
s_expire(shoal_fetch_t *self, s_blob_t *b, uint64_t now)
{
    bool expired = false;
    for (uint32_t i = 0; i < b->chunks; i++)
        if (b->state[i] == S_ASKED && now - b->asked_at[i] >= SHOAL_FETCH_TIMEOUT_MS) {
            b->state[i] = S_WANT;
            self->in_flight--;
            self->stats.timeouts++;
            if (i < b->next)
                b->next = i;
            expired = true;
        }
    if (!expired)
        return;
    b->timeouts++;
    if (b->from_peer && b->timeouts >= SHOAL_FETCH_PEER_FAILURES)
        s_give_up_source(self, b, "no answer");
    else if (!b->from_peer && b->timeouts >= SHOAL_FETCH_ORIGIN_FAILURES)
        s_give_up_source(self, b, "no answer");
}

static bool
s_is_open(const s_blob_t *b)
{
    return b->part != NULL;
}

uint64_t
shoal_fetch_tick(shoal_fetch_t *self, uint64_t now)
{
    bool unsent = false;
    for (size_t k = self->first_open; k < self->opened && !self->failed[0]; k++)
        if (s_is_open(self->blobs[k]))
            s_expire(self, self->blobs[k], now);
    for (size_t k = self->first_open;
         k < self->count && self->in_flight < SHOAL_FETCH_WINDOW && !self->failed[0]; k++) {
        s_blob_t *b = self->blobs[k];
        if (b->stored)
            continue;
        if (!s_is_open(b)) {
            if (self->open_count >= SHOAL_FETCH_OPEN_MAX || s_open(self, b) != 0)
                break;
            if (k >= self->opened)
                self->opened = k + 1;
            if (b->stored)
                continue;
        }
        for (; b->next < b->chunks && self->in_flight < SHOAL_FETCH_WINDOW; b->next++)
            if (b->state[b->next] == S_WANT && !s_ask(self, b, b->next, now)) {
                unsent = true;
                break;
            }
        if (unsent)
            break;
    }
    while (self->first_open < self->count && self->blobs[self->first_open]->stored)
        self->first_open++;
    return now + (unsent ? SHOAL_FETCH_RESEND_MS : self->in_flight ? 100 : 1000);
}

/* ---------------------------------------------------------------- answers */

static s_blob_t *
s_find_open(shoal_fetch_t *self, const uint8_t digest[SHOAL_DIGEST_BYTES])
{
    for (size_t k = self->first_open; k < self->opened; k++) {
        s_blob_t *b = self->blobs[k];
        if (s_is_open(b) && memcmp(b->digest, digest, SHOAL_DIGEST_BYTES) == 0)
            return b;
    }
    return NULL;
}

/* Every chunk is in: check the digest and store it, or start again. */
static void
s_commit(shoal_fetch_t *self, s_blob_t *b)
{
    char err[256];
    self->open_count--;
    if (shoal_store_part_commit(&b->part, err, sizeof(err)) == 0) {
        b->stored = true;
        self->stored_count++;
        if (b->from_peer)
            self->stats.blobs_from_peers++;
        else
            self->stats.blobs_from_origin++;
        free(b->state);
        free(b->asked_at);
        b->state = NULL;
        b->asked_at = NULL;
        return;
    }
    self->stats.mismatches++;
    s_give_up_source(self, b, err); /* every chunk was in: this only picks the next source */
    if (self->failed[0])
        return;
    memset(b->state, S_WANT, b->chunks);
    b->have = b->next = 0;
    b->part = shoal_store_part_new(self->store, b->digest, b->size, err, sizeof(err));
    if (!b->part)
        snprintf(self->failed, sizeof(self->failed), "%s", err);
    else
        self->open_count++;
}

static void
s_on_chunk(shoal_fetch_t *self, const char *from, const shoal_ship_msg_t *msg)
{
    s_blob_t *b = s_find_open(self, msg->digest);
    uint64_t i = msg->offset / SHOAL_SHIP_CHUNK;
    if (!b || msg->size != b->size || msg->offset % SHOAL_SHIP_CHUNK != 0 || i >= b->chunks ||
        b->state[i] != S_ASKED || msg->data_len != s_chunk_len(b, (uint32_t)i)) {
        self->stats.dropped++;
        return;
    }
    if (shoal_store_part_write(b->part, msg->offset, msg->data, msg->data_len) != 0) {
        snprintf(self->failed, sizeof(self->failed), "cannot write a blob to the store: %s",
                 strerror(errno));
        return;
    }
    b->state[i] = S_HAVE;
    b->have++;
    self->in_flight--;
    if (strcmp(from, self->origin) == 0)
        self->stats.bytes_from_origin += msg->data_len;
    else
        self->stats.bytes_from_peers += msg->data_len;
    if (b->have == b->chunks)
        s_commit(self, b);
}

void
shoal_fetch_on_msg(shoal_fetch_t *self, const char *from, const shoal_ship_msg_t *msg, uint64_t now)
{
    (void)now;
    if (self->failed[0])
        return;
    if (msg->type == SHOAL_SHIP_CHUNK_MSG) {
        s_on_chunk(self, from, msg);
    } else if (msg->type == SHOAL_SHIP_NOPE) {
        s_blob_t *b = s_find_open(self, msg->digest);
        self->stats.nopes++;
        if (b && strcmp(from, b->source) == 0)
            s_give_up_source(self, b,
                             b->from_peer
                                 ? "it does not hold it"
                                 : "it no longer holds it (a file changed while shipping?)");
    }
}

bool
shoal_fetch_done(const shoal_fetch_t *self)
{
    return self->stored_count == self->count;
}

const char *
shoal_fetch_failed(const shoal_fetch_t *self)
{
    return self->failed[0] ? self->failed : NULL;
}

const shoal_fetch_stats_t *
shoal_fetch_stats(const shoal_fetch_t *self)
{
    return &self->stats;
}
