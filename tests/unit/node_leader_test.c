/* The leader's bookkeeping, driven directly with a fake clock: what a member
 * may prefetch, when a failover's rebuild window closes, and results handed
 * over on behalf of a dead leader.
 */
#include "harness.h"
#include "node/leader.h"

#define TEST(g, n) void test_##g##_##n(void);
#include "node.list"
#undef TEST

/* Tests "t0".."t(n-1)"; each with one recorded duration of seconds[i]
 * (negative: nothing known). */
static shoal_leader_t *
s_leader_with(size_t n, const double *seconds, const shoal_leader_config_t *config)
{
    shoal_collection_t tests = {.tests = calloc(n, sizeof(shoal_test_t)), .count = n};
    shoal_history_entry_t history[32] = {0};
    size_t known = 0;
    CHECK(n <= 32);
    for (size_t i = 0; i < n; i++) {
        char id[16];
        snprintf(id, sizeof(id), "t%zu", i);
        tests.tests[i] =
            (shoal_test_t){.id = strdup(id), .file = strdup(""), .requires = strdup("")};
        if (seconds[i] >= 0) {
            history[known].id = tests.tests[i].id; /* borrowed: the leader copies nothing of it */
            history[known].durations[0] = seconds[i];
            history[known].count = 1;
            known++;
        }
    }
    shoal_leader_t *leader = shoal_leader_new(config, &tests, history, known, 0.0);
    CHECK(leader != NULL);
    return leader;
}

static shoal_leader_t *
s_leader(size_t n, const double *seconds, bool rebuild)
{
    shoal_leader_config_t config = {.session = "s",
                                    .term = rebuild ? 2 : 1,
                                    .batch_max = 1,
                                    .default_prediction = 0.5,
                                    .rebuild_seconds = 2.0,
                                    .rebuild = rebuild};
    return s_leader_with(n, seconds, &config);
}

static size_t
s_want(shoal_leader_t *leader, const char *name, unsigned free_slots, bool fresh, double now)
{
    shoal_item_t *items = NULL;
    size_t n = shoal_leader_want(leader, name, free_slots, NULL, 0, fresh, now, &items);
    free(items);
    return n;
}

void
test_node_leader_prefetch_takes_only_quick_tests(void)
{
    /* Two long tests and four quick ones, one member with one slot. */
    double seconds[] = {5.0, 4.0, 0.01, 0.01, 0.01, 0.01};
    shoal_leader_t *leader = s_leader(6, seconds, false);
    shoal_leader_member(leader, "a", 1, NULL, true, 0.0);
    /* An idle slot gets the longest test; the prefetch would hold the next
     * long one where no one else could steal it, so it gets nothing. */
    CHECK_INT(s_want(leader, "a", 1 + SHOAL_PREFETCH, true, 0.0), ==, 1);
    CHECK_INT(s_want(leader, "a", SHOAL_PREFETCH, false, 0.1), ==, 0);
    /* The idle slot takes the other long test; quick ones are prefetched
     * behind it, several at once. */
    CHECK_INT(s_want(leader, "a", 1 + SHOAL_PREFETCH, false, 5.0), ==, 5);
    shoal_leader_destroy(&leader);
}

void
test_node_leader_prefetch_never_steals(void)
{
    double seconds[] = {2, 2, 2, 2};
    shoal_leader_t *leader = s_leader(4, seconds, false);
    shoal_leader_member(leader, "b", 1, NULL, true, 0.0); /* all four are dealt to b */
    CHECK_INT(s_want(leader, "b", 1 + SHOAL_PREFETCH, true, 0.0), ==, 1);
    shoal_leader_member(leader, "a", 1, NULL, true, 0.0); /* a arrives, its queue empty */
    /* a says its slot is busy: a prefetch must not take b's queued work,
     * as a could not start it any sooner than b. */
    CHECK_INT(s_want(leader, "a", SHOAL_PREFETCH, true, 0.1), ==, 0);
    /* An idle slot steals; the leader remembers the thief, so the summary
     * credits a with the steal. */
    shoal_item_t *items = NULL;
    size_t n = shoal_leader_want(leader, "a", 1 + SHOAL_PREFETCH, NULL, 0, false, 0.2, &items);
    CHECK_INT(n, >=, 1);
    size_t t = (size_t)(items[0].id[1] - '0');
    CHECK_STR(shoal_leader_result(leader, t)->thief, "a");
    free(items);
    shoal_leader_destroy(&leader);
}

void
test_node_leader_unknown_tests_learn_from_results(void)
{
    /* Nothing known: the default prediction (0.5 s) is too long to prefetch,
     * until the session has seen enough quick results. */
    double seconds[20];
    for (size_t i = 0; i < 20; i++)
        seconds[i] = -1;
    shoal_leader_t *leader = s_leader(20, seconds, false);
    shoal_leader_member(leader, "a", 1, NULL, true, 0.0);
    shoal_item_t *items = NULL;
    size_t n = shoal_leader_want(leader, "a", 1 + SHOAL_PREFETCH, NULL, 0, true, 0.0, &items);
    CHECK_INT(n, ==, 1);
    CHECK_INT(s_want(leader, "a", SHOAL_PREFETCH, false, 0.0), ==, 0);
    free(items);
    double now = 0;
    for (int k = 0; k < 10; k++) {
        n = shoal_leader_want(leader, "a", 1 + SHOAL_PREFETCH, NULL, 0, false, now, &items);
        CHECK_INT(n, >=, 1);
        for (size_t i = 0; i < n; i++) {
            items[i].outcome = SHOAL_OUTCOME_PASSED;
            items[i].seconds = 0.002;
        }
        shoal_leader_results(leader, "a", items, n, now += 0.01);
        free(items);
        if (s_want(leader, "a", SHOAL_PREFETCH, false, now) > 0)
            break;
        CHECK(k < 9); /* learned within S_OBSERVED_MIN results */
    }
    shoal_leader_destroy(&leader);
}

void
test_node_leader_rebuild_ends_once_everyone_reported(void)
{
    double seconds[] = {1, 1, 1, 1};
    shoal_leader_t *leader = s_leader(4, seconds, true);
    shoal_leader_member(leader, "a", 1, NULL, true, 0.0);
    shoal_leader_member(leader, "b", 1, NULL, true, 0.0);
    shoal_leader_member(leader, "dead", 1, NULL, false, 0.0);
    /* Within the window, a alone has reported: nothing is dealt yet, as b
     * may run or hold results of anything. */
    CHECK_INT(s_want(leader, "a", 1 + SHOAL_PREFETCH, true, 0.1), ==, 0);
    /* b reports what it runs: everyone alive has, so dealing starts at once,
     * and b's running test is not dealt to anyone. */
    shoal_item_t running = {.id = "t0", .attempt = 0};
    shoal_item_t *items = NULL;
    size_t n = shoal_leader_want(leader, "b", SHOAL_PREFETCH, &running, 1, true, 0.2, &items);
    free(items);
    CHECK_INT(n, ==, 0);
    size_t dealt = 0;
    for (int k = 0; k < 4; k++) {
        n = shoal_leader_want(leader, "a", 1 + SHOAL_PREFETCH, NULL, 0, false, 0.3, &items);
        for (size_t i = 0; i < n; i++)
            CHECK(strcmp(items[i].id, "t0") != 0);
        dealt += n;
        free(items);
    }
    CHECK_INT(dealt, >=, 1);
    shoal_leader_destroy(&leader);
}

void
test_node_leader_takes_results_of_a_dead_member(void)
{
    /* A deputy hands over the dead leader's own results under its name. */
    double seconds[] = {1, 1};
    shoal_leader_t *leader = s_leader(2, seconds, true);
    shoal_leader_member(leader, "a", 1, NULL, true, 0.0);
    shoal_leader_member(leader, "old", 1, NULL, false, 0.0);
    shoal_item_t done = {.id = "t1", .attempt = 0, .outcome = SHOAL_OUTCOME_PASSED, .seconds = 1};
    CHECK_INT(shoal_leader_results(leader, "old", &done, 1, 0.0), ==, 1);
    CHECK(shoal_leader_result(leader, 1)->final);
    CHECK_STR(shoal_leader_result(leader, 1)->node, "old");
    /* Only t0 is left to deal, and a duplicate changes nothing. */
    CHECK_INT(shoal_leader_results(leader, "a", &done, 1, 0.0), ==, 0);
    CHECK_INT(s_want(leader, "a", 1 + SHOAL_PREFETCH, true, 0.1), ==, 1);
    CHECK_INT(s_want(leader, "a", 1 + SHOAL_PREFETCH, false, 0.2), ==, 0);
    shoal_leader_destroy(&leader);
}

void
test_node_leader_first_deal_spreads_over_every_member(void)
{
    double seconds[] = {3, 3, 2, 2, 1, 1};
    shoal_leader_t *leader = s_leader(6, seconds, false);
    const char *names[] = {"a", "b", "c"};
    for (size_t i = 0; i < 3; i++)
        shoal_leader_member(leader, names[i], 1, NULL, true, 0.0);
    /* Each member's first test comes from its own share of the plan
     * (longest first), not from stealing the first member's. */
    for (size_t i = 0; i < 3; i++) {
        shoal_item_t *items = NULL;
        CHECK_INT(
            shoal_leader_want(leader, names[i], 1 + SHOAL_PREFETCH, NULL, 0, true, 0.0, &items), ==,
            1);
        size_t t = (size_t)(items[0].id[1] - '0');
        CHECK(shoal_leader_result(leader, t)->thief == NULL);
        free(items);
    }
    shoal_leader_destroy(&leader);
}

void
test_node_leader_failure_stands_when_its_retry_misses_the_budget(void)
{
    /* --retries 1 --time-limit 2: t0 fails after the budget is spent, so its
     * retry cannot start; t1 never starts at all. */
    double seconds[] = {3, 1};
    shoal_leader_config_t config = {.session = "s",
                                    .term = 1,
                                    .retries = 1,
                                    .time_limit = 2.0,
                                    .batch_max = 1,
                                    .default_prediction = 0.5};
    shoal_leader_t *leader = s_leader_with(2, seconds, &config);
    shoal_leader_member(leader, "a", 1, NULL, true, 0.0);
    shoal_item_t *items = NULL;
    CHECK_INT(shoal_leader_want(leader, "a", 1 + SHOAL_PREFETCH, NULL, 0, true, 0.0, &items), ==,
              1);
    CHECK_STR(items[0].id, "t0");
    items[0].outcome = SHOAL_OUTCOME_FAILED;
    items[0].seconds = 3;
    items[0].message = "exit status 1";
    CHECK_INT(shoal_leader_results(leader, "a", items, 1, 3.0), ==, 1);
    free(items);
    shoal_leader_tick(leader, 3.0);
    CHECK(shoal_leader_finished(leader));
    /* The failure is what the report says, not a skip: exit status 1. */
    const shoal_leader_result_t *r = shoal_leader_result(leader, 0);
    CHECK(r->final);
    CHECK_INT(r->outcome, ==, SHOAL_OUTCOME_FAILED);
    CHECK_INT(r->attempt, ==, 0); /* one attempt ran */
    CHECK(!r->flaky);
    CHECK(strstr(r->message, "exit status 1") != NULL);
    CHECK(strstr(r->message, "time limit") != NULL);
    CHECK_STR(r->node, "a");
    /* A test that never started is still skipped. */
    CHECK_INT(shoal_leader_result(leader, 1)->outcome, ==, SHOAL_OUTCOME_SKIPPED);
    uint32_t counts[SHOAL_COUNT_KINDS];
    shoal_leader_counts(leader, counts);
    CHECK_INT(counts[SHOAL_COUNT_FAILED], ==, 1);
    CHECK_INT(counts[SHOAL_COUNT_SKIPPED], ==, 1);
    shoal_leader_destroy(&leader);
}

/* With nothing known, four tests on one member of four slots go one to each
 * slot (the first run used to put all four in one batch on one slot). */
void
test_node_leader_first_run_uses_every_slot(void)
{
    double seconds[] = {-1, -1, -1, -1};
    shoal_leader_config_t config = {.session = "s",
                                    .term = 1,
                                    .batch_max = 1000,
                                    .batch_seconds = 2.0,
                                    .default_prediction = 0.5};
    shoal_leader_t *leader = s_leader_with(4, seconds, &config);
    shoal_leader_member(leader, "a", 4, NULL, true, 0.0);
    shoal_item_t *items = NULL;
    size_t n = shoal_leader_want(leader, "a", 4 + SHOAL_PREFETCH, NULL, 0, true, 0.0, &items);
    CHECK_INT(n, ==, 4);
    for (size_t i = 1; i < n; i++)
        CHECK(items[i].batch != items[i - 1].batch); /* four batches of one */
    free(items);
    shoal_leader_destroy(&leader);
}

/* pytest's -x / --maxfail across the session: once the failures reach it,
 * nothing more starts; what was running finishes and counts; the rest is
 * not run, saying why; a member that asks for work gets none. */
void
test_node_leader_maxfail_stops_the_session(void)
{
    double seconds[] = {1, 1, 1, 1, 1, 1};
    shoal_leader_config_t config = {
        .session = "s", .term = 1, .batch_max = 1, .maxfail = 1, .default_prediction = 0.5};
    shoal_leader_t *leader = s_leader_with(6, seconds, &config);
    shoal_leader_member(leader, "a", 2, NULL, true, 0.0);
    shoal_item_t *items = NULL;
    CHECK_INT(shoal_leader_want(leader, "a", 2 + SHOAL_PREFETCH, NULL, 0, true, 0.0, &items), ==,
              2);
    shoal_item_t first = items[0], second = items[1];
    free(items);
    first.outcome = SHOAL_OUTCOME_FAILED;
    first.message = "assert 1 == 2";
    CHECK_INT(shoal_leader_results(leader, "a", &first, 1, 1.0), ==, 1);
    shoal_leader_tick(leader, 1.0);
    CHECK(!shoal_leader_finished(leader)); /* the second is still running */
    CHECK_INT(shoal_leader_want(leader, "a", 1 + SHOAL_PREFETCH, NULL, 0, false, 1.0, &items), ==,
              0);
    second.outcome = SHOAL_OUTCOME_PASSED;
    CHECK_INT(shoal_leader_results(leader, "a", &second, 1, 1.1), ==, 1);
    shoal_leader_tick(leader, 1.1);
    CHECK(shoal_leader_finished(leader));
    uint32_t counts[SHOAL_COUNT_KINDS];
    shoal_leader_counts(leader, counts);
    CHECK_INT(counts[SHOAL_COUNT_FAILED], ==, 1);
    CHECK_INT(counts[SHOAL_COUNT_PASSED], ==, 1);
    size_t not_run = 0;
    for (size_t t = 0; t < 6; t++) {
        const shoal_leader_result_t *r = shoal_leader_result(leader, t);
        if (r->outcome == SHOAL_OUTCOME_NOT_RUN) {
            not_run++;
            CHECK_STR(r->message, "stopping after 1 failures");
        }
    }
    CHECK_INT(not_run, ==, 4);
    shoal_leader_destroy(&leader);
}

/* Batches of tests nothing is known about are sized by what this session
 * has seen them take: after results of 10 ms each, a batch aims at 2 s of
 * them (about 200), not at 2 s of the default prediction (4). */
void
test_node_leader_batches_learn_from_results(void)
{
    double seconds[32];
    for (size_t i = 0; i < 32; i++)
        seconds[i] = -1;
    shoal_leader_config_t config = {.session = "s",
                                    .term = 1,
                                    .batch_max = 1000,
                                    .batch_seconds = 2.0,
                                    .default_prediction = 0.5};
    shoal_leader_t *leader = s_leader_with(32, seconds, &config);
    shoal_leader_member(leader, "a", 1, NULL, true, 0.0);
    shoal_item_t *items = NULL;
    size_t n = shoal_leader_want(leader, "a", 1 + SHOAL_PREFETCH, NULL, 0, true, 0.0, &items);
    CHECK_INT(n, ==, 4); /* 2 s of the default 0.5 s */
    double now = 0.0;
    for (int round = 0; round < 2; round++) {
        for (size_t i = 0; i < n; i++) {
            items[i].outcome = SHOAL_OUTCOME_PASSED;
            items[i].seconds = 0.01;
        }
        shoal_leader_results(leader, "a", items, n, now += 0.05);
        free(items);
        n = shoal_leader_want(leader, "a", 1 + SHOAL_PREFETCH, NULL, 0, false, now, &items);
    }
    /* 8 results seen: the next batch is no longer 2 s of the default but
     * half of what is left (24 x 10 ms), as the tail is cut by factoring. */
    size_t first = 1;
    while (first < n && items[first].batch == items[0].batch)
        first++;
    CHECK_INT(first, ==, 12);
    free(items);
    shoal_leader_destroy(&leader);
}
