/* The session protocol codec: round trips of every type, splitting long
 * lists over frames, rejection of malformed or oversized input, and caps
 * that are exactly what a sender can produce. */
#include "harness.h"
#include "node/adapter.h"
#include "node/session_msg.h"

#include <math.h>
#include <msgpack.h>

#define TEST(g, n) void test_##g##_##n(void);
#include "node.list"
#undef TEST

/* QUERY and NOLEADER are sent at term 0, the others at a leader's term. */
static uint32_t
s_term(shoal_msg_type_t type, uint32_t term)
{
    return type == SHOAL_MSG_QUERY || type == SHOAL_MSG_NOLEADER ? 0 : term;
}

static shoal_item_t
s_item(const char *id, uint32_t attempt)
{
    return (shoal_item_t){.id = (char *)id,
                          .attempt = attempt,
                          .version = 7,
                          .outcome = 1,
                          .seconds = 1.25,
                          .node = (char *)"n1",
                          .message = (char *)"boom",
                          .output = (char *)"line\n",
                          .flaky = true,
                          .running = 0.5,
                          .slots = 2};
}

static void
s_roundtrip(shoal_msg_type_t type)
{
    shoal_item_t items[3] = {s_item("a.py::t1", 0), s_item("a.py::t2", 1), s_item("b", 2)};
    items[1].stolen = true;
    shoal_msg_t msg = {.type = type,
                       .term = s_term(type, 4),
                       .tests_total = 99,
                       .free_slots = 3,
                       .fresh = true,
                       .chunk = 1,
                       .chunks = 2,
                       .status = 1,
                       .text = (char *)"t",
                       .victim = (char *)"v",
                       .thief = (char *)"th",
                       .items = items,
                       .item_count = 3};
    snprintf(msg.session, sizeof(msg.session), "ci-42");
    for (int i = 0; i < SHOAL_COUNT_KINDS; i++)
        msg.counts[i] = (uint32_t)i * 10;
    uint8_t buf[4096];
    size_t taken = 0;
    long len = shoal_msg_encode(&msg, 0, buf, sizeof(buf), &taken);
    CHECK_INT(len, >, 0);
    shoal_msg_t out;
    CHECK_INT(shoal_msg_decode(buf, (size_t)len, &out), ==, 0);
    CHECK_INT(out.type, ==, type);
    CHECK_STR(out.session, "ci-42");
    CHECK_INT(out.term, ==, s_term(type, 4));
    bool has_items = type != SHOAL_MSG_LEADER && type != SHOAL_MSG_DONE &&
                     type != SHOAL_MSG_QUERY && type != SHOAL_MSG_NOLEADER &&
                     type != SHOAL_MSG_STEAL;
    CHECK_INT(out.item_count, ==, has_items ? 3 : 0);
    if (type == SHOAL_MSG_LOADS) { /* members, not tests */
        CHECK_STR(out.items[1].node, "n1");
        CHECK_INT(out.items[1].slots, ==, 2);
        CHECK(out.items[1].running == 0.5);
    } else if (type == SHOAL_MSG_MOVED) {
        CHECK_STR(out.victim, "v");
        CHECK_STR(out.thief, "th");
        CHECK_INT(out.items[1].version, ==, 7);
    }
    if (has_items && type != SHOAL_MSG_LOADS) {
        CHECK_STR(out.items[1].id, "a.py::t2");
        bool ids_only = type == SHOAL_MSG_WANT || type == SHOAL_MSG_REFUSE;
        CHECK_INT(out.items[1].attempt, ==, ids_only ? 0 : 1);
    }
    if (type == SHOAL_MSG_SUMMARY) {
        CHECK_INT(out.chunk, ==, 1);
        CHECK_INT(out.chunks, ==, 2);
        CHECK_INT(out.status, ==, 1);
        CHECK_STR(out.items[0].output, "line\n");
        CHECK(out.items[0].flaky);
        CHECK(!out.items[0].stolen && out.items[1].stolen);
        CHECK_STR(out.items[2].node, "n1");
    }
    if (type == SHOAL_MSG_PROGRESS)
        CHECK_INT(out.counts[5], ==, 50);
    if (type == SHOAL_MSG_WANT) {
        CHECK(out.fresh && out.free_slots == 3);
        CHECK_STR(out.text, "t"); /* the collection digest */
    }
    if (type == SHOAL_MSG_REFUSE) {
        CHECK_INT(out.tests_total, ==, 99);
        CHECK_STR(out.text, "t");
    }
    if (type == SHOAL_MSG_WORK)
        CHECK_INT(out.items[0].version, ==, 7);
    if (type == SHOAL_MSG_LEADER)
        CHECK_INT(out.tests_total, ==, 99);
    shoal_msg_clear(&out);
}

void
test_node_session_msg_roundtrip_every_type(void)
{
    for (int type = 1; type <= SHOAL_MSG_TYPE_LAST; type++)
        s_roundtrip((shoal_msg_type_t)type);
}

void
test_node_session_msg_splits_long_lists(void)
{
    enum { N = 3000 };
    static shoal_item_t items[N];
    static char ids[N][32];
    for (int i = 0; i < N; i++) {
        snprintf(ids[i], sizeof(ids[i]), "tests/t.py::test_%d", i);
        items[i] = s_item(ids[i], 0);
    }
    shoal_msg_t msg = {.type = SHOAL_MSG_RESULTS, .term = 1, .items = items, .item_count = N};
    snprintf(msg.session, sizeof(msg.session), "s");
    static uint8_t buf[16384];
    size_t first = 0, frames = 0;
    while (first < N) {
        size_t taken = 0;
        long len = shoal_msg_encode(&msg, first, buf, sizeof(buf), &taken);
        CHECK_INT(len, >, 0);
        CHECK_INT(len, <=, (long)sizeof(buf));
        CHECK_INT(taken, >, 0);
        shoal_msg_t out;
        CHECK_INT(shoal_msg_decode(buf, (size_t)len, &out), ==, 0);
        CHECK_INT(out.item_count, ==, taken);
        CHECK_STR(out.items[0].id, ids[first]);
        shoal_msg_clear(&out);
        first += taken;
        frames++;
    }
    CHECK_INT(frames, >, 1);
}

void
test_node_session_msg_rejects_malformed(void)
{
    shoal_item_t items[1] = {s_item("x", 0)};
    shoal_msg_t msg = {.type = SHOAL_MSG_RESULTS, .term = 1, .items = items, .item_count = 1};
    snprintf(msg.session, sizeof(msg.session), "s");
    uint8_t buf[1024];
    size_t taken;
    long len = shoal_msg_encode(&msg, 0, buf, sizeof(buf), &taken);
    CHECK_INT(len, >, 0);
    shoal_msg_t out;
    /* every truncation */
    for (long cut = 0; cut < len; cut++)
        CHECK_INT(shoal_msg_decode(buf, (size_t)cut, &out), ==, -1);
    /* trailing garbage */
    uint8_t longer[1100];
    memcpy(longer, buf, (size_t)len);
    longer[len] = 0xc0;
    CHECK_INT(shoal_msg_decode(longer, (size_t)len + 1, &out), ==, -1);
    /* a 4 GiB array claim in 6 bytes */
    const uint8_t bomb[] = {0xdd, 0xff, 0xff, 0xff, 0xff, 0x01};
    CHECK_INT(shoal_msg_decode(bomb, sizeof(bomb), &out), ==, -1);
    /* wrong version, unknown type */
    uint8_t bad[1024];
    memcpy(bad, buf, (size_t)len);
    bad[1] = 9; /* version: the first element after the array header */
    CHECK_INT(shoal_msg_decode(bad, (size_t)len, &out), ==, -1);
    memcpy(bad, buf, (size_t)len);
    bad[2] = 0x7f; /* type */
    CHECK_INT(shoal_msg_decode(bad, (size_t)len, &out), ==, -1);
    /* a result with an empty id */
    items[0].id = (char *)"";
    len = shoal_msg_encode(&msg, 0, buf, sizeof(buf), &taken);
    CHECK_INT(shoal_msg_decode(buf, (size_t)len, &out), ==, -1);
}

/* The host routes payloads by the session id in their header, unpacking
 * nothing: every type's header, short and long ids, and what is not a
 * header at all. */
void
test_node_session_msg_peek_finds_the_session(void)
{
    static uint8_t buf[65536];
    const char *long_id = "a-session-id-of-exactly-forty-eight-bytes-123456";
    CHECK_INT(strlen(long_id), ==, SHOAL_SESSION_ID_MAX);
    for (int type = 1; type <= SHOAL_MSG_TYPE_LAST; type++) {
        for (int k = 0; k < 2; k++) {
            const char *id = k ? long_id : "ci-42";
            bool term0 = type == SHOAL_MSG_QUERY || type == SHOAL_MSG_NOLEADER;
            shoal_msg_t msg = {.type = (shoal_msg_type_t)type,
                               .term = term0 ? 0 : 3,
                               .chunks = 1,
                               .victim = (char *)"v",
                               .thief = (char *)"t"};
            snprintf(msg.session, sizeof(msg.session), "%s", id);
            size_t taken = 0;
            long len = shoal_msg_encode(&msg, 0, buf, sizeof(buf), &taken);
            CHECK(len > 0);
            CHECK_INT(shoal_msg_peek_session(buf, (size_t)len, id), ==, 1);
            CHECK_INT(shoal_msg_peek_session(buf, (size_t)len, "ci-4"), ==, 0);
            CHECK_INT(shoal_msg_peek_session(buf, (size_t)len, "ci-420"), ==, 0);
            /* cut inside the id: not a header */
            CHECK_INT(shoal_msg_peek_session(buf, 6, id), ==, -1);
        }
    }
    const uint8_t junk[] = {0x81, 0xa1, 'x', 0x01, 0x02};
    CHECK_INT(shoal_msg_peek_session(junk, sizeof(junk), "x"), ==, -1);
    CHECK_INT(shoal_msg_peek_session(junk, 0, "x"), ==, -1);
}

/* The table has a row for each type: a name, and an empty message of the
 * type goes out and comes back as itself; no row, no message. */
void
test_node_session_msg_every_type_has_a_row(void)
{
    for (int type = 1; type <= SHOAL_MSG_TYPE_LAST; type++) {
        const char *name = shoal_msg_type_str((shoal_msg_type_t)type);
        CHECK(strcmp(name, "?") != 0);
        for (int other = 1; other < type; other++)
            CHECK(strcmp(name, shoal_msg_type_str((shoal_msg_type_t)other)) != 0);
        shoal_msg_t msg = {.type = (shoal_msg_type_t)type,
                           .term = s_term((shoal_msg_type_t)type, 1),
                           .chunks = 1,
                           .victim = (char *)"v",
                           .thief = (char *)"t"};
        snprintf(msg.session, sizeof(msg.session), "s");
        uint8_t buf[256];
        size_t taken = 1;
        long len = shoal_msg_encode(&msg, 0, buf, sizeof(buf), &taken);
        CHECK_INT(len, >, 0);
        CHECK_INT(taken, ==, 0);
        shoal_msg_t out;
        CHECK_INT(shoal_msg_decode(buf, (size_t)len, &out), ==, 0);
        CHECK_INT(out.type, ==, type);
        shoal_msg_clear(&out);
    }
    for (int type = 0; type <= SHOAL_MSG_TYPE_LAST + 1; type += SHOAL_MSG_TYPE_LAST + 1) {
        CHECK_STR(shoal_msg_type_str((shoal_msg_type_t)type), "?");
        shoal_msg_t msg = {.type = (shoal_msg_type_t)type};
        snprintf(msg.session, sizeof(msg.session), "s");
        uint8_t buf[256];
        size_t taken;
        CHECK_INT(shoal_msg_encode(&msg, 0, buf, sizeof(buf), &taken), ==, -1);
    }
}

/* ---------------------------------------------------------------- caps */

/* Frames built by hand, to say what the encoder will not: [1, type, "s",
 * term, ...] with the caller packing the rest. */
typedef struct {
    msgpack_sbuffer sbuf;
    msgpack_packer pk;
} s_frame_t;

static msgpack_packer *
s_frame(s_frame_t *f, shoal_msg_type_t type, uint32_t term, size_t fields)
{
    msgpack_sbuffer_init(&f->sbuf);
    msgpack_packer_init(&f->pk, &f->sbuf, msgpack_sbuffer_write);
    msgpack_pack_array(&f->pk, fields);
    msgpack_pack_uint8(&f->pk, SHOAL_SESSION_VERSION);
    msgpack_pack_uint8(&f->pk, (uint8_t)type);
    msgpack_pack_str(&f->pk, 1);
    msgpack_pack_str_body(&f->pk, "s", 1);
    msgpack_pack_uint32(&f->pk, term);
    return &f->pk;
}

static void
s_pack_text(msgpack_packer *pk, const char *text)
{
    msgpack_pack_str(pk, strlen(text));
    msgpack_pack_str_body(pk, text, strlen(text));
}

/* Decodes the frame and frees it: 0 or -1. */
static int
s_frame_decode(s_frame_t *f)
{
    shoal_msg_t out;
    int rc = shoal_msg_decode((const uint8_t *)f->sbuf.data, f->sbuf.size, &out);
    shoal_msg_clear(&out);
    msgpack_sbuffer_destroy(&f->sbuf);
    return rc;
}

/* Encodes msg into a frame large enough for all its items and decodes it
 * into out: the decoder's answer, or -2 if the encoder refused. */
static int
s_through(const shoal_msg_t *msg, shoal_msg_t *out)
{
    static uint8_t buf[1 << 20];
    size_t taken = 0;
    memset(out, 0, sizeof(*out));
    long len = shoal_msg_encode(msg, 0, buf, sizeof(buf), &taken);
    if (len < 0)
        return -2;
    return shoal_msg_decode(buf, (size_t)len, out);
}

/* A decoded message of the type at the term, in session "s". */
static shoal_msg_t
s_at(shoal_msg_type_t type, uint32_t term)
{
    shoal_msg_t msg = {.type = type, .term = term, .victim = (char *)"v", .thief = (char *)"t"};
    snprintf(msg.session, sizeof(msg.session), "s");
    return msg;
}

/* msg goes out and comes back as it was: encoded again, the same bytes. */
static void
s_check_unchanged(const shoal_msg_t *msg)
{
    static uint8_t first[1 << 20], again[1 << 20];
    size_t taken;
    long len = shoal_msg_encode(msg, 0, first, sizeof(first), &taken);
    CHECK_INT(len, >, 0);
    shoal_msg_t out;
    CHECK_INT(shoal_msg_decode(first, (size_t)len, &out), ==, 0);
    CHECK_INT(shoal_msg_encode(&out, 0, again, sizeof(again), &taken), ==, len);
    CHECK(memcmp(first, again, (size_t)len) == 0);
    shoal_msg_clear(&out);
}

/* The encoder's side of a cap: with *value (a field of msg or of one of its
 * items) at cap, msg goes out and comes back unchanged; one over, the
 * encoder refuses it. */
static void
s_check_encoder_cap(shoal_msg_t *msg, uint32_t *value, uint32_t cap)
{
    *value = cap;
    s_check_unchanged(msg);
    *value = cap + 1;
    shoal_msg_t out;
    CHECK_INT(s_through(msg, &out), ==, -2);
}

/* A SUMMARY's chunks as sent: [.., chunk, chunks, status, text, []]. */
static int
s_summary_decode(uint32_t chunk, uint32_t chunks, int64_t status)
{
    s_frame_t f;
    msgpack_packer *pk = s_frame(&f, SHOAL_MSG_SUMMARY, 1, 9);
    msgpack_pack_uint32(pk, chunk);
    msgpack_pack_uint32(pk, chunks);
    msgpack_pack_int64(pk, status);
    s_pack_text(pk, "");
    msgpack_pack_array(pk, 0);
    return s_frame_decode(&f);
}

void
test_node_session_msg_summary_chunks_capped(void)
{
    CHECK_INT(s_summary_decode(0, 1, 0), ==, 0);
    CHECK_INT(s_summary_decode(SHOAL_SUMMARY_CHUNKS_MAX - 1, SHOAL_SUMMARY_CHUNKS_MAX, 0), ==, 0);
    CHECK_INT(s_summary_decode(0, SHOAL_SUMMARY_CHUNKS_MAX + 1, 0), ==, -1);
    CHECK_INT(s_summary_decode(0, UINT32_MAX, 0), ==, -1); /* 4 GiB of chunk flags */
    CHECK_INT(s_summary_decode(0, 0, 0), ==, -1);
    CHECK_INT(s_summary_decode(2, 2, 0), ==, -1); /* the chunk is one of the chunks */
    shoal_msg_t msg = s_at(SHOAL_MSG_SUMMARY, 1), out;
    msg.chunk = SHOAL_SUMMARY_CHUNKS_MAX - 1;
    s_check_encoder_cap(&msg, &msg.chunks, SHOAL_SUMMARY_CHUNKS_MAX);
    msg.chunks = msg.chunk;
    CHECK_INT(s_through(&msg, &out), ==, -2);
}

/* The largest item: every string longer than its cap, every number at its
 * cap. Its strings are static. */
static shoal_item_t
s_largest_item(void)
{
    static char id[SHOAL_TEST_ID_MAX + 10], node[SHOAL_NODE_NAME_MAX + 10];
    static char message[SHOAL_MESSAGE_MAX + 10], output[SHOAL_OUTPUT_MAX + 10];
    memset(id, 'i', sizeof(id) - 1);
    memset(node, 'n', sizeof(node) - 1);
    memset(message, 'm', sizeof(message) - 1);
    memset(output, 'o', sizeof(output) - 1);
    return (shoal_item_t){.id = id,
                          .attempt = SHOAL_ATTEMPT_MAX,
                          .version = UINT32_MAX,
                          .outcome = SHOAL_OUTCOME_COUNT - 1,
                          .seconds = SHOAL_SECONDS_MAX,
                          .node = node,
                          .message = message,
                          .output = output,
                          .slots = SHOAL_SLOTS_MAX,
                          .running = SHOAL_SECONDS_MAX,
                          .flaky = true,
                          .stolen = true};
}

/* The largest message of the type with these items: every number at its
 * cap, the longest session and text. */
static shoal_msg_t
s_largest(shoal_msg_type_t type, shoal_item_t *items, size_t count)
{
    shoal_msg_t msg = {.type = type,
                       .term = s_term(type, UINT32_MAX),
                       .tests_total = SHOAL_SESSION_TESTS_MAX,
                       .free_slots = SHOAL_FREE_SLOTS_MAX,
                       .fresh = true,
                       .chunk = SHOAL_SUMMARY_CHUNKS_MAX - 1,
                       .chunks = SHOAL_SUMMARY_CHUNKS_MAX,
                       .status = SHOAL_STATUS_MAX,
                       .text = s_largest_item().message,
                       .victim = s_largest_item().node,
                       .thief = s_largest_item().node,
                       .seconds = SHOAL_SECONDS_MAX,
                       .items = items,
                       .item_count = count};
    msg.counts[SHOAL_COUNT_SKIPPED] = SHOAL_SESSION_TESTS_MAX;
    memset(msg.session, 's', SHOAL_SESSION_ID_MAX);
    return msg;
}

/* The chunk cap assumes a full frame carries SHOAL_FRAME_ITEMS_MIN items of
 * any size: so it does, in a summary with the longest text. */
void
test_node_session_msg_full_frame_holds_the_items_the_chunk_cap_counts(void)
{
    shoal_item_t items[SHOAL_FRAME_ITEMS_MIN + 5];
    for (size_t i = 0; i < sizeof(items) / sizeof(items[0]); i++)
        items[i] = s_largest_item();
    shoal_msg_t msg = s_largest(SHOAL_MSG_SUMMARY, items, sizeof(items) / sizeof(items[0]));
    static uint8_t buf[GOSSIP_PAYLOAD_MAX];
    size_t taken = 0;
    long len = shoal_msg_encode(&msg, 0, buf, sizeof(buf), &taken);
    CHECK_INT(len, >, 0);
    CHECK_INT(taken, >=, SHOAL_FRAME_ITEMS_MIN);
    CHECK_INT(taken, <, msg.item_count);
    shoal_msg_t out;
    CHECK_INT(shoal_msg_decode(buf, (size_t)len, &out), ==, 0);
    CHECK_INT(strlen(out.items[0].output), ==, SHOAL_OUTPUT_MAX);
    shoal_msg_clear(&out);
}

static int
s_tests_total_decode(shoal_msg_type_t type, uint32_t tests_total)
{
    s_frame_t f;
    msgpack_packer *pk = s_frame(&f, type, 1, type == SHOAL_MSG_LEADER ? 5 : 7);
    msgpack_pack_uint32(pk, tests_total);
    if (type == SHOAL_MSG_REFUSE) {
        s_pack_text(pk, "differs");
        msgpack_pack_array(pk, 0);
    }
    return s_frame_decode(&f);
}

void
test_node_session_msg_tests_total_capped(void)
{
    shoal_msg_type_t types[] = {SHOAL_MSG_LEADER, SHOAL_MSG_REFUSE};
    for (size_t t = 0; t < 2; t++) {
        CHECK_INT(s_tests_total_decode(types[t], SHOAL_SESSION_TESTS_MAX), ==, 0);
        CHECK_INT(s_tests_total_decode(types[t], SHOAL_SESSION_TESTS_MAX + 1), ==, -1);
        CHECK_INT(s_tests_total_decode(types[t], UINT32_MAX), ==, -1);
        shoal_msg_t msg = s_at(types[t], 1);
        s_check_encoder_cap(&msg, &msg.tests_total, SHOAL_SESSION_TESTS_MAX);
    }
}

static int
s_progress_decode(const uint32_t counts[SHOAL_COUNT_KINDS])
{
    s_frame_t f;
    msgpack_packer *pk = s_frame(&f, SHOAL_MSG_PROGRESS, 1, 6);
    msgpack_pack_array(pk, SHOAL_COUNT_KINDS);
    for (int k = 0; k < SHOAL_COUNT_KINDS; k++)
        msgpack_pack_uint32(pk, counts[k]);
    msgpack_pack_array(pk, 0);
    return s_frame_decode(&f);
}

/* The counts partition the session's tests: their sum is capped. */
void
test_node_session_msg_progress_counts_capped(void)
{
    uint32_t counts[SHOAL_COUNT_KINDS] = {0};
    counts[SHOAL_COUNT_PENDING] = SHOAL_SESSION_TESTS_MAX;
    CHECK_INT(s_progress_decode(counts), ==, 0);
    counts[SHOAL_COUNT_PENDING]++;
    CHECK_INT(s_progress_decode(counts), ==, -1);
    counts[SHOAL_COUNT_PENDING] = UINT32_MAX;
    CHECK_INT(s_progress_decode(counts), ==, -1);
    for (int k = 0; k < SHOAL_COUNT_KINDS; k++)
        counts[k] = SHOAL_SESSION_TESTS_MAX / SHOAL_COUNT_KINDS;
    counts[SHOAL_COUNT_PASSED] += SHOAL_SESSION_TESTS_MAX % SHOAL_COUNT_KINDS;
    CHECK_INT(s_progress_decode(counts), ==, 0);
    counts[SHOAL_COUNT_FAILED]++; /* each under the cap, not their sum */
    CHECK_INT(s_progress_decode(counts), ==, -1);
    shoal_msg_t msg = s_at(SHOAL_MSG_PROGRESS, 1);
    memcpy(msg.counts, counts, sizeof(counts));
    uint32_t others = SHOAL_SESSION_TESTS_MAX - (SHOAL_SESSION_TESTS_MAX / SHOAL_COUNT_KINDS);
    s_check_encoder_cap(&msg, &msg.counts[SHOAL_COUNT_FAILED], SHOAL_SESSION_TESTS_MAX - others);
}

static int
s_want_decode(uint32_t free_slots)
{
    s_frame_t f;
    msgpack_packer *pk = s_frame(&f, SHOAL_MSG_WANT, 1, 9);
    msgpack_pack_uint32(pk, free_slots);
    msgpack_pack_true(pk);
    s_pack_text(pk, "digest");
    msgpack_pack_uint32(pk, 0); /* held */
    msgpack_pack_array(pk, 0);
    return s_frame_decode(&f);
}

void
test_node_session_msg_free_slots_capped(void)
{
    CHECK_INT(s_want_decode(SHOAL_SLOTS_MAX), ==, 0);
    CHECK_INT(s_want_decode(SHOAL_FREE_SLOTS_MAX + 1), ==, -1);
    shoal_msg_t msg = s_at(SHOAL_MSG_WANT, 1);
    s_check_encoder_cap(&msg, &msg.free_slots, SHOAL_FREE_SLOTS_MAX);
}

/* A RESULTS item: [id, attempt, outcome, seconds, message, output]. */
static int
s_result_decode(uint32_t attempt, uint32_t outcome, double seconds)
{
    s_frame_t f;
    msgpack_packer *pk = s_frame(&f, SHOAL_MSG_RESULTS, 1, 5);
    msgpack_pack_array(pk, 1);
    msgpack_pack_array(pk, 6);
    s_pack_text(pk, "t");
    msgpack_pack_uint32(pk, attempt);
    msgpack_pack_uint32(pk, outcome);
    msgpack_pack_double(pk, seconds);
    s_pack_text(pk, "");
    s_pack_text(pk, "");
    return s_frame_decode(&f);
}

/* Attempts count from 0 to the retries: --retries takes up to
 * SHOAL_RETRIES_MAX. */
void
test_node_session_msg_attempt_capped(void)
{
    CHECK_INT(s_result_decode(SHOAL_RETRIES_MAX, 0, 1), ==, 0);
    CHECK_INT(s_result_decode(SHOAL_RETRIES_MAX + 1, 0, 1), ==, -1);
    shoal_msg_type_t types[] = {SHOAL_MSG_WORK, SHOAL_MSG_RESULTS, SHOAL_MSG_ACK,
                                SHOAL_MSG_PROGRESS, SHOAL_MSG_SUMMARY};
    for (size_t t = 0; t < sizeof(types) / sizeof(types[0]); t++) {
        shoal_item_t item = s_item("t", 0);
        shoal_msg_t msg = s_at(types[t], 1);
        msg.chunks = 1;
        msg.items = &item;
        msg.item_count = 1;
        s_check_encoder_cap(&msg, &item.attempt, SHOAL_ATTEMPT_MAX);
    }
}

void
test_node_session_msg_outcome_capped(void)
{
    CHECK_INT(s_result_decode(0, SHOAL_OUTCOME_COUNT - 1, 1), ==, 0);
    CHECK_INT(s_result_decode(0, SHOAL_OUTCOME_COUNT, 1), ==, -1);
    shoal_item_t item = s_item("t", 0);
    shoal_msg_t msg = s_at(SHOAL_MSG_RESULTS, 1), out;
    msg.items = &item;
    msg.item_count = 1;
    item.outcome = SHOAL_OUTCOME_COUNT - 1;
    s_check_unchanged(&msg);
    item.outcome = SHOAL_OUTCOME_COUNT;
    CHECK_INT(s_through(&msg, &out), ==, -2);
}

/* Seconds on the wire are finite and within 0..SHOAL_SECONDS_MAX; what a
 * framework reported beyond goes out as the nearer end, never refused (the
 * leader would otherwise never get the result). */
void
test_node_session_msg_seconds_capped(void)
{
    CHECK_INT(s_result_decode(0, 0, 0), ==, 0);
    CHECK_INT(s_result_decode(0, 0, SHOAL_SECONDS_MAX), ==, 0);
    CHECK_INT(s_result_decode(0, 0, nextafter(SHOAL_SECONDS_MAX, INFINITY)), ==, -1);
    CHECK_INT(s_result_decode(0, 0, -0.001), ==, -1);
    CHECK_INT(s_result_decode(0, 0, NAN), ==, -1);
    CHECK_INT(s_result_decode(0, 0, INFINITY), ==, -1);
    double sent[] = {-1, NAN, INFINITY, -INFINITY, 1e300, 2.5};
    double carried[] = {0, 0, SHOAL_SECONDS_MAX, 0, SHOAL_SECONDS_MAX, 2.5};
    for (size_t i = 0; i < sizeof(sent) / sizeof(sent[0]); i++) {
        shoal_item_t item = s_item("t", 0);
        item.seconds = sent[i];
        shoal_msg_t msg = s_at(SHOAL_MSG_RESULTS, 1), out;
        msg.items = &item;
        msg.item_count = 1;
        CHECK_INT(s_through(&msg, &out), ==, 0);
        CHECK(out.items[0].seconds == carried[i]);
        shoal_msg_clear(&out);
    }
}

void
test_node_session_msg_status_capped(void)
{
    CHECK_INT(s_summary_decode(0, 1, SHOAL_STATUS_MAX), ==, 0);
    CHECK_INT(s_summary_decode(0, 1, SHOAL_STATUS_MAX + 1), ==, -1);
    CHECK_INT(s_summary_decode(0, 1, -1), ==, -1);
    shoal_msg_t msg = s_at(SHOAL_MSG_SUMMARY, 1), out;
    msg.chunks = 1;
    msg.status = SHOAL_STATUS_MAX;
    s_check_unchanged(&msg);
    msg.status = SHOAL_STATUS_MAX + 1;
    CHECK_INT(s_through(&msg, &out), ==, -2);
    msg.status = -1;
    CHECK_INT(s_through(&msg, &out), ==, -2);
}

static int
s_ids_decode(size_t n)
{
    s_frame_t f;
    msgpack_packer *pk = s_frame(&f, SHOAL_MSG_WANT, 1, 9);
    msgpack_pack_uint32(pk, 1);
    msgpack_pack_false(pk);
    s_pack_text(pk, "");
    msgpack_pack_uint32(pk, 0); /* held */
    msgpack_pack_array(pk, n);
    for (size_t i = 0; i < n; i++)
        s_pack_text(pk, "x");
    return s_frame_decode(&f);
}

void
test_node_session_msg_items_per_message_capped(void)
{
    CHECK_INT(s_ids_decode(SHOAL_ITEMS_MAX), ==, 0);
    CHECK_INT(s_ids_decode(SHOAL_ITEMS_MAX + 1), ==, -1);
    /* the encoder stops at the cap, and the rest goes in the next frame */
    static shoal_item_t items[SHOAL_ITEMS_MAX + 1];
    for (size_t i = 0; i < SHOAL_ITEMS_MAX + 1; i++)
        items[i] = (shoal_item_t){.id = (char *)"x"};
    shoal_msg_t msg = s_at(SHOAL_MSG_REFUSE, 1);
    msg.items = items;
    msg.item_count = SHOAL_ITEMS_MAX + 1;
    static uint8_t buf[1 << 21];
    size_t taken = 0;
    long len = shoal_msg_encode(&msg, 0, buf, sizeof(buf), &taken);
    CHECK_INT(len, >, 0);
    CHECK_INT(taken, ==, SHOAL_ITEMS_MAX);
    shoal_msg_t out;
    CHECK_INT(shoal_msg_decode(buf, (size_t)len, &out), ==, 0);
    CHECK_INT(out.item_count, ==, SHOAL_ITEMS_MAX);
    shoal_msg_clear(&out);
}

/* Every type with every number at its cap and every string at its length:
 * what the encoder makes, the decoder takes, unchanged. What the decoder
 * would refuse (no session, an empty id), the encoder does not make. */
void
test_node_session_msg_encoder_makes_only_what_decoder_takes(void)
{
    for (int type = 1; type <= SHOAL_MSG_TYPE_LAST; type++) {
        shoal_item_t item = s_largest_item();
        shoal_msg_t msg = s_largest((shoal_msg_type_t)type, &item, 1), out;
        CHECK_INT(s_through(&msg, &out), ==, 0);
        CHECK_INT(strlen(out.session), ==, SHOAL_SESSION_ID_MAX);
        bool itemless = type == SHOAL_MSG_LEADER || type == SHOAL_MSG_DONE ||
                        type == SHOAL_MSG_QUERY || type == SHOAL_MSG_NOLEADER ||
                        type == SHOAL_MSG_STEAL;
        CHECK_INT(out.item_count, ==, itemless ? 0 : 1);
        if (type == SHOAL_MSG_LOADS)
            CHECK_INT(strlen(out.items[0].node), ==, SHOAL_NODE_NAME_MAX);
        else if (!itemless)
            CHECK_INT(strlen(out.items[0].id), ==, SHOAL_TEST_ID_MAX);
        shoal_msg_clear(&out);
        s_check_unchanged(&msg);
        msg.session[0] = '\0';
        CHECK_INT(s_through(&msg, &out), ==, -2);
        memset(msg.session, 's', SHOAL_SESSION_ID_MAX);
        if (type == SHOAL_MSG_LOADS)
            item.node = (char *)""; /* a load names its member */
        else
            item.id = (char *)"";
        CHECK_INT(s_through(&msg, &out), ==, itemless ? 0 : -2);
        shoal_msg_clear(&out);
    }
}

/* ---------------------------------------------------------------- terms */

static int
s_bare_decode(shoal_msg_type_t type, uint32_t term)
{
    s_frame_t f;
    s_frame(&f, type, term, 4);
    return s_frame_decode(&f);
}

/* Term 0 is the term before any leader: QUERY and NOLEADER are sent at it,
 * every other type at a leader's term, 1 or more. */
void
test_node_session_msg_term_zero_only_before_a_leader(void)
{
    CHECK_INT(s_bare_decode(SHOAL_MSG_QUERY, 0), ==, 0);
    CHECK_INT(s_bare_decode(SHOAL_MSG_NOLEADER, 0), ==, 0);
    CHECK_INT(s_bare_decode(SHOAL_MSG_QUERY, 1), ==, -1);
    CHECK_INT(s_bare_decode(SHOAL_MSG_NOLEADER, 7), ==, -1);
    CHECK_INT(s_bare_decode(SHOAL_MSG_DONE, 0), ==, -1);
    CHECK_INT(s_bare_decode(SHOAL_MSG_DONE, 1), ==, 0);
    CHECK_INT(s_tests_total_decode(SHOAL_MSG_LEADER, 0), ==, 0);
    s_frame_t f;
    s_frame(&f, SHOAL_MSG_LEADER, 0, 5);
    msgpack_pack_uint32(&f.pk, 1);
    CHECK_INT(s_frame_decode(&f), ==, -1);
    for (int type = 1; type <= SHOAL_MSG_TYPE_LAST; type++) {
        bool zero = type == SHOAL_MSG_QUERY || type == SHOAL_MSG_NOLEADER;
        shoal_msg_t msg = s_at((shoal_msg_type_t)type, zero ? 1 : 0), out;
        msg.chunks = 1;
        CHECK_INT(s_through(&msg, &out), ==, -2);
        msg.term = zero ? 0 : 1;
        s_check_unchanged(&msg);
    }
}

/* ---------------------------------------------------------------- fencing */

/* A participant of session "s" at term 5 following another node, hearing
 * from that leader. */
static shoal_msg_receiver_t
s_follower(void)
{
    return (shoal_msg_receiver_t){
        .session = "s", .term = 5, .from_participant = true, .from_leader = true, .led = true};
}

static const shoal_msg_type_t s_all_types[] = {
    SHOAL_MSG_LEADER, SHOAL_MSG_WANT,     SHOAL_MSG_WORK,    SHOAL_MSG_RESULTS,
    SHOAL_MSG_ACK,    SHOAL_MSG_PROGRESS, SHOAL_MSG_SUMMARY, SHOAL_MSG_DONE,
    SHOAL_MSG_QUERY,  SHOAL_MSG_NOLEADER, SHOAL_MSG_REFUSE};
#define S_TYPES (sizeof(s_all_types) / sizeof(s_all_types[0]))

void
test_node_session_msg_admit_drops_other_sessions(void)
{
    shoal_msg_receiver_t at = s_follower();
    at.session = "t";
    for (size_t t = 0; t < S_TYPES; t++) {
        shoal_msg_t msg = s_at(s_all_types[t], 5);
        CHECK_INT(shoal_msg_admit(&msg, &at), ==, SHOAL_MSG_DROP_OTHER_SESSION);
    }
    at.session = "s";
    shoal_msg_t msg = s_at(SHOAL_MSG_LEADER, 5);
    CHECK_INT(shoal_msg_admit(&msg, &at), ==, SHOAL_MSG_ACCEPT);
}

void
test_node_session_msg_admit_drops_strangers(void)
{
    shoal_msg_receiver_t at = s_follower();
    at.from_participant = false;
    for (size_t t = 0; t < S_TYPES; t++) {
        shoal_msg_t msg = s_at(s_all_types[t], 5);
        CHECK_INT(shoal_msg_admit(&msg, &at), ==, SHOAL_MSG_DROP_STRANGER);
    }
}

/* LEADER: the handler ranks the claim itself; DONE: the leader compares it
 * with its own term. */
void
test_node_session_msg_admit_leader_and_done_at_any_term(void)
{
    shoal_msg_receiver_t at = s_follower();
    at.from_leader = false;
    uint32_t terms[] = {1, 4, 5, 6, UINT32_MAX};
    for (size_t i = 0; i < sizeof(terms) / sizeof(terms[0]); i++) {
        shoal_msg_t leader = s_at(SHOAL_MSG_LEADER, terms[i]);
        shoal_msg_t done = s_at(SHOAL_MSG_DONE, terms[i]);
        CHECK_INT(shoal_msg_admit(&leader, &at), ==, SHOAL_MSG_ACCEPT);
        CHECK_INT(shoal_msg_admit(&done, &at), ==, SHOAL_MSG_ACCEPT);
    }
}

void
test_node_session_msg_admit_work_only_at_current_term(void)
{
    shoal_msg_receiver_t at = s_follower();
    shoal_msg_t msg = s_at(SHOAL_MSG_WORK, 5);
    CHECK_INT(shoal_msg_admit(&msg, &at), ==, SHOAL_MSG_ACCEPT);
    msg.term = 4;
    CHECK_INT(shoal_msg_admit(&msg, &at), ==, SHOAL_MSG_DROP_OLD_TERM);
    msg.term = 6; /* its LEADER has not come yet */
    CHECK_INT(shoal_msg_admit(&msg, &at), ==, SHOAL_MSG_DROP_NEW_TERM);
}

void
test_node_session_msg_admit_others_at_current_or_newer_term(void)
{
    shoal_msg_type_t types[] = {SHOAL_MSG_WANT,     SHOAL_MSG_RESULTS, SHOAL_MSG_ACK,
                                SHOAL_MSG_PROGRESS, SHOAL_MSG_SUMMARY, SHOAL_MSG_REFUSE};
    shoal_msg_receiver_t at = s_follower();
    for (size_t t = 0; t < sizeof(types) / sizeof(types[0]); t++) {
        shoal_msg_t msg = s_at(types[t], 5);
        CHECK_INT(shoal_msg_admit(&msg, &at), ==, SHOAL_MSG_ACCEPT);
        msg.term = 6;
        CHECK_INT(shoal_msg_admit(&msg, &at), ==, SHOAL_MSG_ACCEPT);
        msg.term = 4;
        CHECK_INT(shoal_msg_admit(&msg, &at), ==, SHOAL_MSG_DROP_OLD_TERM);
    }
}

void
test_node_session_msg_admit_query_and_noleader_only_at_term_zero(void)
{
    shoal_msg_receiver_t at = s_follower();
    at.from_leader = at.led = false;
    shoal_msg_type_t types[] = {SHOAL_MSG_QUERY, SHOAL_MSG_NOLEADER};
    for (size_t t = 0; t < 2; t++) {
        shoal_msg_t msg = s_at(types[t], 0);
        at.term = 0;
        CHECK_INT(shoal_msg_admit(&msg, &at), ==, SHOAL_MSG_ACCEPT);
        at.term = 1; /* it followed a leader once, even if none now */
        CHECK_INT(shoal_msg_admit(&msg, &at), ==, SHOAL_MSG_DROP_OLD_TERM);
    }
}

void
test_node_session_msg_admit_leader_messages_only_from_the_leader(void)
{
    shoal_msg_type_t types[] = {SHOAL_MSG_WORK, SHOAL_MSG_ACK, SHOAL_MSG_PROGRESS,
                                SHOAL_MSG_REFUSE};
    shoal_msg_receiver_t at = s_follower();
    for (size_t t = 0; t < sizeof(types) / sizeof(types[0]); t++) {
        shoal_msg_t msg = s_at(types[t], 5);
        at.from_leader = true;
        CHECK_INT(shoal_msg_admit(&msg, &at), ==, SHOAL_MSG_ACCEPT);
        at.from_leader = false;
        CHECK_INT(shoal_msg_admit(&msg, &at), ==, SHOAL_MSG_DROP_NOT_LEADER);
        at.led = false; /* following no one: still not from the leader */
        CHECK_INT(shoal_msg_admit(&msg, &at), ==, SHOAL_MSG_DROP_NOT_LEADER);
        at.led = true;
    }
    /* what members send, anyone may */
    shoal_msg_type_t members[] = {SHOAL_MSG_WANT, SHOAL_MSG_RESULTS, SHOAL_MSG_DONE};
    at.from_leader = false;
    for (size_t t = 0; t < sizeof(members) / sizeof(members[0]); t++) {
        shoal_msg_t msg = s_at(members[t], 5);
        CHECK_INT(shoal_msg_admit(&msg, &at), ==, SHOAL_MSG_ACCEPT);
    }
}

/* A participant whose leader is gone still takes a summary, from anyone. */
void
test_node_session_msg_admit_summary_from_anyone_while_unled(void)
{
    shoal_msg_receiver_t at = s_follower();
    shoal_msg_t msg = s_at(SHOAL_MSG_SUMMARY, 5);
    at.from_leader = false;
    CHECK_INT(shoal_msg_admit(&msg, &at), ==, SHOAL_MSG_DROP_NOT_LEADER);
    at.led = false;
    CHECK_INT(shoal_msg_admit(&msg, &at), ==, SHOAL_MSG_ACCEPT);
    msg.term = 4;
    CHECK_INT(shoal_msg_admit(&msg, &at), ==, SHOAL_MSG_DROP_OLD_TERM);
}

void
test_node_session_msg_admit_drops_own_query(void)
{
    shoal_msg_receiver_t at = {.session = "s", .from_participant = true, .from_self = true};
    shoal_msg_t query = s_at(SHOAL_MSG_QUERY, 0), noleader = s_at(SHOAL_MSG_NOLEADER, 0);
    CHECK_INT(shoal_msg_admit(&query, &at), ==, SHOAL_MSG_DROP_OWN);
    CHECK_INT(shoal_msg_admit(&noleader, &at), ==, SHOAL_MSG_ACCEPT);
    at.from_self = false;
    CHECK_INT(shoal_msg_admit(&query, &at), ==, SHOAL_MSG_ACCEPT);
}

/* s_dispatch in node/session.c (7f1a6a7) as it decided, transcribed: whether
 * a decoded message reached its handler. Left out: what its handlers then
 * check of their own state (REFUSE: phase not done; NOLEADER: gathering
 * and following no one). */
static bool
s_dispatch_took(const shoal_msg_t *msg, const char *session, bool participant, uint32_t term,
                const char *name, const char *leader, const char *from)
{
    bool ours = strcmp(msg->session, session) == 0 && participant;
    bool current = msg->term >= term || msg->type == SHOAL_MSG_DONE;
    if (!ours || (!current && msg->type != SHOAL_MSG_LEADER))
        return false;
    switch (msg->type) {
        case SHOAL_MSG_WORK:
            return strcmp(from, leader) == 0 && msg->term == term;
        case SHOAL_MSG_ACK:
        case SHOAL_MSG_PROGRESS:
        case SHOAL_MSG_REFUSE:
            return strcmp(from, leader) == 0;
        case SHOAL_MSG_SUMMARY:
            return strcmp(from, leader) == 0 || leader[0] == '\0';
        case SHOAL_MSG_QUERY:
            return strcmp(from, name) != 0;
        default:
            return true;
    }
}

/* Every decodable message against every receiver: admit takes exactly what
 * s_dispatch took. */
void
test_node_session_msg_admit_is_what_dispatch_did(void)
{
    const char *leaders[] = {"", "me", "b"}, *senders[] = {"me", "b", "c"};
    size_t checked = 0;
    for (size_t t = 0; t < S_TYPES; t++)
        for (uint32_t term = 0; term <= 3; term++)
            for (uint32_t current = 0; current <= 3; current++)
                for (int bits = 0; bits < 4; bits++)
                    for (size_t l = 0; l < 3; l++)
                        for (size_t f = 0; f < 3; f++) {
                            shoal_msg_t msg = s_at(s_all_types[t], term);
                            if (msg.term != s_term(msg.type, term))
                                continue; /* no sender makes it: the decoder refuses it */
                            const char *session = bits & 1 ? "s" : "t";
                            bool participant = bits & 2;
                            shoal_msg_receiver_t at = {.session = session,
                                                       .term = current,
                                                       .from_participant = participant,
                                                       .from_self = strcmp(senders[f], "me") == 0,
                                                       .from_leader =
                                                           strcmp(senders[f], leaders[l]) == 0,
                                                       .led = leaders[l][0] != '\0'};
                            bool took = s_dispatch_took(&msg, session, participant, current, "me",
                                                        leaders[l], senders[f]);
                            CHECK_INT(shoal_msg_admit(&msg, &at) == SHOAL_MSG_ACCEPT, ==, took);
                            checked++;
                        }
    CHECK_INT(checked, >, 1000);
}

void
test_node_session_msg_verdicts_are_named(void)
{
    for (int v = 0; v <= SHOAL_MSG_VERDICT_LAST; v++)
        CHECK(strcmp(shoal_msg_verdict_str((shoal_msg_verdict_t)v), "?") != 0);
    CHECK_STR(shoal_msg_verdict_str(SHOAL_MSG_ACCEPT), "accept");
    CHECK_STR(shoal_msg_verdict_str((shoal_msg_verdict_t)(SHOAL_MSG_VERDICT_LAST + 1)), "?");
}
