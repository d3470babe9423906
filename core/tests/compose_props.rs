//! Property tests of the composition invariants of DESIGN.md §2–3.

use proptest::prelude::*;
use wattledger_core::compose::{
    Composer, GatingPolicy, ModelReport, Recorder, StageRecord, Subgraph, SubgraphRecord,
};
use wattledger_core::hardware::{
    Dvfs, Gating, HardwareModel, HardwareSpec, Precision, PrecisionTable,
};
use wattledger_core::state::PowerState;

const STAGES: usize = 12;
const WIDTH: usize = 8;
type Rec = Recorder<64, 256>;

/// `|a − b| ≤ tol·max(|a|, |b|, floor)`.
fn near(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol * a.abs().max(b.abs()).max(1e-9)
}

fn hardware() -> impl Strategy<Value = HardwareModel> {
    (
        1u32..=4,
        1u32..=40,
        0.0f64..800.0,
        0.0f64..100.0,
        0.0f64..1e-3,
        0.0f64..1e-3,
    )
        .prop_map(|(g, domains, idle, uncore, e_tr, wake)| {
            HardwareModel::new(HardwareSpec {
                name: "prop".try_into().unwrap(),
                unit_name: "SM".try_into().unwrap(),
                units: g * domains,
                gating_domain: g,
                idle_power_w: idle,
                uncore_power_w: uncore,
                active_power_w: 0.0,
                energy_per_op_j: PrecisionTable::EMPTY
                    .with(Precision::Fp16, 0.6e-12)
                    .with(Precision::Fp32, 9e-12),
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

/// One stage's subgraphs: either one legacy subgraph or 1..=WIDTH allocated ones.
fn stage(units: u32) -> impl Strategy<Value = Vec<Subgraph>> {
    let allocated = prop::collection::vec(
        (
            0.0f64..1e12,
            0.0f64..1e9,
            0.0f64..1e-2,
            1u32..=units + units / 2 + 1,
            any::<bool>(),
        ),
        1..=WIDTH,
    )
    .prop_map(|v| {
        v.into_iter()
            .map(|(flops, bytes, lat, a, fp16)| Subgraph {
                flops,
                precision: if fp16 {
                    Precision::Fp16
                } else {
                    Precision::Fp32
                },
                input_bytes: bytes,
                latency_s: lat,
                units_allocated: Some(a),
                ..Subgraph::empty(0, 0)
            })
            .collect::<Vec<_>>()
    });
    let legacy = (
        0.0f64..1e12,
        0.0f64..1e-2,
        prop::option::of(0u64..2_000_000),
    )
        .prop_map(|(flops, lat, threads)| {
            vec![Subgraph {
                flops,
                latency_s: lat,
                threads,
                ..Subgraph::empty(0, 0)
            }]
        });
    prop_oneof![4 => allocated, 1 => legacy]
}

/// A model: hardware and a stream of stages, numbered with gaps.
fn model() -> impl Strategy<Value = (HardwareModel, Vec<Vec<Subgraph>>)> {
    hardware().prop_flat_map(|hw| {
        let n = hw.units();
        (Just(hw), prop::collection::vec(stage(n), 1..=STAGES))
    })
}

/// Numbers stages 0, 2, 4, … and ids in stream order; flattens.
fn stream(stages: &[Vec<Subgraph>]) -> Vec<Subgraph> {
    let mut id = 0;
    let mut out = Vec::new();
    for (k, st) in stages.iter().enumerate() {
        for s in st {
            out.push(Subgraph {
                id,
                stage: 2 * k as u32,
                ..*s
            });
            id += 1;
        }
    }
    out
}

fn compose(hw: &HardwareModel, policy: GatingPolicy, s: &[Subgraph]) -> (ModelReport, Rec) {
    let mut rec = Rec::new();
    let mut c = Composer::<WIDTH>::new(hw.clone(), policy).unwrap();
    for sg in s {
        c.push(sg, &mut rec).unwrap();
    }
    let r = c.finish(&mut rec).unwrap();
    (r, rec)
}

fn policy() -> impl Strategy<Value = GatingPolicy> {
    prop::sample::select(GatingPolicy::ALL.to_vec())
}

fn check_stage(st: &StageRecord, n: f64) {
    // Unit-seconds of all states add up to N·T.
    assert!(
        near(st.states.unit_seconds(), n * st.duration_s, 1e-9),
        "{st:?}"
    );
    // The total is the sum of its parts (same order: exact).
    assert_eq!(
        st.energy.total_j,
        st.energy.compute_j
            + st.energy.memory_j
            + st.energy.static_j
            + st.energy.uncore_j
            + st.energy.transition_j
    );
    // The ledger holds the same energy: static + dynamic + transitions.
    assert!(near(
        st.states.energy_j() + st.energy.uncore_j,
        st.energy.total_j,
        1e-9
    ));
    for s in PowerState::ALL {
        let t = st.states.get(s);
        assert!(t.unit_seconds >= -1e-9 * n * st.duration_s && t.energy_j.is_finite());
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn conservation_and_closed_attribution((hw, stages) in model(), policy in policy()) {
        let s = stream(&stages);
        let (r, rec) = compose(&hw, policy, &s);
        let n = f64::from(hw.units());
        for st in &rec.stages {
            check_stage(st, n);
        }
        prop_assert_eq!(rec.stages.len(), stages.len());
        prop_assert_eq!(rec.subgraphs.len(), s.len());
        // Model level: unit-seconds N·latency; total = its parts.
        prop_assert!(near(r.states.unit_seconds(), n * r.latency_s, 1e-9));
        prop_assert_eq!(
            r.energy.total_j,
            r.energy.compute_j + r.energy.memory_j + r.energy.static_j + r.energy.uncore_j
                + r.energy.transition_j
        );
        prop_assert!(near(r.states.energy_j() + r.energy.uncore_j, r.energy.total_j, 1e-9));
        // Attribution closes: per-subgraph charges add up to the model total.
        let charged: f64 = rec.subgraphs.iter().map(|x| x.total_energy_j).sum();
        prop_assert!(near(charged, r.energy.total_j, 1e-9), "{} vs {}", charged, r.energy.total_j);
        prop_assert!(r.utilization >= 0.0 && r.utilization <= 1.0 + 1e-12);
        prop_assert!(r.energy.total_j.is_finite() && r.energy.total_j >= 0.0);
    }

    #[test]
    fn stage_result_does_not_depend_on_subgraph_order(
        (hw, stages) in model(), policy in policy(), seed in any::<u64>()
    ) {
        let s = stream(&stages);
        // Reverse or rotate each stage's subgraphs, by a seed.
        let shuffled: Vec<Vec<Subgraph>> = stages.iter().map(|st| {
            let mut st = st.clone();
            if seed % 2 == 0 { st.reverse() } else { let k = (seed as usize) % st.len(); st.rotate_left(k) }
            st
        }).collect();
        let (a, ra) = compose(&hw, policy, &s);
        let (b, rb) = compose(&hw, policy, &stream(&shuffled));
        prop_assert!(near(a.energy.total_j, b.energy.total_j, 1e-12));
        prop_assert!(near(a.energy.static_j, b.energy.static_j, 1e-12));
        prop_assert_eq!(a.latency_s, b.latency_s);
        prop_assert_eq!(a.transitions, b.transitions);
        for (x, y) in ra.stages.iter().zip(rb.stages.iter()) {
            prop_assert_eq!(x.duration_s, y.duration_s);
            prop_assert_eq!(x.domains_gated, y.domains_gated);
            prop_assert!(near(x.energy.total_j, y.energy.total_j, 1e-12));
            for st in PowerState::ALL {
                prop_assert!(near(x.states.get(st).unit_seconds, y.states.get(st).unit_seconds, 1e-12));
            }
        }
        // Each subgraph is charged the same wherever it stood in its stage.
        let by_key = |r: &Rec| {
            let mut v: Vec<(u32, u64, u64)> = r.subgraphs.iter().map(|x: &SubgraphRecord| {
                (x.stage, x.latency_s.to_bits(), x.units.to_bits())
            }).collect();
            v.sort();
            v
        };
        prop_assert_eq!(by_key(&ra), by_key(&rb));
    }

    #[test]
    fn break_even_never_costs_more_than_off((hw, stages) in model()) {
        let s = stream(&stages);
        let (off, _) = compose(&hw, GatingPolicy::Off, &s);
        let (be, _) = compose(&hw, GatingPolicy::BreakEven, &s);
        prop_assert!(be.energy.total_j <= off.energy.total_j * (1.0 + 1e-12) + 1e-15,
            "break-even {} > off {}", be.energy.total_j, off.energy.total_j);
    }

    #[test]
    fn gating_off_static_is_idle_power_times_durations((hw, stages) in model()) {
        let (r, rec) = compose(&hw, GatingPolicy::Off, &stream(&stages));
        let sum_t: f64 = rec.stages.iter().map(|s| s.duration_s).sum();
        prop_assert!(near(r.energy.static_j, hw.spec().idle_power_w * sum_t, 1e-12));
        // Per stage it is exact: P·T with nothing gated.
        for st in &rec.stages {
            prop_assert_eq!(st.energy.static_j, hw.spec().idle_power_w * st.duration_s);
        }
        prop_assert_eq!(r.transitions, 0);
        prop_assert_eq!(r.energy.savings_j, 0.0);
    }

    #[test]
    fn dvfs_nominal_is_identity_and_follows_the_laws(
        (hw, stages) in model(), k in 0.3f64..1.5, fk in 0.3f64..1.5, c in 0.0f64..1.0
    ) {
        let d = hw.spec().dvfs;
        // The nominal point is the identity, exactly.
        prop_assert_eq!(d.dynamic_factor(), 1.0);
        prop_assert_eq!(d.static_factor(), 1.0);
        let same = hw.with_operating_point(d.nominal_voltage_v, d.nominal_frequency_mhz).unwrap();
        let s = stream(&stages);
        prop_assert_eq!(compose(&hw, GatingPolicy::Off, &s).0, compose(&same, GatingPolicy::Off, &s).0);
        // v² for dynamic energy, v for static power (c = 0, α = 1).
        let scaled = hw.with_operating_point(k * d.nominal_voltage_v, fk * d.nominal_frequency_mhz).unwrap();
        let e0 = hw.energy_per_op_j(Precision::Fp16).unwrap();
        prop_assert!(near(scaled.energy_per_op_j(Precision::Fp16).unwrap(), e0 * k * k, 1e-12));
        prop_assert!(near(scaled.static_power_w(), hw.static_power_w() * k, 1e-12));
        prop_assert_eq!(scaled.energy_per_byte_j(), hw.energy_per_byte_j());
        let (base, _) = compose(&hw, GatingPolicy::Off, &s);
        let (sc, _) = compose(&scaled, GatingPolicy::Off, &s);
        prop_assert!(near(sc.energy.compute_j, base.energy.compute_j * k * k, 1e-9));
        // This hardware has no peak rates or bandwidth, so every latency is
        // taken as compute-bound and stretches by f0/f = 1/fk: static power
        // scales by k and lasts 1/fk as long.
        prop_assert!(near(sc.latency_s, base.latency_s / fk, 1e-9));
        prop_assert!(near(sc.energy.static_j, base.energy.static_j * k / fk, 1e-9));
        // With a clock-tree share c: (1 − c)·v + c·v²·f.
        let mut spec = scaled.spec().clone();
        spec.dvfs.clock_fraction = c;
        let with_c = HardwareModel::new(spec).unwrap();
        prop_assert!(near(with_c.spec().dvfs.static_factor(), (1.0 - c) * k + c * k * k * fk, 1e-12));
    }
}
