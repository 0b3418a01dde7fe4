/* sched/internal.h: what the files of sched/ share and nobody else includes: the
 * suite's layout (tests, members, interned files and requirement classes), the
 * string map that interns them, the member heaps and the plan builder the board
 * reuses. Invariant: a requirement class's `eligible` has one byte per member,
 * kept in step by sched_suite_add_member; `sched__` names are internal.
 */
#ifndef SHOAL_SCHED_INTERNAL_H
#define SHOAL_SCHED_INTERNAL_H

#include "sched/sched.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- string -> index map (open addressing, FNV-1a), keys borrowed ---- */
typedef struct sched__strmap {
    const char **keys;
    uint32_t *values;
    size_t cap; /* power of two, 0 when empty */
    size_t count;
} sched__strmap_t;

uint64_t sched__fnv1a(uint64_t hash, const void *data, size_t len);
/* Index of key or -1. */
long sched__strmap_get(const sched__strmap_t *map, const char *key);
int sched__strmap_put(sched__strmap_t *map, const char *key, uint32_t value);
void sched__strmap_free(sched__strmap_t *map);

/* ---- growable array helper: ensures room for `need` items ---- */
int sched__grow(void **items, size_t *cap, size_t need, size_t item_size);

/* ---- the suite's layout ---- */
typedef struct sched__term {
    char *key;
    char *value; /* NULL: any value */
} sched__term_t;

typedef struct sched__reqclass {
    char *text; /* as given, the interning key */
    sched__term_t *terms;
    size_t term_count;
    unsigned char *eligible; /* per member, 1 when its tags satisfy every term */
    size_t eligible_cap;
} sched__reqclass_t;

typedef struct sched__test {
    char *id;
    uint32_t file;
    uint32_t req;
    double predicted;
    double confidence;
    sched_predict_source_t source;
    bool failed;
    double flakiness;
} sched__test_t;

typedef struct sched__member {
    char *name;
    unsigned slots;
    bool alive;
    sched__term_t *tags;
    size_t tag_count;
} sched__member_t;

struct sched_suite {
    sched__test_t *tests;
    size_t test_count, test_cap;
    sched__member_t *members;
    size_t member_count, member_cap;
    char **files; /* files[0] is "" */
    size_t file_count, file_cap;
    sched__reqclass_t *reqs; /* reqs[0] requires nothing */
    size_t req_count, req_cap;
    sched__strmap_t test_ids, file_ids, req_ids, member_names;
};

/* Rank of each test in sched_suite_order (0 runs first); caller frees. */
uint32_t *sched__suite_ranks(const sched_suite_t *suite);
/* qsort comparator for uint64_t. */
int sched__cmp_u64(const void *a, const void *b);
/* Sorts distinct tests[0..count) by rank (a permutation of 0..rank_count-1);
 * -1 (unsorted) on out of memory. */
int sched__sort_by_rank(size_t *tests, size_t count, const uint32_t *rank, size_t rank_count);

/* ---- plan builder shared with the board ---- */
sched_plan_t *sched__plan_build(const sched_suite_t *suite, sched_strategy_t strategy,
                                const size_t *tests, size_t count, const uint32_t *rank,
                                const bool *alive, const double *base_load);

/* ---- budget and batching helpers the board shares ---- */
/* List scheduling on `slots` slots whose free times are free_at[]: if a test
 * of `seconds` started on the earliest free slot ends by deadline, books it
 * and returns true; otherwise leaves free_at alone. */
bool sched__slots_fit(double *free_at, unsigned slots, double seconds, double deadline);
/* Length of the first batch of a queue. */
size_t sched__batch_next(const double *predicted, const bool *failed, size_t count, double target,
                         size_t max_count);
/* Length of the first batch of queue[0..count) (test indices, head first),
 * judged by the suite's predictions and failure flags; at most
 * min(max_count, 256). */
size_t sched__batch_queue(const sched_suite_t *suite, const size_t *queue, size_t count,
                          double target, size_t max_count);

/* ---- stealing and queues, shared by the board, the member side and the simulator ---- */
/* The victim's split on the last `count` tests of its queue (run order), the
 * whole queue holding `queued` predicted seconds: sched_steal_split with the
 * total given, so a caller can pass only the tail that the share can reach. */
size_t sched__steal_take(const double *pred, const bool *can, size_t count, double queued,
                         const sched_steal_sides_t *sides, size_t *take, double *work_out);
/* Merges queue a[0..na) and tests b[0..nb) (each in run order) into out
 * (room for na + nb): by rank, or b appended when rank is NULL (the file
 * strategy keeps its own order). Returns na + nb. */
size_t sched__queue_merge(const size_t *a, size_t na, const size_t *b, size_t nb,
                          const uint32_t *rank, size_t *out);

/* ---- an indexed binary heap of members by a double key, largest first
 * (ties: lower index first); keys can move either way ---- */
typedef struct sched__heap {
    uint32_t *items; /* heap order */
    uint32_t *pos;   /* per member, its place in items or UINT32_MAX */
    double *key;     /* per member */
    size_t count;
    size_t cap;
} sched__heap_t;

int sched__heap_init(sched__heap_t *heap, size_t members);
/* Makes room for `members` members (new ones start outside the heap); -1 on
 * out of memory, the heap unchanged. */
int sched__heap_grow(sched__heap_t *heap, size_t members);
void sched__heap_free(sched__heap_t *heap);
void sched__heap_set(sched__heap_t *heap, uint32_t member, double key);
/* Walks members in descending key order without changing the heap: fills
 * out[0..max) and returns how many. */
size_t sched__heap_top(const sched__heap_t *heap, uint32_t *out, size_t max);

#endif
