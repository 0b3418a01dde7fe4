#!/usr/bin/env python3
"""zygote_attach: the stand-in (`shoal zygote-attach`) and the zygote
(node/zygote.py) without a mesh: what a session's executor sees of a
worker forked warm is what it sees of one started cold.

A zygote of /usr/bin/python3 started by hand, unsandboxed, in a temporary
directory; stand-ins started as the executor starts a worker (fd 3 open).

  1. Warm: pytest forked from the zygote (the test's parent is the zygote)
     runs in the stand-in's directory with its arguments, environment and
     HOME; its output reaches the stand-in's stdout, with the summary line
     of pytest alone (counts and warnings: a plugin the zygote imported
     before pytest could rewrite it would add one), and the stand-in exits
     1 as pytest does. Again once the zygote imported the standard
     library modules that worker imported (never a third-party package,
     a plugin pytest rewrites, nor a workspace module).
  2. A worker killed by a signal: the stand-in dies of the same signal. A
     worker's kill(-1) kills no other worker, nor the zygote: each warm
     worker has a process namespace (its parent is that namespace's init),
     as each cold one has its sandbox.
  3. The stand-in killed with SIGKILL mid-test: the worker dies too.
  4. An environment the zygote was not made for (another PYTHONHASHSEED):
     the zygote sends the stand-in back, which runs the command cold, in
     its own process, with the same outcome.
     The same for a checkout that has a module named as one the zygote
     imported (code.py): a fresh interpreter would import the checkout's.
  5. No zygote at the socket: cold at once.
  6. The zygote killed while a worker runs: the stand-in says so and ends
     as killed, never as a pass.
  7. The socket removed: the zygote takes no more work and exits once its
     worker ended; stand-ins then run cold.
Needs Debian's python3-pytest; exits 77 (skip) otherwise.
"""
import os
import re
import signal
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import TestFailure, phase  # noqa: E402

PYTHON = "/usr/bin/python3"
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

TESTS = """\
import os
import signal
import time
import wave  # noqa: F401  (the standard library's, which pytest does not import)


def test_where(tmp_path):
    with open(os.environ["OUT"], "w") as f:
        f.write("%d %s %s %s" % (os.getppid(), os.getcwd(), os.environ["HOME"],
                                 os.environ.get("MARK")))


def test_kills_all_it_may():
    if os.environ.get("KILL_ALL"):
        try:
            os.kill(-1, signal.SIGKILL)
        except ProcessLookupError:  # nothing it may signal: alone, as in a sandbox
            pass


def test_fails():
    assert os.environ.get("MARK") == "never"


def test_signal():
    if os.environ.get("KILL_SELF"):
        os.kill(os.getpid(), signal.SIGTERM)


def test_sleeps():
    if os.environ.get("SLEEP"):
        with open(os.environ["OUT"], "w") as f:
            f.write(str(os.getpid()))
        time.sleep(300)
"""


def summary(text):
    """pytest's last line without its time: "1 failed, 3 passed, 1 warning"."""
    lines = [line for line in text.splitlines() if line.strip()]
    return re.sub(r" in [0-9.]+s.*", "", lines[-1]) if lines else ""


def in_directory(path):
    """Pids of the processes whose working directory is path."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if os.readlink("/proc/%s/cwd" % pid) == path:
                found.append(int(pid))
        except OSError:
            pass
    return found


def alive(pid):
    if isinstance(pid, list):
        return any(alive(p) for p in pid)
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def channel():
    """What the executor gives a worker as fd 3 (Popen must keep it: close_fds
    False)."""
    def preexec():
        os.dup2(os.open("/dev/null", os.O_RDWR), 3)
    return preexec


def main(cluster):
    if subprocess.run([PYTHON, "-c", "import pytest"], capture_output=True).returncode:
        raise harness.TestSkip("needs Debian's python3-pytest")
    tmp = tempfile.mkdtemp(prefix="zygote-", dir=cluster.tmpdir)
    work = os.path.join(tmp, "checkout")
    os.makedirs(work)
    with open(os.path.join(work, "test_z.py"), "w") as f:
        f.write(TESTS)
    zdir = os.path.join(tmp, "zygotes")
    os.makedirs(zdir)
    zlog = open(os.path.join(tmp, "zygote.log"), "w")
    base_env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    base_env["PYTHONDONTWRITEBYTECODE"] = "1"

    def start_zygote(name):
        return subprocess.Popen([PYTHON, os.path.join(ROOT, "node", "zygote.py"), name, "60",
                                 "100", "k.modules"], cwd=zdir, env=base_env,
                                stdin=subprocess.DEVNULL, stdout=zlog, stderr=subprocess.STDOUT,
                                preexec_fn=harness.pdeathsig)

    zygote = start_zygote("z.sock")
    sock = os.path.join(zdir, "z.sock")
    harness.wait_for(lambda: (os.path.exists(sock), zygote.poll()), 30, "the zygote's socket")
    out = os.path.join(tmp, "out")

    def attach(*pytest_args, env=None, sock=sock, wait=True):
        argv = [cluster.shoal, "zygote-attach", sock, "/home-inside", "0", "--", PYTHON, "-m",
                "pytest", "-q", "-p", "no:cacheprovider"] + list(pytest_args)
        e = dict(base_env, OUT=out, MARK="m1", **(env or {}))
        p = subprocess.Popen(argv, cwd=work, env=e, stdin=subprocess.DEVNULL,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             preexec_fn=channel(), close_fds=False)
        if not wait:
            return p
        text = p.communicate(timeout=harness.scaled(120))[0].decode()
        return p.returncode, text

    def sleeping(at=sock):
        """A stand-in whose worker sleeps in a test, the only one running:
        (stand-in, the pids on this side of the processes in the checkout
        but the stand-in: the pid the worker knows is its namespace's)."""
        if os.path.exists(out):
            os.unlink(out)
        p = attach("test_z.py::test_sleeps", env={"SLEEP": "1"}, sock=at, wait=False)
        harness.wait_for(lambda: (os.path.exists(out) and open(out).read(), None), 30,
                         "the sleeping test to start")
        return p, [pid for pid in in_directory(work) if pid != p.pid]

    def events():
        with open(zlog.name) as f:
            return f.read()

    # 1. warm, against pytest alone
    alone = subprocess.run([PYTHON, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_z.py"],
                           cwd=work, env=dict(base_env, OUT=out, MARK="m1"),
                           stdin=subprocess.DEVNULL, capture_output=True, text=True,
                           timeout=harness.scaled(120))
    rc, text = attach("test_z.py")
    with open(out) as f:
        parent, cwd, home, mark = f.read().split()
    if rc != alone.returncode or rc != 1 or summary(text) != summary(alone.stdout):
        raise TestFailure("warm: exit %d, %s; pytest alone: exit %d, %s:\n%s"
                          % (rc, summary(text), alone.returncode, summary(alone.stdout), text))
    if int(parent) != 1 or cwd != work or home != "/home-inside" or mark != "m1":
        raise TestFailure("warm: parent %s (1 expected: the init of its own process "
                          "namespace), cwd %s, HOME %s, MARK %s; the zygote's events:\n%s"
                          % (parent, cwd, home, mark, events()))
    if events().count("shoal-zygote: forked") != 1:
        raise TestFailure("the zygote's events:\n%s" % events())
    phase("warm: forked from the zygote, in the stand-in's directory, environment and "
          "HOME; pytest's output, summary (%s) and exit 1 came through" % summary(text))

    # 1b. again, once the zygote imported what the first worker did
    harness.wait_for(lambda: ("shoal-zygote: warmed" in events(), events()), 30,
                     "the zygote to import the modules the first worker imported")
    rc, text = attach("test_z.py")
    if rc != 1 or summary(text) != summary(alone.stdout):
        raise TestFailure("warm after learning: exit %d, %s; pytest alone: %s:\n%s"
                          % (rc, summary(text), summary(alone.stdout), text))
    with open(os.path.join(zdir, "k.modules")) as f:
        learned = sorted(set(f.read().split()))
    if {"xdist", "test_z", "execnet"} & set(learned) or "wave" not in learned:
        raise TestFailure("learned: %s (wave, from the standard library, expected; never "
                          "xdist, rewritten, test_z, the workspace's, or execnet, a "
                          "third-party package)" % learned)
    phase("after the zygote imported the %d modules it learned: the same summary"
          % len(learned))

    # 2. a worker killed by a signal
    rc, text = attach("test_z.py::test_signal", env={"KILL_SELF": "1"})
    if rc != -signal.SIGTERM:
        raise TestFailure("a worker killed by SIGTERM: the stand-in exit %d:\n%s" % (rc, text))
    phase("a worker that died of SIGTERM: its stand-in died of SIGTERM")

    # 2b. kill(-1) in a warm worker reaches nothing beyond its own namespace
    p, sleeper = sleeping()
    rc, text = attach("test_z.py::test_kills_all_it_may", env={"KILL_ALL": "1"})
    if rc != 0 or not alive(sleeper) or zygote.poll() is not None:
        raise TestFailure("kill(-1): exit %d, the other worker %s, the zygote %s:\n%s"
                          % (rc, "alive" if alive(sleeper) else "killed",
                             "alive" if zygote.poll() is None else "killed", text))
    p.kill()
    p.wait()
    phase("a warm worker's kill(-1) left another worker and the zygote alive, as a cold "
          "one's, alone in its sandbox")

    # 3. the stand-in killed mid-test
    p, worker = sleeping()
    p.kill()
    p.wait()
    harness.wait_for(lambda: (not alive(worker), worker), 10,
                     "the worker to die with its stand-in")
    phase("the stand-in killed with SIGKILL: its worker died too")

    # 4. an environment the zygote was not made for
    rc, text = attach("test_z.py", env={"PYTHONHASHSEED": "7"})
    with open(out) as f:
        parent = int(f.read().split()[0])
    if rc != 1 or "1 failed, 4 passed" not in text or parent == 1:
        raise TestFailure("cold: exit %d, parent %d (the zygote is %d):\n%s"
                          % (rc, parent, zygote.pid, text))
    if "shoal-zygote: cold its PYTHON* environment differs" not in events():
        raise TestFailure("the zygote did not say why it sent one back:\n%s" % events())
    phase("another PYTHONHASHSEED: sent back, run cold by the stand-in, same outcome")

    # 4b. a checkout module named as one the zygote imported (pdb imports
    #     code): a fresh interpreter would import the checkout's
    shadow = os.path.join(tmp, "shadow")
    os.makedirs(shadow)
    with open(os.path.join(shadow, "code.py"), "w") as f:
        f.write("MARK = 'local'\n")
    with open(os.path.join(shadow, "test_shadow.py"), "w") as f:
        f.write("import code\n\n\ndef test_local():\n    assert code.MARK == 'local'\n")
    p = subprocess.run([cluster.shoal, "zygote-attach", sock, "/home-inside", "0", "--", PYTHON,
                        "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_shadow.py"],
                       cwd=shadow, env=dict(base_env, OUT=out), stdin=subprocess.DEVNULL,
                       capture_output=True, text=True, preexec_fn=channel(), close_fds=False,
                       timeout=harness.scaled(120))
    if p.returncode != 0 or "its own code shadows" not in events():
        raise TestFailure("a checkout's code.py: exit %d (0 expected, run cold):\n%s\n%s"
                          % (p.returncode, p.stdout, events()))
    phase("a checkout's own code.py (the zygote imported the standard one): sent back, "
          "run cold, passed as pytest alone")

    # 5. no zygote at the socket
    rc, text = attach("test_z.py", sock=os.path.join(zdir, "none.sock"))
    if rc != 1 or "1 failed, 4 passed" not in text:
        raise TestFailure("no zygote: exit %d:\n%s" % (rc, text))
    phase("no zygote at the socket: run cold, exit 1 as pytest")

    # 6. the zygote killed while a worker runs
    p, worker = sleeping()
    second = start_zygote("y.sock")
    zygote.kill()
    zygote.wait()
    text = p.communicate(timeout=harness.scaled(30))[0].decode()
    if p.returncode != -signal.SIGKILL or "the zygote that ran this worker ended" not in text:
        raise TestFailure("the zygote killed: the stand-in exit %d:\n%s" % (p.returncode, text))
    harness.wait_for(lambda: (not alive(worker), worker), 10, "the worker to die with its zygote")
    phase("the zygote killed mid-test: the worker died, the stand-in said so and ended killed")

    # 7. the socket removed: the zygote drains
    sock = os.path.join(zdir, "y.sock")
    harness.wait_for(lambda: (os.path.exists(sock), second.poll()), 30, "the second zygote")
    p, worker = sleeping(sock)
    os.unlink(sock)
    rc, text = attach("test_z.py", sock=sock)
    with open(out) as f:
        parent = int(f.read().split()[0])
    if rc != 1 or parent == 1:
        raise TestFailure("after the socket went: exit %d, parent %d:\n%s" % (rc, parent, text))
    if second.poll() is not None:
        raise TestFailure("the draining zygote exited with its worker still running")
    for pid in worker:
        os.kill(pid, signal.SIGKILL)
    p.wait(timeout=harness.scaled(30))
    harness.wait_for(lambda: (second.poll() is not None, events()), 10,
                     "the draining zygote to exit once its worker ended")
    if "shoal-zygote: draining its socket was removed" not in events():
        raise TestFailure("the zygote did not say it drained:\n%s" % events())
    phase("the socket removed: new stand-ins ran cold, the zygote exited after its last worker")


if __name__ == "__main__":
    harness.run(main)
