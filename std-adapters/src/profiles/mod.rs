//! Kernel timelines read from profiler traces.
//!
//! A profiler trace of a real run holds what an energy estimate needs and a
//! hand-written model file does not: when each kernel ran, where, and with
//! which launch configuration. This module reads two kinds of trace into one
//! plain, compact data model that the timeline composer and the
//! launch-configuration mapper consume:
//!
//! - PyTorch profiler / Kineto Chrome-trace JSON, plain or gzip
//!   ([`kineto`]): streamed, so memory grows with the records kept, not
//!   with the file;
//! - Nsight Systems SQLite exports (`nsys export --type sqlite`)
//!   ([`nsys`], feature `nsys`).
//!
//! # The model
//!
//! A [`Profile`] holds one [`DeviceTimeline`] per device that ran anything,
//! in increasing device id. A timeline holds the device's properties when the
//! trace recorded them ([`DeviceProperties`]) and its [`KernelRecord`]s
//! (kernels, memory copies and memsets) sorted by start time, ties by end
//! time, then in the order the trace listed them. Kernel names are interned
//! once in the profile's [`NameTable`]; a record carries a [`NameId`].
//!
//! # Time
//!
//! Times are integer nanoseconds (`i64`), converted exactly:
//!
//! - Kineto writes `ts` and `dur` as decimal microseconds, either Unix time
//!   or relative to a top-level `baseTimeNanoseconds`. They are read from
//!   their decimal text, not through a binary float (an `f64` has a step of
//!   0.25 µs at today's Unix times, so `…519689.047` could not be told from
//!   `…519689.000`). `start_ns` is `baseTimeNanoseconds + ts × 1000` (Unix
//!   nanoseconds); digits below the nanosecond, which Kineto does not write,
//!   are rounded to the nearest nanosecond, halves away from zero.
//! - Nsight Systems writes integer nanoseconds on its session clock; they are
//!   kept unchanged.

pub mod compose;
mod json_split;
pub mod kineto;
#[cfg(feature = "nsys")]
pub mod nsys;

use std::collections::HashMap;
use std::fmt;
use std::fs::File;
use std::io::{self, Read};
use std::num::NonZeroU64;
use std::path::Path;

/// What a record is: the timeline composer charges kernels to compute units
/// and copies to the copy engines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum RecordKind {
    /// A kernel (Kineto `kernel`, Nsight `CUPTI_ACTIVITY_KIND_KERNEL`).
    Kernel = 0,
    /// A memory copy (Kineto `gpu_memcpy`, Nsight `CUPTI_ACTIVITY_KIND_MEMCPY`).
    Memcpy = 1,
    /// A memset (Kineto `gpu_memset`, Nsight `CUPTI_ACTIVITY_KIND_MEMSET`).
    Memset = 2,
}

/// Index of a name in a profile's [`NameTable`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NameId(pub u32);

/// One kernel, copy or memset as the trace recorded it: 64 bytes, so a
/// million records take 64 MB.
///
/// Launch fields (`grid`, `block`, registers, shared memory) are zero for
/// copies and memsets. The two figures PyTorch records from its own
/// occupancy calculation are `NaN` when the trace lacks them; read them
/// through [`KernelRecord::blocks_per_sm`] and
/// [`KernelRecord::achieved_occupancy_pct`]. Two records are equal when all
/// their fields are identical, so two records that both lack a figure are
/// equal (`NaN` is compared by its bits).
#[derive(Debug, Clone, Copy)]
pub struct KernelRecord {
    /// Start, in nanoseconds (see the module documentation for the clock).
    pub start_ns: i64,
    /// End, in nanoseconds; never before `start_ns`.
    pub end_ns: i64,
    /// The work done: for a kernel, its floating-point operations (the
    /// `flops` of the operator that launched it, shared among that
    /// operator's kernels in proportion to their durations); for a copy or a
    /// memset, its bytes. `None` when the trace did not record it (or
    /// recorded zero, which says nothing about the work).
    pub work: Option<NonZeroU64>,
    /// The kernel's name (for copies, e.g. `Memcpy HtoD (Pageable -> Device)`).
    pub name: NameId,
    /// The CUDA stream.
    pub stream: u32,
    /// Grid dimensions in blocks (x, y, z).
    pub grid: [u32; 3],
    /// Block dimensions in threads (x, y, z); CUDA allows at most 1024 per
    /// dimension.
    pub block: [u16; 3],
    /// Registers per thread; CUDA allows at most 255.
    pub registers_per_thread: u8,
    /// Kernel, copy or memset.
    pub kind: RecordKind,
    /// Shared memory per block, static plus dynamic, in bytes.
    pub shared_memory_bytes: u32,
    /// PyTorch's `blocks per SM`: the grid's blocks divided by the SM count
    /// (not the resident blocks per SM); `NaN` when absent.
    pub blocks_per_sm_recorded: f32,
    /// PyTorch's `est. achieved occupancy %`; `NaN` when absent.
    pub occupancy_pct_recorded: f32,
}

impl PartialEq for KernelRecord {
    fn eq(&self, o: &Self) -> bool {
        self.start_ns == o.start_ns
            && self.end_ns == o.end_ns
            && self.work == o.work
            && self.name == o.name
            && self.stream == o.stream
            && self.grid == o.grid
            && self.block == o.block
            && self.registers_per_thread == o.registers_per_thread
            && self.kind == o.kind
            && self.shared_memory_bytes == o.shared_memory_bytes
            && self.blocks_per_sm_recorded.to_bits() == o.blocks_per_sm_recorded.to_bits()
            && self.occupancy_pct_recorded.to_bits() == o.occupancy_pct_recorded.to_bits()
    }
}

impl KernelRecord {
    /// A record with no launch configuration and nothing else recorded yet:
    /// what a copy is, and where a reader starts a kernel.
    pub(crate) fn bare(
        kind: RecordKind,
        start_ns: i64,
        end_ns: i64,
        name: NameId,
        stream: u32,
    ) -> Self {
        KernelRecord {
            start_ns,
            end_ns,
            work: None,
            name,
            stream,
            grid: [0; 3],
            block: [0; 3],
            registers_per_thread: 0,
            kind,
            shared_memory_bytes: 0,
            blocks_per_sm_recorded: f32::NAN,
            occupancy_pct_recorded: f32::NAN,
        }
    }

    /// Duration in nanoseconds.
    pub fn duration_ns(&self) -> i64 {
        self.end_ns - self.start_ns
    }

    /// Threads per block.
    pub fn threads_per_block(&self) -> u32 {
        self.block.iter().map(|&d| u32::from(d)).product()
    }

    /// Blocks in the grid.
    pub fn blocks(&self) -> u64 {
        self.grid.iter().map(|&d| u64::from(d)).product()
    }

    /// The kernel's floating-point operations, when recorded.
    pub fn flops(&self) -> Option<u64> {
        match self.kind {
            RecordKind::Kernel => self.work.map(NonZeroU64::get),
            RecordKind::Memcpy | RecordKind::Memset => None,
        }
    }

    /// The bytes a copy or memset moved, when recorded.
    pub fn bytes(&self) -> Option<u64> {
        match self.kind {
            RecordKind::Kernel => None,
            RecordKind::Memcpy | RecordKind::Memset => self.work.map(NonZeroU64::get),
        }
    }

    /// PyTorch's `blocks per SM`, when recorded.
    pub fn blocks_per_sm(&self) -> Option<f32> {
        (!self.blocks_per_sm_recorded.is_nan()).then_some(self.blocks_per_sm_recorded)
    }

    /// PyTorch's `est. achieved occupancy %`, when recorded.
    pub fn achieved_occupancy_pct(&self) -> Option<f32> {
        (!self.occupancy_pct_recorded.is_nan()).then_some(self.occupancy_pct_recorded)
    }
}

/// A GPU's properties as the trace recorded them (Kineto `deviceProperties`,
/// Nsight `TARGET_INFO_GPU`). A field the trace did not record is `None`:
/// nothing is filled in from a catalog here, so a caller can tell what was
/// measured from what it assumes.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DeviceProperties {
    /// Device name, e.g. `NVIDIA A100-PG509-200`.
    pub name: String,
    /// Streaming multiprocessors.
    pub sm_count: Option<u32>,
    /// Compute capability (major, minor).
    pub compute_capability: Option<(u32, u32)>,
    /// Total device memory in bytes.
    pub total_memory_bytes: Option<u64>,
    /// Threads per warp.
    pub warp_size: Option<u32>,
    /// Most threads in one block.
    pub max_threads_per_block: Option<u32>,
    /// Most resident threads per SM (Kineto only).
    pub max_threads_per_sm: Option<u32>,
    /// Most resident warps per SM (Nsight only).
    pub max_warps_per_sm: Option<u32>,
    /// Most resident blocks per SM (Nsight only).
    pub max_blocks_per_sm: Option<u32>,
    /// 32-bit registers available to one block.
    pub registers_per_block: Option<u32>,
    /// 32-bit registers per SM.
    pub registers_per_sm: Option<u32>,
    /// Shared memory one block may use without opting in, bytes.
    pub shared_memory_per_block: Option<u32>,
    /// Shared memory one block may use when it opts in, bytes.
    pub shared_memory_per_block_optin: Option<u32>,
    /// Shared memory per SM, bytes.
    pub shared_memory_per_sm: Option<u32>,
}

/// Everything one device ran.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct DeviceTimeline {
    /// CUDA device id (Kineto `args.device`, Nsight `deviceId`).
    pub device: u32,
    /// The device's properties, when the trace recorded them.
    pub properties: Option<DeviceProperties>,
    /// Kernels, copies and memsets, sorted by `(start_ns, end_ns)`, ties in
    /// trace order.
    pub records: Vec<KernelRecord>,
}

impl DeviceTimeline {
    /// The kernels only, in start order.
    pub fn kernels(&self) -> impl Iterator<Item = &KernelRecord> {
        self.records.iter().filter(|r| r.kind == RecordKind::Kernel)
    }

    /// First start and last end over all records, `None` when empty.
    pub fn span_ns(&self) -> Option<(i64, i64)> {
        let first = self.records.first()?.start_ns;
        let last = self.records.iter().map(|r| r.end_ns).max()?;
        Some((first, last))
    }

    /// The streams used, in increasing order.
    pub fn streams(&self) -> Vec<u32> {
        let mut streams: Vec<u32> = self.records.iter().map(|r| r.stream).collect();
        streams.sort_unstable();
        streams.dedup();
        streams
    }
}

/// Which reader produced a profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TraceFormat {
    /// PyTorch profiler / Kineto Chrome-trace JSON.
    Kineto,
    /// Nsight Systems SQLite export.
    NsightSqlite,
}

/// The kernel names of a profile, each stored once.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NameTable {
    names: Vec<Box<str>>,
}

impl NameTable {
    /// The name with this id, `None` for an id from another profile.
    pub fn get(&self, id: NameId) -> Option<&str> {
        self.names.get(id.0 as usize).map(|s| &**s)
    }

    /// Number of distinct names.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// Whether there are no names.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// Every name with its id, in id order.
    pub fn iter(&self) -> impl Iterator<Item = (NameId, &str)> {
        self.names
            .iter()
            .enumerate()
            .map(|(i, s)| (NameId(i as u32), &**s))
    }
}

/// A trace read into memory: one timeline per device.
#[derive(Debug, Clone, PartialEq)]
pub struct Profile {
    /// The reader that produced it.
    pub format: TraceFormat,
    /// Kernel names.
    pub names: NameTable,
    /// One timeline per device that ran at least one record, by device id.
    pub devices: Vec<DeviceTimeline>,
}

impl Profile {
    /// The timeline of one device.
    pub fn device(&self, device: u32) -> Option<&DeviceTimeline> {
        self.devices.iter().find(|d| d.device == device)
    }

    /// A record's name (empty for a record of another profile).
    pub fn name(&self, record: &KernelRecord) -> &str {
        self.names.get(record.name).unwrap_or("")
    }

    /// Kernels over all devices.
    pub fn kernel_count(&self) -> usize {
        self.devices.iter().map(|d| d.kernels().count()).sum()
    }
}

/// Where in a trace a bad record is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// Kineto: the event's position in `traceEvents`, from 0.
    Event(usize),
    /// Nsight: a row of a table.
    Row {
        /// The table.
        table: &'static str,
        /// The row's `rowid`.
        rowid: i64,
    },
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::Event(i) => write!(f, "event {i} of traceEvents"),
            Location::Row { table, rowid } => write!(f, "row {rowid} of {table}"),
        }
    }
}

/// What is wrong with one record.
#[derive(Debug, Clone, PartialEq)]
pub enum RecordProblem {
    /// A field the record needs is absent.
    MissingField(&'static str),
    /// The record ends before it starts.
    NegativeDuration {
        /// The duration, in nanoseconds (negative).
        duration_ns: i128,
    },
    /// A field has a value that cannot be right.
    InvalidField {
        /// The field.
        field: &'static str,
        /// Why.
        reason: String,
    },
}

impl fmt::Display for RecordProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RecordProblem::MissingField(field) => write!(f, "it has no `{field}`"),
            RecordProblem::NegativeDuration { duration_ns } => {
                write!(f, "its duration is negative ({duration_ns} ns)")
            }
            RecordProblem::InvalidField { field, reason } => write!(f, "`{field}` {reason}"),
        }
    }
}

/// Why a trace could not be read. Every variant says where.
#[derive(Debug)]
pub enum ProfileError {
    /// The file could not be opened or read.
    Io(io::Error),
    /// The JSON is malformed (or gzip data is corrupt), at this position of
    /// the decompressed text.
    Json {
        /// Line, from 1.
        line: usize,
        /// Column, from 1.
        column: usize,
        /// The parser's words.
        message: String,
    },
    /// The input is readable but is not a trace of a kind this module reads.
    NotATrace(String),
    /// The trace holds no kernel.
    NoKernels,
    /// One record is bad.
    Record {
        /// Where it is.
        at: Location,
        /// Its name, shortened to at most 120 characters.
        name: String,
        /// What is wrong.
        problem: RecordProblem,
    },
    /// SQLite refused a query (Nsight exports).
    Sqlite(String),
}

impl ProfileError {
    pub(crate) fn record(at: Location, name: &str, problem: RecordProblem) -> Self {
        const MAX: usize = 120;
        let name = match name.char_indices().nth(MAX) {
            Some((cut, _)) => format!("{}…", &name[..cut]),
            None => name.to_owned(),
        };
        ProfileError::Record { at, name, problem }
    }
}

impl fmt::Display for ProfileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProfileError::Io(e) => write!(f, "reading the trace: {e}"),
            ProfileError::Json {
                line,
                column,
                message,
            } => write!(
                f,
                "the trace is not valid JSON (line {line}, column {column}): {message}"
            ),
            ProfileError::NotATrace(why) => write!(f, "not a profiler trace: {why}"),
            ProfileError::NoKernels => write!(f, "the trace holds no GPU kernel"),
            ProfileError::Record { at, name, problem } => {
                write!(f, "{at} (\"{name}\"): {problem}")
            }
            ProfileError::Sqlite(message) => write!(f, "reading the Nsight export: {message}"),
        }
    }
}

impl std::error::Error for ProfileError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ProfileError::Io(e) => Some(e),
            _ => None,
        }
    }
}

impl From<io::Error> for ProfileError {
    fn from(e: io::Error) -> Self {
        ProfileError::Io(e)
    }
}

/// Reads a trace file of either kind, told apart by its first bytes: an
/// SQLite database is an Nsight export, anything else is read as Kineto JSON
/// (gzip or plain).
pub fn read_profile(path: &Path) -> Result<Profile, ProfileError> {
    let mut head = [0u8; 16];
    let mut file = File::open(path)?;
    let mut got = 0;
    while got < head.len() {
        match file.read(&mut head[got..])? {
            0 => break,
            n => got += n,
        }
    }
    if head[..got] == *b"SQLite format 3\0" {
        #[cfg(feature = "nsys")]
        return nsys::read_nsys_sqlite(path);
        #[cfg(not(feature = "nsys"))]
        return Err(ProfileError::NotATrace(
            "an SQLite database (Nsight export); this build lacks the `nsys` feature".into(),
        ));
    }
    kineto::read_kineto_file(path)
}

/// Interns names while a trace is read; becomes the [`NameTable`].
#[derive(Debug, Default)]
pub(crate) struct Interner {
    ids: HashMap<Box<str>, u32>,
}

impl Interner {
    /// The id of `name`, adding it when new. Fails only past 2³² names.
    pub(crate) fn intern(&mut self, name: &str) -> Option<NameId> {
        if let Some(&id) = self.ids.get(name) {
            return Some(NameId(id));
        }
        let id = u32::try_from(self.ids.len()).ok()?;
        self.ids.insert(name.into(), id);
        Some(NameId(id))
    }

    pub(crate) fn finish(self) -> NameTable {
        let mut pairs: Vec<(u32, Box<str>)> = self.ids.into_iter().map(|(s, i)| (i, s)).collect();
        pairs.sort_unstable_by_key(|&(i, _)| i);
        NameTable {
            names: pairs.into_iter().map(|(_, s)| s).collect(),
        }
    }
}

/// Builds the profile: one timeline per device with records, by device id,
/// each with its properties when known, records sorted by start then end
/// (a stable sort: ties keep trace order).
pub(crate) fn assemble(
    format: TraceFormat,
    names: Interner,
    devices: std::collections::BTreeMap<u32, Vec<KernelRecord>>,
    mut properties: HashMap<u32, DeviceProperties>,
) -> Profile {
    let devices = devices
        .into_iter()
        .filter(|(_, records)| !records.is_empty())
        .map(|(device, mut records)| {
            records.sort_by_key(|r| (r.start_ns, r.end_ns));
            DeviceTimeline {
                device,
                properties: properties.remove(&device),
                records,
            }
        })
        .collect();
    Profile {
        format,
        names: names.finish(),
        devices,
    }
}
