/* sched/util.c: small containers the rest of sched/ builds on: FNV-1a, a
 * string -> index map with open addressing (keys borrowed from their owner, who
 * keeps them alive), the growth rule for arrays (double, at least 16) and the
 * merge of tests into a queue by rank.
 * Invariant: the map's load stays at most one half, so probing always ends.
 */
#include "sched/internal.h"

#include <stdlib.h>
#include <string.h>

uint64_t
sched__fnv1a(uint64_t hash, const void *data, size_t len)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < len; i++) {
        hash ^= p[i];
        hash *= 0x100000001b3ULL;
    }
    return hash;
}

#define S_FNV_OFFSET 0xcbf29ce484222325ULL

static size_t
s_slot(const sched__strmap_t *map, const char *key)
{
    size_t mask = map->cap - 1;
    size_t i = (size_t)sched__fnv1a(S_FNV_OFFSET, key, strlen(key)) & mask;
    while (map->keys[i] && strcmp(map->keys[i], key) != 0)
        i = (i + 1) & mask;
    return i;
}

long
sched__strmap_get(const sched__strmap_t *map, const char *key)
{
    if (map->cap == 0)
        return -1;
    size_t i = s_slot(map, key);
    return map->keys[i] ? (long)map->values[i] : -1;
}

static int
s_rehash(sched__strmap_t *map, size_t cap)
{
    sched__strmap_t bigger = {calloc(cap, sizeof(char *)), calloc(cap, sizeof(uint32_t)), cap, 0};
    if (!bigger.keys || !bigger.values) {
        free(bigger.keys);
        free(bigger.values);
        return -1;
    }
    for (size_t i = 0; i < map->cap; i++)
        if (map->keys[i]) {
            size_t j = s_slot(&bigger, map->keys[i]);
            bigger.keys[j] = map->keys[i];
            bigger.values[j] = map->values[i];
            bigger.count++;
        }
    sched__strmap_free(map);
    *map = bigger;
    return 0;
}

int
sched__strmap_put(sched__strmap_t *map, const char *key, uint32_t value)
{
    if ((map->count + 1) * 2 > map->cap && s_rehash(map, map->cap ? map->cap * 2 : 64) != 0)
        return -1;
    size_t i = s_slot(map, key);
    if (!map->keys[i])
        map->count++;
    map->keys[i] = key;
    map->values[i] = value;
    return 0;
}

void
sched__strmap_free(sched__strmap_t *map)
{
    free(map->keys);
    free(map->values);
    memset(map, 0, sizeof(*map));
}

int
sched__grow(void **items, size_t *cap, size_t need, size_t item_size)
{
    if (need <= *cap)
        return 0;
    size_t bigger = *cap ? *cap : 16;
    while (bigger < need)
        bigger *= 2;
    void *grown = realloc(*items, bigger * item_size);
    if (!grown)
        return -1;
    *items = grown;
    *cap = bigger;
    return 0;
}

size_t
sched__queue_merge(const size_t *a, size_t na, const size_t *b, size_t nb, const uint32_t *rank,
                   size_t *out)
{
    size_t i = 0, j = 0, k = 0;
    if (!rank) {
        if (na)
            memcpy(out, a, na * sizeof(size_t));
        if (nb)
            memcpy(out + na, b, nb * sizeof(size_t));
        return na + nb;
    }
    while (i < na && j < nb)
        out[k++] = rank[a[i]] < rank[b[j]] ? a[i++] : b[j++];
    while (i < na)
        out[k++] = a[i++];
    while (j < nb)
        out[k++] = b[j++];
    return k;
}
