//! Jetson power rails: the INA3221 monitors on NVIDIA Jetson modules, read from sysfs.
//!
//! Jetson modules carry one or two TI INA3221 chips, each measuring the bus
//! voltage and current of three supply rails. Linux exposes them in one of two
//! ways, and [`JetsonSensor`] reads both, always below a configurable root
//! directory (`/` on a real board, a temporary directory in tests):
//!
//! | layout | releases | where | files per channel |
//! |---|---|---|---|
//! | hwmon | L4T r34, r35, r36 (mainline `ina3221` driver) | `sys/bus/i2c/drivers/ina3221/*/hwmon/hwmon*/`, and `sys/class/hwmon/hwmon*/` whose `name` file reads `ina3221` | `in{1,2,3}_label`, `in{1,2,3}_input` (bus voltage, mV), `curr{1,2,3}_input` (mA), optional `in{1,2,3}_enable` |
//! | iio | L4T r32 (NVIDIA's `ina3221x` driver) | `sys/bus/i2c/drivers/ina3221x/*/iio:device*/` | `rail_name_{0,1,2}`, `in_power{0,1,2}_input` (mW), `in_voltage{0,1,2}_input` (mV), `in_current{0,1,2}_input` (mA) |
//!
//! The same hwmon directory usually shows up under both hwmon paths (the
//! class entry is a symbolic link to the device's); directories are compared
//! after resolving links, so each rail is read once. In the hwmon layout a
//! channel without a label, whose label is `NC` ("not connected"), or whose
//! `in*_enable` reads `0` is skipped; `in4`–`in7` and `curr4` (shunt voltages
//! and the summed current) are not rails and are never read.
//!
//! **Power.** The hwmon driver reports voltage and current, not power, so a
//! rail's power is `mV × mA / 1000` mW, rounded to the nearest milliwatt. The
//! iio driver reports power itself (`in_power*_input`, mW); where that file is
//! missing, voltage × current is used as for hwmon. A negative current (the
//! shunt amplifier's offset on an idle rail) counts as 0 mW. INA3221 has no
//! energy counter, so samples carry power only and the meter integrates it.
//!
//! **Devices.** The sensor offers the board total as device 0 (role
//! [`DeviceRole::Total`]) and, where a GPU rail can be identified, that rail
//! as device 1 (role [`DeviceRole::Part`]: it is inside the total, so a
//! report never adds it to the total again):
//!
//! * The total is, by default ([`TotalRule::Auto`]), taken from the board's
//!   rail tree ([`wattledger_core::ina3221::board`], documented per board in
//!   `docs/ina3221.md`): the rail labels found identify the board
//!   ([`board::identify`]), and the total is its input rail where one is
//!   measured (`VDD_IN` on Orin Nano/NX and Xavier NX, `POM_5V_IN` on Nano)
//!   or else the sum of its top-level rails (AGX Orin: `VDD_GPU_SOC +
//!   VDD_CPU_CV + VIN_SYS_5V0`; AGX Xavier: all six). Never a rail plus its
//!   own part; a rail whose place is not documented (AGX Orin's
//!   `VDDQ_VDD2_1V8AO`) is never added.
//! * **Unknown boards** (labels that match no board of the table): the
//!   first rail named in [`INPUT_RAIL_NAMES`] (`VDD_IN`, `POM_5V_IN`, the
//!   names every Jetson gives its measured input) is the total; with none of
//!   them, the sum of every rail, which [`JetsonSensor::tree_known`] reports
//!   as a guess (the rails might nest) and the device's name says so. Choose
//!   [`TotalRule::Rail`] or [`TotalRule::Sum`] to decide yourself.
//! * The GPU rail is the first rail named in [`GPU_RAIL_NAMES`]
//!   (`VDD_GPU_SOC`, `POM_5V_GPU`, `VDD_GPU`, `VDD_SYS_GPU`,
//!   `VDD_CPU_GPU_CV`), else the first rail whose name contains `GPU`. On
//!   most boards this rail is shared: `VDD_GPU_SOC` (AGX Orin) also feeds the
//!   SoC, and `VDD_CPU_GPU_CV` (Orin Nano/NX) feeds the CPU, the GPU and the
//!   vision accelerators, so the figure is an upper bound of the GPU's own
//!   power, not the GPU alone. `POM_5V_GPU` (Nano) is the GPU's regulator
//!   input, regulator losses included. The device's name says which rail it is.
//!
//! **Gated units.** The GPU driver (nvgpu) publishes the TPC power-gating mask
//! as a decimal number in `tpc_pg_mask` under the GPU's device directory; a
//! set bit is a TPC that is power-gated. The first file found among
//! [`TPC_MASK_PATHS`] (or the path in [`JetsonConfig::tpc_mask_path`]) is
//! read on every sample, and its set bits × [`JetsonConfig::units_per_tpc`]
//! (2 SMs per TPC on Orin's Ampere GPU, the default) become
//! [`Sample::gated_units`] on every device of the sensor. Where no mask file
//! exists the field is `None` ("cannot tell"), never 0.
//!
//! Timestamps are nanoseconds since the sensor was created, from
//! [`std::time::Instant`], which is monotonic.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::time::Instant;

use wattledger_core::ina3221::board::{self, Board, Role};
use wattledger_core::meter::Sample;

use crate::sensors::{DeviceInfo, DeviceRole, Sensor, SensorError};

/// On a board the tree does not know: rails taken as its measured input
/// (the total), in order of preference.
pub const INPUT_RAIL_NAMES: [&str; 2] = ["VDD_IN", "POM_5V_IN"];

/// Rails taken as the GPU rail, in order of preference; after these, the
/// first rail whose name contains `GPU`.
pub const GPU_RAIL_NAMES: [&str; 5] = [
    "VDD_GPU_SOC",
    "POM_5V_GPU",
    "VDD_GPU",
    "VDD_SYS_GPU",
    "VDD_CPU_GPU_CV",
];

/// Where nvgpu publishes the TPC power-gating mask, relative to the root, in
/// the order they are tried.
///
/// `gpu.0` is the GPU's platform device name on several L4T releases (and
/// `/sys/devices/gpu.0` the older link to it); `17000000.ga10b` (r35) and
/// `bus@0/17000000.gpu` (r36) are Orin's GPU by bus address, also reachable
/// through the GPU's devfreq entry; `17000000.gv11b` is Xavier's. Boards
/// without TPC power gating (Nano, TX1, TX2) have none of these files.
pub const TPC_MASK_PATHS: [&str; 8] = [
    "sys/devices/platform/gpu.0/tpc_pg_mask",
    "sys/devices/gpu.0/tpc_pg_mask",
    "sys/devices/platform/17000000.ga10b/tpc_pg_mask",
    "sys/devices/platform/bus@0/17000000.gpu/tpc_pg_mask",
    "sys/class/devfreq/17000000.ga10b/device/tpc_pg_mask",
    "sys/class/devfreq/17000000.gpu/device/tpc_pg_mask",
    "sys/devices/17000000.ga10b/tpc_pg_mask",
    "sys/devices/17000000.gv11b/tpc_pg_mask",
];

/// Compute units per TPC on Orin's Ampere GPU: two SMs.
pub const DEFAULT_UNITS_PER_TPC: u32 = 2;

/// How the board total (device 0) is formed.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum TotalRule {
    /// From the board's rail tree: its input rail, or the sum of its
    /// top-level rails; on an unknown board the first rail of
    /// [`INPUT_RAIL_NAMES`], else the sum of all rails.
    #[default]
    Auto,
    /// The rail of this name (compared without regard to ASCII case).
    Rail(String),
    /// The sum of all rails found (on a board with an input rail, this
    /// counts its parts twice: only for boards whose rails do not nest).
    Sum,
}

/// Where and how a [`JetsonSensor`] reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JetsonConfig {
    /// Directory that stands for `/`: sysfs is read from `root/sys/...`.
    pub root: PathBuf,
    /// Compute units one set bit of the TPC mask stands for (SMs per TPC).
    pub units_per_tpc: u32,
    /// How the board total is formed.
    pub total: TotalRule,
    /// The TPC mask file, relative to `root`, instead of searching [`TPC_MASK_PATHS`].
    pub tpc_mask_path: Option<PathBuf>,
}

impl Default for JetsonConfig {
    fn default() -> Self {
        JetsonConfig {
            root: PathBuf::from("/"),
            units_per_tpc: DEFAULT_UNITS_PER_TPC,
            total: TotalRule::Auto,
            tpc_mask_path: None,
        }
    }
}

impl JetsonConfig {
    /// The default configuration, reading below `root` instead of `/`.
    pub fn with_root(root: impl Into<PathBuf>) -> Self {
        JetsonConfig {
            root: root.into(),
            ..JetsonConfig::default()
        }
    }
}

/// Which driver layout a rail was found in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RailLayout {
    /// Mainline `ina3221` hwmon driver (L4T r34 and later): mV and mA files.
    Hwmon,
    /// NVIDIA's `ina3221x` iio driver (L4T r32): mW, mV and mA files.
    Iio,
}

/// One monitored supply rail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RailInfo {
    /// The label the driver gives the rail (`VDD_GPU_SOC`), trimmed.
    pub name: String,
    /// The driver layout it was found in.
    pub layout: RailLayout,
    /// The hwmon or iio directory holding its files.
    pub dir: PathBuf,
    /// The channel number in the file names: 1–3 for hwmon, 0–2 for iio.
    pub channel: u32,
}

/// One reading of one rail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RailReading {
    /// The rail's label.
    pub name: String,
    /// Power in milliwatts.
    pub power_mw: u32,
    /// Bus voltage in millivolts, where it was read (always for hwmon; for
    /// iio only when power had to be computed from voltage and current).
    pub voltage_mv: Option<i64>,
    /// Current in milliamperes, under the same condition as `voltage_mv`.
    pub current_ma: Option<i64>,
}

/// What device 0 adds up.
#[derive(Debug, Clone)]
enum Total {
    /// One rail, by position in `rails`.
    Rail(usize),
    /// These rails, by position in `rails`.
    Sum(Vec<usize>),
}

/// The INA3221 rails of a Jetson board as a [`Sensor`].
///
/// Device 0 is the board total; device 1, where present, the GPU rail (see
/// the [module documentation](self) for the rules). Every sample carries
/// `power_mw`, no energy counter, and `gated_units` where a TPC mask exists.
#[derive(Debug)]
pub struct JetsonSensor {
    rails: Vec<RailInfo>,
    board: Option<&'static Board>,
    total: Total,
    gpu: Option<usize>,
    devices: Vec<DeviceInfo>,
    tpc_mask: Option<PathBuf>,
    units_per_tpc: u32,
    update_period_ns: Option<u64>,
    origin: Instant,
}

impl JetsonSensor {
    /// A sensor reading the real sysfs below `/` with the default configuration.
    ///
    /// # Errors
    /// As [`JetsonSensor::with_config`].
    pub fn new() -> Result<Self, SensorError> {
        JetsonSensor::with_config(JetsonConfig::default())
    }

    /// Find the rails below `config.root` and build the devices.
    ///
    /// Nothing is sampled yet; the rail labels are read once, here, because
    /// they do not change while the system runs.
    ///
    /// # Errors
    /// * [`SensorError::Unavailable`] when `root` is not a directory, when no
    ///   INA3221 rail is found in either layout, or when [`TotalRule::Rail`]
    ///   names a rail that does not exist.
    /// * [`SensorError::Other`] when `units_per_tpc` is 0, or a label file
    ///   exists but cannot be read.
    pub fn with_config(config: JetsonConfig) -> Result<Self, SensorError> {
        let root = &config.root;
        if !root.is_dir() {
            return Err(SensorError::Unavailable {
                what: format!("the Jetson sysfs root `{}`", root.display()),
                hint: "pass the directory that holds `sys/` (on a Jetson board: `/`)".into(),
            });
        }
        if config.units_per_tpc == 0 {
            return Err(SensorError::Other(
                "jetson: units_per_tpc must be at least 1 (Orin: 2 SMs per TPC)".into(),
            ));
        }
        let mut rails = find_hwmon_rails(root)?;
        rails.extend(find_iio_rails(root)?);
        if rails.is_empty() {
            return Err(SensorError::Unavailable {
                what: format!("INA3221 power rails below `{}`", root.display()),
                hint: "expected `sys/bus/i2c/drivers/ina3221/*/hwmon/hwmon*/in*_label` (L4T r34+) \
                       or `sys/bus/i2c/drivers/ina3221x/*/iio:device*/rail_name_*` (L4T r32); \
                       is this a Jetson board with its power monitor driver loaded?"
                    .into(),
            });
        }

        let position = |name: &str| rails.iter().position(|r| r.name.eq_ignore_ascii_case(name));
        let board = board::identify(rails.iter().map(|r| r.name.as_str()));
        let total = match &config.total {
            TotalRule::Auto => match board {
                Some(b) => match b.input() {
                    Some((_, input)) => {
                        position(input.name).map_or(Total::Sum(Vec::new()), Total::Rail)
                    }
                    None => Total::Sum(
                        b.total_rails()
                            .filter_map(|(_, r)| position(r.name))
                            .collect(),
                    ),
                },
                None => INPUT_RAIL_NAMES
                    .iter()
                    .find_map(|n| position(n))
                    .map_or_else(|| Total::Sum((0..rails.len()).collect()), Total::Rail),
            },
            TotalRule::Sum => Total::Sum((0..rails.len()).collect()),
            TotalRule::Rail(name) => match position(name) {
                Some(i) => Total::Rail(i),
                None => {
                    let found: Vec<&str> = rails.iter().map(|r| r.name.as_str()).collect();
                    return Err(SensorError::Unavailable {
                        what: format!("the total rail `{name}`"),
                        hint: format!("the rails found are: {}", found.join(", ")),
                    });
                }
            },
        };
        let guessed = board.is_none() && matches!(total, Total::Sum(_));
        let gpu = GPU_RAIL_NAMES.iter().find_map(|n| position(n)).or_else(|| {
            rails
                .iter()
                .position(|r| r.name.to_ascii_uppercase().contains("GPU"))
        });

        let mut devices = Vec::with_capacity(2);
        let (total_name, total_id) = match &total {
            Total::Rail(i) => {
                let n = rails.get(*i).map_or("", |r| r.name.as_str());
                (
                    format!("Jetson board total ({n})"),
                    format!("jetson-rail:{n}"),
                )
            }
            Total::Sum(parts) => {
                let names: Vec<&str> = parts
                    .iter()
                    .filter_map(|&i| rails.get(i))
                    .map(|r| r.name.as_str())
                    .collect();
                let joined = names.join("+");
                let guess = if guessed {
                    ", board not recognised: the rails may nest"
                } else {
                    ""
                };
                (
                    format!("Jetson board total (sum of {joined}{guess})"),
                    format!("jetson-sum:{joined}"),
                )
            }
        };
        devices.push(rail_device(0, total_name, total_id, DeviceRole::Total));
        if let Some(rail) = gpu.and_then(|i| rails.get(i)) {
            let n = &rail.name;
            devices.push(rail_device(
                1,
                format!("Jetson GPU rail ({n})"),
                format!("jetson-rail:{n}"),
                DeviceRole::Part,
            ));
        }

        let tpc_mask = match &config.tpc_mask_path {
            Some(p) => Some(root.join(p)),
            None => TPC_MASK_PATHS
                .iter()
                .map(|p| root.join(p))
                .find(|p| p.is_file()),
        };

        // The hwmon driver publishes its conversion period in milliseconds.
        let update_period_ns = rails
            .iter()
            .find(|r| r.layout == RailLayout::Hwmon)
            .and_then(|r| fs::read_to_string(r.dir.join("update_interval")).ok())
            .and_then(|s| s.trim().parse::<u64>().ok())
            .and_then(|ms| ms.checked_mul(1_000_000));

        Ok(JetsonSensor {
            rails,
            board,
            total,
            gpu,
            devices,
            tpc_mask,
            units_per_tpc: config.units_per_tpc,
            update_period_ns,
            origin: Instant::now(),
        })
    }

    /// All rails found, hwmon ones first, each layout in path order.
    pub fn rails(&self) -> &[RailInfo] {
        &self.rails
    }

    /// The rail device 0 reads, or `None` when it is a sum of rails.
    pub fn total_rail(&self) -> Option<&str> {
        match &self.total {
            Total::Rail(i) => self.rails.get(*i).map(|r| r.name.as_str()),
            Total::Sum(_) => None,
        }
    }

    /// The rails device 0 adds up: the one total rail, or the parts of a sum.
    pub fn total_rails(&self) -> Vec<&str> {
        let names = |ids: &[usize]| -> Vec<&str> {
            ids.iter()
                .filter_map(|&i| self.rails.get(i))
                .map(|r| r.name.as_str())
                .collect()
        };
        match &self.total {
            Total::Rail(i) => names(&[*i]),
            Total::Sum(ids) => names(ids),
        }
    }

    /// The board the rail labels identify, if any (then its tree decides
    /// the total under [`TotalRule::Auto`]).
    pub fn board(&self) -> Option<&'static Board> {
        self.board
    }

    /// Whether the total follows a known rail tree (or the user's rule):
    /// false only for an unknown board without an input rail, whose total
    /// is the sum of every rail and may count a rail inside another twice.
    pub fn tree_known(&self) -> bool {
        !(self.board.is_none() && matches!(self.total, Total::Sum(_)) && self.rails.len() > 1)
    }

    /// Each rail's place in the identified board's tree: `Some(Role)` per
    /// rail of [`JetsonSensor::rails`] on a known board, `None` elsewhere.
    pub fn rail_roles(&self) -> Vec<Option<Role>> {
        self.rails
            .iter()
            .map(|r| {
                self.board
                    .and_then(|b| b.rail(&r.name))
                    .map(|(_, rail)| rail.role)
            })
            .collect()
    }

    /// The rail device 1 reads, or `None` when no GPU rail was identified
    /// (then there is no device 1).
    pub fn gpu_rail(&self) -> Option<&str> {
        self.gpu
            .and_then(|i| self.rails.get(i))
            .map(|r| r.name.as_str())
    }

    /// The TPC mask file in use, if one was found.
    pub fn tpc_mask_path(&self) -> Option<&Path> {
        self.tpc_mask.as_deref()
    }

    /// Read every rail now, in the order of [`JetsonSensor::rails`].
    ///
    /// # Errors
    /// As [`JetsonSensor::read_rail`], for the first rail that fails.
    pub fn read_rails(&self) -> Result<Vec<RailReading>, SensorError> {
        self.rails.iter().map(read_rail).collect()
    }

    /// Read the rail at position `i` of [`JetsonSensor::rails`] now.
    ///
    /// # Errors
    /// [`SensorError::NoSuchDevice`] (with `i` as the index) when there is no
    /// such rail; [`SensorError::Unavailable`] when one of its files has
    /// disappeared; [`SensorError::Other`] when a file cannot be read, does
    /// not hold an integer, or the power does not fit in `u32` milliwatts.
    pub fn read_rail(&self, i: usize) -> Result<RailReading, SensorError> {
        let rail = self.rails.get(i).ok_or(SensorError::NoSuchDevice {
            device: u32::try_from(i).unwrap_or(u32::MAX),
        })?;
        read_rail(rail)
    }

    /// Read the TPC mask now and convert it to gated compute units.
    ///
    /// `Ok(None)` when there is no mask file to read.
    ///
    /// # Errors
    /// [`SensorError::Unavailable`] when the mask file has disappeared;
    /// [`SensorError::Other`] when it cannot be read or does not hold a
    /// 32-bit number, or when the count overflows `u32`.
    pub fn read_gated_units(&self) -> Result<Option<u32>, SensorError> {
        let Some(path) = &self.tpc_mask else {
            return Ok(None);
        };
        let text = read_text(path)?;
        let mask = parse_tpc_mask(&text).ok_or_else(|| {
            SensorError::Other(format!(
                "jetson: `{}` should hold the TPC power-gating mask as a decimal or 0x-hex \
                 32-bit number, found {:?}",
                path.display(),
                text.trim()
            ))
        })?;
        gated_units_from_mask(mask, self.units_per_tpc)
            .map(Some)
            .ok_or_else(|| {
                SensorError::Other(format!(
                    "jetson: TPC mask {mask:#x} × {} units per TPC overflows u32",
                    self.units_per_tpc
                ))
            })
    }

    fn now_ns(&self) -> u64 {
        u64::try_from(self.origin.elapsed().as_nanos()).unwrap_or(u64::MAX)
    }
}

/// Gated compute units for a TPC power-gating mask: set bits × `units_per_tpc`.
///
/// `None` when the product overflows `u32`.
pub fn gated_units_from_mask(mask: u32, units_per_tpc: u32) -> Option<u32> {
    mask.count_ones().checked_mul(units_per_tpc)
}

/// Parse the text of a `tpc_pg_mask` file: a decimal number (what nvgpu
/// writes), or `0x`-prefixed hexadecimal, surrounded by optional whitespace.
///
/// `None` when the text is neither, or does not fit in 32 bits.
pub fn parse_tpc_mask(text: &str) -> Option<u32> {
    let t = text.trim();
    match t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        Some(hex) => u32::from_str_radix(hex, 16).ok(),
        None => t.parse::<u32>().ok(),
    }
}

impl Sensor for JetsonSensor {
    fn now_ns(&self) -> Option<u64> {
        Some(JetsonSensor::now_ns(self))
    }

    fn source(&self) -> &str {
        "jetson"
    }

    fn devices(&self) -> &[DeviceInfo] {
        &self.devices
    }

    /// Read the device's rail(s) and the TPC mask now.
    ///
    /// # Errors
    /// [`SensorError::NoSuchDevice`] for an index other than 0, or 1 where a
    /// GPU rail exists; otherwise the errors of [`JetsonSensor::read_rail`]
    /// and [`JetsonSensor::read_gated_units`]. A failed sample changes nothing.
    fn sample(&mut self, device: u32) -> Result<Sample, SensorError> {
        let rail = match (device, &self.total, self.gpu) {
            (0, Total::Rail(i), _) => Some(*i),
            (1, _, Some(i)) => Some(i),
            (0, Total::Sum(_), _) => None,
            _ => return Err(SensorError::NoSuchDevice { device }),
        };
        let power_mw = match (rail, &self.total) {
            (Some(i), _) => self.read_rail(i)?.power_mw,
            (None, Total::Rail(i)) => self.read_rail(*i)?.power_mw,
            (None, Total::Sum(parts)) => {
                let mut sum: u32 = 0;
                for rail in parts.iter().filter_map(|&i| self.rails.get(i)) {
                    let p = read_rail(rail)?.power_mw;
                    sum = sum.checked_add(p).ok_or_else(|| {
                        SensorError::Other("jetson: the sum of the rails overflows u32 mW".into())
                    })?;
                }
                sum
            }
        };
        let gated_units = self.read_gated_units()?;
        Ok(Sample {
            t_ns: self.now_ns(),
            energy_mj: None,
            power_mw: Some(power_mw),
            gated_units,
        })
    }

    fn update_period_ns(&self, device: u32) -> Option<u64> {
        if usize::try_from(device).is_ok_and(|d| d < self.devices.len()) {
            self.update_period_ns
        } else {
            None
        }
    }
}

fn rail_device(index: u32, name: String, uuid: String, role: DeviceRole) -> DeviceInfo {
    DeviceInfo {
        index,
        name,
        uuid,
        architecture: None,
        pci_device_id: None,
        has_energy_counter: false,
        mig: None,
        role: Some(role),
    }
}

/// Gives the devices of a Jetson recording made before devices carried a
/// role the roles the sensor then gave them by position: device 0 is the
/// board total, every other device a rail inside it. Devices that already
/// have a role, and recordings of other sources, are left alone.
pub fn infer_recorded_roles(devices: &mut [DeviceInfo]) {
    let is_rail =
        |d: &DeviceInfo| d.uuid.starts_with("jetson-rail:") || d.uuid.starts_with("jetson-sum:");
    if devices.iter().any(|d| d.role.is_some()) || !devices.iter().all(is_rail) {
        return;
    }
    for d in devices {
        d.role = Some(if d.index == 0 {
            DeviceRole::Total
        } else {
            DeviceRole::Part
        });
    }
}

/// The entries of `dir` that are directories and whose name starts with
/// `prefix`, sorted by path. A missing `dir` has no entries.
fn subdirs(dir: &Path, prefix: &str) -> Result<Vec<PathBuf>, SensorError> {
    let entries = match fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(io_error(dir, &e)),
    };
    let mut out = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| io_error(dir, &e))?;
        let path = entry.path();
        if entry.file_name().to_string_lossy().starts_with(prefix) && path.is_dir() {
            out.push(path);
        }
    }
    out.sort();
    Ok(out)
}

/// Read a small text file; `Ok(None)` when it does not exist.
fn read_optional(path: &Path) -> Result<Option<String>, SensorError> {
    match fs::read_to_string(path) {
        Ok(s) => Ok(Some(s)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io_error(path, &e)),
    }
}

fn read_text(path: &Path) -> Result<String, SensorError> {
    match fs::read_to_string(path) {
        Ok(s) => Ok(s),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Err(SensorError::Unavailable {
            what: format!("`{}`", path.display()),
            hint: "the file was there when the sensor was created; was the driver unloaded?".into(),
        }),
        Err(e) => Err(io_error(path, &e)),
    }
}

fn io_error(path: &Path, e: &io::Error) -> SensorError {
    SensorError::Other(format!("jetson: cannot read `{}`: {e}", path.display()))
}

fn read_int(path: &Path, unit: &str) -> Result<i64, SensorError> {
    let text = read_text(path)?;
    text.trim().parse::<i64>().map_err(|_| {
        SensorError::Other(format!(
            "jetson: `{}` should hold an integer number of {unit}, found {:?}",
            path.display(),
            text.trim()
        ))
    })
}

/// The hwmon directories of INA3221 chips, each once.
fn find_hwmon_rails(root: &Path) -> Result<Vec<RailInfo>, SensorError> {
    let mut dirs = Vec::new();
    for dev in subdirs(&root.join("sys/bus/i2c/drivers/ina3221"), "")? {
        dirs.extend(subdirs(&dev.join("hwmon"), "hwmon")?);
    }
    for dir in subdirs(&root.join("sys/class/hwmon"), "hwmon")? {
        if read_optional(&dir.join("name"))?.is_some_and(|n| n.trim() == "ina3221") {
            dirs.push(dir);
        }
    }
    let mut seen: Vec<PathBuf> = Vec::new();
    let mut rails = Vec::new();
    for dir in dirs {
        let canonical = fs::canonicalize(&dir).unwrap_or_else(|_| dir.clone());
        if seen.contains(&canonical) {
            continue;
        }
        seen.push(canonical);
        for channel in 1..=3u32 {
            let Some(label) = read_optional(&dir.join(format!("in{channel}_label")))? else {
                continue;
            };
            let name = label.trim();
            if name.is_empty() || name.eq_ignore_ascii_case("NC") {
                continue;
            }
            if read_optional(&dir.join(format!("in{channel}_enable")))?
                .is_some_and(|e| e.trim() == "0")
            {
                continue;
            }
            rails.push(RailInfo {
                name: name.to_owned(),
                layout: RailLayout::Hwmon,
                dir: dir.clone(),
                channel,
            });
        }
    }
    Ok(rails)
}

/// The iio directories of `ina3221x` chips (L4T r32).
fn find_iio_rails(root: &Path) -> Result<Vec<RailInfo>, SensorError> {
    let mut rails = Vec::new();
    for dev in subdirs(&root.join("sys/bus/i2c/drivers/ina3221x"), "")? {
        for dir in subdirs(&dev, "iio:device")? {
            for channel in 0..=2u32 {
                let Some(label) = read_optional(&dir.join(format!("rail_name_{channel}")))? else {
                    continue;
                };
                let name = label.trim();
                if name.is_empty() || name.eq_ignore_ascii_case("NC") {
                    continue;
                }
                rails.push(RailInfo {
                    name: name.to_owned(),
                    layout: RailLayout::Iio,
                    dir: dir.clone(),
                    channel,
                });
            }
        }
    }
    Ok(rails)
}

/// mV × mA / 1000, rounded to the nearest mW; negative counts as 0.
fn power_from(rail: &RailInfo, mv: i64, ma: i64) -> Result<u32, SensorError> {
    let uw = i128::from(mv) * i128::from(ma);
    if uw <= 0 {
        return Ok(0);
    }
    u32::try_from((uw + 500) / 1000).map_err(|_| {
        SensorError::Other(format!(
            "jetson: rail {} reads {mv} mV × {ma} mA, which does not fit in u32 mW",
            rail.name
        ))
    })
}

fn read_rail(rail: &RailInfo) -> Result<RailReading, SensorError> {
    let c = rail.channel;
    let (v_file, i_file) = match rail.layout {
        RailLayout::Hwmon => (format!("in{c}_input"), format!("curr{c}_input")),
        RailLayout::Iio => {
            let p_path = rail.dir.join(format!("in_power{c}_input"));
            if let Some(text) = read_optional(&p_path)? {
                let mw = text.trim().parse::<i64>().map_err(|_| {
                    SensorError::Other(format!(
                        "jetson: `{}` should hold an integer number of mW, found {:?}",
                        p_path.display(),
                        text.trim()
                    ))
                })?;
                let power_mw = u32::try_from(mw.max(0)).map_err(|_| {
                    SensorError::Other(format!(
                        "jetson: `{}` reads {mw} mW, which does not fit in u32",
                        p_path.display()
                    ))
                })?;
                return Ok(RailReading {
                    name: rail.name.clone(),
                    power_mw,
                    voltage_mv: None,
                    current_ma: None,
                });
            }
            (
                format!("in_voltage{c}_input"),
                format!("in_current{c}_input"),
            )
        }
    };
    let mv = read_int(&rail.dir.join(v_file), "millivolts")?;
    let ma = read_int(&rail.dir.join(i_file), "milliamperes")?;
    Ok(RailReading {
        name: rail.name.clone(),
        power_mw: power_from(rail, mv, ma)?,
        voltage_mv: Some(mv),
        current_ma: Some(ma),
    })
}
