//! The meter: energy-counter and power samples in, window reports out.

use core::ffi::{c_char, c_void};
use core::mem::{align_of, size_of};

use wattledger_core::meter::{
    Meter, MeterConfig, MeterError, Method, MigContext, PROFILE_CAPACITY, Sample, UUID_CAPACITY,
    WINDOW_NAME_CAPACITY, WindowFlags, WindowKey, WindowRef, WindowReport,
};

use crate::guard;
use crate::handle::{self, Entered, Exclusive, Kind, Object};
use crate::ptr::{Out, OutSized, Versioned, opt_text, put_str, read_in, text};
use crate::status::*;

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

// The bits C sees are the core's bits, passed through unchanged.
const _: () = assert!(WL_WINDOW_COUNTER_RESET == WindowFlags::COUNTER_RESET.bits());
const _: () = assert!(WL_WINDOW_GAP == WindowFlags::GAP.bits());
const _: () =
    assert!(WL_WINDOW_SHORTER_THAN_UPDATE_PERIOD == WindowFlags::SHORTER_THAN_UPDATE_PERIOD.bits());
const _: () = assert!(WL_WINDOW_DEVICE_LOST == WindowFlags::DEVICE_LOST.bits());
const _: () = assert!(WL_WINDOW_BELOW_BASELINE == WindowFlags::BELOW_BASELINE.bits());
const _: () = assert!(WL_WINDOW_MIG_PARENT_ENERGY == WindowFlags::MIG_PARENT_ENERGY.bits());
const _: () = assert!(WL_WINDOW_LATE_START == WindowFlags::LATE_START.bits());

/// `sizeof(wl_meter_config)` in ABI 1.0 (64-bit targets): the least `struct_size` accepted.
pub const WL_METER_CONFIG_SIZE_V1: u32 = 64;
/// `sizeof(wl_sample)` in ABI 1.0: the least `struct_size` accepted.
pub const WL_SAMPLE_SIZE_V1: u32 = 40;
/// `sizeof(wl_window_report)` in ABI 1.0: the least `struct_size` accepted.
pub const WL_WINDOW_REPORT_SIZE_V1: u32 = 344;

/// How a meter judges its samples, and whose power it measures (input
/// struct, versioned: see [`WL_METER_CONFIG_SIZE_V1`]).
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

/// One reading (input struct, versioned: see [`WL_SAMPLE_SIZE_V1`]).
/// Booleans are `uint32_t`.
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

// SAFETY: repr(C), struct_size first; numbers and raw pointers only.
unsafe impl Versioned for wl_meter_config {
    const SIZE_V1: u32 = WL_METER_CONFIG_SIZE_V1;
    /// As [`wl_meter_config_init`] writes it.
    fn defaults() -> Self {
        let d = MeterConfig::default();
        wl_meter_config {
            struct_size: WL_METER_CONFIG_SIZE_V1,
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
        }
    }
}

// SAFETY: repr(C), struct_size first; numbers only.
unsafe impl Versioned for wl_sample {
    const SIZE_V1: u32 = WL_SAMPLE_SIZE_V1;
    /// A sample at t = 0 with no reading.
    fn defaults() -> Self {
        wl_sample {
            struct_size: WL_SAMPLE_SIZE_V1,
            has_energy: 0,
            t_ns: 0,
            energy_mj: 0,
            has_power: 0,
            power_mw: 0,
            has_gated_units: 0,
            gated_units: 0,
        }
    }
}

#[cfg(target_pointer_width = "64")]
const _: () = assert!(size_of::<wl_meter_config>() == WL_METER_CONFIG_SIZE_V1 as usize);
const _: () = assert!(size_of::<wl_sample>() == WL_SAMPLE_SIZE_V1 as usize);
const _: () = assert!(size_of::<wl_window_report>() == WL_WINDOW_REPORT_SIZE_V1 as usize);

/// A closed window (output struct, versioned: set `struct_size` to
/// `sizeof(wl_window_report)` before the call).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct wl_window_report {
    /// Set by the caller to `sizeof(wl_window_report)`; the library writes
    /// no more and sets it to the bytes written.
    pub struct_size: u32,
    /// 1 when the window has a name (`name`), 0 when a number (`number`).
    pub is_named: u32,
    /// The window's number.
    pub number: u32,
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
    /// Whether the unit-seconds are set.
    pub has_units: u32,
    /// Whether the device is a MIG instance (energy is the parent's).
    pub is_mig: u32,
    /// Reserved (0).
    pub reserved: u32,
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
    /// Power × duration estimate, J.
    pub power_estimate_j: f64,
    /// Idle baseline × covered time, J.
    pub idle_j: f64,
    /// Energy above the baseline, J.
    pub dynamic_j: f64,
    /// Gated unit-seconds.
    pub gated_unit_s: f64,
    /// Powered unit-seconds.
    pub powered_unit_s: f64,
    /// Time the gating state was known, s.
    pub known_s: f64,
    /// The window's name, NUL-terminated.
    pub name: [c_char; WL_WINDOW_NAME_BUFFER],
    /// UUID of the measured device.
    pub device_uuid: [c_char; WL_UUID_BUFFER],
    /// UUID of the parent GPU.
    pub parent_uuid: [c_char; WL_UUID_BUFFER],
    /// MIG profile.
    pub profile: [c_char; WL_PROFILE_BUFFER],
}

// SAFETY: repr(C), struct_size first; numbers and char arrays only.
unsafe impl Versioned for wl_window_report {
    const SIZE_V1: u32 = WL_WINDOW_REPORT_SIZE_V1;
    fn defaults() -> Self {
        wl_window_report {
            struct_size: WL_WINDOW_REPORT_SIZE_V1,
            is_named: 0,
            number: 0,
            method: WL_METHOD_UNMEASURED,
            flags: 0,
            counter_resets: 0,
            gaps: 0,
            has_power_estimate: 0,
            has_split: 0,
            has_units: 0,
            is_mig: 0,
            reserved: 0,
            start_ns: 0,
            end_ns: 0,
            duration_ns: 0,
            covered_ns: 0,
            energy_j: 0.0,
            coverage: 0.0,
            power_estimate_j: 0.0,
            idle_j: 0.0,
            dynamic_j: 0.0,
            gated_unit_s: 0.0,
            powered_unit_s: 0.0,
            known_s: 0.0,
            name: [0; WL_WINDOW_NAME_BUFFER],
            device_uuid: [0; WL_UUID_BUFFER],
            parent_uuid: [0; WL_UUID_BUFFER],
            profile: [0; WL_PROFILE_BUFFER],
        }
    }
}

/// A meter (opaque). Made by [`wl_meter_init`] or [`wl_meter_new`].
#[derive(Debug)]
pub struct wl_meter {
    _private: [u8; 0],
}

/// What a meter handle refers to.
pub(crate) struct MeterObj {
    meter: Exclusive<Meter<WL_WINDOW_CAPACITY>>,
}

impl Object for MeterObj {
    const KIND: Kind = Kind::Meter;
    fn busy(&self) -> bool {
        self.meter.is_busy()
    }
}

/// The meter behind `m` (the one way there), held for the call.
pub(crate) fn meter<'a>(
    m: *const wl_meter,
) -> Result<Entered<'a, Meter<WL_WINDOW_CAPACITY>>, wl_status> {
    handle::get::<MeterObj, _>(m)?.meter.enter()
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
        ..wl_window_report::defaults()
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

/// A new meter object from a configuration.
///
/// # Safety
/// `config` is NULL or has `config->struct_size` readable bytes, with text
/// pointers NULL or NUL-terminated.
unsafe fn make(config: *const wl_meter_config) -> Result<MeterObj, wl_status> {
    // SAFETY: the caller's promise.
    let c = unsafe { read_in(config)? };
    // SAFETY: the caller's promise about the text pointers.
    let (device, parent, profile) = unsafe {
        (
            opt_text(c.device_uuid)?.unwrap_or(""),
            opt_text(c.parent_uuid)?.unwrap_or(""),
            opt_text(c.profile)?.unwrap_or(""),
        )
    };
    let mig = if c.is_mig != 0 {
        MigContext::instance(device, parent, profile)
    } else {
        MigContext::whole_gpu(device)
    }
    .map_err(meter_status)?;
    let cfg = MeterConfig {
        max_gap_ns: c.max_gap_ns,
        update_period_ns: c.update_period_ns,
        idle_baseline_mw: (c.has_idle_baseline != 0).then_some(c.idle_baseline_mw),
        total_units: (c.has_total_units != 0).then_some(c.total_units),
    };
    Ok(MeterObj {
        meter: Exclusive::new(Meter::new(cfg, mig)),
    })
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
        // SAFETY: this function's contract.
        let out = unsafe { Out::new(out)? };
        out.write(wl_meter_config::defaults())
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
/// In this order: for `config` [`WL_ERR_NULL_POINTER`],
/// [`WL_ERR_STRUCT_SIZE`], [`WL_ERR_BAD_UTF8`], [`WL_ERR_NAME_TOO_LONG`] (a
/// UUID or profile); for `memory` [`WL_ERR_NULL_POINTER`],
/// [`WL_ERR_STORAGE_TOO_SMALL`], [`WL_ERR_STORAGE_MISALIGNED`];
/// [`WL_ERR_NULL_POINTER`] (`out`); [`WL_ERR_TOO_MANY_OBJECTS`].
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
        // SAFETY: this function's contract.
        let obj = unsafe { make(config)? };
        let storage = handle::storage_for::<MeterObj>(memory, len)?;
        // SAFETY: this function's contract; `storage` is the caller's
        // memory, checked, and the library's until the release.
        unsafe { Out::new(out)?.write(handle::place(storage, obj)?) }
    })
}

/// Makes a meter on the heap (needs `std`); free it with [`wl_meter_free`].
///
/// # Errors
/// As [`wl_meter_init`] without the storage errors; [`WL_ERR_NOT_SUPPORTED`]
/// without `std`, after the checks.
///
/// # Safety
/// As [`wl_meter_init`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wl_meter_new(
    config: *const wl_meter_config,
    out: *mut *mut wl_meter,
) -> wl_status {
    guard(|| {
        // SAFETY: this function's contract.
        let (obj, out) = unsafe { (make(config)?, Out::new(out)?) };
        out.write(handle::place_on_heap(obj)?)
    })
}

/// Frees a meter made by [`wl_meter_new`].
///
/// # Errors
/// [`WL_ERR_NULL_POINTER`], [`WL_ERR_BAD_HANDLE`] (freed already or not a
/// meter), [`WL_ERR_WRONG_STORAGE`] (use [`wl_meter_release`]).
///
/// # Safety
/// No other call may be using `m`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wl_meter_free(m: *mut wl_meter) -> wl_status {
    guard(|| handle::free::<MeterObj, _>(m))
}

/// Ends a meter made by [`wl_meter_init`]; the storage is the caller's again.
///
/// # Errors
/// [`WL_ERR_NULL_POINTER`], [`WL_ERR_BAD_HANDLE`], [`WL_ERR_WRONG_STORAGE`].
///
/// # Safety
/// No other call may be using `m`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wl_meter_release(m: *mut wl_meter) -> wl_status {
    guard(|| handle::release::<MeterObj, _>(m))
}

/// Feeds one sample.
///
/// # Errors
/// The meter is unchanged on error: [`WL_ERR_NULL_POINTER`],
/// [`WL_ERR_BAD_HANDLE`], [`WL_ERR_STRUCT_SIZE`], [`WL_ERR_TIME_WENT_BACK`],
/// [`WL_ERR_GATED_EXCEEDS_TOTAL`].
///
/// # Safety
/// `sample` is NULL or has `sample->struct_size` readable bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wl_meter_ingest(m: *mut wl_meter, sample: *const wl_sample) -> wl_status {
    guard(|| {
        let mut meter = meter(m)?;
        // SAFETY: this function's contract.
        let s = unsafe { read_in(sample)? };
        meter
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
/// No other thread ends `m` during the call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wl_meter_mark_device_lost(m: *mut wl_meter) -> wl_status {
    guard(|| {
        meter(m)?.mark_device_lost();
        Ok(())
    })
}

/// Begins a window at the latest sample.
fn begin(m: *const wl_meter, k: Result<WindowRef<'_>, wl_status>) -> Result<(), wl_status> {
    let mut meter = meter(m)?;
    meter.begin(k?).map_err(meter_status)
}

/// Ends (or with `peek`, reports on) a window and writes its report.
///
/// # Safety
/// `out` is NULL or has `out->struct_size` writable bytes, `struct_size` set.
unsafe fn end(
    m: *const wl_meter,
    k: Result<WindowRef<'_>, wl_status>,
    peek: bool,
    out: *mut wl_window_report,
) -> Result<(), wl_status> {
    let mut meter = meter(m)?;
    let k = k?;
    // SAFETY: the caller's promise.
    let out = unsafe { OutSized::new(out)? };
    // Convert a peek first so that a conversion failure cannot lose a window.
    let mut c = window_report(&meter.peek(k).map_err(meter_status)?)?;
    if !peek {
        // The same texts converted a moment ago, so this cannot fail.
        c = window_report(&meter.end(k).map_err(meter_status)?)?;
    }
    out.write(c)
}

/// The window called `name`.
///
/// # Safety
/// `name` is NULL or NUL-terminated.
unsafe fn named<'a>(name: *const c_char) -> Result<WindowRef<'a>, wl_status> {
    // SAFETY: the caller's promise.
    unsafe { text(name) }.map(WindowRef::Name)
}

/// Begins the window `name` at the latest sample.
///
/// # Errors
/// [`WL_ERR_NULL_POINTER`], [`WL_ERR_BAD_HANDLE`], [`WL_ERR_BAD_UTF8`],
/// [`WL_ERR_NAME_TOO_LONG`], [`WL_ERR_WINDOW_ALREADY_OPEN`],
/// [`WL_ERR_TOO_MANY_WINDOWS`].
///
/// # Safety
/// `name` is NULL or NUL-terminated.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wl_meter_begin(m: *mut wl_meter, name: *const c_char) -> wl_status {
    // SAFETY: this function's contract.
    guard(|| begin(m, unsafe { named(name) }))
}

/// Begins the numbered window `number` (a different window from any name).
///
/// # Errors
/// [`WL_ERR_NULL_POINTER`], [`WL_ERR_BAD_HANDLE`],
/// [`WL_ERR_WINDOW_ALREADY_OPEN`], [`WL_ERR_TOO_MANY_WINDOWS`].
///
/// # Safety
/// No other thread ends `m` during the call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wl_meter_begin_id(m: *mut wl_meter, number: u32) -> wl_status {
    guard(|| begin(m, Ok(WindowRef::Number(number))))
}

/// Ends the window `name` at the latest sample and writes its report.
///
/// # Errors
/// [`WL_ERR_NULL_POINTER`], [`WL_ERR_BAD_HANDLE`], [`WL_ERR_BAD_UTF8`],
/// [`WL_ERR_STRUCT_SIZE`] (`out->struct_size`), [`WL_ERR_WINDOW_NOT_OPEN`];
/// the window stays open on error.
///
/// # Safety
/// `name` NUL-terminated; `out` has `out->struct_size` writable bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wl_meter_end(
    m: *mut wl_meter,
    name: *const c_char,
    out: *mut wl_window_report,
) -> wl_status {
    // SAFETY: this function's contract.
    guard(|| unsafe { end(m, named(name), false, out) })
}

/// Ends the numbered window `number`; as [`wl_meter_end`].
///
/// # Errors
/// [`WL_ERR_NULL_POINTER`], [`WL_ERR_BAD_HANDLE`], [`WL_ERR_STRUCT_SIZE`],
/// [`WL_ERR_WINDOW_NOT_OPEN`].
///
/// # Safety
/// `out` has `out->struct_size` writable bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wl_meter_end_id(
    m: *mut wl_meter,
    number: u32,
    out: *mut wl_window_report,
) -> wl_status {
    // SAFETY: this function's contract.
    guard(|| unsafe { end(m, Ok(WindowRef::Number(number)), false, out) })
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
    // SAFETY: this function's contract.
    guard(|| unsafe { end(m, named(name), true, out) })
}
