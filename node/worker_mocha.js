'use strict';
/* shoal's Mocha worker: Mocha loads and runs; shoal only deals.

Started by shoal only, as `node shoal_mocha_worker.js HOW PROGRAM ARGS...`
with SHOAL_WORKER_CHANNEL naming the channel's descriptor (the protocol is
in node/worker.h: one line per event, tab-separated fields, every field
escaped and capped with a marker where it is cut). PROGRAM is the word of
the user's command that names Mocha and HOW how that command finds it
("path": as a shell does; "npx": the nearest node_modules/.bin first), so
this worker loads the same Mocha the command would.

Mocha's own CLI does everything up to the run: it parses ARGS and the
.mocharc/package.json configuration, loads --require modules (root hooks,
global fixtures), checks the reporter and UI, collects the spec files and
loads them (ESM too). Its call to Mocha#run is where this worker takes over:
it reports every test Mocha would run (.only, --grep, --fgrep, --invert
applied as Mocha applies them), then runs each batch it is sent as one
Mocha run of exactly those Test objects (the suite tree is pruned to them,
then restored), reading every outcome from the runner's events.

What differs from Mocha alone, and why:
 - --parallel/--jobs are ignored (shoal's slots are the parallelism), with a
   notice; --watch is refused; --bail becomes shoal's maxfail 1 (the session
   stops dealing), not a stop inside a batch;
 - the user's reporter does not run in the workers: shoal prints the
   outcomes and writes the reports (--junit, --json);
 - each batch is a Mocha run: the `before`/`after` hooks of a suite (and
   root hooks) run once per batch that has tests of it, as in --parallel
   mode they run once per file. Holding a batch's last test back (pytest's
   model) would not keep a suite open across runs, so this worker never
   holds: it ignores `hold` and never says `held`;
 - a failing `before`/`beforeEach` hook makes the tests it kept from running
   errors carrying the hook's failure (Mocha alone reports only the hook);
   an `afterEach`/`after` hook's failure is the error of the test it ran
   after (Mocha reports the hook after that test);
 - global setup runs before the first batch, global teardown when shoal
   closes the worker, once each, as Mocha alone runs them once.
*/
const fs = require('fs');
const net = require('net');
const path = require('path');
const {pathToFileURL} = require('url');
const {spawn} = require('child_process');

const PROTOCOL = '1';
const FIELD_CAP = 60 * 1024; // characters of a message or an output carried per test
const REEXEC = 'SHOAL_MOCHA_NODE_FLAGS'; // set in the child started with the user's node flags

let channelFd = -1;
const pause = new Int32Array(new SharedArrayBuffer(4));

function escape(text) {
  return String(text).replace(/[\\\t\n\r\0]/g, c => ({'\\': '\\\\', '\t': '\\t', '\n': '\\n',
                                                      '\r': '\\r', '\0': '\\0'})[c]);
}

function unescape(text) {
  return text.replace(/\\(.)/g, (_, c) => ({t: '\t', n: '\n', r: '\r', 0: '\0'})[c] || c);
}

/* Keeps the head and the tail of a long text, with a marker between. */
function cap(text) {
  text = String(text);
  if (text.length <= FIELD_CAP) return text;
  const head = FIELD_CAP >> 2;
  const tail = FIELD_CAP - head;
  return `${text.slice(0, head)}\n[... shoal cut ${text.length - head - tail} characters ...]\n` +
         text.slice(-tail);
}

/* Synchronous, so what was said survives a test that exits the process. */
function send(...fields) {
  const line = Buffer.from(fields.map(escape).join('\t') + '\n', 'utf8');
  for (let off = 0; off < line.length;) {
    try {
      off += fs.writeSync(channelFd, line, off);
    } catch (err) {
      if (err.code !== 'EAGAIN') throw err;
      Atomics.wait(pause, 0, 0, 1); // the channel is non-blocking once read from
    }
  }
}

function fatal(message) {
  console.error(`shoal: ${message}`);
  process.exit(2);
}

/* ---- finding and loading the Mocha the user's command runs ---- */

function isExecutable(file) {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch (err) {
    return false;
  }
}

/* The package directory of Mocha above a file, or null. */
function packageOf(file) {
  let dir = path.dirname(fs.realpathSync(file));
  for (;;) {
    try {
      const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'));
      if (pkg.name === 'mocha') return dir;
    } catch (err) {
      // no package.json here, or not JSON: keep looking
    }
    const up = path.dirname(dir);
    if (up === dir) return null;
    dir = up;
  }
}

function findMocha(how, program) {
  const candidates = [];
  if (program.includes('/')) {
    candidates.push(path.resolve(program));
  } else {
    if (how === 'npx') {
      for (let dir = process.cwd();; dir = path.dirname(dir)) {
        candidates.push(path.join(dir, 'node_modules', '.bin', program));
        if (path.dirname(dir) === dir) break;
      }
    }
    for (const dir of (process.env.PATH || '').split(':'))
      if (dir) candidates.push(path.join(dir, program));
  }
  for (const file of candidates) {
    if (!fs.existsSync(file) || (!program.includes('/') && !isExecutable(file))) continue;
    const root = packageOf(file);
    if (root) return root;
  }
  try {
    return path.dirname(require.resolve('mocha/package.json', {paths: [process.cwd()]}));
  } catch (err) {
    // not installed here either
  }
  if (fs.existsSync('/usr/share/nodejs/mocha/package.json')) return '/usr/share/nodejs/mocha';
  return fatal(`cannot find mocha ('${program}'): install it (npm install mocha, or apt-get ` +
               'install mocha)');
}

/* A module of Mocha's, by its path without extension (.cjs since Mocha 12). */
function mochaModule(root, name) {
  for (const ext of ['.cjs', '.js']) {
    const file = path.join(root, name + ext);
    if (fs.existsSync(file)) return file;
  }
  return fatal(`this mocha (${root}) has no ${name}.js: shoal runs Mocha 10 and later`);
}

/* ---- the suite: what Mocha would run, and running exactly a batch of it ---- */

const tests = new Map(); // id -> Test
const ids = new Map(); // Test -> id
const shape = new Map(); // Suite -> {tests, suites, pending} as collected

/* Runs only the tests of `.only` when there are some, as Runner#run does;
 * afterwards no suite says it has any, so runs do not filter again (over
 * the pruned tree). */
function applyOnly(suite) {
  if (!suite.hasOnly()) return;
  suite.filterOnly();
  const clear = s => {
    s._onlyTests = [];
    s._onlySuites = [];
    s.suites.forEach(clear);
  };
  clear(suite);
}

/* Every test Mocha would run, in its order (a suite's tests, then its
 * suites); ids are `file::suite > ... > title` (the file is JUnit's
 * classname), a repeated one numbered. */
function collect(mocha) {
  applyOnly(mocha.suite);
  const grep = mocha.options.grep;
  const invert = Boolean(mocha.options.invert);
  const items = [];
  const walk = suite => {
    shape.set(suite, {tests: suite.tests.slice(), suites: suite.suites.slice(),
                      pending: suite.pending});
    for (const test of suite.tests) {
      if (grep) {
        grep.lastIndex = 0;
        if (grep.test(test.fullTitle()) === invert) continue;
      }
      const file = test.file ? path.relative(process.cwd(), test.file) : '';
      const base = file + '::' + test.titlePath().join(' > ');
      let id = base;
      for (let n = 2; tests.has(id); n++) id = `${base} (${n})`;
      tests.set(id, test);
      ids.set(test, id);
      items.push([id, file]);
    }
    suite.suites.forEach(walk);
  };
  walk(mocha.suite);
  return items;
}

/* Leaves in the tree only the suites and tests of `selected`. */
function prune(suite, selected) {
  const was = shape.get(suite);
  suite.pending = was.pending; // a `this.skip()` in a `before` of an earlier run set it
  suite.tests = was.tests.filter(t => selected.has(t));
  suite.suites = was.suites.filter(s => prune(s, selected));
  return suite.tests.length > 0 || suite.suites.length > 0;
}

function restore(suite) {
  const was = shape.get(suite);
  suite.tests = was.tests;
  suite.suites = was.suites;
  suite.suites.forEach(restore);
}

function within(test, suite) {
  for (let s = test.parent; s; s = s.parent)
    if (s === suite) return true;
  return false;
}

/* ---- outcomes ---- */

let Base = null; // Mocha's reporters' base: diffs as Mocha prints them
let utils = null;

/* A failure as Mocha's reporters list it: the message (Uncaught marked),
 * the diff of actual and expected, the stack. */
function failureOf(err) {
  if (!err || typeof err !== 'object') err = {message: String(err)};
  const message = typeof err.message === 'string' ? err.message : String(err.message || '');
  let stack = typeof err.stack === 'string' ? err.stack : message;
  let msg = message;
  const at = message ? stack.indexOf(message) : -1;
  if (at !== -1) {
    msg = stack.slice(0, at + message.length);
    stack = stack.slice(at + message.length + 1);
  } else if (!message) {
    msg = stack.split('\n', 1)[0];
  }
  if (err.uncaught) msg = `Uncaught ${msg}`;
  let diff = '';
  const same = Object.prototype.toString.call(err.actual) ===
               Object.prototype.toString.call(err.expected);
  if (!Base.hideDiff && err.showDiff !== false && same && err.expected !== undefined) {
    const str = v => (typeof v === 'string' ? v : utils.stringify(v));
    const colors = Base.useColors;
    Base.useColors = false;
    try {
      diff = Base.generateDiff(str(err.actual), str(err.expected));
    } catch (e) {
      diff = '';
    } finally {
      Base.useColors = colors;
    }
  }
  return {message: msg, output: [msg, diff, stack].filter(Boolean).join('\n')};
}

function hookKind(hook) {
  const title = hook.originalTitle || hook.title || '';
  for (const kind of ['before all', 'before each', 'after each', 'after all'])
    if (title.startsWith(`"${kind}" hook`)) return kind;
  return '';
}

/* One Mocha run's events for a batch. A test's result is sent once nothing
 * Mocha would report after it can still be its own: when the next test
 * begins, or when the run is over (an `afterEach`/`after` hook reports on
 * the test it ran after). */
class Batch {
  constructor(selected) {
    this.selected = selected;
    this.results = new Map(); // Test -> {outcome, seconds, message, output}
    this.unsent = [];
    this.sent = new Set();
    this.blocked = []; // hooks that kept tests from running: {suite, message, output}
    this.orphan = null; // a failure Mocha tied to no test, for the next one to carry
  }

  flush() {
    for (const t of this.unsent) {
      const r = this.results.get(t);
      send('result', ids.get(t), r.outcome, (r.seconds / 1000).toFixed(6), cap(r.message),
           cap(r.output));
      this.sent.add(t);
    }
    this.unsent = [];
  }

  set(test, outcome, seconds, failure) {
    const t = test.retriedTest?.() || test;
    if (!this.selected.has(t) || this.sent.has(t)) return;
    if (!this.results.has(t)) this.unsent.push(t);
    const r = this.results.get(t) || {outcome, seconds: 0, message: '', output: ''};
    r.outcome = outcome;
    r.seconds = typeof seconds === 'number' ? seconds : r.seconds;
    if (failure) Object.assign(r, failure);
    this.results.set(t, r);
    if (this.orphan) {
      this.blame(t, this.orphan);
      this.orphan = null;
    }
  }

  /* A hook's failure after a test has a result: the test errs with it (a
   * test that failed keeps its failure and gets the hook's output too). */
  blame(t, failure) {
    const r = this.results.get(t);
    if (r.outcome === 'failed' || r.outcome === 'error') {
      r.output += `\n\n${failure.output}`;
    } else {
      Object.assign(r, {outcome: 'error'}, failure);
    }
  }

  /* The latest test with a result not sent yet, within suite if given. */
  latest(suite) {
    for (let i = this.unsent.length - 1; i >= 0; i--)
      if (!suite || within(this.unsent[i], suite)) return this.unsent[i];
    return null;
  }

  fail(runnable, err) {
    const what = failureOf(err);
    if (runnable.type === 'test') {
      this.set(runnable, 'failed', runnable.duration, what);
      return;
    }
    const failure = {message: `${runnable.fullTitle()}: ${what.message}`,
                     output: `${runnable.fullTitle()}:\n${what.output}`};
    const kind = runnable.type === 'hook' ? hookKind(runnable) : '';
    if (kind === 'before all' || kind === 'before each') {
      this.blocked.push({suite: runnable.parent, ...failure});
      return;
    }
    let after = null;
    if (kind === 'after each') {
      // Mocha skips the rest of the hook's suite after it, as after a beforeEach.
      this.blocked.push({suite: runnable.parent, ...failure});
      const current = runnable.ctx && runnable.ctx.currentTest;
      after = current && (current.retriedTest?.() || current);
      if (after && !this.unsent.includes(after)) after = null;
    }
    after = after || this.latest(kind ? runnable.parent : null);
    if (after) this.blame(after, failure);
    else if (kind) this.blocked.push({suite: runnable.parent, ...failure});
    else this.orphan = this.orphan || failure;
  }

  listen(runner, constants) {
    runner.on(constants.EVENT_TEST_BEGIN, test => {
      this.flush();
      const t = test.retriedTest?.() || test;
      if (this.selected.has(t)) send('begin', ids.get(t));
    });
    runner.on(constants.EVENT_TEST_PASS, test => this.set(test, 'passed', test.duration));
    runner.on(constants.EVENT_TEST_PENDING, test => this.set(test, 'skipped', 0));
    runner.on(constants.EVENT_TEST_FAIL, (runnable, err) => this.fail(runnable, err));
  }

  /* The tests of the run without a result: kept from running by a hook, or
   * left by a run Mocha aborted (returned, to run again), or unreported. */
  settle(runner) {
    this.flush();
    const again = new Set();
    for (const t of this.selected) {
      if (this.sent.has(t)) continue;
      const hook = this.blocked.find(b => within(t, b.suite));
      if (hook) {
        this.set(t, 'error', 0, {message: `not run: ${hook.message}`, output: hook.output});
      } else if (runner._abort && !this.orphan) {
        again.add(t);
        continue;
      } else if (this.orphan) {
        const orphan = this.orphan;
        this.orphan = null;
        this.set(t, 'error', 0, {message: `not run: ${orphan.message}`, output: orphan.output});
      } else if (runner.failures && bails(t)) {
        this.set(t, 'skipped', 0, {message: 'not run: its suite bails after a failure ' +
                                            '(this.bail())', output: ''});
      } else {
        this.set(t, 'error', 0, {message: 'mocha reported nothing for this test', output: ''});
      }
      this.flush();
    }
    if (this.orphan) // no test of the batch was left to carry it
      console.error(`shoal: mocha reported a failure outside any test: ${this.orphan.output}`);
    return again;
  }
}

function bails(test) {
  for (let s = test.parent; s; s = s.parent)
    if (s._bail) return true;
  return false;
}

/* ---- the worker ---- */

async function serve(mocha, run, exit, setup) {
  const {constants} = mocha.constructor.Runner;
  if (mocha.options.delay) {
    // --delay: the suite is complete once a spec file calls run().
    await new Promise(resolve => mocha.suite.once('run', resolve));
    mocha.options.delay = false;
  }
  for (const [id, file] of collect(mocha)) send('item', id, file, '');
  for (const notice of setup.notices) send('notice', notice);
  send('ready', tests.size, setup.maxfail, '', 0, 'fE');

  // Global fixtures once for the worker's life, not once per batch.
  const globalSetup = mocha.options.enableGlobalSetup !== false && mocha.hasGlobalSetupFixtures();
  const globalTeardown = mocha.options.enableGlobalTeardown !== false &&
                         mocha.hasGlobalTeardownFixtures();
  mocha.options.enableGlobalSetup = false;
  mocha.options.enableGlobalTeardown = false;
  let context = {};
  let ran = false; // a batch ran: global teardown is due
  let failures = 0;

  const runOnce = selected => new Promise(resolve => {
    const batch = new Batch(selected);
    let runner = null;
    mocha._reporter = function ShoalReporter(r) {
      runner = r;
      batch.listen(r, constants);
    };
    prune(mocha.suite, selected);
    try {
      run.call(mocha, () => {
        restore(mocha.suite);
        failures += runner.failures;
        resolve(batch.settle(runner));
      });
    } catch (err) {
      // Mocha refused to run (its state): nothing of the batch ran.
      restore(mocha.suite);
      batch.orphan = failureOf(err);
      resolve(batch.settle({failures: 0}));
    }
  });

  const runBatch = async names => {
    let selected = new Set();
    for (const id of names) {
      const test = tests.get(id);
      if (test) {
        selected.add(test);
      } else {
        send('begin', id);
        send('result', id, 'error', 0, 'not collected by this runner', '');
      }
    }
    if (selected.size && !ran) {
      ran = true;
      if (globalSetup) context = await mocha.runGlobalSetup({});
    }
    // A run Mocha aborts (an error after a test passed) leaves the rest of
    // the batch: they run again, in a run of their own.
    while (selected.size) {
      const again = await runOnce(selected);
      selected = again.size < selected.size ? again : new Set();
    }
    send('done');
  };

  let work = Promise.resolve();
  let pending = Buffer.alloc(0);
  const channel = new net.Socket({fd: channelFd, readable: true, writable: true,
                                  allowHalfOpen: true});
  channel.on('data', chunk => {
    pending = Buffer.concat([pending, chunk]);
    for (let nl; (nl = pending.indexOf(10)) !== -1;) {
      const fields = pending.subarray(0, nl).toString('utf8').split('\t').map(unescape);
      pending = pending.subarray(nl + 1);
      // `final` (pytest's cache of failures) means nothing to Mocha.
      if (fields[0] === 'run' && fields.length >= 3)
        work = work.then(() => runBatch(fields.slice(3)));
    }
  });
  // shoal is done with this worker (or gone): Mocha ends as it would alone.
  channel.on('end', () => channel.destroy());
  channel.on('error', () => channel.destroy());
  channel.on('close', () => {
    work = work.then(async () => {
      if (ran && globalTeardown) await mocha.runGlobalTeardown(context);
      exit(Math.min(failures, 255));
    });
  });
}

/* Splits node's flags from Mocha's as bin/mocha.js does; with node flags,
 * runs this worker again under them (fd of the channel included). */
function nodeFlags(root, opts) {
  const flags = require(mochaModule(root, 'lib/cli/node-flags'));
  const mochaArgs = {};
  const nodeArgs = {};
  const trim = v => (v !== 'v8-options' && /^v8-/.test(v) ? v.slice(3) : v);
  for (const opt of Object.keys(opts)) {
    if (flags.isNodeFlag(opt)) nodeArgs[trim(opt)] = opts[opt];
    else mochaArgs[opt] = opts[opt];
  }
  const debug = Object.keys(nodeArgs).concat(mochaArgs['node-option'] || []);
  if (debug.some(f => flags.impliesNoTimeouts(f))) mochaArgs.timeout = 0;
  const nodeArgv = (mochaArgs['node-option'] || []).map(v => `--${v}`);
  delete mochaArgs['node-option'];
  if (!nodeArgv.length && Object.keys(nodeArgs).length)
    nodeArgv.push(...flags.unparseNodeFlags(nodeArgs));
  if (!nodeArgv.length || process.env[REEXEC]) return mochaArgs;
  const stdio = ['inherit', 'inherit', 'inherit'];
  while (stdio.length < channelFd) stdio.push('ignore');
  stdio[channelFd] = channelFd;
  const child = spawn(process.execPath, [...process.execArgv, ...nodeArgv, __filename,
                                         ...process.argv.slice(2)],
                      {stdio, env: {...process.env, [REEXEC]: '1'}});
  child.on('exit', (code, signal) => {
    if (signal) process.kill(process.pid, signal);
    else process.exit(code);
  });
  return null;
}

async function main() {
  const fd = process.env.SHOAL_WORKER_CHANNEL;
  if (!fd) fatal('shoal_mocha_worker.js is started by `shoal run -- mocha ...` only');
  channelFd = Number(fd);
  const [how, program, ...args] = process.argv.slice(2);
  const root = findMocha(how, program);
  const {loadOptions} = require(mochaModule(root, 'lib/cli/options'));
  const mochaArgs = nodeFlags(root, loadOptions(args));
  if (!mochaArgs) return; // the child with node's flags is the worker
  // Tests and what they start do not see the channel's variable.
  delete process.env.SHOAL_WORKER_CHANNEL;
  delete process.env[REEXEC];
  send('hello', PROTOCOL, 'mocha');

  const setup = {notices: [], maxfail: 0};
  if (mochaArgs.watch)
    fatal("mocha's --watch cannot run under shoal: a session runs the suite once");
  if (mochaArgs.parallel) {
    setup.notices.push("mocha's --parallel is ignored inside shoal's workers: shoal runs " +
                       'the tests in parallel itself');
    mochaArgs.parallel = false;
  }
  if (mochaArgs.bail) {
    mochaArgs.bail = false; // shoal stops dealing; a batch runs to its end
    setup.maxfail = 1;
  }
  const reporter = mochaArgs.reporter;
  if (reporter && reporter !== 'spec') {
    setup.notices.push(`mocha's --reporter ${reporter} is not used inside shoal's workers: ` +
                       'shoal prints the outcomes and writes the reports (--junit, --json)');
  }
  setup.notices = setup.notices.length ? [setup.notices.join('; ')] : [];

  const Mocha = require(mochaModule(root, 'lib/mocha'));
  Base = Mocha.reporters.Base;
  utils = Mocha.utils;
  const run = Mocha.prototype.run;
  // The CLI's run, once its Mocha is configured and the spec files loaded.
  Mocha.prototype.run = function (exit) {
    Mocha.prototype.run = run;
    this.cleanReferencesAfterRun(false);
    serve(this, run, exit || (() => {}), setup).catch(err => {
      console.error(err && err.stack ? err.stack : err);
      process.exit(1);
    });
  };
  const cli = await import(pathToFileURL(path.join(root, 'lib/cli/cli.js')).href);
  (cli.main || cli.default.main)([], mochaArgs);
}

main().catch(err => {
  console.error(err && err.stack ? err.stack : err);
  process.exit(1);
});
