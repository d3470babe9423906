//! The timeline through the C ABI: the hand-worked three-kernel timeline of
//! `core/tests/timeline_rules.rs`, refusals that change nothing, handles.

use super::*;
use crate::compose::{
    WL_STATE_ACTIVE, WL_STATE_GATED, WL_STATE_IDLE_ALLOCATED, WL_STATE_IDLE_UNALLOCATED,
};
use crate::hardware::{WL_PRECISION_FP32, WL_PRECISION_INT4, wl_hardware_new, wl_hardware_spec};

const S: u64 = 1_000_000_000;

/// The core test's toy: 8 units in domains of 2; static 8 W (1 W a unit),
/// uncore 4 W, active 16 W (2 W a unit); FP32 1 nJ per op, 1 nJ per byte;
/// 1 J per transition, 0.5 s to wake, so t_be = 2·1/2 + 0.5 = 1.5 s.
fn toy() -> wl_hardware {
    let mut s = <wl_hardware_spec as Versioned>::defaults();
    s.struct_size = size_of::<wl_hardware_spec>() as u32;
    s.units = 8;
    s.gating_domain = 2;
    s.threads_per_unit = 2048;
    for (d, b) in s.name.iter_mut().zip(b"toy") {
        *d = *b as c_char;
    }
    for (d, b) in s.unit_name.iter_mut().zip(b"SM") {
        *d = *b as c_char;
    }
    s.supported_precisions = 1 << WL_PRECISION_FP32;
    s.can_gate = 1;
    s.idle_power_w = 8.0;
    s.uncore_power_w = 4.0;
    s.active_power_w = 16.0;
    s.energy_per_op_j[WL_PRECISION_FP32 as usize] = 1e-9;
    s.energy_per_byte_j = 1e-9;
    s.transition_energy_j = 1.0;
    s.wake_latency_s = 0.5;
    s.nominal_voltage_v = 1.0;
    s.nominal_frequency_mhz = 1000.0;
    s.voltage_v = 1.0;
    s.frequency_mhz = 1000.0;
    s.leakage_exponent = 1.0;
    let mut hw = core::mem::MaybeUninit::<wl_hardware>::zeroed();
    // SAFETY: a full spec and a writable out-pointer.
    assert_eq!(unsafe { wl_hardware_new(&s, hw.as_mut_ptr()) }, WL_OK);
    // SAFETY: written on success.
    unsafe { hw.assume_init() }
}

fn kernel(id: u64, start: u64, end: u64, units: u32) -> wl_kernel {
    let mut k = core::mem::MaybeUninit::<wl_kernel>::uninit();
    // SAFETY: a writable out-pointer.
    let status = unsafe { wl_kernel_init(k.as_mut_ptr(), id, start, end, units) };
    assert_eq!(status, WL_OK);
    // SAFETY: written on success.
    unsafe { k.assume_init() }
}

/// A [0, 2 s) on 4 units without FLOPs; B [1, 3 s) on 2 units with 10⁹ FP32
/// FLOPs and 10⁹ bytes (1 J each); nothing [3, 5 s); C [5, 6 s) on all 8.
fn three_kernels() -> [wl_kernel; 3] {
    let mut b = kernel(2, S, 3 * S, 2);
    b.has_flops = 1;
    b.flops = 1e9;
    b.bytes = 1e9;
    b.stream = 7;
    [kernel(1, 0, 2 * S, 4), b, kernel(3, 5 * S, 6 * S, 8)]
}

fn new(policy: wl_timeline_policy) -> *mut wl_timeline {
    let hw = toy();
    let mut t = core::ptr::null_mut();
    // SAFETY: a filled hardware value and a writable out-pointer.
    assert_eq!(unsafe { wl_timeline_new(&hw, policy, 0, &mut t) }, WL_OK);
    t
}

fn free(t: *mut wl_timeline) {
    // SAFETY: a live heap handle, freed once.
    assert_eq!(unsafe { wl_timeline_free(t) }, WL_OK);
}

fn report_of(t: *mut wl_timeline) -> wl_timeline_report {
    let mut r = wl_timeline_report {
        struct_size: WL_TIMELINE_REPORT_SIZE_V1,
        ..Default::default()
    };
    // SAFETY: a writable report with struct_size set.
    assert_eq!(unsafe { wl_timeline_get_report(t, &mut r) }, WL_OK);
    r
}

/// The core timeline behind a live handle, copied (the whole state: the
/// strongest "nothing changed" check there is).
fn state(t: *mut wl_timeline) -> CoreTimeline {
    let (tl, _) = timeline(t).unwrap();
    tl.clone()
}

unsafe extern "C" fn collect(user: *mut c_void, r: *const wl_kernel_record) {
    // SAFETY: `user` is the Vec given with the callback; the record lives
    // for the call.
    unsafe { (*user.cast::<Vec<wl_kernel_record>>()).push(*r) };
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * b.abs().max(1.0)
}

/// Runs the three kernels under `policy`, records by id.
fn run(policy: wl_timeline_policy) -> (wl_timeline_report, Vec<wl_kernel_record>) {
    let t = new(policy);
    let mut records: Vec<wl_kernel_record> = Vec::new();
    // SAFETY: `collect` takes this Vec, which outlives the timeline.
    let s = unsafe { wl_timeline_set_callback(t, Some(collect), (&raw mut records).cast()) };
    assert_eq!(s, WL_OK);
    for k in three_kernels() {
        // SAFETY: a full-size kernel.
        assert_eq!(unsafe { wl_timeline_push(t, &k) }, WL_OK);
    }
    let mut r = wl_timeline_report {
        struct_size: WL_TIMELINE_REPORT_SIZE_V1,
        ..Default::default()
    };
    // SAFETY: a writable report.
    assert_eq!(unsafe { wl_timeline_finish(t, &mut r) }, WL_OK);
    free(t);
    records.sort_by_key(|r| r.id);
    (r, records)
}

#[test]
fn off_gives_the_core_tests_hand_worked_figures() {
    let (r, k) = run(WL_TIMELINE_POLICY_OFF);
    // As in core/tests/timeline_rules.rs: A = 8 own static + 16 active +
    // 12 shared = 36; B = 4 + 1 + 1 + 12 = 18; idle [3,5) uncore 8 + static
    // 16 = 24; C = 8 + 16 + 4 = 28; total 106.
    assert_eq!(k.len(), 3);
    assert!(close(k[0].total_energy_j, 36.0));
    assert!(close(k[0].active_energy_j, 16.0));
    assert!(close(k[0].own_static_energy_j, 8.0));
    assert!(close(k[1].total_energy_j, 18.0));
    assert!(close(k[1].compute_energy_j, 1.0));
    assert!(close(k[1].memory_energy_j, 1.0));
    assert_eq!((k[1].stream, k[1].start_ns, k[1].end_ns), (7, S, 3 * S));
    assert!(close(k[2].total_energy_j, 28.0));
    assert!(
        k.iter()
            .all(|k| k.kind == WL_KERNEL_KIND_KERNEL && k.flags == 0)
    );
    assert!(close(r.idle_s, 2.0));
    assert!(close(r.idle_energy_j, 24.0));
    // compute_j holds FLOP energy 1 plus the active energy 8 + 8 + 16.
    assert!(close(r.active_energy_j, 32.0));
    assert!(close(r.energy.compute_j, 33.0));
    assert!(close(r.energy.memory_j, 1.0));
    assert!(close(r.energy.static_j, 48.0));
    assert!(close(r.energy.uncore_j, 24.0));
    assert!(close(r.energy.total_j, 106.0));
    assert_eq!(r.energy.savings_j, 0.0);
    // Active unit-seconds 4 + 6 + 2 + 0 + 8 = 20, the rest of 8·6 idle.
    assert!(close(r.states[WL_STATE_ACTIVE as usize].unit_seconds, 20.0));
    assert!(close(
        r.states[WL_STATE_IDLE_UNALLOCATED as usize].unit_seconds,
        28.0
    ));
    assert_eq!(r.states[WL_STATE_IDLE_ALLOCATED as usize].unit_seconds, 0.0);
    assert!(close(r.span_s, 6.0));
    assert!(close(r.busy_s, 4.0));
    assert_eq!((r.kernels, r.copies, r.transitions), (3, 0, 0));
    assert_eq!((r.units, r.policy, r.peak_units_allocated), (8, 0, 8));
    assert_eq!(r.struct_size, WL_TIMELINE_REPORT_SIZE_V1);
    let kernels: f64 = k.iter().map(|k| k.total_energy_j).sum();
    assert!(close(kernels + r.idle_energy_j, r.energy.total_j));
}

#[test]
fn always_and_oracle_give_the_core_tests_figures() {
    // Always: A 32⅔, B 12⅓, idle 8, C 40; 10 transitions; total 93.
    let (r, k) = run(WL_TIMELINE_POLICY_ALWAYS);
    assert!(close(k[0].total_energy_j, 32.0 + 2.0 / 3.0));
    assert!(close(k[1].total_energy_j, 12.0 + 1.0 / 3.0));
    assert!(close(k[2].total_energy_j, 40.0));
    assert!(close(r.idle_energy_j, 8.0));
    assert_eq!((r.transitions, r.idle_periods), (10, 5));
    assert!(close(r.energy.transition_j, 10.0));
    assert!(close(r.energy.total_j, 93.0));
    // Gated 23 unit-seconds at 1 W a unit.
    assert!(close(r.states[WL_STATE_GATED as usize].unit_seconds, 23.0));
    assert!(close(r.energy.savings_j, 23.0));
    let both = WL_TIMELINE_FLAG_GATED_DOMAINS | WL_TIMELINE_FLAG_WOKE_DOMAINS;
    assert_eq!(r.flags & both, both);
    assert_eq!(r.flags & WL_TIMELINE_FLAG_WAKE_LATE, 0);
    // Oracle: A 32, B 12, idle 8, C 40; total 92.
    let (r, k) = run(WL_TIMELINE_POLICY_ORACLE);
    assert!(close(k[0].total_energy_j, 32.0));
    assert!(close(k[1].total_energy_j, 12.0));
    assert!(close(k[2].total_energy_j, 40.0));
    assert!(close(r.energy.total_j, 92.0));
    assert_eq!(r.policy, WL_TIMELINE_POLICY_ORACLE);
}

#[test]
fn advance_reads_power_states_live_and_changes_no_charge() {
    let t = new(WL_TIMELINE_POLICY_OFF);
    let ks = three_kernels();
    for k in &ks[..2] {
        // SAFETY: full-size kernels.
        assert_eq!(unsafe { wl_timeline_push(t, k) }, WL_OK);
    }
    // At 2.5 s: A ended at 2 s; B runs. Span 2.5 s; active unit-seconds
    // 4·1 + 6·1 + 2·0.5 = 11.
    // SAFETY: a live handle.
    assert_eq!(unsafe { wl_timeline_advance(t, 2 * S + S / 2) }, WL_OK);
    let r = report_of(t);
    assert!(close(r.span_s, 2.5));
    assert!(close(r.states[WL_STATE_ACTIVE as usize].unit_seconds, 11.0));
    let mut n = 0usize;
    // SAFETY: a writable out-pointer.
    assert_eq!(unsafe { wl_timeline_in_flight(t, &mut n) }, WL_OK);
    assert_eq!((n, r.kernels), (1, 1));
    // Nothing may start before 2.5 s now.
    let before = state(t);
    let early = kernel(9, 2 * S, 3 * S, 1);
    // SAFETY: a full-size kernel.
    let status = unsafe { wl_timeline_push(t, &early) };
    assert_eq!(status, WL_ERR_TIME_WENT_BACK);
    // SAFETY: a live handle.
    assert_eq!(unsafe { wl_timeline_advance(t, S) }, WL_ERR_TIME_WENT_BACK);
    assert!(state(t) == before);
    // SAFETY: a full-size kernel.
    assert_eq!(unsafe { wl_timeline_push(t, &ks[2]) }, WL_OK);
    let mut r = wl_timeline_report {
        struct_size: WL_TIMELINE_REPORT_SIZE_V1,
        ..Default::default()
    };
    // SAFETY: a writable report.
    assert_eq!(unsafe { wl_timeline_finish(t, &mut r) }, WL_OK);
    assert!(close(r.energy.total_j, 106.0), "advancing changed a charge");
    let mut be = 0u64;
    // SAFETY: a writable out-pointer.
    assert_eq!(unsafe { wl_timeline_break_even_ns(t, &mut be) }, WL_OK);
    assert_eq!(be, 3 * S / 2);
    free(t);
}

#[test]
fn every_refusal_leaves_the_timeline_as_it_was() {
    let t = new(WL_TIMELINE_POLICY_TIMEOUT);
    let first = kernel(1, 10, 20, 4);
    // SAFETY: a full-size kernel.
    assert_eq!(unsafe { wl_timeline_push(t, &first) }, WL_OK);
    let good = kernel(2, 15, 30, 2);
    let with = |f: &dyn Fn(&mut wl_kernel)| {
        let mut k = good;
        f(&mut k);
        k
    };
    let cases: [(wl_kernel, wl_status); 13] = [
        (with(&|k| k.start_ns = 9), WL_ERR_TIME_WENT_BACK),
        (with(&|k| k.end_ns = 14), WL_ERR_END_BEFORE_START),
        (with(&|k| k.units = 0), WL_ERR_ZERO_ALLOCATION),
        (with(&|k| k.bytes = f64::NAN), WL_ERR_NOT_A_NUMBER),
        (with(&|k| k.bytes = f64::INFINITY), WL_ERR_INFINITE),
        (with(&|k| k.bytes = -1.0), WL_ERR_NEGATIVE),
        (
            with(&|k| {
                k.has_flops = 1;
                k.flops = -1.0;
            }),
            WL_ERR_NEGATIVE,
        ),
        (
            with(&|k| {
                k.has_flops = 1;
                k.precision = WL_PRECISION_INT4;
            }),
            WL_ERR_UNSUPPORTED_PRECISION,
        ),
        (
            with(&|k| {
                k.has_flops = 1;
                k.precision = 99;
            }),
            WL_ERR_OUT_OF_RANGE,
        ),
        (with(&|k| k.kind = 2), WL_ERR_OUT_OF_RANGE),
        (
            with(&|k| k.kind = WL_KERNEL_KIND_COPY),
            WL_ERR_COPY_WITH_WORK,
        ),
        (
            with(&|k| {
                k.kind = WL_KERNEL_KIND_COPY;
                k.units = 0;
                k.has_flops = 1;
            }),
            WL_ERR_COPY_WITH_WORK,
        ),
        (
            with(&|k| k.struct_size = WL_KERNEL_SIZE_V1 - 8),
            WL_ERR_STRUCT_SIZE,
        ),
    ];
    let before = state(t);
    let report_before = report_of(t);
    for (k, want) in cases {
        // SAFETY: a full-size kernel (a short struct_size claims less).
        assert_eq!(unsafe { wl_timeline_push(t, &k) }, want, "{k:?}");
        assert!(state(t) == before, "refused {k:?} changed the timeline");
    }
    // SAFETY: NULL kernel.
    let status = unsafe { wl_timeline_push(t, core::ptr::null()) };
    assert_eq!(status, WL_ERR_NULL_POINTER);
    // Outputs with a struct_size too small are refused, untouched.
    let mut small = wl_timeline_report {
        struct_size: WL_TIMELINE_REPORT_SIZE_V1 - 8,
        kernels: 77,
        ..Default::default()
    };
    // SAFETY: refused before any write.
    let status = unsafe { wl_timeline_get_report(t, &mut small) };
    assert_eq!(status, WL_ERR_STRUCT_SIZE);
    // SAFETY: refused before any work.
    let status = unsafe { wl_timeline_finish(t, &mut small) };
    assert_eq!(status, WL_ERR_STRUCT_SIZE);
    assert_eq!(small.kernels, 77);
    assert!(state(t) == before, "a refused finish changed the timeline");
    assert_eq!(report_of(t), report_before);
    // A copy is fine (it ends the first kernel, whose record is discarded).
    let mut copy = kernel(3, 20, 25, 0);
    copy.kind = WL_KERNEL_KIND_COPY;
    copy.bytes = 1e6;
    // SAFETY: a full-size kernel.
    assert_eq!(unsafe { wl_timeline_push(t, &copy) }, WL_OK);
    // Finished: everything but report and reset is refused.
    let mut r = wl_timeline_report {
        struct_size: WL_TIMELINE_REPORT_SIZE_V1,
        ..Default::default()
    };
    // SAFETY: a writable report.
    assert_eq!(unsafe { wl_timeline_finish(t, &mut r) }, WL_OK);
    assert_eq!((r.kernels, r.copies), (1, 1));
    let done = state(t);
    // SAFETY: a writable report; full-size kernels.
    unsafe {
        assert_eq!(wl_timeline_finish(t, &mut r), WL_ERR_FINISHED);
        assert_eq!(wl_timeline_push(t, &kernel(4, 40, 50, 1)), WL_ERR_FINISHED);
        assert_eq!(wl_timeline_advance(t, 60), WL_ERR_FINISHED);
    }
    assert!(state(t) == done);
    // SAFETY: a live handle.
    assert_eq!(unsafe { wl_timeline_reset(t, 100) }, WL_OK);
    assert_eq!(report_of(t).kernels, 0);
    // SAFETY: a full-size kernel; the new origin is 100.
    unsafe {
        assert_eq!(
            wl_timeline_push(t, &kernel(5, 99, 120, 1)),
            WL_ERR_TIME_WENT_BACK
        );
        assert_eq!(wl_timeline_push(t, &kernel(5, 100, 120, 1)), WL_OK);
    }
    free(t);
}

#[test]
fn more_in_flight_than_the_capacity_is_refused() {
    let t = new(WL_TIMELINE_POLICY_OFF);
    for i in 0..WL_TIMELINE_CAPACITY as u64 {
        // SAFETY: a full-size kernel.
        let status = unsafe { wl_timeline_push(t, &kernel(i, i, 1000, 1)) };
        assert_eq!(status, WL_OK);
    }
    let before = state(t);
    let one_more = kernel(999, 500, 1000, 1);
    // SAFETY: a full-size kernel.
    let s = unsafe { wl_timeline_push(t, &one_more) };
    assert_eq!(s, WL_ERR_TOO_MANY_IN_FLIGHT);
    assert!(state(t) == before);
    // Once they end, there is room.
    let later = kernel(1000, 1000, 1001, 1);
    // SAFETY: a full-size kernel.
    assert_eq!(unsafe { wl_timeline_push(t, &later) }, WL_OK);
    free(t);
}

#[test]
fn setup_errors_storage_and_handles() {
    let hw = toy();
    let mut out = 0x10 as *mut wl_timeline;
    // SAFETY: every pointer is NULL, valid, or refused before use.
    unsafe {
        assert_eq!(wl_timeline_new(&hw, 4, 0, &mut out), WL_ERR_OUT_OF_RANGE);
        assert_eq!(
            wl_timeline_new(core::ptr::null(), 0, 0, &mut out),
            WL_ERR_NULL_POINTER
        );
        let junk = wl_hardware {
            tag: 1,
            opaque: [0; crate::hardware::WL_HARDWARE_WORDS],
        };
        assert_eq!(wl_timeline_new(&junk, 0, 0, &mut out), WL_ERR_BAD_HANDLE);
        assert_eq!(
            wl_timeline_new(&hw, 0, 0, core::ptr::null_mut()),
            WL_ERR_NULL_POINTER
        );
    }
    assert_eq!(out, 0x10 as *mut wl_timeline, "out written on error");

    // Caller storage: too small, misaligned, then right.
    let words = wl_timeline_size().div_ceil(8) + 1;
    let mut storage = vec![0u64; words];
    let mem = storage.as_mut_ptr().cast::<c_void>();
    assert!(wl_timeline_align() <= 8);
    // SAFETY: `words · 8` writable bytes at `mem`.
    unsafe {
        let n = wl_timeline_size();
        assert_eq!(
            wl_timeline_init(mem, n - 1, &hw, 0, 0, &mut out),
            WL_ERR_STORAGE_TOO_SMALL
        );
        if wl_timeline_align() > 1 {
            let odd = mem.cast::<u8>().add(1).cast();
            assert_eq!(
                wl_timeline_init(odd, n, &hw, 0, 0, &mut out),
                WL_ERR_STORAGE_MISALIGNED
            );
        }
        assert!(storage.iter().all(|&w| w == 0), "storage touched on error");
        assert_eq!(
            wl_timeline_init(mem, n, &hw, WL_TIMELINE_POLICY_ALWAYS, 0, &mut out),
            WL_OK
        );
        // Freed the wrong way, then released; the handle is dead after.
        assert_eq!(wl_timeline_free(out), WL_ERR_WRONG_STORAGE);
        assert_eq!(report_of(out).policy, WL_TIMELINE_POLICY_ALWAYS);
        assert_eq!(wl_timeline_release(out), WL_OK);
        assert_eq!(wl_timeline_release(out), WL_ERR_BAD_HANDLE);
        assert_eq!(wl_timeline_reset(out, 0), WL_ERR_BAD_HANDLE);
    }
    // Handles of other kinds, NULL, garbage.
    let t = new(WL_TIMELINE_POLICY_OFF);
    let mut c: *mut crate::compose::wl_composer = core::ptr::null_mut();
    // SAFETY: every handle is checked before use.
    unsafe {
        assert_eq!(crate::compose::wl_composer_new(&hw, 0, &mut c), WL_OK);
        assert_eq!(wl_timeline_reset(c.cast(), 0), WL_ERR_BAD_HANDLE);
        assert_eq!(
            crate::compose::wl_composer_reset(t.cast()),
            WL_ERR_BAD_HANDLE
        );
        assert_eq!(crate::compose::wl_composer_free(c), WL_OK);
        assert_eq!(
            wl_timeline_advance(core::ptr::null_mut(), 0),
            WL_ERR_NULL_POINTER
        );
        let garbage = 0xdead_beef_usize as *mut wl_timeline;
        assert_eq!(wl_timeline_advance(garbage, 0), WL_ERR_BAD_HANDLE);
    }
    free(t);
    // SAFETY: a freed handle is refused without being read.
    assert_eq!(unsafe { wl_timeline_free(t) }, WL_ERR_BAD_HANDLE);
}

#[test]
fn a_callback_that_calls_back_in_is_told_busy() {
    unsafe extern "C" fn reenter(user: *mut c_void, _: *const wl_kernel_record) {
        let cell = user.cast::<(*mut wl_timeline, wl_status)>();
        // SAFETY: `user` is the pair below, alive for the push.
        unsafe { (*cell).1 = wl_timeline_advance((*cell).0, 0) };
    }
    let t = new(WL_TIMELINE_POLICY_OFF);
    let mut pair = (t, WL_OK);
    // SAFETY: the pair outlives every call that may run the callback.
    unsafe {
        assert_eq!(
            wl_timeline_set_callback(t, Some(reenter), (&raw mut pair).cast()),
            WL_OK
        );
        assert_eq!(wl_timeline_push(t, &kernel(1, 0, 10, 1)), WL_OK);
        assert_eq!(wl_timeline_push(t, &kernel(2, 20, 30, 1)), WL_OK);
    }
    assert_eq!(pair.1, WL_ERR_BUSY);
    free(t);
}

#[test]
fn policy_names_match_the_core() {
    for p in TimelinePolicy::ALL {
        // SAFETY: static C strings.
        let name = unsafe { core::ffi::CStr::from_ptr(wl_timeline_policy_name(p as u32)) };
        assert_eq!(name.to_str(), Ok(p.name()));
        let mut got = 99;
        // SAFETY: a NUL-terminated name and a writable out-pointer.
        let status = unsafe { wl_timeline_policy_from_name(name.as_ptr(), &mut got) };
        assert_eq!(status, WL_OK);
        assert_eq!(got, p as u32);
    }
    assert!(wl_timeline_policy_name(4).is_null());
    let mut got = 99;
    // SAFETY: as above.
    let s = unsafe { wl_timeline_policy_from_name(c"break-even".as_ptr(), &mut got) };
    assert_eq!((s, got), (WL_ERR_UNKNOWN_NAME, 99));
}
