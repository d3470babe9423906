//! The timeline composer: ns per kernel, against the straightforward sweep
//! (events sorted in a `Vec`, running kernels in a `Vec`) on the same timeline.
//!
//! `timeline`: 100 000 kernels on 1, 4 and 16 streams; the library under
//! gating off and oracle, the baseline under off.
//!
//! Run: `cargo bench -p wattledger-benches --bench timeline -- --warm-up-time 1 --measurement-time 2`.

use std::hint::black_box;

use criterion::{BatchSize, BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use wattledger_benches::timeline_baseline::timeline_off;
use wattledger_benches::{h100, timeline_stream};
use wattledger_core::compose::FnSink;
use wattledger_core::timeline::{Interval, KernelRecord, Timeline, TimelinePolicy};

/// The library: push every kernel into a fresh timeline and finish, summing
/// the records in the sink so they are really computed.
fn run(t: &mut Timeline, intervals: &[Interval]) -> f64 {
    let mut charged = 0.0;
    let mut sink = FnSink(|r: &KernelRecord| charged += r.total_energy_j);
    for iv in intervals {
        t.push(iv, &mut sink).expect("benchmark timeline is valid");
    }
    let r = t
        .finish(None, &mut sink)
        .expect("benchmark timeline is valid");
    r.total_energy_j + charged
}

fn timeline(c: &mut Criterion) {
    let mut group = c.benchmark_group("timeline");
    let hw = h100();
    for streams in [1usize, 4, 16] {
        let intervals = timeline_stream(100_000, streams);
        group.throughput(Throughput::Elements(intervals.len() as u64));
        for policy in [TimelinePolicy::Off, TimelinePolicy::Oracle] {
            let template: Timeline = Timeline::new(hw.clone(), policy, 0).expect("H100 can gate");
            group.bench_with_input(
                BenchmarkId::new(format!("wattledger-{policy}"), streams),
                &intervals,
                |b, s| {
                    b.iter_batched_ref(
                        || template.clone(),
                        |t| black_box(run(t, black_box(s))),
                        BatchSize::SmallInput,
                    );
                },
            );
        }
        group.bench_with_input(
            BenchmarkId::new("baseline-off", streams),
            &intervals,
            |b, s| {
                b.iter(|| black_box(timeline_off(&hw, black_box(s))));
            },
        );
    }
    group.finish();
}

criterion_group!(benches, timeline);
criterion_main!(benches);
