//! The timeline composer's rules, each checked on a timeline small enough to
//! work out by hand (the working is in the comments).

use wattledger_core::compose::{Flags, FnSink};
use wattledger_core::hardware::{
    Dvfs, Gating, HardwareModel, HardwareSpec, Name, Precision, PrecisionTable,
};
use wattledger_core::state::PowerState;
use wattledger_core::timeline::{
    Engine, Interval, KernelRecord, KernelRecorder, Timeline, TimelineError, TimelinePolicy,
    TimelineReport, Work,
};

const S: u64 = 1_000_000_000;

/// 8 units in domains of 2 (4 domains); static 8 W (1 W a unit, 2 W a
/// domain); uncore 4 W; active power 16 W (2 W a unit); FP32 1 nJ per op;
/// 1 nJ per byte; gating at 1 J per transition and 0.5 s to wake, so
/// t_be = 2·1/2 + 0.5 = 1.5 s.
fn hw() -> HardwareModel {
    HardwareModel::new(HardwareSpec {
        name: Name::try_from("toy").unwrap(),
        unit_name: Name::try_from("SM").unwrap(),
        units: 8,
        gating_domain: 2,
        idle_power_w: 8.0,
        uncore_power_w: 4.0,
        active_power_w: 16.0,
        energy_per_op_j: PrecisionTable::EMPTY.with(Precision::Fp32, 1e-9),
        energy_per_byte_j: 1e-9,
        peak_ops_per_s: wattledger_core::hardware::PeakRates::NONE,
        memory_bandwidth_bytes_per_s: 0.0,
        threads_per_unit: 2048,
        gating: Gating {
            can_gate: true,
            transition_energy_j: 1.0,
            wake_latency_s: 0.5,
        },
        dvfs: Dvfs::nominal(1.0, 1000.0),
    })
    .unwrap()
}

/// A [0, 2 s) on 4 units without FLOPs; B [1, 3 s) on 2 units with 10⁹ FP32
/// FLOPs and 10⁹ bytes (1 J each); nothing [3, 5 s); C [5, 6 s) on all 8.
fn three_kernels() -> [Interval; 3] {
    [
        Interval::kernel(1, 0, 2 * S, 4),
        Interval {
            work: Some(Work {
                flops: 1e9,
                precision: Precision::Fp32,
            }),
            bytes: 1e9,
            ..Interval::kernel(2, S, 3 * S, 2)
        },
        Interval::kernel(3, 5 * S, 6 * S, 8),
    ]
}

fn run(policy: TimelinePolicy, intervals: &[Interval]) -> (TimelineReport, Vec<KernelRecord>) {
    let mut t: Timeline = Timeline::new(hw(), policy, 0).unwrap();
    let mut records = Vec::new();
    let mut sink = FnSink(|r: &KernelRecord| records.push(*r));
    for iv in intervals {
        t.push(iv, &mut sink).unwrap();
    }
    let r = t.finish(None, &mut sink).unwrap();
    records.sort_by_key(|r| r.id);
    (r, records)
}

macro_rules! close {
    ($a:expr, $b:expr) => {{
        let (a, b): (f64, f64) = ($a, $b);
        assert!(
            (a - b).abs() <= 1e-9 * b.abs().max(1.0),
            "{} = {a}, expected {b}",
            stringify!($a)
        );
    }};
}

fn closes(r: &TimelineReport, records: &[KernelRecord]) {
    let kernels: f64 = records.iter().map(|k| k.total_energy_j).sum();
    close!(kernels + r.idle.energy_j, r.total_energy_j);
    close!(r.states.unit_seconds(), 8.0 * r.span_s);
    // Uncore power belongs to no unit, so to no state.
    close!(r.states.energy_j() + r.uncore_energy_j, r.total_energy_j);
}

#[test]
fn off_charges_every_interval_once_and_shares_by_allocation() {
    let (r, k) = run(TimelinePolicy::Off, &three_kernels());
    // [0,1) A (2 domains): static 8, uncore 4, active 2 W·4 units = 8, idle
    //   static 4 units = 4; pool uncore + idle static = 8, over 2 domains: 4 each.
    // [1,2) A+B (3 domains, 6 units): static 8, uncore 4, active 8 (A only),
    //   idle 2; pool 6 over 3 domains: 2 each.
    // A: own static 4 units·2 s = 8, active 16, shared 2·(4 + 2) = 12 → 36.
    close!(k[0].own_static_energy_j, 8.0);
    close!(k[0].active_energy_j, 16.0);
    close!(k[0].shared_energy_j, 12.0);
    close!(k[0].total_energy_j, 36.0);
    // [2,3) B alone: idle static 6 units = 6, pool 10 on its one domain.
    // B: own 2 units·2 s = 4, compute 1, memory 1, shared 1·(2 + 10) → 18.
    close!(k[1].active_energy_j, 0.0);
    close!(k[1].compute_energy_j, 1.0);
    close!(k[1].memory_energy_j, 1.0);
    close!(k[1].total_energy_j, 18.0);
    // [3,5) nothing runs: idle bucket 2 s, uncore 8 + static 16 = 24.
    close!(r.idle.seconds, 2.0);
    close!(r.idle.energy_j, 24.0);
    // [5,6) C on everything: own 8, active 16, shared uncore 4 → 28.
    close!(k[2].total_energy_j, 28.0);
    // Static 8 W over 6 s; uncore 4 W over 6 s; active 8 + 8 + 16.
    close!(r.static_energy_j, 48.0);
    close!(r.uncore_energy_j, 24.0);
    close!(r.active_energy_j, 32.0);
    close!(r.total_energy_j, 106.0);
    // Active unit-seconds 4 + 6 + 2 + 0 + 8; everything else idle.
    close!(r.states.get(PowerState::Active).unit_seconds, 20.0);
    close!(r.states.get(PowerState::IdleUnallocated).unit_seconds, 28.0);
    close!(r.span_s, 6.0);
    close!(r.busy_s, 4.0);
    assert_eq!((r.kernels, r.copies, r.transitions), (3, 0, 0));
    assert_eq!(r.peak_units_allocated, 8);
    closes(&r, &k);
}

#[test]
fn always_gates_at_once_and_wakes_in_the_idle_time() {
    let (r, k) = run(TimelinePolicy::Always, &three_kernels());
    // [0,1) A; 2 free domains gated: static 4 (A's units), pool uncore 4 → 2/domain.
    // At 1 B wakes a domain idle 1 s: 2 transitions (2 J) + wake 0.5 s of
    //   2 units at 1 W (1 J) = 3 J, shared in the next interval.
    // [1,2) A+B: static 6; pool 4 + 3 = 7 over 3 domains.
    // A: own 8, active 16, shared 2·(2 + 7/3) → 32 + 2/3.
    close!(k[0].total_energy_j, 32.0 + 2.0 / 3.0);
    // [2,3) B alone: pool 4. B: 4 + 1 + 1 + (7/3 + 4) → 12 + 1/3.
    close!(k[1].total_energy_j, 12.0 + 1.0 / 3.0);
    // [3,5) all gated: idle bucket is uncore only.
    close!(r.idle.energy_j, 8.0);
    // At 5 C wakes all 4 domains, each idle ≥ 0.5 s: 8 J + 4 J of wake;
    // C: 8 + 16 + (4 + 12) = 40.
    close!(k[2].total_energy_j, 40.0);
    assert_eq!(r.transitions, 10);
    assert_eq!(r.idle_periods, 5);
    close!(r.transition_energy_j, 10.0);
    // Static: per interval 4 + 6 + 2 + 0 + 8, wake windows 1 + 4.
    close!(r.static_energy_j, 25.0);
    close!(r.total_energy_j, 93.0);
    close!(r.states.get(PowerState::Transitioning).unit_seconds, 5.0);
    // Gated 4 + 2 + 6 + 16 per interval, less 5 of wake windows.
    close!(r.states.get(PowerState::Gated).unit_seconds, 23.0);
    close!(r.gating_savings_j, 23.0);
    assert!(
        r.flags
            .contains(Flags::GATED_DOMAINS.union(Flags::WOKE_DOMAINS))
    );
    assert!(!r.flags.contains(Flags::WAKE_LATE));
    closes(&r, &k);
}

#[test]
fn oracle_gates_only_periods_longer_than_break_even() {
    let (r, k) = run(TimelinePolicy::Oracle, &three_kernels());
    assert_eq!(
        Timeline::<4, 4>::new(hw(), TimelinePolicy::Oracle, 0)
            .unwrap()
            .break_even_ns(),
        3 * S / 2
    );
    // The domain B takes at 1 s was idle 1 s ≤ 1.5 s: powered all along,
    // 2 units·1 s = 2 J, booked at 1 s and shared in [1,2).
    // [0,1) pool 4 (young free domains are not costed yet) → 2/domain.
    // [1,2) pool 4 + 2 over 3 domains → 2/domain. A: 8 + 16 + 2·(2 + 2) = 32.
    close!(k[0].total_energy_j, 32.0);
    // [2,3) pool 4. B: 4 + 2 + (2 + 4) = 12.
    close!(k[1].total_energy_j, 12.0);
    close!(r.idle.energy_j, 8.0);
    // At 5 the four domains had been idle 4, 3, 3 and 2 s: all gated, 8 J of
    // transitions and 4 J of wake windows. C: 8 + 16 + 16 = 40.
    close!(k[2].total_energy_j, 40.0);
    close!(r.static_energy_j, 26.0);
    close!(r.transition_energy_j, 8.0);
    close!(r.total_energy_j, 92.0);
    close!(r.states.get(PowerState::IdleUnallocated).unit_seconds, 2.0);
    close!(r.states.get(PowerState::Gated).unit_seconds, 22.0);
    close!(r.states.get(PowerState::Transitioning).unit_seconds, 4.0);
    closes(&r, &k);
}

#[test]
fn timeout_gates_after_break_even() {
    let (r, k) = run(TimelinePolicy::Timeout, &three_kernels());
    // [0,1) 2 free domains powered (4 J): pool 8 → 4/domain.
    // [1,2) the free domain (idle since 0) gates at 1.5: powered 1 unit-s.
    //   static 6 + 1; pool 4 + 1 → 5/3 a domain. A: 8 + 16 + 2·(4 + 5/3).
    close!(k[0].total_energy_j, 24.0 + 34.0 / 3.0);
    // [2,3) A's two domains powered (4 J), the old one gated: pool 8.
    // B: 4 + 2 + (5/3 + 8).
    close!(k[1].total_energy_j, 6.0 + 29.0 / 3.0);
    // [3,5) A's domains gate at 3.5 (2 unit-s powered), B's at 4.5 (3):
    // idle bucket = uncore 8 + 5.
    close!(r.idle.energy_j, 13.0);
    close!(k[2].total_energy_j, 40.0);
    close!(r.static_energy_j, 38.0);
    close!(r.total_energy_j, 104.0);
    closes(&r, &k);
}

#[test]
fn policies_order_as_theory_says_on_the_worked_timeline() {
    let total = |p| run(p, &three_kernels()).0.total_energy_j;
    let (off, always, timeout, oracle) = (
        total(TimelinePolicy::Off),
        total(TimelinePolicy::Always),
        total(TimelinePolicy::Timeout),
        total(TimelinePolicy::Oracle),
    );
    assert!(oracle <= always && oracle <= timeout && oracle <= off);
    assert!(timeout <= 2.0 * oracle);
}

#[test]
fn oversubscription_caps_scales_and_flags() {
    // Two kernels of 6 units (3 domains each) on 4 domains for 1 s:
    // scale 4/6; each has 6·(2/3) = 4 active unit-seconds.
    let (r, k) = run(
        TimelinePolicy::Off,
        &[Interval::kernel(1, 0, S, 6), Interval::kernel(2, 0, S, 6)],
    );
    for rec in &k {
        close!(rec.active_unit_seconds, 4.0);
        // own static 4, active 2 W·4 = 8, shared uncore 4 · 3/6 = 2.
        close!(rec.total_energy_j, 14.0);
        assert!(rec.flags.contains(Flags::OVERSUBSCRIBED));
        assert_eq!(rec.units, 6);
    }
    assert!(r.flags.contains(Flags::OVERSUBSCRIBED));
    assert_eq!(r.peak_units_allocated, 8);
    close!(r.total_energy_j, 28.0);
    closes(&r, &k);
}

#[test]
fn units_round_up_to_domains_and_free_at_kernel_end() {
    // 3 units ask for 2 domains = 4 units, active for the kernel's 1 s.
    let (r, k) = run(TimelinePolicy::Off, &[Interval::kernel(1, 0, S, 3)]);
    assert_eq!(k[0].units, 4);
    close!(k[0].active_unit_seconds, 4.0);
    close!(r.states.get(PowerState::Active).unit_seconds, 4.0);
    // Its neighbour's units are free after it ends: with A [0,1 s) and
    // B [0,3 s), A's domains are idle-unallocated in [1,3), not "allocated".
    let (r, _) = run(
        TimelinePolicy::Off,
        &[
            Interval::kernel(1, 0, S, 4),
            Interval::kernel(2, 0, 3 * S, 2),
        ],
    );
    // Active: 6 units·1 s + 2 units·2 s = 10.
    close!(r.states.get(PowerState::Active).unit_seconds, 10.0);
    close!(r.states.get(PowerState::IdleAllocated).unit_seconds, 0.0);
}

#[test]
fn copies_hold_no_units_but_make_the_gpu_busy() {
    // A copy of 10⁹ bytes alone for 1 s: memory 1 J, and the interval's
    // static 8 + uncore 4 are its share (nothing else runs): 13 J.
    let (r, k) = run(TimelinePolicy::Off, &[Interval::copy(1, 0, S, 1e9)]);
    close!(k[0].total_energy_j, 13.0);
    assert!(k[0].copy);
    close!(r.idle.seconds, 0.0);
    close!(r.busy_s, 1.0);
    assert_eq!((r.kernels, r.copies), (0, 1));
    // Beside a kernel, a copy is charged only its bytes.
    let (_, k) = run(
        TimelinePolicy::Off,
        &[Interval::kernel(1, 0, S, 8), Interval::copy(2, 0, S, 1e9)],
    );
    close!(k[1].total_energy_j, 1.0);
}

#[test]
fn wake_that_does_not_fit_is_flagged() {
    // A [0,1 s) on one domain; B takes that domain again at 1.2 s: idle
    // 0.2 s < 0.5 s wake. Always: 2 J + 0.2 s·2 units·1 W = 2.4 J, flagged.
    let (r, _) = run(
        TimelinePolicy::Always,
        &[
            Interval::kernel(1, 0, S, 2),
            Interval::kernel(2, 6 * S / 5, 2 * S, 2),
        ],
    );
    assert!(r.flags.contains(Flags::WAKE_LATE));
    // The wake window is the 0.2 s there was, on 2 units.
    close!(r.states.get(PowerState::Transitioning).unit_seconds, 0.4);
    // Down and up for that domain, and a power-down for each of the other
    // three at the end: 5 J.
    close!(r.transition_energy_j, 5.0);
    // Under the oracle the short period stays powered: no flag.
    let (r, _) = run(
        TimelinePolicy::Oracle,
        &[
            Interval::kernel(1, 0, S, 2),
            Interval::kernel(2, 6 * S / 5, 2 * S, 2),
        ],
    );
    assert!(!r.flags.contains(Flags::WAKE_LATE));
}

#[test]
fn oracle_gates_the_last_period_when_one_transition_pays() {
    // One kernel on everything [0, 1 s), then the timeline runs to 1.4 s:
    // each domain idle 0.4 s < t_be, but with no wake needed gating saves
    // 2 W·0.4 s = 0.8 J against 1 J of power-down: stays powered.
    let mut t: Timeline = Timeline::new(hw(), TimelinePolicy::Oracle, 0).unwrap();
    t.push(&Interval::kernel(1, 0, S, 8), &mut ()).unwrap();
    let r = t.finish(Some(14 * S / 10), &mut ()).unwrap();
    assert_eq!(r.transitions, 0);
    // To 1.6 s: 1.2 J saved > 1 J: all four domains gated, one transition each.
    let mut t: Timeline = Timeline::new(hw(), TimelinePolicy::Oracle, 0).unwrap();
    t.push(&Interval::kernel(1, 0, S, 8), &mut ()).unwrap();
    let r = t.finish(Some(16 * S / 10), &mut ()).unwrap();
    assert_eq!(r.transitions, 4);
    close!(r.states.get(PowerState::Gated).unit_seconds, 8.0 * 0.6);
    close!(r.idle.energy_j, 4.0 * 0.6 + 4.0);
}

#[test]
fn oracle_gates_a_period_of_exactly_the_rounded_break_even_when_that_pays() {
    // 1.0000000004 J a transition: t_be = 2·1.0000000004/2 + 0.5
    // = 1.5000000004 s, which the timeline's clock rounds up to
    // 1 500 000 001 ns. A period of exactly that is 0.6 ns past the real
    // break-even: per domain, gating and waking costs 2·1.0000000004 J +
    // 2 W·0.5 s = 3.0000000008 J, staying powered 2 W·1.500000001 s =
    // 3.000000002 J. The oracle must gate, as `always` does, and cost no
    // more than it; deciding on the rounded t_be kept the four domains
    // powered, 4·1.2 nJ dearer than `always`.
    let mut spec = hw().spec().clone();
    spec.gating.transition_energy_j = 1.000_000_000_4;
    let hw = HardwareModel::new(spec).unwrap();
    let be = Timeline::<4, 4>::new(hw.clone(), TimelinePolicy::Oracle, 0)
        .unwrap()
        .break_even_ns();
    assert_eq!(be, 1_500_000_001);
    let kernels = [
        Interval::kernel(1, 0, S, 8),
        Interval::kernel(2, S + be, 2 * S + be, 8),
    ];
    let total = |policy| {
        let mut t: Timeline = Timeline::new(hw.clone(), policy, 0).unwrap();
        for k in &kernels {
            t.push(k, &mut ()).unwrap();
        }
        t.finish(None, &mut ()).unwrap()
    };
    let (oracle, always) = (total(TimelinePolicy::Oracle), total(TimelinePolicy::Always));
    // Down and up for each of the four domains.
    assert_eq!(oracle.transitions, 8);
    // 8 units gated for the 1.500000001 s less the 0.5 s wake windows.
    close!(
        oracle.states.get(PowerState::Gated).unit_seconds,
        8.0 * 1.000_000_001
    );
    close!(
        oracle.states.get(PowerState::Transitioning).unit_seconds,
        4.0
    );
    // The same costs as `always`, to rounding (1e-12 of ~74 J, far below
    // the 4.8 nJ the rounded decision cost).
    assert!(
        (oracle.total_energy_j - always.total_energy_j).abs() <= 1e-12 * always.total_energy_j,
        "oracle {} vs always {}",
        oracle.total_energy_j,
        always.total_energy_j
    );
}

#[test]
fn refused_input_changes_nothing() {
    let mut t: Timeline<2, 8> = Timeline::new(hw(), TimelinePolicy::Timeout, 10).unwrap();
    let mut rec: KernelRecorder<1> = KernelRecorder::new();
    t.push(&Interval::kernel(1, 10, 100, 2), &mut rec).unwrap();
    t.push(&Interval::kernel(2, 20, 100, 2), &mut rec).unwrap();
    let before = t.clone();
    let bad = |iv: Interval| iv;
    let cases: [(Interval, TimelineError); 8] = [
        (
            bad(Interval::kernel(3, 15, 100, 2)),
            TimelineError::TimeWentBackwards {
                id: 3,
                start_ns: 15,
                latest_ns: 20,
            },
        ),
        (
            bad(Interval::kernel(3, 30, 29, 2)),
            TimelineError::EndBeforeStart { id: 3 },
        ),
        (
            Interval {
                bytes: f64::NAN,
                ..Interval::kernel(3, 30, 40, 2)
            },
            TimelineError::NotANumber {
                id: 3,
                field: wattledger_core::timeline::IntervalField::Bytes,
            },
        ),
        (
            Interval {
                work: Some(Work {
                    flops: f64::INFINITY,
                    precision: Precision::Fp32,
                }),
                ..Interval::kernel(3, 30, 40, 2)
            },
            TimelineError::Infinite {
                id: 3,
                field: wattledger_core::timeline::IntervalField::Flops,
            },
        ),
        (
            bad(Interval::kernel(3, 30, 40, 0)),
            TimelineError::ZeroAllocation { id: 3 },
        ),
        (
            Interval {
                work: Some(Work {
                    flops: 1.0,
                    precision: Precision::Fp64,
                }),
                ..Interval::kernel(3, 30, 40, 2)
            },
            TimelineError::UnsupportedPrecision {
                id: 3,
                precision: Precision::Fp64,
            },
        ),
        (
            Interval {
                work: Some(Work {
                    flops: 1.0,
                    precision: Precision::Fp32,
                }),
                engine: Engine::Copy,
                ..Interval::kernel(3, 30, 40, 2)
            },
            TimelineError::CopyWithWork { id: 3 },
        ),
        // Two in flight, neither ends by 30: a third does not fit.
        (
            bad(Interval::kernel(3, 30, 40, 2)),
            TimelineError::TooManyInFlight { id: 3, capacity: 2 },
        ),
    ];
    for (iv, err) in cases {
        assert_eq!(t.push(&iv, &mut rec), Err(err));
        assert_eq!(t, before, "{err}");
        assert!(rec.kernels.is_empty());
    }
    // Both end by 200, but the recorder holds one record.
    assert_eq!(
        t.push(&Interval::kernel(3, 200, 300, 2), &mut rec),
        Err(TimelineError::SinkFull)
    );
    assert_eq!(t, before);
    assert_eq!(
        t.finish(Some(99), &mut ()),
        Err(TimelineError::EndBeforeLastEvent {
            end_ns: 99,
            latest_ns: 100
        })
    );
    assert_eq!(t, before);
    // A NaN never reaches a time: times are integers. Finishing works, and
    // then the timeline refuses more until reset.
    let mut big: KernelRecorder<2> = KernelRecorder::new();
    t.finish(None, &mut big).unwrap();
    assert_eq!(big.kernels.len(), 2);
    assert_eq!(
        t.push(&Interval::kernel(3, 200, 300, 2), &mut ()),
        Err(TimelineError::Finished)
    );
    t.reset(0);
    t.push(&Interval::kernel(3, 200, 300, 2), &mut ()).unwrap();
}

#[test]
fn a_full_timeline_takes_a_kernel_when_enough_end_by_its_start() {
    // Capacity 2, both in flight: A [0, 10), B [0, 20). C at 10 fits, since
    // A ends at 10 (its slot is free again), even though the recorder has
    // room for one record, not for the two in flight. The push counts what
    // ends exactly only when the quick bound (room for everything in
    // flight) does not hold, so this takes that path twice over.
    let mut t: Timeline<2, 4> = Timeline::new(hw(), TimelinePolicy::Oracle, 0).unwrap();
    let mut rec: KernelRecorder<1> = KernelRecorder::new();
    t.push(&Interval::kernel(1, 0, 10, 2), &mut rec).unwrap();
    t.push(&Interval::kernel(2, 0, 20, 2), &mut rec).unwrap();
    t.push(&Interval::kernel(3, 10, 30, 2), &mut rec).unwrap();
    assert_eq!(rec.kernels.len(), 1);
    assert_eq!(rec.kernels[0].id, 1);
    assert_eq!(t.in_flight(), 2);
    // At 15 nothing ends: no room.
    assert_eq!(
        t.push(&Interval::kernel(4, 15, 30, 2), &mut ()),
        Err(TimelineError::TooManyInFlight { id: 4, capacity: 2 })
    );
}

#[test]
fn gating_needs_hardware_that_can_gate() {
    let mut spec = hw().spec().clone();
    spec.gating.can_gate = false;
    let m = HardwareModel::new(spec).unwrap();
    assert!(Timeline::<4, 4>::new(m.clone(), TimelinePolicy::Off, 0).is_ok());
    assert_eq!(
        Timeline::<4, 4>::new(m, TimelinePolicy::Oracle, 0).unwrap_err(),
        TimelineError::GatingUnsupported(TimelinePolicy::Oracle)
    );
}

#[test]
fn advance_to_samples_without_changing_the_charges() {
    for policy in TimelinePolicy::ALL {
        let (plain, plain_records) = run(policy, &three_kernels());
        let mut t: Timeline = Timeline::new(hw(), policy, 0).unwrap();
        let mut records = Vec::new();
        let mut sink = FnSink(|r: &KernelRecord| records.push(*r));
        let [a, b, c] = three_kernels();
        t.push(&a, &mut sink).unwrap();
        // At 0.5 s, A alone on 4 of 8 units: the report covers [0, 0.5 s).
        t.advance_to(S / 2, &mut sink).unwrap();
        let half = t.report();
        close!(half.span_s, 0.5);
        close!(half.states.get(PowerState::Active).unit_seconds, 4.0 * 0.5);
        t.push(&b, &mut sink).unwrap();
        // Past A's end (2 s): A's record goes out now, B runs on.
        t.advance_to(5 * S / 2, &mut sink).unwrap();
        // Before the latest sample is refused and changes nothing.
        let before = t.clone();
        assert_eq!(
            t.advance_to(2 * S, &mut sink),
            Err(TimelineError::TimeWentBackwards {
                id: 0,
                start_ns: 2 * S,
                latest_ns: 5 * S / 2
            })
        );
        assert_eq!(t, before);
        t.push(&c, &mut sink).unwrap();
        let r = t.finish(None, &mut sink).unwrap();
        records.sort_by_key(|r| r.id);
        // The same charges as without sampling (up to rounding of the split sums).
        close!(r.total_energy_j, plain.total_energy_j);
        assert_eq!(r.transitions, plain.transitions);
        for (x, y) in records.iter().zip(&plain_records) {
            close!(x.total_energy_j, y.total_energy_j);
        }
    }
}
