"""Two participants x 1 slot run a CTest suite as one session and report,
test by test, what ctest alone reports.

The suite has what ctest users meet: a failure, SKIP_RETURN_CODE, a test
that segfaults (ctest survives it: a failed test), ctest's own TIMEOUT, a
missing executable (ctest's "Not Run": an error), a DISABLED test, a name
full of regex and shell characters, one name in two directories (ids
sub1::dup and sub2::dup; -I runs each alone), and a fixture whose setup must
run in the same ctest process as the test that requires it (ctest pulls it
into the batch). The user's filters hold: `-E` leaves tests out of the
middle of the list (ctest's -I numbers then count only what the filters
leave, so batches run without them), and a second session selects with `-L`
only the test that requires the fixture, which still gets its setup and
cleanup as with ctest alone. Checks: exit 1 on both, identical reports,
every id's outcome equal to plain ctest's, both participants ran tests, and
the notices for -j and RUN_SERIAL.
"""
import os

from runs import Runs, run_test, same_reports, phase, TestFailure
from ctest_suite import write_suite, plain_outcomes, shoal_tests, MISSING

ODD = "odd $name \\ 'q' \"dq\" +(x)[y].*|^"

EXPECTED = {
    "passes": "passed", "fails": "failed", "skips": "skipped", "segfaults": "failed",
    "times out": "failed", "no binary": "error", "off": "skipped", ODD: "passed",
    "db setup": "passed", "needs db": "passed", "db cleanup": "passed",
    "sub1::dup": "passed", "sub2::dup": "failed",
}


FILTER = ["-E", "^t0[5-9]$"]


def compare(plain, got, runs):
    mismatches = {k: (plain.get(k), got.get(k, {}).get("outcome"))
                  for k in set(plain) | set(got)
                  if plain.get(k) != got.get(k, {}).get("outcome")}
    if mismatches:
        runs.dump()
        raise TestFailure("outcomes differ from ctest alone (ctest, shoal): %s" % mismatches)


def main(cluster):
    top = [("passes", "exit 0", {"RUN_SERIAL": "TRUE"}),
           ("fails", "echo boom; exit 1", {}),
           ("skips", "exit 77", {"SKIP_RETURN_CODE": "77"}),
           ("segfaults", "kill -SEGV $$", {}),
           ("times out", "sleep 30", {"TIMEOUT": "1"}),
           ("no binary", MISSING, {}),
           ("off", "exit 0", {"DISABLED": "TRUE"}),
           (ODD, "exit 0", {}),
           # $PPID is the ctest that runs the test: the file proves the
           # setup ran in the same ctest process as the test needing it
           ("db setup", "touch db.$PPID", {"FIXTURES_SETUP": "db"}),
           ("needs db", "test -f db.$PPID", {"FIXTURES_REQUIRED": "db", "LABELS": "db"}),
           ("db cleanup", "rm -f db.$PPID", {"FIXTURES_CLEANUP": "db"})]
    top[3:3] = [("t%02d" % i, "exit 0", {}) for i in range(10)]  # -E leaves out t05..t09
    suite = write_suite(os.path.join(cluster.tmpdir, "build"), {
        ".": top, "sub1": [("dup", "exit 0", {})], "sub2": [("dup", "echo two; exit 1", {})]})
    plain = plain_outcomes(suite, os.path.join(cluster.tmpdir, "plain.xml"), FILTER)
    wrong = {k: (plain.get(k), v) for k, v in EXPECTED.items() if plain.get(k) != v}
    if wrong or len(plain) != len(top) + 2 - 5:
        raise TestFailure("ctest alone: %d tests, unexpected (got, want): %s" % (len(plain), wrong))
    phase("ctest alone: %d tests, the outcomes the suite was written for" % len(plain))

    runs = Runs(cluster, "ctest2")
    ps = runs.start(2, ["--expect", "2", "--slots", "1", "--", "ctest", "-j", "2"] + FILTER,
                    cwd=suite)
    codes = runs.wait_all(120)
    if codes != [1, 1]:
        runs.dump()
        raise TestFailure("exit statuses %s, want [1, 1]" % codes)
    cases = same_reports(ps)
    got = shoal_tests(ps[0])
    compare(plain, got, runs)
    phase("%d tests, each with ctest's own outcome; identical reports" % len(got))
    dup2 = [c for (classname, name), (_, _, c) in cases.items()
            if "sub2::dup" in (name, "%s::%s" % (classname, name))]
    output = "".join(dup2[0].find("failure").itertext()) if dup2 else ""
    if "Timeout" not in got["times out"]["message"] or "two" not in output:
        raise TestFailure("a failure lacks ctest's words or output: %s, %r"
                          % (got["times out"], output))
    hosts = {h for (_, h, _) in cases.values()}
    if len(hosts) != 2:
        raise TestFailure("tests ran on %s, want both participants" % hosts)
    err = ps[0].stderr() + ps[1].stderr()
    if "ctest -j is not used" not in err or "RUN_SERIAL" not in err:
        raise TestFailure("no notice for -j and RUN_SERIAL:\n%s" % err[-2000:])
    phase("both participants ran tests; -j and RUN_SERIAL are noticed")

    plain = plain_outcomes(suite, os.path.join(cluster.tmpdir, "plain-db.xml"), ["-L", "db"])
    runs = Runs(cluster, "ctestdb")
    p = runs.start(1, ["--slots", "2", "--", "ctest", "-L", "db"], cwd=suite)[0]
    if runs.wait_all(60) != [0]:
        runs.dump()
        raise TestFailure("-L db: exit status %s, want 0" % p.code)
    got = shoal_tests(p)
    compare(plain, got, runs)
    if sorted(got) != ["db cleanup", "db setup", "needs db"]:
        raise TestFailure("-L db ran %s" % sorted(got))
    phase("-L db: the fixture's setup and cleanup, outside the label, ran as with ctest alone")


run_test(main)
