/* node/ship.h: the mesh end of shipping a workspace (ship_msg.h), one
 * application on a node (node.h) for both sides:
 *   - every node that holds blobs serves them: a developer's from its
 *     workspace (shoal_ship_set_tree), a daemon's from its store
 *     (shoal_ship_set_store), answering WANT with CHUNK or NOPE;
 *   - a developer offers its session to the serving daemons of the mesh
 *     (members advertising SHOAL_SERVE_TAG) until each answers, and
 *     keeps their answers (shoal_ship_offer, shoal_ship_answers);
 *   - a daemon hands OFFER, CANCEL, CHUNK and NOPE to its intake
 *     (intake.h) through the hook set with shoal_ship_set_intake.
 * Counters (chunks and bytes served, NOPEs, messages dropped as malformed)
 * go into `shoal status --json` as {"ship": {...}}.
 */
#ifndef SHOAL_NODE_SHIP_H
#define SHOAL_NODE_SHIP_H

#include "node/identity.h"
#include "node/node.h"
#include "node/ship_msg.h"
#include "node/session_tag.h"
#include "node/shipment.h"
#include "node/store.h"
#include "node/tree.h"

#include <stdio.h>

#define SHOAL_SHIP_OFFER_EVERY_MS 1000  /* an unanswered offer is sent again */
#define SHOAL_SHIP_ANSWER_WAIT_MS 10000 /* a daemon silent this long is not waited for */

typedef struct shoal_ship shoal_ship_t;

/* What a daemon's intake is told: a message that is not a WANT (ship keeps
 * those), decoded, from the member named. */
typedef void(shoal_ship_intake_fn)(void *ctx, const char *from, const shoal_ship_msg_t *msg,
                                   uint64_t now);

typedef struct {
    char name[GOSSIP_NAME_MAX + 1];
    bool accepted;
    char text[SHOAL_SHIP_TEXT_MAX + 1];
} shoal_ship_answer_t;

typedef struct {
    uint64_t chunks_served, bytes_served, nopes_sent;
    uint64_t offers_sent, answers;
    uint64_t malformed; /* ship messages that did not decode: dropped */
} shoal_ship_stats_t;

/* Attaches to the node. NULL out of memory, or when the node has no room
 * for another application. */
shoal_ship_t *shoal_ship_new(shoal_node_t *node);
void shoal_ship_destroy(shoal_ship_t **self_p);

/* Serves the blobs of this workspace (shipment.h): the index of its
 * manifest's pages, the pages, and every file of tree, read from below top
 * when asked (borrowed: it outlives the ship or is replaced). */
void shoal_ship_set_tree(shoal_ship_t *self, const shoal_shipment_t *shipment);
/* Serves the blobs of this store (borrowed). */
void shoal_ship_set_store(shoal_ship_t *self, shoal_store_t *store);
/* Hands OFFER, ANSWER-less traffic (CANCEL, CHUNK, NOPE) to fn. */
void shoal_ship_set_intake(shoal_ship_t *self, shoal_ship_intake_fn *fn, void *ctx);
/* Sends payload to the member named (through the mesh). 0 or -1. */
int shoal_ship_send(shoal_ship_t *self, const char *to, const shoal_ship_msg_t *msg);

/* Sends an encoded ship message to the member named (a
 * shoal_fetch_send_fn, fetch.h, with the ship as ctx). 0, or -1 when the
 * mesh cannot send it now. */
int shoal_ship_send_payload(void *ship, const char *to, const uint8_t *payload, size_t len);

/* Offers the session to every serving daemon until it answers: offer is
 * the signed OFFER (copied). Stops with shoal_ship_offer_stop. */
void shoal_ship_offer(shoal_ship_t *self, const shoal_ship_msg_t *offer);
/* Stops offering, once the session is over here or stopped, and tells
 * every daemon that took the offer to cancel it, except those for which
 * joined(ctx, name) is true (joined NULL: all of them, as when the run was
 * stopped): a daemon that never joined must not start it late. A daemon
 * that takes the offer after this is told at once. signature: of
 * shoal_ship_cancel_text, by the offer's key (copied). */
void shoal_ship_offer_stop(shoal_ship_t *self, bool (*joined)(void *ctx, const char *name),
                           void *ctx, const uint8_t signature[SHOAL_IDENTITY_SIGNATURE_BYTES]);
/* How many serving daemons may still join the session: alive (or
 * suspect) serving members that took the offer, or have not answered it
 * yet (for SHOAL_SHIP_ANSWER_WAIT_MS from the first offer), and for which
 * joined(ctx, name) is false. The tags of the first max of them go into
 * tags[0..max) (shoal_session_own_tags). 0 once offering stopped. */
size_t shoal_ship_coming(const shoal_ship_t *self, bool (*joined)(void *ctx, const char *name),
                         void *ctx, char (*tags)[SHOAL_OWN_TAGS_MAX], size_t max);
/* The answers heard so far (borrowed until the next turn of the loop). */
const shoal_ship_answer_t *shoal_ship_answers(const shoal_ship_t *self, size_t *count);
const shoal_ship_stats_t *shoal_ship_stats(const shoal_ship_t *self);

#endif
