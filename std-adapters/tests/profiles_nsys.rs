//! The Nsight Systems SQLite reader, on exports built here from NVIDIA's
//! documented schema (`nsys export --type sqlite`, "SQLite Export Schema
//! Reference"): the tables are created with their documented columns, rows
//! inserted, and the file read back.
#![cfg(feature = "nsys")]

use rusqlite::{Connection, params};
use tempfile::NamedTempFile;
use wattledger_std::profiles::nsys::read_nsys_sqlite;
use wattledger_std::profiles::{
    Location, ProfileError, RecordKind, RecordProblem, TraceFormat, read_profile,
};

/// The documented tables this reader touches, with all their columns.
const SCHEMA: &str = r#"
CREATE TABLE StringIds (id INTEGER NOT NULL PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE CUPTI_ACTIVITY_KIND_KERNEL (
    start INTEGER NOT NULL, end INTEGER NOT NULL, deviceId INTEGER NOT NULL,
    contextId INTEGER NOT NULL, streamId INTEGER NOT NULL, correlationId INTEGER,
    globalPid INTEGER, demangledName INTEGER NOT NULL, shortName INTEGER NOT NULL,
    mangledName INTEGER, launchType INTEGER, cacheConfig INTEGER,
    registersPerThread INTEGER NOT NULL, gridX INTEGER NOT NULL, gridY INTEGER NOT NULL,
    gridZ INTEGER NOT NULL, blockX INTEGER NOT NULL, blockY INTEGER NOT NULL,
    blockZ INTEGER NOT NULL, staticSharedMemory INTEGER NOT NULL,
    dynamicSharedMemory INTEGER NOT NULL, localMemoryPerThread INTEGER NOT NULL,
    localMemoryTotal INTEGER NOT NULL, gridId INTEGER NOT NULL,
    sharedMemoryExecuted INTEGER, graphNodeId INTEGER, sharedMemoryLimitConfig INTEGER
);
CREATE TABLE CUPTI_ACTIVITY_KIND_MEMCPY (
    start INTEGER NOT NULL, end INTEGER NOT NULL, deviceId INTEGER NOT NULL,
    contextId INTEGER NOT NULL, streamId INTEGER NOT NULL, correlationId INTEGER,
    globalPid INTEGER, bytes INTEGER NOT NULL, copyKind INTEGER NOT NULL,
    deprecatedSrcId INTEGER, srcKind INTEGER, dstKind INTEGER, srcDeviceId INTEGER,
    srcContextId INTEGER, dstDeviceId INTEGER, dstContextId INTEGER,
    migrationCause INTEGER, graphNodeId INTEGER, virtualAddress INTEGER
);
CREATE TABLE CUPTI_ACTIVITY_KIND_MEMSET (
    start INTEGER NOT NULL, end INTEGER NOT NULL, deviceId INTEGER NOT NULL,
    contextId INTEGER NOT NULL, streamId INTEGER NOT NULL, correlationId INTEGER,
    globalPid INTEGER, value INTEGER NOT NULL, bytes INTEGER NOT NULL,
    graphNodeId INTEGER, memKind INTEGER
);
"#;

const GPU_TABLE: &str = r#"
CREATE TABLE TARGET_INFO_GPU (
    vmId INTEGER NOT NULL, id INTEGER NOT NULL, name TEXT, busLocation TEXT,
    isDiscrete INTEGER, l2CacheSize INTEGER, totalMemory INTEGER, memoryBandwidth INTEGER,
    clockRate INTEGER, smCount INTEGER, pwGpuId INTEGER, uuid TEXT, luid INTEGER,
    chipName TEXT, cuDevice INTEGER, ctxswDevPath TEXT, ctrlDevPath TEXT, revision INTEGER,
    nodeMask INTEGER, constantMemory INTEGER, maxIPC INTEGER, maxRegistersPerBlock INTEGER,
    maxShmemPerBlock INTEGER, maxShmemPerBlockOptin INTEGER, maxShmemPerSm INTEGER,
    maxRegistersPerSm INTEGER, threadsPerWarp INTEGER, asyncEngines INTEGER,
    maxWarpsPerSm INTEGER, maxBlocksPerSm INTEGER, maxThreadsPerBlock INTEGER,
    maxBlockDimX INTEGER, maxBlockDimY INTEGER, maxBlockDimZ INTEGER, maxGridDimX INTEGER,
    maxGridDimY INTEGER, maxGridDimZ INTEGER, computeMajor INTEGER, computeMinor INTEGER,
    smMajor INTEGER, smMinor INTEGER
);
"#;

struct Kernel {
    start: i64,
    end: i64,
    device: i64,
    stream: i64,
    demangled: i64,
    short: i64,
    grid: [i64; 3],
    block: [i64; 3],
    regs: i64,
    smem: (i64, i64),
}

fn kernel(start: i64, end: i64, device: i64, stream: i64, name: i64) -> Kernel {
    Kernel {
        start,
        end,
        device,
        stream,
        demangled: name,
        short: name + 100,
        grid: [80, 2, 1],
        block: [256, 1, 1],
        regs: 64,
        smem: (1024, 2048),
    }
}

fn insert_kernel(db: &Connection, k: &Kernel) {
    db.execute(
        "INSERT INTO CUPTI_ACTIVITY_KIND_KERNEL (start, end, deviceId, contextId, streamId,
           correlationId, globalPid, demangledName, shortName, registersPerThread,
           gridX, gridY, gridZ, blockX, blockY, blockZ, staticSharedMemory,
           dynamicSharedMemory, localMemoryPerThread, localMemoryTotal, gridId)
         VALUES (?1, ?2, ?3, 1, ?4, 0, 0, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15,
           0, 0, 0)",
        params![
            k.start,
            k.end,
            k.device,
            k.stream,
            k.demangled,
            k.short,
            k.regs,
            k.grid[0],
            k.grid[1],
            k.grid[2],
            k.block[0],
            k.block[1],
            k.block[2],
            k.smem.0,
            k.smem.1
        ],
    )
    .unwrap();
}

fn export(kernels: &[Kernel], with_gpu: bool) -> (NamedTempFile, Connection) {
    let file = NamedTempFile::new().unwrap();
    let db = Connection::open(file.path()).unwrap();
    db.execute_batch(SCHEMA).unwrap();
    for (id, name) in [
        (1, "void gemm_kernel<float, 128>(float*, float const*)"),
        (2, "void relu_kernel<float>(float*)"),
        (101, "gemm_kernel"),
        (102, "relu_kernel"),
        (103, "short_only"),
    ] {
        db.execute("INSERT INTO StringIds VALUES (?1, ?2)", params![id, name])
            .unwrap();
    }
    for k in kernels {
        insert_kernel(&db, k);
    }
    if with_gpu {
        db.execute_batch(GPU_TABLE).unwrap();
        // Two GPUs whose table ids (5, 6) differ from their CUDA ids (1, 0):
        // the reader must match kernels by cuDevice.
        for (id, cu, name, sms) in [
            (5, 1, "NVIDIA H100 80GB HBM3", 132),
            (6, 0, "NVIDIA A100-SXM4-40GB", 108),
        ] {
            db.execute(
                "INSERT INTO TARGET_INFO_GPU (vmId, id, name, totalMemory, smCount, cuDevice,
                   maxRegistersPerBlock, maxShmemPerBlock, maxShmemPerBlockOptin, maxShmemPerSm,
                   maxRegistersPerSm, threadsPerWarp, maxWarpsPerSm, maxBlocksPerSm,
                   maxThreadsPerBlock, computeMajor, computeMinor)
                 VALUES (0, ?1, ?2, 85899345920, ?3, ?4, 65536, 49152, 232448, 233472, 65536, 32,
                   64, 32, 1024, 9, 0)",
                params![id, name, sms, cu],
            )
            .unwrap();
        }
    }
    (file, db)
}

#[test]
fn kernels_copies_and_gpu_properties_are_read_per_device() {
    let (file, db) = export(
        &[
            kernel(5_000, 9_000, 0, 7, 2),
            kernel(1_000, 4_000, 0, 7, 1),
            kernel(2_000, 2_500, 1, 13, 1),
            kernel(1_000, 3_000, 0, 14, 2),
        ],
        true,
    );
    // copyKind 1 = host to device, 8 = device to device (CUpti_ActivityMemcpyKind).
    db.execute_batch(
        "INSERT INTO CUPTI_ACTIVITY_KIND_MEMCPY (start, end, deviceId, contextId, streamId, bytes, copyKind)
           VALUES (500, 900, 0, 1, 7, 4096, 1), (9_500, 9_600, 1, 1, 13, 64, 8);
         INSERT INTO CUPTI_ACTIVITY_KIND_MEMSET (start, end, deviceId, contextId, streamId, value, bytes)
           VALUES (4_000, 4_100, 0, 1, 7, 0, 256);",
    )
    .unwrap();
    drop(db);
    let p = read_nsys_sqlite(file.path()).unwrap();
    assert_eq!(p.format, TraceFormat::NsightSqlite);
    assert_eq!(read_profile(file.path()).unwrap(), p);
    assert_eq!(p.devices.len(), 2);
    assert_eq!(p.kernel_count(), 4);

    let d0 = p.device(0).unwrap();
    let rows: Vec<(i64, i64, u32, RecordKind, &str)> = d0
        .records
        .iter()
        .map(|r| (r.start_ns, r.end_ns, r.stream, r.kind, p.name(r)))
        .collect();
    // Sorted by start then end; names from demangledName.
    assert_eq!(
        rows,
        [
            (500, 900, 7, RecordKind::Memcpy, "Memcpy HtoD"),
            (
                1_000,
                3_000,
                14,
                RecordKind::Kernel,
                "void relu_kernel<float>(float*)"
            ),
            (
                1_000,
                4_000,
                7,
                RecordKind::Kernel,
                "void gemm_kernel<float, 128>(float*, float const*)"
            ),
            (4_000, 4_100, 7, RecordKind::Memset, "Memset"),
            (
                5_000,
                9_000,
                7,
                RecordKind::Kernel,
                "void relu_kernel<float>(float*)"
            ),
        ]
    );
    let k = &d0.records[1];
    assert_eq!(k.grid, [80, 2, 1]);
    assert_eq!(k.block, [256, 1, 1]);
    assert_eq!(k.registers_per_thread, 64);
    // static 1024 + dynamic 2048.
    assert_eq!(k.shared_memory_bytes, 3_072);
    assert_eq!(k.blocks_per_sm(), None);
    assert_eq!(k.achieved_occupancy_pct(), None);
    assert_eq!(d0.records[0].bytes(), Some(4_096));
    assert_eq!(d0.records[3].bytes(), Some(256));
    assert_eq!(d0.span_ns(), Some((500, 9_000)));

    // CUDA device 0 is the TARGET_INFO_GPU row with id 6.
    let props0 = d0.properties.as_ref().unwrap();
    assert_eq!(props0.name, "NVIDIA A100-SXM4-40GB");
    assert_eq!(props0.sm_count, Some(108));
    let d1 = p.device(1).unwrap();
    let props1 = d1.properties.as_ref().unwrap();
    assert_eq!(props1.name, "NVIDIA H100 80GB HBM3");
    assert_eq!(props1.sm_count, Some(132));
    assert_eq!(props1.compute_capability, Some((9, 0)));
    assert_eq!(props1.max_warps_per_sm, Some(64));
    assert_eq!(props1.max_blocks_per_sm, Some(32));
    assert_eq!(props1.registers_per_sm, Some(65_536));
    assert_eq!(props1.registers_per_block, Some(65_536));
    assert_eq!(props1.shared_memory_per_sm, Some(233_472));
    assert_eq!(props1.shared_memory_per_block, Some(49_152));
    assert_eq!(props1.shared_memory_per_block_optin, Some(232_448));
    assert_eq!(props1.warp_size, Some(32));
    assert_eq!(props1.max_threads_per_block, Some(1_024));
    assert_eq!(props1.total_memory_bytes, Some(85_899_345_920));
    assert_eq!(props1.max_threads_per_sm, None);
    assert_eq!(d1.records.len(), 2);
    assert_eq!(d1.records[1].kind, RecordKind::Memcpy);
    assert_eq!(p.name(&d1.records[1]), "Memcpy DtoD");
}

#[test]
fn an_export_without_cu_device_matches_gpus_by_id_and_names_fall_back_to_short() {
    let mut k = kernel(10, 20, 0, 7, 9); // demangledName 9 is not in StringIds
    k.short = 103;
    let (file, db) = export(&[k], false);
    db.execute_batch(
        "CREATE TABLE TARGET_INFO_GPU (vmId INTEGER NOT NULL, id INTEGER NOT NULL, name TEXT, smCount INTEGER);
         INSERT INTO TARGET_INFO_GPU VALUES (0, 0, 'Old GPU', 46);",
    )
    .unwrap();
    drop(db);
    let p = read_nsys_sqlite(file.path()).unwrap();
    let d = &p.devices[0];
    assert_eq!(p.name(&d.records[0]), "short_only");
    let props = d.properties.as_ref().unwrap();
    assert_eq!(props.name, "Old GPU");
    assert_eq!(props.sm_count, Some(46));
    assert_eq!(props.compute_capability, None);
}

#[test]
fn no_gpu_table_leaves_properties_absent() {
    let (file, db) = export(&[kernel(10, 20, 3, 7, 1)], false);
    drop(db);
    let p = read_nsys_sqlite(file.path()).unwrap();
    assert_eq!(p.devices[0].device, 3);
    assert_eq!(p.devices[0].properties, None);
}

#[test]
fn a_kernel_ending_before_it_starts_names_its_row() {
    let (file, db) = export(&[kernel(10, 20, 0, 7, 1), kernel(100, 90, 0, 7, 2)], false);
    drop(db);
    match read_nsys_sqlite(file.path()) {
        Err(ProfileError::Record { at, name, problem }) => {
            assert_eq!(
                at,
                Location::Row {
                    table: "CUPTI_ACTIVITY_KIND_KERNEL",
                    rowid: 2
                }
            );
            assert_eq!(name, "void relu_kernel<float>(float*)");
            assert_eq!(
                problem,
                RecordProblem::NegativeDuration { duration_ns: -10 }
            );
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn bad_launch_fields_are_refused_with_the_column_named() {
    type Spoil = fn(&mut Kernel);
    let cases: [(&str, Spoil); 4] = [
        ("gridX", |k| k.grid[0] = 0),
        ("blockZ", |k| k.block[2] = 70_000),
        ("registersPerThread", |k| k.regs = 256),
        ("staticSharedMemory", |k| k.smem.0 = -1),
    ];
    for (field, spoil) in cases {
        let mut k = kernel(10, 20, 0, 7, 1);
        spoil(&mut k);
        let (file, db) = export(&[k], false);
        drop(db);
        match read_nsys_sqlite(file.path()) {
            Err(ProfileError::Record {
                problem: RecordProblem::InvalidField { field: f, .. },
                name,
                ..
            }) => {
                assert_eq!(f, field);
                assert_eq!(name, "void gemm_kernel<float, 128>(float*, float const*)");
            }
            other => panic!("{field}: {other:?}"),
        }
    }
}

#[test]
fn exports_without_kernels_and_other_files_are_refused() {
    // Kernel table present but empty.
    let (file, db) = export(&[], false);
    drop(db);
    assert!(matches!(
        read_nsys_sqlite(file.path()),
        Err(ProfileError::NoKernels)
    ));
    // An nsys export of a run without CUDA has StringIds but no kernel table.
    let file = NamedTempFile::new().unwrap();
    let db = Connection::open(file.path()).unwrap();
    db.execute_batch("CREATE TABLE StringIds (id INTEGER PRIMARY KEY, value TEXT);")
        .unwrap();
    drop(db);
    assert!(matches!(
        read_nsys_sqlite(file.path()),
        Err(ProfileError::NoKernels)
    ));
    // Some other SQLite database.
    let file = NamedTempFile::new().unwrap();
    let db = Connection::open(file.path()).unwrap();
    db.execute_batch("CREATE TABLE recipes (name TEXT);")
        .unwrap();
    drop(db);
    assert!(matches!(
        read_nsys_sqlite(file.path()),
        Err(ProfileError::NotATrace(_))
    ));
    // Not a database at all.
    let file = NamedTempFile::new().unwrap();
    std::fs::write(
        file.path(),
        b"this is a text file, not a database, and long enough",
    )
    .unwrap();
    assert!(matches!(
        read_nsys_sqlite(file.path()),
        Err(ProfileError::NotATrace(_))
    ));
    // Missing file: not created by opening it read-only.
    let missing = std::env::temp_dir().join("wattledger-no-such-export.sqlite");
    assert!(matches!(
        read_nsys_sqlite(&missing),
        Err(ProfileError::Io(_))
    ));
    assert!(!missing.exists());
}
