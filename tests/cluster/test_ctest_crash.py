"""When ctest itself dies, hangs, or leaves a test out, the ctest driver
blames only the test concerned; every other test of the batch still gets
its real outcome.

Session 1 (one participant, one slot, so the tests share batches): a test
that SIGKILLs the ctest running it (the test it was running is an error
naming the signal; the rest of the batch is dealt again), and a test that
hangs past shoal's --test-timeout (the worker's process group is killed: an
error, and the sleeping process is gone too). Session 2: a test that is in
ctest's listing but no longer in its test files when the batch runs (ctest
reports nothing for it: an error saying so, never a pass).
"""
import os
import subprocess

from runs import Runs, run_test, phase, TestFailure
from ctest_suite import write_suite, shoal_tests
import harness


def outcomes(participant):
    return {k: t["outcome"] for k, t in shoal_tests(participant).items()}


def crash_and_hang(cluster):
    marker = "sleep 7%05d" % (os.getpid() % 100000)  # a hang no other process has
    suite = write_suite(os.path.join(cluster.tmpdir, "crash"), {".": [
        ("a passes", "exit 0", {}),
        ("kills ctest", "kill -KILL $PPID", {}),
        ("b fails", "exit 1", {}),
        ("hangs", marker, {}),
        ("c passes", "exit 0", {}),
        ("d skips", "exit 77", {"SKIP_RETURN_CODE": "77"})]})
    runs = Runs(cluster, "ctestcrash")
    p = runs.start(1, ["--slots", "1", "--test-timeout", "%g" % harness.scaled(3), "--",
                       "ctest"], cwd=suite)[0]
    if runs.wait_all(120) != [1]:
        runs.dump()
        raise TestFailure("exit status %s, want 1" % p.code)
    got = outcomes(p)
    want = {"a passes": "passed", "kills ctest": "error", "b fails": "failed", "hangs": "error",
            "c passes": "passed", "d skips": "skipped"}
    if got != want:
        runs.dump()
        raise TestFailure("outcomes %s, want %s" % (got, want))
    killed = shoal_tests(p)["kills ctest"]["message"]
    if "signal 9" not in killed:
        raise TestFailure("the test that killed ctest does not say so: %r" % killed)
    left = subprocess.run(["pgrep", "-f", marker], stdout=subprocess.PIPE, text=True).stdout
    if left.strip():
        raise TestFailure("the hung test's process outlived its timeout: %s" % left)
    phase("ctest killed mid-batch and a hang: those two are errors, the rest ctest's outcomes")


def vanishing(cluster):
    root = os.path.join(cluster.tmpdir, "vanish")
    count = os.path.join(root, "evaluations")
    # ctest reads its test files for each listing and each run: the test is
    # there for the two listings, gone when the batch runs (last, so the
    # numbers of the others stay)
    tail = ('file(APPEND "%s" "x")\nfile(READ "%s" seen)\nstring(LENGTH "${seen}" n)\n'
            'if(n LESS 3)\n  add_test([==[vanishes]==] "sh" "-c" "exit 0")\nendif()'
            % (count, count))
    suite = write_suite(root, {".": [("stays", "exit 0", {})]}, tail=tail)
    runs = Runs(cluster, "ctestgone")
    p = runs.start(1, ["--slots", "1", "--", "ctest"], cwd=suite)[0]
    if runs.wait_all(60) != [1]:
        runs.dump()
        raise TestFailure("exit status %s, want 1" % p.code)
    got = shoal_tests(p)
    if {k: t["outcome"] for k, t in got.items()} != {"stays": "passed", "vanishes": "error"}:
        raise TestFailure("outcomes %s" % got)
    if "no result" not in got["vanishes"]["message"]:
        raise TestFailure("the missing test does not say why: %s" % got["vanishes"])
    phase("a test ctest did not report is an error saying so; the other passed")


def main(cluster):
    crash_and_hang(cluster)
    vanishing(cluster)


run_test(main)
