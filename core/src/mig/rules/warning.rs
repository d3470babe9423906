//! What the rules say: codes, severities, the figures of each warning.

use core::fmt;

use super::message::Message;
use super::record::{CheckError, ShareBasis};
use crate::mig::arch::Architecture;
use crate::mig::catalog::GpuModel;
use crate::mig::profile::{Profile, ProfileError};

/// The most distinct profiles one warning lists.
pub const MAX_PROFILES: usize = 16;

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
}

impl WarningCode {
    /// Every code, in numeric order.
    pub const ALL: [Self; 7] = [
        Self::ParentPower,
        Self::SharedParent,
        Self::MixedScopes,
        Self::MixedProfiles,
        Self::UnknownProfile,
        Self::MigUnsupported,
        Self::EstimatedShare,
    ];

    /// `"WL-MIG-001"` … `"WL-MIG-007"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::ParentPower => "WL-MIG-001",
            Self::SharedParent => "WL-MIG-002",
            Self::MixedScopes => "WL-MIG-003",
            Self::MixedProfiles => "WL-MIG-004",
            Self::UnknownProfile => "WL-MIG-005",
            Self::MigUnsupported => "WL-MIG-006",
            Self::EstimatedShare => "WL-MIG-007",
        }
    }

    /// The number (1 … 7).
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
        }
    }
}

impl fmt::Display for WarningCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A deduplicated, sorted list of profile names borrowed from the records.
///
/// Names that parse are compared and ordered as [`Profile`]s and printed
/// canonically; names that do not parse are kept as written, compared by
/// text, after the parsed ones.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct ProfileList<'a> {
    len: u8,
    items: [&'a str; MAX_PROFILES],
}

impl<'a> ProfileList<'a> {
    /// An empty list.
    pub const fn new() -> Self {
        Self {
            len: 0,
            items: [""; MAX_PROFILES],
        }
    }

    /// Adds a name unless an equal one is there.
    ///
    /// # Errors
    /// [`CheckError::TooManyProfiles`] when a new name does not fit; the
    /// list is then unchanged.
    pub fn insert(&mut self, name: &'a str) -> Result<(), CheckError> {
        let key = sort_key(name);
        let len = usize::from(self.len);
        let mut at = len;
        for (i, have) in self.iter().enumerate() {
            match cmp_keys(&sort_key(have), &key) {
                core::cmp::Ordering::Equal => return Ok(()),
                core::cmp::Ordering::Greater => {
                    at = i;
                    break;
                }
                core::cmp::Ordering::Less => {}
            }
        }
        if len >= MAX_PROFILES {
            return Err(CheckError::TooManyProfiles {
                capacity: MAX_PROFILES,
            });
        }
        if let Some(tail) = self.items.get_mut(at..=len) {
            tail.rotate_right(1);
            if let Some(first) = tail.first_mut() {
                *first = name;
            }
        }
        self.len = self.len.saturating_add(1);
        Ok(())
    }

    /// The names as first seen, in sorted order.
    pub fn as_slice(&self) -> &[&'a str] {
        self.items.get(..usize::from(self.len)).unwrap_or(&[])
    }

    /// Iterates the names as first seen, in sorted order.
    pub fn iter(&self) -> impl Iterator<Item = &'a str> + '_ {
        self.as_slice().iter().copied()
    }

    /// How many distinct profiles.
    pub const fn len(&self) -> usize {
        self.len as usize
    }

    /// Whether the list is empty.
    pub const fn is_empty(&self) -> bool {
        self.len == 0
    }
}

impl Default for ProfileList<'_> {
    fn default() -> Self {
        Self::new()
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

fn sort_key(name: &str) -> Result<Profile, &str> {
    Profile::parse(name).map_err(|_| name)
}

fn cmp_keys(a: &Result<Profile, &str>, b: &Result<Profile, &str>) -> core::cmp::Ordering {
    use core::cmp::Ordering::{Greater, Less};
    match (a, b) {
        (Ok(x), Ok(y)) => x.cmp(y),
        (Ok(_), Err(_)) => Less,
        (Err(_), Ok(_)) => Greater,
        (Err(x), Err(y)) => x.cmp(y),
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
        /// The largest number of its results overlapping at one instant
        /// (≥ 2).
        overcount_factor: usize,
        /// MIG results on this parent.
        results: usize,
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
