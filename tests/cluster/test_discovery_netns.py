#!/usr/bin/env python3
"""discovery_netns: nodes with no --join find each other by UDP beacon on a LAN.

Builds a private LAN out of network namespaces (harness.NetnsLan): three host
namespaces, each with a veth into a bridge namespace, addressed in a random
10.A.B.0/24 that exists only inside them (the machine's real interfaces never
see a beacon). One keyed node per host binds 0.0.0.0:7411 with --discover and
no --join at all; they must find each other by beacon and converge, each
listed at its own LAN address. Every node uses the same default port 7411, as
a real LAN deployment does, so the beacons must tell nodes apart by more than
the port (czmq's zbeacon silently drops a received beacon byte-identical to
its own). Needs root and `ip netns`; exits 77 (skip) otherwise. The
namespaces are always deleted.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

HOSTS = ["a", "b", "c"]
PORT, BEACON_PORT = 7411, 7412


def test(cluster):
    lan = harness.NetnsLan(HOSTS)
    try:
        addrs = lan.create()
        harness.phase("LAN of namespaces %s on %s.0/24 behind bridge namespace %s"
                      % (sorted(lan.hosts.values()), lan.subnet, lan.bridge_ns))
        nodes = []
        for h in HOSTS:
            n = cluster.node("host-" + h, ip=addrs[h])
            n.start(bind="0.0.0.0:%d" % PORT, prefix=lan.exec_prefix(h),
                    extra=["--advertise", "%s:%d" % (addrs[h], PORT), "--discover",
                           "--beacon-port", str(BEACON_PORT)],
                    env={"ZSYS_INTERFACE": lan.VETH})
            nodes.append(n)
        for n in nodes:
            n.wait_started()
        harness.phase("started %s with --discover and no --join" % [n.addr for n in nodes])
        took = cluster.wait_converged(nodes, timeout=20,
                                      what="3 nodes to find each other by beacon")
        for n in nodes:
            wrong = {m: e["addr"] for m, e in n.view().items()
                     if e["addr"] != "%s:%d" % (addrs[m.split("-", 1)[1]], PORT)}
            if wrong:
                raise harness.TestFailure("%s lists wrong addresses: %s" % (n.name, wrong))
        harness.phase("found each other by beacon and converged in %.2fs, each at its LAN "
                      "address" % took)
    finally:
        cluster.kill_all()
        lan.delete()
    if lan.leftovers():
        raise harness.TestFailure("namespaces left behind: %s" % lan.leftovers())
    harness.phase("namespaces deleted")


if __name__ == "__main__":
    harness.run(test)
