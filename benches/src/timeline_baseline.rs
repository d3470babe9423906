//! The straightforward timeline sweep, to time the library's against.
//!
//! Collect every start and end into a `Vec` of events, sort it, and walk
//! it with the running kernels in a `Vec`: between two events, charge the
//! interval and loop over the running kernels to give each its share. Gating
//! `off` only (every unit powered), the rules of DESIGN.md §3b; on the same
//! input it gives the library's numbers (`tests/baselines.rs`).

use wattledger_core::hardware::HardwareModel;
use wattledger_core::timeline::{Engine, Interval};

/// What the baseline computes: the total and the sum of the kernels' charges
/// plus the idle bucket (the closed attribution).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct TimelineTotals {
    /// Total energy, joules.
    pub total_energy_j: f64,
    /// Σ kernel charges + idle bucket, joules.
    pub charged_j: f64,
}

struct Running {
    index: usize,
    domains: u32,
    copy: bool,
    no_work: bool,
    dynamic_j: f64,
    charge_j: f64,
}

/// Sweeps `intervals` (each of positive duration) under gating `off`.
pub fn timeline_off(hw: &HardwareModel, intervals: &[Interval]) -> TimelineTotals {
    let g = f64::from(hw.gating_domain());
    let domains = hw.domains();
    let p_unit = hw.unit_static_power_w();
    let p_static = hw.static_power_w();
    let p_uncore = hw.uncore_power_w();
    let p_active = hw.active_power_w() / f64::from(hw.units());
    // Events: (time, 0 = end before 1 = start, index).
    let mut events: Vec<(u64, u8, usize)> = Vec::with_capacity(2 * intervals.len());
    for (i, iv) in intervals.iter().enumerate() {
        events.push((iv.start_ns, 1, i));
        events.push((iv.end_ns, 0, i));
    }
    events.sort_unstable();
    let mut running: Vec<Running> = Vec::new();
    let mut total = 0.0;
    let mut charged = 0.0;
    let mut t = 0;
    for (time, kind, i) in events {
        let dt = (time - t) as f64 * 1e-9;
        if dt > 0.0 {
            let asked: u64 = running.iter().map(|r| u64::from(r.domains)).sum();
            let copies = running.iter().filter(|r| r.copy).count();
            let in_use = asked.min(u64::from(domains)) as f64;
            let scale = if asked > u64::from(domains) {
                f64::from(domains) / asked as f64
            } else {
                1.0
            };
            let idle_units = (f64::from(domains) - in_use) * g;
            let pool = p_uncore * dt + p_unit * idle_units * dt;
            total += p_static * dt + p_uncore * dt;
            if asked > 0 {
                for r in running.iter_mut().filter(|r| !r.copy) {
                    let units = f64::from(r.domains) * g * scale * dt;
                    let active = if r.no_work { p_active * units } else { 0.0 };
                    total += active;
                    r.charge_j +=
                        p_unit * units + active + pool * f64::from(r.domains) / asked as f64;
                }
            } else if copies > 0 {
                for r in running.iter_mut() {
                    r.charge_j += pool / copies as f64;
                }
            } else {
                charged += pool;
            }
        }
        t = time;
        let iv = &intervals[i];
        if kind == 1 {
            let (domains, copy) = match iv.engine {
                Engine::Compute { units } => (units.div_ceil(hw.gating_domain()), false),
                Engine::Copy => (0, true),
            };
            let compute = iv.work.map_or(0.0, |w| {
                w.flops * hw.energy_per_op_j(w.precision).unwrap_or(0.0)
            });
            let dynamic_j = compute + iv.bytes * hw.energy_per_byte_j();
            total += dynamic_j;
            running.push(Running {
                index: i,
                domains,
                copy,
                no_work: iv.work.is_none(),
                dynamic_j,
                charge_j: 0.0,
            });
        } else if let Some(pos) = running.iter().position(|r| r.index == i) {
            let r = running.swap_remove(pos);
            charged += r.charge_j + r.dynamic_j;
        }
    }
    TimelineTotals {
        total_energy_j: total,
        charged_j: charged,
    }
}
