//! Meter ingest: ns per sample, the running-totals meter against a
//! keep-every-sample-in-a-`Vec`-then-integrate baseline on the same samples.
//!
//! Each iteration opens the windows, ingests 10 000 samples and ends the
//! windows; the meter is cloned from a fresh one outside the timing.
//!
//! Run: `cargo bench -p wattledger-benches --bench meter -- --warm-up-time 1 --measurement-time 2`.

use std::hint::black_box;

use criterion::{BatchSize, BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use wattledger_benches::baseline::SampleLog;
use wattledger_benches::{SampleKind, meter_config, samples};
use wattledger_core::meter::{Meter, MigContext, Sample};

const WINDOW_NAMES: [&str; 4] = ["job", "epoch", "step", "kernel"];
const N: usize = 10_000;

fn run_meter(m: &mut Meter, samples: &[Sample], windows: usize) -> f64 {
    for name in &WINDOW_NAMES[..windows] {
        m.begin(*name).expect("room for four windows");
    }
    for s in samples {
        m.ingest(*s).expect("samples are in order");
    }
    WINDOW_NAMES[..windows]
        .iter()
        .map(|name| m.end(*name).expect("window is open").energy_j)
        .sum()
}

fn run_log(samples: &[Sample], windows: usize) -> f64 {
    let mut log = SampleLog::new(meter_config());
    for name in &WINDOW_NAMES[..windows] {
        log.begin(name);
    }
    for s in samples {
        log.ingest(*s).expect("samples are in order");
    }
    WINDOW_NAMES[..windows]
        .iter()
        .map(|name| log.end(name).expect("window is open").energy_j)
        .sum()
}

fn meter_ingest(c: &mut Criterion) {
    let mut group = c.benchmark_group("meter_ingest");
    group.sample_size(30);
    group.throughput(Throughput::Elements(N as u64));
    let template: Meter = Meter::new(meter_config(), MigContext::default());
    for (kind, kind_name, windows) in [
        (SampleKind::CounterAndPower, "counter", 1usize),
        (SampleKind::CounterAndPower, "counter", 4),
        (SampleKind::PowerOnly, "power", 1),
    ] {
        let input = samples(N, kind);
        let label = format!("{kind_name}-windows{windows}-n{N}");
        group.bench_with_input(BenchmarkId::new("wattledger", &label), &input, |b, s| {
            b.iter_batched_ref(
                || template.clone(),
                |m| black_box(run_meter(m, black_box(s), windows)),
                BatchSize::SmallInput,
            );
        });
        group.bench_with_input(BenchmarkId::new("baseline", &label), &input, |b, s| {
            b.iter(|| black_box(run_log(black_box(s), windows)));
        });
    }
    group.finish();
}

criterion_group!(benches, meter_ingest);
criterion_main!(benches);
