"""Two participants run the sample pytest suite as one session.

Proves the pytest adapter end to end, in both of its ways of running: p1
runs its batches in pytest workers (one per slot, collecting once), p2 with
--process-per-batch in a fresh pytest process per batch whose outcomes come
from pytest's own JUnit report. The leader collects once; the test that kills
its own process is reported as an error while the rest of its batch still
runs; both participants write the same JUnit file and exit 1.
"""
import os

from runs import Runs, run_test, same_reports, phase, SAMPLES, PYTHON, TestFailure


def main(cluster):
    suite = os.path.join(SAMPLES, "pytest")
    runs = Runs(cluster, "pytest2")
    ps = runs.start(2, ["--expect", "2", "--slots", "1", "--", PYTHON, "-m", "pytest"],
                    cwd=suite, per_participant={1: ["--process-per-batch"]})
    codes = runs.wait_all(180)
    if codes != [1, 1]:
        runs.dump()
        raise TestFailure("exit statuses %s, want [1, 1]" % codes)
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


run_test(main)
