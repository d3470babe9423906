//! Once constructed, the composer and the meter never touch the heap.
//!
//! A counting global allocator counts allocations made by *this thread*
//! while counting is switched on (the test harness's other threads may
//! allocate whenever they like). The ResNet-18 scenario is pushed 1000 times
//! under every gating policy, and 100 000 samples are ingested with four
//! windows open; both must allocate nothing. A control test checks that the
//! counter does see an allocation, so the zero is not vacuous.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use wattledger_benches::{SampleKind, h100, meter_config, samples};
use wattledger_core::compose::{Composer, FnSink, GatingPolicy, Record, Subgraph};
use wattledger_core::meter::{Meter, MigContext, WindowFlags};
use wattledger_core::scenario::RESNET18_H100;

struct Counting;

thread_local! {
    static ON: Cell<bool> = const { Cell::new(false) };
    static COUNT: Cell<u64> = const { Cell::new(0) };
}

fn note() {
    // `try_with`: the allocator can run while thread-locals are torn down.
    let on = ON.try_with(Cell::get).unwrap_or(false);
    if on {
        let _ = COUNT.try_with(|c| c.set(c.get() + 1));
    }
}

// SAFETY: every method forwards to `System` unchanged; the counting touches
// only const-initialised thread-locals, which never allocate.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note();
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note();
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note();
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        note();
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Heap operations (allocations, reallocations and frees) `f` makes on this thread.
fn heap_ops<R>(f: impl FnOnce() -> R) -> (u64, R) {
    COUNT.with(|c| c.set(0));
    ON.with(|o| o.set(true));
    let r = f();
    ON.with(|o| o.set(false));
    (COUNT.with(Cell::get), r)
}

#[test]
fn the_counter_sees_a_heap_allocation() {
    let (ops, v) = heap_ops(|| std::hint::black_box(vec![1u8; 100]));
    drop(v);
    // One allocation; the free happens after counting stopped.
    assert_eq!(ops, 1);
}

#[test]
fn composing_resnet18_a_thousand_times_allocates_nothing() {
    // ResNet-18 uses stages 0..=18; repetition r is shifted by 19·r so the
    // whole run is one valid stream of 22 000 subgraphs.
    let last_stage = RESNET18_H100.iter().map(|s| s.stage).max().unwrap();
    let stride = last_stage + 1;
    for policy in GatingPolicy::ALL {
        let mut composer: Composer = Composer::new(h100(), policy).unwrap();
        let (ops, (report, charged, records)) = heap_ops(|| {
            let mut charged = 0.0;
            let mut records = 0u64;
            let mut sink = FnSink(|r: Record<'_>| {
                if let Record::Subgraph(s) = r {
                    charged += s.total_energy_j;
                    records += 1;
                }
            });
            for rep in 0..1000u32 {
                for sg in &RESNET18_H100 {
                    let shifted = Subgraph {
                        stage: sg.stage + rep * stride,
                        ..*sg
                    };
                    composer.push(&shifted, &mut sink).unwrap();
                }
            }
            let report = composer.finish(&mut sink).unwrap();
            (report, charged, records)
        });
        assert_eq!(ops, 0, "{policy}: the composer touched the heap");
        // The work really happened: 22 000 subgraphs in 19 000 stages, and
        // the subgraphs' charges add up to the model total.
        assert_eq!(records, 22_000);
        assert_eq!(report.subgraphs, 22_000);
        assert_eq!(report.stages, 19_000);
        let rel = (charged - report.energy.total_j).abs() / report.energy.total_j;
        assert!(
            rel < 1e-9,
            "{policy}: charges {charged} vs total {}",
            report.energy.total_j
        );
    }
}

#[test]
fn metering_a_hundred_thousand_samples_with_windows_open_allocates_nothing() {
    let input = samples(100_000, SampleKind::CounterAndPower);
    let mut meter: Meter = Meter::new(
        meter_config(),
        MigContext::instance("MIG-1", "GPU-1", "1g.10gb").unwrap(),
    );
    let (ops, (outer, inner, peeked)) = heap_ops(|| {
        meter.begin("job").unwrap();
        meter.begin(7u32).unwrap();
        meter.begin("epoch").unwrap();
        let mut peeked = 0.0;
        for (i, s) in input.iter().enumerate() {
            meter.ingest(*s).unwrap();
            if i == 50_000 {
                meter.begin("late").unwrap();
                peeked = meter.peek("job").unwrap().energy_j;
            }
        }
        let inner = meter.end("late").unwrap();
        let _ = meter.end("epoch").unwrap();
        let _ = meter.end(7u32).unwrap();
        (meter.end("job").unwrap(), inner, peeked)
    });
    assert_eq!(ops, 0, "the meter touched the heap");
    // The work really happened: 99 999 intervals of 20 ms, all covered by
    // counter deltas except the reset one, which the power trapezoid bridges.
    assert_eq!(outer.duration_ns, 99_999 * 20_000_000);
    assert_eq!(outer.coverage, 1.0);
    assert_eq!(outer.counter_resets, 1);
    assert!(outer.flags.contains(WindowFlags::COUNTER_RESET));
    assert!(outer.flags.contains(WindowFlags::MIG_PARENT_ENERGY));
    assert!(inner.energy_j > 0.0 && inner.energy_j < outer.energy_j);
    assert!(peeked > 0.0 && peeked < outer.energy_j);
}
