"""Admission checks the tests, not only the command (issue: two runners whose
checkouts differ).

Two participants run the same command in different checkouts: b is a commit
ahead, with a new failing test and a deleted file. Their collections differ,
so the leader refuses the other one: it exits 3 saying it was not admitted
and naming the tests that differ, and the leader's session runs exactly its own collection, on itself, and its
summary names the participant it left out. Before, both were admitted and
the new failing test was never run or reported (a false pass).
"""
import json

from runs import Runs, run_test, phase, pytest_suite, PYTHON, TestFailure


def main(cluster):
    common = {"test_a.py": "def test_a1():\n    pass\n\ndef test_a2():\n    pass\n"}
    a = pytest_suite(cluster, "a", dict(common, **{"test_old.py": "def test_old():\n    pass\n"}))
    b = pytest_suite(cluster, "b", dict(common, **{
        "test_new.py": "def test_new():\n    assert 1 == 2\n"}))
    want = {a: {"test_a.py::test_a1", "test_a.py::test_a2", "test_old.py::test_old"},
            b: {"test_a.py::test_a1", "test_a.py::test_a2", "test_new.py::test_new"}}
    runs = Runs(cluster, "differs")
    pa = runs.participant("pa").start(["--expect", "2", "--slots", "1", "--", PYTHON, "-m",
                                       "pytest"], cwd=a)
    pb = runs.participant("pb").start(["--expect", "2", "--slots", "1", "--", PYTHON, "-m",
                                       "pytest"], cwd=b)
    codes = runs.wait_all(120)
    refused = [p for p, c in zip((pa, pb), codes) if c == 3]
    if len(refused) != 1:
        runs.dump()
        raise TestFailure("exit statuses %s: want exactly one participant refused (3)" % codes)
    refused = refused[0]
    leader = pb if refused is pa else pa
    home = b if leader is pb else a
    if "not admitted" not in refused.stderr():
        runs.dump()
        raise TestFailure("the refused participant does not say it was not admitted")
    for test in want[home] ^ want[a if home == b else b]:
        if test not in refused.stderr():
            runs.dump()
            raise TestFailure("the refused participant does not name %s, which differs" % test)
    with open(leader.json) as f:
        report = json.load(f)
    ids = {t["id"] for t in report["tests"]}
    if ids != want[home]:
        raise TestFailure("the leader reported %s, want its own collection %s"
                          % (sorted(ids), sorted(want[home])))
    if {t["node"] for t in report["tests"]} != {leader.name}:
        raise TestFailure("tests ran on %s" % {t["node"] for t in report["tests"]})
    want_code = 1 if home == b else 0
    if leader.code != want_code:
        raise TestFailure("the leader exited %d, want %d" % (leader.code, want_code))
    if "not admitted: %s" % refused.name not in leader.stdout():
        runs.dump()
        raise TestFailure("the summary does not name the participant left out")
    phase("%s was refused (its collection differs); %s ran its own %d tests"
          % (refused.name, leader.name, len(ids)))


run_test(main)
