//! One function per rule: each looks at the validated records and emits the
//! warnings of its code, in the order of the first record concerned.

use super::{CheckError, Emit, ProfileList, ResultRecord, ShareBasis, UnknownProfileReason};
use super::{Warning, WarningDetail};
use crate::mig::arch::{MigSupport, supports_mig};
use crate::mig::catalog;
use crate::mig::profile::Profile;

type Outcome = Result<(), CheckError>;

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

/// Distinct devices among the records for which `keep` holds.
fn distinct_instances<'a>(
    records: &[ResultRecord<'a>],
    keep: impl Fn(&ResultRecord<'a>) -> bool,
) -> usize {
    (0..records.len())
        .filter(|&i| records.get(i).is_some_and(&keep))
        .filter(|&i| first_of(records, i, |a, b| keep(a) && a.gpu_uuid == b.gpu_uuid))
        .count()
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

/// `WL-MIG-001`: once, when any result ran on a MIG instance.
pub(super) fn parent_power<'a>(
    records: &[ResultRecord<'a>],
    profiles: ProfileList<'a>,
    emit: &mut Emit<'_, 'a>,
) -> Outcome {
    let results = records.iter().filter(|r| r.is_mig).count();
    if results == 0 {
        return Ok(());
    }
    emit(Warning::new(WarningDetail::ParentPower {
        results,
        instances: distinct_instances(records, |r| r.is_mig),
        profiles,
    }))
}

/// `WL-MIG-002`: per parent GPU, in order of first appearance, when two or
/// more of its MIG results overlap in time.
pub(super) fn shared_parent<'a>(records: &[ResultRecord<'a>], emit: &mut Emit<'_, 'a>) -> Outcome {
    for (i, r) in records.iter().enumerate() {
        let Some(parent) = r.mig_parent() else {
            continue;
        };
        if !first_of(records, i, |a, b| {
            a.mig_parent().is_some() && a.mig_parent() == b.mig_parent()
        }) {
            continue;
        }
        let on_parent = |x: &ResultRecord<'a>| x.mig_parent() == Some(parent);
        let group = || records.iter().filter(move |x| on_parent(x));
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
        emit(Warning::new(WarningDetail::SharedParent {
            parent_gpu_uuid: parent,
            overcount_factor: factor,
            results: group().count(),
            instances: distinct_instances(records, on_parent),
            profiles,
        }))?;
    }
    Ok(())
}

/// `WL-MIG-003`: MIG and whole-GPU results in the same set.
pub(super) fn mixed_scopes<'a>(records: &[ResultRecord<'a>], emit: &mut Emit<'_, 'a>) -> Outcome {
    let mig_results = records.iter().filter(|r| r.is_mig).count();
    let whole_gpu_results = records.len().saturating_sub(mig_results);
    if mig_results == 0 || whole_gpu_results == 0 {
        return Ok(());
    }
    emit(Warning::new(WarningDetail::MixedScopes {
        mig_results,
        whole_gpu_results,
    }))
}

/// `WL-MIG-004`: two or more distinct profiles among the MIG results.
pub(super) fn mixed_profiles<'a>(profiles: ProfileList<'a>, emit: &mut Emit<'_, 'a>) -> Outcome {
    if profiles.len() < 2 {
        return Ok(());
    }
    emit(Warning::new(WarningDetail::MixedProfiles { profiles }))
}

/// `WL-MIG-005`: per MIG result whose profile is missing, unparseable, or
/// cannot be found on its GPU.
pub(super) fn unknown_profile<'a>(
    records: &[ResultRecord<'a>],
    emit: &mut Emit<'_, 'a>,
) -> Outcome {
    for r in records.iter().filter(|r| r.is_mig) {
        let unsupported = supports_mig(r.architecture, r.gpu_model) == MigSupport::Unsupported;
        let reason = match r.profile.map(Profile::parse) {
            None => Some(UnknownProfileReason::Missing),
            Some(Err(e)) => Some(UnknownProfileReason::Unparseable(e)),
            // WL-MIG-006 says what is wrong with those.
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
    Ok(())
}

/// `WL-MIG-006`: per MIG result on hardware that cannot run MIG.
pub(super) fn mig_unsupported<'a>(
    records: &[ResultRecord<'a>],
    emit: &mut Emit<'_, 'a>,
) -> Outcome {
    for r in records.iter().filter(|r| r.is_mig) {
        if supports_mig(r.architecture, r.gpu_model) == MigSupport::Unsupported {
            emit(Warning::new(WarningDetail::MigUnsupported {
                result_id: r.id,
                gpu_model: r.gpu_model,
                architecture: r.architecture,
            }))?;
        }
    }
    Ok(())
}

/// `WL-MIG-007`: per MIG result with a parent, its estimated share of the
/// parent's energy (only when the caller asks).
pub(super) fn estimated_share<'a>(
    records: &[ResultRecord<'a>],
    asked: ShareBasis,
    emit: &mut Emit<'_, 'a>,
) -> Outcome {
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
    Ok(())
}
