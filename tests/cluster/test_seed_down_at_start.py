#!/usr/bin/env python3
"""seed_down_at_start: a seed that is not up yet is retried, not fatal.

Node B starts with --join pointing at an address where nothing listens (B's
stats prove its join attempts went undelivered). Then the seed starts on
exactly that address; B's retries (with backoff) reach it and both see each
other alive. B never exits in between.
"""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402


def test(cluster):
    seed = cluster.node("seed")
    seed_addr = "%s:%d" % (seed.ip, harness.free_port(seed.ip))
    b = cluster.node("b")
    b.start(join=[seed_addr])
    b.wait_started()
    harness.phase("b started with --join %s, where nothing listens" % seed_addr)

    def undelivered():
        stats = b.stats()
        return stats is not None and stats["drop_unreachable"] > 0, stats
    harness.wait_for(undelivered, 10, "b to count its join to the absent seed as undelivered",
                     cluster=cluster)
    view = b.view()
    if list(view) != ["b"]:
        raise harness.TestFailure("b sees members before any seed exists: %s" % view)
    harness.phase("b's join attempts went undelivered (drop_unreachable > 0), b keeps running")

    seed.start(bind=seed_addr)
    if seed.wait_started() != seed_addr:
        raise harness.TestFailure("seed bound %s, not %s" % (seed.addr, seed_addr))
    started = time.monotonic()
    # The join backoff doubles up to 30 s in the lan profile, but starts at
    # 250 ms: within the first seconds a retry is never more than ~4 s away.
    cluster.wait_converged([b, seed], timeout=20)
    harness.phase("seed came up on %s; b joined it %.2fs later and both see each other alive"
                  % (seed_addr, time.monotonic() - started))


if __name__ == "__main__":
    harness.run(test)
