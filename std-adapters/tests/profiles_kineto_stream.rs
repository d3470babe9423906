//! The Kineto reader's streaming: a trace cut into reads at any place reads
//! the same, JSON faults are reported where (and in the words) serde_json
//! reports them for the whole text, and keys that need serde_json's checks
//! are still checked.

use std::io::{self, Read};

use wattledger_std::profiles::kineto::read_kineto;
use wattledger_std::profiles::{Profile, ProfileError, RecordKind};

/// A small trace with what could mislead a splitter: braces, brackets and
/// escaped quotes inside strings, a backslash at a string's end, nested
/// arrays and objects in `args`, a unicode escape in a name, a key spelled
/// with an escape, a non-ASCII key, and text before and after the events.
const TRACE: &str = r#"{"schemaVersion": 1, "distributedInfo": {"backend": "nccl", "ranks": [[0, 1], [2, {"x": "]"}]]},
"deviceProperties": [{"id": 0, "name": "NVIDIA A100-SXM4-40GB", "numSms": 108}],
"traceEvents": [
  {"ph": "X", "cat": "cpu_op", "name": "aten::mm {\"}\" ]", "pid": 1, "tid": 1, "ts": 10, "dur": 5,
   "args": {"External id": 7, "flops": 3000, "Input Dims": [[2, 3], [3, 4]], "note": "a\\"}},
  {"ph": "X", "cat": "kernel", "name": "gemm<{[\"]}>\u00e9", "pid": 0, "tid": 7, "ts": 11.5, "dur": 2.25,
   "args": {"External id": 7, "device": 0, "stream": 7, "grid": [4, 2, 1], "block": [128, 1, 1],
            "registers per thread": 32, "shared memory": 1024, "größe": {"a": [1, "}"]}}},
  {"ph": "X", "cat": "kernel", "na\u006de": "second", "pid": 0, "tid": 7, "ts": 20, "dur": 1,
   "args": {"device": 0, "stream": 7, "grid": [1, 1, 1], "block": [32, 1, 1]}},
  {"ph": "X", "cat": "gpu_memcpy", "name": "Memcpy HtoD", "pid": 0, "tid": 8, "ts": 9, "dur": 0.5,
   "args": {"device": 0, "stream": 8, "bytes": 4096}}
],
"traceName": "x]}\"{["}
"#;

/// A reader that gives its text in reads of the lengths in `steps`, in
/// turn, so the window meets the text cut at chosen places.
struct Reads<'a> {
    text: &'a [u8],
    steps: &'a [usize],
    turn: usize,
}

impl Read for Reads<'_> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let step = self.steps[self.turn % self.steps.len()].max(1);
        self.turn += 1;
        let n = step.min(self.text.len()).min(out.len());
        let (head, tail) = self.text.split_at(n);
        out[..n].copy_from_slice(head);
        self.text = tail;
        Ok(n)
    }
}

fn read_in(text: &[u8], steps: &[usize]) -> Result<Profile, ProfileError> {
    read_kineto(Reads {
        text,
        steps,
        turn: 0,
    })
}

#[test]
fn the_small_trace_reads_as_written() {
    let p = read_kineto(TRACE.as_bytes()).unwrap();
    let d = &p.devices[0];
    // Sorted by start: the memcpy (9 µs), the kernel at 11.5 µs, the one
    // at 20 µs; the cpu_op is not a record.
    assert_eq!(d.records.len(), 3);
    assert_eq!(d.records[0].kind, RecordKind::Memcpy);
    assert_eq!(d.records[0].bytes(), Some(4096));
    let k = &d.records[1];
    // Escapes resolved: `\"` and `\u00e9`.
    assert_eq!(p.name(k), "gemm<{[\"]}>é");
    assert_eq!((k.start_ns, k.end_ns), (11_500, 13_750));
    assert_eq!(k.grid, [4, 2, 1]);
    // The operator's 3000 FLOPs, its only kernel's.
    assert_eq!(k.flops(), Some(3000));
    // `na\u006de` is `name`: read through the checked path, not ignored.
    assert_eq!(p.name(&d.records[2]), "second");
    assert_eq!(d.properties.as_ref().unwrap().sm_count, Some(108));
}

#[test]
fn every_cut_of_the_text_into_reads_gives_the_same_profile() {
    let whole = read_kineto(TRACE.as_bytes()).unwrap();
    let text = TRACE.as_bytes();
    // Two reads, split at every byte.
    for at in 0..=text.len() {
        let p = read_in(text, &[at, usize::MAX]).unwrap();
        assert_eq!(p, whole, "split at {at}");
    }
    // Reads of 1 to 9 bytes: every event runs across many reads.
    for step in 1..10 {
        assert_eq!(read_in(text, &[step]).unwrap(), whole, "step {step}");
    }
    // Uneven reads.
    assert_eq!(read_in(text, &[3, 1, 7, 2, 11, 5]).unwrap(), whole);
}

/// serde_json's verdict on the whole text: its line, column and words.
///
/// Two verdicts: read as a `Value` (as the reader reads the trace's frame,
/// its events and their args) and skipped as `IgnoredAny` (as the reader
/// skips what it does not keep), which words a few faults differently
/// (`,}` is a trailing comma to the one, a key that is not a string to the
/// other). The reader's verdict must be one of them.
fn serde_faults(text: &[u8]) -> Option<[(usize, usize, String); 2]> {
    let verdict = |e: serde_json::Error| {
        let words = e.to_string();
        let words = match words.rfind(" at line ") {
            Some(cut) => words[..cut].to_string(),
            None => words,
        };
        (e.line(), e.column(), words)
    };
    let value = verdict(serde_json::from_slice::<serde_json::Value>(text).err()?);
    // Skipping checks less (not UTF-8, nor escapes); the `Value` verdict
    // stands then.
    let skipped = serde_json::from_slice::<serde::de::IgnoredAny>(text)
        .err()
        .map_or_else(|| value.clone(), verdict);
    Some([value, skipped])
}

/// serde_json's words for a value of the wrong type or shape (rather than
/// a fault in the syntax), and the reader's own.
const DATA_FAULTS: [&str; 6] = [
    "invalid type",
    "invalid value",
    "invalid length",
    "missing field",
    "duplicate field",
    "`traceEvents` appears twice",
];

/// A malformed text is refused with a fault serde_json finds in the whole
/// text, at the same line and column, however the text is cut into reads.
/// Or earlier: the reader expects a trace, not any JSON value, so a value
/// of the wrong type or shape ([`DATA_FAULTS`]) or a bad record may come
/// before the fault in the syntax; all reads must then agree.
fn check_fault(text: &[u8], what: &str, reads: &[&[usize]]) {
    let Some(verdicts) = serde_faults(text) else {
        return;
    };
    let [(line, column, words), _] = &verdicts;
    let (line, column) = (*line, *column);
    let whole = format!("{:?}", read_in(text, &[usize::MAX]));
    for &steps in reads {
        let got = read_in(text, steps);
        assert_eq!(format!("{got:?}"), whole, "{what}, reads {steps:?}");
        match got {
            Err(ProfileError::Json {
                line: l,
                column: c,
                message,
            }) if DATA_FAULTS.iter().any(|d| message.starts_with(d)) => {
                assert!((l, c) <= (line, column), "{what}: {message} after {words}");
            }
            // serde_json itself places this fault differently by how it
            // reads a string: at the character when it skips the string
            // (from a slice, as the reader skips what it does not keep),
            // after it when it keeps it (as for a `Value`).
            Err(ProfileError::Json {
                line: l,
                column: c,
                message,
            }) if message.starts_with("control character") => {
                // After the character: the next column, or the next line
                // after a newline.
                let after = [(l, c + 1), (l + 1, 0)];
                assert!(
                    (l, c) == (line, column) || after.contains(&(line, column)),
                    "{what}: ({l}, {c}) vs ({line}, {column})"
                );
            }
            Err(ProfileError::Json {
                line: l,
                column: c,
                message,
            }) => {
                assert!(
                    verdicts.iter().any(
                        |(vl, vc, vw)| (l, c) == (*vl, *vc) && message.starts_with(vw.as_str())
                    ),
                    "{what}, reads {steps:?}: ({l}, {c}) {message:?}, serde_json: {verdicts:?}"
                );
            }
            Err(ProfileError::Record { .. } | ProfileError::NoKernels) => {}
            other => panic!("{what}, reads {steps:?}: {other:?}, serde_json: {words}"),
        }
    }
}

#[test]
fn faults_are_reported_where_serde_json_finds_them() {
    let text = TRACE.as_bytes();
    // In one read, in reads of a byte, in uneven reads.
    let all: &[&[usize]] = &[&[usize::MAX], &[1], &[7, 3]];
    // (Each fault once more, in reads that end mid-value.)
    let one: &[&[usize]] = &[&[usize::MAX], &[5]];
    for at in 0..text.len() {
        // Cut short at every byte (whitespace at the end is no fault).
        check_fault(&text[..at], &format!("cut at {at}"), all);
        // Every byte dropped.
        let mut dropped = text.to_vec();
        dropped.remove(at);
        check_fault(&dropped, &format!("byte {at} dropped"), one);
        // A stray byte inserted before every byte.
        for stray in [b',', b']', b'}', b'"', b'x', b'{', b'\\', 0x01] {
            let mut inserted = text.to_vec();
            inserted.insert(at, stray);
            check_fault(&inserted, &format!("{stray:#x} inserted at {at}"), one);
        }
    }
    // What is not even an object or array, and text after the trace.
    for bad in [
        &b""[..],
        b"  ",
        b"nul",
        b"7",
        b"1.x",
        b"\"x\"",
        b"{} {}",
        b"[] x",
        b"{\"traceEvents\": []}]",
    ] {
        check_fault(bad, &String::from_utf8_lossy(bad), all);
    }
}

#[test]
fn a_fault_inside_an_event_names_it() {
    let text = br#"{"traceEvents": [{"cat": "cpu_op"}, {"cat": "kernel", "name": 1.5}]}"#;
    let e = read_kineto(&text[..]).unwrap_err();
    let ProfileError::Json { message, .. } = &e else {
        panic!("{e:?}");
    };
    assert!(message.contains("event 1 of traceEvents"), "{message}");
    assert!(
        message.starts_with("invalid type: floating point `1.5`"),
        "{message}"
    );
}

#[test]
fn keys_that_need_checking_are_checked() {
    // A raw control character in a key, a lone surrogate escape in one,
    // and a key that is not UTF-8: refused as serde_json refuses them,
    // whether the key is one the reader uses or not.
    let cases: [&[u8]; 4] = [
        b"{\"traceEvents\": [{\"cat\": \"cpu_op\", \"no\x01te\": 1}]}",
        b"{\"traceEvents\": [{\"cat\": \"cpu_op\", \"args\": {\"x\\ud800\": 1}}]}",
        b"{\"traceEvents\": [{\"cat\": \"cpu_op\", \"\xff\xfe\": 1}]}",
        b"{\"traceEvents\": [{\"cat\": \"cpu_op\", \"na\\u006d\x02e\": 1}]}",
    ];
    for text in cases {
        let [(line, column, words), _] = serde_faults(text).unwrap();
        match read_kineto(text) {
            Err(ProfileError::Json {
                line: l,
                column: c,
                message,
            }) => {
                assert_eq!((l, c), (line, column), "{message}");
                assert!(message.starts_with(&words), "{message} vs {words}");
            }
            other => panic!("{}: {other:?}", String::from_utf8_lossy(text)),
        }
    }
}
