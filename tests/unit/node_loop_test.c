/* node/loop.c: the host's loop. Real pipes, the real clock; nothing waits
 * longer than a turn whose deadline has passed. */
#include "harness.h"
#include "node/log.h"
#include "node/loop.h"

#include <unistd.h>

typedef struct {
    shoal_loop_t *loop;
    int calls;
    uint64_t seen[8];
    uint64_t next; /* what the timer returns */
    int fd;        /* a read to drain, or to remove */
    long victim;   /* a timer to remove */
} s_probe_t;

static uint64_t
s_timer(void *ctx, uint64_t now)
{
    s_probe_t *p = ctx;
    p->seen[p->calls++ % 8] = now;
    if (p->victim)
        shoal_loop_remove_timer(p->loop, p->victim);
    if (p->fd >= 0)
        shoal_loop_remove_read(p->loop, p->fd, NULL);
    return p->next;
}

static void
s_read(void *ctx, uint64_t now)
{
    s_probe_t *p = ctx;
    p->seen[p->calls++ % 8] = now;
    char c;
    if (read(p->fd, &c, 1) != 1)
        p->calls += 100; /* called when nothing was there */
}

void test_node_loop_every_callback_of_a_turn_sees_its_one_now(void);
void
test_node_loop_every_callback_of_a_turn_sees_its_one_now(void)
{
    shoal_loop_t *loop = shoal_loop_new();
    int pipe_fds[2];
    CHECK(pipe(pipe_fds) == 0);
    s_probe_t reader = {.loop = loop, .fd = pipe_fds[0]};
    s_probe_t a = {.loop = loop, .next = UINT64_MAX, .fd = -1};
    s_probe_t b = {.loop = loop, .next = UINT64_MAX, .fd = -1};
    CHECK_INT(shoal_loop_add_read(loop, pipe_fds[0], NULL, s_read, &reader), ==, 0);
    CHECK(write(pipe_fds[1], "x", 1) == 1);
    /* The first turn's wait finds the pipe readable; the second serves it. */
    uint64_t first = shoal_loop_turn(loop, 0);
    CHECK_INT(reader.calls, ==, 0);
    CHECK(shoal_loop_add_timer(loop, first, s_timer, &a) > 0);
    CHECK(shoal_loop_add_timer(loop, first, s_timer, &b) > 0);
    uint64_t second = shoal_loop_turn(loop, 0);
    CHECK_INT(reader.calls, ==, 1);
    CHECK_INT(a.calls, ==, 1);
    CHECK_INT(b.calls, ==, 1);
    CHECK_INT(reader.seen[0], ==, second);
    CHECK_INT(a.seen[0], ==, second);
    CHECK_INT(b.seen[0], ==, second);
    CHECK_INT(shoal_loop_now(loop), ==, second);
    close(pipe_fds[0]);
    close(pipe_fds[1]);
    shoal_loop_destroy(&loop);
    CHECK(loop == NULL);
    shoal_loop_destroy(&loop); /* idempotent */
}

void test_node_loop_a_timer_runs_when_it_asks(void);
void
test_node_loop_a_timer_runs_when_it_asks(void)
{
    shoal_loop_t *loop = shoal_loop_new();
    s_probe_t p = {.loop = loop, .next = 1, .fd = -1}; /* 1 <= now: again next turn */
    long id = shoal_loop_add_timer(loop, 0, s_timer, &p);
    CHECK(id > 0);
    shoal_loop_turn(loop, 0);
    shoal_loop_turn(loop, 0);
    CHECK_INT(p.calls, ==, 2);
    /* Far in the future: a turn whose deadline has passed does not run it. */
    p.next = UINT64_MAX;
    shoal_loop_turn(loop, 0);
    CHECK_INT(p.calls, ==, 3);
    shoal_loop_turn(loop, 0);
    CHECK_INT(p.calls, ==, 3);
    /* Moved to now, it runs; returning 0 removes it. */
    CHECK_INT(shoal_loop_set_timer(loop, id, 0), ==, 0);
    p.next = 0;
    shoal_loop_turn(loop, 0);
    CHECK_INT(p.calls, ==, 4);
    CHECK_INT(shoal_loop_set_timer(loop, id, 0), ==, -1);
    shoal_loop_turn(loop, 0);
    CHECK_INT(p.calls, ==, 4);
    shoal_loop_destroy(&loop);
}

void test_node_loop_what_a_callback_removes_is_not_called(void);
void
test_node_loop_what_a_callback_removes_is_not_called(void)
{
    shoal_loop_t *loop = shoal_loop_new();
    int pipe_fds[2];
    CHECK(pipe(pipe_fds) == 0);
    s_probe_t reader = {.loop = loop, .fd = pipe_fds[0]};
    CHECK_INT(shoal_loop_add_read(loop, pipe_fds[0], NULL, s_read, &reader), ==, 0);
    CHECK(write(pipe_fds[1], "x", 1) == 1);
    shoal_loop_turn(loop, 0); /* the wait marks the pipe readable */
    /* In the next turn the read is served first; then the first timer
     * removes the second, which is due in the same turn. */
    s_probe_t first = {.loop = loop, .next = UINT64_MAX, .fd = -1};
    s_probe_t second = {.loop = loop, .next = UINT64_MAX, .fd = -1};
    long first_id = shoal_loop_add_timer(loop, 0, s_timer, &first);
    long second_id = shoal_loop_add_timer(loop, 0, s_timer, &second);
    first.victim = second_id;
    CHECK(first_id > 0 && second_id > first_id);
    shoal_loop_turn(loop, 0);
    CHECK_INT(reader.calls, ==, 1);
    CHECK_INT(first.calls, ==, 1);
    CHECK_INT(second.calls, ==, 0);
    /* A removed read is not served even when readable. */
    CHECK(write(pipe_fds[1], "y", 1) == 1);
    shoal_loop_turn(loop, 0);
    shoal_loop_remove_read(loop, pipe_fds[0], NULL);
    shoal_loop_turn(loop, 0);
    CHECK_INT(reader.calls, ==, 1);
    close(pipe_fds[0]);
    close(pipe_fds[1]);
    shoal_loop_destroy(&loop);
}

void test_node_loop_refuses_a_watch_twice_and_past_its_cap(void);
void
test_node_loop_refuses_a_watch_twice_and_past_its_cap(void)
{
    shoal_loop_t *loop = shoal_loop_new();
    s_probe_t p = {.loop = loop, .fd = -1};
    CHECK_INT(shoal_loop_add_read(loop, 0, NULL, s_read, &p), ==, 0);
    CHECK_INT(shoal_loop_add_read(loop, 0, NULL, s_read, &p), ==, -1);
    for (int fd = 1; fd < SHOAL_LOOP_READS_MAX; fd++)
        CHECK_INT(shoal_loop_add_read(loop, 1000 + fd, NULL, s_read, &p), ==, 0);
    CHECK_INT(shoal_loop_add_read(loop, 5000, NULL, s_read, &p), ==, -1);
    for (int t = 0; t < SHOAL_LOOP_TIMERS_MAX; t++)
        CHECK(shoal_loop_add_timer(loop, UINT64_MAX, s_timer, &p) > 0);
    CHECK_INT(shoal_loop_add_timer(loop, UINT64_MAX, s_timer, &p), ==, -1);
    shoal_loop_destroy(&loop);
}

static void *s_tapped_scope[4];
static char s_tapped[4][128];
static int s_taps;

static void
s_tap(void *scope, const char *line)
{
    if (s_taps < 4) {
        s_tapped_scope[s_taps] = scope;
        snprintf(s_tapped[s_taps], sizeof(s_tapped[0]), "%s", line);
    }
    s_taps++;
}

static uint64_t
s_logging_timer(void *ctx, uint64_t now)
{
    (void)now;
    shoal_log_info("timer %s", (const char *)ctx);
    return UINT64_MAX;
}

static void
s_logging_read(void *ctx, uint64_t now)
{
    (void)now;
    s_probe_t *p = ctx;
    char c;
    CHECK(read(p->fd, &c, 1) == 1);
    shoal_log_info("read");
}

/* A node hands a client what its session logs: each line reaches the tap
 * with the context of the callback that logged it, and none outside one. */
void test_node_loop_what_a_callback_logs_is_scoped_to_it(void);
void
test_node_loop_what_a_callback_logs_is_scoped_to_it(void)
{
    shoal_log_set_name("n1");
    shoal_log_set_tap(s_tap);
    shoal_loop_t *loop = shoal_loop_new();
    int pipe_fds[2];
    CHECK(pipe(pipe_fds) == 0);
    s_probe_t reader = {.loop = loop, .fd = pipe_fds[0]};
    char name[] = "a";
    CHECK_INT(shoal_loop_add_read(loop, pipe_fds[0], NULL, s_logging_read, &reader), ==, 0);
    CHECK(write(pipe_fds[1], "x", 1) == 1);
    uint64_t first = shoal_loop_turn(loop, 0);
    CHECK(shoal_loop_add_timer(loop, first, s_logging_timer, name) > 0);
    shoal_loop_turn(loop, 0);
    shoal_log_info("outside");
    CHECK_INT(s_taps, ==, 2);
    CHECK(s_tapped_scope[0] == &reader);
    CHECK_STR(s_tapped[0], "shoal[n1]: read");
    CHECK(s_tapped_scope[1] == name);
    CHECK_STR(s_tapped[1], "shoal[n1]: timer a");
    shoal_log_set_tap(NULL);
    shoal_loop_destroy(&loop);
    close(pipe_fds[0]);
    close(pipe_fds[1]);
}
