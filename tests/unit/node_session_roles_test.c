/* The session's roles (node/session/): roster, election, summary assembly
 * and status, each driven alone against a recording host (fake_host.c) and
 * a clock that is an argument. */
#include "fake_host.h"
#include "harness.h"
#include "node/session_tag.h"
#include "sched/sched.h"

#include <json-c/json.h>

#define TEST(g, n) void test_##g##_##n(void);
#include "node.list"
#undef TEST

#define SESSION "ci-7"
#define DIGEST "0123456789abcdef0123"
#define OTHER_DIGEST "ffffffffffffffff0123"

static gossip_member_t
s_member(const char *name, gossip_state_t state, const char *session, const char *digest)
{
    gossip_member_t m = {.state = state, .meta = {.slots = 4}};
    snprintf(m.name, sizeof(m.name), "%s", name);
    int t = 0;
    snprintf(m.meta.tags[t++], sizeof(m.meta.tags[0]), "gpu=1");
    shoal_session_tag(session, digest, 2, m.meta.tags[t++], sizeof(m.meta.tags[0]));
    m.meta.tag_count = (uint8_t)t;
    return m;
}

static void
s_join(shoal_roster_t *roster, const char *name)
{
    gossip_member_t m = s_member(name, GOSSIP_STATE_ALIVE, SESSION, DIGEST);
    CHECK_INT(shoal_roster_update(roster, &m, NULL), ==, SHOAL_ROSTER_ARRIVED);
}

/* Names in rank order for SESSION: best first. */
static void
s_ranked(const char **names, size_t count, const char **out)
{
    size_t order[8];
    sched_rank_order(SESSION, names, count, order);
    for (size_t i = 0; i < count; i++)
        out[i] = names[order[i]];
}

/* A roster of n1, n2 and n3, all alive; ranked[] gets them best first. */
static void
s_three(shoal_roster_t *roster, const char **ranked)
{
    const char *names[3] = {"n1", "n2", "n3"};
    shoal_roster_init(roster, SESSION, DIGEST);
    s_ranked(names, 3, ranked);
    for (int i = 0; i < 3; i++)
        s_join(roster, names[i]);
}

static void
s_kill(shoal_roster_t *roster, const char *name)
{
    gossip_member_t dead = s_member(name, GOSSIP_STATE_DEAD, SESSION, DIGEST);
    CHECK_INT(shoal_roster_update(roster, &dead, NULL), ==, SHOAL_ROSTER_LOST);
}

/* ---------------------------------------------------------------- roster */

void
test_node_session_roles_roster_takes_its_session_and_runner_only(void)
{
    static shoal_roster_t roster;
    shoal_roster_init(&roster, SESSION, DIGEST);
    gossip_member_t other_session = s_member("a", GOSSIP_STATE_ALIVE, "ci-8", DIGEST);
    gossip_member_t other_runner = s_member("b", GOSSIP_STATE_ALIVE, SESSION, OTHER_DIGEST);
    gossip_member_t ours = s_member("c", GOSSIP_STATE_ALIVE, SESSION, DIGEST);
    shoal_participant_t *p = (shoal_participant_t *)1;
    CHECK_INT(shoal_roster_update(&roster, &other_session, &p), ==, SHOAL_ROSTER_NOT_OURS);
    CHECK(p == NULL);
    CHECK_INT(shoal_roster_update(&roster, &other_runner, &p), ==, SHOAL_ROSTER_OTHER_RUNNER);
    CHECK_INT(shoal_roster_update(&roster, &ours, &p), ==, SHOAL_ROSTER_ARRIVED);
    CHECK_INT(roster.count, ==, 1);
    CHECK_STR(p->name, "c");
    CHECK_INT(p->slots, ==, 2);  /* what it gives this session, not its --slots */
    CHECK_STR(p->tags, "gpu=1"); /* its own tags, not the session's */
    CHECK(shoal_roster_find(&roster, "b") == NULL);
}

void
test_node_session_roles_roster_tells_loss_and_return(void)
{
    static shoal_roster_t roster;
    shoal_roster_init(&roster, SESSION, DIGEST);
    shoal_participant_t *first, *p;
    gossip_member_t m = s_member("a", GOSSIP_STATE_ALIVE, SESSION, DIGEST);
    CHECK_INT(shoal_roster_update(&roster, &m, &first), ==, SHOAL_ROSTER_ARRIVED);
    m.state = GOSSIP_STATE_SUSPECT; /* suspected is still a participant */
    CHECK_INT(shoal_roster_update(&roster, &m, &p), ==, SHOAL_ROSTER_SAME);
    m.state = GOSSIP_STATE_DEAD;
    CHECK_INT(shoal_roster_update(&roster, &m, &p), ==, SHOAL_ROSTER_LOST);
    CHECK(!p->alive);
    CHECK_INT(shoal_roster_alive(&roster), ==, 0);
    m.state = GOSSIP_STATE_ALIVE;
    CHECK_INT(shoal_roster_update(&roster, &m, &p), ==, SHOAL_ROSTER_ARRIVED);
    CHECK(p == first); /* the same participant, never removed */
    CHECK_INT(roster.count, ==, 1);
    /* Alive, but no longer in the session (its node dropped the tag): gone. */
    gossip_member_t left = m;
    left.meta.tag_count = 1; /* gpu=1 only */
    CHECK_INT(shoal_roster_update(&roster, &left, &p), ==, SHOAL_ROSTER_LOST);
    CHECK(p == first && !p->alive);
}

void test_node_session_roles_roster_serving_daemons_lead_last(void);
void
test_node_session_roles_roster_serving_daemons_lead_last(void)
{
    static shoal_roster_t roster;
    const char *ranked[3];
    shoal_roster_init(&roster, SESSION, DIGEST);
    const char *names[3] = {"n1", "n2", "n3"};
    s_ranked(names, 3, ranked);
    /* The two best-ranked serve (a shipped session's daemons); the worst
     * ranked is the developer's run, whose checkout is the reference. */
    for (int i = 0; i < 3; i++) {
        gossip_member_t m = s_member(ranked[i], GOSSIP_STATE_ALIVE, SESSION, DIGEST);
        if (i < 2)
            snprintf(m.meta.tags[m.meta.tag_count++], sizeof(m.meta.tags[0]), SHOAL_SERVE_TAG);
        CHECK_INT(shoal_roster_update(&roster, &m, NULL), ==, SHOAL_ROSTER_ARRIVED);
    }
    CHECK_STR(shoal_roster_ranked_first(&roster, NULL), ranked[2]);
    /* With the developer gone, the daemons rank among themselves. */
    CHECK_STR(shoal_roster_ranked_first(&roster, ranked[2]), ranked[0]);
    s_kill(&roster, ranked[2]);
    CHECK_STR(shoal_roster_ranked_first(&roster, NULL), ranked[0]);
}

void
test_node_session_roles_roster_ranks_the_alive(void)
{
    static shoal_roster_t roster;
    const char *ranked[3];
    s_three(&roster, ranked);
    CHECK_STR(shoal_roster_ranked_first(&roster, NULL), ranked[0]);
    CHECK_STR(shoal_roster_ranked_first(&roster, ranked[0]), ranked[1]);
    s_kill(&roster, ranked[0]);
    CHECK_STR(shoal_roster_ranked_first(&roster, NULL), ranked[1]);
    char names_out[16];
    shoal_roster_alive_names(&roster, names_out, sizeof(names_out));
    CHECK(strstr(names_out, ranked[1]) && !strstr(names_out, ranked[0]));
    shoal_roster_alive_names(&roster, names_out, 6); /* cut short */
    CHECK(strlen(names_out) <= 5 && strstr(names_out, "..."));
}

void
test_node_session_roles_roster_is_full_at_its_cap(void)
{
    static shoal_roster_t roster;
    shoal_roster_init(&roster, SESSION, DIGEST);
    char name[32];
    for (int i = 0; i < SHOAL_PARTICIPANTS_MAX; i++) {
        snprintf(name, sizeof(name), "n%d", i);
        s_join(&roster, name);
    }
    gossip_member_t m = s_member("one-more", GOSSIP_STATE_ALIVE, SESSION, DIGEST);
    CHECK_INT(shoal_roster_update(&roster, &m, NULL), ==, SHOAL_ROSTER_FULL);
    CHECK_INT(roster.count, ==, SHOAL_PARTICIPANTS_MAX);
}

/* ---------------------------------------------------------------- election */

void
test_node_session_roles_election_waits_for_expect_then_asks_then_claims(void)
{
    static shoal_roster_t roster;
    shoal_roster_init(&roster, SESSION, DIGEST);
    const char *names[2] = {"n1", "n2"}, *ranked[2];
    s_ranked(names, 2, ranked);
    const char *me = ranked[0], *other = ranked[1];
    shoal_election_t e;
    shoal_election_init(&e, 2, 10000);
    s_join(&roster, me);
    bool said_short = true;
    CHECK_INT(shoal_election_gather(&e, &roster, me, true, 100, &said_short), ==, SHOAL_ELECT_WAIT);
    s_join(&roster, other);
    /* The window is closed; not collected yet: no claim. */
    CHECK_INT(shoal_election_gather(&e, &roster, me, false, 200, NULL), ==, SHOAL_ELECT_WAIT);
    CHECK_INT(shoal_election_gather(&e, &roster, me, true, 300, &said_short), ==, SHOAL_ELECT_ASK);
    CHECK(!said_short);
    CHECK(e.claim_at > 300);
    /* The other has not answered: wait, until it does or the grace ends. */
    CHECK_INT(shoal_election_gather(&e, &roster, me, true, 301, NULL), ==, SHOAL_ELECT_WAIT);
    shoal_roster_find(&roster, other)->unled = true;
    CHECK_INT(shoal_election_gather(&e, &roster, me, true, 302, NULL), ==, SHOAL_ELECT_CLAIM);
    /* The other one never claims. */
    shoal_election_t theirs;
    shoal_election_init(&theirs, 2, 10000);
    CHECK_INT(shoal_election_gather(&theirs, &roster, other, true, 20000, NULL), ==,
              SHOAL_ELECT_WAIT);
}

void
test_node_session_roles_election_window_closes_short_at_its_end(void)
{
    static shoal_roster_t roster;
    shoal_roster_init(&roster, SESSION, DIGEST);
    s_join(&roster, "alone");
    shoal_election_t e;
    shoal_election_init(&e, 3, 1000);
    CHECK_INT(shoal_election_gather(&e, &roster, "alone", true, 999, NULL), ==, SHOAL_ELECT_WAIT);
    bool said_short = false;
    CHECK_INT(shoal_election_gather(&e, &roster, "alone", true, 1000, &said_short), ==,
              SHOAL_ELECT_ASK);
    CHECK(said_short);
    CHECK(e.window_closed);
    /* Alone: nobody to wait for. */
    CHECK_INT(shoal_election_gather(&e, &roster, "alone", true, 1000, NULL), ==, SHOAL_ELECT_CLAIM);
    /* Once someone leads, the gather does nothing. */
    shoal_election_adopt(&e, 1, "alone");
    CHECK_INT(shoal_election_gather(&e, &roster, "alone", true, 2000, NULL), ==, SHOAL_ELECT_WAIT);
}

void
test_node_session_roles_election_follows_newer_terms_and_better_ranks(void)
{
    const char *names[2] = {"n1", "n2"}, *ranked[2];
    s_ranked(names, 2, ranked);
    shoal_election_t e;
    shoal_election_init(&e, 0, 0);
    CHECK(shoal_election_newer(&e, SESSION, 1, ranked[1])); /* anyone, while nobody leads */
    shoal_election_adopt(&e, 1, ranked[1]);
    CHECK(!shoal_election_newer(&e, SESSION, 1, ranked[1]));
    CHECK(shoal_election_newer(&e, SESSION, 1, ranked[0])); /* same term, better rank */
    CHECK(shoal_election_newer(&e, SESSION, 2, ranked[1]));
    shoal_election_adopt(&e, 2, ranked[0]);
    CHECK(!shoal_election_newer(&e, SESSION, 2, ranked[1]));
    CHECK(!shoal_election_newer(&e, SESSION, 1, ranked[0]));
    /* A LEADER message: adopt the newer, tell an older claimant while we lead. */
    CHECK_INT(shoal_election_on_leader(&e, SESSION, "me", false, "x", 3), ==, SHOAL_ELECT_ADOPT);
    CHECK_INT(shoal_election_on_leader(&e, SESSION, ranked[0], true, ranked[1], 1), ==,
              SHOAL_ELECT_TELL);
    CHECK_INT(shoal_election_on_leader(&e, SESSION, "me", false, ranked[1], 1), ==,
              SHOAL_ELECT_WAIT);
    CHECK_INT(shoal_election_on_leader(&e, SESSION, "me", false, "me", 9), ==, SHOAL_ELECT_WAIT);
}

void
test_node_session_roles_election_best_survivor_takes_over(void)
{
    static shoal_roster_t roster;
    const char *ranked[3];
    s_three(&roster, ranked);
    s_kill(&roster, ranked[0]);
    shoal_election_t e2, e3;
    shoal_election_init(&e2, 0, 0);
    shoal_election_init(&e3, 0, 0);
    shoal_election_adopt(&e2, 4, ranked[0]);
    shoal_election_adopt(&e3, 4, ranked[0]);
    CHECK_INT(shoal_election_leader_lost(&e2, &roster, ranked[1]), ==, SHOAL_ELECT_CLAIM);
    CHECK_INT(shoal_election_leader_lost(&e3, &roster, ranked[2]), ==, SHOAL_ELECT_DISOWNED);
    CHECK_STR(e3.leader, ""); /* forgotten until the next LEADER */
    CHECK_INT(e3.term, ==, 4);
}

/* ---------------------------------------------------------------- summary */

static shoal_item_t *
s_results(size_t n)
{
    static char output[SHOAL_OUTPUT_MAX];
    memset(output, 'o', sizeof(output) - 1);
    shoal_item_t *items = calloc(n, sizeof(*items));
    for (size_t i = 0; i < n; i++) {
        char id[32];
        snprintf(id, sizeof(id), "t%zu", i);
        items[i] = (shoal_item_t){.id = strdup(id),
                                  .outcome = 1,
                                  .seconds = 0.5,
                                  .node = strdup("n1"),
                                  .message = strdup("failed"),
                                  .output = strdup(output)};
    }
    return items;
}

void
test_node_session_roles_summary_assembles_chunks_in_any_order(void)
{
    fake_host_t host;
    fake_host_init(&host);
    size_t n = 60; /* 8 KiB of output each: several frames */
    shoal_item_t *items = s_results(n);
    shoal_msg_t msg = {.type = SHOAL_MSG_SUMMARY,
                       .term = 3,
                       .status = 1,
                       .text = (char *)"1 failed",
                       .items = items,
                       .item_count = n};
    long chunks = shoal_summary_send(&host.host, SESSION, "n2", &msg);
    CHECK(chunks > 1);
    CHECK_INT(host.count, ==, chunks);
    CHECK_INT(host.undecodable, ==, 0);
    shoal_summary_in_t in = {0};
    for (long c = chunks - 1; c >= 0; c--) {
        fake_frame_t *f = &host.frames[c];
        CHECK_STR(f->to, "n2");
        CHECK_STR(f->msg.session, SESSION);
        shoal_summary_add_t got = shoal_summary_in_add(&in, &f->msg);
        CHECK_INT(got, ==, c == 0 ? SHOAL_SUMMARY_COMPLETE : SHOAL_SUMMARY_PARTIAL);
    }
    CHECK_INT(in.count, ==, n);
    CHECK_INT(in.status, ==, 1);
    CHECK_STR(in.text, "1 failed");
    /* Every result once. */
    bool *seen = calloc(n, sizeof(bool));
    for (size_t i = 0; i < in.count; i++) {
        size_t k = (size_t)strtoul(in.items[i].id + 1, NULL, 10);
        CHECK(k < n && !seen[k]);
        seen[k] = true;
        CHECK_INT(strlen(in.items[i].output), ==, SHOAL_OUTPUT_MAX - 1);
    }
    free(seen);
    /* A chunk again changes nothing. */
    fake_host_clear(&host);
    fake_host_init(&host);
    CHECK(shoal_summary_send(&host.host, SESSION, "n2", &msg) == chunks);
    CHECK_INT(shoal_summary_in_add(&in, &host.frames[0].msg), ==, SHOAL_SUMMARY_DUPLICATE);
    CHECK_INT(in.count, ==, n);
    shoal_summary_in_clear(&in);
    fake_host_clear(&host);
    for (size_t i = 0; i < n; i++)
        shoal_item_clear(&items[i]);
    free(items);
}

void
test_node_session_roles_summary_refuses_what_no_sender_makes(void)
{
    shoal_summary_in_t in = {0};
    shoal_msg_t msg = {.type = SHOAL_MSG_SUMMARY, .term = 1, .chunk = 0, .chunks = UINT32_MAX};
    CHECK_INT(shoal_summary_in_add(&in, &msg), ==, SHOAL_SUMMARY_REFUSED);
    CHECK(in.seen == NULL); /* nothing allocated for it */
    msg.chunks = SHOAL_SUMMARY_CHUNKS_MAX + 1;
    CHECK_INT(shoal_summary_in_add(&in, &msg), ==, SHOAL_SUMMARY_REFUSED);
    msg.chunks = 2;
    msg.chunk = 2;
    CHECK_INT(shoal_summary_in_add(&in, &msg), ==, SHOAL_SUMMARY_REFUSED);
    msg.chunks = 0;
    msg.chunk = 0;
    CHECK_INT(shoal_summary_in_add(&in, &msg), ==, SHOAL_SUMMARY_REFUSED);
    shoal_summary_in_clear(&in);
}

void
test_node_session_roles_summary_of_a_new_term_starts_over(void)
{
    shoal_summary_in_t in = {0};
    shoal_item_t *old = s_results(1), *fresh = s_results(2);
    shoal_msg_t first = {.type = SHOAL_MSG_SUMMARY,
                         .term = 1,
                         .chunk = 0,
                         .chunks = 2,
                         .items = old,
                         .item_count = 1};
    CHECK_INT(shoal_summary_in_add(&in, &first), ==, SHOAL_SUMMARY_PARTIAL);
    shoal_msg_t second = {.type = SHOAL_MSG_SUMMARY,
                          .term = 2,
                          .chunk = 0,
                          .chunks = 1,
                          .items = fresh,
                          .item_count = 2};
    CHECK_INT(shoal_summary_in_add(&in, &second), ==, SHOAL_SUMMARY_COMPLETE);
    CHECK_INT(in.count, ==, 2);
    CHECK_INT(in.term, ==, 2);
    shoal_summary_in_clear(&in);
    free(old);
    free(fresh);
}

/* ---------------------------------------------------------------- status */

void
test_node_session_roles_status_json_is_one_object(void)
{
    static shoal_roster_t roster;
    shoal_roster_init(&roster, SESSION, DIGEST);
    s_join(&roster, "n1");
    s_join(&roster, "n\"2"); /* a name JSON must escape */
    uint32_t counts[SHOAL_COUNT_KINDS] = {5, 1, 0, 2, 3, 9};
    shoal_status_view_t view = {.session = SESSION,
                                .phase = "running",
                                .leader = "n1",
                                .term = 2,
                                .counts = counts,
                                .roster = &roster,
                                .me = "n1",
                                .running_here = 3};
    char *text = NULL;
    size_t size = 0;
    FILE *out = open_memstream(&text, &size);
    shoal_status_print(out, true, &view);
    fclose(out);
    json_object *o = json_tokener_parse(text);
    CHECK(o && json_object_is_type(o, json_type_object));
    json_object *v;
    CHECK(json_object_object_get_ex(o, "session", &v));
    CHECK_STR(json_object_get_string(v), SESSION);
    CHECK(json_object_object_get_ex(o, "passed", &v) && json_object_get_int(v) == 5);
    CHECK(json_object_object_get_ex(o, "pending", &v) && json_object_get_int(v) == 9);
    CHECK(json_object_object_get_ex(o, "members", &v) && json_object_array_length(v) == 2);
    CHECK_STR(
        json_object_get_string(json_object_object_get(json_object_array_get_idx(v, 1), "name")),
        "n\"2");
    json_object_put(o);
    free(text);
    text = NULL;
    out = open_memstream(&text, &size);
    shoal_status_print(out, false, &view);
    fclose(out);
    CHECK(strstr(text, "session ci-7: running, leader n1 (term 2)"));
    CHECK(strstr(text, "(here)"));
    free(text);
}

/* ---------------------------------------------------------------- results */

static void
s_add(shoal_results_t *results, const char *id, uint32_t attempt)
{
    shoal_item_t item = {.id = strdup(id),
                         .attempt = attempt,
                         .node = strdup("me"),
                         .message = strdup(""),
                         .output = strdup("")};
    CHECK_INT(shoal_results_add(results, &item), ==, 0);
    CHECK(item.id == NULL); /* moved in */
}

/* The ids of the RESULTS frames sent to `to` from frame `first` on, joined. */
static void
s_sent_ids(const fake_host_t *host, size_t first, const char *to, char *out, size_t size)
{
    out[0] = '\0';
    for (size_t f = first; f < host->count; f++) {
        if (strcmp(host->frames[f].to, to) != 0)
            continue;
        CHECK_INT(host->frames[f].msg.type, ==, SHOAL_MSG_RESULTS);
        for (size_t i = 0; i < host->frames[f].msg.item_count; i++)
            snprintf(out + strlen(out), size - strlen(out), "%s%s", out[0] ? " " : "",
                     host->frames[f].msg.items[i].id);
    }
}

void
test_node_session_roles_results_resent_until_acknowledged(void)
{
    fake_host_t host;
    fake_host_init(&host);
    shoal_results_t results = {0};
    s_add(&results, "a", 0);
    s_add(&results, "b", 0);
    s_add(&results, "c", 1);
    char ids[256];
    CHECK_INT(shoal_results_send(&results, &host.host, SESSION, 2, "lead", NULL), ==, 3);
    s_sent_ids(&host, 0, "lead", ids, sizeof(ids));
    CHECK_STR(ids, "a b c");
    CHECK_INT(host.frames[0].msg.term, ==, 2);
    /* b, and c of another attempt: only b counts. */
    shoal_item_t acked[2] = {{.id = (char *)"b"}, {.id = (char *)"c", .attempt = 0}};
    shoal_msg_t ack = {.type = SHOAL_MSG_ACK, .items = acked, .item_count = 2};
    shoal_results_ack(&results, &ack);
    size_t before = host.count;
    CHECK_INT(shoal_results_send(&results, &host.host, SESSION, 2, "lead", NULL), ==, 2);
    s_sent_ids(&host, before, "lead", ids, sizeof(ids));
    CHECK_STR(ids, "a c");
    acked[0].id = (char *)"a";
    acked[1].attempt = 1;
    shoal_results_ack(&results, &ack);
    CHECK_INT(results.unacked, ==, 3);
    before = host.count;
    CHECK_INT(shoal_results_send(&results, &host.host, SESSION, 2, "lead", NULL), ==, 0);
    CHECK_INT(host.count, ==, before); /* nothing to say */
    /* A new leader hears everything again. */
    shoal_results_unack_all(&results);
    CHECK_INT(shoal_results_send(&results, &host.host, SESSION, 3, "new", NULL), ==, 3);
    shoal_results_clear(&results);
    fake_host_clear(&host);
}

void
test_node_session_roles_results_copied_to_the_deputy_once(void)
{
    fake_host_t host;
    fake_host_init(&host);
    shoal_results_t results = {0};
    char ids[256];
    s_add(&results, "a", 0);
    s_add(&results, "b", 0);
    shoal_results_send(&results, &host.host, SESSION, 1, "me", "d1");
    s_sent_ids(&host, 0, "d1", ids, sizeof(ids));
    CHECK_STR(ids, "a b");
    s_add(&results, "c", 0);
    size_t before = host.count;
    shoal_results_send(&results, &host.host, SESSION, 1, "me", "d1");
    s_sent_ids(&host, before, "d1", ids, sizeof(ids));
    CHECK_STR(ids, "c"); /* only what it lacks */
    before = host.count;
    shoal_results_send(&results, &host.host, SESSION, 1, "me", "d2");
    s_sent_ids(&host, before, "d2", ids, sizeof(ids));
    CHECK_STR(ids, "a b c"); /* a new deputy gets everything */
    /* The deputy keeps one leader's copies at a time. */
    shoal_replicas_t replicas = {0};
    shoal_replicas_keep(&replicas, "me", &host.frames[before].msg);
    CHECK_INT(replicas.count, ==, 3);
    CHECK_STR(replicas.of, "me");
    shoal_replicas_keep(&replicas, "other", &host.frames[0].msg);
    CHECK_INT(replicas.count, ==, 2); /* a and b of the other leader, instead of mine */
    CHECK_STR(replicas.of, "other");
    shoal_replicas_clear(&replicas);
    shoal_results_clear(&results);
    fake_host_clear(&host);
}

/* ---------------------------------------------------------------- hold */

/* A WORK or GIVE message of tests "t<i>" at versions[i], seconds[i]. */
static shoal_msg_t
s_work(size_t n, const uint32_t *versions, const double *seconds)
{
    shoal_msg_t msg = {.type = SHOAL_MSG_WORK, .items = calloc(n, sizeof(shoal_item_t))};
    for (size_t i = 0; i < n; i++) {
        char id[16];
        snprintf(id, sizeof(id), "t%zu", i % 1000);
        msg.items[i] = (shoal_item_t){
            .id = strdup(id), .version = versions[i], .seconds = seconds ? seconds[i] : 1.0};
    }
    msg.item_count = n;
    return msg;
}

static size_t
s_take(shoal_hold_t *hold, size_t n, const uint32_t *versions, const double *seconds, bool fresh)
{
    shoal_msg_t msg = s_work(n, versions, seconds);
    size_t taken = shoal_hold_take(hold, &msg, fresh);
    shoal_msg_clear(&msg);
    return taken;
}

void
test_node_session_roles_hold_takes_a_test_once_per_version(void)
{
    shoal_hold_t hold;
    CHECK_INT(shoal_hold_init(&hold), ==, 0);
    uint32_t v1[] = {1, 1, 1}, v2[] = {2, 1, 1};
    CHECK_INT(s_take(&hold, 3, v1, NULL, false), ==, 3);
    CHECK_INT(s_take(&hold, 3, v1, NULL, false), ==, 0); /* shipped again: nothing new */
    CHECK(shoal_hold_work(&hold) == 3.0);
    /* t0 placed here again, newer: still one copy. */
    CHECK_INT(s_take(&hold, 3, v2, NULL, false), ==, 0);
    CHECK_INT(shoal_hold_count(&hold), ==, 3);
    /* Started: a shipment at that version does not bring it back... */
    shoal_item_t first[1];
    CHECK_INT(shoal_hold_pop(&hold, 1, first), ==, 1);
    CHECK_STR(first[0].id, "t0");
    CHECK_INT(s_take(&hold, 1, v2, NULL, false), ==, 0);
    /* ...unless it came back unrun. */
    shoal_hold_forget(&hold, "t0");
    CHECK_INT(s_take(&hold, 1, v2, NULL, false), ==, 1);
    shoal_item_clear(&first[0]);
    /* A fresh shipment replaces what is held. */
    uint32_t v3[] = {3};
    CHECK_INT(s_take(&hold, 1, v3, NULL, true), ==, 1);
    CHECK_INT(shoal_hold_count(&hold), ==, 1);
    shoal_hold_clear(&hold);
}

void
test_node_session_roles_hold_cuts_batches_off_the_head(void)
{
    shoal_hold_t hold;
    shoal_hold_init(&hold);
    uint32_t v[] = {1, 1, 1, 1, 1, 1};
    double seconds[] = {0.5, 0.5, 0.5, 0.5, 3.0, 0.5};
    s_take(&hold, 6, v, seconds, false);
    CHECK_INT(shoal_hold_batch(&hold, 2.0, 100), ==, 4); /* 2 s of 0.5 s tests */
    CHECK_INT(shoal_hold_batch(&hold, 2.0, 3), ==, 3);   /* at most 3 */
    shoal_item_t batch[4];
    CHECK_INT(shoal_hold_pop(&hold, 4, batch), ==, 4);
    CHECK_STR(batch[3].id, "t3");
    for (int i = 0; i < 4; i++)
        shoal_item_clear(&batch[i]);
    CHECK(shoal_hold_work(&hold) == 3.5);
    shoal_hold_clear(&hold);
}

static bool
s_not_t2(void *ctx, const shoal_item_t *item)
{
    (void)ctx;
    return strcmp(item->id, "t2") != 0;
}

void
test_node_session_roles_hold_gives_about_half_from_the_tail(void)
{
    shoal_hold_t hold;
    shoal_hold_init(&hold);
    uint32_t v[] = {4, 4, 4, 4, 4, 4, 4, 4};
    shoal_msg_t work = s_work(8, v, NULL); /* 8 tests of 1 s */
    work.items[7].node = strdup("thief");  /* a retry of a failure there */
    CHECK_INT(shoal_hold_take(&hold, &work, false), ==, 8);
    shoal_msg_clear(&work);
    sched_steal_sides_t sides = {.victim_slots = 1, .thief_slots = 1, .latency = 0.005};
    const shoal_gift_t *gift = shoal_hold_give(&hold, "thief", &sides, s_not_t2, NULL);
    CHECK(gift != NULL);
    CHECK_INT(gift->count, >=, 3);
    CHECK_INT(gift->count, <=, 4);
    CHECK_STR(gift->thief, "thief");
    for (size_t i = 0; i < gift->count; i++) {
        CHECK_INT(gift->items[i].version, ==, 5); /* one placement on */
        CHECK(strcmp(gift->items[i].id, "t2") != 0);
        CHECK(strcmp(gift->items[i].id, "t7") != 0); /* never back where it failed */
        CHECK(strcmp(gift->items[i].id, "t0") != 0); /* from the tail */
    }
    size_t given = gift->count;
    CHECK_INT(shoal_hold_count(&hold), ==, 8 - given);
    CHECK(shoal_hold_work(&hold) == (double)(8 - given));
    /* What was given does not come back at the version it left with... */
    CHECK_INT(s_take(&hold, 8, v, NULL, false), ==, 0);
    /* ...and the leader's echo settles the gift. */
    shoal_item_t echoed[8];
    memcpy(echoed, hold.gifts[0].items, given * sizeof(shoal_item_t));
    shoal_msg_t moved = {
        .type = SHOAL_MSG_MOVED, .thief = (char *)"thief", .items = echoed, .item_count = given};
    shoal_hold_confirmed(&hold, &moved);
    CHECK_INT(hold.gift_count, ==, 0);
    /* A tiny remainder is nobody's gift. */
    shoal_hold_t small;
    shoal_hold_init(&small);
    double tiny[] = {0.001};
    s_take(&small, 1, v, tiny, false);
    CHECK(shoal_hold_give(&small, "thief", &sides, s_not_t2, NULL) == NULL);
    shoal_hold_clear(&small);
    shoal_hold_clear(&hold);
}
