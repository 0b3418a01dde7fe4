/* gossip/: the facade. Membership and failure detection (SWIM + Lifeguard),
 * dissemination, the sealed ZeroMQ transport and the cluster keyring.
 *
 * The mesh (gossip_mesh_t) does no I/O and reads no clock: it is given `now`
 * (monotonic milliseconds) and a send callback, and is fed received frames. The
 * transport (gossip_transport_t) is the real network: ZeroMQ sockets and
 * libsodium sealing. node/ glues the two; unit tests replace the transport with
 * an in-memory network and a fake clock.
 */
#ifndef SHOAL_GOSSIP_GOSSIP_H
#define SHOAL_GOSSIP_GOSSIP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GOSSIP_NAME_MAX 63             /* member name, bytes */
#define GOSSIP_ADDR_MAX 127            /* "host:port", bytes */
#define GOSSIP_TAGS_MAX 16             /* tags per member */
#define GOSSIP_TAG_MAX 63              /* one "key=value" tag, bytes */
#define GOSSIP_VERSION_MAX 15          /* software version string, bytes */
#define GOSSIP_MEMBERS_MAX 1024        /* members one node tracks */
#define GOSSIP_FRAME_MAX (256 * 1024)  /* largest plaintext frame */
#define GOSSIP_PAYLOAD_MAX (64 * 1024) /* largest payload of the layer above */

typedef enum {
    GOSSIP_STATE_ALIVE = 0,
    GOSSIP_STATE_SUSPECT = 1,
    GOSSIP_STATE_DEAD = 2,
    GOSSIP_STATE_LEFT = 3
} gossip_state_t;

const char *gossip_state_str(gossip_state_t state);

/* What a member advertises about itself. */
typedef struct {
    uint16_t slots;
    uint8_t tag_count;
    char tags[GOSSIP_TAGS_MAX][GOSSIP_TAG_MAX + 1];
    char version[GOSSIP_VERSION_MAX + 1];
} gossip_meta_t;

/* ---------------------------------------------------------------- keyring */

#define GOSSIP_KEY_BYTES 32
/* key id byte + XChaCha20 nonce + Poly1305 tag */
#define GOSSIP_SEAL_OVERHEAD (1 + 24 + 16)

/* Open errors (negative). */
typedef enum {
    GOSSIP_KEYRING_ETRUNCATED = -1, /* too short to be a frame */
    GOSSIP_KEYRING_EPLAIN = -2,     /* an unsealed frame, and we hold keys */
    GOSSIP_KEYRING_ESEALED = -3,    /* a sealed frame, and we hold no key */
    GOSSIP_KEYRING_EKEYID = -4,     /* sealed under a key id we do not hold */
    GOSSIP_KEYRING_EAUTH = -5,      /* failed to authenticate (tampered or wrong key) */
    GOSSIP_KEYRING_ETOOBIG = -6     /* output buffer too small */
} gossip_keyring_error_t;

/* The cluster keys. The first key added is the primary: frames are sealed with
 * it. The others are only accepted, so a cluster rotates keys by adding the new
 * key everywhere, making it primary everywhere, then dropping the old one. An
 * empty keyring is insecure mode: frames travel unsealed, marked by key id 0. */
typedef struct gossip_keyring gossip_keyring_t;

gossip_keyring_t *gossip_keyring_new(void);
void gossip_keyring_destroy(gossip_keyring_t **self_p);
/* Adds a key (the first becomes primary). -1 if the ring is full (8 keys). */
int gossip_keyring_add(gossip_keyring_t *self, const uint8_t key[GOSSIP_KEY_BYTES]);
size_t gossip_keyring_size(const gossip_keyring_t *self);
/* Reads keys from a file: one per line, base64 or hex, '#' comments and blank
 * lines ignored, the first key primary. On failure returns -1 with a message
 * naming the file and line in err. */
int gossip_keyring_load(gossip_keyring_t *self, const char *path, char *err, size_t err_size);
/* Parses one key in base64 (44 chars) or hex (64 chars). 0 or -1. */
int gossip_key_parse(const char *text, uint8_t key[GOSSIP_KEY_BYTES]);
/* Writes a fresh random key as base64 into out (at least 45 bytes). */
void gossip_key_generate(char *out, size_t out_size);
/* Seals plain into out. Returns the sealed length, or -1 if out is too small. */
long gossip_keyring_seal(const gossip_keyring_t *self, const uint8_t *plain, size_t len,
                         uint8_t *out, size_t out_size);
/* Opens a sealed frame into out. Returns the plaintext length or a negative
 * gossip_keyring_error_t. */
long gossip_keyring_open(const gossip_keyring_t *self, const uint8_t *sealed, size_t len,
                         uint8_t *out, size_t out_size);
const char *gossip_keyring_error_str(int err);

/* ---------------------------------------------------------------- profiles */

/* Timing of the failure detector and dissemination. */
typedef struct {
    const char *name;
    uint32_t probe_interval_ms;     /* one probe per interval (scaled by awareness) */
    uint32_t probe_timeout_ms;      /* direct ack deadline before indirect probes */
    uint32_t indirect_probes;       /* k members asked to probe on our behalf */
    uint32_t gossip_interval_ms;    /* how often queued updates are pushed */
    uint32_t gossip_fanout;         /* to this many random members */
    uint32_t retransmit_mult;       /* lambda: each update sent lambda*log(n+1) times */
    uint32_t suspicion_min_ms;      /* times max(1, log10 n): floor of the suspicion timeout */
    uint32_t suspicion_max_mult;    /* the timeout starts at min * this */
    uint32_t push_pull_interval_ms; /* full-state sync with one random member */
    uint32_t awareness_max;         /* Lifeguard local health ceiling */
    uint32_t dead_retry_ms;         /* keep trying dead members' addresses this long */
    uint32_t reap_ms;               /* forget dead/left members after this long */
    uint32_t join_retry_max_ms;     /* ceiling of the seed retry backoff */
} gossip_profile_t;

/* "lan" (the default) or "local"; NULL for an unknown name. */
const gossip_profile_t *gossip_profile_find(const char *name);

/* ---------------------------------------------------------------- the mesh */

typedef struct {
    char name[GOSSIP_NAME_MAX + 1];
    char addr[GOSSIP_ADDR_MAX + 1];
    gossip_state_t state;
    uint32_t incarnation;
    gossip_meta_t meta;
    uint64_t last_heard; /* ms on the mesh's clock; 0 if never heard directly */
    uint64_t state_since;
    bool self;
} gossip_member_t;

/* Counters. Every drop has one, and none is an error to the caller. */
typedef struct {
    uint64_t frames_in, frames_out, bytes_in, bytes_out;
    uint64_t by_type_in[8], by_type_out[8];
    uint64_t drop_decode;    /* malformed, oversized, unknown type or version */
    uint64_t drop_auth;      /* failed to open: wrong key, tampered, unsealed */
    uint64_t drop_stale;     /* acks of probes no longer outstanding */
    uint64_t drop_send;      /* frames the transport could not take */
    uint64_t drop_unclaimed; /* USER payloads no application above took (it counts them) */
    uint64_t probes, probe_failures, indirect_probes;
    uint64_t suspicions, refutations, deaths_declared;
    uint64_t push_pulls;
    uint32_t awareness; /* current Lifeguard health score, 0 = healthy (not a counter) */
} gossip_stats_t;

/* Sends one plaintext frame to "host:port". Returns 0 when handed to the
 * network, -1 when the peer cannot be reached right now (the mesh then treats
 * a probe as failed without waiting for its timeout). */
typedef int(gossip_send_fn)(void *ctx, const char *addr, const uint8_t *frame, size_t len);
/* Called when a member's state or metadata changes, and once when it first
 * appears (then old equals member->state, as for a change of metadata). */
typedef void(gossip_member_fn)(void *ctx, const gossip_member_t *member, gossip_state_t old);

/* Called for each payload of the layer above that a member sent us. */
typedef void(gossip_user_fn)(void *ctx, const char *from, const uint8_t *payload, size_t len);

typedef struct {
    const char *name;
    const char *addr; /* advertised "host:port" */
    gossip_meta_t meta;
    const gossip_profile_t *profile;
    uint64_t seed; /* for the probe shuffle and random choices */
    gossip_send_fn *send;
    void *send_ctx;
    gossip_member_fn *on_member; /* may be NULL */
    void *member_ctx;
    gossip_user_fn *on_user; /* may be NULL: payloads are then dropped */
    void *user_ctx;
} gossip_mesh_config_t;

typedef struct gossip_mesh gossip_mesh_t;

gossip_mesh_t *gossip_mesh_new(const gossip_mesh_config_t *config, uint64_t now);
void gossip_mesh_destroy(gossip_mesh_t **self_p);
/* Asks the member at addr for its full state (a seed). Joined once any answer
 * arrives; until then the caller retries (gossip_mesh_joined). */
int gossip_mesh_join(gossip_mesh_t *self, const char *addr, uint64_t now);
bool gossip_mesh_joined(const gossip_mesh_t *self);
/* Feeds one received plaintext frame. Bad frames are counted and dropped. */
void gossip_mesh_receive(gossip_mesh_t *self, const uint8_t *frame, size_t len, uint64_t now);
/* Runs whatever is due at now. Returns the next time it wants to run. */
uint64_t gossip_mesh_tick(gossip_mesh_t *self, uint64_t now);
/* Announces a graceful leave; keep ticking a little so it spreads. */
void gossip_mesh_leave(gossip_mesh_t *self, uint64_t now);
/* After gossip_mesh_leave: whether a gossip round has carried the leave to up
 * to fanout members (or there is no one to tell). Those spread it on. */
bool gossip_mesh_leave_sent(const gossip_mesh_t *self);
/* Replaces what this node advertises (the tags of the sessions it takes
 * part in change at runtime): bumps our incarnation and spreads the new
 * metadata like any alive update; our own member callback sees it too. -1
 * once leaving (nothing changes). */
int gossip_mesh_set_meta(gossip_mesh_t *self, const gossip_meta_t *meta, uint64_t now);
/* Sends an opaque payload (at most GOSSIP_PAYLOAD_MAX bytes) to the member
 * named, directly, sealed like all traffic. Returns 0 when handed to the
 * network; -1 if the member is unknown, not alive or suspect, unreachable now,
 * or the payload is too big. Delivery is not guaranteed: the layer above
 * retries what matters. */
int gossip_mesh_send_user(gossip_mesh_t *self, const char *name, const uint8_t *payload,
                          size_t len);
/* The member named (self included), borrowed until the mesh next changes
 * (its next receive, tick or set_meta), or NULL when none is known. */
const gossip_member_t *gossip_mesh_member(const gossip_mesh_t *self, const char *name);
/* Copies up to cap members (self included) into out; returns the total count. */
size_t gossip_mesh_members(const gossip_mesh_t *self, gossip_member_t *out, size_t cap);
/* Mutable so the transport can add its own drops (auth) to the same counters. */
gossip_stats_t *gossip_mesh_stats(gossip_mesh_t *self);

/* Walks one msgpack value at buf without allocating, checking every declared
 * length and count against the bytes that remain and the nesting against
 * max_depth. Returns the value's size, or a negative error. Run it before
 * msgpack-c unpacks anything from the network: msgpack-c trusts sizes. */
long gossip_wire_check(const uint8_t *buf, size_t len, int max_depth);

/* ---------------------------------------------------------------- transport */

/* One ROUTER inbox and one lazy DEALER per peer; every frame sealed with the
 * keyring. Sending never blocks. */
typedef struct gossip_transport gossip_transport_t;

/* Binds "host:port" (port 0 picks a free one). Takes ownership of *keyring_p.
 * Returns NULL (and says why on stderr) if the address cannot be bound. */
gossip_transport_t *gossip_transport_new(const char *bind_addr, gossip_keyring_t **keyring_p);
void gossip_transport_destroy(gossip_transport_t **self_p);
/* The bound "host:port", with the real port. */
const char *gossip_transport_addr(const gossip_transport_t *self);
/* The inbox socket (a zsock_t *) to poll for input. */
void *gossip_transport_inbox(gossip_transport_t *self);
/* Seals and sends; matches gossip_send_fn (ctx is the transport). */
int gossip_transport_send(void *self, const char *addr, const uint8_t *frame, size_t len);
/* Receives and opens one frame without blocking. Returns its plaintext length,
 * 0 if nothing was waiting, or a negative gossip_keyring_error_t (counted).
 * from (may be NULL) gets the sender's IP address as its connection reports
 * it ("" if unknown): not authenticated, but it lets the caller tell the user
 * where frames it cannot open come from (a peer with another key). */
long gossip_transport_recv(gossip_transport_t *self, uint8_t *out, size_t out_size, char *from,
                           size_t from_size);
/* Frames whose peer was still connecting are retried here, and peers idle for
 * long are closed; now is the caller's clock. Returns how many frames wait. */
size_t gossip_transport_flush(gossip_transport_t *self, uint64_t now);

typedef struct {
    uint64_t frames_in, frames_out, bytes_in, bytes_out; /* sealed, as on the wire */
    uint64_t drop_auth;        /* failed to open: wrong key, tampered, unsealed */
    uint64_t drop_oversize;    /* larger than any frame we accept */
    uint64_t drop_malformed;   /* not one identity + one data frame */
    uint64_t drop_address;     /* peer address that is not an IP literal and port */
    uint64_t drop_unreachable; /* peer not connected, or connecting for too long */
    uint64_t peers;            /* open outgoing connections */
} gossip_transport_stats_t;

const gossip_transport_stats_t *gossip_transport_stats(const gossip_transport_t *self);

#endif
