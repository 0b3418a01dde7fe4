/* node/job.c: a blocking step beside the loop. Real threads and pipes; every
 * wait polls until a deadline. */
#include "harness.h"
#include "node/job.h"
#include "node/loop.h"

#include <stdlib.h>
#include <unistd.h>

typedef struct {
    int gate;   /* the step blocks reading this until a byte comes */
    int signal; /* discard writes a byte here */
    int result;
} s_work_t;

static void
s_step(void *arg)
{
    s_work_t *w = arg;
    char c;
    if (w->gate >= 0 && read(w->gate, &c, 1) != 1)
        w->result = -1;
    else
        w->result = 42;
}

static void
s_discard(void *arg)
{
    s_work_t *w = arg;
    if (write(w->signal, w->result == 42 ? "d" : "x", 1) != 1)
        abort();
    free(w);
}

static bool
s_wait_done(shoal_job_t *job)
{
    uint64_t deadline = shoal_clock_ms() + 10000;
    while (!shoal_job_done(job))
        if (shoal_clock_ms() > deadline)
            return false;
        else
            usleep(1000);
    return true;
}

void test_node_job_the_result_is_the_owners_once_done(void);
void
test_node_job_the_result_is_the_owners_once_done(void)
{
    int gate[2];
    CHECK(pipe(gate) == 0);
    s_work_t w = {.gate = gate[0], .signal = -1};
    shoal_job_t *job = shoal_job_start(s_step, s_discard, &w);
    CHECK(job != NULL);
    /* Held at the gate: not done, however often asked. */
    for (int i = 0; i < 50; i++)
        CHECK(!shoal_job_done(job));
    CHECK(write(gate[1], "g", 1) == 1);
    CHECK(s_wait_done(job));
    CHECK_INT(w.result, ==, 42);
    CHECK(shoal_job_release(&job));
    CHECK(job == NULL);
    close(gate[0]);
    close(gate[1]);
}

void test_node_job_released_while_running_the_thread_discards(void);
void
test_node_job_released_while_running_the_thread_discards(void)
{
    int gate[2], signal[2];
    CHECK(pipe(gate) == 0);
    CHECK(pipe(signal) == 0);
    s_work_t *w = calloc(1, sizeof(*w));
    w->gate = gate[0];
    w->signal = signal[1];
    shoal_job_t *job = shoal_job_start(s_step, s_discard, w);
    CHECK(job != NULL);
    /* The owner lets go without waiting: the step is still at its gate. */
    uint64_t before = shoal_clock_ms();
    CHECK(!shoal_job_release(&job));
    CHECK(job == NULL);
    CHECK(shoal_clock_ms() - before < 5000);
    /* Once the step ends, the thread itself hands w to discard. */
    CHECK(write(gate[1], "g", 1) == 1);
    char c = 0;
    CHECK(read(signal[0], &c, 1) == 1);
    CHECK_INT(c, ==, 'd');
    close(gate[0]);
    close(gate[1]);
    close(signal[0]);
    close(signal[1]);
}

void test_node_job_release_after_the_end_does_not_discard(void);
void
test_node_job_release_after_the_end_does_not_discard(void)
{
    int signal[2];
    CHECK(pipe(signal) == 0);
    s_work_t w = {.gate = -1, .signal = signal[1]};
    shoal_job_t *job = shoal_job_start(s_step, s_discard, &w);
    CHECK(job != NULL);
    CHECK(s_wait_done(job));
    CHECK(shoal_job_release(&job));
    /* w is on our stack: discard would have freed it and said so. */
    close(signal[1]);
    char c;
    CHECK(read(signal[0], &c, 1) == 0);
    CHECK_INT(w.result, ==, 42);
    close(signal[0]);
    CHECK(shoal_job_release(&job)); /* NULL: nothing */
}
