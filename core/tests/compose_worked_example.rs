//! The worked example of the functional-energy-composition design, the legacy
//! whole-chip formula, and hand-computed cases of every composition rule.

use wattledger_core::compose::{Composer, Flags, GatingPolicy, ModelReport, Recorder, Subgraph};
use wattledger_core::hardware::{
    Dvfs, Gating, HardwareModel, HardwareSpec, Precision, PrecisionTable,
};
use wattledger_core::presets::Preset;
use wattledger_core::state::PowerState;

/// Relative closeness for values computed along different float paths.
fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-12 * a.abs().max(b.abs()).max(1e-300)
}

macro_rules! assert_close {
    ($a:expr, $b:expr) => {{
        let (a, b) = ($a, $b);
        assert!(
            close(a, b),
            "{} = {a} but expected {} = {b}",
            stringify!($a),
            stringify!($b)
        );
    }};
}

fn run(hw: HardwareModel, policy: GatingPolicy, subgraphs: &[Subgraph]) -> ModelReport {
    let mut c: Composer = Composer::new(hw, policy).unwrap();
    for s in subgraphs {
        c.push(s, &mut ()).unwrap();
    }
    c.finish(&mut ()).unwrap()
}

/// 24 SMs for latency t, no dynamic work, so only static energy shows.
fn seed_subgraph(t: f64) -> Subgraph {
    Subgraph {
        latency_s: t,
        units_allocated: Some(24),
        ..Subgraph::empty(1, 0)
    }
}

#[test]
fn seed_example_gating_off() {
    let t = 0.01;
    let r = run(
        Preset::SeedH100.model(),
        GatingPolicy::Off,
        &[seed_subgraph(t)],
    );
    // Whole chip: 300 W · 0.01 s = 3 J, bit for bit the original formula.
    assert_eq!(r.energy.static_j, 300.0 * t);
    // Allocated share: 300·24/132·0.01 = 0.545454… J, all of it Active
    // (the only subgraph lasts the whole stage).
    assert_close!(
        r.states.get(PowerState::Active).energy_j,
        300.0 * 24.0 / 132.0 * t
    );
    assert_close!(r.states.get(PowerState::Active).unit_seconds, 24.0 * t);
    // The other 108 SMs idle unallocated: 300·108/132·0.01 = 2.4545… J.
    assert_close!(
        r.states.get(PowerState::IdleUnallocated).energy_j,
        300.0 * 108.0 / 132.0 * t
    );
    assert_close!(
        r.states.get(PowerState::IdleUnallocated).unit_seconds,
        108.0 * t
    );
    assert_eq!(r.states.get(PowerState::Gated).unit_seconds, 0.0);
    assert_eq!(r.energy.savings_j, 0.0);
    assert_eq!(r.transitions, 0);
    // Utilisation from allocation: 24·t / (132·t) = 18.18 %.
    assert_close!(r.utilization, 24.0 / 132.0);
    assert_eq!(r.peak_units_allocated, 24);
    assert_close!(r.average_units_allocated, 24.0);
    // Wasted = the idle-unallocated energy.
    assert_close!(r.wasted_energy_j, 300.0 * 108.0 / 132.0 * t);
}

#[test]
fn seed_example_gating_always_saves_82_percent() {
    let t = 0.01;
    let off = run(
        Preset::SeedH100.model(),
        GatingPolicy::Off,
        &[seed_subgraph(t)],
    );
    let on = run(
        Preset::SeedH100.model(),
        GatingPolicy::Always,
        &[seed_subgraph(t)],
    );
    // Only the 24 allocated SMs burn: 300·24/132·0.01 = 0.5454… J.
    assert_close!(on.energy.static_j, 300.0 * 24.0 / 132.0 * t);
    // The 108 gated SMs save 300·108/132·0.01 = 2.4545… J.
    assert_close!(on.energy.savings_j, 300.0 * 108.0 / 132.0 * t);
    assert_close!(on.states.get(PowerState::Gated).unit_seconds, 108.0 * t);
    // 108/132 = 0.81818…: the design document's "82% of the static energy".
    let saving = on.energy.savings_j / off.energy.static_j;
    assert_close!(saving, 108.0 / 132.0);
    assert_eq!((saving * 100.0).round(), 82.0);
    // The seed example gates per SM at no cost: 108 power-downs, 0 J.
    assert_eq!(on.transitions, 108);
    assert_eq!(on.energy.transition_j, 0.0);
    assert_eq!(on.states.get(PowerState::IdleUnallocated).unit_seconds, 0.0);
    // Static with gating plus the saving is the ungated static energy.
    assert_close!(
        on.energy.static_j + on.energy.savings_j,
        off.energy.static_j
    );
}

#[test]
fn legacy_formula_is_reproduced_with_gating_off() {
    // The original analyser: per subgraph, compute = flops·e_op,
    // memory = bytes·e_byte, static = idle_power·latency, and
    // utilisation = min(1, threads/(N·threads_per_unit)).
    let hw = Preset::SeedH100.model();
    let e_op = hw.energy_per_op_j(Precision::Fp16).unwrap();
    let e_byte = hw.energy_per_byte_j();
    let subgraphs: Vec<Subgraph> = (0..5u32)
        .map(|i| Subgraph {
            flops: 1e9 * f64::from(i + 1),
            precision: Precision::Fp16,
            input_bytes: 1e6,
            output_bytes: 2e6 * f64::from(i),
            weight_bytes: 3e5,
            latency_s: 1e-4 * f64::from(i + 1),
            threads: Some(2048 * u64::from(i + 1)),
            ..Subgraph::empty(i, i)
        })
        .collect();
    let r = run(hw.clone(), GatingPolicy::Off, &subgraphs);

    let mut static_j = 0.0;
    let mut compute_j = 0.0;
    let mut memory_j = 0.0;
    let mut wasted_j = 0.0;
    let mut latency = 0.0;
    for s in &subgraphs {
        let st = 300.0 * s.latency_s;
        static_j += st;
        compute_j += s.flops * e_op;
        memory_j += (s.input_bytes + s.output_bytes + s.weight_bytes) * e_byte;
        let u = (s.threads.unwrap() as f64 / (132.0 * 2048.0)).min(1.0);
        wasted_j += st * (1.0 - u);
        latency += s.latency_s;
    }
    // Same operations in the same order: equal to the last bit.
    assert_eq!(r.energy.static_j, static_j);
    assert_eq!(r.latency_s, latency);
    assert_close!(r.energy.compute_j, compute_j);
    assert_close!(r.energy.memory_j, memory_j);
    assert_close!(r.energy.total_j, static_j + compute_j + memory_j);
    // The legacy "wasted" is the idle-allocated share of a whole-chip subgraph.
    assert!((r.wasted_energy_j - wasted_j).abs() <= 1e-12 * wasted_j);
    assert!(r.flags.contains(Flags::LEGACY_PATH));
    // u = 1/132 for the first subgraph: 2048/(132·2048).
    assert_eq!(r.peak_units_allocated, 132);
}

/// A small model where every number is easy to follow: 8 units in domains of
/// 2, 8 W static (1 W a unit), 2 W uncore, 0.5 J a transition, 0.1 s to wake.
fn toy(gating: bool) -> HardwareModel {
    HardwareModel::new(HardwareSpec {
        name: "toy".try_into().unwrap(),
        unit_name: "unit".try_into().unwrap(),
        units: 8,
        gating_domain: 2,
        idle_power_w: 8.0,
        uncore_power_w: 2.0,
        active_power_w: 0.0,
        energy_per_op_j: PrecisionTable::EMPTY.with(Precision::Fp32, 1e-9),
        energy_per_byte_j: 1e-10,
        peak_ops_per_s: wattledger_core::hardware::PeakRates::NONE,
        memory_bandwidth_bytes_per_s: 0.0,
        threads_per_unit: 100,
        gating: Gating {
            can_gate: gating,
            transition_energy_j: 0.5,
            wake_latency_s: 0.1,
        },
        dvfs: Dvfs::nominal(1.0, 1000.0),
    })
    .unwrap()
}

#[test]
fn concurrent_subgraphs_share_one_stage_of_static_energy() {
    // Stage 0: A on 3 units (rounds up to 2 domains = 4 units) for 1 s and
    // B on 2 units for 0.5 s. T = 1 s.
    let a = Subgraph {
        flops: 1e9,
        latency_s: 1.0,
        units_allocated: Some(3),
        ..Subgraph::empty(10, 0)
    };
    let b = Subgraph {
        input_bytes: 1e9,
        latency_s: 0.5,
        units_allocated: Some(2),
        ..Subgraph::empty(11, 0)
    };
    let mut rec: Recorder<4, 8> = Recorder::new();
    let mut c: Composer = Composer::new(toy(true), GatingPolicy::Off).unwrap();
    c.push(&a, &mut rec).unwrap();
    c.push(&b, &mut rec).unwrap();
    let r = c.finish(&mut rec).unwrap();
    // Static once for the stage: 8 W · 1 s = 8 J (not 8 + 4).
    assert_eq!(r.energy.static_j, 8.0);
    assert_eq!(r.energy.uncore_j, 2.0);
    // Dynamic: 1e9·1e-9 = 1 J compute; 1e9 B · 1e-10 = 0.1 J memory.
    assert_close!(r.energy.compute_j, 1.0);
    assert_close!(r.energy.memory_j, 0.1);
    assert_close!(r.energy.total_j, 8.0 + 2.0 + 1.0 + 0.1);
    // Unit-seconds: A 4 units active 1 s; B 2 units active 0.5 s, idle
    // allocated 0.5 s; 2 units idle unallocated 1 s. Sum 8·1 = 8.
    assert_close!(r.states.get(PowerState::Active).unit_seconds, 4.0 + 1.0);
    assert_close!(r.states.get(PowerState::IdleAllocated).unit_seconds, 1.0);
    assert_close!(r.states.get(PowerState::IdleUnallocated).unit_seconds, 2.0);
    assert_close!(r.states.unit_seconds(), 8.0);
    // Records: stage then subgraphs. Shared energy = idle-unallocated 2 J +
    // uncore 2 J = 4 J, split 4:2 by allocation: A 8/3 J, B 4/3 J.
    assert_eq!(rec.stages.len(), 1);
    assert_eq!(rec.subgraphs.len(), 2);
    let ra = rec.subgraphs[0];
    let rb = rec.subgraphs[1];
    assert_eq!((ra.id, rb.id), (10, 11));
    assert_eq!(
        (ra.first_domain, ra.domains, rb.first_domain, rb.domains),
        (0, 2, 2, 1)
    );
    assert_close!(ra.shared_energy_j, 8.0 / 3.0);
    assert_close!(rb.shared_energy_j, 4.0 / 3.0);
    // A: own static 4 units · 1 W · 1 s = 4 J; plus 1 J compute.
    assert_close!(ra.own_static_energy_j, 4.0);
    assert_close!(ra.total_energy_j, 4.0 + 1.0 + 8.0 / 3.0);
    // B: 2 units · 1 W · 1 s (0.5 active + 0.5 idle allocated) = 2 J + 0.1 J.
    assert_close!(rb.own_static_energy_j, 2.0);
    assert_close!(rb.idle_allocated_unit_seconds, 1.0);
    assert_close!(ra.total_energy_j + rb.total_energy_j, r.energy.total_j);
}

#[test]
fn gating_transitions_and_wake_latency() {
    // Always: stage 0 uses 2 units (1 domain), stage 1 uses all 8.
    let s0 = Subgraph {
        latency_s: 1.0,
        units_allocated: Some(2),
        ..Subgraph::empty(0, 0)
    };
    let s1 = Subgraph {
        latency_s: 1.0,
        units_allocated: Some(8),
        ..Subgraph::empty(1, 1)
    };
    let mut rec: Recorder<4, 4> = Recorder::new();
    let mut c: Composer = Composer::new(toy(true), GatingPolicy::Always).unwrap();
    c.push(&s0, &mut rec).unwrap();
    c.push(&s1, &mut rec).unwrap();
    let r = c.finish(&mut rec).unwrap();
    let (st0, st1) = (rec.stages[0], rec.stages[1]);
    // Stage 0: 3 free domains powered down (3 transitions, 1.5 J); T = 1 s;
    // static 2 units · 1 W · 1 s = 2 J; saving 6 J; uncore 2 J.
    assert_eq!(st0.domains_powered_down, 3);
    assert_eq!(st0.wake_s, 0.0);
    assert_close!(st0.energy.static_j, 2.0);
    assert_close!(st0.energy.savings_j, 6.0);
    assert_close!(st0.energy.transition_j, 1.5);
    // Stage 1: wakes 3 domains (1.5 J), T = 0.1 + 1 = 1.1 s. During the wake
    // window the 6 woken units are transitioning (0.6 unit-s) and the 2
    // others idle allocated (0.2 unit-s); then 8 units active 1 s.
    assert_eq!(st1.domains_woken, 3);
    assert_close!(st1.duration_s, 1.1);
    assert_close!(st1.states.get(PowerState::Transitioning).unit_seconds, 0.6);
    assert_close!(st1.states.get(PowerState::IdleAllocated).unit_seconds, 0.2);
    assert_close!(st1.states.get(PowerState::Active).unit_seconds, 8.0);
    assert_close!(st1.states.unit_seconds(), 8.0 * 1.1);
    // Static: 8 W·1.1 s − 6 units·1 W·0.1 s = 8.2 J; uncore 2.2 J.
    assert_close!(st1.energy.static_j, 8.2);
    assert_close!(st1.energy.uncore_j, 2.2);
    assert!(st1.flags.contains(Flags::WOKE_DOMAINS));
    assert_eq!(r.transitions, 6);
    assert_close!(r.energy.transition_j, 3.0);
    assert_close!(r.latency_s, 2.1);
    // Peak 8 units; time-weighted average (2·1 + 8·1.1)/2.1.
    assert_eq!(r.peak_units_allocated, 8);
    assert_close!(r.average_units_allocated, (2.0 + 8.8) / 2.1);
}

#[test]
fn break_even_gates_only_when_it_pays() {
    // p_domain = 2 W. Cost = 2·0.5 J + (8 + 2) W·0.1 s = 2 J. A stage of
    // 0.9 s saves 1.8 J per domain (< 2 J): no gating. A stage of 1.5 s saves
    // 3 J (> 2 J): gate.
    let short = Subgraph {
        latency_s: 0.9,
        units_allocated: Some(2),
        ..Subgraph::empty(0, 0)
    };
    let long = Subgraph {
        latency_s: 1.5,
        units_allocated: Some(2),
        ..Subgraph::empty(1, 1)
    };
    let mut rec: Recorder<4, 4> = Recorder::new();
    let mut c: Composer = Composer::new(toy(true), GatingPolicy::BreakEven).unwrap();
    c.push(&short, &mut rec).unwrap();
    c.push(&long, &mut rec).unwrap();
    c.finish(&mut rec).unwrap();
    assert_eq!(rec.stages[0].domains_powered_down, 0);
    assert_eq!(rec.stages[1].domains_powered_down, 3);
    // A gated domain stays gated at no cost in a later stage that does not need it.
    let again = Subgraph {
        latency_s: 0.01,
        units_allocated: Some(2),
        ..Subgraph::empty(2, 2)
    };
    c.push(&again, &mut rec).unwrap();
    c.finish(&mut rec).unwrap();
    assert_eq!(rec.stages[2].domains_gated, 3);
    assert_eq!(rec.stages[2].energy.transition_j, 0.0);
    assert_eq!(c.powered_domains(), 1);
}

#[test]
fn oversubscription_is_scaled_and_flagged() {
    // 6 + 6 = 12 units asked of 8: scaled by 8/12, each accounted 4 units.
    let a = Subgraph {
        latency_s: 1.0,
        units_allocated: Some(6),
        ..Subgraph::empty(0, 0)
    };
    let b = Subgraph {
        latency_s: 0.5,
        units_allocated: Some(6),
        ..Subgraph::empty(1, 0)
    };
    let mut rec: Recorder<2, 2> = Recorder::new();
    let mut c: Composer = Composer::new(toy(false), GatingPolicy::Off).unwrap();
    c.push(&a, &mut rec).unwrap();
    c.push(&b, &mut rec).unwrap();
    let r = c.finish(&mut rec).unwrap();
    assert!(r.flags.contains(Flags::OVERSUBSCRIBED));
    assert_eq!(rec.stages[0].units_requested, 12);
    assert_eq!(rec.stages[0].units_allocated, 8);
    assert_close!(rec.subgraphs[0].units, 4.0);
    assert_close!(rec.subgraphs[1].units, 4.0);
    // Active: 4·1 + 4·0.5 = 6 unit-s; idle allocated 4·0.5 = 2; total 8·1.
    assert_close!(r.states.get(PowerState::Active).unit_seconds, 6.0);
    assert_close!(r.states.get(PowerState::IdleAllocated).unit_seconds, 2.0);
    assert_eq!(r.states.get(PowerState::IdleUnallocated).unit_seconds, 0.0);
}

#[test]
fn legacy_path_wakes_every_gated_domain() {
    // Stage 0 gates 3 domains; a legacy subgraph in stage 1 needs them all.
    let s0 = Subgraph {
        latency_s: 1.0,
        units_allocated: Some(2),
        ..Subgraph::empty(0, 0)
    };
    // 200 threads of 8·100: utilisation 0.25.
    let s1 = Subgraph {
        latency_s: 2.0,
        threads: Some(200),
        ..Subgraph::empty(1, 1)
    };
    let mut rec: Recorder<2, 2> = Recorder::new();
    let mut c: Composer = Composer::new(toy(true), GatingPolicy::Always).unwrap();
    c.push(&s0, &mut rec).unwrap();
    c.push(&s1, &mut rec).unwrap();
    c.finish(&mut rec).unwrap();
    let st = rec.stages[1];
    assert_eq!(st.domains_woken, 3);
    assert_close!(st.duration_s, 2.1);
    // Active 0.25·8·2 = 4 unit-s; idle allocated 0.75·8·2 = 12 plus the 2
    // already-powered units in the wake window, 0.2: 12.2.
    assert_close!(st.states.get(PowerState::Active).unit_seconds, 4.0);
    assert_close!(st.states.get(PowerState::IdleAllocated).unit_seconds, 12.2);
    assert_eq!(rec.subgraphs[1].legacy_utilization, Some(0.25));
    assert!(st.flags.contains(Flags::LEGACY_PATH));
}

#[test]
fn dvfs_scales_dynamic_by_v_squared_and_static_by_v() {
    // At 0.5 V of a 1 V nominal: dynamic ×0.25; static power ×0.5 (c = 0,
    // α = 1). The toy has no roofline, so its 1 s latency is all
    // compute-bound and at 500 of 1000 MHz takes 2 s.
    let hw = toy(false).with_operating_point(0.5, 500.0).unwrap();
    let s = Subgraph {
        flops: 1e9,
        latency_s: 1.0,
        units_allocated: Some(8),
        ..Subgraph::empty(0, 0)
    };
    let r = run(hw, GatingPolicy::Off, &[s]);
    assert_close!(r.latency_s, 2.0);
    assert_close!(r.energy.compute_j, 0.25);
    // 8 W · 0.5 · 2 s.
    assert_close!(r.energy.static_j, 8.0);
    // Uncore does not follow the core's operating point: 2 W · 2 s.
    assert_close!(r.energy.uncore_j, 4.0);
    // Voltage alone moves no latency.
    let hw = toy(false).with_operating_point(0.5, 1000.0).unwrap();
    let r = run(hw, GatingPolicy::Off, &[s]);
    assert_close!(r.latency_s, 1.0);
    assert_close!(r.energy.static_j, 4.0);
}

#[test]
fn only_the_compute_bound_share_of_a_latency_follows_the_clock() {
    // Peak 1e9 FP32 ops/s at the nominal 1000 MHz, 1e9 B/s of memory.
    // 1e9 ops take 1 s, 3e9 bytes take 3 s: a 4 s latency is ¼ compute-bound.
    let mut spec = toy(false).spec().clone();
    spec.peak_ops_per_s = wattledger_core::hardware::PeakRates::NONE.with(Precision::Fp32, 1e9);
    spec.memory_bandwidth_bytes_per_s = 1e9;
    let hw = HardwareModel::new(spec).unwrap();
    let s = Subgraph {
        flops: 1e9,
        input_bytes: 3e9,
        latency_s: 4.0,
        units_allocated: Some(8),
        ..Subgraph::empty(0, 0)
    };
    assert_close!(hw.compute_bound_share(1e9, Precision::Fp32, 3e9), 0.25);
    // At 500 MHz the compute-bound second takes two: 1·2 + 3 = 5 s.
    let half = hw.with_operating_point(1.0, 500.0).unwrap();
    assert_close!(run(half.clone(), GatingPolicy::Off, &[s]).latency_s, 5.0);
    // Moving on from there keeps the clock the latencies were taken at:
    // at 250 MHz, 1·4 + 3 = 7 s.
    let quarter = half.with_operating_point(1.0, 250.0).unwrap();
    assert_eq!(quarter.spec().dvfs.latency_frequency_mhz, Some(1000.0));
    assert_close!(run(quarter, GatingPolicy::Off, &[s]).latency_s, 7.0);
    // A memory-only subgraph does not slow down at all.
    let copy = Subgraph { flops: 0.0, ..s };
    assert_close!(run(half, GatingPolicy::Off, &[copy]).latency_s, 4.0);
}

#[test]
fn every_preset_is_valid_and_named() {
    for p in Preset::ALL {
        let m = p.model();
        assert_eq!(
            HardwareModel::new(m.spec().clone()).unwrap(),
            m,
            "{}",
            p.name()
        );
        assert_eq!(Preset::from_name(p.name()), Some(p));
        assert!(!p.source().is_empty());
        // A preset composes the built-in scenario without error.
        let _ = run(
            m,
            GatingPolicy::Off,
            &[Subgraph {
                latency_s: 1e-3,
                units_allocated: Some(2),
                precision: Precision::Fp32,
                flops: 1e6,
                ..Subgraph::empty(0, 0)
            }],
        );
    }
    // The seed preset is exactly the design document's numbers.
    let s = Preset::SeedH100.model();
    assert_eq!(
        (s.units(), s.spec().idle_power_w, s.uncore_power_w()),
        (132, 300.0, 0.0)
    );
    // The measured H100 idle: 40 W SMs + 30 W uncore = 70 W at P0.
    let h = Preset::H100Sxm5.model();
    assert_eq!(h.spec().idle_power_w + h.uncore_power_w(), 70.0);
}

#[test]
fn active_power_is_tdp_minus_idle_and_follows_the_operating_point() {
    // Data-centre presets: TDP − (idle + uncore), an upper bound.
    for (p, tdp) in [
        (Preset::H100Sxm5, 700.0),
        (Preset::A100_40gb, 400.0),
        (Preset::H200, 700.0),
        (Preset::B200, 1000.0),
    ] {
        let m = p.model();
        let s = m.spec();
        assert_eq!(
            s.active_power_w,
            tdp - s.idle_power_w - s.uncore_power_w,
            "{}",
            p.name()
        );
        // At the nominal point no scaling applies.
        assert_eq!(m.active_power_w(), s.active_power_w);
    }
    // Orin MAXN: 30 W for 16 SMs at the nominal point.
    assert_eq!(Preset::AgxOrinMaxn.model().active_power_w(), 30.0);
    // The 30 W mode: 8 SMs → 15 W nominal, scaled by v²·f:
    // (0.65/0.85)² · (624.75/1301) = 0.584775… · 0.480207… = 0.280813…
    let m = Preset::AgxOrin30w.model();
    assert_eq!(m.spec().active_power_w, 15.0);
    let expected = 15.0 * (0.65f64 / 0.85).powi(2) * (624.75 / 1301.0);
    assert!((m.active_power_w() - expected).abs() < 1e-12);
    assert!((m.active_power_w() - 4.2122).abs() < 1e-3);
}

#[test]
fn resnet18_scenario_composes() {
    use wattledger_core::scenario::{RESNET18_H100, RESNET18_NAMES};
    let off = run(Preset::H100Sxm5.model(), GatingPolicy::Off, &RESNET18_H100);
    let always = run(
        Preset::H100Sxm5.model(),
        GatingPolicy::Always,
        &RESNET18_H100,
    );
    assert_eq!(off.stages, 19);
    assert_eq!(off.subgraphs, 22);
    assert_eq!(RESNET18_NAMES.len(), RESNET18_H100.len());
    assert!(always.energy.static_j < off.energy.static_j);
    assert!(always.energy.savings_j > 0.0);
    assert!(off.utilization > 0.0 && off.utilization < 1.0);
}
