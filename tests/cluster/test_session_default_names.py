"""Runners on one port of different addresses meet without --name (issue:
two runners of the same host name and port each took the same default name,
so each thought the other was itself and ran alone).

Two `shoal run` on 127.x.y.1 and 127.x.y.2, the same port, no --name, as
the README's CI recipe has every job use 7411: both are admitted, the tests
run on both, and both print the same summary.
"""
import json
import os
import subprocess

import harness
from runs import run_test, phase, list_file, TestFailure


def main(cluster):
    a, b = cluster.ip(), cluster.ip()
    port = harness.free_port(a)
    suite = list_file(os.path.join(cluster.tmpdir, "suite.list"),
                      [("t%02d" % i, "sleep 0.2") for i in range(20)])
    procs, reports = [], []
    for ip in (a, b):
        report = os.path.join(cluster.tmpdir, "%s.json" % ip)
        reports.append(report)
        argv = [cluster.shoal, "run", "--session", "names", "--bind", "%s:%d" % (ip, port),
                "--join", "%s:%d" % (a, port), "--expect", "2", "--slots", "1",
                "--no-history", "--control", "ipc://%s/%s.ctl" % (cluster.tmpdir, ip),
                "--json", report, "--list", suite]
        procs.append(subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                      env=dict(os.environ, SHOAL_KEY=cluster.key),
                                      preexec_fn=harness.pdeathsig, text=True))
    cluster.started.extend(procs)
    for p in procs:
        try:
            p.wait(timeout=harness.scaled(60))
        except subprocess.TimeoutExpired:
            raise TestFailure("a runner did not finish: they did not meet")
    if [p.returncode for p in procs] != [0, 0]:
        raise TestFailure("exit statuses %s: %s" % ([p.returncode for p in procs],
                                                    [p.stderr.read()[-500:] for p in procs]))
    nodes = []
    for report in reports:
        with open(report) as f:
            nodes.append({t["node"] for t in json.load(f)["tests"]})
    if nodes[0] != nodes[1] or len(nodes[0]) != 2:
        raise TestFailure("tests ran on %s; want the two runners, seen alike by both" % nodes)
    phase("both runners met under their default names %s" % sorted(nodes[0]))


run_test(main)
