//! The monitor with `std`: NVML or a replayed trace behind the same
//! `visible` plan as the command (each physical GPU once, whatever
//! `CUDA_VISIBLE_DEVICES` names), a polling thread, and MIG warnings through
//! `mig_warnings`, the command's one path from window reports to the rules.

use core::ffi::c_char;
use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use wattledger_core::meter::{MeterError, WINDOW_NAME_CAPACITY};
use wattledger_core::mig::ResultRecord;
use wattledger_std::mig_warnings;
use wattledger_std::monitor::{DeviceWindowReport, Monitor, MonitorError};
use wattledger_std::sensors::nvml::{NvmlOptions, NvmlSensor};
use wattledger_std::sensors::replay::ReplaySensor;
use wattledger_std::sensors::{Sensor, SensorError};
use wattledger_std::visible::{self, VisibleSensor};

use super::wl_device_window_report;
use crate::handle::{Kind, Object};
use crate::meter::{meter_status, window_report};
use crate::ptr::{OutArray, Versioned, put_str};
use crate::status::*;

/// What a monitor handle refers to.
pub(crate) struct MonitorObj {
    monitor: Monitor,
    devices: usize,
    /// The reports of the latest end of each window, by name: what
    /// [`MonitorObj::mig_results`] judges.
    ended: Mutex<HashMap<String, Vec<DeviceWindowReport>>>,
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
    /// Monitors what a program sees of `sensor`, as the command does.
    fn with(sensor: Box<dyn Sensor>) -> Result<MonitorObj, wl_status> {
        let plan = visible::plan_from_env(sensor.as_ref());
        if plan.gpus.is_empty() {
            // No device, or CUDA_VISIBLE_DEVICES hides every GPU.
            return Err(WL_ERR_NO_DEVICES);
        }
        let visible: Box<dyn Sensor> = Box::new(VisibleSensor::new(sensor, plan.gpus));
        let monitor = Monitor::new(vec![visible]).map_err(monitor_status)?;
        Ok(MonitorObj {
            devices: monitor.devices().len(),
            monitor,
            ended: Mutex::new(HashMap::new()),
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
        self.devices
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
        out.room_for(self.devices)?;
        let reports = self.monitor.end_window(name).map_err(monitor_status)?;
        let mut converted = Vec::with_capacity(reports.len());
        for r in &reports {
            converted.push(device_report(r)?);
        }
        out.room_for(converted.len())?;
        for (i, c) in converted.into_iter().enumerate() {
            out.write_sized(i, c)?;
        }
        let n = reports.len();
        self.ended
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(name.to_owned(), reports);
        Ok(n)
    }

    /// Hands the MIG results of the latest end of window `name` to `check`,
    /// made by `mig_warnings` exactly as the command makes them.
    ///
    /// # Errors
    /// [`WL_ERR_NAME_TOO_LONG`], [`WL_ERR_NO_SUCH_WINDOW`] (no window of that
    /// name has ended), then whatever `check` says.
    pub(super) fn mig_results(
        &self,
        name: &str,
        check: impl FnOnce(&[ResultRecord<'_>]) -> Result<(), wl_status>,
    ) -> Result<(), wl_status> {
        if name.len() > WINDOW_NAME_CAPACITY {
            return Err(WL_ERR_NAME_TOO_LONG);
        }
        let ended = self.ended.lock().unwrap_or_else(PoisonError::into_inner);
        let reports = ended.get(name).ok_or(WL_ERR_NO_SUCH_WINDOW)?;
        mig_warnings::with_results(reports, check)
    }
}

/// The C report of one device: the physical GPU and what of it the program
/// sees (its visible MIG instances), then the window.
fn device_report(r: &DeviceWindowReport) -> Result<wl_device_window_report, wl_status> {
    let physical = r.measured.as_ref().map_or(&r.device, |m| &m.device);
    let instances = r
        .measured
        .as_ref()
        .map_or(&[][..], |m| &m.mig_instances[..]);
    let mut o = wl_device_window_report {
        device_index: r.device.index,
        architecture: physical
            .architecture
            .unwrap_or(crate::mig::WL_ARCHITECTURE_UNKNOWN),
        has_energy_counter: u32::from(physical.has_energy_counter),
        mig_enabled: u32::from(physical.mig.as_ref().is_some_and(|m| m.current_enabled)),
        mig_instances: physical
            .mig
            .as_ref()
            .map_or(0, |m| u32::try_from(m.instances.len()).unwrap_or(u32::MAX)),
        visible_mig: u32::try_from(instances.len()).unwrap_or(u32::MAX),
        has_last_error: u32::from(r.last_error.is_some()),
        rejected_samples: r.rejected_samples,
        window: window_report(&r.report)?,
        ..wl_device_window_report::defaults()
    };
    o.name_truncated = u32::from(put_cut(&mut o.name, &physical.name));
    put_str(&mut o.source, &r.source)?;
    put_str(&mut o.uuid, &physical.uuid)?;
    if let [one] = instances {
        put_str(&mut o.visible_mig_uuid, &one.uuid)?;
        put_str(
            &mut o.visible_mig_profile,
            one.profile.as_deref().unwrap_or(""),
        )?;
    }
    if let Some(e) = &r.last_error {
        put_cut(&mut o.last_error, e);
    }
    Ok(o)
}
