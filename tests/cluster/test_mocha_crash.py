"""A Mocha worker that dies, hangs or is stopped by Mocha mid-batch.

One participant, one slot, --test-timeout 3, on a suite (written here)
whose tests each log that they ran:
 - a test throws after it passed: Mocha fails it and aborts its run, so the
   batch's next test gets nothing from Mocha; the worker runs it again in a
   run of its own: it passes (and a failing one after it fails);
 - a test kills its worker (SIGKILL): it is an error naming the signal, the
   tests after it get their real outcomes from a new worker;
 - a test never finishes: it is an error after 3 s, the rest still run.
Every test ran exactly once; the exit status is 1.
"""
import json
import os

from mocha_suites import mocha_or_skip
from harness import scaled
from runs import Runs, run_test, phase, write_files, TestFailure

SUITE = r"""
const fs = require('fs');
const ran = title => fs.appendFileSync(process.env.RUNLOG, title + '\n');
describe('crash', function () {
  it('passes then throws', function () {
    ran(this.test.title);
    process.nextTick(() => { throw new Error('thrown after passing'); });
  });
  it('left by the abort', function () { ran(this.test.title); });
  it('fails', function () { ran(this.test.title); throw new Error('a real failure'); });
  it('before the crash', function () { ran(this.test.title); });
  it('dies', function () { ran(this.test.title); process.kill(process.pid, 'SIGKILL'); });
  it('after the crash', function () { ran(this.test.title); });
  it('hangs', function (done) { ran(this.test.title); this.timeout(0); });
  it('after the hang', function () { ran(this.test.title); });
});
"""

WANT = {
    "passes then throws": "failed",
    "left by the abort": "passed",
    "fails": "failed",
    "before the crash": "passed",
    "dies": "error",
    "after the crash": "passed",
    "hangs": "error",
    "after the hang": "passed",
}


def main(cluster):
    mocha_or_skip()
    suite = write_files(os.path.join(cluster.tmpdir, "suite"), {"test/crash.spec.js": SUITE})
    log = os.path.join(cluster.tmpdir, "ran.log")
    os.environ["RUNLOG"] = log
    runs = Runs(cluster, "mochacrash")
    p = runs.start(1, ["--slots", "1", "--test-timeout", "%g" % scaled(3), "--", "mocha"], cwd=suite)[0]
    if runs.wait_all(120) != [1]:
        runs.dump()
        raise TestFailure("exit status %s, want 1" % p.code)
    with open(p.json) as f:
        results = {t["id"].rsplit(" > ", 1)[1]: t for t in json.load(f)["tests"]}
    got = {title: r["outcome"] for title, r in results.items()}
    if got != WANT:
        runs.dump()
        raise TestFailure("outcomes %s, want %s" % (got, WANT))
    if "signal 9" not in results["dies"]["message"]:
        raise TestFailure("the crash says %r" % results["dies"]["message"])
    if "timed out" not in results["hangs"]["message"]:
        raise TestFailure("the hang says %r" % results["hangs"]["message"])
    if "thrown after passing" not in results["passes then throws"]["message"]:
        raise TestFailure("the late error says %r" % results["passes then throws"]["message"])
    phase("the crash and the hang are errors naming why; the rest have Mocha's outcomes")
    with open(log) as f:
        ran = f.read().splitlines()
    if sorted(ran) != sorted(WANT):
        raise TestFailure("tests ran %s, want each once" % ran)
    phase("every test ran exactly once")


run_test(main)
