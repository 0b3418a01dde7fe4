/* Behaviours of sched/'s board: steals (half from the tail, never started
 * work, never against requirements, only when worth it, all or nothing, from
 * the busiest), deaths, the time budget and batches, late members, retries
 * (requeue, avoiding a member), a new leader adopting members' reports, revived
 * members, and a seeded random walk mixing all of them proving every test
 * stays in exactly one place.
 */
#include "harness.h"
#include "sched/sched.h"

#define TEST(g, n) void test_##g##_##n(void);
#include "sched.list"
#undef TEST

/* `tests` tests of 1 s (t00.., no file) on `members` one-slot members m0..,
 * where every fourth test (1, 5, 9, ...) needs tag `req` when req is not
 * NULL, member 0 having tags `tags0`. */
static sched_suite_t *
s_suite(size_t tests, size_t members, const char *req, const char *tags0)
{
    sched_suite_t *s = sched_suite_new();
    char name[32];
    for (size_t m = 0; m < members; m++) {
        snprintf(name, sizeof(name), "m%zu", m);
        CHECK(sched_suite_add_member(s, name, 1, m == 0 ? tags0 : NULL, NULL) == 0);
    }
    for (size_t i = 0; i < tests; i++) {
        snprintf(name, sizeof(name), "t%02zu", i);
        CHECK(sched_suite_add_test(s, name, NULL, i % 4 == 1 ? req : NULL, NULL) == 0);
        CHECK(sched_suite_set_predicted(s, i, 1.0, 1.0) == 0);
    }
    return s;
}

/* Member m runs and finishes everything in its queue at `now`. */
static void
s_drain(sched_board_t *b, size_t m, double now)
{
    size_t t;
    while (sched_board_next(b, m, now, &t) == 0)
        CHECK(sched_board_finish(b, t, now) == 0);
}

static sched_board_t *
s_board(const sched_suite_t *s)
{
    sched_board_t *b = sched_board_new(s, SCHED_STRATEGY_LPT);
    CHECK(b != NULL);
    sched_board_deal(b);
    CHECK(sched_board_check(b) == 0);
    return b;
}

/* The common steal scene: m1 has run everything it was dealt, m0 started the
 * head of its queue at 0 s. */
static sched_board_t *
s_thief_ready(const sched_suite_t *s)
{
    sched_board_t *b = s_board(s);
    size_t t;
    s_drain(b, 1, 0.0);
    CHECK(sched_board_next(b, 0, 0.0, &t) == 0 && t == 0);
    return b;
}

void
test_sched_steal_takes_about_half_from_the_tail(void)
{
    sched_suite_t *s = s_suite(10, 2, NULL, NULL);
    sched_board_t *b = s_thief_ready(s);
    sched_steal_t st;
    /* Victim has 0.5 s running and 4 s queued; the pair meets near 2.25 s. */
    CHECK(sched_board_steal_decide(b, 1, 0.5, &st) == 0);
    CHECK_INT(st.victim, ==, 0);
    CHECK_INT(st.thief, ==, 1);
    CHECK_INT(st.count, ==, 2);
    CHECK_INT(st.tests[0], ==, 8);
    CHECK_INT(st.tests[1], ==, 6);
    CHECK(st.work == 2.0);
    CHECK(sched_board_steal_apply(b, &st) == 0);
    size_t n;
    const size_t *q = sched_board_queue(b, 1, &n);
    CHECK_INT(n, ==, 2);
    CHECK_INT(q[0], ==, 6);
    CHECK_INT(q[1], ==, 8);
    q = sched_board_queue(b, 0, &n);
    CHECK_INT(n, ==, 2);
    CHECK_INT(q[0], ==, 2);
    CHECK(sched_board_queued_work(b, 0) == 2.0);
    CHECK(sched_board_check(b) == 0);
    sched_steal_clear(&st);
    CHECK(st.tests == NULL);
    sched_board_destroy(&b);
    CHECK(b == NULL);
    sched_suite_destroy(&s);
}

void
test_sched_steal_never_takes_started_tests(void)
{
    sched_suite_t *s = s_suite(10, 2, NULL, NULL);
    sched_board_t *b = s_thief_ready(s);
    size_t victim;
    CHECK(sched_board_start(b, 0, 8, 0.0) == 0);  /* the tail test, out of order */
    CHECK(sched_board_start(b, 1, 6, 0.0) == -1); /* not its test */
    sched_steal_t st;
    CHECK(sched_board_steal_decide(b, 1, 0.0, &st) == 0);
    for (size_t i = 0; i < st.count; i++)
        CHECK(st.tests[i] != 0 && st.tests[i] != 8);
    CHECK_INT(st.count, ==, 2); /* t06 and t04 */
    CHECK(sched_board_steal_apply(b, &st) == 0);
    CHECK(sched_board_test_state(b, 8, &victim) == SCHED_TEST_RUNNING && victim == 0);
    CHECK(sched_board_test_state(b, 0, &victim) == SCHED_TEST_RUNNING && victim == 0);
    CHECK(sched_board_check(b) == 0);
    sched_steal_clear(&st);
    sched_board_destroy(&b);
    sched_suite_destroy(&s);
}

void
test_sched_steal_never_violates_requirements(void)
{
    sched_suite_t *s = s_suite(20, 2, "gpu", "gpu"); /* t01, t05, ... need m0 */
    sched_board_t *b = s_thief_ready(s);
    size_t n;
    const size_t *q = sched_board_queue(b, 0, &n);
    CHECK(n == 9 && q[n - 1] == 17); /* the tail holds a gpu test */
    sched_steal_t st;
    CHECK(sched_board_steal_decide(b, 1, 0.0, &st) == 0);
    CHECK_INT(st.count, ==, 4); /* t16 t12 t08 t04, passing over t17 t13 t09 */
    for (size_t i = 0; i < st.count; i++)
        CHECK(sched_suite_can_run(s, st.tests[i], 1));
    CHECK(sched_board_steal_apply(b, &st) == 0);
    sched_steal_clear(&st);
    /* A forged decision with a gpu test is refused whole. */
    size_t forged[] = {1};
    sched_steal_t bad = {0, 1, forged, 1, 1.0};
    CHECK(sched_board_steal_apply(b, &bad) == -1);
    CHECK(sched_board_check(b) == 0);
    sched_board_destroy(&b);
    sched_suite_destroy(&s);
}

void
test_sched_steal_leaves_a_lone_short_test_alone(void)
{
    sched_suite_t *s = s_suite(4, 2, NULL, NULL); /* m0: t00 t02 */
    sched_board_t *b = s_thief_ready(s);
    sched_steal_t st;
    /* t00 ends at 1.0: at 0.999 the victim starts t02 before a thief could. */
    CHECK(sched_board_steal_decide(b, 1, 0.999, &st) == -1);
    CHECK_INT(st.count, ==, 0);
    /* At 0.0 the victim is busy for a second: taking t02 saves one. */
    CHECK(sched_board_steal_decide(b, 1, 0.0, &st) == 0);
    CHECK_INT(st.count, ==, 1);
    CHECK_INT(st.tests[0], ==, 2);
    sched_steal_clear(&st);
    sched_board_destroy(&b);
    sched_suite_destroy(&s);
}

void
test_sched_steal_apply_is_all_or_nothing(void)
{
    sched_suite_t *s = s_suite(10, 2, NULL, NULL);
    sched_board_t *b = s_thief_ready(s);
    size_t t, n;
    sched_steal_t st;
    CHECK(sched_board_steal_decide(b, 1, 0.0, &st) == 0);
    CHECK(st.count >= 2);
    /* The victim starts one of them before the steal lands: refused whole. */
    CHECK(sched_board_start(b, 0, st.tests[1], 0.1) == 0);
    CHECK(sched_board_steal_apply(b, &st) == -1);
    sched_board_queue(b, 1, &n);
    CHECK_INT(n, ==, 0);
    CHECK(sched_board_test_state(b, st.tests[0], &t) == SCHED_TEST_QUEUED && t == 0);
    /* A list naming one test twice is refused too. */
    size_t twice[] = {st.tests[0], st.tests[0]};
    sched_steal_t dup = {0, 1, twice, 2, 2.0};
    CHECK(sched_board_steal_apply(b, &dup) == -1);
    CHECK(sched_board_check(b) == 0);
    sched_steal_clear(&st);
    sched_board_destroy(&b);
    sched_suite_destroy(&s);
}

void
test_sched_steal_picks_the_busiest_victim(void)
{
    sched_suite_t *s = s_suite(12, 3, NULL, NULL); /* four tests each */
    sched_board_t *b = s_board(s);
    size_t t;
    for (int i = 0; i < 3; i++)
        CHECK(sched_board_next(b, 0, 0.0, &t) == 0); /* m0: 1 s left queued */
    CHECK(sched_board_next(b, 1, 0.0, &t) == 0);     /* m1: 3 s queued */
    s_drain(b, 2, 0.0);
    sched_steal_t st;
    CHECK(sched_board_steal_decide(b, 2, 0.0, &st) == 0);
    CHECK_INT(st.victim, ==, 1);
    sched_steal_clear(&st);
    sched_board_destroy(&b);
    sched_suite_destroy(&s);
}

void
test_sched_board_lost_member_work_is_redealt_and_results_stay(void)
{
    sched_suite_t *s = s_suite(9, 3, NULL, NULL); /* m0: t00 t03 t06 */
    sched_board_t *b = s_board(s);
    size_t t, owner;
    CHECK(sched_board_next(b, 0, 0.0, &t) == 0 && t == 0);
    CHECK(sched_board_finish(b, 0, 1.0) == 0);
    CHECK(sched_board_next(b, 0, 1.0, &t) == 0 && t == 3);
    for (int i = 0; i < 2; i++) { /* m2 is ahead: 1 s left against m1's 3 s */
        CHECK(sched_board_next(b, 2, 0.0, &t) == 0);
        CHECK(sched_board_finish(b, t, 0.5) == 0);
    }
    CHECK_INT(sched_board_member_lost(b, 0, 1.5), ==, 2); /* t03 running, t06 queued */
    CHECK_INT(sched_board_member_lost(b, 0, 1.5), ==, -1);
    CHECK(sched_board_test_state(b, 0, NULL) == SCHED_TEST_DONE);
    CHECK(sched_board_test_state(b, 3, &owner) == SCHED_TEST_QUEUED && owner == 2);
    CHECK(sched_board_test_state(b, 6, &owner) == SCHED_TEST_QUEUED && owner == 2);
    CHECK(sched_board_next(b, 0, 2.0, &t) == -1);
    /* A late result from the dead member still counts, once. */
    CHECK(sched_board_finish(b, 3, 2.0) == 0);
    CHECK(sched_board_finish(b, 3, 2.0) == 1);
    CHECK(sched_board_check(b) == 0);
    CHECK_INT(sched_board_count(b, SCHED_TEST_DONE), ==, 4);
    sched_board_destroy(&b);
    sched_suite_destroy(&s);
}

/* Every test in exactly one place, seen through the public API only: each
 * queued test in its owner's queue once, each running one in its owner's
 * running list once, and the per-state counts add up to `tests`. */
static void
s_check_places(const sched_board_t *b, size_t tests)
{
    unsigned char *seen = calloc(tests + 1, 1);
    size_t *running = malloc((tests + 1) * sizeof(size_t));
    size_t total = 0, owner, n;
    CHECK(seen && running);
    for (size_t m = 0; m < sched_board_member_count(b); m++) {
        const size_t *q = sched_board_queue(b, m, &n);
        for (size_t i = 0; i < n; i++) {
            CHECK(q[i] < tests && !seen[q[i]]);
            CHECK(sched_board_test_state(b, q[i], &owner) == SCHED_TEST_QUEUED && owner == m);
            seen[q[i]] = 1;
        }
        n = sched_board_running_list(b, m, running, tests + 1);
        CHECK_INT(n, ==, sched_board_running(b, m));
        for (size_t i = 0; i < n; i++) {
            CHECK(running[i] < tests && !seen[running[i]]);
            CHECK(sched_board_test_state(b, running[i], &owner) == SCHED_TEST_RUNNING &&
                  owner == m);
            seen[running[i]] = 1;
        }
    }
    for (size_t t = 0; t < tests; t++) {
        sched_test_state_t st = sched_board_test_state(b, t, NULL);
        CHECK(seen[t] == (st == SCHED_TEST_QUEUED || st == SCHED_TEST_RUNNING));
    }
    for (size_t st = 0; st < SCHED_TEST_STATE_COUNT; st++)
        total += sched_board_count(b, (sched_test_state_t)st);
    CHECK_INT(total, ==, tests);
    CHECK(sched_board_check(b) == 0);
    free(seen);
    free(running);
}

void
test_sched_board_random_operations_keep_every_test_in_one_place(void)
{
    sched_rng_t rng;
    sched_rng_seed(&rng, 2024);
    for (int round = 0; round < 40; round++) {
        size_t members = 2 + sched_rng_next(&rng) % 6, tests = sched_rng_next(&rng) % 150;
        sched_suite_t *s = s_suite(tests, members, sched_rng_next(&rng) % 2 ? "gpu" : NULL, "gpu");
        for (size_t i = 0; i < tests; i++)
            sched_suite_set_predicted(s, i, sched_rng_uniform(&rng) * 5, 1);
        sched_board_t *b = sched_board_new(s, (sched_strategy_t)(round % 5));
        /* avoid[t]: the member a retry of t avoids, or SIZE_MAX; steals must
         * never hand t to it. */
        size_t *avoid = malloc((tests + 1) * sizeof(size_t));
        CHECK(b && avoid);
        for (size_t i = 0; i < tests; i++)
            avoid[i] = SIZE_MAX;
        sched_board_deal(b);
        double now = 0;
        for (int step = 0; step < 400; step++) {
            size_t m = sched_rng_next(&rng) % members, t = sched_rng_next(&rng) % (tests + 1);
            size_t owner;
            now += sched_rng_uniform(&rng);
            switch (sched_rng_next(&rng) % 18) {
                case 0:
                    if (sched_rng_next(&rng) % 4 == 0)
                        sched_board_member_lost(b, m, now);
                    break;
                case 1:
                case 2: {
                    sched_steal_t st;
                    if (sched_board_steal_decide(b, m, now, &st) == 0) {
                        for (size_t i = 0; i < st.count; i++) {
                            CHECK(sched_suite_can_run(s, st.tests[i], m));
                            CHECK(avoid[st.tests[i]] != m);
                        }
                        CHECK(sched_board_steal_apply(b, &st) == 0);
                    }
                    sched_steal_clear(&st);
                    break;
                }
                case 3:
                    sched_board_start(b, m, t, now);
                    break;
                case 4:
                case 5:
                    sched_board_finish(b, t, now);
                    break;
                case 6:
                    if (sched_board_requeue(b, t, now) == 0) {
                        CHECK(sched_board_test_state(b, t, NULL) == SCHED_TEST_PENDING);
                        avoid[t] = SIZE_MAX;
                    }
                    break;
                case 7:
                    if (sched_board_requeue_avoiding(b, t, m, now) == 0) {
                        CHECK(sched_board_test_state(b, t, NULL) == SCHED_TEST_PENDING);
                        avoid[t] = m;
                    }
                    break;
                case 8:
                    sched_board_deal(b);
                    CHECK_INT(sched_board_count(b, SCHED_TEST_PENDING), ==, 0);
                    break;
                case 9:
                    if (sched_board_adopt_running(b, m, t, now) == 0)
                        CHECK(sched_board_test_state(b, t, &owner) == SCHED_TEST_RUNNING &&
                              owner == m);
                    else
                        CHECK(t == tests || !sched_board_member_alive(b, m) ||
                              sched_board_test_state(b, t, NULL) == SCHED_TEST_DONE ||
                              sched_board_test_state(b, t, NULL) == SCHED_TEST_RUNNING);
                    break;
                case 10:
                    if (t < tests) {
                        bool was_done = sched_board_test_state(b, t, NULL) == SCHED_TEST_DONE;
                        CHECK_INT(sched_board_adopt_done(b, t, now), ==, was_done ? 1 : 0);
                    }
                    break;
                case 11:
                    if (sched_board_member_back(b, m) == 0) {
                        CHECK(sched_board_member_alive(b, m));
                        CHECK(sched_board_queue(b, m, &owner) == NULL || owner == 0);
                    }
                    break;
                case 12:
                    if (members < 12 && sched_rng_next(&rng) % 3 == 0) {
                        char name[32];
                        snprintf(name, sizeof(name), "late%zu", members);
                        CHECK(sched_suite_add_member(s, name, 1 + (unsigned)(members % 2),
                                                     sched_rng_next(&rng) % 2 ? "gpu" : NULL,
                                                     NULL) == 0);
                        members++;
                        if (sched_rng_next(&rng) % 2) /* else a later call takes it in */
                            CHECK(sched_board_sync_members(b) == 0);
                    }
                    break;
                default:
                    sched_board_next(b, m, now, &t);
                    break;
            }
            s_check_places(b, tests);
        }
        /* Whoever is left drains everything; nothing was lost. */
        sched_board_deal(b);
        for (size_t m = 0; m < members; m++)
            s_drain(b, m, now);
        for (size_t t = 0; t < tests; t++)
            if (sched_board_test_state(b, t, NULL) == SCHED_TEST_RUNNING)
                sched_board_finish(b, t, now);
        CHECK(sched_board_finished(b));
        CHECK_INT(sched_board_count(b, SCHED_TEST_DONE) +
                      sched_board_count(b, SCHED_TEST_UNSCHEDULABLE),
                  ==, tests);
        CHECK(sched_board_check(b) == 0);
        free(avoid);
        sched_board_destroy(&b);
        sched_suite_destroy(&s);
    }
}

void
test_sched_board_skips_what_does_not_fit_the_budget(void)
{
    sched_suite_t *s = s_suite(3, 1, NULL, NULL);
    sched_suite_set_predicted(s, 0, 3.0, 1);
    sched_suite_set_predicted(s, 1, 2.0, 1);
    sched_suite_set_predicted(s, 2, 1.0, 1);
    sched_board_t *b = s_board(s);
    /* 3 s ends at 3; 2 s would end at 5 > 4.5: skipped; 1 s ends at 4. */
    CHECK_INT(sched_board_skip_over_budget(b, 0.0, 4.5), ==, 1);
    CHECK(sched_board_test_state(b, 1, NULL) == SCHED_TEST_SKIPPED);
    CHECK(sched_board_test_state(b, 2, NULL) == SCHED_TEST_QUEUED);
    size_t t;
    CHECK(sched_board_next(b, 0, 0.0, &t) == 0 && t == 0);
    /* The budget is spent: the rest is skipped, what runs keeps running. */
    CHECK_INT(sched_board_skip_over_budget(b, 4.5, 4.5), ==, 1);
    CHECK(sched_board_test_state(b, 0, NULL) == SCHED_TEST_RUNNING);
    CHECK(sched_board_finish(b, 0, 5.0) == 0);
    CHECK(sched_board_finished(b));
    CHECK(sched_board_check(b) == 0);
    sched_board_destroy(&b);
    sched_suite_destroy(&s);
}

void
test_sched_budget_fits_in_list_order(void)
{
    double p[] = {3, 2, 1};
    bool fits[3];
    CHECK_INT(sched_budget_fit(p, 3, 2, 3.0, fits), ==, 3);
    CHECK_INT(sched_budget_fit(p, 3, 2, 2.5, fits), ==, 2);
    CHECK(!fits[0] && fits[1] && fits[2]);
    CHECK_INT(sched_budget_fit(p, 3, 1, 0.5, fits), ==, 0);
}

void
test_sched_batch_batches_near_target(void)
{
    double p[10];
    size_t sizes[10];
    for (size_t i = 0; i < 10; i++)
        p[i] = 0.125;
    /* Four per batch from the first on (each start-up is paid once), the
     * rest in the last. */
    CHECK_INT(sched_batch_split(p, NULL, 10, 0.5, 64, sizes), ==, 3);
    size_t want[] = {4, 4, 2};
    for (size_t i = 0; i < 3; i++)
        CHECK_INT(sizes[i], ==, want[i]);
    /* At most three per batch. */
    CHECK_INT(sched_batch_split(p, NULL, 10, 0.5, 3, sizes), ==, 4);
    for (size_t i = 0; i < 3; i++)
        CHECK_INT(sizes[i], ==, 3);
    /* A test longer than the target is a batch of its own. */
    double big[] = {5, 0.1, 0.1};
    CHECK_INT(sched_batch_split(big, NULL, 3, 0.5, 64, sizes), ==, 2);
    CHECK_INT(sizes[0], ==, 1);
}

void
test_sched_batch_failed_tests_get_their_own_small_batches(void)
{
    double p[10];
    bool failed[10] = {true, true, true};
    size_t sizes[10];
    for (size_t i = 0; i < 10; i++)
        p[i] = 0.125;
    /* Failed: aim 0.25 -> 2, then the third alone; the rest aims 1.0 -> 7. */
    CHECK_INT(sched_batch_split(p, failed, 10, 1.0, 64, sizes), ==, 3);
    size_t want[] = {2, 1, 7};
    for (size_t i = 0; i < 3; i++)
        CHECK_INT(sizes[i], ==, want[i]);
}

void
test_sched_batch_board_batches_start_every_test_once(void)
{
    sched_suite_t *s = s_suite(40, 1, NULL, NULL);
    sched_board_t *b = s_board(s);
    size_t out[64], n, total = 0, first = 0, last = 0;
    int seen[40] = {0};
    while ((n = sched_board_next_batch(b, 0, 0.0, 8.0, 64, out, 64)) > 0) {
        for (size_t i = 0; i < n; i++) {
            CHECK(sched_board_test_state(b, out[i], NULL) == SCHED_TEST_RUNNING);
            seen[out[i]]++;
        }
        first = first ? first : n;
        last = n;
        total += n;
    }
    CHECK_INT(total, ==, 40);
    for (size_t i = 0; i < 40; i++)
        CHECK_INT(seen[i], ==, 1);
    CHECK_INT(first, ==, 8); /* the target from the first batch on */
    CHECK(last <= 8);
    CHECK(sched_board_check(b) == 0);
    sched_board_destroy(&b);
    sched_suite_destroy(&s);
}

/* The next deal places exactly one test: `test`, at `member`. */
static void
s_deals_one_to(sched_board_t *b, size_t test, size_t member)
{
    size_t owner;
    CHECK_INT(sched_board_deal(b), ==, 1);
    CHECK(sched_board_test_state(b, test, &owner) == SCHED_TEST_QUEUED && owner == member);
    CHECK(sched_board_check(b) == 0);
}

void
test_sched_board_late_member_is_dealt_and_steals(void)
{
    sched_suite_t *s = s_suite(4, 1, NULL, NULL); /* m0: t00 t01 t02 t03 */
    sched_board_t *b = s_board(s);
    size_t t, n, late, owner;
    CHECK(sched_suite_add_member(s, "late", 1, NULL, &late) == 0 && late == 1);
    sched_steal_t st;
    CHECK(sched_board_steal_decide(b, late, 0.0, &st) == -1); /* not synced yet */
    CHECK_INT(sched_board_member_count(b), ==, 1);
    CHECK(sched_board_sync_members(b) == 0);
    CHECK_INT(sched_board_member_count(b), ==, 2);
    CHECK(sched_board_member_alive(b, late));
    CHECK(sched_board_queue(b, late, &n) == NULL && n == 0);
    CHECK(sched_board_check(b) == 0);
    /* m0 runs t00 (1 s) with 3 s queued: the pair meets near 2 s, so the late
     * joiner takes the tail test t03. */
    CHECK(sched_board_next(b, 0, 0.0, &t) == 0 && t == 0);
    CHECK(sched_board_steal_decide(b, late, 0.0, &st) == 0);
    CHECK_INT(st.victim, ==, 0);
    CHECK_INT(st.count, ==, 1);
    CHECK_INT(st.tests[0], ==, 3);
    CHECK(sched_board_steal_apply(b, &st) == 0);
    sched_steal_clear(&st);
    CHECK(sched_board_test_state(b, 3, &owner) == SCHED_TEST_QUEUED && owner == late);
    /* A retry is dealt to the least loaded: the late joiner (1 s against 2 s). */
    CHECK(sched_board_finish(b, 0, 1.0) == 0);
    CHECK(sched_board_requeue(b, 0, 1.0) == 0);
    s_deals_one_to(b, 0, late);
    /* A mutating call naming an unknown member takes it in by itself. */
    CHECK(sched_suite_add_member(s, "later", 2, NULL, &late) == 0 && late == 2);
    CHECK(sched_board_next(b, late, 1.0, &t) == -1); /* empty queue, but known now */
    CHECK_INT(sched_board_member_count(b), ==, 3);
    CHECK(sched_board_check(b) == 0);
    sched_board_destroy(&b);
    sched_suite_destroy(&s);
}

void
test_sched_board_late_member_takes_unschedulable_tests(void)
{
    sched_suite_t *s = s_suite(4, 1, "gpu", NULL); /* t01 needs gpu; m0 has none */
    sched_board_t *b = s_board(s);
    size_t gpu;
    CHECK(sched_board_test_state(b, 1, NULL) == SCHED_TEST_UNSCHEDULABLE);
    CHECK(sched_suite_add_member(s, "gpu-box", 1, "gpu", &gpu) == 0);
    CHECK(sched_board_sync_members(b) == 0);
    CHECK(sched_board_test_state(b, 1, NULL) == SCHED_TEST_PENDING);
    CHECK(!sched_board_finished(b));
    s_deals_one_to(b, 1, gpu);
    sched_board_destroy(&b);
    sched_suite_destroy(&s);
}

void
test_sched_board_requeue_sends_running_or_done_back_to_pending(void)
{
    sched_suite_t *s = s_suite(4, 2, NULL, NULL); /* m0: t00 t02, m1: t01 t03 */
    sched_board_t *b = s_board(s);
    size_t t;
    CHECK(sched_board_next(b, 0, 0.0, &t) == 0 && t == 0);
    CHECK(sched_board_requeue(b, 0, 0.5) == 0); /* its process crashed */
    CHECK(sched_board_test_state(b, 0, NULL) == SCHED_TEST_PENDING);
    CHECK_INT(sched_board_running(b, 0), ==, 0);
    CHECK(sched_board_requeue(b, 0, 0.5) == -1); /* already pending */
    CHECK(sched_board_requeue(b, 4, 0.5) == -1); /* no such test */
    /* Queued at m0, its start unreported: the member's result comes first. */
    CHECK(sched_board_test_state(b, 2, NULL) == SCHED_TEST_QUEUED);
    CHECK(sched_board_requeue(b, 2, 0.5) == 0);
    CHECK(sched_board_test_state(b, 2, NULL) == SCHED_TEST_PENDING);
    CHECK(sched_board_check(b) == 0);
    /* m0 owns nothing, m1 2 s: the next deal puts both back at m0. */
    CHECK_INT(sched_board_deal(b), ==, 2);
    CHECK(sched_board_test_state(b, 0, &t) == SCHED_TEST_QUEUED && t == 0);
    CHECK(sched_board_next(b, 0, 0.5, &t) == 0 && t == 0);
    /* A failed result gets an explicit retry. */
    CHECK(sched_board_finish(b, 0, 1.5) == 0);
    CHECK(sched_board_requeue(b, 0, 1.5) == 0);
    CHECK_INT(sched_board_count(b, SCHED_TEST_DONE), ==, 0);
    CHECK(!sched_board_finished(b));
    CHECK_INT(sched_board_deal(b), ==, 1);
    CHECK(sched_board_check(b) == 0);
    for (size_t m = 0; m < 2; m++)
        s_drain(b, m, 2.0);
    CHECK(sched_board_finished(b));
    CHECK_INT(sched_board_count(b, SCHED_TEST_DONE), ==, 4);
    sched_board_destroy(&b);
    sched_suite_destroy(&s);
}

void
test_sched_board_requeue_avoiding_prefers_another_member(void)
{
    sched_suite_t *s = s_suite(6, 3, NULL, NULL); /* m0: t00 t03, m1: t01 t04, m2: t02 t05 */
    sched_board_t *b = s_board(s);
    size_t t, owner;
    CHECK(sched_board_next(b, 0, 0.0, &t) == 0 && t == 0);
    /* m0 is the least loaded (1 s queued against 2 s), yet the retry avoids it. */
    CHECK(sched_board_requeue_avoiding(b, 0, 0, 0.5) == 0);
    CHECK(sched_board_requeue_avoiding(b, 1, 9, 0.5) == -1); /* no such member */
    s_deals_one_to(b, 0, 1);
    /* m1 dies: the re-deal still avoids m0. */
    CHECK_INT(sched_board_member_lost(b, 1, 1.0), ==, 3);
    CHECK(sched_board_test_state(b, 0, &owner) == SCHED_TEST_QUEUED && owner == 2);
    /* Steals never hand it to m0, even when m0 is idle and m2 is full. */
    s_drain(b, 0, 1.0);
    sched_steal_t st;
    CHECK(sched_board_steal_decide(b, 0, 1.0, &st) == 0);
    for (size_t i = 0; i < st.count; i++)
        CHECK(st.tests[i] != 0);
    sched_steal_clear(&st);
    size_t forged[] = {0};
    sched_steal_t bad = {2, 0, forged, 1, 1.0};
    CHECK(sched_board_steal_apply(b, &bad) == -1);
    /* A plain requeue forgets the avoidance: m0 (empty) gets it. */
    CHECK(sched_board_adopt_running(b, 2, 0, 1.0) == 0);
    CHECK(sched_board_requeue(b, 0, 1.5) == 0);
    s_deals_one_to(b, 0, 0);
    sched_board_destroy(&b);
    sched_suite_destroy(&s);
}

void
test_sched_board_requeue_avoiding_falls_back_to_the_only_able_member(void)
{
    sched_suite_t *s = s_suite(4, 2, "gpu", "gpu"); /* t01 needs gpu: only m0 */
    sched_board_t *b = s_board(s);
    CHECK(sched_board_start(b, 0, 1, 0.0) == 0);
    CHECK(sched_board_requeue_avoiding(b, 1, 0, 0.5) == 0);
    s_deals_one_to(b, 1, 0);
    sched_board_destroy(&b);
    sched_suite_destroy(&s);
}

void
test_sched_board_adopt_running_takes_members_reports(void)
{
    sched_suite_t *s = s_suite(6, 3, NULL, NULL);
    /* A new leader's board: everything pending until reports come in. */
    sched_board_t *b = sched_board_new(s, SCHED_STRATEGY_LPT);
    size_t owner, other;
    CHECK(sched_board_adopt_running(b, 1, 0, 0.0) == 0);
    CHECK(sched_board_test_state(b, 0, &owner) == SCHED_TEST_RUNNING && owner == 1);
    CHECK(sched_board_adopt_running(b, 1, 0, 0.0) == 0);  /* the same report again */
    CHECK(sched_board_adopt_running(b, 2, 0, 0.0) == -1); /* another member claims it */
    CHECK(sched_board_adopt_running(b, 3, 1, 0.0) == -1); /* no such member */
    CHECK(sched_board_adopt_running(b, 1, 6, 0.0) == -1); /* no such test */
    CHECK(sched_board_check(b) == 0);
    sched_board_deal(b);
    /* A test queued at one member but reported running by another moves. */
    CHECK(sched_board_test_state(b, 3, &owner) == SCHED_TEST_QUEUED);
    other = owner == 1 ? 2 : 1;
    CHECK(sched_board_adopt_running(b, other, 3, 0.0) == 0);
    CHECK(sched_board_test_state(b, 3, &owner) == SCHED_TEST_RUNNING && owner == other);
    CHECK_INT(sched_board_running(b, other), ==, other == 1 ? 2 : 1);
    CHECK(sched_board_check(b) == 0);
    /* Done: the caller ignores the duplicate. A dead member adopts nothing. */
    CHECK(sched_board_finish(b, 3, 1.0) == 0);
    CHECK(sched_board_adopt_running(b, 1, 3, 1.0) == -1);
    CHECK(sched_board_member_lost(b, 2, 1.0) >= 0);
    CHECK(sched_board_adopt_running(b, 2, 4, 1.0) == -1);
    CHECK(sched_board_check(b) == 0);
    sched_board_destroy(&b);
    sched_suite_destroy(&s);
}

void
test_sched_board_adopt_done_merges_duplicates(void)
{
    sched_suite_t *s = s_suite(6, 2, NULL, NULL); /* m0: t00 t02 t04, m1: t01 t03 t05 */
    sched_board_t *b = s_board(s);
    size_t n;
    CHECK(sched_board_adopt_done(b, 0, 0.0) == 0); /* queued -> done */
    CHECK(sched_board_adopt_done(b, 0, 0.0) == 1); /* duplicate */
    CHECK(sched_board_adopt_done(b, 6, 0.0) == -1);
    CHECK(sched_board_adopt_running(b, 1, 2, 0.0) == 0); /* queued at m0, runs at m1 */
    CHECK(sched_board_adopt_done(b, 2, 1.0) == 0);       /* running -> done */
    CHECK_INT(sched_board_running(b, 1), ==, 0);
    CHECK(sched_board_adopt_done(b, 4, 1.0) == 0);
    sched_board_queue(b, 0, &n);
    CHECK_INT(n, ==, 0);
    CHECK(sched_board_requeue(b, 4, 1.0) == 0);
    CHECK(sched_board_adopt_done(b, 4, 1.0) == 0); /* pending -> done */
    CHECK(sched_board_adopt_done(b, 4, 1.0) == 1);
    CHECK_INT(sched_board_count(b, SCHED_TEST_DONE), ==, 3);
    CHECK(sched_board_check(b) == 0);
    sched_board_destroy(&b);
    sched_suite_destroy(&s);
}

void
test_sched_board_member_back_is_alive_with_an_empty_queue(void)
{
    sched_suite_t *s = s_suite(6, 2, NULL, NULL);
    sched_board_t *b = s_board(s);
    size_t t, n;
    CHECK(sched_board_next(b, 0, 0.0, &t) == 0);
    CHECK_INT(sched_board_member_lost(b, 0, 0.5), ==, 3);
    CHECK(sched_board_member_back(b, 1) == -1); /* it was alive */
    CHECK(sched_board_member_back(b, 2) == -1); /* no such member */
    CHECK(sched_board_member_back(b, 0) == 0);
    CHECK(sched_board_member_back(b, 0) == -1);
    CHECK(sched_board_member_alive(b, 0));
    sched_board_queue(b, 0, &n);
    CHECK_INT(n, ==, 0);
    CHECK_INT(sched_board_running(b, 0), ==, 0);
    /* It gets work back by stealing from m1, which owns all six. */
    sched_steal_t st;
    CHECK(sched_board_steal_decide(b, 0, 0.5, &st) == 0);
    CHECK_INT(st.victim, ==, 1);
    CHECK(sched_board_steal_apply(b, &st) == 0);
    sched_steal_clear(&st);
    CHECK(sched_board_queue(b, 0, &n) != NULL && n > 0);
    CHECK(sched_board_check(b) == 0);
    sched_board_destroy(&b);
    sched_suite_destroy(&s);
}

void
test_sched_board_member_back_takes_unschedulable_tests(void)
{
    sched_suite_t *s = s_suite(4, 2, "gpu", "gpu"); /* t01 needs gpu: only m0 */
    sched_board_t *b = s_board(s);
    CHECK(sched_board_member_lost(b, 0, 0.0) == 2);
    CHECK(sched_board_test_state(b, 1, NULL) == SCHED_TEST_UNSCHEDULABLE);
    CHECK(sched_board_member_back(b, 0) == 0);
    CHECK(sched_board_test_state(b, 1, NULL) == SCHED_TEST_PENDING);
    s_deals_one_to(b, 1, 0);
    sched_board_destroy(&b);
    sched_suite_destroy(&s);
}

void
test_sched_board_running_list_names_what_a_member_runs(void)
{
    sched_suite_t *s = s_suite(6, 2, NULL, NULL); /* m0: t00 t02 t04 */
    sched_board_t *b = s_board(s);
    size_t out[4] = {0};
    CHECK_INT(sched_board_running_list(b, 0, out, 4), ==, 0);
    CHECK(sched_board_start(b, 0, 4, 0.0) == 0);
    CHECK(sched_board_start(b, 0, 0, 0.0) == 0);
    CHECK_INT(sched_board_running_list(b, 0, out, 4), ==, 2);
    CHECK(out[0] == 0 && out[1] == 4);
    out[1] = 99;
    CHECK_INT(sched_board_running_list(b, 0, out, 1), ==, 2); /* only one written */
    CHECK(out[0] == 0 && out[1] == 99);
    CHECK_INT(sched_board_running_list(b, 1, out, 4), ==, 0);
    CHECK_INT(sched_board_running_list(b, 7, out, 4), ==, 0);
    sched_board_destroy(&b);
    sched_suite_destroy(&s);
}

/* The board still keeps every test in one place; then both go. */
static void
s_check_and_free(sched_board_t **b, sched_suite_t **s)
{
    CHECK(sched_board_check(*b) == 0);
    sched_board_destroy(b);
    sched_suite_destroy(s);
}

void
test_sched_board_moved_applies_each_steal_once(void)
{
    sched_suite_t *s = s_suite(10, 2, NULL, NULL); /* m0: t00 t02 t04 t06 t08 */
    sched_board_t *b = s_board(s);
    size_t owner, n;
    CHECK_INT(sched_board_version(b, 4), ==, 1); /* dealt once */
    CHECK(sched_board_start(b, 0, 6, 0.0) == 0); /* started after the victim answered */
    size_t given[] = {4, 6, 8};
    uint32_t v2[] = {2, 2, 2};
    CHECK_INT(sched_board_moved(b, 0, 1, given, v2, 3, NULL), ==, 2);
    CHECK(sched_board_test_state(b, 4, &owner) == SCHED_TEST_QUEUED && owner == 1);
    CHECK(sched_board_test_state(b, 8, &owner) == SCHED_TEST_QUEUED && owner == 1);
    CHECK(sched_board_test_state(b, 6, &owner) == SCHED_TEST_RUNNING && owner == 0);
    CHECK_INT(sched_board_version(b, 4), ==, 2);
    const size_t *q = sched_board_queue(b, 1, &n);
    CHECK_INT(n, ==, 7);
    CHECK(q[0] == 1 && q[2] == 4 && q[6] == 9); /* merged in run order */
    CHECK(sched_board_queued_work(b, 0) == 2.0);
    /* The other side's report of the same steal moves nothing. */
    CHECK_INT(sched_board_moved(b, 0, 1, given, v2, 3, NULL), ==, 0);
    size_t twice[] = {2, 2, 99};
    CHECK_INT(sched_board_moved(b, 0, 1, twice, v2, 3, NULL), ==, 1);
    /* No news: t00 is at m0 with version 1 already. */
    size_t first[] = {0};
    uint32_t v1[] = {1};
    CHECK_INT(sched_board_moved(b, 0, 1, first, v1, 1, NULL), ==, 0);
    CHECK_INT(sched_board_moved(b, 1, 1, twice, v2, 1, NULL), ==, -1);
    CHECK_INT(sched_board_moved(b, 0, 7, twice, v2, 1, NULL), ==, -1);
    CHECK_INT(sched_board_moved(b, 0, 1, twice, NULL, 1, NULL), ==, -1);
    s_check_and_free(&b, &s);
}

void
test_sched_board_moved_to_a_dead_thief_is_dealt_to_survivors(void)
{
    sched_suite_t *s = s_suite(9, 3, NULL, NULL); /* m0: t00 t03 t06 */
    sched_board_t *b = s_board(s);
    size_t owner;
    CHECK(sched_board_member_lost(b, 2, 0.0) == 3);
    /* m0 handed t06 to m2 just before m2 died; the report comes after. */
    size_t given[] = {6, 0}, moved[2] = {99, 99};
    uint32_t v2[] = {2, 2};
    CHECK(sched_board_start(b, 0, 0, 0.0) == 0); /* t00 stays with its runner */
    CHECK_INT(sched_board_moved(b, 0, 2, given, v2, 2, moved), ==, 1);
    CHECK_INT(moved[0], ==, 6);
    CHECK_INT(moved[1], ==, 99);
    CHECK(sched_board_test_state(b, 6, &owner) == SCHED_TEST_QUEUED && owner != 2);
    CHECK_INT(sched_board_version(b, 6), ==, 3); /* dealt again: the member is told 3 */
    CHECK_INT(sched_board_count(b, SCHED_TEST_PENDING), ==, 0);
    s_check_and_free(&b, &s);
}

void
test_sched_board_moved_after_the_victim_died_changes_nothing(void)
{
    sched_suite_t *s = s_suite(9, 3, NULL, NULL); /* m0: t00 t03 t06 */
    sched_board_t *b = s_board(s);
    size_t owner[3];
    CHECK(sched_board_member_lost(b, 0, 0.0) == 3);
    for (size_t i = 0; i < 3; i++)
        CHECK(sched_board_test_state(b, 3 * i, &owner[i]) == SCHED_TEST_QUEUED);
    size_t given[] = {0, 3, 6};
    uint32_t v2[] = {2, 2, 2}; /* what m0 would have said: the re-deal said 2 first */
    CHECK_INT(sched_board_moved(b, 0, 1, given, v2, 3, NULL), ==, 0);
    for (size_t i = 0; i < 3; i++) {
        size_t now_at;
        CHECK(sched_board_test_state(b, 3 * i, &now_at) == SCHED_TEST_QUEUED);
        CHECK_INT(now_at, ==, owner[i]);
    }
    s_check_and_free(&b, &s);
}

void
test_sched_board_moved_late_report_does_not_undo_a_later_move(void)
{
    sched_suite_t *s = s_suite(4, 3, NULL, NULL); /* m0: t00 t03 */
    sched_board_t *b = s_board(s);
    size_t owner, x[] = {3};
    uint32_t v2[] = {2}, v3[] = {3}, v4[] = {4};
    /* m0 hands t03 to m1 (version 2), m1 hands it back to m0 (3), and the
     * leader hears of the second steal first: t03 stays at m0. */
    CHECK_INT(sched_board_moved(b, 1, 0, x, v3, 1, NULL), ==, 0);
    CHECK_INT(sched_board_moved(b, 0, 1, x, v2, 1, NULL), ==, 0);
    CHECK(sched_board_test_state(b, 3, &owner) == SCHED_TEST_QUEUED && owner == 0);
    CHECK_INT(sched_board_version(b, 3), ==, 3);
    /* m0 hands it to m2 (4); m2 dies and the deal puts it back at m0 (5);
     * m2's own report of version 4 comes after: no news. */
    CHECK_INT(sched_board_moved(b, 0, 2, x, v4, 1, NULL), ==, 1);
    CHECK(sched_board_member_lost(b, 2, 0.0) >= 1);
    CHECK_INT(sched_board_version(b, 3), ==, 5);
    CHECK(sched_board_test_state(b, 3, &owner) == SCHED_TEST_QUEUED);
    size_t dealt_to = owner;
    CHECK_INT(sched_board_moved(b, 0, 2, x, v4, 1, NULL), ==, 0);
    CHECK(sched_board_test_state(b, 3, &owner) == SCHED_TEST_QUEUED && owner == dealt_to);
    s_check_and_free(&b, &s);
}

void
test_sched_board_adopt_queued_takes_what_a_member_holds(void)
{
    sched_suite_t *s = s_suite(8, 3, NULL, NULL);
    sched_board_t *b = sched_board_new(s, SCHED_STRATEGY_LPT); /* a new leader: all pending */
    size_t owner, n;
    size_t held0[] = {3, 1, 2, 3};
    CHECK_INT(sched_board_adopt_queued(b, 0, held0, NULL, 4, 0.0), ==, 3);
    const size_t *q = sched_board_queue(b, 0, &n);
    CHECK(n == 3 && q[0] == 1 && q[1] == 2 && q[2] == 3);
    size_t held1[] = {2, 5};
    uint32_t same[] = {0, 0}, newer[] = {1, 0};
    CHECK_INT(sched_board_adopt_queued(b, 1, held1, same, 2, 0.0), ==, 1); /* t02 is m0's */
    CHECK(sched_board_test_state(b, 2, &owner) == SCHED_TEST_QUEUED && owner == 0);
    /* m1 took t02 from m0 after m0 had reported: its version says so. */
    CHECK_INT(sched_board_adopt_queued(b, 1, held1, newer, 2, 0.0), ==, 1);
    CHECK(sched_board_test_state(b, 2, &owner) == SCHED_TEST_QUEUED && owner == 1);
    CHECK_INT(sched_board_adopt_queued(b, 0, held0, NULL, 1, 0.0), ==, 0); /* said twice */
    CHECK(sched_board_adopt_running(b, 1, 7, 0.0) == 0);
    size_t late[] = {7};
    CHECK_INT(sched_board_adopt_queued(b, 2, late, NULL, 1, 0.0), ==, 0); /* runs at m1 */
    CHECK(sched_board_check(b) == 0);
    CHECK_INT(sched_board_deal(b), ==, 3); /* t00 t04 t06: nobody reported them */
    CHECK(sched_board_member_lost(b, 2, 0.0) >= 0);
    CHECK_INT(sched_board_adopt_queued(b, 2, late, NULL, 1, 0.0), ==, -1);
    s_check_and_free(&b, &s);
}
