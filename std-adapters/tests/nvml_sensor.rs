//! The NVML adapter driven through the real nvml-wrapper to the fake
//! `libnvidia-ml` (tests/fake_nvml), one private copy of the library per test.
//!
//! Timing and tolerances. The fake library integrates its scenario's power
//! on CLOCK_MONOTONIC from its `nvmlInit`; the sensor stamps each sample with
//! an `Instant` (also CLOCK_MONOTONIC) read right after the counter. So for
//! two counter reads at library times τ1, τ2 and sample stamps t1, t2:
//!
//! - t_i = τ_i + d + ε_i, where d ≥ 0 is the time from the sensor's origin
//!   to the library's init (loading the library) and ε_i ≥ 0 the time from
//!   the library's clock read to the sensor's `Instant` read (microseconds,
//!   unless the thread is preempted right there);
//! - the counter is floored to whole mJ, so a delta is off by at most 1 mJ.
//!
//! With constant power P (mW): ΔE = P·(τ2 − τ1) ± 1 mJ = P·(t2 − t1) −
//! P·(ε2 − ε1) ± 1 mJ. We allow |ε2 − ε1| ≤ 2 ms: tolerance = P × 2 ms + 1 mJ
//! (360 mJ at 180 W, 1 % of the 36 J measured over 200 ms). Where power steps
//! at a scheduled time, d shifts the step too; we allow d ≤ 5 ms there.
//! Scheduled events (step, reset, loss) are 300 ms after init; the test
//! asserts its "before" sample really came earlier than 250 ms.
#![cfg(feature = "nvml")]

#[path = "support/fake_nvml.rs"]
mod fake_nvml;

use std::time::Duration;

use fake_nvml::FakeNvml;
use wattledger_std::sensors::nvml::{
    COUNTER_UPDATE_PERIOD_NS, NvmlOptions, NvmlSensor, POWER_ONLY_UPDATE_PERIOD_NS,
    profile_from_name,
};
use wattledger_std::sensors::{MigInfo, MigInstance, Sensor, SensorError};

const MS: u64 = 1_000_000;

fn open(fake: &FakeNvml) -> NvmlSensor {
    NvmlSensor::open(&NvmlOptions::default().lib_path(fake.lib_path())).expect("open fake NVML")
}

fn sleep_until(sensor: &NvmlSensor, t_ns: u64) {
    while sensor.now_ns() < t_ns {
        std::thread::sleep(Duration::from_nanos(t_ns - sensor.now_ns()));
    }
}

/// mJ for `mw` milliwatts over `ns` nanoseconds: mW × ns = pJ; / 1e9 → mJ.
fn mj(mw: u64, ns: u64) -> f64 {
    mw as f64 * ns as f64 / 1e9
}

/// Two samples 200 ms apart: counter delta vs P × (t2 − t1).
fn assert_constant_power(sensor: &mut NvmlSensor, device: u32, mw: u32) {
    let s1 = sensor.sample(device).unwrap();
    std::thread::sleep(Duration::from_millis(200));
    let s2 = sensor.sample(device).unwrap();
    assert!(s2.t_ns > s1.t_ns);
    assert_eq!(s1.power_mw, Some(mw));
    assert_eq!(s2.power_mw, Some(mw));
    let delta = (s2.energy_mj.unwrap() - s1.energy_mj.unwrap()) as f64;
    let expected = mj(u64::from(mw), s2.t_ns - s1.t_ns);
    // P × 2 ms + 1 mJ (see the module comment).
    let tol = mj(u64::from(mw), 2 * MS) + 1.0;
    assert!(
        (delta - expected).abs() <= tol,
        "device {device}: counter delta {delta} mJ, expected {expected:.1} ± {tol:.1} mJ"
    );
    // At least 200 ms passed: 200 ms × P is a floor the delta must clear
    // (less the 1 mJ flooring and ε slack).
    assert!(delta >= mj(u64::from(mw), 200 * MS) - tol);
}

#[test]
fn a100_with_three_mig_instances() {
    let fake = FakeNvml::scenario("a100_mig");
    let mut sensor = open(&fake);
    assert_eq!(sensor.source(), "nvml");
    assert_eq!(sensor.library(), fake.lib_path().display().to_string());
    let devices = sensor.devices().to_vec();
    assert_eq!(devices.len(), 1);
    let d = &devices[0];
    let parent = "GPU-4f1c2a9e-6b7d-4e21-9c3a-1a2b3c4d5e6f";
    assert_eq!(d.index, 0);
    assert_eq!(d.name, "NVIDIA A100-SXM4-40GB");
    assert_eq!(d.uuid, parent);
    assert_eq!(d.architecture, Some(7));
    // pciDeviceId 0x20B010DE: device id in the upper 16 bits.
    assert_eq!(d.pci_device_id, Some(0x20B0));
    assert!(d.has_energy_counter);
    let instance = |uuid: &str, profile: &str, gi: u32| MigInstance {
        uuid: uuid.to_string(),
        parent_uuid: parent.to_string(),
        profile: Some(profile.to_string()),
        gpu_instance_id: gi,
        compute_instance_id: 0,
    };
    assert_eq!(
        d.mig,
        Some(MigInfo {
            current_enabled: true,
            pending_enabled: true,
            instances: vec![
                instance("MIG-0a1b2c3d-1111-5e6f-8a9b-0c1d2e3f4a5b", "1g.5gb", 9),
                instance("MIG-0a1b2c3d-2222-5e6f-8a9b-0c1d2e3f4a5b", "2g.10gb", 5),
                instance("MIG-7e8f9a0b-3333-4c5d-9e6f-7a8b9c0d1e2f", "3g.20gb", 2),
            ],
        })
    );
    assert_eq!(sensor.update_period_ns(0), Some(COUNTER_UPDATE_PERIOD_NS));
    assert_eq!(sensor.update_period_ns(1), None);

    // The counter carries the energy used before init: 5,000,000 mJ plus at
    // most 180 W over the time since the sensor's origin (τ1 ≤ t1), + 1 mJ.
    let s = sensor.sample(0).unwrap();
    let e = s.energy_mj.unwrap();
    assert!(e >= 5_000_000, "{e}");
    assert!(
        e as f64 <= 5_000_000.0 + mj(180_000, s.t_ns) + 1.0,
        "{e} at {} ns",
        s.t_ns
    );
    assert_eq!(s.gated_units, None);
    assert_constant_power(&mut sensor, 0, 180_000);
}

#[test]
fn h100_without_mig() {
    let fake = FakeNvml::scenario("h100");
    let mut sensor = open(&fake);
    let d = &sensor.devices()[0];
    assert_eq!(d.name, "NVIDIA H100 80GB HBM3");
    assert_eq!(d.uuid, "GPU-9d3e1f20-5a6b-4c7d-8e9f-0a1b2c3d4e5f");
    assert_eq!(d.architecture, Some(9));
    assert_eq!(d.pci_device_id, Some(0x2330));
    assert!(d.has_energy_counter);
    // MIG-capable, switched off: a MigInfo with nothing in it.
    assert_eq!(
        d.mig,
        Some(MigInfo {
            current_enabled: false,
            pending_enabled: false,
            instances: vec![]
        })
    );
    assert_constant_power(&mut sensor, 0, 350_000);
}

#[test]
fn h200_with_seven_1g_18gb_instances() {
    let fake = FakeNvml::scenario("h200_mig");
    let mut sensor = open(&fake);
    let d = sensor.devices()[0].clone();
    assert_eq!(d.name, "NVIDIA H200");
    assert_eq!(d.architecture, Some(9));
    assert_eq!(d.pci_device_id, Some(0x2335));
    let mig = d.mig.unwrap();
    assert!(mig.current_enabled && mig.pending_enabled);
    assert_eq!(mig.instances.len(), 7);
    for (k, inst) in mig.instances.iter().enumerate() {
        assert_eq!(
            inst.uuid,
            format!("MIG-b1c2d3e4-000{k}-4f5a-8b6c-7d8e9f0a1b2c")
        );
        assert_eq!(inst.parent_uuid, d.uuid);
        assert_eq!(inst.profile.as_deref(), Some("1g.18gb"));
        // The scenario numbers the GPU instances 7..=13.
        assert_eq!(inst.gpu_instance_id, 7 + k as u32);
        assert_eq!(inst.compute_instance_id, 0);
    }
    // The measurement is the whole GPU's: 400 W, not a seventh of it.
    assert_constant_power(&mut sensor, 0, 400_000);
}

#[test]
fn b200_power_step_is_integrated_by_the_counter() {
    let fake = FakeNvml::scenario("b200");
    let mut sensor = open(&fake);
    let d = &sensor.devices()[0];
    assert_eq!(d.name, "NVIDIA B200");
    assert_eq!(d.architecture, Some(10));
    assert_eq!(d.pci_device_id, Some(0x2901));
    // MIG off now, on after the next reset.
    assert_eq!(
        d.mig,
        Some(MigInfo {
            current_enabled: false,
            pending_enabled: true,
            instances: vec![]
        })
    );

    let s1 = sensor.sample(0).unwrap();
    assert!(s1.t_ns < 250 * MS, "first sample too late: {} ns", s1.t_ns);
    assert_eq!(s1.power_mw, Some(200_000));
    sleep_until(&sensor, 500 * MS);
    let s2 = sensor.sample(0).unwrap();
    assert_eq!(s2.power_mw, Some(700_000));
    let delta = (s2.energy_mj.unwrap() - s1.energy_mj.unwrap()) as f64;
    // Ground truth with the step at 300 ms on the sensor clock:
    // 200 W × (300 ms − t1) + 700 W × (t2 − 300 ms).
    let expected = mj(200_000, 300 * MS - s1.t_ns) + mj(700_000, s2.t_ns - 300 * MS);
    // ε: 700 W × 2 ms = 1400 mJ; d ≤ 5 ms moves the step, changing the
    // split by (700 − 200) W × 5 ms = 2500 mJ; flooring 1 mJ.
    let tol = mj(700_000, 2 * MS) + mj(500_000, 5 * MS) + 1.0;
    assert!(
        (delta - expected).abs() <= tol,
        "counter delta {delta} mJ, expected {expected:.1} ± {tol:.1} mJ"
    );
}

#[test]
fn pascal_has_no_counter_and_reports_power_only() {
    let fake = FakeNvml::scenario("pascal");
    let mut sensor = open(&fake);
    let d = &sensor.devices()[0];
    assert_eq!(d.name, "Tesla P100-PCIE-16GB");
    assert_eq!(d.architecture, Some(4));
    assert_eq!(d.pci_device_id, Some(0x15F8));
    assert!(!d.has_energy_counter);
    // Not MIG-capable: NVML answers NOT_SUPPORTED, so the state is unknown.
    assert_eq!(d.mig, None);
    assert_eq!(
        sensor.update_period_ns(0),
        Some(POWER_ONLY_UPDATE_PERIOD_NS)
    );
    let s1 = sensor.sample(0).unwrap();
    let s2 = sensor.sample(0).unwrap();
    assert_eq!(s1.energy_mj, None);
    assert_eq!(s1.power_mw, Some(150_000));
    assert_eq!(s2.power_mw, Some(150_000));
    assert!(s2.t_ns >= s1.t_ns);
}

#[test]
fn counter_reset_shows_as_a_counter_that_goes_down() {
    let fake = FakeNvml::scenario("counter_reset");
    let mut sensor = open(&fake);
    let s1 = sensor.sample(0).unwrap();
    assert!(s1.t_ns < 250 * MS, "first sample too late: {} ns", s1.t_ns);
    let e1 = s1.energy_mj.unwrap();
    // Before the reset: 1,000,000 mJ start plus at most 300 W × t1 (+1).
    assert!(e1 >= 1_000_000);
    assert!(e1 as f64 <= 1_000_000.0 + mj(300_000, s1.t_ns) + 1.0);
    sleep_until(&sensor, 450 * MS);
    let s2 = sensor.sample(0).unwrap();
    let e2 = s2.energy_mj.unwrap();
    assert!(e2 < e1, "the counter should have gone down: {e1} then {e2}");
    // After the reset the counter counts from 0 at library time 300 ms:
    // e2 = 300 W × (τ2 − 300 ms) with τ2 = t2 − d − ε2 ∈ [t2 − 7 ms, t2].
    let hi = mj(300_000, s2.t_ns - 300 * MS) + 1.0;
    let lo = mj(300_000, s2.t_ns - 307 * MS) - 1.0;
    assert!((lo..=hi).contains(&(e2 as f64)), "{lo} ≤ {e2} ≤ {hi}");
    assert_eq!(s2.power_mw, Some(300_000));
}

#[test]
fn gpu_lost_mid_run_gives_device_lost() {
    let fake = FakeNvml::scenario("gpu_lost");
    let mut sensor = open(&fake);
    assert_eq!(sensor.devices().len(), 2);
    let before = sensor.sample(0).unwrap();
    assert!(
        before.t_ns < 250 * MS,
        "first sample too late: {} ns",
        before.t_ns
    );
    assert_eq!(before.power_mw, Some(250_000));
    sleep_until(&sensor, 350 * MS);
    assert_eq!(sensor.sample(0), Err(SensorError::DeviceLost { device: 0 }));
    // It stays lost.
    assert_eq!(sensor.sample(0), Err(SensorError::DeviceLost { device: 0 }));
    // The other GPU is unaffected.
    let other = sensor.sample(1).unwrap();
    assert_eq!(other.power_mw, Some(260_000));
    assert!(other.energy_mj.is_some());
    assert_eq!(
        sensor.sample(2),
        Err(SensorError::NoSuchDevice { device: 2 })
    );
}

#[test]
fn gpu_lost_during_discovery_is_an_error_not_a_panic() {
    let fake = FakeNvml::new(
        "gpu\nname NVIDIA H100 80GB HBM3\nuuid GPU-00000000-0000-4000-8000-000000000000\n\
         arch 9\npower 0 1000\nlost_at_ms 0\n",
    );
    let err = NvmlSensor::with_lib_path(fake.lib_path()).unwrap_err();
    assert_eq!(err, SensorError::DeviceLost { device: 0 });
}

#[test]
fn no_gpu_is_a_clear_error() {
    let fake = FakeNvml::scenario("no_gpu");
    match NvmlSensor::with_lib_path(fake.lib_path()).unwrap_err() {
        SensorError::NoDevices { what, hint } => {
            assert!(what.contains("NVML"), "{what}");
            assert!(
                what.contains(&fake.lib_path().display().to_string()),
                "{what}"
            );
            assert!(hint.contains("nvidia-smi"), "{hint}");
            assert!(hint.contains("--source jetson"), "{hint}");
        }
        other => panic!("expected NoDevices, got {other:?}"),
    }
}

#[test]
fn missing_library_is_unavailable_with_a_hint() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("no-such-libnvidia-ml.so.1");
    match NvmlSensor::with_lib_path(&path).unwrap_err() {
        SensorError::Unavailable { what, hint } => {
            assert!(what.contains("no-such-libnvidia-ml.so.1"), "{what}");
            assert!(hint.contains("NVIDIA driver"), "{hint}");
            assert!(hint.contains("WATTLEDGER_NVML_LIB"), "{hint}");
            assert!(hint.contains("--source replay"), "{hint}");
        }
        other => panic!("expected Unavailable, got {other:?}"),
    }
}

#[test]
fn a_library_that_is_not_nvml_is_unavailable() {
    // libc loads fine but exports no nvmlInit_v2.
    match NvmlSensor::with_lib_path("libc.so.6").unwrap_err() {
        SensorError::Unavailable { what, .. } => assert!(what.contains("libc.so.6"), "{what}"),
        other => panic!("expected Unavailable, got {other:?}"),
    }
}

#[test]
fn several_sensors_on_separate_copies_do_not_interfere() {
    // Two copies loaded at once, each with its own scenario and state.
    let a = FakeNvml::scenario("h100");
    let b = FakeNvml::scenario("pascal");
    let mut sa = open(&a);
    let mut sb = open(&b);
    assert_eq!(sa.devices()[0].architecture, Some(9));
    assert_eq!(sb.devices()[0].architecture, Some(4));
    assert_eq!(sa.sample(0).unwrap().power_mw, Some(350_000));
    assert_eq!(sb.sample(0).unwrap().power_mw, Some(150_000));
}

#[test]
fn sensor_is_send_and_samples_from_another_thread() {
    let fake = FakeNvml::scenario("h100");
    let mut sensor = open(&fake);
    let handle = std::thread::spawn(move || {
        let s = sensor.sample(0).unwrap();
        (s, sensor)
    });
    let (s, _sensor) = handle.join().unwrap();
    assert_eq!(s.power_mw, Some(350_000));
}

#[test]
fn profile_names_follow_nvml_mig_device_names() {
    assert_eq!(
        profile_from_name("NVIDIA A100-SXM4-40GB MIG 2g.10gb"),
        Some("2g.10gb")
    );
    assert_eq!(profile_from_name("NVIDIA H200"), None);
}

/// Through the Rust monitor API: a GPU lost part-way keeps the window's
/// whole length, its time after the loss uncovered; it is flagged, says
/// when, and is not complete; a recording of it holds a `lost` line that
/// a whole-trace replay reports the same way.
#[test]
fn monitor_keeps_a_lost_gpus_window_whole_and_uncovered() {
    use wattledger_core::meter::WindowFlags;
    use wattledger_std::monitor::{Monitor, MonitorConfig, whole_trace};
    use wattledger_std::trace::{RecordingSensor, Trace, TraceMeta};

    let fake = FakeNvml::scenario("gpu_lost");
    let sensor = open(&fake);
    let buffer = SharedBuffer::default();
    let (recording_sensor, recording) = RecordingSensor::new(
        Box::new(sensor),
        Box::new(buffer.clone()),
        &TraceMeta::new("nvml"),
    )
    .unwrap();
    let config = MonitorConfig {
        poll_interval: Some(Duration::from_millis(20)),
        ..MonitorConfig::default()
    };
    let monitor = Monitor::with_config(vec![Box::new(recording_sensor)], config).unwrap();
    monitor.begin_window("w").unwrap();
    std::thread::sleep(Duration::from_millis(600));
    let reports = monitor.end_window("w").unwrap();
    drop(monitor);
    recording.finish().unwrap();

    let (lost, kept) = (&reports[0], &reports[1]);
    assert!(lost.report.flags.contains(WindowFlags::DEVICE_LOST));
    assert!(!lost.is_complete());
    assert!(kept.is_complete());
    // Both windows span the same ≥ 600 ms (begin and end sample every
    // device; the lost one ends on its sensor's clock).
    assert!(lost.report.duration_ns >= 600 * MS, "{:?}", lost.report);
    let diff = lost.report.duration_ns.abs_diff(kept.report.duration_ns);
    assert!(diff < 10 * MS, "{diff} ns");
    // Lost 300 ms after init: readings cover at most 300 ms of ≥ 600 ms.
    assert!(lost.report.coverage > 0.0 && lost.report.coverage <= 0.5 + 1e-9);
    let lost_at = lost.lost_at_ns.expect("the loss time");
    assert!((300 * MS..500 * MS).contains(&lost_at), "{lost_at}");
    assert_eq!(kept.lost_at_ns, None);

    let trace = Trace::read(std::io::Cursor::new(buffer.bytes())).unwrap();
    assert_eq!(trace.lost.len(), 1);
    assert_eq!(trace.lost[0].device, 0);
    // The recorder and the monitor each read the clock when they see the
    // loss, microseconds apart.
    assert!(trace.lost[0].t_ns.abs_diff(lost_at) < 5 * MS);
    let whole = whole_trace(&trace, 100 * MS).unwrap();
    let r0 = &whole.reports[0];
    assert!(r0.report.flags.contains(WindowFlags::DEVICE_LOST));
    assert!(!r0.is_complete());
    assert_eq!(r0.lost_at_ns, Some(trace.lost[0].t_ns));
    // The replayed window runs to the trace's last time stamp, as live.
    assert!(r0.report.coverage < 0.6, "{}", r0.report.coverage);
    assert!(whole.reports[1].is_complete());
}

/// A `Write` whose bytes the test can read after the writer is gone.
#[derive(Clone, Default)]
struct SharedBuffer(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl SharedBuffer {
    fn bytes(&self) -> Vec<u8> {
        self.0.lock().unwrap().clone()
    }
}

impl std::io::Write for SharedBuffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
