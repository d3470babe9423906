//! Test support: build the fake NVML library and hand out private copies of it.
//!
//! Use from an integration test with
//! `#[path = "support/fake_nvml.rs"] mod fake_nvml;` (in `std-adapters`) or
//! `#[path = "../../std-adapters/tests/support/fake_nvml.rs"] mod fake_nvml;`
//! (in `cli`): one copy, shared.
//!
//! - [`library()`] compiles `tests/fake_nvml/fake_nvml.c` once per test
//!   binary (a `OnceLock`) with `cc -shared -fPIC -O1 -Wall -Wextra -Werror`
//!   (`$CC` overrides `cc`) into `$CARGO_TARGET_TMPDIR/fake-nvml/<hash>/`,
//!   where the hash covers the C source and flags, so test binaries running
//!   at the same time share one build and a changed source is rebuilt. The
//!   file is written under a unique name and renamed into place, so two
//!   binaries compiling at once never see a half-written library.
//! - [`FakeNvml::new`] / [`FakeNvml::scenario`] copy that library into a
//!   fresh temporary directory together with the scenario as
//!   `fake-nvml.scenario`. The C code finds the scenario next to its own
//!   file (dladdr), and each copy is a separate file, so the dynamic loader
//!   loads it separately with its own global state: tests in parallel
//!   threads never share a fake GPU and no environment variable is touched.
//! - Child processes (CLI, C tests) may instead load [`library()`] itself
//!   and name the scenario with the environment variable
//!   `FAKE_NVML_SCENARIO` (used when no `fake-nvml.scenario` sits next to
//!   the library; see [`scenario_path`]).
#![allow(dead_code)]

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// Compiler flags, part of the cache key.
const FLAGS: &[&str] = &["-shared", "-fPIC", "-O1", "-Wall", "-Wextra", "-Werror"];

/// Directory of the C source and scenario files.
///
/// Named from the including crate's directory through the workspace, so the
/// command's tests (`cli/tests`) include this same file and find the same
/// fake library.
pub fn source_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../std-adapters/tests/fake_nvml")
}

/// Path of the named scenario file (`tests/fake_nvml/scenarios/<name>.scenario`).
pub fn scenario_path(name: &str) -> PathBuf {
    source_dir()
        .join("scenarios")
        .join(format!("{name}.scenario"))
}

/// The compiled fake library, built on first use in this process.
///
/// Panics (failing the test) when the C compiler is missing or fails.
pub fn library() -> &'static Path {
    static LIB: OnceLock<PathBuf> = OnceLock::new();
    LIB.get_or_init(build)
}

fn build() -> PathBuf {
    let source = source_dir().join("fake_nvml.c");
    let text = std::fs::read(&source).expect("read fake_nvml.c");
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".to_string());
    let mut hasher = DefaultHasher::new();
    text.hash(&mut hasher);
    FLAGS.hash(&mut hasher);
    cc.hash(&mut hasher);
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("fake-nvml")
        .join(format!("{:016x}", hasher.finish()));
    let lib = dir.join("libnvidia-ml-fake.so");
    if lib.is_file() {
        return lib;
    }
    std::fs::create_dir_all(&dir).expect("create fake-nvml build dir");
    let partial = dir.join(format!(".partial-{}.so", std::process::id()));
    let out = Command::new(&cc)
        .args(FLAGS)
        .arg("-o")
        .arg(&partial)
        .arg(&source)
        .arg("-ldl")
        .output()
        .unwrap_or_else(|e| panic!("cannot run the C compiler `{cc}`: {e}"));
    assert!(
        out.status.success(),
        "compiling fake_nvml.c failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::rename(&partial, &lib).expect("move fake library into place");
    lib
}

/// A private copy of the fake library with its own scenario.
///
/// Keep it alive while NVML is in use; dropping it deletes the directory
/// (harmless even if the library is still loaded).
#[derive(Debug)]
pub struct FakeNvml {
    dir: tempfile::TempDir,
    lib: PathBuf,
}

impl FakeNvml {
    /// A copy driven by the scenario text `scenario`.
    pub fn new(scenario: &str) -> FakeNvml {
        let dir = tempfile::Builder::new()
            .prefix("fake-nvml-")
            .tempdir()
            .expect("temp dir");
        let lib = dir.path().join("libnvidia-ml.so.1");
        std::fs::copy(library(), &lib).expect("copy fake library");
        std::fs::write(dir.path().join("fake-nvml.scenario"), scenario).expect("write scenario");
        FakeNvml { dir, lib }
    }

    /// A copy driven by the named scenario file (see [`scenario_path`]).
    pub fn scenario(name: &str) -> FakeNvml {
        let path = scenario_path(name);
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
        FakeNvml::new(&text)
    }

    /// Path of this copy of the library, for `lib_path` / `WATTLEDGER_NVML_LIB`.
    pub fn lib_path(&self) -> &Path {
        &self.lib
    }

    /// The directory holding the copy and its `fake-nvml.scenario`.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }
}
