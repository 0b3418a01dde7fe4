"""pytest's -x stops the whole session on every participant (issue: with -x
every test still ran).

Two participants run 40 tests of 0.2 s with `pytest -x`; the first test
fails at once. The session stops as pytest-xdist stops: what was running
finishes, nothing more starts; both participants exit 1 with the same
report, which has the failure, and the tests that did not run reported as
not run, saying why.

Then every test fails (0.5 s each), with `--maxfail 3` on 2 participants
of 2 slots: pytest alone stops at the third failure. Distributed, each slot
stops after its test in progress, or the one it started as the stop was on
its way: at most 3 - 1 + 2 x 4 fail. (A batch, about 2 s of tests, used to
run to its end past the stop.)
"""
import json

from runs import Runs, run_test, same_reports, phase, pytest_suite, PYTHON, TestFailure

TESTS = 40


def session(cluster, name, text, slots, pytest_args):
    """Two participants run test_m.py (text) under pytest with pytest_args;
    both exit 1 with the same report. Returns its tests."""
    suite = pytest_suite(cluster, name, {"test_m.py": text})
    runs = Runs(cluster, name)
    ps = runs.start(2, ["--expect", "2", "--slots", str(slots), "--", PYTHON, "-m", "pytest"] +
                    pytest_args, cwd=suite)
    codes = runs.wait_all(120)
    if codes != [1, 1]:
        runs.dump()
        raise TestFailure("%s: exit statuses %s, want [1, 1]" % (pytest_args, codes))
    same_reports(ps)
    with open(ps[0].json) as f:
        return json.load(f)["tests"]


def main(cluster):
    tests = session(cluster, "maxfail",
                    "import time, pytest\n"
                    "def test_a_fails():\n    assert 1 == 2\n"
                    "@pytest.mark.parametrize('i', range(%d))\n"
                    "def test_b(i):\n    time.sleep(0.2)\n" % (TESTS - 1), 1, ["-x"])
    by = {}
    for t in tests:
        by.setdefault(t["outcome"], []).append(t)
    if len(tests) != TESTS or [t["id"] for t in by.get("failed", [])] != ["test_m.py::test_a_fails"]:
        raise TestFailure("want %d tests, the one failure: %s" % (TESTS, {k: len(v) for k, v in
                                                                          by.items()}))
    not_run = by.get("not-run", [])
    if len(not_run) < TESTS // 2:
        raise TestFailure("only %d tests not run after -x: %s" % (len(not_run),
                                                                  {k: len(v) for k, v in by.items()}))
    passed = by.get("passed", [])
    if len(passed) > 2 * 2:
        raise TestFailure("%d tests passed after -x on 2 slots: batches ran on past the stop"
                          % len(passed))
    if any(t["message"] != "stopping after 1 failures" for t in not_run):
        raise TestFailure("a test not run does not say why: %s" % not_run[0])
    phase("-x stopped the session: 1 failed, %d passed, %d not run"
          % (len(by.get("passed", [])), len(not_run)))

    tests = session(cluster, "maxfail3",
                    "import time, pytest\n"
                    "@pytest.mark.parametrize('i', range(%d))\n"
                    "def test_fails(i):\n    time.sleep(0.5)\n    assert False\n" % TESTS,
                    2, ["--maxfail", "3"])
    failed = [t for t in tests if t["outcome"] == "failed"]
    if len(tests) != TESTS or not 3 <= len(failed) <= 3 - 1 + 2 * 4:
        raise TestFailure("--maxfail 3 on 4 slots: %d of %d tests failed, want 3 to 10"
                          % (len(failed), len(tests)))
    phase("--maxfail 3 on 4 slots: %d failed, the rest not run" % len(failed))


run_test(main)
