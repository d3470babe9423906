//! The streaming composer: subgraphs in, a model report out.

use core::cell::Cell;
use core::ffi::{c_char, c_void};
use core::mem::{align_of, size_of};

use wattledger_core::compose::{
    CloseError, ComposeError, Composer, EnergyBreakdown, Flags, GatingPolicy, ModelReport,
    SetupError, Sink, StageRecord, Subgraph, SubgraphRecord,
};
use wattledger_core::state::{STATES, StateTotals};

use crate::handle::{self, Exclusive, Kind, Object};
use crate::hardware::{hardware_status, model, precision, wl_hardware, wl_precision};
use crate::ptr::{InArray, Out, OutSized, Versioned, read_in, text};
use crate::status::*;
use crate::{float_status, guard};

/// The most subgraphs one stage may hold in a composer made by this library.
pub const WL_STAGE_CAPACITY: usize = 64;
/// Number of power states: the length of per-state arrays.
pub const WL_STATES: usize = 5;

/// `sizeof(wl_subgraph)` in ABI 1.0: the least `struct_size` accepted.
pub const WL_SUBGRAPH_SIZE_V1: u32 = 80;
/// `sizeof(wl_report)` in ABI 1.0: the least `struct_size` accepted.
pub const WL_REPORT_SIZE_V1: u32 = 208;

const _: () = assert!(WL_STATES == STATES);

/// What to do with powered, unallocated gating domains (a `WL_POLICY_*` value).
pub type wl_policy = u32;
/// Never gate (the seed's formula).
pub const WL_POLICY_OFF: wl_policy = 0;
/// Power down every unallocated domain at the start of every stage.
pub const WL_POLICY_ALWAYS: wl_policy = 1;
/// Power down only when the stage is long enough to pay for it.
pub const WL_POLICY_BREAK_EVEN: wl_policy = 2;
/// Gate a domain's whole idle period, across stages, when it is long enough
/// to pay for it: the offline optimum, costed as periods end. Added after
/// 1.0: a library from before refuses it with `WL_ERR_OUT_OF_RANGE`.
pub const WL_POLICY_ORACLE: wl_policy = 3;

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

const _: () = {
    use wattledger_core::state::PowerState as S;
    assert!(WL_STATE_ACTIVE as usize == S::Active.index());
    assert!(WL_STATE_IDLE_ALLOCATED as usize == S::IdleAllocated.index());
    assert!(WL_STATE_IDLE_UNALLOCATED as usize == S::IdleUnallocated.index());
    assert!(WL_STATE_GATED as usize == S::Gated.index());
    assert!(WL_STATE_TRANSITIONING as usize == S::Transitioning.index());
};

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

// The bits C sees are the core's bits, passed through unchanged.
const _: () = assert!(WL_FLAG_OVERSUBSCRIBED == Flags::OVERSUBSCRIBED.0);
const _: () = assert!(WL_FLAG_LEGACY_PATH == Flags::LEGACY_PATH.0);
const _: () = assert!(WL_FLAG_LEGACY_NO_THREADS == Flags::LEGACY_NO_THREADS.0);
const _: () = assert!(WL_FLAG_WOKE_DOMAINS == Flags::WOKE_DOMAINS.0);
const _: () = assert!(WL_FLAG_GATED_DOMAINS == Flags::GATED_DOMAINS.0);
// Policies and states are the core's discriminants.
const _: () = assert!(WL_POLICY_OFF == GatingPolicy::Off as u32);
const _: () = assert!(WL_POLICY_ALWAYS == GatingPolicy::Always as u32);
const _: () = assert!(WL_POLICY_BREAK_EVEN == GatingPolicy::BreakEven as u32);
const _: () = assert!(WL_POLICY_ORACLE == GatingPolicy::Oracle as u32);

/// One subgraph: an input struct (versioned: see [`WL_SUBGRAPH_SIZE_V1`]).
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

// SAFETY: repr(C), struct_size first, numbers only.
unsafe impl Versioned for wl_subgraph {
    const SIZE_V1: u32 = WL_SUBGRAPH_SIZE_V1;
    /// As [`wl_subgraph_init`] writes it, for subgraph 0 of stage 0.
    fn defaults() -> Self {
        wl_subgraph {
            struct_size: WL_SUBGRAPH_SIZE_V1,
            id: 0,
            stage: 0,
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
        }
    }
}

const _: () = assert!(size_of::<wl_subgraph>() == WL_SUBGRAPH_SIZE_V1 as usize);

/// The model's totals (output struct, versioned: set `struct_size` to
/// `sizeof(wl_report)` before the call).
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct wl_report {
    /// Set by the caller to `sizeof(wl_report)`; the library writes no more
    /// and sets it to the bytes written.
    pub struct_size: u32,
    /// `N`.
    pub units: u32,
    /// The `WL_POLICY_*` used.
    pub policy: wl_policy,
    /// Stages closed.
    pub stages: u32,
    /// `WL_FLAG_*` bits.
    pub flags: u32,
    /// Most units allocated in one stage.
    pub peak_units_allocated: u32,
    /// Subgraphs accounted.
    pub subgraphs: u64,
    /// Transitions between powered and gated.
    pub transitions: u64,
    /// Σ stage durations, s.
    pub latency_s: f64,
    /// Where the energy went, J.
    pub energy: EnergyBreakdown,
    /// Per power state, indexed by `WL_STATE_*`.
    pub states: [StateTotals; WL_STATES],
    /// Energy of the two idle states, J.
    pub wasted_energy_j: f64,
    /// Time-weighted mean of units allocated.
    pub average_units_allocated: f64,
    /// Active unit-seconds / (N · latency).
    pub utilization: f64,
}

// SAFETY: repr(C), struct_size first, numbers only.
unsafe impl Versioned for wl_report {
    const SIZE_V1: u32 = WL_REPORT_SIZE_V1;
    fn defaults() -> Self {
        wl_report::default()
    }
}

const _: () = assert!(size_of::<wl_report>() == WL_REPORT_SIZE_V1 as usize);

/// The record of a closed stage, handed to a [`wl_record_callback`].
/// `struct_size` is set by the library: fields beyond it are not there.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct wl_stage_record {
    /// `sizeof(wl_stage_record)` of the library that made it.
    pub struct_size: u32,
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
    /// `WL_FLAG_*` bits.
    pub flags: u32,
    /// Units asked for, rounded to whole domains.
    pub units_requested: u64,
    /// `T`, s.
    pub duration_s: f64,
    /// Wake window, s.
    pub wake_s: f64,
    /// Where the stage's energy went, J.
    pub energy: EnergyBreakdown,
    /// Per power state.
    pub states: [StateTotals; WL_STATES],
}

/// What one subgraph is charged, handed to a [`wl_record_callback`].
/// `struct_size` is set by the library: fields beyond it are not there.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct wl_subgraph_record {
    /// `sizeof(wl_subgraph_record)` of the library that made it.
    pub struct_size: u32,
    /// The caller's id.
    pub id: u32,
    /// The stage.
    pub stage: u32,
    /// First domain placed.
    pub first_domain: u32,
    /// Domains placed.
    pub domains: u32,
    /// Whether `legacy_utilization` is set.
    pub has_legacy_utilization: u32,
    /// Position in the whole stream, from 0.
    pub sequence: u64,
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
    /// Without a callback nobody reads the records: the composer skips them.
    fn wants_records(&self) -> bool {
        self.callback.is_some()
    }
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

/// What a composer handle refers to.
pub(crate) struct ComposerObj {
    sink: Cell<CSink>,
    composer: Exclusive<Composer<WL_STAGE_CAPACITY>>,
}

impl Object for ComposerObj {
    const KIND: Kind = Kind::Composer;
    fn busy(&self) -> bool {
        self.composer.is_busy()
    }
}

/// The composer behind `c` (the one way there), marked busy for the call.
fn composer<'a>(
    c: *const wl_composer,
) -> Result<(handle::Entered<'a, Composer<WL_STAGE_CAPACITY>>, CSink), wl_status> {
    let obj = handle::get::<ComposerObj, _>(c)?;
    Ok((obj.composer.enter()?, obj.sink.get()))
}

fn policy(p: wl_policy) -> Result<GatingPolicy, wl_status> {
    GatingPolicy::ALL
        .get(p as usize)
        .copied()
        .ok_or(WL_ERR_OUT_OF_RANGE)
}

fn setup_status(e: SetupError) -> wl_status {
    match e {
        SetupError::Hardware(h) => hardware_status(h),
        SetupError::GatingUnsupported(_) => WL_ERR_GATING_UNSUPPORTED,
    }
}

fn close_status(e: CloseError) -> wl_status {
    compose_status(e.into())
}

fn compose_status(e: ComposeError) -> wl_status {
    use wattledger_core::float::FloatError;
    match e {
        ComposeError::NotANumber { .. } => float_status(FloatError::NotANumber),
        ComposeError::Infinite { .. } => float_status(FloatError::Infinite),
        ComposeError::Negative { .. } => float_status(FloatError::Negative),
        ComposeError::ZeroAllocation { .. } => WL_ERR_ZERO_ALLOCATION,
        ComposeError::UnsupportedPrecision { .. } => WL_ERR_UNSUPPORTED_PRECISION,
        ComposeError::StageOutOfOrder { .. } => WL_ERR_STAGE_OUT_OF_ORDER,
        ComposeError::StageFull { .. } => WL_ERR_STAGE_FULL,
        ComposeError::LegacySharesStage { .. } => WL_ERR_LEGACY_SHARES_STAGE,
        ComposeError::Overflow { .. } => WL_ERR_OVERFLOW,
        // A C callback never refuses a record.
        ComposeError::SinkFull { .. } => WL_ERR_CAPACITY,
        ComposeError::IdlePeriodsFull { .. } => WL_ERR_CAPACITY,
    }
}

pub(crate) fn report(r: &ModelReport) -> wl_report {
    wl_report {
        struct_size: WL_REPORT_SIZE_V1,
        units: r.units,
        policy: r.policy as u32,
        stages: r.stages,
        flags: r.flags.0,
        peak_units_allocated: r.peak_units_allocated,
        subgraphs: r.subgraphs,
        transitions: r.transitions,
        latency_s: r.latency_s,
        energy: r.energy,
        states: r.states.states,
        wasted_energy_j: r.wasted_energy_j,
        average_units_allocated: r.average_units_allocated,
        utilization: r.utilization,
    }
}

fn stage_record(r: &StageRecord) -> wl_stage_record {
    wl_stage_record {
        struct_size: size_of::<wl_stage_record>() as u32,
        stage: r.stage,
        subgraphs: r.subgraphs,
        units_allocated: r.units_allocated,
        domains_woken: r.domains_woken,
        domains_powered_down: r.domains_powered_down,
        domains_gated: r.domains_gated,
        flags: r.flags.0,
        units_requested: r.units_requested,
        duration_s: r.duration_s,
        wake_s: r.wake_s,
        energy: r.energy,
        states: r.states.states,
    }
}

fn subgraph_record(r: &SubgraphRecord) -> wl_subgraph_record {
    wl_subgraph_record {
        struct_size: size_of::<wl_subgraph_record>() as u32,
        id: r.id,
        stage: r.stage,
        first_domain: r.first_domain,
        domains: r.domains,
        has_legacy_utilization: u32::from(r.legacy_utilization.is_some()),
        sequence: r.sequence,
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

/// A new composer object for the inputs of `*_init` and `*_new`.
///
/// # Safety
/// `hw` is NULL or readable.
unsafe fn make(hw: *const wl_hardware, p: wl_policy) -> Result<ComposerObj, wl_status> {
    // SAFETY: the caller's promise.
    let m = unsafe { model(hw)? };
    let composer = Composer::new(m.clone(), policy(p)?).map_err(setup_status)?;
    Ok(ComposerObj {
        sink: Cell::new(CSink {
            callback: None,
            user: core::ptr::null_mut(),
        }),
        composer: Exclusive::new(composer),
    })
}

/// Makes a composer for `hw` under `policy` in the caller's `memory`.
///
/// Ownership: `memory` stays the caller's; it must hold [`wl_composer_size`]
/// bytes aligned to [`wl_composer_align`] and stay valid until
/// [`wl_composer_release`]. `hw` is copied. The handle written to `out` is
/// a number, not an address inside `memory`.
///
/// # Errors
/// In this order: [`WL_ERR_NULL_POINTER`] or [`WL_ERR_BAD_HANDLE`] (`hw`),
/// [`WL_ERR_OUT_OF_RANGE`] (`policy`), [`WL_ERR_TOO_MANY_UNITS`],
/// [`WL_ERR_GATING_UNSUPPORTED`]; then for `memory`
/// [`WL_ERR_NULL_POINTER`], [`WL_ERR_STORAGE_TOO_SMALL`],
/// [`WL_ERR_STORAGE_MISALIGNED`]; [`WL_ERR_NULL_POINTER`] (`out`);
/// [`WL_ERR_TOO_MANY_OBJECTS`]. `memory` is untouched on error.
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
        // SAFETY: this function's contract.
        let obj = unsafe { make(hw, policy)? };
        let storage = handle::storage_for::<ComposerObj>(memory, len)?;
        // SAFETY: this function's contract; `storage` is the caller's
        // memory, checked, and the library's until the release.
        unsafe { Out::new(out)?.write(handle::place(storage, obj)?) }
    })
}

/// Makes a composer on the heap (needs `std`). Free it with [`wl_composer_free`].
///
/// # Errors
/// As [`wl_composer_init`] without the storage errors;
/// [`WL_ERR_NOT_SUPPORTED`] without `std`, after the checks.
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
        // SAFETY: this function's contract.
        let (obj, out) = unsafe { (make(hw, policy)?, Out::new(out)?) };
        out.write(handle::place_on_heap(obj)?)
    })
}

/// Frees a composer made by [`wl_composer_new`]. The handle is dead after.
///
/// # Errors
/// [`WL_ERR_NULL_POINTER`], [`WL_ERR_BAD_HANDLE`] (already freed, or not a
/// composer), [`WL_ERR_WRONG_STORAGE`] (made by [`wl_composer_init`]: use
/// [`wl_composer_release`]), [`WL_ERR_BUSY`].
///
/// # Safety
/// No other call may be using `c`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wl_composer_free(c: *mut wl_composer) -> wl_status {
    guard(|| handle::free::<ComposerObj, _>(c))
}

/// Ends a composer made by [`wl_composer_init`]; its storage is the
/// caller's again. The handle is dead after.
///
/// # Errors
/// [`WL_ERR_NULL_POINTER`], [`WL_ERR_BAD_HANDLE`], [`WL_ERR_WRONG_STORAGE`]
/// (a heap composer: use [`wl_composer_free`]), [`WL_ERR_BUSY`].
///
/// # Safety
/// No other call may be using `c`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wl_composer_release(c: *mut wl_composer) -> wl_status {
    guard(|| handle::release::<ComposerObj, _>(c))
}

/// Sets the function that receives stage and subgraph records as stages
/// close (NULL: discard them). `user_data` is passed back untouched and
/// stays the caller's.
///
/// # Errors
/// [`WL_ERR_NULL_POINTER`], [`WL_ERR_BAD_HANDLE`], [`WL_ERR_BUSY`].
///
/// # Safety
/// `callback`, if set, must be safe to call with `user_data` whenever the
/// composer closes a stage.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wl_composer_set_callback(
    c: *mut wl_composer,
    callback: wl_record_callback,
    user_data: *mut c_void,
) -> wl_status {
    guard(|| {
        let obj = handle::get::<ComposerObj, _>(c)?;
        let _inside = obj.composer.enter()?;
        obj.sink.set(CSink {
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
        // SAFETY: this function's contract.
        let out = unsafe { Out::new(out)? };
        out.write(wl_subgraph {
            id,
            stage,
            ..wl_subgraph::defaults()
        })
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
/// [`WL_ERR_STAGE_FULL`], [`WL_ERR_LEGACY_SHARES_STAGE`], [`WL_ERR_OVERFLOW`]
/// (then [`wl_composer_discard_pending`] drops the stage that overflowed).
///
/// # Safety
/// `sg` is NULL or has `sg->struct_size` readable bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wl_composer_push(
    c: *mut wl_composer,
    sg: *const wl_subgraph,
) -> wl_status {
    guard(|| {
        let (mut comp, mut sink) = composer(c)?;
        // SAFETY: this function's contract.
        let s = subgraph(&unsafe { read_in(sg)? })?;
        comp.push(&s, &mut sink).map_err(compose_status)
    })
}

/// Adds `count` subgraphs, in order, as `count` calls of
/// [`wl_composer_push`] would, for the price of one handle check: the way
/// to feed a whole model held in memory. `*pushed` receives how many were
/// added, on success (`count`) and on error (the index of the one refused).
///
/// # Errors
/// Before anything is added: [`WL_ERR_NULL_POINTER`] (`c`, `pushed`, or
/// `sgs` with `count > 0`), [`WL_ERR_BAD_HANDLE`], [`WL_ERR_BUSY`],
/// [`WL_ERR_STRUCT_SIZE`] (`sgs->struct_size`). Then the first subgraph
/// refused stops the call with the status [`wl_composer_push`] gives it
/// ([`WL_ERR_STRUCT_SIZE`] too when its `struct_size` is not the first
/// one's); the subgraphs before it stay added, their closed stages
/// reported, exactly as if pushed one at a time.
///
/// # Safety
/// `sgs` is NULL (only with `count == 0`) or points to `count` elements of
/// stride `sgs->struct_size`; `pushed` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wl_composer_push_all(
    c: *mut wl_composer,
    sgs: *const wl_subgraph,
    count: usize,
    pushed: *mut usize,
) -> wl_status {
    guard(|| {
        let (mut comp, mut sink) = composer(c)?;
        // SAFETY: this function's contract.
        let (all, pushed) = unsafe { (InArray::new(sgs, count)?, Out::new(pushed)?) };
        let mut done = 0usize;
        let status = (0..all.len()).try_for_each(|i| {
            let Some(raw) = all.get(i)? else {
                return Ok(());
            };
            comp.push(&subgraph(&raw)?, &mut sink)
                .map_err(compose_status)?;
            done += 1;
            Ok(())
        });
        pushed.write(done)?;
        status
    })
}

/// Closes the open stage and writes the model's totals to `out`. The
/// composer can take subgraphs of later stages afterwards.
///
/// # Errors
/// [`WL_ERR_NULL_POINTER`], [`WL_ERR_BAD_HANDLE`], [`WL_ERR_BUSY`],
/// [`WL_ERR_STRUCT_SIZE`] (`out->struct_size`), [`WL_ERR_OVERFLOW`]; nothing
/// changes then. After an overflow, [`wl_composer_discard_pending`] drops
/// the stage and the composer goes on.
///
/// # Safety
/// `out` is NULL or has `out->struct_size` writable bytes, `struct_size` set.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wl_composer_finish(c: *mut wl_composer, out: *mut wl_report) -> wl_status {
    guard(|| {
        let (mut comp, mut sink) = composer(c)?;
        // SAFETY: this function's contract.
        let out = unsafe { OutSized::new(out)? };
        let r = comp.finish(&mut sink).map_err(close_status)?;
        out.write(report(&r))
    })
}

/// Writes the totals of the stages closed so far (not the open one) to `out`.
///
/// # Errors
/// [`WL_ERR_NULL_POINTER`], [`WL_ERR_BAD_HANDLE`], [`WL_ERR_BUSY`],
/// [`WL_ERR_STRUCT_SIZE`].
///
/// # Safety
/// As [`wl_composer_finish`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wl_composer_report(c: *mut wl_composer, out: *mut wl_report) -> wl_status {
    guard(|| {
        let (comp, _) = composer(c)?;
        // SAFETY: this function's contract.
        let out = unsafe { OutSized::new(out)? };
        out.write(report(&comp.report()))
    })
}

/// Number of subgraphs waiting in the open stage.
///
/// # Errors
/// [`WL_ERR_NULL_POINTER`], [`WL_ERR_BAD_HANDLE`], [`WL_ERR_BUSY`].
///
/// # Safety
/// `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wl_composer_pending(c: *mut wl_composer, out: *mut usize) -> wl_status {
    guard(|| {
        let (comp, _) = composer(c)?;
        // SAFETY: this function's contract.
        let out = unsafe { Out::new(out)? };
        out.write(comp.pending())
    })
}

/// Drops the subgraphs of the open stage without closing it, and writes how
/// many there were to `out_count` (which may be NULL). The closed stages
/// and their totals stay, and the dropped stage's number may be used again.
///
/// This is the way on after a stage is refused at close with
/// [`WL_ERR_OVERFLOW`]: without it every later push and finish would fail
/// on the same stage.
///
/// # Errors
/// [`WL_ERR_NULL_POINTER`] (`c`), [`WL_ERR_BAD_HANDLE`], [`WL_ERR_BUSY`].
///
/// # Safety
/// `out_count` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wl_composer_discard_pending(
    c: *mut wl_composer,
    out_count: *mut usize,
) -> wl_status {
    guard(|| {
        let (mut comp, _) = composer(c)?;
        // SAFETY: this function's contract.
        let out = unsafe {
            (!out_count.is_null())
                .then(|| Out::new(out_count))
                .transpose()?
        };
        let n = comp.discard_pending();
        out.map_or(Ok(()), |o| o.write(n))
    })
}

/// Forgets every stage and powers every domain again; keeps the hardware,
/// policy and callback.
///
/// # Errors
/// [`WL_ERR_NULL_POINTER`], [`WL_ERR_BAD_HANDLE`], [`WL_ERR_BUSY`].
///
/// # Safety
/// No other thread ends `c` during the call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wl_composer_reset(c: *mut wl_composer) -> wl_status {
    guard(|| {
        let (mut comp, _) = composer(c)?;
        comp.reset();
        Ok(())
    })
}

/// The name of a gating policy (`"off"`, `"always"`, `"break-even"`),
/// static; NULL for a value that is not a `WL_POLICY_*`.
#[unsafe(no_mangle)]
pub extern "C" fn wl_policy_name(policy_id: wl_policy) -> *const c_char {
    const NAMES: [&core::ffi::CStr; 4] = [c"off", c"always", c"break-even", c"oracle"];
    const _: () = assert!(NAMES.len() == GatingPolicy::ALL.len());
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
        // SAFETY: this function's contract.
        let (name, out) = unsafe { (text(name)?, Out::new(out)?) };
        let p = GatingPolicy::from_name(name).ok_or(WL_ERR_UNKNOWN_NAME)?;
        out.write(p as u32)
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
    use wattledger_core::state::PowerState;

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
