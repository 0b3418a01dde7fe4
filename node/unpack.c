/* Checked msgpack unpacking (see unpack.h). */
#include "node/unpack.h"
#include "gossip/gossip.h"

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
