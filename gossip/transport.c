/* The ZeroMQ transport: one ROUTER inbox, one lazy DEALER per peer.
 *
 * Frames are sealed with the keyring before they leave and opened before the
 * mesh sees them, so nothing unauthenticated reaches the state machine (I4).
 * Sending never blocks: DEALERs use ZMQ_IMMEDIATE, so a send to a peer without
 * a live connection fails at once, which tells the mesh the peer is unreachable.
 * A peer we have just started connecting to gets a short grace: its frames wait
 * in a small queue, retried by gossip_transport_flush, until it connects or the
 * grace runs out. Peer addresses come from the network, so only IP literals are
 * dialled (no name lookups on behalf of a remote party). A received frame
 * comes with the sender's IP as the connection saw it, so the caller can say
 * where frames that fail to open come from; the transport itself never prints.
 */
#include "gossip/gossip.h"
#include "gossip/wire.h"

#include <arpa/inet.h>
#include <czmq.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#define S_PENDING_MAX 16     /* frames queued per connecting peer */
#define S_CONNECT_GRACE 2000 /* ms a new peer may take to connect */
#define S_IDLE_CLOSE 300000  /* ms without traffic before a DEALER is closed */
#define S_LINGER_MS 100      /* ms a closing DEALER may keep flushing */
#define S_SEALED_MAX (GOSSIP_WIRE_MAX_FRAME + GOSSIP_SEAL_OVERHEAD)

typedef struct {
    zsock_t *dealer;
    uint64_t created, last_used;
    bool connected;   /* a send went through at least once */
    zlist_t *pending; /* zframe_t *, sealed */
} s_peer_t;

struct gossip_transport {
    zsock_t *inbox;
    gossip_keyring_t *keyring;
    zhashx_t *peers; /* "host:port" -> s_peer_t * */
    char addr[GOSSIP_ADDR_MAX + 1];
    uint64_t now; /* the caller's clock, as of the last flush */
    uint8_t *sealed;
    gossip_transport_stats_t stats;
};

static void
s_peer_destroy(void **item)
{
    s_peer_t *peer = *item;
    if (!peer)
        return;
    zsock_destroy(&peer->dealer);
    zframe_t *frame;
    while ((frame = zlist_pop(peer->pending)))
        zframe_destroy(&frame);
    zlist_destroy(&peer->pending);
    free(peer);
    *item = NULL;
}

/* Splits "host:port" (host may be "[v6]") into an endpoint "tcp://host:port".
 * Accepts IP literals only. Returns 0 or -1. */
static int
s_endpoint(const char *addr, bool allow_wildcard, char *out, size_t out_size)
{
    const char *colon = strrchr(addr, ':');
    if (!colon || colon == addr || strlen(addr) > GOSSIP_ADDR_MAX)
        return -1;
    char host[GOSSIP_ADDR_MAX + 1];
    size_t host_len = (size_t)(colon - addr);
    memcpy(host, addr, host_len);
    host[host_len] = '\0';
    char *end;
    long port = strtol(colon + 1, &end, 10);
    if (*end || colon[1] == '\0' || port < 0 || port > 65535 || (port == 0 && !allow_wildcard))
        return -1;
    unsigned char buf[sizeof(struct in6_addr)];
    bool v6 = host[0] == '[' && host[host_len - 1] == ']';
    if (v6) {
        host[host_len - 1] = '\0';
        if (inet_pton(AF_INET6, host + 1, buf) != 1)
            return -1;
        host[host_len - 1] = ']';
    } else if (inet_pton(AF_INET, host, buf) != 1 && !(allow_wildcard && strcmp(host, "*") == 0))
        return -1;
    if (port == 0)
        snprintf(out, out_size, "tcp://%s:*", host);
    else
        snprintf(out, out_size, "tcp://%s:%ld", host, port);
    return 0;
}

gossip_transport_t *
gossip_transport_new(const char *bind_addr, gossip_keyring_t **keyring_p)
{
    char endpoint[GOSSIP_ADDR_MAX + 16];
    if (s_endpoint(bind_addr, true, endpoint, sizeof(endpoint)) != 0) {
        fprintf(stderr, "shoal: cannot bind '%s': expected IP:PORT (port 0 picks one)\n",
                bind_addr);
        return NULL;
    }
    gossip_transport_t *self = calloc(1, sizeof(*self));
    if (!self)
        return NULL;
    self->keyring = *keyring_p;
    *keyring_p = NULL;
    self->peers = zhashx_new();
    zhashx_set_destructor(self->peers, s_peer_destroy);
    self->sealed = malloc(S_SEALED_MAX);
    self->inbox = zsock_new(ZMQ_ROUTER);
    if (!self->peers || !self->sealed || !self->inbox) {
        gossip_transport_destroy(&self);
        return NULL;
    }
    zsock_set_linger(self->inbox, 0);
    zsock_set_rcvhwm(self->inbox, 10000);
    /* libzmq drops a peer that sends more than any frame we would accept */
    zsock_set_maxmsgsize(self->inbox, S_SEALED_MAX);
    int port = zsock_bind(self->inbox, "%s", endpoint);
    if (port < 0) {
        fprintf(stderr, "shoal: cannot bind %s: %s\n", bind_addr, zmq_strerror(zmq_errno()));
        gossip_transport_destroy(&self);
        return NULL;
    }
    /* Report the real port: "127.0.0.2:0" becomes "127.0.0.2:41234". */
    const char *colon = strrchr(bind_addr, ':');
    snprintf(self->addr, sizeof(self->addr), "%.*s:%d", (int)(colon - bind_addr), bind_addr, port);
    return self;
}

void
gossip_transport_destroy(gossip_transport_t **self_p)
{
    gossip_transport_t *self = *self_p;
    if (!self)
        return;
    zhashx_destroy(&self->peers);
    zsock_destroy(&self->inbox);
    gossip_keyring_destroy(&self->keyring);
    free(self->sealed);
    free(self);
    *self_p = NULL;
}

const char *
gossip_transport_addr(const gossip_transport_t *self)
{
    return self->addr;
}

void *
gossip_transport_inbox(gossip_transport_t *self)
{
    return self->inbox;
}

static s_peer_t *
s_peer(gossip_transport_t *self, const char *addr)
{
    s_peer_t *peer = zhashx_lookup(self->peers, addr);
    if (peer)
        return peer;
    char endpoint[GOSSIP_ADDR_MAX + 16];
    if (s_endpoint(addr, false, endpoint, sizeof(endpoint)) != 0) {
        self->stats.drop_address++;
        return NULL;
    }
    peer = calloc(1, sizeof(*peer));
    if (!peer)
        return NULL;
    peer->dealer = zsock_new(ZMQ_DEALER);
    peer->pending = zlist_new();
    if (!peer->dealer || !peer->pending) {
        s_peer_destroy((void **)&peer);
        return NULL;
    }
    /* What was sent just before closing (a leave, a last result) still goes
     * out; IMMEDIATE keeps unconnected peers from holding the close up. */
    zsock_set_linger(peer->dealer, S_LINGER_MS);
    zsock_set_immediate(peer->dealer, 1);
    zsock_set_sndhwm(peer->dealer, 64);
    zsock_set_reconnect_ivl(peer->dealer, 100);
    zsock_set_reconnect_ivl_max(peer->dealer, 1000);
    zsock_set_maxmsgsize(peer->dealer, S_SEALED_MAX);
    if (zsock_connect(peer->dealer, "%s", endpoint) != 0) {
        self->stats.drop_address++;
        s_peer_destroy((void **)&peer);
        return NULL;
    }
    peer->created = peer->last_used = self->now;
    zhashx_insert(self->peers, addr, peer);
    self->stats.peers = zhashx_size(self->peers);
    return peer;
}

static int
s_try_send(gossip_transport_t *self, s_peer_t *peer, const void *data, size_t len)
{
    if (zmq_send(zsock_resolve(peer->dealer), data, len, ZMQ_DONTWAIT) < 0)
        return -1;
    peer->connected = true;
    peer->last_used = self->now;
    self->stats.frames_out++;
    self->stats.bytes_out += len;
    return 0;
}

int
gossip_transport_send(void *ctx, const char *addr, const uint8_t *frame, size_t len)
{
    gossip_transport_t *self = ctx;
    s_peer_t *peer = s_peer(self, addr);
    if (!peer)
        return -1;
    long sealed = gossip_keyring_seal(self->keyring, frame, len, self->sealed, S_SEALED_MAX);
    if (sealed < 0)
        return -1;
    /* Keep the order: nothing overtakes frames already waiting. */
    if (zlist_size(peer->pending) == 0 && s_try_send(self, peer, self->sealed, (size_t)sealed) == 0)
        return 0;
    bool connecting = !peer->connected && self->now - peer->created < S_CONNECT_GRACE;
    if (connecting && zlist_size(peer->pending) < S_PENDING_MAX) {
        zlist_append(peer->pending, zframe_new(self->sealed, (size_t)sealed));
        return 0;
    }
    self->stats.drop_unreachable++;
    return -1;
}

long
gossip_transport_recv(gossip_transport_t *self, uint8_t *out, size_t out_size, char *from,
                      size_t from_size)
{
    if (from && from_size)
        from[0] = '\0';
    zmq_msg_t identity, data;
    void *sock = zsock_resolve(self->inbox);
    zmq_msg_init(&identity);
    if (zmq_msg_recv(&identity, sock, ZMQ_DONTWAIT) < 0) {
        zmq_msg_close(&identity);
        return 0;
    }
    zmq_msg_init(&data);
    bool shaped = zmq_msg_more(&identity) && zmq_msg_recv(&data, sock, ZMQ_DONTWAIT) >= 0 &&
                  !zmq_msg_more(&data);
    /* Drain whatever else the peer stuffed into this message. */
    while (zsock_rcvmore(self->inbox)) {
        zmq_msg_t extra;
        zmq_msg_init(&extra);
        zmq_msg_recv(&extra, sock, ZMQ_DONTWAIT);
        zmq_msg_close(&extra);
    }
    long rc;
    if (!shaped) {
        self->stats.drop_malformed++;
        rc = GOSSIP_KEYRING_ETRUNCATED;
    } else {
        const char *peer = zmq_msg_gets(&data, "Peer-Address");
        if (from && from_size && peer)
            snprintf(from, from_size, "%s", peer);
        self->stats.frames_in++;
        self->stats.bytes_in += zmq_msg_size(&data);
        rc = gossip_keyring_open(self->keyring, zmq_msg_data(&data), zmq_msg_size(&data), out,
                                 out_size);
        if (rc == GOSSIP_KEYRING_ETOOBIG)
            self->stats.drop_oversize++;
        else if (rc < 0)
            self->stats.drop_auth++;
    }
    zmq_msg_close(&identity);
    zmq_msg_close(&data);
    return rc;
}

size_t
gossip_transport_flush(gossip_transport_t *self, uint64_t now)
{
    self->now = now;
    size_t waiting = 0;
    zlist_t *idle = NULL;
    for (s_peer_t *peer = zhashx_first(self->peers); peer; peer = zhashx_next(self->peers)) {
        zframe_t *frame;
        while ((frame = zlist_first(peer->pending)) &&
               s_try_send(self, peer, zframe_data(frame), zframe_size(frame)) == 0) {
            zlist_pop(peer->pending);
            zframe_destroy(&frame);
        }
        if (zlist_size(peer->pending) && now - peer->created >= S_CONNECT_GRACE) {
            self->stats.drop_unreachable += zlist_size(peer->pending);
            while ((frame = zlist_pop(peer->pending)))
                zframe_destroy(&frame);
        }
        waiting += zlist_size(peer->pending);
        if (now - peer->last_used > S_IDLE_CLOSE) {
            if (!idle)
                idle = zlist_new();
            zlist_append(idle, (void *)zhashx_cursor(self->peers));
        }
    }
    if (idle) {
        for (const char *key = zlist_first(idle); key; key = zlist_next(idle))
            zhashx_delete(self->peers, key);
        zlist_destroy(&idle);
        self->stats.peers = zhashx_size(self->peers);
    }
    return waiting;
}

const gossip_transport_stats_t *
gossip_transport_stats(const gossip_transport_t *self)
{
    return &self->stats;
}
