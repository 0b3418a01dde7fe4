/* The control socket: how local commands (and tests) ask a node what it knows.
 *
 * Requests are one string frame: "members json", "members table", "stats json",
 * "stats table". The answer is one string frame, already formatted, so the
 * client only prints it; an unknown request gets "error: ...". The socket is
 * a ZeroMQ REP on an ipc:// path in a 0700 directory, or any endpoint given.
 */
#ifndef SHOAL_NODE_CONTROL_H
#define SHOAL_NODE_CONTROL_H

#include "gossip/gossip.h"

#include <stdio.h>

/* Writes the member table as JSON (an array of objects) or as aligned text. */
void shoal_control_members(FILE *out, const gossip_member_t *members, size_t count, bool json,
                           uint64_t now);
/* Writes the counters as one JSON object or as text. */
void shoal_control_stats(FILE *out, const char *name, const gossip_stats_t *mesh,
                         const gossip_transport_stats_t *transport, bool json);
/* Client side: sends request to endpoint and waits up to 3 s for the answer.
 * Returns it (the caller frees it), or NULL when the endpoint is unusable, no
 * node answers, the node answers "error: ..." or out of memory; each is said
 * on stderr. */
char *shoal_control_request(const char *endpoint, const char *request);
/* As shoal_control_request, printing the answer on stdout. Returns an exit
 * status (0 ok, 1 no answer or an error answer). */
int shoal_control_ask(const char *endpoint, const char *request);

#endif
