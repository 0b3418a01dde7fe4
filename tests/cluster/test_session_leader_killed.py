"""kill -9 of the leader in the middle of a session.

Proves I5 for the leader: the best-ranked survivor takes the next term,
rebuilds the session from the members' reports, and the session completes
with every test reported once (I1) and no test run twice at once on live
members (I2); both survivors write the same report.
"""
import os

from runs import Runs, run_test, same_reports, phase, list_file, MARK, PYTHON, TestFailure
import marks


def main(cluster):
    log = os.path.join(cluster.tmpdir, "marks.log")
    tests = [("t%02d" % i, "%s %s %s t%02d 0.4" % (PYTHON, MARK, log, i)) for i in range(40)]
    suite = list_file(os.path.join(cluster.tmpdir, "suite.list"), tests)
    runs = Runs(cluster, "leaderkill")
    ps = runs.start(3, ["--expect", "3", "--slots", "1", "--list", suite])
    leader = runs.leader()
    runs.wait_progress(leader, 10)
    leader.kill()
    phase("killed the leader %s after 10 tests" % leader.name)
    survivors = [p for p in ps if p is not leader]
    codes = runs.wait_all(90, survivors)
    if codes != [0, 0]:
        runs.dump()
        raise TestFailure("survivors exited %s, want [0, 0]" % codes)
    if not any("taking over" in p.stderr() for p in survivors):
        raise TestFailure("no survivor took over the leadership")
    cases = same_reports(survivors)
    if len(cases) != 40 or any(o != "passed" for (o, _, _) in cases.values()):
        raise TestFailure("want 40 passed testcases, got %d" % len(cases))
    phase("a survivor took over; 40 tests passed once each")
    marks.check(log, [t[0] for t in tests], dead={leader.name})
    phase("no test ran twice at once on live members")


run_test(main)
