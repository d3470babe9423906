//! C ABI overhead: the same calls through `wl_*` functions and directly on
//! the Rust types, on the same inputs, in the same run.
//!
//! * `ffi_push`: 10 000 subgraphs (width 1, gating Off) through
//!   `wl_composer_push` against `Composer::push`;
//! * `ffi_ingest`: 10 000 counter + power samples through `wl_meter_ingest`
//!   against `Meter::ingest`;
//! * `ffi_query`: 10 000 `wl_composer_pending` calls against
//!   `Composer::pending`: nothing but the boundary (handle check, panic
//!   guard, out-pointer).
//!
//! In each group `c_abi` is the C ABI and `rust` the direct call (the
//! baseline). The object is reset outside the timed region before every
//! iteration. Run: `cargo bench -p wattledger-benches --bench ffi -- --warm-up-time 1 --measurement-time 2`.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use wattledger::{
    WL_OK, WL_POLICY_OFF, WL_PRECISION_FP16, WL_PRESET_H100_SXM5, wl_composer, wl_composer_free,
    wl_composer_new, wl_composer_pending, wl_composer_push, wl_composer_reset, wl_hardware,
    wl_hardware_from_preset_id, wl_meter, wl_meter_config, wl_meter_config_init, wl_meter_free,
    wl_meter_ingest, wl_meter_new, wl_sample, wl_subgraph,
};
use wattledger_benches::{SampleKind, c_sample, compose_stream, h100, samples};
use wattledger_core::compose::{Composer, GatingPolicy, Subgraph};
use wattledger_core::hardware::Precision;
use wattledger_core::meter::{Meter, MeterConfig, MigContext};

const N: usize = 10_000;

fn c_subgraph(s: &Subgraph) -> wl_subgraph {
    assert_eq!(
        s.precision,
        Precision::Fp16,
        "the benchmark streams are FP16"
    );
    wl_subgraph {
        struct_size: size_of::<wl_subgraph>() as u32,
        id: s.id,
        stage: s.stage,
        precision: WL_PRECISION_FP16,
        flops: s.flops,
        input_bytes: s.input_bytes,
        output_bytes: s.output_bytes,
        weight_bytes: s.weight_bytes,
        latency_s: s.latency_s,
        has_units_allocated: u32::from(s.units_allocated.is_some()),
        units_allocated: s.units_allocated.unwrap_or(0),
        has_threads: u32::from(s.threads.is_some()),
        reserved: 0,
        threads: s.threads.unwrap_or(0),
    }
}

/// Times `iters` runs of `body`, calling `reset` before each outside the clock.
fn timed(iters: u64, mut reset: impl FnMut(), mut body: impl FnMut()) -> Duration {
    let mut total = Duration::ZERO;
    for _ in 0..iters {
        reset();
        let start = Instant::now();
        body();
        total += start.elapsed();
    }
    total
}

fn c_composer() -> *mut wl_composer {
    let mut hw = std::mem::MaybeUninit::<wl_hardware>::uninit();
    let mut c: *mut wl_composer = std::ptr::null_mut();
    // SAFETY: valid out-pointers; the hardware is read during the call only.
    unsafe {
        assert_eq!(
            wl_hardware_from_preset_id(WL_PRESET_H100_SXM5, hw.as_mut_ptr()),
            WL_OK
        );
        assert_eq!(wl_composer_new(hw.as_ptr(), WL_POLICY_OFF, &mut c), WL_OK);
    }
    c
}

fn ffi_push(c: &mut Criterion) {
    let stream = compose_stream(N, 1);
    let c_stream: Vec<wl_subgraph> = stream.iter().map(c_subgraph).collect();
    let mut group = c.benchmark_group("ffi_push");
    group.sample_size(30);
    group.throughput(Throughput::Elements(N as u64));
    let handle = c_composer();
    group.bench_function(BenchmarkId::new("c_abi", "w1-off-n10000"), |b| {
        b.iter_custom(|iters| {
            timed(
                iters,
                // SAFETY: a live composer handle.
                || assert_eq!(unsafe { wl_composer_reset(handle) }, WL_OK),
                || {
                    for s in &c_stream {
                        // SAFETY: a live handle and a full-size subgraph struct.
                        let st = unsafe { wl_composer_push(handle, black_box(s)) };
                        assert_eq!(st, WL_OK);
                    }
                },
            )
        });
    });
    let mut rust: Composer = Composer::new(h100(), GatingPolicy::Off).unwrap();
    group.bench_function(BenchmarkId::new("rust", "w1-off-n10000"), |b| {
        b.iter_custom(|iters| {
            let r = std::cell::RefCell::new(&mut rust);
            timed(
                iters,
                || r.borrow_mut().reset(),
                || {
                    let mut c = r.borrow_mut();
                    for s in &stream {
                        c.push(black_box(s), &mut ()).unwrap();
                    }
                    // Keep the state observable, or the work is optimised away.
                    black_box(&**c);
                },
            )
        });
    });
    group.finish();
    // SAFETY: a live heap handle, freed once.
    assert_eq!(unsafe { wl_composer_free(handle) }, WL_OK);
}

fn ffi_query(c: &mut Criterion) {
    let mut group = c.benchmark_group("ffi_query");
    group.sample_size(30);
    group.throughput(Throughput::Elements(N as u64));
    let handle = c_composer();
    group.bench_function(BenchmarkId::new("c_abi", "pending-n10000"), |b| {
        b.iter(|| {
            let mut sum = 0usize;
            for _ in 0..N {
                let mut out = 0usize;
                // SAFETY: a live handle and a writable out-pointer.
                let st = unsafe { wl_composer_pending(black_box(handle), &mut out) };
                sum += out + st as usize;
            }
            sum
        });
    });
    let rust: Composer = Composer::new(h100(), GatingPolicy::Off).unwrap();
    group.bench_function(BenchmarkId::new("rust", "pending-n10000"), |b| {
        b.iter(|| {
            let mut sum = 0usize;
            for _ in 0..N {
                sum += black_box(&rust).pending();
            }
            sum
        });
    });
    group.finish();
    // SAFETY: a live heap handle, freed once.
    assert_eq!(unsafe { wl_composer_free(handle) }, WL_OK);
}

fn ffi_ingest(c: &mut Criterion) {
    let input = samples(N, SampleKind::CounterAndPower);
    let c_input: Vec<wl_sample> = input.iter().map(c_sample).collect();
    let mut group = c.benchmark_group("ffi_ingest");
    group.sample_size(30);
    group.throughput(Throughput::Elements(N as u64));
    let mut config = std::mem::MaybeUninit::<wl_meter_config>::uninit();
    // SAFETY: a writable out-pointer.
    assert_eq!(unsafe { wl_meter_config_init(config.as_mut_ptr()) }, WL_OK);
    // SAFETY: initialised by the call above.
    let config = unsafe { config.assume_init() };
    let new_meter = || {
        let mut m: *mut wl_meter = std::ptr::null_mut();
        // SAFETY: a full-size config with no text, and a writable out-pointer.
        assert_eq!(unsafe { wl_meter_new(&config, &mut m) }, WL_OK);
        m
    };
    group.bench_function(BenchmarkId::new("c_abi", "counter-n10000"), |b| {
        b.iter_custom(|iters| {
            let m = std::cell::Cell::new(std::ptr::null_mut::<wl_meter>());
            let d = timed(
                iters,
                || {
                    if !m.get().is_null() {
                        // SAFETY: a live heap handle, freed once.
                        assert_eq!(unsafe { wl_meter_free(m.get()) }, WL_OK);
                    }
                    m.set(new_meter());
                },
                || {
                    let m = m.get();
                    for s in &c_input {
                        // SAFETY: a live handle and a full-size sample struct.
                        assert_eq!(unsafe { wl_meter_ingest(m, black_box(s)) }, WL_OK);
                    }
                },
            );
            // SAFETY: a live heap handle, freed once.
            assert_eq!(unsafe { wl_meter_free(m.get()) }, WL_OK);
            d
        });
    });
    let fresh: Meter = Meter::new(MeterConfig::default(), MigContext::default());
    group.bench_function(BenchmarkId::new("rust", "counter-n10000"), |b| {
        b.iter_custom(|iters| {
            let mut m = fresh.clone();
            let r = std::cell::RefCell::new(&mut m);
            timed(
                iters,
                || **r.borrow_mut() = fresh.clone(),
                || {
                    let mut m = r.borrow_mut();
                    for s in &input {
                        m.ingest(*black_box(s)).unwrap();
                    }
                    // Keep the state observable, or the work is optimised away.
                    black_box(&**m);
                },
            )
        });
    });
    group.finish();
}

criterion_group!(benches, ffi_push, ffi_ingest, ffi_query);
criterion_main!(benches);
