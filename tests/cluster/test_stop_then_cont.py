#!/usr/bin/env python3
"""stop_then_cont: a frozen node is declared dead, then comes back by refuting.

SIGSTOP is a silent failure (no TCP reset): the others must notice by missing
acks alone, suspect it and then declare it dead. After SIGCONT the node learns
it was declared dead, refutes with a higher incarnation, and every node
(itself included) sees it alive again; the whole cluster re-converges.
"""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

COUNT = 6


def test(cluster):
    nodes = cluster.start(COUNT)
    cluster.wait_converged(nodes)
    harness.phase("%d nodes converged" % COUNT)

    victim = nodes[2]
    others = [n for n in nodes if n is not victim]
    before = max(v[victim.name]["incarnation"] for v in cluster.views(nodes).values())
    victim.stop()
    stopped_at = time.monotonic()
    harness.phase("froze %s (incarnation %d) with SIGSTOP" % (victim.name, before))

    seen = {o.name: set() for o in others}

    def all_dead():
        views = cluster.views(others)
        for o, view in views.items():
            if view is None:
                raise harness.TestFailure("%s stopped answering" % o)
            seen[o].add(view[victim.name]["state"])
        done = all(v[victim.name]["state"] == "dead" for v in views.values())
        return done, harness.brief(views)

    harness.wait_for(all_dead, 10, "every other node to mark frozen %s dead" % victim.name,
                     cluster=cluster)
    suspected = sorted(o for o, s in seen.items() if "suspect" in s)
    harness.phase("every other node marks %s dead %.2fs after SIGSTOP (suspect seen by %s)"
                  % (victim.name, time.monotonic() - stopped_at, suspected or "none"))

    victim.cont()
    cont_at = time.monotonic()

    def back():
        views = cluster.views(nodes)
        for view in views.values():
            if view is None:
                return False, harness.brief(views)
            entry = view[victim.name]
            if entry["state"] != "alive" or entry["incarnation"] <= before:
                return False, harness.brief(views)
        return True, harness.brief(views)

    harness.wait_for(back, 10, "every node to see %s alive with incarnation > %d"
                     % (victim.name, before), cluster=cluster)
    after = min(v[victim.name]["incarnation"] for v in cluster.views(nodes).values())
    harness.phase("after SIGCONT every node sees %s alive at incarnation %d > %d in %.2fs"
                  % (victim.name, after, before, time.monotonic() - cont_at))
    took = cluster.wait_converged(nodes, timeout=20)
    harness.phase("all %d nodes see each other alive again (%.2fs more)" % (COUNT, took))


if __name__ == "__main__":
    harness.run(test)
