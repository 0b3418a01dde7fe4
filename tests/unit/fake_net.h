/* An in-memory network of meshes on a fake clock, for deterministic tests.
 *
 * Node i is "n<i>" at "127.0.0.<i+1>:7000". Frames are delivered after a
 * fixed delay, in order; loss and partitions drop them. A crashed node is gone
 * (sends to it fail at once, as a refused TCP connection does); a frozen node
 * (SIGSTOP) runs no timers and its inbound frames queue until it thaws.
 */
#ifndef SHOAL_TESTS_FAKE_NET_H
#define SHOAL_TESTS_FAKE_NET_H

#include "gossip/gossip.h"

typedef struct fake_net fake_net_t;

fake_net_t *fake_net_new(size_t nodes, const char *profile, uint64_t seed);
void fake_net_destroy(fake_net_t **self_p);
gossip_mesh_t *fake_net_mesh(fake_net_t *self, size_t i);
uint64_t fake_net_now(const fake_net_t *self);
/* Every node joins through node 0, retrying every 500 ms for 20 s until
 * answered, then time runs on to at least ms. */
void fake_net_join_all(fake_net_t *self, uint64_t ms);
/* Runs the network until the clock reaches now + ms. */
void fake_net_run(fake_net_t *self, uint64_t ms);
void fake_net_crash(fake_net_t *self, size_t i);
void fake_net_freeze(fake_net_t *self, size_t i, bool frozen);
/* Drops every frame between a and b while cut. */
void fake_net_cut(fake_net_t *self, size_t a, size_t b, bool cut);
void fake_net_set_loss(fake_net_t *self, double loss);
void fake_net_set_delay(fake_net_t *self, uint32_t ms);
/* Feeds a raw frame to node i as if it came from the network. */
void fake_net_inject(fake_net_t *self, size_t i, const uint8_t *frame, size_t len);
/* What observer believes about subject; GOSSIP_STATE_DEAD if unknown. */
gossip_state_t fake_net_state(fake_net_t *self, size_t observer, size_t subject);
uint32_t fake_net_incarnation(fake_net_t *self, size_t observer, size_t subject);
bool fake_net_known(fake_net_t *self, size_t observer, size_t subject);
/* How many times observer saw subject go to state (from the member callback). */
unsigned fake_net_transitions(const fake_net_t *self, size_t observer, size_t subject,
                              gossip_state_t state);
/* When (fake ms) observer last saw subject enter state; 0 if never. */
uint64_t fake_net_when(const fake_net_t *self, size_t observer, size_t subject,
                       gossip_state_t state);
size_t fake_net_size(const fake_net_t *self);
/* The last tag of subject's metadata as observer's member callback last
 * reported it; "" if it had none (or was never reported). */
const char *fake_net_last_tag(const fake_net_t *self, size_t observer, size_t subject);
/* Payloads of the layer above that node i received, and the last one as
 * "from:payload". */
unsigned fake_net_user_count(const fake_net_t *self, size_t i);
const char *fake_net_user_last(const fake_net_t *self, size_t i);

#endif
