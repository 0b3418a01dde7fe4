/* The member's and the leader's sides of a session (node/session/member.c,
 * lead.c), each driven alone against a recording host (fake_host.c), a
 * roster, an election and a collection set up here, and a clock that is an
 * argument. */
#include "fake_host.h"
#include "harness.h"
#include "node/session.h"
#include "node/session_tag.h"

#define TEST(g, n) void test_##g##_##n(void);
#include "node.list"
#undef TEST

#define SESSION "ci-7"
#define DIGEST "0123456789abcdef0123"
#define ME "me"
#define LEAD "lead"

/* One participant's world: what a role borrows. */
typedef struct {
    fake_host_t host;
    shoal_roster_t roster;
    shoal_election_t elect;
    shoal_collection_t local; /* t0..t9, gpu (needs gpu=1), broken (decided at collection) */
    char digest[33];
    shoal_results_t results;
    shoal_member_t member;
    shoal_lead_t lead;
} s_world_t;

static s_world_t s_world;

/* A participant of SESSION with `slots` and its own tags ("" for none). */
static void
s_arrive(s_world_t *w, const char *name, unsigned slots, const char *tags)
{
    gossip_member_t m = {.state = GOSSIP_STATE_ALIVE};
    snprintf(m.name, sizeof(m.name), "%s", name);
    int t = 0;
    if (tags[0])
        snprintf(m.meta.tags[t++], sizeof(m.meta.tags[0]), "%s", tags);
    shoal_session_tag(SESSION, DIGEST, slots, m.meta.tags[t++], sizeof(m.meta.tags[0]));
    m.meta.tag_count = (uint8_t)t;
    CHECK_INT(shoal_roster_update(&w->roster, &m, NULL), ==, SHOAL_ROSTER_ARRIVED);
}

/* Me (2 slots), a and b (2 slots), gpu (2 slots, gpu=1) and the leader, all
 * following LEAD in term 3; a member of `share` slots. */
static s_world_t *
s_member_world(unsigned share)
{
    s_world_t *w = &s_world;
    memset(w, 0, sizeof(*w));
    fake_host_init(&w->host);
    shoal_roster_init(&w->roster, SESSION, DIGEST);
    s_arrive(w, ME, 2, "");
    s_arrive(w, "a", 2, "");
    s_arrive(w, "b", 2, "");
    s_arrive(w, "gpu", 2, "gpu=1");
    s_arrive(w, LEAD, 2, "");
    shoal_election_init(&w->elect, 0, 0);
    shoal_election_adopt(&w->elect, 3, LEAD);
    for (int i = 0; i < 10; i++) {
        char id[8];
        snprintf(id, sizeof(id), "t%d", i);
        CHECK_INT(shoal_collection_add(&w->local, id, "f.py", 1, NULL), ==, 0);
    }
    CHECK_INT(shoal_collection_add(&w->local, "gpu", "f.py", 2, "gpu=1"), ==, 0);
    CHECK_INT(
        shoal_collection_add_preset(&w->local, "broken", SHOAL_OUTCOME_SKIPPED, "no module", ""),
        ==, 0);
    CHECK_INT(shoal_collection_index(&w->local), ==, 0);
    shoal_collection_digest(&w->local, w->digest);
    shoal_member_config_t config = {.host = &w->host.host,
                                    .session = SESSION,
                                    .name = ME,
                                    .elect = &w->elect,
                                    .roster = &w->roster,
                                    .local = &w->local,
                                    .digest = w->digest,
                                    .results = &w->results,
                                    .share = share,
                                    .batch_seconds = 10.0,
                                    .invocation_seconds = 0.25};
    CHECK_INT(shoal_member_init(&w->member, &config), ==, 0);
    return w;
}

static void
s_world_clear(s_world_t *w)
{
    shoal_member_clear(&w->member);
    shoal_lead_clear(&w->lead);
    shoal_results_clear(&w->results);
    shoal_collection_clear(&w->local);
    fake_host_clear(&w->host);
}

/* A message of `type` whose items are the space-separated ids, each at
 * `version` and `seconds`. */
static shoal_msg_t
s_msg(shoal_msg_type_t type, const char *ids, uint32_t version, double seconds)
{
    shoal_msg_t msg = {.type = type, .term = 3, .items = calloc(16, sizeof(shoal_item_t))};
    char copy[256];
    snprintf(copy, sizeof(copy), "%s", ids);
    for (char *save, *id = strtok_r(copy, " ", &save); id; id = strtok_r(NULL, " ", &save)) {
        CHECK(msg.item_count < 16);
        msg.items[msg.item_count++] =
            (shoal_item_t){.id = strdup(id), .version = version, .seconds = seconds};
    }
    return msg;
}

/* Hands the member WORK (ids, version, seconds each); returns how many it took. */
static size_t
s_work(s_world_t *w, const char *ids, uint32_t version, double seconds)
{
    shoal_msg_t msg = s_msg(SHOAL_MSG_WORK, ids, version, seconds);
    size_t taken = shoal_member_on_work(&w->member, LEAD, &msg);
    shoal_msg_clear(&msg);
    return taken;
}

/* A LOADS of "name:seconds" pairs, each with 2 slots and nothing running. */
static void
s_loads(s_world_t *w, const char *pairs, bool stop)
{
    shoal_msg_t msg = {.type = SHOAL_MSG_LOADS, .term = 3, .fresh = stop};
    msg.items = calloc(8, sizeof(shoal_item_t));
    char copy[256], name[64];
    snprintf(copy, sizeof(copy), "%s", pairs);
    for (char *save, *pair = strtok_r(copy, " ", &save); pair; pair = strtok_r(NULL, " ", &save)) {
        double seconds;
        CHECK(sscanf(pair, "%63[^:]:%lf", name, &seconds) == 2);
        msg.items[msg.item_count++] =
            (shoal_item_t){.node = strdup(name), .id = strdup(""), .seconds = seconds, .slots = 2};
    }
    shoal_member_on_loads(&w->member, &msg);
    shoal_msg_clear(&msg);
}

/* The n-th frame sent from `from` on of `type` (to `to`, or anyone when NULL),
 * or NULL. */
static fake_frame_t *
s_sent(s_world_t *w, size_t from, shoal_msg_type_t type, const char *to)
{
    for (size_t i = from; i < w->host.count; i++)
        if (w->host.frames[i].msg.type == type && (!to || strcmp(w->host.frames[i].to, to) == 0))
            return &w->host.frames[i];
    return NULL;
}

static size_t
s_count(s_world_t *w, size_t from, shoal_msg_type_t type)
{
    size_t n = 0;
    for (size_t i = from; i < w->host.count; i++)
        n += w->host.frames[i].msg.type == type;
    return n;
}

/* Idle slots, nothing running. */
static const shoal_member_slots_t s_idle = {0};

/* The member's tick with its slots idle; WANT and HELD are not looked at. */
static shoal_steal_t
s_tick(s_world_t *w, uint64_t now)
{
    return shoal_member_tick(&w->member, &s_idle, true, now);
}

/* A member of 2 idle slots, holding nothing, told that a and b hold 50 s each. */
static s_world_t *
s_thief_world(void)
{
    s_world_t *w = s_member_world(2);
    s_loads(w, "a:50 b:50", false);
    return w;
}

/* What an idle slot does now (shoal_member_slot_due). */
enum { S_IDLE, S_FLUSHES, S_TAKES };

static int
s_due(s_world_t *w, unsigned slot, bool holds_back)
{
    bool take;
    if (!shoal_member_slot_due(&w->member, slot, holds_back, &take))
        return S_IDLE;
    return take ? S_TAKES : S_FLUSHES;
}

/* An empty GIVE: `from` has nothing for us. */
static void
s_no(s_world_t *w, const char *from)
{
    shoal_msg_t no = {.type = SHOAL_MSG_GIVE, .term = 3};
    shoal_member_on_give(&w->member, from, &no);
}

/* ---------------------------------------------------------------- member: stealing */

void
test_node_session_member_dry_member_asks_in_proportion_to_announced_work(void)
{
    /* a announces 10 s, b 90 s (same slots): over many thieves, b is asked
     * about nine times in ten, a now and then, and an idle peer never. */
    size_t asked_a = 0, asked_b = 0;
    for (int i = 0; i < 200; i++) {
        s_world_t *w = s_member_world(2);
        char name[16];
        snprintf(name, sizeof(name), "thief%d", i); /* its own draw */
        w->member.config.name = name;
        sched_rng_seed(&w->member.rng, sched_rank_hash(SESSION, name));
        s_loads(w, "a:10 b:90 gpu:0", false);
        CHECK_INT(s_tick(w, 1000), ==, SHOAL_STEAL_ASKED);
        fake_frame_t *steal = s_sent(w, 0, SHOAL_MSG_STEAL, NULL);
        CHECK(steal != NULL);
        CHECK_INT(steal->msg.term, ==, 3);
        asked_a += strcmp(steal->to, "a") == 0;
        asked_b += strcmp(steal->to, "b") == 0;
        s_world_clear(w);
    }
    CHECK_INT(asked_a + asked_b, ==, 200);
    CHECK_INT(asked_b, >=, 150);
    CHECK_INT(asked_a, >=, 5);
}

void
test_node_session_member_a_peer_that_said_no_is_not_asked_until_the_next_loads(void)
{
    s_world_t *w = s_thief_world();
    CHECK_INT(s_tick(w, 1000), ==, SHOAL_STEAL_ASKED);
    char first[GOSSIP_NAME_MAX + 1];
    snprintf(first, sizeof(first), "%s", w->member.steal_victim);
    s_no(w, first);
    CHECK(!w->member.steal_pending);
    size_t before = w->host.count;
    CHECK_INT(s_tick(w, 1010), ==, SHOAL_STEAL_ASKED);
    fake_frame_t *steal = s_sent(w, before, SHOAL_MSG_STEAL, NULL);
    CHECK(steal && strcmp(steal->to, first) != 0); /* the other one */
    s_no(w, steal->to);
    /* Both said no: nobody is asked, though they hold work (not dry). */
    before = w->host.count;
    CHECK_INT(s_tick(w, 1020), ==, SHOAL_STEAL_NONE);
    CHECK_INT(s_count(w, before, SHOAL_MSG_STEAL), ==, 0);
    CHECK(!w->member.dry);
    /* New figures: anyone may be asked again. */
    s_loads(w, "a:50 b:50", false);
    CHECK_INT(s_tick(w, 1030), ==, SHOAL_STEAL_ASKED);
    s_world_clear(w);
}

void
test_node_session_member_an_unanswered_steal_times_out_and_the_next_victim_is_asked(void)
{
    s_world_t *w = s_thief_world();
    CHECK_INT(s_tick(w, 1000), ==, SHOAL_STEAL_ASKED);
    char first[GOSSIP_NAME_MAX + 1];
    snprintf(first, sizeof(first), "%s", w->member.steal_victim);
    size_t before = w->host.count;
    CHECK_INT(s_tick(w, 1000 + SHOAL_STEAL_WAIT_MS - 1), ==, SHOAL_STEAL_WAITING);
    CHECK_INT(s_count(w, before, SHOAL_MSG_STEAL), ==, 0); /* one STEAL out at a time */
    CHECK_INT(s_tick(w, 1000 + SHOAL_STEAL_WAIT_MS), ==, SHOAL_STEAL_ASKED);
    fake_frame_t *steal = s_sent(w, before, SHOAL_MSG_STEAL, NULL);
    CHECK(steal && strcmp(steal->to, first) != 0);
    /* The late answer of the first is taken all the same: it no longer
     * holds what it gave. */
    shoal_msg_t give = s_msg(SHOAL_MSG_GIVE, "t1 t2", 2, 1.0);
    CHECK_INT(shoal_member_on_give(&w->member, first, &give), ==, 2);
    shoal_msg_clear(&give);
    CHECK(w->member.steal_pending); /* the second is still asked */
    s_world_clear(w);
}

void
test_node_session_member_dry_only_when_no_peer_holds_anything(void)
{
    s_world_t *w = s_member_world(2);
    s_loads(w, "a:0 b:0 me:30", false); /* what we held is gone */
    CHECK_INT(s_tick(w, 1000), ==, SHOAL_STEAL_NONE);
    CHECK(w->member.dry);
    /* Dry: a test a worker keeps back is flushed. */
    CHECK_INT(s_due(w, 0, true), ==, S_TAKES);
    CHECK_INT(s_due(w, 0, false), ==, S_IDLE);
    /* Work comes: not dry any more. */
    CHECK_INT(s_work(w, "t0", 1, 1.0), ==, 1);
    CHECK(!w->member.dry);
    /* Holding work: no stealing. */
    CHECK_INT(s_tick(w, 1010), ==, SHOAL_STEAL_IDLE);
    s_world_clear(w);
}

void
test_node_session_member_no_steal_while_every_slot_is_busy(void)
{
    s_world_t *w = s_thief_world();
    shoal_member_slots_t busy = {.busy = 2, .running_work = 3.0};
    CHECK_INT(shoal_member_tick(&w->member, &busy, true, 1000), ==, SHOAL_STEAL_IDLE);
    CHECK_INT(shoal_member_tick(&w->member, &s_idle, false, 1000), ==, SHOAL_STEAL_IDLE);
    CHECK_INT(s_count(w, 0, SHOAL_MSG_STEAL), ==, 0);
    shoal_member_slots_t one = {.busy = 1, .running_work = 3.0};
    CHECK_INT(shoal_member_tick(&w->member, &one, true, 1000), ==, SHOAL_STEAL_ASKED);
    fake_frame_t *steal = s_sent(w, 0, SHOAL_MSG_STEAL, NULL);
    CHECK_INT(steal->msg.free_slots, ==, 1);
    CHECK(steal->msg.seconds == 3.0); /* what it still runs: the victim's split uses it */
    s_world_clear(w);
}

/* ---------------------------------------------------------------- member: as the victim */

/* A STEAL from `thief`, which runs nothing; returns how many it was given. */
static size_t
s_steal(s_world_t *w, const char *thief)
{
    shoal_msg_t steal = {.type = SHOAL_MSG_STEAL, .term = 3};
    return shoal_member_on_steal(&w->member, thief, &steal, 0.0, 1000);
}

void
test_node_session_member_a_victim_gives_from_its_tail_and_tells_the_leader(void)
{
    s_world_t *w = s_member_world(1);
    CHECK_INT(s_work(w, "t0 t1 t2 t3 t4 t5 t6 t7", 1, 1.0), ==, 8);
    size_t given = s_steal(w, "a");
    CHECK_INT(given, >=, 3);
    CHECK_INT(given, <=, 6);
    fake_frame_t *give = s_sent(w, 0, SHOAL_MSG_GIVE, "a");
    CHECK(give != NULL);
    CHECK_INT(give->msg.item_count, ==, given);
    CHECK_STR(give->msg.items[given - 1].id, "t7");
    CHECK_INT(give->msg.items[0].version, ==, 2); /* a placement of its own */
    fake_frame_t *moved = s_sent(w, 0, SHOAL_MSG_MOVED, LEAD);
    CHECK(moved && !moved->msg.fresh);
    CHECK_STR(moved->msg.victim, ME);
    CHECK_STR(moved->msg.thief, "a");
    shoal_msg_t echo = moved->msg; /* items stay the recorder's */
    echo.fresh = true;
    /* Told again every heartbeat until the leader echoes it. */
    size_t before = w->host.count;
    s_tick(w, 1000 + SHOAL_HEARTBEAT_MS - 1);
    CHECK_INT(s_count(w, before, SHOAL_MSG_MOVED), ==, 0);
    s_tick(w, 1000 + SHOAL_HEARTBEAT_MS);
    CHECK_INT(s_count(w, before, SHOAL_MSG_MOVED), ==, 1);
    shoal_member_on_echo(&w->member, "a", &echo); /* not from the leader: nothing */
    CHECK_INT(w->member.hold.gift_count, ==, 1);
    shoal_member_on_echo(&w->member, LEAD, &echo);
    CHECK_INT(w->member.hold.gift_count, ==, 0);
    before = w->host.count;
    s_tick(w, 1000 + 2 * SHOAL_HEARTBEAT_MS);
    CHECK_INT(s_count(w, before, SHOAL_MSG_MOVED), ==, 0);
    s_world_clear(w);
}

void
test_node_session_member_a_victim_never_gives_a_retry_back_where_it_failed(void)
{
    s_world_t *w = s_member_world(1);
    shoal_msg_t work = s_msg(SHOAL_MSG_WORK, "t0 t1 t2 t3", 1, 1.0);
    for (size_t i = 0; i < work.item_count; i++)
        work.items[i].node = strdup("a"); /* retries of failures at a */
    CHECK_INT(shoal_member_on_work(&w->member, LEAD, &work), ==, 4);
    shoal_msg_clear(&work);
    CHECK_INT(s_steal(w, "a"), ==, 0);
    fake_frame_t *give = s_sent(w, 0, SHOAL_MSG_GIVE, "a");
    CHECK(give && give->msg.item_count == 0); /* a no */
    CHECK_INT(s_count(w, 0, SHOAL_MSG_MOVED), ==, 0);
    /* Another thief may have them. */
    CHECK_INT(s_steal(w, "b"), >, 0);
    s_world_clear(w);
}

void
test_node_session_member_a_victim_gives_only_what_the_thief_can_run(void)
{
    s_world_t *w = s_member_world(1);
    CHECK_INT(s_work(w, "t0 t1 t2 t3 t4 t5 gpu", 1, 1.0), ==, 7);
    CHECK_INT(s_steal(w, "a"), >, 0);
    fake_frame_t *give = s_sent(w, 0, SHOAL_MSG_GIVE, "a");
    for (size_t i = 0; i < give->msg.item_count; i++)
        CHECK(strcmp(give->msg.items[i].id, "gpu") != 0); /* a has no gpu=1 */
    size_t before = w->host.count;
    CHECK_INT(s_steal(w, "gpu"), >, 0);
    give = s_sent(w, before, SHOAL_MSG_GIVE, "gpu");
    CHECK_STR(give->msg.items[give->msg.item_count - 1].id, "gpu");
    /* A stranger, and a stopped member, get nothing. */
    CHECK_INT(s_work(w, "t6 t7 t8 t9", 1, 1.0), ==, 4);
    CHECK_INT(s_steal(w, "stranger"), ==, 0);
    s_loads(w, "a:1", true);
    CHECK_INT(s_steal(w, "b"), ==, 0);
    s_world_clear(w);
}

/* ---------------------------------------------------------------- member: taking work */

void
test_node_session_member_a_gift_of_an_older_version_is_ignored(void)
{
    s_world_t *w = s_member_world(1);
    CHECK_INT(s_work(w, "t1", 3, 1.0), ==, 1);
    shoal_item_t started[1];
    CHECK_INT(shoal_hold_pop(&w->member.hold, 1, started), ==, 1); /* it runs here */
    shoal_item_clear(&started[0]);
    /* A thief's gift of it at the version we had, or older: ignored. */
    shoal_msg_t old = s_msg(SHOAL_MSG_GIVE, "t1", 2, 1.0);
    CHECK_INT(shoal_member_on_give(&w->member, "a", &old), ==, 0);
    shoal_msg_clear(&old);
    shoal_msg_t same = s_msg(SHOAL_MSG_GIVE, "t1", 3, 1.0);
    CHECK_INT(shoal_member_on_give(&w->member, "a", &same), ==, 0);
    shoal_msg_clear(&same);
    CHECK_INT(shoal_hold_count(&w->member.hold), ==, 0);
    /* Placed here anew (a newer version): taken, and the move reported. */
    size_t before = w->host.count;
    shoal_msg_t newer = s_msg(SHOAL_MSG_GIVE, "t1", 4, 1.0);
    CHECK_INT(shoal_member_on_give(&w->member, "a", &newer), ==, 1);
    shoal_msg_clear(&newer);
    fake_frame_t *moved = s_sent(w, before, SHOAL_MSG_MOVED, LEAD);
    CHECK(moved != NULL);
    CHECK_STR(moved->msg.victim, "a");
    CHECK_STR(moved->msg.thief, ME);
    s_world_clear(w);
}

void
test_node_session_member_work_naming_a_test_not_collected_here_is_refused(void)
{
    s_world_t *w = s_member_world(1);
    /* I3: only ids of this runner's collection run; one decided at
     * collection never does. */
    CHECK_INT(s_work(w, "t0 rm-rf broken t1", 1, 1.0), ==, 2);
    CHECK_INT(shoal_hold_count(&w->member.hold), ==, 2);
    CHECK_INT(w->results.count, ==, 2);
    CHECK_STR(w->results.items[0].item.id, "rm-rf");
    CHECK_STR(w->results.items[1].item.id, "broken");
    CHECK_INT(w->results.items[0].item.outcome, ==, SHOAL_OUTCOME_ERROR);
    CHECK(strstr(w->results.items[0].item.message, "not a valid test id"));
    CHECK_STR(w->results.items[0].item.node, ME);
    /* The same from a thief's gift: the move reports only what is kept. */
    shoal_msg_t give = s_msg(SHOAL_MSG_GIVE, "nope t5", 2, 1.0);
    CHECK_INT(shoal_member_on_give(&w->member, "a", &give), ==, 1);
    shoal_msg_clear(&give);
    fake_frame_t *moved = s_sent(w, 0, SHOAL_MSG_MOVED, LEAD);
    CHECK(moved && moved->msg.item_count == 1);
    CHECK_STR(moved->msg.items[0].id, "t5");
    CHECK_INT(w->results.count, ==, 3);
    s_world_clear(w);
}

void
test_node_session_member_loads_that_stop_drop_what_is_held(void)
{
    s_world_t *w = s_member_world(2);
    CHECK_INT(s_work(w, "t0 t1", 1, 1.0), ==, 2);
    CHECK_INT(s_due(w, 0, false), ==, S_TAKES);
    s_loads(w, "a:10", true);
    CHECK(w->member.stopped);
    CHECK_INT(shoal_hold_count(&w->member.hold), ==, 0);
    /* Nothing starts, nothing is stolen; a test kept back ends. */
    CHECK_INT(s_due(w, 0, false), ==, S_IDLE);
    CHECK_INT(s_due(w, 0, true), ==, S_FLUSHES);
    CHECK_INT(s_tick(w, 1000), ==, SHOAL_STEAL_IDLE);
    CHECK_INT(s_count(w, 0, SHOAL_MSG_STEAL), ==, 0);
    s_world_clear(w);
}

/* ---------------------------------------------------------------- member: reports, batches */

void
test_node_session_member_a_new_leader_hears_held_then_want_then_the_cadence(void)
{
    s_world_t *w = s_member_world(2);
    CHECK_INT(s_work(w, "t0 t1 t2", 1, 1.0), ==, 3);
    shoal_member_adopt(&w->member);
    shoal_item_t running[1] = {{.id = (char *)"t9", .attempt = 1}};
    shoal_member_slots_t slots = {.busy = 1, .running = running, .running_count = 1};
    shoal_member_tick(&w->member, &slots, false, 5000);
    CHECK_INT(w->host.count, ==, 2);
    CHECK_INT(w->host.frames[0].msg.type, ==, SHOAL_MSG_HELD);
    CHECK_INT(w->host.frames[0].msg.item_count, ==, 3);
    fake_frame_t *want = &w->host.frames[1];
    CHECK_INT(want->msg.type, ==, SHOAL_MSG_WANT);
    CHECK_STR(want->to, LEAD);
    CHECK(want->msg.fresh);
    CHECK_INT(want->msg.held, ==, 3);
    CHECK_INT(want->msg.free_slots, ==, 1);
    CHECK_STR(want->msg.text, w->digest); /* the leader admits us by it */
    CHECK_INT(want->msg.item_count, ==, 1);
    CHECK_STR(want->msg.items[0].id, "t9");
    /* Then: nothing new, nothing said until a heartbeat... */
    shoal_member_tick(&w->member, &slots, false, 5000 + SHOAL_WANT_GAP_MS);
    CHECK_INT(w->host.count, ==, 2);
    /* ...or something ended, within the gap. */
    shoal_member_batch_done(&w->member, 1.0, 1.0, 1);
    shoal_member_tick(&w->member, &slots, false, 5000 + SHOAL_WANT_GAP_MS - 1);
    CHECK_INT(w->host.count, ==, 2);
    shoal_member_tick(&w->member, &slots, false, 5000 + SHOAL_WANT_GAP_MS);
    CHECK_INT(w->host.count, ==, 3);
    CHECK(!w->host.frames[2].msg.fresh);
    shoal_member_tick(&w->member, &slots, false, 5000 + SHOAL_WANT_GAP_MS + SHOAL_HEARTBEAT_MS);
    CHECK_INT(s_count(w, 3, SHOAL_MSG_WANT), ==, 1);
    /* With nobody to follow, nothing goes out. */
    w->elect.leader[0] = '\0';
    size_t before = w->host.count;
    shoal_member_tick(&w->member, &slots, false, 50000);
    CHECK_INT(w->host.count, ==, before);
    s_world_clear(w);
}

/* What a member holds is grouped by file, in collection order within a
 * file, the files in the order the leader placed their first test: a
 * module's fixture is then set up once per worker. */
void
test_node_session_member_holds_each_files_tests_together(void)
{
    s_world_t *w = s_member_world(1);
    static const char *const ids[][2] = {
        {"m1a", "m1.py"}, {"m1b", "m1.py"}, {"m2a", "m2.py"}, {"m2b", "m2.py"}, {"nofile", ""}};
    for (size_t i = 0; i < 5; i++)
        CHECK_INT(shoal_collection_add(&w->local, ids[i][0], ids[i][1], 1, NULL), ==, 0);
    CHECK_INT(shoal_collection_index(&w->local), ==, 0);
    CHECK_INT(s_work(w, "m2b nofile m1a t3 m2a m1b", 1, 1.0), ==, 6);
    static const char *const want[] = {"m2a", "m2b", "nofile", "m1a", "m1b", "t3"};
    for (size_t i = 0; i < 6; i++) {
        shoal_item_t *out = NULL;
        CHECK_INT(shoal_member_cut(&w->member, 1, &out), ==, 1);
        CHECK_STR(out[0].id, want[i]);
        shoal_item_clear(&out[0]);
        free(out);
    }
    s_world_clear(w);
}

/* The leader died: until the next one leads, a dry member still steals by
 * the last LOADS, and the move waits for the next leader. */
void
test_node_session_member_steals_while_no_leader_is_alive(void)
{
    s_world_t *w = s_thief_world();
    w->elect.leader[0] = '\0';
    CHECK_INT(s_tick(w, 1000), ==, SHOAL_STEAL_ASKED);
    fake_frame_t *steal = s_sent(w, 0, SHOAL_MSG_STEAL, NULL);
    CHECK(steal != NULL);
    CHECK_INT(s_count(w, 0, SHOAL_MSG_WANT), ==, 0); /* nobody to tell */
    /* The gift comes; the thief cannot tell a leader of it yet. */
    shoal_msg_t give = s_msg(SHOAL_MSG_GIVE, "t1", 4, 1.0);
    size_t before = w->host.count;
    CHECK_INT(shoal_member_on_give(&w->member, steal->to, &give), ==, 1);
    shoal_msg_clear(&give);
    CHECK_INT(s_count(w, before, SHOAL_MSG_MOVED), ==, 0);
    CHECK_INT(shoal_hold_count(&w->member.hold), ==, 1);
    s_world_clear(w);
}

void
test_node_session_member_batch_target_follows_floor_share_and_observed_time(void)
{
    s_world_t *w = s_member_world(2);
    /* 40 s held on 2 slots: --batch-seconds (10 s) is below a slot's share. */
    CHECK_INT(s_work(w, "t0 t1 t2 t3", 1, 10.0), ==, 4);
    CHECK(shoal_member_batch_target(&w->member) == 10.0);
    /* The session holds little elsewhere: half a slot's share of the whole,
     * (40 + 0) / (2 * (2 + 2)) = 5 s. */
    s_loads(w, "a:0", false);
    CHECK(shoal_member_batch_target(&w->member) == 5.0);
    /* Never below 4 framework starts (4 x 0.25 s). */
    s_loads(w, "a:0 b:0 gpu:0 lead:0", false);
    shoal_hold_drop(&w->member.hold);
    CHECK_INT(s_work(w, "t5", 1, 0.5), ==, 1);
    CHECK(shoal_member_batch_target(&w->member) == 1.0);
    /* Tests run ten times faster than predicted: after SHOAL_OBSERVED_MIN
     * results, a batch aims at 10 s of real time, floor included. */
    shoal_member_batch_done(&w->member, 0.1, 1.0, SHOAL_OBSERVED_MIN - 1);
    CHECK(shoal_member_batch_target(&w->member) == 1.0);
    shoal_member_batch_done(&w->member, 0.1, 1.0, 1);
    double target = shoal_member_batch_target(&w->member);
    CHECK(target > 9.99 && target < 10.01);
    s_world_clear(w);
}

void
test_node_session_member_a_slot_beyond_the_share_takes_nothing(void)
{
    s_world_t *w = s_member_world(2);
    CHECK_INT(s_work(w, "t0 t1 t2", 1, 1.0), ==, 3);
    CHECK_INT(s_due(w, 1, false), ==, S_TAKES);
    shoal_member_set_share(&w->member, 1);
    CHECK(w->member.want_now); /* the leader hears of it */
    CHECK_INT(s_due(w, 1, false), ==, S_IDLE);
    CHECK_INT(s_due(w, 1, true), ==, S_FLUSHES);
    /* A batch off the head: at most max tests. */
    shoal_item_t *batch;
    CHECK_INT(shoal_member_cut(&w->member, 1, &batch), ==, 1);
    CHECK_STR(batch[0].id, "t0");
    shoal_item_clear(&batch[0]);
    free(batch);
    CHECK_INT(shoal_hold_count(&w->member.hold), ==, 2);
    s_world_clear(w);
}

/* ---------------------------------------------------------------- lead */

/* The leader's world: ME leads term 1 over me, a and b (2 slots each). */
static s_world_t *
s_lead_world(const shoal_lead_plan_t *plan_in, shoal_lead_take_t expect)
{
    s_world_t *w = s_member_world(2);
    shoal_roster_t *roster = &w->roster;
    shoal_roster_init(roster, SESSION, DIGEST);
    s_arrive(w, ME, 2, "");
    s_arrive(w, "a", 2, "");
    s_arrive(w, "b", 2, "");
    shoal_election_adopt(&w->elect, 1, ME);
    shoal_lead_config_t config = {.host = &w->host.host,
                                  .session = SESSION,
                                  .name = ME,
                                  .elect = &w->elect,
                                  .roster = roster,
                                  .local = &w->local,
                                  .digest = w->digest};
    shoal_lead_init(&w->lead, &config);
    shoal_lead_plan_t plan = {.term = 1};
    if (plan_in)
        plan = *plan_in;
    CHECK_INT(shoal_lead_take(&w->lead, &plan, 0), ==, expect);
    return w;
}

/* A WANT from `from` with our collection's digest. */
static shoal_lead_answer_t
s_want(s_world_t *w, const char *from, uint64_t now)
{
    shoal_msg_t want = {.type = SHOAL_MSG_WANT, .term = 1, .fresh = true, .text = w->digest};
    return shoal_lead_on_want(&w->lead, from, &want, now);
}

/* Every member's first WANT: each is shipped its share. */
static void
s_all_want(s_world_t *w, uint64_t now)
{
    const char *names[] = {ME, "a", "b"};
    for (int i = 0; i < 3; i++)
        CHECK_INT(s_want(w, names[i], now), ==, SHOAL_LEAD_ANSWERED);
}

/* RESULTS from `from`: each id passed. */
static size_t
s_results(s_world_t *w, const char *from, const char *ids, shoal_outcome_t outcome, uint64_t now)
{
    shoal_msg_t msg = s_msg(SHOAL_MSG_RESULTS, ids, 0, 0.1);
    for (size_t i = 0; i < msg.item_count; i++) {
        msg.items[i].outcome = (uint8_t)outcome;
        msg.items[i].node = strdup(from);
    }
    size_t n = shoal_lead_on_results(&w->lead, from, &msg, now);
    shoal_msg_clear(&msg);
    return n;
}

void
test_node_session_lead_a_term_announces_itself_and_deals(void)
{
    s_world_t *w = s_lead_world(NULL, SHOAL_LEAD_LEADING);
    CHECK(w->lead.board != NULL);
    CHECK_INT(s_count(w, 0, SHOAL_MSG_LEADER), ==, 3);
    fake_frame_t *leader = s_sent(w, 0, SHOAL_MSG_LEADER, "a");
    CHECK_INT(leader->msg.term, ==, 1);
    CHECK_INT(leader->msg.tests_total, ==, 12);
    /* Every member that reported gets its share of the 10 tests they can
     * run (gpu needs a tag nobody has; broken was decided at collection). */
    size_t before = w->host.count;
    s_all_want(w, 0);
    size_t shipped = 0;
    for (size_t i = before; i < w->host.count; i++)
        if (w->host.frames[i].msg.type == SHOAL_MSG_WORK)
            shipped += w->host.frames[i].msg.item_count;
    CHECK_INT(shipped, ==, 10);
    CHECK(s_sent(w, before, SHOAL_MSG_WORK, "a") && s_sent(w, before, SHOAL_MSG_WORK, "b"));
    before = w->host.count;
    shoal_lead_tick(&w->lead, 10);
    CHECK_INT(s_count(w, before, SHOAL_MSG_WORK), ==, 0); /* each share once */
    /* A newcomer learns at once who leads. */
    s_arrive(w, "late", 1, "");
    before = w->host.count;
    shoal_lead_member(&w->lead, shoal_roster_find(&w->roster, "late"), true, 20);
    CHECK(s_sent(w, before, SHOAL_MSG_LEADER, "late") != NULL);
    s_world_clear(w);
}

void
test_node_session_lead_progress_at_most_every_period_and_at_least_when_idle(void)
{
    s_world_t *w = s_lead_world(NULL, SHOAL_LEAD_LEADING);
    CHECK(shoal_lead_tick(&w->lead, 0) & SHOAL_LEAD_PROGRESS); /* the first counts */
    CHECK_INT(s_results(w, "a", "t0", SHOAL_OUTCOME_PASSED, 10), ==, 1);
    CHECK(!(shoal_lead_tick(&w->lead, SHOAL_PROGRESS_MS - 1) & SHOAL_LEAD_PROGRESS));
    size_t before = w->host.count;
    CHECK(shoal_lead_tick(&w->lead, SHOAL_PROGRESS_MS) & SHOAL_LEAD_PROGRESS);
    fake_frame_t *progress = s_sent(w, before, SHOAL_MSG_PROGRESS, "b");
    CHECK(progress && progress->msg.item_count == 1);
    CHECK_STR(progress->msg.items[0].id, "t0");
    CHECK_INT(s_count(w, before, SHOAL_MSG_PROGRESS), ==, 3); /* to everyone */
    /* Nothing new: the counts now and then, not before. */
    uint64_t last = SHOAL_PROGRESS_MS;
    CHECK(!(shoal_lead_tick(&w->lead, last + SHOAL_PROGRESS_IDLE_MS - 1) & SHOAL_LEAD_PROGRESS));
    CHECK(shoal_lead_tick(&w->lead, last + SHOAL_PROGRESS_IDLE_MS) & SHOAL_LEAD_PROGRESS);
    s_world_clear(w);
}

void
test_node_session_lead_loads_only_when_due(void)
{
    s_world_t *w = s_lead_world(NULL, SHOAL_LEAD_LEADING);
    s_all_want(w, 0);
    unsigned did = shoal_lead_tick(&w->lead, 0); /* dealt: work moved */
    CHECK(did & SHOAL_LEAD_LOADS);
    fake_frame_t *loads = s_sent(w, 0, SHOAL_MSG_LOADS, "a");
    CHECK(loads && loads->msg.item_count == 3 && !loads->msg.fresh);
    /* A test finished (PROGRESS): LOADS follow, but not within the period. */
    s_results(w, "a", "t0", SHOAL_OUTCOME_PASSED, 100);
    CHECK(shoal_lead_tick(&w->lead, 101) & SHOAL_LEAD_PROGRESS);
    CHECK(!(shoal_lead_tick(&w->lead, SHOAL_LOADS_MS - 1) & SHOAL_LEAD_LOADS));
    CHECK(shoal_lead_tick(&w->lead, SHOAL_LOADS_MS) & SHOAL_LEAD_LOADS);
    /* Nothing moved: once a heartbeat after the period. */
    uint64_t next = 2 * SHOAL_LOADS_MS;
    CHECK(!(shoal_lead_tick(&w->lead, next + SHOAL_HEARTBEAT_MS - 1) & SHOAL_LEAD_LOADS));
    CHECK(shoal_lead_tick(&w->lead, next + SHOAL_HEARTBEAT_MS) & SHOAL_LEAD_LOADS);
    /* A refused member is not told. */
    shoal_roster_find(&w->roster, "b")->refused = true;
    size_t before = w->host.count;
    CHECK(shoal_lead_tick(&w->lead, 10 * SHOAL_HEARTBEAT_MS) & SHOAL_LEAD_LOADS);
    CHECK(s_sent(w, before, SHOAL_MSG_LOADS, "a") && !s_sent(w, before, SHOAL_MSG_LOADS, "b"));
    s_world_clear(w);
}

void
test_node_session_lead_waits_for_done_then_finishes(void)
{
    s_world_t *w = s_lead_world(NULL, SHOAL_LEAD_LEADING);
    s_all_want(w, 0);
    shoal_lead_tick(&w->lead, 0);
    CHECK(!shoal_lead_released(&w->lead, 0));
    const char *all = "t0 t1 t2 t3 t4 t5 t6 t7 t8 t9 gpu";
    CHECK_INT(s_results(w, "a", all, SHOAL_OUTCOME_PASSED, 100), ==, 11);
    unsigned did = shoal_lead_tick(&w->lead, 200);
    CHECK(did & SHOAL_LEAD_FINISHED);
    CHECK(w->lead.summary_ready);
    CHECK_INT(w->lead.status, ==, SHOAL_RUN_PASSED);
    CHECK_INT(w->lead.summary_out_count, ==, 12); /* broken too: decided at collection */
    CHECK(shoal_lead_tick(&w->lead, 200 + SHOAL_HEARTBEAT_MS) & SHOAL_LEAD_SUMMARY);
    CHECK(s_sent(w, 0, SHOAL_MSG_SUMMARY, "b") != NULL);
    /* A WANT after the end changes nothing. */
    CHECK_INT(s_want(w, "a", 300), ==, SHOAL_LEAD_IGNORED);
    /* Two of three answered: wait, resending to the third only. */
    shoal_lead_on_done(&w->lead, ME, 1);
    shoal_lead_on_done(&w->lead, "a", 1);
    shoal_lead_on_done(&w->lead, "b", 0); /* of another term: not counted */
    CHECK(!shoal_lead_released(&w->lead, 300));
    size_t before = w->host.count;
    shoal_lead_tick(&w->lead, 200 + 2 * SHOAL_HEARTBEAT_MS);
    CHECK(s_sent(w, before, SHOAL_MSG_SUMMARY, "b") && !s_sent(w, before, SHOAL_MSG_SUMMARY, "a"));
    /* Whoever did not answer in SHOAL_DONE_WAIT_MS fetches it elsewhere. */
    CHECK(!shoal_lead_released(&w->lead, 200 + SHOAL_DONE_WAIT_MS));
    CHECK(shoal_lead_released(&w->lead, 200 + SHOAL_DONE_WAIT_MS + 1));
    /* All answered: at once. */
    shoal_lead_on_done(&w->lead, "b", 1);
    CHECK(shoal_lead_released(&w->lead, 300));
    s_world_clear(w);
}

void
test_node_session_lead_refuses_another_collection_and_names_it(void)
{
    s_world_t *w = s_lead_world(NULL, SHOAL_LEAD_LEADING);
    shoal_msg_t want = {.type = SHOAL_MSG_WANT, .term = 1, .text = (char *)"ffff"};
    CHECK_INT(shoal_lead_on_want(&w->lead, "b", &want, 10), ==, SHOAL_LEAD_REFUSED);
    fake_frame_t *refuse = s_sent(w, 0, SHOAL_MSG_REFUSE, "b");
    CHECK(refuse != NULL);
    CHECK_INT(refuse->msg.tests_total, ==, 12);
    CHECK_INT(refuse->msg.item_count, ==, 12); /* the first carries our ids */
    CHECK(shoal_roster_find(&w->roster, "b")->refused);
    size_t before = w->host.count;
    CHECK_INT(shoal_lead_on_want(&w->lead, "b", &want, 20), ==, SHOAL_LEAD_REFUSED);
    refuse = s_sent(w, before, SHOAL_MSG_REFUSE, "b");
    CHECK(refuse && refuse->msg.item_count == 0);
    /* Its results are not this session's, but are acknowledged. */
    before = w->host.count;
    CHECK_INT(s_results(w, "b", "t0", SHOAL_OUTCOME_FAILED, 30), ==, 0);
    CHECK(s_sent(w, before, SHOAL_MSG_ACK, "b") != NULL);
    CHECK_INT(s_want(w, "a", 40), ==, SHOAL_LEAD_ANSWERED);
    /* The summary says whom it left out; a failure fails the run. */
    CHECK_INT(s_results(w, "a", "t1", SHOAL_OUTCOME_FAILED, 50), ==, 1);
    shoal_lead_finish(&w->lead, SHOAL_RUN_PASSED, "", 60);
    CHECK_INT(w->lead.status, ==, SHOAL_RUN_FAILED);
    CHECK(strstr(w->lead.text, "not admitted: b"));
    s_world_clear(w);
}

void
test_node_session_lead_echoes_a_victims_move_only(void)
{
    s_world_t *w = s_lead_world(NULL, SHOAL_LEAD_LEADING);
    s_all_want(w, 0);
    fake_frame_t *work = s_sent(w, 0, SHOAL_MSG_WORK, "a");
    CHECK(work && work->msg.item_count > 0);
    shoal_item_t gift = {.id = work->msg.items[0].id, .version = work->msg.items[0].version + 1};
    shoal_msg_t moved = {.type = SHOAL_MSG_MOVED,
                         .term = 1,
                         .victim = (char *)"a",
                         .thief = (char *)"b",
                         .items = &gift,
                         .item_count = 1};
    size_t before = w->host.count;
    CHECK_INT(shoal_lead_on_moved(&w->lead, "b", &moved, 10), ==, 1); /* the thief's */
    CHECK_INT(s_count(w, before, SHOAL_MSG_MOVED), ==, 0);
    CHECK_INT(shoal_lead_on_moved(&w->lead, "a", &moved, 20), ==, 0); /* already moved */
    fake_frame_t *echo = s_sent(w, before, SHOAL_MSG_MOVED, "a");
    CHECK(echo && echo->msg.fresh);
    /* Not leading: nothing, and no echo (the victim tells the next leader). */
    shoal_lead_step_down(&w->lead);
    moved.fresh = false;
    before = w->host.count;
    CHECK_INT(shoal_lead_on_moved(&w->lead, "a", &moved, 30), ==, 0);
    CHECK_INT(w->host.count, ==, before);
    CHECK_INT(shoal_lead_tick(&w->lead, 40), ==, 0);
    CHECK(shoal_lead_released(&w->lead, 40));
    s_world_clear(w);
}

void
test_node_session_lead_without_a_collection_ends_incomplete(void)
{
    shoal_lead_plan_t plan = {.term = 1, .failed = "pytest: no such file"};
    s_world_t *w = s_lead_world(&plan, SHOAL_LEAD_FAILED);
    CHECK(w->lead.summary_ready);
    CHECK_INT(w->lead.status, ==, SHOAL_RUN_INCOMPLETE);
    CHECK(strstr(w->lead.text, "could not collect the tests: pytest: no such file"));
    CHECK_INT(s_count(w, 0, SHOAL_MSG_LEADER), ==, 0);
    CHECK(!(shoal_lead_tick(&w->lead, SHOAL_HEARTBEAT_MS - 1) & SHOAL_LEAD_SUMMARY));
    CHECK(shoal_lead_tick(&w->lead, SHOAL_HEARTBEAT_MS) & SHOAL_LEAD_SUMMARY);
    s_world_clear(w);
}

void
test_node_session_lead_a_dry_run_plans_and_ends(void)
{
    shoal_lead_plan_t plan = {.term = 1, .dry_run = true};
    s_world_t *w = s_lead_world(&plan, SHOAL_LEAD_PLANNED);
    CHECK(w->lead.board != NULL);
    CHECK(w->lead.summary_ready);
    CHECK_INT(w->lead.status, ==, SHOAL_RUN_PASSED);
    CHECK_INT(w->lead.summary_out_count, ==, 1); /* only what collection decided */
    CHECK_INT(s_count(w, 0, SHOAL_MSG_WORK), ==, 0);
    s_world_clear(w);
}

void
test_node_session_lead_a_takeover_keeps_the_dead_leaders_copies(void)
{
    s_world_t *w = s_member_world(2); /* for the replicas */
    shoal_replicas_t replicas = {0};
    shoal_msg_t copies = s_msg(SHOAL_MSG_RESULTS, "t3 t4", 0, 0.2);
    for (size_t i = 0; i < copies.item_count; i++)
        copies.items[i].node = strdup("old");
    shoal_replicas_keep(&replicas, "old", &copies);
    shoal_msg_clear(&copies);
    s_world_clear(w);
    shoal_lead_plan_t plan = {.term = 2, .replicas = &replicas};
    w = s_lead_world(&plan, SHOAL_LEAD_LEADING);
    CHECK_INT(replicas.count, ==, 0); /* fed in, then cleared */
    const shoal_leader_result_t *r = shoal_leader_result(w->lead.board, 3);
    CHECK_STR(r->id, "t3");
    CHECK(r->final);
    s_world_clear(w);
}
