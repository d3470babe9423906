//! The C ABI of wattledger, version 1.1 (1.0 plus the timeline composer
//! and the launch mapper).
//!
//! This crate (`wattledger-ffi`, library name `wattledger`) exposes the
//! allocation-free core to C, C++ and CUDA programs through the header
//! `include/wattledger.h`, which cbindgen generates from this source. Build
//! it as `libwattledger.a` / `libwattledger.so.1`.
//!
//! # Conventions
//!
//! * Everything is prefixed `wl_` (types `wl_*`, constants `WL_*`).
//! * Every fallible function returns a [`wl_status`]; results go through
//!   out-pointers that are written **only on success**, and an object given
//!   to a failing call is left exactly as it was.
//! * Arguments are checked in one order everywhere: the handle, then the
//!   inputs, then the outputs, all before any work.
//! * Status values are explicit and never reused; each cause of failure has
//!   its own; [`wl_status_str`] describes each one.
//! * Versioned structs begin with `uint32_t struct_size`. For an input,
//!   set it to `sizeof(the struct)`: the library accepts any size from the
//!   1.0 size (`WL_*_SIZE_V1`) up, reads no more than `struct_size` bytes,
//!   and gives fields past it their documented defaults. For an output that
//!   may grow, set `struct_size` before the call: the library writes no
//!   more than that many bytes and sets it to the bytes written.
//! * A handle is a number checked against a table of live objects on every
//!   call, without a lock: a freed handle, a handle of another type or any
//!   other value is refused with [`WL_ERR_BAD_HANDLE`] without being read.
//! * No panic crosses the boundary: with `std` every entry point runs under
//!   `catch_unwind` and a panic becomes [`WL_ERR_PANIC`]; without `std` the
//!   library code has no panicking paths (unwrap, expect, panic and slice
//!   indexing are denied by lints).
//! * Objects are not thread-safe unless their documentation says so: use one
//!   composer, timeline or meter from one thread at a time, and never end an object
//!   while another call uses it. The monitor is thread-safe.
//!
//! # Features
//!
//! * `std` (default): heap objects (`wl_composer_new`, `wl_timeline_new`, `wl_meter_new`),
//!   `catch_unwind`, and the monitor over NVML and replayed traces. Without
//!   it those functions still exist (the header is the same) and return
//!   [`WL_ERR_NOT_SUPPORTED`]. `platform` holds every difference.
//! * `panic-handler`: a `#[panic_handler]` that stops in a loop, for a
//!   freestanding static library built without `std`.
#![cfg_attr(not(feature = "std"), no_std)]
#![deny(missing_docs)]
#![deny(clippy::undocumented_unsafe_blocks, clippy::missing_safety_doc)]
#![allow(non_camel_case_types)]
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing,
        clippy::unreachable
    )
)]

use core::ffi::c_char;

mod compose;
mod handle;
mod hardware;
mod ina3221;
mod launch;
mod meter;
mod mig;
mod monitor;
mod platform;
mod ptr;
mod status;
mod timeline;

pub use compose::*;
pub use hardware::*;
pub use ina3221::*;
pub use launch::*;
pub use meter::*;
pub use mig::*;
pub use monitor::*;
pub use status::*;
pub use timeline::*;

pub(crate) use platform::guard;

#[cfg(all(not(feature = "std"), feature = "panic-handler", not(test)))]
#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    // A freestanding program has nowhere to report to and nothing to unwind
    // into: stop here. The library code has no panicking paths, so this is
    // only reached through a bug.
    loop {
        core::hint::spin_loop();
    }
}

/// Major version of the library (the `x` of `x.y.z`); the header's macro
/// matches `Cargo.toml`, which a test checks.
pub const WL_VERSION_MAJOR: u32 = 1;
/// Minor version of the library.
pub const WL_VERSION_MINOR: u32 = 1;
/// Patch version of the library.
pub const WL_VERSION_PATCH: u32 = 0;
/// Major version of the binary interface: raised only by an incompatible
/// change, which also renames the shared library (`libwattledger.so.1`).
pub const WL_ABI_VERSION_MAJOR: u32 = 1;
/// Minor version of the binary interface: raised when functions, statuses
/// or struct fields are added. A program built against minor `m` runs on
/// any library of the same major version and a minor of at least `m`.
pub const WL_ABI_VERSION_MINOR: u32 = 1;
/// `WL_ABI_VERSION_MAJOR << 16 | WL_ABI_VERSION_MINOR`: 0x10001 for ABI 1.1
/// (0x10000 for 1.0; the 0.1 library said 1).
pub const WL_ABI_VERSION: u32 = 0x0001_0001;

const _: () = assert!(WL_ABI_VERSION == (WL_ABI_VERSION_MAJOR << 16 | WL_ABI_VERSION_MINOR));

/// The library's version as text, `"MAJOR.MINOR.PATCH"`.
///
/// Never fails. The string is static: do not free it.
#[unsafe(no_mangle)]
pub extern "C" fn wl_version() -> *const c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
}

/// The ABI version this library implements ([`WL_ABI_VERSION`]).
///
/// At start-up, check that `wl_abi_version() >> 16 == WL_ABI_VERSION_MAJOR`
/// and `(wl_abi_version() & 0xffff) >= WL_ABI_VERSION_MINOR`: the library
/// is then at least as new as the header the program was built with.
/// Never fails.
#[unsafe(no_mangle)]
pub extern "C" fn wl_abi_version() -> u32 {
    WL_ABI_VERSION
}

/// Maps a bad number to its status: the one mapping of the core's
/// [`FloatError`](wattledger_core::float::FloatError) for every call.
pub(crate) fn float_status(e: wattledger_core::float::FloatError) -> wl_status {
    use wattledger_core::float::FloatError;
    match e {
        FloatError::NotANumber => WL_ERR_NOT_A_NUMBER,
        FloatError::Infinite => WL_ERR_INFINITE,
        FloatError::Negative => WL_ERR_NEGATIVE,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[cfg(feature = "std")]
    fn a_panic_becomes_a_status_and_does_not_cross_the_boundary() {
        let status = guard(|| std::panic::panic_any("a bug inside the library"));
        assert_eq!(status, WL_ERR_PANIC);
        assert_eq!(guard(|| Err(WL_ERR_NEGATIVE)), WL_ERR_NEGATIVE);
        assert_eq!(guard(|| Ok(())), WL_OK);
    }

    #[test]
    fn floats_map_to_their_statuses() {
        use wattledger_core::float::non_negative;
        let s = |x: f64| non_negative(x).map_err(float_status);
        assert_eq!(s(f64::NAN), Err(WL_ERR_NOT_A_NUMBER));
        assert_eq!(s(f64::NEG_INFINITY), Err(WL_ERR_INFINITE));
        assert_eq!(s(-0.5), Err(WL_ERR_NEGATIVE));
        assert_eq!(s(0.0), Ok(0.0));
    }

    #[test]
    fn the_soname_major_is_the_abi_major() {
        let build = include_str!("../build.rs");
        assert!(build.contains(&format!("const ABI_MAJOR: u32 = {WL_ABI_VERSION_MAJOR};")));
    }
}
