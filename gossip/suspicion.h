/* Lifeguard suspicion: how long a suspected member has to refute.
 *
 * The timeout starts at `max` and shrinks towards `min` as independent members
 * confirm the suspicion: timeout(c) = max - (max - min) * log(c + 1) / log(k + 1),
 * never below min, where k confirmations are expected. A member accused by many
 * is declared dead quickly; one accused by a single, possibly slow, prober gets
 * long enough to answer. Only the first accusation by each member counts.
 */
#ifndef SHOAL_GOSSIP_SUSPICION_H
#define SHOAL_GOSSIP_SUSPICION_H

#include "gossip/gossip.h"

#include <stdbool.h>
#include <stdint.h>

#define GOSSIP_SUSPICION_MAX_ACCUSERS 8

typedef struct {
    uint64_t start;
    uint64_t deadline;
    uint32_t min_ms, max_ms;
    uint32_t expected; /* k */
    uint32_t confirmations;
    uint32_t accuser_count;
    char accusers[GOSSIP_SUSPICION_MAX_ACCUSERS][GOSSIP_NAME_MAX + 1];
} gossip_suspicion_t;

/* The floor for a cluster of n members: base_ms * max(1, log10(n)). */
uint32_t gossip_suspicion_min_ms(uint32_t base_ms, size_t n);
/* Timeout after c confirmations out of k expected. */
uint32_t gossip_suspicion_timeout(uint32_t min_ms, uint32_t max_ms, uint32_t k, uint32_t c);
/* Starts a suspicion raised by accuser at now. */
void gossip_suspicion_start(gossip_suspicion_t *self, uint64_t now, uint32_t min_ms,
                            uint32_t max_ms, uint32_t k, const char *accuser);
/* Counts a confirmation from accuser. Returns true if it was new and moved the
 * deadline, false for a repeat accuser or one past k. */
bool gossip_suspicion_confirm(gossip_suspicion_t *self, const char *accuser);

#endif
