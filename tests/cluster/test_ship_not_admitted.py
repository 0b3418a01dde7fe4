#!/usr/bin/env python3
"""ship_not_admitted: a daemon that took a shipped session but cannot run
it as the developer does says why, and the developer's run neither counts
it among the daemons that took part nor waits for it in vain.

One serving daemon on loopback and a developer's `shoal run --ship` with
`--expect 2`:

  1. A list (--list tests.list) that git ignores: the daemon's copy has no
     list, so it cannot start the session. The run closes its join window
     once d1 declined (not after 120 s), passes on the developer alone, and
     says d1 declined: it cannot start the session here, naming the list.
  2. pytest, with a test module that git ignores: the daemon's copy
     collects one test fewer, so it is not admitted. The run passes on the
     developer alone and says d1 joined but was not admitted (0 took part),
     pointing at --include.
  3. The same with --include of that module: d1 takes part.
Needs bubblewrap, git and Debian's python3-pytest; exits 77 (skip)
otherwise.
"""
import os
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import TestFailure, phase  # noqa: E402
from shipping import commit_all, loopback_daemons  # noqa: E402

PYTHON = "/usr/bin/python3"
WINDOW = 120


def developer(cluster, root, ident, seed, session, command):
    argv = [cluster.shoal, "run", "--ship", "--identity", ident, "--session", session,
            "--bind", cluster.ip() + ":0", "--join", seed, "--no-history", "--slots", "1",
            "--expect", "2", "--wait", str(WINDOW)] + command
    started = time.monotonic()
    out = subprocess.run(argv, cwd=root, env=dict(os.environ, SHOAL_KEY=cluster.key,
                                                  PYTHONDONTWRITEBYTECODE="1"),
                         stdin=subprocess.DEVNULL, capture_output=True, text=True,
                         timeout=harness.scaled(WINDOW + 60), preexec_fn=harness.pdeathsig)
    return out.returncode, out.stdout + out.stderr, time.monotonic() - started


def main(cluster):
    if not shutil.which("git") or not shutil.which("bwrap"):
        raise harness.TestSkip("needs git and bubblewrap")
    if subprocess.run([PYTHON, "-c", "import pytest"], capture_output=True).returncode:
        raise harness.TestSkip("needs Debian's python3-pytest")
    ident, daemons, _ = loopback_daemons(cluster, ("d1",), slots=1)
    seed = daemons[0].addr
    root = os.path.join(cluster.tmpdir, "checkout")
    os.makedirs(root)
    with open(os.path.join(root, "tests.list"), "w") as f:
        for t in range(4):
            f.write("t%d\ttrue\n" % t)
    with open(os.path.join(root, "test_tracked.py"), "w") as f:
        f.write("def test_one():\n    pass\n\n\ndef test_two():\n    pass\n")
    with open(os.path.join(root, "test_ignored.py"), "w") as f:
        f.write("def test_local():\n    pass\n")
    with open(os.path.join(root, "pytest.ini"), "w") as f:
        f.write("[pytest]\naddopts = -p no:cacheprovider\n")
    with open(os.path.join(root, ".gitignore"), "w") as f:
        f.write("tests.list\ntest_ignored.py\n")
    commit_all(root)

    # 1. the daemon cannot start the session
    rc, text, took = developer(cluster, root, ident, seed, "na-1", ["--list", "tests.list"])
    if rc != 0 or "d1 declined: cannot start the session here" not in text or \
            "tests.list" not in text:
        raise TestFailure("na-1: exit %d (0 expected), d1 should decline naming the list:\n%s"
                          % (rc, text))
    if "joined or declined: the join window closes" not in text:
        raise TestFailure("na-1 did not close its window when d1 declined (%.0f s):\n%s"
                          % (took, text))
    phase("a list git ignores: d1 declined, saying it cannot start the session (no "
          "tests.list); the run passed alone in %.1f s of a %d s window" % (took, WINDOW))

    # 2. the daemon collects otherwise
    pytest = ["--", PYTHON, "-m", "pytest"]
    rc, text, took = developer(cluster, root, ident, seed, "na-2", pytest)
    if rc != 0 or "0 took part" not in text or \
            "d1 joined but was not admitted" not in text or "--include" not in text:
        raise TestFailure("na-2: exit %d, d1 should be named not admitted:\n%s" % (rc, text))
    phase("a test module git ignores: d1 joined, was not admitted, and the run says so "
          "(0 took part, see --include); exit 0 on the developer alone")

    # 3. shipped with --include
    rc, text, _ = developer(cluster, root, ident, seed, "na-3",
                            ["--include", "test_ignored.py"] + pytest)
    if rc != 0 or "1 took part" not in text or "d1 took part" not in text:
        raise TestFailure("na-3 with --include: exit %d:\n%s" % (rc, text))
    phase("with --include test_ignored.py: d1 took part")


if __name__ == "__main__":
    harness.run(main)
