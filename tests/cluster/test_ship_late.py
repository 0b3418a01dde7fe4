#!/usr/bin/env python3
"""ship_late: serving daemons that took a shipped session but are still
fetching its workspace when the developer's join window closes.

Two serving daemons on loopback; d1 is tagged lab=yes. The developer runs
with `--wait 0.5`, shorter than a daemon needs to fetch the workspace and
join. Every test tells a listener of this script that it ran and where
(network is on in the sandbox), so a test run anywhere is seen.

  1. A test that requires lab=yes waits for d1, which took the offer and
     is on its way, and runs there: the run exits 0, the test is not
     "unschedulable".
  2. Tests no daemon needs (1 s each): the developer runs them alone and
     exits while d2's toolchain check still takes its 5 s. The daemons
     offered the session that did not run it are told it is over: each
     drops it (its intake counts it cancelled or dropped), and no test of
     it runs again anywhere afterwards, though the daemons are still alive.
  3. After a warm-up run that leaves every blob in the daemons' stores,
     d2's toolchain check is made to take 2 s (a PATH shim of uname): it
     takes the next session after its developer finished and left, and
     needs nothing fetched. It drops the session instead of starting it
     alone, and none of its tests runs again.
Needs bubblewrap and git; exits 77 (skip) otherwise.
"""
import atexit
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import TestFailure, phase  # noqa: E402
from shipping import commit_all, intake, loopback_daemons  # noqa: E402


class Listener:
    """Counts the lines tests send it: "NAME NODE" once per test run."""

    def __init__(self, ip):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind((ip, 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.lines = []
        self.lock = threading.Lock()
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                conn.settimeout(5)
                data = b""
                try:
                    while True:
                        chunk = conn.recv(4096)
                        if not chunk:
                            break
                        data += chunk
                except OSError:
                    pass
            with self.lock:
                self.lines += data.decode(errors="replace").split()

    def runs(self):
        with self.lock:
            return list(self.lines)


def checkout(root, ip, port, tests, sleep=0.1):
    """tests: [(name, requires or "")]; each one says NAME@NODE to the listener."""
    os.makedirs(root, exist_ok=True)
    with open(os.path.join(root, "tests.list"), "w") as f:
        for name, requires in tests:
            f.write("%s\tbash -c 'echo %s@$SHOAL_NODE > /dev/tcp/%s/%d; sleep %s'%s\n"
                    % (name, name, ip, port, sleep, "\t" + requires if requires else ""))
    commit_all(root)


def start_developer(cluster, root, ident, seed, session, extra=("--wait", "0.5")):
    out = os.path.join(cluster.tmpdir, session + ".out")
    argv = [cluster.shoal, "run", "--ship", "--identity", ident, "--session", session,
            "--bind", cluster.ip() + ":0", "--join", seed, "--no-history", "--slots", "1",
            "--json", os.path.join(cluster.tmpdir, session + ".json"),
            "--list", "tests.list"] + list(extra)
    env = dict(os.environ, SHOAL_KEY=cluster.key)
    with open(out, "w") as log:
        proc = subprocess.Popen(argv, cwd=root, env=env, stdin=subprocess.DEVNULL, stdout=log,
                                stderr=subprocess.STDOUT, preexec_fn=harness.pdeathsig)
    return proc, out


def placed_in(cluster, session):
    """{test id: its entry} from the run's JSON report ({} without one)."""
    try:
        with open(os.path.join(cluster.tmpdir, session + ".json")) as f:
            return {t["id"]: t for t in json.load(f)["tests"]}
    except (OSError, ValueError):
        return {}


def developer(cluster, root, ident, seed, session):
    proc, out = start_developer(cluster, root, ident, seed, session)
    rc = proc.wait(timeout=harness.scaled(120))
    with open(out) as f:
        return rc, f.read(), placed_in(cluster, session)


def gave_up(node):
    counters = intake(node)["intake"]
    return counters["cancelled"] + counters["dropped"]


def main(cluster):
    if not shutil.which("git") or not shutil.which("bwrap") or not shutil.which("bash"):
        raise harness.TestSkip("needs git, bash and bubblewrap")
    ip = cluster.ip()
    listener = Listener(ip)
    # d2's toolchain check (uname, for a list) takes the seconds shim/slow holds
    shim = tempfile.mkdtemp(prefix="shoal-slow-bin-", dir="/var/tmp")
    atexit.register(shutil.rmtree, shim, True)
    with open(os.path.join(shim, "uname"), "w") as f:
        f.write("#!/bin/sh\n[ -e %s/slow ] && sleep \"$(cat %s/slow)\"\nexec /usr/bin/uname \"$@\"\n"
                % (shim, shim))
    os.chmod(os.path.join(shim, "uname"), 0o755)
    path = shim + ":" + os.environ.get("PATH", "/usr/bin:/bin")
    ident, daemons, _ = loopback_daemons(cluster, ("d1", "d2"), slots=1,
                                         extra={"d1": ["--tag", "lab=yes"]},
                                         env={"d2": {"PATH": path}})
    root = os.path.join(cluster.tmpdir, "checkout")

    # 1. The tagged test waits for the tagged daemon on its way.
    checkout(root, ip, listener.port, [("plain1", ""), ("plain2", ""), ("lab", "lab=yes")])
    rc, out, report = developer(cluster, root, ident, daemons[0].addr, "late-1")
    lab = report.get("lab", {})
    if rc != 0 or lab.get("outcome") != "passed" or lab.get("node") != "d1":
        raise TestFailure("the lab=yes test: exit %d, %s:\n%s" % (rc, lab, out))
    if "lab@d1" not in listener.runs():
        raise TestFailure("the lab test did not run on d1: %s" % listener.runs())
    phase("--wait 0.5: the lab=yes test waited for d1 (still fetching when the window "
          "closed) and passed there; exit 0")

    # 2. A session over before the daemons join: they drop it, nothing runs
    #    again. d2's toolchain check takes 2 s, so it is late for sure.
    checkout(root, ip, listener.port, [("solo1", ""), ("solo2", "")], sleep=1)
    before = {d.name: gave_up(d) for d in daemons}
    offers = {d.name: intake(d)["intake"]["offers"] for d in daemons}
    seen = len(listener.runs())
    with open(os.path.join(shim, "slow"), "w") as f:
        f.write("5")
    rc, out, report = developer(cluster, root, ident, daemons[0].addr, "late-2")
    if rc != 0 or len(report) != 2:
        raise TestFailure("late-2: exit %d, %d results:\n%s" % (rc, len(report), out))
    # late: offered the session (gossip may not have shown it the developer
    # in 0.5 s), and not among those that ran it
    late = [d for d in daemons if d.name not in {t["node"] for t in report.values()} and
            intake(d)["intake"]["offers"] > offers[d.name]]
    if daemons[1] not in late:
        raise harness.TestSkip("d2 was not offered late-2 within its 0.5 s: nothing late to "
                               "check")
    harness.wait_for(lambda: (all(gave_up(d) > before[d.name] for d in late),
                              {d.name: intake(d)["intake"] for d in late}),
                     30, "the daemons that had not joined to drop late-2")
    runs = listener.runs()[seen:]
    harness.hold_for(lambda: (len(listener.runs()) - seen == 2 and
                              all(d.running() for d in daemons),
                              listener.runs()[seen:]),
                     5, "no test of late-2 running again after its developer exited")
    os.unlink(os.path.join(shim, "slow"))
    phase("late-2 ended before %s joined: each dropped it, and its 2 tests ran once "
          "(%s), never again" % (", ".join(d.name for d in late), ", ".join(sorted(runs))))

    # 3. A daemon that takes the session after its developer left, with
    #    every blob already in its store: it must not start it alone.
    proc, log = start_developer(cluster, root, ident, daemons[0].addr, "late-3a",
                                ["--expect", "3", "--wait", "60"])
    if proc.wait(timeout=harness.scaled(120)) != 0:
        raise TestFailure("the warm-up run failed:\n%s" % open(log).read())
    before = gave_up(daemons[1])
    seen = len(listener.runs())
    with open(os.path.join(shim, "slow"), "w") as f:
        f.write("2")
    rc, out, report = developer(cluster, root, ident, daemons[0].addr, "late-3b")
    if rc != 0 or len(report) != 2:
        raise TestFailure("late-3b: exit %d, %d results:\n%s" % (rc, len(report), out))
    if "d2" in {t["node"] for t in report.values()}:
        raise TestFailure("d2, whose toolchain check takes 2 s, ran tests of a session of 0.5 s")
    harness.wait_for(lambda: (gave_up(daemons[1]) > before, intake(daemons[1])["intake"]),
                     30, "d2 to drop late-3b, whose developer left")
    os.unlink(os.path.join(shim, "slow"))
    harness.hold_for(lambda: (len(listener.runs()) - seen == 2, listener.runs()[seen:]),
                     5, "no test of late-3b running again on d2")
    phase("d2 took late-3b after its developer left (every blob in its store): it dropped "
          "it and ran none of its tests")

if __name__ == "__main__":
    harness.run(main)
