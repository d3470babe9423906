//! The MIG profiles of every MIG-capable GPU this library knows, compiled in
//! from `core/data/mig-profiles.csv` by `core/build.rs` (nothing is read at
//! run time).
//!
//! A GPU is found by the name NVML reports ([`find_gpu`]) or by its PCI
//! device id ([`find_gpu_by_pci_device_id`]); a profile is checked against
//! it with [`GpuModel::find_profile`].

use super::arch::Architecture;
use super::profile::Profile;

/// One GPU-instance profile of a GPU model (one row of the CSV).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProfileSpec {
    name: &'static str,
    compute_slices: u32,
    memory_slices: u32,
    memory_gb: u32,
    max_instances: u32,
    sm_count: Option<u32>,
    note: Option<&'static str>,
}

impl ProfileSpec {
    /// The profile name as NVIDIA writes it (`1g.10gb+me`).
    pub const fn name(&self) -> &'static str {
        self.name
    }

    /// The name parsed. `None` never happens for the compiled-in table (a
    /// test parses every row) but keeps this free of panics.
    pub fn profile(&self) -> Option<Profile> {
        Profile::parse(self.name).ok()
    }

    /// Compute slices of the GPU instance.
    pub const fn compute_slices(&self) -> u32 {
        self.compute_slices
    }

    /// Memory slices of the GPU instance.
    pub const fn memory_slices(&self) -> u32 {
        self.memory_slices
    }

    /// Memory in GB.
    pub const fn memory_gb(&self) -> u32 {
        self.memory_gb
    }

    /// The most instances of this profile that fit on one GPU at once.
    pub const fn max_instances(&self) -> u32 {
        self.max_instances
    }

    /// Streaming multiprocessors of one instance, where known.
    pub const fn sm_count(&self) -> Option<u32> {
        self.sm_count
    }

    /// A free-text remark from the data file.
    pub const fn note(&self) -> Option<&'static str> {
        self.note
    }
}

/// A MIG-capable GPU model and its profiles.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GpuModel {
    name: &'static str,
    pci_device_id: Option<u16>,
    architecture: Architecture,
    compute_slices: u32,
    memory_slices: u32,
    profiles: &'static [ProfileSpec],
}

/// A profile found on a GPU: the catalog row of its GPU instance, and the
/// compute slices of the profile asked about (fewer than the row's for a
/// compute-instance profile such as `1c.3g.40gb`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProfileMatch {
    /// The GPU-instance row.
    pub spec: &'static ProfileSpec,
    /// Compute slices the profile uses (`c`).
    pub compute_slices: u32,
}

impl GpuModel {
    /// The catalog name (`A100-40GB`, `H100-80GB-SXM5`).
    pub const fn name(&self) -> &'static str {
        self.name
    }

    /// The PCI device id, where the data file gives one.
    pub const fn pci_device_id(&self) -> Option<u16> {
        self.pci_device_id
    }

    /// The architecture.
    pub const fn architecture(&self) -> Architecture {
        self.architecture
    }

    /// Compute slices of the whole GPU (7 on A100/H100/B200, 4 on A30).
    pub const fn compute_slices(&self) -> u32 {
        self.compute_slices
    }

    /// Memory slices of the whole GPU (8 on A100/H100/B200, 4 on A30).
    pub const fn memory_slices(&self) -> u32 {
        self.memory_slices
    }

    /// The GPU-instance profiles, in the data file's order.
    pub const fn profiles(&self) -> &'static [ProfileSpec] {
        self.profiles
    }

    /// The catalog row for `profile` on this GPU. A GPU-instance profile
    /// must equal a row (attributes compared as sets). A compute-instance
    /// profile `<c>c.<g>g.<mem>gb` is accepted when its GPU instance
    /// `<g>g.<mem>gb` is a row and `1 <= c <= g` (the catalog does not list
    /// compute-instance profiles; NVIDIA offers compute instances of every
    /// size up to the GPU instance's, in NVIDIA's fixed sizes, so this check
    /// is slightly more permissive than the hardware).
    pub fn find_profile(&self, profile: &Profile) -> Option<ProfileMatch> {
        let c = profile.compute_slices();
        if c == 0 || c > profile.gpu_slices() {
            return None;
        }
        let gi = profile.gpu_instance();
        self.profiles
            .iter()
            .find(|spec| spec.profile() == Some(gi))
            .map(|spec| ProfileMatch {
                spec,
                compute_slices: c,
            })
    }

    /// Whether `profile` exists on this GPU ([`Self::find_profile`]).
    pub fn is_valid_profile(&self, profile: &Profile) -> bool {
        self.find_profile(profile).is_some()
    }

    /// The row with this exact name, as written (`1g.10gb+me`).
    pub fn profile_by_name(&self, name: &str) -> Option<&'static ProfileSpec> {
        self.profiles.iter().find(|p| p.name == name)
    }
}

include!(concat!(env!("OUT_DIR"), "/mig_catalog.rs"));

/// Every GPU model, in the data file's order.
pub fn gpus() -> &'static [GpuModel] {
    GPUS
}

/// The GPU with this catalog name, compared ignoring ASCII case.
pub fn gpu_by_catalog_name(name: &str) -> Option<&'static GpuModel> {
    GPUS.iter().find(|g| g.name.eq_ignore_ascii_case(name))
}

/// The GPU with this PCI device id. Accepts the bare 16-bit device id
/// (`0x2321`) or NVML's `pciDeviceId`, which holds the device id in the
/// upper 16 bits and the vendor id in the lower (`0x232110DE`); in the
/// latter form a vendor other than NVIDIA (`0x10DE`) finds nothing.
pub fn find_gpu_by_pci_device_id(id: u32) -> Option<&'static GpuModel> {
    let device = if id <= 0xFFFF {
        id
    } else if id & 0xFFFF == 0x10DE {
        id >> 16
    } else {
        return None;
    };
    GPUS.iter()
        .find(|g| g.pci_device_id.is_some_and(|d| u32::from(d) == device))
}

/// The words of a GPU name: maximal runs of ASCII letters and digits.
pub(crate) fn name_words(name: &str) -> impl Iterator<Item = &str> {
    name.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
}

/// A memory size word such as `80GB` or `144G`.
fn memory_word(word: &str) -> Option<u32> {
    let upper_gb = word.len() > 2
        && word
            .get(word.len() - 2..)
            .is_some_and(|s| s.eq_ignore_ascii_case("gb"));
    let digits = if upper_gb {
        word.get(..word.len() - 2)
    } else if word.len() > 1
        && word
            .get(word.len() - 1..)
            .is_some_and(|s| s.eq_ignore_ascii_case("g"))
    {
        word.get(..word.len() - 1)
    } else {
        None
    }?;
    super::profile::parse_decimal(digits).ok()
}

/// Finds a GPU by the name NVML reports, forgivingly.
///
/// The name is cut into words at every character that is not an ASCII
/// letter or digit, case is ignored, and a leading `NVIDIA` is skipped. A
/// catalog name itself (`H100-80GB-SXM5`) always matches. Otherwise the
/// first word is the family and decides, with the first memory word
/// (`80GB`, `144G`) and a few form-factor words:
///
/// | family | rule | catalog entry |
/// |---|---|---|
/// | `A30` | — | `A30-24GB` |
/// | `A100` | memory 40 / 80 (no memory: none) | `A100-40GB` / `A100-80GB` |
/// | `H100` | word `NVL` or memory 94 | `H100-NVL-94GB` |
/// | `H100` | memory 96 | `H100-96GB` |
/// | `H100` | word `PCIe` | `H100-80GB-PCIe` |
/// | `H100` | word `HBM3`, `SXM5` or `SXM` (memory 80 or none) | `H100-80GB-SXM5` |
/// | `H20` | — | `H100-96GB` |
/// | `GH200` | memory 144 or word `HBM3e` | `GH200-144GB` |
/// | `GH200` | memory 96 or 480 (the 480 GB module has 96 GB HBM3) | `H100-96GB` |
/// | `H200` | any (`H200`, `H200 NVL`, `H200 141GB HBM3e`) | `H200-141GB` |
/// | `B200`, `GB200` | — | `B200`, `GB200` |
/// | `RTX` | words `PRO`, `6000` and `Blackwell` (any edition) | `RTX-PRO-6000-Blackwell` |
///
/// So `NVIDIA A100-SXM4-40GB`, `NVIDIA H100 80GB HBM3` and `NVIDIA H200`
/// all match; a name the table leaves ambiguous (`NVIDIA H100`, `A100`)
/// matches nothing rather than guessing.
pub fn find_gpu(name: &str) -> Option<&'static GpuModel> {
    if let Some(g) = gpu_by_catalog_name(name.trim()) {
        return Some(g);
    }
    let mut words = name_words(name).peekable();
    if words
        .peek()
        .is_some_and(|w| w.eq_ignore_ascii_case("nvidia"))
    {
        words.next();
    }
    let family = words.next()?;
    let has = |wanted: &str| name_words(name).any(|w| w.eq_ignore_ascii_case(wanted));
    let memory = name_words(name).find_map(memory_word);
    let is = |f: &str| family.eq_ignore_ascii_case(f);
    let target = if is("A30") {
        "A30-24GB"
    } else if is("A100") {
        match memory {
            Some(40) => "A100-40GB",
            Some(80) => "A100-80GB",
            _ => return None,
        }
    } else if is("H100") {
        if has("NVL") || memory == Some(94) {
            "H100-NVL-94GB"
        } else if memory == Some(96) {
            "H100-96GB"
        } else if has("PCIe") {
            "H100-80GB-PCIe"
        } else if (memory.is_none() || memory == Some(80))
            && (has("HBM3") || has("SXM5") || has("SXM"))
        {
            "H100-80GB-SXM5"
        } else {
            return None;
        }
    } else if is("H20") {
        "H100-96GB"
    } else if is("GH200") {
        if memory == Some(144) || has("HBM3e") {
            "GH200-144GB"
        } else if memory == Some(96) || memory == Some(480) {
            "H100-96GB"
        } else {
            return None;
        }
    } else if is("H200") {
        "H200-141GB"
    } else if is("B200") {
        "B200"
    } else if is("GB200") {
        "GB200"
    } else if is("RTX") && has("PRO") && has("6000") && has("Blackwell") {
        "RTX-PRO-6000-Blackwell"
    } else {
        return None;
    };
    gpu_by_catalog_name(target)
}
