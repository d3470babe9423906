//! Nsight Systems SQLite exports (`nsys export --type sqlite`).
//!
//! Read with the columns of NVIDIA's documented export schema:
//!
//! - `CUPTI_ACTIVITY_KIND_KERNEL`: `start`, `end` (ns), `deviceId`,
//!   `streamId`, `gridX/Y/Z`, `blockX/Y/Z`, `registersPerThread`,
//!   `staticSharedMemory` + `dynamicSharedMemory`, and the name from
//!   `StringIds` through `demangledName` (the full name, as Kineto writes
//!   it), else `shortName`;
//! - `CUPTI_ACTIVITY_KIND_MEMCPY` (`bytes`, `copyKind`) and
//!   `CUPTI_ACTIVITY_KIND_MEMSET` (`bytes`), when present;
//! - `TARGET_INFO_GPU`: the properties of each GPU, matched to `deviceId` by
//!   its `cuDevice` column (the CUDA device id), or by `id` in exports that
//!   lack `cuDevice`. Only the columns an export has are read.
//!
//! Times stay on Nsight's clock, in integer nanoseconds. Errors name the
//! table and `rowid`.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use rusqlite::types::Value;
use rusqlite::{Connection, OpenFlags, Row};

use super::{
    DeviceProperties, Interner, KernelRecord, Location, NameId, Profile, ProfileError, RecordKind,
    RecordProblem, TraceFormat, assemble,
};

const KERNEL: &str = "CUPTI_ACTIVITY_KIND_KERNEL";
const MEMCPY: &str = "CUPTI_ACTIVITY_KIND_MEMCPY";
const MEMSET: &str = "CUPTI_ACTIVITY_KIND_MEMSET";
const GPU: &str = "TARGET_INFO_GPU";

impl From<rusqlite::Error> for ProfileError {
    fn from(e: rusqlite::Error) -> Self {
        match e {
            rusqlite::Error::SqliteFailure(f, _) if f.code == rusqlite::ErrorCode::NotADatabase => {
                ProfileError::NotATrace("not an SQLite database".into())
            }
            e => ProfileError::Sqlite(e.to_string()),
        }
    }
}

/// Reads an Nsight Systems SQLite export, opened read-only.
pub fn read_nsys_sqlite(path: &Path) -> Result<Profile, ProfileError> {
    if !path.exists() {
        return Err(ProfileError::Io(std::io::Error::new(
            std::io::ErrorKind::NotFound,
            format!("{} does not exist", path.display()),
        )));
    }
    let db = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    read_connection(&db)
}

/// Reads an export from an open connection (a file or an in-memory
/// database built by a test).
pub fn read_connection(db: &Connection) -> Result<Profile, ProfileError> {
    let tables = table_names(db)?;
    if !tables.contains_key(KERNEL) {
        return Err(if tables.contains_key("StringIds") {
            ProfileError::NoKernels
        } else {
            ProfileError::NotATrace(format!("no {KERNEL} or StringIds table"))
        });
    }
    let mut reader = Reader {
        db,
        names: Interner::default(),
        string_ids: HashMap::new(),
        devices: BTreeMap::new(),
    };
    reader.kernels()?;
    if reader.devices.values().all(Vec::is_empty) {
        return Err(ProfileError::NoKernels);
    }
    if tables.contains_key(MEMCPY) {
        reader.copies(MEMCPY, RecordKind::Memcpy)?;
    }
    if tables.contains_key(MEMSET) {
        reader.copies(MEMSET, RecordKind::Memset)?;
    }
    let properties = if tables.contains_key(GPU) {
        gpu_properties(db)?
    } else {
        HashMap::new()
    };
    Ok(assemble(
        TraceFormat::NsightSqlite,
        reader.names,
        reader.devices,
        properties,
    ))
}

fn table_names(db: &Connection) -> Result<HashMap<String, ()>, ProfileError> {
    let mut stmt = db.prepare("SELECT name FROM sqlite_master WHERE type IN ('table', 'view')")?;
    let names = stmt
        .query_map([], |row| row.get::<_, String>(0))?
        .map(|n| n.map(|n| (n, ())))
        .collect::<Result<_, _>>()?;
    Ok(names)
}

fn column_names(db: &Connection, table: &str) -> Result<Vec<String>, ProfileError> {
    let mut stmt = db.prepare(&format!("PRAGMA table_info(\"{table}\")"))?;
    let names = stmt
        .query_map([], |row| row.get::<_, String>(1))?
        .collect::<Result<_, _>>()?;
    Ok(names)
}

struct Reader<'a> {
    db: &'a Connection,
    names: Interner,
    /// `StringIds.id` → interned name, so each string is fetched once.
    string_ids: HashMap<i64, NameId>,
    devices: BTreeMap<u32, Vec<KernelRecord>>,
}

/// Reads integer column `i` as `T`, naming the row and field when it is
/// NULL, not an integer, or out of `T`'s range.
fn int<T: TryFrom<i64>>(
    row: &Row,
    i: usize,
    field: &'static str,
    at: &dyn Fn() -> Location,
) -> Result<T, ProfileError> {
    let value: Value = row.get(i)?;
    let bad = |reason: String| {
        ProfileError::record(at(), "", RecordProblem::InvalidField { field, reason })
    };
    match value {
        Value::Integer(v) => T::try_from(v).map_err(|_| bad(format!("is {v}, out of range"))),
        Value::Null => Err(ProfileError::record(
            at(),
            "",
            RecordProblem::MissingField(field),
        )),
        _ => Err(bad("is not an integer".into())),
    }
}

impl Reader<'_> {
    fn name_of(&mut self, string_id: i64) -> Result<Option<NameId>, ProfileError> {
        if let Some(&id) = self.string_ids.get(&string_id) {
            return Ok(Some(id));
        }
        let Some(text) = string_value(self.db, string_id)? else {
            return Ok(None);
        };
        let id = self.names.intern(&text).ok_or_else(|| {
            ProfileError::NotATrace("more than 2^32 distinct kernel names".into())
        })?;
        self.string_ids.insert(string_id, id);
        Ok(Some(id))
    }

    fn kernels(&mut self) -> Result<(), ProfileError> {
        let db = self.db;
        let mut stmt = db.prepare(
            "SELECT rowid, start, \"end\", deviceId, streamId, gridX, gridY, gridZ, \
             blockX, blockY, blockZ, registersPerThread, staticSharedMemory, \
             dynamicSharedMemory, demangledName, shortName FROM CUPTI_ACTIVITY_KIND_KERNEL",
        )?;
        let mut rows = stmt.query([])?;
        while let Some(row) = rows.next()? {
            let rowid: i64 = row.get(0)?;
            let at = || Location::Row {
                table: KERNEL,
                rowid,
            };
            let demangled: Option<i64> = row.get(14)?;
            let short: Option<i64> = row.get(15)?;
            let mut name = None;
            for sid in [demangled, short].into_iter().flatten() {
                if name.is_none() {
                    name = self.name_of(sid)?.map(|n| (n, sid));
                }
            }
            let (name, sid) = match name {
                Some(n) => n,
                None => (self.names.intern("").unwrap_or(NameId(0)), -1),
            };
            match kernel_row(row, &at, name) {
                Ok((device, record)) => self.devices.entry(device).or_default().push(record),
                // Name the kernel in the error: its text is fetched again
                // only on this path.
                Err(ProfileError::Record { at, problem, .. }) => {
                    let text = string_value(db, sid)?.unwrap_or_default();
                    return Err(ProfileError::record(at, &text, problem));
                }
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    fn copies(&mut self, table: &'static str, kind: RecordKind) -> Result<(), ProfileError> {
        let db = self.db;
        let copy_kind = if kind == RecordKind::Memcpy {
            "copyKind"
        } else {
            "0"
        };
        let mut stmt = db.prepare(&format!(
            "SELECT rowid, start, \"end\", deviceId, streamId, bytes, {copy_kind} FROM {table}"
        ))?;
        let mut rows = stmt.query([])?;
        while let Some(row) = rows.next()? {
            let rowid: i64 = row.get(0)?;
            let at = || Location::Row { table, rowid };
            let label = match kind {
                RecordKind::Memset => "Memset",
                _ => memcpy_label(row.get::<_, Option<i64>>(6)?.unwrap_or(0)),
            };
            let name = self
                .names
                .intern(label)
                .ok_or_else(|| ProfileError::NotATrace("too many names".into()))?;
            let (start_ns, end_ns) = times(row, &at, label)?;
            let device: u32 = int(row, 3, "deviceId", &at)?;
            let stream: u32 = int(row, 4, "streamId", &at)?;
            let bytes: Option<i64> = row.get(5)?;
            let mut record = KernelRecord::bare(kind, start_ns, end_ns, name, stream);
            record.work = bytes
                .and_then(|b| u64::try_from(b).ok())
                .and_then(std::num::NonZeroU64::new);
            self.devices.entry(device).or_default().push(record);
        }
        Ok(())
    }
}

fn string_value(db: &Connection, id: i64) -> Result<Option<String>, ProfileError> {
    let mut stmt = db.prepare("SELECT value FROM StringIds WHERE id = ?1")?;
    let mut rows = stmt.query([id])?;
    match rows.next()? {
        Some(row) => Ok(row.get(0)?),
        None => Ok(None),
    }
}

fn times(row: &Row, at: &dyn Fn() -> Location, name: &str) -> Result<(i64, i64), ProfileError> {
    let start: i64 = int(row, 1, "start", at)?;
    let end: i64 = int(row, 2, "end", at)?;
    if end < start {
        return Err(ProfileError::record(
            at(),
            name,
            RecordProblem::NegativeDuration {
                duration_ns: i128::from(end) - i128::from(start),
            },
        ));
    }
    Ok((start, end))
}

fn kernel_row(
    row: &Row,
    at: &dyn Fn() -> Location,
    name: NameId,
) -> Result<(u32, KernelRecord), ProfileError> {
    let (start_ns, end_ns) = times(row, at, "")?;
    let device: u32 = int(row, 3, "deviceId", at)?;
    let stream: u32 = int(row, 4, "streamId", at)?;
    // Launch dimensions are at least 1; a block dimension fits in u16
    // (CUDA allows 1024), a grid dimension in u32.
    let dim = |i: usize, field: &'static str, max: i64| -> Result<i64, ProfileError> {
        let v: i64 = int(row, i, field, at)?;
        if (1..=max).contains(&v) {
            Ok(v)
        } else {
            Err(ProfileError::record(
                at(),
                "",
                RecordProblem::InvalidField {
                    field,
                    reason: format!("is {v}, outside 1..={max}"),
                },
            ))
        }
    };
    let g = i64::from(u32::MAX);
    let b = i64::from(u16::MAX);
    let grid = [
        dim(5, "gridX", g)? as u32,
        dim(6, "gridY", g)? as u32,
        dim(7, "gridZ", g)? as u32,
    ];
    let block = [
        dim(8, "blockX", b)? as u16,
        dim(9, "blockY", b)? as u16,
        dim(10, "blockZ", b)? as u16,
    ];
    let registers: u8 = int(row, 11, "registersPerThread", at)?;
    let static_smem: u32 = int(row, 12, "staticSharedMemory", at)?;
    let dynamic_smem: u32 = int(row, 13, "dynamicSharedMemory", at)?;
    let shared = static_smem.checked_add(dynamic_smem).ok_or_else(|| {
        ProfileError::record(
            at(),
            "",
            RecordProblem::InvalidField {
                field: "dynamicSharedMemory",
                reason: "plus staticSharedMemory passes 4 GiB".into(),
            },
        )
    })?;
    let mut record = KernelRecord::bare(RecordKind::Kernel, start_ns, end_ns, name, stream);
    record.grid = grid;
    record.block = block;
    record.registers_per_thread = registers;
    record.shared_memory_bytes = shared;
    Ok((device, record))
}

/// A copy's name from CUPTI's `CUpti_ActivityMemcpyKind` (the values of
/// Nsight's `ENUM_CUDA_MEMCPY_OPER`), in the words Kineto uses.
fn memcpy_label(kind: i64) -> &'static str {
    match kind {
        1 => "Memcpy HtoD",
        2 => "Memcpy DtoH",
        3 => "Memcpy HtoA",
        4 => "Memcpy AtoH",
        5 => "Memcpy AtoA",
        6 => "Memcpy AtoD",
        7 => "Memcpy DtoA",
        8 => "Memcpy DtoD",
        9 => "Memcpy HtoH",
        10 => "Memcpy PtoP",
        _ => "Memcpy",
    }
}

/// `TARGET_INFO_GPU`, keyed by CUDA device id; the first row of a device
/// wins (an export may repeat a GPU per process).
fn gpu_properties(db: &Connection) -> Result<HashMap<u32, DeviceProperties>, ProfileError> {
    let columns = column_names(db, GPU)?;
    let key = if columns.iter().any(|c| c == "cuDevice") {
        "cuDevice"
    } else {
        "id"
    };
    let wanted = [
        key,
        "name",
        "smCount",
        "computeMajor",
        "computeMinor",
        "totalMemory",
        "threadsPerWarp",
        "maxThreadsPerBlock",
        "maxWarpsPerSm",
        "maxBlocksPerSm",
        "maxRegistersPerBlock",
        "maxRegistersPerSm",
        "maxShmemPerBlock",
        "maxShmemPerBlockOptin",
        "maxShmemPerSm",
    ];
    let select: Vec<String> = wanted
        .iter()
        .map(|w| {
            if columns.iter().any(|c| c == w) {
                format!("\"{w}\"")
            } else {
                "NULL".to_owned()
            }
        })
        .collect();
    let mut stmt = db.prepare(&format!(
        "SELECT rowid, {} FROM {GPU} ORDER BY rowid",
        select.join(", ")
    ))?;
    let mut rows = stmt.query([])?;
    let mut out = HashMap::new();
    while let Some(row) = rows.next()? {
        let rowid: i64 = row.get(0)?;
        let at = || Location::Row { table: GPU, rowid };
        let device: u32 = int(row, 1, key, &at)?;
        let opt = |i: usize| -> Result<Option<u32>, ProfileError> {
            let v: Option<i64> = row.get(i)?;
            Ok(v.and_then(|v| u32::try_from(v).ok()))
        };
        let name: Option<String> = row.get(2)?;
        let major = opt(4)?;
        let minor = opt(5)?;
        let total: Option<i64> = row.get(6)?;
        let props = DeviceProperties {
            name: name.unwrap_or_default(),
            sm_count: opt(3)?,
            compute_capability: major.zip(minor),
            total_memory_bytes: total.and_then(|t| u64::try_from(t).ok()),
            warp_size: opt(7)?,
            max_threads_per_block: opt(8)?,
            max_threads_per_sm: None,
            max_warps_per_sm: opt(9)?,
            max_blocks_per_sm: opt(10)?,
            registers_per_block: opt(11)?,
            registers_per_sm: opt(12)?,
            shared_memory_per_block: opt(13)?,
            shared_memory_per_block_optin: opt(14)?,
            shared_memory_per_sm: opt(15)?,
        };
        out.entry(device).or_insert(props);
    }
    Ok(out)
}
