//! The `oracle` gating policy of the stage composer, worked by hand, and on
//! the built-in ResNet-18 scenario.

use wattledger_core::compose::{
    ComposeError, Composer, GatingPolicy, ModelReport, Recorder, StageRecord, Subgraph,
};
use wattledger_core::hardware::{
    Dvfs, Gating, HardwareModel, HardwareSpec, Precision, PrecisionTable,
};
use wattledger_core::presets::Preset;
use wattledger_core::scenario::RESNET18_H100;
use wattledger_core::state::PowerState;

fn near(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-12 * a.abs().max(b.abs()).max(1e-3)
}

/// 4 units, one per gating domain; 4 W idle, so `p_domain` = 1 W;
/// 0.5 W uncore; `e_tr` = 1 mJ; `t_wake` = 0.5 ms. An idle period that ends
/// in a wake pays for gating when `1 W · L > 2 mJ`, i.e. `L > 2 ms`.
fn toy() -> HardwareModel {
    toy_with(0.5, 1e-3, 0.5e-3)
}

fn toy_with(uncore_w: f64, e_tr: f64, wake_s: f64) -> HardwareModel {
    HardwareModel::new(HardwareSpec {
        name: "toy".try_into().unwrap(),
        unit_name: "SM".try_into().unwrap(),
        units: 4,
        gating_domain: 1,
        idle_power_w: 4.0,
        uncore_power_w: uncore_w,
        active_power_w: 0.0,
        energy_per_op_j: PrecisionTable::EMPTY.with(Precision::Fp32, 1e-12),
        energy_per_byte_j: 0.0,
        peak_ops_per_s: wattledger_core::hardware::PeakRates::NONE,
        memory_bandwidth_bytes_per_s: 0.0,
        threads_per_unit: 2048,
        gating: Gating {
            can_gate: true,
            transition_energy_j: e_tr,
            wake_latency_s: wake_s,
        },
        dvfs: Dvfs::nominal(0.9, 1500.0),
    })
    .unwrap()
}

/// Stages of `(units, latency in ms)`, one subgraph each.
fn run(policy: GatingPolicy, stages: &[(u32, f64)]) -> (ModelReport, Vec<StageRecord>) {
    run_on(toy(), policy, stages)
}

fn run_on(
    hw: HardwareModel,
    policy: GatingPolicy,
    stages: &[(u32, f64)],
) -> (ModelReport, Vec<StageRecord>) {
    let mut c: Composer<4> = Composer::new(hw, policy).unwrap();
    let mut rec: Recorder<8, 8> = Recorder::new();
    for (k, &(units, ms)) in (0u32..).zip(stages) {
        let sg = Subgraph {
            units_allocated: Some(units),
            latency_s: ms * 1e-3,
            ..Subgraph::empty(k, k)
        };
        c.push(&sg, &mut rec).unwrap();
    }
    let r = c.finish(&mut rec).unwrap();
    (r, rec.stages.to_vec())
}

fn us(st: &StageRecord, s: PowerState) -> f64 {
    st.states.get(s).unit_seconds
}

#[test]
fn a_period_shorter_than_break_even_stays_powered() {
    // 4 units for 1 ms, 1 unit for 1 ms, 4 units for 1 ms: domains 1–3 are
    // idle for L = 1 ms. 1 W · 1 ms = 1 mJ < 2 mJ, and even in a wake window
    // 1 W · (1 + 0.5) ms = 1.5 mJ < 2 mJ: not gated. Oracle = off:
    // static 4 W · 3 ms = 12 mJ + uncore 0.5 W · 3 ms = 1.5 mJ = 13.5 mJ.
    let stages = [(4, 1.0), (1, 1.0), (4, 1.0)];
    let (oracle, rec) = run(GatingPolicy::Oracle, &stages);
    let (off, _) = run(GatingPolicy::Off, &stages);
    assert!(
        near(oracle.energy.total_j, 13.5e-3),
        "{}",
        oracle.energy.total_j
    );
    assert_eq!(oracle.energy.total_j, off.energy.total_j);
    assert_eq!(oracle.transitions, 0);
    assert!(near(us(&rec[1], PowerState::IdleUnallocated), 3e-3));
    // `always` gates them anyway: 3 power-downs and 3 wakes (6 mJ), and the
    // wake window stretches stage 2 to 1.5 ms. Stage 0: 4 + 0.5 = 4.5 mJ;
    // stage 1: 1 W · 1 ms + 0.5 mJ + 3 mJ = 4.5 mJ; stage 2: static
    // 4 W · 1.5 ms less the 3 woken units' window 3 · 1 W · 0.5 ms = 4.5 mJ,
    // uncore 0.75 mJ, 3 mJ of wakes = 8.25 mJ. Total 17.25 mJ.
    let (always, _) = run(GatingPolicy::Always, &stages);
    assert!(
        near(always.energy.total_j, 17.25e-3),
        "{}",
        always.energy.total_j
    );
}

#[test]
fn a_period_longer_than_break_even_is_gated_whole() {
    // 4 units for 1 ms, 1 unit for 3 ms, 4 units for 1 ms: domains 1–3 are
    // idle for L = 3 ms: 1 W · 3 ms = 3 mJ > 2 mJ and L ≥ t_wake, so the
    // period is gated, settled at the close of stage 1, where it is known.
    let stages = [(4, 1.0), (1, 3.0), (4, 1.0)];
    let (r, rec) = run(GatingPolicy::Oracle, &stages);
    let s1 = &rec[1];
    // Stage 1 charged 3 units · 3 ms as idle, then moved all 9 unit-ms to
    // gated; 3 power-downs; static 4 W · 3 ms − 9 mJ = 3 mJ, saved 9 mJ;
    // total 3 + 1.5 (uncore) + 3 (transitions) = 7.5 mJ.
    assert!(near(us(s1, PowerState::IdleUnallocated), 0.0));
    assert!(near(us(s1, PowerState::Gated), 9e-3));
    assert!(near(s1.states.unit_seconds(), 4.0 * 3e-3));
    assert_eq!((s1.domains_powered_down, s1.domains_woken), (3, 0));
    assert!(near(s1.energy.static_j, 3e-3));
    assert!(near(s1.energy.savings_j, 9e-3));
    assert!(near(s1.energy.total_j, 7.5e-3));
    // Stage 2 needs them back: woken in the last 0.5 ms of their idle
    // time, so the stage is not stretched (T = 1 ms); those 3 · 0.5 unit-ms
    // move from gated to transitioning; 3 power-ups = 3 mJ. Static 4 mJ,
    // uncore 0.5 mJ: 7.5 mJ.
    let s2 = &rec[2];
    assert_eq!((s2.duration_s, s2.wake_s, s2.domains_woken), (1e-3, 0.0, 3));
    assert!(near(us(s2, PowerState::Gated), -1.5e-3));
    assert!(near(us(s2, PowerState::Transitioning), 1.5e-3));
    assert!(near(s2.states.unit_seconds(), 4.0 * 1e-3));
    assert!(near(s2.energy.total_j, 7.5e-3));
    // Model: 4.5 + 7.5 + 7.5 = 19.5 mJ against off's 4 W · 5 ms + 0.5 W ·
    // 5 ms = 22.5 mJ: 9 mJ of idle static less 6 mJ of transitions.
    assert!(near(r.energy.total_j, 19.5e-3), "{}", r.energy.total_j);
    assert_eq!(r.transitions, 6);
    assert!(near(r.energy.savings_j, 7.5e-3));
    let (off, _) = run(GatingPolicy::Off, &stages);
    assert!(near(off.energy.total_j, 22.5e-3));
    // `break-even` sees stage 1 alone: 1 W · 3 ms = 3 mJ against
    // 2 mJ + (4 + 0.5) W · 0.5 ms = 4.25 mJ, and gates nothing.
    let (be, _) = run(GatingPolicy::BreakEven, &stages);
    assert_eq!(be.energy.total_j, off.energy.total_j);
    // `always`: stage 1 as the oracle's 7.5 mJ, stage 2 stretched to
    // 1.5 ms: 4.5 + 0.75 + 3 = 8.25 mJ; 20.25 mJ in all.
    let (always, _) = run(GatingPolicy::Always, &stages);
    assert!(
        near(always.energy.total_j, 20.25e-3),
        "{}",
        always.energy.total_j
    );
}

#[test]
fn a_period_split_over_short_stages_is_judged_whole() {
    // Domains 1–3 idle through three 1 ms stages: no stage alone pays
    // (1 mJ < 2 mJ), the period does once it passes 2 ms: at the close of
    // the third stage (L = 3 ms), which records the settlement of all three.
    let stages = [(4, 1.0), (1, 1.0), (1, 1.0), (1, 1.0), (4, 1.0)];
    let (r, rec) = run(GatingPolicy::Oracle, &stages);
    assert_eq!(
        rec.iter()
            .map(|s| s.domains_powered_down)
            .collect::<Vec<_>>(),
        [0, 0, 0, 3, 0]
    );
    // Stage 3: 3 unit-ms charged idle, 9 given back to gated: −6 unit-ms idle.
    assert!(near(us(&rec[3], PowerState::IdleUnallocated), -6e-3));
    assert!(near(us(&rec[3], PowerState::Gated), 9e-3));
    // Model: off's 5 ms · 4.5 W = 22.5 mJ, less 9 mJ idle static, plus 6 mJ
    // of transitions = 19.5 mJ; nothing in the model is negative.
    assert!(near(r.energy.total_j, 19.5e-3), "{}", r.energy.total_j);
    assert!(near(
        r.states.get(PowerState::IdleUnallocated).unit_seconds,
        0.0
    ));
    assert!(near(r.states.get(PowerState::Gated).unit_seconds, 7.5e-3));
}

#[test]
fn a_period_too_short_for_its_wake_is_gated_in_a_wake_window_when_that_pays() {
    // No uncore, e_tr = 0.1 mJ, t_wake = 2 ms. 4 units for 1 ms, 1 unit for
    // 1 ms, 4 units for 1 ms: domains 1–3 idle for L = 1 ms, too short to
    // hold a 2 ms wake. Stage 2 may open a wake window: it costs unit 0
    // waiting 2 ms (1 W · 2 ms = 2 mJ) and gains, per domain,
    // 2·0.1 mJ − 1 W · 1 ms = −0.8 mJ: 2 − 2.4 = −0.4 mJ < 0, so it does.
    let hw = || toy_with(0.0, 0.1e-3, 2e-3);
    let stages = [(4, 1.0), (1, 1.0), (4, 1.0)];
    let (r, rec) = run_on(hw(), GatingPolicy::Oracle, &stages);
    let s2 = &rec[2];
    assert_eq!(
        (s2.wake_s, s2.domains_woken, s2.domains_powered_down),
        (2e-3, 3, 3)
    );
    // Stage 2, T = 3 ms: static 4 W · 3 ms, less the woken units' window
    // 3 · 1 W · 2 ms, less the settled 3 unit-ms of stage 1 = 3 mJ; six
    // transitions 0.6 mJ: 3.6 mJ. Stage 1 keeps its 4 mJ: 4 + 4 + 3.6 = 11.6 mJ.
    assert!(near(s2.energy.total_j, 3.6e-3), "{}", s2.energy.total_j);
    assert!(near(r.energy.total_j, 11.6e-3), "{}", r.energy.total_j);
    // The same as `always`, which gates these periods too (stage 1:
    // 1 mJ + 0.3 mJ; stage 2: 4 W · 3 ms − 6 mJ + 0.3 mJ = 6.3 mJ), booked
    // in other stages; and less than off's 4 W · 3 ms = 12 mJ.
    let (always, _) = run_on(hw(), GatingPolicy::Always, &stages);
    assert!(
        near(always.energy.total_j, 11.6e-3),
        "{}",
        always.energy.total_j
    );
    // With 0.5 W of uncore the window would cost 2 + 1 = 3 mJ > 2.4 mJ:
    // not opened, nothing gated, oracle = off.
    let (r, _) = run_on(toy_with(0.5, 0.1e-3, 2e-3), GatingPolicy::Oracle, &stages);
    assert_eq!(r.transitions, 0);
}

#[test]
fn a_period_open_at_finish_pays_one_transition() {
    // 4 units for 1 ms, then 1 unit for 1.5 ms to the end: domains 1–3 idle
    // for 1.5 ms. Ending in a wake it would not pay (1.5 mJ < 2 mJ); at the
    // end of the model one power-down is enough: 1.5 mJ > 1 mJ. Gated:
    // 4.5 + (1 W · 1.5 ms + 0.75 mJ + 3 mJ) = 4.5 + 5.25 = 9.75 mJ, against
    // off's 4.5 W · 2.5 ms = 11.25 mJ.
    let (r, rec) = run(GatingPolicy::Oracle, &[(4, 1.0), (1, 1.5)]);
    assert_eq!(rec[1].domains_powered_down, 3);
    assert!(near(r.energy.total_j, 9.75e-3), "{}", r.energy.total_j);
}

#[test]
fn resnet18_oracle_beats_every_stage_at_a_time_policy() {
    let run = |policy| {
        let mut c: Composer = Composer::new(Preset::H100Sxm5.model(), policy).unwrap();
        for s in &RESNET18_H100 {
            c.push(s, &mut ()).unwrap();
        }
        c.finish(&mut ()).unwrap().energy.total_j
    };
    let off = run(GatingPolicy::Off);
    let always = run(GatingPolicy::Always);
    let break_even = run(GatingPolicy::BreakEven);
    let oracle = run(GatingPolicy::Oracle);
    let saved = |e: f64| 1.0 - e / off;
    // `always` saves about 32 %; `break-even` judges each stage (a few µs)
    // alone against 2 µJ of transitions and a 10 µs wake window, and gates
    // nothing; the oracle judges each idle period whole.
    assert!((0.31..0.33).contains(&saved(always)), "{}", saved(always));
    assert_eq!(break_even, off);
    assert!(oracle <= always && oracle <= break_even && oracle <= off);
    assert!(saved(oracle) > saved(always), "{}", saved(oracle));
}

#[test]
fn too_many_young_idle_periods_is_an_error_that_changes_nothing() {
    // 4, 3, 2, 1 units in 0.1 ms stages: each stage frees one domain at a
    // new time, none idle long enough to settle (1 W · 0.3 ms < 2 mJ). A
    // staircase of 2 holds two such periods; closing stage 3 would make three.
    let mut c: Composer<4, 2> = Composer::new(toy(), GatingPolicy::Oracle).unwrap();
    let sg = |k: u32, units| Subgraph {
        units_allocated: Some(units),
        latency_s: 1e-4,
        ..Subgraph::empty(k, k)
    };
    for (k, units) in (0u32..).zip([4, 3, 2, 1]) {
        c.push(&sg(k, units), &mut ()).unwrap();
    }
    let before = c.clone();
    assert_eq!(
        c.push(&sg(4, 4), &mut ()),
        Err(ComposeError::IdlePeriodsFull {
            stage: 3,
            capacity: 2
        })
    );
    assert_eq!(c, before);
    // `finish` can close it: there every period still open ends, and
    // what stays powered starts again as one.
    assert!(c.clone().finish(&mut ()).is_ok());
    // Dropping the stage is the way on without finishing.
    assert_eq!(c.discard_pending(), 1);
    assert!(c.push(&sg(4, 4), &mut ()).is_ok());
}
