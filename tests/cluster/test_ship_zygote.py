#!/usr/bin/env python3
"""ship_zygote: a serving daemon forks the pytest workers of later sessions
from a warm zygote of the same developer, toolchain and dependencies, and
every test still reports what pytest alone reports.

One serving daemon on loopback (--serve --zygotes 2, inside bubblewrap, 2
slots) and a
developer's `shoal run --ship -- /usr/bin/python3 -m pytest` of a suite
with passing, failing, skipped and xfail tests, a test of the worker's
environment, a workspace module whose value changes between sessions and a
conftest that imports a standard module pytest itself does not.

  1. Session 1 starts the key's zygote and its workers fork from it; every
     test's outcome is what `python3 -m pytest` alone gives in the same
     checkout. The module the conftest imported is learned: the zygote's
     module list names it, and names no module of the workspace.
  2. Session 2, after the workspace module changed: its workers fork from
     the same zygote (no new one started, more forks counted), the changed
     value is what the test sees, and the outcomes are still pytest's.
  3. The zygote killed with SIGKILL between sessions: session 3 starts a
     new one and passes as before.
  4. A session cancelled (Ctrl-C on the developer's side) while its tests
     sleep: every forked worker dies with its stand-in.
Needs bubblewrap, git and Debian's python3-pytest; exits 77 (skip)
otherwise.
"""
import json
import os
import shutil
import signal
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import TestFailure, phase  # noqa: E402
from shipping import commit_all, intake, loopback_daemons, running_here  # noqa: E402

PYTHON = "/usr/bin/python3"

CONFTEST = """\
import os
import time
import wave  # noqa: F401  (a standard module pytest does not import)

import pytest


@pytest.fixture(autouse=True)
def sleep_on_flag():
    if os.path.exists("sleep.flag"):
        time.sleep(300)
    yield
"""

TESTS = """\
import os
import sys

import pytest

import helper


def test_passes():
    assert 1 + 1 == 2


def test_fails():
    assert helper.VALUE == "never"


@pytest.mark.skip(reason="skipped on purpose")
def test_skipped():
    pass


@pytest.mark.xfail(reason="known")
def test_xfail():
    assert False


def test_value_is_this_sessions():
    with open(os.path.join(os.path.dirname(__file__), "expected.txt")) as f:
        assert helper.VALUE == f.read().strip()


def test_worker_environment():
    if os.environ.get("SHOAL_NODE") == "d1":  # warm or cold, a worker there holds no capability
        caps = dict(line.split(":") for line in open("/proc/self/status")
                    if line.startswith("Cap"))
        assert int(caps["CapEff"], 16) == 0 and int(caps["CapPrm"], 16) == 0
    assert os.environ.get("PYTEST_XDIST_WORKER", "gw0").startswith("gw")
    assert os.getcwd() == os.path.dirname(os.path.abspath(__file__))
    assert "wave" in sys.modules

"""


def checkout(root, value):
    os.makedirs(root, exist_ok=True)
    files = {"conftest.py": CONFTEST, "test_suite.py": TESTS,
             "helper.py": "VALUE = %r\n" % value, "expected.txt": value + "\n",
             "pytest.ini": "[pytest]\naddopts = -p no:cacheprovider\n"}
    for name, text in files.items():
        with open(os.path.join(root, name), "w") as f:
            f.write(text)
    commit_all(root)


def alone(root):
    """{test name: outcome} from pytest run alone (its JUnit report)."""
    junit = os.path.join(root, "..", "alone.xml")
    subprocess.run([PYTHON, "-m", "pytest", "-q", "--junitxml", junit], cwd=root,
                   capture_output=True, timeout=120,
                   env=dict(os.environ, PYTHONDONTWRITEBYTECODE="1"))
    import xml.etree.ElementTree as ET
    out = {}
    for case in ET.parse(junit).iter("testcase"):
        kinds = [c.tag for c in case]
        out[case.get("name")] = ("failed" if "failure" in kinds or "error" in kinds else
                                 "skipped" if "skipped" in kinds else "passed")
    return out


def developer(cluster, root, ident, seed, session, wait_for_exit=True):
    out = os.path.join(cluster.tmpdir, session + ".out")
    report = os.path.join(cluster.tmpdir, session + ".json")
    argv = [cluster.shoal, "run", "--ship", "--identity", ident, "--session", session,
            "--bind", cluster.ip() + ":0", "--join", seed, "--no-history", "--slots", "1",
            "--expect", "2", "--wait", "60", "--json", report, "--",
            PYTHON, "-m", "pytest"]
    env = dict(os.environ, SHOAL_KEY=cluster.key, PYTHONDONTWRITEBYTECODE="1")
    with open(out, "w") as log:
        proc = subprocess.Popen(argv, cwd=root, env=env, stdin=subprocess.DEVNULL, stdout=log,
                                stderr=subprocess.STDOUT, preexec_fn=harness.pdeathsig)
    if not wait_for_exit:
        return proc, out, report
    rc = proc.wait(timeout=harness.scaled(180))
    with open(out) as f:
        text = f.read()
    try:
        with open(report) as f:
            tests = json.load(f)["tests"]
    except (OSError, ValueError):
        raise TestFailure("%s wrote no report (exit %d):\n%s" % (session, rc, text))
    return rc, text, tests


def outcomes(tests):
    """{test name: pytest's outcome word} from shoal's JSON report."""
    word = {"passed": "passed", "failed": "failed", "error": "failed", "skipped": "skipped",
            "xfailed": "skipped"}  # as pytest's JUnit report counts an xfail
    return {t["id"].rsplit("::", 1)[-1]: word.get(t["outcome"], t["outcome"]) for t in tests}


def zygotes(node):
    return intake(node)["zygotes"]


def processes(cwd_below, word):
    """Pids of the processes whose command has word and whose directory is
    below cwd_below."""
    pids = []
    for pid in os.listdir("/proc"):
        try:
            with open("/proc/%s/cmdline" % pid, "rb") as f:
                cmd = f.read()
            cwd = os.readlink("/proc/%s/cwd" % pid)
        except OSError:
            continue
        if word in cmd and cwd.startswith(cwd_below):
            pids.append(int(pid))
    return pids


def check_session(name, rc, text, tests, expected, on_daemon):
    got = outcomes(tests)
    if rc != 1 or got != expected:
        raise TestFailure("%s: exit %d (1 expected: one test fails), outcomes %s, pytest "
                          "alone %s:\n%s" % (name, rc, got, expected, text))
    if on_daemon not in {t.get("node") for t in tests}:
        raise TestFailure("%s: no test ran on %s: %s" % (name, on_daemon, tests))


def main(cluster):
    for tool in ("git", "bwrap"):
        if not shutil.which(tool):
            raise harness.TestSkip("needs %s" % tool)
    if subprocess.run([PYTHON, "-c", "import pytest"], capture_output=True).returncode:
        raise harness.TestSkip("needs Debian's python3-pytest")
    ident, daemons, caches = loopback_daemons(cluster, ("d1",), slots=2,
                                              extra={"d1": ["--zygotes", "2"]})
    d1 = daemons[0]
    root = os.path.join(cluster.tmpdir, "checkout")
    zdir = os.path.join(caches["d1"], "shoal", "store", "zygotes")

    # 1. The first session starts the zygote; its workers fork from it.
    checkout(root, "one")
    expected = alone(root)
    rc, text, tests = developer(cluster, root, ident, d1.addr, "z-1")
    check_session("z-1", rc, text, tests, expected, "d1")
    z = zygotes(d1)
    if z["started"] != 1 or z["forked"] < 1 or z["cold"] != 0:
        raise TestFailure("z-1: zygote counters %s" % z)
    def learned():
        """What the workers of every key said they imported."""
        names = set()
        for key in os.listdir(zdir):
            path = os.path.join(zdir, key, "learned.modules")
            if os.path.exists(path):
                with open(path) as f:
                    names |= set(f.read().split())
        return names

    # the workers write what they imported as they exit, after the session
    harness.wait_for(lambda: ("wave" in learned(), sorted(learned())), 30,
                     "z-1's workers to name the modules they imported")
    if {"helper", "conftest", "test_suite"} & learned():
        raise TestFailure("workspace modules were learned: %s" % sorted(learned()))
    phase("z-1: outcomes as pytest alone (%s); 1 zygote started, %d workers forked from it; "
          "it learned `wave`, no workspace module" % (expected, z["forked"]))

    # 2. A changed workspace: the same zygote, the new value.
    checkout(root, "two")
    expected = alone(root)
    forked = z["forked"]
    rc, text, tests = developer(cluster, root, ident, d1.addr, "z-2")
    check_session("z-2", rc, text, tests, expected, "d1")
    z = zygotes(d1)
    if z["started"] != 1 or z["forked"] <= forked or z["cold"] != 0:
        raise TestFailure("z-2: zygote counters %s (forked %d before)" % (z, forked))
    phase("z-2: helper.VALUE changed and seen; the same zygote forked %d more workers"
          % (z["forked"] - forked))

    # 3. The zygote killed: the next session starts another.
    pids = processes(zdir, b"shoal_zygote.py")
    if not pids:
        raise TestFailure("no zygote process found")
    for pid in pids:
        os.kill(pid, signal.SIGKILL)
    harness.wait_for(lambda: (zygotes(d1)["alive"] == 0, zygotes(d1)), 20,
                     "the daemon to notice its zygote died")
    rc, text, tests = developer(cluster, root, ident, d1.addr, "z-3")
    check_session("z-3", rc, text, tests, expected, "d1")
    z = zygotes(d1)
    if z["started"] != 2 or z["cold"] != 0:
        raise TestFailure("z-3: zygote counters %s" % z)
    phase("z-3: the zygote killed with SIGKILL; the next session started a new one and "
          "passed as pytest alone")

    # 4. Cancelled mid-test: the forked worker goes with its stand-in.
    with open(os.path.join(root, "sleep.flag"), "w"):
        pass
    commit_all(root)
    proc, out, _ = developer(cluster, root, ident, d1.addr, "z-4", wait_for_exit=False)

    def sleepers():
        """The worker that sleeps (forked: its command is the zygote's) and
        its stand-in."""
        return [pid for pid in processes(caches["d1"], b"")
                if os.path.exists("/proc/%d/cwd/sleep.flag" % pid)]

    def alive(pids):
        """The pids that still run (a zombie has ended)."""
        out = []
        for pid in pids:
            try:
                with open("/proc/%d/stat" % pid) as f:
                    if f.read().rsplit(")", 1)[1].split()[0] != "Z":
                        out.append(pid)
            except OSError:
                pass
        return out

    harness.wait_for(lambda: (running_here(d1, "z-4") > 0, sleepers()), 60,
                     "a test of z-4 running on d1")
    pids = sleepers()
    proc.send_signal(signal.SIGINT)
    proc.wait(timeout=harness.scaled(60))
    harness.wait_for(lambda: (not alive(pids), alive(pids)), 30,
                     "z-4's workers on d1 (pids %s) to be gone after the cancel" % pids)
    phase("z-4 cancelled while a forked worker slept: no process of it is left")


if __name__ == "__main__":
    harness.run(main)
