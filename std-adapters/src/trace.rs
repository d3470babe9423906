//! The `wattledger-trace/1` format: recordings of what a sensor handed out.
//!
//! A trace lets every path downstream of a sensor (the meter, the exporters,
//! the command) run offline and in tests, on numbers that once came from real
//! hardware. The format is JSON lines (one JSON object per line, UTF-8, `\n`
//! between lines); `docs/trace-format.md` is its full description. In short:
//!
//! ```text
//! {"type":"meta","format":"wattledger-trace/1","source":"jetson","recorded_by":"wattledger-std 0.1.0"}
//! {"type":"device","index":0,"name":"Jetson board total (VDD_IN)","uuid":"jetson-rail:VDD_IN","architecture":null,"pci_device_id":null,"has_energy_counter":false,"mig":null}
//! {"type":"sample","device":0,"t_ns":1000000,"power_mw":5120,"gated_units":4}
//! ```
//!
//! 1. The first line that is not blank is the `meta` line; its `format` must
//!    be `wattledger-trace/1` (another version is refused, not guessed at).
//! 2. Then one `device` line per device: the fields of [`DeviceInfo`].
//!    Device indexes are unique.
//! 3. Then `sample` lines, in the order they were taken: `device` (a device
//!    index), `t_ns`, and the optional `energy_mj`, `power_mw`,
//!    `gated_units`, each either omitted or `null` when absent. The `t_ns`
//!    of one device never decreases. Among them, a `lost` line (`device`,
//!    `t_ns`) where a device stopped answering, so that a replay reports the
//!    loss as the live measurement did.
//!
//! Blank lines are skipped; fields a reader does not know are ignored, so
//! that later `/1` writers may add some. Every error names the line number
//! (from 1) and, where one is at fault, the field. A last line cut short (no
//! `\n` at its end and not a whole JSON object: the recorder was killed
//! while writing) is left out and noted in [`Trace::truncated_line`].
//!
//! Each kind of line is one serde type (`MetaLine`, [`DeviceInfo`],
//! `SampleLine`) that both the reader and the writer use, so what is written
//! can always be read back: the writer puts the `type` tag in front, the
//! reader checks the tag and the line order and lets serde check the fields.
//! [`Trace::read`] reads a trace into memory; [`Recorder`] and [`record`]
//! write one; [`RecordingSensor`] records what a sensor hands out while it
//! is used; [`crate::sensors::replay::ReplaySensor`] plays one back.

use std::fmt;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Write};
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};
use std::thread;
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use wattledger_core::meter::Sample;

use crate::sensors::{DeviceInfo, Sensor, SensorError};
use crate::visible::MeasuredGpu;

/// The format name and version written in, and required of, the `meta` line.
pub const TRACE_FORMAT: &str = "wattledger-trace/1";

/// What a `meta` line says about the trace.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TraceMeta {
    /// The sensor the trace was recorded from (its [`Sensor::source`]: "nvml", "jetson").
    pub source: String,
    /// The program that wrote the trace, if it said.
    pub recorded_by: Option<String>,
    /// Free text, if any.
    pub note: Option<String>,
    /// The Unix time, in nanoseconds, at `t_ns = 0` of the sensor's clock:
    /// what lines a recording up with a profiler trace stamped in Unix time.
    /// `None` in traces written before the field existed (aligning them
    /// takes an offset given by hand) and for sensors without a live clock.
    pub clock_unix_ns: Option<u64>,
}

impl TraceMeta {
    /// A `meta` for a trace of `source`, recorded by this library.
    pub fn new(source: impl Into<String>) -> Self {
        TraceMeta {
            source: source.into(),
            recorded_by: Some(concat!("wattledger-std ", env!("CARGO_PKG_VERSION")).to_owned()),
            note: None,
            clock_unix_ns: None,
        }
    }
}

/// One sample line: which device, and the sample.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TraceSample {
    /// The device's index (its [`DeviceInfo::index`]).
    pub device: u32,
    /// The recorded reading.
    pub sample: Sample,
}

/// A `lost` line: where a device stopped answering.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TraceLost {
    /// The device's index (its [`DeviceInfo::index`]).
    pub device: u32,
    /// When the loss was noticed, on the sensor's clock.
    pub t_ns: u64,
}

/// Why a trace could not be read or written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TraceError {
    /// Reading or writing failed; `line` is the line being read or written.
    Io {
        /// Line number, from 1.
        line: usize,
        /// The operating system's words.
        message: String,
    },
    /// A line is not what the format says.
    Invalid {
        /// Line number, from 1.
        line: usize,
        /// The field at fault, where one is.
        field: Option<String>,
        /// What is wrong.
        message: String,
    },
    /// The trace ended before its `meta` line.
    Empty,
}

impl fmt::Display for TraceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TraceError::Io { line, message } => write!(f, "trace line {line}: {message}"),
            TraceError::Invalid {
                line,
                field: Some(field),
                message,
            } => write!(f, "trace line {line}, field `{field}`: {message}"),
            TraceError::Invalid {
                line,
                field: None,
                message,
            } => write!(f, "trace line {line}: {message}"),
            TraceError::Empty => write!(
                f,
                "the trace is empty: it should begin with a `meta` line of format {TRACE_FORMAT}"
            ),
        }
    }
}

impl std::error::Error for TraceError {}

impl From<TraceError> for SensorError {
    fn from(e: TraceError) -> Self {
        SensorError::Other(e.to_string())
    }
}

fn invalid(line: usize, field: Option<&str>, message: impl Into<String>) -> TraceError {
    TraceError::Invalid {
        line,
        field: field.map(str::to_owned),
        message: message.into(),
    }
}

/// A whole trace in memory.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Trace {
    /// The `meta` line.
    pub meta: TraceMeta,
    /// The devices, in the order of their lines.
    pub devices: Vec<DeviceInfo>,
    /// All samples, in the order of their lines.
    pub samples: Vec<TraceSample>,
    /// The `lost` lines, in the order of their lines.
    pub lost: Vec<TraceLost>,
    /// The number of a last line that was cut short and left out (the
    /// recording was stopped while it wrote that line), if any.
    pub truncated_line: Option<usize>,
}

impl Trace {
    /// Read a trace from any buffered reader, checking every line.
    ///
    /// # Errors
    /// [`TraceError::Io`] when reading fails (including text that is not
    /// UTF-8); [`TraceError::Empty`] when there is no line but blank ones;
    /// [`TraceError::Invalid`] for the first line that is not JSON, has an
    /// unknown or misplaced `type`, another `format`, a missing or mistyped
    /// field, a duplicate device index, a sample of an undeclared device, or a
    /// `t_ns` smaller than the device's previous one.
    pub fn read<R: BufRead>(mut reader: R) -> Result<Trace, TraceError> {
        let mut trace = Trace::default();
        let mut seen_meta = false;
        let mut seen_sample = false;
        // Last t_ns per device, by position in `trace.devices`.
        let mut last_t: Vec<Option<u64>> = Vec::new();
        let mut bytes = Vec::new();
        for n in 1.. {
            bytes.clear();
            let read = reader
                .read_until(b'\n', &mut bytes)
                .map_err(|e| TraceError::Io {
                    line: n,
                    message: e.to_string(),
                })?;
            if read == 0 {
                break;
            }
            let complete = bytes.last() == Some(&b'\n');
            let parsed = std::str::from_utf8(&bytes)
                .map_err(|e| TraceError::Io {
                    line: n,
                    message: format!("stream did not contain valid UTF-8: {e}"),
                })
                .and_then(|line| {
                    if line.trim().is_empty() {
                        Ok(None)
                    } else {
                        split_line(n, line.trim_end_matches(['\n', '\r'])).map(Some)
                    }
                });
            let (kind, body) = match parsed {
                Ok(Some(p)) => p,
                Ok(None) => continue,
                // The last line, without its `\n`, and not a whole object:
                // the writer stopped in the middle of it. What came before is
                // a valid trace.
                Err(_) if !complete && seen_meta => {
                    trace.truncated_line = Some(n);
                    break;
                }
                Err(e) => return Err(e),
            };
            if !seen_meta {
                if kind != LineKind::Meta {
                    return Err(invalid(
                        n,
                        Some("type"),
                        format!(
                            "the first line should be the `meta` line, found `{}`",
                            kind.name()
                        ),
                    ));
                }
                let meta: MetaLine = fields(n, body)?;
                if meta.format != TRACE_FORMAT {
                    return Err(invalid(
                        n,
                        Some("format"),
                        format!(
                            "this reader understands {TRACE_FORMAT}, not `{}`",
                            meta.format
                        ),
                    ));
                }
                trace.meta = meta.into();
                seen_meta = true;
                continue;
            }
            match kind {
                LineKind::Meta => return Err(invalid(n, Some("type"), "a second `meta` line")),
                LineKind::Device => {
                    if seen_sample {
                        return Err(invalid(
                            n,
                            Some("type"),
                            "`device` lines must come before every `sample` line",
                        ));
                    }
                    let info: DeviceInfo = fields(n, body)?;
                    if trace.devices.iter().any(|d| d.index == info.index) {
                        return Err(invalid(
                            n,
                            Some("index"),
                            format!("device {} is declared twice", info.index),
                        ));
                    }
                    trace.devices.push(info);
                    last_t.push(None);
                }
                LineKind::Sample => {
                    seen_sample = true;
                    let ts = TraceSample::from(fields::<SampleLine>(n, body)?);
                    advance(n, &trace.devices, &mut last_t, ts.device, ts.sample.t_ns)?;
                    trace.samples.push(ts);
                }
                LineKind::Lost => {
                    seen_sample = true;
                    let lost: TraceLost = fields(n, body)?;
                    advance(n, &trace.devices, &mut last_t, lost.device, lost.t_ns)?;
                    trace.lost.push(lost);
                }
            }
        }
        if !seen_meta {
            return Err(TraceError::Empty);
        }
        if trace.meta.source == "jetson" {
            crate::sensors::jetson::infer_recorded_roles(&mut trace.devices);
        }
        Ok(trace)
    }

    /// Read a trace from a file.
    ///
    /// # Errors
    /// [`TraceError::Io`] (line 0) when the file cannot be opened; otherwise
    /// as [`Trace::read`].
    pub fn from_path(path: impl AsRef<Path>) -> Result<Trace, TraceError> {
        let path = path.as_ref();
        let file = File::open(path).map_err(|e| TraceError::Io {
            line: 0,
            message: format!("cannot open `{}`: {e}", path.display()),
        })?;
        Trace::read(BufReader::new(file))
    }

    /// Check what [`Trace::read`] checks of a trace built in memory: device
    /// indexes are unique, every sample belongs to a declared device, and no
    /// device's `t_ns` decreases.
    ///
    /// # Errors
    /// [`TraceError::Invalid`] for the first fault, with the line number it
    /// would have once written (`meta` is line 1, then the devices, then the
    /// samples) and the field at fault (`index`, `device` or `t_ns`).
    pub fn validate(&self) -> Result<(), TraceError> {
        let first_sample_line = 2 + self.devices.len();
        for (i, d) in self.devices.iter().enumerate() {
            if self.devices.iter().take(i).any(|e| e.index == d.index) {
                return Err(invalid(
                    2 + i,
                    Some("index"),
                    format!("device {} is declared twice", d.index),
                ));
            }
        }
        let mut last_t: Vec<Option<u64>> = vec![None; self.devices.len()];
        for (i, ts) in self.samples.iter().enumerate() {
            let line = first_sample_line + i;
            let slot = self
                .devices
                .iter()
                .position(|d| d.index == ts.device)
                .and_then(|p| last_t.get_mut(p))
                .ok_or_else(|| {
                    invalid(
                        line,
                        Some("device"),
                        format!("device {} has no `device` line", ts.device),
                    )
                })?;
            if let Some(prev) = *slot {
                if ts.sample.t_ns < prev {
                    return Err(invalid(
                        line,
                        Some("t_ns"),
                        format!(
                            "{} is before device {}'s previous sample at {prev}",
                            ts.sample.t_ns, ts.device
                        ),
                    ));
                }
            }
            *slot = Some(ts.sample.t_ns);
        }
        if let Some(l) = self
            .lost
            .iter()
            .find(|l| !self.devices.iter().any(|d| d.index == l.device))
        {
            return Err(invalid(
                first_sample_line + self.samples.len(),
                Some("device"),
                format!("device {} has no `device` line", l.device),
            ));
        }
        Ok(())
    }

    /// Write the whole trace to `out`.
    ///
    /// # Errors
    /// As [`Recorder::new`] and [`Recorder::record`]: the samples must belong
    /// to declared devices and keep each device's time order, so that what is
    /// written can be read back.
    pub fn write<W: Write>(&self, out: W) -> Result<W, RecordError> {
        let mut rec = Recorder::new(out, &self.meta, &self.devices)?;
        // A `lost` line goes before its device's first later sample, so
        // each device's lines keep their time order.
        let mut pending: Vec<TraceLost> = self.lost.clone();
        for ts in &self.samples {
            while let Some(i) = pending
                .iter()
                .position(|l| l.device == ts.device && l.t_ns < ts.sample.t_ns)
            {
                let l = pending.remove(i);
                rec.record_lost(l.device, l.t_ns)?;
            }
            rec.record(ts.device, &ts.sample)?;
        }
        for l in pending {
            rec.record_lost(l.device, l.t_ns)?;
        }
        rec.finish()
    }
}

/// Checks that line `n`, of `device` at `t_ns`, names a declared device
/// and does not go back in its time, and moves the device's clock on.
/// `last_t` holds each device's last `t_ns`, by position in `devices`.
fn advance(
    n: usize,
    devices: &[DeviceInfo],
    last_t: &mut [Option<u64>],
    device: u32,
    t_ns: u64,
) -> Result<(), TraceError> {
    let slot = devices
        .iter()
        .position(|d| d.index == device)
        .and_then(|pos| last_t.get_mut(pos))
        .ok_or_else(|| {
            invalid(
                n,
                Some("device"),
                format!("device {device} has no `device` line"),
            )
        })?;
    if let Some(prev) = *slot {
        if t_ns < prev {
            return Err(invalid(
                n,
                Some("t_ns"),
                format!("{t_ns} is before device {device}'s previous sample at {prev}"),
            ));
        }
    }
    *slot = Some(t_ns);
    Ok(())
}

/// What a line is: its `type` tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
enum LineKind {
    Meta,
    Device,
    Sample,
    Lost,
}

impl LineKind {
    fn name(self) -> &'static str {
        match self {
            LineKind::Meta => "meta",
            LineKind::Device => "device",
            LineKind::Sample => "sample",
            LineKind::Lost => "lost",
        }
    }
}

/// A line as written: the `type` tag, then the fields of its body.
#[derive(Serialize)]
struct Tagged<'a, T> {
    #[serde(rename = "type")]
    kind: LineKind,
    #[serde(flatten)]
    body: &'a T,
}

/// The fields of a `meta` line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct MetaLine {
    format: String,
    source: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    recorded_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    note: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    clock_unix_ns: Option<u64>,
}

impl From<MetaLine> for TraceMeta {
    fn from(m: MetaLine) -> Self {
        TraceMeta {
            source: m.source,
            recorded_by: m.recorded_by,
            note: m.note,
            clock_unix_ns: m.clock_unix_ns,
        }
    }
}

impl From<&TraceMeta> for MetaLine {
    fn from(m: &TraceMeta) -> Self {
        MetaLine {
            format: TRACE_FORMAT.to_owned(),
            source: m.source.clone(),
            recorded_by: m.recorded_by.clone(),
            note: m.note.clone(),
            clock_unix_ns: m.clock_unix_ns,
        }
    }
}

/// The fields of a `sample` line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
struct SampleLine {
    device: u32,
    t_ns: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    energy_mj: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    power_mw: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    gated_units: Option<u32>,
}

impl From<SampleLine> for TraceSample {
    fn from(l: SampleLine) -> Self {
        TraceSample {
            device: l.device,
            sample: Sample {
                t_ns: l.t_ns,
                energy_mj: l.energy_mj,
                power_mw: l.power_mw,
                gated_units: l.gated_units,
            },
        }
    }
}

impl SampleLine {
    fn new(device: u32, s: &Sample) -> Self {
        SampleLine {
            device,
            t_ns: s.t_ns,
            energy_mj: s.energy_mj,
            power_mw: s.power_mw,
            gated_units: s.gated_units,
        }
    }
}

/// A line's `type` and the rest of its fields.
fn split_line(n: usize, line: &str) -> Result<(LineKind, Value), TraceError> {
    let value: Value = serde_json::from_str(line)
        .map_err(|e| invalid(n, None, format!("not a JSON object: {e}")))?;
    let Value::Object(mut obj) = value else {
        return Err(invalid(n, None, "not a JSON object"));
    };
    let tag = obj
        .remove("type")
        .ok_or_else(|| invalid(n, Some("type"), "missing"))?;
    let kind = serde_json::from_value(tag).map_err(|e| invalid(n, Some("type"), e.to_string()))?;
    Ok((kind, Value::Object(obj)))
}

/// The body of line `n` as `T`, an error naming the field at fault.
fn fields<T: DeserializeOwned>(n: usize, body: Value) -> Result<T, TraceError> {
    serde_path_to_error::deserialize(body).map_err(|e| {
        let top = e.path().iter().next().map(|segment| match segment {
            serde_path_to_error::Segment::Map { key } => key.clone(),
            other => other.to_string(),
        });
        let message = e.inner().to_string();
        match top {
            Some(field) => invalid(n, Some(&field), message),
            // An error at the line itself is a required field that is
            // missing: serde names it only in its message.
            None => match missing_field(&message) {
                Some(field) => invalid(n, Some(field), "missing"),
                None => invalid(n, None, message),
            },
        }
    })
}

/// The field named by serde's "missing field `x`" error.
fn missing_field(message: &str) -> Option<&str> {
    message.strip_prefix("missing field `")?.split('`').next()
}
/// Why a recording failed.
#[derive(Debug)]
pub enum RecordError {
    /// Writing to the output failed.
    Io(io::Error),
    /// The sensor failed to give a reading.
    Sensor(SensorError),
    /// A sample was given for a device not declared at the start.
    UnknownDevice {
        /// The index given.
        device: u32,
    },
    /// Two devices were declared with the same index.
    DuplicateDevice {
        /// The index given twice.
        device: u32,
    },
    /// A sample is older than the device's previous one; a reader would refuse it.
    TimeWentBack {
        /// The device.
        device: u32,
        /// The previous sample's `t_ns`.
        previous_ns: u64,
        /// The refused sample's `t_ns`.
        t_ns: u64,
    },
}

impl fmt::Display for RecordError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RecordError::Io(e) => write!(f, "cannot write the trace: {e}"),
            RecordError::Sensor(e) => write!(f, "the sensor failed: {e}"),
            RecordError::UnknownDevice { device } => {
                write!(
                    f,
                    "device {device} was not declared when the recording began"
                )
            }
            RecordError::DuplicateDevice { device } => {
                write!(f, "device {device} is declared twice")
            }
            RecordError::TimeWentBack {
                device,
                previous_ns,
                t_ns,
            } => write!(
                f,
                "device {device}: sample at {t_ns} ns is before the previous one at {previous_ns} ns"
            ),
        }
    }
}

impl std::error::Error for RecordError {}

impl From<io::Error> for RecordError {
    fn from(e: io::Error) -> Self {
        RecordError::Io(e)
    }
}

/// Writes a trace, line by line, to any [`Write`].
///
/// The `meta` and `device` lines are written when the recorder is made;
/// each [`Recorder::record`] writes one `sample` line. Samples are checked
/// as a reader would check them, so whatever a recorder writes can be read
/// back by [`ReplaySensor`](crate::sensors::replay::ReplaySensor). Wrap a file in a [`io::BufWriter`]; call
/// [`Recorder::finish`] to flush it.
#[derive(Debug)]
pub struct Recorder<W: Write> {
    out: W,
    /// Declared device indexes and the last `t_ns` written for each.
    devices: Vec<(u32, Option<u64>)>,
    lines: usize,
}

impl<W: Write> Recorder<W> {
    /// Start a trace: write the `meta` line and one `device` line per device.
    ///
    /// # Errors
    /// [`RecordError::DuplicateDevice`] (before anything is written) when two
    /// devices share an index; [`RecordError::Io`] when writing fails.
    pub fn new(mut out: W, meta: &TraceMeta, devices: &[DeviceInfo]) -> Result<Self, RecordError> {
        let mut declared: Vec<(u32, Option<u64>)> = Vec::with_capacity(devices.len());
        for d in devices {
            if declared.iter().any(|&(i, _)| i == d.index) {
                return Err(RecordError::DuplicateDevice { device: d.index });
            }
            declared.push((d.index, None));
        }
        write_line(&mut out, LineKind::Meta, &MetaLine::from(meta))?;
        for info in devices {
            write_line(&mut out, LineKind::Device, info)?;
        }
        Ok(Recorder {
            out,
            devices: declared,
            lines: 1 + devices.len(),
        })
    }

    /// Start a trace of `sensor`'s devices, with a `meta` line naming its source.
    ///
    /// # Errors
    /// As [`Recorder::new`].
    pub fn for_sensor(
        out: W,
        sensor: &dyn Sensor,
        note: Option<&str>,
    ) -> Result<Self, RecordError> {
        let mut meta = TraceMeta::new(sensor.source());
        meta.note = note.map(str::to_owned);
        meta.clock_unix_ns = sensor.clock_unix_ns();
        Recorder::new(out, &meta, sensor.devices())
    }

    /// Write one sample of `device`.
    ///
    /// # Errors
    /// [`RecordError::UnknownDevice`] or [`RecordError::TimeWentBack`]
    /// (nothing is written, the recorder is unchanged); [`RecordError::Io`]
    /// when writing fails.
    pub fn record(&mut self, device: u32, sample: &Sample) -> Result<(), RecordError> {
        self.write_at(
            device,
            sample.t_ns,
            LineKind::Sample,
            &SampleLine::new(device, sample),
        )
    }

    /// Writes a line of `kind` for `device` at `t_ns`, after checking that
    /// the device was declared and its time does not go back.
    fn write_at<T: Serialize>(
        &mut self,
        device: u32,
        t_ns: u64,
        kind: LineKind,
        body: &T,
    ) -> Result<(), RecordError> {
        let slot = self
            .devices
            .iter_mut()
            .find(|(i, _)| *i == device)
            .ok_or(RecordError::UnknownDevice { device })?;
        if let Some(previous_ns) = slot.1 {
            if t_ns < previous_ns {
                return Err(RecordError::TimeWentBack {
                    device,
                    previous_ns,
                    t_ns,
                });
            }
        }
        write_line(&mut self.out, kind, body)?;
        slot.1 = Some(t_ns);
        self.lines += 1;
        Ok(())
    }

    /// Write that `device` stopped answering at `t_ns` (a `lost` line).
    ///
    /// # Errors
    /// As [`Recorder::record`].
    pub fn record_lost(&mut self, device: u32, t_ns: u64) -> Result<(), RecordError> {
        self.write_at(device, t_ns, LineKind::Lost, &TraceLost { device, t_ns })
    }

    /// The `t_ns` of the last line written for `device`, if any.
    fn last_t_ns(&self, device: u32) -> Option<u64> {
        self.devices
            .iter()
            .find(|(i, _)| *i == device)
            .and_then(|(_, t)| *t)
    }

    /// Take a sample of `device` from `sensor`, write it, and hand it back.
    ///
    /// # Errors
    /// [`RecordError::Sensor`] when the sensor fails (nothing is written);
    /// otherwise as [`Recorder::record`].
    pub fn sample_from(
        &mut self,
        sensor: &mut dyn Sensor,
        device: u32,
    ) -> Result<Sample, RecordError> {
        let sample = sensor.sample(device).map_err(RecordError::Sensor)?;
        self.record(device, &sample)?;
        Ok(sample)
    }

    /// Lines written so far, the `meta` and `device` lines included.
    pub fn lines_written(&self) -> usize {
        self.lines
    }

    /// Flush what was written so far.
    ///
    /// # Errors
    /// [`RecordError::Io`] when flushing fails.
    pub fn flush(&mut self) -> Result<(), RecordError> {
        self.out.flush()?;
        Ok(())
    }

    /// Flush the output and hand it back.
    ///
    /// # Errors
    /// [`RecordError::Io`] when flushing fails.
    pub fn finish(mut self) -> Result<W, RecordError> {
        self.out.flush()?;
        Ok(self.out)
    }
}

fn write_line<W: Write, T: Serialize>(
    out: &mut W,
    kind: LineKind,
    body: &T,
) -> Result<(), RecordError> {
    // Serialise first, so a failure cannot leave half a line behind.
    let mut text =
        serde_json::to_string(&Tagged { kind, body }).map_err(|e| RecordError::Io(e.into()))?;
    text.push('\n');
    out.write_all(text.as_bytes())?;
    Ok(())
}

/// Record `rounds` rounds of every device of `sensor` to `out`, sleeping
/// `interval` between rounds, and return how many samples were written.
///
/// A round samples every device once, in the order of [`Sensor::devices`].
/// A device that answers [`SensorError::EndOfTrace`] is not asked again, and
/// recording stops early, without error, once every device has ended (so a
/// replayed trace can be re-recorded to its end with `rounds = usize::MAX`).
/// The output is flushed either way.
///
/// # Errors
/// [`RecordError::Sensor`] for any other sensor error; otherwise as
/// [`Recorder::new`], [`Recorder::record`] and [`Recorder::finish`]. The
/// lines written before the error stay written.
pub fn record<W: Write>(
    sensor: &mut dyn Sensor,
    rounds: usize,
    interval: Duration,
    out: W,
    note: Option<&str>,
) -> Result<usize, RecordError> {
    let mut rec = Recorder::for_sensor(out, sensor, note)?;
    let indexes: Vec<u32> = sensor.devices().iter().map(|d| d.index).collect();
    let mut ended = vec![false; indexes.len()];
    let mut written = 0usize;
    for round in 0..rounds {
        if ended.iter().all(|&e| e) {
            break;
        }
        if round > 0 && !interval.is_zero() {
            thread::sleep(interval);
        }
        for (&device, done) in indexes.iter().zip(ended.iter_mut()) {
            if *done {
                continue;
            }
            match rec.sample_from(sensor, device) {
                Ok(_) => written += 1,
                Err(RecordError::Sensor(SensorError::EndOfTrace)) => *done = true,
                Err(e) => {
                    rec.out.flush()?;
                    return Err(e);
                }
            }
        }
    }
    rec.finish()?;
    Ok(written)
}

/// A sensor that writes every sample it hands out to a trace.
///
/// Wrap the sensor a monitor reads; keep the [`Recording`] to finish the
/// trace once the monitor is dropped. A failed write stops the recording
/// (the samples still reach the monitor) and [`Recording::finish`] reports it.
///
/// Each line is written whole and flushed at once, so a recorder killed at
/// any moment (even `kill -9`) leaves a valid trace up to its last line. A
/// device that answers [`SensorError::DeviceLost`] gets a `lost` line, once.
pub struct RecordingSensor {
    inner: Box<dyn Sensor>,
    state: Arc<Mutex<RecordingState>>,
}

impl fmt::Debug for RecordingSensor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RecordingSensor")
            .field("source", &self.inner.source())
            .finish_non_exhaustive()
    }
}

struct RecordingState {
    recorder: Option<Recorder<Box<dyn Write + Send>>>,
    error: Option<RecordError>,
    /// Devices with a `lost` line written.
    lost: Vec<u32>,
}

/// The handle that finishes what a [`RecordingSensor`] wrote.
pub struct Recording {
    state: Arc<Mutex<RecordingState>>,
}

impl fmt::Debug for Recording {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Recording").finish_non_exhaustive()
    }
}

impl RecordingSensor {
    /// Start a trace of `inner`'s devices on `out` (`meta` and `device`
    /// lines now), and the sensor that records the samples.
    ///
    /// A `meta` without `clock_unix_ns` gets the one `inner` tells
    /// ([`Sensor::clock_unix_ns`]), so that the recording can be aligned
    /// with a profiler trace later.
    ///
    /// # Errors
    /// As [`Recorder::new`].
    pub fn new(
        inner: Box<dyn Sensor>,
        out: Box<dyn Write + Send>,
        meta: &TraceMeta,
    ) -> Result<(RecordingSensor, Recording), RecordError> {
        let mut meta = meta.clone();
        meta.clock_unix_ns = meta.clock_unix_ns.or_else(|| inner.clock_unix_ns());
        let recorder = Recorder::new(out, &meta, inner.devices())?;
        let state = Arc::new(Mutex::new(RecordingState {
            recorder: Some(recorder),
            error: None,
            lost: Vec::new(),
        }));
        let handle = Recording {
            state: Arc::clone(&state),
        };
        Ok((RecordingSensor { inner, state }, handle))
    }
}

impl Sensor for RecordingSensor {
    fn source(&self) -> &str {
        self.inner.source()
    }

    fn devices(&self) -> &[DeviceInfo] {
        self.inner.devices()
    }

    fn sample(&mut self, device: u32) -> Result<Sample, SensorError> {
        let result = self.inner.sample(device);
        let now = self.inner.now_ns();
        let mut guard = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let st = &mut *guard;
        if st.error.is_some() {
            return result;
        }
        let written = match (&result, st.recorder.as_mut()) {
            (Ok(s), Some(r)) => r.record(device, s).and_then(|()| r.flush()),
            (Err(SensorError::DeviceLost { .. }), Some(r)) if !st.lost.contains(&device) => {
                st.lost.push(device);
                let t = match (now, r.last_t_ns(device)) {
                    (Some(now), Some(last)) => now.max(last),
                    (now, last) => now.or(last).unwrap_or(0),
                };
                r.record_lost(device, t).and_then(|()| r.flush())
            }
            _ => Ok(()),
        };
        if let Err(e) = written {
            st.error = Some(e);
        }
        result
    }

    fn now_ns(&self) -> Option<u64> {
        self.inner.now_ns()
    }

    fn clock_unix_ns(&self) -> Option<u64> {
        self.inner.clock_unix_ns()
    }

    fn update_period_ns(&self, device: u32) -> Option<u64> {
        self.inner.update_period_ns(device)
    }

    fn measures(&self, device: u32) -> Option<&MeasuredGpu> {
        self.inner.measures(device)
    }
}

impl Recording {
    /// Flush the trace.
    ///
    /// # Errors
    /// [`RecordingProblems`] when a write stopped the recording part-way, or
    /// flushing failed (or both).
    pub fn finish(self) -> Result<(), RecordingProblems> {
        let mut st = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let stopped = st.error.take();
        let flush = match st.recorder.take().map(Recorder::finish) {
            Some(Err(e)) => Some(e),
            _ => None,
        };
        if stopped.is_none() && flush.is_none() {
            Ok(())
        } else {
            Err(RecordingProblems { stopped, flush })
        }
    }
}

/// What went wrong with a [`RecordingSensor`]'s trace.
#[derive(Debug)]
pub struct RecordingProblems {
    /// The write that stopped the recording; the trace ends before it.
    pub stopped: Option<RecordError>,
    /// Flushing the trace at the end failed.
    pub flush: Option<RecordError>,
}
