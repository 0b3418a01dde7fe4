/* The work a member holds (see internal.h): its share of the session, head
 * first, each test with its predicted seconds and its version (how many
 * times it was placed: sched_board_moved). The member cuts its batches off
 * the head; a thief's share goes from the tail, each test one version on.
 * Shipments and gifts are idempotent here: a test comes in only at a version
 * newer than the one it was held, started or given at.
 * Invariants: items[head..count) are held; `known` maps every test held,
 * started or given here to that version; a gift stays in `gifts` until the
 * leader echoes it (it is told again until then).
 */
#include "node/session/internal.h"

#include <czmq.h>
#include <stdlib.h>
#include <string.h>

#define S_WINDOW_BATCHES 4 /* a batch is cut from this many batches' worth of the head */

int
shoal_hold_init(shoal_hold_t *self)
{
    memset(self, 0, sizeof(*self));
    self->known = zhashx_new();
    return self->known ? 0 : -1;
}

static void
s_gift_free(shoal_gift_t *gift)
{
    shoal_items_free(&gift->items, &gift->count, &gift->cap);
}

void
shoal_hold_clear(shoal_hold_t *self)
{
    for (size_t i = self->head; i < self->count; i++)
        shoal_item_clear(&self->items[i]);
    free(self->items);
    for (size_t g = 0; g < self->gift_count; g++)
        s_gift_free(&self->gifts[g]);
    free(self->gifts);
    zhashx_destroy(&self->known);
    memset(self, 0, sizeof(*self));
}

size_t
shoal_hold_count(const shoal_hold_t *self)
{
    return self->count - self->head;
}

double
shoal_hold_work(const shoal_hold_t *self)
{
    return self->count > self->head && self->work > 0 ? self->work : 0.0;
}

/* Whether test id was held, started or given here at `version` or later. */
static bool
s_known(const shoal_hold_t *self, const char *id, uint32_t version)
{
    uintptr_t seen = (uintptr_t)zhashx_lookup(self->known, id);
    return seen && seen >= (uintptr_t)version;
}

static void
s_forget(shoal_hold_t *self, const char *id)
{
    zhashx_delete(self->known, id);
}

void
shoal_hold_forget(shoal_hold_t *self, const char *id)
{
    s_forget(self, id);
}

/* The held item of test id, or NULL (a scan: only for a test seen before). */
static shoal_item_t *
s_held(shoal_hold_t *self, const char *id)
{
    for (size_t i = self->head; i < self->count; i++)
        if (strcmp(self->items[i].id, id) == 0)
            return &self->items[i];
    return NULL;
}

size_t
shoal_hold_drop(shoal_hold_t *self)
{
    size_t dropped = shoal_hold_count(self);
    for (size_t i = self->head; i < self->count; i++) {
        s_forget(self, self->items[i].id);
        shoal_item_clear(&self->items[i]);
    }
    self->head = self->count = 0;
    self->work = 0;
    return dropped;
}

size_t
shoal_hold_take(shoal_hold_t *self, shoal_msg_t *msg, bool fresh)
{
    if (fresh)
        shoal_hold_drop(self);
    if (self->head > 0 && self->head * 2 >= self->count) {
        /* compact: the head moves on as batches start */
        memmove(self->items, self->items + self->head,
                (self->count - self->head) * sizeof(shoal_item_t));
        self->count -= self->head;
        self->head = 0;
    }
    if (self->count + msg->item_count > self->cap) {
        size_t cap = (self->count + msg->item_count) * 2;
        shoal_item_t *grown = realloc(self->items, cap * sizeof(*grown));
        if (!grown)
            return 0; /* the leader ships them again after the next report */
        self->items = grown;
        self->cap = cap;
    }
    size_t taken = 0;
    for (size_t i = 0; i < msg->item_count; i++) {
        shoal_item_t *item = &msg->items[i];
        if (item->version == 0 || s_known(self, item->id, item->version))
            continue;
        bool seen = zhashx_lookup(self->known, item->id) != NULL;
        zhashx_update(self->known, item->id, (void *)(uintptr_t)item->version);
        shoal_item_t *held = seen ? s_held(self, item->id) : NULL;
        if (held) { /* placed here again: one copy, at the newer version */
            held->version = item->version;
            continue;
        }
        self->items[self->count++] = (shoal_item_t){.id = item->id,
                                                    .attempt = item->attempt,
                                                    .version = item->version,
                                                    .node = item->node,
                                                    .seconds = item->seconds};
        self->work += item->seconds;
        item->id = item->node = NULL; /* moved */
        taken++;
    }
    return taken;
}

size_t
shoal_hold_batch(const shoal_hold_t *self, double target, size_t max)
{
    size_t held = shoal_hold_count(self);
    if (held == 0)
        return 0;
    size_t window = max * S_WINDOW_BATCHES;
    if (window > held)
        window = held;
    double *predicted = malloc(window * sizeof(double));
    bool *failed = malloc(window * sizeof(bool));
    size_t *sizes = malloc(window * sizeof(size_t));
    size_t n = 1;
    if (predicted && failed && sizes) {
        for (size_t i = 0; i < window; i++) {
            predicted[i] = self->items[self->head + i].seconds;
            failed[i] = self->items[self->head + i].attempt > 0; /* a retry: of a failure */
        }
        if (sched_batch_split(predicted, failed, window, target, max ? max : 1, sizes) > 0)
            n = sizes[0];
    }
    free(predicted);
    free(failed);
    free(sizes);
    return n;
}

size_t
shoal_hold_pop(shoal_hold_t *self, size_t n, shoal_item_t *out)
{
    size_t held = shoal_hold_count(self);
    if (n > held)
        n = held;
    memcpy(out, self->items + self->head, n * sizeof(shoal_item_t));
    for (size_t i = 0; i < n; i++)
        self->work -= out[i].seconds;
    self->head += n;
    if (self->head == self->count)
        self->head = self->count = 0;
    return n;
}

const shoal_gift_t *
shoal_hold_give(shoal_hold_t *self, const char *thief, const sched_steal_sides_t *sides,
                bool (*can_run)(void *ctx, const shoal_item_t *item), void *ctx)
{
    size_t held = shoal_hold_count(self);
    if (held == 0)
        return NULL;
    double *predicted = malloc(held * sizeof(double));
    bool *runnable = malloc(held * sizeof(bool));
    size_t *take = malloc(held * sizeof(size_t));
    shoal_gift_t *grown = realloc(self->gifts, (self->gift_count + 1) * sizeof(shoal_gift_t));
    if (grown)
        self->gifts = grown;
    size_t n = 0;
    if (predicted && runnable && take && grown) {
        for (size_t i = 0; i < held; i++) {
            predicted[i] = self->items[self->head + i].seconds;
            const shoal_item_t *item = &self->items[self->head + i];
            /* a retry never goes back to the member it failed on */
            runnable[i] = !(item->node && strcmp(item->node, thief) == 0) && can_run(ctx, item);
        }
        n = sched_steal_split(predicted, runnable, held, sides, take, NULL);
    }
    shoal_gift_t *gift = n ? &self->gifts[self->gift_count] : NULL;
    if (gift) {
        *gift = (shoal_gift_t){.items = calloc(n, sizeof(shoal_item_t)), .cap = n};
        snprintf(gift->thief, sizeof(gift->thief), "%s", thief);
        if (!gift->items)
            gift = NULL;
    }
    if (gift) {
        /* take[] is ascending: keep the rest in order */
        size_t kept = self->head, k = 0;
        for (size_t i = 0; i < held; i++) {
            shoal_item_t *item = &self->items[self->head + i];
            if (k < n && take[k] == i) {
                item->version++; /* a placement of its own: the thief's */
                zhashx_update(self->known, item->id, (void *)(uintptr_t)item->version);
                self->work -= item->seconds;
                gift->items[gift->count++] = *item;
                k++;
            } else
                self->items[kept++] = *item;
        }
        self->count = kept;
        self->gift_count++;
    }
    free(predicted);
    free(runnable);
    free(take);
    return gift;
}

void
shoal_hold_confirmed(shoal_hold_t *self, const shoal_msg_t *moved)
{
    for (size_t g = 0; g < self->gift_count; g++) {
        shoal_gift_t *gift = &self->gifts[g];
        if (strcmp(gift->thief, moved->thief) != 0 || gift->count != moved->item_count ||
            (gift->count && strcmp(gift->items[0].id, moved->items[0].id) != 0))
            continue;
        s_gift_free(gift);
        memmove(gift, gift + 1, (self->gift_count - g - 1) * sizeof(*gift));
        self->gift_count--;
        return;
    }
}

size_t
shoal_hold_list(const shoal_hold_t *self, shoal_item_t **out)
{
    size_t held = shoal_hold_count(self);
    shoal_item_t *items = calloc(held ? held : 1, sizeof(*items));
    *out = items;
    for (size_t i = 0; items && i < held; i++)
        items[i] = (shoal_item_t){.id = self->items[self->head + i].id,
                                  .attempt = self->items[self->head + i].attempt,
                                  .version = self->items[self->head + i].version};
    return items ? held : 0;
}
