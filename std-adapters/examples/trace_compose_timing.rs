//! Times `estimate --trace`'s two halves on a trace: reading it, and
//! composing each device under every gating policy (the glue of
//! `profiles::compose`: occupancy mapper + timeline composer).
//!
//! ```text
//! cargo run --release --example kineto_trace -- gen 1000000 /tmp/big.json.gz
//! cargo run --release --example trace_compose_timing -- /tmp/big.json.gz
//! ```

use std::path::Path;
use std::time::Instant;

use wattledger_core::timeline::TimelinePolicy;
use wattledger_std::profiles::compose::{ComposeOptions, catalog_preset, compose_device};
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
        for policy in TimelinePolicy::ALL {
            let options = ComposeOptions {
                policy,
                ..ComposeOptions::default()
            };
            let t = Instant::now();
            let e = compose_device(d, &hw, &options, &profile.names)?;
            let s = t.elapsed().as_secs_f64();
            println!(
                "device {} {policy:>7}: {:.3} s ({:.0} ns per record), {:.3} J",
                d.device,
                s,
                s * 1e9 / d.records.len().max(1) as f64,
                e.report.total_energy_j
            );
        }
    }
    Ok(())
}
