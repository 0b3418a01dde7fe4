/* The session's summary on the wire: the leader sends every final result in
 * numbered chunks of one frame each; a participant assembles them, whatever
 * their order, and has the summary once every chunk of one term is in.
 * Invariants: a chunk counts once; a chunk of another term or chunk count
 * starts the assembly over (a new leader's summary replaces the old one);
 * nobody allocates for more chunks than a sender can make.
 */
#include "node/session/internal.h"

#include <stdlib.h>
#include <string.h>

void
shoal_items_free(shoal_item_t **items, size_t *count, size_t *cap)
{
    for (size_t i = 0; i < *count; i++)
        shoal_item_clear(&(*items)[i]);
    free(*items);
    *items = NULL;
    *count = *cap = 0;
}

bool
shoal_items_take(shoal_item_t **items, size_t *count, size_t *cap, shoal_msg_t *msg)
{
    if (msg->item_count == 0)
        return true;
    if (*count + msg->item_count > *cap) {
        size_t want = (*count + msg->item_count) * 2;
        shoal_item_t *grown = realloc(*items, want * sizeof(shoal_item_t));
        if (!grown)
            return false;
        *items = grown;
        *cap = want;
    }
    memcpy(*items + *count, msg->items, msg->item_count * sizeof(shoal_item_t));
    *count += msg->item_count;
    msg->item_count = 0; /* moved: clearing msg frees only its array */
    return true;
}

long
shoal_summary_send(const shoal_session_host_t *host, const char *session, const char *to,
                   shoal_msg_t *msg)
{
    /* Chunks are numbered, so split first: each chunk is one frame. */
    size_t *starts = NULL, first = 0, chunks = 0, cap = 0;
    snprintf(msg->session, sizeof(msg->session), "%s", session);
    do {
        size_t taken = 0;
        msg->chunk = 0;
        msg->chunks = 1;
        if (chunks == cap) {
            size_t *grown = cap < SHOAL_SUMMARY_CHUNKS_MAX
                                ? realloc(starts, (cap ? cap * 2 : 64) * sizeof(size_t))
                                : NULL;
            if (!grown) {
                free(starts);
                return -1;
            }
            starts = grown;
            cap = cap ? cap * 2 : 64;
        }
        if (shoal_msg_encode(msg, first, host->buf, GOSSIP_PAYLOAD_MAX, &taken) < 0) {
            free(starts);
            return -1;
        }
        starts[chunks++] = first;
        first += taken;
        if (taken == 0)
            break;
    } while (first < msg->item_count);
    for (size_t c = 0; c < chunks; c++) {
        size_t taken = 0;
        msg->chunk = (uint32_t)c;
        msg->chunks = (uint32_t)chunks;
        long len = shoal_msg_encode(msg, starts[c], host->buf, GOSSIP_PAYLOAD_MAX, &taken);
        if (len > 0)
            host->send_frame(host->ctx, to, host->buf, (size_t)len);
    }
    free(starts);
    return (long)chunks;
}

void
shoal_summary_in_clear(shoal_summary_in_t *self)
{
    shoal_items_free(&self->items, &self->count, &self->cap);
    free(self->seen);
    memset(self, 0, sizeof(*self));
}

shoal_summary_add_t
shoal_summary_in_add(shoal_summary_in_t *self, shoal_msg_t *msg)
{
    if (msg->chunks == 0 || msg->chunks > SHOAL_SUMMARY_CHUNKS_MAX || msg->chunk >= msg->chunks)
        return SHOAL_SUMMARY_REFUSED;
    if (msg->term != self->term || !self->seen || msg->chunks != self->chunks) {
        /* a summary of another term replaces whatever we had */
        shoal_summary_in_clear(self);
        self->seen = calloc(msg->chunks, sizeof(bool));
        if (!self->seen)
            return SHOAL_SUMMARY_REFUSED;
        self->chunks = msg->chunks;
        self->term = msg->term;
    }
    if (self->seen[msg->chunk])
        return SHOAL_SUMMARY_DUPLICATE;
    if (!shoal_items_take(&self->items, &self->count, &self->cap, msg))
        return SHOAL_SUMMARY_REFUSED;
    self->seen[msg->chunk] = true;
    self->chunks_seen++;
    self->status = msg->status;
    snprintf(self->text, sizeof(self->text), "%s", msg->text ? msg->text : "");
    return self->chunks_seen == self->chunks ? SHOAL_SUMMARY_COMPLETE : SHOAL_SUMMARY_PARTIAL;
}
