/* A running mesh member: the transport, the mesh, the control socket, the seed
 * joiner and the LAN beacon, driven by one event loop that reads the clock once
 * per turn and passes it down.
 *
 * Seeds: until the mesh has joined, every seed name is resolved again (a DNS
 * name may give several addresses) and asked for its state, with a backoff that
 * doubles from 250 ms to the profile's ceiling; an unreachable seed is never
 * fatal. Leaving: on stop the node announces a graceful leave and keeps
 * gossiping for a short while so the leave spreads.
 */
#ifndef SHOAL_NODE_NODE_H
#define SHOAL_NODE_NODE_H

#include "node/config.h"

#include <signal.h>
#include <stdio.h>

typedef struct shoal_node shoal_node_t;

/* Binds and sets up everything; takes the keyring out of config. NULL (after
 * saying why) if the address cannot be bound or the control socket is taken. */
shoal_node_t *shoal_node_new(shoal_config_t *config);
void shoal_node_destroy(shoal_node_t **self_p);
/* Runs until *stop becomes non-zero, then leaves gracefully. Returns 0. */
int shoal_node_run(shoal_node_t *self, volatile sig_atomic_t *stop);

/* What an application riding on the node (a test session) hooks in: member
 * changes, payloads from members, and extra file descriptors to wait on. */
typedef struct {
    gossip_member_fn *on_member;
    gossip_user_fn *on_user;
    /* answers `shoal status` on the control socket */
    void (*on_status)(void *ctx, FILE *out, bool json);
    void *ctx;
} shoal_node_app_t;

void shoal_node_set_app(shoal_node_t *self, const shoal_node_app_t *app);
/* One turn of the loop: timers, then waits for input (or one of fds to become
 * readable) until deadline at the latest. */
void shoal_node_turn(shoal_node_t *self, uint64_t deadline, const int *fds, size_t fd_count);
/* Announces a graceful leave and keeps serving for ms so it spreads. */
void shoal_node_leave(shoal_node_t *self, uint64_t ms);
gossip_mesh_t *shoal_node_mesh(shoal_node_t *self);
const char *shoal_node_name(const shoal_node_t *self);
const char *shoal_node_addr(const shoal_node_t *self);

/* Monotonic milliseconds: the one clock read of the node layer. */
uint64_t shoal_clock_ms(void);

#endif
