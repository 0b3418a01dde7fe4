"""Two machines, each a `shoal node`, and on each two `shoal run` clients of
two different sessions (a list of commands, and pytest in hot workers), all
started together.

Proves the hand-off: each machine is one mesh member whatever the number of
runs (`shoal members` lists the two nodes, and answers during the runs,
each node advertising both sessions with half its slots); `shoal status
--json` on a node lists both sessions while they run, and so does a plain
`shoal status --json` (no --control: the machine's node and runs); every test runs in its
client's directory and environment (tests pass only there, and one is a
command found only on the client's PATH); both sessions complete with both
machines taking part, and the two clients of a session write identical
reports.
"""
import json
import os
import stat
import subprocess

import harness
from harness import TestFailure, phase
from runs import Client, marked_suite, run_test, same_reports, PYTHON

SESSIONS = ("alpha", "beta")  # a list of commands; pytest
CHECK = ("import os, sys; sys.exit(0 if os.path.exists('client.marker') and "
         "os.environ.get('SHOAL_CLIENT_ONLY') == 'yes' else 1)")


def client_dir(cluster, name):
    """A client's directory: a marker only it has, and a bin/ with a
    command only its PATH finds."""
    root = os.path.join(cluster.tmpdir, name)
    os.makedirs(os.path.join(root, "bin"), exist_ok=True)
    open(os.path.join(root, "client.marker"), "w").close()
    probe = os.path.join(root, "bin", "shoal-client-probe")
    with open(probe, "w") as f:
        f.write("#!/bin/sh\nexit 0\n")
    os.chmod(probe, stat.S_IRWXU)
    return root


PYTEST_FILES = {
    "pytest.ini": "[pytest]\n",
    "test_here.py": (
        "import os, shutil, time\n"
        "import pytest\n\n"
        "@pytest.mark.parametrize('n', range(12))\n"
        "def test_sleep(n):\n"
        "    time.sleep(0.2)\n\n"
        "def test_in_client_cwd_and_env():\n"
        "    assert os.path.exists('client.marker')\n"
        "    assert os.environ.get('SHOAL_CLIENT_ONLY') == 'yes'\n"
        "    assert shutil.which('shoal-client-probe')\n"),
}


def pytest_suite(root):
    """The pytest suite, in a client's own directory: 13 tests."""
    for name, text in PYTEST_FILES.items():
        with open(os.path.join(root, name), "w") as f:
            f.write(text)
    return ["--", PYTHON, "-m", "pytest"], 13


def suite(cluster, session):
    """16 recorded tests of 0.3 s, and two that pass only in a client's
    directory and environment. Returns (its path, its test count)."""
    path, _, ids = marked_suite(cluster, 16, 0.3, name=session)
    with open(path, "a") as f:
        f.write('in_client_cwd_and_env\t%s -c "%s"\n' % (PYTHON, CHECK))
        f.write("on_client_path\tshoal-client-probe\n")
    return path, len(ids) + 2


def status(node):
    return harness.ask_control(node.cluster.shoal, node.control, "status", node.name)


def main(cluster):
    nodes = cluster.start(2, extra=["--slots", "2"])
    cluster.wait_converged(nodes)
    phase("two nodes of 2 slots see each other")
    listed, listed_count = suite(cluster, "alpha")
    counts = {"alpha": listed_count}
    clients, args = [], {}
    for node in nodes:
        for session in SESSIONS:
            name = "%s-on-%s" % (session, node.name)
            root = client_dir(cluster, name)
            env = {"SHOAL_CLIENT_ONLY": "yes",
                   "PATH": os.path.join(root, "bin") + ":" + os.environ.get("PATH", "")}
            c = Client(cluster, name, node, session, cwd=root, env=env)
            if session == "alpha":
                args[c] = ["--list", listed]
            else:
                args[c], counts["beta"] = pytest_suite(root)
            clients.append(c)
    for c in clients:
        c.start(["--expect", "2"] + args[c])

    def both_listed():
        found = status(nodes[0])
        names = sorted(s["session"] for s in found or [])
        return names == sorted(SESSIONS), found
    harness.wait_for(both_listed, 30, "node %s to list both sessions" % nodes[0].name,
                     cluster=cluster)
    phase("shoal status --json on %s lists both sessions" % nodes[0].name)

    # Without --control, status asks the machine's node at the default
    # socket ($XDG_RUNTIME_DIR/shoal/control): here, a link to node 0's.
    xdg = os.path.join(cluster.tmpdir, "xdg")
    os.makedirs(os.path.join(xdg, "shoal"), mode=0o700)
    os.symlink(nodes[0].ctl_path, os.path.join(xdg, "shoal", "control"))
    plain = subprocess.run([cluster.shoal, "status", "--json"], capture_output=True, text=True,
                           env=dict(os.environ, XDG_RUNTIME_DIR=xdg), timeout=30)
    try:
        found = sorted(s["session"] for s in json.loads(plain.stdout))
    except ValueError:
        raise TestFailure("shoal status --json printed no JSON: %r %r"
                          % (plain.stdout, plain.stderr))
    if found != sorted(SESSIONS):
        raise TestFailure("plain shoal status --json lists %s, want %s: %r"
                          % (found, sorted(SESSIONS), plain.stderr))
    phase("plain shoal status --json (the default socket) lists both sessions too")

    def advertised():
        table = nodes[0].members()
        if table is None:
            return False, "no answer"
        me = [m for m in table if m["self"]][0]
        shares = {k[1:]: v.rsplit(":", 1)[1] for k, v in me["tags"].items() if k.startswith("@")}
        return len(table) == 2 and shares == {"alpha": "1", "beta": "1"}, table
    harness.wait_for(advertised, 30, "%s to advertise both sessions, a slot each" % nodes[0].name,
                     cluster=cluster)
    phase("shoal members answers during the runs: 2 members, each session 1 of 2 slots")

    for c in clients:
        code = c.wait(120)
        if code != 0:
            for d in clients:
                d.dump()
            cluster.dump_logs()
            raise TestFailure("%s exited %s, want 0" % (c.name, code))
    phase("all four clients exited 0 (the tests ran in their directory and environment)")
    for session in SESSIONS:
        pair = [c for c in clients if c.session == session]
        cases = same_reports(pair)
        if len(cases) != counts[session]:
            raise TestFailure("%s: %d testcases, want %d" % (session, len(cases),
                                                              counts[session]))
        hosts = sorted({host for (_, host, _) in cases.values()})
        if hosts != sorted(n.name for n in nodes):
            raise TestFailure("%s ran on %s, want both machines" % (session, hosts))
        with open(pair[0].json) as f:
            if json.load(f)["status"] != 0:
                raise TestFailure("%s: JSON report status is not 0" % session)
        phase("session %s: identical reports from both clients, tests on %s"
              % (session, ", ".join(hosts)))

    def released():
        found = status(nodes[0])
        return found == [], found
    harness.wait_for(released, 30, "%s to forget both sessions" % nodes[0].name, cluster=cluster)
    phase("%s carries no session once both are over" % nodes[0].name)


run_test(main)
