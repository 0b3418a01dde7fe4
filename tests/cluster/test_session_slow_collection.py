"""A suite that takes seconds to collect, and a leader killed as it claims.

Every participant collects its own suite in its first worker while its loop
stays free, so a 5 s collection (a conftest that sleeps) stalls neither the
mesh nor the takeover: the participant that leads is killed as soon as it
claims, and the next one leads with the collection it already has (the
join window stays closed: the survivors do not wait for a third again). The session completes on the survivors with
every test reported once (I1, I5).
"""

from runs import Runs, run_test, same_reports, phase, pytest_suite, PYTHON, TestFailure

TESTS = 20


def main(cluster):
    suite = pytest_suite(cluster, "collecting", {
        "conftest.py": "import time\ntime.sleep(5)\n",
        "test_s.py": "import time, pytest\n"
                     "@pytest.mark.parametrize('i', range(%d))\n"
                     "def test_s(i):\n    time.sleep(0.2)\n" % TESTS})
    runs = Runs(cluster, "slowcollect")
    ps = runs.start(3, ["--expect", "3", "--slots", "1", "--", PYTHON, "-m", "pytest"], cwd=suite)
    leader = runs.leader(timeout=60)
    leader.kill()
    phase("killed %s as it claimed the first term" % leader.name)
    survivors = [p for p in ps if p is not leader]
    codes = runs.wait_all(120, survivors)
    if codes != [0, 0]:
        runs.dump()
        raise TestFailure("survivors exited %s, want [0, 0]" % codes)
    cases = same_reports(survivors)
    passed = [k for k, (o, _, _) in cases.items() if o == "passed"]
    if len(cases) != TESTS or len(passed) != TESTS:
        raise TestFailure("%d testcases, %d passed; want %d passed" % (len(cases), len(passed),
                                                                         TESTS))
    # It takes over (term 2) if the others had followed the dead leader, or
    # claims the first term if they had not heard of it yet.
    if not any("leading term" in p.stderr() for p in survivors):
        raise TestFailure("no survivor led")
    phase("%d tests passed once each on the survivors after the takeover" % TESTS)


run_test(main)
