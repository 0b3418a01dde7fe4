"""Two participants x one slot run a Mocha suite; per test, shoal says what
Mocha alone says.

The suite (written here) has what ids must survive: a title with a tab, a
newline, a backslash and non-ASCII; the same full title in two files and
twice in one file; nested suites; a pending test; a test that passes on a
retry; an ES module; and hooks that fail (`before`, `beforeEach`,
`afterEach`, `after`), arranged so that how the tests are dealt does not
change what Mocha would say. Mocha alone runs it with the outcomes reporter
of scripts/conformance_suites (the tests a hook kept from running are
errors, the test a hook ran after is an error); then two `shoal run`
participants run it. Both exit 1, write the same JUnit file, both ran tests,
and every test's outcome is Mocha's.
"""
import json
import os

from mocha_suites import mocha_alone, mocha_or_skip
from runs import Runs, run_test, same_reports, phase, write_files, TestFailure

FILES = {
    "test/names.spec.js": r"""
const assert = require('assert');
describe('names', function () {
  it('odd\ttab\nnewline \\ backslash é ✓', function () {});
  it('twice', function () {});
  it('twice', function () { throw new Error('second of two'); });
  it.skip('pending', function () {});
  it('retried', function () { this.retries(2); global.tries = (global.tries || 0) + 1;
                              assert.ok(global.tries >= 2); });
  describe('nested', function () {
    describe('deeper', function () { it('fails', function () { assert.strictEqual(1, 2); }); });
  });
});
""",
    "test/again.spec.js": r"""
describe('names', function () { it('twice', function () {}); });
""",
    "test/hooks.spec.js": r"""
describe('hooks', function () {
  describe('before', function () {
    before(function () { throw new Error('before broke'); });
    it('b1', function () {});
    it('b2', function () {});
  });
  describe('beforeEach', function () {
    beforeEach(function () { if (this.currentTest.title === 'last') throw new Error('each broke'); });
    it('first', function () {});
    it('last', function () {});
  });
  describe('afterEach', function () {
    afterEach(function () { if (this.currentTest.title === 'last') throw new Error('teardown broke'); });
    it('first', function () {});
    it('last', function () {});
  });
  describe('after', function () {
    after(function () { throw new Error('after broke'); });
    it('only', function () {});
  });
});
""",
    "test/esm.spec.mjs": r"""
import assert from 'assert';
describe('esm', function () { it('imports', function () { assert.ok(true); }); });
""",
}


def shoal_outcomes(participant):
    with open(participant.json) as f:
        return {t["id"]: t["outcome"] for t in json.load(f)["tests"]}


def main(cluster):
    mocha_or_skip()
    suite = write_files(os.path.join(cluster.tmpdir, "suite"), FILES)
    args = ["test/**/*.spec.{js,mjs}"]
    alone = mocha_alone(suite, args)
    if len(alone) != 15:
        raise TestFailure("mocha alone reported %d tests, want 15: %s" % (len(alone), alone))
    runs = Runs(cluster, "mocha2x1")
    ps = runs.start(2, ["--expect", "2", "--slots", "1", "--", "mocha"] + args, cwd=suite)
    codes = runs.wait_all(120)
    if codes != [1, 1]:
        runs.dump()
        raise TestFailure("exit statuses %s, want [1, 1]" % codes)
    cases = same_reports(ps)
    hosts = {host for (_, host, _) in cases.values()}
    if len(hosts) != 2:
        raise TestFailure("tests ran on %s, want both participants" % hosts)
    got = shoal_outcomes(ps[0])
    if got != alone:
        diff = {k: (alone.get(k), got.get(k)) for k in set(alone) | set(got)
                if alone.get(k) != got.get(k)}
        raise TestFailure("outcomes differ from mocha alone (alone, shoal): %s" % diff)
    phase("15 tests on both participants, each with Mocha's outcome; same JUnit")
    for want in ["test/names.spec.js::names > twice (2)", "test/again.spec.js::names > twice",
                 "test/names.spec.js::names > odd\ttab\nnewline \\ backslash é ✓"]:
        if want not in got:
            raise TestFailure("no test %r in %s" % (want, sorted(got)))
    phase("odd titles and repeated titles keep ids of their own")


run_test(main)
