"""Mocha suites for `scripts/conformance --framework mocha`.

Real suites nobody on the project wrote: npm packages whose published
tarball carries their Mocha tests, fetched with `npm pack NAME@VERSION`
(the npm registry; npm's cache keeps a second prepare offline), unpacked,
given their runtime dependencies (`npm install --omit=dev`) and the exact
test-only packages their tests require (chai, and the Mocha they run with,
pinned). One Mocha per major version shoal's worker supports: 9 and 11 and
12 from npm, 10.1 from Debian (`apt-get install mocha`, which needs
NODE_PATH=/usr/share/nodejs under a node that is not Debian's).

Outcomes of the plain and --parallel runs come from mocha_outcomes.js, a
reporter that keys them by shoal's ids (see that file).
"""
import json
import os
import shutil
import subprocess

HERE = os.path.dirname(os.path.abspath(__file__))
REPORTER = os.path.join(HERE, "mocha_outcomes.js")
DEBIAN_MOCHA = "/usr/share/nodejs/mocha"


def _npm(args, cwd):
    proc = subprocess.run(["npm", "--no-audit", "--no-fund", "--loglevel=error"] + args, cwd=cwd,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if proc.returncode != 0:
        raise RuntimeError("npm %s failed in %s:\n%s" % (" ".join(args), cwd, proc.stdout[-2000:]))
    return proc.stdout


def _prepare(package, version, test_deps, runtime=True):
    """npm pack + unpack into workdir/NAME, its dependencies, test_deps."""
    def prepare(workdir):
        if not shutil.which("npm"):
            raise RuntimeError("npm is not installed")
        dest = os.path.join(workdir, package)
        shutil.rmtree(dest, ignore_errors=True)
        os.makedirs(dest)
        tgz = _npm(["pack", "%s@%s" % (package, version)], workdir).strip().splitlines()[-1]
        subprocess.run(["tar", "xzf", os.path.join(workdir, tgz), "-C", dest,
                        "--strip-components=1"], check=True)
        if runtime:
            _npm(["install", "--omit=dev"], dest)
        if test_deps:
            _npm(["install", "--no-save"] + test_deps, dest)
        return dest
    return prepare


def _debian_mocha(prepare):
    def checked(workdir):
        if not os.path.exists(os.path.join(DEBIAN_MOCHA, "package.json")):
            raise RuntimeError("Debian's mocha is not installed (apt-get install mocha)")
        return prepare(workdir)
    return checked


def _suite(name, prepare, command, env=None, why=""):
    def plain(report):
        return command + ["--reporter", REPORTER, "--reporter-option", "output=" + report]

    def native(report):
        return command + ["--parallel", "--jobs", "2", "--reporter", REPORTER,
                          "--reporter-option", "output=" + report]

    def outcomes(report):
        with open(report) as f:
            return {k: v["outcome"] for k, v in json.load(f)["tests"].items()}

    return {"name": name, "quick": True, "prepare": prepare, "env": dict(env or {}),
            "command": command, "plain": plain, "native": native, "outcomes": outcomes,
            "why": why}


SUITES = [
    _suite("object-path", _prepare("object-path", "0.11.8", ["chai@4.3.4", "mocha@9.2.2"]),
           ["npx", "mocha", "test.js"],
           why="its `npm test` (mocha test.js), Mocha 9 from npm through npx"),
    _suite("jsonpath", _debian_mocha(_prepare("jsonpath", "1.1.1", [])),
           ["mocha", "-u", "tdd", "test"], env={"NODE_PATH": "/usr/share/nodejs"},
           why="its `npm test` (the tdd interface), Debian's Mocha 10.1"),
    _suite("complex.js", _prepare("complex.js", "2.1.1", ["mocha@12.0.3"]),
           ["npx", "mocha", "tests/*.js"],
           why="its `npm test` (mocha tests/*.js), Mocha 12 (ES modules) from npm"),
    _suite("numeral", _prepare("numeral", "2.0.6", ["chai@3.5.0", "mocha@11.7.5"]),
           ["npx", "mocha", "tests/numeral.js", "tests/formats/*.js", "tests/locales/*.js"],
           why="the files its Gruntfile's mochaTest runs, Mocha 11 from npm"),
]
