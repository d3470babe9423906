//! The measuring monitor: named windows over every GPU (needs `std`).
//!
//! A C or C++ program measures a phase of its work in five lines:
//!
//! ```c
//! wl_monitor *mon;
//! wl_monitor_new_nvml(NULL, &mon);           /* once */
//! wl_monitor_begin(mon, "forward");
//! /* ... launch kernels, cudaDeviceSynchronize() ... */
//! wl_monitor_end(mon, "forward", reports, 8, &n);
//! ```
//!
//! Without `std` every function here returns [`WL_ERR_NOT_SUPPORTED`].

use core::ffi::c_char;

use crate::meter::{WL_PROFILE_BUFFER, WL_UUID_BUFFER, wl_window_report};
use crate::mig::{wl_mig_shares, wl_mig_warning};
use crate::status::*;
use crate::{guard, need};

/// Size of a device-name buffer, NUL included.
pub const WL_DEVICE_NAME_BUFFER: usize = 96;
/// Size of a source-name buffer (`"nvml"`, `"replay"`), NUL included.
pub const WL_SOURCE_BUFFER: usize = 16;
/// Size of the last-error text buffer, NUL included.
pub const WL_ERROR_BUFFER: usize = 256;

/// One device's report on one window (output struct of [`wl_monitor_end`]).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct wl_device_window_report {
    /// What the device's meter measured.
    pub window: wl_window_report,
    /// The sensor's index of the device.
    pub device_index: u32,
    /// NVML architecture number (7 Ampere, 9 Hopper, 10 Blackwell), or
    /// 0xffffffff when unknown.
    pub architecture: u32,
    /// Whether the device has an energy counter.
    pub has_energy_counter: u32,
    /// Whether MIG mode is on for this physical GPU.
    pub mig_enabled: u32,
    /// MIG instances on it.
    pub mig_instances: u32,
    /// Whether this process's `CUDA_VISIBLE_DEVICES` names a MIG instance of
    /// this GPU (its UUID and profile follow): the energy is then the whole
    /// GPU's, shared with the other instances.
    pub visible_mig: u32,
    /// Whether `name` was cut to fit its buffer.
    pub name_truncated: u32,
    /// Whether `last_error` is set.
    pub has_last_error: u32,
    /// Samples the meter refused (a sensor clock that went back).
    pub rejected_samples: u64,
    /// `"nvml"`, `"jetson"` or `"replay"`.
    pub source: [c_char; WL_SOURCE_BUFFER],
    /// Device name as the driver reports it.
    pub name: [c_char; WL_DEVICE_NAME_BUFFER],
    /// Device UUID.
    pub uuid: [c_char; WL_UUID_BUFFER],
    /// UUID of the visible MIG instance (`visible_mig`).
    pub visible_mig_uuid: [c_char; WL_UUID_BUFFER],
    /// Profile of the visible MIG instance, when known.
    pub visible_mig_profile: [c_char; WL_PROFILE_BUFFER],
    /// The last read error other than a lost device, cut to fit at a
    /// character boundary.
    pub last_error: [c_char; WL_ERROR_BUFFER],
}

/// A monitor (opaque), thread-safe: begin and end windows from any thread.
#[derive(Debug)]
pub struct wl_monitor {
    _private: [u8; 0],
}

#[cfg(feature = "std")]
mod imp {
    use super::*;
    use crate::handle::{Storage, TAG_MONITOR, Tagged, check, free_heap, place_on_heap};
    use crate::meter::window_report;
    use crate::mig::{WL_MIG_MAX_RESULTS, wl_mig_result};
    use crate::{buf_str, c_str, c_str_opt, put_str, write_out};
    use core::mem::size_of;
    use wattledger_core::meter::MeterError;
    use wattledger_std::monitor::{DeviceWindowReport, Monitor, MonitorError};
    use wattledger_std::sensors::nvml::{NvmlOptions, NvmlSensor};
    use wattledger_std::sensors::replay::ReplaySensor;
    use wattledger_std::sensors::{Sensor, SensorError};
    use wattledger_std::visible::cuda_visible_devices_from_env;

    #[repr(C)]
    pub(super) struct MonitorObj {
        tag: u64,
        monitor: Monitor,
        /// Per device (report order): the visible MIG instance's UUID and profile.
        visible: Vec<Option<(String, Option<String>)>>,
    }

    // SAFETY: `#[repr(C)]` with the u64 tag first.
    unsafe impl Tagged for MonitorObj {
        const TAG: u64 = TAG_MONITOR;

        unsafe fn storage(_: *const Self) -> Storage {
            // Monitors are only ever made on the heap, and their calls take
            // shared borrows, so none marks it busy.
            Storage {
                heap: true,
                busy: false,
            }
        }
    }

    fn monitor_status(e: MonitorError) -> wl_status {
        match e {
            MonitorError::NoDevices => WL_ERR_NO_DEVICES,
            MonitorError::Window(m) => crate::meter::meter_status(m),
            MonitorError::Spawn(_) => WL_ERR_SENSOR,
        }
    }

    fn sensor_status(e: &SensorError) -> wl_status {
        match e {
            SensorError::NoDevices { .. } => WL_ERR_NO_DEVICES,
            SensorError::Unavailable { .. } => WL_ERR_UNAVAILABLE,
            _ => WL_ERR_SENSOR,
        }
    }

    /// Copies as much of `s` as fits, cut at a character boundary; true when cut.
    fn put_cut(buf: &mut [c_char], s: &str) -> bool {
        let max = buf.len().saturating_sub(1);
        let mut end = s.len().min(max);
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        let cut = s.get(..end).unwrap_or("");
        // Cannot fail: `cut` is shorter than the buffer.
        let _ = put_str(buf, cut);
        end < s.len()
    }

    fn make(sensor: Box<dyn Sensor>, out: *mut *mut wl_monitor) -> Result<(), wl_status> {
        let devices = sensor.devices().to_vec();
        let visible = cuda_visible_devices_from_env(&devices);
        let monitor = Monitor::new(vec![sensor]).map_err(monitor_status)?;
        let per_device = monitor
            .devices()
            .iter()
            .map(|d| {
                let v = visible
                    .visible
                    .iter()
                    .find(|v| v.device == d.index && v.mig_uuid.is_some())?;
                let uuid = v.mig_uuid.clone()?;
                let profile = d
                    .mig
                    .as_ref()
                    .and_then(|m| m.instances.iter().find(|i| i.uuid == uuid))
                    .and_then(|i| i.profile.clone());
                Some((uuid, profile))
            })
            .collect();
        let obj = MonitorObj {
            tag: TAG_MONITOR,
            monitor,
            visible: per_device,
        };
        // SAFETY: forwarded from the caller.
        unsafe { place_on_heap(obj, out) }
    }

    pub(super) unsafe fn new_nvml(
        lib_path: *const c_char,
        out: *mut *mut wl_monitor,
    ) -> Result<(), wl_status> {
        need(out)?;
        // SAFETY: forwarded from the caller.
        let path = unsafe { c_str_opt(lib_path) }?;
        let options = match path {
            Some(p) => NvmlOptions::default().lib_path(p),
            None => NvmlOptions::from_env(),
        };
        let sensor = NvmlSensor::open(&options).map_err(|e| sensor_status(&e))?;
        make(Box::new(sensor), out)
    }

    pub(super) unsafe fn new_replay(
        path: *const c_char,
        out: *mut *mut wl_monitor,
    ) -> Result<(), wl_status> {
        need(out)?;
        // SAFETY: forwarded from the caller.
        let path = unsafe { c_str(path) }?;
        let sensor = ReplaySensor::from_path(path).map_err(|_| WL_ERR_IO)?;
        make(Box::new(sensor), out)
    }

    /// # Safety
    /// `m` is NULL or a handle from this library (live or freed).
    unsafe fn obj<'a>(m: *const wl_monitor) -> Result<&'a MonitorObj, wl_status> {
        // SAFETY: forwarded from the caller.
        unsafe { check(m, TAG_MONITOR) }?;
        // SAFETY: the registry and tag say a MonitorObj lives here; it is
        // only ever borrowed shared (Monitor is Sync) until freed.
        Ok(unsafe { &*m.cast::<MonitorObj>() })
    }

    pub(super) unsafe fn free(m: *mut wl_monitor) -> Result<(), wl_status> {
        // SAFETY: forwarded from the caller.
        unsafe { free_heap(m.cast::<MonitorObj>()) }
    }

    pub(super) unsafe fn device_count(
        m: *const wl_monitor,
        out: *mut usize,
    ) -> Result<(), wl_status> {
        need(out)?;
        // SAFETY: forwarded from the caller.
        let o = unsafe { obj(m) }?;
        // SAFETY: forwarded from the caller.
        unsafe { write_out(out, o.visible.len()) }
    }

    pub(super) unsafe fn begin(m: *mut wl_monitor, name: *const c_char) -> Result<(), wl_status> {
        // SAFETY: forwarded from the caller.
        let o = unsafe { obj(m) }?;
        // SAFETY: forwarded from the caller.
        let name = unsafe { c_str(name) }?;
        o.monitor.begin_window(name).map_err(monitor_status)
    }

    fn device_report(
        r: &DeviceWindowReport,
        visible: Option<&(String, Option<String>)>,
    ) -> Result<wl_device_window_report, wl_status> {
        let d = &r.device;
        let mut o = wl_device_window_report {
            window: window_report(&r.report)?,
            device_index: d.index,
            architecture: d.architecture.unwrap_or(u32::MAX),
            has_energy_counter: u32::from(d.has_energy_counter),
            mig_enabled: u32::from(d.mig.as_ref().is_some_and(|m| m.current_enabled)),
            mig_instances: d
                .mig
                .as_ref()
                .map_or(0, |m| u32::try_from(m.instances.len()).unwrap_or(u32::MAX)),
            visible_mig: u32::from(visible.is_some()),
            name_truncated: 0,
            has_last_error: u32::from(r.last_error.is_some()),
            rejected_samples: r.rejected_samples,
            source: [0; WL_SOURCE_BUFFER],
            name: [0; WL_DEVICE_NAME_BUFFER],
            uuid: [0; WL_UUID_BUFFER],
            visible_mig_uuid: [0; WL_UUID_BUFFER],
            visible_mig_profile: [0; WL_PROFILE_BUFFER],
            last_error: [0; WL_ERROR_BUFFER],
        };
        o.name_truncated = u32::from(put_cut(&mut o.name, &d.name));
        put_str(&mut o.source, &r.source)?;
        put_str(&mut o.uuid, &d.uuid)?;
        if let Some((uuid, profile)) = visible {
            put_str(&mut o.visible_mig_uuid, uuid)?;
            put_str(&mut o.visible_mig_profile, profile.as_deref().unwrap_or(""))?;
        }
        if let Some(e) = &r.last_error {
            put_cut(&mut o.last_error, e);
        }
        Ok(o)
    }

    pub(super) unsafe fn end(
        m: *mut wl_monitor,
        name: *const c_char,
        out: *mut wl_device_window_report,
        capacity: usize,
        out_count: *mut usize,
    ) -> Result<(), wl_status> {
        need(out_count)?;
        // SAFETY: forwarded from the caller.
        let o = unsafe { obj(m) }?;
        // SAFETY: forwarded from the caller.
        let name = unsafe { c_str(name) }?;
        if name.len() > wattledger_core::meter::WINDOW_NAME_CAPACITY {
            return Err(WL_ERR_NAME_TOO_LONG);
        }
        if !o.monitor.is_open(name) {
            return Err(crate::meter::meter_status(MeterError::NotOpen));
        }
        // Refuse before ending the window, so the window stays open.
        if capacity < o.visible.len() {
            return Err(WL_ERR_CAPACITY);
        }
        need(out)?;
        let reports = o.monitor.end_window(name).map_err(monitor_status)?;
        let mut converted = Vec::with_capacity(reports.len());
        for (i, r) in reports.iter().enumerate() {
            converted.push(device_report(r, o.visible.get(i).and_then(Option::as_ref))?);
        }
        if converted.len() > capacity {
            return Err(WL_ERR_CAPACITY);
        }
        for (i, c) in converted.into_iter().enumerate() {
            // SAFETY: i < len ≤ capacity elements of `out` are writable.
            unsafe { out.add(i).write(c) };
        }
        // SAFETY: forwarded from the caller.
        unsafe { write_out(out_count, reports.len()) }
    }

    pub(super) unsafe fn mig_warnings(
        reports: *const wl_device_window_report,
        count: usize,
        shares: wl_mig_shares,
        out: *mut wl_mig_warning,
        capacity: usize,
        out_count: *mut usize,
    ) -> Result<(), wl_status> {
        need(out_count)?;
        if count > WL_MIG_MAX_RESULTS {
            return Err(WL_ERR_CAPACITY);
        }
        if count > 0 {
            need(reports)?;
        }
        let reports = if count == 0 {
            &[][..]
        } else {
            // SAFETY: non-null (checked above), and the caller's array holds
            // `count` readable reports for the length of the call.
            unsafe { core::slice::from_raw_parts(reports, count) }
        };
        // The C strings the results point to: [id, gpu_uuid, parent, model, profile].
        // A CString's bytes live on the heap, so moving it keeps its pointer.
        let cs = |s: &str| std::ffi::CString::new(s).map_err(|_| WL_ERR_BAD_UTF8);
        let mut texts: Vec<([std::ffi::CString; 5], bool)> = Vec::with_capacity(count);
        for r in reports {
            let name = buf_str(&r.name, WL_DEVICE_NAME_BUFFER)?;
            let uuid = buf_str(&r.uuid, WL_UUID_BUFFER)?;
            let (is_mig, gpu_uuid, parent, profile) = if r.visible_mig != 0 {
                (
                    true,
                    buf_str(&r.visible_mig_uuid, WL_UUID_BUFFER)?,
                    uuid,
                    buf_str(&r.visible_mig_profile, WL_PROFILE_BUFFER)?,
                )
            } else if r.window.is_mig != 0 {
                (
                    true,
                    buf_str(&r.window.device_uuid, WL_UUID_BUFFER)?,
                    buf_str(&r.window.parent_uuid, WL_UUID_BUFFER)?,
                    buf_str(&r.window.profile, WL_PROFILE_BUFFER)?,
                )
            } else if r.mig_enabled != 0 {
                // The program ran on some instance of this GPU, which one
                // we cannot tell: a MIG result without a profile, as
                // `wattledger_std::mig_warnings::for_window` makes it.
                (true, uuid, uuid, "")
            } else {
                (false, uuid, "", "")
            };
            texts.push((
                [
                    cs(uuid)?,
                    cs(gpu_uuid)?,
                    cs(parent)?,
                    cs(name)?,
                    cs(profile)?,
                ],
                is_mig,
            ));
        }
        let opt = |c: &std::ffi::CString| {
            if c.as_bytes().is_empty() {
                core::ptr::null()
            } else {
                c.as_ptr()
            }
        };
        let results: Vec<wl_mig_result> = texts
            .iter()
            .zip(reports)
            .map(
                |(([id, gpu, parent, model, profile], is_mig), r)| wl_mig_result {
                    struct_size: size_of::<wl_mig_result>() as u32,
                    is_mig: u32::from(*is_mig),
                    architecture: r.architecture,
                    has_activity: 0,
                    id: id.as_ptr(),
                    gpu_uuid: gpu.as_ptr(),
                    parent_gpu_uuid: if *is_mig {
                        opt(parent)
                    } else {
                        core::ptr::null()
                    },
                    profile: if *is_mig {
                        opt(profile)
                    } else {
                        core::ptr::null()
                    },
                    gpu_model: model.as_ptr(),
                    energy_j: r.window.energy_j,
                    start_s: r.window.start_ns as f64 * 1e-9,
                    end_s: r.window.end_ns as f64 * 1e-9,
                    activity: 0.0,
                },
            )
            .collect();
        let status = {
            // SAFETY: `results` and the strings in `texts` live until after
            // the call; `out` and `out_count` are the caller's.
            unsafe {
                crate::mig::wl_mig_check(
                    results.as_ptr(),
                    results.len(),
                    shares,
                    out,
                    capacity,
                    out_count,
                )
            }
        };
        drop(texts);
        if status == WL_OK { Ok(()) } else { Err(status) }
    }
}

/// Opens NVML and monitors every GPU it reports. `lib_path` names the
/// library file; NULL uses the environment variable `WATTLEDGER_NVML_LIB`,
/// else `libnvidia-ml.so.1`. Free the monitor with [`wl_monitor_free`].
///
/// A background thread samples every GPU; windows are begun and ended by
/// name from any thread.
///
/// # Errors
/// [`WL_ERR_NULL_POINTER`] (`out`), [`WL_ERR_BAD_UTF8`],
/// [`WL_ERR_UNAVAILABLE`] (no library, no driver), [`WL_ERR_NO_DEVICES`],
/// [`WL_ERR_SENSOR`], [`WL_ERR_NOT_SUPPORTED`] without `std`.
///
/// # Safety
/// `lib_path` is NULL or NUL-terminated; `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wl_monitor_new_nvml(
    lib_path: *const c_char,
    out: *mut *mut wl_monitor,
) -> wl_status {
    guard(|| {
        #[cfg(feature = "std")]
        {
            // SAFETY: forwarded from the caller.
            unsafe { imp::new_nvml(lib_path, out) }
        }
        #[cfg(not(feature = "std"))]
        {
            let _ = lib_path;
            need(out)?;
            Err(WL_ERR_NOT_SUPPORTED)
        }
    })
}

/// Monitors the devices of a recorded trace (`wattledger-trace/1`, JSON
/// lines), replaying one recorded sample per poll.
///
/// # Errors
/// [`WL_ERR_NULL_POINTER`], [`WL_ERR_BAD_UTF8`], [`WL_ERR_IO`] (cannot read
/// or parse), [`WL_ERR_NO_DEVICES`], [`WL_ERR_SENSOR`],
/// [`WL_ERR_NOT_SUPPORTED`] without `std`.
///
/// # Safety
/// `path` is NULL or NUL-terminated; `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wl_monitor_new_replay(
    path: *const c_char,
    out: *mut *mut wl_monitor,
) -> wl_status {
    guard(|| {
        #[cfg(feature = "std")]
        {
            // SAFETY: forwarded from the caller.
            unsafe { imp::new_replay(path, out) }
        }
        #[cfg(not(feature = "std"))]
        {
            let _ = path;
            need(out)?;
            Err(WL_ERR_NOT_SUPPORTED)
        }
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
/// `m` is NULL or a handle from this library (live or freed).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wl_monitor_free(m: *mut wl_monitor) -> wl_status {
    guard(|| {
        need(m)?;
        #[cfg(feature = "std")]
        {
            // SAFETY: forwarded from the caller.
            unsafe { imp::free(m) }
        }
        #[cfg(not(feature = "std"))]
        {
            Err(WL_ERR_NOT_SUPPORTED)
        }
    })
}

/// Number of devices the monitor reports on (the reports array of
/// [`wl_monitor_end`] needs this many places).
///
/// # Errors
/// [`WL_ERR_NULL_POINTER`], [`WL_ERR_BAD_HANDLE`], [`WL_ERR_NOT_SUPPORTED`].
///
/// # Safety
/// `m` as for [`wl_monitor_free`]; `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wl_monitor_device_count(
    m: *const wl_monitor,
    out: *mut usize,
) -> wl_status {
    guard(|| {
        need(m)?;
        #[cfg(feature = "std")]
        {
            // SAFETY: forwarded from the caller.
            unsafe { imp::device_count(m, out) }
        }
        #[cfg(not(feature = "std"))]
        {
            let _ = out;
            Err(WL_ERR_NOT_SUPPORTED)
        }
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
/// `m` as for [`wl_monitor_free`]; `name` is NULL or NUL-terminated.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wl_monitor_begin(m: *mut wl_monitor, name: *const c_char) -> wl_status {
    guard(|| {
        need(m)?;
        #[cfg(feature = "std")]
        {
            // SAFETY: forwarded from the caller.
            unsafe { imp::begin(m, name) }
        }
        #[cfg(not(feature = "std"))]
        {
            let _ = name;
            Err(WL_ERR_NOT_SUPPORTED)
        }
    })
}

/// Ends the window `name` on every device, at a fresh sample of each, and
/// writes one report per device (in device order) to `out` and their number
/// to `out_count`. Thread-safe.
///
/// Ownership: `out` is the caller's array of `capacity` reports.
///
/// # Errors
/// The window stays open on every error: [`WL_ERR_NULL_POINTER`],
/// [`WL_ERR_BAD_HANDLE`], [`WL_ERR_BAD_UTF8`], [`WL_ERR_NAME_TOO_LONG`],
/// [`WL_ERR_WINDOW_NOT_OPEN`], [`WL_ERR_CAPACITY`] (`capacity` below
/// [`wl_monitor_device_count`]), [`WL_ERR_NOT_SUPPORTED`].
///
/// # Safety
/// `m` as for [`wl_monitor_free`]; `name` is NULL or NUL-terminated; `out`
/// has `capacity` writable elements; `out_count` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wl_monitor_end(
    m: *mut wl_monitor,
    name: *const c_char,
    out: *mut wl_device_window_report,
    capacity: usize,
    out_count: *mut usize,
) -> wl_status {
    guard(|| {
        need(m)?;
        #[cfg(feature = "std")]
        {
            // SAFETY: forwarded from the caller.
            unsafe { imp::end(m, name, out, capacity, out_count) }
        }
        #[cfg(not(feature = "std"))]
        {
            let _ = (name, out, capacity, out_count);
            Err(WL_ERR_NOT_SUPPORTED)
        }
    })
}

/// Applies the MIG rules to reports from [`wl_monitor_end`] (of one or more
/// windows), the way the `wattledger` command does: a GPU whose MIG
/// instance this process sees (`CUDA_VISIBLE_DEVICES`) is a MIG result of
/// that instance carrying the parent GPU's energy; a GPU in MIG mode with no
/// instance named is a MIG result without a profile; other GPUs are
/// whole-GPU results. Writes the warnings as [`crate::wl_mig_check`] does.
///
/// # Errors
/// As [`crate::wl_mig_check`]; [`WL_ERR_CAPACITY`] for more than
/// `WL_MIG_MAX_RESULTS` reports; [`WL_ERR_NOT_SUPPORTED`] without `std`.
///
/// # Safety
/// `reports` has `count` readable reports (NULL when 0); `out` has
/// `capacity` writable warnings; `out_count` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wl_monitor_mig_warnings(
    reports: *const wl_device_window_report,
    count: usize,
    shares: wl_mig_shares,
    out: *mut wl_mig_warning,
    capacity: usize,
    out_count: *mut usize,
) -> wl_status {
    guard(|| {
        #[cfg(feature = "std")]
        {
            // SAFETY: forwarded from the caller.
            unsafe { imp::mig_warnings(reports, count, shares, out, capacity, out_count) }
        }
        #[cfg(not(feature = "std"))]
        {
            let _ = (reports, count, shares, out, capacity);
            need(out_count)?;
            Err(WL_ERR_NOT_SUPPORTED)
        }
    })
}
