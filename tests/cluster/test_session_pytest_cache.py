"""pytest's cache works as it does alone (issue: -p no:cacheprovider was
appended to every run, so --lf, --ff and the cache fixture did not work).

One participant with two slots runs 20 tests of which 2 fail, in two
workers. pytest's .pytest_cache then names exactly those 2 as last failed
(each worker learns the outcomes the other one ran), and a second run with
--lf runs only them.
"""
import json
import os

from runs import Runs, run_test, phase, pytest_suite, PYTHON, TestFailure

FAILING = {"test_c.py::test_c[3]", "test_c.py::test_c[16]"}


def main(cluster):
    suite = pytest_suite(cluster, "cached", {
        "test_c.py": "import pytest, time\n"
                     "@pytest.mark.parametrize('i', range(20))\n"
                     "def test_c(i):\n    time.sleep(0.05)\n    assert i not in (3, 16)\n"})
    first = Runs(cluster, "cache1").participant("c1").start(
        ["--slots", "2", "--no-history", "--", PYTHON, "-m", "pytest"], cwd=suite)
    if first.wait(120) != 1:
        raise TestFailure("the first run exited %s, want 1:\n%s" % (first.code, first.stderr()))
    with open(os.path.join(suite, ".pytest_cache", "v", "cache", "lastfailed")) as f:
        lastfailed = set(json.load(f))
    if lastfailed != FAILING:
        raise TestFailure("pytest's cache says %s failed, want %s" % (sorted(lastfailed),
                                                                       sorted(FAILING)))
    phase("pytest's cache names the 2 failures, whichever worker ran them")
    second = Runs(cluster, "cache2").participant("c2").start(
        ["--slots", "2", "--no-history", "--", PYTHON, "-m", "pytest", "--lf"], cwd=suite)
    if second.wait(120) != 1:
        raise TestFailure("the --lf run exited %s, want 1" % second.code)
    with open(second.json) as f:
        ran = {t["id"] for t in json.load(f)["tests"]}
    if ran != FAILING:
        raise TestFailure("--lf ran %s, want %s" % (sorted(ran), sorted(FAILING)))
    phase("--lf runs only the last failures")


run_test(main)
