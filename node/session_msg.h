/* The session protocol: messages between the participants of a test session,
 * carried as gossip USER payloads (so sealed and authenticated by the mesh).
 *
 * Body: msgpack array [version, type, session, term, <type fields>]. Every
 * message carries the leader's term; receivers ignore older terms (fencing).
 * Items are tests with their attempt number: results are keyed by (id,
 * attempt), so a duplicate merges harmlessly. The decoder checks every length
 * against caps before unpacking and copies everything out of msgpack's zone.
 *
 *   LEADER    leader -> all      [.., tests_total]           "I lead this term"
 *   WANT      member -> leader   [.., free_slots, fresh, collection digest, [running ids]]
 *   WORK      leader -> member   [.., [[batch, id, attempt]...]]
 *   RESULTS   member -> leader   [.., [[id, attempt, outcome, seconds, message, output]...]]
 *   ACK       leader -> member   [.., [[id, attempt]...]]
 *   PROGRESS  leader -> all      [.., [counts x6], [[id, attempt, outcome, seconds, node]...]]
 *   SUMMARY   leader -> all      [.., chunk, chunks, status, text, [[id, attempt, outcome,
 *                                  seconds, node, message, output, flaky, stolen]...]]
 *   DONE      member -> leader   [..]                        "I have the whole summary"
 *   QUERY     would-be first leader -> all   [..]   "does anyone lead?" (term 0)
 *   NOLEADER  participant -> asker [..]   "I follow no one yet" (only at term 0)
 *   REFUSE    leader -> member   [.., tests_total, text, [ids]]   "your collection differs:
 *                                  you are not admitted"; tests_total is the leader's
 *                                  count, and the first refusal carries all its ids
 *                                  (over several messages) so the member can name
 *                                  the differences
 */
#ifndef SHOAL_NODE_SESSION_MSG_H
#define SHOAL_NODE_SESSION_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SHOAL_SESSION_VERSION 1
#define SHOAL_SESSION_ID_MAX 48 /* session id bytes */
#define SHOAL_TEST_ID_MAX 2048  /* test id bytes */
#define SHOAL_MESSAGE_MAX 2048  /* failure message bytes carried */
#define SHOAL_OUTPUT_MAX 8192   /* output bytes carried per failed test */
#define SHOAL_ITEMS_MAX 20000   /* items in one message */
#define SHOAL_DIGEST_MAX 64     /* a collection digest's bytes */

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
    SHOAL_MSG_TYPE_LAST = 11
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
    uint32_t batch;
    uint8_t outcome; /* shoal_outcome_t */
    double seconds;
    char *node;
    char *message;
    char *output;
    bool flaky;
    bool stolen; /* SUMMARY: its member took it from another one's queue */
} shoal_item_t;

typedef struct {
    shoal_msg_type_t type;
    char session[SHOAL_SESSION_ID_MAX + 1];
    uint32_t term;
    uint32_t tests_total;               /* LEADER, REFUSE */
    uint32_t free_slots;                /* WANT */
    bool fresh;                         /* WANT: first report to this term's leader */
    uint32_t counts[SHOAL_COUNT_KINDS]; /* PROGRESS */
    uint32_t chunk, chunks;             /* SUMMARY */
    int32_t status;                     /* SUMMARY: the exit status everyone uses */
    char *text;                         /* SUMMARY: a session-wide message, may be "";
                                           WANT: the member's collection digest;
                                           REFUSE: why */
    shoal_item_t *items;                /* owned after decode */
    size_t item_count;
} shoal_msg_t;

/* Encodes msg with items[first..] into buf: as many items as fit in cap.
 * Returns the encoded length and sets *taken to the number of items encoded;
 * -1 if not even the header fits. */
long shoal_msg_encode(const shoal_msg_t *msg, size_t first, uint8_t *buf, size_t cap,
                      size_t *taken);
/* Encodes msg into buf[0..cap) frame after frame, as many as its items
 * need, handing each to fn(arg, frame, len). */
typedef void(shoal_msg_frame_fn)(void *arg, const uint8_t *frame, size_t len);
void shoal_msg_encode_all(const shoal_msg_t *msg, uint8_t *buf, size_t cap, shoal_msg_frame_fn *fn,
                          void *arg);
/* Decodes; 0, or -1 for anything malformed (msg is then cleared). */
int shoal_msg_decode(const uint8_t *buf, size_t len, shoal_msg_t *msg);
/* Frees what decode allocated. */
void shoal_msg_clear(shoal_msg_t *msg);
void shoal_item_clear(shoal_item_t *item);
const char *shoal_msg_type_str(shoal_msg_type_t type);
/* Whether the encoded message in buf[0..len) is of `session`, from its header
 * alone: 1 yes, 0 no, -1 when the header is not one shoal_msg_encode writes
 * (the decoder then says what is wrong). Borrows both. */
int shoal_msg_peek_session(const uint8_t *buf, size_t len, const char *session);

#endif
