"""Fixtures live as long as they would under pytest-xdist (issue: a session
fixture used by 40 tests on 2 slots was set up 10 times).

Two participants of one slot each run 40 tests that share a session-scoped
and a module-scoped fixture. Each worker sets each fixture up once and tears
it down once, as `pytest -n 2` does: at most two setups of each in all, as
many teardowns as setups, and every test passes.

Then three modules of 6 tests of differing lengths, each with a module
fixture, run twice on one participant of 2 slots: the second run is ordered
by the first's history (longest first), which interleaves the modules. Each
worker still sets each module's fixture up once, as pytest alone and
`pytest -n 2` do (it was set up again each time the order came back to its
module). Across participants a stolen tail may bring a worker back to a
module it finished, as pytest-xdist's rebalancing may.
"""
import os

from runs import Runs, run_test, same_reports, phase, pytest_suite, PYTHON, TestFailure

TESTS = 40


def main(cluster):
    log = os.path.join(cluster.tmpdir, "fixture.log")
    suite = pytest_suite(cluster, "fixtures", {
        "conftest.py": "import os, pytest\n"
                       "def log(word):\n"
                       "    with open(%r, 'a') as f:\n"
                       "        f.write('%%s %%d\\n' %% (word, os.getpid()))\n"
                       "@pytest.fixture(scope='session')\n"
                       "def database():\n"
                       "    log('session-setup')\n"
                       "    yield 'db'\n"
                       "    log('session-teardown')\n" % log,
        "test_f.py": "import time, pytest\n"
                     "from conftest import log\n"
                     "@pytest.fixture(scope='module')\n"
                     "def table(database):\n"
                     "    log('module-setup')\n"
                     "    yield database + '.t'\n"
                     "    log('module-teardown')\n"
                     "@pytest.mark.parametrize('i', range(%d))\n"
                     "def test_f(table, i):\n"
                     "    time.sleep(0.05)\n"
                     "    assert table == 'db.t'\n" % TESTS})
    runs = Runs(cluster, "fixtures")
    ps = runs.start(2, ["--expect", "2", "--slots", "1", "--", PYTHON, "-m", "pytest"], cwd=suite)
    codes = runs.wait_all(120)
    if codes != [0, 0]:
        runs.dump()
        raise TestFailure("exit statuses %s, want [0, 0]" % codes)
    cases = same_reports(ps)
    if len(cases) != TESTS or any(o != "passed" for (o, _, _) in cases.values()):
        raise TestFailure("want %d passed testcases: %s" % (TESTS, cases))
    with open(log) as f:
        words = [line.split()[0] for line in f]
    counts = {w: words.count(w) for w in set(words)}
    for scope in ("session", "module"):
        setups, teardowns = counts.get(scope + "-setup", 0), counts.get(scope + "-teardown", 0)
        if not 1 <= setups <= 2 or teardowns != setups:
            raise TestFailure("%s fixture: %d setups, %d teardowns; want 1 or 2 of each (one "
                              "per worker)" % (scope, setups, teardowns))
    phase("%d tests passed; fixtures set up and torn down once per worker: %s"
          % (TESTS, sorted(counts.items())))

    log = os.path.join(cluster.tmpdir, "modules.log")
    files = {"conftest.py": "import os, pytest\n"
                            "@pytest.fixture(scope='module')\n"
                            "def res(request):\n"
                            "    with open(%r, 'a') as f:\n"
                            "        f.write('%%d %%s\\n' %% (os.getpid(), request.module.__name__))\n"
                            "    yield 1\n" % log}
    for m, salt in (("a", 1), ("b", 2), ("c", 3)):
        files["test_%s.py" % m] = ("import time, pytest\n"
                                   "@pytest.mark.parametrize('i', range(6))\n"
                                   "def test_x(res, i):\n"
                                   "    time.sleep(0.03 * ((i * 7 + %d) %% 5))\n" % salt)
    suite = pytest_suite(cluster, "modules", files)
    for run in ("first", "second"):
        if os.path.exists(log):
            os.unlink(log)
        runs = Runs(cluster, "modules-" + run)
        runs.start(1, ["--slots", "2", "--", PYTHON, "-m", "pytest"], cwd=suite)
        codes = runs.wait_all(120)
        if codes != [0]:
            runs.dump()
            raise TestFailure("%s run of the modules: exit statuses %s" % (run, codes))
    with open(log) as f:
        setups = [line.strip() for line in f]
    again = sorted({s for s in setups if setups.count(s) > 1})
    if again or len(setups) < 3:
        raise TestFailure("with history, a module fixture was set up again in the same worker: "
                          "%s (all setups: %s)" % (again, setups))
    phase("ordered by history, each worker set each module's fixture up once (%d setups)"
          % len(setups))


run_test(main)
