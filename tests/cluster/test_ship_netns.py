#!/usr/bin/env python3
"""ship_netns: serving daemons found by LAN beacon run a developer's shipped
workspace; unlisted identities and other toolchains are turned away.

A private LAN of network namespaces (harness.NetnsLan): a developer host and
four `shoal node --serve` daemons, all with --discover and no --join. d2 is
tagged gpu=a100; d4's `uname` says another architecture (a PATH shim), so
its toolchain differs for a list of commands. The developer's workspace is a
git checkout of 1,000 files plus a list of tests that read them (one needs
gpu=a100 and checks it runs on d2; each test checks its file's content, so a
test that ran in a stale or partial copy fails).

Phases, each asserted from the developer's report and the daemons' own
counters (`shoal status --json`):
  1. `shoal run --ship --expect 4`: dev, d1, d2 and d3 run tests, d4 declines
     and the developer is told why; the gpu test runs only on d2; blobs
     reach daemons from peers too, not only from the developer.
  2. one file changed: the second run moves little more than that file: it
     and a page of the manifest (bytes fetched, from the daemons' counters).
  3. d1 killed mid-run: every test still ends with a result.
  4. an identity not on --accept-from: every daemon refuses it and says so;
     no store, session or counter of taken sessions changes anywhere.
Needs root, `ip netns`, git and bubblewrap; exits 77 (skip) otherwise.
"""
import atexit
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import TestFailure, phase  # noqa: E402
import shipping  # noqa: E402
from shipping import sh, session_dirs as sessions_left  # noqa: E402

DAEMONS = ["d1", "d2", "d3", "d4"]
HOSTS = ["dev"] + DAEMONS
PORT, BEACON_PORT = 7411, 7412
FILES = 1000


def workspace(root, tests, sleep):
    """A git checkout of FILES files and a list of tests that check them."""
    os.makedirs(os.path.join(root, "data"), exist_ok=True)
    for i in range(FILES):
        with open(os.path.join(root, "data", "f%04d.txt" % i), "w") as f:
            f.write("content of file %d\n" % i * (1 + i % 7))
    with open(os.path.join(root, ".gitignore"), "w") as f:
        f.write("venv/\n*.log\n")
    os.makedirs(os.path.join(root, "venv"), exist_ok=True)
    with open(os.path.join(root, "venv", "big-ignored.bin"), "wb") as f:
        f.write(os.urandom(1 << 20))
    write_list(root, tests, sleep)
    shipping.commit_all(root)


def write_list(root, tests, sleep, gpu=True):
    with open(os.path.join(root, "tests.list"), "w") as f:
        for t in range(tests):
            i = (t * 37) % FILES
            f.write("read_%03d\tsh -c 'grep -q \"content of file %d$\" data/f%04d.txt && "
                    "sleep %s'\n" % (t, i, i, sleep))
        if gpu:
            f.write("gpu_only\tsh -c '[ \"$SHOAL_NODE\" = d2 ] && sleep %s'\tgpu=a100\n" % sleep)


def intake(node):
    s = shipping.intake(node)
    if s is None:
        raise TestFailure("%s does not answer status" % node.name)
    return s["intake"]


def store_blobs(cache):
    blobs = os.path.join(cache, "shoal", "store", "blobs")
    return sum(len(files) for _, _, files in os.walk(blobs))


class Developer:
    def __init__(self, cluster, lan, addr, root):
        self.cluster, self.lan, self.addr, self.root = cluster, lan, addr, root
        self.runs = 0

    def start(self, session, identity, extra=()):
        self.runs += 1
        self.json = os.path.join(self.cluster.tmpdir, "%s.json" % session)
        self.log = os.path.join(self.cluster.tmpdir, "%s.out" % session)
        argv = self.lan.exec_prefix("dev") + [
            self.cluster.shoal, "run", "--ship", "--identity", identity, "--session", session,
            "--name", "dev", "--bind", "0.0.0.0:%d" % PORT, "--advertise",
            "%s:%d" % (self.addr, PORT), "--discover", "--beacon-port", str(BEACON_PORT),
            "--control", "ipc://" + os.path.join(self.cluster.tmpdir, "dev-%s.ctl" % session),
            "--json", self.json, "--no-history", "--list", "tests.list"] + list(extra)
        env = dict(os.environ, SHOAL_KEY=self.cluster.key, ZSYS_INTERFACE=harness.NetnsLan.VETH)
        self.out = open(self.log, "w")
        self.proc = subprocess.Popen(argv, cwd=self.root, env=env, stdin=subprocess.DEVNULL,
                                     stdout=self.out, stderr=subprocess.STDOUT,
                                     preexec_fn=harness.pdeathsig)
        return self

    def wait(self, timeout):
        try:
            rc = self.proc.wait(timeout=harness.scaled(timeout))
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise TestFailure("the developer's run did not end; its output:\n%s" % self.text())
        self.out.close()
        return rc

    def text(self):
        with open(self.log) as f:
            return f.read()

    def report(self):
        with open(self.json) as f:
            return json.load(f)



def main(cluster):
    if not shutil.which("git") or not shutil.which("bwrap"):
        raise harness.TestSkip("needs git and bubblewrap")
    lan = harness.NetnsLan(HOSTS)
    try:
        addrs = lan.create()
        run_phases(cluster, lan, addrs)
    finally:
        cluster.kill_all()
        lan.delete()
    if lan.leftovers():
        raise TestFailure("namespaces left behind: %s" % lan.leftovers())


def run_phases(cluster, lan, addrs):
    tmp = cluster.tmpdir
    ident = os.path.join(tmp, "identity")
    other = os.path.join(tmp, "other-identity")
    pub = sh([cluster.shoal, "keygen", "--identity", ident, "--comment", "dev@test"]).strip()
    sh([cluster.shoal, "keygen", "--identity", other, "--comment", "stranger"])
    accept = os.path.join(tmp, "developers.pub")
    with open(accept, "w") as f:
        f.write("# who may ship to these daemons\n%s\n" % pub)
    # Outside /tmp: the sandbox's /tmp is private, and d4's PATH must reach it.
    shim = tempfile.mkdtemp(prefix="shoal-arm-bin-", dir="/var/tmp")
    atexit.register(shutil.rmtree, shim, True)
    with open(os.path.join(shim, "uname"), "w") as f:
        f.write("#!/bin/sh\necho Linux aarch64\n")
    os.chmod(os.path.join(shim, "uname"), 0o755)

    daemons, caches = {}, {}
    for h in DAEMONS:
        n = cluster.node(h, ip=addrs[h])
        caches[h] = os.path.join(tmp, h + "-cache")
        env = {"ZSYS_INTERFACE": lan.VETH, "XDG_CACHE_HOME": caches[h],
               "XDG_DATA_HOME": os.path.join(tmp, h + "-data")}
        if h == "d4":
            env["PATH"] = shim + ":" + os.environ.get("PATH", "/usr/bin:/bin")
        extra = ["--advertise", "%s:%d" % (addrs[h], PORT), "--discover", "--beacon-port",
                 str(BEACON_PORT), "--serve", "--accept-from", accept, "--slots", "2"]
        if h == "d2":
            extra += ["--tag", "gpu=a100"]
        n.start(bind="0.0.0.0:%d" % PORT, prefix=lan.exec_prefix(h), extra=extra, env=env)
        daemons[h] = n
    for n in daemons.values():
        n.wait_started()
    cluster.wait_converged(list(daemons.values()), timeout=30,
                           what="4 serving daemons to find each other by beacon")
    phase("4 serving daemons found each other by beacon (no --join)")

    root = os.path.join(tmp, "checkout")
    workspace(root, tests=40, sleep=0.3)
    dev = Developer(cluster, lan, addrs["dev"], root)

    # 1. shipped to all, d4 declines.
    rc = dev.start("ship-one", ident, ["--expect", "4", "--wait", "60"]).wait(120)
    out = dev.text()
    if rc != 0:
        raise TestFailure("first shipped run exited %d:\n%s" % (rc, out))
    report = dev.report()
    tests = report["tests"]
    if len(tests) != 41 or any(t["outcome"] != "passed" for t in tests):
        raise TestFailure("not every test passed: %s" % [(t["id"], t["outcome"]) for t in tests
                                                         if t["outcome"] != "passed"])
    nodes = {t.get("node") for t in tests}
    if not {"dev", "d1", "d2", "d3"} <= nodes or "d4" in nodes:
        raise TestFailure("tests ran on %s, expected dev, d1, d2, d3 and not d4" % sorted(nodes))
    gpu = [t for t in tests if t["id"] == "gpu_only"][0]
    if gpu.get("node") != "d2":
        raise TestFailure("the gpu=a100 test ran on %s" % gpu.get("node"))
    if "d4 declined" not in out or "toolchain differs" not in out or "aarch64" not in out:
        raise TestFailure("the developer was not told why d4 declined:\n%s" % out)
    counters = {h: intake(n) for h, n in daemons.items()}
    from_peers = sum(c["blobs_from_peers"] for c in counters.values())
    moved = {h: c["bytes_from_origin"] + c["bytes_from_peers"] for h, c in counters.items()}
    if from_peers == 0:
        raise TestFailure("no daemon fetched a blob from a peer: %s" % counters)
    if counters["d4"]["declined"] != 1 or moved["d4"] != 0:
        raise TestFailure("d4 should have declined before fetching: %s" % counters["d4"])
    phase("run 1: 41 tests passed on dev, d1, d2, d3 (gpu test on d2); d4 declined: toolchain "
          "differs; blobs from peers: %d; bytes fetched per daemon: %s" % (from_peers, moved))

    # 2. one file changed: little more than it travels.
    changed = os.path.join(root, "data", "f0037.txt")
    with open(changed, "w") as f:
        f.write("content of file 37\n" * 3000)  # 57 KB: two chunks
    size = os.path.getsize(changed)
    before = moved
    rc = dev.start("ship-two", ident, ["--expect", "4", "--wait", "60"]).wait(120)
    if rc != 0:
        raise TestFailure("second shipped run exited %d:\n%s" % (rc, dev.text()))
    counters = {h: intake(n) for h, n in daemons.items()}
    after = {h: c["bytes_from_origin"] + c["bytes_from_peers"] for h, c in counters.items()}
    delta = {h: after[h] - before[h] for h in DAEMONS if h != "d4"}
    manifest = max(delta.values()) - size
    for h, d in delta.items():
        # The changed file, the manifest's page that lists it (the manifest
        # travels in pages of about 64 entries, ~4 KB) and the pages' index.
        if d < size or d > size + 16384:
            raise TestFailure("%s moved %d bytes for one changed file of %d" % (h, d, size))
    phase("run 2, one file of %d bytes changed: %s bytes moved per daemon (the rest is the "
          "manifest's page and index, %d bytes)" % (size, delta, manifest))

    # 3. a daemon killed mid-run loses nothing.
    write_list(root, tests=40, sleep=1.0)
    dev.start("ship-three", ident, ["--expect", "4", "--wait", "60"])
    harness.wait_for(lambda: (shipping.running_here(daemons["d1"], "ship-three") > 0,
                              shipping.status(daemons["d1"])),
                     60, "d1 to run tests of ship-three")
    daemons["d1"].kill()
    rc = dev.wait(180)
    if rc != 0:
        raise TestFailure("run with d1 killed exited %d:\n%s" % (rc, dev.text()))
    tests = dev.report()["tests"]
    if len(tests) != 41 or any(t["outcome"] != "passed" for t in tests):
        raise TestFailure("tests lost with d1 killed: %s" % tests)
    phase("run 3: d1 killed mid-run; all 41 tests passed on the others")

    # 4. an unlisted identity changes nothing anywhere.
    alive = [h for h in DAEMONS if h != "d1"]
    before = {h: intake(daemons[h]) for h in alive}
    blobs = {h: store_blobs(caches[h]) for h in alive}
    write_list(root, tests=10, sleep=0.05, gpu=False)  # alone, it has no gpu=a100
    rc = dev.start("ship-four", other, ["--wait", "5"]).wait(120)
    out = dev.text()
    if rc != 0:
        raise TestFailure("the stranger's run (alone) exited %d:\n%s" % (rc, out))
    for h in alive:
        if "%s declined: identity" % h not in out or "--accept-from" not in out:
            raise TestFailure("%s's refusal was not told to the developer:\n%s" % (h, out))
        c = intake(daemons[h])
        if c["refused"] <= before[h]["refused"] or c["taken"] != before[h]["taken"] or \
                store_blobs(caches[h]) != blobs[h] or sessions_left(caches[h]):
            raise TestFailure("%s changed state for an unlisted identity: %s -> %s"
                              % (h, before[h], c))
    nodes = {t.get("node") for t in dev.report()["tests"]}
    if nodes != {"dev"}:
        raise TestFailure("the stranger's tests ran on %s" % nodes)
    phase("run 4: an unlisted identity was refused by %s and told so; no state changed" % alive)


if __name__ == "__main__":
    harness.run(main)
