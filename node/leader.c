/* The leader's bookkeeping (see leader.h): translates members' reports into
 * operations on the scheduler's board and keeps one result record per test.
 * The board's queue of a member is what that member holds: the leader ships
 * each member what it has queued there and not sent yet (sent_to), and hears
 * back what the member started (WANT), what it handed to a peer (MOVED) and,
 * after a failover, what it holds (HELD). */
#include "node/leader.h"

#include <czmq.h>
#include <string.h>

#define S_OBSERVED_MIN 8 /* results seen before their mean stands for unknown tests */

struct shoal_leader {
    shoal_leader_config_t config;
    char session[SHOAL_SESSION_ID_MAX + 1];
    shoal_collection_t tests;
    shoal_leader_result_t *results;
    zhashx_t *index; /* id -> test index + 1 */
    sched_suite_t *suite;
    sched_board_t *board;
    bool dealt;                     /* the board has dealt; false while a rebuild waits */
    size_t coming;                  /* participants on their way (shoal_leader_set_coming) */
    const char *const *coming_tags; /* the tags of the first coming_known of them */
    size_t coming_known;
    double rebuild_until;
    zhashx_t *reported; /* member names that reported to this term (rebuild) */
    double started;
    size_t *progress; /* tests that became final, not yet reported */
    size_t progress_count;
    size_t final_count;
    uint32_t *sent_to; /* per test: the member (index + 1) it was last shipped to; 0: none */
    bool ship_due;     /* queues may hold what was not shipped */
    zhashx_t *fresh;   /* members whose next shipment replaces what they hold */
    zhashx_t *strikes; /* member -> reports in a row whose holdings differ from the board */
    unsigned failed;   /* final failures and errors, for --maxfail */
    bool stopped;      /* --maxfail reached: nothing more starts */
    double stopped_at;
    double observed_sum; /* durations reported this session */
    size_t observed_count;
};

static size_t
s_test(const shoal_leader_t *self, const char *id)
{
    size_t v = (size_t)(uintptr_t)zhashx_lookup(self->index, id);
    return v ? v - 1 : SIZE_MAX;
}

static size_t
s_member(const shoal_leader_t *self, const char *name)
{
    size_t n = sched_suite_member_count(self->suite);
    for (size_t m = 0; m < n; m++)
        if (strcmp(sched_suite_member_name(self->suite, m), name) == 0)
            return m;
    return SIZE_MAX;
}

static void
s_replace(char **field, const char *value)
{
    free(*field);
    *field = strdup(value ? value : "");
}

static void
s_final(shoal_leader_t *self, size_t test, shoal_outcome_t outcome, const char *message, double now)
{
    shoal_leader_result_t *r = &self->results[test];
    if (r->final)
        return;
    r->final = true;
    r->outcome = outcome;
    if (shoal_outcome_failed(outcome) && self->config.maxfail && !self->stopped &&
        ++self->failed >= self->config.maxfail) {
        /* As pytest's -x / --maxfail: what has not started will not. */
        self->stopped = true;
        self->stopped_at = now;
    }
    if (message)
        s_replace(&r->message, message);
    self->final_count++;
    self->progress[self->progress_count++] = test;
    sched_board_adopt_done(self->board, test, now);
}

shoal_leader_t *
shoal_leader_new(const shoal_leader_config_t *config, shoal_collection_t *tests,
                 const shoal_history_entry_t *history, size_t history_count, double now)
{
    shoal_leader_t *self = calloc(1, sizeof(*self));
    if (!self)
        return NULL;
    self->config = *config;
    snprintf(self->session, sizeof(self->session), "%s", config->session);
    self->config.session = self->session;
    self->tests = *tests;
    memset(tests, 0, sizeof(*tests));
    self->started = now;
    size_t n = self->tests.count;
    self->results = calloc(n ? n : 1, sizeof(shoal_leader_result_t));
    self->progress = calloc(n ? n : 1, sizeof(size_t));
    self->sent_to = calloc(n ? n : 1, sizeof(uint32_t));
    self->index = zhashx_new();
    self->reported = zhashx_new();
    self->fresh = zhashx_new();
    self->strikes = zhashx_new();
    self->suite = sched_suite_new();
    if (!self->results || !self->progress || !self->sent_to || !self->index || !self->reported ||
        !self->fresh || !self->strikes || !self->suite) {
        shoal_leader_destroy(&self);
        return NULL;
    }
    for (size_t t = 0; t < n; t++) {
        const shoal_test_t *test = &self->tests.tests[t];
        self->results[t].id = test->id;
        self->results[t].file = test->file;
        zhashx_insert(self->index, test->id, (void *)(uintptr_t)(t + 1));
        size_t index;
        if (sched_suite_add_test(self->suite, test->id, test->file, test->requires, &index) != 0)
            s_replace(&self->results[t].message, "duplicate test id or bad requirement");
    }
    for (size_t h = 0; h < history_count; h++) {
        size_t t = s_test(self, history[h].id);
        if (t == SIZE_MAX)
            continue;
        sched_history_t hist = {
            .durations = history[h].durations,
            .count = history[h].count,
            .recent_failures = history[h].recent_failures,
            .last_failed = history[h].last_failed,
            .flakiness = history[h].flakiness,
        };
        sched_suite_set_history(self->suite, t, &hist);
    }
    sched_suite_predict(self->suite, config->default_prediction);
    self->board = sched_board_new(self->suite, config->strategy);
    if (!self->board) {
        shoal_leader_destroy(&self);
        return NULL;
    }
    /* This term's placements are news to members that hold a test at any
     * version an earlier term gave it (2^20 placements of one test a term). */
    sched_board_set_version_floor(self->board, config->term << 20);
    /* Tests decided at collection (a module that failed to import, a
     * module-level skip) are final before anything is dealt. */
    for (size_t t = 0; t < n; t++) {
        const shoal_test_t *test = &self->tests.tests[t];
        if (!test->preset)
            continue;
        s_replace(&self->results[t].node, config->name);
        s_replace(&self->results[t].output, test->output);
        s_final(self, t, test->outcome, test->message, now);
    }
    self->rebuild_until = config->rebuild ? now + config->rebuild_seconds : now;
    return self;
}

void
shoal_leader_destroy(shoal_leader_t **self_p)
{
    shoal_leader_t *self = *self_p;
    if (!self)
        return;
    for (size_t t = 0; self->results && t < self->tests.count; t++) {
        free(self->results[t].node);
        free(self->results[t].thief);
        free(self->results[t].message);
        free(self->results[t].output);
    }
    sched_board_destroy(&self->board);
    sched_suite_destroy(&self->suite);
    zhashx_destroy(&self->index);
    zhashx_destroy(&self->reported);
    zhashx_destroy(&self->fresh);
    zhashx_destroy(&self->strikes);
    shoal_collection_clear(&self->tests);
    free(self->results);
    free(self->progress);
    free(self->sent_to);
    free(self);
    *self_p = NULL;
}

/* Every live member has told this term what it runs (its results went
 * before, on the same connection): nothing held elsewhere is left to learn. */
static bool
s_all_reported(const shoal_leader_t *self)
{
    size_t n = sched_suite_member_count(self->suite);
    for (size_t m = 0; m < n; m++)
        if (sched_board_member_alive(self->board, m) &&
            !zhashx_lookup(self->reported, sched_suite_member_name(self->suite, m)))
            return false;
    return true;
}

/* Whether a participant on its way may run a test that requires this. */
static bool
s_may_come(const shoal_leader_t *self, const char *requires)
{
    if (self->coming > self->coming_known)
        return true; /* one whose tags are not known */
    for (size_t i = 0; i < self->coming_known; i++)
        if (sched_tags_satisfy(self->coming_tags[i], requires))
            return true;
    return false;
}

/* Deals pending tests once the rebuild window (if any) has closed, and gives
 * up on tests that nobody can run once nothing else is left. */
static void
s_deal(shoal_leader_t *self, double now)
{
    if (!self->dealt && now < self->rebuild_until && !s_all_reported(self))
        return;
    self->dealt = true;
    if (sched_board_deal(self->board) > 0)
        self->ship_due = true;
    size_t open = self->tests.count - self->final_count;
    size_t unschedulable = sched_board_count(self->board, SCHED_TEST_UNSCHEDULABLE);
    if (unschedulable && unschedulable == open) {
        for (size_t t = 0; t < self->tests.count; t++)
            if (!self->results[t].final &&
                sched_board_test_state(self->board, t, NULL) == SCHED_TEST_UNSCHEDULABLE &&
                !s_may_come(self, self->tests.tests[t].requires))
                s_final(self, t, SHOAL_OUTCOME_ERROR,
                        "unschedulable: no participant has the tags it requires", now);
    }
}

void
shoal_leader_set_coming(shoal_leader_t *self, size_t count, const char *const *tags, size_t known)
{
    self->coming = count;
    self->coming_tags = tags;
    self->coming_known = known < count ? known : count;
}

void
shoal_leader_member(shoal_leader_t *self, const char *name, unsigned slots, const char *tags,
                    bool alive, double now)
{
    size_t m = s_member(self, name);
    if (m == SIZE_MAX) {
        if (!alive || sched_suite_add_member(self->suite, name, slots ? slots : 1, tags, &m) != 0)
            return;
        sched_board_sync_members(self->board);
        zhashx_insert(self->fresh, name, (void *)1); /* it holds nothing of this term's */
    } else {
        bool was = sched_board_member_alive(self->board, m);
        if (was && !alive)
            sched_board_member_lost(self->board, m, now);
        else if (!was && alive) {
            sched_board_member_back(self->board, m);
            /* Its work went to others while it was gone: what it held is not its. */
            zhashx_insert(self->fresh, name, (void *)1);
        }
        if (was == alive)
            return;
        self->ship_due = true;
    }
    /* The first deal waits for the first tick or WANT, when every member
     * known at the start is in: dealing as each is added would give the
     * whole plan to the first. */
    if (self->dealt)
        s_deal(self, now);
}

/* A test's predicted seconds; for one nothing was known about, the mean of
 * what this session has seen once there is enough of it. */
static double
s_predicted(const shoal_leader_t *self, size_t t)
{
    sched_predict_source_t source;
    double seconds = sched_suite_predicted(self->suite, t, NULL, &source);
    if (source == SCHED_PREDICT_DEFAULT && self->observed_count >= S_OBSERVED_MIN)
        return self->observed_sum / (double)self->observed_count;
    return seconds;
}

size_t
shoal_leader_want(shoal_leader_t *self, const char *name, const shoal_item_t *running,
                  size_t running_count, size_t held, bool fresh, double now)
{
    size_t m = s_member(self, name);
    if (m == SIZE_MAX || !sched_board_member_alive(self->board, m))
        return 0;
    if (fresh)
        zhashx_insert(self->reported, name, (void *)1);
    size_t started = 0;
    for (size_t i = 0; i < running_count; i++) {
        size_t t = s_test(self, running[i].id);
        if (t == SIZE_MAX || self->results[t].final)
            continue;
        size_t owner = SIZE_MAX;
        sched_test_state_t state = sched_board_test_state(self->board, t, &owner);
        if (state == SCHED_TEST_QUEUED && owner == m)
            started += sched_board_start(self->board, m, t, now) == 0;
        else if (fresh) /* a member reporting to a new leader: what it runs stays with it */
            started += sched_board_adopt_running(self->board, m, t, now) == 0;
    }
    s_deal(self, now);
    size_t queued = 0;
    if (self->dealt && !fresh) {
        sched_board_queue(self->board, m, &queued);
        /* A report and a shipment may cross: only a difference that lasts
         * two reports says a shipment was lost. */
        uintptr_t strikes = (uintptr_t)zhashx_lookup(self->strikes, name);
        strikes = queued == held ? 0 : strikes + 1;
        zhashx_update(self->strikes, name, (void *)strikes);
        if (strikes >= 2) {
            zhashx_insert(self->fresh, name, (void *)1);
            zhashx_update(self->strikes, name, (void *)0);
        }
    }
    return started;
}

/* The tests of items (valid, open, at their current attempt) into tests[]
 * with their versions; returns how many. */
static size_t
s_reported(const shoal_leader_t *self, const shoal_item_t *items, size_t count, size_t *tests,
           uint32_t *versions)
{
    size_t n = 0;
    for (size_t i = 0; i < count; i++) {
        size_t t = s_test(self, items[i].id);
        if (t != SIZE_MAX && !self->results[t].final &&
            items[i].attempt == self->results[t].attempt) {
            tests[n] = t;
            versions[n++] = items[i].version;
        }
    }
    return n;
}

size_t
shoal_leader_held(shoal_leader_t *self, const char *name, const shoal_item_t *items, size_t count,
                  double now)
{
    size_t m = s_member(self, name);
    size_t *tests = malloc((count ? count : 1) * sizeof(size_t));
    uint32_t *versions = malloc((count ? count : 1) * sizeof(uint32_t));
    int adopted = -1;
    if (m != SIZE_MAX && tests && versions && sched_board_member_alive(self->board, m)) {
        size_t n = s_reported(self, items, count, tests, versions);
        adopted = sched_board_adopt_queued(self->board, m, tests, versions, n, now);
        for (size_t i = 0; i < n; i++) {
            size_t owner = SIZE_MAX;
            if (sched_board_test_state(self->board, tests[i], &owner) == SCHED_TEST_QUEUED &&
                owner == m && sched_board_version(self->board, tests[i]) == versions[i])
                self->sent_to[tests[i]] = (uint32_t)(m + 1); /* it holds it: no need to ship */
        }
        self->ship_due = true;
    }
    free(tests);
    free(versions);
    return adopted > 0 ? (size_t)adopted : 0;
}

size_t
shoal_leader_moved(shoal_leader_t *self, const char *victim, const char *thief,
                   const shoal_item_t *items, size_t count, double now)
{
    (void)now;
    size_t v = s_member(self, victim), th = s_member(self, thief);
    size_t *tests = malloc((count ? count : 1) * sizeof(size_t));
    uint32_t *versions = malloc((count ? count : 1) * sizeof(uint32_t));
    int moved = -1;
    if (v != SIZE_MAX && th != SIZE_MAX && v != th && tests && versions) {
        size_t n = s_reported(self, items, count, tests, versions);
        moved = sched_board_moved(self->board, v, th, tests, versions, n, NULL);
        for (size_t i = 0; i < n; i++) {
            size_t t = tests[i], owner = SIZE_MAX;
            if (sched_board_test_state(self->board, t, &owner) != SCHED_TEST_QUEUED)
                continue;
            if (owner == th)
                s_replace(&self->results[t].thief, thief);
            /* Shipped (again) to wherever it is now: a thief that has it at
             * this version ignores it; one whose leader's fresh shipment
             * crossed the gift takes it back; a member it was dealt to
             * because the thief died learns of it. */
            self->sent_to[t] = 0;
        }
        self->ship_due = true;
    }
    free(tests);
    free(versions);
    return moved > 0 ? (size_t)moved : 0;
}

size_t
shoal_leader_ship(shoal_leader_t *self, const char *name, bool *fresh, shoal_item_t **out)
{
    *out = NULL;
    *fresh = false;
    size_t m = s_member(self, name);
    /* Only to a member that reported to this term: it has collected, so it
     * can check every id it is sent, and it was admitted. */
    if (m == SIZE_MAX || !self->dealt || !sched_board_member_alive(self->board, m) ||
        !zhashx_lookup(self->reported, name))
        return 0;
    *fresh = zhashx_lookup(self->fresh, name) != NULL;
    size_t count;
    const size_t *queue = sched_board_queue(self->board, m, &count);
    shoal_item_t *items = calloc(count ? count : 1, sizeof(*items));
    if (!items) {
        *fresh = false;
        return 0;
    }
    size_t n = 0;
    for (size_t i = 0; i < count; i++) {
        size_t t = queue[i];
        if (!*fresh && self->sent_to[t] == m + 1)
            continue;
        self->sent_to[t] = (uint32_t)(m + 1);
        /* A retry avoids the member its failed attempt ran on: a thief
         * there is not given it. */
        const shoal_leader_result_t *r = &self->results[t];
        items[n++] = (shoal_item_t){.id = self->tests.tests[t].id,
                                    .attempt = r->attempt,
                                    .version = sched_board_version(self->board, t),
                                    .node = r->attempt && r->node ? r->node : "",
                                    .seconds = s_predicted(self, t)};
    }
    zhashx_delete(self->fresh, name);
    if (n == 0 && !*fresh) {
        free(items);
        return 0;
    }
    *out = items;
    return n;
}

bool
shoal_leader_take_ship_due(shoal_leader_t *self)
{
    bool due = self->ship_due || zhashx_size(self->fresh) > 0;
    self->ship_due = false;
    return due;
}

size_t
shoal_leader_loads(const shoal_leader_t *self, double now, shoal_item_t **out)
{
    size_t members = sched_suite_member_count(self->suite);
    shoal_item_t *items = calloc(members ? members : 1, sizeof(*items));
    *out = items;
    size_t n = 0;
    for (size_t m = 0; items && m < members; m++) {
        if (!sched_board_member_alive(self->board, m))
            continue;
        items[n++] = (shoal_item_t){.node = (char *)sched_suite_member_name(self->suite, m),
                                    .seconds = sched_board_queued_work(self->board, m),
                                    .running = sched_board_running_work(self->board, m, now),
                                    .slots = sched_suite_member_slots(self->suite, m)};
    }
    return n;
}

bool
shoal_leader_stopped(const shoal_leader_t *self, double now)
{
    return self->stopped ||
           (self->config.time_limit > 0 && now >= self->started + self->config.time_limit);
}

size_t
shoal_leader_results(shoal_leader_t *self, const char *name, const shoal_item_t *items,
                     size_t count, double now)
{
    size_t m = s_member(self, name);
    size_t recorded = 0;
    bool requeued = false;
    for (size_t i = 0; i < count; i++) {
        const shoal_item_t *item = &items[i];
        size_t t = s_test(self, item->id);
        if (t == SIZE_MAX)
            continue; /* not in our collection: nothing to merge it into */
        shoal_leader_result_t *r = &self->results[t];
        if (r->final || item->attempt != r->attempt)
            continue; /* a duplicate, or an attempt that was superseded */
        shoal_outcome_t outcome = (shoal_outcome_t)item->outcome;
        if (outcome == SHOAL_OUTCOME_NOT_RUN) {
            sched_board_requeue(self->board, t, now);
            self->sent_to[t] = 0;
            requeued = true;
            continue;
        }
        r->seconds = item->seconds;
        self->observed_sum += item->seconds;
        self->observed_count++;
        s_replace(&r->node, name);
        s_replace(&r->message, item->message);
        s_replace(&r->output, item->output);
        recorded++;
        bool failed = shoal_outcome_failed(outcome);
        if (failed && r->attempt < self->config.retries) {
            /* Retry elsewhere: a failure tied to one machine should not repeat.
             * The failure stays on record: it is the outcome if the retry
             * never starts. */
            r->outcome = outcome;
            r->failures++;
            r->attempt++;
            if (m != SIZE_MAX)
                sched_board_requeue_avoiding(self->board, t, m, now);
            else
                sched_board_requeue(self->board, t, now);
            self->sent_to[t] = 0; /* a new attempt: shipped as new */
            requeued = true;
            continue;
        }
        r->flaky = !failed && r->failures > 0;
        s_final(self, t, outcome, NULL, now);
    }
    if (requeued) {
        self->ship_due = true;
        s_deal(self, now);
    }
    return recorded;
}

/* The session stopped before the retry of a failed test started: the
 * failure it already had is its final result, not a skip (a red build stays
 * red). */
static void
s_final_unretried(shoal_leader_t *self, size_t test, const char *why, double now)
{
    shoal_leader_result_t *r = &self->results[test];
    r->attempt--; /* the retry never ran: report the attempt that did */
    char message[SHOAL_MESSAGE_MAX + 1];
    snprintf(message, sizeof(message), "%s%s(retry not started: %s)", r->message ? r->message : "",
             r->message && *r->message ? " " : "", why);
    s_final(self, test, r->outcome, message, now);
}

void
shoal_leader_tick(shoal_leader_t *self, double now)
{
    s_deal(self, now);
    /* Nothing starts after the time budget (Redefine's session check; the
     * rest is skipped: skipping what is merely predicted to overrun would
     * trust predictions that may be wrong), nor after --maxfail failures
     * (the rest is not run, as pytest reports nothing more). */
    bool budget = self->config.time_limit > 0;
    double deadline = budget ? self->started + self->config.time_limit : 0;
    bool maxfail = self->stopped && (!budget || self->stopped_at < deadline);
    if (maxfail)
        deadline = self->stopped_at;
    else if (!budget)
        return;
    if (now < deadline || sched_board_skip_over_budget(self->board, now, deadline) == 0)
        return;
    char why[64];
    snprintf(why, sizeof(why), "stopping after %u failures", self->failed);
    for (size_t t = 0; t < self->tests.count; t++) {
        if (self->results[t].final ||
            sched_board_test_state(self->board, t, NULL) != SCHED_TEST_SKIPPED)
            continue;
        if (self->results[t].failures > 0)
            s_final_unretried(self, t, maxfail ? why : "the time limit was spent", now);
        else if (maxfail)
            s_final(self, t, SHOAL_OUTCOME_NOT_RUN, why, now);
        else
            s_final(self, t, SHOAL_OUTCOME_SKIPPED, "time limit: not started within the budget",
                    now);
    }
    /* What comes back unstarted from now on is stopped as well. */
    sched_board_deal(self->board);
    sched_board_skip_over_budget(self->board, now, deadline);
}

bool
shoal_leader_finished(const shoal_leader_t *self)
{
    return self->final_count == self->tests.count;
}

size_t
shoal_leader_test_count(const shoal_leader_t *self)
{
    return self->tests.count;
}

const shoal_leader_result_t *
shoal_leader_result(const shoal_leader_t *self, size_t test)
{
    return test < self->tests.count ? &self->results[test] : NULL;
}

void
shoal_leader_counts(const shoal_leader_t *self, uint32_t counts[SHOAL_COUNT_KINDS])
{
    memset(counts, 0, sizeof(uint32_t) * SHOAL_COUNT_KINDS);
    for (size_t t = 0; t < self->tests.count; t++) {
        const shoal_leader_result_t *r = &self->results[t];
        if (!r->final) {
            bool running = sched_board_test_state(self->board, t, NULL) == SCHED_TEST_RUNNING;
            counts[running ? SHOAL_COUNT_RUNNING : SHOAL_COUNT_PENDING]++;
        } else if (r->outcome == SHOAL_OUTCOME_PASSED || r->outcome == SHOAL_OUTCOME_XPASSED)
            counts[SHOAL_COUNT_PASSED]++;
        else if (r->outcome == SHOAL_OUTCOME_FAILED)
            counts[SHOAL_COUNT_FAILED]++;
        else if (r->outcome == SHOAL_OUTCOME_ERROR)
            counts[SHOAL_COUNT_ERROR]++;
        else
            counts[SHOAL_COUNT_SKIPPED]++;
    }
}

bool
shoal_leader_progress_pending(const shoal_leader_t *self)
{
    return self->progress_count > 0;
}

size_t
shoal_leader_take_progress(shoal_leader_t *self, size_t *out, size_t cap)
{
    size_t n = self->progress_count < cap ? self->progress_count : cap;
    memcpy(out, self->progress, n * sizeof(size_t));
    memmove(self->progress, self->progress + n, (self->progress_count - n) * sizeof(size_t));
    self->progress_count -= n;
    return n;
}

void
shoal_leader_print_plan(const shoal_leader_t *self, FILE *out)
{
    size_t members = sched_suite_member_count(self->suite);
    for (size_t m = 0; m < members; m++) {
        size_t count;
        const size_t *queue = sched_board_queue(self->board, m, &count);
        fprintf(out, "%s (%u slots, %zu tests, %.1f s predicted):\n",
                sched_suite_member_name(self->suite, m), sched_suite_member_slots(self->suite, m),
                count, sched_board_queued_work(self->board, m));
        for (size_t i = 0; i < count; i++)
            fprintf(out, "  %6.2fs  %s\n", sched_suite_predicted(self->suite, queue[i], NULL, NULL),
                    sched_suite_test_id(self->suite, queue[i]));
    }
}
