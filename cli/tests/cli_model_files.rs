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
    assert!(
        e.contains("is not UTF-8 text (invalid byte at offset 12)"),
        "{e}"
    );
    assert!(e.contains("save it as UTF-8"), "{e}");
    assert!(!e.contains("permissions"), "{e}");
}

#[test]
fn a_syntax_error_gives_its_position_once_and_what_to_do() {
    let e = refused(b"{\"name\":\"x\",\n \"subgraphs\": [}");
    assert!(
        e.contains("m.json:2:16: expected value; fix the JSON syntax there"),
        "{e}"
    );
    assert!(!e.contains("at line"), "{e}");
    let e = refused(b"{\"name\":\"x\",\n \"subgraphs\": [");
    assert!(e.contains("close every bracket and brace"), "{e}");
}

#[test]
fn a_model_drawing_more_than_the_hardware_can_is_warned_about() {
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_wattledger"))
            .args(args)
            .output()
            .unwrap()
    };
    let out = run(&["estimate", "--hardware", "agx-orin-15w", "--json"]);
    assert_eq!(out.status.code(), Some(0));
    let d: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    // The built-in ResNet-18 on the 15 W mode: total energy over latency
    // (21.46 W with the assumed clock fraction 0.3 lowering static power at
    // 420.75 MHz).
    let avg = d["total_energy_j"].as_f64().unwrap() / d["latency_s"].as_f64().unwrap();
    assert!(avg > 15.0 && (avg - 21.46).abs() < 0.01, "{avg}");
    let e = String::from_utf8_lossy(&out.stderr);
    assert!(
        e.contains("warning: the model averages 21.46 W on agx-orin-15w, above the 15.00 W it can draw (Jetson AGX Orin 15 W power mode"),
        "{e}"
    );
    assert!(e.contains("stages average above 15.00 W"), "{e}");
    // The same words are data in the JSON report.
    assert!(d["warnings"].as_array().unwrap().iter().any(|w| {
        w.as_str()
            .unwrap()
            .contains("above the 15.00 W it can draw")
    }));
    // On an H100 (700 W) the same model averages under 100 W: no warning.
    let out = run(&["estimate"]);
    assert!(!String::from_utf8_lossy(&out.stderr).contains("can draw"));
    // A model file naming the preset, with a field changed, keeps its TDP.
    let dir = tempfile::tempdir().unwrap();
    // seed-h100 with 800 W idle: 800 W over its one 10 ms stage, above 700 W.
    let m = file(
        &dir,
        "hot.json",
        format!(r#"{{"hardware":{{"preset":"seed-h100","idle_power_w":800}},{ONE_SUBGRAPH}}}"#)
            .as_bytes(),
    );
    let out = estimate(&m);
    let e = String::from_utf8_lossy(&out.stderr);
    assert!(
        e.contains("averages 800.0 W on seed-h100 with changes, above the 700.0 W"),
        "{e}"
    );
    assert!(
        e.contains("1 of 1 stages average above 700.0 W (the most: stage 0, 800.0 W)"),
        "{e}"
    );
}
