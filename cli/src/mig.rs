//! `wattledger mig-check` and `wattledger mig-profiles`.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use wattledger_core::mig::catalog::{gpu_by_catalog_name, gpus};
use wattledger_core::mig::{
    Architecture, CheckOptions, GpuModel, ResultRecord, Severity, ShareBasis, WarningCode, find_gpu,
};

use crate::{CliError, CliResult, exit, out, outln, print_json};
use wattledger_std::mig_warnings;
use wattledger_std::model_file::{json_error, read_file};

#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// Results file (JSON: {"results": [{id, gpu_uuid, parent_uuid?, is_mig,
    /// mig_profile?, arch?, gpu_model?, energy_j, start_s, end_s, activity?}]}).
    results: PathBuf,
    /// Print the warnings as JSON.
    #[arg(long)]
    json: bool,
    /// Also estimate each MIG instance's share of its parent's energy
    /// (WL-MIG-007), by compute slices or by the results' `activity`.
    #[arg(long, value_name = "BASIS", num_args = 0..=1, default_missing_value = "compute-slices")]
    estimate_shares: Option<String>,
    /// Exit 6 when a warning of this severity or worse is reported: `error`
    /// (the default: WL-MIG-002, WL-MIG-006), `warning` (any warning or
    /// error; info-only WL-MIG-007 shares never count), or `never` (exit 0
    /// whatever is found, for reports).
    #[arg(long, value_enum, value_name = "SEVERITY", default_value_t = FailOn::Error)]
    fail_on: FailOn,
}

/// The least severity that makes `mig-check` fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FailOn {
    /// Never fail on findings.
    Never,
    /// Fail on an error-severity warning.
    Error,
    /// Fail on any warning or error.
    Warning,
}

impl FailOn {
    /// The least severity that fails, if any.
    fn threshold(self) -> Option<Severity> {
        match self {
            FailOn::Never => None,
            FailOn::Error => Some(Severity::Error),
            FailOn::Warning => Some(Severity::Warning),
        }
    }
}

/// The exit status for `warnings` under `fail_on`: [`exit::FINDINGS`] when
/// one is at or above the threshold, else [`exit::OK`].
fn findings_status(warnings: &[mig_warnings::MigWarning], fail_on: FailOn) -> i32 {
    let failing = fail_on.threshold().is_some_and(|least| {
        warnings
            .iter()
            .any(|w| WarningCode::from_number(w.number).is_some_and(|c| c.severity() >= least))
    });
    if failing { exit::FINDINGS } else { exit::OK }
}

#[derive(Debug, clap::Args)]
pub struct ProfilesArgs {
    /// A GPU: catalog name (H100-80GB-SXM5) or the name NVML reports
    /// ("NVIDIA H100 80GB HBM3"). Without it: every GPU.
    gpu: Option<String>,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ResultsFile {
    results: Vec<ResultEntry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ResultEntry {
    id: String,
    gpu_uuid: String,
    #[serde(default)]
    parent_uuid: Option<String>,
    is_mig: bool,
    #[serde(default)]
    mig_profile: Option<String>,
    /// Name ("hopper") or NVML number (9).
    #[serde(default)]
    arch: Option<serde_json::Value>,
    #[serde(default)]
    gpu_model: Option<String>,
    energy_j: f64,
    start_s: f64,
    end_s: f64,
    #[serde(default)]
    activity: Option<f64>,
}

fn architecture(v: &Option<serde_json::Value>, id: &str) -> CliResult<Architecture> {
    match v {
        None | Some(serde_json::Value::Null) => Ok(Architecture::Unknown(Architecture::NVML_UNKNOWN)),
        Some(serde_json::Value::String(s)) => Architecture::from_name(s).ok_or_else(|| {
            CliError::input(format!(
                "result '{id}': unknown arch `{s}`; use a name (ampere, hopper, blackwell, …) or NVML's number"
            ))
        }),
        Some(serde_json::Value::Number(n)) => n
            .as_u64()
            .and_then(|n| u32::try_from(n).ok())
            .map(Architecture::from_nvml)
            .ok_or_else(|| CliError::input(format!("result '{id}': arch {n} is not an NVML number"))),
        Some(other) => Err(CliError::input(format!(
            "result '{id}': arch must be a name or a number, not {other}"
        ))),
    }
}

pub fn check(args: &CheckArgs) -> CliResult {
    let text = read_file(&args.results, "results file")?;
    let file: ResultsFile =
        serde_json::from_str(&text).map_err(|e| CliError::from(json_error(&args.results, &e)))?;
    let basis = match args.estimate_shares.as_deref() {
        None => None,
        Some("compute-slices") => Some(ShareBasis::ComputeSlices),
        Some("activity") => Some(ShareBasis::Activity),
        Some(other) => {
            return Err(CliError::usage(format!(
                "--estimate-shares `{other}`: use compute-slices or activity"
            )));
        }
    };
    let mut records = Vec::with_capacity(file.results.len());
    for r in &file.results {
        let arch = architecture(&r.arch, &r.id)?;
        let model = r.gpu_model.as_deref().unwrap_or("");
        let mut rec = if r.is_mig {
            let mut m = ResultRecord::mig(
                &r.id,
                &r.gpu_uuid,
                r.parent_uuid.as_deref().unwrap_or(""),
                r.mig_profile.as_deref().unwrap_or(""),
                arch,
                model,
                r.energy_j,
                r.start_s,
                r.end_s,
            );
            m.parent_gpu_uuid = r.parent_uuid.as_deref();
            m.profile = r.mig_profile.as_deref();
            m
        } else {
            ResultRecord::whole_gpu(
                &r.id,
                &r.gpu_uuid,
                arch,
                model,
                r.energy_j,
                r.start_s,
                r.end_s,
            )
        };
        if let Some(a) = r.activity {
            rec = rec.with_activity(a);
        }
        records.push(rec);
    }
    let options = CheckOptions {
        estimate_shares: basis,
    };
    let warnings = mig_warnings::check(&records, &options).map_err(|e| {
        // Record indices are the file's order: name the result.
        let message = e.to_string();
        CliError::input(format!("{}: {message}", args.results.display()))
    })?;
    if args.json {
        print_json(&serde_json::json!({
            "results": records.len(),
            "warnings": warnings,
        }))?;
    } else {
        let mut s = String::new();
        outln!(
            s,
            "{} result(s), {} warning(s)",
            records.len(),
            warnings.len()
        );
        for w in &warnings {
            outln!(s, "{} {}: {}", w.code, w.severity, w.message);
        }
        out::stdout(&s)?;
    }
    Ok(findings_status(&warnings, args.fail_on))
}

#[derive(Debug, Serialize)]
struct ProfileJson {
    name: &'static str,
    compute_slices: u32,
    memory_slices: u32,
    memory_gb: u32,
    max_instances: u32,
    sm_count: Option<u32>,
    note: Option<&'static str>,
}

#[derive(Debug, Serialize)]
struct GpuJson {
    gpu: &'static str,
    architecture: String,
    pci_device_id: Option<String>,
    compute_slices: u32,
    memory_slices: u32,
    profiles: Vec<ProfileJson>,
}

fn gpu_json(g: &GpuModel) -> GpuJson {
    GpuJson {
        gpu: g.name(),
        architecture: g.architecture().to_string(),
        pci_device_id: g.pci_device_id().map(|id| format!("0x{id:04X}")),
        compute_slices: g.compute_slices(),
        memory_slices: g.memory_slices(),
        profiles: g
            .profiles()
            .iter()
            .map(|p| ProfileJson {
                name: p.name(),
                compute_slices: p.compute_slices(),
                memory_slices: p.memory_slices(),
                memory_gb: p.memory_gb(),
                max_instances: p.max_instances(),
                sm_count: p.sm_count(),
                note: p.note(),
            })
            .collect(),
    }
}

pub fn profiles(args: &ProfilesArgs) -> CliResult {
    let list: Vec<&GpuModel> = match &args.gpu {
        None => gpus().iter().collect(),
        Some(name) => {
            let g = gpu_by_catalog_name(name)
                .or_else(|| find_gpu(name))
                .ok_or_else(|| {
                    CliError::input(format!(
                        "no GPU `{name}` in the MIG catalog; known: {}",
                        gpus()
                            .iter()
                            .map(|g| g.name())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ))
                })?;
            vec![g]
        }
    };
    let data: Vec<GpuJson> = list.iter().map(|g| gpu_json(g)).collect();
    if args.json {
        print_json(&data)?;
        return Ok(exit::OK);
    }
    let mut s = String::new();
    for (i, g) in data.iter().enumerate() {
        if i > 0 {
            outln!(s);
        }
        outln!(
            s,
            "{} ({}, PCI {}): {} compute slices, {} memory slices",
            g.gpu,
            g.architecture,
            g.pci_device_id.as_deref().unwrap_or("?"),
            g.compute_slices,
            g.memory_slices
        );
        outln!(
            s,
            "  {:<16} {:>7} {:>7} {:>6} {:>5} {:>5}  note",
            "profile",
            "compute",
            "memory",
            "GB",
            "max",
            "SMs"
        );
        for p in &g.profiles {
            outln!(
                s,
                "  {:<16} {:>7} {:>7} {:>6} {:>5} {:>5}  {}",
                p.name,
                p.compute_slices,
                p.memory_slices,
                p.memory_gb,
                p.max_instances,
                p.sm_count.map_or("?".to_string(), |n| n.to_string()),
                p.note.unwrap_or("")
            );
        }
    }
    out::stdout(&s)?;
    Ok(exit::OK)
}
