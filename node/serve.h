/* node/serve.h: a `shoal node` that runs sessions for the `shoal run`
 * clients of its machine (handoff.h), one mesh member for all of them.
 *
 * Each session it takes gets a share of the node's --slots: the slots are
 * split evenly between the sessions running here (a client's --slots caps
 * its share; what a capped session leaves goes to the others; with more
 * sessions than slots each still gets one), and when one ends its slots go
 * to the others at once. The share is advertised in the session's tag
 * (session_tag.h), so the node carries at most GOSSIP_TAGS_MAX minus its
 * --tag count sessions.
 *
 * A session's life here:
 *   serve -> RUNNING --over (summary in)--> ENDED: tag dropped, workers close
 *              |                               |  bye, or the client is gone
 *              | cancel, or the client is gone v
 *              +--> abandoned: killed,      RELEASED --workers closed--> freed
 *                   tag dropped, freed
 * s_on_serve, s_check_over, s_abandon and s_tick perform the transitions. A
 * client is gone when its process no longer exists or it has not polled for
 * S_CLIENT_SILENT_MS: a client killed by SIGKILL leaves no session running.
 *
 * A hand-off carries a command to run as the node's user: the node takes
 * them only on an ipc:// control socket (the default one is in a 0700
 * directory), never on TCP, where anyone reaching the port could.
 */
#ifndef SHOAL_NODE_SERVE_H
#define SHOAL_NODE_SERVE_H

#include "node/handoff.h"
#include "node/node.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct shoal_serve shoal_serve_t;

/* Answers hand-offs on the node's control socket from now on. One per
 * process (it taps the log). NULL when the control socket is not ipc://
 * (said so), or out of memory. */
shoal_serve_t *shoal_serve_new(shoal_node_t *node);
/* Abandons every session it runs (their tests are killed). */
void shoal_serve_destroy(shoal_serve_t **self_p);
/* The node stops (a shoal_node_stop_fn; ctx is the serve): every session in
 * progress is abandoned here, so its client, at its next poll, hears the
 * node no longer runs it and exits 3 at once instead of waiting out the
 * node's silence; the other participants re-deal its tests. */
void shoal_serve_stop(void *ctx, uint64_t now);
/* Hosts a session shipped from another machine (intake.h) like a local
 * client's, with no client: the mesh member `developer` stands for it (the
 * session is abandoned once that member is neither alive nor suspect), and
 * `who` (the identity that signed it) is what `shoal status` says it
 * serves. Takes handoff (cleared), wrap (the sandbox's words before every
 * command, or NULL) and dir (the session's directory, removed once the
 * session is freed here); handoff->run.zygote, which a hand-off does not
 * carry, applies as it is. 0, or -1 with why (the
 * node takes part in that session already, or in as many as its tags can say; out of memory):
 * then nothing was taken but dir, which is removed. */
int shoal_serve_host(shoal_serve_t *self, shoal_handoff_t *handoff, char **wrap, const char *dir,
                     const char *developer, const char *who, uint64_t now, char *why,
                     size_t why_size);
/* Told of each shipped session that ends here, before its directory is
 * removed: completed (its summary is in and its workers are closed, so
 * nothing writes there any more) or not (abandoned: cancelled, its
 * developer gone, the node stopping; its tests may have been killed
 * mid-write). failed: why its runner could not be made here (the
 * session never started), else NULL. Strings are borrowed for the call. */
typedef void(shoal_serve_done_fn)(void *ctx, const char *session, const char *dir, bool completed,
                                  const char *failed);
/* Sets the hook (NULL: none) for every shipped session from now on. */
void shoal_serve_set_done(shoal_serve_t *self, shoal_serve_done_fn *fn, void *ctx);
/* Whether a shipped session's developer (a member name) is gone: it left
 * the mesh, or it has been neither alive nor suspect for
 * SHOAL_SERVE_DEVELOPER_GRACE_MS (one declared dead by mistake, on a
 * loaded machine, refutes it sooner). *missing keeps since
 * when it was not (ms, 0: it is); now in ms. */
#define SHOAL_SERVE_DEVELOPER_GRACE_MS 10000
bool shoal_serve_developer_gone(shoal_node_t *node, const char *developer, uint64_t *missing,
                                uint64_t now);
/* Abandons the shipped session of that id (its developer cancelled it);
 * false when none runs here. */
bool shoal_serve_cancel(shoal_serve_t *self, const char *session, uint64_t now);
/* Whether a session of that id runs here (or is being made). */
bool shoal_serve_has(const shoal_serve_t *self, const char *session);

/* The split: `slots` shared by `count` sessions, the oldest first, session
 * i asking for at most wanted[i] (0: any): evenly, a capped session's
 * leftover going to the others, the remainder one each to the oldest, at
 * least one each. Writes shares[0..count). */
void shoal_serve_shares(unsigned slots, const unsigned *wanted, size_t count, unsigned *shares);

#endif
