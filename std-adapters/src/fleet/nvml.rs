//! NVIDIA GPUs for the fleet poller: every GPU each poll, enumerated again
//! every [`FleetConfig::rescan`] and after any failure, with GPM SM activity
//! per GPU instance where the GPU has GPM (Hopper and later).
//!
//! GPM reports activity *between two samples*, so the sample of each GPU
//! instance is kept from one poll to the next. nvml-wrapper's
//! [`GpmSample`] borrows the [`nvml_wrapper::Nvml`] it came from, which
//! lives in the same struct; the samples are therefore kept as raw handles
//! (`into_handle`) and wrapped again for each call, and freed in `Drop`.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use nvml_wrapper::enums::gpm::GpmMetricId;
use nvml_wrapper::error::NvmlError;
use nvml_wrapper::gpm::{GpmSample, gpm_metrics_get};
use nvml_wrapper::{Device, Nvml};
use nvml_wrapper_sys::bindings::nvmlGpmSample_t;

use super::{FleetConfig, FleetSource, GpuReading, MigReading, Poll, ReadState};
use crate::sensors::nvml::NvmlSensor;
use crate::sensors::{DeviceInfo, Sensor, SensorError};

/// One GPU as the last enumeration found it.
#[derive(Debug, Clone)]
struct Known {
    info: DeviceInfo,
    gpm: bool,
}

/// A [`FleetSource`] reading every GPU NVML reports.
pub struct NvmlFleet {
    sensor: NvmlSensor,
    rescan_every: Duration,
    last_scan: Instant,
    rescan_now: bool,
    known: Vec<Known>,
    scan_errors: Vec<String>,
    /// The previous GPM sample of each (GPU UUID, GPU instance id).
    gpm: HashMap<(String, u32), nvmlGpmSample_t>,
}

impl std::fmt::Debug for NvmlFleet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NvmlFleet")
            .field("sensor", &self.sensor)
            .field("gpus", &self.known.len())
            .finish_non_exhaustive()
    }
}

// SAFETY: the raw GPM sample handles are owned by this struct alone and only
// used through `&mut self` (one thread at a time); NVML's own calls are
// thread-safe, and `NvmlSensor` is `Send`.
unsafe impl Send for NvmlFleet {}

impl NvmlFleet {
    /// Poll the GPUs of an opened sensor (its device list is the first
    /// enumeration).
    pub fn new(sensor: NvmlSensor, config: &FleetConfig) -> Self {
        let known = sensor
            .devices()
            .iter()
            .map(|info| Known {
                gpm: gpm_usable(&sensor, info.index),
                info: info.clone(),
            })
            .collect();
        NvmlFleet {
            sensor,
            rescan_every: config.rescan,
            last_scan: Instant::now(),
            rescan_now: false,
            known,
            scan_errors: Vec::new(),
            gpm: HashMap::new(),
        }
    }

    /// Enumerate the GPUs again: count, then each one's identity and MIG
    /// layout. A GPU that cannot be discovered is left out (it reads as
    /// absent, so lost) and the failure is reported with the next poll.
    fn rescan(&mut self) {
        self.last_scan = Instant::now();
        self.rescan_now = false;
        let count = match self.sensor.nvml().device_count() {
            Ok(n) => n,
            Err(e) => {
                self.scan_errors.push(format!("cannot count GPUs: {e}"));
                self.rescan_now = true;
                return;
            }
        };
        let mut known = Vec::with_capacity(count as usize);
        for index in 0..count {
            match self.sensor.discover_index(index) {
                Ok(info) => {
                    let gpm = self
                        .known
                        .iter()
                        .find(|k| k.info.uuid == info.uuid)
                        .map_or_else(|| gpm_usable(&self.sensor, index), |k| k.gpm);
                    known.push(Known { info, gpm });
                }
                Err(SensorError::DeviceLost { .. }) => {}
                Err(e) => {
                    self.scan_errors.push(e.to_string());
                    self.rescan_now = true;
                }
            }
        }
        self.known = known;
        // Samples of GPU instances that are gone are freed.
        let live: Vec<(String, u32)> = self
            .known
            .iter()
            .flat_map(|k| {
                let uuid = k.info.uuid.clone();
                instances(&k.info)
                    .iter()
                    .map(move |i| (uuid.clone(), i.gpu_instance_id))
                    .collect::<Vec<_>>()
            })
            .collect();
        let stale: Vec<(String, u32)> = self
            .gpm
            .keys()
            .filter(|k| !live.contains(k))
            .cloned()
            .collect();
        for k in stale {
            if let Some(h) = self.gpm.remove(&k) {
                self.free_sample(h);
            }
        }
    }

    fn free_sample(&self, handle: nvmlGpmSample_t) {
        free_sample(self.sensor.nvml(), handle);
    }
}

fn free_sample(nvml: &Nvml, handle: nvmlGpmSample_t) {
    // SAFETY: `handle` came from `into_handle` of a sample allocated by
    // this NVML and was removed from the map, so it is freed exactly once.
    drop(unsafe { GpmSample::from_handle(nvml, handle) });
}

/// SM activity (0–1) of GPU instance `gi` of `device` since the previous
/// call for the same (`uuid`, `gi`), whose sample `samples` keeps; `None`
/// on the first call or any failure.
fn activity(
    nvml: &Nvml,
    device: &Device<'_>,
    samples: &mut HashMap<(String, u32), nvmlGpmSample_t>,
    uuid: &str,
    gi: u32,
) -> Option<f64> {
    let new = device.gpm_mig_sample(gi).ok()?;
    let key = (uuid.to_string(), gi);
    let value = samples.get(&key).and_then(|&prev| {
        // SAFETY: `prev` is a live sample of this NVML owned by the map;
        // the temporary wrapper is turned back into a handle without being
        // dropped, so it is not freed here.
        let prev = unsafe { GpmSample::from_handle(nvml, prev) };
        let r = gpm_metrics_get(nvml, &prev, &new, &[GpmMetricId::SmUtil]);
        let _ = prev.into_handle();
        match r {
            Ok(v) => v
                .into_iter()
                .next()
                .and_then(Result::ok)
                .map(|m| (m.value / 100.0).clamp(0.0, 1.0)),
            Err(_) => None,
        }
    });
    if let Some(old) = samples.insert(key, new.into_handle()) {
        free_sample(nvml, old);
    }
    value
}

impl Drop for NvmlFleet {
    fn drop(&mut self) {
        let handles: Vec<nvmlGpmSample_t> = self.gpm.drain().map(|(_, h)| h).collect();
        for h in handles {
            self.free_sample(h);
        }
    }
}

fn instances(info: &DeviceInfo) -> &[crate::sensors::MigInstance] {
    match &info.mig {
        Some(m) if m.current_enabled => &m.instances,
        _ => &[],
    }
}

/// Whether GPM can be used on the GPU at `index`: the library has the
/// symbols (a sample is freed in nvml-wrapper's `Drop`, which panics without
/// `nvmlGpmSampleFree`) and the GPU says it is supported.
fn gpm_usable(sensor: &NvmlSensor, index: u32) -> bool {
    let lib = sensor.nvml().lib();
    lib.nvmlGpmSampleFree.is_ok()
        && lib.nvmlGpmSampleAlloc.is_ok()
        && lib.nvmlGpmMigSampleGet.is_ok()
        && lib.nvmlGpmMetricsGet.is_ok()
        && sensor
            .nvml()
            .device_by_index(index)
            .and_then(|d| d.gpm_support())
            .unwrap_or(false)
}

impl FleetSource for NvmlFleet {
    fn source(&self) -> &str {
        "nvml"
    }

    fn poll(&mut self) -> Poll {
        if self.rescan_now || self.last_scan.elapsed() >= self.rescan_every {
            self.rescan();
        }
        let mut gpus = Vec::with_capacity(self.known.len());
        let known = self.known.clone();
        for k in &known {
            let info = &k.info;
            let state = match self.sensor.read_index(info.index, info.has_energy_counter) {
                Ok(s) => ReadState::Read {
                    energy_mj: s.energy_mj,
                    power_mw: s.power_mw,
                },
                Err(NvmlError::GpuLost) => {
                    self.rescan_now = true;
                    ReadState::Lost
                }
                Err(_) => {
                    self.rescan_now = true;
                    ReadState::Failed
                }
            };
            let mut mig = Vec::new();
            // One GPM reading per GPU instance, shared by its compute instances.
            let mut by_gi: Vec<(u32, Option<f64>)> = Vec::new();
            let nvml = self.sensor.nvml();
            let device =
                (k.gpm && matches!(state, ReadState::Read { .. }) && !instances(info).is_empty())
                    .then(|| nvml.device_by_index(info.index).ok())
                    .flatten();
            for i in instances(info) {
                let gi = i.gpu_instance_id;
                let activity = match by_gi.iter().find(|(g, _)| *g == gi) {
                    Some(&(_, a)) => a,
                    None => {
                        let a = device
                            .as_ref()
                            .and_then(|d| activity(nvml, d, &mut self.gpm, &info.uuid, gi));
                        by_gi.push((gi, a));
                        a
                    }
                };
                mig.push(MigReading {
                    uuid: i.uuid.clone(),
                    profile: i.profile.clone(),
                    gpu_instance_id: i.gpu_instance_id,
                    compute_instance_id: i.compute_instance_id,
                    activity,
                });
            }
            gpus.push(GpuReading {
                uuid: info.uuid.clone(),
                name: info.name.clone(),
                architecture: info.architecture,
                state,
                mig,
                gpm: k.gpm,
            });
        }
        Poll {
            t_ns: self.sensor.now_ns(),
            gpus,
            rails: Vec::new(),
            errors: std::mem::take(&mut self.scan_errors),
        }
    }
}
