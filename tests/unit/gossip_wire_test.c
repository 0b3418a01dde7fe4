/* Behaviours of the gossip wire codec (gossip/wire.c): every type survives a
 * round trip, and every way a frame can lie (truncation, size bombs, wrong
 * types, bad values, too much nesting) is rejected with its own error code
 * rather than a crash or a huge allocation. Hostile frames are built by hand
 * with msgpack-c's packer so each test breaks exactly one thing.
 */
#include "harness.h"
#define TEST(g, n) void test_##g##_##n(void);
#include "gossip.list"
#undef TEST

#include "gossip/wire.h"

#include <msgpack.h>

static gossip_wire_member_t s_members_in[GOSSIP_WIRE_MAX_MEMBERS];
static gossip_wire_member_t s_members_out[GOSSIP_WIRE_MAX_MEMBERS];
static uint8_t s_payload_in[GOSSIP_WIRE_MAX_PAYLOAD];
static uint8_t s_payload_out[GOSSIP_WIRE_MAX_PAYLOAD];
static uint8_t s_frame[GOSSIP_WIRE_MAX_FRAME];
static gossip_wire_msg_t s_in, s_out;

/* ------------------------------------------------------------ helpers */

static void
s_member(gossip_wire_member_t *m, const char *name, gossip_state_t state, uint32_t incarnation)
{
    memset(m, 0, sizeof(*m));
    snprintf(m->name, sizeof(m->name), "%s", name);
    snprintf(m->addr, sizeof(m->addr), "10.0.0.%u:7946", (unsigned)(incarnation % 250));
    m->incarnation = incarnation;
    m->state = state;
    if (state == GOSSIP_STATE_ALIVE) {
        m->meta.slots = 8;
        m->meta.tag_count = 2;
        snprintf(m->meta.tags[0], sizeof(m->meta.tags[0]), "arch=arm64");
        snprintf(m->meta.tags[1], sizeof(m->meta.tags[1]), "gpu=nvidia a100");
        snprintf(m->meta.version, sizeof(m->meta.version), "0.1.0");
    } else
        snprintf(m->from, sizeof(m->from), "accuser-%u", (unsigned)incarnation);
}

/* A message of the given type with every field it carries filled in. */
static gossip_wire_msg_t *
s_sample(gossip_wire_type_t type)
{
    gossip_wire_msg_t *msg = &s_in;
    memset(msg, 0, sizeof(*msg));
    msg->type = type;
    msg->members = s_members_in;
    msg->payload = s_payload_in;
    snprintf(msg->from, sizeof(msg->from), "node-a");
    snprintf(msg->from_addr, sizeof(msg->from_addr), "127.0.0.1:7946");
    msg->seq = 4000000000u;
    if (type == GOSSIP_WIRE_PING || type == GOSSIP_WIRE_PING_REQ || type == GOSSIP_WIRE_ACK ||
        type == GOSSIP_WIRE_NACK)
        snprintf(msg->target, sizeof(msg->target), "node-b");
    if (type == GOSSIP_WIRE_PING_REQ)
        snprintf(msg->target_addr, sizeof(msg->target_addr), "127.0.0.2:7946");
    if (type == GOSSIP_WIRE_PUSH_PULL) {
        msg->reply = true;
        msg->member_count = 40;
        for (uint16_t i = 0; i < msg->member_count; i++) {
            char name[32];
            snprintf(name, sizeof(name), "member-%u", (unsigned)i);
            s_member(&msg->members[i], name, (gossip_state_t)(i % 4), i * 1000u);
        }
    }
    if (type == GOSSIP_WIRE_USER) {
        msg->payload_len = 3000;
        for (size_t i = 0; i < msg->payload_len; i++)
            msg->payload[i] = (uint8_t)(i * 7);
    }
    msg->update_count = 4;
    for (uint16_t i = 0; i < msg->update_count; i++) {
        char name[32];
        snprintf(name, sizeof(name), "peer-%u", (unsigned)i);
        s_member(&msg->updates[i], name, (gossip_state_t)i, 70000u + i);
    }
    return msg;
}

static void
s_check_member_equal(const gossip_wire_member_t *a, const gossip_wire_member_t *b)
{
    CHECK_STR(a->name, b->name);
    CHECK_STR(a->addr, b->addr);
    CHECK_STR(a->from, b->from);
    CHECK_INT(a->incarnation, ==, b->incarnation);
    CHECK_INT(a->state, ==, b->state);
    CHECK_INT(a->meta.slots, ==, b->meta.slots);
    CHECK_INT(a->meta.tag_count, ==, b->meta.tag_count);
    for (size_t i = 0; i < a->meta.tag_count; i++)
        CHECK_STR(a->meta.tags[i], b->meta.tags[i]);
    CHECK_STR(a->meta.version, b->meta.version);
}

static void
s_roundtrip(gossip_wire_type_t type)
{
    const gossip_wire_msg_t *in = s_sample(type);
    int len = gossip_wire_encode(in, s_frame, sizeof(s_frame));
    CHECK_INT(len, >, 0);
    CHECK_INT(s_frame[0], ==, type);
    memset(&s_out, 0xa5, sizeof(s_out));
    s_out.members = s_members_out;
    s_out.payload = s_payload_out;
    CHECK_INT(gossip_wire_decode(s_frame, (size_t)len, &s_out), ==, 0);
    CHECK_INT(s_out.type, ==, type);
    CHECK_STR(s_out.from, in->from);
    CHECK_STR(s_out.from_addr, in->from_addr);
    CHECK_INT(s_out.seq, ==, in->seq);
    CHECK_STR(s_out.target, in->target);
    CHECK_STR(s_out.target_addr, in->target_addr);
    CHECK_INT(s_out.reply, ==, in->reply);
    CHECK_INT(s_out.update_count, ==, in->update_count);
    for (size_t i = 0; i < in->update_count; i++)
        s_check_member_equal(&s_out.updates[i], &in->updates[i]);
    CHECK_INT(s_out.member_count, ==, in->member_count);
    for (size_t i = 0; i < in->member_count; i++)
        s_check_member_equal(&s_out.members[i], &in->members[i]);
    CHECK_INT(s_out.payload_len, ==, in->payload_len);
    CHECK(memcmp(s_out.payload, in->payload, in->payload_len) == 0);
    CHECK(s_out.members == s_members_out && s_out.payload == s_payload_out);
}

static int
s_decode(const void *frame, size_t len)
{
    memset(&s_out, 0, sizeof(s_out));
    s_out.members = s_members_out;
    s_out.payload = s_payload_out;
    return gossip_wire_decode(frame, len, &s_out);
}

/* A hand-built frame: the type byte, then whatever the test packs. */
typedef struct {
    msgpack_sbuffer sb;
    msgpack_packer pk;
} s_hand_t;

static msgpack_packer *
s_hand_begin(s_hand_t *h, uint8_t type)
{
    msgpack_sbuffer_init(&h->sb);
    msgpack_packer_init(&h->pk, &h->sb, msgpack_sbuffer_write);
    msgpack_sbuffer_write(&h->sb, (const char *)&type, 1);
    return &h->pk;
}

static int
s_hand_decode(s_hand_t *h)
{
    int rc = s_decode(h->sb.data, h->sb.size);
    msgpack_sbuffer_destroy(&h->sb);
    return rc;
}

static void
s_pack_str(msgpack_packer *pk, const char *s)
{
    msgpack_pack_str(pk, strlen(s));
    msgpack_pack_str_body(pk, s, strlen(s));
}

/* [version, from, from_addr, seq] of a body of n elements. */
static msgpack_packer *
s_hand_header(s_hand_t *h, uint8_t type, uint32_t n, const char *from)
{
    msgpack_packer *pk = s_hand_begin(h, type);
    msgpack_pack_array(pk, n);
    msgpack_pack_uint8(pk, GOSSIP_WIRE_VERSION);
    s_pack_str(pk, from);
    s_pack_str(pk, "127.0.0.1:1");
    msgpack_pack_uint8(pk, 1);
    return pk;
}

/* A member entry of n elements: [name, addr, 1, state, ""], then whatever
 * the caller packs for the other n - 5. */
static void
s_pack_entry(msgpack_packer *pk, uint32_t n, const char *name, uint64_t state)
{
    msgpack_pack_array(pk, n);
    s_pack_str(pk, name);
    s_pack_str(pk, "127.0.0.1:2");
    msgpack_pack_uint8(pk, 1);
    msgpack_pack_uint64(pk, state);
    s_pack_str(pk, "");
}

/* A GOSSIP frame whose one update starts as s_pack_entry() packs it. */
static msgpack_packer *
s_hand_update(s_hand_t *h, uint32_t n, const char *name, uint64_t state)
{
    msgpack_packer *pk = s_hand_header(h, GOSSIP_WIRE_GOSSIP, 5, "node-a");
    msgpack_pack_array(pk, 1);
    s_pack_entry(pk, n, name, state);
    return pk;
}

static int
s_decode_update(const char *name, uint64_t state)
{
    s_hand_t h;
    s_hand_update(&h, 5, name, state);
    return s_hand_decode(&h);
}

/* A GOSSIP frame whose header field number bad (0 version, 1 from, 2
 * from_addr, 3 seq) has the wrong msgpack type. */
static int
s_decode_bad_header(int bad)
{
    s_hand_t h;
    msgpack_packer *pk = s_hand_begin(&h, GOSSIP_WIRE_GOSSIP);
    msgpack_pack_array(pk, 5);
    if (bad == 0)
        msgpack_pack_double(pk, 1.0);
    else
        msgpack_pack_uint8(pk, GOSSIP_WIRE_VERSION);
    for (int field = 1; field <= 2; field++) {
        if (bad == field)
            msgpack_pack_uint8(pk, 7);
        else
            s_pack_str(pk, field == 1 ? "node-a" : "127.0.0.1:1");
    }
    if (bad == 3)
        s_pack_str(pk, "1");
    else
        msgpack_pack_uint8(pk, 1);
    msgpack_pack_array(pk, 0);
    return s_hand_decode(&h);
}

/* ------------------------------------------------------------ round trips */

void
test_gossip_wire_roundtrip_ping(void)
{
    s_roundtrip(GOSSIP_WIRE_PING);
}

void
test_gossip_wire_roundtrip_ack(void)
{
    s_roundtrip(GOSSIP_WIRE_ACK);
}

void
test_gossip_wire_roundtrip_ping_req(void)
{
    s_roundtrip(GOSSIP_WIRE_PING_REQ);
}

void
test_gossip_wire_roundtrip_nack(void)
{
    s_roundtrip(GOSSIP_WIRE_NACK);
}

void
test_gossip_wire_roundtrip_gossip(void)
{
    s_roundtrip(GOSSIP_WIRE_GOSSIP);
}

void
test_gossip_wire_roundtrip_push_pull(void)
{
    s_roundtrip(GOSSIP_WIRE_PUSH_PULL);
}

void
test_gossip_wire_roundtrip_user(void)
{
    s_roundtrip(GOSSIP_WIRE_USER);
}

void
test_gossip_wire_roundtrip_limits(void)
{
    /* Every cap reached at once, and the extreme integer values. */
    gossip_wire_msg_t *msg = s_sample(GOSSIP_WIRE_PUSH_PULL);
    memset(msg->from, 'n', GOSSIP_NAME_MAX);
    memset(msg->from_addr, 'a', GOSSIP_ADDR_MAX);
    msg->seq = UINT32_MAX;
    msg->update_count = GOSSIP_WIRE_MAX_UPDATES;
    for (size_t i = 0; i < GOSSIP_WIRE_MAX_UPDATES; i++) {
        gossip_wire_member_t *m = &msg->updates[i];
        s_member(m, "x", GOSSIP_STATE_ALIVE, UINT32_MAX);
        m->meta.slots = UINT16_MAX;
        m->meta.tag_count = GOSSIP_TAGS_MAX;
        for (size_t t = 0; t < GOSSIP_TAGS_MAX; t++)
            memset(m->meta.tags[t], 't', GOSSIP_TAG_MAX);
        memset(m->meta.version, 'v', GOSSIP_VERSION_MAX);
    }
    int len = gossip_wire_encode(msg, s_frame, sizeof(s_frame));
    CHECK_INT(len, >, 0);
    CHECK_INT(s_decode(s_frame, (size_t)len), ==, 0);
    CHECK_INT(s_out.seq, ==, UINT32_MAX);
    CHECK_INT(strlen(s_out.from), ==, GOSSIP_NAME_MAX);
    CHECK_INT(s_out.update_count, ==, GOSSIP_WIRE_MAX_UPDATES);
    s_check_member_equal(&s_out.updates[23], &msg->updates[23]);
}

void
test_gossip_wire_non_alive_carries_no_meta(void)
{
    /* Metadata only matters for ALIVE; the others leave it out to stay small. */
    gossip_wire_msg_t *msg = s_sample(GOSSIP_WIRE_GOSSIP);
    msg->update_count = 1;
    s_member(&msg->updates[0], "gone", GOSSIP_STATE_DEAD, 3);
    msg->updates[0].meta.slots = 9;
    int len = gossip_wire_encode(msg, s_frame, sizeof(s_frame));
    CHECK_INT(s_decode(s_frame, (size_t)len), ==, 0);
    CHECK_INT(s_out.updates[0].state, ==, GOSSIP_STATE_DEAD);
    CHECK_INT(s_out.updates[0].meta.slots, ==, 0);
    CHECK_STR(s_out.updates[0].from, "accuser-3");
}

void
test_gossip_wire_empty_probe_is_small(void)
{
    /* Idle traffic is all PING/ACK: keep them well under 100 bytes. */
    gossip_wire_msg_t *msg = s_sample(GOSSIP_WIRE_PING);
    msg->update_count = 0;
    int ping = gossip_wire_encode(msg, s_frame, sizeof(s_frame));
    CHECK_INT(ping, >, 0);
    CHECK_INT(ping, <, 64);
    msg->type = GOSSIP_WIRE_ACK;
    msg->target[0] = '\0';
    int ack = gossip_wire_encode(msg, s_frame, sizeof(s_frame));
    CHECK_INT(ack, >, 0);
    CHECK_INT(ack, <, ping);
    CHECK_INT(s_decode(s_frame, (size_t)ack), ==, 0);
    CHECK_STR(s_out.target, "");
}

/* ------------------------------------------------------------ structural */

void
test_gossip_wire_rejects_every_truncation(void)
{
    for (int type = 1; type <= GOSSIP_WIRE_TYPE_LAST; type++) {
        int len = gossip_wire_encode(s_sample((gossip_wire_type_t)type), s_frame, sizeof(s_frame));
        CHECK_INT(len, >, 0);
        for (int cut = 0; cut < len; cut++) {
            /* A fresh copy of exactly cut bytes, so ASan sees any over-read. */
            uint8_t *prefix = malloc((size_t)cut + 1);
            CHECK(prefix);
            memcpy(prefix, s_frame, (size_t)cut);
            CHECK_INT(s_decode(prefix, (size_t)cut), ==, GOSSIP_WIRE_ETRUNCATED);
            free(prefix);
        }
        CHECK_INT(s_decode(s_frame, (size_t)len), ==, 0);
    }
}

void
test_gossip_wire_rejects_trailing_bytes(void)
{
    int len = gossip_wire_encode(s_sample(GOSSIP_WIRE_PING), s_frame, sizeof(s_frame));
    s_frame[len] = 0xc0;
    CHECK_INT(s_decode(s_frame, (size_t)len + 1), ==, GOSSIP_WIRE_EMALFORMED);
}

void
test_gossip_wire_rejects_unknown_type(void)
{
    int len = gossip_wire_encode(s_sample(GOSSIP_WIRE_PING), s_frame, sizeof(s_frame));
    s_frame[0] = 0;
    CHECK_INT(s_decode(s_frame, (size_t)len), ==, GOSSIP_WIRE_ETYPE);
    s_frame[0] = GOSSIP_WIRE_TYPE_LAST + 1;
    CHECK_INT(s_decode(s_frame, (size_t)len), ==, GOSSIP_WIRE_ETYPE);
    s_frame[0] = 0xff;
    CHECK_INT(s_decode(s_frame, 1), ==, GOSSIP_WIRE_ETYPE);
    CHECK_INT(s_decode(s_frame, 0), ==, GOSSIP_WIRE_ETRUNCATED);
}

void
test_gossip_wire_rejects_wrong_version(void)
{
    int len = gossip_wire_encode(s_sample(GOSSIP_WIRE_PING), s_frame, sizeof(s_frame));
    CHECK_INT(s_frame[2], ==, GOSSIP_WIRE_VERSION); /* type, fixarray, version */
    s_frame[2] = GOSSIP_WIRE_VERSION + 1;
    CHECK_INT(s_decode(s_frame, (size_t)len), ==, GOSSIP_WIRE_EVERSION);
    s_frame[2] = 0;
    CHECK_INT(s_decode(s_frame, (size_t)len), ==, GOSSIP_WIRE_EVERSION);

    /* A future version may change the shape: judged by its version alone. */
    s_hand_t h;
    msgpack_packer *pk = s_hand_begin(&h, GOSSIP_WIRE_PING);
    msgpack_pack_array(pk, 2);
    msgpack_pack_uint64(pk, UINT64_MAX);
    msgpack_pack_nil(pk);
    CHECK_INT(s_hand_decode(&h), ==, GOSSIP_WIRE_EVERSION);

    pk = s_hand_begin(&h, GOSSIP_WIRE_PING);
    msgpack_pack_array(pk, 1);
    s_pack_str(pk, "1");
    CHECK_INT(s_hand_decode(&h), ==, GOSSIP_WIRE_EMALFORMED);
}

void
test_gossip_wire_rejects_size_bombs(void)
{
    /* 11 bytes that would make a trusting decoder allocate for 4G elements. */
    static const uint8_t array_bomb[] = {
        GOSSIP_WIRE_PING, 0xdd, 0xff, 0xff, 0xff, 0xff, 0x01, 0x02, 0x03, 0x04, 0x05};
    CHECK_INT(s_decode(array_bomb, sizeof(array_bomb)), ==, GOSSIP_WIRE_ETRUNCATED);
    static const uint8_t map_bomb[] = {
        GOSSIP_WIRE_PING, 0xdf, 0xff, 0xff, 0xff, 0xff, 0x01, 0x02, 0x03, 0x04, 0x05};
    CHECK_INT(s_decode(map_bomb, sizeof(map_bomb)), ==, GOSSIP_WIRE_ETRUNCATED);
    /* A str32 claiming 4 GiB inside an otherwise plausible body. */
    static const uint8_t str_bomb[] = {
        GOSSIP_WIRE_PING, 0x96, 0x01, 0xdb, 0xff, 0xff, 0xff, 0xff, 0x61, 0x62, 0x63};
    CHECK_INT(s_decode(str_bomb, sizeof(str_bomb)), ==, GOSSIP_WIRE_ETRUNCATED);
    static const uint8_t bin_bomb[] = {GOSSIP_WIRE_USER, 0xc6, 0xff, 0xff, 0xff, 0xff};
    CHECK_INT(s_decode(bin_bomb, sizeof(bin_bomb)), ==, GOSSIP_WIRE_ETRUNCATED);
    static const uint8_t ext_bomb[] = {GOSSIP_WIRE_USER, 0xc9, 0xff, 0xff, 0xff, 0xff, 0x01};
    CHECK_INT(s_decode(ext_bomb, sizeof(ext_bomb)), ==, GOSSIP_WIRE_ETRUNCATED);
    /* Map pairs count twice: 3 pairs need 6 bytes, 5 are there. */
    static const uint8_t map_short[] = {0x83, 1, 2, 3, 4, 5};
    CHECK_INT(gossip_wire_check(map_short, sizeof(map_short), 4), ==, GOSSIP_WIRE_ETRUNCATED);
    /* A frame over the cap is refused before anything looks inside. */
    CHECK_INT(s_decode(s_frame, GOSSIP_WIRE_MAX_FRAME + 1), ==, GOSSIP_WIRE_ETOOBIG);
}

void
test_gossip_wire_check_sizes_every_format(void)
{
    static const struct {
        uint8_t bytes[24];
        size_t len; /* the value's size */
    } cases[] = {
        {{0x05}, 1},
        {{0xe0}, 1},
        {{0xc0}, 1},
        {{0xc3}, 1},
        {{0xa2, 'h', 'i'}, 3},
        {{0xd9, 1, 'x'}, 3},
        {{0xda, 0, 1, 'x'}, 4},
        {{0xdb, 0, 0, 0, 1, 'x'}, 6},
        {{0xc4, 2, 1, 2}, 4},
        {{0xc5, 0, 1, 9}, 4},
        {{0xc6, 0, 0, 0, 1, 9}, 6},
        {{0xc7, 1, 5, 9}, 4},
        {{0xc8, 0, 1, 5, 9}, 5},
        {{0xc9, 0, 0, 0, 1, 5, 9}, 7},
        {{0xca, 0, 0, 0, 0}, 5},
        {{0xcb, 0, 0, 0, 0, 0, 0, 0, 0}, 9},
        {{0xcc, 1}, 2},
        {{0xcd, 1, 2}, 3},
        {{0xce, 1, 2, 3, 4}, 5},
        {{0xcf, 1, 2, 3, 4, 5, 6, 7, 8}, 9},
        {{0xd0, 1}, 2},
        {{0xd3, 1, 2, 3, 4, 5, 6, 7, 8}, 9},
        {{0xd4, 1, 2}, 3},
        {{0xd8, 1}, 18},
        {{0x92, 0x01, 0xa1, 'x'}, 4},
        {{0xdc, 0, 1, 0x90}, 4},
        {{0xdd, 0, 0, 0, 1, 0x80}, 6},
        {{0x81, 0x01, 0x02}, 3},
        {{0xde, 0, 1, 0xa0, 0xc0}, 5},
        {{0xdf, 0, 0, 0, 1, 0xc2, 0xc3}, 7},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        CHECK_INT(gossip_wire_check(cases[i].bytes, sizeof(cases[i].bytes), 4), ==, cases[i].len);
        CHECK_INT(gossip_wire_check(cases[i].bytes, cases[i].len - 1, 4), ==,
                  GOSSIP_WIRE_ETRUNCATED);
    }
    static const uint8_t reserved[] = {0xc1};
    CHECK_INT(gossip_wire_check(reserved, 1, 4), ==, GOSSIP_WIRE_EMALFORMED);
}

void
test_gossip_wire_rejects_deep_nesting(void)
{
    uint8_t nest[64];
    memset(nest, 0x91, sizeof(nest)); /* [[[[...]]]] */
    nest[sizeof(nest) - 1] = 0x90;
    CHECK_INT(gossip_wire_check(nest, sizeof(nest), 4), ==, GOSSIP_WIRE_EMALFORMED);
    CHECK_INT(gossip_wire_check(nest + 59, 5, 4), ==, 5);
    CHECK_INT(gossip_wire_check(nest + 58, 6, 4), ==, GOSSIP_WIRE_EMALFORMED);

    /* A tag that is an array one level too deep for any frame. */
    s_hand_t h;
    msgpack_packer *pk = s_hand_update(&h, 8, "peer", GOSSIP_STATE_ALIVE);
    msgpack_pack_uint8(pk, 1);
    msgpack_pack_array(pk, 1);
    msgpack_pack_array(pk, 1);
    s_pack_str(pk, "deep");
    s_pack_str(pk, "0.1");
    CHECK_INT(s_hand_decode(&h), ==, GOSSIP_WIRE_EMALFORMED);
}

void
test_gossip_wire_rejects_wrong_body_length(void)
{
    /* A PING body with the PING_REQ length, and a GOSSIP body with six. */
    s_hand_t h;
    msgpack_packer *pk = s_hand_header(&h, GOSSIP_WIRE_PING, 7, "node-a");
    s_pack_str(pk, "node-b");
    s_pack_str(pk, "127.0.0.1:2");
    msgpack_pack_array(pk, 0);
    CHECK_INT(s_hand_decode(&h), ==, GOSSIP_WIRE_EMALFORMED);

    pk = s_hand_header(&h, GOSSIP_WIRE_GOSSIP, 6, "node-a");
    s_pack_str(pk, "node-b");
    msgpack_pack_array(pk, 0);
    CHECK_INT(s_hand_decode(&h), ==, GOSSIP_WIRE_EMALFORMED);

    pk = s_hand_begin(&h, GOSSIP_WIRE_PING);
    msgpack_pack_map(pk, 0);
    CHECK_INT(s_hand_decode(&h), ==, GOSSIP_WIRE_EMALFORMED);

    pk = s_hand_begin(&h, GOSSIP_WIRE_PING);
    msgpack_pack_array(pk, 0);
    CHECK_INT(s_hand_decode(&h), ==, GOSSIP_WIRE_EMALFORMED);
}

/* ------------------------------------------------------------ element types */

void
test_gossip_wire_rejects_wrong_element_types(void)
{
    for (int bad = 0; bad < 4; bad++)
        CHECK_INT(s_decode_bad_header(bad), ==, GOSSIP_WIRE_EMALFORMED);
    CHECK_INT(s_decode_bad_header(-1), ==, 0);

    s_hand_t h;
    msgpack_packer *pk;
    /* updates as a map */
    pk = s_hand_header(&h, GOSSIP_WIRE_GOSSIP, 5, "node-a");
    msgpack_pack_map(pk, 0);
    CHECK_INT(s_hand_decode(&h), ==, GOSSIP_WIRE_EMALFORMED);

    /* target as bin */
    pk = s_hand_header(&h, GOSSIP_WIRE_PING, 6, "node-a");
    msgpack_pack_bin(pk, 1);
    msgpack_pack_bin_body(pk, "b", 1);
    msgpack_pack_array(pk, 0);
    CHECK_INT(s_hand_decode(&h), ==, GOSSIP_WIRE_EMALFORMED);

    /* reply as an integer */
    pk = s_hand_header(&h, GOSSIP_WIRE_PUSH_PULL, 7, "node-a");
    msgpack_pack_uint8(pk, 1);
    msgpack_pack_array(pk, 0);
    msgpack_pack_array(pk, 0);
    CHECK_INT(s_hand_decode(&h), ==, GOSSIP_WIRE_EMALFORMED);

    /* payload as a string */
    pk = s_hand_header(&h, GOSSIP_WIRE_USER, 6, "node-a");
    s_pack_str(pk, "payload");
    msgpack_pack_array(pk, 0);
    CHECK_INT(s_hand_decode(&h), ==, GOSSIP_WIRE_EMALFORMED);

    /* a member that is a string, and one with a negative incarnation */
    pk = s_hand_header(&h, GOSSIP_WIRE_GOSSIP, 5, "node-a");
    msgpack_pack_array(pk, 1);
    s_pack_str(pk, "peer");
    CHECK_INT(s_hand_decode(&h), ==, GOSSIP_WIRE_EMALFORMED);

    pk = s_hand_header(&h, GOSSIP_WIRE_GOSSIP, 5, "node-a");
    msgpack_pack_array(pk, 1);
    msgpack_pack_array(pk, 5);
    s_pack_str(pk, "peer");
    s_pack_str(pk, "127.0.0.1:2");
    msgpack_pack_int8(pk, -1);
    msgpack_pack_uint8(pk, GOSSIP_STATE_DEAD);
    s_pack_str(pk, "node-a");
    CHECK_INT(s_hand_decode(&h), ==, GOSSIP_WIRE_EMALFORMED);
}

void
test_gossip_wire_rejects_member_shape(void)
{
    /* ALIVE must carry metadata (8 elements), the others must not (5). */
    CHECK_INT(s_decode_update("peer", GOSSIP_STATE_ALIVE), ==, GOSSIP_WIRE_EMALFORMED);
    s_hand_t h;
    msgpack_packer *pk = s_hand_update(&h, 8, "peer", GOSSIP_STATE_SUSPECT);
    msgpack_pack_uint8(pk, 1);
    msgpack_pack_array(pk, 0);
    s_pack_str(pk, "0.1");
    CHECK_INT(s_hand_decode(&h), ==, GOSSIP_WIRE_EMALFORMED);
}

/* ------------------------------------------------------------ values */

void
test_gossip_wire_rejects_bad_state(void)
{
    CHECK_INT(s_decode_update("peer", GOSSIP_STATE_LEFT), ==, 0);
    CHECK_INT(s_decode_update("peer", 4), ==, GOSSIP_WIRE_EVALUE);
    CHECK_INT(s_decode_update("peer", UINT64_MAX), ==, GOSSIP_WIRE_EVALUE);
}

void
test_gossip_wire_rejects_overlong_name(void)
{
    char name[GOSSIP_NAME_MAX + 2];
    memset(name, 'n', sizeof(name) - 1);
    name[sizeof(name) - 1] = '\0';
    CHECK_INT(s_decode_update(name, GOSSIP_STATE_DEAD), ==, GOSSIP_WIRE_ETOOBIG);
    name[GOSSIP_NAME_MAX] = '\0';
    CHECK_INT(s_decode_update(name, GOSSIP_STATE_DEAD), ==, 0);

    s_hand_t h;
    s_hand_header(&h, GOSSIP_WIRE_GOSSIP, 5, "node-a");
    msgpack_pack_array(&h.pk, 0);
    CHECK_INT(s_hand_decode(&h), ==, 0);
    char addr[GOSSIP_ADDR_MAX + 2];
    memset(addr, 'a', sizeof(addr) - 1);
    addr[sizeof(addr) - 1] = '\0';
    msgpack_packer *pk = s_hand_header(&h, GOSSIP_WIRE_PING_REQ, 7, "node-a");
    s_pack_str(pk, "node-b");
    s_pack_str(pk, addr);
    msgpack_pack_array(pk, 0);
    CHECK_INT(s_hand_decode(&h), ==, GOSSIP_WIRE_ETOOBIG);
}

void
test_gossip_wire_rejects_empty_name(void)
{
    CHECK_INT(s_decode_update("", GOSSIP_STATE_DEAD), ==, GOSSIP_WIRE_EVALUE);
    s_hand_t h;
    s_hand_header(&h, GOSSIP_WIRE_GOSSIP, 5, "");
    msgpack_pack_array(&h.pk, 0);
    CHECK_INT(s_hand_decode(&h), ==, GOSSIP_WIRE_EVALUE);
    /* A PING must name whom it probes. */
    msgpack_packer *pk = s_hand_header(&h, GOSSIP_WIRE_PING, 6, "node-a");
    s_pack_str(pk, "");
    msgpack_pack_array(pk, 0);
    CHECK_INT(s_hand_decode(&h), ==, GOSSIP_WIRE_EVALUE);
}

void
test_gossip_wire_rejects_bad_name_chars(void)
{
    static const char *bad[] = {"two words", "tab\there", "bell\a", "del\x7f", "caf\xc3\xa9"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        CHECK_INT(s_decode_update(bad[i], GOSSIP_STATE_DEAD), ==, GOSSIP_WIRE_EVALUE);
    CHECK_INT(s_decode_update("node-1.example_x", GOSSIP_STATE_DEAD), ==, 0);

    /* A NUL inside a string would silently shorten it once copied. */
    int len = gossip_wire_encode(s_sample(GOSSIP_WIRE_GOSSIP), s_frame, sizeof(s_frame));
    uint8_t *name = memmem(s_frame, (size_t)len, "peer-2", 6);
    CHECK(name);
    name[2] = '\0';
    CHECK_INT(s_decode(s_frame, (size_t)len), ==, GOSSIP_WIRE_EVALUE);
}

void
test_gossip_wire_rejects_bad_tags(void)
{
    /* Patch the encoded tag in place: encode itself refuses bad tags. */
    gossip_wire_msg_t *msg = s_sample(GOSSIP_WIRE_GOSSIP);
    int len = gossip_wire_encode(msg, s_frame, sizeof(s_frame));
    uint8_t *tag = memmem(s_frame, (size_t)len, "arch=arm64", 10);
    CHECK(tag);
    tag[4] = '\n';
    CHECK_INT(s_decode(s_frame, (size_t)len), ==, GOSSIP_WIRE_EVALUE);
    tag[4] = '\0';
    CHECK_INT(s_decode(s_frame, (size_t)len), ==, GOSSIP_WIRE_EVALUE);
}

void
test_gossip_wire_rejects_too_many_updates(void)
{
    s_hand_t h;
    msgpack_packer *pk = s_hand_header(&h, GOSSIP_WIRE_GOSSIP, 5, "node-a");
    msgpack_pack_array(pk, GOSSIP_WIRE_MAX_UPDATES + 1);
    for (int i = 0; i <= GOSSIP_WIRE_MAX_UPDATES; i++)
        s_pack_entry(pk, 5, "peer", GOSSIP_STATE_DEAD);
    CHECK_INT(s_hand_decode(&h), ==, GOSSIP_WIRE_ETOOBIG);
}

void
test_gossip_wire_rejects_too_many_tags(void)
{
    s_hand_t h;
    msgpack_packer *pk = s_hand_update(&h, 8, "peer", GOSSIP_STATE_ALIVE);
    msgpack_pack_uint8(pk, 1);
    msgpack_pack_array(pk, GOSSIP_TAGS_MAX + 1);
    for (int i = 0; i <= GOSSIP_TAGS_MAX; i++)
        s_pack_str(pk, "k=v");
    s_pack_str(pk, "0.1");
    CHECK_INT(s_hand_decode(&h), ==, GOSSIP_WIRE_ETOOBIG);
}

void
test_gossip_wire_rejects_too_many_members(void)
{
    s_hand_t h;
    msgpack_packer *pk = s_hand_header(&h, GOSSIP_WIRE_PUSH_PULL, 7, "node-a");
    msgpack_pack_true(pk);
    msgpack_pack_array(pk, GOSSIP_WIRE_MAX_MEMBERS + 1);
    for (int i = 0; i <= GOSSIP_WIRE_MAX_MEMBERS; i++)
        msgpack_pack_nil(pk);
    msgpack_pack_array(pk, 0);
    CHECK_INT(s_hand_decode(&h), ==, GOSSIP_WIRE_ETOOBIG);
}

void
test_gossip_wire_rejects_payload_without_buffer(void)
{
    /* The caller said it has nowhere to put members or a payload. */
    int len = gossip_wire_encode(s_sample(GOSSIP_WIRE_PUSH_PULL), s_frame, sizeof(s_frame));
    gossip_wire_msg_t msg = {0};
    CHECK_INT(gossip_wire_decode(s_frame, (size_t)len, &msg), ==, GOSSIP_WIRE_ETOOBIG);
    len = gossip_wire_encode(s_sample(GOSSIP_WIRE_USER), s_frame, sizeof(s_frame));
    CHECK_INT(gossip_wire_decode(s_frame, (size_t)len, &msg), ==, GOSSIP_WIRE_ETOOBIG);
    /* Frames without them decode fine with NULL buffers. */
    len = gossip_wire_encode(s_sample(GOSSIP_WIRE_PING), s_frame, sizeof(s_frame));
    CHECK_INT(gossip_wire_decode(s_frame, (size_t)len, &msg), ==, 0);
}

/* ------------------------------------------------------------ encode */

void
test_gossip_wire_encode_rejects_over_cap(void)
{
    gossip_wire_msg_t *msg = s_sample(GOSSIP_WIRE_USER);
    int len = gossip_wire_encode(msg, s_frame, sizeof(s_frame));
    CHECK_INT(len, >, 0);
    for (int cap = 0; cap < len; cap += 97)
        CHECK_INT(gossip_wire_encode(msg, s_frame, (size_t)cap), ==, -1);
    CHECK_INT(gossip_wire_encode(msg, s_frame, (size_t)len - 1), ==, -1);
    CHECK_INT(gossip_wire_encode(msg, s_frame, (size_t)len), ==, len);

    /* A full table with big metadata is over GOSSIP_WIRE_MAX_FRAME whatever
     * the buffer; the mesh must split it. */
    msg = s_sample(GOSSIP_WIRE_PUSH_PULL);
    msg->member_count = GOSSIP_WIRE_MAX_MEMBERS;
    for (size_t i = 0; i < GOSSIP_WIRE_MAX_MEMBERS; i++) {
        s_member(&msg->members[i], "m", GOSSIP_STATE_ALIVE, 1);
        msg->members[i].meta.tag_count = GOSSIP_TAGS_MAX;
        for (size_t t = 0; t < GOSSIP_TAGS_MAX; t++)
            memset(msg->members[i].meta.tags[t], 't', GOSSIP_TAG_MAX);
    }
    uint8_t *big = malloc(4 * GOSSIP_WIRE_MAX_FRAME);
    CHECK(big);
    CHECK_INT(gossip_wire_encode(msg, big, 4 * GOSSIP_WIRE_MAX_FRAME), ==, -1);
    free(big);

    msg = s_sample(GOSSIP_WIRE_USER);
    msg->payload_len = GOSSIP_WIRE_MAX_PAYLOAD + 1;
    CHECK_INT(gossip_wire_encode(msg, s_frame, sizeof(s_frame)), ==, -1);
}

void
test_gossip_wire_encode_rejects_invalid_fields(void)
{
    gossip_wire_msg_t *msg = s_sample(GOSSIP_WIRE_PING);
    snprintf(msg->from, sizeof(msg->from), "has space");
    CHECK_INT(gossip_wire_encode(msg, s_frame, sizeof(s_frame)), ==, -1);

    msg = s_sample(GOSSIP_WIRE_PING);
    memset(msg->from_addr, 'a', sizeof(msg->from_addr)); /* not terminated */
    CHECK_INT(gossip_wire_encode(msg, s_frame, sizeof(s_frame)), ==, -1);

    msg = s_sample(GOSSIP_WIRE_PING);
    msg->updates[1].state = (gossip_state_t)7;
    CHECK_INT(gossip_wire_encode(msg, s_frame, sizeof(s_frame)), ==, -1);

    msg = s_sample(GOSSIP_WIRE_PING);
    msg->update_count = GOSSIP_WIRE_MAX_UPDATES + 1;
    CHECK_INT(gossip_wire_encode(msg, s_frame, sizeof(s_frame)), ==, -1);

    msg = s_sample(GOSSIP_WIRE_PING);
    msg->updates[0].meta.tag_count = GOSSIP_TAGS_MAX + 1;
    CHECK_INT(gossip_wire_encode(msg, s_frame, sizeof(s_frame)), ==, -1);

    msg = s_sample(GOSSIP_WIRE_PING);
    msg->type = (gossip_wire_type_t)(GOSSIP_WIRE_TYPE_LAST + 1);
    CHECK_INT(gossip_wire_encode(msg, s_frame, sizeof(s_frame)), ==, -1);

    msg = s_sample(GOSSIP_WIRE_PUSH_PULL);
    msg->members = NULL;
    CHECK_INT(gossip_wire_encode(msg, s_frame, sizeof(s_frame)), ==, -1);
}

void
test_gossip_wire_names_are_stable(void)
{
    CHECK_STR(gossip_state_str(GOSSIP_STATE_ALIVE), "alive");
    CHECK_STR(gossip_state_str(GOSSIP_STATE_SUSPECT), "suspect");
    CHECK_STR(gossip_state_str(GOSSIP_STATE_DEAD), "dead");
    CHECK_STR(gossip_state_str(GOSSIP_STATE_LEFT), "left");
    CHECK_STR(gossip_state_str((gossip_state_t)9), "unknown");
    CHECK_STR(gossip_wire_type_str(GOSSIP_WIRE_PING_REQ), "ping-req");
    CHECK_STR(gossip_wire_type_str((gossip_wire_type_t)0), "unknown");
    CHECK_STR(gossip_wire_error_str(GOSSIP_WIRE_EVERSION), "unknown version");
    CHECK_STR(gossip_wire_error_str(-99), "unknown error");
}
