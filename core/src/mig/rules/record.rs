//! What the rules read: results, options, and why a check fails.

use core::fmt;

use crate::float::FloatError;
use crate::mig::arch::Architecture;

/// One measured result, borrowed from the caller.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ResultRecord<'a> {
    /// The caller's id for the result.
    pub id: &'a str,
    /// UUID of the device measured (`GPU-…`, or `MIG-…` for an instance).
    pub gpu_uuid: &'a str,
    /// UUID of the physical GPU a MIG instance belongs to.
    pub parent_gpu_uuid: Option<&'a str>,
    /// Whether the result ran on a MIG instance.
    pub is_mig: bool,
    /// The MIG profile name as reported (`1g.10gb`).
    pub profile: Option<&'a str>,
    /// The GPU's architecture.
    pub architecture: Architecture,
    /// The GPU model name as NVML reports it.
    pub gpu_model: &'a str,
    /// Measured energy in joules (finite, `>= 0`).
    pub energy_j: f64,
    /// Start of the window, seconds (finite).
    pub start_s: f64,
    /// End of the window, seconds (finite, `>= start_s`).
    pub end_s: f64,
    /// Optional activity weight for [`ShareBasis::Activity`] (finite,
    /// `>= 0`; any consistent unit, e.g. SM-active seconds).
    pub activity: Option<f64>,
}

impl<'a> ResultRecord<'a> {
    /// A whole-GPU result with no activity.
    pub const fn whole_gpu(
        id: &'a str,
        gpu_uuid: &'a str,
        architecture: Architecture,
        gpu_model: &'a str,
        energy_j: f64,
        start_s: f64,
        end_s: f64,
    ) -> Self {
        Self {
            id,
            gpu_uuid,
            parent_gpu_uuid: None,
            is_mig: false,
            profile: None,
            architecture,
            gpu_model,
            energy_j,
            start_s,
            end_s,
            activity: None,
        }
    }

    /// A MIG-instance result with no activity.
    #[allow(clippy::too_many_arguments)]
    pub const fn mig(
        id: &'a str,
        gpu_uuid: &'a str,
        parent_gpu_uuid: &'a str,
        profile: &'a str,
        architecture: Architecture,
        gpu_model: &'a str,
        energy_j: f64,
        start_s: f64,
        end_s: f64,
    ) -> Self {
        Self {
            id,
            gpu_uuid,
            parent_gpu_uuid: Some(parent_gpu_uuid),
            is_mig: true,
            profile: Some(profile),
            architecture,
            gpu_model,
            energy_j,
            start_s,
            end_s,
            activity: None,
        }
    }

    /// This record with an activity weight.
    pub const fn with_activity(mut self, activity: f64) -> Self {
        self.activity = Some(activity);
        self
    }

    pub(super) fn overlaps(&self, other: &Self) -> bool {
        let lo = if self.start_s > other.start_s {
            self.start_s
        } else {
            other.start_s
        };
        let hi = if self.end_s < other.end_s {
            self.end_s
        } else {
            other.end_s
        };
        lo < hi
    }

    /// The parent of a MIG result; an empty UUID is no parent.
    pub(super) fn mig_parent(&self) -> Option<&'a str> {
        if self.is_mig {
            self.parent_gpu_uuid.filter(|p| !p.is_empty())
        } else {
            None
        }
    }
}

/// What an estimated share is based on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ShareBasis {
    /// The profile's compute slices over the GPU's.
    ComputeSlices,
    /// The caller's activity figures.
    Activity,
}

impl ShareBasis {
    /// `"compute slices"` or `"activity"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::ComputeSlices => "compute slices",
            Self::Activity => "activity",
        }
    }
}

/// Options of a check.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CheckOptions {
    /// `Some(basis)` to emit `WL-MIG-007` estimated shares; `None` (the
    /// default) never apportions energy.
    pub estimate_shares: Option<ShareBasis>,
}

/// Why a check failed. Input errors are found before any warning is
/// produced.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CheckError {
    /// `energy_j` is NaN, infinite or negative.
    InvalidEnergy {
        /// Index of the record.
        index: usize,
        /// What is wrong with it.
        error: FloatError,
    },
    /// `start_s` or `end_s` is NaN or infinite.
    InvalidTime {
        /// Index of the record.
        index: usize,
        /// What is wrong with it.
        error: FloatError,
    },
    /// `end_s < start_s`.
    EndBeforeStart {
        /// Index of the record.
        index: usize,
    },
    /// `activity` is NaN, infinite or negative.
    InvalidActivity {
        /// Index of the record.
        index: usize,
        /// What is wrong with it.
        error: FloatError,
    },
    /// [`ShareBasis::Activity`] was asked for and a MIG result with a parent
    /// has no activity.
    MissingActivity {
        /// Index of the record.
        index: usize,
    },
    /// The scratch lent to the check has fewer places than
    /// [`scratch_len`](super::scratch_len) asks for; nothing was checked.
    ScratchTooSmall {
        /// Places the records need.
        needed: usize,
        /// Places given.
        available: usize,
    },
    /// The output buffer cannot hold every warning; nothing was written.
    CapacityExceeded {
        /// Warnings the check produces.
        needed: usize,
        /// Free room in the buffer.
        available: usize,
    },
    /// The sink given to [`for_each_warning`](super::for_each_warning) refused a warning.
    SinkFull,
}

impl fmt::Display for CheckError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidEnergy { index, error } => write!(f, "record {index}: energy {error}"),
            Self::InvalidTime { index, error } => write!(f, "record {index}: time {error}"),
            Self::EndBeforeStart { index } => write!(f, "record {index}: end is before start"),
            Self::InvalidActivity { index, error } => {
                write!(f, "record {index}: activity {error}")
            }
            Self::MissingActivity { index } => {
                write!(
                    f,
                    "record {index}: activity share asked for but no activity given"
                )
            }
            Self::ScratchTooSmall { needed, available } => write!(
                f,
                "the check needs {needed} places of scratch and was given {available}"
            ),
            Self::CapacityExceeded { needed, available } => write!(
                f,
                "{needed} warning(s) do not fit the {available} free place(s) of the buffer"
            ),
            Self::SinkFull => f.write_str("the warning sink is full"),
        }
    }
}

impl core::error::Error for CheckError {}
