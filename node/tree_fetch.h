/* node/tree_fetch.h: fetches a whole tree (tree.h) into a store by its
 * root: the index of the manifest's pages (ship_msg.h), then the pages,
 * then every blob the store lacks, each step through one fetch (fetch.h).
 * A daemon fetches a developer's workspace this way (intake.h), and a
 * developer the files a daemon's tests left (artifacts.h).
 *
 *   INDEX --index in the store--> PAGES --pages in--> BLOBS --blobs in--> done
 *     (any step: the fetch failing, an index or manifest that does not read) --> failed
 *
 * Time is an argument (ms, monotonic); the mesh is reached through send.
 */
#ifndef SHOAL_NODE_TREE_FETCH_H
#define SHOAL_NODE_TREE_FETCH_H

#include "node/fetch.h"
#include "node/store.h"
#include "node/tree.h"

#include <stdbool.h>
#include <stdint.h>

typedef enum {
    SHOAL_TREE_FETCH_INDEX,
    SHOAL_TREE_FETCH_PAGES,
    SHOAL_TREE_FETCH_BLOBS,
    SHOAL_TREE_FETCH_DONE,
    SHOAL_TREE_FETCH_FAILED,
} shoal_tree_fetch_state_t;

typedef struct shoal_tree_fetch shoal_tree_fetch_t;

/* Starts fetching the tree whose index (index_size bytes) has digest root
 * from origin (and peers, shoal_tree_fetch_blobs) into store (borrowed: it
 * outlives the fetch). NULL out of memory. */
shoal_tree_fetch_t *shoal_tree_fetch_new(shoal_store_t *store, const char *origin,
                                         shoal_fetch_send_fn *send, void *ctx,
                                         const uint8_t root[SHOAL_DIGEST_BYTES],
                                         uint64_t index_size);
void shoal_tree_fetch_destroy(shoal_tree_fetch_t **self_p);
/* Moves the fetch on (and to the next step when one is complete). Returns
 * when it wants to be called next (ms). */
uint64_t shoal_tree_fetch_tick(shoal_tree_fetch_t *self, uint64_t now);
/* What came back (CHUNK or NOPE; other types are ignored). */
void shoal_tree_fetch_on_msg(shoal_tree_fetch_t *self, const char *from,
                             const shoal_ship_msg_t *msg, uint64_t now);
shoal_tree_fetch_state_t shoal_tree_fetch_state(const shoal_tree_fetch_t *self);
/* Once failed: why (static or owned by the fetch); NULL before. */
const char *shoal_tree_fetch_failed(const shoal_tree_fetch_t *self);
/* From BLOBS on: the tree (borrowed until destroy or take); NULL before. */
const shoal_tree_t *shoal_tree_fetch_tree(const shoal_tree_fetch_t *self);
/* Once done: the tree, now the caller's (NULL before). */
shoal_tree_t *shoal_tree_fetch_take(shoal_tree_fetch_t *self);
/* The blob fetch under it: its stats, and its peers (shoal_fetch_set_peers). */
shoal_fetch_t *shoal_tree_fetch_blobs(shoal_tree_fetch_t *self);
/* File blobs of the tree the store held already (counted at BLOBS). */
uint64_t shoal_tree_fetch_present(const shoal_tree_fetch_t *self);

#endif
