/* sched/budget.c: the time budget. Which tests still fit before a deadline,
 * by list scheduling the run order on the member's slots; what does not fit is
 * skipped (by the board). Invariant: a test that does not fit books no slot.
 */
#include "sched/internal.h"

#include <stdlib.h>

bool
sched__slots_fit(double *free_at, unsigned slots, double seconds, double deadline)
{
    unsigned best = 0;
    for (unsigned k = 1; k < slots; k++)
        if (free_at[k] < free_at[best])
            best = k;
    if (free_at[best] + seconds > deadline)
        return false;
    free_at[best] += seconds;
    return true;
}

size_t
sched_budget_fit(const double *predicted, size_t count, unsigned slots, double budget, bool *fits)
{
    if (slots == 0)
        slots = 1;
    double *free_at = calloc(slots, sizeof(double));
    size_t n = 0;
    for (size_t i = 0; i < count; i++) {
        fits[i] = free_at && sched__slots_fit(free_at, slots, predicted[i], budget);
        n += fits[i];
    }
    free(free_at);
    return n;
}
