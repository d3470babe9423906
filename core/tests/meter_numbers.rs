//! Hand-computed checks of the meter: every expected number is worked out
//! in the comment beside it.

use wattledger_core::meter::{
    Meter, MeterConfig, MeterError, Method, MigContext, MigField, Sample, WINDOW_NAME_CAPACITY,
    WindowFlags, WindowKey,
};

const MS: u64 = 1_000_000;
const S: u64 = 1_000_000_000;

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * b.abs().max(1.0)
}

macro_rules! assert_close {
    ($a:expr, $b:expr) => {{
        let (a, b): (f64, f64) = ($a, $b);
        assert!(close(a, b), "{} = {a}, expected {b}", stringify!($a));
    }};
}

fn power(t_ns: u64, mw: u32) -> Sample {
    Sample {
        t_ns,
        energy_mj: None,
        power_mw: Some(mw),
        gated_units: None,
    }
}

fn counter(t_ns: u64, mj: u64) -> Sample {
    Sample {
        t_ns,
        energy_mj: Some(mj),
        power_mw: None,
        gated_units: None,
    }
}

fn both(t_ns: u64, mj: u64, mw: u32) -> Sample {
    Sample {
        t_ns,
        energy_mj: Some(mj),
        power_mw: Some(mw),
        gated_units: None,
    }
}

fn meter(config: MeterConfig) -> Meter {
    Meter::new(config, MigContext::default())
}

#[test]
fn constant_100_w_for_2_s_is_200_j() {
    let mut m = meter(MeterConfig::default());
    m.ingest(power(0, 100_000)).unwrap();
    m.begin("run").unwrap();
    for k in 1..=4 {
        m.ingest(power(k * 500 * MS, 100_000)).unwrap();
    }
    let r = m.end("run").unwrap();
    // Four trapezoids of (100 W + 100 W)/2 × 0.5 s = 50 J each: 200 J.
    assert_close!(r.energy_j, 200.0);
    assert_eq!(r.duration_ns, 2 * S);
    assert_eq!(r.covered_ns, 2 * S);
    assert_close!(r.coverage, 1.0);
    assert_eq!(r.method, Method::Power);
    assert!(r.flags.is_empty(), "{:?}", r.flags);
    // The power estimate is the mean power (100 W) × 2 s = 200 J as well.
    assert_close!(r.power_estimate_j.unwrap(), 200.0);
    assert_close!(r.mean_power_w().unwrap(), 100.0);
}

#[test]
fn trapezoid_of_a_ramp() {
    let mut m = meter(MeterConfig::default());
    m.ingest(power(0, 100_000)).unwrap();
    m.begin(1).unwrap();
    m.ingest(power(S, 200_000)).unwrap();
    let r = m.end(1).unwrap();
    // (100 W + 200 W) / 2 × 1 s = 150 J.
    assert_close!(r.energy_j, 150.0);
    assert_eq!(r.key, WindowKey::Number(1));
}

#[test]
fn counter_deltas() {
    let mut m = meter(MeterConfig::default());
    m.ingest(counter(0, 1_000)).unwrap();
    m.begin("c").unwrap();
    m.ingest(counter(100 * MS, 1_500)).unwrap();
    m.ingest(counter(200 * MS, 3_000)).unwrap();
    let r = m.end("c").unwrap();
    // (1500 − 1000) + (3000 − 1500) = 2000 mJ = 2 J over 200 ms.
    assert_close!(r.energy_j, 2.0);
    assert_eq!(r.method, Method::Counter);
    assert_eq!(r.covered_ns, 200 * MS);
    assert_close!(r.coverage, 1.0);
    assert!(r.flags.is_empty(), "{:?}", r.flags);
    // No power reading ever: no estimate.
    assert_eq!(r.power_estimate_j, None);
}

#[test]
fn counter_is_preferred_over_power_when_both_are_there() {
    let mut m = meter(MeterConfig::default());
    m.ingest(both(0, 0, 100_000)).unwrap();
    m.begin("w").unwrap();
    m.ingest(both(S, 90_000, 100_000)).unwrap();
    let r = m.end("w").unwrap();
    // Counter: 90 000 mJ = 90 J; power would say 100 W × 1 s = 100 J.
    assert_close!(r.energy_j, 90.0);
    assert_eq!(r.method, Method::Counter);
    assert_close!(r.power_estimate_j.unwrap(), 100.0);
}

#[test]
fn counter_reset_is_bridged_by_power() {
    let mut m = meter(MeterConfig::default());
    m.ingest(both(0, 10_000, 50_000)).unwrap();
    m.begin("w").unwrap();
    m.ingest(both(S, 60_000, 50_000)).unwrap();
    m.ingest(both(2 * S, 5_000, 70_000)).unwrap(); // counter went down: reset
    m.ingest(both(3 * S, 8_000, 70_000)).unwrap();
    let r = m.end("w").unwrap();
    // 0→1 s: counter 60 000 − 10 000 = 50 J.
    // 1→2 s: reset, bridged by power (50 W + 70 W)/2 × 1 s = 60 J.
    // 2→3 s: counter 8 000 − 5 000 = 3 J.
    // Total 113 J, all 3 s covered.
    assert_close!(r.energy_j, 113.0);
    assert_eq!(r.method, Method::Mixed);
    assert_eq!(r.counter_resets, 1);
    assert!(r.flags.contains(WindowFlags::COUNTER_RESET));
    assert!(!r.flags.contains(WindowFlags::GAP));
    assert_close!(r.coverage, 1.0);
}

#[test]
fn counter_reset_without_power_is_uncovered() {
    let mut m = meter(MeterConfig::default());
    m.ingest(counter(0, 0)).unwrap();
    m.begin("w").unwrap();
    m.ingest(counter(S, 1_000)).unwrap();
    m.ingest(counter(2 * S, 500)).unwrap(); // reset, nothing to bridge with
    let r = m.end("w").unwrap();
    // Only 0→1 s counts: 1 J, covered 1 s of 2 s: coverage 0.5.
    assert_close!(r.energy_j, 1.0);
    assert_eq!(r.covered_ns, S);
    assert_close!(r.coverage, 0.5);
    assert!(
        r.flags
            .contains(WindowFlags::COUNTER_RESET | WindowFlags::GAP)
    );
    assert_eq!(r.gaps, 1);
}

#[test]
fn power_gap_is_uncovered() {
    let mut m = meter(MeterConfig::default()); // max gap 1 s
    m.ingest(power(0, 10_000)).unwrap();
    m.begin("w").unwrap();
    m.ingest(power(500 * MS, 10_000)).unwrap();
    m.ingest(power(3 * S, 10_000)).unwrap(); // 2.5 s > 1 s: gap
    m.ingest(power(3_500 * MS, 10_000)).unwrap();
    let r = m.end("w").unwrap();
    // 10 W × 0.5 s + 10 W × 0.5 s = 10 J; covered 1 s of 3.5 s = 2/7.
    assert_close!(r.energy_j, 10.0);
    assert_eq!(r.covered_ns, S);
    assert_close!(r.coverage, 1.0 / 3.5);
    assert_eq!(r.gaps, 1);
    assert!(r.flags.contains(WindowFlags::GAP));
    assert_eq!(r.method, Method::Power);
}

#[test]
fn gap_exactly_at_the_maximum_is_still_integrated() {
    let mut m = meter(MeterConfig {
        max_gap_ns: 2 * S,
        ..MeterConfig::default()
    });
    m.ingest(power(0, 10_000)).unwrap();
    m.begin("w").unwrap();
    m.ingest(power(2 * S, 10_000)).unwrap();
    let r = m.end("w").unwrap();
    // dt = 2 s = max gap: integrated, 10 W × 2 s = 20 J.
    assert_close!(r.energy_j, 20.0);
    assert_close!(r.coverage, 1.0);
}

#[test]
fn counter_intervals_are_never_gaps() {
    let mut m = meter(MeterConfig::default());
    m.ingest(counter(0, 0)).unwrap();
    m.begin("w").unwrap();
    m.ingest(counter(10 * S, 7_000)).unwrap();
    let r = m.end("w").unwrap();
    // 7000 mJ over 10 s, far beyond the 1 s max gap, still fully covered.
    assert_close!(r.energy_j, 7.0);
    assert_close!(r.coverage, 1.0);
    assert!(r.flags.is_empty());
}

#[test]
fn missing_readings_leave_time_uncovered() {
    let mut m = meter(MeterConfig::default());
    m.ingest(power(0, 10_000)).unwrap();
    m.begin("w").unwrap();
    m.ingest(counter(S, 5)).unwrap(); // no power pair, no counter pair
    m.ingest(power(2 * S, 10_000)).unwrap(); // again no pair
    m.ingest(power(3 * S, 20_000)).unwrap();
    let r = m.end("w").unwrap();
    // Only 2→3 s: (10 + 20)/2 W × 1 s = 15 J; coverage 1/3; two gaps.
    assert_close!(r.energy_j, 15.0);
    assert_close!(r.coverage, 1.0 / 3.0);
    assert_eq!(r.gaps, 2);
}

#[test]
fn nested_and_overlapping_windows() {
    let mut m = meter(MeterConfig::default());
    m.ingest(power(0, 100_000)).unwrap();
    m.begin("outer").unwrap();
    m.ingest(power(S, 100_000)).unwrap(); // 0→1: 100 J
    m.begin("inner").unwrap();
    m.ingest(power(2 * S, 300_000)).unwrap(); // 1→2: (100+300)/2 = 200 J
    let inner = m.end("inner").unwrap();
    m.begin(7).unwrap(); // numbered, overlaps "outer"
    m.begin("7").unwrap(); // a name spelling 7 is a different window
    m.ingest(power(3 * S, 300_000)).unwrap(); // 2→3: 300 J
    let outer = m.end("outer").unwrap();
    m.ingest(power(4 * S, 300_000)).unwrap(); // 3→4: 300 J
    let seven = m.end(7).unwrap();
    let seven_named = m.end("7").unwrap();
    assert_close!(inner.energy_j, 200.0); // 1→2
    assert_close!(outer.energy_j, 600.0); // 100 + 200 + 300
    assert_close!(seven.energy_j, 600.0); // 300 + 300
    assert_eq!(seven_named, {
        let mut r = seven.clone();
        r.key = seven_named.key.clone();
        r
    });
    assert_eq!((outer.start_ns, outer.end_ns), (0, 3 * S));
    assert_eq!((seven.start_ns, seven.end_ns), (2 * S, 4 * S));
    assert_eq!(m.open_windows(), 0);
}

#[test]
fn short_window_is_flagged_with_a_power_estimate() {
    let mut m = meter(MeterConfig {
        update_period_ns: 100 * MS,
        ..MeterConfig::default()
    });
    m.ingest(both(0, 1_000, 250_000)).unwrap();
    m.begin("kernel").unwrap();
    m.ingest(both(20 * MS, 1_000, 250_000)).unwrap(); // counter has not refreshed
    let r = m.end("kernel").unwrap();
    // Counter moved 0 mJ in 20 ms; power says 250 W × 0.02 s = 5 J.
    assert_close!(r.energy_j, 0.0);
    assert!(r.flags.contains(WindowFlags::SHORTER_THAN_UPDATE_PERIOD));
    assert_close!(r.power_estimate_j.unwrap(), 5.0);
}

#[test]
fn estimate_falls_back_to_the_latest_power_reading() {
    let mut m = meter(MeterConfig::default());
    m.ingest(both(0, 0, 40_000)).unwrap();
    m.ingest(counter(S, 40_000)).unwrap(); // no power in this one
    m.begin("w").unwrap();
    m.ingest(counter(S + 50 * MS, 42_000)).unwrap();
    let r = m.end("w").unwrap();
    // No power interval inside; latest reading 40 W × 0.05 s = 2 J.
    // Counter: 42 000 − 40 000 = 2 J as well.
    assert_close!(r.power_estimate_j.unwrap(), 2.0);
    assert_close!(r.energy_j, 2.0);
    assert!(r.flags.contains(WindowFlags::SHORTER_THAN_UPDATE_PERIOD));
}

#[test]
fn window_at_the_update_period_is_not_short() {
    let mut m = meter(MeterConfig {
        update_period_ns: 100 * MS,
        ..MeterConfig::default()
    });
    m.ingest(counter(0, 0)).unwrap();
    m.begin("w").unwrap();
    m.ingest(counter(100 * MS, 10)).unwrap();
    let r = m.end("w").unwrap();
    assert!(!r.flags.contains(WindowFlags::SHORTER_THAN_UPDATE_PERIOD));
}

#[test]
fn idle_and_dynamic_split() {
    let mut m = meter(MeterConfig {
        idle_baseline_mw: Some(50_000),
        ..MeterConfig::default()
    });
    m.ingest(power(0, 80_000)).unwrap();
    m.begin("w").unwrap();
    m.ingest(power(S, 80_000)).unwrap();
    m.ingest(power(2 * S, 80_000)).unwrap();
    let r = m.end("w").unwrap();
    // 80 W × 2 s = 160 J; idle 50 W × 2 s = 100 J; dynamic 60 J.
    let split = r.split.unwrap();
    assert_close!(r.energy_j, 160.0);
    assert_close!(split.idle_j, 100.0);
    assert_close!(split.dynamic_j, 60.0);
    assert!(!r.flags.contains(WindowFlags::BELOW_BASELINE));
}

#[test]
fn idle_split_uses_covered_time_and_clamps_below_baseline() {
    let mut m = meter(MeterConfig {
        idle_baseline_mw: Some(50_000),
        ..MeterConfig::default()
    });
    m.ingest(power(0, 30_000)).unwrap();
    m.begin("w").unwrap();
    m.ingest(power(S, 30_000)).unwrap();
    m.ingest(power(5 * S, 30_000)).unwrap(); // 4 s gap: uncovered
    let r = m.end("w").unwrap();
    // Energy 30 W × 1 s = 30 J; idle 50 W × 1 s covered = 50 J (not × 5 s);
    // 30 − 50 < 0: dynamic 0 and flagged.
    let split = r.split.unwrap();
    assert_close!(r.energy_j, 30.0);
    assert_close!(split.idle_j, 50.0);
    assert_close!(split.dynamic_j, 0.0);
    assert!(r.flags.contains(WindowFlags::BELOW_BASELINE));
}

#[test]
fn no_split_without_baseline() {
    let mut m = meter(MeterConfig::default());
    m.ingest(power(0, 30_000)).unwrap();
    m.begin("w").unwrap();
    m.ingest(power(S, 30_000)).unwrap();
    assert_eq!(m.end("w").unwrap().split, None);
}

#[test]
fn gated_unit_seconds() {
    let mut m = meter(MeterConfig {
        total_units: Some(8),
        max_gap_ns: 5 * S,
        ..MeterConfig::default()
    });
    let g = |t_ns, gated| Sample {
        t_ns,
        energy_mj: None,
        power_mw: Some(10_000),
        gated_units: Some(gated),
    };
    m.ingest(g(0, 2)).unwrap();
    m.begin("w").unwrap();
    m.ingest(g(S, 6)).unwrap();
    m.ingest(g(3 * S, 0)).unwrap();
    let r = m.end("w").unwrap();
    // 0→1 s: 2 gated → 2 unit-s gated, 6 unit-s powered.
    // 1→3 s: 6 gated → 12 unit-s gated, 2 × 2 = 4 unit-s powered.
    // Σ 14 gated + 10 powered = 8 units × 3 s = 24.
    let u = r.units.unwrap();
    assert_close!(u.gated_unit_s, 14.0);
    assert_close!(u.powered_unit_s, 10.0);
    assert_close!(u.known_s, 3.0);
}

#[test]
fn gated_above_total_is_rejected_unchanged() {
    let mut m = meter(MeterConfig {
        total_units: Some(4),
        ..MeterConfig::default()
    });
    m.ingest(power(0, 1)).unwrap();
    let before = m.clone();
    let bad = Sample {
        t_ns: S,
        energy_mj: None,
        power_mw: Some(1),
        gated_units: Some(5),
    };
    assert_eq!(
        m.ingest(bad),
        Err(MeterError::GatedExceedsTotal { gated: 5, total: 4 })
    );
    assert_eq!(m, before);
}

#[test]
fn time_going_back_is_rejected_unchanged() {
    let mut m = meter(MeterConfig::default());
    m.ingest(power(5 * S, 1_000)).unwrap();
    m.begin("w").unwrap();
    let before = m.clone();
    assert_eq!(
        m.ingest(power(4 * S, 1_000)),
        Err(MeterError::TimeWentBack {
            last_ns: 5 * S,
            got_ns: 4 * S
        })
    );
    assert_eq!(m, before);
}

#[test]
fn equal_timestamp_is_a_zero_length_interval() {
    let mut m = meter(MeterConfig::default());
    m.ingest(both(S, 100, 10_000)).unwrap();
    m.begin("w").unwrap();
    m.ingest(both(S, 300, 90_000)).unwrap(); // same time, counter +200 mJ
    m.ingest(both(2 * S, 1_300, 90_000)).unwrap();
    let r = m.end("w").unwrap();
    // 200 mJ at zero duration + 1000 mJ over 1 s = 1.2 J; covered 1 s of 1 s.
    assert_close!(r.energy_j, 1.2);
    assert_close!(r.coverage, 1.0);
    assert_eq!(r.gaps, 0);
    // The power estimate uses the second reading: 90 W over 1 s = 90 J.
    assert_close!(r.power_estimate_j.unwrap(), 90.0);
}

#[test]
fn zero_length_window_has_zero_coverage() {
    let mut m = meter(MeterConfig::default());
    m.ingest(power(0, 10_000)).unwrap();
    m.begin("w").unwrap();
    let r = m.end("w").unwrap();
    assert_eq!(r.duration_ns, 0);
    assert_close!(r.coverage, 0.0);
    assert_close!(r.energy_j, 0.0);
    assert_eq!(r.method, Method::Unmeasured);
    assert_eq!(r.mean_power_w(), None);
}

#[test]
fn window_errors_leave_the_meter_unchanged() {
    let mut m: Meter<2> = Meter::new(MeterConfig::default(), MigContext::default());
    m.ingest(power(0, 1)).unwrap();
    m.begin("a").unwrap();

    let before = m.clone();
    assert_eq!(m.begin("a"), Err(MeterError::AlreadyOpen));
    assert_eq!(m, before);
    assert_eq!(m.end("b"), Err(MeterError::NotOpen));
    assert_eq!(m.end(3), Err(MeterError::NotOpen));
    assert_eq!(m, before);

    let long = "x".repeat(WINDOW_NAME_CAPACITY + 1);
    assert_eq!(
        m.begin(long.as_str()),
        Err(MeterError::NameTooLong {
            len: 33,
            max: WINDOW_NAME_CAPACITY
        })
    );
    assert_eq!(m, before);

    let fits = "y".repeat(WINDOW_NAME_CAPACITY);
    m.begin(fits.as_str()).unwrap();
    let full = m.clone();
    assert_eq!(m.begin(9), Err(MeterError::TooManyWindows { capacity: 2 }));
    assert_eq!(m, full);
    assert!(m.is_open(fits.as_str()));
    assert_eq!(m.window_capacity(), 2);
}

#[test]
fn device_lost_flags_open_windows() {
    let mut m = meter(MeterConfig::default());
    m.ingest(power(0, 10_000)).unwrap();
    m.begin("open").unwrap();
    m.ingest(power(S, 10_000)).unwrap();
    m.mark_device_lost();
    m.begin("after").unwrap(); // begun while lost
    assert!(m.is_device_lost());
    let open = m.end("open").unwrap();
    let after = m.end("after").unwrap();
    assert!(open.flags.contains(WindowFlags::DEVICE_LOST));
    assert!(after.flags.contains(WindowFlags::DEVICE_LOST));
    // The energy up to the last good sample is still there: 10 W × 1 s.
    assert_close!(open.energy_j, 10.0);

    // The device answers again: new windows are clean.
    m.ingest(power(2 * S, 10_000)).unwrap();
    assert!(!m.is_device_lost());
    m.begin("back").unwrap();
    m.ingest(power(3 * S, 10_000)).unwrap();
    assert!(
        !m.end("back")
            .unwrap()
            .flags
            .contains(WindowFlags::DEVICE_LOST)
    );
}

#[test]
fn window_begun_before_any_sample_starts_at_the_first() {
    let mut m = meter(MeterConfig::default());
    m.begin("early").unwrap();
    m.ingest(power(4 * S, 20_000)).unwrap();
    m.ingest(power(5 * S, 20_000)).unwrap();
    let r = m.end("early").unwrap();
    // Starts at 4 s: 20 W × 1 s = 20 J, fully covered.
    assert_eq!(r.start_ns, 4 * S);
    assert_close!(r.energy_j, 20.0);
    assert_close!(r.coverage, 1.0);
    assert!(r.flags.contains(WindowFlags::LATE_START));
}

#[test]
fn peek_does_not_close() {
    let mut m = meter(MeterConfig::default());
    m.ingest(power(0, 20_000)).unwrap();
    m.begin("w").unwrap();
    m.ingest(power(S, 20_000)).unwrap();
    let peeked = m.peek("w").unwrap();
    assert!(m.is_open("w"));
    assert_eq!(m.end("w").unwrap(), peeked);
}

#[test]
fn mig_context_is_copied_into_reports() {
    let ctx = MigContext::instance(
        "MIG-4f1a2b3c-0000-1111-2222-333344445555",
        "GPU-9a8b7c6d-0000-1111-2222-333344445555",
        "3g.40gb",
    )
    .unwrap();
    assert!(ctx.energy_is_parent_total());
    let mut m: Meter = Meter::new(MeterConfig::default(), ctx.clone());
    m.ingest(power(0, 1_000)).unwrap();
    m.begin("w").unwrap();
    m.ingest(power(S, 1_000)).unwrap();
    let r = m.end("w").unwrap();
    assert_eq!(r.mig, ctx);
    assert!(r.flags.contains(WindowFlags::MIG_PARENT_ENERGY));
    assert!(r.energy_is_parent_total());

    let whole = MigContext::whole_gpu("GPU-9a8b7c6d").unwrap();
    assert!(!whole.energy_is_parent_total());
    assert_eq!(whole.parent_uuid.as_str(), "GPU-9a8b7c6d");

    let long_profile = "p".repeat(33);
    assert_eq!(
        MigContext::instance("MIG-a", "GPU-b", &long_profile),
        Err(MeterError::MigTextTooLong {
            field: MigField::Profile,
            len: 33,
            max: 32
        })
    );
    let long_uuid = "u".repeat(65);
    assert!(matches!(
        MigContext::whole_gpu(&long_uuid),
        Err(MeterError::MigTextTooLong {
            field: MigField::DeviceUuid,
            ..
        })
    ));
}
