/* Behaviours of sched/'s stealing policy on plain arrays, as a member holding
 * only its own queue applies it: the victim's split (about half, from the tail,
 * only what the thief can run, all or nothing, never a started test, nothing
 * for a tiny remainder) and the thief's choice of victim (most queued work per
 * slot, or drawn in proportion to it; alive, not yet asked, worth a steal's
 * latency).
 */
#include "harness.h"
#include "sched/sched.h"

#include <stdbool.h>

#define TEST(g, n) void test_##g##_##n(void);
#include "sched.list"
#undef TEST

enum { S_MAX = 16 };

/* Sides of a steal between one-slot members: the victim's started tests need
 * `victim_running` more seconds, the thief is idle. */
static sched_steal_sides_t
s_sides(double victim_running, double latency)
{
    sched_steal_sides_t sides = {1, victim_running, 1, 0.0, latency};
    return sides;
}

static void
s_all(bool *can, size_t count, bool value)
{
    for (size_t i = 0; i < count; i++)
        can[i] = value;
}

/* A queue of `count` one-second tests the thief can all run. */
static void
s_ones(double *pred, bool *can, size_t count)
{
    for (size_t i = 0; i < count; i++)
        pred[i] = 1.0;
    s_all(can, count, true);
}

void
test_sched_steal_split_takes_about_half_from_the_tail(void)
{
    double pred[10];
    bool can[10];
    size_t take[10];
    double work;
    s_ones(pred, can, 10);
    sched_steal_sides_t sides = s_sides(0.5, 0.0);
    /* 10.5 s between them: they meet at 5.25 s; whole tests give 5. */
    CHECK(sched_steal_share(&sides, 10.0) == 5.25);
    CHECK_INT(sched_steal_split(pred, can, 10, &sides, take, &work), ==, 5);
    for (size_t i = 0; i < 5; i++)
        CHECK_INT(take[i], ==, 5 + i); /* the tail, in run order */
    CHECK(work == 5.0);
}

void
test_sched_steal_split_weighs_both_sides_slots(void)
{
    double pred[12];
    bool can[12];
    size_t take[12];
    double work;
    s_ones(pred, can, 12);
    /* A 3-slot victim and a 1-slot thief finish together when the thief
     * takes a quarter: 12 s -> 9 on three slots (3 s) and 3 on one (3 s). */
    sched_steal_sides_t sides = {3, 0.0, 1, 0.0, 0.0};
    CHECK_INT(sched_steal_split(pred, can, 12, &sides, take, &work), ==, 3);
    CHECK(work == 3.0);
    CHECK_INT(take[0], ==, 9);
}

void
test_sched_steal_split_takes_only_what_the_thief_can_run(void)
{
    double pred[8];
    bool can[8];
    size_t take[8];
    for (size_t i = 0; i < 8; i++) {
        pred[i] = 1.0;
        can[i] = i % 2 == 0; /* odd positions need a tag the thief lacks */
    }
    sched_steal_sides_t sides = s_sides(0.0, 0.0);
    /* Half of 8 s is 4 s, but only the even tests can go: 6, 4, 2, 0. */
    CHECK_INT(sched_steal_split(pred, can, 8, &sides, take, NULL), ==, 4);
    for (size_t i = 0; i < 4; i++)
        CHECK(can[take[i]]);
    CHECK_INT(take[0], ==, 0);
    CHECK_INT(take[3], ==, 6);
    s_all(can, 8, false);
    CHECK_INT(sched_steal_split(pred, can, 8, &sides, take, NULL), ==, 0);
}

void
test_sched_steal_split_never_takes_started_tests(void)
{
    double pred[2] = {1.0, 1.0};
    bool can[2] = {true, true};
    size_t take[2];
    double work;
    /* 8 s still running at the victim: they count towards its finish (the
     * share is 5 s) but only the 2 s queued can move. */
    sched_steal_sides_t sides = s_sides(8.0, 0.0);
    CHECK_INT(sched_steal_split(pred, can, 2, &sides, take, &work), ==, 2);
    CHECK(work == 2.0);
    CHECK(take[0] == 0 && take[1] == 1);
    /* Everything started: nothing to give however busy the victim is. */
    CHECK_INT(sched_steal_split(pred, can, 0, &sides, take, &work), ==, 0);
    CHECK(work == 0.0);
}

void
test_sched_steal_split_gives_all_or_nothing(void)
{
    /* The tail is a tiny test before a 10 s one: the share (5 s) cannot take
     * the big one, and the tiny one alone saves less than the latency. The
     * victim gives nothing rather than a part that does not pay. */
    double pred[2] = {10.0, 0.001};
    bool can[2] = {true, true};
    size_t take[2] = {99, 99};
    double work = -1;
    sched_steal_sides_t sides = s_sides(0.0, 0.002);
    CHECK_INT(sched_steal_split(pred, can, 2, &sides, take, &work), ==, 0);
    CHECK(work == 0.0);
    /* Many small tests that make the share go together, in one answer. */
    double small[40];
    bool all[40];
    size_t got[40];
    for (size_t i = 0; i < 40; i++)
        small[i] = 0.25;
    s_all(all, 40, true);
    CHECK_INT(sched_steal_split(small, all, 40, &sides, got, &work), ==, 19);
    CHECK(work == 4.75);
}

void
test_sched_steal_split_sends_a_first_big_test_alone(void)
{
    /* Share 5 s; the tail test takes 8 s: nearer to 5 than nothing, it goes
     * alone, and the pair ends at 8 s instead of 10. */
    double pred[3] = {1.0, 1.0, 8.0};
    bool can[3] = {true, true, true};
    size_t take[3];
    sched_steal_sides_t sides = s_sides(0.0, 0.0);
    CHECK_INT(sched_steal_split(pred, can, 3, &sides, take, NULL), ==, 1);
    CHECK_INT(take[0], ==, 2);
    /* A lone queued test on an idle victim is twice the share: it stays. */
    CHECK_INT(sched_steal_split(pred + 2, can, 1, &sides, take, NULL), ==, 0);
}

void
test_sched_steal_split_refuses_a_tiny_remainder(void)
{
    double pred[1] = {0.001};
    bool can[1] = {true};
    size_t take[1];
    /* The victim's slot frees in half a second and takes the last test
     * itself; a thief 4 ms away cannot beat that. */
    sched_steal_sides_t sides = s_sides(0.5, 0.004);
    CHECK_INT(sched_steal_split(pred, can, 1, &sides, take, NULL), ==, 0);
    /* Without latency and a long wait at the victim, it does pay. */
    pred[0] = 1.0;
    sides = s_sides(5.0, 0.004);
    CHECK_INT(sched_steal_split(pred, can, 1, &sides, take, NULL), ==, 1);
}

/* Four one-slot peers, all alive, with the given queued seconds. */
static void
s_peers(sched_peer_load_t *peers, const double *queued, size_t count)
{
    for (size_t i = 0; i < count; i++)
        peers[i] = (sched_peer_load_t){queued[i], 0.0, 1, true};
}

/* The best pick (no draw) for idle thief 0 with 4 ms of latency; SIZE_MAX
 * when nobody is worth asking. */
static size_t
s_best(const sched_peer_load_t *peers, size_t count, const size_t *asked, size_t asked_count)
{
    size_t v = 99;
    if (sched_steal_pick(peers, count, 0, 0.0, 0.004, asked, asked_count, NULL, &v) != 0) {
        CHECK_INT(v, ==, 99); /* untouched */
        return SIZE_MAX;
    }
    return v;
}

void
test_sched_steal_pick_takes_the_most_work_per_slot(void)
{
    sched_peer_load_t peers[4];
    s_peers(peers, (double[]){0.0, 3.0, 9.0, 5.0}, 4);
    CHECK_INT(s_best(peers, 4, NULL, 0), ==, 2);
    /* Per slot: 9 s on four slots weighs less than 5 s on one. */
    peers[2].slots = 4;
    CHECK_INT(s_best(peers, 4, NULL, 0), ==, 3);
    /* Ties go to the lower index. */
    peers[1].queued = 5.0;
    CHECK_INT(s_best(peers, 4, NULL, 0), ==, 1);
}

void
test_sched_steal_pick_passes_over_self_dead_and_asked(void)
{
    sched_peer_load_t peers[4];
    s_peers(peers, (double[]){20.0, 3.0, 9.0, 5.0}, 4);
    size_t v = 99, asked[1] = {3};
    CHECK_INT(s_best(peers, 4, NULL, 0), ==, 2); /* never itself, however loaded it announced */
    peers[2].alive = false;
    CHECK_INT(s_best(peers, 4, NULL, 0), ==, 3);
    CHECK_INT(s_best(peers, 4, asked, 1), ==, 1); /* 3 said no this round: the next best */
    size_t all[2] = {1, 3};
    CHECK(s_best(peers, 4, all, 2) == SIZE_MAX);
    CHECK(sched_steal_pick(peers, 4, 4, 0.0, 0.004, NULL, 0, NULL, &v) == -1); /* no such thief */
}

void
test_sched_steal_pick_refuses_tiny_remainders(void)
{
    sched_peer_load_t peers[3];
    s_peers(peers, (double[]){0.0, 0.003, 0.001}, 3);
    size_t v = 99;
    /* Half of 3 ms does not pay for 4 ms of latency: nobody is worth asking. */
    CHECK(s_best(peers, 3, NULL, 0) == SIZE_MAX);
    /* A thief still busy for longer than the victim's queue asks nobody. */
    peers[1].queued = 2.0;
    CHECK(sched_steal_pick(peers, 3, 0, 3.0, 0.004, NULL, 0, NULL, &v) == -1 && v == 99);
    CHECK_INT(s_best(peers, 3, NULL, 0), ==, 1);
}

void
test_sched_steal_pick_spreads_thieves_in_proportion_to_work(void)
{
    sched_peer_load_t peers[4];
    s_peers(peers, (double[]){0.0, 3.0, 1.0, 0.001}, 4);
    sched_rng_t rng, again;
    sched_rng_seed(&rng, 7);
    sched_rng_seed(&again, 7);
    size_t hits[4] = {0}, v, w;
    for (int i = 0; i < 4000; i++) {
        CHECK(sched_steal_pick(peers, 4, 0, 0.0, 0.004, NULL, 0, &rng, &v) == 0);
        CHECK(sched_steal_pick(peers, 4, 0, 0.0, 0.004, NULL, 0, &again, &w) == 0);
        CHECK_INT(v, ==, w); /* the same seed draws the same victims */
        hits[v]++;
    }
    /* Peer 3's millisecond is not worth a steal; 1 and 2 come 3 : 1. */
    CHECK_INT(hits[0] + hits[3], ==, 0);
    CHECK_INT(hits[1], >, 2800);
    CHECK_INT(hits[1], <, 3200);
    /* Asked peers and the rules of the best pick still hold. */
    size_t asked[1] = {1};
    CHECK(sched_steal_pick(peers, 4, 0, 0.0, 0.004, asked, 1, &rng, &v) == 0);
    CHECK_INT(v, ==, 2);
}
