/* node/artifacts.h: `shoal run --ship --artifacts GLOB`: the files a
 * shipped session's tests leave in a daemon's session directory come back
 * to the developer's machine, content-addressed like the workspace that
 * went out (tree.h, store.h, ship_msg.h).
 *
 * Daemon (shoal_artifacts_pack, when the session ends there complete): the
 * files below the session's directory matching a glob, less those the
 * workspace shipped unchanged, go into the daemon's store as blobs, with a
 * manifest in pages and its index; the daemon answers COLLECT with
 * ARTIFACTS naming the index.
 *
 * Developer (shoal_artifacts_t, once the session's summary is in): for
 * each daemon that ran tests of the session,
 *
 *   ASKING: COLLECT every SHOAL_ARTIFACTS_ASK_MS
 *     | ARTIFACTS ready                 --not ready (why), the daemon gone,
 *     v                                   no answer in SHOAL_ARTIFACTS_WAIT_MS--> lost
 *   FETCHING: the tree from the daemon (tree_fetch.h) into a store in DIR
 *     | every blob in                   --the fetch failing--> lost
 *     v
 *   DONE: the files in DIR/DAEMON (copies with their modes; what a
 *   previous run left there is replaced)
 *
 * DIR is the developer's (--artifacts-dir): shoal writes only below a
 * directory it made, or one holding its marker file SHOAL_ARTIFACTS_MARKER,
 * so a mistyped DIR never has a user's files replaced.
 */
#ifndef SHOAL_NODE_ARTIFACTS_H
#define SHOAL_NODE_ARTIFACTS_H

#include "node/node.h"
#include "node/ship.h"
#include "node/store.h"
#include "node/tree.h"

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define SHOAL_ARTIFACTS_ASK_MS 1000                   /* a COLLECT unanswered is sent again */
#define SHOAL_ARTIFACTS_WAIT_MS 120000                /* a daemon that never answers is given up */
#define SHOAL_ARTIFACTS_MARKER SHOAL_TREE_SKIP_MARKER /* tree.h: never shipped */
#define SHOAL_ARTIFACTS_DIR "shoal-artifacts"         /* the default DIR, below the current one */

/* ---- the daemon's side */

typedef struct {
    uint8_t root[SHOAL_DIGEST_BYTES]; /* digest of the index (the store holds it) */
    uint64_t index_size;              /* bytes of the index */
    uint64_t files, bytes;            /* entries of the tree, and their sizes' sum */
} shoal_artifacts_packed_t;

/* Stores what the tests left below dir: the files and links matching one
 * of the globs (NULL-terminated) that `shipped` (the workspace laid out in
 * dir; may be NULL) does not have as they are. An empty result stores
 * nothing (out->files 0, index_size 0). 0, or -1 with the reason in err
 * (a file unreadable or changing while stored, a full disk, the caps of
 * tree.h, out of memory). */
int shoal_artifacts_pack(shoal_store_t *store, const char *dir, char *const *globs,
                         const shoal_tree_t *shipped, shoal_artifacts_packed_t *out, char *err,
                         size_t err_size);

/* ---- the developer's side */

/* Takes dir for this run's files, at the run's start: shoal writes below
 * dir only when it is missing (its parents are made), an empty directory,
 * or one holding SHOAL_ARTIFACTS_MARKER. It then holds the marker, and
 * nothing an earlier run left (the stores of runs still alive excepted),
 * so no file there predates this run. 0, or -1 with the reason in err: an
 * empty or over-long path, not a directory, files shoal did not put there,
 * or one it cannot make, read or write. */
int shoal_artifacts_claim_dir(const char *dir, char *err, size_t err_size);

typedef struct shoal_artifacts shoal_artifacts_t;

/* Collects the files of session from daemons into dir (claimed with
 * shoal_artifacts_claim_dir at the run's start), fetching into a store of
 * this process below it, through ship (it takes ship's intake hook until
 * destroyed; node and ship are borrowed and outlive it). NULL with the
 * reason in err: the store cannot be made, out of memory. */
shoal_artifacts_t *shoal_artifacts_new(shoal_node_t *node, shoal_ship_t *ship, const char *session,
                                       const char *dir, char *err, size_t err_size);
/* Removes the fetch's store below dir; the files stay. */
void shoal_artifacts_destroy(shoal_artifacts_t **self_p);
/* Wants the files of the daemon of that member name, where `tests` tests
 * had their final attempt (said when they are lost). Losing them fails the
 * run when tests > 0, or when `retried` (a test of the session was retried:
 * its failed attempts, not in the summary, may have run there). 0, or -1
 * out of memory. */
int shoal_artifacts_want(shoal_artifacts_t *self, const char *daemon, size_t tests, bool retried);
/* Turns the node's loop until every daemon wanted is done or lost, or
 * *stop. Prints one line per daemon to out (where its files went, or why
 * they are lost). Returns how many daemons' files that fail the run did
 * not come (all of those when stopped). */
size_t shoal_artifacts_collect(shoal_artifacts_t *self, volatile sig_atomic_t *stop, FILE *out);

#endif
