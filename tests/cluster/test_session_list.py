"""Three participants run the sample list suite as one session.

Proves: every collected test is reported exactly once with the right outcome
(I1), tests that require a tag run only on the member that has it, every
participant writes the same JUnit file and exits with the same status (1:
the suite has failing tests), and the closing line counts match. A list
with no tests (only comments) is an empty session: exit 5 on every
participant, as for any runner that collects nothing. Test names that are
not UTF-8 (a list is bytes) leave both reports readable, and alike: each
such byte is #xNN, as pytest's junitxml writes what XML cannot carry.
"""
import json
import os

from runs import Runs, run_test, same_reports, phase, list_file, SAMPLES, TestFailure


def main(cluster):
    runs = Runs(cluster, "list3")
    suite = os.path.join(SAMPLES, "list", "suite.list")
    ps = runs.start(3, ["--expect", "3", "--slots", "2", "--list", suite],
                    per_participant={2: ["--tag", "gpu=1"]})
    codes = runs.wait_all(60)
    if codes != [1, 1, 1]:
        runs.dump()
        raise TestFailure("exit statuses %s, want [1, 1, 1] (the suite has failures)" % codes)
    phase("all three exited 1")
    cases = same_reports(ps)
    phase("JUnit files are identical")
    if len(cases) != 30:
        raise TestFailure("%d testcases, want 30" % len(cases))
    outcome = {name: (o, host) for (_, name), (o, host, _) in cases.items()}
    for name, (o, host) in outcome.items():
        want = "failure" if name.startswith("fails-") else "passed"
        if o != want:
            raise TestFailure("%s: %s, want %s" % (name, o, want))
        if name.startswith("gpu-") and host != ps[2].name:
            raise TestFailure("%s ran on %s, but only %s has the gpu tag" % (name, host, ps[2].name))
    phase("30 tests once each, right outcomes; gpu tests only on the gpu member")
    hosts = {host for (_, host) in outcome.values()}
    if len(hosts) < 2:
        raise TestFailure("all tests ran on %s: no distribution" % hosts)
    for p in ps:
        last = p.stdout().strip().splitlines()[-1]
        if last != "28 passed, 2 failed, 0 skipped":
            raise TestFailure("%s closing line %r" % (p.name, last))
    phase("every participant prints the same closing line")

    empty = os.path.join(cluster.tmpdir, "empty.list")
    list_file(empty, [("# nothing yet",), ("",)])
    runs = Runs(cluster, "empty")
    runs.start(2, ["--expect", "2", "--list", empty])
    codes = runs.wait_all(60)
    if codes != [5, 5]:
        runs.dump()
        raise TestFailure("an empty list: exit statuses %s, want [5, 5]" % codes)
    phase("a list of no tests exits 5 on both participants")

    odd = os.path.join(cluster.tmpdir, "odd.list")
    with open(odd, "wb") as f:
        f.write(b"caf\xc3\xa9-\xff\ttrue\nplain\ttrue\n")
    runs = Runs(cluster, "odd")
    ps = runs.start(2, ["--expect", "2", "--list", odd])
    codes = runs.wait_all(60)
    if codes != [0, 0]:
        runs.dump()
        raise TestFailure("names not UTF-8: exit statuses %s, want [0, 0]" % codes)
    with open(ps[0].json, "rb") as f:
        ids = sorted(t["id"] for t in json.loads(f.read().decode("utf-8"))["tests"])
    if ids != ["caf\u00e9-#xFF", "plain"]:
        raise TestFailure("JSON report ids %r" % ids)
    names = sorted(name for (_, name) in same_reports(ps))
    if names != ["caf\u00e9-#xFF", "plain"]:
        raise TestFailure("JUnit names %r" % names)
    phase("a name that is not UTF-8: JSON and JUnit both read back, same on both")


run_test(main)
