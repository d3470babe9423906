//! `wattledger estimate`, run as a real process. Every expected figure is
//! worked out by hand in the comment beside it.

use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::Value;

#[macro_use]
#[path = "support/cli_json.rs"]
mod cli_json;
use cli_json::{f, json_of, run};

fn example(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../examples")
        .join(name)
}

fn write_model(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Writes the model `text` as `name` in a fresh directory, runs `estimate`
/// on it, checks that it exits 3 (bad input) and returns its stderr.
fn input_error(name: &str, text: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let m = write_model(dir.path(), name, text);
    let out = run(&["estimate", m.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(3));
    stderr(&out)
}

/// The design document's worked example: seed-h100 (132 SMs, 300 W idle),
/// one subgraph on 24 SMs for t = 10 ms, gating always.
#[test]
fn worked_example_gating_always() {
    let path = example("worked-example.json");
    let d = json_of(&["estimate", path.to_str().unwrap(), "--json"]);
    let t = 0.01;
    // static = 300·24/132·t = 0.545454… J (only the 24 allocated SMs are powered)
    assert_close!(f(&d, "static_energy_j"), 300.0 * 24.0 / 132.0 * t);
    // saving = 300·108/132·t = 2.454545… J (the 108 gated SMs)
    assert_close!(f(&d, "power_gating_savings_j"), 300.0 * 108.0 / 132.0 * t);
    // 108/132 = 81.8 % of the static energy without gating (0.545… + 2.454… = 3 J)
    let share = f(&d, "power_gating_savings_j")
        / (f(&d, "static_energy_j") + f(&d, "power_gating_savings_j"));
    assert_close!(share, 108.0 / 132.0);
    assert_eq!((share * 100.0).round(), 82.0);
    // No flops, no bytes, no uncore, free transitions: total = static.
    assert_close!(f(&d, "total_energy_j"), 300.0 * 24.0 / 132.0 * t);
    assert_close!(f(&d, "latency_s"), t);
    // unit-seconds: active 24·t = 0.24, gated 108·t = 1.08
    assert_close!(f(&d, "states.active.unit_seconds"), 24.0 * t);
    assert_close!(f(&d, "states.gated.unit_seconds"), 108.0 * t);
    assert_eq!(f(&d, "states.gated.energy_j"), 0.0);
    // utilisation = 24·t / (132·t) = 0.1818…
    assert_close!(f(&d, "utilization"), 24.0 / 132.0);
    assert_eq!(d["gating"], "always");
    assert_eq!(d["subgraphs"][0]["name"], "kernel");
    assert_eq!(d["stages"].as_array().unwrap().len(), 1);
}

#[test]
fn worked_example_gating_off_from_the_command_line() {
    let path = example("worked-example.json");
    let d = json_of(&[
        "estimate",
        path.to_str().unwrap(),
        "--gating",
        "off",
        "--json",
    ]);
    // Off: static = 300·t = 3 J, of which idle unallocated 300·108/132·t = 2.4545… J.
    assert_close!(f(&d, "static_energy_j"), 3.0);
    assert_close!(
        f(&d, "states.idle_unallocated.energy_j"),
        300.0 * 108.0 / 132.0 * 0.01
    );
    assert_close!(f(&d, "wasted_energy_j"), 300.0 * 108.0 / 132.0 * 0.01);
    assert_eq!(f(&d, "power_gating_savings_j"), 0.0);
}

#[test]
fn voltage_scales_static_power() {
    let path = example("worked-example.json");
    // seed-h100: nominal 0.9 V, clock fraction 0, leakage exponent 1, so at
    // 0.45 V static power is 300·(0.45/0.9) = 150 W: 150·0.01 = 1.5 J.
    let d = json_of(&[
        "estimate",
        path.to_str().unwrap(),
        "--gating",
        "off",
        "--voltage",
        "0.45",
        "--json",
    ]);
    assert_close!(f(&d, "static_energy_j"), 1.5);
    assert_close!(f(&d, "voltage_v"), 0.45);
}

/// The shipped example with an inline hardware object.
#[test]
fn inline_hardware_example() {
    let path = example("model-inline.json");
    let d = json_of(&["estimate", path.to_str().unwrap(), "--json"]);
    // 8 tiles, 8 W idle → 1 W per tile; 2 W uncore; gating always.
    // Stage 0: T = 2 ms, 4 tiles allocated, 4 gated. Stage 1: T = 1 ms, 2 allocated, 6 gated.
    // static = 4·1·0.002 + 2·1·0.001 = 0.010 J
    assert_close!(f(&d, "static_energy_j"), 0.010);
    // gated unit-seconds = 4·0.002 + 6·0.001 = 0.014, saving 1 W each = 0.014 J
    assert_close!(f(&d, "states.gated.unit_seconds"), 0.014);
    assert_close!(f(&d, "power_gating_savings_j"), 0.014);
    // compute = (2e9 + 1e9) flops · 1 pJ = 0.003 J; memory = 2e6 B · 10 pJ = 2e-5 J
    assert_close!(f(&d, "compute_energy_j"), 0.003);
    assert_close!(f(&d, "memory_energy_j"), 2e-5);
    // uncore = 2 W · 3 ms = 0.006 J; total = 0.003 + 0.00002 + 0.010 + 0.006 = 0.01902 J
    assert_close!(f(&d, "uncore_energy_j"), 0.006);
    assert_close!(f(&d, "total_energy_j"), 0.01902);
    // gemm_b finishes 1 ms early: idle allocated 2 tiles · 1 ms = 0.002 unit-s = 0.002 J
    assert_close!(f(&d, "states.idle_allocated.energy_j"), 0.002);
    assert_close!(f(&d, "wasted_energy_j"), 0.002);
    // active unit-s = 2·2ms + 2·1ms + 2·1ms = 0.008; utilisation 0.008/(8·0.003) = 1/3
    assert_close!(f(&d, "utilization"), 1.0 / 3.0);
    // Attribution closes: the subgraphs' charges add up to the total.
    let sum: f64 = d["subgraphs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["total_energy_j"].as_f64().unwrap())
        .sum();
    assert_close!(sum, 0.01902);
    let names: Vec<&str> = d["subgraphs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["gemm_a", "gemm_b", "softmax"]);
}

#[test]
fn preset_with_overrides() {
    let dir = tempfile::tempdir().unwrap();
    let m = write_model(
        dir.path(),
        "m.json",
        r#"{"hardware": {"preset": "seed-h100", "idle_power_w": 264},
            "subgraphs": [{"name": "k", "stage": 0, "precision": "fp16",
                           "latency_s": 0.5, "units_allocated": 12}]}"#,
    );
    let d = json_of(&["estimate", m.to_str().unwrap(), "--json"]);
    // gating off by default: static = 264 W · 0.5 s = 132 J; 2 W per SM, active 12·2·0.5 = 12 J
    assert_close!(f(&d, "static_energy_j"), 132.0);
    assert_close!(f(&d, "states.active.energy_j"), 12.0);
    assert_eq!(d["gating"], "off");
}

#[test]
fn builtin_resnet18_runs_by_default() {
    let d = json_of(&["estimate", "--json"]);
    assert_eq!(d["hardware"], "h100-sxm5");
    assert_eq!(d["units"], 132);
    let subgraphs = d["subgraphs"].as_array().unwrap();
    assert_eq!(subgraphs.len(), 22);
    assert_eq!(subgraphs[0]["name"], "conv1_bn_relu");
    // The parts add up to the total.
    let parts = f(&d, "compute_energy_j")
        + f(&d, "memory_energy_j")
        + f(&d, "static_energy_j")
        + f(&d, "uncore_energy_j")
        + f(&d, "transition_energy_j");
    assert_close!(parts, f(&d, "total_energy_j"));
    let out = run(&["estimate"]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    for needle in [
        "idle, unallocated",
        "gating saving",
        "utilisation",
        "costliest subgraphs",
    ] {
        assert!(text.contains(needle), "no `{needle}` in:\n{text}");
    }
}

#[test]
fn compare_gating_side_by_side() {
    let path = example("worked-example.json");
    let d = json_of(&[
        "estimate",
        path.to_str().unwrap(),
        "--compare-gating",
        "--json",
    ]);
    let p = d["policies"].as_array().unwrap();
    let names: Vec<&str> = p.iter().map(|x| x["gating"].as_str().unwrap()).collect();
    assert_eq!(names, ["off", "always", "break-even", "oracle"]);
    // off 3 J; always 0.5454… J; break-even: free transitions and no wake
    // latency, so gating pays off at once and it equals always; oracle:
    // the 108 idle SMs' one idle period, 0.01 s to the end of the model,
    // pays for its free power-down, so it equals always too.
    assert_close!(f(&p[0], "total_energy_j"), 3.0);
    assert_close!(f(&p[1], "total_energy_j"), 300.0 * 24.0 / 132.0 * 0.01);
    assert_close!(f(&p[2], "total_energy_j"), 300.0 * 24.0 / 132.0 * 0.01);
    assert_close!(f(&p[3], "total_energy_j"), 300.0 * 24.0 / 132.0 * 0.01);
    let out = run(&["estimate", path.to_str().unwrap(), "--compare-gating"]);
    let text = String::from_utf8_lossy(&out.stdout);
    // (0.5454 − 3)/3 = −81.8 %
    assert!(text.contains("-81.8 %"), "{text}");
}

#[test]
fn csv_has_one_row_per_subgraph_and_a_total() {
    let path = example("model-inline.json");
    let out = run(&["estimate", path.to_str().unwrap(), "--csv"]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 1 + 3 + 1, "{text}");
    assert!(lines[0].starts_with("gating,subgraph,id,stage"));
    assert!(lines[1].starts_with("always,gemm_a,0,0,"));
    let total: f64 = lines[4].rsplit(',').next().unwrap().parse().unwrap();
    assert_close!(total, 0.01902);
}

#[test]
fn negative_latency_names_the_subgraph_and_field() {
    let e = input_error(
        "bad.json",
        r#"{"hardware": "seed-h100", "subgraphs": [
            {"name": "fine", "stage": 0, "precision": "fp16", "latency_s": 0.1, "units_allocated": 2},
            {"name": "broken_conv", "stage": 1, "precision": "fp16", "latency_s": -1, "units_allocated": 2}]}"#,
    );
    assert!(e.contains("broken_conv") && e.contains("latency_s"), "{e}");
    assert_eq!(e.lines().count(), 1, "{e}");
}

#[test]
fn bad_json_gives_line_and_column() {
    let e = input_error("bad.json", "{\n  \"subgraphs\": [\n    {,}\n  ]\n}\n");
    // The stray comma is on line 3, column 6.
    assert!(e.contains("bad.json:3:6"), "{e}");
}

#[test]
fn a_field_of_the_wrong_type_names_the_subgraph() {
    let e = input_error(
        "m.json",
        r#"{"subgraphs": [{"name": "attn", "stage": 0, "precision": "fp17", "latency_s": 1}]}"#,
    );
    assert!(e.contains("subgraph 'attn'") && e.contains("fp17"), "{e}");
}

#[test]
fn stage_wider_than_the_composer_is_an_error_naming_the_stage() {
    // 65 concurrent subgraphs in stage 7: one more than WIDTH = 64.
    let subgraphs: Vec<String> = (0..65)
        .map(|i| {
            format!(
                r#"{{"name": "s{i}", "stage": 7, "precision": "fp16", "latency_s": 0.001, "units_allocated": 2}}"#
            )
        })
        .collect();
    let e = input_error(
        "wide.json",
        &format!(
            r#"{{"hardware": "seed-h100", "subgraphs": [{}]}}"#,
            subgraphs.join(",")
        ),
    );
    assert!(e.contains("stage 7") && e.contains("64"), "{e}");
}

#[test]
fn oversubscribed_stage_is_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let m = write_model(
        dir.path(),
        "over.json",
        r#"{"hardware": "seed-h100", "subgraphs": [
            {"name": "a", "stage": 0, "precision": "fp16", "latency_s": 0.1, "units_allocated": 100},
            {"name": "b", "stage": 0, "precision": "fp16", "latency_s": 0.1, "units_allocated": 100}]}"#,
    );
    let d = json_of(&["estimate", m.to_str().unwrap(), "--json"]);
    let w = d["warnings"].as_array().unwrap();
    assert_eq!(w.len(), 1, "{w:?}");
    assert!(w[0].as_str().unwrap().contains("oversubscribed"));
    // 200 requested of 132: every SM is busy, so static = 300·0.1 = 30 J, all active.
    assert_close!(f(&d, "states.active.energy_j"), 30.0);
}

#[test]
fn input_errors_exit_3_and_usage_errors_exit_2() {
    let out = run(&["estimate", "/no/such/model.json"]);
    assert_eq!(out.status.code(), Some(3));
    assert!(stderr(&out).contains("cannot read model file"));
    let out = run(&["estimate", "--hardware", "h900"]);
    assert_eq!(out.status.code(), Some(3));
    assert!(stderr(&out).contains("seed-h100"), "lists the presets");
    let out = run(&["estimate", "--gating", "sometimes"]);
    assert_eq!(out.status.code(), Some(3));
    let out = run(&["estimate", "--voltage=-1"]);
    assert_eq!(out.status.code(), Some(3));
    let out = run(&["estimate", "--no-such-flag"]);
    assert_eq!(out.status.code(), Some(2));
    let out = run(&["estimate", "--json", "--csv"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn gating_on_hardware_that_cannot_gate_is_an_input_error() {
    let e = input_error(
        "m.json",
        r#"{"hardware": {"preset": "seed-h100", "gating": {"can_gate": false}}, "gating": "always",
            "subgraphs": [{"name": "k", "stage": 0, "precision": "fp16", "latency_s": 1, "units_allocated": 2}]}"#,
    );
    assert!(e.contains("gate"), "{e}");
}

/// One compute-bound and one memory-bound subgraph on an H100 SXM5, each
/// 1 ms at the nominal 1980 MHz.
const DVFS_MODEL: &str = r#"{
  "hardware": "h100-sxm5",
  "subgraphs": [
    {"name": "gemm", "stage": 0, "flops": 7.9152e11, "precision": "bf16",
     "latency_s": 0.001, "units_allocated": 132},
    {"name": "copy", "stage": 1, "precision": "bf16", "input_bytes": 3.35e9,
     "latency_s": 0.001, "units_allocated": 132}
  ]
}"#;

#[test]
fn frequency_moves_latency_and_energy_the_way_physics_says() {
    let dir = tempfile::tempdir().unwrap();
    let model = write_model(dir.path(), "dvfs.json", DVFS_MODEL);
    let m = model.to_str().unwrap();
    let nominal = json_of(&["estimate", m, "--json"]);
    let half = json_of(&["estimate", m, "--json", "--frequency", "990"]);
    // The V-f curve (0.70 V up to half of 1980 MHz) sets the voltage.
    assert_close!(f(&half, "voltage_v"), 0.70);
    let stage = |v: &Value, i: usize, key: &str| v["stages"][i][key].as_f64().unwrap();
    // gemm: 7.9152e11 bf16 ops at 989.4e12/s is 0.8 ms of compute and no
    // bytes: wholly compute-bound, so 1 ms at 1980 MHz is 2 ms at 990.
    assert_close!(stage(&nominal, 0, "duration_s"), 0.001);
    assert_close!(stage(&half, 0, "duration_s"), 0.002);
    // copy: bytes only, memory-bound: the clock does not slow it.
    assert_close!(stage(&half, 1, "duration_s"), 0.001);
    // Dynamic energy per op goes as V²: (630 J / 989.4e12) · 7.9152e11 =
    // 0.504 J at nominal, · (0.70/0.90)² = 0.304889 J at 990 MHz.
    assert_close!(stage(&nominal, 0, "compute_energy_j"), 0.504);
    assert_close!(
        stage(&half, 0, "compute_energy_j"),
        0.504 * (0.7f64 / 0.9).powi(2)
    );
    // Static power 40 W · ((1 − 0.3)·v + 0.3·v²·f) with v = 0.7/0.9,
    // f = 0.5 is 25.407 W, over the 2 ms the gemm now takes: 0.0508 J,
    // more than the 40 W · 1 ms = 0.04 J at nominal: lower power, for longer.
    let v = 0.7f64 / 0.9;
    let p_static = 40.0 * (0.7 * v + 0.3 * v * v * 0.5);
    assert_close!(stage(&nominal, 0, "static_energy_j"), 0.04);
    assert_close!(stage(&half, 0, "static_energy_j"), p_static * 0.002);
    assert!(stage(&half, 0, "static_energy_j") > stage(&nominal, 0, "static_energy_j"));
    // Uncore does not slow down and pays for the longer time: 30 W · 2 ms.
    assert_close!(stage(&half, 0, "uncore_energy_j"), 0.06);
    // Voltage given by hand wins over the curve.
    let hand = json_of(&[
        "estimate",
        m,
        "--json",
        "--frequency",
        "990",
        "--voltage",
        "0.8",
    ]);
    assert_close!(f(&hand, "voltage_v"), 0.8);
}

#[test]
fn the_frequency_sweep_has_an_interior_energy_optimum() {
    let dir = tempfile::tempdir().unwrap();
    let model = write_model(dir.path(), "dvfs.json", DVFS_MODEL);
    let sweep = json_of(&[
        "estimate",
        model.to_str().unwrap(),
        "--sweep-frequency",
        "--json",
    ]);
    let rows = sweep["sweep"].as_array().unwrap();
    // 15 clocks from 30 % of 1980 MHz (594) to 1980 in steps of 99 MHz.
    assert_eq!(rows.len(), 15);
    assert_close!(f(&rows[0], "frequency_mhz"), 594.0);
    assert_close!(f(&rows[14], "frequency_mhz"), 1980.0);
    let get = |r: &Value, k: &str| f(r, k);
    for w in rows.windows(2) {
        // A higher clock is never slower, never at a lower voltage.
        assert!(get(&w[1], "latency_s") < get(&w[0], "latency_s"));
        assert!(get(&w[1], "voltage_v") >= get(&w[0], "voltage_v"));
    }
    // Gemm energy per clock, with t = 1 ms · 1980/F, v = V/0.9, f = F/1980:
    //   0.504·v² + 40·(0.7·v + 0.3·v²·f)·t + 30·t, plus the copy's
    //   0.504·v²·0 + ... Below 990 MHz v stays 0.70/0.9 and only the time
    //   grows, so energy falls as the clock rises up to the knee; above it
    //   V² grows faster than the static time shrinks. The minimum is inside.
    let energies: Vec<f64> = rows.iter().map(|r| get(r, "energy_j")).collect();
    let best = f(&sweep, "optimal_frequency_mhz");
    let (i_best, _) = energies
        .iter()
        .enumerate()
        .min_by(|a, b| a.1.total_cmp(b.1))
        .unwrap();
    assert_close!(best, get(&rows[i_best], "frequency_mhz"));
    assert!(
        i_best > 0 && i_best < rows.len() - 1,
        "optimum at the edge: {energies:?}"
    );
    // At the knee (990 MHz, row 4): gemm 0.304889 + 0.050815 + 0.06 J;
    // copy: memory energy 3.35e9 B · 28 pJ = 0.0938 J, 1 ms of static at
    // 25.407 W and of uncore at 30 W.
    let v = 0.7f64 / 0.9;
    let p_static = 40.0 * (0.7 * v + 0.3 * v * v * 0.5);
    let gemm = 0.504 * v * v + p_static * 0.002 + 30.0 * 0.002;
    let copy = 3.35e9 * 3.5 * 8.0 * 1e-12 + p_static * 0.001 + 30.0 * 0.001;
    assert_close!(f(&rows[4], "frequency_mhz"), 990.0);
    assert_close!(energies[4], gemm + copy);
    // The human table marks the same clock.
    let out = run(&["estimate", model.to_str().unwrap(), "--sweep-frequency"]);
    let text = String::from_utf8_lossy(&out.stdout);
    let marked: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("<- least energy"))
        .collect();
    assert_eq!(marked.len(), 1, "{text}");
    assert!(
        marked[0].trim_start().starts_with(&format!("{best:.1}")),
        "{text}"
    );
}
