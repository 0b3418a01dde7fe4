/* node/zygote.c: the pool's bookkeeping, with stand-in zygotes (sh scripts
 * that speak the events zygote.py speaks) on a real loop, unsandboxed.
 * Every wait polls until a deadline. */
#include "harness.h"
#include "node/adapter.h"
#include "node/loop.h"
#include "node/zygote.h"

#include <stdbool.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#define TEST(g, n) void test_##g##_##n(void);
#include "node.list"
#undef TEST

/* A zygote that says it is ready, keeps its socket ($1, in its directory)
 * until the pool removes it, then drains. */
static char *const s_lasting[] = {
    "sh", "-c",
    "touch \"$1\"; echo 'shoal-zygote: ready'; while [ -e \"$1\" ]; do sleep 0.02; done; "
    "echo 'shoal-zygote: draining its socket was removed'",
    "zygote", NULL};
/* One that dies before it is ready. */
static char *const s_dying[] = {"sh", "-c", "echo 'cannot import pytest' >&2; exit 3", NULL};
static char *const s_argv[] = {"python3", "-m", "pytest", "-q", NULL};
static char *const s_wrap[] = {"/usr/bin/bwrap", "--", NULL};

typedef struct {
    char dir[64];
    char pool_dir[96];
    shoal_loop_t *loop;
    shoal_zygote_pool_t *pool;
} s_fixture_t;

static void
s_setup(s_fixture_t *f, unsigned pool)
{
    snprintf(f->dir, sizeof(f->dir), "/tmp/shoal-zygote-test-XXXXXX");
    CHECK(mkdtemp(f->dir));
    snprintf(f->pool_dir, sizeof(f->pool_dir), "%s/zygotes", f->dir);
    f->loop = shoal_loop_new();
    CHECK(f->loop);
    char err[512] = "";
    shoal_zygote_config_t config = {.loop = f->loop,
                                    .dir = f->pool_dir,
                                    .sandbox = false,
                                    .pool = pool,
                                    .idle = 60,
                                    .recycle = 10};
    f->pool = shoal_zygote_pool_new(&config, err, sizeof(err));
    if (!f->pool)
        fprintf(stderr, "%s\n", err);
    CHECK(f->pool);
}

static void
s_teardown(s_fixture_t *f)
{
    shoal_zygote_pool_destroy(&f->pool);
    shoal_loop_destroy(&f->loop);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
    CHECK(system(cmd) == 0);
}

/* A stand-in for a worker of the session whose key is key. */
static char **
s_attach(s_fixture_t *f, const char *key, bool network, char *const *zygote, char *const *wrap,
         const char *home)
{
    shoal_zygote_ticket_t ticket = {.pool = f->pool, .network = network};
    snprintf(ticket.key, sizeof(ticket.key), "%s", key);
    snprintf(ticket.root, sizeof(ticket.root), "%s", f->dir);
    snprintf(ticket.home, sizeof(ticket.home), "%s", home);
    return shoal_zygote_pool_attach(&ticket, zygote, NULL, wrap, s_argv);
}

/* Turns the loop until cond holds (10 s at most). */
#define S_TURN_UNTIL(f, cond)                                                                      \
    do {                                                                                           \
        uint64_t until_ = shoal_clock_ms() + 10000;                                                \
        while (!(cond) && shoal_clock_ms() < until_)                                               \
            shoal_loop_turn((f)->loop, shoal_clock_ms() + 20);                                     \
        CHECK(cond);                                                                               \
    } while (0)

void
test_node_zygote_attach_names_the_stand_in_and_the_cold_command(void)
{
    s_fixture_t f;
    s_setup(&f, 2);
    char **argv = s_attach(&f, "alice\npy\ndeps", false, s_lasting, s_wrap, "/home/x");
    CHECK(argv);
    /* SELF zygote-attach SOCKET HOME COUNT -- WRAP... ARGV... */
    CHECK(strstr(argv[0], "shoal") || strstr(argv[0], "unit"));
    CHECK_STR(argv[1], SHOAL_ZYGOTE_COMMAND);
    CHECK(strncmp(argv[2], f.pool_dir, strlen(f.pool_dir)) == 0);
    CHECK_STR(argv[3], "/home/x");
    CHECK_STR(argv[4], "2");
    CHECK_STR(argv[5], "--");
    CHECK_STR(argv[6], "/usr/bin/bwrap");
    CHECK_STR(argv[8], "python3");
    CHECK_STR(argv[11], "-q");
    CHECK(argv[12] == NULL);
    S_TURN_UNTIL(&f, shoal_zygote_pool_stats(f.pool)->ready == 1);
    shoal_adapter_argv_free(&argv);
    /* the same key: the same zygote */
    argv = s_attach(&f, "alice\npy\ndeps", false, s_lasting, NULL, "/home/y");
    CHECK(argv);
    CHECK_STR(argv[4], "0");
    CHECK_INT(shoal_zygote_pool_stats(f.pool)->started, ==, 1);
    CHECK_INT(shoal_zygote_pool_stats(f.pool)->attached, ==, 2);
    shoal_adapter_argv_free(&argv);
    /* another network choice is another key */
    argv = s_attach(&f, "alice\npy\ndeps", true, s_lasting, NULL, "/home/y");
    CHECK(argv);
    CHECK_INT(shoal_zygote_pool_stats(f.pool)->started, ==, 2);
    shoal_adapter_argv_free(&argv);
    s_teardown(&f);
}

void
test_node_zygote_pool_retires_the_least_recently_used(void)
{
    s_fixture_t f;
    s_setup(&f, 1);
    char **a = s_attach(&f, "a", false, s_lasting, NULL, "/h");
    CHECK(a);
    S_TURN_UNTIL(&f, shoal_zygote_pool_stats(f.pool)->ready == 1);
    char **b = s_attach(&f, "b", false, s_lasting, NULL, "/h");
    CHECK(b);
    /* a's socket went: it drains and exits; b takes work */
    CHECK(access(a[2], F_OK) != 0);
    size_t taking;
    S_TURN_UNTIL(&f, shoal_zygote_pool_stats(f.pool)->retired == 1 &&
                         shoal_zygote_pool_count(f.pool, &taking) == 1);
    CHECK_INT(taking, ==, 1);
    CHECK_INT(shoal_zygote_pool_stats(f.pool)->ready, ==, 2);
    CHECK(access(b[2], F_OK) == 0);
    shoal_adapter_argv_free(&a);
    shoal_adapter_argv_free(&b);
    s_teardown(&f);
}

void
test_node_zygote_key_runs_cold_after_three_early_deaths(void)
{
    s_fixture_t f;
    s_setup(&f, 4);
    for (unsigned i = 0; i < SHOAL_ZYGOTE_FAILS_MAX; i++) {
        char **argv = s_attach(&f, "k", false, s_dying, NULL, "/h");
        CHECK(argv);
        /* its stand-ins wait for it while it starts: the marker says so */
        char marker[4200];
        snprintf(marker, sizeof(marker), "%s.starting", argv[2]);
        CHECK(access(marker, F_OK) == 0);
        S_TURN_UNTIL(&f, shoal_zygote_pool_stats(f.pool)->failed == i + 1);
        CHECK(access(marker, F_OK) != 0); /* gone with it: its stand-ins run cold */
        shoal_adapter_argv_free(&argv);
    }
    CHECK(s_attach(&f, "k", false, s_dying, NULL, "/h") == NULL);
    /* another key still gets one */
    char **other = s_attach(&f, "other", false, s_lasting, NULL, "/h");
    CHECK(other);
    shoal_adapter_argv_free(&other);
    s_teardown(&f);
}

void
test_node_zygote_pool_of_zero_starts_none(void)
{
    s_fixture_t f;
    s_setup(&f, 0);
    CHECK(s_attach(&f, "k", false, s_lasting, NULL, "/h") == NULL);
    CHECK_INT(shoal_zygote_pool_stats(f.pool)->started, ==, 0);
    s_teardown(&f);
}
