//! PyTorch profiler (Kineto) Chrome-trace JSON, plain or gzip.
//!
//! What is read, from a top-level object (or a bare array of events):
//!
//! - `traceEvents`: events whose `cat` is `kernel`, `gpu_memcpy` or
//!   `gpu_memset` (older PyTorch: `Kernel`, `Memcpy`, `Memset`) become
//!   [`KernelRecord`]s. From `args`: `device` (else the event's `pid`),
//!   `stream` (else `tid`), `grid` and `block` (three integers each,
//!   required for kernels), `registers per thread` and `shared memory`
//!   (zero when absent), `blocks per SM`, `est. achieved occupancy %`,
//!   `External id`, and `bytes` for copies. `ts` and `dur` are required.
//! - Any other event with `args.flops` and `args.External id` (the operator
//!   events of a run profiled `with_flops=True`) gives its FLOPs to the
//!   kernels with the same `External id`, shared in proportion to their
//!   durations (evenly when all are zero-length); the rounding remainder goes
//!   to the longest (first of equals), so the shares add up exactly.
//! - `deviceProperties`: the GPUs' properties, matched to kernels by `id`.
//! - `baseTimeNanoseconds`: when present, `ts` counts from it.
//!
//! Events need not be sorted. The JSON is streamed: the text passes through
//! a window of bounded size, cut into whole events
//! (`profiles::json_split`), and each event is parsed from its
//! own slice with a `serde` visitor that borrows its strings. Only the
//! compact records, the interned names and the FLOPs of operators that
//! recorded some are kept, so memory follows the kernels kept, not the size
//! of the file. (A top-level value other than an array is read whole: in a
//! Kineto trace those are a few small fields.)
//!
//! Errors name the event (its index in `traceEvents` and its name): a kernel
//! without `grid`, a negative `dur`, a field of the wrong type or out of
//! range. JSON syntax errors give the line and column in the decompressed
//! text, and the event they are in.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::marker::PhantomData;
use std::num::NonZeroU64;
use std::path::Path;
use std::sync::mpsc;

use flate2::bufread::MultiGzDecoder;
use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;

use super::json_split::{Cut, Position, Window, scalar_len};
use super::{
    DeviceProperties, Interner, KernelRecord, Location, Profile, ProfileError, RecordKind,
    RecordProblem, TraceFormat, assemble,
};

/// Reads a Kineto trace file (gzip or plain JSON).
pub fn read_kineto_file(path: &Path) -> Result<Profile, ProfileError> {
    read_kineto(File::open(path)?)
}

/// Reads a Kineto trace from any reader; gzip is recognised by its magic
/// bytes (`1f 8b`), so the file name does not matter.
///
/// A gzip trace is inflated on a second thread while this one parses: the
/// two take comparable time on a large trace, so overlapping them cuts the
/// wall time by up to the inflate's share.
pub fn read_kineto<R: Read + Send>(reader: R) -> Result<Profile, ProfileError> {
    let mut buffered = BufReader::with_capacity(1 << 16, reader);
    let gzip = {
        let head = buffered.fill_buf()?;
        head.len() >= 2 && head[0] == 0x1f && head[1] == 0x8b
    };
    if !gzip {
        return read_json(buffered);
    }
    std::thread::scope(|scope| {
        let (sender, receiver) = mpsc::sync_channel(CHUNKS_IN_FLIGHT);
        scope.spawn(move || inflate(MultiGzDecoder::new(buffered), &sender));
        // `read_json` consumes the receiver: when it returns (early, on a
        // bad event, too) the inflating thread's next send fails and it
        // stops, so the scope does not wait for the rest of the file.
        read_json(ChunkReader {
            receiver,
            chunk: Vec::new(),
            at: 0,
        })
    })
}

/// Inflated bytes handed from one thread to the other at a time.
const CHUNK_BYTES: usize = 1 << 18;
/// Chunks the inflating thread may run ahead of the parser (bounds memory).
const CHUNKS_IN_FLIGHT: usize = 8;

/// Inflates `decoder` into chunks until the end, an error (sent on), or the
/// parser hanging up.
fn inflate<R: Read>(mut decoder: R, sender: &mpsc::SyncSender<std::io::Result<Vec<u8>>>) {
    loop {
        let mut chunk = vec![0u8; CHUNK_BYTES];
        let mut filled = 0;
        let result = loop {
            match decoder.read(chunk.get_mut(filled..).unwrap_or_default()) {
                Ok(0) => break Ok(()),
                Ok(n) => {
                    filled += n;
                    if filled == chunk.len() {
                        break Ok(());
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => break Err(e),
            }
        };
        chunk.truncate(filled);
        let done = filled < CHUNK_BYTES;
        if filled > 0 && sender.send(Ok(chunk)).is_err() {
            return;
        }
        match result {
            Err(e) => {
                // The parser may have hung up; nothing more to do then.
                let _ = sender.send(Err(e));
                return;
            }
            Ok(()) if done => return,
            Ok(()) => {}
        }
    }
}

/// The parser's side of the channel: a `Read` over the inflated chunks;
/// end of file when the inflating thread has finished.
struct ChunkReader {
    receiver: mpsc::Receiver<std::io::Result<Vec<u8>>>,
    chunk: Vec<u8>,
    at: usize,
}

impl Read for ChunkReader {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        while self.at >= self.chunk.len() {
            match self.receiver.recv() {
                Ok(Ok(chunk)) => {
                    self.chunk = chunk;
                    self.at = 0;
                }
                Ok(Err(e)) => return Err(e),
                // The sender is gone: the inflate reached the end.
                Err(mpsc::RecvError) => return Ok(0),
            }
        }
        let rest = self.chunk.get(self.at..).unwrap_or_default();
        let n = rest.len().min(out.len());
        out[..n].copy_from_slice(&rest[..n]);
        self.at += n;
        Ok(n)
    }
}

fn read_json<R: Read>(reader: R) -> Result<Profile, ProfileError> {
    let mut state = State::default();
    read_top(&mut Window::new(reader), &mut state)?;
    state.finish()
}

/// A fault in the JSON at `at`, in serde_json's words.
fn syntax(at: Position, message: &str) -> ProfileError {
    ProfileError::Json {
        line: at.line,
        column: at.column,
        message: message.to_owned(),
    }
}

/// A serde_json error found in a slice that starts `offset` bytes into the
/// window, at its place in the whole text; `context` says which value
/// (e.g. `event 12 of traceEvents`).
fn located<R: Read>(
    input: &Window<R>,
    offset: usize,
    e: &serde_json::Error,
    context: Option<&dyn fmt::Display>,
) -> ProfileError {
    // serde_json appends " at line L column C"; the position has fields.
    let text = e.to_string();
    let mut message = match text.rfind(" at line ") {
        Some(cut) => text[..cut].to_owned(),
        None => text,
    };
    if let Some(context) = context {
        message = format!("{message} (in {context})");
    }
    let at = input.locate(offset, e);
    ProfileError::Json {
        line: at.line,
        column: at.column,
        message,
    }
}

/// Parses a whole value with `seed`, as serde_json would parse it in place.
fn parse<'de, S: DeserializeSeed<'de>>(
    slice: &'de [u8],
    seed: S,
) -> Result<S::Value, serde_json::Error> {
    let mut de = serde_json::Deserializer::from_slice(slice);
    let value = seed.deserialize(&mut de)?;
    de.end()?;
    Ok(value)
}

/// Cuts the next value and parses it with `seed` (a value read whole: one
/// other than the arrays the reader walks element by element).
///
/// An object, array or string is parsed from exactly its bytes: serde_json
/// finds any fault in it inside them. A number or literal is parsed from
/// the window with what follows it (the cut reads on past its end), since
/// serde_json words a fault in one by the byte after it (`1.x`, `tru,`).
fn parse_next<R: Read, S: for<'de> DeserializeSeed<'de, Value = V>, V>(
    input: &mut Window<R>,
    seed: S,
) -> Result<V, ProfileError> {
    let cut = input.cut()?;
    let delimited = matches!(input.rest().first(), Some(b'{' | b'[' | b'"'));
    let (parsed, len) = if delimited {
        let slice = input.rest().get(..cut.len()).unwrap_or_default();
        (parse(slice, seed), cut.len())
    } else {
        let text = input.rest();
        let mut de = serde_json::Deserializer::from_slice(text);
        (seed.deserialize(&mut de), scalar_len(text))
    };
    let value = match parsed {
        Ok(v) => v,
        Err(e) => return Err(located(input, 0, &e, None)),
    };
    if let Cut::Truncated(n) = cut {
        // serde_json finds the end of a value cut short; in case it did
        // not, this says the same.
        return Err(syntax(input.position(n), "EOF while parsing a value"));
    }
    input.consume(len);
    Ok(value)
}

/// The trace: an object with `traceEvents`, or a bare array of events,
/// then nothing but whitespace.
fn read_top<R: Read>(input: &mut Window<R>, state: &mut State) -> Result<(), ProfileError> {
    match input.peek()? {
        None => return Err(syntax(input.position(0), "EOF while parsing a value")),
        Some(b'{') => read_object(input, state)?,
        Some(b'[') => {
            state.saw_events = true;
            read_events(input, state)?;
        }
        Some(_) => {
            // Not a trace: serde_json says what it is instead.
            parse_next(
                input,
                Expected("a trace: an object with `traceEvents`, or an array of events"),
            )?;
        }
    }
    match input.peek()? {
        None => Ok(()),
        Some(_) => Err(syntax(input.at_next(), "trailing characters")),
    }
}

/// The top-level object, whose `{` is next: `traceEvents` is walked event
/// by event, any other array element by element, other values read whole.
fn read_object<R: Read>(input: &mut Window<R>, state: &mut State) -> Result<(), ProfileError> {
    input.consume(1);
    let mut first = true;
    loop {
        // serde_json's order of checks, so faults get its words.
        let peek = match input.peek()? {
            Some(b'}') => {
                input.consume(1);
                return Ok(());
            }
            Some(b',') if !first => {
                input.consume(1);
                input.peek()?
            }
            Some(b) if first => Some(b),
            Some(_) => return Err(syntax(input.at_next(), "expected `,` or `}`")),
            None => return Err(syntax(input.at_next(), "EOF while parsing an object")),
        };
        first = false;
        match peek {
            Some(b'"') => {}
            Some(b'}') => return Err(syntax(input.at_next(), "trailing comma")),
            Some(_) => return Err(syntax(input.at_next(), "key must be a string")),
            None => return Err(syntax(input.at_next(), "EOF while parsing a value")),
        }
        let key = parse_next(input, KeySeed { strict: true })?;
        if key == Key::TraceEvents && state.saw_events {
            return Err(syntax(input.position(0), "`traceEvents` appears twice"));
        }
        match input.peek()? {
            Some(b':') => input.consume(1),
            Some(_) => return Err(syntax(input.at_next(), "expected `:`")),
            None => return Err(syntax(input.at_next(), "EOF while parsing an object")),
        }
        let value = input.peek()?;
        if value.is_none() {
            return Err(syntax(input.at_next(), "EOF while parsing a value"));
        }
        match key {
            Key::TraceEvents => {
                state.saw_events = true;
                if value == Some(b'[') {
                    read_events(input, state)?;
                } else {
                    parse_next(input, ExpectedArray("an array of trace events"))?;
                }
            }
            Key::DeviceProperties => {
                state.properties = parse_next(input, PhantomData)?;
            }
            Key::BaseTime => match parse_next(input, PhantomData::<Arg>)? {
                Arg::Int(v) => state.base_ns = v,
                _ => {
                    return Err(syntax(
                        input.position(0),
                        "`baseTimeNanoseconds` is not an integer",
                    ));
                }
            },
            // Checked, not kept; an array (the only large value a trace
            // has besides its events) element by element.
            _ if value == Some(b'[') => {
                for_each_element(input, "element", &"a top-level array", |_, text| {
                    let (IgnoredAny, len) = parse_first(text).map_err(Fault::Json)?;
                    Ok(len)
                })?;
            }
            _ => {
                parse_next(input, PhantomData::<IgnoredAny>)?;
            }
        }
    }
}

/// `traceEvents`, whose `[` is next: each event is parsed in place and
/// filed.
fn read_events<R: Read>(input: &mut Window<R>, state: &mut State) -> Result<(), ProfileError> {
    for_each_element(input, "event", &"traceEvents", |index, text| {
        // Raw keys first; an event with a key that needs checking, or
        // that is refused (whose error must be serde_json's, at its first
        // fault), again with checked keys.
        let (event, len) = match parse_first::<Event<'_>>(text) {
            Ok((event, len)) if !event.unchecked => (event, len),
            _ => {
                let (Strict(event), len) = parse_first(text).map_err(Fault::Json)?;
                (event, len)
            }
        };
        state.end_event(index, &event).map_err(Fault::Record)?;
        Ok(len)
    })
}

/// The first value of `text` (which starts with it) and the bytes it
/// takes; what follows it is not parsed, but serde_json may look at the
/// byte after a number or literal, as in the whole text.
fn parse_first<'de, T: Deserialize<'de>>(text: &'de [u8]) -> Result<(T, usize), serde_json::Error> {
    if !matches!(text.first(), Some(b'{' | b'[' | b'"')) {
        // serde_json's stream would refuse `1x` as trailing characters;
        // in an array it is a missing comma, which the walker reports.
        let mut de = serde_json::Deserializer::from_slice(text);
        let value = T::deserialize(&mut de)?;
        return Ok((value, scalar_len(text)));
    }
    let mut values = serde_json::Deserializer::from_slice(text).into_iter::<T>();
    match values.next() {
        Some(Ok(value)) => Ok((value, values.byte_offset())),
        Some(Err(e)) => Err(e),
        // Only whitespace; the walker never hands that over.
        None => Err(de::Error::custom("EOF while parsing a value")),
    }
}

/// Why an element was refused.
enum Fault {
    /// serde_json's error, in the element's text.
    Json(serde_json::Error),
    /// The element is well-formed but not a valid record.
    Record(ProfileError),
}

/// Walks the array whose `[` is next, handing each element to `each` with
/// its index. `each` parses the first value of the text it is given and
/// says how many bytes it took. Faults inside an element name it: `{what}
/// {index} of {of}`.
///
/// An object, array or string element is first parsed in place, from the
/// window's text, without looking for its end: serde_json finds the end
/// itself, so the text is read once. Only where that fails before the end of
/// the text (an element running past the window, which happens once per
/// block read, or a bad one) is the element cut first ([`Window::cut`], which
/// reads on to its end) and parsed again from exactly its bytes, for
/// serde_json's verdict on the element as a whole. A number or literal is
/// always cut first: it could end with the window and parse as a shorter one.
fn for_each_element<R: Read>(
    input: &mut Window<R>,
    what: &str,
    of: &dyn fmt::Display,
    mut each: impl FnMut(usize, &[u8]) -> Result<usize, Fault>,
) -> Result<(), ProfileError> {
    input.consume(1);
    let mut index = 0usize;
    loop {
        // serde_json's order of checks, so faults get its words.
        let peek = match input.peek()? {
            Some(b']') => {
                input.consume(1);
                return Ok(());
            }
            Some(b',') if index > 0 => {
                input.consume(1);
                input.peek()?
            }
            Some(b) if index == 0 => Some(b),
            Some(_) => return Err(syntax(input.at_next(), "expected `,` or `]`")),
            None => return Err(syntax(input.at_next(), "EOF while parsing a list")),
        };
        let delimited = match peek {
            Some(b']') => return Err(syntax(input.at_next(), "trailing comma")),
            Some(b) => matches!(b, b'{' | b'[' | b'"'),
            None => return Err(syntax(input.at_next(), "EOF while parsing a value")),
        };
        let fault = if delimited {
            match each(index, input.rest()) {
                Ok(len) => {
                    input.consume(len);
                    index += 1;
                    continue;
                }
                // Filed or refused: either way the element was whole.
                Err(Fault::Record(e)) => return Err(e),
                Err(Fault::Json(e)) => Some(e),
            }
        } else {
            None
        };
        let fault = match fault {
            // At the end of the text the element cannot run on.
            Some(e) if input.at_end() => Some(e),
            _ => {
                // The element is then whole in the window, followed by the
                // byte after it (or the end of the text).
                let cut = input.cut()?;
                match each(index, input.rest()) {
                    Ok(len) if cut.is_whole() => {
                        input.consume(len);
                        index += 1;
                        continue;
                    }
                    // serde_json finds the end of an element cut short; in
                    // case it did not, this says the same.
                    Ok(_) => {
                        return Err(syntax(
                            input.position(cut.len()),
                            "EOF while parsing a list",
                        ));
                    }
                    Err(Fault::Record(e)) => return Err(e),
                    Err(Fault::Json(e)) => Some(e),
                }
            }
        };
        if let Some(e) = fault {
            let context = format!("{what} {index} of {of}");
            return Err(located(input, 0, &e, Some(&context)));
        }
    }
}

/// What the reader keeps between events.
#[derive(Default)]
struct State {
    names: Interner,
    /// Device id → its records, in trace order until `finish`.
    devices: BTreeMap<u32, Vec<KernelRecord>>,
    /// `External id` → FLOPs, from operator events that recorded `flops`.
    op_flops: HashMap<u64, OpShare>,
    properties: Vec<KinetoDeviceProperties>,
    base_ns: i128,
    saw_events: bool,
}

/// `args` values, typed only once the event's category is known.
///
/// An event holds a dozen of these and is moved a few times as it is read,
/// so they are kept small (32 bytes): a triple holds `i64`s, and one with an
/// integer beyond them (only a `u64` above 2^63 can be) is `Other`, refused
/// as not three integers (no field a triple is read for allows such values).
#[derive(Debug, Clone, Copy, PartialEq)]
enum Arg {
    Int(i128),
    Float(f64),
    Triple([i64; 3]),
    /// Any other JSON value (string, object, array of another shape, …).
    Other,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Category {
    Kernel,
    Memcpy,
    Memset,
    Other,
}

/// One event as read from its slice: the name and times are borrowed from
/// the text (a name with escapes is the only one copied).
#[derive(Default)]
struct Event<'de> {
    category: Option<Category>,
    name: Cow<'de, str>,
    pid: Option<Arg>,
    tid: Option<Arg>,
    ts: Option<&'de RawValue>,
    dur: Option<&'de RawValue>,
    args: Args,
    /// Whether a time or id was skipped, `cat` being something else then.
    skipped: bool,
    /// Whether a key was read unchecked ([`Key::Unchecked`]).
    unchecked: bool,
}

#[derive(Default)]
struct Args {
    device: Option<Arg>,
    stream: Option<Arg>,
    grid: Option<Arg>,
    block: Option<Arg>,
    registers: Option<Arg>,
    shared_memory: Option<Arg>,
    blocks_per_sm: Option<Arg>,
    occupancy: Option<Arg>,
    external_id: Option<Arg>,
    flops: Option<Arg>,
    bytes: Option<Arg>,
}

/// The `deviceProperties` entries Kineto writes (CUDA's `cudaDeviceProp`).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct KinetoDeviceProperties {
    id: u32,
    #[serde(default)]
    name: String,
    total_global_mem: Option<u64>,
    compute_major: Option<u32>,
    compute_minor: Option<u32>,
    max_threads_per_block: Option<u32>,
    max_threads_per_multiprocessor: Option<u32>,
    regs_per_block: Option<u32>,
    regs_per_multiprocessor: Option<u32>,
    warp_size: Option<u32>,
    shared_mem_per_block: Option<u32>,
    shared_mem_per_multiprocessor: Option<u32>,
    num_sms: Option<u32>,
    shared_mem_per_block_optin: Option<u32>,
}

impl From<KinetoDeviceProperties> for DeviceProperties {
    fn from(p: KinetoDeviceProperties) -> Self {
        DeviceProperties {
            name: p.name,
            sm_count: p.num_sms,
            compute_capability: p.compute_major.zip(p.compute_minor),
            total_memory_bytes: p.total_global_mem,
            warp_size: p.warp_size,
            max_threads_per_block: p.max_threads_per_block,
            max_threads_per_sm: p.max_threads_per_multiprocessor,
            max_warps_per_sm: None,
            max_blocks_per_sm: None,
            registers_per_block: p.regs_per_block,
            registers_per_sm: p.regs_per_multiprocessor,
            shared_memory_per_block: p.shared_mem_per_block,
            shared_memory_per_block_optin: p.shared_mem_per_block_optin,
            shared_memory_per_sm: p.shared_mem_per_multiprocessor,
        }
    }
}

impl State {
    /// Files the event just read; `Err` stops the parse.
    fn end_event(&mut self, index: usize, event: &Event<'_>) -> Result<(), ProfileError> {
        let kind = match event.category {
            Some(Category::Kernel) => RecordKind::Kernel,
            Some(Category::Memcpy) => RecordKind::Memcpy,
            Some(Category::Memset) => RecordKind::Memset,
            Some(Category::Other) | None => {
                self.note_operator(&event.args);
                return Ok(());
            }
        };
        if event.skipped {
            // `cat` given twice, a record's after another: the fields read
            // in between were skipped.
            return Err(ProfileError::record(
                Location::Event(index),
                &event.name,
                RecordProblem::InvalidField {
                    field: "cat",
                    reason: "appears twice".to_owned(),
                },
            ));
        }
        let (device, record) = event.to_record(index, kind, &mut self.names)?;
        self.devices.entry(device).or_default().push(record);
        Ok(())
    }

    /// Keeps an operator's FLOPs for the kernels it launched.
    fn note_operator(&mut self, args: &Args) {
        let (Some(Arg::Int(ext)), Some(flops)) = (args.external_id, args.flops) else {
            return;
        };
        let flops = match flops {
            Arg::Int(v) => u64::try_from(v).ok(),
            Arg::Float(v) if v.is_finite() && v >= 0.0 => Some(v.round() as u64),
            _ => None,
        };
        if let (Ok(ext), Some(flops)) = (u64::try_from(ext), flops)
            && flops > 0
        {
            self.op_flops.insert(
                ext,
                OpShare {
                    flops,
                    kernels: 0,
                    total_ns: 0,
                    given: 0,
                    longest_device: 0,
                    longest_index: 0,
                    longest_ns: 0,
                },
            );
        }
    }

    fn finish(mut self) -> Result<Profile, ProfileError> {
        if !self.saw_events {
            return Err(ProfileError::NotATrace(
                "no `traceEvents` array (is this a PyTorch profiler / Chrome trace?)".into(),
            ));
        }
        let has_kernel = self
            .devices
            .values()
            .flatten()
            .any(|r| r.kind == RecordKind::Kernel);
        if !has_kernel {
            return Err(ProfileError::NoKernels);
        }
        self.resolve_flops();
        let base = self.base_ns;
        if base != 0 {
            for records in self.devices.values_mut() {
                for r in records.iter_mut() {
                    let shift = |t: i64| i64::try_from(i128::from(t) + base).ok();
                    match (shift(r.start_ns), shift(r.end_ns)) {
                        (Some(s), Some(e)) => {
                            r.start_ns = s;
                            r.end_ns = e;
                        }
                        _ => {
                            return Err(ProfileError::NotATrace(
                                "`baseTimeNanoseconds` puts events outside ±292 years".into(),
                            ));
                        }
                    }
                }
            }
        }
        let mut properties: HashMap<u32, DeviceProperties> = HashMap::new();
        for p in self.properties {
            properties.entry(p.id).or_insert_with(|| p.into());
        }
        Ok(assemble(
            TraceFormat::Kineto,
            self.names,
            self.devices,
            properties,
        ))
    }

    /// Replaces the `External id` parked in each kernel's `work` by its
    /// share of the operator's FLOPs (see the module documentation).
    fn resolve_flops(&mut self) {
        let pending = |r: &KernelRecord| match (r.kind, r.work) {
            (RecordKind::Kernel, Some(w)) => Some(w.get() - 1),
            _ => None,
        };
        let ops = &mut self.op_flops;
        if !ops.is_empty() {
            // Each operator's kernels: their number, summed duration, and
            // the longest (first of equals).
            for (&device, records) in &self.devices {
                for (i, r) in records.iter().enumerate() {
                    let Some(op) = pending(r).and_then(|ext| ops.get_mut(&ext)) else {
                        continue;
                    };
                    let d = r.duration_ns();
                    if op.kernels == 0 || d > op.longest_ns {
                        (op.longest_device, op.longest_index, op.longest_ns) = (device, i, d);
                    }
                    op.kernels += 1;
                    op.total_ns = op.total_ns.saturating_add(d.unsigned_abs());
                }
            }
        }
        for r in self.devices.values_mut().flatten() {
            if r.kind != RecordKind::Kernel {
                continue;
            }
            let op = pending(r).and_then(|ext| ops.get_mut(&ext));
            r.work = None;
            let Some(op) = op else { continue };
            let share = match (u128::from(op.flops) * u128::from(r.duration_ns().unsigned_abs()))
                .checked_div(u128::from(op.total_ns))
            {
                Some(share) => share as u64,
                // All zero-length: an even split.
                None => op.flops / op.kernels,
            };
            op.given += share;
            r.work = NonZeroU64::new(share);
        }
        for op in ops.values() {
            let rest = op.flops.saturating_sub(op.given);
            if op.kernels == 0 || rest == 0 {
                continue;
            }
            let longest = self
                .devices
                .get_mut(&op.longest_device)
                .and_then(|v| v.get_mut(op.longest_index));
            if let Some(r) = longest {
                r.work = NonZeroU64::new(r.work.map_or(0, NonZeroU64::get) + rest);
            }
        }
    }
}

/// An operator that recorded FLOPs, and what its kernels have been given.
struct OpShare {
    flops: u64,
    kernels: u64,
    total_ns: u64,
    given: u64,
    longest_device: u32,
    longest_index: usize,
    longest_ns: i64,
}

impl Event<'_> {
    fn to_record(
        &self,
        index: usize,
        kind: RecordKind,
        names: &mut Interner,
    ) -> Result<(u32, KernelRecord), ProfileError> {
        let at = Location::Event(index);
        let bad = |problem| ProfileError::record(at.clone(), &self.name, problem);
        let invalid = |field, reason: &str| {
            bad(RecordProblem::InvalidField {
                field,
                reason: reason.to_owned(),
            })
        };
        let time = |raw: Option<&RawValue>, field| -> Result<i128, ProfileError> {
            let raw = raw.ok_or_else(|| bad(RecordProblem::MissingField(field)))?;
            micros_to_ns(raw.get())
                .ok_or_else(|| invalid(field, "is not a number of microseconds within ±292 years"))
        };
        let ts = time(self.ts, "ts")?;
        let dur = time(self.dur, "dur")?;
        if dur < 0 {
            return Err(bad(RecordProblem::NegativeDuration { duration_ns: dur }));
        }
        let start_ns = i64::try_from(ts).map_err(|_| invalid("ts", "is out of range"))?;
        let end_ns = i64::try_from(ts + dur).map_err(|_| invalid("dur", "is out of range"))?;

        let int = |value: Option<Arg>, field: &'static str| -> Result<Option<i128>, ProfileError> {
            match value {
                None => Ok(None),
                Some(Arg::Int(v)) => Ok(Some(v)),
                Some(Arg::Float(v)) if v.fract() == 0.0 && v.abs() < 1e30 => Ok(Some(v as i128)),
                Some(_) => Err(invalid(field, "is not an integer")),
            }
        };
        let ranged = |v: i128, field: &'static str, max: i128| -> Result<i128, ProfileError> {
            if (0..=max).contains(&v) {
                Ok(v)
            } else {
                Err(invalid(field, &format!("is {v}, outside 0..={max}")))
            }
        };
        let a = &self.args;
        let device = match int(a.device, "device")? {
            Some(d) => d,
            None => {
                int(self.pid, "pid")?.ok_or_else(|| bad(RecordProblem::MissingField("device")))?
            }
        };
        let device = ranged(device, "device", u32::MAX.into())? as u32;
        let stream = match int(a.stream, "stream")? {
            Some(s) => s,
            None => {
                int(self.tid, "tid")?.ok_or_else(|| bad(RecordProblem::MissingField("stream")))?
            }
        };
        let stream = ranged(stream, "stream", u32::MAX.into())? as u32;
        let float = |value: Option<Arg>, field| -> Result<f32, ProfileError> {
            match value {
                None => Ok(f32::NAN),
                Some(Arg::Int(v)) => Ok(v as f32),
                Some(Arg::Float(v)) if v.is_finite() && v >= 0.0 => Ok(v as f32),
                Some(_) => Err(invalid(field, "is not a non-negative number")),
            }
        };

        let name = names
            .intern(&self.name)
            .ok_or_else(|| invalid("name", "is past 2^32 distinct names"))?;
        let mut record = KernelRecord::bare(kind, start_ns, end_ns, name, stream);
        match kind {
            RecordKind::Kernel => {
                let dims =
                    |value: Option<Arg>, field, max: i64| -> Result<[i64; 3], ProfileError> {
                        match value {
                            None => Err(bad(RecordProblem::MissingField(field))),
                            Some(Arg::Triple(d)) => {
                                for v in d {
                                    if !(1..=max).contains(&v) {
                                        return Err(invalid(
                                            field,
                                            &format!("has {v}, outside 1..={max}"),
                                        ));
                                    }
                                }
                                Ok(d)
                            }
                            Some(_) => Err(invalid(field, "is not three integers")),
                        }
                    };
                let grid = dims(a.grid, "grid", u32::MAX.into())?;
                let block = dims(a.block, "block", u16::MAX.into())?;
                record.grid = grid.map(|v| v as u32);
                record.block = block.map(|v| v as u16);
                let regs = int(a.registers, "registers per thread")?.unwrap_or(0);
                record.registers_per_thread = ranged(regs, "registers per thread", 255)? as u8;
                let smem = int(a.shared_memory, "shared memory")?.unwrap_or(0);
                record.shared_memory_bytes = ranged(smem, "shared memory", u32::MAX.into())? as u32;
                record.blocks_per_sm_recorded = float(a.blocks_per_sm, "blocks per SM")?;
                record.occupancy_pct_recorded = float(a.occupancy, "est. achieved occupancy %")?;
                // Park the External id (+1, so that 0 fits) until the
                // operators' FLOPs are known.
                if let Some(ext) = int(a.external_id, "External id")? {
                    record.work = u64::try_from(ext)
                        .ok()
                        .and_then(|e| e.checked_add(1))
                        .and_then(NonZeroU64::new);
                }
            }
            RecordKind::Memcpy | RecordKind::Memset => {
                if let Some(bytes) = int(a.bytes, "bytes")? {
                    record.work = NonZeroU64::new(ranged(bytes, "bytes", u64::MAX.into())? as u64);
                }
            }
        }
        Ok((device, record))
    }
}

/// Decimal microseconds (`123`, `-4.5`, `1.2e3`) to nanoseconds, exactly,
/// rounding below the nanosecond half away from zero. `None` when not a
/// JSON number or beyond ±10^30 ns.
fn micros_to_ns(text: &str) -> Option<i128> {
    plain_micros_to_ns(text).or_else(|| any_micros_to_ns(text))
}

/// [`micros_to_ns`] for what Kineto writes (two numbers in each of a
/// trace's events): at most 19 digits, at most 3 of them after the point,
/// no exponent. The digits fit a `u64` and the result is exact without
/// rounding; `None` for anything else.
fn plain_micros_to_ns(text: &str) -> Option<i128> {
    let (negative, digits) = match text.as_bytes() {
        [b'-', rest @ ..] => (true, rest),
        rest => (false, rest),
    };
    // 19 digits and a point.
    if digits.is_empty() || digits.len() > 20 {
        return None;
    }
    let mut mantissa: u64 = 0;
    // Digits after the point, once there is one.
    let mut decimals: Option<u32> = None;
    for &c in digits {
        match c {
            b'0'..=b'9' => {
                mantissa = mantissa * 10 + u64::from(c - b'0');
                if let Some(d) = decimals.as_mut() {
                    *d += 1;
                }
            }
            b'.' if decimals.is_none() => decimals = Some(0),
            _ => return None,
        }
    }
    let decimals = decimals.unwrap_or(0);
    let point = usize::from(digits.contains(&b'.'));
    if decimals > 3 || digits.len() - point > 19 || digits == b"." {
        return None;
    }
    // 19 digits or fewer: below 10^19, so below 10^22 once scaled.
    let value = i128::from(mantissa) * 10i128.pow(3 - decimals);
    Some(if negative { -value } else { value })
}

/// [`micros_to_ns`] for any JSON number.
fn any_micros_to_ns(text: &str) -> Option<i128> {
    let bytes = text.as_bytes();
    let mut i = 0;
    let negative = bytes.first() == Some(&b'-');
    if negative {
        i += 1;
    }
    let mut mantissa: i128 = 0;
    let mut significant = 0usize;
    let mut any_digit = false;
    let mut scale: i64 = 3; // microseconds to nanoseconds
    let mut seen_point = false;
    while let Some(&c) = bytes.get(i) {
        match c {
            b'0'..=b'9' => {
                any_digit = true;
                // Past 36 significant digits (more than i128 holds), a digit
                // only moves the scale; it cannot change the rounded result
                // of anything within range.
                if significant < 36 {
                    mantissa = mantissa * 10 + i128::from(c - b'0');
                    if mantissa != 0 {
                        significant += 1;
                    }
                    if seen_point {
                        scale -= 1;
                    }
                } else if !seen_point {
                    scale += 1;
                }
            }
            b'.' if !seen_point => seen_point = true,
            _ => break,
        }
        i += 1;
    }
    if !any_digit {
        return None;
    }
    if let Some(&(b'e' | b'E')) = bytes.get(i) {
        i += 1;
        let exp: i64 = std::str::from_utf8(bytes.get(i..)?)
            .ok()?
            .trim_start_matches('+')
            .parse()
            .ok()?;
        scale = scale.checked_add(exp)?;
        i = bytes.len();
    }
    if i != bytes.len() {
        return None;
    }
    let value = if scale >= 0 {
        if mantissa != 0 && scale > 30 {
            return None;
        }
        mantissa.checked_mul(10i128.checked_pow(scale as u32)?)?
    } else if scale < -38 {
        0
    } else {
        let div = 10i128.pow((-scale) as u32);
        let (q, r) = (mantissa / div, mantissa % div);
        // The magnitude is rounded, so rounding up is away from zero.
        if r >= div / 2 { q + 1 } else { q }
    };
    if value.unsigned_abs() > 10u128.pow(30) {
        return None;
    }
    Some(if negative { -value } else { value })
}

// ----- the streaming visitors -----

/// Refuses any value, in serde_json's words, saying what was expected: for
/// a value of the wrong kind where the reader walks an object or array.
/// `ExpectedArray` asks serde_json for a sequence, as the reader once did
/// for `traceEvents` (serde_json places the refusal of a map at its bracket
/// then, not after it).
struct Expected(&'static str);
struct ExpectedArray(&'static str);

impl<'de> DeserializeSeed<'de> for Expected {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> DeserializeSeed<'de> for ExpectedArray {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(Expected(self.0))
    }
}

impl<'de> Visitor<'de> for Expected {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(self.0)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Key {
    TraceEvents,
    DeviceProperties,
    BaseTime,
    Cat,
    Name,
    Pid,
    Tid,
    Ts,
    Dur,
    Args,
    Device,
    Stream,
    Grid,
    Block,
    Registers,
    SharedMemory,
    BlocksPerSm,
    Occupancy,
    ExternalId,
    Flops,
    Bytes,
    Other,
    /// A key read as raw bytes that serde_json would have checked (it has
    /// an escape, a control character or a byte beyond ASCII): the event
    /// is read again with `strict` keys.
    Unchecked,
}

impl Key {
    fn of(text: &[u8]) -> Key {
        match text {
            b"traceEvents" => Key::TraceEvents,
            b"deviceProperties" => Key::DeviceProperties,
            b"baseTimeNanoseconds" => Key::BaseTime,
            b"cat" => Key::Cat,
            b"name" => Key::Name,
            b"pid" => Key::Pid,
            b"tid" => Key::Tid,
            b"ts" => Key::Ts,
            b"dur" => Key::Dur,
            b"args" => Key::Args,
            b"device" => Key::Device,
            b"stream" => Key::Stream,
            b"grid" => Key::Grid,
            b"block" => Key::Block,
            b"registers per thread" => Key::Registers,
            b"shared memory" => Key::SharedMemory,
            b"blocks per SM" => Key::BlocksPerSm,
            b"est. achieved occupancy %" => Key::Occupancy,
            b"External id" | b"external id" => Key::ExternalId,
            b"flops" => Key::Flops,
            b"bytes" => Key::Bytes,
            _ => Key::Other,
        }
    }
}

/// Reads an object key without allocating: every key of every object goes
/// through here, so it maps the text to the few keys the reader uses.
///
/// `strict`: through serde_json's `str` path, which checks that the key is
/// UTF-8 without control characters. Otherwise as raw bytes, which spares
/// that check (a sixth of the reader's time): a key the reader uses is
/// ASCII by its match, printable ASCII is checked here in a loop, and
/// anything else is [`Key::Unchecked`], for which the event is read again
/// strictly, so that what serde_json accepts and how it words a refusal
/// do not change.
#[derive(Clone, Copy)]
struct KeySeed {
    strict: bool,
}

impl<'de> DeserializeSeed<'de> for KeySeed {
    type Value = Key;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Key, D::Error> {
        if self.strict {
            d.deserialize_str(self)
        } else {
            d.deserialize_bytes(self)
        }
    }
}

impl<'de> Visitor<'de> for KeySeed {
    type Value = Key;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a key")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Key, E> {
        Ok(Key::of(v.as_bytes()))
    }
    /// Bytes straight from the text (no escapes).
    fn visit_borrowed_bytes<E: de::Error>(self, v: &'de [u8]) -> Result<Key, E> {
        Ok(match Key::of(v) {
            Key::Other if !v.iter().all(|&b| (0x20..0x80).contains(&b)) => Key::Unchecked,
            key => key,
        })
    }
    /// Bytes with escapes resolved.
    fn visit_bytes<E: de::Error>(self, _: &[u8]) -> Result<Key, E> {
        Ok(Key::Unchecked)
    }
}

/// An event read with raw keys ([`KeySeed`]); `unchecked` when one of them
/// needs serde_json's checks.
impl<'de> Deserialize<'de> for Event<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Event::read(d, false)
    }
}

impl<'de> Event<'de> {
    /// One event, its keys matched as raw bytes or, `strict`, checked.
    fn read<D: Deserializer<'de>>(d: D, strict: bool) -> Result<Self, D::Error> {
        let mut event = Event::default();
        EventSeed {
            event: &mut event,
            keys: KeySeed { strict },
        }
        .deserialize(d)?;
        Ok(event)
    }
}

/// An event read with checked keys.
struct Strict<'de>(Event<'de>);

impl<'de> Deserialize<'de> for Strict<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Event::read(d, true).map(Strict)
    }
}

struct EventSeed<'a, 'de> {
    event: &'a mut Event<'de>,
    keys: KeySeed,
}

impl<'de> DeserializeSeed<'de> for EventSeed<'_, 'de> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for EventSeed<'_, 'de> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a trace event object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let e = self.event;
        while let Some(key) = map.next_key_seed(self.keys)? {
            match key {
                Key::Unchecked => {
                    e.unchecked = true;
                    map.next_value::<IgnoredAny>()?;
                }
                Key::Cat => e.category = Some(map.next_value_seed(CategorySeed)?),
                Key::Name => map.next_value_seed(NameSeed(&mut e.name))?,
                // An event already known not to be a kernel or copy (most
                // of a trace) keeps only its args: its times are skipped
                // rather than copied out.
                Key::Pid | Key::Tid | Key::Ts | Key::Dur if e.category == Some(Category::Other) => {
                    e.skipped = true;
                    map.next_value::<IgnoredAny>()?;
                }
                Key::Pid => e.pid = Some(map.next_value()?),
                Key::Tid => e.tid = Some(map.next_value()?),
                Key::Ts => e.ts = Some(map.next_value()?),
                Key::Dur => e.dur = Some(map.next_value()?),
                Key::Args => map.next_value_seed(ArgsSeed {
                    args: &mut e.args,
                    keys: self.keys,
                    unchecked: &mut e.unchecked,
                })?,
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(())
    }
}

struct CategorySeed;

impl<'de> DeserializeSeed<'de> for CategorySeed {
    type Value = Category;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Category, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for CategorySeed {
    type Value = Category;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an event category")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Category, E> {
        Ok(match v {
            "kernel" | "Kernel" => Category::Kernel,
            "gpu_memcpy" | "Memcpy" => Category::Memcpy,
            "gpu_memset" | "Memset" => Category::Memset,
            _ => Category::Other,
        })
    }
    fn visit_unit<E: de::Error>(self) -> Result<Category, E> {
        Ok(Category::Other)
    }
}

/// An event's name: borrowed from the text unless it has escapes; an
/// integer is written out; `null` leaves the name as it was.
struct NameSeed<'a, 'de>(&'a mut Cow<'de, str>);

impl<'de> DeserializeSeed<'de> for NameSeed<'_, 'de> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for NameSeed<'_, 'de> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a name")
    }
    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<(), E> {
        *self.0 = Cow::Borrowed(v);
        Ok(())
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<(), E> {
        *self.0 = Cow::Owned(v.to_owned());
        Ok(())
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<(), E> {
        *self.0 = Cow::Owned(v.to_string());
        Ok(())
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<(), E> {
        *self.0 = Cow::Owned(v.to_string());
        Ok(())
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }
}

struct ArgsSeed<'a> {
    args: &'a mut Args,
    keys: KeySeed,
    unchecked: &'a mut bool,
}

impl<'de> DeserializeSeed<'de> for ArgsSeed<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ArgsSeed<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("event args")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let a = self.args;
        while let Some(key) = map.next_key_seed(self.keys)? {
            let slot = match key {
                Key::Device => &mut a.device,
                Key::Stream => &mut a.stream,
                Key::Grid => &mut a.grid,
                Key::Block => &mut a.block,
                Key::Registers => &mut a.registers,
                Key::SharedMemory => &mut a.shared_memory,
                Key::BlocksPerSm => &mut a.blocks_per_sm,
                Key::Occupancy => &mut a.occupancy,
                Key::ExternalId => &mut a.external_id,
                Key::Flops => &mut a.flops,
                Key::Bytes => &mut a.bytes,
                Key::Unchecked => {
                    *self.unchecked = true;
                    map.next_value::<IgnoredAny>()?;
                    continue;
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                    continue;
                }
            };
            *slot = Some(map.next_value()?);
        }
        Ok(())
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }
}

impl<'de> Deserialize<'de> for Arg {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Arg, D::Error> {
        d.deserialize_any(ArgVisitor)
    }
}

struct ArgVisitor;

impl<'de> Visitor<'de> for ArgVisitor {
    type Value = Arg;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Arg, E> {
        Ok(Arg::Int(v.into()))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Arg, E> {
        Ok(Arg::Int(v.into()))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Arg, E> {
        Ok(Arg::Float(v))
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<Arg, E> {
        Ok(Arg::Other)
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Arg, E> {
        Ok(Arg::Other)
    }
    fn visit_unit<E: de::Error>(self) -> Result<Arg, E> {
        Ok(Arg::Other)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Arg, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Arg::Other)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Arg, A::Error> {
        let mut out = [0i64; 3];
        let mut n = 0usize;
        let mut all_int = true;
        while let Some(v) = seq.next_element::<Arg>()? {
            match (v, out.get_mut(n)) {
                (Arg::Int(v), Some(slot)) if i64::try_from(v).is_ok() => *slot = v as i64,
                _ => all_int = false,
            }
            n += 1;
        }
        Ok(if all_int && n == 3 {
            Arg::Triple(out)
        } else {
            Arg::Other
        })
    }
}

#[cfg(test)]
mod tests {
    use super::{any_micros_to_ns, micros_to_ns, plain_micros_to_ns};

    #[test]
    fn an_arg_is_small_enough_to_move_events_cheaply() {
        // Int(i128) at offset 16 with its tag before it: 32 bytes, and the
        // triple of i64s (24 bytes after an 8-byte tag) fits the same.
        assert_eq!(std::mem::size_of::<super::Arg>(), 32);
        assert_eq!(std::mem::size_of::<Option<super::Arg>>(), 32);
    }

    #[test]
    fn the_plain_path_agrees_with_the_general_one() {
        // Every sign, integer length 0…19 and decimals 0…5 (with and without
        // a point), over digits that exercise carries: the plain path gives
        // the general one's result wherever it answers, and answers for all
        // of Kineto's shapes (≤ 19 digits, ≤ 3 decimals).
        for negative in [false, true] {
            for int_digits in 0..=19usize {
                for decimals in 0..=5usize {
                    for point in [false, true] {
                        if decimals > 0 && !point {
                            continue;
                        }
                        let int: String = "9876543210987654321"[..int_digits].to_string();
                        let frac: String = "50591"[..decimals].to_string();
                        let text = format!(
                            "{}{}{}{}",
                            if negative { "-" } else { "" },
                            if int.is_empty() { "0" } else { &int },
                            if point { "." } else { "" },
                            frac
                        );
                        let general = any_micros_to_ns(&text);
                        let plain = plain_micros_to_ns(&text);
                        if let Some(p) = plain {
                            assert_eq!(Some(p), general, "{text}");
                        }
                        let digits = int_digits.max(1) + decimals;
                        if decimals <= 3 && digits <= 19 {
                            assert!(plain.is_some(), "{text}");
                        }
                        assert_eq!(micros_to_ns(&text), general, "{text}");
                    }
                }
            }
        }
        // Today's Unix time in µs with ns decimals (Kineto's `ts`).
        assert_eq!(
            plain_micros_to_ns("1712195495519689.047"),
            Some(1_712_195_495_519_689_047)
        );
        // Not plain: the general path answers.
        assert_eq!(plain_micros_to_ns("1e3"), None);
        assert_eq!(micros_to_ns("1e3"), Some(1_000_000));
        assert_eq!(plain_micros_to_ns("."), None);
        assert_eq!(plain_micros_to_ns("-"), None);
        assert_eq!(plain_micros_to_ns(""), None);
    }

    #[test]
    fn decimal_microseconds_convert_exactly() {
        assert_eq!(micros_to_ns("0"), Some(0));
        assert_eq!(micros_to_ns("71"), Some(71_000));
        assert_eq!(micros_to_ns("4.928"), Some(4_928));
        // An f64 cannot hold this: its step at 1.7e15 is 0.25.
        assert_eq!(
            micros_to_ns("1712195495519689.047"),
            Some(1_712_195_495_519_689_047)
        );
        assert_eq!(micros_to_ns("-3.5"), Some(-3_500));
        assert_eq!(micros_to_ns("1.5e3"), Some(1_500_000));
        assert_eq!(micros_to_ns("2E-3"), Some(2));
        // Below the nanosecond: nearest, halves away from zero.
        assert_eq!(micros_to_ns("0.0004"), Some(0));
        assert_eq!(micros_to_ns("0.0005"), Some(1));
        assert_eq!(micros_to_ns("-0.0005"), Some(-1));
        assert_eq!(micros_to_ns("1.0006"), Some(1_001));
        assert_eq!(micros_to_ns("\"12\""), None);
        assert_eq!(micros_to_ns("1e400"), None);
        assert_eq!(micros_to_ns("null"), None);
    }
}
