//! `wattledger measure`: run a command and measure every visible GPU.
//!
//! Argument handling and running only. What is measured comes from
//! [`wattledger_std::visible`] (each physical GPU once), the MIG results and
//! warnings from [`wattledger_std::mig_warnings`], and every output format
//! from [`wattledger_std::exporters`].

use std::fs::File;
use std::io::{BufWriter, IsTerminal};
use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use wattledger_core::meter::MeterConfig;
use wattledger_core::mig::CheckOptions;
use wattledger_std::exporters::{DeviceResult, MeasureReport, human, json, prometheus, si};
use wattledger_std::mig_warnings::{self, MigWarning};
use wattledger_std::monitor::{self, DeviceWindowReport, Monitor, MonitorConfig};
use wattledger_std::sensors::Sensor;
use wattledger_std::sensors::jetson::{JetsonConfig, JetsonSensor};
use wattledger_std::sensors::replay::ReplaySensor;
use wattledger_std::trace::{RecordingSensor, Trace, TraceMeta};
use wattledger_std::visible::{self, VisibleSensor};

use crate::{CliError, CliResult, Source, exit, out, supervise};

/// The shortest `--interval`, in milliseconds: below it the poll costs more
/// than NVML's counters can resolve.
pub const MIN_INTERVAL_MS: u64 = 1;
/// The longest `--interval`, in milliseconds: beyond it the five-interval
/// gap rule could not tell a stall from polling.
pub const MAX_INTERVAL_MS: u64 = 60_000;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Where readings come from: nvml, jetson, jetson:ROOT or replay:FILE.
    #[arg(long, default_value = "nvml", value_name = "SOURCE")]
    source: Source,
    /// Polling interval in milliseconds, 1 to 60000 (default: from the
    /// sensor, 10–1000 ms).
    #[arg(long, value_name = "MS", value_parser = clap::value_parser!(u64).range(MIN_INTERVAL_MS..=MAX_INTERVAL_MS))]
    interval: Option<u64>,
    /// Write the report as JSON.
    #[arg(long)]
    json: bool,
    /// Write the report to FILE instead of stderr (stdout is the command's;
    /// `-o /dev/fd/3` writes to a descriptor the shell opened).
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

/// Writes the report and files of `m`: the report to `-o FILE` or stderr
/// (never stdout, which is the command's), the Prometheus file. Every
/// output is tried; the first failure is returned. A warning for each lost
/// device goes to stderr when the report itself does not.
fn emit(args: &Args, m: &MeasureReport) -> CliResult<()> {
    let mut first_error = None;
    let text = if args.json {
        json::to_string(m).map_err(|e| CliError::failure(format!("cannot write JSON: {e}")))
    } else {
        Ok(human::measure(m))
    };
    let written = text.and_then(|text| match &args.output {
        Some(p) => out::write_file(p, &text),
        None => out::stderr(&text),
    });
    if let Err(e) = written {
        first_error = Some(e);
    }
    if args.output.is_some() || args.json {
        for w in m.lost_device_warnings() {
            out::warning(&w);
        }
    }
    if let Some(p) = &args.prometheus {
        if let Err(e) = out::write_file(p, &prometheus::measure(m)) {
            first_error.get_or_insert(e);
        }
    }
    first_error.map_or(Ok(()), Err)
}

/// The exit code of a run whose command's own code is `code`: the
/// command's, except [`exit::INCOMPLETE`] when it succeeded and a
/// measurement is incomplete; a closed pipe while writing still exits with
/// it.
fn finish(args: &Args, m: &MeasureReport, code: i32) -> CliResult {
    let code = if code == exit::OK && m.incomplete {
        exit::INCOMPLETE
    } else {
        code
    };
    match emit(args, m) {
        Err(e) if e.is_closed_pipe() => Ok(code),
        Err(e) => Err(e),
        Ok(()) => Ok(code),
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
    let mut warnings: Vec<String> = Vec::new();
    if let Some(line) = trace.truncated_line {
        warnings.push(format!(
            "{}: line {line} is cut short (the recording was stopped while writing it); the trace is read up to the line before",
            path.display()
        ));
    }
    warnings.extend(whole.without_samples.iter().map(|d| {
        format!(
            "device {} ({}) has no samples in the trace",
            d.index, d.name
        )
    }));
    let mig = mig_warnings(&whole.reports, &mut warnings);
    let devices: Vec<DeviceResult> = whole
        .reports
        .iter()
        .map(DeviceResult::from_window)
        .collect();
    let mut m = MeasureReport::new(
        format!(
            "replay:{} (recorded from {})",
            path.display(),
            trace.meta.source
        ),
        devices,
    );
    warnings.extend(m.lost_device_warnings());
    m.mig_warnings = mig;
    m.warnings = warnings;
    finish(args, &m, exit::OK)
}
fn source_label(s: &Source) -> String {
    match s {
        Source::Nvml => "nvml".to_string(),
        Source::Jetson(None) => "jetson".to_string(),
        Source::Jetson(Some(r)) => format!("jetson:{}", r.display()),
        Source::Replay(p) => format!("replay:{}", p.display()),
    }
}

/// The checks made before anything is opened or run: option values that
/// make no sense together, and every output path.
fn check_args(args: &Args) -> CliResult<()> {
    if let (Source::Replay(_), false) = (&args.source, args.command.is_empty()) {
        return Err(CliError::usage(
            "--source replay:FILE analyses a recording and runs nothing; drop the command after `--`, or measure the command with --source nvml or jetson",
        ));
    }
    if let Some(p) = &args.output {
        out::check_output("-o", p)?;
    }
    if let Some(p) = &args.prometheus {
        out::check_output("--prometheus", p)?;
    }
    if let Some(p) = &args.record {
        out::check_output("--record", p)?;
    }
    Ok(())
}

pub fn run(args: &Args) -> CliResult {
    check_args(args)?;
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
            // The recording sensor flushes each line as it is written, so a
            // wattledger killed at any point leaves a valid trace prefix.
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
    let mut catcher = supervise::Catcher::new()
        .map_err(|e| CliError::failure(format!("cannot handle signals: {e}")))?;
    monitor
        .begin_window("measure")
        .map_err(|e| CliError::failure(format!("cannot begin the window: {e}")))?;
    let start_unix_s = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .ok()
        .map(|d| d.as_secs_f64());
    let started = Instant::now();
    let program = args.command.first().map(String::as_str).unwrap_or_default();
    let mut command = std::process::Command::new(program);
    command.args(args.command.iter().skip(1));
    supervise::prepare(&mut command);
    let mut child = match command.spawn() {
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
    let mut on_signal = |sig: i32, again: bool| {
        if live {
            let _ = out::stderr("\r\x1b[2K");
        }
        if again {
            out::message(&format!(
                "{}: killing `{program}` now (SIGKILL)",
                supervise::signal_name(sig)
            ));
        } else {
            out::message(&format!(
                "{}: passed on to `{program}`; waiting for it to end, then reporting (again to kill it now)",
                supervise::signal_name(sig)
            ));
        }
    };
    let mut tick = || {
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
                let _ = out::stderr(&format!(
                    "\r\x1b[2Kwattledger: {:.0} s  {}",
                    started.elapsed().as_secs_f64(),
                    powers.join("  ")
                ));
            }
            let _ = monitor.begin_window("live");
        }
    };
    let ended = supervise::wait(&mut child, &mut catcher, &mut on_signal, &mut tick)
        .map_err(|e| CliError::failure(format!("cannot wait for `{program}`: {e}")))?;
    let wall_s = started.elapsed().as_secs_f64();
    if live {
        let _ = out::stderr("\r\x1b[2K");
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
    let status = ended.status;
    #[cfg(unix)]
    let killed_by = {
        use std::os::unix::process::ExitStatusExt;
        status.signal()
    };
    #[cfg(not(unix))]
    let killed_by: Option<i32> = None;
    // As a shell reports it: the command's code, or 128 + the signal. When
    // wattledger was interrupted, the signal it received (Ctrl-C: 130),
    // whatever it took to stop the command.
    let code = match (status.code(), ended.interrupted_by, killed_by) {
        (Some(c), _, _) => c,
        (None, Some(sig), _) | (None, None, Some(sig)) => 128 + sig,
        (None, None, None) => exit::FAILURE,
    };
    let mut m = MeasureReport::new(source_label(&args.source), results);
    m.command = args.command.clone();
    m.exit_code = status.code();
    m.wall_s = Some(wall_s);
    m.start_unix_s = start_unix_s;
    m.interrupted = ended.interrupted_by.is_some();
    m.interrupted_by = ended.interrupted_by.map(supervise::signal_name);
    warnings.extend(m.lost_device_warnings());
    m.mig_warnings = mig;
    m.warnings = warnings;
    finish(args, &m, code)
}
