"""History changes the next session's order: recent failures first, then the
longest first.

Proves: after a first session records its results, the leader of the next
session (same project, same history database) puts the test that failed at
the head of the plan and orders the rest by the durations it measured, where
the first plan had nothing to go on. Also `shoal history import` seeds the
history from a JUnit file.
"""
import os
import subprocess

from runs import Runs, run_test, phase, list_file, MARK, PYTHON, TestFailure


def plan_order(p):
    """The test names of a --dry-run plan, in order."""
    lines = [l.split()[-1] for l in p.stdout().splitlines() if l.startswith("  ") and "s  " in l]
    return [l for l in lines if l.startswith("t")]


def main(cluster):
    log = os.path.join(cluster.tmpdir, "marks.log")
    durations = [0.05, 0.4, 0.1, 0.6, 0.02, 0.3]
    tests = [("t%d" % i, "%s %s %s t%d %s" % (PYTHON, MARK, log, i, d))
             for i, d in enumerate(durations)]
    tests.append(("t9", "%s %s %s t9 0.01 fail" % (PYTHON, MARK, log)))
    suite = list_file(os.path.join(cluster.tmpdir, "suite.list"), tests)
    runs = Runs(cluster, "history")
    first = runs.participant("p1")
    first.start(["--slots", "1", "--project", "demo", "--list", suite])
    if first.wait(60) != 1:
        runs.dump()
        raise TestFailure("first run: exit %s, want 1" % first.code)
    phase("first session ran and recorded its results")
    dry = runs.participant("p2")
    dry.db = first.db
    dry.start(["--slots", "1", "--project", "demo", "--dry-run", "--list", suite])
    if dry.wait(60) != 0:
        runs.dump()
        raise TestFailure("dry run: exit %s, want 0" % dry.code)
    order = plan_order(dry)
    want = ["t9", "t3", "t1", "t5", "t2", "t0", "t4"]
    if order != want:
        raise TestFailure("second plan %s, want %s (failed first, then longest)" % (order, want))
    phase("the second plan puts the failure first, then longest first: %s" % order)

    junit = os.path.join(cluster.tmpdir, "old.xml")
    with open(junit, "w") as f:
        f.write('<testsuite name="x"><testcase classname="x" name="t4" time="9.5"/>'
                '<testcase classname="x" name="t2" time="0.01"/></testsuite>')
    db = os.path.join(cluster.tmpdir, "imported.db")
    out = subprocess.run([cluster.shoal, "history", "import", "--project", "demo", "--db", db,
                          junit], capture_output=True, text=True)
    if out.returncode != 0:
        raise TestFailure("history import failed: %s" % out.stderr)
    imported = runs.participant("p3")
    imported.db = db
    imported.start(["--slots", "1", "--project", "demo", "--dry-run", "--list", suite])
    imported.wait(60)
    order = plan_order(imported)
    if order[:1] != ["t4"] or order[-1:] != ["t2"]:
        raise TestFailure("after importing t4=9.5s and t2=0.01s, plan %s should start with t4 "
                          "and end with t2 (unknown tests get the median)" % order)
    phase("history imported from JUnit orders the plan")


run_test(main)
