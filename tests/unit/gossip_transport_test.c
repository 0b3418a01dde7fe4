/* Behaviours of the ZeroMQ transport (gossip/transport.c) over real loopback
 * sockets: a frame under the right key is opened, one under another key is
 * dropped, counted, and comes with the sender's address, so node/ can tell
 * the user where frames it cannot open come from.
 */
#include "harness.h"
#define TEST(g, n) void test_##g##_##n(void);
#include "gossip.list"
#undef TEST

#include "gossip/gossip.h"

#include <czmq.h>
#include <time.h>

static gossip_transport_t *
s_transport(uint8_t fill)
{
    gossip_keyring_t *ring = gossip_keyring_new();
    CHECK(ring != NULL);
    uint8_t key[GOSSIP_KEY_BYTES];
    memset(key, fill, sizeof(key));
    CHECK_INT(gossip_keyring_add(ring, key), ==, 0);
    gossip_transport_t *t = gossip_transport_new("127.0.0.1:0", &ring);
    CHECK(t != NULL);
    return t;
}

static uint64_t
s_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Sends one frame from `from` to `to` and returns what `to` receives (polls
 * up to 5 s, flushing the sender while it connects). */
static long
s_deliver(gossip_transport_t *from, gossip_transport_t *to, uint8_t *out, size_t out_size,
          char *peer, size_t peer_size)
{
    const uint8_t frame[] = "hello";
    uint64_t start = s_ms();
    gossip_transport_flush(from, start);
    CHECK_INT(gossip_transport_send(from, gossip_transport_addr(to), frame, sizeof(frame)), ==, 0);
    while (s_ms() - start < 5000) {
        gossip_transport_flush(from, s_ms());
        zmq_pollitem_t item = {zsock_resolve(gossip_transport_inbox(to)), 0, ZMQ_POLLIN, 0};
        if (zmq_poll(&item, 1, 10) > 0) {
            long rc = gossip_transport_recv(to, out, out_size, peer, peer_size);
            if (rc != 0)
                return rc;
        }
    }
    CHECK(!"no frame arrived within 5 s");
    return 0;
}

void
test_gossip_transport_names_the_sender_of_unopenable_frames(void)
{
    gossip_transport_t *a = s_transport('a'), *b = s_transport('a'), *stranger = s_transport('z');
    uint8_t out[64];
    char peer[GOSSIP_ADDR_MAX + 1] = "junk";
    /* The same key: opened, and the sender's address comes along. */
    CHECK_INT(s_deliver(a, b, out, sizeof(out), peer, sizeof(peer)), ==, 6);
    CHECK_STR((const char *)out, "hello");
    CHECK_STR(peer, "127.0.0.1");
    CHECK_INT(gossip_transport_stats(b)->drop_auth, ==, 0);
    /* Another key: dropped and counted, and still named by its sender. */
    strcpy(peer, "junk");
    long rc = s_deliver(stranger, b, out, sizeof(out), peer, sizeof(peer));
    CHECK(rc == GOSSIP_KEYRING_EKEYID || rc == GOSSIP_KEYRING_EAUTH);
    CHECK_STR(peer, "127.0.0.1");
    CHECK_INT(gossip_transport_stats(b)->drop_auth, ==, 1);
    /* from may be NULL. */
    CHECK_INT(s_deliver(a, b, out, sizeof(out), NULL, 0), ==, 6);
    gossip_transport_destroy(&a);
    gossip_transport_destroy(&b);
    gossip_transport_destroy(&stranger);
}
