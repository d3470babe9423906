//! ResNet-18 at batch 1 on an H100: energy per power state with gating off
//! and always on, from the built-in scenario (`wattledger_core::scenario`).
//!
//! Run with `cargo run -p wattledger-core --example resnet18_h100`.

use wattledger_core::compose::{Composer, FnSink, GatingPolicy, ModelReport, Record};
use wattledger_core::presets::Preset;
use wattledger_core::scenario::{RESNET18_H100, RESNET18_NAMES};
use wattledger_core::state::PowerState;

/// Energy charged to each subgraph id.
type Charges = Vec<(u32, f64)>;

fn compose(policy: GatingPolicy) -> Result<(ModelReport, Charges), Box<dyn std::error::Error>> {
    let mut c: Composer = Composer::new(Preset::H100Sxm5.model(), policy)?;
    let mut charges = Vec::new();
    let mut sink = FnSink(|r: Record<'_>| {
        if let Record::Subgraph(s) = r {
            charges.push((s.id, s.total_energy_j));
        }
    });
    for s in &RESNET18_H100 {
        c.push(s, &mut sink)?;
    }
    let report = c.finish(&mut sink)?;
    Ok((report, charges))
}

fn print(policy: GatingPolicy, r: &ModelReport, charges: &[(u32, f64)]) {
    println!("\n== gating {policy} ==");
    println!(
        "{:<18} {:>14} {:>12} {:>7}",
        "state", "unit-seconds", "energy (mJ)", "share"
    );
    for s in PowerState::ALL {
        let t = r.states.get(s);
        println!(
            "{:<18} {:>14.6e} {:>12.4} {:>6.1}%",
            s.name(),
            t.unit_seconds,
            t.energy_j * 1e3,
            100.0 * t.energy_j / r.energy.total_j
        );
    }
    println!(
        "{:<18} {:>14} {:>12.4}",
        "uncore",
        "",
        r.energy.uncore_j * 1e3
    );
    println!(
        "total {:.4} mJ over {:.1} us: compute {:.4}, memory {:.4}, static {:.4}, uncore {:.4}, transitions {:.4} mJ",
        r.energy.total_j * 1e3,
        r.latency_s * 1e6,
        r.energy.compute_j * 1e3,
        r.energy.memory_j * 1e3,
        r.energy.static_j * 1e3,
        r.energy.uncore_j * 1e3,
        r.energy.transition_j * 1e3
    );
    println!(
        "gating saved {:.4} mJ; wasted {:.4} mJ; utilisation {:.1}%; {} transitions; peak {} / average {:.1} SMs",
        r.energy.savings_j * 1e3,
        r.wasted_energy_j * 1e3,
        100.0 * r.utilization,
        r.transitions,
        r.peak_units_allocated,
        r.average_units_allocated
    );
    let mut top = charges.to_vec();
    top.sort_by(|a, b| b.1.total_cmp(&a.1));
    let names: Vec<String> = top
        .iter()
        .take(3)
        .map(|(id, e)| {
            let name = RESNET18_NAMES.get(*id as usize).copied().unwrap_or("?");
            format!("{name} {:.4} mJ", e * 1e3)
        })
        .collect();
    println!("costliest subgraphs: {}", names.join(", "));
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!(
        "ResNet-18, batch 1, FP16 on {}",
        Preset::H100Sxm5.model().spec().name
    );
    for policy in [GatingPolicy::Off, GatingPolicy::Always] {
        let (r, charges) = compose(policy)?;
        print(policy, &r, &charges);
    }
    Ok(())
}
