/* node/identity.h: who may submit a shipped session (see DESIGN.md,
 * "Serving daemons"). A developer holds an Ed25519 key pair (libsodium
 * crypto_sign); a serving daemon holds the list of public keys it accepts
 * (--accept-from) and runs a shipped session only when its offer is signed
 * by one of them. Trust model: the team that shares the cluster key and is
 * listed trusts each other's code; this keeps out machines and people that
 * are not listed, not hostile code from listed ones.
 *
 * Files:
 *   identity (secret, mode 0600, refused when group or others may read it):
 *     one line "shoal-identity-v1 BASE64(64-byte secret key) [COMMENT]"
 *   accept list (public, one key per line, '#' starts a comment line,
 *   blank lines skipped):
 *     "ed25519 BASE64(32-byte public key) [COMMENT]"
 *   `shoal keygen --identity` writes the first and prints the second.
 */
#ifndef SHOAL_NODE_IDENTITY_H
#define SHOAL_NODE_IDENTITY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SHOAL_IDENTITY_PUBLIC_BYTES 32    /* crypto_sign_PUBLICKEYBYTES */
#define SHOAL_IDENTITY_SECRET_BYTES 64    /* crypto_sign_SECRETKEYBYTES */
#define SHOAL_IDENTITY_SIGNATURE_BYTES 64 /* crypto_sign_BYTES */
#define SHOAL_IDENTITY_COMMENT_MAX 127    /* bytes; printable ASCII, no newline */
#define SHOAL_IDENTITY_NAME_MAX 140       /* a key's name for logs (see _name) */
#define SHOAL_ACCEPT_MAX 4096             /* keys in one accept list */

typedef struct {
    uint8_t public_key[SHOAL_IDENTITY_PUBLIC_BYTES];
    uint8_t secret_key[SHOAL_IDENTITY_SECRET_BYTES];
    char comment[SHOAL_IDENTITY_COMMENT_MAX + 1];
} shoal_identity_t;

/* A new random key pair with that comment (NULL or "": "user@host"; cut at
 * SHOAL_IDENTITY_COMMENT_MAX, non-printable bytes become '_'). 0, or -1 if
 * libsodium cannot start. */
int shoal_identity_generate(shoal_identity_t *out, const char *comment);
/* Writes the identity to path, creating it with mode 0600 and its missing
 * parent directories with 0700; refuses to overwrite an existing file.
 * 0, or -1 with the reason (naming path) in err. */
int shoal_identity_save(const shoal_identity_t *self, const char *path, char *err, size_t err_size);
/* Reads an identity file. -1 with the reason in err (naming path): missing
 * or unreadable, readable by group or others ("chmod 600 PATH"), not the
 * format above, or a secret key whose public half does not match. */
int shoal_identity_load(const char *path, shoal_identity_t *out, char *err, size_t err_size);
/* $XDG_CONFIG_HOME/shoal/identity, or $HOME/.config/shoal/identity; ""
 * when neither variable is set. */
void shoal_identity_default_path(char *out, size_t out_size);
/* The accept-list line of this identity: "ed25519 BASE64 COMMENT". */
void shoal_identity_public_line(const shoal_identity_t *self, char *out, size_t out_size);
/* A key's short name for logs and messages: "ed25519:" and the first 16 hex
 * digits of BLAKE2b(public key), then " (COMMENT)" when comment is not
 * NULL or "", the comment cut so that the name with its ')' fits out_size
 * (SHOAL_IDENTITY_NAME_MAX + 1 keeps 113 bytes of it). */
void shoal_identity_name(const uint8_t public_key[SHOAL_IDENTITY_PUBLIC_BYTES], const char *comment,
                         char *out, size_t out_size);
/* Detached signature of msg[len]. */
void shoal_identity_sign(const shoal_identity_t *self, const uint8_t *msg, size_t len,
                         uint8_t sig[SHOAL_IDENTITY_SIGNATURE_BYTES]);
/* 0 when sig is public_key's signature of msg[len], -1 otherwise. */
int shoal_identity_verify(const uint8_t public_key[SHOAL_IDENTITY_PUBLIC_BYTES], const uint8_t *msg,
                          size_t len, const uint8_t sig[SHOAL_IDENTITY_SIGNATURE_BYTES]);

/* ---- the accept list of a serving daemon */

typedef struct shoal_accept shoal_accept_t;

/* Reads the list at path. NULL with the reason in err (naming path and
 * line): unreadable, a line that is not "ed25519 BASE64 [COMMENT]", or more
 * than SHOAL_ACCEPT_MAX keys. An empty list is valid: it accepts no one. */
shoal_accept_t *shoal_accept_load(const char *path, char *err, size_t err_size);
void shoal_accept_destroy(shoal_accept_t **self_p);
/* Reads the file again when its size or modification time changed since the
 * last read (a key added while the daemon runs counts from its next offer).
 * 0 (unchanged or reloaded), or -1 with the reason in err: the list in use
 * stays as it was. */
int shoal_accept_refresh(shoal_accept_t *self, char *err, size_t err_size);
/* Whether the list names public_key; *comment (may be NULL) gets the
 * list's comment for it (borrowed until the next refresh, "" if none). */
bool shoal_accept_allows(const shoal_accept_t *self,
                         const uint8_t public_key[SHOAL_IDENTITY_PUBLIC_BYTES],
                         const char **comment);
size_t shoal_accept_count(const shoal_accept_t *self);

#endif
