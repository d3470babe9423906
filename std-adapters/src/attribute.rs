//! Measured energy shared among the kernels that used it.
//!
//! A power recording says how much energy the GPU drew between two counter
//! updates; a kernel trace of the same run says which kernels ran then. This
//! module puts the two on one clock and shares each measured interval's
//! energy among the records (kernels, copies) that ran in it, in proportion
//! to what the model charges each of them for its part of the interval; the
//! time in the interval when nothing ran is charged to an idle bucket the
//! same way, at the model's idle power. Every interval's shares add up to
//! its measured energy, so the shares of the whole add up to the measured
//! total. The same overlaps give the rows a calibration fits
//! ([`calibration_intervals`]).
//!
//! # Clocks
//!
//! A recording's samples are on the sensor's clock; `clock_unix_ns` in its
//! `meta` line ([`crate::trace::TraceMeta::clock_unix_ns`]) is the Unix time
//! at its `t_ns = 0`. A Kineto trace's times are Unix nanoseconds. A
//! recording without the field needs the offset given by hand.
//!
//! # Measured intervals
//!
//! With an energy counter (NVML), an interval runs from one counter update
//! to the next: from the first sample that showed one value to the first
//! that showed the next, its energy the difference (a counter that goes back
//! starts afresh). With power alone (Jetson rails), an interval runs between
//! consecutive samples, its energy the mean of their powers times its length.
//! Only the intervals that overlap the profile are used.
//!
//! # Charges inside an interval
//!
//! A record's model charge ([`crate::profiles::compose::Charge`]) is spread
//! evenly over its duration, so its part of an interval is its charge times
//! the share of its duration inside the interval. Idle time is charged at the
//! model's power with nothing running: static plus uncore.

use std::collections::HashMap;
use std::fmt;

use wattledger_core::hardware::{HardwareModel, PRECISIONS};

use crate::calibrate::Interval;
use crate::profiles::compose::DeviceEstimate;
use crate::profiles::{DeviceTimeline, NameTable, RecordKind};
use crate::trace::Trace;

/// One measured interval, on the profile's clock (Unix nanoseconds).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MeasuredWindow {
    /// Start, in ns.
    pub start_ns: i64,
    /// End, in ns (after the start).
    pub end_ns: i64,
    /// Energy measured over it, in joules.
    pub energy_j: f64,
}

impl MeasuredWindow {
    /// Length, in seconds.
    pub fn duration_s(&self) -> f64 {
        (self.end_ns - self.start_ns) as f64 * 1e-9
    }
}

/// Why measured energy could not be attributed.
#[derive(Debug, Clone, PartialEq)]
pub enum AttributeError {
    /// The recording has no `clock_unix_ns` and no offset was given.
    NoClock,
    /// The recording has no device of that index.
    NoSuchDevice {
        /// The index asked for.
        device: u32,
        /// The indexes it has.
        available: Vec<u32>,
    },
    /// The device has fewer than two samples with energy or power.
    TooFewSamples {
        /// The device.
        device: u32,
    },
    /// No measured interval overlaps the profile.
    NoOverlap {
        /// The profile's span, Unix ns.
        profile: (i64, i64),
        /// The recording's span on the same clock, Unix ns.
        recording: (i64, i64),
    },
}

impl fmt::Display for AttributeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AttributeError::NoClock => f.write_str(
                "the recording has no clock_unix_ns (it was written before recordings carried one): \
                 give --offset NS, the Unix time in ns at the recording's t_ns = 0",
            ),
            AttributeError::NoSuchDevice { device, available } => write!(
                f,
                "the recording has no device {device}; it has {}",
                if available.is_empty() {
                    "none".to_string()
                } else {
                    available
                        .iter()
                        .map(u32::to_string)
                        .collect::<Vec<_>>()
                        .join(", ")
                }
            ),
            AttributeError::TooFewSamples { device } => write!(
                f,
                "device {device} has fewer than two samples with energy or power: nothing was measured"
            ),
            AttributeError::NoOverlap {
                profile,
                recording,
            } => write!(
                f,
                "the recording does not overlap the profile in time: the profile runs {} to {}, the recording {} to {} (Unix s); \
                 check that they are of the same run, or give --offset",
                unix_s(profile.0),
                unix_s(profile.1),
                unix_s(recording.0),
                unix_s(recording.1)
            ),
        }
    }
}

impl std::error::Error for AttributeError {}

fn unix_s(ns: i64) -> String {
    format!("{:.3}", ns as f64 * 1e-9)
}

/// The Unix time at the recording's `t_ns = 0`: `offset` when given, else
/// the recording's `clock_unix_ns`.
///
/// # Errors
/// [`AttributeError::NoClock`] when there is neither.
pub fn clock_of(trace: &Trace, offset: Option<i64>) -> Result<i64, AttributeError> {
    match (offset, trace.meta.clock_unix_ns) {
        (Some(o), _) => Ok(o),
        (None, Some(c)) => i64::try_from(c).map_err(|_| AttributeError::NoClock),
        (None, None) => Err(AttributeError::NoClock),
    }
}

/// Every measured interval of `device` in `trace`, on the Unix clock
/// (`clock_unix_ns` is the Unix time at the recording's `t_ns = 0`); see the
/// [module docs](self).
///
/// # Errors
/// [`AttributeError::NoSuchDevice`], [`AttributeError::TooFewSamples`].
pub fn measured_windows(
    trace: &Trace,
    device: u32,
    clock_unix_ns: i64,
) -> Result<Vec<MeasuredWindow>, AttributeError> {
    if !trace.devices.iter().any(|d| d.index == device) {
        return Err(AttributeError::NoSuchDevice {
            device,
            available: trace.devices.iter().map(|d| d.index).collect(),
        });
    }
    let at = |t: u64| clock_unix_ns.saturating_add(i64::try_from(t).unwrap_or(i64::MAX));
    let samples: Vec<_> = trace
        .samples
        .iter()
        .filter(|s| s.device == device)
        .map(|s| s.sample)
        .collect();
    let mut windows = Vec::new();
    if samples.iter().filter(|s| s.energy_mj.is_some()).count() >= 2 {
        let mut last: Option<(u64, u64)> = None;
        for s in &samples {
            let Some(e) = s.energy_mj else { continue };
            match last {
                Some((_, le)) if e == le => {}
                Some((lt, le)) if e > le && s.t_ns > lt => {
                    windows.push(MeasuredWindow {
                        start_ns: at(lt),
                        end_ns: at(s.t_ns),
                        energy_j: (e - le) as f64 * 1e-3,
                    });
                    last = Some((s.t_ns, e));
                }
                _ => last = Some((s.t_ns, e)),
            }
        }
    } else {
        let powered: Vec<(u64, u32)> = samples
            .iter()
            .filter_map(|s| s.power_mw.map(|p| (s.t_ns, p)))
            .collect();
        for w in powered.windows(2) {
            if let [(t0, p0), (t1, p1)] = *w
                && t1 > t0
            {
                let mean_w = (f64::from(p0) + f64::from(p1)) * 0.5e-3;
                windows.push(MeasuredWindow {
                    start_ns: at(t0),
                    end_ns: at(t1),
                    energy_j: mean_w * (t1 - t0) as f64 * 1e-9,
                });
            }
        }
    }
    if windows.is_empty() {
        return Err(AttributeError::TooFewSamples { device });
    }
    Ok(windows)
}

/// The measured intervals that overlap `[start_ns, end_ns)`.
///
/// # Errors
/// [`AttributeError::NoOverlap`] when none does.
pub fn overlapping(
    windows: &[MeasuredWindow],
    start_ns: i64,
    end_ns: i64,
) -> Result<Vec<MeasuredWindow>, AttributeError> {
    let kept: Vec<MeasuredWindow> = windows
        .iter()
        .filter(|w| w.end_ns > start_ns && w.start_ns < end_ns)
        .copied()
        .collect();
    if kept.is_empty() {
        let first = windows.first().map_or(0, |w| w.start_ns);
        let last = windows.last().map_or(0, |w| w.end_ns);
        return Err(AttributeError::NoOverlap {
            profile: (start_ns, end_ns),
            recording: (first, last),
        });
    }
    Ok(kept)
}

/// One record's part of one window.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Part {
    /// Index of the record.
    record: usize,
    /// Share of its duration inside the window (1 for a zero-length record
    /// whose instant lies in it).
    fraction: f64,
}

/// What ran in each window: each record's part, and the time nothing ran.
#[derive(Debug, Clone, PartialEq)]
struct Occupancy {
    parts: Vec<Vec<Part>>,
    idle_s: Vec<f64>,
}

/// Overlaps of the records (absolute times: `origin + start`) with `windows`
/// (sorted, not overlapping).
fn occupancy(estimate: &DeviceEstimate, windows: &[MeasuredWindow]) -> Occupancy {
    let mut parts: Vec<Vec<Part>> = vec![Vec::new(); windows.len()];
    let span = |c: &crate::profiles::compose::Charge| {
        let start = estimate
            .origin_ns
            .saturating_add(i64::try_from(c.energy.start_ns).unwrap_or(i64::MAX));
        let end = estimate
            .origin_ns
            .saturating_add(i64::try_from(c.energy.end_ns).unwrap_or(i64::MAX));
        (start, end)
    };
    // Busy time: the union of the records' spans, merged in start order.
    let mut busy: Vec<(i64, i64)> = Vec::new();
    for c in &estimate.charges {
        let (start, end) = span(c);
        let first = windows.partition_point(|w| w.end_ns <= start);
        for (i, w) in windows.iter().enumerate().skip(first) {
            if w.start_ns >= end && !(start == end && w.start_ns == start) {
                break;
            }
            let fraction = if end > start {
                let overlap = end.min(w.end_ns) - start.max(w.start_ns);
                overlap as f64 / (end - start) as f64
            } else if start >= w.start_ns && start < w.end_ns {
                1.0
            } else {
                0.0
            };
            if fraction > 0.0
                && let Some(list) = parts.get_mut(i)
            {
                list.push(Part {
                    record: c.record,
                    fraction,
                });
            }
        }
        match busy.last_mut() {
            Some(last) if start <= last.1 => last.1 = last.1.max(end),
            _ => busy.push((start, end)),
        }
    }
    let idle_s = windows
        .iter()
        .map(|w| {
            let first = busy.partition_point(|b| b.1 <= w.start_ns);
            let covered: i64 = busy
                .iter()
                .skip(first)
                .take_while(|b| b.0 < w.end_ns)
                .map(|b| b.1.min(w.end_ns) - b.0.max(w.start_ns))
                .filter(|&d| d > 0)
                .sum();
            ((w.end_ns - w.start_ns - covered).max(0)) as f64 * 1e-9
        })
        .collect();
    Occupancy { parts, idle_s }
}

/// Measured and modelled energy of one kernel name, over all its calls.
#[derive(Debug, Clone, PartialEq)]
pub struct KernelShare {
    /// The kernel's (or copy's) name.
    pub name: String,
    /// Calls.
    pub calls: u64,
    /// Time it ran, summed over calls, in seconds.
    pub time_s: f64,
    /// Measured energy attributed to it, in joules.
    pub measured_energy_j: f64,
    /// The model's charge for it, in joules.
    pub modelled_energy_j: f64,
}

/// The idle bucket: measured time with nothing running.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct IdleShare {
    /// Seconds with nothing running, inside the measured intervals.
    pub time_s: f64,
    /// Measured energy attributed to it, in joules.
    pub measured_energy_j: f64,
    /// The model's idle power over that time, in joules.
    pub modelled_energy_j: f64,
}

/// The model against one measured interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WindowError {
    /// Start, seconds from the profile's first record.
    pub start_s: f64,
    /// Length, in seconds.
    pub duration_s: f64,
    /// Measured energy, in joules.
    pub measured_j: f64,
    /// The model's energy for what ran in it, in joules.
    pub modelled_j: f64,
}

impl WindowError {
    /// `(modelled − measured) / measured`; `None` when nothing was measured.
    pub fn relative_error(&self) -> Option<f64> {
        (self.measured_j > 0.0).then(|| (self.modelled_j - self.measured_j) / self.measured_j)
    }
}

/// The result of [`attribute`].
#[derive(Debug, Clone, PartialEq)]
pub struct Attribution {
    /// Energy measured over the intervals that overlap the profile, in joules.
    pub measured_total_j: f64,
    /// The model's energy over the same intervals, in joules.
    pub modelled_total_j: f64,
    /// Seconds the intervals cover.
    pub measured_s: f64,
    /// Share of the profile's busy time (some record running) inside the
    /// measured intervals: 1 when the recording saw the whole run.
    pub coverage: f64,
    /// Nothing running.
    pub idle: IdleShare,
    /// One per name, most measured energy first.
    pub kernels: Vec<KernelShare>,
    /// One per measured interval, in time order.
    pub windows: Vec<WindowError>,
}

impl Attribution {
    /// Mean absolute relative error of the model over the windows that
    /// measured energy; `None` without any.
    pub fn window_mape(&self) -> Option<f64> {
        let errors: Vec<f64> = self
            .windows
            .iter()
            .filter_map(WindowError::relative_error)
            .map(f64::abs)
            .collect();
        (!errors.is_empty()).then(|| errors.iter().sum::<f64>() / errors.len() as f64)
    }

    /// The largest absolute relative error over the windows.
    pub fn window_max_error(&self) -> Option<f64> {
        self.windows
            .iter()
            .filter_map(WindowError::relative_error)
            .map(f64::abs)
            .max_by(f64::total_cmp)
    }
}

/// Power with nothing running, on `hw`: static plus uncore.
pub fn idle_power_w(hw: &HardwareModel) -> f64 {
    hw.static_power_w() + hw.uncore_power_w()
}

/// Shares each window's measured energy among the records of `timeline`
/// (composed as `estimate`) in proportion to the model's charges, and the
/// time nothing ran at `idle_power_w`; see the [module docs](self).
///
/// `windows` are the measured intervals, on the profile's clock, that
/// overlap the profile ([`overlapping`]). Within a window whose model
/// weights are all zero, the energy goes by time instead.
pub fn attribute(
    timeline: &DeviceTimeline,
    names: &NameTable,
    estimate: &DeviceEstimate,
    windows: &[MeasuredWindow],
    idle_power_w: f64,
) -> Attribution {
    let occ = occupancy(estimate, windows);
    let mut measured = vec![0.0; estimate.charges.len()];
    let mut idle = IdleShare::default();
    let mut errors = Vec::with_capacity(windows.len());
    for ((w, parts), &idle_s) in windows.iter().zip(&occ.parts).zip(&occ.idle_s) {
        let charge = |p: &Part| {
            estimate
                .charges
                .get(p.record)
                .map_or(0.0, |c| c.energy.total_energy_j * p.fraction)
        };
        let idle_model = idle_power_w * idle_s;
        let weights: f64 = parts.iter().map(charge).sum::<f64>() + idle_model;
        let duration = w.duration_s();
        let mut given = 0.0;
        for p in parts {
            let share = if weights > 0.0 {
                w.energy_j * charge(p) / weights
            } else {
                // No model weight at all: share by time.
                let own = estimate.charges.get(p.record).map_or(0.0, |c| {
                    (c.energy.end_ns - c.energy.start_ns) as f64 * 1e-9 * p.fraction
                });
                if duration > 0.0 {
                    w.energy_j * own / duration
                } else {
                    0.0
                }
            };
            if let Some(m) = measured.get_mut(p.record) {
                *m += share;
            }
            given += share;
        }
        // The idle bucket takes the rest, so the window's shares add up to
        // its measurement.
        idle.measured_energy_j += w.energy_j - given;
        idle.time_s += idle_s;
        idle.modelled_energy_j += idle_model;
        errors.push(WindowError {
            start_s: (w.start_ns - estimate.origin_ns) as f64 * 1e-9,
            duration_s: duration,
            measured_j: w.energy_j,
            modelled_j: weights,
        });
    }

    // Aggregate by name, keeping first-seen order for ties.
    let mut by_name: HashMap<u32, usize> = HashMap::new();
    let mut kernels: Vec<KernelShare> = Vec::new();
    for (c, m) in estimate.charges.iter().zip(&measured) {
        let Some(r) = timeline.records.get(c.record) else {
            continue;
        };
        let slot = *by_name.entry(r.name.0).or_insert_with(|| {
            kernels.push(KernelShare {
                name: names.get(r.name).unwrap_or("?").to_string(),
                calls: 0,
                time_s: 0.0,
                measured_energy_j: 0.0,
                modelled_energy_j: 0.0,
            });
            kernels.len() - 1
        });
        if let Some(k) = kernels.get_mut(slot) {
            k.calls += 1;
            k.time_s += r.duration_ns() as f64 * 1e-9;
            k.measured_energy_j += m;
            k.modelled_energy_j += c.energy.total_energy_j;
        }
    }
    kernels.sort_by(|a, b| b.measured_energy_j.total_cmp(&a.measured_energy_j));

    // Coverage: busy time inside the windows over all busy time.
    let busy_total: f64 = estimate
        .charges
        .iter()
        .map(|c| (c.energy.end_ns - c.energy.start_ns) as f64)
        .sum();
    let busy_inside: f64 = occ
        .parts
        .iter()
        .flatten()
        .map(|p| {
            estimate.charges.get(p.record).map_or(0.0, |c| {
                (c.energy.end_ns - c.energy.start_ns) as f64 * p.fraction
            })
        })
        .sum();
    let coverage = if busy_total > 0.0 {
        (busy_inside / busy_total).min(1.0)
    } else {
        1.0
    };
    Attribution {
        measured_total_j: windows.iter().map(|w| w.energy_j).sum(),
        modelled_total_j: errors.iter().map(|e| e.modelled_j).sum(),
        measured_s: windows.iter().map(MeasuredWindow::duration_s).sum(),
        coverage,
        idle,
        kernels,
        windows: errors,
    }
}

/// One calibration row per window: its length, `N·T` powered unit-seconds
/// (nothing is gated: the composition uses gating off), the active
/// unit-seconds of the kernels charged by power, the operations of those
/// charged by FLOPs (`flops_precision`), and the copies' bytes, each record
/// counted by the share of its duration inside the window.
pub fn calibration_intervals(
    timeline: &DeviceTimeline,
    estimate: &DeviceEstimate,
    windows: &[MeasuredWindow],
    units: u32,
    flops_precision: Option<wattledger_core::hardware::Precision>,
) -> Vec<Interval> {
    let occ = occupancy(estimate, windows);
    windows
        .iter()
        .zip(&occ.parts)
        .map(|(w, parts)| {
            let t = w.duration_s();
            let mut row = Interval::new(t, f64::from(units) * t, 0.0, w.energy_j);
            let mut ops = [0.0; PRECISIONS];
            for p in parts {
                let (Some(c), Some(r)) = (
                    estimate.charges.get(p.record),
                    timeline.records.get(p.record),
                ) else {
                    continue;
                };
                match r.kind {
                    RecordKind::Kernel => match (flops_precision, r.flops()) {
                        (Some(precision), Some(f)) => {
                            if let Some(slot) = ops.get_mut(precision.index()) {
                                *slot += f as f64 * p.fraction;
                            }
                        }
                        _ => row.active_unit_s += c.energy.active_unit_seconds * p.fraction,
                    },
                    RecordKind::Memcpy | RecordKind::Memset => {
                        row.bytes += r.bytes().unwrap_or(0) as f64 * p.fraction;
                    }
                }
            }
            row.ops = ops;
            // Rounding can put the active unit-seconds a hair above N·T.
            row.active_unit_s = row.active_unit_s.min(row.powered_unit_s);
            row
        })
        .collect()
}
