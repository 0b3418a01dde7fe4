#!/usr/bin/env python3
"""join_dns_name: --join accepts a DNS name and tries every address it resolves to.

The seed listens on 127.0.0.1; the joiner is given `--join localhost:PORT`.
localhost may resolve to ::1 before 127.0.0.1 (where nothing listens); the
node must try each resolved address, so it still joins and both see each
other alive, the seed listed at its IP address.
"""
import os
import socket
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402


def test(cluster):
    try:
        resolved = {ai[4][0] for ai in socket.getaddrinfo("localhost", 1, 0, socket.SOCK_STREAM)}
    except socket.gaierror as e:
        raise harness.TestSkip("localhost does not resolve here: %s" % e)
    if "127.0.0.1" not in resolved:
        raise harness.TestSkip("localhost resolves to %s, not 127.0.0.1" % sorted(resolved))

    seed = cluster.node("seed", ip="127.0.0.1")
    seed.start()
    seed.wait_started()
    port = seed.addr.rsplit(":", 1)[1]
    joiner = cluster.node("joiner")
    joiner.start(join=["localhost:%s" % port])
    joiner.wait_started()
    harness.phase("seed on %s; joiner started with --join localhost:%s (resolves to %s)"
                  % (seed.addr, port, sorted(resolved)))
    took = cluster.wait_converged([seed, joiner], timeout=10)
    entry = joiner.view()["seed"]
    if entry["addr"] != seed.addr:
        raise harness.TestFailure("joiner lists the seed at %s, expected %s"
                                  % (entry["addr"], seed.addr))
    harness.phase("joined through the name in %.2fs; the seed is listed at %s"
                  % (took, entry["addr"]))


if __name__ == "__main__":
    harness.run(test)
