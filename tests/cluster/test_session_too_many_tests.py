"""A suite over the session's test cap is refused, not stalled.

Proves: a list of 1,000,001 tests (one over SHOAL_SESSION_TESTS_MAX, which
the session protocol's caps follow from) ends at once with exit status 3 and
a message naming the cap; a list of exactly 1,000,000 is planned (dry run).
Listing a suite that large takes seconds, not minutes: duplicate names are
found through a hash, not by comparing every pair.
"""
import os

from runs import Runs, run_test, phase, list_file, TestFailure


def main(cluster):
    names = [("t%d" % i, "true") for i in range(1000001)]
    over = list_file(os.path.join(cluster.tmpdir, "over.list"), names)
    at = list_file(os.path.join(cluster.tmpdir, "at.list"), names[:-1])
    runs = Runs(cluster, "toomany")
    (p,) = runs.start(1, ["--list", over])
    if p.wait(120) != 3 or "a session runs at most 1000000" not in p.stderr():
        runs.dump()
        raise TestFailure("over the cap: exit %s, want 3 with the cap named" % p.code)
    phase("1,000,001 tests: exit 3, the cap named")
    q = runs.participant("q").start(["--dry-run", "--list", at])
    if q.wait(120) != 0 or "planning 1000000 tests" not in q.stderr():
        runs.dump()
        raise TestFailure("at the cap: exit %s, want a plan of 1000000 tests" % q.code)
    phase("1,000,000 tests: planned")


run_test(main)
