//! INA3221 register streams into a meter: arbitrary mask/enable, shunt and
//! bus registers, shunt resistances, time steps (some going back) and
//! window calls. After every call:
//!
//! * a reading is refused exactly when the registers decode to an error
//!   (checked independently: CVRF clear, low bits set, full scale, negative
//!   bus, zero shunt, power beyond `u32` mW) or its time goes back, and a
//!   refused reading leaves the meter (`PartialEq`) exactly as it was;
//! * an accepted reading's sample carries the power the harness computes
//!   itself from the datasheet (40 µV and 8 mV per LSB, bits 15–3),
//!   negative power counted as 0;
//! * a closed window's energy equals the harness's own trapezoid sum over
//!   the samples since it began (every interval within the maximum gap),
//!   within float rounding, and its coverage is in `[0, 1]`.

#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use wattledger_core::ina3221::{IngestError, Reading};
use wattledger_core::meter::{Meter, MeterConfig, MeterError, MigContext, WindowRef};

#[derive(Arbitrary, Debug)]
enum Op {
    Read {
        step_us: u16,
        back: bool,
        mask_enable: u16,
        shunt: u16,
        bus: u16,
        /// Index into the shunt table, or a raw value.
        shunt_uohm: Result<u8, u32>,
    },
    Begin,
    End,
}

/// Shunts of the Jetson boards (2 mΩ, 5 mΩ) and a few others.
const SHUNTS: [u32; 6] = [2_000, 5_000, 1, 100, 10_000, 0];

/// The harness's own decoding: value in LSBs, or None when refused.
fn lsbs(raw: u16) -> Option<i64> {
    if raw & 7 != 0 || raw == 0x7FF8 || raw == 0x8000 {
        return None;
    }
    let v = i64::from(raw >> 3);
    Some(if raw & 0x8000 != 0 { v - 8192 } else { v })
}

fn expected_power_mw(r: &Reading, shunt_uohm: u32) -> Option<u32> {
    if r.mask_enable & 1 == 0 || shunt_uohm == 0 {
        return None;
    }
    let shunt_uv = lsbs(r.shunt)? * 40;
    let bus_mv = lsbs(r.bus)? * 8;
    if bus_mv < 0 {
        return None;
    }
    // Round half away from zero, in exact integers.
    let n = i128::from(bus_mv) * i128::from(shunt_uv);
    let d = i128::from(shunt_uohm);
    let p = if n >= 0 {
        (n + d / 2) / d
    } else {
        (n - d / 2) / d
    };
    u32::try_from(p.max(0)).ok()
}

fuzz_target!(|ops: Vec<Op>| {
    let config = MeterConfig {
        max_gap_ns: u64::MAX,
        ..MeterConfig::default()
    };
    let mut meter: Meter<2> = Meter::new(config, MigContext::default());
    let mut t_ns: u64 = 0;
    // Accepted samples (t, mW) and, while the window is open, its start index.
    let mut samples: Vec<(u64, u32)> = Vec::new();
    let mut open_at: Option<usize> = None;

    for op in &ops {
        let before = meter.clone();
        match *op {
            Op::Read {
                step_us,
                back,
                mask_enable,
                shunt,
                bus,
                shunt_uohm,
            } => {
                let step = u64::from(step_us) * 1_000;
                let t = if back {
                    t_ns.saturating_sub(step)
                } else {
                    t_ns.saturating_add(step)
                };
                let r_uohm = match shunt_uohm {
                    Ok(i) => SHUNTS[usize::from(i) % SHUNTS.len()],
                    Err(raw) => raw,
                };
                let reading = Reading {
                    mask_enable,
                    shunt,
                    bus,
                };
                let want = expected_power_mw(&reading, r_uohm);
                let goes_back = meter.last_sample().is_some_and(|l| t < l.t_ns);
                match meter.ingest_ina3221(t, reading, r_uohm) {
                    Ok(_) => {
                        let p = want.expect("accepted registers the datasheet refuses");
                        assert!(!goes_back);
                        let s = meter.last_sample().unwrap();
                        assert_eq!((s.t_ns, s.power_mw, s.energy_mj), (t, Some(p), None));
                        samples.push((t, p));
                        t_ns = t;
                    }
                    Err(e) => {
                        assert_eq!(meter, before, "refused reading changed the meter: {e:?}");
                        match e {
                            IngestError::Register(_) => assert!(want.is_none(), "{e:?}"),
                            IngestError::Meter(MeterError::TimeWentBack { .. }) => {
                                assert!(want.is_some() && goes_back)
                            }
                            other => panic!("unexpected {other:?}"),
                        }
                    }
                }
            }
            Op::Begin => {
                if open_at.is_none() {
                    meter.begin(WindowRef::Number(1)).unwrap();
                    open_at = Some(samples.len().saturating_sub(1));
                }
            }
            Op::End => match open_at.take() {
                Some(start) => {
                    let w = meter.end(WindowRef::Number(1)).unwrap();
                    assert!((0.0..=1.0).contains(&w.coverage), "{w:?}");
                    assert!(w.energy_j.is_finite() && w.energy_j >= 0.0, "{w:?}");
                    // Σ (pa + pb)/2 × dt over the window's samples, mW·ns → J.
                    let mut want_j = 0.0f64;
                    if let Some(window) = samples.get(start..) {
                        for pair in window.windows(2) {
                            let (ta, pa) = pair[0];
                            let (tb, pb) = pair[1];
                            want_j +=
                                (f64::from(pa) + f64::from(pb)) * 0.5 * (tb - ta) as f64 * 1e-12;
                        }
                    }
                    let tol = 1e-9 * want_j.abs().max(1e-6);
                    assert!(
                        (w.energy_j - want_j).abs() <= tol,
                        "window {} J, harness {want_j} J",
                        w.energy_j
                    );
                }
                None => {
                    assert_eq!(meter.end(WindowRef::Number(1)), Err(MeterError::NotOpen));
                    assert_eq!(meter, before);
                }
            },
        }
    }
});
