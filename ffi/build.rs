//! Build script of the C library.
//!
//! 1. Gives `libwattledger.so` its SONAME, `libwattledger.so.<ABI major>`,
//!    so a program linked against it records that name (not a path) and the
//!    loader can pick any compatible 1.x build.
//! 2. Turns the status declarations of `src/status.rs` into the tables of
//!    `wl_status_name` and `wl_status_str`: each status is written once, as a
//!    documented `pub const`, and its name and text are taken from there.

use std::env;
use std::fmt::Write as _;
use std::fs;
use std::path::Path;

/// The ABI major version: the `N` of `libwattledger.so.N` (kept equal to
/// `WL_ABI_VERSION_MAJOR` by a test).
const ABI_MAJOR: u32 = 1;

fn main() {
    println!("cargo:rerun-if-changed=src/status.rs");
    if env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux") {
        println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libwattledger.so.{ABI_MAJOR}");
    }
    let source = fs::read_to_string("src/status.rs").expect("src/status.rs is readable");
    let table = status_table(&source).unwrap_or_else(|e| panic!("src/status.rs: {e}"));
    let out = Path::new(&env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("status_table.rs");
    fs::write(out, table).expect("OUT_DIR is writable");
}

/// Reads every `/// text` + `pub const WL_…: wl_status = N;` pair and writes
/// a table indexed by value. Values must run 0, 1, 2, … with no gap, and
/// `WL_STATUS_MAX` must be the last.
fn status_table(source: &str) -> Result<String, String> {
    let mut rows: Vec<(u32, String, String)> = Vec::new();
    let mut doc = String::new();
    let mut max = None;
    for line in source.lines() {
        let line = line.trim();
        if let Some(text) = line.strip_prefix("///") {
            if !doc.is_empty() {
                doc.push(' ');
            }
            doc.push_str(text.trim());
            continue;
        }
        if let Some(rest) = line.strip_prefix("pub const ") {
            let (name, value) = rest
                .split_once(": wl_status = ")
                .ok_or_else(|| format!("unexpected declaration: {line}"))?;
            let value: u32 = value
                .trim_end_matches(';')
                .parse()
                .map_err(|_| format!("{name}: the value must be a literal"))?;
            if name == "WL_STATUS_MAX" {
                max = Some(value);
            } else {
                if doc.is_empty() {
                    return Err(format!("{name} has no doc comment"));
                }
                rows.push((value, name.to_owned(), std::mem::take(&mut doc)));
            }
        }
        doc.clear();
    }
    for (i, (value, name, _)) in rows.iter().enumerate() {
        if *value as usize != i {
            return Err(format!(
                "{name} = {value}: values must run 0, 1, 2, … without gaps"
            ));
        }
    }
    let last = rows.len().checked_sub(1).ok_or("no status")?;
    if max != Some(last as u32) {
        return Err(format!("WL_STATUS_MAX must be {last}"));
    }
    let mut out = String::from("/// Name and text of every status, indexed by its value.\n");
    writeln!(
        out,
        "const STATUSES: [(&core::ffi::CStr, &core::ffi::CStr); {}] = [",
        rows.len()
    )
    .map_err(|e| e.to_string())?;
    for (_, name, text) in &rows {
        writeln!(out, "    (c{name:?}, c{text:?}),").map_err(|e| e.to_string())?;
    }
    out.push_str("];\n");
    Ok(out)
}
