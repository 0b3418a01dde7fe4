#!/usr/bin/env python3
"""graceful_leave: SIGTERM makes a node leave; everyone marks it left, never dead.

Proves the leave is announced and spread before the process exits (exit code
0), so the others record a departure rather than a failure: at no observation
during the leave, nor for a window longer than the suspicion timeouts after
it, does any node report the leaver dead (or suspect), and the rest stay alive.
The leaver removes its control socket file.
"""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

COUNT = 5


def test(cluster):
    nodes = cluster.start(COUNT)
    cluster.wait_converged(nodes)
    harness.phase("%d nodes converged" % COUNT)

    leaver = nodes[1]
    stayers = [n for n in nodes if n is not leaver]
    leaver.terminate()
    sent_at = time.monotonic()
    harness.phase("sent SIGTERM to %s" % leaver.name)

    def observe():
        views = cluster.views(stayers)
        for o, view in views.items():
            if view is None:
                raise harness.TestFailure("%s stopped answering" % o)
            for name, entry in view.items():
                if name == leaver.name:
                    if entry["state"] in ("dead", "suspect"):
                        raise harness.TestFailure(
                            "%s reports the leaver %s as %s:\n%s"
                            % (o, name, entry["state"], harness.show(harness.brief(views))))
                elif entry["state"] != "alive":
                    raise harness.TestFailure("%s reports %s as %s during a leave"
                                              % (o, name, entry["state"]))
        return all(v[leaver.name]["state"] == "left" for v in views.values()), \
            harness.brief(views)

    harness.wait_for(observe, 5, "every node to mark %s left" % leaver.name, cluster=cluster)
    harness.phase("every other node marks %s left %.2fs after SIGTERM"
                  % (leaver.name, time.monotonic() - sent_at))
    code = leaver.wait_exit(5)
    if code != 0:
        raise harness.TestFailure("%s exited with %d after SIGTERM, expected 0"
                                  % (leaver.name, code))
    harness.phase("%s exited with code 0" % leaver.name)
    if os.path.exists(leaver.ctl_path):
        raise harness.TestFailure("%s left its control socket %s behind"
                                  % (leaver.name, leaver.ctl_path))
    harness.phase("%s removed its control socket" % leaver.name)

    # Long enough for probes, suspicion timeouts and a few gossip rounds to
    # have turned a missed leave into a death.
    polls = harness.hold_for(lambda: observe()[0] or (False, "not left any more"), 4,
                             "'%s is left, never dead'" % leaver.name, cluster=cluster)
    harness.phase("%s stays left (never dead or suspect) over %.0fs (%d polls)"
                  % (leaver.name, harness.scaled(4), polls))


if __name__ == "__main__":
    harness.run(test)
