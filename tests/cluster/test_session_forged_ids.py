"""A key holder impersonating the leader deals forged test ids (I3).

Proves: a member that receives WORK naming tests outside its own list (an
option, a path, a shell command, an unknown name), sealed with the cluster
key and claiming to come from the leader, runs none of them: each is
rejected with a logged reason, nothing outside the list is executed, and the
session still ends with every real test passed once and identical reports.
"""
import os

import harness
import zmtp
from runs import Runs, run_test, marked_suite, same_reports, phase, TestFailure


def main(cluster):
    suite, log, ids = marked_suite(cluster, 20, 0.3)
    canary = os.path.join(cluster.tmpdir, "canary")
    runs = Runs(cluster, "forged")
    ps = runs.start(2, ["--expect", "2", "--slots", "1", "--list", suite])
    leader = runs.leader()
    member = [p for p in ps if p is not leader][0]
    runs.wait_progress(leader, 2)
    forged = ["-x", "--collect-only", "../../bin/sh", "t00; touch %s" % canary,
              "$(touch %s)" % canary, "not-in-the-list"]
    # WORK (session protocol 2): [version, type, session, term, fresh,
    # [[placement, id, attempt, avoid, predicted seconds]...]]
    work = zmtp.pack([2, 3, runs.session, 1, False,
                      [[900 + i, f, 0, "", 0.1] for i, f in enumerate(forged)]])
    frame = zmtp.seal(cluster.key, zmtp.user_frame(leader.name, leader.addr, work))
    with zmtp.Connection(member.addr, "DEALER") as c:
        c.send(frame)
    phase("sent %d forged test ids to %s as if from %s" % (len(forged), member.name, leader.name))

    def rejected():
        n = member.stderr().count("rejected test id")
        return n >= len(forged), n
    harness.wait_for(rejected, 30, "the member to reject every forged id")
    phase("the member rejected all of them")
    codes = runs.wait_all(90)
    if codes != [0, 0]:
        runs.dump()
        raise TestFailure("exit statuses %s, want [0, 0]" % codes)
    cases = same_reports(ps)
    if len(cases) != 20 or any(o != "passed" for (o, _, _) in cases.values()):
        raise TestFailure("want the 20 listed tests passed, got %s" % sorted(cases))
    if os.path.exists(canary):
        raise TestFailure("a forged id ran a command: %s exists" % canary)
    import marks
    marks.check(log, ids)
    phase("the session completed: 20 tests once each, nothing else ran")


run_test(main)
