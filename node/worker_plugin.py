"""shoal's pytest worker plugin: runs the batches shoal sends over fd 3.

Loaded with `-p shoal_worker` by shoal only (it does nothing unless
SHOAL_WORKER_CHANNEL names the channel's descriptor). The protocol is in
node/worker.h: one line per event, tab-separated fields, escaped.
"""
import os
import socket

import pytest

_OUTPUT_CAP = 64 * 1024
_channel = None
_reports = {}


def _escape(text):
    return (str(text).replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")
            .replace("\r", "\\r"))


def _send(*fields):
    line = "\t".join(_escape(f) for f in fields) + "\n"
    _channel.sendall(line.encode("utf-8", "replace"))


def pytest_configure(config):
    global _channel
    fd = os.environ.pop("SHOAL_WORKER_CHANNEL", None)
    if fd:
        # Tests and what they start see neither the variable nor the socket.
        os.set_inheritable(int(fd), False)
        _channel = socket.socket(fileno=int(fd))


def _message(report):
    if report.skipped and isinstance(report.longrepr, tuple):
        return report.longrepr[2]
    crash = getattr(report.longrepr, "reprcrash", None)
    if crash is not None:
        return crash.message
    text = report.longreprtext
    return text.strip().splitlines()[-1] if text.strip() else ""


def pytest_runtest_logreport(report):
    if _channel is None:
        return
    r = _reports.setdefault(report.nodeid, {"outcome": "passed", "seconds": 0.0, "message": "",
                                            "output": ""})
    r["seconds"] += report.duration
    if report.failed:
        if report.when == "call":
            r["outcome"] = "failed"
        elif r["outcome"] != "failed":
            r["outcome"] = "error"
        r["message"] = r["message"] or _message(report)
        parts = [report.longreprtext] + ["----- %s -----\n%s" % s for s in report.sections]
        r["output"] = (r["output"] + "\n".join(parts))[-_OUTPUT_CAP:]
    elif report.skipped and r["outcome"] == "passed":
        r["outcome"] = "skipped"
        r["message"] = _message(report)


def _lines():
    pending = b""
    while True:
        chunk = _channel.recv(65536)
        if not chunk:
            return
        pending += chunk
        while b"\n" in pending:
            line, pending = pending.split(b"\n", 1)
            yield line.decode("utf-8", "replace").split("\t")


@pytest.hookimpl(tryfirst=True)
def pytest_runtestloop(session):
    if _channel is None:
        return None
    items = {item.nodeid: item for item in session.items}
    _send("ready", len(items))
    for fields in _lines():
        if fields[0] != "run":
            continue
        ids = fields[1:]
        todo = [items.get(i) for i in ids]
        for k, item in enumerate(todo):
            _send("begin", ids[k])
            if item is None:
                _send("result", ids[k], "error", 0, "not collected by this runner", "")
                continue
            following = next((x for x in todo[k + 1:] if x is not None), None)
            _reports.pop(item.nodeid, None)
            item.config.hook.pytest_runtest_protocol(item=item, nextitem=following)
            r = _reports.pop(item.nodeid, None)
            if r is None:
                _send("result", ids[k], "error", 0, "pytest reported nothing for this test", "")
            else:
                _send("result", ids[k], r["outcome"], "%.6f" % r["seconds"], r["message"],
                      r["output"])
        _send("done")
    return True
