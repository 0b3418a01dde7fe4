"""pytest plugin for scripts/conformance: writes every test's final outcome.

Loaded with `-p conformance_outcomes` (scripts/ on PYTHONPATH). When the
environment names a file in CONFORMANCE_OUTCOMES, the plugin writes there, at
the end of the session, the JSON object

  {"exitstatus": N, "outcomes": {NODEID: OUTCOME, ...}, "imported": {...},
   "duplicates": [NODEID, ...]}

with OUTCOME one of passed, failed, error, skipped, xfailed, xpassed:
  - a collector that fails is "error" under its node id, one that skips (a
    module-level skip, an importorskip) is "skipped" under its node id;
  - a test: an error in setup is "error"; a skip in setup or call "skipped";
    an xfail that failed (or did not run) "xfailed"; a non-strict xpass
    "xpassed" (a strict xpass is reported failed by pytest, so "failed");
    a failure in call "failed"; an error in teardown is "error" unless the
    call already failed, which stays "failed".
Under pytest-xdist only the controller records: it receives every worker's
test reports and the failed or skipped collection reports through the same
hooks. A node id that more than one test has (pytest gives such ids to
tests of different modules named with --pyargs) is listed in "duplicates":
its outcome is the last one's. CONFORMANCE_IMPORTS (comma-separated module
names) asks where each of those modules is imported from, to tell an
installed package from a copy.
"""
import importlib.util
import json
import os
import sys

_ENV = "CONFORMANCE_OUTCOMES"


def _is_worker(config):
    return hasattr(config, "workerinput")


class _Recorder:
    def __init__(self, path):
        self.path = path
        self.outcomes = {}
        self.setups = {}  # node id -> setup reports: more than one is a duplicate id

    def pytest_collectreport(self, report):
        if report.failed:
            self.outcomes[report.nodeid] = "error"
        elif report.skipped:
            self.outcomes.setdefault(report.nodeid, "skipped")

    def pytest_runtest_logreport(self, report):
        nodeid = report.nodeid
        wasxfail = hasattr(report, "wasxfail")
        if report.when == "setup":
            self.setups[nodeid] = self.setups.get(nodeid, 0) + 1
            if report.failed:
                outcome = "error"
            elif report.skipped:
                outcome = "xfailed" if wasxfail else "skipped"
            else:
                return  # decided by the call
            self.outcomes[nodeid] = outcome
        elif report.when == "call":
            if report.passed:
                outcome = "xpassed" if wasxfail else "passed"
            elif report.skipped:
                outcome = "xfailed" if wasxfail else "skipped"
            else:
                outcome = "failed"
            self.outcomes[nodeid] = outcome
        elif report.when == "teardown":
            if report.failed:
                if self.outcomes.get(nodeid) != "failed":
                    self.outcomes[nodeid] = "error"
            elif nodeid not in self.outcomes:
                # No setup failure or skip and no call report: cannot happen
                # in pytest itself; keep the test visible rather than lose it.
                self.outcomes[nodeid] = "skipped" if report.skipped else "passed"
        elif report.failed:
            # pytest-xdist reports a test whose worker crashed with when="???".
            self.outcomes[nodeid] = "failed"

    def pytest_sessionfinish(self, session, exitstatus):
        imported = {}
        for name in filter(None, os.environ.get("CONFORMANCE_IMPORTS", "").split(",")):
            module = sys.modules.get(name)
            where = getattr(module, "__file__", None) if module else None
            if where is None:
                try:
                    spec = importlib.util.find_spec(name)
                    where = spec.origin if spec else None
                except Exception as e:  # noqa: BLE001 - report, never fail the run
                    where = "error: %r" % (e,)
            imported[name] = where
        duplicates = sorted(t for t, n in self.setups.items() if n > 1)
        data = {"exitstatus": int(exitstatus), "outcomes": self.outcomes,
                "imported": imported, "duplicates": duplicates}
        tmp = self.path + ".tmp"
        with open(tmp, "w") as f:
            json.dump(data, f, indent=0, sort_keys=True)
        os.replace(tmp, self.path)


def pytest_configure(config):
    path = os.environ.get(_ENV)
    if path and not _is_worker(config):
        config.pluginmanager.register(_Recorder(path), "conformance-recorder")
