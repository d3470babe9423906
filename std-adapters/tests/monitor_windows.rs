//! The monitor over a scripted sensor: a deterministic `Sensor` whose every
//! reading advances a virtual clock by a fixed step at a fixed power, so
//! each expected energy can be worked out by hand.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use wattledger_core::meter::{MeterError, Method, Sample, WindowFlags};
use wattledger_std::monitor::{DeviceOptions, Monitor, MonitorConfig, MonitorError};
use wattledger_std::sensors::{DeviceInfo, MigInfo, MigInstance, Sensor, SensorError};

const MS: u64 = 1_000_000;
const HOUR: Duration = Duration::from_secs(3600);

/// One scripted device.
#[derive(Clone)]
struct Script {
    /// Constant power in milliwatts.
    power_mw: u32,
    /// Whether readings carry the energy counter (else power only).
    counter: bool,
    /// Virtual time between two readings.
    step_ns: u64,
    /// After this many good readings, the device is lost.
    lost_after: Option<u64>,
    /// Suggested update period.
    update_period_ns: Option<u64>,
}

struct Scripted {
    devices: Vec<DeviceInfo>,
    scripts: Vec<Script>,
    clocks: Vec<u64>,
    /// Readings taken per device, visible from the test.
    calls: Arc<Vec<AtomicU64>>,
    dropped: Arc<AtomicBool>,
}

impl Scripted {
    fn new(scripts: Vec<Script>) -> (Scripted, Arc<Vec<AtomicU64>>, Arc<AtomicBool>) {
        let devices = (0..scripts.len() as u32)
            .map(|i| DeviceInfo {
                index: i,
                name: format!("Scripted {i}"),
                uuid: format!("GPU-0000000{i}"),
                has_energy_counter: scripts[i as usize].counter,
                ..DeviceInfo::default()
            })
            .collect();
        let calls: Arc<Vec<AtomicU64>> =
            Arc::new(scripts.iter().map(|_| AtomicU64::new(0)).collect());
        let dropped = Arc::new(AtomicBool::new(false));
        let clocks = vec![0; scripts.len()];
        (
            Scripted {
                devices,
                scripts,
                clocks,
                calls: Arc::clone(&calls),
                dropped: Arc::clone(&dropped),
            },
            calls,
            dropped,
        )
    }
}

impl Drop for Scripted {
    fn drop(&mut self) {
        self.dropped.store(true, Ordering::SeqCst);
    }
}

impl Sensor for Scripted {
    fn source(&self) -> &str {
        "scripted"
    }
    fn devices(&self) -> &[DeviceInfo] {
        &self.devices
    }
    fn sample(&mut self, device: u32) -> Result<Sample, SensorError> {
        let i = device as usize;
        let script = self
            .scripts
            .get(i)
            .ok_or(SensorError::NoSuchDevice { device })?;
        let n = self.calls[i].load(Ordering::SeqCst);
        if script.lost_after.is_some_and(|k| n >= k) {
            return Err(SensorError::DeviceLost { device });
        }
        self.calls[i].fetch_add(1, Ordering::SeqCst);
        self.clocks[i] += script.step_ns;
        let t = self.clocks[i];
        // Energy so far at constant power: mW × ns / 1e9 = mJ.
        let energy_mj = u64::from(script.power_mw) * t / 1_000_000_000;
        Ok(Sample {
            t_ns: t,
            energy_mj: script.counter.then_some(energy_mj),
            power_mw: Some(script.power_mw),
            gated_units: None,
        })
    }
    fn update_period_ns(&self, device: u32) -> Option<u64> {
        self.scripts.get(device as usize)?.update_period_ns
    }
}

fn counter_100w() -> Script {
    Script {
        power_mw: 100_000,
        counter: true,
        step_ns: 10 * MS,
        lost_after: None,
        update_period_ns: Some(5 * MS),
    }
}

fn power_50w() -> Script {
    Script {
        power_mw: 50_000,
        counter: false,
        step_ns: 10 * MS,
        lost_after: None,
        update_period_ns: None,
    }
}

fn quiet() -> MonitorConfig {
    MonitorConfig {
        poll_interval: Some(HOUR),
        ..MonitorConfig::default()
    }
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * b.abs().max(1.0)
}

#[test]
fn one_report_per_device_with_hand_computed_energy() {
    let (sensor, calls, _) = Scripted::new(vec![counter_100w(), power_50w()]);
    let monitor = Monitor::with_config(vec![Box::new(sensor)], quiet()).unwrap();
    // Construction samples each device once (t = 10 ms).
    monitor.begin_window("step").unwrap(); // second reading: t = 20 ms
    let reports = monitor.end_window("step").unwrap(); // third: t = 30 ms
    assert_eq!(calls[0].load(Ordering::SeqCst), 3);
    assert_eq!(reports.len(), 2);

    let r0 = &reports[0];
    assert_eq!(r0.device.uuid, "GPU-00000000");
    assert_eq!(r0.source, "scripted");
    assert_eq!((r0.report.start_ns, r0.report.end_ns), (20 * MS, 30 * MS));
    // Counter: 100 W × 30 ms = 3000 mJ minus 100 W × 20 ms = 2000 mJ → 1 J.
    assert!(close(r0.report.energy_j, 1.0), "{}", r0.report.energy_j);
    assert_eq!(r0.report.method, Method::Counter);
    // Sensor suggests 5 ms: a 10 ms window is not short.
    assert!(r0.report.flags.is_empty(), "{:?}", r0.report.flags);

    let r1 = &reports[1];
    // Trapezoid: 50 W × 10 ms = 0.5 J.
    assert!(close(r1.report.energy_j, 0.5), "{}", r1.report.energy_j);
    assert_eq!(r1.report.method, Method::Power);
    // No suggestion: 100 ms default, so a 10 ms window is flagged short,
    // and the estimate is 50 W × 10 ms = 0.5 J.
    assert!(
        r1.report
            .flags
            .contains(WindowFlags::SHORTER_THAN_UPDATE_PERIOD)
    );
    assert!(close(r1.report.power_estimate_j.unwrap(), 0.5));

    // Reports serialize for the exporters.
    let json = serde_json::to_value(&reports).unwrap();
    assert_eq!(json[1]["report"]["method"], "Power");
    assert_eq!(json[0]["device"]["uuid"], "GPU-00000000");
}

#[test]
fn background_thread_polls_between_boundaries() {
    let (sensor, calls, _) = Scripted::new(vec![counter_100w(), power_50w()]);
    let config = MonitorConfig {
        poll_interval: Some(Duration::from_millis(5)),
        ..MonitorConfig::default()
    };
    let monitor = Monitor::with_config(vec![Box::new(sensor)], config).unwrap();
    monitor.begin_window("sleep").unwrap();
    let after_begin = calls[0].load(Ordering::SeqCst);
    std::thread::sleep(Duration::from_millis(200));
    let reports = monitor.end_window("sleep").unwrap();
    let polled = calls[0].load(Ordering::SeqCst) - after_begin - 1; // minus end's own
    assert!(
        polled >= 3,
        "the thread polled only {polled} times in 200 ms"
    );
    // Each reading is 10 virtual ms later: the window spans (polled + 1) steps.
    let steps = polled + 1;
    for (r, watts) in reports.iter().zip([100.0, 50.0]) {
        assert_eq!(r.report.duration_ns, steps * 10 * MS);
        // Constant power: energy = P × duration.
        let expected = watts * r.report.duration_ns as f64 * 1e-9;
        assert!(
            close(r.report.energy_j, expected),
            "{} vs {expected}",
            r.report.energy_j
        );
        assert!(close(r.report.coverage, 1.0));
    }
}

#[test]
fn lost_device_is_flagged_and_others_continue() {
    let mut lost = power_50w();
    lost.lost_after = Some(2); // construction and begin succeed, end fails
    let (sensor, calls, _) = Scripted::new(vec![counter_100w(), lost]);
    let monitor = Monitor::with_config(vec![Box::new(sensor)], quiet()).unwrap();
    monitor.begin_window("a").unwrap();
    let reports = monitor.end_window("a").unwrap();
    assert!(!reports[0].report.flags.contains(WindowFlags::DEVICE_LOST));
    assert!(close(reports[0].report.energy_j, 1.0)); // as above: 100 W × 10 ms
    let r1 = &reports[1].report;
    assert!(r1.flags.contains(WindowFlags::DEVICE_LOST));
    // Lost at the end: the window stops at its begin sample, nothing measured.
    assert_eq!(r1.duration_ns, 0);
    assert!(close(r1.energy_j, 0.0));

    // The lost device is not read again; its new windows are flagged too.
    monitor.begin_window("b").unwrap();
    monitor.end_window("b").unwrap();
    monitor.begin_window("c").unwrap();
    let reports = monitor.end_window("c").unwrap();
    assert_eq!(calls[1].load(Ordering::SeqCst), 2);
    assert!(reports[1].report.flags.contains(WindowFlags::DEVICE_LOST));
    assert!(!reports[0].report.flags.contains(WindowFlags::DEVICE_LOST));
    assert!(close(reports[0].report.energy_j, 1.0));
}

#[test]
fn window_errors_are_typed_and_change_nothing() {
    let (sensor, calls, _) = Scripted::new(vec![counter_100w()]);
    let monitor = Monitor::with_config(vec![Box::new(sensor)], quiet()).unwrap();
    monitor.begin_window("a").unwrap();
    let before = calls[0].load(Ordering::SeqCst);
    assert_eq!(
        monitor.begin_window("a"),
        Err(MonitorError::Window(MeterError::AlreadyOpen))
    );
    assert_eq!(
        monitor.end_window("b"),
        Err(MonitorError::Window(MeterError::NotOpen))
    );
    let long = "n".repeat(33);
    assert_eq!(
        monitor.begin_window(&long),
        Err(MonitorError::Window(MeterError::NameTooLong {
            len: 33,
            max: 32
        }))
    );
    // Refused calls took no reading.
    assert_eq!(calls[0].load(Ordering::SeqCst), before);
    assert!(monitor.is_open("a"));
    for i in 1..32 {
        monitor.begin_window(&format!("w{i}")).unwrap();
    }
    assert_eq!(
        monitor.begin_window("one too many"),
        Err(MonitorError::Window(MeterError::TooManyWindows {
            capacity: 32
        }))
    );
    assert!(!monitor.is_open("one too many"));
}

#[test]
fn no_devices_is_an_error() {
    let (sensor, _, _) = Scripted::new(vec![]);
    assert_eq!(
        Monitor::new(vec![Box::new(sensor)]).err(),
        Some(MonitorError::NoDevices)
    );
    assert_eq!(Monitor::new(vec![]).err(), Some(MonitorError::NoDevices));
}

#[test]
fn windows_from_many_threads() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Monitor>();

    let (sensor, _, _) = Scripted::new(vec![counter_100w(), power_50w()]);
    let config = MonitorConfig {
        poll_interval: Some(Duration::from_millis(2)),
        ..MonitorConfig::default()
    };
    let monitor = Monitor::with_config(vec![Box::new(sensor)], config).unwrap();
    let all = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for t in 0..4 {
            let (monitor, all) = (&monitor, &all);
            scope.spawn(move || {
                for round in 0..10 {
                    let name = format!("t{t}-r{round}");
                    monitor.begin_window(&name).unwrap();
                    std::thread::sleep(Duration::from_millis(1));
                    let reports = monitor.end_window(&name).unwrap();
                    all.lock().unwrap().push(reports);
                }
            });
        }
    });
    let all = all.into_inner().unwrap();
    assert_eq!(all.len(), 40);
    for reports in all {
        assert_eq!(reports.len(), 2);
        for (r, watts) in reports.iter().zip([100.0, 50.0]) {
            // Whatever the interleaving, each device's window holds whole
            // 10 ms steps at constant power: energy = P × duration.
            assert!(r.report.duration_ns >= 10 * MS);
            assert_eq!(r.report.duration_ns % (10 * MS), 0);
            let expected = watts * r.report.duration_ns as f64 * 1e-9;
            assert!(close(r.report.energy_j, expected));
        }
    }
}

#[test]
fn drop_stops_the_thread_promptly_and_releases_sensors() {
    let (sensor, _, dropped) = Scripted::new(vec![counter_100w()]);
    let monitor = Monitor::with_config(vec![Box::new(sensor)], quiet()).unwrap();
    monitor.begin_window("left open").unwrap();
    let started = Instant::now();
    drop(monitor);
    // The thread waits on a condition variable, not an hour-long sleep.
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(
        dropped.load(Ordering::SeqCst),
        "the sensor outlived the monitor"
    );
}

#[test]
fn poll_interval_follows_the_sensor_suggestion() {
    let mut a = counter_100w();
    a.update_period_ns = Some(20 * MS);
    let mut b = power_50w();
    b.update_period_ns = Some(50 * MS);
    let (sensor, _, _) = Scripted::new(vec![a, b]);
    let monitor = Monitor::new(vec![Box::new(sensor)]).unwrap();
    // The smallest suggestion: 20 ms.
    assert_eq!(monitor.poll_interval(), Duration::from_millis(20));

    let (sensor, _, _) = Scripted::new(vec![power_50w()]);
    let monitor = Monitor::new(vec![Box::new(sensor)]).unwrap();
    assert_eq!(monitor.poll_interval(), Duration::from_millis(100));
}

#[test]
fn per_device_options_and_mig_context() {
    let (mut sensor, _, _) = Scripted::new(vec![counter_100w(), power_50w()]);
    sensor.devices[1].uuid = "MIG-1111".into();
    sensor.devices[1].mig = Some(MigInfo {
        current_enabled: true,
        pending_enabled: true,
        instances: vec![MigInstance {
            uuid: "MIG-1111".into(),
            parent_uuid: "GPU-9999".into(),
            profile: Some("3g.40gb".into()),
            gpu_instance_id: 1,
            compute_instance_id: 0,
        }],
    });
    let mut config = quiet();
    config.per_device.insert(
        "GPU-00000000".into(),
        DeviceOptions {
            idle_baseline_mw: Some(40_000),
            total_units: None,
        },
    );
    let monitor = Monitor::with_config(vec![Box::new(sensor)], config).unwrap();
    monitor.begin_window("w").unwrap();
    let reports = monitor.end_window("w").unwrap();

    // Device 0: 1 J over 10 ms; idle 40 W × 10 ms = 0.4 J; dynamic 0.6 J.
    let split = reports[0].report.split.unwrap();
    assert!(
        close(split.idle_j, 0.4) && close(split.dynamic_j, 0.6),
        "{split:?}"
    );
    assert!(!reports[0].report.mig.is_mig);
    assert_eq!(reports[0].report.mig.device_uuid.as_str(), "GPU-00000000");
    assert_eq!(reports[1].report.split, None);

    let mig = &reports[1].report.mig;
    assert!(mig.is_mig);
    assert_eq!(mig.parent_uuid.as_str(), "GPU-9999");
    assert_eq!(mig.profile.as_str(), "3g.40gb");
    assert!(
        reports[1]
            .report
            .flags
            .contains(WindowFlags::MIG_PARENT_ENERGY)
    );
    assert_eq!(reports[1].device.uuid, "MIG-1111");
}

/// A sensor whose clock goes back once: the sample is dropped and counted.
struct Backwards {
    devices: Vec<DeviceInfo>,
    times: Vec<u64>,
}

impl Sensor for Backwards {
    fn source(&self) -> &str {
        "backwards"
    }
    fn devices(&self) -> &[DeviceInfo] {
        &self.devices
    }
    fn sample(&mut self, _device: u32) -> Result<Sample, SensorError> {
        if self.times.is_empty() {
            return Err(SensorError::EndOfTrace);
        }
        let t = self.times.remove(0);
        Ok(Sample {
            t_ns: t,
            energy_mj: None,
            power_mw: Some(10_000),
            gated_units: None,
        })
    }
}

#[test]
fn bad_sensor_clock_is_dropped_and_trace_end_stops_reading() {
    let sensor = Backwards {
        devices: vec![DeviceInfo {
            uuid: "GPU-b".into(),
            ..DeviceInfo::default()
        }],
        // construction, begin, poll_now (goes back), poll_now; then the trace ends.
        times: vec![100 * MS, 200 * MS, 150 * MS, 300 * MS],
    };
    let monitor = Monitor::with_config(vec![Box::new(sensor)], quiet()).unwrap();
    monitor.begin_window("w").unwrap(); // at 200 ms
    monitor.poll_now(); // 150 ms: refused
    monitor.poll_now(); // 300 ms
    let reports = monitor.end_window("w").unwrap(); // end of trace: ends at 300 ms
    let r = &reports[0];
    assert_eq!(r.rejected_samples, 1);
    assert_eq!((r.report.start_ns, r.report.end_ns), (200 * MS, 300 * MS));
    // 10 W × 100 ms = 1 J.
    assert!(close(r.report.energy_j, 1.0));
    assert!(!r.report.flags.contains(WindowFlags::DEVICE_LOST));
}
