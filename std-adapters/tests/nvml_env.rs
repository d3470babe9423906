//! Environment variables read by the NVML adapter: `WATTLEDGER_NVML_LIB` and
//! `CUDA_VISIBLE_DEVICES`. Changing the environment races with other threads,
//! so this binary has exactly one test, which runs alone.
#![cfg(feature = "nvml")]

#[path = "support/fake_nvml.rs"]
mod fake_nvml;

use fake_nvml::FakeNvml;
use wattledger_std::sensors::nvml::{LIB_PATH_ENV, NvmlOptions, NvmlSensor};
use wattledger_std::sensors::{Sensor, SensorError};
use wattledger_std::visible::{TokenProblem, cuda_visible_devices_from_env};

#[test]
fn environment_variables() {
    let h100 = FakeNvml::scenario("h100");
    let pascal = FakeNvml::scenario("pascal");

    // SAFETY (for every set_var/remove_var below): this is the only test in
    // this binary, so no other thread reads the environment meanwhile.
    unsafe { std::env::set_var(LIB_PATH_ENV, h100.lib_path()) };
    assert_eq!(
        NvmlOptions::from_env().lib_path.as_deref(),
        Some(h100.lib_path())
    );
    let s = NvmlSensor::from_env().unwrap();
    assert_eq!(s.devices()[0].architecture, Some(9));
    drop(s);

    // A path given through the API wins over the environment.
    let s = NvmlSensor::open(&NvmlOptions::from_env().lib_path(pascal.lib_path())).unwrap();
    assert_eq!(s.devices()[0].architecture, Some(4));
    drop(s);

    // A wrong path in the environment: Unavailable, naming the path.
    let dir = tempfile::tempdir().unwrap();
    let wrong = dir.path().join("libnvidia-ml.so.1");
    unsafe { std::env::set_var(LIB_PATH_ENV, &wrong) };
    match NvmlSensor::from_env().unwrap_err() {
        SensorError::Unavailable { what, hint } => {
            assert!(what.contains(&wrong.display().to_string()), "{what}");
            assert!(hint.contains(LIB_PATH_ENV), "{hint}");
        }
        other => panic!("expected Unavailable, got {other:?}"),
    }

    // Set but empty means "not set".
    unsafe { std::env::set_var(LIB_PATH_ENV, "") };
    assert_eq!(NvmlOptions::from_env().lib_path, None);
    unsafe { std::env::remove_var(LIB_PATH_ENV) };
    assert_eq!(NvmlOptions::from_env().lib_path, None);

    // CUDA_VISIBLE_DEVICES read from the environment.
    let cluster = FakeNvml::scenario("cluster");
    let s = NvmlSensor::with_lib_path(cluster.lib_path()).unwrap();
    unsafe { std::env::remove_var("CUDA_VISIBLE_DEVICES") };
    assert_eq!(cuda_visible_devices_from_env(s.devices()).visible.len(), 4);
    unsafe { std::env::set_var("CUDA_VISIBLE_DEVICES", "MIG-0a1b2c3d-2222,2,x") };
    let v = cuda_visible_devices_from_env(s.devices());
    assert_eq!(v.parent_devices(), vec![0, 2]);
    assert_eq!(
        v.stopped_at.map(|t| t.problem),
        Some(TokenProblem::Malformed)
    );
    unsafe { std::env::remove_var("CUDA_VISIBLE_DEVICES") };
}
