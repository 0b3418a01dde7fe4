/* node/fetch.h: pulls the blobs a daemon's store lacks (store.h), chunk by
 * chunk, from the peers that may hold them and, when they do not, from the
 * origin (the developer, who holds every blob of its workspace).
 *
 * Flow control: at most SHOAL_FETCH_WINDOW chunk requests (WANT, ship_msg.h)
 * are in flight at once, whatever the blobs' sizes, so a 1 GB file neither
 * floods the mesh (whose probes share the sockets) nor is ever whole in
 * memory: every chunk goes to disk as it comes (shoal_store_part_write). A
 * request unanswered after its timeout is asked again, of the origin after
 * a peer failed it twice. A blob is asked of one source at a time: a peer
 * picked at random among those not yet found lacking it, else the origin.
 * A peer that says NOPE, or whose bytes do not match the digest, is not
 * asked for that blob again.
 *
 * The fetch owns nothing of the mesh: it sends through send(ctx, to, ...)
 * and is told what comes back; time is an argument (ms, monotonic).
 */
#ifndef SHOAL_NODE_FETCH_H
#define SHOAL_NODE_FETCH_H

#include "node/ship_msg.h"
#include "node/store.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SHOAL_FETCH_WINDOW                                                                         \
    32 /* chunk requests in flight: half the mesh's per-peer send queue (64) */
#define SHOAL_FETCH_OPEN_MAX 32       /* blobs being written at once */
#define SHOAL_FETCH_TIMEOUT_MS 1500   /* before a request is asked again */
#define SHOAL_FETCH_PEER_FAILURES 2   /* timeouts before a peer is given up for a blob */
#define SHOAL_FETCH_ORIGIN_FAILURES 8 /* timeouts of the origin before the fetch fails */
#define SHOAL_FETCH_RESEND_MS 20      /* a request that could not be sent is tried again */

/* Sends payload[len] to the member named to; 0, or -1 when it cannot now
 * (the request is tried again SHOAL_FETCH_RESEND_MS later). A request sent
 * and lost is asked again after its timeout. */
typedef int(shoal_fetch_send_fn)(void *ctx, const char *to, const uint8_t *payload, size_t len);

typedef struct {
    uint64_t blobs_from_origin, blobs_from_peers; /* blobs stored, by who sent their bytes */
    uint64_t bytes_from_origin, bytes_from_peers; /* chunk bytes received and written */
    uint64_t requests, timeouts, nopes;           /* WANTs sent; asked again; NOPEs heard */
    uint64_t unsent; /* WANTs the mesh could not send at once (no connection yet): tried again */
    uint64_t mismatches; /* blobs whose bytes did not match their digest */
    uint64_t dropped;    /* chunks not asked for (late, duplicate, unknown blob) */
} shoal_fetch_stats_t;

typedef struct shoal_fetch shoal_fetch_t;

/* A fetch into store (borrowed; it must outlive the fetch) from origin (a
 * member name, copied). NULL out of memory. */
shoal_fetch_t *shoal_fetch_new(shoal_store_t *store, const char *origin, shoal_fetch_send_fn *send,
                               void *ctx);
/* Drops what is half received. */
void shoal_fetch_destroy(shoal_fetch_t **self_p);
/* Wants the blob of this digest and size (bytes). Nothing when the store
 * holds it or it is wanted already. 0, or -1 out of memory. */
int shoal_fetch_add(shoal_fetch_t *self, const uint8_t digest[SHOAL_DIGEST_BYTES], uint64_t size);
/* The peers that may hold blobs (member names, copied; the origin and
 * duplicates are left out), replacing the previous list. */
void shoal_fetch_set_peers(shoal_fetch_t *self, const char *const *names, size_t count);
/* Sends what the window allows and asks again what timed out. Returns when
 * it wants to be called next (ms). */
uint64_t shoal_fetch_tick(shoal_fetch_t *self, uint64_t now);
/* What came back: a CHUNK or a NOPE (other types are not the fetch's). */
void shoal_fetch_on_msg(shoal_fetch_t *self, const char *from, const shoal_ship_msg_t *msg,
                        uint64_t now);
/* Every blob added is in the store. */
bool shoal_fetch_done(const shoal_fetch_t *self);
/* Why the fetch cannot finish (the origin silent or sending bytes that do
 * not match, the disk full), or NULL while it can. */
const char *shoal_fetch_failed(const shoal_fetch_t *self);
const shoal_fetch_stats_t *shoal_fetch_stats(const shoal_fetch_t *self);

#endif
