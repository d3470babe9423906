//! GPU architectures (NVML's numbering) and the MIG capabilities that
//! follow from them.
//!
//! Behaviour is decided by capability queries ([`supports_mig`],
//! [`mig_with_nvlink_fabric`]) rather than by comparing chip names at every
//! call site, so a new architecture needs one change here.

use core::fmt;

use super::catalog::{self, GpuModel};

/// A GPU architecture, numbered as NVML's `nvmlDeviceArchitecture_t`
/// (`NVML_DEVICE_ARCH_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Architecture {
    /// Kepler, NVML 2.
    Kepler,
    /// Maxwell, NVML 3.
    Maxwell,
    /// Pascal, NVML 4.
    Pascal,
    /// Volta, NVML 5.
    Volta,
    /// Turing, NVML 6.
    Turing,
    /// Ampere, NVML 7.
    Ampere,
    /// Ada Lovelace, NVML 8.
    Ada,
    /// Hopper, NVML 9.
    Hopper,
    /// Blackwell, NVML 10.
    Blackwell,
    /// Any other value, kept exactly as NVML gave it (including
    /// `NVML_DEVICE_ARCH_UNKNOWN = 0xffffffff` and architectures newer than
    /// this library).
    Unknown(u32),
}

impl Architecture {
    /// NVML's value for `NVML_DEVICE_ARCH_UNKNOWN`. The C header names it
    /// `WL_ARCHITECTURE_UNKNOWN`; the marker below keeps cbindgen, which
    /// reads this crate, from writing it under a second name:
    ///
    /// cbindgen:ignore
    pub const NVML_UNKNOWN: u32 = 0xffff_ffff;

    /// The architecture for NVML's number; never fails, unknown numbers are
    /// kept in [`Architecture::Unknown`].
    pub const fn from_nvml(value: u32) -> Self {
        match value {
            2 => Self::Kepler,
            3 => Self::Maxwell,
            4 => Self::Pascal,
            5 => Self::Volta,
            6 => Self::Turing,
            7 => Self::Ampere,
            8 => Self::Ada,
            9 => Self::Hopper,
            10 => Self::Blackwell,
            other => Self::Unknown(other),
        }
    }

    /// NVML's number; `from_nvml(a.to_nvml()) == a` for every value made by
    /// `from_nvml`.
    pub const fn to_nvml(self) -> u32 {
        match self {
            Self::Kepler => 2,
            Self::Maxwell => 3,
            Self::Pascal => 4,
            Self::Volta => 5,
            Self::Turing => 6,
            Self::Ampere => 7,
            Self::Ada => 8,
            Self::Hopper => 9,
            Self::Blackwell => 10,
            Self::Unknown(v) => v,
        }
    }

    /// A lower-case name (`"hopper"`), or `"unknown"`.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Kepler => "kepler",
            Self::Maxwell => "maxwell",
            Self::Pascal => "pascal",
            Self::Volta => "volta",
            Self::Turing => "turing",
            Self::Ampere => "ampere",
            Self::Ada => "ada",
            Self::Hopper => "hopper",
            Self::Blackwell => "blackwell",
            Self::Unknown(_) => "unknown",
        }
    }

    /// Parses [`Self::name`] (any ASCII case) for the known architectures.
    pub fn from_name(name: &str) -> Option<Self> {
        [
            Self::Kepler,
            Self::Maxwell,
            Self::Pascal,
            Self::Volta,
            Self::Turing,
            Self::Ampere,
            Self::Ada,
            Self::Hopper,
            Self::Blackwell,
        ]
        .into_iter()
        .find(|a| a.name().eq_ignore_ascii_case(name))
    }

    /// Whether this is an architecture newer than Blackwell: an
    /// `Unknown(n)` with `10 < n < 0xffffffff`.
    pub const fn is_newer_than_known(self) -> bool {
        matches!(self, Self::Unknown(n) if n > 10 && n != Self::NVML_UNKNOWN)
    }
}

impl fmt::Display for Architecture {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Unknown(v) => write!(f, "unknown ({v})"),
            known => f.write_str(known.name()),
        }
    }
}

/// The answer to "can this GPU be partitioned with MIG?".
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MigSupport {
    /// Yes.
    Supported,
    /// No: a MIG result from this GPU is a contradiction.
    Unsupported,
    /// Not known to this library (a GPU it has no facts about).
    Unknown,
}

/// Whether a GPU can run MIG, from its architecture and its model name as
/// NVML reports it. The rule, in order:
///
/// 1. Kepler, Maxwell, Pascal, Volta, Turing and Ada: **unsupported** (MIG
///    first appeared with Ampere GA100, and Ada has no MIG part).
/// 2. A name holding the word `GeForce`: **unsupported** (no consumer part
///    has MIG).
/// 3. A name found in the catalog ([`catalog::find_gpu`]): **supported** —
///    that covers A100, A30 (Ampere GA100), the Hopper parts, B200, GB200
///    and the RTX PRO 6000 Blackwell.
/// 4. Hopper not in the catalog: **supported** (every Hopper part is a
///    GH100 data-centre part with MIG).
/// 5. Ampere not in the catalog: **unknown** (most Ampere parts are GA10x
///    without MIG, but GA100 variants such as the A800 have it).
/// 6. Blackwell not in the catalog: **unknown** (data-centre parts such as
///    B300 have MIG, workstation parts differ).
/// 7. An [`Architecture::Unknown`] value: **unknown**.
pub fn supports_mig(architecture: Architecture, gpu_model: &str) -> MigSupport {
    use Architecture as A;
    match architecture {
        A::Kepler | A::Maxwell | A::Pascal | A::Volta | A::Turing | A::Ada => {
            return MigSupport::Unsupported;
        }
        _ => {}
    }
    if catalog::name_words(gpu_model).any(|w| w.eq_ignore_ascii_case("geforce")) {
        return MigSupport::Unsupported;
    }
    if catalog::find_gpu(gpu_model).is_some() {
        return MigSupport::Supported;
    }
    match architecture {
        A::Hopper => MigSupport::Supported,
        _ => MigSupport::Unknown,
    }
}

/// Whether MIG instances can be used while the GPU takes part in an NVLink
/// fabric (Fabric Manager partitions): Hopper, Blackwell and any newer
/// architecture ([`Architecture::is_newer_than_known`]) yes; Ampere no (an
/// A100 in MIG mode is taken out of its fabric partition); architectures
/// without MIG, and unknown values, no.
pub const fn mig_with_nvlink_fabric(architecture: Architecture) -> bool {
    matches!(architecture, Architecture::Hopper | Architecture::Blackwell)
        || architecture.is_newer_than_known()
}

/// Total compute slices of a GPU model (7 on A100/H100, 4 on A30).
pub const fn total_compute_slices(gpu: &GpuModel) -> u32 {
    gpu.compute_slices()
}

/// Total memory slices of a GPU model (8 on A100/H100, 4 on A30).
pub const fn total_memory_slices(gpu: &GpuModel) -> u32 {
    gpu.memory_slices()
}
