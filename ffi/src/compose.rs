//! The streaming composer: subgraphs in, a model report out.

use core::cell::Cell;
use core::ffi::{c_char, c_void};
use core::mem::{align_of, size_of};

use wattledger_core::compose::{
    ComposeError, Composer, GatingPolicy, ModelReport, Sink, StageRecord, Subgraph, SubgraphRecord,
};
use wattledger_core::state::{PowerState, STATES, StateLedger};

use crate::handle::{
    Storage, TAG_COMPOSER, Tagged, check, free_heap, place, release_in_place, storage_for,
};
use crate::hardware::{hardware_status, model, precision, wl_hardware, wl_precision};
use crate::status::*;
use crate::{c_str, guard, need, read_sized, write_out};

/// The most subgraphs one stage may hold in a composer made by this library.
pub const WL_STAGE_CAPACITY: usize = 64;
/// Number of power states: the length of per-state arrays.
pub const WL_STATES: usize = 5;

const _: () = assert!(WL_STATES == STATES);

/// What to do with powered, unallocated gating domains (a `WL_POLICY_*` value).
pub type wl_policy = u32;
/// Never gate (the seed's formula).
pub const WL_POLICY_OFF: wl_policy = 0;
/// Power down every unallocated domain at the start of every stage.
pub const WL_POLICY_ALWAYS: wl_policy = 1;
/// Power down only when the stage is long enough to pay for it.
pub const WL_POLICY_BREAK_EVEN: wl_policy = 2;

/// A power state (a `WL_STATE_*` value): the index into per-state arrays.
pub type wl_power_state = u32;
/// Allocated and executing.
pub const WL_STATE_ACTIVE: wl_power_state = 0;
/// Allocated, finished, waiting for the stage to end.
pub const WL_STATE_IDLE_ALLOCATED: wl_power_state = 1;
/// Not allocated, powered.
pub const WL_STATE_IDLE_UNALLOCATED: wl_power_state = 2;
/// Power-gated.
pub const WL_STATE_GATED: wl_power_state = 3;
/// Being woken.
pub const WL_STATE_TRANSITIONING: wl_power_state = 4;

/// Report flag: more units were allocated than exist (scaled by `N/A`).
pub const WL_FLAG_OVERSUBSCRIBED: u32 = 1;
/// Report flag: a subgraph without allocation (the legacy path).
pub const WL_FLAG_LEGACY_PATH: u32 = 2;
/// Report flag: a legacy subgraph had no thread count.
pub const WL_FLAG_LEGACY_NO_THREADS: u32 = 4;
/// Report flag: domains were woken.
pub const WL_FLAG_WOKE_DOMAINS: u32 = 8;
/// Report flag: domains were gated.
pub const WL_FLAG_GATED_DOMAINS: u32 = 16;

/// One subgraph: an input struct.
///
/// Fill it with [`wl_subgraph_init`] and change what you need. Booleans are
/// `uint32_t`: set `has_units_allocated` to use `units_allocated` (else the
/// subgraph holds the whole chip, the legacy path) and `has_threads` to use
/// `threads`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct wl_subgraph {
    /// `sizeof(wl_subgraph)` as the caller knows it.
    pub struct_size: u32,
    /// The caller's id, echoed in records.
    pub id: u32,
    /// Execution stage; stages arrive in non-decreasing order.
    pub stage: u32,
    /// A `WL_PRECISION_*` value.
    pub precision: wl_precision,
    /// Operations (finite, ≥ 0).
    pub flops: f64,
    /// Bytes read as input (finite, ≥ 0).
    pub input_bytes: f64,
    /// Bytes written as output (finite, ≥ 0).
    pub output_bytes: f64,
    /// Weight bytes read (finite, ≥ 0).
    pub weight_bytes: f64,
    /// Latency at the current operating point, s (finite, ≥ 0).
    pub latency_s: f64,
    /// Whether `units_allocated` is given.
    pub has_units_allocated: u32,
    /// Units allocated (≥ 1 when given).
    pub units_allocated: u32,
    /// Whether `threads` is given.
    pub has_threads: u32,
    /// Reserved; set to 0.
    pub reserved: u32,
    /// Threads launched (legacy utilisation estimate).
    pub threads: u64,
}

/// Per-state totals.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct wl_state_totals {
    /// Unit-seconds spent in the state.
    pub unit_seconds: f64,
    /// Joules charged to the state.
    pub energy_j: f64,
}

/// The model's totals (output struct), the fields of the core's `ModelReport`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct wl_report {
    /// `N`.
    pub units: u32,
    /// The `WL_POLICY_*` used.
    pub policy: wl_policy,
    /// Stages closed.
    pub stages: u32,
    /// `WL_FLAG_*` bits.
    pub flags: u32,
    /// Subgraphs accounted.
    pub subgraphs: u64,
    /// Transitions between powered and gated.
    pub transitions: u64,
    /// Σ stage durations, s.
    pub latency_s: f64,
    /// Total energy, J.
    pub total_energy_j: f64,
    /// Per power state, indexed by `WL_STATE_*`.
    pub states: [wl_state_totals; WL_STATES],
    /// Dynamic compute energy, J.
    pub compute_energy_j: f64,
    /// Memory energy, J.
    pub memory_energy_j: f64,
    /// Static energy of powered units, J.
    pub static_energy_j: f64,
    /// Uncore energy, J.
    pub uncore_energy_j: f64,
    /// Transition energy, J.
    pub transition_energy_j: f64,
    /// Static energy gating saved, J.
    pub gating_savings_j: f64,
    /// Energy of the two idle states, J.
    pub wasted_energy_j: f64,
    /// Most units allocated in one stage.
    pub peak_units_allocated: u32,
    /// Reserved (0).
    pub reserved: u32,
    /// Time-weighted mean of units allocated.
    pub average_units_allocated: f64,
    /// Active unit-seconds / (N · latency).
    pub utilization: f64,
}

/// The record of a closed stage, handed to a [`wl_record_callback`].
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct wl_stage_record {
    /// The stage number.
    pub stage: u32,
    /// Subgraphs in it.
    pub subgraphs: u32,
    /// Units accounted as allocated.
    pub units_allocated: u32,
    /// Domains woken at its start.
    pub domains_woken: u32,
    /// Domains powered down at its start.
    pub domains_powered_down: u32,
    /// Domains gated during it.
    pub domains_gated: u32,
    /// Units asked for, rounded to whole domains.
    pub units_requested: u64,
    /// `T`, s.
    pub duration_s: f64,
    /// Wake window, s.
    pub wake_s: f64,
    /// Per power state.
    pub states: [wl_state_totals; WL_STATES],
    /// Compute energy, J.
    pub compute_energy_j: f64,
    /// Memory energy, J.
    pub memory_energy_j: f64,
    /// Static energy, J.
    pub static_energy_j: f64,
    /// Uncore energy, J.
    pub uncore_energy_j: f64,
    /// Transition energy, J.
    pub transition_energy_j: f64,
    /// Gating savings, J.
    pub gating_savings_j: f64,
    /// Total, J.
    pub total_energy_j: f64,
    /// `WL_FLAG_*` bits.
    pub flags: u32,
    /// Reserved (0).
    pub reserved: u32,
}

/// What one subgraph is charged, handed to a [`wl_record_callback`].
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct wl_subgraph_record {
    /// The caller's id.
    pub id: u32,
    /// The stage.
    pub stage: u32,
    /// Position in the whole stream, from 0.
    pub sequence: u64,
    /// First domain placed.
    pub first_domain: u32,
    /// Domains placed.
    pub domains: u32,
    /// Whether `legacy_utilization` is set.
    pub has_legacy_utilization: u32,
    /// Reserved (0).
    pub reserved: u32,
    /// Units accounted.
    pub units: f64,
    /// Latency, s.
    pub latency_s: f64,
    /// Active unit-seconds.
    pub active_unit_seconds: f64,
    /// Idle-allocated unit-seconds.
    pub idle_allocated_unit_seconds: f64,
    /// Legacy utilisation estimate.
    pub legacy_utilization: f64,
    /// Compute energy, J.
    pub compute_energy_j: f64,
    /// Memory energy, J.
    pub memory_energy_j: f64,
    /// Static energy of its own units, J.
    pub own_static_energy_j: f64,
    /// Its share of the stage's shared energy, J.
    pub shared_energy_j: f64,
    /// Total charged, J.
    pub total_energy_j: f64,
}

/// Receives records as stages close: exactly one of `stage` and `subgraph`
/// is non-NULL. The records are valid only during the call. The callback
/// must not call back into the composer that called it (that call would
/// fail with [`WL_ERR_BUSY`]).
pub type wl_record_callback = Option<
    unsafe extern "C" fn(
        user_data: *mut c_void,
        stage: *const wl_stage_record,
        subgraph: *const wl_subgraph_record,
    ),
>;

/// A composer (opaque). Made by [`wl_composer_init`] in caller storage or by
/// [`wl_composer_new`] on the heap.
#[derive(Debug)]
pub struct wl_composer {
    _private: [u8; 0],
}

#[derive(Clone, Copy)]
struct CSink {
    callback: wl_record_callback,
    user: *mut c_void,
}

impl Sink for CSink {
    fn subgraph(&mut self, r: &SubgraphRecord) {
        if let Some(cb) = self.callback {
            let c = subgraph_record(r);
            // SAFETY: the caller registered a C function that takes these
            // arguments; the record lives for the call.
            unsafe { cb(self.user, core::ptr::null(), &c) };
        }
    }
    fn stage(&mut self, r: &StageRecord) {
        if let Some(cb) = self.callback {
            let c = stage_record(r);
            // SAFETY: as above.
            unsafe { cb(self.user, &c, core::ptr::null()) };
        }
    }
}

#[repr(C)]
struct ComposerObj {
    tag: u64,
    heap: bool,
    busy: Cell<bool>,
    sink: Cell<CSink>,
    composer: Composer<WL_STAGE_CAPACITY>,
}

// SAFETY: `#[repr(C)]` with the u64 tag first.
unsafe impl Tagged for ComposerObj {
    const TAG: u64 = TAG_COMPOSER;

    unsafe fn storage(p: *const Self) -> Storage {
        // SAFETY: the caller says a ComposerObj lives at `p`; only the
        // `heap` and `busy` fields are read, never the composer, which a
        // running call may hold borrowed.
        let (heap, busy) = unsafe { ((*p).heap, (*p).busy.get()) };
        Storage { heap, busy }
    }
}

/// Marks an object busy for the length of a call.
struct Busy<'a>(&'a Cell<bool>);

impl<'a> Busy<'a> {
    fn enter(flag: &'a Cell<bool>) -> Result<Self, wl_status> {
        if flag.replace(true) {
            Err(WL_ERR_BUSY)
        } else {
            Ok(Busy(flag))
        }
    }
}

impl Drop for Busy<'_> {
    fn drop(&mut self) {
        self.0.set(false);
    }
}

/// Runs `f` on a live composer, marked busy.
///
/// # Safety
/// `c` is NULL, a handle the library gave out, or 8 readable bytes.
unsafe fn with<R>(
    c: *mut wl_composer,
    f: impl FnOnce(&mut Composer<WL_STAGE_CAPACITY>, CSink) -> Result<R, wl_status>,
) -> Result<R, wl_status> {
    // SAFETY: forwarded from the caller.
    unsafe { check(c.cast_const(), TAG_COMPOSER) }?;
    let obj = c.cast::<ComposerObj>();
    // SAFETY: the tag says a ComposerObj lives here. Only the `busy` and
    // `sink` cells are borrowed shared; the composer field is borrowed
    // mutably only while `busy` is held, so a re-entrant call from a
    // callback fails at `enter` and never aliases it.
    let busy = unsafe { &(*obj).busy };
    let _guard = Busy::enter(busy)?;
    // SAFETY: as above.
    let sink = unsafe { (*obj).sink.get() };
    // SAFETY: as above; exclusive while busy.
    let composer = unsafe { &mut (*obj).composer };
    f(composer, sink)
}

fn policy(p: wl_policy) -> Result<GatingPolicy, wl_status> {
    GatingPolicy::ALL
        .get(p as usize)
        .copied()
        .ok_or(WL_ERR_OUT_OF_RANGE)
}

fn compose_status(e: ComposeError) -> wl_status {
    match e {
        ComposeError::Hardware(h) => hardware_status(h),
        ComposeError::GatingUnsupported(_) => WL_ERR_GATING_UNSUPPORTED,
        ComposeError::NotANumber { .. } => WL_ERR_NOT_A_NUMBER,
        ComposeError::Infinite { .. } => WL_ERR_INFINITE,
        ComposeError::Negative { .. } => WL_ERR_NEGATIVE,
        ComposeError::ZeroAllocation { .. } => WL_ERR_ZERO_ALLOCATION,
        ComposeError::UnsupportedPrecision { .. } => WL_ERR_UNSUPPORTED_PRECISION,
        ComposeError::StageOutOfOrder { .. } => WL_ERR_STAGE_OUT_OF_ORDER,
        ComposeError::StageFull { .. } => WL_ERR_STAGE_FULL,
        ComposeError::LegacySharesStage { .. } => WL_ERR_LEGACY_SHARES_STAGE,
        ComposeError::Overflow { .. } => WL_ERR_OVERFLOW,
        ComposeError::SinkFull { .. } => WL_ERR_CAPACITY,
    }
}

fn states(l: &StateLedger) -> [wl_state_totals; WL_STATES] {
    let mut out = [wl_state_totals::default(); WL_STATES];
    for (slot, s) in out.iter_mut().zip(PowerState::ALL) {
        let t = l.get(s);
        *slot = wl_state_totals {
            unit_seconds: t.unit_seconds,
            energy_j: t.energy_j,
        };
    }
    out
}

pub(crate) fn report(r: &ModelReport) -> wl_report {
    wl_report {
        units: r.units,
        policy: r.policy as u32,
        stages: r.stages,
        flags: r.flags.0,
        subgraphs: r.subgraphs,
        transitions: r.transitions,
        latency_s: r.latency_s,
        total_energy_j: r.total_energy_j,
        states: states(&r.states),
        compute_energy_j: r.compute_energy_j,
        memory_energy_j: r.memory_energy_j,
        static_energy_j: r.static_energy_j,
        uncore_energy_j: r.uncore_energy_j,
        transition_energy_j: r.transition_energy_j,
        gating_savings_j: r.gating_savings_j,
        wasted_energy_j: r.wasted_energy_j,
        peak_units_allocated: r.peak_units_allocated,
        reserved: 0,
        average_units_allocated: r.average_units_allocated,
        utilization: r.utilization,
    }
}

fn stage_record(r: &StageRecord) -> wl_stage_record {
    wl_stage_record {
        stage: r.stage,
        subgraphs: r.subgraphs,
        units_allocated: r.units_allocated,
        domains_woken: r.domains_woken,
        domains_powered_down: r.domains_powered_down,
        domains_gated: r.domains_gated,
        units_requested: r.units_requested,
        duration_s: r.duration_s,
        wake_s: r.wake_s,
        states: states(&r.states),
        compute_energy_j: r.compute_energy_j,
        memory_energy_j: r.memory_energy_j,
        static_energy_j: r.static_energy_j,
        uncore_energy_j: r.uncore_energy_j,
        transition_energy_j: r.transition_energy_j,
        gating_savings_j: r.gating_savings_j,
        total_energy_j: r.total_energy_j,
        flags: r.flags.0,
        reserved: 0,
    }
}

fn subgraph_record(r: &SubgraphRecord) -> wl_subgraph_record {
    wl_subgraph_record {
        id: r.id,
        stage: r.stage,
        sequence: r.sequence,
        first_domain: r.first_domain,
        domains: r.domains,
        has_legacy_utilization: u32::from(r.legacy_utilization.is_some()),
        reserved: 0,
        units: r.units,
        latency_s: r.latency_s,
        active_unit_seconds: r.active_unit_seconds,
        idle_allocated_unit_seconds: r.idle_allocated_unit_seconds,
        legacy_utilization: r.legacy_utilization.unwrap_or(0.0),
        compute_energy_j: r.compute_energy_j,
        memory_energy_j: r.memory_energy_j,
        own_static_energy_j: r.own_static_energy_j,
        shared_energy_j: r.shared_energy_j,
        total_energy_j: r.total_energy_j,
    }
}

fn subgraph(s: &wl_subgraph) -> Result<Subgraph, wl_status> {
    if s.has_units_allocated != 0 && s.units_allocated == 0 {
        return Err(WL_ERR_ZERO_ALLOCATION);
    }
    Ok(Subgraph {
        id: s.id,
        stage: s.stage,
        flops: s.flops,
        precision: precision(s.precision)?,
        input_bytes: s.input_bytes,
        output_bytes: s.output_bytes,
        weight_bytes: s.weight_bytes,
        latency_s: s.latency_s,
        units_allocated: (s.has_units_allocated != 0).then_some(s.units_allocated),
        threads: (s.has_threads != 0).then_some(s.threads),
    })
}

/// Bytes of storage a composer needs (for [`wl_composer_init`]). Never fails.
#[unsafe(no_mangle)]
pub extern "C" fn wl_composer_size() -> usize {
    size_of::<ComposerObj>()
}

/// Alignment a composer's storage needs, in bytes. Never fails.
#[unsafe(no_mangle)]
pub extern "C" fn wl_composer_align() -> usize {
    align_of::<ComposerObj>()
}

fn make(hw: &wl_hardware, p: wl_policy, heap: bool) -> Result<ComposerObj, wl_status> {
    // SAFETY: `hw` is a reference, so readable.
    let m = unsafe { model(hw) }?;
    let composer = Composer::new(m.clone(), policy(p)?).map_err(compose_status)?;
    Ok(ComposerObj {
        tag: TAG_COMPOSER,
        heap,
        busy: Cell::new(false),
        sink: Cell::new(CSink {
            callback: None,
            user: core::ptr::null_mut(),
        }),
        composer,
    })
}

/// Makes a composer for `hw` under `policy` in the caller's `memory`.
///
/// Ownership: `memory` stays the caller's; it must hold [`wl_composer_size`]
/// bytes aligned to [`wl_composer_align`] and stay valid until
/// [`wl_composer_release`]. The handle written to `out` points into it.
/// `hw` is copied.
///
/// # Errors
/// [`WL_ERR_NULL_POINTER`], [`WL_ERR_STORAGE_TOO_SMALL`],
/// [`WL_ERR_STORAGE_MISALIGNED`], [`WL_ERR_BAD_HANDLE`] (`hw`),
/// [`WL_ERR_OUT_OF_RANGE`] (`policy`), [`WL_ERR_TOO_MANY_UNITS`],
/// [`WL_ERR_GATING_UNSUPPORTED`]. `memory` is untouched on error.
///
/// # Safety
/// `memory` is NULL or has `len` writable bytes; `hw` is NULL or readable;
/// `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wl_composer_init(
    memory: *mut c_void,
    len: usize,
    hw: *const wl_hardware,
    policy: wl_policy,
    out: *mut *mut wl_composer,
) -> wl_status {
    guard(|| {
        need(out)?;
        need(hw)?;
        let p = storage_for::<ComposerObj>(memory, len)?;
        // SAFETY: non-null and readable by the caller's promise.
        let obj = make(unsafe { &*hw }, policy, false)?;
        // SAFETY: `p` is from `storage_for`; `out` is non-null and, by
        // the caller's promise, writable.
        unsafe { place(p, obj, out) }
    })
}

/// Makes a composer on the heap (needs `std`). Free it with [`wl_composer_free`].
///
/// # Errors
/// As [`wl_composer_init`] without the storage errors;
/// [`WL_ERR_NOT_SUPPORTED`] without `std`.
///
/// # Safety
/// `hw` is NULL or readable; `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wl_composer_new(
    hw: *const wl_hardware,
    policy: wl_policy,
    out: *mut *mut wl_composer,
) -> wl_status {
    guard(|| {
        need(out)?;
        need(hw)?;
        #[cfg(feature = "std")]
        {
            // SAFETY: non-null and readable by the caller's promise.
            let obj = make(unsafe { &*hw }, policy, true)?;
            // SAFETY: forwarded from the caller.
            unsafe { crate::handle::place_on_heap(obj, out) }
        }
        #[cfg(not(feature = "std"))]
        {
            let _ = policy;
            Err(WL_ERR_NOT_SUPPORTED)
        }
    })
}

/// Frees a composer made by [`wl_composer_new`]. The handle is dead after.
///
/// # Errors
/// [`WL_ERR_NULL_POINTER`], [`WL_ERR_BAD_HANDLE`] (already freed, or not a
/// composer), [`WL_ERR_WRONG_STORAGE`] (made by [`wl_composer_init`]: use
/// [`wl_composer_release`]), [`WL_ERR_BUSY`], [`WL_ERR_NOT_SUPPORTED`]
/// without `std`.
///
/// # Safety
/// `c` is NULL or a handle from this library (live or freed).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wl_composer_free(c: *mut wl_composer) -> wl_status {
    // SAFETY: forwarded from the caller.
    guard(|| unsafe { free_heap(c.cast::<ComposerObj>()) })
}

/// Ends a composer made by [`wl_composer_init`]; its storage is the
/// caller's again. The handle is dead after.
///
/// # Errors
/// [`WL_ERR_NULL_POINTER`], [`WL_ERR_BAD_HANDLE`], [`WL_ERR_WRONG_STORAGE`]
/// (a heap composer: use [`wl_composer_free`]), [`WL_ERR_BUSY`].
///
/// # Safety
/// `c` is NULL, a handle from this library, or 8 readable bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wl_composer_release(c: *mut wl_composer) -> wl_status {
    // SAFETY: forwarded from the caller.
    guard(|| unsafe { release_in_place(c.cast::<ComposerObj>()) })
}

/// Sets the function that receives stage and subgraph records as stages
/// close (NULL: discard them). `user_data` is passed back untouched and
/// stays the caller's.
///
/// # Errors
/// [`WL_ERR_NULL_POINTER`], [`WL_ERR_BAD_HANDLE`], [`WL_ERR_BUSY`].
///
/// # Safety
/// `c` as for [`wl_composer_release`]; `callback`, if set, must be safe to
/// call with `user_data` whenever the composer closes a stage.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wl_composer_set_callback(
    c: *mut wl_composer,
    callback: wl_record_callback,
    user_data: *mut c_void,
) -> wl_status {
    guard(|| {
        // SAFETY: forwarded from the caller.
        unsafe { check(c.cast_const(), TAG_COMPOSER) }?;
        let obj = c.cast::<ComposerObj>();
        // SAFETY: live ComposerObj; only the cells are borrowed.
        let (busy, sink) = unsafe { (&(*obj).busy, &(*obj).sink) };
        let _g = Busy::enter(busy)?;
        sink.set(CSink {
            callback,
            user: user_data,
        });
        Ok(())
    })
}

/// Fills `out` with a subgraph `id` in `stage`: no work, no bytes, no
/// latency, FP32, no allocation, no threads, `struct_size` set.
///
/// # Errors
/// [`WL_ERR_NULL_POINTER`].
///
/// # Safety
/// `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wl_subgraph_init(out: *mut wl_subgraph, id: u32, stage: u32) -> wl_status {
    guard(|| {
        let s = wl_subgraph {
            struct_size: size_of::<wl_subgraph>() as u32,
            id,
            stage,
            precision: crate::hardware::WL_PRECISION_FP32,
            flops: 0.0,
            input_bytes: 0.0,
            output_bytes: 0.0,
            weight_bytes: 0.0,
            latency_s: 0.0,
            has_units_allocated: 0,
            units_allocated: 0,
            has_threads: 0,
            reserved: 0,
            threads: 0,
        };
        // SAFETY: forwarded from the caller.
        unsafe { write_out(out, s) }
    })
}

/// Adds a subgraph to the stream; a later stage closes the open one first,
/// and its records go to the callback.
///
/// # Errors
/// Nothing changes on error: [`WL_ERR_NULL_POINTER`], [`WL_ERR_BAD_HANDLE`],
/// [`WL_ERR_BUSY`], [`WL_ERR_STRUCT_SIZE`], [`WL_ERR_OUT_OF_RANGE`]
/// (precision), [`WL_ERR_NOT_A_NUMBER`], [`WL_ERR_INFINITE`],
/// [`WL_ERR_NEGATIVE`], [`WL_ERR_ZERO_ALLOCATION`],
/// [`WL_ERR_UNSUPPORTED_PRECISION`], [`WL_ERR_STAGE_OUT_OF_ORDER`],
/// [`WL_ERR_STAGE_FULL`], [`WL_ERR_LEGACY_SHARES_STAGE`], [`WL_ERR_OVERFLOW`].
///
/// # Safety
/// `c` as for [`wl_composer_release`]; `sg` is NULL or has
/// `sg->struct_size` readable bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wl_composer_push(
    c: *mut wl_composer,
    sg: *const wl_subgraph,
) -> wl_status {
    guard(|| {
        need(c)?;
        // SAFETY: forwarded from the caller.
        let s = unsafe { read_sized(sg) }?;
        let s = subgraph(&s)?;
        // SAFETY: forwarded from the caller.
        unsafe {
            with(c, |comp, mut sink| {
                comp.push(&s, &mut sink).map_err(compose_status)
            })
        }
    })
}

/// Closes the open stage and writes the model's totals to `out`. The
/// composer can take subgraphs of later stages afterwards.
///
/// # Errors
/// [`WL_ERR_NULL_POINTER`], [`WL_ERR_BAD_HANDLE`], [`WL_ERR_BUSY`],
/// [`WL_ERR_OVERFLOW`]; nothing changes then.
///
/// # Safety
/// `c` as for [`wl_composer_release`]; `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wl_composer_finish(c: *mut wl_composer, out: *mut wl_report) -> wl_status {
    guard(|| {
        need(out)?;
        // SAFETY: forwarded from the caller.
        let r = unsafe {
            with(c, |comp, mut sink| {
                comp.finish(&mut sink).map_err(compose_status)
            })
        }?;
        // SAFETY: forwarded from the caller.
        unsafe { write_out(out, report(&r)) }
    })
}

/// Writes the totals of the stages closed so far (not the open one) to `out`.
///
/// # Errors
/// [`WL_ERR_NULL_POINTER`], [`WL_ERR_BAD_HANDLE`], [`WL_ERR_BUSY`].
///
/// # Safety
/// `c` as for [`wl_composer_release`]; `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wl_composer_report(c: *mut wl_composer, out: *mut wl_report) -> wl_status {
    guard(|| {
        need(out)?;
        // SAFETY: forwarded from the caller.
        let r = unsafe { with(c, |comp, _| Ok(report(&comp.report()))) }?;
        // SAFETY: forwarded from the caller.
        unsafe { write_out(out, r) }
    })
}

/// Number of subgraphs waiting in the open stage.
///
/// # Errors
/// [`WL_ERR_NULL_POINTER`], [`WL_ERR_BAD_HANDLE`], [`WL_ERR_BUSY`].
///
/// # Safety
/// `c` as for [`wl_composer_release`]; `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wl_composer_pending(c: *mut wl_composer, out: *mut usize) -> wl_status {
    guard(|| {
        need(out)?;
        // SAFETY: forwarded from the caller.
        let n = unsafe { with(c, |comp, _| Ok(comp.pending())) }?;
        // SAFETY: forwarded from the caller.
        unsafe { write_out(out, n) }
    })
}

/// Forgets every stage and powers every domain again; keeps the hardware,
/// policy and callback.
///
/// # Errors
/// [`WL_ERR_NULL_POINTER`], [`WL_ERR_BAD_HANDLE`], [`WL_ERR_BUSY`].
///
/// # Safety
/// `c` as for [`wl_composer_release`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wl_composer_reset(c: *mut wl_composer) -> wl_status {
    guard(|| {
        // SAFETY: forwarded from the caller.
        unsafe {
            with(c, |comp, _| {
                comp.reset();
                Ok(())
            })
        }
    })
}

/// The name of a gating policy (`"off"`, `"always"`, `"break-even"`),
/// static; NULL for a value that is not a `WL_POLICY_*`.
#[unsafe(no_mangle)]
pub extern "C" fn wl_policy_name(policy_id: wl_policy) -> *const c_char {
    const NAMES: [&core::ffi::CStr; 3] = [c"off", c"always", c"break-even"];
    NAMES
        .get(policy_id as usize)
        .map_or(core::ptr::null(), |s| s.as_ptr())
}

/// The gating policy called `name`.
///
/// # Errors
/// [`WL_ERR_NULL_POINTER`], [`WL_ERR_BAD_UTF8`], [`WL_ERR_UNKNOWN_NAME`].
///
/// # Safety
/// `name` is NULL or NUL-terminated; `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wl_policy_from_name(
    name: *const c_char,
    out: *mut wl_policy,
) -> wl_status {
    guard(|| {
        need(out)?;
        // SAFETY: forwarded from the caller.
        let name = unsafe { c_str(name) }?;
        let p = GatingPolicy::from_name(name).ok_or(WL_ERR_UNKNOWN_NAME)?;
        // SAFETY: forwarded from the caller.
        unsafe { write_out(out, p as u32) }
    })
}

/// The name of a power state (`"active"` …), static; NULL for a value that
/// is not a `WL_STATE_*`.
#[unsafe(no_mangle)]
pub extern "C" fn wl_state_name(state: wl_power_state) -> *const c_char {
    const NAMES: [&core::ffi::CStr; WL_STATES] = [
        c"active",
        c"idle_allocated",
        c"idle_unallocated",
        c"gated",
        c"transitioning",
    ];
    NAMES
        .get(state as usize)
        .map_or(core::ptr::null(), |s| s.as_ptr())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_names_match_the_core() {
        for s in PowerState::ALL {
            let p = wl_state_name(s.index() as u32);
            // SAFETY: static C string.
            let name = unsafe { core::ffi::CStr::from_ptr(p) };
            assert_eq!(name.to_str(), Ok(s.name()));
        }
        for p in GatingPolicy::ALL {
            // SAFETY: static C string.
            let name = unsafe { core::ffi::CStr::from_ptr(wl_policy_name(p as u32)) };
            assert_eq!(name.to_str(), Ok(p.name()));
        }
    }
}
