"""kill -9 of the leader in the middle of a session.

Proves I5 for the leader: the best-ranked survivor takes the next term,
rebuilds the session from the members' reports, and the session completes
with every test reported once (I1) and no test run twice at once on live
members (I2); both survivors write the same report. The leader's own
results outlive it: its deputy held copies, so a test the leader finished
well before it died is not run again.
"""
from runs import run_test, kill_mid_session, phase, TestFailure

SETTLED = 0.5  # seconds: results older than this have reached the deputy


def main(cluster):
    survivors, victim, killed_at, runs = kill_mid_session(
        cluster, "leaderkill", lambda ps, leader: leader, after=15)
    if not any("taking over" in p.stderr() for p in survivors):
        raise TestFailure("no survivor took over the leadership")
    phase("a survivor took over the leadership")
    settled = [t for t, rs in runs.items()
               if any(r[2] == victim.name and r[1] is not None and r[1] <= killed_at - SETTLED
                      for r in rs)]
    if not settled:
        raise TestFailure("the leader finished no test %.1f s before it was killed" % SETTLED)
    again = [t for t in settled if len(runs[t]) > 1]
    if again:
        raise TestFailure("tests the leader finished before it died ran again: %s" % again)
    phase("the %d tests the leader had finished were not run again" % len(settled))


run_test(main)
