"""Helpers for session tests: real `shoal run` participants on loopback.

A Runs object holds one session: every participant is a `shoal run` process on
its own address of the cluster's random 127.A.B.0/24 block, all joining the
first one's port (picked free up front), sealed with the cluster's key, each
with a private history database. Deadlines scale with SHOAL_TEST_TIME_SCALE;
nothing sleeps for a fixed time. Reports are parsed the way CI systems read
them (JUnit XML with xml.etree).
"""
import os
import shutil
import signal
import subprocess
import time
import xml.etree.ElementTree as ET

import harness
from harness import TestFailure, phase, scaled

HERE = os.path.dirname(os.path.abspath(__file__))
SAMPLES = os.path.join(os.path.dirname(HERE), "sample")
MARK = os.path.join(HERE, "mark.py")
PYTHON = "/usr/bin/python3"


class Participant:
    def __init__(self, runs, name, ip, port):
        self.runs = runs
        self.name = name
        self.ip = ip
        self.port = port
        self.addr = "%s:%d" % (ip, port)
        base = os.path.join(runs.cluster.tmpdir, name)
        self.out_path = base + ".out"
        self.err_path = base + ".err"
        self.junit = base + ".xml"
        self.json = base + ".json"
        self.db = base + ".db"
        self.control = "ipc://%s.ctl" % base
        self.proc = None
        self.code = None

    def start(self, args, cwd=None, extra=(), key=None):
        """Starts `shoal run`; key replaces the cluster's key ("" for none)."""
        argv = [self.runs.cluster.shoal, "run", "--session", self.runs.session,
                "--bind", self.addr, "--name", self.name, "--control", self.control,
                "--join", self.runs.seed, "--junit", self.junit, "--json", self.json,
                "--history-db", self.db] + list(extra) + list(args)
        if os.environ.get("SHOAL_TEST_VERBOSE"):  # debugging a failure: every decision logged
            argv.insert(2, "-v")
        env = dict(os.environ, SHOAL_KEY=self.runs.cluster.key if key is None else key)
        if not env["SHOAL_KEY"]:
            del env["SHOAL_KEY"]
        with open(self.out_path, "w") as out, open(self.err_path, "w") as err:
            self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                                         cwd=cwd or self.runs.cluster.tmpdir, env=env,
                                         preexec_fn=harness.pdeathsig)
        self.runs.cluster.started.append(self.proc)
        return self

    def wait(self, timeout):
        try:
            self.code = self.proc.wait(timeout=scaled(timeout))
        except subprocess.TimeoutExpired:
            self.runs.dump()
            raise TestFailure("%s did not finish within %.0fs" % (self.name, scaled(timeout)))
        return self.code

    def kill(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self):
        self.proc.send_signal(signal.SIGSTOP)

    def cont(self):
        self.proc.send_signal(signal.SIGCONT)

    def stdout(self):
        with open(self.out_path) as f:
            return f.read()

    def stderr(self):
        with open(self.err_path) as f:
            return f.read()

    def ask(self, what):
        """`shoal WHAT --json` on this participant's control socket, parsed; None
        when it does not answer."""
        return harness.ask_control(self.runs.cluster.shoal, self.control, what, self.name)

    def leads(self):
        return "leading term" in self.stderr()

    def junit_cases(self):
        """id -> (outcome, hostname, element) from this participant's JUnit file."""
        tree = ET.parse(self.junit)
        cases = {}
        for case in tree.iter("testcase"):
            name = case.get("name")
            classname = case.get("classname")
            outcome = "passed"
            for kind in ("failure", "error", "skipped"):
                if case.find(kind) is not None:
                    outcome = kind
            key = (classname, name)
            if key in cases:
                raise TestFailure("%s: testcase %s reported twice" % (self.junit, key))
            cases[key] = (outcome, case.get("hostname"), case)
        return cases


class Runs:
    """One session of several participants."""

    def __init__(self, cluster, session):
        self.cluster = cluster
        self.session = session
        self.participants = []
        first_ip = cluster.ip()
        self.first = (first_ip, harness.free_port(first_ip))
        self.seed = "%s:%d" % self.first

    def participant(self, name=None):
        if not self.participants:
            ip, port = self.first
        else:
            ip = self.cluster.ip()
            port = harness.free_port(ip)
        p = Participant(self, name or "p%d" % (len(self.participants) + 1), ip, port)
        self.participants.append(p)
        return p

    def start(self, count, args, cwd=None, extra=(), per_participant=None):
        started = []
        for i in range(count):
            p = self.participant()
            more = list(extra) + list((per_participant or {}).get(i, ()))
            started.append(p.start(args, cwd=cwd, extra=more))
        return started

    def wait_all(self, timeout, participants=None):
        return [p.wait(timeout) for p in (participants or self.participants)]

    def leader(self, timeout=30):
        """The participant that leads (polls the logs until one says so)."""
        found = []

        def check():
            found[:] = [p for p in self.participants if p.proc and p.proc.poll() is None
                        and p.leads()]
            return bool(found), [p.stderr()[-300:] for p in self.participants]
        harness.wait_for(check, timeout, "a participant to lead")
        return found[0]

    def wait_progress(self, participant, done, timeout=60):
        """Polls until participant has printed at least `done` finished tests."""
        wait_finished(participant, done, timeout)

    def dump(self):
        for p in self.participants:
            print("---- %s (exit %s) stderr:\n%s" % (p.name, p.code, p.stderr()[-3000:]))
            print("---- %s stdout (tail):\n%s" % (p.name, p.stdout()[-1500:]))


class Client:
    """A `shoal run` that hands its session to the node whose control socket
    it names (a client: no --bind, no --join), in its own directory, with
    extra environment variables of its own. Has what a Participant has for
    reading its output and reports."""

    def __init__(self, cluster, name, node, session, cwd=None, env=None):
        self.cluster = cluster
        self.name = name
        self.node = node
        self.session = session
        self.cwd = cwd or os.path.join(cluster.tmpdir, name)
        os.makedirs(self.cwd, exist_ok=True)
        self.env = env or {}
        base = os.path.join(cluster.tmpdir, name)
        self.out_path = base + ".out"
        self.err_path = base + ".err"
        self.junit = base + ".xml"
        self.json = base + ".json"
        self.db = base + ".db"
        self.proc = None
        self.code = None

    def start(self, args):
        argv = [self.cluster.shoal, "run", "--session", self.session, "--control",
                self.node.control, "--junit", self.junit, "--json", self.json,
                "--history-db", self.db] + list(args)
        env = dict(os.environ, **self.env)
        env.pop("SHOAL_KEY", None)  # the node holds the key; a client needs none
        with open(self.out_path, "w") as out, open(self.err_path, "w") as err:
            self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                                         cwd=self.cwd, env=env, preexec_fn=harness.pdeathsig)
        self.cluster.started.append(self.proc)
        return self

    wait = Participant.wait
    kill = Participant.kill
    stdout = Participant.stdout
    stderr = Participant.stderr
    junit_cases = Participant.junit_cases

    def signal(self, signum):
        self.proc.send_signal(signum)

    def dump(self):
        print("---- %s (exit %s) stderr:\n%s" % (self.name, self.code, self.stderr()[-3000:]))
        print("---- %s stdout (tail):\n%s" % (self.name, self.stdout()[-1500:]))

    @property
    def runs(self):
        return self  # Participant.wait dumps self.runs on a timeout


def finished_lines(p):
    """The finished-test lines p printed (PASS, FAIL, ERROR, SKIP)."""
    return [l for l in p.stdout().splitlines()
            if l.split(" ", 1)[0] in ("PASS", "FAIL", "ERROR", "SKIP")]


def wait_finished(p, done, timeout=60):
    """Polls until p has printed at least `done` finished tests."""
    def check():
        lines = finished_lines(p)
        return len(lines) >= done, lines[-3:]
    harness.wait_for(check, timeout, "%d finished tests on %s" % (done, p.name))


def same_reports(participants):
    """Every participant's JUnit file is byte-identical; returns its cases."""
    blobs = []
    for p in participants:
        with open(p.junit, "rb") as f:
            blobs.append(f.read())
    if any(b != blobs[0] for b in blobs):
        raise TestFailure("JUnit files differ between %s" % [p.name for p in participants])
    return participants[0].junit_cases()


def pytest_suite(cluster, name, files):
    """Writes a pytest suite into cluster.tmpdir/name: files maps a relative
    path to its text. An empty pytest.ini is added unless given, so the
    directory is pytest's rootdir and nothing above it is loaded. Returns the
    directory."""
    return write_files(os.path.join(cluster.tmpdir, name),
                       dict({"pytest.ini": "[pytest]\n"}, **files))


def write_files(root, files):
    """Writes files (relative path -> text) under root; returns root."""
    for path, text in files.items():
        full = os.path.join(root, path)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "w") as f:
            f.write(text)
    return root


def framework(name, pinned=True):
    """The path of a test framework's command: the JavaScript ones as
    scripts/setup-frameworks pins them in build/js (unless pinned is False),
    the others on PATH. When it is not installed the test is skipped (exit
    77, with the reason), or fails where SHOAL_REQUIRE_FRAMEWORKS is set, as
    scripts/test sets it after installing them: CI never passes a test that
    did not run."""
    kept = os.path.join(os.path.dirname(os.path.dirname(HERE)), "build", "js", "node_modules",
                        ".bin", name)
    path = kept if pinned and os.path.exists(kept) else shutil.which(name)
    if not path:
        why = "%s is not installed (scripts/setup-frameworks installs it)" % name
        if os.environ.get("SHOAL_REQUIRE_FRAMEWORKS"):
            raise TestFailure(why)
        raise harness.TestSkip(why)
    return path


def list_file(path, lines):
    """Writes a plain-list suite: (name, argv[, requires]) per test."""
    with open(path, "w") as f:
        for line in lines:
            f.write("\t".join(line) + "\n")
    return path


def marked_suite(cluster, count, seconds, name="suite"):
    """A list suite of `count` tests of `seconds` each, run through mark.py so
    every run is recorded (in NAME.marks; the list is NAME.list). Returns
    (suite path, run log path, test names)."""
    log = os.path.join(cluster.tmpdir, "marks.log" if name == "suite" else name + ".marks")
    tests = [("t%02d" % i, "%s %s %s t%02d %s" % (PYTHON, MARK, log, i, seconds))
             for i in range(count)]
    return (list_file(os.path.join(cluster.tmpdir, name + ".list"), tests), log,
            [t[0] for t in tests])


def kill_mid_session(cluster, session, choose, after):
    """Three participants run 40 recorded tests; once the leader has printed
    `after` finished tests, the participant choose(participants, leader)
    returns gets SIGKILL. Checks that the survivors exit 0 with the same 40
    passed results (I1) and that no test ran twice at once on live members
    (I2). Returns (survivors, victim, the time of the kill, the runs log)."""
    import marks
    suite, log, ids = marked_suite(cluster, 40, 0.4)
    runs = Runs(cluster, session)
    ps = runs.start(3, ["--expect", "3", "--slots", "1", "--list", suite])
    leader = runs.leader()
    victim = choose(ps, leader)
    runs.wait_progress(leader, after)
    victim.kill()
    killed_at = time.time()
    phase("killed %s%s after %d tests" % (victim.name, " (the leader)" if victim is leader else "",
                                          after))
    survivors = [p for p in ps if p is not victim]
    codes = runs.wait_all(90, survivors)
    if codes != [0, 0]:
        runs.dump()
        raise TestFailure("survivors exited %s, want [0, 0]" % codes)
    cases = same_reports(survivors)
    if len(cases) != 40 or any(o != "passed" for (o, _, _) in cases.values()):
        raise TestFailure("want 40 passed testcases, got %d" % len(cases))
    phase("40 tests passed once each on the survivors; their reports are identical")
    runs_log = marks.check(log, ids, dead={victim.name})
    phase("no test ran twice at once on live members")
    return survivors, victim, killed_at, runs_log


def run_test(main):
    """Runs main(cluster) with cleanup and the exit codes CTest expects."""
    import sys
    shoal = sys.argv[1]
    name = os.path.basename(sys.argv[0])[len("test_"):-3]
    cluster = harness.Cluster(shoal, name)
    code = 1
    try:
        main(cluster)
        print("PASS %s" % name)
        code = 0
    except harness.TestSkip as e:
        print("SKIP %s: %s" % (name, e))
        code = harness.SKIP
    except TestFailure as e:
        print("FAIL %s: %s" % (name, e))
    finally:
        cluster.cleanup()
    sys.exit(code)

