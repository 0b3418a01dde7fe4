"""go test suites for scripts/conformance (--framework go).

Real Go libraries as Debian ships them: the golang-*-dev packages install
their sources, _test.go files included, under /usr/share/gocode/src. They
build offline in GOPATH mode (GO111MODULE=off) from a copy of that tree, with
the Debian golang-go compiler (1.19 on Debian 12):

  go-difflib  golang-github-pmezard-go-difflib-dev   17 tests (quick)
  pflag       golang-github-spf13-pflag-dev          go 1.19's vet fails the
              package: one build-failure error, as go test alone reports (quick)
  testify     golang-github-stretchr-testify-dev     384 tests, 6 packages
  objx        golang-github-stretchr-objx-dev        255 tests (testify's dependency)
  go-cmp      golang-github-google-go-cmp-dev        go-cmp's packages

Ids are shoal's: "IMPORTPATH::TestName"; a package that does not build is one
error named by its import path. Outcomes of a plain or `-p 2` run are read
from go test -json (stdout and stderr) with the driver's rules: a top-level
test's own result (its subtests are part of it); runs nested in a running
test (testify's suite tests call testing.RunTests) do not count; a test
begun and never ended in a failed package is an error.
"""
import json
import os
import shutil
import subprocess
import tempfile

SRC = "/usr/share/gocode/src"
GOPATH = os.path.join(tempfile.gettempdir(), "shoal-conformance-go", "gopath")
ENV = {"GO111MODULE": "off", "GOPATH": GOPATH, "GOFLAGS": ""}


def _prepare(packages, debs):
    def prepare(workdir):
        del workdir  # GOPATH is fixed so that ENV can name it
        if not shutil.which("go"):
            raise RuntimeError("go is not installed (apt-get install golang-go)")
        for pkg, deb in zip(packages, debs):
            if not os.path.isdir(os.path.join(SRC, pkg.rstrip("./"))):
                raise RuntimeError("%s is missing (apt-get install %s)" % (pkg, deb))
        src = os.path.join(GOPATH, "src")
        shutil.rmtree(os.path.dirname(GOPATH), ignore_errors=True)
        shutil.copytree(SRC, src, symlinks=True)
        # compile once, so no runner pays for a cold build cache
        subprocess.run(["go", "test", "-list", ".", *packages], cwd=src,
                       env=dict(os.environ, **ENV), capture_output=True, timeout=900)
        return src
    return prepare


def _go_json(extra, packages):
    def argv(report_path):
        return ["sh", "-c", 'exec go test -json -count=1 "$@" > "$0" 2>&1', report_path,
                *extra, *packages]
    return argv


def plain_outcomes(lines):
    """id -> passed/failed/skipped/error from go test -json output lines."""
    out, running, nest, said, started = {}, {}, {}, set(), set()
    for line in lines:
        if not line.startswith("{"):
            if line.startswith("FAIL\t") and line.endswith("failed]") and " [" in line:
                out[line[5:line.index(" [")]] = "error"
            continue
        try:
            e = json.loads(line)
        except ValueError:
            continue
        test, pkg, action = e.get("Test"), e.get("Package"), e.get("Action")
        if not test or "/" in test:
            if not test and action == "fail":
                for key in [k for k in running if k[0] == pkg]:
                    out["%s::%s" % key] = "error"
                    del running[key]
            continue
        key = (pkg, test)
        if action == "run":
            if any(k[0] == pkg for k in running):
                nest[key] = nest.get(key, 0) + 1
            else:
                running[key] = True
                started.add(key)
                said.discard(key)
        elif action in ("pause", "cont") and not nest.get(key) and key in started:
            if action == "pause":
                running.pop(key, None)
            else:
                running[key] = True
        elif action == "output" and e.get("Output", "")[:4] == "--- ":
            if e["Output"][10:].startswith(test + " "):
                said.add(key)
        elif action in ("pass", "fail", "skip"):
            if nest.get(key):
                nest[key] -= 1
                continue
            if key not in said:  # the binary ended while the test ran
                continue
            running.pop(key, None)
            started.discard(key)
            out["%s::%s" % key] = {"pass": "passed", "fail": "failed", "skip": "skipped"}[action]
    return out


def outcomes(report_path):
    with open(report_path, errors="replace") as f:
        return plain_outcomes(f.read().splitlines())


def _suite(name, quick, packages, debs, exits=None):
    return {
        "exits": exits or {},
        "name": name,
        "quick": quick,
        "prepare": _prepare(packages, debs),
        "env": dict(ENV),
        "command": ["go", "test", *packages],
        "plain": _go_json([], packages),
        "native": _go_json(["-p", "2"], packages),
        "outcomes": outcomes,
    }


NATIVE = "go -p 2"

SUITES = [
    _suite("go-difflib", True, ["github.com/pmezard/go-difflib/..."],
           ["golang-github-pmezard-go-difflib-dev"]),
    # go test exits 2 when a package does not build; shoal reports the package
    # as an error and exits 1, as for any failed test (2 is its usage error)
    _suite("pflag", True, ["github.com/spf13/pflag/..."], ["golang-github-spf13-pflag-dev"],
           exits={2: 1}),
    _suite("testify", False, ["github.com/stretchr/testify/..."],
           ["golang-github-stretchr-testify-dev"]),
    _suite("objx", False, ["github.com/stretchr/objx/..."], ["golang-github-stretchr-objx-dev"]),
    _suite("go-cmp", False, ["github.com/google/go-cmp/..."], ["golang-github-google-go-cmp-dev"]),
]
