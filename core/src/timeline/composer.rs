//! The sweep: events in time order, one charge per interval between events.

use core::cmp::Ordering;

use super::ring::Ring;
use super::{
    DEFAULT_CAPACITY, DEFAULT_IDLE_GROUPS, Engine, Interval, IntervalField, KernelRecord,
    TimelineError, TimelinePolicy, TimelineReport, TimelineSink,
};
use crate::compose::{Flags, MAX_UNITS};
use crate::hardware::{HardwareError, HardwareModel, PRECISIONS, Precision};
use crate::state::{PowerState, StateLedger};

/// Nanoseconds to seconds.
const NS: f64 = 1e-9;

/// An idle period's length when only "long" is known (a settled domain).
const LONG: u64 = u64::MAX;

/// Figures derived from the hardware model once.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Rates {
    p_static: f64,
    p_unit: f64,
    p_uncore: f64,
    /// `active_power_w / N` at the operating point.
    p_active_unit: f64,
    e_op: [Option<f64>; PRECISIONS],
    e_byte: f64,
    e_tr: f64,
    t_wake_s: f64,
    /// `g`, as a float.
    g: f64,
    /// `g`.
    g_units: u32,
    /// `log₂ g` when `g` is a power of two (the usual case), so that a
    /// kernel's domains are a shift rather than a division.
    g_shift: Option<u32>,
    /// `p_unit · g`: static power of one domain.
    p_domain: f64,
    /// `p_domain · 10⁻⁹`: static joules of one domain-nanosecond.
    p_domain_ns: f64,
    /// A bound on every energy of a timeline but the kernels' compute and
    /// memory energy (static, uncore, active, transitions over at most 2⁶⁴
    /// ns), finite by the checks of [`Timeline::new`]: with the dynamic sum
    /// plus this finite, no sum of the timeline can overflow.
    headroom_j: f64,
    domains: u32,
    /// `t_be` rounded up to a whole ns; `LONG` when gating never pays.
    t_be_ns: u64,
    /// Age from which a free domain's exact age no longer matters to the
    /// policy; such domains are kept as one count.
    horizon_ns: u64,
    /// The policy as run: `timeout` and `oracle` never gate where units draw
    /// no static power (nothing to save), so they run as `off` there.
    mode: TimelinePolicy,
}

/// `x` as a float: one signed conversion in the usual case, where the top
/// bit is clear (x86-64 has no unsigned one).
#[inline(always)]
fn to_f64(x: u64) -> f64 {
    match i64::try_from(x) {
        Ok(v) => v as f64,
        Err(_) => to_f64_top_bit(x),
    }
}

/// [`to_f64`] for `x ≥ 2⁶³`, out of line so that the compiler does not fold
/// the two conversions back into the long unsigned one.
#[cold]
#[inline(never)]
fn to_f64_top_bit(x: u64) -> f64 {
    x as f64
}

/// Whole nanoseconds at or above `s` seconds, `LONG` when out of range.
fn ceil_ns(s: f64) -> u64 {
    let ns = libm::ceil(s * 1e9);
    if ns.is_finite() && ns < 1.8e19 {
        // In range and non-negative (inputs are ≥ 0).
        ns as u64
    } else {
        LONG
    }
}

impl Rates {
    /// Gating then waking `n` domains (`units` units): the unit-seconds of
    /// the wake window, the transitions and the energy charged as
    /// transitioning (the window's static energy plus the transitions).
    #[inline(always)]
    fn wake(&self, units: f64, n: u32) -> (f64, u64, f64) {
        let us = units * self.t_wake_s;
        let transitions = 2 * u64::from(n);
        (
            us,
            transitions,
            self.p_unit * us + transitions as f64 * self.e_tr,
        )
    }

    /// `ceil(units / g)`.
    #[inline(always)]
    fn domains_for(&self, units: u32) -> u32 {
        match self.g_shift {
            // units + g − 1 may not fit a u32: round up from the quotient.
            Some(k) => (units >> k) + u32::from(units & (self.g_units - 1) != 0),
            None => units.div_ceil(self.g_units),
        }
    }

    fn of(hw: &HardwareModel, policy: TimelinePolicy) -> Rates {
        let p_unit = hw.unit_static_power_w();
        let g = f64::from(hw.gating_domain());
        let gating = hw.gating();
        let p_domain = p_unit * g;
        let t_be_ns = if p_domain > 0.0 {
            ceil_ns(2.0 * gating.transition_energy_j / p_domain + gating.wake_latency_s)
        } else {
            LONG
        };
        let t_wake_ns = ceil_ns(gating.wake_latency_s);
        let mode = match policy {
            TimelinePolicy::Timeout | TimelinePolicy::Oracle if t_be_ns == LONG => {
                TimelinePolicy::Off
            }
            other => other,
        };
        let horizon_ns = match mode {
            TimelinePolicy::Off => 0,
            TimelinePolicy::Always => t_wake_ns.max(1),
            TimelinePolicy::Timeout => t_be_ns.saturating_add(t_wake_ns.max(1)),
            TimelinePolicy::Oracle => t_be_ns.saturating_add(1),
        };
        Rates {
            p_static: hw.static_power_w(),
            p_unit,
            p_uncore: hw.uncore_power_w(),
            p_active_unit: hw.active_power_w() / f64::from(hw.units()),
            e_op: Precision::ALL.map(|p| hw.energy_per_op_j(p)),
            e_byte: hw.energy_per_byte_j(),
            e_tr: gating.transition_energy_j,
            t_wake_s: gating.wake_latency_s,
            g,
            g_units: hw.gating_domain(),
            g_shift: hw
                .gating_domain()
                .is_power_of_two()
                .then(|| hw.gating_domain().trailing_zeros()),
            p_domain,
            p_domain_ns: p_domain * NS,
            headroom_j: (hw.static_power_w() + hw.uncore_power_w() + hw.active_power_w()) * 1e11
                + gating.transition_energy_j * 1e26,
            domains: hw.domains(),
            t_be_ns,
            horizon_ns,
            mode,
        }
    }
}

/// A kernel or copy in flight as the heap sees it: its end, push order and
/// the slot holding the rest. Small, so that sifting moves 24 bytes, not the
/// whole kernel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Key {
    end_ns: u64,
    sequence: u64,
    slot: u32,
}

impl Key {
    /// `(end, sequence)` as one number, so that the heap compares with one
    /// 128-bit comparison rather than a tuple's two steps.
    #[inline(always)]
    fn rank(&self) -> u128 {
        (u128::from(self.end_ns) << 64) | u128::from(self.sequence)
    }
}

impl Ord for Key {
    #[inline(always)]
    fn cmp(&self, other: &Self) -> Ordering {
        self.rank().cmp(&other.rank())
    }
}

impl PartialOrd for Key {
    #[inline(always)]
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
    #[inline(always)]
    fn lt(&self, other: &Self) -> bool {
        self.rank() < other.rank()
    }
    #[inline(always)]
    fn le(&self, other: &Self) -> bool {
        self.rank() <= other.rank()
    }
    #[inline(always)]
    fn gt(&self, other: &Self) -> bool {
        self.rank() > other.rank()
    }
    #[inline(always)]
    fn ge(&self, other: &Self) -> bool {
        self.rank() >= other.rank()
    }
}

/// What the sweep keeps of a kernel or copy in flight, in a fixed slot that
/// does not move while it runs.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Slot {
    id: u64,
    start_ns: u64,
    stream: u32,
    /// Domains asked for; 0 for a copy.
    domains: u32,
    copy: bool,
    has_work: bool,
    compute_j: f64,
    memory_j: f64,
    /// `per_copy_j` (a copy) or `per_domain_j` (a kernel) when it started.
    shared_at: f64,
    /// `scaled_s` when it started.
    scaled_at: f64,
    /// `oversubscribed` when it started.
    oversubscribed_at: u64,
}

impl Slot {
    const EMPTY: Slot = Slot {
        id: 0,
        start_ns: 0,
        stream: 0,
        domains: 0,
        copy: false,
        has_work: false,
        compute_j: 0.0,
        memory_j: 0.0,
        shared_at: 0.0,
        scaled_at: 0.0,
        oversubscribed_at: 0,
    };
}

/// An interval's own figures, once checked.
#[derive(Debug, Clone, Copy)]
struct Checked {
    domains: u32,
    copy: bool,
    has_work: bool,
    compute_j: f64,
    memory_j: f64,
}

/// Running integrals from which a kernel's charges follow at its end as the
/// difference from its start: O(1) per interval whatever runs.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
struct Accumulators {
    /// Σ shared pool / domains asked for, over intervals where kernels run.
    per_domain_j: f64,
    /// Σ shared pool / copies running, over intervals where only copies run.
    per_copy_j: f64,
    /// Σ scale · dt (s), over intervals where kernels run: a kernel's active
    /// unit-seconds are its units times the difference.
    scaled_s: f64,
    /// Oversubscribed intervals so far.
    oversubscribed: u64,
}

impl Accumulators {
    const ZERO: Accumulators = Accumulators {
        per_domain_j: 0.0,
        per_copy_j: 0.0,
        scaled_s: 0.0,
        oversubscribed: 0,
    };
}

/// A 128-bit sum kept as two words, so that the composer stays 8-byte
/// aligned (a `u128` field would make it 16, which C callers' storage need
/// not be).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct Wide {
    lo: u64,
    hi: u64,
}

impl Wide {
    #[inline(always)]
    fn add(&mut self, x: u128) {
        let v = ((u128::from(self.hi) << 64) | u128::from(self.lo)).wrapping_add(x);
        // Truncations on purpose: the two halves.
        self.lo = v as u64;
        self.hi = (v >> 64) as u64;
    }

    fn to_f64(self) -> f64 {
        ((u128::from(self.hi) << 64) | u128::from(self.lo)) as f64
    }
}

/// What the per-state totals need beyond the kernels' own accumulators,
/// kept so that an interval costs as little as possible and turned into
/// unit-seconds and joules once, in [`Timeline::report`].
///
/// Active unit-seconds and the active energy of kernels without FLOPs are
/// not integrated per interval at all: they are the sums of what each
/// kernel is charged (`units · Δscaled_s`, which adds up to `Σ in_use · dt`),
/// over the kernels ended plus those in flight up to the cursor. Under `Off`
/// the free domains are all powered, so their time is `N · span` less the
/// active time; under the other policies the free list's integrals below
/// are exact integers, in domain-nanoseconds.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
struct Integrals {
    /// Σ free powered domains · dt (not under `Off`).
    powered: Wide,
    /// Σ free gated domains · dt.
    gated: Wide,
    /// Nanoseconds with nothing running.
    idle_ns: u64,
    /// Active unit-seconds of the kernels ended.
    ended_active_us: f64,
    /// `active_power_w / N` energy of the kernels ended.
    ended_active_j: f64,
}

/// Domains freed at one instant and still free.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Group {
    since_ns: u64,
    count: u32,
}

impl Group {
    /// No domains: what an empty ring's storage holds.
    const NONE: Group = Group {
        since_ns: 0,
        count: 0,
    };
}

/// The free-domain list: recently freed groups, youngest last, and one count
/// for the domains old enough that their exact age no longer matters.
#[derive(Debug, Clone, PartialEq)]
struct Free<const GROUPS: usize> {
    groups: Ring<Group, GROUPS>,
    /// Leading groups past `t_be` (timeout and oracle only).
    crossed: usize,
    /// Domains in groups not yet past `t_be`.
    uncrossed_domains: u32,
    settled: u32,
}

/// The kernels in flight as keys sorted by end, latest first, so that the
/// next to end is the last: popping it moves nothing, and counting those
/// that end by a time walks back from the end. A new kernel usually ends
/// after most of those running, so it goes in near the front and the keys
/// after it move up by one, 24 bytes each, in one block move with no
/// data-dependent branch (a binary heap's sift steps mispredict about half
/// the time at 16 streams).
#[derive(Debug, Clone, PartialEq)]
struct Queue<const CAP: usize> {
    keys: heapless::Vec<Key, CAP>,
}

impl<const CAP: usize> Queue<CAP> {
    fn new() -> Self {
        Queue {
            keys: heapless::Vec::new(),
        }
    }

    #[inline(always)]
    fn len(&self) -> usize {
        self.keys.len()
    }

    /// The keys in flight, latest end first.
    #[inline(always)]
    fn as_slice(&self) -> &[Key] {
        &self.keys
    }

    /// The next to end.
    #[inline(always)]
    fn peek(&self) -> Option<&Key> {
        self.keys.last()
    }

    #[inline(always)]
    fn pop(&mut self) -> Option<Key> {
        self.keys.pop()
    }

    /// Inserts in order; `false` when full.
    #[inline(always)]
    fn push(&mut self, key: Key) -> bool {
        let rank = key.rank();
        // Those ending after it stay before it. A new kernel runs its whole
        // length while those in flight have only their rest left, so few end
        // after it: a walk from the front is short (none with one stream,
        // about a third of those in flight with many).
        let at = self.keys.iter().take_while(|k| k.rank() > rank).count();
        if at >= self.keys.len() {
            // It ends first: nothing moves.
            return self.keys.push(key).is_ok();
        }
        self.keys.insert(at, key).is_ok()
    }
}

/// What one idle period cost, booked when it ends.
#[derive(Debug, Clone, Copy, Default)]
struct Booking {
    energy_j: f64,
}

/// The timeline composer.
///
/// `CAP` is the most kernels and copies in flight at once; `GROUPS` the most
/// groups of free domains whose age still matters to the policy (domains
/// freed at distinct instants within the last `t_be + t_wake`). Both are
/// capacities: exceeding one is an error, never a truncation. The composer is
/// about `100·CAP + 16·GROUPS` bytes and never allocates.
#[derive(Debug, Clone, PartialEq)]
pub struct Timeline<const CAP: usize = DEFAULT_CAPACITY, const GROUPS: usize = DEFAULT_IDLE_GROUPS>
{
    hw: HardwareModel,
    policy: TimelinePolicy,
    rates: Rates,
    origin_ns: u64,
    /// Charged up to here.
    cursor_ns: u64,
    /// Latest start accepted (the origin before any).
    latest_start_ns: u64,
    /// Latest end seen.
    latest_end_ns: u64,
    in_flight: Queue<CAP>,
    /// The kernels in flight, at the slots their keys name.
    slots: [Slot; CAP],
    /// Free slots: the first `CAP − in flight` entries.
    free_slots: [u32; CAP],
    sequence: u64,
    /// Σ domains asked for by running kernels.
    asked: u64,
    copies: u32,
    /// `min(asked, domains)`.
    in_use: u32,
    free: Free<GROUPS>,
    acc: Accumulators,
    /// Per-state totals of the intervals charged so far.
    integrals: Integrals,
    /// Most domains in use at once.
    peak_in_use: u32,
    /// Booked, not yet shared: goes to the next interval of non-zero length.
    carry_j: f64,
    finished: bool,
    totals: TimelineReport,
}

impl<const CAP: usize, const GROUPS: usize> Timeline<CAP, GROUPS> {
    /// A timeline for `hw` under `policy` whose span starts at `origin_ns`,
    /// with every domain powered and free.
    ///
    /// # Errors
    /// [`TimelineError::GatingUnsupported`] for a policy other than `Off` on
    /// hardware that cannot gate; [`TimelineError::Hardware`] with
    /// [`HardwareError::TooManyUnits`] above [`MAX_UNITS`], or with
    /// [`HardwareError::Infinite`] when its powers or transition energy are so
    /// large (above about 10²⁸⁰ W or J) that a timeline's sums could overflow.
    pub fn new(
        hw: HardwareModel,
        policy: TimelinePolicy,
        origin_ns: u64,
    ) -> Result<Self, TimelineError> {
        if hw.units() > MAX_UNITS {
            return Err(TimelineError::Hardware(HardwareError::TooManyUnits {
                units: hw.units(),
                capacity: MAX_UNITS as usize,
            }));
        }
        if policy != TimelinePolicy::Off && !hw.gating().can_gate {
            return Err(TimelineError::GatingUnsupported(policy));
        }
        // 2⁶⁴ ns is 1.8·10¹⁰ s, and a timeline has at most 2⁶⁴ periods of
        // at most 2²⁰ domains: with these bounds finite, no sum can overflow.
        let power = hw.static_power_w() + hw.uncore_power_w() + hw.active_power_w();
        if !(power * 1e12).is_finite() {
            return Err(TimelineError::Hardware(HardwareError::Infinite(
                crate::hardware::HardwareField::IdlePower,
            )));
        }
        if !(hw.gating().transition_energy_j * 1e27).is_finite() {
            return Err(TimelineError::Hardware(HardwareError::Infinite(
                crate::hardware::HardwareField::TransitionEnergy,
            )));
        }
        let rates = Rates::of(&hw, policy);
        let mut t = Timeline {
            totals: TimelineReport {
                units: hw.units(),
                policy,
                ..TimelineReport::default()
            },
            hw,
            policy,
            rates,
            origin_ns,
            cursor_ns: origin_ns,
            latest_start_ns: origin_ns,
            latest_end_ns: origin_ns,
            in_flight: Queue::new(),
            slots: [Slot::EMPTY; CAP],
            // Slot indices fit a u32: no composer has 2³² slots of ~90 bytes.
            free_slots: core::array::from_fn(|i| u32::try_from(i).unwrap_or(u32::MAX)),
            sequence: 0,
            asked: 0,
            copies: 0,
            in_use: 0,
            free: Free {
                groups: Ring::new(Group::NONE),
                crossed: 0,
                uncrossed_domains: 0,
                settled: 0,
            },
            acc: Accumulators::ZERO,
            integrals: Integrals::default(),
            peak_in_use: 0,
            carry_j: 0.0,
            finished: false,
        };
        // Every domain is free from the origin; "long" idle is all the same
        // to every policy only once it is past the horizon, so they start as
        // a group (or as settled under `Off`, where age never matters).
        t.free_push(origin_ns, t.rates.domains);
        Ok(t)
    }

    /// The hardware model.
    pub fn hardware(&self) -> &HardwareModel {
        &self.hw
    }

    /// The gating policy.
    pub fn policy(&self) -> TimelinePolicy {
        self.policy
    }

    /// Kernels and copies in flight.
    pub fn in_flight(&self) -> usize {
        self.in_flight.len()
    }

    /// The break-even idle time `t_be`, in ns (`u64::MAX` when gating never pays).
    pub fn break_even_ns(&self) -> u64 {
        self.rates.t_be_ns
    }

    /// Starts over from `origin_ns` with every domain powered and free; keeps
    /// the hardware and policy.
    pub fn reset(&mut self, origin_ns: u64) {
        // The arguments were accepted before, so construction cannot fail;
        // keeping the old value on the impossible error keeps this panic-free.
        if let Ok(fresh) = Self::new(self.hw.clone(), self.policy, origin_ns) {
            *self = fresh;
        }
    }

    /// Totals so far: exact once [`Timeline::finish`] has run. Before that,
    /// kernels in flight have their dynamic energy counted but not their
    /// records, and idle periods not yet ended are not costed.
    pub fn report(&self) -> TimelineReport {
        let mut r = self.totals;
        let rates = &self.rates;
        let i = &self.integrals;
        // Domain-ns to unit-seconds. The integrals are below 2⁸⁴, exact as
        // integers; each is rounded once here.
        let us = rates.g * NS;
        let mut active_us = i.ended_active_us;
        let mut active_j = i.ended_active_j;
        for key in self.in_flight.as_slice().iter() {
            if let Some(k) = self.slots.get(key.slot as usize)
                && !k.copy
            {
                let a = f64::from(k.domains) * rates.g * (self.acc.scaled_s - k.scaled_at);
                active_us += a;
                if !k.has_work {
                    active_j += rates.p_active_unit * a;
                }
            }
        }
        let span_ns = self.cursor_ns - self.origin_ns;
        let powered_us = if rates.mode == TimelinePolicy::Off {
            (f64::from(r.units) * span_ns as f64 * NS - active_us).max(0.0)
        } else {
            i.powered.to_f64() * us
        };
        let gated_us = i.gated.to_f64() * us;
        let active_static_j = rates.p_unit * active_us;
        let idle_static_j = rates.p_unit * powered_us;
        let l = &mut r.states;
        let dynamic_j = r.compute_energy_j + r.memory_energy_j;
        l.charge(
            PowerState::Active,
            active_us,
            active_static_j + active_j + dynamic_j,
        );
        l.charge(PowerState::IdleUnallocated, powered_us, idle_static_j);
        l.charge(PowerState::Gated, gated_us, 0.0);
        r.active_energy_j += active_j;
        r.peak_units_allocated = self.peak_in_use.saturating_mul(rates.g_units);
        r.static_energy_j += active_static_j + idle_static_j;
        r.span_s = span_ns as f64 * NS;
        r.uncore_energy_j = rates.p_uncore * r.span_s;
        r.idle.seconds = i.idle_ns as f64 * NS;
        if rates.mode == TimelinePolicy::Off {
            // Not costed per interval (see `advance`): uncore power and the
            // static power of every domain, over the idle time.
            r.idle.energy_j +=
                (rates.p_uncore + rates.p_domain * f64::from(rates.domains)) * r.idle.seconds;
        }
        r.busy_s = (r.span_s - r.idle.seconds).max(0.0);
        r.total_energy_j = r.compute_energy_j
            + r.memory_energy_j
            + r.active_energy_j
            + r.static_energy_j
            + r.uncore_energy_j
            + r.transition_energy_j;
        r.gating_savings_j = self.rates.p_unit * r.states.get(PowerState::Gated).unit_seconds;
        r
    }

    /// Adds one kernel or copy. Those in flight that end at or before its
    /// start end first, and their records go to `sink`.
    ///
    /// # Errors
    /// Nothing changes, in the timeline or the sink, when the call fails:
    /// [`TimelineError::TimeWentBackwards`], [`TimelineError::EndBeforeStart`],
    /// [`TimelineError::NotANumber`], [`TimelineError::Infinite`],
    /// [`TimelineError::Negative`], [`TimelineError::ZeroAllocation`],
    /// [`TimelineError::CopyWithWork`], [`TimelineError::UnsupportedPrecision`],
    /// [`TimelineError::Overflow`], [`TimelineError::TooManyInFlight`],
    /// [`TimelineError::IdleGroupsFull`], [`TimelineError::SinkFull`],
    /// [`TimelineError::Finished`].
    pub fn push<S: TimelineSink + ?Sized>(
        &mut self,
        interval: &Interval,
        sink: &mut S,
    ) -> Result<(), TimelineError> {
        if self.finished {
            return Err(TimelineError::Finished);
        }
        let k = self.check(interval)?;
        let start = interval.start_ns;
        // The usual case needs no count of what ends by `start` (a walk
        // whose length varies, and so a mispredicted branch): there is room
        // even if nothing ends, and for as many freed groups and records as
        // there are kernels in flight. Only when that bound does not fit is
        // the exact count made.
        let in_flight = self.in_flight.len();
        let room = in_flight < CAP && self.room_for_ending(in_flight, sink).is_ok();
        if !room {
            self.room_for(interval.id, start, sink)?;
        }

        // From here on nothing fails.
        // The sweep with the gating bookkeeping compiled out under `Off`,
        // so that its code does not weigh on the plain path.
        if self.rates.mode == TimelinePolicy::Off {
            self.end_through::<false, S>(start, sink);
            self.advance_idle::<false>(start);
            self.start::<false>(interval, k);
        } else {
            self.end_through::<true, S>(start, sink);
            self.advance_idle::<true>(start);
            self.start::<true>(interval, k);
        }
        Ok(())
    }

    /// Charges up to `t_ns` with nothing new starting: those in flight that
    /// end by then end (their records go to `sink`), and the totals of
    /// [`Timeline::report`] cover the span up to `t_ns`. Afterwards `t_ns`
    /// counts as the latest start: nothing may be pushed before it.
    ///
    /// This is how a caller samples the composition over time (a plot's
    /// bins) without disturbing it: the charges are the same whether or not
    /// it is called, since between events the running set is fixed.
    ///
    /// # Errors
    /// [`TimelineError::TimeWentBackwards`] (with `id` 0) for a time before
    /// the latest start, [`TimelineError::IdleGroupsFull`],
    /// [`TimelineError::SinkFull`], [`TimelineError::Finished`]. Nothing
    /// changes then.
    pub fn advance_to<S: TimelineSink + ?Sized>(
        &mut self,
        t_ns: u64,
        sink: &mut S,
    ) -> Result<(), TimelineError> {
        if self.finished {
            return Err(TimelineError::Finished);
        }
        if t_ns < self.latest_start_ns {
            return Err(TimelineError::TimeWentBackwards {
                id: 0,
                start_ns: t_ns,
                latest_ns: self.latest_start_ns,
            });
        }
        self.room_for_ending(self.ending_by(t_ns), sink)?;
        self.end_through::<true, S>(t_ns, sink);
        self.advance::<true>(t_ns);
        self.latest_start_ns = t_ns;
        Ok(())
    }

    /// Ends everything in flight, charges up to `end_ns` (the last end when
    /// `None`), costs every idle period still open (no wake: the timeline
    /// ends) and returns the totals. Push nothing more until [`Timeline::reset`].
    ///
    /// # Errors
    /// [`TimelineError::EndBeforeLastEvent`] for an end before an event
    /// already seen; [`TimelineError::SinkFull`]; [`TimelineError::Finished`].
    /// Nothing changes then.
    pub fn finish<S: TimelineSink + ?Sized>(
        &mut self,
        end_ns: Option<u64>,
        sink: &mut S,
    ) -> Result<TimelineReport, TimelineError> {
        if self.finished {
            return Err(TimelineError::Finished);
        }
        let latest = self.latest_end_ns.max(self.latest_start_ns);
        let end = end_ns.unwrap_or(latest);
        if end < latest {
            return Err(TimelineError::EndBeforeLastEvent {
                end_ns: end,
                latest_ns: latest,
            });
        }
        sink.reserve(self.in_flight.len())
            .map_err(|_| TimelineError::SinkFull)?;
        self.end_through::<true, S>(end, sink);
        self.advance::<true>(end);
        self.close_idle_periods(end);
        self.totals.idle.energy_j += self.carry_j;
        self.carry_j = 0.0;
        self.finished = true;
        Ok(self.report())
    }

    /// Whether a kernel can start at `start`, counting exactly what ends by
    /// then: a free slot, room for the groups the ending kernels free and
    /// for their records in `sink`.
    #[cold]
    #[inline(never)]
    fn room_for<S: TimelineSink + ?Sized>(
        &self,
        id: u64,
        start: u64,
        sink: &mut S,
    ) -> Result<(), TimelineError> {
        let ending = self.ending_by(start);
        if self.in_flight.len() - ending >= CAP {
            return Err(TimelineError::TooManyInFlight { id, capacity: CAP });
        }
        self.room_for_ending(ending, sink)
    }

    /// Whether `ending` kernels can end: room for the groups they free
    /// (each frees at most one) and for their records in `sink`.
    #[inline(always)]
    fn room_for_ending<S: TimelineSink + ?Sized>(
        &self,
        ending: usize,
        sink: &mut S,
    ) -> Result<(), TimelineError> {
        if self.rates.mode != TimelinePolicy::Off && self.free.groups.len() + ending > GROUPS {
            return Err(TimelineError::IdleGroupsFull { capacity: GROUPS });
        }
        sink.reserve(ending).map_err(|_| TimelineError::SinkFull)
    }

    /// The policy as the sweep's steps see it: `Off` where the gating
    /// bookkeeping is compiled out (`G` false), the policy as run otherwise.
    #[inline(always)]
    fn mode<const G: bool>(&self) -> TimelinePolicy {
        if G {
            self.rates.mode
        } else {
            TimelinePolicy::Off
        }
    }

    /// How many in flight end at or before `t`: a walk back from the next
    /// to end, as far as the first that ends later.
    #[inline(always)]
    fn ending_by(&self, t: u64) -> usize {
        self.in_flight
            .as_slice()
            .iter()
            .rev()
            .take_while(|k| k.end_ns <= t)
            .count()
    }

    /// Checks an interval and computes its own dynamic energies.
    fn check(&self, iv: &Interval) -> Result<Checked, TimelineError> {
        let id = iv.id;
        if iv.start_ns < self.latest_start_ns {
            return Err(TimelineError::TimeWentBackwards {
                id,
                start_ns: iv.start_ns,
                latest_ns: self.latest_start_ns,
            });
        }
        if iv.end_ns < iv.start_ns {
            return Err(TimelineError::EndBeforeStart { id });
        }
        if let Some(w) = iv.work {
            Self::field(id, w.flops, IntervalField::Flops)?;
        }
        let bytes = Self::field(id, iv.bytes, IntervalField::Bytes)?;
        let (domains, copy) = match iv.engine {
            Engine::Compute { units: 0 } => return Err(TimelineError::ZeroAllocation { id }),
            Engine::Compute { units } => (self.rates.domains_for(units), false),
            Engine::Copy => {
                if iv.work.is_some() {
                    return Err(TimelineError::CopyWithWork { id });
                }
                (0, true)
            }
        };
        let memory_j = bytes * self.rates.e_byte;
        let compute_j = match iv.work {
            Some(w) => {
                let e = self
                    .rates
                    .e_op
                    .get(w.precision.index())
                    .copied()
                    .flatten()
                    .ok_or(TimelineError::UnsupportedPrecision {
                        id,
                        precision: w.precision,
                    })?;
                w.flops * e
            }
            None => 0.0,
        };
        // Both are ≥ 0, so one test of the whole sum covers each of them,
        // the running compute and memory sums, and every sum the report
        // adds them to (see `headroom_j`).
        let t = &self.totals;
        let dynamic_j = t.compute_energy_j + t.memory_energy_j;
        if !(dynamic_j + compute_j + memory_j + self.rates.headroom_j).is_finite() {
            return Err(TimelineError::Overflow { id });
        }
        Ok(Checked {
            domains,
            copy,
            has_work: iv.work.is_some(),
            compute_j,
            memory_j,
        })
    }

    /// A field that must be finite and ≥ 0, or why not.
    #[inline(always)]
    fn field(id: u64, v: f64, field: IntervalField) -> Result<f64, TimelineError> {
        // One comparison for the common case: the bits of +0 up to the
        // largest finite value lie below those of +∞; NaNs and negatives
        // (sign bit set) above. Adding +0 turns −0 (which is ≥ 0 too) into
        // +0 and changes nothing else.
        if (v + 0.0).to_bits() < f64::INFINITY.to_bits() {
            return Ok(v);
        }
        Err(if v.is_nan() {
            TimelineError::NotANumber { id, field }
        } else if v.is_infinite() {
            TimelineError::Infinite { id, field }
        } else {
            TimelineError::Negative { id, field }
        })
    }

    /// Ends, in end order, everything in flight that ends at or before `t`.
    ///
    /// `G` (here and in the sweep's other steps): whether the gating
    /// bookkeeping is compiled in. `false` only under `Off`; `true` works
    /// under every policy, `Off` included.
    #[inline(always)]
    fn end_through<const G: bool, S: TimelineSink + ?Sized>(&mut self, t: u64, sink: &mut S) {
        while let Some(first) = self.in_flight.peek() {
            if first.end_ns > t {
                break;
            }
            let Some(k) = self.in_flight.pop() else {
                break;
            };
            self.advance::<G>(k.end_ns);
            self.end::<G, S>(k, sink);
        }
    }

    /// Starts a checked interval at the cursor.
    fn start<const G: bool>(&mut self, iv: &Interval, k: Checked) {
        let sequence = self.sequence;
        self.sequence += 1;
        self.latest_start_ns = iv.start_ns;
        self.latest_end_ns = self.latest_end_ns.max(iv.end_ns);
        self.totals.compute_energy_j += k.compute_j;
        self.totals.memory_energy_j += k.memory_j;
        if k.copy {
            self.copies += 1;
        } else {
            self.asked += u64::from(k.domains);
            let now_in_use = self.asked.min(u64::from(self.rates.domains));
            // ≤ domains, a u32.
            let now_in_use = u32::try_from(now_in_use).unwrap_or(self.rates.domains);
            let taken = now_in_use - self.in_use;
            self.in_use = now_in_use;
            if self.mode::<G>() != TimelinePolicy::Off {
                self.take(taken, iv.start_ns);
            }
            self.peak_in_use = self.peak_in_use.max(now_in_use);
        }
        // Capacity was checked in `push`: a free slot exists.
        let free = CAP - self.in_flight.len();
        let Some(&slot) = free.checked_sub(1).and_then(|i| self.free_slots.get(i)) else {
            return;
        };
        let Some(s) = self.slots.get_mut(slot as usize) else {
            return;
        };
        let a = &self.acc;
        *s = Slot {
            id: iv.id,
            start_ns: iv.start_ns,
            stream: iv.stream,
            domains: k.domains,
            copy: k.copy,
            has_work: k.has_work,
            compute_j: k.compute_j,
            memory_j: k.memory_j,
            shared_at: if k.copy { a.per_copy_j } else { a.per_domain_j },
            scaled_at: a.scaled_s,
            oversubscribed_at: a.oversubscribed,
        };
        let _ = self.in_flight.push(Key {
            end_ns: iv.end_ns,
            sequence,
            slot,
        });
    }

    /// Ends one interval, just popped from the heap, at the cursor and hands
    /// over its record.
    fn end<const G: bool, S: TimelineSink + ?Sized>(&mut self, key: Key, sink: &mut S) {
        // The popped key's slot goes back on the free list.
        let free = CAP - self.in_flight.len();
        if let Some(f) = free.checked_sub(1).and_then(|i| self.free_slots.get_mut(i)) {
            *f = key.slot;
        }
        let Some(k) = self.slots.get(key.slot as usize) else {
            return;
        };
        let r = &self.rates;
        let a = &self.acc;
        let units = f64::from(k.domains) * r.g;
        let active_us = units * (a.scaled_s - k.scaled_at);
        let own_static = r.p_unit * active_us;
        let active_j = if k.has_work || k.copy {
            0.0
        } else {
            r.p_active_unit * active_us
        };
        let shared = if k.copy {
            a.per_copy_j - k.shared_at
        } else {
            f64::from(k.domains) * (a.per_domain_j - k.shared_at)
        };
        let flags = if a.oversubscribed != k.oversubscribed_at {
            Flags::OVERSUBSCRIBED
        } else {
            Flags::NONE
        };
        sink.kernel(&KernelRecord {
            id: k.id,
            sequence: key.sequence,
            stream: k.stream,
            start_ns: k.start_ns,
            end_ns: key.end_ns,
            copy: k.copy,
            units: k.domains.saturating_mul(r.g_units),
            active_unit_seconds: active_us,
            compute_energy_j: k.compute_j,
            memory_energy_j: k.memory_j,
            active_energy_j: active_j,
            own_static_energy_j: own_static,
            shared_energy_j: shared,
            total_energy_j: k.compute_j + k.memory_j + active_j + own_static + shared,
            flags,
        });
        self.integrals.ended_active_us += active_us;
        self.integrals.ended_active_j += active_j;
        if k.copy {
            self.copies -= 1;
            self.totals.copies += 1;
            return;
        }
        let domains = k.domains;
        self.totals.kernels += 1;
        self.asked -= u64::from(domains);
        let now_in_use = self.asked.min(u64::from(self.rates.domains));
        let now_in_use = u32::try_from(now_in_use).unwrap_or(self.rates.domains);
        let freed = self.in_use - now_in_use;
        self.in_use = now_in_use;
        if G {
            self.free_push(key.end_ns, freed);
        }
    }

    /// [`Timeline::advance`] after the kernels ending by `t` have ended,
    /// with a shortcut for a gap before the next start under `Off`: nothing
    /// runs (only an empty queue leaves nothing running), every domain is
    /// powered and nothing is booked (no idle period costs anything), so the
    /// interval's energy is its length times a constant, costed once for the
    /// whole idle time in [`Timeline::report`]. Only here can the running set
    /// be empty in a push, so the test costs one branch per kernel.
    #[inline(always)]
    fn advance_idle<const G: bool>(&mut self, t: u64) {
        if self.in_flight.len() == 0 && self.mode::<G>() == TimelinePolicy::Off {
            if t > self.cursor_ns {
                self.integrals.idle_ns += t - self.cursor_ns;
                self.cursor_ns = t;
            }
        } else {
            self.advance::<G>(t);
        }
    }

    /// Charges the interval from the cursor to `t` with the running set fixed.
    ///
    /// The per-state totals go into exact integrals (see [`Integrals`]); what
    /// is computed in floating point here is only what the kernels running
    /// need for their shares: the interval's pool (uncore, static power of
    /// powered free domains, what the policy booked) over the domains asked
    /// for, and the time scaled by oversubscription.
    #[inline(always)]
    fn advance<const G: bool>(&mut self, t: u64) {
        if t <= self.cursor_ns {
            return;
        }
        let c = self.cursor_ns;
        let dt_ns = t - c;
        let wide_dt = u128::from(dt_ns);
        let dt = to_f64(dt_ns) * NS;
        let domains = self.rates.domains;
        let free_total = domains - self.in_use;

        // Free domains: powered, gated, or (oracle, young) not yet known.
        let powered_ds = match self.mode::<G>() {
            TimelinePolicy::Off => f64::from(free_total) * dt,
            TimelinePolicy::Always => {
                self.integrals.gated.add(u128::from(free_total) * wide_dt);
                0.0
            }
            TimelinePolicy::Timeout | TimelinePolicy::Oracle => {
                self.free_domain_ns(c, t, free_total)
            }
        };

        let pool = self.rates.p_uncore * dt + self.rates.p_domain * powered_ds + self.carry_j;
        self.carry_j = 0.0;
        if self.asked > 0 {
            let asked = to_f64(self.asked);
            // Without branches (oversubscription comes and goes at random
            // with many streams): the scale is `in_use / asked`, exactly 1
            // unless oversubscribed, `N_d / asked` then.
            let over = self.asked > u64::from(domains);
            let scale = f64::from(self.in_use) / asked;
            self.acc.scaled_s += scale * dt;
            self.acc.oversubscribed += u64::from(over);
            self.totals.flags.0 |= u32::from(over) * Flags::OVERSUBSCRIBED.0;
            self.acc.per_domain_j += pool / asked;
        } else if self.copies > 0 {
            self.acc.per_copy_j += pool / f64::from(self.copies);
        } else {
            self.integrals.idle_ns += dt_ns;
            // Under `Off`, costed in `report` (see `advance_idle`).
            if self.mode::<G>() != TimelinePolicy::Off {
                self.totals.idle.energy_j += pool;
            }
        }
        self.cursor_ns = t;
        if self.mode::<G>() != TimelinePolicy::Off {
            self.settle(t);
        }
    }

    /// Adds the free domains' domain-ns over `[c, t)` that are powered and
    /// gated to the integrals, under `timeout` and `oracle`, and returns the
    /// powered ones in domain-seconds; under the oracle, young domains are
    /// neither yet (their first `t_be` is costed when their period ends).
    #[inline(always)]
    fn free_domain_ns(&mut self, c: u64, t: u64, free_total: u32) -> f64 {
        let timeout = self.rates.mode == TimelinePolicy::Timeout;
        let wide_dt = u128::from(t - c);
        let old = free_total - self.free.uncrossed_domains;
        // The usual case with many streams: no group young enough to cross
        // `t_be` (so none uncrossed), every free domain gated, none powered.
        if self.free.crossed >= self.free.groups.len() {
            if old > 0 {
                self.integrals.gated.add(u128::from(old) * wide_dt);
            }
            return 0.0;
        }
        let mut powered: u128 = 0;
        let mut gated = u128::from(old) * wide_dt;
        let t_be = self.rates.t_be_ns;
        // Groups that pass t_be within [c, t).
        while let Some(grp) = self.free.groups.get(self.free.crossed) {
            let cross = grp.since_ns.saturating_add(t_be);
            if cross >= t {
                break;
            }
            let k = u128::from(grp.count);
            let cross = cross.max(c);
            if timeout {
                powered += k * u128::from(cross - c);
            }
            gated += k * u128::from(t - cross);
            self.free.crossed += 1;
            self.free.uncrossed_domains -= grp.count;
        }
        if timeout {
            powered += u128::from(self.free.uncrossed_domains) * wide_dt;
        }
        self.integrals.powered.add(powered);
        self.integrals.gated.add(gated);
        // An interval's powered domain-ns fit 64 bits unless it is longer
        // than about 2⁴⁴ ns (and are 0 under the oracle): one conversion then,
        // not the 128-bit one's ~60 instructions.
        let powered = match u64::try_from(powered) {
            Ok(p) => to_f64(p),
            Err(_) => powered as f64,
        };
        powered * NS
    }

    /// Folds groups older than the horizon into the settled count.
    fn settle(&mut self, t: u64) {
        let h = self.rates.horizon_ns;
        while let Some(front) = self.free.groups.front() {
            if front.since_ns.saturating_add(h) > t {
                break;
            }
            let _ = self.free.groups.pop_front();
            self.free.settled += front.count;
            // Past the horizon is past t_be, so the group was a crossed one
            // (the `Always` policy does not count crossings).
            self.free.crossed = self.free.crossed.saturating_sub(1);
        }
    }

    /// Domains freed at `t`.
    fn free_push(&mut self, t: u64, count: u32) {
        if count == 0 {
            return;
        }
        // Under `Off` no idle period costs anything: no list to keep.
        if self.rates.mode == TimelinePolicy::Off {
            return;
        }
        let uncrossed = matches!(
            self.rates.mode,
            TimelinePolicy::Timeout | TimelinePolicy::Oracle
        );
        if uncrossed {
            self.free.uncrossed_domains += count;
        }
        if let Some(back) = self.free.groups.back_mut()
            && back.since_ns == t
        {
            back.count += count;
            return;
        }
        // Room was checked in `push` (and a fresh timeline has one group).
        let _ = self.free.groups.push_back(Group { since_ns: t, count });
    }

    /// Takes `count` free domains at `t`, youngest first, and costs the idle
    /// periods that end, for a wake.
    fn take(&mut self, mut count: u32, t: u64) {
        while count > 0 {
            let len = self.free.groups.len();
            let (n, idle_ns) = match self.free.groups.back_mut() {
                Some(back) => {
                    let n = count.min(back.count);
                    back.count -= n;
                    let since = back.since_ns;
                    let emptied = back.count == 0;
                    let was_uncrossed = len > self.free.crossed;
                    if was_uncrossed
                        && matches!(
                            self.rates.mode,
                            TimelinePolicy::Timeout | TimelinePolicy::Oracle
                        )
                    {
                        self.free.uncrossed_domains -= n;
                    }
                    if emptied {
                        let _ = self.free.groups.pop_back();
                        if !was_uncrossed {
                            self.free.crossed -= 1;
                        }
                    }
                    (n, t - since)
                }
                None => {
                    let n = count.min(self.free.settled);
                    self.free.settled -= n;
                    (n, LONG)
                }
            };
            if n == 0 {
                // Cannot happen: the free list holds `domains − in_use`.
                break;
            }
            // The oracle's usual case inline, without the general costing's
            // call (which also says that a period of length 0 costs nothing).
            let b = if self.rates.mode == TimelinePolicy::Oracle && idle_ns != 0 {
                self.cost_oracle_wake(n, idle_ns)
            } else {
                self.cost_period(n, idle_ns, true)
            };
            self.carry_j += b.energy_j;
            count -= n;
        }
    }

    /// Costs every idle period still open at the end of the timeline.
    fn close_idle_periods(&mut self, t: u64) {
        let mut energy = 0.0;
        while let Some(grp) = self.free.groups.pop_front() {
            energy += self
                .cost_period(grp.count, t - grp.since_ns, false)
                .energy_j;
        }
        let settled = self.free.settled;
        if settled > 0 {
            energy += self.cost_period(settled, LONG, false).energy_j;
        }
        self.free = Free {
            groups: Ring::new(Group::NONE),
            crossed: 0,
            uncrossed_domains: 0,
            settled: 0,
        };
        self.totals.idle.energy_j += energy;
    }

    /// [`Timeline::cost_period`] for the oracle's usual case, a period that
    /// ends because a kernel needs the domains: the same sums, term for term
    /// (so the same bits), without a whole ledger built and added. `idle_ns`
    /// is not 0.
    #[inline(always)]
    fn cost_oracle_wake(&mut self, n: u32, idle_ns: u64) -> Booking {
        let r = &self.rates;
        let units = f64::from(n) * r.g;
        let t = &mut self.totals;
        t.idle_periods += u64::from(n);
        // `t_be_ns` is the exact break-even rounded up, so a period of
        // exactly `t_be_ns` may still be worth gating: that one is decided on
        // the two costs as they are charged (the bits `always` charges), so
        // that the oracle never costs more than gating every period.
        if idle_ns > r.t_be_ns
            || (idle_ns == r.t_be_ns
                && r.wake(units, n).2 < r.p_unit * (units * (idle_ns as f64 * NS)))
        {
            // Gated from the start (the deferred first t_be, which is the
            // whole period at break-even), then woken: two transitions per
            // domain, the wake window transitioning.
            let first_s = r.t_be_ns as f64 * NS;
            let (us, transitions, transitioning_j) = r.wake(units, n);
            let transition_j = transitions as f64 * r.e_tr;
            t.states
                .charge(PowerState::Gated, units * first_s + -us, 0.0);
            t.states
                .charge(PowerState::Transitioning, us, transitioning_j);
            t.static_energy_j += transitioning_j - transition_j;
            t.transition_energy_j += transition_j;
            t.transitions += transitions;
            t.flags = t
                .flags
                .union(Flags::WOKE_DOMAINS)
                .union(Flags::GATED_DOMAINS);
            Booking {
                energy_j: transitioning_j,
            }
        } else {
            // Too short to pay for gating: powered all along.
            let us = units * (idle_ns as f64 * NS);
            let j = r.p_unit * us;
            t.states.charge(PowerState::IdleUnallocated, us, j);
            t.static_energy_j += j;
            Booking { energy_j: j }
        }
    }

    /// Books the end of an idle period of `idle_ns` for `n` domains: what
    /// per-interval charging left open, by the policy's table. `wake`: the
    /// period ends because a kernel needs the domains.
    fn cost_period(&mut self, n: u32, idle_ns: u64, wake: bool) -> Booking {
        let r = self.rates;
        if self.rates.mode == TimelinePolicy::Off || idle_ns == 0 {
            return Booking::default();
        }
        if wake && self.rates.mode == TimelinePolicy::Oracle {
            return self.cost_oracle_wake(n, idle_ns);
        }
        let units = f64::from(n) * r.g;
        let long = idle_ns == LONG;
        let idle_s = idle_ns as f64 * NS;
        let crossed = idle_ns > r.t_be_ns;
        let mut ledger = StateLedger::ZERO;
        let mut transitions: u64 = 0;
        let mut flags = Flags::NONE;
        // Gated time (already charged as gated per interval) that the wake
        // window takes back, in seconds per unit.
        let mut wake_s = 0.0;
        match self.rates.mode {
            TimelinePolicy::Off => {}
            TimelinePolicy::Always => {
                transitions = 1;
                if wake {
                    wake_s = if long {
                        r.t_wake_s
                    } else {
                        idle_s.min(r.t_wake_s)
                    };
                    if !long && idle_s < r.t_wake_s {
                        flags = flags.union(Flags::WAKE_LATE);
                    }
                }
            }
            TimelinePolicy::Timeout => {
                if crossed {
                    transitions = 1;
                    if wake {
                        let gated_s = if long {
                            r.t_wake_s
                        } else {
                            (idle_ns - r.t_be_ns) as f64 * NS
                        };
                        wake_s = gated_s.min(r.t_wake_s);
                        if gated_s < r.t_wake_s {
                            flags = flags.union(Flags::WAKE_LATE);
                        }
                    }
                }
            }
            TimelinePolicy::Oracle => {
                let first_s = r.t_be_ns as f64 * NS;
                if crossed {
                    // Gated from the start: the deferred first t_be is gated.
                    ledger.charge(PowerState::Gated, units * first_s, 0.0);
                    transitions = 1;
                    if wake {
                        wake_s = r.t_wake_s;
                    }
                } else if wake || r.p_unit * r.g * idle_s <= r.e_tr {
                    // Too short to pay for gating: powered all along.
                    let us = units * idle_s;
                    ledger.charge(PowerState::IdleUnallocated, us, r.p_unit * us);
                } else {
                    // The last period before the end needs no wake: gating
                    // pays once it saves one transition.
                    ledger.charge(PowerState::Gated, units * idle_s, 0.0);
                    transitions = 1;
                }
            }
        }
        if wake && transitions > 0 {
            transitions = 2;
            let us = units * wake_s;
            ledger.charge(PowerState::Gated, -us, 0.0);
            ledger.charge(PowerState::Transitioning, us, r.p_unit * us);
            flags = flags.union(Flags::WOKE_DOMAINS);
        }
        if transitions > 0 {
            flags = flags.union(Flags::GATED_DOMAINS);
        }
        let transitions = transitions * u64::from(n);
        let transition_j = transitions as f64 * r.e_tr;
        ledger.charge(PowerState::Transitioning, 0.0, transition_j);
        let static_j = ledger.get(PowerState::IdleUnallocated).energy_j
            + ledger.get(PowerState::Transitioning).energy_j
            - transition_j;
        let t = &mut self.totals;
        t.states += ledger;
        t.static_energy_j += static_j;
        t.transition_energy_j += transition_j;
        t.transitions += transitions;
        t.idle_periods += u64::from(n);
        t.flags = t.flags.union(flags);
        Booking {
            energy_j: ledger.energy_j(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::presets::Preset;

    /// The queue of kernels in flight stays sorted, latest end first (ties
    /// by push order, the later first), whatever order the ends come in, and
    /// the walk back from its end counts exactly what a scan of it counts,
    /// at every time around every end, with up to 64 (its capacity) in flight.
    #[test]
    fn queue_sorted_and_ending_by_equals_scan() {
        for n in [1u64, 5, 40, 64] {
            let mut t: Timeline<64> =
                Timeline::new(Preset::SeedH100.model(), TimelinePolicy::Off, 0)
                    .unwrap_or_else(|e| panic!("{e}"));
            // All start at 0; kernel i ends at a scrambled time 1..=n·7.
            for i in 0..n {
                let end = 1 + (i * 37 % n) * 7;
                t.push(&Interval::kernel(i, 0, end, 1), &mut ())
                    .unwrap_or_else(|e| panic!("{e}"));
            }
            let keys = t.in_flight.as_slice();
            assert_eq!(keys.len() as u64, n);
            assert!(keys.windows(2).all(|w| w[0].rank() > w[1].rank()));
            for q in 0..=(n * 7 + 1) {
                let scan = t
                    .in_flight
                    .as_slice()
                    .iter()
                    .filter(|k| k.end_ns <= q)
                    .count();
                assert_eq!(t.ending_by(q), scan, "n = {n}, t = {q}");
            }
        }
    }

    /// The one-comparison field check accepts exactly what the three tests
    /// it replaced accept (−0 included) and names the same error otherwise.
    #[test]
    fn field_check_matches_the_three_tests() {
        let f = IntervalField::Bytes;
        for v in [0.0, -0.0, 1e-300, 1.0, f64::MAX, f64::MIN_POSITIVE / 2.0] {
            assert_eq!(
                Timeline::<1>::field(7, v, f).map(f64::to_bits),
                Ok(v.to_bits())
            );
        }
        let e = |v| Timeline::<1>::field(7, v, f);
        assert_eq!(
            e(f64::NAN),
            Err(TimelineError::NotANumber { id: 7, field: f })
        );
        assert_eq!(
            e(-f64::NAN),
            Err(TimelineError::NotANumber { id: 7, field: f })
        );
        assert_eq!(
            e(f64::INFINITY),
            Err(TimelineError::Infinite { id: 7, field: f })
        );
        assert_eq!(
            e(f64::NEG_INFINITY),
            Err(TimelineError::Infinite { id: 7, field: f })
        );
        assert_eq!(e(-1e-300), Err(TimelineError::Negative { id: 7, field: f }));
        assert_eq!(
            e(-f64::MAX),
            Err(TimelineError::Negative { id: 7, field: f })
        );
    }
}
