//! Timeline streams: arbitrary hardware, policy and a stream of intervals,
//! finishes and resets. After every call the DESIGN.md §3b invariants hold:
//!
//! * a refused call leaves the timeline (`Clone + PartialEq`) and the sink
//!   exactly as they were, and hands nothing to the sink;
//! * after `finish`, unit-seconds add up to `N · span`, the kernels' charges
//!   plus the idle bucket add up to the total, and everything is finite and
//!   not negative;
//! * on the same accepted stream the oracle costs no more than `off`,
//!   `always` or `timeout`.

#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use wattledger_core::compose::SinkFull;
use wattledger_core::hardware::{Gating, HardwareModel, Precision};
use wattledger_core::presets::Preset;
use wattledger_core::timeline::{
    Engine, Interval, KernelRecord, Timeline, TimelineError, TimelinePolicy, TimelineReport,
    TimelineSink, Work,
};

mod common;
use common::Num;

#[derive(Arbitrary, Debug)]
struct Hw {
    domains: u8,
    domain_size: u8,
    idle_w: u16,
    uncore_w: u16,
    active_w: u16,
    transition_uj: u16,
    wake_us: u16,
    can_gate: bool,
}

#[derive(Arbitrary, Debug)]
struct Iv {
    /// Start relative to the last accepted start; `back` moves it back.
    gap_ns: u32,
    back: bool,
    duration_ns: u32,
    /// Longer than a stream's worth.
    short_end: bool,
    /// `None`: a copy.
    units: Option<u16>,
    flops: Option<Num>,
    bytes: Num,
    precision: u8,
}

#[derive(Arbitrary, Debug)]
enum Op {
    Push(Iv),
    PushRefused(Iv),
    Finish(Option<u32>),
    Reset,
}

#[derive(Arbitrary, Debug)]
struct Input {
    hw: Hw,
    ops: Vec<Op>,
}

#[derive(Default, Clone, PartialEq, Debug)]
struct Keep {
    refuse: bool,
    kernels: Vec<KernelRecord>,
}

impl TimelineSink for Keep {
    fn reserve(&mut self, _kernels: usize) -> Result<(), SinkFull> {
        if self.refuse { Err(SinkFull) } else { Ok(()) }
    }
    fn kernel(&mut self, record: &KernelRecord) {
        assert!(!self.refuse, "records handed over after a refused reserve");
        self.kernels.push(*record);
    }
}

fn hardware(h: &Hw) -> Option<HardwareModel> {
    let mut spec = Preset::H100Sxm5.model().spec().clone();
    let g = u32::from(h.domain_size % 4) + 1;
    spec.units = (u32::from(h.domains % 80) + 1) * g;
    spec.gating_domain = g;
    spec.idle_power_w = f64::from(h.idle_w) * 0.01;
    spec.uncore_power_w = f64::from(h.uncore_w) * 0.01;
    spec.active_power_w = f64::from(h.active_w) * 0.01;
    spec.gating = if h.can_gate {
        Gating {
            can_gate: true,
            transition_energy_j: f64::from(h.transition_uj) * 1e-8,
            wake_latency_s: f64::from(h.wake_us) * 1e-8,
        }
    } else {
        Gating::NONE
    };
    HardwareModel::new(spec).ok()
}

fn interval(iv: &Iv, id: u64, last: u64) -> Interval {
    let start = if iv.back {
        last.saturating_sub(u64::from(iv.gap_ns))
    } else {
        last + u64::from(iv.gap_ns)
    };
    let end = if iv.short_end {
        start.saturating_sub(1)
    } else {
        start + u64::from(iv.duration_ns)
    };
    Interval {
        id,
        stream: 0,
        start_ns: start,
        end_ns: end,
        engine: iv.units.map_or(Engine::Copy, |u| Engine::Compute {
            units: u32::from(u % 300),
        }),
        work: iv.flops.map(|f| Work {
            flops: f.value(1e6),
            precision: Precision::ALL[usize::from(iv.precision) % Precision::ALL.len()],
        }),
        bytes: iv.bytes.value(1024.0),
    }
}

fn check_finished(r: &TimelineReport, kept: &[KernelRecord], n: f64) {
    let scale = r.total_energy_j.abs().max(1e-6);
    let us = r.states.unit_seconds();
    assert!(
        (us - n * r.span_s).abs() <= 1e-9 * (n * r.span_s).max(1e-9),
        "{us} vs {}",
        n * r.span_s
    );
    let charged: f64 = kept.iter().map(|k| k.total_energy_j).sum::<f64>() + r.idle.energy_j;
    assert!(
        (charged - r.total_energy_j).abs() <= 1e-9 * scale,
        "{charged} vs {}",
        r.total_energy_j
    );
    assert!(r.total_energy_j.is_finite() && r.total_energy_j >= 0.0);
    for k in kept {
        assert!(k.total_energy_j.is_finite() && k.total_energy_j >= -1e-9 * scale);
    }
}

fuzz_target!(|input: Input| {
    let Some(hw) = hardware(&input.hw) else {
        return;
    };
    let n = f64::from(hw.units());
    // Every policy on the same operations; the accepted streams are the same
    // for all (acceptance does not depend on the policy), so their finished
    // totals compare.
    let mut totals = [None; 4];
    // The free-domain list is used by every policy but `off`; where it fills
    // up the policies accept different streams, and totals do not compare.
    let mut diverged = false;
    for (slot, policy) in TimelinePolicy::ALL.into_iter().enumerate() {
        let Ok(mut t) = Timeline::<16, 64>::new(hw.clone(), policy, 0) else {
            continue;
        };
        let mut sink = Keep::default();
        let mut last = 0;
        let mut id = 0;
        for op in &input.ops {
            match op {
                Op::Push(iv) | Op::PushRefused(iv) => {
                    let refused = matches!(op, Op::PushRefused(_));
                    let iv = interval(iv, id, last);
                    id += 1;
                    let before = t.clone();
                    sink.refuse = refused;
                    let kept = sink.kernels.len();
                    match t.push(&iv, &mut sink) {
                        Ok(()) => last = iv.start_ns,
                        Err(e) => {
                            diverged |= matches!(e, TimelineError::IdleGroupsFull { .. });
                            assert_eq!(t, before);
                            assert_eq!(sink.kernels.len(), kept);
                        }
                    }
                    sink.refuse = false;
                }
                Op::Finish(end) => {
                    let before = t.clone();
                    let end = end.map(|e| u64::from(e) * 64);
                    match t.finish(end, &mut sink) {
                        Ok(r) => {
                            check_finished(&r, &sink.kernels, n);
                            totals[slot] = Some(r.total_energy_j);
                        }
                        Err(_) => assert_eq!(t, before),
                    }
                    // Only the first finish is compared across policies.
                    break;
                }
                Op::Reset => {
                    t.reset(0);
                    sink.kernels.clear();
                    last = 0;
                }
            }
        }
    }
    if let ([Some(off), Some(always), Some(timeout), Some(oracle)], false) = (totals, diverged) {
        // The oracle decides a period at the rounded break-even on the
        // exact costs (it once decided on t_be rounded up to whole ns and
        // cost 5.1 nJ more than `always`): only float rounding is allowed.
        let tol = 1e-9 * off.max(always).max(timeout).max(1e-6);
        assert!(
            oracle <= off + tol && oracle <= always + tol && oracle <= timeout + tol,
            "oracle {oracle}, off {off}, always {always}, timeout {timeout}"
        );
    }
});
