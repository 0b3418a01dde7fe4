"""--retries with --time-limit: a failure whose retry cannot start stays a failure.

Proves: a test that fails after the budget is spent (so its retry may not
start) is reported failed, not skipped, in JUnit, JSON and the closing line,
with a message that names the time limit; it ran once; the run exits 1. A
test that never started is still skipped.
"""
import json
import os
import re

from runs import Runs, run_test, phase, list_file, MARK, PYTHON, TestFailure
import marks


def main(cluster):
    log = os.path.join(cluster.tmpdir, "marks.log")
    # One slot, 1 s of budget: "broken" fails at 1.5 s, so neither its retry
    # nor whatever waits behind it may start.
    tests = [("broken", "%s %s %s broken 1.5 fail" % (PYTHON, MARK, log)),
             ("behind", "%s %s %s behind 0.1" % (PYTHON, MARK, log))]
    suite = list_file(os.path.join(cluster.tmpdir, "suite.list"), tests)
    runs = Runs(cluster, "retry-budget")
    (p,) = runs.start(1, ["--slots", "1", "--retries", "2", "--time-limit", "1",
                          "--list", suite])
    code = p.wait(60)
    if code != 1:
        runs.dump()
        raise TestFailure("exit status %d, want 1: the failure was turned into a pass" % code)
    phase("exit status 1")
    cases = {name: (o, el) for (_, name), (o, _, el) in p.junit_cases().items()}
    outcome, el = cases["broken"]
    if outcome != "failure":
        raise TestFailure("broken reported %s in JUnit, want failure" % outcome)
    message = el.find("failure").get("message", "")
    if "exit status 1" not in message or "time limit" not in message:
        raise TestFailure("failure message %r should keep the failure and name the time limit"
                          % message)
    with open(p.json) as f:
        by_id = {t["id"]: t for t in json.load(f)["tests"]}
    if by_id["broken"]["outcome"] != "failed" or by_id["broken"]["attempts"] != 1:
        raise TestFailure("JSON says %s" % by_id["broken"])
    ran = marks.runs_of(log)
    if len(ran.get("broken", [])) != 1:
        raise TestFailure("broken ran %d times, want once" % len(ran.get("broken", [])))
    if "behind" in cases and cases["behind"][0] not in ("skipped", "passed"):
        raise TestFailure("behind reported %s" % cases["behind"][0])
    phase("broken is failed (%r) in JUnit and JSON after one attempt" % message)
    last = p.stdout().strip().splitlines()[-1]
    if not re.fullmatch(r"\d+ passed, 1 failed, \d+ skipped", last):
        raise TestFailure("closing line %r does not count the failure" % last)
    phase("closing line %r" % last)


run_test(main)
