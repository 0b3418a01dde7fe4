/* node/shipment.h: the developer's side of `shoal run --ship`: the
 * workspace scanned into a content-addressed tree (tree.h), and the session
 * signed into an OFFER (ship_msg.h) that serving daemons take or decline.
 * The toolchain is named on this machine by the adapter's probe, so a
 * daemon can compare its own before it fetches anything.
 */
#ifndef SHOAL_NODE_SHIPMENT_H
#define SHOAL_NODE_SHIPMENT_H

#include "node/adapter.h"
#include "node/identity.h"
#include "node/session.h"
#include "node/ship_msg.h"
#include "node/tree.h"

#include <limits.h>

typedef struct {
    char identity_path[PATH_MAX]; /* "" for the default (identity.h) */
    const char *const *includes;  /* --include globs */
    size_t include_count;
    bool network; /* false with --no-network */
    /* --artifacts globs (NULL-terminated; NULL: none), borrowed */
    char *const *artifacts;
} shoal_shipment_options_t;

typedef struct {
    char top[PATH_MAX]; /* the workspace's top */
    shoal_tree_t *tree;
    uint8_t *manifest;
    size_t manifest_len;
    shoal_page_t *pages; /* the manifest's pages (ship_msg.h) */
    size_t page_count;
    uint8_t *index; /* their index: the offer's root is its digest */
    size_t index_len;
    size_t hashed;          /* files hashed by the scan (the others came from the cache) */
    shoal_ship_msg_t offer; /* signed; its body is the shoal_offer_t */
    uint8_t cancel[SHOAL_IDENTITY_SIGNATURE_BYTES]; /* signature of the CANCEL */
    char who[SHOAL_IDENTITY_NAME_MAX + 1];
} shoal_shipment_t;

/* Scans the workspace holding the current directory, names the toolchain
 * (runs the adapter's probe here) and signs the offer of this session
 * (run: its options; adapter_name: --adapter or NULL; list: --list FILE or
 * ""; argv: the command) for `developer` (this node's member name). 0, or
 * -1 with the reason in err: no identity (run `shoal keygen --identity`),
 * not a git work tree, a list outside the workspace, a probe that fails,
 * a command too long to ship. */
int shoal_shipment_prepare(shoal_shipment_t *self, const shoal_run_config_t *run,
                           const shoal_adapter_t *adapter, const char *adapter_name,
                           const char *list, int argc, char **argv, const char *developer,
                           const shoal_shipment_options_t *options, char *err, size_t err_size);
void shoal_shipment_clear(shoal_shipment_t *self);

#endif
