/* The session protocol codec (see session_msg.h). Each message type is one
 * row of s_types; each row names the function that describes its own fields,
 * and that one description serves both directions: a codec either packs the
 * values it is given or reads them, checking each against its cap. So the
 * encoder cannot make a message the decoder refuses. Encoding fills a frame
 * with as many items as fit, so long lists go out in several messages;
 * decoding runs gossip_wire_check before msgpack-c sees a byte and copies
 * every string out of the zone, truncated to its cap, so a peer cannot make
 * us allocate more than a small multiple of what it sent. */
#include "node/session_msg.h"
#include "node/adapter.h"
#include "node/unpack.h"
#include "gossip/gossip.h"

#include <assert.h>
#include <msgpack.h>
#include <stdlib.h>
#include <string.h>

#define S_DEPTH 4

_Static_assert(SHOAL_FRAME_ITEMS_MIN >= 1, "a full frame must carry an item of any size");
_Static_assert(SHOAL_ITEMS_MAX >= SHOAL_FRAME_ITEMS_MIN, "a frame is full before its item count");

/* ---------------------------------------------------------------- codec */

/* Packs the values it is given (pk set), or reads them from the values of a
 * decoded array, next to end. In both directions a value over its cap fails. */
typedef struct {
    msgpack_packer *pk;
    const msgpack_object *next;
    const msgpack_object *end;
} s_codec_t;

static const msgpack_object *
s_read(s_codec_t *c)
{
    return c->next < c->end ? c->next++ : NULL;
}

/* Decoding: every value was read. */
static bool
s_end(const s_codec_t *c)
{
    return c->pk || c->next == c->end;
}

static bool
s_u32(s_codec_t *c, uint32_t *v, uint32_t min, uint32_t max)
{
    if (c->pk) {
        if (*v < min || *v > max)
            return false;
        msgpack_pack_uint32(c->pk, *v);
        return true;
    }
    const msgpack_object *o = s_read(c);
    if (!o || o->type != MSGPACK_OBJECT_POSITIVE_INTEGER || o->via.u64 < min || o->via.u64 > max)
        return false;
    *v = (uint32_t)o->via.u64;
    return true;
}

static bool
s_bool(s_codec_t *c, bool *v)
{
    if (c->pk) {
        if (*v)
            msgpack_pack_true(c->pk);
        else
            msgpack_pack_false(c->pk);
        return true;
    }
    const msgpack_object *o = s_read(c);
    if (!o || o->type != MSGPACK_OBJECT_BOOLEAN)
        return false;
    *v = o->via.boolean;
    return true;
}

/* A framework may report any duration: one outside 0..SHOAL_SECONDS_MAX
 * goes out as the nearer end (NaN as 0), so the leader gets the result. */
static bool
s_seconds(s_codec_t *c, double *v)
{
    if (c->pk) {
        msgpack_pack_double(c->pk, !(*v >= 0)               ? 0
                                   : *v < SHOAL_SECONDS_MAX ? *v
                                                            : SHOAL_SECONDS_MAX);
        return true;
    }
    const msgpack_object *o = s_read(c);
    if (o && (o->type == MSGPACK_OBJECT_FLOAT64 || o->type == MSGPACK_OBJECT_FLOAT32))
        *v = o->via.f64;
    else if (o && o->type == MSGPACK_OBJECT_POSITIVE_INTEGER)
        *v = (double)o->via.u64;
    else
        return false;
    return *v >= 0 && *v <= SHOAL_SECONDS_MAX; /* also false for NaN */
}

static size_t
s_len(const char *s, size_t cap)
{
    size_t n = s ? strlen(s) : 0;
    return n < cap ? n : cap;
}

/* A string of up to cap bytes: longer ones are truncated, never refused. An
 * empty one (or NULL) only if allow_empty. Decoding copies it out of
 * msgpack's zone. */
static bool
s_str(s_codec_t *c, char **s, size_t cap, bool allow_empty)
{
    if (c->pk) {
        size_t n = s_len(*s, cap);
        if (n == 0 && !allow_empty)
            return false;
        msgpack_pack_str(c->pk, n);
        msgpack_pack_str_body(c->pk, *s ? *s : "", n);
        return true;
    }
    const msgpack_object *o = s_read(c);
    if (!o || o->type != MSGPACK_OBJECT_STR)
        return false;
    size_t n = o->via.str.size;
    if ((!allow_empty && n == 0) || memchr(o->via.str.ptr, '\0', n))
        return false;
    if (n > cap)
        n = cap;
    if (!(*s = malloc(n + 1)))
        return false;
    memcpy(*s, o->via.str.ptr, n);
    (*s)[n] = '\0';
    return true;
}

/* The session id: decoding refuses an empty or a longer one. */
static bool
s_session(s_codec_t *c, char session[SHOAL_SESSION_ID_MAX + 1])
{
    if (c->pk) {
        char *s = session;
        return s_str(c, &s, SHOAL_SESSION_ID_MAX, false);
    }
    const msgpack_object *o = s_read(c);
    if (!o || o->type != MSGPACK_OBJECT_STR || o->via.str.size == 0 ||
        o->via.str.size > SHOAL_SESSION_ID_MAX || memchr(o->via.str.ptr, '\0', o->via.str.size))
        return false;
    memcpy(session, o->via.str.ptr, o->via.str.size);
    session[o->via.str.size] = '\0';
    return true;
}

/* An array of *n values, min <= *n <= max: child goes through them. */
static bool
s_array(s_codec_t *c, size_t *n, size_t min, size_t max, s_codec_t *child)
{
    if (c->pk) {
        if (*n < min || *n > max)
            return false;
        msgpack_pack_array(c->pk, *n);
        *child = *c;
        return true;
    }
    const msgpack_object *o = s_read(c);
    if (!o || o->type != MSGPACK_OBJECT_ARRAY || o->via.array.size < min || o->via.array.size > max)
        return false;
    *n = o->via.array.size;
    *child = (s_codec_t){.next = o->via.array.ptr, .end = o->via.array.ptr + *n};
    return true;
}

/* ---------------------------------------------------------------- items */

/* What an item carries besides [batch,] id and attempt. */
typedef struct {
    bool bare;    /* the id alone, not in an array */
    bool version; /* first, the placement it was dealt or given at */
    bool outcome; /* outcome, seconds */
    bool node;    /* where it ran */
    bool texts;   /* message, output */
    bool flags;   /* flaky, stolen */
    bool predict; /* its predicted seconds */
    bool load;    /* not a test: [member, queued, running, slots] */
} s_shape_t;

static const s_shape_t s_ids = {.bare = true};
static const s_shape_t s_dealt = {.version = true, .node = true, .predict = true};
static const s_shape_t s_placed = {.version = true};
static const s_shape_t s_load = {.load = true};
static const s_shape_t s_acked = {0};
static const s_shape_t s_result = {.outcome = true, .texts = true};
static const s_shape_t s_finished = {.outcome = true, .node = true};
static const s_shape_t s_summed = {.outcome = true, .node = true, .texts = true, .flags = true};

static size_t
s_shape_fields(const s_shape_t *shape)
{
    if (shape->load)
        return 4;
    return 2 + shape->version + 2 * shape->outcome + shape->node + 2 * shape->texts +
           2 * shape->flags + shape->predict;
}

static bool
s_outcome(s_codec_t *c, uint8_t *outcome)
{
    uint32_t v = *outcome;
    if (!s_u32(c, &v, 0, SHOAL_OUTCOME_COUNT - 1))
        return false;
    if (!c->pk)
        *outcome = (uint8_t)v;
    return true;
}

static bool
s_item(s_codec_t *c, const s_shape_t *shape, shoal_item_t *item)
{
    if (shape->bare)
        return s_str(c, &item->id, SHOAL_TEST_ID_MAX, false);
    size_t n = s_shape_fields(shape);
    s_codec_t f;
    if (shape->load)
        return s_array(c, &n, n, n, &f) && s_str(&f, &item->node, SHOAL_NODE_NAME_MAX, false) &&
               s_seconds(&f, &item->seconds) && s_seconds(&f, &item->running) &&
               s_u32(&f, &item->slots, 1, SHOAL_SLOTS_MAX) && s_end(&f);
    return s_array(c, &n, n, n, &f) &&
           (!shape->version || s_u32(&f, &item->version, 0, UINT32_MAX)) &&
           s_str(&f, &item->id, SHOAL_TEST_ID_MAX, false) &&
           s_u32(&f, &item->attempt, 0, SHOAL_ATTEMPT_MAX) &&
           (!shape->outcome || (s_outcome(&f, &item->outcome) && s_seconds(&f, &item->seconds))) &&
           (!shape->node || s_str(&f, &item->node, SHOAL_NODE_NAME_MAX, true)) &&
           (!shape->texts || (s_str(&f, &item->message, SHOAL_MESSAGE_MAX, true) &&
                              s_str(&f, &item->output, SHOAL_OUTPUT_MAX, true))) &&
           (!shape->flags || (s_bool(&f, &item->flaky) && s_bool(&f, &item->stolen))) &&
           (!shape->predict || s_seconds(&f, &item->seconds)) && s_end(&f);
}

/* What the encoder counts for an item: at least what it takes on the wire,
 * at most SHOAL_ITEM_SIZE_MAX. */
static size_t
s_item_size(const shoal_item_t *item)
{
    return SHOAL_ITEM_OVERHEAD + s_len(item->id, SHOAL_TEST_ID_MAX) +
           s_len(item->node, SHOAL_NODE_NAME_MAX) + s_len(item->message, SHOAL_MESSAGE_MAX) +
           s_len(item->output, SHOAL_OUTPUT_MAX);
}

/* ---------------------------------------------------------------- types */

static bool
s_leader_fields(s_codec_t *c, shoal_msg_t *msg, uint32_t max)
{
    return s_u32(c, &msg->tests_total, 0, max);
}

static bool
s_want_fields(s_codec_t *c, shoal_msg_t *msg, uint32_t max)
{
    return s_u32(c, &msg->free_slots, 0, max) && s_bool(c, &msg->fresh) &&
           s_str(c, &msg->text, SHOAL_DIGEST_MAX, true) &&
           s_u32(c, &msg->held, 0, SHOAL_SESSION_TESTS_MAX);
}

static bool
s_progress_fields(s_codec_t *c, shoal_msg_t *msg, uint32_t max)
{
    size_t n = SHOAL_COUNT_KINDS;
    s_codec_t counts;
    uint64_t sum = 0;
    if (!s_array(c, &n, n, n, &counts))
        return false;
    for (int k = 0; k < SHOAL_COUNT_KINDS; k++) {
        if (!s_u32(&counts, &msg->counts[k], 0, max))
            return false;
        sum += msg->counts[k];
    }
    return sum <= max && s_end(&counts); /* each test is counted once */
}

static bool
s_status(s_codec_t *c, int32_t *status)
{
    uint32_t v = *status < 0 ? UINT32_MAX : (uint32_t)*status;
    if (!s_u32(c, &v, 0, SHOAL_STATUS_MAX))
        return false;
    if (!c->pk)
        *status = (int32_t)v;
    return true;
}

static bool
s_summary_fields(s_codec_t *c, shoal_msg_t *msg, uint32_t max)
{
    return s_u32(c, &msg->chunk, 0, max - 1) && s_u32(c, &msg->chunks, msg->chunk + 1, max) &&
           s_status(c, &msg->status) && s_str(c, &msg->text, SHOAL_MESSAGE_MAX, true);
}

static bool
s_work_fields(s_codec_t *c, shoal_msg_t *msg, uint32_t max)
{
    (void)max;
    return s_bool(c, &msg->fresh);
}

static bool
s_steal_fields(s_codec_t *c, shoal_msg_t *msg, uint32_t max)
{
    return s_u32(c, &msg->free_slots, 0, max) && s_seconds(c, &msg->seconds);
}

static bool
s_moved_fields(s_codec_t *c, shoal_msg_t *msg, uint32_t max)
{
    (void)max;
    return s_str(c, &msg->victim, SHOAL_NODE_NAME_MAX, false) &&
           s_str(c, &msg->thief, SHOAL_NODE_NAME_MAX, false) && s_bool(c, &msg->fresh);
}

static bool
s_refuse_fields(s_codec_t *c, shoal_msg_t *msg, uint32_t max)
{
    return s_u32(c, &msg->tests_total, 0, max) && s_str(c, &msg->text, SHOAL_MESSAGE_MAX, true);
}

typedef enum {
    S_BY_LEADER,      /* the leader of the message's term */
    S_BY_MEMBER,      /* a participant as a member (the leader's own member too) */
    S_BY_PARTICIPANT, /* any participant */
    S_BY_CLAIMANT,    /* the participant about to claim the first term */
} s_sender_t;

typedef enum { S_TO_ONE, S_TO_ALL } s_recipients_t;

/* The terms a receiver takes a message at. */
typedef enum {
    S_FENCE_ANY,     /* any: its handler compares the terms itself */
    S_FENCE_NEWER,   /* the receiver's term or a newer one */
    S_FENCE_CURRENT, /* the receiver's term only */
    S_FENCE_TERM0,   /* sent at term 0 (no other decodes), so taken only by a
                        receiver still at term 0: it never followed a leader */
} s_fence_t;

/* Whom a receiver takes a message from, besides a participant of its session. */
typedef enum {
    S_FROM_ANY,             /* any participant */
    S_FROM_LEADER,          /* the leader it follows */
    S_FROM_LEADER_OR_UNLED, /* that leader, or anyone while it follows none */
    S_FROM_OTHERS,          /* any participant but itself */
} s_from_t;

typedef struct {
    const char *name;
    s_sender_t sender;     /* who sends it... */
    s_recipients_t to;     /* ...to one participant, or to every live one */
    s_fence_t fence;       /* the terms it is taken at */
    s_from_t from;         /* whom it is taken from */
    size_t fields;         /* the array's length, the 4 common fields included */
    const s_shape_t *item; /* the shape of its items; NULL: it has no list */
    size_t items_max;      /* items in one message */
    uint32_t number_max;   /* the cap of its number: tests_total, free_slots, the counts' sum,
                              chunks */
    /* its own fields, between the term and the list */
    bool (*own)(s_codec_t *c, shoal_msg_t *msg, uint32_t number_max);
} s_type_t;

/* One row per type, append-only as the enum; each line of a row is one
 * concern: who sends it to whom; the terms and senders it is taken from (the
 * rules node/session.c applied in s_dispatch); its shape; the cap of its
 * number and the function for its own fields. */
// clang-format off
static const s_type_t s_types[] = {
    /* "I lead this term": the receiver ranks the claim against the leader it
     * follows (s_newer), so an older claim reaches it too and is answered. */
    [SHOAL_MSG_LEADER] = {.name = "leader", .sender = S_BY_LEADER, .to = S_TO_ALL,
                          .fence = S_FENCE_ANY, .from = S_FROM_ANY,
                          .fields = 5,
                          .number_max = SHOAL_SESSION_TESTS_MAX, .own = s_leader_fields},
    [SHOAL_MSG_WANT] = {.name = "want", .sender = S_BY_MEMBER, .to = S_TO_ONE,
                        .fence = S_FENCE_NEWER, .from = S_FROM_ANY,
                        .fields = 9, .item = &s_ids, .items_max = SHOAL_ITEMS_MAX,
                        .number_max = SHOAL_FREE_SLOTS_MAX, .own = s_want_fields},
    [SHOAL_MSG_WORK] = {.name = "work", .sender = S_BY_LEADER, .to = S_TO_ONE,
                        .fence = S_FENCE_CURRENT, .from = S_FROM_LEADER,
                        .fields = 6, .item = &s_dealt, .items_max = SHOAL_ITEMS_MAX,
                        .own = s_work_fields},
    /* To the leader, and copies of the leader's own to its deputy. */
    [SHOAL_MSG_RESULTS] = {.name = "results", .sender = S_BY_MEMBER, .to = S_TO_ONE,
                           .fence = S_FENCE_NEWER, .from = S_FROM_ANY,
                           .fields = 5, .item = &s_result, .items_max = SHOAL_ITEMS_MAX},
    [SHOAL_MSG_ACK] = {.name = "ack", .sender = S_BY_LEADER, .to = S_TO_ONE,
                       .fence = S_FENCE_NEWER, .from = S_FROM_LEADER,
                       .fields = 5, .item = &s_acked, .items_max = SHOAL_ITEMS_MAX},
    [SHOAL_MSG_PROGRESS] = {.name = "progress", .sender = S_BY_LEADER, .to = S_TO_ALL,
                            .fence = S_FENCE_NEWER, .from = S_FROM_LEADER,
                            .fields = 6, .item = &s_finished, .items_max = SHOAL_ITEMS_MAX,
                            .number_max = SHOAL_SESSION_TESTS_MAX, .own = s_progress_fields},
    /* To each participant that has not said DONE; one that follows no
     * leader (its leader died after finishing) still takes it. */
    [SHOAL_MSG_SUMMARY] = {.name = "summary", .sender = S_BY_LEADER, .to = S_TO_ALL,
                           .fence = S_FENCE_NEWER, .from = S_FROM_LEADER_OR_UNLED,
                           .fields = 9, .item = &s_summed, .items_max = SHOAL_ITEMS_MAX,
                           .number_max = SHOAL_SUMMARY_CHUNKS_MAX, .own = s_summary_fields},
    /* Carries the summary's term: the leader counts it only for its own. */
    [SHOAL_MSG_DONE] = {.name = "done", .sender = S_BY_MEMBER, .to = S_TO_ONE,
                        .fence = S_FENCE_ANY, .from = S_FROM_ANY,
                        .fields = 4},
    [SHOAL_MSG_QUERY] = {.name = "query", .sender = S_BY_CLAIMANT, .to = S_TO_ALL,
                         .fence = S_FENCE_TERM0, .from = S_FROM_OTHERS,
                         .fields = 4},
    /* The answer to a QUERY, to the asker. */
    [SHOAL_MSG_NOLEADER] = {.name = "noleader", .sender = S_BY_PARTICIPANT, .to = S_TO_ONE,
                            .fence = S_FENCE_TERM0, .from = S_FROM_ANY,
                            .fields = 4},
    [SHOAL_MSG_REFUSE] = {.name = "refuse", .sender = S_BY_LEADER, .to = S_TO_ONE,
                          .fence = S_FENCE_NEWER, .from = S_FROM_LEADER,
                          .fields = 7, .item = &s_ids, .items_max = SHOAL_ITEMS_MAX,
                          .number_max = SHOAL_SESSION_TESTS_MAX, .own = s_refuse_fields},
    /* Between members, whoever leads (none may): terms do not fence them. */
    [SHOAL_MSG_STEAL] = {.name = "steal", .sender = S_BY_MEMBER, .to = S_TO_ONE,
                         .fence = S_FENCE_ANY, .from = S_FROM_OTHERS,
                         .fields = 6,
                         .number_max = SHOAL_FREE_SLOTS_MAX, .own = s_steal_fields},
    [SHOAL_MSG_GIVE] = {.name = "give", .sender = S_BY_MEMBER, .to = S_TO_ONE,
                        .fence = S_FENCE_ANY, .from = S_FROM_OTHERS,
                        .fields = 5, .item = &s_dealt, .items_max = SHOAL_ITEMS_MAX},
    /* Member -> leader at the member's term (a new leader takes an older
     * term's: the move happened); the leader's echo is the victim's ack. */
    [SHOAL_MSG_MOVED] = {.name = "moved", .sender = S_BY_PARTICIPANT, .to = S_TO_ONE,
                         .fence = S_FENCE_ANY, .from = S_FROM_ANY,
                         .fields = 8, .item = &s_placed, .items_max = SHOAL_ITEMS_MAX,
                         .own = s_moved_fields},
    [SHOAL_MSG_LOADS] = {.name = "loads", .sender = S_BY_LEADER, .to = S_TO_ALL,
                         .fence = S_FENCE_NEWER, .from = S_FROM_LEADER,
                         .fields = 6, .item = &s_load, .items_max = SHOAL_ITEMS_MAX,
                         .own = s_work_fields},
    [SHOAL_MSG_HELD] = {.name = "held", .sender = S_BY_MEMBER, .to = S_TO_ONE,
                        .fence = S_FENCE_NEWER, .from = S_FROM_ANY,
                        .fields = 5, .item = &s_placed, .items_max = SHOAL_ITEMS_MAX},
};
// clang-format on
_Static_assert(sizeof(s_types) / sizeof(s_types[0]) == SHOAL_MSG_TYPE_LAST + 1,
               "a message type without its row");

static const s_type_t *
s_row(shoal_msg_type_t type)
{
    return type >= 1 && type <= SHOAL_MSG_TYPE_LAST ? &s_types[type] : NULL;
}

/* ---------------------------------------------------------------- messages */

static bool
s_head(s_codec_t *c, uint32_t *type)
{
    uint32_t version = SHOAL_SESSION_VERSION;
    return s_u32(c, &version, SHOAL_SESSION_VERSION, SHOAL_SESSION_VERSION) &&
           s_u32(c, type, 1, SHOAL_MSG_TYPE_LAST);
}

static bool
s_items(s_codec_t *c, const s_type_t *row, shoal_item_t **items, size_t *count)
{
    size_t n = *count;
    s_codec_t list;
    if (!s_array(c, &n, 0, row->items_max, &list))
        return false;
    if (!c->pk) {
        if (!(*items = calloc(n ? n : 1, sizeof(shoal_item_t))))
            return false;
        *count = n; /* zeroed: clearing frees a partly decoded list */
    }
    for (size_t i = 0; i < n; i++)
        if (!s_item(&list, row->item, &(*items)[i]))
            return false;
    return s_end(&list);
}

/* Term 0 is the term before any leader: only QUERY and NOLEADER are sent at
 * it, every other type by or to a leader, at its term (1 or more). */
static bool
s_term(s_codec_t *c, const s_type_t *row, uint32_t *term)
{
    bool zero = row->fence == S_FENCE_TERM0;
    return s_u32(c, term, zero ? 0 : 1, zero ? 0 : UINT32_MAX);
}

/* What follows the version and the type, in either direction. */
static bool
s_body(s_codec_t *c, const s_type_t *row, shoal_msg_t *msg)
{
    return s_session(c, msg->session) && s_term(c, row, &msg->term) &&
           (!row->own || row->own(c, msg, row->number_max)) &&
           (!row->item || s_items(c, row, &msg->items, &msg->item_count)) && s_end(c);
}

/* How many of msg's items from first on fit a frame of cap bytes. */
static size_t
s_fitting(const shoal_msg_t *msg, const s_type_t *row, size_t first, size_t cap)
{
    size_t reserve = SHOAL_FRAME_RESERVE + s_len(msg->text, SHOAL_MESSAGE_MAX);
    size_t budget = cap > reserve ? cap - reserve : 0, count = 0;
    for (size_t i = first; row->item && i < msg->item_count && count < row->items_max; i++) {
        size_t size = s_item_size(&msg->items[i]);
        if (size > budget)
            break;
        budget -= size;
        count++;
    }
    return count;
}

long
shoal_msg_encode(const shoal_msg_t *msg, size_t first, uint8_t *buf, size_t cap, size_t *taken)
{
    const s_type_t *row = s_row(msg->type);
    if (!row)
        return -1;
    /* This frame's share of the list, as a message of its own. */
    shoal_msg_t part = *msg;
    part.item_count = s_fitting(msg, row, first, cap);
    part.items = part.item_count ? msg->items + first : NULL;
    msgpack_sbuffer sbuf;
    msgpack_sbuffer_init(&sbuf);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sbuf, msgpack_sbuffer_write);
    msgpack_pack_array(&pk, row->fields);
    s_codec_t c = {.pk = &pk};
    uint32_t type = msg->type;
    long len = -1;
    if (s_head(&c, &type) && s_body(&c, row, &part) && sbuf.size <= cap) {
        memcpy(buf, sbuf.data, sbuf.size);
        len = (long)sbuf.size;
        *taken = part.item_count;
    }
    msgpack_sbuffer_destroy(&sbuf);
    return len;
}

long
shoal_msg_encode_all(const shoal_msg_t *msg, uint8_t *buf, size_t cap, shoal_msg_frame_fn *fn,
                     void *arg)
{
    size_t first = 0;
    do {
        size_t taken = 0;
        long len = shoal_msg_encode(msg, first, buf, cap, &taken);
        if (len < 0)
            return -1;
        fn(arg, buf, (size_t)len);
        first += taken;
        if (taken == 0)
            break;
    } while (first < msg->item_count);
    return (long)first;
}

static int
s_decode(const msgpack_object *root, void *arg)
{
    shoal_msg_t *msg = arg;
    if (root->type != MSGPACK_OBJECT_ARRAY)
        return -1;
    s_codec_t c = {.next = root->via.array.ptr, .end = root->via.array.ptr + root->via.array.size};
    uint32_t type;
    if (!s_head(&c, &type))
        return -1;
    msg->type = (shoal_msg_type_t)type;
    const s_type_t *row = s_row(msg->type);
    return root->via.array.size == row->fields && s_body(&c, row, msg) ? 0 : -1;
}

int
shoal_msg_decode(const uint8_t *buf, size_t len, shoal_msg_t *msg)
{
    memset(msg, 0, sizeof(*msg));
    int rc = shoal_unpack(buf, len, S_DEPTH, s_decode, msg);
    if (rc != 0)
        shoal_msg_clear(msg);
    return rc;
}

void
shoal_item_clear(shoal_item_t *item)
{
    free(item->id);
    free(item->node);
    free(item->message);
    free(item->output);
    memset(item, 0, sizeof(*item));
}

void
shoal_msg_clear(shoal_msg_t *msg)
{
    for (size_t i = 0; i < msg->item_count; i++)
        shoal_item_clear(&msg->items[i]);
    free(msg->items);
    free(msg->text);
    free(msg->victim);
    free(msg->thief);
    memset(msg, 0, sizeof(*msg));
}

const char *
shoal_msg_type_str(shoal_msg_type_t type)
{
    const s_type_t *row = s_row(type);
    return row ? row->name : "?";
}

/* ---------------------------------------------------------------- fencing */

static shoal_msg_verdict_t
s_fence(s_fence_t fence, uint32_t term, uint32_t current)
{
    switch (fence) {
        case S_FENCE_ANY:
            return SHOAL_MSG_ACCEPT;
        case S_FENCE_NEWER:
            return term < current ? SHOAL_MSG_DROP_OLD_TERM : SHOAL_MSG_ACCEPT;
        case S_FENCE_CURRENT:
        case S_FENCE_TERM0:
            return term < current   ? SHOAL_MSG_DROP_OLD_TERM
                   : term > current ? SHOAL_MSG_DROP_NEW_TERM
                                    : SHOAL_MSG_ACCEPT;
    }
    return SHOAL_MSG_ACCEPT;
}

static shoal_msg_verdict_t
s_from(s_from_t from, const shoal_msg_receiver_t *at)
{
    switch (from) {
        case S_FROM_ANY:
            return SHOAL_MSG_ACCEPT;
        case S_FROM_LEADER:
            return at->from_leader ? SHOAL_MSG_ACCEPT : SHOAL_MSG_DROP_NOT_LEADER;
        case S_FROM_LEADER_OR_UNLED:
            return at->from_leader || !at->led ? SHOAL_MSG_ACCEPT : SHOAL_MSG_DROP_NOT_LEADER;
        case S_FROM_OTHERS:
            return at->from_self ? SHOAL_MSG_DROP_OWN : SHOAL_MSG_ACCEPT;
    }
    return SHOAL_MSG_ACCEPT;
}

shoal_msg_verdict_t
shoal_msg_admit(const shoal_msg_t *msg, const shoal_msg_receiver_t *at)
{
    const s_type_t *row = s_row(msg->type);
    assert(row && "admit takes decoded messages");
    if (strcmp(msg->session, at->session) != 0)
        return SHOAL_MSG_DROP_OTHER_SESSION;
    if (!at->from_participant)
        return SHOAL_MSG_DROP_STRANGER;
    shoal_msg_verdict_t verdict = s_fence(row->fence, msg->term, at->term);
    return verdict != SHOAL_MSG_ACCEPT ? verdict : s_from(row->from, at);
}

const char *
shoal_msg_verdict_str(shoal_msg_verdict_t verdict)
{
    static const char *names[] = {"accept",   "another session", "not a participant",
                                  "old term", "new term",        "not from the leader",
                                  "its own"};
    _Static_assert(sizeof(names) / sizeof(names[0]) == SHOAL_MSG_VERDICT_LAST + 1,
                   "a verdict unnamed");
    return verdict >= 0 && verdict <= SHOAL_MSG_VERDICT_LAST ? names[verdict] : "?";
}

/* Reads the header as msgpack encodes it here (an array, two small uints,
 * then a str), without unpacking the body: routing costs no allocation. */
int
shoal_msg_peek_session(const uint8_t *buf, size_t len, const char *session)
{
    size_t at = 0;
    if (len < 4)
        return -1;
    if ((buf[0] & 0xf0) == 0x90)
        at = 1;
    else if (buf[0] == 0xdc)
        at = 3;
    else if (buf[0] == 0xdd)
        at = 5;
    else
        return -1;
    for (int k = 0; k < 2; k++) { /* version, type: positive fixints */
        if (at >= len || buf[at] > 0x7f)
            return -1;
        at++;
    }
    if (at >= len)
        return -1;
    size_t n;
    if ((buf[at] & 0xe0) == 0xa0)
        n = buf[at++] & 0x1f;
    else if (buf[at] == 0xd9 && at + 1 < len) {
        n = buf[at + 1];
        at += 2;
    } else
        return -1;
    if (n > len - at)
        return -1;
    return strlen(session) == n && memcmp(buf + at, session, n) == 0;
}
