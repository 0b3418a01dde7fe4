"""`shoal history import` of pytest's own JUnit keys tests as runs do (issue:
an imported report stored ids that no run would ever look up).

pytest alone writes its default (xunit2, no file attribute) JUnit report of
the sample suite (nested directories, classes, parameters); `shoal history import` of it, from the checkout, stores
exactly the ids a `shoal run` of the same suite reports.
"""
import json
import os
import shutil
import subprocess

from runs import Runs, run_test, phase, SAMPLES, PYTHON, TestFailure


def main(cluster):
    suite = os.path.join(cluster.tmpdir, "suite")
    shutil.copytree(os.path.join(SAMPLES, "pytest"), suite)
    report = os.path.join(cluster.tmpdir, "pytest.xml")
    # Less the test that kills its own process: pytest alone would die with it.
    select = ["-k", "not crashes_its_process"]
    subprocess.run([PYTHON, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                    "--junitxml=" + report] + select, cwd=suite, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, timeout=300)
    db = os.path.join(cluster.tmpdir, "imported.db")
    out = subprocess.run([cluster.shoal, "history", "import", "--project", "p", "--db", db,
                          report], cwd=suite, capture_output=True, text=True, timeout=60)
    if out.returncode != 0:
        raise TestFailure("import failed: %s" % out.stderr)
    shown = subprocess.run([cluster.shoal, "history", "show", "--project", "p", "--db", db,
                            "--json"], capture_output=True, text=True, timeout=60)
    data = json.loads(shown.stdout)
    rows = data["tests"] if isinstance(data, dict) else data
    imported = {row["id"] for row in rows}
    p = Runs(cluster, "imported").participant("r").start(
        ["--slots", "2", "--no-history", "--", PYTHON, "-m", "pytest"] + select, cwd=suite)
    p.wait(180)
    with open(p.json) as f:
        ran = {t["id"] for t in json.load(f)["tests"]}
    if imported != ran:
        raise TestFailure("imported ids differ from run ids: only imported %s; only run %s"
                          % (sorted(imported - ran)[:5], sorted(ran - imported)[:5]))
    phase("the %d imported ids are the ids runs report" % len(ran))


run_test(main)
