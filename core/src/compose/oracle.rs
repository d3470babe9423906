//! The `oracle` gating policy: whole idle periods judged across stages.
//!
//! `break-even` decides at the start of each stage from that stage alone, so
//! a domain idle through many short stages is never gated however long it
//! stays idle. The oracle judges a domain's whole idle period instead, and
//! does it without looking ahead: while a period is young its domain is
//! charged, stage by stage, as powered (`IdleUnallocated`); once its length is
//! known to pay for gating, the period is *settled*.
//!
//! # The rule
//!
//! Knowing when a period ends, the offline optimum wakes the domain in the
//! last `t_wake` of its idle time, so the stage that needs it does not wait
//! (as the timeline composer places its wakes). A gated period then costs its
//! transitions: `2·e_tr` if it ends in a wake (the wake window is
//! `Transitioning`, whose static power the transition energy covers, as
//! everywhere in the stage composer), `e_tr` if the model ends first. So a
//! period of length `L` is gated iff
//!
//! * `p_domain·L > 2·e_tr` and `L ≥ t_wake` (the wake fits in the period), or
//! * it is still open at [`finish`](super::Composer::finish) and `p_domain·L > e_tr`.
//!
//! The first condition only grows true with `L`, so the moment it holds the
//! period is certain to be gated however it ends: it is settled then, at the
//! close of that stage, rather than at its end (the same answer, and the
//! staircase below stays short). Settling moves the period's unit-seconds so
//! far from `IdleUnallocated` to `Gated`, takes their static energy out of
//! the stage's static energy into the savings, and charges the power-down
//! transition. The domain is then gated like any other, and the stage that
//! allocates it again charges the power-up and moves its last `t_wake` from
//! `Gated` to `Transitioning`.
//!
//! A period too short for the wake to fit (`L < t_wake`) can still pay when
//! the stage that ends it has a wake window of its own, as the other
//! policies do: the stage then runs `t_wake` longer, its allocated units not
//! woken wait `IdleAllocated` and uncore power runs through the window. The
//! oracle opens such a window only when it saves energy: when
//! `t_wake·(P_uncore + p_domain·d) + Σ n·min(p_domain·t_wake, 2·e_tr − p_domain·L) < 0`
//! over the periods ending there (`d` the domains the previous stage
//! allocated, which wait through the window; a period not worth gating in
//! the window waits too). Every period still open then is at least `t_wake`
//! longer than one gated in the window, so it is settled gated at that
//! stage's close.
//!
//! Each choice costs no more than gating nothing, nor than `always` on the
//! same periods, nor than `break-even` (whose gated periods the oracle gates
//! whole), which is what the property tests check.
//!
//! # Where settlements are recorded
//!
//! In the stage that closes when they are decided, since earlier stages'
//! records are already out. That stage's unit-seconds still add up to `N·T`
//! (a settlement moves unit-seconds between states), and its parts still add
//! up to its total, but one state may be negative in it (`IdleUnallocated`
//! given back, `Gated` taken for a wake), and so may the shared energy of its
//! subgraphs: the refund of static energy the earlier stages were charged.
//! Over the model every state is non-negative and the stages add up to the
//! model. Until the model finishes, young periods are still charged as
//! powered: [`report`](super::Composer::report) is then an upper bound.
//!
//! # The staircase
//!
//! Domains are allocated as a prefix, so the powered free domains
//! `low..powered` became free at non-increasing times as their index grows:
//! a staircase of steps `(first domain, idle since)`. A stage pops the
//! youngest steps it allocates, pushes at most one, and settlement pops the
//! oldest. Only periods not yet settled are held, so the staircase is as
//! long as the number of stages, within the last break-even time, that freed
//! domains; its capacity is the composer's `IDLE` parameter, and exceeding
//! it is [`CloseError::IdlePeriodsFull`].

use super::CloseError;

/// Default capacity of the oracle's staircase of young idle periods.
pub const DEFAULT_IDLE_STEPS: usize = 64;

/// Powered free domains from `from` up to the next older step (or the
/// powered count), idle since `since_s` on the model's clock.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Step {
    pub(super) from: u32,
    pub(super) since_s: f64,
}

/// The young idle periods, youngest (lowest domains) at the back.
pub(super) type Staircase<const IDLE: usize> = heapless::Deque<Step, IDLE>;

/// What the gating policy does in one stage, as [`super::Composer`]'s
/// evaluation uses it. For the policies that decide at the start of a
/// stage, `powered_during == powered_after` and nothing is settled.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct StageGating {
    /// Domains powered up for the stage.
    pub(super) woken: u32,
    /// The wake window added to the stage.
    pub(super) wake_s: f64,
    /// Domains powered through the stage: the prefix `0..powered_during`.
    pub(super) powered_during: u32,
    /// Domains powered down (each one transition).
    pub(super) powered_down: u32,
    /// Domains powered after the stage.
    pub(super) powered_after: u32,
    /// Unit-seconds of settled periods, moved from `IdleUnallocated` to `Gated`.
    pub(super) settled_us: f64,
    /// Unit-seconds of wakes placed in idle time, moved from `Gated` to `Transitioning`.
    pub(super) prewake_us: f64,
    /// Latest start of a period gated so far (see [`Before::gated_since_s`]).
    pub(super) gated_since_s: f64,
    /// The staircase edit, applied when the stage commits.
    pub(super) edit: StairEdit,
}

/// How a committed stage changes the staircase, computed without changing it.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub(super) struct StairEdit {
    /// Youngest steps allocated whole.
    pub(super) pop_back: usize,
    /// New first domain of the youngest step left, when the stage allocates part of it.
    pub(super) trim_to: Option<u32>,
    /// A step freed by this stage.
    pub(super) push: Option<Step>,
    /// Oldest steps settled gated (counting a pushed one last).
    pub(super) pop_front: usize,
    /// At `finish`: what is left starts a new period at this time, as one step.
    pub(super) restart_s: Option<f64>,
}

/// The rates the oracle needs, from the composer's.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct OracleRates {
    pub(super) p_domain: f64,
    pub(super) p_uncore: f64,
    pub(super) e_tr: f64,
    pub(super) t_wake: f64,
    pub(super) g: f64,
}

impl OracleRates {
    /// Worth gating whatever the end: the wake fits and pays.
    fn certain(&self, l: f64) -> bool {
        self.p_domain * l > 2.0 * self.e_tr && l >= self.t_wake
    }
    /// Worth gating when the model ends now: one transition.
    fn at_end(&self, l: f64) -> bool {
        self.p_domain * l > self.e_tr
    }
    /// Worth gating in a wake window the stage opens anyway.
    fn in_window(&self, l: f64) -> bool {
        self.p_domain * (l + self.t_wake) > 2.0 * self.e_tr
    }
}

/// The staircase's state before the stage, as the plan reads it.
pub(super) struct Before<'a, const IDLE: usize> {
    pub(super) stairs: &'a Staircase<IDLE>,
    pub(super) powered: u32,
    /// Latest start of a gated period: all gated domains have been idle since at most then.
    pub(super) gated_since_s: f64,
    /// The model's clock at the start of the stage.
    pub(super) clock_s: f64,
}

/// First domain past step `i` (counted from the oldest): the next older
/// step's first domain, or the powered count.
fn step_end<const IDLE: usize>(s: &Staircase<IDLE>, i: usize, powered: u32) -> u32 {
    match i.checked_sub(1).and_then(|j| s.get(j)) {
        Some(older) => older.from,
        None => powered,
    }
}

/// The oracle's decisions for a stage that allocates `needed` domains and
/// whose work takes `max_latency`; `last` when [`super::Composer::finish`]
/// closes it.
pub(super) fn plan<const IDLE: usize>(
    b: &Before<'_, IDLE>,
    r: &OracleRates,
    needed: u32,
    max_latency: f64,
    last: bool,
    stage: u32,
) -> Result<StageGating, CloseError> {
    let stairs = b.stairs;
    let powered = b.powered;
    let low = stairs.back().map_or(powered, |s| s.from);
    let gated_needed = needed.saturating_sub(powered);

    // Periods that end because this stage allocates their domains, youngest
    // first, and what a wake window would make of them.
    let mut window_cost = r.t_wake * (r.p_uncore + r.p_domain * f64::from(low));
    let mut selected: u32 = 0;
    let mut selected_us = 0.0;
    let mut pop_back = 0;
    let mut trim_to = None;
    let len = stairs.len();
    for i in (0..len).rev() {
        let Some(step) = stairs.get(i) else { break };
        if step.from >= needed {
            break;
        }
        let end = step_end(stairs, i, powered);
        let n = end.min(needed) - step.from;
        let l = b.clock_s - step.since_s;
        let nf = f64::from(n);
        window_cost += nf * (r.p_domain * r.t_wake).min(2.0 * r.e_tr - r.p_domain * l);
        if r.in_window(l) {
            selected += n;
            selected_us += nf * r.g * l;
        }
        if end <= needed {
            pop_back += 1;
        } else {
            trim_to = Some(needed);
        }
    }
    // A wake placed in idle time must fit in it; after `finish` gated a
    // short period, it may not, and the stage opens a window instead.
    let late = gated_needed > 0 && b.clock_s - b.gated_since_s < r.t_wake;
    let window = r.t_wake > 0.0 && ((selected > 0 && window_cost < 0.0) || late);
    let (woken, wake_s, settled_window, prewake_us, down_window) = if window {
        let sel = if window_cost < 0.0 { selected } else { 0 };
        let us = if sel > 0 { selected_us } else { 0.0 };
        (gated_needed + sel, r.t_wake, us, 0.0, sel)
    } else {
        let prewake = f64::from(gated_needed) * r.g * r.t_wake;
        (gated_needed, 0.0, 0.0, prewake, 0)
    };
    let force = down_window > 0;

    let duration = wake_s + max_latency;
    let clock_end = b.clock_s + duration;
    let powered_during = powered.max(needed);

    // A step freed by this stage: domains the previous stage held and this one does not.
    let push = (needed < low).then_some(Step {
        from: needed,
        since_s: b.clock_s,
    });
    // Oldest steps first (then the pushed one): settle those certain to be gated.
    let kept = len - pop_back;
    let mut pop_front = 0;
    let mut crossed: u32 = 0;
    let mut crossed_us = 0.0;
    let mut gated_since_s = b.gated_since_s;
    for i in 0..kept + usize::from(push.is_some()) {
        let (from, end, since) = if i < kept {
            let Some(step) = stairs.get(i) else { break };
            let from = if i + 1 == kept {
                trim_to.unwrap_or(step.from)
            } else {
                step.from
            };
            (from, step_end(stairs, i, powered), step.since_s)
        } else if let Some(p) = push {
            (p.from, low, p.since_s)
        } else {
            break;
        };
        let l = clock_end - since;
        if !(force || r.certain(l) || (last && r.at_end(l))) {
            break;
        }
        let n = end - from;
        crossed += n;
        crossed_us += f64::from(n) * r.g * l;
        gated_since_s = gated_since_s.max(since);
        pop_front += 1;
    }
    let total_steps = kept + usize::from(push.is_some());
    let left = total_steps - pop_front;
    // At `finish` what is left becomes one step.
    if (if last { left.min(1) } else { left }) > IDLE {
        return Err(CloseError::IdlePeriodsFull {
            stage,
            capacity: IDLE,
        });
    }
    let restart_s = (last && left > 0).then_some(clock_end);
    Ok(StageGating {
        woken,
        wake_s,
        powered_during,
        powered_down: down_window + crossed,
        powered_after: powered_during - crossed,
        settled_us: settled_window + crossed_us,
        prewake_us,
        gated_since_s,
        edit: StairEdit {
            pop_back,
            trim_to,
            push,
            pop_front,
            restart_s,
        },
    })
}

/// Applies a committed stage's edit.
pub(super) fn apply<const IDLE: usize>(s: &mut Staircase<IDLE>, e: &StairEdit) {
    for _ in 0..e.pop_back {
        let _ = s.pop_back();
    }
    if let (Some(from), Some(back)) = (e.trim_to, s.back_mut()) {
        back.from = from;
    }
    let mut front = e.pop_front;
    while front > 0 && s.pop_front().is_some() {
        front -= 1;
    }
    // The pushed step survives unless settlement reached it too.
    let pushed = e.push.filter(|_| front == 0);
    if let Some(t) = e.restart_s {
        // `plan` sets it only when some step is left.
        if let Some(low) = pushed.map(|p| p.from).or(s.back().map(|b| b.from)) {
            s.clear();
            let _ = s.push_back(Step {
                from: low,
                since_s: t,
            });
        }
    } else if let Some(p) = pushed {
        // Room was checked by `plan`.
        let _ = s.push_back(p);
    }
}
