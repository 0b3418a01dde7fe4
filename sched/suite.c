/* sched/suite.c: the session's model: tests (id, file, requirements, prediction,
 * recent failure, flakiness) and members (name, slots, tags, alive), with files
 * and requirement sets interned so matching is one byte lookup per (class,
 * member). Invariants: test ids and member names are unique; every requirement
 * class knows, for every member, whether that member's tags satisfy it.
 */
#include "sched/internal.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

sched_suite_t *
sched_suite_new(void)
{
    sched_suite_t *self = calloc(1, sizeof(*self));
    if (!self)
        return NULL;
    /* files[0] = "" and reqs[0] = "" so that "no file" and "no requirement"
     * are ordinary entries. */
    if (sched__grow((void **)&self->files, &self->file_cap, 1, sizeof(char *)) != 0 ||
        !(self->files[0] = strdup("")) ||
        sched__strmap_put(&self->file_ids, self->files[0], 0) != 0 ||
        sched__grow((void **)&self->reqs, &self->req_cap, 1, sizeof(sched__reqclass_t)) != 0) {
        sched_suite_destroy(&self);
        return NULL;
    }
    self->file_count = 1;
    memset(&self->reqs[0], 0, sizeof(self->reqs[0]));
    if (!(self->reqs[0].text = strdup("")) ||
        sched__strmap_put(&self->req_ids, self->reqs[0].text, 0) != 0) {
        sched_suite_destroy(&self);
        return NULL;
    }
    self->req_count = 1;
    return self;
}

static void
s_terms_free(sched__term_t *terms, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        free(terms[i].key);
        free(terms[i].value);
    }
    free(terms);
}

void
sched_suite_destroy(sched_suite_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    sched_suite_t *self = *self_p;
    for (size_t i = 0; i < self->test_count; i++)
        free(self->tests[i].id);
    for (size_t i = 0; i < self->member_count; i++) {
        free(self->members[i].name);
        s_terms_free(self->members[i].tags, self->members[i].tag_count);
    }
    for (size_t i = 0; i < self->file_count; i++)
        free(self->files[i]);
    for (size_t i = 0; i < self->req_count; i++) {
        free(self->reqs[i].text);
        s_terms_free(self->reqs[i].terms, self->reqs[i].term_count);
        free(self->reqs[i].eligible);
    }
    free(self->tests);
    free(self->members);
    free(self->files);
    free(self->reqs);
    sched__strmap_free(&self->test_ids);
    sched__strmap_free(&self->file_ids);
    sched__strmap_free(&self->req_ids);
    sched__strmap_free(&self->member_names);
    free(self);
    *self_p = NULL;
}

/* Parses "k=v, k2 ,k3=v3" into terms. -1 on an empty key or out of memory. */
static int
s_terms_parse(const char *text, sched__term_t **terms_out, size_t *count_out)
{
    sched__term_t *terms = NULL;
    size_t count = 0, cap = 0;
    const char *p = text ? text : "";
    while (*p) {
        const char *end = strchr(p, ',');
        if (!end)
            end = p + strlen(p);
        const char *a = p, *b = end;
        while (a < b && isspace((unsigned char)*a))
            a++;
        while (b > a && isspace((unsigned char)b[-1]))
            b--;
        if (a < b) {
            const char *eq = memchr(a, '=', (size_t)(b - a));
            if (eq == a || sched__grow((void **)&terms, &cap, count + 1, sizeof(*terms)) != 0)
                goto fail;
            sched__term_t *t = &terms[count++];
            t->key = strndup(a, (size_t)((eq ? eq : b) - a));
            t->value = eq ? strndup(eq + 1, (size_t)(b - eq - 1)) : NULL;
            if (!t->key || (eq && !t->value))
                goto fail;
        }
        p = *end ? end + 1 : end;
    }
    *terms_out = terms;
    *count_out = count;
    return 0;
fail:
    s_terms_free(terms, count);
    return -1;
}

/* Whether tags[0..tag_count) hold every term of want[0..want_count). */
static bool
s_terms_satisfy(const sched__term_t *tags, size_t tag_count, const sched__term_t *want,
                size_t want_count)
{
    for (size_t i = 0; i < want_count; i++) {
        bool found = false;
        for (size_t j = 0; j < tag_count && !found; j++)
            found =
                strcmp(tags[j].key, want[i].key) == 0 &&
                (!want[i].value || (tags[j].value && strcmp(tags[j].value, want[i].value) == 0));
        if (!found)
            return false;
    }
    return true;
}

static bool
s_satisfies(const sched__member_t *member, const sched__reqclass_t *req)
{
    return s_terms_satisfy(member->tags, member->tag_count, req->terms, req->term_count);
}

bool
sched_tags_satisfy(const char *tags, const char *requires)
{
    if (!requires || !*requires)
        return true;
    sched__term_t *have = NULL, *want = NULL;
    size_t have_count = 0, want_count = 0;
    bool ok = s_terms_parse(tags, &have, &have_count) == 0 &&
              s_terms_parse(requires, &want, &want_count) == 0 &&
              s_terms_satisfy(have, have_count, want, want_count);
    s_terms_free(have, have_count);
    s_terms_free(want, want_count);
    return ok;
}

static int
s_eligible_fill(sched__reqclass_t *req, const sched_suite_t *self, size_t from)
{
    if (sched__grow((void **)&req->eligible, &req->eligible_cap, self->member_count, 1) != 0)
        return -1;
    for (size_t m = from; m < self->member_count; m++)
        req->eligible[m] = s_satisfies(&self->members[m], req);
    return 0;
}

static long
s_intern_req(sched_suite_t *self, const char *text)
{
    long found = sched__strmap_get(&self->req_ids, text);
    if (found >= 0)
        return found;
    if (sched__grow((void **)&self->reqs, &self->req_cap, self->req_count + 1,
                    sizeof(sched__reqclass_t)) != 0)
        return -1;
    sched__reqclass_t req = {0};
    if (s_terms_parse(text, &req.terms, &req.term_count) != 0)
        return -1;
    if (!(req.text = strdup(text)) || s_eligible_fill(&req, self, 0) != 0 ||
        sched__strmap_put(&self->req_ids, req.text, (uint32_t)self->req_count) != 0) {
        free(req.text);
        free(req.eligible);
        s_terms_free(req.terms, req.term_count);
        return -1;
    }
    self->reqs[self->req_count] = req;
    return (long)self->req_count++;
}

static long
s_intern_file(sched_suite_t *self, const char *file)
{
    long found = sched__strmap_get(&self->file_ids, file);
    if (found >= 0)
        return found;
    char *copy = strdup(file);
    if (!copy ||
        sched__grow((void **)&self->files, &self->file_cap, self->file_count + 1, sizeof(char *)) !=
            0 ||
        sched__strmap_put(&self->file_ids, copy, (uint32_t)self->file_count) != 0) {
        free(copy);
        return -1;
    }
    self->files[self->file_count] = copy;
    return (long)self->file_count++;
}

int
sched_suite_add_test(sched_suite_t *self, const char *id, const char *file, const char *requires,
                     size_t *index_out)
{
    if (!id || !*id || sched__strmap_get(&self->test_ids, id) >= 0 ||
        self->test_count >= UINT32_MAX)
        return -1;
    long file_idx = s_intern_file(self, file ? file : "");
    long req_idx = s_intern_req(self, requires ? requires : "");
    if (file_idx < 0 || req_idx < 0 ||
        sched__grow((void **)&self->tests, &self->test_cap, self->test_count + 1,
                    sizeof(sched__test_t)) != 0)
        return -1;
    sched__test_t *t = &self->tests[self->test_count];
    memset(t, 0, sizeof(*t));
    if (!(t->id = strdup(id)) ||
        sched__strmap_put(&self->test_ids, t->id, (uint32_t)self->test_count) != 0) {
        free(t->id);
        return -1;
    }
    t->file = (uint32_t)file_idx;
    t->req = (uint32_t)req_idx;
    t->predicted = SCHED_DEFAULT_PREDICTION;
    t->source = SCHED_PREDICT_DEFAULT;
    if (index_out)
        *index_out = self->test_count;
    self->test_count++;
    return 0;
}

int
sched_suite_add_member(sched_suite_t *self, const char *name, unsigned slots, const char *tags,
                       size_t *index_out)
{
    if (!name || !*name || slots == 0 || sched__strmap_get(&self->member_names, name) >= 0 ||
        self->member_count >= UINT32_MAX - 1)
        return -1;
    if (sched__grow((void **)&self->members, &self->member_cap, self->member_count + 1,
                    sizeof(sched__member_t)) != 0)
        return -1;
    sched__member_t member = {.slots = slots, .alive = true};
    if (s_terms_parse(tags, &member.tags, &member.tag_count) != 0)
        return -1;
    if (!(member.name = strdup(name)) ||
        sched__strmap_put(&self->member_names, member.name, (uint32_t)self->member_count) != 0) {
        free(member.name);
        s_terms_free(member.tags, member.tag_count);
        return -1;
    }
    self->members[self->member_count++] = member;
    for (size_t r = 0; r < self->req_count; r++)
        if (s_eligible_fill(&self->reqs[r], self, self->member_count - 1) != 0) {
            /* Keep the suite consistent: forget the member again. */
            self->member_count--;
            return -1;
        }
    if (index_out)
        *index_out = self->member_count - 1;
    return 0;
}

int
sched_suite_set_alive(sched_suite_t *self, size_t member, bool alive)
{
    if (member >= self->member_count)
        return -1;
    self->members[member].alive = alive;
    return 0;
}

double
sched_predict_ewma(const double *durations, size_t count, double alpha)
{
    if (count == 0)
        return 0.0;
    double value = durations[0];
    for (size_t i = 1; i < count; i++)
        value = alpha * durations[i] + (1.0 - alpha) * value;
    return value;
}

int
sched_suite_set_history(sched_suite_t *self, size_t test, const sched_history_t *history)
{
    if (test >= self->test_count || !history)
        return -1;
    sched__test_t *t = &self->tests[test];
    t->failed = history->recent_failures > 0 || history->last_failed;
    t->flakiness = history->flakiness;
    if (history->count > 0) {
        t->predicted = sched_predict_ewma(history->durations, history->count, SCHED_EWMA_ALPHA);
        if (t->predicted < 0)
            t->predicted = 0;
        /* More samples, more confidence: 1 -> 0.5, 3 -> 0.75, 9 -> 0.9. */
        t->confidence = (double)history->count / (double)(history->count + 1);
        t->source = SCHED_PREDICT_HISTORY;
    }
    return 0;
}

int
sched_suite_set_predicted(sched_suite_t *self, size_t test, double seconds, double confidence)
{
    if (test >= self->test_count || !(seconds >= 0))
        return -1;
    self->tests[test].predicted = seconds;
    self->tests[test].confidence = confidence;
    self->tests[test].source = SCHED_PREDICT_GIVEN;
    return 0;
}

static int
s_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static bool
s_known(const sched__test_t *t)
{
    return t->source == SCHED_PREDICT_HISTORY || t->source == SCHED_PREDICT_GIVEN;
}

void
sched_suite_predict(sched_suite_t *self, double default_seconds)
{
    double *known = malloc((self->test_count + 1) * sizeof(double));
    double *file_sum = calloc(self->file_count, sizeof(double));
    size_t *file_n = calloc(self->file_count, sizeof(size_t));
    size_t nknown = 0;
    double median = default_seconds;
    if (known && file_sum && file_n) {
        for (size_t i = 0; i < self->test_count; i++) {
            const sched__test_t *t = &self->tests[i];
            if (!s_known(t))
                continue;
            known[nknown++] = t->predicted;
            file_sum[t->file] += t->predicted;
            file_n[t->file]++;
        }
        qsort(known, nknown, sizeof(double), s_cmp_double);
        if (nknown > 0)
            median =
                nknown % 2 ? known[nknown / 2] : (known[nknown / 2 - 1] + known[nknown / 2]) / 2.0;
    }
    for (size_t i = 0; i < self->test_count; i++) {
        sched__test_t *t = &self->tests[i];
        if (s_known(t))
            continue;
        /* The empty file (index 0) says nothing about a test's neighbours. */
        if (file_n && t->file != 0 && file_n[t->file] > 0) {
            t->predicted = file_sum[t->file] / (double)file_n[t->file];
            t->confidence = 0.3;
            t->source = SCHED_PREDICT_FILE_AVERAGE;
        } else if (nknown > 0) {
            t->predicted = median;
            t->confidence = 0.1;
            t->source = SCHED_PREDICT_SUITE_MEDIAN;
        } else {
            t->predicted = default_seconds;
            t->confidence = 0.0;
            t->source = SCHED_PREDICT_DEFAULT;
        }
    }
    free(known);
    free(file_sum);
    free(file_n);
}

size_t
sched_suite_test_count(const sched_suite_t *self)
{
    return self->test_count;
}

size_t
sched_suite_member_count(const sched_suite_t *self)
{
    return self->member_count;
}

const char *
sched_suite_test_id(const sched_suite_t *self, size_t test)
{
    return test < self->test_count ? self->tests[test].id : NULL;
}

const char *
sched_suite_test_file(const sched_suite_t *self, size_t test)
{
    return test < self->test_count ? self->files[self->tests[test].file] : NULL;
}

const char *
sched_suite_member_name(const sched_suite_t *self, size_t member)
{
    return member < self->member_count ? self->members[member].name : NULL;
}

unsigned
sched_suite_member_slots(const sched_suite_t *self, size_t member)
{
    return member < self->member_count ? self->members[member].slots : 0;
}

bool
sched_suite_member_alive(const sched_suite_t *self, size_t member)
{
    return member < self->member_count && self->members[member].alive;
}

double
sched_suite_predicted(const sched_suite_t *self, size_t test, double *confidence,
                      sched_predict_source_t *source)
{
    if (test >= self->test_count)
        return 0.0;
    if (confidence)
        *confidence = self->tests[test].confidence;
    if (source)
        *source = self->tests[test].source;
    return self->tests[test].predicted;
}

bool
sched_suite_failed_recently(const sched_suite_t *self, size_t test)
{
    return test < self->test_count && self->tests[test].failed;
}

double
sched_suite_flakiness(const sched_suite_t *self, size_t test)
{
    return test < self->test_count ? self->tests[test].flakiness : 0.0;
}

bool
sched_suite_can_run(const sched_suite_t *self, size_t test, size_t member)
{
    if (test >= self->test_count || member >= self->member_count)
        return false;
    return self->reqs[self->tests[test].req].eligible[member] != 0;
}

/* ---- order: fail-first, then longest predicted, then collection order ----
 * Each test gets one 64-bit key that sorts ascending in run order: bit 63 is
 * "did not fail recently", the rest the complement of the prediction's IEEE
 * bits (a non-negative double's bits grow with its value). A stable LSD radix
 * sort on the keys does it in O(n) and keeps equal keys in the framework's
 * own order: with nothing known, tests run as the framework would run them
 * (suites whose tests depend on the order within a module keep working). */

typedef struct {
    uint64_t key;
    size_t index;
} s_order_key_t;

static uint64_t
s_order_key(const sched__test_t *t)
{
    uint64_t bits;
    double p = t->predicted > 0 ? t->predicted : 0.0; /* also folds -0.0 */
    memcpy(&bits, &p, sizeof(bits));
    return ((uint64_t)!t->failed << 63) | (~bits & 0x7fffffffffffffffULL);
}

/* Stable LSD radix sort of keys[0..n) on 8-bit digits, using tmp. */
static void
s_radix(s_order_key_t *keys, s_order_key_t *tmp, size_t n)
{
    size_t count[257];
    for (int shift = 0; shift < 64; shift += 8) {
        memset(count, 0, sizeof(count));
        for (size_t i = 0; i < n; i++)
            count[((keys[i].key >> shift) & 0xff) + 1]++;
        if (count[((keys[0].key >> shift) & 0xff) + 1] == n)
            continue; /* every key has this digit */
        for (size_t d = 0; d < 256; d++)
            count[d + 1] += count[d];
        for (size_t i = 0; i < n; i++)
            tmp[count[(keys[i].key >> shift) & 0xff]++] = keys[i];
        memcpy(keys, tmp, n * sizeof(*keys));
    }
}

void
sched_suite_order(const sched_suite_t *self, size_t *out)
{
    size_t n = self->test_count;
    s_order_key_t *keys = malloc((n + 1) * sizeof(*keys));
    s_order_key_t *tmp = malloc((n + 1) * sizeof(*tmp));
    if (!keys || !tmp) {
        /* Out of memory: collection order is still a complete order. */
        for (size_t i = 0; i < n; i++)
            out[i] = i;
        free(keys);
        free(tmp);
        return;
    }
    for (size_t i = 0; i < n; i++)
        keys[i] = (s_order_key_t){s_order_key(&self->tests[i]), i};
    if (n > 0)
        s_radix(keys, tmp, n);
    for (size_t i = 0; i < n; i++)
        out[i] = keys[i].index;
    free(keys);
    free(tmp);
}

uint32_t *
sched__suite_ranks(const sched_suite_t *self)
{
    size_t n = self->test_count;
    size_t *order = malloc((n + 1) * sizeof(size_t));
    uint32_t *rank = malloc((n + 1) * sizeof(uint32_t));
    if (!order || !rank) {
        free(order);
        free(rank);
        return NULL;
    }
    sched_suite_order(self, order);
    for (size_t i = 0; i < n; i++)
        rank[order[i]] = (uint32_t)i;
    free(order);
    return rank;
}

int
sched__cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

int
sched__sort_by_rank(size_t *tests, size_t count, const uint32_t *rank, size_t rank_count)
{
    /* Ranks are a permutation of 0..rank_count-1. A large subset is placed
     * by rank in one pass (O(rank_count)); a small one is sorted as packed
     * (rank << 32 | test) numbers. */
    if (count > rank_count / 8) {
        uint32_t *slot = calloc(rank_count + 1, sizeof(uint32_t));
        if (!slot)
            return -1;
        for (size_t i = 0; i < count; i++)
            slot[rank[tests[i]]] = (uint32_t)tests[i] + 1;
        size_t k = 0;
        for (size_t r = 0; r < rank_count; r++)
            if (slot[r])
                tests[k++] = slot[r] - 1;
        free(slot);
        return 0;
    }
    uint64_t *keys = malloc((count + 1) * sizeof(uint64_t));
    if (!keys)
        return -1;
    for (size_t i = 0; i < count; i++)
        keys[i] = ((uint64_t)rank[tests[i]] << 32) | (uint64_t)tests[i];
    qsort(keys, count, sizeof(uint64_t), sched__cmp_u64);
    for (size_t i = 0; i < count; i++)
        tests[i] = (size_t)(keys[i] & 0xffffffffu);
    free(keys);
    return 0;
}
