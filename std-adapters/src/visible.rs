//! Which physical GPUs and MIG instances a program can see, and so which
//! devices are measured for it.
//!
//! A CUDA program sees the devices `CUDA_VISIBLE_DEVICES` names: whole GPUs
//! by index or `GPU-…` UUID, MIG instances by `MIG-…` UUID. NVML measures
//! physical GPUs only, so every visible device resolves to the physical GPU
//! whose readings stand for it. [`plan`] turns that into the set measured:
//! each physical GPU once ([`MeasuredGpu`]), with the visible MIG instances
//! it covers listed, so two instances of one GPU are one measurement and
//! one result, never two copies of the same energy. [`VisibleSensor`]
//! presents exactly that set to a monitor.
//!
//! The command and the C ABI both measure through this module, so they
//! agree on what a measured GPU stands for. Resolution needs no NVML: it
//! works on the [`DeviceInfo`]s of any sensor (a replayed NVML trace too).

use wattledger_core::meter::Sample;
use wattledger_core::mig::{DeviceToken, classify_token};

use crate::sensors::{DeviceInfo, MigInstance, Sensor, SensorError};

/// The environment variable CUDA reads.
pub const CUDA_VISIBLE_DEVICES: &str = "CUDA_VISIBLE_DEVICES";

/// One device a CUDA program can see, resolved to the sensor device that measures it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VisibleDevice {
    /// The token as written in `CUDA_VISIBLE_DEVICES` (trimmed).
    pub token: String,
    /// Sensor index of the physical GPU whose power covers this device.
    pub device: u32,
    /// The MIG instance's `MIG-…` UUID when the token named one; its energy
    /// is the parent GPU's total, not the instance's.
    pub mig_uuid: Option<String>,
}

/// Why resolution stopped at a token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenProblem {
    /// Not an index, `GPU-…`, `MIG-…` or `MIG-GPU-…/gi/ci`
    /// ([`wattledger_core::mig::classify_token`] refused it).
    Malformed,
    /// No device matches (index out of range, unknown UUID).
    NoMatch,
    /// A UUID prefix matching more than one device.
    Ambiguous,
    /// The same GPU or MIG instance was already listed.
    Duplicate,
}

/// The token at which resolution stopped, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidToken {
    /// The token (trimmed).
    pub token: String,
    /// What is wrong with it.
    pub problem: TokenProblem,
}

/// The result of resolving `CUDA_VISIBLE_DEVICES`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct VisibleDevices {
    /// Devices visible to CUDA, in CUDA's order.
    pub visible: Vec<VisibleDevice>,
    /// The first invalid token; it and every token after it are ignored,
    /// as CUDA ignores them.
    pub stopped_at: Option<InvalidToken>,
}

impl VisibleDevices {
    /// Sensor indices of the physical GPUs to measure, each once, in order
    /// of first appearance. Two MIG instances of one GPU give one entry:
    /// measuring it twice would count its energy twice.
    pub fn parent_devices(&self) -> Vec<u32> {
        let mut out: Vec<u32> = Vec::new();
        for v in &self.visible {
            if !out.contains(&v.device) {
                out.push(v.device);
            }
        }
        out
    }
}

/// Resolve `CUDA_VISIBLE_DEVICES` against the devices of a sensor (for
/// NVML: the sensor's indices are NVML's).
///
/// `value` is the variable's value, `None` when it is unset (every device is
/// visible, no MIG instance is named). As CUDA does, tokens are separated by
/// commas and resolution stops at the first invalid token; unlike CUDA we
/// say which token and why ([`VisibleDevices::stopped_at`]). An empty value
/// hides every device.
///
/// - An index is the sensor's (NVML's) index. CUDA numbers devices
///   fastest-first unless `CUDA_DEVICE_ORDER=PCI_BUS_ID`; only then do the
///   two orders agree, so prefer UUIDs.
/// - `GPU-…` matches the one GPU whose UUID starts with it (ASCII case ignored).
/// - `MIG-…` matches one MIG instance by UUID prefix; `MIG-GPU-<uuid>/gi/ci`
///   matches by parent and instance ids. Either resolves to the parent GPU.
/// - A GPU or MIG instance named twice is [`TokenProblem::Duplicate`]. Two
///   different MIG instances of one GPU are both listed, with the same
///   `device`.
pub fn cuda_visible_devices(devices: &[DeviceInfo], value: Option<&str>) -> VisibleDevices {
    let Some(value) = value else {
        return VisibleDevices {
            visible: devices
                .iter()
                .map(|d| VisibleDevice {
                    token: d.index.to_string(),
                    device: d.index,
                    mig_uuid: None,
                })
                .collect(),
            stopped_at: None,
        };
    };
    let mut out = VisibleDevices::default();
    if value.trim().is_empty() {
        return out;
    }
    for raw in value.split(',') {
        let token = raw.trim().to_string();
        match resolve_token(devices, &token) {
            Ok((device, mig_uuid)) => {
                let duplicate = out.visible.iter().any(|v| match (&mig_uuid, &v.mig_uuid) {
                    (Some(a), Some(b)) => a == b,
                    (None, None) => v.device == device,
                    _ => false,
                });
                if duplicate {
                    out.stopped_at = Some(InvalidToken {
                        token,
                        problem: TokenProblem::Duplicate,
                    });
                    break;
                }
                out.visible.push(VisibleDevice {
                    token,
                    device,
                    mig_uuid,
                });
            }
            Err(problem) => {
                out.stopped_at = Some(InvalidToken { token, problem });
                break;
            }
        }
    }
    out
}

/// Read `CUDA_VISIBLE_DEVICES` from the environment and resolve it with
/// [`cuda_visible_devices`]. A value that is not UTF-8 stops at once as a
/// [`TokenProblem::Malformed`] token.
pub fn cuda_visible_devices_from_env(devices: &[DeviceInfo]) -> VisibleDevices {
    match std::env::var_os(CUDA_VISIBLE_DEVICES) {
        None => cuda_visible_devices(devices, None),
        Some(v) => match v.to_str() {
            Some(s) => cuda_visible_devices(devices, Some(s)),
            None => VisibleDevices {
                visible: Vec::new(),
                stopped_at: Some(InvalidToken {
                    token: v.to_string_lossy().into_owned(),
                    problem: TokenProblem::Malformed,
                }),
            },
        },
    }
}

/// The single item of `matches`, or the problem with it.
fn unique<T>(mut matches: impl Iterator<Item = T>) -> Result<T, TokenProblem> {
    match (matches.next(), matches.next()) {
        (Some(one), None) => Ok(one),
        (None, _) => Err(TokenProblem::NoMatch),
        (Some(_), Some(_)) => Err(TokenProblem::Ambiguous),
    }
}

fn resolve_token(
    devices: &[DeviceInfo],
    token: &str,
) -> Result<(u32, Option<String>), TokenProblem> {
    let instances = || {
        devices.iter().flat_map(|d| {
            d.mig
                .iter()
                .flat_map(|m| m.instances.iter())
                .map(move |i| (d.index, i))
        })
    };
    match classify_token(token).map_err(|_| TokenProblem::Malformed)? {
        DeviceToken::Index(i) => devices
            .iter()
            .find(|d| d.index == i)
            .map(|d| (d.index, None))
            .ok_or(TokenProblem::NoMatch),
        DeviceToken::Gpu(uuid) => {
            unique(devices.iter().filter(|d| uuid.matches(&d.uuid))).map(|d| (d.index, None))
        }
        DeviceToken::Mig(uuid) => unique(instances().filter(|(_, i)| uuid.matches(&i.uuid)))
            .map(|(d, i)| (d, Some(i.uuid.clone()))),
        DeviceToken::LegacyMig {
            gpu,
            gpu_instance: gpu_instance_id,
            compute_instance: compute_instance_id,
        } => {
            let parent = unique(devices.iter().filter(|d| gpu.matches(&d.uuid)))?;
            let instance = parent
                .mig
                .iter()
                .flat_map(|m| m.instances.iter())
                .find(|i| {
                    i.gpu_instance_id == gpu_instance_id
                        && i.compute_instance_id == compute_instance_id
                })
                .ok_or(TokenProblem::NoMatch)?;
            Ok((parent.index, Some(instance.uuid.clone())))
        }
    }
}

/// One physical device to measure, and what its readings stand for.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct MeasuredGpu {
    /// The sensor's index of the physical device.
    pub index: u32,
    /// The physical device, as its sensor describes it.
    pub device: DeviceInfo,
    /// The visible MIG instances of this GPU, in `CUDA_VISIBLE_DEVICES`
    /// order. Empty when the GPU itself is visible (or the source is not
    /// CUDA's). The GPU's energy covers all of them, counted once.
    pub mig_instances: Vec<MigInstance>,
}

impl MeasuredGpu {
    /// The device as a monitor presents it. With exactly one visible MIG
    /// instance that is the instance (its UUID, the parent's name followed
    /// by `MIG <profile>`), so the meter tags the window as the instance's;
    /// the energy is still the parent's. Otherwise the physical device.
    pub fn presented(&self) -> DeviceInfo {
        match self.mig_instances.as_slice() {
            [one] => DeviceInfo {
                uuid: one.uuid.clone(),
                name: format!(
                    "{} MIG {}",
                    self.device.name,
                    one.profile.as_deref().unwrap_or("(profile unknown)")
                ),
                ..self.device.clone()
            },
            _ => self.device.clone(),
        }
    }
}

/// What is measured for a program: each physical device once.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Plan {
    /// The devices to measure, in order of first appearance.
    pub gpus: Vec<MeasuredGpu>,
    /// The `CUDA_VISIBLE_DEVICES` token at which CUDA stops reading, if any
    /// (it and every token after it are ignored).
    pub stopped_at: Option<InvalidToken>,
}

/// The devices of `sensor` a program sees when `CUDA_VISIBLE_DEVICES` is
/// `cuda_visible_devices` (`None`: unset), each physical GPU once.
///
/// The variable applies to NVML's GPUs only (a sensor whose
/// [`Sensor::source`] is `"nvml"`); Jetson rails and replayed traces are not
/// CUDA devices, so every device of theirs is measured. When the variable
/// hides every GPU, [`Plan::gpus`] is empty: the caller says so.
pub fn plan(sensor: &dyn Sensor, cuda_visible_devices: Option<&str>) -> Plan {
    if sensor.source() != "nvml" {
        return every_device(sensor.devices());
    }
    let devices = sensor.devices();
    from_visible(
        devices,
        self::cuda_visible_devices(devices, cuda_visible_devices),
    )
}

/// [`plan`] with `CUDA_VISIBLE_DEVICES` read from the environment (a value
/// that is not UTF-8 hides every GPU, as [`cuda_visible_devices_from_env`]
/// says).
pub fn plan_from_env(sensor: &dyn Sensor) -> Plan {
    if sensor.source() != "nvml" {
        return every_device(sensor.devices());
    }
    let devices = sensor.devices();
    from_visible(devices, cuda_visible_devices_from_env(devices))
}

fn every_device(devices: &[DeviceInfo]) -> Plan {
    Plan {
        gpus: devices
            .iter()
            .map(|d| MeasuredGpu {
                index: d.index,
                device: d.clone(),
                mig_instances: Vec::new(),
            })
            .collect(),
        stopped_at: None,
    }
}

fn from_visible(devices: &[DeviceInfo], visible: VisibleDevices) -> Plan {
    let mut gpus = Vec::new();
    for index in visible.parent_devices() {
        let Some(device) = devices.iter().find(|d| d.index == index) else {
            continue;
        };
        let known = device.mig.iter().flat_map(|m| m.instances.iter());
        let mig_instances = visible
            .visible
            .iter()
            .filter(|v| v.device == index)
            .filter_map(|v| v.mig_uuid.as_deref())
            .filter_map(|uuid| known.clone().find(|i| i.uuid == uuid).cloned())
            .collect();
        gpus.push(MeasuredGpu {
            index,
            device: device.clone(),
            mig_instances,
        });
    }
    Plan {
        gpus,
        stopped_at: visible.stopped_at,
    }
}

/// A sensor restricted to the devices of a [`Plan`]: each presented as
/// [`MeasuredGpu::presented`] says and numbered `0..` in plan order, each
/// telling what it stands for through [`Sensor::measures`].
pub struct VisibleSensor {
    inner: Box<dyn Sensor>,
    gpus: Vec<MeasuredGpu>,
    devices: Vec<DeviceInfo>,
}

impl std::fmt::Debug for VisibleSensor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VisibleSensor")
            .field("source", &self.inner.source())
            .field("gpus", &self.gpus)
            .finish_non_exhaustive()
    }
}

impl VisibleSensor {
    /// `inner` showing only `gpus` (from [`plan`] over the same sensor).
    pub fn new(inner: Box<dyn Sensor>, gpus: Vec<MeasuredGpu>) -> Self {
        let devices = gpus
            .iter()
            .enumerate()
            .map(|(i, g)| DeviceInfo {
                index: u32::try_from(i).unwrap_or(u32::MAX),
                ..g.presented()
            })
            .collect();
        VisibleSensor {
            inner,
            gpus,
            devices,
        }
    }

    /// The measured devices, in the order (and so the index) presented.
    pub fn gpus(&self) -> &[MeasuredGpu] {
        &self.gpus
    }

    fn gpu(&self, device: u32) -> Result<&MeasuredGpu, SensorError> {
        self.gpus
            .get(device as usize)
            .ok_or(SensorError::NoSuchDevice { device })
    }
}

impl Sensor for VisibleSensor {
    fn source(&self) -> &str {
        self.inner.source()
    }

    fn devices(&self) -> &[DeviceInfo] {
        &self.devices
    }

    fn sample(&mut self, device: u32) -> Result<Sample, SensorError> {
        let inner = self.gpu(device)?.index;
        self.inner.sample(inner)
    }

    fn update_period_ns(&self, device: u32) -> Option<u64> {
        let inner = self.gpu(device).ok()?.index;
        self.inner.update_period_ns(inner)
    }

    fn measures(&self, device: u32) -> Option<&MeasuredGpu> {
        self.gpu(device).ok()
    }

    fn now_ns(&self) -> Option<u64> {
        self.inner.now_ns()
    }

    fn clock_unix_ns(&self) -> Option<u64> {
        self.inner.clock_unix_ns()
    }
}
