//! Sensors: where readings come from.
//!
//! Every source implements [`Sensor`] and hands out
//! [`wattledger_core::meter::Sample`]s: [`nvml`] (NVIDIA GPUs, behind the
//! `nvml` feature), [`jetson`] (INA3221 power rails under sysfs) and
//! [`replay`] (a recorded `wattledger-trace/1` file). Nothing here decides
//! which devices a program can see ([`crate::visible`]) or writes results
//! ([`crate::exporters`]).

pub mod jetson;
#[cfg(feature = "nvml")]
pub mod nvml;
pub mod replay;

use std::fmt;
use wattledger_core::meter::Sample;

use crate::visible::MeasuredGpu;

/// What a sensor knows about one device it can read.
#[derive(Debug, Clone, PartialEq, Default, serde::Serialize, serde::Deserialize)]
pub struct DeviceInfo {
    /// The sensor's own index for the device (NVML index, rail set number, trace device).
    pub index: u32,
    /// Marketing name as the driver reports it ("NVIDIA H100 80GB HBM3").
    pub name: String,
    /// Stable identifier: `GPU-…` for a whole GPU, `MIG-…` for a MIG instance.
    pub uuid: String,
    /// NVML architecture number (`AMPERE = 7`, `HOPPER = 9`, `BLACKWELL = 10`), if known.
    pub architecture: Option<u32>,
    /// PCI device id (upper 16 bits of NVML's `pciDeviceId`), if known.
    pub pci_device_id: Option<u16>,
    /// Whether the device has a cumulative energy counter (NVML: Volta and later).
    pub has_energy_counter: bool,
    /// MIG state of this device, when the source can tell.
    pub mig: Option<MigInfo>,
    /// Where the device sits in its board's rail tree, for sources whose
    /// devices nest (Jetson rails); `None` for a device that stands alone
    /// (a GPU). Absent from traces written before it existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<DeviceRole>,
}

/// A device's place in a tree of nested power rails.
///
/// A report's total adds the `total` devices only: a `part` is already
/// inside a total (the Orin Nano's `VDD_CPU_GPU_CV` inside `VDD_IN`), so
/// adding it again would count it twice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DeviceRole {
    /// The whole board: its input rail, or the sum of its top-level rails.
    Total,
    /// A rail inside a total, reported on its own and never added to it.
    Part,
}

impl DeviceRole {
    /// `"total"` or `"part"`, as reports and Prometheus labels write it.
    pub const fn as_str(self) -> &'static str {
        match self {
            DeviceRole::Total => "total",
            DeviceRole::Part => "part",
        }
    }
}

/// The MIG state of a physical GPU.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct MigInfo {
    /// MIG mode now in force.
    pub current_enabled: bool,
    /// MIG mode that takes effect after the next GPU reset.
    pub pending_enabled: bool,
    /// The MIG instances that exist on this GPU.
    pub instances: Vec<MigInstance>,
}

/// One MIG instance: a slice of a physical GPU whose power NVML cannot see on its own.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct MigInstance {
    /// `MIG-…` UUID of the instance.
    pub uuid: String,
    /// `GPU-…` UUID of the physical parent.
    pub parent_uuid: String,
    /// Profile name such as `3g.40gb`, when it could be determined.
    pub profile: Option<String>,
    /// GPU instance id.
    pub gpu_instance_id: u32,
    /// Compute instance id.
    pub compute_instance_id: u32,
}

/// Why a sensor could not produce a reading.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SensorError {
    /// The source (library, directory, file) is not there; `hint` says what to do.
    Unavailable {
        /// What is missing.
        what: String,
        /// What the user can do about it.
        hint: String,
    },
    /// The source works and reports no device at all (NVML with no GPU).
    ///
    /// A variant of its own so that callers (the command's exit code 4, the
    /// C ABI's `WL_ERR_NO_DEVICES`) tell "nothing to measure" from "cannot
    /// load the source" by type, not by reading the words.
    NoDevices {
        /// The source that was asked, as the user knows it (`NVML from libnvidia-ml.so.1`).
        what: String,
        /// What the user can do about it.
        hint: String,
    },
    /// The device stopped answering (NVML's GPU_IS_LOST); later readings will fail too.
    DeviceLost {
        /// Sensor index of the lost device.
        device: u32,
    },
    /// The device index is not one this sensor has.
    NoSuchDevice {
        /// The index asked for.
        device: u32,
    },
    /// A replay trace has ended: there are no more samples.
    EndOfTrace,
    /// Anything else the source reported, with its own words.
    Other(String),
}

impl fmt::Display for SensorError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SensorError::Unavailable { what, hint } => write!(f, "{what} is not available: {hint}"),
            SensorError::NoDevices { what, hint } => write!(f, "{what} reports no device: {hint}"),
            SensorError::DeviceLost { device } => {
                write!(
                    f,
                    "device {device} was lost (it stopped answering the driver)"
                )
            }
            SensorError::NoSuchDevice { device } => write!(f, "there is no device {device}"),
            SensorError::EndOfTrace => write!(f, "the trace has no more samples"),
            SensorError::Other(msg) => f.write_str(msg),
        }
    }
}

impl std::error::Error for SensorError {}

/// A source of power and energy readings.
///
/// A sensor stamps its samples with its own monotonic clock, in nanoseconds
/// from an origin of its choosing; samples of one device never go back in
/// time. Sensors are `Send` so a monitor can poll them on a background thread.
pub trait Sensor: Send {
    /// Short name of the source ("nvml", "jetson", "replay").
    fn source(&self) -> &str;
    /// The devices this sensor reads, in index order.
    fn devices(&self) -> &[DeviceInfo];
    /// Take one reading of `device` now (a replay sensor: the next recorded one).
    fn sample(&mut self, device: u32) -> Result<Sample, SensorError>;
    /// How often the source refreshes its numbers, in nanoseconds, if known.
    ///
    /// A window shorter than this cannot be measured from the counter alone.
    fn update_period_ns(&self, _device: u32) -> Option<u64> {
        None
    }
    /// The physical device and visible MIG instances that `device` stands
    /// for, when this sensor presents a plan of what a program can see
    /// ([`crate::visible::VisibleSensor`]). `None` for a plain source, which
    /// reads devices, not what a program ran on.
    fn measures(&self, _device: u32) -> Option<&MeasuredGpu> {
        None
    }
    /// The time now on the clock the samples use, when the sensor has a
    /// live clock (NVML, Jetson; not a replay).
    ///
    /// A monitor asks it when a device is lost, so that the window still
    /// ends when the measurement ended and the time after the loss counts
    /// as uncovered rather than disappearing.
    fn now_ns(&self) -> Option<u64> {
        None
    }
    /// The Unix time, in nanoseconds, at `t_ns = 0` of this sensor's clock:
    /// what a recording's `meta` line carries so that its samples can be
    /// lined up with a profiler trace stamped in Unix time.
    ///
    /// By default it is read once from the system clock and
    /// [`Sensor::now_ns`] (so `None` without a live clock); a replay gives
    /// the one its trace recorded.
    fn clock_unix_ns(&self) -> Option<u64> {
        let now = self.now_ns()?;
        let unix = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .ok()?;
        u64::try_from(unix.as_nanos()).ok()?.checked_sub(now)
    }
}
