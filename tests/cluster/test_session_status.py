"""`shoal status` and `shoal members` answer while a session runs.

Proves: the node's control socket is served from the same loop as the
session, so during a run each participant answers at once with its session
(id, phase, leader, its participants) and its member table; the answers agree
with what the run reports at the end.
"""

from runs import marked_suite, Runs, run_test, same_reports, phase, TestFailure
import harness


def main(cluster):
    suite, _, _ = marked_suite(cluster, 16, 0.3)
    runs = Runs(cluster, "statusrun")
    ps = runs.start(2, ["--expect", "2", "--slots", "1", "--list", suite])
    leader = runs.leader()
    runs.wait_progress(leader, 2)
    for p in ps:
        seen = {}

        def check():
            status = p.ask("status")
            seen["status"] = status
            if not status or len(status) != 1 or status[0].get("phase") != "running":
                return False, status
            return True, status
        harness.wait_for(check, 20, "%s to report its running session" % p.name)
        session = seen["status"][0]
        if session["session"] != "statusrun" or session["leader"] != leader.name:
            raise TestFailure("%s: status %r, want session statusrun led by %s"
                              % (p.name, session, leader.name))
        names = sorted(m["name"] for m in session["members"])
        if names != sorted(q.name for q in ps):
            raise TestFailure("%s: status lists participants %s" % (p.name, names))
        members = p.ask("members")
        if not members or sorted(m["name"] for m in members) != names:
            raise TestFailure("%s: members during the run: %r" % (p.name, members))
    phase("both participants answered status and members during the run")
    codes = runs.wait_all(90)
    if codes != [0, 0]:
        runs.dump()
        raise TestFailure("exit statuses %s, want [0, 0]" % codes)
    if len(same_reports(ps)) != 16:
        raise TestFailure("want 16 testcases")


run_test(main)
