/* Behaviours of sched/'s leader ranking (rendezvous hashing, same everywhere)
 * and of the simulator that drives the real board (deterministic, survives
 * deaths, stealing beats static sharding), also with members that hold their
 * queues and steal from each other (p2p).
 */
#include "harness.h"
#include "sched/sched.h"

#include <math.h>

#define TEST(g, n) void test_##g##_##n(void);
#include "sched.list"
#undef TEST

static const char *const s_names[] = {"alpha", "bravo", "charlie", "delta", "echo", "foxtrot"};
#define S_NAMES 6

void
test_sched_rank_order_is_independent_of_input_order(void)
{
    const char *reversed[S_NAMES];
    size_t a[S_NAMES], b[S_NAMES];
    for (size_t i = 0; i < S_NAMES; i++)
        reversed[i] = s_names[S_NAMES - 1 - i];
    sched_rank_order("ci-1234", s_names, S_NAMES, a);
    sched_rank_order("ci-1234", reversed, S_NAMES, b);
    for (size_t i = 0; i < S_NAMES; i++)
        CHECK_STR(s_names[a[i]], reversed[b[i]]);
    for (size_t i = 1; i < S_NAMES; i++)
        CHECK(sched_rank_hash("ci-1234", s_names[a[i - 1]]) >=
              sched_rank_hash("ci-1234", s_names[a[i]]));
    /* Another session ranks differently (with these names and sessions). */
    sched_rank_order("ci-1235", s_names, S_NAMES, b);
    bool differs = false;
    for (size_t i = 0; i < S_NAMES; i++)
        differs = differs || a[i] != b[i];
    CHECK(differs);
}

void
test_sched_rank_next_in_rank_takes_over(void)
{
    size_t order[S_NAMES], leader;
    bool alive[S_NAMES] = {true, true, true, true, true, true};
    sched_rank_order("s", s_names, S_NAMES, order);
    CHECK(sched_rank_leader("s", s_names, NULL, S_NAMES, &leader) == 0);
    CHECK_INT(leader, ==, order[0]);
    alive[order[0]] = false;
    CHECK(sched_rank_leader("s", s_names, alive, S_NAMES, &leader) == 0);
    CHECK_INT(leader, ==, order[1]);
    alive[order[1]] = false;
    CHECK(sched_rank_leader("s", s_names, alive, S_NAMES, &leader) == 0);
    CHECK_INT(leader, ==, order[2]);
    for (size_t i = 0; i < S_NAMES; i++)
        alive[i] = false;
    CHECK(sched_rank_leader("s", s_names, alive, S_NAMES, &leader) == -1);
}

void
test_sched_rank_hash_is_fixed_across_machines(void)
{
    /* FNV-1a 64 of "session-42\0node-a" then splitmix64's finalizer, computed
     * independently (Python). */
    CHECK(sched_rank_hash("session-42", "node-a") == 0xe1f0c18a5e618301ULL);
    CHECK(sched_rank_hash("session-4", "2node-a") != sched_rank_hash("session-42", "node-a"));
}

static sched_sim_config_t
s_config(size_t tests, size_t nodes)
{
    sched_sim_config_t c;
    sched_sim_config_init(&c);
    c.tests = tests;
    c.nodes = nodes;
    return c;
}

static sched_sim_result_t
s_run(sched_sim_config_t *c)
{
    sched_sim_result_t r;
    sched_sim_t *sim = sched_sim_new(c, NULL);
    CHECK(sim != NULL);
    CHECK(sched_sim_run(sim, &r) == 0);
    sched_sim_destroy(&sim);
    CHECK(sim == NULL);
    return r;
}

/* Runs c twice: the same session to the event. */
static sched_sim_result_t
s_run_twice(sched_sim_config_t *c)
{
    c->predict = SCHED_SIM_PREDICT_ERROR;
    c->error = 0.5;
    sched_sim_result_t a = s_run(c), b = s_run(c);
    CHECK(a.makespan == b.makespan);
    CHECK_INT(a.steals, ==, b.steals);
    CHECK_INT(a.asks, ==, b.asks);
    CHECK_INT(a.events, ==, b.events);
    CHECK(a.ratio >= 1.0);
    sched_sim_result_clear(&b);
    return a;
}

void
test_sched_sim_same_seed_same_result(void)
{
    sched_sim_config_t c = s_config(2000, 4);
    c.seed = 9;
    sched_sim_result_t a = s_run_twice(&c);
    c.seed = 10;
    sched_sim_result_t other = s_run(&c);
    CHECK(other.makespan != a.makespan);
    sched_sim_result_clear(&a);
    sched_sim_result_clear(&other);
    const char *why = NULL;
    c.nodes = 0;
    CHECK(sched_sim_new(&c, &why) == NULL && why != NULL);
}

/* Members die at the start and mid-session; their work runs elsewhere. */
static void
s_check_deaths(bool p2p)
{
    sched_sim_config_t c = s_config(3000, 8);
    sched_sim_kill_t kills[] = {{3, 20.0}, {5, 40.0}, {6, 0.0}};
    c.kills = kills;
    c.kill_count = 3;
    c.p2p = p2p;
    c.batch_target = p2p ? 2.0 : 0.0;
    sched_sim_result_t r = s_run(&c);
    CHECK_INT(r.done, ==, 3000);
    CHECK(r.redealt > 0);
    CHECK(r.ratio < 1.5);
    sched_sim_result_clear(&r);
}

void
test_sched_sim_dead_member_work_finishes_elsewhere(void)
{
    s_check_deaths(false);
}

/* Stealing (central or p2p) against static count sharding, same instance. */
static void
s_check_beats_static(sched_sim_config_t c)
{
    c.predict = SCHED_SIM_PREDICT_NONE;
    sched_sim_result_t with = s_run(&c);
    c.steal = false;
    c.strategy = SCHED_STRATEGY_ROUND_ROBIN;
    sched_sim_result_t without = s_run(&c);
    CHECK(with.steals > 0);
    CHECK_INT(without.steals, ==, 0);
    CHECK(with.ratio < without.ratio);
    CHECK(with.ratio < 1.05);
    sched_sim_result_clear(&with);
    sched_sim_result_clear(&without);
}

void
test_sched_sim_stealing_beats_static_sharding(void)
{
    sched_sim_config_t c = s_config(4000, 16);
    c.sigma = 0.5;
    s_check_beats_static(c);
}

void
test_sched_sim_p2p_same_seed_same_result(void)
{
    sched_sim_config_t c = s_config(2000, 6);
    c.tagged_nodes = 2;
    c.tagged_fraction = 0.1;
    c.p2p = true;
    sched_sim_result_t a = s_run_twice(&c);
    CHECK(a.steals > 0);
    CHECK_INT(a.asks, ==, a.steals + a.refusals); /* every ask is answered */
    CHECK_INT(a.done, ==, 2000);
    sched_sim_result_clear(&a);
    const char *why = NULL;
    c.progress_period = 0;
    CHECK(sched_sim_new(&c, &why) == NULL && why != NULL);
}

void
test_sched_sim_p2p_dead_member_work_finishes_elsewhere(void)
{
    s_check_deaths(true);
}

void
test_sched_sim_p2p_without_latency_or_staleness_steals_like_the_leader(void)
{
    /* With messages that take no time and loads announced all the time, the
     * members' decisions are the leader's: the same session to the second. */
    sched_sim_config_t c = s_config(3000, 16);
    c.sigma = 0.5;
    c.predict = SCHED_SIM_PREDICT_NONE;
    c.steal_latency = 0.0;
    sched_sim_result_t central = s_run(&c);
    c.p2p = true;
    c.hop_latency = 0.0;
    c.progress_period = 1e-4;
    sched_sim_result_t p2p = s_run(&c);
    CHECK(central.steals > 0 && p2p.steals > 0);
    CHECK(fabs(p2p.makespan - central.makespan) < 0.02 * central.makespan);
    sched_sim_result_clear(&central);
    sched_sim_result_clear(&p2p);
}

void
test_sched_sim_p2p_beats_static_sharding_on_many_members(void)
{
    sched_sim_config_t c = s_config(20000, 200);
    c.dist = SCHED_SIM_UNIFORM;
    c.p2p = true;
    s_check_beats_static(c);
}
