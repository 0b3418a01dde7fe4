#!/usr/bin/env python3
"""converge_16: 16 nodes that each know only one seed converge.

Proves that joining through a single seed is enough: gossip and push-pull
spread every member, so every node ends up seeing all 16 alive, each at the
address that node really bound.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

COUNT = 16


def test(cluster):
    nodes = cluster.start(COUNT, join_first=True)
    harness.phase("%d nodes started, %d of them joining seed %s"
                  % (COUNT, COUNT - 1, nodes[0].addr))
    took = cluster.wait_converged(nodes)
    harness.phase("every node sees all %d alive after %.2fs" % (COUNT, took))

    # Every node agrees on every member's address: the one it reported for itself.
    real = {n.name: n.addr for n in nodes}
    for n in nodes:
        view = n.view()
        wrong = {name: e["addr"] for name, e in view.items() if e["addr"] != real[name]}
        if wrong:
            raise harness.TestFailure("%s holds wrong addresses %s (real: %s)"
                                      % (n.name, wrong, real))
        selves = [name for name, e in view.items() if e["self"]]
        if selves != [n.name]:
            raise harness.TestFailure("%s marks %s as self" % (n.name, selves))
    harness.phase("every table holds the real addresses and exactly one self entry")


if __name__ == "__main__":
    harness.run(test)
