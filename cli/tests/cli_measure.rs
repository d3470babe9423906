//! `wattledger measure` and `devices`, run as real processes against the
//! fake NVML library, Jetson fixture trees and a replay trace.

#[path = "support/constant_power.rs"]
mod constant_power;
#[path = "../../std-adapters/tests/support/fake_nvml.rs"]
mod fake_nvml;
#[path = "../../std-adapters/tests/fixtures/jetson_trees.rs"]
mod jetson_trees;

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

/// The command, with no environment of its own.
fn wattledger() -> Command {
    Command::new(env!("CARGO_BIN_EXE_wattledger"))
}

/// The command with the fake NVML and `scenario` in its environment.
fn with_fake(scenario: &str) -> Command {
    let mut c = wattledger();
    c.env("WATTLEDGER_NVML_LIB", fake_nvml::library())
        .env("FAKE_NVML_SCENARIO", fake_nvml::scenario_path(scenario))
        .env_remove("CUDA_VISIBLE_DEVICES");
    c
}

/// Runs `c` to the end.
fn run(c: &mut Command) -> Output {
    c.output().unwrap()
}

/// Runs `c` and checks that it exited 0 (showing its stderr otherwise).
fn succeed(c: &mut Command) -> Output {
    let out = run(c);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// The `code` of every MIG warning of a `--json` report, in order.
fn warning_codes(d: &Value) -> Vec<&str> {
    d["mig_warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["code"].as_str().unwrap())
        .collect()
}

fn json_of(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}\nstderr: {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

#[test]
fn h100_energy_is_power_times_duration() {
    let dir = tempfile::tempdir().unwrap();
    let trace = dir.path().join("run.jsonl");
    let out = run(with_fake("h100")
        .args(["measure", "-o", "/dev/stdout", "--json", "--record"])
        .arg(&trace)
        .args(["--", "sleep", "0.3"]));
    assert_eq!(out.status.code(), Some(0));
    let d = json_of(&out);
    let dev = &d["devices"][0];
    let energy = dev["energy_j"].as_f64().unwrap();
    let duration = dev["duration_s"].as_f64().unwrap();
    // The fake H100 draws a constant 350 W and its counter is the exact
    // integral (truncated to whole mJ at each read): the energy is the
    // counter's rise over the window, to the mJ, and 350 · duration within
    // the truncation and the stamping delay (see constant_power).
    constant_power::assert_counter_rise(&std::fs::read_to_string(&trace).unwrap(), dev);
    constant_power::assert_power_times_duration(energy, duration, 350.0);
    // The window spans at least the 0.3 s the command slept.
    assert!(duration >= 0.3, "{duration}");
    assert!((dev["average_power_w"].as_f64().unwrap() - 350.0).abs() < 0.1);
    assert_eq!(dev["method"], "counter");
    assert_eq!(dev["coverage"].as_f64().unwrap(), 1.0);
    assert_eq!(d["exit_code"], 0);
    assert_eq!(dev["device"]["name"], "NVIDIA H100 80GB HBM3");
}

#[test]
fn exit_code_is_passed_through() {
    let out = run(with_fake("h100").args(["measure", "--", "sh", "-c", "exit 3"]));
    assert_eq!(out.status.code(), Some(3));
    // The report goes to stderr: stdout is the command's.
    let text = String::from_utf8_lossy(&out.stderr);
    assert!(text.contains("(exit 3)"), "{text}");
    let out = run(with_fake("h100").args(["measure", "--", "no-such-program-wattledger"]));
    assert_eq!(out.status.code(), Some(127));
}

#[test]
fn no_gpu_and_no_nvml_exit_4_with_one_line() {
    let out = run(with_fake("no_gpu").args(["measure", "--", "true"]));
    assert_eq!(out.status.code(), Some(4));
    let e = String::from_utf8_lossy(&out.stderr);
    assert_eq!(e.lines().count(), 1, "{e}");
    assert!(e.contains("nvidia-smi"), "{e}");
    let out = run(wattledger()
        .env("WATTLEDGER_NVML_LIB", "/no/such/libnvidia-ml.so.1")
        .args(["devices"]));
    assert_eq!(out.status.code(), Some(4));
    let e = String::from_utf8_lossy(&out.stderr);
    assert!(e.contains("WATTLEDGER_NVML_LIB"), "{e}");
}

#[test]
fn two_mig_instances_of_one_gpu_are_measured_once_and_warned() {
    let dir = tempfile::tempdir().unwrap();
    let prom = dir.path().join("wattledger.prom");
    let out = succeed(
        with_fake("a100_mig")
            .env(
                "CUDA_VISIBLE_DEVICES",
                "MIG-0a1b2c3d-1111-5e6f-8a9b-0c1d2e3f4a5b,MIG-0a1b2c3d-2222-5e6f-8a9b-0c1d2e3f4a5b",
            )
            .args(["measure", "-o", "/dev/stdout", "--json", "--prometheus"])
            .arg(&prom)
            .args(["--", "sleep", "0.05"]),
    );
    let d = json_of(&out);
    // One physical GPU, measured once, covering both instances.
    assert_eq!(d["devices"].as_array().unwrap().len(), 1);
    assert_eq!(
        d["devices"][0]["mig_instances"].as_array().unwrap().len(),
        2
    );
    let codes = warning_codes(&d);
    // Parent power (001). Measured once, the GPU is one result: nothing is
    // counted twice (no 002) and no instances are compared (no 004); the one
    // result covers two profiles, so it has none (005).
    assert_eq!(codes, ["WL-MIG-001", "WL-MIG-005"]);
    let text = std::fs::read_to_string(&prom).unwrap();
    assert!(text.contains("# TYPE wattledger_run_energy_joules gauge"));
    assert!(text.contains("# TYPE wattledger_run_average_power_watts gauge"));
    // The GPU standing for both instances is labelled as itself, and each
    // instance has a series of its own with its MIG labels.
    assert!(text.contains(
        "wattledger_run_energy_joules{source=\"nvml\",device=\"0\",gpu_uuid=\"GPU-4f1c2a9e-6b7d-4e21-9c3a-1a2b3c4d5e6f\",parent_uuid=\"GPU-4f1c2a9e-6b7d-4e21-9c3a-1a2b3c4d5e6f\",mig_profile=\"\"}"
    ), "{text}");
    for (uuid, profile) in [
        ("MIG-0a1b2c3d-1111-5e6f-8a9b-0c1d2e3f4a5b", "1g.5gb"),
        ("MIG-0a1b2c3d-2222-5e6f-8a9b-0c1d2e3f4a5b", "2g.10gb"),
    ] {
        assert!(text.contains(&format!(
            "wattledger_run_mig_instance_info{{gpu_uuid=\"GPU-4f1c2a9e-6b7d-4e21-9c3a-1a2b3c4d5e6f\",mig_uuid=\"{uuid}\",parent_uuid=\"GPU-4f1c2a9e-6b7d-4e21-9c3a-1a2b3c4d5e6f\",mig_profile=\"{profile}\"}} 1"
        )), "{uuid} {profile} in {text}");
    }
    // No temporary file is left beside it.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
}

/// Two instances of one H200 are one physical GPU: measured once, reported
/// once, and since one energy is reported nothing is counted twice, so the
/// MIG rules see one result and raise no WL-MIG-002 (they did before: the
/// command made one MIG record per instance, each with the parent's energy).
#[test]
fn two_mig_instances_of_one_h200_are_one_result_without_double_counting() {
    let instances =
        "MIG-b1c2d3e4-0000-4f5a-8b6c-7d8e9f0a1b2c,MIG-b1c2d3e4-0003-4f5a-8b6c-7d8e9f0a1b2c";
    let out = succeed(
        with_fake("h200_mig")
            .env("CUDA_VISIBLE_DEVICES", instances)
            .args([
                "measure",
                "-o",
                "/dev/stdout",
                "--json",
                "--",
                "sleep",
                "0.1",
            ]),
    );
    let d = json_of(&out);
    let devices = d["devices"].as_array().unwrap();
    assert_eq!(devices.len(), 1, "{d}");
    let dev = &devices[0];
    assert_eq!(
        dev["device"]["uuid"],
        "GPU-2c4e6a8b-0d1f-4a3b-9c5d-7e9f1a3b5c7d"
    );
    let listed: Vec<&str> = dev["mig_instances"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(listed, instances.split(',').collect::<Vec<_>>());
    // The fake H200 draws a constant 400 W: energy = 400 · duration (within
    // the counter's truncation and the stamping delay, see constant_power).
    let energy = dev["energy_j"].as_f64().unwrap();
    let duration = dev["duration_s"].as_f64().unwrap();
    constant_power::assert_power_times_duration(energy, duration, 400.0);
    assert_eq!(d["total_energy_j"].as_f64().unwrap(), energy);
    // One MIG result of the parent's energy (001), covering two instances
    // and so without one profile (005); never WL-MIG-002.
    assert_eq!(warning_codes(&d), ["WL-MIG-001", "WL-MIG-005"]);
    let w = d["mig_warnings"][1]["message"].as_str().unwrap();
    assert!(
        w.contains("GPU-2c4e6a8b-0d1f-4a3b-9c5d-7e9f1a3b5c7d (2 MIG instances)"),
        "{w}"
    );

    let out = succeed(
        with_fake("h200_mig")
            .env("CUDA_VISIBLE_DEVICES", instances)
            .args(["measure", "--", "true"]),
    );
    let text = String::from_utf8_lossy(&out.stderr);
    assert_eq!(text.matches("nvml 0 ").count(), 1, "{text}");
    assert!(
        text.contains("the parent GPU's energy, counted once"),
        "{text}"
    );
    assert!(text.contains("WL-MIG-001 warning"), "{text}");
    assert!(!text.contains("WL-MIG-002"), "{text}");
}

#[test]
fn one_mig_instance_is_labelled_as_the_instance() {
    let dir = tempfile::tempdir().unwrap();
    let prom = dir.path().join("p.prom");
    let out = succeed(
        with_fake("a100_mig")
            .env(
                "CUDA_VISIBLE_DEVICES",
                "MIG-7e8f9a0b-3333-4c5d-9e6f-7a8b9c0d1e2f",
            )
            .args(["measure", "-o", "/dev/stdout", "--json", "--prometheus"])
            .arg(&prom)
            .args(["--", "true"]),
    );
    let d = json_of(&out);
    let dev = &d["devices"][0];
    assert_eq!(dev["is_mig"], true);
    assert_eq!(dev["mig_profile"], "3g.20gb");
    assert_eq!(
        dev["parent_uuid"],
        "GPU-4f1c2a9e-6b7d-4e21-9c3a-1a2b3c4d5e6f"
    );
    let codes = warning_codes(&d);
    assert_eq!(codes, ["WL-MIG-001"]);
    let text = std::fs::read_to_string(&prom).unwrap();
    assert!(text.contains(
        "gpu_uuid=\"MIG-7e8f9a0b-3333-4c5d-9e6f-7a8b9c0d1e2f\",parent_uuid=\"GPU-4f1c2a9e-6b7d-4e21-9c3a-1a2b3c4d5e6f\",mig_profile=\"3g.20gb\""
    ), "{text}");
}

fn trace_path() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../std-adapters/tests/fixtures/trace-orin-nano.jsonl")
}

#[test]
fn replay_trace_without_a_command_is_one_window() {
    let out = succeed(
        wattledger()
            .args(["measure", "-o", "/dev/stdout", "--json", "--source"])
            .arg(format!("replay:{}", trace_path().display())),
    );
    let d = json_of(&out);
    let devs = d["devices"].as_array().unwrap();
    assert_eq!(devs.len(), 2);
    // Device 0 (VDD_IN): 6944, 7120, 7301 mW at 10 ms steps, trapezoids:
    // (6944+7120)/2·0.01 + (7120+7301)/2·0.01 = 70.32 + 72.105 = 142.425 mJ.
    let e0 = devs[0]["energy_j"].as_f64().unwrap();
    assert!((e0 - 0.142425).abs() < 1e-9, "{e0}");
    // Device 1: (1869+2011)/2·0.01 + (2011+2230)/2·0.01 = 19.4 + 21.205 = 40.605 mJ.
    let e1 = devs[1]["energy_j"].as_f64().unwrap();
    assert!((e1 - 0.040605).abs() < 1e-9, "{e1}");
    // 20 ms windows: 142.425 mJ / 0.02 s = 7.12125 W.
    assert!((devs[0]["average_power_w"].as_f64().unwrap() - 7.12125).abs() < 1e-9);
    assert_eq!(devs[0]["method"], "power");
}

#[test]
fn record_writes_a_trace_that_replays() {
    let dir = tempfile::tempdir().unwrap();
    let trace = dir.path().join("run.jsonl");
    let before = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let out = succeed(
        with_fake("h100")
            .args([
                "measure",
                "-o",
                "/dev/stdout",
                "--interval",
                "10",
                "--json",
                "--record",
            ])
            .arg(&trace)
            .args(["--", "sleep", "0.1"]),
    );
    let live = json_of(&out);
    let after = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    // The meta line says when the sensor's clock started, in Unix time: a
    // moment during the run.
    let text = std::fs::read_to_string(&trace).unwrap();
    let meta: serde_json::Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    let clock = u128::from(meta["clock_unix_ns"].as_u64().expect("clock_unix_ns"));
    assert!(
        before <= clock && clock <= after,
        "{before} <= {clock} <= {after}"
    );
    let out = succeed(
        wattledger()
            .args(["measure", "-o", "/dev/stdout", "--json", "--source"])
            .arg(format!("replay:{}", trace.display())),
    );
    let replayed = json_of(&out);
    // The trace holds every sample the monitor took, from before the window
    // began to after it ended, so the whole-trace energy is at least the
    // window's; both are the counter's rise between their end samples, and
    // at 350 W the replay is 350 · its duration (see constant_power).
    let e_live = live["devices"][0]["energy_j"].as_f64().unwrap();
    let e_replay = replayed["devices"][0]["energy_j"].as_f64().unwrap();
    let dur = replayed["devices"][0]["duration_s"].as_f64().unwrap();
    assert!(e_replay >= e_live - 1e-9, "{e_replay} < {e_live}");
    constant_power::assert_counter_rise(&text, &live["devices"][0]);
    constant_power::assert_counter_rise(&text, &replayed["devices"][0]);
    constant_power::assert_power_times_duration(e_replay, dur, 350.0);
}

#[test]
fn jetson_source_reads_the_fixture_tree() {
    let root = tempfile::tempdir().unwrap();
    jetson_trees::orin_nano(root.path());
    let out = succeed(
        wattledger()
            .args([
                "measure",
                "-o",
                "/dev/stdout",
                "--json",
                "--interval",
                "10",
                "--source",
            ])
            .arg(format!("jetson:{}", root.path().display()))
            .args(["--", "sleep", "0.1"]),
    );
    let d = json_of(&out);
    let dev = &d["devices"][0];
    // VDD_IN 5032 mV × 1380 mA = 6944.16 mW, constant: energy = 6.944 W × duration.
    let e = dev["energy_j"].as_f64().unwrap();
    let dur = dev["duration_s"].as_f64().unwrap();
    assert!((e - 6.94416 * dur).abs() < 0.01 * e, "{e} vs 6.944·{dur}");
    assert_eq!(dev["method"], "power");
    // Jetson without rails: exit 4.
    let empty = tempfile::tempdir().unwrap();
    let out = run(wattledger()
        .args(["measure", "--source"])
        .arg(format!("jetson:{}", empty.path().display()))
        .args(["--", "true"]));
    assert_eq!(out.status.code(), Some(4));
}

#[test]
fn devices_lists_mig_instances() {
    let out = succeed(with_fake("a100_mig").args(["devices"]));
    let text = String::from_utf8_lossy(&out.stdout);
    for needle in [
        "NVIDIA A100-SXM4-40GB",
        "ampere",
        "MIG on",
        "1g.5gb",
        "2g.10gb",
        "3g.20gb",
    ] {
        assert!(text.contains(needle), "no `{needle}` in:\n{text}");
    }
    let out = run(with_fake("a100_mig").args(["devices", "--json"]));
    let d = json_of(&out);
    assert_eq!(
        d["devices"][0]["mig"]["instances"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
}

#[test]
fn measure_without_a_command_is_a_usage_error() {
    let out = run(with_fake("h100").args(["measure"]));
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn cuda_visible_devices_picks_the_gpus_measured() {
    // cluster: GPU 0 A100 (MIG), 1 and 2 H100, 3 H200. Indices 2,3 → two devices.
    let out = succeed(
        with_fake("cluster")
            .env("CUDA_VISIBLE_DEVICES", "2,3")
            .args(["measure", "-o", "/dev/stdout", "--json", "--", "true"]),
    );
    let d = json_of(&out);
    let uuids: Vec<&str> = d["devices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["device"]["uuid"].as_str().unwrap())
        .collect();
    assert_eq!(
        uuids,
        [
            "GPU-77bb0000-0000-4000-8000-000000000002",
            "GPU-2c4e6a8b-0d1f-4a3b-9c5d-7e9f1a3b5c7d"
        ]
    );
    // An empty value hides every GPU: nothing to measure, exit 4.
    let out = run(with_fake("cluster")
        .env("CUDA_VISIBLE_DEVICES", "")
        .args(["measure", "--", "true"]));
    assert_eq!(out.status.code(), Some(4));
    assert!(String::from_utf8_lossy(&out.stderr).contains("CUDA_VISIBLE_DEVICES"));
}
