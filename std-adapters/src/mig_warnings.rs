//! MIG warnings for measured windows, as owned values for printing and JSON.
//!
//! The core's rules engine ([`wattledger_core::mig`]) works on borrowed
//! records without allocating. Here the monitor's per-device reports are
//! turned into those records and the warnings into owned, serializable
//! values, so the command, the C ABI and Rust callers all say the same thing
//! in the same words.

use wattledger_core::mig::{self, Architecture, CheckError, CheckOptions, ResultRecord};

use crate::monitor::DeviceWindowReport;

/// One MIG warning, rendered.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct MigWarning {
    /// Stable code, `WL-MIG-001` … `WL-MIG-007`.
    pub code: String,
    /// The code's number, 1 … 7.
    pub number: u16,
    /// `info`, `warning` or `error`.
    pub severity: String,
    /// The rendered message.
    pub message: String,
}

impl std::fmt::Display for MigWarning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}: {}", self.code, self.severity, self.message)
    }
}

/// Runs the MIG rules over `records` and renders every warning.
///
/// # Errors
/// The engine's [`CheckError`] for a record with a non-finite or negative
/// energy, bad times, or bad activity.
pub fn check(
    records: &[ResultRecord<'_>],
    options: &CheckOptions,
) -> Result<Vec<MigWarning>, CheckError> {
    let mut out = Vec::new();
    mig::for_each_warning(records, options, |w| {
        out.push(MigWarning {
            code: w.code().as_str().to_string(),
            number: w.code().number(),
            severity: w.severity().as_str().to_string(),
            message: w.message().to_string(),
        });
        Ok(())
    })?;
    Ok(out)
}

/// What the rules need to know about one measured window, owned.
#[derive(Debug, Clone, PartialEq)]
struct OwnedRecord {
    id: String,
    gpu_uuid: String,
    parent: Option<String>,
    is_mig: bool,
    profile: Option<String>,
    architecture: Architecture,
    gpu_model: String,
    energy_j: f64,
    start_s: f64,
    end_s: f64,
}

/// MIG warnings for the reports of one window.
///
/// NVML measures physical GPUs only. `mig_instances` names the MIG instances
/// (`MIG-…` UUIDs) the measured program ran on, as `CUDA_VISIBLE_DEVICES`
/// gave them; each becomes a MIG result carrying its parent's energy, so two
/// instances of one GPU raise `WL-MIG-002` rather than being added up in
/// silence. A GPU in MIG mode with none of its instances named becomes one
/// MIG result without a profile (the program ran on some instance, which we
/// cannot tell). Other GPUs are whole-GPU results.
///
/// # Errors
/// As [`check`]; a report whose energy is not finite is one.
pub fn for_window(
    reports: &[DeviceWindowReport],
    mig_instances: &[String],
    options: &CheckOptions,
) -> Result<Vec<MigWarning>, CheckError> {
    let mut owned = Vec::new();
    for r in reports {
        let d = &r.device;
        let base = OwnedRecord {
            id: d.uuid.clone(),
            gpu_uuid: d.uuid.clone(),
            parent: None,
            is_mig: false,
            profile: None,
            architecture: Architecture::from_nvml(d.architecture.unwrap_or(0)),
            gpu_model: d.name.clone(),
            energy_j: r.report.energy_j,
            start_s: r.report.start_ns as f64 * 1e-9,
            end_s: r.report.end_ns as f64 * 1e-9,
        };
        let mig = d.mig.as_ref().filter(|m| m.current_enabled);
        let Some(mig) = mig else {
            owned.push(base);
            continue;
        };
        let named: Vec<_> = mig
            .instances
            .iter()
            .filter(|i| mig_instances.contains(&i.uuid))
            .collect();
        if named.is_empty() {
            owned.push(OwnedRecord {
                parent: Some(d.uuid.clone()),
                is_mig: true,
                ..base.clone()
            });
        }
        for i in named {
            owned.push(OwnedRecord {
                id: i.uuid.clone(),
                gpu_uuid: i.uuid.clone(),
                parent: Some(i.parent_uuid.clone()),
                is_mig: true,
                profile: i.profile.clone(),
                ..base.clone()
            });
        }
    }
    let records: Vec<ResultRecord<'_>> = owned
        .iter()
        .map(|o| ResultRecord {
            id: &o.id,
            gpu_uuid: &o.gpu_uuid,
            parent_gpu_uuid: o.parent.as_deref(),
            is_mig: o.is_mig,
            profile: o.profile.as_deref(),
            architecture: o.architecture,
            gpu_model: &o.gpu_model,
            energy_j: o.energy_j,
            start_s: o.start_s,
            end_s: o.end_s,
            activity: None,
        })
        .collect();
    check(&records, options)
}
