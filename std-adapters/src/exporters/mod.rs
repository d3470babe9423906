//! Exporters: where numbers go. The terminal tables ([`human`]), JSON
//! ([`json`]), CSV ([`csv`]) and Prometheus node_exporter text
//! ([`prometheus`]).
//!
//! Kept apart from the sensors as Scaphandre keeps them: an exporter takes
//! a finished report (a [`MeasureReport`] of measured windows, or a composed
//! [`crate::model_file::Outcome`]) and returns text; it never reads a device
//! or a file. Writing the text is the caller's; [`write_atomically`] is there
//! for files other programs read while they change.

pub mod csv;
pub mod daemon;
pub mod human;
pub mod json;
pub mod plot;
pub mod prometheus;

use std::path::Path;

use serde::Serialize;
use wattledger_core::compose::Flags;
use wattledger_core::meter::WindowFlags;

use wattledger_core::timeline::{TimelinePolicy, TimelineReport};

use crate::mig_warnings::MigWarning;
use crate::model_file::{Model, Outcome, SweepPoint};
use crate::monitor::DeviceWindowReport;
use crate::profiles::compose::DeviceEstimate;
use crate::profiles::{DeviceTimeline, NameTable};
use crate::sensors::{DeviceInfo, DeviceRole};

/// `value` in `unit` with an SI prefix so that 1 ≤ |mantissa| < 1000 and
/// four significant digits: `si(0.0123, "J")` is `"12.30 mJ"`.
pub fn si(value: f64, unit: &str) -> String {
    if value == 0.0 || !value.is_finite() {
        return format!("{value} {unit}");
    }
    const PREFIXES: [(f64, &str); 9] = [
        (1e12, "T"),
        (1e9, "G"),
        (1e6, "M"),
        (1e3, "k"),
        (1.0, ""),
        (1e-3, "m"),
        (1e-6, "µ"),
        (1e-9, "n"),
        (1e-12, "p"),
    ];
    let magnitude = value.abs();
    let (scale, prefix) = PREFIXES
        .iter()
        .copied()
        .find(|&(scale, _)| magnitude >= scale * 0.9995)
        .unwrap_or((1e-12, "p"));
    let m = value / scale;
    let decimals = if m.abs() >= 99.995 {
        1
    } else if m.abs() >= 9.9995 {
        2
    } else {
        3
    };
    format!("{m:.decimals$} {prefix}{unit}")
}

/// Index of the sweep point of least energy (the first of equals).
pub fn optimal(points: &[SweepPoint]) -> Option<usize> {
    points
        .iter()
        .enumerate()
        .filter(|(_, p)| p.energy_j.is_finite())
        .min_by(|(_, a), (_, b)| a.energy_j.total_cmp(&b.energy_j))
        .map(|(i, _)| i)
}

/// A fraction as a percentage with one decimal: `pct(0.8181)` is `"81.8 %"`.
pub fn pct(fraction: f64) -> String {
    format!("{:.1} %", fraction * 100.0)
}

/// What `measure` reports on one measured device.
#[derive(Debug, Clone, Serialize)]
pub struct DeviceResult {
    /// The sensor's source (`nvml`, `jetson`; a trace's recorded source).
    pub source: String,
    /// The device as measured: a single visible MIG instance is presented
    /// as itself, with the sensor's index of its parent.
    pub device: DeviceInfo,
    /// The physical GPU's name (same as `device`'s unless a MIG instance is
    /// presented).
    pub parent_name: String,
    /// `CUDA_VISIBLE_DEVICES` MIG instances this GPU's energy covers.
    pub mig_instances: Vec<String>,
    /// Energy over the window, joules.
    pub energy_j: f64,
    /// Length of the window, seconds.
    pub duration_s: f64,
    /// Energy over duration, when the window has a length.
    pub average_power_w: Option<f64>,
    /// Fraction of the window covered by readings.
    pub coverage: f64,
    /// `counter` or `power`: how the energy was obtained.
    pub method: String,
    /// The window's flags by name ([`window_flag_names`]).
    pub flags: Vec<&'static str>,
    /// Energy-counter resets seen.
    pub counter_resets: u32,
    /// Gaps longer than the meter's limit.
    pub gaps: u32,
    /// Power × time over the window, when the counter cannot be trusted.
    pub power_estimate_j: Option<f64>,
    /// Whether the meter measured for a MIG instance.
    pub is_mig: bool,
    /// The MIG instance's parent GPU, when `is_mig`.
    pub parent_uuid: String,
    /// The MIG instance's profile, when `is_mig` and known.
    pub mig_profile: String,
    /// Start of the window on the sensor's clock, seconds.
    pub start_s: f64,
    /// End of the window on the sensor's clock, seconds.
    pub end_s: f64,
    /// Samples the meter refused.
    pub rejected_samples: u64,
    /// The last read error other than a lost device.
    pub last_error: Option<String>,
    /// When the device was noticed lost, on the sensor's clock, seconds.
    pub lost_at_s: Option<f64>,
    /// Whether its energy is in the report's total: a lost device's is not
    /// (it covers only part of the window).
    pub in_total: bool,
}

/// Everything `measure` reports on one run (or one trace).
#[derive(Debug, Serialize)]
pub struct MeasureReport {
    /// Where readings came from, as the user named it.
    pub source: String,
    /// The measured command and its arguments (empty for a whole trace).
    pub command: Vec<String>,
    /// The command's exit code (`None`: killed by a signal, or no command).
    pub exit_code: Option<i32>,
    /// Wall-clock seconds the command ran.
    pub wall_s: Option<f64>,
    /// When the measurement began, seconds since the Unix epoch (`None`
    /// for a trace, whose wall-clock time is not recorded).
    pub start_unix_s: Option<f64>,
    /// One result per measured device.
    pub devices: Vec<DeviceResult>,
    /// The energies of the devices measured over the whole window, added
    /// up ([`total_energy_j`]): each physical GPU is measured once; a lost
    /// device is left out, and a rail inside a total is not added again.
    pub total_energy_j: f64,
    /// The total leaves out a device that was lost: it is the energy of
    /// the other devices only.
    pub incomplete: bool,
    /// The measurement was cut short by a signal (Ctrl-C, `kill`, a batch
    /// system's time limit): it covers the time until then.
    pub interrupted: bool,
    /// The signal that interrupted it (`SIGINT`, `SIGTERM`, `SIGHUP`).
    pub interrupted_by: Option<String>,
    /// The MIG rules' warnings ([`crate::mig_warnings::for_window`]).
    pub mig_warnings: Vec<MigWarning>,
    /// Everything else the user should know, in words.
    pub warnings: Vec<String>,
}

impl MeasureReport {
    /// A report on `devices` with its total and `incomplete` flag set from
    /// them (lost devices left out of the total), not interrupted, with no
    /// command, warnings or times: set those fields after.
    pub fn new(source: impl Into<String>, devices: Vec<DeviceResult>) -> MeasureReport {
        let total_energy_j = total_energy_j(&devices);
        let incomplete = devices.iter().any(|d| !d.in_total);
        MeasureReport {
            source: source.into(),
            command: Vec::new(),
            exit_code: None,
            wall_s: None,
            start_unix_s: None,
            devices,
            total_energy_j,
            incomplete,
            interrupted: false,
            interrupted_by: None,
            mig_warnings: Vec::new(),
            warnings: Vec::new(),
        }
    }

    /// One line per device that was lost, for the user: which, when, and
    /// that it is left out of the total.
    pub fn lost_device_warnings(&self) -> Vec<String> {
        self.devices
            .iter()
            .filter(|d| !d.in_total)
            .map(|d| {
                format!(
                    "{} device {} ({}) was lost after {} of the {} measured ({} covered); its {} is left out of the total, which is incomplete",
                    d.source,
                    d.device.index,
                    d.device.uuid,
                    si((d.lost_at_s.unwrap_or(d.end_s) - d.start_s).max(0.0), "s"),
                    si(d.duration_s, "s"),
                    pct(d.coverage),
                    si(d.energy_j, "J"),
                )
            })
            .collect()
    }
}

/// The report's total: the energies of the devices measured over the whole
/// window (not lost) that are not [`DeviceRole::Part`]s (a part is already
/// inside its board's total).
pub fn total_energy_j(devices: &[DeviceResult]) -> f64 {
    devices
        .iter()
        .filter(|d| d.in_total && d.device.role != Some(DeviceRole::Part))
        .map(|d| d.energy_j)
        .sum()
}

/// The names of the set `flags`, as the reports write them.
pub fn window_flag_names(flags: WindowFlags) -> Vec<&'static str> {
    [
        (WindowFlags::COUNTER_RESET, "counter_reset"),
        (WindowFlags::GAP, "gap"),
        (
            WindowFlags::SHORTER_THAN_UPDATE_PERIOD,
            "shorter_than_update_period",
        ),
        (WindowFlags::DEVICE_LOST, "device_lost"),
        (WindowFlags::BELOW_BASELINE, "below_baseline"),
        (WindowFlags::MIG_PARENT_ENERGY, "mig_parent_energy"),
        (WindowFlags::LATE_START, "late_start"),
    ]
    .into_iter()
    .filter(|(f, _)| flags.contains(*f))
    .map(|(_, n)| n)
    .collect()
}

impl DeviceResult {
    /// The result of one device's window report. For a device presented
    /// through [`crate::visible`], `parent_name` and `mig_instances` are the
    /// physical GPU's name and the visible instances its energy covers.
    pub fn from_window(r: &DeviceWindowReport) -> DeviceResult {
        let report = &r.report;
        let (parent_name, mig_instances) = match &r.measured {
            Some(m) => (
                m.device.name.clone(),
                m.mig_instances.iter().map(|i| i.uuid.clone()).collect(),
            ),
            None => (r.device.name.clone(), Vec::new()),
        };
        DeviceResult {
            source: r.source.clone(),
            device: r
                .measured
                .as_ref()
                .map_or_else(|| r.device.clone(), |m| m.presented()),
            parent_name,
            mig_instances,
            energy_j: report.energy_j,
            duration_s: report.duration_ns as f64 * 1e-9,
            average_power_w: report.mean_power_w(),
            coverage: report.coverage,
            method: format!("{:?}", report.method).to_lowercase(),
            flags: window_flag_names(report.flags),
            counter_resets: report.counter_resets,
            gaps: report.gaps,
            power_estimate_j: report.power_estimate_j,
            is_mig: report.mig.is_mig,
            parent_uuid: report.mig.parent_uuid.to_string(),
            mig_profile: report.mig.profile.to_string(),
            start_s: report.start_ns as f64 * 1e-9,
            end_s: report.end_ns as f64 * 1e-9,
            rejected_samples: r.rejected_samples,
            last_error: r.last_error.clone(),
            lost_at_s: r.lost_at_ns.map(|t| t as f64 * 1e-9),
            in_total: r.is_complete(),
        }
    }
}

/// The names of the set timeline `flags`, as the reports write them.
pub fn timeline_flag_names(flags: Flags) -> Vec<&'static str> {
    let mut names = compose_flag_names(flags);
    if flags.contains(Flags::WAKE_LATE) {
        names.push("wake_late");
    }
    names
}

/// The names of the set composer `flags`, as the reports write them.
pub fn compose_flag_names(flags: Flags) -> Vec<&'static str> {
    [
        (Flags::OVERSUBSCRIBED, "oversubscribed"),
        (Flags::LEGACY_PATH, "legacy_path"),
        (Flags::LEGACY_NO_THREADS, "legacy_no_threads"),
        (Flags::WOKE_DOMAINS, "woke_domains"),
        (Flags::GATED_DOMAINS, "gated_domains"),
    ]
    .into_iter()
    .filter(|(f, _)| flags.contains(*f))
    .map(|(_, n)| n)
    .collect()
}

/// What the user should know about a composed model: oversubscribed
/// stages and stages on the legacy whole-chip path.
pub fn estimate_warnings(model: &Model, out: &Outcome) -> Vec<String> {
    let units = model.hardware.units();
    let mut w = Vec::new();
    for s in &out.stages {
        if s.flags.contains(Flags::OVERSUBSCRIBED) {
            w.push(format!(
                "stage {}: oversubscribed, {} units requested of {units}; allocations were scaled by {units}/{} for the accounting",
                s.stage, s.units_requested, s.units_requested
            ));
        }
        if s.flags.contains(Flags::LEGACY_NO_THREADS) {
            w.push(format!(
                "stage {}: legacy path (no units_allocated) and no threads given; the whole chip counts as active",
                s.stage
            ));
        } else if s.flags.contains(Flags::LEGACY_PATH) {
            w.push(format!(
                "stage {}: legacy path (no units_allocated): the subgraph holds the whole chip and nothing can be gated",
                s.stage
            ));
        }
    }
    w
}

/// The stages, and the model, whose average power is above what the
/// hardware can draw ([`Model::max_power`]): such a model asks for work
/// faster, or dearer per operation, than the hardware can do, so its
/// latencies or energies are likely wrong for it.
pub fn power_warnings(model: &Model, out: &Outcome) -> Vec<String> {
    let Some(max) = model.max_power else {
        return Vec::new();
    };
    let mut w = Vec::new();
    let r = &out.report;
    if r.latency_s > 0.0 {
        let avg = r.energy.total_j / r.latency_s;
        if avg > max.watts {
            w.push(format!(
                "the model averages {} on {}, above the {} it can draw ({}); check the subgraphs' latencies and the hardware's energies",
                si(avg, "W"),
                model.hardware_source,
                si(max.watts, "W"),
                max.source
            ));
        }
    }
    // One line for the stages, however many: the count and the worst.
    let over: Vec<(u32, f64)> = out
        .stages
        .iter()
        .filter(|s| s.duration_s > 0.0)
        .map(|s| (s.stage, s.energy.total_j / s.duration_s))
        .filter(|&(_, avg)| avg > max.watts)
        .collect();
    if let Some(&(stage, avg)) = over.iter().max_by(|a, b| a.1.total_cmp(&b.1)) {
        w.push(format!(
            "{} of {} stages average above {} (the most: stage {stage}, {})",
            over.len(),
            out.stages.len(),
            si(max.watts, "W"),
            si(avg, "W")
        ));
    }
    w
}

/// Writes `text` to `path` through a temporary file in the same directory
/// and a rename, so readers (node_exporter) never see half a file.
///
/// # Errors
/// The I/O error of writing or renaming; the temporary file is removed.
pub fn write_atomically(path: &Path, text: &str) -> std::io::Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or_else(|| Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "wattledger".to_string());
    let tmp = dir.join(format!(".{name}.tmp.{}", std::process::id()));
    let result = std::fs::write(&tmp, text).and_then(|()| std::fs::rename(&tmp, path));
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn si_prefixes() {
        assert_eq!(si(0.0123, "J"), "12.30 mJ");
        assert_eq!(si(350.0, "W"), "350.0 W");
        assert_eq!(si(1.5e-6, "s"), "1.500 µs");
        assert_eq!(si(0.0, "J"), "0 J");
        assert_eq!(pct(0.8181818), "81.8 %");
    }

    #[test]
    fn savings_below_rounding_are_zero() {
        // The 1 M-kernel trace's timeout total: off's 1813 J plus 39.56 pJ of
        // rounding. Before, the table printed "-39.56 pJ -0.0 %".
        assert_eq!(saving_against(1813.0, 1813.0 + 39.56e-12), 0.0);
        assert_eq!(saving_against(1813.0, 1813.0 - 39.56e-12), 0.0);
        // Real differences stay, either sign: 1813 − 1812.99 = 0.01 J is
        // 5.5·10⁻⁶ of the total; always costing 208 J more stays negative.
        assert!((saving_against(1813.0, 1812.99) - 0.01).abs() < 1e-9);
        assert_eq!(saving_against(1813.0, 2021.0), -208.0);
        assert_eq!(saving_against(0.0, 0.0), 0.0);
    }
}

/// One device of a profiler trace, composed: what `estimate --trace` reports.
#[derive(Debug, Clone)]
pub struct TraceEstimate<'a> {
    /// The trace file, as the user named it.
    pub trace: String,
    /// The hardware's origin: a preset name or a file.
    pub hardware_source: String,
    /// The device's records, as read.
    pub timeline: &'a DeviceTimeline,
    /// The profile's kernel names.
    pub names: &'a NameTable,
    /// The composition under the policy asked for.
    pub estimate: DeviceEstimate,
    /// Totals under every policy that composed, `off` first: what each
    /// policy would save.
    pub policies: Vec<(TimelinePolicy, TimelineReport)>,
    /// The hardware model's name (e.g. `A100 SXM4 40GB`).
    pub hardware_name: String,
    /// What the hardware model calls a unit (`SM`).
    pub unit_name: String,
}

impl TraceEstimate<'_> {
    /// The total energy under `off`, when it composed.
    pub fn off_total_j(&self) -> Option<f64> {
        self.policies
            .iter()
            .find(|(p, _)| *p == TimelinePolicy::Off)
            .map(|(_, r)| r.total_energy_j)
    }

    /// What `r`'s policy saves against `off`, when `off` composed: the
    /// difference of the totals, 0 when it is below 10⁻⁹ of off's total
    /// (rounding, not a saving; the reason is at `saving_against`).
    pub fn saving_j(&self, r: &TimelineReport) -> Option<f64> {
        self.off_total_j()
            .map(|off| saving_against(off, r.total_energy_j))
    }

    /// The record a charge is about.
    pub(crate) fn record(&self, index: usize) -> Option<&crate::profiles::KernelRecord> {
        self.timeline.records.get(index)
    }

    /// The name of a record.
    pub(crate) fn name_of(&self, index: usize) -> &str {
        self.record(index)
            .and_then(|r| self.names.get(r.name))
            .unwrap_or("")
    }
}

/// `off − total`, or 0 when the two differ by less than 10⁻⁹ of `off`.
///
/// Each policy's total adds the same kernels' charges, but idle time is
/// booked by a different path per policy (under `off` as the span less the
/// active time, under the others as exact integrals or per idle period), so
/// a policy that gates nothing can still land a few ulps away from `off`:
/// a 1 M-kernel trace showed timeout and oracle "saving" −39.56 pJ of
/// 1.813 kJ (2·10⁻¹⁴). Sums of 10⁶ terms round to within about 10⁻¹⁰ of
/// their value, and the tables print savings to 0.1 %, so 10⁻⁹ separates
/// rounding from any saving worth a digit.
fn saving_against(off: f64, total: f64) -> f64 {
    let d = off - total;
    if d.abs() <= 1e-9 * off.abs() { 0.0 } else { d }
}

/// `part / whole`, 0 when the whole is 0.
pub(crate) fn share(part: f64, whole: f64) -> f64 {
    if whole > 0.0 { part / whole } else { 0.0 }
}
