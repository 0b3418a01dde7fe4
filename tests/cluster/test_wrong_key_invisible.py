#!/usr/bin/env python3
"""wrong_key_invisible: nodes without the cluster key cannot join or be seen.

A cluster of 4 holds key A. A node holding key B and a node holding no key
(unsealed, allowed on loopback) both --join the cluster's seed. Their frames do
reach the seed (its drop_auth counter grows for each of them), but they are
dropped before the mesh sees them (I4): over a window covering several join
retries no table of the cluster lists either stranger, their own tables list
only themselves, and the cluster's members all stay alive.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

COUNT = 4
WINDOW = 8  # seconds: join retries at ~0.25, 0.75, 1.75, 3.75, 7.75 s


def drop_auth(node):
    stats = node.stats()
    if stats is None:
        raise harness.TestFailure("%s does not answer `shoal stats`" % node.name)
    return stats["drop_auth"]


def wait_dropped(cluster, seed, before, who):
    """Waits until seed's drop_auth grows past `before`: who's frames arrived."""
    last = {}

    def check():
        last["n"] = drop_auth(seed)
        return last["n"] > before, "drop_auth on %s: %d (was %d)" % (seed.name, last["n"], before)
    harness.wait_for(check, 10, "%s's frames to reach %s and be dropped" % (who, seed.name),
                     cluster=cluster)
    return last["n"]


def test(cluster):
    nodes = cluster.start(COUNT)
    cluster.wait_converged(nodes)
    seed = nodes[0]
    harness.phase("%d nodes with key A converged (seed %s)" % (COUNT, seed.addr))

    base = drop_auth(seed)
    wrong = cluster.node("wrongkey")
    wrong.start(join=[seed.addr], keys=[harness.new_key()])
    wrong.wait_started()
    after_wrong = wait_dropped(cluster, seed, base, "the key-B node")
    harness.phase("key-B node's frames reach the seed and are dropped (drop_auth %d -> %d)"
                  % (base, after_wrong))

    keyless = cluster.node("nokey")
    keyless.start(join=[seed.addr], keys=[])
    keyless.wait_started()
    after_keyless = wait_dropped(cluster, seed, after_wrong, "the keyless node")
    harness.phase("keyless node's unsealed frames reach the seed and are dropped "
                  "(drop_auth %d -> %d)" % (after_wrong, after_keyless))

    strangers = [wrong, keyless]
    stranger_names = {s.name for s in strangers}
    stranger_addrs = {s.addr for s in strangers}

    def invisible():
        views = cluster.views(nodes + strangers)
        for o, view in views.items():
            if view is None:
                raise harness.TestFailure("%s stopped answering" % o)
        for n in nodes:
            view = views[n.name]
            leaked = [m for m in view.values()
                      if m["name"] in stranger_names or m["addr"] in stranger_addrs]
            if leaked:
                return False, {"leaked into %s" % n.name: leaked}
            if sorted(view) != sorted(x.name for x in nodes) or \
                    any(m["state"] != "alive" for m in view.values()):
                return False, harness.brief(views)
        for s in strangers:
            if list(views[s.name]) != [s.name]:
                return False, {"%s sees" % s.name: views[s.name]}
        return True, None

    polls = harness.hold_for(invisible, WINDOW, "strangers staying invisible", cluster=cluster)
    final = drop_auth(seed)
    if final <= after_keyless:
        raise harness.TestFailure("the strangers' join retries stopped reaching the seed "
                                  "(drop_auth stuck at %d): the window proved nothing" % final)
    harness.phase("over %.0fs (%d polls, seed drop_auth now %d) neither stranger appears in "
                  "any cluster table, each sees only itself, the cluster stays alive"
                  % (harness.scaled(WINDOW), polls, final))


if __name__ == "__main__":
    harness.run(test)
