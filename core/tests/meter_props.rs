//! Property tests of the meter's invariants over arbitrary input streams:
//! every report has finite, non-negative energy and coverage in [0, 1];
//! every rejected input leaves the meter exactly as it was; and windows add
//! up.

use proptest::prelude::*;
use wattledger_core::meter::{Meter, MeterConfig, MeterError, MigContext, Sample, WindowReport};

#[derive(Debug, Clone)]
enum Op {
    /// A sample `dt` ns after the previous one (may be negative: goes back).
    Sample {
        dt: i64,
        energy_mj: Option<u64>,
        power_mw: Option<u32>,
        gated_units: Option<u32>,
    },
    Begin(u8),
    End(u8),
    Lost,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (
            -2_000_000_000i64..3_000_000_000,
            prop::option::of(prop_oneof![0u64..10_000, any::<u64>()]),
            prop::option::of(any::<u32>()),
            prop::option::of(0u32..12),
        )
            .prop_map(|(dt, energy_mj, power_mw, gated_units)| Op::Sample {
                dt,
                energy_mj,
                power_mw,
                gated_units,
            }),
        2 => (0u8..8).prop_map(Op::Begin),
        2 => (0u8..8).prop_map(Op::End),
        1 => Just(Op::Lost),
    ]
}

fn config() -> impl Strategy<Value = MeterConfig> {
    (
        0u64..3_000_000_000,
        0u64..500_000_000,
        prop::option::of(any::<u32>()),
        prop::option::of(0u32..10),
    )
        .prop_map(
            |(max_gap_ns, update_period_ns, idle_baseline_mw, total_units)| MeterConfig {
                max_gap_ns,
                update_period_ns,
                idle_baseline_mw,
                total_units,
            },
        )
}

fn check(r: &WindowReport) {
    assert!(r.energy_j.is_finite() && r.energy_j >= 0.0, "{r:?}");
    assert!((0.0..=1.0).contains(&r.coverage), "{r:?}");
    assert!(r.covered_ns <= r.duration_ns, "{r:?}");
    assert_eq!(r.duration_ns, r.end_ns - r.start_ns);
    if let Some(e) = r.power_estimate_j {
        assert!(e.is_finite() && e >= 0.0, "{r:?}");
    }
    if let Some(s) = r.split {
        assert!(s.idle_j.is_finite() && s.idle_j >= 0.0, "{r:?}");
        assert!(s.dynamic_j.is_finite() && s.dynamic_j >= 0.0, "{r:?}");
    }
    if let Some(u) = r.units {
        for v in [u.gated_unit_s, u.powered_unit_s, u.known_s] {
            assert!(v.is_finite() && v >= 0.0, "{r:?}");
        }
        assert!(
            u.known_s <= r.duration_ns as f64 * 1e-9 * (1.0 + 1e-12),
            "{r:?}"
        );
    }
}

/// Window keys 0..4 are names, 4..8 numbers, so both paths are exercised.
fn apply(m: &mut Meter<4>, key: u8, begin: bool) -> Result<Option<WindowReport>, MeterError> {
    let name = format!("w{key}");
    match (key < 4, begin) {
        (true, true) => m.begin(name.as_str()).map(|()| None),
        (false, true) => m.begin(u32::from(key)).map(|()| None),
        (true, false) => m.end(name.as_str()).map(Some),
        (false, false) => m.end(u32::from(key)).map(Some),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn invariants_hold_and_rejections_change_nothing(
        cfg in config(),
        start in 0u64..u64::MAX / 2,
        ops in prop::collection::vec(op(), 0..80),
    ) {
        let mut m: Meter<4> = Meter::new(cfg, MigContext::default());
        let mut t: u64 = start;
        for op in ops {
            let before = m.clone();
            match op {
                Op::Sample { dt, energy_mj, power_mw, gated_units } => {
                    let next = if dt < 0 {
                        t.saturating_sub(dt.unsigned_abs())
                    } else {
                        t.saturating_add(dt as u64)
                    };
                    let s = Sample { t_ns: next, energy_mj, power_mw, gated_units };
                    let goes_back = m.last_sample().is_some_and(|l| next < l.t_ns);
                    let too_many = matches!(
                        (gated_units, cfg.total_units),
                        (Some(g), Some(total)) if g > total
                    );
                    match m.ingest(s) {
                        Ok(()) => {
                            prop_assert!(!goes_back && !too_many);
                            prop_assert_eq!(m.last_sample(), Some(s));
                            t = next;
                        }
                        Err(e) => {
                            prop_assert!(goes_back || too_many, "{:?}", e);
                            prop_assert_eq!(&m, &before);
                        }
                    }
                }
                Op::Begin(k) | Op::End(k) => {
                    let begin = matches!(op, Op::Begin(_));
                    match apply(&mut m, k, begin) {
                        Ok(Some(r)) => check(&r),
                        Ok(None) => {}
                        Err(_) => prop_assert_eq!(&m, &before),
                    }
                }
                Op::Lost => m.mark_device_lost(),
            }
        }
        for k in 0..8u8 {
            if let Ok(Some(r)) = apply(&mut m, k, false) {
                check(&r);
            }
        }
        prop_assert_eq!(m.open_windows(), 0);
    }

    /// Back-to-back windows add up to the window that spans them: the
    /// snapshot design makes each report a difference of running totals.
    #[test]
    fn consecutive_windows_add_up(
        powers in prop::collection::vec((1u64..2_000_000_000, prop::option::of(0u32..700_000), prop::option::of(0u64..1_000_000)), 2..60),
        split_at in 0usize..60,
    ) {
        let mut m: Meter<4> = Meter::new(MeterConfig::default(), MigContext::default());
        let mut t = 0u64;
        m.ingest(Sample { t_ns: 0, energy_mj: Some(0), power_mw: Some(0), gated_units: None }).unwrap();
        m.begin("all").unwrap();
        m.begin("first").unwrap();
        let cut = split_at % powers.len();
        let mut second = None;
        for (i, (dt, p, e)) in powers.iter().enumerate() {
            t += dt;
            m.ingest(Sample { t_ns: t, energy_mj: *e, power_mw: *p, gated_units: None }).unwrap();
            if i == cut {
                second = Some(m.end("first").unwrap());
                m.begin("second").unwrap();
            }
        }
        let a = second.unwrap();
        let b = m.end("second").unwrap();
        let all = m.end("all").unwrap();
        let sum = a.energy_j + b.energy_j;
        prop_assert!((sum - all.energy_j).abs() <= 1e-9 * all.energy_j.max(1.0), "{} + {} != {}", a.energy_j, b.energy_j, all.energy_j);
        prop_assert_eq!(a.covered_ns + b.covered_ns, all.covered_ns);
        prop_assert_eq!(a.duration_ns + b.duration_ns, all.duration_ns);
        prop_assert_eq!(a.gaps + b.gaps, all.gaps);
        prop_assert_eq!(a.counter_resets + b.counter_resets, all.counter_resets);
    }

    /// Power alone at a constant level, no gaps: energy = P × covered time.
    #[test]
    fn constant_power_gives_power_times_time(
        p_mw in 0u32..1_000_000,
        dts in prop::collection::vec(0u64..1_000_000_000, 1..50),
    ) {
        let mut m: Meter = Meter::new(MeterConfig::default(), MigContext::default());
        let mut t = 0u64;
        m.ingest(Sample { t_ns: 0, energy_mj: None, power_mw: Some(p_mw), gated_units: None }).unwrap();
        m.begin(0).unwrap();
        for dt in dts {
            t += dt;
            m.ingest(Sample { t_ns: t, energy_mj: None, power_mw: Some(p_mw), gated_units: None }).unwrap();
        }
        let r = m.end(0).unwrap();
        // P (W) × t (s) = p_mw·1e-3 × t·1e-9.
        let expected = f64::from(p_mw) * 1e-3 * t as f64 * 1e-9;
        prop_assert!((r.energy_j - expected).abs() <= 1e-9 * expected.max(1.0));
        prop_assert_eq!(r.covered_ns, t);
    }
}
