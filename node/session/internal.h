/* The session's roles, private to node/session.c and node/session/. Each role
 * is a file with its own state; it decides and returns what happened, and
 * node/session.c (the glue) acts on that: sends, logs, starts the next step.
 * No role reads a clock or reaches the mesh: time is an argument, and what a
 * role sends goes through a shoal_session_host_t, which unit tests replace
 * with a recorder (tests/unit/fake_host.c).
 *
 *   roster.c    participants, from the mesh's member changes; leader ranking
 *   election.c  gather window, first claim, newer terms, who takes over
 *   member.c    a member's side of the work: batch decisions, WANT / HELD,
 *               stealing (as thief and as victim), WORK, GIVE and LOADS intake
 *   lead.c      the leader's side: a term's board, heartbeats, PROGRESS and
 *               LOADS cadence, answers to WANT / HELD / MOVED / RESULTS, the end
 *   hold.c      the work a member holds: batches off the head, gifts off the tail
 *   results.c   our results until the leader acknowledges them; the deputy's copies
 *   summary.c   the leader's summary in numbered chunks, and its assembly
 *   status.c    `shoal status`: one session as this participant sees it
 *   host.c      sending a message over as many frames as its items need
 */
#ifndef SHOAL_NODE_SESSION_INTERNAL_H
#define SHOAL_NODE_SESSION_INTERNAL_H

#include "gossip/gossip.h"
#include "node/adapter.h"
#include "node/history.h"
#include "node/leader.h"
#include "node/session_msg.h"
#include "node/session_tag.h"
#include "sched/sched.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* ---------------------------------------------------------------- host */

/* The session's cadence, shared by the glue and the roles (ms). */
#define SHOAL_HEARTBEAT_MS 1000     /* LEADER and WANT heartbeats, resends of what is unconfirmed */
#define SHOAL_WANT_GAP_MS 100       /* a member short of work asks again after this */
#define SHOAL_STEAL_WAIT_MS 500     /* a thief asks the next victim when no answer came by then */
#define SHOAL_PROGRESS_MS 50        /* leader's PROGRESS, when a test finished... */
#define SHOAL_PROGRESS_IDLE_MS 1000 /* ...and at least this often */
#define SHOAL_LOADS_MS 200          /* leader's LOADS, when work moved; at least once a heartbeat */
#define SHOAL_DONE_WAIT_MS 10000    /* leader waits this long for everyone's DONE */

struct shoal_roster;

/* Where a role's frames go: the mesh (or the session's own queue for
 * itself). send_frame borrows buf. */
typedef struct {
    void (*send_frame)(void *ctx, const char *to, const uint8_t *buf, size_t len);
    void *ctx;
    uint8_t *buf;         /* GOSSIP_PAYLOAD_MAX bytes to encode into, owned by the host */
    bool said_unsendable; /* shoal_session_tell said once that a message could not be encoded */
} shoal_session_host_t;

/* Encodes msg for `session` and sends it to `to` over as many frames as its
 * items need. Returns the frames sent; 0 when a frame could not be encoded
 * (a value over the protocol's caps: a fault of ours), the rest unsent. */
size_t shoal_session_send(const shoal_session_host_t *host, const char *session, const char *to,
                          shoal_msg_t *msg);
/* As shoal_session_send, for a role that does not look at the outcome: a
 * message that cannot be encoded is logged, once per host. */
void shoal_session_tell(shoal_session_host_t *host, const char *session, const char *to,
                        shoal_msg_t *msg);
/* shoal_session_tell to every alive participant of roster; with `admitted`,
 * only to those the leader has not refused. */
void shoal_session_tell_all(shoal_session_host_t *host, const struct shoal_roster *roster,
                            shoal_msg_t *msg, bool admitted);

/* ---------------------------------------------------------------- roster */

#define SHOAL_PARTICIPANTS_MAX 1024

typedef struct {
    char name[GOSSIP_NAME_MAX + 1];
    unsigned slots;
    char tags[SHOAL_OWN_TAGS_MAX]; /* "k=v,k=v": its own, not session= */
    bool alive;                    /* alive or suspect in the mesh */
    bool done;                     /* sent DONE for the current summary */
    bool unled;                    /* answered our QUERY: it follows no leader yet */
    bool refused;                  /* leader: its collection differs from ours */
    unsigned finished;             /* tests it finished, as progress reports tell */
} shoal_participant_t;

typedef struct shoal_roster {
    char session[SHOAL_SESSION_ID_MAX + 1];
    char digest[65]; /* the runner's: a participant's session tag names its first hex digits */
    shoal_participant_t items[SHOAL_PARTICIPANTS_MAX];
    size_t count;
} shoal_roster_t;

/* What a member change meant for the session. */
typedef enum {
    SHOAL_ROSTER_NOT_OURS,     /* not in this session: nothing changed */
    SHOAL_ROSTER_OTHER_RUNNER, /* in it with another runner: ignored (said once) */
    SHOAL_ROSTER_FULL,         /* SHOAL_PARTICIPANTS_MAX known already: ignored */
    SHOAL_ROSTER_ARRIVED,      /* now alive; new, or back after being dead */
    SHOAL_ROSTER_LOST,         /* was alive, is not */
    SHOAL_ROSTER_SAME,         /* as alive as it was (slots and tags updated) */
} shoal_roster_change_t;

/* An empty roster of session (borrowed, copied) whose runner digest is
 * `digest`. */
void shoal_roster_init(shoal_roster_t *self, const char *session, const char *digest);
/* Takes a member change from the mesh. A member takes part when it carries
 * this session's tag with our runner (session_tag.h); one that drops the tag
 * is LOST as if dead. *out (may be NULL) is set to the participant for
 * ARRIVED, LOST and SAME, else NULL; it stays valid for the roster's life
 * (participants are never removed). */
shoal_roster_change_t shoal_roster_update(shoal_roster_t *self, const gossip_member_t *member,
                                          shoal_participant_t **out);
/* The participant called name, or NULL. */
shoal_participant_t *shoal_roster_find(shoal_roster_t *self, const char *name);
size_t shoal_roster_alive(const shoal_roster_t *self);
/* The best-ranked alive participant (rendezvous hash of session and name),
 * `except` (may be NULL) left out; NULL when there is none. Borrowed. */
const char *shoal_roster_ranked_first(const shoal_roster_t *self, const char *except);
/* "a, b, c": the alive participants' names, cut short with "..." to fit. */
void shoal_roster_alive_names(const shoal_roster_t *self, char *out, size_t size);

/* ---------------------------------------------------------------- election */

typedef struct {
    uint32_t term;
    char leader[GOSSIP_NAME_MAX + 1]; /* "" until known */
    int expect;                       /* --expect (0: none) */
    uint64_t gather_until;            /* the join window's end (ms) */
    bool window_closed;               /* closed once: stays closed */
    uint64_t claim_at;                /* 0, or when we may claim the first term */
} shoal_election_t;

/* What the glue should do now. */
typedef enum {
    SHOAL_ELECT_WAIT,     /* nothing: the window is open, or someone else leads */
    SHOAL_ELECT_ASK,      /* send QUERY to all and clear their `unled`: claim_at is set */
    SHOAL_ELECT_CLAIM,    /* lead the next term: 1 from the gather, term + 1 after a loss */
    SHOAL_ELECT_ADOPT,    /* follow (term, leader) as given */
    SHOAL_ELECT_TELL,     /* we lead: tell the claimant with a heartbeat */
    SHOAL_ELECT_DISOWNED, /* our leader is gone; another will take over */
} shoal_elect_action_t;

void shoal_election_init(shoal_election_t *self, int expect, uint64_t gather_until);
/* Is (term, leader) newer than what we follow? In the same term the better
 * rank wins. */
bool shoal_election_newer(const shoal_election_t *self, const char *session, uint32_t term,
                          const char *leader);
/* The join window and the first claim, while nobody leads: closes at
 * `expect` alive participants or at gather_until; then the best-ranked one
 * (if it is `me` and `collected`) asks whether anyone leads (ASK, once) and
 * claims once all others answered unled or claim_at passed (CLAIM, term 1).
 * `said_short` (may be NULL) is set when the window closed short of expect. */
shoal_elect_action_t shoal_election_gather(shoal_election_t *self, const shoal_roster_t *roster,
                                           const char *me, bool collected, uint64_t now,
                                           bool *said_short);
/* A LEADER message of (term, from): ADOPT if newer (unless it is us), TELL if
 * we lead (`leading`) and it is no newer, else WAIT. */
shoal_elect_action_t shoal_election_on_leader(const shoal_election_t *self, const char *session,
                                              const char *me, bool leading, const char *from,
                                              uint32_t term);
/* The leader we follow died: CLAIM (term + 1) if we are the best-ranked
 * survivor, else DISOWNED (the leader is forgotten until the next LEADER). */
shoal_elect_action_t shoal_election_leader_lost(shoal_election_t *self,
                                                const shoal_roster_t *roster, const char *me);
/* Follow (term, leader) from now on. */
void shoal_election_adopt(shoal_election_t *self, uint32_t term, const char *leader);

/* ---------------------------------------------------------------- hold */

/* Tests handed to a thief, until the leader echoes the move. */
typedef struct {
    char thief[GOSSIP_NAME_MAX + 1];
    shoal_item_t *items; /* id (owned), attempt, seconds */
    size_t count, cap;
} shoal_gift_t;

typedef struct {
    shoal_item_t *items; /* items[head..count): held, head first; id owned, seconds predicted */
    size_t head, count, cap;
    double work;             /* the predicted seconds of what is held */
    struct _zhashx_t *known; /* id -> version: held, started or given here */
    shoal_gift_t *gifts;
    size_t gift_count;
} shoal_hold_t;

/* 0, or -1 out of memory. */
int shoal_hold_init(shoal_hold_t *self);
void shoal_hold_clear(shoal_hold_t *self);
size_t shoal_hold_count(const shoal_hold_t *self);
/* The predicted seconds held. */
double shoal_hold_work(const shoal_hold_t *self);
/* A shipment (WORK) or a gift (GIVE): msg's items move in at the tail, but
 * only at a version newer than the one they were held, started or given at
 * here. `fresh` drops what is held first. Returns how many came in (0 as
 * well when out of memory: the leader ships again). */
size_t shoal_hold_take(shoal_hold_t *self, shoal_msg_t *msg, bool fresh);
/* Drops everything held (the session stopped; a fresh shipment). Returns how
 * many. */
size_t shoal_hold_drop(shoal_hold_t *self);
/* The next batch's length: off the head, near `target` seconds, at most max
 * tests, a retry alone (sched_batch_split); 0 when nothing is held. */
size_t shoal_hold_batch(const shoal_hold_t *self, double target, size_t max);
/* Moves the first n held items to out[0..n) (ids to the caller); they stay
 * known as started. Returns how many. */
size_t shoal_hold_pop(shoal_hold_t *self, size_t n, shoal_item_t *out);
/* A started test came back unrun: a shipment may bring it again. */
void shoal_hold_forget(shoal_hold_t *self, const char *id);
/* A thief asks: the victim's split of what it holds (sched_steal_split over
 * the tests can_run says the thief can run, a retry never to the member it
 * failed on: item.node), removed, each one version on, and kept as a gift
 * until confirmed. Returns the gift (borrowed, valid until the next call), or
 * NULL when nothing is worth giving. */
const shoal_gift_t *shoal_hold_give(shoal_hold_t *self, const char *thief,
                                    const sched_steal_sides_t *sides,
                                    bool (*can_run)(void *ctx, const shoal_item_t *item),
                                    void *ctx);
/* The leader echoed a move (MOVED of ours): that gift is settled. */
void shoal_hold_confirmed(shoal_hold_t *self, const shoal_msg_t *moved);
/* What is held, as items with borrowed ids and attempts (HELD), in *out (the
 * caller frees the array). Returns the count. */
size_t shoal_hold_list(const shoal_hold_t *self, shoal_item_t **out);

/* ---------------------------------------------------------------- results */

typedef struct {
    shoal_item_t item; /* owned */
    bool acked;
} shoal_kept_result_t;

typedef struct {
    shoal_kept_result_t *items;
    size_t count, cap;
    size_t unacked;                   /* items[0..unacked) are all acknowledged */
    char deputy[GOSSIP_NAME_MAX + 1]; /* while we lead: who holds our copies... */
    size_t replicated;                /* ...of items[0..replicated) */
} shoal_results_t;

/* Keeps item (its strings move in; *item is zeroed). -1 when out of memory
 * (item untouched). */
int shoal_results_add(shoal_results_t *self, shoal_item_t *item);
/* Sends RESULTS with every unacknowledged result to leader, in term; with a
 * deputy (NULL: none), also copies to it what it has not had (everything,
 * when the deputy changed). Returns how many went to the leader. */
size_t shoal_results_send(shoal_results_t *self, const shoal_session_host_t *host,
                          const char *session, uint32_t term, const char *leader,
                          const char *deputy);
/* The leader acknowledged ack's (id, attempt) items. */
void shoal_results_ack(shoal_results_t *self, const shoal_msg_t *ack);
/* A new leader: every result is to be reported again. */
void shoal_results_unack_all(shoal_results_t *self);
void shoal_results_clear(shoal_results_t *self);

/* As a deputy: the copies of one leader's own results. */
typedef struct {
    char of[GOSSIP_NAME_MAX + 1]; /* whose */
    shoal_item_t *items;
    size_t count, cap;
} shoal_replicas_t;

/* Keeps msg's items (moved out) as copies of from's; copies of another
 * leader are dropped first. */
void shoal_replicas_keep(shoal_replicas_t *self, const char *from, shoal_msg_t *msg);
void shoal_replicas_clear(shoal_replicas_t *self);

/* ---------------------------------------------------------------- summary */

/* Sends the summary (type SUMMARY, its term, status and text set; items the
 * final results) to `to` in numbered chunks of one frame each. Returns the
 * number of chunks, or -1 (nothing sent) when out of memory or when it
 * would need more than SHOAL_SUMMARY_CHUNKS_MAX (more results than a session
 * has tests). */
long shoal_summary_send(const shoal_session_host_t *host, const char *session, const char *to,
                        shoal_msg_t *msg);

/* The summary as a participant assembles it. */
typedef struct {
    shoal_item_t *items; /* owned */
    size_t count, cap;
    bool *seen; /* per chunk */
    uint32_t chunks, chunks_seen, term;
    int32_t status;
    char text[SHOAL_MESSAGE_MAX + 1];
} shoal_summary_in_t;

typedef enum {
    SHOAL_SUMMARY_PARTIAL,   /* kept; more chunks to come */
    SHOAL_SUMMARY_COMPLETE,  /* this chunk completed it: send DONE */
    SHOAL_SUMMARY_DUPLICATE, /* a chunk we have: ignored */
    SHOAL_SUMMARY_REFUSED,   /* more chunks than a sender makes, or out of memory */
} shoal_summary_add_t;

/* Takes one SUMMARY chunk (its items move out of msg). A chunk of another
 * term, or of another chunk count, replaces what was assembled. */
shoal_summary_add_t shoal_summary_in_add(shoal_summary_in_t *self, shoal_msg_t *msg);
void shoal_summary_in_clear(shoal_summary_in_t *self);
/* Moves msg's items to the end of (*items)[0..*count), growing *cap. False
 * (nothing moved) when out of memory. */
bool shoal_items_take(shoal_item_t **items, size_t *count, size_t *cap, shoal_msg_t *msg);
void shoal_items_free(shoal_item_t **items, size_t *count, size_t *cap);

/* ---------------------------------------------------------------- status */

/* One session as `shoal status` shows it. */
typedef struct {
    const char *session;
    const char *phase; /* "gathering", "running", "done" */
    const char *leader;
    uint32_t term;
    const uint32_t *counts; /* SHOAL_COUNT_KINDS of them */
    const shoal_roster_t *roster;
    const char *me;
    unsigned running_here;
} shoal_status_view_t;

/* Prints the view: one JSON object (no newline), or text lines. */
void shoal_status_print(FILE *out, bool json, const shoal_status_view_t *view);

/* ---------------------------------------------------------------- member */

/* A batch's work is at least this many of its framework's invocation costs:
 * at most a fifth of a slot's time goes to starting the framework. */
#define SHOAL_FLOOR_INVOCATIONS 4.0
#define SHOAL_BATCH_MAX 1024      /* tests cut into one batch, at most */
#define SHOAL_OBSERVED_MIN 8      /* results before they rescale the batch target */
#define SHOAL_STEAL_LATENCY 0.005 /* seconds from asking to the stolen tests arriving */

/* What a member works with and does not own: borrowed for its life. */
typedef struct {
    shoal_session_host_t *host;
    const char *session;
    const char *name;                /* this participant */
    const shoal_election_t *elect;   /* whom it follows, in which term */
    shoal_roster_t *roster;          /* who is alive; a thief's slots and tags */
    const shoal_collection_t *local; /* what this runner collected: what it may run (I3) */
    const char *digest;              /* that collection's digest, "" until collected (WANT) */
    shoal_results_t *results;        /* where a test rejected or not started gets its result */
    unsigned share;                  /* slots taking batches, at first */
    double batch_seconds;            /* --batch-seconds: a batch's aim */
    double invocation_seconds;       /* what one start of the framework costs */
} shoal_member_config_t;

typedef struct {
    shoal_member_config_t config;
    unsigned share;      /* the first `share` slots take batches (set_share) */
    shoal_hold_t hold;   /* our share of the work: dealt or stolen, not started */
    bool held_due;       /* tell a new leader what we hold before our first WANT */
    bool fresh;          /* the next WANT is the first to this term's leader */
    bool want_now;       /* something started or ended: WANT within SHOAL_WANT_GAP_MS */
    uint64_t last_want;  /* when the last WANT went (ms) */
    uint64_t next_gifts; /* when unconfirmed gifts are told again (ms) */
    shoal_item_t *loads; /* the last LOADS: who holds how much (node, seconds owned) */
    size_t load_count, load_cap;
    bool stopped;       /* the leader said: start nothing more */
    bool dry;           /* nothing held, and no peer holds any */
    bool ungrouped;     /* work came in since the held share was grouped by file */
    bool steal_pending; /* a STEAL is out... */
    char steal_victim[GOSSIP_NAME_MAX + 1]; /* ...to it */
    uint64_t steal_until;                   /* ...answered by then (ms), or we ask another */
    size_t asked[64];                       /* loads[] that said no since the last LOADS */
    size_t asked_count;
    sched_rng_t rng;
    double observed, predicted; /* seconds our finished batches took, and were predicted */
    size_t observed_count;      /* ...tests in them */
} shoal_member_t;

/* What the member's slots are doing, as the glue that runs them sees it. */
typedef struct {
    size_t busy;                 /* slots running a batch */
    double running_work;         /* seconds our started batches still need, as predicted */
    const shoal_item_t *running; /* the tests started (WANT: id and attempt, borrowed) */
    size_t running_count;
} shoal_member_slots_t;

/* What a member's stealing did this turn. */
typedef enum {
    SHOAL_STEAL_IDLE,    /* nothing to do: it holds work, its slots are busy, or it stopped */
    SHOAL_STEAL_WAITING, /* a STEAL is out and may still be answered */
    SHOAL_STEAL_ASKED,   /* a STEAL went to steal_victim (the one before, if any, timed out) */
    SHOAL_STEAL_NONE,    /* no peer worth asking: `dry` when none holds anything */
} shoal_steal_t;

/* Copies config (its pointers stay borrowed). 0, or -1 out of memory. */
int shoal_member_init(shoal_member_t *self, const shoal_member_config_t *config);
void shoal_member_clear(shoal_member_t *self);
/* A new leader (or term): it hears what we hold (HELD and our unconfirmed
 * gifts) and a fresh WANT on the next tick. */
void shoal_member_adopt(shoal_member_t *self);
/* How many slots take batches from now on (at least 1: the caller clamps). */
void shoal_member_set_share(shoal_member_t *self, unsigned share);
/* Keeps one of our results (its strings move in). An unrun test is
 * forgotten by the hold, so a shipment may bring it again. Out of memory:
 * logged, the result is lost and freed. */
void shoal_member_result(shoal_member_t *self, shoal_item_t *item);
/* A result for a test that never reached a runner (strings copied). */
void shoal_member_result_now(shoal_member_t *self, const char *id, uint32_t attempt,
                             shoal_outcome_t outcome, const char *message);
/* I3: the network names tests, never commands. True (logged, and the test
 * gets an ERROR result) when item (from `from`) is not a runnable test of
 * the local collection; false when it may run. */
bool shoal_member_rejects(shoal_member_t *self, const char *from, const shoal_item_t *item);
/* A batch's target, in predicted seconds: --batch-seconds, but no more than a
 * slot's share of what we hold, nor half a slot's share of what the session
 * holds (the last LOADS); never below SHOAL_FLOOR_INVOCATIONS framework
 * starts. After SHOAL_OBSERVED_MIN results, rescaled by how far predictions
 * ran from the seconds observed. */
double shoal_member_batch_target(const shoal_member_t *self);
/* Whether idle slot number `slot` starts a batch now; `holds_back`: its
 * worker keeps a test back. *take: the batch also takes tests off the head
 * (else it only flushes the test held back: nothing more for us, we are
 * stopped, or the slot is beyond our share). */
bool shoal_member_slot_due(const shoal_member_t *self, unsigned slot, bool holds_back, bool *take);
/* Cuts the next batch off the head (shoal_hold_batch at the batch target,
 * at most max tests, or SHOAL_BATCH_MAX when max is 0 or above it) into
 * *out (the caller frees the array and the items' strings). Returns the
 * count; 0 (*out NULL) when nothing is held or out of memory. */
size_t shoal_member_cut(shoal_member_t *self, size_t max, shoal_item_t **out);
/* A batch of `tests` ended: it took `took` seconds and was predicted to take
 * `predicted`. Something ended: the leader hears soon. */
void shoal_member_batch_done(shoal_member_t *self, double took, double predicted, size_t tests);
/* What is due at `now` (ms), with a leader to report to: HELD and the gifts
 * for a new leader, gifts not echoed every SHOAL_HEARTBEAT_MS, WANT when
 * something started or ended (SHOAL_WANT_GAP_MS apart), when fresh, and at
 * least every SHOAL_HEARTBEAT_MS; then, if may_steal (collected, admitted,
 * not done), stealing: with nothing held and a slot free, STEAL from the
 * peer of the last LOADS the scheduler picks (sched_steal_pick: in
 * proportion to announced work, none that said no since), one at a time,
 * the next when no GIVE came in SHOAL_STEAL_WAIT_MS. Returns what stealing
 * did. */
shoal_steal_t shoal_member_tick(shoal_member_t *self, const shoal_member_slots_t *slots,
                                bool may_steal, uint64_t now);
/* WORK from the leader: unrunnable tests rejected (shoal_member_rejects),
 * the rest held (at a newer version only; `fresh` drops what was held).
 * Returns how many came in. */
size_t shoal_member_on_work(shoal_member_t *self, const char *from, shoal_msg_t *msg);
/* LOADS from the leader: kept (items moved out) for stealing; everyone may be
 * asked again. With `fresh` (--maxfail or the budget): stopped, and what is
 * held is dropped (the leader reports the rest). Returns true when this
 * LOADS stopped us. */
bool shoal_member_on_loads(shoal_member_t *self, shoal_msg_t *msg);
/* A thief's STEAL (msg->seconds: what it still runs): GIVE it our split of
 * what we hold (shoal_hold_give; none when stopped or from a stranger) and
 * tell the leader the move (MOVED) until it echoes. running_work: seconds
 * our own started batches still need. Returns how many tests were given. */
size_t shoal_member_on_steal(shoal_member_t *self, const char *from, const shoal_msg_t *msg,
                             double running_work, uint64_t now);
/* A victim's GIVE: the pending STEAL is answered. An empty one is a no (the
 * victim is not asked again until the next LOADS); else the runnable tests
 * are held (a gift that came after we gave up on it as well) and the move
 * reported to the leader (MOVED). Returns how many came in. */
size_t shoal_member_on_give(shoal_member_t *self, const char *from, shoal_msg_t *msg);
/* The leader's echo of a MOVED we sent as the victim: that gift is settled. */
void shoal_member_on_echo(shoal_member_t *self, const char *from, const shoal_msg_t *msg);

/* ---------------------------------------------------------------- lead */

/* What a leader works with and does not own: borrowed for its life. */
typedef struct {
    shoal_session_host_t *host;
    const char *session;
    const char *name;                /* this participant: the leader */
    const shoal_election_t *elect;   /* the term we lead */
    shoal_roster_t *roster;          /* participants: the lead marks `refused` and `done` */
    const shoal_collection_t *local; /* our collection: the plan, and what admits a member */
    const char *digest;              /* that collection's digest */
} shoal_lead_config_t;

typedef struct {
    shoal_lead_config_t config;
    shoal_leader_t *board; /* the session's board (owned), NULL unless we lead */
    size_t coming;         /* participants on their way (set by the glue each tick) */
    char coming_tags[SHOAL_COMING_MAX][SHOAL_OWN_TAGS_MAX]; /* of the first of them */
    const char
        *coming_each[SHOAL_COMING_MAX]; /* coming_tags[i], set once: the board borrows them */
    uint64_t next_heartbeat, next_progress, next_loads; /* ms */
    bool loads_due;                            /* work moved or finished since the last LOADS */
    bool told_stop;                            /* a LOADS said nothing more starts */
    bool summary_ready;                        /* finished, and the summary built */
    bool summary_too_large;                    /* said once that it cannot be sent */
    uint64_t summary_started, summary_sent_at; /* ms */
    shoal_item_t *summary_out;                 /* the final results (strings borrowed from board) */
    size_t summary_out_count;
    int status;                       /* the summary's: SHOAL_RUN_* */
    char text[SHOAL_MESSAGE_MAX + 1]; /* ...and its text (why, whom it left out) */
} shoal_lead_t;

/* What the plan of a term is made of. */
typedef struct {
    uint32_t term;
    const char *failed; /* why this runner could not collect; NULL: collected */
    sched_strategy_t strategy;
    unsigned retries;
    double time_limit; /* seconds; 0: none */
    const shoal_history_entry_t *history;
    size_t history_count;
    shoal_replicas_t *replicas; /* the dead leader's copies (fed in, then cleared); may be NULL */
    bool dry_run;
} shoal_lead_plan_t;

typedef enum {
    SHOAL_LEAD_LEADING, /* the board is built; LEADER went to every participant */
    SHOAL_LEAD_PLANNED, /* a dry run: the board is built, the summary ready; print the plan */
    SHOAL_LEAD_FAILED,  /* no plan (no collection, out of memory): the summary says why */
} shoal_lead_take_t;

/* What shoal_lead_tick did, as bits. */
enum {
    SHOAL_LEAD_SHIPPED = 1,    /* WORK to every admitted participant that had some due */
    SHOAL_LEAD_PROGRESS = 2,   /* PROGRESS to every participant */
    SHOAL_LEAD_LOADS = 4,      /* LOADS to every admitted participant */
    SHOAL_LEAD_FINISHED = 8,   /* every test is final: the summary is ready */
    SHOAL_LEAD_HEARTBEAT = 16, /* LEADER to every participant */
    SHOAL_LEAD_SUMMARY = 32,   /* SUMMARY to every participant without DONE */
};

void shoal_lead_init(shoal_lead_t *self, const shoal_lead_config_t *config);
/* Frees the board and the summary. */
void shoal_lead_clear(shoal_lead_t *self);
/* Another leads: the board is dropped, and with it the summary. */
void shoal_lead_step_down(shoal_lead_t *self);
/* We lead plan->term (elect already says so), from `now` (ms): the board
 * (owned by self until step_down or clear) is built from our collection,
 * the roster and history; a takeover (term > 1) feeds it the copies of the
 * dead leader's results. Logs the term and the plan's size. Returns
 * LEADING, PLANNED (dry run) or FAILED (see shoal_lead_take_t): in the two
 * last, the summary is ready and goes out on the next ticks. */
shoal_lead_take_t shoal_lead_take(shoal_lead_t *self, const shoal_lead_plan_t *plan, uint64_t now);
/* LEADER with the board's test count, to `to`, or to every alive
 * participant when to is NULL. */
void shoal_lead_heartbeat(shoal_lead_t *self, const char *to);
/* What is due at `now` (ms) while we lead: WORK where shipments are due,
 * PROGRESS at most every SHOAL_PROGRESS_MS (times one per 8 participants)
 * when a test became final and at least every SHOAL_PROGRESS_IDLE_MS, LOADS
 * at most every SHOAL_LOADS_MS when work moved and at least every
 * SHOAL_HEARTBEAT_MS more, LEADER every SHOAL_HEARTBEAT_MS; once finished
 * the summary, to whoever has not answered DONE, every SHOAL_HEARTBEAT_MS.
 * Returns SHOAL_LEAD_* bits; 0 when we do not lead. */
unsigned shoal_lead_tick(shoal_lead_t *self, uint64_t now);
/* The summary: its status (SHOAL_RUN_*; PASSED turns FAILED on a failure,
 * NO_TESTS when our collection had nothing to run) and text, the refused
 * participants named; every participant is to answer DONE from `now` (ms). */
void shoal_lead_finish(shoal_lead_t *self, int status, const char *text, uint64_t now);
/* Whether we may leave: we do not lead, or the summary is ready and every
 * alive participant answered DONE, or SHOAL_DONE_WAIT_MS passed since. */
bool shoal_lead_released(const shoal_lead_t *self, uint64_t now);
/* A participant arrived, left or changed (from the roster): on the board; a
 * newcomer (arrived) learns at once who leads. */
void shoal_lead_member(shoal_lead_t *self, const shoal_participant_t *p, bool arrived,
                       uint64_t now);

typedef enum {
    SHOAL_LEAD_IGNORED,  /* we do not lead, or the summary is ready */
    SHOAL_LEAD_REFUSED,  /* its collection differs from ours: REFUSE went back */
    SHOAL_LEAD_ANSWERED, /* on the board; what it is due went back */
} shoal_lead_answer_t;

/* A member's WANT: admitted when its collection digest (msg->text) is ours
 * (the first refusal carries our ids, so it can name what differs); then
 * its report goes on the board and WORK goes back when due. */
shoal_lead_answer_t shoal_lead_on_want(shoal_lead_t *self, const char *from, const shoal_msg_t *msg,
                                       uint64_t now);
/* A member's HELD to this term. Returns how many tests the board took in. */
size_t shoal_lead_on_held(shoal_lead_t *self, const char *from, const shoal_msg_t *msg,
                          uint64_t now);
/* A MOVED report (not an echo): on the board, and echoed (fresh) to its
 * sender when that is the victim. Returns how many moved; 0 also when we do
 * not lead (nothing echoed: the victim tells the next leader). */
size_t shoal_lead_on_moved(shoal_lead_t *self, const char *from, shoal_msg_t *msg, uint64_t now);
/* A member's RESULTS: recorded unless it was refused or the summary is
 * ready, and acknowledged all (what was not recorded was a duplicate).
 * Returns how many were recorded as new. */
size_t shoal_lead_on_results(shoal_lead_t *self, const char *from, const shoal_msg_t *msg,
                             uint64_t now);
/* A participant's DONE for the summary of `term`. */
void shoal_lead_on_done(shoal_lead_t *self, const char *from, uint32_t term);

#endif
