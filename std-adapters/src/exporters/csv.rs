//! CSV: one row per subgraph and a `(total)` row per policy.

use std::fmt::{self, Write};

use wattledger_core::compose::GatingPolicy;

use crate::model_file::{Model, Outcome, name_of};

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// `estimate --csv`: a header, then per policy one row per subgraph and a
/// `(total)` row (its `units` is the average allocation, its shared energy
/// the uncore and transition energy).
pub fn estimate(model: &Model, outcomes: &[(GatingPolicy, Outcome)]) -> String {
    let mut s = String::new();
    // Writing to a String cannot fail.
    let _ = write_estimate(&mut s, model, outcomes);
    s
}

fn write_estimate(
    buf: &mut String,
    model: &Model,
    outcomes: &[(GatingPolicy, Outcome)],
) -> fmt::Result {
    writeln!(
        buf,
        "gating,subgraph,id,stage,units,latency_s,compute_energy_j,memory_energy_j,own_static_energy_j,shared_energy_j,total_energy_j"
    )?;
    for (p, o) in outcomes {
        for s in &o.subgraphs {
            writeln!(
                buf,
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
            )?;
        }
        let r = &o.report;
        writeln!(
            buf,
            "{},(total),,,{},{},{},{},{},{},{}",
            p.name(),
            r.average_units_allocated,
            r.latency_s,
            r.energy.compute_j,
            r.energy.memory_j,
            r.energy.static_j,
            r.energy.uncore_j + r.energy.transition_j,
            r.energy.total_j
        )?;
    }
    Ok(())
}
