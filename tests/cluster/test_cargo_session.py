"""Two participants x 1 slot run a cargo workspace: the same per-test outcomes
as cargo test alone.

The workspace (written here) has two packages whose tests share names
(alpha's lib, alpha's integration test and beta's lib each have `same`),
names one of which is a prefix of another (--exact must not run both), a raw
and a non-ASCII identifier, a failure with its captured stdout, an ignored
test with a reason, a #[should_panic] test, an integration test that checks
it runs in its package's directory with cargo's CARGO_* variables, and doc
tests (alpha's pass, one of beta's fails). Plain `cargo test --no-fail-fast
-- --test-threads=1` and shoal must agree test by test; both participants
run tests, write the same JUnit file and exit 1; the failure's output
reaches the report; the overridden --test-threads and the doc tests run per
crate are told to the user.
"""
import os
import xml.etree.ElementTree as ET

import cargo_crates
from runs import Runs, run_test, same_reports, phase, write_files, TestFailure

LIB_ALPHA = r'''
/// ```
/// assert_eq!(alpha::double(2), 4);
/// ```
pub fn double(x: i32) -> i32 { x * 2 }

#[cfg(test)]
mod tests {
    #[test] fn passes() { assert_eq!(super::double(3), 6); }
    #[test] fn fails() { println!("alpha stdout marker"); assert_eq!(super::double(1), 3); }
    #[test] #[ignore = "needs a database"] fn ignored() {}
    #[test] #[should_panic(expected = "boom")] fn panics() { panic!("boom") }
    #[test] fn prefix() {}
    #[test] fn prefix_longer() { panic!("prefix_longer must fail") }
    #[test] fn r#match() {}
    #[test] fn größe() {}
    #[test] fn same() {}
    mod inner { #[test] fn same() {} }
}
'''

INTEG_ALPHA = r'''
#[test]
fn same() {
    let dir = std::env::var("CARGO_MANIFEST_DIR").unwrap();
    assert!(dir.ends_with("/alpha"), "CARGO_MANIFEST_DIR {}", dir);
    assert_eq!(std::env::current_dir().unwrap(), std::path::PathBuf::from(&dir));
    assert_eq!(std::env::var("CARGO_PKG_NAME").unwrap(), "alpha");
}
'''

LIB_BETA = r'''
/// ```
/// assert_eq!(beta::half(4), 2);
/// ```
/// ```
/// assert_eq!(beta::half(3), 2, "beta's doc test fails");
/// ```
pub fn half(x: i32) -> i32 { x / 2 }

#[cfg(test)]
mod tests {
    #[test] fn same() { assert_eq!(super::half(4), 2); }
    #[test] fn fails_too() { assert!(super::half(1) == 1, "beta fails"); }
}
'''


def crate_files():
    package = '[package]\nname = "%s"\nversion = "0.1.0"\nedition = "2018"\n'
    return {
        "Cargo.toml": '[workspace]\nmembers = ["alpha", "beta"]\n',
        "alpha/Cargo.toml": package % "alpha",
        "alpha/src/lib.rs": LIB_ALPHA,
        "alpha/tests/integ.rs": INTEG_ALPHA,
        "beta/Cargo.toml": package % "beta",
        "beta/src/lib.rs": LIB_BETA,
    }


def main(cluster):
    cargo_crates.require_cargo()
    root = write_files(os.path.join(cluster.tmpdir, "ws"), crate_files())
    cargo_crates.prebuild(root)
    plain = cargo_crates.plain_outcomes(root, os.path.join(cluster.tmpdir, "plain.out"))
    want = {"alpha/lib:alpha::tests::same", "alpha/lib:alpha::tests::inner::same",
            "alpha/test:integ::same", "beta/lib:beta::tests::same",
            "alpha/lib:alpha::tests::r#match", "alpha/lib:alpha::tests::größe",
            "alpha/doc:alpha", "beta/doc:beta"}
    if not want <= set(plain) or len(plain) != 15:
        raise TestFailure("plain cargo test: unexpected tests %s" % sorted(plain))
    phase("cargo alone: %d tests, %d failed" % (len(plain),
                                                list(plain.values()).count("failed")))

    runs = Runs(cluster, "cargo2")
    os.environ.update(cargo_crates.ENV)
    ps = runs.start(2, ["--expect", "2", "--slots", "1", "--", "cargo", "test", "--",
                        "--test-threads", "4"], cwd=root)
    codes = runs.wait_all(240)
    if codes != [1, 1]:
        runs.dump()
        raise TestFailure("exit statuses %s, want [1, 1]" % codes)
    cases = same_reports(ps)
    got = cargo_crates.shoal_outcomes(ps[0])
    mismatches = {i: (plain.get(i), got.get(i, (None,))[0]) for i in set(plain) | set(got)
                  if plain.get(i) != got.get(i, (None,))[0]}
    if mismatches:
        runs.dump()
        raise TestFailure("outcomes differ from cargo test alone (plain, shoal): %s" % mismatches)
    phase("%d tests: the same outcome as cargo test alone, test by test" % len(got))

    hosts = {host for (_, host, _) in cases.values()}
    if len(hosts) != 2:
        raise TestFailure("tests ran on %s, want both participants" % hosts)
    failure = [el for (cls, name), (o, _, el) in cases.items()
               if (cls, name) == ("alpha/lib:alpha", "tests::fails")]
    text = "".join(failure[0].itertext()) if failure else ""
    if "alpha stdout marker" not in text:
        raise TestFailure("the failure's captured stdout is not in the report: %r" % (
            [ET.tostring(el)[:800] for el in failure],))
    if got["alpha/lib:alpha::tests::ignored"][1] != "needs a database":
        raise TestFailure("the ignore reason is lost: %r" % (got["alpha/lib:alpha::tests::ignored"],))
    phase("both members ran tests; the failure's output and the ignore reason are reported")

    err = ps[0].stderr() + ps[1].stderr()
    for told in ("--test-threads is overridden", "doc tests run as one test"):
        if told not in err:
            raise TestFailure("the user is not told %r" % told)
    phase("the overridden --test-threads and the doc tests per crate are told")


run_test(main)
