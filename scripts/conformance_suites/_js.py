"""What the Jest and Vitest conformance suites share (jest.py, vitest.py).

A suite is a package as the npm registry serves it, whose tarball ships its
own tests. scripts/conformance_suites/js/SUITE holds a package.json naming
that package and what its tests require at exact versions, and the
package-lock.json that pins the rest (integrity hashes included); prepare
copies it into the work directory, runs `npm ci --prefer-offline` there (the
tarballs come from ~/.npm once fetched), moves the package itself out of
node_modules to be the tree the tests run in and puts node_modules beside
it. The framework is the one scripts/setup-frameworks pins in build/js.

Outcomes are read from the framework's --json report (Jest's format; Vitest's
json reporter writes the same) under the rules of shoal's driver
(node/driver_js.c): a test's id is FILE::ANCESTOR > ... > TITLE, FILE
relative to the directory the command runs in; tests of one file with the
same full name (for Jest, ignoring case) are one id, the first one's, with
the worst outcome (error > failed > passed > skipped); a file that did not
load is an error named by the file alone; a file that failed outside its
tests (an afterAll that threw) makes its last test that did not fail an
error, or every test when none ran.
"""
import json
import os
import shutil
import subprocess

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
HERE = os.path.join(ROOT, "scripts", "conformance_suites", "js")
BIN = os.path.join(ROOT, "build", "js", "node_modules", ".bin")


def framework(name):
    """build/js's pinned NAME, or RuntimeError saying how to install it."""
    path = os.path.join(BIN, name)
    if not os.access(path, os.X_OK):
        raise RuntimeError("%s is not installed in build/js: run scripts/setup-frameworks" % name)
    return path


def install(suite, package, workdir, files=(), link=()):
    """npm ci of js/SUITE in workdir; returns the package's tree, with its
    node_modules, files (names in js/SUITE) copied into it and link (names
    of build/js's packages, for the tests' `import ... from "vitest"`)
    linked into its node_modules."""
    if not shutil.which("npm"):
        raise RuntimeError("no npm on PATH: apt-get install nodejs npm")
    deps = os.path.join(workdir, "deps")
    os.makedirs(deps)
    for name in ("package.json", "package-lock.json", ".npmrc"):
        if os.path.exists(os.path.join(HERE, suite, name)):
            shutil.copy(os.path.join(HERE, suite, name), deps)
    proc = subprocess.run(["npm", "ci", "--prefer-offline", "--ignore-scripts", "--no-audit",
                           "--no-fund", "--loglevel=error"], cwd=deps, stdin=subprocess.DEVNULL,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if proc.returncode != 0:
        raise RuntimeError("npm ci failed in %s:\n%s" % (deps, proc.stdout[-3000:]))
    tree = os.path.join(workdir, package.replace("/", "-"))
    shutil.move(os.path.join(deps, "node_modules", package), tree)
    shutil.move(os.path.join(deps, "node_modules"), os.path.join(tree, "node_modules"))
    for name in files:
        shutil.copy(os.path.join(HERE, suite, name), tree)
    for name in link:
        os.symlink(os.path.join(os.path.dirname(BIN), name),
                   os.path.join(tree, "node_modules", name))
    return os.path.realpath(tree)


def _rank(outcome):
    return {"error": 3, "failed": 2, "passed": 1}.get(outcome, 0)


STATUS = {"passed": "passed", "failed": "failed", "pending": "skipped", "skipped": "skipped",
          "todo": "skipped", "disabled": "skipped"}


def read_report(path, cwd, fold_case):
    """{id: outcome} from a Jest-format JSON report, as shoal's driver keys
    and merges them (see the module's doc)."""
    with open(path) as f:
        report = json.load(f)
    out = {}
    prefix = cwd.rstrip("/") + "/"
    for result in report.get("testResults", []):
        name = result.get("name", "")
        rel = name[len(prefix):] if name.startswith(prefix) else name
        tests = result.get("assertionResults") or []
        if not tests:
            if result.get("status") == "failed":
                out[rel] = "error"
            continue
        ids, merged = {}, []  # key -> index into merged: [id, outcome]
        for t in tests:
            ancestors = [a for a in t.get("ancestorTitles") or [] if a]
            full = t.get("fullName") or " ".join(ancestors + [t.get("title", "")])
            key = full.lower() if fold_case else full
            outcome = STATUS.get(t.get("status"), "error")
            if key in ids:
                slot = merged[ids[key]]
                if _rank(outcome) > _rank(slot[1]):
                    slot[1] = outcome
                continue
            ids[key] = len(merged)
            merged.append(["%s::%s" % (rel, " > ".join(ancestors + [t.get("title", "")])),
                           outcome])
        failed_outside = result.get("status") == "failed" and not any(
            o in ("failed", "error") for _, o in merged)
        if failed_outside:
            last = [i for i, (_, o) in enumerate(merged) if o not in ("failed", "error")]
            for i, slot in enumerate(merged):
                if not last or i == last[-1]:
                    slot[1] = "error"
        for test_id, outcome in merged:
            out[test_id] = outcome
    return out
