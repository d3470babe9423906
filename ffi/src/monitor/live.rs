//! The monitor with `std`: NVML or a replayed trace, a polling thread, and
//! the MIG results the command would make of its reports.

use core::ffi::c_char;

use wattledger_core::meter::{MeterError, WINDOW_NAME_CAPACITY};
use wattledger_core::mig::{Architecture, ResultRecord};
use wattledger_std::monitor::{DeviceWindowReport, Monitor, MonitorError};
use wattledger_std::sensors::nvml::{NvmlOptions, NvmlSensor};
use wattledger_std::sensors::replay::ReplaySensor;
use wattledger_std::sensors::{Sensor, SensorError};
use wattledger_std::visible::cuda_visible_devices_from_env;

use super::{WL_DEVICE_NAME_BUFFER, WL_ERROR_BUFFER, WL_SOURCE_BUFFER, wl_device_window_report};
use crate::handle::{Kind, Object};
use crate::meter::{WL_PROFILE_BUFFER, WL_UUID_BUFFER, meter_status, window_report};
use crate::mig::WL_MIG_MAX_RESULTS;
use crate::ptr::{InArray, OutArray, Versioned, buf_str, put_str};
use crate::status::*;

/// What a monitor handle refers to.
pub(crate) struct MonitorObj {
    monitor: Monitor,
    /// Per device (report order): the visible MIG instance's UUID and profile.
    visible: Vec<Option<(String, Option<String>)>>,
}

impl Object for MonitorObj {
    const KIND: Kind = Kind::Monitor;
    /// Monitor calls take shared borrows and lock inside, so none keeps
    /// the monitor from being freed (the caller must not free it while
    /// another thread is in a call).
    fn busy(&self) -> bool {
        false
    }
}

fn monitor_status(e: MonitorError) -> wl_status {
    match e {
        MonitorError::NoDevices => WL_ERR_NO_DEVICES,
        MonitorError::Window(m) => meter_status(m),
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

impl MonitorObj {
    fn with(sensor: Box<dyn Sensor>) -> Result<MonitorObj, wl_status> {
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
        Ok(MonitorObj {
            monitor,
            visible: per_device,
        })
    }

    /// A monitor over NVML (`path`, else the environment's or the default library).
    pub(super) fn open_nvml(path: Option<&str>) -> Result<MonitorObj, wl_status> {
        let options = match path {
            Some(p) => NvmlOptions::default().lib_path(p),
            None => NvmlOptions::from_env(),
        };
        let sensor = NvmlSensor::open(&options).map_err(|e| sensor_status(&e))?;
        MonitorObj::with(Box::new(sensor))
    }

    /// A monitor over a recorded trace.
    pub(super) fn open_replay(path: &str) -> Result<MonitorObj, wl_status> {
        let sensor = ReplaySensor::from_path(path).map_err(|_| WL_ERR_IO)?;
        MonitorObj::with(Box::new(sensor))
    }

    /// Devices reported on.
    pub(super) fn device_count(&self) -> usize {
        self.visible.len()
    }

    /// Begins a window on every device.
    pub(super) fn begin(&self, name: &str) -> Result<(), wl_status> {
        self.monitor.begin_window(name).map_err(monitor_status)
    }

    /// Ends a window on every device and writes the reports; the window
    /// stays open when they cannot be written.
    pub(super) fn end(
        &self,
        name: &str,
        out: &mut OutArray<'_, wl_device_window_report>,
    ) -> Result<usize, wl_status> {
        if name.len() > WINDOW_NAME_CAPACITY {
            return Err(WL_ERR_NAME_TOO_LONG);
        }
        if !self.monitor.is_open(name) {
            return Err(meter_status(MeterError::NotOpen));
        }
        // Refuse before ending the window, so the window stays open.
        out.room_for(self.visible.len())?;
        let reports = self.monitor.end_window(name).map_err(monitor_status)?;
        let mut converted = Vec::with_capacity(reports.len());
        for (i, r) in reports.iter().enumerate() {
            converted.push(device_report(
                r,
                self.visible.get(i).and_then(Option::as_ref),
            )?);
        }
        out.room_for(converted.len())?;
        for (i, c) in converted.into_iter().enumerate() {
            out.write_sized(i, c)?;
        }
        Ok(reports.len())
    }

    /// Turns device reports into the MIG results the command would make of
    /// them and hands those to `check`: a GPU whose MIG instance this
    /// process sees is a MIG result of that instance; a GPU in MIG mode with
    /// no instance named is a MIG result without a profile; other GPUs are
    /// whole-GPU results.
    pub(super) fn mig_results(
        reports: InArray<'_, wl_device_window_report>,
        check: impl FnOnce(&[ResultRecord<'_>]) -> Result<(), wl_status>,
    ) -> Result<(), wl_status> {
        if reports.len() > WL_MIG_MAX_RESULTS {
            return Err(WL_ERR_TOO_MANY_RESULTS);
        }
        let mut copies = Vec::with_capacity(reports.len());
        for i in 0..reports.len() {
            copies.extend(reports.get(i)?);
        }
        let mut records = Vec::with_capacity(copies.len());
        for r in &copies {
            records.push(record(r)?);
        }
        check(&records)
    }
}

/// `None` for an empty text.
fn some(s: &str) -> Option<&str> {
    (!s.is_empty()).then_some(s)
}

/// The MIG result of one device report, its texts borrowed from it.
fn record(r: &wl_device_window_report) -> Result<ResultRecord<'_>, wl_status> {
    let name = buf_str(&r.name, WL_DEVICE_NAME_BUFFER)?;
    let uuid = buf_str(&r.uuid, WL_UUID_BUFFER)?;
    let (is_mig, gpu_uuid, parent, profile) = if r.visible_mig != 0 {
        (
            true,
            buf_str(&r.visible_mig_uuid, WL_UUID_BUFFER)?,
            some(uuid),
            some(buf_str(&r.visible_mig_profile, WL_PROFILE_BUFFER)?),
        )
    } else if r.window.is_mig != 0 {
        (
            true,
            buf_str(&r.window.device_uuid, WL_UUID_BUFFER)?,
            some(buf_str(&r.window.parent_uuid, WL_UUID_BUFFER)?),
            some(buf_str(&r.window.profile, WL_PROFILE_BUFFER)?),
        )
    } else if r.mig_enabled != 0 {
        // The program ran on some instance of this GPU, which one we cannot
        // tell: a MIG result without a profile, as the command makes it.
        (true, uuid, some(uuid), None)
    } else {
        (false, uuid, None, None)
    };
    Ok(ResultRecord {
        id: uuid,
        gpu_uuid,
        parent_gpu_uuid: parent,
        is_mig,
        profile,
        architecture: Architecture::from_nvml(r.architecture),
        gpu_model: name,
        energy_j: r.window.energy_j,
        start_s: r.window.start_ns as f64 * 1e-9,
        end_s: r.window.end_ns as f64 * 1e-9,
        activity: None,
    })
}

fn device_report(
    r: &DeviceWindowReport,
    visible: Option<&(String, Option<String>)>,
) -> Result<wl_device_window_report, wl_status> {
    let d = &r.device;
    let mut o = wl_device_window_report {
        device_index: d.index,
        architecture: d
            .architecture
            .unwrap_or(crate::mig::WL_ARCHITECTURE_UNKNOWN),
        has_energy_counter: u32::from(d.has_energy_counter),
        mig_enabled: u32::from(d.mig.as_ref().is_some_and(|m| m.current_enabled)),
        mig_instances: d
            .mig
            .as_ref()
            .map_or(0, |m| u32::try_from(m.instances.len()).unwrap_or(u32::MAX)),
        visible_mig: u32::from(visible.is_some()),
        has_last_error: u32::from(r.last_error.is_some()),
        rejected_samples: r.rejected_samples,
        window: window_report(&r.report)?,
        ..wl_device_window_report::defaults()
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
    const _: () = assert!(WL_SOURCE_BUFFER > 0 && WL_ERROR_BUFFER > 0);
    Ok(o)
}
