/* sched/rank.c: leader ranking by rendezvous (highest random weight) hashing.
 * Every node computes the same order from the session id and the names alone:
 * FNV-1a 64 over session, a 0 byte and the name, then the splitmix64
 * finalizer so near-identical names still spread. Invariant: the order does
 * not depend on the input order (ties, only on equal hashes, go by name).
 */
#include "sched/internal.h"

#include <stdlib.h>
#include <string.h>

uint64_t
sched_rank_hash(const char *session, const char *node)
{
    static const unsigned char zero = 0;
    uint64_t h = 0xcbf29ce484222325ULL;
    h = sched__fnv1a(h, session, strlen(session));
    h = sched__fnv1a(h, &zero, 1);
    h = sched__fnv1a(h, node, strlen(node));
    h = (h ^ (h >> 30)) * 0xbf58476d1ce4e5b9ULL;
    h = (h ^ (h >> 27)) * 0x94d049bb133111ebULL;
    return h ^ (h >> 31);
}

typedef struct {
    uint64_t hash;
    const char *name;
    size_t index;
} s_ranked_t;

static int
s_ranked_cmp(const void *a, const void *b)
{
    const s_ranked_t *x = a, *y = b;
    if (x->hash != y->hash)
        return x->hash > y->hash ? -1 : 1;
    int c = strcmp(x->name, y->name);
    if (c != 0)
        return c;
    return (x->index > y->index) - (x->index < y->index);
}

void
sched_rank_order(const char *session, const char *const *names, size_t count, size_t *order)
{
    s_ranked_t *ranked = malloc((count + 1) * sizeof(*ranked));
    if (!ranked) {
        /* Out of memory: a selection sort needs no memory and keeps the rule. */
        for (size_t i = 0; i < count; i++)
            order[i] = i;
        for (size_t i = 0; i < count; i++)
            for (size_t j = i + 1; j < count; j++) {
                s_ranked_t a = {sched_rank_hash(session, names[order[i]]), names[order[i]],
                                order[i]};
                s_ranked_t b = {sched_rank_hash(session, names[order[j]]), names[order[j]],
                                order[j]};
                if (s_ranked_cmp(&b, &a) < 0) {
                    size_t x = order[i];
                    order[i] = order[j];
                    order[j] = x;
                }
            }
        return;
    }
    for (size_t i = 0; i < count; i++)
        ranked[i] = (s_ranked_t){sched_rank_hash(session, names[i]), names[i], i};
    qsort(ranked, count, sizeof(*ranked), s_ranked_cmp);
    for (size_t i = 0; i < count; i++)
        order[i] = ranked[i].index;
    free(ranked);
}

int
sched_rank_leader(const char *session, const char *const *names, const bool *alive, size_t count,
                  size_t *leader_out)
{
    bool found = false;
    s_ranked_t best = {0};
    for (size_t i = 0; i < count; i++) {
        if (alive && !alive[i])
            continue;
        s_ranked_t x = {sched_rank_hash(session, names[i]), names[i], i};
        if (!found || s_ranked_cmp(&x, &best) < 0) {
            best = x;
            found = true;
        }
    }
    if (!found)
        return -1;
    *leader_out = best.index;
    return 0;
}
