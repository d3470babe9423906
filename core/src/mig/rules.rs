//! The MIG rules engine: warnings over a set of measured results.
//!
//! NVML and DCGM report power and energy for the physical GPU only, so a
//! result measured "on" a MIG instance carries the parent GPU's energy. The
//! engine looks at a bounded slice of borrowed [`ResultRecord`]s (no
//! allocation; the work is O(n²) in the number of records, meant for
//! hundreds or a few thousand) and reports:
//!
//! | code | severity | when |
//! |---|---|---|
//! | `WL-MIG-001` | warning | any result ran on a MIG instance: once, with the result and distinct-instance counts and the profiles |
//! | `WL-MIG-002` | error | per parent GPU: two or more of its MIG results overlap in time ([overcount factor](#overcount-factor)) |
//! | `WL-MIG-003` | warning | MIG and whole-GPU results are in the same set |
//! | `WL-MIG-004` | warning | the MIG results have two or more distinct profiles |
//! | `WL-MIG-005` | warning | per MIG result: profile missing, unparseable, GPU not in the catalog, or profile not on that GPU |
//! | `WL-MIG-006` | error | per MIG result on hardware that cannot run MIG ([`supports_mig`] says unsupported) |
//! | `WL-MIG-007` | info | only with [`CheckOptions::estimate_shares`]: per MIG result, its estimated share of the parent's energy |
//!
//! Warnings come out in that order of codes; within a code, in the order of
//! the first record concerned. Profiles are compared in canonical form
//! (`1c.1g.10gb` is `1g.10gb`); profile lists are deduplicated and sorted
//! (smaller instances first, unparseable names last by text).
//!
//! # Overcount factor
//! Each result covers the half-open window `[start_s, end_s)`. For a parent
//! GPU, the factor is the largest number of its MIG results whose windows
//! all contain one instant. Windows that only touch (`end == start`) do not
//! overlap; an empty window overlaps nothing. Two overlapping results give
//! 2; the sum of their energies counts the parent's energy up to that many
//! times over the overlap. Results on the same instance count too (their
//! sum double counts just the same). MIG results without a parent UUID
//! cannot be grouped and are left out of `WL-MIG-002` and `WL-MIG-007`.
//!
//! # Estimated shares
//! A MIG result's energy `E` is the parent's over its window. Its share is
//! `E × fraction`:
//! * [`ShareBasis::ComputeSlices`]: `fraction = c / C`, the profile's
//!   compute slices over the GPU's total (from the catalog). Over a full
//!   partition (7 × `1g.10gb` on an H100 sharing one window) the shares add
//!   up to the parent's energy; idle slices' energy is left unattributed.
//!   A result whose profile or GPU is not in the catalog gets no share
//!   (`WL-MIG-005` says why).
//! * [`ShareBasis::Activity`]: `fraction = a / Σa`, its activity over the
//!   activities of the results of the same parent whose windows overlap its
//!   own (itself included). When that sum is zero the compute-slice share is
//!   used instead and the warning says so ([`WarningDetail::EstimatedShare`]
//!   `basis`).

use core::fmt;

use super::arch::{Architecture, MigSupport, supports_mig};
use super::catalog::{self, GpuModel};
use super::profile::{Profile, ProfileError};

/// The most distinct profiles one warning lists.
pub const MAX_PROFILES: usize = 16;

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

    fn overlaps(&self, other: &Self) -> bool {
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

    fn contains(&self, t: f64) -> bool {
        self.start_s <= t && t < self.end_s
    }

    fn mig_parent(&self) -> Option<&'a str> {
        if self.is_mig {
            self.parent_gpu_uuid
        } else {
            None
        }
    }
}

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

/// The message of a [`Warning`], from [`Warning::message`].
#[derive(Clone, Copy, Debug)]
pub struct Message<'w, 'a>(&'w Warning<'a>);

impl fmt::Display for Message<'_, '_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0.detail {
            WarningDetail::ParentPower {
                results,
                instances,
                profiles,
            } => {
                write!(
                    f,
                    "{results} result(s) ran on {instances} MIG instance(s) ("
                )?;
                if profiles.is_empty() {
                    f.write_str("profile not reported")?;
                } else {
                    write!(f, "{profiles}")?;
                }
                f.write_str("); their energy is the parent GPU's total, not the instance's")
            }
            WarningDetail::SharedParent {
                parent_gpu_uuid,
                overcount_factor,
                results,
                instances,
                profiles,
            } => write!(
                f,
                "{results} result(s) on {instances} MIG instance(s) ({profiles}) of parent \
                 GPU {parent_gpu_uuid} overlap in time, up to {overcount_factor} at once; \
                 adding their energies counts the parent's energy up to {overcount_factor} \
                 times over the overlap"
            ),
            WarningDetail::MixedScopes {
                mig_results,
                whole_gpu_results,
            } => write!(
                f,
                "{mig_results} MIG result(s) and {whole_gpu_results} whole-GPU result(s) are \
                 aggregated together; a MIG result's energy is its parent GPU's, so the \
                 scopes are not comparable"
            ),
            WarningDetail::MixedProfiles { profiles } => write!(
                f,
                "MIG instances of different profiles are compared ({profiles}); each reports \
                 its parent GPU's energy, so per-instance figures are not comparable"
            ),
            WarningDetail::UnknownProfile {
                result_id,
                profile,
                gpu_model,
                reason,
            } => {
                write!(f, "result {result_id}: ")?;
                let name = profile.unwrap_or("");
                match reason {
                    UnknownProfileReason::Missing => f.write_str("MIG result without a profile"),
                    UnknownProfileReason::Unparseable(e) => {
                        write!(f, "MIG profile '{name}' cannot be parsed: {e}")
                    }
                    UnknownProfileReason::GpuNotInCatalog => write!(
                        f,
                        "MIG profile '{name}' cannot be checked: GPU '{gpu_model}' is not in \
                         the MIG catalog"
                    ),
                    UnknownProfileReason::NotOnGpu(gpu) => write!(
                        f,
                        "MIG profile '{name}' does not exist on {} ('{gpu_model}')",
                        gpu.name()
                    ),
                }
            }
            WarningDetail::MigUnsupported {
                result_id,
                gpu_model,
                architecture,
            } => write!(
                f,
                "result {result_id}: reported as MIG on '{gpu_model}' ({architecture}), which \
                 cannot run MIG"
            ),
            WarningDetail::EstimatedShare {
                result_id,
                parent_gpu_uuid,
                basis,
                fraction,
                parent_energy_j,
                share_j,
            } => write!(
                f,
                "result {result_id}: ESTIMATED share {share_j:.3} J of parent GPU \
                 {parent_gpu_uuid}'s {parent_energy_j:.3} J ({:.2}% by {}); an estimate, not \
                 a measurement",
                fraction * 100.0,
                basis.as_str()
            ),
        }
    }
}

/// Why a check failed. Input errors are found before any warning is
/// produced.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CheckError {
    /// `energy_j` is NaN, infinite or negative.
    InvalidEnergy {
        /// Index of the record.
        index: usize,
    },
    /// `start_s` or `end_s` is NaN or infinite.
    InvalidTime {
        /// Index of the record.
        index: usize,
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
    },
    /// [`ShareBasis::Activity`] was asked for and a MIG result with a parent
    /// has no activity.
    MissingActivity {
        /// Index of the record.
        index: usize,
    },
    /// A warning would list more than [`MAX_PROFILES`] profiles.
    TooManyProfiles {
        /// [`MAX_PROFILES`].
        capacity: usize,
    },
    /// The output buffer cannot hold every warning; nothing was written.
    CapacityExceeded {
        /// Warnings the check produces.
        needed: usize,
        /// Free room in the buffer.
        available: usize,
    },
    /// The sink given to [`for_each_warning`] refused a warning.
    SinkFull,
}

impl fmt::Display for CheckError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidEnergy { index } => {
                write!(
                    f,
                    "record {index}: energy is not a finite non-negative number"
                )
            }
            Self::InvalidTime { index } => write!(f, "record {index}: time is not finite"),
            Self::EndBeforeStart { index } => write!(f, "record {index}: end is before start"),
            Self::InvalidActivity { index } => {
                write!(
                    f,
                    "record {index}: activity is not a finite non-negative number"
                )
            }
            Self::MissingActivity { index } => {
                write!(
                    f,
                    "record {index}: activity share asked for but no activity given"
                )
            }
            Self::TooManyProfiles { capacity } => {
                write!(f, "more than {capacity} distinct profiles in one warning")
            }
            Self::CapacityExceeded { needed, available } => write!(
                f,
                "{needed} warning(s) do not fit the {available} free place(s) of the buffer"
            ),
            Self::SinkFull => f.write_str("the warning sink is full"),
        }
    }
}

impl core::error::Error for CheckError {}

/// Returned by a sink of [`for_each_warning`] that cannot take more.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct SinkFull;

/// Checks the records and appends every warning to `out`.
///
/// All or nothing: the warnings are counted first, and `out` is changed
/// only when every one fits. Returns how many were appended.
///
/// # Errors
/// Input errors ([`CheckError::InvalidEnergy`], `InvalidTime`,
/// `EndBeforeStart`, `InvalidActivity`, `MissingActivity`),
/// `TooManyProfiles`, and `CapacityExceeded` when `out` lacks room; `out`
/// is unchanged in every case.
pub fn check<'a, const N: usize>(
    records: &[ResultRecord<'a>],
    options: &CheckOptions,
    out: &mut heapless::Vec<Warning<'a>, N>,
) -> Result<usize, CheckError> {
    let needed = count_warnings(records, options)?;
    let available = N.saturating_sub(out.len());
    if needed > available {
        return Err(CheckError::CapacityExceeded { needed, available });
    }
    let before = out.len();
    let result = run(records, options, &mut |w| {
        out.push(w)
            .map_err(|_| CheckError::CapacityExceeded { needed, available })
    });
    if let Err(e) = result {
        out.truncate(before);
        return Err(e);
    }
    Ok(needed)
}

/// How many warnings [`check`] would produce (to size a buffer).
///
/// # Errors
/// As [`check`], without `CapacityExceeded`.
pub fn count_warnings(
    records: &[ResultRecord<'_>],
    options: &CheckOptions,
) -> Result<usize, CheckError> {
    let mut n = 0usize;
    run(records, options, &mut |_| {
        n = n.saturating_add(1);
        Ok(())
    })?;
    Ok(n)
}

/// Checks the records and hands each warning to `sink` as it is produced
/// (for streaming output, a C callback, a printer). Input errors are found
/// before the first call. Returns how many warnings were handed over.
///
/// # Errors
/// As [`count_warnings`], and [`CheckError::SinkFull`] when the sink
/// returns [`SinkFull`]; the warnings it accepted before stay with it.
pub fn for_each_warning<'a, F>(
    records: &[ResultRecord<'a>],
    options: &CheckOptions,
    mut sink: F,
) -> Result<usize, CheckError>
where
    F: FnMut(&Warning<'a>) -> Result<(), SinkFull>,
{
    let mut n = 0usize;
    run(records, options, &mut |w| {
        sink(&w).map_err(|SinkFull| CheckError::SinkFull)?;
        n = n.saturating_add(1);
        Ok(())
    })?;
    Ok(n)
}

fn finite_non_negative(v: f64) -> bool {
    v.is_finite() && v >= 0.0
}

fn validate(records: &[ResultRecord<'_>], options: &CheckOptions) -> Result<(), CheckError> {
    for (index, r) in records.iter().enumerate() {
        if !finite_non_negative(r.energy_j) {
            return Err(CheckError::InvalidEnergy { index });
        }
        if !r.start_s.is_finite() || !r.end_s.is_finite() {
            return Err(CheckError::InvalidTime { index });
        }
        if r.end_s < r.start_s {
            return Err(CheckError::EndBeforeStart { index });
        }
        if let Some(a) = r.activity {
            if !finite_non_negative(a) {
                return Err(CheckError::InvalidActivity { index });
            }
        }
        if options.estimate_shares == Some(ShareBasis::Activity)
            && r.mig_parent().is_some()
            && r.activity.is_none()
        {
            return Err(CheckError::MissingActivity { index });
        }
    }
    Ok(())
}

type Emit<'e, 'a> = dyn FnMut(Warning<'a>) -> Result<(), CheckError> + 'e;

/// Whether `records[i]` is the first record (by index) for which `same`
/// holds against it.
fn first_of<'a>(
    records: &[ResultRecord<'a>],
    i: usize,
    same: impl Fn(&ResultRecord<'a>, &ResultRecord<'a>) -> bool,
) -> bool {
    let Some(me) = records.get(i) else {
        return false;
    };
    !records.iter().take(i).any(|other| same(other, me))
}

/// The compute-slice fraction `c / C` of a MIG record, where the catalog
/// knows both.
fn slice_fraction(r: &ResultRecord<'_>) -> Option<f64> {
    let profile = Profile::parse(r.profile?).ok()?;
    let gpu = catalog::find_gpu(r.gpu_model)?;
    let m = gpu.find_profile(&profile)?;
    if gpu.compute_slices() == 0 {
        return None;
    }
    Some(f64::from(m.compute_slices) / f64::from(gpu.compute_slices()))
}

fn run<'a>(
    records: &[ResultRecord<'a>],
    options: &CheckOptions,
    emit: &mut Emit<'_, 'a>,
) -> Result<(), CheckError> {
    validate(records, options)?;
    let migs = || records.iter().filter(|r| r.is_mig);
    let mig_results = migs().count();
    let whole_gpu_results = records.len().saturating_sub(mig_results);

    // Profiles of all MIG results (for 001 and 004).
    let mut all_profiles = ProfileList::new();
    for name in migs().filter_map(|r| r.profile) {
        all_profiles.insert(name)?;
    }

    // WL-MIG-001
    if mig_results > 0 {
        let instances = (0..records.len())
            .filter(|&i| records.get(i).is_some_and(|r| r.is_mig))
            .filter(|&i| first_of(records, i, |a, b| a.is_mig && a.gpu_uuid == b.gpu_uuid))
            .count();
        emit(Warning::new(WarningDetail::ParentPower {
            results: mig_results,
            instances,
            profiles: all_profiles,
        }))?;
    }

    // WL-MIG-002, one per parent in order of first appearance.
    for (i, r) in records.iter().enumerate() {
        let Some(parent) = r.mig_parent() else {
            continue;
        };
        if !first_of(records, i, |a, b| {
            a.mig_parent().is_some() && a.mig_parent() == b.mig_parent()
        }) {
            continue;
        }
        let group = || {
            records
                .iter()
                .filter(move |x| x.mig_parent() == Some(parent))
        };
        let factor = group()
            .map(|k| group().filter(|j| j.contains(k.start_s)).count())
            .max()
            .unwrap_or(0);
        if factor < 2 {
            continue;
        }
        let mut profiles = ProfileList::new();
        for name in group().filter_map(|x| x.profile) {
            profiles.insert(name)?;
        }
        let results = group().count();
        let instances = (0..records.len())
            .filter(|&j| {
                records
                    .get(j)
                    .is_some_and(|x| x.mig_parent() == Some(parent))
            })
            .filter(|&j| {
                first_of(records, j, |a, b| {
                    a.mig_parent() == Some(parent) && a.gpu_uuid == b.gpu_uuid
                })
            })
            .count();
        emit(Warning::new(WarningDetail::SharedParent {
            parent_gpu_uuid: parent,
            overcount_factor: factor,
            results,
            instances,
            profiles,
        }))?;
    }

    // WL-MIG-003
    if mig_results > 0 && whole_gpu_results > 0 {
        emit(Warning::new(WarningDetail::MixedScopes {
            mig_results,
            whole_gpu_results,
        }))?;
    }

    // WL-MIG-004
    if all_profiles.len() >= 2 {
        emit(Warning::new(WarningDetail::MixedProfiles {
            profiles: all_profiles,
        }))?;
    }

    // WL-MIG-005
    for r in migs() {
        let unsupported = supports_mig(r.architecture, r.gpu_model) == MigSupport::Unsupported;
        let reason = match r.profile.map(Profile::parse) {
            None => Some(UnknownProfileReason::Missing),
            Some(Err(e)) => Some(UnknownProfileReason::Unparseable(e)),
            Some(Ok(_)) if unsupported => None,
            Some(Ok(p)) => match catalog::find_gpu(r.gpu_model) {
                None => Some(UnknownProfileReason::GpuNotInCatalog),
                Some(gpu) if !gpu.is_valid_profile(&p) => Some(UnknownProfileReason::NotOnGpu(gpu)),
                Some(_) => None,
            },
        };
        if let Some(reason) = reason {
            emit(Warning::new(WarningDetail::UnknownProfile {
                result_id: r.id,
                profile: r.profile,
                gpu_model: r.gpu_model,
                reason,
            }))?;
        }
    }

    // WL-MIG-006
    for r in migs() {
        if supports_mig(r.architecture, r.gpu_model) == MigSupport::Unsupported {
            emit(Warning::new(WarningDetail::MigUnsupported {
                result_id: r.id,
                gpu_model: r.gpu_model,
                architecture: r.architecture,
            }))?;
        }
    }

    // WL-MIG-007
    if let Some(asked) = options.estimate_shares {
        for r in records {
            let Some(parent) = r.mig_parent() else {
                continue;
            };
            let by_activity = if asked == ShareBasis::Activity {
                let own = r.activity.unwrap_or(0.0);
                let total: f64 = records
                    .iter()
                    .filter(|x| x.mig_parent() == Some(parent))
                    .filter(|x| core::ptr::eq(*x, r) || x.overlaps(r))
                    .map(|x| x.activity.unwrap_or(0.0))
                    .sum();
                (total > 0.0).then(|| own / total)
            } else {
                None
            };
            let (basis, fraction) = match by_activity {
                Some(f) => (ShareBasis::Activity, f),
                None => match slice_fraction(r) {
                    Some(f) => (ShareBasis::ComputeSlices, f),
                    None => continue,
                },
            };
            emit(Warning::new(WarningDetail::EstimatedShare {
                result_id: r.id,
                parent_gpu_uuid: parent,
                basis,
                fraction,
                parent_energy_j: r.energy_j,
                share_j: r.energy_j * fraction,
            }))?;
        }
    }
    Ok(())
}
