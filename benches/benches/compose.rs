//! Composition: ns per subgraph, the streaming composer against a
//! collect-into-`Vec`s-then-compute baseline on the same stream.
//!
//! * `compose_length`: width 1, gating Off, streams of 1, 64, 10 000 and
//!   1 000 000 subgraphs (linearity in the stream length);
//! * `compose_width`: 10 000 subgraphs, stage widths 1, 8 and 64, gating
//!   Off, Always, BreakEven and Oracle.
//!
//! Run: `cargo bench -p wattledger-benches --bench compose -- --warm-up-time 1 --measurement-time 2`.

use std::hint::black_box;

use criterion::{BatchSize, BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use wattledger_benches::{baseline, compose_stream, h100};
use wattledger_core::compose::{Composer, FnSink, GatingPolicy, Record, Subgraph};

/// The library: push the whole stream into a fresh composer (cloned outside
/// the timing) and finish, summing every subgraph's charge in the sink so
/// the records are really computed.
fn run_composer(c: &mut Composer, stream: &[Subgraph]) -> f64 {
    let mut charged = 0.0;
    let mut sink = FnSink(|r: Record<'_>| {
        if let Record::Subgraph(s) = r {
            charged += s.total_energy_j;
        }
    });
    for sg in stream {
        c.push(sg, &mut sink).expect("benchmark stream is valid");
    }
    let report = c.finish(&mut sink).expect("benchmark stream is valid");
    report.energy.total_j + charged
}

fn bench_pair(
    group: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    label: &str,
    policy: GatingPolicy,
    stream: &[Subgraph],
) {
    let hw = h100();
    let template: Composer = Composer::new(hw.clone(), policy).expect("H100 can gate");
    group.throughput(Throughput::Elements(stream.len() as u64));
    group.bench_with_input(BenchmarkId::new("wattledger", label), stream, |b, s| {
        b.iter_batched_ref(
            || template.clone(),
            |c| black_box(run_composer(c, black_box(s))),
            BatchSize::SmallInput,
        );
    });
    group.bench_with_input(BenchmarkId::new("baseline", label), stream, |b, s| {
        b.iter(|| black_box(baseline::compose(&hw, policy, black_box(s)).expect("valid")));
    });
}

fn compose_length(c: &mut Criterion) {
    let mut group = c.benchmark_group("compose_length");
    for len in [1usize, 64, 10_000, 1_000_000] {
        if len >= 1_000_000 {
            group.sample_size(10);
        } else {
            group.sample_size(30);
        }
        let stream = compose_stream(len, 1);
        bench_pair(
            &mut group,
            &format!("w1-off-n{len}"),
            GatingPolicy::Off,
            &stream,
        );
    }
    group.finish();
}

fn compose_width(c: &mut Criterion) {
    let mut group = c.benchmark_group("compose_width");
    group.sample_size(30);
    for width in [1usize, 8, 64] {
        let stream = compose_stream(10_000, width);
        for policy in GatingPolicy::ALL {
            bench_pair(
                &mut group,
                &format!("w{width}-{}-n10000", policy.name()),
                policy,
                &stream,
            );
        }
    }
    group.finish();
}

criterion_group!(benches, compose_length, compose_width);
criterion_main!(benches);
