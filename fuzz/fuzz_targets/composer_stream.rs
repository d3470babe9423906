//! Composer streams: arbitrary hardware and an arbitrary stream of
//! subgraphs, finishes and resets. After every call the DESIGN.md §3
//! invariants must hold:
//!
//! * a refused call leaves the composer (`Clone + PartialEq`) and the sink
//!   exactly as they were;
//! * per closed stage, the unit-seconds of all states add up to `N·T`;
//! * per closed stage, the subgraphs' charges add up to the stage's energy,
//!   and the model total is the sum of the stage totals (closed
//!   attribution);
//! * everything reported is finite, and no energy is negative (under
//!   `Oracle`, per stage only the sums: a stage that settles idle periods of
//!   earlier stages moves unit-seconds and static energy between states, so
//!   one state, its static energy or its savings may be negative there; over
//!   the model none is);
//! * `BreakEven` never costs more than `Off` on the same stream;
//! * at `finish`, `Oracle` costs no more than `Off`, `Always` or `BreakEven`
//!   on the same stream (checked until the composer goes on after a finish,
//!   when periods that `finish` ended would be judged again).

#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use wattledger_core::compose::{
    ComposeError, Composer, GatingPolicy, ModelReport, SetupError, Sink, SinkFull, StageRecord,
    Subgraph, SubgraphRecord,
};
use wattledger_core::hardware::{Gating, HardwareModel, Precision};
use wattledger_core::presets::Preset;
use wattledger_core::state::PowerState;

mod common;
use common::Num;

#[derive(Arbitrary, Debug)]
struct Hw {
    domains: u8,
    domain_size: u8,
    idle_w: u16,
    uncore_w: u16,
    transition_uj: u16,
    wake_us: u16,
    can_gate: bool,
    policy: u8,
    threads_per_unit: u16,
}

#[derive(Arbitrary, Debug)]
struct Sg {
    /// 0: same stage as the last accepted one; 1–3: a later one.
    step: u8,
    /// Some: this exact stage instead (may go back).
    stage: Option<u16>,
    flops: Num,
    input: Num,
    output: Num,
    weight: Num,
    latency: Num,
    precision: u8,
    /// `None`: the legacy path. High bit set: the low bits as they are
    /// (0, or far more than the chip); else an allocation within the chip.
    units: Option<u16>,
    threads: Option<u32>,
}

#[derive(Arbitrary, Debug)]
enum Op {
    Push(Sg),
    /// Push with a sink that refuses to take records.
    PushRefused(Sg),
    Finish,
    Reset,
}

#[derive(Arbitrary, Debug)]
struct Input {
    hw: Hw,
    ops: Vec<Op>,
}

/// Keeps every record; can be told to refuse.
#[derive(Default, Clone, PartialEq, Debug)]
struct Keep {
    refuse: bool,
    subgraphs: Vec<SubgraphRecord>,
    stages: Vec<StageRecord>,
}

impl Sink for Keep {
    fn reserve(&mut self, _subgraphs: usize) -> Result<(), SinkFull> {
        if self.refuse { Err(SinkFull) } else { Ok(()) }
    }
    fn subgraph(&mut self, record: &SubgraphRecord) {
        assert!(!self.refuse, "records handed over after a refused reserve");
        self.subgraphs.push(*record);
    }
    fn stage(&mut self, record: &StageRecord) {
        assert!(!self.refuse, "records handed over after a refused reserve");
        self.stages.push(*record);
    }
}

fn close(a: f64, b: f64, scale: f64) -> bool {
    (a - b).abs() <= 1e-9 * scale.abs() + 1e-300
}

fn hardware(h: &Hw) -> Option<HardwareModel> {
    let mut spec = Preset::H100Sxm5.model().spec().clone();
    let g = u32::from(h.domain_size % 8) + 1;
    spec.units = (u32::from(h.domains % 128) + 1) * g;
    spec.gating_domain = g;
    spec.idle_power_w = f64::from(h.idle_w) * 0.05;
    spec.uncore_power_w = f64::from(h.uncore_w) * 0.05;
    spec.threads_per_unit = u32::from(h.threads_per_unit).max(1);
    spec.gating = if h.can_gate {
        Gating {
            can_gate: true,
            transition_energy_j: f64::from(h.transition_uj) * 1e-6,
            wake_latency_s: f64::from(h.wake_us) * 1e-6,
        }
    } else {
        Gating::NONE
    };
    HardwareModel::new(spec).ok()
}

fn subgraph(sg: &Sg, id: u32, last_stage: u32, n_units: u32) -> Subgraph {
    let stage = match sg.stage {
        Some(s) => u32::from(s),
        None => last_stage.saturating_add(u32::from(sg.step % 4)),
    };
    Subgraph {
        id,
        stage,
        flops: sg.flops.value(1e6),
        precision: Precision::ALL[usize::from(sg.precision) % Precision::ALL.len()],
        input_bytes: sg.input.value(1024.0),
        output_bytes: sg.output.value(1024.0),
        weight_bytes: sg.weight.value(1024.0),
        latency_s: sg.latency.value(1e-7),
        units_allocated: sg.units.map(|u| {
            if u & 0x8000 != 0 {
                u32::from(u & 0x7fff)
            } else {
                1 + u32::from(u) % n_units
            }
        }),
        threads: sg.threads.map(u64::from),
    }
}

/// Checks one closed stage and its subgraph records.
fn check_stage(n: f64, st: &StageRecord, subs: &[SubgraphRecord], oracle: bool) {
    assert_eq!(subs.len(), st.subgraphs as usize, "{st:?}");
    let numbers = [
        st.duration_s,
        st.wake_s,
        st.energy.compute_j,
        st.energy.memory_j,
        st.energy.static_j,
        st.energy.uncore_j,
        st.energy.transition_j,
        st.energy.savings_j,
        st.energy.total_j,
    ];
    assert!(numbers.iter().all(|x| x.is_finite()), "{st:?}");
    let scale = st.energy.compute_j
        + st.energy.memory_j
        + st.energy.static_j.abs()
        + st.energy.uncore_j
        + st.energy.transition_j;
    for x in [
        st.energy.compute_j,
        st.energy.memory_j,
        st.energy.uncore_j,
        st.energy.transition_j,
    ] {
        assert!(x >= 0.0, "{st:?}");
    }
    if !oracle {
        assert!(st.energy.savings_j >= 0.0, "{st:?}");
        assert!(st.energy.static_j >= -1e-9 * scale, "{st:?}");
    }
    // Conservation: N·T unit-seconds.
    let nt = n * st.duration_s;
    let us = st.states.unit_seconds();
    // A settlement moves unit-seconds between states, which cancel only to
    // the rounding of what was moved: that is the scale of the check.
    let moved: f64 = PowerState::ALL
        .iter()
        .map(|&s| st.states.get(s).unit_seconds.abs())
        .sum();
    assert!(
        close(us, nt, nt.max(moved)),
        "unit-seconds {us} vs N·T {nt}: {st:?}"
    );
    for s in PowerState::ALL {
        let t = st.states.get(s);
        assert!(t.unit_seconds.is_finite() && t.energy_j.is_finite());
        if !oracle {
            assert!(t.unit_seconds >= -1e-9 * nt, "{s:?} {st:?}");
        }
    }
    // Closed attribution.
    let charged: f64 = subs.iter().map(|s| s.total_energy_j).sum();
    assert!(
        close(charged, st.energy.total_j, scale),
        "charges {charged} vs stage {}: {st:?} {subs:?}",
        st.energy.total_j
    );
    for s in subs {
        assert_eq!(s.stage, st.stage);
        for x in [
            s.units,
            s.active_unit_seconds,
            s.idle_allocated_unit_seconds,
            s.compute_energy_j,
            s.memory_energy_j,
            s.own_static_energy_j,
            s.shared_energy_j,
            s.total_energy_j,
        ] {
            assert!(x.is_finite(), "{s:?}");
        }
        if let Some(u) = s.legacy_utilization {
            assert!((0.0..=1.0).contains(&u), "{s:?}");
        }
    }
}

fuzz_target!(|input: Input| {
    let Some(hw) = hardware(&input.hw) else {
        return;
    };
    let policy = GatingPolicy::ALL[usize::from(input.hw.policy) % GatingPolicy::ALL.len()];
    let oracle = policy == GatingPolicy::Oracle;
    let mut composer: Composer<8> = match Composer::new(hw.clone(), policy) {
        Ok(c) => c,
        Err(e) => {
            assert_eq!(e, SetupError::GatingUnsupported(policy));
            assert!(!hw.gating().can_gate);
            return;
        }
    };
    // The same stream under Off (to compare BreakEven and Oracle against),
    // Always and BreakEven (to compare Oracle against). The composer under
    // test gates, so the hardware can.
    let others: &[GatingPolicy] = match policy {
        GatingPolicy::Oracle => &[
            GatingPolicy::Off,
            GatingPolicy::Always,
            GatingPolicy::BreakEven,
        ],
        _ => &[GatingPolicy::Off],
    };
    let mut shadows: Vec<(Composer<8>, Keep)> = others
        .iter()
        .map(|&p| (Composer::new(hw.clone(), p).unwrap(), Keep::default()))
        .collect();
    let mut diverged = false;
    // Whether a subgraph was accepted after a finish (since the last reset).
    let (mut finished_once, mut continued) = (false, false);

    let n = f64::from(hw.units());
    let mut sink = Keep::default();
    // Records checked so far, and the sum of stage totals since the last reset.
    let (mut checked_stages, mut checked_subs) = (0usize, 0usize);
    let mut stage_total_sum = 0.0;
    let mut stage_total_abs = 0.0;
    let mut last_stage = 0u32;

    for (i, op) in input.ops.iter().enumerate() {
        let before = composer.clone();
        let sink_before = sink.clone();
        let id = i as u32;
        let (result, shadow_result) = match op {
            Op::Push(sg) | Op::PushRefused(sg) => {
                let sg = subgraph(sg, id, last_stage, hw.units());
                sink.refuse = matches!(op, Op::PushRefused(_));
                let r = composer.push(&sg, &mut sink).map(|()| None);
                sink.refuse = false;
                if r.is_ok() {
                    last_stage = sg.stage;
                }
                if r.is_ok() && finished_once {
                    continued = true;
                }
                let s = r.is_ok().then(|| {
                    shadows
                        .iter_mut()
                        .map(|(c, k)| c.push(&sg, k))
                        .collect::<Result<Vec<()>, _>>()
                        .map(|_| None)
                });
                (r, s)
            }
            Op::Finish => {
                let r = composer
                    .finish(&mut sink)
                    .map(Some)
                    .map_err(ComposeError::from);
                let s = r.is_ok().then(|| {
                    shadows
                        .iter_mut()
                        .map(|(c, k)| c.finish(k))
                        .collect::<Result<Vec<_>, _>>()
                        .map(|_| None::<ModelReport>)
                        .map_err(ComposeError::from)
                });
                if r.is_ok() {
                    finished_once = true;
                }
                (r, s)
            }
            Op::Reset => {
                composer.reset();
                for (c, _) in &mut shadows {
                    c.reset();
                }
                (finished_once, continued) = (false, false);
                assert_eq!(composer.pending(), 0);
                assert_eq!(composer.powered_domains(), hw.domains());
                assert_eq!(composer.report().stages, 0);
                stage_total_sum = 0.0;
                stage_total_abs = 0.0;
                // Both start again from the same state.
                diverged = false;
                (Ok(None), None)
            }
        };
        if matches!(shadow_result, Some(Err(_))) {
            diverged = true;
        }
        match result {
            Err(e) => {
                assert_eq!(composer, before, "refused call changed the composer: {e:?}");
                assert_eq!(sink, sink_before, "refused call changed the sink: {e:?}");
            }
            Ok(finished) => {
                // Check every stage closed by this call.
                while checked_stages < sink.stages.len() {
                    let st = &sink.stages[checked_stages];
                    let count = st.subgraphs as usize;
                    let subs = &sink.subgraphs[checked_subs..checked_subs + count];
                    check_stage(n, st, subs, oracle);
                    stage_total_sum += st.energy.total_j;
                    stage_total_abs += st.energy.total_j.abs()
                        + st.energy.static_j.abs()
                        + st.energy.compute_j
                        + st.energy.memory_j;
                    checked_stages += 1;
                    checked_subs += count;
                }
                assert_eq!(checked_subs, sink.subgraphs.len());
                let report = composer.report();
                if let Some(r) = finished {
                    assert_eq!(r, report);
                    assert_eq!(composer.pending(), 0);
                }
                assert!(report.energy.total_j.is_finite());
                assert!(report.latency_s.is_finite() && report.latency_s >= 0.0);
                assert!(
                    close(report.energy.total_j, stage_total_sum, stage_total_abs),
                    "model {} vs Σ stages {stage_total_sum}",
                    report.energy.total_j
                );
                let nt = n * report.latency_s;
                assert!(close(report.states.unit_seconds(), nt, nt));
                assert!(report.utilization.is_finite());
                assert!(report.utilization <= 1.0 + 1e-9, "{report:?}");
                assert!(report.peak_units_allocated <= hw.units());
                // Over the model no state, no static energy, no saving is negative.
                let tol = 1e-9 * stage_total_abs;
                for s in PowerState::ALL {
                    let t = report.states.get(s);
                    assert!(t.unit_seconds >= -1e-9 * nt, "{s:?} {report:?}");
                    assert!(t.energy_j >= -tol, "{s:?} {report:?}");
                }
                assert!(report.energy.static_j >= -tol, "{report:?}");
                assert!(report.energy.savings_j >= -tol, "{report:?}");
                if oracle && finished.is_some() && !diverged && !continued {
                    for (other, p) in shadows.iter().zip(others) {
                        let o = other.0.report();
                        assert!(
                            report.energy.total_j
                                <= o.energy.total_j + 1e-9 * o.energy.total_j.abs(),
                            "Oracle {} J > {p} {} J",
                            report.energy.total_j,
                            o.energy.total_j
                        );
                    }
                }
            }
        }
        if policy == GatingPolicy::BreakEven && !diverged {
            let (be, off) = (composer.report(), shadows[0].0.report());
            assert_eq!(be.stages, off.stages);
            assert!(
                be.energy.total_j <= off.energy.total_j + 1e-9 * off.energy.total_j.abs(),
                "BreakEven {} J > Off {} J",
                be.energy.total_j,
                off.energy.total_j
            );
        }
    }
});
