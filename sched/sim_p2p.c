/* sched/sim_p2p.c: the simulator's peer-to-peer mode. Each member holds its own
 * queue (what the leader dealt it, merged with what it stole) and runs it,
 * telling the board of each start. Every progress period all members announce
 * their loads; a member that runs dry asks a peer sched_steal_pick draws from
 * those figures (in proportion to their work, so the dry ones spread out); the victim answers with
 * sched_steal_split of its queue as it is when the ask arrives; victim and thief each report the
 * move to the leader, whose board applies it (sched_board_moved). A steal's life:
 *
 *   thief dry --s_ask--> ASK (1 hop) --s_on_ask: split--> ANSWER no --> s_ask the next
 *                                            \--> ANSWER tests (1 hop) --s_on_answer--> thief's
 *                                             |     queue; REPORT from the thief (1 hop)
 *                                             \--> REPORT from the victim (1 hop)
 *   REPORT --s_on_report--> sched_board_moved (the second one moves nothing)
 *
 * Invariant: a test is in at most one place among the members' queues, their
 * running slots and the parcels on their way; once every report is in, the
 * board agrees with the members (the run ends with every test done on it).
 */
#include "sched/sim_internal.h"

#include <stdlib.h>
#include <string.h>

#define S_BATCH_CAP 256

static double
s_running_left(const sched__sim_node_t *node, double now)
{
    double left = node->running_pred - ((double)node->running * now - node->running_start);
    return left > 0 ? left : 0.0;
}

static double
s_pred(const sched_sim_t *self, size_t test)
{
    return self->suite->tests[test].predicted;
}

/* Member m takes tests[0..n) (any order; sorted in place) into its queue, in
 * run order. A dead member holds nothing. -1 on out of memory. */
static int
s_hold(sched_sim_t *self, size_t m, size_t *tests, size_t n)
{
    sched__sim_node_t *node = &self->nodes[m];
    if (!node->alive || n == 0)
        return 0;
    size_t have = node->tail - node->head;
    size_t *merged = malloc((have + n) * sizeof(size_t));
    if (!merged)
        return -1;
    if (self->rank)
        (void)sched__sort_by_rank(tests, n, self->rank, self->test_count);
    sched__queue_merge(node->q ? node->q + node->head : NULL, have, tests, n, self->rank, merged);
    free(node->q);
    node->q = merged;
    node->head = 0;
    node->tail = node->cap = have + n;
    for (size_t i = 0; i < n; i++)
        node->queued += s_pred(self, tests[i]);
    return 0;
}

/* The leader tells each member what its board now queues there of tests[0..n)
 * (just re-dealt): grouped by member, so each queue is merged once. */
static void
s_deliver(sched_sim_t *self, const size_t *tests, size_t n)
{
    uint64_t *keys = malloc((n + 1) * sizeof(uint64_t));
    size_t *group = malloc((n + 1) * sizeof(size_t));
    size_t k = 0, owner;
    if (!keys || !group) {
        self->broken = true;
        goto cleanup;
    }
    for (size_t i = 0; i < n; i++)
        if (sched_board_test_state(self->board, tests[i], &owner) == SCHED_TEST_QUEUED)
            keys[k++] = (uint64_t)owner << 32 | (uint64_t)tests[i];
    qsort(keys, k, sizeof(uint64_t), sched__cmp_u64);
    for (size_t i = 0; i < k;) {
        size_t m = (size_t)(keys[i] >> 32), count = 0;
        for (; i < k && (size_t)(keys[i] >> 32) == m; i++) {
            group[count] = (size_t)(keys[i] & UINT32_MAX);
            self->version[group[count]] = sched_board_version(self->board, group[count]);
            count++;
        }
        if (s_hold(self, m, group, count) != 0)
            self->broken = true;
    }
cleanup:
    free(keys);
    free(group);
}

/* Announces every living member's load; a new round of asks begins. */
static void
s_publish(sched_sim_t *self, double now)
{
    bool any = false;
    for (size_t m = 0; m < self->cfg.nodes; m++) {
        sched__sim_node_t *node = &self->nodes[m];
        node->asked_count = 0;
        if (node->alive) /* a dead member's last words linger until it is declared */
            self->loads[m] =
                (sched_peer_load_t){node->queued, s_running_left(node, now), self->cfg.slots, true};
        any = any || (self->loads[m].alive && self->loads[m].queued > 0);
    }
    for (size_t m = 0; any && m < self->cfg.nodes; m++) {
        const sched__sim_node_t *node = &self->nodes[m];
        if (node->alive && node->free_slots > 0 && node->head == node->tail)
            sched__sim_p2p_fill(self, m, now);
    }
}

int
sched__sim_p2p_begin(sched_sim_t *self)
{
    size_t nt = self->test_count, nm = self->cfg.nodes;
    if (self->cfg.strategy != SCHED_STRATEGY_FILE &&
        !(self->rank = sched__suite_ranks(self->suite)))
        return -1;
    self->started = calloc(nt + 1, sizeof(double));
    self->version = calloc(nt + 1, sizeof(uint32_t));
    self->loads = calloc(nm, sizeof(sched_peer_load_t));
    if (!self->started || !self->version || !self->loads)
        return -1;
    for (size_t t = 0; t < nt; t++)
        self->version[t] = sched_board_version(self->board, t);
    sched_rng_seed(&self->rng, self->cfg.seed ^ 0x7032705354454131ULL);
    for (size_t m = 0; m < nm; m++) {
        size_t n;
        const size_t *q = sched_board_queue(self->board, m, &n);
        sched__sim_node_t *node = &self->nodes[m];
        if (!(node->q = malloc((n + 1) * sizeof(size_t))))
            return -1;
        if (n)
            memcpy(node->q, q, n * sizeof(size_t));
        node->tail = node->cap = n;
        for (size_t i = 0; i < n; i++)
            node->queued += s_pred(self, q[i]);
    }
    s_publish(self, 0.0);
    return sched__sim_push(self, self->cfg.progress_period, SCHED__EV_PUBLISH, 0, 0);
}

/* Member m starts test x (off its queue) and tells the leader. */
static void
s_start(sched_sim_t *self, size_t m, size_t x, double now)
{
    sched__sim_node_t *node = &self->nodes[m];
    double p = s_pred(self, x);
    node->queued = node->head == node->tail ? 0.0 : node->queued - p;
    node->running++;
    node->running_pred += p;
    node->running_start += now;
    self->started[x] = now;
    /* Usually the head of the board's copy of its queue; a test stolen
     * before the board heard of the steal is still queued at the victim. */
    if (sched_board_start(self->board, m, x, now) != 0 &&
        sched_board_adopt_running(self->board, m, x, now) != 0)
        self->broken = true;
}

void
sched__sim_p2p_ended(sched_sim_t *self, size_t m, size_t test)
{
    sched__sim_node_t *node = &self->nodes[m];
    node->running--;
    node->running_pred -= s_pred(self, test);
    node->running_start -= self->started[test];
    if (node->running == 0)
        node->running_pred = node->running_start = 0.0;
}

/* Thief m asks the best peer it has not asked this round, if any is worth it. */
static void
s_ask(sched_sim_t *self, size_t m, double now)
{
    sched__sim_node_t *node = &self->nodes[m];
    double hop = self->cfg.hop_latency, rt = s_running_left(node, now);
    size_t v;
    if (node->asked_count >= SCHED__SIM_ASKS ||
        sched_steal_pick(self->loads, self->cfg.nodes, m, rt, 2 * hop, node->asked,
                         node->asked_count, &self->rng, &v) != 0)
        return; /* the next round's figures may show someone */
    node->asked[node->asked_count++] = v;
    node->steal_pending = true;
    node->ask_running = rt;
    self->res->asks++;
    sched__sim_push(self, now + hop, SCHED__EV_ASK, (uint32_t)v, m);
}

void
sched__sim_p2p_fill(sched_sim_t *self, size_t m, double now)
{
    sched__sim_node_t *node = &self->nodes[m];
    const sched_sim_config_t *c = &self->cfg;
    size_t batch[S_BATCH_CAP];
    if (!node->alive)
        return;
    while (node->free_slots > 0 && node->head < node->tail) {
        size_t n = 1;
        if (c->batch_target > 0)
            n = sched__batch_queue(self->suite, node->q + node->head, node->tail - node->head,
                                   c->batch_target, c->batch_max);
        for (size_t i = 0; i < n; i++) {
            batch[i] = node->q[node->head++];
            s_start(self, m, batch[i], now);
        }
        sched__sim_run_batch(self, m, batch, n, now);
    }
    if (c->steal && !self->over_budget && node->free_slots > 0 && node->head == node->tail &&
        !node->steal_pending)
        s_ask(self, m, now);
}

/* Victim v splits its queue for thief t: the parcel's index + 1, 0 for no. */
static uint64_t
s_split(sched_sim_t *self, size_t v, size_t t, double now)
{
    sched__sim_node_t *victim = &self->nodes[v];
    size_t have = victim->tail - victim->head, n = 0;
    const size_t *q = victim->q + victim->head;
    double *pred = malloc((have + 1) * sizeof(double));
    bool *can = malloc((have + 1) * sizeof(bool));
    size_t *take = malloc((have + 1) * sizeof(size_t));
    double work = 0.0;
    if (pred && can && take) {
        for (size_t i = 0; i < have; i++) {
            pred[i] = s_pred(self, q[i]);
            can[i] = sched_suite_can_run(self->suite, q[i], t);
        }
        sched_steal_sides_t sides = {self->cfg.slots, s_running_left(victim, now), self->cfg.slots,
                                     self->nodes[t].ask_running, 2 * self->cfg.hop_latency};
        n = sched_steal_split(pred, can, have, &sides, take, &work);
    }
    sched__sim_parcel_t *parcel = NULL;
    if (n > 0 && sched__grow((void **)&self->parcels, &self->parcel_cap, self->parcel_count + 1,
                             sizeof(sched__sim_parcel_t)) == 0) {
        parcel = &self->parcels[self->parcel_count];
        *parcel = (sched__sim_parcel_t){(uint32_t)v,
                                        (uint32_t)t,
                                        malloc(n * sizeof(size_t)),
                                        malloc(n * sizeof(uint32_t)),
                                        n,
                                        2};
    }
    uint64_t id = 0;
    if (parcel && parcel->tests && parcel->versions) {
        /* Out of the victim's queue: the taken positions, ascending. */
        size_t w = 0, k = 0;
        for (size_t i = 0; i < have; i++) {
            if (k < n && take[k] == i) {
                parcel->versions[k] = ++self->version[q[i]]; /* handed on */
                parcel->tests[k++] = q[i];
            } else
                victim->q[victim->head + w++] = q[i];
        }
        victim->tail = victim->head + w;
        victim->queued = w ? victim->queued - work : 0.0;
        id = ++self->parcel_count;
        self->res->steals++;
        self->res->stolen_tests += n;
        sched__sim_push(self, now + self->cfg.hop_latency, SCHED__EV_REPORT, (uint32_t)v, id - 1);
    } else if (n > 0) {
        self->broken = true; /* out of memory: nothing moved */
        if (parcel) {
            free(parcel->tests);
            free(parcel->versions);
        }
    }
    free(pred);
    free(can);
    free(take);
    return id;
}

static void
s_release(sched__sim_parcel_t *parcel)
{
    if (--parcel->refs == 0) {
        free(parcel->tests);
        free(parcel->versions);
        parcel->tests = NULL;
        parcel->versions = NULL;
    }
}

static void
s_on_answer(sched_sim_t *self, size_t t, uint64_t id, double now)
{
    sched__sim_node_t *node = &self->nodes[t];
    node->steal_pending = false;
    if (id == 0) {
        self->res->refusals++;
        sched__sim_p2p_fill(self, t, now); /* asks the next */
        return;
    }
    sched__sim_parcel_t *parcel = &self->parcels[id - 1];
    if (!node->alive) {
        s_release(parcel); /* lost with the thief; the victim's report re-deals it */
        return;
    }
    if (!self->over_budget && s_hold(self, t, parcel->tests, parcel->count) != 0)
        self->broken = true;
    sched__sim_push(self, now + self->cfg.hop_latency, SCHED__EV_REPORT, (uint32_t)t, id - 1);
    sched__sim_p2p_fill(self, t, now);
}

static void
s_on_report(sched_sim_t *self, size_t id)
{
    sched__sim_parcel_t *parcel = &self->parcels[id];
    bool deals = !sched_board_member_alive(self->board, parcel->thief);
    size_t *moved = deals ? malloc((parcel->count + 1) * sizeof(size_t)) : NULL;
    int n = deals && !moved
                ? -1
                : sched_board_moved(self->board, parcel->victim, parcel->thief, parcel->tests,
                                    parcel->versions, parcel->count, moved);
    if (n < 0)
        self->broken = true;
    else if (deals) /* the thief was declared dead: what moved went to others */
        s_deliver(self, moved, (size_t)n);
    free(moved);
    s_release(parcel);
}

void
sched__sim_p2p_kill(sched_sim_t *self, size_t m, double now)
{
    sched__sim_node_t *node = &self->nodes[m];
    node->alive = false;
    node->died_at = now;
    free(node->q);
    node->q = NULL;
    node->head = node->tail = node->cap = 0;
    node->queued = 0.0;
    /* Gossip notices after the reports its peers had in flight are in. */
    double hop3 = 3 * self->cfg.hop_latency, period = self->cfg.progress_period;
    sched__sim_push(self, now + (period > hop3 ? period : hop3), SCHED__EV_DECLARE, (uint32_t)m, 0);
}

static void
s_on_declare(sched_sim_t *self, size_t m, double now)
{
    size_t nq, nr = sched_board_running(self->board, m);
    const size_t *q = sched_board_queue(self->board, m, &nq);
    size_t *held = malloc((nq + nr + 1) * sizeof(size_t));
    if (!held) {
        self->broken = true;
        return;
    }
    if (nq)
        memcpy(held, q, nq * sizeof(size_t));
    sched_board_running_list(self->board, m, held + nq, nr);
    int n = sched_board_member_lost(self->board, m, now);
    if (n > 0)
        self->res->redealt += (size_t)n;
    self->loads[m].alive = false;
    s_deliver(self, held, nq + nr);
    free(held);
    for (size_t k = 0; k < self->cfg.nodes; k++)
        sched__sim_p2p_fill(self, k, now);
}

void
sched__sim_p2p_budget(sched_sim_t *self)
{
    self->over_budget = true;
    for (size_t m = 0; m < self->cfg.nodes; m++) {
        self->nodes[m].head = self->nodes[m].tail;
        self->nodes[m].queued = 0.0;
    }
}

void
sched__sim_p2p_dispatch(sched_sim_t *self, const sched__sim_event_t *ev)
{
    switch (ev->kind) {
        case SCHED__EV_PUBLISH:
            s_publish(self, ev->time);
            if (self->events.count > 0) /* else nothing runs or travels: the end */
                sched__sim_push(self, ev->time + self->cfg.progress_period, SCHED__EV_PUBLISH, 0,
                                0);
            break;
        case SCHED__EV_ASK: {
            size_t v = ev->member, t = (size_t)ev->arg;
            uint64_t id =
                self->nodes[v].alive && !self->over_budget ? s_split(self, v, t, ev->time) : 0;
            sched__sim_push(self, ev->time + self->cfg.hop_latency, SCHED__EV_ANSWER, (uint32_t)t,
                            id);
            break;
        }
        case SCHED__EV_ANSWER:
            s_on_answer(self, ev->member, ev->arg, ev->time);
            break;
        case SCHED__EV_REPORT:
            s_on_report(self, (size_t)ev->arg);
            break;
        case SCHED__EV_DECLARE:
            s_on_declare(self, ev->member, ev->time);
            break;
        default:
            break;
    }
}

void
sched__sim_p2p_free(sched_sim_t *self)
{
    for (size_t i = 0; i < self->parcel_count; i++) {
        free(self->parcels[i].tests);
        free(self->parcels[i].versions);
    }
    for (size_t m = 0; self->nodes && m < self->cfg.nodes; m++)
        free(self->nodes[m].q);
    free(self->parcels);
    free(self->rank);
    free(self->started);
    free(self->version);
    free(self->loads);
}
