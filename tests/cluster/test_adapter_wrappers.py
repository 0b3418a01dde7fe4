"""--adapter NAME with a wrapper script that hides the framework's words.

CI setups run their tests through a script that passes its arguments on
(`exec go test "$@"`, `exec jest "$@"`, `exec cargo "$@"`). With --adapter the
user relies on such a wrapper giving the same per-test outcomes as the
framework's own command, run from the project directory with a relative
path. Also: a Jest command that matches no test file is an empty session
(exit 5), as for every framework, not a failure to list.
"""
import json
import os
import stat

from runs import Runs, framework, phase, run_test, write_files, TestFailure

GO = {
    "go.mod": "module example.com/wrap\n\ngo 1.19\n",
    "a/a_test.go": 'package a\n\nimport "testing"\n\n'
                   'func TestPass(t *testing.T) {}\n'
                   'func TestFail(t *testing.T) { t.Fatal("no") }\n'
                   'func TestSkip(t *testing.T) { t.Skip("later") }\n',
}
JEST = {
    "package.json": '{"name": "wrap"}\n',
    "a.test.js": "test('passes', () => {});\ntest('fails', () => { expect(1).toBe(2); });\n"
                 "test.skip('skipped', () => {});\n",
}
CARGO = {
    "Cargo.toml": '[package]\nname = "wrap"\nversion = "0.1.0"\nedition = "2018"\n',
    "src/lib.rs": "#[test]\nfn passes() {}\n#[test]\nfn fails() { assert_eq!(1, 2); }\n"
                  "#[test]\n#[ignore]\nfn ignored() {}\n",
}


def write(root, files, wrapper):
    write_files(root, files)
    script = os.path.join(root, "run-tests")
    with open(script, "w") as f:
        f.write("#!/bin/sh\n" + wrapper + "\n")
    os.chmod(script, os.stat(script).st_mode | stat.S_IXUSR)


def outcomes(cluster, session, cwd, args):
    runs = Runs(cluster, session)
    p = runs.participant().start(["--slots", "2", "--no-history"] + args, cwd=cwd)
    code = p.wait(300)
    try:
        with open(p.json) as f:
            return code, {t["id"]: t["outcome"] for t in json.load(f)["tests"]}
    except (OSError, ValueError):
        runs.dump()
        raise TestFailure("no report from %s (exit %s)" % (" ".join(args), code))


def main(cluster):
    cases = [  # the framework's command; the wrapper's body; its arguments
        ("go", GO, ["go", "test", "./..."], 'exec go test "$@"', ["./..."]),
        ("jest", JEST, ["jest"], 'exec "%s" "$@"', []),
        ("cargo", CARGO, ["cargo", "test"], 'exec cargo "$@"', ["test"]),
    ]
    for name, files, plain, wrapper, wrapped_args in cases:
        plain = [framework(plain[0])] + plain[1:]  # skipped without it, failed in CI
        wrapper = wrapper % plain[0] if "%s" in wrapper else wrapper
        root = os.path.join(cluster.tmpdir, name)
        write(root, files, wrapper)
        code, want = outcomes(cluster, "plain-" + name, root, ["--"] + plain)
        got_code, got = outcomes(cluster, "wrapped-" + name, root,
                                 ["--adapter", name, "--", "./run-tests"] + wrapped_args)
        if (got_code, got) != (code, want) or len(want) != 3:
            raise TestFailure("%s through ./run-tests: exit %s %s, want exit %s %s" % (
                name, got_code, got, code, want))
        phase("%s through a wrapper script: the same %d outcomes and exit %d" % (
            name, len(want), code))

    runs = Runs(cluster, "wrap-empty")
    p = runs.participant().start(["--slots", "1", "--no-history", "--",
                                  framework("jest"), "no-such-file"],
                                 cwd=os.path.join(cluster.tmpdir, "jest"))
    if p.wait(120) != 5:
        runs.dump()
        raise TestFailure("jest matching no test file exited %s, want 5" % p.code)
    phase("jest matching no test file is an empty session: exit 5")


run_test(main)
