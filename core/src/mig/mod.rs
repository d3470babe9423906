//! Multi-Instance GPU (MIG) rules.
//!
//! On a MIG instance NVML and DCGM report the power and energy of the whole
//! physical GPU, never of the instance. A sum over results measured on
//! several instances of one GPU therefore counts that GPU more than once.
//! This module gives the facts and checks needed to say so, all without
//! allocation:
//!
//! * [`profile`]: parse and print profile names (`1g.10gb`, `1c.3g.40gb`,
//!   `1g.24gb+me.all`) with go-nvlib's grammar and one typed error per
//!   malformed form;
//! * [`catalog`]: the compiled-in profiles of every MIG-capable GPU (from
//!   `core/data/mig-profiles.csv`), found by NVML name or PCI device id;
//! * [`arch`]: NVML architecture numbers and capability queries
//!   ([`arch::supports_mig`], [`arch::mig_with_nvlink_fabric`]);
//! * [`rules`]: the `WL-MIG-001` … `WL-MIG-009` warnings over a set of
//!   results, in O(n log n) and caller-lent scratch ([`scratch_len`]);
//! * [`cuda`]: classify the tokens of `CUDA_VISIBLE_DEVICES`.
//!
//! ```
//! use wattledger_core::mig::{check, scratch_len, Architecture, CheckOptions, ResultRecord, WarningCode};
//!
//! let parent = "GPU-00000000-0000-0000-0000-000000000001";
//! let h100 = "NVIDIA H100 80GB HBM3";
//! let records = [
//!     ResultRecord::mig("a", "MIG-1", parent, "1g.10gb", Architecture::Hopper, h100, 500.0, 0.0, 10.0),
//!     ResultRecord::mig("b", "MIG-2", parent, "3g.40gb", Architecture::Hopper, h100, 520.0, 5.0, 15.0),
//! ];
//! // Room for the engine's sorted views: no allocation, no fixed limit.
//! let mut scratch = [0usize; scratch_len(2)];
//! let mut out: heapless::Vec<_, 8> = heapless::Vec::new();
//! let found = check(&records, &CheckOptions::default(), &mut scratch, &mut out);
//! assert_eq!(found, Ok(3));
//! let codes: heapless::Vec<WarningCode, 8> = out.iter().map(|w| w.code()).collect();
//! // Parent power, shared parent (the windows overlap over [5, 10)), mixed profiles.
//! assert_eq!(codes, [WarningCode::ParentPower, WarningCode::SharedParent, WarningCode::MixedProfiles]);
//! ```

pub mod arch;
pub mod catalog;
pub mod cuda;
pub mod profile;
pub mod rules;

pub use arch::{Architecture, MigSupport, mig_with_nvlink_fabric, supports_mig};
pub use catalog::{GpuModel, ProfileMatch, ProfileSpec, find_gpu, find_gpu_by_pci_device_id};
pub use cuda::{DeviceToken, DeviceTokenError, Uuid, classify_token, visible_devices};
pub use profile::{AttributeSign, Profile, ProfileError};
pub use rules::{
    CheckError, CheckOptions, ResultRecord, Severity, ShareBasis, Warning, WarningCode,
    WarningDetail, check, count_warnings, for_each_warning, scratch_len,
};
