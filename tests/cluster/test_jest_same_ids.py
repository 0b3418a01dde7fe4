"""Two Jest tests whose full names differ but whose ids would not.

`describe('a', () => test('b'))` and a top-level `test('a > b')` have the
full names "a b" and "a > b", which a name filter tells apart, but both
would be `a.test.js::a > b`. A worker that listed one id twice used to stop,
and the session ran nothing (exit 3). The user relies on both running, each
with its own outcome: the second is numbered, as Mocha's repeats are.
"""
import json
import os

from runs import Runs, framework, phase, run_test, write_files, TestFailure


def main(cluster):
    jest = framework("jest")
    root = write_files(os.path.join(cluster.tmpdir, "ids"), {
        "package.json": '{"name": "ids"}\n',
        "a.test.js": "describe('a', () => { test('b', () => {}); });\n"
                     "test('a > b', () => { expect(1).toBe(2); });\n",
    })
    p = Runs(cluster, "sameids").participant().start(["--slots", "1", "--no-history", "--", jest],
                                                     cwd=root)
    code = p.wait(300)
    try:
        with open(p.json) as f:
            got = {t["id"]: t["outcome"] for t in json.load(f)["tests"]}
    except (OSError, ValueError):
        got = None
    want = {"a.test.js::a > b": "passed", "a.test.js::a > b (2)": "failed"}
    if code != 1 or got != want:
        raise TestFailure("exit %s, outcomes %s; want exit 1, %s\n%s" % (
            code, got, want, p.stderr()[-1500:]))
    phase("both tests ran under distinct ids, each with its own outcome")


run_test(main)
