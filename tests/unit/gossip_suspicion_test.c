/* Lifeguard suspicion: the timeout starts long, shrinks with independent
 * confirmations to its floor, and ignores repeated accusers. */
#include "harness.h"
#include "gossip/suspicion.h"

#define TEST(g, n) void test_##g##_##n(void);
#include "gossip.list"
#undef TEST

void
test_gossip_suspicion_starts_at_max(void)
{
    gossip_suspicion_t s;
    gossip_suspicion_start(&s, 1000, 500, 3000, 3, "a");
    CHECK_INT(s.deadline, ==, 4000);
}

void
test_gossip_suspicion_shrinks_with_confirmations(void)
{
    gossip_suspicion_t s;
    gossip_suspicion_start(&s, 0, 500, 3000, 3, "a");
    uint64_t last = s.deadline;
    const char *accusers[] = {"b", "c", "d"};
    for (int i = 0; i < 3; i++) {
        CHECK(gossip_suspicion_confirm(&s, accusers[i]));
        CHECK_INT(s.deadline, <, last);
        last = s.deadline;
    }
    CHECK_INT(s.deadline, ==, 500);
    /* past k, nothing moves */
    CHECK(!gossip_suspicion_confirm(&s, "e"));
    CHECK_INT(s.deadline, ==, 500);
}

void
test_gossip_suspicion_ignores_repeat_accusers(void)
{
    gossip_suspicion_t s;
    gossip_suspicion_start(&s, 0, 500, 3000, 3, "a");
    CHECK(!gossip_suspicion_confirm(&s, "a"));
    CHECK(gossip_suspicion_confirm(&s, "b"));
    uint64_t deadline = s.deadline;
    CHECK(!gossip_suspicion_confirm(&s, "b"));
    CHECK_INT(s.deadline, ==, deadline);
    CHECK_INT(s.confirmations, ==, 1);
}

void
test_gossip_suspicion_timeout_formula(void)
{
    /* max - (max - min) * log(c + 1) / log(k + 1) */
    CHECK_INT(gossip_suspicion_timeout(500, 3000, 3, 0), ==, 3000);
    CHECK_INT(gossip_suspicion_timeout(500, 3000, 3, 1), ==, 1750);
    CHECK_INT(gossip_suspicion_timeout(500, 3000, 3, 3), ==, 500);
    CHECK_INT(gossip_suspicion_timeout(500, 3000, 0, 0), ==, 500);
}

void
test_gossip_suspicion_floor_grows_with_cluster(void)
{
    CHECK_INT(gossip_suspicion_min_ms(500, 3), ==, 500);
    CHECK_INT(gossip_suspicion_min_ms(500, 100), ==, 1000);
    CHECK_INT(gossip_suspicion_min_ms(500, 1000), ==, 1500);
}
