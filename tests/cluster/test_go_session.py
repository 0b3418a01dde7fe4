"""Two participants run a small go module with `go test ./...` as one session.

Proves the go driver end to end against go test alone: every test go reports
has the same outcome under shoal (2 participants x 1 slot); a test name used
in two packages stays two tests; subtests (with '/' and odd characters) roll
up into their test, whose failure output has the subtest's message; unicode
and underscore names run; a package that does not build is one error naming
go's message while the others run; a test that ends its binary is an error
and the tests after it still get their real outcomes; a hanging test is
killed by --test-timeout and the rest of its package still runs; a test go
lists but never reports is an error that says so. Both participants write
the same JUnit file and exit 1.
"""
import importlib.util
import json
import os
import subprocess

from harness import scaled
from runs import Runs, framework, run_test, same_reports, phase, write_files, TestFailure

HERE = os.path.dirname(os.path.abspath(__file__))
_spec = importlib.util.spec_from_file_location(
    "go_suites", os.path.join(HERE, "..", "..", "scripts", "conformance_suites", "go.py"))
go_suites = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(go_suites)

GO_MOD = "module example.com/s\n\ngo 1.19\n"

FILES = {
    "go.mod": GO_MOD,
    "a/a_test.go": '''package a

import (
	"fmt"
	"testing"
)

func TestOne(t *testing.T) {}
func TestFails(t *testing.T) { t.Error("wanted failure") }
func TestSkip(t *testing.T) { t.Skip("skipped on purpose") }
func TestSub(t *testing.T) {
	t.Run("x/y", func(t *testing.T) { t.Error("sub x/y fails") })
	t.Run("odd name (1)+[x]|$", func(t *testing.T) {})
}
func Test_under_score(t *testing.T) {}
func Test\u00dcber(t *testing.T) {}
func TestParallelA(t *testing.T) { t.Parallel() }
func TestParallelB(t *testing.T) { t.Parallel() }
func FuzzSeeds(f *testing.F) { f.Add(1); f.Fuzz(func(t *testing.T, i int) {}) }
func ExampleHello() {
	fmt.Println("hi")
	// Output: hi
}
''',
    "b/b_test.go": '''package b

import "testing"

func TestOne(t *testing.T) { t.Error("b's TestOne fails") }
func TestTwo(t *testing.T) {}
''',
    "c/c_test.go": '''package c

import (
	"os"
	"testing"
)

func TestBefore(t *testing.T) {}
func TestCrash(t *testing.T) { os.Exit(3) }
func TestAfter1(t *testing.T) {}
func TestAfter2(t *testing.T) {}
''',
    "h/h_test.go": '''package h

import (
	"testing"
	"time"
)

func TestHang(t *testing.T) { time.Sleep(time.Hour) }
func TestQuick(t *testing.T) {}
''',
    "m/m_test.go": '''package m

import (
	"flag"
	"os"
	"testing"
)

// When running (not listing), TestGone is filtered out: go lists it but
// never reports it.
func TestMain(m *testing.M) {
	flag.Parse()
	if flag.Lookup("test.list").Value.String() == "" {
		flag.Set("test.run", "^TestStays$")
	}
	os.Exit(m.Run())
}

func TestStays(t *testing.T) {}
func TestGone(t *testing.T) {}
''',
    "broken/broken_test.go": '''package broken

import "testing"

func TestNever(t *testing.T) { undefinedFunction() }
''',
}


def go_env(tmpdir):
    return dict(os.environ, GOFLAGS="-mod=mod", GO111MODULE="on",
                GOCACHE=os.environ.get("GOCACHE") or os.path.join(tmpdir, "gocache"),
                GOPATH=os.path.join(tmpdir, "gopath"))


def main(cluster):
    go = framework("go")
    root = write_files(os.path.join(cluster.tmpdir, "gosuite"), FILES)
    env = go_env(cluster.tmpdir)
    os.environ.update({k: env[k] for k in ("GOFLAGS", "GO111MODULE", "GOCACHE", "GOPATH")})

    # go test alone, on every package but the one that hangs
    plain = subprocess.run([go, "test", "-json", "-count=1", "./a", "./b", "./c", "./m",
                            "./broken"], cwd=root, env=env, capture_output=True, text=True,
                           timeout=300)
    want = go_suites.plain_outcomes((plain.stdout + plain.stderr).splitlines())
    if plain.returncode == 0 or want.get("example.com/s/a::TestOne") != "passed":
        raise TestFailure("go test alone: exit %d, outcomes %s\n%s" % (
            plain.returncode, want, plain.stderr[-2000:]))
    phase("go test alone: %d outcomes, exit %d" % (len(want), plain.returncode))

    runs = Runs(cluster, "go2")
    ps = runs.start(2, ["--expect", "2", "--slots", "1", "--test-timeout", "%g" % scaled(5), "--",
                        "go", "test", "./..."], cwd=root)
    codes = runs.wait_all(240)
    if codes != [1, 1]:
        runs.dump()
        raise TestFailure("exit statuses %s, want [1, 1]" % codes)
    cases = same_reports(ps)
    with open(ps[0].json) as f:
        got = {t["id"]: t for t in json.load(f)["tests"]}
    outcome = {i: t["outcome"] for i, t in got.items()}

    differ = {i: (o, outcome.get(i)) for i, o in want.items() if outcome.get(i) != o}
    if differ:
        runs.dump()
        raise TestFailure("outcomes differ from go test alone (go, shoal): %s" % differ)
    phase("the %d outcomes go test alone reports are shoal's too" % len(want))

    s = "example.com/s/"
    expect = {s + "a::TestOne": "passed", s + "b::TestOne": "failed", s + "a::TestSub": "failed",
              s + "a::Test\u00dcber": "passed", s + "a::Test_under_score": "passed",
              s + "a::FuzzSeeds": "passed", s + "a::ExampleHello": "passed",
              s + "a::TestSkip": "skipped", s + "broken": "error",
              s + "c::TestCrash": "error", s + "c::TestAfter1": "passed",
              s + "c::TestAfter2": "passed", s + "h::TestHang": "error",
              s + "h::TestQuick": "passed", s + "m::TestStays": "passed",
              s + "m::TestGone": "error"}
    wrong = {i: (o, outcome.get(i)) for i, o in expect.items() if outcome.get(i) != o}
    if wrong or len(got) != 21:
        raise TestFailure("want (outcome, shoal's): %s; %d tests: %s" % (wrong, len(got),
                                                                         sorted(got)))
    phase("21 tests once each: same name in two packages, unicode, fuzz seeds, examples")

    sub = [c for (cls, name), (o, _, c) in cases.items() if name.endswith("TestSub")]
    failure = sub[0].find("failure") if sub else None
    if failure is None or "sub x/y fails" not in (failure.text or ""):
        raise TestFailure("TestSub's failure lacks its subtest's output")
    if "build failed" not in got[s + "broken"]["message"]:
        raise TestFailure("the broken package's error: %r" % got[s + "broken"]["message"])
    if "reported no result" not in got[s + "m::TestGone"]["message"]:
        raise TestFailure("the unreported test's error: %r" % got[s + "m::TestGone"]["message"])
    phase("subtest output rolls up; build failure and unreported test say why")


run_test(main)
