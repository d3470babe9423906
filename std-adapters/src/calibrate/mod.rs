//! Calibration: fitting the hardware model's power figures to measured energy.
//!
//! Every preset number is a published figure or an assumption. Given
//! measured intervals (a power recording cut into windows, each with what
//! the timeline says ran in it), this module fits the figures that the data
//! can pin down, says which ones it could not, and says how far the fitted
//! model can be believed.
//!
//! # The model
//!
//! Over an interval `i` of duration `T`, with `N` units:
//!
//! ```text
//! E ≈ idle_power_w·(powered unit-seconds)/N + uncore_power_w·T
//!   + active_power_w·(active unit-seconds)/N
//!   + Σ_p energy_per_op_j[p]·ops[p] + energy_per_byte_j·bytes
//! ```
//!
//! Each term is one column of a design matrix (one [`Interval`] is one row)
//! and one non-negative parameter. When nothing is ever gated, powered
//! unit-seconds are `N·T` and the idle and uncore columns are the same
//! column: only their sum, `constant_power_w`, can be fitted, and the split
//! follows the preset's ratio ([`ConstantSplit::PresetRatio`]). Gating, or a
//! change of allocation that powers units down, separates the two columns
//! and the split is fitted ([`ConstantSplit::Fitted`]).
//!
//! # The fit
//!
//! Non-negative least squares (Lawson–Hanson), weighted by
//! [`Interval::weight`]. Columns are scaled to unit norm first, so watts
//! (~10²) and joules per operation (~10⁻¹²) are solved on the same footing.
//! The rows are never held as one matrix: they are folded, a thousand at a
//! time, into the `R` factor of a QR decomposition of
//! `[design | measured]`, which is all the solver needs and which costs no
//! more precision than the QR of the whole design would. One such factor is
//! kept per cross-validation fold, so every held-out fit reuses them.
//!
//! Columns with no data are left out; a column that is (numerically) a
//! combination of earlier ones is left out and reported as not
//! identifiable. The order of precedence is duration, powered units, active
//! units, bytes, then operations by precision: a later column gives way to
//! earlier ones.
//!
//! Standard errors come from the residual variance and `(XᵀWX)⁻¹` over the
//! parameters the fit left free; a parameter held at the zero bound has
//! none and says so ([`Estimate::at_bound`]).
//!
//! # Use
//!
//! Cut a power recording at the energy counter's updates (so each
//! interval's measured energy is one counter delta), fill an [`Interval`]
//! per window from the timeline and the profile, and call [`calibrate`]
//! with [`FitOptions::for_spec`] of the preset being calibrated. Report with
//! [`Calibration::to_json`] or the fields; [`Calibration::apply`] gives the
//! calibrated hardware spec, [`Calibration::predict_j`] the fitted model's
//! energy for any interval.
//!
//! # Example
//!
//! ```
//! use wattledger_std::calibrate::{calibrate, FitOptions, Interval, Parameter};
//!
//! // One unit, 2 W constant and 3 W more when active, measured exactly.
//! let intervals: Vec<Interval> = (0..10)
//!     .map(|i| {
//!         let busy = f64::from(i % 3) / 2.0; // 0, ½ or 1 unit-seconds
//!         Interval::new(1.0, 1.0, busy, 2.0 + 3.0 * busy)
//!     })
//!     .collect();
//! let fit = calibrate(&intervals, &FitOptions::new(1, 0.5, 5)).unwrap();
//! let active = fit.estimate(Parameter::ActivePower).unwrap();
//! assert!((active.value - 3.0).abs() < 1e-9);
//! assert!((fit.value(Parameter::ConstantPower).unwrap() - 2.0).abs() < 1e-9);
//! ```

mod nnls;

use core::fmt;

use nalgebra::{DMatrix, DVector};
use wattledger_core::hardware::{HardwareSpec, PRECISIONS, Precision};

/// One measured interval: a row of the design.
///
/// Quantities are totals over the interval, not rates. The timeline
/// composer gives the unit-seconds; a profile gives operations and bytes
/// where it has them (leave them 0 where it does not: a column that is zero
/// in every interval is simply not fitted).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Interval {
    /// Length of the interval, in seconds (> 0).
    pub duration_s: f64,
    /// Unit-seconds in a powered state (everything but `Gated`): `N·T` when
    /// nothing is gated.
    pub powered_unit_s: f64,
    /// Unit-seconds charged at `active_power_w`: the active unit-seconds of
    /// the kernels the model charges by power rather than by operation.
    pub active_unit_s: f64,
    /// Operations per precision, indexed by [`Precision::index`].
    pub ops: [f64; PRECISIONS],
    /// Bytes moved to or from memory.
    pub bytes: f64,
    /// Measured energy over the interval, in joules.
    pub measured_j: f64,
    /// Weight of this interval in the fit (≥ 0; 1 for an ordinary fit).
    /// An interval of weight 0 is left out altogether, held-out error too.
    pub weight: f64,
}

impl Interval {
    /// An interval with no operations or bytes and weight 1.
    pub fn new(duration_s: f64, powered_unit_s: f64, active_unit_s: f64, measured_j: f64) -> Self {
        Interval {
            duration_s,
            powered_unit_s,
            active_unit_s,
            ops: [0.0; PRECISIONS],
            bytes: 0.0,
            measured_j,
            weight: 1.0,
        }
    }

    /// The same interval with `count` operations of `precision`.
    pub fn with_ops(mut self, precision: Precision, count: f64) -> Self {
        if let Some(slot) = self.ops.get_mut(precision.index()) {
            *slot = count;
        }
        self
    }

    /// The same interval with `bytes` moved.
    pub fn with_bytes(mut self, bytes: f64) -> Self {
        self.bytes = bytes;
        self
    }

    /// The same interval with weight `weight`.
    pub fn with_weight(mut self, weight: f64) -> Self {
        self.weight = weight;
        self
    }
}

/// A value of an [`Interval`] that a [`CalibrationError`] is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Field {
    /// `duration_s`.
    Duration,
    /// `powered_unit_s`.
    PoweredUnitSeconds,
    /// `active_unit_s`.
    ActiveUnitSeconds,
    /// `ops` of one precision.
    Ops(Precision),
    /// `bytes`.
    Bytes,
    /// `measured_j`.
    Measured,
    /// `weight`.
    Weight,
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Field::Duration => f.write_str("duration_s"),
            Field::PoweredUnitSeconds => f.write_str("powered_unit_s"),
            Field::ActiveUnitSeconds => f.write_str("active_unit_s"),
            Field::Ops(p) => write!(f, "ops.{p}"),
            Field::Bytes => f.write_str("bytes"),
            Field::Measured => f.write_str("measured_j"),
            Field::Weight => f.write_str("weight"),
        }
    }
}

/// Why a calibration could not be made.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum CalibrationError {
    /// [`FitOptions::units`] is zero.
    ZeroUnits,
    /// [`FitOptions::idle_fraction`] is not a number in `[0, 1]`.
    IdleFractionOutOfRange(f64),
    /// [`FitOptions::collinearity_tolerance`] is not a number in `(0, 1)`.
    ToleranceOutOfRange(f64),
    /// A value is NaN or infinite.
    NotFinite {
        /// Position of the interval in the input.
        interval: usize,
        /// The value.
        field: Field,
    },
    /// A value is negative.
    Negative {
        /// Position of the interval in the input.
        interval: usize,
        /// The value.
        field: Field,
    },
    /// An interval has zero duration: it measured nothing.
    ZeroDuration {
        /// Position of the interval in the input.
        interval: usize,
    },
    /// More unit-seconds than `N·T` (a sign of a unit mix-up).
    ExceedsUnits {
        /// Position of the interval in the input.
        interval: usize,
        /// `powered_unit_s` or `active_unit_s`.
        field: Field,
        /// The value given.
        value: f64,
        /// `N·T`.
        capacity: f64,
    },
    /// Every interval has weight 0, so the weighted design is all zero.
    AllZeroDesign,
    /// Fewer intervals (of positive weight) than parameters to fit.
    TooFewIntervals {
        /// Intervals of positive weight.
        intervals: usize,
        /// Parameters the data asks for.
        parameters: usize,
    },
    /// The number of cross-validation folds is not in `2..=intervals`.
    FoldsOutOfRange {
        /// Folds asked for.
        folds: usize,
        /// Intervals of positive weight.
        intervals: usize,
    },
    /// The solver did not settle (nearly dependent columns); the message
    /// names the fit: the whole data (`None`) or a held-out fold.
    NotConverged {
        /// The fold whose training fit failed, if it was one.
        fold: Option<usize>,
    },
}

impl fmt::Display for CalibrationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CalibrationError::ZeroUnits => f.write_str("units must be at least 1"),
            CalibrationError::IdleFractionOutOfRange(x) => {
                write!(f, "idle fraction {x} is not between 0 and 1")
            }
            CalibrationError::ToleranceOutOfRange(x) => write!(
                f,
                "collinearity tolerance {x} is not strictly between 0 and 1"
            ),
            CalibrationError::NotFinite { interval, field } => {
                write!(f, "interval {interval}: {field} is not a finite number")
            }
            CalibrationError::Negative { interval, field } => {
                write!(f, "interval {interval}: {field} is negative")
            }
            CalibrationError::ZeroDuration { interval } => {
                write!(f, "interval {interval}: duration_s is zero")
            }
            CalibrationError::ExceedsUnits {
                interval,
                field,
                value,
                capacity,
            } => write!(
                f,
                "interval {interval}: {field} = {value} is more than units × duration = {capacity}"
            ),
            CalibrationError::AllZeroDesign => {
                f.write_str("every interval has weight 0: there is nothing to fit")
            }
            CalibrationError::TooFewIntervals {
                intervals,
                parameters,
            } => write!(
                f,
                "{intervals} interval(s) cannot determine {parameters} parameter(s)"
            ),
            CalibrationError::FoldsOutOfRange { folds, intervals } => write!(
                f,
                "{folds} held-out folds: need at least 2 and at most the {intervals} interval(s)"
            ),
            CalibrationError::NotConverged { fold: None } => {
                f.write_str("the non-negative least-squares fit did not converge")
            }
            CalibrationError::NotConverged { fold: Some(k) } => write!(
                f,
                "the non-negative least-squares fit of held-out fold {k} did not converge"
            ),
        }
    }
}

impl std::error::Error for CalibrationError {}

/// How the fit is set up.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FitOptions {
    /// `N`: compute units of the device measured.
    pub units: u32,
    /// Share of constant power that is idle (the rest is uncore), used to
    /// split `constant_power_w` when the data cannot: the preset's ratio.
    pub idle_fraction: f64,
    /// `K` of the K-fold held-out error, `2 ≤ K ≤` intervals.
    pub folds: usize,
    /// A column whose distance from the span of the earlier columns is below
    /// this (both scaled to unit norm; the distance is the sine of the angle)
    /// is taken as dependent on them. Default 1e-6: far above the rounding
    /// of sums of unit-seconds (~1e-13), far below any gating worth fitting.
    pub collinearity_tolerance: f64,
}

impl FitOptions {
    /// Options with the default collinearity tolerance.
    pub fn new(units: u32, idle_fraction: f64, folds: usize) -> Self {
        FitOptions {
            units,
            idle_fraction,
            folds,
            collinearity_tolerance: 1e-6,
        }
    }

    /// Options for a device described by `spec`, measured at its operating
    /// point: `N` from the spec, and the idle share of constant power at that
    /// point (`idle·static_factor / (idle·static_factor + uncore)`; all idle
    /// if both are zero).
    pub fn for_spec(spec: &HardwareSpec, folds: usize) -> Self {
        let idle = spec.idle_power_w * spec.dvfs.static_factor();
        let total = idle + spec.uncore_power_w;
        let idle_fraction = if total > 0.0 && total.is_finite() {
            idle / total
        } else {
            1.0
        };
        FitOptions::new(spec.units, idle_fraction, folds)
    }
}

/// A figure the calibration can report, named as in the hardware-model file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Parameter {
    /// `constant_power_w`: idle plus uncore power, W.
    ConstantPower,
    /// `idle_power_w`: static power of all N units, W.
    IdlePower,
    /// `uncore_power_w`: power no unit owns, W.
    UncorePower,
    /// `active_power_w`: dynamic power of all N units running, W.
    ActivePower,
    /// `energy_per_byte_j`, J per byte.
    EnergyPerByte,
    /// `energy_per_op_j.<precision>`, J per operation.
    EnergyPerOp(Precision),
}

impl fmt::Display for Parameter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Parameter::ConstantPower => f.write_str("constant_power_w"),
            Parameter::IdlePower => f.write_str("idle_power_w"),
            Parameter::UncorePower => f.write_str("uncore_power_w"),
            Parameter::ActivePower => f.write_str("active_power_w"),
            Parameter::EnergyPerByte => f.write_str("energy_per_byte_j"),
            Parameter::EnergyPerOp(p) => write!(f, "energy_per_op_j.{p}"),
        }
    }
}

/// One reported figure.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Estimate {
    /// Which figure.
    pub parameter: Parameter,
    /// Its value, in the parameter's unit.
    pub value: f64,
    /// Its standard error; `None` when the parameter is held at the zero
    /// bound, or when no degrees of freedom are left to estimate noise.
    pub stderr: Option<f64>,
    /// The fit held this parameter at 0: the data would rather it were
    /// negative, which the physics does not allow.
    pub at_bound: bool,
}

/// How `constant_power_w` was divided between idle and uncore.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ConstantSplit {
    /// The data separated them (gating or allocation changes).
    Fitted,
    /// They could not be separated; the split is the preset's.
    PresetRatio {
        /// Share taken as idle.
        idle_fraction: f64,
    },
}

/// The result of [`calibrate`].
#[derive(Debug, Clone, PartialEq)]
pub struct Calibration {
    /// Every reported figure: `constant_power_w`, `idle_power_w`,
    /// `uncore_power_w`, then every fitted column's parameter.
    pub estimates: Vec<Estimate>,
    /// The parameters the data determined separately.
    pub identifiable: Vec<Parameter>,
    /// Parameters with data that the fit could not separate from others
    /// (their column was dependent on earlier ones). `idle_power_w` and
    /// `uncore_power_w` are here when the split follows the preset.
    pub not_identifiable: Vec<Parameter>,
    /// Parameters with no data at all (a zero column), not fitted.
    pub absent: Vec<Parameter>,
    /// How constant power was split.
    pub split: ConstantSplit,
    /// Root mean square of the residual power over time, in watts:
    /// `sqrt(Σ rᵢ²/Tᵢ / Σ Tᵢ)` with `rᵢ` the residual energy of interval `i`
    /// (unweighted): the typical error of the fitted power at any instant.
    pub residual_w: f64,
    /// Mean absolute percentage error, as a fraction (0.05 = 5 %), of the
    /// energies of held-out intervals over the K folds; `None` if no
    /// interval measured a positive energy to compare against.
    pub holdout_mape: Option<f64>,
    /// `K`.
    pub folds: usize,
    /// Intervals of positive weight that were fitted.
    pub intervals: usize,
    /// Intervals minus free parameters: what the noise estimate rests on.
    pub degrees_of_freedom: usize,
    /// `N`, for [`Calibration::predict_j`].
    pub units: u32,
}

impl Calibration {
    /// The estimate of `parameter`, if reported.
    pub fn estimate(&self, parameter: Parameter) -> Option<&Estimate> {
        self.estimates.iter().find(|e| e.parameter == parameter)
    }

    /// The value of `parameter`, if reported.
    pub fn value(&self, parameter: Parameter) -> Option<f64> {
        self.estimate(parameter).map(|e| e.value)
    }

    /// The fitted model's energy for `interval`, in joules. Parameters that
    /// were not fitted count as 0.
    pub fn predict_j(&self, interval: &Interval) -> f64 {
        let get = |p| self.value(p).unwrap_or(0.0);
        let units = f64::from(self.units);
        // Unsplit, the constant covers every second: charge it by duration,
        // as it was fitted, not through the preset's split.
        let constant = match self.split {
            ConstantSplit::Fitted => {
                get(Parameter::IdlePower) * interval.powered_unit_s / units
                    + get(Parameter::UncorePower) * interval.duration_s
            }
            ConstantSplit::PresetRatio { .. } => {
                get(Parameter::ConstantPower) * interval.duration_s
            }
        };
        let ops: f64 = Precision::ALL
            .iter()
            .zip(interval.ops)
            .map(|(&p, count)| get(Parameter::EnergyPerOp(p)) * count)
            .sum();
        constant
            + get(Parameter::ActivePower) * interval.active_unit_s / units
            + get(Parameter::EnergyPerByte) * interval.bytes
            + ops
    }

    /// `spec` with the calibrated figures in place of its own.
    ///
    /// The measurement was taken at `spec`'s operating point, while a
    /// hardware model states idle power and energy per operation at its
    /// nominal point; so idle power is divided by the spec's static factor
    /// and energy per operation by its dynamic factor, which makes the
    /// returned model reproduce the fit at that operating point. Uncore
    /// power and energy per byte do not scale. Figures the data did not
    /// determine (absent or dependent columns) keep the spec's values, and
    /// when the split was not identifiable idle and uncore follow
    /// [`FitOptions::idle_fraction`]. Active power is dynamic power
    /// (`C·V²·f`), so it is divided by `v²·f` at the spec's operating point.
    pub fn apply(&self, spec: &HardwareSpec) -> HardwareSpec {
        let mut out = spec.clone();
        let static_factor = spec.dvfs.static_factor();
        let dynamic_factor = spec.dvfs.dynamic_factor();
        let usable = |f: f64| f.is_finite() && f > 0.0;
        if let (Some(idle), true) = (self.value(Parameter::IdlePower), usable(static_factor)) {
            out.idle_power_w = idle / static_factor;
        }
        if let Some(uncore) = self.value(Parameter::UncorePower) {
            out.uncore_power_w = uncore;
        }
        if let Some(byte) = self.value(Parameter::EnergyPerByte) {
            out.energy_per_byte_j = byte;
        }
        let d = &spec.dvfs;
        let active_factor = dynamic_factor * (d.frequency_mhz / d.nominal_frequency_mhz);
        if let (Some(active), true) = (self.value(Parameter::ActivePower), usable(active_factor)) {
            out.active_power_w = active / active_factor;
        }
        for p in Precision::ALL {
            if let (Some(op), true) = (
                self.value(Parameter::EnergyPerOp(p)),
                usable(dynamic_factor),
            ) {
                out.energy_per_op_j = out.energy_per_op_j.with(p, op / dynamic_factor);
            }
        }
        out
    }

    /// The calibration as JSON, in the shape `wattledger calibrate --json`
    /// documents: `parameters.<name>.{value, stderr, at_bound}` (stderr is
    /// `null` where there is none), `identifiable`, `not_identifiable`,
    /// `absent`, `constant_split` (`"fitted"` or `{"preset_idle_fraction": f}`),
    /// `residual_w`, `holdout_mape`, `holdout_folds`, `intervals`,
    /// `degrees_of_freedom`.
    pub fn to_json(&self) -> serde_json::Value {
        let mut parameters = serde_json::Map::new();
        for e in &self.estimates {
            parameters.insert(
                e.parameter.to_string(),
                serde_json::json!({"value": e.value, "stderr": e.stderr, "at_bound": e.at_bound}),
            );
        }
        let names = |ps: &[Parameter]| ps.iter().map(|p| p.to_string()).collect::<Vec<_>>();
        let split = match self.split {
            ConstantSplit::Fitted => serde_json::json!("fitted"),
            ConstantSplit::PresetRatio { idle_fraction } => {
                serde_json::json!({"preset_idle_fraction": idle_fraction})
            }
        };
        serde_json::json!({
            "parameters": parameters,
            "identifiable": names(&self.identifiable),
            "not_identifiable": names(&self.not_identifiable),
            "absent": names(&self.absent),
            "constant_split": split,
            "residual_w": self.residual_w,
            "holdout_mape": self.holdout_mape,
            "holdout_folds": self.folds,
            "intervals": self.intervals,
            "degrees_of_freedom": self.degrees_of_freedom,
        })
    }
}

/// The design's columns, in order of precedence.
const DURATION: usize = 0;
const POWERED: usize = 1;
const ACTIVE: usize = 2;
const BYTES: usize = 3;
const OPS: usize = 4;
const COLUMNS: usize = OPS + PRECISIONS;

/// Rows folded into a factor at a time: big enough that the QR's overhead
/// is spread thin, small enough to stay in cache.
const CHUNK: usize = 1024;

/// Value of design column `column` for `interval`.
fn feature(interval: &Interval, column: usize, units: f64) -> f64 {
    match column {
        DURATION => interval.duration_s,
        POWERED => interval.powered_unit_s / units,
        ACTIVE => interval.active_unit_s / units,
        BYTES => interval.bytes,
        c => interval.ops.get(c - OPS).copied().unwrap_or(0.0),
    }
}

/// The parameter a column's coefficient is, when the split is fitted.
fn column_parameter(column: usize) -> Parameter {
    match column {
        DURATION => Parameter::UncorePower,
        POWERED => Parameter::IdlePower,
        ACTIVE => Parameter::ActivePower,
        BYTES => Parameter::EnergyPerByte,
        c => Parameter::EnergyPerOp(
            Precision::ALL
                .get(c - OPS)
                .copied()
                .unwrap_or(Precision::Fp64),
        ),
    }
}

/// Fits the model to `intervals`; see the [module documentation](self).
///
/// # Errors
/// Checked in this order: the options ([`CalibrationError::ZeroUnits`],
/// [`CalibrationError::IdleFractionOutOfRange`],
/// [`CalibrationError::ToleranceOutOfRange`]); each interval in turn
/// (non-finite, negative, zero duration, more unit-seconds than `N·T`);
/// [`CalibrationError::AllZeroDesign`] when every weight is 0;
/// [`CalibrationError::FoldsOutOfRange`];
/// [`CalibrationError::TooFewIntervals`] when there are fewer intervals than
/// parameters with data (idle and uncore count as one when the data cannot
/// split them); [`CalibrationError::NotConverged`] if the solver gives up.
pub fn calibrate(
    intervals: &[Interval],
    options: &FitOptions,
) -> Result<Calibration, CalibrationError> {
    check_options(options)?;
    let units = f64::from(options.units);
    for (i, interval) in intervals.iter().enumerate() {
        check_interval(i, interval, units)?;
    }
    let rows: Vec<&Interval> = intervals.iter().filter(|r| r.weight > 0.0).collect();
    let n = rows.len();
    if n == 0 {
        return Err(if intervals.is_empty() {
            CalibrationError::TooFewIntervals {
                intervals: 0,
                parameters: 1,
            }
        } else {
            CalibrationError::AllZeroDesign
        });
    }
    let k = options.folds;
    if k < 2 || k > n {
        return Err(CalibrationError::FoldsOutOfRange {
            folds: k,
            intervals: n,
        });
    }

    let design = Design::new(&rows, units);
    // One triangular factor per fold (contiguous blocks of time, so that
    // neighbouring windows, which share a workload phase, do not leak
    // between training and test), and the whole data's factor from them.
    let bounds: Vec<(usize, usize)> = (0..k).map(|f| (f * n / k, (f + 1) * n / k)).collect();
    let factors: Vec<DMatrix<f64>> = bounds
        .iter()
        .map(|&(start, end)| design.factor(rows.get(start..end).unwrap_or(&[])))
        .collect();
    let whole = stack(factors.iter());

    // Which columns the data determines, in order of precedence.
    let mut chosen: Vec<usize> = Vec::new(); // positions in `design.columns`
    let mut dependent: Vec<usize> = Vec::new(); // column ids
    for (pos, &column) in design.columns.iter().enumerate() {
        if distance_to_span(&whole, &chosen, pos) > options.collinearity_tolerance {
            chosen.push(pos);
        } else {
            dependent.push(column);
        }
    }
    let problem = Problem {
        design: &design,
        chosen,
    };
    let split_fitted = problem.columns().any(|c| c == POWERED);
    let unsplit_powered = !split_fitted && design.columns.contains(&POWERED);
    let with_data = design.columns.len() - usize::from(unsplit_powered);
    if n < with_data {
        return Err(CalibrationError::TooFewIntervals {
            intervals: n,
            parameters: with_data,
        });
    }

    let solution = problem.solve(&whole, n, None)?;
    let (estimates, split) = report(&solution, options.idle_fraction);
    let (identifiable, not_identifiable) = identifiability(&solution, &dependent, split);
    let absent: Vec<Parameter> = (ACTIVE..COLUMNS)
        .filter(|c| !design.columns.contains(c))
        .map(column_parameter)
        .collect();
    let mut calibration = Calibration {
        estimates,
        identifiable,
        not_identifiable,
        absent,
        split,
        residual_w: 0.0,
        holdout_mape: None,
        folds: k,
        intervals: n,
        degrees_of_freedom: solution.degrees_of_freedom,
        units: options.units,
    };

    // Residual power, RMS over time.
    let (mut weighted_square, mut time) = (0.0, 0.0);
    for r in &rows {
        let residual = r.measured_j - calibration.predict_j(r);
        weighted_square += residual * residual / r.duration_s;
        time += r.duration_s;
    }
    calibration.residual_w = (weighted_square / time).sqrt();

    // K-fold held-out error: fit on the other folds, predict this one.
    let (mut ape, mut scored) = (0.0, 0usize);
    for (fold, &(start, end)) in bounds.iter().enumerate() {
        let others = factors
            .iter()
            .enumerate()
            .filter(|&(g, _)| g != fold)
            .map(|(_, f)| f);
        let held_out = rows.get(start..end).unwrap_or(&[]);
        let trained = problem.solve(&stack(others), n - held_out.len(), Some(fold))?;
        for r in held_out.iter().filter(|r| r.measured_j > 0.0) {
            ape += (trained.predict_j(r, units) - r.measured_j).abs() / r.measured_j;
            scored += 1;
        }
    }
    calibration.holdout_mape = (scored > 0).then(|| ape / scored as f64);
    Ok(calibration)
}

/// The estimates to report, and how constant power was split.
fn report(solution: &Solution, idle_fraction: f64) -> (Vec<Estimate>, ConstantSplit) {
    let mut estimates = Vec::new();
    let duration = solution.position(DURATION);
    let powered = solution.position(POWERED);
    let split = match (duration, powered) {
        (Some(d), Some(p)) => {
            // constant = uncore + idle: var = var_d + var_p + 2·cov_dp, with
            // a parameter at the bound contributing nothing.
            let both_bound = solution.at_bound(d) && solution.at_bound(p);
            let se = solution.covariance.as_ref().map(|cov| {
                let free = |j: usize| !solution.at_bound(j);
                let term = |i: usize, j: usize| if free(i) && free(j) { cov[(i, j)] } else { 0.0 };
                (term(d, d) + term(p, p) + 2.0 * term(d, p)).max(0.0).sqrt()
            });
            estimates.push(Estimate {
                parameter: Parameter::ConstantPower,
                value: solution.value(d) + solution.value(p),
                stderr: se.filter(|_| !both_bound),
                at_bound: both_bound,
            });
            ConstantSplit::Fitted
        }
        _ => {
            let f = idle_fraction;
            let (value, se, bound) = match duration {
                Some(d) => (solution.value(d), solution.stderr(d), solution.at_bound(d)),
                None => (0.0, None, true),
            };
            for (parameter, share) in [
                (Parameter::ConstantPower, 1.0),
                (Parameter::IdlePower, f),
                (Parameter::UncorePower, 1.0 - f),
            ] {
                estimates.push(Estimate {
                    parameter,
                    value: value * share,
                    stderr: se.map(|s| s * share),
                    at_bound: bound,
                });
            }
            ConstantSplit::PresetRatio { idle_fraction: f }
        }
    };
    for (j, column) in solution.columns.iter().copied().enumerate() {
        // Unsplit, the duration column's coefficient is the constant,
        // already reported above.
        if split == ConstantSplit::Fitted || column != DURATION {
            estimates.push(Estimate {
                parameter: column_parameter(column),
                value: solution.value(j),
                stderr: solution.stderr(j),
                at_bound: solution.at_bound(j),
            });
        }
    }
    // The documented order: constant, idle, uncore, then the columns.
    estimates.sort_by_key(|e| e.parameter);
    (estimates, split)
}

/// Which parameters the data separated, and which it had but could not.
fn identifiability(
    solution: &Solution,
    dependent: &[usize],
    split: ConstantSplit,
) -> (Vec<Parameter>, Vec<Parameter>) {
    let constant_parts = [
        Parameter::ConstantPower,
        Parameter::IdlePower,
        Parameter::UncorePower,
    ];
    let mut identifiable = Vec::new();
    let mut not_identifiable = Vec::new();
    if split == ConstantSplit::Fitted {
        identifiable.extend(constant_parts);
    } else {
        if solution.position(DURATION).is_some() {
            identifiable.push(Parameter::ConstantPower);
        }
        not_identifiable.extend(&constant_parts[1..]);
    }
    let rest = |columns: &mut dyn Iterator<Item = usize>| -> Vec<Parameter> {
        columns
            .filter(|&c| c > POWERED)
            .map(column_parameter)
            .collect()
    };
    identifiable.extend(rest(&mut solution.columns.iter().copied()));
    not_identifiable.extend(rest(&mut dependent.iter().copied()));
    (identifiable, not_identifiable)
}

fn check_options(options: &FitOptions) -> Result<(), CalibrationError> {
    if options.units == 0 {
        return Err(CalibrationError::ZeroUnits);
    }
    if !(0.0..=1.0).contains(&options.idle_fraction) {
        return Err(CalibrationError::IdleFractionOutOfRange(
            options.idle_fraction,
        ));
    }
    let t = options.collinearity_tolerance;
    if !(t > 0.0 && t < 1.0) {
        return Err(CalibrationError::ToleranceOutOfRange(t));
    }
    Ok(())
}

fn check_interval(i: usize, r: &Interval, units: f64) -> Result<(), CalibrationError> {
    let mut fields = vec![
        (Field::Duration, r.duration_s),
        (Field::PoweredUnitSeconds, r.powered_unit_s),
        (Field::ActiveUnitSeconds, r.active_unit_s),
        (Field::Bytes, r.bytes),
        (Field::Measured, r.measured_j),
        (Field::Weight, r.weight),
    ];
    fields.extend(
        Precision::ALL
            .iter()
            .zip(r.ops)
            .map(|(&p, v)| (Field::Ops(p), v)),
    );
    for (field, value) in fields {
        if !value.is_finite() {
            return Err(CalibrationError::NotFinite { interval: i, field });
        }
        if value < 0.0 {
            return Err(CalibrationError::Negative { interval: i, field });
        }
    }
    if r.duration_s == 0.0 {
        return Err(CalibrationError::ZeroDuration { interval: i });
    }
    // A sliver of slack: unit-seconds summed from many short pieces may
    // round a few ulps past N·T.
    let capacity = units * r.duration_s;
    for (field, value) in [
        (Field::PoweredUnitSeconds, r.powered_unit_s),
        (Field::ActiveUnitSeconds, r.active_unit_s),
    ] {
        if value > capacity * (1.0 + 1e-9) {
            return Err(CalibrationError::ExceedsUnits {
                interval: i,
                field,
                value,
                capacity,
            });
        }
    }
    Ok(())
}

/// How rows become scaled, weighted rows of `[design | measured]`.
struct Design {
    /// The columns with data, in order of precedence.
    columns: Vec<usize>,
    /// Each column's weighted norm over all rows: dividing by it gives every
    /// column unit norm, so watts and joules per operation are solved on
    /// the same footing.
    scales: Vec<f64>,
    /// The same for the measured energies (1 if they are all zero).
    target_scale: f64,
    /// `N`.
    units: f64,
}

impl Design {
    fn new(rows: &[&Interval], units: f64) -> Self {
        let mut norms = [0.0f64; COLUMNS];
        let mut target_norm = 0.0f64;
        for r in rows {
            for (c, norm) in norms.iter_mut().enumerate() {
                let x = feature(r, c, units);
                *norm += r.weight * x * x;
            }
            target_norm += r.weight * r.measured_j * r.measured_j;
        }
        let columns: Vec<usize> = (0..COLUMNS).filter(|&c| norms[c] > 0.0).collect();
        let scales = columns.iter().map(|&c| norms[c].sqrt()).collect();
        let target_scale = if target_norm > 0.0 {
            target_norm.sqrt()
        } else {
            1.0
        };
        Design {
            columns,
            scales,
            target_scale,
            units,
        }
    }

    /// The `R` factor of this block of rows, built a chunk at a time.
    fn factor(&self, rows: &[&Interval]) -> DMatrix<f64> {
        let width = self.columns.len() + 1;
        let mut r = DMatrix::<f64>::zeros(0, width);
        for chunk in rows.chunks(CHUNK) {
            let top = r.nrows();
            let block = DMatrix::from_fn(top + chunk.len(), width, |i, j| {
                if i < top {
                    return r[(i, j)];
                }
                let Some(row) = chunk.get(i - top) else {
                    return 0.0;
                };
                let w = row.weight.sqrt();
                match (self.columns.get(j), self.scales.get(j)) {
                    (Some(&c), Some(&s)) => feature(row, c, self.units) / s * w,
                    _ => row.measured_j / self.target_scale * w,
                }
            });
            r = block.qr().r();
        }
        r
    }
}

/// The columns chosen for the fit, and how to solve for them.
struct Problem<'a> {
    design: &'a Design,
    /// Positions in `design.columns`.
    chosen: Vec<usize>,
}

impl Problem<'_> {
    fn columns(&self) -> impl Iterator<Item = usize> + '_ {
        self.chosen
            .iter()
            .filter_map(|&p| self.design.columns.get(p).copied())
    }

    /// NNLS on `factor` (a triangular factor over `rows` rows), back in the
    /// parameters' units.
    fn solve(
        &self,
        factor: &DMatrix<f64>,
        rows: usize,
        fold: Option<usize>,
    ) -> Result<Solution, CalibrationError> {
        let d = self.design;
        let a = factor.select_columns(self.chosen.iter());
        let target = d.columns.len();
        let b = DVector::from_iterator(factor.nrows(), factor.column(target).iter().copied());
        let (x, free) = nnls::nnls(&a, &b).map_err(|_| CalibrationError::NotConverged { fold })?;
        // θ_j = θ̃_j · s_y / s_j, and cov_jk = coṽ_jk · s_y² / (s_j·s_k).
        let unscale: Vec<f64> = self
            .chosen
            .iter()
            .map(|&p| d.target_scale / d.scales.get(p).copied().unwrap_or(1.0))
            .collect();
        let values = x.iter().zip(&unscale).map(|(v, u)| v * u).collect();
        let degrees_of_freedom = rows.saturating_sub(free.iter().filter(|&&f| f).count());
        let rss = (&a * &x - &b).norm_squared();
        let covariance = covariance(&a, &free, rss, degrees_of_freedom).map(|cov| {
            DMatrix::from_fn(cov.nrows(), cov.ncols(), |j, k| {
                cov[(j, k)] * unscale[j] * unscale[k]
            })
        });
        Ok(Solution {
            columns: self.columns().collect(),
            values,
            free,
            covariance,
            degrees_of_freedom,
        })
    }
}

/// A solved fit, in the parameters' units; index `j` runs over `columns`.
struct Solution {
    columns: Vec<usize>,
    values: Vec<f64>,
    /// Whether each parameter is free (not held at the zero bound).
    free: Vec<bool>,
    covariance: Option<DMatrix<f64>>,
    degrees_of_freedom: usize,
}

impl Solution {
    fn position(&self, column: usize) -> Option<usize> {
        self.columns.iter().position(|&c| c == column)
    }

    fn value(&self, j: usize) -> f64 {
        self.values.get(j).copied().unwrap_or(0.0)
    }

    fn at_bound(&self, j: usize) -> bool {
        self.free.get(j) == Some(&false)
    }

    fn stderr(&self, j: usize) -> Option<f64> {
        if self.at_bound(j) {
            return None;
        }
        let cov = self.covariance.as_ref()?;
        Some(cov.get((j, j))?.max(0.0).sqrt())
    }

    /// The fitted energy of `interval`, column by column.
    fn predict_j(&self, interval: &Interval, units: f64) -> f64 {
        self.columns
            .iter()
            .zip(&self.values)
            .map(|(&c, v)| feature(interval, c, units) * v)
            .sum()
    }
}

/// The `R` factor of the rows of all `factors` stacked: the factor of the
/// union of their rows.
fn stack<'a>(factors: impl Iterator<Item = &'a DMatrix<f64>> + Clone) -> DMatrix<f64> {
    let width = factors.clone().map(|f| f.ncols()).max().unwrap_or(0);
    let height: usize = factors.clone().map(|f| f.nrows()).sum();
    let mut all = DMatrix::<f64>::zeros(height, width);
    let mut at = 0;
    for f in factors {
        all.view_mut((at, 0), (f.nrows(), f.ncols())).copy_from(f);
        at += f.nrows();
    }
    all.qr().r()
}

/// Distance of column `candidate` of `r` from the span of columns `chosen`:
/// the last diagonal entry of the QR of those columns followed by it.
/// Columns were scaled to unit norm, so this is the sine of the angle.
fn distance_to_span(r: &DMatrix<f64>, chosen: &[usize], candidate: usize) -> f64 {
    let mut columns = chosen.to_vec();
    columns.push(candidate);
    let last = columns.len() - 1;
    let reduced = r.select_columns(columns.iter()).qr().r();
    if reduced.nrows() <= last {
        return 0.0; // fewer rows than columns: dependent by counting
    }
    reduced[(last, last)].abs()
}

/// `σ²·(AᵀA)⁻¹` over the free columns (others zero), with `σ² = RSS/dof`;
/// `None` when there are no degrees of freedom or the matrix is singular.
fn covariance(a: &DMatrix<f64>, passive: &[bool], rss: f64, dof: usize) -> Option<DMatrix<f64>> {
    if dof == 0 {
        return None;
    }
    let free: Vec<usize> = (0..a.ncols())
        .filter(|&j| passive.get(j) == Some(&true))
        .collect();
    let mut full = DMatrix::zeros(a.ncols(), a.ncols());
    if free.is_empty() {
        return Some(full);
    }
    let sub = a.select_columns(free.iter());
    let r = sub.qr().r();
    if r.nrows() < free.len() {
        return None;
    }
    // (AᵀA)⁻¹ = R⁻¹R⁻ᵀ.
    let r_inv = r.solve_upper_triangular(&DMatrix::identity(free.len(), free.len()))?;
    let inv = &r_inv * r_inv.transpose();
    let sigma2 = rss / dof as f64;
    for (i, &fi) in free.iter().enumerate() {
        for (j, &fj) in free.iter().enumerate() {
            full[(fi, fj)] = sigma2 * inv[(i, j)];
        }
    }
    Some(full)
}
