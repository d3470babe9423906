//! `wattledger attribute` and `wattledger calibrate`: a kernel trace and a
//! power recording of the same run, put on one clock.
//!
//! Argument handling and running only: the profile goes through
//! [`wattledger_std::profiles::compose`] (the timeline glue), the sharing
//! and the calibration rows come from [`wattledger_std::attribute`], the fit
//! from [`wattledger_std::calibrate`], the words from
//! [`wattledger_std::exporters`].

use std::path::{Path, PathBuf};

use wattledger_core::hardware::{HardwareModel, Name, Precision};
use wattledger_core::timeline::TimelinePolicy;
use wattledger_std::attribute::{
    self, AttributeError, MeasuredWindow, calibration_intervals, clock_of, idle_power_w,
    measured_windows, overlapping,
};
use wattledger_std::calibrate::{FitOptions, Interval, calibrate};
use wattledger_std::exporters::{human, json};
use wattledger_std::model_file::hardware_from_arg;
use wattledger_std::profiles::compose::{
    ComposeOptions, DeviceEstimate, catalog_preset, compose_device,
};
use wattledger_std::profiles::{DeviceTimeline, Profile, read_profile};
use wattledger_std::trace::Trace;

use crate::{CliError, CliResult, exit, out, print_json};

/// What both commands take besides the files.
#[derive(Debug, clap::Args)]
pub struct Common {
    /// The device: the CUDA device of the profile and the index of the
    /// recording's device (default: the profile's only device, and the
    /// recording's device of the same index or its only one).
    #[arg(long, value_name = "N")]
    device: Option<u32>,
    /// The Unix time, in ns, at the recording's t_ns = 0, for recordings
    /// without clock_unix_ns (or to correct it).
    #[arg(long, value_name = "NS", allow_negative_numbers = true)]
    offset: Option<i64>,
    /// Hardware model: a preset or a hardware JSON file (default: the preset
    /// of the GPU the profile names).
    #[arg(long, value_name = "PRESET|FILE")]
    hardware: Option<String>,
    /// Charge kernels' recorded FLOPs at this precision's energy per
    /// operation (default: kernels are charged active power by time).
    #[arg(long, value_name = "PRECISION")]
    flops_precision: Option<String>,
}

#[derive(Debug, clap::Args)]
pub struct AttributeArgs {
    /// Kernel trace of the run (PyTorch/Kineto JSON, plain or gzip; Nsight SQLite).
    profile: PathBuf,
    /// Power recording of the same run (wattledger-trace/1, `measure --record`).
    recording: PathBuf,
    #[command(flatten)]
    common: Common,
    /// Print JSON instead of tables.
    #[arg(long)]
    json: bool,
    /// How many kernel names the table lists.
    #[arg(long, default_value_t = 20, value_name = "N")]
    top: usize,
}

#[derive(Debug, clap::Args)]
pub struct CalibrateArgs {
    /// PROFILE RECORDING pairs: a kernel trace and the power recording of
    /// the same run, as many pairs as there are runs.
    #[arg(value_name = "PROFILE RECORDING", num_args = 2.., required = true)]
    files: Vec<PathBuf>,
    #[command(flatten)]
    common: Common,
    /// K of the K-fold held-out error.
    #[arg(long, default_value_t = 5, value_name = "K")]
    holdout: usize,
    /// Print JSON instead of tables.
    #[arg(long)]
    json: bool,
    /// Write the calibrated hardware model to this file (for `estimate --hardware FILE`).
    #[arg(short = 'o', long = "output", value_name = "HARDWARE.json")]
    output: Option<PathBuf>,
}

/// One profile and recording, composed and put on one clock.
struct Pair {
    profile: Profile,
    device: u32,
    recording_device: u32,
    hardware: HardwareModel,
    hardware_source: String,
    estimate: DeviceEstimate,
    windows: Vec<MeasuredWindow>,
    aligned_by: &'static str,
}

impl Pair {
    fn timeline(&self) -> Option<&DeviceTimeline> {
        self.profile.device(self.device)
    }
}

fn parse_precision(name: &Option<String>) -> CliResult<Option<Precision>> {
    name.as_deref()
        .map(|n| {
            Precision::from_name(n).ok_or_else(|| {
                CliError::input(format!(
                    "--flops-precision: `{n}` is not a precision; use one of {}",
                    Precision::ALL
                        .iter()
                        .map(|p| p.name())
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
            })
        })
        .transpose()
}

fn attribute_error(recording: &Path, e: AttributeError) -> CliError {
    CliError::input(format!("{}: {e}", recording.display()))
}

/// Reads, composes and aligns one pair.
fn load_pair(
    profile_path: &Path,
    recording_path: &Path,
    common: &Common,
    hardware: Option<&(HardwareModel, String)>,
) -> CliResult<Pair> {
    let profile = read_profile(profile_path)
        .map_err(|e| CliError::input(format!("{}: {e}", profile_path.display())))?;
    let device = match (common.device, profile.devices.as_slice()) {
        (Some(d), _) => d,
        (None, [only]) => only.device,
        (None, []) => {
            return Err(CliError::input(format!(
                "{}: the profile holds no kernel, copy or memset",
                profile_path.display()
            )));
        }
        (None, many) => {
            return Err(CliError::input(format!(
                "{}: the profile has devices {}; choose one with --device",
                profile_path.display(),
                many.iter()
                    .map(|d| d.device.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
    };
    let timeline = profile.device(device).ok_or_else(|| {
        CliError::input(format!(
            "{}: the profile has no device {device}",
            profile_path.display()
        ))
    })?;
    let (hw, hardware_source) = match hardware {
        Some((hw, source)) => (hw.clone(), source.clone()),
        None => {
            let preset = catalog_preset(timeline)
                .map_err(|e| CliError::input(format!("{}: {e}", profile_path.display())))?;
            (preset.model(), preset.name().to_string())
        }
    };
    let options = ComposeOptions {
        policy: TimelinePolicy::Off,
        flops_precision: parse_precision(&common.flops_precision)?,
        series_bins: 0,
    };
    let estimate = compose_device(timeline, &hw, &options, &profile.names)
        .map_err(|e| CliError::input(format!("{}: {e}", profile_path.display())))?;
    let trace = Trace::from_path(recording_path)
        .map_err(|e| CliError::input(format!("{}: {e}", recording_path.display())))?;
    let recording_device = match common.device {
        Some(d) => d,
        None if trace.devices.iter().any(|d| d.index == device) => device,
        None => match trace.devices.as_slice() {
            [only] => only.index,
            _ => device,
        },
    };
    let aligned_by = if common.offset.is_some() {
        "--offset"
    } else {
        "clock_unix_ns"
    };
    let clock = clock_of(&trace, common.offset).map_err(|e| attribute_error(recording_path, e))?;
    let all = measured_windows(&trace, recording_device, clock)
        .map_err(|e| attribute_error(recording_path, e))?;
    let (start, end) = timeline.span_ns().unwrap_or((0, 0));
    let windows = overlapping(&all, start, end).map_err(|e| attribute_error(recording_path, e))?;
    Ok(Pair {
        profile,
        device,
        recording_device,
        hardware: hw,
        hardware_source,
        estimate,
        windows,
        aligned_by,
    })
}

/// `--hardware`, read once for every pair.
fn hardware_arg(common: &Common) -> CliResult<Option<(HardwareModel, String)>> {
    common
        .hardware
        .as_deref()
        .map(|h| hardware_from_arg(h).map(|(hw, source, _)| (hw, source)))
        .transpose()
        .map_err(CliError::from)
}

pub fn run_attribute(args: &AttributeArgs) -> CliResult {
    let hardware = hardware_arg(&args.common)?;
    let pair = load_pair(
        &args.profile,
        &args.recording,
        &args.common,
        hardware.as_ref(),
    )?;
    let timeline = pair
        .timeline()
        .ok_or_else(|| CliError::input("the profile's device went missing"))?;
    let a = attribute::attribute(
        timeline,
        &pair.profile.names,
        &pair.estimate,
        &pair.windows,
        idle_power_w(&pair.hardware),
    );
    if args.json {
        let context = serde_json::json!({
            "profile": args.profile.display().to_string(),
            "recording": args.recording.display().to_string(),
            "device": pair.device,
            "recording_device": pair.recording_device,
            "hardware": pair.hardware_source,
            "aligned_by": pair.aligned_by,
        });
        print_json(&json::attribution(context, &a))?;
    } else {
        let context = vec![
            format!(
                "Profile    {} (device {}{}), model {}",
                args.profile.display(),
                pair.device,
                if pair.estimate.device_name.is_empty() {
                    String::new()
                } else {
                    format!(", {}", pair.estimate.device_name)
                },
                pair.hardware_source
            ),
            format!(
                "Recording  {} (device {}), aligned by {}",
                args.recording.display(),
                pair.recording_device,
                pair.aligned_by
            ),
        ];
        out::stdout(&human::attribution(&context, &a, args.top))?;
    }
    Ok(exit::OK)
}

/// The calibrated spec's name: the base's with " (calibrated)", cut to fit.
fn calibrated_name(base: &str) -> Name {
    let mut name = Name::new();
    for c in format!("{base} (calibrated)").chars() {
        if name.push(c).is_err() {
            break;
        }
    }
    name
}

pub fn run_calibrate(args: &CalibrateArgs) -> CliResult {
    if !args.files.len().is_multiple_of(2) {
        return Err(CliError::usage(format!(
            "calibrate takes PROFILE RECORDING pairs; {} files is not a whole number of pairs",
            args.files.len()
        )));
    }
    if let Some(path) = &args.output {
        out::check_output("-o", path)?;
    }
    let hardware = hardware_arg(&args.common)?;
    let mut rows: Vec<Interval> = Vec::new();
    let mut base: Option<(HardwareModel, String)> = hardware.clone();
    let mut pairs = 0usize;
    for files in args.files.chunks(2) {
        let [profile, recording] = files else {
            continue;
        };
        let pair = load_pair(profile, recording, &args.common, base.as_ref())?;
        // Every pair is fitted on the same hardware: the first's.
        if base.is_none() {
            base = Some((pair.hardware.clone(), pair.hardware_source.clone()));
        }
        let timeline = pair
            .timeline()
            .ok_or_else(|| CliError::input("the profile's device went missing"))?;
        rows.extend(calibration_intervals(
            timeline,
            &pair.estimate,
            &pair.windows,
            pair.hardware.units(),
            parse_precision(&args.common.flops_precision)?,
        ));
        pairs += 1;
    }
    let Some((hw, source)) = base else {
        return Err(CliError::usage(
            "calibrate needs at least one PROFILE RECORDING pair",
        ));
    };
    let fit = calibrate(&rows, &FitOptions::for_spec(hw.spec(), args.holdout))
        .map_err(|e| CliError::input(format!("calibration: {e}")))?;
    let mut spec = fit.apply(hw.spec());
    spec.name = calibrated_name(hw.spec().name.as_str());
    let calibrated = HardwareModel::new(spec)
        .map_err(|e| CliError::input(format!("the calibrated model is not valid: {e}")))?;
    if let Some(path) = &args.output {
        let text = serde_json::to_string_pretty(calibrated.spec())
            .map_err(|e| CliError::failure(format!("cannot write the hardware model: {e}")))?;
        out::write_file(path, &(text + "\n"))?;
    }
    if args.json {
        let mut v = fit.to_json();
        if let Some(map) = v.as_object_mut() {
            map.insert("hardware".into(), serde_json::json!(source));
            map.insert("pairs".into(), serde_json::json!(pairs));
            map.insert(
                "output".into(),
                serde_json::json!(args.output.as_ref().map(|p| p.display().to_string())),
            );
        }
        print_json(&v)?;
    } else {
        let mut context = vec![format!(
            "Calibrated {source} on {pairs} profile and recording pair{}",
            if pairs == 1 { "" } else { "s" }
        )];
        if let Some(path) = &args.output {
            context.push(format!("Written    {}", path.display()));
        }
        out::stdout(&human::calibration(&context, &fit))?;
    }
    Ok(exit::OK)
}
