//! The meter: energy-counter and power samples in, window reports out.

use core::ffi::{c_char, c_void};
use core::mem::{align_of, size_of};

use wattledger_core::meter::{
    Meter, MeterConfig, MeterError, Method, MigContext, PROFILE_CAPACITY, Sample, UUID_CAPACITY,
    WINDOW_NAME_CAPACITY, WindowKey, WindowRef, WindowReport,
};

use crate::handle::{
    Storage, TAG_METER, Tagged, check, free_heap, place, release_in_place, storage_for,
};
use crate::status::*;
use crate::{c_str, c_str_opt, guard, need, put_str, read_sized, write_out};

/// Windows a meter made by this library can hold open at once.
pub const WL_WINDOW_CAPACITY: usize = 32;
/// Longest window name, in bytes (without the NUL).
pub const WL_WINDOW_NAME_CAPACITY: usize = 32;
/// Longest device or parent UUID, in bytes (without the NUL).
pub const WL_UUID_CAPACITY: usize = 64;
/// Longest MIG profile name, in bytes (without the NUL).
pub const WL_PROFILE_CAPACITY: usize = 32;

/// Size of a window-name buffer (capacity + NUL).
pub const WL_WINDOW_NAME_BUFFER: usize = 33;
/// Size of a UUID buffer (capacity + NUL).
pub const WL_UUID_BUFFER: usize = 65;
/// Size of a profile buffer (capacity + NUL).
pub const WL_PROFILE_BUFFER: usize = 33;

const _: () = assert!(WL_WINDOW_NAME_BUFFER == WL_WINDOW_NAME_CAPACITY + 1);
const _: () = assert!(WL_UUID_BUFFER == WL_UUID_CAPACITY + 1);
const _: () = assert!(WL_PROFILE_BUFFER == WL_PROFILE_CAPACITY + 1);
const _: () = assert!(WL_WINDOW_NAME_CAPACITY == WINDOW_NAME_CAPACITY);
const _: () = assert!(WL_UUID_CAPACITY == UUID_CAPACITY);
const _: () = assert!(WL_PROFILE_CAPACITY == PROFILE_CAPACITY);

/// Where a window's energy came from (a `WL_METHOD_*` value).
pub type wl_method = u32;
/// Only energy-counter deltas.
pub const WL_METHOD_COUNTER: wl_method = 0;
/// Only power integration.
pub const WL_METHOD_POWER: wl_method = 1;
/// Both.
pub const WL_METHOD_MIXED: wl_method = 2;
/// Nothing covered.
pub const WL_METHOD_UNMEASURED: wl_method = 3;

/// Window flag: the energy counter was reset inside the window.
pub const WL_WINDOW_COUNTER_RESET: u32 = 1;
/// Window flag: part of the window had no usable data.
pub const WL_WINDOW_GAP: u32 = 2;
/// Window flag: shorter than the source's update period.
pub const WL_WINDOW_SHORTER_THAN_UPDATE_PERIOD: u32 = 4;
/// Window flag: the device was lost.
pub const WL_WINDOW_DEVICE_LOST: u32 = 8;
/// Window flag: the energy is below the idle baseline.
pub const WL_WINDOW_BELOW_BASELINE: u32 = 16;
/// Window flag: the energy is a MIG parent GPU's whole energy.
pub const WL_WINDOW_MIG_PARENT_ENERGY: u32 = 32;
/// Window flag: the window began before the first sample.
pub const WL_WINDOW_LATE_START: u32 = 64;

/// How a meter judges its samples, and whose power it measures (input struct).
///
/// Booleans are `uint32_t`. Text pointers may be NULL (empty) and are
/// copied.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct wl_meter_config {
    /// `sizeof(wl_meter_config)`.
    pub struct_size: u32,
    /// Whether `idle_baseline_mw` is given.
    pub has_idle_baseline: u32,
    /// Longest power interval still integrated, ns.
    pub max_gap_ns: u64,
    /// The source's refresh period, ns (0: no short-window flag).
    pub update_period_ns: u64,
    /// Idle power, mW.
    pub idle_baseline_mw: u32,
    /// Whether `total_units` is given.
    pub has_total_units: u32,
    /// Gateable units of the device.
    pub total_units: u32,
    /// Whether the device is a MIG instance.
    pub is_mig: u32,
    /// UUID of the measured device (NULL: none).
    pub device_uuid: *const c_char,
    /// UUID of the parent GPU (MIG only; NULL: none).
    pub parent_uuid: *const c_char,
    /// MIG profile (MIG only; NULL: none).
    pub profile: *const c_char,
}

/// One reading (input struct). Booleans are `uint32_t`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct wl_sample {
    /// `sizeof(wl_sample)`.
    pub struct_size: u32,
    /// Whether `energy_mj` is given.
    pub has_energy: u32,
    /// Monotonic time, ns.
    pub t_ns: u64,
    /// Cumulative energy counter, mJ.
    pub energy_mj: u64,
    /// Whether `power_mw` is given.
    pub has_power: u32,
    /// Power, mW.
    pub power_mw: u32,
    /// Whether `gated_units` is given.
    pub has_gated_units: u32,
    /// Units power-gated.
    pub gated_units: u32,
}

/// A closed window (output struct).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct wl_window_report {
    /// 1 when the window has a name (`name`), 0 when a number (`number`).
    pub is_named: u32,
    /// The window's number.
    pub number: u32,
    /// The window's name, NUL-terminated.
    pub name: [c_char; WL_WINDOW_NAME_BUFFER],
    /// Start, ns.
    pub start_ns: u64,
    /// End, ns.
    pub end_ns: u64,
    /// `end_ns − start_ns`.
    pub duration_ns: u64,
    /// Time covered by data, ns.
    pub covered_ns: u64,
    /// Energy, J.
    pub energy_j: f64,
    /// `covered_ns / duration_ns`.
    pub coverage: f64,
    /// A `WL_METHOD_*` value.
    pub method: wl_method,
    /// `WL_WINDOW_*` bits.
    pub flags: u32,
    /// Counter resets seen.
    pub counter_resets: u32,
    /// Uncovered intervals.
    pub gaps: u32,
    /// Whether `power_estimate_j` is set.
    pub has_power_estimate: u32,
    /// Whether `idle_j`/`dynamic_j` are set.
    pub has_split: u32,
    /// Power × duration estimate, J.
    pub power_estimate_j: f64,
    /// Idle baseline × covered time, J.
    pub idle_j: f64,
    /// Energy above the baseline, J.
    pub dynamic_j: f64,
    /// Whether the unit-seconds are set.
    pub has_units: u32,
    /// Whether the device is a MIG instance (energy is the parent's).
    pub is_mig: u32,
    /// Gated unit-seconds.
    pub gated_unit_s: f64,
    /// Powered unit-seconds.
    pub powered_unit_s: f64,
    /// Time the gating state was known, s.
    pub known_s: f64,
    /// UUID of the measured device.
    pub device_uuid: [c_char; WL_UUID_BUFFER],
    /// UUID of the parent GPU.
    pub parent_uuid: [c_char; WL_UUID_BUFFER],
    /// MIG profile.
    pub profile: [c_char; WL_PROFILE_BUFFER],
}

/// A meter (opaque). Made by [`wl_meter_init`] or [`wl_meter_new`].
#[derive(Debug)]
pub struct wl_meter {
    _private: [u8; 0],
}

#[repr(C)]
struct MeterObj {
    tag: u64,
    heap: bool,
    meter: Meter<WL_WINDOW_CAPACITY>,
}

// SAFETY: `#[repr(C)]` with the u64 tag first.
unsafe impl Tagged for MeterObj {
    const TAG: u64 = TAG_METER;

    unsafe fn storage(p: *const Self) -> Storage {
        // SAFETY: the caller says a MeterObj lives at `p`. Meters never
        // call out, so no call is ever running inside one.
        let heap = unsafe { (*p).heap };
        Storage { heap, busy: false }
    }
}

pub(crate) fn meter_status(e: MeterError) -> wl_status {
    match e {
        MeterError::TimeWentBack { .. } => WL_ERR_TIME_WENT_BACK,
        MeterError::GatedExceedsTotal { .. } => WL_ERR_GATED_EXCEEDS_TOTAL,
        MeterError::AlreadyOpen => WL_ERR_WINDOW_ALREADY_OPEN,
        MeterError::NotOpen => WL_ERR_WINDOW_NOT_OPEN,
        MeterError::TooManyWindows { .. } => WL_ERR_TOO_MANY_WINDOWS,
        MeterError::NameTooLong { .. } | MeterError::MigTextTooLong { .. } => WL_ERR_NAME_TOO_LONG,
    }
}

pub(crate) fn window_report(r: &WindowReport) -> Result<wl_window_report, wl_status> {
    let mut out = wl_window_report {
        is_named: 0,
        number: 0,
        name: [0; WL_WINDOW_NAME_BUFFER],
        start_ns: r.start_ns,
        end_ns: r.end_ns,
        duration_ns: r.duration_ns,
        covered_ns: r.covered_ns,
        energy_j: r.energy_j,
        coverage: r.coverage,
        method: match r.method {
            Method::Counter => WL_METHOD_COUNTER,
            Method::Power => WL_METHOD_POWER,
            Method::Mixed => WL_METHOD_MIXED,
            Method::Unmeasured => WL_METHOD_UNMEASURED,
        },
        flags: r.flags.bits(),
        counter_resets: r.counter_resets,
        gaps: r.gaps,
        has_power_estimate: u32::from(r.power_estimate_j.is_some()),
        has_split: u32::from(r.split.is_some()),
        power_estimate_j: r.power_estimate_j.unwrap_or(0.0),
        idle_j: r.split.map_or(0.0, |s| s.idle_j),
        dynamic_j: r.split.map_or(0.0, |s| s.dynamic_j),
        has_units: u32::from(r.units.is_some()),
        is_mig: u32::from(r.mig.is_mig),
        gated_unit_s: r.units.map_or(0.0, |u| u.gated_unit_s),
        powered_unit_s: r.units.map_or(0.0, |u| u.powered_unit_s),
        known_s: r.units.map_or(0.0, |u| u.known_s),
        device_uuid: [0; WL_UUID_BUFFER],
        parent_uuid: [0; WL_UUID_BUFFER],
        profile: [0; WL_PROFILE_BUFFER],
    };
    match &r.key {
        WindowKey::Name(n) => {
            out.is_named = 1;
            put_str(&mut out.name, n.as_str())?;
        }
        WindowKey::Number(n) => out.number = *n,
    }
    put_str(&mut out.device_uuid, r.mig.device_uuid.as_str())?;
    put_str(&mut out.parent_uuid, r.mig.parent_uuid.as_str())?;
    put_str(&mut out.profile, r.mig.profile.as_str())?;
    Ok(out)
}

/// # Safety
/// Text pointers in `c` are NULL or NUL-terminated.
unsafe fn parse_config(c: &wl_meter_config) -> Result<(MeterConfig, MigContext), wl_status> {
    // SAFETY: forwarded from the caller.
    let device = unsafe { c_str_opt(c.device_uuid) }?.unwrap_or("");
    // SAFETY: forwarded from the caller.
    let parent = unsafe { c_str_opt(c.parent_uuid) }?.unwrap_or("");
    // SAFETY: forwarded from the caller.
    let profile = unsafe { c_str_opt(c.profile) }?.unwrap_or("");
    let mig = if c.is_mig != 0 {
        MigContext::instance(device, parent, profile)
    } else {
        MigContext::whole_gpu(device)
    }
    .map_err(meter_status)?;
    Ok((
        MeterConfig {
            max_gap_ns: c.max_gap_ns,
            update_period_ns: c.update_period_ns,
            idle_baseline_mw: (c.has_idle_baseline != 0).then_some(c.idle_baseline_mw),
            total_units: (c.has_total_units != 0).then_some(c.total_units),
        },
        mig,
    ))
}

/// Fills `out` with the default configuration: 1 s maximum gap, 100 ms
/// update period, no baseline, no unit count, a whole GPU with no UUID.
///
/// # Errors
/// [`WL_ERR_NULL_POINTER`].
///
/// # Safety
/// `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wl_meter_config_init(out: *mut wl_meter_config) -> wl_status {
    guard(|| {
        let d = MeterConfig::default();
        let c = wl_meter_config {
            struct_size: size_of::<wl_meter_config>() as u32,
            has_idle_baseline: 0,
            max_gap_ns: d.max_gap_ns,
            update_period_ns: d.update_period_ns,
            idle_baseline_mw: 0,
            has_total_units: 0,
            total_units: 0,
            is_mig: 0,
            device_uuid: core::ptr::null(),
            parent_uuid: core::ptr::null(),
            profile: core::ptr::null(),
        };
        // SAFETY: forwarded from the caller.
        unsafe { write_out(out, c) }
    })
}

/// Bytes of storage a meter needs. Never fails.
#[unsafe(no_mangle)]
pub extern "C" fn wl_meter_size() -> usize {
    size_of::<MeterObj>()
}

/// Alignment a meter's storage needs. Never fails.
#[unsafe(no_mangle)]
pub extern "C" fn wl_meter_align() -> usize {
    align_of::<MeterObj>()
}

/// Makes a meter in the caller's `memory` ([`wl_meter_size`] bytes aligned
/// to [`wl_meter_align`], valid until [`wl_meter_release`]).
///
/// # Errors
/// [`WL_ERR_NULL_POINTER`], [`WL_ERR_STORAGE_TOO_SMALL`],
/// [`WL_ERR_STORAGE_MISALIGNED`], [`WL_ERR_STRUCT_SIZE`],
/// [`WL_ERR_BAD_UTF8`], [`WL_ERR_NAME_TOO_LONG`] (a UUID or profile).
///
/// # Safety
/// `memory` is NULL or has `len` writable bytes; `config` is NULL or has
/// `config->struct_size` readable bytes and valid text pointers; `out` is
/// NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wl_meter_init(
    memory: *mut c_void,
    len: usize,
    config: *const wl_meter_config,
    out: *mut *mut wl_meter,
) -> wl_status {
    guard(|| {
        need(out)?;
        let p = storage_for::<MeterObj>(memory, len)?;
        // SAFETY: forwarded from the caller.
        let c = unsafe { read_sized(config) }?;
        // SAFETY: forwarded from the caller.
        let (cfg, mig) = unsafe { parse_config(&c) }?;
        let obj = MeterObj {
            tag: TAG_METER,
            heap: false,
            meter: Meter::new(cfg, mig),
        };
        // SAFETY: `p` is from `storage_for`; `out` is forwarded from the
        // caller.
        unsafe { place(p, obj, out) }
    })
}

/// Makes a meter on the heap (needs `std`); free it with [`wl_meter_free`].
///
/// # Errors
/// As [`wl_meter_init`] without the storage errors; [`WL_ERR_NOT_SUPPORTED`]
/// without `std`.
///
/// # Safety
/// As [`wl_meter_init`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wl_meter_new(
    config: *const wl_meter_config,
    out: *mut *mut wl_meter,
) -> wl_status {
    guard(|| {
        need(out)?;
        // SAFETY: forwarded from the caller.
        let c = unsafe { read_sized(config) }?;
        // SAFETY: forwarded from the caller.
        let (cfg, mig) = unsafe { parse_config(&c) }?;
        #[cfg(feature = "std")]
        {
            let obj = MeterObj {
                tag: TAG_METER,
                heap: true,
                meter: Meter::new(cfg, mig),
            };
            // SAFETY: forwarded from the caller.
            unsafe { crate::handle::place_on_heap(obj, out) }
        }
        #[cfg(not(feature = "std"))]
        {
            let _ = (cfg, mig);
            Err(WL_ERR_NOT_SUPPORTED)
        }
    })
}

/// # Safety
/// `m` is NULL, a handle from this library, or 8 readable bytes.
unsafe fn obj<'a>(m: *mut wl_meter) -> Result<&'a mut MeterObj, wl_status> {
    // SAFETY: forwarded from the caller.
    unsafe { check(m.cast_const(), TAG_METER) }?;
    // SAFETY: the tag says a MeterObj lives here; meters never call out,
    // so no other reference to it exists during the call.
    Ok(unsafe { &mut *m.cast::<MeterObj>() })
}

/// The meter behind handle `m`, for entry points of other modules
/// (`wl_meter_ingest_ina3221`).
///
/// # Safety
/// As [`obj`].
pub(crate) unsafe fn meter_obj<'a>(
    m: *mut wl_meter,
) -> Result<&'a mut Meter<WL_WINDOW_CAPACITY>, wl_status> {
    // SAFETY: forwarded from the caller.
    unsafe { obj(m) }.map(|o| &mut o.meter)
}

/// Frees a meter made by [`wl_meter_new`].
///
/// # Errors
/// [`WL_ERR_NULL_POINTER`], [`WL_ERR_BAD_HANDLE`] (freed already or not a
/// meter), [`WL_ERR_WRONG_STORAGE`] (use [`wl_meter_release`]),
/// [`WL_ERR_NOT_SUPPORTED`] without `std`.
///
/// # Safety
/// `m` is NULL or a handle from this library (live or freed).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wl_meter_free(m: *mut wl_meter) -> wl_status {
    // SAFETY: forwarded from the caller.
    guard(|| unsafe { free_heap(m.cast::<MeterObj>()) })
}

/// Ends a meter made by [`wl_meter_init`]; the storage is the caller's again.
///
/// # Errors
/// [`WL_ERR_NULL_POINTER`], [`WL_ERR_BAD_HANDLE`], [`WL_ERR_WRONG_STORAGE`].
///
/// # Safety
/// `m` is NULL, a handle from this library, or 8 readable bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wl_meter_release(m: *mut wl_meter) -> wl_status {
    // SAFETY: forwarded from the caller.
    guard(|| unsafe { release_in_place(m.cast::<MeterObj>()) })
}

/// Feeds one sample.
///
/// # Errors
/// The meter is unchanged on error: [`WL_ERR_NULL_POINTER`],
/// [`WL_ERR_BAD_HANDLE`], [`WL_ERR_STRUCT_SIZE`], [`WL_ERR_TIME_WENT_BACK`],
/// [`WL_ERR_GATED_EXCEEDS_TOTAL`].
///
/// # Safety
/// `m` as for [`wl_meter_release`]; `sample` is NULL or has
/// `sample->struct_size` readable bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wl_meter_ingest(m: *mut wl_meter, sample: *const wl_sample) -> wl_status {
    guard(|| {
        need(m)?;
        // SAFETY: forwarded from the caller.
        let s = unsafe { read_sized(sample) }?;
        // SAFETY: forwarded from the caller.
        let o = unsafe { obj(m) }?;
        o.meter
            .ingest(Sample {
                t_ns: s.t_ns,
                energy_mj: (s.has_energy != 0).then_some(s.energy_mj),
                power_mw: (s.has_power != 0).then_some(s.power_mw),
                gated_units: (s.has_gated_units != 0).then_some(s.gated_units),
            })
            .map_err(meter_status)
    })
}

/// Marks the device lost: open windows will carry `WL_WINDOW_DEVICE_LOST`.
///
/// # Errors
/// [`WL_ERR_NULL_POINTER`], [`WL_ERR_BAD_HANDLE`].
///
/// # Safety
/// `m` as for [`wl_meter_release`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wl_meter_mark_device_lost(m: *mut wl_meter) -> wl_status {
    guard(|| {
        // SAFETY: forwarded from the caller.
        let o = unsafe { obj(m) }?;
        o.meter.mark_device_lost();
        Ok(())
    })
}

/// # Safety
/// `name` is NULL or NUL-terminated.
unsafe fn key<'a>(name: *const c_char) -> Result<WindowRef<'a>, wl_status> {
    // SAFETY: forwarded from the caller.
    let n = unsafe { c_str(name) }?;
    Ok(WindowRef::Name(n))
}

fn begin(o: &mut MeterObj, k: WindowRef<'_>) -> Result<(), wl_status> {
    o.meter.begin(k).map_err(meter_status)
}

/// # Safety
/// `out` is NULL or writable.
unsafe fn end(
    o: &mut MeterObj,
    k: WindowRef<'_>,
    peek: bool,
    out: *mut wl_window_report,
) -> Result<(), wl_status> {
    need(out)?;
    // Convert a peek first so that a conversion failure cannot lose a window.
    let r = o.meter.peek(k).map_err(meter_status)?;
    let mut c = window_report(&r)?;
    if !peek {
        let r = o.meter.end(k).map_err(meter_status)?;
        // The same texts converted a moment ago, so this cannot fail.
        c = window_report(&r)?;
    }
    // SAFETY: forwarded from the caller.
    unsafe { write_out(out, c) }
}

/// Begins the window `name` at the latest sample.
///
/// # Errors
/// [`WL_ERR_NULL_POINTER`], [`WL_ERR_BAD_HANDLE`], [`WL_ERR_BAD_UTF8`],
/// [`WL_ERR_NAME_TOO_LONG`], [`WL_ERR_WINDOW_ALREADY_OPEN`],
/// [`WL_ERR_TOO_MANY_WINDOWS`].
///
/// # Safety
/// `m` as for [`wl_meter_release`]; `name` is NULL or NUL-terminated.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wl_meter_begin(m: *mut wl_meter, name: *const c_char) -> wl_status {
    guard(|| {
        // SAFETY: forwarded from the caller.
        let k = unsafe { key(name) }?;
        // SAFETY: forwarded from the caller.
        begin(unsafe { obj(m) }?, k)
    })
}

/// Begins the numbered window `number` (a different window from any name).
///
/// # Errors
/// [`WL_ERR_NULL_POINTER`], [`WL_ERR_BAD_HANDLE`],
/// [`WL_ERR_WINDOW_ALREADY_OPEN`], [`WL_ERR_TOO_MANY_WINDOWS`].
///
/// # Safety
/// `m` as for [`wl_meter_release`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wl_meter_begin_id(m: *mut wl_meter, number: u32) -> wl_status {
    // SAFETY: forwarded from the caller.
    guard(|| begin(unsafe { obj(m) }?, WindowRef::Number(number)))
}

/// Ends the window `name` at the latest sample and writes its report.
///
/// # Errors
/// [`WL_ERR_NULL_POINTER`], [`WL_ERR_BAD_HANDLE`], [`WL_ERR_BAD_UTF8`],
/// [`WL_ERR_WINDOW_NOT_OPEN`]; the window stays open on error.
///
/// # Safety
/// `m` as for [`wl_meter_release`]; `name` NUL-terminated; `out` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wl_meter_end(
    m: *mut wl_meter,
    name: *const c_char,
    out: *mut wl_window_report,
) -> wl_status {
    guard(|| {
        // SAFETY: forwarded from the caller.
        let k = unsafe { key(name) }?;
        // SAFETY: forwarded from the caller.
        unsafe { end(obj(m)?, k, false, out) }
    })
}

/// Ends the numbered window `number`; as [`wl_meter_end`].
///
/// # Errors
/// [`WL_ERR_NULL_POINTER`], [`WL_ERR_BAD_HANDLE`], [`WL_ERR_WINDOW_NOT_OPEN`].
///
/// # Safety
/// `m` as for [`wl_meter_release`]; `out` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wl_meter_end_id(
    m: *mut wl_meter,
    number: u32,
    out: *mut wl_window_report,
) -> wl_status {
    // SAFETY: forwarded from the caller.
    guard(|| unsafe { end(obj(m)?, WindowRef::Number(number), false, out) })
}

/// Reports on the open window `name` so far, leaving it open.
///
/// # Errors
/// As [`wl_meter_end`].
///
/// # Safety
/// As [`wl_meter_end`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wl_meter_peek(
    m: *mut wl_meter,
    name: *const c_char,
    out: *mut wl_window_report,
) -> wl_status {
    guard(|| {
        // SAFETY: forwarded from the caller.
        let k = unsafe { key(name) }?;
        // SAFETY: forwarded from the caller.
        unsafe { end(obj(m)?, k, true, out) }
    })
}
