#!/usr/bin/env python3
"""partition_heals: a 3/3 network split is detected on both sides, then heals.

Six nodes, each in its own network namespace on a private bridged LAN
(harness.NetnsLan, random 10.A.B.0/24), so every node has its own source
address and firewall rules touch nothing else. iptables DROP rules in each
namespace against the other half's addresses split the cluster until each half
marks the other dead (and still sees its own half alive). Once the rules are
removed the mesh, which keeps retrying dead members' addresses, must
re-converge to all six alive without any restart. Needs root, `ip netns` and
working iptables inside a namespace; exits 77 (skip) otherwise. The
namespaces are always deleted.
"""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

HOSTS = ["h%d" % i for i in range(6)]


def split(lan, left, right):
    """Each node drops everything from the other half."""
    for mine, theirs in ((left, right), (right, left)):
        for n in mine:
            for other in theirs:
                lan.run(n.host, "iptables", "-A", "INPUT", "-s", other.ip, "-j", "DROP")


def sees(cluster, observers, members, state):
    """A check: every observer sees every member in `state`."""
    def check():
        views = cluster.views(observers)
        ok = all(v is not None and all(v.get(m.name, {}).get("state") == state
                                       for m in members) for v in views.values())
        return ok, harness.brief(views)
    return check


def test(cluster):
    lan = harness.NetnsLan(HOSTS)
    try:
        addrs = lan.create()
        probe = lan.run(HOSTS[0], "iptables", "-A", "INPUT", "-s", "192.0.2.1", "-j", "DROP",
                        check=False)
        if probe.returncode != 0:
            raise harness.TestSkip("iptables does not work inside a namespace: %s"
                                   % probe.stderr.strip())
        lan.run(HOSTS[0], "iptables", "-F", "INPUT")

        nodes = []
        for h in HOSTS:
            n = cluster.node(h, ip=addrs[h])
            n.host = h
            n.start(join=[nodes[0].addr] if nodes else (), prefix=lan.exec_prefix(h),
                    extra=["--no-discover"])
            n.wait_started()
            nodes.append(n)
        cluster.wait_converged(nodes)
        left, right = nodes[:3], nodes[3:]
        harness.phase("6 nodes converged, one per namespace on %s.0/24" % lan.subnet)

        split(lan, left, right)
        split_at = time.monotonic()
        harness.phase("split %s | %s with iptables DROP rules"
                      % ([n.name for n in left], [n.name for n in right]))
        for mine, theirs in ((left, right), (right, left)):
            harness.wait_for(sees(cluster, mine, theirs, "dead"), 20,
                             "%s to mark %s dead" % ([n.name for n in mine],
                                                     [n.name for n in theirs]),
                             cluster=cluster)
        for half in (left, right):
            harness.wait_for(sees(cluster, half, half, "alive"), 10,
                             "%s to see each other alive" % [n.name for n in half],
                             cluster=cluster)
        harness.phase("each half marks the other dead and itself alive (%.1fs after the split)"
                      % (time.monotonic() - split_at))

        for h in HOSTS:
            lan.run(h, "iptables", "-F", "INPUT")
        took = cluster.wait_converged(nodes, timeout=60, what="all 6 to re-converge after the "
                                      "partition heals")
        harness.phase("rules removed; all 6 see each other alive again after %.1fs" % took)
    finally:
        cluster.kill_all()
        lan.delete()
    if lan.leftovers():
        raise harness.TestFailure("namespaces left behind: %s" % lan.leftovers())


if __name__ == "__main__":
    harness.run(test)
