"""Jest through shoal: a small suite written here, run by two participants of
one slot each and by Jest alone, compared test by test.

What a Jest user relies on: every test Jest would run is reported once with
Jest's own outcome (odd characters in names, describe blocks, test.each,
skip/todo, the same name in two files); two tests of one file with the same
full name (which no -t filter can select apart) are one id with the worse
outcome; a test that kills Jest is an error while the tests before and after
it keep their real outcomes; a test that hangs is ended by --test-timeout;
an afterAll that throws fails the run. Skipped when `jest` is not on
PATH.
"""
import json
import os
import subprocess

from harness import scaled
from runs import Runs, framework, run_test, phase, write_files, TestFailure

FILES = {
    "package.json": '{"name": "shoal-jest-sample", "version": "1.0.0"}\n',
    "__tests__/names.test.js":
        "describe('outer', () => {\n"
        "  test('adds (1+1)', () => { expect(1 + 1).toBe(2); });\n"
        "  describe('inner', () => {\n"
        "    test('fails', () => { expect(1).toBe(2); });\n"
        "    test.skip('skipped', () => {});\n"
        "    test.todo('todo');\n"
        "  });\n"
        "});\n"
        "test.each([1, 2, 3])('each %i', (n) => { expect(n).toBeGreaterThan(1); });\n"
        "test('odd [x] .* $ ^ | (y) {z} / \\\\ \"q\" \\'s\\' -t', () => {});\n"
        "test('shared name', () => {});\n"
        "test('twice', () => {});\n"
        "test('twice', () => { throw new Error('the second twice'); });\n",
    "__tests__/other.test.js":
        "test('shared name', () => { throw new Error('fails in other only'); });\n"
        "test('ok', () => {});\n",
    "__tests__/crash.test.js":
        "test('before the crash', () => {});\n"
        "test('crashes', () => { process.kill(process.pid, 'SIGKILL'); });\n"
        "test('after the crash', () => {});\n",
    "__tests__/hang.test.js":
        "test('hangs', () => new Promise(() => { setInterval(() => {}, 1000); }), 600000);\n"
        "test('after the hang', () => {});\n",
    "__tests__/afterall.test.js":
        "afterAll(() => { throw new Error('afterAll broke'); });\n"
        "test('only', () => {});\n",
}


def jest_alone(jest, root, report):
    """Per-test outcomes of Jest alone, keyed as shoal keys them."""
    subprocess.run([jest, "--ci", "--json", "--outputFile", report,
                    "--testPathIgnorePatterns", "crash|hang"],
                   cwd=root, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=300)
    with open(report) as f:
        data = json.load(f)
    rank = {"skipped": 0, "passed": 1, "failed": 2, "error": 3}
    outcomes = {}
    for file in data["testResults"]:
        rel = os.path.relpath(file["name"], root)
        seen = {}
        for a in file["assertionResults"]:
            o = {"passed": "passed", "failed": "failed"}.get(a["status"], "skipped")
            key = a["fullName"].lower()
            tid = seen.setdefault(key, rel + "::" + " > ".join(a["ancestorTitles"] + [a["title"]]))
            if rank[o] > rank.get(outcomes.get(tid), -1):
                outcomes[tid] = o
    return outcomes


def main(cluster):
    jest = framework("jest")
    root = os.path.join(cluster.tmpdir, "suite")
    write_files(root, FILES)
    alone = jest_alone(jest, root, os.path.join(cluster.tmpdir, "alone.json"))
    phase("jest alone: %d tests" % len(alone))

    runs = Runs(cluster, "jest2")
    ps = runs.start(2, ["--expect", "2", "--slots", "1", "--test-timeout", "%g" % scaled(10),
                        "--", jest], cwd=root)
    codes = runs.wait_all(240)
    if codes != [1, 1]:
        runs.dump()
        raise TestFailure("exit statuses %s, want [1, 1]" % codes)
    with open(ps[0].json) as f:
        report = {t["id"]: t for t in json.load(f)["tests"]}
    got = {i: t["outcome"] for i, t in report.items()}

    # the comparable part: the files Jest alone ran without crashing or hanging
    mismatches = {i: (o, got.get(i)) for i, o in alone.items() if got.get(i) != o
                  and not i.startswith("__tests__/afterall")}
    if mismatches:
        raise TestFailure("outcomes differ from jest alone (alone, shoal): %s" % mismatches)
    if got.get("__tests__/names.test.js::twice") != "failed" or \
            sum(1 for i in got if i.split("::", 1)[1] == "twice") != 1:
        raise TestFailure("two tests named 'twice' are not one failed id: %s" % got)
    phase("%d tests as jest alone says them, odd names and shared names included" % len(alone))

    want = {
        "__tests__/crash.test.js::before the crash": "passed",
        "__tests__/crash.test.js::crashes": "error",
        "__tests__/crash.test.js::after the crash": "passed",
        "__tests__/hang.test.js::hangs": "error",
        "__tests__/hang.test.js::after the hang": "passed",
        "__tests__/afterall.test.js::only": "error",
    }
    wrong = {i: (o, got.get(i), (report.get(i) or {}).get("message"))
             for i, o in want.items() if got.get(i) != o}
    if wrong:
        raise TestFailure("want (outcome, got, message): %s" % wrong)
    if "afterAll broke" not in (report["__tests__/afterall.test.js::only"].get("message") or ""):
        raise TestFailure("the afterAll error is not in the report")
    phase("crash, hang and afterAll are errors; their neighbours keep outcomes")


run_test(main)
