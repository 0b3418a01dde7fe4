/* sched/plan.c: the five sharding strategies. A plan is one ordered queue per
 * member plus the tests nobody alive can run. Every strategy deals each input
 * test exactly once, only to an alive member whose tags satisfy it, and is
 * deterministic (ties go to the lower member index, then the lower rank).
 * Queues come out in rank order (fail-first, longest, collection order),
 * except the file strategy's, which keeps each file's tests together.
 */
#include "sched/internal.h"

#include <stdlib.h>
#include <string.h>

#define S_NOBODY UINT32_MAX

struct sched_plan {
    size_t member_count;
    size_t *items;   /* every queue, back to back */
    size_t *offsets; /* member m's queue is items[offsets[m] .. offsets[m + 1]) */
    double *base;
    double *dealt;
    unsigned *slots;
    size_t *unschedulable;
    size_t unschedulable_count;
};

/* A min-heap of the members eligible for one requirement class, keyed by load
 * per slot. Loads only grow, so a stale key is low and is refreshed when it
 * reaches the top (lazy update). */
typedef struct {
    double key;
    uint32_t member;
} s_slot_t;

typedef struct {
    s_slot_t *items;
    size_t count;
} s_minheap_t;

typedef struct {
    const sched_suite_t *suite;
    const bool *alive;
    const double *pred; /* per test */
    double *load;       /* per member: base + dealt */
    double *dealt;
    s_minheap_t *heaps; /* per requirement class, built on first use */
    uint32_t *owner;    /* per input position */
    bool oom;
} s_deal_t;

static bool
s_less(s_slot_t a, s_slot_t b)
{
    return a.key != b.key ? a.key < b.key : a.member < b.member;
}

static void
s_minheap_down(s_minheap_t *h, size_t i)
{
    s_slot_t x = h->items[i];
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= h->count)
            break;
        if (c + 1 < h->count && s_less(h->items[c + 1], h->items[c]))
            c++;
        if (!s_less(h->items[c], x))
            break;
        h->items[i] = h->items[c];
        i = c;
    }
    h->items[i] = x;
}

static double
s_key(const s_deal_t *d, uint32_t m)
{
    return d->load[m] / (double)d->suite->members[m].slots;
}

/* The heap of class `req`, built on first use; NULL if nobody alive is
 * eligible (or out of memory, which the caller treats the same way). */
static s_minheap_t *
s_heap_for(s_deal_t *d, uint32_t req)
{
    s_minheap_t *h = &d->heaps[req];
    if (h->items)
        return h->count ? h : NULL;
    const sched_suite_t *s = d->suite;
    h->items = malloc((s->member_count + 1) * sizeof(s_slot_t));
    if (!h->items) {
        d->oom = true;
        return NULL;
    }
    for (uint32_t m = 0; m < s->member_count; m++)
        if (d->alive[m] && s->reqs[req].eligible[m])
            h->items[h->count++] = (s_slot_t){s_key(d, m), m};
    for (size_t i = h->count / 2; i-- > 0;)
        s_minheap_down(h, i);
    return h->count ? h : NULL;
}

/* Gives `work` seconds of class `req` to the least loaded eligible member;
 * S_NOBODY if there is none. */
static uint32_t
s_least_loaded(s_deal_t *d, uint32_t req, double work)
{
    s_minheap_t *h = s_heap_for(d, req);
    if (!h)
        return S_NOBODY;
    for (;;) {
        double actual = s_key(d, h->items[0].member);
        if (actual == h->items[0].key)
            break;
        h->items[0].key = actual;
        s_minheap_down(h, 0);
    }
    uint32_t m = h->items[0].member;
    d->load[m] += work;
    d->dealt[m] += work;
    h->items[0].key = s_key(d, m);
    s_minheap_down(h, 0);
    return m;
}

/* LPT. A run of tests nothing is known about (the default prediction and
 * the same requirement: on a first run, every test) goes out as LPT would
 * share it (the same count to each member), but in contiguous blocks in the
 * input's order rather than one test each in turn: tests of one module stay
 * together and in the framework's order, as pytest-xdist's load scheduling
 * keeps them, so fixtures are shared and order-dependent suites work. */
static void
s_lpt(s_deal_t *d, const size_t *tests, const size_t *positions, size_t count)
{
    size_t members = d->suite->member_count;
    size_t *got = calloc(members + 1, sizeof(size_t)); /* [members]: nobody */
    if (!got)
        d->oom = true;
    for (size_t i = 0, j; i < count; i = j) {
        const sched__test_t *first = &d->suite->tests[tests[positions[i]]];
        double pred = d->pred[tests[positions[i]]];
        for (j = i + 1; got && first->source == SCHED_PREDICT_DEFAULT && j < count; j++) {
            size_t t = tests[positions[j]];
            const sched__test_t *test = &d->suite->tests[t];
            if (d->pred[t] != pred || test->req != first->req ||
                test->source != SCHED_PREDICT_DEFAULT)
                break;
        }
        if (!got || j - i == 1) {
            for (j = i; j < (got ? i + 1 : count); j++)
                d->owner[positions[j]] = s_least_loaded(d, d->suite->tests[tests[positions[j]]].req,
                                                        d->pred[tests[positions[j]]]);
            continue;
        }
        memset(got, 0, (members + 1) * sizeof(size_t));
        for (size_t k = i; k < j; k++) {
            uint32_t m = s_least_loaded(d, first->req, pred);
            got[m == S_NOBODY ? members : m]++;
        }
        size_t k = i;
        for (size_t m = 0; m <= members; m++)
            for (size_t c = 0; c < got[m]; c++)
                d->owner[positions[k++]] = m == members ? S_NOBODY : (uint32_t)m;
    }
    free(got);
}

static void
s_round_robin(s_deal_t *d, const size_t *tests, size_t count)
{
    /* Count based, in collection order (test index), like `--shard` does with
     * its sorted file list: (test << 32 | position) sorts into that order. */
    uint64_t *by_index = malloc((count + 1) * sizeof(uint64_t));
    const sched_suite_t *s = d->suite;
    size_t n = s->member_count, cursor = 0;
    if (!by_index) {
        d->oom = true;
        return;
    }
    for (size_t i = 0; i < count; i++)
        by_index[i] = ((uint64_t)tests[i] << 32) | i;
    qsort(by_index, count, sizeof(uint64_t), sched__cmp_u64);
    for (size_t k = 0; k < count; k++) {
        size_t pos = (size_t)(by_index[k] & 0xffffffffu), t = tests[pos];
        const unsigned char *eligible = s->reqs[s->tests[t].req].eligible;
        for (size_t step = 0; step < n; step++) {
            size_t m = (cursor + step) % n;
            if (d->alive[m] && eligible[m]) {
                d->owner[pos] = (uint32_t)m;
                d->load[m] += d->pred[t];
                d->dealt[m] += d->pred[t];
                cursor = m + 1;
                break;
            }
        }
    }
    free(by_index);
}

/* Most constrained first: position order by (eligible alive members, rank). */
static int
s_tag(s_deal_t *d, const size_t *tests, size_t count)
{
    const sched_suite_t *s = d->suite;
    uint32_t *reach = calloc(s->req_count, sizeof(uint32_t));
    uint64_t *keys = malloc((count + 1) * sizeof(uint64_t));
    size_t *positions = malloc((count + 1) * sizeof(size_t));
    if (reach && keys && positions) {
        for (size_t r = 0; r < s->req_count; r++)
            for (size_t m = 0; m < s->member_count; m++)
                reach[r] += d->alive[m] && s->reqs[r].eligible[m];
        for (size_t i = 0; i < count; i++)
            keys[i] = ((uint64_t)reach[s->tests[tests[i]].req] << 32) | i;
        qsort(keys, count, sizeof(uint64_t), sched__cmp_u64);
        for (size_t i = 0; i < count; i++)
            positions[i] = (size_t)(keys[i] & 0xffffffffu);
        s_lpt(d, tests, positions, count);
    }
    int rc = reach && keys && positions ? 0 : -1;
    free(reach);
    free(keys);
    free(positions);
    return rc;
}

/* Recently failed tests first, each to the eligible member with the fewest
 * failed tests so far (then the least loaded), so every member starts with
 * some; then the rest LPT. */
static int
s_fail_first(s_deal_t *d, const size_t *tests, size_t count)
{
    const sched_suite_t *s = d->suite;
    size_t *failed_at = calloc(s->member_count + 1, sizeof(size_t));
    size_t *rest = malloc((count + 1) * sizeof(size_t));
    size_t nrest = 0;
    int rc = -1;
    if (!failed_at || !rest)
        goto cleanup;
    for (size_t i = 0; i < count; i++) {
        size_t t = tests[i];
        if (!s->tests[t].failed) {
            rest[nrest++] = i;
            continue;
        }
        const unsigned char *eligible = s->reqs[s->tests[t].req].eligible;
        uint32_t best = S_NOBODY;
        for (uint32_t m = 0; m < s->member_count; m++) {
            if (!d->alive[m] || !eligible[m])
                continue;
            if (best == S_NOBODY || failed_at[m] < failed_at[best] ||
                (failed_at[m] == failed_at[best] && s_key(d, m) < s_key(d, best)))
                best = m;
        }
        d->owner[i] = best;
        if (best != S_NOBODY) {
            failed_at[best]++;
            d->load[best] += d->pred[t];
            d->dealt[best] += d->pred[t];
        }
    }
    s_lpt(d, tests, rest, nrest);
    rc = 0;
cleanup:
    free(failed_at);
    free(rest);
    return rc;
}

/* One group per (file, requirement class): its tests stay together. */
typedef struct {
    double total;
    size_t first, count; /* in the grouped position list */
    const char *name;    /* the file's */
    uint32_t file, req;
    bool failed;
} s_group_t;

static int
s_group_cmp(const void *a, const void *b)
{
    const s_group_t *x = a, *y = b;
    if (x->failed != y->failed)
        return x->failed ? -1 : 1;
    if (x->total != y->total)
        return x->total > y->total ? -1 : 1;
    int c = strcmp(x->name, y->name);
    if (c != 0)
        return c;
    return (x->req > y->req) - (x->req < y->req);
}

/* Deals whole groups LPT-style; fills emit[] with positions in queue order:
 * groups in the order they were dealt, each group's tests in rank order. */
static int
s_file(s_deal_t *d, const size_t *tests, size_t count, size_t *emit)
{
    const sched_suite_t *s = d->suite;
    uint64_t *keys = malloc((count + 1) * sizeof(uint64_t));
    size_t *grouped = malloc((count + 1) * sizeof(size_t));
    size_t *start = calloc(s->file_count + 1, sizeof(size_t));
    s_group_t *groups = malloc((count + 1) * sizeof(*groups));
    size_t ngroups = 0;
    int rc = -1;
    if (!keys || !grouped || !start || !groups)
        goto cleanup;
    /* Positions by (file, req, position): sort by (req, position), then a
     * stable counting sort by file. */
    for (size_t i = 0; i < count; i++)
        keys[i] = ((uint64_t)s->tests[tests[i]].req << 32) | i;
    qsort(keys, count, sizeof(uint64_t), sched__cmp_u64);
    for (size_t i = 0; i < count; i++)
        start[s->tests[tests[i]].file + 1]++;
    for (size_t f = 0; f < s->file_count; f++)
        start[f + 1] += start[f];
    for (size_t i = 0; i < count; i++) {
        size_t pos = (size_t)(keys[i] & 0xffffffffu);
        grouped[start[s->tests[tests[pos]].file]++] = pos;
    }
    for (size_t i = 0; i < count; i++) {
        const sched__test_t *t = &s->tests[tests[grouped[i]]];
        if (ngroups == 0 || groups[ngroups - 1].file != t->file ||
            groups[ngroups - 1].req != t->req)
            groups[ngroups++] = (s_group_t){0, i, 0, s->files[t->file], t->file, t->req, false};
        s_group_t *g = &groups[ngroups - 1];
        g->total += d->pred[tests[grouped[i]]];
        g->count++;
        g->failed = g->failed || t->failed;
    }
    qsort(groups, ngroups, sizeof(*groups), s_group_cmp);
    for (size_t g = 0, out = 0; g < ngroups; g++) {
        uint32_t m = s_least_loaded(d, groups[g].req, groups[g].total);
        for (size_t j = 0; j < groups[g].count; j++) {
            size_t pos = grouped[groups[g].first + j];
            d->owner[pos] = m;
            emit[out++] = pos;
        }
    }
    rc = 0;
cleanup:
    free(keys);
    free(grouped);
    free(start);
    free(groups);
    return rc;
}

sched_plan_t *
sched__plan_build(const sched_suite_t *suite, sched_strategy_t strategy, const size_t *tests,
                  size_t count, const uint32_t *rank, const bool *alive, const double *base_load)
{
    size_t n = suite->member_count;
    sched_plan_t *self = calloc(1, sizeof(*self));
    s_deal_t d = {.suite = suite};
    size_t *in = malloc((count + 1) * sizeof(size_t));
    size_t *emit = malloc((count + 1) * sizeof(size_t));
    bool *alive_copy = malloc((n + 1) * sizeof(bool));
    double *pred = malloc((suite->test_count + 1) * sizeof(double));
    d.load = calloc(n + 1, sizeof(double));
    d.heaps = calloc(suite->req_count, sizeof(s_minheap_t));
    d.owner = malloc((count + 1) * sizeof(uint32_t));
    if (!self || !in || !emit || !alive_copy || !pred || !d.load || !d.heaps || !d.owner)
        goto fail;
    self->member_count = n;
    self->items = malloc((count + 1) * sizeof(size_t));
    self->offsets = calloc(n + 2, sizeof(size_t));
    self->base = calloc(n + 1, sizeof(double));
    self->dealt = calloc(n + 1, sizeof(double));
    self->slots = calloc(n + 1, sizeof(unsigned));
    self->unschedulable = malloc((count + 1) * sizeof(size_t));
    if (!self->items || !self->offsets || !self->base || !self->dealt || !self->slots ||
        !self->unschedulable)
        goto fail;
    for (size_t m = 0; m < n; m++) {
        alive_copy[m] = alive ? alive[m] : suite->members[m].alive;
        self->base[m] = d.load[m] = base_load ? base_load[m] : 0.0;
        self->slots[m] = suite->members[m].slots;
    }
    for (size_t t = 0; t < suite->test_count; t++)
        pred[t] = suite->tests[t].predicted;
    d.alive = alive_copy;
    d.pred = pred;
    d.dealt = self->dealt;
    memcpy(in, tests, count * sizeof(size_t));
    if (sched__sort_by_rank(in, count, rank, suite->test_count) != 0)
        goto fail;
    for (size_t i = 0; i < count; i++) {
        d.owner[i] = S_NOBODY;
        emit[i] = i;
    }

    int rc = 0;
    switch (strategy) {
        case SCHED_STRATEGY_ROUND_ROBIN:
            s_round_robin(&d, in, count);
            break;
        case SCHED_STRATEGY_FILE:
            rc = s_file(&d, in, count, emit);
            break;
        case SCHED_STRATEGY_TAG:
            rc = s_tag(&d, in, count);
            break;
        case SCHED_STRATEGY_FAIL_FIRST:
            rc = s_fail_first(&d, in, count);
            break;
        case SCHED_STRATEGY_LPT:
        default:
            s_lpt(&d, in, emit, count);
            break;
    }
    if (rc != 0 || d.oom)
        goto fail;

    /* Counting sort by owner, in emission order, so each queue keeps it. */
    for (size_t i = 0; i < count; i++)
        if (d.owner[i] != S_NOBODY)
            self->offsets[d.owner[i] + 1]++;
    for (size_t m = 0; m < n; m++)
        self->offsets[m + 1] += self->offsets[m];
    size_t *fill = malloc((n + 1) * sizeof(size_t));
    if (!fill)
        goto fail;
    memcpy(fill, self->offsets, n * sizeof(size_t));
    for (size_t k = 0; k < count; k++) {
        size_t pos = emit[k];
        if (d.owner[pos] == S_NOBODY)
            self->unschedulable[self->unschedulable_count++] = in[pos];
        else
            self->items[fill[d.owner[pos]]++] = in[pos];
    }
    free(fill);
    goto done;
fail:
    sched_plan_destroy(&self);
done:
    for (size_t r = 0; d.heaps && r < suite->req_count; r++)
        free(d.heaps[r].items);
    free(d.heaps);
    free(d.owner);
    free(d.load);
    free(in);
    free(emit);
    free(alive_copy);
    free(pred);
    return self;
}

sched_plan_t *
sched_plan_new_subset(const sched_suite_t *suite, sched_strategy_t strategy, const size_t *tests,
                      size_t count, const bool *alive, const double *base_load)
{
    for (size_t i = 0; i < count; i++)
        if (tests[i] >= suite->test_count)
            return NULL;
    uint32_t *rank = sched__suite_ranks(suite);
    if (!rank)
        return NULL;
    sched_plan_t *self = sched__plan_build(suite, strategy, tests, count, rank, alive, base_load);
    free(rank);
    return self;
}

sched_plan_t *
sched_plan_new(const sched_suite_t *suite, sched_strategy_t strategy)
{
    size_t n = suite->test_count;
    size_t *all = malloc((n + 1) * sizeof(size_t));
    if (!all)
        return NULL;
    for (size_t i = 0; i < n; i++)
        all[i] = i;
    sched_plan_t *self = sched_plan_new_subset(suite, strategy, all, n, NULL, NULL);
    free(all);
    return self;
}

void
sched_plan_destroy(sched_plan_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    sched_plan_t *self = *self_p;
    free(self->items);
    free(self->offsets);
    free(self->base);
    free(self->dealt);
    free(self->slots);
    free(self->unschedulable);
    free(self);
    *self_p = NULL;
}

size_t
sched_plan_member_count(const sched_plan_t *self)
{
    return self->member_count;
}

const size_t *
sched_plan_queue(const sched_plan_t *self, size_t member, size_t *count_out)
{
    if (member >= self->member_count) {
        *count_out = 0;
        return NULL;
    }
    *count_out = self->offsets[member + 1] - self->offsets[member];
    return self->items + self->offsets[member];
}

double
sched_plan_load(const sched_plan_t *self, size_t member)
{
    return member < self->member_count ? self->dealt[member] : 0.0;
}

const size_t *
sched_plan_unschedulable(const sched_plan_t *self, size_t *count_out)
{
    *count_out = self->unschedulable_count;
    return self->unschedulable;
}

double
sched_plan_makespan(const sched_plan_t *self)
{
    double worst = 0.0;
    for (size_t m = 0; m < self->member_count; m++) {
        double finish = (self->base[m] + self->dealt[m]) / (double)self->slots[m];
        if (finish > worst)
            worst = finish;
    }
    return worst;
}

int
sched_strategy_parse(const char *name, sched_strategy_t *out)
{
    static const sched_strategy_t all[] = {SCHED_STRATEGY_LPT, SCHED_STRATEGY_ROUND_ROBIN,
                                           SCHED_STRATEGY_FILE, SCHED_STRATEGY_TAG,
                                           SCHED_STRATEGY_FAIL_FIRST};
    for (size_t i = 0; name && i < sizeof(all) / sizeof(all[0]); i++)
        if (strcmp(name, sched_strategy_name(all[i])) == 0) {
            *out = all[i];
            return 0;
        }
    return -1;
}

const char *
sched_strategy_name(sched_strategy_t strategy)
{
    switch (strategy) {
        case SCHED_STRATEGY_ROUND_ROBIN:
            return "round-robin";
        case SCHED_STRATEGY_FILE:
            return "file";
        case SCHED_STRATEGY_TAG:
            return "tag";
        case SCHED_STRATEGY_FAIL_FIRST:
            return "fail-first";
        case SCHED_STRATEGY_LPT:
        default:
            return "lpt";
    }
}
