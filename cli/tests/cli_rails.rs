//! Jetson rails as a tree through the real command: the Total is the
//! board's input rail (or the sum of its top-level rails), never a rail plus
//! its own part; reports and Prometheus series say each rail's role.
//! Reports are written with `-o FILE`, so these tests read the same bytes
//! whether the report would otherwise go to stdout or stderr.

#[path = "../../std-adapters/tests/fixtures/jetson_trees.rs"]
mod jetson_trees;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

fn wattledger() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_wattledger"));
    c.env_remove("CUDA_VISIBLE_DEVICES");
    c
}

fn succeed(c: &mut Command) -> Output {
    let out = c.output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn trace_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../std-adapters/tests/fixtures/trace-orin-nano.jsonl")
}

/// The README's example: the recorded Orin Nano, VDD_IN 142.425 mJ and
/// VDD_CPU_GPU_CV (inside VDD_IN) 40.605 mJ over the whole trace. The Total
/// is VDD_IN's 142.4 mJ, not 142.4 + 40.61 = 183.0 mJ.
#[test]
fn replayed_orin_nano_total_is_the_input_rail() {
    let dir = tempfile::tempdir().unwrap();
    let human = dir.path().join("r.txt");
    let json = dir.path().join("r.json");
    let prom = dir.path().join("r.prom");
    let replay = format!("replay:{}", trace_path().display());
    succeed(
        wattledger()
            .args(["measure", "--source", &replay, "-o"])
            .arg(&human)
            .arg("--prometheus")
            .arg(&prom),
    );
    let text = std::fs::read_to_string(&human).unwrap();
    assert!(text.contains("Total      142.4 mJ"), "{text}");
    assert!(!text.contains("183.0 mJ"), "{text}");
    assert!(text.contains("role      total"), "{text}");
    assert!(text.contains("role      part"), "{text}");

    succeed(
        wattledger()
            .args(["measure", "--json", "--source", &replay, "-o"])
            .arg(&json),
    );
    let d: Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let total = d["total_energy_j"].as_f64().unwrap();
    let vdd_in = d["devices"][0]["energy_j"].as_f64().unwrap();
    assert!((vdd_in - 0.142425).abs() < 1e-6, "{vdd_in}");
    assert_eq!(total, vdd_in);
    assert_eq!(d["devices"][0]["device"]["role"], "total");
    assert_eq!(d["devices"][1]["device"]["role"], "part");

    let p = std::fs::read_to_string(&prom).unwrap();
    let line = |uuid: &str| {
        p.lines()
            .find(|l| l.starts_with("wattledger_run_energy_joules{") && l.contains(uuid))
            .unwrap_or_else(|| panic!("no series for {uuid}: {p}"))
            .to_string()
    };
    assert!(
        line("jetson-rail:VDD_IN\"").contains("role=\"total\""),
        "{p}"
    );
    assert!(
        line("jetson-rail:VDD_CPU_GPU_CV\"").contains("role=\"part\""),
        "{p}"
    );
}

/// `measure --json` of `sleep 0.2` on the fixture tree `build` writes.
fn measure_tree(build: fn(&Path)) -> Value {
    let root = tempfile::tempdir().unwrap();
    build(root.path());
    let json = root.path().join("r.json");
    succeed(
        wattledger()
            .args(["measure", "--json", "--interval", "10", "--source"])
            .arg(format!("jetson:{}", root.path().display()))
            .arg("-o")
            .arg(&json)
            .args(["--", "sleep", "0.2"]),
    );
    serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap()
}

/// The fake Orin Nano tree, measured live: VDD_IN 5032 mV × 1380 mA =
/// 6.944 W is the board; VDD_CPU_GPU_CV 5024 mV × 372 mA = 1.869 W is
/// inside it. The Total is 6.944 W × duration (it was 8.813 W × duration,
/// 4.429 J where the board drew 3.490 J over 0.5 s).
#[test]
fn live_orin_nano_total_is_the_input_rail() {
    let d = measure_tree(jetson_trees::orin_nano);
    let devs = d["devices"].as_array().unwrap();
    assert_eq!(devs.len(), 2);
    let total = d["total_energy_j"].as_f64().unwrap();
    let board = devs[0]["energy_j"].as_f64().unwrap();
    let part = devs[1]["energy_j"].as_f64().unwrap();
    let dur = devs[0]["duration_s"].as_f64().unwrap();
    assert_eq!(total, board);
    assert!(
        (board - 6.94416 * dur).abs() < 0.01 * board,
        "{board} vs 6.944·{dur}"
    );
    assert!(
        (part - 1.868928 * dur).abs() < 0.01 * part,
        "{part} vs 1.869·{dur}"
    );
    assert!(total < board + part * 0.5);
    assert_eq!(devs[0]["device"]["role"], "total");
    assert_eq!(devs[1]["device"]["role"], "part");
}

/// AGX Orin has no input rail: the Total is the sum of its three supplies
/// (7377 + 3080 + 4190 = 14647 mW), device 0 itself; the GPU rail is one of
/// them and is not added again.
#[test]
fn live_agx_orin_total_is_the_sum_of_its_supplies() {
    let d = measure_tree(jetson_trees::agx_orin_r36);
    let devs = d["devices"].as_array().unwrap();
    assert_eq!(
        devs[0]["device"]["uuid"],
        "jetson-sum:VDD_GPU_SOC+VDD_CPU_CV+VIN_SYS_5V0"
    );
    let board = devs[0]["energy_j"].as_f64().unwrap();
    let dur = devs[0]["duration_s"].as_f64().unwrap();
    assert!(
        (board - 14.647 * dur).abs() < 0.01 * board,
        "{board} vs 14.647·{dur}"
    );
    assert_eq!(d["total_energy_j"].as_f64().unwrap(), board);
}
