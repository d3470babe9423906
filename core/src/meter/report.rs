//! Window names, flags and the report a closed window produces.

use core::ops::{BitOr, BitOrAssign};

// `heapless::String` is used under another name: cbindgen reads this crate
// for the structs the C header shares, and takes any `String` for Rust's.
use heapless::String as Text;

use super::context::MigContext;

/// Longest window name, in bytes. A longer name is rejected with
/// [`MeterError::NameTooLong`](super::MeterError::NameTooLong), never cut.
pub const WINDOW_NAME_CAPACITY: usize = 32;

/// A window's name as the meter stores it.
pub type WindowName = Text<WINDOW_NAME_CAPACITY>;

/// How a caller refers to a window: by name or by number.
///
/// A name and a number are different windows even when the name spells the
/// number (`"7"` is not `7`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WindowRef<'a> {
    /// A named window.
    Name(&'a str),
    /// A numbered window.
    Number(u32),
}

impl<'a> From<&'a str> for WindowRef<'a> {
    fn from(name: &'a str) -> Self {
        WindowRef::Name(name)
    }
}

impl From<u32> for WindowRef<'_> {
    fn from(number: u32) -> Self {
        WindowRef::Number(number)
    }
}

/// A window's identity as stored in the meter and carried by its report.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum WindowKey {
    /// A named window.
    Name(WindowName),
    /// A numbered window.
    Number(u32),
}

impl WindowKey {
    /// Whether this key is the window `r` refers to.
    pub fn matches(&self, r: WindowRef<'_>) -> bool {
        match (self, r) {
            (WindowKey::Name(a), WindowRef::Name(b)) => a.as_str() == b,
            (WindowKey::Number(a), WindowRef::Number(b)) => *a == b,
            _ => false,
        }
    }

    /// The borrowed form of this key.
    pub fn as_ref(&self) -> WindowRef<'_> {
        match self {
            WindowKey::Name(n) => WindowRef::Name(n.as_str()),
            WindowKey::Number(n) => WindowRef::Number(*n),
        }
    }
}

/// Things a report's reader should know before trusting its number: a bit set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct WindowFlags(u32);

impl WindowFlags {
    /// No flag.
    pub const NONE: WindowFlags = WindowFlags(0);
    /// The energy counter went down inside the window (driver reload): the
    /// interval across the reset came from power samples, or is uncovered.
    pub const COUNTER_RESET: WindowFlags = WindowFlags(1 << 0);
    /// Some interval inside the window counts as uncovered: its samples were
    /// further apart than the configured maximum gap, or lacked the readings
    /// needed (no counter pair and no power pair). Coverage says how much.
    pub const GAP: WindowFlags = WindowFlags(1 << 1);
    /// The window is shorter than the source's update period, so the counter
    /// may not have moved: compare with the report's power estimate.
    pub const SHORTER_THAN_UPDATE_PERIOD: WindowFlags = WindowFlags(1 << 2);
    /// The device was lost (stopped answering) while the window was open, or
    /// was already lost when it began: the window ends at the last good sample.
    pub const DEVICE_LOST: WindowFlags = WindowFlags(1 << 3);
    /// The energy is below the idle baseline × covered time: the dynamic part
    /// is reported as 0 (see [`EnergySplit`]).
    pub const BELOW_BASELINE: WindowFlags = WindowFlags(1 << 4);
    /// The device is a MIG instance: the energy is the parent GPU's whole
    /// energy, shared with every other instance on it.
    pub const MIG_PARENT_ENERGY: WindowFlags = WindowFlags(1 << 5);
    /// The window was begun before the meter had any sample; it starts at the
    /// first sample the meter received.
    pub const LATE_START: WindowFlags = WindowFlags(1 << 6);

    /// The raw bits (stable: a bit's meaning is never reused).
    pub const fn bits(self) -> u32 {
        self.0
    }

    /// Flags from raw bits; bits with no meaning yet are kept as they are.
    pub const fn from_bits(bits: u32) -> Self {
        WindowFlags(bits)
    }

    /// Whether every flag in `other` is set here.
    pub const fn contains(self, other: WindowFlags) -> bool {
        self.0 & other.0 == other.0
    }

    /// Whether no flag is set.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// Set the flags in `other`.
    pub fn insert(&mut self, other: WindowFlags) {
        self.0 |= other.0;
    }
}

impl BitOr for WindowFlags {
    type Output = WindowFlags;
    fn bitor(self, rhs: WindowFlags) -> WindowFlags {
        WindowFlags(self.0 | rhs.0)
    }
}

impl BitOrAssign for WindowFlags {
    fn bitor_assign(&mut self, rhs: WindowFlags) {
        self.0 |= rhs.0;
    }
}

/// Where a window's energy figure came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum Method {
    /// Only energy-counter deltas.
    Counter,
    /// Only trapezoid integration of power samples.
    Power,
    /// Both: counter deltas where the counter was usable, power elsewhere
    /// (typically across a counter reset).
    Mixed,
    /// Nothing measured: no interval of the window was covered.
    Unmeasured,
}

/// A window's energy split into the idle baseline and the rest.
///
/// `idle_j` is the configured baseline power × the window's *covered* time
/// (uncovered time has no energy in the total either, so it gets no baseline).
/// `dynamic_j` is `energy_j − idle_j`, clamped at 0: when the measured energy
/// is below the baseline (a baseline set too high, or a device idling below
/// it), `dynamic_j` is 0 and the report carries
/// [`WindowFlags::BELOW_BASELINE`]; `idle_j` is never reduced, so it always
/// means "baseline × covered time".
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct EnergySplit {
    /// Baseline power × covered time, in joules.
    pub idle_j: f64,
    /// Energy above the baseline, in joules (≥ 0).
    pub dynamic_j: f64,
}

/// How many unit-seconds a window spent with units power-gated vs powered.
///
/// Counted over the intervals whose first sample said how many units were
/// gated (the state is held until the next sample) and that were no longer
/// than the maximum gap. `known_s` is that time; `gated_unit_s +
/// powered_unit_s = total units × known_s`.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct UnitSeconds {
    /// Σ gated units × time, in unit-seconds.
    pub gated_unit_s: f64,
    /// Σ (total − gated) units × time, in unit-seconds.
    pub powered_unit_s: f64,
    /// Time over which the gating state was known, in seconds.
    pub known_s: f64,
}

/// What the meter knows about one closed window.
///
/// Invariant, whatever samples were fed: `energy_j` is finite and ≥ 0,
/// `coverage` is in `[0, 1]`, and every other `f64` here is finite and ≥ 0.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct WindowReport {
    /// The window's name or number.
    pub key: WindowKey,
    /// Timestamp of the sample the window began at (ns, adapter clock).
    pub start_ns: u64,
    /// Timestamp of the sample the window ended at (ns, adapter clock).
    pub end_ns: u64,
    /// `end_ns − start_ns`.
    pub duration_ns: u64,
    /// Measured energy in joules: counter deltas plus power integrals over
    /// the covered intervals. Uncovered time contributes nothing.
    pub energy_j: f64,
    /// Time inside the window covered by the counter or by power samples (ns).
    pub covered_ns: u64,
    /// `covered_ns / duration_ns`, in `[0, 1]`; 0 for a zero-length window.
    pub coverage: f64,
    /// Where the energy came from.
    pub method: Method,
    /// What to be careful about.
    pub flags: WindowFlags,
    /// Counter resets seen inside the window.
    pub counter_resets: u32,
    /// Uncovered intervals inside the window (see [`WindowFlags::GAP`]).
    pub gaps: u32,
    /// Power × duration: the mean power of the window's power intervals
    /// (trapezoid, whether or not the counter was used) × `duration_ns`; when
    /// the window holds no power interval, the latest power reading ×
    /// `duration_ns`; `None` when the meter has never seen a power reading.
    /// The figure to compare with `energy_j` when the window is flagged
    /// [`WindowFlags::SHORTER_THAN_UPDATE_PERIOD`].
    pub power_estimate_j: Option<f64>,
    /// Idle/dynamic split, when the meter has an idle baseline configured.
    pub split: Option<EnergySplit>,
    /// Gated vs powered unit-seconds, when the meter knows the total unit count.
    pub units: Option<UnitSeconds>,
    /// The MIG context the meter was built with.
    pub mig: MigContext,
}

impl WindowReport {
    /// Whether `energy_j` is the parent GPU's whole energy (a MIG instance).
    pub fn energy_is_parent_total(&self) -> bool {
        self.mig.energy_is_parent_total()
    }

    /// Mean power over the window in watts (`energy_j / duration`), or
    /// `None` for a zero-length window.
    pub fn mean_power_w(&self) -> Option<f64> {
        if self.duration_ns == 0 {
            None
        } else {
            Some(self.energy_j / (self.duration_ns as f64 * 1e-9))
        }
    }
}
