"""Helpers for the Mocha cluster tests: Mocha present, a suite written from
text, and what Mocha alone says of each test (by shoal's ids, through the
outcomes reporter of scripts/conformance_suites)."""
import json
import os
import shutil
import subprocess

import harness

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
REPORTER = os.path.join(ROOT, "scripts", "conformance_suites", "mocha_outcomes.js")


def mocha_or_skip():
    if not shutil.which("mocha"):
        raise harness.TestSkip("mocha is not installed (scripts/setup-frameworks installs Debian's)")
    # Debian's mocha finds its modules there; a node from elsewhere does not look.
    os.environ["NODE_PATH"] = "/usr/share/nodejs"


def write_suite(root, files):
    for rel, text in files.items():
        path = os.path.join(root, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(text)
    return root


def mocha_alone(cwd, args):
    """Per-test outcomes of Mocha alone (the outcomes reporter's file)."""
    out = os.path.join(cwd, "alone.json")
    subprocess.run(["mocha", "--reporter", REPORTER, "--reporter-option", "output=" + out] + args,
                   cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   timeout=harness.scaled(60))
    with open(out) as f:
        return {k: v["outcome"] for k, v in json.load(f)["tests"].items()}
