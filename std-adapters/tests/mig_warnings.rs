//! MIG warnings for measured windows: a fake A100 in MIG mode and a fake H100,
//! read through the real nvml-wrapper and the monitor.
#![cfg(feature = "nvml")]

#[path = "support/fake_nvml.rs"]
mod fake_nvml;

use fake_nvml::FakeNvml;
use wattledger_core::mig::{CheckOptions, ShareBasis};
use wattledger_std::mig_warnings::for_window;
use wattledger_std::monitor::{DeviceWindowReport, Monitor};
use wattledger_std::sensors::Sensor;
use wattledger_std::sensors::nvml::NvmlSensor;
use wattledger_std::visible::{VisibleSensor, plan};

const A100: &str = "GPU-4f1c2a9e-6b7d-4e21-9c3a-1a2b3c4d5e6f";
const MIG_1G: &str = "MIG-0a1b2c3d-1111-5e6f-8a9b-0c1d2e3f4a5b";
const MIG_2G: &str = "MIG-0a1b2c3d-2222-5e6f-8a9b-0c1d2e3f4a5b";

/// One 150 ms window over what a program sees with `CUDA_VISIBLE_DEVICES`
/// set to `visible` (`None`: unset), measured as the command measures it.
fn window(fake: &FakeNvml, visible: Option<&str>) -> Vec<DeviceWindowReport> {
    let sensor = NvmlSensor::with_lib_path(fake.lib_path()).unwrap();
    let plan = plan(&sensor, visible);
    let sensors: Vec<Box<dyn Sensor>> =
        vec![Box::new(VisibleSensor::new(Box::new(sensor), plan.gpus))];
    let monitor = Monitor::new(sensors).unwrap();
    monitor.begin_window("phase").unwrap();
    std::thread::sleep(std::time::Duration::from_millis(150));
    monitor.end_window("phase").unwrap()
}

fn codes(w: &[wattledger_std::mig_warnings::MigWarning]) -> Vec<&str> {
    w.iter().map(|w| w.code.as_str()).collect()
}

#[test]
fn two_instances_of_one_a100_are_one_result_not_two() {
    let fake = FakeNvml::scenario("a100_mig");
    let reports = window(&fake, Some(&format!("{MIG_1G},{MIG_2G}")));
    assert_eq!(reports.len(), 1);
    // 180 W for about 150 ms: about 27 J, the whole GPU's.
    let e = reports[0].report.energy_j;
    assert!((e - 27.0).abs() < 180.0 * 0.05, "{e}");
    let measured = reports[0].measured.as_ref().unwrap();
    assert_eq!(measured.device.uuid, A100);
    assert_eq!(measured.mig_instances.len(), 2);
    let w = for_window(&reports, &CheckOptions::default()).unwrap();
    // The parent's energy (001), measured once: one result, so nothing is
    // counted twice (no 002) and no profiles are compared (no 004). The one
    // result covers two instances and has no one profile (005).
    assert_eq!(codes(&w), ["WL-MIG-001", "WL-MIG-005"]);
    assert!(w[0].message.starts_with("1 result(s)"), "{}", w[0].message);
    assert!(
        w[1].message.contains(&format!("{A100} (2 MIG instances)")),
        "{}",
        w[1].message
    );
    // No share of one instance is estimated for the work of two.
    let opts = CheckOptions {
        estimate_shares: Some(ShareBasis::ComputeSlices),
    };
    let w = for_window(&reports, &opts).unwrap();
    assert!(!codes(&w).contains(&"WL-MIG-007"), "{w:?}");
}

#[test]
fn one_instance_is_that_instances_result() {
    let fake = FakeNvml::scenario("a100_mig");
    let reports = window(&fake, Some(MIG_1G));
    assert_eq!(reports.len(), 1);
    assert_eq!(reports[0].device.uuid, MIG_1G);
    let w = for_window(&reports, &CheckOptions::default()).unwrap();
    assert_eq!(codes(&w), ["WL-MIG-001"]);
    assert!(w[0].message.contains("1g.5gb"), "{}", w[0].message);
    // Opting in to shares by compute slices: 1g.5gb is 1 of the A100's 7.
    let opts = CheckOptions {
        estimate_shares: Some(ShareBasis::ComputeSlices),
    };
    let w = for_window(&reports, &opts).unwrap();
    assert_eq!(codes(&w), ["WL-MIG-001", "WL-MIG-007"]);
    assert!(w[1].message.contains("14.29%"), "{}", w[1].message);
}

#[test]
fn mig_mode_without_a_named_instance_is_a_mig_result_without_profile() {
    let fake = FakeNvml::scenario("a100_mig");
    let reports = window(&fake, None);
    assert_eq!(reports.len(), 1);
    let w = for_window(&reports, &CheckOptions::default()).unwrap();
    assert_eq!(codes(&w), ["WL-MIG-001", "WL-MIG-005"]);
}

#[test]
fn a_whole_gpu_raises_nothing() {
    let fake = FakeNvml::scenario("h100");
    let reports = window(&fake, None);
    let w = for_window(&reports, &CheckOptions::default()).unwrap();
    assert!(w.is_empty(), "{w:?}");
}
