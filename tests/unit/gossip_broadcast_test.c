/* The broadcast queue: one entry per member, fewest-sent first, retired after
 * lambda * ceil(log10(n + 1)) transmissions. */
#include "harness.h"
#include "gossip/broadcast.h"

#define TEST(g, n) void test_##g##_##n(void);
#include "gossip.list"
#undef TEST

static gossip_wire_member_t
s_update(const char *name, uint32_t incarnation)
{
    gossip_wire_member_t u;
    memset(&u, 0, sizeof(u));
    snprintf(u.name, sizeof(u.name), "%s", name);
    u.incarnation = incarnation;
    return u;
}

void
test_gossip_broadcast_retires_after_limit(void)
{
    gossip_broadcast_t *q = gossip_broadcast_new();
    gossip_wire_member_t u = s_update("a", 1), out[4];
    gossip_broadcast_queue(q, &u);
    uint32_t limit = gossip_broadcast_limit(4, 16); /* 4 * ceil(log10(17)) = 8 */
    CHECK_INT(limit, ==, 8);
    for (uint32_t i = 0; i < limit; i++)
        CHECK_INT(gossip_broadcast_take(q, out, 4, limit), ==, 1);
    CHECK_INT(gossip_broadcast_take(q, out, 4, limit), ==, 0);
    CHECK_INT(gossip_broadcast_size(q), ==, 0);
    gossip_broadcast_destroy(&q);
    gossip_broadcast_destroy(&q); /* idempotent */
    CHECK(q == NULL);
}

void
test_gossip_broadcast_newer_replaces_older(void)
{
    gossip_broadcast_t *q = gossip_broadcast_new();
    gossip_wire_member_t a1 = s_update("a", 1), a2 = s_update("a", 2), out[4];
    gossip_broadcast_queue(q, &a1);
    gossip_broadcast_queue(q, &a2);
    CHECK_INT(gossip_broadcast_size(q), ==, 1);
    CHECK_INT(gossip_broadcast_take(q, out, 4, 10), ==, 1);
    CHECK_INT(out[0].incarnation, ==, 2);
    gossip_broadcast_destroy(&q);
}

void
test_gossip_broadcast_fewest_sent_first(void)
{
    gossip_broadcast_t *q = gossip_broadcast_new();
    gossip_wire_member_t a = s_update("a", 1), b = s_update("b", 1), out[4];
    gossip_broadcast_queue(q, &a);
    CHECK_INT(gossip_broadcast_take(q, out, 1, 10), ==, 1); /* a sent once */
    gossip_broadcast_queue(q, &b);
    CHECK_INT(gossip_broadcast_take(q, out, 1, 10), ==, 1);
    CHECK_STR(out[0].name, "b");
    /* both sent once: the newer goes first */
    CHECK_INT(gossip_broadcast_take(q, out, 1, 10), ==, 1);
    CHECK_STR(out[0].name, "b");
    CHECK_INT(gossip_broadcast_take(q, out, 1, 10), ==, 1);
    CHECK_STR(out[0].name, "a");
    gossip_broadcast_destroy(&q);
}

void
test_gossip_broadcast_limit_grows_with_log_n(void)
{
    CHECK_INT(gossip_broadcast_limit(4, 1), ==, 4);
    CHECK_INT(gossip_broadcast_limit(4, 9), ==, 4);
    CHECK_INT(gossip_broadcast_limit(4, 10), ==, 8);
    CHECK_INT(gossip_broadcast_limit(4, 1000), ==, 16);
}
