#!/usr/bin/env python3
"""bad_frames: hostile bytes on a node's inbox are dropped and counted, never fatal.

A raw ZMTP 3.0 client (zmtp.py) connects to a keyed node's ROUTER inbox as a
DEALER and sends: random garbage frames, an unsealed frame (key id 0), a frame
under the right key id with a random nonce and ciphertext, a tampered copy of
an authentic frame, truncated and empty frames, a multi-frame message, an
authentic frame whose plaintext is not a valid message, a frame exactly at the
size cap and one over it; other raw connections send garbage instead of a
greeting, or a greeting asking for another security mechanism. After each,
the node still runs, answers `members`, the cluster still sees it alive, and
the matching `shoal stats` drop counter grew (the oversize message makes
libzmq drop the connection instead). Nothing unauthenticated changes any
member table (I4).
"""
import os
import random
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import zmtp  # noqa: E402

COUNT = 3
SEALED_MAX = 256 * 1024 + 41  # GOSSIP_FRAME_MAX + GOSSIP_SEAL_OVERHEAD


class Target:
    def __init__(self, cluster, node, nodes):
        self.cluster, self.node, self.nodes = cluster, node, nodes
        self.names = sorted(n.name for n in nodes)

    def counters(self):
        stats = self.node.stats()
        if stats is None:
            raise harness.TestFailure("%s does not answer `shoal stats`" % self.node.name)
        return stats

    def expect(self, counter, grows_by, what, send):
        """Runs send(), then waits for counter to grow by grows_by; checks health."""
        before = self.counters()
        send()

        def check():
            now = self.counters()
            return now[counter] >= before[counter] + grows_by, \
                {k: (before[k], now[k]) for k in now if k.startswith("drop_")}
        harness.wait_for(check, 5, "%s to raise %s by %d" % (what, counter, grows_by),
                         cluster=self.cluster)
        self.healthy(what)
        harness.phase("%s: %s +%d, node healthy" % (what, counter, grows_by))

    def healthy(self, what):
        if not self.node.running():
            raise harness.TestFailure("%s killed %s (exit %s)"
                                      % (what, self.node.name, self.node.proc.poll()))
        self.cluster.wait_converged(self.nodes, timeout=5,
                                    what="the cluster to still see %s alive after %s"
                                    % (self.node.name, what))
        for n in self.nodes:
            if sorted(n.view()) != self.names:
                raise harness.TestFailure("after %s %s lists %s, expected %s"
                                          % (what, n.name, sorted(n.view()), self.names))


def connect(addr):
    conn = zmtp.Connection(addr)
    if conn.peer_type != "ROUTER":
        raise harness.TestFailure("inbox announced Socket-Type %r, expected ROUTER"
                                  % conn.peer_type)
    return conn


def test(cluster):
    nodes = cluster.start(COUNT)
    cluster.wait_converged(nodes)
    node = nodes[0]
    t = Target(cluster, node, nodes)
    key = cluster.key
    kid = zmtp.key_id(key)
    harness.phase("%d keyed nodes converged; target %s, key id %d" % (COUNT, node.addr, kid))

    with connect(node.addr) as c:
        harness.phase("ZMTP 3.0 NULL handshake with %s's inbox done (peer is ROUTER)"
                      % node.name)
        rng = random.Random(os.getpid())

        def garbage():
            for _ in range(50):
                c.send(bytes(rng.getrandbits(8) for _ in range(rng.randint(1, 600))))
        t.expect("drop_auth", 50, "50 random garbage frames", garbage)
        t.expect("drop_auth", 1, "an unsealed frame (key id 0)",
                 lambda: c.send(b"\x00" + b"\x81\xa4type\x00" + os.urandom(64)))
        t.expect("drop_auth", 1, "right key id, random nonce and ciphertext",
                 lambda: c.send(bytes([kid]) + os.urandom(24 + 200)))
        tampered = bytearray(zmtp.seal(key, os.urandom(80)))
        tampered[40] ^= 0x01
        t.expect("drop_auth", 1, "an authentic frame with one ciphertext bit flipped",
                 lambda: c.send(bytes(tampered)))
        t.expect("drop_auth", 1, "a truncated frame (20 bytes < 41)",
                 lambda: c.send(bytes([kid]) + os.urandom(19)))
        t.expect("drop_auth", 1, "an empty frame", lambda: c.send(b""))
        t.expect("drop_malformed", 1, "a 3-frame message",
                 lambda: c.send(zmtp.seal(key, b"x"), os.urandom(50), os.urandom(50)))
        t.expect("drop_decode", 1, "an authentic frame whose plaintext is garbage",
                 lambda: c.send(zmtp.seal(key, b"\xc1" + os.urandom(100))))
        t.expect("drop_auth", 1, "a frame of exactly the %d-byte cap" % SEALED_MAX,
                 lambda: c.send(bytes([kid]) + os.urandom(SEALED_MAX - 1)))
        if c.closed_by_peer(0.2):
            raise harness.TestFailure("the inbox dropped the connection after a frame "
                                      "of exactly the size cap")

    with connect(node.addr) as c:
        try:
            c.send(bytes([kid]) + os.urandom(SEALED_MAX))
        except OSError:
            pass  # the node may hang up while we are still sending
        if not c.closed_by_peer(harness.scaled(5)):
            raise harness.TestFailure("the inbox kept a connection that sent a %d-byte frame "
                                      "(over the cap)" % (SEALED_MAX + 1))
    t.healthy("an oversize frame")
    harness.phase("a frame of %d bytes (cap + 1): libzmq hangs up, node healthy"
                  % (SEALED_MAX + 1))

    for what, data in (("garbage instead of a greeting", b"GET / HTTP/1.0\r\n\r\n" +
                        os.urandom(2000)),
                       ("a greeting asking for the PLAIN mechanism",
                        zmtp.greeting()[:12] + b"PLAIN".ljust(20, b"\0") + bytes(32))):
        with zmtp.Connection(node.addr, handshake=False) as raw:
            try:
                raw.send_raw(data)
            except OSError:
                pass  # the node may hang up while we are still sending
            closed = raw.closed_by_peer(harness.scaled(1))
        t.healthy(what)
        harness.phase("%s: %s, node healthy"
                      % (what, "connection dropped" if closed else "connection ignored"))

    # The inbox still takes new connections and still opens authentic frames.
    with connect(node.addr) as c:
        t.expect("drop_decode", 1, "an authentic garbage frame on a fresh connection",
                 lambda: c.send(zmtp.seal(key, b"\xc1")))


if __name__ == "__main__":
    harness.run(test)
