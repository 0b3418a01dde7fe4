/* sched/heap.c: an indexed binary max-heap of members keyed by a double, used
 * to find the member with the most queued work in O(log N) per change.
 * Invariants: items[pos[m]] == m for every member in the heap; a parent's key
 * is >= its children's (ties: lower member index above).
 */
#include "sched/internal.h"

#include <stdlib.h>

static bool
s_above(const sched__heap_t *heap, uint32_t a, uint32_t b)
{
    if (heap->key[a] != heap->key[b])
        return heap->key[a] > heap->key[b];
    return a < b;
}

static void
s_place(sched__heap_t *heap, size_t i, uint32_t member)
{
    heap->items[i] = member;
    heap->pos[member] = (uint32_t)i;
}

static void
s_sift_up(sched__heap_t *heap, size_t i)
{
    uint32_t m = heap->items[i];
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!s_above(heap, m, heap->items[parent]))
            break;
        s_place(heap, i, heap->items[parent]);
        i = parent;
    }
    s_place(heap, i, m);
}

static void
s_sift_down(sched__heap_t *heap, size_t i)
{
    uint32_t m = heap->items[i];
    for (;;) {
        size_t child = 2 * i + 1;
        if (child >= heap->count)
            break;
        if (child + 1 < heap->count && s_above(heap, heap->items[child + 1], heap->items[child]))
            child++;
        if (!s_above(heap, heap->items[child], m))
            break;
        s_place(heap, i, heap->items[child]);
        i = child;
    }
    s_place(heap, i, m);
}

int
sched__heap_init(sched__heap_t *heap, size_t members)
{
    heap->items = calloc(members ? members : 1, sizeof(uint32_t));
    heap->pos = calloc(members ? members : 1, sizeof(uint32_t));
    heap->key = calloc(members ? members : 1, sizeof(double));
    heap->count = 0;
    heap->cap = members;
    if (!heap->items || !heap->pos || !heap->key) {
        sched__heap_free(heap);
        return -1;
    }
    for (size_t m = 0; m < members; m++)
        heap->pos[m] = UINT32_MAX;
    return 0;
}

int
sched__heap_grow(sched__heap_t *heap, size_t members)
{
    if (members <= heap->cap)
        return 0;
    /* Each array is replaced only once all three exist, so a failure leaves
     * the heap as it was. */
    uint32_t *items = malloc(members * sizeof(uint32_t));
    uint32_t *pos = malloc(members * sizeof(uint32_t));
    double *key = malloc(members * sizeof(double));
    if (!items || !pos || !key) {
        free(items);
        free(pos);
        free(key);
        return -1;
    }
    for (size_t m = 0; m < members; m++) {
        items[m] = 0;
        pos[m] = m < heap->cap ? heap->pos[m] : UINT32_MAX;
        key[m] = m < heap->cap ? heap->key[m] : 0.0;
    }
    for (size_t i = 0; i < heap->count; i++)
        items[i] = heap->items[i];
    free(heap->items);
    free(heap->pos);
    free(heap->key);
    heap->items = items;
    heap->pos = pos;
    heap->key = key;
    heap->cap = members;
    return 0;
}

void
sched__heap_free(sched__heap_t *heap)
{
    free(heap->items);
    free(heap->pos);
    free(heap->key);
    heap->items = heap->pos = NULL;
    heap->key = NULL;
    heap->count = heap->cap = 0;
}

void
sched__heap_set(sched__heap_t *heap, uint32_t member, double key)
{
    if (heap->pos[member] == UINT32_MAX) {
        heap->key[member] = key;
        s_place(heap, heap->count++, member);
        s_sift_up(heap, heap->count - 1);
        return;
    }
    double old = heap->key[member];
    heap->key[member] = key;
    if (key > old)
        s_sift_up(heap, heap->pos[member]);
    else if (key < old)
        s_sift_down(heap, heap->pos[member]);
}

size_t
sched__heap_top(const sched__heap_t *heap, uint32_t *out, size_t max)
{
    /* A best-first walk over the heap tree; the frontier holds at most
     * max + 1 heap positions, so it lives on the stack for small max. */
    enum { FRONTIER = 64 };
    size_t frontier[FRONTIER];
    size_t open = 0, found = 0;
    if (max > FRONTIER / 2)
        max = FRONTIER / 2;
    if (heap->count > 0)
        frontier[open++] = 0;
    while (open > 0 && found < max) {
        size_t best = 0;
        for (size_t i = 1; i < open; i++)
            if (s_above(heap, heap->items[frontier[i]], heap->items[frontier[best]]))
                best = i;
        size_t at = frontier[best];
        frontier[best] = frontier[--open];
        out[found++] = heap->items[at];
        for (size_t child = 2 * at + 1; child <= 2 * at + 2; child++)
            if (child < heap->count)
                frontier[open++] = child;
    }
    return found;
}
