"""Helpers for ctest session tests: a CTest suite written straight as the
CTestTestfile.cmake files that CMake generates and ctest reads (no configure
step, so the tests stay quick), and per-test outcomes of ctest alone, read
from its JUnit file as scripts/conformance_suites/ctest.py reads them.
"""
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(HERE)), "scripts",
                                "conformance_suites"))
import ctest as conformance  # noqa: E402

MISSING = "/nonexistent/shoal-test-binary"


def write_suite(root, dirs, tail=""):
    """dirs maps a directory (relative to root, "." the top) to its tests:
    (name, shell command or MISSING, {PROPERTY: value}). The top lists the
    other directories as subdirs(). tail is CMake code put last in the top
    file. Returns root."""
    for rel, tests in dirs.items():
        lines = []
        for name, command, props in tests:
            argv = '"%s"' % MISSING if command == MISSING else '"sh" "-c" [==[%s]==]' % command
            lines.append("add_test([==[%s]==] %s)" % (name, argv))
            if props:
                lines.append("set_tests_properties([==[%s]==] PROPERTIES %s)" % (
                    name, " ".join("%s %s" % kv for kv in props.items())))
        if rel == ".":
            lines += ['subdirs("%s")' % d for d in dirs if d != "."] + [tail]
        os.makedirs(os.path.join(root, rel), exist_ok=True)
        with open(os.path.join(root, rel, "CTestTestfile.cmake"), "w") as f:
            f.write("\n".join(lines) + "\n")
    return root


def plain_outcomes(cwd, junit, args=()):
    """{id: outcome} of `ctest ARGS` alone in cwd."""
    subprocess.run(["ctest"] + list(args) + ["--output-junit", junit], cwd=cwd,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return conformance.junit_outcomes(junit, conformance.listing_ids(cwd, args))


def shoal_tests(participant):
    """{id: test} of a participant's --json report."""
    with open(participant.json) as f:
        return {t["id"]: t for t in json.load(f)["tests"]}
