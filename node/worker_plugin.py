"""shoal's pytest plugin: pytest collects and runs; shoal only deals.

Loaded with `-p shoal_worker` by shoal only; it does nothing unless
SHOAL_WORKER_CHANNEL names the channel's descriptor. pytest parses the
user's command line and ini files as it would alone and collects the suite
with every plugin the user has; this plugin then reports what pytest
collected (every item, and every collector that failed or was skipped) and
runs the items shoal names, with pytest's own run protocol, reading each
outcome from pytest's own reports. The protocol is in node/worker.h: one
line per event, tab-separated fields, every field escaped, every field
capped with a marker where it is cut.
"""
import os
import select
import socket
import sys

import pytest

_FIELD_CAP = 60 * 1024  # bytes of a message or an output carried per test
_channel = None
_reports = {}
_collected = []  # (nodeid, outcome, message, output) of collectors that failed or skipped
_notices = []


def _escape(text):
    return (str(text).replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")
            .replace("\r", "\\r").replace("\0", "\\0"))


def _unescape(text):
    out, i = [], 0
    while i < len(text):
        c = text[i]
        if c == "\\" and i + 1 < len(text):
            i += 1
            c = {"t": "\t", "n": "\n", "r": "\r", "0": "\0"}.get(text[i], text[i])
        out.append(c)
        i += 1
    return "".join(out)


def _cap(text):
    """Keeps the head and the tail of a long text, with a marker between."""
    text = str(text)
    if len(text) <= _FIELD_CAP:
        return text
    head = _FIELD_CAP // 4
    tail = _FIELD_CAP - head
    return "%s\n[... shoal cut %d characters ...]\n%s" % (text[:head], len(text) - head - tail,
                                                         text[-tail:])


def _send(*fields):
    line = "\t".join(_escape(f) for f in fields) + "\n"
    # surrogatepass: a lone surrogate (an id made of bytes that are not
    # UTF-8) travels as its own bytes and comes back as itself in `run`.
    _channel.sendall(line.encode("utf-8", "surrogatepass"))


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config):
    global _channel
    fd = os.environ.pop("SHOAL_WORKER_CHANNEL", None)
    if not fd:
        return
    # Tests and what they start see neither the variable nor the socket.
    os.set_inheritable(int(fd), False)
    _channel = socket.socket(fileno=int(fd))
    _send("hello", "1", "pytest")
    # shoal deals the tests over its own workers: an xdist -n from the user's
    # command or configuration would start workers inside each worker.
    option = config.option
    if getattr(option, "numprocesses", None) or getattr(option, "dist", "no") != "no":
        _notices.append("pytest-xdist's -n %s (or --dist %s) is ignored inside shoal's "
                        "workers: shoal runs the tests in parallel itself"
                        % (getattr(option, "numprocesses", None), getattr(option, "dist", "no")))
        option.numprocesses = None
        option.dist = "no"
        if hasattr(option, "tx"):
            option.tx = []


def _message(report):
    if report.skipped and isinstance(report.longrepr, tuple):
        return report.longrepr[2]
    crash = getattr(report.longrepr, "reprcrash", None)
    if crash is not None:
        return crash.message
    text = report.longreprtext.strip()
    return text.splitlines()[-1] if text else ""


def pytest_collectreport(report):
    if _channel is None or report.passed:
        return
    if report.failed:
        _collected.append((report.nodeid, "error", _message(report), report.longreprtext))
    else:
        _collected.append((report.nodeid, "skipped", _message(report), ""))


def pytest_runtest_logreport(report):
    if _channel is None:
        return
    r = _reports.setdefault(report.nodeid, {"outcome": "passed", "seconds": 0.0, "message": "",
                                            "output": ""})
    r["seconds"] += report.duration
    xfail = getattr(report, "wasxfail", None)
    if report.failed:
        if report.when == "call":
            r["outcome"] = "failed"
        elif r["outcome"] != "failed":
            r["outcome"] = "error"
        r["message"] = r["message"] or _message(report)
        parts = [report.longreprtext] + ["----- %s -----\n%s" % s for s in report.sections]
        r["output"] = r["output"] + "\n".join(parts)
    elif report.skipped and r["outcome"] == "passed":
        r["outcome"] = "xfailed" if xfail is not None else "skipped"
        r["message"] = ("XFAIL " + xfail if xfail else "XFAIL") if xfail is not None \
            else _message(report)
    elif report.passed and report.when == "call" and xfail is not None:
        r["outcome"] = "xpassed"
        r["message"] = "XPASS " + xfail if xfail else "XPASS"


_pending = b""  # read from the channel, not yet a whole line
_lines = []  # whole lines read early (while a batch ran), not yet handled
_stop = ""  # shoal said the session starts no more tests: why


def _take(chunk):
    """Splits what came into _lines; a `stop` is kept aside at once."""
    global _pending, _stop
    _pending += chunk
    while b"\n" in _pending:
        line, _pending = _pending.split(b"\n", 1)
        try:
            text = line.decode("utf-8", "surrogatepass")  # as _send encoded it
        except UnicodeDecodeError:
            text = line.decode("utf-8", "replace")
        fields = [_unescape(f) for f in text.split("\t")]
        if fields[0] == "stop":
            _stop = (fields[1] if len(fields) > 1 else "") or "the session stopped"
        else:
            _lines.append(fields)


def _read():
    """One read of the channel into _lines; False once it is closed."""
    try:
        chunk = _channel.recv(65536)
    except OSError:
        return False
    if chunk:
        _take(chunk)
    return bool(chunk)


def _events():
    while True:
        while _lines:
            yield _lines.pop(0)
        if not _read():
            return


def _poll():
    """Takes what shoal sent while a batch runs, without waiting."""
    while select.select([_channel], [], [], 0)[0] and _read():
        pass


def _reportchars(config):
    """pytest's -r: which outcomes its short summary lists (default fE)."""
    chars = getattr(config.option, "reportchars", "fE") or ""
    if "N" in chars:
        return ""
    return chars.replace("A", "PpsxXEf").replace("a", "sxXEf")


def _announce(session):
    """Sends what pytest collected; returns the items by node id."""
    items = {}
    interrupted = ""
    errors = sum(1 for c in _collected if c[1] == "error")
    if errors and not session.config.option.continue_on_collection_errors:
        # pytest alone runs nothing then: "Interrupted: N errors during collection".
        interrupted = "Interrupted: %d error%s during collection" % (errors,
                                                                     "s" if errors > 1 else "")
    else:
        for item in session.items:
            if item.nodeid in items:
                continue  # the same test named twice runs once
            items[item.nodeid] = item
            path, line, _ = item.location
            _send("item", item.nodeid, path, "" if line is None else line + 1)
    for nodeid, outcome, message, output in _collected:
        _send("collected", nodeid, outcome, _cap(message), _cap(output))
    for notice in _notices:
        _send("notice", notice)
    _send("ready", len(items), session.config.option.maxfail or 0, interrupted,
          session.config.option.verbose, _reportchars(session.config))
    return items


def _run_one(item, nodeid, nextitem):
    _send("begin", nodeid)
    _reports.pop(item.nodeid, None)
    item.config.hook.pytest_runtest_protocol(item=item, nextitem=nextitem)
    r = _reports.pop(item.nodeid, None)
    if r is None:
        _send("result", nodeid, "error", 0, "pytest reported nothing for this test", "")
    else:
        _send("result", nodeid, r["outcome"], "%.6f" % r["seconds"], _cap(r["message"]),
              _cap(r["output"]))


_held = None  # (nodeid, item): the last test of a batch, run when the next one comes


def _run(items, hold, ids):
    """Runs a batch. Like pytest-xdist, a worker told to hold keeps the last
    test back until it knows what follows (the next batch, or a flush: a batch
    of no ids), so fixtures of wider scope live on between batches and are
    torn down exactly when pytest alone would tear them down."""
    global _held
    todo = ([_held] if _held else []) + [(i, items.get(i)) for i in ids]
    _held = None
    if hold and todo and todo[-1][1] is not None:
        _held = todo.pop()
    for k, (nodeid, item) in enumerate(todo):
        if item is None:
            _send("begin", nodeid)
            _send("result", nodeid, "error", 0, "not collected by this runner", "")
            continue
        stop = _stopping(item.session)
        if stop:
            _send("result", nodeid, "not-run", 0, stop, "")
            continue
        following = next((x[1] for x in todo[k + 1:] if x[1] is not None),
                         _held[1] if _held else None)
        _run_one(item, nodeid, following)
    if _held and _stopping(_held[1].session):
        _send("result", _held[0], "not-run", 0, _stopping(_held[1].session), "")
        _held = None
    if _held:
        _send("held", _held[0])
    _send("done")


def _stopping(session):
    """Why no more tests start here (-x or --maxfail reached in this worker,
    a hook's stop, or the session's stop from shoal), or "". pytest's own
    loop checks this between tests; ours must too, or a batch runs on past
    the stop."""
    _poll()
    why = session.shouldfail or session.shouldstop or _stop
    return why if isinstance(why, str) and why else ("stopping" if why else "")


def _final(session, failed, ids):
    """The session's outcomes of tests other workers ran: pytest's cache
    (--lf, --ff) then records what pytest alone would have."""
    lf = session.config.pluginmanager.get_plugin("lfplugin")
    if lf is None:
        return
    for nodeid in ids:
        if failed:
            lf.lastfailed[nodeid] = True
        else:
            lf.lastfailed.pop(nodeid, None)


@pytest.hookimpl(tryfirst=True)
def pytest_runtestloop(session):
    if _channel is None:
        return None
    items = _announce(session)
    for fields in _events():
        if fields[0] == "run" and len(fields) >= 3:
            # As pytest-xdist: the number of workers of the whole run, which
            # suites read to share the machine (sklearn, per test).
            if fields[2] != "0":
                os.environ["PYTEST_XDIST_WORKER_COUNT"] = fields[2]
            _run(items, fields[1] == "1", fields[3:])
        elif fields[0] == "final" and len(fields) >= 2:
            _final(session, fields[1] == "failed", fields[2:])
    # The channel closed: shoal is done with this worker. pytest finishes the
    # session as it would alone (session fixtures, sessionfinish hooks, cache).
    sys.stdout.flush()
    return True
