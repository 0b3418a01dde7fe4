#!/usr/bin/env python3
"""crash_detected: a node killed with SIGKILL is declared dead by every survivor.

Proves the failure detector catches a crash (no leave announced) everywhere,
within the lan profile's few seconds, and that nobody else is accused on the
way: at every observation each survivor sees every other survivor alive.
"""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

COUNT = 8


def test(cluster):
    nodes = cluster.start(COUNT)
    took = cluster.wait_converged(nodes)
    harness.phase("%d nodes converged in %.2fs" % (COUNT, took))

    victim = nodes[3]
    survivors = [n for n in nodes if n is not victim]
    victim.kill()
    killed_at = time.monotonic()
    harness.phase("killed %s (%s) with SIGKILL" % (victim.name, victim.addr))

    def check():
        views = cluster.views(survivors)
        for o, view in views.items():
            if view is None:
                raise harness.TestFailure("survivor %s stopped answering" % o)
            for name, entry in view.items():
                if name != victim.name and entry["state"] != "alive":
                    raise harness.TestFailure(
                        "%s marks live %s as %s while %s is being detected; views:\n%s"
                        % (o, name, entry["state"], victim.name,
                           harness.show(harness.brief(views))))
        done = all(v.get(victim.name, {}).get("state") == "dead" for v in views.values())
        return done, harness.brief(views)

    harness.wait_for(check, 10, "every survivor to mark %s dead" % victim.name,
                     cluster=cluster)
    harness.phase("every survivor marks %s dead %.2fs after the kill (target ~1s)"
                  % (victim.name, time.monotonic() - killed_at))


if __name__ == "__main__":
    harness.run(test)
