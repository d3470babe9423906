//! The timeline composer (ABI 1.1): kernels as they ran, in, power states
//! and per-kernel charges out, live.
//!
//! A CUDA program that collects CUPTI activity records (kernels, memcpy,
//! memset) hands each one to [`wl_timeline_push`] in order of start time;
//! the timeline sweeps their start and end events and charges every unit in
//! exactly one power state between events. Records of kernels that ended go
//! to the callback as they end, and [`wl_timeline_get_report`] reads the power
//! states so far at any time; [`wl_timeline_advance`] moves "now" forward
//! with nothing new starting (a sampling tick).

use core::cell::Cell;
use core::ffi::{c_char, c_void};
use core::mem::{align_of, size_of};

use wattledger_core::compose::{EnergyBreakdown, Flags};
use wattledger_core::state::StateTotals;
use wattledger_core::timeline::{
    DEFAULT_CAPACITY, DEFAULT_IDLE_GROUPS, Engine, Interval, KernelRecord, Timeline, TimelineError,
    TimelinePolicy, TimelineReport, TimelineSink, Work,
};

use crate::compose::WL_STATES;
use crate::handle::{self, Entered, Exclusive, Kind, Object};
use crate::hardware::{hardware_status, model, precision, wl_hardware, wl_precision};
use crate::ptr::{Out, OutSized, Versioned, read_in, text};
use crate::status::*;
use crate::{float_status, guard};

/// The most kernels and copies in flight at once on a timeline made by this library.
pub const WL_TIMELINE_CAPACITY: usize = 128;
/// The most groups of recently freed gating domains a timeline tracks
/// (domains freed at distinct instants within the last break-even time).
pub const WL_TIMELINE_IDLE_GROUPS: usize = 256;

const _: () = assert!(WL_TIMELINE_CAPACITY == DEFAULT_CAPACITY);
const _: () = assert!(WL_TIMELINE_IDLE_GROUPS == DEFAULT_IDLE_GROUPS);

/// `sizeof(wl_kernel)` in ABI 1.1, where it appeared: the least `struct_size` accepted.
pub const WL_KERNEL_SIZE_V1: u32 = 64;
/// `sizeof(wl_timeline_report)` in ABI 1.1, where it appeared: the least `struct_size` accepted.
pub const WL_TIMELINE_REPORT_SIZE_V1: u32 = 232;

/// When to power down a free gating domain on a timeline (a
/// `WL_TIMELINE_POLICY_*` value). Not the stage composer's `wl_policy`:
/// its `break-even` judges one stage at a time, which a timeline has not.
pub type wl_timeline_policy = u32;
/// Never gate.
pub const WL_TIMELINE_POLICY_OFF: wl_timeline_policy = 0;
/// Gate a domain the moment it is freed.
pub const WL_TIMELINE_POLICY_ALWAYS: wl_timeline_policy = 1;
/// Gate a domain once it has been idle for the break-even time: the online
/// rule, never more than twice the oracle's cost plus a wake per idle period.
pub const WL_TIMELINE_POLICY_TIMEOUT: wl_timeline_policy = 2;
/// Gate an idle period iff it is longer than the break-even time: the
/// offline optimum, costed when the period ends.
pub const WL_TIMELINE_POLICY_ORACLE: wl_timeline_policy = 3;

const _: () = {
    assert!(WL_TIMELINE_POLICY_OFF == TimelinePolicy::Off as u32);
    assert!(WL_TIMELINE_POLICY_ALWAYS == TimelinePolicy::Always as u32);
    assert!(WL_TIMELINE_POLICY_TIMEOUT == TimelinePolicy::Timeout as u32);
    assert!(WL_TIMELINE_POLICY_ORACLE == TimelinePolicy::Oracle as u32);
};

/// Which engine an interval ran on (a `WL_KERNEL_KIND_*` value).
pub type wl_kernel_kind = u32;
/// A kernel on the compute units.
pub const WL_KERNEL_KIND_KERNEL: wl_kernel_kind = 0;
/// A copy-engine transfer (memcpy, memset): busy time on no units.
pub const WL_KERNEL_KIND_COPY: wl_kernel_kind = 1;

/// Timeline flag: kernels running together asked for more units than exist;
/// their shares were scaled.
pub const WL_TIMELINE_FLAG_OVERSUBSCRIBED: u32 = 1;
/// Timeline flag: gated domains were woken.
pub const WL_TIMELINE_FLAG_WOKE_DOMAINS: u32 = 8;
/// Timeline flag: domains were gated.
pub const WL_TIMELINE_FLAG_GATED_DOMAINS: u32 = 16;
/// Timeline flag: a wake did not fit in the idle time before the kernel that
/// needed the domain, so that kernel would have started late.
pub const WL_TIMELINE_FLAG_WAKE_LATE: u32 = 256;

// The bits C sees are the core's bits, passed through unchanged.
const _: () = {
    assert!(WL_TIMELINE_FLAG_OVERSUBSCRIBED == Flags::OVERSUBSCRIBED.0);
    assert!(WL_TIMELINE_FLAG_WOKE_DOMAINS == Flags::WOKE_DOMAINS.0);
    assert!(WL_TIMELINE_FLAG_GATED_DOMAINS == Flags::GATED_DOMAINS.0);
    assert!(WL_TIMELINE_FLAG_WAKE_LATE == Flags::WAKE_LATE.0);
};

/// One kernel or copy as it ran: an input struct (versioned: see
/// [`WL_KERNEL_SIZE_V1`]). Fill it with [`wl_kernel_init`] and change what
/// you need.
///
/// Times are nanoseconds on the caller's clock (CUPTI's `start`/`end`).
/// `units` is the units allocated (for a GPU, SMs: [`wl_launch_map`]'s
/// `units_allocated`). Set `has_flops` to charge `flops` at `precision`
/// instead of the hardware's active power.
///
/// [`wl_launch_map`]: crate::wl_launch_map
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct wl_kernel {
    /// `sizeof(wl_kernel)` as the caller knows it.
    pub struct_size: u32,
    /// A `WL_KERNEL_KIND_*` value.
    pub kind: wl_kernel_kind,
    /// The caller's identifier (a CUPTI correlation id), echoed in its record.
    pub id: u64,
    /// Start, in ns; not before the previous kernel's start.
    pub start_ns: u64,
    /// End, in ns; not before the start.
    pub end_ns: u64,
    /// Stream, echoed in its record.
    pub stream: u32,
    /// Units allocated (≥ 1 for a kernel, 0 for a copy).
    pub units: u32,
    /// Whether `flops` and `precision` are given.
    pub has_flops: u32,
    /// A `WL_PRECISION_*` value, read when `has_flops` is set.
    pub precision: wl_precision,
    /// Operations (finite, ≥ 0), read when `has_flops` is set.
    pub flops: f64,
    /// Bytes moved to or from memory (finite, ≥ 0).
    pub bytes: f64,
}

// SAFETY: repr(C), struct_size first, numbers only.
unsafe impl Versioned for wl_kernel {
    const SIZE_V1: u32 = WL_KERNEL_SIZE_V1;
    /// As [`wl_kernel_init`] writes it, for kernel 0 on one unit at 0 ns.
    fn defaults() -> Self {
        wl_kernel {
            struct_size: WL_KERNEL_SIZE_V1,
            kind: WL_KERNEL_KIND_KERNEL,
            id: 0,
            start_ns: 0,
            end_ns: 0,
            stream: 0,
            units: 1,
            has_flops: 0,
            precision: crate::hardware::WL_PRECISION_FP32,
            flops: 0.0,
            bytes: 0.0,
        }
    }
}

const _: () = assert!(size_of::<wl_kernel>() == WL_KERNEL_SIZE_V1 as usize);

/// What one kernel or copy is charged, handed to a [`wl_kernel_callback`]
/// when it ends. `struct_size` is set by the library: fields beyond it are
/// not there.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct wl_kernel_record {
    /// `sizeof(wl_kernel_record)` of the library that made it.
    pub struct_size: u32,
    /// A `WL_KERNEL_KIND_*` value.
    pub kind: wl_kernel_kind,
    /// Stream.
    pub stream: u32,
    /// Units asked for, rounded up to whole gating domains (0 for a copy).
    pub units: u32,
    /// `WL_TIMELINE_FLAG_OVERSUBSCRIBED` when it ran oversubscribed.
    pub flags: u32,
    /// Reserved; written as 0.
    pub reserved: u32,
    /// The caller's id.
    pub id: u64,
    /// Position in push order, from 0.
    pub sequence: u64,
    /// Start, in ns.
    pub start_ns: u64,
    /// End, in ns.
    pub end_ns: u64,
    /// Unit-seconds of its units in the active state.
    pub active_unit_seconds: f64,
    /// FLOPs × energy per operation, J.
    pub compute_energy_j: f64,
    /// Bytes × energy per byte, J.
    pub memory_energy_j: f64,
    /// Active power per unit-second, for a kernel without FLOPs, J.
    pub active_energy_j: f64,
    /// Static energy of its own units while it ran, J.
    pub own_static_energy_j: f64,
    /// Its share, by allocation, of the rest of the intervals it ran in, J.
    pub shared_energy_j: f64,
    /// Everything it is charged, J.
    pub total_energy_j: f64,
}

/// The totals of a timeline (output struct, versioned: set `struct_size`
/// to `sizeof(wl_timeline_report)` before the call).
///
/// `energy.compute_j` is the kernels' whole dynamic energy: FLOPs × energy
/// per operation, plus `active_energy_j` for kernels without FLOPs, so that
/// `energy.total_j` is the sum of the parts as in `wl_report`. The kernels'
/// `total_energy_j` plus `idle_energy_j` is `energy.total_j`. There is no
/// idle-allocated time on a timeline: a kernel's units are freed as it ends.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct wl_timeline_report {
    /// Set by the caller to `sizeof(wl_timeline_report)`; the library
    /// writes no more and sets it to the bytes written.
    pub struct_size: u32,
    /// `N`.
    pub units: u32,
    /// The `WL_TIMELINE_POLICY_*` used.
    pub policy: wl_timeline_policy,
    /// `WL_TIMELINE_FLAG_*` bits.
    pub flags: u32,
    /// Most units allocated at once.
    pub peak_units_allocated: u32,
    /// Reserved; written as 0.
    pub reserved: u32,
    /// Compute kernels ended.
    pub kernels: u64,
    /// Copies ended.
    pub copies: u64,
    /// Domain transitions (each power-down and each power-up counts one).
    pub transitions: u64,
    /// Idle periods of domains that ended (one per domain per period).
    pub idle_periods: u64,
    /// From the origin to the last time charged, s.
    pub span_s: f64,
    /// Time with a kernel or copy running, s.
    pub busy_s: f64,
    /// Time with nothing running (the GPU-idle bucket), s.
    pub idle_s: f64,
    /// Energy charged to the GPU-idle bucket, J.
    pub idle_energy_j: f64,
    /// Dynamic energy of kernels without FLOPs (`active_power_w / N` per
    /// active unit-second), J; part of `energy.compute_j`.
    pub active_energy_j: f64,
    /// Where the energy went, J.
    pub energy: EnergyBreakdown,
    /// Per power state, indexed by `WL_STATE_*`; unit-seconds add up to
    /// `units · span_s`.
    pub states: [StateTotals; WL_STATES],
}

// SAFETY: repr(C), struct_size first, numbers only.
unsafe impl Versioned for wl_timeline_report {
    const SIZE_V1: u32 = WL_TIMELINE_REPORT_SIZE_V1;
    fn defaults() -> Self {
        wl_timeline_report::default()
    }
}

const _: () = assert!(size_of::<wl_timeline_report>() == WL_TIMELINE_REPORT_SIZE_V1 as usize);

/// Receives the record of each kernel or copy as it ends. The record is
/// valid only during the call. The callback must not call back into the
/// timeline that called it (that call would fail with [`WL_ERR_BUSY`]).
pub type wl_kernel_callback =
    Option<unsafe extern "C" fn(user_data: *mut c_void, record: *const wl_kernel_record)>;

/// A timeline composer (opaque). Made by [`wl_timeline_init`] in caller
/// storage or by [`wl_timeline_new`] on the heap.
#[derive(Debug)]
pub struct wl_timeline {
    _private: [u8; 0],
}

type CoreTimeline = Timeline<WL_TIMELINE_CAPACITY, WL_TIMELINE_IDLE_GROUPS>;

#[derive(Clone, Copy)]
struct KSink {
    callback: wl_kernel_callback,
    user: *mut c_void,
}

impl TimelineSink for KSink {
    fn kernel(&mut self, r: &KernelRecord) {
        if let Some(cb) = self.callback {
            let c = kernel_record(r);
            // SAFETY: the caller registered a C function that takes these
            // arguments; the record lives for the call.
            unsafe { cb(self.user, &c) };
        }
    }
}

/// What a timeline handle refers to.
pub(crate) struct TimelineObj {
    sink: Cell<KSink>,
    timeline: Exclusive<CoreTimeline>,
}

impl Object for TimelineObj {
    const KIND: Kind = Kind::Timeline;
    fn busy(&self) -> bool {
        self.timeline.is_busy()
    }
}

/// The timeline behind `t` (the one way there), marked busy for the call.
fn timeline<'a>(t: *const wl_timeline) -> Result<(Entered<'a, CoreTimeline>, KSink), wl_status> {
    let obj = handle::get::<TimelineObj, _>(t)?;
    Ok((obj.timeline.enter()?, obj.sink.get()))
}

fn policy(p: wl_timeline_policy) -> Result<TimelinePolicy, wl_status> {
    TimelinePolicy::ALL
        .get(p as usize)
        .copied()
        .ok_or(WL_ERR_OUT_OF_RANGE)
}

fn timeline_status(e: TimelineError) -> wl_status {
    use wattledger_core::float::FloatError;
    match e {
        TimelineError::Hardware(h) => hardware_status(h),
        TimelineError::GatingUnsupported(_) => WL_ERR_GATING_UNSUPPORTED,
        TimelineError::TimeWentBackwards { .. } => WL_ERR_TIME_WENT_BACK,
        TimelineError::EndBeforeStart { .. } => WL_ERR_END_BEFORE_START,
        TimelineError::NotANumber { .. } => float_status(FloatError::NotANumber),
        TimelineError::Infinite { .. } => float_status(FloatError::Infinite),
        TimelineError::Negative { .. } => float_status(FloatError::Negative),
        TimelineError::ZeroAllocation { .. } => WL_ERR_ZERO_ALLOCATION,
        TimelineError::CopyWithWork { .. } => WL_ERR_COPY_WITH_WORK,
        TimelineError::UnsupportedPrecision { .. } => WL_ERR_UNSUPPORTED_PRECISION,
        TimelineError::TooManyInFlight { .. } => WL_ERR_TOO_MANY_IN_FLIGHT,
        TimelineError::IdleGroupsFull { .. } => WL_ERR_IDLE_GROUPS_FULL,
        TimelineError::Overflow { .. } => WL_ERR_OVERFLOW,
        // A C callback never refuses a record.
        TimelineError::SinkFull => WL_ERR_CAPACITY,
        // `finish` is only called without an end, which is never early.
        TimelineError::EndBeforeLastEvent { .. } => WL_ERR_TIME_WENT_BACK,
        TimelineError::Finished => WL_ERR_FINISHED,
    }
}

fn kernel_record(r: &KernelRecord) -> wl_kernel_record {
    wl_kernel_record {
        struct_size: size_of::<wl_kernel_record>() as u32,
        kind: if r.copy {
            WL_KERNEL_KIND_COPY
        } else {
            WL_KERNEL_KIND_KERNEL
        },
        stream: r.stream,
        units: r.units,
        flags: r.flags.0,
        reserved: 0,
        id: r.id,
        sequence: r.sequence,
        start_ns: r.start_ns,
        end_ns: r.end_ns,
        active_unit_seconds: r.active_unit_seconds,
        compute_energy_j: r.compute_energy_j,
        memory_energy_j: r.memory_energy_j,
        active_energy_j: r.active_energy_j,
        own_static_energy_j: r.own_static_energy_j,
        shared_energy_j: r.shared_energy_j,
        total_energy_j: r.total_energy_j,
    }
}

pub(crate) fn report(r: &TimelineReport) -> wl_timeline_report {
    wl_timeline_report {
        struct_size: WL_TIMELINE_REPORT_SIZE_V1,
        units: r.units,
        policy: r.policy as u32,
        flags: r.flags.0,
        peak_units_allocated: r.peak_units_allocated,
        reserved: 0,
        kernels: r.kernels,
        copies: r.copies,
        transitions: r.transitions,
        idle_periods: r.idle_periods,
        span_s: r.span_s,
        busy_s: r.busy_s,
        idle_s: r.idle.seconds,
        idle_energy_j: r.idle.energy_j,
        active_energy_j: r.active_energy_j,
        energy: EnergyBreakdown {
            compute_j: r.compute_energy_j + r.active_energy_j,
            memory_j: r.memory_energy_j,
            static_j: r.static_energy_j,
            uncore_j: r.uncore_energy_j,
            transition_j: r.transition_energy_j,
            savings_j: r.gating_savings_j,
            // The core's own sum, so C sees the total Rust callers see.
            total_j: r.total_energy_j,
        },
        states: r.states.states,
    }
}

/// The core's interval for a checked C kernel. Checks what the core cannot
/// see: the kind, the precision, and units on a copy.
fn interval(k: &wl_kernel) -> Result<Interval, wl_status> {
    let work = if k.has_flops != 0 {
        Some(Work {
            flops: k.flops,
            precision: precision(k.precision)?,
        })
    } else {
        None
    };
    let engine = match k.kind {
        WL_KERNEL_KIND_KERNEL => Engine::Compute { units: k.units },
        WL_KERNEL_KIND_COPY if k.units == 0 => Engine::Copy,
        WL_KERNEL_KIND_COPY => return Err(WL_ERR_COPY_WITH_WORK),
        _ => return Err(WL_ERR_OUT_OF_RANGE),
    };
    Ok(Interval {
        id: k.id,
        stream: k.stream,
        start_ns: k.start_ns,
        end_ns: k.end_ns,
        engine,
        work,
        bytes: k.bytes,
    })
}

/// Bytes of storage a timeline needs (for [`wl_timeline_init`]). Never fails.
#[unsafe(no_mangle)]
pub extern "C" fn wl_timeline_size() -> usize {
    size_of::<TimelineObj>()
}

/// Alignment a timeline's storage needs, in bytes. Never fails.
#[unsafe(no_mangle)]
pub extern "C" fn wl_timeline_align() -> usize {
    align_of::<TimelineObj>()
}

/// A new timeline object for the inputs of `*_init` and `*_new`.
///
/// # Safety
/// `hw` is NULL or readable.
unsafe fn make(
    hw: *const wl_hardware,
    p: wl_timeline_policy,
    origin_ns: u64,
) -> Result<TimelineObj, wl_status> {
    // SAFETY: the caller's promise.
    let m = unsafe { model(hw)? };
    let t = CoreTimeline::new(m.clone(), policy(p)?, origin_ns).map_err(timeline_status)?;
    Ok(TimelineObj {
        sink: Cell::new(KSink {
            callback: None,
            user: core::ptr::null_mut(),
        }),
        timeline: Exclusive::new(t),
    })
}

/// Makes a timeline for `hw` under `policy` in the caller's `memory`, its
/// span starting at `origin_ns` (the clock of the kernels to come: for
/// CUPTI, `cuptiGetTimestamp()` when collection starts) with every domain
/// powered and free.
///
/// Ownership: `memory` stays the caller's; it must hold [`wl_timeline_size`]
/// bytes aligned to [`wl_timeline_align`] and stay valid until
/// [`wl_timeline_release`]. `hw` is copied. The handle written to `out` is
/// a number, not an address inside `memory`.
///
/// # Errors
/// In this order: [`WL_ERR_NULL_POINTER`] or [`WL_ERR_BAD_HANDLE`] (`hw`),
/// [`WL_ERR_OUT_OF_RANGE`] (`policy`), [`WL_ERR_TOO_MANY_UNITS`],
/// [`WL_ERR_INFINITE`] (powers too large to add up),
/// [`WL_ERR_GATING_UNSUPPORTED`]; then for `memory`
/// [`WL_ERR_NULL_POINTER`], [`WL_ERR_STORAGE_TOO_SMALL`],
/// [`WL_ERR_STORAGE_MISALIGNED`]; [`WL_ERR_NULL_POINTER`] (`out`);
/// [`WL_ERR_TOO_MANY_OBJECTS`]. `memory` is untouched on error.
///
/// # Safety
/// `memory` is NULL or has `len` writable bytes; `hw` is NULL or readable;
/// `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wl_timeline_init(
    memory: *mut c_void,
    len: usize,
    hw: *const wl_hardware,
    policy: wl_timeline_policy,
    origin_ns: u64,
    out: *mut *mut wl_timeline,
) -> wl_status {
    guard(|| {
        // SAFETY: this function's contract.
        let obj = unsafe { make(hw, policy, origin_ns)? };
        let storage = handle::storage_for::<TimelineObj>(memory, len)?;
        // SAFETY: this function's contract; `storage` is the caller's
        // memory, checked, and the library's until the release.
        unsafe { Out::new(out)?.write(handle::place(storage, obj)?) }
    })
}

/// Makes a timeline on the heap (needs `std`). Free it with [`wl_timeline_free`].
///
/// # Errors
/// As [`wl_timeline_init`] without the storage errors;
/// [`WL_ERR_NOT_SUPPORTED`] without `std`, after the checks.
///
/// # Safety
/// `hw` is NULL or readable; `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wl_timeline_new(
    hw: *const wl_hardware,
    policy: wl_timeline_policy,
    origin_ns: u64,
    out: *mut *mut wl_timeline,
) -> wl_status {
    guard(|| {
        // SAFETY: this function's contract.
        let (obj, out) = unsafe { (make(hw, policy, origin_ns)?, Out::new(out)?) };
        out.write(handle::place_on_heap(obj)?)
    })
}

/// Frees a timeline made by [`wl_timeline_new`]. The handle is dead after.
///
/// # Errors
/// [`WL_ERR_NULL_POINTER`], [`WL_ERR_BAD_HANDLE`] (already freed, or not a
/// timeline), [`WL_ERR_WRONG_STORAGE`] (made by [`wl_timeline_init`]: use
/// [`wl_timeline_release`]), [`WL_ERR_BUSY`].
///
/// # Safety
/// No other call may be using `t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wl_timeline_free(t: *mut wl_timeline) -> wl_status {
    guard(|| handle::free::<TimelineObj, _>(t))
}

/// Ends a timeline made by [`wl_timeline_init`]; its storage is the
/// caller's again. The handle is dead after.
///
/// # Errors
/// [`WL_ERR_NULL_POINTER`], [`WL_ERR_BAD_HANDLE`], [`WL_ERR_WRONG_STORAGE`]
/// (a heap timeline: use [`wl_timeline_free`]), [`WL_ERR_BUSY`].
///
/// # Safety
/// No other call may be using `t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wl_timeline_release(t: *mut wl_timeline) -> wl_status {
    guard(|| handle::release::<TimelineObj, _>(t))
}

/// Sets the function that receives each kernel's record as it ends (NULL:
/// discard them). `user_data` is passed back untouched and stays the
/// caller's.
///
/// # Errors
/// [`WL_ERR_NULL_POINTER`], [`WL_ERR_BAD_HANDLE`], [`WL_ERR_BUSY`].
///
/// # Safety
/// `callback`, if set, must be safe to call with `user_data` whenever the
/// timeline ends a kernel (in [`wl_timeline_push`], [`wl_timeline_advance`]
/// and [`wl_timeline_finish`]).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wl_timeline_set_callback(
    t: *mut wl_timeline,
    callback: wl_kernel_callback,
    user_data: *mut c_void,
) -> wl_status {
    guard(|| {
        let obj = handle::get::<TimelineObj, _>(t)?;
        let _inside = obj.timeline.enter()?;
        obj.sink.set(KSink {
            callback,
            user: user_data,
        });
        Ok(())
    })
}

/// Fills `out` with a compute kernel `id` on `units` units over
/// `[start_ns, end_ns)`: stream 0, no FLOPs (FP32 if set), no bytes,
/// `struct_size` set.
///
/// # Errors
/// [`WL_ERR_NULL_POINTER`].
///
/// # Safety
/// `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wl_kernel_init(
    out: *mut wl_kernel,
    id: u64,
    start_ns: u64,
    end_ns: u64,
    units: u32,
) -> wl_status {
    guard(|| {
        // SAFETY: this function's contract.
        let out = unsafe { Out::new(out)? };
        out.write(wl_kernel {
            id,
            start_ns,
            end_ns,
            units,
            ..wl_kernel::defaults()
        })
    })
}

/// Adds a kernel or copy, in order of start time. Those in flight that end
/// at or before its start end first, and their records go to the callback.
///
/// # Errors
/// Nothing changes on error: [`WL_ERR_NULL_POINTER`], [`WL_ERR_BAD_HANDLE`],
/// [`WL_ERR_BUSY`], [`WL_ERR_STRUCT_SIZE`], [`WL_ERR_OUT_OF_RANGE`] (kind,
/// or precision when `has_flops`), [`WL_ERR_COPY_WITH_WORK`] (a copy with
/// units or FLOPs), [`WL_ERR_FINISHED`], [`WL_ERR_TIME_WENT_BACK`] (starts
/// before the latest start or advance), [`WL_ERR_END_BEFORE_START`],
/// [`WL_ERR_NOT_A_NUMBER`], [`WL_ERR_INFINITE`], [`WL_ERR_NEGATIVE`]
/// (`flops`, `bytes`), [`WL_ERR_ZERO_ALLOCATION`] (a kernel on 0 units),
/// [`WL_ERR_UNSUPPORTED_PRECISION`], [`WL_ERR_OVERFLOW`],
/// [`WL_ERR_TOO_MANY_IN_FLIGHT`], [`WL_ERR_IDLE_GROUPS_FULL`].
///
/// # Safety
/// `k` is NULL or has `k->struct_size` readable bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wl_timeline_push(t: *mut wl_timeline, k: *const wl_kernel) -> wl_status {
    guard(|| {
        let (mut tl, mut sink) = timeline(t)?;
        // SAFETY: this function's contract.
        let iv = interval(&unsafe { read_in(k)? })?;
        tl.push(&iv, &mut sink).map_err(timeline_status)
    })
}

/// Charges up to `t_ns` with nothing new starting: kernels that end by then
/// end (their records go to the callback), and [`wl_timeline_get_report`] then
/// covers the span up to `t_ns`. Nothing may be pushed before `t_ns`
/// afterwards. Charges are the same whether or not it is called: use it to
/// read power states live, or to end the span after the last kernel before
/// [`wl_timeline_finish`].
///
/// # Errors
/// Nothing changes on error: [`WL_ERR_NULL_POINTER`], [`WL_ERR_BAD_HANDLE`],
/// [`WL_ERR_BUSY`], [`WL_ERR_FINISHED`], [`WL_ERR_TIME_WENT_BACK`] (before
/// the latest start), [`WL_ERR_IDLE_GROUPS_FULL`].
///
/// # Safety
/// No other thread ends `t` during the call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wl_timeline_advance(t: *mut wl_timeline, t_ns: u64) -> wl_status {
    guard(|| {
        let (mut tl, mut sink) = timeline(t)?;
        tl.advance_to(t_ns, &mut sink).map_err(timeline_status)
    })
}

/// Ends every kernel in flight, charges up to the latest end (or the
/// latest [`wl_timeline_advance`], if later), costs the idle periods still
/// open, and writes the totals to `out`. Push nothing more until
/// [`wl_timeline_reset`].
///
/// # Errors
/// Nothing changes on error: [`WL_ERR_NULL_POINTER`], [`WL_ERR_BAD_HANDLE`],
/// [`WL_ERR_BUSY`], [`WL_ERR_STRUCT_SIZE`] (`out->struct_size`),
/// [`WL_ERR_FINISHED`].
///
/// # Safety
/// `out` is NULL or has `out->struct_size` writable bytes, `struct_size` set.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wl_timeline_finish(
    t: *mut wl_timeline,
    out: *mut wl_timeline_report,
) -> wl_status {
    guard(|| {
        let (mut tl, mut sink) = timeline(t)?;
        // SAFETY: this function's contract.
        let out = unsafe { OutSized::new(out)? };
        let r = tl.finish(None, &mut sink).map_err(timeline_status)?;
        out.write(report(&r))
    })
}

/// Writes the totals so far to `out`: exact once finished. Before that,
/// kernels in flight have their FLOP and byte energy counted but not their
/// records, and idle periods not yet ended are not costed.
///
/// # Errors
/// [`WL_ERR_NULL_POINTER`], [`WL_ERR_BAD_HANDLE`], [`WL_ERR_BUSY`],
/// [`WL_ERR_STRUCT_SIZE`].
///
/// # Safety
/// As [`wl_timeline_finish`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wl_timeline_get_report(
    t: *mut wl_timeline,
    out: *mut wl_timeline_report,
) -> wl_status {
    guard(|| {
        let (tl, _) = timeline(t)?;
        // SAFETY: this function's contract.
        let out = unsafe { OutSized::new(out)? };
        out.write(report(&tl.report()))
    })
}

/// Number of kernels and copies in flight.
///
/// # Errors
/// [`WL_ERR_NULL_POINTER`], [`WL_ERR_BAD_HANDLE`], [`WL_ERR_BUSY`].
///
/// # Safety
/// `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wl_timeline_in_flight(t: *mut wl_timeline, out: *mut usize) -> wl_status {
    guard(|| {
        let (tl, _) = timeline(t)?;
        // SAFETY: this function's contract.
        let out = unsafe { Out::new(out)? };
        out.write(tl.in_flight())
    })
}

/// The break-even idle time of the timeline's hardware, in ns: an idle
/// period longer than this costs less gated than powered
/// (`UINT64_MAX` when gating never pays).
///
/// # Errors
/// [`WL_ERR_NULL_POINTER`], [`WL_ERR_BAD_HANDLE`], [`WL_ERR_BUSY`].
///
/// # Safety
/// `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wl_timeline_break_even_ns(
    t: *mut wl_timeline,
    out: *mut u64,
) -> wl_status {
    guard(|| {
        let (tl, _) = timeline(t)?;
        // SAFETY: this function's contract.
        let out = unsafe { Out::new(out)? };
        out.write(tl.break_even_ns())
    })
}

/// Starts over from `origin_ns` with every domain powered and free, nothing
/// in flight and no totals (finished or not); keeps the hardware, policy
/// and callback.
///
/// # Errors
/// [`WL_ERR_NULL_POINTER`], [`WL_ERR_BAD_HANDLE`], [`WL_ERR_BUSY`].
///
/// # Safety
/// No other thread ends `t` during the call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wl_timeline_reset(t: *mut wl_timeline, origin_ns: u64) -> wl_status {
    guard(|| {
        let (mut tl, _) = timeline(t)?;
        tl.reset(origin_ns);
        Ok(())
    })
}

/// The name of a timeline policy (`"off"`, `"always"`, `"timeout"`,
/// `"oracle"`), static; NULL for a value that is not a `WL_TIMELINE_POLICY_*`.
#[unsafe(no_mangle)]
pub extern "C" fn wl_timeline_policy_name(policy_id: wl_timeline_policy) -> *const c_char {
    const NAMES: [&core::ffi::CStr; 4] = [c"off", c"always", c"timeout", c"oracle"];
    NAMES
        .get(policy_id as usize)
        .map_or(core::ptr::null(), |s| s.as_ptr())
}

/// The timeline policy called `name`.
///
/// # Errors
/// [`WL_ERR_NULL_POINTER`], [`WL_ERR_BAD_UTF8`], [`WL_ERR_UNKNOWN_NAME`].
///
/// # Safety
/// `name` is NULL or NUL-terminated; `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wl_timeline_policy_from_name(
    name: *const c_char,
    out: *mut wl_timeline_policy,
) -> wl_status {
    guard(|| {
        // SAFETY: this function's contract.
        let (name, out) = unsafe { (text(name)?, Out::new(out)?) };
        let p = TimelinePolicy::from_name(name).ok_or(WL_ERR_UNKNOWN_NAME)?;
        out.write(p as u32)
    })
}

#[cfg(test)]
mod tests;
