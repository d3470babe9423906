//! Measure windows of a running program on every device at once.
//!
//! In the style of Zeus's `begin_window` / `end_window`: a [`Monitor`] owns
//! one or more [`Sensor`]s, polls every device they read on a background
//! thread, and feeds one core [`Meter`] per device. A window is begun and
//! ended by name from any thread; ending it gives one [`DeviceWindowReport`]
//! per device.
//!
//! `begin_window` and `end_window` take a fresh sample of every device
//! before they act, so a window's boundaries are as precise as the sensors'
//! clocks, not the polling interval. The polling in between keeps power
//! integration fine-grained and notices lost devices.
//!
//! A lost device's window still ends when the window ends (on its sensor's
//! clock, [`Sensor::now_ns`]), not at its last reading: the time after the
//! loss is uncovered, so its coverage says how much of the window it
//! measured, and its report is flagged `DEVICE_LOST` with the time of the
//! loss ([`DeviceWindowReport::lost_at_ns`]). Such an energy is a part, not
//! the whole: callers leave it out of totals ([`DeviceWindowReport::is_complete`]).
//!
//! MIG warnings are not produced here: each report carries its device's
//! [`DeviceInfo`], the meter's MIG context and, for a device presented
//! through [`crate::visible`], the physical GPU and MIG instances it stands
//! for ([`Sensor::measures`]), so
//! [`crate::mig_warnings::for_window`] can apply the rules to a set of
//! reports afterwards. [`whole_trace`] gives the same reports for a recorded
//! trace without a thread: one window over each device's samples.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use wattledger_core::meter::{
    Meter, MeterConfig, MeterError, MigContext, WINDOW_NAME_CAPACITY, WindowFlags, WindowReport,
};

use crate::sensors::{DeviceInfo, Sensor, SensorError};
use crate::trace::Trace;
use crate::visible::MeasuredGpu;

/// Polling interval when no sensor suggests one.
pub const DEFAULT_POLL_INTERVAL: Duration = Duration::from_millis(100);
/// Shortest polling interval a sensor's suggestion is raised to.
pub const MIN_SUGGESTED_POLL_INTERVAL: Duration = Duration::from_millis(10);
/// Longest polling interval a sensor's suggestion is lowered to.
pub const MAX_SUGGESTED_POLL_INTERVAL: Duration = Duration::from_secs(1);
/// Update period assumed for a device whose sensor does not give one
/// (NVML's energy counter refreshes about every 100 ms on recent GPUs).
pub const DEFAULT_UPDATE_PERIOD: Duration = Duration::from_millis(100);

/// Settings for one device, chosen by its UUID in [`MonitorConfig::per_device`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DeviceOptions {
    /// Idle power of the device: reports then split idle and dynamic energy.
    pub idle_baseline_mw: Option<u32>,
    /// Gateable compute units (Jetson TPCs): reports then count gated and
    /// powered unit-seconds.
    pub total_units: Option<u32>,
}

/// How a [`Monitor`] polls and judges its devices. `Default` picks
/// everything from the sensors.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MonitorConfig {
    /// How often the background thread samples every device. `None`: the
    /// shortest update period any sensor suggests, kept within
    /// [`MIN_SUGGESTED_POLL_INTERVAL`]..=[`MAX_SUGGESTED_POLL_INTERVAL`], or
    /// [`DEFAULT_POLL_INTERVAL`] when none does.
    pub poll_interval: Option<Duration>,
    /// Longest interval between power samples that is still integrated.
    /// `None`: five poll intervals, so a late poll or two is no gap but a
    /// stalled thread is.
    pub max_gap: Option<Duration>,
    /// The sources' update period, for the short-window flag. `None`: each
    /// sensor's own figure for the device, else [`DEFAULT_UPDATE_PERIOD`].
    pub update_period: Option<Duration>,
    /// Per-device options, keyed by the device's UUID ([`DeviceInfo::uuid`]).
    pub per_device: HashMap<String, DeviceOptions>,
}

/// Why a [`Monitor`] call failed. A failed call changes nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MonitorError {
    /// The sensors given have no device between them.
    NoDevices,
    /// The window request was refused: [`MeterError::AlreadyOpen`],
    /// [`MeterError::NotOpen`], [`MeterError::TooManyWindows`] or
    /// [`MeterError::NameTooLong`]; at construction, a device UUID or MIG
    /// profile too long for the meter ([`MeterError::MigTextTooLong`]).
    Window(MeterError),
    /// The background polling thread could not be started.
    Spawn(String),
}

impl fmt::Display for MonitorError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MonitorError::NoDevices => f.write_str("the sensors have no device to monitor"),
            MonitorError::Window(e) => write!(f, "{e}"),
            MonitorError::Spawn(e) => write!(f, "could not start the polling thread: {e}"),
        }
    }
}

impl std::error::Error for MonitorError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            MonitorError::Window(e) => Some(e),
            _ => None,
        }
    }
}

impl From<MeterError> for MonitorError {
    fn from(e: MeterError) -> Self {
        MonitorError::Window(e)
    }
}

/// One device's report on one window.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct DeviceWindowReport {
    /// The sensor's name for its source ("nvml", "jetson", "replay").
    pub source: String,
    /// The device, as its sensor described it.
    pub device: DeviceInfo,
    /// What the device's meter measured (flags include
    /// [`WindowFlags::DEVICE_LOST`](wattledger_core::meter::WindowFlags::DEVICE_LOST)
    /// when it stopped answering).
    pub report: WindowReport,
    /// Samples the meter refused while the monitor ran (a sensor whose
    /// clock went back); they were dropped.
    pub rejected_samples: u64,
    /// The last read error other than a lost device, if any, in words.
    pub last_error: Option<String>,
    /// What the device stands for when a [`crate::visible::VisibleSensor`]
    /// presented it ([`Sensor::measures`]): the physical GPU and the visible
    /// MIG instances its energy covers, counted once. `None` for a device
    /// measured for itself.
    pub measured: Option<MeasuredGpu>,
    /// When the device was noticed lost, on its sensor's clock (`None`:
    /// it answered to the end, or the loss time is unknown).
    pub lost_at_ns: Option<u64>,
}

impl DeviceWindowReport {
    /// Whether the report measured the device over the whole window: not
    /// lost. A lost device's energy stops at its loss, so it must not be
    /// added into a total as if it were the window's.
    pub fn is_complete(&self) -> bool {
        !self.report.flags.contains(WindowFlags::DEVICE_LOST)
    }
}

/// Stretch `report` to end at `end_ns` (a lost device's window goes on to
/// the end of the measurement): the added time is uncovered, so the
/// coverage falls; the energy is unchanged. A no-op when `end_ns` is not
/// later than the report's end.
fn extend_to(report: &mut WindowReport, end_ns: u64, update_period_ns: u64) {
    if end_ns <= report.end_ns {
        return;
    }
    report.end_ns = end_ns;
    report.duration_ns = end_ns.saturating_sub(report.start_ns);
    report.coverage = if report.duration_ns == 0 {
        0.0
    } else {
        (report.covered_ns as f64 / report.duration_ns as f64).clamp(0.0, 1.0)
    };
    if report.duration_ns >= update_period_ns {
        report.flags = WindowFlags::from_bits(
            report.flags.bits() & !WindowFlags::SHORTER_THAN_UPDATE_PERIOD.bits(),
        );
    }
}

/// Whether a device is still read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Status {
    Live,
    /// `DeviceLost` or `NoSuchDevice`: never read again.
    Lost,
    /// A replay sensor ran out of samples.
    Ended,
}

#[derive(Debug)]
struct Device {
    sensor: usize,
    index: u32,
    source: String,
    info: DeviceInfo,
    meter: Meter,
    status: Status,
    rejected: u64,
    last_error: Option<String>,
    measured: Option<MeasuredGpu>,
    lost_at_ns: Option<u64>,
}

struct State {
    sensors: Vec<Box<dyn Sensor>>,
    devices: Vec<Device>,
}

impl fmt::Debug for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("State")
            .field("sensors", &self.sensors.len())
            .field("devices", &self.devices)
            .finish()
    }
}

impl State {
    /// Sample every live device once and feed its meter.
    fn poll_all(&mut self) {
        let State { sensors, devices } = self;
        for dev in devices.iter_mut() {
            if dev.status != Status::Live {
                continue;
            }
            let Some(sensor) = sensors.get_mut(dev.sensor) else {
                continue;
            };
            match sensor.sample(dev.index) {
                Ok(s) => {
                    if dev.meter.ingest(s).is_err() {
                        dev.rejected += 1;
                    }
                }
                Err(SensorError::DeviceLost { .. }) | Err(SensorError::NoSuchDevice { .. }) => {
                    dev.meter.mark_device_lost();
                    dev.status = Status::Lost;
                    dev.lost_at_ns = sensor
                        .now_ns()
                        .or_else(|| dev.meter.last_sample().map(|s| s.t_ns));
                }
                Err(SensorError::EndOfTrace) => dev.status = Status::Ended,
                Err(e) => dev.last_error = Some(e.to_string()),
            }
        }
    }
}

#[derive(Debug)]
struct Shared {
    state: Mutex<State>,
    stop: Mutex<bool>,
    wake: Condvar,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic in a sensor on another thread must not take the monitor down:
    // the state is still consistent (each meter call is all-or-nothing).
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Polls devices in the background and measures named windows on all of them.
///
/// `Send + Sync`: share it (`&Monitor` or `Arc<Monitor>`) between threads.
/// Dropping it stops and joins the polling thread, then drops the sensors.
#[derive(Debug)]
pub struct Monitor {
    shared: Arc<Shared>,
    poller: Option<JoinHandle<()>>,
    poll_interval: Duration,
}

/// The MIG context of a device's meter, from what its sensor knows: a MIG
/// instance when the device is presented as one (its UUID is the
/// instance's), else the whole GPU.
///
/// # Errors
/// [`MeterError::MigTextTooLong`] when a UUID or profile does not fit.
pub fn mig_context(info: &DeviceInfo) -> Result<MigContext, MeterError> {
    let instance = info
        .mig
        .as_ref()
        .and_then(|m| m.instances.iter().find(|i| i.uuid == info.uuid));
    match instance {
        Some(i) => {
            MigContext::instance(&i.uuid, &i.parent_uuid, i.profile.as_deref().unwrap_or(""))
        }
        None if info.uuid.starts_with("MIG-") => MigContext::instance(&info.uuid, "", ""),
        None => MigContext::whole_gpu(&info.uuid),
    }
}

fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

impl Monitor {
    /// A monitor over `sensors` with the default [`MonitorConfig`].
    ///
    /// # Errors
    /// As [`Monitor::with_config`].
    pub fn new(sensors: Vec<Box<dyn Sensor>>) -> Result<Monitor, MonitorError> {
        Monitor::with_config(sensors, MonitorConfig::default())
    }

    /// A monitor over every device of every sensor in `sensors`, polling on
    /// a background thread started here.
    ///
    /// # Errors
    /// - [`MonitorError::NoDevices`] when the sensors have no device;
    /// - [`MonitorError::Window`] with [`MeterError::MigTextTooLong`] when a
    ///   device's UUID or MIG profile does not fit the meter's MIG context;
    /// - [`MonitorError::Spawn`] when the thread cannot be started.
    pub fn with_config(
        sensors: Vec<Box<dyn Sensor>>,
        config: MonitorConfig,
    ) -> Result<Monitor, MonitorError> {
        let suggested = sensors
            .iter()
            .flat_map(|s| {
                s.devices()
                    .iter()
                    .filter_map(|d| s.update_period_ns(d.index))
            })
            .min()
            .map(Duration::from_nanos);
        let poll_interval = config.poll_interval.unwrap_or_else(|| {
            suggested.map_or(DEFAULT_POLL_INTERVAL, |d| {
                d.clamp(MIN_SUGGESTED_POLL_INTERVAL, MAX_SUGGESTED_POLL_INTERVAL)
            })
        });
        let max_gap = config.max_gap.unwrap_or(poll_interval.saturating_mul(5));

        let mut devices = Vec::new();
        for (sensor_index, sensor) in sensors.iter().enumerate() {
            for info in sensor.devices() {
                let options = config
                    .per_device
                    .get(&info.uuid)
                    .copied()
                    .unwrap_or_default();
                let update_period_ns = config
                    .update_period
                    .map(nanos)
                    .or_else(|| sensor.update_period_ns(info.index))
                    .unwrap_or(nanos(DEFAULT_UPDATE_PERIOD));
                let meter_config = MeterConfig {
                    max_gap_ns: nanos(max_gap),
                    update_period_ns,
                    idle_baseline_mw: options.idle_baseline_mw,
                    total_units: options.total_units,
                };
                devices.push(Device {
                    sensor: sensor_index,
                    index: info.index,
                    source: sensor.source().to_owned(),
                    info: info.clone(),
                    meter: Meter::new(meter_config, mig_context(info)?),
                    status: Status::Live,
                    rejected: 0,
                    last_error: None,
                    measured: sensor.measures(info.index).cloned(),
                    lost_at_ns: None,
                });
            }
        }
        if devices.is_empty() {
            return Err(MonitorError::NoDevices);
        }
        let mut state = State { sensors, devices };
        // A first sample at once, so windows begun right away have a start.
        state.poll_all();
        let shared = Arc::new(Shared {
            state: Mutex::new(state),
            stop: Mutex::new(false),
            wake: Condvar::new(),
        });
        let thread_shared = Arc::clone(&shared);
        let poller = std::thread::Builder::new()
            .name("wattledger-monitor".into())
            .spawn(move || poll_loop(&thread_shared, poll_interval))
            .map_err(|e| MonitorError::Spawn(e.to_string()))?;
        Ok(Monitor {
            shared,
            poller: Some(poller),
            poll_interval,
        })
    }

    /// The interval the background thread polls at.
    pub fn poll_interval(&self) -> Duration {
        self.poll_interval
    }

    /// The devices monitored, in report order (sensor by sensor, index order).
    pub fn devices(&self) -> Vec<DeviceInfo> {
        lock(&self.shared.state)
            .devices
            .iter()
            .map(|d| d.info.clone())
            .collect()
    }

    /// Whether the window `name` is open.
    pub fn is_open(&self, name: &str) -> bool {
        lock(&self.shared.state)
            .devices
            .first()
            .is_some_and(|d| d.meter.is_open(name))
    }

    /// Sample every live device now, outside the polling schedule.
    pub fn poll_now(&self) {
        lock(&self.shared.state).poll_all();
    }

    /// Begin the window `name` on every device, at a fresh sample of each.
    ///
    /// # Errors
    /// [`MonitorError::Window`] with, checked in this order:
    /// [`MeterError::NameTooLong`] (more than [`WINDOW_NAME_CAPACITY`]
    /// bytes), [`MeterError::AlreadyOpen`], [`MeterError::TooManyWindows`].
    /// Nothing is sampled or opened then.
    pub fn begin_window(&self, name: &str) -> Result<(), MonitorError> {
        let mut state = lock(&self.shared.state);
        if name.len() > WINDOW_NAME_CAPACITY {
            return Err(MeterError::NameTooLong {
                len: name.len(),
                max: WINDOW_NAME_CAPACITY,
            }
            .into());
        }
        for dev in &state.devices {
            if dev.meter.is_open(name) {
                return Err(MeterError::AlreadyOpen.into());
            }
            if dev.meter.open_windows() >= dev.meter.window_capacity() {
                return Err(MeterError::TooManyWindows {
                    capacity: dev.meter.window_capacity(),
                }
                .into());
            }
        }
        state.poll_all();
        for i in 0..state.devices.len() {
            let result = state
                .devices
                .get_mut(i)
                .map_or(Ok(()), |d| d.meter.begin(name));
            if let Err(e) = result {
                // Cannot happen after the checks above; undo to stay all-or-nothing.
                for dev in state.devices.iter_mut().take(i) {
                    let _ = dev.meter.end(name);
                }
                return Err(e.into());
            }
        }
        Ok(())
    }

    /// End the window `name` on every device, at a fresh sample of each,
    /// and report on it: one report per device, in [`Monitor::devices`] order.
    ///
    /// A device that was lost still reports, flagged `DEVICE_LOST`: its
    /// energy up to its last good sample, over the whole window (to now on
    /// its sensor's clock, when the sensor has one), so that its coverage is
    /// below 1.
    ///
    /// # Errors
    /// [`MonitorError::Window`] with [`MeterError::NotOpen`] when no window
    /// `name` is open; nothing is sampled then.
    pub fn end_window(&self, name: &str) -> Result<Vec<DeviceWindowReport>, MonitorError> {
        let mut state = lock(&self.shared.state);
        if !state.devices.iter().all(|d| d.meter.is_open(name)) {
            return Err(MeterError::NotOpen.into());
        }
        state.poll_all();
        let State { sensors, devices } = &mut *state;
        let mut reports = Vec::with_capacity(devices.len());
        for dev in devices.iter_mut() {
            let mut report = dev.meter.end(name)?;
            if dev.status == Status::Lost {
                if let Some(now) = sensors.get(dev.sensor).and_then(|s| s.now_ns()) {
                    extend_to(&mut report, now, dev.meter.config().update_period_ns);
                }
            }
            reports.push(DeviceWindowReport {
                source: dev.source.clone(),
                device: dev.info.clone(),
                report,
                rejected_samples: dev.rejected,
                last_error: dev.last_error.clone(),
                measured: dev.measured.clone(),
                lost_at_ns: dev.lost_at_ns.filter(|_| dev.status == Status::Lost),
            });
        }
        Ok(reports)
    }
}

/// One window over each device's whole recorded trace, as a [`Monitor`]
/// would report it, computed at once.
///
/// Each device's samples are fed straight into a meter (no update-period
/// flag: a trace's samples are what they are) with `max_gap_ns` as the
/// longest interval still integrated. A device with no sample the meter
/// accepts gets no report and is listed in [`WholeTrace::without_samples`].
/// Reports carry the trace's recorded source (`meta.source`). A device
/// with a `lost` line is marked lost there, and its window runs to the
/// trace's last time stamp (any device's), as the live window did: the
/// time after the loss is uncovered.
///
/// # Errors
/// [`MonitorError::Window`] when a device's UUID or MIG profile does not fit
/// the meter's MIG context, or the meter refuses to end the window.
pub fn whole_trace(trace: &Trace, max_gap_ns: u64) -> Result<WholeTrace, MonitorError> {
    const WINDOW: &str = "trace";
    let mut out = WholeTrace::default();
    let trace_end = trace
        .samples
        .iter()
        .map(|s| s.sample.t_ns)
        .chain(trace.lost.iter().map(|l| l.t_ns))
        .max()
        .unwrap_or(0);
    for info in &trace.devices {
        let lost_at = trace
            .lost
            .iter()
            .find(|l| l.device == info.index)
            .map(|l| l.t_ns);
        let mut marked = false;
        let config = MeterConfig {
            update_period_ns: 0,
            max_gap_ns,
            ..MeterConfig::default()
        };
        let mut meter: Meter = Meter::new(config, mig_context(info)?);
        let mut rejected = 0u64;
        let mut begun = false;
        for s in trace.samples.iter().filter(|s| s.device == info.index) {
            if lost_at.is_some_and(|t| !marked && s.sample.t_ns > t) {
                meter.mark_device_lost();
                marked = true;
            }
            if meter.ingest(s.sample).is_err() {
                rejected += 1;
                continue;
            }
            if !begun {
                begun = meter.begin(WINDOW).is_ok();
            }
        }
        if !begun {
            out.without_samples.push(info.clone());
            continue;
        }
        if lost_at.is_some() && !marked {
            meter.mark_device_lost();
        }
        let mut report = meter.end(WINDOW)?;
        if lost_at.is_some() {
            extend_to(&mut report, trace_end, 0);
        }
        out.reports.push(DeviceWindowReport {
            source: trace.meta.source.clone(),
            device: info.clone(),
            report,
            rejected_samples: rejected,
            last_error: None,
            measured: None,
            lost_at_ns: lost_at,
        });
    }
    Ok(out)
}

/// What [`whole_trace`] found.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct WholeTrace {
    /// One report per device with samples, in the trace's device order.
    pub reports: Vec<DeviceWindowReport>,
    /// The devices without a sample the meter accepted.
    pub without_samples: Vec<DeviceInfo>,
}

fn poll_loop(shared: &Shared, interval: Duration) {
    loop {
        {
            let stop = lock(&shared.stop);
            let (stop, _) = shared
                .wake
                .wait_timeout_while(stop, interval, |stop| !*stop)
                .unwrap_or_else(PoisonError::into_inner);
            if *stop {
                return;
            }
        }
        lock(&shared.state).poll_all();
    }
}

impl Drop for Monitor {
    fn drop(&mut self) {
        *lock(&self.shared.stop) = true;
        self.shared.wake.notify_all();
        if let Some(handle) = self.poller.take() {
            // A sensor that panicked on the thread has already been reported
            // by the panic hook; dropping must not panic again.
            let _ = handle.join();
        }
    }
}
