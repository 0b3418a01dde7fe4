/* The leader's bookkeeping, driven directly with a fake clock: what each
 * member is shipped to hold, moves between members, when a failover's
 * rebuild window closes, and results handed over on behalf of a dead leader.
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
                                    .default_prediction = 0.5,
                                    .rebuild_seconds = 2.0,
                                    .rebuild = rebuild};
    return s_leader_with(n, seconds, &config);
}

/* A member's report of what it runs (none), then what it is shipped. */
static size_t
s_report(shoal_leader_t *leader, const char *name, bool fresh, double now, shoal_item_t **items,
         bool *was_fresh)
{
    shoal_leader_want(leader, name, NULL, 0, 0, fresh, now);
    bool f;
    size_t n = shoal_leader_ship(leader, name, was_fresh ? was_fresh : &f, items);
    return n;
}

static size_t
s_shipped(shoal_leader_t *leader, const char *name, bool fresh, double now)
{
    shoal_item_t *items = NULL;
    size_t n = s_report(leader, name, fresh, now, &items, NULL);
    free(items);
    return n;
}

static size_t
s_index(const shoal_item_t *item)
{
    return (size_t)strtoul(item->id + 1, NULL, 10);
}

void
test_node_leader_ships_each_member_its_share_once(void)
{
    double seconds[] = {6, 5, 4, 3, 2, 1};
    shoal_leader_t *leader = s_leader(6, seconds, false);
    shoal_leader_member(leader, "a", 1, NULL, true, 0.0);
    shoal_leader_member(leader, "b", 1, NULL, true, 0.0);
    bool seen[6] = {false}, fresh;
    shoal_item_t *items = NULL;
    size_t total = 0;
    const char *names[] = {"a", "b"};
    for (int k = 0; k < 2; k++) {
        size_t n = s_report(leader, names[k], true, 0.0, &items, &fresh);
        CHECK(fresh); /* the first shipment of a term is all it holds */
        CHECK_INT(n, >=, 2);
        for (size_t i = 0; i < n; i++) {
            CHECK(!seen[s_index(&items[i])]);
            seen[s_index(&items[i])] = true;
            CHECK_INT(items[i].version, >=, 1);
            CHECK(items[i].seconds > 0);
        }
        total += n;
        free(items);
    }
    CHECK_INT(total, ==, 6); /* all of it, dealt once */
    /* Nothing new: nothing is shipped again. */
    CHECK_INT(s_shipped(leader, "a", false, 0.1), ==, 0);
    CHECK(!shoal_leader_take_ship_due(leader) || s_shipped(leader, "b", false, 0.1) == 0);
    /* The loads say who holds what. */
    shoal_item_t *loads = NULL;
    CHECK_INT(shoal_leader_loads(leader, 0.1, &loads), ==, 2);
    CHECK(loads[0].seconds + loads[1].seconds > 20.9);
    free(loads);
    shoal_leader_destroy(&leader);
}

void
test_node_leader_a_steal_moves_the_tests_to_the_thief(void)
{
    double seconds[] = {4, 3, 2, 1};
    shoal_leader_t *leader = s_leader(4, seconds, false);
    shoal_leader_member(leader, "a", 1, NULL, true, 0.0);
    shoal_leader_member(leader, "b", 1, NULL, true, 0.0);
    shoal_item_t *items = NULL;
    size_t n = s_report(leader, "a", true, 0.0, &items, NULL);
    CHECK_INT(n, >=, 1);
    shoal_item_t gift = items[n - 1]; /* a's tail */
    size_t t = s_index(&gift);
    free(items);
    s_shipped(leader, "b", true, 0.0);
    /* A report at a's own version is old news: nothing moves. */
    CHECK_INT(shoal_leader_moved(leader, "a", "b", &gift, 1, 0.1), ==, 0);
    /* a handed it on: one version more. Reported by both, it moves once. */
    gift.version++;
    CHECK_INT(shoal_leader_moved(leader, "a", "b", &gift, 1, 0.1), ==, 1);
    CHECK_INT(shoal_leader_moved(leader, "b", "a", &gift, 1, 0.1), ==, 0);
    CHECK_INT(shoal_leader_moved(leader, "a", "b", &gift, 1, 0.1), ==, 0);
    CHECK_STR(shoal_leader_result(leader, t)->thief, "b");
    /* b is shipped it (again: b ignores what it has at that version). */
    n = s_report(leader, "b", false, 0.2, &items, NULL);
    bool found = false;
    for (size_t i = 0; i < n; i++)
        found |= s_index(&items[i]) == t && items[i].version == gift.version;
    CHECK(found);
    free(items);
    /* b dies holding it: it is dealt to a again, a newer version. */
    shoal_leader_member(leader, "b", 1, NULL, false, 0.3);
    n = s_report(leader, "a", false, 0.3, &items, NULL);
    found = false;
    for (size_t i = 0; i < n; i++)
        found |= s_index(&items[i]) == t && items[i].version > gift.version;
    CHECK(found);
    free(items);
    shoal_leader_destroy(&leader);
}

void
test_node_leader_rebuild_adopts_what_members_hold(void)
{
    double seconds[] = {1, 1, 1, 1};
    shoal_leader_t *leader = s_leader(4, seconds, true);
    shoal_leader_member(leader, "a", 1, NULL, true, 0.0);
    shoal_leader_member(leader, "b", 1, NULL, true, 0.0);
    /* a holds t1 and t2 (versions from the old term), b runs t0. */
    shoal_item_t held[2] = {{.id = "t1", .version = 3}, {.id = "t2", .version = 1}};
    CHECK_INT(shoal_leader_held(leader, "a", held, 2, 0.1), ==, 2);
    shoal_item_t running = {.id = "t0"};
    shoal_leader_want(leader, "a", NULL, 0, 0, true, 0.1);
    shoal_leader_want(leader, "b", &running, 1, 0, true, 0.2);
    /* Everyone reported: t3, which nobody holds, is dealt; a's shipment is
     * fresh and keeps what a holds, at its versions. */
    bool fresh;
    shoal_item_t *items = NULL;
    size_t n = shoal_leader_ship(leader, "a", &fresh, &items);
    CHECK(fresh);
    size_t mine = 0;
    for (size_t i = 0; i < n; i++) {
        CHECK(strcmp(items[i].id, "t0") != 0);
        if (strcmp(items[i].id, "t1") == 0) {
            CHECK_INT(items[i].version, ==, 3);
            mine++;
        }
        if (strcmp(items[i].id, "t2") == 0) {
            CHECK_INT(items[i].version, ==, 1);
            mine++;
        }
    }
    CHECK_INT(mine, ==, 2);
    free(items);
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
    CHECK_INT(s_shipped(leader, "a", true, 0.1), ==, 0);
    /* b reports what it runs: everyone alive has, so dealing starts at once,
     * and b's running test is not dealt to anyone. */
    shoal_item_t running = {.id = "t0", .attempt = 0};
    shoal_leader_want(leader, "b", &running, 1, 0, true, 0.2);
    shoal_item_t *items = NULL;
    size_t dealt = 0;
    const char *names[] = {"a", "b"};
    for (int k = 0; k < 2; k++) {
        bool fresh;
        size_t n = shoal_leader_ship(leader, names[k], &fresh, &items);
        for (size_t i = 0; i < n; i++)
            CHECK(strcmp(items[i].id, "t0") != 0);
        dealt += n;
        free(items);
    }
    CHECK_INT(dealt, ==, 3);
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
    CHECK_INT(s_shipped(leader, "a", true, 0.1), ==, 1);
    CHECK_INT(s_shipped(leader, "a", false, 0.2), ==, 0);
    shoal_leader_destroy(&leader);
}

void
test_node_leader_a_returning_member_is_shipped_afresh(void)
{
    double seconds[] = {2, 2, 2, 2};
    shoal_leader_t *leader = s_leader(4, seconds, false);
    shoal_leader_member(leader, "a", 1, NULL, true, 0.0);
    shoal_leader_member(leader, "b", 1, NULL, true, 0.0);
    size_t a = s_shipped(leader, "a", true, 0.0);
    s_shipped(leader, "b", true, 0.0);
    /* a is declared dead: b is shipped a's share. */
    shoal_leader_member(leader, "a", 1, NULL, false, 1.0);
    CHECK_INT(s_shipped(leader, "b", false, 1.0), ==, a);
    /* a comes back: what it held is not its any more. */
    shoal_leader_member(leader, "a", 1, NULL, true, 2.0);
    bool fresh = false;
    shoal_item_t *items = NULL;
    shoal_leader_ship(leader, "a", &fresh, &items);
    CHECK(fresh);
    free(items);
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
    /* Each member holds its own share of the plan, longest first. */
    for (size_t i = 0; i < 3; i++) {
        shoal_item_t *items = NULL;
        CHECK_INT(s_report(leader, names[i], true, 0.0, &items, NULL), ==, 2);
        CHECK(items[0].seconds >= items[1].seconds);
        CHECK(shoal_leader_result(leader, s_index(&items[0]))->thief == NULL);
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
    shoal_leader_config_t config = {
        .session = "s", .term = 1, .retries = 1, .time_limit = 2.0, .default_prediction = 0.5};
    shoal_leader_t *leader = s_leader_with(2, seconds, &config);
    shoal_leader_member(leader, "a", 1, NULL, true, 0.0);
    shoal_item_t *items = NULL;
    CHECK_INT(s_report(leader, "a", true, 0.0, &items, NULL), ==, 2);
    CHECK_STR(items[0].id, "t0");
    shoal_leader_want(leader, "a", &items[0], 1, 1, false, 0.0); /* t0 starts */
    CHECK(!shoal_leader_stopped(leader, 1.9));
    CHECK(shoal_leader_stopped(leader, 2.0));
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

/* pytest's -x / --maxfail across the session: once the failures reach it,
 * nothing more starts; what was running finishes and counts; the rest is
 * not run, saying why. */
void
test_node_leader_maxfail_stops_the_session(void)
{
    double seconds[] = {1, 1, 1, 1, 1, 1};
    shoal_leader_config_t config = {
        .session = "s", .term = 1, .maxfail = 1, .default_prediction = 0.5};
    shoal_leader_t *leader = s_leader_with(6, seconds, &config);
    shoal_leader_member(leader, "a", 2, NULL, true, 0.0);
    shoal_item_t *items = NULL;
    CHECK_INT(s_report(leader, "a", true, 0.0, &items, NULL), ==, 6);
    shoal_item_t running[2] = {items[0], items[1]};
    shoal_leader_want(leader, "a", running, 2, 4, false, 0.0);
    free(items);
    running[0].outcome = SHOAL_OUTCOME_FAILED;
    running[0].message = "assert 1 == 2";
    CHECK_INT(shoal_leader_results(leader, "a", &running[0], 1, 1.0), ==, 1);
    CHECK(shoal_leader_stopped(leader, 1.0)); /* members drop what they hold */
    shoal_leader_tick(leader, 1.0);
    CHECK(!shoal_leader_finished(leader)); /* the second is still running */
    running[1].outcome = SHOAL_OUTCOME_PASSED;
    CHECK_INT(shoal_leader_results(leader, "a", &running[1], 1, 1.1), ==, 1);
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

/* A shipment lost on the way: the member's reports say it holds less than
 * the board has queued there; after two such reports its share goes out
 * again, fresh. One report that crosses a shipment changes nothing. */
void
test_node_leader_a_lost_shipment_is_shipped_afresh(void)
{
    double seconds[] = {1, 1, 1, 1};
    shoal_leader_t *leader = s_leader(4, seconds, false);
    shoal_leader_member(leader, "a", 1, NULL, true, 0.0);
    CHECK_INT(s_shipped(leader, "a", true, 0.0), ==, 4); /* ...and lost */
    bool fresh;
    shoal_item_t *items = NULL;
    shoal_leader_want(leader, "a", NULL, 0, 0, false, 0.1);
    CHECK_INT(shoal_leader_ship(leader, "a", &fresh, &items), ==, 0);
    shoal_leader_want(leader, "a", NULL, 0, 4, false, 0.2); /* it has them after all */
    shoal_leader_want(leader, "a", NULL, 0, 0, false, 0.3);
    CHECK_INT(shoal_leader_ship(leader, "a", &fresh, &items), ==, 0);
    shoal_leader_want(leader, "a", NULL, 0, 0, false, 0.4);
    CHECK_INT(shoal_leader_ship(leader, "a", &fresh, &items), ==, 4);
    CHECK(fresh);
    free(items);
    shoal_leader_destroy(&leader);
}

/* A new term's board starts afresh, but a member may know a test at any
 * version an older term reached (it gave the test away, its thief died):
 * what the new term deals must be news to it, or the test is never taken. */
void
test_node_leader_a_new_term_deals_past_every_older_version(void)
{
    double seconds[] = {1, 1};
    shoal_leader_t *leader = s_leader(2, seconds, true); /* term 2 */
    shoal_leader_member(leader, "a", 1, NULL, true, 0.0);
    shoal_item_t held = {.id = "t0", .version = 7}; /* from term 1 */
    shoal_leader_held(leader, "a", &held, 1, 0.0);
    shoal_leader_want(leader, "a", NULL, 0, 1, true, 0.0);
    bool fresh;
    shoal_item_t *items = NULL;
    size_t n = shoal_leader_ship(leader, "a", &fresh, &items);
    CHECK_INT(n, ==, 2);
    for (size_t i = 0; i < n; i++) {
        if (strcmp(items[i].id, "t0") == 0)
            CHECK_INT(items[i].version, ==, 7); /* what it holds, as it holds it */
        else
            CHECK_INT(items[i].version, >, 1000); /* past anything term 1 made */
    }
    free(items);
    shoal_leader_destroy(&leader);
}

/* A member reports a failure before the leader heard the test start (it
 * holds its share and starts on its own): the retry is dealt again, one
 * version on, so the member takes it; the session does not hang. */
void
test_node_leader_a_retry_of_an_unreported_start_is_dealt_again(void)
{
    double seconds[] = {1};
    shoal_leader_config_t config = {
        .session = "s", .term = 1, .retries = 1, .default_prediction = 0.5};
    shoal_leader_t *leader = s_leader_with(1, seconds, &config);
    shoal_leader_member(leader, "a", 1, NULL, true, 0.0);
    shoal_item_t *items = NULL;
    CHECK_INT(s_report(leader, "a", true, 0.0, &items, NULL), ==, 1);
    uint32_t first = items[0].version;
    items[0].outcome = SHOAL_OUTCOME_FAILED; /* no WANT said it started */
    CHECK_INT(shoal_leader_results(leader, "a", items, 1, 0.5), ==, 1);
    free(items);
    bool fresh;
    CHECK_INT(shoal_leader_ship(leader, "a", &fresh, &items), ==, 1);
    CHECK_INT(items[0].attempt, ==, 1);
    CHECK_INT(items[0].version, >, first);
    CHECK_STR(items[0].node, "a"); /* it failed there: a thief there does not get it */
    items[0].outcome = SHOAL_OUTCOME_PASSED;
    CHECK_INT(shoal_leader_results(leader, "a", items, 1, 1.0), ==, 1);
    free(items);
    CHECK(shoal_leader_finished(leader));
    CHECK(shoal_leader_result(leader, 0)->flaky);
    shoal_leader_destroy(&leader);
}

/* Tests no present member has the tags for: one that a daemon on its way
 * has the tags for waits for it; one no daemon on its way can run ends
 * "unschedulable" at once, as does the waiting one when that daemon stops
 * coming. A daemon on its way whose tags are not known keeps all waiting. */
void
test_node_leader_unschedulable_waits_only_for_a_daemon_with_the_tags(void)
{
    shoal_collection_t tests = {.tests = calloc(2, sizeof(shoal_test_t)), .count = 2};
    tests.tests[0] =
        (shoal_test_t){.id = strdup("gpu"), .file = strdup(""), .requires = strdup("gpu=a100")};
    tests.tests[1] =
        (shoal_test_t){.id = strdup("lab"), .file = strdup(""), .requires = strdup("lab=yes")};
    shoal_leader_config_t config = {.session = "s", .term = 1, .default_prediction = 0.5};
    shoal_leader_t *leader = shoal_leader_new(&config, &tests, NULL, 0, 0.0);
    CHECK(leader);
    shoal_leader_member(leader, "dev", 1, "", true, 0.0);
    const char *unknown[1] = {NULL};
    shoal_leader_set_coming(leader, 1, unknown, 0); /* tags not known yet */
    shoal_leader_tick(leader, 1.0);
    CHECK(!shoal_leader_result(leader, 0)->final);
    CHECK(!shoal_leader_result(leader, 1)->final);
    const char *coming[1] = {"lab=yes,site=b"};
    shoal_leader_set_coming(leader, 1, coming, 1);
    shoal_leader_tick(leader, 2.0);
    CHECK(shoal_leader_result(leader, 0)->final);
    CHECK_INT(shoal_leader_result(leader, 0)->outcome, ==, SHOAL_OUTCOME_ERROR);
    CHECK(strstr(shoal_leader_result(leader, 0)->message, "unschedulable"));
    CHECK(!shoal_leader_result(leader, 1)->final);
    shoal_leader_set_coming(leader, 0, NULL, 0);
    shoal_leader_tick(leader, 3.0);
    CHECK(shoal_leader_result(leader, 1)->final);
    CHECK(shoal_leader_finished(leader));
    shoal_leader_destroy(&leader);
}
