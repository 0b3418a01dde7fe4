"""Helpers for the cargo test cluster tests: small crates written by the test.

Crates have no dependencies, so they build offline with whichever cargo is on
PATH (Debian's `cargo` package, rustc 1.63, is enough). Without cargo the
test is skipped (exit 77) saying so, or fails in CI (runs.framework). Plain cargo's per-test outcomes are read
the way scripts/conformance_suites/cargo.py reads them, keyed by the ids
shoal's cargo driver gives (PACKAGE/KIND:TARGET::NAME, PACKAGE/doc:CRATE).
"""
import importlib.util
import json
import os
import subprocess

from harness import TestFailure, phase
from runs import framework

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
ENV = {"CARGO_NET_OFFLINE": "true", "CARGO_TERM_COLOR": "never", "RUST_BACKTRACE": "0"}


def conformance():
    """scripts/conformance_suites/cargo.py, which reads cargo's output."""
    path = os.path.join(ROOT, "scripts", "conformance_suites", "cargo.py")
    spec = importlib.util.spec_from_file_location("conformance_cargo", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def require_cargo():
    """The cargo on PATH (runs.framework: skipped without it, failed in CI)."""
    path = framework("cargo")
    version = subprocess.run([path, "--version"], capture_output=True, text=True).stdout.strip()
    phase("using %s (%s)" % (path, version))
    return path


def env():
    return dict(os.environ, **ENV)


def prebuild(root):
    """Builds the tests once, as a CI job's earlier step would."""
    proc = subprocess.run(["cargo", "test", "--no-run"], cwd=root, env=env(),
                          stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, timeout=600)
    if proc.returncode != 0:
        raise TestFailure("cargo test --no-run failed:\n%s" % proc.stdout[-3000:])


def plain_outcomes(root, report):
    """cargo test alone, one test at a time: id -> outcome."""
    c = conformance()
    subprocess.run(c.shell_run(report, ["--no-fail-fast"], ["--test-threads=1"]), cwd=root,
                   env=env(), stdin=subprocess.DEVNULL, timeout=600)
    return c.outcomes(report)


def shoal_outcomes(participant):
    """id -> (outcome, message, output) from a participant's --json report."""
    with open(participant.json) as f:
        return {t["id"]: (t["outcome"], t.get("message") or "", t.get("output") or "")
                for t in json.load(f)["tests"]}
