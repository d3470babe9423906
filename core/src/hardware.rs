//! The hardware model: one accelerator at one operating point.
//!
//! A [`HardwareModel`] is built from a plain [`HardwareSpec`] by
//! [`HardwareModel::new`], which checks every value and names the first bad
//! one in a [`HardwareError`]. Once built, a model is known to be internally
//! consistent, so the composer never has to re-check it on the hot path.
//! Deserializing a model (feature `serde`) goes through the same check.

use core::fmt;

// `heapless::String` is used under another name: cbindgen reads this crate
// for the structs the C header shares, and takes any `String` for Rust's.
use heapless::String as Text;

use crate::float::FloatError;

/// Longest hardware or unit name a model can carry, in bytes.
pub const NAME_CAPACITY: usize = 48;

/// A fixed-capacity name, so that models stay `Copy`-free of the heap.
pub type Name = Text<NAME_CAPACITY>;

/// Number of [`Precision`] variants; the length of per-precision tables.
pub const PRECISIONS: usize = 9;

/// Numeric precision of a subgraph's operations.
///
/// Dynamic energy per operation differs by an order of magnitude between
/// FP64 and INT4, so a hardware model carries one figure per precision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "lowercase"))]
#[repr(u32)]
pub enum Precision {
    /// IEEE double precision.
    Fp64 = 0,
    /// IEEE single precision on the CUDA cores.
    Fp32 = 1,
    /// TensorFloat-32 on the tensor cores.
    Tf32 = 2,
    /// IEEE half precision on the tensor cores.
    Fp16 = 3,
    /// bfloat16 on the tensor cores.
    Bf16 = 4,
    /// 8-bit floating point (E4M3/E5M2).
    Fp8 = 5,
    /// 8-bit integer.
    Int8 = 6,
    /// 4-bit integer.
    Int4 = 7,
    /// 4-bit floating point (Blackwell's FP4/NVFP4).
    Fp4 = 8,
}

impl Precision {
    /// Every precision, in table order.
    pub const ALL: [Precision; PRECISIONS] = [
        Precision::Fp64,
        Precision::Fp32,
        Precision::Tf32,
        Precision::Fp16,
        Precision::Bf16,
        Precision::Fp8,
        Precision::Int8,
        Precision::Int4,
        Precision::Fp4,
    ];

    /// Position of this precision in per-precision tables.
    pub const fn index(self) -> usize {
        self as usize
    }

    /// The lower-case name used in model files and on the command line.
    pub const fn name(self) -> &'static str {
        match self {
            Precision::Fp64 => "fp64",
            Precision::Fp32 => "fp32",
            Precision::Tf32 => "tf32",
            Precision::Fp16 => "fp16",
            Precision::Bf16 => "bf16",
            Precision::Fp8 => "fp8",
            Precision::Int8 => "int8",
            Precision::Int4 => "int4",
            Precision::Fp4 => "fp4",
        }
    }

    /// Parses the lower-case name; `None` for anything else.
    pub fn from_name(name: &str) -> Option<Precision> {
        Precision::ALL.into_iter().find(|p| p.name() == name)
    }
}

impl fmt::Display for Precision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Dynamic energy per operation for each precision, in joules.
///
/// `None` means the hardware has no such datapath; a subgraph that asks for
/// it is rejected rather than charged zero.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct PrecisionTable(pub [Option<f64>; PRECISIONS]);

impl PrecisionTable {
    /// A table with no precision supported.
    pub const EMPTY: PrecisionTable = PrecisionTable([None; PRECISIONS]);

    /// Returns the table with `precision` set to `joules_per_op`.
    pub fn with(mut self, precision: Precision, joules_per_op: f64) -> Self {
        if let Some(slot) = self.0.get_mut(precision.index()) {
            *slot = Some(joules_per_op);
        }
        self
    }

    /// Energy per operation for `precision`, if supported.
    pub fn get(&self, precision: Precision) -> Option<f64> {
        self.0.get(precision.index()).copied().flatten()
    }
}

/// Dense peak operations per second for each precision, at the nominal
/// clock; 0 where unknown.
///
/// Stored as `f32` (seven significant digits, plenty for a rate that only
/// splits a latency between compute and memory) so that a model still fits
/// the C ABI's fixed-size handle.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct PeakRates(pub [f32; PRECISIONS]);

impl PeakRates {
    /// No rate known.
    pub const NONE: PeakRates = PeakRates([0.0; PRECISIONS]);

    /// Returns the table with `precision` at `ops_per_s`.
    pub fn with(mut self, precision: Precision, ops_per_s: f64) -> Self {
        if let Some(slot) = self.0.get_mut(precision.index()) {
            // Rounded to the nearest f32; a value beyond f32's range becomes
            // infinite and is refused by `HardwareModel::new`.
            *slot = ops_per_s as f32;
        }
        self
    }

    /// The peak rate of `precision`, if known (not 0).
    pub fn get(&self, precision: Precision) -> Option<f64> {
        self.0
            .get(precision.index())
            .copied()
            .filter(|&r| r != 0.0)
            .map(f64::from)
    }
}

/// Capacity of a [`VfCurve`]: enough for the points of any part we model
/// (Orin's four power modes), small enough for the C ABI's handle.
pub const VF_POINTS: usize = 4;

/// One point of a voltage–frequency curve.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct VfPoint {
    /// Core clock, in MHz.
    pub frequency_mhz: f64,
    /// The voltage the part runs that clock at, in volts.
    pub voltage_v: f64,
}

/// The voltage a part runs each clock at: what lets `--frequency` alone
/// set the operating point.
///
/// Points are in increasing frequency with non-decreasing voltage; between
/// them the voltage is interpolated linearly, below the first point it stays
/// at the first point's voltage (the floor a chip will not go under, so
/// lower clocks there no longer save `V²`), and above the last it follows
/// the last segment's slope. An empty curve (the default, and what model
/// files written before curves existed get) leaves the voltage where it is.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(
    feature = "serde",
    serde(
        from = "heapless::Vec<VfPoint, VF_POINTS>",
        into = "heapless::Vec<VfPoint, VF_POINTS>"
    )
)]
pub struct VfCurve {
    points: [VfPoint; VF_POINTS],
    len: u8,
}

impl VfCurve {
    /// The curve with no points.
    pub const EMPTY: VfCurve = VfCurve {
        points: [VfPoint {
            frequency_mhz: 0.0,
            voltage_v: 0.0,
        }; VF_POINTS],
        len: 0,
    };

    /// A curve through `points` (at most [`VF_POINTS`]; more are left out).
    /// Unchecked: [`HardwareModel::new`] checks a model's curve.
    pub fn new(points: &[VfPoint]) -> VfCurve {
        let mut curve = VfCurve::EMPTY;
        for (slot, p) in curve.points.iter_mut().zip(points) {
            *slot = *p;
            curve.len += 1;
        }
        curve
    }

    /// The points, in order.
    pub fn points(&self) -> &[VfPoint] {
        self.points.get(..usize::from(self.len)).unwrap_or(&[])
    }

    /// The voltage at `frequency_mhz`; `None` for an empty curve.
    pub fn voltage_at(&self, frequency_mhz: f64) -> Option<f64> {
        let points = self.points();
        let first = points.first()?;
        if points.len() == 1 || frequency_mhz <= first.frequency_mhz {
            return Some(first.voltage_v);
        }
        // The segment holding the frequency, or the last one beyond it.
        let segment = points
            .windows(2)
            .find(|w| w.get(1).is_some_and(|b| frequency_mhz <= b.frequency_mhz))
            .or_else(|| points.windows(2).last())?;
        let (a, b) = (segment.first()?, segment.get(1)?);
        let slope = (b.voltage_v - a.voltage_v) / (b.frequency_mhz - a.frequency_mhz);
        Some(a.voltage_v + slope * (frequency_mhz - a.frequency_mhz))
    }
}

impl Default for VfCurve {
    fn default() -> Self {
        VfCurve::EMPTY
    }
}

impl From<heapless::Vec<VfPoint, VF_POINTS>> for VfCurve {
    fn from(points: heapless::Vec<VfPoint, VF_POINTS>) -> Self {
        VfCurve::new(&points)
    }
}

impl From<VfCurve> for heapless::Vec<VfPoint, VF_POINTS> {
    fn from(curve: VfCurve) -> Self {
        curve.points().iter().copied().collect()
    }
}

/// How static (leakage plus clock-tree) power follows the operating point.
///
/// With `v = V/V0` and `f = F/F0`, static power scales by
/// `(1 − c)·v^α + c·v²·f`, where `c` is the share of idle power that is
/// clock-tree switching and `α` the leakage exponent. Dynamic energy per
/// operation scales by `v²`. Memory energy per byte is on another rail and
/// does not scale.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Dvfs {
    /// Voltage at which `idle_power_w` and the per-operation energies were characterised, in volts.
    pub nominal_voltage_v: f64,
    /// Frequency at which they were characterised, in MHz.
    pub nominal_frequency_mhz: f64,
    /// The operating point's voltage, in volts.
    pub voltage_v: f64,
    /// The operating point's frequency, in MHz.
    pub frequency_mhz: f64,
    /// `c`: share of idle power that is clock-tree switching, in `[0, 1]`.
    pub clock_fraction: f64,
    /// `α`: exponent of voltage in the leakage term (1 by default).
    pub leakage_exponent: f64,
    /// The voltage the part runs each clock at; see [`VfCurve`].
    #[cfg_attr(feature = "serde", serde(default))]
    pub vf_curve: VfCurve,
    /// The clock at which subgraph latencies were taken, in MHz; `None`: the
    /// operating point's own. [`HardwareModel::with_operating_point`] sets it
    /// to the clock it moves away from, so that the composer stretches the
    /// compute-bound part of each latency by the ratio of the two clocks.
    #[cfg_attr(feature = "serde", serde(default))]
    pub latency_frequency_mhz: Option<f64>,
}

impl Dvfs {
    /// An operating point at its nominal values, with `c = 0` and `α = 1`.
    pub const fn nominal(voltage_v: f64, frequency_mhz: f64) -> Dvfs {
        Dvfs {
            nominal_voltage_v: voltage_v,
            nominal_frequency_mhz: frequency_mhz,
            voltage_v,
            frequency_mhz,
            clock_fraction: 0.0,
            leakage_exponent: 1.0,
            vf_curve: VfCurve::EMPTY,
            latency_frequency_mhz: None,
        }
    }

    /// The clock latencies were taken at: [`Dvfs::latency_frequency_mhz`],
    /// else the operating point's.
    pub fn latency_reference_mhz(&self) -> f64 {
        self.latency_frequency_mhz.unwrap_or(self.frequency_mhz)
    }

    /// Factor applied to dynamic energy per operation: `v²`.
    ///
    /// Exactly 1 at the nominal point, since `V/V0` is then exactly 1.
    pub fn dynamic_factor(&self) -> f64 {
        let v = self.voltage_v / self.nominal_voltage_v;
        v * v
    }

    /// Factor applied to static power: `(1 − c)·v^α + c·v²·f`.
    ///
    /// Written as `1 + (1 − c)(v^α − 1) + c(v²f − 1)`, which is the same
    /// algebra but comes out as exactly 1 at the nominal point instead of
    /// `(1 − c) + c`, which floats do not always round back to 1.
    pub fn static_factor(&self) -> f64 {
        let v = self.voltage_v / self.nominal_voltage_v;
        let f = self.frequency_mhz / self.nominal_frequency_mhz;
        let c = self.clock_fraction;
        let leak = if self.leakage_exponent == 1.0 {
            v
        } else {
            libm::pow(v, self.leakage_exponent)
        };
        1.0 + (1.0 - c) * (leak - 1.0) + c * (v * v * f - 1.0)
    }
}

/// The gating capability of the hardware.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Gating {
    /// Whether unallocated gating domains can be powered down at all.
    pub can_gate: bool,
    /// Energy of one domain transition (one power-down or one power-up), in joules.
    pub transition_energy_j: f64,
    /// Time to wake gated domains at the start of a stage, in seconds.
    pub wake_latency_s: f64,
}

impl Gating {
    /// Hardware that cannot gate its units.
    pub const NONE: Gating = Gating {
        can_gate: false,
        transition_energy_j: 0.0,
        wake_latency_s: 0.0,
    };
}

/// Every value of a hardware model, unchecked.
///
/// This is what presets, model files and the C ABI fill in. Pass it to
/// [`HardwareModel::new`] to get a checked model.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct HardwareSpec {
    /// Human-readable name of the accelerator and its configuration.
    pub name: Name,
    /// What one compute unit is called ("SM", "TPC", "tile").
    pub unit_name: Name,
    /// `N`: number of compute units.
    pub units: u32,
    /// `g`: units powered on and off together. Must divide `units`.
    pub gating_domain: u32,
    /// Static power of all `N` units together at the nominal point, in watts.
    pub idle_power_w: f64,
    /// Power no unit owns and gating cannot remove (memory, fabric, board), in watts.
    #[cfg_attr(feature = "serde", serde(default))]
    pub uncore_power_w: f64,
    /// Dynamic power of all `N` units running kernels, at the nominal point, in watts.
    ///
    /// Kernel traces rarely carry operation counts, so a kernel without
    /// FLOPs is charged `active_power_w / N` per active unit-second instead of
    /// an energy per operation. Default 0, so model files written before the
    /// field existed still load and mean what they meant.
    #[cfg_attr(feature = "serde", serde(default))]
    pub active_power_w: f64,
    /// Dynamic energy per operation for each precision, in joules.
    pub energy_per_op_j: PrecisionTable,
    /// Energy per byte moved to or from memory, in joules.
    pub energy_per_byte_j: f64,
    /// Dense peak operations per second for each precision, at the nominal
    /// frequency; 0 where unknown. With the memory bandwidth it draws
    /// each subgraph's roofline, which says how much of its latency the core
    /// clock governs. Default: none known.
    #[cfg_attr(feature = "serde", serde(default))]
    pub peak_ops_per_s: PeakRates,
    /// Memory bandwidth, in bytes per second; 0 when unknown (the default).
    /// It does not follow the core clock.
    #[cfg_attr(feature = "serde", serde(default))]
    pub memory_bandwidth_bytes_per_s: f64,
    /// Threads a unit can hold; used only by the legacy utilisation estimate.
    pub threads_per_unit: u32,
    /// Whether and at what cost units can be gated.
    pub gating: Gating,
    /// Nominal and current operating point.
    pub dvfs: Dvfs,
}

/// The value of a hardware model that a [`HardwareError`] is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum HardwareField {
    /// `idle_power_w`.
    IdlePower,
    /// `uncore_power_w`.
    UncorePower,
    /// `active_power_w`.
    ActivePower,
    /// `energy_per_op_j` for one precision.
    EnergyPerOp(Precision),
    /// `energy_per_byte_j`.
    EnergyPerByte,
    /// `gating.transition_energy_j`.
    TransitionEnergy,
    /// `gating.wake_latency_s`.
    WakeLatency,
    /// `dvfs.nominal_voltage_v`.
    NominalVoltage,
    /// `dvfs.nominal_frequency_mhz`.
    NominalFrequency,
    /// `dvfs.voltage_v`.
    Voltage,
    /// `dvfs.frequency_mhz`.
    Frequency,
    /// `dvfs.clock_fraction`.
    ClockFraction,
    /// `dvfs.leakage_exponent`.
    LeakageExponent,
    /// `peak_ops_per_s` for one precision.
    PeakRate(Precision),
    /// `memory_bandwidth_bytes_per_s`.
    MemoryBandwidth,
    /// `dvfs.vf_curve`.
    VfCurve,
    /// `dvfs.latency_frequency_mhz`.
    LatencyFrequency,
}

impl HardwareField {
    /// The field's name as it appears in a model file.
    pub const fn name(self) -> &'static str {
        match self {
            HardwareField::IdlePower => "idle_power_w",
            HardwareField::UncorePower => "uncore_power_w",
            HardwareField::ActivePower => "active_power_w",
            HardwareField::EnergyPerOp(_) => "energy_per_op_j",
            HardwareField::EnergyPerByte => "energy_per_byte_j",
            HardwareField::TransitionEnergy => "gating.transition_energy_j",
            HardwareField::WakeLatency => "gating.wake_latency_s",
            HardwareField::NominalVoltage => "dvfs.nominal_voltage_v",
            HardwareField::NominalFrequency => "dvfs.nominal_frequency_mhz",
            HardwareField::Voltage => "dvfs.voltage_v",
            HardwareField::Frequency => "dvfs.frequency_mhz",
            HardwareField::ClockFraction => "dvfs.clock_fraction",
            HardwareField::LeakageExponent => "dvfs.leakage_exponent",
            HardwareField::PeakRate(_) => "peak_ops_per_s",
            HardwareField::MemoryBandwidth => "memory_bandwidth_bytes_per_s",
            HardwareField::VfCurve => "dvfs.vf_curve",
            HardwareField::LatencyFrequency => "dvfs.latency_frequency_mhz",
        }
    }
}

impl fmt::Display for HardwareField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HardwareField::EnergyPerOp(p) => write!(f, "energy_per_op_j.{p}"),
            HardwareField::PeakRate(p) => write!(f, "peak_ops_per_s.{p}"),
            other => f.write_str(other.name()),
        }
    }
}

/// Why a [`HardwareSpec`] was rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum HardwareError {
    /// `units` is zero: there is nothing to account.
    ZeroUnits,
    /// `gating_domain` is zero.
    ZeroGatingDomain,
    /// `gating_domain` does not divide `units`, so domains would not be alike.
    DomainDoesNotDivideUnits {
        /// `units`.
        units: u32,
        /// `gating_domain`.
        gating_domain: u32,
    },
    /// `threads_per_unit` is zero, which would divide by zero in the legacy estimate.
    ZeroThreadsPerUnit,
    /// A value is NaN.
    NotANumber(HardwareField),
    /// A value is +∞ or −∞.
    Infinite(HardwareField),
    /// A value that must be ≥ 0 is negative.
    Negative(HardwareField),
    /// A value that must be > 0 (voltages, frequencies, the leakage exponent) is zero.
    Zero(HardwareField),
    /// `clock_fraction` is above 1.
    ClockFractionAboveOne,
    /// The voltage–frequency curve's frequencies do not increase, or its
    /// voltages go down as the clock goes up.
    VfCurveNotIncreasing,
    /// The model has more units than the composer was built to hold.
    TooManyUnits {
        /// `units` asked for.
        units: u32,
        /// The capacity.
        capacity: usize,
    },
}

impl fmt::Display for HardwareError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HardwareError::ZeroUnits => f.write_str("units must be at least 1"),
            HardwareError::ZeroGatingDomain => f.write_str("gating_domain must be at least 1"),
            HardwareError::DomainDoesNotDivideUnits {
                units,
                gating_domain,
            } => write!(
                f,
                "gating_domain {gating_domain} does not divide units {units}"
            ),
            HardwareError::ZeroThreadsPerUnit => f.write_str("threads_per_unit must be at least 1"),
            HardwareError::NotANumber(x) => write!(f, "{x} is NaN"),
            HardwareError::Infinite(x) => write!(f, "{x} is infinite"),
            HardwareError::Negative(x) => write!(f, "{x} is negative"),
            HardwareError::Zero(x) => write!(f, "{x} must be greater than zero"),
            HardwareError::ClockFractionAboveOne => {
                f.write_str("dvfs.clock_fraction must be between 0 and 1")
            }
            HardwareError::VfCurveNotIncreasing => f.write_str(
                "dvfs.vf_curve must list increasing frequencies with voltages that do not go down",
            ),
            HardwareError::TooManyUnits { units, capacity } => write!(
                f,
                "{units} units is more than this build can hold ({capacity})"
            ),
        }
    }
}

impl core::error::Error for HardwareError {}

/// Checks that `x` is a finite number ≥ 0, naming `field` when it is not.
fn non_negative(x: f64, field: HardwareField) -> Result<(), HardwareError> {
    crate::float::non_negative(x)
        .map(drop)
        .map_err(|e| HardwareError::from_float(e, field))
}

/// Checks that `x` is a finite number > 0.
fn positive(x: f64, field: HardwareField) -> Result<(), HardwareError> {
    non_negative(x, field)?;
    if x == 0.0 {
        Err(HardwareError::Zero(field))
    } else {
        Ok(())
    }
}

impl HardwareError {
    /// The error for a bad number in `field`.
    pub const fn from_float(e: FloatError, field: HardwareField) -> HardwareError {
        match e {
            FloatError::NotANumber => HardwareError::NotANumber(field),
            FloatError::Infinite => HardwareError::Infinite(field),
            FloatError::Negative => HardwareError::Negative(field),
        }
    }
}

/// A checked hardware model.
///
/// Fields are reachable through [`HardwareModel::spec`]; changing them goes
/// through [`HardwareModel::new`] again (or [`HardwareModel::with_operating_point`]),
/// so a model in hand is always valid.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(
    feature = "serde",
    serde(try_from = "HardwareSpec", into = "HardwareSpec")
)]
pub struct HardwareModel {
    spec: HardwareSpec,
}

impl TryFrom<HardwareSpec> for HardwareModel {
    type Error = HardwareError;
    fn try_from(spec: HardwareSpec) -> Result<Self, Self::Error> {
        HardwareModel::new(spec)
    }
}

impl From<HardwareModel> for HardwareSpec {
    fn from(model: HardwareModel) -> Self {
        model.spec
    }
}

impl HardwareModel {
    /// Checks `spec` and wraps it.
    ///
    /// # Errors
    /// One [`HardwareError`] naming the first invalid value, in field order:
    /// zero units or domain, a domain that does not divide the units, zero
    /// threads per unit, then any NaN, infinite or negative power, energy or
    /// latency, a zero voltage, frequency or leakage exponent, and a clock
    /// fraction above 1.
    pub fn new(spec: HardwareSpec) -> Result<HardwareModel, HardwareError> {
        if spec.units == 0 {
            return Err(HardwareError::ZeroUnits);
        }
        if spec.gating_domain == 0 {
            return Err(HardwareError::ZeroGatingDomain);
        }
        if !spec.units.is_multiple_of(spec.gating_domain) {
            return Err(HardwareError::DomainDoesNotDivideUnits {
                units: spec.units,
                gating_domain: spec.gating_domain,
            });
        }
        if spec.threads_per_unit == 0 {
            return Err(HardwareError::ZeroThreadsPerUnit);
        }
        non_negative(spec.idle_power_w, HardwareField::IdlePower)?;
        non_negative(spec.uncore_power_w, HardwareField::UncorePower)?;
        non_negative(spec.active_power_w, HardwareField::ActivePower)?;
        for p in Precision::ALL {
            if let Some(e) = spec.energy_per_op_j.get(p) {
                non_negative(e, HardwareField::EnergyPerOp(p))?;
            }
        }
        non_negative(spec.energy_per_byte_j, HardwareField::EnergyPerByte)?;
        for p in Precision::ALL {
            if let Some(rate) = spec.peak_ops_per_s.get(p) {
                positive(rate, HardwareField::PeakRate(p))?;
            }
        }
        non_negative(
            spec.memory_bandwidth_bytes_per_s,
            HardwareField::MemoryBandwidth,
        )?;
        non_negative(
            spec.gating.transition_energy_j,
            HardwareField::TransitionEnergy,
        )?;
        non_negative(spec.gating.wake_latency_s, HardwareField::WakeLatency)?;
        let d = &spec.dvfs;
        positive(d.nominal_voltage_v, HardwareField::NominalVoltage)?;
        positive(d.nominal_frequency_mhz, HardwareField::NominalFrequency)?;
        positive(d.voltage_v, HardwareField::Voltage)?;
        positive(d.frequency_mhz, HardwareField::Frequency)?;
        non_negative(d.clock_fraction, HardwareField::ClockFraction)?;
        if d.clock_fraction > 1.0 {
            return Err(HardwareError::ClockFractionAboveOne);
        }
        positive(d.leakage_exponent, HardwareField::LeakageExponent)?;
        let curve = d.vf_curve.points();
        for p in curve {
            positive(p.frequency_mhz, HardwareField::VfCurve)?;
            positive(p.voltage_v, HardwareField::VfCurve)?;
        }
        if curve.windows(2).any(|w| match (w.first(), w.get(1)) {
            (Some(a), Some(b)) => b.frequency_mhz <= a.frequency_mhz || b.voltage_v < a.voltage_v,
            _ => false,
        }) {
            return Err(HardwareError::VfCurveNotIncreasing);
        }
        if let Some(f) = d.latency_frequency_mhz {
            positive(f, HardwareField::LatencyFrequency)?;
        }
        Ok(HardwareModel { spec })
    }

    /// Wraps a spec known to be valid without checking it again.
    ///
    /// Only presets use it; a test runs every preset through
    /// [`HardwareModel::new`] to keep that promise honest.
    pub(crate) fn from_checked(spec: HardwareSpec) -> HardwareModel {
        HardwareModel { spec }
    }

    /// The values this model was built from.
    pub fn spec(&self) -> &HardwareSpec {
        &self.spec
    }

    /// The same hardware at another voltage and frequency.
    ///
    /// Only `dvfs.voltage_v` and `dvfs.frequency_mhz` change; the nominal
    /// point, the idle power and the per-operation energies stay as they were
    /// characterised, and the scaling laws of [`Dvfs`] apply on use. The
    /// clock latencies were taken at is kept ([`Dvfs::latency_frequency_mhz`]
    /// is set to the current clock if it was unset), so latencies follow the
    /// new clock through [`HardwareModel::latency_s`].
    ///
    /// # Errors
    /// [`HardwareError::NotANumber`], [`HardwareError::Infinite`],
    /// [`HardwareError::Negative`] or [`HardwareError::Zero`] for a voltage or
    /// frequency that is not a finite positive number; `self` is untouched.
    pub fn with_operating_point(
        &self,
        voltage_v: f64,
        frequency_mhz: f64,
    ) -> Result<HardwareModel, HardwareError> {
        positive(voltage_v, HardwareField::Voltage)?;
        positive(frequency_mhz, HardwareField::Frequency)?;
        let mut spec = self.spec.clone();
        spec.dvfs.latency_frequency_mhz = Some(spec.dvfs.latency_reference_mhz());
        spec.dvfs.voltage_v = voltage_v;
        spec.dvfs.frequency_mhz = frequency_mhz;
        Ok(HardwareModel { spec })
    }

    /// The same hardware at clock `frequency_mhz`, at the voltage its
    /// [`VfCurve`] gives for that clock (the current voltage when the model
    /// has no curve): the DVFS a driver does when a clock is locked.
    ///
    /// # Errors
    /// As [`HardwareModel::with_operating_point`]; also when the curve,
    /// extrapolated beyond its last point, gives no positive voltage.
    pub fn at_frequency(&self, frequency_mhz: f64) -> Result<HardwareModel, HardwareError> {
        positive(frequency_mhz, HardwareField::Frequency)?;
        let d = &self.spec.dvfs;
        let voltage = d.vf_curve.voltage_at(frequency_mhz).unwrap_or(d.voltage_v);
        self.with_operating_point(voltage, frequency_mhz)
    }

    /// The share of a subgraph's latency that the core clock governs, by
    /// its roofline at the clock latencies were taken at: compute time
    /// `flops / peak` (the peak scaled from the nominal clock) against memory
    /// time `bytes / bandwidth`, as `t_c / (t_c + t_m)`.
    ///
    /// Where the roofline cannot be drawn (operations without a peak rate
    /// for their precision, bytes without a bandwidth, or neither operations
    /// nor bytes) the whole latency is taken as compute-bound: everything the
    /// units do runs on their clock.
    pub fn compute_bound_share(&self, flops: f64, precision: Precision, bytes: f64) -> f64 {
        let d = &self.spec.dvfs;
        let clock = d.latency_reference_mhz() / d.nominal_frequency_mhz;
        let compute = if flops > 0.0 {
            self.spec
                .peak_ops_per_s
                .get(precision)
                .map(|peak| flops / (peak * clock))
        } else {
            Some(0.0)
        };
        let bandwidth = self.spec.memory_bandwidth_bytes_per_s;
        let memory = if bytes <= 0.0 {
            Some(0.0)
        } else if bandwidth > 0.0 {
            Some(bytes / bandwidth)
        } else {
            None
        };
        match (compute, memory) {
            (Some(c), Some(m)) if c + m > 0.0 && (c / (c + m)).is_finite() => c / (c + m),
            _ => 1.0,
        }
    }

    /// A latency taken at the reference clock ([`Dvfs::latency_reference_mhz`]),
    /// at the operating point's clock: the compute-bound share
    /// ([`HardwareModel::compute_bound_share`]) stretches by
    /// `f_reference / f`, the memory-bound rest stays. Exactly `latency_s`
    /// when the two clocks are the same.
    pub fn latency_s(&self, latency_s: f64, flops: f64, precision: Precision, bytes: f64) -> f64 {
        let d = &self.spec.dvfs;
        let reference = d.latency_reference_mhz();
        if reference == d.frequency_mhz {
            return latency_s;
        }
        let stretch = reference / d.frequency_mhz;
        let share = self.compute_bound_share(flops, precision, bytes);
        latency_s * (1.0 + share * (stretch - 1.0))
    }

    /// `N`, the number of compute units.
    pub fn units(&self) -> u32 {
        self.spec.units
    }

    /// `g`, the units in one gating domain.
    pub fn gating_domain(&self) -> u32 {
        self.spec.gating_domain
    }

    /// Number of gating domains, `N / g` (exact: `g` divides `N`).
    pub fn domains(&self) -> u32 {
        self.spec.units / self.spec.gating_domain
    }

    /// Static power of all units at the current operating point, in watts.
    pub fn static_power_w(&self) -> f64 {
        self.spec.idle_power_w * self.spec.dvfs.static_factor()
    }

    /// Static power of one unit at the current operating point, `p`, in watts.
    pub fn unit_static_power_w(&self) -> f64 {
        self.static_power_w() / f64::from(self.spec.units)
    }

    /// Uncore power, in watts. It does not follow the core's operating point.
    pub fn uncore_power_w(&self) -> f64 {
        self.spec.uncore_power_w
    }

    /// Dynamic power of all `N` units running, at the current operating point, in watts.
    ///
    /// Dynamic power is `C·V²·f`, so the nominal figure scales by `v²·f`
    /// (exactly 1 at the nominal point). Kernels without FLOPs are charged
    /// this divided by `N` per active unit-second.
    pub fn active_power_w(&self) -> f64 {
        let d = &self.spec.dvfs;
        let f = d.frequency_mhz / d.nominal_frequency_mhz;
        self.spec.active_power_w * d.dynamic_factor() * f
    }

    /// Dynamic energy of one `precision` operation at the current operating point.
    ///
    /// `None` when the hardware has no datapath for `precision`.
    pub fn energy_per_op_j(&self, precision: Precision) -> Option<f64> {
        self.spec
            .energy_per_op_j
            .get(precision)
            .map(|e| e * self.spec.dvfs.dynamic_factor())
    }

    /// Energy per byte moved, in joules (not scaled by DVFS).
    pub fn energy_per_byte_j(&self) -> f64 {
        self.spec.energy_per_byte_j
    }

    /// Threads one unit holds, for the legacy utilisation estimate.
    pub fn threads_per_unit(&self) -> u32 {
        self.spec.threads_per_unit
    }

    /// Gating capability and costs.
    pub fn gating(&self) -> &Gating {
        &self.spec.gating
    }
}
