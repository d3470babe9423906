//! The committed header agrees with Cargo.toml and with the library.

use std::ffi::CStr;

fn header() -> String {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../include/wattledger.h");
    std::fs::read_to_string(path).expect("include/wattledger.h is committed")
}

fn macro_value(text: &str, name: &str) -> u32 {
    let prefix = format!("#define {name} ");
    let line = text
        .lines()
        .find(|l| l.starts_with(&prefix))
        .unwrap_or_else(|| panic!("{name} is not defined in the header"));
    line[prefix.len()..].trim().parse().unwrap()
}

#[test]
fn version_macros_match_cargo_toml() {
    let h = header();
    let major: u32 = env!("CARGO_PKG_VERSION_MAJOR").parse().unwrap();
    let minor: u32 = env!("CARGO_PKG_VERSION_MINOR").parse().unwrap();
    let patch: u32 = env!("CARGO_PKG_VERSION_PATCH").parse().unwrap();
    assert_eq!(macro_value(&h, "WL_VERSION_MAJOR"), major);
    assert_eq!(macro_value(&h, "WL_VERSION_MINOR"), minor);
    assert_eq!(macro_value(&h, "WL_VERSION_PATCH"), patch);
    assert_eq!(wattledger::WL_VERSION_MAJOR, major);
    assert_eq!(wattledger::WL_VERSION_MINOR, minor);
    assert_eq!(wattledger::WL_VERSION_PATCH, patch);
    // SAFETY: wl_version returns a static NUL-terminated string.
    let v = unsafe { CStr::from_ptr(wattledger::wl_version()) };
    assert_eq!(v.to_str().unwrap(), env!("CARGO_PKG_VERSION"));
}

#[test]
fn abi_version_matches_the_header() {
    let h = header();
    assert_eq!(
        macro_value(&h, "WL_ABI_VERSION"),
        wattledger::wl_abi_version()
    );
}

#[test]
fn every_status_has_a_distinct_name_and_description() {
    let mut names = std::collections::BTreeSet::new();
    for s in 0..=wattledger::WL_STATUS_MAX {
        // SAFETY: static NUL-terminated strings.
        let name = unsafe { CStr::from_ptr(wattledger::wl_status_name(s)) };
        // SAFETY: as above.
        let text = unsafe { CStr::from_ptr(wattledger::wl_status_str(s)) };
        assert_ne!(name.to_str().unwrap(), "WL_UNKNOWN", "status {s}");
        assert_ne!(text.to_str().unwrap(), "unknown status", "status {s}");
        assert!(names.insert(name.to_str().unwrap().to_owned()));
        // The header defines each status under that name with that value.
        assert_eq!(macro_value(&header(), name.to_str().unwrap()), s);
    }
}

/// `#define NAME VALUE` lines of a header.
fn defines(text: &str) -> std::collections::BTreeMap<String, String> {
    text.lines()
        .filter_map(|l| l.strip_prefix("#define "))
        .filter_map(|l| l.split_once(' '))
        .map(|(k, v)| (k.to_owned(), v.trim().to_owned()))
        .collect()
}

/// Function declarations of a header, whitespace-normalised.
fn functions(text: &str) -> std::collections::BTreeSet<String> {
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    flat.split(';')
        .map(str::trim)
        .filter(|d| d.contains(" wl_") && d.contains('(') && !d.contains("typedef"))
        .map(|d| d.rsplit("*/").next().unwrap_or(d).trim().to_owned())
        .collect()
}

#[test]
fn the_abi_only_grows_from_the_frozen_1_0_header() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/c/compat/wattledger-1.0.h"
    );
    let frozen = std::fs::read_to_string(path).expect("the 1.0 header is committed");
    let now = header();
    // Every 1.0 constant keeps its value (statuses, flags, sizes, enums),
    // except the version of the library itself.
    let current = defines(&now);
    for (name, value) in defines(&frozen) {
        let grows = ["WL_STATUS_MAX", "WL_ABI_VERSION", "WL_ABI_VERSION_MINOR"];
        if name.starts_with("WL_VERSION_") || grows.contains(&name.as_str()) {
            continue;
        }
        assert_eq!(
            current.get(&name),
            Some(&value),
            "{name} changed or vanished"
        );
    }
    // Every 1.0 function is still declared with the same signature.
    let declared = functions(&now);
    let frozen_fns = functions(&frozen);
    assert!(
        frozen_fns.len() > 60,
        "{} functions found",
        frozen_fns.len()
    );
    for f in frozen_fns {
        assert!(declared.contains(&f), "changed or removed: {f}");
    }
}
