//! MIG: profile parsing (ns per profile) against a `split` + `String`
//! parser, `CUDA_VISIBLE_DEVICES` classification, and the rules engine
//! against a hash-map baseline over 1 000 results and over a fleet (100 000
//! results, 100 distinct profiles, 1 000 parents).
//!
//! Run: `cargo bench -p wattledger-benches --bench mig -- --warm-up-time 1 --measurement-time 2`.

use std::fmt::Write as _;
use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use wattledger_benches::{FleetInput, PROFILE_NAMES, RulesInput, baseline};
use wattledger_core::mig::{
    CheckOptions, Profile, ResultRecord, classify_token, for_each_warning, scratch_len,
};

/// Counts the bytes of a rendered message without storing them.
struct ByteCount(usize);

impl std::fmt::Write for ByteCount {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.0 += s.len();
        Ok(())
    }
}

fn profile_parse(c: &mut Criterion) {
    let mut group = c.benchmark_group("mig_profile_parse");
    group.sample_size(30);
    group.throughput(Throughput::Elements(PROFILE_NAMES.len() as u64));
    group.bench_function(BenchmarkId::new("wattledger", "16-names"), |b| {
        b.iter(|| {
            let mut slices = 0u32;
            for name in black_box(&PROFILE_NAMES) {
                let p = Profile::parse(name).expect("known profile");
                slices += p.compute_slices() + p.memory_gb() + p.attributes().len() as u32;
            }
            slices
        });
    });
    group.bench_function(BenchmarkId::new("baseline", "16-names"), |b| {
        b.iter(|| {
            let mut slices = 0u32;
            for name in black_box(&PROFILE_NAMES) {
                let p = baseline::parse_profile_naive(name).expect("known profile");
                slices += p.compute + p.memory_gb + p.attributes.len() as u32;
            }
            slices
        });
    });
    group.finish();
}

const TOKENS: [&str; 6] = [
    "0",
    "3",
    "GPU-8f4c2a10-1b2c-4d5e-8f90-a1b2c3d4e5f6",
    "MIG-5c3e1a2b-3c4d-5e6f-7a8b-9c0d1e2f3a4b",
    "MIG-GPU-8f4c2a10-1b2c-4d5e-8f90-a1b2c3d4e5f6/1/0",
    "GPU-8f4c2a10",
];

fn classify(c: &mut Criterion) {
    let mut group = c.benchmark_group("mig_classify_token");
    group.sample_size(30);
    group.throughput(Throughput::Elements(TOKENS.len() as u64));
    group.bench_function(BenchmarkId::new("wattledger", "6-tokens"), |b| {
        b.iter(|| {
            black_box(&TOKENS)
                .iter()
                .filter(|t| classify_token(t).is_ok_and(|d| d.is_mig()))
                .count()
        });
    });
    group.finish();
}

/// The engine as the `std` path runs it: scratch allocated per check,
/// every message rendered (counted, not stored).
fn engine(records: &[ResultRecord<'_>], options: &CheckOptions) -> usize {
    let mut bytes = ByteCount(0);
    let mut scratch = vec![0usize; scratch_len(records.len())];
    for_each_warning(records, options, &mut scratch, |w| {
        let _ = write!(bytes, "{w}");
        Ok(())
    })
    .expect("valid records");
    bytes.0
}

fn rules(c: &mut Criterion) {
    let mut group = c.benchmark_group("mig_rules");
    group.sample_size(10);
    let options = CheckOptions::default();
    let small = RulesInput::new(1_000);
    let fleet = FleetInput::new(100_000, 1_000, 100);
    for (name, records) in [
        ("1000-results", small.records()),
        ("100000-results-100-profiles-1000-parents", fleet.records()),
    ] {
        group.throughput(Throughput::Elements(records.len() as u64));
        group.bench_function(BenchmarkId::new("wattledger", name), |b| {
            b.iter(|| engine(black_box(&records), &options));
        });
        group.bench_function(BenchmarkId::new("baseline", name), |b| {
            b.iter(|| baseline::mig_rules_naive(black_box(&records)).len());
        });
    }
    group.finish();
}

criterion_group!(benches, profile_parse, classify, rules);
criterion_main!(benches);
