/* The broadcast queue (see broadcast.h). A flat array: the queue holds at most
 * one entry per member, so it stays small, and a sort per take is cheap next to
 * sealing the frame it goes into. */
#include "gossip/broadcast.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define GOSSIP_BROADCAST_MAX GOSSIP_WIRE_MAX_MEMBERS

typedef struct {
    gossip_wire_member_t update;
    uint32_t transmits;
    uint64_t order; /* queue order: larger is newer */
} s_entry_t;

struct gossip_broadcast {
    s_entry_t *entries;
    size_t count;
    uint64_t next_order;
};

gossip_broadcast_t *
gossip_broadcast_new(void)
{
    gossip_broadcast_t *self = calloc(1, sizeof(*self));
    if (!self)
        return NULL;
    self->entries = calloc(GOSSIP_BROADCAST_MAX, sizeof(s_entry_t));
    if (!self->entries) {
        free(self);
        return NULL;
    }
    return self;
}

void
gossip_broadcast_destroy(gossip_broadcast_t **self_p)
{
    if (!*self_p)
        return;
    free((*self_p)->entries);
    free(*self_p);
    *self_p = NULL;
}

int
gossip_broadcast_queue(gossip_broadcast_t *self, const gossip_wire_member_t *update)
{
    s_entry_t *slot = NULL;
    for (size_t i = 0; i < self->count && !slot; i++)
        if (strcmp(self->entries[i].update.name, update->name) == 0)
            slot = &self->entries[i];
    if (!slot) {
        if (self->count == GOSSIP_BROADCAST_MAX)
            return -1;
        slot = &self->entries[self->count++];
    }
    slot->update = *update;
    slot->transmits = 0;
    slot->order = self->next_order++;
    return 0;
}

static int
s_compare(const void *a, const void *b)
{
    const s_entry_t *x = a, *y = b;
    if (x->transmits != y->transmits)
        return x->transmits < y->transmits ? -1 : 1;
    return x->order > y->order ? -1 : x->order < y->order;
}

size_t
gossip_broadcast_take(gossip_broadcast_t *self, gossip_wire_member_t *out, size_t max,
                      uint32_t limit)
{
    qsort(self->entries, self->count, sizeof(s_entry_t), s_compare);
    size_t taken = self->count < max ? self->count : max;
    for (size_t i = 0; i < taken; i++) {
        out[i] = self->entries[i].update;
        self->entries[i].transmits++;
    }
    /* Retire what reached its limit, keeping the rest packed. */
    size_t kept = 0;
    for (size_t i = 0; i < self->count; i++)
        if (self->entries[i].transmits < limit)
            self->entries[kept++] = self->entries[i];
    self->count = kept;
    return taken;
}

size_t
gossip_broadcast_size(const gossip_broadcast_t *self)
{
    return self->count;
}

uint32_t
gossip_broadcast_limit(uint32_t lambda, size_t n)
{
    uint32_t scale = (uint32_t)ceil(log10((double)n + 1.0));
    return lambda * (scale ? scale : 1);
}
