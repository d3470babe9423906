//! The measuring side: integrate energy-counter and power samples.
//!
//! An adapter feeds a [`Meter`] one [`Sample`] at a time, stamped with its
//! own monotonic clock; the meter never reads a clock. Callers open and
//! close *windows* by name or number; each closed window gives a
//! [`WindowReport`] with the energy, how much of the window's time was
//! actually covered by data, and flags for everything that makes the number
//! less trustworthy.
//!
//! # How each interval between two samples is counted
//!
//! For consecutive samples `a` then `b` (`dt = b.t_ns − a.t_ns`):
//!
//! 1. Both carry the energy counter and `b`'s is not below `a`'s: the
//!    counter delta is the interval's energy and `dt` is covered (whatever
//!    `dt` is: a counter loses nothing between readings).
//! 2. The counter went down: it was reset (driver reload). The reset is
//!    counted and flagged; the interval is bridged as in 3.
//! 3. Otherwise, when both carry power and `dt` is at most
//!    [`MeterConfig::max_gap_ns`], the trapezoid `(pa + pb) / 2 × dt` is the
//!    energy and `dt` is covered.
//! 4. Otherwise `dt` is uncovered and counts as a gap.
//!
//! # Windows and speed
//!
//! The meter keeps running totals since its first sample (energy by method,
//! covered time, resets, gaps, unit-seconds). A window stores a snapshot of
//! those totals when it begins; its report is the difference at its end.
//! So ingesting a sample costs the same whatever number of windows is open,
//! windows may nest and overlap freely, and ending one is a subtraction.
//! Windows begin and end *at the latest sample*: an adapter that wants a
//! precise boundary ingests a fresh sample first.
//!
//! Totals are kept in integers (mJ, mW·ns, unit·ns) so that nothing drifts
//! and the meter can be compared with `==`. No sum can wrap: time sums add
//! up disjoint intervals between the first and the latest sample, so each
//! is at most that span, a `u64`; power and unit sums are below `2^33 ×`
//! that span, under `2^97`, in `u128`; the counter sum adds one rise below
//! `2^64` per counter segment (a reset starts the next), so its `u128`
//! cannot fill before `2^64` segments, more than any stream of samples has
//! (it would saturate, not wrap, beyond).
//!
//! # The fast path
//!
//! Most streams repeat one kind of sample: counter and power, power alone,
//! or counter alone, each later than the last, within the maximum gap,
//! the counter not going down. The meter keeps such a *run* of like
//! intervals open instead of adding every interval into every total: the
//! run's counter energy is the counter's rise since the run began, its
//! covered time the time since the run began (both telescope, so nothing is
//! added per sample), and only the trapezoid sum grows by one exact
//! `u128` addition per sample. A sample that does not continue the run
//! (another kind of sample, one with gated units, an interval with power
//! longer than the maximum gap or than 2^31 ns, a counter reset, the first
//! sample after a device loss) goes the general way: the run is folded into
//! the totals, the interval is counted by the rules above, and the sample
//! begins the next run. Samples to refuse go there too and are refused
//! before anything changes. Windows see the totals with the open run folded
//! in, so their reports are exactly what counting each interval on its own
//! gives.

mod context;
mod report;
#[cfg(test)]
mod tests;

pub use context::{MigContext, MigField, PROFILE_CAPACITY, UUID_CAPACITY};
pub use report::{
    EnergySplit, Method, UnitSeconds, WINDOW_NAME_CAPACITY, WindowFlags, WindowKey, WindowName,
    WindowRef, WindowReport,
};

use core::fmt;

/// One reading from a power source, as an adapter hands it to the meter.
///
/// The meter never reads a clock: the adapter stamps every sample with a
/// monotonic time in nanoseconds. A sample carries an energy counter, a power
/// reading, or both; a source that can tell which compute units are
/// power-gated (the Jetson TPC mask) says how many.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Sample {
    /// Monotonic timestamp in nanoseconds, from the adapter's clock.
    pub t_ns: u64,
    /// Cumulative energy counter in millijoules (NVML's `nvmlDeviceGetTotalEnergyConsumption`).
    pub energy_mj: Option<u64>,
    /// Instantaneous (or short-average) power in milliwatts.
    pub power_mw: Option<u32>,
    /// Number of compute units the source reports as power-gated, where it can tell.
    pub gated_units: Option<u32>,
}

/// Default number of windows a meter can hold open at once.
pub const DEFAULT_WINDOW_CAPACITY: usize = 32;

/// How a meter judges its samples.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct MeterConfig {
    /// Longest interval between two power samples that is still integrated;
    /// a longer one is a gap and its time is uncovered. Counter intervals are
    /// never gaps. Default: 1 s.
    pub max_gap_ns: u64,
    /// How often the source refreshes its readings (NVML's energy counter:
    /// about 100 ms on recent GPUs). A window shorter than this is flagged
    /// [`WindowFlags::SHORTER_THAN_UPDATE_PERIOD`]; 0 turns the flag off.
    /// Default: 100 ms.
    pub update_period_ns: u64,
    /// The device's idle power, when known: windows then split their energy
    /// into idle and dynamic parts. Default: none.
    pub idle_baseline_mw: Option<u32>,
    /// How many gateable compute units the device has (Jetson: TPCs), when
    /// the source reports gated units. Windows then count gated and powered
    /// unit-seconds, and a sample reporting more gated units than this is
    /// rejected. Default: none (gated counts are ignored).
    pub total_units: Option<u32>,
}

impl Default for MeterConfig {
    fn default() -> Self {
        MeterConfig {
            max_gap_ns: 1_000_000_000,
            update_period_ns: 100_000_000,
            idle_baseline_mw: None,
            total_units: None,
        }
    }
}

/// Why the meter refused an input. The meter is unchanged after every one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MeterError {
    /// A sample's timestamp is earlier than the previous sample's.
    TimeWentBack {
        /// Timestamp of the latest accepted sample.
        last_ns: u64,
        /// The rejected timestamp.
        got_ns: u64,
    },
    /// A sample says more units are gated than the configured total.
    GatedExceedsTotal {
        /// Gated units in the sample.
        gated: u32,
        /// [`MeterConfig::total_units`].
        total: u32,
    },
    /// `begin` of a window that is already open.
    AlreadyOpen,
    /// `end` of a window that is not open.
    NotOpen,
    /// `begin` while the meter already holds its capacity of open windows.
    TooManyWindows {
        /// The meter's window capacity.
        capacity: usize,
    },
    /// A window name longer than [`WINDOW_NAME_CAPACITY`] bytes.
    NameTooLong {
        /// Length of the name given, in bytes.
        len: usize,
        /// [`WINDOW_NAME_CAPACITY`].
        max: usize,
    },
    /// A [`MigContext`] text longer than its capacity.
    MigTextTooLong {
        /// Which field.
        field: MigField,
        /// Length given, in bytes.
        len: usize,
        /// The field's capacity.
        max: usize,
    },
}

impl fmt::Display for MeterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MeterError::TimeWentBack { last_ns, got_ns } => write!(
                f,
                "sample time {got_ns} ns is earlier than the previous sample's {last_ns} ns"
            ),
            MeterError::GatedExceedsTotal { gated, total } => write!(
                f,
                "sample reports {gated} gated units but the device has only {total}"
            ),
            MeterError::AlreadyOpen => f.write_str("the window is already open"),
            MeterError::NotOpen => f.write_str("the window is not open"),
            MeterError::TooManyWindows { capacity } => {
                write!(f, "the meter already holds {capacity} open windows")
            }
            MeterError::NameTooLong { len, max } => {
                write!(f, "window name is {len} bytes long; at most {max} fit")
            }
            MeterError::MigTextTooLong { field, len, max } => {
                write!(f, "MIG {field:?} is {len} bytes long; at most {max} fit")
            }
        }
    }
}

impl core::error::Error for MeterError {}

/// Running totals since the meter's first sample. Every field only grows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct Totals {
    /// Energy from counter deltas, mJ.
    counter_mj: u128,
    /// Time covered by counter deltas, ns.
    counter_ns: u64,
    /// Energy from power used where the counter was not (Σ (pa + pb)·dt, mW·ns × 2).
    power_x2: u128,
    /// Time covered by that power energy, ns.
    power_ns: u64,
    /// Trapezoid over every power interval no longer than the maximum gap,
    /// counter or not (mW·ns × 2): for the power × duration estimate.
    est_x2: u128,
    /// Time of those intervals, ns.
    est_ns: u64,
    /// Counter resets.
    resets: u32,
    /// Uncovered intervals.
    gaps: u32,
    /// Times the device was marked lost.
    lost: u32,
    /// Σ gated units × dt.
    gated_unit_ns: u128,
    /// Σ (total − gated) units × dt.
    powered_unit_ns: u128,
    /// Time over which gating was known.
    unit_known_ns: u64,
}

impl Totals {
    /// Adds a run of intervals of one kind, lasting `span_ns` in all, over
    /// which the counter rose by `rise_mj` and the trapezoids add up to `x2`:
    /// what counting each of its intervals by the rules adds.
    fn add_run(&mut self, run: Run, span_ns: u64, rise_mj: u64, x2: u128) {
        let (counter, power) = match run {
            Run::None => return,
            Run::CounterPower => (true, true),
            Run::Power => (false, true),
            Run::Counter => (true, false),
        };
        if counter {
            self.counter_mj = self.counter_mj.saturating_add(u128::from(rise_mj));
            self.counter_ns = self.counter_ns.wrapping_add(span_ns);
        } else {
            // Power alone: the trapezoids are the energy too (rule 3).
            self.power_x2 = self.power_x2.wrapping_add(x2);
            self.power_ns = self.power_ns.wrapping_add(span_ns);
        }
        if power {
            self.est_x2 = self.est_x2.wrapping_add(x2);
            self.est_ns = self.est_ns.wrapping_add(span_ns);
        }
    }

    fn since(&self, start: &Totals) -> Totals {
        Totals {
            counter_mj: self.counter_mj.saturating_sub(start.counter_mj),
            counter_ns: self.counter_ns.saturating_sub(start.counter_ns),
            power_x2: self.power_x2.saturating_sub(start.power_x2),
            power_ns: self.power_ns.saturating_sub(start.power_ns),
            est_x2: self.est_x2.saturating_sub(start.est_x2),
            est_ns: self.est_ns.saturating_sub(start.est_ns),
            resets: self.resets.saturating_sub(start.resets),
            gaps: self.gaps.saturating_sub(start.gaps),
            lost: self.lost.saturating_sub(start.lost),
            gated_unit_ns: self.gated_unit_ns.saturating_sub(start.gated_unit_ns),
            powered_unit_ns: self.powered_unit_ns.saturating_sub(start.powered_unit_ns),
            unit_known_ns: self.unit_known_ns.saturating_sub(start.unit_known_ns),
        }
    }
}

/// An open window: who it is and the totals when it began.
#[derive(Debug, Clone, PartialEq, Eq)]
struct OpenWindow {
    key: WindowKey,
    /// Timestamp it began at; `None` when begun before the first sample.
    start_ns: Option<u64>,
    start: Totals,
    lost_at_begin: bool,
}

/// Integrates one device's samples and reports on windows of them.
///
/// `W` is the most windows that can be open at once (default
/// [`DEFAULT_WINDOW_CAPACITY`]). The meter is plain data: no heap, no clock,
/// `Clone` and `PartialEq` (two meters are equal when they would report the
/// same for every future input).
///
/// Every method that can refuse its input returns a [`MeterError`] and then
/// leaves the meter exactly as it was.
///
/// ```
/// use wattledger_core::meter::{Meter, MeterConfig, MigContext, Method, Sample};
///
/// let mut m: Meter = Meter::new(MeterConfig::default(), MigContext::default());
/// let at = |t_ns, energy_mj| Sample { t_ns, energy_mj: Some(energy_mj), power_mw: None, gated_units: None };
/// m.ingest(at(0, 1_000))?;
/// m.begin("forward")?;
/// m.ingest(at(1_000_000_000, 3_500))?;
/// let r = m.end("forward")?;
/// // The counter went from 1000 mJ to 3500 mJ over the 1 s window: 2.5 J,
/// // every nanosecond of it covered by the counter.
/// assert_eq!(r.energy_j, 2.5);
/// assert_eq!((r.method, r.coverage), (Method::Counter, 1.0));
/// // The window is gone; ending it again is refused and changes nothing.
/// assert!(m.end("forward").is_err());
/// # Ok::<(), wattledger_core::meter::MeterError>(())
/// ```
#[derive(Debug, Clone)]
pub struct Meter<const W: usize = DEFAULT_WINDOW_CAPACITY> {
    config: MeterConfig,
    mig: MigContext,
    /// Timestamp of the first accepted sample; `None` until one is accepted.
    first_ns: Option<u64>,
    /// The latest accepted sample, kept as plain fields: the fast path
    /// stores only the readings its run carries, and reads them without
    /// testing an `Option` (the run says which are there). Meaningful only
    /// once `first_ns` is `Some`; before that `last_t_ns` is 0, so the time
    /// check needs no branch of its own.
    last_t_ns: u64,
    /// The latest counter reading; meaningful when `last_has_energy`.
    last_energy_mj: u64,
    /// The latest power reading; meaningful when `last_has_power`.
    last_power: u32,
    last_has_energy: bool,
    last_has_power: bool,
    last_gated: Option<u32>,
    /// The most recent power reading of the samples before the latest one
    /// (for the power × duration fallback when the latest has none).
    earlier_power_mw: Option<u32>,
    lost_now: bool,
    /// Totals up to the start of the open run (see the module docs).
    totals: Totals,
    /// The open run: which kind of interval the fast path counts now.
    run: Run,
    /// Longest interval the open run takes: the maximum gap for runs with
    /// power, capped at [`FAST_GAP_LIMIT_NS`]; no limit for a counter run.
    run_gap_ns: u64,
    /// Timestamp and counter reading of the sample the run began at.
    run_t0: u64,
    run_e0: u64,
    /// Σ (pa + pb)·dt over the run's intervals, mW·ns × 2 (below `2^97`:
    /// see [`trapezoid_x2`]).
    run_x2: u128,
    windows: heapless::Vec<OpenWindow, W>,
}

/// The kind of interval a run holds; each is counted by one rule of the
/// module docs, the same for every interval of the run.
///
/// Each kind's value is [`readings`] of the samples it takes, so that the
/// fast path tells whether a sample continues the run with one comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
enum Run {
    /// Counter alone on both ends, whatever the gap: rule 1.
    Counter = ENERGY,
    /// Power alone on both ends, no longer than the maximum gap: rule 3.
    Power = POWER,
    /// Counter and power on both ends, no longer than the maximum gap:
    /// rule 1 for the energy and time, the trapezoid for the estimate.
    CounterPower = ENERGY | POWER,
    /// No run: every sample takes the general path (before the first
    /// sample, after a device loss, or after a sample no run starts from).
    /// Matches no sample's readings.
    None = 0x80,
}

/// [`readings`] bit: the sample has a counter reading.
const ENERGY: u8 = 1;
/// [`readings`] bit: the sample has a power reading.
const POWER: u8 = 2;
/// [`readings`] bit: the sample has gated units.
const GATED: u8 = 4;

/// Which readings a sample carries, as [`ENERGY`], [`POWER`] and [`GATED`] bits.
fn readings(energy: bool, power: bool, gated: bool) -> u8 {
    (u8::from(energy) * ENERGY) | (u8::from(power) * POWER) | (u8::from(gated) * GATED)
}

/// Longest interval a run with power takes: with `dt` below `2^31` and
/// `pa + pb < 2^33`, the trapezoid `(pa + pb)·dt` fits a `u64`, so the fast
/// path multiplies in 64 bits. Longer intervals (up to the maximum gap)
/// take the general path, which multiplies in 128.
const FAST_GAP_LIMIT_NS: u64 = (1 << 31) - 1;

impl Run {
    /// The run a sample begins (a sample with gated units begins none: the
    /// fast path does not keep them; where the meter counts them their sums
    /// grow by the gated count of each interval, and the sources that report
    /// them poll at tens of hertz) and the longest interval that run takes.
    fn starting_at(s: &Sample, max_gap_ns: u64) -> (Run, u64) {
        let power_gap = max_gap_ns.min(FAST_GAP_LIMIT_NS);
        match (s.energy_mj.is_some(), s.power_mw.is_some(), s.gated_units) {
            (true, true, None) => (Run::CounterPower, power_gap),
            (false, true, None) => (Run::Power, power_gap),
            (true, false, None) => (Run::Counter, u64::MAX),
            _ => (Run::None, 0),
        }
    }
}

/// `(pa + pb) × dt` in mW·ns: twice the trapezoid's energy in picojoules.
///
/// `pa + pb < 2^33` and `dt < 2^64`, so the product is below `2^97` and one
/// widening 64 × 64 → 128-bit multiplication is exact: no overflow check is
/// needed. The sums it feeds add intervals that do not overlap, so their
/// `dt` add up to at most the span of the samples (below `2^64`) and the
/// sums stay below `2^97`: plain `u128` additions never wrap.
fn trapezoid_x2(pa: u32, pb: u32, dt: u64) -> u128 {
    u128::from(u64::from(pa) + u64::from(pb)) * u128::from(dt)
}

impl<const W: usize> PartialEq for Meter<W> {
    /// Equal when every future input gets the same answer from both: the
    /// configuration, the latest readings, the totals (with the open run
    /// folded in: how a meter splits them between the two is bookkeeping)
    /// and the open windows.
    fn eq(&self, other: &Self) -> bool {
        self.config == other.config
            && self.mig == other.mig
            && self.first_ns == other.first_ns
            && self.last_sample() == other.last_sample()
            && self.last_power_reading() == other.last_power_reading()
            && self.lost_now == other.lost_now
            && self.totals_now() == other.totals_now()
            && self.windows == other.windows
    }
}

impl<const W: usize> Meter<W> {
    /// A meter with no samples and no windows.
    ///
    /// `mig` is copied into every report (use `MigContext::default()` when
    /// the question does not arise, e.g. a Jetson).
    pub fn new(config: MeterConfig, mig: MigContext) -> Self {
        Meter {
            config,
            mig,
            first_ns: None,
            last_t_ns: 0,
            last_energy_mj: 0,
            last_power: 0,
            last_has_energy: false,
            last_has_power: false,
            last_gated: None,
            earlier_power_mw: None,
            lost_now: false,
            totals: Totals::default(),
            run: Run::None,
            run_gap_ns: 0,
            run_t0: 0,
            run_e0: 0,
            run_x2: 0,
            windows: heapless::Vec::new(),
        }
    }

    /// The configuration the meter was built with.
    pub fn config(&self) -> &MeterConfig {
        &self.config
    }

    /// The MIG context copied into every report.
    pub fn mig(&self) -> &MigContext {
        &self.mig
    }

    /// The latest accepted sample, if any.
    pub fn last_sample(&self) -> Option<Sample> {
        self.first_ns.map(|_| Sample {
            t_ns: self.last_t_ns,
            energy_mj: self.last_has_energy.then_some(self.last_energy_mj),
            power_mw: self.last_has_power.then_some(self.last_power),
            gated_units: self.last_gated,
        })
    }

    /// Timestamp of the latest sample, if any.
    fn last_t(&self) -> Option<u64> {
        self.first_ns.map(|_| self.last_t_ns)
    }

    /// The most recent power reading, whichever sample carried it.
    fn last_power_reading(&self) -> Option<u32> {
        if self.last_has_power {
            Some(self.last_power)
        } else {
            self.earlier_power_mw
        }
    }

    /// The running totals as of the latest sample: those up to the open
    /// run's start plus what the run holds.
    fn totals_now(&self) -> Totals {
        let mut t = self.totals;
        t.add_run(
            self.run,
            self.run_span_ns(),
            self.run_rise_mj(),
            self.run_x2,
        );
        t
    }

    /// Time from the open run's first sample to the latest. Within a run
    /// time only goes forward, so this cannot borrow.
    fn run_span_ns(&self) -> u64 {
        self.last_t_ns.wrapping_sub(self.run_t0)
    }

    /// The counter's rise over the open run (0 in a power run, where both
    /// readings are 0). In a counter run the counter only goes up, so this
    /// cannot borrow.
    fn run_rise_mj(&self) -> u64 {
        self.last_energy_mj.wrapping_sub(self.run_e0)
    }

    /// Folds the open run into the totals; a new, empty run of the same
    /// kind begins at the latest sample.
    fn fold_run(&mut self) {
        let (span, rise) = (self.run_span_ns(), self.run_rise_mj());
        // A run no sample continued holds nothing (its trapezoid sum is 0
        // too): streams that change kind at every sample skip the additions.
        if span == 0 && rise == 0 {
            return;
        }
        self.totals.add_run(self.run, span, rise, self.run_x2);
        self.run_t0 = self.last_t_ns;
        self.run_e0 = self.last_energy_mj;
        self.run_x2 = 0;
    }

    /// Number of windows open now.
    pub fn open_windows(&self) -> usize {
        self.windows.len()
    }

    /// The most windows that can be open at once (`W`).
    pub fn window_capacity(&self) -> usize {
        W
    }

    /// Whether the window `key` is open.
    pub fn is_open<'a>(&self, key: impl Into<WindowRef<'a>>) -> bool {
        let key = key.into();
        self.windows.iter().any(|w| w.key.matches(key))
    }

    /// Whether the device is marked lost (see [`Meter::mark_device_lost`])
    /// and no sample has been accepted since.
    pub fn is_device_lost(&self) -> bool {
        self.lost_now
    }

    /// Take one sample into the running totals (see the module docs for how
    /// the interval since the previous sample is counted). Costs the same
    /// whatever number of windows is open.
    ///
    /// A sample with the *same* timestamp as the previous one is accepted as
    /// a zero-length interval: it covers no time and adds no power energy,
    /// but a counter increase in it is kept (the counter is cumulative, so
    /// its delta is real energy whatever the clock's resolution), and a
    /// counter decrease is a reset. Its readings become the latest ones.
    ///
    /// # Errors
    /// - [`MeterError::TimeWentBack`] when `s.t_ns` is earlier than the
    ///   previous accepted sample's timestamp;
    /// - [`MeterError::GatedExceedsTotal`] when `s.gated_units` is larger than
    ///   a configured [`MeterConfig::total_units`].
    ///
    /// On error the meter is unchanged.
    #[inline]
    pub fn ingest(&mut self, s: Sample) -> Result<(), MeterError> {
        // The fast path: a sample that continues the open run. It cannot be
        // refused (its time is not earlier and it has no gated units), so it
        // checks nothing else. Everything else, refusals included, goes the
        // general way. The sample travels there as scalars: passed whole, it
        // would be copied to the stack before the fast path could start.
        let Sample {
            t_ns,
            energy_mj,
            power_mw,
            gated_units,
        } = s;
        let kind = readings(
            energy_mj.is_some(),
            power_mw.is_some(),
            gated_units.is_some(),
        );
        if let Some(dt) = t_ns.checked_sub(self.last_t_ns) {
            // In a counter run the power readings are 0 on both ends, and in
            // a power run the counter readings, so one sequence of steps
            // serves every kind: a zero trapezoid, a zero counter rise.
            let e = energy_mj.unwrap_or(0);
            let p = power_mw.unwrap_or(0);
            if kind == self.run as u8 && dt <= self.run_gap_ns && e >= self.last_energy_mj {
                // Below 2^64: the sum of two u32 is below 2^33 and `dt`
                // below 2^31 in a run with power (FAST_GAP_LIMIT_NS); in a
                // counter run both powers are 0.
                let x2 = (u64::from(self.last_power) + u64::from(p)).wrapping_mul(dt);
                self.run_x2 = self.run_x2.wrapping_add(u128::from(x2));
                self.last_t_ns = t_ns;
                self.last_energy_mj = e;
                self.last_power = p;
                return Ok(());
            }
        }
        self.ingest_general(t_ns, energy_mj, power_mw, gated_units)
    }

    /// [`Meter::ingest`] for a sample that does not continue the open run:
    /// checks it, folds the run into the totals, counts the interval by the
    /// rules of the module docs and begins the next run at this sample.
    /// Out of line, so that the fast path stays small where it is inlined.
    #[inline(never)]
    fn ingest_general(
        &mut self,
        t_ns: u64,
        energy_mj: Option<u64>,
        power_mw: Option<u32>,
        gated_units: Option<u32>,
    ) -> Result<(), MeterError> {
        let s = Sample {
            t_ns,
            energy_mj,
            power_mw,
            gated_units,
        };
        // Before the first sample `last_t_ns` is 0, which no time is below.
        if s.t_ns < self.last_t_ns {
            return Err(MeterError::TimeWentBack {
                last_ns: self.last_t_ns,
                got_ns: s.t_ns,
            });
        }
        if let (Some(gated), Some(total)) = (s.gated_units, self.config.total_units) {
            if gated > total {
                return Err(MeterError::GatedExceedsTotal { gated, total });
            }
        }
        // Validated: from here on nothing fails.
        self.fold_run();
        if self.first_ns.is_some() {
            self.account_interval(&s);
            if self.last_has_power {
                self.earlier_power_mw = Some(self.last_power);
            }
        } else {
            self.first_ns = Some(s.t_ns);
        }
        self.last_t_ns = s.t_ns;
        self.last_has_energy = s.energy_mj.is_some();
        self.last_energy_mj = s.energy_mj.unwrap_or(0);
        self.last_has_power = s.power_mw.is_some();
        self.last_power = s.power_mw.unwrap_or(0);
        self.last_gated = s.gated_units;
        self.lost_now = false;
        (self.run, self.run_gap_ns) = Run::starting_at(&s, self.config.max_gap_ns);
        self.run_t0 = s.t_ns;
        self.run_e0 = self.last_energy_mj;
        Ok(())
    }

    /// Counts the interval from the latest sample to `b` into the totals
    /// (the open run folded in already).
    ///
    /// The time sums (`*_ns`) add up lengths of intervals that do not
    /// overlap and lie between the first and the latest sample, so each is
    /// at most `t_last − t_first < 2^64`: a plain add is exact and cannot
    /// wrap. The power and unit sums are below `2^33` (resp. `2^32`) times
    /// that, in `u128`: they cannot wrap either. The counter sum adds one
    /// counter segment's rise per reset and keeps saturating.
    fn account_interval(&mut self, b: &Sample) {
        let last_energy = self.last_has_energy.then_some(self.last_energy_mj);
        let last_power = self.last_has_power.then_some(self.last_power);
        let t = &mut self.totals;
        let dt = b.t_ns.saturating_sub(self.last_t_ns);
        let within = dt <= self.config.max_gap_ns;
        let trap = match (last_power, b.power_mw) {
            (Some(pa), Some(pb)) if within => Some(trapezoid_x2(pa, pb, dt)),
            _ => None,
        };
        if let Some(x2) = trap {
            t.est_x2 = t.est_x2.wrapping_add(x2);
            t.est_ns = t.est_ns.wrapping_add(dt);
        }
        let counter_delta = match (last_energy, b.energy_mj) {
            (Some(ea), Some(eb)) if eb >= ea => Some(eb - ea),
            (Some(_), Some(_)) => {
                t.resets = t.resets.saturating_add(1);
                None
            }
            _ => None,
        };
        if let Some(delta) = counter_delta {
            t.counter_mj = t.counter_mj.saturating_add(u128::from(delta));
            t.counter_ns = t.counter_ns.wrapping_add(dt);
        } else if let Some(x2) = trap {
            t.power_x2 = t.power_x2.wrapping_add(x2);
            t.power_ns = t.power_ns.wrapping_add(dt);
        } else if dt > 0 {
            t.gaps = t.gaps.saturating_add(1);
        }
        if let (Some(gated), Some(total)) = (self.last_gated, self.config.total_units) {
            if within {
                let gated = gated.min(total);
                // u32 × u64: below 2^96, exact without an overflow check.
                let dt128 = u128::from(dt);
                t.gated_unit_ns = t.gated_unit_ns.wrapping_add(u128::from(gated) * dt128);
                t.powered_unit_ns = t
                    .powered_unit_ns
                    .wrapping_add(u128::from(total - gated) * dt128);
                t.unit_known_ns = t.unit_known_ns.wrapping_add(dt);
            }
        }
    }

    /// Record that the device stopped answering (NVML's GPU_IS_LOST).
    ///
    /// Every window open now, and every window begun before the next
    /// accepted sample, is flagged [`WindowFlags::DEVICE_LOST`]. The meter
    /// keeps accepting samples should the device come back. Never fails.
    pub fn mark_device_lost(&mut self) {
        // The next sample must take the general path, which clears the mark.
        self.fold_run();
        self.run = Run::None;
        self.totals.lost = self.totals.lost.saturating_add(1);
        self.lost_now = true;
    }

    /// Open the window `key` at the latest sample (or, before any sample, at
    /// the first one to come: the report is then flagged
    /// [`WindowFlags::LATE_START`]).
    ///
    /// # Errors
    /// Checked in this order, the meter unchanged on each:
    /// - [`MeterError::NameTooLong`] when a name is longer than [`WINDOW_NAME_CAPACITY`] bytes;
    /// - [`MeterError::AlreadyOpen`] when a window with that key is open;
    /// - [`MeterError::TooManyWindows`] when `W` windows are open already.
    pub fn begin<'a>(&mut self, key: impl Into<WindowRef<'a>>) -> Result<(), MeterError> {
        let key = key.into();
        let owned = match key {
            WindowRef::Name(name) => {
                let mut n = WindowName::new();
                n.push_str(name).map_err(|_| MeterError::NameTooLong {
                    len: name.len(),
                    max: WINDOW_NAME_CAPACITY,
                })?;
                WindowKey::Name(n)
            }
            WindowRef::Number(n) => WindowKey::Number(n),
        };
        if self.is_open(key) {
            return Err(MeterError::AlreadyOpen);
        }
        let window = OpenWindow {
            key: owned,
            start_ns: self.last_t(),
            start: self.totals_now(),
            lost_at_begin: self.lost_now,
        };
        self.windows
            .push(window)
            .map_err(|_| MeterError::TooManyWindows { capacity: W })
    }

    /// Close the window `key` at the latest sample and report on it.
    ///
    /// # Errors
    /// [`MeterError::NotOpen`] when no window with that key is open (the
    /// meter is then unchanged).
    pub fn end<'a>(&mut self, key: impl Into<WindowRef<'a>>) -> Result<WindowReport, MeterError> {
        let key = key.into();
        let index = self
            .windows
            .iter()
            .position(|w| w.key.matches(key))
            .ok_or(MeterError::NotOpen)?;
        let window = self.windows.swap_remove(index);
        Ok(self.report(window))
    }

    /// What [`Meter::end`] would report for `key` now, without closing it.
    ///
    /// # Errors
    /// [`MeterError::NotOpen`] when no window with that key is open.
    pub fn peek<'a>(&self, key: impl Into<WindowRef<'a>>) -> Result<WindowReport, MeterError> {
        let key = key.into();
        let window = self
            .windows
            .iter()
            .find(|w| w.key.matches(key))
            .ok_or(MeterError::NotOpen)?;
        Ok(self.report(window.clone()))
    }

    fn report(&self, window: OpenWindow) -> WindowReport {
        let d = self.totals_now().since(&window.start);
        let end_ns = self.last_t().unwrap_or(0);
        let mut flags = WindowFlags::NONE;
        let start_ns = match window.start_ns {
            Some(t) => t,
            None => {
                flags |= WindowFlags::LATE_START;
                // Before any sample the totals were zero, so the difference
                // already runs from the first sample.
                self.first_ns.unwrap_or(end_ns)
            }
        };
        let duration_ns = end_ns.saturating_sub(start_ns);
        let covered_ns = d.counter_ns.saturating_add(d.power_ns).min(duration_ns);
        let coverage = if duration_ns == 0 {
            0.0
        } else {
            (covered_ns as f64 / duration_ns as f64).clamp(0.0, 1.0)
        };
        let energy_j = d.counter_mj as f64 * 1e-3 + d.power_x2 as f64 * 0.5e-12;
        let method = match (d.counter_ns > 0 || d.counter_mj > 0, d.power_ns > 0) {
            (true, true) => Method::Mixed,
            (true, false) => Method::Counter,
            (false, true) => Method::Power,
            (false, false) => Method::Unmeasured,
        };
        if d.resets > 0 {
            flags |= WindowFlags::COUNTER_RESET;
        }
        if d.gaps > 0 {
            flags |= WindowFlags::GAP;
        }
        if d.lost > 0 || window.lost_at_begin {
            flags |= WindowFlags::DEVICE_LOST;
        }
        if self.config.update_period_ns > 0 && duration_ns < self.config.update_period_ns {
            flags |= WindowFlags::SHORTER_THAN_UPDATE_PERIOD;
        }
        if self.mig.is_mig {
            flags |= WindowFlags::MIG_PARENT_ENERGY;
        }
        let power_estimate_j = if d.est_ns > 0 {
            // mean power (mW) = est_x2 / (2 · est_ns); × duration (ns) → pJ.
            let mean_mw = d.est_x2 as f64 / (2.0 * d.est_ns as f64);
            Some(mean_mw * duration_ns as f64 * 1e-12)
        } else {
            self.last_power_reading()
                .map(|p| f64::from(p) * duration_ns as f64 * 1e-12)
        };
        let split = self.config.idle_baseline_mw.map(|base| {
            let idle_j = f64::from(base) * covered_ns as f64 * 1e-12;
            if energy_j < idle_j {
                flags |= WindowFlags::BELOW_BASELINE;
            }
            EnergySplit {
                idle_j,
                dynamic_j: (energy_j - idle_j).max(0.0),
            }
        });
        let units = self.config.total_units.map(|_| UnitSeconds {
            gated_unit_s: d.gated_unit_ns as f64 * 1e-9,
            powered_unit_s: d.powered_unit_ns as f64 * 1e-9,
            known_s: d.unit_known_ns as f64 * 1e-9,
        });
        WindowReport {
            key: window.key,
            start_ns,
            end_ns,
            duration_ns,
            energy_j,
            covered_ns,
            coverage,
            method,
            flags,
            counter_resets: d.resets,
            gaps: d.gaps,
            power_estimate_j,
            split,
            units,
            mig: self.mig.clone(),
        }
    }
}
