"""--time-limit: no test starts after the budget; the rest are skipped.

Proves: with 30 tests of 0.3 s on one slot and a 2 s budget, the session
ends early, every test is still reported exactly once, the ones not started
are reported skipped with the reason, and skips alone do not fail the run.
"""

from runs import marked_suite, Runs, run_test, phase, TestFailure
import marks


def main(cluster):
    suite, log, _ = marked_suite(cluster, 30, 0.3)
    runs = Runs(cluster, "budget")
    (p,) = runs.start(1, ["--slots", "1", "--time-limit", "2", "--list", suite])
    code = p.wait(60)
    if code != 0:
        runs.dump()
        raise TestFailure("exit status %d, want 0" % code)
    cases = p.junit_cases()
    skipped = [k for k, (o, _, el) in cases.items() if o == "skipped"]
    passed = [k for k, (o, _, _) in cases.items() if o == "passed"]
    if len(cases) != 30 or not skipped or not passed or len(skipped) + len(passed) != 30:
        raise TestFailure("want 30 cases split into passed and skipped, got %d passed, %d "
                          "skipped of %d" % (len(passed), len(skipped), len(cases)))
    reason = cases[skipped[0]][2].find("skipped").get("message", "")
    if "time limit" not in reason:
        raise TestFailure("skip reason %r does not name the time limit" % reason)
    started = marks.runs_of(log)
    if len(started) != len(passed):
        raise TestFailure("%d tests started but %d passed: a skipped test ran" %
                          (len(started), len(passed)))
    phase("%d passed within the budget, %d skipped as over it" % (len(passed), len(skipped)))


run_test(main)
