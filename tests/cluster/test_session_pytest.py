"""Two participants run the sample pytest suite as one session.

Proves the pytest adapter end to end, in both of its ways of running: p1
runs its batches in pytest workers (one per slot, collecting once), p2 with
--process-per-batch in a fresh pytest process per batch whose outcomes come
from pytest's own JUnit report. The leader collects once; the test that kills
its own process is reported as an error while the rest of its batch still
runs; both participants write the same JUnit file and exit 1.

Then a test whose id is longer than the network carries (a parametrized
3000-character string: pytest puts the value in the id) runs in both ways
and is reported once, under a shortened id (it used to hang the session);
so do ids with a NUL or a lone surrogate, which the worker protocol used to
turn into other tests' ids (a hang) or into ids pytest did not know (errors).
"""
import json
import os

from runs import Runs, run_test, same_reports, phase, pytest_suite, SAMPLES, PYTHON, TestFailure


def session(cluster, name, suite, want):
    """p1 in workers, p2 a process per batch, on suite; both exit `want` with
    the same reports. Returns the participants."""
    runs = Runs(cluster, name)
    ps = runs.start(2, ["--expect", "2", "--slots", "1", "--", PYTHON, "-m", "pytest"],
                    cwd=suite, per_participant={1: ["--process-per-batch"]})
    codes = runs.wait_all(180)
    if codes != [want, want]:
        runs.dump()
        raise TestFailure("%s: exit statuses %s, want [%d, %d]" % (name, codes, want, want))
    return ps


def main(cluster):
    ps = session(cluster, "pytest2", os.path.join(SAMPLES, "pytest"), 1)
    cases = same_reports(ps)
    outcomes = {}
    for (classname, name), (o, host, _) in cases.items():
        outcomes.setdefault(o, []).append("%s.%s" % (classname, name))
    if len(cases) != 39:
        raise TestFailure("%d testcases, want 39" % len(cases))
    crash = [n for n in outcomes.get("error", []) if "crash" in n]
    if not crash:
        raise TestFailure("the crashing test is not reported as an error: %s" % outcomes)
    if len(outcomes.get("failure", [])) != 2 or len(outcomes.get("skipped", [])) != 1:
        raise TestFailure("want 2 failures and 1 skip: %s" % {k: len(v) for k, v in outcomes.items()})
    if len(outcomes.get("passed", [])) != 39 - 2 - 1 - len(outcomes.get("error", [])):
        raise TestFailure("passed count off: %s" % {k: len(v) for k, v in outcomes.items()})
    hosts = {host for (_, host, _) in cases.values()}
    if len(hosts) != 2:
        raise TestFailure("tests ran on %s, want both participants" % hosts)
    phase("39 tests once each; the crash is an error; both members ran tests; same JUnit")

    suite = pytest_suite(cluster, "longids", {
        "test_l.py": "import pytest\n"
                     "@pytest.mark.parametrize('s', ['x' * 3000, 'y' * 3000, 'short'])\n"
                     "def test_l(s):\n    assert s\n"
                     "def test_other():\n    pass\n",
        # Ids pytest leaves raw with this option: a NUL, a backslash and a
        # '0', a lone surrogate and its spelling must stay six tests.
        "pytest.ini": "[pytest]\ndisable_test_id_escaping_and_forfeit_all_rights_to_community"
                      "_support = true\n",
        "test_n.py": "import pytest\n"
                     "@pytest.mark.parametrize('s', ['a\\x00', 'a\\\\0', 'ok', 'surr\\udcff',"
                     " 'b\\udcff', 'budcff'])\n"
                     "def test_k(s):\n    pass\n"})
    ps = session(cluster, "longids", suite, 0)
    same_reports(ps)
    with open(ps[0].json) as f:
        tests = json.load(f)["tests"]
    longs = [t for t in tests if len(t["id"]) > 1000]
    if len(tests) != 10 or len(longs) != 2 or any(t["outcome"] != "passed" for t in tests):
        raise TestFailure("long ids: %s" % [(t["id"][:40], len(t["id"]), t["outcome"])
                                            for t in tests])
    phase("two 3000-character ids ran and passed once each, reported shortened; ids with a NUL"
          " or a lone surrogate stayed apart and ran")


run_test(main)
