//! Timelines: kernels as they really ran (DESIGN.md §3b).
//!
//! A profiler trace gives kernels as intervals on a clock, on several
//! streams, overlapping partially. The [`Timeline`] composer takes them in
//! order of start time and sweeps their start and end events. Between two
//! consecutive events the set of running kernels is fixed, so every unit is
//! in one [`PowerState`](crate::state::PowerState) for the whole interval:
//! static and uncore power are charged once for it, and what the interval
//! cost beyond the kernels' own units is shared among the running kernels by
//! allocation. A kernel's units are freed when it ends.
//!
//! # Time
//!
//! Times are **nanoseconds** on the caller's clock, as `u64` (CUPTI gives
//! nanoseconds; a PyTorch trace's microseconds with three decimals convert
//! exactly). Whole nanoseconds keep the sweep exact: no two events compare
//! differently depending on rounding, and no time can be NaN.
//!
//! # What a kernel is charged
//!
//! Its own units' static power while it runs (`Active`), its dynamic energy
//! (FLOPs × energy per operation when it has FLOPs, otherwise
//! `active_power_w / N` per active unit-second), its bytes × energy per byte,
//! and its share, by allocation, of the rest of each interval it runs in:
//! uncore power, static power of powered idle units, and whatever the gating
//! policy booked at the interval's start (transitions, wake windows). Copy
//! engines (memcpy, memset) hold no units: they make the GPU busy, are charged
//! their bytes, and share an interval's rest only when no kernel runs.
//! Time with nothing running is the GPU-idle bucket. The kernels' charges
//! plus the idle bucket add up to the total.
//!
//! # Gating
//!
//! Units are powered in gating domains; a kernel asks for
//! `ceil(units / g)` domains, and those domains count as active while it runs.
//! Concurrent kernels asking for more than all domains are capped, their
//! shares scaled, and flagged. Free domains are handed out last-freed first,
//! which keeps long idle periods long. Each free domain's idle period is
//! costed by the [`TimelinePolicy`]; see there. The break-even time is
//! `t_be = 2·e_tr / p_domain + t_wake` (rounded up to a whole nanosecond):
//! an idle period longer than that costs less gated (two transitions and a
//! wake window at static power) than powered.
//!
//! The times are the trace's: a policy's wake is placed in the idle time just
//! before the kernel that needs it, as `Transitioning` at static power. Where
//! the idle time was shorter than the wake window, the kernel would have had
//! to start late; [`Flags::WAKE_LATE`] says so.
//!
//! The stage composer's `IdleAllocated` state has no counterpart here: units
//! are freed the moment their kernel ends.

mod composer;
mod ring;

pub use composer::Timeline;

use core::fmt;

use crate::compose::{Flags, SinkFull};
use crate::hardware::{HardwareError, Precision};
use crate::state::StateLedger;

/// Default capacity: kernels in flight at once.
pub const DEFAULT_CAPACITY: usize = 128;

/// Default capacity of the free-domain list: groups of domains freed at
/// distinct times that are still young enough for their age to matter
/// (see [`Timeline`]).
pub const DEFAULT_IDLE_GROUPS: usize = 256;

impl Flags {
    /// A gating policy's wake window did not fit in the idle time before the
    /// kernel that needed the domain: that kernel would have started late.
    pub const WAKE_LATE: Flags = Flags(1 << 8);
}

/// When to power down a free gating domain on a timeline.
///
/// Every policy costs a domain's idle period of length `L` when it ends
/// (a kernel takes the domain, or the timeline finishes), because only then
/// is `L` known:
///
/// | policy | powered | gated | cost of a period that ends in a wake |
/// |---|---|---|---|
/// | `Off` | all of `L` | — | `p_d·L` |
/// | `Always` | — | all of `L` | `2·e_tr + p_d·min(L, t_wake)` |
/// | `Timeout` | first `min(L, t_be)` | the rest | `p_d·t_be + 2·e_tr + p_d·min(t_wake, L − t_be)` if `L > t_be` |
/// | `Oracle` | all if `L ≤ t_be` | all if `L > t_be` | `min(p_d·L, 2·e_tr + p_d·t_wake)` |
///
/// A period that ends because the timeline finishes needs no wake: one
/// transition instead of two, and the oracle gates it iff `p_d·L > e_tr`.
/// The stage composer's `break-even` judges one stage at a time and has no
/// meaning on a timeline; a timeline's `timeout` needs idle time, which
/// stages do not have. Hence a policy type of its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "kebab-case"))]
#[repr(u32)]
pub enum TimelinePolicy {
    /// Never gate.
    #[default]
    Off = 0,
    /// Gate a domain the moment it is freed.
    Always = 1,
    /// Gate a domain once it has been idle for `t_be`: the online rule, never
    /// more than twice the oracle's cost plus a wake per idle period.
    Timeout = 2,
    /// Gate an idle period iff it is longer than `t_be`: the offline optimum,
    /// costed when the period ends, with no look-ahead buffer.
    Oracle = 3,
}

impl TimelinePolicy {
    /// Every policy.
    pub const ALL: [TimelinePolicy; 4] = [
        TimelinePolicy::Off,
        TimelinePolicy::Always,
        TimelinePolicy::Timeout,
        TimelinePolicy::Oracle,
    ];

    /// The name on the command line and in reports.
    pub const fn name(self) -> &'static str {
        match self {
            TimelinePolicy::Off => "off",
            TimelinePolicy::Always => "always",
            TimelinePolicy::Timeout => "timeout",
            TimelinePolicy::Oracle => "oracle",
        }
    }

    /// Parses [`TimelinePolicy::name`].
    pub fn from_name(name: &str) -> Option<TimelinePolicy> {
        TimelinePolicy::ALL.into_iter().find(|p| p.name() == name)
    }
}

impl fmt::Display for TimelinePolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Which engine an interval ran on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum Engine {
    /// A kernel on the compute units.
    Compute {
        /// Units allocated (the launch mapper's `min(N, blocks)`), ≥ 1.
        units: u32,
    },
    /// A copy-engine transfer (memcpy, memset): busy time on no units.
    Copy,
}

/// Operations a kernel performed, when the trace knows them.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Work {
    /// Operations (FLOPs, or integer ops for integer precisions).
    pub flops: f64,
    /// Their precision.
    pub precision: Precision,
}

/// One kernel or copy as it ran.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Interval {
    /// The caller's identifier (a correlation id), copied into the record.
    pub id: u64,
    /// Stream, copied into the record.
    pub stream: u32,
    /// Start, in ns.
    pub start_ns: u64,
    /// End, in ns; not before the start.
    pub end_ns: u64,
    /// Compute units or a copy engine.
    pub engine: Engine,
    /// Operations, if known; `None` charges `active_power_w` instead.
    pub work: Option<Work>,
    /// Bytes moved to or from memory.
    pub bytes: f64,
}

impl Interval {
    /// A compute kernel on `units` units with no FLOPs and no bytes.
    pub const fn kernel(id: u64, start_ns: u64, end_ns: u64, units: u32) -> Interval {
        Interval {
            id,
            stream: 0,
            start_ns,
            end_ns,
            engine: Engine::Compute { units },
            work: None,
            bytes: 0.0,
        }
    }

    /// A copy of `bytes` bytes.
    pub const fn copy(id: u64, start_ns: u64, end_ns: u64, bytes: f64) -> Interval {
        Interval {
            id,
            stream: 0,
            start_ns,
            end_ns,
            engine: Engine::Copy,
            work: None,
            bytes,
        }
    }
}

/// The numeric field of an [`Interval`] an error is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum IntervalField {
    /// `work.flops`.
    Flops,
    /// `bytes`.
    Bytes,
}

impl IntervalField {
    /// The field's name.
    pub const fn name(self) -> &'static str {
        match self {
            IntervalField::Flops => "flops",
            IntervalField::Bytes => "bytes",
        }
    }
}

/// Why the timeline refused a call. A refused call changes nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum TimelineError {
    /// The hardware model cannot be used: more units than
    /// [`crate::compose::MAX_UNITS`], or powers and energies so large that a
    /// timeline's sums could overflow.
    Hardware(HardwareError),
    /// A policy other than `Off` on hardware that cannot gate.
    GatingUnsupported(TimelinePolicy),
    /// The interval starts before the previous one (or before the origin).
    TimeWentBackwards {
        /// The interval's id.
        id: u64,
        /// Its start, in ns.
        start_ns: u64,
        /// The latest start (or the origin), in ns.
        latest_ns: u64,
    },
    /// The interval ends before it starts.
    EndBeforeStart {
        /// The interval's id.
        id: u64,
    },
    /// A field is NaN.
    NotANumber {
        /// The interval's id.
        id: u64,
        /// The field.
        field: IntervalField,
    },
    /// A field is infinite.
    Infinite {
        /// The interval's id.
        id: u64,
        /// The field.
        field: IntervalField,
    },
    /// A field is negative.
    Negative {
        /// The interval's id.
        id: u64,
        /// The field.
        field: IntervalField,
    },
    /// A compute kernel on 0 units.
    ZeroAllocation {
        /// The interval's id.
        id: u64,
    },
    /// A copy carries FLOPs: copy engines compute nothing.
    CopyWithWork {
        /// The interval's id.
        id: u64,
    },
    /// The hardware model has no energy figure for the precision.
    UnsupportedPrecision {
        /// The interval's id.
        id: u64,
        /// The precision.
        precision: Precision,
    },
    /// More intervals would be in flight than the capacity.
    TooManyInFlight {
        /// The interval's id.
        id: u64,
        /// The capacity.
        capacity: usize,
    },
    /// More groups of recently freed domains than the free list holds.
    IdleGroupsFull {
        /// The capacity.
        capacity: usize,
    },
    /// A dynamic energy is too large to add up.
    Overflow {
        /// The interval's id.
        id: u64,
    },
    /// The sink has no room for the records of the kernels that end.
    SinkFull,
    /// `finish` was given an end before an event already seen.
    EndBeforeLastEvent {
        /// The end asked for, in ns.
        end_ns: u64,
        /// The latest event, in ns.
        latest_ns: u64,
    },
    /// The timeline was finished; `reset` it to start another.
    Finished,
}

impl From<HardwareError> for TimelineError {
    fn from(e: HardwareError) -> Self {
        TimelineError::Hardware(e)
    }
}

impl fmt::Display for TimelineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            TimelineError::Hardware(e) => write!(f, "hardware model: {e}"),
            TimelineError::GatingUnsupported(p) => {
                write!(
                    f,
                    "gating policy {p} needs hardware that can gate its units"
                )
            }
            TimelineError::TimeWentBackwards {
                id,
                start_ns,
                latest_ns,
            } => write!(
                f,
                "interval {id}: starts at {start_ns} ns, before {latest_ns} ns; intervals must come in order of start"
            ),
            TimelineError::EndBeforeStart { id } => {
                write!(f, "interval {id}: ends before it starts")
            }
            TimelineError::NotANumber { id, field } => {
                write!(f, "interval {id}: {} is NaN", field.name())
            }
            TimelineError::Infinite { id, field } => {
                write!(f, "interval {id}: {} is infinite", field.name())
            }
            TimelineError::Negative { id, field } => {
                write!(f, "interval {id}: {} is negative", field.name())
            }
            TimelineError::ZeroAllocation { id } => {
                write!(f, "interval {id}: a kernel on 0 units")
            }
            TimelineError::CopyWithWork { id } => {
                write!(f, "interval {id}: a copy cannot carry FLOPs")
            }
            TimelineError::UnsupportedPrecision { id, precision } => write!(
                f,
                "interval {id}: the hardware model has no energy figure for {precision}"
            ),
            TimelineError::TooManyInFlight { id, capacity } => write!(
                f,
                "interval {id}: more than {capacity} intervals would be in flight"
            ),
            TimelineError::IdleGroupsFull { capacity } => write!(
                f,
                "more than {capacity} groups of recently freed domains to track"
            ),
            TimelineError::Overflow { id } => {
                write!(f, "interval {id}: an energy is too large to represent")
            }
            TimelineError::SinkFull => {
                f.write_str("the record sink has no room for the kernels that end")
            }
            TimelineError::EndBeforeLastEvent { end_ns, latest_ns } => write!(
                f,
                "the timeline cannot end at {end_ns} ns, before an event at {latest_ns} ns"
            ),
            TimelineError::Finished => f.write_str("the timeline is finished; reset it first"),
        }
    }
}

impl core::error::Error for TimelineError {}

/// What one kernel or copy is charged, handed to a [`TimelineSink`] when it ends.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct KernelRecord {
    /// The caller's id.
    pub id: u64,
    /// Position in push order, from 0.
    pub sequence: u64,
    /// Stream.
    pub stream: u32,
    /// Start, in ns.
    pub start_ns: u64,
    /// End, in ns.
    pub end_ns: u64,
    /// Whether it ran on a copy engine.
    pub copy: bool,
    /// Units asked for, rounded up to whole gating domains (0 for a copy).
    pub units: u32,
    /// Unit-seconds of its units in `Active` (less than `units · duration`
    /// where oversubscription scaled it).
    pub active_unit_seconds: f64,
    /// FLOPs × energy per operation, in joules.
    pub compute_energy_j: f64,
    /// Bytes × energy per byte, in joules.
    pub memory_energy_j: f64,
    /// `active_power_w / N` per active unit-second, for a kernel without FLOPs, in joules.
    pub active_energy_j: f64,
    /// Static energy of its own units while it ran, in joules.
    pub own_static_energy_j: f64,
    /// Its share, by allocation, of the rest of the intervals it ran in, in joules.
    pub shared_energy_j: f64,
    /// Everything it is charged, in joules.
    pub total_energy_j: f64,
    /// [`Flags::OVERSUBSCRIBED`] when it ran in an oversubscribed interval.
    pub flags: Flags,
}

/// Where kernel records go as kernels end.
///
/// Before a call that ends kernels hands anything over, the sink is asked to
/// [`TimelineSink::reserve`] room for all of them; a refusal makes the call
/// fail with [`TimelineError::SinkFull`] and change nothing.
pub trait TimelineSink {
    /// Makes room for `kernels` records.
    ///
    /// # Errors
    /// [`SinkFull`] when they would not fit.
    fn reserve(&mut self, kernels: usize) -> Result<(), SinkFull> {
        let _ = kernels;
        Ok(())
    }
    /// Receives one record.
    fn kernel(&mut self, record: &KernelRecord) {
        let _ = record;
    }
}

/// Discards every record.
impl TimelineSink for () {}

impl<S: TimelineSink + ?Sized> TimelineSink for &mut S {
    fn reserve(&mut self, kernels: usize) -> Result<(), SinkFull> {
        (**self).reserve(kernels)
    }
    fn kernel(&mut self, record: &KernelRecord) {
        (**self).kernel(record);
    }
}

/// Hands every record to a closure; never refuses.
impl<F: FnMut(&KernelRecord)> TimelineSink for crate::compose::FnSink<F> {
    fn kernel(&mut self, record: &KernelRecord) {
        (self.0)(record);
    }
}

/// Keeps records in a fixed-capacity buffer, refusing what would not fit.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct KernelRecorder<const N: usize> {
    /// Records, in the order kernels ended.
    pub kernels: heapless::Vec<KernelRecord, N>,
}

impl<const N: usize> KernelRecorder<N> {
    /// An empty recorder.
    pub const fn new() -> Self {
        KernelRecorder {
            kernels: heapless::Vec::new(),
        }
    }
}

impl<const N: usize> TimelineSink for KernelRecorder<N> {
    fn reserve(&mut self, kernels: usize) -> Result<(), SinkFull> {
        if N - self.kernels.len() >= kernels {
            Ok(())
        } else {
            Err(SinkFull)
        }
    }
    fn kernel(&mut self, record: &KernelRecord) {
        // Room was reserved.
        let _ = self.kernels.push(*record);
    }
}

/// Time with nothing running on the GPU, and what it cost.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct IdleBucket {
    /// Seconds with no kernel and no copy running.
    pub seconds: f64,
    /// Joules charged to that time (and to what the policy booked with nothing running).
    pub energy_j: f64,
}

/// Totals of a timeline.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct TimelineReport {
    /// Units `N`.
    pub units: u32,
    /// The gating policy.
    pub policy: TimelinePolicy,
    /// Compute kernels ended.
    pub kernels: u64,
    /// Copies ended.
    pub copies: u64,
    /// From the origin to the last event charged, in seconds.
    pub span_s: f64,
    /// Time with something running, in seconds.
    pub busy_s: f64,
    /// Time with nothing running.
    pub idle: IdleBucket,
    /// `compute + memory + active + static + uncore + transition`, in joules.
    pub total_energy_j: f64,
    /// Unit-seconds and joules per power state. Unit-seconds add up to `N · span`.
    pub states: StateLedger,
    /// FLOPs × energy per operation, in joules.
    pub compute_energy_j: f64,
    /// Bytes × energy per byte, in joules.
    pub memory_energy_j: f64,
    /// Dynamic energy of kernels without FLOPs, from `active_power_w`, in joules.
    pub active_energy_j: f64,
    /// Static energy of powered units, in joules.
    pub static_energy_j: f64,
    /// Uncore energy, in joules.
    pub uncore_energy_j: f64,
    /// Transition energy, in joules.
    pub transition_energy_j: f64,
    /// Static energy gated units would have drawn, in joules.
    pub gating_savings_j: f64,
    /// Domain transitions (each power-down and each power-up counts one).
    pub transitions: u64,
    /// Idle periods of domains that ended (one per domain per period).
    pub idle_periods: u64,
    /// Most units allocated at once.
    pub peak_units_allocated: u32,
    /// Conditions met.
    pub flags: Flags,
}
