"""cargo test under shoal when tests end their binary, hang, or go unreported.

One participant, one slot, so one batch holds every test of the lib's
binary, which libtest runs in name order: a_first passes, b_abort calls
std::process::abort (the binary dies: b_abort is an error, the tests after
it are dealt again and get their real outcomes), c_after passes, d_fails
fails, e_hang never ends (--test-timeout: an error naming the timeout). Two
`harness = false` targets: `fake` lists two tests as libtest does but
reports only one when run (the other is an error, never a pass), and `odd`
prints no libtest listing at all (its target is one error, not silently
left out).
"""
import os

import cargo_crates
from harness import scaled
from runs import Runs, run_test, phase, write_files, TestFailure

CARGO = '''[package]
name = "crashy"
version = "0.1.0"
edition = "2018"

[[test]]
name = "fake"
harness = false

[[test]]
name = "odd"
harness = false
'''

LIB = r'''
#[cfg(test)]
mod tests {
    #[test] fn a_first() {}
    #[test] fn b_abort() { std::process::abort(); }
    #[test] fn c_after() {}
    #[test] fn d_fails() { panic!("d fails on purpose"); }
    #[test] fn e_hang() { loop { std::thread::sleep(std::time::Duration::from_secs(1)); } }
}
'''

FAKE = r'''
fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.iter().any(|a| a == "--list") {
        println!("present: test");
        println!("vanishes: test");
        return;
    }
    println!("\nrunning 1 test");
    if args.iter().any(|a| a == "present") {
        println!("test present ... ok");
    }
    println!("\ntest result: ok. 1 passed; 0 failed; 0 ignored; 0 measured; 1 filtered out; \
              finished in 0.00s\n");
}
'''

ODD = 'fn main() { println!("my own harness: all 3 checks fine"); }\n'

WANT = {
    "crashy/lib:crashy::tests::a_first": "passed",
    "crashy/lib:crashy::tests::b_abort": "error",
    "crashy/lib:crashy::tests::c_after": "passed",
    "crashy/lib:crashy::tests::d_fails": "failed",
    "crashy/lib:crashy::tests::e_hang": "error",
    "crashy/test:fake::present": "passed",
    "crashy/test:fake::vanishes": "error",
    "crashy/test:odd": "error",
}


def main(cluster):
    cargo_crates.require_cargo()
    root = write_files(os.path.join(cluster.tmpdir, "crashy"), {
        "Cargo.toml": CARGO, "src/lib.rs": LIB, "tests/fake.rs": FAKE, "tests/odd.rs": ODD})
    cargo_crates.prebuild(root)
    os.environ.update(cargo_crates.ENV)
    runs = Runs(cluster, "cargocrash")
    p = runs.start(1, ["--slots", "1", "--test-timeout", "%.0f" % scaled(5), "--",
                       "cargo", "test"], cwd=root)[0]
    if runs.wait_all(240) != [1]:
        runs.dump()
        raise TestFailure("exit status %s, want 1" % p.code)
    got = cargo_crates.shoal_outcomes(p)
    outcomes = {i: o for i, (o, _, _) in got.items()}
    if outcomes != WANT:
        runs.dump()
        raise TestFailure("outcomes %s, want %s" % (outcomes, WANT))
    phase("abort, hang, missing result and a foreign harness: every test has its outcome")

    checks = {
        "crashy/lib:crashy::tests::b_abort": "ended (exit status 101) while this test ran",
        "crashy/lib:crashy::tests::e_hang": "timed out",
        "crashy/lib:crashy::tests::d_fails": "d fails on purpose",
        "crashy/test:fake::vanishes": "no result",
        "crashy/test:odd": "harness",
    }
    for test, words in checks.items():
        if words not in got[test][1]:
            raise TestFailure("%s: message %r lacks %r" % (test, got[test][1], words))
    phase("each error says why (crash, timeout, no result, not libtest)")


run_test(main)
