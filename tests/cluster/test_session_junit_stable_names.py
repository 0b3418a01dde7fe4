"""JUnit names of list tests are the same in every run, whatever the session.

Proves: two sessions (different session ids, one with two participants) of
the same list write JUnit reports whose testsuite name and testcase
classname/name pairs are identical from run to run, the classname being the
list file's name without its extension; so CI keeps each test's history.
"""
import xml.etree.ElementTree as ET

from runs import Runs, run_test, phase, same_reports, marked_suite, TestFailure


def names(junit):
    tree = ET.parse(junit)
    suites = sorted({s.get("name") for s in tree.iter("testsuite")})
    cases = sorted((c.get("classname"), c.get("name")) for c in tree.iter("testcase"))
    return suites, cases


def main(cluster):
    suite, _, ids = marked_suite(cluster, 4, 0.05)  # .../suite.list
    seen = []
    for session, count in (("build-1041", 1), ("build-1042", 2)):
        runs = Runs(cluster, session)
        ps = runs.start(count, ["--expect", str(count), "--slots", "1", "--list", suite])
        codes = runs.wait_all(60)
        if codes != [0] * count:
            runs.dump()
            raise TestFailure("session %s exited %s" % (session, codes))
        same_reports(ps)
        seen.append(names(ps[0].junit))
    if seen[0] != seen[1]:
        raise TestFailure("the two runs name their tests differently:\n%s\n%s" % tuple(seen))
    suites, cases = seen[0]
    want = [("suite", i) for i in sorted(ids)]
    if suites != ["suite"] or cases != want:
        raise TestFailure("testsuite %s, testcases %s; want suite 'suite' and %s"
                          % (suites, cases, want))
    if any("build-" in c for c, _ in cases):
        raise TestFailure("a classname carries the session id: %s" % cases)
    phase("both sessions name the suite 'suite' and each test ('suite', name)")


run_test(main)
