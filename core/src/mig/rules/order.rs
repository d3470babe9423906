//! Sorted index views of the records, built in the caller's scratch.
//!
//! Every rule that relates records to each other (same instance, same
//! parent, same profile, overlapping windows) reads one of these views
//! instead of comparing every pair, so a check is O(n log n) in the number
//! of records: each view is one `sort_unstable_by` (no allocation) of record
//! indices, and the rules sweep the sorted runs. The views live in the
//! scratch slice the caller lends ([`super::scratch_len`] places), which is
//! how the engine stays free of allocation and of any fixed limit on
//! records or profiles.

use core::cmp::Ordering;

use super::{CheckError, ResultRecord};
use crate::mig::profile::Profile;

/// Index slots of scratch one record needs: one in each of the six views,
/// its catalog verdict and its profile's rank.
pub const SCRATCH_PER_RECORD: usize = 8;

/// The rank of a record without a profile (after every named one).
pub(super) const NO_PROFILE: usize = usize::MAX;

/// Verdict bit: `WL-MIG-005` concerns the record.
pub(super) const FLAG_UNKNOWN_PROFILE: usize = 1;
/// Verdict bit: `WL-MIG-006` concerns the record.
pub(super) const FLAG_MIG_UNSUPPORTED: usize = 2;

/// A profile name as it sorts: parsed names in [`Profile`] order (so
/// `1c.1g.10gb` equals `1g.10gb`), names that do not parse after them, by
/// text.
pub(super) fn profile_key(name: &str) -> Result<Profile, &str> {
    Profile::parse(name).map_err(|_| name)
}

/// Orders two [`profile_key`]s.
pub(super) fn cmp_profile_keys(a: &Result<Profile, &str>, b: &Result<Profile, &str>) -> Ordering {
    match (a, b) {
        (Ok(x), Ok(y)) => x.cmp(y),
        (Ok(_), Err(_)) => Ordering::Less,
        (Err(_), Ok(_)) => Ordering::Greater,
        (Err(x), Err(y)) => x.cmp(y),
    }
}

/// The physical GPU a record's energy is of: a MIG result's parent, a
/// whole-GPU result's own UUID; `None` for a MIG result without a parent.
pub(super) fn physical<'a>(r: &ResultRecord<'a>) -> Option<&'a str> {
    if r.is_mig {
        r.mig_parent()
    } else {
        Some(r.gpu_uuid)
    }
}

/// The five sorted views one check reads.
#[derive(Clone, Copy, Debug)]
pub(super) struct Views<'a> {
    /// MIG results that report a profile, by profile (for `WL-MIG-001`/`004`).
    pub by_profile: &'a [usize],
    /// Distinct MIG instances (by `gpu_uuid`) among all MIG results.
    pub mig_instances: usize,
    /// Every record with a physical GPU, by (physical GPU, start).
    pub by_start: &'a [usize],
    /// The same records by (physical GPU, end).
    pub by_end: &'a [usize],
    /// MIG results with a parent, by (parent, profile, instance).
    pub by_parent_profile: &'a [usize],
    /// MIG results with a parent, by (parent, instance).
    pub by_parent_instance: &'a [usize],
    /// Per record (by index): which catalog rules concern it
    /// ([`FLAG_UNKNOWN_PROFILE`], [`FLAG_MIG_UNSUPPORTED`]).
    pub verdicts: &'a [usize],
    /// Per record (by index): its profile's place in canonical order, equal
    /// for equal profiles however written ([`NO_PROFILE`] without one), so
    /// that sorting and grouping by profile never parses a name.
    pub ranks: &'a [usize],
}

/// The rank of record `i` ([`Views::ranks`]).
pub(super) fn rank_of(ranks: &[usize], i: usize) -> usize {
    ranks.get(i).copied().unwrap_or(NO_PROFILE)
}

/// Writes into `ranks` (one place per record) each MIG profile's rank in
/// canonical order. `named` holds the MIG results that report a profile
/// and `spare` at least as many places. Names are sorted as text (cheap),
/// one of each distinct text is parsed and sorted canonically, and its
/// rank is handed to every record written alike: the parses are
/// O(d log d) for d distinct names, not O(n log n).
fn rank_profiles(
    records: &[ResultRecord<'_>],
    named: &mut [usize],
    spare: &mut [usize],
    ranks: &mut [usize],
) {
    ranks.fill(NO_PROFILE);
    let text = |i: usize| records.get(i).and_then(|r| r.profile);
    sort_ids(named, &mut |i, j| text(i).cmp(&text(j)));
    let mut reps = 0usize;
    let mut last = None;
    for &i in named.iter() {
        if text(i) != last {
            last = text(i);
            if let Some(slot) = spare.get_mut(reps) {
                *slot = i;
                reps += 1;
            }
        }
    }
    let reps = spare.get_mut(..reps).unwrap_or_default();
    let key = |i: usize| text(i).map(profile_key);
    sort_ids(reps, &mut |i, j| match (key(i), key(j)) {
        (Some(a), Some(b)) => cmp_profile_keys(&a, &b),
        _ => i.cmp(&j),
    });
    let mut rank = 0usize;
    let mut last_key = None;
    for &rep in reps.iter() {
        let k = key(rep);
        if let (Some(prev), Some(now)) = (&last_key, &k) {
            if cmp_profile_keys(prev, now).is_ne() {
                rank += 1;
            }
        }
        last_key = k;
        // Every record written as `rep` is: a run of `named`.
        let name = text(rep);
        let lo = named.partition_point(|&i| text(i) < name);
        let hi = named.partition_point(|&i| text(i) <= name);
        for &i in named.get(lo..hi).unwrap_or(&[]) {
            if let Some(slot) = ranks.get_mut(i) {
                *slot = rank;
            }
        }
    }
}

/// Writes the indices of the records `keep` selects into `region` and
/// returns the filled part.
fn select<'s>(
    region: &'s mut [usize],
    records: &[ResultRecord<'_>],
    keep: impl Fn(&ResultRecord<'_>) -> bool,
) -> &'s mut [usize] {
    let mut len = 0usize;
    for (i, r) in records.iter().enumerate() {
        if keep(r) {
            if let Some(slot) = region.get_mut(len) {
                *slot = i;
                len += 1;
            }
        }
    }
    region.get_mut(..len).unwrap_or_default()
}

/// Sorts `ids` by `cmp` of the records they point at (ids are in range:
/// [`select`] wrote them).
fn sort_by<'a>(
    ids: &mut [usize],
    records: &[ResultRecord<'a>],
    cmp: impl Fn(&ResultRecord<'a>, &ResultRecord<'a>) -> Ordering,
) {
    sort_ids(ids, &mut |i, j| match (records.get(i), records.get(j)) {
        (Some(a), Some(b)) => cmp(a, b),
        _ => i.cmp(&j),
    });
}

/// Sorts record indices by `cmp`, equal ones by index (so the order is
/// what a stable sort of ascending indices gives), in place and without
/// recursion: a heapsort.
///
/// Every sort of the rules engine goes through this one non-generic
/// function with a `dyn` comparison. The standard library's sort is faster
/// but is instantiated per closure with its small-sort networks, and its
/// six instances made up about 77 KB of the firmware C ABI's `.text`
/// (issue 15 bounds the whole C ABI at 128 KiB); this one is a few hundred
/// bytes, still O(n log n).
pub(super) fn sort_ids(ids: &mut [usize], cmp: &mut dyn FnMut(usize, usize) -> Ordering) {
    let mut less = |a: usize, b: usize| cmp(a, b).then(a.cmp(&b)).is_lt();
    let n = ids.len();
    for root in (0..n / 2).rev() {
        sift_down(ids, root, n, &mut less);
    }
    for end in (1..n).rev() {
        ids.swap(0, end);
        sift_down(ids, 0, end, &mut less);
    }
}

/// Restores the max-heap below `root` in `v[..end]` (`end ≤ v.len()`).
fn sift_down(
    v: &mut [usize],
    mut root: usize,
    end: usize,
    less: &mut dyn FnMut(usize, usize) -> bool,
) {
    let at = |v: &[usize], i: usize| v.get(i).copied().unwrap_or(0);
    loop {
        let mut child = 2 * root + 1;
        if child >= end {
            return;
        }
        if child + 1 < end && less(at(v, child), at(v, child + 1)) {
            child += 1;
        }
        if !less(at(v, root), at(v, child)) {
            return;
        }
        // root < child < end ≤ v.len(): both in range.
        v.swap(root, child);
        root = child;
    }
}

/// Number of distinct values of `key` in `ids`, which are sorted by it.
pub(super) fn distinct<'a, K: PartialEq>(
    ids: &[usize],
    records: &[ResultRecord<'a>],
    key: impl Fn(&ResultRecord<'a>) -> K,
) -> usize {
    let mut n = 0usize;
    let mut last: Option<K> = None;
    for r in ids.iter().filter_map(|&i| records.get(i)) {
        let k = key(r);
        if last.as_ref() != Some(&k) {
            n += 1;
            last = Some(k);
        }
    }
    n
}

/// Builds every view in `scratch`.
///
/// # Errors
/// [`CheckError::ScratchTooSmall`] when `scratch` has fewer than
/// [`super::scratch_len`]`(records.len())` places.
pub(super) fn views<'a>(
    records: &'a [ResultRecord<'a>],
    scratch: &'a mut [usize],
) -> Result<Views<'a>, CheckError> {
    let n = records.len();
    let needed = super::scratch_len(n);
    let too_small = CheckError::ScratchTooSmall {
        needed,
        available: scratch.len(),
    };
    if scratch.len() < needed {
        return Err(too_small);
    }
    let (a, rest) = scratch.split_at_mut_checked(n).ok_or(too_small)?;
    let (b, rest) = rest.split_at_mut_checked(n).ok_or(too_small)?;
    let (c, rest) = rest.split_at_mut_checked(n).ok_or(too_small)?;
    let (d, rest) = rest.split_at_mut_checked(n).ok_or(too_small)?;
    let (e, rest) = rest.split_at_mut_checked(n).ok_or(too_small)?;
    let (f, rest) = rest.split_at_mut_checked(n).ok_or(too_small)?;
    let (g, rest) = rest.split_at_mut_checked(n).ok_or(too_small)?;
    let h = rest.get_mut(..n).ok_or(too_small)?;

    // All MIG results by instance, to count the distinct ones; then the
    // ones with a profile ranked, and by rank (kept for the warnings).
    let mig = select(a, records, |r| r.is_mig);
    sort_by(mig, records, |x, y| x.gpu_uuid.cmp(y.gpu_uuid));
    let mig_instances = distinct(mig, records, |r| r.gpu_uuid);
    let by_profile = select(mig, records, |r| r.is_mig && r.profile.is_some());
    rank_profiles(records, by_profile, b, h);
    let ranks: &'a [usize] = h;
    // Within a rank, by index: a list names each profile as first written.
    sort_ids(by_profile, &mut |i, j| {
        rank_of(ranks, i).cmp(&rank_of(ranks, j))
    });

    let by_start = select(b, records, |r| physical(r).is_some());
    sort_by(by_start, records, |x, y| {
        physical(x)
            .cmp(&physical(y))
            .then(x.start_s.total_cmp(&y.start_s))
    });
    let by_end = select(c, records, |r| physical(r).is_some());
    sort_by(by_end, records, |x, y| {
        physical(x)
            .cmp(&physical(y))
            .then(x.end_s.total_cmp(&y.end_s))
    });
    let by_parent_profile = select(d, records, |r| r.mig_parent().is_some());
    let parent_key = |i: usize| {
        let r = records.get(i);
        (
            r.and_then(ResultRecord::mig_parent),
            rank_of(ranks, i),
            r.map(|r| r.gpu_uuid),
        )
    };
    sort_ids(by_parent_profile, &mut |i, j| {
        parent_key(i).cmp(&parent_key(j))
    });
    let by_parent_instance = select(e, records, |r| r.mig_parent().is_some());
    sort_by(by_parent_instance, records, |x, y| {
        x.mig_parent()
            .cmp(&y.mig_parent())
            .then(x.gpu_uuid.cmp(y.gpu_uuid))
    });
    // The catalog verdicts, looked up once per distinct (model, profile,
    // architecture) of the MIG results rather than once per result.
    f.fill(0);
    let by_model = select(g, records, |r| r.is_mig);
    let model_key = |r: &ResultRecord<'a>| (r.gpu_model, r.profile, r.architecture.to_nvml());
    sort_by(by_model, records, |x, y| model_key(x).cmp(&model_key(y)));
    for run in runs(by_model, records, model_key) {
        let Some(first) = run.first().and_then(|&i| records.get(i)) else {
            continue;
        };
        let mut verdict = 0;
        if super::codes::unknown_profile_reason(first).is_some() {
            verdict |= FLAG_UNKNOWN_PROFILE;
        }
        if super::codes::is_mig_unsupported(first) {
            verdict |= FLAG_MIG_UNSUPPORTED;
        }
        for &i in run {
            if let Some(slot) = f.get_mut(i) {
                *slot = verdict;
            }
        }
    }
    Ok(Views {
        by_profile,
        mig_instances,
        by_start,
        by_end,
        by_parent_profile,
        by_parent_instance,
        verdicts: f,
        ranks,
    })
}

/// Splits `ids` (sorted by `key`) into runs of equal key, in order.
pub(super) fn runs<'i, 'a: 'i, K: PartialEq + 'i>(
    ids: &'i [usize],
    records: &'i [ResultRecord<'a>],
    key: impl Fn(&ResultRecord<'a>) -> K + 'i,
) -> impl Iterator<Item = &'i [usize]> + 'i {
    let mut rest = ids;
    core::iter::from_fn(move || {
        let first = key(records.get(*rest.first()?)?);
        let len = rest
            .iter()
            .position(|&i| records.get(i).is_none_or(|r| key(r) != first))
            .unwrap_or(rest.len());
        let (run, tail) = rest.split_at_checked(len.max(1))?;
        rest = tail;
        Some(run)
    })
}

#[cfg(test)]
mod sort_tests {
    use super::sort_ids;

    /// The heapsort gives what a stable sort by the same key gives, on
    /// lengths 0 to 70 with many ties, few ties and reversed input.
    #[test]
    fn sort_ids_equals_a_stable_sort() {
        for n in 0..70usize {
            for modulus in [1usize, 3, 7, 1000] {
                let key = |i: usize| (i * 7919 + 13) % modulus;
                let mut buf = [0usize; 70];
                let ids = buf.get_mut(..n).unwrap_or_default();
                for (slot, i) in ids.iter_mut().zip((0..n).rev()) {
                    *slot = i;
                }
                sort_ids(ids, &mut |i, j| key(i).cmp(&key(j)));
                // A stable sort of 0..n by key: keys ascending, each key's
                // indices ascending.
                let mut want = [0usize; 70];
                let mut w = 0;
                for k in 0..modulus.min(1000) {
                    for i in (0..n).filter(|&i| key(i) == k) {
                        if let Some(slot) = want.get_mut(w) {
                            *slot = i;
                        }
                        w += 1;
                    }
                }
                assert_eq!(
                    ids,
                    want.get(..n).unwrap_or_default(),
                    "n = {n}, modulus = {modulus}"
                );
            }
        }
    }
}
