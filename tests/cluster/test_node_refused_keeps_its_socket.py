"""A run a node does not take leaves the node's control socket alone.

A `shoal node` runs session "dup" for one client. A second `shoal run` of the
same session id, pointed at the node's socket, is refused (the node takes
part in "dup" already) and runs on its own, as the README says. It used to
bind its own control socket at the node's path: an ipc:// bind takes the
path over, so the node answered nobody (no status, no hand-off) for good,
and the first client, unable to poll, exited 3. Now the refused run answers
at a path of its own; the node keeps answering and its client ends with 0.

The same with a node whose control socket is TCP (it takes no hand-off
there): a run given that --control says so, answers at a socket of its own
and runs (it used to exit 3 unable to bind, and then crashed retrying).
"""
import os
import subprocess

import harness
from harness import TestFailure, phase
from runs import Client, marked_suite, run_test, wait_finished


def main(cluster):
    node = cluster.start(1, extra=["--slots", "2"])[0]
    first_suite, _, _ = marked_suite(cluster, 12, 0.3, name="first")
    second_suite, _, _ = marked_suite(cluster, 3, 0.1, name="second")
    first = Client(cluster, "first", node, "dup").start(["--list", first_suite])
    wait_finished(first, 1)
    second = Client(cluster, "second", node, "dup").start(["--list", second_suite])
    code = second.wait(60)
    if code != 0 or "running on its own" not in second.stderr():
        raise TestFailure("the refused run exited %s; stderr: %s" % (code, second.stderr()[-400:]))
    phase("the second run was refused and ran on its own")
    status = harness.ask_control(cluster.shoal, node.control, "status", node.name)
    if not status or [s["session"] for s in status] != ["dup"]:
        raise TestFailure("the node's control socket answers %r, want session dup" % (status,))
    code = first.wait(60)
    if code != 0:
        raise TestFailure("the node's client exited %s; stderr: %s" % (code, first.stderr()[-400:]))
    phase("the node still answers at its socket, and its client ended with 0")

    ip = cluster.ip()
    tcp = "tcp://%s:%d" % (ip, harness.free_port(ip))
    env = dict(os.environ)
    env.pop("SHOAL_KEY", None)
    tcp_node = subprocess.Popen([cluster.shoal, "node", "--bind", "%s:0" % ip, "--control", tcp],
                                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, env=env, preexec_fn=harness.pdeathsig)
    cluster.started.append(tcp_node)
    harness.wait_for(lambda: (harness.ask_control(cluster.shoal, tcp, "members", "tcp") is not None,
                              "no answer"), 20, "the node to answer at %s" % tcp, cluster=cluster)
    run = subprocess.run([cluster.shoal, "run", "--control", tcp, "--no-history", "--list",
                          second_suite], stdin=subprocess.DEVNULL, capture_output=True, text=True,
                         env=env, cwd=cluster.tmpdir, timeout=harness.scaled(60))
    if run.returncode != 0 or "is taken" not in run.stderr:
        raise TestFailure("a run given a node's TCP control exited %d; stderr: %s"
                          % (run.returncode, run.stderr[-500:]))
    tcp_node.terminate()
    tcp_node.wait(timeout=harness.scaled(10))
    phase("a run given a node's TCP control said so, answered elsewhere and ran (exit 0)")


run_test(main)
