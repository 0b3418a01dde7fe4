"""Helpers for the Mocha cluster tests: Mocha present, a suite written from
text, and what Mocha alone says of each test (by shoal's ids, through the
outcomes reporter of scripts/conformance_suites)."""
import json
import os
import subprocess

import harness
from runs import framework

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
REPORTER = os.path.join(ROOT, "scripts", "conformance_suites", "mocha_outcomes.js")


def mocha_or_skip():
    framework("mocha", pinned=False)  # Debian's: skipped without it, failed in CI
    # Debian's mocha finds its modules there; a node from elsewhere does not look.
    os.environ["NODE_PATH"] = "/usr/share/nodejs"


def mocha_alone(cwd, args):
    """Per-test outcomes of Mocha alone (the outcomes reporter's file)."""
    out = os.path.join(cwd, "alone.json")
    subprocess.run(["mocha", "--reporter", REPORTER, "--reporter-option", "output=" + out] + args,
                   cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   timeout=harness.scaled(60))
    with open(out) as f:
        return {k: v["outcome"] for k, v in json.load(f)["tests"].items()}
