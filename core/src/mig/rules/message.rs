//! The words of every warning, written once for every output (terminal,
//! JSON, C buffers).

use core::fmt;

use super::warning::{UnknownProfileReason, Warning, WarningDetail};

/// The message of a [`Warning`], from [`Warning::message`].
#[derive(Clone, Copy, Debug)]
pub struct Message<'w, 'a>(pub(super) &'w Warning<'a>);

impl fmt::Display for Message<'_, '_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self.0.detail() {
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
                whole_gpu_results,
                instances,
                profiles,
            } => {
                write!(f, "{results} result(s) on {instances} MIG instance(s) (")?;
                if profiles.is_empty() {
                    f.write_str("profile not reported")?;
                } else {
                    write!(f, "{profiles}")?;
                }
                f.write_str(")")?;
                if whole_gpu_results > 0 {
                    write!(f, " and {whole_gpu_results} whole-GPU result(s)")?;
                }
                write!(
                    f,
                    " of parent GPU {parent_gpu_uuid} overlap in time, up to \
                     {overcount_factor} at once; adding their energies counts the parent's \
                     energy up to {overcount_factor} times over the overlap"
                )
            }
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
            WarningDetail::MissingParent {
                result_id,
                gpu_uuid,
            } => write!(
                f,
                "result {result_id}: MIG result on {gpu_uuid} without its parent GPU's UUID; \
                 its energy is some GPU's total, but whose is unknown, so its overlaps with \
                 other results of that GPU (WL-MIG-002) cannot be checked"
            ),
            WarningDetail::TooManyInstances {
                parent_gpu_uuid,
                profile,
                gpu,
                instances,
                max_instances,
            } => write!(
                f,
                "{instances} distinct MIG instances of profile {profile} on parent GPU \
                 {parent_gpu_uuid}, but {} holds at most {max_instances} at once; check the \
                 instance and parent UUIDs (or the instances were recreated between results)",
                gpu.name()
            ),
        }
    }
}
