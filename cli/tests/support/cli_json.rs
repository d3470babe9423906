//! Running the real `wattledger` binary and reading its JSON: shared by the
//! integration tests that check `estimate`'s numbers.
#![allow(dead_code)] // each test file uses its own subset

use std::process::{Command, Output};

use serde_json::Value;

/// Runs the command with `args` and returns what it printed.
pub fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_wattledger"))
        .args(args)
        .output()
        .expect("run wattledger")
}

/// Runs the command, which must succeed, and parses its stdout as JSON.
pub fn json_of(args: &[&str]) -> Value {
    let out = run(args);
    assert!(
        out.status.success(),
        "{args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("stdout is JSON")
}

/// The number at a dotted `path` (`"states.active.energy_j"`).
pub fn f(v: &Value, path: &str) -> f64 {
    let mut cur = v;
    for key in path.split('.') {
        cur = &cur[key];
    }
    cur.as_f64()
        .unwrap_or_else(|| panic!("{path} is not a number: {cur}"))
}

/// Equal to 1e-9 relative (what a JSON round trip of f64 keeps and more).
pub fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1e-12)
}

/// Asserts [`close`], naming the expression that differs.
macro_rules! assert_close {
    ($a:expr, $b:expr) => {{
        let (a, b) = ($a, $b);
        assert!(
            cli_json::close(a, b),
            "{} = {a}, expected {b}",
            stringify!($a)
        );
    }};
}
