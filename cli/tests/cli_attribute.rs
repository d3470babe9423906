//! `wattledger attribute` and `wattledger calibrate` on a synthetic run with
//! known ground truth (`support/synthetic.rs`), through the real binary.

#[path = "support/synthetic.rs"]
mod synthetic;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;
use synthetic::*;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_wattledger"))
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

const PROFILE: &str = "synthetic-h100.kineto.json.gz";
const RECORDING: &str = "synthetic-h100.power.jsonl";

fn run(args: &[&str]) -> Output {
    bin().args(args).output().expect("run wattledger")
}

fn json(args: &[&str]) -> Value {
    let out = run(args);
    assert!(
        out.status.success(),
        "{args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("stdout is JSON")
}

fn num(v: &Value, key: &str) -> f64 {
    v[key]
        .as_f64()
        .unwrap_or_else(|| panic!("{key} is not a number: {v}"))
}

fn files() -> (String, String) {
    (
        fixture(PROFILE).display().to_string(),
        fixture(RECORDING).display().to_string(),
    )
}

#[test]
fn the_committed_fixtures_are_the_generators_output() {
    let recs = timeline();
    let kineto = kineto_json(&recs);
    let power = recording(&recs);
    if std::env::var_os("WATTLEDGER_REGENERATE").is_some() {
        std::fs::write(fixture(PROFILE), gzip(&kineto)).unwrap();
        std::fs::write(fixture(RECORDING), &power).unwrap();
    }
    let mut committed = String::new();
    std::io::Read::read_to_string(
        &mut flate2::read::GzDecoder::new(std::fs::File::open(fixture(PROFILE)).unwrap()),
        &mut committed,
    )
    .unwrap();
    assert!(
        committed == kineto,
        "the profile fixture differs from the generator; rerun with WATTLEDGER_REGENERATE=1"
    );
    assert_eq!(std::fs::read_to_string(fixture(RECORDING)).unwrap(), power);
    // A run of the intended shape: hundreds of records of every kind, ~8 s.
    assert!(recs.len() > 300, "{}", recs.len());
    for (name, _, _) in KERNELS {
        assert!(recs.iter().any(|r| r.name == name));
    }
    assert!(recs.iter().any(|r| r.name == COPY));
}

#[test]
fn calibrate_recovers_the_true_parameters() {
    let (p, r) = files();
    let dir = tempfile::tempdir().unwrap();
    let hw = dir.path().join("h100-calibrated.json");
    let v = json(&[
        "calibrate",
        &p,
        &r,
        "--holdout",
        "5",
        "--json",
        "-o",
        hw.to_str().unwrap(),
    ]);
    let param = |name: &str| num(&v["parameters"][name], "value");
    let stderr = |name: &str| num(&v["parameters"][name], "stderr");
    // Tolerances: with 1 W of noise on each 100 ms update, mJ steps and the
    // 0–2 ms read lag, the constant and active powers come back within 2 %,
    // the energy per byte within 10 %; each within 4 standard errors too.
    let c = param("constant_power_w");
    assert!((c / CONSTANT_W - 1.0).abs() < 0.02, "constant {c}");
    assert!(
        (c - CONSTANT_W).abs() < 4.0 * stderr("constant_power_w"),
        "constant {c}"
    );
    let a = param("active_power_w");
    assert!((a / ACTIVE_W - 1.0).abs() < 0.02, "active {a}");
    assert!(
        (a - ACTIVE_W).abs() < 4.0 * stderr("active_power_w"),
        "active {a}"
    );
    let b = param("energy_per_byte_j");
    assert!((b / ENERGY_PER_BYTE_J - 1.0).abs() < 0.10, "per byte {b}");
    // Nothing was gated: idle and uncore cannot be told apart, their sum can.
    let identifiable: Vec<&str> = v["identifiable"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_str().unwrap())
        .collect();
    assert!(
        identifiable.contains(&"constant_power_w"),
        "{identifiable:?}"
    );
    assert!(identifiable.contains(&"active_power_w"), "{identifiable:?}");
    assert!(!identifiable.contains(&"idle_power_w"), "{identifiable:?}");
    // The preset's ratio splits the constant: h100-sxm5 is 40 W idle of 70.
    assert!((param("idle_power_w") - c * 40.0 / 70.0).abs() < 1e-9);
    // The held-out error is reported, and small: the model is the truth's
    // shape. The residual is of the order of the noise.
    let mape = num(&v, "holdout_mape");
    assert!(mape > 0.0 && mape < 0.02, "held-out {mape}");
    let residual = num(&v, "residual_w");
    assert!(residual > 0.2 && residual < 3.0, "residual {residual}");

    // The written model is a hardware file estimate accepts.
    let e = json(&["estimate", "--hardware", hw.to_str().unwrap(), "--json"]);
    assert!(
        e["hardware_name"]
            .as_str()
            .unwrap()
            .contains("(calibrated)"),
        "{e}"
    );
    // And so does estimate --trace: with the calibrated model the run's
    // modelled energy is its true energy (every record's, plus 80 W over
    // the span's idle time) within 1 %.
    let t = json(&[
        "estimate",
        "--trace",
        &p,
        "--hardware",
        hw.to_str().unwrap(),
        "--json",
    ]);
    assert!(
        t["hardware_name"]
            .as_str()
            .unwrap()
            .contains("(calibrated)"),
        "{t}"
    );
    let total = num(&t, "total_energy_j");
    let recs = timeline();
    let busy: i64 = recs.iter().map(|r| r.end_ns - r.start_ns).sum();
    let span = recs.last().unwrap().end_ns - recs[0].start_ns;
    let truth: f64 =
        recs.iter().map(Rec::energy_j).sum::<f64>() + CONSTANT_W * (span - busy) as f64 * 1e-9;
    assert!(
        (total / truth - 1.0).abs() < 0.01,
        "estimate --trace {total} J, truth {truth} J"
    );
    let written: Value = serde_json::from_str(&std::fs::read_to_string(&hw).unwrap()).unwrap();
    assert!((num(&written, "active_power_w") - a).abs() < 1e-9 * a);
    assert!((num(&written, "idle_power_w") + num(&written, "uncore_power_w") - c).abs() < 1e-9 * c);

    // Attribution with the calibrated model gives each kernel its true
    // energy: within 3 % per name, the idle bucket within 3 %.
    let at = json(&[
        "attribute",
        &p,
        &r,
        "--hardware",
        hw.to_str().unwrap(),
        "--json",
    ]);
    let recs = timeline();
    let mut names: Vec<&str> = KERNELS.iter().map(|k| k.0).collect();
    names.push(COPY);
    for name in names {
        let truth: f64 = recs
            .iter()
            .filter(|r| r.name == name)
            .map(Rec::energy_j)
            .sum();
        let k = at["kernels"]
            .as_array()
            .unwrap()
            .iter()
            .find(|k| k["name"] == name)
            .unwrap_or_else(|| panic!("{name} missing"));
        let got = num(k, "measured_energy_j");
        assert!(
            (got / truth - 1.0).abs() < 0.03,
            "{name}: {got} J, truth {truth} J"
        );
        let calls = recs.iter().filter(|r| r.name == name).count() as u64;
        assert_eq!(k["calls"].as_u64(), Some(calls));
    }
    let idle_truth = num(&at["idle"], "time_s") * CONSTANT_W;
    let idle = num(&at["idle"], "measured_energy_j");
    assert!(
        (idle / idle_truth - 1.0).abs() < 0.03,
        "idle {idle}, truth {idle_truth}"
    );
    // Per-window error of the calibrated model is of the order of the noise.
    assert!(num(&at, "window_mape") < 0.03, "{}", at["window_mape"]);
}

#[test]
fn attribute_shares_add_up_to_the_measured_total() {
    let (p, r) = files();
    let at = json(&["attribute", &p, &r, "--json"]);
    let total = num(&at, "measured_total_j");
    let kernels: f64 = at["kernels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| num(k, "measured_energy_j"))
        .sum();
    let idle = num(&at["idle"], "measured_energy_j");
    // Every window's shares add up to its measurement, up to rounding.
    assert!(
        (kernels + idle - total).abs() <= 1e-9 * total,
        "{kernels} + {idle} vs {total}"
    );
    // The measured total is the counter's rise over the windows that overlap
    // the profile: from the last reading at or before the profile's start to
    // the first at or after its end.
    let recs = timeline();
    let (start, end) = (recs[0].start_ns, recs.last().unwrap().end_ns);
    let samples: Vec<(i64, u64)> = recording(&recs)
        .lines()
        .filter(|l| l.contains("\"sample\""))
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            (
                v["t_ns"].as_i64().unwrap() + CLOCK_UNIX_NS,
                v["energy_mj"].as_u64().unwrap(),
            )
        })
        .collect();
    let before = samples.iter().rev().find(|s| s.0 <= start).unwrap().1;
    let after = samples.iter().find(|s| s.0 >= end).unwrap().1;
    assert!(
        (total - (after - before) as f64 * 1e-3).abs() < 1e-9,
        "{total} vs {} mJ",
        after - before
    );
    // The recording covers the whole profile.
    assert!((num(&at, "coverage") - 1.0).abs() < 1e-12);
    // With the preset (70 W constant, 630 W active against the truth's 80
    // and 420) the model's per-window error shows, and the totals differ.
    assert!(num(&at, "window_mape") > 0.03, "{}", at["window_mape"]);
    assert_eq!(at["context"]["hardware"], "h100-sxm5");
    assert_eq!(at["context"]["aligned_by"], "clock_unix_ns");
    // Kernels are listed by name with their calls and time.
    let gemm = at["kernels"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["name"] == KERNELS[0].0)
        .unwrap();
    let t: f64 = recs
        .iter()
        .filter(|r| r.name == KERNELS[0].0)
        .map(|r| (r.end_ns - r.start_ns) as f64 * 1e-9)
        .sum();
    assert!((num(gemm, "time_s") - t).abs() < 1e-9);
    // The table says the same.
    let out = run(&["attribute", &p, &r]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("gemm_bf16_tn_256x128"), "{text}");
    assert!(text.contains("(idle: nothing running)"), "{text}");
}

fn fails_with(args: &[&str], words: &str) {
    let out = run(args);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{args:?}: {err}");
    assert!(err.contains(words), "{args:?}: {err}");
}

#[test]
fn bad_pairs_are_input_errors() {
    let (p, r) = files();
    let dir = tempfile::tempdir().unwrap();
    // A recording an hour later than the profile.
    let later = (CLOCK_UNIX_NS + 3_600_000_000_000).to_string();
    fails_with(
        &["attribute", &p, &r, "--offset", &later],
        "does not overlap the profile in time",
    );
    fails_with(
        &["calibrate", &p, &r, "--offset", &later],
        "does not overlap the profile in time",
    );
    // A device the recording does not have.
    let text = std::fs::read_to_string(&r).unwrap();
    let moved = dir.path().join("device3.jsonl");
    std::fs::write(
        &moved,
        text.replace("\"index\":0", "\"index\":3")
            .replace("\"device\":0", "\"device\":3"),
    )
    .unwrap();
    fails_with(
        &["attribute", &p, &r, "--device", "1"],
        "the profile has no device 1",
    );
    let mut out = bin();
    let out = out
        .args(["attribute", &p, moved.to_str().unwrap(), "--device", "0"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("the recording has no device 0; it has 3"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // A recording written before clock_unix_ns, without --offset.
    let old = dir.path().join("old.jsonl");
    std::fs::write(
        &old,
        text.replace(&format!(",\"clock_unix_ns\":{CLOCK_UNIX_NS}"), ""),
    )
    .unwrap();
    fails_with(&["attribute", &p, old.to_str().unwrap()], "--offset");
    // …which --offset aligns.
    let offset = CLOCK_UNIX_NS.to_string();
    let ok = run(&["attribute", &p, old.to_str().unwrap(), "--offset", &offset]);
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    // A profile without kernels (one copy only).
    let copies = dir.path().join("copies.json");
    std::fs::write(
        &copies,
        format!(
            "{{\"traceEvents\": [{{\"ph\": \"X\", \"cat\": \"gpu_memcpy\", \"name\": \"Memcpy HtoD\", \"pid\": 0, \"tid\": 7, \"ts\": {}, \"dur\": 10, \"args\": {{\"device\": 0, \"stream\": 7, \"bytes\": 1000}}}}]}}",
            PROFILE_START_UNIX_NS / 1000
        ),
    )
    .unwrap();
    fails_with(
        &[
            "attribute",
            copies.to_str().unwrap(),
            &r,
            "--hardware",
            "h100-sxm5",
        ],
        "holds no GPU kernel",
    );
    // Pairs must be pairs.
    let odd = run(&["calibrate", &p, &r, &p]);
    assert_eq!(odd.status.code(), Some(2));
}
