#!/usr/bin/env python3
"""key_rotation: rotating the cluster key node by node never splits the cluster.

The documented procedure, with key files edited and nodes restarted one at a
time (graceful restart on the same address):
  step 1: every node gets keyring [A, B] (seals with A, also accepts B);
  step 2: every node in turn gets [B, A] (seals with B, still accepts A);
  step 3: every node in turn gets [B] only.
After every single restart all nodes see all nodes alive, and at no
observation is any node reported dead: mixed keyrings interoperate. Finally a
node holding only the retired key A cannot join: A is really gone.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

COUNT = 4


def write_keys(cluster, node, keys):
    path = os.path.join(cluster.tmpdir, "%s.keys" % node.name)
    with open(path, "w") as f:
        f.write("# primary first\n" + "\n".join(keys) + "\n")
    return path


def start_with(cluster, node, keys, join, bind=None):
    path = write_keys(cluster, node, keys)
    node.start(join=join, keys=[], bind=bind, extra=["--key-file", path])
    return node.wait_started()


def never_dead(cluster, nodes):
    """A convergence check that also fails on any member reported dead."""
    converged = cluster.converged(nodes)

    def check():
        ok, observed = converged()
        for o, view in (observed or {}).items():
            if isinstance(view, dict):
                dead = [m for m, s in view.items() if s.startswith("dead")]
                if dead:
                    raise harness.TestFailure("%s reports %s dead during rotation:\n%s"
                                              % (o, dead, harness.show(observed)))
        return ok, observed
    return check


def restart_all(cluster, nodes, keys, label):
    for node in nodes:
        bind = node.addr
        node.terminate()
        code = node.wait_exit(5)
        if code != 0:
            raise harness.TestFailure("%s exited %d on SIGTERM" % (node.name, code))
        seeds = [n.addr for n in nodes if n is not node][:2]
        start_with(cluster, node, keys, seeds, bind=bind)
        harness.wait_for(never_dead(cluster, nodes), 15,
                         "all nodes alive after restarting %s with %s" % (node.name, label),
                         cluster=cluster)
    harness.phase("%s: every node restarted in turn, all %d alive after each restart"
                  % (label, len(nodes)))


def test(cluster):
    key_a, key_b = harness.new_key(), harness.new_key()
    nodes = [cluster.node() for _ in range(COUNT)]
    start_with(cluster, nodes[0], [key_a, key_b], [])
    for n in nodes[1:]:
        start_with(cluster, n, [key_a, key_b], [nodes[0].addr])
    harness.wait_for(never_dead(cluster, nodes), 15, "step 1 convergence", cluster=cluster)
    harness.phase("step 1: %d nodes with keyring [A, B] converged" % COUNT)

    restart_all(cluster, nodes, [key_b, key_a], "step 2 [B, A]")
    restart_all(cluster, nodes, [key_b], "step 3 [B]")

    stale = cluster.node("stale")
    start_with(cluster, stale, [key_a], [nodes[0].addr])
    before = nodes[0].stats()["drop_auth"]
    harness.wait_for(lambda: nodes[0].stats()["drop_auth"] > before, 10,
                     "the A-only node's frames to reach %s" % nodes[0].name, cluster=cluster)

    def stale_invisible():
        views = cluster.views(nodes + [stale])
        leaked = [o for o, v in views.items() if v is None or
                  (o != stale.name and stale.name in v) or (o == stale.name and len(v) != 1)]
        return not leaked, harness.brief(views)
    harness.hold_for(stale_invisible, 3, "the A-only node staying out", cluster=cluster)
    harness.phase("a node holding only the retired key A is dropped and stays invisible")


if __name__ == "__main__":
    harness.run(test)
