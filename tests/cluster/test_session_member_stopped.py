"""SIGSTOP of a member past the failure timeout, then SIGCONT.

Proves: the frozen member is declared dead and its tests run elsewhere; when
it thaws it refutes, rejoins, and whatever it finishes late merges harmlessly
(results are keyed by test and attempt): the session completes with every
test reported exactly once (I1) and the same report everywhere.
"""

from runs import marked_suite, Runs, run_test, same_reports, phase, TestFailure
import harness


def main(cluster):
    suite, log, _ = marked_suite(cluster, 40, 0.3)
    runs = Runs(cluster, "memberstop")
    ps = runs.start(3, ["--expect", "3", "--slots", "1", "--list", suite])
    leader = runs.leader()
    victim = [p for p in ps if p is not leader][0]
    runs.wait_progress(leader, 6)
    victim.stop()
    phase("froze %s" % victim.name)
    harness.wait_for(lambda: ("%s" % victim.name) in leader.stderr() and
                     "is dead" in leader.stderr(), 30, "the leader to declare it dead")
    phase("the leader declared it dead")
    victim.cont()
    codes = runs.wait_all(90)
    if codes != [0, 0, 0]:
        runs.dump()
        raise TestFailure("exit statuses %s, want [0, 0, 0]" % codes)
    cases = same_reports(ps)
    if len(cases) != 40 or any(o != "passed" for (o, _, _) in cases.values()):
        raise TestFailure("want 40 passed testcases, got %d" % len(cases))
    phase("after SIGCONT all three finished with the same 40 results")


run_test(main)
