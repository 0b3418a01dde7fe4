/* The session protocol codec: round trips of every type, splitting long
 * lists over frames, and rejection of malformed or oversized input. */
#include "harness.h"
#include "node/session_msg.h"

#define TEST(g, n) void test_##g##_##n(void);
#include "node.list"
#undef TEST

static shoal_item_t
s_item(const char *id, uint32_t attempt)
{
    return (shoal_item_t){.id = (char *)id,
                          .attempt = attempt,
                          .batch = 7,
                          .outcome = 1,
                          .seconds = 1.25,
                          .node = (char *)"n1",
                          .message = (char *)"boom",
                          .output = (char *)"line\n",
                          .flaky = true};
}

static void
s_roundtrip(shoal_msg_type_t type)
{
    shoal_item_t items[3] = {s_item("a.py::t1", 0), s_item("a.py::t2", 1), s_item("b", 2)};
    items[1].stolen = true;
    shoal_msg_t msg = {.type = type,
                       .term = 4,
                       .tests_total = 99,
                       .free_slots = 3,
                       .fresh = true,
                       .chunk = 1,
                       .chunks = 2,
                       .status = 1,
                       .text = (char *)"t",
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
    CHECK_INT(out.term, ==, 4);
    bool has_items = type != SHOAL_MSG_LEADER && type != SHOAL_MSG_DONE &&
                     type != SHOAL_MSG_QUERY && type != SHOAL_MSG_NOLEADER;
    CHECK_INT(out.item_count, ==, has_items ? 3 : 0);
    if (has_items) {
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
        CHECK_INT(out.items[0].batch, ==, 7);
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
        shoal_msg_t msg = {.type = (shoal_msg_type_t)type, .chunks = 1};
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
