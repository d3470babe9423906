//! `wattledger measure`: run a command and measure every visible GPU.

use std::fs::File;
use std::io::{BufWriter, IsTerminal, Write};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use serde::Serialize;
use wattledger_core::meter::{Meter, MeterConfig, MigContext, Sample, WindowFlags, WindowReport};
use wattledger_core::mig::{Architecture, CheckOptions, ResultRecord};
use wattledger_std::mig_warnings::{self, MigWarning};
use wattledger_std::monitor::{Monitor, MonitorConfig};
use wattledger_std::sensors::jetson::{JetsonConfig, JetsonSensor};
use wattledger_std::sensors::replay::{Recorder, Trace, TraceMeta};
use wattledger_std::sensors::{DeviceInfo, Sensor, SensorError};

use crate::format::{pct, print_json, si};
use crate::{CliError, CliResult, Source, exit, write_atomically};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Where readings come from: nvml, jetson, jetson:ROOT or replay:FILE.
    #[arg(long, default_value = "nvml", value_name = "SOURCE")]
    source: Source,
    /// Polling interval in milliseconds (default: from the sensor, 10–1000 ms).
    #[arg(long, value_name = "MS")]
    interval: Option<u64>,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
    /// Write the report to FILE instead of stdout.
    #[arg(long, short = 'o', value_name = "FILE")]
    output: Option<PathBuf>,
    /// Record every sample as a replay trace (wattledger-trace/1) in FILE.
    #[arg(long, value_name = "FILE")]
    record: Option<PathBuf>,
    /// Write the results in node_exporter textfile format to FILE (atomically).
    #[arg(long, value_name = "FILE")]
    prometheus: Option<PathBuf>,
    /// The command to run and its arguments (after `--`). With
    /// `--source replay:FILE` and no command, the whole trace is analysed.
    #[arg(last = true, value_name = "COMMAND")]
    command: Vec<String>,
}

/// What the command reports on one measured device.
#[derive(Debug, Clone, Serialize)]
struct DeviceResult {
    source: String,
    device: DeviceInfo,
    /// The physical GPU's name and architecture (same as `device` unless a
    /// MIG instance is presented).
    parent_name: String,
    /// `CUDA_VISIBLE_DEVICES` MIG instances this GPU's energy covers.
    mig_instances: Vec<String>,
    energy_j: f64,
    duration_s: f64,
    average_power_w: Option<f64>,
    coverage: f64,
    method: String,
    flags: Vec<&'static str>,
    counter_resets: u32,
    gaps: u32,
    power_estimate_j: Option<f64>,
    is_mig: bool,
    parent_uuid: String,
    mig_profile: String,
    start_s: f64,
    end_s: f64,
    rejected_samples: u64,
    last_error: Option<String>,
}

#[derive(Debug, Serialize)]
struct MeasureJson {
    source: String,
    command: Vec<String>,
    exit_code: Option<i32>,
    wall_s: Option<f64>,
    devices: Vec<DeviceResult>,
    total_energy_j: f64,
    mig_warnings: Vec<MigWarning>,
    warnings: Vec<String>,
}

fn flag_names(flags: WindowFlags) -> Vec<&'static str> {
    [
        (WindowFlags::COUNTER_RESET, "counter_reset"),
        (WindowFlags::GAP, "gap"),
        (
            WindowFlags::SHORTER_THAN_UPDATE_PERIOD,
            "shorter_than_update_period",
        ),
        (WindowFlags::DEVICE_LOST, "device_lost"),
        (WindowFlags::BELOW_BASELINE, "below_baseline"),
        (WindowFlags::MIG_PARENT_ENERGY, "mig_parent_energy"),
        (WindowFlags::LATE_START, "late_start"),
    ]
    .into_iter()
    .filter(|(f, _)| flags.contains(*f))
    .map(|(_, n)| n)
    .collect()
}

/// A view of a sensor: only some of its devices, renumbered 0.., each
/// presented as the caller wants (a MIG instance in place of its parent),
/// optionally recording every sample it hands out.
struct View {
    inner: Box<dyn Sensor>,
    /// Inner index of each presented device.
    map: Vec<u32>,
    devices: Vec<DeviceInfo>,
    recorder: Option<SharedRecorder>,
}

type SharedRecorder = Arc<Mutex<RecorderState>>;

struct RecorderState {
    recorder: Option<Recorder<BufWriter<File>>>,
    error: Option<String>,
}

impl Sensor for View {
    fn source(&self) -> &str {
        self.inner.source()
    }
    fn devices(&self) -> &[DeviceInfo] {
        &self.devices
    }
    fn sample(&mut self, device: u32) -> Result<Sample, SensorError> {
        let inner = *self
            .map
            .get(device as usize)
            .ok_or(SensorError::NoSuchDevice { device })?;
        let s = self.inner.sample(inner)?;
        if let Some(r) = &self.recorder {
            let mut st = r.lock().unwrap_or_else(PoisonError::into_inner);
            if st.error.is_none() {
                if let Some(rec) = st.recorder.as_mut() {
                    if let Err(e) = rec.record(device, &s) {
                        st.error = Some(e.to_string());
                    }
                }
            }
        }
        Ok(s)
    }
    fn update_period_ns(&self, device: u32) -> Option<u64> {
        self.map
            .get(device as usize)
            .and_then(|&i| self.inner.update_period_ns(i))
    }
}

/// A device to measure and what it covers.
struct Planned {
    inner_index: u32,
    presented: DeviceInfo,
    parent: DeviceInfo,
    mig_instances: Vec<String>,
}

/// Opens the sensor `source` names.
pub fn open_sensor(source: &Source) -> CliResult<Box<dyn Sensor>> {
    match source {
        Source::Nvml => open_nvml(),
        Source::Jetson(root) => {
            let s = match root {
                None => JetsonSensor::new(),
                Some(r) => JetsonSensor::with_config(JetsonConfig::with_root(r)),
            };
            s.map(|s| Box::new(s) as Box<dyn Sensor>)
                .map_err(|e| CliError::no_device(format!("no Jetson power rails: {e}")))
        }
        Source::Replay(path) => wattledger_std::sensors::replay::ReplaySensor::from_path(path)
            .map(|s| Box::new(s) as Box<dyn Sensor>)
            .map_err(|e| {
                CliError::input(format!(
                    "cannot replay {}: {e}; see docs/trace-format.md",
                    path.display()
                ))
            }),
    }
}

#[cfg(feature = "nvml")]
fn open_nvml() -> CliResult<Box<dyn Sensor>> {
    wattledger_std::sensors::nvml::NvmlSensor::from_env()
        .map(|s| Box::new(s) as Box<dyn Sensor>)
        .map_err(|e| CliError::no_device(format!("cannot measure with NVML: {e}")))
}

#[cfg(not(feature = "nvml"))]
fn open_nvml() -> CliResult<Box<dyn Sensor>> {
    Err(CliError::no_device(
        "this wattledger was built without NVML (feature `nvml`); use --source jetson or --source replay:FILE",
    ))
}

/// The devices to measure: for NVML, the GPUs `CUDA_VISIBLE_DEVICES`
/// leaves visible, each physical GPU once.
fn plan(sensor: &dyn Sensor, warnings: &mut Vec<String>) -> CliResult<Vec<Planned>> {
    let all = sensor.devices();
    let plain = |d: &DeviceInfo| Planned {
        inner_index: d.index,
        presented: d.clone(),
        parent: d.clone(),
        mig_instances: Vec::new(),
    };
    #[cfg(feature = "nvml")]
    if sensor.source() == "nvml" {
        let visible = wattledger_std::sensors::nvml::cuda_visible_devices_from_env(all);
        if let Some(bad) = &visible.stopped_at {
            warnings.push(format!(
                "CUDA_VISIBLE_DEVICES: token `{}` ({:?}) and everything after it are ignored, as CUDA ignores them",
                bad.token, bad.problem
            ));
        }
        if visible.visible.is_empty() {
            return Err(CliError::no_device(
                "CUDA_VISIBLE_DEVICES hides every GPU; unset it or name a GPU (`wattledger devices` lists them)",
            ));
        }
        let mut out = Vec::new();
        for parent_index in visible.parent_devices() {
            let Some(parent) = all.iter().find(|d| d.index == parent_index) else {
                continue;
            };
            let instances: Vec<String> = visible
                .visible
                .iter()
                .filter(|v| v.device == parent_index)
                .filter_map(|v| v.mig_uuid.clone())
                .collect();
            let mut presented = parent.clone();
            if instances.len() == 1 {
                // One MIG instance: present it, so the meter tags its
                // results as that instance's (the energy is still the parent's).
                if let Some(uuid) = instances.first() {
                    let profile = parent
                        .mig
                        .as_ref()
                        .and_then(|m| m.instances.iter().find(|i| &i.uuid == uuid))
                        .and_then(|i| i.profile.clone());
                    presented.uuid = uuid.clone();
                    presented.name = format!(
                        "{} MIG {}",
                        parent.name,
                        profile.as_deref().unwrap_or("(profile unknown)")
                    );
                }
            }
            out.push(Planned {
                inner_index: parent_index,
                presented,
                parent: parent.clone(),
                mig_instances: instances,
            });
        }
        return Ok(out);
    }
    Ok(all.iter().map(plain).collect())
}

fn mig_context(info: &DeviceInfo) -> MigContext {
    let instance = info
        .mig
        .as_ref()
        .and_then(|m| m.instances.iter().find(|i| i.uuid == info.uuid));
    let ctx = match instance {
        Some(i) => {
            MigContext::instance(&i.uuid, &i.parent_uuid, i.profile.as_deref().unwrap_or(""))
        }
        None => MigContext::whole_gpu(&info.uuid),
    };
    ctx.unwrap_or_default()
}

fn result_of(
    source: &str,
    planned: &Planned,
    report: &WindowReport,
    rejected: u64,
    last_error: Option<String>,
) -> DeviceResult {
    DeviceResult {
        source: source.to_string(),
        device: planned.presented.clone(),
        parent_name: planned.parent.name.clone(),
        mig_instances: planned.mig_instances.clone(),
        energy_j: report.energy_j,
        duration_s: report.duration_ns as f64 * 1e-9,
        average_power_w: report.mean_power_w(),
        coverage: report.coverage,
        method: format!("{:?}", report.method).to_lowercase(),
        flags: flag_names(report.flags),
        counter_resets: report.counter_resets,
        gaps: report.gaps,
        power_estimate_j: report.power_estimate_j,
        is_mig: report.mig.is_mig,
        parent_uuid: report.mig.parent_uuid.to_string(),
        mig_profile: report.mig.profile.to_string(),
        start_s: report.start_ns as f64 * 1e-9,
        end_s: report.end_ns as f64 * 1e-9,
        rejected_samples: rejected,
        last_error,
    }
}

/// Runs the MIG rules over the measured results: one record per visible
/// MIG instance (each carrying its parent's energy), or one per whole GPU.
fn mig_warnings(results: &[DeviceResult], warnings: &mut Vec<String>) -> Vec<MigWarning> {
    struct Owned {
        id: String,
        uuid: String,
        parent: String,
        profile: String,
        is_mig: bool,
        arch: Architecture,
        model: String,
        energy: f64,
        start: f64,
        end: f64,
    }
    let mut owned = Vec::new();
    for r in results {
        let arch = r.device.architecture.map_or(
            Architecture::Unknown(Architecture::NVML_UNKNOWN),
            Architecture::from_nvml,
        );
        let parent_uuid = if r.is_mig && !r.parent_uuid.is_empty() {
            r.parent_uuid.clone()
        } else {
            r.device.uuid.clone()
        };
        let instances = r
            .device
            .mig
            .as_ref()
            .map(|m| m.instances.clone())
            .unwrap_or_default();
        if r.mig_instances.is_empty() {
            if let Some(m) = &r.device.mig {
                if m.current_enabled && !r.is_mig {
                    warnings.push(format!(
                        "{} ({}) is in MIG mode with {} instance(s); its energy covers all of them",
                        r.device.name,
                        r.device.uuid,
                        m.instances.len()
                    ));
                }
            }
            owned.push(Owned {
                id: format!("{}:{}", r.source, r.device.index),
                uuid: r.device.uuid.clone(),
                parent: String::new(),
                profile: r.mig_profile.clone(),
                is_mig: r.is_mig,
                arch,
                model: r.parent_name.clone(),
                energy: r.energy_j,
                start: r.start_s,
                end: r.end_s,
            });
        } else {
            for uuid in &r.mig_instances {
                let profile = instances
                    .iter()
                    .find(|i| &i.uuid == uuid)
                    .and_then(|i| i.profile.clone())
                    .unwrap_or_default();
                owned.push(Owned {
                    id: uuid.clone(),
                    uuid: uuid.clone(),
                    parent: parent_uuid.clone(),
                    profile,
                    is_mig: true,
                    arch,
                    model: r.parent_name.clone(),
                    energy: r.energy_j,
                    start: r.start_s,
                    end: r.end_s,
                });
            }
        }
    }
    let records: Vec<ResultRecord<'_>> = owned
        .iter()
        .map(|o| {
            if o.is_mig {
                ResultRecord::mig(
                    &o.id, &o.uuid, &o.parent, &o.profile, o.arch, &o.model, o.energy, o.start,
                    o.end,
                )
            } else {
                ResultRecord::whole_gpu(&o.id, &o.uuid, o.arch, &o.model, o.energy, o.start, o.end)
            }
        })
        .collect();
    mig_warnings::check(&records, &CheckOptions::default()).unwrap_or_else(|e| {
        warnings.push(format!("the MIG rules could not run: {e}"));
        Vec::new()
    })
}

fn render_human(m: &MeasureJson) -> String {
    let mut s = String::new();
    if !m.command.is_empty() {
        s.push_str(&format!(
            "Command    {} (exit {}) in {}\n",
            m.command.join(" "),
            m.exit_code
                .map_or("by signal".to_string(), |c| c.to_string()),
            si(m.wall_s.unwrap_or(0.0), "s")
        ));
    }
    s.push_str(&format!("Source     {}\n", m.source));
    for d in &m.devices {
        s.push_str(&format!(
            "\n{} {}  {}  {}\n",
            d.source, d.device.index, d.device.name, d.device.uuid
        ));
        s.push_str(&format!(
            "  energy    {} over {} (average {})\n",
            si(d.energy_j, "J"),
            si(d.duration_s, "s"),
            d.average_power_w.map_or("n/a".to_string(), |p| si(p, "W"))
        ));
        s.push_str(&format!(
            "  coverage  {}  method {}  flags {}\n",
            pct(d.coverage),
            d.method,
            if d.flags.is_empty() {
                "none".to_string()
            } else {
                d.flags.join(",")
            }
        ));
        if let (Some(p), true) = (
            d.power_estimate_j,
            d.flags.contains(&"shorter_than_update_period"),
        ) {
            s.push_str(&format!(
                "  note      window shorter than the counter's update period; power × time gives {}\n",
                si(p, "J")
            ));
        }
        if d.is_mig {
            s.push_str(&format!(
                "  MIG       instance {} of {}: this is the parent GPU's energy\n",
                if d.mig_profile.is_empty() {
                    "?"
                } else {
                    &d.mig_profile
                },
                d.parent_uuid
            ));
        } else if !d.mig_instances.is_empty() {
            s.push_str(&format!(
                "  MIG       covers instances {}: the parent GPU's energy, counted once\n",
                d.mig_instances.join(", ")
            ));
        }
        if let Some(e) = &d.last_error {
            s.push_str(&format!("  error     {e}\n"));
        }
    }
    if m.devices.len() > 1 {
        s.push_str(&format!("\nTotal      {}\n", si(m.total_energy_j, "J")));
    }
    for w in &m.mig_warnings {
        s.push_str(&format!("{} {}: {}\n", w.code, w.severity, w.message));
    }
    for w in &m.warnings {
        s.push_str(&format!("warning: {w}\n"));
    }
    s
}

fn prom_escape(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

fn prometheus_text(m: &MeasureJson) -> String {
    let labels = |d: &DeviceResult| {
        let (uuid, parent, profile) = if d.is_mig {
            (
                d.device.uuid.as_str(),
                d.parent_uuid.as_str(),
                d.mig_profile.as_str(),
            )
        } else {
            (d.device.uuid.as_str(), "", "")
        };
        format!(
            "gpu_uuid=\"{}\",parent_uuid=\"{}\",mig_profile=\"{}\"",
            prom_escape(uuid),
            prom_escape(parent),
            prom_escape(profile)
        )
    };
    let mut s = String::new();
    s.push_str("# HELP wattledger_energy_joules_total Energy of the last measured run, per GPU; on a MIG instance it is the parent GPU's energy.\n");
    s.push_str("# TYPE wattledger_energy_joules_total counter\n");
    for d in &m.devices {
        s.push_str(&format!(
            "wattledger_energy_joules_total{{{}}} {}\n",
            labels(d),
            d.energy_j
        ));
    }
    s.push_str("# HELP wattledger_power_watts Average power over the last measured run.\n");
    s.push_str("# TYPE wattledger_power_watts gauge\n");
    for d in &m.devices {
        if let Some(p) = d.average_power_w {
            s.push_str(&format!("wattledger_power_watts{{{}}} {p}\n", labels(d)));
        }
    }
    s.push_str("# HELP wattledger_coverage_ratio Fraction of the run covered by readings.\n");
    s.push_str("# TYPE wattledger_coverage_ratio gauge\n");
    for d in &m.devices {
        s.push_str(&format!(
            "wattledger_coverage_ratio{{{}}} {}\n",
            labels(d),
            d.coverage
        ));
    }
    s
}

fn emit(args: &Args, m: &MeasureJson) -> CliResult<()> {
    if let Some(p) = &args.prometheus {
        write_atomically(p, &prometheus_text(m))?;
    }
    let text = if args.json {
        serde_json::to_string_pretty(m)
            .map_err(|e| CliError::failure(format!("cannot write JSON: {e}")))?
            + "\n"
    } else {
        render_human(m)
    };
    match &args.output {
        Some(p) => write_atomically(p, &text),
        None if args.json => print_json(m),
        None => {
            print!("{text}");
            Ok(())
        }
    }
}

/// `--source replay:FILE` with no command: one window over each device's
/// whole trace, fed straight into a core meter.
fn analyse_trace(args: &Args, path: &PathBuf) -> CliResult {
    let trace = Trace::from_path(path).map_err(|e| {
        CliError::input(format!(
            "cannot replay {}: {e}; see docs/trace-format.md",
            path.display()
        ))
    })?;
    if trace.devices.is_empty() {
        return Err(CliError::input(format!(
            "{}: the trace declares no device",
            path.display()
        )));
    }
    let mut warnings = Vec::new();
    let mut devices = Vec::new();
    for info in &trace.devices {
        let config = MeterConfig {
            // A trace's samples are what they are: no update-period flag.
            update_period_ns: 0,
            max_gap_ns: args
                .interval
                .map_or(MeterConfig::default().max_gap_ns, |ms| {
                    ms.saturating_mul(5_000_000)
                }),
            ..MeterConfig::default()
        };
        let mut meter: Meter = Meter::new(config, mig_context(info));
        let mut rejected = 0u64;
        let mut begun = false;
        for s in trace.samples.iter().filter(|s| s.device == info.index) {
            if meter.ingest(s.sample).is_err() {
                rejected += 1;
                continue;
            }
            if !begun {
                begun = meter.begin("trace").is_ok();
            }
        }
        if !begun {
            warnings.push(format!(
                "device {} ({}) has no samples in the trace",
                info.index, info.name
            ));
            continue;
        }
        let report = meter
            .end("trace")
            .map_err(|e| CliError::failure(format!("device {}: {e}", info.index)))?;
        let planned = Planned {
            inner_index: info.index,
            presented: info.clone(),
            parent: info.clone(),
            mig_instances: Vec::new(),
        };
        devices.push(result_of(
            &trace.meta.source,
            &planned,
            &report,
            rejected,
            None,
        ));
    }
    let mig = mig_warnings(&devices, &mut warnings);
    let m = MeasureJson {
        source: format!(
            "replay:{} (recorded from {})",
            path.display(),
            trace.meta.source
        ),
        command: Vec::new(),
        exit_code: None,
        wall_s: None,
        total_energy_j: devices.iter().map(|d| d.energy_j).sum(),
        devices,
        mig_warnings: mig,
        warnings,
    };
    emit(args, &m)?;
    Ok(exit::OK)
}

fn source_label(s: &Source) -> String {
    match s {
        Source::Nvml => "nvml".to_string(),
        Source::Jetson(None) => "jetson".to_string(),
        Source::Jetson(Some(r)) => format!("jetson:{}", r.display()),
        Source::Replay(p) => format!("replay:{}", p.display()),
    }
}

pub fn run(args: &Args) -> CliResult {
    if args.command.is_empty() {
        if let Source::Replay(path) = &args.source {
            return analyse_trace(args, path);
        }
        return Err(CliError::usage(
            "give the command to measure after `--`, e.g. `wattledger measure -- python train.py`",
        ));
    }
    let sensor = open_sensor(&args.source)?;
    let mut warnings = Vec::new();
    let planned = plan(sensor.as_ref(), &mut warnings)?;
    let devices: Vec<DeviceInfo> = planned
        .iter()
        .enumerate()
        .map(|(i, p)| DeviceInfo {
            index: u32::try_from(i).unwrap_or(u32::MAX),
            ..p.presented.clone()
        })
        .collect();
    let recorder = match &args.record {
        None => None,
        Some(path) => {
            let file = File::create(path)
                .map_err(|e| CliError::failure(format!("cannot create {}: {e}", path.display())))?;
            let mut meta = TraceMeta::new(sensor.source());
            meta.recorded_by = Some(format!("wattledger {}", env!("CARGO_PKG_VERSION")));
            meta.note = Some(format!("measure -- {}", args.command.join(" ")));
            let rec = Recorder::new(BufWriter::new(file), &meta, &devices).map_err(|e| {
                CliError::failure(format!("cannot record to {}: {e}", path.display()))
            })?;
            Some(Arc::new(Mutex::new(RecorderState {
                recorder: Some(rec),
                error: None,
            })))
        }
    };
    let source_name = sensor.source().to_string();
    let view = View {
        inner: sensor,
        map: planned.iter().map(|p| p.inner_index).collect(),
        devices,
        recorder: recorder.clone(),
    };
    let config = MonitorConfig {
        poll_interval: args.interval.map(Duration::from_millis),
        ..MonitorConfig::default()
    };
    let monitor = Monitor::with_config(vec![Box::new(view)], config)
        .map_err(|e| CliError::no_device(format!("cannot start measuring: {e}")))?;
    monitor
        .begin_window("measure")
        .map_err(|e| CliError::failure(format!("cannot begin the window: {e}")))?;
    let started = Instant::now();
    let program = args.command.first().map(String::as_str).unwrap_or_default();
    let mut child = match std::process::Command::new(program)
        .args(args.command.iter().skip(1))
        .spawn()
    {
        Ok(c) => c,
        Err(e) => {
            let code = if e.kind() == std::io::ErrorKind::PermissionDenied {
                126
            } else {
                exit::NOT_FOUND
            };
            return Err(CliError {
                code,
                message: format!("cannot run `{program}`: {e}"),
            });
        }
    };
    let live = std::io::stderr().is_terminal();
    let mut last_live = Instant::now();
    if live {
        let _ = monitor.begin_window("live");
    }
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) => {}
            Err(e) => {
                return Err(CliError::failure(format!(
                    "cannot wait for `{program}`: {e}"
                )));
            }
        }
        std::thread::sleep(Duration::from_millis(20));
        if live && last_live.elapsed() >= Duration::from_secs(1) {
            last_live = Instant::now();
            if let Ok(reports) = monitor.end_window("live") {
                let powers: Vec<String> = reports
                    .iter()
                    .map(|r| {
                        format!(
                            "{} {}",
                            r.device.index,
                            r.report.mean_power_w().map_or("n/a".into(), |p| si(p, "W"))
                        )
                    })
                    .collect();
                eprint!(
                    "\r\x1b[2Kwattledger: {:.0} s  {}",
                    started.elapsed().as_secs_f64(),
                    powers.join("  ")
                );
            }
            let _ = monitor.begin_window("live");
        }
    };
    let wall_s = started.elapsed().as_secs_f64();
    if live {
        eprint!("\r\x1b[2K");
    }
    let reports = monitor
        .end_window("measure")
        .map_err(|e| CliError::failure(format!("cannot end the window: {e}")))?;
    drop(monitor);
    let results: Vec<DeviceResult> = reports
        .iter()
        .zip(&planned)
        .map(|(r, p)| {
            result_of(
                &source_name,
                p,
                &r.report,
                r.rejected_samples,
                r.last_error.clone(),
            )
        })
        .collect();
    if let Some(rec) = recorder {
        let mut st = rec.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(r) = st.recorder.take() {
            match r.finish() {
                Ok(mut w) => {
                    if let Err(e) = w.flush() {
                        warnings.push(format!("recording: {e}"));
                    }
                }
                Err(e) => warnings.push(format!("recording: {e}")),
            }
        }
        if let Some(e) = &st.error {
            warnings.push(format!("recording stopped: {e}"));
        }
    }
    let mig = mig_warnings(&results, &mut warnings);
    let code = status.code().unwrap_or_else(|| {
        #[cfg(unix)]
        {
            use std::os::unix::process::ExitStatusExt;
            status.signal().map_or(exit::FAILURE, |s| 128 + s)
        }
        #[cfg(not(unix))]
        {
            exit::FAILURE
        }
    });
    let m = MeasureJson {
        source: source_label(&args.source),
        command: args.command.clone(),
        exit_code: status.code(),
        wall_s: Some(wall_s),
        total_energy_j: results.iter().map(|d| d.energy_j).sum(),
        devices: results,
        mig_warnings: mig,
        warnings,
    };
    emit(args, &m)?;
    Ok(code)
}
