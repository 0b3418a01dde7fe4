/* node/store.h: a serving daemon's content-addressed store of blobs (file
 * contents named by their BLAKE2b-256 digest, tree.h), with a size cap and
 * least-recently-used eviction, and the per-session directories made from
 * it.
 *
 * Layout under the store's directory (default $XDG_CACHE_HOME/shoal/store,
 * or $HOME/.cache/shoal/store):
 *   blobs/AB/ABCDEF...   one file per blob, mode 0444, named by its hex digest
 *   partial/             blobs being received (a temporary file each)
 * A blob's modification time is the last time it was used (has, read,
 * materialize): eviction removes the oldest first. A blob is put in place
 * by rename only after its digest was checked, so blobs/ never holds a
 * blob whose bytes differ from its name (unless a process with write access
 * changes it: see DESIGN.md on the trust model).
 */
#ifndef SHOAL_NODE_STORE_H
#define SHOAL_NODE_STORE_H

#include "node/tree.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct shoal_store shoal_store_t;
typedef struct shoal_store_part shoal_store_part_t;

/* Opens (making it, 0700, when missing) the store at dir (NULL or "": the
 * default above) with a cap of cap_bytes (0: no cap). Removes leftover
 * partial blobs. NULL with the reason in err. */
shoal_store_t *shoal_store_new(const char *dir, uint64_t cap_bytes, char *err, size_t err_size);
void shoal_store_destroy(shoal_store_t **self_p);
const char *shoal_store_dir(const shoal_store_t *self);
/* The default directory (see above) into out[size]. */
void shoal_store_default_dir(char *out, size_t out_size);

/* Whether the store holds the blob; marks it used. */
bool shoal_store_has(shoal_store_t *self, const uint8_t digest[SHOAL_DIGEST_BYTES]);
/* Reads up to len bytes of the blob from offset into buf: the count (0 at
 * or past its end), or -1 when the store does not hold it (or cannot read
 * it). For serving chunks to peers. */
long shoal_store_read(shoal_store_t *self, const uint8_t digest[SHOAL_DIGEST_BYTES],
                      uint64_t offset, uint8_t *buf, size_t len);
/* A blob's size, or -1 when the store does not hold it. */
int64_t shoal_store_size(shoal_store_t *self, const uint8_t digest[SHOAL_DIGEST_BYTES]);
/* Stores data[len] as a blob (a small one: a manifest), writing its digest
 * to digest. 0, or -1 with the reason in err (a full disk, say). */
int shoal_store_put(shoal_store_t *self, const uint8_t *data, size_t len,
                    uint8_t digest[SHOAL_DIGEST_BYTES], char *err, size_t err_size);

/* Stores the file at path as the blob of this digest and size (as a scan
 * found them), copied in pieces (a large one is never whole in memory);
 * nothing to do when the store holds it. 0, or -1 with the reason in err:
 * the file unreadable, its bytes no longer matching the digest (it changed
 * since), a full disk. */
int shoal_store_put_file(shoal_store_t *self, const char *path,
                         const uint8_t digest[SHOAL_DIGEST_BYTES], uint64_t size, char *err,
                         size_t err_size);

/* A blob being received in chunks, in any order, straight to disk (a large
 * one is never whole in memory); the store must outlive it. NULL with the
 * reason in err. */
shoal_store_part_t *shoal_store_part_new(shoal_store_t *self,
                                         const uint8_t digest[SHOAL_DIGEST_BYTES], uint64_t size,
                                         char *err, size_t err_size);
/* Writes data[len] at offset. 0, or -1 (errno set; ERANGE: beyond the
 * blob's size) -- a full disk gives ENOSPC here. */
int shoal_store_part_write(shoal_store_part_t *self, uint64_t offset, const uint8_t *data,
                           size_t len);
/* Checks the digest of what was written and puts the blob in place; frees
 * the part (*self_p = NULL) either way. 0, or -1 with the reason in err
 * (the bytes do not match the digest: nothing is stored). */
int shoal_store_part_commit(shoal_store_part_t **self_p, char *err, size_t err_size);
/* Drops a part (nothing is stored); NULL-safe, *self_p = NULL. */
void shoal_store_part_abort(shoal_store_part_t **self_p);

/* Removes least recently used blobs until the store is within its cap.
 * Returns the bytes removed. A blob hard-linked into a session directory
 * stays readable there. */
uint64_t shoal_store_trim(shoal_store_t *self);
/* Blobs and bytes held (counted when opened, kept up to date since). */
uint64_t shoal_store_blobs(const shoal_store_t *self);
uint64_t shoal_store_bytes(const shoal_store_t *self);

/* Makes dir (which must not exist; its parent must) hold the tree: every
 * directory 0755, every link as written, and every file either a hard
 * link to its blob (read-only, 0444; an executable one, or one on another
 * file system, a private copy with mode 0555 or 0444), or with copy a
 * private copy with its own mode (0644, 0755). Copy when the processes
 * that use dir could change a linked blob (they run as the store's owner,
 * whatever the sandbox calls them): a blob changed in place would be
 * served, and laid out, with bytes that do not match its name. Every blob
 * must be in the store. 0, or -1 with the reason in err (a blob missing, a
 * full disk); what was made is removed again. */
int shoal_store_materialize(shoal_store_t *self, const shoal_tree_t *tree, const char *dir,
                            bool copy, char *err, size_t err_size);

#endif
