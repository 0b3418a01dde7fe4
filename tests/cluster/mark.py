"""A test program for session tests: records each run of a test, then acts.

usage: mark.py LOG ID SECONDS [pass|fail|flaky STATE_DIR]
Appends "start ID T" and "end ID T" lines to LOG (O_APPEND, one write each),
so a test can prove no test ran twice at once (I2) and every one ran. `flaky`
fails the first time (no marker in STATE_DIR yet) and passes after.
"""
import os
import sys
import time


def note(log, text):
    fd = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    os.write(fd, (text + "\n").encode())
    os.close(fd)


def main():
    log, test_id, seconds = sys.argv[1], sys.argv[2], float(sys.argv[3])
    mode = sys.argv[4] if len(sys.argv) > 4 else "pass"
    note(log, "start %s %.6f %s" % (test_id, time.time(), os.environ.get("SHOAL_NODE", "?")))
    time.sleep(seconds)
    status = 0
    if mode == "fail":
        status = 1
    elif mode == "flaky":
        marker = os.path.join(sys.argv[5], test_id)
        if not os.path.exists(marker):
            open(marker, "w").close()
            status = 1
    note(log, "end %s %.6f" % (test_id, time.time()))
    sys.exit(status)


main()
