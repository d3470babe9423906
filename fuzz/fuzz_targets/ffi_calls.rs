//! C ABI call sequences: composers, timelines and meters made on the heap
//! and in caller storage, used, reset, freed and released in any order, through
//! NULL, freed, released and garbage handles, with NaN, infinite and
//! negative numbers, short structs, misaligned or small storage, and names
//! that are not UTF-8. Run it under AddressSanitizer
//! (`RUSTC_BOOTSTRAP=1 cargo fuzz run ffi_calls`) to catch any read of
//! freed memory. After every call:
//!
//! * the status is a defined `wl_status`;
//! * a NULL handle gives `WL_ERR_NULL_POINTER`, and a freed, released or
//!   garbage handle `WL_ERR_BAD_HANDLE`;
//! * a live object accepts exactly what the Rust type it wraps accepts
//!   (a mirror `Composer`/`Timeline`/`Meter` gets the same input), and its totals stay
//!   bit-for-bit equal to the mirror's;
//! * a refused call changes nothing, and writes no out-parameter.

#![no_main]

use std::ffi::{CString, c_void};

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use wattledger::*;
use wattledger_core::compose::{Composer, GatingPolicy, Subgraph};
use wattledger_core::hardware::Precision;
use wattledger_core::meter::{Meter, MeterConfig, MigContext, Sample, WindowRef};
use wattledger_core::presets::Preset;
use wattledger_core::timeline::{Engine, Interval, Timeline, TimelinePolicy, Work};

mod common;
use common::Num;

#[derive(Arbitrary, Debug, Clone, Copy)]
enum Which {
    Live(u8),
    Null,
    Dead(u8),
    Garbage,
}

#[derive(Arbitrary, Debug)]
struct Sg {
    step: u8,
    precision: u8,
    flops: Num,
    bytes: Num,
    latency: Num,
    units: Option<u8>,
    threads: Option<u32>,
    /// Some: a struct size smaller than the library's.
    short: Option<u8>,
}

/// A kernel for a timeline, its start relative to the last accepted one.
#[derive(Arbitrary, Debug)]
struct Kern {
    gap_ns: u32,
    back: bool,
    duration_ns: u32,
    short_end: bool,
    /// A copy (kind 1) rather than a kernel.
    copy: bool,
    /// A kind that is neither.
    bad_kind: bool,
    units: u8,
    flops: Option<Num>,
    precision: u8,
    bytes: Num,
    /// Some: a struct size smaller than the library's.
    short: Option<u8>,
}

#[derive(Arbitrary, Debug)]
enum Op {
    NewComposer {
        preset: u8,
        policy: u8,
    },
    InitComposer {
        preset: u8,
        policy: u8,
        small: bool,
        misaligned: bool,
    },
    Push(Which, Sg),
    Finish(Which),
    Pending(Which),
    Reset(Which),
    Free(Which),
    Release(Which),
    NewMeter {
        max_gap_ms: u16,
        total_units: Option<u8>,
    },
    Ingest {
        m: Which,
        step_us: u32,
        back: bool,
        energy: Option<u16>,
        power: Option<u32>,
        gated: Option<u8>,
    },
    Begin(Which, Vec<u8>),
    End(Which, Vec<u8>),
    BeginId(Which, u8),
    EndId(Which, u8),
    FreeMeter(Which),
    NewTimeline {
        preset: u8,
        policy: u8,
        origin: u16,
    },
    InitTimeline {
        preset: u8,
        policy: u8,
        small: bool,
        misaligned: bool,
    },
    TPush(Which, Kern),
    TAdvance(Which, u32, bool),
    TFinish(Which),
    TReset(Which, u16),
    TFree(Which),
    TRelease(Which),
}

type Tl = Timeline<WL_TIMELINE_CAPACITY, WL_TIMELINE_IDLE_GROUPS>;

struct LiveTimeline {
    ptr: *mut wl_timeline,
    mirror: Box<Tl>,
    /// Caller storage for `wl_timeline_init`; `None` on the heap.
    storage: Option<Vec<u64>>,
    /// The latest accepted start (or advance, or origin).
    last: u64,
}

struct LiveComposer {
    ptr: *mut wl_composer,
    mirror: Composer<WL_STAGE_CAPACITY>,
    /// Caller storage for `wl_composer_init`; `None` on the heap.
    storage: Option<Vec<u64>>,
    last_stage: u32,
}

struct LiveMeter {
    ptr: *mut wl_meter,
    mirror: Meter<WL_WINDOW_CAPACITY>,
    t_ns: u64,
    counter: u64,
}

#[derive(Default)]
struct World {
    composers: Vec<LiveComposer>,
    meters: Vec<LiveMeter>,
    timelines: Vec<LiveTimeline>,
    dead_timelines: Vec<*mut wl_timeline>,
    /// Freed heap composers and meters: dangling, never dereferenced by a
    /// correct library.
    dead_composers: Vec<*mut wl_composer>,
    dead_meters: Vec<*mut wl_meter>,
    /// Storage of released composers, kept alive so the handle stays readable.
    graveyard: Vec<Vec<u64>>,
    garbage: Vec<u64>,
}

fn ok_status(s: wl_status) {
    assert!(s <= WL_STATUS_MAX, "undefined status {s}");
}

/// An output report with its struct_size set, as C callers set it.
fn report_out() -> wl_report {
    wl_report {
        struct_size: WL_REPORT_SIZE_V1,
        ..wl_report::default()
    }
}

/// An output window report (zeroed) with its struct_size set.
fn window_out() -> std::mem::MaybeUninit<wl_window_report> {
    let mut out = std::mem::MaybeUninit::<wl_window_report>::zeroed();
    // SAFETY: zeroed is a valid wl_window_report (numbers and char arrays);
    // only the first field is written.
    unsafe { (*out.as_mut_ptr()).struct_size = WL_WINDOW_REPORT_SIZE_V1 };
    out
}

fn report(c: *mut wl_composer) -> wl_report {
    let mut r = report_out();
    // SAFETY: `c` is a live handle; `r` is writable.
    assert_eq!(unsafe { wl_composer_report(c, &mut r) }, WL_OK);
    r
}

fn pending(c: *mut wl_composer) -> usize {
    let mut n = usize::MAX;
    // SAFETY: `c` is a live handle; `n` is writable.
    assert_eq!(unsafe { wl_composer_pending(c, &mut n) }, WL_OK);
    n
}

/// The report as bits, so that NaN-free equality is exact.
fn bits(r: &wl_report) -> (u32, u64, u64, u64, u64) {
    (
        r.stages,
        r.subgraphs,
        r.transitions,
        r.energy.total_j.to_bits(),
        r.latency_s.to_bits(),
    )
}

fn mirror_bits(c: &Composer<WL_STAGE_CAPACITY>) -> (u32, u64, u64, u64, u64) {
    let r = c.report();
    (
        r.stages,
        r.subgraphs,
        r.transitions,
        r.energy.total_j.to_bits(),
        r.latency_s.to_bits(),
    )
}

fn hardware(preset: u8) -> (wl_status, wl_hardware) {
    let mut hw = std::mem::MaybeUninit::<wl_hardware>::zeroed();
    // SAFETY: a writable out-pointer.
    let s = unsafe { wl_hardware_from_preset_id(u32::from(preset % 12), hw.as_mut_ptr()) };
    // SAFETY: zeroed is a valid bit pattern (plain integers).
    (s, unsafe { hw.assume_init() })
}

fn composer_ptr(w: &World, which: Which) -> (*mut wl_composer, Option<usize>, wl_status) {
    match which {
        Which::Live(i) if !w.composers.is_empty() => {
            let i = usize::from(i) % w.composers.len();
            (w.composers[i].ptr, Some(i), WL_OK)
        }
        Which::Dead(i) if !w.dead_composers.is_empty() => (
            w.dead_composers[usize::from(i) % w.dead_composers.len()],
            None,
            WL_ERR_BAD_HANDLE,
        ),
        Which::Garbage | Which::Live(_) | Which::Dead(_) => (
            w.garbage.as_ptr() as *mut wl_composer,
            None,
            WL_ERR_BAD_HANDLE,
        ),
        Which::Null => (std::ptr::null_mut(), None, WL_ERR_NULL_POINTER),
    }
}

fn meter_ptr(w: &World, which: Which) -> (*mut wl_meter, Option<usize>, wl_status) {
    match which {
        Which::Live(i) if !w.meters.is_empty() => {
            let i = usize::from(i) % w.meters.len();
            (w.meters[i].ptr, Some(i), WL_OK)
        }
        Which::Dead(i) if !w.dead_meters.is_empty() => (
            w.dead_meters[usize::from(i) % w.dead_meters.len()],
            None,
            WL_ERR_BAD_HANDLE,
        ),
        Which::Garbage | Which::Live(_) | Which::Dead(_) => {
            (w.garbage.as_ptr() as *mut wl_meter, None, WL_ERR_BAD_HANDLE)
        }
        Which::Null => (std::ptr::null_mut(), None, WL_ERR_NULL_POINTER),
    }
}

fn timeline_ptr(w: &World, which: Which) -> (*mut wl_timeline, Option<usize>, wl_status) {
    match which {
        Which::Live(i) if !w.timelines.is_empty() => {
            let i = usize::from(i) % w.timelines.len();
            (w.timelines[i].ptr, Some(i), WL_OK)
        }
        Which::Dead(i) if !w.dead_timelines.is_empty() => (
            w.dead_timelines[usize::from(i) % w.dead_timelines.len()],
            None,
            WL_ERR_BAD_HANDLE,
        ),
        Which::Garbage | Which::Live(_) | Which::Dead(_) => (
            w.garbage.as_ptr() as *mut wl_timeline,
            None,
            WL_ERR_BAD_HANDLE,
        ),
        Which::Null => (std::ptr::null_mut(), None, WL_ERR_NULL_POINTER),
    }
}

fn timeline_report(t: *mut wl_timeline) -> wl_timeline_report {
    let mut r = wl_timeline_report {
        struct_size: WL_TIMELINE_REPORT_SIZE_V1,
        ..wl_timeline_report::default()
    };
    // SAFETY: `t` is a live handle; `r` is writable.
    assert_eq!(unsafe { wl_timeline_get_report(t, &mut r) }, WL_OK);
    r
}

fn in_flight(t: *mut wl_timeline) -> usize {
    let mut n = usize::MAX;
    // SAFETY: `t` is a live handle; `n` is writable.
    assert_eq!(unsafe { wl_timeline_in_flight(t, &mut n) }, WL_OK);
    n
}

/// A timeline report as bits, so that equality is exact.
fn t_bits(r: &wl_timeline_report) -> (u64, u64, u64, u64, u64, u64) {
    (
        r.kernels,
        r.copies,
        r.transitions,
        r.energy.total_j.to_bits(),
        r.span_s.to_bits(),
        r.idle_energy_j.to_bits(),
    )
}

fn t_mirror_bits(t: &Tl) -> (u64, u64, u64, u64, u64, u64) {
    let r = t.report();
    (
        r.kernels,
        r.copies,
        r.transitions,
        r.total_energy_j.to_bits(),
        r.span_s.to_bits(),
        r.idle.energy_j.to_bits(),
    )
}

/// The C kernel for `k`, and what the library must make of it before the
/// core sees it: the core's interval, or the status of a refusal.
fn c_kernel(k: &Kern, last: u64) -> (wl_kernel, Result<Interval, wl_status>) {
    let start = if k.back {
        last.saturating_sub(u64::from(k.gap_ns))
    } else {
        last.saturating_add(u64::from(k.gap_ns))
    };
    let end = if k.short_end {
        start.saturating_sub(1)
    } else {
        start.saturating_add(u64::from(k.duration_ns))
    };
    let kind = if k.bad_kind { 2 } else { u32::from(k.copy) };
    let units = u32::from(k.units % 40);
    let c = wl_kernel {
        struct_size: k
            .short
            .map_or(WL_KERNEL_SIZE_V1, |s| u32::from(s) % WL_KERNEL_SIZE_V1),
        kind,
        id: u64::from(k.gap_ns),
        start_ns: start,
        end_ns: end,
        stream: 3,
        units,
        has_flops: u32::from(k.flops.is_some()),
        precision: u32::from(k.precision % 10),
        flops: k.flops.map_or(0.0, |f| f.value(1e6)),
        bytes: k.bytes.value(1024.0),
    };
    let work = match k.flops {
        None => Ok(None),
        Some(_) => Precision::ALL
            .get(c.precision as usize)
            .map(|&precision| {
                Some(Work {
                    flops: c.flops,
                    precision,
                })
            })
            .ok_or(WL_ERR_OUT_OF_RANGE),
    };
    let engine = match (kind, units) {
        (0, u) => Ok(Engine::Compute { units: u }),
        (1, 0) => Ok(Engine::Copy),
        (1, _) => Err(WL_ERR_COPY_WITH_WORK),
        _ => Err(WL_ERR_OUT_OF_RANGE),
    };
    let iv = if k.short.is_some() {
        Err(WL_ERR_STRUCT_SIZE)
    } else {
        work.and_then(|work| {
            engine.map(|engine| Interval {
                id: c.id,
                stream: 3,
                start_ns: start,
                end_ns: end,
                engine,
                work,
                bytes: c.bytes,
            })
        })
    };
    (c, iv)
}

/// Asserts the status a handle that is not live must give: exactly
/// `expected` when the handle is the only argument that can be wrong,
/// otherwise some error (the library may check the other arguments first).
fn not_live(status: wl_status, expected: wl_status, only_argument: bool) {
    if only_argument {
        assert_eq!(
            status, expected,
            "a NULL or dead handle was not refused as such"
        );
    } else {
        assert_ne!(status, WL_OK, "a NULL or dead handle was accepted");
    }
}

fn name_of(bytes: &[u8]) -> CString {
    let cut = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    CString::new(&bytes[..cut]).unwrap()
}

fn window_status<T>(r: Result<T, wattledger_core::meter::MeterError>) -> bool {
    r.is_ok()
}

fuzz_target!(|ops: Vec<Op>| {
    let mut w = World {
        garbage: vec![0x5a5a_5a5a_5a5a_5a5a; 8],
        ..World::default()
    };
    for op in ops.iter().take(256) {
        // A freed address the allocator has handed out again for an object
        // of the same type is live again: no library can tell, so stop
        // treating it as dead.
        let live_c: Vec<_> = w.composers.iter().map(|c| c.ptr).collect();
        w.dead_composers.retain(|p| !live_c.contains(p));
        let live_m: Vec<_> = w.meters.iter().map(|m| m.ptr).collect();
        w.dead_meters.retain(|p| !live_m.contains(p));
        let live_t: Vec<_> = w.timelines.iter().map(|t| t.ptr).collect();
        w.dead_timelines.retain(|p| !live_t.contains(p));
        match op {
            Op::NewComposer { preset, policy } => {
                let (hs, hw) = hardware(*preset);
                ok_status(hs);
                if *preset % 12 >= 10 {
                    assert_eq!(hs, WL_ERR_OUT_OF_RANGE);
                    continue;
                }
                assert_eq!(hs, WL_OK);
                let sentinel = 0x10 as *mut wl_composer;
                let mut out = sentinel;
                let p = u32::from(*policy % 4);
                // SAFETY: a valid hardware value and a writable out-pointer.
                let s = unsafe { wl_composer_new(&hw, p, &mut out) };
                ok_status(s);
                let mirror = GatingPolicy::ALL
                    .get(p as usize)
                    .map(|&gp| Composer::new(Preset::ALL[usize::from(*preset % 12)].model(), gp));
                match mirror {
                    Some(Ok(mirror)) => {
                        assert_eq!(s, WL_OK);
                        w.composers.push(LiveComposer {
                            ptr: out,
                            mirror,
                            storage: None,
                            last_stage: 0,
                        });
                    }
                    _ => {
                        assert_ne!(s, WL_OK);
                        assert_eq!(out, sentinel, "out written on error");
                    }
                }
            }
            Op::InitComposer {
                preset,
                policy,
                small,
                misaligned,
            } => {
                let (hs, hw) = hardware(*preset % 10);
                assert_eq!(hs, WL_OK);
                let size = wl_composer_size();
                let words = size.div_ceil(8) + 1;
                let mut storage = vec![0u64; words];
                let (mem, len) = if *misaligned {
                    (
                        (storage.as_mut_ptr() as *mut u8).wrapping_add(4) as *mut c_void,
                        size,
                    )
                } else if *small {
                    (storage.as_mut_ptr() as *mut c_void, size - 1)
                } else {
                    (storage.as_mut_ptr() as *mut c_void, size)
                };
                let sentinel = 0x10 as *mut wl_composer;
                let mut out = sentinel;
                let p = u32::from(*policy % 3);
                // SAFETY: `len` bytes of `storage` are writable from `mem`.
                let s = unsafe { wl_composer_init(mem, len, &hw, p, &mut out) };
                ok_status(s);
                if *misaligned && wl_composer_align() > 4 {
                    assert_eq!(s, WL_ERR_STORAGE_MISALIGNED);
                } else if *small && !*misaligned {
                    assert_eq!(s, WL_ERR_STORAGE_TOO_SMALL);
                }
                let mirror = Composer::new(
                    Preset::ALL[usize::from(*preset % 10)].model(),
                    GatingPolicy::ALL[p as usize],
                );
                if s == WL_OK {
                    w.composers.push(LiveComposer {
                        ptr: out,
                        mirror: mirror.unwrap(),
                        storage: Some(storage),
                        last_stage: 0,
                    });
                } else {
                    assert_eq!(out, sentinel, "out written on error");
                    if !*misaligned && !*small {
                        assert!(mirror.is_err());
                    }
                }
            }
            Op::Push(which, sg) => {
                let (ptr, live, expected) = composer_ptr(&w, *which);
                let last = live.map_or(0, |i| w.composers[i].last_stage);
                let stage = last.saturating_add(u32::from(sg.step % 3));
                let c_sg = wl_subgraph {
                    struct_size: sg.short.map_or(size_of::<wl_subgraph>() as u32, |s| {
                        u32::from(s) % size_of::<wl_subgraph>() as u32
                    }),
                    id: 7,
                    stage,
                    precision: u32::from(sg.precision % 10),
                    flops: sg.flops.value(1e6),
                    input_bytes: sg.bytes.value(1024.0),
                    output_bytes: 1024.0,
                    weight_bytes: 0.0,
                    latency_s: sg.latency.value(1e-7),
                    has_units_allocated: u32::from(sg.units.is_some()),
                    units_allocated: u32::from(sg.units.unwrap_or(0)),
                    has_threads: u32::from(sg.threads.is_some()),
                    reserved: 0,
                    threads: u64::from(sg.threads.unwrap_or(0)),
                };
                let before = live.map(|_| (report(ptr), pending(ptr)));
                // SAFETY: the struct is full size (a short size only claims fewer bytes).
                let s = unsafe { wl_composer_push(ptr, &c_sg) };
                ok_status(s);
                let Some(i) = live else {
                    not_live(s, expected, false);
                    continue;
                };
                let entry = &mut w.composers[i];
                let precision = Precision::ALL
                    .iter()
                    .copied()
                    .find(|p| p.index() == c_sg.precision as usize);
                let expect_ok = if sg.short.is_some() {
                    assert_eq!(s, WL_ERR_STRUCT_SIZE);
                    false
                } else if let Some(precision) = precision {
                    let rust = Subgraph {
                        id: 7,
                        stage,
                        flops: c_sg.flops,
                        precision,
                        input_bytes: c_sg.input_bytes,
                        output_bytes: c_sg.output_bytes,
                        weight_bytes: c_sg.weight_bytes,
                        latency_s: c_sg.latency_s,
                        units_allocated: sg.units.map(u32::from),
                        threads: sg.threads.map(u64::from),
                    };
                    entry.mirror.push(&rust, &mut ()).is_ok()
                } else {
                    false
                };
                assert_eq!(s == WL_OK, expect_ok, "status {s} for {c_sg:?}");
                if s == WL_OK {
                    entry.last_stage = stage;
                } else {
                    let (r, n) = before.unwrap();
                    assert_eq!(
                        bits(&report(ptr)),
                        bits(&r),
                        "refused push changed the totals"
                    );
                    assert_eq!(pending(ptr), n, "refused push changed the open stage");
                }
                assert_eq!(bits(&report(ptr)), mirror_bits(&entry.mirror));
                assert_eq!(pending(ptr), entry.mirror.pending());
            }
            Op::Finish(which) => {
                let (ptr, live, expected) = composer_ptr(&w, *which);
                let mut out = wl_report {
                    stages: 0xdead,
                    ..report_out()
                };
                // SAFETY: a writable out-pointer.
                let s = unsafe { wl_composer_finish(ptr, &mut out) };
                ok_status(s);
                let Some(i) = live else {
                    not_live(s, expected, true);
                    assert_eq!(out.stages, 0xdead, "out written on error");
                    continue;
                };
                let entry = &mut w.composers[i];
                let m = entry.mirror.finish(&mut ());
                assert_eq!(s == WL_OK, m.is_ok());
                if s == WL_OK {
                    assert_eq!(bits(&out), mirror_bits(&entry.mirror));
                } else {
                    assert_eq!(out.stages, 0xdead, "out written on error");
                }
            }
            Op::Pending(which) => {
                let (ptr, live, expected) = composer_ptr(&w, *which);
                let mut n = usize::MAX;
                // SAFETY: a writable out-pointer.
                let s = unsafe { wl_composer_pending(ptr, &mut n) };
                ok_status(s);
                match live {
                    Some(i) => assert_eq!((s, n), (WL_OK, w.composers[i].mirror.pending())),
                    None => {
                        not_live(s, expected, true);
                        assert_eq!(n, usize::MAX);
                    }
                }
            }
            Op::Reset(which) => {
                let (ptr, live, expected) = composer_ptr(&w, *which);
                // SAFETY: any handle value is allowed.
                let s = unsafe { wl_composer_reset(ptr) };
                ok_status(s);
                match live {
                    Some(i) => {
                        assert_eq!(s, WL_OK);
                        let e = &mut w.composers[i];
                        e.mirror.reset();
                        e.last_stage = 0;
                        assert_eq!(bits(&report(ptr)), mirror_bits(&e.mirror));
                    }
                    None => not_live(s, expected, true),
                }
            }
            Op::Free(which) | Op::Release(which) => {
                let free = matches!(op, Op::Free(_));
                let (ptr, live, expected) = composer_ptr(&w, *which);
                // SAFETY: any handle value is allowed.
                let s = unsafe {
                    if free {
                        wl_composer_free(ptr)
                    } else {
                        wl_composer_release(ptr)
                    }
                };
                ok_status(s);
                let Some(i) = live else {
                    not_live(s, expected, true);
                    continue;
                };
                let heap = w.composers[i].storage.is_none();
                if heap == free {
                    assert_eq!(s, WL_OK);
                    let e = w.composers.swap_remove(i);
                    w.dead_composers.push(e.ptr);
                    if let Some(storage) = e.storage {
                        w.graveyard.push(storage);
                    }
                } else {
                    assert_eq!(s, WL_ERR_WRONG_STORAGE);
                    assert_eq!(bits(&report(ptr)), mirror_bits(&w.composers[i].mirror));
                }
            }
            Op::NewMeter {
                max_gap_ms,
                total_units,
            } => {
                let mut cfg = std::mem::MaybeUninit::<wl_meter_config>::zeroed();
                // SAFETY: a writable out-pointer.
                assert_eq!(unsafe { wl_meter_config_init(cfg.as_mut_ptr()) }, WL_OK);
                // SAFETY: initialised above.
                let mut cfg = unsafe { cfg.assume_init() };
                cfg.max_gap_ns = u64::from(*max_gap_ms) * 1_000_000;
                cfg.has_total_units = u32::from(total_units.is_some());
                cfg.total_units = u32::from(total_units.unwrap_or(0));
                let mut out: *mut wl_meter = std::ptr::null_mut();
                // SAFETY: a full-size config without text, a writable out-pointer.
                let s = unsafe { wl_meter_new(&cfg, &mut out) };
                assert_eq!(s, WL_OK);
                let mirror = Meter::new(
                    MeterConfig {
                        max_gap_ns: cfg.max_gap_ns,
                        total_units: total_units.map(u32::from),
                        ..MeterConfig::default()
                    },
                    MigContext::default(),
                );
                w.meters.push(LiveMeter {
                    ptr: out,
                    mirror,
                    t_ns: 0,
                    counter: 0,
                });
            }
            Op::Ingest {
                m,
                step_us,
                back,
                energy,
                power,
                gated,
            } => {
                let (ptr, live, expected) = meter_ptr(&w, *m);
                let (t0, c0) = live.map_or((0, 0), |i| (w.meters[i].t_ns, w.meters[i].counter));
                let step = u64::from(*step_us) * 1000;
                let t = if *back {
                    t0.saturating_sub(step)
                } else {
                    t0.saturating_add(step)
                };
                let e = energy.map(|e| c0.saturating_add(u64::from(e)));
                let sample = Sample {
                    t_ns: t,
                    energy_mj: e,
                    power_mw: *power,
                    gated_units: gated.map(u32::from),
                };
                let c = wl_sample {
                    struct_size: size_of::<wl_sample>() as u32,
                    has_energy: u32::from(e.is_some()),
                    t_ns: t,
                    energy_mj: e.unwrap_or(0),
                    has_power: u32::from(power.is_some()),
                    power_mw: power.unwrap_or(0),
                    has_gated_units: u32::from(gated.is_some()),
                    gated_units: u32::from(gated.unwrap_or(0)),
                };
                // SAFETY: a full-size sample.
                let s = unsafe { wl_meter_ingest(ptr, &c) };
                ok_status(s);
                let Some(i) = live else {
                    not_live(s, expected, false);
                    continue;
                };
                let lm = &mut w.meters[i];
                let ok = lm.mirror.ingest(sample).is_ok();
                assert_eq!(s == WL_OK, ok, "status {s} for {sample:?}");
                if ok {
                    lm.t_ns = t;
                    if let Some(e) = e {
                        lm.counter = e;
                    }
                }
            }
            Op::Begin(m, name) | Op::End(m, name) => {
                let begin = matches!(op, Op::Begin(..));
                let (ptr, live, expected) = meter_ptr(&w, *m);
                let cname = name_of(name);
                let mut out = window_out();
                // SAFETY: a NUL-terminated name and a writable out-pointer.
                let s = unsafe {
                    if begin {
                        wl_meter_begin(ptr, cname.as_ptr())
                    } else {
                        wl_meter_end(ptr, cname.as_ptr(), out.as_mut_ptr())
                    }
                };
                ok_status(s);
                let Some(i) = live else {
                    not_live(s, expected, false);
                    continue;
                };
                let lm = &mut w.meters[i];
                let Ok(text) = cname.to_str() else {
                    assert_eq!(s, WL_ERR_BAD_UTF8);
                    continue;
                };
                if begin {
                    assert_eq!(
                        s == WL_OK,
                        window_status(lm.mirror.begin(WindowRef::Name(text)))
                    );
                } else {
                    let mirror = lm.mirror.end(WindowRef::Name(text));
                    assert_eq!(s == WL_OK, mirror.is_ok());
                    if let Ok(r) = mirror {
                        // SAFETY: written on success.
                        let c = unsafe { out.assume_init() };
                        assert_eq!(c.energy_j.to_bits(), r.energy_j.to_bits());
                        assert_eq!(
                            (c.start_ns, c.end_ns, c.covered_ns),
                            (r.start_ns, r.end_ns, r.covered_ns)
                        );
                        assert!(c.coverage >= 0.0 && c.coverage <= 1.0);
                    }
                }
            }
            Op::BeginId(m, n) | Op::EndId(m, n) => {
                let begin = matches!(op, Op::BeginId(..));
                let (ptr, live, expected) = meter_ptr(&w, *m);
                let n = u32::from(*n % 8);
                let mut out = window_out();
                // SAFETY: a writable out-pointer.
                let s = unsafe {
                    if begin {
                        wl_meter_begin_id(ptr, n)
                    } else {
                        wl_meter_end_id(ptr, n, out.as_mut_ptr())
                    }
                };
                ok_status(s);
                let Some(i) = live else {
                    not_live(s, expected, true);
                    continue;
                };
                let lm = &mut w.meters[i];
                if begin {
                    assert_eq!(s == WL_OK, window_status(lm.mirror.begin(n)));
                } else {
                    let mirror = lm.mirror.end(n);
                    assert_eq!(s == WL_OK, mirror.is_ok());
                    if let Ok(r) = mirror {
                        // SAFETY: written on success.
                        let c = unsafe { out.assume_init() };
                        assert_eq!(c.energy_j.to_bits(), r.energy_j.to_bits());
                    }
                }
            }
            Op::NewTimeline {
                preset,
                policy,
                origin,
            } => {
                let (hs, hw) = hardware(*preset % 10);
                assert_eq!(hs, WL_OK);
                let sentinel = 0x10 as *mut wl_timeline;
                let mut out = sentinel;
                let p = u32::from(*policy % 5);
                let origin = u64::from(*origin);
                // SAFETY: a valid hardware value and a writable out-pointer.
                let s = unsafe { wl_timeline_new(&hw, p, origin, &mut out) };
                ok_status(s);
                let mirror = TimelinePolicy::ALL
                    .get(p as usize)
                    .map(|&tp| Tl::new(Preset::ALL[usize::from(*preset % 10)].model(), tp, origin));
                match mirror {
                    Some(Ok(mirror)) => {
                        assert_eq!(s, WL_OK);
                        w.timelines.push(LiveTimeline {
                            ptr: out,
                            mirror: Box::new(mirror),
                            storage: None,
                            last: origin,
                        });
                    }
                    _ => {
                        assert_ne!(s, WL_OK);
                        assert_eq!(out, sentinel, "out written on error");
                    }
                }
            }
            Op::InitTimeline {
                preset,
                policy,
                small,
                misaligned,
            } => {
                let (hs, hw) = hardware(*preset % 10);
                assert_eq!(hs, WL_OK);
                let size = wl_timeline_size();
                let mut storage = vec![0u64; size.div_ceil(8) + 1];
                let (mem, len) = if *misaligned {
                    (
                        (storage.as_mut_ptr() as *mut u8).wrapping_add(4) as *mut c_void,
                        size,
                    )
                } else if *small {
                    (storage.as_mut_ptr() as *mut c_void, size - 1)
                } else {
                    (storage.as_mut_ptr() as *mut c_void, size)
                };
                let sentinel = 0x10 as *mut wl_timeline;
                let mut out = sentinel;
                let p = u32::from(*policy % 4);
                // SAFETY: `len` bytes of `storage` are writable from `mem`.
                let s = unsafe { wl_timeline_init(mem, len, &hw, p, 0, &mut out) };
                ok_status(s);
                let mirror = Tl::new(
                    Preset::ALL[usize::from(*preset % 10)].model(),
                    TimelinePolicy::ALL[p as usize],
                    0,
                );
                if mirror.is_ok() && *misaligned && wl_timeline_align() > 4 {
                    assert_eq!(s, WL_ERR_STORAGE_MISALIGNED);
                } else if mirror.is_ok() && *small && !*misaligned {
                    assert_eq!(s, WL_ERR_STORAGE_TOO_SMALL);
                }
                if s == WL_OK {
                    w.timelines.push(LiveTimeline {
                        ptr: out,
                        mirror: Box::new(mirror.unwrap()),
                        storage: Some(storage),
                        last: 0,
                    });
                } else {
                    assert_eq!(out, sentinel, "out written on error");
                    if !*misaligned && !*small {
                        assert!(mirror.is_err());
                    }
                }
            }
            Op::TPush(which, k) => {
                let (ptr, live, expected) = timeline_ptr(&w, *which);
                let last = live.map_or(0, |i| w.timelines[i].last);
                let (c, iv) = c_kernel(k, last);
                let before = live.map(|_| (timeline_report(ptr), in_flight(ptr)));
                // SAFETY: the struct is full size (a short size only claims fewer bytes).
                let s = unsafe { wl_timeline_push(ptr, &c) };
                ok_status(s);
                let Some(i) = live else {
                    not_live(s, expected, false);
                    continue;
                };
                let e = &mut w.timelines[i];
                let want = match iv {
                    Err(status) => Err(status),
                    Ok(iv) => e.mirror.push(&iv, &mut ()).map_err(|_| WL_ERR_PANIC),
                };
                match want {
                    Ok(()) => {
                        assert_eq!(s, WL_OK, "{c:?}");
                        e.last = c.start_ns;
                    }
                    Err(status) => {
                        assert_ne!(s, WL_OK, "{c:?}");
                        if status != WL_ERR_PANIC {
                            assert_eq!(s, status, "{c:?}");
                        }
                        let (r, n) = before.unwrap();
                        assert_eq!(
                            t_bits(&timeline_report(ptr)),
                            t_bits(&r),
                            "refused push changed the totals"
                        );
                        assert_eq!(in_flight(ptr), n, "refused push changed what is in flight");
                    }
                }
                assert_eq!(t_bits(&timeline_report(ptr)), t_mirror_bits(&e.mirror));
                assert_eq!(in_flight(ptr), e.mirror.in_flight());
            }
            Op::TAdvance(which, step, back) => {
                let (ptr, live, expected) = timeline_ptr(&w, *which);
                let last = live.map_or(0, |i| w.timelines[i].last);
                let t = if *back {
                    last.saturating_sub(u64::from(*step))
                } else {
                    last.saturating_add(u64::from(*step))
                };
                // SAFETY: any handle value is allowed.
                let s = unsafe { wl_timeline_advance(ptr, t) };
                ok_status(s);
                let Some(i) = live else {
                    not_live(s, expected, true);
                    continue;
                };
                let e = &mut w.timelines[i];
                let ok = e.mirror.advance_to(t, &mut ()).is_ok();
                assert_eq!(s == WL_OK, ok, "status {s} advancing to {t}");
                if ok {
                    e.last = t;
                }
                assert_eq!(t_bits(&timeline_report(ptr)), t_mirror_bits(&e.mirror));
            }
            Op::TFinish(which) => {
                let (ptr, live, expected) = timeline_ptr(&w, *which);
                let mut out = wl_timeline_report {
                    kernels: 0xdead,
                    struct_size: WL_TIMELINE_REPORT_SIZE_V1,
                    ..wl_timeline_report::default()
                };
                // SAFETY: a writable out-pointer.
                let s = unsafe { wl_timeline_finish(ptr, &mut out) };
                ok_status(s);
                let Some(i) = live else {
                    not_live(s, expected, true);
                    assert_eq!(out.kernels, 0xdead, "out written on error");
                    continue;
                };
                let e = &mut w.timelines[i];
                let m = e.mirror.finish(None, &mut ());
                assert_eq!(s == WL_OK, m.is_ok());
                if s == WL_OK {
                    assert_eq!(t_bits(&out), t_mirror_bits(&e.mirror));
                    let us: f64 = out.states.iter().map(|x| x.unit_seconds).sum();
                    let n = f64::from(out.units);
                    assert!((us - n * out.span_s).abs() <= 1e-6 * (n * out.span_s).max(1e-9));
                } else {
                    assert_eq!(s, WL_ERR_FINISHED);
                    assert_eq!(out.kernels, 0xdead, "out written on error");
                }
            }
            Op::TReset(which, origin) => {
                let (ptr, live, expected) = timeline_ptr(&w, *which);
                let origin = u64::from(*origin);
                // SAFETY: any handle value is allowed.
                let s = unsafe { wl_timeline_reset(ptr, origin) };
                ok_status(s);
                match live {
                    Some(i) => {
                        assert_eq!(s, WL_OK);
                        let e = &mut w.timelines[i];
                        e.mirror.reset(origin);
                        e.last = origin;
                        assert_eq!(t_bits(&timeline_report(ptr)), t_mirror_bits(&e.mirror));
                    }
                    None => not_live(s, expected, true),
                }
            }
            Op::TFree(which) | Op::TRelease(which) => {
                let free = matches!(op, Op::TFree(_));
                let (ptr, live, expected) = timeline_ptr(&w, *which);
                // SAFETY: any handle value is allowed.
                let s = unsafe {
                    if free {
                        wl_timeline_free(ptr)
                    } else {
                        wl_timeline_release(ptr)
                    }
                };
                ok_status(s);
                let Some(i) = live else {
                    not_live(s, expected, true);
                    continue;
                };
                let heap = w.timelines[i].storage.is_none();
                if heap == free {
                    assert_eq!(s, WL_OK);
                    let e = w.timelines.swap_remove(i);
                    w.dead_timelines.push(e.ptr);
                    if let Some(storage) = e.storage {
                        w.graveyard.push(storage);
                    }
                } else {
                    assert_eq!(s, WL_ERR_WRONG_STORAGE);
                }
            }
            Op::FreeMeter(m) => {
                let (ptr, live, expected) = meter_ptr(&w, *m);
                // SAFETY: any handle value is allowed.
                let s = unsafe { wl_meter_free(ptr) };
                ok_status(s);
                match live {
                    Some(i) => {
                        assert_eq!(s, WL_OK);
                        let lm = w.meters.swap_remove(i);
                        w.dead_meters.push(lm.ptr);
                    }
                    None => not_live(s, expected, true),
                }
            }
        }
    }
    // Clean up, so that LeakSanitizer sees nothing.
    for e in w.composers.drain(..) {
        // SAFETY: live handles, ended once.
        let s = unsafe {
            if e.storage.is_none() {
                wl_composer_free(e.ptr)
            } else {
                wl_composer_release(e.ptr)
            }
        };
        assert_eq!(s, WL_OK);
    }
    for t in w.timelines.drain(..) {
        // SAFETY: live handles, ended once.
        let s = unsafe {
            if t.storage.is_none() {
                wl_timeline_free(t.ptr)
            } else {
                wl_timeline_release(t.ptr)
            }
        };
        assert_eq!(s, WL_OK);
    }
    for m in w.meters.drain(..) {
        // SAFETY: live handles, freed once.
        assert_eq!(unsafe { wl_meter_free(m.ptr) }, WL_OK);
    }
});
