/* What a `shoal run` hands the node of its machine: the session's options,
 * its command, its directory and environment, read back the same; a body
 * cut anywhere, or one the node could not run (no command, a relative
 * directory), is refused. And how the node splits its slots between the
 * sessions it runs. */
#include "harness.h"
#include "node/handoff.h"
#include "node/serve.h"

#define TEST(g, n) void test_##g##_##n(void);
#include "node.list"
#undef TEST

static char *s_argv[] = {"pytest", "-x", "tests/", NULL};
static char *s_env[] = {"PATH=/client/bin:/usr/bin", "HOME=/home/c", "EMPTY=", NULL};

static shoal_handoff_t
s_sample(void)
{
    shoal_handoff_t h = {
        .argv = s_argv, .argc = 3, .cwd = "/work/repo", .env = s_env, .pid = 4242, .slots = 3};
    snprintf(h.run.session, sizeof(h.run.session), "ci-7");
    h.run.expect = 2;
    h.run.wait = 12.5;
    h.run.strategy = SCHED_STRATEGY_FILE;
    h.run.time_limit = 60;
    h.run.test_timeout = 5;
    h.run.retries = 2;
    h.run.batch_seconds = 2;
    h.run.process_per_batch = true;
    snprintf(h.run.project, sizeof(h.run.project), "repo");
    snprintf(h.run.history_db, sizeof(h.run.history_db), "/home/c/.local/share/shoal/h.db");
    snprintf(h.adapter, sizeof(h.adapter), "pytest");
    return h;
}

void
test_node_handoff_roundtrip(void)
{
    shoal_handoff_t sent = s_sample(), got;
    uint8_t *body = NULL;
    long len = shoal_handoff_encode(&sent, &body);
    CHECK_INT(len, >, 0);
    CHECK_INT(shoal_handoff_decode(body, (size_t)len, &got), ==, 0);
    CHECK_STR(got.run.session, "ci-7");
    CHECK_INT(got.run.expect, ==, 2);
    CHECK(got.run.wait == 12.5 && got.run.time_limit == 60 && got.run.test_timeout == 5);
    CHECK_INT(got.run.strategy, ==, SCHED_STRATEGY_FILE);
    CHECK_INT(got.run.retries, ==, 2);
    CHECK(got.run.process_per_batch && !got.run.no_history);
    CHECK_STR(got.run.project, "repo");
    CHECK_STR(got.run.history_db, "/home/c/.local/share/shoal/h.db");
    CHECK_STR(got.adapter, "pytest");
    CHECK_STR(got.list, "");
    CHECK_INT(got.argc, ==, 3);
    for (int i = 0; i < 3; i++)
        CHECK_STR(got.argv[i], s_argv[i]);
    CHECK(got.argv[3] == NULL);
    for (int i = 0; i < 3; i++)
        CHECK_STR(got.env[i], s_env[i]);
    CHECK(got.env[3] == NULL);
    CHECK_STR(got.cwd, "/work/repo");
    CHECK_INT(got.pid, ==, 4242);
    CHECK_INT(got.slots, ==, 3);
    /* the session runs where and as its client said */
    CHECK(got.run.cwd == got.cwd && got.run.env == got.env);
    shoal_handoff_clear(&got);
    free(body);
}

void
test_node_handoff_rejects_every_truncation(void)
{
    shoal_handoff_t sent = s_sample(), got;
    uint8_t *body = NULL;
    long len = shoal_handoff_encode(&sent, &body);
    CHECK_INT(len, >, 0);
    for (long cut = 0; cut < len; cut++)
        CHECK_INT(shoal_handoff_decode(body, (size_t)cut, &got), ==, -1);
    /* and garbage that is no body at all */
    const uint8_t junk[] = {0x93, 0x01, 0xa1, 'x', 0xc0};
    CHECK_INT(shoal_handoff_decode(junk, sizeof(junk), &got), ==, -1);
    free(body);
}

static int
s_decodes(const shoal_handoff_t *h)
{
    uint8_t *body = NULL;
    long len = shoal_handoff_encode(h, &body);
    CHECK_INT(len, >, 0);
    shoal_handoff_t got;
    int rc = shoal_handoff_decode(body, (size_t)len, &got);
    shoal_handoff_clear(&got);
    free(body);
    return rc;
}

void
test_node_handoff_rejects_what_a_node_cannot_run(void)
{
    shoal_handoff_t h = s_sample();
    CHECK_INT(s_decodes(&h), ==, 0);
    h.cwd = "relative/dir"; /* whose? */
    CHECK_INT(s_decodes(&h), ==, -1);
    h = s_sample();
    char *none[] = {NULL};
    h.argv = none;
    h.argc = 0;
    CHECK_INT(s_decodes(&h), ==, -1);
    snprintf(h.list, sizeof(h.list), "/work/repo/tests.list"); /* a list needs no command */
    CHECK_INT(s_decodes(&h), ==, 0);
    h = s_sample();
    h.run.session[0] = '\0';
    CHECK_INT(s_decodes(&h), ==, -1);
}

static void
s_check_shares(unsigned slots, const unsigned *wanted, size_t count, const unsigned *want)
{
    unsigned shares[16];
    shoal_serve_shares(slots, wanted, count, shares);
    for (size_t i = 0; i < count; i++)
        CHECK_INT(shares[i], ==, want[i]);
}

void
test_node_serve_shares_split_evenly(void)
{
    s_check_shares(4, (unsigned[]){0, 0}, 2, (unsigned[]){2, 2});
    /* the remainder goes to the oldest */
    s_check_shares(5, (unsigned[]){0, 0}, 2, (unsigned[]){3, 2});
    s_check_shares(8, (unsigned[]){0, 0, 0}, 3, (unsigned[]){3, 3, 2});
    s_check_shares(4, (unsigned[]){0}, 1, (unsigned[]){4});
    shoal_serve_shares(4, NULL, 0, NULL); /* none: nothing to write */
}

void
test_node_serve_shares_give_what_a_capped_session_leaves(void)
{
    s_check_shares(8, (unsigned[]){2, 0, 0}, 3, (unsigned[]){2, 3, 3});
    s_check_shares(10, (unsigned[]){1, 4, 0}, 3, (unsigned[]){1, 4, 5});
    /* a cap above the fair share is no cap */
    s_check_shares(6, (unsigned[]){5, 0}, 2, (unsigned[]){3, 3});
    /* capped ones leave slots idle rather than exceed what they asked */
    s_check_shares(8, (unsigned[]){1, 1}, 2, (unsigned[]){1, 1});
}

void
test_node_serve_shares_are_at_least_one_slot(void)
{
    s_check_shares(2, (unsigned[]){0, 0, 0}, 3, (unsigned[]){1, 1, 1});
    s_check_shares(1, (unsigned[]){0, 3}, 2, (unsigned[]){1, 1});
}
