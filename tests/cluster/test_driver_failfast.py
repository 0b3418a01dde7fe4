"""A driver's batch after a test ends the framework, spoken to over the
worker protocol (README, "Worker protocol") as a session does.

go test alone stops a package's tests when one of them ends the test binary
(os.Exit). Under shoal the user relies on: that test is an error; the tests
after it still get their real outcomes (run in a new invocation), since
go alone would have run them had the binary lived; but with -failfast, as
go alone would run nothing more, they come back `not-run` (the session
reports them so and stops), never run and never lost. With -count=2, a test
waiting for its second run when the binary ends keeps what its first run
said, as go alone reports it; it was not running.
"""
import os
import socket
import subprocess

import harness
from runs import framework, phase, run_test, write_files, TestFailure

SOURCE = '''package b

import (
	"os"
	"testing"
)

func TestB1(t *testing.T)    {}
func TestBExit(t *testing.T) { os.Exit(3) }
func TestBPanic(t *testing.T) { panic("kaboom") }
func TestB2(t *testing.T)    {}
'''


REPEATED = '''package c

import "testing"

var runs int

func TestFirst(t *testing.T) {}
func TestSecondRunPanics(t *testing.T) {
	runs++
	if runs == 2 {
		panic("second run")
	}
}
func TestAfter(t *testing.T) {}
'''


def batch(shoal, root, args, count=4):
    """Starts `shoal worker go -- go test ARGS ./...`, sends every listed test
    as one batch; returns {test: outcome} from its results."""
    ours, theirs = socket.socketpair()
    env = dict(os.environ, SHOAL_WORKER_CHANNEL=str(theirs.fileno()))
    proc = subprocess.Popen([shoal, "worker", "go", "--", "go", "test"] + args + ["./..."],
                            cwd=root, env=env, pass_fds=[theirs.fileno()],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    theirs.close()
    ours.settimeout(harness.scaled(120))
    lines = ours.makefile("rb")
    ids, got = [], {}
    try:
        for raw in lines:
            f = raw.decode().rstrip("\n").split("\t")
            if f[0] == "item":
                ids.append(f[1])
            elif f[0] == "ready":
                ours.sendall(("run\t0\t1\t" + "\t".join(ids) + "\n").encode())
            elif f[0] == "result":
                got[f[1].split("::")[1]] = f[2]
            elif f[0] == "done":
                break
    finally:
        lines.close()  # the end of the stream: the worker finishes and exits
        ours.close()
        proc.wait(timeout=harness.scaled(60))
    if len(ids) != count:
        raise TestFailure("listed %s: %s" % (ids, proc.stderr.read().decode()[-800:]))
    return got


def main(cluster):
    framework("go")
    root = os.path.join(cluster.tmpdir, "b")
    os.makedirs(root)
    with open(os.path.join(root, "go.mod"), "w") as f:
        f.write("module example.com/b\n\ngo 1.19\n")
    with open(os.path.join(root, "b_test.go"), "w") as f:
        f.write(SOURCE)

    got = batch(cluster.shoal, root, [])
    want = {"TestB1": "passed", "TestBExit": "error", "TestBPanic": "failed", "TestB2": "passed"}
    if got != want:
        raise TestFailure("without -failfast: %s, want %s" % (got, want))
    phase("os.Exit is an error; the tests after it ran in a new invocation")

    got = batch(cluster.shoal, root, ["-failfast"])
    want = {"TestB1": "passed", "TestBExit": "error", "TestBPanic": "not-run",
            "TestB2": "not-run"}
    if got != want:
        raise TestFailure("with -failfast: %s, want %s" % (got, want))
    phase("with -failfast the rest come back not run, as go alone runs nothing more")

    root = write_files(os.path.join(cluster.tmpdir, "c"), {
        "go.mod": "module example.com/c\n\ngo 1.19\n", "c_test.go": REPEATED})
    got = batch(cluster.shoal, root, ["-count=2"], count=3)
    want = {"TestFirst": "passed", "TestSecondRunPanics": "failed", "TestAfter": "passed"}
    if got != want:
        raise TestFailure("with -count=2: %s, want %s" % (got, want))
    phase("-count=2: a test between its runs when the binary ends keeps its first run's pass")


run_test(main)
