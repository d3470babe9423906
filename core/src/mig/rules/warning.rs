//! What the rules say: codes, severities, the figures of each warning.

use core::fmt;

use super::message::Message;
use super::order::rank_of;
use super::record::{ResultRecord, ShareBasis};
use crate::mig::arch::Architecture;
use crate::mig::catalog::GpuModel;
use crate::mig::profile::{Profile, ProfileError};

/// How serious a warning is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Severity {
    /// Information, e.g. an estimate the caller asked for.
    Info,
    /// The numbers need care.
    Warning,
    /// The numbers are wrong if used as they are.
    Error,
}

impl Severity {
    /// `"info"`, `"warning"` or `"error"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Info => "info",
            Self::Warning => "warning",
            Self::Error => "error",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The stable warning codes. The numeric value (`WL-MIG-00n` → n) is never
/// reused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u16)]
pub enum WarningCode {
    /// `WL-MIG-001`: energy is the parent GPU's.
    ParentPower = 1,
    /// `WL-MIG-002`: overlapping instances of one parent.
    SharedParent = 2,
    /// `WL-MIG-003`: MIG and whole-GPU results mixed.
    MixedScopes = 3,
    /// `WL-MIG-004`: different profiles compared.
    MixedProfiles = 4,
    /// `WL-MIG-005`: unknown or unparseable profile.
    UnknownProfile = 5,
    /// `WL-MIG-006`: MIG on hardware that cannot do MIG.
    MigUnsupported = 6,
    /// `WL-MIG-007`: estimated share (opt-in).
    EstimatedShare = 7,
    /// `WL-MIG-008`: a MIG result without its parent GPU.
    MissingParent = 8,
    /// `WL-MIG-009`: more instances of a profile than the GPU can hold.
    TooManyInstances = 9,
}

impl WarningCode {
    /// Every code, in numeric order.
    pub const ALL: [Self; 9] = [
        Self::ParentPower,
        Self::SharedParent,
        Self::MixedScopes,
        Self::MixedProfiles,
        Self::UnknownProfile,
        Self::MigUnsupported,
        Self::EstimatedShare,
        Self::MissingParent,
        Self::TooManyInstances,
    ];

    /// `"WL-MIG-001"` … `"WL-MIG-009"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::ParentPower => "WL-MIG-001",
            Self::SharedParent => "WL-MIG-002",
            Self::MixedScopes => "WL-MIG-003",
            Self::MixedProfiles => "WL-MIG-004",
            Self::UnknownProfile => "WL-MIG-005",
            Self::MigUnsupported => "WL-MIG-006",
            Self::EstimatedShare => "WL-MIG-007",
            Self::MissingParent => "WL-MIG-008",
            Self::TooManyInstances => "WL-MIG-009",
        }
    }

    /// The number (1 … 9).
    pub const fn number(self) -> u16 {
        self as u16
    }

    /// The code with this number.
    pub const fn from_number(n: u16) -> Option<Self> {
        match n {
            1 => Some(Self::ParentPower),
            2 => Some(Self::SharedParent),
            3 => Some(Self::MixedScopes),
            4 => Some(Self::MixedProfiles),
            5 => Some(Self::UnknownProfile),
            6 => Some(Self::MigUnsupported),
            7 => Some(Self::EstimatedShare),
            8 => Some(Self::MissingParent),
            9 => Some(Self::TooManyInstances),
            _ => None,
        }
    }

    /// The code for its text, `"WL-MIG-002"`.
    pub fn from_str_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == code)
    }

    /// The fixed severity of this code.
    pub const fn severity(self) -> Severity {
        match self {
            Self::SharedParent | Self::MigUnsupported => Severity::Error,
            Self::EstimatedShare => Severity::Info,
            _ => Severity::Warning,
        }
    }

    /// A short title (`"parent power"`).
    pub const fn title(self) -> &'static str {
        match self {
            Self::ParentPower => "parent power",
            Self::SharedParent => "shared parent",
            Self::MixedScopes => "mixed scopes",
            Self::MixedProfiles => "mixed profiles",
            Self::UnknownProfile => "unknown profile",
            Self::MigUnsupported => "MIG unsupported",
            Self::EstimatedShare => "estimated share",
            Self::MissingParent => "missing parent",
            Self::TooManyInstances => "too many instances",
        }
    }
}

impl fmt::Display for WarningCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The distinct profiles of a set of records, sorted: a view of the
/// records through indices sorted by profile (in the caller's scratch), so
/// a list has no fixed length and costs nothing to copy.
///
/// Names that parse are compared and ordered as [`Profile`]s and printed
/// canonically; names that do not parse are kept as written, compared by
/// text, after the parsed ones. Equal profiles written differently
/// (`1c.1g.10gb`, `1g.10gb`) appear once.
#[derive(Clone, Copy)]
pub struct ProfileList<'a> {
    records: &'a [ResultRecord<'a>],
    sorted: &'a [usize],
    ranks: &'a [usize],
}

impl<'a> ProfileList<'a> {
    /// An empty list.
    pub const EMPTY: ProfileList<'static> = ProfileList {
        records: &[],
        sorted: &[],
        ranks: &[],
    };

    /// The profiles of `records[i]` for each `i` of `sorted`, which is
    /// sorted by `ranks[i]`, the canonical rank of each record's profile
    /// (records without one are skipped).
    pub(super) const fn new(
        records: &'a [ResultRecord<'a>],
        sorted: &'a [usize],
        ranks: &'a [usize],
    ) -> Self {
        Self {
            records,
            sorted,
            ranks,
        }
    }

    /// Iterates the distinct names in sorted order (of equal profiles, the
    /// spelling of the first record in the list's order).
    pub fn iter(&self) -> impl Iterator<Item = &'a str> + 'a {
        let (records, ranks) = (self.records, self.ranks);
        let mut last = None;
        self.sorted
            .iter()
            .filter_map(move |&i| Some((rank_of(ranks, i), records.get(i)?.profile?)))
            .filter(move |&(rank, _)| {
                let new = last != Some(rank);
                last = Some(rank);
                new
            })
            .map(|(_, name)| name)
    }

    /// How many distinct profiles (counted by walking the list).
    pub fn len(&self) -> usize {
        self.iter().count()
    }

    /// Whether the list is empty.
    pub fn is_empty(&self) -> bool {
        self.iter().next().is_none()
    }
}

impl Default for ProfileList<'_> {
    fn default() -> Self {
        ProfileList::EMPTY
    }
}

impl PartialEq for ProfileList<'_> {
    /// Lists are equal when they name the same profiles in the same order.
    fn eq(&self, other: &Self) -> bool {
        self.iter().eq(other.iter())
    }
}

impl fmt::Debug for ProfileList<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl fmt::Display for ProfileList<'_> {
    /// `1g.10gb, 3g.40gb, 'bogus'`: canonical names, unparseable ones quoted.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, name) in self.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            match Profile::parse(name) {
                Ok(p) => write!(f, "{p}")?,
                Err(_) => write!(f, "'{name}'")?,
            }
        }
        Ok(())
    }
}

/// Why a MIG profile is flagged by `WL-MIG-005`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnknownProfileReason {
    /// The result is MIG but reports no profile.
    Missing,
    /// The profile name does not parse.
    Unparseable(ProfileError),
    /// The GPU model is not in the catalog, so the profile cannot be checked.
    GpuNotInCatalog,
    /// The GPU is in the catalog and has no such profile.
    NotOnGpu(&'static GpuModel),
}

/// What a warning is about, with its figures.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum WarningDetail<'a> {
    /// `WL-MIG-001`.
    ParentPower {
        /// MIG results.
        results: usize,
        /// Distinct MIG instances (by `gpu_uuid`).
        instances: usize,
        /// Their profiles.
        profiles: ProfileList<'a>,
    },
    /// `WL-MIG-002`.
    SharedParent {
        /// The parent GPU.
        parent_gpu_uuid: &'a str,
        /// The largest number of its results (MIG and whole-GPU) whose
        /// windows contain one instant (≥ 2).
        overcount_factor: usize,
        /// MIG results on this parent.
        results: usize,
        /// Whole-GPU results of the same physical GPU.
        whole_gpu_results: usize,
        /// Distinct instances among them.
        instances: usize,
        /// Their profiles.
        profiles: ProfileList<'a>,
    },
    /// `WL-MIG-003`.
    MixedScopes {
        /// MIG results.
        mig_results: usize,
        /// Whole-GPU results.
        whole_gpu_results: usize,
    },
    /// `WL-MIG-004`.
    MixedProfiles {
        /// The distinct profiles (two or more).
        profiles: ProfileList<'a>,
    },
    /// `WL-MIG-005`.
    UnknownProfile {
        /// The result.
        result_id: &'a str,
        /// The profile as reported.
        profile: Option<&'a str>,
        /// The GPU model as reported.
        gpu_model: &'a str,
        /// Why.
        reason: UnknownProfileReason,
    },
    /// `WL-MIG-006`.
    MigUnsupported {
        /// The result.
        result_id: &'a str,
        /// The GPU model as reported.
        gpu_model: &'a str,
        /// Its architecture.
        architecture: Architecture,
    },
    /// `WL-MIG-007`, an estimate.
    EstimatedShare {
        /// The result.
        result_id: &'a str,
        /// The parent GPU.
        parent_gpu_uuid: &'a str,
        /// The basis actually used.
        basis: ShareBasis,
        /// The fraction of the parent's energy, in `[0, 1]`.
        fraction: f64,
        /// The parent's energy over the window (the result's `energy_j`).
        parent_energy_j: f64,
        /// `parent_energy_j × fraction`.
        share_j: f64,
    },
    /// `WL-MIG-008`.
    MissingParent {
        /// The result.
        result_id: &'a str,
        /// The MIG instance it names.
        gpu_uuid: &'a str,
    },
    /// `WL-MIG-009`.
    TooManyInstances {
        /// The parent GPU.
        parent_gpu_uuid: &'a str,
        /// The profile, as one of its results reports it.
        profile: &'a str,
        /// The GPU model in the catalog.
        gpu: &'static GpuModel,
        /// Distinct instances (by `gpu_uuid`) of the profile on the parent.
        instances: usize,
        /// The most the GPU holds at once.
        max_instances: u32,
    },
}

/// One warning: a code, its severity and the figures. Rendered without
/// allocation by [`Warning::write_message`] or `Display`
/// (`WL-MIG-001 warning: …`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Warning<'a> {
    detail: WarningDetail<'a>,
}

impl<'a> Warning<'a> {
    /// Wraps a detail.
    pub const fn new(detail: WarningDetail<'a>) -> Self {
        Self { detail }
    }

    /// The code.
    pub const fn code(&self) -> WarningCode {
        match self.detail {
            WarningDetail::ParentPower { .. } => WarningCode::ParentPower,
            WarningDetail::SharedParent { .. } => WarningCode::SharedParent,
            WarningDetail::MixedScopes { .. } => WarningCode::MixedScopes,
            WarningDetail::MixedProfiles { .. } => WarningCode::MixedProfiles,
            WarningDetail::UnknownProfile { .. } => WarningCode::UnknownProfile,
            WarningDetail::MigUnsupported { .. } => WarningCode::MigUnsupported,
            WarningDetail::EstimatedShare { .. } => WarningCode::EstimatedShare,
            WarningDetail::MissingParent { .. } => WarningCode::MissingParent,
            WarningDetail::TooManyInstances { .. } => WarningCode::TooManyInstances,
        }
    }

    /// The severity (fixed per code).
    pub const fn severity(&self) -> Severity {
        self.code().severity()
    }

    /// The figures.
    pub const fn detail(&self) -> &WarningDetail<'a> {
        &self.detail
    }

    /// The message alone, as a `Display` value.
    pub const fn message(&self) -> Message<'_, 'a> {
        Message(self)
    }

    /// Writes the message (without code and severity) into any
    /// `core::fmt::Write`, e.g. a `heapless::String` or a caller's buffer.
    ///
    /// # Errors
    /// Whatever the writer returns (a full buffer).
    pub fn write_message<W: fmt::Write>(&self, out: &mut W) -> fmt::Result {
        write!(out, "{}", self.message())
    }
}

impl fmt::Display for Warning<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}: {}", self.code(), self.severity(), self.message())
    }
}
