"""kill -9 of a member in the middle of a session.

Proves I5 for a member: the survivors finish every test (each reported once,
I1), the dead member's unfinished tests run elsewhere, and no test ran twice
at the same time on live members (I2).
"""
import os

from runs import Runs, run_test, same_reports, phase, list_file, MARK, PYTHON, TestFailure
import marks


def main(cluster):
    log = os.path.join(cluster.tmpdir, "marks.log")
    tests = [("t%02d" % i, "%s %s %s t%02d 0.4" % (PYTHON, MARK, log, i)) for i in range(40)]
    suite = list_file(os.path.join(cluster.tmpdir, "suite.list"), tests)
    runs = Runs(cluster, "memberkill")
    ps = runs.start(3, ["--expect", "3", "--slots", "1", "--list", suite])
    leader = runs.leader()
    victim = [p for p in ps if p is not leader][0]
    runs.wait_progress(leader, 8)
    victim.kill()
    phase("killed member %s after 8 tests" % victim.name)
    survivors = [p for p in ps if p is not victim]
    codes = runs.wait_all(90, survivors)
    if codes != [0, 0]:
        runs.dump()
        raise TestFailure("survivors exited %s, want [0, 0]" % codes)
    cases = same_reports(survivors)
    if len(cases) != 40 or any(o != "passed" for (o, _, _) in cases.values()):
        raise TestFailure("want 40 passed testcases, got %s" % sorted(cases.items())[:5])
    phase("40 tests passed once each on the survivors")
    marks.check(log, [t[0] for t in tests], dead={victim.name})
    phase("no test ran twice at once on live members")


run_test(main)
