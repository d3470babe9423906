//! JSON: the reports as data, pretty-printed.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;
use wattledger_core::compose::GatingPolicy;
use wattledger_core::state::PowerState;

use super::{
    TraceEstimate, compose_flag_names, estimate_warnings, power_warnings, share,
    timeline_flag_names,
};
use crate::attribute::Attribution;
use crate::model_file::{Model, Outcome, SweepPoint, name_of};

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

/// `estimate --sweep-frequency --json`: the model, the hardware, and one
/// `{frequency_mhz, voltage_v, latency_s, energy_j, average_power_w}` per
/// clock, with `optimal_frequency_mhz` the clock of least energy.
pub fn sweep(model: &Model, policy: GatingPolicy, points: &[SweepPoint]) -> Value {
    let rows: Vec<Value> = points
        .iter()
        .map(|p| {
            serde_json::json!({
                "frequency_mhz": p.frequency_mhz,
                "voltage_v": p.voltage_v,
                "latency_s": p.latency_s,
                "energy_j": p.energy_j,
                "average_power_w": (p.latency_s > 0.0).then(|| p.energy_j / p.latency_s),
            })
        })
        .collect();
    let best = super::optimal(points)
        .and_then(|i| points.get(i))
        .map(|p| p.frequency_mhz);
    serde_json::json!({
        "model": model.title,
        "hardware": model.hardware.spec().name.as_str(),
        "gating": policy.name(),
        "latency_frequency_mhz": model.hardware.spec().dvfs.latency_reference_mhz(),
        "sweep": rows,
        "optimal_frequency_mhz": best,
    })
}

/// `attribute --json`: `measured_total_j`, `modelled_total_j`,
/// `measured_s`, `coverage`, `idle.{time_s, measured_energy_j,
/// modelled_energy_j}`, `kernels[]` by name (`name`, `calls`, `time_s`,
/// `measured_energy_j`, `modelled_energy_j`, `joules_per_call`,
/// `average_power_w`), `windows[]` (`start_s`, `duration_s`, `measured_j`,
/// `modelled_j`), `window_mape` and `window_max_error` (fractions), and the
/// `context` given (hardware, device, files).
pub fn attribution(context: Value, a: &Attribution) -> Value {
    let kernels: Vec<Value> = a
        .kernels
        .iter()
        .map(|k| {
            serde_json::json!({
                "name": k.name,
                "calls": k.calls,
                "time_s": k.time_s,
                "measured_energy_j": k.measured_energy_j,
                "modelled_energy_j": k.modelled_energy_j,
                "joules_per_call": (k.calls > 0).then(|| k.measured_energy_j / k.calls as f64),
                "average_power_w": (k.time_s > 0.0).then(|| k.measured_energy_j / k.time_s),
            })
        })
        .collect();
    let windows: Vec<Value> = a
        .windows
        .iter()
        .map(|w| {
            serde_json::json!({
                "start_s": w.start_s,
                "duration_s": w.duration_s,
                "measured_j": w.measured_j,
                "modelled_j": w.modelled_j,
            })
        })
        .collect();
    serde_json::json!({
        "context": context,
        "measured_total_j": a.measured_total_j,
        "modelled_total_j": a.modelled_total_j,
        "measured_s": a.measured_s,
        "coverage": a.coverage,
        "idle": {
            "time_s": a.idle.time_s,
            "measured_energy_j": a.idle.measured_energy_j,
            "modelled_energy_j": a.idle.modelled_energy_j,
        },
        "kernels": kernels,
        "window_mape": a.window_mape(),
        "window_max_error": a.window_max_error(),
        "windows": windows,
    })
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

#[derive(Debug, Serialize)]
struct TraceDeviceJson {
    id: u32,
    name: String,
    units: u32,
    unit_name: String,
}

#[derive(Debug, Serialize)]
struct IdleJson {
    seconds: f64,
    energy_j: f64,
}

#[derive(Debug, Serialize)]
struct TraceKernelJson {
    name: String,
    stream: u32,
    start_s: f64,
    duration_s: f64,
    units_allocated: u32,
    blocks_per_unit: f64,
    occupancy: f64,
    waves: u64,
    active_unit_seconds: f64,
    active_energy_j: f64,
    compute_energy_j: f64,
    own_static_energy_j: f64,
    shared_energy_j: f64,
    energy_j: f64,
    flags: Vec<&'static str>,
}

#[derive(Debug, Serialize)]
struct TraceCopyJson {
    name: String,
    stream: u32,
    start_s: f64,
    duration_s: f64,
    bytes: f64,
    energy_j: f64,
}

#[derive(Debug, Serialize)]
struct NameJson {
    name: String,
    calls: u64,
    seconds: f64,
    energy_j: f64,
    j_per_call: f64,
    average_power_w: f64,
    share: f64,
    rank_by_energy: usize,
    rank_by_time: usize,
}

#[derive(Debug, Serialize)]
struct PolicyJson {
    gating: &'static str,
    total_energy_j: f64,
    saving_j: f64,
    saving_share: f64,
    power_gating_savings_j: f64,
    transition_energy_j: f64,
    transitions: u64,
}

/// The `estimate --trace --json` report of one device; the keys shared with
/// [`EstimateJson`] mean the same.
#[derive(Debug, Serialize)]
pub struct TraceJson {
    trace: String,
    hardware: String,
    hardware_name: String,
    device: TraceDeviceJson,
    gating: &'static str,
    span_s: f64,
    busy_s: f64,
    idle: IdleJson,
    total_energy_j: f64,
    average_power_w: f64,
    states: BTreeMap<&'static str, StateJson>,
    compute_energy_j: f64,
    memory_energy_j: f64,
    active_energy_j: f64,
    static_energy_j: f64,
    uncore_energy_j: f64,
    transition_energy_j: f64,
    power_gating_savings_j: f64,
    peak_units_allocated: u32,
    transitions: u64,
    flags: Vec<&'static str>,
    kernel_count: u64,
    copy_count: u64,
    gating_policies: Vec<PolicyJson>,
    kernels_by_name: Vec<NameJson>,
    kernels: Vec<TraceKernelJson>,
    copies: Vec<TraceCopyJson>,
    notes: Vec<String>,
}

/// `estimate --trace --json` with several reports (several devices, or
/// `--compare-gating`): the trace and one [`TraceJson`] each.
#[derive(Debug, Serialize)]
pub struct TraceReports {
    /// The trace file.
    pub trace: String,
    /// One per device and policy, devices in increasing id.
    pub reports: Vec<TraceJson>,
}

/// The `estimate --trace --json` report of one device of a trace.
pub fn trace(t: &TraceEstimate<'_>) -> TraceJson {
    let e = &t.estimate;
    let r = &e.report;
    let off = t.off_total_j();
    TraceJson {
        trace: t.trace.clone(),
        hardware: t.hardware_source.clone(),
        hardware_name: t.hardware_name.clone(),
        device: TraceDeviceJson {
            id: e.device,
            name: e.device_name.clone(),
            units: r.units,
            unit_name: t.unit_name.clone(),
        },
        gating: r.policy.name(),
        span_s: r.span_s,
        busy_s: r.busy_s,
        idle: IdleJson {
            seconds: r.idle.seconds,
            energy_j: r.idle.energy_j,
        },
        total_energy_j: r.total_energy_j,
        average_power_w: share(r.total_energy_j, r.span_s),
        states: states_json(&r.states),
        compute_energy_j: r.compute_energy_j,
        memory_energy_j: r.memory_energy_j,
        active_energy_j: r.active_energy_j,
        static_energy_j: r.static_energy_j,
        uncore_energy_j: r.uncore_energy_j,
        transition_energy_j: r.transition_energy_j,
        power_gating_savings_j: r.gating_savings_j,
        peak_units_allocated: r.peak_units_allocated,
        transitions: r.transitions,
        flags: timeline_flag_names(r.flags),
        kernel_count: r.kernels,
        copy_count: r.copies,
        gating_policies: t
            .policies
            .iter()
            .map(|(p, pr)| {
                let saving = t.saving_j(pr).unwrap_or(0.0);
                PolicyJson {
                    gating: p.name(),
                    total_energy_j: pr.total_energy_j,
                    saving_j: saving,
                    saving_share: off.map_or(0.0, |o| share(saving, o)),
                    power_gating_savings_j: pr.gating_savings_j,
                    transition_energy_j: pr.transition_energy_j,
                    transitions: pr.transitions,
                }
            })
            .collect(),
        kernels_by_name: e
            .kernels_by_name(t.timeline, t.names)
            .into_iter()
            .map(|n| NameJson {
                j_per_call: share(n.energy_j, n.calls as f64),
                average_power_w: share(n.energy_j, n.seconds),
                share: share(n.energy_j, r.total_energy_j),
                name: n.name,
                calls: n.calls,
                seconds: n.seconds,
                energy_j: n.energy_j,
                rank_by_energy: n.rank_by_energy,
                rank_by_time: n.rank_by_time,
            })
            .collect(),
        kernels: e
            .charges
            .iter()
            .filter_map(|c| {
                let o = c.launch?;
                let k = &c.energy;
                Some(TraceKernelJson {
                    name: t.name_of(c.record).to_string(),
                    stream: k.stream,
                    start_s: k.start_ns as f64 * 1e-9,
                    duration_s: (k.end_ns - k.start_ns) as f64 * 1e-9,
                    units_allocated: o.units_allocated,
                    blocks_per_unit: o.blocks_per_sm,
                    occupancy: o.estimated_occupancy,
                    waves: o.waves,
                    active_unit_seconds: k.active_unit_seconds,
                    active_energy_j: k.active_energy_j,
                    compute_energy_j: k.compute_energy_j,
                    own_static_energy_j: k.own_static_energy_j,
                    shared_energy_j: k.shared_energy_j,
                    energy_j: k.total_energy_j,
                    flags: timeline_flag_names(k.flags),
                })
            })
            .collect(),
        copies: e
            .charges
            .iter()
            .filter(|c| c.launch.is_none())
            .map(|c| {
                let k = &c.energy;
                TraceCopyJson {
                    name: t.name_of(c.record).to_string(),
                    stream: k.stream,
                    start_s: k.start_ns as f64 * 1e-9,
                    duration_s: (k.end_ns - k.start_ns) as f64 * 1e-9,
                    bytes: t
                        .record(c.record)
                        .and_then(crate::profiles::KernelRecord::bytes)
                        .unwrap_or(0) as f64,
                    energy_j: k.total_energy_j,
                }
            })
            .collect(),
        notes: e.notes.clone(),
    }
}

fn states_json(states: &wattledger_core::state::StateLedger) -> BTreeMap<&'static str, StateJson> {
    PowerState::ALL
        .iter()
        .map(|&s| {
            let t = states.get(s);
            (
                s.name(),
                StateJson {
                    energy_j: t.energy_j,
                    unit_seconds: t.unit_seconds,
                },
            )
        })
        .collect()
}
