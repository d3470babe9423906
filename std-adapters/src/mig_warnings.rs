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
    /// Stable code, `WL-MIG-001` … `WL-MIG-009`.
    pub code: String,
    /// The code's number, 1 … 9.
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
/// Any number of results and of distinct profiles: the engine's scratch
/// ([`mig::scratch_len`] indices) is allocated here, and the check is
/// O(n log n).
///
/// # Errors
/// The engine's [`CheckError`] for a record with a non-finite or negative
/// energy, bad times, or bad activity.
pub fn check(
    records: &[ResultRecord<'_>],
    options: &CheckOptions,
) -> Result<Vec<MigWarning>, CheckError> {
    let mut out = Vec::new();
    let mut scratch = vec![0usize; mig::scratch_len(records.len())];
    mig::for_each_warning(records, options, &mut scratch, |w: &mig::Warning<'_>| {
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

/// The MIG result a window report stands for.
fn record_of(r: &DeviceWindowReport) -> OwnedRecord {
    let d = &r.device;
    let (physical, instances) = match &r.measured {
        Some(m) => (&m.device, m.mig_instances.as_slice()),
        None => (d, &[][..]),
    };
    let base = OwnedRecord {
        id: d.uuid.clone(),
        gpu_uuid: d.uuid.clone(),
        parent: None,
        is_mig: false,
        profile: None,
        architecture: Architecture::from_nvml(
            physical.architecture.unwrap_or(Architecture::NVML_UNKNOWN),
        ),
        gpu_model: physical.name.clone(),
        energy_j: r.report.energy_j,
        start_s: r.report.start_ns as f64 * 1e-9,
        end_s: r.report.end_ns as f64 * 1e-9,
    };
    match instances {
        // The program ran on one instance: its result, with the parent's energy.
        [one] => OwnedRecord {
            id: one.uuid.clone(),
            gpu_uuid: one.uuid.clone(),
            parent: Some(one.parent_uuid.clone()),
            is_mig: true,
            profile: one.profile.clone(),
            ..base
        },
        // On several instances of one GPU, measured once: one result of
        // the parent. It has no one profile: a profile would make the rules
        // estimate a share of one instance for the work of several.
        many @ [_, _, ..] => OwnedRecord {
            id: format!("{} ({} MIG instances)", physical.uuid, many.len()),
            gpu_uuid: physical.uuid.clone(),
            parent: Some(physical.uuid.clone()),
            is_mig: true,
            profile: None,
            ..base
        },
        [] if r.report.mig.is_mig => OwnedRecord {
            parent: Some(r.report.mig.parent_uuid.to_string()).filter(|p| !p.is_empty()),
            is_mig: true,
            profile: Some(r.report.mig.profile.to_string()).filter(|p| !p.is_empty()),
            ..base
        },
        // A GPU in MIG mode with none of its instances named: the program
        // ran on some instance, which one we cannot tell.
        [] if physical.mig.as_ref().is_some_and(|m| m.current_enabled) => OwnedRecord {
            parent: Some(d.uuid.clone()),
            is_mig: true,
            ..base
        },
        [] => base,
    }
}

/// MIG results and warnings for the reports of one window: the only path
/// from measured windows to the MIG rules, for the command, the C ABI and
/// Rust callers alike.
///
/// Each report is one result, because each is one measured energy:
/// - a GPU measured for one visible MIG instance is that instance's result
///   (the energy is still the parent's: `WL-MIG-001`);
/// - a GPU measured once for several visible instances
///   ([`DeviceWindowReport::measured`]) is one MIG result of the parent,
///   with the instance count in its id and no profile (`WL-MIG-005` says
///   so; no share of one instance is estimated for the work of several).
///   Its energy is reported once, so nothing is counted twice and no
///   `WL-MIG-002` arises; that error is for results that *do* each carry
///   the parent's energy (two windows, two processes, two tools);
/// - a report whose meter was told it measures a MIG instance (a trace of
///   one) is that instance's result;
/// - a GPU in MIG mode with no instance named is a MIG result without a
///   profile (the program ran on some instance, which we cannot tell);
/// - anything else is a whole-GPU result.
///
/// # Errors
/// As [`check`]; a report whose energy is not finite is one.
pub fn for_window(
    reports: &[DeviceWindowReport],
    options: &CheckOptions,
) -> Result<Vec<MigWarning>, CheckError> {
    with_results(reports, |records| check(records, options))
}

/// The MIG results of [`for_window`], borrowed, handed to `f`: for callers
/// that need the rules' figures rather than rendered text (the C ABI fills
/// its own warning structs from them), so every caller starts from the same
/// results.
pub fn with_results<R>(
    reports: &[DeviceWindowReport],
    f: impl FnOnce(&[ResultRecord<'_>]) -> R,
) -> R {
    let owned: Vec<OwnedRecord> = reports.iter().map(record_of).collect();
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
    f(&records)
}
