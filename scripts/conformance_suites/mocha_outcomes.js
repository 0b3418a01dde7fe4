'use strict';
/* A Mocha reporter that records what Mocha alone says of every test, keyed
 * by the ids shoal's Mocha worker gives (node/worker_mocha.js: `file >
 * suite > ... > title`, the file relative to the working directory, a
 * repeated id numbered ` (2)`, ` (3)` in Mocha's order), so a plain or
 * --parallel run compares with shoal's report test by test:
 *
 *   mocha --reporter .../mocha_outcomes.js --reporter-option output=FILE ...
 *
 * FILE gets {"tests": {id: {"outcome", "message"}}}. Outcomes are passed,
 * failed, skipped (pending) and error, which is what shoal reports of the
 * hooks Mocha reports apart: a test a `before`/`beforeEach` hook kept from
 * running, and the test an `afterEach`/`after` hook ran after. In serial
 * mode the tests a hook kept from running are found in the suite tree; in
 * --parallel mode the reporter sees only what ran.
 */
const fs = require('fs');
const path = require('path');

function kindOf(hook) {
  const title = hook.originalTitle || hook.title || '';
  for (const kind of ['before all', 'before each', 'after each', 'after all'])
    if (title.startsWith(`"${kind}" hook`)) return kind;
  return '';
}

function OutcomesReporter(runner, options) {
  const output = (options.reporterOptions || options.reporterOption || {}).output;
  if (!output) throw new Error('mocha_outcomes.js needs --reporter-option output=FILE');
  const tests = {}; // id -> {outcome, message}
  const seen = new Map(); // file + titlePath key -> ids given, in order met
  const idOf = new Map(); // Mocha's id of a test (or the test) -> our id
  const known = []; // [id, file, titlePath] of every test of the tree (serial mode)
  const blocked = []; // [file, suite titlePath, message] of before hooks that failed
  let last = null; // id of the test that reported last

  const fileOf = t => (t.file ? path.relative(process.cwd(), t.file) : '');
  const name = t => {
    const base = fileOf(t) + '::' + t.titlePath().join(' > ');
    const ids = seen.get(base) || [];
    seen.set(base, ids);
    let id = base;
    for (let n = 2; ids.includes(id) || tests[id]; n++) id = `${base} (${n})`;
    ids.push(id);
    return id;
  };
  // A test is one object in serial mode; in --parallel mode each event
  // brings a copy, with the same Mocha id.
  const id = t => {
    const original = (t.retriedTest && t.retriedTest()) || t;
    const key = original.__mocha_id__ || original.id || original;
    if (idOf.has(key)) return idOf.get(key);
    const given = name(original);
    idOf.set(key, given);
    return given;
  };
  const set = (t, outcome, message) => {
    last = id(t);
    const prior = tests[last];
    if (prior && prior.outcome === 'failed' && outcome !== 'failed') return;
    tests[last] = {outcome, message: message || ''};
  };

  runner.on('start', () => {
    // Serial mode: the whole tree, with the runner's grep, in Mocha's order.
    const walk = suite => {
      for (const t of suite.tests || []) {
        const grep = runner._grep;
        if (grep && runner._invert === grep.test(t.fullTitle())) continue;
        known.push([id(t), fileOf(t), t.titlePath()]);
      }
      (suite.suites || []).forEach(walk);
    };
    if (runner.suite && !runner.isParallelMode()) walk(runner.suite);
  });
  runner.on('test', t => known.push([id(t), fileOf(t), t.titlePath()]));
  runner.on('pass', t => set(t, 'passed'));
  runner.on('pending', t => set(t, 'skipped'));
  runner.on('fail', (r, err) => {
    const message = `${(err && err.message) || err}`.split('\n')[0];
    if (r.type === 'test') return set(r, 'failed', message);
    const kind = kindOf(r);
    const file = fileOf(r);
    const suitePath = r.titlePath().slice(0, -1);
    if (kind === 'before all' || kind === 'before each' || kind === 'after each')
      blocked.push([file, suitePath, message]);
    let after = null;
    if (kind === 'after each' && r.ctx && r.ctx.currentTest) after = id(r.ctx.currentTest);
    else if (kind === 'after all' || kind === '') after = last;
    if (after && tests[after] && tests[after].outcome !== 'failed')
      tests[after] = {outcome: 'error', message};
  });
  runner.once('end', () => {
    for (const [tid, file, titlePath] of known) {
      if (tests[tid]) continue;
      const hook = blocked.find(([f, suite]) => f === file &&
                                  suite.every((title, i) => titlePath[i] === title));
      tests[tid] = {outcome: 'error', message: hook ? `not run: ${hook[2]}` : 'not run'};
    }
    fs.writeFileSync(output, JSON.stringify({tests}, null, 1));
  });
}

module.exports = OutcomesReporter;
