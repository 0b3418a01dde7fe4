/* The results a participant produced, kept until the session ends (see
 * internal.h): each is sent to the leader until acknowledged, and all of
 * them again to a new leader, which rebuilds the session from the members.
 * While we lead, our own results would die with us: they are copied to the
 * deputy (the participant ranked next), the new ones each time, all of them
 * to a new deputy. A deputy keeps the copies of one leader at a time.
 * Invariant: results[0..unacked) are all acknowledged.
 */
#include "node/session/internal.h"

#include <stdlib.h>
#include <string.h>

int
shoal_results_add(shoal_results_t *self, shoal_item_t *item)
{
    if (self->count == self->cap) {
        size_t cap = self->cap ? self->cap * 2 : 64;
        shoal_kept_result_t *grown = realloc(self->items, cap * sizeof(*grown));
        if (!grown)
            return -1;
        self->items = grown;
        self->cap = cap;
    }
    self->items[self->count++] = (shoal_kept_result_t){.item = *item};
    memset(item, 0, sizeof(*item));
    return 0;
}

static void
s_send(const shoal_session_host_t *host, const char *session, uint32_t term, const char *to,
       shoal_item_t *items, size_t n)
{
    if (n == 0)
        return;
    shoal_msg_t msg = {.type = SHOAL_MSG_RESULTS, .term = term, .items = items, .item_count = n};
    shoal_session_send(host, session, to, &msg);
}

size_t
shoal_results_send(shoal_results_t *self, const shoal_session_host_t *host, const char *session,
                   uint32_t term, const char *leader, const char *deputy)
{
    if (deputy && strcmp(deputy, self->deputy) != 0) {
        snprintf(self->deputy, sizeof(self->deputy), "%s", deputy);
        self->replicated = 0;
    }
    shoal_item_t *items = calloc(self->count ? self->count : 1, sizeof(*items));
    if (!items)
        return 0; /* out of memory: the next resend tries again */
    size_t sent = 0;
    for (size_t i = self->unacked; i < self->count; i++)
        if (!self->items[i].acked)
            items[sent++] = self->items[i].item; /* shallow: encode only reads */
    s_send(host, session, term, leader, items, sent);
    if (deputy) {
        size_t n = 0;
        for (size_t i = self->replicated; i < self->count; i++)
            items[n++] = self->items[i].item;
        s_send(host, session, term, deputy, items, n);
        self->replicated = self->count;
    }
    free(items);
    return sent;
}

void
shoal_results_ack(shoal_results_t *self, const shoal_msg_t *ack)
{
    /* Results are acknowledged about in the order they were sent: start at
     * the first one not acknowledged yet, so a long session is not
     * quadratic. */
    for (size_t i = 0; i < ack->item_count; i++)
        for (size_t r = self->unacked; r < self->count; r++) {
            shoal_kept_result_t *kept = &self->items[r];
            if (!kept->acked && kept->item.attempt == ack->items[i].attempt &&
                strcmp(kept->item.id, ack->items[i].id) == 0) {
                kept->acked = true;
                break;
            }
        }
    while (self->unacked < self->count && self->items[self->unacked].acked)
        self->unacked++;
}

void
shoal_results_unack_all(shoal_results_t *self)
{
    for (size_t i = 0; i < self->count; i++)
        self->items[i].acked = false;
    self->unacked = 0;
}

void
shoal_results_clear(shoal_results_t *self)
{
    for (size_t i = 0; i < self->count; i++)
        shoal_item_clear(&self->items[i].item);
    free(self->items);
    memset(self, 0, sizeof(*self));
}

void
shoal_replicas_keep(shoal_replicas_t *self, const char *from, shoal_msg_t *msg)
{
    if (strcmp(from, self->of) != 0) {
        shoal_replicas_clear(self);
        snprintf(self->of, sizeof(self->of), "%s", from);
    }
    shoal_items_take(&self->items, &self->count, &self->cap, msg);
}

void
shoal_replicas_clear(shoal_replicas_t *self)
{
    shoal_items_free(&self->items, &self->count, &self->cap);
    self->of[0] = '\0';
}
