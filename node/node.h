/* A running mesh member: the transport, the mesh, the control socket, the seed
 * joiner and the LAN beacon, registered with one loop (loop.h) that reads the
 * clock once per turn and passes it down; the applications on the node (test
 * sessions, any number) register with the same loop.
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
#include "node/loop.h"

#include <signal.h>
#include <stdio.h>

typedef struct shoal_node shoal_node_t;
typedef struct _zmsg_t zmsg_t; /* czmq's */

/* Binds and sets up everything; takes the keyring out of config. NULL (after
 * saying why) if the address cannot be bound or the control socket is taken. */
shoal_node_t *shoal_node_new(shoal_config_t *config);
void shoal_node_destroy(shoal_node_t **self_p);
/* Called once *stop is seen, before the node leaves, with the loop's now
 * (ms): what it ends there is told for a moment longer (clients polling the
 * control socket). */
typedef void(shoal_node_stop_fn)(void *ctx, uint64_t now);
/* Runs until *stop becomes non-zero; then calls on_stop (may be NULL), goes
 * on serving for up to 200 ms, and leaves gracefully. Returns 0. */
int shoal_node_run(shoal_node_t *self, volatile sig_atomic_t *stop, shoal_node_stop_fn *on_stop,
                   void *ctx);

/* What an application riding on the node (a test session) hooks in. The
 * node calls these from its loop, never from inside the mesh: member changes
 * and payloads are queued and handed over after the mesh has returned. They
 * must not block. */
typedef struct {
    gossip_member_fn *on_member; /* every member change; may be NULL */
    gossip_user_fn *on_user;     /* payloads it accepts; may be NULL */
    /* Whether a payload is this application's (may be NULL: all are). */
    bool (*accepts)(void *ctx, const uint8_t *payload, size_t len);
    /* Answers `shoal status` on the control socket: one JSON object, or text
     * lines. Must not be NULL. */
    void (*on_status)(void *ctx, FILE *out, bool json);
    void *ctx; /* borrowed; identifies the application */
} shoal_node_app_t;

#define SHOAL_NODE_APPS_MAX 64
/* Hands the node's events to app until it detaches. -1 when
 * SHOAL_NODE_APPS_MAX are attached. */
int shoal_node_attach(shoal_node_t *self, const shoal_node_app_t *app);
/* Stops the events of the application whose ctx this is; nothing happens for
 * one not attached. */
void shoal_node_detach(shoal_node_t *self, void *ctx);
/* The node's loop (borrowed), where applications register their descriptors
 * and timers; its turns run the node as well. */
shoal_loop_t *shoal_node_loop(shoal_node_t *self);
/* Requests on the control socket that the node does not answer itself go
 * to fn (a node serving clients, serve.h): it takes the request and returns
 * the reply, or NULL when the verb is not one of its own. */
typedef zmsg_t *(shoal_node_control_fn)(void *ctx, zmsg_t **request_p, uint64_t now);
void shoal_node_set_control(shoal_node_t *self, shoal_node_control_fn *fn, void *ctx);
/* What the node was started to advertise (its --slots and --tag), without
 * the sessions it takes part in. */
const gossip_meta_t *shoal_node_meta(const shoal_node_t *self);
/* Its control endpoint, as bound. */
const char *shoal_node_control(const shoal_node_t *self);
/* Announces a graceful leave and keeps serving for ms so it spreads. */
void shoal_node_leave(shoal_node_t *self, uint64_t ms);
gossip_mesh_t *shoal_node_mesh(shoal_node_t *self);
const char *shoal_node_name(const shoal_node_t *self);
const char *shoal_node_addr(const shoal_node_t *self);
/* Milliseconds without a turn after which the mesh has likely declared this
 * node dead (twice the least time its profile takes to: a probe, its timeout
 * and the shortest suspicion): a session that was stalled that long gives up
 * what others have re-dealt by now. */
uint64_t shoal_node_stall_ms(const shoal_node_t *self);

#endif
