/* sched/batch.c: batching a member's queue so a runner's start-up (pytest's
 * ~0.2 s) is paid once per batch. Batches are consecutive runs of the queue,
 * each near the target and at most max_count tests; recently failed tests go
 * in batches of their own aiming at target/4, so they show early. Every test
 * lands in exactly one batch; a batch has at least one test.
 */
#include "sched/internal.h"

size_t
sched__batch_next(const double *predicted, const bool *failed, size_t count, double target,
                  size_t max_count)
{
    if (count == 0)
        return 0;
    if (max_count == 0)
        max_count = 1;
    double aim = failed && failed[0] ? target / 4.0 : target;
    double sum = predicted[0];
    size_t n = 1;
    /* Add while it brings the sum nearer to the aim. */
    while (n < count && n < max_count && (!failed || failed[n] == failed[0]) &&
           sum + predicted[n] - aim < aim - sum) {
        sum += predicted[n];
        n++;
    }
    return n;
}

size_t
sched_batch_split(const double *predicted, const bool *failed, size_t count, double target,
                  size_t max_count, size_t *sizes)
{
    size_t batches = 0;
    for (size_t at = 0; at < count;) {
        size_t n = sched__batch_next(predicted + at, failed ? failed + at : NULL, count - at,
                                     target, max_count);
        sizes[batches++] = n;
        at += n;
    }
    return batches;
}

size_t
sched__batch_queue(const sched_suite_t *suite, const size_t *queue, size_t count, double target,
                   size_t max_count)
{
    enum { WINDOW = 256 };
    double pred[WINDOW];
    bool failed[WINDOW];
    if (max_count == 0)
        max_count = 1;
    if (max_count > WINDOW)
        max_count = WINDOW;
    if (count > max_count)
        count = max_count;
    for (size_t i = 0; i < count; i++) {
        pred[i] = suite->tests[queue[i]].predicted;
        failed[i] = suite->tests[queue[i]].failed;
    }
    return sched__batch_next(pred, failed, count, target, max_count);
}
