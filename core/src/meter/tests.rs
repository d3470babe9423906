//! The fast path against the interval rules, and exactness over long runs.
//!
//! These look at the meter's integer totals, which the public API shows
//! only as `f64` joules: the claim tested is that they are *exact*.

use super::*;

/// A meter fed only through the general path: every sample folds the run
/// before it (which never holds an interval) and is counted by the rules,
/// one interval at a time, as before runs existed.
fn ingest_by_the_rules<const W: usize>(m: &mut Meter<W>, s: Sample) -> Result<(), MeterError> {
    m.ingest_general(s.t_ns, s.energy_mj, s.power_mw, s.gated_units)
}

/// xorshift64*: a fixed, dependency-free stream of test inputs.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    /// True with probability `num / 16`.
    fn chance(&mut self, num: u64) -> bool {
        self.below(16) < num
    }
}

/// Streams that mostly repeat one kind of sample (so runs form) and now and
/// then change kind, leave a gap, reset the counter, go back in time, carry
/// gated units (some too many), lose the device or open and close windows.
/// After every call the fast meter and the rules-only meter agree exactly:
/// same answer, same totals, same reports, equal meters.
#[test]
fn fast_path_counts_exactly_what_the_rules_count() {
    // Intervals the fast path counted: the test means something only if
    // there are many.
    let mut in_runs = 0u32;
    for seed in 1..=300u64 {
        let mut rng = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
        let config = MeterConfig {
            max_gap_ns: [0, 1_000, 50_000_000, 1_000_000_000, 3_000_000_000, u64::MAX]
                [rng.below(6) as usize],
            update_period_ns: rng.below(200_000_000),
            idle_baseline_mw: rng.chance(8).then(|| rng.below(100_000) as u32),
            total_units: rng.chance(8).then(|| rng.below(8) as u32),
        };
        let mut fast: Meter<4> = Meter::new(config, MigContext::default());
        let mut rules: Meter<4> = Meter::new(config, MigContext::default());
        let (mut t, mut e) = (rng.below(1 << 40), rng.below(1 << 40));
        let mut kind = rng.below(4);
        for step in 0..400 {
            match rng.below(32) {
                0 => {
                    fast.mark_device_lost();
                    rules.mark_device_lost();
                }
                1..=3 => {
                    let key = rng.below(6) as u32;
                    if rng.chance(8) {
                        assert_eq!(fast.begin(key), rules.begin(key));
                    } else {
                        assert_eq!(fast.end(key), rules.end(key), "seed {seed} step {step}");
                    }
                }
                _ => {
                    if rng.chance(1) {
                        kind = rng.below(4);
                    }
                    t = match rng.below(16) {
                        0 => t.saturating_sub(rng.below(1_000)),
                        1 => t.saturating_add(rng.below(5_000_000_000)),
                        2 => t,
                        3 => t.saturating_add(rng.below(1 << 33)),
                        _ => t.saturating_add(rng.below(40_000_000)),
                    };
                    e = match rng.below(32) {
                        0 => rng.below(1_000),
                        1 => u64::MAX - rng.below(1_000),
                        _ => e.saturating_add(rng.below(10_000)),
                    };
                    let power = if rng.chance(1) {
                        u32::MAX - rng.below(3) as u32
                    } else {
                        rng.below(700_000) as u32
                    };
                    let s = Sample {
                        t_ns: t,
                        energy_mj: (kind & 1 == 1).then_some(e),
                        power_mw: (kind & 2 == 2).then_some(power),
                        gated_units: rng.chance(2).then(|| rng.below(10) as u32),
                    };
                    let run_before = (fast.run, fast.run_t0);
                    let answer = fast.ingest(s);
                    if answer.is_ok() && (fast.run, fast.run_t0) == run_before {
                        in_runs += 1;
                    }
                    assert_eq!(answer, ingest_by_the_rules(&mut rules, s), "{s:?}");
                    if answer.is_err() {
                        // Refused: the test's clock follows the meter's.
                        t = fast.last_t_ns;
                    }
                }
            }
            assert_eq!(
                fast.totals_now(),
                rules.totals_now(),
                "seed {seed} step {step}"
            );
            assert_eq!(fast, rules, "seed {seed} step {step}");
        }
        for key in 0..6u32 {
            assert_eq!(fast.end(key), rules.end(key));
        }
    }
    assert!(in_runs > 30_000, "{in_runs}");
}

/// Power at the top of its range over the longest intervals a run takes:
/// each trapezoid is just below `2^64` (so the run's sum leaves 64 bits
/// after the second sample), and 2^20 of them reach about `2^84` mW·ns, what
/// some 10^12 samples of a 500 W GPU read every 20 ms would add up to.
/// The sum is the exact product, not a saturated or rounded one.
#[test]
fn trapezoid_sums_are_exact_far_beyond_64_bits() {
    let config = MeterConfig {
        max_gap_ns: u64::MAX,
        ..MeterConfig::default()
    };
    let mut m: Meter<1> = Meter::new(config, MigContext::default());
    let p = u32::MAX;
    let dt = FAST_GAP_LIMIT_NS;
    let n: u64 = 1 << 20;
    let at = |i: u64| Sample {
        t_ns: i * dt,
        energy_mj: None,
        power_mw: Some(p),
        gated_units: None,
    };
    m.ingest(at(0)).unwrap();
    m.begin(0).unwrap();
    for i in 1..=n {
        m.ingest(at(i)).unwrap();
    }
    // Every interval took the fast path: still one run from the first sample.
    assert_eq!((m.run, m.run_t0), (Run::Power, 0));
    // Each interval: (p + p)·dt = (2^33 − 2)·(2^31 − 1), in mW·ns × 2.
    let one = u128::from(2 * u64::from(p)) * u128::from(dt);
    assert!(one < 1 << 64 && one > (1 << 64) - (1 << 34));
    let expected = u128::from(n) * one;
    let t = m.totals_now();
    assert_eq!((t.power_x2, t.est_x2), (expected, expected));
    assert_eq!((t.power_ns, t.est_ns), (n * dt, n * dt));
    // An interval twice as long leaves the run (past the fast path's cap,
    // its trapezoid does not fit 64 bits) and is counted in 128 bits.
    let last = Sample {
        t_ns: n * dt + 2 * dt,
        ..at(0)
    };
    m.ingest(last).unwrap();
    let longer = u128::from(2 * u64::from(p)) * u128::from(2 * dt);
    assert!(longer > u128::from(u64::MAX));
    assert_eq!(m.totals_now().power_x2, expected + longer);
    let r = m.end(0).unwrap();
    assert_eq!(r.energy_j, (expected + longer) as f64 * 0.5e-12);
    assert_eq!((r.covered_ns, r.coverage), (last.t_ns, 1.0));
}

/// A counter that runs up to the top of its `u64` range, is reset, and runs
/// up again: the energy is the sum of the two rises, `2·(2^64 − 1)` mJ,
/// which a `u64` sum could not hold (the meter's sum was a saturating `u64`
/// before the runs). Within each rise the fast path adds nothing per
/// sample: the run's energy is the counter's last reading minus its first.
#[test]
fn counter_sums_are_exact_beyond_64_bits_across_resets() {
    let mut m: Meter<1> = Meter::new(MeterConfig::default(), MigContext::default());
    let at = |t_ns: u64, mj: u64| Sample {
        t_ns,
        energy_mj: Some(mj),
        power_mw: None,
        gated_units: None,
    };
    m.ingest(at(0, 0)).unwrap();
    m.begin(0).unwrap();
    let steps = 1_000u64;
    let step = u64::MAX / steps;
    for i in 1..=steps {
        m.ingest(at(i, i * step)).unwrap();
    }
    m.ingest(at(steps + 1, u64::MAX)).unwrap();
    assert_eq!(m.run, Run::Counter);
    // The reset, then the same climb again.
    m.ingest(at(steps + 2, 0)).unwrap();
    for i in 1..=steps {
        m.ingest(at(steps + 2 + i, i * step)).unwrap();
    }
    m.ingest(at(2 * steps + 3, u64::MAX)).unwrap();
    let expected = 2 * u128::from(u64::MAX);
    let t = m.totals_now();
    assert_eq!((t.counter_mj, t.resets), (expected, 1));
    // Covered: every interval but the one across the reset (no power to
    // bridge it), 2·steps + 2 of 2·steps + 3 nanoseconds.
    assert_eq!((t.counter_ns, t.gaps), (2 * steps + 2, 1));
    let r = m.end(0).unwrap();
    assert_eq!(r.energy_j, expected as f64 * 1e-3);
    assert_eq!(r.counter_resets, 1);
}

/// A million realistic samples (counter and power, 20 ms apart, power
/// varying), ingested through the fast path in one run: the totals equal
/// sums computed here independently, sample by sample, to the last unit.
#[test]
fn a_long_realistic_run_matches_independent_sums() {
    let mut m: Meter<1> = Meter::new(MeterConfig::default(), MigContext::default());
    let mut rng = Rng(0x5eed);
    let both = |t_ns, mj, mw| Sample {
        t_ns,
        energy_mj: Some(mj),
        power_mw: Some(mw),
        gated_units: None,
    };
    let (mut t, mut e, mut p) = (1_000_000u64, 123_456_789u64, 200_000u32);
    m.ingest(both(t, e, p)).unwrap();
    let (t0, e0) = (t, e);
    let mut x2 = 0u128;
    for _ in 0..1_000_000 {
        let dt = 20_000_000 + rng.below(1_000);
        let pb = 150_000 + rng.below(100_000) as u32;
        x2 += u128::from(u64::from(p) + u64::from(pb)) * u128::from(dt);
        t += dt;
        e += u64::from(pb) * dt / 1_000_000_000;
        p = pb;
        m.ingest(both(t, e, p)).unwrap();
    }
    assert_eq!((m.run, m.run_t0), (Run::CounterPower, t0));
    let totals = m.totals_now();
    assert_eq!(totals.counter_mj, u128::from(e - e0));
    assert_eq!(totals.counter_ns, t - t0);
    assert_eq!((totals.est_x2, totals.est_ns), (x2, t - t0));
    assert_eq!((totals.power_x2, totals.power_ns, totals.gaps), (0, 0, 0));
}
