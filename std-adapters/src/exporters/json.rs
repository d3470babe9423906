//! JSON: the reports as data, pretty-printed.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;
use wattledger_core::compose::GatingPolicy;
use wattledger_core::state::PowerState;

use super::{compose_flag_names, estimate_warnings, power_warnings};
use crate::model_file::{Model, Outcome, name_of};

/// `value` as pretty JSON with a final newline, as the command prints it.
///
/// # Errors
/// serde_json's, for a value it cannot write (a map with non-string keys).
pub fn to_string(value: &impl Serialize) -> Result<String, serde_json::Error> {
    serde_json::to_string_pretty(value).map(|text| text + "\n")
}

/// `estimate --compare-gating --json`: the model's title and one report per
/// policy, or `{"gating", "error"}` where the policy failed.
pub fn comparison(model: &Model, results: &[(GatingPolicy, Result<Outcome, String>)]) -> Value {
    let policies: Vec<Value> = results
        .iter()
        .map(|(p, o)| match o {
            Ok(o) => serde_json::to_value(estimate(model, o)).unwrap_or(Value::Null),
            Err(e) => serde_json::json!({"gating": p.name(), "error": e}),
        })
        .collect();
    serde_json::json!({ "model": model.title, "policies": policies })
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

/// The `estimate --json` report; its fields are the README's.
#[derive(Debug, Serialize)]
pub struct EstimateJson {
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

/// The `estimate --json` report of one composed model.
pub fn estimate(model: &Model, out: &Outcome) -> EstimateJson {
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
        flags: compose_flag_names(r.flags),
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
                flags: compose_flag_names(s.flags),
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
        warnings: estimate_warnings(model, out)
            .into_iter()
            .chain(power_warnings(model, out))
            .collect(),
    }
}
