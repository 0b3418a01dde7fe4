/* The session protocol: messages between the participants of a test session,
 * carried as gossip USER payloads (so sealed and authenticated by the mesh).
 *
 * Body: msgpack array [version, type, session, term, <type fields>]. Every
 * message carries the leader's term (QUERY and NOLEADER: 0, the term before
 * any leader); shoal_msg_admit says at which terms and from whom a receiver
 * takes each type (fencing).
 * Items are tests with their attempt number: results are keyed by (id,
 * attempt), so a duplicate merges harmlessly. The decoder checks every length
 * against caps before unpacking and copies everything out of msgpack's zone.
 *
 * Each type is one row of s_types in session_msg.c: its name, who sends it to
 * whom, the terms and senders a receiver takes it from (shoal_msg_admit), how
 * many fields it has, the shape of its items and the caps of its numbers.
 * Its fields:
 *
 *   LEADER    [.., tests_total]                          "I lead this term"
 *   WANT      [.., free_slots, fresh, collection digest, held, [running ids]]
 *               held: tests the member holds, not started (the leader ships a
 *               fresh share when it keeps differing from its board's)
 *   WORK      [.., fresh, [[version, id, attempt, avoid, predicted seconds]...]]
 *               avoid: for a retry, the member its last attempt failed on ("")
 *               the member's share, to hold; fresh: replaces what it holds
 *   RESULTS   [.., [[id, attempt, outcome, seconds, message, output]...]]
 *   ACK       [.., [[id, attempt]...]]
 *   PROGRESS  [.., [counts x6], [[id, attempt, outcome, seconds, node]...]]
 *   SUMMARY   [.., chunk, chunks, status, text, [[id, attempt, outcome,
 *               seconds, node, message, output, flaky, stolen]...]]
 *   DONE      [..]                                       "I have the whole summary"
 *   QUERY     [..]                                       "does anyone lead?" (term 0)
 *   NOLEADER  [..]                                       "I follow no one yet" (term 0)
 *   REFUSE    [.., tests_total, text, [ids]]             "your collection differs:
 *               you are not admitted"; tests_total is the leader's count, and the
 *               first refusal carries all its ids (over several messages) so the
 *               member can name the differences
 * Peer-to-peer stealing (members hold their shares; see DESIGN.md):
 *   STEAL     [.., free_slots, running seconds]          thief -> victim: "give me work"
 *   GIVE      [.., [[version, id, attempt, avoid, predicted seconds]...]] victim -> thief;
 *               empty: no; each test's version one more than the victim's
 *   MOVED     [.., victim, thief, echo, [[version, id, attempt]...]]  victim and thief
 *               -> leader
 *               ("these went from victim to thief"; the victim's until the
 *               leader echoes it back), leader -> victim (the echo)
 *   LOADS     [.., stopped, [[member, queued seconds, running seconds, slots]...]]
 *               leader -> all: who holds how much work; stopped: start nothing
 *               more (maxfail, budget), drop what you hold
 *   HELD      [.., [[version, id, attempt]...]]          member -> a new leader, before
 *               its first WANT: the tests it holds, not started
 */
#ifndef SHOAL_NODE_SESSION_MSG_H
#define SHOAL_NODE_SESSION_MSG_H

#include "gossip/gossip.h"
#include "node/adapter.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SHOAL_SESSION_VERSION 2

/* Caps. Each is what a sender can produce, so a message over any of them was
 * not made by shoal: shoal_msg_decode refuses it and shoal_msg_encode will not
 * make it (both -1). Strings are the exception: a longer one is truncated to
 * its cap, never refused (an id or a session id must not be empty). */
#define SHOAL_SESSION_ID_MAX 48 /* session id bytes */
/* SHOAL_TEST_ID_MAX (adapter.h): test id bytes; collections shorten longer ids */
#define SHOAL_MESSAGE_MAX 2048              /* failure message bytes carried */
#define SHOAL_OUTPUT_MAX 8192               /* output bytes carried per failed test */
#define SHOAL_DIGEST_MAX 64                 /* a collection digest's bytes */
#define SHOAL_NODE_NAME_MAX GOSSIP_NAME_MAX /* an item's node: a member's name */
#define SHOAL_ITEMS_MAX 20000               /* items in one message: the encoder stops there */
/* Tests in one session: LEADER's and REFUSE's tests_total, and the sum of
 * PROGRESS's counts (they count each test once). node/session.c keeps at most
 * S_REFUSE_IDS_MAX ids of a leader that refused it, the same 1,000,000 for
 * the same idea. A runner must not lead a larger collection: its LEADER could
 * not be encoded. */
#define SHOAL_SESSION_TESTS_MAX 1000000
/* A node's test processes: `--slots` takes 1..SHOAL_SLOTS_MAX (node/config.c). */
#define SHOAL_SLOTS_MAX 1024
/* WANT's and STEAL's free_slots: a member's idle slots. */
#define SHOAL_FREE_SLOTS_MAX SHOAL_SLOTS_MAX
/* `shoal run --retries` takes 0..SHOAL_RETRIES_MAX (node/cmd_run.c). */
#define SHOAL_RETRIES_MAX 100
/* An item's attempt counts from 0: the first run is attempt 0, the last retry
 * attempt `retries` (node/leader.c). */
#define SHOAL_ATTEMPT_MAX SHOAL_RETRIES_MAX
/* An item's seconds: finite, 0..SHOAL_SECONDS_MAX (31 years; what a
 * framework reports beyond either end is carried as that end). */
#define SHOAL_SECONDS_MAX 1e9
#define SHOAL_STATUS_MAX 255 /* SUMMARY's status: an exit status */
/* What the encoder counts for an item: its strings, each within its cap,
 * plus SHOAL_ITEM_OVERHEAD bytes (the rest of a SUMMARY item takes at most
 * 29); and for a message, SHOAL_FRAME_RESERVE bytes besides its items and its
 * text (the rest of a header takes at most 100). Items go into a frame while
 * they fit. */
#define SHOAL_ITEM_OVERHEAD 48
#define SHOAL_FRAME_RESERVE 512
#define SHOAL_ITEM_SIZE_MAX                                                                        \
    (SHOAL_ITEM_OVERHEAD + SHOAL_TEST_ID_MAX + SHOAL_NODE_NAME_MAX + SHOAL_MESSAGE_MAX +           \
     SHOAL_OUTPUT_MAX)
/* So a full frame of GOSSIP_PAYLOAD_MAX bytes carries at least this many
 * items, whatever they hold (5). */
#define SHOAL_FRAME_ITEMS_MIN                                                                      \
    ((GOSSIP_PAYLOAD_MAX - SHOAL_FRAME_RESERVE - SHOAL_MESSAGE_MAX) / SHOAL_ITEM_SIZE_MAX)
/* Chunks of one SUMMARY (200,000): a receiver keeps a flag per chunk. The
 * leader cuts the summary into frames of GOSSIP_PAYLOAD_MAX bytes, each
 * filled before the next starts, so every chunk but the last carries
 * SHOAL_FRAME_ITEMS_MIN items or more, of at most SHOAL_SESSION_TESTS_MAX; a
 * summary of no test is one empty chunk. (Cut into smaller frames, a large
 * summary could need more chunks: the encoder refuses them.) */
#define SHOAL_SUMMARY_CHUNKS_MAX                                                                   \
    ((SHOAL_SESSION_TESTS_MAX + SHOAL_FRAME_ITEMS_MIN - 1) / SHOAL_FRAME_ITEMS_MIN)

/* Append-only. */
typedef enum {
    SHOAL_MSG_LEADER = 1,
    SHOAL_MSG_WANT = 2,
    SHOAL_MSG_WORK = 3,
    SHOAL_MSG_RESULTS = 4,
    SHOAL_MSG_ACK = 5,
    SHOAL_MSG_PROGRESS = 6,
    SHOAL_MSG_SUMMARY = 7,
    SHOAL_MSG_DONE = 8,
    SHOAL_MSG_QUERY = 9,
    SHOAL_MSG_NOLEADER = 10,
    SHOAL_MSG_REFUSE = 11,
    SHOAL_MSG_STEAL = 12,
    SHOAL_MSG_GIVE = 13,
    SHOAL_MSG_MOVED = 14,
    SHOAL_MSG_LOADS = 15,
    SHOAL_MSG_HELD = 16,
    SHOAL_MSG_TYPE_LAST = 16
} shoal_msg_type_t;

typedef enum {
    SHOAL_COUNT_PASSED,
    SHOAL_COUNT_FAILED,
    SHOAL_COUNT_ERROR,
    SHOAL_COUNT_SKIPPED,
    SHOAL_COUNT_RUNNING,
    SHOAL_COUNT_PENDING,
    SHOAL_COUNT_KINDS
} shoal_count_t;

typedef struct {
    char *id;
    uint32_t attempt;
    uint32_t version; /* WORK, GIVE, MOVED, HELD: the test's placement (sched_board_version) */
    uint8_t outcome;  /* shoal_outcome_t */
    double seconds;
    char *node; /* where it ran; WORK, GIVE: the member a retry must avoid ("": none) */
    char *message;
    char *output;
    bool flaky;
    bool stolen;    /* SUMMARY: its member took it from another one's queue */
    double running; /* LOADS: seconds its started tests still need (seconds: queued) */
    uint32_t slots; /* LOADS: its slots (node: the member) */
} shoal_item_t;

typedef struct {
    shoal_msg_type_t type;
    char session[SHOAL_SESSION_ID_MAX + 1];
    uint32_t term;
    uint32_t tests_total;               /* LEADER, REFUSE */
    uint32_t free_slots;                /* WANT */
    uint32_t held;                      /* WANT: tests held, not started */
    bool fresh;                         /* WANT: first report to this term's leader;
                                           WORK: replaces what the member holds;
                                           LOADS: stopped, start nothing more;
                                           MOVED: the leader's echo to the victim */
    double seconds;                     /* STEAL: the thief's running work */
    char *victim, *thief;               /* MOVED */
    uint32_t counts[SHOAL_COUNT_KINDS]; /* PROGRESS */
    uint32_t chunk, chunks;             /* SUMMARY */
    int32_t status;                     /* SUMMARY: the exit status everyone uses */
    char *text;                         /* SUMMARY: a session-wide message, may be "";
                                           WANT: the member's collection digest;
                                           REFUSE: why */
    shoal_item_t *items;                /* owned after decode */
    size_t item_count;
} shoal_msg_t;

/* Why a receiver drops a message it decoded (shoal_msg_admit). */
typedef enum {
    SHOAL_MSG_ACCEPT = 0,
    SHOAL_MSG_DROP_OTHER_SESSION, /* another session's traffic */
    SHOAL_MSG_DROP_STRANGER,      /* from a node that takes no part in the session */
    SHOAL_MSG_DROP_OLD_TERM,      /* of a term before the receiver's (QUERY, NOLEADER:
                                     the receiver is past term 0) */
    SHOAL_MSG_DROP_NEW_TERM,      /* WORK of a term the receiver does not follow yet */
    SHOAL_MSG_DROP_NOT_LEADER,    /* a leader's message, from another node than the
                                     leader the receiver follows */
    SHOAL_MSG_DROP_OWN,           /* the receiver's own QUERY */
    SHOAL_MSG_VERDICT_LAST = SHOAL_MSG_DROP_OWN
} shoal_msg_verdict_t;

/* What the receiver of a message knows about itself and the sender. */
typedef struct {
    const char *session;   /* the receiver's session id */
    uint32_t term;         /* the receiver's term: 0 until it first follows a leader */
    bool from_participant; /* the sender takes part in the session */
    bool from_self;        /* the receiver sent it (to itself) */
    bool from_leader;      /* the sender is the leader the receiver follows; false while it
                              follows none */
    bool led;              /* the receiver follows a leader (maybe itself) */
} shoal_msg_receiver_t;

/* Encodes msg with items[first..] into buf, cap bytes (the caller's): as
 * many items as fit. Returns the length in bytes and sets *taken to the
 * number of items encoded (0 when msg's type has no list, or not even
 * items[first] fits: the caller must not loop on it). Returns -1, *taken
 * untouched, if msg's type is unknown, if a value breaks its cap (see above;
 * also an empty session or test id), or if not even the header fits: the
 * decoder would refuse what it could make. Reads msg and its items; keeps
 * nothing. */
long shoal_msg_encode(const shoal_msg_t *msg, size_t first, uint8_t *buf, size_t cap,
                      size_t *taken);
/* Encodes msg into buf[0..cap) frame after frame, as many as its items
 * need, handing each to fn(arg, frame, len). Returns the number of items
 * sent, or -1 when a frame could not be encoded (a value over a cap):
 * nothing more was sent then. */
typedef void(shoal_msg_frame_fn)(void *arg, const uint8_t *frame, size_t len);
long shoal_msg_encode_all(const shoal_msg_t *msg, uint8_t *buf, size_t cap, shoal_msg_frame_fn *fn,
                          void *arg);
/* Decodes len bytes of buf into *msg (overwritten). Returns 0: msg's text
 * and items are then the caller's, to free with shoal_msg_clear. Returns -1
 * for anything malformed: not msgpack, trailing bytes, another version, an
 * unknown type, a wrong number of fields, a value of the wrong kind or over
 * its cap; or out of memory. msg is then cleared (nothing to free). */
int shoal_msg_decode(const uint8_t *buf, size_t len, shoal_msg_t *msg);
/* Frees what decode allocated (text, items and their strings) and zeroes
 * msg: clearing again does nothing. */
void shoal_msg_clear(shoal_msg_t *msg);
/* Frees an item's strings and zeroes it. */
void shoal_item_clear(shoal_item_t *item);
/* The type's name ("leader", ...), or "?" for no type; a static string. */
const char *shoal_msg_type_str(shoal_msg_type_t type);
/* Whether the encoded message in buf[0..len) is of `session`, from its header
 * alone: 1 yes, 0 no, -1 when the header is not one shoal_msg_encode writes
 * (not a session message: the node counts it as unclaimed). Borrows both. */
int shoal_msg_peek_session(const uint8_t *buf, size_t len, const char *session);

/* Fencing: whether a receiver takes a decoded message, or why it drops it.
 * Pure: reads msg's type, session and term and *at; keeps nothing. In turn:
 *   - msg->session differs from at->session: SHOAL_MSG_DROP_OTHER_SESSION;
 *   - not at->from_participant: SHOAL_MSG_DROP_STRANGER;
 *   - the type's terms (DROP_OLD_TERM, DROP_NEW_TERM):
 *       LEADER, DONE: any term (the handler compares: a LEADER's claim is
 *         ranked against the leader followed; the leader counts a DONE only
 *         for its own term);
 *       WORK: at->term only;
 *       QUERY, NOLEADER: at->term only, and they are sent at term 0: so
 *         only while the receiver is at term 0;
 *       the others: at->term or newer;
 *   - the type's sender (DROP_NOT_LEADER, DROP_OWN):
 *       WORK, ACK, PROGRESS, REFUSE: at->from_leader;
 *       SUMMARY: at->from_leader, or anyone while not at->led;
 *       QUERY: not at->from_self;
 *       the others: anyone.
 * What the receiver's state decides (whether it leads, its phase) stays with
 * its handlers. msg must have been decoded (a valid type): asserted. */
shoal_msg_verdict_t shoal_msg_admit(const shoal_msg_t *msg, const shoal_msg_receiver_t *at);
/* The verdict's name for a log line ("old term", ...), or "?"; static. */
const char *shoal_msg_verdict_str(shoal_msg_verdict_t verdict);

#endif
