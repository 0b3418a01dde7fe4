/* A participant's session runtime (see session.h for the state diagram):
 * the glue between the mesh, the loop, the local processes and the roles.
 *
 * The roles decide, in node/session/ (see internal.h): who takes part
 * (roster), who leads (election), the member's side of the work (member:
 * batches, WANT / HELD, stealing) and the leader's (lead: the board, its
 * cadence, answers, the end), results, summary and status. This file
 * carries out what they return: it runs each slot's batches (for pytest,
 * one long-lived worker per slot, see worker.h; otherwise a process per
 * batch), parses their results, dispatches messages to the roles, and
 * prints and reports. Messages to ourselves go through a local queue, so
 * the leader's own member is served like any other, without recursion.
 */
#include "node/session.h"
#include "node/session/internal.h"
#include "node/conclude.h"
#include "node/exec.h"
#include "node/files.h"
#include "node/history.h"
#include "node/job.h"
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

#define S_RESULTS_MS 20 /* results of quick tests are sent together within this */
#define S_OUTPUT_CAP (64 * 1024)
#define S_CLOSE_MS 30000      /* a closing worker may finish its session this long */
#define S_REFUSE_WAIT_MS 2000 /* a refused member waits this long for the leader's ids */

/* What this runner collected (the tests it may run, I3, and the leader's plan). */
typedef enum { S_COLLECTING, S_COLLECTED, S_COLLECT_FAILED } s_collect_t;

/* What a session reads before it can lead, off the loop (job.h): a go or
 * cargo collection compiles, and the loop also carries the mesh's probes. */
typedef struct {
    shoal_adapter_t *adapter; /* the session's, to collect with; NULL: its workers collect */
    bool history;             /* read the project's history */
    char project[128];
    char history_db[PATH_MAX];
    shoal_collection_t local; /* what the adapter collected, indexed */
    int collect_rc;
    char collect_err[2048];
    shoal_history_entry_t *entries;
    size_t entry_count;
    char history_err[600]; /* "": read, or not asked for */
} s_prepare_t;

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
    double took;      /* seconds of its tests reported while it ran */
    uint64_t started; /* when it started (ms) */
} s_slot_t;

struct shoal_session {
    shoal_run_config_t config;
    shoal_session_coming_fn *coming; /* NULL: no participant is announced */
    void *coming_ctx;
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
    shoal_job_t *prepare_job;       /* collecting and reading history, beside the loop */
    s_prepare_t *prepare;           /* ...into this, ours again once the job is done */
    shoal_history_entry_t *history; /* the project's, from the job */
    size_t history_count;
    bool finished;      /* the session is over here: s_on_timer is done... */
    bool close_started; /* ...but for closing workers (shoal_session_close) */
    s_phase_t phase;
    uint64_t started;
    uint64_t run_started;      /* when we first followed a leader: the budget's origin */
    shoal_session_host_t host; /* what the roles send through */
    shoal_roster_t roster;
    shoal_election_t elect;
    shoal_lead_t lead;     /* the leader's side: its board is set while we lead */
    shoal_member_t member; /* our side of the work: what we hold, stealing */
    /* The leader's own results would die with it: it copies them to its
     * deputy, the participant that would take over, which feeds them to the
     * term it starts. */
    shoal_replicas_t replicas; /* as the deputy */
    int status;
    char status_text[SHOAL_MESSAGE_MAX + 1];
    /* member role */
    s_slot_t *slots;        /* config.slots of them; the first member.share take batches */
    uint64_t last_turn;     /* when s_on_timer last ran (ms) */
    uint64_t stalled_until; /* after a stall: until then, losing every peer ends it here */
    uint64_t stalled_ms;    /* ...and how long it was */
    bool abandoned;         /* ...and every peer went: no outcome here */
    char other_runner[GOSSIP_NAME_MAX + 1]; /* a member of this session with another runner */
    shoal_results_t results;                /* ours, until the session ends */
    uint64_t next_resend;                   /* when unacknowledged results are sent again */
    shoal_summary_in_t summary;             /* as received */
    /* local delivery */
    zlist_t *self_queue; /* zframe_t * */
    shoal_report_t report;
    uint32_t counts[SHOAL_COUNT_KINDS]; /* as of the last progress report */
    bool reaping;                       /* a runner closed its output but has not exited yet */
    bool refused;                       /* the leader did not admit us */
    uint64_t refused_at;                /* when its first REFUSE came, 0: none */
    shoal_item_t *theirs;               /* the leader's ids, from its REFUSE */
    size_t theirs_count, theirs_cap, theirs_total;
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

/* ---------------------------------------------------------------- member role */

static size_t
s_busy_slots(const shoal_session_t *self)
{
    size_t busy = 0;
    for (unsigned i = 0; i < self->config.slots; i++)
        busy += self->slots[i].running;
    return busy;
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

#define S_WANT_RUNNING_MAX 256 /* tests a WANT names as started, at most */

/* The tests our slots run (and keep back: started, as far as the leader
 * knows) into running[0..S_WANT_RUNNING_MAX), ids borrowed. Returns the count. */
static size_t
s_running(const shoal_session_t *self, shoal_item_t *running)
{
    size_t n = 0;
    for (unsigned s = 0; s < self->config.slots; s++) {
        const s_slot_t *slot = &self->slots[s];
        for (size_t i = 0; slot->running && i < slot->count && n < S_WANT_RUNNING_MAX; i++)
            running[n++] = (shoal_item_t){.id = slot->ids[i], .attempt = slot->attempts[i]};
        if (slot->held && n < S_WANT_RUNNING_MAX)
            running[n++] = (shoal_item_t){.id = slot->held, .attempt = slot->held_attempt};
    }
    return n;
}

/* Sends every result the leader has not acknowledged; while we lead, also
 * copies the new ones to the deputy. Copies are best effort: one that is
 * lost only means the test runs again after a failover. */
static void
s_send_results(shoal_session_t *self)
{
    if (!self->elect.leader[0])
        return;
    const char *deputy =
        self->lead.board ? shoal_roster_ranked_first(&self->roster, self->name) : NULL;
    shoal_results_send(&self->results, &self->host, self->config.session, self->elect.term,
                       self->elect.leader, deputy);
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
    slot->took = 0;
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

/* Two tests under one id: one of them would never get a result. */
static bool
s_collection_ambiguous(shoal_session_t *self)
{
    const char *twice = shoal_collection_duplicate(&self->local);
    if (!twice)
        return false;
    snprintf(self->collect_err, sizeof(self->collect_err),
             "the runner named two tests '%.200s': shoal cannot tell them apart", twice);
    self->collect_state = S_COLLECT_FAILED;
    shoal_log_info("cannot run the tests: %s", self->collect_err);
    return true;
}

/* The job's step: nothing here touches the session or the loop. */
static void
s_prepare_step(void *arg)
{
    s_prepare_t *p = arg;
    if (p->adapter) {
        p->collect_rc =
            shoal_adapter_collect(p->adapter, &p->local, p->collect_err, sizeof(p->collect_err));
        if (p->collect_rc == 0 && shoal_collection_index(&p->local) != 0) {
            snprintf(p->collect_err, sizeof(p->collect_err), "out of memory");
            p->collect_rc = -1;
        }
    }
    if (p->history) {
        char err[512];
        shoal_history_t *db =
            shoal_history_open(p->history_db[0] ? p->history_db : NULL, err, sizeof(err));
        if (!db || shoal_history_load(db, p->project, &p->entries, &p->entry_count) != 0)
            snprintf(p->history_err, sizeof(p->history_err), "%s", db ? "cannot read it" : err);
        shoal_history_close(&db);
    }
}

/* Frees what the step made (not the adapter: the session's). */
static void
s_prepare_free(s_prepare_t *p)
{
    if (!p)
        return;
    shoal_collection_clear(&p->local);
    shoal_history_entries_free(&p->entries, p->entry_count);
    free(p);
}

/* The session let go before the step ended: the adapter is the job's too. */
static void
s_prepare_discard(void *arg)
{
    s_prepare_t *p = arg;
    shoal_adapter_destroy(&p->adapter);
    s_prepare_free(p);
}

/* 0, or -1 (errno set) when the job cannot start. */
static int
s_prepare_start(shoal_session_t *self, bool collect)
{
    s_prepare_t *p = calloc(1, sizeof(*p));
    if (!p)
        return -1;
    p->adapter = collect ? self->adapter : NULL;
    p->history = !self->config.no_history;
    snprintf(p->project, sizeof(p->project), "%s", self->config.project);
    snprintf(p->history_db, sizeof(p->history_db), "%s", self->config.history_db);
    self->prepare_job = shoal_job_start(s_prepare_step, s_prepare_discard, p);
    if (!self->prepare_job) {
        free(p);
        return -1;
    }
    self->prepare = p;
    return 0;
}

/* Takes what the job read, once it is done. */
static void
s_prepare_tick(shoal_session_t *self)
{
    if (!self->prepare_job || !shoal_job_done(self->prepare_job))
        return;
    shoal_job_release(&self->prepare_job);
    s_prepare_t *p = self->prepare;
    self->prepare = NULL;
    if (p->adapter) {
        self->local = p->local;
        memset(&p->local, 0, sizeof(p->local));
        if (p->collect_rc != 0) {
            snprintf(self->collect_err, sizeof(self->collect_err), "%s", p->collect_err);
            self->collect_state = S_COLLECT_FAILED;
        } else if (!s_collection_too_large(self) && !s_collection_ambiguous(self)) {
            shoal_collection_digest(&self->local, self->collection_digest);
            self->collect_state = S_COLLECTED;
        }
    }
    if (p->history_err[0])
        shoal_log_info("history unavailable (%s): ordering without it", p->history_err);
    self->history = p->entries;
    self->history_count = p->entry_count;
    p->entries = NULL;
    s_prepare_free(p);
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
        if (s_collection_too_large(self) || s_collection_ambiguous(self))
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
    char **extra = worker ? shoal_adapter_worker_env(self->adapter, self->plugin_dir, slot_index,
                                                     self->member.share, self->config.session,
                                                     self->config.env)
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

/* ids[0..n) as the framework knows them (shoal_collection_framework_id):
 * a borrowed array of borrowed strings, NULL out of memory. */
static const char **
s_framework_ids(const shoal_session_t *self, const char *const *ids, size_t n)
{
    const char **out = calloc(n + 1, sizeof(*out));
    for (size_t i = 0; out && i < n; i++)
        out[i] = shoal_collection_framework_id_of(&self->local, ids[i]);
    return out;
}

/* Starts the slot's pytest worker; it collects while the session goes on. */
static void
s_worker_start(shoal_session_t *self, unsigned slot_index, uint64_t now, char *err, size_t err_size)
{
    s_slot_t *slot = &self->slots[slot_index];
    char **argv = shoal_adapter_worker_argv(self->adapter, self->plugin_dir, SHOAL_WORKER_MODULE);
    char **env = s_slot_env(self, slot_index, true);
    /* On a serving daemon, forked from a warm zygote when one can be had;
     * its stand-in runs the cold command otherwise. */
    char **zygote = NULL, **attach = NULL;
    if (self->config.zygote.pool && argv) {
        zygote = shoal_adapter_zygote_argv(self->adapter,
                                           shoal_zygote_pool_script(self->config.zygote.pool));
        attach = zygote ? shoal_zygote_pool_attach(&self->config.zygote, zygote, self->config.env,
                                                   self->config.wrap, argv)
                        : NULL;
    }
    shoal_exec_spec_t spec = {.argv = attach ? attach : argv,
                              .cwd = self->config.cwd,
                              .env = self->config.env,
                              .wrap = attach ? NULL : self->config.wrap,
                              .env_extra = env,
                              .output_cap = S_OUTPUT_CAP};
    if (argv && env)
        slot->worker = shoal_worker_new(&spec, now, err, err_size);
    else
        snprintf(err, err_size, "out of memory");
    slot->spawned = true;
    shoal_adapter_argv_free(&argv);
    shoal_adapter_argv_free(&env);
    shoal_adapter_argv_free(&zygote);
    shoal_adapter_argv_free(&attach);
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

/* Starts the slot's next batch: the test its worker held back, then (if
 * take_queue) the head of the queue. */
static void
s_start_batch(shoal_session_t *self, unsigned slot_index, bool take_queue, uint64_t now)
{
    s_slot_t *slot = &self->slots[slot_index];
    shoal_item_t *batch = NULL;
    size_t n = take_queue
                   ? shoal_member_cut(&self->member, shoal_adapter_batch_max(self->adapter), &batch)
                   : 0;
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
            shoal_member_result_now(&self->member, item->id, item->attempt, SHOAL_OUTCOME_NOT_RUN,
                                    "time limit: not started within the budget");
            free(item->id);
            continue;
        }
        if (shoal_member_rejects(&self->member, self->elect.leader, item)) { /* I3 */
            free(item->id);
            continue;
        }
        slot->ids[slot->count] = item->id;
        slot->attempts[slot->count++] = item->attempt;
    }
    free(batch);
    self->member.want_now = true; /* the leader learns what started */
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
        const char **ids =
            s_framework_ids(self, (const char *const *)slot->ids + skip, slot->count - skip);
        started =
            slot->worker && ids &&
            shoal_worker_run(slot->worker, ids, slot->count - skip, !self->config.process_per_batch,
                             s_session_slots(self), timeout_ms, now) == 0;
        free(ids);
        if (!started && !err[0])
            snprintf(err, sizeof(err), "cannot hand the batch to the worker");
    } else {
        char **argv = shoal_adapter_argv(self->adapter, slot->ids[0]);
        char **env = s_slot_env(self, slot_index, false);
        shoal_exec_spec_t spec = {.argv = argv,
                                  .cwd = self->config.cwd,
                                  .env = self->config.env,
                                  .wrap = self->config.wrap,
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
            shoal_member_result_now(&self->member, slot->ids[i], slot->attempts[i],
                                    SHOAL_OUTCOME_ERROR, err[0] ? err : "cannot start the runner");
        s_slot_clear(slot);
        s_send_results(self);
    }
}

/* A test of the slot's batch ended: its result goes to the leader within
 * S_RESULTS_MS, one message for many quick tests instead of one each. */
static void
s_report_result(shoal_session_t *self, s_slot_t *slot, const shoal_test_result_t *r)
{
    size_t i = r->index;
    shoal_item_t item = {.id = strdup(slot->ids[i]),
                         .attempt = slot->attempts[i],
                         .outcome = (uint8_t)r->outcome,
                         .seconds = r->seconds,
                         .node = strdup(self->name),
                         .message = strdup(r->message ? r->message : ""),
                         .output = strdup(r->output ? r->output : "")};
    shoal_member_result(&self->member, &item);
    if (!self->results_due)
        self->results_due = s_now(self) + S_RESULTS_MS;
}

/* Results of the worker's batch in progress go out as each test ends: the
 * progress shows them, and a --maxfail stop reaches the other slots before
 * their batches run on. */
static void
s_stream_results(shoal_session_t *self, s_slot_t *slot)
{
    shoal_test_result_t done[16];
    size_t n;
    while (slot->running && slot->worker &&
           (n = shoal_worker_take_finished(slot->worker, done, 16)) > 0)
        for (size_t i = 0; i < n; i++) {
            slot->took += done[i].seconds;
            s_report_result(self, slot, &done[i]);
            shoal_test_result_clear(&done[i]);
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
    double took = 0; /* what the batch took, to rescale the next ones */
    if (rc == 0) {
        took = slot->took;
        for (size_t i = 0; i < slot->count; i++)
            took += results[i].held || results[i].reported ? 0 : results[i].seconds;
        for (size_t i = 0; i < slot->count; i++) {
            if (results[i].held) {
                /* It runs first in the worker's next batch, or when flushed. */
                slot->held = slot->ids[i];
                slot->held_attempt = slot->attempts[i];
                slot->ids[i] = NULL;
                continue;
            }
            if (!results[i].reported)
                s_report_result(self, slot, &results[i]);
        }
    }
    for (size_t i = 0; results && i < slot->count; i++)
        shoal_test_result_clear(&results[i]);
    free(results);
    shoal_member_batch_done(&self->member, took, rc == 0 ? slot->predicted : 0,
                            rc == 0 ? slot->count : 0);
    s_slot_clear(slot);
    if (!self->results_due)
        self->results_due = s_now(self) + S_RESULTS_MS;
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

static void s_abandon_if_alone(shoal_session_t *self, uint64_t now);

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
        s_stream_results(self, slot);
        if (slot->running && over)
            s_finish_batch(self, slot);
        /* A slot beyond our share takes no more work and lets its worker
         * go when idle. */
        bool shared = s < self->member.share, take;
        if (!slot->running && shoal_member_slot_due(&self->member, s, slot->held != NULL, &take) &&
            self->collect_state == S_COLLECTED && s_workers_ready(self))
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
    if ((!self->elect.leader[0] && !self->run_started) || self->collect_state == S_COLLECTING)
        return; /* nothing to report yet, nor a collection to show */
    /* Results go first: a new leader that has our WANT has our results too. */
    if (self->elect.leader[0] &&
        ((self->results_due && now >= self->results_due) || now >= self->next_resend)) {
        s_send_results(self);
        self->results_due = 0;
        self->next_resend = now + SHOAL_HEARTBEAT_MS;
    }
    shoal_item_t running[S_WANT_RUNNING_MAX];
    shoal_member_slots_t slots = {.busy = s_busy_slots(self),
                                  .running_work = s_running_work(self, now),
                                  .running = running,
                                  .running_count = s_running(self, running)};
    bool may_steal = !self->refused && !self->refused_at && self->collect_state == S_COLLECTED;
    shoal_member_tick(&self->member, &slots, may_steal, now);
}

/* ---------------------------------------------------------------- leadership */

/* Follow (term, leader): forget work the old leader dealt but we did not
 * start, and report everything we hold to the new one. */
static void
s_adopt(shoal_session_t *self, uint32_t term, const char *leader)
{
    if (self->lead.board && strcmp(leader, self->name) != 0) {
        shoal_log_info("stepping down: %s leads term %u", leader, term);
        shoal_lead_step_down(&self->lead);
    }
    shoal_election_adopt(&self->elect, term, leader);
    if (!self->run_started)
        self->run_started = s_now(self);
    shoal_member_adopt(&self->member);
    shoal_results_unack_all(&self->results);
    self->results_due = s_now(self); /* all of them, before the first WANT */
    if (self->phase == S_GATHER)
        self->phase = S_FOLLOW;
}

/* Become the leader of `term`: plan (lead.c), announce. */
static void
s_lead(shoal_session_t *self, uint32_t term, uint64_t now)
{
    s_adopt(self, term, self->name);
    shoal_lead_plan_t plan = {
        .term = term,
        .failed = self->collect_state == S_COLLECTED        ? NULL
                  : self->collect_state == S_COLLECT_FAILED ? self->collect_err
                                                            : "out of memory",
        .strategy = self->config.strategy,
        .retries = self->config.retries,
        .time_limit = self->config.time_limit,
        .history = self->history,
        .history_count = self->history_count,
        .replicas = &self->replicas,
        .dry_run = self->config.dry_run,
    };
    shoal_lead_take_t took = shoal_lead_take(&self->lead, &plan, now);
    if (took != SHOAL_LEAD_FAILED)
        self->results.deputy[0] = '\0'; /* this term copies its results afresh */
    if (took == SHOAL_LEAD_PLANNED)
        shoal_leader_print_plan(self->lead.board, stdout);
}

/* The leader we follow is gone: the best-ranked survivor takes the next term. */
static void
s_elect(shoal_session_t *self, uint64_t now)
{
    if (shoal_election_leader_lost(&self->elect, &self->roster, self->name) == SHOAL_ELECT_CLAIM)
        s_lead(self, self->elect.term + 1, now);
}

/* ---------------------------------------------------------------- summary */

/* ---------------------------------------------------------------- handlers */

static void
s_on_leader(shoal_session_t *self, const char *from, const shoal_msg_t *msg)
{
    switch (shoal_election_on_leader(&self->elect, self->config.session, self->name,
                                     self->lead.board != NULL, from, msg->term)) {
        case SHOAL_ELECT_ADOPT:
            s_adopt(self, msg->term, from);
            break;
        case SHOAL_ELECT_TELL:
            shoal_lead_heartbeat(&self->lead, from);
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
    if (self->theirs_count > 1) /* theirs may be NULL when empty */
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

/* A move: as the leader, put it on the board and echo the victim's report
 * (the victim resends until then); as the victim, the echo settles it. */
static void
s_on_moved(shoal_session_t *self, const char *from, shoal_msg_t *msg, uint64_t now)
{
    if (msg->fresh) /* an echo */
        shoal_member_on_echo(&self->member, from, msg);
    else
        shoal_lead_on_moved(&self->lead, from, msg, now);
}

static void
s_on_results(shoal_session_t *self, const char *from, shoal_msg_t *msg, uint64_t now)
{
    if (self->lead.board)
        shoal_lead_on_results(&self->lead, from, msg, now);
    else if (strcmp(from, self->elect.leader) == 0) /* as the deputy */
        shoal_replicas_keep(&self->replicas, from, msg);
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

/* The leader said nothing more starts: as pytest alone, whose loop stops
 * between tests, batches in progress stop after their current test
 * (workers that can). */
static void
s_tell_workers_stop(shoal_session_t *self)
{
    for (unsigned s = 0; s < self->config.slots; s++)
        if (self->slots[s].worker && self->slots[s].running)
            (void)shoal_worker_tell_stop(self->slots[s].worker, "the session stopped");
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
            shoal_lead_on_want(&self->lead, from, &msg, now);
            break;
        case SHOAL_MSG_WORK:
            shoal_member_on_work(&self->member, from, &msg);
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
            shoal_lead_on_done(&self->lead, from, msg.term);
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
            shoal_member_on_steal(&self->member, from, &msg, s_running_work(self, now), now);
            break;
        case SHOAL_MSG_GIVE:
            shoal_member_on_give(&self->member, from, &msg);
            break;
        case SHOAL_MSG_MOVED:
            s_on_moved(self, from, &msg, now);
            break;
        case SHOAL_MSG_LOADS:
            if (shoal_member_on_loads(&self->member, &msg))
                s_tell_workers_stop(self);
            break;
        case SHOAL_MSG_HELD:
            shoal_lead_on_held(&self->lead, from, &msg, now);
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
    return shoal_msg_peek_session(payload, len, self->config.session) == 1;
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
    shoal_lead_member(&self->lead, p, change == SHOAL_ROSTER_ARRIVED, now);
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
    unsigned running_here = 0; /* a slot runs one test of its batch at a time */
    for (unsigned s = 0; s < self->config.slots; s++)
        running_here += self->slots[s].running;
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
                                  self->collect_state != S_COLLECTING && !self->prepare_job, now,
                                  &said_short)) {
        case SHOAL_ELECT_ASK:
            if (said_short)
                shoal_log_info("join window closed with %zu of %d expected participants: "
                               "starting without the rest",
                               shoal_roster_alive(&self->roster), self->config.expect);
            for (size_t i = 0; i < self->roster.count; i++)
                self->roster.items[i].unled = false;
            shoal_msg_t query = {.type = SHOAL_MSG_QUERY};
            shoal_session_tell_all(&self->host, &self->roster, &query, false);
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
    shoal_lead_step_down(&self->lead);
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
                   s_seconds(gap), shoal_hold_count(&self->member.hold));
    shoal_hold_drop(&self->member.hold);
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
    s_prepare_tick(self);
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
    bool settled = false;
    self->lead.coming = self->coming ? self->coming(self->coming_ctx, self->lead.coming_tags,
                                                    SHOAL_COMING_MAX, &settled)
                                     : 0;
    if (settled && !self->elect.window_closed && now < self->elect.gather_until) {
        shoal_log_info("every serving daemon offered the session joined or declined: the join "
                       "window closes");
        self->elect.gather_until = now;
    }
    shoal_lead_tick(&self->lead, now);
    s_refuse_tick(self, now);
    size_t fd_count = 0;
    self->reaping = false;
    if (self->phase != S_DONE)
        s_member_tick(self, now, self->fds, &fd_count);
    if (self->phase == S_DONE && zlist_size(self->self_queue) == 0 &&
        shoal_lead_released(&self->lead, now)) {
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
    shoal_roster_init(&self->roster, config->session, self->digest);
    shoal_member_config_t member = {
        .host = &self->host,
        .session = self->config.session,
        .name = self->name,
        .elect = &self->elect,
        .roster = &self->roster,
        .local = &self->local,
        .digest = self->collection_digest,
        .results = &self->results,
        .share = self->config.slots,
        .batch_seconds = self->config.batch_seconds,
        .invocation_seconds = shoal_adapter_invocation_seconds(self->adapter),
    };
    int member_ok = shoal_member_init(&self->member, &member);
    shoal_lead_config_t lead = {.host = &self->host,
                                .session = self->config.session,
                                .name = self->name,
                                .elect = &self->elect,
                                .roster = &self->roster,
                                .local = &self->local,
                                .digest = self->collection_digest};
    shoal_lead_init(&self->lead, &lead);
    /* Under $TMPDIR: a serving daemon points it at a directory its sandbox
     * shows the tests (their own /tmp is private). */
    const char *tmp = getenv("TMPDIR");
    if (!tmp || tmp[0] != '/' || strlen(tmp) > sizeof(self->workdir) - 32)
        tmp = "/tmp";
    snprintf(self->workdir, sizeof(self->workdir), "%s/shoal-run-XXXXXX", tmp);
    if (!self->slots || !self->fds || !self->watched || !self->self_queue || !self->buf ||
        member_ok != 0 || !mkdtemp(self->workdir)) {
        shoal_session_destroy(&self);
        return NULL;
    }
    /* The collection: the first worker's (it starts on the first turn), or
     * the adapter's own, beside the loop with the history (s_prepare). */
    bool has_worker = shoal_adapter_has_worker(self->adapter);
    if (has_worker) {
        snprintf(self->plugin_dir, sizeof(self->plugin_dir), "%s/py", self->workdir);
        if (mkdir(self->plugin_dir, 0700) != 0 ||
            shoal_worker_install(self->plugin_dir, self->collect_err, sizeof(self->collect_err)) !=
                0) {
            self->collect_state = S_COLLECT_FAILED;
            shoal_log_info("cannot start workers: %s", self->collect_err);
        }
    }
    if (s_prepare_start(self, !has_worker) != 0) {
        shoal_log_info("cannot start collecting: %s", strerror(errno));
        shoal_session_destroy(&self);
        return NULL;
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
    shoal_member_clear(&self->member);
    shoal_results_clear(&self->results);
    shoal_replicas_clear(&self->replicas);
    shoal_items_free(&self->theirs, &self->theirs_count, &self->theirs_cap);
    shoal_summary_in_clear(&self->summary);
    shoal_lead_clear(&self->lead);
    shoal_history_entries_free(&self->history, self->history_count);
    if (self->prepare_job && !shoal_job_release(&self->prepare_job)) {
        /* Still running: the job frees what it reads into, and the adapter
         * it collects with, once it ends. */
        if (self->prepare->adapter)
            self->adapter = NULL;
    } else {
        s_prepare_free(self->prepare);
    }
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

void
shoal_session_set_coming(shoal_session_t *self, shoal_session_coming_fn *fn, void *ctx)
{
    self->coming = fn;
    self->coming_ctx = ctx;
}

bool
shoal_session_has_participant(const shoal_session_t *self, const char *name)
{
    return shoal_roster_find((shoal_roster_t *)&self->roster, name) != NULL;
}

bool
shoal_session_refused(const shoal_session_t *self, const char *name)
{
    const shoal_participant_t *p = shoal_roster_find((shoal_roster_t *)&self->roster, name);
    return p && p->refused;
}

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
        const char *id = shoal_collection_framework_id_of(&self->local, self->summary.items[i].id);
        if (shoal_outcome_failed(o))
            failed[nfailed++] = id;
        else if (o != SHOAL_OUTCOME_NOT_RUN)
            passed[npassed++] = id;
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
    shoal_member_set_share(&self->member, slots < 1                    ? 1
                                          : slots > self->config.slots ? self->config.slots
                                                                       : slots);
    shoal_loop_set_timer(self->loop, self->timer, s_now(self));
}

/* Runs to the end; prints and writes what every participant does; lets every
 * worker finish its framework's session (session fixtures, sessionfinish
 * hooks, caches) as it would alone. */
int
shoal_session_run(shoal_session_t *self, volatile sig_atomic_t *stop)
{
    shoal_log_info("session %s: %s runner, %u slots", self->config.session,
                   shoal_adapter_name(self->adapter), self->member.share);
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
