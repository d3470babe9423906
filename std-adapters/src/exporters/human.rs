//! Tables for people: what the command prints on a terminal.

use std::fmt::{self, Write};

use wattledger_core::compose::{GatingPolicy, ModelReport, SubgraphRecord};
use wattledger_core::state::{PowerState, StateLedger};

use super::{MeasureReport, TraceEstimate, estimate_warnings, pct, share, si};
use crate::attribute::Attribution;
use crate::calibrate::{Calibration, ConstantSplit, Parameter};
use crate::model_file::{Model, Outcome, SweepPoint, name_of};
use crate::sensors::DeviceRole;

/// The `measure` report as the terminal shows it.
pub fn measure(m: &MeasureReport) -> String {
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
    if m.interrupted {
        s.push_str(&format!(
            "Interrupted by {}: the report covers the time measured until the command ended\n",
            m.interrupted_by.as_deref().unwrap_or("a signal")
        ));
    }
    s.push_str(&format!("Source     {}\n", m.source));
    for d in &m.devices {
        s.push_str(&format!(
            "\n{} {}  {}  {}\n",
            d.source, d.device.index, d.device.name, d.device.uuid
        ));
        match d.device.role {
            Some(DeviceRole::Total) => s.push_str("  role      total: the board's energy\n"),
            Some(DeviceRole::Part) => {
                s.push_str("  role      part: inside the total, not added to it again\n")
            }
            None => {}
        }
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
        if !d.in_total {
            s.push_str(&format!(
                "  lost      {} into the window; measured only until then, left out of the total\n",
                si((d.lost_at_s.unwrap_or(d.end_s) - d.start_s).max(0.0), "s")
            ));
        }
        if let Some(e) = &d.last_error {
            s.push_str(&format!("  error     {e}\n"));
        }
    }
    if m.devices.len() > 1 || m.incomplete {
        s.push_str(&format!(
            "\nTotal      {}{}\n",
            si(m.total_energy_j, "J"),
            if m.incomplete {
                "  (incomplete: a lost device is left out)"
            } else {
                ""
            }
        ));
    }
    for w in &m.mig_warnings {
        s.push_str(&format!("{} {}: {}\n", w.code, w.severity, w.message));
    }
    for w in &m.warnings {
        s.push_str(&format!("warning: {w}\n"));
    }
    s
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

/// The power-state table: unit-seconds, energy and share of `total_j` for
/// each of `states`.
fn write_states(
    buf: &mut String,
    ledger: &StateLedger,
    total_j: f64,
    states: &[PowerState],
) -> fmt::Result {
    writeln!(
        buf,
        "{:<20} {:>14} {:>12} {:>8}",
        "power state", "unit-seconds", "energy", "share"
    )?;
    for &st in states {
        let v = ledger.get(st);
        writeln!(
            buf,
            "{:<20} {:>14} {:>12} {:>8}",
            state_label(st),
            si(v.unit_seconds, "s"),
            si(v.energy_j, "J"),
            pct(share(v.energy_j, total_j))
        )?;
    }
    Ok(())
}

/// The `estimate` report as the terminal shows it: totals, power states,
/// energy parts, gating and waste, the `top` costliest subgraphs, warnings.
pub fn estimate(model: &Model, out: &Outcome, top: usize) -> String {
    let mut s = String::new();
    // Writing to a String cannot fail.
    let _ = write_estimate(&mut s, model, out, top);
    s
}

fn write_estimate(buf: &mut String, model: &Model, out: &Outcome, top: usize) -> fmt::Result {
    let r = &out.report;
    let spec = model.hardware.spec();
    writeln!(buf, "Model      {}", model.title)?;
    writeln!(
        buf,
        "Hardware   {} ({}: {} {}s), gating {}, {} V, {} MHz",
        spec.name,
        model.hardware_source,
        r.units,
        spec.unit_name,
        r.policy.name(),
        spec.dvfs.voltage_v,
        spec.dvfs.frequency_mhz
    )?;
    writeln!(
        buf,
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
    )?;
    writeln!(buf)?;
    write_states(buf, &r.states, r.energy.total_j, &PowerState::ALL)?;
    writeln!(buf)?;
    let parts = [
        ("compute", r.energy.compute_j),
        ("memory", r.energy.memory_j),
        ("static", r.energy.static_j),
        ("uncore", r.energy.uncore_j),
        ("transitions", r.energy.transition_j),
    ];
    writeln!(buf, "{:<20} {:>12} {:>8}", "energy", "", "share")?;
    for (name, e) in parts {
        let share = if r.energy.total_j > 0.0 {
            e / r.energy.total_j
        } else {
            0.0
        };
        writeln!(buf, "{:<20} {:>12} {:>8}", name, si(e, "J"), pct(share))?;
    }
    writeln!(buf, "{:<20} {:>12}", "total", si(r.energy.total_j, "J"))?;
    writeln!(buf)?;
    let static_without = r.energy.static_j + r.energy.savings_j;
    writeln!(
        buf,
        "gating saving        {} ({} of the static energy without gating)",
        si(r.energy.savings_j, "J"),
        pct(if static_without > 0.0 {
            r.energy.savings_j / static_without
        } else {
            0.0
        })
    )?;
    writeln!(
        buf,
        "wasted (idle)        {} ({} of the total)",
        si(r.wasted_energy_j, "J"),
        pct(if r.energy.total_j > 0.0 {
            r.wasted_energy_j / r.energy.total_j
        } else {
            0.0
        })
    )?;
    writeln!(
        buf,
        "utilisation          {} (peak {} of {} {}s allocated, average {:.1}); {} domain transitions",
        pct(r.utilization),
        r.peak_units_allocated,
        r.units,
        spec.unit_name,
        r.average_units_allocated,
        r.transitions
    )?;
    if top > 0 && !out.subgraphs.is_empty() {
        writeln!(buf)?;
        let mut costly: Vec<&SubgraphRecord> = out.subgraphs.iter().collect();
        costly.sort_by(|a, b| b.total_energy_j.total_cmp(&a.total_energy_j));
        writeln!(
            buf,
            "{:<24} {:>5} {:>6} {:>11} {:>12} {:>8}",
            "costliest subgraphs", "stage", "units", "latency", "energy", "share"
        )?;
        for s in costly.into_iter().take(top) {
            writeln!(
                buf,
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
            )?;
        }
    }
    for w in estimate_warnings(model, out) {
        writeln!(buf, "warning: {w}")?;
    }
    Ok(())
}

/// `estimate --compare-gating` as the terminal shows it: one column per
/// policy (`n/a` where it failed, with a note), and each total against Off.
pub fn comparison(model: &Model, results: &[(GatingPolicy, Result<Outcome, String>)]) -> String {
    let mut s = String::new();
    // Writing to a String cannot fail.
    let _ = write_comparison(&mut s, model, results);
    s
}

fn write_comparison(
    buf: &mut String,
    model: &Model,
    results: &[(GatingPolicy, Result<Outcome, String>)],
) -> fmt::Result {
    let spec = model.hardware.spec();
    writeln!(buf, "Model      {}", model.title)?;
    writeln!(
        buf,
        "Hardware   {} ({}: {} {}s), {} V, {} MHz",
        spec.name,
        model.hardware_source,
        spec.units,
        spec.unit_name,
        spec.dvfs.voltage_v,
        spec.dvfs.frequency_mhz
    )?;
    writeln!(buf)?;
    write!(buf, "{:<22}", "gating")?;
    for (p, _) in results {
        write!(buf, " {:>14}", p.name())?;
    }
    writeln!(buf)?;
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
        write!(buf, "{label:<22}")?;
        for (_, o) in results {
            match o {
                Ok(o) => write!(buf, " {:>14}", get(&o.report))?,
                Err(_) => write!(buf, " {:>14}", "n/a")?,
            }
        }
        writeln!(buf)?;
    }
    if let Some(Ok(off)) = results.first().map(|(_, o)| o) {
        write!(buf, "{:<22}", "vs off")?;
        for (_, o) in results {
            match o {
                Ok(o) if off.report.energy.total_j > 0.0 => write!(
                    buf,
                    " {:>14}",
                    format!(
                        "{:+.1} %",
                        (o.report.energy.total_j / off.report.energy.total_j - 1.0) * 100.0
                    )
                )?,
                _ => write!(buf, " {:>14}", "n/a")?,
            }
        }
        writeln!(buf)?;
    }
    for (p, o) in results {
        if let Err(e) = o {
            writeln!(buf, "note: {}: {e}", p.name())?;
        }
    }
    Ok(())
}

/// `estimate --sweep-frequency` as the terminal shows it: energy and time
/// against the clock, the energy-optimal clock marked.
pub fn sweep(model: &Model, policy: GatingPolicy, points: &[SweepPoint]) -> String {
    let mut s = String::new();
    // Writing to a String cannot fail.
    let _ = write_sweep(&mut s, model, policy, points);
    s
}

fn write_sweep(
    buf: &mut String,
    model: &Model,
    policy: GatingPolicy,
    points: &[SweepPoint],
) -> fmt::Result {
    let spec = model.hardware.spec();
    writeln!(buf, "Model      {}", model.title)?;
    writeln!(
        buf,
        "Hardware   {} ({}), gating {}; latencies taken at {} MHz, voltage from the V-f curve",
        spec.name,
        model.hardware_source,
        policy.name(),
        spec.dvfs.latency_reference_mhz()
    )?;
    writeln!(buf)?;
    writeln!(
        buf,
        "{:>9} {:>8} {:>12} {:>12} {:>12}",
        "MHz", "V", "time", "energy", "average"
    )?;
    let best = super::optimal(points);
    for (i, p) in points.iter().enumerate() {
        let average = if p.latency_s > 0.0 {
            si(p.energy_j / p.latency_s, "W")
        } else {
            "n/a".to_string()
        };
        writeln!(
            buf,
            "{:>9.1} {:>8.3} {:>12} {:>12} {:>12}{}",
            p.frequency_mhz,
            p.voltage_v,
            si(p.latency_s, "s"),
            si(p.energy_j, "J"),
            average,
            if best == Some(i) {
                "  <- least energy"
            } else {
                ""
            }
        )?;
    }
    Ok(())
}

/// `attribute` as the terminal shows it: the header lines (`context`, one
/// per line, already worded), the totals, the model's error per interval,
/// then one row per kernel name (most measured energy first) and the idle
/// bucket.
pub fn attribution(context: &[String], a: &Attribution, top: usize) -> String {
    let mut s = String::new();
    // Writing to a String cannot fail.
    let _ = write_attribution(&mut s, context, a, top);
    s
}

fn write_attribution(
    buf: &mut String,
    context: &[String],
    a: &Attribution,
    top: usize,
) -> fmt::Result {
    for line in context {
        writeln!(buf, "{line}")?;
    }
    writeln!(
        buf,
        "Measured   {} over {} in {} intervals; they cover {} of the profile's busy time",
        si(a.measured_total_j, "J"),
        si(a.measured_s, "s"),
        a.windows.len(),
        pct(a.coverage)
    )?;
    let model_vs = if a.measured_total_j > 0.0 {
        format!(
            " ({:+.1} % against the measurement)",
            (a.modelled_total_j / a.measured_total_j - 1.0) * 100.0
        )
    } else {
        String::new()
    };
    writeln!(
        buf,
        "Model      {} over the same intervals{model_vs}",
        si(a.modelled_total_j, "J")
    )?;
    if let (Some(mean), Some(worst)) = (a.window_mape(), a.window_max_error()) {
        writeln!(
            buf,
            "Error      per interval: mean {}, worst {} (model against measured energy)",
            pct(mean),
            pct(worst)
        )?;
    }
    writeln!(buf)?;
    writeln!(
        buf,
        "{:<40} {:>7} {:>11} {:>11} {:>11} {:>11} {:>10}",
        "kernel", "calls", "time", "measured", "modelled", "per call", "average"
    )?;
    for k in a.kernels.iter().take(top) {
        let per_call = if k.calls > 0 {
            si(k.measured_energy_j / k.calls as f64, "J")
        } else {
            "n/a".to_string()
        };
        let average = if k.time_s > 0.0 {
            si(k.measured_energy_j / k.time_s, "W")
        } else {
            "n/a".to_string()
        };
        writeln!(
            buf,
            "{:<40} {:>7} {:>11} {:>11} {:>11} {:>11} {:>10}",
            shorten(&k.name, 39),
            k.calls,
            si(k.time_s, "s"),
            si(k.measured_energy_j, "J"),
            si(k.modelled_energy_j, "J"),
            per_call,
            average
        )?;
    }
    if a.kernels.len() > top {
        let rest = &a.kernels[top..];
        writeln!(
            buf,
            "{:<40} {:>7} {:>11} {:>11} {:>11}",
            format!("({} more names)", rest.len()),
            rest.iter().map(|k| k.calls).sum::<u64>(),
            si(rest.iter().map(|k| k.time_s).sum(), "s"),
            si(rest.iter().map(|k| k.measured_energy_j).sum(), "J"),
            si(rest.iter().map(|k| k.modelled_energy_j).sum(), "J"),
        )?;
    }
    let idle_average = if a.idle.time_s > 0.0 {
        si(a.idle.measured_energy_j / a.idle.time_s, "W")
    } else {
        "n/a".to_string()
    };
    writeln!(
        buf,
        "{:<40} {:>7} {:>11} {:>11} {:>11} {:>11} {:>10}",
        "(idle: nothing running)",
        "-",
        si(a.idle.time_s, "s"),
        si(a.idle.measured_energy_j, "J"),
        si(a.idle.modelled_energy_j, "J"),
        "-",
        idle_average
    )?;
    Ok(())
}

/// A parameter's value in its unit.
fn parameter_value(p: Parameter, v: f64) -> String {
    match p {
        Parameter::EnergyPerByte | Parameter::EnergyPerOp(_) => format!("{v:.4e} J"),
        _ => format!("{v:.3} W"),
    }
}

/// `calibrate` as the terminal shows it: every parameter with its standard
/// error, what the data could not separate, the residual and the held-out
/// error.
pub fn calibration(context: &[String], c: &Calibration) -> String {
    let mut s = String::new();
    // Writing to a String cannot fail.
    let _ = write_calibration(&mut s, context, c);
    s
}

fn write_calibration(buf: &mut String, context: &[String], c: &Calibration) -> fmt::Result {
    for line in context {
        writeln!(buf, "{line}")?;
    }
    writeln!(
        buf,
        "Fitted     {} intervals, {} degrees of freedom",
        c.intervals, c.degrees_of_freedom
    )?;
    writeln!(buf)?;
    writeln!(
        buf,
        "{:<24} {:>16} {:>16}  note",
        "parameter", "value", "std. error"
    )?;
    for e in &c.estimates {
        let stderr = e
            .stderr
            .map_or("n/a".to_string(), |se| parameter_value(e.parameter, se));
        let note = if e.at_bound {
            "held at 0"
        } else if c.not_identifiable.contains(&e.parameter) {
            "not identifiable"
        } else {
            ""
        };
        writeln!(
            buf,
            "{:<24} {:>16} {:>16}  {note}",
            e.parameter.to_string(),
            parameter_value(e.parameter, e.value),
            stderr
        )?;
    }
    writeln!(buf)?;
    if let ConstantSplit::PresetRatio { idle_fraction } = c.split {
        writeln!(
            buf,
            "Split      idle and uncore power cannot be told apart here (nothing was gated): \
             their sum is fitted, split as the preset's {} idle",
            pct(idle_fraction)
        )?;
    }
    if !c.absent.is_empty() {
        let names: Vec<String> = c.absent.iter().map(ToString::to_string).collect();
        writeln!(buf, "No data    {}", names.join(", "))?;
    }
    writeln!(
        buf,
        "Residual   {} (root mean square of the fitted power's error)",
        si(c.residual_w, "W")
    )?;
    match c.holdout_mape {
        Some(m) => writeln!(
            buf,
            "Held out   {} mean absolute error of interval energies, {}-fold",
            pct(m),
            c.folds
        )?,
        None => writeln!(buf, "Held out   n/a (no interval measured energy)")?,
    }
    Ok(())
}

/// `estimate --trace` for one device as the terminal shows it: span, busy
/// and idle time, power states, the GPU-idle bucket, the `top` kernel names
/// by energy beside their rank by time, and what each gating policy saves.
pub fn trace(t: &TraceEstimate<'_>, top: usize) -> String {
    let mut s = String::new();
    // Writing to a String cannot fail.
    let _ = write_trace(&mut s, t, top);
    s
}

fn write_trace(buf: &mut String, t: &TraceEstimate<'_>, top: usize) -> fmt::Result {
    let e = &t.estimate;
    let r = &e.report;
    writeln!(
        buf,
        "Trace      {}, device {} ({})",
        t.trace,
        e.device,
        if e.device_name.is_empty() {
            "no name recorded"
        } else {
            &e.device_name
        }
    )?;
    writeln!(
        buf,
        "Hardware   {} ({}: {} {}s), gating {}",
        t.hardware_name,
        t.hardware_source,
        r.units,
        t.unit_name,
        r.policy.name()
    )?;
    writeln!(
        buf,
        "Span       {}: busy {} ({}), GPU idle {}; {} kernels, {} copies",
        si(r.span_s, "s"),
        si(r.busy_s, "s"),
        pct(share(r.busy_s, r.span_s)),
        si(r.idle.seconds, "s"),
        r.kernels,
        r.copies
    )?;
    writeln!(
        buf,
        "Total      {} ({} average); GPU idle {} ({} of the total)",
        si(r.total_energy_j, "J"),
        si(share(r.total_energy_j, r.span_s), "W"),
        si(r.idle.energy_j, "J"),
        pct(share(r.idle.energy_j, r.total_energy_j))
    )?;
    writeln!(buf)?;
    // A timeline frees units when their kernel ends: never allocated and idle.
    write_states(
        buf,
        &r.states,
        r.total_energy_j,
        &[
            PowerState::Active,
            PowerState::IdleUnallocated,
            PowerState::Gated,
            PowerState::Transitioning,
        ],
    )?;
    writeln!(
        buf,
        "{:<20} {:>14} {:>12}",
        "uncore",
        "",
        si(r.uncore_energy_j, "J")
    )?;
    writeln!(
        buf,
        "{:<20} {:>14} {:>12}",
        "copies (bytes)",
        "",
        si(r.memory_energy_j, "J")
    )?;
    writeln!(buf)?;
    let names = e.kernels_by_name(t.timeline, t.names);
    if top > 0 && !names.is_empty() {
        writeln!(
            buf,
            "kernels by energy ({} of {} names)",
            top.min(names.len()),
            names.len()
        )?;
        writeln!(
            buf,
            "{:>4} {:>4} {:>6} {:>10} {:>10} {:>10} {:>9} {:>7}  name",
            "#E", "#T", "calls", "time", "energy", "J/call", "avg W", "share"
        )?;
        for n in names.iter().take(top) {
            writeln!(
                buf,
                "{:>4} {:>4} {:>6} {:>10} {:>10} {:>10} {:>9} {:>7}  {}",
                n.rank_by_energy,
                n.rank_by_time,
                n.calls,
                si(n.seconds, "s"),
                si(n.energy_j, "J"),
                si(share(n.energy_j, n.calls as f64), "J"),
                si(share(n.energy_j, n.seconds), "W"),
                pct(share(n.energy_j, r.total_energy_j)),
                shorten(&n.name, 60)
            )?;
        }
        writeln!(buf, "(#E rank by energy, #T rank by time)")?;
        writeln!(buf)?;
    }
    if let Some(off) = t.off_total_j() {
        writeln!(
            buf,
            "{:<10} {:>12} {:>12} {:>8} {:>12}",
            "gating", "total", "saves", "", "transitions"
        )?;
        for (p, pr) in &t.policies {
            let saving = t.saving_j(pr).unwrap_or(0.0);
            writeln!(
                buf,
                "{:<10} {:>12} {:>12} {:>8} {:>12}",
                p.name(),
                si(pr.total_energy_j, "J"),
                si(saving, "J"),
                pct(share(saving, off)),
                pr.transitions
            )?;
        }
    }
    for n in &e.notes {
        writeln!(buf, "note: {n}")?;
    }
    Ok(())
}

/// `s` cut to `max` characters with an ellipsis.
fn shorten(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((cut, _)) => format!("{}…", &s[..cut]),
        None => s.to_string(),
    }
}
