"""Reads the log mark.py writes and checks invariants I1 and I2 on it."""
from harness import TestFailure


def runs_of(log):
    """id -> list of [start, end or None, node]."""
    runs = {}
    with open(log) as f:
        for line in f:
            parts = line.split()
            if parts[0] == "start":
                runs.setdefault(parts[1], []).append([float(parts[2]), None, parts[3]])
            elif parts[0] == "end":
                for r in reversed(runs.get(parts[1], [])):
                    if r[1] is None:
                        r[1] = float(parts[2])
                        break
    return runs


def check(log, ids, dead=()):
    """Every id ran to its end at least once; runs on live nodes never overlap."""
    runs = runs_of(log)
    for test_id in ids:
        done = [r for r in runs.get(test_id, []) if r[1] is not None]
        if not done:
            raise TestFailure("%s never ran to its end: %s" % (test_id, runs.get(test_id)))
        live = sorted(r for r in runs[test_id] if r[2] not in dead)
        for a, b in zip(live, live[1:]):
            if a[1] is None or b[0] < a[1]:
                raise TestFailure("%s ran twice at once: %s" % (test_id, live))
    return runs
