//! The MIG rules engine: warnings over a set of measured results.
//!
//! NVML and DCGM report power and energy for the physical GPU only, so a
//! result measured "on" a MIG instance carries the parent GPU's energy. The
//! engine looks at a bounded slice of borrowed [`ResultRecord`]s (no
//! allocation; the work is O(n²) in the number of records, meant for
//! hundreds or a few thousand) and reports:
//!
//! | code | severity | when |
//! |---|---|---|
//! | `WL-MIG-001` | warning | any result ran on a MIG instance: once, with the result and distinct-instance counts and the profiles |
//! | `WL-MIG-002` | error | per parent GPU: two or more of its MIG results overlap in time ([overcount factor](#overcount-factor)) |
//! | `WL-MIG-003` | warning | MIG and whole-GPU results are in the same set |
//! | `WL-MIG-004` | warning | the MIG results have two or more distinct profiles |
//! | `WL-MIG-005` | warning | per MIG result: profile missing, unparseable, GPU not in the catalog, or profile not on that GPU |
//! | `WL-MIG-006` | error | per MIG result on hardware that cannot run MIG ([`supports_mig`](crate::mig::supports_mig) says unsupported) |
//! | `WL-MIG-007` | info | only with [`CheckOptions::estimate_shares`]: per MIG result, its estimated share of the parent's energy |
//!
//! Warnings come out in that order of codes; within a code, in the order of
//! the first record concerned. Profiles are compared in canonical form
//! (`1c.1g.10gb` is `1g.10gb`); profile lists are deduplicated and sorted
//! (smaller instances first, unparseable names last by text).
//!
//! # Overcount factor
//! Each result covers the half-open window `[start_s, end_s)`. For a parent
//! GPU, the factor is the largest number of its MIG results whose windows
//! all contain one instant. Windows that only touch (`end == start`) do not
//! overlap; an empty window overlaps nothing. Two overlapping results give
//! 2; the sum of their energies counts the parent's energy up to that many
//! times over the overlap. Results on the same instance count too (their
//! sum double counts just the same). MIG results without a parent UUID
//! cannot be grouped and are left out of `WL-MIG-002` and `WL-MIG-007`.
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
mod record;
mod warning;

pub use crate::SinkFull;
pub use message::Message;
pub use record::{CheckError, CheckOptions, ResultRecord, ShareBasis};
pub use warning::{
    MAX_PROFILES, ProfileList, Severity, UnknownProfileReason, Warning, WarningCode, WarningDetail,
};

use crate::float;

/// Checks the records and appends every warning to `out`.
///
/// All or nothing: the warnings are counted first, and `out` is changed
/// only when every one fits. Returns how many were appended.
///
/// # Errors
/// Input errors ([`CheckError::InvalidEnergy`], `InvalidTime`,
/// `EndBeforeStart`, `InvalidActivity`, `MissingActivity`),
/// `TooManyProfiles`, and `CapacityExceeded` when `out` lacks room; `out`
/// is unchanged in every case.
pub fn check<'a, const N: usize>(
    records: &[ResultRecord<'a>],
    options: &CheckOptions,
    out: &mut heapless::Vec<Warning<'a>, N>,
) -> Result<usize, CheckError> {
    let needed = count_warnings(records, options)?;
    let available = N.saturating_sub(out.len());
    if needed > available {
        return Err(CheckError::CapacityExceeded { needed, available });
    }
    let before = out.len();
    let result = run(records, options, &mut |w| {
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
) -> Result<usize, CheckError> {
    let mut n = 0usize;
    run(records, options, &mut |_| {
        n = n.saturating_add(1);
        Ok(())
    })?;
    Ok(n)
}

/// Checks the records and hands each warning to `sink` as it is produced
/// (for streaming output, a C callback, a printer). Input errors are found
/// before the first call. Returns how many warnings were handed over.
///
/// # Errors
/// As [`count_warnings`], and [`CheckError::SinkFull`] when the sink
/// returns [`SinkFull`]; the warnings it accepted before stay with it.
pub fn for_each_warning<'a, F>(
    records: &[ResultRecord<'a>],
    options: &CheckOptions,
    mut sink: F,
) -> Result<usize, CheckError>
where
    F: FnMut(&Warning<'a>) -> Result<(), SinkFull>,
{
    let mut n = 0usize;
    run(records, options, &mut |w| {
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

/// Validates, then runs every rule in the order of its code.
fn run<'a>(
    records: &[ResultRecord<'a>],
    options: &CheckOptions,
    emit: &mut Emit<'_, 'a>,
) -> Result<(), CheckError> {
    validate(records, options)?;
    // Profiles of all MIG results (for 001 and 004).
    let mut all_profiles = ProfileList::new();
    for name in records
        .iter()
        .filter(|r| r.is_mig)
        .filter_map(|r| r.profile)
    {
        all_profiles.insert(name)?;
    }
    codes::parent_power(records, all_profiles, emit)?;
    codes::shared_parent(records, emit)?;
    codes::mixed_scopes(records, emit)?;
    codes::mixed_profiles(all_profiles, emit)?;
    codes::unknown_profile(records, emit)?;
    codes::mig_unsupported(records, emit)?;
    if let Some(basis) = options.estimate_shares {
        codes::estimated_share(records, basis, emit)?;
    }
    Ok(())
}
