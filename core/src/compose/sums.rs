//! The model's running sums, and what one closing stage adds to them.
//!
//! Closing a stage used to add a whole stage record (a ledger of five
//! states, an energy breakdown) into a whole model report, and test some
//! twenty sums for overflow, for every stage: at width 1, where every push
//! closes a stage, that was most of the cost of a push. The composer now
//! keeps only the sums the report is made of, [`Sums`]: unit-seconds per
//! state, the static energy as if nothing were gated, the dynamic energies,
//! the clock. Every energy of the report is one product of them by a
//! per-model power, taken in [`Sums::report`], which uses
//!
//! * `static = Σ P_static·T − p·(gated + transitioning unit-seconds)`:
//!   per stage the static energy is `P_static·T·(N − G)/N` less the wake
//!   window and any settled idle time, and the gated plus transitioning
//!   unit-seconds are exactly `G·T` + window + settled (a pre-wake moves
//!   time from one to the other). With nothing gated or woken the
//!   subtraction is of zero, so under `Off` the static energy is still
//!   `Σ P_static·T` to the last bit;
//! * `savings = p · gated`, `uncore = P_uncore · Σ T`, per-state energies
//!   `p ·` unit-seconds (plus the dynamic energy in `Active`, the
//!   transition energy in `Transitioning`).
//!
//! These are the per-stage figures regrouped, equal up to rounding (a few
//! ulps of the largest term), which is what the tolerances of the
//! composition tests allow. The stage records, when a sink takes them, are
//! computed as before from [`Closing`].

use super::{EnergyBreakdown, Flags, GatingPolicy, ModelReport, Rates, StageRecord};
use crate::state::{StateLedger, StateTotals};

/// The running sums over the closed stages; [`Sums::report`] derives the
/// model report from them.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub(super) struct Sums {
    /// `Σ T`: the model's clock.
    pub(super) latency_s: f64,
    /// `Σ P_static·T`: the static energy had nothing been gated or woken.
    static_base_j: f64,
    compute_j: f64,
    memory_j: f64,
    active_us: f64,
    idle_allocated_us: f64,
    idle_unallocated_us: f64,
    gated_us: f64,
    transitioning_us: f64,
    /// `Σ transitions · e_tr`.
    transition_j: f64,
    /// `Σ A·T`, for the average allocation.
    unit_time: f64,
    pub(super) subgraphs: u64,
    transitions: u64,
    stages: u32,
    peak_units_allocated: u32,
    flags: Flags,
}

/// What one closing stage adds: the figures of DESIGN.md §3 that the sums
/// and the records are made of.
#[derive(Debug, Clone, Copy)]
pub(super) struct Closing {
    pub(super) stage: u32,
    pub(super) subgraphs: u32,
    pub(super) duration_s: f64,
    pub(super) wake_s: f64,
    pub(super) units_requested: u64,
    pub(super) allocated_units: u32,
    pub(super) woken_domains: u32,
    pub(super) powered_down: u32,
    pub(super) gated_domains: u32,
    pub(super) flags: Flags,
    pub(super) compute_j: f64,
    pub(super) memory_j: f64,
    pub(super) active_us: f64,
    pub(super) idle_allocated_us: f64,
    pub(super) idle_unallocated_us: f64,
    pub(super) gated_us: f64,
    pub(super) transitioning_us: f64,
    /// Unit-seconds of the woken units' wake window.
    pub(super) window_us: f64,
    /// Unit-seconds of idle periods settled gated (the oracle's; else 0).
    pub(super) settled_us: f64,
    /// `G`, units gated through the stage.
    pub(super) gated_units: f64,
    /// `W`, units woken for the stage.
    pub(super) woken_units: f64,
}

impl Closing {
    #[inline(always)]
    fn transitions(&self) -> u64 {
        u64::from(self.woken_domains) + u64::from(self.powered_down)
    }

    #[inline(always)]
    fn transition_j(&self, r: &Rates) -> f64 {
        self.transitions() as f64 * r.oracle.e_tr
    }

    /// The stage's energy. Static energy of every powered unit is written
    /// as `P·T·(N − G)/N` less the woken units' wake window so that, with
    /// nothing gated, it is exactly `P_static·T`: the original formula, bit
    /// for bit.
    #[inline(always)]
    pub(super) fn energy(&self, r: &Rates) -> EnergyBreakdown {
        let powered_share = if self.gated_units == 0.0 {
            1.0
        } else {
            (f64::from(r.units) - self.gated_units) * r.inv_n
        };
        let mut static_j = r.p_static * self.duration_s * powered_share - r.p_unit * self.window_us;
        if self.settled_us != 0.0 {
            static_j -= r.p_unit * self.settled_us;
        }
        EnergyBreakdown::new(
            0.0 + self.compute_j,
            0.0 + self.memory_j,
            static_j,
            r.p_uncore * self.duration_s,
            self.transition_j(r),
            r.p_unit * self.gated_us,
        )
    }

    /// Everything not owned by a subgraph's units after the wake window
    /// (the wake window of the allocated units, the powered unallocated
    /// units, uncore, transitions), per accounted unit: what each subgraph
    /// is charged per unit of its allocation.
    #[inline(always)]
    pub(super) fn share_per_unit(&self, r: &Rates) -> f64 {
        let allocated = f64::from(self.allocated_units);
        let shared = r.p_unit * (allocated - self.woken_units) * self.wake_s
            + r.p_unit * self.idle_unallocated_us
            + r.p_uncore * self.duration_s
            + self.transition_j(r);
        shared / allocated
    }

    /// The stage's record.
    #[inline(always)]
    pub(super) fn record(&self, r: &Rates) -> StageRecord {
        let p = r.p_unit;
        let transition_j = self.transition_j(r);
        // `0.0 + x`: the ledger's sums start from zero (a −0 becomes +0).
        let state = |us: f64, energy_j: f64| StateTotals {
            unit_seconds: 0.0 + us,
            energy_j: 0.0 + energy_j,
        };
        StageRecord {
            stage: self.stage,
            subgraphs: self.subgraphs,
            duration_s: self.duration_s,
            wake_s: self.wake_s,
            units_requested: self.units_requested,
            units_allocated: self.allocated_units,
            domains_woken: self.woken_domains,
            domains_powered_down: self.powered_down,
            domains_gated: self.gated_domains,
            states: StateLedger {
                states: [
                    state(
                        self.active_us,
                        p * self.active_us + self.compute_j + self.memory_j,
                    ),
                    state(self.idle_allocated_us, p * self.idle_allocated_us),
                    state(self.idle_unallocated_us, p * self.idle_unallocated_us),
                    state(self.gated_us, 0.0),
                    state(self.transitioning_us, transition_j),
                ],
            },
            energy: self.energy(r),
            flags: self.flags,
        }
    }
}

impl Sums {
    /// The sums with stage `c` added.
    #[inline(always)]
    pub(super) fn plus(&self, c: &Closing, r: &Rates) -> Sums {
        Sums {
            latency_s: self.latency_s + c.duration_s,
            static_base_j: self.static_base_j + r.p_static * c.duration_s,
            compute_j: self.compute_j + c.compute_j,
            memory_j: self.memory_j + c.memory_j,
            active_us: self.active_us + c.active_us,
            idle_allocated_us: self.idle_allocated_us + c.idle_allocated_us,
            idle_unallocated_us: self.idle_unallocated_us + c.idle_unallocated_us,
            gated_us: self.gated_us + c.gated_us,
            transitioning_us: self.transitioning_us + c.transitioning_us,
            transition_j: self.transition_j + c.transition_j(r),
            unit_time: self.unit_time + f64::from(c.allocated_units) * c.duration_s,
            subgraphs: self.subgraphs + u64::from(c.subgraphs),
            transitions: self.transitions + c.transitions(),
            stages: self.stages + 1,
            peak_units_allocated: self.peak_units_allocated.max(c.allocated_units),
            flags: self.flags.union(c.flags),
        }
    }

    /// Whether `Σ |sum| ≤ limit`, one test for every float sum: NaN and
    /// infinities fail it too. With [`Rates::limit`] it means every figure
    /// of the report and of the stage's records is finite, by a wide margin
    /// (see there); a sum that fails it is tested exactly, figure by figure.
    /// The `oracle` policy's screen: its settlements take time away, so a
    /// sum may be negative.
    #[inline(always)]
    pub(super) fn bounded(&self, limit: f64) -> bool {
        let [a, b, c, d, e, f, g, h, i, j, k] = [
            self.latency_s,
            self.static_base_j,
            self.compute_j,
            self.memory_j,
            self.active_us,
            self.idle_allocated_us,
            self.idle_unallocated_us,
            self.gated_us,
            self.transitioning_us,
            self.transition_j,
            self.unit_time,
        ]
        .map(f64::abs);
        // A tree of independent additions rather than one chain of eleven.
        (((a + b) + (c + d)) + ((e + f) + (g + h))) + ((i + j) + k) <= limit
    }

    /// The screen of every other policy, from four sums instead of eleven:
    /// `Σ T · (1 + P_static + 8·N) + compute + memory + transitions ≤ limit`.
    ///
    /// Under `off`, `always` and `break-even` nothing is taken away, so
    /// every sum is `≥ 0`, and each of a stage's unit-seconds per state,
    /// and its `A·T`, is at most `N·T` (an allocation, scaled down when
    /// oversubscribed, is at most `N` units, active or idle for at most
    /// `T`; the unallocated, gated and woken units are at most `N` for at
    /// most `T`), while `Σ P_static·T` is `P_static · Σ T`. So the left side
    /// is at least `Σ |sum|` (`8` rather than `6` covers rounding), and
    /// passing it passes [`Sums::bounded`]. An infinite or NaN part of a
    /// stage needs an `N·T` or a `P_static·T` that overflowed, which makes
    /// the left side infinite or NaN too, and fails the test.
    #[inline(always)]
    pub(super) fn bounded_by_clock(&self, r: &Rates) -> bool {
        self.latency_s * r.per_clock + ((self.compute_j + self.memory_j) + self.transition_j)
            <= r.limit
    }

    /// The model report these sums make.
    pub(super) fn report(&self, r: &Rates, policy: GatingPolicy) -> ModelReport {
        let p = r.p_unit;
        let static_j = self.static_base_j - p * (self.gated_us + self.transitioning_us);
        let energy = EnergyBreakdown::new(
            self.compute_j,
            self.memory_j,
            static_j,
            r.p_uncore * self.latency_s,
            self.transition_j,
            p * self.gated_us,
        );
        let states = StateLedger {
            states: [
                StateTotals {
                    unit_seconds: self.active_us,
                    energy_j: p * self.active_us + self.compute_j + self.memory_j,
                },
                StateTotals {
                    unit_seconds: self.idle_allocated_us,
                    energy_j: p * self.idle_allocated_us,
                },
                StateTotals {
                    unit_seconds: self.idle_unallocated_us,
                    energy_j: p * self.idle_unallocated_us,
                },
                StateTotals {
                    unit_seconds: self.gated_us,
                    energy_j: 0.0,
                },
                StateTotals {
                    unit_seconds: self.transitioning_us,
                    energy_j: self.transition_j,
                },
            ],
        };
        let (average_units_allocated, utilization) = if self.latency_s > 0.0 {
            (
                self.unit_time / self.latency_s,
                self.active_us / (f64::from(r.units) * self.latency_s),
            )
        } else {
            (f64::from(self.peak_units_allocated), 0.0)
        };
        ModelReport {
            units: r.units,
            policy,
            stages: self.stages,
            subgraphs: self.subgraphs,
            latency_s: self.latency_s,
            energy,
            states,
            wasted_energy_j: states.wasted_energy_j(),
            peak_units_allocated: self.peak_units_allocated,
            average_units_allocated,
            utilization,
            transitions: self.transitions,
            flags: self.flags,
        }
    }
}
