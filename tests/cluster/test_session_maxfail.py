"""pytest's -x stops the whole session on every participant (issue: with -x
every test still ran).

Two participants run 40 tests of 0.2 s with `pytest -x`; the first test
fails at once. The session stops as pytest-xdist stops: what was running
finishes, nothing more starts; both participants exit 1 with the same
report, which has the failure, and the tests that did not run reported as
not run, saying why.
"""
import json

from runs import Runs, run_test, same_reports, phase, pytest_suite, PYTHON, TestFailure

TESTS = 40


def main(cluster):
    suite = pytest_suite(cluster, "maxfail", {
        "test_m.py": "import time, pytest\n"
                     "def test_a_fails():\n    assert 1 == 2\n"
                     "@pytest.mark.parametrize('i', range(%d))\n"
                     "def test_b(i):\n    time.sleep(0.2)\n" % (TESTS - 1)})
    runs = Runs(cluster, "maxfail")
    ps = runs.start(2, ["--expect", "2", "--slots", "1", "--", PYTHON, "-m", "pytest", "-x"],
                    cwd=suite)
    codes = runs.wait_all(120)
    if codes != [1, 1]:
        runs.dump()
        raise TestFailure("exit statuses %s, want [1, 1]" % codes)
    same_reports(ps)
    with open(ps[0].json) as f:
        tests = json.load(f)["tests"]
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
    if any(t["message"] != "stopping after 1 failures" for t in not_run):
        raise TestFailure("a test not run does not say why: %s" % not_run[0])
    phase("-x stopped the session: 1 failed, %d passed, %d not run"
          % (len(by.get("passed", [])), len(not_run)))


run_test(main)
