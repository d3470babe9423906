//! `wattledger estimate --trace`, run as a real process on the shared
//! profiler-trace fixtures (`std-adapters/tests/fixtures/traces/`, see the
//! README there for their source and licence) and on small traces written
//! here. Every expected figure is worked out by hand in the comment beside it,
//! from the `a100-40gb` preset (108 SMs in domains of 2, 30 W SM leakage,
//! 20 W uncore, 350 W active power, 3.9 pJ/bit = 31.2 pJ/byte) and the
//! `h100-sxm5` preset (132 SMs, 40 W, 30 W, 630 W).

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

#[macro_use]
#[path = "support/cli_json.rs"]
mod cli_json;
use cli_json::{f, json_of, run};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../std-adapters/tests/fixtures/traces")
        .join(name)
}

/// A kernel event as Kineto writes it: 8 blocks of 128 threads.
fn kernel(name: &str, ts: f64, dur: f64, device: u32) -> Value {
    json!({
        "ph": "X", "cat": "kernel", "name": name, "pid": device, "tid": 7,
        "ts": ts, "dur": dur,
        "args": {
            "device": device, "stream": 7, "grid": [4, 2, 1], "block": [128, 1, 1],
            "registers per thread": 32, "shared memory": 1024
        }
    })
}

fn write(dir: &Path, name: &str, v: &Value) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, serde_json::to_vec(v).unwrap()).unwrap();
    p
}

fn two_devices() -> Value {
    json!({
        "deviceProperties": [
            {"id": 0, "name": "NVIDIA A100-SXM4-40GB", "numSms": 108},
            {"id": 1, "name": "NVIDIA H100 80GB HBM3", "numSms": 132}
        ],
        "traceEvents": [ kernel("a", 100.0, 10.0, 0), kernel("b", 500.0, 10.0, 1) ]
    })
}

#[test]
fn alexnet_a100_json_matches_the_hand_worked_figures() {
    let trace = fixture("alexnet-a100-kineto.json.gz");
    let v = json_of(&["estimate", "--trace", trace.to_str().unwrap(), "--json"]);
    // "NVIDIA A100-PG509-200" → the a100-40gb preset, 108 SMs.
    assert_eq!(v["hardware"], "a100-40gb");
    assert_eq!(v["device"]["id"], 0);
    assert_eq!(v["device"]["name"], "NVIDIA A100-PG509-200");
    assert_eq!(v["device"]["units"], 108);
    assert_eq!(v["gating"], "off");
    // 79 kernels and 16 + 3 copies; the first event (a memcpy) at
    // 1695835572943613 µs, the last end 1695835585863857 µs: 12.920244 s.
    assert_eq!(v["kernel_count"], 79);
    assert_eq!(v["copy_count"], 19);
    let kernels = v["kernels"].as_array().unwrap();
    assert_eq!(kernels.len(), 79);
    assert_close!(f(&v, "span_s"), 12.920_244);
    assert_close!(f(&v, "busy_s") + f(&v, "idle.seconds"), 12.920_244);
    // Sorted by start, counted from the device's first event.
    let starts: Vec<f64> = kernels.iter().map(|k| f(k, "start_s")).collect();
    assert!(starts.windows(2).all(|w| w[0] <= w[1]));
    // Under `off` every unit is powered all the time: static 30 W and uncore
    // 20 W over the span are 50 × 12.920244 = 646.0122 J; on top, the
    // kernels' active energy and the copies' 244 425 120 bytes × 31.2 pJ =
    // 7.626 mJ.
    assert_close!(f(&v, "static_energy_j"), 30.0 * 12.920_244);
    assert_close!(f(&v, "uncore_energy_j"), 20.0 * 12.920_244);
    assert_close!(f(&v, "memory_energy_j"), 244_425_120.0 * 31.2e-12);
    assert_close!(
        f(&v, "total_energy_j"),
        646.012_2 + f(&v, "active_energy_j") + 244_425_120.0 * 31.2e-12
    );
    // Active power is 350 W / 108 per active SM-second.
    assert_close!(
        f(&v, "active_energy_j"),
        350.0 / 108.0 * f(&v, "states.active.unit_seconds")
    );
    // Unit-seconds add up to 108 × 12.920244; nothing gated under off.
    let us: f64 = [
        "active",
        "idle_allocated",
        "idle_unallocated",
        "gated",
        "transitioning",
    ]
    .iter()
    .map(|s| f(&v, &format!("states.{s}.unit_seconds")))
    .sum();
    assert_close!(us, 108.0 * 12.920_244);
    assert_eq!(f(&v, "power_gating_savings_j"), 0.0);
    // Attribution closes: kernels, copies and the idle bucket.
    let charged: f64 = kernels.iter().map(|k| f(k, "energy_j")).sum::<f64>()
        + v["copies"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| f(c, "energy_j"))
            .sum::<f64>()
        + f(&v, "idle.energy_j");
    assert!((charged - f(&v, "total_energy_j")).abs() < 1e-9 * f(&v, "total_energy_j"));

    // The first kernel (uniform fill) at +80 ms for 71 µs: grid 864 of 256
    // threads, 47 registers → 1536 per warp, 10 warps per quarter SM,
    // 5 blocks of 8 warps resident; waves ⌈864/540⌉ = 2; 108 SMs;
    // 864/108 = 8 blocks per SM; occupancy min(8,5)·256/2048 = 0.625.
    // Alone on the GPU: (30 + 350 + 20) W × 71 µs = 28.4 mJ.
    let k = &kernels[0];
    assert!(
        k["name"]
            .as_str()
            .unwrap()
            .contains("distribution_elementwise")
    );
    assert_eq!(k["stream"], 7);
    assert_close!(f(k, "start_s"), 0.08);
    assert_close!(f(k, "duration_s"), 71e-6);
    assert_eq!(k["units_allocated"], 108);
    assert_eq!(f(k, "blocks_per_unit"), 8.0);
    assert_eq!(f(k, "occupancy"), 0.625);
    assert_eq!(k["waves"], 2);
    assert_close!(f(k, "energy_j"), 400.0 * 71e-6);
    // computeOffsetsKernel: grid 12 → 12 SMs, rounded up to 6 domains of 2;
    // 4 µs; 12/108 blocks per SM; one wave.
    let small = kernels
        .iter()
        .find(|k| k["name"].as_str().unwrap().contains("computeOffsetsKernel"))
        .unwrap();
    assert_eq!(small["units_allocated"], 12);
    assert_eq!(small["waves"], 1);
    assert_close!(f(small, "blocks_per_unit"), 12.0 / 108.0);

    // Kernels by name: 16 distinct names, ranked by energy with the time
    // rank beside; the shares add up to the kernels' part of the total.
    let names = v["kernels_by_name"].as_array().unwrap();
    assert_eq!(names.len(), 16);
    assert_eq!(names[0]["rank_by_energy"], 1);
    let calls: u64 = names.iter().map(|n| n["calls"].as_u64().unwrap()).sum();
    assert_eq!(calls, 79);
}

#[test]
fn gating_policies_order_as_the_theory_says() {
    let trace = fixture("alexnet-a100-kineto.json.gz");
    let v = json_of(&["estimate", "--trace", trace.to_str().unwrap(), "--json"]);
    let p = v["gating_policies"].as_array().unwrap();
    let total = |name: &str| {
        f(
            p.iter().find(|x| x["gating"] == name).unwrap(),
            "total_energy_j",
        )
    };
    let (off, always, timeout, oracle) = (
        total("off"),
        total("always"),
        total("timeout"),
        total("oracle"),
    );
    assert_close!(off, f(&v, "total_energy_j"));
    assert!(oracle <= off && oracle <= always && oracle <= timeout);
    // 99.5 % of the span nothing runs: gating saves most of the 387 J of
    // idle leakage (30 W × 12.9 s × the idle share of the units).
    assert!(off - oracle > 380.0, "{off} {oracle}");
    // --gating oracle reports the same total as its row.
    let o = json_of(&[
        "estimate",
        "--trace",
        trace.to_str().unwrap(),
        "--gating",
        "oracle",
        "--json",
    ]);
    assert_eq!(o["gating"], "oracle");
    assert_close!(f(&o, "total_energy_j"), oracle);
    assert!(f(&o, "states.gated.unit_seconds") > 0.0);
}

#[test]
fn several_devices_each_get_a_report_and_device_selects_one() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "two.json", &two_devices());
    let p = path.to_str().unwrap();
    let v = json_of(&["estimate", "--trace", p, "--json"]);
    let reports = v["reports"].as_array().unwrap();
    assert_eq!(reports.len(), 2);
    // Device 0, A100: one kernel of 8 blocks for 10 µs → 8 SMs, the whole
    // span: 50 W × 10 µs + 350/108 W × 8 × 10 µs = 500 + 259.259 µJ.
    assert_eq!(reports[0]["device"]["id"], 0);
    assert_eq!(reports[0]["hardware"], "a100-40gb");
    assert_eq!(reports[0]["kernels"][0]["units_allocated"], 8);
    assert_close!(
        f(&reports[0], "total_energy_j"),
        50.0 * 10e-6 + 350.0 / 108.0 * 8.0 * 10e-6
    );
    // Device 1, H100: 70 W × 10 µs + 630/132 W × 8 × 10 µs.
    assert_eq!(reports[1]["hardware"], "h100-sxm5");
    assert_eq!(reports[1]["device"]["units"], 132);
    assert_close!(
        f(&reports[1], "total_energy_j"),
        70.0 * 10e-6 + 630.0 / 132.0 * 8.0 * 10e-6
    );
    let one = json_of(&["estimate", "--trace", p, "--device", "1", "--json"]);
    assert_eq!(one["device"]["id"], 1);
    assert_close!(f(&one, "span_s"), 10e-6);
    let out = run(&["estimate", "--trace", p, "--device", "5"]);
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no device 5"));

    // The table names both devices; CSV has a row per record, an idle and
    // a total row per device.
    let out = run(&["estimate", "--trace", p]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("device 0 (NVIDIA A100-SXM4-40GB)"), "{text}");
    assert!(text.contains("device 1 (NVIDIA H100 80GB HBM3)"), "{text}");
    let out = run(&["estimate", "--trace", p, "--csv"]);
    let csv = String::from_utf8_lossy(&out.stdout);
    assert_eq!(csv.lines().count(), 1 + 2 * 3, "{csv}");
    assert!(csv.lines().nth(3).unwrap().starts_with("0,off,total,"));
}

fn error_of(args: &[&str]) -> String {
    let out = run(args);
    assert_eq!(out.status.code(), Some(3), "{args:?}");
    assert!(out.stdout.is_empty());
    let e = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(e.lines().count(), 1, "{e}");
    e
}

#[test]
fn each_bad_input_is_one_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let text = d.join("notes.txt");
    std::fs::write(&text, "hello\n").unwrap();
    let e = error_of(&["estimate", "--trace", text.to_str().unwrap()]);
    assert!(
        e.contains("not valid JSON") || e.contains("not a profiler trace"),
        "{e}"
    );

    let cpu_only = write(
        d,
        "cpu.json",
        &json!({"traceEvents": [{"ph": "X", "cat": "cpu_op", "name": "aten::add", "ts": 1, "dur": 2, "pid": 1, "tid": 1}]}),
    );
    let e = error_of(&["estimate", "--trace", cpu_only.to_str().unwrap()]);
    assert!(e.contains("no GPU kernel"), "{e}");

    let mut k = kernel("gridless", 1.0, 2.0, 0);
    k["args"].as_object_mut().unwrap().remove("grid");
    let gridless = write(d, "gridless.json", &json!({"traceEvents": [k]}));
    let e = error_of(&["estimate", "--trace", gridless.to_str().unwrap()]);
    assert!(
        e.contains("event 0") && e.contains("gridless") && e.contains("grid"),
        "{e}"
    );

    let negative = write(
        d,
        "negative.json",
        &json!({"traceEvents": [kernel("backwards", 10.0, -3.0, 0)]}),
    );
    let e = error_of(&["estimate", "--trace", negative.to_str().unwrap()]);
    assert!(e.contains("negative") && e.contains("backwards"), "{e}");

    // The V100 is in the device catalog (its limits) but has no preset:
    // its powers are unknown, so the command asks for --hardware.
    let v100 = fixture("v100-ns-resolution-kineto.json.gz");
    let e = error_of(&["estimate", "--trace", v100.to_str().unwrap()]);
    assert!(e.contains("Tesla V100") && e.contains("--hardware"), "{e}");
    assert!(e.contains("a100-40gb") && e.contains("orin-nano"), "{e}");

    let e = error_of(&[
        "estimate",
        "--trace",
        text.to_str().unwrap(),
        "--gating",
        "break-even",
    ]);
    assert!(e.contains("oracle"), "{e}");
}

#[test]
fn another_gpus_trace_runs_with_hardware_given() {
    // The V100 trace on the A100 preset: launches mapped onto the model's
    // 108 SMs, with a note that the trace's GPU had 80.
    let v100 = fixture("v100-ns-resolution-kineto.json.gz");
    let v = json_of(&[
        "estimate",
        "--trace",
        v100.to_str().unwrap(),
        "--hardware",
        "a100-40gb",
        "--json",
    ]);
    assert_eq!(v["kernel_count"], 4350);
    assert_eq!(v["device"]["units"], 108);
    assert!(
        v["notes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n.as_str().unwrap().contains("80 SMs")),
        "{}",
        v["notes"]
    );
}

#[test]
fn plot_writes_a_valid_svg() {
    let dir = tempfile::tempdir().unwrap();
    let svg = dir.path().join("alexnet.svg");
    let trace = fixture("alexnet-a100-kineto.json.gz");
    let out = run(&[
        "estimate",
        "--trace",
        trace.to_str().unwrap(),
        "--gating",
        "timeout",
        "--plot",
        svg.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&svg).unwrap();
    assert!(text.starts_with("<svg") && text.trim_end().ends_with("</svg>"));
    assert!(text.contains("gating timeout") && text.contains("kernels ran in the bin"));
    // Two devices: one file each.
    let path = write(dir.path(), "two.json", &two_devices());
    let plot = dir.path().join("two.svg");
    let out = run(&[
        "estimate",
        "--trace",
        path.to_str().unwrap(),
        "--plot",
        plot.to_str().unwrap(),
    ]);
    assert!(out.status.success());
    assert!(dir.path().join("two-device0.svg").is_file());
    assert!(dir.path().join("two-device1.svg").is_file());
    // An unwritable plot path fails before anything is read.
    let out = run(&[
        "estimate",
        "--trace",
        trace.to_str().unwrap(),
        "--plot",
        "/nonexistent-dir/x.svg",
    ]);
    assert_eq!(out.status.code(), Some(1));
}
