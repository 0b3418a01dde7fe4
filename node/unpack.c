/* Checked msgpack unpacking, and the shared writers (see unpack.h). */
#include "node/unpack.h"
#include "gossip/gossip.h"

#include <stdlib.h>
#include <string.h>

int
shoal_unpack(const uint8_t *buf, size_t len, int depth,
             int (*decode)(const msgpack_object *root, void *arg), void *arg)
{
    long size = gossip_wire_check(buf, len, depth);
    if (size < 0 || (size_t)size != len)
        return -1;
    msgpack_zone zone;
    if (!msgpack_zone_init(&zone, 2048))
        return -1;
    msgpack_object root;
    size_t off = 0;
    int rc = -1;
    if (msgpack_unpack((const char *)buf, len, &off, &zone, &root) == MSGPACK_UNPACK_SUCCESS &&
        off == len)
        rc = decode(&root, arg);
    msgpack_zone_destroy(&zone);
    return rc;
}

bool
shoal_unpack_bool(const msgpack_object *o, bool *out)
{
    if (o->type != MSGPACK_OBJECT_BOOLEAN)
        return false;
    *out = o->via.boolean;
    return true;
}

bool
shoal_unpack_number(const msgpack_object *o, double max, double *out)
{
    if (o->type == MSGPACK_OBJECT_FLOAT64 || o->type == MSGPACK_OBJECT_FLOAT32)
        *out = o->via.f64;
    else if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER)
        *out = (double)o->via.u64;
    else if (o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
        *out = (double)o->via.i64;
    else
        return false;
    return *out >= 0 && *out <= max; /* also false for NaN */
}

bool
shoal_unpack_str(const msgpack_object *o, char *out, size_t size)
{
    if (o->type != MSGPACK_OBJECT_STR || o->via.str.size >= size ||
        memchr(o->via.str.ptr, '\0', o->via.str.size))
        return false;
    memcpy(out, o->via.str.ptr, o->via.str.size);
    out[o->via.str.size] = '\0';
    return true;
}

char *
shoal_unpack_strdup(const msgpack_object *o, size_t max)
{
    if (o->type != MSGPACK_OBJECT_STR || o->via.str.size > max)
        return NULL;
    char *s = malloc(o->via.str.size + 1);
    if (s && !shoal_unpack_str(o, s, o->via.str.size + 1)) {
        free(s);
        return NULL;
    }
    return s;
}

bool
shoal_pack_str(msgpack_packer *pk, const char *s)
{
    size_t n = strlen(s ? s : "");
    return msgpack_pack_str(pk, n) == 0 && msgpack_pack_str_body(pk, s ? s : "", n) == 0;
}

bool
shoal_pack_words(msgpack_packer *pk, char *const *words)
{
    size_t n = 0;
    while (words && words[n])
        n++;
    bool ok = msgpack_pack_array(pk, n) == 0;
    for (size_t i = 0; ok && i < n; i++)
        ok = shoal_pack_str(pk, words[i]);
    return ok;
}
