"""kill -9 of a member in the middle of a session.

Proves I5 for a member: the survivors finish every test (each reported once,
I1), the dead member's unfinished tests run elsewhere, and no test ran twice
at the same time on live members (I2).
"""
from runs import run_test, kill_mid_session


def main(cluster):
    kill_mid_session(cluster, "memberkill", lambda ps, leader: [p for p in ps if p is not leader][0],
                     after=8)


run_test(main)
