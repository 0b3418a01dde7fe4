/* Lifeguard suspicion timeouts (see suspicion.h for the formula and why).
 * Pure arithmetic on a value embedded in each member entry; no allocation. */
#include "gossip/suspicion.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

uint32_t
gossip_suspicion_min_ms(uint32_t base_ms, size_t n)
{
    double scale = n > 10 ? log10((double)n) : 1.0;
    return (uint32_t)(base_ms * scale);
}

uint32_t
gossip_suspicion_timeout(uint32_t min_ms, uint32_t max_ms, uint32_t k, uint32_t c)
{
    if (k == 0 || max_ms <= min_ms)
        return min_ms;
    double frac = log((double)c + 1.0) / log((double)k + 1.0);
    double timeout = (double)max_ms - frac * (double)(max_ms - min_ms);
    return timeout < min_ms ? min_ms : (uint32_t)timeout;
}

void
gossip_suspicion_start(gossip_suspicion_t *self, uint64_t now, uint32_t min_ms, uint32_t max_ms,
                       uint32_t k, const char *accuser)
{
    memset(self, 0, sizeof(*self));
    self->start = now;
    self->min_ms = min_ms;
    self->max_ms = max_ms;
    self->expected = k;
    snprintf(self->accusers[0], sizeof(self->accusers[0]), "%s", accuser);
    self->accuser_count = 1;
    self->deadline = now + gossip_suspicion_timeout(min_ms, max_ms, k, 0);
}

bool
gossip_suspicion_confirm(gossip_suspicion_t *self, const char *accuser)
{
    if (self->confirmations >= self->expected)
        return false;
    for (uint32_t i = 0; i < self->accuser_count; i++)
        if (strcmp(self->accusers[i], accuser) == 0)
            return false;
    if (self->accuser_count < GOSSIP_SUSPICION_MAX_ACCUSERS) {
        snprintf(self->accusers[self->accuser_count], sizeof(self->accusers[0]), "%s", accuser);
        self->accuser_count++;
    }
    self->confirmations++;
    self->deadline = self->start + gossip_suspicion_timeout(self->min_ms, self->max_ms,
                                                            self->expected, self->confirmations);
    return true;
}
