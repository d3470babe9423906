//! Recorded traces: write them from any sensor, read them back as a sensor.
//!
//! A trace lets every path downstream of a sensor (the meter, the exporters,
//! the command) run offline and in tests, on numbers that once came from real
//! hardware. The format, `wattledger-trace/1`, is JSON lines (one JSON object
//! per line, UTF-8, `\n` between lines); `docs/trace-format.md` is its full
//! description. In short:
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
//!    of one device never decreases.
//!
//! Blank lines are skipped; fields a reader does not know are ignored, so
//! that later `/1` writers may add some. Every error names the line number
//! (from 1) and, where one is at fault, the field.
//!
//! [`ReplaySensor`] reads a trace into memory and hands out each device's
//! samples in order; [`Recorder`] and [`record`] write one.

use std::fmt;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Write};
use std::path::Path;
use std::thread;
use std::time::Duration;

use serde_json::{Map, Value};
use wattledger_core::meter::Sample;

use crate::sensors::{DeviceInfo, MigInfo, Sensor, SensorError};

/// The format name and version written in, and required of, the `meta` line.
pub const TRACE_FORMAT: &str = "wattledger-trace/1";

/// The trace's `meta` line, less `type` and `format`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TraceMeta {
    /// The sensor the trace was recorded from (its [`Sensor::source`]: "nvml", "jetson").
    pub source: String,
    /// The program that wrote the trace, if it said.
    pub recorded_by: Option<String>,
    /// Free text, if any.
    pub note: Option<String>,
}

impl TraceMeta {
    /// A `meta` for a trace of `source`, recorded by this library.
    pub fn new(source: impl Into<String>) -> Self {
        TraceMeta {
            source: source.into(),
            recorded_by: Some(concat!("wattledger-std ", env!("CARGO_PKG_VERSION")).to_owned()),
            note: None,
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
    pub fn read<R: BufRead>(reader: R) -> Result<Trace, TraceError> {
        let mut trace = Trace::default();
        let mut seen_meta = false;
        let mut seen_sample = false;
        // Last t_ns per device, by position in `trace.devices`.
        let mut last_t: Vec<Option<u64>> = Vec::new();
        for (i, line) in reader.lines().enumerate() {
            let n = i + 1;
            let line = line.map_err(|e| TraceError::Io {
                line: n,
                message: e.to_string(),
            })?;
            if line.trim().is_empty() {
                continue;
            }
            let value: Value = serde_json::from_str(&line)
                .map_err(|e| invalid(n, None, format!("not a JSON object: {e}")))?;
            let Value::Object(obj) = value else {
                return Err(invalid(n, None, "not a JSON object"));
            };
            let kind = match obj.get("type") {
                Some(Value::String(s)) => s.as_str(),
                Some(_) => return Err(invalid(n, Some("type"), "should be a string")),
                None => return Err(invalid(n, Some("type"), "missing")),
            };
            if !seen_meta {
                if kind != "meta" {
                    return Err(invalid(
                        n,
                        Some("type"),
                        format!("the first line should be the `meta` line, found `{kind}`"),
                    ));
                }
                trace.meta = parse_meta(n, &obj)?;
                seen_meta = true;
                continue;
            }
            match kind {
                "meta" => return Err(invalid(n, Some("type"), "a second `meta` line")),
                "device" => {
                    if seen_sample {
                        return Err(invalid(
                            n,
                            Some("type"),
                            "`device` lines must come before every `sample` line",
                        ));
                    }
                    let info = parse_device(n, &obj)?;
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
                "sample" => {
                    seen_sample = true;
                    let ts = parse_sample(n, &obj)?;
                    let pos = trace
                        .devices
                        .iter()
                        .position(|d| d.index == ts.device)
                        .ok_or_else(|| {
                            invalid(
                                n,
                                Some("device"),
                                format!("device {} has no `device` line", ts.device),
                            )
                        })?;
                    if let Some(slot) = last_t.get_mut(pos) {
                        if let Some(prev) = *slot {
                            if ts.sample.t_ns < prev {
                                return Err(invalid(
                                    n,
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
                    trace.samples.push(ts);
                }
                other => {
                    return Err(invalid(
                        n,
                        Some("type"),
                        format!("unknown line type `{other}` (expected meta, device or sample)"),
                    ));
                }
            }
        }
        if !seen_meta {
            return Err(TraceError::Empty);
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
        for ts in &self.samples {
            rec.record(ts.device, &ts.sample)?;
        }
        rec.finish()
    }
}

fn opt_string(
    n: usize,
    obj: &Map<String, Value>,
    field: &str,
) -> Result<Option<String>, TraceError> {
    match obj.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(invalid(n, Some(field), "should be a string or null")),
    }
}

fn parse_meta(n: usize, obj: &Map<String, Value>) -> Result<TraceMeta, TraceError> {
    match obj.get("format") {
        Some(Value::String(f)) if f == TRACE_FORMAT => {}
        Some(Value::String(f)) => {
            return Err(invalid(
                n,
                Some("format"),
                format!("this reader understands {TRACE_FORMAT}, not `{f}`"),
            ));
        }
        Some(_) => return Err(invalid(n, Some("format"), "should be a string")),
        None => return Err(invalid(n, Some("format"), "missing")),
    }
    let source =
        opt_string(n, obj, "source")?.ok_or_else(|| invalid(n, Some("source"), "missing"))?;
    Ok(TraceMeta {
        source,
        recorded_by: opt_string(n, obj, "recorded_by")?,
        note: opt_string(n, obj, "note")?,
    })
}

fn parse_device(n: usize, obj: &Map<String, Value>) -> Result<DeviceInfo, TraceError> {
    // Field by field, so that every error can name its field.
    let index =
        narrow_u32(Some(required_uint(n, obj, "index", u64::from(u32::MAX))?)).unwrap_or(u32::MAX);
    let name = opt_string(n, obj, "name")?.ok_or_else(|| invalid(n, Some("name"), "missing"))?;
    let uuid = opt_string(n, obj, "uuid")?.ok_or_else(|| invalid(n, Some("uuid"), "missing"))?;
    let has_energy_counter = match obj.get("has_energy_counter") {
        Some(Value::Bool(b)) => *b,
        Some(_) => {
            return Err(invalid(
                n,
                Some("has_energy_counter"),
                "should be true or false",
            ));
        }
        None => return Err(invalid(n, Some("has_energy_counter"), "missing")),
    };
    let architecture = narrow_u32(optional_uint(n, obj, "architecture", u64::from(u32::MAX))?);
    let pci_device_id = optional_uint(n, obj, "pci_device_id", u64::from(u16::MAX))?
        .and_then(|v| u16::try_from(v).ok());
    let mig = match obj.get("mig") {
        None | Some(Value::Null) => None,
        Some(v) => Some(
            serde_json::from_value::<MigInfo>(v.clone())
                .map_err(|e| invalid(n, Some("mig"), format!("not a MIG state: {e}")))?,
        ),
    };
    Ok(DeviceInfo {
        index,
        name,
        uuid,
        architecture,
        pci_device_id,
        has_energy_counter,
        mig,
    })
}

fn required_uint(
    n: usize,
    obj: &Map<String, Value>,
    field: &str,
    max: u64,
) -> Result<u64, TraceError> {
    optional_uint(n, obj, field, max)?.ok_or_else(|| invalid(n, Some(field), "missing"))
}

fn optional_uint(
    n: usize,
    obj: &Map<String, Value>,
    field: &str,
    max: u64,
) -> Result<Option<u64>, TraceError> {
    match obj.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(num)) => match num.as_u64() {
            Some(v) if v <= max => Ok(Some(v)),
            _ => Err(invalid(
                n,
                Some(field),
                format!("should be a whole number from 0 to {max}, found {num}"),
            )),
        },
        Some(other) => Err(invalid(
            n,
            Some(field),
            format!("should be a whole number from 0 to {max}, found {other}"),
        )),
    }
}

fn narrow_u32(v: Option<u64>) -> Option<u32> {
    // Callers pass values already checked against u32::MAX.
    v.and_then(|v| u32::try_from(v).ok())
}

fn parse_sample(n: usize, obj: &Map<String, Value>) -> Result<TraceSample, TraceError> {
    let u32_max = u64::from(u32::MAX);
    let device = narrow_u32(Some(required_uint(n, obj, "device", u32_max)?)).unwrap_or(u32::MAX);
    let t_ns = required_uint(n, obj, "t_ns", u64::MAX)?;
    let energy_mj = optional_uint(n, obj, "energy_mj", u64::MAX)?;
    let power_mw = narrow_u32(optional_uint(n, obj, "power_mw", u32_max)?);
    let gated_units = narrow_u32(optional_uint(n, obj, "gated_units", u32_max)?);
    Ok(TraceSample {
        device,
        sample: Sample {
            t_ns,
            energy_mj,
            power_mw,
            gated_units,
        },
    })
}

/// A recorded trace as a [`Sensor`]: each device hands out its samples in order.
///
/// The whole trace is read and checked when the sensor is made, so a bad line
/// is reported before any sample is handed out. Each device has its own
/// cursor: sampling device 1 does not move device 0 along.
#[derive(Debug, Clone)]
pub struct ReplaySensor {
    trace: Trace,
    /// Positions in `trace.samples` of each device's samples, by device position.
    by_device: Vec<Vec<usize>>,
    /// How many of each device's samples were handed out.
    cursors: Vec<usize>,
}

impl ReplaySensor {
    /// Read a trace from any buffered reader.
    ///
    /// # Errors
    /// As [`Trace::read`].
    pub fn from_reader<R: BufRead>(reader: R) -> Result<Self, TraceError> {
        ReplaySensor::from_trace(Trace::read(reader)?)
    }

    /// Read a trace from a file.
    ///
    /// # Errors
    /// As [`Trace::from_path`].
    pub fn from_path(path: impl AsRef<Path>) -> Result<Self, TraceError> {
        ReplaySensor::from_trace(Trace::from_path(path)?)
    }

    /// Replay a trace already in memory, after checking it as
    /// [`Trace::validate`] does.
    ///
    /// # Errors
    /// As [`Trace::validate`].
    pub fn from_trace(trace: Trace) -> Result<Self, TraceError> {
        trace.validate()?;
        let mut by_device = vec![Vec::new(); trace.devices.len()];
        for (i, ts) in trace.samples.iter().enumerate() {
            if let Some(list) = trace
                .devices
                .iter()
                .position(|d| d.index == ts.device)
                .and_then(|p| by_device.get_mut(p))
            {
                list.push(i);
            }
        }
        let cursors = vec![0; trace.devices.len()];
        Ok(ReplaySensor {
            trace,
            by_device,
            cursors,
        })
    }

    /// The trace's `meta` line (its `source` is the original sensor's).
    pub fn meta(&self) -> &TraceMeta {
        &self.trace.meta
    }

    /// The whole trace.
    pub fn trace(&self) -> &Trace {
        &self.trace
    }

    /// Every sample of every device, in recorded order, whatever was handed out.
    pub fn all_samples(&self) -> &[TraceSample] {
        &self.trace.samples
    }

    /// Every recorded sample of `device`, in order, whatever was handed out.
    ///
    /// # Errors
    /// [`SensorError::NoSuchDevice`] when the trace has no such device.
    pub fn samples(&self, device: u32) -> Result<impl Iterator<Item = Sample> + '_, SensorError> {
        let pos = self.position(device)?;
        let list = self.by_device.get(pos).map_or(&[][..], Vec::as_slice);
        Ok(list
            .iter()
            .filter_map(|&i| self.trace.samples.get(i).map(|ts| ts.sample)))
    }

    /// How many samples of `device` are still to be handed out.
    ///
    /// # Errors
    /// [`SensorError::NoSuchDevice`] when the trace has no such device.
    pub fn remaining(&self, device: u32) -> Result<usize, SensorError> {
        let pos = self.position(device)?;
        let total = self.by_device.get(pos).map_or(0, Vec::len);
        let done = self.cursors.get(pos).copied().unwrap_or(0);
        Ok(total.saturating_sub(done))
    }

    /// Start every device from its first sample again.
    pub fn rewind(&mut self) {
        self.cursors.iter_mut().for_each(|c| *c = 0);
    }

    fn position(&self, device: u32) -> Result<usize, SensorError> {
        self.trace
            .devices
            .iter()
            .position(|d| d.index == device)
            .ok_or(SensorError::NoSuchDevice { device })
    }
}

impl Sensor for ReplaySensor {
    fn source(&self) -> &str {
        "replay"
    }

    fn devices(&self) -> &[DeviceInfo] {
        &self.trace.devices
    }

    /// The next recorded sample of `device`.
    ///
    /// # Errors
    /// [`SensorError::NoSuchDevice`] when the trace has no such device;
    /// [`SensorError::EndOfTrace`] when all its samples were handed out (and
    /// on every later call, until [`ReplaySensor::rewind`]).
    fn sample(&mut self, device: u32) -> Result<Sample, SensorError> {
        let pos = self.position(device)?;
        let cursor = self.cursors.get(pos).copied().unwrap_or(0);
        let sample = self
            .by_device
            .get(pos)
            .and_then(|list| list.get(cursor))
            .and_then(|&i| self.trace.samples.get(i))
            .map(|ts| ts.sample)
            .ok_or(SensorError::EndOfTrace)?;
        if let Some(c) = self.cursors.get_mut(pos) {
            *c += 1;
        }
        Ok(sample)
    }
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
/// back by [`ReplaySensor`]. Wrap a file in a [`io::BufWriter`]; call
/// [`Recorder::finish`] to flush it.
#[derive(Debug)]
pub struct Recorder<W: Write> {
    out: W,
    /// Declared device indexes and the last `t_ns` written for each.
    devices: Vec<(u32, Option<u64>)>,
    lines: usize,
}

#[derive(serde::Serialize)]
struct MetaLine<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    format: &'static str,
    source: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    recorded_by: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    note: Option<&'a str>,
}

#[derive(serde::Serialize)]
struct DeviceLine<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(flatten)]
    info: &'a DeviceInfo,
}

#[derive(serde::Serialize)]
struct SampleLine {
    #[serde(rename = "type")]
    kind: &'static str,
    device: u32,
    t_ns: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    energy_mj: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    power_mw: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    gated_units: Option<u32>,
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
        write_line(
            &mut out,
            &MetaLine {
                kind: "meta",
                format: TRACE_FORMAT,
                source: &meta.source,
                recorded_by: meta.recorded_by.as_deref(),
                note: meta.note.as_deref(),
            },
        )?;
        for info in devices {
            write_line(
                &mut out,
                &DeviceLine {
                    kind: "device",
                    info,
                },
            )?;
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
        Recorder::new(out, &meta, sensor.devices())
    }

    /// Write one sample of `device`.
    ///
    /// # Errors
    /// [`RecordError::UnknownDevice`] or [`RecordError::TimeWentBack`]
    /// (nothing is written, the recorder is unchanged); [`RecordError::Io`]
    /// when writing fails.
    pub fn record(&mut self, device: u32, sample: &Sample) -> Result<(), RecordError> {
        let slot = self
            .devices
            .iter_mut()
            .find(|(i, _)| *i == device)
            .ok_or(RecordError::UnknownDevice { device })?;
        if let Some(previous_ns) = slot.1 {
            if sample.t_ns < previous_ns {
                return Err(RecordError::TimeWentBack {
                    device,
                    previous_ns,
                    t_ns: sample.t_ns,
                });
            }
        }
        write_line(
            &mut self.out,
            &SampleLine {
                kind: "sample",
                device,
                t_ns: sample.t_ns,
                energy_mj: sample.energy_mj,
                power_mw: sample.power_mw,
                gated_units: sample.gated_units,
            },
        )?;
        slot.1 = Some(sample.t_ns);
        self.lines += 1;
        Ok(())
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

    /// Flush the output and hand it back.
    ///
    /// # Errors
    /// [`RecordError::Io`] when flushing fails.
    pub fn finish(mut self) -> Result<W, RecordError> {
        self.out.flush()?;
        Ok(self.out)
    }
}

fn write_line<W: Write, T: serde::Serialize>(out: &mut W, line: &T) -> Result<(), RecordError> {
    // Serialise first, so a failure cannot leave half a line behind.
    let mut text = serde_json::to_string(line).map_err(|e| RecordError::Io(e.into()))?;
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
