/* The session protocol codec (see session_msg.h). Encoding fills a frame with
 * as many items as fit, so long lists go out in several messages; decoding
 * runs gossip_wire_check before msgpack-c sees a byte and copies every string
 * out of the zone, truncated to its cap, so a peer cannot make us allocate
 * more than a small multiple of what it sent. */
#include "node/session_msg.h"
#include "node/adapter.h"
#include "node/unpack.h"
#include "gossip/gossip.h"

#include <msgpack.h>
#include <stdlib.h>
#include <string.h>

#define S_DEPTH 4

/* ---------------------------------------------------------------- encode */

static size_t
s_len(const char *s, size_t cap)
{
    size_t n = s ? strlen(s) : 0;
    return n < cap ? n : cap;
}

static void
s_pack_str(msgpack_packer *pk, const char *s, size_t cap)
{
    size_t n = s_len(s, cap);
    msgpack_pack_str(pk, n);
    msgpack_pack_str_body(pk, s ? s : "", n);
}

/* Fields of an item for each type; the same table drives decode. */
static size_t
s_item_fields(shoal_msg_type_t type)
{
    switch (type) {
        case SHOAL_MSG_WANT:
        case SHOAL_MSG_REFUSE:
            return 1;
        case SHOAL_MSG_WORK:
            return 3;
        case SHOAL_MSG_RESULTS:
            return 6;
        case SHOAL_MSG_ACK:
            return 2;
        case SHOAL_MSG_PROGRESS:
            return 5;
        case SHOAL_MSG_SUMMARY:
            return 9;
        default:
            return 0;
    }
}

static size_t
s_item_size(const shoal_item_t *item)
{
    return 48 + s_len(item->id, SHOAL_TEST_ID_MAX) + s_len(item->node, 256) +
           s_len(item->message, SHOAL_MESSAGE_MAX) + s_len(item->output, SHOAL_OUTPUT_MAX);
}

static void
s_pack_bool(msgpack_packer *pk, bool value)
{
    if (value)
        msgpack_pack_true(pk);
    else
        msgpack_pack_false(pk);
}

static void
s_pack_item(msgpack_packer *pk, shoal_msg_type_t type, const shoal_item_t *item)
{
    if (type == SHOAL_MSG_WANT || type == SHOAL_MSG_REFUSE) {
        s_pack_str(pk, item->id, SHOAL_TEST_ID_MAX);
        return;
    }
    msgpack_pack_array(pk, s_item_fields(type));
    if (type == SHOAL_MSG_WORK)
        msgpack_pack_uint32(pk, item->batch);
    s_pack_str(pk, item->id, SHOAL_TEST_ID_MAX);
    msgpack_pack_uint32(pk, item->attempt);
    if (type == SHOAL_MSG_WORK || type == SHOAL_MSG_ACK)
        return;
    msgpack_pack_uint8(pk, item->outcome);
    msgpack_pack_double(pk, item->seconds);
    if (type == SHOAL_MSG_PROGRESS || type == SHOAL_MSG_SUMMARY)
        s_pack_str(pk, item->node, 256);
    if (type == SHOAL_MSG_PROGRESS)
        return;
    s_pack_str(pk, item->message, SHOAL_MESSAGE_MAX);
    s_pack_str(pk, item->output, SHOAL_OUTPUT_MAX);
    if (type == SHOAL_MSG_SUMMARY) {
        s_pack_bool(pk, item->flaky);
        s_pack_bool(pk, item->stolen);
    }
}

long
shoal_msg_encode(const shoal_msg_t *msg, size_t first, uint8_t *buf, size_t cap, size_t *taken)
{
    size_t budget = cap > 512 + s_len(msg->text, SHOAL_MESSAGE_MAX)
                        ? cap - 512 - s_len(msg->text, SHOAL_MESSAGE_MAX)
                        : 0;
    size_t count = 0;
    bool has_items = s_item_fields(msg->type) > 0;
    for (size_t i = first; has_items && i < msg->item_count && count < SHOAL_ITEMS_MAX; i++) {
        size_t size = s_item_size(&msg->items[i]);
        if (size > budget)
            break;
        budget -= size;
        count++;
    }
    msgpack_sbuffer sbuf;
    msgpack_sbuffer_init(&sbuf);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sbuf, msgpack_sbuffer_write);
    size_t fields = 4;
    switch (msg->type) {
        case SHOAL_MSG_LEADER:
        case SHOAL_MSG_WORK:
        case SHOAL_MSG_RESULTS:
        case SHOAL_MSG_ACK:
            fields += 1;
            break;
        case SHOAL_MSG_WANT:
            fields += 4;
            break;
        case SHOAL_MSG_PROGRESS:
            fields += 2;
            break;
        case SHOAL_MSG_REFUSE:
            fields += 3;
            break;
        case SHOAL_MSG_SUMMARY:
            fields += 5;
            break;
        case SHOAL_MSG_DONE:
        case SHOAL_MSG_QUERY:
        case SHOAL_MSG_NOLEADER:
            break;
    }
    msgpack_pack_array(&pk, fields);
    msgpack_pack_uint8(&pk, SHOAL_SESSION_VERSION);
    msgpack_pack_uint8(&pk, (uint8_t)msg->type);
    s_pack_str(&pk, msg->session, SHOAL_SESSION_ID_MAX);
    msgpack_pack_uint32(&pk, msg->term);
    if (msg->type == SHOAL_MSG_LEADER)
        msgpack_pack_uint32(&pk, msg->tests_total);
    if (msg->type == SHOAL_MSG_WANT) {
        msgpack_pack_uint32(&pk, msg->free_slots);
        s_pack_bool(&pk, msg->fresh);
        s_pack_str(&pk, msg->text, SHOAL_DIGEST_MAX);
    }
    if (msg->type == SHOAL_MSG_REFUSE) {
        msgpack_pack_uint32(&pk, msg->tests_total);
        s_pack_str(&pk, msg->text, SHOAL_MESSAGE_MAX);
    }
    if (msg->type == SHOAL_MSG_PROGRESS) {
        msgpack_pack_array(&pk, SHOAL_COUNT_KINDS);
        for (int i = 0; i < SHOAL_COUNT_KINDS; i++)
            msgpack_pack_uint32(&pk, msg->counts[i]);
    }
    if (msg->type == SHOAL_MSG_SUMMARY) {
        msgpack_pack_uint32(&pk, msg->chunk);
        msgpack_pack_uint32(&pk, msg->chunks);
        msgpack_pack_int32(&pk, msg->status);
        s_pack_str(&pk, msg->text, SHOAL_MESSAGE_MAX);
    }
    if (has_items) {
        msgpack_pack_array(&pk, count);
        for (size_t i = 0; i < count; i++)
            s_pack_item(&pk, msg->type, &msg->items[first + i]);
    }
    long len = -1;
    if (sbuf.size <= cap) {
        memcpy(buf, sbuf.data, sbuf.size);
        len = (long)sbuf.size;
        *taken = count;
    }
    msgpack_sbuffer_destroy(&sbuf);
    return len;
}

void
shoal_msg_encode_all(const shoal_msg_t *msg, uint8_t *buf, size_t cap, shoal_msg_frame_fn *fn,
                     void *arg)
{
    size_t first = 0;
    do {
        size_t taken = 0;
        long len = shoal_msg_encode(msg, first, buf, cap, &taken);
        if (len < 0)
            return;
        fn(arg, buf, (size_t)len);
        first += taken;
        if (taken == 0)
            return;
    } while (first < msg->item_count);
}

/* ---------------------------------------------------------------- decode */

static char *
s_copy_str(const msgpack_object *o, size_t cap, bool allow_empty)
{
    if (o->type != MSGPACK_OBJECT_STR)
        return NULL;
    size_t n = o->via.str.size;
    if ((!allow_empty && n == 0) || memchr(o->via.str.ptr, '\0', n))
        return NULL;
    if (n > cap)
        n = cap; /* texts are truncated, never refused */
    char *s = malloc(n + 1);
    if (s) {
        memcpy(s, o->via.str.ptr, n);
        s[n] = '\0';
    }
    return s;
}

static bool
s_uint(const msgpack_object *o, uint64_t max, uint32_t *out)
{
    if (o->type != MSGPACK_OBJECT_POSITIVE_INTEGER || o->via.u64 > max)
        return false;
    *out = (uint32_t)o->via.u64;
    return true;
}

static bool
s_item(const msgpack_object *o, shoal_msg_type_t type, shoal_item_t *item)
{
    if (type == SHOAL_MSG_WANT || type == SHOAL_MSG_REFUSE) {
        item->id = s_copy_str(o, SHOAL_TEST_ID_MAX, false);
        return item->id != NULL;
    }
    size_t fields = s_item_fields(type);
    if (o->type != MSGPACK_OBJECT_ARRAY || o->via.array.size != fields)
        return false;
    const msgpack_object *f = o->via.array.ptr;
    size_t i = 0;
    if (type == SHOAL_MSG_WORK && !s_uint(&f[i++], UINT32_MAX, &item->batch))
        return false;
    item->id = s_copy_str(&f[i++], SHOAL_TEST_ID_MAX, false);
    if (!item->id || o->via.array.size <= i || !s_uint(&f[i++], 1000, &item->attempt))
        return false;
    if (type == SHOAL_MSG_WORK || type == SHOAL_MSG_ACK)
        return true;
    uint32_t outcome;
    if (!s_uint(&f[i++], SHOAL_OUTCOME_COUNT - 1, &outcome) ||
        !shoal_unpack_number(&f[i++], 1e9, &item->seconds))
        return false;
    item->outcome = (uint8_t)outcome;
    if (type == SHOAL_MSG_PROGRESS || type == SHOAL_MSG_SUMMARY)
        if (!(item->node = s_copy_str(&f[i++], 256, true)))
            return false;
    if (type == SHOAL_MSG_PROGRESS)
        return true;
    if (!(item->message = s_copy_str(&f[i++], SHOAL_MESSAGE_MAX, true)) ||
        !(item->output = s_copy_str(&f[i++], SHOAL_OUTPUT_MAX, true)))
        return false;
    return type != SHOAL_MSG_SUMMARY ||
           (shoal_unpack_bool(&f[i], &item->flaky) && shoal_unpack_bool(&f[i + 1], &item->stolen));
}

static bool
s_fields(const msgpack_object *root, shoal_msg_t *msg)
{
    const msgpack_object *f = root->via.array.ptr;
    size_t n = root->via.array.size, i = 4;
    switch (msg->type) {
        case SHOAL_MSG_LEADER:
            return n == 5 && s_uint(&f[i], UINT32_MAX, &msg->tests_total);
        case SHOAL_MSG_WANT:
            return n == 8 && s_uint(&f[4], 4096, &msg->free_slots) &&
                   shoal_unpack_bool(&f[5], &msg->fresh) &&
                   (msg->text = s_copy_str(&f[6], SHOAL_DIGEST_MAX, true)) != NULL;
        case SHOAL_MSG_REFUSE:
            return n == 7 && s_uint(&f[4], UINT32_MAX, &msg->tests_total) &&
                   (msg->text = s_copy_str(&f[5], SHOAL_MESSAGE_MAX, true)) != NULL;
        case SHOAL_MSG_PROGRESS:
            if (n != 6 || f[4].type != MSGPACK_OBJECT_ARRAY ||
                f[4].via.array.size != SHOAL_COUNT_KINDS)
                return false;
            for (int k = 0; k < SHOAL_COUNT_KINDS; k++)
                if (!s_uint(&f[4].via.array.ptr[k], UINT32_MAX, &msg->counts[k]))
                    return false;
            return true;
        case SHOAL_MSG_SUMMARY:
            if (n != 9 || !s_uint(&f[4], UINT32_MAX, &msg->chunk) ||
                !s_uint(&f[5], UINT32_MAX, &msg->chunks) || msg->chunk >= msg->chunks ||
                f[6].type > MSGPACK_OBJECT_NEGATIVE_INTEGER ||
                f[6].type < MSGPACK_OBJECT_POSITIVE_INTEGER || f[6].via.i64 < 0 ||
                f[6].via.i64 > 255)
                return false;
            msg->status = (int32_t)f[6].via.i64;
            return (msg->text = s_copy_str(&f[7], SHOAL_MESSAGE_MAX, true)) != NULL;
        case SHOAL_MSG_WORK:
        case SHOAL_MSG_RESULTS:
        case SHOAL_MSG_ACK:
            return n == 5;
        case SHOAL_MSG_DONE:
        case SHOAL_MSG_QUERY:
        case SHOAL_MSG_NOLEADER:
            return n == 4;
    }
    return false;
}

static int
s_decode(const msgpack_object *root, void *arg)
{
    shoal_msg_t *msg = arg;
    if (root->type != MSGPACK_OBJECT_ARRAY || root->via.array.size < 4)
        return -1;
    const msgpack_object *f = root->via.array.ptr;
    uint32_t version, type;
    if (!s_uint(&f[0], 255, &version) || version != SHOAL_SESSION_VERSION ||
        !s_uint(&f[1], SHOAL_MSG_TYPE_LAST, &type) || type == 0)
        return -1;
    msg->type = (shoal_msg_type_t)type;
    if (f[2].type != MSGPACK_OBJECT_STR || f[2].via.str.size == 0 ||
        f[2].via.str.size > SHOAL_SESSION_ID_MAX || memchr(f[2].via.str.ptr, 0, f[2].via.str.size))
        return -1;
    memcpy(msg->session, f[2].via.str.ptr, f[2].via.str.size);
    msg->session[f[2].via.str.size] = '\0';
    if (!s_uint(&f[3], UINT32_MAX, &msg->term) || !s_fields(root, msg))
        return -1;
    if (s_item_fields(msg->type) == 0)
        return 0;
    const msgpack_object *list = &f[root->via.array.size - 1];
    if (list->type != MSGPACK_OBJECT_ARRAY || list->via.array.size > SHOAL_ITEMS_MAX)
        return -1;
    msg->items = calloc(list->via.array.size ? list->via.array.size : 1, sizeof(shoal_item_t));
    if (!msg->items)
        return -1;
    for (size_t i = 0; i < list->via.array.size; i++) {
        msg->item_count = i + 1; /* so clear frees a partly decoded item */
        if (!s_item(&list->via.array.ptr[i], msg->type, &msg->items[i]))
            return -1;
    }
    return 0;
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
    memset(msg, 0, sizeof(*msg));
}

const char *
shoal_msg_type_str(shoal_msg_type_t type)
{
    static const char *names[] = {"?",        "leader",  "want", "work",  "results",  "ack",
                                  "progress", "summary", "done", "query", "noleader", "refuse"};
    _Static_assert(sizeof(names) / sizeof(names[0]) == SHOAL_MSG_TYPE_LAST + 1, "a type unnamed");
    return type <= SHOAL_MSG_TYPE_LAST ? names[type] : "?";
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
