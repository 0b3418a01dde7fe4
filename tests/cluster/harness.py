"""Shared helpers for shoal's cluster tests: real `shoal node` processes on loopback.

Each test run gets its own random 127.A.B.0/24 block (one address per node,
port 0), a fresh cluster key, and a temp dir holding every node's control
socket and stderr log. Tests wait only by polling until a deadline (wait_for,
hold_for); deadlines are multiplied by SHOAL_TEST_TIME_SCALE (3 for sanitizer
builds). Every process started here is killed on exit, whatever the exit path
(finally, atexit, SIGTERM/SIGINT, and PR_SET_PDEATHSIG if the runner itself is
SIGKILLed), and the temp dir is removed. Node logs are printed only on failure.

Python 3 standard library only.
"""
import atexit
import base64
import ctypes
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

TIME_SCALE = float(os.environ.get("SHOAL_TEST_TIME_SCALE", "1") or "1")
POLL_INTERVAL = 0.05
SKIP = 77


class TestFailure(Exception):
    """An assertion about the cluster did not hold."""


class TestSkip(Exception):
    """The test cannot run here (no root, no netns...); exit 77."""


def scaled(seconds):
    """A deadline in seconds, stretched for slow (sanitizer) builds."""
    return seconds * TIME_SCALE


def phase(text):
    """Reports one passed phase of a test."""
    print("ok   %s" % text, flush=True)


def new_key():
    """A fresh base64 cluster key (32 random bytes), as `shoal keygen` prints."""
    return base64.b64encode(os.urandom(32)).decode()


def free_port(ip):
    """A TCP port nothing listens on at ip right now (bound, read, closed)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((ip, 0))
        return s.getsockname()[1]


def private_copy(shoal, tmpdir):
    """Copies the binary under test into tmpdir and returns the copy's path.

    A rebuild of the shared build tree in the middle of a run must not swap the
    binary under the test's feet. Polls (up to a minute) while the binary is
    being relinked, until a copy runs `shoal keygen`.
    """
    copy = os.path.join(tmpdir, "shoal")
    deadline = time.monotonic() + 60
    while True:
        try:
            shutil.copy2(shoal, copy)
            ok = subprocess.run([copy, "keygen"], capture_output=True, timeout=10,
                                stdin=subprocess.DEVNULL).returncode == 0
        except (OSError, subprocess.TimeoutExpired):
            ok = False
        if ok:
            return copy
        if time.monotonic() >= deadline:
            raise TestFailure("%s does not run (`shoal keygen` fails)" % shoal)
        time.sleep(0.5)


def pdeathsig():
    """Runs in the child before exec: die if the test runner dies."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except Exception:
        pass


def ask_control(shoal, control, what, name):
    """`shoal WHAT --json --control CONTROL`, parsed; None when nothing answers."""
    try:
        out = subprocess.run([shoal, what, "--json", "--control", control],
                             stdin=subprocess.DEVNULL, capture_output=True, timeout=scaled(10))
    except subprocess.TimeoutExpired:
        return None
    if out.returncode != 0:
        return None
    try:
        return json.loads(out.stdout)
    except ValueError:
        raise TestFailure("%s: `shoal %s --json` printed invalid JSON: %r"
                          % (name, what, out.stdout[:500]))


def wait_for(check, timeout, what, interval=POLL_INTERVAL, cluster=None):
    """Polls check() until it is truthy or scaled(timeout) passes.

    check() returns either a bool or (bool, observed); `observed` is the state
    shown in the failure message. Returns the seconds waited. If a cluster is
    given, a node that exits unexpectedly fails the wait at once.
    """
    start = time.monotonic()
    deadline = start + scaled(timeout)
    observed = None
    while True:
        if cluster:
            cluster.check_running()
        result = check()
        if isinstance(result, tuple):
            ok, observed = result
        else:
            ok = result
        if ok:
            return time.monotonic() - start
        if time.monotonic() >= deadline:
            raise TestFailure("timed out after %.1fs waiting for %s; last observed:\n%s"
                              % (scaled(timeout), what, show(observed)))
        time.sleep(interval)


def hold_for(check, duration, what, interval=0.1, cluster=None):
    """Polls check() for scaled(duration) seconds; fails the first time it is false.

    Proves something stays true over a window (no fixed sleep: every poll checks).
    Returns the number of polls made.
    """
    deadline = time.monotonic() + scaled(duration)
    polls = 0
    while True:
        if cluster:
            cluster.check_running()
        result = check()
        ok, observed = result if isinstance(result, tuple) else (result, None)
        polls += 1
        if not ok:
            raise TestFailure("%s stopped holding after %d polls; observed:\n%s"
                              % (what, polls, show(observed)))
        if time.monotonic() >= deadline:
            return polls
        time.sleep(interval)


def show(observed):
    if observed is None:
        return "  (nothing)"
    if isinstance(observed, str):
        return "  " + observed
    try:
        return json.dumps(observed, indent=1, sort_keys=True, default=str)[:6000]
    except (TypeError, ValueError):
        return "  " + repr(observed)[:6000]


class Node:
    """One `shoal node` process, its control socket and its log."""

    def __init__(self, cluster, name, ip):
        self.cluster = cluster
        self.name = name
        self.ip = ip
        self.ctl_path = os.path.join(cluster.tmpdir, name + ".ctl")
        self.control = "ipc://" + self.ctl_path
        self.log_path = os.path.join(cluster.tmpdir, name + ".log")
        self.proc = None
        self.addr = None
        self.expect_exit = False
        self.starts = 0

    # -- lifecycle -------------------------------------------------------
    def start(self, join=(), keys=None, bind=None, extra=(), env=None, prefix=()):
        """Starts the process (does not wait for it; see wait_started)."""
        if self.proc and self.proc.poll() is None:
            raise TestFailure("%s is already running" % self.name)
        if os.path.exists(self.ctl_path):
            os.unlink(self.ctl_path)
        bind = bind or "%s:0" % self.ip
        argv = list(prefix) + [self.cluster.shoal, "node", "--bind", bind,
                               "--name", self.name, "--control", self.control]
        for seed in join:
            argv += ["--join", seed]
        argv += list(extra)
        environ = dict(os.environ)
        environ.pop("SHOAL_KEY", None)
        if keys is None:
            keys = [self.cluster.key]
        if keys:
            environ["SHOAL_KEY"] = ",".join(keys)
        if env:
            environ.update(env)
        self.starts += 1
        log = open(self.log_path, "a")
        log.write("=== start %d: %s\n" % (self.starts, " ".join(argv)))
        log.flush()
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                     env=environ, preexec_fn=pdeathsig)
        log.close()
        self.expect_exit = False
        self.addr = None
        self.cluster.started.append(self.proc)
        return self

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def kill(self):
        """SIGKILL: a crash, no leave announced."""
        self.expect_exit = True
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def terminate(self):
        """SIGTERM: asks the node to leave gracefully. Does not wait."""
        self.expect_exit = True
        self.proc.send_signal(signal.SIGTERM)

    def stop(self):
        """SIGSTOP: the node freezes silently (its sockets stay open)."""
        self.proc.send_signal(signal.SIGSTOP)

    def cont(self):
        self.proc.send_signal(signal.SIGCONT)

    def wait_exit(self, timeout):
        """Waits for the process to exit; returns its exit code."""
        try:
            return self.proc.wait(timeout=scaled(timeout))
        except subprocess.TimeoutExpired:
            raise TestFailure("%s did not exit within %.1fs" % (self.name, scaled(timeout)))

    # -- control socket --------------------------------------------------
    def _ask(self, what):
        if not os.path.exists(self.ctl_path):
            return None
        return ask_control(self.cluster.shoal, self.control, what, self.name)

    def members(self):
        """The node's member table as a list of dicts, or None if it does not answer."""
        return self._ask("members")

    def stats(self):
        """The node's counters as a dict, or None if it does not answer."""
        return self._ask("stats")

    def view(self):
        """name -> member entry, or None if the node does not answer."""
        table = self.members()
        if table is None:
            return None
        return {m["name"]: m for m in table}

    def wait_started(self, timeout=10):
        """Polls the control socket until the node lists itself; learns its addr."""
        def check():
            table = self.members()
            if table is None:
                return False, "%s: no answer on %s" % (self.name, self.control)
            mine = [m for m in table if m.get("self")]
            if len(mine) != 1 or mine[0]["name"] != self.name:
                return False, table
            self.addr = mine[0]["addr"]
            return True, table
        wait_for(check, timeout, "%s to answer on its control socket" % self.name,
                 cluster=self.cluster)
        return self.addr

    def __repr__(self):
        return "<%s %s>" % (self.name, self.addr or self.ip)


class Cluster:
    """Nodes on one random 127.A.B.0/24 block, a key, a temp dir; cleans up after itself."""

    def __init__(self, shoal, test_name):
        self.test_name = test_name
        self.tmpdir = tempfile.mkdtemp(prefix="shoal-%s-" % test_name)
        self.shoal = private_copy(shoal, self.tmpdir)
        self.base = "127.%d.%d" % (random.randint(1, 250), random.randint(1, 250))
        self.key = new_key()
        self.nodes = []
        self.started = []
        self._next_ip = 1
        atexit.register(self.cleanup)

    def ip(self):
        """The next unused address of this run's block."""
        if self._next_ip > 254:
            raise TestFailure("out of addresses in %s.0/24" % self.base)
        ip = "%s.%d" % (self.base, self._next_ip)
        self._next_ip += 1
        return ip

    def node(self, name=None, ip=None):
        """A new Node object (not started)."""
        node = Node(self, name or "n%d" % len(self.nodes), ip or self.ip())
        self.nodes.append(node)
        return node

    def start(self, count, join_first=True, keys=None, extra=(), prefix=()):
        """Starts `count` nodes; with join_first the others --join the first one.

        Returns the nodes, each with its addr learned from its own self entry.
        """
        nodes = [self.node() for _ in range(count)]
        seed = nodes[0]
        seed.start(keys=keys, extra=extra, prefix=prefix)
        seed.wait_started()
        for n in nodes[1:]:
            n.start(join=[seed.addr] if join_first else (), keys=keys, extra=extra,
                    prefix=prefix)
        for n in nodes[1:]:
            n.wait_started()
        return nodes

    def check_running(self):
        """Fails at once if a node we did not stop has exited."""
        for n in self.nodes:
            if n.proc and not n.expect_exit and n.proc.poll() is not None:
                raise TestFailure("%s exited unexpectedly with code %s"
                                  % (n.name, n.proc.returncode))

    # -- cluster-wide views ---------------------------------------------
    def views(self, observers):
        """observer name -> {member name -> entry} (None for a silent observer)."""
        return {o.name: o.view() for o in observers}

    def converged(self, observers, members=None):
        """A check: every observer sees every member (default: the observers) alive."""
        members = members if members is not None else observers
        names = sorted(m.name for m in members)

        def check():
            views = self.views(observers)
            for o, view in views.items():
                if view is None:
                    return False, {"silent": o, "views": brief(views)}
                for name in names:
                    entry = view.get(name)
                    if entry is None or entry["state"] != "alive":
                        return False, brief(views)
            return True, brief(views)
        return check

    def wait_converged(self, observers, members=None, timeout=35, what=None):
        """Waits for converged(); the default covers two push-pull periods (15 s
        in the lan profile), the repair for a join that gossip missed."""
        took = wait_for(self.converged(observers, members), timeout,
                        what or "%d nodes to see each other alive" % len(observers),
                        cluster=self)
        return took

    # -- failure reporting and cleanup ----------------------------------
    def dump_logs(self, lines=40, out=sys.stdout):
        for n in self.nodes:
            try:
                with open(n.log_path, errors="replace") as f:
                    tail = f.readlines()[-lines:]
            except OSError:
                continue
            out.write("---- %s (%s) log tail ----\n" % (n.name, n.addr or n.ip))
            out.writelines(tail)
        out.flush()

    def kill_all(self):
        """Kills every process this run started (logs stay for the report)."""
        for proc in self.started:
            if proc.poll() is None:
                try:
                    proc.send_signal(signal.SIGCONT)
                    proc.kill()
                except OSError:
                    pass
        for proc in self.started:
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
        self.started = []

    def cleanup(self):
        """Kills every process this run started and removes the temp dir. Idempotent."""
        self.kill_all()
        if os.environ.get("SHOAL_TEST_KEEP"):  # debugging a failure: keep the logs
            print("kept %s" % self.tmpdir)
        elif self.tmpdir and os.path.isdir(self.tmpdir):
            shutil.rmtree(self.tmpdir, ignore_errors=True)
        self.tmpdir = None


def _ip(*args, check=True):
    out = subprocess.run(["ip"] + list(args), capture_output=True, text=True,
                         stdin=subprocess.DEVNULL, timeout=30)
    if check and out.returncode != 0:
        raise TestFailure("ip %s: %s" % (" ".join(args), out.stderr.strip()))
    return out


class NetnsLan:
    """A private LAN of network namespaces, for tests that need real interfaces.

    One namespace per host, each with a veth (named VETH) into a shared bridge
    namespace, addressed in a random 10.A.B.0/24 that exists only inside them:
    nothing touches the machine's own interfaces. Namespace names start with
    shoaltest-<pid>-. create() skips (TestSkip) when namespaces are not
    available; delete() always removes what was created (also at exit).
    """
    VETH = "shv0"

    def __init__(self, hosts):
        tag = "%d-%04x" % (os.getpid(), random.getrandbits(16))
        self.prefix = "shoaltest-%d-" % os.getpid()
        self.bridge_ns = "shoaltest-%s-br" % tag
        self.hosts = {h: "shoaltest-%s-%s" % (tag, h) for h in hosts}
        self.subnet = "10.%d.%d" % (random.randint(1, 254), random.randint(1, 254))
        self.addrs = {}
        self.created = []
        atexit.register(self.delete)

    def create(self):
        """Builds the LAN; returns host -> IP address."""
        if os.geteuid() != 0:
            raise TestSkip("needs root to create network namespaces")
        for ns in [self.bridge_ns] + list(self.hosts.values()):
            out = _ip("netns", "add", ns, check=False)
            if out.returncode != 0:
                if not self.created:
                    raise TestSkip("cannot create a network namespace: %s" % out.stderr.strip())
                raise TestFailure("ip netns add %s: %s" % (ns, out.stderr.strip()))
            self.created.append(ns)
            _ip("-n", ns, "link", "set", "lo", "up")
        _ip("-n", self.bridge_ns, "link", "add", "shbr0", "type", "bridge")
        _ip("-n", self.bridge_ns, "link", "set", "shbr0", "up")
        for i, (h, ns) in enumerate(self.hosts.items()):
            port = "shp%d" % i
            _ip("-n", ns, "link", "add", self.VETH, "type", "veth", "peer", "name", port,
                "netns", self.bridge_ns)
            _ip("-n", self.bridge_ns, "link", "set", port, "master", "shbr0", "up")
            self.addrs[h] = "%s.%d" % (self.subnet, i + 1)
            _ip("-n", ns, "addr", "add", self.addrs[h] + "/24", "dev", self.VETH)
            _ip("-n", ns, "link", "set", self.VETH, "up")
        return dict(self.addrs)

    def exec_prefix(self, host):
        """The argv prefix that runs a command on host."""
        return ["ip", "netns", "exec", self.hosts[host]]

    def run(self, host, *argv, check=True):
        out = subprocess.run(self.exec_prefix(host) + list(argv), capture_output=True,
                             text=True, stdin=subprocess.DEVNULL, timeout=30)
        if check and out.returncode != 0:
            raise TestFailure("on %s: %s: %s" % (host, " ".join(argv), out.stderr.strip()))
        return out

    def delete(self):
        for ns in reversed(self.created):
            _ip("netns", "del", ns, check=False)
        self.created = []

    def leftovers(self):
        """Namespaces of this process still present (should be none after delete)."""
        return [ns for ns in _ip("netns", "list").stdout.split() if ns.startswith(self.prefix)]


def brief(views):
    """Compact views for failure messages: observer -> {member: state/incarnation}."""
    out = {}
    for o, view in views.items():
        if view is None:
            out[o] = None
        else:
            out[o] = {name: "%s/%s" % (e["state"], e["incarnation"]) for name, e in view.items()}
    return out


def states(view):
    """member name -> state, for one observer's view."""
    return {name: e["state"] for name, e in view.items()}


def _on_signal(signum, frame):
    raise SystemExit(128 + signum)


def run(test, name=None):
    """Runs test(cluster) as a script: argv[1] is the shoal binary.

    Exit 0 and `PASS name` on success; 77 on TestSkip; 1 with the reason and
    the node log tails on failure. The cluster is always cleaned up.
    """
    name = name or os.path.basename(sys.argv[0]).replace("test_", "").replace(".py", "")
    if len(sys.argv) < 2 or not os.access(sys.argv[1], os.X_OK):
        print("usage: %s PATH-TO-SHOAL" % sys.argv[0], file=sys.stderr)
        sys.exit(2)
    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    cluster = Cluster(sys.argv[1], name)
    start = time.monotonic()
    code = 1
    try:
        test(cluster)
        code = 0
        print("PASS %s (%.1fs, time scale %g)" % (name, time.monotonic() - start, TIME_SCALE),
              flush=True)
    except TestSkip as e:
        code = SKIP
        print("SKIP %s: %s" % (name, e), flush=True)
    except TestFailure as e:
        print("FAIL %s after %.1fs: %s" % (name, time.monotonic() - start, e), flush=True)
        cluster.dump_logs()
    except SystemExit as e:
        print("FAIL %s: interrupted (%s)" % (name, e.code), flush=True)
        cluster.dump_logs()
    except BaseException:
        import traceback
        traceback.print_exc()
        print("FAIL %s: the test itself raised" % name, flush=True)
        cluster.dump_logs()
    finally:
        cluster.cleanup()
    sys.exit(code)
