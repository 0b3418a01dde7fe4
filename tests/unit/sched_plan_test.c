/* Behaviours of sched/'s model and strategies: prediction, ordering and the
 * five sharding strategies, on small hand-checked inputs and on seeded random
 * instances (requirements respected, each test dealt once, LPT's 4/3 bound).
 */
#include "harness.h"
#include "sched/sched.h"

#include <math.h>

#define TEST(g, n) void test_##g##_##n(void);
#include "sched.list"
#undef TEST

/* A suite of `count` tests t0.. with the given predictions (no file, no
 * requirement) on `members` members m0.. with one slot each. */
static sched_suite_t *
s_suite(const double *predicted, size_t count, size_t members)
{
    sched_suite_t *s = sched_suite_new();
    char name[32];
    for (size_t m = 0; m < members; m++) {
        snprintf(name, sizeof(name), "m%zu", m);
        CHECK(sched_suite_add_member(s, name, 1, NULL, NULL) == 0);
    }
    for (size_t i = 0; i < count; i++) {
        snprintf(name, sizeof(name), "t%zu", i);
        CHECK(sched_suite_add_test(s, name, NULL, NULL, NULL) == 0);
        CHECK(sched_suite_set_predicted(s, i, predicted[i], 1.0) == 0);
    }
    return s;
}

static void
s_check_queue(const sched_plan_t *plan, size_t member, const size_t *want, size_t count)
{
    size_t n;
    const size_t *q = sched_plan_queue(plan, member, &n);
    CHECK_INT(n, ==, count);
    for (size_t i = 0; i < count; i++)
        CHECK_INT(q[i], ==, want[i]);
}

void
test_sched_predict_ewma_weights_the_newest(void)
{
    double d[] = {1.0, 2.0, 4.0};
    /* 1 -> 0.3*2 + 0.7*1 = 1.3 -> 0.3*4 + 0.7*1.3 = 2.11 */
    CHECK(fabs(sched_predict_ewma(d, 3, 0.3) - 2.11) < 1e-12);
    CHECK(sched_predict_ewma(d, 0, 0.3) == 0.0);
    sched_suite_t *s = sched_suite_new();
    CHECK(sched_suite_add_test(s, "a", NULL, NULL, NULL) == 0);
    sched_history_t h = {d, 3, 0, false, 0.0};
    CHECK(sched_suite_set_history(s, 0, &h) == 0);
    sched_predict_source_t src;
    double conf;
    CHECK(fabs(sched_suite_predicted(s, 0, &conf, &src) - 2.11) < 1e-12);
    CHECK_INT(src, ==, SCHED_PREDICT_HISTORY);
    CHECK(conf > 0.5 && conf < 1.0);
    sched_suite_destroy(&s);
    CHECK(s == NULL);
    sched_suite_destroy(&s);
}

void
test_sched_predict_unknown_test_gets_file_average(void)
{
    sched_suite_t *s = sched_suite_new();
    double d2 = 2.0, d4 = 4.0, d9 = 9.0;
    CHECK(sched_suite_add_test(s, "a", "f.py", NULL, NULL) == 0);
    CHECK(sched_suite_add_test(s, "b", "f.py", NULL, NULL) == 0);
    CHECK(sched_suite_add_test(s, "c", "f.py", NULL, NULL) == 0);
    CHECK(sched_suite_add_test(s, "d", "g.py", NULL, NULL) == 0);
    sched_history_t h = {&d2, 1, 0, false, 0};
    sched_suite_set_history(s, 0, &h);
    h.durations = &d4;
    sched_suite_set_history(s, 1, &h);
    h.durations = &d9;
    sched_suite_set_history(s, 3, &h);
    sched_suite_predict(s, 1.0);
    sched_predict_source_t src;
    CHECK(fabs(sched_suite_predicted(s, 2, NULL, &src) - 3.0) < 1e-12);
    CHECK_INT(src, ==, SCHED_PREDICT_FILE_AVERAGE);
    sched_suite_destroy(&s);
}

void
test_sched_predict_unknown_test_gets_suite_median(void)
{
    sched_suite_t *s = sched_suite_new();
    double d[] = {1.0, 10.0, 3.0, 7.0};
    for (size_t i = 0; i < 4; i++) {
        char id[8] = {(char)('a' + i), 0};
        CHECK(sched_suite_add_test(s, id, id, NULL, NULL) == 0); /* a file of its own */
        sched_history_t h = {&d[i], 1, 0, false, 0};
        sched_suite_set_history(s, i, &h);
    }
    CHECK(sched_suite_add_test(s, "new", "other.py", NULL, NULL) == 0);
    sched_suite_predict(s, 1.0);
    sched_predict_source_t src;
    CHECK(fabs(sched_suite_predicted(s, 4, NULL, &src) - 5.0) < 1e-12); /* (3 + 7) / 2 */
    CHECK_INT(src, ==, SCHED_PREDICT_SUITE_MEDIAN);
    sched_suite_destroy(&s);
}

void
test_sched_predict_nothing_known_gets_default(void)
{
    sched_suite_t *s = sched_suite_new();
    CHECK(sched_suite_add_test(s, "a", "f.py", NULL, NULL) == 0);
    CHECK(sched_suite_add_test(s, "a", "f.py", NULL, NULL) == -1); /* duplicate id */
    sched_suite_predict(s, 0.25);
    sched_predict_source_t src;
    CHECK(sched_suite_predicted(s, 0, NULL, &src) == 0.25);
    CHECK_INT(src, ==, SCHED_PREDICT_DEFAULT);
    sched_suite_destroy(&s);
}

void
test_sched_order_failed_first_then_longest_then_collected(void)
{
    double p[] = {1.0, 5.0, 5.0, 2.0, 0.5};
    sched_suite_t *s = s_suite(p, 5, 1);
    sched_history_t failed = {NULL, 0, 1, true, 0};
    sched_suite_set_history(s, 4, &failed);    /* t4 failed: first despite 0.5 s */
    size_t order[5], want[] = {4, 1, 2, 3, 0}; /* t1 before t2: equal, as collected */
    sched_suite_order(s, order);
    for (size_t i = 0; i < 5; i++)
        CHECK_INT(order[i], ==, want[i]);
    sched_suite_destroy(&s);
    /* Equal predictions keep the framework's order, not the ids' (a test
     * may depend on one defined before it in its module). */
    s = sched_suite_new();
    const char *ids[] = {"m.py::test_z_setup", "m.py::test_b_uses", "m.py::test_a_last"};
    for (size_t i = 0; i < 3; i++)
        CHECK_INT(sched_suite_add_test(s, ids[i], "m.py", NULL, NULL), ==, 0);
    sched_suite_predict(s, 0.5);
    sched_suite_order(s, order);
    for (size_t i = 0; i < 3; i++)
        CHECK_INT(order[i], ==, i);
    sched_suite_destroy(&s);
}

void
test_sched_lpt_deals_hand_checked_queues(void)
{
    /* 7 -> m0; 5 -> m1; 4 -> m1 (5 < 7); 3 -> m0 (7 < 9); 2 -> m1 (9 < 10). */
    double p[] = {3, 7, 2, 5, 4};
    sched_suite_t *s = s_suite(p, 5, 2);
    sched_plan_t *plan = sched_plan_new(s, SCHED_STRATEGY_LPT);
    size_t q0[] = {1, 0}, q1[] = {3, 4, 2};
    s_check_queue(plan, 0, q0, 2);
    s_check_queue(plan, 1, q1, 3);
    CHECK(sched_plan_makespan(plan) == 11.0);
    sched_plan_destroy(&plan);
    CHECK(plan == NULL);
    sched_suite_destroy(&s);
}

void
test_sched_lpt_weighs_load_by_slots(void)
{
    sched_suite_t *s = sched_suite_new();
    CHECK(sched_suite_add_member(s, "big", 3, NULL, NULL) == 0);
    CHECK(sched_suite_add_member(s, "small", 1, NULL, NULL) == 0);
    char id[16];
    for (size_t i = 0; i < 40; i++) {
        snprintf(id, sizeof(id), "t%02zu", i);
        sched_suite_add_test(s, id, NULL, NULL, NULL);
        sched_suite_set_predicted(s, i, 1.0, 1.0);
    }
    sched_plan_t *plan = sched_plan_new(s, SCHED_STRATEGY_LPT);
    CHECK(sched_plan_load(plan, 0) == 30.0);
    CHECK(sched_plan_load(plan, 1) == 10.0);
    sched_plan_destroy(&plan);
    sched_suite_destroy(&s);
}

/* Optimal makespan of n jobs on m identical machines, by brute force. */
static double
s_opt(const double *p, size_t n, size_t m, size_t i, double *load)
{
    if (i == n) {
        double worst = 0;
        for (size_t k = 0; k < m; k++)
            worst = load[k] > worst ? load[k] : worst;
        return worst;
    }
    double best = INFINITY;
    for (size_t k = 0; k < m; k++) {
        load[k] += p[i];
        double v = s_opt(p, n, m, i + 1, load);
        load[k] -= p[i];
        best = v < best ? v : best;
        if (load[k] == 0)
            break; /* empty machines are interchangeable */
    }
    return best;
}

void
test_sched_lpt_respects_four_thirds_bound(void)
{
    sched_rng_t rng;
    sched_rng_seed(&rng, 7);
    double worst_ratio = 0;
    for (int round = 0; round < 300; round++) {
        size_t m = 2 + sched_rng_next(&rng) % 3, n = m + 1 + sched_rng_next(&rng) % 6;
        double p[10], load[4] = {0};
        for (size_t i = 0; i < n; i++)
            p[i] = 1 + (double)(sched_rng_next(&rng) % 20);
        sched_suite_t *s = s_suite(p, n, m);
        sched_plan_t *plan = sched_plan_new(s, SCHED_STRATEGY_LPT);
        double opt = s_opt(p, n, m, 0, load);
        double ratio = sched_plan_makespan(plan) / opt;
        CHECK(ratio <= 4.0 / 3.0 - 1.0 / (3.0 * (double)m) + 1e-9);
        worst_ratio = ratio > worst_ratio ? ratio : worst_ratio;
        sched_plan_destroy(&plan);
        sched_suite_destroy(&s);
    }
    CHECK(worst_ratio > 1.0); /* the instances were not all trivial */
}

void
test_sched_lpt_same_inputs_give_same_plan(void)
{
    double p[64];
    sched_rng_t rng;
    sched_rng_seed(&rng, 3);
    for (size_t i = 0; i < 64; i++)
        p[i] = (double)(sched_rng_next(&rng) % 4); /* many ties */
    sched_suite_t *a = s_suite(p, 64, 5), *b = s_suite(p, 64, 5);
    sched_plan_t *pa = sched_plan_new(a, SCHED_STRATEGY_LPT);
    sched_plan_t *pb = sched_plan_new(b, SCHED_STRATEGY_LPT);
    for (size_t m = 0; m < 5; m++) {
        size_t na, nb;
        const size_t *qa = sched_plan_queue(pa, m, &na);
        s_check_queue(pb, m, qa, na);
        (void)nb;
    }
    sched_plan_destroy(&pa);
    sched_plan_destroy(&pb);
    sched_suite_destroy(&a);
    sched_suite_destroy(&b);
}

void
test_sched_round_robin_deals_by_count_in_collection_order(void)
{
    double p[] = {1, 9, 1, 9, 1};
    sched_suite_t *s = s_suite(p, 5, 2);
    sched_plan_t *plan = sched_plan_new(s, SCHED_STRATEGY_ROUND_ROBIN);
    /* t0 t2 t4 -> m0 and t1 t3 -> m1 whatever their length; each queue runs
     * longest first. */
    size_t q0[] = {0, 2, 4}, q1[] = {1, 3};
    s_check_queue(plan, 0, q0, 3);
    s_check_queue(plan, 1, q1, 2);
    sched_plan_destroy(&plan);
    sched_suite_destroy(&s);
}

void
test_sched_file_keeps_a_files_tests_together(void)
{
    sched_suite_t *s = sched_suite_new();
    sched_suite_add_member(s, "m0", 1, NULL, NULL);
    sched_suite_add_member(s, "m1", 1, NULL, NULL);
    /* a.py: 4+1 = 5, b.py: 3+3 = 6, c.py: 2. b -> m0, a -> m1, c -> m1 (5 < 6). */
    const char *files[] = {"a.py", "b.py", "a.py", "b.py", "c.py"};
    double p[] = {4, 3, 1, 3, 2};
    char id[8];
    for (size_t i = 0; i < 5; i++) {
        snprintf(id, sizeof(id), "t%zu", i);
        sched_suite_add_test(s, id, files[i], NULL, NULL);
        sched_suite_set_predicted(s, i, p[i], 1);
    }
    sched_plan_t *plan = sched_plan_new(s, SCHED_STRATEGY_FILE);
    size_t q0[] = {1, 3}, q1[] = {0, 2, 4};
    s_check_queue(plan, 0, q0, 2);
    s_check_queue(plan, 1, q1, 3);
    sched_plan_destroy(&plan);
    sched_suite_destroy(&s);
}

static sched_suite_t *
s_tagged_suite(void)
{
    sched_suite_t *s = sched_suite_new();
    sched_suite_add_member(s, "plain", 1, "os=linux", NULL);
    sched_suite_add_member(s, "gpu", 1, "os=linux, gpu=a100", NULL);
    sched_suite_add_member(s, "mac", 1, "os=darwin", NULL);
    const char *reqs[] = {"gpu", "os=linux", NULL, "os=darwin", "gpu,os=darwin", "os=linux,gpu"};
    char id[8];
    for (size_t i = 0; i < 6; i++) {
        snprintf(id, sizeof(id), "t%zu", i);
        CHECK(sched_suite_add_test(s, id, NULL, reqs[i], NULL) == 0);
        sched_suite_set_predicted(s, i, 1.0 + (double)i, 1);
    }
    return s;
}

void
test_sched_tag_sends_requirements_only_to_matching_members(void)
{
    sched_suite_t *s = s_tagged_suite();
    CHECK(sched_suite_can_run(s, 0, 1) && !sched_suite_can_run(s, 0, 0));
    CHECK(sched_suite_can_run(s, 1, 0) && !sched_suite_can_run(s, 1, 2));
    sched_plan_t *plan = sched_plan_new(s, SCHED_STRATEGY_TAG);
    size_t n;
    for (size_t m = 0; m < 3; m++) {
        const size_t *q = sched_plan_queue(plan, m, &n);
        for (size_t i = 0; i < n; i++)
            CHECK(sched_suite_can_run(s, q[i], m));
    }
    /* The most constrained go first: t5 (6 s) and t0 (1 s) to gpu, t3 (4 s) to
     * mac; then t1 (linux, 2 s) to the idle plain member and the free t2 (3 s)
     * to plain too (2 < 4 < 7). Queues run in rank order. */
    size_t gpu[] = {5, 0}, mac[] = {3}, plain[] = {2, 1};
    s_check_queue(plan, 1, gpu, 2);
    s_check_queue(plan, 2, mac, 1);
    s_check_queue(plan, 0, plain, 2);
    sched_plan_destroy(&plan);
    sched_suite_destroy(&s);
}

void
test_sched_tag_reports_unschedulable_tests(void)
{
    sched_suite_t *s = s_tagged_suite();
    sched_suite_set_alive(s, 1, false); /* no gpu left */
    size_t n;
    sched_strategy_t all[] = {SCHED_STRATEGY_LPT, SCHED_STRATEGY_ROUND_ROBIN, SCHED_STRATEGY_FILE,
                              SCHED_STRATEGY_TAG, SCHED_STRATEGY_FAIL_FIRST};
    for (size_t k = 0; k < 5; k++) {
        sched_plan_t *plan = sched_plan_new(s, all[k]);
        const size_t *nobody = sched_plan_unschedulable(plan, &n);
        CHECK_INT(n, ==, 3); /* t5, t4, t0 in rank order */
        CHECK_INT(nobody[0], ==, 5);
        CHECK_INT(nobody[1], ==, 4);
        CHECK_INT(nobody[2], ==, 0);
        sched_plan_queue(plan, 1, &n);
        CHECK_INT(n, ==, 0);
        sched_plan_destroy(&plan);
    }
    sched_suite_destroy(&s);
}

void
test_sched_fail_first_spreads_failed_tests_first(void)
{
    double p[] = {8, 1, 1, 1, 2};
    sched_suite_t *s = s_suite(p, 5, 2);
    sched_history_t failed = {NULL, 0, 2, true, 0.1};
    for (size_t t = 0; t <= 3; t++)
        sched_suite_set_history(s, t, &failed);
    /* By count: t0 -> m0, t1 -> m1, t2 -> m1 (tie on count, m1 less loaded),
     * t3 -> m0 (fewer failed); then LPT: t4 -> m1 (2 < 9). */
    sched_plan_t *plan = sched_plan_new(s, SCHED_STRATEGY_FAIL_FIRST);
    size_t q0[] = {0, 3}, q1[] = {1, 2, 4};
    s_check_queue(plan, 0, q0, 2);
    s_check_queue(plan, 1, q1, 3);
    sched_plan_destroy(&plan);
    /* Plain LPT balances load, not failures: m1 gets three failed tests. */
    plan = sched_plan_new(s, SCHED_STRATEGY_LPT);
    size_t l0[] = {0}, l1[] = {1, 2, 3, 4};
    s_check_queue(plan, 0, l0, 1);
    s_check_queue(plan, 1, l1, 4);
    sched_plan_destroy(&plan);
    sched_suite_destroy(&s);
}

void
test_sched_plan_every_strategy_deals_each_test_once_within_requirements(void)
{
    sched_rng_t rng;
    sched_rng_seed(&rng, 11);
    const char *tags[] = {NULL, "gpu", "os=mac", "gpu,os=mac"};
    const char *reqs[] = {NULL, NULL, "gpu", "os=mac", "os=mac,gpu", "fpga"};
    for (int round = 0; round < 40; round++) {
        sched_suite_t *s = sched_suite_new();
        size_t members = 1 + sched_rng_next(&rng) % 6, tests = sched_rng_next(&rng) % 200;
        char id[32], file[16];
        for (size_t m = 0; m < members; m++) {
            snprintf(id, sizeof(id), "m%zu", m);
            sched_suite_add_member(s, id, 1 + (unsigned)(sched_rng_next(&rng) % 4),
                                   tags[sched_rng_next(&rng) % 4], NULL);
            sched_suite_set_alive(s, m, sched_rng_next(&rng) % 5 != 0);
        }
        for (size_t i = 0; i < tests; i++) {
            snprintf(id, sizeof(id), "t%zu", i);
            snprintf(file, sizeof(file), "f%zu", sched_rng_next(&rng) % 7);
            sched_suite_add_test(s, id, file, reqs[sched_rng_next(&rng) % 6], NULL);
            sched_suite_set_predicted(s, i, sched_rng_uniform(&rng) * 10, 1);
            sched_history_t h = {NULL, 0, 0, sched_rng_next(&rng) % 8 == 0, 0};
            sched_suite_set_history(s, i, &h);
        }
        for (sched_strategy_t st = SCHED_STRATEGY_LPT; st <= SCHED_STRATEGY_FAIL_FIRST; st++) {
            sched_plan_t *plan = sched_plan_new(s, st);
            int *seen = calloc(tests + 1, sizeof(int));
            size_t n;
            for (size_t m = 0; m < members; m++) {
                const size_t *q = sched_plan_queue(plan, m, &n);
                CHECK(n == 0 || sched_suite_member_alive(s, m));
                for (size_t i = 0; i < n; i++) {
                    CHECK(sched_suite_can_run(s, q[i], m));
                    seen[q[i]]++;
                }
            }
            const size_t *nobody = sched_plan_unschedulable(plan, &n);
            for (size_t i = 0; i < n; i++) {
                for (size_t m = 0; m < members; m++)
                    CHECK(!sched_suite_member_alive(s, m) || !sched_suite_can_run(s, nobody[i], m));
                seen[nobody[i]]++;
            }
            for (size_t i = 0; i < tests; i++)
                CHECK_INT(seen[i], ==, 1);
            free(seen);
            sched_plan_destroy(&plan);
        }
        sched_suite_destroy(&s);
    }
}

/* Nothing known (a first run): LPT gives each member its share, but as a
 * contiguous block in collection order, as pytest-xdist deals, not one test
 * each in turn (which split every module across members). Known durations,
 * even equal ones, are still dealt longest first to the least loaded. */
void
test_sched_lpt_deals_unknown_tests_in_blocks(void)
{
    sched_suite_t *s = sched_suite_new();
    char name[32];
    for (size_t m = 0; m < 2; m++) {
        snprintf(name, sizeof(name), "m%zu", m);
        CHECK(sched_suite_add_member(s, name, m == 0 ? 1 : 2, NULL, NULL) == 0);
    }
    for (size_t i = 0; i < 9; i++) {
        snprintf(name, sizeof(name), "mod%zu.py::t%zu", i / 3, i);
        CHECK(sched_suite_add_test(s, name, NULL, NULL, NULL) == 0);
    }
    sched_suite_predict(s, 0.5);
    sched_plan_t *plan = sched_plan_new(s, SCHED_STRATEGY_LPT);
    size_t q0[] = {0, 1, 2}, q1[] = {3, 4, 5, 6, 7, 8}; /* by slots: 1 and 2 */
    s_check_queue(plan, 0, q0, 3);
    s_check_queue(plan, 1, q1, 6);
    sched_plan_destroy(&plan);
    sched_suite_destroy(&s);

    double p[] = {1, 1, 1, 1};
    s = s_suite(p, 4, 2);
    plan = sched_plan_new(s, SCHED_STRATEGY_LPT);
    size_t known0[] = {0, 2}, known1[] = {1, 3};
    s_check_queue(plan, 0, known0, 2);
    s_check_queue(plan, 1, known1, 2);
    sched_plan_destroy(&plan);
    sched_suite_destroy(&s);
}
