/* sched/sched.h: the facade of sched/, shoal's pure scheduling library, and the
 * only sched/ header other folders include. It decides; it never does I/O, reads
 * a clock or opens a socket. Every time and duration is a double in SECONDS on
 * the caller's monotonic clock, passed in as `now`. Randomness comes only from a
 * seeded sched_rng_t. Tests and members are named by their index in the suite
 * (the order they were added). Functions return 0 / -1 unless documented.
 * Invariant kept by sched_board_t: every test is in exactly one place at a time
 * (pending, queued at one member, running at one member, done, unschedulable or
 * skipped). Members may join the suite while boards exist (sched_board_sync_members).
 */
#ifndef SHOAL_SCHED_SCHED_H
#define SHOAL_SCHED_SCHED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- deterministic randomness (xoshiro256**, seeded with splitmix64) ---- */
typedef struct sched_rng {
    uint64_t s[4];
} sched_rng_t;

void sched_rng_seed(sched_rng_t *rng, uint64_t seed);
uint64_t sched_rng_next(sched_rng_t *rng);
double sched_rng_uniform(sched_rng_t *rng); /* [0, 1) */
double sched_rng_normal(sched_rng_t *rng);  /* mean 0, deviation 1 */

/* ---- strategies ---- */
typedef enum {
    SCHED_STRATEGY_LPT,         /* longest predicted first to the least loaded (default) */
    SCHED_STRATEGY_ROUND_ROBIN, /* count based, in collection order (like --shard) */
    SCHED_STRATEGY_FILE,        /* a file's tests stay together; files placed LPT-style */
    SCHED_STRATEGY_TAG,         /* most constrained tests first, then LPT */
    SCHED_STRATEGY_FAIL_FIRST,  /* recently failed tests spread first, the rest LPT */
} sched_strategy_t;

/* Parses "lpt", "round-robin", "file", "tag", "fail-first"; -1 on anything else. */
int sched_strategy_parse(const char *name, sched_strategy_t *out);
const char *sched_strategy_name(sched_strategy_t strategy);

/* ---- the suite: tests and members of one session (the model) ---- */
typedef struct sched_suite sched_suite_t;

/* Where a test's prediction came from, best first. */
typedef enum {
    SCHED_PREDICT_HISTORY,      /* EWMA of its own recent durations */
    SCHED_PREDICT_FILE_AVERAGE, /* mean of the known tests of its file */
    SCHED_PREDICT_SUITE_MEDIAN, /* median of the suite's known tests */
    SCHED_PREDICT_DEFAULT,      /* nothing known at all */
    SCHED_PREDICT_GIVEN,        /* set by sched_suite_set_predicted */
} sched_predict_source_t;

#define SCHED_DEFAULT_PREDICTION 1.0 /* seconds, when nothing at all is known */
#define SCHED_EWMA_ALPHA 0.3         /* weight of the newest duration */

/* A test's history, as the history store hands it over (borrowed). */
typedef struct sched_history {
    const double *durations;  /* recent durations in seconds, oldest first */
    size_t count;             /* 0: nothing known about durations */
    unsigned recent_failures; /* failures among the recent runs; > 0 runs first */
    bool last_failed;         /* the last run failed; also runs first */
    double flakiness;         /* 0..1, share of runs that flipped outcome */
} sched_history_t;

sched_suite_t *sched_suite_new(void);
void sched_suite_destroy(sched_suite_t **self_p);

/* Adds a test. `file` may be NULL or "". `requires` is a comma separated list of
 * terms, each `key=value` (a member needs that exact tag) or `key` (a member
 * needs a tag with that key); NULL or "" requires nothing. -1 on a duplicate or
 * empty id, or a malformed requirement. */
int sched_suite_add_test(sched_suite_t *self, const char *id, const char *file,
                         const char *requires, size_t *index_out);
/* Adds a member with `slots` >= 1 parallel processes and tags "k=v,k2,..."
 * (NULL for none). Members start alive. -1 on a duplicate name or 0 slots.
 * Legal while boards exist over the suite (a late joiner): see
 * sched_board_sync_members. */
int sched_suite_add_member(sched_suite_t *self, const char *name, unsigned slots, const char *tags,
                           size_t *index_out);
int sched_suite_set_alive(sched_suite_t *self, size_t member, bool alive);

/* Records a test's history; its prediction becomes the EWMA of the durations. */
int sched_suite_set_history(sched_suite_t *self, size_t test, const sched_history_t *history);
/* Overrides a prediction (seconds >= 0, confidence 0..1). */
int sched_suite_set_predicted(sched_suite_t *self, size_t test, double seconds, double confidence);
/* Fills the prediction of every test without history: the mean of its file's
 * known tests, else the median of all known tests, else `default_seconds`. */
void sched_suite_predict(sched_suite_t *self, double default_seconds);

size_t sched_suite_test_count(const sched_suite_t *self);
size_t sched_suite_member_count(const sched_suite_t *self);
const char *sched_suite_test_id(const sched_suite_t *self, size_t test);
const char *sched_suite_test_file(const sched_suite_t *self, size_t test);
const char *sched_suite_member_name(const sched_suite_t *self, size_t member);
unsigned sched_suite_member_slots(const sched_suite_t *self, size_t member);
bool sched_suite_member_alive(const sched_suite_t *self, size_t member);
/* Prediction in seconds; `confidence` (0..1) and `source` may be NULL. */
double sched_suite_predicted(const sched_suite_t *self, size_t test, double *confidence,
                             sched_predict_source_t *source);
bool sched_suite_failed_recently(const sched_suite_t *self, size_t test);
double sched_suite_flakiness(const sched_suite_t *self, size_t test);
/* Whether tags "k=v,k2" satisfy requirements "k=v,k2" (each requirement a
 * tag with that key, and that value when it names one): what
 * sched_suite_can_run decides, for a caller that holds no suite. NULL or ""
 * requires nothing; a malformed list satisfies nothing. */
bool sched_tags_satisfy(const char *tags, const char *requires);
/* Whether member's tags satisfy the test's requirements (alive or not). */
bool sched_suite_can_run(const sched_suite_t *self, size_t test, size_t member);
/* Fills out[0..test_count) with every test in run order: recently failed first,
 * then longest predicted first, ties in the order the tests were added (the
 * framework's collection order). Stable and deterministic. */
void sched_suite_order(const sched_suite_t *self, size_t *out);

/* EWMA of `count` durations (oldest first) with weight `alpha` on the newest;
 * 0 when count is 0. */
double sched_predict_ewma(const double *durations, size_t count, double alpha);

/* ---- plans: one ordered queue per member ---- */
typedef struct sched_plan sched_plan_t;

/* Deals every test of the suite to its alive members. NULL on out of memory. */
sched_plan_t *sched_plan_new(const sched_suite_t *suite, sched_strategy_t strategy);
/* Deals only `tests` (any order) to the members with alive[m] (NULL: the suite's
 * alive flags), on top of `base_load` (predicted seconds already owned by each
 * member; NULL for none). */
sched_plan_t *sched_plan_new_subset(const sched_suite_t *suite, sched_strategy_t strategy,
                                    const size_t *tests, size_t count, const bool *alive,
                                    const double *base_load);
void sched_plan_destroy(sched_plan_t **self_p);
size_t sched_plan_member_count(const sched_plan_t *self);
/* Member's queue in run order (borrowed); *count_out gets its length. */
const size_t *sched_plan_queue(const sched_plan_t *self, size_t member, size_t *count_out);
/* Predicted seconds dealt to member by this plan (base load excluded). */
double sched_plan_load(const sched_plan_t *self, size_t member);
/* Tests no alive member can run (their requirements match nobody). */
const size_t *sched_plan_unschedulable(const sched_plan_t *self, size_t *count_out);
/* Predicted makespan: max over members of (base + dealt) / slots. */
double sched_plan_makespan(const sched_plan_t *self);

/* ---- the board: the leader's live view of a session ---- */
typedef struct sched_board sched_board_t;

typedef enum {
    SCHED_TEST_PENDING,       /* not dealt yet (new, or back from a dead member) */
    SCHED_TEST_QUEUED,        /* in one member's queue, not started */
    SCHED_TEST_RUNNING,       /* started by one member */
    SCHED_TEST_DONE,          /* has its final result */
    SCHED_TEST_UNSCHEDULABLE, /* no alive member can run it */
    SCHED_TEST_SKIPPED,       /* the time budget ran out before it */
    SCHED_TEST_STATE_COUNT,
} sched_test_state_t;

/* A steal: one all-or-nothing decision. `tests` is owned by the struct. */
typedef struct sched_steal {
    size_t victim;
    size_t thief;
    size_t *tests;
    size_t count;
    double work; /* predicted seconds moved */
} sched_steal_t;

void sched_steal_clear(sched_steal_t *steal);

/* A board over `suite` (borrowed; must outlive the board; its tests must not
 * change, members may be added). Every test starts pending; members take the
 * suite's alive flags. */
sched_board_t *sched_board_new(const sched_suite_t *suite, sched_strategy_t strategy);
void sched_board_destroy(sched_board_t **self_p);
/* Seconds between a thief asking and the stolen tests reaching it (default 0.002);
 * a steal must beat the victim by more than this. */
void sched_board_set_steal_latency(sched_board_t *self, double seconds);

/* Deals every pending test to the alive members with the board's strategy,
 * merging into their queues; a retry avoiding a member goes to the others when
 * any of them can run it (sched_board_requeue_avoiding). Tests nobody alive can
 * run become unschedulable. Returns the number of tests dealt. */
size_t sched_board_deal(sched_board_t *self);
/* Takes in the members added to the suite since the board was made or last
 * synced: alive per the suite's flag, with empty queues; then they can be dealt
 * pending tests and steal. Unschedulable tests an alive new member can run go
 * back to pending for the next deal. -1 on out of memory (nothing taken in).
 * Also done implicitly: by sched_board_deal (always), and by every mutating
 * function handed a member index the board does not know yet. Const functions
 * (steal_decide, the queries) only see members known at the last sync. */
int sched_board_sync_members(sched_board_t *self);
/* Members the board knows (<= the suite's member count). */
size_t sched_board_member_count(const sched_board_t *self);
/* Member starts the head of its queue: -1 if its queue is empty or it is dead. */
int sched_board_next(sched_board_t *self, size_t member, double now, size_t *test_out);
/* Member starts a batch from the head of its queue: consecutive tests whose
 * predicted sum is near `target` seconds, at most `max_count` (and `cap`);
 * recently failed tests get smaller batches so they show early. Returns the
 * number started (0: empty queue). */
size_t sched_board_next_batch(sched_board_t *self, size_t member, double now, double target,
                              size_t max_count, size_t *out, size_t cap);
/* Member reports it started `test` (out of its queue order, e.g. a local queue). */
int sched_board_start(sched_board_t *self, size_t member, size_t test, double now);
/* A final result for test. 0 recorded, 1 duplicate (already done), -1 bad index. */
int sched_board_finish(sched_board_t *self, size_t test, double now);

/* Running (its process crashed before it ran) or done (an explicit retry) ->
 * pending, for the next sched_board_deal to place; -1 in any other state or on
 * a bad index. Clears any avoidance set by sched_board_requeue_avoiding. */
int sched_board_requeue(sched_board_t *self, size_t test, double now);
/* As sched_board_requeue, and deals (this and every later re-deal, until the
 * next requeue) prefer any other alive member that can run the test, falling
 * back to `member` only when nobody else can. Steals never move the test to
 * `member` (it stays where it was dealt). -1 also if member is out of range. */
int sched_board_requeue_avoiding(sched_board_t *self, size_t test, size_t member, double now);
/* (Both requeues also take a test the board still has queued: a member that
 * holds its share may report a result before the board heard it started.) */

/* Failover: the new leader rebuilds its board from members' reports. */
/* Member reports it runs test: pending, queued (at any member), unschedulable or
 * skipped -> running at member. 0 also when it already runs there; -1 if the
 * test is done (the caller ignores the duplicate) or running at another member,
 * or member is dead or out of range. */
int sched_board_adopt_running(sched_board_t *self, size_t member, size_t test, double now);
/* A result a member reports: any other state -> done, exactly as
 * sched_board_finish: 0 recorded, 1 duplicate (already done), -1 bad index. */
int sched_board_adopt_done(sched_board_t *self, size_t test, double now);

/* Decides what thief steals at `now` (does not change the board): from the
 * member with the most predicted queued work per slot that has something the
 * thief can run, about half of the combined remaining work, taken from the tail
 * of the victim's queue; only if the thief would finish it sooner than the
 * victim. 0 with *out filled, -1 when nothing is worth stealing. */
int sched_board_steal_decide(const sched_board_t *self, size_t thief, double now,
                             sched_steal_t *out);
/* Applies a decision all or nothing: -1 (board unchanged) if any of its tests is
 * no longer queued at the victim, or victim or thief is dead. */
int sched_board_steal_apply(sched_board_t *self, const sched_steal_t *steal);

/* Peer-to-peer steals (members hold their queues; see sched_steal_split). Each
 * test carries a version: how many times it has been placed. Every deal of the
 * board adds one (sched_board_version tells the member dealt it); a victim hands
 * a test on with its version + 1. The leader hears that victim handed `tests` to
 * thief at versions[i], from the victim, the thief or both, in either order,
 * late, possibly after later moves of the same tests. A report moves a test
 * only if it is news: queued at another member with an older version, or
 * pending; one queued at thief already takes the version; anything else (older
 * or equal news, started, done, skipped) is left alone. So the second report of
 * a steal moves nothing, nor does one overtaken by a later steal or re-deal
 * (even one that put the test back at victim). If thief is dead on this board
 * the moved tests are dealt to the survivors at once (the thief died holding
 * them; the deal may put some back at victim, with a new version): the caller
 * tells each its new member (sched_board_test_state, sched_board_version).
 * moved_out (room for count; may be NULL) receives the tests moved.
 * Requirements are not checked: the report says where the tests are. Returns
 * how many moved; -1 if victim or thief is out of range, they are the same
 * member or versions is NULL (board unchanged), or on out of memory (what moved
 * stays moved; the rest keep place and version, so the report can be applied
 * again). */
int sched_board_moved(sched_board_t *self, size_t victim, size_t thief, const size_t *tests,
                      const uint32_t *versions, size_t count, size_t *moved_out);
/* Failover: member reports it holds `tests` queued, not started, at versions[i]
 * (NULL: all 0). As a report of a steal to member: a pending test becomes
 * queued there; one queued at another member moves only if the version is
 * newer (the member took it from there after that member reported); one in any
 * other state (running, done, skipped) is left alone: the member should drop
 * it. The board keeps its own order (merged by rank, or appended for the file
 * strategy). Returns how many were placed at member (0 for a repeated report);
 * -1 if member is dead or out of range, or on out of memory. Call it for every
 * member before sched_board_deal places what nobody reported. */
int sched_board_adopt_queued(sched_board_t *self, size_t member, const size_t *tests,
                             const uint32_t *versions, size_t count, double now);
/* The version of test's latest placement the board knows of (see
 * sched_board_moved); 0 for a test never dealt or out of range. */
uint32_t sched_board_version(const sched_board_t *self, size_t test);
/* Every placement this board makes (deals, central steals) gets a version
 * of at least floor. A board rebuilt by a new leader sets a floor above any
 * version an older board could have given (e.g. term << 20), so its deals
 * are news to every member, while versions reported from older terms keep
 * their order among themselves. */
void sched_board_set_version_floor(sched_board_t *self, uint32_t floor);

/* Member died: its queued and running tests go back to pending and are dealt to
 * the survivors with the board's strategy; done results stay. Returns the
 * number of tests re-dealt, -1 if it was already dead or out of range. */
int sched_board_member_lost(sched_board_t *self, size_t member, double now);
/* A member declared lost is alive again (gossip refuted it): alive with an
 * empty queue (its old work was re-dealt when it was lost); it gets work by
 * stealing or from the next deal; unschedulable tests it can run go back to
 * pending. -1 if it is alive (or out of range). */
int sched_board_member_back(sched_board_t *self, size_t member);
/* Time budget: skips every queued test that its member is predicted not to
 * finish by `deadline` (every queued test once now >= deadline). Returns the
 * number skipped. */
size_t sched_board_skip_over_budget(sched_board_t *self, double now, double deadline);

sched_test_state_t sched_board_test_state(const sched_board_t *self, size_t test,
                                          size_t *member_out);
size_t sched_board_count(const sched_board_t *self, sched_test_state_t state);
/* Member's queue (borrowed, head first) and its predicted queued seconds. */
const size_t *sched_board_queue(const sched_board_t *self, size_t member, size_t *count_out);
double sched_board_queued_work(const sched_board_t *self, size_t member);
size_t sched_board_running(const sched_board_t *self, size_t member);
/* Predicted seconds member's started tests still need at now, summed over its
 * slots (never negative); 0 for an unknown member. */
double sched_board_running_work(const sched_board_t *self, size_t member, double now);
/* Fills out[0..cap) with the tests running at member, lowest index first;
 * returns how many run there (may exceed cap: then only cap are written). */
size_t sched_board_running_list(const sched_board_t *self, size_t member, size_t *out, size_t cap);
bool sched_board_member_alive(const sched_board_t *self, size_t member);
/* True when no test is pending, queued or running. */
bool sched_board_finished(const sched_board_t *self);
/* Checks the exactly-one-place invariant in full (O(tests)): 0 ok, -1 broken. */
int sched_board_check(const sched_board_t *self);

/* ---- stealing on plain arrays: the policy of a member that holds only its own
 * queue (peer-to-peer), which the board's central steal uses as well ----
 * A member that runs dry asks the peer with the most announced queued work per
 * slot (sched_steal_pick); the victim hands over about half of the pair's
 * remaining work from the tail of its own queue, only tests the thief can run,
 * all or nothing (sched_steal_split); both tell the leader (sched_board_moved).
 * A steal is worth making only if the pair then finishes sooner by more than
 * the steal's latency. All figures are predicted seconds. */

/* Both sides of a steal as the one deciding sees them. */
typedef struct sched_steal_sides {
    unsigned victim_slots; /* parallel slots; 0 counts as 1 */
    double victim_running; /* seconds its started tests still need, summed over slots */
    unsigned thief_slots;  /* 0 counts as 1 */
    double thief_running;  /* the same for the thief (what it said when it asked) */
    double latency;        /* seconds from the thief asking to the tests reaching it */
} sched_steal_sides_t;

/* The queued seconds a thief should take from a victim with `victim_queued`
 * seconds queued so that both are predicted to finish together, the thief
 * starting `latency` late: (st (rv + qv) - sv st lat - sv rt) / (sv + st).
 * <= 0 when nothing is worth taking; may exceed victim_queued. */
double sched_steal_share(const sched_steal_sides_t *sides, double victim_queued);

/* A peer as the last progress round announced it (up to one period old). */
typedef struct sched_peer_load {
    double queued;  /* predicted seconds queued, not started */
    double running; /* predicted seconds its started tests still need */
    unsigned slots; /* 0 counts as 1 */
    bool alive;     /* not declared dead */
} sched_peer_load_t;

/* Victim choice: the peer a thief should ask next. peers[0..count) are every
 * participant's announced loads (peers[thief] gives the thief's slots);
 * `thief_running` is the thief's own current figure; asked[0..asked_count)
 * names the peers that already said no this round (may be NULL when 0). Only
 * an alive, unasked peer other than the thief where a steal could pay is a
 * candidate: min(share, queued) seconds, were they perfectly divisible, must
 * finish the pair sooner by more than `latency`, so a tiny remainder is
 * nobody's victim. Among the candidates, with rng NULL: the most queued
 * seconds per slot (ties: lower index); with an rng (borrowed, advanced): one
 * drawn with probability proportional to queued seconds per slot, so that
 * thieves reading the same (possibly stale) announcement spread over the busy
 * peers instead of all asking the busiest, which the first few drain.
 * 0 with *victim_out set; -1 when no peer is worth asking (or thief >= count).
 * O(count). */
int sched_steal_pick(const sched_peer_load_t *peers, size_t count, size_t thief,
                     double thief_running, double latency, const size_t *asked, size_t asked_count,
                     sched_rng_t *rng, size_t *victim_out);

/* The victim's split, on its own queue: predicted[0..count) and
 * thief_can_run[0..count) describe its queued tests in run order (head first;
 * started tests are not in it: their remaining seconds are
 * sides->victim_running). Walking from the tail over the tests the thief can
 * run, takes while the sum stays within the share (a first test larger than the
 * share goes alone if nearer to it than nothing). Gives all of that or nothing:
 * nothing unless the pair then finishes sooner by more than sides->latency.
 * Writes the taken positions, ascending, to take[] (room for count) and their
 * seconds to *work_out (may be NULL). Returns how many (0: the victim says no). */
size_t sched_steal_split(const double *predicted, const bool *thief_can_run, size_t count,
                         const sched_steal_sides_t *sides, size_t *take, double *work_out);

/* ---- time budget and batching on plain arrays ---- */
/* Which of `count` tests (predicted seconds, in run order) fit in `budget`
 * seconds on `slots` parallel slots, list-scheduled in order: fits[i] set.
 * Returns how many fit. */
size_t sched_budget_fit(const double *predicted, size_t count, unsigned slots, double budget,
                        bool *fits);
/* Splits a queue (predicted seconds and recently-failed flags, in run order)
 * into consecutive batches: each near `target` seconds and at most `max_count`
 * tests; recently failed tests go in batches of their own aiming at target/4.
 * Writes each batch's length to sizes[]; returns the number of batches. */
size_t sched_batch_split(const double *predicted, const bool *failed, size_t count, double target,
                         size_t max_count, size_t *sizes);

/* ---- leader ranking (rendezvous hashing) ---- */
/* 64-bit FNV-1a of session, a 0 byte, node, then a splitmix64 finalizer. Same
 * value on every node and architecture. */
uint64_t sched_rank_hash(const char *session, const char *node);
/* Fills order[0..count) with indices of names, best rank (highest hash) first,
 * ties by name. Independent of the input order. */
void sched_rank_order(const char *session, const char *const *names, size_t count, size_t *order);
/* The best ranked name with alive[i] (NULL: all); -1 if none is alive. */
int sched_rank_leader(const char *session, const char *const *names, const bool *alive,
                      size_t count, size_t *leader_out);

/* ---- the simulator: the real board driven by a discrete-event loop ----
 * Central mode: queues live on the board and the leader decides steals at
 * once. Peer-to-peer mode (p2p): each member holds its dealt queue and runs
 * it; every progress_period all members announce their loads; a member that
 * runs dry picks a victim from those (possibly stale) figures, its ask takes
 * one hop, the victim splits its queue as it is on arrival, the answer takes
 * another hop; a refused thief asks the next (at most 8 a round). Victim and
 * thief each report the steal to the leader (one hop), whose board applies
 * the first report to arrive (sched_board_moved). Starts and results reach
 * the board at once. A killed member is declared dead by the leader
 * max(progress_period, 3 hops) later, after the reports in flight; its
 * re-dealt tests reach their new members at once. */
typedef enum {
    SCHED_SIM_UNIFORM,   /* uniform on [0.1, 1.9] * mean */
    SCHED_SIM_LOGNORMAL, /* lognormal with sigma, scaled to `mean` */
    SCHED_SIM_LIST,      /* the given durations */
} sched_sim_dist_t;

typedef enum {
    SCHED_SIM_PREDICT_EXACT, /* predictions are the true durations */
    SCHED_SIM_PREDICT_NONE,  /* no history: every test predicted the same */
    SCHED_SIM_PREDICT_ERROR, /* true * (1 + u), u uniform in [-error, error] */
} sched_sim_predict_t;

typedef struct sched_sim_kill {
    size_t member;
    double at; /* seconds */
} sched_sim_kill_t;

typedef struct sched_sim_config {
    size_t nodes;
    unsigned slots;
    size_t tests; /* ignored for SCHED_SIM_LIST */
    sched_sim_dist_t dist;
    double sigma;            /* lognormal */
    double mean;             /* seconds, uniform and lognormal (default 0.5) */
    const double *durations; /* SCHED_SIM_LIST, borrowed */
    const char *const *ids;  /* SCHED_SIM_LIST, optional, borrowed */
    size_t count;            /* SCHED_SIM_LIST */
    size_t giants;           /* extra tests of giant_factor * mean seconds */
    double giant_factor;     /* default 200 */
    size_t tests_per_file;   /* default 20 */
    double failed_fraction;  /* share of tests that failed recently */
    size_t tagged_nodes;     /* the first k nodes carry tag gpu */
    double tagged_fraction;  /* share of tests requiring gpu */
    sched_sim_predict_t predict;
    double error;              /* SCHED_SIM_PREDICT_ERROR */
    sched_strategy_t strategy; /* default LPT */
    bool steal;                /* default true */
    double dispatch_latency;   /* per dispatch (default 0.001) */
    double steal_latency;      /* central: ask to arrival (default 0.002) */
    bool p2p;                  /* members hold their queues and steal from each other (default
                                  false: the central steal node/ runs today) */
    double hop_latency;        /* p2p: one message between two participants (default 0.002);
                                  a steal costs the thief two (ask, answer) */
    double progress_period;    /* p2p: seconds between load announcements (default 0.05) */
    double batch_target;       /* seconds; 0 dispatches one test at a time */
    size_t batch_max;          /* default 64 */
    double startup;            /* runner start-up per dispatch (default 0) */
    double budget;             /* seconds; 0 for none */
    const sched_sim_kill_t *kills;
    size_t kill_count;
    uint64_t seed;
} sched_sim_config_t;

typedef struct sched_sim_result {
    double makespan;
    double lower_bound; /* max(sum t / (nodes * slots), max t) */
    double ratio;       /* makespan / lower_bound */
    size_t steals;
    size_t steal_failures; /* central: decisions the board refused to apply */
    size_t asks;           /* p2p: requests thieves sent */
    size_t refusals;       /* p2p: answers that said no (or never came: a dead victim) */
    size_t stolen_tests;
    size_t redealt; /* tests re-dealt after deaths */
    size_t done;
    size_t skipped;
    size_t unschedulable;
    size_t events;
    double longest;     /* the longest test's true seconds */
    double last_start;  /* when the test that finished last started */
    double last_length; /* and its true seconds */
    double idle_mean;   /* idle seconds per slot, mean over surviving members */
    double *idle;       /* idle seconds per slot of each member (owned) */
    size_t idle_count;
} sched_sim_result_t;

typedef struct sched_sim sched_sim_t;

void sched_sim_config_init(sched_sim_config_t *config);
/* Builds the instance (durations, predictions, suite). NULL on a bad config or
 * out of memory; *error_out (may be NULL) then names the problem. */
sched_sim_t *sched_sim_new(const sched_sim_config_t *config, const char **error_out);
void sched_sim_destroy(sched_sim_t **self_p);
/* The initial plan (what the caller may time). */
void sched_sim_plan(sched_sim_t *self);
/* Runs the session to its end; plans first if sched_sim_plan was not called.
 * -1 if the board's invariant broke (a bug). */
int sched_sim_run(sched_sim_t *self, sched_sim_result_t *result);
void sched_sim_result_clear(sched_sim_result_t *result);

#endif
