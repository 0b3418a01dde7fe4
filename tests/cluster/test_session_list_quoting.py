"""List files: arguments quoted as in sh reach the test intact; shell syntax is refused.

Proves, with `shoal run --list`: a test whose arguments contain spaces and
quotes (single, double, backslash) receives exactly those arguments and
passes; a list with an unquoted pipe is refused before anything runs (exit 2,
the message names the file, the line and "shell syntax is not supported").
"""
import os

from runs import Runs, run_test, phase, list_file, TestFailure

# Each test passes only if sh sees exactly the arguments sh itself would split.
QUOTED = [
    ("spaces", """/bin/sh -c 'test "$1" = "a b" && test "$2" = "c  d"' sh "a b" 'c  d'"""),
    ("quotes", """/bin/sh -c 'test "$1" = "it'"'"'s \\"x\\""' sh "it's \\"x\\"\""""),
    ("backslash", """/bin/sh -c 'test "$1" = "a b|c"' sh a\\ b\\|c"""),
    ("empty", """/bin/sh -c 'test $# = 2 && test -z "$1"' sh '' x"""),
]


def main(cluster):
    suite = list_file(os.path.join(cluster.tmpdir, "quoted.list"), QUOTED)
    runs = Runs(cluster, "quoted")
    (p,) = runs.start(1, ["--slots", "1", "--list", suite])
    code = p.wait(60)
    cases = {name: o for (_, name), (o, _, _) in p.junit_cases().items()}
    if code != 0 or cases != {name: "passed" for name, _ in QUOTED}:
        runs.dump()
        raise TestFailure("exit %d, outcomes %s: arguments did not arrive as quoted"
                          % (code, cases))
    phase("quoted arguments arrive intact: %s" % sorted(cases))

    piped = list_file(os.path.join(cluster.tmpdir, "piped.list"),
                      [("ok", "true"), ("piped", "cat /etc/hostname | wc -l")])
    runs = Runs(cluster, "piped")
    (p,) = runs.start(1, ["--slots", "1", "--list", piped])
    code = p.wait(30)
    err = p.stderr()
    if code != 2 or "piped.list:2:" not in err or "shell syntax is not supported" not in err:
        runs.dump()
        raise TestFailure("a piped command: exit %d, stderr %r; want 2 naming piped.list:2"
                          % (code, err[-400:]))
    phase("an unquoted pipe is refused: %s" % err.strip().splitlines()[-1])


run_test(main)
