/* node/client.h: `shoal run` as the client of the `shoal node` of its
 * machine (handoff.h). The node takes part in the session with its own mesh
 * membership and a share of its slots, running every process in the
 * client's directory and environment; the client polls it, prints the
 * progress and the node's lines about the session as a run on its own
 * would, and at the end concludes as one (conclude.h): summary, reports,
 * history, exit status.
 *
 * The client stopped (SIGINT, SIGTERM) cancels the session on the node;
 * killed, it stops polling and the node abandons the session (serve.h). The
 * node gone (no answer for S_NODE_SILENT_MS): the outcome is unknown here,
 * exit 3, as for a participant interrupted.
 */
#ifndef SHOAL_NODE_CLIENT_H
#define SHOAL_NODE_CLIENT_H

#include "node/handoff.h"

#include <signal.h>
#include <stdbool.h>

/* Whether a node may take a hand-off at endpoint: an ipc:// socket someone
 * accepts on (a stale file left by a dead node is none; nodes take
 * hand-offs on no other endpoint). Answers at once, without ZeroMQ. */
bool shoal_client_node_listens(const char *endpoint);
/* Hands the session to the node at endpoint and follows it to the end
 * (config: the reports and history to write here). Returns the exit
 * status, or -1 when the node does not answer or does not take the session
 * (after saying so): the caller then runs the session itself. */
int shoal_client_run(const char *endpoint, const shoal_handoff_t *handoff,
                     const shoal_run_config_t *config, volatile sig_atomic_t *stop);

#endif
