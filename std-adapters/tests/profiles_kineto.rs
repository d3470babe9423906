//! The Kineto (PyTorch profiler) trace reader: real traces checked against
//! figures worked out by hand, synthetic edge cases, and every bad-input
//! error.

use std::io::Write;
use std::mem::size_of;

use flate2::Compression;
use flate2::write::GzEncoder;
use serde_json::{Value, json};
use wattledger_std::profiles::kineto::{read_kineto, read_kineto_file};
use wattledger_std::profiles::{
    KernelRecord, Location, Profile, ProfileError, RecordKind, RecordProblem, TraceFormat,
    read_profile,
};

fn fixture(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/traces")
        .join(name)
}

fn read_json(trace: &Value) -> Result<Profile, ProfileError> {
    read_kineto(serde_json::to_vec(trace).unwrap().as_slice())
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = GzEncoder::new(Vec::new(), Compression::default());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}

/// A kernel event as Kineto writes it.
fn kernel(name: &str, ts: Value, dur: Value, device: u32, stream: u32) -> Value {
    json!({
        "ph": "X", "cat": "kernel", "name": name, "pid": device, "tid": stream,
        "ts": ts, "dur": dur,
        "args": {
            "device": device, "stream": stream, "grid": [4, 2, 1], "block": [128, 1, 1],
            "registers per thread": 32, "shared memory": 1024,
            "blocks per SM": 0.5, "est. achieved occupancy %": 25
        }
    })
}

fn check_invariants(p: &Profile) {
    for d in &p.devices {
        assert!(!d.records.is_empty());
        for w in d.records.windows(2) {
            assert!((w[0].start_ns, w[0].end_ns) <= (w[1].start_ns, w[1].end_ns));
        }
        for r in &d.records {
            assert!(r.end_ns >= r.start_ns);
            assert!(p.names.get(r.name).is_some());
        }
    }
    assert!(p.devices.windows(2).all(|w| w[0].device < w[1].device));
}

#[test]
fn a_record_takes_at_most_64_bytes() {
    assert!(
        size_of::<KernelRecord>() <= 64,
        "{}",
        size_of::<KernelRecord>()
    );
}

#[test]
fn alexnet_a100_trace_matches_the_hand_worked_figures() {
    let p = read_kineto_file(&fixture("alexnet-a100-kineto.json.gz")).unwrap();
    check_invariants(&p);
    assert_eq!(p.format, TraceFormat::Kineto);
    // `zcat … | jq '[.traceEvents[].args.device // empty] | unique'` → [0].
    assert_eq!(p.devices.len(), 1);
    let d = &p.devices[0];
    assert_eq!(d.device, 0);
    // jq: count by `cat` → kernel 79, gpu_memcpy 16, gpu_memset 3.
    assert_eq!(p.kernel_count(), 79);
    let count = |k| d.records.iter().filter(|r| r.kind == k).count();
    assert_eq!(count(RecordKind::Memcpy), 16);
    assert_eq!(count(RecordKind::Memset), 3);
    // jq: kernels by args.stream → stream 7: 73, stream 20: 6.
    assert_eq!(d.streams(), vec![7, 20]);
    assert_eq!(d.kernels().filter(|r| r.stream == 7).count(), 73);
    assert_eq!(d.kernels().filter(|r| r.stream == 20).count(), 6);
    // jq over all 98 GPU events: min ts = 1695835572943613 µs (a memcpy),
    // max(ts + dur) = 1695835585863857 µs → span 12 920 244 µs.
    assert_eq!(
        d.span_ns(),
        Some((1_695_835_572_943_613_000, 1_695_835_585_863_857_000))
    );
    // Kernels only: first ts 1695835573023613, last end 1695835585863857
    // → 12.840244 s, the issue's "12.8 s span"; their `dur` add up to
    // 10 692 µs ("10.7 ms of kernels").
    let first = d.kernels().next().unwrap();
    let last_end = d.kernels().map(|r| r.end_ns).max().unwrap();
    assert_eq!(last_end - first.start_ns, 12_840_244_000);
    let busy: i64 = d.kernels().map(KernelRecord::duration_ns).sum();
    assert_eq!(busy, 10_692_000);

    // The first kernel by start (event 523): the uniform-random fill,
    // ts 1695835573023613, dur 71, grid [864,1,1], block [256,1,1],
    // 47 registers, no shared memory, blocks per SM 8 (= 864 / 108),
    // occupancy 63 %.
    assert_eq!(first.start_ns, 1_695_835_573_023_613_000);
    assert_eq!(first.duration_ns(), 71_000);
    assert_eq!(first.grid, [864, 1, 1]);
    assert_eq!(first.block, [256, 1, 1]);
    assert_eq!(first.registers_per_thread, 47);
    assert_eq!(first.shared_memory_bytes, 0);
    assert_eq!(first.blocks_per_sm(), Some(8.0));
    assert_eq!(first.achieved_occupancy_pct(), Some(63.0));
    assert!(p.name(first).starts_with("void at::native::(anonymous namespace)::distribution_elementwise_grid_stride_kernel<float, 4,"));

    // The longest kernel (event 675): cudnn_ampere_scudnn_128x64_relu_xregs_large_nn_v1,
    // ts 1695835583881608, dur 1035, grid [3025,1,1], block [128,1,1],
    // 160 registers, 16384 B shared memory, blocks per SM 28.00926
    // (= 3025 / 108), occupancy 19 %.
    let longest = d.kernels().max_by_key(|r| r.duration_ns()).unwrap();
    assert_eq!(
        p.name(longest),
        "cudnn_ampere_scudnn_128x64_relu_xregs_large_nn_v1"
    );
    assert_eq!(longest.start_ns, 1_695_835_583_881_608_000);
    assert_eq!(longest.duration_ns(), 1_035_000);
    assert_eq!(longest.grid, [3025, 1, 1]);
    assert_eq!(longest.block, [128, 1, 1]);
    assert_eq!(longest.threads_per_block(), 128);
    assert_eq!(longest.registers_per_thread, 160);
    assert_eq!(longest.shared_memory_bytes, 16_384);
    assert_eq!(longest.blocks_per_sm(), Some(28.00926));
    assert_eq!(longest.achieved_occupancy_pct(), Some(19.0));
    // The trace recorded no `flops` (jq: no event has args.flops).
    assert!(d.kernels().all(|r| r.flops().is_none()));
    // Copies carry their bytes: jq sums args.bytes of the 19 copy events
    // and memsets to 244 425 120.
    let bytes: u64 = d.records.iter().filter_map(KernelRecord::bytes).sum();
    assert_eq!(bytes, 244_425_120);
    // jq: 18 distinct names among the 98 GPU events.
    assert_eq!(p.names.len(), 18);

    // deviceProperties, entry 0: "NVIDIA A100-PG509-200", 108 SMs, 8.0,
    // 2048 threads and 65536 registers and 167936 B shared memory per SM.
    let props = d.properties.as_ref().unwrap();
    assert_eq!(props.name, "NVIDIA A100-PG509-200");
    assert_eq!(props.sm_count, Some(108));
    assert_eq!(props.compute_capability, Some((8, 0)));
    assert_eq!(props.max_threads_per_sm, Some(2048));
    assert_eq!(props.max_threads_per_block, Some(1024));
    assert_eq!(props.registers_per_sm, Some(65_536));
    assert_eq!(props.registers_per_block, Some(65_536));
    assert_eq!(props.shared_memory_per_sm, Some(167_936));
    assert_eq!(props.shared_memory_per_block, Some(49_152));
    assert_eq!(props.shared_memory_per_block_optin, Some(166_912));
    assert_eq!(props.warp_size, Some(32));
    assert_eq!(props.total_memory_bytes, Some(42_297_524_224));
    // Kineto does not record these; nothing is made up.
    assert_eq!(props.max_warps_per_sm, None);
    assert_eq!(props.max_blocks_per_sm, None);

    // The same file through the format sniffer.
    assert_eq!(
        read_profile(&fixture("alexnet-a100-kineto.json.gz")).unwrap(),
        p
    );
}

#[test]
fn v100_trace_keeps_nanosecond_timestamps_exactly() {
    let p = read_kineto_file(&fixture("v100-ns-resolution-kineto.json.gz")).unwrap();
    check_invariants(&p);
    let d = p.device(0).unwrap();
    assert_eq!(p.devices.len(), 1);
    // Python, json.loads(…, parse_float=Decimal), cat counts:
    // kernel 4350, gpu_memcpy 1600, gpu_memset 145, all on stream 7.
    assert_eq!(p.kernel_count(), 4350);
    assert_eq!(d.records.len(), 4350 + 1600 + 145);
    assert_eq!(d.streams(), vec![7]);
    // Decimal: min ts = 1712195495505582.988 µs, max(ts + dur)
    // = 1712195495985612.167 µs. As f64 the first would read …583.0.
    assert_eq!(
        d.span_ns(),
        Some((1_712_195_495_505_582_988, 1_712_195_495_985_612_167))
    );
    // Decimal: the kernels' dur add up to 468 153.602 µs.
    let busy: i64 = d.kernels().map(KernelRecord::duration_ns).sum();
    assert_eq!(busy, 468_153_602);
    // The first kernel (event 25790): CatArrayBatchedCopy, dur 4.928 µs,
    // grid [4,106,1], block [128,1,1], 30 registers, blocks per SM 5.3
    // (= 424 blocks / 80 SMs), occupancy 33 %.
    let first = d.kernels().next().unwrap();
    assert_eq!(first.start_ns, 1_712_195_495_505_582_988);
    assert_eq!(first.duration_ns(), 4_928);
    assert_eq!(first.grid, [4, 106, 1]);
    assert_eq!(first.blocks(), 424);
    assert_eq!(first.registers_per_thread, 30);
    assert_eq!(first.blocks_per_sm(), Some(5.3));
    assert_eq!(first.achieved_occupancy_pct(), Some(33.0));
    // The longest (event 50264): max_pool_backward, dur 1112.761 µs,
    // grid [49,32,64], 1254.4 blocks per SM (= 100352 / 80).
    let longest = d.kernels().max_by_key(|r| r.duration_ns()).unwrap();
    assert_eq!(longest.duration_ns(), 1_112_761);
    assert_eq!(longest.grid, [49, 32, 64]);
    assert_eq!(longest.blocks_per_sm(), Some(1254.4));
    assert!(p.name(longest).contains("max_pool_backward"));
    let props = d.properties.as_ref().unwrap();
    assert_eq!(props.name, "Tesla V100-SXM2-32GB");
    assert_eq!(props.sm_count, Some(80));
    assert_eq!(props.compute_capability, Some((7, 0)));
    assert_eq!(props.shared_memory_per_sm, Some(98_304));
}

#[test]
fn triton_trace_counts_from_base_time_nanoseconds() {
    let p = read_kineto_file(&fixture("triton-a100-kineto.json.gz")).unwrap();
    check_invariants(&p);
    assert_eq!(p.kernel_count(), 1);
    let k = &p.devices[0].records[0];
    // baseTimeNanoseconds 1727743122000000000 + ts 2413669097444.592 µs
    // = 1730156791097444592 ns; dur 1.76 µs = 1760 ns.
    assert_eq!(k.start_ns, 1_730_156_791_097_444_592);
    assert_eq!(k.duration_ns(), 1_760);
    assert_eq!(p.name(k), "triton_poi_fused_add_cos_sin_0");
    assert_eq!(k.grid, [1, 1, 1]);
    assert_eq!(k.block, [128, 1, 1]);
    assert_eq!(k.registers_per_thread, 16);
    assert_eq!(k.achieved_occupancy_pct(), Some(0.0));
}

#[test]
fn unsorted_events_come_out_sorted_with_ties_in_trace_order() {
    let trace = json!({"traceEvents": [
        kernel("c", json!(30), json!(5), 0, 7),
        kernel("a", json!(10), json!(5), 0, 7),
        {"ph": "X", "cat": "cpu_op", "name": "aten::mm", "ts": 1, "dur": 100,
         "pid": 1234, "tid": 1234, "args": {"External id": 9}},
        kernel("b2", json!(20), json!(3), 0, 8),
        kernel("b1", json!(20), json!(3), 0, 7),
        kernel("b0", json!(20), json!(1), 0, 7),
    ]});
    let p = read_json(&trace).unwrap();
    check_invariants(&p);
    let names: Vec<&str> = p.devices[0].records.iter().map(|r| p.name(r)).collect();
    // By start, then end; b2 and b1 tie on both and keep their order.
    assert_eq!(names, ["a", "b0", "b2", "b1", "c"]);
    assert_eq!(p.devices[0].records[0].start_ns, 10_000);
    assert_eq!(p.devices[0].streams(), vec![7, 8]);
}

#[test]
fn gzip_and_plain_json_read_the_same() {
    let trace = json!({"traceEvents": [kernel("k", json!(1.5), json!(2.25), 0, 7)]});
    let plain = serde_json::to_vec(&trace).unwrap();
    let a = read_kineto(plain.as_slice()).unwrap();
    let b = read_kineto(gzip(&plain).as_slice()).unwrap();
    assert_eq!(a, b);
    assert_eq!(a.devices[0].records[0].start_ns, 1_500);
    assert_eq!(a.devices[0].records[0].end_ns, 3_750);
}

#[test]
fn several_devices_give_one_timeline_each() {
    let trace = json!({
        "deviceProperties": [
            {"id": 1, "name": "GPU one", "numSms": 10},
            {"id": 0, "name": "GPU zero", "numSms": 20}
        ],
        "traceEvents": [
            kernel("k1", json!(5), json!(1), 1, 7),
            kernel("k0", json!(6), json!(1), 0, 7),
            kernel("k2", json!(7), json!(1), 2, 7),
            kernel("k1b", json!(1), json!(1), 1, 9),
        ]
    });
    let p = read_json(&trace).unwrap();
    check_invariants(&p);
    let ids: Vec<u32> = p.devices.iter().map(|d| d.device).collect();
    assert_eq!(ids, [0, 1, 2]);
    assert_eq!(p.device(1).unwrap().records.len(), 2);
    assert_eq!(
        p.device(0).unwrap().properties.as_ref().unwrap().name,
        "GPU zero"
    );
    assert_eq!(
        p.device(1).unwrap().properties.as_ref().unwrap().sm_count,
        Some(10)
    );
    // Device 2 has no entry in deviceProperties.
    assert_eq!(p.device(2).unwrap().properties, None);
}

#[test]
fn missing_device_properties_and_a_bare_event_array_are_fine() {
    let p = read_json(&json!([kernel("k", json!(1), json!(1), 0, 7)])).unwrap();
    assert_eq!(p.devices[0].properties, None);
    // Device and stream fall back to pid and tid when args lack them.
    let mut e = kernel("k", json!(1), json!(1), 0, 7);
    e["pid"] = json!(3);
    e["tid"] = json!(11);
    e["args"].as_object_mut().unwrap().remove("device");
    e["args"].as_object_mut().unwrap().remove("stream");
    let p = read_json(&json!({"traceEvents": [e]})).unwrap();
    assert_eq!(p.devices[0].device, 3);
    assert_eq!(p.devices[0].records[0].stream, 11);
}

#[test]
fn older_pytorch_category_names_are_read() {
    let mut e = kernel("k", json!(1), json!(1), 0, 7);
    e["cat"] = json!("Kernel");
    let copy = json!({"ph": "X", "cat": "Memcpy", "name": "Memcpy HtoD", "ts": 0, "dur": 1,
        "args": {"device": 0, "stream": 7, "bytes": 64}});
    let p = read_json(&json!({"traceEvents": [e, copy]})).unwrap();
    let kinds: Vec<RecordKind> = p.devices[0].records.iter().map(|r| r.kind).collect();
    assert_eq!(kinds, [RecordKind::Memcpy, RecordKind::Kernel]);
    assert_eq!(p.devices[0].records[0].bytes(), Some(64));
}

#[test]
fn operator_flops_are_shared_among_its_kernels_by_duration() {
    let with_ext = |mut e: Value, ext: u64| {
        e["args"]["External id"] = json!(ext);
        e
    };
    let trace = json!({"traceEvents": [
        // Operator 5: 1001 FLOPs over kernels of 1 µs and 2 µs:
        // floor(1001·1/3) = 333, floor(1001·2/3) = 667, the remainder 1 goes
        // to the longer one → 333 and 668.
        {"ph": "X", "cat": "cpu_op", "name": "aten::mm", "ts": 0, "dur": 50,
         "args": {"External id": 5, "flops": 1001}},
        with_ext(kernel("gemm_a", json!(10), json!(1), 0, 7), 5),
        with_ext(kernel("gemm_b", json!(12), json!(2), 0, 7), 5),
        // Operator 6 (after its kernel in the file): 90 FLOPs, one kernel.
        with_ext(kernel("conv", json!(20), json!(4), 0, 7), 6),
        {"ph": "X", "cat": "cpu_op", "name": "aten::conv2d", "ts": 0, "dur": 50,
         "args": {"External id": 6, "flops": 90}},
        // Operator 7 recorded no flops; kernel 8 has no operator.
        {"ph": "X", "cat": "cpu_op", "name": "aten::add", "ts": 0, "dur": 50,
         "args": {"External id": 7}},
        with_ext(kernel("add", json!(30), json!(1), 0, 7), 7),
        with_ext(kernel("orphan", json!(40), json!(1), 0, 7), 8),
        // Operator 9: 10 FLOPs over two zero-length kernels → 5 and 5.
        {"ph": "X", "cat": "cpu_op", "name": "aten::tiny", "ts": 0, "dur": 50,
         "args": {"External id": 9, "flops": 10}},
        with_ext(kernel("z1", json!(50), json!(0), 0, 7), 9),
        with_ext(kernel("z2", json!(51), json!(0), 0, 7), 9),
    ]});
    let p = read_json(&trace).unwrap();
    let flops: Vec<(&str, Option<u64>)> = p.devices[0]
        .records
        .iter()
        .map(|r| (p.name(r), r.flops()))
        .collect();
    assert_eq!(
        flops,
        [
            ("gemm_a", Some(333)),
            ("gemm_b", Some(668)),
            ("conv", Some(90)),
            ("add", None),
            ("orphan", None),
            ("z1", Some(5)),
            ("z2", Some(5)),
        ]
    );
}

fn record_error(trace: &Value) -> (Location, String, RecordProblem) {
    match read_json(trace) {
        Err(ProfileError::Record { at, name, problem }) => (at, name, problem),
        other => panic!("expected a record error, got {other:?}"),
    }
}

#[test]
fn a_kernel_without_grid_is_named_by_index_and_name() {
    let mut bad = kernel("no_grid_kernel", json!(1), json!(1), 0, 7);
    bad["args"].as_object_mut().unwrap().remove("grid");
    let trace = json!({"traceEvents": [
        {"ph": "X", "cat": "cpu_op", "name": "aten::mm", "ts": 0, "dur": 1},
        kernel("fine", json!(1), json!(1), 0, 7),
        bad,
    ]});
    let (at, name, problem) = record_error(&trace);
    assert_eq!(at, Location::Event(2));
    assert_eq!(name, "no_grid_kernel");
    assert_eq!(problem, RecordProblem::MissingField("grid"));
    let text = read_json(&trace).unwrap_err().to_string();
    assert_eq!(
        text,
        "event 2 of traceEvents (\"no_grid_kernel\"): it has no `grid`"
    );
}

#[test]
fn a_negative_duration_is_refused() {
    let trace = json!({"traceEvents": [kernel("backwards", json!(100), json!(-2.5), 0, 7)]});
    let (at, name, problem) = record_error(&trace);
    assert_eq!(at, Location::Event(0));
    assert_eq!(name, "backwards");
    assert_eq!(
        problem,
        RecordProblem::NegativeDuration {
            duration_ns: -2_500
        }
    );
}

#[test]
fn malformed_fields_are_refused_with_the_field_named() {
    let cases: Vec<(&str, Value, &str)> = vec![
        ("grid", json!([1, 2]), "grid"),
        ("grid", json!([0, 1, 1]), "grid"),
        ("block", json!([70000, 1, 1]), "block"),
        ("registers per thread", json!(300), "registers per thread"),
        ("shared memory", json!(-1), "shared memory"),
        ("stream", json!("seven"), "stream"),
        ("blocks per SM", json!("many"), "blocks per SM"),
    ];
    for (key, value, field) in cases {
        let mut e = kernel("k", json!(1), json!(1), 0, 7);
        e["args"][key] = value.clone();
        let (_, _, problem) = record_error(&json!({"traceEvents": [e]}));
        match problem {
            RecordProblem::InvalidField { field: f, .. } => assert_eq!(f, field, "{key}={value}"),
            other => panic!("{key}={value}: {other:?}"),
        }
    }
    let mut e = kernel("k", json!(1), json!(1), 0, 7);
    e["ts"] = json!("soon");
    let (_, _, problem) = record_error(&json!({"traceEvents": [e]}));
    assert!(matches!(
        problem,
        RecordProblem::InvalidField { field: "ts", .. }
    ));
    let mut e = kernel("k", json!(1), json!(1), 0, 7);
    e.as_object_mut().unwrap().remove("dur");
    let (_, _, problem) = record_error(&json!({"traceEvents": [e]}));
    assert_eq!(problem, RecordProblem::MissingField("dur"));
}

#[test]
fn no_kernel_events_is_its_own_error() {
    let trace = json!({"traceEvents": [
        {"ph": "X", "cat": "cpu_op", "name": "aten::mm", "ts": 0, "dur": 1},
        {"ph": "X", "cat": "gpu_memcpy", "name": "Memcpy HtoD", "ts": 0, "dur": 1,
         "args": {"device": 0, "stream": 7}}
    ]});
    assert!(matches!(read_json(&trace), Err(ProfileError::NoKernels)));
    assert!(matches!(
        read_json(&json!({"traceEvents": []})),
        Err(ProfileError::NoKernels)
    ));
}

/// Far more than one 256 KiB chunk of inflated JSON: kernels and the
/// operators that launched them, read plain and gzip (inflated on a second
/// thread, the parser reading across chunk boundaries).
#[test]
fn a_gzip_trace_of_many_chunks_reads_as_the_plain_one() {
    let n = 4000u64;
    let mut events = Vec::new();
    for i in 0..n {
        events.push(
            json!({"ph": "X", "cat": "cpu_op", "name": "aten::mm", "pid": 1, "tid": 1,
            "ts": i * 10, "dur": 5, "args": {"External id": i, "flops": 1000 + i,
            "padding": "x".repeat(100)}}),
        );
        let mut k = kernel(&format!("k{}", i % 3), json!(i * 10), json!(4), 0, 7);
        k["args"]["External id"] = json!(i);
        events.push(k);
    }
    let plain = serde_json::to_vec(&json!({"traceEvents": events})).unwrap();
    assert!(plain.len() > 4 << 18, "{} bytes", plain.len());
    let a = read_kineto(plain.as_slice()).unwrap();
    let b = read_kineto(gzip(&plain).as_slice()).unwrap();
    assert_eq!(a, b);
    let records = &b.devices[0].records;
    assert_eq!(records.len(), n as usize);
    // Kernel i is alone under operator i, so it gets all 1000 + i FLOPs.
    assert_eq!(records[3999].work.map(|w| w.get()), Some(4999));
    assert_eq!(records[3999].start_ns, 39_990_000);

    // A bad kernel near the start of the big gzip trace: the error names it,
    // and the inflating thread stops instead of reading to the end.
    events[1]["args"]["grid"] = json!([0, 1, 1]);
    let bad = serde_json::to_vec(&json!({"traceEvents": events})).unwrap();
    let e = read_kineto(gzip(&bad).as_slice()).unwrap_err();
    assert!(
        matches!(
            &e,
            ProfileError::Record {
                at: Location::Event(1),
                ..
            }
        ),
        "{e:?}"
    );
}

/// An event's times are skipped once its `cat` says it is not a kernel or
/// copy; a later second `cat` naming a kernel is refused, not misread.
#[test]
fn a_second_cat_after_skipped_fields_is_refused() {
    let text =
        br#"{"traceEvents": [{"cat": "cpu_op", "ts": 1, "dur": 2, "cat": "kernel", "name": "k",
        "args": {"device": 0, "stream": 7, "grid": [1, 1, 1], "block": [1, 1, 1]}}]}"#;
    let e = read_kineto(&text[..]).unwrap_err();
    assert!(
        matches!(&e, ProfileError::Record { at: Location::Event(0), name, .. } if name == "k"),
        "{e:?}"
    );
}

#[test]
fn what_is_not_a_trace_says_so() {
    // Valid JSON without traceEvents.
    let e = read_json(&json!({"schemaVersion": 1})).unwrap_err();
    assert!(matches!(e, ProfileError::NotATrace(_)), "{e:?}");
    // Not JSON at all: the position is given.
    let e = read_kineto(&b"\x00\x01 not json"[..]).unwrap_err();
    assert!(
        matches!(
            e,
            ProfileError::Json {
                line: 1,
                column: 1,
                ..
            }
        ),
        "{e:?}"
    );
    // JSON of the wrong shape.
    let e = read_kineto(&b"{\"traceEvents\": 5}"[..]).unwrap_err();
    assert!(matches!(e, ProfileError::Json { .. }), "{e:?}");
    let e = read_kineto(&b"{\"traceEvents\": [1]}"[..]).unwrap_err();
    assert!(matches!(e, ProfileError::Json { .. }), "{e:?}");
    // Truncated.
    let e = read_kineto(&b"{\"traceEvents\": [{\"cat\": \"kernel\""[..]).unwrap_err();
    assert!(matches!(e, ProfileError::Json { .. }), "{e:?}");
    // Trailing garbage after the trace.
    let e = read_kineto(&b"{\"traceEvents\": []} x"[..]).unwrap_err();
    assert!(matches!(e, ProfileError::Json { .. }), "{e:?}");
    // Corrupt gzip: the magic bytes, then rubbish.
    let e = read_kineto(&b"\x1f\x8b\x08\x00garbage-garbage"[..]).unwrap_err();
    assert!(matches!(e, ProfileError::Io(_)), "{e:?}");
    // A missing file.
    let e = read_kineto_file(std::path::Path::new("/nonexistent/trace.json")).unwrap_err();
    assert!(matches!(e, ProfileError::Io(_)), "{e:?}");
}

#[test]
fn long_names_are_shortened_in_errors() {
    let long = "k".repeat(500);
    let mut e = kernel(&long, json!(1), json!(1), 0, 7);
    e["args"].as_object_mut().unwrap().remove("block");
    let (_, name, _) = record_error(&json!({"traceEvents": [e]}));
    assert_eq!(name.chars().count(), 121);
    assert!(name.ends_with('…'));
}
