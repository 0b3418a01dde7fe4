/* libFuzzer target: gossip_wire_decode on arbitrary bytes.
 *
 * Decode must never crash, leak or allocate wildly. Whatever it accepts must
 * survive encode -> decode unchanged: a frame we accept is a frame we could
 * have sent, and its second decode equals its first.
 */
#include "gossip/wire.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static gossip_wire_member_t s_members[2][GOSSIP_WIRE_MAX_MEMBERS];
static uint8_t s_payload[2][GOSSIP_WIRE_MAX_PAYLOAD];
static uint8_t s_frame[GOSSIP_WIRE_MAX_FRAME];
static gossip_wire_msg_t s_msg[2];

static int
s_member_equal(const gossip_wire_member_t *a, const gossip_wire_member_t *b)
{
    if (strcmp(a->name, b->name) || strcmp(a->addr, b->addr) || strcmp(a->from, b->from) ||
        a->incarnation != b->incarnation || a->state != b->state ||
        a->meta.slots != b->meta.slots || a->meta.tag_count != b->meta.tag_count ||
        strcmp(a->meta.version, b->meta.version))
        return 0;
    for (size_t i = 0; i < a->meta.tag_count; i++)
        if (strcmp(a->meta.tags[i], b->meta.tags[i]))
            return 0;
    return 1;
}

static int
s_msg_equal(const gossip_wire_msg_t *a, const gossip_wire_msg_t *b)
{
    if (a->type != b->type || strcmp(a->from, b->from) || strcmp(a->from_addr, b->from_addr) ||
        a->seq != b->seq || strcmp(a->target, b->target) ||
        strcmp(a->target_addr, b->target_addr) || a->reply != b->reply ||
        a->update_count != b->update_count || a->member_count != b->member_count ||
        a->payload_len != b->payload_len || memcmp(a->payload, b->payload, a->payload_len))
        return 0;
    for (size_t i = 0; i < a->update_count; i++)
        if (!s_member_equal(&a->updates[i], &b->updates[i]))
            return 0;
    for (size_t i = 0; i < a->member_count; i++)
        if (!s_member_equal(&a->members[i], &b->members[i]))
            return 0;
    return 1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    for (int i = 0; i < 2; i++) {
        s_msg[i].members = s_members[i];
        s_msg[i].payload = s_payload[i];
    }
    if (gossip_wire_decode(data, size, &s_msg[0]) != 0)
        return 0;
    int len = gossip_wire_encode(&s_msg[0], s_frame, sizeof(s_frame));
    if (len <= 0)
        abort(); /* decode accepted what encode refuses */
    if (gossip_wire_decode(s_frame, (size_t)len, &s_msg[1]) != 0)
        abort();
    if (!s_msg_equal(&s_msg[0], &s_msg[1]))
        abort();
    return 0;
}
