//! Why the composer refuses a call: one error type per operation.

use core::fmt;

use super::GatingPolicy;
use crate::float::FloatError;
use crate::hardware::{HardwareError, Precision};

/// The numeric field of a [`Subgraph`](super::Subgraph) that an error is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum SubgraphField {
    /// `flops`.
    Flops,
    /// `input_bytes`.
    InputBytes,
    /// `output_bytes`.
    OutputBytes,
    /// `weight_bytes`.
    WeightBytes,
    /// `latency_s`.
    Latency,
}

impl SubgraphField {
    /// The field's name as it appears in a model file.
    pub const fn name(self) -> &'static str {
        match self {
            SubgraphField::Flops => "flops",
            SubgraphField::InputBytes => "input_bytes",
            SubgraphField::OutputBytes => "output_bytes",
            SubgraphField::WeightBytes => "weight_bytes",
            SubgraphField::Latency => "latency_s",
        }
    }
}

/// Why [`Composer::new`](super::Composer::new) refused to make a composer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum SetupError {
    /// The hardware model cannot be used (more than [`MAX_UNITS`](super::MAX_UNITS) units).
    Hardware(HardwareError),
    /// A gating policy other than `Off` on hardware that cannot gate.
    GatingUnsupported(GatingPolicy),
}

impl From<HardwareError> for SetupError {
    fn from(e: HardwareError) -> Self {
        SetupError::Hardware(e)
    }
}

impl fmt::Display for SetupError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            SetupError::Hardware(e) => write!(f, "hardware model: {e}"),
            SetupError::GatingUnsupported(p) => {
                write!(
                    f,
                    "gating policy {p} needs hardware that can gate its units"
                )
            }
        }
    }
}

impl core::error::Error for SetupError {}

/// Why closing the open stage failed (at [`Composer::finish`](super::Composer::finish),
/// or inside a push that starts a later stage). Nothing changes then; the
/// refused stage stays open until it closes or is dropped with
/// [`Composer::discard_pending`](super::Composer::discard_pending).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum CloseError {
    /// An energy or time of the stage, or of the model with it, came out infinite.
    Overflow {
        /// The stage being closed.
        stage: u32,
    },
    /// The record sink has no room for the stage's records.
    SinkFull {
        /// The stage whose records did not fit.
        stage: u32,
    },
    /// Under the `oracle` policy, more young idle periods would be open at
    /// once than the composer's `IDLE` capacity holds.
    IdlePeriodsFull {
        /// The stage being closed.
        stage: u32,
        /// The capacity.
        capacity: usize,
    },
}

impl fmt::Display for CloseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        ComposeError::from(*self).fmt(f)
    }
}

impl core::error::Error for CloseError {}

impl From<CloseError> for ComposeError {
    fn from(e: CloseError) -> Self {
        match e {
            CloseError::Overflow { stage } => ComposeError::Overflow { stage },
            CloseError::SinkFull { stage } => ComposeError::SinkFull { stage },
            CloseError::IdlePeriodsFull { stage, capacity } => {
                ComposeError::IdlePeriodsFull { stage, capacity }
            }
        }
    }
}

/// Why [`Composer::push`](super::Composer::push) refused a subgraph. A
/// refused push changes nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum ComposeError {
    /// A subgraph field is NaN.
    NotANumber {
        /// The subgraph's id.
        id: u32,
        /// The field.
        field: SubgraphField,
    },
    /// A subgraph field is infinite.
    Infinite {
        /// The subgraph's id.
        id: u32,
        /// The field.
        field: SubgraphField,
    },
    /// A subgraph field is negative.
    Negative {
        /// The subgraph's id.
        id: u32,
        /// The field.
        field: SubgraphField,
    },
    /// `units_allocated` is `Some(0)`: work cannot run on no units.
    ZeroAllocation {
        /// The subgraph's id.
        id: u32,
    },
    /// The hardware model has no energy figure for the subgraph's precision.
    UnsupportedPrecision {
        /// The subgraph's id.
        id: u32,
        /// The precision asked for.
        precision: Precision,
    },
    /// The subgraph's stage is earlier than the stage being composed (or one
    /// already closed): stages must arrive in non-decreasing order.
    StageOutOfOrder {
        /// The subgraph's id.
        id: u32,
        /// The subgraph's stage.
        stage: u32,
        /// The latest stage seen.
        current: u32,
    },
    /// The stage already holds `WIDTH` subgraphs.
    StageFull {
        /// The subgraph's id.
        id: u32,
        /// The composer's stage capacity.
        capacity: usize,
    },
    /// A subgraph without allocation holds the whole chip, so it cannot share
    /// its stage with any other subgraph.
    LegacySharesStage {
        /// The subgraph's id.
        id: u32,
        /// The stage.
        stage: u32,
    },
    /// An energy or time came out infinite (inputs too large to add up).
    Overflow {
        /// The stage being closed, or the subgraph's stage.
        stage: u32,
    },
    /// The record sink has no room for the stage's records.
    SinkFull {
        /// The stage whose records did not fit.
        stage: u32,
    },
    /// See [`CloseError::IdlePeriodsFull`].
    IdlePeriodsFull {
        /// The stage being closed.
        stage: u32,
        /// The capacity.
        capacity: usize,
    },
}

impl ComposeError {
    /// The error for a bad number in `field` of subgraph `id`.
    pub const fn from_float(e: FloatError, id: u32, field: SubgraphField) -> ComposeError {
        match e {
            FloatError::NotANumber => ComposeError::NotANumber { id, field },
            FloatError::Infinite => ComposeError::Infinite { id, field },
            FloatError::Negative => ComposeError::Negative { id, field },
        }
    }
}

impl fmt::Display for ComposeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            ComposeError::NotANumber { id, field } => {
                write!(f, "subgraph {id}: {} is NaN", field.name())
            }
            ComposeError::Infinite { id, field } => {
                write!(f, "subgraph {id}: {} is infinite", field.name())
            }
            ComposeError::Negative { id, field } => {
                write!(f, "subgraph {id}: {} is negative", field.name())
            }
            ComposeError::ZeroAllocation { id } => {
                write!(f, "subgraph {id}: units_allocated is 0")
            }
            ComposeError::UnsupportedPrecision { id, precision } => write!(
                f,
                "subgraph {id}: the hardware model has no energy figure for {precision}"
            ),
            ComposeError::StageOutOfOrder { id, stage, current } => write!(
                f,
                "subgraph {id}: stage {stage} comes after stage {current}; stages must not go backwards"
            ),
            ComposeError::StageFull { id, capacity } => write!(
                f,
                "subgraph {id}: a stage holds at most {capacity} concurrent subgraphs"
            ),
            ComposeError::LegacySharesStage { id, stage } => write!(
                f,
                "subgraph {id}: stage {stage} mixes a subgraph without units_allocated with others"
            ),
            ComposeError::Overflow { stage } => {
                write!(
                    f,
                    "stage {stage}: an energy or duration is too large to represent"
                )
            }
            ComposeError::SinkFull { stage } => {
                write!(
                    f,
                    "stage {stage}: the record sink has no room for the stage's records"
                )
            }
            ComposeError::IdlePeriodsFull { stage, capacity } => write!(
                f,
                "stage {stage}: the oracle policy would track more than {capacity} idle periods at once"
            ),
        }
    }
}

impl core::error::Error for ComposeError {}
