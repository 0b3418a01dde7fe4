"""Bad runner commands: clear errors, nothing lost.

Proves: a list test whose program does not exist is reported as an error
with a clear message while the rest of the session runs normally; an
unknown framework command is refused up front with exit status 2.
"""
import os

from runs import Runs, run_test, phase, list_file, TestFailure


def main(cluster):
    suite = list_file(os.path.join(cluster.tmpdir, "suite.list"),
                      [("missing", "/nonexistent/runner --flag"), ("fine", "true"),
                       ("also-fine", "true")])
    runs = Runs(cluster, "badrunner")
    (p,) = runs.start(1, ["--list", suite])
    code = p.wait(60)
    if code != 1:
        runs.dump()
        raise TestFailure("exit status %d, want 1" % code)
    cases = {name: (o, el) for (_, name), (o, _, el) in p.junit_cases().items()}
    outcome, el = cases["missing"]
    message = (el.find("error").get("message", "") if el.find("error") is not None else "")
    if outcome != "error" or "/nonexistent/runner" not in message:
        raise TestFailure("missing runner: %s %r" % (outcome, message))
    if cases["fine"][0] != "passed" or cases["also-fine"][0] != "passed":
        raise TestFailure("the other tests did not pass: %s" % cases)
    phase("a missing program is an error result naming it; the rest passed")
    q = runs.participant("q").start(["--", "definitely-not-a-test-runner", "x"])
    if q.wait(30) != 2 or "no adapter" not in q.stderr():
        raise TestFailure("unknown runner: exit %s, stderr %r" % (q.code, q.stderr()[-300:]))
    phase("an unknown runner command is refused with exit 2")


run_test(main)
