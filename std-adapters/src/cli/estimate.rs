//! `wattledger estimate`: compose a model's energy from a model file.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::Value;
use wattledger_core::compose::{
    ComposeError, Composer, DEFAULT_WIDTH, Flags, FnSink, GatingPolicy, ModelReport, Record,
    StageRecord, Subgraph, SubgraphRecord,
};
use wattledger_core::hardware::{HardwareModel, HardwareSpec, Precision};
use wattledger_core::presets::Preset;
use wattledger_core::scenario::{RESNET18_H100, RESNET18_NAMES};
use wattledger_core::state::PowerState;

use super::format::{pct, print_json, si};
use super::{CliError, CliResult, exit, json_error, read_file};

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

/// A model ready to compose.
#[derive(Debug, Clone)]
pub struct Model {
    /// What to call it in the output.
    pub title: String,
    /// The hardware at its operating point.
    pub hardware: HardwareModel,
    /// Preset name, or "inline" / the file it came from.
    pub hardware_source: String,
    /// The policy from the file or the command line.
    pub gating: GatingPolicy,
    /// Subgraphs, id = index in `names`.
    pub subgraphs: Vec<Subgraph>,
    /// Subgraph names by id.
    pub names: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ModelFile {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    hardware: Option<Value>,
    #[serde(default)]
    gating: Option<String>,
    #[serde(default)]
    operating_point: Option<OperatingPoint>,
    subgraphs: Vec<Value>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct OperatingPoint {
    #[serde(default)]
    voltage_v: Option<f64>,
    #[serde(default)]
    frequency_mhz: Option<f64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SubgraphEntry {
    name: String,
    stage: u32,
    #[serde(default)]
    flops: f64,
    precision: Precision,
    #[serde(default)]
    input_bytes: f64,
    #[serde(default)]
    output_bytes: f64,
    #[serde(default)]
    weight_bytes: f64,
    latency_s: f64,
    #[serde(default)]
    units_allocated: Option<u32>,
    #[serde(default)]
    threads: Option<u64>,
}

fn preset_names() -> String {
    Preset::ALL
        .iter()
        .map(|p| p.name())
        .collect::<Vec<_>>()
        .join(", ")
}

fn parse_policy(name: &str) -> CliResult<GatingPolicy> {
    GatingPolicy::from_name(name).ok_or_else(|| {
        CliError::input(format!(
            "unknown gating policy `{name}`; use off, always or break-even"
        ))
    })
}

/// The hardware a JSON value describes: a preset name, a full hardware
/// object, or `{"preset": NAME, ...fields to change}`.
fn hardware_from_value(value: &Value, origin: &str) -> CliResult<HardwareModel> {
    match value {
        Value::String(name) => Preset::from_name(name).map(Preset::model).ok_or_else(|| {
            CliError::input(format!(
                "{origin}: unknown hardware preset `{name}`; presets: {}",
                preset_names()
            ))
        }),
        Value::Object(fields) => {
            let mut base = match fields.get("preset") {
                Some(Value::String(name)) => {
                    let preset = Preset::from_name(name).ok_or_else(|| {
                        CliError::input(format!(
                            "{origin}: unknown hardware preset `{name}`; presets: {}",
                            preset_names()
                        ))
                    })?;
                    serde_json::to_value(preset.model().spec())
                        .map_err(|e| CliError::failure(format!("cannot copy preset {name}: {e}")))?
                }
                Some(_) => {
                    return Err(CliError::input(format!(
                        "{origin}: hardware.preset must be a preset name"
                    )));
                }
                None => Value::Object(serde_json::Map::new()),
            };
            for (key, v) in fields {
                if key == "preset" {
                    continue;
                }
                merge(&mut base, key, v);
            }
            let spec: HardwareSpec = serde_json::from_value(base)
                .map_err(|e| CliError::input(format!("{origin}: hardware: {e}")))?;
            HardwareModel::new(spec)
                .map_err(|e| CliError::input(format!("{origin}: hardware: {e}")))
        }
        _ => Err(CliError::input(format!(
            "{origin}: hardware must be a preset name or an object"
        ))),
    }
}

/// Puts `value` at `key` of `base`, merging objects one level down
/// (`gating`, `dvfs`) and accepting `energy_per_op_j` as an object keyed by
/// precision name.
fn merge(base: &mut Value, key: &str, value: &Value) {
    let Value::Object(map) = base else {
        return;
    };
    if key == "energy_per_op_j" {
        if let Value::Object(by_name) = value {
            let mut table = match map.get(key) {
                Some(Value::Array(a)) if a.len() == Precision::ALL.len() => a.clone(),
                _ => vec![Value::Null; Precision::ALL.len()],
            };
            for (name, v) in by_name {
                match Precision::from_name(name) {
                    Some(p) => {
                        if let Some(slot) = table.get_mut(p as usize) {
                            *slot = v.clone();
                        }
                    }
                    // Leave it in: serde then names the bad key.
                    None => table.push(Value::String(name.clone())),
                }
            }
            map.insert(key.to_string(), Value::Array(table));
            return;
        }
    }
    match (map.get_mut(key), value) {
        (Some(Value::Object(inner)), Value::Object(changes)) => {
            for (k, v) in changes {
                inner.insert(k.clone(), v.clone());
            }
        }
        _ => {
            map.insert(key.to_string(), value.clone());
        }
    }
}

fn hardware_from_arg(arg: &str) -> CliResult<(HardwareModel, String)> {
    if let Some(p) = Preset::from_name(arg) {
        return Ok((p.model(), p.name().to_string()));
    }
    let path = Path::new(arg);
    if !path.exists() {
        return Err(CliError::input(format!(
            "--hardware `{arg}` is neither a preset nor a file; presets: {}",
            preset_names()
        )));
    }
    let text = read_file(path, "hardware file")?;
    let value: Value = serde_json::from_str(&text).map_err(|e| json_error(path, &e))?;
    let model = hardware_from_value(&value, &path.display().to_string())?;
    Ok((model, path.display().to_string()))
}

/// Reads and checks a model file.
pub fn load_model(path: &Path) -> CliResult<Model> {
    let text = read_file(path, "model file")?;
    let origin = path.display().to_string();
    let file: ModelFile = serde_json::from_str(&text).map_err(|e| json_error(path, &e))?;
    let (hardware, hardware_source) = match &file.hardware {
        None => (
            Preset::H100Sxm5.model(),
            Preset::H100Sxm5.name().to_string(),
        ),
        Some(v) => {
            let source = match v {
                Value::String(s) => s.clone(),
                _ => "inline".to_string(),
            };
            (hardware_from_value(v, &origin)?, source)
        }
    };
    let hardware = match &file.operating_point {
        None => hardware,
        Some(op) => {
            let dvfs = &hardware.spec().dvfs;
            let v = op.voltage_v.unwrap_or(dvfs.voltage_v);
            let f = op.frequency_mhz.unwrap_or(dvfs.frequency_mhz);
            hardware
                .with_operating_point(v, f)
                .map_err(|e| CliError::input(format!("{origin}: operating_point: {e}")))?
        }
    };
    let gating = match &file.gating {
        None => GatingPolicy::Off,
        Some(name) => {
            parse_policy(name).map_err(|e| CliError::input(format!("{origin}: {}", e.message)))?
        }
    };
    if file.subgraphs.is_empty() {
        return Err(CliError::input(format!(
            "{origin}: `subgraphs` is empty; give at least one subgraph"
        )));
    }
    let mut subgraphs = Vec::with_capacity(file.subgraphs.len());
    let mut names = Vec::with_capacity(file.subgraphs.len());
    for (i, raw) in file.subgraphs.iter().enumerate() {
        let label = match raw.get("name").and_then(Value::as_str) {
            Some(n) => format!("subgraph '{n}' (#{i})"),
            None => format!("subgraph #{i}"),
        };
        let e: SubgraphEntry = serde_json::from_value(raw.clone())
            .map_err(|e| CliError::input(format!("{origin}: {label}: {e}")))?;
        let id = u32::try_from(i)
            .map_err(|_| CliError::input(format!("{origin}: too many subgraphs")))?;
        subgraphs.push(Subgraph {
            id,
            stage: e.stage,
            flops: e.flops,
            precision: e.precision,
            input_bytes: e.input_bytes,
            output_bytes: e.output_bytes,
            weight_bytes: e.weight_bytes,
            latency_s: e.latency_s,
            units_allocated: e.units_allocated,
            threads: e.threads,
        });
        names.push(e.name);
    }
    let title = file.name.unwrap_or_else(|| {
        path.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| origin.clone())
    });
    Ok(Model {
        title,
        hardware,
        hardware_source,
        gating,
        subgraphs,
        names,
    })
}

/// The built-in ResNet-18 scenario.
pub fn builtin_model() -> Model {
    Model {
        title: "ResNet-18, batch 1, FP16 (built-in)".to_string(),
        hardware: Preset::H100Sxm5.model(),
        hardware_source: Preset::H100Sxm5.name().to_string(),
        gating: GatingPolicy::Off,
        subgraphs: RESNET18_H100.to_vec(),
        names: RESNET18_NAMES.iter().map(|s| s.to_string()).collect(),
    }
}

/// A composed model.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub report: ModelReport,
    pub stages: Vec<StageRecord>,
    pub subgraphs: Vec<SubgraphRecord>,
}

fn name_of(names: &[String], id: u32) -> String {
    names
        .get(id as usize)
        .cloned()
        .unwrap_or_else(|| format!("#{id}"))
}

/// A composer error in the model file's words: the subgraph by name, the
/// field by its key.
fn describe(e: ComposeError, model: &Model, origin: &str) -> CliError {
    let id = match e {
        ComposeError::NotANumber { id, .. }
        | ComposeError::Infinite { id, .. }
        | ComposeError::Negative { id, .. }
        | ComposeError::ZeroAllocation { id }
        | ComposeError::UnsupportedPrecision { id, .. }
        | ComposeError::StageOutOfOrder { id, .. }
        | ComposeError::StageFull { id, .. }
        | ComposeError::LegacySharesStage { id, .. } => Some(id),
        _ => None,
    };
    let text = e.to_string();
    let message = match (e, id) {
        (ComposeError::StageFull { id, capacity }, _) => {
            let stage = model.subgraphs.get(id as usize).map_or(0, |s| s.stage);
            format!(
                "stage {stage} has more than {capacity} concurrent subgraphs (at subgraph '{}'); \
                 the composer holds at most {capacity} per stage, so split the stage",
                name_of(&model.names, id)
            )
        }
        (_, Some(id)) => {
            let rest = text
                .strip_prefix(&format!("subgraph {id}: "))
                .unwrap_or(&text);
            format!("subgraph '{}' (#{id}): {rest}", name_of(&model.names, id))
        }
        (_, None) => text,
    };
    CliError::input(format!("{origin}: {message}"))
}

/// Composes `model` under `policy`, collecting every record.
pub fn compose(model: &Model, policy: GatingPolicy, origin: &str) -> CliResult<Outcome> {
    let mut composer: Composer<DEFAULT_WIDTH> = Composer::new(model.hardware.clone(), policy)
        .map_err(|e| CliError::input(format!("{origin}: {e}")))?;
    // Stages must arrive in order; a stable sort keeps each stage's file order.
    let mut order: Vec<&Subgraph> = model.subgraphs.iter().collect();
    order.sort_by_key(|s| s.stage);
    let mut stages = Vec::new();
    let mut subgraphs = Vec::new();
    let mut sink = FnSink(|r: Record<'_>| match r {
        Record::Subgraph(s) => subgraphs.push(*s),
        Record::Stage(s) => stages.push(*s),
    });
    for s in order {
        composer
            .push(s, &mut sink)
            .map_err(|e| describe(e, model, origin))?;
    }
    let report = composer
        .finish(&mut sink)
        .map_err(|e| describe(e.into(), model, origin))?;
    Ok(Outcome {
        report,
        stages,
        subgraphs,
    })
}

fn flag_names(flags: Flags) -> Vec<&'static str> {
    [
        (Flags::OVERSUBSCRIBED, "oversubscribed"),
        (Flags::LEGACY_PATH, "legacy_path"),
        (Flags::LEGACY_NO_THREADS, "legacy_no_threads"),
        (Flags::WOKE_DOMAINS, "woke_domains"),
        (Flags::GATED_DOMAINS, "gated_domains"),
    ]
    .into_iter()
    .filter(|(f, _)| flags.contains(*f))
    .map(|(_, n)| n)
    .collect()
}

fn warnings(model: &Model, out: &Outcome) -> Vec<String> {
    let units = model.hardware.units();
    let mut w = Vec::new();
    for s in &out.stages {
        if s.flags.contains(Flags::OVERSUBSCRIBED) {
            w.push(format!(
                "stage {}: oversubscribed, {} units requested of {units}; allocations were scaled by {units}/{} for the accounting",
                s.stage, s.units_requested, s.units_requested
            ));
        }
        if s.flags.contains(Flags::LEGACY_NO_THREADS) {
            w.push(format!(
                "stage {}: legacy path (no units_allocated) and no threads given; the whole chip counts as active",
                s.stage
            ));
        } else if s.flags.contains(Flags::LEGACY_PATH) {
            w.push(format!(
                "stage {}: legacy path (no units_allocated): the subgraph holds the whole chip and nothing can be gated",
                s.stage
            ));
        }
    }
    w
}

#[derive(Debug, Serialize)]
struct StateJson {
    energy_j: f64,
    unit_seconds: f64,
}

#[derive(Debug, Serialize)]
struct StageJson {
    stage: u32,
    subgraphs: u32,
    duration_s: f64,
    wake_s: f64,
    units_requested: u64,
    units_allocated: u32,
    domains_woken: u32,
    domains_powered_down: u32,
    domains_gated: u32,
    compute_energy_j: f64,
    memory_energy_j: f64,
    static_energy_j: f64,
    uncore_energy_j: f64,
    transition_energy_j: f64,
    power_gating_savings_j: f64,
    total_energy_j: f64,
    flags: Vec<&'static str>,
}

#[derive(Debug, Serialize)]
struct SubgraphJson {
    name: String,
    id: u32,
    stage: u32,
    units: f64,
    latency_s: f64,
    active_unit_seconds: f64,
    idle_allocated_unit_seconds: f64,
    legacy_utilization: Option<f64>,
    compute_energy_j: f64,
    memory_energy_j: f64,
    own_static_energy_j: f64,
    shared_energy_j: f64,
    total_energy_j: f64,
}

#[derive(Debug, Serialize)]
struct EstimateJson {
    model: String,
    hardware: String,
    hardware_name: String,
    units: u32,
    unit_name: String,
    gating: &'static str,
    voltage_v: f64,
    frequency_mhz: f64,
    total_energy_j: f64,
    latency_s: f64,
    average_power_w: f64,
    states: BTreeMap<&'static str, StateJson>,
    compute_energy_j: f64,
    memory_energy_j: f64,
    static_energy_j: f64,
    uncore_energy_j: f64,
    transition_energy_j: f64,
    power_gating_savings_j: f64,
    wasted_energy_j: f64,
    utilization: f64,
    peak_units_allocated: u32,
    average_units_allocated: f64,
    transitions: u64,
    flags: Vec<&'static str>,
    stages: Vec<StageJson>,
    subgraphs: Vec<SubgraphJson>,
    warnings: Vec<String>,
}

fn to_json(model: &Model, out: &Outcome) -> EstimateJson {
    let r = &out.report;
    let spec = model.hardware.spec();
    EstimateJson {
        model: model.title.clone(),
        hardware: model.hardware_source.clone(),
        hardware_name: spec.name.to_string(),
        units: r.units,
        unit_name: spec.unit_name.to_string(),
        gating: r.policy.name(),
        voltage_v: spec.dvfs.voltage_v,
        frequency_mhz: spec.dvfs.frequency_mhz,
        total_energy_j: r.energy.total_j,
        latency_s: r.latency_s,
        average_power_w: if r.latency_s > 0.0 {
            r.energy.total_j / r.latency_s
        } else {
            0.0
        },
        states: PowerState::ALL
            .iter()
            .map(|&s| {
                let t = r.states.get(s);
                (
                    s.name(),
                    StateJson {
                        energy_j: t.energy_j,
                        unit_seconds: t.unit_seconds,
                    },
                )
            })
            .collect(),
        compute_energy_j: r.energy.compute_j,
        memory_energy_j: r.energy.memory_j,
        static_energy_j: r.energy.static_j,
        uncore_energy_j: r.energy.uncore_j,
        transition_energy_j: r.energy.transition_j,
        power_gating_savings_j: r.energy.savings_j,
        wasted_energy_j: r.wasted_energy_j,
        utilization: r.utilization,
        peak_units_allocated: r.peak_units_allocated,
        average_units_allocated: r.average_units_allocated,
        transitions: r.transitions,
        flags: flag_names(r.flags),
        stages: out
            .stages
            .iter()
            .map(|s| StageJson {
                stage: s.stage,
                subgraphs: s.subgraphs,
                duration_s: s.duration_s,
                wake_s: s.wake_s,
                units_requested: s.units_requested,
                units_allocated: s.units_allocated,
                domains_woken: s.domains_woken,
                domains_powered_down: s.domains_powered_down,
                domains_gated: s.domains_gated,
                compute_energy_j: s.energy.compute_j,
                memory_energy_j: s.energy.memory_j,
                static_energy_j: s.energy.static_j,
                uncore_energy_j: s.energy.uncore_j,
                transition_energy_j: s.energy.transition_j,
                power_gating_savings_j: s.energy.savings_j,
                total_energy_j: s.energy.total_j,
                flags: flag_names(s.flags),
            })
            .collect(),
        subgraphs: out
            .subgraphs
            .iter()
            .map(|s| SubgraphJson {
                name: name_of(&model.names, s.id),
                id: s.id,
                stage: s.stage,
                units: s.units,
                latency_s: s.latency_s,
                active_unit_seconds: s.active_unit_seconds,
                idle_allocated_unit_seconds: s.idle_allocated_unit_seconds,
                legacy_utilization: s.legacy_utilization,
                compute_energy_j: s.compute_energy_j,
                memory_energy_j: s.memory_energy_j,
                own_static_energy_j: s.own_static_energy_j,
                shared_energy_j: s.shared_energy_j,
                total_energy_j: s.total_energy_j,
            })
            .collect(),
        warnings: warnings(model, out),
    }
}

fn state_label(s: PowerState) -> &'static str {
    match s {
        PowerState::Active => "active",
        PowerState::IdleAllocated => "idle, allocated",
        PowerState::IdleUnallocated => "idle, unallocated",
        PowerState::Gated => "gated",
        PowerState::Transitioning => "transitioning",
    }
}

fn print_human(model: &Model, out: &Outcome, top: usize) {
    let r = &out.report;
    let spec = model.hardware.spec();
    println!("Model      {}", model.title);
    println!(
        "Hardware   {} ({}: {} {}s), gating {}, {} V, {} MHz",
        spec.name,
        model.hardware_source,
        r.units,
        spec.unit_name,
        r.policy.name(),
        spec.dvfs.voltage_v,
        spec.dvfs.frequency_mhz
    );
    println!(
        "Total      {} over {} ({} average), {} subgraphs in {} stages",
        si(r.energy.total_j, "J"),
        si(r.latency_s, "s"),
        si(
            if r.latency_s > 0.0 {
                r.energy.total_j / r.latency_s
            } else {
                0.0
            },
            "W"
        ),
        r.subgraphs,
        r.stages
    );
    println!();
    println!(
        "{:<20} {:>14} {:>12} {:>8}",
        "power state", "unit-seconds", "energy", "share"
    );
    for s in PowerState::ALL {
        let t = r.states.get(s);
        let share = if r.energy.total_j > 0.0 {
            t.energy_j / r.energy.total_j
        } else {
            0.0
        };
        println!(
            "{:<20} {:>14} {:>12} {:>8}",
            state_label(s),
            si(t.unit_seconds, "s"),
            si(t.energy_j, "J"),
            pct(share)
        );
    }
    println!();
    let parts = [
        ("compute", r.energy.compute_j),
        ("memory", r.energy.memory_j),
        ("static", r.energy.static_j),
        ("uncore", r.energy.uncore_j),
        ("transitions", r.energy.transition_j),
    ];
    println!("{:<20} {:>12} {:>8}", "energy", "", "share");
    for (name, e) in parts {
        let share = if r.energy.total_j > 0.0 {
            e / r.energy.total_j
        } else {
            0.0
        };
        println!("{:<20} {:>12} {:>8}", name, si(e, "J"), pct(share));
    }
    println!("{:<20} {:>12}", "total", si(r.energy.total_j, "J"));
    println!();
    let static_without = r.energy.static_j + r.energy.savings_j;
    println!(
        "gating saving        {} ({} of the static energy without gating)",
        si(r.energy.savings_j, "J"),
        pct(if static_without > 0.0 {
            r.energy.savings_j / static_without
        } else {
            0.0
        })
    );
    println!(
        "wasted (idle)        {} ({} of the total)",
        si(r.wasted_energy_j, "J"),
        pct(if r.energy.total_j > 0.0 {
            r.wasted_energy_j / r.energy.total_j
        } else {
            0.0
        })
    );
    println!(
        "utilisation          {} (peak {} of {} {}s allocated, average {:.1}); {} domain transitions",
        pct(r.utilization),
        r.peak_units_allocated,
        r.units,
        spec.unit_name,
        r.average_units_allocated,
        r.transitions
    );
    if top > 0 && !out.subgraphs.is_empty() {
        println!();
        let mut costly: Vec<&SubgraphRecord> = out.subgraphs.iter().collect();
        costly.sort_by(|a, b| b.total_energy_j.total_cmp(&a.total_energy_j));
        println!(
            "{:<24} {:>5} {:>6} {:>11} {:>12} {:>8}",
            "costliest subgraphs", "stage", "units", "latency", "energy", "share"
        );
        for s in costly.into_iter().take(top) {
            println!(
                "{:<24} {:>5} {:>6} {:>11} {:>12} {:>8}",
                name_of(&model.names, s.id),
                s.stage,
                format!("{:.0}", s.units),
                si(s.latency_s, "s"),
                si(s.total_energy_j, "J"),
                pct(if r.energy.total_j > 0.0 {
                    s.total_energy_j / r.energy.total_j
                } else {
                    0.0
                })
            );
        }
    }
    for w in warnings(model, out) {
        println!("warning: {w}");
    }
}

fn print_comparison(model: &Model, results: &[(GatingPolicy, Result<Outcome, String>)]) {
    let spec = model.hardware.spec();
    println!("Model      {}", model.title);
    println!(
        "Hardware   {} ({}: {} {}s), {} V, {} MHz",
        spec.name,
        model.hardware_source,
        spec.units,
        spec.unit_name,
        spec.dvfs.voltage_v,
        spec.dvfs.frequency_mhz
    );
    println!();
    print!("{:<22}", "gating");
    for (p, _) in results {
        print!(" {:>14}", p.name());
    }
    println!();
    type Getter = fn(&ModelReport) -> String;
    let rows: [(&str, Getter); 12] = [
        ("total energy", |r| si(r.energy.total_j, "J")),
        ("latency", |r| si(r.latency_s, "s")),
        ("compute", |r| si(r.energy.compute_j, "J")),
        ("memory", |r| si(r.energy.memory_j, "J")),
        ("static", |r| si(r.energy.static_j, "J")),
        ("uncore", |r| si(r.energy.uncore_j, "J")),
        ("transitions", |r| si(r.energy.transition_j, "J")),
        ("gating saving", |r| si(r.energy.savings_j, "J")),
        ("wasted (idle)", |r| si(r.wasted_energy_j, "J")),
        ("gated unit-seconds", |r| {
            si(r.states.get(PowerState::Gated).unit_seconds, "s")
        }),
        ("utilisation", |r| pct(r.utilization)),
        ("domain transitions", |r| r.transitions.to_string()),
    ];
    for (label, get) in rows {
        print!("{label:<22}");
        for (_, o) in results {
            match o {
                Ok(o) => print!(" {:>14}", get(&o.report)),
                Err(_) => print!(" {:>14}", "n/a"),
            }
        }
        println!();
    }
    if let Some(Ok(off)) = results.first().map(|(_, o)| o) {
        print!("{:<22}", "vs off");
        for (_, o) in results {
            match o {
                Ok(o) if off.report.energy.total_j > 0.0 => print!(
                    " {:>14}",
                    format!(
                        "{:+.1} %",
                        (o.report.energy.total_j / off.report.energy.total_j - 1.0) * 100.0
                    )
                ),
                _ => print!(" {:>14}", "n/a"),
            }
        }
        println!();
    }
    for (p, o) in results {
        if let Err(e) = o {
            println!("note: {}: {e}", p.name());
        }
    }
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

fn print_csv(model: &Model, outcomes: &[(GatingPolicy, Outcome)]) {
    println!(
        "gating,subgraph,id,stage,units,latency_s,compute_energy_j,memory_energy_j,own_static_energy_j,shared_energy_j,total_energy_j"
    );
    for (p, o) in outcomes {
        for s in &o.subgraphs {
            println!(
                "{},{},{},{},{},{},{},{},{},{},{}",
                p.name(),
                csv_field(&name_of(&model.names, s.id)),
                s.id,
                s.stage,
                s.units,
                s.latency_s,
                s.compute_energy_j,
                s.memory_energy_j,
                s.own_static_energy_j,
                s.shared_energy_j,
                s.total_energy_j
            );
        }
        let r = &o.report;
        println!(
            "{},(total),,,{},{},{},{},{},{},{}",
            p.name(),
            r.average_units_allocated,
            r.latency_s,
            r.energy.compute_j,
            r.energy.memory_j,
            r.energy.static_j,
            r.energy.uncore_j + r.energy.transition_j,
            r.energy.total_j
        );
    }
}

pub fn run(args: &Args) -> CliResult {
    let (mut model, origin) = match &args.model {
        Some(path) => (load_model(path)?, path.display().to_string()),
        None => (builtin_model(), "built-in model".to_string()),
    };
    if let Some(h) = &args.hardware {
        let (hw, source) = hardware_from_arg(h)?;
        model.hardware = hw;
        model.hardware_source = source;
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
        if let Some((_, Err(e))) = results.first() {
            return Err(CliError::input(e.clone()));
        }
        if args.json {
            let policies: Vec<Value> = results
                .iter()
                .map(|(p, o)| match o {
                    Ok(o) => serde_json::to_value(to_json(&model, o)).unwrap_or(Value::Null),
                    Err(e) => serde_json::json!({"gating": p.name(), "error": e}),
                })
                .collect();
            print_json(&serde_json::json!({ "model": model.title, "policies": policies }))?;
        } else if args.csv {
            let ok: Vec<(GatingPolicy, Outcome)> = results
                .into_iter()
                .filter_map(|(p, o)| o.ok().map(|o| (p, o)))
                .collect();
            print_csv(&model, &ok);
        } else {
            print_comparison(&model, &results);
        }
        return Ok(exit::OK);
    }
    let outcome = compose(&model, model.gating, &origin)?;
    if args.json {
        print_json(&to_json(&model, &outcome))?;
    } else if args.csv {
        print_csv(&model, &[(model.gating, outcome)]);
    } else {
        print_human(&model, &outcome, args.top);
    }
    Ok(exit::OK)
}
