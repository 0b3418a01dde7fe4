/* The leader of a test session: owns the collected tests, the scheduler's
 * board (who holds and runs what), and every test's result record. It deals
 * each member its share once (the member holds it and cuts its own batches),
 * hears the steals members make among themselves, retries failures on another
 * member, re-deals a dead member's work, and knows when the session is
 * finished. No I/O: the session feeds it reports and sends what it returns.
 *
 * A test's record moves: open --result (final outcome)--> final, or
 * open --failed, retries left--> open with attempt + 1 (requeued elsewhere),
 * open --budget spent before it started--> final: skipped, or, for a retry,
 * the failure it retries (a failure is never turned into a skip).
 * Invariant: a test is final at most once; results of another attempt, or for
 * a final test, are acknowledged and dropped (duplicates merge).
 */
#ifndef SHOAL_NODE_LEADER_H
#define SHOAL_NODE_LEADER_H

#include "node/adapter.h"
#include "node/history.h"
#include "node/session_msg.h"
#include "sched/sched.h"

#include <stdio.h>

typedef struct {
    const char *session;
    const char *name; /* the leader's node: where tests decided at collection "ran" */
    uint32_t term;
    sched_strategy_t strategy;
    unsigned retries;          /* extra attempts for a failed test */
    unsigned maxfail;          /* stop after this many failures (pytest's -x is 1); 0: never */
    double time_limit;         /* seconds from start; 0 for none */
    double default_prediction; /* seconds, for tests nothing is known about */
    double rebuild_seconds;    /* after a failover: wait this long for members' reports */
    bool rebuild;              /* this term takes over from a dead leader */
} shoal_leader_config_t;

typedef struct {
    const char *id;
    const char *file;
    bool final;
    shoal_outcome_t outcome;
    double seconds;
    uint32_t attempt;
    unsigned failures; /* failed attempts before the last */
    bool flaky;        /* failed, then passed on a retry */
    char *thief;       /* the member that last stole it from another's queue, or NULL */
    char *node;        /* where the final attempt ran */
    char *message;
    char *output;
} shoal_leader_result_t;

typedef struct shoal_leader shoal_leader_t;

/* Takes the tests (moved out of *tests). History entries may be NULL. */
shoal_leader_t *shoal_leader_new(const shoal_leader_config_t *config, shoal_collection_t *tests,
                                 const shoal_history_entry_t *history, size_t history_count,
                                 double now);
void shoal_leader_destroy(shoal_leader_t **self_p);
/* The participants on their way (a shipped session's daemons fetching its
 * workspace): count of them, and the tags ("k=v,k2") of the first known
 * of them (tags[0..known), borrowed until the next call). A test that no
 * present member has the tags for waits while one on its way has them, or
 * while one whose tags are not known is on its way; otherwise it ends
 * "unschedulable". */
void shoal_leader_set_coming(shoal_leader_t *self, size_t count, const char *const *tags,
                             size_t known);
/* Adds a participant, or updates whether it is alive (a death re-deals its
 * work; a return gives it an empty queue). */
void shoal_leader_member(shoal_leader_t *self, const char *name, unsigned slots, const char *tags,
                         bool alive, double now);
/* A member's report (WANT): the tests it runs, and how many it holds. Those
 * the board had queued at it are started; with `fresh` (its first report to
 * this term) the others too (it ran them for an older term). When what it
 * holds differs from what the board has queued there in two reports running
 * (a shipment lost on the way), its next shipment is a fresh one. Returns
 * how many started. */
size_t shoal_leader_want(shoal_leader_t *self, const char *name, const shoal_item_t *running,
                         size_t running_count, size_t held, bool fresh, double now);
/* A member reporting to a new leader (HELD): the tests it holds, not started.
 * Each the board has not placed elsewhere is queued at it. Returns how many
 * were taken in. */
size_t shoal_leader_held(shoal_leader_t *self, const char *name, const shoal_item_t *items,
                         size_t count, double now);
/* A steal (MOVED, from victim or thief, possibly both, in any order): what is
 * still queued at victim moves to thief; what no one holds yet goes to thief;
 * the rest (started, done, elsewhere) stays. Returns how many moved. */
size_t shoal_leader_moved(shoal_leader_t *self, const char *victim, const char *thief,
                          const shoal_item_t *items, size_t count, double now);
/* Whether a shipment may be due to any member since the last call (a deal,
 * a requeue, a death, a move); clears it. */
bool shoal_leader_take_ship_due(shoal_leader_t *self);
/* What member `name` is to hold and has not been sent: items (*out, the
 * caller frees the array; ids borrowed) with predicted seconds, marked sent.
 * *fresh: the items are all it should hold (it came back, or this term is
 * new): what else it holds is not its. Returns the count (0 with *fresh:
 * send an empty fresh shipment). */
size_t shoal_leader_ship(shoal_leader_t *self, const char *name, bool *fresh, shoal_item_t **out);
/* Every alive member's load (LOADS items: node borrowed, seconds queued,
 * running, slots) into *out (the caller frees the array). Returns the count. */
size_t shoal_leader_loads(const shoal_leader_t *self, double now, shoal_item_t **out);
/* Nothing more may start: --maxfail was reached or the time budget is spent. */
bool shoal_leader_stopped(const shoal_leader_t *self, double now);
/* Results from a member. Returns how many were recorded as new. */
size_t shoal_leader_results(shoal_leader_t *self, const char *name, const shoal_item_t *items,
                            size_t count, double now);
/* Timers: the end of the rebuild window, the time budget (tests not started
 * by then are final: skipped, or failed if what did not start was a retry). */
void shoal_leader_tick(shoal_leader_t *self, double now);
bool shoal_leader_finished(const shoal_leader_t *self);
size_t shoal_leader_test_count(const shoal_leader_t *self);
const shoal_leader_result_t *shoal_leader_result(const shoal_leader_t *self, size_t test);
void shoal_leader_counts(const shoal_leader_t *self, uint32_t counts[SHOAL_COUNT_KINDS]);
/* True if tests became final since shoal_leader_take_progress last took them. */
bool shoal_leader_progress_pending(const shoal_leader_t *self);
/* Indices of tests that became final since the last call. */
size_t shoal_leader_take_progress(shoal_leader_t *self, size_t *out, size_t cap);
/* Dry run: the ordered plan per member. */
void shoal_leader_print_plan(const shoal_leader_t *self, FILE *out);

#endif
