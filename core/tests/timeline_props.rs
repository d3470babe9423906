//! Property tests of the timeline invariants of DESIGN.md §3b.

use proptest::prelude::*;
use wattledger_core::compose::{Composer, GatingPolicy, Subgraph};
use wattledger_core::hardware::{
    Dvfs, Gating, HardwareModel, HardwareSpec, Precision, PrecisionTable,
};
use wattledger_core::timeline::{
    Engine, Interval, KernelRecord, Timeline, TimelineError, TimelinePolicy, TimelineReport, Work,
};

/// `|a − b| ≤ tol·max(|a|, |b|, 10⁻⁹)`.
fn near(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol * a.abs().max(b.abs()).max(1e-9)
}

fn hardware() -> impl Strategy<Value = HardwareModel> {
    (
        1u32..=3,
        1u32..=8,
        0.0f64..400.0,
        0.0f64..50.0,
        0.0f64..300.0,
        0.0f64..1e-4,
        0.0f64..2e-4,
    )
        .prop_map(|(g, domains, idle, uncore, active, e_tr, wake)| {
            HardwareModel::new(HardwareSpec {
                name: "prop".try_into().unwrap(),
                unit_name: "SM".try_into().unwrap(),
                units: g * domains,
                gating_domain: g,
                idle_power_w: idle,
                uncore_power_w: uncore,
                active_power_w: active,
                energy_per_op_j: PrecisionTable::EMPTY.with(Precision::Fp32, 9e-12),
                energy_per_byte_j: 3e-11,
                peak_ops_per_s: wattledger_core::hardware::PeakRates::NONE,
                memory_bandwidth_bytes_per_s: 0.0,
                threads_per_unit: 2048,
                gating: Gating {
                    can_gate: true,
                    transition_energy_j: e_tr,
                    wake_latency_s: wake,
                },
                dvfs: Dvfs::nominal(0.9, 1500.0),
            })
            .unwrap()
        })
}

/// Intervals in start order: gaps and durations from 0 to a few ms, so
/// idle periods fall on both sides of break-even.
fn intervals() -> impl Strategy<Value = Vec<Interval>> {
    prop::collection::vec(
        (
            0u64..2_000_000,
            0u64..3_000_000,
            prop::option::of(1u32..30),
            prop::option::of(0.0f64..1e12),
            0.0f64..1e9,
            0u32..4,
        ),
        0..40,
    )
    .prop_map(|raw| {
        let mut t = 0;
        raw.into_iter()
            .enumerate()
            .map(|(i, (gap, dur, units, flops, bytes, stream))| {
                t += gap;
                Interval {
                    id: i as u64,
                    stream,
                    start_ns: t,
                    end_ns: t + dur,
                    engine: units.map_or(Engine::Copy, |units| Engine::Compute { units }),
                    work: flops.filter(|_| units.is_some()).map(|flops| Work {
                        flops,
                        precision: Precision::Fp32,
                    }),
                    bytes,
                }
            })
            .collect()
    })
}

fn run(
    hw: &HardwareModel,
    policy: TimelinePolicy,
    ivs: &[Interval],
) -> (TimelineReport, Vec<KernelRecord>) {
    let mut t: Timeline = Timeline::new(hw.clone(), policy, 0).unwrap();
    let mut recs = Vec::new();
    let mut sink = wattledger_core::compose::FnSink(|r: &KernelRecord| recs.push(*r));
    for iv in ivs {
        t.push(iv, &mut sink).unwrap();
    }
    let r = t.finish(None, &mut sink).unwrap();
    (r, recs)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Unit-seconds add up to N × span, attribution closes, nothing is
    /// negative, every interval gets one record.
    #[test]
    fn conservation_and_closed_attribution(hw in hardware(), ivs in intervals()) {
        for policy in TimelinePolicy::ALL {
            let (r, recs) = run(&hw, policy, &ivs);
            let n = f64::from(hw.units());
            prop_assert!(near(r.states.unit_seconds(), n * r.span_s, 1e-9),
                "{policy}: {} vs {}", r.states.unit_seconds(), n * r.span_s);
            let kernels: f64 = recs.iter().map(|k| k.total_energy_j).sum();
            prop_assert!(near(kernels + r.idle.energy_j, r.total_energy_j, 1e-9),
                "{policy}: {} + {} vs {}", kernels, r.idle.energy_j, r.total_energy_j);
            prop_assert!(near(r.states.energy_j() + r.uncore_energy_j, r.total_energy_j, 1e-9));
            prop_assert_eq!(recs.len(), ivs.len());
            prop_assert_eq!(r.kernels + r.copies, ivs.len() as u64);
            for s in r.states.states {
                prop_assert!(s.unit_seconds >= -1e-12 * n * r.span_s.max(1.0));
                prop_assert!(s.energy_j >= -1e-9 * r.total_energy_j.max(1.0));
            }
            for k in &recs {
                prop_assert!(k.total_energy_j.is_finite() && k.total_energy_j >= -1e-12);
            }
            prop_assert!(near(r.busy_s + r.idle.seconds, r.span_s, 1e-9));
        }
    }

    /// The oracle is optimal; timeout is within twice of it plus one wake
    /// (transition and wake window) per idle period.
    #[test]
    fn oracle_is_optimal_and_timeout_competitive(hw in hardware(), ivs in intervals()) {
        let total = |p| run(&hw, p, &ivs).0;
        let off = total(TimelinePolicy::Off).total_energy_j;
        let always = total(TimelinePolicy::Always).total_energy_j;
        let timeout = total(TimelinePolicy::Timeout);
        let oracle = total(TimelinePolicy::Oracle).total_energy_j;
        let tol = 1e-9 * off.max(always).max(1e-6);
        prop_assert!(oracle <= off + tol, "oracle {oracle} > off {off}");
        prop_assert!(oracle <= always + tol, "oracle {oracle} > always {always}");
        prop_assert!(oracle <= timeout.total_energy_j + tol, "oracle {oracle} > timeout {}", timeout.total_energy_j);
        let p_domain = hw.unit_static_power_w() * f64::from(hw.gating_domain());
        let g = hw.gating();
        // One wake per period, plus t_be's rounding up to a whole ns.
        let per_period = g.transition_energy_j + p_domain * (g.wake_latency_s + 2e-9);
        let bound = 2.0 * oracle + timeout.idle_periods as f64 * per_period;
        prop_assert!(timeout.total_energy_j <= bound + tol,
            "timeout {} > {bound}", timeout.total_energy_j);
    }

    /// A refused interval leaves the timeline exactly as it was.
    #[test]
    fn refusals_change_nothing(hw in hardware(), ivs in intervals(), which in 0u8..5, at in 0usize..40) {
        let mut t: Timeline<8, 64> = Timeline::new(hw, TimelinePolicy::Timeout, 0).unwrap();
        let mut last = 0;
        for iv in ivs.iter().take(at) {
            // Capacity 8: some pushes fail with TooManyInFlight; those must
            // change nothing too.
            let before = t.clone();
            match t.push(iv, &mut ()) {
                Ok(()) => last = iv.start_ns,
                Err(e) => {
                    prop_assert!(matches!(e, TimelineError::TooManyInFlight { .. }), "{e}");
                    prop_assert_eq!(&t, &before);
                }
            }
        }
        let base = Interval::kernel(999, last + 10, last + 20, 1);
        let bad = match which {
            0 if last > 0 => Interval { start_ns: last - 1, end_ns: last + 5, ..base },
            1 => Interval { end_ns: base.start_ns - 1, ..base },
            2 => Interval { bytes: f64::NAN, ..base },
            3 => Interval { work: Some(Work { flops: -1.0, precision: Precision::Fp32 }), ..base },
            _ => Interval { engine: Engine::Compute { units: 0 }, ..base },
        };
        let before = t.clone();
        if which == 0 && last == 0 {
            return Ok(());
        }
        prop_assert!(t.push(&bad, &mut ()).is_err());
        prop_assert_eq!(&t, &before);
    }
}

/// Stage streams: allocated subgraphs with whole-nanosecond latencies and FLOPs.
fn stages() -> impl Strategy<Value = Vec<Vec<(u64, u32, f64, f64)>>> {
    prop::collection::vec(
        prop::collection::vec((0u64..3_000_000, 1u32..30, 0.0f64..1e12, 0.0f64..1e9), 1..6),
        0..12,
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Replayed as a timeline (each stage starting when the previous one
    /// ends), a stage stream costs what the stage composer says under `off`.
    #[test]
    fn stage_stream_replayed_as_timeline_matches_under_off(hw in hardware(), st in stages()) {
        let mut composer: Composer = Composer::new(hw.clone(), GatingPolicy::Off).unwrap();
        let mut timeline: Timeline = Timeline::new(hw.clone(), TimelinePolicy::Off, 0).unwrap();
        let mut t0 = 0;
        let mut id = 0;
        for (s, subgraphs) in st.iter().enumerate() {
            let mut longest = 0;
            for &(latency_ns, units, flops, bytes) in subgraphs {
                let units = units.min(2 * hw.units());
                composer.push(&Subgraph {
                    flops,
                    precision: Precision::Fp32,
                    input_bytes: bytes,
                    latency_s: latency_ns as f64 * 1e-9,
                    units_allocated: Some(units),
                    ..Subgraph::empty(id, s as u32)
                }, &mut ()).unwrap();
                timeline.push(&Interval {
                    work: Some(Work { flops, precision: Precision::Fp32 }),
                    bytes,
                    ..Interval::kernel(u64::from(id), t0, t0 + latency_ns, units)
                }, &mut ()).unwrap();
                longest = longest.max(latency_ns);
                id += 1;
            }
            t0 += longest;
        }
        let a = composer.finish(&mut ()).unwrap();
        let b = timeline.finish(None, &mut ()).unwrap();
        prop_assert!(near(a.energy.total_j, b.total_energy_j, 1e-9), "{} vs {}", a.energy.total_j, b.total_energy_j);
        prop_assert!(near(a.energy.static_j, b.static_energy_j, 1e-9));
        prop_assert!(near(a.energy.uncore_j, b.uncore_energy_j, 1e-9));
        prop_assert!(near(a.energy.compute_j, b.compute_energy_j, 1e-12));
        prop_assert!(near(a.energy.memory_j, b.memory_energy_j, 1e-12));
        prop_assert!(near(a.latency_s, b.span_s, 1e-9));
        prop_assert_eq!(b.active_energy_j, 0.0);
        // Every subgraph of a stage starts together; only one of zero
        // latency can end before its neighbours start.
        prop_assert!(b.peak_units_allocated <= a.peak_units_allocated);
    }
}
