/* The leader's side of a session (see internal.h): a term's board
 * (node/leader.c), fed with the members' reports, and the leader's cadence:
 * LEADER heartbeats, WORK where shipments are due, PROGRESS, LOADS, and at
 * the end the summary, resent until every participant answered DONE.
 *
 *   take (term) --no collection, out of memory--> summary ready (INCOMPLETE)
 *   take --dry run--> summary ready (PASSED; the glue prints the plan)
 *   take --> leading --every test final (tick)--> summary ready
 *   summary ready --every alive participant DONE, or SHOAL_DONE_WAIT_MS--> released
 *   leading / summary ready --another leads (step_down)--> not leading
 * Invariant: board is set exactly while we lead; summary_out borrows its
 * strings from it.
 */
#include "node/session/internal.h"
#include "node/log.h"
#include "node/session.h"

#include <stdlib.h>
#include <string.h>

#define S_PROGRESS_MAX 512 /* final tests in one PROGRESS message */

static double
s_seconds(uint64_t ms)
{
    return (double)ms / 1000.0;
}

static void
s_send(shoal_lead_t *self, const char *to, shoal_msg_t *msg)
{
    shoal_session_tell(self->config.host, self->config.session, to, msg);
}

void
shoal_lead_init(shoal_lead_t *self, const shoal_lead_config_t *config)
{
    memset(self, 0, sizeof(*self));
    self->config = *config;
    for (size_t i = 0; i < SHOAL_COMING_MAX; i++)
        self->coming_each[i] = self->coming_tags[i]; /* the board borrows them */
}

void
shoal_lead_step_down(shoal_lead_t *self)
{
    shoal_leader_destroy(&self->board);
    self->summary_ready = false;
}

void
shoal_lead_clear(shoal_lead_t *self)
{
    shoal_lead_step_down(self);
    free(self->summary_out);
    self->summary_out = NULL;
    self->summary_out_count = 0;
}

void
shoal_lead_heartbeat(shoal_lead_t *self, const char *to)
{
    shoal_msg_t msg = {.type = SHOAL_MSG_LEADER,
                       .term = self->config.elect->term,
                       .tests_total =
                           self->board ? (uint32_t)shoal_leader_test_count(self->board) : 0};
    if (to)
        s_send(self, to, &msg);
    else
        shoal_session_tell_all(self->config.host, self->config.roster, &msg, false);
}

/* ---------------------------------------------------------------- a term */

shoal_lead_take_t
shoal_lead_take(shoal_lead_t *self, const shoal_lead_plan_t *plan, uint64_t now)
{
    bool rebuild = plan->term > 1;
    shoal_log_info("leading term %u of session %s%s", plan->term, self->config.session,
                   rebuild ? " (taking over)" : "");
    /* The plan is what this runner collected, once, before it claimed. */
    shoal_collection_t tests = {0};
    if (plan->failed || shoal_collection_copy(&tests, self->config.local) != 0) {
        char text[2048 + GOSSIP_NAME_MAX + 100];
        snprintf(text, sizeof(text), "the leader (%s) could not collect the tests: %s",
                 self->config.name, plan->failed ? plan->failed : "out of memory");
        shoal_leader_config_t empty = {.session = self->config.session, .term = plan->term};
        self->board = shoal_leader_new(&empty, &tests, NULL, 0, s_seconds(now));
        shoal_lead_finish(self, SHOAL_RUN_INCOMPLETE, text, now);
        return SHOAL_LEAD_FAILED;
    }
    shoal_leader_config_t config = {
        .session = self->config.session,
        .name = self->config.name,
        .term = plan->term,
        .strategy = plan->strategy,
        .retries = plan->retries,
        .maxfail = self->config.local->maxfail,
        .time_limit = plan->time_limit,
        .default_prediction = 0.5,
        .rebuild_seconds = 2.0,
        .rebuild = rebuild,
    };
    size_t total = tests.count;
    self->board =
        shoal_leader_new(&config, &tests, plan->history, plan->history_count, s_seconds(now));
    shoal_collection_clear(&tests);
    if (!self->board) {
        shoal_lead_finish(self, SHOAL_RUN_INCOMPLETE, "the leader ran out of memory", now);
        return SHOAL_LEAD_FAILED;
    }
    const shoal_roster_t *roster = self->config.roster;
    for (size_t i = 0; i < roster->count; i++)
        shoal_lead_member(self, &roster->items[i], false, now);
    shoal_replicas_t *replicas = plan->replicas;
    if (rebuild && replicas && replicas->count) {
        size_t kept = shoal_leader_results(self->board, replicas->of, replicas->items,
                                           replicas->count, s_seconds(now));
        shoal_log_info("kept %zu results of %s from the copies we hold", kept, replicas->of);
    }
    if (replicas)
        shoal_replicas_clear(replicas);
    shoal_log_info("planning %zu tests for %zu participants", total, roster->count);
    if (plan->dry_run) {
        shoal_leader_tick(self->board, s_seconds(now));
        shoal_lead_finish(self, SHOAL_RUN_PASSED, "dry run: the plan above was not run", now);
        return SHOAL_LEAD_PLANNED;
    }
    shoal_lead_heartbeat(self, NULL);
    self->next_heartbeat = now + SHOAL_HEARTBEAT_MS;
    return SHOAL_LEAD_LEADING;
}

void
shoal_lead_member(shoal_lead_t *self, const shoal_participant_t *p, bool arrived, uint64_t now)
{
    if (!self->board)
        return;
    shoal_leader_member(self->board, p->name, p->slots, p->tags, p->alive && !p->refused,
                        s_seconds(now));
    if (arrived)
        shoal_lead_heartbeat(self, p->name); /* a newcomer learns who leads at once */
}

/* ---------------------------------------------------------------- the end */

/* Did our collection have a test to run (not one decided at collection)? */
static bool
s_ran_any(const shoal_collection_t *local)
{
    for (size_t t = 0; t < local->count; t++)
        if (!local->tests[t].preset)
            return true;
    return false;
}

/* The session says whom it left out, and why. */
static void
s_name_refused(shoal_lead_t *self)
{
    const shoal_roster_t *roster = self->config.roster;
    for (size_t i = 0; i < roster->count; i++) {
        size_t len = strlen(self->text);
        if (roster->items[i].refused)
            snprintf(self->text + len, sizeof(self->text) - len,
                     "%snot admitted: %s (its collection differs from the leader's)",
                     len ? "; " : "", roster->items[i].name);
    }
}

void
shoal_lead_finish(shoal_lead_t *self, int status, const char *text, uint64_t now)
{
    self->status = status;
    snprintf(self->text, sizeof(self->text), "%s", text ? text : "");
    s_name_refused(self);
    size_t n = self->board ? shoal_leader_test_count(self->board) : 0;
    free(self->summary_out);
    self->summary_out = calloc(n ? n : 1, sizeof(shoal_item_t));
    self->summary_out_count = 0;
    bool failed = false;
    for (size_t t = 0; self->summary_out && t < n; t++) {
        const shoal_leader_result_t *r = shoal_leader_result(self->board, t);
        if (!r->final)
            continue; /* a dry run, or a session that could not complete */
        self->summary_out[self->summary_out_count++] = (shoal_item_t){
            .id = (char *)r->id,
            .attempt = r->attempt,
            .outcome = (uint8_t)r->outcome,
            .seconds = r->seconds,
            .node = r->node,
            .message = r->message,
            .output = r->output,
            .flaky = r->flaky,
            .stolen = r->thief && r->node && strcmp(r->thief, r->node) == 0,
        };
        failed |= shoal_outcome_failed(r->outcome);
    }
    if (self->status == SHOAL_RUN_PASSED && failed)
        self->status = SHOAL_RUN_FAILED;
    if (self->status == SHOAL_RUN_PASSED && !s_ran_any(self->config.local)) {
        /* As pytest's exit 5: a run of no test is never a success. */
        self->status = SHOAL_RUN_NO_TESTS;
        if (!self->text[0])
            snprintf(self->text, sizeof(self->text), "no tests were collected");
    }
    self->summary_ready = true;
    self->summary_sent_at = 0;
    self->summary_started = now;
    for (size_t i = 0; i < self->config.roster->count; i++)
        self->config.roster->items[i].done = false;
}

static void
s_send_summary(shoal_lead_t *self, const char *to)
{
    shoal_msg_t msg = {.type = SHOAL_MSG_SUMMARY,
                       .term = self->config.elect->term,
                       .status = self->status,
                       .text = self->text,
                       .items = self->summary_out,
                       .item_count = self->summary_out_count};
    if (shoal_summary_send(self->config.host, self->config.session, to, &msg) < 0 &&
        !self->summary_too_large) {
        self->summary_too_large = true;
        shoal_log_info("the summary of %zu results cannot be sent: out of memory",
                       self->summary_out_count);
    }
}

bool
shoal_lead_released(const shoal_lead_t *self, uint64_t now)
{
    if (!self->board)
        return true;
    if (!self->summary_ready)
        return false;
    if (now - self->summary_started > SHOAL_DONE_WAIT_MS)
        return true; /* whoever has not answered by now may fetch it from a new leader */
    const shoal_roster_t *roster = self->config.roster;
    for (size_t i = 0; i < roster->count; i++)
        if (roster->items[i].alive && !roster->items[i].done)
            return false;
    return true;
}

void
shoal_lead_on_done(shoal_lead_t *self, const char *from, uint32_t term)
{
    shoal_participant_t *p = shoal_roster_find(self->config.roster, from);
    if (p && self->board && term == self->config.elect->term)
        p->done = true;
}

/* ---------------------------------------------------------------- cadence */

/* What `to` is to hold and has not been sent. */
static void
s_ship(shoal_lead_t *self, const char *to)
{
    bool fresh;
    shoal_item_t *work = NULL;
    size_t n = shoal_leader_ship(self->board, to, &fresh, &work);
    if (n || fresh) {
        shoal_log_debug("ship %zu tests to %s%s (%s...)", n, to, fresh ? " (fresh)" : "",
                        n ? work[0].id : "");
        shoal_msg_t msg = {.type = SHOAL_MSG_WORK,
                           .term = self->config.elect->term,
                           .fresh = fresh,
                           .items = work,
                           .item_count = n};
        s_send(self, to, &msg);
    }
    free(work);
}

/* Broadcasts the counts and the tests that became final since last time. */
static void
s_send_progress(shoal_lead_t *self)
{
    size_t idx[S_PROGRESS_MAX], n;
    do {
        n = shoal_leader_take_progress(self->board, idx, S_PROGRESS_MAX);
        shoal_item_t items[S_PROGRESS_MAX];
        for (size_t i = 0; i < n; i++) {
            const shoal_leader_result_t *r = shoal_leader_result(self->board, idx[i]);
            items[i] = (shoal_item_t){.id = (char *)r->id,
                                      .attempt = r->attempt,
                                      .outcome = (uint8_t)r->outcome,
                                      .seconds = r->seconds,
                                      .node = r->node};
        }
        shoal_msg_t msg = {.type = SHOAL_MSG_PROGRESS,
                           .term = self->config.elect->term,
                           .items = items,
                           .item_count = n};
        shoal_leader_counts(self->board, msg.counts);
        shoal_session_tell_all(self->config.host, self->config.roster, &msg, false);
    } while (n == S_PROGRESS_MAX);
}

/* Broadcasts who holds how much, and whether anything may still start. */
static void
s_send_loads(shoal_lead_t *self, uint64_t now)
{
    shoal_item_t *loads = NULL;
    size_t n = shoal_leader_loads(self->board, s_seconds(now), &loads);
    shoal_msg_t msg = {.type = SHOAL_MSG_LOADS,
                       .term = self->config.elect->term,
                       .fresh = shoal_leader_stopped(self->board, s_seconds(now)),
                       .items = loads,
                       .item_count = n};
    if (loads)
        shoal_session_tell_all(self->config.host, self->config.roster, &msg, true);
    free(loads);
}

/* The running session's share of a tick: shipments, PROGRESS, LOADS. */
static unsigned
s_running_tick(shoal_lead_t *self, uint64_t now)
{
    unsigned did = 0;
    const shoal_roster_t *roster = self->config.roster;
    size_t known = self->coming < SHOAL_COMING_MAX ? self->coming : SHOAL_COMING_MAX;
    shoal_leader_set_coming(self->board, self->coming, self->coming_each, known);
    shoal_leader_tick(self->board, s_seconds(now));
    bool finished = shoal_leader_finished(self->board);
    if (shoal_leader_take_ship_due(self->board)) {
        for (size_t i = 0; i < roster->count; i++)
            if (roster->items[i].alive && !roster->items[i].refused)
                s_ship(self, roster->items[i].name);
        self->loads_due = true;
        did |= SHOAL_LEAD_SHIPPED;
    }
    /* Results show as they arrive: a test that finished goes out within
     * SHOAL_PROGRESS_MS; with nothing new, the counts now and then. */
    if ((now >= self->next_progress && shoal_leader_progress_pending(self->board)) ||
        now >= self->next_progress + SHOAL_PROGRESS_IDLE_MS - SHOAL_PROGRESS_MS || finished) {
        /* Progress goes to every participant: with many, less often, so
         * the leader's frames per test stay about the same. */
        size_t many = (shoal_roster_alive(roster) + 7) / 8;
        self->next_progress = now + SHOAL_PROGRESS_MS * (many ? many : 1);
        self->loads_due |= shoal_leader_progress_pending(self->board);
        s_send_progress(self);
        did |= SHOAL_LEAD_PROGRESS;
    }
    /* Thieves choose by these figures: a period old at most, sent to
     * everyone, so not at every move (at 64 participants that was half
     * the leader's frames). */
    /* A stop (--maxfail) goes out at once: every batch that runs on
     * meanwhile starts tests pytest alone would not. */
    bool stop_news = !self->told_stop && shoal_leader_stopped(self->board, s_seconds(now));
    self->told_stop |= stop_news;
    if ((self->loads_due && now >= self->next_loads) ||
        now >= self->next_loads + SHOAL_HEARTBEAT_MS || finished || stop_news) {
        self->next_loads = now + SHOAL_LOADS_MS;
        self->loads_due = false;
        s_send_loads(self, now);
        did |= SHOAL_LEAD_LOADS;
    }
    if (finished) {
        shoal_lead_finish(self, SHOAL_RUN_PASSED, self->config.local->interrupted, now);
        did |= SHOAL_LEAD_FINISHED;
    }
    return did;
}

unsigned
shoal_lead_tick(shoal_lead_t *self, uint64_t now)
{
    if (!self->board)
        return 0;
    unsigned did = self->summary_ready ? 0 : s_running_tick(self, now);
    if (now >= self->next_heartbeat) {
        shoal_lead_heartbeat(self, NULL);
        self->next_heartbeat = now + SHOAL_HEARTBEAT_MS;
        did |= SHOAL_LEAD_HEARTBEAT;
    }
    if (self->summary_ready && now - self->summary_sent_at >= SHOAL_HEARTBEAT_MS) {
        self->summary_sent_at = now;
        const shoal_roster_t *roster = self->config.roster;
        for (size_t i = 0; i < roster->count; i++)
            if (roster->items[i].alive && !roster->items[i].done)
                s_send_summary(self, roster->items[i].name);
        did |= SHOAL_LEAD_SUMMARY;
    }
    return did;
}

/* ---------------------------------------------------------------- answers */

/* A member whose collection differs from ours would run other tests, or
 * miss some: it is not admitted, and is told why. */
static bool
s_admitted(shoal_lead_t *self, const char *from, const shoal_msg_t *msg, uint64_t now)
{
    const shoal_collection_t *local = self->config.local;
    const char *digest = self->config.digest;
    shoal_participant_t *p = shoal_roster_find(self->config.roster, from);
    if (strcmp(msg->text ? msg->text : "", digest) == 0)
        return true;
    bool first = !p->refused;
    if (first) {
        p->refused = true;
        shoal_leader_member(self->board, p->name, p->slots, p->tags, false, s_seconds(now));
        shoal_log_info("refused %s: its collection (%.16s) differs from ours (%.16s)", from,
                       msg->text && msg->text[0] ? msg->text : "none", digest);
    }
    char text[256];
    snprintf(text, sizeof(text),
             "the leader %s collected %zu tests (collection %.16s); this runner's collection "
             "(%.16s) differs: run the same checkout and command on every participant",
             self->config.name, local->count, digest,
             msg->text && msg->text[0] ? msg->text : "none");
    /* The first refusal carries our ids, so the member can name what differs. */
    shoal_item_t *ids = first ? calloc(local->count + 1, sizeof(*ids)) : NULL;
    for (size_t i = 0; ids && i < local->count; i++)
        ids[i].id = local->tests[i].id; /* borrowed: encode only reads */
    shoal_msg_t refuse = {.type = SHOAL_MSG_REFUSE,
                          .term = self->config.elect->term,
                          .tests_total = (uint32_t)local->count,
                          .text = text,
                          .items = ids,
                          .item_count = ids ? local->count : 0};
    s_send(self, from, &refuse);
    free(ids);
    return false;
}

shoal_lead_answer_t
shoal_lead_on_want(shoal_lead_t *self, const char *from, const shoal_msg_t *msg, uint64_t now)
{
    if (!self->board || self->summary_ready)
        return SHOAL_LEAD_IGNORED;
    if (!s_admitted(self, from, msg, now))
        return SHOAL_LEAD_REFUSED;
    shoal_leader_want(self->board, from, msg->items, msg->item_count, msg->held, msg->fresh,
                      s_seconds(now));
    s_ship(self, from);
    return SHOAL_LEAD_ANSWERED;
}

size_t
shoal_lead_on_held(shoal_lead_t *self, const char *from, const shoal_msg_t *msg, uint64_t now)
{
    if (!self->board || self->summary_ready)
        return 0;
    size_t n = shoal_leader_held(self->board, from, msg->items, msg->item_count, s_seconds(now));
    shoal_log_debug("%s holds %zu tests: %zu taken in", from, msg->item_count, n);
    return n;
}

size_t
shoal_lead_on_moved(shoal_lead_t *self, const char *from, shoal_msg_t *msg, uint64_t now)
{
    if (!self->board)
        return 0; /* the victim tells the next leader again */
    size_t n = 0;
    if (!self->summary_ready) {
        n = shoal_leader_moved(self->board, msg->victim, msg->thief, msg->items, msg->item_count,
                               s_seconds(now));
        shoal_log_debug("%s says %zu tests (%s...) went from %s to %s: %zu moved", from,
                        msg->item_count, msg->item_count ? msg->items[0].id : "", msg->victim,
                        msg->thief, n);
    }
    if (strcmp(from, msg->victim) == 0) {
        msg->fresh = true; /* the echo the victim waits for */
        s_send(self, from, msg);
    }
    return n;
}

size_t
shoal_lead_on_results(shoal_lead_t *self, const char *from, const shoal_msg_t *msg, uint64_t now)
{
    /* A participant not admitted ran another collection: its results are
     * not this session's (acknowledged all the same, so it stops sending). */
    const shoal_participant_t *p = shoal_roster_find(self->config.roster, from);
    size_t n = 0;
    if (!self->summary_ready && p && !p->refused)
        n = shoal_leader_results(self->board, from, msg->items, msg->item_count, s_seconds(now));
    shoal_msg_t ack = {.type = SHOAL_MSG_ACK,
                       .term = self->config.elect->term,
                       .items = msg->items,
                       .item_count = msg->item_count};
    s_send(self, from, &ack);
    return n;
}
