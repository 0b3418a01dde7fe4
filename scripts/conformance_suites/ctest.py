"""ctest suites for `scripts/conformance --framework ctest`.

Each suite is a CMake project configured and built under the harness's work
directory, then run from its build directory by plain `ctest`, `ctest -j 2`
and shoal. Per-test outcomes of a ctest run come from ctest's own JUnit file
(`--output-junit`), read by ctest's own rule, as the shoal driver
(node/driver_ctest.c) reads it: a failure element is failed; a test ctest did
not run is skipped when a SKIP_RETURN_CODE or SKIP_REGULAR_EXPRESSION said so
(its message starts with SKIP_) or it is DISABLED, and an error otherwise (a
missing executable, a failed fixture: ctest counts them failed). Ids are the
driver's: the test's name, or DIR::NAME for a name that several directories
use (NAME #k when the directory does not tell them apart).

Suites, all from Debian packages (nothing is downloaded):
  shoal-unit  shoal's own unit tests (`ctest -L unit`, 210 tests), from a
              copy of this checkout; needs the build dependencies scripts/setup
              installs. Building shoal_unit takes 1-2 minutes on 2 cores: not
              quick (CI compares ctest and shoal in tests/cluster/test_ctest_*
              instead, on suites written there)
  googletest  googletest's own test suite and samples (45 CTest tests, C++
              and Python), from the sources the `googletest` package installs
              in /usr/src/googletest (-Dgtest_build_tests=ON
              -Dgtest_build_samples=ON; gmock off to keep the build shorter);
              needs g++ and python3. The build takes 5-15 minutes on 2 cores
"""
import json
import os
import shutil
import subprocess
import xml.etree.ElementTree as ET

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _build(src, build, options, targets=()):
    """Configures src into build and builds targets (all if none), niced."""
    steps = [["cmake", "-S", src, "-B", build, "-DCMAKE_BUILD_TYPE=RelWithDebInfo"] + options,
             ["nice", "cmake", "--build", build, "-j2"] + [w for t in targets
                                                          for w in ("--target", t)]]
    for argv in steps:
        done = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        if done.returncode != 0:
            raise RuntimeError("%s failed:\n%s" % (" ".join(argv), done.stdout[-3000:]))
    return build


def _below(path, top):
    """path relative to top ("." for top itself), or None outside it."""
    rel = os.path.relpath(path, top)
    return None if rel == ".." or rel.startswith("../") else rel


def listing_ids(cwd, args=()):
    """[(name, id)] in ctest's order, as the shoal driver names tests."""
    out = subprocess.run(["ctest", "--show-only=json-v1"] + list(args), cwd=cwd,
                         stdout=subprocess.PIPE, text=True, check=True).stdout
    tests = json.loads(out[out.index("{\n"):])["tests"]
    test_dir = os.path.realpath(cwd)
    wds = []
    for t in tests:
        props = {p["name"]: p["value"] for p in t.get("properties", [])}
        wds.append(props.get("WORKING_DIRECTORY", ""))
    ids = [t["name"] for t in tests]
    groups = {}
    for i, t in enumerate(tests):
        groups.setdefault(t["name"], []).append(i)
    for name, group in groups.items():
        if len(group) < 2:
            continue
        rels = [_below(wds[i], test_dir) for i in group]
        by_dir = None not in rels and len({wds[i] for i in group}) == len(group)
        for k, i in enumerate(group):
            ids[i] = "%s::%s" % (rels[k], name) if by_dir else "%s #%d" % (name, k + 1)
    return [(t["name"], ids[i]) for i, t in enumerate(tests)]


def junit_outcomes(path, names_ids):
    """{id: outcome} of ctest's JUnit file; names_ids from listing_ids. The
    file lists tests in ctest's order, so the k-th testcase called X is the
    k-th listed test called X."""
    queue = {}
    for name, test_id in names_ids:
        queue.setdefault(name, []).append(test_id)
    outcomes = {}
    for case in ET.parse(path).getroot().iter("testcase"):
        skipped = case.find("skipped")
        if case.get("status") == "disabled":
            outcome = "skipped"
        elif case.find("failure") is not None:
            outcome = "failed"
        elif skipped is not None:
            outcome = "skipped" if skipped.get("message", "").startswith("SKIP_") else "error"
        else:
            outcome = "passed"
        ids = queue.get(case.get("name"), [])
        outcomes[ids.pop(0) if ids else case.get("name")] = outcome
    return outcomes


def _suite(name, quick, prepare, args):
    state = {}

    def prepared(workdir):
        state["cwd"] = prepare(workdir)
        return state["cwd"]

    return {
        "name": name,
        "quick": quick,
        "prepare": prepared,
        "env": {},
        "command": ["ctest"] + args,
        "plain": lambda report: ["ctest"] + args + ["--output-junit", report],
        "native": lambda report: ["ctest", "-j", "2"] + args + ["--output-junit", report],
        "outcomes": lambda report: junit_outcomes(report, listing_ids(state["cwd"], args)),
    }


def _shoal_unit(workdir):
    src = os.path.join(workdir, "shoal-src")
    if not os.path.isdir(src):
        shutil.copytree(ROOT, src, symlinks=True,
                        ignore=shutil.ignore_patterns(".git", "build*", "__pycache__"))
    return _build(src, os.path.join(workdir, "shoal-build"), [], ["shoal_unit"])


def _googletest(workdir):
    if not os.path.isfile("/usr/src/googletest/googletest/test/gtest_unittest.cc"):
        raise RuntimeError("googletest's sources are missing: apt-get install googletest")
    if not shutil.which("g++"):
        raise RuntimeError("no C++ compiler: apt-get install g++")
    src = os.path.join(workdir, "googletest-src")
    if not os.path.isdir(src):
        shutil.copytree("/usr/src/googletest", src, symlinks=True)
    return _build(src, os.path.join(workdir, "googletest-build"),
                  ["-DBUILD_GMOCK=OFF", "-Dgtest_build_tests=ON", "-Dgtest_build_samples=ON"])


SUITES = [
    _suite("shoal-unit", False, _shoal_unit, ["-L", "unit"]),
    _suite("googletest", False, _googletest, []),
]
