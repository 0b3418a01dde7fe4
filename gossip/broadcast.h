/* The broadcast queue: member updates waiting to be piggybacked.
 *
 * Holds at most one update per member (a newer one replaces an older one, as
 * only the newest state matters). Each message takes the updates sent fewest
 * times first, newest first among equals; an update is dropped once it has been
 * sent `limit` times, lambda * ceil(log10(n + 1)) for a cluster of n.
 */
#ifndef SHOAL_GOSSIP_BROADCAST_H
#define SHOAL_GOSSIP_BROADCAST_H

#include "gossip/wire.h"

#include <stddef.h>
#include <stdint.h>

typedef struct gossip_broadcast gossip_broadcast_t;

gossip_broadcast_t *gossip_broadcast_new(void);
void gossip_broadcast_destroy(gossip_broadcast_t **self_p);
/* Queues an update, replacing any queued one about the same member. -1 if full. */
int gossip_broadcast_queue(gossip_broadcast_t *self, const gossip_wire_member_t *update);
/* Copies up to max updates into out, counting one transmission for each, and
 * retires those that reached limit. Returns how many were copied. */
size_t gossip_broadcast_take(gossip_broadcast_t *self, gossip_wire_member_t *out, size_t max,
                             uint32_t limit);
size_t gossip_broadcast_size(const gossip_broadcast_t *self);
/* lambda * ceil(log10(n + 1)) */
uint32_t gossip_broadcast_limit(uint32_t lambda, size_t n);

#endif
