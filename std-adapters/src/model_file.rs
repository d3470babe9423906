//! Model files: a model and its hardware, read from JSON, ready to compose.
//!
//! The format is the README's "The model file": an optional `name`,
//! `hardware` (a preset name, a full hardware object, or a preset with some
//! fields changed), `gating`, `operating_point`, and the `subgraphs`. Every
//! error is an [`InputError`] in the file's own words: the file, the
//! subgraph by name and the field by its key, or a JSON syntax error's line
//! and column. [`compose`] runs the composer over a model and keeps every
//! record, with its errors in the same words.

use std::fmt;
use std::path::Path;

use serde::Deserialize;
use serde_json::Value;
use wattledger_core::compose::{
    ComposeError, Composer, DEFAULT_WIDTH, FnSink, GatingPolicy, ModelReport, Record, StageRecord,
    Subgraph, SubgraphRecord,
};
use wattledger_core::hardware::{HardwareError, HardwareModel, HardwareSpec, Precision};
use wattledger_core::presets::{MaxPower, Preset};
use wattledger_core::scenario::{RESNET18_H100, RESNET18_NAMES};

/// A file or value the user gave is wrong; the message says where and what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputError {
    /// One line: what is wrong and, where it helps, what to do.
    pub message: String,
}

impl InputError {
    /// An error with this message.
    pub fn new(message: impl Into<String>) -> Self {
        InputError {
            message: message.into(),
        }
    }
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for InputError {}

/// Reads a whole UTF-8 text file, or says why not and what to do. A UTF-8
/// byte-order mark (which some Windows editors write) is skipped.
///
/// # Errors
/// [`InputError`] naming `what` and the path: the file cannot be read
/// (the OS's words), or it is not UTF-8 (where the first bad byte is).
pub fn read_file(path: &Path, what: &str) -> Result<String, InputError> {
    let bytes = std::fs::read(path).map_err(|e| {
        InputError::new(format!(
            "cannot read {what} {}: {e}; check the path and its permissions",
            path.display()
        ))
    })?;
    let text = String::from_utf8(bytes).map_err(|e| {
        InputError::new(format!(
            "{what} {} is not UTF-8 text (invalid byte at offset {}); save it as UTF-8",
            path.display(),
            e.utf8_error().valid_up_to()
        ))
    })?;
    Ok(match text.strip_prefix('\u{feff}') {
        Some(rest) => rest.to_owned(),
        None => text,
    })
}

/// A JSON syntax or type error as `FILE:LINE:COLUMN: what is wrong`, with
/// what to do for a syntax error. The position is said once (serde_json's
/// own message ends with it too).
pub fn json_error(path: &Path, e: &serde_json::Error) -> InputError {
    let text = e.to_string();
    let what = text
        .strip_suffix(&format!(" at line {} column {}", e.line(), e.column()))
        .unwrap_or(&text);
    let hint = match e.classify() {
        serde_json::error::Category::Syntax => "; fix the JSON syntax there",
        serde_json::error::Category::Eof => {
            "; the file ends too early: close every bracket and brace"
        }
        _ => "",
    };
    InputError::new(format!(
        "{}:{}:{}: {what}{hint}",
        path.display(),
        e.line(),
        e.column()
    ))
}

/// The closest of `known` to `word`, when it is close enough to be a typo
/// (at most two letters changed, added or dropped).
fn closest<'a>(word: &str, known: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    fn distance(a: &str, b: &str) -> usize {
        let b: Vec<char> = b.chars().collect();
        let mut row: Vec<usize> = (0..=b.len()).collect();
        for (i, ca) in a.chars().enumerate() {
            let mut diagonal = row.first().copied().unwrap_or(0);
            if let Some(first) = row.first_mut() {
                *first = i + 1;
            }
            for (j, cb) in b.iter().enumerate() {
                let above = row.get(j + 1).copied().unwrap_or(0);
                let left = row.get(j).copied().unwrap_or(0);
                let value = (diagonal + usize::from(ca != *cb))
                    .min(above + 1)
                    .min(left + 1);
                diagonal = above;
                if let Some(slot) = row.get_mut(j + 1) {
                    *slot = value;
                }
            }
        }
        row.last().copied().unwrap_or(0)
    }
    known
        .map(|k| (distance(word, k), k))
        .filter(|&(d, _)| d <= 2)
        .min_by_key(|&(d, _)| d)
        .map(|(_, k)| k)
}

/// Refuses any key of `fields` that `template` (a hardware spec as JSON)
/// does not have, one object level down too (`gating`, `dvfs`): a typo in
/// an override would otherwise be ignored and the preset's value used.
fn check_hardware_fields(
    fields: &serde_json::Map<String, Value>,
    template: &Value,
    path: &str,
    origin: &str,
) -> Result<(), InputError> {
    let Value::Object(known) = template else {
        return Ok(());
    };
    for (key, value) in fields {
        if path == "hardware" && key == "preset" {
            continue;
        }
        match known.get(key) {
            None => {
                let hint = closest(key, known.keys().map(String::as_str))
                    .map_or_else(String::new, |k| format!("did you mean `{k}`? "));
                let names: Vec<&str> = known.keys().map(String::as_str).collect();
                return Err(InputError::new(format!(
                    "{origin}: {path}: unknown field `{key}`; {hint}the fields are {}",
                    names.join(", ")
                )));
            }
            Some(inner @ Value::Object(_)) => {
                if let Value::Object(changes) = value {
                    check_hardware_fields(changes, inner, &format!("{path}.{key}"), origin)?;
                }
            }
            Some(_) => {}
        }
    }
    Ok(())
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
    /// The most the hardware can draw, when it is a preset (or a preset
    /// with fields changed): average powers above it are warned about.
    pub max_power: Option<MaxPower>,
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

/// The gating policy `name` (`off`, `always`, `break-even`).
///
/// # Errors
/// [`InputError`] for any other name.
pub fn parse_policy(name: &str) -> Result<GatingPolicy, InputError> {
    GatingPolicy::from_name(name).ok_or_else(|| {
        InputError::new(format!(
            "unknown gating policy `{name}`; use off, always or break-even"
        ))
    })
}

/// The hardware a JSON value describes: a preset name, a full hardware
/// object, or `{"preset": NAME, ...fields to change}`; with the preset's
/// maximum power where there is a preset.
fn hardware_from_value(
    value: &Value,
    origin: &str,
) -> Result<(HardwareModel, Option<MaxPower>), InputError> {
    let preset_power = value
        .as_str()
        .or_else(|| value.get("preset").and_then(Value::as_str))
        .and_then(Preset::from_name)
        .map(Preset::max_power);
    hardware_from_value_only(value, origin).map(|m| (m, preset_power))
}

fn hardware_from_value_only(value: &Value, origin: &str) -> Result<HardwareModel, InputError> {
    match value {
        Value::String(name) => Preset::from_name(name).map(Preset::model).ok_or_else(|| {
            InputError::new(format!(
                "{origin}: unknown hardware preset `{name}`; presets: {}",
                preset_names()
            ))
        }),
        Value::Object(fields) => {
            let mut base = match fields.get("preset") {
                Some(Value::String(name)) => {
                    let preset = Preset::from_name(name).ok_or_else(|| {
                        InputError::new(format!(
                            "{origin}: unknown hardware preset `{name}`; presets: {}",
                            preset_names()
                        ))
                    })?;
                    serde_json::to_value(preset.model().spec())
                        .map_err(|e| InputError::new(format!("cannot copy preset {name}: {e}")))?
                }
                Some(_) => {
                    return Err(InputError::new(format!(
                        "{origin}: hardware.preset must be a preset name"
                    )));
                }
                None => Value::Object(serde_json::Map::new()),
            };
            let template = serde_json::to_value(Preset::H100Sxm5.model().spec())
                .map_err(|e| InputError::new(format!("cannot list the hardware fields: {e}")))?;
            check_hardware_fields(fields, &template, "hardware", origin)?;
            for (key, v) in fields {
                if key == "preset" {
                    continue;
                }
                merge(&mut base, key, v)
                    .map_err(|e| InputError::new(format!("{origin}: hardware.{key}: {e}")))?;
            }
            let spec: HardwareSpec = serde_json::from_value(base)
                .map_err(|e| InputError::new(format!("{origin}: hardware: {e}")))?;
            HardwareModel::new(spec)
                .map_err(|e| InputError::new(format!("{origin}: hardware: {e}")))
        }
        _ => Err(InputError::new(format!(
            "{origin}: hardware must be a preset name or an object"
        ))),
    }
}

/// Puts `value` at `key` of `base`, merging objects one level down
/// (`gating`, `dvfs`) and accepting `energy_per_op_j` as an object keyed by
/// precision name.
///
/// # Errors
/// The words for an unknown precision name.
fn merge(base: &mut Value, key: &str, value: &Value) -> Result<(), String> {
    let Value::Object(map) = base else {
        return Ok(());
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
                    None => {
                        let names = Precision::ALL.iter().map(|p| p.name());
                        let hint = closest(name, names.clone())
                            .map_or_else(String::new, |k| format!("did you mean `{k}`? "));
                        return Err(format!(
                            "unknown precision `{name}`; {hint}the precisions are {}",
                            names.collect::<Vec<_>>().join(", ")
                        ));
                    }
                }
            }
            map.insert(key.to_string(), Value::Array(table));
            return Ok(());
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
    Ok(())
}

/// The hardware `--hardware` names: a preset, else a JSON file holding a
/// hardware value; with the name to show for it and, for a preset, its
/// maximum power.
///
/// # Errors
/// [`InputError`] when it is neither, or the file is wrong.
pub fn hardware_from_arg(
    arg: &str,
) -> Result<(HardwareModel, String, Option<MaxPower>), InputError> {
    if let Some(p) = Preset::from_name(arg) {
        return Ok((p.model(), p.name().to_string(), Some(p.max_power())));
    }
    let path = Path::new(arg);
    if !path.exists() {
        return Err(InputError::new(format!(
            "--hardware `{arg}` is neither a preset nor a file; presets: {}",
            preset_names()
        )));
    }
    let text = read_file(path, "hardware file")?;
    let value: Value = serde_json::from_str(&text).map_err(|e| json_error(path, &e))?;
    let (model, max_power) = hardware_from_value(&value, &path.display().to_string())?;
    Ok((model, path.display().to_string(), max_power))
}

/// Reads and checks a model file.
///
/// # Errors
/// [`InputError`] naming the file and, where one is at fault, the subgraph
/// and field.
pub fn load_model(path: &Path) -> Result<Model, InputError> {
    let text = read_file(path, "model file")?;
    let origin = path.display().to_string();
    let first = text.trim_start().chars().next();
    if first != Some('{') {
        let found = match first {
            Some('[') => "an array",
            Some('"') => "a string",
            None => "nothing",
            _ => "a single value",
        };
        return Err(InputError::new(format!(
            "{origin}: a model file is one JSON object, {{\"hardware\": …, \"subgraphs\": [ … ]}}, not {found}; \
             see \"The model file\" in the README"
        )));
    }
    let file: ModelFile = serde_json::from_str(&text).map_err(|e| json_error(path, &e))?;
    let (hardware, hardware_source, max_power) = match &file.hardware {
        None => (
            Preset::H100Sxm5.model(),
            Preset::H100Sxm5.name().to_string(),
            Some(Preset::H100Sxm5.max_power()),
        ),
        Some(v) => {
            let source = match (v, v.get("preset").and_then(Value::as_str)) {
                (Value::String(s), _) => s.clone(),
                (_, Some(preset)) => format!("{preset} with changes"),
                _ => "inline".to_string(),
            };
            let (hardware, max_power) = hardware_from_value(v, &origin)?;
            (hardware, source, max_power)
        }
    };
    let hardware = match &file.operating_point {
        None => hardware,
        Some(op) => operating_point(&hardware, op.voltage_v, op.frequency_mhz)
            .map_err(|e| InputError::new(format!("{origin}: operating_point: {e}")))?,
    };
    let gating = match &file.gating {
        None => GatingPolicy::Off,
        Some(name) => parse_policy(name).map_err(|e| InputError::new(format!("{origin}: {e}")))?,
    };
    if file.subgraphs.is_empty() {
        return Err(InputError::new(format!(
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
            .map_err(|e| InputError::new(format!("{origin}: {label}: {e}")))?;
        let id = u32::try_from(i)
            .map_err(|_| InputError::new(format!("{origin}: too many subgraphs")))?;
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
        max_power,
        gating,
        subgraphs,
        names,
    })
}

/// `hardware` moved to another operating point: a frequency alone takes
/// the voltage of the hardware's V–f curve ([`HardwareModel::at_frequency`]);
/// a voltage, with or without a frequency, is taken as given; neither
/// leaves the hardware as it is.
///
/// # Errors
/// The hardware model's, for a value that is not a finite positive number.
pub fn operating_point(
    hardware: &HardwareModel,
    voltage_v: Option<f64>,
    frequency_mhz: Option<f64>,
) -> Result<HardwareModel, HardwareError> {
    let dvfs = &hardware.spec().dvfs;
    match (voltage_v, frequency_mhz) {
        (None, None) => Ok(hardware.clone()),
        (None, Some(f)) => hardware.at_frequency(f),
        (Some(v), f) => hardware.with_operating_point(v, f.unwrap_or(dvfs.frequency_mhz)),
    }
}

/// One clock of [`frequency_sweep`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SweepPoint {
    /// The clock, in MHz.
    pub frequency_mhz: f64,
    /// The voltage the V–f curve gives for it, in volts.
    pub voltage_v: f64,
    /// The model's latency at that clock, in seconds.
    pub latency_s: f64,
    /// The model's energy at that clock, in joules.
    pub energy_j: f64,
}

/// Clocks a frequency sweep visits: from 30 % of the nominal clock to the
/// nominal clock (or the hardware's own, if higher), in `steps` even steps.
pub fn sweep_clocks(hardware: &HardwareModel, steps: usize) -> Vec<f64> {
    let d = &hardware.spec().dvfs;
    let high = d.nominal_frequency_mhz.max(d.frequency_mhz);
    let low = 0.3 * d.nominal_frequency_mhz;
    let steps = steps.max(2);
    (0..steps)
        .map(|k| low + (high - low) * k as f64 / (steps - 1) as f64)
        .collect()
}

/// Composes `model` at each clock of [`sweep_clocks`], the voltage set by
/// the hardware's V–f curve, latencies stretched from the model's own
/// clock by their compute-bound share.
///
/// # Errors
/// As [`compose`], or the hardware model's refusal of a clock.
pub fn frequency_sweep(
    model: &Model,
    policy: GatingPolicy,
    origin: &str,
    steps: usize,
) -> Result<Vec<SweepPoint>, InputError> {
    sweep_clocks(&model.hardware, steps)
        .into_iter()
        .map(|f| {
            let hardware = model
                .hardware
                .at_frequency(f)
                .map_err(|e| InputError::new(format!("{origin}: at {f:.0} MHz: {e}")))?;
            let voltage_v = hardware.spec().dvfs.voltage_v;
            let at = Model {
                hardware,
                ..model.clone()
            };
            let out = compose(&at, policy, origin)?;
            Ok(SweepPoint {
                frequency_mhz: f,
                voltage_v,
                latency_s: out.report.latency_s,
                energy_j: out.report.energy.total_j,
            })
        })
        .collect()
}

/// The built-in ResNet-18 scenario.
pub fn builtin_model() -> Model {
    Model {
        title: "ResNet-18, batch 1, FP16 (built-in)".to_string(),
        hardware: Preset::H100Sxm5.model(),
        hardware_source: Preset::H100Sxm5.name().to_string(),
        max_power: Some(Preset::H100Sxm5.max_power()),
        gating: GatingPolicy::Off,
        subgraphs: RESNET18_H100.to_vec(),
        names: RESNET18_NAMES.iter().map(|s| s.to_string()).collect(),
    }
}

/// A composed model: the report and every record the composer gave.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The model's totals.
    pub report: ModelReport,
    /// One record per stage, in stage order.
    pub stages: Vec<StageRecord>,
    /// One record per subgraph, in composition order.
    pub subgraphs: Vec<SubgraphRecord>,
}

/// The name of subgraph `id`, or `#id` when it has none.
pub fn name_of(names: &[String], id: u32) -> String {
    names
        .get(id as usize)
        .cloned()
        .unwrap_or_else(|| format!("#{id}"))
}

/// A composer error in the model file's words: the subgraph by name, the
/// field by its key.
fn describe(e: ComposeError, model: &Model, origin: &str) -> InputError {
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
    InputError::new(format!("{origin}: {message}"))
}

/// Composes `model` under `policy`, collecting every record.
///
/// # Errors
/// The composer's refusal as an [`InputError`] in the model file's words:
/// `origin`, the subgraph by name, the field by its key.
pub fn compose(model: &Model, policy: GatingPolicy, origin: &str) -> Result<Outcome, InputError> {
    let mut composer: Composer<DEFAULT_WIDTH> = Composer::new(model.hardware.clone(), policy)
        .map_err(|e| InputError::new(format!("{origin}: {e}")))?;
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
