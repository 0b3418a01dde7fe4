"""Conformance suites for `shoal run -- cargo test`: crates Debian packages.

Each suite is the test suite of a crate whose source Debian installs under
/usr/share/cargo/registry (apt-get install cargo librust-NAME-dev), copied
into a work directory and built there offline with Debian's own source
replacement (.cargo/config.toml: crates-io replaced by that directory, and
CARGO_NET_OFFLINE=true), so its dev-dependencies come from Debian too:

  semver        (librust-semver-dev) 35 tests in 5 binaries and 3 doc tests;
                quick: builds in seconds, the CI suite
  regex-syntax  (librust-regex-syntax-dev) 324 unit tests, some of them
                seconds long, and 2 doc tests
  smallvec      (librust-smallvec-dev, librust-bincode-dev for its
                dev-dependency) 58 tests and 13 doc tests

Runs, each writing cargo's whole output (stdout and stderr) to the report
and, first, the test binaries' names (`--no-run --message-format=json`) to
REPORT.artifacts, which map cargo's "Running BINARY" lines to shoal's ids:
  plain   cargo test --no-fail-fast -- --test-threads=1
  native  cargo test --no-fail-fast      (libtest's default: a thread per CPU)
Outcomes are keyed as shoal's cargo driver keys them (node/driver_cargo.c):
PACKAGE/KIND:TARGET::NAME, and PACKAGE/doc:CRATE for a crate's doc tests as
one test (failed if one failed, skipped if all were ignored, else passed).
"""
import glob
import json
import os
import shlex
import shutil
import subprocess

REGISTRY = "/usr/share/cargo/registry"
CONFIG = """[source.crates-io]
replace-with = "debian"

[source.debian]
directory = "%s"
""" % REGISTRY
ENV = {"CARGO_NET_OFFLINE": "true", "CARGO_TERM_COLOR": "never"}


def cargo():
    """The cargo on PATH, or RuntimeError naming the package to install."""
    path = shutil.which("cargo")
    if not path:
        raise RuntimeError("no cargo on PATH: apt-get install cargo")
    return path


def crate_copy(crate, workdir, needs=()):
    """Copies the registry's crate into workdir with Debian's source
    replacement; needs: other registry crates its dev-dependencies want."""
    cargo()
    found = sorted(glob.glob(os.path.join(REGISTRY, crate + "-[0-9]*")))
    missing = [n for n in needs if not glob.glob(os.path.join(REGISTRY, n + "-[0-9]*"))]
    if not found or missing:
        raise RuntimeError("%s not in %s: apt-get install %s" % (
            ", ".join(([] if found else [crate]) + missing), REGISTRY,
            " ".join("librust-%s-dev" % n for n in ([] if found else [crate]) + missing)))
    dest = os.path.join(workdir, os.path.basename(found[-1]))
    shutil.rmtree(dest, ignore_errors=True)
    shutil.copytree(found[-1], dest, symlinks=True)
    os.makedirs(os.path.join(dest, ".cargo"), exist_ok=True)
    with open(os.path.join(dest, ".cargo", "config.toml"), "w") as f:
        f.write(CONFIG)
    return dest


def prebuild(cwd, env=None):
    """Builds the tests once (cargo caches builds: no run pays for it)."""
    proc = subprocess.run(["nice", cargo(), "test", "--no-run"], cwd=cwd,
                          env=dict(os.environ, **ENV, **(env or {})), stdin=subprocess.DEVNULL,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if proc.returncode != 0:
        raise RuntimeError("cargo test --no-run failed in %s:\n%s" % (cwd, proc.stdout[-3000:]))


def shell_run(report, cargo_args, libtest_args=()):
    """argv: the artifacts, then `cargo test ARGS [-- LIBTEST]` into report."""
    test = ["cargo", "test"] + list(cargo_args)
    if libtest_args:
        test += ["--"] + list(libtest_args)
    script = ("cargo test --no-run --message-format=json >%s 2>/dev/null; exec %s >%s 2>&1"
              % (shlex.quote(report + ".artifacts"), " ".join(map(shlex.quote, test)),
                 shlex.quote(report)))
    return ["/bin/sh", "-c", script]


# ---- reading cargo's output ----

def package_name(package_id):
    """A cargo package id's package name (both of cargo's formats)."""
    if " " in package_id:
        return package_id.split(" ", 1)[0]
    frag = package_id.rsplit("#", 1)[-1]
    if "@" in frag:
        return frag.split("@", 1)[0]
    return package_id.rsplit("#", 1)[0].split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]


def units(artifacts_text):
    """Binary file name -> id prefix, and crate name -> doc id, from cargo's
    --message-format=json lines."""
    binaries, docs = {}, {}
    for line in artifacts_text.splitlines():
        if not line.startswith("{"):
            continue
        msg = json.loads(line)
        if msg.get("reason") != "compiler-artifact":
            continue
        target = msg["target"]
        pkg = package_name(msg["package_id"])
        kind = target["kind"][0]
        kind = kind if kind in ("bin", "test", "bench", "example") else "lib"
        exe = msg.get("executable")
        if exe and msg["profile"]["test"]:
            binaries[os.path.basename(exe)] = "%s/%s:%s" % (pkg, kind, target["name"])
        if kind == "lib" and target.get("doctest"):
            docs[target["name"].replace("-", "_")] = "%s/doc:%s" % (pkg, target["name"])
    return binaries, docs


def outcomes_of(output, binaries, docs):
    """id -> passed/failed/skipped from cargo test's output (libtest's
    `test NAME ... WORD` lines under cargo's Running/Doc-tests lines)."""
    out, unit, doc = {}, None, False
    words = {"ok": "passed", "FAILED": "failed", "ignored": "skipped"}
    for line in output.splitlines():
        stripped = line.strip()
        if stripped.startswith("Running "):
            exe = stripped.rsplit(" ", 1)[-1].strip("()")
            unit, doc = binaries.get(os.path.basename(exe)), False
        elif stripped.startswith("Doc-tests "):
            unit, doc = docs.get(stripped.split(" ", 1)[1].replace("-", "_")), True
        elif unit and line.startswith("test ") and " ... " in line:
            name, word = line[5:].rsplit(" ... ", 1)
            outcome = words.get(word.split(",", 1)[0].split(" ", 1)[0])
            if not outcome:
                continue
            if not doc:
                out["%s::%s" % (unit, name.split(" - ", 1)[0])] = outcome
            elif outcome == "failed" or out.get(unit) in (None, "skipped"):
                out[unit] = outcome if out.get(unit) != "failed" else "failed"
    return out


def outcomes(report):
    with open(report + ".artifacts") as f:
        binaries, docs = units(f.read())
    with open(report, errors="replace") as f:
        return outcomes_of(f.read(), binaries, docs)


def suite(name, crate, quick, needs=()):
    def prepare(workdir):
        dest = crate_copy(crate, workdir, needs)
        prebuild(dest)
        return dest
    return {
        "name": name,
        "quick": quick,
        "prepare": prepare,
        "env": dict(ENV),
        "command": ["cargo", "test"],
        "plain": lambda report: shell_run(report, ["--no-fail-fast"], ["--test-threads=1"]),
        "native": lambda report: shell_run(report, ["--no-fail-fast"]),
        "outcomes": outcomes,
    }


SUITES = [
    suite("semver", "semver", True),
    suite("regex-syntax", "regex-syntax", False),
    suite("smallvec", "smallvec", False, needs=("bincode",)),
]
