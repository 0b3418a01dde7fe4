/* The gossip wire format: one type byte followed by a msgpack array body.
 *
 * Body of every type: [version, from, from_addr, seq, <type fields>, updates].
 * The type enum is append-only; a decoder meeting a newer version or an unknown
 * type rejects the frame. Every length and count is checked against the caps
 * below *before* msgpack-c unpacks anything, because msgpack-c trusts sizes in
 * its input. Decoded values are copied into fixed-size fields of the message, so
 * nothing points into a msgpack zone after decode returns.
 */
#ifndef SHOAL_GOSSIP_WIRE_H
#define SHOAL_GOSSIP_WIRE_H

#include "gossip/gossip.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GOSSIP_WIRE_VERSION 1
/* Largest plaintext frame (type byte + body). */
#define GOSSIP_WIRE_MAX_FRAME GOSSIP_FRAME_MAX
/* Most piggybacked member updates in one message. */
#define GOSSIP_WIRE_MAX_UPDATES 24
/* Most member entries in one push-pull message. */
#define GOSSIP_WIRE_MAX_MEMBERS GOSSIP_MEMBERS_MAX
/* Largest opaque user payload. */
#define GOSSIP_WIRE_MAX_PAYLOAD GOSSIP_PAYLOAD_MAX

/* Append-only: never renumber, never reuse. */
typedef enum {
    GOSSIP_WIRE_PING = 1,      /* probe; target named so a restarted peer can tell */
    GOSSIP_WIRE_ACK = 2,       /* answer to PING, or forwarded for a PING_REQ */
    GOSSIP_WIRE_PING_REQ = 3,  /* "probe target for me" (indirect probe) */
    GOSSIP_WIRE_NACK = 4,      /* intermediary could not reach target (Lifeguard) */
    GOSSIP_WIRE_GOSSIP = 5,    /* updates only, sent to a few random members */
    GOSSIP_WIRE_PUSH_PULL = 6, /* full member table; reply flag set on the answer */
    GOSSIP_WIRE_USER = 7,      /* opaque payload of the layer above */
    GOSSIP_WIRE_TYPE_LAST = 7
} gossip_wire_type_t;

/* Decode errors (negative). Any of them means: drop and count. */
typedef enum {
    GOSSIP_WIRE_ETRUNCATED = -1, /* shorter than a header or a declared length */
    GOSSIP_WIRE_ETOOBIG = -2,    /* over a size or count cap */
    GOSSIP_WIRE_ETYPE = -3,      /* unknown type byte */
    GOSSIP_WIRE_EVERSION = -4,   /* body version we do not speak */
    GOSSIP_WIRE_EMALFORMED = -5, /* not the msgpack shape of the type */
    GOSSIP_WIRE_EVALUE = -6      /* right shape, invalid value (bad state, bad name) */
} gossip_wire_error_t;

/* One member as carried in updates and push-pull. For SUSPECT and DEAD updates
 * `from` names the accuser; a DEAD whose `from` equals `name` is a graceful leave. */
typedef struct {
    char name[GOSSIP_NAME_MAX + 1];
    char addr[GOSSIP_ADDR_MAX + 1];
    uint32_t incarnation;
    gossip_state_t state;
    char from[GOSSIP_NAME_MAX + 1];
    gossip_meta_t meta; /* meaningful for ALIVE entries only */
} gossip_wire_member_t;

typedef struct {
    gossip_wire_type_t type;
    char from[GOSSIP_NAME_MAX + 1];      /* sender's name */
    char from_addr[GOSSIP_ADDR_MAX + 1]; /* where to answer */
    uint32_t seq;                        /* probe sequence; 0 where unused */
    /* PING: the member probed. PING_REQ: the member to probe, and its address.
     * ACK/NACK for an indirect probe: the member that was probed. */
    char target[GOSSIP_NAME_MAX + 1];
    char target_addr[GOSSIP_ADDR_MAX + 1];
    bool reply; /* PUSH_PULL: this is the answer, do not answer it */
    uint16_t update_count;
    gossip_wire_member_t updates[GOSSIP_WIRE_MAX_UPDATES];
    uint16_t member_count;         /* PUSH_PULL */
    gossip_wire_member_t *members; /* PUSH_PULL: GOSSIP_WIRE_MAX_MEMBERS entries, caller's */
    size_t payload_len;            /* USER */
    uint8_t *payload;              /* USER: GOSSIP_WIRE_MAX_PAYLOAD bytes, caller's */
} gossip_wire_msg_t;

/* Encodes msg into buf. Returns the frame length, or -1 if it would not fit in
 * cap (or in GOSSIP_WIRE_MAX_FRAME), or if a field is over its cap. */
int gossip_wire_encode(const gossip_wire_msg_t *msg, uint8_t *buf, size_t cap);

/* Decodes one frame into msg. msg->members and msg->payload must point at
 * caller buffers of GOSSIP_WIRE_MAX_MEMBERS entries / GOSSIP_WIRE_MAX_PAYLOAD
 * bytes (or be NULL, in which case a frame carrying them is rejected with
 * GOSSIP_WIRE_ETOOBIG). Returns 0, or a gossip_wire_error_t. Never asserts on
 * input, never allocates more than a small multiple of len. */
int gossip_wire_decode(const uint8_t *buf, size_t len, gossip_wire_msg_t *msg);

/* gossip_wire_check (declared in gossip.h) validates raw msgpack first. */

/* A short stable name for an error or type, for counters and logs. */
const char *gossip_wire_error_str(int err);
const char *gossip_wire_type_str(gossip_wire_type_t type);

#endif
