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
 */
#include "node/session.h"
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
#define S_CLAIM_GRACE_MS 1000   /* a would-be first leader waits this for an incumbent */
#define S_DONE_WAIT_MS 10000    /* leader waits this long for everyone's DONE */
/* A batch's work is at least this many of its framework's invocation costs:
 * at most a fifth of a slot's time goes to starting the framework. */
#define S_FLOOR_INVOCATIONS 4.0
#define S_OUTPUT_CAP (64 * 1024)
#define S_PARTICIPANTS_MAX 1024
#define S_CLOSE_MS 30000         /* a closing worker may finish its session this long */
#define S_REFUSE_WAIT_MS 2000    /* a refused member waits this long for the leader's ids */
#define S_REFUSE_IDS_MAX 1000000 /* ...and keeps at most this many */

/* What this runner collected (the tests it may run, I3, and the leader's plan). */
typedef enum { S_COLLECTING, S_COLLECTED, S_COLLECT_FAILED } s_collect_t;

typedef enum { S_GATHER, S_FOLLOW, S_DONE } s_phase_t;

typedef struct {
    char name[GOSSIP_NAME_MAX + 1];
    unsigned slots;
    char tags[GOSSIP_TAGS_MAX * (GOSSIP_TAG_MAX + 1)];
    bool alive;
    bool done;         /* sent DONE for the current summary */
    bool unled;        /* answered our QUERY: it follows no leader yet */
    bool refused;      /* leader: its collection differs from ours */
    unsigned finished; /* tests it finished, as progress reports tell */
} s_participant_t;

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
} s_slot_t;

typedef struct {
    shoal_item_t item; /* owned */
    bool acked;
} s_result_t;

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
    uint64_t started, gather_until;
    uint64_t run_started; /* when we first followed a leader: the budget's origin */
    s_participant_t participants[S_PARTICIPANTS_MAX];
    size_t participant_count;
    /* leadership */
    char leader[GOSSIP_NAME_MAX + 1]; /* "" until known */
    uint32_t term;
    shoal_leader_t *lead; /* set while we lead */
    /* The leader's own results would die with it: it copies them to its
     * deputy, the participant that would take over, which feeds them to the
     * term it starts. */
    char deputy[GOSSIP_NAME_MAX + 1];     /* leader: who holds our copies... */
    size_t replicated;                    /* ...of results[0..replicated) */
    char replica_of[GOSSIP_NAME_MAX + 1]; /* deputy: whose copies we hold */
    shoal_item_t *replicas;
    size_t replica_count, replica_cap;
    uint64_t claim_at; /* when we may claim the first term */
    uint64_t next_heartbeat, next_progress, summary_sent_at, summary_started;
    bool summary_ready; /* leader: finished and summary built */
    shoal_item_t *summary_out;
    size_t summary_out_count;
    int status;
    char status_text[SHOAL_MESSAGE_MAX + 1];
    /* member role */
    s_slot_t *slots;     /* config.slots of them... */
    unsigned share;      /* ...of which the first `share` take batches (host: set_slots) */
    shoal_item_t *queue; /* dealt, not started; item.id owned */
    size_t queue_count, queue_cap;
    s_result_t *results;
    size_t result_count, result_cap;
    size_t unacked; /* results[0..unacked) are all acknowledged */
    bool fresh;     /* next WANT is the first to this term's leader */
    uint64_t last_want, next_resend;
    bool want_now;
    /* the summary as received */
    shoal_item_t *summary;
    size_t summary_count, summary_cap;
    bool *chunk_seen;
    uint32_t chunks, chunks_seen, summary_term;
    /* local delivery */
    zlist_t *self_queue; /* zframe_t * */
    shoal_report_t report;
    uint32_t counts[SHOAL_COUNT_KINDS]; /* as of the last progress report */
    bool reaping;                       /* a runner closed its output but has not exited yet */
    bool refused;                       /* the leader did not admit us */
    uint64_t refused_at;                /* when its first REFUSE came, 0: none */
    shoal_item_t *theirs;               /* the leader's ids, from its REFUSE */
    size_t theirs_count, theirs_cap, theirs_total;
    bool dry;             /* the leader's last WORK was empty */
    bool all_ready;       /* the first workers have all collected */
    bool window_closed;   /* the join window closed (--expect met or --wait over) */
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

static s_participant_t *
s_participant(shoal_session_t *self, const char *name)
{
    for (size_t i = 0; i < self->participant_count; i++)
        if (strcmp(self->participants[i].name, name) == 0)
            return &self->participants[i];
    return NULL;
}

/* The best-ranked alive participant (rendezvous hash of session and name),
 * `except` (may be NULL) left out. */
static const char *
s_ranked_first(shoal_session_t *self, const char *except)
{
    const char *names[S_PARTICIPANTS_MAX];
    bool alive[S_PARTICIPANTS_MAX];
    for (size_t i = 0; i < self->participant_count; i++) {
        names[i] = self->participants[i].name;
        alive[i] = self->participants[i].alive && !(except && strcmp(names[i], except) == 0);
    }
    size_t top;
    if (sched_rank_leader(self->config.session, names, alive, self->participant_count, &top) != 0)
        return NULL;
    return self->participants[top].name;
}

static const char *
s_top_ranked(shoal_session_t *self)
{
    return s_ranked_first(self, NULL);
}

/* Is (term, leader) newer than what we follow? Same term: the better rank wins. */
static bool
s_newer(shoal_session_t *self, uint32_t term, const char *leader)
{
    if (term != self->term)
        return term > self->term;
    if (!self->leader[0])
        return true;
    if (strcmp(leader, self->leader) == 0)
        return false;
    return sched_rank_hash(self->config.session, leader) >
           sched_rank_hash(self->config.session, self->leader);
}

static void
s_items_free(shoal_item_t **items, size_t *count, size_t *cap)
{
    for (size_t i = 0; i < *count; i++)
        shoal_item_clear(&(*items)[i]);
    free(*items);
    *items = NULL;
    *count = *cap = 0;
}

/* Moves msg's items to the end of (*items)[0..*count), growing *cap; msg
 * keeps none of them. False out of memory (nothing moved). */
static bool
s_take_items(shoal_item_t **items, size_t *count, size_t *cap, shoal_msg_t *msg)
{
    if (msg->item_count == 0)
        return true;
    if (*count + msg->item_count > *cap) {
        size_t want = (*count + msg->item_count) * 2;
        shoal_item_t *grown = realloc(*items, want * sizeof(shoal_item_t));
        if (!grown)
            return false;
        *items = grown;
        *cap = want;
    }
    memcpy(*items + *count, msg->items, msg->item_count * sizeof(shoal_item_t));
    *count += msg->item_count;
    msg->item_count = 0; /* moved: clearing msg frees only its array */
    return true;
}

/* ---------------------------------------------------------------- sending */

static void
s_send_frame(shoal_session_t *self, const char *to, const uint8_t *buf, size_t len)
{
    if (strcmp(to, self->name) == 0)
        zlist_append(self->self_queue, zframe_new(buf, len));
    else
        gossip_mesh_send_user(shoal_node_mesh(self->node), to, buf, len);
}

typedef struct {
    shoal_session_t *self;
    const char *to;
} s_addressee_t;

static void
s_send_encoded(void *arg, const uint8_t *frame, size_t len)
{
    const s_addressee_t *a = arg;
    s_send_frame(a->self, a->to, frame, len);
}

/* Sends msg (its items split over as many frames as needed). */
static void
s_send(shoal_session_t *self, const char *to, shoal_msg_t *msg)
{
    snprintf(msg->session, sizeof(msg->session), "%s", self->config.session);
    s_addressee_t addressee = {self, to};
    shoal_msg_encode_all(msg, self->buf, GOSSIP_PAYLOAD_MAX, s_send_encoded, &addressee);
}

static void
s_send_all(shoal_session_t *self, shoal_msg_t *msg)
{
    for (size_t i = 0; i < self->participant_count; i++)
        if (self->participants[i].alive)
            s_send(self, self->participants[i].name, msg);
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

static size_t
s_queued_batches(const shoal_session_t *self)
{
    size_t batches = 0;
    for (size_t i = 0; i < self->queue_count; i++)
        batches += i == 0 || self->queue[i].batch != self->queue[i - 1].batch;
    return batches;
}

static void
s_add_result(shoal_session_t *self, shoal_item_t *item)
{
    if (self->result_count == self->result_cap) {
        self->result_cap = self->result_cap ? self->result_cap * 2 : 64;
        self->results = realloc(self->results, self->result_cap * sizeof(s_result_t));
    }
    self->results[self->result_count].item = *item;
    self->results[self->result_count].acked = false;
    self->result_count++;
    memset(item, 0, sizeof(*item));
}

static void
s_send_items(shoal_session_t *self, const char *to, shoal_item_t *items, size_t n)
{
    if (n == 0)
        return;
    shoal_msg_t msg = {
        .type = SHOAL_MSG_RESULTS, .term = self->term, .items = items, .item_count = n};
    s_send(self, to, &msg);
}

/* Sends every result the leader has not acknowledged; while we lead, also
 * copies the new ones to the deputy (all of them to a new deputy). Copies
 * are best effort: one that is lost only means the test runs again after a
 * failover. */
static void
s_send_results(shoal_session_t *self)
{
    if (!self->leader[0])
        return;
    const char *deputy = self->lead ? s_ranked_first(self, self->name) : NULL;
    if (deputy && strcmp(deputy, self->deputy) != 0) {
        snprintf(self->deputy, sizeof(self->deputy), "%s", deputy);
        self->replicated = 0;
    }
    shoal_item_t *items = calloc(self->result_count ? self->result_count : 1, sizeof(*items));
    if (!items)
        return;
    size_t n = 0;
    for (size_t i = self->unacked; i < self->result_count; i++)
        if (!self->results[i].acked)
            items[n++] = self->results[i].item; /* shallow: encode only reads */
    s_send_items(self, self->leader, items, n);
    if (deputy) {
        n = 0;
        for (size_t i = self->replicated; i < self->result_count; i++)
            items[n++] = self->results[i].item;
        s_send_items(self, deputy, items, n);
        self->replicated = self->result_count;
    }
    free(items);
}

static void
s_send_want(shoal_session_t *self, uint64_t now)
{
    if (!self->leader[0])
        return;
    size_t busy = s_busy_slots(self);
    size_t queued = s_queued_batches(self);
    size_t wanted = (size_t)self->share + SHOAL_PREFETCH;
    size_t free_slots = wanted > busy + queued ? wanted - busy - queued : 0;
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
                       .term = self->term,
                       .free_slots = (uint32_t)free_slots,
                       .fresh = self->fresh,
                       .text = self->collection_digest,
                       .items = running,
                       .item_count = n};
    s_send(self, self->leader, &msg);
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
    for (size_t i = 0; i < self->participant_count; i++)
        if (self->participants[i].alive && !self->participants[i].refused)
            slots += self->participants[i].slots;
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

/* Starts the slot's next batch: the test its worker held back, then (if
 * take_queue) the head of the queue. */
static void
s_start_batch(shoal_session_t *self, unsigned slot_index, bool take_queue, uint64_t now)
{
    s_slot_t *slot = &self->slots[slot_index];
    size_t max = shoal_adapter_batch_max(self->adapter);
    size_t n = take_queue && self->queue_count ? 1 : 0; /* none: only flush the test held back */
    while (n < self->queue_count && n < max && self->queue[n].batch == self->queue[0].batch)
        n++;
    slot->ids = calloc(n + 1, sizeof(char *));
    slot->attempts = calloc(n + 1, sizeof(uint32_t));
    if (slot->held) {
        /* What the worker kept back runs first (I3: checked when it came). */
        slot->ids[slot->count] = slot->held;
        slot->attempts[slot->count++] = slot->held_attempt;
        slot->held = NULL;
    }
    bool over_budget = self->config.time_limit > 0 &&
                       now >= self->run_started + (uint64_t)(self->config.time_limit * 1000.0);
    for (size_t i = 0; i < n; i++) {
        shoal_item_t *item = &self->queue[i];
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
            shoal_log_info("rejected test id from %s: '%.80s'", self->leader, item->id);
            s_result_now(self, item->id, item->attempt, SHOAL_OUTCOME_ERROR,
                         "rejected: not a valid test id of this runner's collection");
            free(item->id);
            continue;
        }
        slot->ids[slot->count] = item->id;
        slot->attempts[slot->count++] = item->attempt;
    }
    memmove(self->queue, self->queue + n, (self->queue_count - n) * sizeof(shoal_item_t));
    self->queue_count -= n;
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
        /* A held test is flushed once the leader has nothing more for us,
         * or at once on a slot beyond our share, which takes no more work
         * and lets its worker go when idle. */
        bool shared = s < self->share;
        bool flush = slot->held && ((self->dry && self->queue_count == 0) || !shared);
        if (!slot->running && ((self->queue_count && shared) || flush) &&
            self->collect_state == S_COLLECTED && s_workers_ready(self))
            s_start_batch(self, s, shared, now);
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
    if (!self->leader[0] || self->collect_state == S_COLLECTING)
        return; /* nothing to report yet, nor a collection to show */
    /* Results go first: a new leader that has our WANT has our results too. */
    if ((self->results_due && now >= self->results_due) || now >= self->next_resend) {
        s_send_results(self);
        self->results_due = 0;
        self->next_resend = now + S_HEARTBEAT_MS;
    }
    /* Ask at once when a batch ended (the reply is one round trip away and
     * the prefetched batch covers it); otherwise ask now and then while
     * short of work, and say what we run at least once a heartbeat. */
    bool short_of_work =
        s_busy_slots(self) + s_queued_batches(self) < (size_t)self->share + SHOAL_PREFETCH;
    if ((self->want_now && short_of_work) ||
        (short_of_work && now - self->last_want >= S_WANT_GAP_MS) ||
        now - self->last_want >= S_HEARTBEAT_MS)
        s_send_want(self, now);
}

/* ---------------------------------------------------------------- leadership */

static void
s_leader_heartbeat(shoal_session_t *self, const char *to)
{
    shoal_msg_t msg = {.type = SHOAL_MSG_LEADER,
                       .term = self->term,
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
    self->term = term;
    snprintf(self->leader, sizeof(self->leader), "%s", leader);
    if (!self->run_started)
        self->run_started = s_now(self);
    for (size_t i = 0; i < self->queue_count; i++)
        free(self->queue[i].id);
    self->queue_count = 0;
    for (size_t i = 0; i < self->result_count; i++)
        self->results[i].acked = false;
    self->unacked = 0;
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
        .batch_seconds = self->config.batch_seconds,
        .batch_max = shoal_adapter_batch_max(self->adapter),
        .batch_floor = S_FLOOR_INVOCATIONS * shoal_adapter_invocation_seconds(self->adapter),
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
    for (size_t i = 0; i < self->participant_count; i++) {
        s_participant_t *p = &self->participants[i];
        shoal_leader_member(self->lead, p->name, p->slots, p->tags, p->alive && !p->refused,
                            s_seconds(now));
    }
    if (rebuild && self->replica_count) {
        size_t kept = shoal_leader_results(self->lead, self->replica_of, self->replicas,
                                           self->replica_count, s_seconds(now));
        shoal_log_info("kept %zu results of %s from the copies we hold", kept, self->replica_of);
    }
    s_items_free(&self->replicas, &self->replica_count, &self->replica_cap);
    self->deputy[0] = '\0'; /* this term copies its results afresh */
    shoal_log_info("planning %zu tests for %zu participants", total, self->participant_count);
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
    const char *top = s_top_ranked(self);
    if (top && strcmp(top, self->name) == 0)
        s_lead(self, self->term + 1, now);
    else {
        shoal_log_info("leader %s is gone; %s should take over", self->leader, top ? top : "?");
        self->leader[0] = '\0'; /* wait for its LEADER message */
    }
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
    for (size_t i = 0; i < self->participant_count; i++) {
        /* The session says whom it left out, and why. */
        size_t len = strlen(self->status_text);
        if (self->participants[i].refused)
            snprintf(self->status_text + len, sizeof(self->status_text) - len,
                     "%snot admitted: %s (its collection differs from the leader's)",
                     len ? "; " : "", self->participants[i].name);
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
    for (size_t i = 0; i < self->participant_count; i++)
        self->participants[i].done = false;
}

static void
s_send_summary(shoal_session_t *self, const char *to)
{
    /* Chunks are numbered, so split first: each chunk is one frame. */
    size_t first = 0, chunk_starts[4096], chunks = 0;
    shoal_msg_t msg = {.type = SHOAL_MSG_SUMMARY,
                       .term = self->term,
                       .status = self->status,
                       .text = self->status_text,
                       .items = self->summary_out,
                       .item_count = self->summary_out_count};
    snprintf(msg.session, sizeof(msg.session), "%s", self->config.session);
    do {
        size_t taken = 0;
        msg.chunk = 0;
        msg.chunks = 1;
        if (shoal_msg_encode(&msg, first, self->buf, GOSSIP_PAYLOAD_MAX, &taken) < 0 ||
            chunks == 4096)
            return;
        chunk_starts[chunks++] = first;
        first += taken;
        if (taken == 0)
            break;
    } while (first < msg.item_count);
    for (size_t c = 0; c < chunks; c++) {
        size_t taken = 0;
        msg.chunk = (uint32_t)c;
        msg.chunks = (uint32_t)chunks;
        long len = shoal_msg_encode(&msg, chunk_starts[c], self->buf, GOSSIP_PAYLOAD_MAX, &taken);
        if (len > 0)
            s_send_frame(self, to, self->buf, (size_t)len);
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
            .type = SHOAL_MSG_PROGRESS, .term = self->term, .items = items, .item_count = n};
        shoal_leader_counts(self->lead, msg.counts);
        s_send_all(self, &msg);
    } while (n == 512);
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
        if ((now >= self->next_progress && shoal_leader_progress_pending(self->lead)) ||
            now >= self->next_progress + S_PROGRESS_IDLE_MS - S_PROGRESS_MS || finished) {
            self->next_progress = now + S_PROGRESS_MS;
            s_send_progress(self);
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
        for (size_t i = 0; i < self->participant_count; i++)
            if (self->participants[i].alive && !self->participants[i].done)
                s_send_summary(self, self->participants[i].name);
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
    for (size_t i = 0; i < self->participant_count; i++)
        if (self->participants[i].alive && !self->participants[i].done)
            return false;
    return true;
}

/* ---------------------------------------------------------------- handlers */

static void
s_on_leader(shoal_session_t *self, const char *from, const shoal_msg_t *msg, uint64_t now)
{
    if (!s_newer(self, msg->term, from)) {
        /* An older or worse-ranked claim: if we lead, tell the claimant. */
        if (self->lead && strcmp(from, self->name) != 0 && msg->term <= self->term)
            s_leader_heartbeat(self, from);
        return;
    }
    if (strcmp(from, self->name) != 0)
        s_adopt(self, msg->term, from);
    (void)now;
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
    if (self->theirs_count < self->theirs_total && self->theirs_count < S_REFUSE_IDS_MAX)
        s_take_items(&self->theirs, &self->theirs_count, &self->theirs_cap, msg);
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
    s_participant_t *p = s_participant(self, from);
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
                          .term = self->term,
                          .tests_total = (uint32_t)self->local.count,
                          .text = text,
                          .items = ids,
                          .item_count = ids ? self->local.count : 0};
    s_send(self, from, &refuse);
    free(ids);
    return false;
}

static void
s_on_want(shoal_session_t *self, const char *from, const shoal_msg_t *msg, uint64_t now)
{
    if (!self->lead || self->summary_ready || !s_admitted(self, from, msg, now))
        return;
    shoal_item_t *work = NULL;
    size_t n = shoal_leader_want(self->lead, from, msg->free_slots, msg->items, msg->item_count,
                                 msg->fresh, s_seconds(now), &work);
    if (n || msg->free_slots > SHOAL_PREFETCH) {
        /* Even empty: a member with idle slots then flushes what it holds. */
        shoal_msg_t reply = {
            .type = SHOAL_MSG_WORK, .term = self->term, .items = work, .item_count = n};
        s_send(self, from, &reply);
    }
    free(work);
}

static void
s_on_work(shoal_session_t *self, shoal_msg_t *msg)
{
    /* An empty WORK: the leader had nothing for our free slots. */
    self->dry = msg->item_count == 0;
    /* WORK items carry only batch, id and attempt: the queue owns the ids. */
    s_take_items(&self->queue, &self->queue_count, &self->queue_cap, msg);
}

/* As the deputy: keeps the leader's own results. */
static void
s_keep_replicas(shoal_session_t *self, const char *from, shoal_msg_t *msg)
{
    if (strcmp(from, self->leader) != 0)
        return;
    if (strcmp(from, self->replica_of) != 0) {
        s_items_free(&self->replicas, &self->replica_count, &self->replica_cap);
        snprintf(self->replica_of, sizeof(self->replica_of), "%s", from);
    }
    s_take_items(&self->replicas, &self->replica_count, &self->replica_cap, msg);
}

static void
s_on_results(shoal_session_t *self, const char *from, shoal_msg_t *msg, uint64_t now)
{
    if (!self->lead) {
        s_keep_replicas(self, from, msg);
        return;
    }
    if (!self->summary_ready)
        shoal_leader_results(self->lead, from, msg->items, msg->item_count, s_seconds(now));
    /* Acknowledge everything: what was not recorded was a duplicate. */
    shoal_msg_t ack = {.type = SHOAL_MSG_ACK,
                       .term = self->term,
                       .items = msg->items,
                       .item_count = msg->item_count};
    s_send(self, from, &ack);
}

static void
s_on_ack(shoal_session_t *self, const shoal_msg_t *msg)
{
    /* Results are acknowledged about in the order they were sent: start at
     * the first one not acknowledged yet, so a long session is not
     * quadratic. */
    for (size_t i = 0; i < msg->item_count; i++)
        for (size_t r = self->unacked; r < self->result_count; r++)
            if (!self->results[r].acked && self->results[r].item.attempt == msg->items[i].attempt &&
                strcmp(self->results[r].item.id, msg->items[i].id) == 0) {
                self->results[r].acked = true;
                break;
            }
    while (self->unacked < self->result_count && self->results[self->unacked].acked)
        self->unacked++;
}

static void
s_on_progress(shoal_session_t *self, const shoal_msg_t *msg, uint64_t now)
{
    if (self->phase == S_DONE)
        return;
    memcpy(self->counts, msg->counts, sizeof(self->counts));
    for (size_t i = 0; i < msg->item_count; i++) {
        s_participant_t *p = msg->items[i].node ? s_participant(self, msg->items[i].node) : NULL;
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
    if (msg->term != self->summary_term || !self->chunk_seen || msg->chunks != self->chunks) {
        /* a summary of another term replaces whatever we had */
        for (size_t i = 0; i < self->summary_count; i++)
            shoal_item_clear(&self->summary[i]);
        self->summary_count = 0;
        free(self->chunk_seen);
        self->chunk_seen = calloc(msg->chunks, sizeof(bool));
        self->chunks = msg->chunks;
        self->chunks_seen = 0;
        self->summary_term = msg->term;
    }
    if (!self->chunk_seen || self->chunk_seen[msg->chunk])
        return;
    self->chunk_seen[msg->chunk] = true;
    self->chunks_seen++;
    s_take_items(&self->summary, &self->summary_count, &self->summary_cap, msg);
    self->status = msg->status;
    snprintf(self->status_text, sizeof(self->status_text), "%s", msg->text ? msg->text : "");
    if (self->chunks_seen == self->chunks) {
        shoal_msg_t done = {.type = SHOAL_MSG_DONE, .term = msg->term};
        s_send(self, from, &done);
        self->phase = S_DONE;
    }
}

static void
s_on_done(shoal_session_t *self, const char *from, const shoal_msg_t *msg)
{
    s_participant_t *p = s_participant(self, from);
    if (p && self->lead && msg->term == self->term)
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
    /* Fencing: another session's traffic, or an older term's, changes nothing. */
    bool ours = strcmp(msg.session, self->config.session) == 0 && s_participant(self, from);
    bool current = msg.term >= self->term || msg.type == SHOAL_MSG_DONE;
    if (!ours || (!current && msg.type != SHOAL_MSG_LEADER)) {
        shoal_msg_clear(&msg);
        return;
    }
    switch (msg.type) {
        case SHOAL_MSG_LEADER:
            s_on_leader(self, from, &msg, now);
            break;
        case SHOAL_MSG_WANT:
            s_on_want(self, from, &msg, now);
            break;
        case SHOAL_MSG_WORK:
            if (strcmp(from, self->leader) == 0 && msg.term == self->term)
                s_on_work(self, &msg);
            break;
        case SHOAL_MSG_RESULTS:
            s_on_results(self, from, &msg, now);
            break;
        case SHOAL_MSG_ACK:
            if (strcmp(from, self->leader) == 0)
                s_on_ack(self, &msg);
            break;
        case SHOAL_MSG_PROGRESS:
            if (strcmp(from, self->leader) == 0)
                s_on_progress(self, &msg, now);
            break;
        case SHOAL_MSG_SUMMARY:
            if (strcmp(from, self->leader) == 0 || self->leader[0] == '\0')
                s_on_summary(self, from, &msg);
            break;
        case SHOAL_MSG_DONE:
            s_on_done(self, from, &msg);
            break;
        case SHOAL_MSG_QUERY:
            /* Fencing let it through only if we follow no one either. */
            if (strcmp(from, self->name) != 0) {
                shoal_msg_t answer = {.type = SHOAL_MSG_NOLEADER};
                s_send(self, from, &answer);
            }
            break;
        case SHOAL_MSG_NOLEADER:
            if (self->phase == S_GATHER && !self->leader[0])
                s_participant(self, from)->unled = true;
            break;
        case SHOAL_MSG_REFUSE:
            if (strcmp(from, self->leader) == 0 && self->phase != S_DONE)
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
    shoal_session_tag_t mine = {0};
    bool in_session = false;
    char tags[sizeof(((s_participant_t *)0)->tags)] = "";
    for (int t = 0; t < m->meta.tag_count; t++) {
        shoal_session_tag_t tag;
        if (shoal_session_tag_parse(m->meta.tags[t], &tag) != 0) {
            if (tags[0])
                strcat(tags, ",");
            strcat(tags, m->meta.tags[t]);
        } else if (strcmp(tag.session, self->config.session) == 0) {
            in_session = true;
            mine = tag;
        }
    }
    bool takes_part = in_session && shoal_session_tag_runner_is(&mine, self->digest);
    s_participant_t *p = s_participant(self, m->name);
    if (!p && !takes_part) {
        if (in_session && m->state == GOSSIP_STATE_ALIVE)
            shoal_log_info("%s is in session %s with a different runner or test list: "
                           "ignoring it",
                           m->name, self->config.session);
        return;
    }
    if (!p) {
        if (self->participant_count == S_PARTICIPANTS_MAX)
            return;
        p = &self->participants[self->participant_count++];
        snprintf(p->name, sizeof(p->name), "%s", m->name);
    }
    if (takes_part) {
        p->slots = mine.slots;
        snprintf(p->tags, sizeof(p->tags), "%s", tags);
    }
    bool was_alive = p->alive;
    p->alive = takes_part && (m->state == GOSSIP_STATE_ALIVE || m->state == GOSSIP_STATE_SUSPECT);
    uint64_t now = s_now(self);
    if (self->lead) {
        shoal_leader_member(self->lead, p->name, p->slots, p->tags, p->alive && !p->refused,
                            s_seconds(now));
        if (p->alive && !was_alive)
            s_leader_heartbeat(self, p->name); /* a newcomer learns who leads at once */
    }
    if (!p->alive && was_alive && strcmp(p->name, self->leader) == 0 && self->phase != S_DONE)
        s_elect(self, now);
    shoal_loop_set_timer(self->loop, self->timer, now);
}

/* `shoal status`: this session as seen from here. */
static void
s_on_status(void *ctx, FILE *out, bool json)
{
    shoal_session_t *self = ctx;
    static const char *phases[] = {"gathering", "running", "done"};
    const uint32_t *c = self->counts;
    unsigned running_here = 0;
    for (unsigned s = 0; s < self->config.slots; s++)
        running_here += self->slots[s].running ? (unsigned)self->slots[s].count : 0;
    if (json) {
        fprintf(out, "{\"session\":");
        shoal_json_string(out, self->config.session);
        fprintf(out, ",\"phase\":\"%s\",\"leader\":", phases[self->phase]);
        shoal_json_string(out, self->leader);
        fprintf(out,
                ",\"term\":%u,\"passed\":%u,\"failed\":%u,\"errors\":%u,\"skipped\":%u,"
                "\"running\":%u,\"pending\":%u,\"members\":[",
                self->term, c[SHOAL_COUNT_PASSED], c[SHOAL_COUNT_FAILED], c[SHOAL_COUNT_ERROR],
                c[SHOAL_COUNT_SKIPPED], c[SHOAL_COUNT_RUNNING], c[SHOAL_COUNT_PENDING]);
        for (size_t i = 0; i < self->participant_count; i++) {
            const s_participant_t *p = &self->participants[i];
            fprintf(out, "%s{\"name\":", i ? "," : "");
            shoal_json_string(out, p->name);
            fprintf(out, ",\"alive\":%s,\"slots\":%u,\"finished\":%u}", p->alive ? "true" : "false",
                    p->slots, p->finished);
        }
        fprintf(out, "]}");
        return;
    }
    fprintf(out, "session %s: %s, leader %s (term %u)\n", self->config.session, phases[self->phase],
            self->leader[0] ? self->leader : "(not yet)", self->term);
    fprintf(out, "  passed %u  failed %u  errors %u  skipped %u  running %u  pending %u\n",
            c[SHOAL_COUNT_PASSED], c[SHOAL_COUNT_FAILED], c[SHOAL_COUNT_ERROR],
            c[SHOAL_COUNT_SKIPPED], c[SHOAL_COUNT_RUNNING], c[SHOAL_COUNT_PENDING]);
    for (size_t i = 0; i < self->participant_count; i++) {
        const s_participant_t *p = &self->participants[i];
        fprintf(out, "  %-24s %-5s %3u slots %6u finished%s\n", p->name,
                p->alive ? "alive" : "gone", p->slots, p->finished,
                strcmp(p->name, self->name) == 0 ? " (here)" : "");
    }
    fprintf(out, "  running here: %u tests\n", running_here);
}

/* ---------------------------------------------------------------- life cycle */

static size_t
s_alive_participants(const shoal_session_t *self)
{
    size_t n = 0;
    for (size_t i = 0; i < self->participant_count; i++)
        n += self->participants[i].alive;
    return n;
}

/* Every other live participant said it follows no leader. */
static bool
s_all_unled(const shoal_session_t *self)
{
    for (size_t i = 0; i < self->participant_count; i++) {
        const s_participant_t *p = &self->participants[i];
        if (p->alive && !p->unled && strcmp(p->name, self->name) != 0)
            return false;
    }
    return true;
}

/* "a, b, c": the live participants' names (cut short with "..."). */
static void
s_alive_names(const shoal_session_t *self, char *out, size_t size)
{
    size_t len = 0;
    out[0] = '\0';
    for (size_t i = 0; i < self->participant_count && len < size; i++)
        if (self->participants[i].alive)
            len += (size_t)snprintf(out + len, size - len, "%s%s", len ? ", " : "",
                                    self->participants[i].name);
    if (len >= size && size > 4)
        snprintf(out + size - 4, 4, "...");
}

/* Says once, while the join window is open, whom --expect still waits for
 * and for how long, so a missing runner is not a silent hang. */
static void
s_tell_gathering(shoal_session_t *self, uint64_t now)
{
    size_t have = s_alive_participants(self);
    if (self->phase != S_GATHER || self->leader[0] || self->config.expect <= 0 ||
        have >= (size_t)self->config.expect || now >= self->gather_until)
        return;
    char names[512];
    s_alive_names(self, names, sizeof(names));
    size_t missing = (size_t)self->config.expect - have;
    shoal_log_info("waiting for %zu more participant%s (have: %s) for up to %llu s", missing,
                   missing == 1 ? "" : "s", names,
                   (unsigned long long)(self->gather_until - now + 999) / 1000);
}

/* The join window: closed at --expect participants or after --wait. The
 * best-ranked participant then leads, unless a leader already exists. */
static void
s_gather_tick(shoal_session_t *self, uint64_t now)
{
    if (self->phase != S_GATHER || self->leader[0])
        return;
    /* Once closed, the window stays closed: a participant that dies before
     * anyone leads (the would-be leader, killed as it claims) must not send
     * the others back to waiting for --expect. */
    bool enough =
        self->window_closed ||
        (self->config.expect > 0 && s_alive_participants(self) >= (size_t)self->config.expect);
    if (!enough && now < self->gather_until)
        return;
    self->window_closed = true;
    const char *top = s_top_ranked(self);
    if (!top || strcmp(top, self->name) != 0)
        return; /* the leader will announce itself */
    if (self->collect_state == S_COLLECTING)
        return; /* the plan needs our collection: the loop stays free meanwhile */
    if (!self->claim_at) {
        if (self->config.expect > 0 && !enough)
            shoal_log_info("join window closed with %zu of %d expected participants: "
                           "starting without the rest",
                           s_alive_participants(self), self->config.expect);
        /* Ask everyone whether a leader exists; the answers usually come back
         * long before the grace ends. */
        self->claim_at = now + (s_alive_participants(self) > 1 ? S_CLAIM_GRACE_MS / 4 : 0);
        for (size_t i = 0; i < self->participant_count; i++)
            self->participants[i].unled = false;
        shoal_msg_t query = {.type = SHOAL_MSG_QUERY};
        s_send_all(self, &query);
        return;
    }
    if (now >= self->claim_at || s_all_unled(self))
        s_lead(self, 1, now);
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

static uint64_t
s_on_timer(void *ctx, uint64_t now)
{
    shoal_session_t *self = ctx;
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
    snprintf(self->workdir, sizeof(self->workdir), "/tmp/shoal-run-XXXXXX");
    if (!self->slots || !self->fds || !self->watched || !self->self_queue || !self->buf ||
        !mkdtemp(self->workdir)) {
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
    } else {
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
    self->gather_until = self->started + (uint64_t)(config->wait * 1000.0);
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
    for (size_t i = 0; i < self->queue_count; i++)
        free(self->queue[i].id);
    free(self->queue);
    for (size_t i = 0; i < self->result_count; i++)
        shoal_item_clear(&self->results[i].item);
    free(self->results);
    for (size_t i = 0; i < self->summary_count; i++)
        shoal_item_clear(&self->summary[i]);
    free(self->summary);
    s_items_free(&self->replicas, &self->replica_count, &self->replica_cap);
    s_items_free(&self->theirs, &self->theirs_count, &self->theirs_cap);
    free(self->chunk_seen);
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
    out->refused = self->refused;
    out->status = self->refused ? SHOAL_RUN_INCOMPLETE : self->status;
    out->items = self->summary;
    out->count = self->summary_count;
    snprintf(out->text, sizeof(out->text), "%s", self->status_text);
    size_t len = strlen(out->text);
    if (self->config.expect > 0 && self->participant_count < (size_t)self->config.expect)
        snprintf(out->text + len, sizeof(out->text) - len,
                 "%sthe session ran with fewer participants than expected (%zu of %d)",
                 len ? "\n" : "", self->participant_count, self->config.expect);
}

void
shoal_session_close(shoal_session_t *self)
{
    if (self->close_started)
        return;
    self->close_started = true;
    /* The session's outcomes, so pytest's cache (--lf) records them all. */
    const char **failed = calloc(self->summary_count + 1, sizeof(char *));
    const char **passed = calloc(self->summary_count + 1, sizeof(char *));
    size_t nfailed = 0, npassed = 0;
    for (size_t i = 0; failed && passed && i < self->summary_count; i++) {
        shoal_outcome_t o = (shoal_outcome_t)self->summary[i].outcome;
        if (shoal_outcome_failed(o))
            failed[nfailed++] = self->summary[i].id;
        else if (o != SHOAL_OUTCOME_NOT_RUN)
            passed[npassed++] = self->summary[i].id;
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
