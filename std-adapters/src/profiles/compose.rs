//! From a profiler trace's timeline to power states and per-kernel charges.
//!
//! The glue between what a trace recorded ([`DeviceTimeline`]) and the core:
//! each kernel's launch configuration goes through the occupancy mapper
//! ([`wattledger_core::launch::occupancy`]) to the units it held, and the
//! kernels, with the copies, go through the timeline composer
//! ([`wattledger_core::timeline::Timeline`]) under a gating policy. The
//! result ([`DeviceEstimate`]) holds one [`Charge`] per record, in the
//! timeline's order, beside the composer's [`TimelineReport`].
//!
//! # Which hardware, which limits
//!
//! Two questions, answered separately because a user may cost a trace on
//! hardware other than the one it ran on:
//!
//! - **the hardware model** (powers, energies, `N`): the caller's, or
//!   [`catalog_preset`] from the trace's device name (A100 → `a100-40gb`,
//!   H100 → `h100-sxm5`, …); a name the catalog does not know is
//!   [`ComposeError::UnknownDevice`], listing the presets;
//! - **the per-SM limits** the occupancy calculation needs: the catalog's
//!   figures for the device the trace names (else for the device the hardware
//!   model names, else for a catalog device of the recorded compute
//!   capability), with every limit the trace recorded in `deviceProperties`
//!   taking precedence ([`limits_for`]).
//!
//! The SM count used by the mapper is always the hardware model's `N`: the
//! composer cannot give a kernel more units than the model has, and a model
//! of another GPU is asked "what if this ran here" with the launch's blocks.
//! When the trace records a different SM count, [`DeviceEstimate::notes`]
//! says so.
//!
//! # Time
//!
//! The trace's nanoseconds are shifted so that the device's first record
//! starts at 0; every time in the result is counted from there.
//!
//! # Work
//!
//! A trace gives a kernel's FLOPs (from its operator) but not their
//! precision. Unless [`ComposeOptions::flops_precision`] says which, kernels
//! are charged by time at the model's `active_power_w` (an upper bound), not
//! by FLOPs. Copies and memsets are charged their recorded bytes.

use std::fmt;

use wattledger_core::devices::{Device, DeviceLimits};
use wattledger_core::hardware::{HardwareModel, Precision};
use wattledger_core::launch::{self, Dim3, Launch, LaunchError, Occupancy};
use wattledger_core::presets::Preset;
use wattledger_core::state::{PowerState, STATES};
use wattledger_core::timeline::{
    self, Engine, Interval, Timeline, TimelineError, TimelinePolicy, TimelineReport, TimelineSink,
    Work,
};

use super::{DeviceTimeline, KernelRecord, NameTable, RecordKind};

/// Kernels and copies in flight at once that the composer accepts: four
/// times the 128 concurrent kernels a CUDA device runs, plus room for copies.
/// The composer is about 100 bytes per slot and is built on the stack before
/// it is boxed, so this is kept well below a thread's stack.
pub const IN_FLIGHT: usize = 512;

/// Groups of recently freed gating domains the composer tracks (kernels
/// ending at distinct instants within `t_be + t_wake`, about 17 µs on the
/// data-centre presets).
pub const IDLE_GROUPS: usize = 1024;

/// The composer the glue runs.
type TraceTimeline = Timeline<IN_FLIGHT, IDLE_GROUPS>;

/// How to compose a timeline.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct ComposeOptions {
    /// When to power down free gating domains.
    pub policy: TimelinePolicy,
    /// The precision of the FLOPs a trace recorded. `None` (the default):
    /// FLOPs are ignored and kernels are charged `active_power_w` by time.
    pub flops_precision: Option<Precision>,
    /// Also sample the composition over time in this many equal bins of the
    /// span ([`DeviceEstimate::series`]), for plots; `0`: no series.
    pub series_bins: u32,
}

/// Where the per-SM limits came from, most trusted first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LimitsSource {
    /// The catalog's figures for the device the trace names (with what the
    /// trace recorded in `deviceProperties` taking precedence).
    TraceDevice(Device),
    /// The catalog's figures for the device the hardware model names.
    HardwareModel(Device),
    /// The catalog's figures for a device of the compute capability the
    /// trace recorded.
    ComputeCapability(Device),
}

impl LimitsSource {
    /// The catalog device whose figures were the base.
    pub fn device(self) -> Device {
        match self {
            LimitsSource::TraceDevice(d)
            | LimitsSource::HardwareModel(d)
            | LimitsSource::ComputeCapability(d) => d,
        }
    }
}

/// What one record of the timeline held and was charged.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Charge {
    /// Index of the record in [`DeviceTimeline::records`].
    pub record: usize,
    /// The occupancy mapper's result for a kernel; `None` for a copy or
    /// memset, which holds no compute units.
    pub launch: Option<Occupancy>,
    /// What the composer charged it (times counted from the device's first
    /// record; `units` rounded up to whole gating domains).
    pub energy: timeline::KernelRecord,
}

impl Charge {
    /// Units the launch asked for: `min(N, blocks)` (0 for a copy).
    pub fn units_allocated(&self) -> u32 {
        self.launch.map_or(0, |o| o.units_allocated)
    }

    /// The grid's blocks per unit (PyTorch's `blocks per SM`; 0 for a copy).
    pub fn blocks_per_unit(&self) -> f64 {
        self.launch.map_or(0.0, |o| o.blocks_per_sm)
    }

    /// Estimated achieved occupancy, 0…1 (PyTorch's `est. achieved
    /// occupancy %` / 100; 0 for a copy).
    pub fn occupancy(&self) -> f64 {
        self.launch.map_or(0.0, |o| o.estimated_occupancy)
    }

    /// Waves of resident blocks (0 for a copy).
    pub fn waves(&self) -> u64 {
        self.launch.map_or(0, |o| o.waves)
    }
}

/// One device's timeline, composed.
#[derive(Debug, Clone, PartialEq)]
pub struct DeviceEstimate {
    /// The CUDA device id.
    pub device: u32,
    /// The device name the trace recorded (empty when it recorded none).
    pub device_name: String,
    /// The trace's time of the device's first record, in ns; result times
    /// are counted from here.
    pub origin_ns: i64,
    /// The per-SM limits the mapper used (`sms` is the model's `N`).
    pub limits: DeviceLimits,
    /// Where they came from.
    pub limits_source: LimitsSource,
    /// One per record of the timeline, in its order (start time).
    pub charges: Vec<Charge>,
    /// The composer's totals.
    pub report: TimelineReport,
    /// What the reader should know about the assumptions made, one sentence each.
    pub notes: Vec<String>,
    /// The composition over time, when [`ComposeOptions::series_bins`] asked for it.
    pub series: Option<Series>,
}

/// The composition over time, in equal bins of the span.
///
/// Read off the composer's own running totals: before each record, the
/// composer is advanced to every bin edge the record starts after
/// ([`Timeline::advance_to`]) and its report taken there, so the bins add up
/// to the report and nothing about the policies is recomputed here. What a
/// policy books when an idle period ends (a wake's `Transitioning` time and,
/// under `oracle`, the period's first `t_be`) lands in the bin where the
/// period ends: at most `t_be + t_wake` (about 17 µs on the data-centre
/// presets) away from where it happened.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// Width of a bin, in ns (at least 1).
    pub bin_ns: u64,
    /// Per bin: unit-seconds in each power state (in [`PowerState::ALL`]
    /// order) and joules, over the bin.
    pub bins: Vec<SeriesBin>,
}

/// One bin of a [`Series`].
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct SeriesBin {
    /// Unit-seconds per power state, in [`PowerState::ALL`] order.
    pub unit_seconds: [f64; STATES],
    /// Joules.
    pub energy_j: f64,
}

/// Running totals at one bin edge.
#[derive(Debug, Clone, Copy, Default)]
struct Point {
    unit_seconds: [f64; STATES],
    energy_j: f64,
}

impl Point {
    fn of(r: &TimelineReport) -> Point {
        Point {
            unit_seconds: PowerState::ALL.map(|s| r.states.get(s).unit_seconds),
            energy_j: r.total_energy_j,
        }
    }
}

/// Takes the composer's totals at each bin edge.
struct Sampler {
    bin_ns: u64,
    bins: u32,
    /// Totals at each edge passed so far, from the edge at 0.
    edges: Vec<Point>,
}

impl Sampler {
    fn new(span_ns: u64, bins: u32) -> Sampler {
        let bins = bins.max(1);
        Sampler {
            bin_ns: span_ns.div_ceil(u64::from(bins)).max(1),
            bins,
            edges: vec![Point::default()],
        }
    }

    /// The next edge not yet sampled, if it is at or before `t_ns`.
    fn due(&self, t_ns: u64) -> Option<u64> {
        let next = (self.edges.len() as u64).saturating_mul(self.bin_ns);
        (self.edges.len() <= self.bins as usize && next <= t_ns).then_some(next)
    }

    /// Advances the composer through every edge up to `t_ns`, sampling each.
    fn through<S: TimelineSink>(
        &mut self,
        t_ns: u64,
        composer: &mut TraceTimeline,
        sink: &mut S,
    ) -> Result<(), TimelineError> {
        while let Some(edge) = self.due(t_ns) {
            composer.advance_to(edge, sink)?;
            self.edges.push(Point::of(&composer.report()));
        }
        Ok(())
    }

    fn finish(mut self, end: &TimelineReport) -> Series {
        // What the end booked (idle periods closed) goes to the last bin.
        let last = Point::of(end);
        while self.edges.len() <= self.bins as usize {
            self.edges.push(last);
        }
        if let Some(e) = self.edges.last_mut() {
            *e = last;
        }
        let bins = self
            .edges
            .windows(2)
            .map(|w| {
                let mut b = SeriesBin {
                    energy_j: w[1].energy_j - w[0].energy_j,
                    ..SeriesBin::default()
                };
                for (i, u) in b.unit_seconds.iter_mut().enumerate() {
                    *u = w[1].unit_seconds[i] - w[0].unit_seconds[i];
                }
                b
            })
            .collect();
        Series {
            bin_ns: self.bin_ns,
            bins,
        }
    }
}

/// Kernels of one name on one device, summed.
#[derive(Debug, Clone, PartialEq)]
pub struct NameSummary {
    /// The kernel name.
    pub name: String,
    /// Launches.
    pub calls: u64,
    /// Their durations, summed, in seconds.
    pub seconds: f64,
    /// Their charges, summed, in joules.
    pub energy_j: f64,
    /// Rank by energy, from 1.
    pub rank_by_energy: usize,
    /// Rank by time, from 1.
    pub rank_by_time: usize,
}

impl DeviceEstimate {
    /// Kernels (not copies) aggregated by name, costliest in energy first,
    /// each with its rank by time beside it: the question "which kernels cost
    /// the most energy, not the most time".
    pub fn kernels_by_name(
        &self,
        timeline: &DeviceTimeline,
        names: &NameTable,
    ) -> Vec<NameSummary> {
        let mut by: std::collections::HashMap<super::NameId, NameSummary> =
            std::collections::HashMap::new();
        for c in self.charges.iter().filter(|c| c.launch.is_some()) {
            let Some(r) = timeline.records.get(c.record) else {
                continue;
            };
            let s = by.entry(r.name).or_insert_with(|| NameSummary {
                name: names.get(r.name).unwrap_or("").to_string(),
                calls: 0,
                seconds: 0.0,
                energy_j: 0.0,
                rank_by_energy: 0,
                rank_by_time: 0,
            });
            s.calls += 1;
            s.seconds += (c.energy.end_ns - c.energy.start_ns) as f64 * 1e-9;
            s.energy_j += c.energy.total_energy_j;
        }
        let mut v: Vec<NameSummary> = by.into_values().collect();
        v.sort_by(|a, b| b.seconds.total_cmp(&a.seconds).then(a.name.cmp(&b.name)));
        for (i, s) in v.iter_mut().enumerate() {
            s.rank_by_time = i + 1;
        }
        v.sort_by(|a, b| b.energy_j.total_cmp(&a.energy_j).then(a.name.cmp(&b.name)));
        for (i, s) in v.iter_mut().enumerate() {
            s.rank_by_energy = i + 1;
        }
        v
    }
}

/// Why a timeline could not be composed. Each names the record at fault.
#[derive(Debug, Clone, PartialEq)]
pub enum ComposeError {
    /// The trace's device is not in the catalog and no hardware was given.
    UnknownDevice {
        /// The CUDA device id.
        device: u32,
        /// The name the trace recorded (empty when none).
        name: String,
    },
    /// No per-SM limits: neither the trace's device, nor the hardware
    /// model, nor the recorded compute capability is in the catalog.
    NoLimits {
        /// The CUDA device id.
        device: u32,
        /// The name the trace recorded (empty when none).
        name: String,
    },
    /// The timeline holds no kernel.
    NoKernels {
        /// The CUDA device id.
        device: u32,
    },
    /// A kernel's launch does not fit the device.
    Launch {
        /// Index of the record in [`DeviceTimeline::records`].
        record: usize,
        /// Its name.
        name: String,
        /// Why.
        error: LaunchError,
    },
    /// The composer refused a record (or the hardware model).
    Timeline {
        /// Index of the record, `None` for a refusal not about one.
        record: Option<usize>,
        /// Its name (empty when `record` is `None`).
        name: String,
        /// Why.
        error: TimelineError,
    },
}

impl fmt::Display for ComposeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ComposeError::UnknownDevice { device, name } => write!(
                f,
                "device {device} (\"{name}\") is not in the catalog; pass --hardware with a preset ({}) or a hardware file",
                preset_names()
            ),
            ComposeError::NoLimits { device, name } => write!(
                f,
                "device {device} (\"{name}\"): no per-SM limits known (the trace names no catalog GPU, and neither do the hardware model or the compute capability); use a hardware preset of a catalog GPU"
            ),
            ComposeError::NoKernels { device } => {
                write!(f, "device {device}: the timeline holds no kernel")
            }
            ComposeError::Launch {
                record,
                name,
                error,
            } => write!(f, "record {record} (\"{name}\"): {error}"),
            ComposeError::Timeline {
                record: Some(record),
                name,
                error,
            } => write!(f, "record {record} (\"{name}\"): {error}"),
            ComposeError::Timeline {
                record: None,
                error,
                ..
            } => write!(f, "{error}"),
        }
    }
}

impl std::error::Error for ComposeError {}

/// Every preset's name, comma-separated, for error messages.
pub fn preset_names() -> String {
    Preset::ALL
        .iter()
        .map(|p| p.name())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The preset that stands for a catalog device, `None` where the catalog has
/// limits but no power figures (V100, H100 PCIe).
pub fn preset_of(device: Device) -> Option<Preset> {
    match device {
        Device::A100 => Some(Preset::A100_40gb),
        Device::H100 => Some(Preset::H100Sxm5),
        Device::H200 => Some(Preset::H200),
        Device::B200 => Some(Preset::B200),
        // The full chip, all 8 TPCs: the mode a profiling run most likely used.
        Device::AgxOrin => Some(Preset::AgxOrinMaxn),
        Device::V100 | Device::H100Pcie => None,
    }
}

/// The preset for the device a timeline's trace names.
///
/// # Errors
/// [`ComposeError::UnknownDevice`] when the trace names no device, or one
/// the catalog has no preset for.
pub fn catalog_preset(timeline: &DeviceTimeline) -> Result<Preset, ComposeError> {
    let name = device_name(timeline);
    Device::from_name(&name)
        .and_then(preset_of)
        .ok_or(ComposeError::UnknownDevice {
            device: timeline.device,
            name,
        })
}

fn device_name(timeline: &DeviceTimeline) -> String {
    timeline
        .properties
        .as_ref()
        .map(|p| p.name.clone())
        .unwrap_or_default()
}

/// The per-SM limits for a timeline's kernels on `hw` (see the module
/// documentation), with `sms` set to the model's `N`.
///
/// # Errors
/// [`ComposeError::NoLimits`] when no catalog device fits.
pub fn limits_for(
    timeline: &DeviceTimeline,
    hw: &HardwareModel,
) -> Result<(DeviceLimits, LimitsSource), ComposeError> {
    let props = timeline.properties.as_ref();
    let capability = props.and_then(|p| p.compute_capability);
    let source = props
        .and_then(|p| Device::from_name(&p.name))
        .map(LimitsSource::TraceDevice)
        .or_else(|| Device::from_name(hw.spec().name.as_str()).map(LimitsSource::HardwareModel))
        .or_else(|| {
            let (major, minor) = capability?;
            Device::ALL
                .into_iter()
                .find(|d| {
                    let l = d.limits();
                    (l.compute_major, l.compute_minor) == (major, minor)
                })
                .map(LimitsSource::ComputeCapability)
        })
        .ok_or_else(|| ComposeError::NoLimits {
            device: timeline.device,
            name: device_name(timeline),
        })?;
    let mut l = source.device().limits();
    // Only the trace's own device's figures override the catalog's: the
    // recorded limits of a GPU are not those of another one.
    if let (Some(p), LimitsSource::TraceDevice(_) | LimitsSource::ComputeCapability(_)) =
        (props, source)
    {
        let set = |field: &mut u32, v: Option<u32>| {
            if let Some(v) = v.filter(|&v| v > 0) {
                *field = v;
            }
        };
        set(&mut l.warp_size, p.warp_size);
        set(&mut l.max_threads_per_block, p.max_threads_per_block);
        set(&mut l.max_threads_per_sm, p.max_threads_per_sm);
        set(&mut l.max_warps_per_sm, p.max_warps_per_sm);
        set(&mut l.max_blocks_per_sm, p.max_blocks_per_sm);
        set(&mut l.registers_per_sm, p.registers_per_sm);
        set(&mut l.registers_per_block, p.registers_per_block);
        set(&mut l.shared_memory_per_sm, p.shared_memory_per_sm);
        set(
            &mut l.shared_memory_per_block,
            p.shared_memory_per_block_optin
                .or(p.shared_memory_per_block),
        );
        if let Some((major, minor)) = p.compute_capability {
            l.compute_major = major;
            l.compute_minor = minor;
        }
    }
    l.sms = hw.units();
    Ok((l, source))
}

/// The launch of a kernel record, all its shared memory counted as static
/// (the trace does not split it; the mapper adds the two).
pub fn launch_of(r: &KernelRecord) -> Launch {
    Launch {
        grid: Dim3::new(r.grid[0], r.grid[1], r.grid[2]),
        block: Dim3::new(
            u32::from(r.block[0]),
            u32::from(r.block[1]),
            u32::from(r.block[2]),
        ),
        registers_per_thread: u32::from(r.registers_per_thread),
        static_shared_bytes: r.shared_memory_bytes,
        dynamic_shared_bytes: 0,
    }
}

/// Writes the composer's records into the charges, by their id (the record
/// index).
struct Fill<'a> {
    charges: &'a mut [Charge],
}

impl TimelineSink for Fill<'_> {
    fn kernel(&mut self, record: &timeline::KernelRecord) {
        if let Some(charge) = usize::try_from(record.id)
            .ok()
            .and_then(|i| self.charges.get_mut(i))
        {
            charge.energy = *record;
        }
    }
}

/// A device's timeline with each kernel's launch mapped onto the hardware:
/// what the composer needs under any gating policy.
///
/// The occupancy calculation does not depend on the policy, so a caller
/// that composes one timeline under several policies (a report with every
/// policy's savings) maps it once here, then calls
/// [`MappedTimeline::compose`] for the policy whose per-record charges it
/// shows and [`MappedTimeline::totals`] for the others, which keeps no
/// per-record charges at all.
#[derive(Debug, Clone)]
pub struct MappedTimeline<'a> {
    timeline: &'a DeviceTimeline,
    hw: &'a HardwareModel,
    names: &'a NameTable,
    limits: DeviceLimits,
    limits_source: LimitsSource,
    /// Per record, an index into `occupancies` (a trace repeats a few
    /// launch configurations a million times: each is mapped once).
    /// Records from the first refused launch on are absent.
    launch_of_record: Vec<u32>,
    /// The distinct launches' mappings; `None` for copies.
    occupancies: Vec<Option<Occupancy>>,
    /// The first launch the device cannot run; composing stops there, as
    /// it would have had the mapping been done record by record.
    refused: Option<(usize, LaunchError)>,
}

/// Maps every launch of `timeline` onto `hw` (see [`MappedTimeline`]).
///
/// `names` is the profile's name table, for error messages.
///
/// # Errors
/// [`ComposeError::NoKernels`], [`ComposeError::NoLimits`]. A launch the
/// device cannot run is reported when the timeline is composed, in record
/// order with the composer's own refusals.
pub fn map_device<'a>(
    timeline: &'a DeviceTimeline,
    hw: &'a HardwareModel,
    names: &'a NameTable,
) -> Result<MappedTimeline<'a>, ComposeError> {
    if timeline.kernels().next().is_none() {
        return Err(ComposeError::NoKernels {
            device: timeline.device,
        });
    }
    let (limits, limits_source) = limits_for(timeline, hw)?;
    // Copies hold no units: index 0 for all of them.
    let mut occupancies: Vec<Option<Occupancy>> = vec![None];
    let mut seen: std::collections::HashMap<Launch, u32> = std::collections::HashMap::new();
    let mut launch_of_record = Vec::with_capacity(timeline.records.len());
    let mut refused = None;
    for (i, r) in timeline.records.iter().enumerate() {
        let index = match r.kind {
            RecordKind::Kernel => {
                let launch = launch_of(r);
                match seen.get(&launch) {
                    Some(&index) => index,
                    None => match launch::occupancy(&limits, &launch) {
                        Ok(o) => {
                            // Fewer distinct launches than records, and
                            // records are counted in `usize`.
                            let index = occupancies.len() as u32;
                            occupancies.push(Some(o));
                            seen.insert(launch, index);
                            index
                        }
                        Err(error) => {
                            refused = Some((i, error));
                            break;
                        }
                    },
                }
            }
            RecordKind::Memcpy | RecordKind::Memset => 0,
        };
        launch_of_record.push(index);
    }
    Ok(MappedTimeline {
        timeline,
        hw,
        names,
        limits,
        limits_source,
        launch_of_record,
        occupancies,
        refused,
    })
}

impl MappedTimeline<'_> {
    /// The occupancy of record `i` (`None` for a copy or past a refusal).
    fn occupancy(&self, i: usize) -> Option<Occupancy> {
        let index = *self.launch_of_record.get(i)?;
        self.occupancies.get(index as usize).copied().flatten()
    }

    /// Composes the timeline under `options`, with one [`Charge`] per
    /// record.
    ///
    /// # Errors
    /// [`ComposeError::Launch`] for a launch the device cannot run,
    /// [`ComposeError::Timeline`] for a record or hardware model the
    /// composer refuses (more than [`IN_FLIGHT`] in flight, a policy the
    /// hardware cannot gate with).
    pub fn compose(&self, options: &ComposeOptions) -> Result<DeviceEstimate, ComposeError> {
        let mut charges: Vec<Charge> = (0..self.launch_of_record.len())
            .map(|record| Charge {
                record,
                launch: self.occupancy(record),
                // Every record pushed ends by `finish`, so every charge is
                // filled.
                energy: timeline::KernelRecord::default(),
            })
            .collect();
        let (report, series) = self.run(
            options,
            &mut Fill {
                charges: &mut charges,
            },
        )?;
        Ok(self.estimate(options, charges, report, series))
    }

    /// The totals [`MappedTimeline::compose`] reports under `options`,
    /// exactly, without keeping a charge per record.
    ///
    /// # Errors
    /// As [`MappedTimeline::compose`].
    pub fn totals(&self, options: &ComposeOptions) -> Result<TimelineReport, ComposeError> {
        self.run(options, &mut ()).map(|(report, _)| report)
    }

    /// Pushes every record through the composer under `options`.
    fn run<S: TimelineSink>(
        &self,
        options: &ComposeOptions,
        sink: &mut S,
    ) -> Result<(TimelineReport, Option<Series>), ComposeError> {
        let timeline = self.timeline;
        let names = self.names;
        let origin_ns = timeline.records.first().map_or(0, |r| r.start_ns);
        let whole = |error| ComposeError::Timeline {
            record: None,
            name: String::new(),
            error,
        };
        let mut composer: Box<TraceTimeline> =
            Box::new(TraceTimeline::new(self.hw.clone(), options.policy, 0).map_err(whole)?);
        let last_end = timeline.records.iter().map(|r| r.end_ns).max();
        let span_ns =
            u64::try_from(last_end.unwrap_or(origin_ns).saturating_sub(origin_ns)).unwrap_or(0);
        let mut sampler =
            (options.series_bins > 0).then(|| Sampler::new(span_ns, options.series_bins));
        for (i, r) in timeline.records.iter().enumerate() {
            let refused = |error| ComposeError::Timeline {
                record: Some(i),
                name: names.get(r.name).unwrap_or("").to_string(),
                error,
            };
            // Records are sorted and never end before they start (the
            // readers check), so these differences are ≥ 0.
            let rel = |t: i64| u64::try_from(t.saturating_sub(origin_ns)).unwrap_or(0);
            let (engine, work, bytes) = match r.kind {
                RecordKind::Kernel => {
                    if let Some((_, error)) = self.refused.filter(|&(at, _)| at == i) {
                        return Err(ComposeError::Launch {
                            record: i,
                            name: names.get(r.name).unwrap_or("").to_string(),
                            error,
                        });
                    }
                    // Every kernel before a refusal is mapped.
                    let units = self.occupancy(i).map_or(0, |o| o.units_allocated);
                    let work = options.flops_precision.and_then(|precision| {
                        r.flops().map(|f| Work {
                            flops: f as f64,
                            precision,
                        })
                    });
                    (Engine::Compute { units }, work, 0.0)
                }
                RecordKind::Memcpy | RecordKind::Memset => {
                    (Engine::Copy, None, r.bytes().unwrap_or(0) as f64)
                }
            };
            let interval = Interval {
                id: i as u64,
                stream: r.stream,
                start_ns: rel(r.start_ns),
                end_ns: rel(r.end_ns),
                engine,
                work,
                bytes,
            };
            if let Some(s) = sampler.as_mut() {
                s.through(interval.start_ns, &mut composer, sink)
                    .map_err(refused)?;
            }
            composer.push(&interval, sink).map_err(refused)?;
        }
        if let Some(s) = sampler.as_mut() {
            s.through(span_ns, &mut composer, sink).map_err(whole)?;
        }
        let report = composer.finish(None, sink).map_err(whole)?;
        let series = sampler.map(|s| s.finish(&report));
        Ok((report, series))
    }

    fn estimate(
        &self,
        options: &ComposeOptions,
        charges: Vec<Charge>,
        report: TimelineReport,
        series: Option<Series>,
    ) -> DeviceEstimate {
        let timeline = self.timeline;
        let hw = self.hw;
        let mut notes = Vec::new();
        let recorded_sms = timeline.properties.as_ref().and_then(|p| p.sm_count);
        if let Some(sms) = recorded_sms.filter(|&s| s != hw.units()) {
            notes.push(format!(
                "the trace's device has {sms} SMs and the hardware model {} units: launches are mapped onto the model's {}",
                hw.units(),
                hw.units()
            ));
        }
        if options.flops_precision.is_none() && timeline.kernels().any(|k| k.flops().is_some()) {
            notes.push(
                "the trace records FLOPs but not their precision: kernels are charged active power by time"
                    .to_string(),
            );
        }
        DeviceEstimate {
            device: timeline.device,
            device_name: device_name(timeline),
            origin_ns: timeline.records.first().map_or(0, |r| r.start_ns),
            limits: self.limits,
            limits_source: self.limits_source,
            charges,
            report,
            notes,
            series,
        }
    }
}

/// Composes one device's timeline on `hw`: [`map_device`], then
/// [`MappedTimeline::compose`].
///
/// `names` is the profile's name table, for error messages.
///
/// # Errors
/// [`ComposeError::NoKernels`], [`ComposeError::NoLimits`],
/// [`ComposeError::Launch`] for a launch the device cannot run,
/// [`ComposeError::Timeline`] for a record or hardware model the composer
/// refuses (more than [`IN_FLIGHT`] in flight, a policy the hardware cannot
/// gate with).
pub fn compose_device(
    timeline: &DeviceTimeline,
    hw: &HardwareModel,
    options: &ComposeOptions,
    names: &NameTable,
) -> Result<DeviceEstimate, ComposeError> {
    map_device(timeline, hw, names)?.compose(options)
}
