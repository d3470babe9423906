//! Times `estimate --trace`'s two halves on a trace: reading it, and
//! composing each device under every gating policy (the glue of
//! `profiles::compose`: the occupancy mapper once, then the timeline
//! composer per policy, with per-record charges for the first only, as the
//! command does).
//!
//! ```text
//! cargo run --release --example kineto_trace -- gen 1000000 /tmp/big.json.gz
//! cargo run --release --example trace_compose_timing -- /tmp/big.json.gz
//! ```

use std::path::Path;
use std::time::Instant;

use wattledger_core::timeline::TimelinePolicy;
use wattledger_std::profiles::compose::{ComposeOptions, catalog_preset, map_device};
use wattledger_std::profiles::read_profile;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args()
        .nth(1)
        .ok_or("usage: trace_compose_timing FILE")?;
    let t0 = Instant::now();
    let profile = read_profile(Path::new(&path))?;
    let read = t0.elapsed();
    println!(
        "read {} records in {:.3} s",
        profile
            .devices
            .iter()
            .map(|d| d.records.len())
            .sum::<usize>(),
        read.as_secs_f64()
    );
    for d in &profile.devices {
        let hw = catalog_preset(d)?.model();
        let per_record = |s: f64| s * 1e9 / d.records.len().max(1) as f64;
        let t = Instant::now();
        let mapped = map_device(d, &hw, &profile.names)?;
        let s = t.elapsed().as_secs_f64();
        println!(
            "device {} mapped: {s:.3} s ({:.0} ns per record)",
            d.device,
            per_record(s)
        );
        // What `estimate --trace` does: the policy shown with a charge per
        // record, the others' totals only.
        for (i, policy) in TimelinePolicy::ALL.into_iter().enumerate() {
            let options = ComposeOptions {
                policy,
                ..ComposeOptions::default()
            };
            let t = Instant::now();
            let (how, energy) = if i == 0 {
                ("charges", mapped.compose(&options)?.report.total_energy_j)
            } else {
                ("totals ", mapped.totals(&options)?.total_energy_j)
            };
            let s = t.elapsed().as_secs_f64();
            println!(
                "device {} {policy:>7} {how}: {s:.3} s ({:.0} ns per record), {energy:.3} J",
                d.device,
                per_record(s)
            );
        }
    }
    Ok(())
}
