//! Tables for people: what the command prints on a terminal.

use std::fmt::{self, Write};

use wattledger_core::compose::{GatingPolicy, ModelReport, SubgraphRecord};
use wattledger_core::state::PowerState;

use super::{MeasureReport, estimate_warnings, pct, si};
use crate::model_file::{Model, Outcome, name_of};
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
    writeln!(
        buf,
        "{:<20} {:>14} {:>12} {:>8}",
        "power state", "unit-seconds", "energy", "share"
    )?;
    for s in PowerState::ALL {
        let t = r.states.get(s);
        let share = if r.energy.total_j > 0.0 {
            t.energy_j / r.energy.total_j
        } else {
            0.0
        };
        writeln!(
            buf,
            "{:<20} {:>14} {:>12} {:>8}",
            state_label(s),
            si(t.unit_seconds, "s"),
            si(t.energy_j, "J"),
            pct(share)
        )?;
    }
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
