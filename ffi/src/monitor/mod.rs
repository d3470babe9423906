//! The measuring monitor: named windows over every GPU (needs `std`).
//!
//! A C or C++ program measures a phase of its work in a few lines:
//!
//! ```c
//! wl_monitor *mon;
//! wl_monitor_new_nvml(NULL, &mon);           /* once */
//! wl_monitor_begin(mon, "forward");
//! /* ... launch kernels, cudaDeviceSynchronize() ... */
//! reports[0].struct_size = sizeof reports[0];
//! wl_monitor_end(mon, "forward", reports, 8, &n);
//! ```
//!
//! Without `std` every function here returns [`WL_ERR_NOT_SUPPORTED`]
//! after checking its arguments: `absent` stands in for `live`.

use core::ffi::c_char;

use crate::guard;
use crate::handle;
use crate::meter::{WL_PROFILE_BUFFER, WL_UUID_BUFFER, wl_window_report};
use crate::mig::{wl_mig_shares, wl_mig_warning};
use crate::ptr::{Out, OutArray, Versioned, opt_text, text};

use crate::status::*;

#[cfg(feature = "std")]
mod live;
#[cfg(feature = "std")]
use live::MonitorObj;

#[cfg(not(feature = "std"))]
mod absent;
#[cfg(not(feature = "std"))]
use absent::MonitorObj;

/// Size of a device-name buffer, NUL included.
pub const WL_DEVICE_NAME_BUFFER: usize = 96;
/// Size of a source-name buffer (`"nvml"`, `"replay"`), NUL included.
pub const WL_SOURCE_BUFFER: usize = 16;
/// Size of the last-error text buffer, NUL included.
pub const WL_ERROR_BUFFER: usize = 256;
/// `sizeof(wl_device_window_report)` in ABI 1.0: the least `struct_size` accepted.
pub const WL_DEVICE_WINDOW_REPORT_SIZE_V1: u32 = 928;

/// One device's report on one window (output struct of [`wl_monitor_end`],
/// versioned: set `struct_size` in the first element of the array; it is
/// the stride). The struct grows only at its end, inside `window`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct wl_device_window_report {
    /// Set by the caller in the first element (the array's stride); the
    /// library writes no more per element and sets it to the bytes written.
    pub struct_size: u32,
    /// The sensor's index of the device.
    pub device_index: u32,
    /// NVML architecture number (7 Ampere, 9 Hopper, 10 Blackwell), or
    /// `WL_ARCHITECTURE_UNKNOWN`.
    pub architecture: u32,
    /// Whether the device has an energy counter.
    pub has_energy_counter: u32,
    /// Whether MIG mode is on for this physical GPU.
    pub mig_enabled: u32,
    /// MIG instances on it.
    pub mig_instances: u32,
    /// How many MIG instances of this GPU this process's
    /// `CUDA_VISIBLE_DEVICES` names. The energy is the whole GPU's, measured
    /// once however many there are; with exactly one, its UUID and profile
    /// follow.
    pub visible_mig: u32,
    /// Whether `name` was cut to fit its buffer.
    pub name_truncated: u32,
    /// Whether `last_error` is set.
    pub has_last_error: u32,
    /// Samples the meter refused (a sensor clock that went back).
    pub rejected_samples: u64,
    /// `"nvml"`, `"jetson"` or `"replay"`.
    pub source: [c_char; WL_SOURCE_BUFFER],
    /// Name of the physical GPU as the driver reports it.
    pub name: [c_char; WL_DEVICE_NAME_BUFFER],
    /// UUID of the physical GPU.
    pub uuid: [c_char; WL_UUID_BUFFER],
    /// UUID of the visible MIG instance (when `visible_mig` is 1).
    pub visible_mig_uuid: [c_char; WL_UUID_BUFFER],
    /// Profile of the visible MIG instance, when known.
    pub visible_mig_profile: [c_char; WL_PROFILE_BUFFER],
    /// The last read error other than a lost device, cut to fit at a
    /// character boundary.
    pub last_error: [c_char; WL_ERROR_BUFFER],
    /// What the device's meter measured (its own `struct_size` is set).
    pub window: wl_window_report,
}

// SAFETY: repr(C), struct_size first; numbers and char arrays only.
unsafe impl Versioned for wl_device_window_report {
    const SIZE_V1: u32 = WL_DEVICE_WINDOW_REPORT_SIZE_V1;
    fn defaults() -> Self {
        wl_device_window_report {
            struct_size: WL_DEVICE_WINDOW_REPORT_SIZE_V1,
            device_index: 0,
            architecture: crate::mig::WL_ARCHITECTURE_UNKNOWN,
            has_energy_counter: 0,
            mig_enabled: 0,
            mig_instances: 0,
            visible_mig: 0,
            name_truncated: 0,
            has_last_error: 0,
            rejected_samples: 0,
            source: [0; WL_SOURCE_BUFFER],
            name: [0; WL_DEVICE_NAME_BUFFER],
            uuid: [0; WL_UUID_BUFFER],
            visible_mig_uuid: [0; WL_UUID_BUFFER],
            visible_mig_profile: [0; WL_PROFILE_BUFFER],
            last_error: [0; WL_ERROR_BUFFER],
            window: wl_window_report::defaults(),
        }
    }
}

const _: () = assert!(
    core::mem::size_of::<wl_device_window_report>() == WL_DEVICE_WINDOW_REPORT_SIZE_V1 as usize
);

/// A monitor (opaque), thread-safe: begin and end windows from any thread.
#[derive(Debug)]
pub struct wl_monitor {
    _private: [u8; 0],
}

/// Opens NVML and monitors every GPU it reports. `lib_path` names the
/// library file; NULL uses the environment variable `WATTLEDGER_NVML_LIB`,
/// else `libnvidia-ml.so.1`. Free the monitor with [`wl_monitor_free`].
///
/// A background thread samples every GPU; windows are begun and ended by
/// name from any thread.
///
/// # Errors
/// [`WL_ERR_BAD_UTF8`], [`WL_ERR_NULL_POINTER`] (`out`),
/// [`WL_ERR_UNAVAILABLE`] (no library, no driver), [`WL_ERR_NO_DEVICES`],
/// [`WL_ERR_SENSOR`], [`WL_ERR_TOO_MANY_OBJECTS`], [`WL_ERR_NOT_SUPPORTED`]
/// without `std`.
///
/// # Safety
/// `lib_path` is NULL or NUL-terminated; `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wl_monitor_new_nvml(
    lib_path: *const c_char,
    out: *mut *mut wl_monitor,
) -> wl_status {
    guard(|| {
        // SAFETY: this function's contract.
        let (path, out) = unsafe { (opt_text(lib_path)?, Out::new(out)?) };
        out.write(handle::place_on_heap(MonitorObj::open_nvml(path)?)?)
    })
}

/// Monitors the devices of a recorded trace (`wattledger-trace/1`, JSON
/// lines), replaying one recorded sample per poll.
///
/// # Errors
/// [`WL_ERR_NULL_POINTER`], [`WL_ERR_BAD_UTF8`], [`WL_ERR_IO`] (cannot read
/// or parse), [`WL_ERR_NO_DEVICES`], [`WL_ERR_SENSOR`],
/// [`WL_ERR_TOO_MANY_OBJECTS`], [`WL_ERR_NOT_SUPPORTED`] without `std`.
///
/// # Safety
/// `path` is NULL or NUL-terminated; `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wl_monitor_new_replay(
    path: *const c_char,
    out: *mut *mut wl_monitor,
) -> wl_status {
    guard(|| {
        // SAFETY: this function's contract.
        let (path, out) = unsafe { (text(path)?, Out::new(out)?) };
        out.write(handle::place_on_heap(MonitorObj::open_replay(path)?)?)
    })
}

/// Stops the monitor's thread and frees it. The handle is dead after; no
/// other thread may be inside a call on it.
///
/// # Errors
/// [`WL_ERR_NULL_POINTER`], [`WL_ERR_BAD_HANDLE`] (freed already, or not a
/// monitor), [`WL_ERR_NOT_SUPPORTED`] without `std`.
///
/// # Safety
/// No other thread is inside a call on `m`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wl_monitor_free(m: *mut wl_monitor) -> wl_status {
    guard(|| handle::free::<MonitorObj, _>(m))
}

/// Number of devices the monitor reports on (the reports array of
/// [`wl_monitor_end`] needs this many places).
///
/// # Errors
/// [`WL_ERR_NULL_POINTER`], [`WL_ERR_BAD_HANDLE`], [`WL_ERR_NOT_SUPPORTED`].
///
/// # Safety
/// `out` is NULL or writable; no other thread frees `m` during the call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wl_monitor_device_count(
    m: *const wl_monitor,
    out: *mut usize,
) -> wl_status {
    guard(|| {
        let mon = handle::get::<MonitorObj, _>(m)?;
        // SAFETY: this function's contract.
        unsafe { Out::new(out)? }.write(mon.device_count())
    })
}

/// Begins the window `name` on every device, at a fresh sample of each.
/// Thread-safe.
///
/// # Errors
/// [`WL_ERR_NULL_POINTER`], [`WL_ERR_BAD_HANDLE`], [`WL_ERR_BAD_UTF8`],
/// [`WL_ERR_NAME_TOO_LONG`], [`WL_ERR_WINDOW_ALREADY_OPEN`],
/// [`WL_ERR_TOO_MANY_WINDOWS`], [`WL_ERR_NOT_SUPPORTED`].
///
/// # Safety
/// `name` is NULL or NUL-terminated; no other thread frees `m` during the call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wl_monitor_begin(m: *mut wl_monitor, name: *const c_char) -> wl_status {
    guard(|| {
        let mon = handle::get::<MonitorObj, _>(m)?;
        // SAFETY: this function's contract.
        mon.begin(unsafe { text(name)? })
    })
}

/// Ends the window `name` on every device, at a fresh sample of each, and
/// writes one report per device (in device order) to `out` and their number
/// to `out_count`. Thread-safe.
///
/// Ownership: `out` is the caller's array of `capacity` reports; set
/// `struct_size` in its first element.
///
/// # Errors
/// The window stays open on every error: [`WL_ERR_NULL_POINTER`],
/// [`WL_ERR_BAD_HANDLE`], [`WL_ERR_BAD_UTF8`], [`WL_ERR_NAME_TOO_LONG`],
/// [`WL_ERR_STRUCT_SIZE`], [`WL_ERR_WINDOW_NOT_OPEN`], [`WL_ERR_CAPACITY`]
/// (`capacity` below [`wl_monitor_device_count`]), [`WL_ERR_NOT_SUPPORTED`].
///
/// # Safety
/// `name` is NULL or NUL-terminated; `out` has `capacity` writable elements
/// of stride `out->struct_size`; `out_count` is NULL or writable; no other
/// thread frees `m` during the call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wl_monitor_end(
    m: *mut wl_monitor,
    name: *const c_char,
    out: *mut wl_device_window_report,
    capacity: usize,
    out_count: *mut usize,
) -> wl_status {
    guard(|| {
        let mon = handle::get::<MonitorObj, _>(m)?;
        // SAFETY: this function's contract.
        let (name, mut out, out_count) = unsafe {
            (
                text(name)?,
                OutArray::sized(out, capacity)?,
                Out::new(out_count)?,
            )
        };
        out_count.write(mon.end(name, &mut out)?)
    })
}

/// Applies the MIG rules to the latest end of window `name`, exactly as the
/// `wattledger` command does (both go through `wattledger_std::mig_warnings`):
/// a GPU measured for one visible MIG instance is that instance's result,
/// carrying the parent GPU's energy; a GPU measured once for several visible
/// instances is one result of the parent, so nothing is counted twice; a GPU
/// in MIG mode with no instance named is a MIG result without a profile;
/// other GPUs are whole-GPU results. Writes the warnings as
/// [`crate::wl_mig_check`] does.
///
/// # Errors
/// [`WL_ERR_NULL_POINTER`], [`WL_ERR_BAD_HANDLE`], [`WL_ERR_BAD_UTF8`],
/// [`WL_ERR_NAME_TOO_LONG`], [`WL_ERR_NO_SUCH_WINDOW`] (no window of that
/// name has ended), then as [`crate::wl_mig_check`];
/// [`WL_ERR_NOT_SUPPORTED`] without `std`.
///
/// # Safety
/// `name` is NULL or NUL-terminated; `out` has `capacity` writable warnings
/// of stride `out->struct_size`; `out_count` is NULL or writable; no other
/// thread frees `m` during the call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wl_monitor_mig_warnings(
    m: *const wl_monitor,
    name: *const c_char,
    shares: wl_mig_shares,
    out: *mut wl_mig_warning,
    capacity: usize,
    out_count: *mut usize,
) -> wl_status {
    guard(|| {
        let mon = handle::get::<MonitorObj, _>(m)?;
        // SAFETY: this function's contract.
        let name = unsafe { text(name)? };
        mon.mig_results(name, |recs| {
            // SAFETY: this function's contract.
            unsafe { crate::mig::check_into(recs, shares, out, capacity, out_count) }
        })
    })
}
