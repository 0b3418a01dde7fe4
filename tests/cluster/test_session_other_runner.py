"""A participant with a different runner cannot take part (I3).

Proves: a runner whose test list differs (here: one extra command) but that
names the same session is not admitted: the two honest participants never
send it work and never run its command; their report lists only their own
tests and only themselves as hosts.
"""
import os

from runs import Runs, run_test, same_reports, phase, list_file, TestFailure


def main(cluster):
    # Long enough (about 1 s) that the intruder, started just after, is
    # seen while the session runs: with `true` it could end first.
    honest = [("a%d" % i, "sleep 0.2") for i in range(10)]
    suite = list_file(os.path.join(cluster.tmpdir, "suite.list"), honest)
    canary = os.path.join(cluster.tmpdir, "canary")
    evil = list_file(os.path.join(cluster.tmpdir, "evil.list"),
                     honest + [("evil", "touch %s" % canary)])
    runs = Runs(cluster, "otherrunner")
    ps = runs.start(2, ["--expect", "2", "--slots", "1", "--list", suite])
    intruder = runs.participant("intruder").start(["--slots", "1", "--wait", "1", "--list", evil])
    codes = runs.wait_all(60, ps)
    intruder.wait(60)
    if codes != [0, 0]:
        runs.dump()
        raise TestFailure("honest participants exited %s, want [0, 0]" % codes)
    cases = same_reports(ps)
    names = {name for (_, name) in cases}
    hosts = {host for (_, host, _) in cases.values()}
    if names != {t[0] for t in honest} or "intruder" in hosts:
        raise TestFailure("report has %s on %s" % (sorted(names), hosts))
    if "different runner" not in ps[0].stderr() + ps[1].stderr():
        raise TestFailure("no participant said it ignored the intruder")
    phase("the intruder was ignored; the session ran only its own tests, on its own members")


run_test(main)
