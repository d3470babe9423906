//! The WL-MIG rules: positive and negative cases for every code.

use core::fmt::Write as _;
use proptest::prelude::*;
use wattledger_core::float::FloatError;
use wattledger_core::mig::rules::{
    CheckError, CheckOptions, ResultRecord, SCRATCH_PER_RECORD, Severity, ShareBasis, SinkFull,
    UnknownProfileReason, Warning, WarningCode, WarningDetail, check, count_warnings,
    for_each_warning, scratch_len,
};
use wattledger_core::mig::{Architecture, ProfileError};

const A100: &str = "NVIDIA A100-SXM4-80GB";
const H100: &str = "NVIDIA H100 80GB HBM3";
const PARENT: &str = "GPU-aaaaaaaa-0000-0000-0000-000000000001";
const PARENT2: &str = "GPU-aaaaaaaa-0000-0000-0000-000000000002";

fn mig(
    id: &'static str,
    uuid: &'static str,
    profile: &'static str,
    start: f64,
    end: f64,
) -> ResultRecord<'static> {
    ResultRecord::mig(
        id,
        uuid,
        PARENT,
        profile,
        Architecture::Ampere,
        A100,
        100.0,
        start,
        end,
    )
}

fn whole(id: &'static str) -> ResultRecord<'static> {
    ResultRecord::whole_gpu(id, PARENT2, Architecture::Ampere, A100, 100.0, 0.0, 10.0)
}

/// Scratch for `n` records, for the life of the test (warnings borrow it).
fn scratch(n: usize) -> &'static mut [usize] {
    vec![0; scratch_len(n)].leak()
}

/// The records, for the life of the test (warnings borrow them).
fn kept(records: &[ResultRecord<'static>]) -> &'static [ResultRecord<'static>] {
    records.to_vec().leak()
}

fn run(records: &[ResultRecord<'static>], options: CheckOptions) -> Vec<Warning<'static>> {
    let mut out: heapless::Vec<Warning<'static>, 64> = heapless::Vec::new();
    check(kept(records), &options, scratch(records.len()), &mut out).unwrap();
    out.into_iter().collect()
}

/// [`count_warnings`] with enough scratch.
fn count(records: &[ResultRecord<'_>], options: &CheckOptions) -> Result<usize, CheckError> {
    count_warnings(records, options, &mut vec![0; scratch_len(records.len())])
}

/// Options that estimate instance shares by `basis`.
fn shares(basis: ShareBasis) -> CheckOptions {
    CheckOptions {
        estimate_shares: Some(basis),
    }
}

/// `r` with `change` applied.
fn changed(
    mut r: ResultRecord<'static>,
    change: impl FnOnce(&mut ResultRecord<'static>),
) -> ResultRecord<'static> {
    change(&mut r);
    r
}

fn codes(ws: &[Warning<'_>]) -> Vec<&'static str> {
    ws.iter().map(|w| w.code().as_str()).collect()
}

fn find<'a>(ws: &'a [Warning<'static>], code: WarningCode) -> Vec<&'a Warning<'static>> {
    ws.iter().filter(|w| w.code() == code).collect()
}

#[test]
fn whole_gpu_results_give_nothing() {
    assert!(run(&[whole("a"), whole("b")], CheckOptions::default()).is_empty());
    assert!(run(&[], CheckOptions::default()).is_empty());
}

#[test]
fn parent_power_lists_instances_and_profiles() {
    let recs = [
        mig("r1", "MIG-1", "1g.10gb", 0.0, 10.0),
        mig("r2", "MIG-1", "1c.1g.10gb", 20.0, 30.0), // same instance, same profile
        mig("r3", "MIG-2", "3g.40gb", 40.0, 50.0),
    ];
    let ws = run(&recs, CheckOptions::default());
    let w = find(&ws, WarningCode::ParentPower);
    assert_eq!(w.len(), 1);
    let WarningDetail::ParentPower {
        results,
        instances,
        profiles,
    } = w[0].detail()
    else {
        panic!()
    };
    // 3 records, 2 distinct uuids (MIG-1, MIG-2), 2 distinct canonical profiles.
    assert_eq!((*results, *instances), (3, 2));
    assert_eq!(profiles.iter().collect::<Vec<_>>(), ["1g.10gb", "3g.40gb"]);
    assert_eq!(w[0].severity(), Severity::Warning);
    assert_eq!(
        w[0].to_string(),
        "WL-MIG-001 warning: 3 result(s) ran on 2 MIG instance(s) (1g.10gb, 3g.40gb); their \
         energy is the parent GPU's total, not the instance's"
    );
}

#[test]
fn non_overlapping_instances_of_one_parent_give_no_shared_parent() {
    // [0, 10) and [10, 20) only touch at t = 10.
    let recs = [
        mig("a", "MIG-1", "1g.10gb", 0.0, 10.0),
        mig("b", "MIG-2", "1g.10gb", 10.0, 20.0),
    ];
    let ws = run(&recs, CheckOptions::default());
    assert_eq!(codes(&ws), ["WL-MIG-001"]);
}

#[test]
fn overlapping_instances_give_factor_two() {
    // [0, 10) and [5, 15) share [5, 10): two at once.
    let recs = [
        mig("a", "MIG-1", "1g.10gb", 0.0, 10.0),
        mig("b", "MIG-2", "1g.10gb", 5.0, 15.0),
    ];
    let ws = run(&recs, CheckOptions::default());
    assert_eq!(codes(&ws), ["WL-MIG-001", "WL-MIG-002"]);
    let w = find(&ws, WarningCode::SharedParent)[0];
    assert_eq!(w.severity(), Severity::Error);
    let WarningDetail::SharedParent {
        parent_gpu_uuid,
        overcount_factor,
        results,
        instances,
        ..
    } = *w.detail()
    else {
        panic!()
    };
    assert_eq!(
        (parent_gpu_uuid, overcount_factor, results, instances),
        (PARENT, 2, 2, 2)
    );
    assert!(w.to_string().contains("up to 2 at once"));
}

#[test]
fn overcount_factor_is_the_largest_simultaneous_count() {
    // a [0,10), b [5,15), c [8,12): at t = 8 all three run -> 3.
    let three = [
        mig("a", "MIG-1", "1g.10gb", 0.0, 10.0),
        mig("b", "MIG-2", "1g.10gb", 5.0, 15.0),
        mig("c", "MIG-3", "1g.10gb", 8.0, 12.0),
    ];
    // a [0,10), b [5,7), c [8,12): pairs (a,b) and (a,c) but never three -> 2.
    let two = [
        mig("a", "MIG-1", "1g.10gb", 0.0, 10.0),
        mig("b", "MIG-2", "1g.10gb", 5.0, 7.0),
        mig("c", "MIG-3", "1g.10gb", 8.0, 12.0),
    ];
    for (recs, want) in [(&three, 3), (&two, 2)] {
        let ws = run(recs, CheckOptions::default());
        let WarningDetail::SharedParent {
            overcount_factor, ..
        } = *find(&ws, WarningCode::SharedParent)[0].detail()
        else {
            panic!()
        };
        assert_eq!(overcount_factor, want);
    }
}

#[test]
fn shared_parent_is_per_parent() {
    let mut b = mig("b", "MIG-2", "1g.10gb", 5.0, 15.0);
    b.parent_gpu_uuid = Some(PARENT2);
    let recs = [mig("a", "MIG-1", "1g.10gb", 0.0, 10.0), b];
    // Same times, different parents: no double count.
    assert!(
        find(
            &run(&recs, CheckOptions::default()),
            WarningCode::SharedParent
        )
        .is_empty()
    );
    // Without a parent uuid a MIG result cannot be grouped.
    let mut c = mig("c", "MIG-3", "1g.10gb", 0.0, 10.0);
    c.parent_gpu_uuid = None;
    let recs = [mig("a", "MIG-1", "1g.10gb", 0.0, 10.0), c];
    assert!(
        find(
            &run(&recs, CheckOptions::default()),
            WarningCode::SharedParent
        )
        .is_empty()
    );
}

#[test]
fn mixed_scopes() {
    let ws = run(
        &[mig("a", "MIG-1", "1g.10gb", 0.0, 10.0), whole("w")],
        CheckOptions::default(),
    );
    assert_eq!(codes(&ws), ["WL-MIG-001", "WL-MIG-003"]);
    let WarningDetail::MixedScopes {
        mig_results,
        whole_gpu_results,
    } = *ws[1].detail()
    else {
        panic!()
    };
    assert_eq!((mig_results, whole_gpu_results), (1, 1));
    // Only MIG: no 003 (checked above in parent_power).
}

#[test]
fn mixed_profiles() {
    let ws = run(
        &[
            mig("a", "MIG-1", "3g.40gb", 0.0, 1.0),
            mig("b", "MIG-2", "1g.10gb+me", 2.0, 3.0),
        ],
        CheckOptions::default(),
    );
    assert_eq!(codes(&ws), ["WL-MIG-001", "WL-MIG-004"]);
    assert_eq!(
        ws[1].message().to_string(),
        "MIG instances of different profiles are compared (1g.10gb+me, 3g.40gb); each reports \
         its parent GPU's energy, so per-instance figures are not comparable"
    );
    // Two spellings of one profile are one profile: no 004.
    let ws = run(
        &[
            mig("a", "MIG-1", "1g.10gb", 0.0, 1.0),
            mig("b", "MIG-2", "1c.1g.10gb", 2.0, 3.0),
        ],
        CheckOptions::default(),
    );
    assert_eq!(codes(&ws), ["WL-MIG-001"]);
}

#[test]
fn unknown_profiles() {
    let mut missing = mig("m", "MIG-1", "x", 0.0, 1.0);
    missing.profile = None;
    let mut unknown_gpu = mig("u", "MIG-3", "1g.10gb", 0.0, 1.0);
    unknown_gpu.gpu_model = "NVIDIA A800-SXM4-80GB";
    let recs = [
        missing,
        mig("p", "MIG-2", "1g.10", 0.0, 1.0),
        unknown_gpu,
        mig("n", "MIG-4", "1g.5gb", 0.0, 1.0), // a 40 GB profile on the 80 GB part
        mig("ok", "MIG-5", "7g.80gb", 0.0, 1.0),
    ];
    let ws = run(&recs, CheckOptions::default());
    let w = find(&ws, WarningCode::UnknownProfile);
    let got: Vec<(&str, UnknownProfileReason)> = w
        .iter()
        .map(|w| match *w.detail() {
            WarningDetail::UnknownProfile {
                result_id, reason, ..
            } => (result_id, reason),
            _ => panic!(),
        })
        .collect();
    assert_eq!(got.len(), 4);
    assert_eq!(got[0], ("m", UnknownProfileReason::Missing));
    assert_eq!(
        got[1],
        (
            "p",
            UnknownProfileReason::Unparseable(ProfileError::MissingSuffix {
                field: wattledger_core::mig::profile::ProfileField::Memory
            })
        )
    );
    assert_eq!(got[2], ("u", UnknownProfileReason::GpuNotInCatalog));
    assert!(matches!(got[3], ("n", UnknownProfileReason::NotOnGpu(g)) if g.name() == "A100-80GB"));
    assert_eq!(
        w[3].message().to_string(),
        "result n: MIG profile '1g.5gb' does not exist on A100-80GB ('NVIDIA A100-SXM4-80GB')"
    );
    // The unparseable name is listed by 001 as written, quoted, after the parsed ones.
    let WarningDetail::ParentPower { profiles, .. } =
        *find(&ws, WarningCode::ParentPower)[0].detail()
    else {
        panic!()
    };
    assert_eq!(profiles.to_string(), "1g.5gb, 1g.10gb, 7g.80gb, '1g.10'");
}

#[test]
fn mig_on_hardware_without_mig() {
    let t4 = ResultRecord::mig(
        "t",
        "MIG-9",
        PARENT,
        "1g.10gb",
        Architecture::Turing,
        "Tesla T4",
        5.0,
        0.0,
        1.0,
    );
    let ws = run(&[t4], CheckOptions::default());
    // 006, and no 005 "GPU not in catalog" on top of it.
    assert_eq!(codes(&ws), ["WL-MIG-001", "WL-MIG-006"]);
    assert_eq!(
        ws[1].to_string(),
        "WL-MIG-006 error: result t: reported as MIG on 'Tesla T4' (turing), which cannot run MIG"
    );
    // A Hopper part not in the catalog is still MIG-capable: no 006.
    let h800 = ResultRecord::mig(
        "h",
        "MIG-9",
        PARENT,
        "1g.10gb",
        Architecture::Hopper,
        "NVIDIA H800",
        5.0,
        0.0,
        1.0,
    );
    assert!(
        find(
            &run(&[h800], CheckOptions::default()),
            WarningCode::MigUnsupported
        )
        .is_empty()
    );
}

#[test]
fn shares_are_opt_in() {
    let recs = [mig("a", "MIG-1", "1g.10gb", 0.0, 10.0)];
    assert!(
        find(
            &run(&recs, CheckOptions::default()),
            WarningCode::EstimatedShare
        )
        .is_empty()
    );
}

/// Basis, fraction and share of every `WL-MIG-007` warning, in order.
fn shares_of(ws: &[Warning<'static>]) -> Vec<(ShareBasis, f64, f64)> {
    find(ws, WarningCode::EstimatedShare)
        .into_iter()
        .map(share_of)
        .collect()
}

fn share_of(w: &Warning<'_>) -> (ShareBasis, f64, f64) {
    match *w.detail() {
        WarningDetail::EstimatedShare {
            basis,
            fraction,
            share_j,
            ..
        } => (basis, fraction, share_j),
        _ => panic!(),
    }
}

#[test]
fn compute_slice_shares_of_a_full_partition_add_up_to_the_parent() {
    // 7 x 1g.10gb on an H100 (7 compute slices), each result 700 J over the
    // same window: each share is 700 x 1/7 = 100 J, together 700 J.
    let uuids = [
        "MIG-1", "MIG-2", "MIG-3", "MIG-4", "MIG-5", "MIG-6", "MIG-7",
    ];
    let recs: Vec<ResultRecord<'static>> = uuids
        .iter()
        .map(|u| {
            ResultRecord::mig(
                u,
                u,
                PARENT,
                "1g.10gb",
                Architecture::Hopper,
                H100,
                700.0,
                0.0,
                60.0,
            )
        })
        .collect();
    let opts = shares(ShareBasis::ComputeSlices);
    let ws = run(&recs, opts);
    let shares = find(&ws, WarningCode::EstimatedShare);
    assert_eq!(shares.len(), 7);
    let mut total = 0.0;
    for w in &shares {
        let (basis, fraction, share) = share_of(w);
        assert_eq!(basis, ShareBasis::ComputeSlices);
        assert!((fraction - 1.0 / 7.0).abs() < 1e-12);
        assert!((share - 100.0).abs() < 1e-9);
        assert_eq!(w.severity(), Severity::Info);
        assert!(w.to_string().contains("ESTIMATED"));
        total += share;
    }
    assert!((total - 700.0).abs() < 1e-9);
    // Seven at once on one parent: factor 7.
    let WarningDetail::SharedParent {
        overcount_factor, ..
    } = *find(&ws, WarningCode::SharedParent)[0].detail()
    else {
        panic!()
    };
    assert_eq!(overcount_factor, 7);
}

#[test]
fn compute_instance_share_uses_c() {
    // 1c.7g.80gb on an H100: 1 of 7 compute slices; 350 J x 1/7 = 50 J.
    let r = ResultRecord::mig(
        "c",
        "MIG-1",
        PARENT,
        "1c.7g.80gb",
        Architecture::Hopper,
        H100,
        350.0,
        0.0,
        1.0,
    );
    let ws = run(&[r], shares(ShareBasis::ComputeSlices));
    let (_, _, share) = share_of(find(&ws, WarningCode::EstimatedShare)[0]);
    assert!((share - 50.0).abs() < 1e-9);
}

#[test]
fn activity_shares() {
    // Two overlapping instances, each 400 J (the parent's), activity 3 and 1:
    // shares 400 x 3/4 = 300 J and 400 x 1/4 = 100 J.
    let recs = [
        mig("a", "MIG-1", "1g.10gb", 0.0, 10.0).with_activity(3.0),
        mig("b", "MIG-2", "3g.40gb", 0.0, 10.0).with_activity(1.0),
    ];
    let recs = recs.map(|mut r| {
        r.energy_j = 400.0;
        r
    });
    let ws = run(&recs, shares(ShareBasis::Activity));
    let s = shares_of(&ws);
    assert_eq!(s.len(), 2);
    assert_eq!(s[0].0, ShareBasis::Activity);
    assert!((s[0].2 - 300.0).abs() < 1e-9);
    assert!((s[1].2 - 100.0).abs() < 1e-9);

    // All activity zero: falls back to compute slices, A100 80 GB has 7:
    // 1g -> 400 x 1/7, 3g -> 400 x 3/7.
    let zero = recs.map(|r| r.with_activity(0.0));
    let ws = run(&zero, shares(ShareBasis::Activity));
    let s = shares_of(&ws);
    assert_eq!(s[0].0, ShareBasis::ComputeSlices);
    assert!((s[0].2 - 400.0 / 7.0).abs() < 1e-9);
    assert!((s[1].2 - 1200.0 / 7.0).abs() < 1e-9);
}

#[test]
fn activity_share_counts_only_overlapping_peers() {
    // a [0,10) activity 1 and b [20,30) activity 3 never overlap: each is
    // alone in its window, so each gets its whole energy (fraction 1).
    let recs = [
        mig("a", "MIG-1", "1g.10gb", 0.0, 10.0).with_activity(1.0),
        mig("b", "MIG-2", "1g.10gb", 20.0, 30.0).with_activity(3.0),
    ];
    let ws = run(&recs, shares(ShareBasis::Activity));
    for w in find(&ws, WarningCode::EstimatedShare) {
        let (_, fraction, share) = share_of(w);
        assert_eq!(fraction, 1.0);
        assert_eq!(share, 100.0);
    }
}

#[test]
fn invalid_inputs_are_typed_errors() {
    let ok = mig("a", "MIG-1", "1g.10gb", 0.0, 10.0);
    let cases: Vec<(ResultRecord<'static>, CheckError)> = vec![
        (
            changed(ok, |r| r.energy_j = f64::NAN),
            CheckError::InvalidEnergy {
                index: 1,
                error: FloatError::NotANumber,
            },
        ),
        (
            changed(ok, |r| r.energy_j = f64::INFINITY),
            CheckError::InvalidEnergy {
                index: 1,
                error: FloatError::Infinite,
            },
        ),
        (
            changed(ok, |r| r.energy_j = -1.0),
            CheckError::InvalidEnergy {
                index: 1,
                error: FloatError::Negative,
            },
        ),
        (
            changed(ok, |r| r.start_s = f64::NAN),
            CheckError::InvalidTime {
                index: 1,
                error: FloatError::NotANumber,
            },
        ),
        (
            changed(ok, |r| r.end_s = f64::NEG_INFINITY),
            CheckError::InvalidTime {
                index: 1,
                error: FloatError::Infinite,
            },
        ),
        (
            changed(ok, |r| {
                r.start_s = 5.0;
                r.end_s = 4.0;
            }),
            CheckError::EndBeforeStart { index: 1 },
        ),
        (
            ok.with_activity(-0.5),
            CheckError::InvalidActivity {
                index: 1,
                error: FloatError::Negative,
            },
        ),
        (
            ok.with_activity(f64::NAN),
            CheckError::InvalidActivity {
                index: 1,
                error: FloatError::NotANumber,
            },
        ),
    ];
    for (bad, want) in cases {
        let mut out: heapless::Vec<Warning<'static>, 8> = heapless::Vec::new();
        assert_eq!(
            check(
                kept(&[ok, bad]),
                &CheckOptions::default(),
                scratch(2),
                &mut out
            ),
            Err(want)
        );
        assert!(out.is_empty());
        assert!(!want.to_string().is_empty());
    }
    let opts = shares(ShareBasis::Activity);
    let mut out: heapless::Vec<Warning<'static>, 8> = heapless::Vec::new();
    assert_eq!(
        check(kept(&[ok]), &opts, scratch(1), &mut out),
        Err(CheckError::MissingActivity { index: 0 })
    );
    // A whole-GPU record needs no activity.
    assert_eq!(
        check(kept(&[whole("w")]), &opts, scratch(1), &mut out),
        Ok(0)
    );
}

#[test]
fn overflow_is_an_error_and_leaves_the_buffer_alone() {
    let recs = [mig("a", "MIG-1", "1g.10gb", 0.0, 10.0), whole("w")]; // 001 + 003
    assert_eq!(count(&recs, &CheckOptions::default()), Ok(2));
    let first = run(
        &[mig("z", "MIG-0", "7g.80gb", 0.0, 1.0)],
        CheckOptions::default(),
    )[0];
    let mut out: heapless::Vec<Warning<'static>, 2> = heapless::Vec::new();
    out.push(first).unwrap();
    assert_eq!(
        check(kept(&recs), &CheckOptions::default(), scratch(2), &mut out),
        Err(CheckError::CapacityExceeded {
            needed: 2,
            available: 1
        })
    );
    assert_eq!(out.len(), 1);
    assert_eq!(out[0], first);
    out.clear();
    assert_eq!(
        check(kept(&recs), &CheckOptions::default(), scratch(2), &mut out),
        Ok(2)
    );
}

#[test]
fn profiles_have_no_fixed_limit() {
    // 40 distinct profiles (1g.1gb … 1g.40gb), more than the 16 the engine
    // once held: WL-MIG-001 lists all 40, sorted by memory.
    let names: Vec<&'static str> = (1..=40).map(|i| &*format!("1g.{i}gb").leak()).collect();
    let recs: Vec<ResultRecord<'static>> = names
        .iter()
        .map(|n| mig("x", "MIG-1", n, 0.0, 0.0))
        .collect();
    let ws = run(&recs, CheckOptions::default());
    let WarningDetail::ParentPower { profiles, .. } =
        find(&ws, WarningCode::ParentPower)[0].detail()
    else {
        panic!()
    };
    assert_eq!(profiles.len(), 40);
    assert_eq!(profiles.iter().collect::<Vec<_>>(), names);
}

#[test]
fn too_little_scratch_is_its_own_error() {
    let recs = [mig("a", "MIG-1", "1g.10gb", 0.0, 10.0), whole("w")];
    // 2 records need 2 × SCRATCH_PER_RECORD places.
    assert_eq!(scratch_len(2), 2 * SCRATCH_PER_RECORD);
    let mut small = vec![0usize; scratch_len(2) - 1];
    assert_eq!(
        count_warnings(&recs, &CheckOptions::default(), &mut small),
        Err(CheckError::ScratchTooSmall {
            needed: 2 * SCRATCH_PER_RECORD,
            available: 2 * SCRATCH_PER_RECORD - 1
        })
    );
    let mut out: heapless::Vec<Warning<'_>, 8> = heapless::Vec::new();
    assert_eq!(
        check(&recs, &CheckOptions::default(), &mut small, &mut out),
        Err(CheckError::ScratchTooSmall {
            needed: 2 * SCRATCH_PER_RECORD,
            available: 2 * SCRATCH_PER_RECORD - 1
        })
    );
    assert!(out.is_empty());
    // Enough scratch, whatever it held before, gives the same answer.
    let mut dirty = vec![usize::MAX; scratch_len(2) + 3];
    assert_eq!(
        count_warnings(&recs, &CheckOptions::default(), &mut dirty),
        Ok(2)
    );
}

#[test]
fn streaming_sink_and_sink_full() {
    let recs = [mig("a", "MIG-1", "1g.10gb", 0.0, 10.0), whole("w")];
    let mut seen = Vec::new();
    let n = for_each_warning(
        &recs,
        &CheckOptions::default(),
        &mut [0; 2 * SCRATCH_PER_RECORD],
        |w| {
            seen.push(w.code());
            Ok(())
        },
    );
    assert_eq!(n, Ok(2));
    assert_eq!(seen, [WarningCode::ParentPower, WarningCode::MixedScopes]);
    let mut taken = 0;
    let r = for_each_warning(
        &recs,
        &CheckOptions::default(),
        &mut [0; 2 * SCRATCH_PER_RECORD],
        |_| {
            if taken == 1 {
                return Err(SinkFull);
            }
            taken += 1;
            Ok(())
        },
    );
    assert_eq!(r, Err(CheckError::SinkFull));
    assert_eq!(taken, 1);
}

#[test]
fn messages_render_into_fixed_buffers() {
    let ws = run(
        &[mig("a", "MIG-1", "1g.10gb", 0.0, 10.0)],
        CheckOptions::default(),
    );
    let mut big: heapless::String<256> = heapless::String::new();
    ws[0].write_message(&mut big).unwrap();
    assert_eq!(big.as_str(), ws[0].message().to_string());
    let mut small: heapless::String<16> = heapless::String::new();
    assert!(ws[0].write_message(&mut small).is_err());
    let mut s = heapless::String::<64>::new();
    write!(s, "{}", ws[0].code()).unwrap();
    assert_eq!(s.as_str(), "WL-MIG-001");
}

#[test]
fn codes_are_stable() {
    for (i, code) in WarningCode::ALL.into_iter().enumerate() {
        let n = u16::try_from(i + 1).unwrap();
        assert_eq!(code.number(), n);
        assert_eq!(WarningCode::from_number(n), Some(code));
        assert_eq!(code.as_str(), format!("WL-MIG-{n:03}"));
        assert_eq!(WarningCode::from_str_code(code.as_str()), Some(code));
        assert!(!code.title().is_empty());
    }
    assert_eq!(WarningCode::from_number(0), None);
    assert_eq!(WarningCode::from_number(10), None);
    assert_eq!(WarningCode::MissingParent.severity(), Severity::Warning);
    assert_eq!(WarningCode::TooManyInstances.severity(), Severity::Warning);
    assert_eq!(WarningCode::ParentPower.severity(), Severity::Warning);
    assert_eq!(WarningCode::SharedParent.severity(), Severity::Error);
    assert_eq!(WarningCode::MigUnsupported.severity(), Severity::Error);
    assert_eq!(WarningCode::EstimatedShare.severity(), Severity::Info);
    assert!(Severity::Info < Severity::Warning && Severity::Warning < Severity::Error);
}

/// The overcount factor by an independent sweep: sort the start (+1) and
/// end (-1) events, ends before starts at equal times (half-open windows).
fn sweep_factor(windows: &[(f64, f64)]) -> usize {
    let mut events: Vec<(f64, i32)> = Vec::new();
    for &(s, e) in windows {
        if e > s {
            events.push((s, 1));
            events.push((e, -1));
        }
    }
    events.sort_by(|a, b| a.0.partial_cmp(&b.0).unwrap().then(a.1.cmp(&b.1)));
    let (mut now, mut best) = (0i32, 0i32);
    for (_, d) in events {
        now += d;
        best = best.max(now);
    }
    best as usize
}

proptest! {
    #[test]
    fn factor_matches_a_sweep(windows in proptest::collection::vec((0u8..20, 0u8..8), 1..8)) {
        let windows: Vec<(f64, f64)> =
            windows.iter().map(|&(s, d)| (f64::from(s), f64::from(s) + f64::from(d))).collect();
        let recs: Vec<ResultRecord<'static>> =
            windows.iter().map(|&(s, e)| mig("r", "MIG-1", "1g.10gb", s, e)).collect();
        let ws = run(&recs, CheckOptions::default());
        let want = sweep_factor(&windows);
        let got = find(&ws, WarningCode::SharedParent)
            .first()
            .map(|w| match *w.detail() {
                WarningDetail::SharedParent { overcount_factor, .. } => overcount_factor,
                _ => unreachable!(),
            })
            .unwrap_or(0);
        if want >= 2 {
            prop_assert_eq!(got, want);
        } else {
            prop_assert_eq!(got, 0);
        }
    }

    #[test]
    fn never_panics_on_arbitrary_records(
        recs in proptest::collection::vec(
            (any::<bool>(), proptest::option::of(".{0,12}"), any::<f64>(), any::<f64>(), any::<f64>(),
             proptest::option::of(any::<f64>()), any::<u32>(), 0usize..3),
            0..6),
        basis in proptest::option::of(prop_oneof![Just(ShareBasis::ComputeSlices), Just(ShareBasis::Activity)]),
    ) {
        let strings: Vec<Option<String>> = recs.iter().map(|r| r.1.clone()).collect();
        let models = [A100, H100, "Tesla T4"];
        let records: Vec<ResultRecord<'_>> = recs.iter().zip(&strings).map(|(r, p)| ResultRecord {
            id: "x",
            gpu_uuid: "MIG-1",
            parent_gpu_uuid: Some(PARENT),
            is_mig: r.0,
            profile: p.as_deref(),
            architecture: Architecture::from_nvml(r.6 % 12),
            gpu_model: models[r.7],
            energy_j: r.2,
            start_s: r.3,
            end_s: r.4,
            activity: r.5,
        }).collect();
        let opts = CheckOptions { estimate_shares: basis };
        if let Ok(n) = count(&records, &opts) {
            let mut scratch = vec![0; scratch_len(records.len())];
            let mut out: heapless::Vec<Warning<'_>, 64> = heapless::Vec::new();
            prop_assert_eq!(check(&records, &opts, &mut scratch, &mut out), Ok(n));
            for w in &out {
                let mut s = heapless::String::<1024>::new();
                w.write_message(&mut s).unwrap();
                if let WarningDetail::EstimatedShare { fraction, .. } = *w.detail() {
                    prop_assert!((0.0..=1.0).contains(&fraction));
                }
            }
        }
    }
}

#[test]
fn whole_gpu_result_of_the_parent_counts_in_the_factor() {
    // Three instances of PARENT over [0, 10) and a whole-GPU result of
    // PARENT itself over [0, 10): four results carry the GPU's energy at
    // t = 0, so the factor is 4 (it was 3 when whole-GPU results were left
    // out). A whole-GPU result of another GPU (PARENT2) does not count.
    let recs = [
        mig("a", "MIG-1", "1g.10gb", 0.0, 10.0),
        mig("b", "MIG-2", "1g.10gb", 0.0, 10.0),
        mig("c", "MIG-3", "2g.20gb", 0.0, 10.0),
        ResultRecord::whole_gpu("w", PARENT, Architecture::Ampere, A100, 400.0, 0.0, 10.0),
        whole("other"),
    ];
    let ws = run(&recs, CheckOptions::default());
    let w = find(&ws, WarningCode::SharedParent);
    assert_eq!(w.len(), 1);
    let WarningDetail::SharedParent {
        overcount_factor,
        results,
        whole_gpu_results,
        instances,
        ..
    } = *w[0].detail()
    else {
        panic!()
    };
    assert_eq!(
        (overcount_factor, results, whole_gpu_results, instances),
        (4, 3, 1, 3)
    );
    assert_eq!(
        w[0].message().to_string(),
        format!(
            "3 result(s) on 3 MIG instance(s) (1g.10gb, 2g.20gb) and 1 whole-GPU result(s) of \
             parent GPU {PARENT} overlap in time, up to 4 at once; adding their energies counts \
             the parent's energy up to 4 times over the overlap"
        )
    );
    // One instance alone beside the whole GPU is already 2 at once.
    let ws = run(&recs[2..4], CheckOptions::default());
    assert_eq!(codes(&ws), ["WL-MIG-001", "WL-MIG-002", "WL-MIG-003"]);
    // Whole-GPU results alone are not this rule's business.
    let ws = run(&recs[3..], CheckOptions::default());
    assert!(ws.is_empty());
}

#[test]
fn mig_result_without_a_parent_gets_its_own_code() {
    let orphan = changed(mig("o", "MIG-9", "1g.10gb", 0.0, 10.0), |r| {
        r.parent_gpu_uuid = None
    });
    let empty = changed(mig("e", "MIG-8", "1g.10gb", 0.0, 10.0), |r| {
        r.parent_gpu_uuid = Some("")
    });
    let ws = run(&[orphan, empty], CheckOptions::default());
    // Not grouped (so no WL-MIG-002 although they overlap), one 008 each.
    assert_eq!(codes(&ws), ["WL-MIG-001", "WL-MIG-008", "WL-MIG-008"]);
    let w = find(&ws, WarningCode::MissingParent);
    assert_eq!(w[0].severity(), Severity::Warning);
    assert_eq!(
        w[0].message().to_string(),
        "result o: MIG result on MIG-9 without its parent GPU's UUID; its energy is some GPU's \
         total, but whose is unknown, so its overlaps with other results of that GPU \
         (WL-MIG-002) cannot be checked"
    );
    // With a parent: no 008.
    let ws = run(
        &[mig("p", "MIG-1", "1g.10gb", 0.0, 10.0)],
        CheckOptions::default(),
    );
    assert_eq!(codes(&ws), ["WL-MIG-001"]);
}

#[test]
fn more_instances_than_the_gpu_holds_get_their_own_code() {
    // An A100-80GB holds at most 7 × 1g.10gb. 2 000 distinct 1g.10gb
    // instances on one parent, one after another (no overlap, so no 002):
    // one WL-MIG-009 naming 2000 and 7.
    let uuids: Vec<&'static str> = (0..2000).map(|i| &*format!("MIG-{i:04}").leak()).collect();
    let recs: Vec<ResultRecord<'static>> = uuids
        .iter()
        .enumerate()
        .map(|(i, u)| mig("r", u, "1g.10gb", i as f64, i as f64 + 1.0))
        .collect();
    let ws = run(&recs, CheckOptions::default());
    assert_eq!(codes(&ws), ["WL-MIG-001", "WL-MIG-009"]);
    let WarningDetail::TooManyInstances {
        parent_gpu_uuid,
        instances,
        max_instances,
        ..
    } = *find(&ws, WarningCode::TooManyInstances)[0].detail()
    else {
        panic!()
    };
    assert_eq!(
        (parent_gpu_uuid, instances, max_instances),
        (PARENT, 2000, 7)
    );
    // 7 instances fit; the same instance measured 2 000 times is one.
    assert_eq!(
        codes(&run(&recs[..7], CheckOptions::default())),
        ["WL-MIG-001"]
    );
    let same: Vec<ResultRecord<'static>> = (0..2000)
        .map(|i| mig("r", "MIG-1", "1g.10gb", f64::from(i), f64::from(i) + 1.0))
        .collect();
    assert_eq!(codes(&run(&same, CheckOptions::default())), ["WL-MIG-001"]);
    // 3g.40gb fits twice on an A100-80GB; its compute instances 1c.3g.40gb
    // up to 2 × 3 = 6. Seven distinct 1c.3g.40gb instances are one too many.
    let ci: Vec<ResultRecord<'static>> = uuids[..7]
        .iter()
        .map(|u| mig("c", u, "1c.3g.40gb", 0.0, 0.0))
        .collect();
    let ws = run(&ci, CheckOptions::default());
    let w = find(&ws, WarningCode::TooManyInstances);
    assert_eq!(w.len(), 1);
    assert!(
        w[0].message().to_string().starts_with(&format!(
            "7 distinct MIG instances of profile 1c.3g.40gb on parent GPU {PARENT}, but A100-80GB \
             holds at most 6 at once"
        )),
        "{}",
        w[0].message()
    );
    assert_eq!(
        codes(&run(&ci[..6], CheckOptions::default())),
        ["WL-MIG-001"]
    );
}
