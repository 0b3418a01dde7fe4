"""Jest suites for scripts/conformance (--framework jest).

Packages whose npm tarballs ship their own Jest tests, installed with npm ci
from the pins in scripts/conformance_suites/js/SUITE (see _js.py):

  jest-mock-extended  3.0.5: lib/Matchers.spec.js and lib/Mock.spec.js, its
                      TypeScript tests as tsc compiled them for the tarball
                      (the repo runs them through ts-jest: the same tests).
                      Jest 29 as upstream; no config ships, Jest's defaults
                      find them. 160 tests.
  cron                1.8.2: tests/cron.test.js and tests/crontime.test.js,
                      with sinon 7.4.2 and moment-timezone 0.5.48 (cron asks
                      for ~7.4.x and ^0.5.x). Upstream ran Jest 24, whose
                      default environment was jsdom; its tests use none of it.
                      89 ids (92 tests: three pairs with the same full name
                      in one describe are one id each, as no -t can select
                      them apart); "should start and stop job" fails as
                      published.
  cron-time           cron's tests/crontime.test.js alone (quick: the CI suite)

Both run with build/js's pinned Jest 29.7.0, the version shoal's tests pin
(one Jest to install; the suites need nothing of an older one).
  command  jest --ci          (as upstream on CI)
  plain    jest --ci --json --outputFile REPORT
  native   jest --ci -w 2 --json --outputFile REPORT
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _js  # noqa: E402

JEST = os.path.join(_js.BIN, "jest")


def _suite(name, package, quick, paths=()):
    where = {}

    def prepare(workdir):
        _js.framework("jest")
        where["tree"] = _js.install(package, package, workdir)
        return where["tree"]

    def report(extra):
        return lambda path: [JEST, "--ci", *paths, *extra, "--json", "--outputFile", path]

    return {
        "name": name,
        "quick": quick,
        "prepare": prepare,
        "env": {"CI": "true", "FORCE_COLOR": "0"},
        "command": [JEST, "--ci", *paths],
        "plain": report([]),
        "native": report(["-w", "2"]),
        "outcomes": lambda path: _js.read_report(path, where["tree"], fold_case=True),
    }


NATIVE = "jest -w 2"

SUITES = [
    _suite("jest-mock-extended", "jest-mock-extended", False),
    _suite("cron", "cron", False),
    _suite("cron-time", "cron", True, ["tests/crontime.test.js"]),
]
