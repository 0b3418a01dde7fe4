"""A participant that gets frames it cannot open says so at once, once per sender.

Proves, with `shoal run` participants of one session: while the first one
(holding the cluster key) gathers, a participant with another key and one
with no key join it. Their frames are dropped, as they must be (I4), but the
first participant says on stderr within seconds that frames from their
address fail authentication (asking whether the key is the same) or are not
sealed, each line once, although the strangers keep retrying (its drop_auth
counter, read over the control socket, keeps growing).
"""
import json
import re
import subprocess

import harness
from harness import new_key, scaled
from runs import Runs, run_test, phase, marked_suite, TestFailure

WRONG_KEY = re.compile(r"frames from (\S+) fail authentication: is the cluster key the same\?")
NO_KEY = re.compile(r"frames from (\S+) are not sealed: does that node have the cluster key")


def drop_auth(cluster, p):
    out = subprocess.run([cluster.shoal, "stats", "--json", "--control", p.control],
                         capture_output=True, stdin=subprocess.DEVNULL, timeout=scaled(10))
    if out.returncode != 0:
        return None
    return json.loads(out.stdout)["drop_auth"]


def main(cluster):
    suite, _, _ = marked_suite(cluster, 2, 0.05)
    runs = Runs(cluster, "wrong-key")
    args = ["--expect", "3", "--wait", "60", "--slots", "1", "--list", suite]
    first = runs.participant().start(args)
    wrong = runs.participant().start(args, key=new_key())
    keyless = runs.participant().start(args, key="")

    def told():
        err = first.stderr()
        return bool(WRONG_KEY.search(err) and NO_KEY.search(err)), err[-600:]
    took = harness.wait_for(told, 10, "the first participant to say whose frames it cannot open")
    phase("told within %.1fs: %r and %r" % (took, WRONG_KEY.search(first.stderr()).group(0),
                                             NO_KEY.search(first.stderr()).group(0)))

    before = drop_auth(cluster, first)

    def retried():
        now = drop_auth(cluster, first)
        return now is not None and before is not None and now > before + 2, now
    harness.wait_for(retried, 15, "more frames from the strangers to be dropped")
    err = first.stderr()
    counts = (len(WRONG_KEY.findall(err)), len(NO_KEY.findall(err)))
    if counts != (1, 1):
        raise TestFailure("told %d and %d times, want once each:\n%s" % (counts + (err,)))
    for p in (first, wrong, keyless):
        if p.proc.poll() is not None:
            runs.dump()
            raise TestFailure("%s ended: the strangers were let in" % p.name)
    phase("each told once although drop_auth grew from %s to %s" % (before,
                                                                   drop_auth(cluster, first)))
    for p in (first, wrong, keyless):
        p.kill()


run_test(main)
