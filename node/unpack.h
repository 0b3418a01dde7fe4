/* node/unpack.h: reading a msgpack body that came from outside the process
 * (a peer's session message, a client's hand-off) without trusting it, and
 * the two writers every codec here shares. */
#ifndef SHOAL_NODE_UNPACK_H
#define SHOAL_NODE_UNPACK_H

#include <msgpack.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Checks every length and count of buf[0..len) and its nesting (at most
 * depth) with gossip_wire_check before msgpack-c reads a byte, unpacks it
 * into a zone, and calls decode with the root (decode copies what it keeps:
 * the zone is freed on return). decode's result, or -1 for a body that is
 * not exactly one well-formed value. */
int shoal_unpack(const uint8_t *buf, size_t len, int depth,
                 int (*decode)(const msgpack_object *root, void *arg), void *arg);
/* Readers of one value: true with *out set, false for another type or a
 * value out of range. A number is an integer or a float from 0 to max (NaN
 * is out of range). */
bool shoal_unpack_bool(const msgpack_object *o, bool *out);
bool shoal_unpack_number(const msgpack_object *o, double max, double *out);
/* A str of fewer than size bytes without NUL, copied into out[size]. */
bool shoal_unpack_str(const msgpack_object *o, char *out, size_t size);
/* A str of at most max bytes without NUL, copied into a new string (the
 * caller's); NULL for anything else or out of memory. */
char *shoal_unpack_strdup(const msgpack_object *o, size_t max);

/* Writers. s as a str (NULL: the empty one); false when the packer's buffer
 * could not grow (out of memory). */
bool shoal_pack_str(msgpack_packer *pk, const char *s);
/* NULL-terminated words (NULL: none) as an array of str; false as above. */
bool shoal_pack_words(msgpack_packer *pk, char *const *words);

#endif
