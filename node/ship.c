/* The mesh end of shipping (see ship.h): serving blobs, offering a session
 * to the serving daemons and keeping their answers, and handing the rest to
 * a daemon's intake. One application on the node; everything runs on its
 * loop and never blocks longer than one chunk's pread. */
#include "node/ship.h"
#include "node/log.h"

#include <fcntl.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define S_BUF (GOSSIP_PAYLOAD_MAX)
#define S_ANSWERS_MAX GOSSIP_MEMBERS_MAX

typedef struct {
    char name[GOSSIP_NAME_MAX + 1];
    uint64_t first_sent_at, sent_at; /* ms */
} s_offered_t;

struct shoal_ship {
    shoal_node_t *node;
    shoal_loop_t *loop;
    long timer;
    bool attached;
    /* blobs served */
    const shoal_shipment_t *shipment;
    uint8_t root[SHOAL_DIGEST_BYTES]; /* the index's */
    shoal_store_t *store;
    uint8_t chunk[SHOAL_SHIP_CHUNK];
    /* the developer's offer */
    shoal_ship_msg_t offer;
    bool offering;
    uint8_t cancel[SHOAL_IDENTITY_SIGNATURE_BYTES]; /* once offering stopped */
    s_offered_t offered[S_ANSWERS_MAX];
    size_t offered_count;
    shoal_ship_answer_t answers[S_ANSWERS_MAX];
    size_t answer_count;
    /* a daemon's intake */
    shoal_ship_intake_fn *intake;
    void *intake_ctx;
    shoal_ship_stats_t stats;
    uint8_t buf[S_BUF];
};

int
shoal_ship_send(shoal_ship_t *self, const char *to, const shoal_ship_msg_t *msg)
{
    long len = shoal_ship_encode(msg, self->buf, sizeof(self->buf));
    if (len < 0)
        return -1;
    return shoal_ship_send_payload(self, to, self->buf, (size_t)len);
}

int
shoal_ship_send_payload(void *ship, const char *to, const uint8_t *payload, size_t len)
{
    shoal_ship_t *self = ship;
    return gossip_mesh_send_user(shoal_node_mesh(self->node), to, payload, len);
}

/* ---------------------------------------------------------------- serving blobs */

/* The bytes of one of the shipment's blobs held in memory (the index, a
 * page of the manifest), or NULL. */
static const uint8_t *
s_in_memory(const shoal_ship_t *self, const uint8_t digest[SHOAL_DIGEST_BYTES], size_t *size)
{
    const shoal_shipment_t *s = self->shipment;
    if (memcmp(digest, self->root, SHOAL_DIGEST_BYTES) == 0) {
        *size = s->index_len;
        return s->index;
    }
    for (size_t i = 0; i < s->page_count; i++)
        if (memcmp(digest, s->pages[i].digest, SHOAL_DIGEST_BYTES) == 0) {
            *size = s->pages[i].size;
            return s->manifest + s->pages[i].offset;
        }
    return NULL;
}

/* Reads up to len bytes of the workspace's blob at offset into buf, its
 * whole size into *size: the count, or -1 when the workspace has no such
 * blob (or it is unreadable now). */
static long
s_read_tree(shoal_ship_t *self, const uint8_t digest[SHOAL_DIGEST_BYTES], uint64_t offset,
            uint8_t *buf, size_t len, uint64_t *size)
{
    if (!self->shipment)
        return -1;
    size_t held;
    const uint8_t *bytes = s_in_memory(self, digest, &held);
    if (bytes) {
        *size = held;
        size_t n = offset >= held ? 0 : held - offset < len ? held - offset : len;
        memcpy(buf, bytes + (n ? offset : 0), n);
        return (long)n;
    }
    const shoal_tree_entry_t *e = shoal_tree_find_blob(self->shipment->tree, digest);
    if (!e)
        return -1;
    char path[PATH_MAX];
    if (snprintf(path, sizeof(path), "%s/%s", self->shipment->top, e->path) >= (int)sizeof(path))
        return -1;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return -1;
    ssize_t n = pread(fd, buf, len, (off_t)offset);
    close(fd);
    *size = e->size;
    return n;
}

static void
s_on_want(shoal_ship_t *self, const char *from, const shoal_ship_msg_t *want)
{
    uint64_t size = 0;
    long n = s_read_tree(self, want->digest, want->offset, self->chunk, want->length, &size);
    if (n < 0 && self->store) {
        n = shoal_store_read(self->store, want->digest, want->offset, self->chunk, want->length);
        int64_t held = n >= 0 ? shoal_store_size(self->store, want->digest) : -1;
        n = held < 0 ? -1 : n;
        size = held < 0 ? 0 : (uint64_t)held;
    }
    shoal_ship_msg_t reply = {.type = n < 0 ? SHOAL_SHIP_NOPE : SHOAL_SHIP_CHUNK_MSG,
                              .offset = want->offset,
                              .data = self->chunk,
                              .data_len = n < 0 ? 0 : (size_t)n};
    memcpy(reply.digest, want->digest, SHOAL_DIGEST_BYTES);
    reply.size = size;
    if (shoal_ship_send(self, from, &reply) != 0)
        return; /* the asker asks again */
    if (n < 0) {
        self->stats.nopes_sent++;
    } else {
        self->stats.chunks_served++;
        self->stats.bytes_served += (uint64_t)n;
    }
}

void
shoal_ship_set_tree(shoal_ship_t *self, const shoal_shipment_t *shipment)
{
    self->shipment = shipment;
    if (shipment)
        crypto_generichash(self->root, sizeof(self->root), shipment->index, shipment->index_len,
                           NULL, 0);
}

void
shoal_ship_set_store(shoal_ship_t *self, shoal_store_t *store)
{
    self->store = store;
}

void
shoal_ship_set_intake(shoal_ship_t *self, shoal_ship_intake_fn *fn, void *ctx)
{
    self->intake = fn;
    self->intake_ctx = ctx;
}

/* ---------------------------------------------------------------- offering */

static const s_offered_t *
s_offered_find(const shoal_ship_t *self, const char *name)
{
    for (size_t i = 0; i < self->offered_count; i++)
        if (strcmp(self->offered[i].name, name) == 0)
            return &self->offered[i];
    return NULL;
}

/* The member's entry, made when it has none (NULL: no room). */
static s_offered_t *
s_offered(shoal_ship_t *self, const char *name)
{
    s_offered_t *o = (s_offered_t *)s_offered_find(self, name);
    if (o)
        return o;
    if (self->offered_count == S_ANSWERS_MAX)
        return NULL;
    o = &self->offered[self->offered_count++];
    snprintf(o->name, sizeof(o->name), "%.*s", (int)sizeof(o->name) - 1, name);
    o->first_sent_at = o->sent_at = 0;
    return o;
}

static bool
s_serves(const gossip_member_t *m)
{
    for (int t = 0; t < m->meta.tag_count; t++)
        if (strcmp(m->meta.tags[t], SHOAL_SERVE_TAG) == 0)
            return true;
    return false;
}

static const shoal_ship_answer_t *
s_answer_of(const shoal_ship_t *self, const char *name)
{
    for (size_t i = 0; i < self->answer_count; i++)
        if (strcmp(self->answers[i].name, name) == 0)
            return &self->answers[i];
    return NULL;
}

static uint64_t
s_tick(void *ctx, uint64_t now)
{
    shoal_ship_t *self = ctx;
    if (!self->offering)
        return now + 60000;
    static gossip_member_t members[GOSSIP_MEMBERS_MAX];
    size_t count = gossip_mesh_members(shoal_node_mesh(self->node), members, GOSSIP_MEMBERS_MAX);
    const char *me = shoal_node_name(self->node);
    for (size_t i = 0; i < count && i < GOSSIP_MEMBERS_MAX; i++) {
        const gossip_member_t *m = &members[i];
        if (m->state != GOSSIP_STATE_ALIVE || strcmp(m->name, me) == 0 || !s_serves(m) ||
            s_answer_of(self, m->name))
            continue;
        s_offered_t *o = s_offered(self, m->name);
        if (!o || (o->sent_at && now - o->sent_at < SHOAL_SHIP_OFFER_EVERY_MS))
            continue;
        if (shoal_ship_send(self, m->name, &self->offer) == 0) {
            o->sent_at = now;
            o->first_sent_at = o->first_sent_at ? o->first_sent_at : now;
            self->stats.offers_sent++;
        }
    }
    return now + SHOAL_SHIP_OFFER_EVERY_MS / 4;
}

void
shoal_ship_offer(shoal_ship_t *self, const shoal_ship_msg_t *offer)
{
    shoal_ship_msg_clear(&self->offer);
    self->offer = *offer;
    self->offer.body = malloc(offer->body_len ? offer->body_len : 1);
    self->offer.data = NULL;
    if (!self->offer.body)
        return;
    memcpy(self->offer.body, offer->body, offer->body_len);
    self->offering = true;
    shoal_loop_set_timer(self->loop, self->timer, shoal_loop_now(self->loop));
}

size_t
shoal_ship_coming(const shoal_ship_t *self, bool (*joined)(void *ctx, const char *name), void *ctx,
                  char (*tags)[SHOAL_OWN_TAGS_MAX], size_t max)
{
    if (!self->offering)
        return 0;
    static gossip_member_t members[GOSSIP_MEMBERS_MAX];
    size_t count = gossip_mesh_members(shoal_node_mesh(self->node), members, GOSSIP_MEMBERS_MAX);
    const char *me = shoal_node_name(self->node);
    uint64_t now = shoal_loop_now(self->loop);
    size_t coming = 0;
    for (size_t i = 0; i < count && i < GOSSIP_MEMBERS_MAX; i++) {
        const gossip_member_t *m = &members[i];
        if ((m->state != GOSSIP_STATE_ALIVE && m->state != GOSSIP_STATE_SUSPECT) ||
            strcmp(m->name, me) == 0 || !s_serves(m) || joined(ctx, m->name))
            continue;
        const shoal_ship_answer_t *a = s_answer_of(self, m->name);
        const s_offered_t *o = a ? NULL : s_offered_find(self, m->name);
        /* one that never answers (another version of shoal) is not waited for */
        bool unanswered =
            !a && (!o || !o->first_sent_at || now - o->first_sent_at < SHOAL_SHIP_ANSWER_WAIT_MS);
        if (!unanswered && !(a && a->accepted))
            continue;
        if (coming < max)
            shoal_session_own_tags(&m->meta, tags[coming], SHOAL_OWN_TAGS_MAX);
        coming++;
    }
    return coming;
}

/* The offer's CANCEL (signed by shoal_ship_offer_stop's caller) to a daemon. */
static void
s_send_cancel(shoal_ship_t *self, const char *to)
{
    shoal_ship_msg_t msg = {.type = SHOAL_SHIP_CANCEL};
    snprintf(msg.session, sizeof(msg.session), "%s", self->offer.session);
    memcpy(msg.signature, self->cancel, sizeof(msg.signature));
    shoal_ship_send(self, to, &msg);
}

void
shoal_ship_offer_stop(shoal_ship_t *self, bool (*joined)(void *ctx, const char *name), void *ctx,
                      const uint8_t signature[SHOAL_IDENTITY_SIGNATURE_BYTES])
{
    if (!self->offering)
        return;
    self->offering = false;
    memcpy(self->cancel, signature, sizeof(self->cancel));
    for (size_t i = 0; i < self->answer_count; i++)
        if (self->answers[i].accepted && !(joined && joined(ctx, self->answers[i].name)))
            s_send_cancel(self, self->answers[i].name);
}

static void
s_on_answer(shoal_ship_t *self, const char *from, const shoal_ship_msg_t *msg)
{
    if (!self->offering && !self->offer.body)
        return;
    if (strcmp(msg->session, self->offer.session) != 0)
        return;
    self->stats.answers++;
    shoal_ship_answer_t *a = (shoal_ship_answer_t *)s_answer_of(self, from);
    if (a && a->accepted == msg->accepted && strcmp(a->text, msg->text) == 0)
        return;
    if (!a && self->answer_count < S_ANSWERS_MAX)
        a = &self->answers[self->answer_count++];
    if (!a)
        return;
    snprintf(a->name, sizeof(a->name), "%s", from);
    a->accepted = msg->accepted;
    snprintf(a->text, sizeof(a->text), "%s", msg->text);
    if (msg->accepted && !self->offering) {
        s_send_cancel(self, from); /* took it after the session ended here */
        snprintf(a->text, sizeof(a->text), "%.*s (after the session ended: told to cancel it)",
                 (int)sizeof(a->text) - 48, msg->text);
    }
    if (msg->accepted)
        shoal_log_info("%s takes part: %s", from, msg->text);
    else
        shoal_log_info("%s declined: %s", from, msg->text);
}

const shoal_ship_answer_t *
shoal_ship_answers(const shoal_ship_t *self, size_t *count)
{
    *count = self->answer_count;
    return self->answers;
}

const shoal_ship_stats_t *
shoal_ship_stats(const shoal_ship_t *self)
{
    return &self->stats;
}

/* ---------------------------------------------------------------- the application */

static bool
s_accepts(void *ctx, const uint8_t *payload, size_t len)
{
    (void)ctx;
    return shoal_ship_is(payload, len);
}

static void
s_on_user(void *ctx, const char *from, const uint8_t *payload, size_t len)
{
    shoal_ship_t *self = ctx;
    shoal_ship_msg_t msg;
    if (shoal_ship_decode(payload, len, &msg) != 0) {
        self->stats.malformed++;
        shoal_log_debug("dropped a malformed ship message from %s (%zu bytes)", from, len);
        return;
    }
    uint64_t now = shoal_loop_now(self->loop);
    if (msg.type == SHOAL_SHIP_WANT)
        s_on_want(self, from, &msg);
    else if (msg.type == SHOAL_SHIP_ANSWER)
        s_on_answer(self, from, &msg);
    else if (self->intake)
        self->intake(self->intake_ctx, from, &msg, now);
    shoal_ship_msg_clear(&msg);
}

static void
s_on_status(void *ctx, FILE *out, bool json)
{
    shoal_ship_t *self = ctx;
    const shoal_ship_stats_t *s = &self->stats;
    if (json) {
        fprintf(out,
                "{\"ship\":{\"chunks_served\":%llu,\"bytes_served\":%llu,\"nopes_sent\":%llu,"
                "\"offers_sent\":%llu,\"answers\":%llu,\"malformed\":%llu}}",
                (unsigned long long)s->chunks_served, (unsigned long long)s->bytes_served,
                (unsigned long long)s->nopes_sent, (unsigned long long)s->offers_sent,
                (unsigned long long)s->answers, (unsigned long long)s->malformed);
        return;
    }
    fprintf(out, "%s: served %llu blob chunks (%llu bytes)\n", shoal_node_name(self->node),
            (unsigned long long)s->chunks_served, (unsigned long long)s->bytes_served);
}

shoal_ship_t *
shoal_ship_new(shoal_node_t *node)
{
    shoal_ship_t *self = calloc(1, sizeof(*self));
    if (!self)
        return NULL;
    self->node = node;
    self->loop = shoal_node_loop(node);
    self->timer = shoal_loop_add_timer(self->loop, shoal_loop_now(self->loop), s_tick, self);
    shoal_node_app_t app = {
        .on_user = s_on_user, .accepts = s_accepts, .on_status = s_on_status, .ctx = self};
    if (self->timer < 0 || shoal_node_attach(node, &app) != 0) {
        shoal_ship_destroy(&self);
        return NULL;
    }
    self->attached = true;
    return self;
}

void
shoal_ship_destroy(shoal_ship_t **self_p)
{
    shoal_ship_t *self = *self_p;
    if (!self)
        return;
    if (self->attached)
        shoal_node_detach(self->node, self);
    if (self->timer >= 0)
        shoal_loop_remove_timer(self->loop, self->timer);
    shoal_ship_msg_clear(&self->offer);
    free(self);
    *self_p = NULL;
}
