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
//! * [`rules`]: the `WL-MIG-001` … `WL-MIG-007` warnings over a set of
//!   results;
//! * [`cuda`]: classify the tokens of `CUDA_VISIBLE_DEVICES`.

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
    WarningDetail, check, count_warnings, for_each_warning,
};
