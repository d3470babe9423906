//! NVIDIA GPUs through NVML (`libnvidia-ml`), loaded at run time by nvml-wrapper.
//!
//! The library is opened when an [`NvmlSensor`] is created, never at link
//! time, so the `wattledger` binary starts on machines without a driver and
//! can say what is missing instead of failing to load.
//!
//! Which library file is opened, first match wins:
//! 1. [`NvmlOptions::lib_path`], set through the API;
//! 2. the environment variable [`LIB_PATH_ENV`] (`WATTLEDGER_NVML_LIB`), when
//!    the options come from [`NvmlOptions::from_env`] (as in [`NvmlSensor::from_env`]);
//! 3. [`DEFAULT_LIB`] (`libnvidia-ml.so.1`), looked up by the dynamic loader.
//!
//! NVML reports power and energy for the physical GPU only. MIG instances are
//! listed in [`DeviceInfo::mig`] of their parent; a measurement taken for a
//! program running on a MIG instance is the parent's (see
//! [`crate::visible`], which maps `CUDA_VISIBLE_DEVICES` tokens to the
//! physical GPUs that measure them).

use std::ffi::OsStr;
use std::os::raw::c_uint;
use std::path::{Path, PathBuf};
use std::time::Instant;

use nvml_wrapper::enums::device::DeviceArchitecture;
use nvml_wrapper::error::{NvmlError, nvml_try};
use nvml_wrapper::{Device, Nvml};
use wattledger_core::meter::Sample;
use wattledger_core::mig::Profile;

use crate::sensors::{DeviceInfo, MigInfo, MigInstance, Sensor, SensorError};
use crate::visible::{VisibleDevices, cuda_visible_devices};

/// Environment variable naming the NVML library file to load.
pub const LIB_PATH_ENV: &str = "WATTLEDGER_NVML_LIB";

/// The library name the dynamic loader is asked for when no path is given.
///
/// The driver installs `libnvidia-ml.so.1`; the unversioned `libnvidia-ml.so`
/// only comes with development packages, so the versioned name is the one
/// that works on a bare driver install.
pub const DEFAULT_LIB: &str = "libnvidia-ml.so.1";

/// Refresh period assumed for GPUs with an energy counter (Volta and later): 100 ms.
///
/// NVIDIA documents the counter as cumulative energy "since the driver was
/// last reloaded" without a refresh rate; measurements on V100, A100 and H100
/// (and tools built on NVML, e.g. PETSc's GPU energy logging) find it updated
/// every 20–100 ms depending on the GPU. We take the slow end: a window
/// shorter than 100 ms may see no counter update at all, and the meter flags
/// such windows. Polling faster than this only repeats the same value.
pub const COUNTER_UPDATE_PERIOD_NS: u64 = 100_000_000;

/// Poll period for GPUs without an energy counter (before Volta): 20 ms.
///
/// On these GPUs `nvmlDeviceGetPowerUsage` is an instantaneous reading
/// (nvidia-smi's documentation of `power.draw`), refreshed at the fast end of
/// the same 20–100 ms range. Energy then comes from integrating polled power,
/// so the poller should sample as fast as the reading changes; faster polling
/// adds cost without new information.
pub const POWER_ONLY_UPDATE_PERIOD_NS: u64 = 20_000_000;

/// The hint given whenever NVML cannot be loaded.
const LOAD_HINT: &str = "install the NVIDIA driver (it provides libnvidia-ml.so.1), \
or set WATTLEDGER_NVML_LIB to the full path of libnvidia-ml.so.1, \
or measure another way with `--source jetson` or `--source replay`";

/// How to open NVML.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NvmlOptions {
    /// Library file to load; `None` asks the dynamic loader for [`DEFAULT_LIB`].
    pub lib_path: Option<PathBuf>,
}

impl NvmlOptions {
    /// Options with the library path taken from [`LIB_PATH_ENV`], if it is set and not empty.
    pub fn from_env() -> Self {
        let lib_path = std::env::var_os(LIB_PATH_ENV)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from);
        NvmlOptions { lib_path }
    }

    /// These options with `path` as the library file (overrides the environment).
    pub fn lib_path(mut self, path: impl Into<PathBuf>) -> Self {
        self.lib_path = Some(path.into());
        self
    }
}

/// A [`Sensor`] reading NVIDIA GPUs through NVML.
///
/// Device indices are NVML's. Samples are stamped in nanoseconds since the
/// sensor was created (a monotonic [`Instant`] taken before NVML is
/// initialised). A GPU that NVML reports lost (`NVML_ERROR_GPU_IS_LOST`) is
/// remembered: every later [`Sensor::sample`] of it returns
/// [`SensorError::DeviceLost`] without calling NVML again.
pub struct NvmlSensor {
    nvml: Nvml,
    lib: String,
    origin: Instant,
    devices: Vec<DeviceInfo>,
    lost: Vec<bool>,
}

impl std::fmt::Debug for NvmlSensor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NvmlSensor")
            .field("lib", &self.lib)
            .field("devices", &self.devices)
            .field("lost", &self.lost)
            .finish_non_exhaustive()
    }
}

impl NvmlSensor {
    /// Open NVML as `options` say and discover every GPU.
    ///
    /// # Errors
    /// - [`SensorError::Unavailable`] when the library cannot be loaded or
    ///   initialised (no driver, wrong path, no permission), or when it lacks
    ///   `nvmlShutdown` (it cannot be a working NVML); the hint says what to do.
    /// - [`SensorError::NoDevices`] when NVML works and reports no GPU.
    /// - [`SensorError::DeviceLost`] when a GPU is lost during discovery.
    /// - [`SensorError::Other`] when NVML fails to give a GPU's name or UUID.
    pub fn open(options: &NvmlOptions) -> Result<Self, SensorError> {
        let origin = Instant::now();
        let lib = options
            .lib_path
            .as_deref()
            .map(|p| p.display().to_string())
            .unwrap_or_else(|| DEFAULT_LIB.to_string());
        let path: &OsStr = options
            .lib_path
            .as_deref()
            .map(Path::as_os_str)
            .unwrap_or_else(|| OsStr::new(DEFAULT_LIB));
        let nvml = Nvml::builder().lib_path(path).init().map_err(|e| {
            let hint = match e {
                NvmlError::NoPermission => format!(
                    "the current user may not talk to the NVIDIA driver (check the permissions of /dev/nvidia*); otherwise {LOAD_HINT}"
                ),
                _ => LOAD_HINT.to_string(),
            };
            SensorError::Unavailable {
                what: format!("NVML ({lib}: {e})"),
                hint,
            }
        })?;
        // nvml-wrapper's Drop calls nvmlShutdown through a method that panics
        // when the symbol is missing. A library without it is not NVML; keep
        // it loaded forever rather than risk that panic.
        if nvml.lib().nvmlShutdown.is_err() {
            std::mem::forget(nvml);
            return Err(SensorError::Unavailable {
                what: format!("NVML ({lib} does not export nvmlShutdown)"),
                hint: LOAD_HINT.to_string(),
            });
        }
        let count = nvml.device_count().map_err(|e| SensorError::Unavailable {
            what: format!("NVML ({lib}: cannot count GPUs: {e})"),
            hint: LOAD_HINT.to_string(),
        })?;
        if count == 0 {
            return Err(SensorError::NoDevices {
                what: format!("NVML (from {lib})"),
                hint: "check that `nvidia-smi` lists a GPU (in a container, start it with GPU access, \
e.g. `--gpus all`), or measure another way with `--source jetson` or `--source replay`"
                    .to_string(),
            });
        }
        let mut devices = Vec::new();
        for index in 0..count {
            devices.push(discover(&nvml, index)?);
        }
        let lost = vec![false; devices.len()];
        Ok(NvmlSensor {
            nvml,
            lib,
            origin,
            devices,
            lost,
        })
    }

    /// Open NVML from the library named by [`LIB_PATH_ENV`], or [`DEFAULT_LIB`].
    ///
    /// # Errors
    /// As [`NvmlSensor::open`].
    pub fn from_env() -> Result<Self, SensorError> {
        Self::open(&NvmlOptions::from_env())
    }

    /// Open NVML from the library file at `path` (the environment is not read).
    ///
    /// # Errors
    /// As [`NvmlSensor::open`].
    pub fn with_lib_path(path: impl Into<PathBuf>) -> Result<Self, SensorError> {
        Self::open(&NvmlOptions::default().lib_path(path))
    }

    /// The library that was loaded, as it was named (path or [`DEFAULT_LIB`]).
    pub fn library(&self) -> &str {
        &self.lib
    }

    /// The loaded NVML, for readers that need calls this sensor does not
    /// make (the fleet poller's re-enumeration and GPM activity).
    pub fn nvml(&self) -> &Nvml {
        &self.nvml
    }

    /// Read the GPU at NVML index `index` now, as [`Sensor::sample`] does,
    /// but without this sensor's fixed device list and lost flags: for a
    /// reader that enumerates the GPUs again while it runs.
    ///
    /// # Errors
    /// NVML's error, as it reported it.
    pub fn read_index(&self, index: u32, has_counter: bool) -> Result<Sample, NvmlError> {
        read_device(&self.nvml, index, has_counter, &self.origin)
    }

    /// Discover the GPU at NVML index `index` now (name, UUID, architecture,
    /// energy counter, MIG instances), as [`NvmlSensor::open`] does.
    ///
    /// # Errors
    /// As [`NvmlSensor::open`] for one GPU.
    pub fn discover_index(&self, index: u32) -> Result<DeviceInfo, SensorError> {
        discover(&self.nvml, index)
    }

    /// Nanoseconds since this sensor was created, on the clock its samples use.
    pub fn now_ns(&self) -> u64 {
        u64::try_from(self.origin.elapsed().as_nanos()).unwrap_or(u64::MAX)
    }

    /// The devices visible to a CUDA program given `cuda_visible_devices`
    /// (the value of `CUDA_VISIBLE_DEVICES`, `None` when unset); see
    /// [`cuda_visible_devices`].
    pub fn visible_devices(&self, value: Option<&str>) -> VisibleDevices {
        cuda_visible_devices(&self.devices, value)
    }

    fn lost_error(&mut self, device: u32, e: NvmlError) -> SensorError {
        if matches!(e, NvmlError::GpuLost) {
            if let Some(flag) = self.lost.get_mut(device as usize) {
                *flag = true;
            }
            SensorError::DeviceLost { device }
        } else {
            SensorError::Other(format!("NVML device {device}: {e}"))
        }
    }
}

impl Sensor for NvmlSensor {
    fn now_ns(&self) -> Option<u64> {
        Some(NvmlSensor::now_ns(self))
    }

    fn source(&self) -> &str {
        "nvml"
    }

    fn devices(&self) -> &[DeviceInfo] {
        &self.devices
    }

    /// Read `device` now.
    ///
    /// With an energy counter the sample has the counter (mJ) and, when NVML
    /// gives it, the power (mW); the timestamp is taken right after the
    /// counter read, because the counter is what the meter integrates.
    /// Without a counter the sample has power only, stamped right after it.
    ///
    /// # Errors
    /// [`SensorError::NoSuchDevice`] for an index the sensor does not have;
    /// [`SensorError::DeviceLost`] when the GPU is lost (now or earlier);
    /// [`SensorError::Other`] for any other NVML failure.
    fn sample(&mut self, device: u32) -> Result<Sample, SensorError> {
        let (has_counter, lost) = match (
            self.devices.get(device as usize),
            self.lost.get(device as usize),
        ) {
            (Some(info), Some(lost)) => (info.has_energy_counter, *lost),
            _ => return Err(SensorError::NoSuchDevice { device }),
        };
        if lost {
            return Err(SensorError::DeviceLost { device });
        }
        let reading = read_device(&self.nvml, device, has_counter, &self.origin);
        reading.map_err(|e| self.lost_error(device, e))
    }

    /// [`COUNTER_UPDATE_PERIOD_NS`] for GPUs with an energy counter,
    /// [`POWER_ONLY_UPDATE_PERIOD_NS`] for the others, `None` for an unknown index.
    fn update_period_ns(&self, device: u32) -> Option<u64> {
        self.devices.get(device as usize).map(|d| {
            if d.has_energy_counter {
                COUNTER_UPDATE_PERIOD_NS
            } else {
                POWER_ONLY_UPDATE_PERIOD_NS
            }
        })
    }
}

fn elapsed_ns(origin: &Instant) -> u64 {
    u64::try_from(origin.elapsed().as_nanos()).unwrap_or(u64::MAX)
}

fn read_device(
    nvml: &Nvml,
    index: u32,
    has_counter: bool,
    origin: &Instant,
) -> Result<Sample, NvmlError> {
    let device = nvml.device_by_index(index)?;
    if has_counter {
        let energy = device.total_energy_consumption()?;
        let t_ns = elapsed_ns(origin);
        let power_mw = optional(device.power_usage())?;
        Ok(Sample {
            t_ns,
            energy_mj: Some(energy),
            power_mw,
            gated_units: None,
        })
    } else {
        let power = device.power_usage()?;
        let t_ns = elapsed_ns(origin);
        Ok(Sample {
            t_ns,
            energy_mj: None,
            power_mw: Some(power),
            gated_units: None,
        })
    }
}

/// `Ok(None)` for a feature the device does not have; a lost GPU and other
/// failures stay errors.
fn optional<T>(r: Result<T, NvmlError>) -> Result<Option<T>, NvmlError> {
    match r {
        Ok(v) => Ok(Some(v)),
        Err(NvmlError::NotSupported) => Ok(None),
        Err(e) => Err(e),
    }
}

fn discovery_error(index: u32, what: &str, e: NvmlError) -> SensorError {
    if matches!(e, NvmlError::GpuLost) {
        SensorError::DeviceLost { device: index }
    } else {
        SensorError::Other(format!("NVML device {index}: cannot read its {what}: {e}"))
    }
}

/// Like [`optional`] but any failure other than a lost GPU also reads as
/// "unknown": discovery should not fail over a detail.
fn detail<T>(index: u32, r: Result<T, NvmlError>) -> Result<Option<T>, SensorError> {
    match r {
        Ok(v) => Ok(Some(v)),
        Err(NvmlError::GpuLost) => Err(SensorError::DeviceLost { device: index }),
        Err(_) => Ok(None),
    }
}

fn discover(nvml: &Nvml, index: u32) -> Result<DeviceInfo, SensorError> {
    let device = nvml
        .device_by_index(index)
        .map_err(|e| discovery_error(index, "handle", e))?;
    let name = device
        .name()
        .map_err(|e| discovery_error(index, "name", e))?;
    let uuid = device
        .uuid()
        .map_err(|e| discovery_error(index, "UUID", e))?;
    let architecture = match device.architecture() {
        Ok(DeviceArchitecture::Unknown) => None,
        Ok(a) => Some(a.as_c()),
        // A number newer than nvml-wrapper knows is still NVML's number.
        Err(NvmlError::UnexpectedVariant(n)) => Some(n),
        Err(e) => detail(index, Err::<u32, _>(e))?,
    };
    let pci_device_id = detail(index, device.pci_info())?.map(|p| (p.pci_device_id >> 16) as u16);
    // Probe the counter rather than trusting the architecture: NVML says
    // NOT_SUPPORTED exactly when the counter is missing.
    let has_energy_counter = detail(index, device.total_energy_consumption())?.is_some();
    let mig = discover_mig(&device, index, &uuid)?;
    Ok(DeviceInfo {
        index,
        name,
        uuid,
        architecture,
        pci_device_id,
        has_energy_counter,
        mig,
        role: None,
    })
}

fn discover_mig(
    device: &Device<'_>,
    index: u32,
    parent_uuid: &str,
) -> Result<Option<MigInfo>, SensorError> {
    let Some(mode) = detail(index, device.mig_mode())? else {
        return Ok(None);
    };
    let mut info = MigInfo {
        current_enabled: mode.current == 1,
        pending_enabled: mode.pending == 1,
        instances: Vec::new(),
    };
    if !info.current_enabled {
        return Ok(Some(info));
    }
    let max = detail(index, device.mig_device_count())?.unwrap_or(0);
    for slot in 0..max {
        // Empty slots answer NOT_FOUND (or INVALID_ARGUMENT on some drivers).
        let mig = match device.mig_device_by_index(slot) {
            Ok(m) => m,
            Err(NvmlError::GpuLost) => return Err(SensorError::DeviceLost { device: index }),
            Err(_) => continue,
        };
        let uuid = mig
            .uuid()
            .map_err(|e| discovery_error(index, "MIG instance UUID", e))?;
        let name = detail(index, mig.name())?;
        let parent = match mig.mig_parent_device() {
            Ok(p) => detail(index, p.uuid())?,
            Err(NvmlError::GpuLost) => return Err(SensorError::DeviceLost { device: index }),
            Err(_) => None,
        };
        let gpu_instance_id = instance_id(device, &mig, InstanceKind::Gpu)
            .map_err(|e| discovery_error(index, "GPU instance id", e))?;
        let compute_instance_id = instance_id(device, &mig, InstanceKind::Compute)
            .map_err(|e| discovery_error(index, "compute instance id", e))?;
        info.instances.push(MigInstance {
            uuid,
            parent_uuid: parent.unwrap_or_else(|| parent_uuid.to_string()),
            profile: name
                .as_deref()
                .and_then(profile_from_name)
                .map(str::to_string),
            gpu_instance_id,
            compute_instance_id,
        });
    }
    Ok(Some(info))
}

#[derive(Clone, Copy)]
enum InstanceKind {
    Gpu,
    Compute,
}

/// GPU or compute instance id of a MIG device handle.
///
/// nvml-wrapper 0.13 has no safe method for these two NVML calls, so they go
/// through the raw function pointers it loaded.
fn instance_id(
    parent: &Device<'_>,
    mig: &Device<'_>,
    kind: InstanceKind,
) -> Result<u32, NvmlError> {
    let lib = parent.nvml().lib();
    let sym = match kind {
        InstanceKind::Gpu => lib.nvmlDeviceGetGpuInstanceId.as_ref(),
        InstanceKind::Compute => lib.nvmlDeviceGetComputeInstanceId.as_ref(),
    }
    .map_err(|e| NvmlError::FailedToLoadSymbol(e.to_string()))?;
    let mut id: c_uint = 0;
    // SAFETY: `sym` was resolved from the loaded NVML with the prototype
    // `nvmlReturn_t (nvmlDevice_t, unsigned int *)`; the handle comes from
    // NVML and lives as long as the library (`mig` borrows the `Nvml`); `id`
    // is a valid, writable `unsigned int` for the duration of the call.
    let code = unsafe { sym(mig.handle(), &mut id) };
    nvml_try(code)?;
    Ok(id)
}

/// The MIG profile named at the end of a MIG device's NVML name.
///
/// NVML names a MIG device after its parent and profile, e.g.
/// `"NVIDIA A100-SXM4-40GB MIG 3g.20gb"` or `"… MIG 1c.3g.20gb"`; we take the
/// word after the last `" MIG "` when it follows the profile grammar
/// (`[<c>c.]<g>g.<mem>gb`, optionally `+attr[,attr]` or `-attr`). Anything
/// else gives `None`: a guess from memory size would be wrong as often as
/// not, since NVML reports MiB that do not round to the profile's GB.
pub fn profile_from_name(name: &str) -> Option<&str> {
    let at = name.rfind(" MIG ")?;
    let candidate = name.get(at + " MIG ".len()..)?.trim();
    is_profile(candidate).then_some(candidate)
}

/// Whether `s` is a MIG profile name with at least one GPU slice, by the
/// core's parser (the grammar of NVIDIA's go-nvlib).
fn is_profile(s: &str) -> bool {
    Profile::parse(s).is_ok_and(|p| p.gpu_slices() > 0 && p.compute_slices() > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profiles_are_read_from_mig_device_names() {
        assert_eq!(
            profile_from_name("NVIDIA A100-SXM4-40GB MIG 3g.20gb"),
            Some("3g.20gb")
        );
        assert_eq!(
            profile_from_name("NVIDIA H100 80GB HBM3 MIG 1c.3g.40gb"),
            Some("1c.3g.40gb")
        );
        assert_eq!(
            profile_from_name("NVIDIA A100-SXM4-40GB MIG 1g.5gb+me"),
            Some("1g.5gb+me")
        );
        assert_eq!(
            profile_from_name("NVIDIA H200 MIG 1g.18gb-me"),
            Some("1g.18gb-me")
        );
        // Not MIG names, or not profiles.
        assert_eq!(profile_from_name("NVIDIA A100-SXM4-40GB"), None);
        assert_eq!(profile_from_name("NVIDIA A100 MIG 3g.20"), None);
        assert_eq!(profile_from_name("NVIDIA A100 MIG 0g.20gb"), None);
        assert_eq!(profile_from_name("NVIDIA A100 MIG 3g.20gb+"), None);
        assert_eq!(profile_from_name("NVIDIA A100 MIG g.20gb"), None);
    }
}
