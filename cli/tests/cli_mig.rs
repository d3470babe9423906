//! `wattledger mig-check` and `mig-profiles`, run as real processes.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_wattledger"))
        .args(args)
        .output()
        .unwrap()
}

fn example(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../examples")
        .join(name)
        .display()
        .to_string()
}

#[test]
fn mig_check_example_warnings_and_shares() {
    let out = run(&[
        "mig-check",
        &example("mig-results.json"),
        "--json",
        "--estimate-shares",
        "--fail-on",
        "never",
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let d: Value = serde_json::from_slice(&out.stdout).unwrap();
    let w = d["warnings"].as_array().unwrap();
    let codes: Vec<&str> = w.iter().map(|x| x["code"].as_str().unwrap()).collect();
    // Two H100 instances overlapping over [5, 10) s, different profiles,
    // beside a whole A100: 001, 002, 003, 004, then a share for each instance.
    assert_eq!(
        codes,
        [
            "WL-MIG-001",
            "WL-MIG-002",
            "WL-MIG-003",
            "WL-MIG-004",
            "WL-MIG-007",
            "WL-MIG-007"
        ]
    );
    // Shares by compute slices of H100's 7: 1g → 3500·1/7 = 500 J, 3g → 1750·3/7 = 750 J.
    assert!(w[4]["message"].as_str().unwrap().contains("500.000 J"));
    assert!(w[5]["message"].as_str().unwrap().contains("750.000 J"));
    assert_eq!(w[1]["severity"], "error");
}

#[test]
fn mig_check_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("r.json");
    std::fs::write(
        &p,
        r#"{"results": [{"id": "x", "gpu_uuid": "GPU-1", "is_mig": false, "energy_j": 1, "start_s": 2, "end_s": 1}]}"#,
    )
    .unwrap();
    let out = run(&["mig-check", p.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stderr).contains("end is before start"));
    std::fs::write(&p, "{\"results\": [}").unwrap();
    let out = run(&["mig-check", p.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stderr).contains("r.json:1:"));
    let out = run(&["mig-check", "/no/such/results.json"]);
    assert_eq!(out.status.code(), Some(3));
}

#[test]
fn mig_profiles_one_gpu_by_nvml_name() {
    let out = run(&["mig-profiles", "NVIDIA H100 80GB HBM3", "--json"]);
    assert_eq!(out.status.code(), Some(0));
    let d: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(d.as_array().unwrap().len(), 1);
    assert_eq!(d[0]["gpu"], "H100-80GB-SXM5");
    let names: Vec<&str> = d[0]["profiles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"1g.10gb") && names.contains(&"7g.80gb"),
        "{names:?}"
    );
    let all = run(&["mig-profiles"]);
    assert!(String::from_utf8_lossy(&all.stdout).contains("A100-40GB"));
    let out = run(&["mig-profiles", "GTX 1080"]);
    assert_eq!(out.status.code(), Some(3));
}

/// Writes `{"results": [...]}` with `results` into a temporary file.
fn results_file(results: &[Value]) -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("results.json");
    std::fs::write(&p, serde_json::json!({ "results": results }).to_string()).unwrap();
    let path = p.display().to_string();
    (dir, path)
}

fn codes_of(out: &Output) -> Vec<String> {
    let d: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!("{e}: {}", String::from_utf8_lossy(&out.stderr));
    });
    d["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["code"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn eighteen_profiles_from_three_gpus_are_checked() {
    // Six valid profiles each of an A100-40GB, an H100 and an H200, each on
    // its own instance, one after another: 18 distinct profiles, which the
    // engine once refused ("more than 16 distinct profiles", exit 3).
    let gpus = [
        (
            "NVIDIA A100-SXM4-40GB",
            "ampere",
            [
                "1g.5gb",
                "1g.5gb+me",
                "1g.10gb",
                "2g.10gb",
                "3g.20gb",
                "4g.20gb",
            ],
        ),
        (
            "NVIDIA H100 80GB HBM3",
            "hopper",
            [
                "1g.10gb+me",
                "1g.20gb",
                "2g.20gb",
                "3g.40gb",
                "4g.40gb",
                "7g.80gb",
            ],
        ),
        (
            "NVIDIA H200",
            "hopper",
            [
                "1g.18gb",
                "1g.18gb+me",
                "1g.35gb",
                "2g.35gb",
                "3g.71gb",
                "4g.71gb",
            ],
        ),
    ];
    let mut results = Vec::new();
    for (g, (model, arch, profiles)) in gpus.iter().enumerate() {
        for (i, profile) in profiles.iter().enumerate() {
            let t = (g * 6 + i) as f64;
            results.push(serde_json::json!({
                "id": format!("r{g}{i}"), "gpu_uuid": format!("MIG-{g}-{i}"),
                "parent_uuid": format!("GPU-{g}"), "is_mig": true, "mig_profile": profile,
                "arch": arch, "gpu_model": model, "energy_j": 10.0, "start_s": t, "end_s": t + 1.0,
            }));
        }
    }
    let (_dir, path) = results_file(&results);
    let out = run(&["mig-check", &path, "--json"]);
    // Warnings only (no overlap, every profile valid): exit 0 by default.
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(codes_of(&out), ["WL-MIG-001", "WL-MIG-004"]);
    let d: Value = serde_json::from_slice(&out.stdout).unwrap();
    let message = d["warnings"][0]["message"].as_str().unwrap();
    assert!(
        message.starts_with("18 result(s) ran on 18 MIG instance(s) (1g.5gb, "),
        "{message}"
    );
    // Any warning fails under --fail-on warning.
    let out = run(&["mig-check", &path, "--fail-on", "warning"]);
    assert_eq!(out.status.code(), Some(6));
}

#[test]
fn fail_on_sets_the_exit_status() {
    // The example has an error (WL-MIG-002) and warnings.
    let ex = example("mig-results.json");
    for (fail_on, code) in [
        (None, 6),
        (Some("error"), 6),
        (Some("warning"), 6),
        (Some("never"), 0),
    ] {
        let mut args = vec!["mig-check", ex.as_str()];
        if let Some(f) = fail_on {
            args.extend(["--fail-on", f]);
        }
        let out = run(&args);
        assert_eq!(out.status.code(), Some(code), "{fail_on:?}");
        // The report is printed whatever the status.
        assert!(String::from_utf8_lossy(&out.stdout).contains("WL-MIG-002 error"));
    }
    // Warnings without an error: 0 by default, 6 under --fail-on warning.
    let one = serde_json::json!({
        "id": "a", "gpu_uuid": "MIG-1", "parent_uuid": "GPU-1", "is_mig": true,
        "mig_profile": "1g.10gb", "arch": "hopper", "gpu_model": "NVIDIA H100 80GB HBM3",
        "energy_j": 1.0, "start_s": 0.0, "end_s": 1.0,
    });
    let (_dir, path) = results_file(&[one]);
    assert_eq!(run(&["mig-check", &path]).status.code(), Some(0));
    assert_eq!(
        run(&["mig-check", &path, "--fail-on", "warning"])
            .status
            .code(),
        Some(6)
    );
    // An unknown severity is a usage error.
    assert_eq!(
        run(&["mig-check", &path, "--fail-on", "info"])
            .status
            .code(),
        Some(2)
    );
}

#[test]
fn missing_parent_and_too_many_instances_have_codes() {
    let orphan = serde_json::json!({
        "id": "o", "gpu_uuid": "MIG-9", "is_mig": true, "mig_profile": "1g.10gb",
        "arch": "hopper", "gpu_model": "NVIDIA H100 80GB HBM3",
        "energy_j": 1.0, "start_s": 0.0, "end_s": 1.0,
    });
    // 2 000 distinct 1g.10gb instances of one H100 (it holds 7), one after
    // another so that nothing overlaps.
    let mut results: Vec<Value> = (0..2000)
        .map(|i| {
            serde_json::json!({
                "id": format!("r{i}"), "gpu_uuid": format!("MIG-{i}"), "parent_uuid": "GPU-1",
                "is_mig": true, "mig_profile": "1g.10gb", "arch": "hopper",
                "gpu_model": "NVIDIA H100 80GB HBM3", "energy_j": 1.0,
                "start_s": f64::from(i), "end_s": f64::from(i) + 1.0,
            })
        })
        .collect();
    results.push(orphan);
    let (_dir, path) = results_file(&results);
    let out = run(&["mig-check", &path, "--json"]);
    assert_eq!(codes_of(&out), ["WL-MIG-001", "WL-MIG-008", "WL-MIG-009"]);
    let d: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        d["warnings"][2]["message"]
            .as_str()
            .unwrap()
            .starts_with("2000 distinct MIG instances of profile 1g.10gb on parent GPU GPU-1, but H100-80GB-SXM5 holds at most 7 at once")
    );
    assert_eq!(d["warnings"][1]["number"], 8);
    // Both are warnings: the default --fail-on error passes.
    assert_eq!(out.status.code(), Some(0));
}
