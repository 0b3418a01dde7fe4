"""A session handed to a `shoal node` may last longer than the client's
silence limit (20 s without an answer means the node is gone).

Proves: a client whose node answers every poll keeps following its session
however long it runs (it used to give up after 20 s of answers that carried
no new event, exit 3 and have its session abandoned): a session with a
22 s test ends with exit 0 and every test in the client's report.
"""
from harness import TestFailure, phase
from runs import Client, list_file, run_test
import os


def main(cluster):
    node = cluster.start(1, extra=["--slots", "2"])[0]
    suite = list_file(os.path.join(cluster.tmpdir, "long.list"),
                      [("long", "sleep 22"), ("quick1", "true"), ("quick2", "true")])
    client = Client(cluster, "long", node, "long").start(["--list", suite])
    code = client.wait(90)
    if code != 0:
        raise TestFailure("the client exited %s, want 0; stderr: %s"
                          % (code, client.stderr()[-500:]))
    cases = client.junit_cases()
    if len(cases) != 3 or any(o != "passed" for (o, _, _) in cases.values()):
        raise TestFailure("want 3 passed testcases, got %s" % cases)
    phase("a 22 s session through the node ended with exit 0 and its 3 results")


run_test(main)
