#!/usr/bin/env python3
"""ship_cancel: a shipped session stops everywhere when its developer stops
it, and a serving daemon stopped by SIGTERM hands its work back.

Two serving daemons on loopback (--serve, --join, each test process inside
bubblewrap) and a developer's `shoal run --ship` of a list of marked
sleepers: their command lines carry a marker the test finds in /proc, so
it can tell whether any test process outlives its session.

  1. `shoal cancel SESSION` on the developer's machine while both daemons
     run its tests (it stops the run as Ctrl-C does): the run exits 3; each daemon abandons the session (`shoal status`
     serves nothing), kills its tests (none of their processes is left)
     and removes the session's directory.
  2. SIGTERM to one daemon mid-run: it leaves; its unfinished tests run on
     the other participants and the session passes whole.
Needs bubblewrap and git; exits 77 (skip) otherwise.
"""
import json
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import TestFailure, phase  # noqa: E402
from shipping import (commit_all, intake as serving, loopback_daemons, running_here,  # noqa: E402
                      session_dirs)


def checkout(root, tests, sleep):
    os.makedirs(root, exist_ok=True)
    with open(os.path.join(root, "tests.list"), "w") as f:
        for t in range(tests):
            # A marked sleeper: its command line names the session's test,
            # so the test can find it with /proc.
            f.write("t%02d\tsh -c 'exec sleep %s' shoal-ship-cancel-marker-%02d\n"
                    % (t, sleep, t))
    commit_all(root, init_only=True)


def sleepers():
    """Pids of marked sleepers still alive."""
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open("/proc/%s/cmdline" % pid, "rb") as f:
                if b"shoal-ship-cancel-marker" in f.read():
                    found.append(int(pid))
        except OSError:
            pass
    return found


def developer(cluster, root, ident, seed, session, extra=()):
    log = open(os.path.join(cluster.tmpdir, session + ".out"), "w")
    argv = [cluster.shoal, "run", "--ship", "--identity", ident, "--session", session,
            "--bind", cluster.ip() + ":0", "--join", seed, "--no-history",  # its default name
            "--json", os.path.join(cluster.tmpdir, session + ".json"),
            "--list", "tests.list"] + list(extra)
    env = dict(os.environ, SHOAL_KEY=cluster.key)
    proc = subprocess.Popen(argv, cwd=root, env=env, stdin=subprocess.DEVNULL, stdout=log,
                            stderr=subprocess.STDOUT, preexec_fn=harness.pdeathsig)
    return proc, log.name


def main(cluster):
    if not shutil.which("git") or not shutil.which("bwrap"):
        raise harness.TestSkip("needs git and bubblewrap")
    tmp = cluster.tmpdir
    ident, daemons, caches = loopback_daemons(cluster, ("d1", "d2"), slots=2)
    root = os.path.join(tmp, "checkout")

    # 1. Ctrl-C on the developer.
    checkout(root, tests=12, sleep=60)
    proc, log = developer(cluster, root, ident, daemons[0].addr, "cancel-me",
                          ["--expect", "3", "--wait", "60"])
    harness.wait_for(lambda: (all(running_here(d, "cancel-me") > 0 for d in daemons),
                              [serving(d) for d in daemons]),
                     60, "both daemons to run tests of the shipped session")
    out = subprocess.run([cluster.shoal, "cancel", "cancel-me"], capture_output=True, text=True,
                         stdin=subprocess.DEVNULL, timeout=harness.scaled(30))
    if out.returncode != 0 or "asked run %d to stop" % proc.pid not in out.stdout:
        raise TestFailure("shoal cancel exited %d: %s%s" % (out.returncode, out.stdout, out.stderr))
    rc = proc.wait(timeout=harness.scaled(30))
    if rc != 3:
        raise TestFailure("the stopped run exited %d, not 3:\n%s" % (rc, open(log).read()))

    def cancelled():
        s = [serving(d) for d in daemons]
        done = all(x is not None and not x["serving"] for x in s) and not sleepers() and \
            not any(session_dirs(c) for c in caches.values())
        return done, {"serving": s, "sleepers": sleepers(),
                      "dirs": {k: session_dirs(c) for k, c in caches.items()}}

    harness.wait_for(cancelled, 30, "every daemon to drop the cancelled session")
    phase("shoal cancel on the developer's machine: the run exited 3; both daemons dropped "
          "the session, killed its tests and removed its directory")
    out = subprocess.run([cluster.shoal, "cancel", "cancel-me"], capture_output=True, text=True,
                         stdin=subprocess.DEVNULL, timeout=harness.scaled(30))
    if out.returncode != 1 or "no session cancel-me" not in out.stderr:
        raise TestFailure("shoal cancel of a session that is over exited %d: %s%s"
                          % (out.returncode, out.stdout, out.stderr))

    # 2. SIGTERM to a daemon mid-run hands its tests back.
    checkout(root, tests=12, sleep=1)
    proc, log = developer(cluster, root, ident, daemons[0].addr, "drain-me",
                          ["--expect", "3", "--wait", "60"])
    harness.wait_for(lambda: running_here(daemons[1], "drain-me") > 0, 60,
                     "d2 to run tests of drain-me")
    daemons[1].terminate()
    daemons[1].wait_exit(30)
    rc = proc.wait(timeout=harness.scaled(120))
    out = open(log).read()
    with open(os.path.join(tmp, "drain-me.json")) as f:
        tests = json.load(f)["tests"]
    if rc != 0 or len(tests) != 12 or any(t["outcome"] != "passed" for t in tests):
        raise TestFailure("run with d2 drained exited %d: %s\n%s" % (rc, tests, out))
    phase("SIGTERM to a daemon mid-run: it left, and all 12 tests passed on the others")


if __name__ == "__main__":
    harness.run(main)
