/* node/tree.h: a workspace as a content-addressed tree. What travels when a
 * developer ships a session is the set of files git would track
 * (`git ls-files -co --exclude-standard`: tracked files and untracked ones
 * that are not ignored) plus the files matching --include globs, never
 * anything else. Each file is named by the BLAKE2b-256 digest of its bytes
 * (libsodium crypto_generichash, 32 bytes); the tree's manifest is a
 * canonical encoding of (path, kind, mode, size, digest or link target)
 * sorted by path, and the workspace's root digest is the BLAKE2b-256 of
 * that manifest, so the same files always give the same root.
 *
 * Manifest: msgpack [1, [[path, kind, mode, size, data]...]], paths sorted
 * bytewise and unique; kind 'f' (data: the 32-byte digest, bin) or 'l' (a
 * symbolic link; data: its target, str, 1..SHOAL_TREE_PATH_MAX bytes; size
 * 0); mode 0644 or 0755 (the executable bit is all that travels; links
 * 0777). Directories are implied. The kind is the character's code as an
 * integer; path and target are str, every integer in its smallest encoding:
 * one tree has exactly one manifest, and decoding refuses any other bytes.
 *
 * A path is relative, non-empty, at most SHOAL_TREE_PATH_MAX bytes, made of
 * components that are neither "", "." nor "..", and never has a link or a
 * file as one of its parent directories: a decoded manifest that breaks
 * any of these is refused, so materializing it (store.h) never writes
 * outside its directory.
 */
#ifndef SHOAL_NODE_TREE_H
#define SHOAL_NODE_TREE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define SHOAL_DIGEST_BYTES 32
#define SHOAL_DIGEST_HEX (2 * SHOAL_DIGEST_BYTES + 1) /* with the NUL */
#define SHOAL_TREE_PATH_MAX 4096
#define SHOAL_TREE_ENTRIES_MAX 1000000
#define SHOAL_TREE_MANIFEST_MAX (256u * 1024 * 1024) /* bytes of an encoded manifest */

typedef enum { SHOAL_TREE_FILE = 'f', SHOAL_TREE_LINK = 'l' } shoal_tree_kind_t;

typedef struct {
    char *path; /* relative to the workspace's top */
    shoal_tree_kind_t kind;
    uint32_t mode;                      /* 0644, 0755 (files), 0777 (links) */
    uint64_t size;                      /* bytes (files) */
    uint8_t digest[SHOAL_DIGEST_BYTES]; /* files: BLAKE2b-256 of the bytes */
    char *target;                       /* links: the target as written, NULL for files */
} shoal_tree_entry_t;

typedef struct shoal_tree shoal_tree_t;

/* Lowercase hex of a digest into out[SHOAL_DIGEST_HEX]. */
void shoal_digest_hex(const uint8_t digest[SHOAL_DIGEST_BYTES], char *out);
/* Reads 64 hex digits; 0, or -1 if text is not exactly that. */
int shoal_digest_parse(const char *text, uint8_t digest[SHOAL_DIGEST_BYTES]);
/* BLAKE2b-256 of a file's bytes, streamed (never whole in memory). 0, or -1
 * with errno set. */
int shoal_tree_hash_file(const char *path, uint8_t digest[SHOAL_DIGEST_BYTES]);

/* The top of the git work tree holding dir (`git -C dir rev-parse
 * --show-toplevel`), into out[size]. -1 with the reason in err: git is not
 * installed, or dir is not in a work tree. */
int shoal_tree_toplevel(const char *dir, char *out, size_t out_size, char *err, size_t err_size);

/* Lists and hashes the workspace whose top is `top`: git's files plus
 * every file below top (not under .git/) matching one of the `include_count`
 * globs (fnmatch(3) without flags against the relative path, so '*' also
 * matches '/'). Files git lists that no longer exist are left out;
 * directories git lists (submodules) are left out. A file's digest is
 * looked up in the hash cache at cache_path (SQLite, made when missing;
 * NULL or "": no cache) by (device, inode, size, modification time in ns)
 * and stored there after hashing, so an unchanged file is never hashed
 * twice -- except one modified less than 2 s before the scan, which is not
 * stored: a same-size write within the file system's clock tick would not
 * change its time (git's "racily clean" files). A cache that cannot be
 * opened or written only costs hashing. *hashed (may be NULL) gets how many
 * files were hashed this time. NULL with the reason in err: git failing, an
 * unreadable file or directory (include walk), a file changing while it is
 * read, more than SHOAL_TREE_ENTRIES_MAX entries, a path too long or below a
 * file or link, a manifest over SHOAL_TREE_MANIFEST_MAX. */
/* Why a glob of --include or --artifacts can match no path below the top
 * (a static string: empty, absolute, starting with "./", ending with "/",
 * a "..", "." or empty component), or NULL for one that can. */
const char *shoal_tree_glob_problem(const char *glob);
/* A directory holding a file of this name is left out of every scan (shoal
 * writes it into directories of its own output, such as --artifacts-dir:
 * they are never part of a workspace). */
#define SHOAL_TREE_SKIP_MARKER ".shoal-artifacts"
shoal_tree_t *shoal_tree_scan(const char *top, const char *const *includes, size_t include_count,
                              const char *cache_path, size_t *hashed, char *err, size_t err_size);
/* The files and links below top matching one of the globs (as the
 * includes of shoal_tree_scan; git is not asked, and nothing is cached),
 * leaving out each that `except` (may be NULL) has at the same path with
 * the same kind, mode and bytes or target: what tests made or changed in a
 * workspace laid out from except. NULL with the reason in err, as
 * shoal_tree_scan (a directory that cannot be opened or read, a file
 * changing while it is read, the caps). */
shoal_tree_t *shoal_tree_scan_matching(const char *top, const char *const *globs, size_t glob_count,
                                       const shoal_tree_t *except, char *err, size_t err_size);
/* $XDG_CACHE_HOME/shoal/hashes.db, or $HOME/.cache/shoal/hashes.db. */
void shoal_tree_default_cache(char *out, size_t out_size);

/* Addition: the per-user cache entry name into out[size]:
 * $XDG_CACHE_HOME/shoal/NAME (an absolute XDG_CACHE_HOME only), else
 * $HOME/.cache/shoal/NAME (HOME, else the password database); "" when
 * neither is known or the path does not fit. */
void shoal_cache_path(const char *name, char *out, size_t out_size);
/* Addition: mkdir -p: makes path and the directories above it that are
 * missing, each with mode (before the umask). 0, or -1 with errno set
 * (ENOTDIR: one of them is not a directory). */
int shoal_make_dirs(const char *path, mode_t mode);

/* The manifest (canonical bytes, malloc'd into *out) and its length; -1 out
 * of memory, or a manifest over SHOAL_TREE_MANIFEST_MAX (decode would refuse
 * it; a scanned tree never is). */
long shoal_tree_encode(const shoal_tree_t *self, uint8_t **out);
/* Reads a manifest; NULL with the reason in err for anything that is not
 * one (see the rules above). Copies everything out of buf. */
shoal_tree_t *shoal_tree_decode(const uint8_t *buf, size_t len, char *err, size_t err_size);
/* The root digest: BLAKE2b-256 of the manifest. 0, or -1 out of memory. */
int shoal_tree_root(const shoal_tree_t *self, uint8_t root[SHOAL_DIGEST_BYTES]);

size_t shoal_tree_count(const shoal_tree_t *self);
/* Entry i (borrowed, sorted by path), or NULL past the end. */
const shoal_tree_entry_t *shoal_tree_entry(const shoal_tree_t *self, size_t i);
/* A file entry with this digest (the first by path), or NULL. O(log n). */
const shoal_tree_entry_t *shoal_tree_find_blob(const shoal_tree_t *self,
                                               const uint8_t digest[SHOAL_DIGEST_BYTES]);
/* Sum of the sizes of the distinct blobs. */
uint64_t shoal_tree_bytes(const shoal_tree_t *self);
void shoal_tree_destroy(shoal_tree_t **self_p);

#endif
