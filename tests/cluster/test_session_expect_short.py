"""--expect N with fewer runners: the wait is announced, the shortfall reported.

Proves, with two `shoal run` participants started with --expect 3 --wait 6:
- while the join window is open each says once on stderr how many more
  participants it waits for, whom it has, and for how long at most (a
  missing runner is not a silent hang);
- when the window closes the session still runs, and every participant's
  final output says it ran with fewer participants than expected (2 of 3).
"""
import re

import harness
from runs import Runs, run_test, phase, marked_suite, TestFailure

WAITING = re.compile(r"waiting for (\d+) more participants? \(have: ([^)]*)\) for up to (\d+) s")


def main(cluster):
    suite, _, _ = marked_suite(cluster, 4, 0.05)
    runs = Runs(cluster, "expect-short")
    ps = runs.start(2, ["--expect", "3", "--wait", "6", "--slots", "1", "--list", suite])

    def told():
        found = [WAITING.search(p.stderr()) for p in ps]
        return all(found), [p.stderr()[-300:] for p in ps]
    harness.wait_for(told, 4, "both participants to say whom they wait for")
    for p in ps:
        if p.proc.poll() is not None:
            raise TestFailure("%s had finished before saying whom it waits for" % p.name)
        err = p.stderr()
        match = WAITING.search(err)
        more, have, seconds = int(match.group(1)), match.group(2).split(", "), int(match.group(3))
        if p.name not in have or more != 3 - len(have) or not 0 < seconds <= 6:
            raise TestFailure("%s says %r" % (p.name, match.group(0)))
    phase("while gathering, each said: %r" % WAITING.search(ps[0].stderr()).group(0))

    codes = runs.wait_all(60)
    if codes != [0, 0]:
        runs.dump()
        raise TestFailure("exit statuses %s, want [0, 0]" % codes)
    for p in ps:
        if len(WAITING.findall(p.stderr())) != 1:
            raise TestFailure("%s said whom it waits for %d times, want once"
                              % (p.name, len(WAITING.findall(p.stderr()))))
        if "the session ran with fewer participants than expected (2 of 3)" not in p.stdout():
            runs.dump()
            raise TestFailure("%s's final output does not report the shortfall" % p.name)
    phase("the session ran; both final outputs say it had 2 of the 3 expected participants")


run_test(main)
