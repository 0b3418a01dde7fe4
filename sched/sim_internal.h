/* sched/sim_internal.h: what the simulator's two files share and nobody else
 * includes: the instance, its event heap and each member's state. sim.c builds
 * the instance, runs the loop and the central steal (the leader decides);
 * sim_p2p.c runs the peer-to-peer mode (members hold their queues and steal
 * from each other; the leader's board hears of it). Invariant: events run in
 * (time, sequence) order, so a seed gives one result.
 */
#ifndef SHOAL_SCHED_SIM_INTERNAL_H
#define SHOAL_SCHED_SIM_INTERNAL_H

#include "sched/internal.h"

enum {
    SCHED__EV_DONE,    /* a test ends; arg: test << 1 | last of its batch */
    SCHED__EV_STEAL,   /* central: stolen tests reach the thief */
    SCHED__EV_RETRY,   /* central: an idle member asks the leader again */
    SCHED__EV_KILL,    /* a member dies */
    SCHED__EV_BUDGET,  /* the time budget runs out */
    SCHED__EV_PUBLISH, /* p2p: every member announces its load */
    SCHED__EV_ASK,     /* p2p: a thief's request reaches member (the victim); arg: thief */
    SCHED__EV_ANSWER,  /* p2p: the victim's answer reaches member; arg: parcel + 1, 0 for no */
    SCHED__EV_REPORT,  /* p2p: a steal's report reaches the leader; arg: parcel */
    SCHED__EV_DECLARE, /* p2p: the leader declares member dead */
};

#define SCHED__SIM_ASKS 8 /* p2p: asks per thief per progress round */

typedef struct sched__sim_event {
    double time;
    uint64_t seq;
    uint64_t arg;
    uint32_t kind;
    uint32_t member;
} sched__sim_event_t;

typedef struct sched__sim_events {
    sched__sim_event_t *items; /* a binary heap */
    size_t count, cap;
    uint64_t seq;
} sched__sim_events_t;

typedef struct sched__sim_node {
    unsigned free_slots;
    bool alive;
    bool steal_pending; /* central: stolen tests on the way; p2p: an ask out */
    bool retry_pending;
    double retry_wait;
    double busy; /* slot-seconds dispatched */
    double died_at;
    sched_steal_t steal;
    /* p2p: the member's own queue q[head, tail) and what it runs */
    size_t *q;
    size_t head, tail, cap;
    double queued; /* predicted seconds in q */
    size_t running;
    double running_pred, running_start;
    size_t asked[SCHED__SIM_ASKS]; /* peers that said no this round */
    size_t asked_count;
    double ask_running; /* running seconds it told its victim */
} sched__sim_node_t;

/* p2p: tests a victim handed over, alive until both reports are in. */
typedef struct sched__sim_parcel {
    uint32_t victim, thief;
    size_t *tests;
    uint32_t *versions; /* each test's version once handed over */
    size_t count;
    unsigned refs; /* reports still to come */
} sched__sim_parcel_t;

struct sched_sim {
    sched_sim_config_t cfg;
    sched_sim_kill_t *kills;
    sched_suite_t *suite;
    sched_board_t *board;
    double *truth;
    size_t test_count;
    double lower_bound;
    double longest;
    sched__sim_node_t *nodes;
    sched__sim_events_t events;
    sched_sim_result_t *res;
    double last_done;
    /* p2p */
    uint32_t *rank;           /* run order of the tests (NULL for the file strategy) */
    double *started;          /* per test, when its member started it */
    uint32_t *version;        /* per test, its holder's version (sched_board_moved) */
    sched_peer_load_t *loads; /* as last announced */
    sched_rng_t rng;          /* thieves' draws of a victim */
    sched__sim_parcel_t *parcels;
    size_t parcel_count, parcel_cap;
    bool over_budget;
    bool broken; /* the board disagreed with a member: a bug */
};

/* Queues an event; -1 on out of memory. */
int sched__sim_push(sched_sim_t *self, double time, uint32_t kind, uint32_t member, uint64_t arg);
/* Member m runs batch[0..n) (already started on its queue) on one free slot. */
void sched__sim_run_batch(sched_sim_t *self, size_t m, const size_t *batch, size_t n, double now);

/* p2p: members take their dealt queues and the first loads are announced. */
int sched__sim_p2p_begin(sched_sim_t *self);
/* p2p: member m fills its free slots from its own queue, else asks a peer. */
void sched__sim_p2p_fill(sched_sim_t *self, size_t m, double now);
/* p2p: test of member m ended (the board heard it already). */
void sched__sim_p2p_ended(sched_sim_t *self, size_t m, size_t test);
/* p2p: member m dies now; the leader declares it later. */
void sched__sim_p2p_kill(sched_sim_t *self, size_t m, double now);
/* p2p: the budget ran out: members drop what they hold queued. */
void sched__sim_p2p_budget(sched_sim_t *self);
/* p2p: the events only this mode has. */
void sched__sim_p2p_dispatch(sched_sim_t *self, const sched__sim_event_t *ev);
/* p2p: frees what the mode allocated (from sched_sim_destroy only). */
void sched__sim_p2p_free(sched_sim_t *self);

#endif
