"""A leader frozen until the session ended without it does not report its own.

Three participants run 30 recorded tests of 0.3 s. The leader gets SIGSTOP
once it has printed 3 finished tests; the other two take over, finish, agree
and leave. Then the leader gets SIGCONT. It must not run the rest alone and
write a report of its own with exit 0 (it used to: a second, different
report for one session): it notices it was stalled, finds every other
participant gone, and exits 3 saying why, writing no report (an empty one
would read as a clean suite). No test ran twice at once on live
participants (I2), and the survivors' reports are identical (I1).
"""
import os

import marks
from runs import marked_suite, Runs, run_test, same_reports, phase, TestFailure


def main(cluster):
    suite, log, ids = marked_suite(cluster, 30, 0.3)
    runs = Runs(cluster, "frozenpast")
    ps = runs.start(3, ["--expect", "3", "--slots", "1", "--list", suite])
    leader = runs.leader()
    runs.wait_progress(leader, 3)
    leader.stop()
    phase("froze the leader %s" % leader.name)
    others = [p for p in ps if p is not leader]
    codes = runs.wait_all(120, others)
    if codes != [0, 0]:
        leader.cont()
        runs.dump()
        raise TestFailure("the survivors exited %s, want [0, 0]" % codes)
    cases = same_reports(others)
    if len(cases) != 30:
        raise TestFailure("want 30 testcases, got %d" % len(cases))
    phase("the other two finished without it and left")
    leader.cont()
    code = leader.wait(60)
    if code != 3 or "stalled" not in leader.stderr():
        runs.dump()
        raise TestFailure("the thawed leader exited %s, want 3 saying it was stalled" % code)
    if os.path.exists(leader.junit):
        raise TestFailure("the thawed leader wrote a report (an empty one reads as a clean suite)")
    marks.check(log, ids, dead={leader.name})
    phase("the thawed leader exited 3: the session's outcome is not known there")


run_test(main)
