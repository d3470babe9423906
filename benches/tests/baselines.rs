//! The baselines compute the same numbers as the library on the benchmark
//! inputs, so the benchmarks time the same work done two ways.

use wattledger_benches::baseline::{self, SampleLog};
use wattledger_benches::{
    FleetInput, PROFILE_NAMES, RulesInput, SampleKind, compose_stream, h100, meter_config, samples,
};
use wattledger_core::compose::{Composer, FnSink, GatingPolicy, Record};
use wattledger_core::meter::{Meter, MigContext};
use wattledger_core::mig::{
    CheckOptions, Profile, ResultRecord, WarningCode, WarningDetail, for_each_warning, scratch_len,
};
use wattledger_core::scenario::RESNET18_H100;

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-12 * a.abs().max(b.abs())
}

#[test]
fn composition_baseline_matches_the_composer() {
    let mut streams = vec![RESNET18_H100.to_vec()];
    for width in [1, 8, 64] {
        streams.push(compose_stream(2_000, width));
    }
    for stream in &streams {
        for policy in GatingPolicy::ALL {
            let mut c: Composer = Composer::new(h100(), policy).unwrap();
            let mut charged = 0.0;
            let mut sink = FnSink(|r: Record<'_>| {
                if let Record::Subgraph(s) = r {
                    charged += s.total_energy_j;
                }
            });
            for sg in stream {
                c.push(sg, &mut sink).unwrap();
            }
            let report = c.finish(&mut sink).unwrap();
            let base = baseline::compose(&h100(), policy, stream).unwrap();
            assert_eq!(base.stages, report.stages);
            assert_eq!(base.subgraphs, report.subgraphs);
            assert_eq!(base.transitions, report.transitions, "{policy}");
            assert!(close(base.latency_s, report.latency_s));
            assert!(
                close(base.total_energy_j, report.energy.total_j),
                "{policy}: {} vs {}",
                base.total_energy_j,
                report.energy.total_j
            );
            assert!(close(base.unit_seconds, report.states.unit_seconds()));
            assert!((base.charged_j - charged).abs() <= 1e-9 * charged);
        }
    }
}

#[test]
fn the_benchmark_streams_exercise_every_gating_branch() {
    // Width 1 alternates large and small allocations, so Always gates and
    // wakes; the 5 ms stages make BreakEven gate too, but less than Always.
    let stream = compose_stream(10_000, 1);
    let t = |p| baseline::compose(&h100(), p, &stream).unwrap().transitions;
    let (off, always, be) = (
        t(GatingPolicy::Off),
        t(GatingPolicy::Always),
        t(GatingPolicy::BreakEven),
    );
    assert_eq!(off, 0);
    assert!(
        be > 0 && be < always,
        "off {off}, break-even {be}, always {always}"
    );
    // The oracle gates too, and its energy is the least of the four.
    let e = |p| {
        baseline::compose(&h100(), p, &stream)
            .unwrap()
            .total_energy_j
    };
    assert!(t(GatingPolicy::Oracle) > 0);
    let oracle = e(GatingPolicy::Oracle);
    for p in [
        GatingPolicy::Off,
        GatingPolicy::Always,
        GatingPolicy::BreakEven,
    ] {
        assert!(oracle <= e(p), "oracle {oracle} > {p} {}", e(p));
    }
}

#[test]
fn meter_baseline_matches_the_meter() {
    for kind in [SampleKind::CounterAndPower, SampleKind::PowerOnly] {
        let input = samples(10_000, kind);
        let mut m: Meter = Meter::new(meter_config(), MigContext::default());
        let mut log = SampleLog::new(meter_config());
        m.begin("w").unwrap();
        log.begin("w");
        for s in &input {
            m.ingest(*s).unwrap();
            log.ingest(*s).unwrap();
        }
        let a = m.end("w").unwrap();
        let b = log.end("w").unwrap();
        assert_eq!(a.energy_j, b.energy_j, "{kind:?}");
        assert_eq!(a.duration_ns, b.duration_ns);
        assert_eq!(a.covered_ns, b.covered_ns);
        assert_eq!(a.coverage, b.coverage);
        assert_eq!(a.counter_resets, b.resets);
        assert_eq!(a.gaps, b.gaps);
        // The inputs carry what their kind promises: one reset, or one gap.
        match kind {
            SampleKind::CounterAndPower => assert_eq!((a.counter_resets, a.gaps), (1, 0)),
            SampleKind::PowerOnly => assert_eq!((a.counter_resets, a.gaps), (0, 1)),
        }
    }
}

#[test]
fn naive_profile_parser_agrees_with_the_library() {
    for name in PROFILE_NAMES {
        let p = Profile::parse(name).unwrap();
        let n = baseline::parse_profile_naive(name).unwrap();
        assert_eq!(
            (p.compute_slices(), p.gpu_slices(), p.memory_gb()),
            (n.compute, n.gpu, n.memory_gb),
            "{name}"
        );
        let attrs: Vec<&str> = p.attributes().iter().map(|a| a.as_str()).collect();
        assert_eq!(attrs, n.attributes, "{name}");
    }
}

/// The engine's codes and overcount factors, with its own scratch.
fn engine_codes(records: &[ResultRecord<'_>]) -> (Vec<String>, Vec<usize>) {
    let mut codes = Vec::new();
    let mut factors = Vec::new();
    let mut scratch = vec![0; scratch_len(records.len())];
    for_each_warning(records, &CheckOptions::default(), &mut scratch, |w| {
        codes.push(w.code().as_str().to_string());
        if let WarningDetail::SharedParent {
            overcount_factor, ..
        } = w.detail()
        {
            factors.push(*overcount_factor);
        }
        Ok(())
    })
    .unwrap();
    (codes, factors)
}

/// The factors the baseline printed ("up to N at once").
fn naive_factors(naive: &baseline::NaiveWarnings) -> Vec<usize> {
    naive
        .iter()
        .filter(|w| w.0 == "WL-MIG-002")
        .map(|w| {
            let tail = w.1.split("up to ").nth(1).unwrap();
            tail.split(' ').next().unwrap().parse().unwrap()
        })
        .collect()
}

#[test]
fn naive_rules_find_the_same_warnings_as_the_engine() {
    let input = RulesInput::new(1_000);
    let records = input.records();
    let (codes, mut factors) = engine_codes(&records);
    let naive = baseline::mig_rules_naive(&records);
    let naive_codes: Vec<String> = naive.iter().map(|w| w.0.to_string()).collect();
    assert_eq!(codes, naive_codes);
    // 16 parents with four instances each; a result's 12 s window overlaps
    // the next block's (every 10 s), so up to 4 × 2 = 8 MIG results of one
    // parent run at once; one result in ten is a whole-GPU result of
    // parent i mod 16 instead, which takes an instance's place on one
    // parent and adds one to another, so the factors (the same both ways)
    // lie in 8..=10.
    let mut want = naive_factors(&naive);
    factors.sort_unstable();
    want.sort_unstable();
    assert_eq!(factors, want);
    assert_eq!(factors.len(), 16);
    assert!(factors.iter().all(|f| (8..=10).contains(f)), "{factors:?}");
    assert_eq!(
        codes.first().map(String::as_str),
        Some(WarningCode::ParentPower.as_str())
    );
}

#[test]
fn fleet_input_has_the_profiles_and_parents_it_promises() {
    // 10 000 results on 100 parents with 100 distinct profiles: the engine
    // and the baseline agree, and WL-MIG-001 lists all 100 profiles.
    let fleet = FleetInput::new(10_000, 100, 100);
    let records = fleet.records();
    let distinct: std::collections::BTreeSet<Profile> = records
        .iter()
        .filter_map(|r| r.profile)
        .map(|p| Profile::parse(p).unwrap())
        .collect();
    assert_eq!(distinct.len(), 100);
    let (codes, mut factors) = engine_codes(&records);
    let naive = baseline::mig_rules_naive(&records);
    let mut want = naive_factors(&naive);
    factors.sort_unstable();
    want.sort_unstable();
    // Every parent's results overlap their next: one WL-MIG-002 per
    // parent, with a factor of 2 (MIG and whole-GPU results alike).
    assert_eq!(factors, want);
    assert_eq!(factors, vec![2; 100]);
    // Only profiles valid on their GPUs, one instance per profile and
    // parent: no 005, no 009.
    assert_eq!(codes.iter().filter(|c| *c == "WL-MIG-002").count(), 100);
    assert!(!codes.iter().any(|c| c == "WL-MIG-005" || c == "WL-MIG-009"));
    let mut scratch = vec![0; scratch_len(records.len())];
    let mut listed = 0;
    for_each_warning(&records, &CheckOptions::default(), &mut scratch, |w| {
        if let WarningDetail::ParentPower { profiles, .. } = w.detail() {
            listed = profiles.len();
        }
        Ok(())
    })
    .unwrap();
    assert_eq!(listed, 100);
}

#[test]
fn timeline_baseline_matches_the_timeline_composer() {
    use wattledger_benches::timeline_baseline::timeline_off;
    use wattledger_benches::timeline_stream;
    use wattledger_core::timeline::{KernelRecord, Timeline, TimelinePolicy};
    for streams in [1, 4, 16] {
        let intervals = timeline_stream(5_000, streams);
        let mut t: Timeline = Timeline::new(h100(), TimelinePolicy::Off, 0).unwrap();
        let mut charged = 0.0;
        let mut sink = FnSink(|r: &KernelRecord| charged += r.total_energy_j);
        for iv in &intervals {
            t.push(iv, &mut sink).unwrap();
        }
        let r = t.finish(None, &mut sink).unwrap();
        let b = timeline_off(&h100(), &intervals);
        let near = |a: f64, b: f64| (a - b).abs() <= 1e-9 * a.abs().max(b.abs());
        assert!(
            near(r.total_energy_j, b.total_energy_j),
            "{} vs {}",
            r.total_energy_j,
            b.total_energy_j
        );
        assert!(
            near(charged + r.idle.energy_j, b.charged_j),
            "{} vs {}",
            charged + r.idle.energy_j,
            b.charged_j
        );
    }
}
