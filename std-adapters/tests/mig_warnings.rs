//! MIG warnings for measured windows: a fake A100 in MIG mode and a fake H100,
//! read through the real nvml-wrapper and the monitor.
#![cfg(feature = "nvml")]

#[path = "support/fake_nvml.rs"]
mod fake_nvml;

use fake_nvml::FakeNvml;
use wattledger_core::mig::{CheckOptions, ShareBasis};
use wattledger_std::mig_warnings::for_window;
use wattledger_std::monitor::Monitor;
use wattledger_std::sensors::Sensor;
use wattledger_std::sensors::nvml::NvmlSensor;

const MIG_1G: &str = "MIG-0a1b2c3d-1111-5e6f-8a9b-0c1d2e3f4a5b";
const MIG_2G: &str = "MIG-0a1b2c3d-2222-5e6f-8a9b-0c1d2e3f4a5b";

fn window(fake: &FakeNvml) -> Vec<wattledger_std::monitor::DeviceWindowReport> {
    let sensor = NvmlSensor::with_lib_path(fake.lib_path()).unwrap();
    let sensors: Vec<Box<dyn Sensor>> = vec![Box::new(sensor)];
    let monitor = Monitor::new(sensors).unwrap();
    monitor.begin_window("phase").unwrap();
    std::thread::sleep(std::time::Duration::from_millis(150));
    monitor.end_window("phase").unwrap()
}

#[test]
fn two_instances_of_one_a100_are_flagged_not_added() {
    let fake = FakeNvml::scenario("a100_mig");
    let reports = window(&fake);
    assert_eq!(reports.len(), 1);
    // 180 W for about 150 ms: about 27 J, the whole GPU's.
    let e = reports[0].report.energy_j;
    assert!((e - 27.0).abs() < 180.0 * 0.05, "{e}");
    let named = [MIG_1G.to_string(), MIG_2G.to_string()];
    let w = for_window(&reports, &named, &CheckOptions::default()).unwrap();
    let codes: Vec<&str> = w.iter().map(|w| w.code.as_str()).collect();
    // Parent power (001), shared parent counted twice (002), and the two
    // instances have different profiles (004). No share without opt-in.
    assert!(codes.contains(&"WL-MIG-001"), "{codes:?}");
    assert!(codes.contains(&"WL-MIG-002"), "{codes:?}");
    assert!(codes.contains(&"WL-MIG-004"), "{codes:?}");
    assert!(!codes.contains(&"WL-MIG-007"), "{codes:?}");
    let shared = w.iter().find(|w| w.code == "WL-MIG-002").unwrap();
    assert_eq!(shared.severity, "error");
    assert!(shared.message.contains('2'), "{}", shared.message);
    let parent = w.iter().find(|w| w.code == "WL-MIG-001").unwrap();
    assert!(parent.message.contains("1g.5gb") && parent.message.contains("2g.10gb"));
    // Opting in to shares by compute slices: 1/7 and 2/7 of the parent's energy.
    let opts = CheckOptions {
        estimate_shares: Some(ShareBasis::ComputeSlices),
    };
    let w = for_window(&reports, &named, &opts).unwrap();
    assert_eq!(w.iter().filter(|w| w.code == "WL-MIG-007").count(), 2);
    // One instance alone: the parent-power warning, but nothing counted twice.
    let w = for_window(&reports, &named[..1], &CheckOptions::default()).unwrap();
    assert!(w.iter().any(|w| w.code == "WL-MIG-001"));
    assert!(
        !w.iter()
            .any(|w| w.code == "WL-MIG-002" || w.code == "WL-MIG-004")
    );
}

#[test]
fn a_whole_gpu_raises_nothing() {
    let fake = FakeNvml::scenario("h100");
    let reports = window(&fake);
    let w = for_window(&reports, &[], &CheckOptions::default()).unwrap();
    assert!(w.is_empty(), "{w:?}");
}
