"""--retries: a failed test reruns on another member; pass on retry is flaky.

Proves: a test that fails once then passes is reported passed and flaky
(JUnit flakyFailure), and ran on two different members; a test that always
fails is reported failed after 1 + retries attempts; exit status 1. Alone,
a failure is retried and the session ends (it used to hang: the retry was
never dealt again).
"""
import os

from runs import Runs, run_test, same_reports, phase, list_file, MARK, PYTHON, TestFailure
import marks


def main(cluster):
    log = os.path.join(cluster.tmpdir, "marks.log")
    state = os.path.join(cluster.tmpdir, "state")
    os.mkdir(state)
    tests = [("flaky", "%s %s %s flaky 0.1 flaky %s" % (PYTHON, MARK, log, state)),
             ("broken", "%s %s %s broken 0.1 fail" % (PYTHON, MARK, log))]
    tests += [("ok%02d" % i, "%s %s %s ok%02d 0.1" % (PYTHON, MARK, log, i)) for i in range(8)]
    suite = list_file(os.path.join(cluster.tmpdir, "suite.list"), tests)
    runs = Runs(cluster, "retries")
    ps = runs.start(2, ["--expect", "2", "--slots", "1", "--retries", "2", "--list", suite])
    codes = runs.wait_all(60)
    if codes != [1, 1]:
        runs.dump()
        raise TestFailure("exit statuses %s, want [1, 1]" % codes)
    cases = same_reports(ps)
    by_name = {name: (o, el) for (_, name), (o, _, el) in cases.items()}
    outcome, el = by_name["flaky"]
    if outcome != "passed" or el.find("flakyFailure") is None:
        raise TestFailure("flaky test: %s, flakyFailure %s" % (outcome,
                          el.find("flakyFailure") is not None))
    if by_name["broken"][0] != "failure":
        raise TestFailure("broken test reported %s" % by_name["broken"][0])
    runs_by_id = marks.runs_of(log)
    if len(runs_by_id["broken"]) != 3:
        raise TestFailure("broken ran %d times, want 3" % len(runs_by_id["broken"]))
    nodes = [r[2] for r in runs_by_id["flaky"]]
    if len(nodes) != 2 or nodes[0] == nodes[1]:
        raise TestFailure("flaky ran on %s: want twice, on two members" % nodes)
    phase("flaky passed on retry elsewhere (flakyFailure); broken failed after 3 attempts")
    if "flaky" not in ps[0].stdout():
        raise TestFailure("the summary does not mention the flaky test")
    # Alone, the retry runs where it failed, as soon as the failure is in:
    # the leader must deal it again although it never heard the test start.
    alone_log = os.path.join(cluster.tmpdir, "alone.log")
    alone = list_file(os.path.join(cluster.tmpdir, "alone.list"),
                      [("broken", "%s %s %s broken 0.05 fail" % (PYTHON, MARK, alone_log))])
    solo = Runs(cluster, "retries-alone").start(1, ["--retries", "1", "--list", alone])[0]
    if solo.wait(60) != 1 or len(marks.runs_of(alone_log)["broken"]) != 2:
        raise TestFailure("alone: exit %s, want 1 after 2 attempts" % solo.code)
    phase("alone, a failed test was retried once and the session ended")


run_test(main)
