#!/usr/bin/env python3
"""ship_artifacts: `shoal run --ship --artifacts GLOB` brings back the files
that the daemons' tests left, each daemon's into DIR/DAEMON, and never
passes when some of them are lost.

Two serving daemons on loopback (--serve, each test inside bubblewrap) and
a developer's `shoal run --ship` of a list whose tests write out/NAME.txt,
append their name to the tracked data/input.txt, and leave a scratch file
that no glob names; one of them fails.

  1. The run exits 1 (the failing test). For every test the report places
     on a daemon, DIR/DAEMON/out/NAME.txt holds its name; the developer's
     own tests wrote theirs in the checkout, not in DIR. Each daemon's
     data/input.txt comes back holding exactly the tests that ran there.
     The tracked data/same.txt, unchanged, and the scratch files do not.
  2. A second run into the same DIR replaces what the first left there.
  3. A DIR holding files shoal did not put there is refused at start (exit
     2) and left alone.
  4. With --retries, tests that fail on the daemons pass on the
     developer: the daemons hold no final result, yet the files of their
     failed attempts come back.
  5. A daemon killed with SIGKILL after running tests: the run reports
     their artifacts lost, naming the daemon, and exits 4, not 0.
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
from shipping import commit_all, intake, loopback_daemons, sh  # noqa: E402

TESTS = 12
FAILING = "t05"


def checkout(root, prefix, sleep):
    """A git checkout whose tests leave files (tracked: tests.list, data/)."""
    os.makedirs(os.path.join(root, "data"), exist_ok=True)
    with open(os.path.join(root, "tests.list"), "w") as f:
        for t in range(TESTS):
            name = "t%02d" % t
            fail = "; exit 1" if name == FAILING else ""
            f.write("%s\tsh -c 'mkdir -p out && echo %s > out/%s%s.txt && echo %s >> "
                    "data/input.txt && echo x > scratch-%s.log && sleep %s%s'\n"
                    % (name, name, prefix, name, name, name, sleep, fail))
    for name in ("input.txt", "same.txt"):
        with open(os.path.join(root, "data", name), "w") as f:
            f.write("tracked\n")
    commit_all(root)


def developer(cluster, root, ident, seed, session, art, extra=()):
    out = os.path.join(cluster.tmpdir, session + ".out")
    argv = [cluster.shoal, "run", "--ship", "--identity", ident, "--session", session,
            "--bind", cluster.ip() + ":0", "--join", seed, "--no-history", "--slots", "1",
            "--json", os.path.join(cluster.tmpdir, session + ".json"),
            "--artifacts", "out/*", "--artifacts", "data/*", "--artifacts-dir", art,
            "--list", "tests.list"] + list(extra)
    env = dict(os.environ, SHOAL_KEY=cluster.key)
    log = open(out, "w")
    proc = subprocess.Popen(argv, cwd=root, env=env, stdin=subprocess.DEVNULL, stdout=log,
                            stderr=subprocess.STDOUT, preexec_fn=harness.pdeathsig)
    return proc, out


def placed(cluster, session):
    """{node name: [test names]} from the run's JSON report."""
    with open(os.path.join(cluster.tmpdir, session + ".json")) as f:
        tests = json.load(f)["tests"]
    if len(tests) != TESTS:
        raise TestFailure("%s: %d tests in the report, not %d" % (session, len(tests), TESTS))
    by = {}
    for t in tests:
        by.setdefault(t["node"], []).append(t["id"])
    return by


def files_below(d):
    found = []
    for top, _, names in os.walk(d):
        found += [os.path.relpath(os.path.join(top, n), d) for n in names]
    return sorted(found)


def check_run(root, art, by, daemons, prefix):
    """Each daemon's files, and nothing else, are in art/DAEMON."""
    names = [d.name for d in daemons]
    for node, tests in by.items():
        if node not in names:  # the developer: its files stay in the checkout
            for t in tests:
                if not os.path.exists(os.path.join(root, "out", prefix + t + ".txt")):
                    raise TestFailure("%s ran on the developer but left no out/%s%s.txt"
                                      % (t, prefix, t))
            if os.path.exists(os.path.join(art, node)):
                raise TestFailure("the developer's own files were copied into %s" % art)
            continue
        want = sorted(["out/%s%s.txt" % (prefix, t) for t in tests] + ["data/input.txt"])
        got = files_below(os.path.join(art, node))
        if got != want:
            raise TestFailure("%s/%s holds %s, not %s" % (art, node, got, want))
        for t in tests:
            with open(os.path.join(art, node, "out", prefix + t + ".txt")) as f:
                if f.read() != t + "\n":
                    raise TestFailure("%s's out/%s%s.txt has the wrong bytes" % (node, prefix, t))
        with open(os.path.join(art, node, "data", "input.txt")) as f:
            appended = f.read().split("\n")[1:-1]
        if sorted(appended) != sorted(tests):
            raise TestFailure("%s's data/input.txt names %s; the tests that ran there are %s"
                              % (node, appended, tests))
    extra = set(os.listdir(art)) - set(by) - {".shoal-artifacts"}
    if extra:
        raise TestFailure("%s holds %s besides the daemons' directories" % (art, sorted(extra)))


def main(cluster):
    if not shutil.which("git") or not shutil.which("bwrap"):
        raise harness.TestSkip("needs git and bubblewrap")
    tmp = cluster.tmpdir
    ident, daemons, _ = loopback_daemons(cluster, ("d1", "d2"), slots=1)
    root = os.path.join(tmp, "checkout")
    art = os.path.join(tmp, "art")

    # 1. Every daemon's files come back; a failing test's too.
    checkout(root, "", 0.3)
    proc, log = developer(cluster, root, ident, daemons[0].addr, "art-1", art,
                          ["--expect", "3", "--wait", "60"])
    rc = proc.wait(timeout=harness.scaled(120))
    out = open(log).read()
    by = placed(cluster, "art-1")
    if rc != 1:
        raise TestFailure("the run with one failing test exited %d, not 1:\n%s" % (rc, out))
    ran = [d.name for d in daemons if d.name in by]
    if len(ran) != 2:
        raise TestFailure("tests ran on %s, not on both daemons:\n%s" % (sorted(by), out))
    check_run(root, art, by, daemons, "")
    for d in daemons:
        line = "shoal: artifacts from %s: %d files" % (d.name, len(by[d.name]) + 1)
        if line not in out:
            raise TestFailure("the run did not say %r:\n%s" % (line, out))
        counted = intake(d)["intake"]["artifact_files"]
        if counted != len(by[d.name]) + 1:
            raise TestFailure("%s counts %d artifact files, not %d"
                              % (d.name, counted, len(by[d.name]) + 1))
    phase("run 1 exited 1; each daemon's out/ files and its own data/input.txt came back "
          "(%s), the scratch files and the unchanged data/same.txt did not"
          % ", ".join("%s: %d tests" % (n, len(by[n])) for n in ran))

    # 2. The same DIR again: what run 1 left there is replaced.
    checkout(root, "second-", 0.3)
    shutil.rmtree(os.path.join(root, "out"))
    sh(["git", "checkout", "-q", "--", "data"], cwd=root)
    proc, log = developer(cluster, root, ident, daemons[0].addr, "art-2", art,
                          ["--expect", "3", "--wait", "60"])
    rc = proc.wait(timeout=harness.scaled(120))
    by = placed(cluster, "art-2")
    if rc != 1:
        raise TestFailure("run 2 exited %d, not 1:\n%s" % (rc, open(log).read()))
    check_run(root, art, by, daemons, "second-")
    phase("run 2 into the same directory: only its own files are there")

    # 3. A directory shoal did not make is not written to.
    mine = os.path.join(tmp, "mine")
    os.makedirs(mine)
    with open(os.path.join(mine, "notes.txt"), "w") as f:
        f.write("mine\n")
    proc, log = developer(cluster, root, ident, daemons[0].addr, "art-3", mine)
    rc = proc.wait(timeout=harness.scaled(60))
    out = open(log).read()
    if rc != 2 or "holds files shoal did not put there" not in out or \
            os.listdir(mine) != ["notes.txt"]:
        raise TestFailure("a foreign --artifacts-dir: exit %d, %s:\n%s"
                          % (rc, os.listdir(mine), out))
    phase("a directory holding someone else's files is refused at start (exit 2) and untouched")

    # 4. --retries: tests that fail on a daemon pass when retried on the
    #    developer; the daemons hold no final result, yet their attempts'
    #    files come back.
    with open(os.path.join(root, "tests.list"), "w") as f:
        for t in range(6):
            f.write("f%d\tsh -c 'mkdir -p out && echo $SHOAL_NODE > out/f%d-$SHOAL_NODE.txt; "
                    "case $SHOAL_NODE in d1|d2) exit 1;; esac'\n" % (t, t))
    commit_all(root)
    proc, log = developer(cluster, root, ident, daemons[0].addr, "art-retry", art,
                          ["--expect", "3", "--wait", "60", "--retries", "8"])
    rc = proc.wait(timeout=harness.scaled(120))
    out = open(log).read()
    came = {d.name: files_below(os.path.join(art, d.name, "out"))
            for d in daemons if os.path.isdir(os.path.join(art, d.name, "out"))}
    wrong = [(n, f) for n, fs in came.items() for f in fs if not f.endswith("-%s.txt" % n)]
    if rc != 0 or not any(came.values()) or wrong:
        raise TestFailure("--retries: exit %d, daemons' attempt files %s (misplaced %s):\n%s"
                          % (rc, came, wrong, out))
    phase("--retries: every test passed on the developer; the files of the %d attempts "
          "that failed on the daemons came back (%s)"
          % (sum(len(v) for v in came.values()),
             ", ".join("%s: %d" % (n, len(v)) for n, v in sorted(came.items()))))

    # 5. A daemon killed after running tests: their files are lost, and said so.
    checkout(root, "", 1)
    proc, log = developer(cluster, root, ident, daemons[0].addr, "art-4", art,
                          ["--expect", "3", "--wait", "60"])

    def d2_finished():
        s = harness.ask_control(cluster.shoal, daemons[0].control, "status", "d1") or []
        here = [a for a in s if a.get("session") == "art-4"]
        members = here[0].get("members", []) if here else []
        return any(m["name"] == "d2" and m["finished"] >= 1 for m in members), s

    harness.wait_for(d2_finished, 60, "d2 to finish a test of art-4")
    daemons[1].kill()
    rc = proc.wait(timeout=harness.scaled(120))
    out = open(log).read()
    by = placed(cluster, "art-4")
    lost = "shoal: artifacts of the %d test%s that ran on d2 are lost" % (
        len(by.get("d2", [])), "" if len(by.get("d2", [])) == 1 else "s")
    if "d2" in by and (rc != 4 or lost not in out):
        raise TestFailure("d2 ran %s and was killed; the run exited %d:\n%s"
                          % (by["d2"], rc, out))
    if "d2" not in by:
        raise TestFailure("d2 finished no test before it was killed: nothing to check:\n%s"
                          % out)
    phase("d2 killed after running %d tests: the run said their artifacts are lost and "
          "exited 4" % len(by["d2"]))


if __name__ == "__main__":
    harness.run(main)
