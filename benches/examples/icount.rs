//! One workload of the benchmarks, run once, for instruction counting:
//! `benches/run.sh` runs it under callgrind, collecting only inside
//! [`wl_icount_measure`], and divides the instructions by the elements.
//! Unlike wall time, the count does not move with the machine's load.
//!
//! Usage: `icount <workload> <elements>`, workloads as listed by `icount list`.

use std::hint::black_box;

use wattledger_benches::{
    SampleKind, c_sample, compose_stream, h100, meter_config, samples, timeline_stream,
};
use wattledger_core::compose::{Composer, FnSink, GatingPolicy, Record};
use wattledger_core::meter::{Meter, MigContext, Sample};
use wattledger_core::timeline::{KernelRecord, Timeline, TimelinePolicy};

/// The measured region: callgrind's `--toggle-collect` names this symbol,
/// so setup and input generation are not counted.
#[unsafe(no_mangle)]
#[inline(never)]
pub fn wl_icount_measure(body: &mut dyn FnMut()) {
    body();
}

const WORKLOADS: &[&str] = &[
    "compose-w1-off",
    "compose-w1-always",
    "compose-w1-break-even",
    "compose-w1-oracle",
    "compose-w8-off",
    "compose-w8-always",
    "compose-w8-break-even",
    "compose-w8-oracle",
    "compose-w64-off",
    "compose-w64-always",
    "compose-w64-break-even",
    "compose-w64-oracle",
    "compose-all-w1-off",
    "meter-counter",
    "meter-power",
    "meter-mixed",
    "meter-gated",
    "ffi-ingest",
    "timeline-s1-off",
    "timeline-s1-oracle",
    "timeline-s4-off",
    "timeline-s4-oracle",
    "timeline-s16-off",
    "timeline-s16-oracle",
    "ffi-query",
    "rust-query",
];

fn compose(width: usize, policy: GatingPolicy, n: usize, slice: bool) {
    let stream = compose_stream(n, width);
    let mut c: Composer = Composer::new(h100(), policy).expect("H100 can gate");
    let mut charged = 0.0;
    let mut sink = FnSink(|r: Record<'_>| {
        if let Record::Subgraph(s) = r {
            charged += s.total_energy_j;
        }
    });
    wl_icount_measure(&mut || {
        if slice {
            c.push_all(black_box(&stream), &mut sink).expect("valid");
        } else {
            for sg in black_box(&stream) {
                c.push(sg, &mut sink).expect("valid");
            }
        }
        black_box(c.finish(&mut sink).expect("valid"));
    });
    black_box(charged);
}

/// `wl_meter_ingest` on a heap meter, as the `ffi_ingest` criterion group.
fn ffi_ingest(input: &[Sample]) {
    use wattledger::{
        WL_OK, wl_meter, wl_meter_config, wl_meter_config_init, wl_meter_free, wl_meter_new,
        wl_sample,
    };
    let c_input: Vec<wl_sample> = input.iter().map(c_sample).collect();
    let mut config = std::mem::MaybeUninit::<wl_meter_config>::uninit();
    let mut m: *mut wl_meter = std::ptr::null_mut();
    // SAFETY: writable out-pointers; `config` is read only once initialised.
    unsafe {
        assert_eq!(wl_meter_config_init(config.as_mut_ptr()), WL_OK);
        assert_eq!(wl_meter_new(config.as_ptr(), &mut m), WL_OK);
    }
    wl_icount_measure(&mut || {
        for s in &c_input {
            // SAFETY: a live handle and a full-size sample struct.
            assert_eq!(
                unsafe { wattledger::wl_meter_ingest(m, black_box(s)) },
                WL_OK
            );
        }
    });
    // SAFETY: a live heap handle, freed once.
    assert_eq!(unsafe { wl_meter_free(m) }, WL_OK);
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let workload = args.get(1).map_or("list", String::as_str);
    let n: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(10_000);
    if let Some(rest) = workload.strip_prefix("compose-") {
        let (slice, rest) = match rest.strip_prefix("all-") {
            Some(r) => (true, r),
            None => (false, rest),
        };
        let (w, policy) = rest.split_once('-').expect("compose-w<W>-<policy>");
        let width: usize = w.trim_start_matches('w').parse().expect("width");
        let policy = GatingPolicy::from_name(policy).expect("policy");
        compose(width, policy, n, slice);
        return;
    }
    match workload {
        "meter-counter" | "meter-power" | "meter-mixed" | "meter-gated" => {
            let kind = if workload == "meter-power" || workload == "meter-gated" {
                SampleKind::PowerOnly
            } else {
                SampleKind::CounterAndPower
            };
            let mut input = samples(n, kind);
            let mut config = meter_config();
            for (i, s) in input.iter_mut().enumerate() {
                match workload {
                    // Every other sample without its counter reading: no two
                    // consecutive samples alike, the meter's general path.
                    "meter-mixed" if i % 2 == 1 => s.energy_mj = None,
                    // A Jetson with its TPC mask: gated units counted.
                    "meter-gated" => s.gated_units = Some((i % 3) as u32),
                    _ => {}
                }
            }
            if workload == "meter-gated" {
                config.total_units = Some(4);
            }
            let mut m: Meter = Meter::new(config, MigContext::default());
            wl_icount_measure(&mut || {
                m.begin("job").expect("room");
                for s in black_box(&input) {
                    m.ingest(*s).expect("in order");
                }
                black_box(m.end("job").expect("open"));
            });
        }
        "timeline-s1-off"
        | "timeline-s1-oracle"
        | "timeline-s4-off"
        | "timeline-s4-oracle"
        | "timeline-s16-off"
        | "timeline-s16-oracle" => {
            let streams = if workload.contains("s16") {
                16
            } else if workload.contains("s4") {
                4
            } else {
                1
            };
            let policy = if workload.ends_with("oracle") {
                TimelinePolicy::Oracle
            } else {
                TimelinePolicy::Off
            };
            let intervals = timeline_stream(n, streams);
            let mut t: Timeline = Timeline::new(h100(), policy, 0).expect("H100 can gate");
            let mut charged = 0.0;
            let mut sink = FnSink(|r: &KernelRecord| charged += r.total_energy_j);
            wl_icount_measure(&mut || {
                for iv in black_box(&intervals) {
                    t.push(iv, &mut sink).expect("valid");
                }
                black_box(t.finish(None, &mut sink).expect("valid"));
            });
            black_box(charged);
        }
        "ffi-ingest" => ffi_ingest(&samples(n, SampleKind::CounterAndPower)),
        "ffi-query" | "rust-query" => {
            use wattledger::{
                WL_OK, WL_POLICY_OFF, WL_PRESET_H100_SXM5, wl_composer, wl_composer_free,
                wl_composer_new, wl_composer_pending, wl_hardware, wl_hardware_from_preset_id,
            };
            let mut hw = std::mem::MaybeUninit::<wl_hardware>::uninit();
            let mut handle: *mut wl_composer = std::ptr::null_mut();
            // SAFETY: both out-pointers are valid for writes; `hw` is read
            // only after the call that fills it returned WL_OK.
            unsafe {
                assert_eq!(
                    wl_hardware_from_preset_id(WL_PRESET_H100_SXM5, hw.as_mut_ptr()),
                    WL_OK
                );
                assert_eq!(
                    wl_composer_new(hw.as_ptr(), WL_POLICY_OFF, &mut handle),
                    WL_OK
                );
            }
            let rust: Composer = Composer::new(h100(), GatingPolicy::Off).expect("valid");
            let c_abi = workload == "ffi-query";
            let mut sum = 0usize;
            wl_icount_measure(&mut || {
                for _ in 0..n {
                    if c_abi {
                        let mut out = 0usize;
                        // SAFETY: a live handle and a valid out-pointer.
                        let st = unsafe { wl_composer_pending(black_box(handle), &mut out) };
                        sum += out + st as usize;
                    } else {
                        sum += black_box(&rust).pending();
                    }
                }
            });
            black_box(sum);
            // SAFETY: the handle is live and freed once.
            assert_eq!(unsafe { wl_composer_free(handle) }, WL_OK);
        }
        _ => {
            for w in WORKLOADS {
                println!("{w}");
            }
        }
    }
}
