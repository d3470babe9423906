//! What the composer produces: flags, energy breakdowns, stage and
//! subgraph records, and the model report.

use super::GatingPolicy;
use crate::state::StateLedger;

/// Conditions worth knowing about a stage or a model, as a bit set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Flags(pub u32);

impl Flags {
    /// More units were allocated than exist; allocations were scaled by `N/A`.
    pub const OVERSUBSCRIBED: Flags = Flags(1 << 0);
    /// A subgraph without allocation was charged by the legacy whole-chip path.
    pub const LEGACY_PATH: Flags = Flags(1 << 1);
    /// A legacy subgraph gave no thread count; its utilisation was taken as 1.
    pub const LEGACY_NO_THREADS: Flags = Flags(1 << 2);
    /// Gated domains were woken, adding the wake latency to the stage.
    pub const WOKE_DOMAINS: Flags = Flags(1 << 3);
    /// Domains were powered down.
    pub const GATED_DOMAINS: Flags = Flags(1 << 4);

    /// No flag.
    pub const NONE: Flags = Flags(0);

    /// Whether every bit of `other` is set.
    pub const fn contains(self, other: Flags) -> bool {
        self.0 & other.0 == other.0
    }

    /// The union of both sets.
    pub const fn union(self, other: Flags) -> Flags {
        Flags(self.0 | other.0)
    }
}

/// Where energy went: the one block of energy figures that stage records,
/// model reports and the C ABI share (`wl_energy_breakdown` in C).
///
/// `total_j` is `compute + memory + static + uncore + transition`; `savings_j`
/// is what gating kept out of `static_j` and is not part of the total.
/// [`EnergyBreakdown::checked_add`] is the only place sums of breakdowns are
/// made, so the overflow rule (every part and the total stay finite) is
/// written once.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[repr(C)]
pub struct EnergyBreakdown {
    /// Dynamic compute energy, in joules.
    pub compute_j: f64,
    /// Memory energy, in joules.
    pub memory_j: f64,
    /// Static energy of powered units, in joules.
    pub static_j: f64,
    /// Uncore energy `P_uncore·T`, in joules.
    pub uncore_j: f64,
    /// Energy of power-state transitions, in joules.
    pub transition_j: f64,
    /// Static energy gated units would have drawn, in joules.
    pub savings_j: f64,
    /// `compute + memory + static + uncore + transition`, in joules.
    pub total_j: f64,
}

impl EnergyBreakdown {
    /// A breakdown of these parts, with its total.
    ///
    /// ```
    /// use wattledger_core::compose::EnergyBreakdown;
    /// let e = EnergyBreakdown::new(1.0, 2.0, 3.0, 4.0, 5.0, 6.0);
    /// assert_eq!(e.total_j, 15.0); // 1 + 2 + 3 + 4 + 5; savings are not spent
    /// ```
    pub fn new(
        compute_j: f64,
        memory_j: f64,
        static_j: f64,
        uncore_j: f64,
        transition_j: f64,
        savings_j: f64,
    ) -> EnergyBreakdown {
        EnergyBreakdown {
            compute_j,
            memory_j,
            static_j,
            uncore_j,
            transition_j,
            savings_j,
            total_j: compute_j + memory_j + static_j + uncore_j + transition_j,
        }
    }

    /// The part-by-part sum of two breakdowns, its total added up again
    /// from the summed parts; `None` when any part or the total is not
    /// finite (each part finite does not make the total finite).
    ///
    /// ```
    /// use wattledger_core::compose::EnergyBreakdown;
    /// let a = EnergyBreakdown::new(1.0, 0.0, 0.5, 0.0, 0.0, 0.25);
    /// let sum = a.checked_add(&a).unwrap();
    /// assert_eq!((sum.static_j, sum.savings_j, sum.total_j), (1.0, 0.5, 3.0));
    /// let big = EnergyBreakdown::new(f64::MAX, 0.0, 0.0, 0.0, 0.0, 0.0);
    /// assert_eq!(big.checked_add(&big), None);
    /// ```
    pub fn checked_add(&self, other: &EnergyBreakdown) -> Option<EnergyBreakdown> {
        let sum = self.plus(other);
        sum.is_finite().then_some(sum)
    }

    /// The part-by-part sum, unchecked: for the composer, which tests it
    /// together with its other running sums ([`EnergyBreakdown::checked_add`]
    /// is this plus [`EnergyBreakdown::is_finite`]).
    pub(crate) fn plus(&self, other: &EnergyBreakdown) -> EnergyBreakdown {
        EnergyBreakdown::new(
            self.compute_j + other.compute_j,
            self.memory_j + other.memory_j,
            self.static_j + other.static_j,
            self.uncore_j + other.uncore_j,
            self.transition_j + other.transition_j,
            self.savings_j + other.savings_j,
        )
    }

    /// Whether every figure, the total included, is finite.
    ///
    /// One test rather than seven: `x·0` is ±0 for a finite `x` and NaN for
    /// an infinity or a NaN, which survives the sum, so the sum of the
    /// products is 0 exactly when every figure is finite.
    pub fn is_finite(&self) -> bool {
        [
            self.compute_j,
            self.memory_j,
            self.static_j,
            self.uncore_j,
            self.transition_j,
            self.savings_j,
            self.total_j,
        ]
        .iter()
        .fold(0.0, |z, x| z + x * 0.0)
            == 0.0
    }
}

/// What closing one stage produced.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct StageRecord {
    /// The stage number.
    pub stage: u32,
    /// Subgraphs in the stage.
    pub subgraphs: u32,
    /// `T = w + max l_i`, in seconds.
    pub duration_s: f64,
    /// `w`: the wake latency paid at the start of the stage, in seconds.
    pub wake_s: f64,
    /// Units asked for, rounded up to whole domains, before any scaling.
    pub units_requested: u64,
    /// Units accounted as allocated (`N` when oversubscribed).
    pub units_allocated: u32,
    /// Domains woken at the start of the stage.
    pub domains_woken: u32,
    /// Domains powered down at the start of the stage.
    pub domains_powered_down: u32,
    /// Domains gated during the stage.
    pub domains_gated: u32,
    /// Unit-seconds and joules per power state.
    pub states: StateLedger,
    /// Where the stage's energy went.
    pub energy: EnergyBreakdown,
    /// Conditions met in this stage.
    pub flags: Flags,
}

/// What one subgraph is charged.
///
/// `own_static_energy_j` is the static energy of the subgraph's own units
/// from the end of the wake window to the end of the stage;
/// `shared_energy_j` is its share, by allocation, of everything else the
/// stage cost (unallocated powered units, the wake window, uncore,
/// transitions). The charges of all subgraphs add up to the model total.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct SubgraphRecord {
    /// The caller's id.
    pub id: u32,
    /// Position in the whole stream, from 0.
    pub sequence: u64,
    /// The stage.
    pub stage: u32,
    /// Units accounted to the subgraph (after domain rounding and any scaling).
    pub units: f64,
    /// First domain placed for the subgraph.
    pub first_domain: u32,
    /// Domains placed for it (before any oversubscription scaling).
    pub domains: u32,
    /// Latency at the operating point, in seconds (see [`Subgraph::latency_s`](super::Subgraph::latency_s)).
    pub latency_s: f64,
    /// Unit-seconds of its units in [`PowerState::Active`](crate::state::PowerState::Active).
    pub active_unit_seconds: f64,
    /// Unit-seconds of its units in [`PowerState::IdleAllocated`](crate::state::PowerState::IdleAllocated) after the wake window.
    pub idle_allocated_unit_seconds: f64,
    /// Utilisation used by the legacy path, if it took that path.
    pub legacy_utilization: Option<f64>,
    /// Compute energy, in joules.
    pub compute_energy_j: f64,
    /// Memory energy, in joules.
    pub memory_energy_j: f64,
    /// Static energy of its own units, in joules.
    pub own_static_energy_j: f64,
    /// Its share of the stage's shared energy, in joules.
    pub shared_energy_j: f64,
    /// Everything it is charged, in joules.
    pub total_energy_j: f64,
}

/// Totals over every closed stage.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct ModelReport {
    /// Units `N` of the hardware.
    pub units: u32,
    /// The gating policy in force.
    pub policy: GatingPolicy,
    /// Stages closed.
    pub stages: u32,
    /// Subgraphs in closed stages.
    pub subgraphs: u64,
    /// Sum of stage durations, in seconds.
    pub latency_s: f64,
    /// Where the model's energy went, summed over the closed stages.
    pub energy: EnergyBreakdown,
    /// Unit-seconds and joules per power state.
    pub states: StateLedger,
    /// Energy of the two idle states: static power that did no work, in joules.
    pub wasted_energy_j: f64,
    /// Most units allocated in one stage.
    pub peak_units_allocated: u32,
    /// Units allocated, averaged over time: `Σ A·T / Σ T`.
    pub average_units_allocated: f64,
    /// `active unit-seconds / (N · latency)`: utilisation from allocation.
    pub utilization: f64,
    /// Domain transitions (each power-down and each power-up counts one).
    pub transitions: u64,
    /// Union of every stage's flags.
    pub flags: Flags,
}
