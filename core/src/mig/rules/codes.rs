//! One function per rule: each looks at the validated records and emits the
//! warnings of its code, in the order of the first record concerned.

use super::order::{
    FLAG_MIG_UNSUPPORTED, FLAG_UNKNOWN_PROFILE, Views, distinct, physical, rank_of, runs,
};
use super::{CheckError, Emit, ProfileList, ResultRecord, ShareBasis, UnknownProfileReason};
use super::{Warning, WarningDetail};
use crate::mig::arch::{MigSupport, supports_mig};
use crate::mig::catalog::{self, GpuModel};
use crate::mig::profile::Profile;

type Outcome = Result<(), CheckError>;

/// The part of `ids` (sorted by `key` first) whose key is `want`: two
/// binary searches.
fn run_of<'i, 'a>(
    ids: &'i [usize],
    records: &[ResultRecord<'a>],
    key: impl Fn(&ResultRecord<'a>) -> Option<&'a str>,
    want: &str,
) -> &'i [usize] {
    let k = |i: &usize| records.get(*i).and_then(&key);
    let lo = ids.partition_point(|i| k(i).is_none_or(|x| x < want));
    let hi = ids.partition_point(|i| k(i).is_none_or(|x| x <= want));
    ids.get(lo..hi).unwrap_or(&[])
}

/// The largest number of windows that contain one instant, for one group
/// given twice: `by_start` sorted by start, `by_end` by end (the same
/// records). A sweep over the starts: at each start `s`, the windows that
/// contain `s` are those started at or before it less those ended at or
/// before it (an end is exclusive, so an empty window counts nowhere).
fn max_overlap(by_start: &[usize], by_end: &[usize], records: &[ResultRecord<'_>]) -> usize {
    let start = |i: &usize| records.get(*i).map_or(f64::INFINITY, |r| r.start_s);
    let end = |i: &usize| records.get(*i).map_or(f64::INFINITY, |r| r.end_s);
    let mut best = 0usize;
    let mut started = 0usize;
    let mut ended = 0usize;
    while let Some(s) = by_start.get(started).map(start) {
        while by_start.get(started).is_some_and(|i| start(i) <= s) {
            started += 1;
        }
        while by_end.get(ended).is_some_and(|i| end(i) <= s) {
            ended += 1;
        }
        best = best.max(started.saturating_sub(ended));
    }
    best
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
    records: &'a [ResultRecord<'a>],
    views: &Views<'a>,
    emit: &mut Emit<'_, 'a>,
) -> Outcome {
    let results = records.iter().filter(|r| r.is_mig).count();
    if results == 0 {
        return Ok(());
    }
    emit(Warning::new(WarningDetail::ParentPower {
        results,
        instances: views.mig_instances,
        profiles: ProfileList::new(records, views.by_profile, views.ranks),
    }))
}

/// `WL-MIG-002`: per physical GPU with MIG results, in order of its UUID,
/// when two or more of its results (MIG results, and whole-GPU results of
/// the same GPU, each of which carries the whole GPU's energy) overlap in
/// time.
pub(super) fn shared_parent<'a>(
    records: &'a [ResultRecord<'a>],
    views: &Views<'a>,
    emit: &mut Emit<'_, 'a>,
) -> Outcome {
    let mut by_end = views.by_end;
    for group in runs(views.by_start, records, physical) {
        let (ends, rest) = by_end
            .split_at_checked(group.len())
            .unwrap_or((by_end, &[]));
        by_end = rest;
        let Some(parent) = group
            .first()
            .and_then(|&i| records.get(i))
            .and_then(physical)
        else {
            continue;
        };
        let mig_results = group
            .iter()
            .filter(|&&i| records.get(i).is_some_and(|r| r.is_mig))
            .count();
        if mig_results == 0 {
            continue;
        }
        let factor = max_overlap(group, ends, records);
        if factor < 2 {
            continue;
        }
        let mig_parent = |r: &ResultRecord<'a>| r.mig_parent();
        let profiles = run_of(views.by_parent_profile, records, mig_parent, parent);
        let instances = run_of(views.by_parent_instance, records, mig_parent, parent);
        emit(Warning::new(WarningDetail::SharedParent {
            parent_gpu_uuid: parent,
            overcount_factor: factor,
            results: mig_results,
            whole_gpu_results: group.len().saturating_sub(mig_results),
            instances: distinct(instances, records, |r| r.gpu_uuid),
            profiles: ProfileList::new(records, profiles, views.ranks),
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

/// Why `WL-MIG-005` concerns the MIG result `r`, if it does.
pub(super) fn unknown_profile_reason(r: &ResultRecord<'_>) -> Option<UnknownProfileReason> {
    match r.profile.map(Profile::parse) {
        None => Some(UnknownProfileReason::Missing),
        Some(Err(e)) => Some(UnknownProfileReason::Unparseable(e)),
        // WL-MIG-006 says what is wrong with those.
        Some(Ok(_)) if is_mig_unsupported(r) => None,
        Some(Ok(p)) => match catalog::find_gpu(r.gpu_model) {
            None => Some(UnknownProfileReason::GpuNotInCatalog),
            Some(gpu) if !gpu.is_valid_profile(&p) => Some(UnknownProfileReason::NotOnGpu(gpu)),
            Some(_) => None,
        },
    }
}

/// Whether `WL-MIG-006` concerns the MIG result `r`.
pub(super) fn is_mig_unsupported(r: &ResultRecord<'_>) -> bool {
    supports_mig(r.architecture, r.gpu_model) == MigSupport::Unsupported
}

/// The MIG records (with their index) whose verdict has `flag`.
fn flagged<'r, 'a>(
    records: &'r [ResultRecord<'a>],
    views: &'r Views<'_>,
    flag: usize,
) -> impl Iterator<Item = &'r ResultRecord<'a>> + 'r {
    records
        .iter()
        .zip(views.verdicts)
        .filter(move |(r, v)| r.is_mig && *v & flag != 0)
        .map(|(r, _)| r)
}

/// `WL-MIG-005`: per MIG result whose profile is missing, unparseable, or
/// cannot be found on its GPU.
pub(super) fn unknown_profile<'a>(
    records: &'a [ResultRecord<'a>],
    views: &Views<'a>,
    emit: &mut Emit<'_, 'a>,
) -> Outcome {
    for r in flagged(records, views, FLAG_UNKNOWN_PROFILE) {
        if let Some(reason) = unknown_profile_reason(r) {
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
    records: &'a [ResultRecord<'a>],
    views: &Views<'a>,
    emit: &mut Emit<'_, 'a>,
) -> Outcome {
    for r in flagged(records, views, FLAG_MIG_UNSUPPORTED) {
        emit(Warning::new(WarningDetail::MigUnsupported {
            result_id: r.id,
            gpu_model: r.gpu_model,
            architecture: r.architecture,
        }))?;
    }
    Ok(())
}

/// `WL-MIG-007`: per MIG result with a parent, its estimated share of the
/// parent's energy (only when the caller asks). By activity, each result
/// looks only at the results of its parent that start before it ends (a
/// binary search in the by-start view): O(n · k) for k results per parent.
pub(super) fn estimated_share<'a>(
    records: &'a [ResultRecord<'a>],
    views: &Views<'a>,
    asked: ShareBasis,
    emit: &mut Emit<'_, 'a>,
) -> Outcome {
    for (me, r) in records.iter().enumerate() {
        let Some(parent) = r.mig_parent() else {
            continue;
        };
        let by_activity = if asked == ShareBasis::Activity {
            let own = r.activity.unwrap_or(0.0);
            let group = run_of(views.by_start, records, physical, parent);
            let before_end =
                group.partition_point(|&i| records.get(i).is_some_and(|x| x.start_s < r.end_s));
            let total: f64 = group
                .iter()
                .take(before_end)
                .filter_map(|&i| records.get(i).map(|x| (i, x)))
                .filter(|(_, x)| x.mig_parent() == Some(parent))
                .filter(|&(i, x)| i != me && x.overlaps(r))
                .map(|(_, x)| x.activity.unwrap_or(0.0))
                .sum::<f64>()
                + own;
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

/// `WL-MIG-008`: per MIG result without a parent GPU UUID. Its energy is
/// some GPU's, but which one is not known, so it cannot be grouped: its
/// overlaps (`WL-MIG-002`) and share (`WL-MIG-007`) go unchecked.
pub(super) fn missing_parent<'a>(
    records: &'a [ResultRecord<'a>],
    emit: &mut Emit<'_, 'a>,
) -> Outcome {
    for r in records
        .iter()
        .filter(|r| r.is_mig && r.mig_parent().is_none())
    {
        emit(Warning::new(WarningDetail::MissingParent {
            result_id: r.id,
            gpu_uuid: r.gpu_uuid,
        }))?;
    }
    Ok(())
}

/// The most instances of `profile` one `gpu` holds at once: the catalog's
/// count of its GPU instance, times the compute instances of that size one
/// GPU instance holds (`⌊g / c⌋`; 1 for a GPU-instance profile).
fn max_instances(gpu: &GpuModel, profile: &Profile) -> Option<u32> {
    let m = gpu.find_profile(profile)?;
    let per_gi = profile.gpu_slices().checked_div(m.compute_slices)?;
    Some(m.spec.max_instances().saturating_mul(per_gi.max(1)))
}

/// `WL-MIG-009`: per parent GPU and profile (in that order), when the
/// results name more distinct instances of the profile than the GPU holds
/// at once. Profiles `WL-MIG-005` flags (no profile, unparseable, not on
/// the GPU, GPU not in the catalog) are not counted.
pub(super) fn too_many_instances<'a>(
    records: &'a [ResultRecord<'a>],
    views: &Views<'a>,
    emit: &mut Emit<'_, 'a>,
) -> Outcome {
    let key = |i: usize| {
        (
            records.get(i).and_then(ResultRecord::mig_parent),
            rank_of(views.ranks, i),
        )
    };
    let mut rest = views.by_parent_profile;
    while let Some((&at, first)) = rest.first().and_then(|i| Some((i, records.get(*i)?))) {
        let k = key(at);
        let len = rest
            .iter()
            .position(|&i| key(i) != k)
            .unwrap_or(rest.len())
            .max(1);
        let (run, tail) = rest.split_at_checked(len).unwrap_or((rest, &[]));
        rest = tail;
        // Every profile fits at least once: one instance needs no lookup.
        let instances = distinct(run, records, |r| r.gpu_uuid);
        if instances < 2 {
            continue;
        }
        let (Some(parent), Some(name)) = (k.0, first.profile) else {
            continue;
        };
        let Ok(profile) = Profile::parse(name) else {
            continue;
        };
        let Some(gpu) = catalog::find_gpu(first.gpu_model) else {
            continue;
        };
        let Some(max) = max_instances(gpu, &profile) else {
            continue;
        };
        if instances > usize::try_from(max).unwrap_or(usize::MAX) {
            emit(Warning::new(WarningDetail::TooManyInstances {
                parent_gpu_uuid: parent,
                profile: name,
                gpu,
                instances,
                max_instances: max,
            }))?;
        }
    }
    Ok(())
}
