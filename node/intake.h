/* node/intake.h: a serving daemon's side of a shipped session (`shoal node
 * --serve`). For each OFFER (ship_msg.h) it:
 *
 *   OFFER --not listed, bad signature, stale--> refused (told why; nothing kept)
 *     | signed by a key of --accept-from
 *     v
 *   PROBING: the offer's probe runs (sandboxed, beside the loop)
 *     | prints what the developer's printed    --otherwise--> declined (told why)
 *     v
 *   MANIFEST: the root's blob is fetched (fetch.h) --the developer gone,
 *     |                                              CANCEL, a fetch failing--> dropped
 *     v
 *   BLOBS: every blob the store lacks is fetched
 *     |
 *     v
 *   hosted: the tree is materialized in a session directory and the session
 *   runs there like a local client's (serve.h, shoal_serve_host), every
 *   process inside the sandbox; the directory goes when it ends, once what
 *   the offer's --artifacts name is packed into the store (artifacts.h)
 *   for the developer's COLLECT.
 *
 * s_on_offer, s_probe_done, s_manifest_done, s_blobs_done and s_drop
 * perform the transitions. Invariant I3: nothing from the network runs
 * unless the daemon was started with --serve, the offer is signed by a
 * listed identity, and (unless --unsandboxed) inside bubblewrap.
 */
#ifndef SHOAL_NODE_INTAKE_H
#define SHOAL_NODE_INTAKE_H

#include "node/node.h"
#include "node/serve.h"
#include "node/ship.h"
#include "node/store.h"
#include "node/zygote.h"

#include <stdbool.h>
#include <stddef.h>

typedef struct {
    shoal_node_t *node;      /* borrowed, as the rest */
    shoal_serve_t *serve;    /* hosts the sessions once their trees are here */
    shoal_ship_t *ship;      /* the mesh end: this intake becomes its hook */
    shoal_store_t *store;    /* blobs, and the session directories below it */
    const char *accept_from; /* the --accept-from file */
    bool sandbox;            /* false only with --unsandboxed */
    const char *workdir;     /* the daemon's TMPDIR: writable in the sandbox */
    const char *secret;      /* the cluster key's file, hidden in the sandbox (NULL: none) */
    unsigned zygotes;        /* warm zygotes kept (zygote.h); 0: every worker starts cold */
    double zygote_idle;      /* seconds a zygote without workers lives */
    unsigned zygote_recycle; /* workers a zygote forks before it retires */
} shoal_intake_config_t;

typedef struct {
    uint64_t offers, refused, declined, taken, cancelled, dropped;
    uint64_t blobs_from_origin, blobs_from_peers, bytes_from_origin, bytes_from_peers;
    uint64_t blobs_present;                  /* blobs the store held already */
    uint64_t artifact_files, artifact_bytes; /* --artifacts kept for developers */
} shoal_intake_stats_t;

typedef struct shoal_intake shoal_intake_t;

/* Reads the accept list and hooks into ship. NULL with the reason in err
 * (the list unreadable, out of memory). */
shoal_intake_t *shoal_intake_new(const shoal_intake_config_t *config, char *err, size_t err_size);
/* Drops every session not yet hosted (their directories are removed). */
void shoal_intake_destroy(shoal_intake_t **self_p);
const shoal_intake_stats_t *shoal_intake_stats(const shoal_intake_t *self);
/* The zygotes' counters (zygote.h); NULL without zygotes. */
const shoal_zygote_stats_t *shoal_intake_zygote_stats(const shoal_intake_t *self);

#endif
