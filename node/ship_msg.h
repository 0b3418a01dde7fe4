/* node/ship_msg.h: the messages that ship a workspace to serving daemons,
 * carried as gossip USER payloads (sealed and authenticated by the mesh like
 * the session's; the offer is signed besides, identity.h).
 *
 * Body: msgpack ["ship", version, type, <type fields>]. The leading string
 * tells them from session messages (session_msg.h), which start with a
 * number.
 *
 *   OFFER   [.., session, body (bin), key (bin 32), signature (bin 64)]
 *             developer -> daemon: "take part in this session"; body is a
 *             shoal_offer_t (below), signed by key
 *   ANSWER  [.., session, accepted, text]      daemon -> developer: taken, or
 *             declined or refused, and why
 *   WANT    [.., digest (bin 32), offset, length]  "send me these bytes of
 *             that blob"
 *   CHUNK   [.., digest, offset, size, data (bin)]  the bytes; size is the
 *             whole blob's
 *   NOPE    [.., digest]                        "I do not hold that blob"
 *   CANCEL  [.., session, signature (bin 64)]   developer -> daemon: "stop
 *             it", signed like the offer (the signature of "cancel " SESSION)
 *   COLLECT [.., session]                       developer -> daemon, once the
 *             session is over: "what did its tests leave that --artifacts
 *             names?" (asked again until answered)
 *   ARTIFACTS [.., session, ready, root (bin 32), index_size, files, bytes,
 *             text]                             daemon -> developer: the
 *             files are in the daemon's store under root (a tree, its
 *             manifest in pages like a workspace's), or, not ready, why
 *             they cannot come
 *
 * The decoder checks every length against the caps before msgpack-c reads a
 * byte (unpack.h) and copies what it keeps into the message, which owns it
 * until shoal_ship_msg_clear.
 */
#ifndef SHOAL_NODE_SHIP_MSG_H
#define SHOAL_NODE_SHIP_MSG_H

#include "node/handoff.h"
#include "node/identity.h"
#include "node/session_msg.h"
#include "node/tree.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SHOAL_SHIP_VERSION 1
#define SHOAL_SHIP_CHUNK 49152       /* bytes of blob in one CHUNK */
#define SHOAL_SHIP_OFFER_MAX 49152   /* bytes of an offer's body */
#define SHOAL_SHIP_TEXT_MAX 512      /* bytes of an ANSWER's text */
#define SHOAL_SHIP_TOOLCHAIN_MAX 255 /* bytes of a toolchain fingerprint */
#define SHOAL_SHIP_ARTIFACT_GLOBS 32 /* --artifacts globs of one offer */

typedef enum {
    SHOAL_SHIP_OFFER = 1,
    SHOAL_SHIP_ANSWER = 2,
    SHOAL_SHIP_WANT = 3,
    SHOAL_SHIP_CHUNK_MSG = 4,
    SHOAL_SHIP_NOPE = 5,
    SHOAL_SHIP_CANCEL = 6,
    SHOAL_SHIP_COLLECT = 7,
    SHOAL_SHIP_ARTIFACTS = 8,
} shoal_ship_type_t;

typedef struct {
    shoal_ship_type_t type;
    char session[SHOAL_SESSION_ID_MAX + 1]; /* OFFER ANSWER CANCEL COLLECT ARTIFACTS */
    uint8_t *body;                          /* OFFER: the signed offer (owned) */
    size_t body_len;
    uint8_t key[SHOAL_IDENTITY_PUBLIC_BYTES];          /* OFFER */
    uint8_t signature[SHOAL_IDENTITY_SIGNATURE_BYTES]; /* OFFER CANCEL */
    bool accepted;                                     /* ANSWER; ARTIFACTS: ready */
    char text[SHOAL_SHIP_TEXT_MAX + 1];                /* ANSWER ARTIFACTS */
    uint8_t digest[SHOAL_DIGEST_BYTES];                /* WANT CHUNK NOPE; ARTIFACTS: root */
    uint64_t index_size;                               /* ARTIFACTS: bytes of the root's blob */
    uint64_t files, bytes;                             /* ARTIFACTS: what the tree holds */
    uint64_t offset;                                   /* WANT CHUNK: bytes */
    uint64_t length;                                   /* WANT: bytes wanted */
    uint64_t size;                                     /* CHUNK: the blob's bytes */
    uint8_t *data;                                     /* CHUNK (owned) */
    size_t data_len;
} shoal_ship_msg_t;

/* Whether a payload is a ship message (its first value is "ship"). */
bool shoal_ship_is(const uint8_t *buf, size_t len);
/* Encodes into buf[cap]: the length, or -1 when a field is over its cap or
 * the message does not fit. Borrowed pointers are only read. */
long shoal_ship_encode(const shoal_ship_msg_t *self, uint8_t *buf, size_t cap);
/* Decodes into out (cleared first; owns body and data afterwards): 0, or -1
 * for anything malformed (out is then cleared). */
int shoal_ship_decode(const uint8_t *buf, size_t len, shoal_ship_msg_t *out);
void shoal_ship_msg_clear(shoal_ship_msg_t *self);

/* What an offer asks a daemon to run (the signed body). The hand-off carries
 * the session's options and command as a local client's does, with two
 * differences: its cwd and list are rooted at the workspace's top ("/" is
 * the top, "/tests" a directory below it) and it has no environment (the
 * daemon's own runs the tests). A daemon runs probe and compares what it
 * prints with toolchain before it fetches anything. */
typedef struct {
    shoal_handoff_t handoff;
    uint8_t root[SHOAL_DIGEST_BYTES]; /* the workspace's root digest (tree.h) */
    uint64_t manifest_size;           /* bytes of the manifest, the root's blob */
    char **probe; /* the command that names the toolchain (NULL-terminated; NULL: none) */
    char toolchain[SHOAL_SHIP_TOOLCHAIN_MAX + 1]; /* what it printed at the developer's */
    char deps[SHOAL_DIGEST_HEX];                  /* the dependency files' digest (hex) */
    bool network;                                 /* the tests may use the network */
    char developer[GOSSIP_NAME_MAX + 1];          /* the mesh member that offers it */
    int64_t issued;                               /* unix seconds */
    /* --artifacts: globs of the files to send back once the session is
     * over (NULL-terminated, at most SHOAL_SHIP_ARTIFACT_GLOBS; NULL:
     * none), matched as --include's against paths below the top */
    char **artifacts;
} shoal_offer_t;

/* The offer's body (malloc'd into *out) and its length; -1 out of memory or
 * over SHOAL_SHIP_OFFER_MAX (a command too long to ship). */
long shoal_offer_encode(const shoal_offer_t *self, uint8_t **out);
/* Reads an offer's body: 0, or -1 for anything malformed, including a cwd
 * or list that is not rooted at "/" or has a ".." or "." component. Free
 * with shoal_offer_clear. */
int shoal_offer_decode(const uint8_t *buf, size_t len, shoal_offer_t *out);
void shoal_offer_clear(shoal_offer_t *self);
/* The bytes a CANCEL's signature covers: "cancel " SESSION, into out[size]
 * (size at least SHOAL_SESSION_ID_MAX + 8); their length. */
size_t shoal_ship_cancel_text(const char *session, char *out, size_t size);

/* ---- the manifest in pages
 *
 * A workspace's manifest (tree.h) travels in pages, each a blob of its own,
 * so a run that changed one file moves one page of it, not all of it: the
 * pages are cut at entry boundaries where the BLAKE2b of an entry's bytes
 * says so (content-defined: about SHOAL_PAGE_ENTRIES entries a page, and a
 * changed entry moves the cuts around it alone). The index lists the pages,
 * SHOAL_PAGE_INDEX_BYTES each: the page's digest and its size (8 bytes,
 * big-endian); an offer's root is the digest of the index. */
#define SHOAL_PAGE_ENTRIES 64
#define SHOAL_PAGE_INDEX_BYTES (SHOAL_DIGEST_BYTES + 8)

typedef struct {
    uint8_t digest[SHOAL_DIGEST_BYTES];
    uint64_t offset; /* in the manifest, bytes */
    uint64_t size;
} shoal_page_t;

/* Cuts an encoded manifest into pages: their count, with the malloc'd
 * array in *pages, or -1 when the bytes are not a manifest's array or out
 * of memory. */
long shoal_pages_cut(const uint8_t *manifest, size_t len, shoal_page_t **pages);
/* The index of the pages (malloc'd into *out): its length, or -1 out of
 * memory. */
long shoal_pages_index(const shoal_page_t *pages, size_t count, uint8_t **out);
/* Reads an index: the count, with the malloc'd pages (offsets summed) in
 * *pages, or -1 for an index that is not one (a size that is not a whole
 * number of entries, no page, or pages adding up to more than
 * SHOAL_TREE_MANIFEST_MAX bytes). */
long shoal_pages_parse(const uint8_t *index, size_t len, shoal_page_t **pages);

#endif
