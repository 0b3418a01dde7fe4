/* The mesh's behaviours on a fake network and a fake clock: convergence,
 * crash detection, refutation after a freeze, no false positive for a short
 * stall, graceful leave, partitions that heal, incarnation precedence, and
 * drops of frames that do not decode. */
#include "harness.h"
#include "fake_net.h"
#include "gossip/wire.h"

#define TEST(g, n) void test_##g##_##n(void);
#include "gossip.list"
#undef TEST

static bool
s_all_see(fake_net_t *net, size_t subject, gossip_state_t state, size_t skip)
{
    for (size_t i = 0; i < fake_net_size(net); i++)
        if (i != subject && i != skip && fake_net_state(net, i, subject) != state)
            return false;
    return true;
}

static bool
s_converged(fake_net_t *net)
{
    for (size_t s = 0; s < fake_net_size(net); s++)
        if (!s_all_see(net, s, GOSSIP_STATE_ALIVE, s))
            return false;
    return true;
}

/* Runs the network in 10 ms steps until done(net, arg) holds; the fake ms
 * it took, or UINT64_MAX if it did not within ms. */
static uint64_t
s_run_until(fake_net_t *net, bool (*done)(fake_net_t *, const void *), const void *arg, uint64_t ms)
{
    uint64_t start = fake_net_now(net);
    while (fake_net_now(net) - start <= ms) {
        if (done(net, arg))
            return fake_net_now(net) - start;
        fake_net_run(net, 10);
    }
    return UINT64_MAX;
}

typedef struct {
    size_t subject;
    gossip_state_t state;
    const char *tag;
} s_about_t;

static bool
s_all_see_state(fake_net_t *net, const void *arg)
{
    const s_about_t *about = arg;
    return s_all_see(net, about->subject, about->state, about->subject);
}

static uint64_t
s_run_until_all_see(fake_net_t *net, size_t subject, gossip_state_t state, uint64_t ms)
{
    s_about_t about = {.subject = subject, .state = state};
    return s_run_until(net, s_all_see_state, &about, ms);
}

static bool
s_is_converged(fake_net_t *net, const void *arg)
{
    (void)arg;
    return s_converged(net);
}

static uint64_t
s_run_until_converged(fake_net_t *net, uint64_t ms)
{
    return s_run_until(net, s_is_converged, NULL, ms);
}

void
test_gossip_mesh_converges_through_one_seed(void)
{
    fake_net_t *net = fake_net_new(16, "lan", 1);
    fake_net_join_all(net, 0);
    CHECK_INT(s_run_until_converged(net, 5000), <=, 2000);
    fake_net_destroy(&net);
}

void
test_gossip_mesh_detects_crash_everywhere(void)
{
    fake_net_t *net = fake_net_new(16, "lan", 2);
    fake_net_join_all(net, 0);
    CHECK(s_run_until_converged(net, 5000) != UINT64_MAX);
    fake_net_run(net, 3000);
    fake_net_crash(net, 5);
    uint64_t took = s_run_until_all_see(net, 5, GOSSIP_STATE_DEAD, 10000);
    CHECK_INT(took, <=, 2000);
    /* and nobody else was hurt */
    for (size_t s = 0; s < 16; s++)
        if (s != 5)
            CHECK(s_all_see(net, s, GOSSIP_STATE_ALIVE, 5));
    fake_net_destroy(&net);
}

void
test_gossip_mesh_detects_silent_failure(void)
{
    /* A frozen node drops nothing, answers nothing, and refuses nothing: the
     * failure detector's slow path (no unreachable hint from the transport). */
    fake_net_t *net = fake_net_new(16, "lan", 3);
    fake_net_join_all(net, 0);
    CHECK(s_run_until_converged(net, 5000) != UINT64_MAX);
    fake_net_run(net, 2000);
    fake_net_freeze(net, 7, true);
    CHECK_INT(s_run_until_all_see(net, 7, GOSSIP_STATE_DEAD, 20000), <=, 6000);
    fake_net_destroy(&net);
}

void
test_gossip_mesh_frozen_member_refutes_on_thaw(void)
{
    fake_net_t *net = fake_net_new(8, "lan", 4);
    fake_net_join_all(net, 0);
    CHECK(s_run_until_converged(net, 5000) != UINT64_MAX);
    uint32_t before = fake_net_incarnation(net, 0, 3);
    fake_net_freeze(net, 3, true);
    CHECK(s_run_until_all_see(net, 3, GOSSIP_STATE_DEAD, 20000) != UINT64_MAX);
    fake_net_freeze(net, 3, false);
    CHECK(s_run_until_all_see(net, 3, GOSSIP_STATE_ALIVE, 20000) != UINT64_MAX);
    CHECK_INT(fake_net_incarnation(net, 0, 3), >, before);
    CHECK_INT(fake_net_incarnation(net, 3, 3), ==, fake_net_incarnation(net, 0, 3));
    /* the thawed node never believed the others dead for good */
    CHECK(s_converged(net));
    fake_net_destroy(&net);
}

void
test_gossip_mesh_short_stall_is_not_death(void)
{
    fake_net_t *net = fake_net_new(16, "lan", 5);
    fake_net_join_all(net, 0);
    CHECK(s_run_until_converged(net, 5000) != UINT64_MAX);
    /* ten stalls of 350 ms, one per second: long enough to be suspected */
    for (int i = 0; i < 10; i++) {
        fake_net_freeze(net, 9, true);
        fake_net_run(net, 350);
        fake_net_freeze(net, 9, false);
        fake_net_run(net, 650);
    }
    fake_net_run(net, 3000);
    CHECK_INT(gossip_mesh_stats(fake_net_mesh(net, 9))->refutations, >, 0);
    for (size_t i = 0; i < 16; i++) {
        CHECK_INT(fake_net_transitions(net, i, 9, GOSSIP_STATE_DEAD), ==, 0);
        for (size_t s = 0; s < 16; s++)
            CHECK_INT(fake_net_transitions(net, i, s, GOSSIP_STATE_DEAD), ==, 0);
    }
    fake_net_destroy(&net);
}

void
test_gossip_mesh_graceful_leave_is_left_not_dead(void)
{
    fake_net_t *net = fake_net_new(8, "lan", 6);
    fake_net_join_all(net, 0);
    CHECK(s_run_until_converged(net, 5000) != UINT64_MAX);
    gossip_mesh_leave(fake_net_mesh(net, 4), fake_net_now(net));
    fake_net_run(net, 600);
    fake_net_crash(net, 4); /* the process exits after announcing */
    CHECK(s_run_until_all_see(net, 4, GOSSIP_STATE_LEFT, 5000) != UINT64_MAX);
    fake_net_run(net, 5000);
    CHECK(s_all_see(net, 4, GOSSIP_STATE_LEFT, 4));
    for (size_t i = 0; i < 8; i++)
        CHECK_INT(fake_net_transitions(net, i, 4, GOSSIP_STATE_DEAD), ==, 0);
    fake_net_destroy(&net);
}

void
test_gossip_mesh_partition_heals(void)
{
    fake_net_t *net = fake_net_new(8, "lan", 7);
    fake_net_join_all(net, 0);
    CHECK(s_run_until_converged(net, 5000) != UINT64_MAX);
    for (size_t a = 0; a < 4; a++)
        for (size_t b = 4; b < 8; b++)
            fake_net_cut(net, a, b, true);
    fake_net_run(net, 20000);
    CHECK(fake_net_state(net, 0, 6) == GOSSIP_STATE_DEAD);
    CHECK(fake_net_state(net, 6, 0) == GOSSIP_STATE_DEAD);
    CHECK(fake_net_state(net, 0, 1) == GOSSIP_STATE_ALIVE);
    for (size_t a = 0; a < 4; a++)
        for (size_t b = 4; b < 8; b++)
            fake_net_cut(net, a, b, false);
    /* dead members' addresses are retried at the push-pull period */
    CHECK(s_run_until_converged(net, 120000) != UINT64_MAX);
    fake_net_destroy(&net);
}

void
test_gossip_mesh_survives_loss(void)
{
    fake_net_t *net = fake_net_new(16, "lan", 8);
    fake_net_set_loss(net, 0.05);
    fake_net_set_delay(net, 5);
    fake_net_join_all(net, 0);
    CHECK(s_run_until_converged(net, 20000) != UINT64_MAX);
    fake_net_run(net, 30000);
    CHECK(s_converged(net));
    fake_net_destroy(&net);
}

/* Encodes a GOSSIP frame from n1 carrying one update. */
static size_t
s_frame(uint8_t *buf, size_t cap, const char *name, const char *addr, gossip_state_t state,
        uint32_t incarnation, const char *from)
{
    static gossip_wire_msg_t msg;
    memset(&msg, 0, sizeof(msg));
    msg.type = GOSSIP_WIRE_GOSSIP;
    snprintf(msg.from, sizeof(msg.from), "n1");
    snprintf(msg.from_addr, sizeof(msg.from_addr), "127.0.0.2:7000");
    msg.update_count = 1;
    gossip_wire_member_t *u = &msg.updates[0];
    snprintf(u->name, sizeof(u->name), "%s", name);
    snprintf(u->addr, sizeof(u->addr), "%s", addr);
    snprintf(u->from, sizeof(u->from), "%s", from);
    u->state = state;
    u->incarnation = incarnation;
    u->meta.slots = 1;
    int len = gossip_wire_encode(&msg, buf, cap);
    CHECK_INT(len, >, 0);
    return (size_t)len;
}

void
test_gossip_mesh_refutes_suspicion_of_itself(void)
{
    fake_net_t *net = fake_net_new(3, "lan", 9);
    fake_net_join_all(net, 0);
    CHECK(s_run_until_converged(net, 5000) != UINT64_MAX);
    uint8_t buf[4096];
    uint32_t inc = fake_net_incarnation(net, 0, 0);
    size_t len = s_frame(buf, sizeof(buf), "n0", "127.0.0.1:7000", GOSSIP_STATE_SUSPECT, inc, "n1");
    fake_net_inject(net, 0, buf, len);
    CHECK_INT(fake_net_incarnation(net, 0, 0), ==, inc + 1);
    CHECK_INT(gossip_mesh_stats(fake_net_mesh(net, 0))->refutations, ==, 1);
    /* the refutation reaches the others, who keep n0 alive */
    for (int i = 0; i < 200 && fake_net_incarnation(net, 2, 0) != inc + 1; i++)
        fake_net_run(net, 10);
    CHECK_INT(fake_net_incarnation(net, 2, 0), ==, inc + 1);
    CHECK(s_all_see(net, 0, GOSSIP_STATE_ALIVE, 0));
    /* a suspicion of an older incarnation is not refuted again */
    fake_net_inject(net, 0, buf, len);
    CHECK_INT(fake_net_incarnation(net, 0, 0), ==, inc + 1);
    fake_net_destroy(&net);
}

void
test_gossip_mesh_incarnation_orders_updates(void)
{
    fake_net_t *net = fake_net_new(3, "lan", 10);
    fake_net_join_all(net, 0);
    CHECK(s_run_until_converged(net, 5000) != UINT64_MAX);
    fake_net_freeze(net, 2, true); /* so n2 cannot refute what we tell n0 */
    uint8_t buf[4096];
    size_t len;
    uint32_t inc = fake_net_incarnation(net, 0, 2);
    /* suspect at an older incarnation: ignored */
    if (inc > 0) {
        len =
            s_frame(buf, sizeof(buf), "n2", "127.0.0.3:7000", GOSSIP_STATE_SUSPECT, inc - 1, "n1");
        fake_net_inject(net, 0, buf, len);
        CHECK(fake_net_state(net, 0, 2) == GOSSIP_STATE_ALIVE);
    }
    /* dead at a newer incarnation: applies */
    len = s_frame(buf, sizeof(buf), "n2", "127.0.0.3:7000", GOSSIP_STATE_DEAD, inc + 5, "n1");
    fake_net_inject(net, 0, buf, len);
    CHECK(fake_net_state(net, 0, 2) == GOSSIP_STATE_DEAD);
    /* alive at the same incarnation does not resurrect it */
    len = s_frame(buf, sizeof(buf), "n2", "127.0.0.3:7000", GOSSIP_STATE_ALIVE, inc + 5, "n2");
    fake_net_inject(net, 0, buf, len);
    CHECK(fake_net_state(net, 0, 2) == GOSSIP_STATE_DEAD);
    /* alive at a newer one does */
    len = s_frame(buf, sizeof(buf), "n2", "127.0.0.3:7000", GOSSIP_STATE_ALIVE, inc + 6, "n2");
    fake_net_inject(net, 0, buf, len);
    CHECK(fake_net_state(net, 0, 2) == GOSSIP_STATE_ALIVE);
    CHECK_INT(fake_net_incarnation(net, 0, 2), ==, inc + 6);
    /* a leave (dead from itself) is LEFT */
    len = s_frame(buf, sizeof(buf), "n2", "127.0.0.3:7000", GOSSIP_STATE_DEAD, inc + 6, "n2");
    fake_net_inject(net, 0, buf, len);
    CHECK(fake_net_state(net, 0, 2) == GOSSIP_STATE_LEFT);
    fake_net_destroy(&net);
}

void
test_gossip_mesh_counts_undecodable_frames(void)
{
    fake_net_t *net = fake_net_new(2, "lan", 11);
    fake_net_join_all(net, 0);
    CHECK(s_run_until_converged(net, 5000) != UINT64_MAX);
    gossip_stats_t before = *gossip_mesh_stats(fake_net_mesh(net, 0));
    const uint8_t garbage[] = {GOSSIP_WIRE_PING, 0xdd, 0xff, 0xff, 0xff, 0xff, 0x01};
    fake_net_inject(net, 0, garbage, sizeof(garbage));
    fake_net_inject(net, 0, garbage, 1);
    const uint8_t unknown[] = {0x7f, 0x90};
    fake_net_inject(net, 0, unknown, sizeof(unknown));
    gossip_stats_t *after = gossip_mesh_stats(fake_net_mesh(net, 0));
    CHECK_INT(after->drop_decode, ==, before.drop_decode + 3);
    CHECK_INT(after->frames_in, ==, before.frames_in);
    /* and the mesh carries on */
    fake_net_run(net, 3000);
    CHECK(s_converged(net));
    fake_net_destroy(&net);
}

void
test_gossip_mesh_stale_ack_is_dropped(void)
{
    fake_net_t *net = fake_net_new(2, "lan", 12);
    fake_net_join_all(net, 0);
    CHECK(s_run_until_converged(net, 5000) != UINT64_MAX);
    static gossip_wire_msg_t msg;
    memset(&msg, 0, sizeof(msg));
    msg.type = GOSSIP_WIRE_ACK;
    msg.seq = 999999;
    snprintf(msg.from, sizeof(msg.from), "n1");
    snprintf(msg.from_addr, sizeof(msg.from_addr), "127.0.0.2:7000");
    uint8_t buf[1024];
    int len = gossip_wire_encode(&msg, buf, sizeof(buf));
    CHECK_INT(len, >, 0);
    uint64_t stale = gossip_mesh_stats(fake_net_mesh(net, 0))->drop_stale;
    fake_net_inject(net, 0, buf, (size_t)len);
    CHECK_INT(gossip_mesh_stats(fake_net_mesh(net, 0))->drop_stale, ==, stale + 1);
    fake_net_destroy(&net);
}

void
test_gossip_mesh_isolated_node_slows_its_probes(void)
{
    /* Lifeguard: a node that hears no acks and no nacks blames itself first. */
    fake_net_t *net = fake_net_new(6, "lan", 13);
    fake_net_join_all(net, 0);
    CHECK(s_run_until_converged(net, 5000) != UINT64_MAX);
    for (size_t b = 1; b < 6; b++)
        fake_net_cut(net, 0, b, true);
    uint64_t probes_before = gossip_mesh_stats(fake_net_mesh(net, 0))->probes;
    uint64_t peer_before = gossip_mesh_stats(fake_net_mesh(net, 1))->probes;
    fake_net_run(net, 10000);
    const gossip_stats_t *isolated = gossip_mesh_stats(fake_net_mesh(net, 0));
    const gossip_stats_t *healthy = gossip_mesh_stats(fake_net_mesh(net, 1));
    CHECK_INT(isolated->awareness, >, 0);
    CHECK_INT(healthy->awareness, ==, 0);
    /* healthy nodes probe every 200 ms; the isolated one backs off */
    CHECK_INT(isolated->probes - probes_before, <, (healthy->probes - peer_before) / 2);
    fake_net_destroy(&net);
}

void
test_gossip_mesh_restarted_node_takes_over_its_name(void)
{
    /* n2 dies; a new n2 (incarnation 0) joins: it must refute the old death. */
    fake_net_t *net = fake_net_new(4, "lan", 14);
    fake_net_join_all(net, 0);
    CHECK(s_run_until_converged(net, 5000) != UINT64_MAX);
    fake_net_freeze(net, 2, true);
    CHECK(s_run_until_all_see(net, 2, GOSSIP_STATE_DEAD, 20000) != UINT64_MAX);
    uint32_t dead_inc = fake_net_incarnation(net, 0, 2);
    fake_net_freeze(net, 2, false);
    gossip_mesh_join(fake_net_mesh(net, 2), "127.0.0.1:7000", fake_net_now(net));
    CHECK(s_run_until_all_see(net, 2, GOSSIP_STATE_ALIVE, 10000) != UINT64_MAX);
    CHECK_INT(fake_net_incarnation(net, 0, 2), >, dead_inc);
    fake_net_destroy(&net);
}

void
test_gossip_mesh_delivers_user_payloads(void)
{
    fake_net_t *net = fake_net_new(3, "lan", 15);
    fake_net_join_all(net, 0);
    CHECK(s_run_until_converged(net, 5000) != UINT64_MAX);
    const uint8_t hello[] = "hello";
    CHECK_INT(gossip_mesh_send_user(fake_net_mesh(net, 0), "n2", hello, 5), ==, 0);
    fake_net_run(net, 10);
    CHECK_INT(fake_net_user_count(net, 2), ==, 1);
    CHECK_STR(fake_net_user_last(net, 2), "n0:hello");
    CHECK_INT(fake_net_user_count(net, 1), ==, 0);
    /* unknown, dead and oversized are refused up front */
    CHECK_INT(gossip_mesh_send_user(fake_net_mesh(net, 0), "nobody", hello, 5), ==, -1);
    static uint8_t big[GOSSIP_PAYLOAD_MAX + 1];
    CHECK_INT(gossip_mesh_send_user(fake_net_mesh(net, 0), "n2", big, sizeof(big)), ==, -1);
    fake_net_crash(net, 1);
    CHECK(s_run_until_all_see(net, 1, GOSSIP_STATE_DEAD, 10000) != UINT64_MAX);
    CHECK_INT(gossip_mesh_send_user(fake_net_mesh(net, 0), "n1", hello, 5), ==, -1);
    fake_net_destroy(&net);
}

void
test_gossip_mesh_full_table_with_long_tags_still_syncs(void)
{
    /* 1000 members with 16 maximal tags each do not fit one push-pull frame:
     * the sync must send what fits instead of failing (or asserting). */
    fake_net_t *net = fake_net_new(2, "lan", 16);
    fake_net_join_all(net, 0);
    CHECK(s_run_until_converged(net, 5000) != UINT64_MAX);
    static gossip_wire_msg_t msg;
    static uint8_t buf[GOSSIP_FRAME_MAX];
    for (int batch = 0; batch < 1000 / GOSSIP_WIRE_MAX_UPDATES + 1; batch++) {
        memset(&msg, 0, sizeof(msg));
        msg.type = GOSSIP_WIRE_GOSSIP;
        snprintf(msg.from, sizeof(msg.from), "n1");
        snprintf(msg.from_addr, sizeof(msg.from_addr), "127.0.0.2:7000");
        msg.update_count = GOSSIP_WIRE_MAX_UPDATES;
        for (int u = 0; u < GOSSIP_WIRE_MAX_UPDATES; u++) {
            gossip_wire_member_t *m = &msg.updates[u];
            snprintf(m->name, sizeof(m->name), "x%d", batch * GOSSIP_WIRE_MAX_UPDATES + u);
            snprintf(m->addr, sizeof(m->addr), "10.1.%d.%d:7000", batch, u);
            m->state = GOSSIP_STATE_ALIVE;
            m->meta.tag_count = GOSSIP_TAGS_MAX;
            for (int t = 0; t < GOSSIP_TAGS_MAX; t++)
                memset(m->meta.tags[t], 'a' + t, GOSSIP_TAG_MAX);
        }
        int len = gossip_wire_encode(&msg, buf, sizeof(buf));
        CHECK_INT(len, >, 0);
        fake_net_inject(net, 0, buf, (size_t)len);
    }
    gossip_mesh_t *mesh = fake_net_mesh(net, 0);
    CHECK_INT(gossip_mesh_members(mesh, NULL, 0), >, 1000);
    uint64_t syncs = gossip_mesh_stats(mesh)->by_type_out[GOSSIP_WIRE_PUSH_PULL];
    fake_net_run(net, 40000);
    /* counted only once encoded: the oversized table went out in part */
    CHECK_INT(gossip_mesh_stats(mesh)->by_type_out[GOSSIP_WIRE_PUSH_PULL], >, syncs);
    CHECK(s_all_see(net, 0, GOSSIP_STATE_ALIVE, 0));
    size_t known = gossip_mesh_members(fake_net_mesh(net, 1), NULL, 0);
    CHECK_INT(known, >, 100);
    fake_net_destroy(&net);
}

/* The tags observer holds for subject, its last one; "" if none. */
static const char *
s_seen_tag(fake_net_t *net, size_t observer, size_t subject, uint32_t *incarnation)
{
    static gossip_member_t members[64];
    static char tag[GOSSIP_TAG_MAX + 1];
    char name[16];
    snprintf(name, sizeof(name), "n%zu", subject);
    size_t count = gossip_mesh_members(fake_net_mesh(net, observer), members, 64);
    tag[0] = '\0';
    for (size_t i = 0; i < count && i < 64; i++)
        if (strcmp(members[i].name, name) == 0) {
            const gossip_meta_t *meta = &members[i].meta;
            snprintf(tag, sizeof(tag), "%s",
                     meta->tag_count ? meta->tags[meta->tag_count - 1] : "");
            if (incarnation)
                *incarnation = members[i].incarnation;
        }
    return tag;
}

static void
s_set_tag(fake_net_t *net, size_t i, const char *tag)
{
    gossip_meta_t meta = {.slots = 2, .version = "test", .tag_count = 1};
    snprintf(meta.tags[0], sizeof(meta.tags[0]), "%s", tag);
    CHECK_INT(gossip_mesh_set_meta(fake_net_mesh(net, i), &meta, fake_net_now(net)), ==, 0);
}

/* Every member holds subject's tag, and its callback said so. */
static bool
s_all_tagged(fake_net_t *net, const void *arg)
{
    const s_about_t *about = arg;
    for (size_t i = 0; i < fake_net_size(net); i++)
        if (strcmp(s_seen_tag(net, i, about->subject, NULL), about->tag) != 0 ||
            strcmp(fake_net_last_tag(net, i, about->subject), about->tag) != 0)
            return false;
    return true;
}

static uint64_t
s_run_until_all_tagged(fake_net_t *net, size_t subject, const char *tag, uint64_t ms)
{
    s_about_t about = {.subject = subject, .tag = tag};
    return s_run_until(net, s_all_tagged, &about, ms);
}

void
test_gossip_mesh_set_meta_spreads_to_every_member(void)
{
    fake_net_t *net = fake_net_new(8, "lan", 17);
    fake_net_join_all(net, 0);
    CHECK(s_run_until_converged(net, 5000) != UINT64_MAX);
    uint32_t before = 0, after = 0;
    s_seen_tag(net, 0, 3, &before);
    s_set_tag(net, 3, "@s1=0123abcd:2");
    /* our own callback hears it at once; the others within a few gossip rounds */
    CHECK_STR(fake_net_last_tag(net, 3, 3), "@s1=0123abcd:2");
    CHECK_INT(s_run_until_all_tagged(net, 3, "@s1=0123abcd:2", 5000), <=, 1000);
    s_seen_tag(net, 5, 3, &after);
    CHECK_INT(after, ==, before + 1);
    /* a change of metadata is no change of state */
    CHECK(s_converged(net));
    fake_net_destroy(&net);
}

void
test_gossip_mesh_set_meta_latest_wins(void)
{
    fake_net_t *net = fake_net_new(6, "lan", 18);
    fake_net_join_all(net, 0);
    CHECK(s_run_until_converged(net, 5000) != UINT64_MAX);
    s_set_tag(net, 2, "@a=1:1");
    fake_net_run(net, 1);
    s_set_tag(net, 2, "@b=2:1");
    CHECK(s_run_until_all_tagged(net, 2, "@b=2:1", 5000) != UINT64_MAX);
    /* and it stays: nothing older comes back with a later gossip or sync */
    fake_net_run(net, 20000);
    for (size_t i = 0; i < 6; i++)
        CHECK_STR(s_seen_tag(net, i, 2, NULL), "@b=2:1");
    fake_net_destroy(&net);
}

void
test_gossip_mesh_set_meta_survives_loss(void)
{
    /* Gossip that is lost is repaired by the retransmissions and, at the
     * latest, by a push-pull sync. */
    fake_net_t *net = fake_net_new(6, "lan", 19);
    fake_net_join_all(net, 0);
    CHECK(s_run_until_converged(net, 5000) != UINT64_MAX);
    fake_net_set_loss(net, 0.3);
    s_set_tag(net, 1, "@lossy=9:3");
    CHECK(s_run_until_all_tagged(net, 1, "@lossy=9:3", 40000) != UINT64_MAX);
    fake_net_destroy(&net);
}

void
test_gossip_mesh_set_meta_refused_while_leaving(void)
{
    fake_net_t *net = fake_net_new(3, "lan", 20);
    fake_net_join_all(net, 0);
    CHECK(s_run_until_converged(net, 5000) != UINT64_MAX);
    gossip_mesh_leave(fake_net_mesh(net, 1), fake_net_now(net));
    gossip_meta_t meta = {.slots = 2, .version = "test", .tag_count = 1};
    snprintf(meta.tags[0], sizeof(meta.tags[0]), "late=1");
    CHECK_INT(gossip_mesh_set_meta(fake_net_mesh(net, 1), &meta, fake_net_now(net)), ==, -1);
    CHECK_STR(s_seen_tag(net, 1, 1, NULL), "");
    fake_net_destroy(&net);
}
