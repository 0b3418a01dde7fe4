/* A property test of peer-to-peer stealing against the leader's board. The
 * members are the truth (their own queues, what they run, the results they
 * hold); the leader's board is what it heard. Over random suites with tags and
 * a fixed set of seeds it interleaves starts, results, progress
 * announcements, peer steals (asks, victims' splits, answers, and both sides'
 * reports delivered in random order, one of them possibly lost), member deaths
 * (the board re-deals) and leader changes (a fresh board rebuilt from what the
 * surviving members report: results, running and queued tests), then runs the
 * session to its end. It asserts after every step: the board's own invariant
 * (sched_board_check); I2, a test is held (queued, running or on its way) by
 * at most one living member, so never runs on two at once; results are
 * recorded once on a board; and when nothing is in flight the board agrees
 * with the members. At the end, I1: the final board (the report) has every
 * test done, each with one result, from a member that ran it (a result lost
 * with its member before a new leader heard it is run again).
 *
 * The model's assumptions, each what a real cluster gives: a report is lost
 * only with its sender (it dies first) or with the leader, and at most one of
 * a steal's two reports is lost (here the thief's at random, or the victim's
 * when it dies first); failure detection is slower than a message, so the
 * answers and reports in flight of what a member gave away land before the
 * leader declares it dead; an election is slower than a message, so answers in
 * flight land before a new leader rebuilds. Member 0 has every tag and never
 * dies.
 */
#include "harness.h"
#include "sched/sched.h"

#include <fcntl.h>
#include <stdbool.h>
#include <sys/wait.h>
#include <unistd.h>

#define TEST(g, n) void test_##g##_##n(void);
#include "sched.list"
#undef TEST

enum { S_MEMBERS = 7, S_TESTS = 160, S_ASKS = 8, S_MSGS = 512, S_STEPS = 1000, S_SEEDS = 500 };
#define S_LATENCY 0.004

typedef enum { S_ASK, S_ANSWER, S_REPORT } s_kind_t;

typedef struct {
    s_kind_t kind;
    size_t victim, thief;
    size_t sender;        /* S_REPORT: victim or thief */
    double thief_running; /* S_ASK: what the thief told its victim */
    bool fragile;         /* S_REPORT: lost if its sender dies before it lands */
    bool thief_silent;    /* S_ANSWER: the thief's report will be lost */
    size_t tests[S_TESTS];
    uint32_t versions[S_TESTS]; /* S_ANSWER, S_REPORT: as handed over */
    size_t count;
} s_msg_t;

typedef struct {
    bool alive;
    unsigned slots;
    size_t q[S_TESTS], qn; /* its queue, head first */
    size_t run[S_TESTS], rn;
    size_t done[S_TESTS], dn; /* results it holds */
    bool asking;
    size_t asked[S_ASKS], asked_count;
} s_member_t;

/* What the walks went through, summed over the seeds: each must happen, or
 * the walk no longer tests what it claims to. */
typedef enum {
    S_SEEN_STEAL,            /* a thief received tests */
    S_SEEN_REFUSAL,          /* a victim said no */
    S_SEEN_REPORT_MOVED,     /* a report moved every test it named */
    S_SEEN_REPORT_PARTIAL,   /* ... some: the others were started or re-dealt since */
    S_SEEN_REPORT_NOOP,      /* ... none: the other side's report came first */
    S_SEEN_REPORT_LOST,      /* one side's report never arrived */
    S_SEEN_MOVED_ON,         /* a report named a test queued by now at a third member */
    S_SEEN_DEAD_THIEF,       /* a report named a thief declared dead: its tests were dealt */
    S_SEEN_EARLY_START,      /* a thief started a stolen test before the board heard */
    S_SEEN_DEATH,            /* the leader declared a death and re-dealt */
    S_SEEN_LEADERLESS_DEATH, /* a member died while no leader was alive */
    S_SEEN_REBUILD,          /* a new leader rebuilt its board */
    S_SEEN_REBUILD_DEAL,     /* ... and dealt what nobody living held */
    S_SEEN_RERUN,            /* a result lost with its member was produced again */
    S_SEEN_COUNT,
} s_seen_t;

static size_t s_seen[S_SEEN_COUNT];

/* Bugs a caller could make, to prove the walk catches them. */
typedef struct {
    bool drop_reports;  /* the leader ignores every steal report */
    bool forget_queues; /* a new leader does not adopt what members hold queued */
} s_faults_t;

typedef struct {
    sched_rng_t rng;
    bool draw; /* thieves draw victims (else take the busiest) */
    s_faults_t faults;
    sched_suite_t *suite;
    sched_strategy_t strategy;
    sched_board_t *board; /* NULL while no leader is alive */
    size_t nm, nt;
    s_member_t m[S_MEMBERS];
    s_msg_t msgs[S_MSGS];
    size_t nmsg;
    sched_peer_load_t loads[S_MEMBERS];
    double now, started[S_TESTS];
    uint32_t version[S_TESTS];    /* its holder's version (sched_board_moved) */
    unsigned char state[S_TESTS]; /* board snapshot, to see what a deal placed */
    size_t owner[S_TESTS];
} s_world_t;

static size_t
s_pick(s_world_t *w, size_t n)
{
    return (size_t)(sched_rng_next(&w->rng) % n);
}

static double
s_pred(const s_world_t *w, size_t t)
{
    return sched_suite_predicted(w->suite, t, NULL, NULL);
}

static double
s_running_left(const s_world_t *w, size_t m)
{
    double left = 0.0;
    for (size_t i = 0; i < w->m[m].rn; i++) {
        double l = s_pred(w, w->m[m].run[i]) - (w->now - w->started[w->m[m].run[i]]);
        left += l > 0 ? l : 0.0;
    }
    return left;
}

static void
s_build(s_world_t *w)
{
    static const char *const tags[] = {"gpu,arm", "gpu", "arm", NULL};
    static const char *const reqs[] = {NULL,  NULL,  NULL,  NULL,     NULL,
                                       "gpu", "gpu", "arm", "gpu,arm"};
    char name[32], file[32];
    w->suite = sched_suite_new();
    w->nm = 2 + s_pick(w, S_MEMBERS - 1);
    w->nt = 1 + s_pick(w, S_TESTS);
    w->strategy = (sched_strategy_t)s_pick(w, 5);
    w->draw = s_pick(w, 2) == 0;
    for (size_t m = 0; m < w->nm; m++) {
        snprintf(name, sizeof(name), "m%zu", m);
        unsigned slots = 1 + (unsigned)s_pick(w, 3);
        CHECK(sched_suite_add_member(w->suite, name, slots, tags[m == 0 ? 0 : s_pick(w, 4)],
                                     NULL) == 0);
        w->m[m] = (s_member_t){.alive = true, .slots = slots};
    }
    for (size_t t = 0; t < w->nt; t++) {
        snprintf(name, sizeof(name), "t%03zu", t);
        snprintf(file, sizeof(file), "f%zu", t / 7);
        CHECK(sched_suite_add_test(w->suite, name, file, reqs[s_pick(w, 9)], NULL) == 0);
        CHECK(sched_suite_set_predicted(w->suite, t, 0.1 + 3 * sched_rng_uniform(&w->rng), 1) == 0);
    }
}

static void
s_snapshot(s_world_t *w)
{
    for (size_t t = 0; t < w->nt; t++)
        w->state[t] = (unsigned char)sched_board_test_state(w->board, t, &w->owner[t]);
}

/* The leader tells member m it holds test x (a deal). Lost if m has died
 * and the leader does not know yet: declaring it will deal x again. */
static void
s_tell(s_world_t *w, size_t m, size_t x)
{
    if (!w->m[m].alive)
        return;
    w->m[m].q[w->m[m].qn++] = x;
    w->version[x] = sched_board_version(w->board, x);
}

/* The leader tells each member the tests its board newly queues there (a
 * deal) since the last snapshot. */
static void
s_deliver_dealt(s_world_t *w)
{
    for (size_t t = 0; t < w->nt; t++) {
        size_t o;
        if (sched_board_test_state(w->board, t, &o) != SCHED_TEST_QUEUED ||
            (w->state[t] == SCHED_TEST_QUEUED && w->owner[t] == o))
            continue;
        s_tell(w, o, t);
    }
}

static void
s_send(s_world_t *w, const s_msg_t *msg)
{
    CHECK(w->nmsg < S_MSGS);
    w->msgs[w->nmsg++] = *msg;
}

static void
s_publish(s_world_t *w)
{
    for (size_t m = 0; m < w->nm; m++) {
        const s_member_t *mb = &w->m[m];
        double queued = 0.0;
        for (size_t i = 0; i < mb->qn; i++)
            queued += s_pred(w, mb->q[i]);
        w->loads[m] = (sched_peer_load_t){queued, s_running_left(w, m), mb->slots, mb->alive};
        w->m[m].asked_count = 0;
    }
}

static void
s_start(s_world_t *w, size_t m)
{
    s_member_t *mb = &w->m[m];
    size_t x = mb->q[0], o;
    memmove(mb->q, mb->q + 1, --mb->qn * sizeof(size_t));
    mb->run[mb->rn++] = x;
    w->started[x] = w->now;
    if (!w->board)
        return;
    /* Queued here, or at a victim whose report has not come yet. */
    if (sched_board_test_state(w->board, x, &o) == SCHED_TEST_QUEUED && o != m)
        s_seen[S_SEEN_EARLY_START]++;
    CHECK_INT(sched_board_adopt_running(w->board, m, x, w->now), ==, 0);
}

static void
s_finish(s_world_t *w, size_t m)
{
    s_member_t *mb = &w->m[m];
    size_t i = s_pick(w, mb->rn), x = mb->run[i];
    mb->run[i] = mb->run[--mb->rn];
    mb->done[mb->dn++] = x;
    for (size_t k = 0; k < w->nm; k++)
        for (size_t j = 0; !w->m[k].alive && j < w->m[k].dn; j++)
            s_seen[S_SEEN_RERUN] += w->m[k].done[j] == x;
    if (w->board) /* the first result this board hears for x */
        CHECK_INT(sched_board_finish(w->board, x, w->now), ==, 0);
}

static void
s_ask(s_world_t *w, size_t t)
{
    s_member_t *mb = &w->m[t];
    size_t v;
    double rt = s_running_left(w, t);
    if (sched_steal_pick(w->loads, w->nm, t, rt, S_LATENCY, mb->asked, mb->asked_count,
                         w->draw ? &w->rng : NULL, &v) != 0)
        return;
    CHECK(v != t && v < w->nm);
    mb->asked[mb->asked_count++] = v;
    mb->asking = true;
    s_msg_t ask = {.kind = S_ASK, .victim = v, .thief = t, .thief_running = rt};
    s_send(w, &ask);
}

/* The victim decides on its queue as it is now: all or nothing. */
static void
s_on_ask(s_world_t *w, const s_msg_t *ask)
{
    s_member_t *vm = &w->m[ask->victim];
    s_msg_t answer = {.kind = S_ANSWER, .victim = ask->victim, .thief = ask->thief};
    if (vm->alive) {
        double pred[S_TESTS];
        bool can[S_TESTS];
        size_t take[S_TESTS];
        for (size_t i = 0; i < vm->qn; i++) {
            pred[i] = s_pred(w, vm->q[i]);
            can[i] = sched_suite_can_run(w->suite, vm->q[i], ask->thief);
        }
        sched_steal_sides_t sides = {vm->slots, s_running_left(w, ask->victim),
                                     w->m[ask->thief].slots, ask->thief_running, S_LATENCY};
        size_t n = sched_steal_split(pred, can, vm->qn, &sides, take, NULL), kept = 0;
        for (size_t i = 0, k = 0; i < vm->qn; i++) {
            if (k < n && take[k] == i) {
                CHECK(can[i]);
                answer.versions[answer.count] = ++w->version[vm->q[i]]; /* handed on */
                answer.tests[answer.count++] = vm->q[i];
                k++;
            } else {
                vm->q[kept++] = vm->q[i];
            }
        }
        vm->qn = kept;
    }
    if (answer.count > 0) {
        unsigned lost = (unsigned)s_pick(w, 3); /* 0 none, 1 the victim's, 2 the thief's */
        answer.thief_silent = lost == 2;
        s_seen[S_SEEN_REPORT_LOST] += lost == 2;
        s_msg_t report = answer;
        report.kind = S_REPORT;
        report.sender = ask->victim;
        report.fragile = lost == 1;
        s_send(w, &report);
    }
    s_send(w, &answer);
}

static void
s_on_answer(s_world_t *w, const s_msg_t *answer)
{
    s_member_t *tm = &w->m[answer->thief];
    tm->asking = false;
    s_seen[answer->count ? S_SEEN_STEAL : S_SEEN_REFUSAL]++;
    if (!tm->alive || answer->count == 0)
        return; /* a dead thief's parcel is lost with it */
    for (size_t i = 0; i < answer->count; i++)
        tm->q[tm->qn++] = answer->tests[i];
    if (!answer->thief_silent) {
        s_msg_t report = *answer;
        report.kind = S_REPORT;
        report.sender = answer->thief;
        s_send(w, &report);
    }
}

static void
s_on_report(s_world_t *w, const s_msg_t *report)
{
    if (!w->board || w->faults.drop_reports)
        return;
    bool deals = !sched_board_member_alive(w->board, report->thief);
    size_t moved_tests[S_TESTS], o;
    for (size_t i = 0; i < report->count; i++)
        if (sched_board_test_state(w->board, report->tests[i], &o) == SCHED_TEST_QUEUED &&
            o != report->victim && o != report->thief)
            s_seen[S_SEEN_MOVED_ON]++;
    int moved = sched_board_moved(w->board, report->victim, report->thief, report->tests,
                                  report->versions, report->count, moved_tests);
    CHECK(moved >= 0 && (size_t)moved <= report->count);
    s_seen[(size_t)moved == report->count ? S_SEEN_REPORT_MOVED
           : moved > 0                    ? S_SEEN_REPORT_PARTIAL
                                          : S_SEEN_REPORT_NOOP]++;
    s_seen[S_SEEN_DEAD_THIEF] += deals && moved > 0;
    for (int i = 0; deals && i < moved; i++) { /* a dead thief's parcel goes to the others */
        size_t x = moved_tests[i];
        CHECK(sched_board_test_state(w->board, x, &o) == SCHED_TEST_QUEUED);
        s_tell(w, o, x);
    }
}

static void
s_deliver(s_world_t *w, size_t i)
{
    s_msg_t msg = w->msgs[i];
    w->msgs[i] = w->msgs[--w->nmsg]; /* the order of the rest does not matter */
    switch (msg.kind) {
        case S_ASK:
            s_on_ask(w, &msg);
            break;
        case S_ANSWER:
            s_on_answer(w, &msg);
            break;
        case S_REPORT:
        default:
            s_on_report(w, &msg);
            break;
    }
}

/* Delivers the answers and reports in flight of steals from member m (of
 * every steal when m is SIZE_MAX), answers first, until none is left. */
static void
s_flush(s_world_t *w, size_t m)
{
    for (s_kind_t kind = S_ANSWER; kind <= S_REPORT; kind++)
        for (size_t i = 0; i < w->nmsg;) {
            const s_msg_t *msg = &w->msgs[i];
            if (msg->kind == kind && (m == SIZE_MAX || msg->victim == m))
                s_deliver(w, i); /* may send a thief's report, flushed in the next pass */
            else
                i++;
        }
}

static void
s_kill(s_world_t *w, size_t m)
{
    s_member_t *mb = &w->m[m];
    mb->alive = false;
    mb->qn = mb->rn = 0;
    for (size_t i = 0; i < w->nmsg;)
        if (w->msgs[i].kind == S_REPORT && w->msgs[i].sender == m && w->msgs[i].fragile) {
            w->msgs[i] = w->msgs[--w->nmsg];
            s_seen[S_SEEN_REPORT_LOST]++;
        } else {
            i++;
        }
    if (!w->board) {
        s_seen[S_SEEN_LEADERLESS_DEATH]++;
        return; /* the next leader rebuilds without it */
    }
    /* What it gave away before it died reaches the board first; what it was
     * given may come later (sched_board_moved deals it). */
    s_flush(w, m);
    s_snapshot(w);
    CHECK(sched_board_member_lost(w->board, m, w->now) >= 0);
    s_deliver_dealt(w);
    s_seen[S_SEEN_DEATH]++;
}

static void
s_leader_down(s_world_t *w)
{
    sched_board_destroy(&w->board);
    for (size_t i = 0; i < w->nmsg;) /* sent to the leader that is gone */
        if (w->msgs[i].kind == S_REPORT)
            w->msgs[i] = w->msgs[--w->nmsg];
        else
            i++;
}

/* A new leader rebuilds its board from what the living members report. */
static void
s_leader_up(s_world_t *w)
{
    s_flush(w, SIZE_MAX); /* answers in flight land; reports have nobody to reach */
    for (size_t m = 0; m < w->nm; m++)
        CHECK(sched_suite_set_alive(w->suite, m, w->m[m].alive) == 0);
    w->board = sched_board_new(w->suite, w->strategy);
    CHECK(w->board != NULL);
    for (size_t m = 0; m < w->nm; m++) {
        const s_member_t *mb = &w->m[m];
        if (!mb->alive)
            continue;
        for (size_t i = 0; i < mb->dn; i++)
            CHECK_INT(sched_board_adopt_done(w->board, mb->done[i], w->now), ==, 0);
        for (size_t i = 0; i < mb->rn; i++)
            CHECK_INT(sched_board_adopt_running(w->board, m, mb->run[i], w->now), ==, 0);
        uint32_t versions[S_TESTS];
        for (size_t i = 0; i < mb->qn; i++)
            versions[i] = w->version[mb->q[i]];
        if (!w->faults.forget_queues)
            CHECK_INT(sched_board_adopt_queued(w->board, m, mb->q, versions, mb->qn, w->now), ==,
                      mb->qn);
    }
    CHECK(sched_board_check(w->board) == 0);
    s_snapshot(w);
    /* What nobody holds: it died with its members. */
    s_seen[S_SEEN_REBUILD_DEAL] += sched_board_deal(w->board) > 0;
    s_deliver_dealt(w);
    s_seen[S_SEEN_REBUILD]++;
}

/* Who holds each test now: I2 and the board's agreement. */
static void
s_check(s_world_t *w)
{
    unsigned held[S_TESTS] = {0}, done[S_TESTS] = {0};
    bool queued_at[S_MEMBERS][S_TESTS] = {{false}}, running_at[S_MEMBERS][S_TESTS] = {{false}};
    for (size_t m = 0; m < w->nm; m++) {
        const s_member_t *mb = &w->m[m];
        if (!mb->alive)
            continue;
        for (size_t i = 0; i < mb->qn; i++) {
            held[mb->q[i]]++;
            queued_at[m][mb->q[i]] = true;
        }
        for (size_t i = 0; i < mb->rn; i++) {
            held[mb->run[i]]++;
            running_at[m][mb->run[i]] = true;
        }
        for (size_t i = 0; i < mb->dn; i++)
            done[mb->done[i]]++;
    }
    for (size_t i = 0; i < w->nmsg; i++)
        if (w->msgs[i].kind == S_ANSWER && w->m[w->msgs[i].thief].alive)
            for (size_t k = 0; k < w->msgs[i].count; k++)
                held[w->msgs[i].tests[k]]++;
    for (size_t t = 0; t < w->nt; t++) {
        CHECK_INT(held[t] + done[t], <=, 1); /* I2, and no result twice */
    }
    if (!w->board)
        return;
    CHECK(sched_board_check(w->board) == 0);
    if (w->nmsg > 0)
        return; /* reports on their way: the board may lag */
    for (size_t t = 0; t < w->nt; t++) {
        size_t o;
        sched_test_state_t st = sched_board_test_state(w->board, t, &o);
        for (size_t m = 0; m < w->nm; m++) {
            CHECK(queued_at[m][t] == (st == SCHED_TEST_QUEUED && o == m));
            CHECK(running_at[m][t] == (st == SCHED_TEST_RUNNING && o == m));
        }
    }
}

typedef enum { S_CAN_START, S_CAN_FINISH, S_CAN_ASK, S_CAN_DIE_THIEF } s_can_t;

static bool
s_can(const s_world_t *w, size_t m, s_can_t what)
{
    const s_member_t *mb = &w->m[m];
    switch (what) {
        case S_CAN_START:
            return mb->alive && mb->rn < mb->slots && mb->qn > 0;
        case S_CAN_FINISH:
            return mb->alive && mb->rn > 0;
        case S_CAN_ASK:
            return mb->alive && mb->qn == 0 && mb->rn < mb->slots && !mb->asking &&
                   mb->asked_count < S_ASKS;
        case S_CAN_DIE_THIEF:
        default:
            if (!mb->alive || m == 0)
                return false;
            for (size_t i = 0; i < w->nmsg; i++)
                if (w->msgs[i].thief == m)
                    return true;
            return false;
    }
}

/* A random member that can do `what`; SIZE_MAX if none can. */
static size_t
s_actor(s_world_t *w, s_can_t what)
{
    size_t able[S_MEMBERS], n = 0;
    for (size_t m = 0; m < w->nm; m++)
        if (s_can(w, m, what))
            able[n++] = m;
    return n ? able[s_pick(w, n)] : SIZE_MAX;
}

/* A random message in flight, or SIZE_MAX: reports take three times as long
 * as the rest, so that tests often move on (started, stolen again, re-dealt)
 * before the leader hears how they moved. */
static size_t
s_next_message(s_world_t *w)
{
    size_t i = s_pick(w, w->nmsg);
    return w->msgs[i].kind == S_REPORT && s_pick(w, 3) != 0 ? SIZE_MAX : i;
}

/* One random event; `drain` leaves out deaths and leader changes. */
static void
s_step(s_world_t *w, bool drain)
{
    size_t roll = s_pick(w, drain ? 920 : 1000), m, alive = 0;
    w->now += 0.1 * sched_rng_uniform(&w->rng);
    for (size_t k = 0; k < w->nm; k++)
        alive += w->m[k].alive;
    if (roll < 200) {
        if ((m = s_actor(w, S_CAN_START)) != SIZE_MAX)
            s_start(w, m);
    } else if (roll < 400) {
        if ((m = s_actor(w, S_CAN_FINISH)) != SIZE_MAX)
            s_finish(w, m);
    } else if (roll < 550) {
        if ((m = s_actor(w, S_CAN_ASK)) != SIZE_MAX)
            s_ask(w, m);
    } else if (roll < 820) {
        if (w->nmsg > 0 && (m = s_next_message(w)) != SIZE_MAX)
            s_deliver(w, m);
    } else if (roll < 920) {
        s_publish(w);
    } else if (roll < 960) {
        m = 1 + s_pick(w, w->nm - 1); /* member 0 never dies; two stay */
        if (s_pick(w, 2) == 0 && (m = s_actor(w, S_CAN_DIE_THIEF)) == SIZE_MAX)
            m = 0; /* half the deaths strike a thief whose steal is not settled */
        if (m != 0 && w->m[m].alive && alive > 2)
            s_kill(w, m);
    } else if (roll < 970) {
        s_leader_down(w);
    } else if (!w->board) {
        s_leader_up(w);
    }
    s_check(w);
}

static bool
s_idle(const s_world_t *w)
{
    if (w->nmsg > 0)
        return false;
    for (size_t m = 0; m < w->nm; m++)
        if (w->m[m].alive && (w->m[m].qn > 0 || w->m[m].rn > 0))
            return false;
    return true;
}

/* One session from seed: random steps, then a leader, then to the end. */
static void
s_walk(uint64_t seed, s_faults_t faults)
{
    static s_world_t world; /* large; one walk at a time */
    s_world_t *w = &world;
    memset(w, 0, sizeof(*w));
    sched_rng_seed(&w->rng, seed);
    w->faults = faults;
    s_build(w);
    w->board = sched_board_new(w->suite, w->strategy);
    CHECK(w->board != NULL);
    s_snapshot(w);
    sched_board_deal(w->board);
    s_deliver_dealt(w);
    s_publish(w);
    for (int step = 0; step < S_STEPS; step++)
        s_step(w, false);
    if (!w->board)
        s_leader_up(w);
    for (long step = 0; !s_idle(w); step++) {
        CHECK(step < 1000000); /* the session ends */
        s_step(w, true);
    }
    /* I1: the final board (the report) has a result for every test, one a
     * member produced; the living hold at most one each (s_check). */
    unsigned results[S_TESTS] = {0};
    for (size_t m = 0; m < w->nm; m++)
        for (size_t i = 0; i < w->m[m].dn; i++)
            results[w->m[m].done[i]]++;
    for (size_t t = 0; t < w->nt; t++) {
        CHECK_INT(results[t], >=, 1);
        CHECK(sched_board_test_state(w->board, t, NULL) == SCHED_TEST_DONE);
    }
    CHECK(sched_board_finished(w->board));
    sched_board_destroy(&w->board);
    sched_suite_destroy(&w->suite);
}

void
test_sched_p2p_random_sessions_keep_every_test_once(void)
{
    for (uint64_t seed = 1; seed <= S_SEEDS; seed++)
        s_walk(seed, (s_faults_t){false, false});
    for (size_t k = 0; k < S_SEEN_COUNT; k++)
        CHECK_INT(s_seen[k], >, 0);
}

/* Runs every seed with `faults` in a child process; true if one of them
 * failed a check (its message silenced). */
static bool
s_caught(s_faults_t faults)
{
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        int null = open("/dev/null", O_WRONLY);
        if (null >= 0)
            dup2(null, STDERR_FILENO);
        for (uint64_t seed = 1; seed <= S_SEEDS; seed++)
            s_walk(seed, faults);
        _exit(0);
    }
    int status;
    CHECK(waitpid(pid, &status, 0) == pid);
    return !WIFEXITED(status) || WEXITSTATUS(status) != 0;
}

void
test_sched_p2p_random_sessions_catch_a_leader_that_ignores_reports(void)
{
    CHECK(s_caught((s_faults_t){.drop_reports = true}));
    CHECK(s_caught((s_faults_t){.forget_queues = true}));
    CHECK(!s_caught((s_faults_t){false, false}));
}
