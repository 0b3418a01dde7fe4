"""A participant that arrives after the session started takes work.

Proves: the join window closing does not lock newcomers out; a late member
of the same session learns the leader at once and steals from the busiest
member, so it ends up running tests; all three print the same summary.
"""

from runs import marked_suite, Runs, run_test, same_reports, phase, TestFailure


def main(cluster):
    suite, log, _ = marked_suite(cluster, 40, 0.3)
    runs = Runs(cluster, "late")
    ps = runs.start(2, ["--expect", "2", "--slots", "1", "--list", suite])
    leader = runs.leader()
    runs.wait_progress(leader, 4)
    late = runs.participant("late").start(["--slots", "1", "--list", suite])
    phase("started a third participant after 4 tests")
    codes = runs.wait_all(90)
    if codes != [0, 0, 0]:
        runs.dump()
        raise TestFailure("exit statuses %s, want [0, 0, 0]" % codes)
    cases = same_reports(ps + [late])
    ran_late = [k for k, (o, host, _) in cases.items() if host == "late"]
    if not ran_late:
        raise TestFailure("the late participant ran nothing")
    phase("the late participant ran %d of 40 tests; reports identical" % len(ran_late))


run_test(main)
