"""Vitest suites for scripts/conformance (--framework vitest).

zod 3.25.76 as npm serves it: its tarball ships src/ with the library's
TypeScript sources and their Vitest tests (src/v3/tests, src/v4/*/tests),
installed with npm ci from the pins in scripts/conformance_suites/js/zod
(see _js.py) with @standard-schema/spec 1.1.0, which one v3 test imports.
No Vitest config ships; js/zod/vitest.config.js does what the repository's
does: "zod/v4" and the like resolve through the "@zod/source" condition to
src/. Vitest is build/js's pinned 2.1.9 (zod's repository runs a newer one;
shoal's driver is tested against 2.1.9).

  zod-mini-string vitest run src/v4/mini/tests/string.test.ts (24 tests
                  in one file; quick: the CI suite)
  zod-mini        vitest run src/v4/mini  (12 files, 134 ids: 136 tests,
                  two pairs with the same full name merged)
  zod-v3          vitest run src/v3       (59 files, 536 ids)

  plain     vitest run PATH --reporter=json --outputFile=REPORT
  native    the same with --maxWorkers=2 --minWorkers=1 (the default pool)
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _js  # noqa: E402

VITEST = os.path.join(_js.BIN, "vitest")


def _suite(name, path, quick):
    where = {}

    def prepare(workdir):
        _js.framework("vitest")
        where["tree"] = _js.install("zod", "zod", workdir, files=["vitest.config.js"],
                                    link=["vitest"])
        return where["tree"]

    def report(extra):
        return lambda out: [VITEST, "run", path, *extra, "--reporter=json",
                            "--outputFile=" + out]

    return {
        "name": name,
        "quick": quick,
        "prepare": prepare,
        "env": {"CI": "true", "FORCE_COLOR": "0"},
        "command": [VITEST, "run", path],
        "plain": report([]),
        "native": report(["--maxWorkers=2", "--minWorkers=1"]),
        "outcomes": lambda out: _js.read_report(out, where["tree"], fold_case=False),
    }


NATIVE = "vitest 2 workers"

SUITES = [
    _suite("zod-mini-string", "src/v4/mini/tests/string.test.ts", True),
    _suite("zod-mini", "src/v4/mini", False),
    _suite("zod-v3", "src/v3", False),
]
