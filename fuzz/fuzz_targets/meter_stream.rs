//! Meter sample streams: arbitrary configurations, samples (time going
//! back, counter resets, gaps, gated units) and window calls. After every
//! call:
//!
//! * a refused call leaves the meter (`PartialEq`) exactly as it was, and a
//!   sample is refused exactly when its time goes back or it reports more
//!   gated units than the device has;
//! * every report is sane: coverage in `[0, 1]`, covered time within the
//!   window, energy finite and `>= 0`, estimates and splits finite and
//!   `>= 0`;
//! * `peek` then `end` give the same report;
//! * totals only grow: of two windows ended at the same sample, the one
//!   begun earlier has at least the other's energy and covered time.

#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use wattledger_core::meter::{
    Meter, MeterConfig, MeterError, MigContext, Sample, WindowRef, WindowReport,
};

#[derive(Arbitrary, Debug)]
struct Config {
    max_gap_ms: u16,
    update_period_ms: u16,
    idle_baseline_mw: Option<u32>,
    total_units: Option<u8>,
    mig: bool,
}

#[derive(Arbitrary, Debug)]
enum Op {
    Sample {
        /// Time step in µs; `back` subtracts it instead.
        step_us: u32,
        back: bool,
        /// Counter step in mJ; `reset` restarts the counter from it.
        energy_step_mj: Option<u16>,
        reset: bool,
        power_mw: Option<u32>,
        gated: Option<u8>,
    },
    /// Raw sample values, unrelated to the previous ones.
    RawSample(u64, Option<u64>, Option<u32>, Option<u32>),
    Begin(u8),
    BeginName(String),
    End(u8),
    EndName(String),
    Lost,
}

#[derive(Arbitrary, Debug)]
struct Input {
    config: Config,
    ops: Vec<Op>,
}

fn check_report(r: &WindowReport) {
    assert!(r.end_ns >= r.start_ns, "{r:?}");
    assert_eq!(r.duration_ns, r.end_ns - r.start_ns, "{r:?}");
    assert!(r.covered_ns <= r.duration_ns, "{r:?}");
    assert!(
        r.coverage.is_finite() && (0.0..=1.0).contains(&r.coverage),
        "{r:?}"
    );
    assert!(r.energy_j.is_finite() && r.energy_j >= 0.0, "{r:?}");
    if let Some(e) = r.power_estimate_j {
        assert!(e.is_finite() && e >= 0.0, "{r:?}");
    }
    if let Some(s) = r.split {
        assert!(s.idle_j.is_finite() && s.idle_j >= 0.0, "{r:?}");
        assert!(s.dynamic_j.is_finite() && s.dynamic_j >= 0.0, "{r:?}");
    }
    if let Some(u) = r.units {
        for x in [u.gated_unit_s, u.powered_unit_s, u.known_s] {
            assert!(x.is_finite() && x >= 0.0, "{r:?}");
        }
    }
}

/// How the harness refers to a window it began.
fn key_of(name: &Option<String>, n: u32) -> WindowRef<'_> {
    match name {
        Some(s) => WindowRef::Name(s.as_str()),
        None => WindowRef::Number(n),
    }
}

fuzz_target!(|input: Input| {
    let c = &input.config;
    let config = MeterConfig {
        max_gap_ns: u64::from(c.max_gap_ms) * 1_000_000,
        update_period_ns: u64::from(c.update_period_ms) * 1_000_000,
        idle_baseline_mw: c.idle_baseline_mw,
        total_units: c.total_units.map(u32::from),
    };
    let mig = if c.mig {
        MigContext::instance("MIG-1", "GPU-1", "1g.10gb").unwrap()
    } else {
        MigContext::default()
    };
    let mut meter: Meter<4> = Meter::new(config, mig);
    // (name or number) of open windows, in begin order.
    let mut open: Vec<(Option<String>, u32)> = Vec::new();
    let mut t_ns: u64 = 0;
    let mut counter: u64 = 0;

    for op in &input.ops {
        let before = meter.clone();
        match op {
            Op::Sample { .. } | Op::RawSample(..) => {
                let s = match *op {
                    Op::Sample {
                        step_us,
                        back,
                        energy_step_mj,
                        reset,
                        power_mw,
                        gated,
                    } => {
                        let step = u64::from(step_us) * 1_000;
                        let t = if back {
                            t_ns.saturating_sub(step)
                        } else {
                            t_ns.saturating_add(step)
                        };
                        let energy = energy_step_mj.map(|e| {
                            if reset {
                                u64::from(e)
                            } else {
                                counter.saturating_add(u64::from(e))
                            }
                        });
                        Sample {
                            t_ns: t,
                            energy_mj: energy,
                            power_mw,
                            gated_units: gated.map(u32::from),
                        }
                    }
                    Op::RawSample(t, e, p, g) => Sample {
                        t_ns: t,
                        energy_mj: e,
                        power_mw: p,
                        gated_units: g,
                    },
                    _ => unreachable!(),
                };
                let last = meter.last_sample();
                let goes_back = last.is_some_and(|l| s.t_ns < l.t_ns);
                let too_many_gated = matches!(
                    (s.gated_units, config.total_units),
                    (Some(g), Some(total)) if g > total
                );
                match meter.ingest(s) {
                    Ok(()) => {
                        assert!(
                            !goes_back && !too_many_gated,
                            "accepted {s:?} after {last:?}"
                        );
                        assert_eq!(meter.last_sample(), Some(s));
                        assert!(!meter.is_device_lost());
                        t_ns = s.t_ns;
                        if let Some(e) = s.energy_mj {
                            counter = e;
                        }
                    }
                    Err(e) => {
                        assert_eq!(meter, before, "refused sample changed the meter: {e:?}");
                        match e {
                            MeterError::TimeWentBack { .. } => assert!(goes_back),
                            MeterError::GatedExceedsTotal { .. } => {
                                assert!(too_many_gated && !goes_back)
                            }
                            other => panic!("unexpected {other:?}"),
                        }
                    }
                }
            }
            Op::Begin(_) | Op::BeginName(_) => {
                let (name, n) = match op {
                    Op::Begin(n) => (None, u32::from(*n % 8)),
                    Op::BeginName(s) => (Some(s.clone()), 0),
                    _ => unreachable!(),
                };
                let was_open = meter.is_open(key_of(&name, n));
                match meter.begin(key_of(&name, n)) {
                    Ok(()) => {
                        assert!(!was_open);
                        assert!(meter.is_open(key_of(&name, n)));
                        open.push((name, n));
                        assert_eq!(meter.open_windows(), open.len());
                    }
                    Err(e) => {
                        assert_eq!(meter, before, "refused begin changed the meter: {e:?}");
                        match e {
                            MeterError::AlreadyOpen => assert!(was_open),
                            MeterError::TooManyWindows { capacity } => {
                                assert_eq!(capacity, 4);
                                assert_eq!(open.len(), 4);
                            }
                            MeterError::NameTooLong { len, max } => {
                                assert!(len > max);
                            }
                            other => panic!("unexpected {other:?}"),
                        }
                    }
                }
            }
            Op::End(_) | Op::EndName(_) => {
                let (name, n) = match op {
                    Op::End(n) => (None, u32::from(*n % 8)),
                    Op::EndName(s) => (Some(s.clone()), 0),
                    _ => unreachable!(),
                };
                let position = open
                    .iter()
                    .position(|(on, onum)| key_of(on, *onum) == key_of(&name, n));
                let peeked = meter.peek(key_of(&name, n));
                // Reports of the windows begun earlier and later, as they stand now.
                let others: Vec<(usize, WindowReport)> = open
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| Some(*i) != position)
                    .map(|(i, (on, onum))| (i, meter.peek(key_of(on, *onum)).unwrap()))
                    .collect();
                match meter.end(key_of(&name, n)) {
                    Ok(report) => {
                        let at = position.expect("ended a window the harness never began");
                        assert_eq!(peeked, Ok(report.clone()), "peek and end differ");
                        check_report(&report);
                        for (i, other) in &others {
                            let (earlier, later) = if *i < at {
                                (other, &report)
                            } else {
                                (&report, other)
                            };
                            assert!(earlier.energy_j >= later.energy_j, "{earlier:?} {later:?}");
                            assert!(earlier.covered_ns >= later.covered_ns);
                            assert!(earlier.start_ns <= later.start_ns);
                            assert!(earlier.gaps >= later.gaps);
                            assert!(earlier.counter_resets >= later.counter_resets);
                        }
                        open.remove(at);
                    }
                    Err(e) => {
                        assert_eq!(e, MeterError::NotOpen);
                        assert!(position.is_none());
                        assert_eq!(meter, before);
                    }
                }
            }
            Op::Lost => {
                meter.mark_device_lost();
                assert!(meter.is_device_lost());
            }
        }
    }
    // Every window still open reports sanely.
    for (name, n) in &open {
        check_report(&meter.peek(key_of(name, *n)).unwrap());
    }
});
