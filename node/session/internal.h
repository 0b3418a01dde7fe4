/* The session's roles, private to node/session.c and node/session/. Each role
 * is a file with its own state; it decides and returns what happened, and
 * node/session.c (the glue) acts on that: sends, logs, starts the next step.
 * No role reads a clock or reaches the mesh: time is an argument, and what a
 * role sends goes through a shoal_session_host_t, which unit tests replace
 * with a recorder (tests/unit/fake_host.c).
 *
 *   roster.c    participants, from the mesh's member changes; leader ranking
 *   election.c  gather window, first claim, newer terms, who takes over
 *   hold.c      the work a member holds: batches off the head, gifts off the tail
 *   results.c   our results until the leader acknowledges them; the deputy's copies
 *   summary.c   the leader's summary in numbered chunks, and its assembly
 *   status.c    `shoal status`: one session as this participant sees it
 *   host.c      sending a message over as many frames as its items need
 */
#ifndef SHOAL_NODE_SESSION_INTERNAL_H
#define SHOAL_NODE_SESSION_INTERNAL_H

#include "gossip/gossip.h"
#include "node/session_msg.h"
#include "sched/sched.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* ---------------------------------------------------------------- host */

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
    char tags[GOSSIP_TAGS_MAX * (GOSSIP_TAG_MAX + 1)]; /* "k=v,k=v": its own, not session= */
    bool alive;                                        /* alive or suspect in the mesh */
    bool done;                                         /* sent DONE for the current summary */
    bool unled;        /* answered our QUERY: it follows no leader yet */
    bool refused;      /* leader: its collection differs from ours */
    unsigned finished; /* tests it finished, as progress reports tell */
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

#endif
