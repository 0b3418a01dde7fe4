"""A `shoal node` runs the sessions of three clients; one is killed with
SIGKILL mid-session, another stopped with SIGINT.

Proves that a node never runs a session whose client is gone: the killed
client's session is abandoned (it leaves `shoal status`, none of its tests
starts afterwards) and its slot goes to the session still running, which
completes with every test once; the interrupted client exits 3, its session
abandoned at once. Last, the node itself is stopped (SIGTERM) under a
client: the client is told at its next poll that the node no longer runs its
session and exits 3, rather than waiting out the node's silence.
"""
import signal
import time

import harness
import marks
from harness import TestFailure, phase
from runs import Client, marked_suite, run_test, wait_finished


def status(node):
    return harness.ask_control(node.cluster.shoal, node.control, "status", node.name)


def sessions(node):
    return sorted(s["session"] for s in status(node) or [])


def share(node, session):
    """The slots the node advertises for session, or None."""
    table = node.members() or []
    me = [m for m in table if m["self"]]
    value = me[0]["tags"].get("@" + session) if me else None
    return int(value.rsplit(":", 1)[1]) if value else None


def main(cluster):
    node = cluster.start(1, extra=["--slots", "2"])[0]
    killed_suite, killed_log, _ = marked_suite(cluster, 30, 0.5, name="killed")
    kept_suite, kept_log, kept_ids = marked_suite(cluster, 30, 0.3, name="kept")
    stopped_suite, _, _ = marked_suite(cluster, 20, 0.5, name="stopped")
    killed = Client(cluster, "killed", node, "killed").start(["--list", killed_suite])
    kept = Client(cluster, "kept", node, "kept").start(["--list", kept_suite])
    wait_finished(killed, 2)
    harness.wait_for(lambda: (share(node, "kept") == 1, share(node, "kept")), 10,
                     "the node to give each session one of its two slots", cluster=cluster)
    killed.kill()
    phase("killed the client of session 'killed' after 2 tests")

    harness.wait_for(lambda: ("killed" not in sessions(node), sessions(node)), 15,
                     "the node to abandon session 'killed'", cluster=cluster)
    abandoned_at = time.time()
    phase("the node abandoned the session of the killed client")
    harness.wait_for(lambda: (share(node, "kept") == 2, share(node, "kept")), 10,
                     "session 'kept' to get both slots", cluster=cluster)
    phase("session 'kept' now has both slots")

    stopped = Client(cluster, "stopped", node, "stopped").start(["--list", stopped_suite])
    wait_finished(stopped, 1)
    stopped.signal(signal.SIGINT)
    code = stopped.wait(20)
    if code != 3 or "interrupted" not in stopped.stderr():
        stopped.dump()
        raise TestFailure("the interrupted client exited %s, want 3 saying so" % code)
    harness.wait_for(lambda: ("stopped" not in sessions(node), sessions(node)), 5,
                     "the node to abandon session 'stopped'", cluster=cluster)
    phase("an interrupted client exits 3 and its session is abandoned at once")

    code = kept.wait(120)
    if code != 0:
        kept.dump()
        cluster.dump_logs()
        raise TestFailure("the client still running exited %s, want 0" % code)
    cases = kept.junit_cases()
    if len(cases) != 30 or any(o != "passed" for (o, _, _) in cases.values()):
        raise TestFailure("session 'kept': want 30 passed testcases, got %d" % len(cases))
    marks.check(kept_log, kept_ids)
    phase("session 'kept' completed: 30 tests passed once each")

    late = [(test, r) for test, runs in marks.runs_of(killed_log).items() for r in runs
            if r[0] > abandoned_at]
    if late:
        raise TestFailure("tests of the abandoned session started after it was abandoned: %s"
                          % late)
    unfinished = [test for test, runs in marks.runs_of(killed_log).items()
                  if any(r[1] is None for r in runs)]
    phase("no test of the abandoned session started afterwards (%d cut short by it)"
          % len(unfinished))

    orphan_suite, _, _ = marked_suite(cluster, 20, 0.5, name="orphan")
    orphan = Client(cluster, "orphan", node, "orphan").start(["--list", orphan_suite])
    wait_finished(orphan, 1)
    node.terminate()
    code = orphan.wait(60)
    err = orphan.stderr()
    if code != 3 or "no longer runs session" not in err:
        orphan.dump()
        raise TestFailure("the client of a stopped node exited %s, stderr %r; want 3, told the "
                          "node no longer runs its session" % (code, err[-400:]))
    node.wait_exit(10)
    phase("a node stopped under a client tells it: the client exits 3 at once")


run_test(main)
