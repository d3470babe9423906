//! Model files that are wrong in the ways people get them wrong: each
//! refused with one line saying what is wrong and what to do.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn estimate(path: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_wattledger"))
        .arg("estimate")
        .arg(path)
        .output()
        .unwrap()
}

/// Writes `bytes` as `name` in `dir`.
fn file(dir: &tempfile::TempDir, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.path().join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

/// Runs `estimate` on `bytes` and returns its one line on stderr (exit 3).
fn refused(bytes: &[u8]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let out = estimate(&file(&dir, "m.json", bytes));
    let e = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(3), "{e}");
    assert_eq!(e.lines().count(), 1, "{e}");
    e
}

const ONE_SUBGRAPH: &str = r#""subgraphs":[{"name":"a","stage":0,"precision":"fp16","latency_s":0.01,"units_allocated":24}]"#;

#[test]
fn a_typo_in_a_preset_override_is_refused_with_a_suggestion() {
    let e = refused(
        format!(r#"{{"hardware":{{"preset":"seed-h100","idel_power_w":264}},{ONE_SUBGRAPH}}}"#)
            .as_bytes(),
    );
    assert!(e.contains("unknown field `idel_power_w`"), "{e}");
    assert!(e.contains("did you mean `idle_power_w`?"), "{e}");
    // One level down, and in a whole inline hardware object, too.
    let e = refused(
        format!(
            r#"{{"hardware":{{"preset":"seed-h100","dvfs":{{"voltag_v":0.8}}}},{ONE_SUBGRAPH}}}"#
        )
        .as_bytes(),
    );
    assert!(e.contains("hardware.dvfs: unknown field `voltag_v`"), "{e}");
    assert!(e.contains("did you mean `voltage_v`?"), "{e}");
}

#[test]
fn an_unknown_precision_key_is_named() {
    let e = refused(
        format!(
            r#"{{"hardware":{{"preset":"seed-h100","energy_per_op_j":{{"fp61":1e-12}}}},{ONE_SUBGRAPH}}}"#
        )
        .as_bytes(),
    );
    assert!(e.contains("unknown precision `fp61`"), "{e}");
    assert!(e.contains("the precisions are fp64, fp32"), "{e}");
    assert!(!e.contains("invalid length"), "{e}");
}

#[test]
fn a_top_level_array_says_a_model_is_an_object() {
    let e = refused(format!("[{{{ONE_SUBGRAPH}}}]").as_bytes());
    assert!(e.contains("a model file is one JSON object"), "{e}");
    assert!(e.contains("not an array"), "{e}");
    assert!(!e.contains("expected a string"), "{e}");
}

#[test]
fn a_utf8_byte_order_mark_is_accepted() {
    let dir = tempfile::tempdir().unwrap();
    let mut bytes = b"\xEF\xBB\xBF".to_vec();
    bytes.extend_from_slice(format!(r#"{{"hardware":"seed-h100",{ONE_SUBGRAPH}}}"#).as_bytes());
    let out = estimate(&file(&dir, "bom.json", &bytes));
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // seed-h100: 300 W idle over the one 10 ms stage = 3 J.
    assert!(String::from_utf8_lossy(&out.stdout).contains("Total      3.000 J over 10.00 ms"));
}

#[test]
fn invalid_utf8_says_so_and_where() {
    let e = refused(b"{\"name\":\"caf\xE9\"}");
    // `{"name":"caf` is 12 bytes: the bad byte is at offset 12.
    assert!(e.contains("is not UTF-8 text (invalid byte at offset 12)"), "{e}");
    assert!(e.contains("save it as UTF-8"), "{e}");
    assert!(!e.contains("permissions"), "{e}");
}

#[test]
fn a_syntax_error_gives_its_position_once_and_what_to_do() {
    let e = refused(b"{\"name\":\"x\",\n \"subgraphs\": [}");
    assert!(e.contains("m.json:2:16: expected value; fix the JSON syntax there"), "{e}");
    assert!(!e.contains("at line"), "{e}");
    let e = refused(b"{\"name\":\"x\",\n \"subgraphs\": [");
    assert!(e.contains("close every bracket and brace"), "{e}");
}
