//! `wattledger measure`: run a command and measure every visible GPU.
//!
//! Argument handling and running only. What is measured comes from
//! [`wattledger_std::visible`] (each physical GPU once), the MIG results and
//! warnings from [`wattledger_std::mig_warnings`], and every output format
//! from [`wattledger_std::exporters`].

use std::fs::File;
use std::io::{BufWriter, IsTerminal};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use wattledger_core::meter::MeterConfig;
use wattledger_core::mig::CheckOptions;
use wattledger_std::exporters::{
    DeviceResult, MeasureReport, human, json, prometheus, si, total_energy_j,
};
use wattledger_std::mig_warnings::{self, MigWarning};
use wattledger_std::monitor::{self, DeviceWindowReport, Monitor, MonitorConfig};
use wattledger_std::sensors::Sensor;
use wattledger_std::sensors::jetson::{JetsonConfig, JetsonSensor};
use wattledger_std::sensors::replay::ReplaySensor;
use wattledger_std::trace::{RecordingSensor, Trace, TraceMeta};
use wattledger_std::visible::{self, VisibleSensor};

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
        Source::Replay(path) => ReplaySensor::from_path(path)
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

/// The MIG warnings of one window's reports; a failure of the rules is a
/// plain warning, since the measurement itself stands.
fn mig_warnings(reports: &[DeviceWindowReport], warnings: &mut Vec<String>) -> Vec<MigWarning> {
    mig_warnings::for_window(reports, &CheckOptions::default()).unwrap_or_else(|e| {
        warnings.push(format!("the MIG rules could not run: {e}"));
        Vec::new()
    })
}

fn emit(args: &Args, m: &MeasureReport) -> CliResult<()> {
    if let Some(p) = &args.prometheus {
        write_atomically(p, &prometheus::measure(m))?;
    }
    let text = if args.json {
        json::to_string(m).map_err(|e| CliError::failure(format!("cannot write JSON: {e}")))?
    } else {
        human::measure(m)
    };
    match &args.output {
        Some(p) => write_atomically(p, &text),
        None => {
            print!("{text}");
            Ok(())
        }
    }
}

/// `--source replay:FILE` with no command: one window over each device's
/// whole trace.
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
    let max_gap_ns = args
        .interval
        .map_or(MeterConfig::default().max_gap_ns, |ms| {
            ms.saturating_mul(5_000_000)
        });
    let whole = monitor::whole_trace(&trace, max_gap_ns)
        .map_err(|e| CliError::failure(format!("cannot analyse {}: {e}", path.display())))?;
    let mut warnings: Vec<String> = whole
        .without_samples
        .iter()
        .map(|d| {
            format!(
                "device {} ({}) has no samples in the trace",
                d.index, d.name
            )
        })
        .collect();
    let mig = mig_warnings(&whole.reports, &mut warnings);
    let devices: Vec<DeviceResult> = whole
        .reports
        .iter()
        .map(DeviceResult::from_window)
        .collect();
    let m = MeasureReport {
        source: format!(
            "replay:{} (recorded from {})",
            path.display(),
            trace.meta.source
        ),
        command: Vec::new(),
        exit_code: None,
        wall_s: None,
        total_energy_j: total_energy_j(&devices),
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
    let plan = visible::plan_from_env(sensor.as_ref());
    if let Some(bad) = &plan.stopped_at {
        warnings.push(format!(
            "CUDA_VISIBLE_DEVICES: token `{}` ({:?}) and everything after it are ignored, as CUDA ignores them",
            bad.token, bad.problem
        ));
    }
    if plan.gpus.is_empty() && !sensor.devices().is_empty() {
        return Err(CliError::no_device(
            "CUDA_VISIBLE_DEVICES hides every GPU; unset it or name a GPU (`wattledger devices` lists them)",
        ));
    }
    let visible: Box<dyn Sensor> = Box::new(VisibleSensor::new(sensor, plan.gpus));
    let (measured, recording) = match &args.record {
        None => (visible, None),
        Some(path) => {
            let file = File::create(path)
                .map_err(|e| CliError::failure(format!("cannot create {}: {e}", path.display())))?;
            let mut meta = TraceMeta::new(visible.source());
            meta.recorded_by = Some(format!("wattledger {}", env!("CARGO_PKG_VERSION")));
            meta.note = Some(format!("measure -- {}", args.command.join(" ")));
            let (sensor, recording) =
                RecordingSensor::new(visible, Box::new(BufWriter::new(file)), &meta).map_err(
                    |e| CliError::failure(format!("cannot record to {}: {e}", path.display())),
                )?;
            (Box::new(sensor) as Box<dyn Sensor>, Some(recording))
        }
    };
    let config = MonitorConfig {
        poll_interval: args.interval.map(Duration::from_millis),
        ..MonitorConfig::default()
    };
    let monitor = Monitor::with_config(vec![measured], config)
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
    let results: Vec<DeviceResult> = reports.iter().map(DeviceResult::from_window).collect();
    if let Some(Err(problems)) = recording.map(|r| r.finish()) {
        if let Some(e) = problems.flush {
            warnings.push(format!("recording: {e}"));
        }
        if let Some(e) = problems.stopped {
            warnings.push(format!("recording stopped: {e}"));
        }
    }
    let mig = mig_warnings(&reports, &mut warnings);
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
    let m = MeasureReport {
        source: source_label(&args.source),
        command: args.command.clone(),
        exit_code: status.code(),
        wall_s: Some(wall_s),
        total_energy_j: total_energy_j(&results),
        devices: results,
        mig_warnings: mig,
        warnings,
    };
    emit(args, &m)?;
    Ok(code)
}
