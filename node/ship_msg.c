/* The ship messages' codec (see ship_msg.h) and the offer's body:
 * [version, handoff (bin), root (bin 32), manifest_size, [probe...],
 * toolchain, deps, network, developer, issued, [artifact glob...]]. Both are checked before
 * msgpack-c reads them (unpack.h). */
#include "node/ship_msg.h"
#include "node/unpack.h"

#include <msgpack.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#define S_MAGIC "ship"
#define S_DEPTH 2
#define S_OFFER_VERSION 2
#define S_OFFER_FIELDS 11
#define S_PROBE_WORDS 64

/* The fields after ["ship", version, type] of each type. */
static const unsigned s_fields[] = {
    [SHOAL_SHIP_OFFER] = 4,     [SHOAL_SHIP_ANSWER] = 3,    [SHOAL_SHIP_WANT] = 3,
    [SHOAL_SHIP_CHUNK_MSG] = 4, [SHOAL_SHIP_NOPE] = 1,      [SHOAL_SHIP_CANCEL] = 2,
    [SHOAL_SHIP_COLLECT] = 1,   [SHOAL_SHIP_ARTIFACTS] = 7,
};

static void
s_pack_bin(msgpack_packer *pk, const void *data, size_t len)
{
    msgpack_pack_bin(pk, len);
    msgpack_pack_bin_body(pk, data, len);
}

bool
shoal_ship_is(const uint8_t *buf, size_t len)
{
    return len >= 6 && (buf[0] & 0xf0) == 0x90 && buf[1] == (0xa0 | 4) &&
           memcmp(buf + 2, S_MAGIC, 4) == 0;
}

long
shoal_ship_encode(const shoal_ship_msg_t *self, uint8_t *buf, size_t cap)
{
    if (self->type < SHOAL_SHIP_OFFER || self->type > SHOAL_SHIP_ARTIFACTS ||
        strlen(self->session) > SHOAL_SESSION_ID_MAX || strlen(self->text) > SHOAL_SHIP_TEXT_MAX ||
        self->data_len > SHOAL_SHIP_CHUNK || self->body_len > SHOAL_SHIP_OFFER_MAX)
        return -1;
    msgpack_sbuffer sbuf;
    msgpack_sbuffer_init(&sbuf);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sbuf, msgpack_sbuffer_write);
    msgpack_pack_array(&pk, 3 + s_fields[self->type]);
    shoal_pack_str(&pk, S_MAGIC);
    msgpack_pack_uint8(&pk, SHOAL_SHIP_VERSION);
    msgpack_pack_uint8(&pk, (uint8_t)self->type);
    switch (self->type) {
        case SHOAL_SHIP_OFFER:
            shoal_pack_str(&pk, self->session);
            s_pack_bin(&pk, self->body, self->body_len);
            s_pack_bin(&pk, self->key, sizeof(self->key));
            s_pack_bin(&pk, self->signature, sizeof(self->signature));
            break;
        case SHOAL_SHIP_ANSWER:
            shoal_pack_str(&pk, self->session);
            self->accepted ? msgpack_pack_true(&pk) : msgpack_pack_false(&pk);
            shoal_pack_str(&pk, self->text);
            break;
        case SHOAL_SHIP_WANT:
            s_pack_bin(&pk, self->digest, sizeof(self->digest));
            msgpack_pack_uint64(&pk, self->offset);
            msgpack_pack_uint64(&pk, self->length);
            break;
        case SHOAL_SHIP_CHUNK_MSG:
            s_pack_bin(&pk, self->digest, sizeof(self->digest));
            msgpack_pack_uint64(&pk, self->offset);
            msgpack_pack_uint64(&pk, self->size);
            s_pack_bin(&pk, self->data, self->data_len);
            break;
        case SHOAL_SHIP_NOPE:
            s_pack_bin(&pk, self->digest, sizeof(self->digest));
            break;
        case SHOAL_SHIP_CANCEL:
            shoal_pack_str(&pk, self->session);
            s_pack_bin(&pk, self->signature, sizeof(self->signature));
            break;
        case SHOAL_SHIP_COLLECT:
            shoal_pack_str(&pk, self->session);
            break;
        case SHOAL_SHIP_ARTIFACTS:
            shoal_pack_str(&pk, self->session);
            self->accepted ? msgpack_pack_true(&pk) : msgpack_pack_false(&pk);
            s_pack_bin(&pk, self->digest, sizeof(self->digest));
            msgpack_pack_uint64(&pk, self->index_size);
            msgpack_pack_uint64(&pk, self->files);
            msgpack_pack_uint64(&pk, self->bytes);
            shoal_pack_str(&pk, self->text);
            break;
    }
    long len = sbuf.size <= cap ? (long)sbuf.size : -1;
    if (len > 0)
        memcpy(buf, sbuf.data, sbuf.size);
    msgpack_sbuffer_destroy(&sbuf);
    return len;
}

/* ---------------------------------------------------------------- decode */

/* A bin of exactly len bytes into out. */
static bool
s_bin_fixed(const msgpack_object *o, uint8_t *out, size_t len)
{
    if (o->type != MSGPACK_OBJECT_BIN || o->via.bin.size != len)
        return false;
    memcpy(out, o->via.bin.ptr, len);
    return true;
}

/* A bin of at most max bytes, copied into *out (malloc'd; never NULL on
 * success, even when empty). */
static bool
s_bin_copy(const msgpack_object *o, size_t max, uint8_t **out, size_t *len)
{
    if (o->type != MSGPACK_OBJECT_BIN || o->via.bin.size > max)
        return false;
    *out = malloc(o->via.bin.size ? o->via.bin.size : 1);
    if (!*out)
        return false;
    memcpy(*out, o->via.bin.ptr, o->via.bin.size);
    *len = o->via.bin.size;
    return true;
}

static bool
s_u64(const msgpack_object *o, uint64_t *out)
{
    if (o->type != MSGPACK_OBJECT_POSITIVE_INTEGER)
        return false;
    *out = o->via.u64;
    return true;
}

static int
s_decode(const msgpack_object *root, void *arg)
{
    shoal_ship_msg_t *m = arg;
    if (root->type != MSGPACK_OBJECT_ARRAY || root->via.array.size < 3)
        return -1;
    const msgpack_object *f = root->via.array.ptr;
    uint64_t version, type;
    if (f[0].type != MSGPACK_OBJECT_STR || f[0].via.str.size != 4 ||
        memcmp(f[0].via.str.ptr, S_MAGIC, 4) != 0 || !s_u64(&f[1], &version) ||
        version != SHOAL_SHIP_VERSION || !s_u64(&f[2], &type) || type < SHOAL_SHIP_OFFER ||
        type > SHOAL_SHIP_ARTIFACTS || root->via.array.size != 3 + s_fields[type])
        return -1;
    m->type = (shoal_ship_type_t)type;
    f += 3;
    bool ok = false;
    switch (m->type) {
        case SHOAL_SHIP_OFFER:
            ok = shoal_unpack_str(&f[0], m->session, sizeof(m->session)) && m->session[0] &&
                 s_bin_copy(&f[1], SHOAL_SHIP_OFFER_MAX, &m->body, &m->body_len) &&
                 s_bin_fixed(&f[2], m->key, sizeof(m->key)) &&
                 s_bin_fixed(&f[3], m->signature, sizeof(m->signature));
            break;
        case SHOAL_SHIP_ANSWER:
            ok = shoal_unpack_str(&f[0], m->session, sizeof(m->session)) && m->session[0] &&
                 shoal_unpack_bool(&f[1], &m->accepted) &&
                 shoal_unpack_str(&f[2], m->text, sizeof(m->text));
            break;
        case SHOAL_SHIP_WANT:
            ok = s_bin_fixed(&f[0], m->digest, sizeof(m->digest)) && s_u64(&f[1], &m->offset) &&
                 s_u64(&f[2], &m->length) && m->length > 0 && m->length <= SHOAL_SHIP_CHUNK;
            break;
        case SHOAL_SHIP_CHUNK_MSG:
            ok = s_bin_fixed(&f[0], m->digest, sizeof(m->digest)) && s_u64(&f[1], &m->offset) &&
                 s_u64(&f[2], &m->size) &&
                 s_bin_copy(&f[3], SHOAL_SHIP_CHUNK, &m->data, &m->data_len) &&
                 m->offset <= m->size && m->data_len <= m->size - m->offset;
            break;
        case SHOAL_SHIP_NOPE:
            ok = s_bin_fixed(&f[0], m->digest, sizeof(m->digest));
            break;
        case SHOAL_SHIP_CANCEL:
            ok = shoal_unpack_str(&f[0], m->session, sizeof(m->session)) && m->session[0] &&
                 s_bin_fixed(&f[1], m->signature, sizeof(m->signature));
            break;
        case SHOAL_SHIP_COLLECT:
            ok = shoal_unpack_str(&f[0], m->session, sizeof(m->session)) && m->session[0];
            break;
        case SHOAL_SHIP_ARTIFACTS:
            ok = shoal_unpack_str(&f[0], m->session, sizeof(m->session)) && m->session[0] &&
                 shoal_unpack_bool(&f[1], &m->accepted) &&
                 s_bin_fixed(&f[2], m->digest, sizeof(m->digest)) && s_u64(&f[3], &m->index_size) &&
                 m->index_size <= SHOAL_TREE_MANIFEST_MAX && s_u64(&f[4], &m->files) &&
                 m->files <= SHOAL_TREE_ENTRIES_MAX && s_u64(&f[5], &m->bytes) &&
                 shoal_unpack_str(&f[6], m->text, sizeof(m->text)) &&
                 (!m->accepted || m->files == 0 || m->index_size > 0);
            break;
    }
    return ok ? 0 : -1;
}

int
shoal_ship_decode(const uint8_t *buf, size_t len, shoal_ship_msg_t *out)
{
    memset(out, 0, sizeof(*out));
    int rc = shoal_unpack(buf, len, S_DEPTH, s_decode, out);
    if (rc != 0)
        shoal_ship_msg_clear(out);
    return rc;
}

void
shoal_ship_msg_clear(shoal_ship_msg_t *self)
{
    free(self->body);
    free(self->data);
    memset(self, 0, sizeof(*self));
}

size_t
shoal_ship_cancel_text(const char *session, char *out, size_t size)
{
    int n = snprintf(out, size, "cancel %s", session);
    return n < 0 ? 0 : (size_t)n < size ? (size_t)n : size - 1;
}

/* ---------------------------------------------------------------- the offer */

long
shoal_offer_encode(const shoal_offer_t *self, uint8_t **out)
{
    uint8_t *handoff = NULL;
    long handoff_len = shoal_handoff_encode(&self->handoff, &handoff);
    if (handoff_len < 0)
        return -1;
    msgpack_sbuffer sbuf;
    msgpack_sbuffer_init(&sbuf);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sbuf, msgpack_sbuffer_write);
    msgpack_pack_array(&pk, S_OFFER_FIELDS);
    msgpack_pack_uint8(&pk, S_OFFER_VERSION);
    s_pack_bin(&pk, handoff, (size_t)handoff_len);
    s_pack_bin(&pk, self->root, sizeof(self->root));
    msgpack_pack_uint64(&pk, self->manifest_size);
    shoal_pack_words(&pk, self->probe);
    shoal_pack_str(&pk, self->toolchain);
    shoal_pack_str(&pk, self->deps);
    self->network ? msgpack_pack_true(&pk) : msgpack_pack_false(&pk);
    shoal_pack_str(&pk, self->developer);
    msgpack_pack_int64(&pk, self->issued);
    shoal_pack_words(&pk, self->artifacts);
    free(handoff);
    long len = -1;
    *out = NULL;
    if (sbuf.size <= SHOAL_SHIP_OFFER_MAX && (*out = malloc(sbuf.size))) {
        memcpy(*out, sbuf.data, sbuf.size);
        len = (long)sbuf.size;
    }
    msgpack_sbuffer_destroy(&sbuf);
    return len;
}

/* A path rooted at the workspace's top: "/", or "/" and components that
 * are neither "", "." nor "..". */
static bool
s_rooted(const char *path)
{
    if (path[0] != '/')
        return false;
    if (path[1] == '\0')
        return true;
    for (const char *p = path + 1;;) {
        const char *end = strchr(p, '/');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        if (n == 0 || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
            return false;
        if (!end)
            return true;
        p = end + 1;
    }
}

/* At most max words, copied (NULL-terminated): the probe's, the
 * artifacts' globs. */
static bool
s_words(const msgpack_object *o, size_t max, char ***out)
{
    if (o->type != MSGPACK_OBJECT_ARRAY || o->via.array.size > max)
        return false;
    char **words = calloc(o->via.array.size + 1, sizeof(char *));
    if (!words)
        return false;
    *out = words; /* freed by clear, whatever happens next */
    for (size_t i = 0; i < o->via.array.size; i++) {
        const msgpack_object *w = &o->via.array.ptr[i];
        if (w->type != MSGPACK_OBJECT_STR || memchr(w->via.str.ptr, '\0', w->via.str.size) ||
            !(words[i] = strndup(w->via.str.ptr, w->via.str.size)))
            return false;
    }
    return true;
}

static int
s_decode_offer(const msgpack_object *root, void *arg)
{
    shoal_offer_t *self = arg;
    if (root->type != MSGPACK_OBJECT_ARRAY || root->via.array.size != S_OFFER_FIELDS)
        return -1;
    const msgpack_object *f = root->via.array.ptr;
    uint64_t version;
    if (!s_u64(&f[0], &version) || version != S_OFFER_VERSION || f[1].type != MSGPACK_OBJECT_BIN ||
        shoal_handoff_decode((const uint8_t *)f[1].via.bin.ptr, f[1].via.bin.size,
                             &self->handoff) != 0)
        return -1;
    bool ok =
        s_bin_fixed(&f[2], self->root, sizeof(self->root)) && s_u64(&f[3], &self->manifest_size) &&
        self->manifest_size > 0 && self->manifest_size <= SHOAL_TREE_MANIFEST_MAX &&
        s_words(&f[4], S_PROBE_WORDS, &self->probe) &&
        shoal_unpack_str(&f[5], self->toolchain, sizeof(self->toolchain)) &&
        shoal_unpack_str(&f[6], self->deps, sizeof(self->deps)) &&
        shoal_unpack_bool(&f[7], &self->network) &&
        shoal_unpack_str(&f[8], self->developer, sizeof(self->developer)) && self->developer[0] &&
        (f[9].type == MSGPACK_OBJECT_POSITIVE_INTEGER ||
         f[9].type == MSGPACK_OBJECT_NEGATIVE_INTEGER) &&
        s_rooted(self->handoff.cwd) && (!self->handoff.list[0] || s_rooted(self->handoff.list)) &&
        !self->handoff.env[0] && s_words(&f[10], SHOAL_SHIP_ARTIFACT_GLOBS, &self->artifacts);
    self->issued = f[9].via.i64;
    return ok ? 0 : -1;
}

int
shoal_offer_decode(const uint8_t *buf, size_t len, shoal_offer_t *out)
{
    memset(out, 0, sizeof(*out));
    int rc = shoal_unpack(buf, len, S_DEPTH + 1, s_decode_offer, out);
    if (rc != 0)
        shoal_offer_clear(out);
    return rc;
}

void
shoal_offer_clear(shoal_offer_t *self)
{
    shoal_handoff_clear(&self->handoff);
    char **lists[] = {self->probe, self->artifacts};
    for (size_t l = 0; l < 2; l++) {
        for (size_t i = 0; lists[l] && lists[l][i]; i++)
            free(lists[l][i]);
        free(lists[l]);
    }
    memset(self, 0, sizeof(*self));
}

/* ---------------------------------------------------------------- manifest pages */

long
shoal_pages_cut(const uint8_t *manifest, size_t len, shoal_page_t **pages)
{
    /* [version, [entry...]]: the header up to the first entry stays with
     * the first page. */
    size_t at = 2;
    if (len < 3 || manifest[0] != 0x92)
        return -1;
    if ((manifest[at] & 0xf0) == 0x90)
        at += 1;
    else if (manifest[at] == 0xdc)
        at += 3;
    else if (manifest[at] == 0xdd)
        at += 5;
    else
        return -1;
    size_t cap = 16, count = 0, start = 0, entries = 0;
    shoal_page_t *out = malloc(cap * sizeof(*out));
    while (out && at <= len) {
        bool end = at == len, cut = end;
        if (!end) {
            long size = gossip_wire_check(manifest + at, len - at, 8);
            if (size <= 0) {
                free(out);
                return -1;
            }
            uint8_t h;
            crypto_generichash(&h, 1, manifest + at, (size_t)size, NULL, 0);
            at += (size_t)size;
            cut = h % SHOAL_PAGE_ENTRIES == 0 || ++entries >= 16 * SHOAL_PAGE_ENTRIES;
        }
        if (cut && at > start) {
            if (count == cap) {
                shoal_page_t *grown = realloc(out, 2 * cap * sizeof(*out));
                if (!grown)
                    break;
                out = grown;
                cap *= 2;
            }
            shoal_page_t *p = &out[count++];
            p->offset = start;
            p->size = at - start;
            crypto_generichash(p->digest, SHOAL_DIGEST_BYTES, manifest + start, at - start, NULL,
                               0);
            start = at;
            entries = 0;
        }
        if (end) {
            *pages = out;
            return (long)count;
        }
    }
    free(out);
    return -1;
}

long
shoal_pages_index(const shoal_page_t *pages, size_t count, uint8_t **out)
{
    *out = malloc(count * SHOAL_PAGE_INDEX_BYTES + 1);
    if (!*out)
        return -1;
    for (size_t i = 0; i < count; i++) {
        uint8_t *e = *out + i * SHOAL_PAGE_INDEX_BYTES;
        memcpy(e, pages[i].digest, SHOAL_DIGEST_BYTES);
        for (int b = 0; b < 8; b++)
            e[SHOAL_DIGEST_BYTES + b] = (uint8_t)(pages[i].size >> (56 - 8 * b));
    }
    return (long)(count * SHOAL_PAGE_INDEX_BYTES);
}

long
shoal_pages_parse(const uint8_t *index, size_t len, shoal_page_t **pages)
{
    size_t count = len / SHOAL_PAGE_INDEX_BYTES;
    if (len == 0 || len % SHOAL_PAGE_INDEX_BYTES != 0)
        return -1;
    shoal_page_t *out = calloc(count, sizeof(*out));
    uint64_t offset = 0;
    for (size_t i = 0; out && i < count; i++) {
        const uint8_t *e = index + i * SHOAL_PAGE_INDEX_BYTES;
        memcpy(out[i].digest, e, SHOAL_DIGEST_BYTES);
        for (int b = 0; b < 8; b++)
            out[i].size = out[i].size << 8 | e[SHOAL_DIGEST_BYTES + b];
        out[i].offset = offset;
        if (out[i].size == 0 || out[i].size > SHOAL_TREE_MANIFEST_MAX - offset) {
            free(out);
            return -1;
        }
        offset += out[i].size;
    }
    if (!out)
        return -1;
    *pages = out;
    return (long)count;
}
