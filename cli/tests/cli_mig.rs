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
