//! `wattledger estimate`: compose a model's energy from a model file.
//!
//! Argument handling and running only: the model file is read by
//! [`wattledger_std::model_file`], the reports are written by
//! [`wattledger_std::exporters`].

use std::path::PathBuf;

use wattledger_core::compose::GatingPolicy;
use wattledger_std::exporters::{csv, human, json, power_warnings};
use wattledger_std::model_file::{
    Model, Outcome, builtin_model, compose, hardware_from_arg, load_model, parse_policy,
};

use crate::{CliError, CliResult, exit, out, print_json};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Model file (JSON, see the README). Without it: ResNet-18 at batch 1 on an H100 SXM5.
    model: Option<PathBuf>,
    /// Hardware: a preset name (seed-h100, h100-sxm5, a100-40gb, h200, b200,
    /// agx-orin-15w, agx-orin-30w, agx-orin-50w, agx-orin-maxn, orin-nano) or a
    /// JSON file with a hardware object. Overrides the model file's.
    #[arg(long, value_name = "PRESET|FILE")]
    hardware: Option<String>,
    /// Gating policy for unallocated units: off, always or break-even.
    #[arg(long, value_name = "POLICY")]
    gating: Option<String>,
    /// Operating voltage in volts (default: the hardware's current point).
    #[arg(long, value_name = "V")]
    voltage: Option<f64>,
    /// Operating frequency in MHz (default: the hardware's current point).
    #[arg(long, value_name = "MHZ")]
    frequency: Option<f64>,
    /// Print JSON instead of tables.
    #[arg(long, conflicts_with = "csv")]
    json: bool,
    /// Print one CSV row per subgraph (and a total row) instead of tables.
    #[arg(long)]
    csv: bool,
    /// Compose under Off, Always and BreakEven and show them side by side.
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
    if args.voltage.is_some() || args.frequency.is_some() {
        let dvfs = &model.hardware.spec().dvfs;
        let v = args.voltage.unwrap_or(dvfs.voltage_v);
        let f = args.frequency.unwrap_or(dvfs.frequency_mhz);
        model.hardware = model
            .hardware
            .with_operating_point(v, f)
            .map_err(|e| CliError::input(format!("--voltage/--frequency: {e}")))?;
    }
    if let Some(g) = &args.gating {
        model.gating = parse_policy(g)?;
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
