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
//! closes; nothing is kept. Pass `&mut ()` to discard them (the composer then
//! does not even build them), a [`Recorder`] to
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
mod sums;

pub use error::{CloseError, ComposeError, SetupError, SubgraphField};
pub use oracle::DEFAULT_IDLE_STEPS;
pub use records::{EnergyBreakdown, Flags, ModelReport, StageRecord, SubgraphRecord};
pub use sink::{FnSink, Record, Recorder, Sink, SinkFull};

use crate::hardware::{HardwareError, HardwareModel, PRECISIONS, Precision};

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

/// A subgraph that passed its checks, with what pushing it already computed:
/// only what closing its stage reads (32 bytes rather than the whole
/// subgraph), since every push copies one into the stage buffer.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Pending {
    /// The caller's id.
    id: u32,
    /// Domains it asks for: `ceil(a/g)`, at least 1 since `a ≥ 1`; 0 on
    /// the legacy path (a plain `u32` rather than an `Option` keeps the
    /// buffered subgraph at 32 bytes and its test to one comparison).
    domains: u32,
    /// Latency at the operating point's clock.
    latency_s: f64,
    compute_j: f64,
    memory_j: f64,
}

impl Pending {
    /// Whether it takes the legacy whole-chip path (it has no allocation).
    #[inline(always)]
    fn is_legacy(&self) -> bool {
        self.domains == 0
    }
}

/// What every subgraph record of a closing stage is computed from.
#[derive(Debug, Clone, Copy)]
struct StageShares {
    stage: u32,
    /// Max latency of the stage.
    max_latency: f64,
    /// The pool shared by allocation, per accounted unit.
    share_per_unit: f64,
}

/// A closing stage's sums over its subgraphs and its allocation.
#[derive(Debug, Clone, Copy)]
struct Allocation {
    /// Max latency of the stage.
    max_latency: f64,
    compute_j: f64,
    memory_j: f64,
    /// Domains allocated: those asked for, or every one for a legacy or
    /// oversubscribed stage.
    needed_domains: u32,
    units_requested: u64,
    /// What each subgraph's units are scaled by: `N / requested` when
    /// oversubscribed, else 1.
    scale: f64,
    /// `LEGACY_*` or `OVERSUBSCRIBED`, or none.
    flags: Flags,
    /// The first subgraph's units and active time, which its record reuses.
    first_accounted: (f64, f64),
    /// `Σ a_i·l_i`: unit-seconds of work.
    active_us: f64,
    /// `Σ a_i·(max l − l_i)`: unit-seconds the subgraphs' units idle
    /// after their work (from −0, see `Composer::allocation`).
    idle_own_us: f64,
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
    /// The gating rule of `Off`, `Always` and `BreakEven` as one test,
    /// `gate_per_s · T > gate_cost`, chosen once per model so that closing a
    /// stage does not branch on the policy: `BreakEven` is
    /// `p_domain · T > 2·e_tr + (P_static + P_uncore)·t_wake` itself;
    /// `Always` is `1 · T > −∞`, true for every duration; `Off` (and
    /// `Oracle`, which takes its decisions elsewhere) is `0 · T > +∞`,
    /// false for every one.
    gate_per_s: f64,
    /// Right-hand side of the gating rule (see `gate_per_s`).
    gate_cost: f64,
    /// `P_uncore`.
    p_uncore: f64,
    /// Dynamic energy per operation at the operating point, per precision;
    /// `+∞` for a precision the model does not support, so that a push
    /// finds it by the finiteness test it makes anyway, not by a test of
    /// its own (`+∞` times any operation count is `+∞` or NaN). Not NaN:
    /// a composer must stay equal to its clone.
    e_op: [f64; PRECISIONS],
    /// Energy per byte.
    e_byte: f64,
    /// What the oracle's rule reads.
    oracle: oracle::OracleRates,
    /// `2^(32 − log2 g)` when the gating domain `g` is a power of two
    /// (every preset): `ceil(a/g)` is then a multiplication and a constant
    /// shift instead of an integer division per push (a shift by a
    /// variable count would tie up the one register x86 shifts by).
    domain_mul: Option<u64>,
    /// `N / g`, the model's domain count (a division in `HardwareModel::domains`).
    domains: u32,
    /// `N`.
    units: u32,
    /// `g`.
    g: u32,
    /// `1/N`: the powered share of a stage is a multiplication by it.
    inv_n: f64,
    /// Whether latencies are taken at the operating point's own clock, so
    /// that a push need not ask the model to rescale them.
    same_clock: bool,
    /// Below this `Σ |sum|` over the model's running sums, every figure of
    /// the report and of a stage's records is finite: each is a sum of a
    /// few of them, or of a stage's parts (no larger than the sums they
    /// went into, or than `N`·them for settled idle time), times a power
    /// of at most `1 + P_static + P_uncore` watts, times at most `N ≤ 2^20`
    /// units: far below `f64::MAX / 2^64` over that power. Closing tests
    /// this one bound, and only sums above it are tested figure by figure.
    limit: f64,
    /// `1 + P_static + 8·N`: under every policy but `oracle`, `Σ T` times
    /// this, plus the dynamic and transition energies, is at least the sum
    /// of the running sums (see [`sums::Sums::bounded_by_clock`]).
    per_clock: f64,
}

impl Rates {
    fn of(hw: &HardwareModel, policy: GatingPolicy) -> Rates {
        let p_static = hw.static_power_w();
        let p_unit = hw.unit_static_power_w();
        let p_uncore = hw.uncore_power_w();
        let gating = hw.gating();
        let p_domain = p_unit * f64::from(hw.gating_domain());
        let (gate_per_s, gate_cost) = match policy {
            GatingPolicy::Off | GatingPolicy::Oracle => (0.0, f64::INFINITY),
            GatingPolicy::Always => (1.0, f64::NEG_INFINITY),
            GatingPolicy::BreakEven => (
                p_domain,
                2.0 * gating.transition_energy_j + (p_static + p_uncore) * gating.wake_latency_s,
            ),
        };
        Rates {
            p_static,
            p_unit,
            gate_per_s,
            gate_cost,
            p_uncore,
            e_op: Precision::ALL.map(|p| hw.energy_per_op_j(p).unwrap_or(f64::INFINITY)),
            e_byte: hw.energy_per_byte_j(),
            oracle: oracle::OracleRates {
                p_domain,
                p_uncore,
                e_tr: gating.transition_energy_j,
                t_wake: gating.wake_latency_s,
                g: f64::from(hw.gating_domain()),
            },
            domain_mul: domain_mul(hw.gating_domain()),
            domains: hw.domains(),
            units: hw.units(),
            g: hw.gating_domain(),
            inv_n: 1.0 / f64::from(hw.units()),
            same_clock: hw.spec().dvfs.latency_reference_mhz() == hw.spec().dvfs.frequency_mhz,
            limit: {
                let limit = f64::MAX / 18_446_744_073_709_551_616.0 / (1.0 + p_static + p_uncore);
                // A model with infinite powers tests every stage exactly.
                if limit.is_finite() { limit } else { 0.0 }
            },
            per_clock: 1.0 + p_static + 8.0 * f64::from(hw.units()),
        }
    }

    /// `ceil(a/g)`: the domains an allocation of `a` units asks for.
    #[inline]
    fn domains_for(&self, a: u32, g: u32) -> u32 {
        match self.domain_mul {
            // `g = 2^s ≥ 1`: `(a + g − 1) >> s` is `(a + g − 1)·2^(32−s) >> 32`.
            // No overflow: with `s = 0` it is `a·2^32 < 2^64`, and with
            // `s ≥ 1`, `(a + g − 1)·2^(32−s) < (2^32 + 2^s)·2^(32−s) ≤ 2^64`;
            // the quotient is at most `a`, a `u32`.
            Some(mul) => (((u64::from(a) + u64::from(g - 1)) * mul) >> 32) as u32,
            None => a.div_ceil(g),
        }
    }
}

/// [`Rates::domain_mul`] for a gating domain of `g` units: `2^(32 − log2 g)`
/// when `g` is a power of two (`g ≤ 2^31`, so the power is at least 2).
fn domain_mul(g: u32) -> Option<u64> {
    g.is_power_of_two()
        .then(|| 1u64 << (32 - g.trailing_zeros()))
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
    /// Threads of the open stage's subgraph when it is a legacy one (it
    /// then holds that one subgraph alone).
    legacy_threads: Option<u64>,
    /// Stage of the pending subgraphs, or of the last closed stage when none are pending.
    stage: Option<u32>,
    /// The last closed stage: where `stage` goes back to when the pending
    /// subgraphs are discarded.
    closed: Option<u32>,
    /// Running sums over the closed stages; [`Composer::report`] derives
    /// the model's figures from them.
    sums: sums::Sums,
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
        Ok(Composer {
            rates: Rates::of(&hw, policy),
            hw,
            policy,
            powered,
            pending: heapless::Vec::new(),
            legacy_threads: None,
            stage: None,
            closed: None,
            sums: sums::Sums::default(),
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
    /// The running sums are kept as stages close; every figure is derived
    /// from them here (see the `sums` module), so closing a stage does not
    /// pay for them.
    pub fn report(&self) -> ModelReport {
        self.sums.report(&self.rates, self.policy)
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
        self.legacy_threads = None;
        self.stage = None;
        self.closed = None;
        self.sums = sums::Sums::default();
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
                let legacy_here = self.pending.first().is_some_and(Pending::is_legacy);
                if legacy_here || pending.is_legacy() {
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
                self.legacy_threads = subgraph.threads.filter(|_| pending.is_legacy());
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
    #[inline]
    fn check(&self, sg: &Subgraph) -> Result<Pending, ComposeError> {
        let id = sg.id;
        if !all_plain_non_negative([
            sg.flops,
            sg.input_bytes,
            sg.output_bytes,
            sg.weight_bytes,
            sg.latency_s,
        ]) {
            check_fields(sg)?;
        }
        // Domains asked for: `ceil(a/g)`, or 0 on the legacy path.
        let domains = match sg.units_allocated {
            Some(0) => return Err(ComposeError::ZeroAllocation { id }),
            Some(a) => self.rates.domains_for(a, self.rates.g),
            None => 0,
        };
        // The table was scaled by the DVFS factor once, at construction;
        // `+∞` marks an unsupported precision, which the model tells apart
        // from an energy that overflowed.
        let e_op = self
            .rates
            .e_op
            .get(sg.precision.index())
            .copied()
            .unwrap_or(f64::INFINITY);
        let compute_j = sg.flops * e_op;
        let memory_j = sg.bytes() * self.rates.e_byte;
        if !all_finite([compute_j, memory_j]) {
            return Err(if self.hw.energy_per_op_j(sg.precision).is_none() {
                ComposeError::UnsupportedPrecision {
                    id,
                    precision: sg.precision,
                }
            } else {
                ComposeError::Overflow { stage: sg.stage }
            });
        }
        // The latency at the operating point's clock: the one checked above
        // unless the model was moved off the clock its latencies were taken at.
        let latency_s = if self.rates.same_clock {
            sg.latency_s
        } else {
            let l = self
                .hw
                .latency_s(sg.latency_s, sg.flops, sg.precision, sg.bytes());
            if !l.is_finite() {
                return Err(ComposeError::Overflow { stage: sg.stage });
            }
            l
        };
        Ok(Pending {
            id,
            domains,
            latency_s,
            compute_j,
            memory_j,
        })
    }

    /// Closes the open stage, if any: computes everything (the arithmetic
    /// of DESIGN.md §3), asks the sink for room, hands over the records,
    /// then commits. Fails before changing anything.
    /// `last`: [`Composer::finish`] closes it, which ends every idle period.
    ///
    /// Written as one straight pass over locals that adds a stage to the
    /// model's running sums, with no pass over the subgraphs when the stage
    /// holds one and records built only for a sink that takes them: at
    /// width 1 every push closes a stage.
    #[inline]
    fn close<S: Sink + ?Sized>(&mut self, sink: &mut S, last: bool) -> Result<(), CloseError> {
        if self.policy == GatingPolicy::Oracle {
            self.close_out_of_line(sink, last, false)
        } else {
            self.close_with(sink, last, false, false)
        }
    }

    /// [`Composer::close`] out of line, for the `oracle` policy (its plan
    /// comes back through memory, which the other policies' close, decided
    /// in registers, should not pay for) and, with `exact`, for sums above
    /// [`Rates::limit`]: the same close, testing every figure for overflow.
    /// One copy serves both, to keep the code small.
    #[inline(never)]
    fn close_out_of_line<S: Sink + ?Sized>(
        &mut self,
        sink: &mut S,
        last: bool,
        exact: bool,
    ) -> Result<(), CloseError> {
        let oracle = self.policy == GatingPolicy::Oracle;
        self.close_with(sink, last, oracle, exact)
    }

    /// The close itself. `oracle`: whether the policy is `oracle`; `exact`:
    /// test every figure instead of the bound. Both are constants where it
    /// is inlined, so that each caller keeps only its own path.
    #[inline(always)]
    fn close_with<S: Sink + ?Sized>(
        &mut self,
        sink: &mut S,
        last: bool,
        oracle: bool,
        exact: bool,
    ) -> Result<(), CloseError> {
        let Some(stage) = self.stage else {
            return Ok(());
        };
        let Some((first, rest)) = self.pending.split_first() else {
            return Ok(());
        };
        let Rates {
            domains: total_domains,
            g,
            ..
        } = self.rates;

        // A stage of one allocated subgraph that fits, the common case at
        // width 1, is told apart by one test and needs no pass, no scale
        // and no flag; any other goes through `Composer::allocation`.
        let simple = rest.is_empty() && !first.is_legacy() && first.domains <= total_domains;
        let Allocation {
            max_latency,
            compute_j,
            memory_j,
            needed_domains,
            units_requested,
            scale,
            mut flags,
            first_accounted,
            active_us,
            idle_own_us,
        } = if simple {
            let allocated = f64::from(first.domains * g);
            Allocation {
                max_latency: first.latency_s,
                compute_j: first.compute_j,
                memory_j: first.memory_j,
                needed_domains: first.domains,
                units_requested: u64::from(first.domains) * u64::from(g),
                scale: 1.0,
                flags: Flags::NONE,
                // `ceil(a/g)·g·1`: the stage's whole allocation, active for
                // the whole stage's work, so never idle.
                first_accounted: (allocated, first.latency_s),
                active_us: allocated * first.latency_s,
                idle_own_us: -0.0,
            }
        } else {
            self.allocation(first, rest)
        };
        let allocated_units = needed_domains * g;
        let allocated = f64::from(allocated_units);

        let plan = if oracle {
            oracle::plan(
                &oracle::Before {
                    stairs: &self.stairs,
                    powered: self.powered,
                    gated_since_s: self.gated_since_s,
                    clock_s: self.sums.latency_s,
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

        // Unit-seconds per state. The subgraphs' own units: the first one
        // alone at width 1, else a pass over all of them.
        let woken_units = f64::from(woken_domains * g);
        let gated_units = f64::from((total_domains - powered_during) * g);
        let idle_unallocated_units = f64::from((powered_during - needed_domains) * g);
        // Idle allocated time: the allocated units not woken, during the
        // wake; then each subgraph's units after its own work.
        let idle_alloc_us = (allocated - woken_units) * wake_s + idle_own_us;
        let window_us = woken_units * wake_s;
        // Settlements of the oracle (zero otherwise): settled idle periods
        // move from powered to gated, wakes placed in idle time from gated
        // to transitioning.
        let closing = sums::Closing {
            stage,
            subgraphs: if simple {
                1
            } else {
                u32::try_from(self.pending.len()).unwrap_or(u32::MAX)
            },
            duration_s: duration,
            wake_s,
            units_requested,
            allocated_units,
            woken_domains,
            powered_down,
            gated_domains: total_domains - powered_during,
            flags,
            compute_j,
            memory_j,
            active_us,
            idle_allocated_us: idle_alloc_us,
            idle_unallocated_us: idle_unallocated_units * duration - settled_us,
            gated_us: gated_units * duration + settled_us - prewake_us,
            transitioning_us: window_us + prewake_us,
            window_us,
            settled_us,
            gated_units,
            woken_units,
        };

        // Would every figure stay finite? The sums are computed here and
        // only stored below, so a failed close changes nothing.
        let after = self.sums.plus(&closing, &self.rates);
        if exact {
            if !self.all_finite_exactly(&after, &closing) {
                return Err(CloseError::Overflow { stage });
            }
        } else if !(if oracle {
            after.bounded(self.rates.limit)
        } else {
            after.bounded_by_clock(&self.rates)
        }) {
            return self.close_out_of_line(sink, last, true);
        }

        sink.reserve(self.pending.len())
            .map_err(|_| CloseError::SinkFull { stage })?;

        // Commit, then hand over the records: nothing can fail any more
        // (a sink that reserved room takes every record), and the new sums
        // need not stay live while the records are built.
        let sequence = self.sums.subgraphs;
        self.sums = after;
        self.powered = plan.powered_after;
        if oracle {
            oracle::apply(&mut self.stairs, &plan.edit);
            self.gated_since_s = plan.gated_since_s;
        }
        self.closed = Some(stage);
        if sink.wants_records() {
            let shares = StageShares {
                stage,
                max_latency,
                share_per_unit: closing.share_per_unit(&self.rates),
            };
            let record = self.subgraph_record(first, first_accounted, &shares, sequence, 0);
            sink.subgraph(&record);
            // The others, if any, placed after the first one's domains.
            let mut first_domain = record.domains;
            for (sequence, p) in (sequence + 1..).zip(rest) {
                let accounted = self.accounted(p, scale);
                let record = self.subgraph_record(p, accounted, &shares, sequence, first_domain);
                first_domain = first_domain.saturating_add(record.domains);
                sink.subgraph(&record);
            }
            sink.stage(&closing.record(&self.rates));
        }
        Ok(())
    }

    /// The exact test behind [`sums::Sums::bounded`], for sums above its
    /// bound: every figure of the model's report with the stage added, and
    /// of the stage's record, is finite (and so are the sums of the
    /// ledgers' unit-seconds and joules, which readers add up).
    fn all_finite_exactly(&self, after: &sums::Sums, closing: &sums::Closing) -> bool {
        let r = after.report(&self.rates, self.policy);
        let st = closing.record(&self.rates);
        r.energy.is_finite()
            && st.energy.is_finite()
            && all_finite([
                r.latency_s,
                r.states.unit_seconds(),
                r.states.energy_j(),
                r.average_units_allocated,
                st.duration_s,
                st.states.unit_seconds(),
                st.states.energy_j(),
                closing.share_per_unit(&self.rates),
            ])
    }

    /// The open stage's sums over its subgraphs (in push order from zero)
    /// and its allocation, in domains, for any stage: several subgraphs, a
    /// legacy one (which holds its stage alone), an oversubscribed one.
    #[inline(always)]
    fn allocation(&self, first: &Pending, rest: &[Pending]) -> Allocation {
        let Rates {
            domains: total_domains,
            units: n_units,
            g,
            ..
        } = self.rates;
        let (requested_domains, max_latency, compute_j, memory_j) = if rest.is_empty() {
            (
                u64::from(first.domains),
                first.latency_s,
                first.compute_j,
                first.memory_j,
            )
        } else {
            stage_sums(&self.pending)
        };
        let legacy = first.is_legacy();
        let mut flags = Flags::NONE;
        let needed_domains: u32 = if legacy {
            flags = flags.union(if self.legacy_threads.is_none() {
                Flags::LEGACY_PATH.union(Flags::LEGACY_NO_THREADS)
            } else {
                Flags::LEGACY_PATH
            });
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
        let scale = if flags.contains(Flags::OVERSUBSCRIBED) {
            f64::from(n_units) / (units_requested as f64)
        } else {
            1.0
        };
        // Units and active time per subgraph; the idle sum starts from −0
        // so that adding it to the wake's part leaves that part as it is
        // when every subgraph is active for the whole stage.
        let mut active_us = 0.0;
        let mut idle_own_us = -0.0;
        for p in &self.pending {
            let (a, active) = self.accounted(p, scale);
            active_us += a * active;
            idle_own_us += a * (max_latency - active);
        }
        Allocation {
            max_latency,
            compute_j,
            memory_j,
            needed_domains,
            units_requested,
            scale,
            flags,
            first_accounted: self.accounted(first, scale),
            active_us,
            idle_own_us,
        }
    }

    /// `Off`, `Always` and `BreakEven`: every decision is taken at the start
    /// of the stage, from the stage alone.
    #[inline(always)]
    fn at_stage_start(&self, needed_domains: u32, max_latency: f64) -> oracle::StageGating {
        // Waking and the stage's duration.
        let woken = needed_domains.saturating_sub(self.powered);
        let wake_s = if woken > 0 {
            self.rates.oracle.t_wake
        } else {
            0.0
        };
        let duration = wake_s + max_latency;
        let powered_now = self.powered.max(needed_domains);

        // Gating of the powered domains this stage leaves unallocated. A stage
        // that woke domains has allocated every powered one, so `free` is 0
        // whenever `wake_s > 0` and the rule below only ever sees `T = max l`.
        let free = powered_now - needed_domains;
        // The policy's rule, selected at construction (see `Rates::gate_per_s`).
        let powered_down = if self.rates.gate_per_s * duration > self.rates.gate_cost {
            free
        } else {
            0
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

    /// Units accounted to a pending subgraph and the time they are active.
    ///
    /// An allocated subgraph's units are active for its latency. A legacy
    /// subgraph holds all `N` units and is active for `u·l` of them, where
    /// `u = min(1, threads / (N · threads_per_unit))`; expressed per unit,
    /// that is `N` units active for `u·l` seconds each.
    #[inline(always)]
    fn accounted(&self, p: &Pending, scale: f64) -> (f64, f64) {
        if p.is_legacy() {
            (
                f64::from(self.rates.units),
                self.legacy_utilization() * p.latency_s,
            )
        } else {
            (
                f64::from(p.domains) * f64::from(self.rates.g) * scale,
                p.latency_s,
            )
        }
    }

    /// `min(1, threads / (N · threads_per_unit))` for the open legacy
    /// stage's subgraph, or 1 without a thread count.
    fn legacy_utilization(&self) -> f64 {
        match self.legacy_threads {
            Some(t) => {
                let capacity = f64::from(self.hw.units()) * f64::from(self.hw.threads_per_unit());
                (t as f64 / capacity).min(1.0)
            }
            None => 1.0,
        }
    }

    /// One pending subgraph's record, from its [`Composer::accounted`] units
    /// and active time.
    #[inline(always)]
    fn subgraph_record(
        &self,
        p: &Pending,
        (units, active): (f64, f64),
        s: &StageShares,
        sequence: u64,
        first_domain: u32,
    ) -> SubgraphRecord {
        let active_us = units * active;
        let idle_us = units * (s.max_latency - active);
        let own_static = self.rates.p_unit * (active_us + idle_us);
        let shared = s.share_per_unit * units;
        SubgraphRecord {
            id: p.id,
            sequence,
            stage: s.stage,
            units,
            first_domain,
            domains: if p.is_legacy() {
                self.rates.domains
            } else {
                p.domains
            },
            latency_s: p.latency_s,
            active_unit_seconds: active_us,
            idle_allocated_unit_seconds: idle_us,
            legacy_utilization: p.is_legacy().then(|| self.legacy_utilization()),
            compute_energy_j: p.compute_j,
            memory_energy_j: p.memory_j,
            own_static_energy_j: own_static,
            shared_energy_j: shared,
            total_energy_j: p.compute_j + p.memory_j + own_static + shared,
        }
    }
}

/// `(Σ ceil(a_i/g), max l_i, Σ compute, Σ memory)` over a stage's
/// subgraphs, added in push order from zero.
fn stage_sums(pending: &[Pending]) -> (u64, f64, f64, f64) {
    let mut requested_domains: u64 = 0;
    let mut max_latency: f64 = 0.0;
    let mut compute_j = 0.0;
    let mut memory_j = 0.0;
    for p in pending {
        requested_domains += u64::from(p.domains);
        max_latency = max_latency.max(p.latency_s);
        compute_j += p.compute_j;
        memory_j += p.memory_j;
    }
    (requested_domains, max_latency, compute_j, memory_j)
}

/// Whether every value is a finite number ≥ 0 other than −0. As bit
/// patterns those are exactly the ones below +∞'s (the sign bit puts every
/// negative value, −0 included, above it, and NaNs lie above it too), so the
/// test is one integer maximum per value. A value that fails it goes through
/// [`check_fields`], which names the field, or accepts a −0.
#[inline(always)]
fn all_plain_non_negative<const K: usize>(xs: [f64; K]) -> bool {
    xs.iter().fold(0u64, |m, x| m.max(x.to_bits())) < f64::INFINITY.to_bits()
}

/// Whether every value is finite, with one branch: `x·0` is ±0 for a finite
/// `x` and NaN for an infinity or a NaN, and a NaN survives the sum, so the
/// sum is 0 exactly when every value is finite.
#[inline(always)]
fn all_finite<const K: usize>(xs: [f64; K]) -> bool {
    xs.iter().fold(0.0, |z, x| z + x * 0.0) == 0.0
}

/// The field-by-field check of a subgraph's numbers, in field order, for
/// the error that names the first bad one: the slow path of
/// [`Composer::check`], taken only when its quick test fails.
#[cold]
#[inline(never)]
fn check_fields(sg: &Subgraph) -> Result<(), ComposeError> {
    for (value, field) in [
        (sg.flops, SubgraphField::Flops),
        (sg.input_bytes, SubgraphField::InputBytes),
        (sg.output_bytes, SubgraphField::OutputBytes),
        (sg.weight_bytes, SubgraphField::WeightBytes),
        (sg.latency_s, SubgraphField::Latency),
    ] {
        crate::float::non_negative(value).map_err(|e| ComposeError::from_float(e, sg.id, field))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::presets::Preset;

    /// The multiplication that replaces `div_ceil` for power-of-two domains
    /// gives the same quotient, up to the largest allocation a `u32` can
    /// hold, for every power of two a `u32` holds.
    #[test]
    fn domains_by_multiplication_equal_div_ceil() {
        assert_eq!(domain_mul(3), None);
        assert_eq!(domain_mul(1), Some(1 << 32));
        for shift in 0..=31u32 {
            let g = 1u32 << shift;
            let rates = Rates {
                domain_mul: domain_mul(g),
                ..Rates::of(&Preset::SeedH100.model(), GatingPolicy::Off)
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
        let rates = Rates::of(&hw, GatingPolicy::Off);
        for p in Precision::ALL {
            // `+∞` stands for "not supported".
            let e = rates.e_op.get(p.index()).copied();
            assert_eq!(
                e,
                Some(hw.energy_per_op_j(p).unwrap_or(f64::INFINITY)),
                "{p:?}"
            );
        }
    }
}
