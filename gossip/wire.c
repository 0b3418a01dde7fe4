/* gossip/wire.c: the gossip wire codec (gossip/wire.h) and gossip_state_str.
 *
 * A frame is one type byte, then one msgpack array (every integer in its
 * smallest encoding, every string a msgpack str, "" where a name is unused):
 *
 *   PING       [ver, from, from_addr, seq, target, updates]
 *   ACK        [ver, from, from_addr, seq, target, updates]       target "" if direct
 *   PING_REQ   [ver, from, from_addr, seq, target, target_addr, updates]
 *   NACK       [ver, from, from_addr, seq, target, updates]
 *   GOSSIP     [ver, from, from_addr, seq, updates]
 *   PUSH_PULL  [ver, from, from_addr, seq, reply (bool), members, updates]
 *   USER       [ver, from, from_addr, seq, payload (bin), updates]
 *
 *   member     [name, addr, incarnation, state, from]             SUSPECT, DEAD, LEFT
 *              [name, addr, incarnation, state, from, slots, [tag...], version]  ALIVE
 *
 * Values: names 1..63 bytes of 0x21..0x7e (from, PING/PING_REQ target, member
 * names; ACK/NACK target and a member's from may be ""), addresses 0..127 of
 * the same, tags 1..63 and version 0..15 bytes without control characters.
 *
 * Invariants: decode never trusts a size. gossip_wire_check() walks the raw
 * bytes first (allocation-free), so msgpack-c only ever sees counts that fit in
 * the frame; then every value is shape- and range-checked and copied out before
 * the msgpack zone is freed. Encode refuses anything decode would refuse, so a
 * frame we send is a frame we accept.
 */
#include "gossip/wire.h"

#include <msgpack.h>
#include <string.h>

/* body -> updates/members -> member -> tags */
#define S_MAX_DEPTH 4

/* What a string field may hold; each kind has its own cap and alphabet. */
typedef enum {
    S_NAME,     /* non-empty, printable ASCII without spaces */
    S_NAME_OPT, /* "" or a name */
    S_ADDR,     /* printable ASCII without spaces, may be empty */
    S_TAG,      /* non-empty, no control characters */
    S_VERSION   /* no control characters, may be empty */
} s_kind_t;

const char *
gossip_state_str(gossip_state_t state)
{
    switch (state) {
        case GOSSIP_STATE_ALIVE:
            return "alive";
        case GOSSIP_STATE_SUSPECT:
            return "suspect";
        case GOSSIP_STATE_DEAD:
            return "dead";
        case GOSSIP_STATE_LEFT:
            return "left";
    }
    return "unknown";
}

const char *
gossip_wire_error_str(int err)
{
    switch (err) {
        case 0:
            return "ok";
        case GOSSIP_WIRE_ETRUNCATED:
            return "truncated";
        case GOSSIP_WIRE_ETOOBIG:
            return "too big";
        case GOSSIP_WIRE_ETYPE:
            return "unknown type";
        case GOSSIP_WIRE_EVERSION:
            return "unknown version";
        case GOSSIP_WIRE_EMALFORMED:
            return "malformed";
        case GOSSIP_WIRE_EVALUE:
            return "invalid value";
        default:
            return "unknown error";
    }
}

const char *
gossip_wire_type_str(gossip_wire_type_t type)
{
    switch (type) {
        case GOSSIP_WIRE_PING:
            return "ping";
        case GOSSIP_WIRE_ACK:
            return "ack";
        case GOSSIP_WIRE_PING_REQ:
            return "ping-req";
        case GOSSIP_WIRE_NACK:
            return "nack";
        case GOSSIP_WIRE_GOSSIP:
            return "gossip";
        case GOSSIP_WIRE_PUSH_PULL:
            return "push-pull";
        case GOSSIP_WIRE_USER:
            return "user";
    }
    return "unknown";
}

/* ------------------------------------------------------------ validation */

static size_t
s_kind_cap(s_kind_t kind)
{
    switch (kind) {
        case S_NAME:
        case S_NAME_OPT:
            return GOSSIP_NAME_MAX;
        case S_ADDR:
            return GOSSIP_ADDR_MAX;
        case S_TAG:
            return GOSSIP_TAG_MAX;
        case S_VERSION:
            return GOSSIP_VERSION_MAX;
    }
    return 0;
}

/* Checks one string of len bytes (not necessarily NUL-terminated) against its
 * kind. Shared by encode and decode so both sides agree on what is valid. */
static int
s_check_text(const char *text, size_t len, s_kind_t kind)
{
    if (len > s_kind_cap(kind))
        return GOSSIP_WIRE_ETOOBIG;
    if (len == 0 && (kind == S_NAME || kind == S_TAG))
        return GOSSIP_WIRE_EVALUE;
    bool spaces = kind == S_TAG || kind == S_VERSION;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)text[i];
        /* Names and addresses end up in logs and as map keys: keep them one
         * printable token. Tags and versions are free text minus controls. */
        if (c < 0x20 || c == 0x7f || (c == ' ' && !spaces) || (c > 0x7f && !spaces))
            return GOSSIP_WIRE_EVALUE;
    }
    return 0;
}

/* The same check for a NUL-terminated field of size bytes in a message. */
static int
s_check_field(const char *field, size_t size, s_kind_t kind)
{
    size_t len = strnlen(field, size);
    if (len == size)
        return GOSSIP_WIRE_ETOOBIG; /* not terminated */
    return s_check_text(field, len, kind);
}

/* How the target field of each type is checked; -1 where the type has none. */
static int
s_target_kind(gossip_wire_type_t type)
{
    switch (type) {
        case GOSSIP_WIRE_PING:
        case GOSSIP_WIRE_PING_REQ:
            return S_NAME;
        case GOSSIP_WIRE_ACK:
        case GOSSIP_WIRE_NACK:
            return S_NAME_OPT;
        default:
            return -1;
    }
}

/* Elements in the body array of each type. */
static uint32_t
s_body_len(gossip_wire_type_t type)
{
    switch (type) {
        case GOSSIP_WIRE_GOSSIP:
            return 5;
        case GOSSIP_WIRE_PING_REQ:
        case GOSSIP_WIRE_PUSH_PULL:
            return 7;
        default:
            return 6;
    }
}

/* ------------------------------------------------------------ raw walker */

static uint64_t
s_be(const uint8_t *p, size_t n)
{
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++)
        v = (v << 8) | p[i];
    return v;
}

long
gossip_wire_check(const uint8_t *buf, size_t len, int max_depth)
{
    if (!buf || len < 1)
        return GOSSIP_WIRE_ETRUNCATED;
    uint8_t b = buf[0];
    size_t head = 1;    /* header bytes, type byte included */
    uint64_t body = 0;  /* raw bytes after the header (str, bin, ext, scalars) */
    uint64_t items = 0; /* nested values after the header (array, map) */
    bool container = false;

    if (b <= 0x7f || b >= 0xe0 || b == 0xc0 || b == 0xc2 || b == 0xc3)
        return 1; /* fixint, nil, bool: the byte is the value */
    if (b == 0xc1)
        return GOSSIP_WIRE_EMALFORMED; /* never used */
    if (b <= 0x8f) {
        container = true;
        items = 2u * (b & 0x0fu);
    } else if (b <= 0x9f) {
        container = true;
        items = b & 0x0fu;
    } else if (b <= 0xbf)
        body = b & 0x1fu;
    else {
        /* 0xc4..0xdf: a big-endian length field, then fixed extra bytes (the
         * ext type, or a scalar's payload), then the raw bytes or values. */
        static const struct {
            uint8_t lenbytes, extra;
            uint8_t per_item; /* 0 raw bytes, 1 array values, 2 map values */
        } t[] = {
            [0xc4 - 0xc4] = {1, 0, 0}, [0xc5 - 0xc4] = {2, 0, 0}, [0xc6 - 0xc4] = {4, 0, 0},
            [0xc7 - 0xc4] = {1, 1, 0}, [0xc8 - 0xc4] = {2, 1, 0}, [0xc9 - 0xc4] = {4, 1, 0},
            [0xca - 0xc4] = {0, 4, 0}, [0xcb - 0xc4] = {0, 8, 0}, [0xcc - 0xc4] = {0, 1, 0},
            [0xcd - 0xc4] = {0, 2, 0}, [0xce - 0xc4] = {0, 4, 0}, [0xcf - 0xc4] = {0, 8, 0},
            [0xd0 - 0xc4] = {0, 1, 0}, [0xd1 - 0xc4] = {0, 2, 0}, [0xd2 - 0xc4] = {0, 4, 0},
            [0xd3 - 0xc4] = {0, 8, 0}, [0xd4 - 0xc4] = {0, 2, 0}, [0xd5 - 0xc4] = {0, 3, 0},
            [0xd6 - 0xc4] = {0, 5, 0}, [0xd7 - 0xc4] = {0, 9, 0}, [0xd8 - 0xc4] = {0, 17, 0},
            [0xd9 - 0xc4] = {1, 0, 0}, [0xda - 0xc4] = {2, 0, 0}, [0xdb - 0xc4] = {4, 0, 0},
            [0xdc - 0xc4] = {2, 0, 1}, [0xdd - 0xc4] = {4, 0, 1}, [0xde - 0xc4] = {2, 0, 2},
            [0xdf - 0xc4] = {4, 0, 2},
        };
        uint8_t lenbytes = t[b - 0xc4].lenbytes;
        if (len < 1u + lenbytes)
            return GOSSIP_WIRE_ETRUNCATED;
        uint64_t n = s_be(buf + 1, lenbytes);
        head = 1u + lenbytes;
        container = t[b - 0xc4].per_item > 0;
        if (container)
            items = t[b - 0xc4].per_item * n;
        else
            body = n + t[b - 0xc4].extra;
    }
    if (len < head)
        return GOSSIP_WIRE_ETRUNCATED;
    size_t left = len - head;
    if (!container) {
        if (body > left)
            return GOSSIP_WIRE_ETRUNCATED;
        return (long)(head + body);
    }
    /* Every nested value takes at least one byte: a count beyond the bytes
     * left is a lie, and we say so before anyone allocates for it. */
    if (items > left)
        return GOSSIP_WIRE_ETRUNCATED;
    if (items > 0 && max_depth <= 0)
        return GOSSIP_WIRE_EMALFORMED;
    size_t off = head;
    for (uint64_t i = 0; i < items; i++) {
        long size = gossip_wire_check(buf + off, len - off, max_depth - 1);
        if (size < 0)
            return size;
        off += (size_t)size;
    }
    return (long)off;
}

/* ------------------------------------------------------------ encode */

typedef struct {
    uint8_t *buf;
    size_t cap;
    size_t len;
} s_out_t;

static int
s_write(void *data, const char *bytes, size_t len)
{
    s_out_t *out = data;
    if (len > out->cap - out->len)
        return -1;
    memcpy(out->buf + out->len, bytes, len);
    out->len += len;
    return 0;
}

/* Packs a string field after checking it; -1 if invalid or out of room. */
static int
s_pack_text(msgpack_packer *pk, const char *field, size_t size, s_kind_t kind)
{
    if (s_check_field(field, size, kind) != 0)
        return -1;
    size_t len = strlen(field);
    if (msgpack_pack_str(pk, len) != 0 || msgpack_pack_str_body(pk, field, len) != 0)
        return -1;
    return 0;
}

#define S_PACK_TEXT(pk, field, kind) s_pack_text((pk), (field), sizeof(field), (kind))

static int
s_pack_member(msgpack_packer *pk, const gossip_wire_member_t *m)
{
    if ((unsigned)m->state > GOSSIP_STATE_LEFT)
        return -1;
    bool alive = m->state == GOSSIP_STATE_ALIVE;
    if (msgpack_pack_array(pk, alive ? 8 : 5) != 0 || S_PACK_TEXT(pk, m->name, S_NAME) != 0 ||
        S_PACK_TEXT(pk, m->addr, S_ADDR) != 0 || msgpack_pack_uint32(pk, m->incarnation) != 0 ||
        msgpack_pack_uint8(pk, (uint8_t)m->state) != 0 || S_PACK_TEXT(pk, m->from, S_NAME_OPT) != 0)
        return -1;
    if (!alive)
        return 0;
    if (m->meta.tag_count > GOSSIP_TAGS_MAX || msgpack_pack_uint16(pk, m->meta.slots) != 0 ||
        msgpack_pack_array(pk, m->meta.tag_count) != 0)
        return -1;
    for (size_t i = 0; i < m->meta.tag_count; i++)
        if (S_PACK_TEXT(pk, m->meta.tags[i], S_TAG) != 0)
            return -1;
    return S_PACK_TEXT(pk, m->meta.version, S_VERSION);
}

static int
s_pack_members(msgpack_packer *pk, const gossip_wire_member_t *members, size_t count)
{
    if (count > 0 && !members)
        return -1;
    if (msgpack_pack_array(pk, count) != 0)
        return -1;
    for (size_t i = 0; i < count; i++)
        if (s_pack_member(pk, &members[i]) != 0)
            return -1;
    return 0;
}

int
gossip_wire_encode(const gossip_wire_msg_t *msg, uint8_t *buf, size_t cap)
{
    if (!msg || !buf || msg->type < 1 || msg->type > GOSSIP_WIRE_TYPE_LAST)
        return -1;
    if (msg->update_count > GOSSIP_WIRE_MAX_UPDATES)
        return -1;
    s_out_t out = {buf, cap < GOSSIP_WIRE_MAX_FRAME ? cap : GOSSIP_WIRE_MAX_FRAME, 0};
    uint8_t type = (uint8_t)msg->type;
    if (s_write(&out, (const char *)&type, 1) != 0)
        return -1;
    msgpack_packer pk;
    msgpack_packer_init(&pk, &out, s_write);
    if (msgpack_pack_array(&pk, s_body_len(msg->type)) != 0 ||
        msgpack_pack_uint8(&pk, GOSSIP_WIRE_VERSION) != 0 ||
        S_PACK_TEXT(&pk, msg->from, S_NAME) != 0 || S_PACK_TEXT(&pk, msg->from_addr, S_ADDR) != 0 ||
        msgpack_pack_uint32(&pk, msg->seq) != 0)
        return -1;
    int target = s_target_kind(msg->type);
    if (target >= 0 && S_PACK_TEXT(&pk, msg->target, (s_kind_t)target) != 0)
        return -1;
    if (msg->type == GOSSIP_WIRE_PING_REQ && S_PACK_TEXT(&pk, msg->target_addr, S_ADDR) != 0)
        return -1;
    if (msg->type == GOSSIP_WIRE_PUSH_PULL) {
        if ((msg->reply ? msgpack_pack_true(&pk) : msgpack_pack_false(&pk)) != 0 ||
            msg->member_count > GOSSIP_WIRE_MAX_MEMBERS ||
            s_pack_members(&pk, msg->members, msg->member_count) != 0)
            return -1;
    }
    if (msg->type == GOSSIP_WIRE_USER) {
        if (msg->payload_len > GOSSIP_WIRE_MAX_PAYLOAD || (msg->payload_len > 0 && !msg->payload) ||
            msgpack_pack_bin(&pk, msg->payload_len) != 0 ||
            msgpack_pack_bin_body(&pk, msg->payload, msg->payload_len) != 0)
            return -1;
    }
    if (s_pack_members(&pk, msg->updates, msg->update_count) != 0)
        return -1;
    return (int)out.len;
}

/* ------------------------------------------------------------ decode */

static int
s_get_uint(const msgpack_object *o, uint64_t max, uint64_t *value)
{
    if (o->type != MSGPACK_OBJECT_POSITIVE_INTEGER)
        return GOSSIP_WIRE_EMALFORMED;
    if (o->via.u64 > max)
        return GOSSIP_WIRE_EVALUE;
    *value = o->via.u64;
    return 0;
}

/* Copies a msgpack str into a field of size bytes, NUL-terminated. */
static int
s_get_text(const msgpack_object *o, char *field, size_t size, s_kind_t kind)
{
    if (o->type != MSGPACK_OBJECT_STR)
        return GOSSIP_WIRE_EMALFORMED;
    size_t len = o->via.str.size;
    int rc = s_check_text(o->via.str.ptr, len, kind);
    if (rc != 0)
        return rc;
    if (len >= size) /* the caps and the field sizes agree; this is a seat belt */
        return GOSSIP_WIRE_ETOOBIG;
    memcpy(field, o->via.str.ptr, len);
    field[len] = '\0';
    return 0;
}

#define S_GET_TEXT(o, field, kind) s_get_text((o), (field), sizeof(field), (kind))

/* Checks o is an array of at most max entries. */
static int
s_get_array(const msgpack_object *o, size_t max, const msgpack_object_array **array)
{
    if (o->type != MSGPACK_OBJECT_ARRAY)
        return GOSSIP_WIRE_EMALFORMED;
    if (o->via.array.size > max)
        return GOSSIP_WIRE_ETOOBIG;
    *array = &o->via.array;
    return 0;
}

static int
s_get_meta(const msgpack_object *f, gossip_meta_t *meta)
{
    uint64_t slots;
    const msgpack_object_array *tags;
    int rc = s_get_uint(&f[0], UINT16_MAX, &slots);
    if (rc == 0)
        rc = s_get_array(&f[1], GOSSIP_TAGS_MAX, &tags);
    if (rc != 0)
        return rc;
    meta->slots = (uint16_t)slots;
    meta->tag_count = (uint8_t)tags->size;
    for (uint32_t i = 0; i < tags->size && rc == 0; i++)
        rc = S_GET_TEXT(&tags->ptr[i], meta->tags[i], S_TAG);
    if (rc == 0)
        rc = S_GET_TEXT(&f[2], meta->version, S_VERSION);
    return rc;
}

static int
s_get_member(const msgpack_object *o, gossip_wire_member_t *m)
{
    if (o->type != MSGPACK_OBJECT_ARRAY)
        return GOSSIP_WIRE_EMALFORMED;
    const msgpack_object_array *a = &o->via.array;
    if (a->size != 5 && a->size != 8)
        return GOSSIP_WIRE_EMALFORMED;
    uint64_t incarnation, state;
    int rc = S_GET_TEXT(&a->ptr[0], m->name, S_NAME);
    if (rc == 0)
        rc = S_GET_TEXT(&a->ptr[1], m->addr, S_ADDR);
    if (rc == 0)
        rc = s_get_uint(&a->ptr[2], UINT32_MAX, &incarnation);
    if (rc == 0)
        rc = s_get_uint(&a->ptr[3], GOSSIP_STATE_LEFT, &state);
    if (rc == 0)
        rc = S_GET_TEXT(&a->ptr[4], m->from, S_NAME_OPT);
    if (rc != 0)
        return rc;
    m->incarnation = (uint32_t)incarnation;
    m->state = (gossip_state_t)state;
    /* Only ALIVE entries carry metadata, and they always do. */
    if (a->size != (m->state == GOSSIP_STATE_ALIVE ? 8u : 5u))
        return GOSSIP_WIRE_EMALFORMED;
    return m->state == GOSSIP_STATE_ALIVE ? s_get_meta(&a->ptr[5], &m->meta) : 0;
}

static int
s_get_members(const msgpack_object *o, size_t max, gossip_wire_member_t *out, uint16_t *count)
{
    const msgpack_object_array *a;
    int rc = s_get_array(o, max, &a);
    if (rc != 0)
        return rc;
    if (a->size > 0 && !out)
        return GOSSIP_WIRE_ETOOBIG; /* the caller has nowhere to put them */
    for (uint32_t i = 0; i < a->size && rc == 0; i++) {
        memset(&out[i], 0, sizeof(out[i]));
        rc = s_get_member(&a->ptr[i], &out[i]);
    }
    *count = (uint16_t)a->size;
    return rc;
}

/* Checks the version, then the shape of the body, then fills msg from it. */
static int
s_get_frame(const msgpack_object *body, gossip_wire_msg_t *msg)
{
    if (body->type != MSGPACK_OBJECT_ARRAY || body->via.array.size < 1)
        return GOSSIP_WIRE_EMALFORMED;
    /* The version comes first and is judged before the shape: a newer
     * version may well have a different one. */
    const msgpack_object *f = body->via.array.ptr;
    uint64_t version, seq;
    int rc = s_get_uint(&f[0], UINT64_MAX, &version);
    if (rc != 0)
        return rc;
    if (version != GOSSIP_WIRE_VERSION)
        return GOSSIP_WIRE_EVERSION;
    if (body->via.array.size != s_body_len(msg->type))
        return GOSSIP_WIRE_EMALFORMED;
    rc = S_GET_TEXT(&f[1], msg->from, S_NAME);
    if (rc == 0)
        rc = S_GET_TEXT(&f[2], msg->from_addr, S_ADDR);
    if (rc == 0)
        rc = s_get_uint(&f[3], UINT32_MAX, &seq);
    if (rc != 0)
        return rc;
    msg->seq = (uint32_t)seq;
    f += 4;
    int target = s_target_kind(msg->type);
    if (target >= 0 && (rc = S_GET_TEXT(f++, msg->target, (s_kind_t)target)) != 0)
        return rc;
    if (msg->type == GOSSIP_WIRE_PING_REQ && (rc = S_GET_TEXT(f++, msg->target_addr, S_ADDR)) != 0)
        return rc;
    if (msg->type == GOSSIP_WIRE_PUSH_PULL) {
        if (f->type != MSGPACK_OBJECT_BOOLEAN)
            return GOSSIP_WIRE_EMALFORMED;
        msg->reply = (f++)->via.boolean;
        rc = s_get_members(f++, GOSSIP_WIRE_MAX_MEMBERS, msg->members, &msg->member_count);
        if (rc != 0)
            return rc;
    }
    if (msg->type == GOSSIP_WIRE_USER) {
        if (f->type != MSGPACK_OBJECT_BIN)
            return GOSSIP_WIRE_EMALFORMED;
        size_t len = f->via.bin.size;
        if (len > GOSSIP_WIRE_MAX_PAYLOAD || (len > 0 && !msg->payload))
            return GOSSIP_WIRE_ETOOBIG;
        if (len > 0)
            memcpy(msg->payload, f->via.bin.ptr, len);
        msg->payload_len = len;
        f++;
    }
    return s_get_members(f, GOSSIP_WIRE_MAX_UPDATES, msg->updates, &msg->update_count);
}

int
gossip_wire_decode(const uint8_t *buf, size_t len, gossip_wire_msg_t *msg)
{
    if (!buf || !msg || len < 1)
        return GOSSIP_WIRE_ETRUNCATED;
    if (len > GOSSIP_WIRE_MAX_FRAME)
        return GOSSIP_WIRE_ETOOBIG;
    if (buf[0] < 1 || buf[0] > GOSSIP_WIRE_TYPE_LAST)
        return GOSSIP_WIRE_ETYPE;
    long size = gossip_wire_check(buf + 1, len - 1, S_MAX_DEPTH);
    if (size < 0)
        return (int)size;
    if ((size_t)size != len - 1)
        return GOSSIP_WIRE_EMALFORMED; /* trailing bytes */

    /* The caller's buffers survive the reset; everything else starts at zero. */
    gossip_wire_member_t *members = msg->members;
    uint8_t *payload = msg->payload;
    memset(msg, 0, sizeof(*msg));
    msg->members = members;
    msg->payload = payload;
    msg->type = (gossip_wire_type_t)buf[0];

    msgpack_unpacked unpacked;
    msgpack_unpacked_init(&unpacked);
    size_t off = 0;
    int rc;
    switch (msgpack_unpack_next(&unpacked, (const char *)buf + 1, len - 1, &off)) {
        case MSGPACK_UNPACK_SUCCESS:
            rc = s_get_frame(&unpacked.data, msg);
            break;
        case MSGPACK_UNPACK_NOMEM_ERROR:
            rc = GOSSIP_WIRE_ETOOBIG;
            break;
        default: /* the walker accepted it, so msgpack-c should have too */
            rc = GOSSIP_WIRE_EMALFORMED;
            break;
    }
    msgpack_unpacked_destroy(&unpacked);
    return rc;
}
