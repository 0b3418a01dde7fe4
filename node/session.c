/* A participant's session runtime (see session.h for the state diagram).
 *
 * Member role: keeps the batches the leader dealt it, runs them on `slots`
 * local processes (for pytest, one long-lived worker per slot, see worker.h;
 * otherwise a process per batch), reports every result until the leader
 * acknowledges it,
 * asks for work when a slot is free and says what it runs (a heartbeat).
 * Leader role: a shoal_leader_t fed with members' reports; it answers WANT
 * with WORK, RESULTS with ACK, and broadcasts PROGRESS, LEADER heartbeats and
 * finally the SUMMARY. Messages to ourselves go through a local queue, so the
 * leader's own member is served like any other, without recursion.
 * The roles that decide without running anything are files of their own in
 * node/session/ (roster, election, summary, status; see internal.h): this
 * file carries out what they return.
 */
#include "node/session.h"
#include "node/session/internal.h"
#include "node/conclude.h"
#include "node/exec.h"
#include "node/files.h"
#include "node/history.h"
#include "node/leader.h"
#include "node/json.h"
#include "node/log.h"
#include "node/report.h"
#include "node/session_tag.h"
#include "node/worker.h"

#include <czmq.h>
#include <sys/stat.h>
#include <string.h>
#include <unistd.h>

#define S_HEARTBEAT_MS 1000     /* LEADER and WANT heartbeats, result resends */
#define S_WANT_GAP_MS 100       /* a member short of work asks again after this */
#define S_RESULTS_MS 20         /* results of quick tests are sent together within this */
#define S_PROGRESS_MS 50        /* leader's progress broadcasts, when a test finished */
#define S_PROGRESS_IDLE_MS 1000 /* ...and at least this often */
#define S_LOADS_MS 200          /* leader's LOADS, when work moved; at least once a heartbeat */
#define S_DONE_WAIT_MS 10000    /* leader waits this long for everyone's DONE */
/* A batch's work is at least this many of its framework's invocation costs:
 * at most a fifth of a slot's time goes to starting the framework. */
#define S_FLOOR_INVOCATIONS 4.0
#define S_OUTPUT_CAP (64 * 1024)
#define S_CLOSE_MS 30000      /* a closing worker may finish its session this long */
#define S_REFUSE_WAIT_MS 2000 /* a refused member waits this long for the leader's ids */
#define S_STEAL_WAIT_MS 500   /* a thief asks the next victim when no answer came by then */
#define S_STEAL_LATENCY 0.005 /* seconds from asking to the stolen tests arriving */
#define S_BATCH_MAX 1024      /* tests cut into one batch, at most */
#define S_OBSERVED_MIN 8      /* results before they rescale the batch target */

/* What this runner collected (the tests it may run, I3, and the leader's plan). */
typedef enum { S_COLLECTING, S_COLLECTED, S_COLLECT_FAILED } s_collect_t;

typedef enum { S_GATHER, S_FOLLOW, S_DONE } s_phase_t;

typedef struct {
    shoal_exec_t *exec;     /* the batch's own process (lists, process-per-batch) */
    shoal_worker_t *worker; /* pytest: the slot's worker, kept between batches */
    bool running;           /* a batch is in progress (in exec or in worker) */
    bool spawned;           /* a worker was started for this slot once */
    char *held;             /* the test the worker keeps back for its next batch */
    uint32_t held_attempt;
    char **ids;
    uint32_t *attempts;
    size_t count;
    double predicted; /* the batch's predicted seconds */
    uint64_t started; /* when it started (ms) */
} s_slot_t;

struct shoal_session {
    shoal_run_config_t config;
    shoal_node_t *node;
    shoal_adapter_t *adapter;
    char name[GOSSIP_NAME_MAX + 1];
    char digest[64];
    char workdir[256];        /* private temp dir for report files */
    char plugin_dir[300];     /* where the workers' plugin is; "" without workers */
    shoal_collection_t local; /* what this runner collected, indexed */
    s_collect_t collect_state;
    char collect_err[2048];     /* S_COLLECT_FAILED: why */
    char collection_digest[33]; /* S_COLLECTED */
    shoal_worker_t **closing;   /* workers finishing their session */
    size_t closing_count;
    shoal_loop_t *loop;   /* the node's (borrowed) */
    long timer;           /* our turn on it (s_on_timer) */
    int *fds, *watched;   /* to wait on: the exec wake-up and up to 2 per slot */
    size_t watched_count; /* ...as registered with the loop */
    uint64_t tell_gathering_at;
    shoal_history_entry_t *history; /* read before the session starts: the loop never waits */
    size_t history_count;
    bool finished;      /* the session is over here: s_on_timer is done... */
    bool close_started; /* ...but for closing workers (shoal_session_close) */
    s_phase_t phase;
    uint64_t started;
    uint64_t run_started;      /* when we first followed a leader: the budget's origin */
    shoal_session_host_t host; /* what the roles send through */
    shoal_roster_t roster;
    shoal_election_t elect;
    shoal_leader_t *lead; /* set while we lead */
    /* The leader's own results would die with it: it copies them to its
     * deputy, the participant that would take over, which feeds them to the
     * term it starts. */
    shoal_replicas_t replicas; /* as the deputy */
    uint64_t next_heartbeat, next_progress, summary_sent_at, summary_started;
    uint64_t next_loads;    /* leader: LOADS go out then, if loads_due */
    bool loads_due;         /* leader: work moved or finished since the last LOADS */
    bool summary_ready;     /* leader: finished and summary built */
    bool summary_too_large; /* leader: said once that it cannot be sent */
    shoal_item_t *summary_out;
    size_t summary_out_count;
    int status;
    char status_text[SHOAL_MESSAGE_MAX + 1];
    /* member role */
    s_slot_t *slots;     /* config.slots of them... */
    unsigned share;      /* ...of which the first `share` take batches (host: set_slots) */
    shoal_hold_t hold;   /* our share: dealt or stolen, not started */
    bool held_due;       /* tell a new leader what we hold before our first WANT */
    uint64_t next_gifts; /* when unconfirmed gifts are told again */
    shoal_item_t *loads; /* the last LOADS: who holds how much (node, seconds owned) */
    size_t load_count, load_cap;
    bool stopped;                           /* the leader said: start nothing more */
    bool steal_pending;                     /* a STEAL is out... */
    char steal_victim[GOSSIP_NAME_MAX + 1]; /* ...to it */
    uint64_t steal_until;                   /* ...answered by then, or we ask another */
    size_t asked[64];                       /* loads[] that said no since the last LOADS */
    size_t asked_count;
    sched_rng_t rng;
    uint64_t last_turn;     /* when s_on_timer last ran (ms) */
    uint64_t stalled_until; /* after a stall: until then, losing every peer ends it here */
    uint64_t stalled_ms;    /* ...and how long it was */
    bool abandoned;         /* ...and every peer went: no outcome here */
    char other_runner[GOSSIP_NAME_MAX + 1]; /* a member of this session with another runner */
    double observed, predicted; /* seconds our finished batches took, and were predicted */
    size_t observed_count;      /* ...tests in them */
    shoal_results_t results;    /* ours, until the session ends */
    bool fresh;                 /* next WANT is the first to this term's leader */
    uint64_t last_want, next_resend;
    bool want_now;
    shoal_summary_in_t summary; /* as received */
    /* local delivery */
    zlist_t *self_queue; /* zframe_t * */
    shoal_report_t report;
    uint32_t counts[SHOAL_COUNT_KINDS]; /* as of the last progress report */
    bool reaping;                       /* a runner closed its output but has not exited yet */
    bool refused;                       /* the leader did not admit us */
    uint64_t refused_at;                /* when its first REFUSE came, 0: none */
    shoal_item_t *theirs;               /* the leader's ids, from its REFUSE */
    size_t theirs_count, theirs_cap, theirs_total;
    bool dry;             /* nothing held, and no peer worth stealing from */
    bool all_ready;       /* the first workers have all collected */
    uint64_t results_due; /* when unsent results go out */
    uint8_t *buf;
};

/* ---------------------------------------------------------------- helpers */

/* The loop's turn time: the session never reads the clock itself. */
static uint64_t
s_now(const shoal_session_t *self)
{
    return shoal_loop_now(self->loop);
}

static double
s_seconds(uint64_t ms)
{
    return (double)ms / 1000.0;
}

static shoal_participant_t *
s_participant(shoal_session_t *self, const char *name)
{
    return shoal_roster_find(&self->roster, name);
}

/* ---------------------------------------------------------------- sending */

static void
s_send_frame(void *ctx, const char *to, const uint8_t *buf, size_t len)
{
    shoal_session_t *self = ctx;
    if (strcmp(to, self->name) == 0)
        zlist_append(self->self_queue, zframe_new(buf, len));
    else
        gossip_mesh_send_user(shoal_node_mesh(self->node), to, buf, len);
}

/* Sends msg (its items split over as many frames as needed). */
static void
s_send(shoal_session_t *self, const char *to, shoal_msg_t *msg)
{
    shoal_session_tell(&self->host, self->config.session, to, msg);
}

static void
s_send_all(shoal_session_t *self, shoal_msg_t *msg)
{
    shoal_session_tell_all(&self->host, &self->roster, msg, false);
}

/* ---------------------------------------------------------------- member role */

static size_t
s_busy_slots(const shoal_session_t *self)
{
    size_t busy = 0;
    for (unsigned i = 0; i < self->config.slots; i++)
        busy += self->slots[i].running;
    return busy;
}

static void
s_add_result(shoal_session_t *self, shoal_item_t *item)
{
    if (item->outcome == SHOAL_OUTCOME_NOT_RUN)
        shoal_hold_forget(&self->hold, item->id); /* the leader may ship it to us again */
    if (shoal_results_add(&self->results, item) != 0) {
        shoal_log_info("out of memory: the result of %s is lost here", item->id);
        shoal_item_clear(item);
    }
}

/* Sends every result the leader has not acknowledged; while we lead, also
 * copies the new ones to the deputy. Copies are best effort: one that is
 * lost only means the test runs again after a failover. */
static void
s_send_results(shoal_session_t *self)
{
    if (!self->elect.leader[0])
        return;
    const char *deputy = self->lead ? shoal_roster_ranked_first(&self->roster, self->name) : NULL;
    shoal_results_send(&self->results, &self->host, self->config.session, self->elect.term,
                       self->elect.leader, deputy);
}

static void
s_send_want(shoal_session_t *self, uint64_t now)
{
    if (!self->elect.leader[0])
        return;
    size_t busy = s_busy_slots(self);
    size_t free_slots = self->share > busy ? self->share - busy : 0;
    shoal_item_t running[256];
    size_t n = 0;
    for (unsigned s = 0; s < self->config.slots; s++) {
        const s_slot_t *slot = &self->slots[s];
        for (size_t i = 0; slot->running && i < slot->count && n < 256; i++)
            running[n++] = (shoal_item_t){.id = slot->ids[i], .attempt = slot->attempts[i]};
        if (slot->held && n < 256) /* started, as far as the leader knows */
            running[n++] = (shoal_item_t){.id = slot->held, .attempt = slot->held_attempt};
    }
    shoal_msg_t msg = {.type = SHOAL_MSG_WANT,
                       .term = self->elect.term,
                       .free_slots = (uint32_t)free_slots,
                       .held = (uint32_t)shoal_hold_count(&self->hold),
                       .fresh = self->fresh,
                       .text = self->collection_digest,
                       .items = running,
                       .item_count = n};
    s_send(self, self->elect.leader, &msg);
    self->fresh = false;
    self->last_want = now;
    self->want_now = false;
}

/* Ends the slot's batch; its worker stays for the next one. */
static void
s_slot_clear(s_slot_t *slot)
{
    shoal_exec_destroy(&slot->exec);
    for (size_t i = 0; i < slot->count; i++)
        free(slot->ids[i]);
    free(slot->ids);
    free(slot->attempts);
    slot->ids = NULL;
    slot->attempts = NULL;
    slot->count = 0;
    slot->running = false;
}

/* The worker takes no more batches: it finishes its framework's session
 * (fixtures, hooks, caches) while the slot goes on with a new one. */
static void
s_worker_retire(shoal_session_t *self, shoal_worker_t **worker_p)
{
    shoal_worker_t **grown =
        realloc(self->closing, (self->closing_count + 1) * sizeof(shoal_worker_t *));
    if (!grown) {
        shoal_worker_destroy(worker_p); /* out of memory: kill it */
        return;
    }
    self->closing = grown;
    shoal_worker_close(*worker_p, s_now(self) + S_CLOSE_MS);
    self->closing[self->closing_count++] = *worker_p;
    *worker_p = NULL;
}

/* Polls the workers finishing their session; forgets those that exited. */
static void
s_closing_tick(shoal_session_t *self, uint64_t now)
{
    size_t kept = 0;
    for (size_t i = 0; i < self->closing_count; i++) {
        shoal_worker_poll(self->closing[i], now);
        if (shoal_worker_alive(self->closing[i]))
            self->closing[kept++] = self->closing[i];
        else
            shoal_worker_destroy(&self->closing[i]);
    }
    self->closing_count = kept;
}

/* Once a worker has collected, its collection is this runner's: the tests it
 * may run and, if it leads, the plan. A collecting worker that dies first
 * leaves the reason for the leader's summary. */
/* A session carries at most SHOAL_SESSION_TESTS_MAX tests: the protocol's
 * caps (and every receiver's allocations) follow from it. */
static bool
s_collection_too_large(shoal_session_t *self)
{
    if (self->local.count <= SHOAL_SESSION_TESTS_MAX)
        return false;
    snprintf(self->collect_err, sizeof(self->collect_err),
             "%zu tests were collected; a session runs at most %d: split the suite into "
             "several sessions",
             self->local.count, SHOAL_SESSION_TESTS_MAX);
    self->collect_state = S_COLLECT_FAILED;
    shoal_log_info("cannot run the tests: %s", self->collect_err);
    return true;
}

static void
s_collect_tick(shoal_session_t *self, shoal_worker_t *worker)
{
    if (self->collect_state != S_COLLECTING || !worker)
        return;
    if (shoal_worker_ready(worker)) {
        if (shoal_worker_take_collection(worker, &self->local) != 0) {
            snprintf(self->collect_err, sizeof(self->collect_err), "out of memory");
            self->collect_state = S_COLLECT_FAILED;
            return;
        }
        if (s_collection_too_large(self))
            return;
        shoal_collection_digest(&self->local, self->collection_digest);
        shoal_report_options(&self->report, self->local.verbosity, self->local.reportchars);
        if (self->local.notice)
            shoal_log_info("%s", self->local.notice);
        self->collect_state = S_COLLECTED;
        shoal_log_info("collected %zu tests (collection %.16s)", self->local.count,
                       self->collection_digest);
        return;
    }
    const shoal_exec_result_t *exit = shoal_worker_exit(worker);
    if (!exit)
        return;
    const char *tail = shoal_output_tail(exit->output, exit->output_len, 1500);
    if (exit->spawn_failed)
        snprintf(self->collect_err, sizeof(self->collect_err), "%s", exit->output);
    else if (exit->signal)
        snprintf(self->collect_err, sizeof(self->collect_err),
                 "%s's worker was killed by signal %d while collecting:\n%s",
                 shoal_adapter_name(self->adapter), exit->signal, tail);
    else
        snprintf(self->collect_err, sizeof(self->collect_err),
                 "%s's worker ended (status %d) before the tests were listed:\n%s",
                 shoal_adapter_name(self->adapter), exit->exit_code, tail);
    self->collect_state = S_COLLECT_FAILED;
    shoal_log_info("cannot collect the tests: %s", self->collect_err);
}

/* The environment a slot's processes add: SHOAL_NODE, SHOAL_SLOT and
 * SHOAL_SESSION, and for a worker its channel and what its adapter adds
 * (the caller frees the result with shoal_adapter_argv_free; NULL out of
 * memory). */
static char **
s_slot_env(shoal_session_t *self, unsigned slot_index, bool worker)
{
    char **extra =
        worker ? shoal_adapter_worker_env(self->adapter, self->plugin_dir, slot_index, self->share,
                                          self->config.session, self->config.env)
               : NULL;
    size_t n = 0;
    while (extra && extra[n])
        n++;
    char **env = calloc(n + 6, sizeof(char *));
    if (!env || (worker && !extra)) {
        free(env);
        shoal_adapter_argv_free(&extra);
        return NULL;
    }
    char line[5][GOSSIP_NAME_MAX + SHOAL_SESSION_ID_MAX + 256 + 32];
    snprintf(line[0], sizeof(line[0]), "SHOAL_NODE=%s", self->name);
    snprintf(line[1], sizeof(line[1]), "SHOAL_SLOT=%u", slot_index);
    snprintf(line[2], sizeof(line[2]), "SHOAL_SESSION=%s", self->config.session);
    snprintf(line[3], sizeof(line[3]), "SHOAL_WORKER_CHANNEL=%d", SHOAL_EXEC_CHANNEL_FD);
    snprintf(line[4], sizeof(line[4]), "SHOAL_WORKER_DIR=%s", self->workdir);
    size_t ours = worker ? 5 : 3;
    bool oom = false;
    for (size_t i = 0; i < ours; i++)
        oom |= !(env[i] = strdup(line[i]));
    for (size_t i = 0; i < n; i++)
        env[ours + i] = extra[i]; /* moved */
    free(extra);
    if (oom) {
        for (size_t i = 0; i < ours + n; i++)
            free(env[i]);
        free(env);
        return NULL;
    }
    return env;
}

/* Starts the slot's pytest worker; it collects while the session goes on. */
static void
s_worker_start(shoal_session_t *self, unsigned slot_index, uint64_t now, char *err, size_t err_size)
{
    s_slot_t *slot = &self->slots[slot_index];
    char **argv = shoal_adapter_worker_argv(self->adapter, self->plugin_dir, SHOAL_WORKER_MODULE);
    char **env = s_slot_env(self, slot_index, true);
    shoal_exec_spec_t spec = {.argv = argv,
                              .cwd = self->config.cwd,
                              .env = self->config.env,
                              .env_extra = env,
                              .output_cap = S_OUTPUT_CAP};
    if (argv && env)
        slot->worker = shoal_worker_new(&spec, now, err, err_size);
    else
        snprintf(err, err_size, "out of memory");
    slot->spawned = true;
    shoal_adapter_argv_free(&argv);
    shoal_adapter_argv_free(&env);
}

/* The slots of every live participant admitted to the session: how many
 * workers the whole run has. */
static unsigned
s_session_slots(const shoal_session_t *self)
{
    unsigned slots = 0;
    for (size_t i = 0; i < self->roster.count; i++)
        if (self->roster.items[i].alive && !self->roster.items[i].refused)
            slots += self->roster.items[i].slots;
    return slots;
}

/* A result for a test that never reached a runner (rejected id, no start). */
static void
s_result_now(shoal_session_t *self, const char *id, uint32_t attempt, shoal_outcome_t outcome,
             const char *message)
{
    shoal_item_t item = {.id = strdup(id),
                         .attempt = attempt,
                         .outcome = (uint8_t)outcome,
                         .node = strdup(self->name),
                         .message = strdup(message),
                         .output = strdup("")};
    s_add_result(self, &item);
}

/* A batch's target: --batch-seconds, but never more than a slot's share of
 * what we hold, nor half a slot's share of what the whole session holds
 * (guided self-scheduling, by factoring, as the last LOADS tells it): the
 * first run of four 1 s tests on four slots puts one on each; the tail is
 * cut finer, so no slot is left running a long batch that nobody can steal
 * from while others idle. Never below the framework's start-up floor:
 * cutting finer would cost more starts than it saves. */
static double
s_batch_target(const shoal_session_t *self)
{
    double mine = shoal_hold_work(&self->hold);
    double share = mine / (double)self->share;
    double queued = mine;
    unsigned slots = self->share;
    for (size_t i = 0; i < self->load_count; i++)
        if (strcmp(self->loads[i].node, self->name) != 0) {
            queued += self->loads[i].seconds;
            slots += self->loads[i].slots;
        }
    if (queued / (2.0 * slots) < share)
        share = queued / (2.0 * slots);
    double target = self->config.batch_seconds;
    double floor = S_FLOOR_INVOCATIONS * shoal_adapter_invocation_seconds(self->adapter);
    /* Predictions are in the leader's units; once our own results show how
     * far off they run (tests nothing was known about are all predicted the
     * default), a batch aims at --batch-seconds of real time: a suite of
     * 10 ms tests goes out in batches of about 200, not 4. */
    if (self->observed_count >= S_OBSERVED_MIN && self->observed > 0) {
        double scale = self->predicted / self->observed;
        scale = scale < 0.01 ? 0.01 : scale > 100 ? 100 : scale;
        target *= scale;
        floor *= scale;
    }
    double batch = share < target ? share : target;
    return batch < floor ? floor : batch;
}

/* Starts the slot's next batch: the test its worker held back, then (if
 * take_queue) the head of the queue. */
static void
s_start_batch(shoal_session_t *self, unsigned slot_index, bool take_queue, uint64_t now)
{
    s_slot_t *slot = &self->slots[slot_index];
    size_t max = shoal_adapter_batch_max(self->adapter);
    if (max == 0 || max > S_BATCH_MAX)
        max = S_BATCH_MAX;
    size_t n = take_queue ? shoal_hold_batch(&self->hold, s_batch_target(self), max) : 0;
    shoal_item_t *batch = calloc(n + 1, sizeof(*batch));
    n = batch ? shoal_hold_pop(&self->hold, n, batch) : 0;
    slot->ids = calloc(n + 1, sizeof(char *));
    slot->attempts = calloc(n + 1, sizeof(uint32_t));
    slot->predicted = 0;
    slot->started = now;
    if (slot->held) {
        /* What the worker kept back runs first (I3: checked when it came). */
        slot->ids[slot->count] = slot->held;
        slot->attempts[slot->count++] = slot->held_attempt;
        slot->held = NULL;
    }
    bool over_budget = self->config.time_limit > 0 &&
                       now >= self->run_started + (uint64_t)(self->config.time_limit * 1000.0);
    for (size_t i = 0; i < n; i++) {
        shoal_item_t *item = &batch[i];
        slot->predicted += item->seconds;
        free(item->node); /* whom a retry avoids: it is here now */
        item->node = NULL;
        if (over_budget) {
            /* nothing starts after the budget: hand it back unrun */
            s_result_now(self, item->id, item->attempt, SHOAL_OUTCOME_NOT_RUN,
                         "time limit: not started within the budget");
            free(item->id);
            continue;
        }
        /* I3: the network names tests, never commands; each id must be a
         * runnable test of what this runner collected. */
        size_t t = shoal_collection_find(&self->local, item->id);
        if (t == SIZE_MAX || self->local.tests[t].preset) {
            shoal_log_info("rejected test id from %s: '%.80s'", self->elect.leader, item->id);
            s_result_now(self, item->id, item->attempt, SHOAL_OUTCOME_ERROR,
                         "rejected: not a valid test id of this runner's collection");
            free(item->id);
            continue;
        }
        slot->ids[slot->count] = item->id;
        slot->attempts[slot->count++] = item->attempt;
    }
    free(batch);
    self->want_now = true; /* the leader learns what started */
    if (slot->count == 0) {
        s_slot_clear(slot);
        return;
    }
    shoal_log_debug("slot %u starts %zu tests (%s...) at %llu", slot_index, slot->count,
                    slot->ids[0], (unsigned long long)now);
    uint64_t timeout_ms = (uint64_t)(self->config.test_timeout * 1000.0); /* per test */
    char err[256] = "";
    bool started;
    if (self->plugin_dir[0]) {
        /* The slot's worker runs it (a new one if the last died). The test
         * it holds back is already there; a new worker is sent all. */
        if (slot->worker && !shoal_worker_alive(slot->worker))
            shoal_worker_destroy(&slot->worker);
        if (!slot->worker)
            s_worker_start(self, slot_index, now, err, sizeof(err));
        size_t skip = slot->worker && shoal_worker_held(slot->worker) ? 1 : 0;
        started =
            slot->worker && shoal_worker_run(slot->worker, (const char *const *)slot->ids + skip,
                                             slot->count - skip, !self->config.process_per_batch,
                                             s_session_slots(self), timeout_ms, now) == 0;
        if (!started && !err[0])
            snprintf(err, sizeof(err), "cannot hand the batch to the worker");
    } else {
        char **argv = shoal_adapter_argv(self->adapter, slot->ids[0]);
        char **env = s_slot_env(self, slot_index, false);
        shoal_exec_spec_t spec = {.argv = argv,
                                  .cwd = self->config.cwd,
                                  .env = self->config.env,
                                  .env_extra = env,
                                  .timeout_ms = timeout_ms,
                                  .output_cap = S_OUTPUT_CAP};
        slot->exec = argv && env ? shoal_exec_start(&spec, now, err, sizeof(err)) : NULL;
        shoal_adapter_argv_free(&argv);
        shoal_adapter_argv_free(&env);
        started = slot->exec != NULL;
    }
    slot->running = started;
    if (!started) {
        for (size_t i = 0; i < slot->count; i++)
            s_result_now(self, slot->ids[i], slot->attempts[i], SHOAL_OUTCOME_ERROR,
                         err[0] ? err : "cannot start the runner");
        s_slot_clear(slot);
        s_send_results(self);
    }
}

static void
s_finish_batch(shoal_session_t *self, s_slot_t *slot)
{
    shoal_log_debug("finished %s at %llu", slot->ids[0], (unsigned long long)s_now(self));
    shoal_test_result_t *results = calloc(slot->count, sizeof(*results));
    int rc = -1;
    if (results && slot->exec)
        rc = shoal_adapter_result(shoal_exec_result(slot->exec), &results[0]);
    else if (results && slot->worker)
        rc = shoal_worker_results(slot->worker, results);
    if (slot->worker && self->config.process_per_batch)
        s_worker_retire(self, &slot->worker);
    if (rc == 0) {
        double took = 0;
        for (size_t i = 0; i < slot->count; i++)
            took += results[i].held ? 0 : results[i].seconds;
        self->observed += took;
        self->predicted += slot->predicted;
        self->observed_count += slot->count;
        for (size_t i = 0; i < slot->count; i++) {
            if (results[i].held) {
                /* It runs first in the worker's next batch, or when flushed. */
                slot->held = slot->ids[i];
                slot->held_attempt = slot->attempts[i];
                slot->ids[i] = NULL;
                continue;
            }
            shoal_item_t item = {.id = strdup(slot->ids[i]),
                                 .attempt = slot->attempts[i],
                                 .outcome = (uint8_t)results[i].outcome,
                                 .seconds = results[i].seconds,
                                 .node = strdup(self->name),
                                 .message = strdup(results[i].message ? results[i].message : ""),
                                 .output = strdup(results[i].output ? results[i].output : "")};
            s_add_result(self, &item);
        }
    }
    for (size_t i = 0; results && i < slot->count; i++)
        shoal_test_result_clear(&results[i]);
    free(results);
    s_slot_clear(slot);
    /* Results go out together within S_RESULTS_MS: one message for many quick
     * tests instead of one each. */
    if (!self->results_due)
        self->results_due = s_now(self) + S_RESULTS_MS;
    self->want_now = true;
}

/* No test starts while a worker started at the beginning is still
 * collecting (as pytest-xdist waits for every worker's collection): a test
 * that races another worker's import of the whole suite for the CPU sees a
 * machine busier than it would under the framework alone. */
static bool
s_workers_ready(shoal_session_t *self)
{
    if (self->all_ready)
        return true;
    for (unsigned s = 0; s < self->config.slots; s++) {
        shoal_worker_t *w = self->slots[s].worker;
        if (w && shoal_worker_alive(w) && !shoal_worker_ready(w))
            return false;
    }
    self->all_ready = true; /* later workers are started for a batch */
    return true;
}

static void s_send_held(shoal_session_t *self);
static void s_abandon_if_alone(shoal_session_t *self, uint64_t now);
static void s_keep_runnable(shoal_session_t *self, const char *from, shoal_msg_t *msg);
static void s_ship(shoal_session_t *self, const char *to);
static void s_send_gifts(shoal_session_t *self, uint64_t now);
static void s_steal_tick(shoal_session_t *self, uint64_t now);

/* Runs what is due in the member role; collects the fds to wait on. */
static void
s_member_tick(shoal_session_t *self, uint64_t now, int *fds, size_t *fd_count)
{
    shoal_exec_wakeup_drain();
    if (shoal_exec_wakeup_fd() >= 0)
        fds[(*fd_count)++] = shoal_exec_wakeup_fd();
    for (unsigned s = 0; s < self->config.slots; s++) {
        s_slot_t *slot = &self->slots[s];
        /* A worker is polled even when idle: it reads its output and notices
         * its death. */
        bool over = slot->worker ? shoal_worker_poll(slot->worker, now)
                                 : slot->exec && shoal_exec_poll(slot->exec, now);
        s_collect_tick(self, slot->worker);
        if (slot->running && over)
            s_finish_batch(self, slot);
        /* A test a worker keeps back is flushed once there is nothing more
         * for us (or nothing more may start: it ends as its framework says),
         * or at once on a slot beyond our share, which takes no more work
         * and lets its worker go when idle. */
        bool shared = s < self->share;
        size_t held = shoal_hold_count(&self->hold);
        bool flush = slot->held && (((self->dry || self->stopped) && held == 0) || !shared);
        bool take = shared && !self->stopped;
        if (!slot->running && ((held && take) || flush) && self->collect_state == S_COLLECTED &&
            s_workers_ready(self))
            s_start_batch(self, s, take, now);
        if (!shared && !slot->running && !slot->held && slot->worker)
            s_worker_retire(self, &slot->worker);
        /* Workers start early: the first collects this runner's suite;
         * hot ones each collect while the session gathers. A worker that
         * would only collect, for a dry run or a process per batch, runs
         * on the first slot alone. */
        bool early = s == 0 || (shared && !self->config.process_per_batch && !self->config.dry_run);
        if (self->plugin_dir[0] && !slot->spawned && early) {
            char err[256];
            s_worker_start(self, s, now, err, sizeof(err));
            if (!slot->worker && s == 0 && self->collect_state == S_COLLECTING) {
                snprintf(self->collect_err, sizeof(self->collect_err), "%s", err);
                self->collect_state = S_COLLECT_FAILED;
            }
        }
        if (slot->worker) {
            *fd_count += shoal_worker_fds(slot->worker, fds + *fd_count);
            self->reaping |= slot->running && shoal_exec_wakeup_fd() < 0;
        } else if (slot->exec && shoal_exec_fd(slot->exec) >= 0) {
            fds[(*fd_count)++] = shoal_exec_fd(slot->exec);
        } else if (slot->exec && shoal_exec_wakeup_fd() < 0) {
            self->reaping = true; /* output closed, exit not seen yet: look again soon */
        }
    }
    s_closing_tick(self, now);
    if (!self->elect.leader[0] || self->collect_state == S_COLLECTING)
        return; /* nothing to report yet, nor a collection to show */
    /* Results go first: a new leader that has our WANT has our results too. */
    if ((self->results_due && now >= self->results_due) || now >= self->next_resend) {
        s_send_results(self);
        self->results_due = 0;
        self->next_resend = now + S_HEARTBEAT_MS;
    }
    /* A new leader hears what we hold (and the gifts it may not know of)
     * before our first WANT, so it can rebuild its board from them. */
    if (self->held_due) {
        s_send_held(self);
        s_send_gifts(self, now);
        self->held_due = false;
    }
    if (now >= self->next_gifts)
        s_send_gifts(self, now);
    /* Say what started and ended soon (the board and the loads everyone
     * steals by follow it), and what we run at least once a heartbeat. */
    if ((self->want_now && now - self->last_want >= S_WANT_GAP_MS) || self->fresh ||
        now - self->last_want >= S_HEARTBEAT_MS)
        s_send_want(self, now);
    s_steal_tick(self, now);
}

/* ---------------------------------------------------------------- leadership */

static void
s_leader_heartbeat(shoal_session_t *self, const char *to)
{
    shoal_msg_t msg = {.type = SHOAL_MSG_LEADER,
                       .term = self->elect.term,
                       .tests_total =
                           self->lead ? (uint32_t)shoal_leader_test_count(self->lead) : 0};
    if (to)
        s_send(self, to, &msg);
    else
        s_send_all(self, &msg);
}

/* Follow (term, leader): forget work the old leader dealt but we did not
 * start, and report everything we hold to the new one. */
static void
s_adopt(shoal_session_t *self, uint32_t term, const char *leader)
{
    if (self->lead && strcmp(leader, self->name) != 0) {
        shoal_log_info("stepping down: %s leads term %u", leader, term);
        shoal_leader_destroy(&self->lead);
        self->summary_ready = false;
    }
    shoal_election_adopt(&self->elect, term, leader);
    if (!self->run_started)
        self->run_started = s_now(self);
    /* What we hold stays ours: the new leader hears it (HELD) and adopts it. */
    self->held_due = true;
    shoal_results_unack_all(&self->results);
    self->results_due = s_now(self); /* all of them, before the first WANT */
    self->fresh = true;
    self->want_now = true;
    self->last_want = 0;
    if (self->phase == S_GATHER)
        self->phase = S_FOLLOW;
}

static void s_finish_summary(shoal_session_t *self, int status, const char *text);

/* Become the leader of `term`: collect, plan, announce. */
static void
s_lead(shoal_session_t *self, uint32_t term, uint64_t now)
{
    bool rebuild = term > 1;
    shoal_log_info("leading term %u of session %s%s", term, self->config.session,
                   rebuild ? " (taking over)" : "");
    s_adopt(self, term, self->name);
    /* The plan is what this runner collected, once, before it claimed. */
    shoal_collection_t tests = {0};
    if (self->collect_state != S_COLLECTED || shoal_collection_copy(&tests, &self->local) != 0) {
        char text[sizeof(self->collect_err) + GOSSIP_NAME_MAX + 100];
        snprintf(text, sizeof(text), "the leader (%s) could not collect the tests: %s", self->name,
                 self->collect_state == S_COLLECT_FAILED ? self->collect_err : "out of memory");
        shoal_leader_config_t empty = {.session = self->config.session, .term = term};
        self->lead = shoal_leader_new(&empty, &tests, NULL, 0, s_seconds(now));
        s_finish_summary(self, SHOAL_RUN_INCOMPLETE, text);
        return;
    }
    shoal_leader_config_t config = {
        .session = self->config.session,
        .name = self->name,
        .term = term,
        .strategy = self->config.strategy,
        .retries = self->config.retries,
        .maxfail = self->local.maxfail,
        .time_limit = self->config.time_limit,
        .default_prediction = 0.5,
        .rebuild_seconds = 2.0,
        .rebuild = rebuild,
    };
    size_t total = tests.count;
    self->lead =
        shoal_leader_new(&config, &tests, self->history, self->history_count, s_seconds(now));
    shoal_collection_clear(&tests);
    if (!self->lead) {
        s_finish_summary(self, SHOAL_RUN_INCOMPLETE, "the leader ran out of memory");
        return;
    }
    for (size_t i = 0; i < self->roster.count; i++) {
        shoal_participant_t *p = &self->roster.items[i];
        shoal_leader_member(self->lead, p->name, p->slots, p->tags, p->alive && !p->refused,
                            s_seconds(now));
    }
    if (rebuild && self->replicas.count) {
        size_t kept = shoal_leader_results(self->lead, self->replicas.of, self->replicas.items,
                                           self->replicas.count, s_seconds(now));
        shoal_log_info("kept %zu results of %s from the copies we hold", kept, self->replicas.of);
    }
    shoal_replicas_clear(&self->replicas);
    self->results.deputy[0] = '\0'; /* this term copies its results afresh */
    shoal_log_info("planning %zu tests for %zu participants", total, self->roster.count);
    if (self->config.dry_run) {
        shoal_leader_tick(self->lead, s_seconds(now));
        shoal_leader_print_plan(self->lead, stdout);
        s_finish_summary(self, SHOAL_RUN_PASSED, "dry run: the plan above was not run");
        return;
    }
    s_leader_heartbeat(self, NULL);
    self->next_heartbeat = now + S_HEARTBEAT_MS;
}

/* The leader we follow is gone: the best-ranked survivor takes the next term. */
static void
s_elect(shoal_session_t *self, uint64_t now)
{
    if (shoal_election_leader_lost(&self->elect, &self->roster, self->name) == SHOAL_ELECT_CLAIM)
        s_lead(self, self->elect.term + 1, now);
}

/* ---------------------------------------------------------------- summary */

/* Did the leader's collection have a test to run (not one decided at
 * collection)? */
static bool
s_ran_any(const shoal_session_t *self)
{
    for (size_t t = 0; t < self->local.count; t++)
        if (!self->local.tests[t].preset)
            return true;
    return false;
}

static void
s_finish_summary(shoal_session_t *self, int status, const char *text)
{
    self->status = status;
    snprintf(self->status_text, sizeof(self->status_text), "%s", text ? text : "");
    for (size_t i = 0; i < self->roster.count; i++) {
        /* The session says whom it left out, and why. */
        size_t len = strlen(self->status_text);
        if (self->roster.items[i].refused)
            snprintf(self->status_text + len, sizeof(self->status_text) - len,
                     "%snot admitted: %s (its collection differs from the leader's)",
                     len ? "; " : "", self->roster.items[i].name);
    }
    size_t n = self->lead ? shoal_leader_test_count(self->lead) : 0;
    self->summary_out = calloc(n ? n : 1, sizeof(shoal_item_t));
    self->summary_out_count = 0;
    bool failed = false;
    for (size_t t = 0; t < n; t++) {
        const shoal_leader_result_t *r = shoal_leader_result(self->lead, t);
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
    if (self->status == SHOAL_RUN_PASSED && !s_ran_any(self)) {
        /* As pytest's exit 5: a run of no test is never a success. */
        self->status = SHOAL_RUN_NO_TESTS;
        if (!self->status_text[0])
            snprintf(self->status_text, sizeof(self->status_text), "no tests were collected");
    }
    self->summary_ready = true;
    self->summary_sent_at = 0;
    self->summary_started = s_now(self);
    for (size_t i = 0; i < self->roster.count; i++)
        self->roster.items[i].done = false;
}

static void
s_send_summary(shoal_session_t *self, const char *to)
{
    shoal_msg_t msg = {.type = SHOAL_MSG_SUMMARY,
                       .term = self->elect.term,
                       .status = self->status,
                       .text = self->status_text,
                       .items = self->summary_out,
                       .item_count = self->summary_out_count};
    if (shoal_summary_send(&self->host, self->config.session, to, &msg) < 0 &&
        !self->summary_too_large) {
        self->summary_too_large = true;
        shoal_log_info("the summary of %zu results cannot be sent: out of memory",
                       self->summary_out_count);
    }
}

/* Broadcasts the counts and the tests that became final since last time. */
static void
s_send_progress(shoal_session_t *self)
{
    size_t idx[512], n;
    do {
        n = shoal_leader_take_progress(self->lead, idx, 512);
        shoal_item_t items[512];
        for (size_t i = 0; i < n; i++) {
            const shoal_leader_result_t *r = shoal_leader_result(self->lead, idx[i]);
            items[i] = (shoal_item_t){.id = (char *)r->id,
                                      .attempt = r->attempt,
                                      .outcome = (uint8_t)r->outcome,
                                      .seconds = r->seconds,
                                      .node = r->node};
        }
        shoal_msg_t msg = {
            .type = SHOAL_MSG_PROGRESS, .term = self->elect.term, .items = items, .item_count = n};
        shoal_leader_counts(self->lead, msg.counts);
        s_send_all(self, &msg);
    } while (n == 512);
}

/* Broadcasts who holds how much, and whether anything may still start. */
static void
s_send_loads(shoal_session_t *self, uint64_t now)
{
    shoal_item_t *loads = NULL;
    size_t n = shoal_leader_loads(self->lead, s_seconds(now), &loads);
    shoal_msg_t msg = {.type = SHOAL_MSG_LOADS,
                       .term = self->elect.term,
                       .fresh = shoal_leader_stopped(self->lead, s_seconds(now)),
                       .items = loads,
                       .item_count = n};
    if (loads)
        shoal_session_tell_all(&self->host, &self->roster, &msg, true);
    free(loads);
}

static void
s_leader_tick(shoal_session_t *self, uint64_t now)
{
    if (!self->lead)
        return;
    if (!self->summary_ready) {
        shoal_leader_tick(self->lead, s_seconds(now));
        bool finished = shoal_leader_finished(self->lead);
        /* Results show as they arrive: a test that finished goes out within
         * S_PROGRESS_MS; with nothing new, the counts now and then. */
        if (shoal_leader_take_ship_due(self->lead)) {
            for (size_t i = 0; i < self->roster.count; i++)
                if (self->roster.items[i].alive && !self->roster.items[i].refused)
                    s_ship(self, self->roster.items[i].name);
            self->loads_due = true;
        }
        if ((now >= self->next_progress && shoal_leader_progress_pending(self->lead)) ||
            now >= self->next_progress + S_PROGRESS_IDLE_MS - S_PROGRESS_MS || finished) {
            /* Progress goes to every participant: with many, less often, so
             * the leader's frames per test stay about the same. */
            size_t many = (shoal_roster_alive(&self->roster) + 7) / 8;
            self->next_progress = now + S_PROGRESS_MS * (many ? many : 1);
            self->loads_due |= shoal_leader_progress_pending(self->lead);
            s_send_progress(self);
        }
        /* Thieves choose by these figures: a period old at most, sent to
         * everyone, so not at every move (at 64 participants that was half
         * the leader's frames). */
        if ((self->loads_due && now >= self->next_loads) ||
            now >= self->next_loads + S_HEARTBEAT_MS || finished) {
            self->next_loads = now + S_LOADS_MS;
            self->loads_due = false;
            s_send_loads(self, now);
        }
        if (finished)
            s_finish_summary(self, SHOAL_RUN_PASSED, self->local.interrupted);
    }
    if (now >= self->next_heartbeat) {
        s_leader_heartbeat(self, NULL);
        self->next_heartbeat = now + S_HEARTBEAT_MS;
    }
    if (self->summary_ready && now - self->summary_sent_at >= S_HEARTBEAT_MS) {
        self->summary_sent_at = now;
        for (size_t i = 0; i < self->roster.count; i++)
            if (self->roster.items[i].alive && !self->roster.items[i].done)
                s_send_summary(self, self->roster.items[i].name);
    }
}

/* The leader may leave once every live participant has the summary. */
static bool
s_leader_released(shoal_session_t *self, uint64_t now)
{
    if (!self->lead)
        return true;
    if (!self->summary_ready)
        return false;
    if (now - self->summary_started > S_DONE_WAIT_MS)
        return true; /* whoever has not answered by now may fetch it from a new leader */
    for (size_t i = 0; i < self->roster.count; i++)
        if (self->roster.items[i].alive && !self->roster.items[i].done)
            return false;
    return true;
}

/* ---------------------------------------------------------------- handlers */

static void
s_on_leader(shoal_session_t *self, const char *from, const shoal_msg_t *msg)
{
    switch (shoal_election_on_leader(&self->elect, self->config.session, self->name,
                                     self->lead != NULL, from, msg->term)) {
        case SHOAL_ELECT_ADOPT:
            s_adopt(self, msg->term, from);
            break;
        case SHOAL_ELECT_TELL:
            s_leader_heartbeat(self, from);
            break;
        default:
            break;
    }
}

/* The leader did not admit us: keep the ids its first refusal carries, to
 * name what differs, until we have them all or S_REFUSE_WAIT_MS passed. */
static void
s_on_refuse(shoal_session_t *self, shoal_msg_t *msg, uint64_t now)
{
    if (!self->refused_at) {
        self->refused_at = now;
        snprintf(self->status_text, sizeof(self->status_text), "%s", msg->text ? msg->text : "");
        self->theirs_total = msg->tests_total;
    }
    if (self->theirs_count < self->theirs_total && self->theirs_count < SHOAL_SESSION_TESTS_MAX)
        shoal_items_take(&self->theirs, &self->theirs_count, &self->theirs_cap, msg);
}

static int
s_item_id_cmp(const void *a, const void *b)
{
    return strcmp(((const shoal_item_t *)a)->id, ((const shoal_item_t *)b)->id);
}

/* Says which tests differ (a few of each side) and ends our part. */
static void
s_refuse_tick(shoal_session_t *self, uint64_t now)
{
    if (!self->refused_at ||
        (self->theirs_count < self->theirs_total && now - self->refused_at < S_REFUSE_WAIT_MS))
        return;
    char only_there[1024] = "", only_here[1024] = "";
    size_t there = 0, here = 0;
    for (size_t i = 0; i < self->theirs_count; i++)
        if (shoal_collection_find(&self->local, self->theirs[i].id) == SIZE_MAX && there++ < 5) {
            size_t len = strlen(only_there);
            snprintf(only_there + len, sizeof(only_there) - len, "\n  only at the leader: %s",
                     self->theirs[i].id);
        }
    qsort(self->theirs, self->theirs_count, sizeof(*self->theirs), s_item_id_cmp);
    for (size_t i = 0; i < self->local.count; i++) {
        shoal_item_t key = {.id = self->local.tests[i].id};
        if (!bsearch(&key, self->theirs, self->theirs_count, sizeof(key), s_item_id_cmp) &&
            here++ < 5) {
            size_t len = strlen(only_here);
            snprintf(only_here + len, sizeof(only_here) - len, "\n  only here: %s",
                     self->local.tests[i].id);
        }
    }
    shoal_log_info("not admitted to session %s: %s%s%s%s", self->config.session, self->status_text,
                   only_there, only_here,
                   self->theirs_count < self->theirs_total ? "\n  (the leader's list came in part)"
                   : there + here == 0 ? "\n  (the same tests, in another order or with other "
                                         "outcomes at collection)"
                                       : "");
    self->refused = true;
    self->phase = S_DONE;
}

/* A member whose collection differs from ours would run other tests, or
 * miss some: it is not admitted, and is told why. */
static bool
s_admitted(shoal_session_t *self, const char *from, const shoal_msg_t *msg, uint64_t now)
{
    shoal_participant_t *p = s_participant(self, from);
    if (strcmp(msg->text ? msg->text : "", self->collection_digest) == 0)
        return true;
    bool first = !p->refused;
    if (first) {
        p->refused = true;
        shoal_leader_member(self->lead, p->name, p->slots, p->tags, false, s_seconds(now));
        shoal_log_info("refused %s: its collection (%.16s) differs from ours (%.16s)", from,
                       msg->text && msg->text[0] ? msg->text : "none", self->collection_digest);
    }
    char text[256];
    snprintf(text, sizeof(text),
             "the leader %s collected %zu tests (collection %.16s); this runner's collection "
             "(%.16s) differs: run the same checkout and command on every participant",
             self->name, self->local.count, self->collection_digest,
             msg->text && msg->text[0] ? msg->text : "none");
    /* The first refusal carries our ids, so the member can name what differs. */
    shoal_item_t *ids = first ? calloc(self->local.count + 1, sizeof(*ids)) : NULL;
    for (size_t i = 0; ids && i < self->local.count; i++)
        ids[i].id = self->local.tests[i].id; /* borrowed: encode only reads */
    shoal_msg_t refuse = {.type = SHOAL_MSG_REFUSE,
                          .term = self->elect.term,
                          .tests_total = (uint32_t)self->local.count,
                          .text = text,
                          .items = ids,
                          .item_count = ids ? self->local.count : 0};
    s_send(self, from, &refuse);
    free(ids);
    return false;
}

/* Leader: what `to` is to hold and has not been sent. */
static void
s_ship(shoal_session_t *self, const char *to)
{
    bool fresh;
    shoal_item_t *work = NULL;
    size_t n = shoal_leader_ship(self->lead, to, &fresh, &work);
    if (n || fresh) {
        shoal_log_debug("ship %zu tests to %s%s (%s...)", n, to, fresh ? " (fresh)" : "",
                        n ? work[0].id : "");
        shoal_msg_t msg = {.type = SHOAL_MSG_WORK,
                           .term = self->elect.term,
                           .fresh = fresh,
                           .items = work,
                           .item_count = n};
        s_send(self, to, &msg);
    }
    free(work);
}

static void
s_on_want(shoal_session_t *self, const char *from, const shoal_msg_t *msg, uint64_t now)
{
    if (!self->lead || self->summary_ready || !s_admitted(self, from, msg, now))
        return;
    shoal_leader_want(self->lead, from, msg->items, msg->item_count, msg->held, msg->fresh,
                      s_seconds(now));
    s_ship(self, from);
}

/* Leader: what a member holds, reported to this new term. */
static void
s_on_held(shoal_session_t *self, const char *from, const shoal_msg_t *msg, uint64_t now)
{
    if (self->lead && !self->summary_ready) {
        size_t n = shoal_leader_held(self->lead, from, msg->items, msg->item_count, s_seconds(now));
        shoal_log_debug("%s holds %zu tests: %zu taken in", from, msg->item_count, n);
    }
}

/* A move: as the leader, put it on the board and echo the victim's report
 * (the victim resends until then); as the victim, the echo settles it. */
static void
s_on_moved(shoal_session_t *self, const char *from, shoal_msg_t *msg, uint64_t now)
{
    if (msg->fresh) { /* an echo */
        if (strcmp(from, self->elect.leader) == 0 && strcmp(msg->victim, self->name) == 0)
            shoal_hold_confirmed(&self->hold, msg);
        return;
    }
    if (!self->lead)
        return; /* for the leader: the victim tells the next one again */
    if (!self->summary_ready) {
        size_t n = shoal_leader_moved(self->lead, msg->victim, msg->thief, msg->items,
                                      msg->item_count, s_seconds(now));
        shoal_log_debug("%s says %zu tests (%s...) went from %s to %s: %zu moved", from,
                        msg->item_count, msg->item_count ? msg->items[0].id : "", msg->victim,
                        msg->thief, n);
    }
    if (strcmp(from, msg->victim) == 0) {
        msg->fresh = true;
        s_send(self, from, msg);
    }
}

/* The leader's LOADS: whom to steal from, and whether to stop. */
static void
s_on_loads(shoal_session_t *self, shoal_msg_t *msg)
{
    shoal_items_free(&self->loads, &self->load_count, &self->load_cap);
    shoal_items_take(&self->loads, &self->load_count, &self->load_cap, msg);
    self->asked_count = 0; /* new figures: anyone may be asked again */
    if (msg->fresh && !self->stopped) {
        self->stopped = true; /* --maxfail or the budget: the leader reports the rest */
        shoal_hold_drop(&self->hold);
    }
}

/* Whether the thief whose tags these are can run test `id`. */
typedef struct {
    shoal_session_t *self;
    const char *tags;
} s_thief_t;

static bool
s_thief_can_run(void *ctx, const shoal_item_t *item)
{
    s_thief_t *thief = ctx;
    size_t t = shoal_collection_find(&thief->self->local, item->id);
    return t != SIZE_MAX && sched_tags_satisfy(thief->tags, thief->self->local.tests[t].requires);
}

/* Seconds our started batches still need, as predicted. */
static double
s_running_work(const shoal_session_t *self, uint64_t now)
{
    double left = 0;
    for (unsigned s = 0; s < self->config.slots; s++) {
        const s_slot_t *slot = &self->slots[s];
        double rest = slot->predicted - (double)(now - slot->started) / 1000.0;
        if (slot->running && rest > 0)
            left += rest;
    }
    return left;
}

/* A thief asks: give it our split of what we hold, and tell the leader. */
static void
s_on_steal(shoal_session_t *self, const char *from, const shoal_msg_t *msg, uint64_t now)
{
    shoal_participant_t *p = s_participant(self, from);
    const shoal_gift_t *gift = NULL;
    if (p && !self->stopped) {
        sched_steal_sides_t sides = {.victim_slots = self->share,
                                     .victim_running = s_running_work(self, now),
                                     .thief_slots = p->slots,
                                     .thief_running = msg->seconds,
                                     .latency = S_STEAL_LATENCY};
        s_thief_t thief = {.self = self, .tags = p->tags};
        gift = shoal_hold_give(&self->hold, from, &sides, s_thief_can_run, &thief);
    }
    shoal_msg_t give = {.type = SHOAL_MSG_GIVE,
                        .term = self->elect.term ? self->elect.term : 1,
                        .items = gift ? gift->items : NULL,
                        .item_count = gift ? gift->count : 0};
    s_send(self, from, &give);
    if (gift) {
        shoal_log_debug("gave %zu tests to %s", gift->count, from);
        s_send_gifts(self, now);
    }
}

/* Peer `name` said no (or nothing): not asked again until the next LOADS. */
static void
s_said_no(shoal_session_t *self, const char *name)
{
    for (size_t i = 0; i < self->load_count && self->asked_count < 64; i++)
        if (strcmp(self->loads[i].node, name) == 0)
            self->asked[self->asked_count++] = i;
}

/* The victim's answer: its gift, or no. A gift that comes after we gave
 * up on it is taken all the same: the victim no longer holds it. */
static void
s_on_give(shoal_session_t *self, const char *from, shoal_msg_t *msg)
{
    if (self->steal_pending && strcmp(from, self->steal_victim) == 0)
        self->steal_pending = false;
    if (msg->item_count == 0) {
        s_said_no(self, from);
        return;
    }
    s_keep_runnable(self, from, msg);
    /* The thief's report of the move: the victim's may be lost with it. */
    if (self->elect.leader[0] && msg->item_count) {
        shoal_msg_t moved = {.type = SHOAL_MSG_MOVED,
                             .term = self->elect.term,
                             .victim = (char *)from,
                             .thief = self->name,
                             .items = msg->items,
                             .item_count = msg->item_count};
        s_send(self, self->elect.leader, &moved);
    }
    shoal_log_debug("took %zu tests from %s", msg->item_count, from);
    if (shoal_hold_take(&self->hold, msg, false))
        self->dry = false;
}

/* What we hold, for a new leader (HELD, before our first WANT). */
static void
s_send_held(shoal_session_t *self)
{
    shoal_item_t *items;
    size_t n = shoal_hold_list(&self->hold, &items);
    shoal_msg_t msg = {
        .type = SHOAL_MSG_HELD, .term = self->elect.term, .items = items, .item_count = n};
    if (items)
        s_send(self, self->elect.leader, &msg);
    free(items);
}

/* Our gifts the leader has not echoed: told again (a new leader learns of
 * them even if the old one died holding our report). */
static void
s_send_gifts(shoal_session_t *self, uint64_t now)
{
    self->next_gifts = now + S_HEARTBEAT_MS;
    if (!self->elect.leader[0])
        return;
    for (size_t g = 0; g < self->hold.gift_count; g++) {
        shoal_gift_t *gift = &self->hold.gifts[g];
        shoal_msg_t msg = {.type = SHOAL_MSG_MOVED,
                           .term = self->elect.term,
                           .victim = self->name,
                           .thief = gift->thief,
                           .items = gift->items,
                           .item_count = gift->count};
        s_send(self, self->elect.leader, &msg);
    }
}

/* Out of work with a slot free: ask the peer with the most work for some. */
static void
s_steal_tick(shoal_session_t *self, uint64_t now)
{
    if (self->stopped || self->refused || self->refused_at || self->collect_state != S_COLLECTED ||
        self->phase == S_DONE || shoal_hold_count(&self->hold) || s_busy_slots(self) >= self->share)
        return;
    if (self->steal_pending) {
        if (now < self->steal_until)
            return;
        self->steal_pending = false; /* no answer: ask another */
        s_said_no(self, self->steal_victim);
    }
    size_t count = self->load_count, me = SIZE_MAX, victim;
    sched_peer_load_t *peers = calloc(count + 1, sizeof(*peers));
    if (!peers)
        return;
    for (size_t i = 0; i < count; i++) {
        const shoal_item_t *load = &self->loads[i];
        shoal_participant_t *p = s_participant(self, load->node);
        peers[i] = (sched_peer_load_t){.queued = load->seconds,
                                       .running = load->running,
                                       .slots = load->slots,
                                       .alive = p && p->alive};
        if (strcmp(load->node, self->name) == 0) {
            me = i;
            peers[i].queued = 0; /* what we held is gone: we are dry */
        }
    }
    if (me == SIZE_MAX) {
        me = count;
        peers[count++] = (sched_peer_load_t){.slots = self->share, .alive = true};
    }
    int picked = sched_steal_pick(peers, count, me, s_running_work(self, now), S_STEAL_LATENCY,
                                  self->asked, self->asked_count, &self->rng, &victim);
    free(peers);
    if (picked != 0) {
        /* What a worker holds back is flushed only once no member holds
         * anything more (it ends the framework's session there: its session
         * fixtures are torn down), not while another is merely not worth
         * stealing from: a gift could still come. */
        bool left = false;
        for (size_t i = 0; i < self->load_count; i++)
            left |= self->loads[i].seconds > 0 && strcmp(self->loads[i].node, self->name) != 0;
        self->dry = !left;
        return;
    }
    snprintf(self->steal_victim, sizeof(self->steal_victim), "%s", self->loads[victim].node);
    shoal_msg_t msg = {.type = SHOAL_MSG_STEAL,
                       .term = self->elect.term ? self->elect.term : 1,
                       .free_slots = (uint32_t)(self->share - s_busy_slots(self)),
                       .seconds = s_running_work(self, now)};
    s_send(self, self->steal_victim, &msg);
    self->steal_pending = true;
    self->steal_until = now + S_STEAL_WAIT_MS;
}

/* I3: the network names tests, never commands; each id a leader or a peer
 * hands us must be a runnable test of what this runner collected. The rest
 * are rejected at once, each with its reason as its result, and never held. */
static void
s_keep_runnable(shoal_session_t *self, const char *from, shoal_msg_t *msg)
{
    size_t kept = 0;
    for (size_t i = 0; i < msg->item_count; i++) {
        shoal_item_t *item = &msg->items[i];
        size_t t = shoal_collection_find(&self->local, item->id);
        if (t == SIZE_MAX || self->local.tests[t].preset) {
            shoal_log_info("rejected test id from %s: '%.80s'", from, item->id);
            s_result_now(self, item->id, item->attempt, SHOAL_OUTCOME_ERROR,
                         "rejected: not a valid test id of this runner's collection");
            shoal_item_clear(item);
            continue;
        }
        msg->items[kept++] = *item;
    }
    msg->item_count = kept;
}

static void
s_on_work(shoal_session_t *self, const char *from, shoal_msg_t *msg)
{
    s_keep_runnable(self, from, msg);
    size_t offered = msg->item_count;
    size_t taken = shoal_hold_take(&self->hold, msg, msg->fresh);
    shoal_log_debug("took %zu of %zu shipped%s (v%u); holding %zu", taken, offered,
                    msg->fresh ? " (fresh)" : "", offered ? msg->items[0].version : 0,
                    shoal_hold_count(&self->hold));
    if (taken)
        self->dry = false;
}

static void
s_on_results(shoal_session_t *self, const char *from, shoal_msg_t *msg, uint64_t now)
{
    if (!self->lead) {
        if (strcmp(from, self->elect.leader) == 0) /* as the deputy */
            shoal_replicas_keep(&self->replicas, from, msg);
        return;
    }
    /* A participant not admitted ran another collection: its results are
     * not this session's (acknowledged all the same, so it stops sending). */
    shoal_participant_t *p = s_participant(self, from);
    if (!self->summary_ready && p && !p->refused)
        shoal_leader_results(self->lead, from, msg->items, msg->item_count, s_seconds(now));
    /* Acknowledge everything: what was not recorded was a duplicate. */
    shoal_msg_t ack = {.type = SHOAL_MSG_ACK,
                       .term = self->elect.term,
                       .items = msg->items,
                       .item_count = msg->item_count};
    s_send(self, from, &ack);
}

static void
s_on_progress(shoal_session_t *self, const shoal_msg_t *msg, uint64_t now)
{
    if (self->phase == S_DONE)
        return;
    memcpy(self->counts, msg->counts, sizeof(self->counts));
    for (size_t i = 0; i < msg->item_count; i++) {
        shoal_participant_t *p =
            msg->items[i].node ? s_participant(self, msg->items[i].node) : NULL;
        if (p)
            p->finished++;
    }
    shoal_report_progress(&self->report, msg->counts, msg->items, msg->item_count, now);
}

static void
s_on_summary(shoal_session_t *self, const char *from, shoal_msg_t *msg)
{
    if (self->phase == S_DONE)
        return;
    if (shoal_summary_in_add(&self->summary, msg) == SHOAL_SUMMARY_COMPLETE) {
        self->status = self->summary.status;
        snprintf(self->status_text, sizeof(self->status_text), "%s", self->summary.text);
        shoal_msg_t done = {.type = SHOAL_MSG_DONE, .term = msg->term};
        s_send(self, from, &done);
        self->phase = S_DONE;
    }
}

static void
s_on_done(shoal_session_t *self, const char *from, const shoal_msg_t *msg)
{
    shoal_participant_t *p = s_participant(self, from);
    if (p && self->lead && msg->term == self->elect.term)
        p->done = true;
}

static void
s_dispatch(shoal_session_t *self, const char *from, const uint8_t *payload, size_t len,
           uint64_t now)
{
    shoal_msg_t msg;
    if (shoal_msg_decode(payload, len, &msg) != 0) {
        shoal_log_info("dropped a malformed session message from %s", from);
        return;
    }
    /* Fencing (the message table): another session's traffic, a stranger's,
     * an older term's or a leader's message from another node change nothing. */
    shoal_msg_receiver_t at = {.session = self->config.session,
                               .term = self->elect.term,
                               .from_participant = s_participant(self, from) != NULL,
                               .from_self = strcmp(from, self->name) == 0,
                               .from_leader =
                                   self->elect.leader[0] && strcmp(from, self->elect.leader) == 0,
                               .led = self->elect.leader[0] != '\0'};
    shoal_msg_verdict_t verdict = shoal_msg_admit(&msg, &at);
    if (verdict != SHOAL_MSG_ACCEPT) {
        shoal_log_debug("dropped %s from %s: %s", shoal_msg_type_str(msg.type), from,
                        shoal_msg_verdict_str(verdict));
        shoal_msg_clear(&msg);
        return;
    }
    switch (msg.type) {
        case SHOAL_MSG_LEADER:
            s_on_leader(self, from, &msg);
            break;
        case SHOAL_MSG_WANT:
            s_on_want(self, from, &msg, now);
            break;
        case SHOAL_MSG_WORK:
            s_on_work(self, from, &msg);
            break;
        case SHOAL_MSG_RESULTS:
            s_on_results(self, from, &msg, now);
            break;
        case SHOAL_MSG_ACK:
            shoal_results_ack(&self->results, &msg);
            break;
        case SHOAL_MSG_PROGRESS:
            s_on_progress(self, &msg, now);
            break;
        case SHOAL_MSG_SUMMARY:
            s_on_summary(self, from, &msg);
            break;
        case SHOAL_MSG_DONE:
            s_on_done(self, from, &msg);
            break;
        case SHOAL_MSG_QUERY: {
            /* Fencing let it through only if we follow no one either. */
            shoal_msg_t answer = {.type = SHOAL_MSG_NOLEADER};
            s_send(self, from, &answer);
            break;
        }
        case SHOAL_MSG_NOLEADER:
            if (self->phase == S_GATHER && !self->elect.leader[0])
                s_participant(self, from)->unled = true;
            break;
        case SHOAL_MSG_STEAL:
            s_on_steal(self, from, &msg, now);
            break;
        case SHOAL_MSG_GIVE:
            s_on_give(self, from, &msg);
            break;
        case SHOAL_MSG_MOVED:
            s_on_moved(self, from, &msg, now);
            break;
        case SHOAL_MSG_LOADS:
            s_on_loads(self, &msg);
            break;
        case SHOAL_MSG_HELD:
            s_on_held(self, from, &msg, now);
            break;
        case SHOAL_MSG_REFUSE:
            if (self->phase != S_DONE)
                s_on_refuse(self, &msg, now);
            break;
    }
    shoal_msg_clear(&msg);
}

static void
s_on_user(void *ctx, const char *from, const uint8_t *payload, size_t len)
{
    shoal_session_t *self = ctx;
    s_dispatch(self, from, payload, len, s_now(self));
    shoal_loop_set_timer(self->loop, self->timer, s_now(self)); /* our turn, at once */
}

static bool
s_accepts(void *ctx, const uint8_t *payload, size_t len)
{
    shoal_session_t *self = ctx;
    return shoal_msg_peek_session(payload, len, self->config.session) != 0;
}

/* ---------------------------------------------------------------- participants */

/* A member takes part if it advertises this session (session_tag.h) with
 * the same runner; one that stops advertising it (its node ended or
 * abandoned the session there) is gone, as if it had died. */
static void
s_on_member(void *ctx, const gossip_member_t *m, gossip_state_t old)
{
    shoal_session_t *self = ctx;
    (void)old;
    shoal_participant_t *p;
    shoal_roster_change_t change = shoal_roster_update(&self->roster, m, &p);
    if (change == SHOAL_ROSTER_OTHER_RUNNER && !self->other_runner[0])
        snprintf(self->other_runner, sizeof(self->other_runner), "%s", m->name);
    if (!p)
        return;
    uint64_t now = s_now(self);
    if (self->lead) {
        shoal_leader_member(self->lead, p->name, p->slots, p->tags, p->alive && !p->refused,
                            s_seconds(now));
        if (change == SHOAL_ROSTER_ARRIVED)
            s_leader_heartbeat(self, p->name); /* a newcomer learns who leads at once */
    }
    if (change == SHOAL_ROSTER_LOST && strcmp(p->name, self->elect.leader) == 0 &&
        self->phase != S_DONE)
        s_elect(self, now);
    if (change == SHOAL_ROSTER_LOST)
        s_abandon_if_alone(self, now);
    shoal_loop_set_timer(self->loop, self->timer, now);
}

/* `shoal status`: this session as seen from here. */
static void
s_on_status(void *ctx, FILE *out, bool json)
{
    shoal_session_t *self = ctx;
    static const char *phases[] = {"gathering", "running", "done"};
    unsigned running_here = 0;
    for (unsigned s = 0; s < self->config.slots; s++)
        running_here += self->slots[s].running ? (unsigned)self->slots[s].count : 0;
    shoal_status_view_t view = {.session = self->config.session,
                                .phase = phases[self->phase],
                                .leader = self->elect.leader,
                                .term = self->elect.term,
                                .counts = self->counts,
                                .roster = &self->roster,
                                .me = self->name,
                                .running_here = running_here};
    shoal_status_print(out, json, &view);
}

/* ---------------------------------------------------------------- life cycle */

/* Says once, while the join window is open, whom --expect still waits for
 * and for how long, so a missing runner is not a silent hang. */
static void
s_tell_gathering(shoal_session_t *self, uint64_t now)
{
    size_t have = shoal_roster_alive(&self->roster);
    if (self->phase != S_GATHER || self->elect.leader[0] || self->config.expect <= 0 ||
        have >= (size_t)self->config.expect || now >= self->elect.gather_until)
        return;
    char names[512];
    shoal_roster_alive_names(&self->roster, names, sizeof(names));
    size_t missing = (size_t)self->config.expect - have;
    shoal_log_info("waiting for %zu more participant%s (have: %s) for up to %llu s", missing,
                   missing == 1 ? "" : "s", names,
                   (unsigned long long)(self->elect.gather_until - now + 999) / 1000);
}

/* The join window and the first claim (election.c decides). */
static void
s_gather_tick(shoal_session_t *self, uint64_t now)
{
    if (self->phase != S_GATHER)
        return;
    bool said_short;
    switch (shoal_election_gather(&self->elect, &self->roster, self->name,
                                  self->collect_state != S_COLLECTING, now, &said_short)) {
        case SHOAL_ELECT_ASK:
            if (said_short)
                shoal_log_info("join window closed with %zu of %d expected participants: "
                               "starting without the rest",
                               shoal_roster_alive(&self->roster), self->config.expect);
            for (size_t i = 0; i < self->roster.count; i++)
                self->roster.items[i].unled = false;
            shoal_msg_t query = {.type = SHOAL_MSG_QUERY};
            s_send_all(self, &query);
            break;
        case SHOAL_ELECT_CLAIM:
            s_lead(self, 1, now);
            break;
        default:
            break;
    }
}

static void
s_on_readable(void *ctx, uint64_t now)
{
    shoal_session_t *self = ctx;
    shoal_loop_set_timer(self->loop, self->timer, now);
}

/* Registers fds[0..count) with the loop, and unregisters what we watched
 * that is not among them. */
static void
s_watch(shoal_session_t *self, const int *fds, size_t count)
{
    for (size_t i = 0; i < self->watched_count; i++) {
        bool kept = false;
        for (size_t k = 0; k < count && !kept; k++)
            kept = fds[k] == self->watched[i];
        if (!kept)
            shoal_loop_remove_read(self->loop, self->watched[i], NULL);
    }
    for (size_t k = 0; k < count; k++) {
        bool known = false;
        for (size_t i = 0; i < self->watched_count && !known; i++)
            known = fds[k] == self->watched[i];
        if (!known && shoal_loop_add_read(self->loop, fds[k], NULL, s_on_readable, self) != 0)
            shoal_log_debug("cannot watch fd %d: the loop is full", fds[k]);
    }
    if (count)
        memcpy(self->watched, fds, count * sizeof(int));
    self->watched_count = count;
}

/* The session's turn: what the roles have due at `now`. Returns when it is
 * due next (sooner when a descriptor it waits on becomes readable). */
/* After the end, once closed (shoal_session_close): polls the workers
 * finishing their framework's session until every one has exited. */
static uint64_t
s_close_tick(shoal_session_t *self, uint64_t now)
{
    shoal_exec_wakeup_drain();
    s_closing_tick(self, now);
    int fd = shoal_exec_wakeup_fd();
    bool waiting = self->closing_count > 0;
    s_watch(self, &fd, waiting && fd >= 0);
    return waiting ? now + 20 : UINT64_MAX;
}

/* Every other participant is gone while we were stalled and after: the
 * session may well have ended without us, with a summary we never had. */
static void
s_abandon_if_alone(shoal_session_t *self, uint64_t now)
{
    if (now >= self->stalled_until || self->phase == S_DONE || self->roster.count < 2 ||
        shoal_roster_alive(&self->roster) > 1)
        return;
    shoal_log_info("this participant was stalled for %.1f s and every other one is gone since: "
                   "the session went on without it; its outcome is not known here",
                   s_seconds(self->stalled_ms));
    shoal_leader_destroy(&self->lead);
    self->summary_ready = false;
    self->status = SHOAL_RUN_INCOMPLETE;
    snprintf(self->status_text, sizeof(self->status_text),
             "this participant was stalled for %.1f s (frozen or starved) while the others "
             "carried on; they are gone, and the session's outcome is not known here",
             s_seconds(self->stalled_ms));
    shoal_summary_in_clear(&self->summary);
    self->abandoned = true;
    self->phase = S_DONE;
}

/* No turn for longer than the mesh takes to declare a node dead (SIGSTOP, a
 * starved machine): the others have likely re-dealt what we held and may
 * have a new leader. What we hold is dropped (a leader that still counts on
 * us ships it again), and we follow whoever leads now. */
static void
s_stalled(shoal_session_t *self, uint64_t gap, uint64_t now)
{
    shoal_log_info("no turn for %.1f s (frozen or starved): dropping the %zu tests held here",
                   s_seconds(gap), shoal_hold_count(&self->hold));
    shoal_hold_drop(&self->hold);
    self->stalled_ms = gap;
    self->stalled_until = now + 30000;
    s_abandon_if_alone(self, now);
}

static uint64_t
s_on_timer(void *ctx, uint64_t now)
{
    shoal_session_t *self = ctx;
    if (self->last_turn && now - self->last_turn > shoal_node_stall_ms(self->node) &&
        self->phase == S_FOLLOW)
        s_stalled(self, now - self->last_turn, now);
    self->last_turn = now;
    if (self->finished)
        return self->close_started ? s_close_tick(self, now) : UINT64_MAX;
    if (self->tell_gathering_at && now >= self->tell_gathering_at) {
        s_tell_gathering(self, now);
        self->tell_gathering_at = 0;
    }
    zframe_t *frame;
    while ((frame = zlist_pop(self->self_queue))) {
        s_dispatch(self, self->name, zframe_data(frame), zframe_size(frame), now);
        zframe_destroy(&frame);
    }
    s_gather_tick(self, now);
    s_leader_tick(self, now);
    s_refuse_tick(self, now);
    size_t fd_count = 0;
    self->reaping = false;
    if (self->phase != S_DONE)
        s_member_tick(self, now, self->fds, &fd_count);
    if (self->phase == S_DONE && zlist_size(self->self_queue) == 0 &&
        s_leader_released(self, now)) {
        self->finished = true;
        s_watch(self, NULL, 0);
        return UINT64_MAX; /* the session is over here; run() takes it on */
    }
    s_watch(self, self->fds, fd_count);
    return now + (zlist_size(self->self_queue) ? 0 : self->reaping ? 1 : 20);
}

shoal_session_t *
shoal_session_new(const shoal_run_config_t *config, shoal_node_t *node, shoal_adapter_t **adapter_p)
{
    shoal_session_t *self = calloc(1, sizeof(*self));
    if (!self)
        return NULL;
    self->config = *config;
    if (self->config.slots == 0)
        self->config.slots = 1;
    self->share = self->config.slots;
    self->node = node;
    self->adapter = *adapter_p;
    *adapter_p = NULL;
    snprintf(self->name, sizeof(self->name), "%s", shoal_node_name(node));
    snprintf(self->digest, sizeof(self->digest), "%s", shoal_adapter_digest(self->adapter));
    self->slots = calloc(self->config.slots, sizeof(s_slot_t));
    self->fds = calloc(1 + 2 * (size_t)self->config.slots, sizeof(int));
    self->watched = calloc(1 + 2 * (size_t)self->config.slots, sizeof(int));
    self->loop = shoal_node_loop(node);
    self->self_queue = zlist_new();
    self->buf = malloc(GOSSIP_PAYLOAD_MAX);
    self->host = (shoal_session_host_t){.send_frame = s_send_frame, .ctx = self, .buf = self->buf};
    sched_rng_seed(&self->rng, sched_rank_hash(config->session, self->name));
    shoal_hold_init(&self->hold); /* out of memory: hold.known is NULL, checked below */
    shoal_roster_init(&self->roster, config->session, self->digest);
    snprintf(self->workdir, sizeof(self->workdir), "/tmp/shoal-run-XXXXXX");
    if (!self->slots || !self->fds || !self->watched || !self->self_queue || !self->buf ||
        !self->hold.known || !mkdtemp(self->workdir)) {
        shoal_session_destroy(&self);
        return NULL;
    }
    /* The collection: the first worker's (it starts on the first turn), or
     * the adapter's own, at once. */
    if (shoal_adapter_has_worker(self->adapter)) {
        snprintf(self->plugin_dir, sizeof(self->plugin_dir), "%s/py", self->workdir);
        if (mkdir(self->plugin_dir, 0700) != 0 ||
            shoal_worker_install(self->plugin_dir, self->collect_err, sizeof(self->collect_err)) !=
                0) {
            self->collect_state = S_COLLECT_FAILED;
            shoal_log_info("cannot start workers: %s", self->collect_err);
        }
    } else if (shoal_adapter_collect(self->adapter, &self->local, self->collect_err,
                                     sizeof(self->collect_err)) != 0 ||
               shoal_collection_index(&self->local) != 0) {
        self->collect_state = S_COLLECT_FAILED;
    } else if (!s_collection_too_large(self)) {
        shoal_collection_digest(&self->local, self->collection_digest);
        self->collect_state = S_COLLECTED;
    }
    if (!self->config.no_history) {
        char err[512];
        shoal_history_t *db = shoal_history_open(
            self->config.history_db[0] ? self->config.history_db : NULL, err, sizeof(err));
        if (!db ||
            shoal_history_load(db, self->config.project, &self->history, &self->history_count) != 0)
            shoal_log_info("history unavailable (%s): ordering without it",
                           db ? "cannot read it" : err);
        shoal_history_close(&db);
    }
    self->started = s_now(self);
    shoal_election_init(&self->elect, config->expect,
                        self->started + (uint64_t)(config->wait * 1000.0));
    shoal_report_init(&self->report, 0, self->started);
    shoal_node_app_t app = {.on_member = s_on_member,
                            .on_user = s_on_user,
                            .accepts = s_accepts,
                            .on_status = s_on_status,
                            .ctx = self};
    self->timer = shoal_loop_add_timer(self->loop, self->started, s_on_timer, self);
    if (self->timer < 0 || shoal_node_attach(node, &app) != 0) {
        shoal_log_info("the node hosts too many sessions to take %s", config->session);
        shoal_session_destroy(&self);
        return NULL;
    }
    /* Who is still missing is told once the mesh has had a moment to
     * introduce those already there: a quick gathering says nothing. */
    self->tell_gathering_at = self->started + 1000;
    /* We are a participant too: the mesh reports self like any member. */
    gossip_member_t me[GOSSIP_MEMBERS_MAX];
    size_t count = gossip_mesh_members(shoal_node_mesh(node), me, GOSSIP_MEMBERS_MAX);
    for (size_t i = 0; i < count && i < GOSSIP_MEMBERS_MAX; i++)
        s_on_member(self, &me[i], me[i].state);
    return self;
}

void
shoal_session_destroy(shoal_session_t **self_p)
{
    shoal_session_t *self = *self_p;
    if (!self)
        return;
    if (self->node)
        shoal_node_detach(self->node, self);
    if (self->loop) {
        s_watch(self, NULL, 0);
        shoal_loop_remove_timer(self->loop, self->timer);
    }
    for (unsigned s = 0; self->slots && s < self->config.slots; s++) {
        s_slot_clear(&self->slots[s]);
        shoal_worker_destroy(&self->slots[s].worker);
        free(self->slots[s].held);
    }
    for (size_t i = 0; i < self->closing_count; i++)
        shoal_worker_destroy(&self->closing[i]);
    free(self->closing);
    shoal_collection_clear(&self->local);
    free(self->slots);
    free(self->fds);
    free(self->watched);
    shoal_hold_clear(&self->hold);
    shoal_items_free(&self->loads, &self->load_count, &self->load_cap);
    shoal_results_clear(&self->results);
    shoal_replicas_clear(&self->replicas);
    shoal_items_free(&self->theirs, &self->theirs_count, &self->theirs_cap);
    shoal_summary_in_clear(&self->summary);
    free(self->summary_out);
    shoal_leader_destroy(&self->lead);
    shoal_history_entries_free(&self->history, self->history_count);
    zframe_t *frame;
    while (self->self_queue && (frame = zlist_pop(self->self_queue)))
        zframe_destroy(&frame);
    zlist_destroy(&self->self_queue);
    shoal_adapter_destroy(&self->adapter);
    if (self->workdir[0])
        shoal_remove_tree(self->workdir);
    free(self->buf);
    free(self);
    *self_p = NULL;
}

/* ---------------------------------------------------------------- the end */

bool
shoal_session_over(const shoal_session_t *self)
{
    return self->finished;
}

void
shoal_session_outcome(const shoal_session_t *self, shoal_session_outcome_t *out)
{
    /* Abandoned after a stall: like a refusal, no report at all (an empty
     * one would read as a clean suite). */
    out->refused = self->refused || self->abandoned;
    out->status = self->refused ? SHOAL_RUN_INCOMPLETE : self->status;
    out->items = self->summary.items;
    out->count = self->summary.count;
    snprintf(out->text, sizeof(out->text), "%s", self->status_text);
    size_t len = strlen(out->text);
    if (self->other_runner[0] && out->status <= SHOAL_RUN_FAILED && self->config.expect > 0 &&
        self->roster.count < (size_t)self->config.expect) {
        /* Short of the participants expected, and one of them runs another
         * command or test list: each job ran its own alone, and neither
         * report is the session's. (An outsider to a full session is only
         * ignored.) */
        out->status = SHOAL_RUN_INCOMPLETE;
        snprintf(out->text + len, sizeof(out->text) - len,
                 "%s%s took part in session %s with another command or test list: each ran "
                 "its own tests alone, so this report is not the whole session's",
                 len ? "\n" : "", self->other_runner, self->config.session);
        len = strlen(out->text);
    }
    if (self->config.expect > 0 && self->roster.count < (size_t)self->config.expect)
        snprintf(out->text + len, sizeof(out->text) - len,
                 "%sthe session ran with fewer participants than expected (%zu of %d)",
                 len ? "\n" : "", self->roster.count, self->config.expect);
}

void
shoal_session_close(shoal_session_t *self)
{
    if (self->close_started)
        return;
    self->close_started = true;
    /* The session's outcomes, so pytest's cache (--lf) records them all. */
    const char **failed = calloc(self->summary.count + 1, sizeof(char *));
    const char **passed = calloc(self->summary.count + 1, sizeof(char *));
    size_t nfailed = 0, npassed = 0;
    for (size_t i = 0; failed && passed && i < self->summary.count; i++) {
        shoal_outcome_t o = (shoal_outcome_t)self->summary.items[i].outcome;
        if (shoal_outcome_failed(o))
            failed[nfailed++] = self->summary.items[i].id;
        else if (o != SHOAL_OUTCOME_NOT_RUN)
            passed[npassed++] = self->summary.items[i].id;
    }
    for (unsigned s = 0; s < self->config.slots; s++) {
        shoal_worker_t *worker = self->slots[s].worker;
        if (!worker)
            continue;
        if (failed && passed) {
            (void)shoal_worker_tell_final(worker, true, failed, nfailed);
            (void)shoal_worker_tell_final(worker, false, passed, npassed);
        }
        s_worker_retire(self, &self->slots[s].worker);
    }
    free(failed);
    free(passed);
    shoal_loop_set_timer(self->loop, self->timer, s_now(self)); /* s_close_tick */
}

bool
shoal_session_closed(const shoal_session_t *self)
{
    return self->close_started && self->closing_count == 0;
}

shoal_report_t *
shoal_session_report(shoal_session_t *self)
{
    return &self->report;
}

void
shoal_session_set_slots(shoal_session_t *self, unsigned slots)
{
    self->share = slots < 1 ? 1 : slots > self->config.slots ? self->config.slots : slots;
    self->want_now = true;
    shoal_loop_set_timer(self->loop, self->timer, s_now(self));
}

/* Runs to the end; prints and writes what every participant does; lets every
 * worker finish its framework's session (session fixtures, sessionfinish
 * hooks, caches) as it would alone. */
int
shoal_session_run(shoal_session_t *self, volatile sig_atomic_t *stop)
{
    shoal_log_info("session %s: %s runner, %u slots", self->config.session,
                   shoal_adapter_name(self->adapter), self->share);
    while (!*stop && !self->finished)
        shoal_loop_turn(self->loop, UINT64_MAX);
    if (*stop) {
        shoal_log_info("interrupted: the session did not complete here");
        return SHOAL_RUN_INCOMPLETE;
    }
    shoal_session_outcome_t outcome;
    shoal_session_outcome(self, &outcome);
    int status = outcome.refused
                     ? outcome.status
                     : shoal_conclude(&self->config, &self->report, outcome.items, outcome.count,
                                      outcome.status, outcome.text, s_now(self));
    shoal_session_close(self);
    while (!*stop && !shoal_session_closed(self))
        shoal_loop_turn(self->loop, UINT64_MAX);
    return status;
}
