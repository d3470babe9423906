//! Checks for a run on a fake GPU that draws a constant power.
//!
//! Two checks, one sharp and one physical:
//!
//! - [`assert_counter_rise`]: the window's energy is exactly the rise of the
//!   energy counter between the recorded samples at the window's two ends.
//!   Nothing is lost, added or counted twice, to the millijoule.
//! - [`assert_power_times_duration`]: that energy is the fake's power times
//!   the window's duration. The fake's counter is the exact integral of its
//!   power, truncated to whole mJ at each read (up to 1 mJ lost at each end),
//!   but it reads its clock inside the NVML call and wattledger stamps the
//!   sample just after the call returns. On a loaded machine the thread can be
//!   descheduled in between (a CI run saw 17 mJ at 350 W, about 49 µs), so
//!   the duration may be off by the difference of the two ends' delays.
//!   [`STAMP_SLACK_S`] allows for that; the sharp check above is what catches
//!   a lost or doubled interval.
#![allow(dead_code)]

use serde_json::Value;

/// Delay allowed between the fake's clock read and wattledger's timestamp,
/// at the two ends of the window together: 5 ms, far above what an idle
/// machine shows (a few µs), far below one 10 ms polling interval lost.
pub const STAMP_SLACK_S: f64 = 0.005;

/// `energy_j` is `watts · duration_s`, within the counter's 2 mJ of
/// truncation and [`STAMP_SLACK_S`] of stamping delay.
pub fn assert_power_times_duration(energy_j: f64, duration_s: f64, watts: f64) {
    let bound = 0.002 + watts * STAMP_SLACK_S + 1e-9;
    assert!(
        (energy_j - watts * duration_s).abs() <= bound,
        "{energy_j} J vs {watts} W · {duration_s} s (allowed ±{bound} J)"
    );
}

/// The counter (mJ) of `device`'s recorded sample stamped at `t_s`, from the
/// lines of a `wattledger-trace/1` recording.
fn counter_at(trace: &str, device: u64, t_s: f64) -> u64 {
    let t_ns = (t_s * 1e9).round();
    trace
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v["type"] == "sample" && v["device"].as_u64() == Some(device))
        // The report gives times as f64 seconds: 1 µs is far above their
        // rounding and far below the polling interval.
        .find(|v| (v["t_ns"].as_f64().unwrap() - t_ns).abs() < 1000.0)
        .and_then(|v| v["energy_mj"].as_u64())
        .unwrap_or_else(|| panic!("no sample of device {device} at {t_s} s"))
}

/// The report's per-device result `dev` (with `start_s`, `end_s` and
/// `energy_j`) is the counter's rise between the samples at its two ends in
/// `trace`, to the millijoule.
pub fn assert_counter_rise(trace: &str, dev: &Value) {
    let device = dev["device"]["index"].as_u64().unwrap();
    let first = counter_at(trace, device, dev["start_s"].as_f64().unwrap());
    let last = counter_at(trace, device, dev["end_s"].as_f64().unwrap());
    let energy_mj = (dev["energy_j"].as_f64().unwrap() * 1000.0).round();
    assert_eq!(energy_mj, (last - first) as f64, "{dev}");
}
