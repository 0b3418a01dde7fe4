"""Two jobs of one session whose test lists differ do not both pass alone.

Two participants, --expect 2, the same session, lists that differ by one
duration: each ignores the other (another runner) and runs its own list
alone. Before, both exited 0 with a clean report, which a CI job reads as
the whole session passing. Now both exit 3 and say the other took part with
another command or test list.
"""
import os

from runs import Runs, run_test, phase, list_file, TestFailure


def main(cluster):
    one = list_file(os.path.join(cluster.tmpdir, "one.list"), [("a", "sleep 0.1"), ("b", "true")])
    two = list_file(os.path.join(cluster.tmpdir, "two.list"), [("a", "sleep 0.2"), ("b", "true")])
    runs = Runs(cluster, "differ")
    p = runs.participant().start(["--expect", "2", "--wait", "3", "--list", one])
    q = runs.participant().start(["--expect", "2", "--wait", "3", "--list", two])
    codes = runs.wait_all(60, [p, q])
    if codes != [3, 3]:
        runs.dump()
        raise TestFailure("exit statuses %s, want [3, 3]" % codes)
    for r in (p, q):
        if "another command or test list" not in r.stdout() + r.stderr():
            runs.dump()
            raise TestFailure("%s does not say the other ran another test list" % r.name)
    phase("both jobs exited 3, each naming the other's different test list")


run_test(main)
