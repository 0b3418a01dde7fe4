/* sched/board.c: the leader's live board of a session: which member owns which
 * test, what runs, what is done. It applies plans, starts, results, steals,
 * deaths, retries and a new leader's adoption of what members report; the
 * simulator drives this same code. Steals are decided here (steal_decide/apply,
 * central) or by the members and reported (moved, peer-to-peer), with the
 * rules of steal.c either way. A test's life:
 *
 *   PENDING --deal--> QUEUED --next/start--> RUNNING --finish--> DONE
 *      ^  \--deal (nobody can run it)--> UNSCHEDULABLE
 *      |              | steal_apply, moved: QUEUED at victim -> QUEUED at thief
 *      +--member_lost-+ (QUEUED or RUNNING at the dead member; moved to a dead thief)
 *      +--requeue(_avoiding)-- RUNNING or DONE (a crashed process, a retry)
 *      +--sync_members/member_back-- UNSCHEDULABLE a new or revived member can run
 *   QUEUED --skip_over_budget--> SKIPPED;  any state --finish/adopt_done--> DONE
 *   not DONE, not RUNNING elsewhere --adopt_running--> RUNNING (a new leader)
 *   PENDING --adopt_queued--> QUEUED at the member that says it holds it
 *
 * Invariant: every test is in exactly one place: its state, its owner (for
 * QUEUED and RUNNING) and its owner's queue agree, and every PENDING test is
 * listed once in `pending` (sched_board_check proves it). Members the suite
 * gains after the board exists are taken in by s_sync (sched_board_sync_members).
 */
#include "sched/internal.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#define S_NOBODY UINT32_MAX
#define S_VICTIM_CANDIDATES 8

typedef struct {
    size_t *q; /* queue: q[head .. tail), head runs next */
    size_t head, tail, cap;
    double queued_work;   /* sum of predictions in the queue */
    size_t running;       /* tests started and not finished */
    double running_pred;  /* sum of their predictions */
    double running_start; /* sum of their start times */
    unsigned slots;
} s_member_t;

struct sched_board {
    const sched_suite_t *suite;
    sched_strategy_t strategy;
    size_t test_count, member_count;
    uint32_t *rank;
    double *pred;
    unsigned char *state;
    uint32_t *owner;
    double *started;
    uint32_t *avoid;        /* per test: member a retry should avoid, or S_NOBODY */
    uint32_t *version;      /* per test: placements (deals, moves) the board knows of */
    uint32_t version_floor; /* a placement made here is at least this (see set_version_floor) */
    unsigned char *listed;  /* per test: 1 while it has an entry in `pending` */
    s_member_t *members;    /* member_count of them, room for members_cap */
    bool *alive;            /* room for alive_cap */
    size_t members_cap, alive_cap;
    sched__heap_t victims; /* key: queued work per slot, -1 when dead */
    size_t counts[SCHED_TEST_STATE_COUNT];
    size_t *pending; /* each test once at most; may hold stale entries (the state decides) */
    size_t pending_count, pending_cap;
    double steal_latency;
};

static void
s_set(sched_board_t *self, size_t t, sched_test_state_t state, uint32_t owner)
{
    self->counts[self->state[t]]--;
    self->counts[state]++;
    self->state[t] = (unsigned char)state;
    self->owner[t] = owner;
}

static void
s_victim_key(sched_board_t *self, size_t m)
{
    s_member_t *mb = &self->members[m];
    if (mb->head == mb->tail)
        mb->queued_work = 0.0; /* no drift from many additions and removals */
    double key = self->alive[m] ? mb->queued_work / (double)mb->slots : -1.0;
    sched__heap_set(&self->victims, (uint32_t)m, key);
}

/* Lists a test that just became PENDING. A test is listed at most once, so
 * the list (test_count + 1 long) never overflows and this cannot fail. */
static void
s_pending_push(sched_board_t *self, size_t t)
{
    if (self->listed[t])
        return;
    assert(self->pending_count < self->pending_cap);
    self->listed[t] = 1;
    self->pending[self->pending_count++] = t;
}

/* Drops the entries of tests no longer pending; returns how many are left. */
static size_t
s_pending_compact(sched_board_t *self)
{
    size_t n = 0;
    for (size_t i = 0; i < self->pending_count; i++) {
        size_t t = self->pending[i];
        if (self->state[t] == SCHED_TEST_PENDING)
            self->pending[n++] = t;
        else
            self->listed[t] = 0;
    }
    self->pending_count = n;
    return n;
}

/* Member m became able to take work (new or revived): the tests it can run
 * that nobody could are pending again, for the next deal. */
static void
s_reconsider(sched_board_t *self, size_t m)
{
    const sched_suite_t *s = self->suite;
    if (!self->alive[m] || self->counts[SCHED_TEST_UNSCHEDULABLE] == 0)
        return;
    for (size_t t = 0; t < self->test_count; t++)
        if (self->state[t] == SCHED_TEST_UNSCHEDULABLE && s->reqs[s->tests[t].req].eligible[m]) {
            s_set(self, t, SCHED_TEST_PENDING, S_NOBODY);
            s_pending_push(self, t);
        }
}

/* Takes in the members the suite gained since the board last looked: alive
 * per the suite's flag, empty queues. -1 on out of memory (nothing taken in). */
static int
s_sync(sched_board_t *self)
{
    const sched_suite_t *s = self->suite;
    size_t from = self->member_count, to = s->member_count;
    if (to <= from)
        return 0;
    if (sched__grow((void **)&self->members, &self->members_cap, to + 1, sizeof(s_member_t)) != 0 ||
        sched__grow((void **)&self->alive, &self->alive_cap, to + 1, sizeof(bool)) != 0 ||
        sched__heap_grow(&self->victims, to) != 0)
        return -1;
    for (size_t m = from; m < to; m++) {
        memset(&self->members[m], 0, sizeof(s_member_t));
        self->members[m].slots = s->members[m].slots;
        self->alive[m] = s->members[m].alive;
    }
    self->member_count = to;
    for (size_t m = from; m < to; m++) {
        s_victim_key(self, m);
        s_reconsider(self, m);
    }
    return 0;
}

/* Whether member is a member of the board, taking in late ones first. */
static bool
s_know(sched_board_t *self, size_t member)
{
    return member < self->member_count || (member < self->suite->member_count && s_sync(self) == 0);
}

sched_board_t *
sched_board_new(const sched_suite_t *suite, sched_strategy_t strategy)
{
    sched_board_t *self = calloc(1, sizeof(*self));
    if (!self)
        return NULL;
    size_t nt = suite->test_count, nm = suite->member_count;
    self->suite = suite;
    self->strategy = strategy;
    self->test_count = nt;
    self->member_count = nm;
    self->steal_latency = 0.002;
    self->rank = sched__suite_ranks(suite);
    self->pred = malloc((nt + 1) * sizeof(double));
    self->state = malloc(nt + 1);
    self->owner = malloc((nt + 1) * sizeof(uint32_t));
    self->started = calloc(nt + 1, sizeof(double));
    self->avoid = malloc((nt + 1) * sizeof(uint32_t));
    self->version = calloc(nt + 1, sizeof(uint32_t));
    self->listed = malloc(nt + 1);
    self->members = calloc(nm + 1, sizeof(s_member_t));
    self->alive = calloc(nm + 1, sizeof(bool));
    self->members_cap = self->alive_cap = nm + 1;
    self->pending = malloc((nt + 1) * sizeof(size_t));
    self->pending_cap = nt + 1;
    if (!self->rank || !self->pred || !self->state || !self->owner || !self->started ||
        !self->avoid || !self->version || !self->listed || !self->members || !self->alive ||
        !self->pending || sched__heap_init(&self->victims, nm) != 0) {
        sched_board_destroy(&self);
        return NULL;
    }
    for (size_t t = 0; t < nt; t++) {
        self->pred[t] = suite->tests[t].predicted;
        self->state[t] = SCHED_TEST_PENDING;
        self->owner[t] = S_NOBODY;
        self->avoid[t] = S_NOBODY;
        self->listed[t] = 1;
        self->pending[t] = t;
    }
    self->pending_count = nt;
    self->counts[SCHED_TEST_PENDING] = nt;
    for (size_t m = 0; m < nm; m++) {
        self->members[m].slots = suite->members[m].slots;
        self->alive[m] = suite->members[m].alive;
        s_victim_key(self, m);
    }
    return self;
}

void
sched_board_destroy(sched_board_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    sched_board_t *self = *self_p;
    for (size_t m = 0; self->members && m < self->member_count; m++)
        free(self->members[m].q);
    free(self->rank);
    free(self->pred);
    free(self->state);
    free(self->owner);
    free(self->started);
    free(self->avoid);
    free(self->version);
    free(self->listed);
    free(self->members);
    free(self->alive);
    free(self->pending);
    sched__heap_free(&self->victims);
    free(self);
    *self_p = NULL;
}

void
sched_board_set_steal_latency(sched_board_t *self, double seconds)
{
    self->steal_latency = seconds > 0 ? seconds : 0.0;
}

/* Puts tests (in the order the strategy wants them) into member m's queue:
 * merged by rank, or appended for the file strategy (whose queues are in
 * file-group order). `merged` has room for the queue plus count; it becomes
 * the queue. Cannot fail. */
static void
s_enqueue_into(sched_board_t *self, size_t m, const size_t *tests, size_t count, size_t *merged)
{
    s_member_t *mb = &self->members[m];
    size_t have = mb->tail - mb->head;
    const size_t *a = mb->q ? mb->q + mb->head : NULL;
    const uint32_t *rank = self->strategy == SCHED_STRATEGY_FILE ? NULL : self->rank;
    size_t k = sched__queue_merge(a, have, tests, count, rank, merged);
    free(mb->q);
    mb->q = merged;
    mb->head = 0;
    mb->tail = k;
    mb->cap = k;
    for (size_t j = 0; j < count; j++) {
        s_set(self, tests[j], SCHED_TEST_QUEUED, (uint32_t)m);
        mb->queued_work += self->pred[tests[j]];
    }
    s_victim_key(self, m);
}

static size_t *
s_queue_room(const sched_board_t *self, size_t m, size_t count)
{
    const s_member_t *mb = &self->members[m];
    return malloc((mb->tail - mb->head + count + 1) * sizeof(size_t));
}

static int
s_enqueue(sched_board_t *self, size_t m, const size_t *tests, size_t count)
{
    size_t *merged = s_queue_room(self, m, count);
    if (!merged)
        return -1;
    s_enqueue_into(self, m, tests, count, merged);
    return 0;
}

/* A placement by this board: one version on, and at least its floor. */
static void
s_placed(sched_board_t *self, size_t test)
{
    uint32_t v = self->version[test] + 1;
    self->version[test] = v < self->version_floor ? self->version_floor : v;
}

/* Member m's predicted remaining running work at now (never negative). */
static double
s_running_left(const sched_board_t *self, size_t m, double now)
{
    const s_member_t *mb = &self->members[m];
    double left = mb->running_pred - ((double)mb->running * now - mb->running_start);
    return left > 0 ? left : 0.0;
}

/* Deals tests[0..count) (all pending) to the members with alive[m], on top of
 * what each already owns. The tests nobody can run become unschedulable when
 * `final`, else stay pending. Returns the number dealt; out of memory leaves
 * tests pending for the next deal. */
static size_t
s_deal_tests(sched_board_t *self, const size_t *tests, size_t count, const bool *alive, bool final)
{
    double *base = malloc((self->member_count + 1) * sizeof(double));
    if (!base)
        return 0;
    for (size_t m = 0; m < self->member_count; m++)
        base[m] = self->members[m].queued_work + self->members[m].running_pred;
    sched_plan_t *plan =
        sched__plan_build(self->suite, self->strategy, tests, count, self->rank, alive, base);
    free(base);
    if (!plan)
        return 0;
    size_t dealt = 0, n;
    for (size_t m = 0; m < self->member_count; m++) {
        const size_t *queue = sched_plan_queue(plan, m, &n);
        if (n == 0 || s_enqueue(self, m, queue, n) != 0)
            continue;
        for (size_t i = 0; i < n; i++)
            s_placed(self, queue[i]); /* a new placement */
        dealt += n;
    }
    const size_t *nobody = sched_plan_unschedulable(plan, &n);
    for (size_t i = 0; final && i < n; i++)
        s_set(self, nobody[i], SCHED_TEST_UNSCHEDULABLE, S_NOBODY);
    sched_plan_destroy(&plan);
    return dealt;
}

/* Retries that avoid an alive member go first, one group per avoided member,
 * dealt to everyone else alive. What nobody else can run stays pending for the
 * ordinary deal, where only the avoided member can take it. */
static size_t
s_deal_avoiding(sched_board_t *self)
{
    size_t k = 0, dealt = 0;
    for (size_t i = 0; i < self->pending_count; i++) {
        uint32_t a = self->avoid[self->pending[i]];
        k += a != S_NOBODY && self->alive[a];
    }
    if (k == 0)
        return 0;
    uint64_t *keys = malloc(k * sizeof(uint64_t));
    size_t *group = malloc(k * sizeof(size_t));
    bool *mask = malloc((self->member_count + 1) * sizeof(bool));
    if (!keys || !group || !mask)
        goto cleanup;
    k = 0;
    for (size_t i = 0; i < self->pending_count; i++) {
        size_t t = self->pending[i];
        uint32_t a = self->avoid[t];
        if (a != S_NOBODY && self->alive[a])
            keys[k++] = (uint64_t)a << 32 | (uint64_t)t; /* tests fit 32 bits (rank) */
    }
    qsort(keys, k, sizeof(uint64_t), sched__cmp_u64);
    memcpy(mask, self->alive, self->member_count * sizeof(bool));
    for (size_t i = 0; i < k;) {
        uint32_t a = (uint32_t)(keys[i] >> 32);
        size_t n = 0;
        for (; i < k && (uint32_t)(keys[i] >> 32) == a; i++)
            group[n++] = (size_t)(keys[i] & UINT32_MAX);
        mask[a] = false;
        dealt += s_deal_tests(self, group, n, mask, false);
        mask[a] = true;
    }
cleanup:
    free(keys);
    free(group);
    free(mask);
    return dealt;
}

size_t
sched_board_deal(sched_board_t *self)
{
    /* A plan covers every member of the suite: take late joiners in first. */
    if (s_sync(self) != 0 || s_pending_compact(self) == 0)
        return 0;
    size_t dealt = s_deal_avoiding(self);
    if (s_pending_compact(self) > 0)
        dealt += s_deal_tests(self, self->pending, self->pending_count, self->alive, true);
    s_pending_compact(self);
    return dealt;
}

int
sched_board_sync_members(sched_board_t *self)
{
    return s_sync(self);
}

static void
s_run(sched_board_t *self, size_t m, size_t t, double now)
{
    s_member_t *mb = &self->members[m];
    s_set(self, t, SCHED_TEST_RUNNING, (uint32_t)m);
    self->started[t] = now;
    mb->queued_work -= self->pred[t];
    mb->running++;
    mb->running_pred += self->pred[t];
    mb->running_start += now;
}

int
sched_board_next(sched_board_t *self, size_t member, double now, size_t *test_out)
{
    if (!s_know(self, member) || !self->alive[member])
        return -1;
    s_member_t *mb = &self->members[member];
    if (mb->head == mb->tail)
        return -1;
    size_t t = mb->q[mb->head++];
    s_run(self, member, t, now);
    s_victim_key(self, member);
    *test_out = t;
    return 0;
}

/* Removes test t from member m's queue wherever it is (O(queue)). */
static void
s_unqueue(sched_board_t *self, size_t m, size_t t)
{
    s_member_t *mb = &self->members[m];
    for (size_t i = mb->head; i < mb->tail; i++)
        if (mb->q[i] == t) {
            memmove(mb->q + i, mb->q + i + 1, (mb->tail - i - 1) * sizeof(size_t));
            mb->tail--;
            mb->queued_work -= self->pred[t];
            s_victim_key(self, m);
            return;
        }
}

/* Test t, queued at any member or owned by nobody, starts at member m. */
static void
s_start_at(sched_board_t *self, size_t m, size_t t, double now)
{
    if (self->state[t] == SCHED_TEST_QUEUED)
        s_unqueue(self, self->owner[t], t);
    self->members[m].queued_work += self->pred[t]; /* s_run takes it off again */
    s_run(self, m, t, now);
    s_victim_key(self, m);
}

int
sched_board_start(sched_board_t *self, size_t member, size_t test, double now)
{
    if (!s_know(self, member) || test >= self->test_count || !self->alive[member] ||
        self->state[test] != SCHED_TEST_QUEUED || self->owner[test] != member)
        return -1;
    s_member_t *mb = &self->members[member];
    if (mb->q[mb->head] == test) {
        size_t ignored;
        return sched_board_next(self, member, now, &ignored);
    }
    s_start_at(self, member, test, now);
    return 0;
}

static void
s_stop_running(sched_board_t *self, size_t t)
{
    s_member_t *mb = &self->members[self->owner[t]];
    mb->running--;
    mb->running_pred -= self->pred[t];
    mb->running_start -= self->started[t];
    if (mb->running == 0)
        mb->running_pred = mb->running_start = 0.0;
}

int
sched_board_finish(sched_board_t *self, size_t test, double now)
{
    (void)now;
    if (test >= self->test_count)
        return -1;
    switch (self->state[test]) {
        case SCHED_TEST_DONE:
            return 1;
        case SCHED_TEST_RUNNING:
            s_stop_running(self, test);
            break;
        case SCHED_TEST_QUEUED:
            /* A result for a test the board had queued (a late result from a
             * member declared dead, or a leader rebuilding its board). */
            s_unqueue(self, self->owner[test], test);
            break;
        default:
            break;
    }
    s_set(self, test, SCHED_TEST_DONE, S_NOBODY);
    return 0;
}

int
sched_board_adopt_done(sched_board_t *self, size_t test, double now)
{
    return sched_board_finish(self, test, now);
}

/* RUNNING, DONE or QUEUED -> PENDING, remembering which member the next deal
 * avoids. QUEUED: a member that holds its share reports a result (a failure
 * to retry, a test it could not run) before the board heard it started. */
static int
s_requeue(sched_board_t *self, size_t test, uint32_t avoid)
{
    if (test >= self->test_count)
        return -1;
    if (self->state[test] == SCHED_TEST_RUNNING)
        s_stop_running(self, test);
    else if (self->state[test] == SCHED_TEST_QUEUED)
        s_unqueue(self, self->owner[test], test);
    else if (self->state[test] != SCHED_TEST_DONE)
        return -1;
    s_set(self, test, SCHED_TEST_PENDING, S_NOBODY);
    s_pending_push(self, test);
    self->avoid[test] = avoid;
    return 0;
}

int
sched_board_requeue(sched_board_t *self, size_t test, double now)
{
    (void)now;
    return s_requeue(self, test, S_NOBODY);
}

int
sched_board_requeue_avoiding(sched_board_t *self, size_t test, size_t member, double now)
{
    (void)now;
    if (!s_know(self, member))
        return -1;
    return s_requeue(self, test, (uint32_t)member);
}

int
sched_board_adopt_running(sched_board_t *self, size_t member, size_t test, double now)
{
    if (test >= self->test_count || !s_know(self, member) || !self->alive[member])
        return -1;
    switch (self->state[test]) {
        case SCHED_TEST_DONE:
            return -1;
        case SCHED_TEST_RUNNING:
            /* The same report twice is fine; a second member claiming it is not. */
            return self->owner[test] == member ? 0 : -1;
        default:
            break;
    }
    s_start_at(self, member, test, now);
    return 0;
}

int
sched_board_member_back(sched_board_t *self, size_t member)
{
    if (!s_know(self, member) || self->alive[member])
        return -1;
    s_member_t *mb = &self->members[member];
    /* member_lost emptied it; it starts again like a new member. */
    assert(mb->head == mb->tail && mb->running == 0);
    mb->head = mb->tail = 0;
    self->alive[member] = true;
    s_victim_key(self, member);
    s_reconsider(self, member);
    return 0;
}

void
sched_steal_clear(sched_steal_t *steal)
{
    if (!steal)
        return;
    free(steal->tests);
    memset(steal, 0, sizeof(*steal));
}

/* Whether thief t may be handed test x (requirements, a retry's avoidance). */
static bool
s_thief_may_run(const sched_board_t *self, size_t x, size_t t)
{
    const sched_suite_t *s = self->suite;
    return s->reqs[s->tests[x].req].eligible[t] && self->avoid[x] != t;
}

/* Victim v's split for thief t (sched_steal_split on the board's copy of v's
 * queue): fills out, tests tail first. Only the tail the share can reach is
 * looked at. 0 with out filled, 1 when v has nothing worth giving, -1 on out
 * of memory. */
static int
s_split(const sched_board_t *self, size_t v, size_t t, const sched_steal_sides_t *sides,
        sched_steal_t *out)
{
    const s_member_t *mb = &self->members[v];
    double qv = mb->queued_work, want = sched_steal_share(sides, qv), reach = 0.0;
    size_t from = mb->tail;
    while (from > mb->head && reach < want) {
        size_t x = mb->q[--from];
        if (s_thief_may_run(self, x, t))
            reach += self->pred[x];
    }
    size_t n = mb->tail - from;
    double *pred = malloc((n + 1) * sizeof(double));
    bool *can = malloc((n + 1) * sizeof(bool));
    size_t *take = malloc((n + 1) * sizeof(size_t));
    int rc = -1;
    if (!pred || !can || !take)
        goto cleanup;
    for (size_t i = 0; i < n; i++) {
        size_t x = mb->q[from + i];
        pred[i] = self->pred[x];
        can[i] = s_thief_may_run(self, x, t);
    }
    out->count = sched__steal_take(pred, can, n, qv, sides, take, &out->work);
    rc = 1;
    if (out->count == 0)
        goto cleanup;
    for (size_t i = 0, j = out->count - 1; i < j; i++, j--) { /* tail first, as found */
        size_t x = take[i];
        take[i] = take[j];
        take[j] = x;
    }
    for (size_t i = 0; i < out->count; i++)
        take[i] = mb->q[from + take[i]];
    out->tests = take;
    out->victim = v;
    out->thief = t;
    take = NULL;
    rc = 0;
cleanup:
    free(pred);
    free(can);
    free(take);
    return rc;
}

int
sched_board_steal_decide(const sched_board_t *self, size_t thief, double now, sched_steal_t *out)
{
    memset(out, 0, sizeof(*out));
    if (thief >= self->member_count || !self->alive[thief])
        return -1;
    uint32_t candidates[S_VICTIM_CANDIDATES];
    size_t ncand = sched__heap_top(&self->victims, candidates, S_VICTIM_CANDIDATES);
    for (size_t c = 0; c < ncand; c++) {
        size_t v = candidates[c];
        if (self->victims.key[v] <= 0)
            break; /* the rest have nothing queued */
        if (v == thief)
            continue;
        sched_steal_sides_t sides = {self->members[v].slots, s_running_left(self, v, now),
                                     self->members[thief].slots, s_running_left(self, thief, now),
                                     self->steal_latency};
        int rc = s_split(self, v, thief, &sides, out);
        if (rc <= 0)
            return rc;
    }
    return -1;
}

/* Moves tests[0..n) from victim v's queue to thief t's: each is queued at v
 * and marked by owner == t (so the list has no duplicate). A dead thief died
 * holding them: they go back to pending and are dealt to the survivors.
 * -1 on out of memory, the marks undone and the board as it was. */
static int
s_move(sched_board_t *self, size_t v, size_t t, const size_t *tests, size_t n)
{
    size_t *moved = malloc(n * sizeof(size_t));
    size_t *room = self->alive[t] ? s_queue_room(self, t, n) : NULL;
    if (!moved || (self->alive[t] && !room)) {
        for (size_t i = 0; i < n; i++)
            self->owner[tests[i]] = (uint32_t)v;
        free(moved);
        free(room);
        return -1;
    }
    /* Compact the victim's queue from the tail, where stolen tests sit. */
    s_member_t *mb = &self->members[v];
    size_t r = mb->tail; /* reads go down from the tail... */
    size_t w = r;        /* ...and survivors are written back behind them */
    size_t found = 0;
    while (found < n) {
        size_t x = mb->q[--r];
        if (self->owner[x] == t)
            moved[found++] = x;
        else
            mb->q[--w] = x;
    }
    memmove(mb->q + r, mb->q + w, (mb->tail - w) * sizeof(size_t));
    mb->tail = r + (mb->tail - w);
    for (size_t i = 0; i < n; i++) {
        mb->queued_work -= self->pred[moved[i]];
        self->owner[moved[i]] = (uint32_t)v; /* s_enqueue moves it properly */
    }
    s_victim_key(self, v);
    if (!self->alive[t]) {
        for (size_t i = 0; i < n; i++) {
            s_set(self, moved[i], SCHED_TEST_PENDING, S_NOBODY);
            s_pending_push(self, moved[i]);
        }
        free(moved);
        sched_board_deal(self);
        return 0;
    }
    if (self->strategy != SCHED_STRATEGY_FILE)
        (void)sched__sort_by_rank(moved, n, self->rank, self->test_count);
    else /* back to queue order: they were collected tail first */
        for (size_t i = 0; i < n / 2; i++) {
            size_t x = moved[i];
            moved[i] = moved[n - 1 - i];
            moved[n - 1 - i] = x;
        }
    s_enqueue_into(self, t, moved, n, room);
    free(moved);
    return 0;
}

int
sched_board_steal_apply(sched_board_t *self, const sched_steal_t *steal)
{
    size_t v = steal->victim, t = steal->thief, n = steal->count;
    if (!s_know(self, v) || !s_know(self, t) || v == t || n == 0 || !self->alive[v] ||
        !self->alive[t])
        return -1;
    for (size_t i = 0; i < n; i++) {
        size_t x = steal->tests[i];
        if (x >= self->test_count || self->state[x] != SCHED_TEST_QUEUED || self->owner[x] != v ||
            !s_thief_may_run(self, x, t))
            return -1;
    }
    /* Mark by owner = thief; a duplicate in the list finds its mark and fails. */
    for (size_t i = 0; i < n; i++) {
        if (self->owner[steal->tests[i]] != v) {
            for (size_t j = 0; j < i; j++)
                self->owner[steal->tests[j]] = (uint32_t)v;
            return -1;
        }
        self->owner[steal->tests[i]] = (uint32_t)t;
    }
    if (s_move(self, v, t, steal->tests, n) != 0)
        return -1;
    for (size_t i = 0; i < n; i++)
        s_placed(self, steal->tests[i]);
    return 0;
}

static int
s_count(size_t n)
{
    return n > INT32_MAX ? INT32_MAX : (int)n;
}

/* A test a report places at a member: where it is now and its news. */
typedef struct {
    size_t test;
    uint32_t from;    /* its owner on the board, S_NOBODY while pending */
    uint32_t version; /* as reported */
    uint32_t old;     /* the board's, to undo */
} s_placed_t;

static int
s_placed_cmp(const void *a, const void *b)
{
    const s_placed_t *x = a, *y = b;
    /* Pending ones first (S_NOBODY + 1 wraps to 0): for a dead member, the
     * deal that places a moved group deals every pending test. */
    uint32_t fx = x->from + 1, fy = y->from + 1;
    if (fx != fy)
        return fx < fy ? -1 : 1;
    return x->test < y->test ? -1 : x->test > y->test;
}

/* Queues pending tests[0..n) (marked owner == m) at member m, or deals them
 * if m is dead. -1 on out of memory, the marks left for the caller. */
static int
s_place_pending(sched_board_t *self, size_t m, size_t *tests, size_t n)
{
    size_t *room = self->alive[m] ? s_queue_room(self, m, n) : NULL;
    if (self->alive[m] && !room)
        return -1;
    for (size_t i = 0; i < n; i++)
        self->owner[tests[i]] = S_NOBODY;
    if (!self->alive[m]) {
        sched_board_deal(self);
        return 0;
    }
    if (self->strategy != SCHED_STRATEGY_FILE)
        (void)sched__sort_by_rank(tests, n, self->rank, self->test_count);
    s_enqueue_into(self, m, tests, n, room);
    return 0;
}

/* Picks out of tests[0..count) those the news moves to member m: pending
 * ones, and ones queued at another member whose reported version is newer;
 * each is marked by owner = m, so a duplicate is passed over. One queued at m
 * already takes the newer version. Returns how many, sorted by where they are. */
static size_t
s_news(sched_board_t *self, size_t m, const size_t *tests, const uint32_t *versions, size_t count,
       s_placed_t *placed)
{
    size_t k = 0;
    for (size_t i = 0; i < count; i++) {
        size_t x = tests[i];
        uint32_t v = versions ? versions[i] : 0;
        if (x >= self->test_count)
            continue;
        bool queued = self->state[x] == SCHED_TEST_QUEUED;
        bool pending = self->state[x] == SCHED_TEST_PENDING && self->owner[x] == S_NOBODY;
        if (queued && self->owner[x] == m) {
            if (v > self->version[x])
                self->version[x] = v;
        } else if (pending || (queued && v > self->version[x])) {
            placed[k++] = (s_placed_t){x, self->owner[x], v, self->version[x]};
            self->owner[x] = (uint32_t)m;
        }
    }
    qsort(placed, k, sizeof(s_placed_t), s_placed_cmp);
    return k;
}

/* Member m holds tests[i] at versions[i] (NULL: all 0), as a steal's report
 * or a new leader's question says (see sched_board_moved). Fills moved_out
 * (may be NULL) with the tests placed; returns how many; -1 on out of memory
 * (what was placed stays placed; the rest keep their place and version). */
static int
s_take_in(sched_board_t *self, size_t m, const size_t *tests, const uint32_t *versions,
          size_t count, size_t *moved_out)
{
    s_placed_t *placed = malloc((count + 1) * sizeof(s_placed_t));
    size_t *group = malloc((count + 1) * sizeof(size_t));
    size_t k = 0, n = 0, i = 0;
    int rc = -1;
    if (!placed || !group)
        goto cleanup;
    k = s_news(self, m, tests, versions, count, placed);
    while (i < k) {
        size_t from = i, gn = 0;
        for (; i < k && placed[i].from == placed[from].from; i++) {
            group[gn++] = placed[i].test;
            /* Before a dead member's tests are dealt, which counts on. */
            if (placed[i].version > self->version[placed[i].test])
                self->version[placed[i].test] = placed[i].version;
        }
        int r = placed[from].from == S_NOBODY ? s_place_pending(self, m, group, gn)
                                              : s_move(self, placed[from].from, m, group, gn);
        if (r != 0) {
            for (size_t j = from; j < k; j++) {
                self->owner[placed[j].test] = placed[j].from;
                self->version[placed[j].test] = placed[j].old;
            }
            goto cleanup;
        }
        if (moved_out)
            memcpy(moved_out + n, group, gn * sizeof(size_t));
        n += gn;
    }
    rc = s_count(n);
cleanup:
    free(placed);
    free(group);
    return rc;
}

int
sched_board_moved(sched_board_t *self, size_t victim, size_t thief, const size_t *tests,
                  const uint32_t *versions, size_t count, size_t *moved_out)
{
    if (!s_know(self, victim) || !s_know(self, thief) || victim == thief || !versions)
        return -1;
    return s_take_in(self, thief, tests, versions, count, moved_out);
}

int
sched_board_adopt_queued(sched_board_t *self, size_t member, const size_t *tests,
                         const uint32_t *versions, size_t count, double now)
{
    (void)now;
    if (!s_know(self, member) || !self->alive[member])
        return -1;
    return s_take_in(self, member, tests, versions, count, NULL);
}

void
sched_board_set_version_floor(sched_board_t *self, uint32_t floor)
{
    self->version_floor = floor;
}

uint32_t
sched_board_version(const sched_board_t *self, size_t test)
{
    return test < self->test_count ? self->version[test] : 0;
}

int
sched_board_member_lost(sched_board_t *self, size_t member, double now)
{
    (void)now;
    if (!s_know(self, member) || !self->alive[member])
        return -1;
    s_member_t *mb = &self->members[member];
    size_t lost = 0;
    self->alive[member] = false;
    for (size_t i = mb->head; i < mb->tail; i++) {
        s_set(self, mb->q[i], SCHED_TEST_PENDING, S_NOBODY);
        s_pending_push(self, mb->q[i]);
        lost++;
    }
    mb->head = mb->tail = 0;
    mb->queued_work = 0.0;
    if (mb->running > 0)
        for (size_t t = 0; t < self->test_count; t++)
            if (self->state[t] == SCHED_TEST_RUNNING && self->owner[t] == member) {
                s_stop_running(self, t);
                s_set(self, t, SCHED_TEST_PENDING, S_NOBODY);
                s_pending_push(self, t);
                lost++;
            }
    s_victim_key(self, member);
    sched_board_deal(self);
    return s_count(lost);
}

size_t
sched_board_skip_over_budget(sched_board_t *self, double now, double deadline)
{
    size_t skipped = 0;
    /* Each alive member's slots free at now, or when a running test is
     * predicted to end; its queue is then list-scheduled in order. */
    double **free_at = calloc(self->member_count + 1, sizeof(double *));
    size_t *filled = calloc(self->member_count + 1, sizeof(size_t));
    if (!free_at || !filled)
        goto cleanup;
    for (size_t m = 0; m < self->member_count; m++) {
        if (!(free_at[m] = malloc(self->members[m].slots * sizeof(double))))
            goto cleanup;
        for (unsigned k = 0; k < self->members[m].slots; k++)
            free_at[m][k] = now;
    }
    for (size_t t = 0; t < self->test_count; t++)
        if (self->state[t] == SCHED_TEST_RUNNING) {
            size_t m = self->owner[t];
            double end = self->started[t] + self->pred[t];
            if (filled[m] < self->members[m].slots)
                free_at[m][filled[m]++] = end > now ? end : now;
        }
    for (size_t m = 0; m < self->member_count; m++) {
        s_member_t *mb = &self->members[m];
        size_t w = mb->head;
        for (size_t i = mb->head; i < mb->tail; i++) {
            size_t t = mb->q[i];
            if (now < deadline &&
                sched__slots_fit(free_at[m], mb->slots, self->pred[t], deadline)) {
                mb->q[w++] = t;
                continue;
            }
            mb->queued_work -= self->pred[t];
            s_set(self, t, SCHED_TEST_SKIPPED, S_NOBODY);
            skipped++;
        }
        mb->tail = w;
        s_victim_key(self, m);
    }
cleanup:
    for (size_t m = 0; free_at && m < self->member_count; m++)
        free(free_at[m]);
    free(free_at);
    free(filled);
    return skipped;
}

size_t
sched_board_next_batch(sched_board_t *self, size_t member, double now, double target,
                       size_t max_count, size_t *out, size_t cap)
{
    if (!s_know(self, member) || !self->alive[member] ||
        self->members[member].head == self->members[member].tail)
        return 0;
    s_member_t *mb = &self->members[member];
    if (max_count > cap)
        max_count = cap;
    size_t n =
        sched__batch_queue(self->suite, mb->q + mb->head, mb->tail - mb->head, target, max_count);
    for (size_t i = 0; i < n; i++)
        (void)sched_board_next(self, member, now, &out[i]);
    return n;
}

sched_test_state_t
sched_board_test_state(const sched_board_t *self, size_t test, size_t *member_out)
{
    if (test >= self->test_count)
        return SCHED_TEST_STATE_COUNT;
    if (member_out)
        *member_out = self->owner[test] == S_NOBODY ? SIZE_MAX : self->owner[test];
    return (sched_test_state_t)self->state[test];
}

size_t
sched_board_count(const sched_board_t *self, sched_test_state_t state)
{
    return state < SCHED_TEST_STATE_COUNT ? self->counts[state] : 0;
}

const size_t *
sched_board_queue(const sched_board_t *self, size_t member, size_t *count_out)
{
    if (member >= self->member_count || !self->members[member].q) {
        *count_out = 0;
        return NULL;
    }
    const s_member_t *mb = &self->members[member];
    *count_out = mb->tail - mb->head;
    return mb->q + mb->head;
}

double
sched_board_queued_work(const sched_board_t *self, size_t member)
{
    return member < self->member_count ? self->members[member].queued_work : 0.0;
}

double
sched_board_running_work(const sched_board_t *self, size_t member, double now)
{
    return member < self->member_count ? s_running_left(self, member, now) : 0.0;
}

size_t
sched_board_running(const sched_board_t *self, size_t member)
{
    return member < self->member_count ? self->members[member].running : 0;
}

size_t
sched_board_running_list(const sched_board_t *self, size_t member, size_t *out, size_t cap)
{
    if (member >= self->member_count)
        return 0;
    size_t n = 0, want = self->members[member].running;
    for (size_t t = 0; t < self->test_count && n < want; t++)
        if (self->state[t] == SCHED_TEST_RUNNING && self->owner[t] == member) {
            if (n < cap)
                out[n] = t;
            n++;
        }
    return n;
}

size_t
sched_board_member_count(const sched_board_t *self)
{
    return self->member_count;
}

bool
sched_board_member_alive(const sched_board_t *self, size_t member)
{
    return member < self->member_count && self->alive[member];
}

bool
sched_board_finished(const sched_board_t *self)
{
    return self->counts[SCHED_TEST_PENDING] == 0 && self->counts[SCHED_TEST_QUEUED] == 0 &&
           self->counts[SCHED_TEST_RUNNING] == 0;
}

int
sched_board_check(const sched_board_t *self)
{
    size_t counts[SCHED_TEST_STATE_COUNT] = {0};
    unsigned char *seen = calloc(self->test_count + 1, 1);
    size_t *running = calloc(self->member_count + 1, sizeof(size_t));
    int rc = -1;
    if (!seen || !running)
        goto cleanup;
    for (size_t t = 0; t < self->test_count; t++) {
        unsigned char st = self->state[t];
        if (st >= SCHED_TEST_STATE_COUNT)
            goto cleanup;
        counts[st]++;
        bool owned = st == SCHED_TEST_QUEUED || st == SCHED_TEST_RUNNING;
        if (owned != (self->owner[t] < self->member_count))
            goto cleanup;
        if (owned && !self->alive[self->owner[t]])
            goto cleanup;
        if (st == SCHED_TEST_RUNNING)
            running[self->owner[t]]++;
    }
    for (size_t s = 0; s < SCHED_TEST_STATE_COUNT; s++)
        if (counts[s] != self->counts[s])
            goto cleanup;
    size_t queued = 0;
    for (size_t m = 0; m < self->member_count; m++) {
        const s_member_t *mb = &self->members[m];
        if (running[m] != mb->running)
            goto cleanup;
        for (size_t i = mb->head; i < mb->tail; i++) {
            size_t t = mb->q[i];
            if (t >= self->test_count || seen[t] || self->state[t] != SCHED_TEST_QUEUED ||
                self->owner[t] != m)
                goto cleanup;
            seen[t] = 1;
            queued++;
        }
    }
    if (queued != counts[SCHED_TEST_QUEUED] || self->member_count > self->suite->member_count)
        goto cleanup;
    /* The pending list names each listed test once, and every pending test. */
    for (size_t i = 0; i < self->pending_count; i++) {
        size_t t = self->pending[i];
        if (t >= self->test_count || !self->listed[t] || (seen[t] & 2))
            goto cleanup;
        seen[t] |= 2;
    }
    for (size_t t = 0; t < self->test_count; t++)
        if (self->listed[t] != ((seen[t] & 2) != 0) ||
            (self->state[t] == SCHED_TEST_PENDING && !self->listed[t]))
            goto cleanup;
    rc = 0;
cleanup:
    free(seen);
    free(running);
    return rc;
}
