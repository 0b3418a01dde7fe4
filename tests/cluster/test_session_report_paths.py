"""--junit/--json paths: a report is written where asked, or the run says it was not.

Proves, with `shoal run` processes:
- reports into directories that do not exist yet are written (the directories
  are made, as pytest does for --junitxml), and the run exits 0;
- a report path that is a directory is refused before any test runs: exit 2,
  the message names the flag and the path; so are --junit and --json naming
  the same file, also through a symbolic link (one report would be lost with
  exit 0);
- a report that cannot be written when the session ends (a test replaced its
  directory with a file) is named on stderr with the cause, and the run exits
  4 instead of 0.
"""
import json
import os
import xml.etree.ElementTree as ET

from runs import Runs, run_test, phase, list_file, MARK, PYTHON, TestFailure

SABOTAGE = """import os, shutil, sys
shutil.rmtree(sys.argv[1])
open(sys.argv[1], "w").close()
"""


def main(cluster):
    tmp = cluster.tmpdir
    log = os.path.join(tmp, "marks.log")
    suite = list_file(os.path.join(tmp, "suite.list"),
                      [("t%d" % i, "%s %s %s t%d 0.05" % (PYTHON, MARK, log, i))
                       for i in range(3)])

    junit = os.path.join(tmp, "fresh", "junit", "r.xml")
    js = os.path.join(tmp, "fresh", "json", "r.json")
    runs = Runs(cluster, "report-dirs")
    (p,) = runs.start(1, ["--slots", "1", "--junit", junit, "--json", js, "--list", suite])
    code = p.wait(60)
    if code != 0:
        runs.dump()
        raise TestFailure("exit status %d, want 0" % code)
    missing = [path for path in (junit, js) if not os.path.exists(path)]
    if missing:
        runs.dump()
        raise TestFailure("exit 0 but no report at %s" % missing)
    names = sorted(c.get("name") for c in ET.parse(junit).iter("testcase"))
    with open(js) as f:
        tests = json.load(f)["tests"]
    if names != ["t0", "t1", "t2"] or len(tests) != 3:
        raise TestFailure("reports in new directories hold %s and %d JSON tests"
                          % (names, len(tests)))
    phase("reports written into directories that did not exist; exit 0")

    runs = Runs(cluster, "report-is-dir")
    (p,) = runs.start(1, ["--slots", "1", "--junit", tmp, "--list", suite])
    code = p.wait(30)
    err = p.stderr()
    if code != 2 or "--junit" not in err or tmp not in err or "is a directory" not in err:
        runs.dump()
        raise TestFailure("a directory as --junit: exit %d, stderr %r; want 2 naming it"
                          % (code, err[-500:]))
    if os.path.exists(log) and len(open(log).read().splitlines()) != 6:
        raise TestFailure("tests ran although the report path was refused")
    phase("a directory as --junit is refused before any test runs (exit 2)")

    same = os.path.join(tmp, "same.xml")
    link = os.path.join(tmp, "link.json")
    os.symlink("same.xml", link)  # not there yet: a report would write through it
    for other in (os.path.join(tmp, "..", os.path.basename(tmp), "same.xml"), link):
        runs = Runs(cluster, "report-same")
        (p,) = runs.start(1, ["--slots", "1", "--junit", same, "--json", other, "--list", suite])
        code = p.wait(30)
        if code != 2 or "same file" not in p.stderr() or os.path.exists(same):
            runs.dump()
            raise TestFailure("--junit and --json naming one file (%s): exit %d, stderr %r; "
                              "want 2" % (other, code, p.stderr()[-300:]))
    phase("--junit and --json naming one file are refused before any test runs (exit 2)")

    doomed = os.path.join(tmp, "doomed")
    os.mkdir(doomed)
    script = os.path.join(tmp, "sabotage.py")
    with open(script, "w") as f:
        f.write(SABOTAGE)
    suite2 = list_file(os.path.join(tmp, "sabotage.list"),
                       [("sabotage", "%s %s %s" % (PYTHON, script, doomed))])
    lost = os.path.join(doomed, "r.xml")
    runs = Runs(cluster, "report-lost")
    (p,) = runs.start(1, ["--slots", "1", "--junit", lost, "--list", suite2])
    code = p.wait(60)
    err = p.stderr()
    if code != 4:
        runs.dump()
        raise TestFailure("exit status %d although the JUnit report was not written, want 4"
                          % code)
    if "JUnit report not written" not in err or lost not in err or \
            "Not a directory" not in err:
        runs.dump()
        raise TestFailure("stderr does not name the lost report and the cause: %r" % err[-800:])
    phase("a report lost at the end: stderr names %s and the cause; exit 4" % lost)


run_test(main)
