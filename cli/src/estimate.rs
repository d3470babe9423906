//! `wattledger estimate`: compose a model's energy from a model file, or a
//! real run's from a profiler trace (`--trace`).
//!
//! Argument handling and running only: the model file is read by
//! [`wattledger_std::model_file`], the trace by [`wattledger_std::profiles`]
//! and composed by [`wattledger_std::profiles::compose`], the reports are
//! written by [`wattledger_std::exporters`].

use std::path::{Path, PathBuf};

use wattledger_core::hardware::HardwareModel;
use wattledger_core::timeline::TimelinePolicy;
use wattledger_core::timeline::TimelineReport;
use wattledger_std::exporters::{TraceEstimate, plot};
use wattledger_std::profiles::compose::{ComposeError, ComposeOptions, catalog_preset, map_device};
use wattledger_std::profiles::{DeviceTimeline, Profile, read_profile};

use wattledger_core::compose::GatingPolicy;
use wattledger_std::exporters::{csv, human, json, power_warnings};
use wattledger_std::model_file::{
    Model, Outcome, builtin_model, compose, frequency_sweep, hardware_from_arg, load_model,
    operating_point, parse_policy,
};

use crate::{CliError, CliResult, exit, out, print_json};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Model file (JSON, see the README). Without it: ResNet-18 at batch 1 on an H100 SXM5.
    #[arg(conflicts_with = "trace")]
    model: Option<PathBuf>,
    /// A profiler trace of a real run (PyTorch/Kineto JSON, plain or gzip, or an
    /// Nsight Systems SQLite export): compose its kernels' timeline instead of a model.
    #[arg(long, value_name = "FILE")]
    trace: Option<PathBuf>,
    /// With --trace: only this CUDA device (default: every device, each its own report).
    #[arg(long, value_name = "N", requires = "trace")]
    device: Option<u32>,
    /// With --trace: write an SVG of units by power state and modelled power over time
    /// (one file per device; with several, `-deviceN` is added before the extension).
    #[arg(long, value_name = "FILE.svg", requires = "trace")]
    plot: Option<PathBuf>,
    /// Hardware: a preset name (seed-h100, h100-sxm5, a100-40gb, h200, b200,
    /// agx-orin-15w, agx-orin-30w, agx-orin-50w, agx-orin-maxn, orin-nano) or a
    /// JSON file with a hardware object. Overrides the model file's.
    #[arg(long, value_name = "PRESET|FILE")]
    hardware: Option<String>,
    /// Gating policy for unallocated units: off, always, break-even or oracle
    /// (with --trace: off, always, timeout or oracle).
    #[arg(long, value_name = "POLICY")]
    gating: Option<String>,
    /// Operating voltage in volts (default: the hardware's current point).
    #[arg(long, value_name = "V")]
    voltage: Option<f64>,
    /// Operating frequency in MHz (default: the hardware's current point).
    /// Alone, it takes its voltage from the hardware's V-f curve; the
    /// compute-bound share of each latency stretches with the clock.
    #[arg(long, value_name = "MHZ")]
    frequency: Option<f64>,
    /// Compose at clocks from 30 % of nominal to nominal, each at the
    /// voltage of the V-f curve, and print energy and time against frequency
    /// with the energy-optimal clock marked.
    #[arg(long, conflicts_with_all = ["frequency", "voltage", "compare_gating", "csv", "trace"])]
    sweep_frequency: bool,
    /// Clocks the sweep visits.
    #[arg(long, default_value_t = 15, value_name = "N", value_parser = clap::value_parser!(u16).range(2..=1000))]
    sweep_steps: u16,
    /// Print JSON instead of tables.
    #[arg(long, conflicts_with = "csv")]
    json: bool,
    /// Print one CSV row per subgraph (and a total row) instead of tables.
    #[arg(long)]
    csv: bool,
    /// Compose under every gating policy (off, always, break-even, oracle;
    /// with --trace: off, always, timeout, oracle) and show them side by side.
    #[arg(long, conflicts_with = "gating")]
    compare_gating: bool,
    /// How many of the costliest subgraphs the table lists.
    #[arg(long, default_value_t = 5, value_name = "N")]
    top: usize,
}

/// Average powers above what the hardware can draw, on stderr (they are
/// about the model, not part of its report; `--json` lists them too).
fn warn_power(model: &Model, outcome: &Outcome) {
    for w in power_warnings(model, outcome) {
        out::warning(&w);
    }
}

pub fn run(args: &Args) -> CliResult {
    if let Some(trace) = &args.trace {
        return run_trace(args, trace);
    }
    let (mut model, origin) = match &args.model {
        Some(path) => (load_model(path)?, path.display().to_string()),
        None => (builtin_model(), "built-in model".to_string()),
    };
    if let Some(h) = &args.hardware {
        let (hw, source, max_power) = hardware_from_arg(h)?;
        model.hardware = hw;
        model.hardware_source = source;
        model.max_power = max_power;
    }
    model.hardware = at_operating_point(args, &model.hardware)?;
    if let Some(g) = &args.gating {
        model.gating = parse_policy(g)?;
    }
    if args.sweep_frequency {
        let points = frequency_sweep(&model, model.gating, &origin, usize::from(args.sweep_steps))?;
        if args.json {
            print_json(&json::sweep(&model, model.gating, &points))?;
        } else {
            out::stdout(&human::sweep(&model, model.gating, &points))?;
        }
        return Ok(exit::OK);
    }
    if args.compare_gating {
        let results: Vec<(GatingPolicy, Result<Outcome, String>)> = GatingPolicy::ALL
            .iter()
            .map(|&p| (p, compose(&model, p, &origin).map_err(|e| e.message)))
            .collect();
        // Off always composes when the others could; its failure is the model's.
        match results.first() {
            Some((_, Err(e))) => return Err(CliError::input(e.clone())),
            Some((_, Ok(off))) => warn_power(&model, off),
            None => {}
        }
        if args.json {
            print_json(&json::comparison(&model, &results))?;
        } else if args.csv {
            let ok: Vec<(GatingPolicy, Outcome)> = results
                .into_iter()
                .filter_map(|(p, o)| o.ok().map(|o| (p, o)))
                .collect();
            out::stdout(&csv::estimate(&model, &ok))?;
        } else {
            out::stdout(&human::comparison(&model, &results))?;
        }
        return Ok(exit::OK);
    }
    let outcome = compose(&model, model.gating, &origin)?;
    warn_power(&model, &outcome);
    if args.json {
        print_json(&json::estimate(&model, &outcome))?;
    } else if args.csv {
        out::stdout(&csv::estimate(&model, &[(model.gating, outcome)]))?;
    } else {
        out::stdout(&human::estimate(&model, &outcome, args.top))?;
    }
    Ok(exit::OK)
}

/// `--voltage`/`--frequency` applied to a hardware model: a frequency alone
/// takes the voltage of the hardware's V-f curve.
fn at_operating_point(args: &Args, hw: &HardwareModel) -> CliResult<HardwareModel> {
    operating_point(hw, args.voltage, args.frequency)
        .map_err(|e| CliError::input(format!("--voltage/--frequency: {e}")))
}

/// Where the plot of `device` goes: the file named, or with several devices
/// the file named with `-deviceN` before its extension.
fn plot_path(path: &Path, device: u32, several: bool) -> PathBuf {
    if !several {
        return path.to_path_buf();
    }
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let name = match path.extension() {
        Some(ext) => format!("{stem}-device{device}.{}", ext.to_string_lossy()),
        None => format!("{stem}-device{device}"),
    };
    path.with_file_name(name)
}

/// One device composed under each of `policies` (the one asked for, or all
/// of them with `--compare-gating`), each report with every policy's totals.
///
/// The launches are mapped once for all policies; only the reports shown
/// keep a charge per record, the other policies' totals are composed
/// without (and taken from a shown report where it is the same
/// composition). With `--compare-gating`, a policy the hardware cannot
/// gate with is left out.
fn compose_trace_device<'a>(
    args: &Args,
    trace: &Path,
    profile: &'a Profile,
    timeline: &'a DeviceTimeline,
    policies: &[TimelinePolicy],
) -> CliResult<Vec<TraceEstimate<'a>>> {
    let (hw, source) = match &args.hardware {
        Some(h) => {
            let (hw, source, _) = hardware_from_arg(h)?;
            (hw, source)
        }
        None => {
            let preset = catalog_preset(timeline)
                .map_err(|e| CliError::input(format!("{}: {e}", trace.display())))?;
            (preset.model(), preset.name().to_string())
        }
    };
    let hw = at_operating_point(args, &hw)?;
    let at = |e: ComposeError| CliError::input(format!("{}: {e}", trace.display()));
    let mapped = map_device(timeline, &hw, &profile.names).map_err(at)?;
    let series_bins = if args.plot.is_some() { plot::BINS } else { 0 };
    // Each policy's totals without a series, composed once when needed.
    let mut totals: Vec<(TimelinePolicy, Result<TimelineReport, ComposeError>)> = Vec::new();
    let mut reports = Vec::with_capacity(policies.len());
    'policy: for &policy in policies {
        let options = ComposeOptions {
            policy,
            series_bins,
            ..ComposeOptions::default()
        };
        let estimate = match mapped.compose(&options) {
            Ok(e) => e,
            Err(_) if args.compare_gating && policy != TimelinePolicy::Off => continue,
            Err(e) => return Err(at(e)),
        };
        if series_bins == 0 {
            totals.push((policy, Ok(estimate.report)));
        }
        // Every policy's totals, for what each would save; a policy the
        // hardware cannot gate with is left out.
        let mut all = Vec::with_capacity(TimelinePolicy::ALL.len());
        for p in TimelinePolicy::ALL {
            if p == policy {
                all.push((p, estimate.report));
                continue;
            }
            let known = totals.iter().position(|(q, _)| *q == p);
            let index = known.unwrap_or_else(|| {
                let o = ComposeOptions {
                    policy: p,
                    ..ComposeOptions::default()
                };
                totals.push((p, mapped.totals(&o)));
                totals.len() - 1
            });
            match totals.get(index).map(|(_, r)| r) {
                Some(Ok(report)) => all.push((p, *report)),
                Some(Err(_)) if p != TimelinePolicy::Off => {}
                // Off composes whenever another policy does; if it does not,
                // this policy's report is not made.
                Some(Err(_)) if args.compare_gating && policy != TimelinePolicy::Off => {
                    continue 'policy;
                }
                Some(Err(e)) => return Err(at(e.clone())),
                None => {}
            }
        }
        let spec = hw.spec();
        reports.push(TraceEstimate {
            trace: trace.display().to_string(),
            hardware_source: source.clone(),
            timeline,
            names: &profile.names,
            estimate,
            policies: all,
            hardware_name: spec.name.to_string(),
            unit_name: spec.unit_name.to_string(),
        });
    }
    Ok(reports)
}

/// `estimate --trace FILE`.
fn run_trace(args: &Args, trace: &Path) -> CliResult {
    let policy = match &args.gating {
        None => TimelinePolicy::Off,
        Some(g) => TimelinePolicy::from_name(g).ok_or_else(|| {
            CliError::input(format!(
                "unknown gating policy `{g}` for a trace; use off, always, timeout or oracle"
            ))
        })?,
    };
    if let Some(p) = &args.plot {
        out::check_output("--plot", p)?;
    }
    let profile =
        read_profile(trace).map_err(|e| CliError::input(format!("{}: {e}", trace.display())))?;
    let timelines: Vec<&DeviceTimeline> = match args.device {
        Some(n) => vec![profile.device(n).ok_or_else(|| {
            let ids: Vec<String> = profile
                .devices
                .iter()
                .map(|d| d.device.to_string())
                .collect();
            CliError::input(format!(
                "{}: no device {n} in the trace; it has device {}",
                trace.display(),
                ids.join(", ")
            ))
        })?],
        None => profile.devices.iter().collect(),
    };
    let several = timelines.len() > 1;
    let policies: Vec<TimelinePolicy> = if args.compare_gating {
        TimelinePolicy::ALL.to_vec()
    } else {
        vec![policy]
    };
    let mut reports = Vec::new();
    for t in &timelines {
        reports.extend(compose_trace_device(args, trace, &profile, t, &policies)?);
    }
    if let Some(path) = &args.plot {
        for r in reports
            .iter()
            .filter(|r| r.estimate.report.policy == policy)
        {
            let svg = plot::svg(r).map_err(CliError::failure)?;
            out::write_file(&plot_path(path, r.estimate.device, several), &svg)?;
        }
    }
    if args.json {
        // Serialized straight from the report types: a million kernels go
        // out without an intermediate `serde_json::Value` tree.
        let mut values: Vec<json::TraceJson> = reports.iter().map(json::trace).collect();
        if values.len() == 1 {
            if let Some(one) = values.pop() {
                print_json(&one)?;
            }
        } else {
            print_json(&json::TraceReports {
                trace: trace.display().to_string(),
                reports: values,
            })?;
        }
    } else if args.csv {
        out::stdout(&csv::trace(&reports))?;
    } else {
        let text: Vec<String> = reports.iter().map(|r| human::trace(r, args.top)).collect();
        out::stdout(&text.join("\n"))?;
    }
    Ok(exit::OK)
}
