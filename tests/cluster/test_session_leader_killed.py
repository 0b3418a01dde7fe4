"""kill -9 of the leader in the middle of a session.

Proves I5 for the leader: the best-ranked survivor takes the next term,
rebuilds the session from the members' reports, and the session completes
with every test reported once (I1) and no test run twice at once on live
members (I2); both survivors write the same report.
"""
from runs import run_test, kill_mid_session, phase, TestFailure


def main(cluster):
    survivors, _ = kill_mid_session(cluster, "leaderkill", lambda ps, leader: leader, after=10)
    if not any("taking over" in p.stderr() for p in survivors):
        raise TestFailure("no survivor took over the leadership")
    phase("a survivor took over the leadership")


run_test(main)
