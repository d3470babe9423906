//! The MIG rules engine: warnings over a set of measured results.
//!
//! NVML and DCGM report power and energy for the physical GPU only, so a
//! result measured "on" a MIG instance carries the parent GPU's energy. The
//! engine looks at a slice of borrowed [`ResultRecord`]s of any length and
//! reports:
//!
//! | code | severity | when |
//! |---|---|---|
//! | `WL-MIG-001` | warning | any result ran on a MIG instance: once, with the result and distinct-instance counts and the profiles |
//! | `WL-MIG-002` | error | per parent GPU: two or more of its results (MIG, or whole-GPU of the same GPU) overlap in time ([overcount factor](#overcount-factor)) |
//! | `WL-MIG-003` | warning | MIG and whole-GPU results are in the same set |
//! | `WL-MIG-004` | warning | the MIG results have two or more distinct profiles |
//! | `WL-MIG-005` | warning | per MIG result: profile missing, unparseable, GPU not in the catalog, or profile not on that GPU |
//! | `WL-MIG-006` | error | per MIG result on hardware that cannot run MIG ([`supports_mig`](crate::mig::supports_mig) says unsupported) |
//! | `WL-MIG-007` | info | only with [`CheckOptions::estimate_shares`]: per MIG result, its estimated share of the parent's energy |
//! | `WL-MIG-008` | warning | per MIG result without a parent GPU UUID (it cannot be grouped, so its overlaps go unchecked) |
//! | `WL-MIG-009` | warning | per parent GPU and profile: more distinct instances than the catalog says the GPU holds at once |
//!
//! Warnings come out in that order of codes; within a per-result code, in
//! the order of the records; within `WL-MIG-002` and `WL-MIG-009`, by
//! parent UUID (then profile). Profiles are compared in canonical form
//! (`1c.1g.10gb` is `1g.10gb`); profile lists are deduplicated and sorted
//! (smaller instances first, unparseable names last by text) and have no
//! length limit.
//!
//! # Cost and memory
//! No allocation and no fixed limit: the caller lends a scratch slice of
//! [`scratch_len`]`(n)` indices (8 per record), in which the engine sorts
//! six index views of the records (by profile; by physical GPU and start;
//! by physical GPU and end; by parent, profile and instance; by parent and
//! instance; by GPU model, profile and architecture) and keeps each
//! record's catalog verdict, looked up once per distinct model and
//! profile, and its profile's canonical rank, parsed once per distinct
//! name. Every rule then sweeps sorted runs, so a check is
//! O(n log n); only the opt-in activity shares of `WL-MIG-007` cost
//! O(n · k) for k results per parent. Too little scratch is
//! [`CheckError::ScratchTooSmall`], distinct from a full output buffer
//! ([`CheckError::CapacityExceeded`]).
//!
//! # Overcount factor
//! Each result covers the half-open window `[start_s, end_s)`. For a parent
//! GPU, the factor is the largest number of its results whose windows all
//! contain one instant: its MIG results and the whole-GPU results of the
//! same GPU (`gpu_uuid` equal to the parent's), since each of them carries
//! the whole GPU's energy. Windows that only touch (`end == start`) do not
//! overlap; an empty window overlaps nothing. Two overlapping results give
//! 2; the sum of their energies counts the parent's energy up to that many
//! times over the overlap. Results on the same instance count too (their
//! sum double counts just the same). MIG results without a parent UUID
//! cannot be grouped: `WL-MIG-008` says so, and they are left out of
//! `WL-MIG-002` and `WL-MIG-007`.
//!
//! # Estimated shares
//! A MIG result's energy `E` is the parent's over its window. Its share is
//! `E × fraction`:
//! * [`ShareBasis::ComputeSlices`]: `fraction = c / C`, the profile's
//!   compute slices over the GPU's total (from the catalog). Over a full
//!   partition (7 × `1g.10gb` on an H100 sharing one window) the shares add
//!   up to the parent's energy; idle slices' energy is left unattributed.
//!   A result whose profile or GPU is not in the catalog gets no share
//!   (`WL-MIG-005` says why).
//! * [`ShareBasis::Activity`]: `fraction = a / Σa`, its activity over the
//!   activities of the results of the same parent whose windows overlap its
//!   own (itself included). When that sum is zero the compute-slice share is
//!   used instead and the warning says so ([`WarningDetail::EstimatedShare`]
//!   `basis`).

mod codes;
mod message;
mod order;
mod record;
mod warning;

pub use crate::SinkFull;
pub use message::Message;
pub use order::SCRATCH_PER_RECORD;
pub use record::{CheckError, CheckOptions, ResultRecord, ShareBasis};
pub use warning::{
    ProfileList, Severity, UnknownProfileReason, Warning, WarningCode, WarningDetail,
};

use crate::float;

/// Places of scratch a check of `records` results needs
/// ([`SCRATCH_PER_RECORD`] per record; saturating).
pub const fn scratch_len(records: usize) -> usize {
    records.saturating_mul(SCRATCH_PER_RECORD)
}

/// Checks the records and appends every warning to `out`.
///
/// `scratch` is the caller's room for the sorted views the rules read (at
/// least [`scratch_len`]`(records.len())` places; its contents on entry do
/// not matter). The warnings borrow it, with the records, for their
/// profile lists.
///
/// All or nothing: the warnings are counted first, and `out` is changed
/// only when every one fits. Returns how many were appended.
///
/// # Errors
/// Input errors ([`CheckError::InvalidEnergy`], `InvalidTime`,
/// `EndBeforeStart`, `InvalidActivity`, `MissingActivity`),
/// `ScratchTooSmall`, and `CapacityExceeded` when `out` lacks room; `out`
/// is unchanged in every case.
pub fn check<'a, const N: usize>(
    records: &'a [ResultRecord<'a>],
    options: &CheckOptions,
    scratch: &'a mut [usize],
    out: &mut heapless::Vec<Warning<'a>, N>,
) -> Result<usize, CheckError> {
    let needed = count_warnings(records, options, scratch)?;
    let available = N.saturating_sub(out.len());
    if needed > available {
        return Err(CheckError::CapacityExceeded { needed, available });
    }
    let before = out.len();
    let result = run(records, options, scratch, &mut |w| {
        out.push(w)
            .map_err(|_| CheckError::CapacityExceeded { needed, available })
    });
    if let Err(e) = result {
        out.truncate(before);
        return Err(e);
    }
    Ok(needed)
}

/// How many warnings [`check`] would produce (to size a buffer).
///
/// # Errors
/// As [`check`], without `CapacityExceeded`.
pub fn count_warnings(
    records: &[ResultRecord<'_>],
    options: &CheckOptions,
    scratch: &mut [usize],
) -> Result<usize, CheckError> {
    let mut n = 0usize;
    run(records, options, scratch, &mut |_| {
        n = n.saturating_add(1);
        Ok(())
    })?;
    Ok(n)
}

/// Checks the records and hands each warning to `sink` as it is produced
/// (for streaming output, a C callback, a printer). Input errors are found
/// before the first call. Returns how many warnings were handed over.
/// `scratch` as for [`check`].
///
/// # Errors
/// As [`count_warnings`], and [`CheckError::SinkFull`] when the sink
/// returns [`SinkFull`]; the warnings it accepted before stay with it.
pub fn for_each_warning<'a, F>(
    records: &'a [ResultRecord<'a>],
    options: &CheckOptions,
    scratch: &'a mut [usize],
    mut sink: F,
) -> Result<usize, CheckError>
where
    F: FnMut(&Warning<'a>) -> Result<(), SinkFull>,
{
    let mut n = 0usize;
    run(records, options, scratch, &mut |w| {
        sink(&w).map_err(|SinkFull| CheckError::SinkFull)?;
        n = n.saturating_add(1);
        Ok(())
    })?;
    Ok(n)
}

/// Finds the first bad input, before any warning is produced.
fn validate(records: &[ResultRecord<'_>], options: &CheckOptions) -> Result<(), CheckError> {
    for (index, r) in records.iter().enumerate() {
        float::non_negative(r.energy_j)
            .map_err(|error| CheckError::InvalidEnergy { index, error })?;
        float::finite(r.start_s)
            .and_then(|_| float::finite(r.end_s))
            .map_err(|error| CheckError::InvalidTime { index, error })?;
        if r.end_s < r.start_s {
            return Err(CheckError::EndBeforeStart { index });
        }
        if let Some(a) = r.activity {
            float::non_negative(a).map_err(|error| CheckError::InvalidActivity { index, error })?;
        }
        if options.estimate_shares == Some(ShareBasis::Activity)
            && r.mig_parent().is_some()
            && r.activity.is_none()
        {
            return Err(CheckError::MissingActivity { index });
        }
    }
    Ok(())
}

/// Where the rules hand their warnings.
type Emit<'e, 'a> = dyn FnMut(Warning<'a>) -> Result<(), CheckError> + 'e;

/// Validates, sorts the views, then runs every rule in the order of its
/// code.
fn run<'a>(
    records: &'a [ResultRecord<'a>],
    options: &CheckOptions,
    scratch: &'a mut [usize],
    emit: &mut Emit<'_, 'a>,
) -> Result<(), CheckError> {
    validate(records, options)?;
    let views = order::views(records, scratch)?;
    let all_profiles = ProfileList::new(records, views.by_profile, views.ranks);
    codes::parent_power(records, &views, emit)?;
    codes::shared_parent(records, &views, emit)?;
    codes::mixed_scopes(records, emit)?;
    codes::mixed_profiles(all_profiles, emit)?;
    codes::unknown_profile(records, &views, emit)?;
    codes::mig_unsupported(records, &views, emit)?;
    if let Some(basis) = options.estimate_shares {
        codes::estimated_share(records, &views, basis, emit)?;
    }
    codes::missing_parent(records, emit)?;
    codes::too_many_instances(records, &views, emit)?;
    Ok(())
}
