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
#include "gossip/gossip.h"

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
    bool batch;   /* first, the batch it was dealt in */
    bool outcome; /* outcome, seconds */
    bool node;    /* where it ran */
    bool texts;   /* message, output */
    bool flags;   /* flaky, stolen */
} s_shape_t;

static const s_shape_t s_ids = {.bare = true};
static const s_shape_t s_dealt = {.batch = true};
static const s_shape_t s_acked = {0};
static const s_shape_t s_result = {.outcome = true, .texts = true};
static const s_shape_t s_finished = {.outcome = true, .node = true};
static const s_shape_t s_summed = {.outcome = true, .node = true, .texts = true, .flags = true};

static size_t
s_shape_fields(const s_shape_t *shape)
{
    return 2 + shape->batch + 2 * shape->outcome + shape->node + 2 * shape->texts +
           2 * shape->flags;
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
    return s_array(c, &n, n, n, &f) && (!shape->batch || s_u32(&f, &item->batch, 0, UINT32_MAX)) &&
           s_str(&f, &item->id, SHOAL_TEST_ID_MAX, false) &&
           s_u32(&f, &item->attempt, 0, SHOAL_ATTEMPT_MAX) &&
           (!shape->outcome || (s_outcome(&f, &item->outcome) && s_seconds(&f, &item->seconds))) &&
           (!shape->node || s_str(&f, &item->node, SHOAL_NODE_NAME_MAX, true)) &&
           (!shape->texts || (s_str(&f, &item->message, SHOAL_MESSAGE_MAX, true) &&
                              s_str(&f, &item->output, SHOAL_OUTPUT_MAX, true))) &&
           (!shape->flags || (s_bool(&f, &item->flaky) && s_bool(&f, &item->stolen))) && s_end(&f);
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
           s_str(c, &msg->text, SHOAL_DIGEST_MAX, true);
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
s_refuse_fields(s_codec_t *c, shoal_msg_t *msg, uint32_t max)
{
    return s_u32(c, &msg->tests_total, 0, max) && s_str(c, &msg->text, SHOAL_MESSAGE_MAX, true);
}

typedef enum { S_BY_LEADER, S_BY_MEMBER, S_BY_PARTICIPANT, S_BY_CLAIMANT } s_sender_t;
typedef enum { S_TO_ONE, S_TO_ALL } s_recipients_t;

typedef struct {
    const char *name;
    s_sender_t sender;     /* who sends it */
    s_recipients_t to;     /* one participant, or every live one */
    size_t fields;         /* the array's length, the 4 common fields included */
    const s_shape_t *item; /* the shape of its items; NULL: it has no list */
    size_t items_max;      /* items in one message */
    uint32_t number_max;   /* the cap of its number: tests_total, free_slots, the counts' sum,
                              chunks */
    /* its own fields, between the term and the list */
    bool (*own)(s_codec_t *c, shoal_msg_t *msg, uint32_t number_max);
} s_type_t;

/* Append-only, as the enum. */
static const s_type_t s_types[] = {
    [SHOAL_MSG_LEADER] = {"leader", S_BY_LEADER, S_TO_ALL, 5, NULL, 0, SHOAL_SESSION_TESTS_MAX,
                          s_leader_fields},
    [SHOAL_MSG_WANT] = {"want", S_BY_MEMBER, S_TO_ONE, 8, &s_ids, SHOAL_ITEMS_MAX,
                        SHOAL_FREE_SLOTS_MAX, s_want_fields},
    [SHOAL_MSG_WORK] = {"work", S_BY_LEADER, S_TO_ONE, 5, &s_dealt, SHOAL_ITEMS_MAX, 0, NULL},
    [SHOAL_MSG_RESULTS] = {"results", S_BY_MEMBER, S_TO_ONE, 5, &s_result, SHOAL_ITEMS_MAX, 0,
                           NULL},
    [SHOAL_MSG_ACK] = {"ack", S_BY_LEADER, S_TO_ONE, 5, &s_acked, SHOAL_ITEMS_MAX, 0, NULL},
    [SHOAL_MSG_PROGRESS] = {"progress", S_BY_LEADER, S_TO_ALL, 6, &s_finished, SHOAL_ITEMS_MAX,
                            SHOAL_SESSION_TESTS_MAX, s_progress_fields},
    [SHOAL_MSG_SUMMARY] = {"summary", S_BY_LEADER, S_TO_ALL, 9, &s_summed, SHOAL_ITEMS_MAX,
                           SHOAL_SUMMARY_CHUNKS_MAX, s_summary_fields},
    [SHOAL_MSG_DONE] = {"done", S_BY_MEMBER, S_TO_ONE, 4, NULL, 0, 0, NULL},
    [SHOAL_MSG_QUERY] = {"query", S_BY_CLAIMANT, S_TO_ALL, 4, NULL, 0, 0, NULL},
    [SHOAL_MSG_NOLEADER] = {"noleader", S_BY_PARTICIPANT, S_TO_ONE, 4, NULL, 0, 0, NULL},
    [SHOAL_MSG_REFUSE] = {"refuse", S_BY_LEADER, S_TO_ONE, 7, &s_ids, SHOAL_ITEMS_MAX,
                          SHOAL_SESSION_TESTS_MAX, s_refuse_fields},
};
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

/* What follows the version and the type, in either direction. */
static bool
s_body(s_codec_t *c, const s_type_t *row, shoal_msg_t *msg)
{
    return s_session(c, msg->session) && s_u32(c, &msg->term, 0, UINT32_MAX) &&
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

static int
s_decode(const msgpack_object *root, shoal_msg_t *msg)
{
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
    long size = gossip_wire_check(buf, len, S_DEPTH);
    if (size < 0 || (size_t)size != len)
        return -1;
    msgpack_zone zone;
    msgpack_zone_init(&zone, 2048);
    msgpack_object root;
    size_t off = 0;
    int rc = -1;
    if (msgpack_unpack((const char *)buf, len, &off, &zone, &root) == MSGPACK_UNPACK_SUCCESS &&
        off == len)
        rc = s_decode(&root, msg);
    msgpack_zone_destroy(&zone);
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
    memset(msg, 0, sizeof(*msg));
}

const char *
shoal_msg_type_str(shoal_msg_type_t type)
{
    const s_type_t *row = s_row(type);
    return row ? row->name : "?";
}
