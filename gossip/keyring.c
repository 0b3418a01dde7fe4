/* gossip/keyring.c: the cluster keys and frame sealing (the keyring section of
 * gossip/gossip.h).
 *
 * Sealed frame: [key id][24-byte nonce][XChaCha20-Poly1305 ciphertext + tag],
 * the key id byte being the additional data. The key id is the first byte of
 * BLAKE2b(key) mapped into 1..255; id 0 marks an unsealed frame, which only an
 * empty keyring (insecure mode) sends or accepts. Open tries only the keys whose
 * id matches (normally one), never every key. Invariants: at most
 * S_KEYS_MAX keys, keys[0] is the primary, key bytes are wiped on destroy.
 */
#include "gossip/gossip.h"

#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_KEYS_MAX 8
#define S_NONCE_BYTES crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define S_HEAD_BYTES (1 + S_NONCE_BYTES)
#define S_KEY_BASE64_LEN 44
#define S_KEY_HEX_LEN 64

struct gossip_keyring {
    uint8_t keys[S_KEYS_MAX][GOSSIP_KEY_BYTES];
    uint8_t ids[S_KEYS_MAX];
    size_t count;
};

_Static_assert(GOSSIP_SEAL_OVERHEAD == S_HEAD_BYTES + crypto_aead_xchacha20poly1305_ietf_ABYTES,
               "seal overhead disagrees with libsodium");
_Static_assert(GOSSIP_KEY_BYTES == crypto_aead_xchacha20poly1305_ietf_KEYBYTES,
               "key size disagrees with libsodium");

gossip_keyring_t *
gossip_keyring_new(void)
{
    /* Idempotent and thread-safe; -1 means no usable randomness at all. */
    if (sodium_init() < 0)
        return NULL;
    return calloc(1, sizeof(gossip_keyring_t));
}

void
gossip_keyring_destroy(gossip_keyring_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    sodium_memzero(*self_p, sizeof(**self_p));
    free(*self_p);
    *self_p = NULL;
}

static uint8_t
s_key_id(const uint8_t key[GOSSIP_KEY_BYTES])
{
    uint8_t hash[crypto_generichash_BYTES];
    crypto_generichash(hash, sizeof(hash), key, GOSSIP_KEY_BYTES, NULL, 0);
    return (uint8_t)(hash[0] % 255 + 1);
}

int
gossip_keyring_add(gossip_keyring_t *self, const uint8_t key[GOSSIP_KEY_BYTES])
{
    if (self->count == S_KEYS_MAX)
        return -1;
    memcpy(self->keys[self->count], key, GOSSIP_KEY_BYTES);
    self->ids[self->count] = s_key_id(key);
    self->count++;
    return 0;
}

size_t
gossip_keyring_size(const gossip_keyring_t *self)
{
    return self->count;
}

int
gossip_key_parse(const char *text, uint8_t key[GOSSIP_KEY_BYTES])
{
    size_t len = strlen(text), bin_len = 0;
    const char *end = NULL;
    int rc = -1;
    /* The lengths do not overlap, so a text is read one way only. */
    if (len == S_KEY_BASE64_LEN)
        rc = sodium_base642bin(key, GOSSIP_KEY_BYTES, text, len, NULL, &bin_len, &end,
                               sodium_base64_VARIANT_ORIGINAL);
    else if (len == S_KEY_HEX_LEN)
        rc = sodium_hex2bin(key, GOSSIP_KEY_BYTES, text, len, NULL, &bin_len, &end);
    if (rc != 0 || bin_len != GOSSIP_KEY_BYTES || end != text + len) {
        sodium_memzero(key, GOSSIP_KEY_BYTES);
        return -1;
    }
    return 0;
}

void
gossip_key_generate(char *out, size_t out_size)
{
    /* sodium_bin2base64 aborts on a short buffer; give back "" instead. */
    if (out_size < sodium_base64_ENCODED_LEN(GOSSIP_KEY_BYTES, sodium_base64_VARIANT_ORIGINAL)) {
        if (out_size > 0)
            out[0] = '\0';
        return;
    }
    uint8_t key[GOSSIP_KEY_BYTES];
    randombytes_buf(key, sizeof(key));
    sodium_bin2base64(out, out_size, key, sizeof(key), sodium_base64_VARIANT_ORIGINAL);
    sodium_memzero(key, sizeof(key));
}

/* Strips surrounding whitespace in place; returns the first non-space byte. */
static char *
s_trim(char *line)
{
    while (*line == ' ' || *line == '\t')
        line++;
    size_t len = strlen(line);
    while (len > 0 && strchr(" \t\r\n", line[len - 1]))
        line[--len] = '\0';
    return line;
}

int
gossip_keyring_load(gossip_keyring_t *self, const char *path, char *err, size_t err_size)
{
    FILE *file = fopen(path, "r");
    if (!file) {
        snprintf(err, err_size, "%s: %s", path, strerror(errno));
        return -1;
    }
    /* Keys are collected first and added only if the whole file is good, so a
     * bad file leaves the ring as it was. */
    uint8_t keys[S_KEYS_MAX][GOSSIP_KEY_BYTES];
    size_t count = 0, line_no = 0, cap = 0;
    char *line = NULL;
    int rc = 0;
    while (rc == 0 && getline(&line, &cap, file) != -1) {
        line_no++;
        char *text = s_trim(line);
        if (*text == '\0' || *text == '#')
            continue;
        if (self->count + count == S_KEYS_MAX) {
            snprintf(err, err_size, "%s:%zu: more than %d keys", path, line_no, S_KEYS_MAX);
            rc = -1;
        } else if (gossip_key_parse(text, keys[count]) != 0) {
            snprintf(err, err_size, "%s:%zu: not a 32-byte key in base64 or hex", path, line_no);
            rc = -1;
        } else
            count++;
    }
    if (rc == 0 && ferror(file)) {
        snprintf(err, err_size, "%s: %s", path, strerror(errno));
        rc = -1;
    }
    if (rc == 0 && count == 0) {
        snprintf(err, err_size, "%s: no key in file", path);
        rc = -1;
    }
    for (size_t i = 0; rc == 0 && i < count; i++)
        gossip_keyring_add(self, keys[i]);
    sodium_memzero(keys, sizeof(keys));
    if (line)
        sodium_memzero(line, cap);
    free(line);
    fclose(file);
    return rc;
}

long
gossip_keyring_seal(const gossip_keyring_t *self, const uint8_t *plain, size_t len, uint8_t *out,
                    size_t out_size)
{
    if (self->count == 0) {
        if (out_size < 1 || len > out_size - 1)
            return -1;
        out[0] = 0;
        memmove(out + 1, plain, len);
        return (long)len + 1;
    }
    if (out_size < GOSSIP_SEAL_OVERHEAD || len > out_size - GOSSIP_SEAL_OVERHEAD)
        return -1;
    /* Random 192-bit nonces never repeat in practice, so no counter to keep. */
    out[0] = self->ids[0];
    randombytes_buf(out + 1, S_NONCE_BYTES);
    unsigned long long sealed_len = 0;
    crypto_aead_xchacha20poly1305_ietf_encrypt(out + S_HEAD_BYTES, &sealed_len, plain, len, out, 1,
                                               NULL, out + 1, self->keys[0]);
    return (long)(S_HEAD_BYTES + sealed_len);
}

long
gossip_keyring_open(const gossip_keyring_t *self, const uint8_t *sealed, size_t len, uint8_t *out,
                    size_t out_size)
{
    if (len < 1)
        return GOSSIP_KEYRING_ETRUNCATED;
    if (sealed[0] == 0) {
        if (self->count > 0)
            return GOSSIP_KEYRING_EPLAIN;
        if (len - 1 > out_size)
            return GOSSIP_KEYRING_ETOOBIG;
        memmove(out, sealed + 1, len - 1);
        return (long)len - 1;
    }
    if (self->count == 0)
        return GOSSIP_KEYRING_ESEALED;
    if (len < GOSSIP_SEAL_OVERHEAD)
        return GOSSIP_KEYRING_ETRUNCATED;
    size_t plain_len = len - GOSSIP_SEAL_OVERHEAD;
    bool known = false;
    for (size_t i = 0; i < self->count; i++) {
        if (self->ids[i] != sealed[0])
            continue;
        known = true;
        if (plain_len > out_size)
            return GOSSIP_KEYRING_ETOOBIG;
        /* Two keys may share an id byte: try each of them, nothing else. */
        unsigned long long out_len = 0;
        if (crypto_aead_xchacha20poly1305_ietf_decrypt(out, &out_len, NULL, sealed + S_HEAD_BYTES,
                                                       len - S_HEAD_BYTES, sealed, 1, sealed + 1,
                                                       self->keys[i]) == 0)
            return (long)out_len;
    }
    return known ? GOSSIP_KEYRING_EAUTH : GOSSIP_KEYRING_EKEYID;
}

const char *
gossip_keyring_error_str(int err)
{
    switch (err) {
        case GOSSIP_KEYRING_ETRUNCATED:
            return "truncated";
        case GOSSIP_KEYRING_EPLAIN:
            return "unsealed frame";
        case GOSSIP_KEYRING_ESEALED:
            return "sealed frame, no key";
        case GOSSIP_KEYRING_EKEYID:
            return "unknown key id";
        case GOSSIP_KEYRING_EAUTH:
            return "failed to authenticate";
        case GOSSIP_KEYRING_ETOOBIG:
            return "output too small";
        default:
            return err >= 0 ? "ok" : "unknown error";
    }
}
