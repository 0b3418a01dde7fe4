"""A driver's framework with the session's features: go test under failover,
retries, JUnit and history.

Three participants x 1 slot run a go package of 24 recorded tests (each
appends start/end records, as mark.py does) and one flaky test that fails
only the first time. Once the leader has finished 8 tests it gets SIGKILL.
The user relies on: the survivors finish with every test reported once
(I1), no test running twice at once on live members (I2), the flaky test
retried on another participant and reported flaky, not failed (--retries 1),
JUnit's classname being the package (as go-junit-report writes it), and the
history keeping each test under its id with its duration, so the next
session is planned from it.
"""
import json
import os
import subprocess

import marks
from runs import Runs, framework, phase, run_test, same_reports, TestFailure

PACKAGE = "example.com/feat"
COUNT = 24


def write_module(root, log, state):
    os.makedirs(root)
    with open(os.path.join(root, "go.mod"), "w") as f:
        f.write("module %s\n\ngo 1.19\n" % PACKAGE)
    tests = "".join("func TestT%02d(t *testing.T) { mark(t, \"TestT%02d\", false) }\n" % (i, i)
                    for i in range(COUNT))
    with open(os.path.join(root, "feat_test.go"), "w") as f:
        f.write("""package feat

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// mark records the run as tests/cluster/mark.py does, so marks.check can
// prove that no test ran twice at once.
func mark(t *testing.T, id string, flaky bool) {
	note := func(text string) {
		f, err := os.OpenFile(%s, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
		if err != nil {
			t.Fatal(err)
		}
		f.WriteString(text + "\\n")
		f.Close()
	}
	now := func() float64 { return float64(time.Now().UnixNano()) / 1e9 }
	note(fmt.Sprintf("start %%s %%.6f %%s", id, now(), os.Getenv("SHOAL_NODE")))
	time.Sleep(300 * time.Millisecond)
	note(fmt.Sprintf("end %%s %%.6f", id, now()))
	if flaky {
		marker := filepath.Join(%s, id)
		if _, err := os.Stat(marker); err != nil {
			os.WriteFile(marker, nil, 0o644)
			t.Fatal("fails the first time only")
		}
	}
}

func TestFlaky(t *testing.T) { mark(t, "TestFlaky", true) }
""" % (json.dumps(log), json.dumps(state)) + tests)


def main(cluster):
    go = framework("go")
    root = os.path.join(cluster.tmpdir, "feat")
    log = os.path.join(cluster.tmpdir, "marks.log")
    state = os.path.join(cluster.tmpdir, "state")
    os.makedirs(state)
    write_module(root, log, state)
    ids = ["TestFlaky"] + ["TestT%02d" % i for i in range(COUNT)]

    runs = Runs(cluster, "gofeat")
    ps = runs.start(3, ["--expect", "3", "--slots", "1", "--retries", "1", "--",
                        go, "test", "./..."], cwd=root)
    leader = runs.leader(timeout=120)
    runs.wait_progress(leader, 8, timeout=120)
    leader.kill()
    phase("killed the leader %s after 8 tests" % leader.name)
    survivors = [p for p in ps if p is not leader]
    codes = runs.wait_all(120, survivors)
    if codes != [0, 0]:
        runs.dump()
        raise TestFailure("survivors exited %s, want [0, 0]" % codes)
    cases = same_reports(survivors)
    want = {(PACKAGE, i) for i in ids}
    if set(cases) != want or any(o != "passed" for (o, _, _) in cases.values()):
        raise TestFailure("want %d passed testcases of classname %s, got %s" % (
            len(want), PACKAGE, sorted((k, v[0]) for k, v in cases.items())))
    phase("%d tests passed once each on the survivors; classname is the package" % len(want))

    marks.check(log, ids, dead={leader.name})
    phase("no test ran twice at once on live members")

    flaky = cases[(PACKAGE, "TestFlaky")][2]
    if flaky.find("flakyFailure") is None:
        raise TestFailure("TestFlaky is not reported flaky")
    runs_of_flaky = len(marks.runs_of(log)["TestFlaky"])
    if runs_of_flaky < 2:
        raise TestFailure("TestFlaky ran %d times, want a retry" % runs_of_flaky)
    phase("the flaky test failed once, was retried and is reported flaky")

    show = subprocess.run([cluster.shoal, "history", "show", "--db", survivors[0].db,
                           "--project", "feat", "--json"], capture_output=True, text=True)
    history = json.loads(show.stdout or "{}")
    tests = {t.get("id"): t for t in history.get("tests", [])}
    missing = [i for i in ids if PACKAGE + "::" + i not in tests]
    if show.returncode != 0 or missing:
        raise TestFailure("history lacks %s (exit %d): %s" % (missing, show.returncode,
                                                              show.stdout[:400] + show.stderr))
    slow = [i for i, t in tests.items() if (t.get("mean") or 0) < 0.25]
    if slow:
        raise TestFailure("history durations off for %s: %s" % (slow, tests[slow[0]]))
    phase("history has every test under its id with the duration go measured")


run_test(main)
