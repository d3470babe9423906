//! Composition: unit → subgraph → stage → model.
//!
//! Subgraphs arrive as a stream, grouped by stage, stages in non-decreasing
//! order. Subgraphs of one stage run concurrently; stages run one after
//! another. The [`Composer`] buffers the subgraphs of the current stage (at
//! most `WIDTH` of them) and closes the stage when the first subgraph of a
//! later stage arrives, or at [`Composer::finish`].
//!
//! Static energy is charged **once per stage**, from the stage's duration and
//! the power state of every unit, never once per subgraph: that is what makes
//! concurrent subgraphs come out right.
//!
//! # Records without a heap
//!
//! Closing a stage produces one [`StageRecord`] and one [`SubgraphRecord`] per
//! subgraph. They are handed to a caller-supplied [`Sink`] as the stage
//! closes; nothing is kept. Pass `&mut ()` to discard them, a [`Recorder`] to
//! keep them in fixed-capacity buffers, or a [`FnSink`] to route them to a
//! closure. A sink is asked to [`Sink::reserve`] room before anything is
//! handed to it, so a full buffer is an error that leaves the composer as it
//! was rather than a silently shortened record.
//!
//! # Domains and placement
//!
//! Units are powered in gating domains of `g` units. Placement is
//! deterministic: a stage takes the powered domains first, lowest index
//! first, then wakes gated ones, lowest index first. Because every policy
//! gates either all or none of a stage's powered, unallocated domains, the
//! powered domains are always the prefix `0..powered`; the composer keeps
//! that one count instead of a per-unit array, which is why its size does not
//! grow with [`MAX_UNITS`] and a subgraph costs O(1) to push.

use core::fmt;

mod error;
mod oracle;
mod records;
mod sink;

pub use error::{CloseError, ComposeError, SetupError, SubgraphField};
pub use oracle::DEFAULT_IDLE_STEPS;
pub use records::{EnergyBreakdown, Flags, ModelReport, StageRecord, SubgraphRecord};
pub use sink::{FnSink, Record, Recorder, Sink, SinkFull};

use crate::hardware::{HardwareError, HardwareModel, PRECISIONS, Precision};
use crate::state::{PowerState, StateLedger};

/// Largest number of compute units a hardware model may have.
///
/// The composer's state does not grow with it (see the module docs); the
/// limit keeps unit counts and their products exact in `f64`.
pub const MAX_UNITS: u32 = 1 << 20;

/// Default capacity of one stage: the most subgraphs that may run concurrently.
pub const DEFAULT_WIDTH: usize = 64;

/// What to do with powered domains that a stage does not allocate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "kebab-case"))]
#[repr(u32)]
pub enum GatingPolicy {
    /// Never gate. The backward-compatible default: every unit burns static
    /// power for the whole model, as the original whole-chip formula assumed.
    #[default]
    Off = 0,
    /// Power down every unallocated domain at the start of every stage.
    Always = 1,
    /// Power down a powered, unallocated domain only when the stage is long
    /// enough to pay for it: `p_domain·T > 2·e_tr + (P_static + P_uncore)·t_wake`.
    /// With this rule the policy never costs more than [`GatingPolicy::Off`].
    BreakEven = 2,
    /// The offline optimum over whole idle periods: a domain's idle period,
    /// across as many stages as it lasts, is gated iff it is long enough to
    /// pay for its transitions, judged when its length is known, with no
    /// look-ahead. Never costs more than `Off`, `Always` or `BreakEven`.
    /// See the `oracle` section of the module docs.
    Oracle = 3,
}

impl GatingPolicy {
    /// Every policy.
    pub const ALL: [GatingPolicy; 4] = [
        GatingPolicy::Off,
        GatingPolicy::Always,
        GatingPolicy::BreakEven,
        GatingPolicy::Oracle,
    ];

    /// The name used in model files and on the command line.
    pub const fn name(self) -> &'static str {
        match self {
            GatingPolicy::Off => "off",
            GatingPolicy::Always => "always",
            GatingPolicy::BreakEven => "break-even",
            GatingPolicy::Oracle => "oracle",
        }
    }

    /// Parses [`GatingPolicy::name`]; `None` for anything else.
    pub fn from_name(name: &str) -> Option<GatingPolicy> {
        GatingPolicy::ALL.into_iter().find(|p| p.name() == name)
    }
}

impl fmt::Display for GatingPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One subgraph of a model: the unit of work the composer charges.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Subgraph {
    /// Caller's identifier, copied into the subgraph's record.
    pub id: u32,
    /// Execution stage. Subgraphs of one stage run concurrently.
    pub stage: u32,
    /// Operations performed (FLOPs, or integer ops for integer precisions).
    pub flops: f64,
    /// Precision of those operations.
    pub precision: Precision,
    /// Bytes read as activations.
    pub input_bytes: f64,
    /// Bytes written.
    pub output_bytes: f64,
    /// Bytes of weights read.
    pub weight_bytes: f64,
    /// Latency, in seconds, at the clock the hardware model's latencies are
    /// taken at ([`crate::hardware::Dvfs::latency_reference_mhz`]: the
    /// operating point's own unless the model was moved to another clock,
    /// in which case its compute-bound share is stretched; see
    /// [`HardwareModel::latency_s`]).
    pub latency_s: f64,
    /// Units allocated by a mapper; `None` takes the legacy whole-chip path.
    pub units_allocated: Option<u32>,
    /// Threads launched; only the legacy path uses it, to estimate utilisation.
    pub threads: Option<u64>,
}

impl Subgraph {
    /// A subgraph with no work, no bytes and no allocation: a starting point
    /// for struct-update syntax.
    pub const fn empty(id: u32, stage: u32) -> Subgraph {
        Subgraph {
            id,
            stage,
            flops: 0.0,
            precision: Precision::Fp32,
            input_bytes: 0.0,
            output_bytes: 0.0,
            weight_bytes: 0.0,
            latency_s: 0.0,
            units_allocated: None,
            threads: None,
        }
    }

    /// All bytes the subgraph moves.
    pub fn bytes(&self) -> f64 {
        self.input_bytes + self.output_bytes + self.weight_bytes
    }
}

/// A subgraph that passed its checks, with what pushing it already computed.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Pending {
    subgraph: Subgraph,
    compute_j: f64,
    memory_j: f64,
    /// Domains it asks for: `ceil(a/g)`; `None` on the legacy path.
    domains: Option<u32>,
}

/// Everything closing a stage changes, computed before anything is changed.
#[derive(Debug, Clone, Copy)]
struct StageOutcome {
    record: StageRecord,
    /// The model's energy with this stage added (checked for overflow).
    energy_after: EnergyBreakdown,
    powered_after: u32,
    /// The pool shared by allocation, per accounted unit.
    share_per_unit: f64,
    /// `N/A` when oversubscribed, else 1.
    scale: f64,
    /// Max latency of the stage.
    max_latency: f64,
    /// What the gating policy did.
    gating: oracle::StageGating,
}

/// Figures derived from the hardware model once, at construction: a model
/// cannot change under a composer, and recomputing the DVFS factors (two
/// divisions, maybe a `pow`) for every stage showed up in the benchmarks.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Rates {
    /// `P_static` at the operating point.
    p_static: f64,
    /// `p = P_static / N`.
    p_unit: f64,
    /// `p · g`.
    p_domain: f64,
    /// `P_uncore`.
    p_uncore: f64,
    /// Dynamic energy per operation at the operating point, per precision.
    e_op: [Option<f64>; PRECISIONS],
    /// Energy per byte.
    e_byte: f64,
    /// Right-hand side of the break-even rule: `2·e_tr + (P_static + P_uncore)·t_wake`.
    break_even_cost: f64,
    /// What the oracle's rule reads.
    oracle: oracle::OracleRates,
    /// `log2 g` when the gating domain `g` is a power of two (every preset):
    /// `ceil(a/g)` is then a shift instead of an integer division per push.
    domain_shift: Option<u32>,
    /// `N / g`, the model's domain count (a division in `HardwareModel::domains`).
    domains: u32,
}

impl Rates {
    fn of(hw: &HardwareModel) -> Rates {
        let p_static = hw.static_power_w();
        let p_unit = hw.unit_static_power_w();
        let p_uncore = hw.uncore_power_w();
        let gating = hw.gating();
        Rates {
            p_static,
            p_unit,
            p_domain: p_unit * f64::from(hw.gating_domain()),
            p_uncore,
            e_op: Precision::ALL.map(|p| hw.energy_per_op_j(p)),
            e_byte: hw.energy_per_byte_j(),
            break_even_cost: 2.0 * gating.transition_energy_j
                + (p_static + p_uncore) * gating.wake_latency_s,
            oracle: oracle::OracleRates {
                p_domain: p_unit * f64::from(hw.gating_domain()),
                p_uncore,
                e_tr: gating.transition_energy_j,
                t_wake: gating.wake_latency_s,
                g: f64::from(hw.gating_domain()),
            },
            domain_shift: hw
                .gating_domain()
                .is_power_of_two()
                .then(|| hw.gating_domain().trailing_zeros()),
            domains: hw.domains(),
        }
    }

    /// `ceil(a/g)`: the domains an allocation of `a` units asks for.
    fn domains_for(&self, a: u32, g: u32) -> u32 {
        match self.domain_shift {
            // `a + g − 1` in u64 cannot overflow; shifted back it fits a u32
            // because the quotient is at most `a`.
            Some(shift) => {
                u32::try_from((u64::from(a) + u64::from(g) - 1) >> shift).unwrap_or(u32::MAX)
            }
            None => a.div_ceil(g),
        }
    }
}

/// The streaming composer.
///
/// `WIDTH` is the most subgraphs one stage may hold; `IDLE` (at least 1)
/// the most young idle periods the `oracle` policy keeps (the other
/// policies keep none).
/// The composer itself is `size_of::<Pending>() · WIDTH + 16 · IDLE` plus a
/// few hundred bytes; it never allocates.
///
/// The seed's worked example: an H100 of 132 SMs at 300 W idle, one
/// subgraph on 24 SMs for 10 ms. Without gating every SM burns static power
/// for the whole stage; gating powers the 108 idle SMs down.
///
/// ```
/// use wattledger_core::compose::{Composer, GatingPolicy, Recorder, Subgraph};
/// use wattledger_core::presets::Preset;
///
/// let sg = Subgraph { units_allocated: Some(24), latency_s: 0.01, ..Subgraph::empty(0, 0) };
///
/// let mut off: Composer = Composer::new(Preset::SeedH100.model(), GatingPolicy::Off)?;
/// off.push(&sg, &mut ())?;
/// let r = off.finish(&mut ())?;
/// // 300 W × 0.01 s = 3 J, all static.
/// assert!((r.energy.static_j - 3.0).abs() < 1e-12);
///
/// let mut gated: Composer = Composer::new(Preset::SeedH100.model(), GatingPolicy::Always)?;
/// let mut records: Recorder<4, 4> = Recorder::new();
/// gated.push(&sg, &mut records)?;
/// let r = gated.finish(&mut records)?;
/// // Only the 24 allocated SMs stay powered: 300 W · 24/132 · 0.01 s;
/// // the other 108/132 of the 3 J are saved.
/// assert!((r.energy.static_j - 300.0 * 24.0 / 132.0 * 0.01).abs() < 1e-12);
/// assert!((r.energy.savings_j - 300.0 * 108.0 / 132.0 * 0.01).abs() < 1e-12);
/// // One stage record and one subgraph record, which add up to the total.
/// assert_eq!((records.stages.len(), records.subgraphs.len()), (1, 1));
/// assert!((records.subgraphs[0].total_energy_j - r.energy.total_j).abs() < 1e-12);
/// # Ok::<(), Box<dyn core::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Composer<const WIDTH: usize = DEFAULT_WIDTH, const IDLE: usize = DEFAULT_IDLE_STEPS> {
    hw: HardwareModel,
    rates: Rates,
    policy: GatingPolicy,
    /// Domains powered now: always the prefix `0..powered`.
    powered: u32,
    pending: heapless::Vec<Pending, WIDTH>,
    /// Stage of the pending subgraphs, or of the last closed stage when none are pending.
    stage: Option<u32>,
    /// The last closed stage: where `stage` goes back to when the pending
    /// subgraphs are discarded.
    closed: Option<u32>,
    /// Allocation-weighted time, `Σ A·T`, for the average.
    unit_time: f64,
    /// Running sums; the fields derived from them are filled by [`Composer::report`].
    totals: ModelReport,
    /// `oracle`: the powered free domains' young idle periods.
    stairs: oracle::Staircase<IDLE>,
    /// `oracle`: latest start of a period gated so far.
    gated_since_s: f64,
}

/// Every domain powered and free since time 0.
fn fresh_stairs<const IDLE: usize>() -> oracle::Staircase<IDLE> {
    let mut s = oracle::Staircase::new();
    // `IDLE ≥ 1` (heapless refuses a zero-capacity deque at compile time).
    let _ = s.push_back(oracle::Step {
        from: 0,
        since_s: 0.0,
    });
    s
}

impl<const WIDTH: usize, const IDLE: usize> Composer<WIDTH, IDLE> {
    /// A composer for `hw` under `policy`, with every domain powered.
    ///
    /// # Errors
    /// [`SetupError::Hardware`] with [`HardwareError::TooManyUnits`] when
    /// `hw` has more than [`MAX_UNITS`] units;
    /// [`SetupError::GatingUnsupported`] for a policy other than `Off` on
    /// hardware that cannot gate.
    pub fn new(hw: HardwareModel, policy: GatingPolicy) -> Result<Self, SetupError> {
        if hw.units() > MAX_UNITS {
            return Err(SetupError::Hardware(HardwareError::TooManyUnits {
                units: hw.units(),
                capacity: MAX_UNITS as usize,
            }));
        }
        if policy != GatingPolicy::Off && !hw.gating().can_gate {
            return Err(SetupError::GatingUnsupported(policy));
        }
        let powered = hw.domains();
        let report = ModelReport {
            units: hw.units(),
            policy,
            ..ModelReport::default()
        };
        Ok(Composer {
            rates: Rates::of(&hw),
            hw,
            policy,
            powered,
            pending: heapless::Vec::new(),
            stage: None,
            closed: None,
            unit_time: 0.0,
            totals: report,
            stairs: fresh_stairs(),
            gated_since_s: f64::NEG_INFINITY,
        })
    }

    /// The hardware model.
    pub fn hardware(&self) -> &HardwareModel {
        &self.hw
    }

    /// The gating policy.
    pub fn policy(&self) -> GatingPolicy {
        self.policy
    }

    /// Totals over the stages closed so far (not the pending one).
    ///
    /// The running sums are kept as stages close; the figures derived from
    /// them (wasted energy, average allocation, utilisation) are computed
    /// here, so closing a stage does not pay for them.
    pub fn report(&self) -> ModelReport {
        let mut r = self.totals;
        r.wasted_energy_j = r.states.wasted_energy_j();
        if r.latency_s > 0.0 {
            r.average_units_allocated = self.unit_time / r.latency_s;
            r.utilization =
                r.states.get(PowerState::Active).unit_seconds / (f64::from(r.units) * r.latency_s);
        } else {
            r.average_units_allocated = f64::from(r.peak_units_allocated);
            r.utilization = 0.0;
        }
        r
    }

    /// Subgraphs waiting in the open stage.
    pub fn pending(&self) -> usize {
        self.pending.len()
    }

    /// Domains powered right now.
    pub fn powered_domains(&self) -> u32 {
        self.powered
    }

    /// Forgets every stage and powers every domain again; keeps the hardware and policy.
    pub fn reset(&mut self) {
        self.powered = self.hw.domains();
        self.pending.clear();
        self.stage = None;
        self.closed = None;
        self.unit_time = 0.0;
        self.totals = ModelReport {
            units: self.hw.units(),
            policy: self.policy,
            ..ModelReport::default()
        };
        self.stairs = fresh_stairs();
        self.gated_since_s = f64::NEG_INFINITY;
    }

    /// Adds a subgraph to the stream.
    ///
    /// If its stage is later than the open stage, the open stage is closed
    /// first and its records go to `sink`.
    ///
    /// # Errors
    /// Nothing changes, in the composer or the sink, when the call fails:
    /// * [`ComposeError::NotANumber`], [`ComposeError::Infinite`],
    ///   [`ComposeError::Negative`]: a bad numeric field;
    /// * [`ComposeError::ZeroAllocation`]: `units_allocated == Some(0)`;
    /// * [`ComposeError::UnsupportedPrecision`];
    /// * [`ComposeError::StageOutOfOrder`]: its stage is earlier than the
    ///   open stage, or not later than a closed one;
    /// * [`ComposeError::StageFull`]: the open stage holds `WIDTH` subgraphs;
    /// * [`ComposeError::LegacySharesStage`]: a subgraph without allocation
    ///   would share a stage;
    /// * [`ComposeError::Overflow`]: an energy or time became infinite;
    /// * [`ComposeError::SinkFull`]: `sink` refused the closing stage's records.
    pub fn push<S: Sink + ?Sized>(
        &mut self,
        subgraph: &Subgraph,
        sink: &mut S,
    ) -> Result<(), ComposeError> {
        let pending = self.check(subgraph)?;
        match self.stage {
            Some(current) if subgraph.stage < current => Err(ComposeError::StageOutOfOrder {
                id: subgraph.id,
                stage: subgraph.stage,
                current,
            }),
            Some(current) if subgraph.stage == current => {
                if self.pending.is_empty() {
                    // The stage was closed by `finish`; it cannot reopen.
                    return Err(ComposeError::StageOutOfOrder {
                        id: subgraph.id,
                        stage: subgraph.stage,
                        current,
                    });
                }
                // A legacy subgraph never shares its stage, so if one is
                // pending it is the first and only one: no scan needed.
                let legacy_here = self.pending.first().is_some_and(|p| p.domains.is_none());
                if legacy_here || pending.domains.is_none() {
                    return Err(ComposeError::LegacySharesStage {
                        id: subgraph.id,
                        stage: subgraph.stage,
                    });
                }
                self.pending
                    .push(pending)
                    .map_err(|_| ComposeError::StageFull {
                        id: subgraph.id,
                        capacity: WIDTH,
                    })
            }
            _ => {
                if WIDTH == 0 {
                    return Err(ComposeError::StageFull {
                        id: subgraph.id,
                        capacity: WIDTH,
                    });
                }
                self.close(sink, false)?;
                self.pending.clear();
                // WIDTH ≥ 1 and the buffer was just emptied, so this fits.
                let _ = self.pending.push(pending);
                self.stage = Some(subgraph.stage);
                Ok(())
            }
        }
    }

    /// Pushes every subgraph of `subgraphs`, in order, as [`Composer::push`]
    /// would one at a time; the streaming API stays for callers that do not
    /// hold a whole slice.
    ///
    /// # Errors
    /// The first subgraph that [`Composer::push`] refuses stops the call:
    /// the error is returned with the index of that subgraph, and the
    /// subgraphs before it stay pushed (their stages may have closed and
    /// gone to `sink`), exactly as if they had been pushed one by one.
    pub fn push_all<S: Sink + ?Sized>(
        &mut self,
        subgraphs: &[Subgraph],
        sink: &mut S,
    ) -> Result<(), (usize, ComposeError)> {
        for (i, sg) in subgraphs.iter().enumerate() {
            self.push(sg, sink).map_err(|e| (i, e))?;
        }
        Ok(())
    }

    /// Closes the open stage and returns the model's totals.
    ///
    /// The composer can go on taking subgraphs of later stages afterwards.
    ///
    /// # Errors
    /// [`CloseError::Overflow`] or [`CloseError::SinkFull`] while closing
    /// the open stage; nothing changes then.
    pub fn finish<S: Sink + ?Sized>(&mut self, sink: &mut S) -> Result<ModelReport, CloseError> {
        self.close(sink, true)?;
        self.pending.clear();
        Ok(self.report())
    }

    /// Drops the subgraphs of the open stage without closing it, and
    /// returns how many there were; the closed stages and their totals stay.
    ///
    /// This is the way on after a stage is refused at close (its energy
    /// would overflow, or the sink had no room): without it every later
    /// push and finish would fail on the same stage. The dropped stage's
    /// number may be used again.
    ///
    /// ```
    /// use wattledger_core::compose::{CloseError, Composer, GatingPolicy, Subgraph};
    /// use wattledger_core::presets::Preset;
    ///
    /// let mut c: Composer = Composer::new(Preset::SeedH100.model(), GatingPolicy::Off).unwrap();
    /// // 300 W for 1e308 s does not fit in an f64.
    /// let endless = Subgraph { latency_s: 1e308, units_allocated: Some(24), ..Subgraph::empty(1, 0) };
    /// c.push(&endless, &mut ()).unwrap();
    /// assert_eq!(c.finish(&mut ()), Err(CloseError::Overflow { stage: 0 }));
    /// assert_eq!(c.discard_pending(), 1);
    /// let short = Subgraph { latency_s: 0.01, ..endless };
    /// c.push(&short, &mut ()).unwrap();
    /// // 300 W × 0.01 s.
    /// assert!((c.finish(&mut ()).unwrap().energy.total_j - 3.0).abs() < 1e-12);
    /// ```
    pub fn discard_pending(&mut self) -> usize {
        let n = self.pending.len();
        self.pending.clear();
        self.stage = self.closed;
        n
    }

    /// Checks one subgraph and computes its dynamic energy.
    fn check(&self, sg: &Subgraph) -> Result<Pending, ComposeError> {
        let id = sg.id;
        for (value, field) in [
            (sg.flops, SubgraphField::Flops),
            (sg.input_bytes, SubgraphField::InputBytes),
            (sg.output_bytes, SubgraphField::OutputBytes),
            (sg.weight_bytes, SubgraphField::WeightBytes),
            (sg.latency_s, SubgraphField::Latency),
        ] {
            crate::float::non_negative(value)
                .map_err(|e| ComposeError::from_float(e, id, field))?;
        }
        if sg.units_allocated == Some(0) {
            return Err(ComposeError::ZeroAllocation { id });
        }
        // The table was scaled by the DVFS factor once, at construction.
        let e_op = self
            .rates
            .e_op
            .get(sg.precision.index())
            .copied()
            .flatten()
            .ok_or(ComposeError::UnsupportedPrecision {
                id,
                precision: sg.precision,
            })?;
        let compute_j = sg.flops * e_op;
        let memory_j = sg.bytes() * self.rates.e_byte;
        if !compute_j.is_finite() || !memory_j.is_finite() {
            return Err(ComposeError::Overflow { stage: sg.stage });
        }
        let g = self.hw.gating_domain();
        let domains = sg.units_allocated.map(|a| self.rates.domains_for(a, g));
        // The latency at the operating point's clock (unchanged unless the
        // model was moved off the clock its latencies were taken at).
        let latency_s = self
            .hw
            .latency_s(sg.latency_s, sg.flops, sg.precision, sg.bytes());
        if !latency_s.is_finite() {
            return Err(ComposeError::Overflow { stage: sg.stage });
        }
        Ok(Pending {
            subgraph: Subgraph { latency_s, ..*sg },
            compute_j,
            memory_j,
            domains,
        })
    }

    /// Closes the open stage, if any: computes everything, asks the sink for
    /// room, hands over the records, then commits. Fails before changing anything.
    /// `last`: [`Composer::finish`] closes it, which ends every idle period.
    fn close<S: Sink + ?Sized>(&mut self, sink: &mut S, last: bool) -> Result<(), CloseError> {
        let Some(stage) = self.stage else {
            return Ok(());
        };
        if self.pending.is_empty() {
            return Ok(());
        }
        let outcome = self.evaluate(stage, last)?;
        sink.reserve(self.pending.len())
            .map_err(|_| CloseError::SinkFull { stage })?;
        self.emit_subgraphs(&outcome, sink);
        sink.stage(&outcome.record);
        self.powered = outcome.powered_after;
        if self.policy == GatingPolicy::Oracle {
            oracle::apply(&mut self.stairs, &outcome.gating.edit);
            self.gated_since_s = outcome.gating.gated_since_s;
        }
        self.accumulate(&outcome);
        self.closed = Some(stage);
        Ok(())
    }

    /// The arithmetic of DESIGN.md §3 for the open stage, without side effects.
    fn evaluate(&self, stage: u32, last: bool) -> Result<StageOutcome, CloseError> {
        let hw = &self.hw;
        let n_units = hw.units();
        let n = f64::from(n_units);
        let g = hw.gating_domain();
        let Rates {
            p_static,
            p_unit,
            p_uncore,
            domains: total_domains,
            ..
        } = self.rates;
        let gating = hw.gating();

        // Allocation, in domains, and the longest latency.
        let mut requested_domains: u64 = 0;
        let mut legacy = false;
        let mut max_latency: f64 = 0.0;
        let mut compute_j = 0.0;
        let mut memory_j = 0.0;
        for p in &self.pending {
            match p.domains {
                Some(d) => requested_domains += u64::from(d),
                None => legacy = true,
            }
            max_latency = max_latency.max(p.subgraph.latency_s);
            compute_j += p.compute_j;
            memory_j += p.memory_j;
        }
        let mut flags = Flags::NONE;
        let needed_domains: u32 = if legacy {
            flags = flags.union(Flags::LEGACY_PATH);
            total_domains
        } else if requested_domains > u64::from(total_domains) {
            flags = flags.union(Flags::OVERSUBSCRIBED);
            total_domains
        } else {
            // Fits: requested_domains ≤ total_domains, a u32.
            u32::try_from(requested_domains).unwrap_or(total_domains)
        };
        let units_requested = if legacy {
            u64::from(n_units)
        } else {
            requested_domains * u64::from(g)
        };
        let allocated_units = needed_domains * g;
        let allocated = f64::from(allocated_units);
        let scale = if flags.contains(Flags::OVERSUBSCRIBED) {
            n / (units_requested as f64)
        } else {
            1.0
        };

        let plan = if self.policy == GatingPolicy::Oracle {
            oracle::plan(
                &oracle::Before {
                    stairs: &self.stairs,
                    powered: self.powered,
                    gated_since_s: self.gated_since_s,
                    clock_s: self.totals.latency_s,
                },
                &self.rates.oracle,
                needed_domains,
                max_latency,
                last,
                stage,
            )?
        } else {
            self.at_stage_start(needed_domains, max_latency)
        };
        let oracle::StageGating {
            woken: woken_domains,
            wake_s,
            powered_during,
            powered_down,
            powered_after,
            settled_us,
            prewake_us,
            ..
        } = plan;
        if wake_s > 0.0 {
            flags = flags.union(Flags::WOKE_DOMAINS);
        }
        if powered_down > 0 {
            flags = flags.union(Flags::GATED_DOMAINS);
        }
        let duration = wake_s + max_latency;
        let transitions = u64::from(woken_domains) + u64::from(powered_down);

        // Unit-seconds per state.
        let woken_units = f64::from(woken_domains * g);
        let gated_units = f64::from((total_domains - powered_during) * g);
        let idle_unallocated_units = f64::from((powered_during - needed_domains) * g);
        let mut ledger = StateLedger::ZERO;
        let mut active_us = 0.0;
        let mut idle_alloc_us = (allocated - woken_units) * wake_s;
        for p in &self.pending {
            let (a, active) = self.accounted(p, scale);
            active_us += a * active;
            idle_alloc_us += a * (max_latency - active);
        }
        let window_us = woken_units * wake_s;
        // Settlements of the oracle (zero otherwise): settled idle periods
        // move from powered to gated, wakes placed in idle time from gated
        // to transitioning.
        let transitioning_us = window_us + prewake_us;
        let idle_unalloc_us = idle_unallocated_units * duration - settled_us;
        let gated_us = gated_units * duration + settled_us - prewake_us;

        // Static energy of every powered unit. Written as `P·T·(N − G)/N`
        // less the woken units' wake window so that, with nothing gated, it
        // is exactly `P_static·T`: the original formula, bit for bit.
        let powered_share = if gated_units == 0.0 {
            1.0
        } else {
            (n - gated_units) / n
        };
        let mut static_j = p_static * duration * powered_share - p_unit * window_us;
        if settled_us != 0.0 {
            static_j -= p_unit * settled_us;
        }
        let transition_j = transitions as f64 * gating.transition_energy_j;
        let uncore_j = p_uncore * duration;
        ledger.charge(
            PowerState::Active,
            active_us,
            p_unit * active_us + compute_j + memory_j,
        );
        ledger.charge(
            PowerState::IdleAllocated,
            idle_alloc_us,
            p_unit * idle_alloc_us,
        );
        ledger.charge(
            PowerState::IdleUnallocated,
            idle_unalloc_us,
            p_unit * idle_unalloc_us,
        );
        ledger.charge(PowerState::Gated, gated_us, 0.0);
        ledger.charge(PowerState::Transitioning, transitioning_us, transition_j);
        let energy = EnergyBreakdown::new(
            compute_j,
            memory_j,
            static_j,
            uncore_j,
            transition_j,
            p_unit * gated_us,
        );

        // Shared energy: everything not owned by a subgraph's units after the
        // wake window, split by accounted allocation.
        let shared = p_unit * (allocated - woken_units) * wake_s
            + p_unit * idle_unalloc_us
            + uncore_j
            + transition_j;
        let share_per_unit = shared / allocated;

        let record = StageRecord {
            stage,
            subgraphs: u32::try_from(self.pending.len()).unwrap_or(u32::MAX),
            duration_s: duration,
            wake_s,
            units_requested,
            units_allocated: allocated_units,
            domains_woken: woken_domains,
            domains_powered_down: powered_down,
            domains_gated: total_domains - powered_during,
            states: ledger,
            energy,
            // Only a legacy stage can hold a subgraph without allocation.
            flags: if legacy
                && self
                    .pending
                    .iter()
                    .any(|p| p.domains.is_none() && p.subgraph.threads.is_none())
            {
                flags.union(Flags::LEGACY_NO_THREADS)
            } else {
                flags
            },
        };

        // Would the model's running sums stay finite? They are computed here
        // and only stored by `accumulate`, so a failed close changes nothing.
        let t = &self.totals;
        let overflow = CloseError::Overflow { stage };
        let energy_after = t.energy.checked_add(&energy).ok_or(overflow)?;
        let finite = [
            duration,
            share_per_unit,
            t.latency_s + duration,
            t.states.unit_seconds() + ledger.unit_seconds(),
            t.states.energy_j() + ledger.energy_j(),
            self.unit_time + allocated * duration,
        ]
        .iter()
        .all(|x| x.is_finite());
        if !finite || !energy.is_finite() {
            return Err(overflow);
        }
        Ok(StageOutcome {
            record,
            energy_after,
            powered_after,
            share_per_unit,
            scale,
            max_latency,
            gating: plan,
        })
    }

    /// `Off`, `Always` and `BreakEven`: every decision is taken at the start
    /// of the stage, from the stage alone.
    fn at_stage_start(&self, needed_domains: u32, max_latency: f64) -> oracle::StageGating {
        // Waking and the stage's duration.
        let woken = needed_domains.saturating_sub(self.powered);
        let wake_s = if woken > 0 {
            self.hw.gating().wake_latency_s
        } else {
            0.0
        };
        let duration = wake_s + max_latency;
        let powered_now = self.powered.max(needed_domains);

        // Gating of the powered domains this stage leaves unallocated. A stage
        // that woke domains has allocated every powered one, so `free` is 0
        // whenever `wake_s > 0` and the rule below only ever sees `T = max l`.
        let free = powered_now - needed_domains;
        let powered_down = match self.policy {
            GatingPolicy::Off | GatingPolicy::Oracle => 0,
            GatingPolicy::Always => free,
            GatingPolicy::BreakEven => {
                if self.rates.p_domain * duration > self.rates.break_even_cost {
                    free
                } else {
                    0
                }
            }
        };
        let powered_after = powered_now - powered_down;
        oracle::StageGating {
            woken,
            wake_s,
            powered_during: powered_after,
            powered_down,
            powered_after,
            settled_us: 0.0,
            prewake_us: 0.0,
            gated_since_s: self.gated_since_s,
            edit: oracle::StairEdit::default(),
        }
    }

    /// Adds a closed stage to the running totals.
    fn accumulate(&mut self, o: &StageOutcome) {
        let r = &o.record;
        let t = &mut self.totals;
        t.stages += 1;
        t.subgraphs += u64::from(r.subgraphs);
        t.latency_s += r.duration_s;
        t.states += r.states;
        t.energy = o.energy_after;
        t.peak_units_allocated = t.peak_units_allocated.max(r.units_allocated);
        t.transitions += u64::from(r.domains_woken) + u64::from(r.domains_powered_down);
        t.flags = t.flags.union(r.flags);
        self.unit_time += f64::from(r.units_allocated) * r.duration_s;
    }

    /// Units accounted to a pending subgraph and the time they are active.
    ///
    /// An allocated subgraph's units are active for its latency. A legacy
    /// subgraph holds all `N` units and is active for `u·l` of them, where
    /// `u = min(1, threads / (N · threads_per_unit))`; expressed per unit,
    /// that is `N` units active for `u·l` seconds each.
    fn accounted(&self, p: &Pending, scale: f64) -> (f64, f64) {
        match p.domains {
            Some(d) => (
                f64::from(d) * f64::from(self.hw.gating_domain()) * scale,
                p.subgraph.latency_s,
            ),
            None => (
                f64::from(self.hw.units()),
                self.legacy_utilization(&p.subgraph) * p.subgraph.latency_s,
            ),
        }
    }

    /// `min(1, threads / (N · threads_per_unit))`, or 1 without a thread count.
    fn legacy_utilization(&self, sg: &Subgraph) -> f64 {
        match sg.threads {
            Some(t) => {
                let capacity = f64::from(self.hw.units()) * f64::from(self.hw.threads_per_unit());
                (t as f64 / capacity).min(1.0)
            }
            None => 1.0,
        }
    }

    /// Hands each pending subgraph's record to the sink, in push order.
    fn emit_subgraphs<S: Sink + ?Sized>(&self, o: &StageOutcome, sink: &mut S) {
        let mut first_domain: u32 = 0;
        for (sequence, p) in (self.totals.subgraphs..).zip(self.pending.iter()) {
            let (units, active) = self.accounted(p, o.scale);
            let active_us = units * active;
            let idle_us = units * (o.max_latency - active);
            let own_static = self.rates.p_unit * (active_us + idle_us);
            let shared = o.share_per_unit * units;
            let domains = p.domains.unwrap_or(self.rates.domains);
            sink.subgraph(&SubgraphRecord {
                id: p.subgraph.id,
                sequence,
                stage: p.subgraph.stage,
                units,
                first_domain,
                domains,
                latency_s: p.subgraph.latency_s,
                active_unit_seconds: active_us,
                idle_allocated_unit_seconds: idle_us,
                legacy_utilization: p
                    .domains
                    .is_none()
                    .then(|| self.legacy_utilization(&p.subgraph)),
                compute_energy_j: p.compute_j,
                memory_energy_j: p.memory_j,
                own_static_energy_j: own_static,
                shared_energy_j: shared,
                total_energy_j: p.compute_j + p.memory_j + own_static + shared,
            });
            first_domain = first_domain.saturating_add(domains);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::presets::Preset;

    /// The shift that replaces `div_ceil` for power-of-two domains gives the
    /// same quotient, up to the largest allocation a `u32` can hold.
    #[test]
    fn domains_by_shift_equal_div_ceil() {
        for shift in 0..=20u32 {
            let g = 1u32 << shift;
            let rates = Rates {
                domain_shift: Some(shift),
                ..Rates::of(&Preset::SeedH100.model())
            };
            for a in (1..=300u32).chain([g - 1, g, g + 1, u32::MAX - 1, u32::MAX]) {
                if a == 0 {
                    continue;
                }
                assert_eq!(rates.domains_for(a, g), a.div_ceil(g), "a = {a}, g = {g}");
            }
        }
    }

    /// The per-precision table indexed by `Precision::index` is the model's
    /// own energy per operation, precision by precision.
    #[test]
    fn energy_table_follows_precision_index() {
        let hw = Preset::SeedH100.model();
        let rates = Rates::of(&hw);
        for p in Precision::ALL {
            assert_eq!(
                rates.e_op.get(p.index()).copied().flatten(),
                hw.energy_per_op_j(p)
            );
        }
    }
}
