/* sched/sim.c: a discrete-event simulator of one session, driving the real
 * sched_board_t (plans, starts, results, steals, deaths, budget) so that what
 * it measures is the code the leader runs. Members have slots; a free slot
 * takes the head of its member's queue (or a batch). In the central mode (the
 * default, as node/ runs today) queues live on the leader's board and a member
 * whose queue is empty asks the leader, which decides and applies a steal at
 * once; the tests reach the thief after the steal latency. The peer-to-peer
 * mode (cfg.p2p) is sim_p2p.c.
 * Invariants: events run in (time, sequence) order, so a seed gives one
 * result; events of a dead member are dropped; the board is checked at the end.
 */
#include "sched/sim_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_RETRY_FIRST 0.01 /* seconds before an idle member asks again */
#define S_RETRY_MAX 1.0
#define S_BATCH_CAP 256

void
sched_sim_config_init(sched_sim_config_t *c)
{
    memset(c, 0, sizeof(*c));
    c->nodes = 4;
    c->slots = 2;
    c->tests = 1000;
    c->dist = SCHED_SIM_LOGNORMAL;
    c->sigma = 1.0;
    c->mean = 0.5;
    c->giant_factor = 200.0;
    c->tests_per_file = 20;
    c->predict = SCHED_SIM_PREDICT_EXACT;
    c->strategy = SCHED_STRATEGY_LPT;
    c->steal = true;
    c->dispatch_latency = 0.001;
    c->steal_latency = 0.002;
    c->hop_latency = 0.002;
    c->progress_period = 0.05;
    c->batch_max = 64;
    c->seed = 1;
}

static bool
s_before(const sched__sim_event_t *a, const sched__sim_event_t *b)
{
    return a->time != b->time ? a->time < b->time : a->seq < b->seq;
}

int
sched__sim_push(sched_sim_t *self, double time, uint32_t kind, uint32_t member, uint64_t arg)
{
    sched__sim_events_t *h = &self->events;
    if (sched__grow((void **)&h->items, &h->cap, h->count + 1, sizeof(sched__sim_event_t)) != 0)
        return -1;
    sched__sim_event_t ev = {time, h->seq++, arg, kind, member};
    size_t i = h->count++;
    while (i > 0 && s_before(&ev, &h->items[(i - 1) / 2])) {
        h->items[i] = h->items[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    h->items[i] = ev;
    return 0;
}

static sched__sim_event_t
s_pop(sched_sim_t *self)
{
    sched__sim_events_t *h = &self->events;
    sched__sim_event_t top = h->items[0], last = h->items[--h->count];
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= h->count)
            break;
        if (c + 1 < h->count && s_before(&h->items[c + 1], &h->items[c]))
            c++;
        if (!s_before(&h->items[c], &last))
            break;
        h->items[i] = h->items[c];
        i = c;
    }
    if (h->count > 0)
        h->items[i] = last;
    return top;
}

static const char *
s_check_config(const sched_sim_config_t *c)
{
    if (c->nodes == 0 || c->nodes > 100000)
        return "nodes must be 1..100000";
    if (c->slots == 0 || c->slots > 1024)
        return "slots must be 1..1024";
    if (c->dist == SCHED_SIM_LIST ? c->count == 0 || !c->durations : c->tests == 0)
        return "there must be at least one test";
    if (c->tests + c->giants > 50000000)
        return "at most 50,000,000 tests";
    if (!(c->sigma >= 0 && c->sigma <= 4))
        return "sigma must be 0..4";
    if (!(c->mean > 0))
        return "mean must be > 0";
    if (!(c->error >= 0 && c->error < 1))
        return "prediction error must be in [0, 1)";
    if (!(c->dispatch_latency >= 0 && c->steal_latency >= 0 && c->startup >= 0 &&
          c->batch_target >= 0 && c->budget >= 0 && c->hop_latency >= 0))
        return "latencies, start-up, batch target and budget must be >= 0";
    if (c->p2p && !(c->progress_period > 0))
        return "the progress period must be > 0";
    if (!(c->failed_fraction >= 0 && c->failed_fraction <= 1 && c->tagged_fraction >= 0 &&
          c->tagged_fraction <= 1))
        return "fractions must be in [0, 1]";
    if (c->tagged_nodes > c->nodes)
        return "more tagged nodes than nodes";
    for (size_t i = 0; i < c->kill_count; i++)
        if (c->kills[i].member >= c->nodes || !(c->kills[i].at >= 0))
            return "a kill names a node that does not exist or a negative time";
    return NULL;
}

static double
s_draw(const sched_sim_config_t *c, sched_rng_t *rng, size_t i)
{
    switch (c->dist) {
        case SCHED_SIM_UNIFORM:
            return c->mean * (0.1 + 1.8 * sched_rng_uniform(rng));
        case SCHED_SIM_LIST:
            return c->durations[i] > 0 ? c->durations[i] : 0.0;
        case SCHED_SIM_LOGNORMAL:
        default:
            /* exp(mu + sigma z) has mean exp(mu + sigma^2 / 2) == c->mean. */
            return exp(log(c->mean) - c->sigma * c->sigma / 2 + c->sigma * sched_rng_normal(rng));
    }
}

/* Adds test i with a unique id (a JUnit file may repeat one: suffix #2, #3). */
static int
s_add_test(sched_sim_t *self, size_t i, const char *file, const char *requires)
{
    char id[64];
    const char *given = self->cfg.ids && i < self->cfg.count ? self->cfg.ids[i] : NULL;
    if (!given) {
        snprintf(id, sizeof(id), "t%08zu", i);
        return sched_suite_add_test(self->suite, id, file, requires, NULL);
    }
    if (sched_suite_add_test(self->suite, given, file, requires, NULL) == 0)
        return 0;
    size_t len = strlen(given) + 24;
    char *alt = malloc(len);
    int rc = -1;
    for (unsigned k = 2; alt && rc != 0 && k < 1000000; k++) {
        snprintf(alt, len, "%s#%u", given, k);
        rc = sched_suite_add_test(self->suite, alt, file, requires, NULL);
    }
    free(alt);
    return rc;
}

static int
s_build(sched_sim_t *self)
{
    const sched_sim_config_t *c = &self->cfg;
    sched_rng_t rng;
    sched_rng_seed(&rng, c->seed);
    size_t base = c->dist == SCHED_SIM_LIST ? c->count : c->tests;
    self->test_count = base + c->giants;
    self->truth = malloc(self->test_count * sizeof(double));
    self->suite = sched_suite_new();
    if (!self->truth || !self->suite)
        return -1;
    char name[32], file[32];
    for (size_t m = 0; m < c->nodes; m++) {
        snprintf(name, sizeof(name), "n%04zu", m);
        if (sched_suite_add_member(self->suite, name, c->slots, m < c->tagged_nodes ? "gpu" : NULL,
                                   NULL) != 0)
            return -1;
    }
    double sum = 0, longest = 0;
    for (size_t i = 0; i < self->test_count; i++) {
        double t = i < base ? s_draw(c, &rng, i) : c->giant_factor * c->mean;
        bool tagged = sched_rng_uniform(&rng) < c->tagged_fraction;
        bool failed = sched_rng_uniform(&rng) < c->failed_fraction;
        double err = c->error * (2 * sched_rng_uniform(&rng) - 1);
        snprintf(file, sizeof(file), "f%06zu", i / (c->tests_per_file ? c->tests_per_file : 1));
        if (s_add_test(self, i, file, tagged ? "gpu" : NULL) != 0)
            return -1;
        self->truth[i] = t;
        sum += t;
        longest = t > longest ? t : longest;
        double seen = c->predict == SCHED_SIM_PREDICT_ERROR ? t * (1 + err) : t;
        sched_history_t h = {&seen, c->predict == SCHED_SIM_PREDICT_NONE ? 0 : 1, 0, failed, 0};
        sched_suite_set_history(self->suite, i, &h);
    }
    sched_suite_predict(self->suite, SCHED_DEFAULT_PREDICTION);
    double even = sum / (double)(c->nodes * c->slots);
    self->lower_bound = even > longest ? even : longest;
    self->longest = longest;
    return 0;
}

sched_sim_t *
sched_sim_new(const sched_sim_config_t *config, const char **error_out)
{
    const char *problem = s_check_config(config);
    if (problem) {
        if (error_out)
            *error_out = problem;
        return NULL;
    }
    sched_sim_t *self = calloc(1, sizeof(*self));
    if (!self)
        goto oom;
    self->cfg = *config;
    if (config->kill_count) {
        self->kills = malloc(config->kill_count * sizeof(sched_sim_kill_t));
        if (!self->kills)
            goto oom;
        memcpy(self->kills, config->kills, config->kill_count * sizeof(sched_sim_kill_t));
    }
    self->cfg.kills = self->kills;
    self->nodes = calloc(config->nodes, sizeof(sched__sim_node_t));
    if (!self->nodes || s_build(self) != 0)
        goto oom;
    return self;
oom:
    if (error_out)
        *error_out = "out of memory (or duplicate test ids)";
    sched_sim_destroy(&self);
    return NULL;
}

void
sched_sim_destroy(sched_sim_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    sched_sim_t *self = *self_p;
    for (size_t m = 0; self->nodes && m < self->cfg.nodes; m++)
        sched_steal_clear(&self->nodes[m].steal);
    sched__sim_p2p_free(self);
    sched_board_destroy(&self->board);
    sched_suite_destroy(&self->suite);
    free(self->truth);
    free(self->kills);
    free(self->nodes);
    free(self->events.items);
    free(self);
    *self_p = NULL;
}

void
sched_sim_plan(sched_sim_t *self)
{
    if (self->board)
        return;
    self->board = sched_board_new(self->suite, self->cfg.strategy);
    if (!self->board)
        return;
    sched_board_set_steal_latency(self->board, self->cfg.steal_latency);
    sched_board_deal(self->board);
}

static void s_fill(sched_sim_t *self, size_t m, double now);

/* The leader decides and applies a steal in one step (its board is the
 * truth); the stolen tests reach the thief after the steal latency. */
static void
s_try_steal(sched_sim_t *self, size_t m, double now)
{
    sched__sim_node_t *node = &self->nodes[m];
    if (!self->cfg.steal || node->steal_pending || node->retry_pending ||
        sched_board_count(self->board, SCHED_TEST_QUEUED) == 0)
        return; /* nothing anywhere: a death will wake it */
    if (sched_board_steal_decide(self->board, m, now, &node->steal) == 0) {
        if (sched_board_steal_apply(self->board, &node->steal) == 0) {
            self->res->steals++;
            self->res->stolen_tests += node->steal.count;
            node->steal_pending = true;
            node->retry_wait = S_RETRY_FIRST;
            sched__sim_push(self, now + self->cfg.steal_latency, SCHED__EV_STEAL, (uint32_t)m, 0);
        } else {
            self->res->steal_failures++;
        }
        sched_steal_clear(&node->steal);
        if (node->steal_pending)
            return;
    }
    node->retry_pending = true;
    sched__sim_push(self, now + node->retry_wait, SCHED__EV_RETRY, (uint32_t)m, 0);
    node->retry_wait = node->retry_wait * 2 < S_RETRY_MAX ? node->retry_wait * 2 : S_RETRY_MAX;
}

void
sched__sim_run_batch(sched_sim_t *self, size_t m, const size_t *batch, size_t n, double now)
{
    sched__sim_node_t *node = &self->nodes[m];
    const sched_sim_config_t *c = &self->cfg;
    node->free_slots--;
    double at = now + c->dispatch_latency + c->startup;
    node->busy += c->dispatch_latency + c->startup;
    for (size_t i = 0; i < n; i++) {
        at += self->truth[batch[i]];
        node->busy += self->truth[batch[i]];
        sched__sim_push(self, at, SCHED__EV_DONE, (uint32_t)m,
                        ((uint64_t)batch[i] << 1) | (i + 1 == n));
    }
}

/* Fills member m's free slots from its queue, then asks for a steal. */
static void
s_fill(sched_sim_t *self, size_t m, double now)
{
    sched__sim_node_t *node = &self->nodes[m];
    const sched_sim_config_t *c = &self->cfg;
    size_t batch[S_BATCH_CAP];
    if (c->p2p) {
        sched__sim_p2p_fill(self, m, now);
        return;
    }
    if (node->steal_pending)
        return; /* its queue is what it stole, still on the way */
    while (node->alive && node->free_slots > 0) {
        size_t n;
        if (c->batch_target > 0)
            n = sched_board_next_batch(self->board, m, now, c->batch_target, c->batch_max, batch,
                                       S_BATCH_CAP);
        else
            n = sched_board_next(self->board, m, now, &batch[0]) == 0 ? 1 : 0;
        if (n == 0)
            break;
        sched__sim_run_batch(self, m, batch, n, now);
    }
    if (node->alive && node->free_slots > 0)
        s_try_steal(self, m, now);
}

static void
s_on_kill(sched_sim_t *self, size_t m, double now)
{
    if (!self->nodes[m].alive)
        return;
    if (self->cfg.p2p) {
        sched__sim_p2p_kill(self, m, now);
        return;
    }
    self->nodes[m].alive = false;
    self->nodes[m].died_at = now;
    int n = sched_board_member_lost(self->board, m, now);
    if (n > 0)
        self->res->redealt += (size_t)n;
    /* Re-dealt work may land anywhere: every idle survivor looks again. */
    for (size_t k = 0; k < self->cfg.nodes; k++) {
        self->nodes[k].retry_wait = S_RETRY_FIRST;
        s_fill(self, k, now);
    }
}

static void
s_dispatch(sched_sim_t *self, const sched__sim_event_t *ev)
{
    size_t m = ev->member;
    sched__sim_node_t *node = &self->nodes[m];
    switch (ev->kind) {
        case SCHED__EV_DONE:
            if (!node->alive)
                return; /* lost with its member; it was re-dealt */
            sched_board_finish(self->board, (size_t)(ev->arg >> 1), ev->time);
            if (self->cfg.p2p)
                sched__sim_p2p_ended(self, m, (size_t)(ev->arg >> 1));
            self->last_done = ev->time;
            self->res->last_length = self->truth[ev->arg >> 1];
            self->res->last_start = ev->time - self->res->last_length;
            if (ev->arg & 1) {
                node->free_slots++;
                s_fill(self, m, ev->time);
            }
            break;
        case SCHED__EV_STEAL:
            node->steal_pending = false;
            s_fill(self, m, ev->time);
            break;
        case SCHED__EV_RETRY:
            node->retry_pending = false;
            if (node->alive)
                s_fill(self, m, ev->time);
            break;
        case SCHED__EV_KILL:
            s_on_kill(self, m, ev->time);
            break;
        case SCHED__EV_BUDGET:
            self->res->skipped += sched_board_skip_over_budget(self->board, ev->time, ev->time);
            if (self->cfg.p2p)
                sched__sim_p2p_budget(self);
            break;
        default:
            sched__sim_p2p_dispatch(self, ev);
            break;
    }
}

int
sched_sim_run(sched_sim_t *self, sched_sim_result_t *res)
{
    const sched_sim_config_t *c = &self->cfg;
    memset(res, 0, sizeof(*res));
    sched_sim_plan(self);
    res->idle = calloc(c->nodes, sizeof(double));
    if (!self->board || !res->idle)
        return -1;
    res->idle_count = c->nodes;
    self->res = res;
    for (size_t m = 0; m < c->nodes; m++) {
        self->nodes[m] =
            (sched__sim_node_t){.free_slots = c->slots, .alive = true, .retry_wait = S_RETRY_FIRST};
    }
    if (c->budget > 0) {
        res->skipped += sched_board_skip_over_budget(self->board, 0.0, c->budget);
        sched__sim_push(self, c->budget, SCHED__EV_BUDGET, 0, 0);
    }
    for (size_t k = 0; k < c->kill_count; k++)
        sched__sim_push(self, self->kills[k].at, SCHED__EV_KILL, (uint32_t)self->kills[k].member,
                        0);
    if (c->p2p && sched__sim_p2p_begin(self) != 0)
        return -1;
    for (size_t m = 0; m < c->nodes; m++)
        s_fill(self, m, 0.0);
    while (self->events.count > 0) {
        sched__sim_event_t ev = s_pop(self);
        res->events++;
        s_dispatch(self, &ev);
    }
    self->res = NULL;
    res->makespan = self->last_done;
    res->lower_bound = self->lower_bound;
    res->longest = self->longest;
    res->ratio = self->lower_bound > 0 ? res->makespan / self->lower_bound : 1.0;
    res->done = sched_board_count(self->board, SCHED_TEST_DONE);
    res->unschedulable = sched_board_count(self->board, SCHED_TEST_UNSCHEDULABLE);
    res->skipped = sched_board_count(self->board, SCHED_TEST_SKIPPED);
    size_t survivors = 0;
    for (size_t m = 0; m < c->nodes; m++) {
        const sched__sim_node_t *node = &self->nodes[m];
        double end = node->alive ? res->makespan : node->died_at;
        double idle = (end * c->slots - node->busy) / c->slots;
        res->idle[m] = idle > 0 ? idle : 0.0;
        if (node->alive) {
            res->idle_mean += res->idle[m];
            survivors++;
        }
    }
    if (survivors)
        res->idle_mean /= (double)survivors;
    if (self->broken || !sched_board_finished(self->board) || sched_board_check(self->board) != 0)
        return -1;
    return 0;
}

void
sched_sim_result_clear(sched_sim_result_t *res)
{
    free(res->idle);
    res->idle = NULL;
    res->idle_count = 0;
}
