//! Power states and the per-state ledger.
//!
//! Every unit is in exactly one [`PowerState`] at every instant. The
//! [`StateLedger`] keeps, per state, how many unit-seconds were spent there and
//! how many joules that cost. Conservation is the invariant that makes the
//! numbers believable: over a stage of duration `T` on `N` units the
//! unit-seconds of all states add up to `N·T`.

use core::ops::{Add, AddAssign};

/// Number of [`PowerState`] variants.
pub const STATES: usize = 5;

/// What a compute unit is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
#[repr(u32)]
pub enum PowerState {
    /// Allocated and executing a subgraph: static power plus the subgraph's dynamic energy.
    Active = 0,
    /// Allocated to a subgraph that has finished while its stage still runs
    /// (or waiting for woken units): static power, no useful work.
    IdleAllocated = 1,
    /// Powered but allocated to nothing: static power, no useful work.
    IdleUnallocated = 2,
    /// Power-gated: no power. What it would have drawn is reported as a saving.
    Gated = 3,
    /// Being woken at the start of a stage; its cost is the transition energy.
    Transitioning = 4,
}

impl PowerState {
    /// Every state, in ledger order.
    pub const ALL: [PowerState; STATES] = [
        PowerState::Active,
        PowerState::IdleAllocated,
        PowerState::IdleUnallocated,
        PowerState::Gated,
        PowerState::Transitioning,
    ];

    /// Position of this state in the ledger.
    pub const fn index(self) -> usize {
        self as usize
    }

    /// Snake-case name, as used in JSON output.
    pub const fn name(self) -> &'static str {
        match self {
            PowerState::Active => "active",
            PowerState::IdleAllocated => "idle_allocated",
            PowerState::IdleUnallocated => "idle_unallocated",
            PowerState::Gated => "gated",
            PowerState::Transitioning => "transitioning",
        }
    }

    /// Whether time in this state burns static power without doing work.
    pub const fn is_wasted(self) -> bool {
        matches!(
            self,
            PowerState::IdleAllocated | PowerState::IdleUnallocated
        )
    }
}

/// Time and energy spent in one state.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[repr(C)]
pub struct StateTotals {
    /// Unit-seconds spent in the state.
    pub unit_seconds: f64,
    /// Joules charged to the state.
    pub energy_j: f64,
}

impl Add for StateTotals {
    type Output = StateTotals;
    fn add(self, rhs: StateTotals) -> StateTotals {
        StateTotals {
            unit_seconds: self.unit_seconds + rhs.unit_seconds,
            energy_j: self.energy_j + rhs.energy_j,
        }
    }
}

impl AddAssign for StateTotals {
    fn add_assign(&mut self, rhs: StateTotals) {
        *self = *self + rhs;
    }
}

/// Unit-seconds and joules for every [`PowerState`].
///
/// What each state's joules contain: `Active` its units' static energy plus
/// the dynamic (compute and memory) energy of the subgraphs; the two idle
/// states their static energy; `Gated` nothing (see the gating saving);
/// `Transitioning` the transition energy of every power-down and power-up.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct StateLedger {
    /// Totals per state, indexed by [`PowerState::index`].
    pub states: [StateTotals; STATES],
}

impl StateLedger {
    /// An empty ledger.
    pub const ZERO: StateLedger = StateLedger {
        states: [StateTotals {
            unit_seconds: 0.0,
            energy_j: 0.0,
        }; STATES],
    };

    /// Totals of one state.
    pub fn get(&self, state: PowerState) -> StateTotals {
        self.states.get(state.index()).copied().unwrap_or_default()
    }

    /// Adds unit-seconds and joules to one state.
    pub fn charge(&mut self, state: PowerState, unit_seconds: f64, energy_j: f64) {
        if let Some(t) = self.states.get_mut(state.index()) {
            t.unit_seconds += unit_seconds;
            t.energy_j += energy_j;
        }
    }

    /// Sum of unit-seconds over every state.
    pub fn unit_seconds(&self) -> f64 {
        self.states.iter().map(|t| t.unit_seconds).sum()
    }

    /// Sum of joules over every state.
    pub fn energy_j(&self) -> f64 {
        self.states.iter().map(|t| t.energy_j).sum()
    }

    /// Joules of the two idle states: static power that did no work.
    pub fn wasted_energy_j(&self) -> f64 {
        self.get(PowerState::IdleAllocated).energy_j
            + self.get(PowerState::IdleUnallocated).energy_j
    }
}

impl AddAssign for StateLedger {
    fn add_assign(&mut self, rhs: StateLedger) {
        for (a, b) in self.states.iter_mut().zip(rhs.states) {
            *a += b;
        }
    }
}
