//! Trace reading, replaying and recording.

#[path = "fixtures/jetson_trees.rs"]
mod trees;

use std::io::Cursor;
use std::time::Duration;

use proptest::prelude::*;
use wattledger_core::meter::Sample;
use wattledger_std::sensors::jetson::{JetsonConfig, JetsonSensor};
use wattledger_std::sensors::replay::ReplaySensor;
use wattledger_std::sensors::{DeviceInfo, MigInfo, MigInstance, Sensor, SensorError};
use wattledger_std::trace::{
    RecordError, Recorder, TRACE_FORMAT, Trace, TraceError, TraceMeta, TraceSample, record,
};

const FIXTURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/trace-orin-nano.jsonl"
);

fn unix_ns() -> u64 {
    let d = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap();
    u64::try_from(d.as_nanos()).unwrap()
}

fn power(t_ns: u64, mw: u32, gated: Option<u32>) -> Sample {
    Sample {
        t_ns,
        energy_mj: None,
        power_mw: Some(mw),
        gated_units: gated,
    }
}

#[test]
fn fixture_replays_each_device_in_order() {
    let mut s = ReplaySensor::from_path(FIXTURE).unwrap();
    assert_eq!(s.source(), "replay");
    assert_eq!(s.meta().source, "jetson");
    assert_eq!(
        s.meta().recorded_by.as_deref(),
        Some("hand-written fixture")
    );
    assert_eq!(s.devices().len(), 2);
    assert_eq!(s.devices()[1].name, "Jetson GPU rail (VDD_CPU_GPU_CV)");
    assert_eq!(s.all_samples().len(), 6);
    assert_eq!(s.remaining(0).unwrap(), 3);

    // Device 1 has its own cursor: reading it first does not move device 0.
    assert_eq!(s.sample(1).unwrap(), power(1500, 1869, Some(2)));
    assert_eq!(s.sample(0).unwrap(), power(1000, 6944, Some(2)));
    assert_eq!(s.sample(0).unwrap(), power(10_001_000, 7120, Some(2)));
    assert_eq!(s.sample(0).unwrap(), power(20_001_000, 7301, Some(0)));
    assert_eq!(s.remaining(0).unwrap(), 0);
    assert_eq!(s.remaining(1).unwrap(), 2);
    assert_eq!(s.sample(0), Err(SensorError::EndOfTrace));
    assert_eq!(s.sample(0), Err(SensorError::EndOfTrace));
    assert_eq!(s.sample(5), Err(SensorError::NoSuchDevice { device: 5 }));

    // The offline accessor sees everything whatever the cursors say.
    let gpu: Vec<u32> = s.samples(1).unwrap().filter_map(|x| x.power_mw).collect();
    assert_eq!(gpu, vec![1869, 2011, 2230]);
    assert!(s.samples(7).is_err());

    s.rewind();
    assert_eq!(s.sample(0).unwrap().t_ns, 1000);
}

#[test]
fn null_omitted_and_unknown_fields() {
    let text = format!(
        r#"{{"type":"meta","format":"{TRACE_FORMAT}","source":"nvml"}}
{{"type":"device","index":3,"name":"NVIDIA H100 80GB HBM3","uuid":"GPU-1","architecture":9,"pci_device_id":8994,"has_energy_counter":true,"future_field":[1,2]}}
{{"type":"sample","device":3,"t_ns":5,"energy_mj":1000,"power_mw":null}}
{{"type":"sample","device":3,"t_ns":5,"energy_mj":1070,"power_mw":70000,"gated_units":null,"extra":"ignored"}}
"#
    );
    let mut s = ReplaySensor::from_reader(Cursor::new(text)).unwrap();
    assert_eq!(s.meta().recorded_by, None);
    let d = &s.devices()[0];
    assert_eq!(
        (d.index, d.architecture, d.pci_device_id),
        (3, Some(9), Some(8994))
    );
    assert!(d.has_energy_counter);
    assert_eq!(d.mig, None);
    assert_eq!(
        s.sample(3).unwrap(),
        Sample {
            t_ns: 5,
            energy_mj: Some(1000),
            power_mw: None,
            gated_units: None
        }
    );
    // Equal timestamps are allowed (not going back).
    assert_eq!(
        s.sample(3).unwrap(),
        Sample {
            t_ns: 5,
            energy_mj: Some(1070),
            power_mw: Some(70_000),
            gated_units: None
        }
    );
    assert_eq!(s.sample(0), Err(SensorError::NoSuchDevice { device: 0 }));
}

/// Read `body` after a valid meta line and one device line (so the body starts at line 3).
fn read_after_header(body: &str) -> Result<Trace, TraceError> {
    let text = format!(
        "{{\"type\":\"meta\",\"format\":\"{TRACE_FORMAT}\",\"source\":\"test\"}}\n\
         {{\"type\":\"device\",\"index\":0,\"name\":\"a\",\"uuid\":\"u\",\"has_energy_counter\":false}}\n{body}"
    );
    Trace::read(Cursor::new(text))
}

fn invalid_at(r: Result<Trace, TraceError>) -> (usize, Option<String>, String) {
    match r {
        Err(TraceError::Invalid {
            line,
            field,
            message,
        }) => (line, field, message),
        other => panic!("expected Invalid, got {other:?}"),
    }
}

#[test]
fn bad_lines_name_line_and_field() {
    let (line, field, _) = invalid_at(read_after_header(
        "{\"type\":\"sample\",\"device\":0,\"t_ns\":10}\n{\"type\":\"sample\",\"device\":0,\"t_ns\":9}\n",
    ));
    assert_eq!((line, field.as_deref()), (4, Some("t_ns")));

    let (line, field, msg) = invalid_at(read_after_header(
        "{\"type\":\"sample\",\"device\":1,\"t_ns\":10}\n",
    ));
    assert_eq!((line, field.as_deref()), (3, Some("device")));
    assert!(msg.contains("device 1"), "{msg}");

    // 4294967296 = u32::MAX + 1
    let (line, field, _) = invalid_at(read_after_header(
        "{\"type\":\"sample\",\"device\":0,\"t_ns\":1,\"power_mw\":4294967296}\n",
    ));
    assert_eq!((line, field.as_deref()), (3, Some("power_mw")));

    let (_, field, _) = invalid_at(read_after_header(
        "{\"type\":\"sample\",\"device\":0,\"t_ns\":-1}\n",
    ));
    assert_eq!(field.as_deref(), Some("t_ns"));
    let (_, field, _) = invalid_at(read_after_header(
        "{\"type\":\"sample\",\"device\":0,\"t_ns\":1,\"energy_mj\":\"12\"}\n",
    ));
    assert_eq!(field.as_deref(), Some("energy_mj"));
    let (_, field, msg) = invalid_at(read_after_header("{\"type\":\"sample\",\"device\":0}\n"));
    assert_eq!((field.as_deref(), msg.as_str()), (Some("t_ns"), "missing"));

    // Blank lines still count: the bad line is line 5.
    // Not JSON on line 5 (blank lines count); the same text as the last
    // line without its `\n` is a line cut short, left out with a note.
    let (line, field, _) = invalid_at(read_after_header(
        "\n\n{\"type\":\"sample\",\"device\":0,\n",
    ));
    assert_eq!((line, field), (5, None));
    let cut = read_after_header("\n\n{\"type\":\"sample\",\"device\":0,").unwrap();
    assert_eq!(cut.truncated_line, Some(5));

    let (line, field, _) = invalid_at(read_after_header("[1,2]\n"));
    assert_eq!((line, field), (3, None));
    let (_, field, msg) = invalid_at(read_after_header("{\"type\":\"power\"}\n"));
    assert_eq!(field.as_deref(), Some("type"));
    assert!(msg.contains("power"), "{msg}");
    let (_, field, _) = invalid_at(read_after_header("{\"device\":0}\n"));
    assert_eq!(field.as_deref(), Some("type"));

    let (line, field, _) = invalid_at(read_after_header(
        "{\"type\":\"device\",\"index\":0,\"name\":\"b\",\"uuid\":\"v\",\"has_energy_counter\":true}\n",
    ));
    assert_eq!((line, field.as_deref()), (3, Some("index")));
    let (_, field, _) = invalid_at(read_after_header(
        "{\"type\":\"device\",\"index\":1,\"uuid\":\"v\",\"has_energy_counter\":true}\n",
    ));
    assert_eq!(field.as_deref(), Some("name"));
    let (_, field, _) = invalid_at(read_after_header(
        "{\"type\":\"device\",\"index\":1,\"name\":\"b\",\"uuid\":\"v\",\"has_energy_counter\":1}\n",
    ));
    assert_eq!(field.as_deref(), Some("has_energy_counter"));
    // 65536 = u16::MAX + 1
    let (_, field, _) = invalid_at(read_after_header(
        "{\"type\":\"device\",\"index\":1,\"name\":\"b\",\"uuid\":\"v\",\"has_energy_counter\":true,\"pci_device_id\":65536}\n",
    ));
    assert_eq!(field.as_deref(), Some("pci_device_id"));
    let (_, field, _) = invalid_at(read_after_header(
        "{\"type\":\"device\",\"index\":1,\"name\":\"b\",\"uuid\":\"v\",\"has_energy_counter\":true,\"mig\":{\"current_enabled\":\"yes\"}}\n",
    ));
    assert_eq!(field.as_deref(), Some("mig"));

    let (line, field, _) = invalid_at(read_after_header(
        "{\"type\":\"sample\",\"device\":0,\"t_ns\":1}\n{\"type\":\"device\",\"index\":1,\"name\":\"b\",\"uuid\":\"v\",\"has_energy_counter\":true}\n",
    ));
    assert_eq!((line, field.as_deref()), (4, Some("type")));
    let (line, field, _) = invalid_at(read_after_header(&format!(
        "{{\"type\":\"meta\",\"format\":\"{TRACE_FORMAT}\",\"source\":\"x\"}}\n"
    )));
    assert_eq!((line, field.as_deref()), (3, Some("type")));
}

#[test]
fn header_problems() {
    assert_eq!(Trace::read(Cursor::new("")), Err(TraceError::Empty));
    assert_eq!(Trace::read(Cursor::new("\n  \n")), Err(TraceError::Empty));

    let (line, field, _) = invalid_at(Trace::read(Cursor::new(
        "{\"type\":\"device\",\"index\":0,\"name\":\"a\",\"uuid\":\"u\",\"has_energy_counter\":false}\n",
    )));
    assert_eq!((line, field.as_deref()), (1, Some("type")));

    let (line, field, msg) = invalid_at(Trace::read(Cursor::new(
        "\n{\"type\":\"meta\",\"format\":\"wattledger-trace/2\",\"source\":\"x\"}\n",
    )));
    assert_eq!((line, field.as_deref()), (2, Some("format")));
    assert!(msg.contains("wattledger-trace/2"), "{msg}");

    let (_, field, _) = invalid_at(Trace::read(Cursor::new(format!(
        "{{\"type\":\"meta\",\"format\":\"{TRACE_FORMAT}\"}}\n"
    ))));
    assert_eq!(field.as_deref(), Some("source"));

    // Not UTF-8 on line 2.
    let mut bytes =
        format!("{{\"type\":\"meta\",\"format\":\"{TRACE_FORMAT}\",\"source\":\"x\"}}\n")
            .into_bytes();
    bytes.extend_from_slice(b"\xff\xfe\n");
    assert!(matches!(
        Trace::read(Cursor::new(bytes)),
        Err(TraceError::Io { line: 2, .. })
    ));

    match ReplaySensor::from_path("/nonexistent/trace.jsonl") {
        Err(TraceError::Io { line: 0, message }) => assert!(message.contains("nonexistent")),
        other => panic!("expected Io, got {other:?}"),
    }

    // Errors convert into SensorError with the line in the words.
    let e: SensorError = TraceError::Invalid {
        line: 7,
        field: Some("t_ns".into()),
        message: "bad".into(),
    }
    .into();
    assert_eq!(
        e,
        SensorError::Other("trace line 7, field `t_ns`: bad".into())
    );
}

fn device(index: u32) -> DeviceInfo {
    DeviceInfo {
        index,
        name: format!("dev{index}"),
        uuid: format!("GPU-{index}"),
        ..DeviceInfo::default()
    }
}

#[test]
fn recorder_writes_documented_lines_and_refuses_bad_samples() {
    let meta = TraceMeta {
        source: "nvml".into(),
        recorded_by: None,
        note: Some("a \"quoted\" note".into()),
        clock_unix_ns: Some(1_700_000_000_123_456_789),
    };
    let mut rec = Recorder::new(Vec::new(), &meta, &[device(0), device(2)]).unwrap();
    assert_eq!(rec.lines_written(), 3);
    rec.record(
        2,
        &Sample {
            t_ns: 10,
            energy_mj: Some(5),
            power_mw: None,
            gated_units: None,
        },
    )
    .unwrap();

    // Refused samples write nothing and change nothing.
    let before = rec.lines_written();
    assert!(matches!(
        rec.record(1, &power(11, 1, None)),
        Err(RecordError::UnknownDevice { device: 1 })
    ));
    assert!(matches!(
        rec.record(2, &power(9, 1, None)),
        Err(RecordError::TimeWentBack {
            device: 2,
            previous_ns: 10,
            t_ns: 9
        })
    ));
    assert_eq!(rec.lines_written(), before);
    rec.record(2, &power(10, 7, Some(0))).unwrap();
    let text = String::from_utf8(rec.finish().unwrap()).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 5);
    assert_eq!(
        lines[0],
        r#"{"type":"meta","format":"wattledger-trace/1","source":"nvml","note":"a \"quoted\" note","clock_unix_ns":1700000000123456789}"#
    );
    assert!(
        lines[1].starts_with(r#"{"type":"device","index":0,"name":"dev0""#),
        "{}",
        lines[1]
    );
    assert_eq!(
        lines[3],
        r#"{"type":"sample","device":2,"t_ns":10,"energy_mj":5}"#
    );
    assert_eq!(
        lines[4],
        r#"{"type":"sample","device":2,"t_ns":10,"power_mw":7,"gated_units":0}"#
    );

    let back = Trace::read(Cursor::new(text)).unwrap();
    assert_eq!(back.meta, meta);
    assert_eq!(back.devices, vec![device(0), device(2)]);
    assert_eq!(back.samples.len(), 2);

    assert!(matches!(
        Recorder::new(Vec::new(), &meta, &[device(1), device(1)]),
        Err(RecordError::DuplicateDevice { device: 1 })
    ));
}

#[test]
fn record_from_jetson_then_replay() {
    let dir = tempfile::tempdir().unwrap();
    trees::agx_orin_r36(dir.path());
    let before = unix_ns();
    let mut jetson = JetsonSensor::with_config(JetsonConfig::with_root(dir.path())).unwrap();
    let after = unix_ns();

    let mut rec = Recorder::for_sensor(Vec::new(), &jetson, Some("fixture")).unwrap();
    let mut taken = Vec::new();
    for round in 0..3u32 {
        // Change the GPU current each round: 1473, 1573, 1673 mA.
        trees::put(
            dir.path(),
            &format!("{}/curr1_input", trees::AGX_HWMON),
            &format!("{}\n", 1473 + 100 * round),
        );
        for d in 0..2 {
            taken.push((d, rec.sample_from(&mut jetson, d).unwrap()));
        }
    }
    let bytes = rec.finish().unwrap();
    let mut replay = ReplaySensor::from_reader(Cursor::new(&bytes)).unwrap();
    assert_eq!(replay.meta().source, "jetson");
    assert_eq!(replay.meta().note.as_deref(), Some("fixture"));
    // The sensor's clock starts when it is made, so the Unix time at its
    // t_ns = 0 lies between the readings taken around its creation (1 ms of
    // slack for the two clocks being read at slightly different moments).
    let clock = replay
        .meta()
        .clock_unix_ns
        .expect("a live sensor's trace is aligned");
    assert!(
        clock + 1_000_000 >= before && clock <= after + 1_000_000,
        "{before} <= {clock} <= {after}"
    );
    assert_eq!(replay.clock_unix_ns(), Some(clock));
    assert_eq!(replay.devices(), jetson.devices());
    for (d, s) in &taken {
        assert_eq!(replay.sample(*d).unwrap(), *s);
    }
    assert_eq!(replay.sample(0), Err(SensorError::EndOfTrace));
    let gpu: Vec<u32> = replay
        .samples(1)
        .unwrap()
        .filter_map(|s| s.power_mw)
        .collect();
    // 5008 × 1473 = 7_376_784 µW → 7377; 5008 × 1573 = 7_877_584 → 7878;
    // 5008 × 1673 = 8_378_384 → 8378 mW
    assert_eq!(gpu, vec![7377, 7878, 8378]);

    // Re-recording the replay to its end reproduces the same text, since the
    // original was also taken round by round.
    replay.rewind();
    let mut again = Vec::new();
    let n = record(
        &mut replay,
        usize::MAX,
        Duration::ZERO,
        &mut again,
        Some("fixture"),
    )
    .unwrap();
    assert_eq!(n, 6);
    let first = String::from_utf8(bytes)
        .unwrap()
        .replace("\"source\":\"jetson\"", "\"source\":\"replay\"");
    assert_eq!(String::from_utf8(again).unwrap(), first);
}

#[test]
fn record_live_rounds_and_uneven_ends() {
    let dir = tempfile::tempdir().unwrap();
    trees::nano_r32(dir.path());
    let mut jetson = JetsonSensor::with_config(JetsonConfig::with_root(dir.path())).unwrap();
    let mut out = Vec::new();
    // 2 rounds × 2 devices = 4 samples.
    assert_eq!(
        record(&mut jetson, 2, Duration::from_millis(1), &mut out, None).unwrap(),
        4
    );
    let trace = Trace::read(Cursor::new(&out)).unwrap();
    assert_eq!(
        trace.samples.iter().map(|s| s.device).collect::<Vec<_>>(),
        vec![0, 1, 0, 1]
    );
    assert_eq!(trace.samples[2].sample.power_mw, Some(3987));
    // The second round comes at least 1 ms after the first.
    assert!(trace.samples[2].sample.t_ns >= trace.samples[0].sample.t_ns + 1_000_000);

    // A trace where device 0 has 3 samples and device 1 only 1: recording
    // continues with device 0 after device 1 has ended.
    let trace = Trace {
        meta: TraceMeta::new("nvml"),
        devices: vec![device(0), device(1)],
        samples: vec![
            TraceSample {
                device: 0,
                sample: power(1, 10, None),
            },
            TraceSample {
                device: 1,
                sample: power(2, 20, None),
            },
            TraceSample {
                device: 0,
                sample: power(3, 30, None),
            },
            TraceSample {
                device: 0,
                sample: power(4, 40, None),
            },
        ],
        ..Trace::default()
    };
    let mut replay = ReplaySensor::from_trace(trace).unwrap();
    let mut out = Vec::new();
    assert_eq!(
        record(&mut replay, 100, Duration::ZERO, &mut out, None).unwrap(),
        4
    );
    let back = Trace::read(Cursor::new(out)).unwrap();
    let t: Vec<u64> = back.samples.iter().map(|s| s.sample.t_ns).collect();
    assert_eq!(t, vec![1, 2, 3, 4]);

    // A sensor error other than the end stops the recording with that error.
    std::fs::remove_file(dir.path().join(trees::NANO_IIO).join("in_power0_input")).unwrap();
    std::fs::remove_file(dir.path().join(trees::NANO_IIO).join("in_voltage0_input")).unwrap();
    let mut out = Vec::new();
    assert!(matches!(
        record(&mut jetson, 2, Duration::ZERO, &mut out, None),
        Err(RecordError::Sensor(SensorError::Unavailable { .. }))
    ));
    // The meta and device lines were written before the failure.
    assert_eq!(Trace::read(Cursor::new(out)).unwrap().devices.len(), 2);
}

fn arb_sample() -> impl Strategy<Value = (u32, u64, Option<u64>, Option<u32>, Option<u32>)> {
    (
        0u32..3,
        0u64..1_000_000,
        proptest::option::of(any::<u64>()),
        proptest::option::of(any::<u32>()),
        proptest::option::of(0u32..200),
    )
}

proptest! {
    #[test]
    fn write_then_read_is_identity(
        raw in proptest::collection::vec(arb_sample(), 0..40),
        arch in proptest::option::of(0u32..12),
        mig in any::<bool>(),
    ) {
        let mut devices: Vec<DeviceInfo> = (0..3).map(device).collect();
        devices[1].architecture = arch;
        devices[2].has_energy_counter = true;
        if mig {
            devices[2].mig = Some(MigInfo {
                current_enabled: true,
                pending_enabled: false,
                instances: vec![MigInstance {
                    uuid: "MIG-1".into(),
                    parent_uuid: "GPU-2".into(),
                    profile: Some("3g.40gb".into()),
                    gpu_instance_id: 1,
                    compute_instance_id: 0,
                }],
            });
        }
        // Keep each device's time non-decreasing by accumulating the steps.
        let mut clock = [0u64; 3];
        let samples: Vec<TraceSample> = raw
            .into_iter()
            .map(|(d, step, e, p, g)| {
                let c = &mut clock[d as usize];
                *c += step;
                TraceSample { device: d, sample: Sample { t_ns: *c, energy_mj: e, power_mw: p, gated_units: g } }
            })
            .collect();
        let trace = Trace { meta: TraceMeta::new("nvml"), devices, samples, ..Trace::default() };
        let bytes = trace.write(Vec::new()).unwrap();
        let back = Trace::read(Cursor::new(bytes)).unwrap();
        prop_assert_eq!(&back, &trace);

        let mut replay = ReplaySensor::from_trace(back).unwrap();
        for d in 0..3u32 {
            let expected: Vec<Sample> = trace.samples.iter().filter(|s| s.device == d).map(|s| s.sample).collect();
            let mut got = Vec::new();
            loop {
                match replay.sample(d) {
                    Ok(s) => got.push(s),
                    Err(SensorError::EndOfTrace) => break,
                    Err(e) => panic!("{e}"),
                }
            }
            prop_assert_eq!(got, expected);
        }
    }
}

#[test]
fn traces_built_in_memory_are_checked() {
    let good = Trace {
        meta: TraceMeta::new("nvml"),
        devices: vec![device(0), device(4)],
        samples: vec![
            TraceSample {
                device: 4,
                sample: power(5, 1, None),
            },
            TraceSample {
                device: 0,
                sample: power(1, 1, None),
            },
        ],
        ..Trace::default()
    };
    assert_eq!(good.validate(), Ok(()));

    // Sample 2 of device 4 goes back from 5 to 4: it would be line 1 (meta)
    // + 2 (devices) + 3 (third sample) = line 6.
    let mut back = good.clone();
    back.samples.push(TraceSample {
        device: 4,
        sample: power(4, 1, None),
    });
    let (line, field, _) = invalid_at(back.validate().map(|_| back.clone()));
    assert_eq!((line, field.as_deref()), (6, Some("t_ns")));
    assert!(ReplaySensor::from_trace(back.clone()).is_err());
    assert!(matches!(
        back.write(Vec::new()),
        Err(RecordError::TimeWentBack {
            device: 4,
            previous_ns: 5,
            t_ns: 4
        })
    ));

    let mut unknown = good.clone();
    unknown.samples.push(TraceSample {
        device: 9,
        sample: power(9, 1, None),
    });
    let (line, field, _) = invalid_at(unknown.validate().map(|_| unknown.clone()));
    assert_eq!((line, field.as_deref()), (6, Some("device")));

    let mut twice = good;
    twice.devices.push(device(0));
    // The third device line is line 4.
    let (line, field, _) = invalid_at(twice.validate().map(|_| twice.clone()));
    assert_eq!((line, field.as_deref()), (4, Some("index")));
}

#[test]
fn crlf_line_endings_are_accepted() {
    let text = std::fs::read_to_string(FIXTURE)
        .unwrap()
        .replace('\n', "\r\n");
    let unix = Trace::from_path(FIXTURE).unwrap();
    let dos = Trace::read(Cursor::new(text)).unwrap();
    assert_eq!(dos, unix);
    // 2 devices, 6 samples in the fixture.
    assert_eq!((dos.devices.len(), dos.samples.len()), (2, 6));
}

/// A last line cut short (a recorder killed while writing it) is left out
/// and noted; the same text in the middle of a trace is still an error.
#[test]
fn a_last_line_cut_short_is_left_out_with_a_note() {
    let whole = "{\"type\":\"meta\",\"format\":\"wattledger-trace/1\",\"source\":\"nvml\"}\n\
{\"type\":\"device\",\"index\":0,\"name\":\"g\",\"uuid\":\"GPU-0\",\"has_energy_counter\":false}\n\
{\"type\":\"sample\",\"device\":0,\"t_ns\":5,\"power_mw\":1000}\n";
    let cut = format!("{whole}{{\"type\":\"sample\",\"device\":0,\"t_");
    let trace = Trace::read(Cursor::new(cut.as_bytes())).unwrap();
    assert_eq!(trace.samples.len(), 1);
    assert_eq!(trace.truncated_line, Some(4));
    // Cut in the middle of a multi-byte character: still the last line.
    let mut bytes = whole.as_bytes().to_vec();
    bytes.extend_from_slice(b"{\"type\":\"device\",\"name\":\"\xC3");
    assert_eq!(
        Trace::read(Cursor::new(bytes)).unwrap().truncated_line,
        Some(4)
    );
    // With its `\n`, the line was written whole: a real error.
    let err = Trace::read(Cursor::new(format!("{cut}\n").as_bytes())).unwrap_err();
    assert!(
        matches!(err, TraceError::Invalid { line: 4, .. }),
        "{err:?}"
    );
    // A complete trace notes nothing.
    assert_eq!(
        Trace::read(Cursor::new(whole.as_bytes()))
            .unwrap()
            .truncated_line,
        None
    );
}

/// A `lost` line is read, written back in place, and must name a declared
/// device at a time not before its previous line.
#[test]
fn lost_lines_round_trip_and_are_checked() {
    let text = "{\"type\":\"meta\",\"format\":\"wattledger-trace/1\",\"source\":\"nvml\"}\n\
{\"type\":\"device\",\"index\":0,\"name\":\"g\",\"uuid\":\"GPU-0\",\"has_energy_counter\":false}\n\
{\"type\":\"sample\",\"device\":0,\"t_ns\":5,\"power_mw\":1000}\n\
{\"type\":\"lost\",\"device\":0,\"t_ns\":9}\n";
    let trace = Trace::read(Cursor::new(text.as_bytes())).unwrap();
    assert_eq!(trace.lost.len(), 1);
    assert_eq!((trace.lost[0].device, trace.lost[0].t_ns), (0, 9));
    let back = trace.write(Vec::new()).unwrap();
    let back_text = String::from_utf8(back).unwrap();
    assert!(back_text.ends_with("{\"type\":\"lost\",\"device\":0,\"t_ns\":9}\n"));
    assert_eq!(
        Trace::read(Cursor::new(back_text.as_bytes())).unwrap(),
        trace
    );
    let bad = text.replace("\"lost\",\"device\":0", "\"lost\",\"device\":3");
    let err = Trace::read(Cursor::new(bad.as_bytes())).unwrap_err();
    assert!(
        matches!(err, TraceError::Invalid { line: 4, .. }),
        "{err:?}"
    );
    let early = text.replace("\"t_ns\":9", "\"t_ns\":4");
    let err = Trace::read(Cursor::new(early.as_bytes())).unwrap_err();
    assert!(
        matches!(err, TraceError::Invalid { line: 4, .. }),
        "{err:?}"
    );
    // Replayed as a sensor: after its samples, the device is lost.
    let mut replay = ReplaySensor::from_trace(trace).unwrap();
    assert!(replay.sample(0).is_ok());
    assert_eq!(replay.sample(0), Err(SensorError::DeviceLost { device: 0 }));
}

#[test]
fn traces_without_a_clock_still_read() {
    // A trace written before `clock_unix_ns` existed: read, with no clock,
    // and written back without the field.
    let text = "{\"type\":\"meta\",\"format\":\"wattledger-trace/1\",\"source\":\"nvml\"}\n\
                {\"type\":\"device\",\"index\":0,\"name\":\"g\",\"uuid\":\"GPU-0\",\"has_energy_counter\":true}\n\
                {\"type\":\"sample\",\"device\":0,\"t_ns\":5,\"energy_mj\":1}\n";
    let trace = Trace::read(Cursor::new(text)).unwrap();
    assert_eq!(trace.meta.clock_unix_ns, None);
    let replay = ReplaySensor::from_trace(trace.clone()).unwrap();
    assert_eq!(replay.clock_unix_ns(), None);
    let back = String::from_utf8(trace.write(Vec::new()).unwrap()).unwrap();
    assert!(!back.contains("clock_unix_ns"), "{back}");
    // A clock that is not a u64 is refused with the field named.
    let bad = text.replace("\"nvml\"}", "\"nvml\",\"clock_unix_ns\":-4}");
    let (line, field, _) = invalid_at(Trace::read(Cursor::new(bad)));
    assert_eq!(line, 1);
    assert_eq!(field.as_deref(), Some("clock_unix_ns"));
}
