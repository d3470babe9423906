//! The C ABI of wattledger.
//!
//! This crate (`wattledger-ffi`, library name `wattledger`) exposes the
//! allocation-free core to C, C++ and CUDA programs through the header
//! `include/wattledger.h`, which cbindgen generates from this source. Build
//! it as `libwattledger.a` / `libwattledger.so`.
//!
//! # Conventions
//!
//! * Everything is prefixed `wl_` (types `wl_*`, constants `WL_*`).
//! * Every fallible function returns a [`wl_status`]; results go through
//!   out-pointers that are written **only on success**, and an object given
//!   to a failing call is left exactly as it was.
//! * Status values are explicit and never reused; [`wl_status_str`] names
//!   each one.
//! * Input structs begin with `uint32_t struct_size`: set it to
//!   `sizeof(the struct)`. A newer library accepts a larger size (a caller
//!   built against a newer header) and refuses a smaller one than the first
//!   version with [`WL_ERR_STRUCT_SIZE`].
//! * Handles carry a tag checked on every call, so a freed handle, a handle
//!   of the wrong type or uninitialised memory is refused with
//!   [`WL_ERR_BAD_HANDLE`] rather than used. With the `std` feature the
//!   library also keeps a registry of live handles, so even a handle whose
//!   heap memory was already freed is refused without being read.
//! * No panic crosses the boundary: with `std` every entry point runs under
//!   `catch_unwind` and a panic becomes [`WL_ERR_PANIC`]; without `std` the
//!   library code has no panicking paths (unwrap, expect, panic and slice
//!   indexing are denied by lints).
//! * Objects are not thread-safe unless their documentation says so: use one
//!   composer or meter from one thread at a time. The monitor is
//!   thread-safe.
//!
//! # Features
//!
//! * `std` (default): heap handles (`wl_composer_new`, `wl_meter_new`), the
//!   registry of live handles, `catch_unwind`, and the monitor over NVML and
//!   replayed traces. Without it those functions still exist (the header is
//!   the same) and return [`WL_ERR_NOT_SUPPORTED`].
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
mod meter;
mod mig;
mod monitor;
mod status;

pub use compose::*;
pub use hardware::*;
pub use ina3221::*;
pub use meter::*;
pub use mig::*;
pub use monitor::*;
pub use status::*;

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
pub const WL_VERSION_MAJOR: u32 = 0;
/// Minor version of the library.
pub const WL_VERSION_MINOR: u32 = 1;
/// Patch version of the library.
pub const WL_VERSION_PATCH: u32 = 0;
/// Version of the binary interface: raised when a struct layout or a
/// function signature of this header changes incompatibly.
pub const WL_ABI_VERSION: u32 = 1;

/// The library's version as text, `"MAJOR.MINOR.PATCH"`.
///
/// Never fails. The string is static: do not free it.
#[unsafe(no_mangle)]
pub extern "C" fn wl_version() -> *const c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
}

/// The ABI version this library implements ([`WL_ABI_VERSION`]).
///
/// Compare it with the header's `WL_ABI_VERSION` at start-up to catch a
/// program linked against a library built from another header. Never fails.
#[unsafe(no_mangle)]
pub extern "C" fn wl_abi_version() -> u32 {
    WL_ABI_VERSION
}

/// Runs an entry point's body; with `std`, a panic becomes [`WL_ERR_PANIC`].
#[inline]
pub(crate) fn guard(f: impl FnOnce() -> Result<(), wl_status>) -> wl_status {
    #[cfg(feature = "std")]
    {
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
            Ok(Ok(())) => WL_OK,
            Ok(Err(s)) => s,
            Err(_) => WL_ERR_PANIC,
        }
    }
    #[cfg(not(feature = "std"))]
    {
        match f() {
            Ok(()) => WL_OK,
            Err(s) => s,
        }
    }
}

/// Reads a NUL-terminated UTF-8 string.
///
/// # Safety
/// `p` is NULL or points to a NUL-terminated string that stays valid and
/// unchanged for `'a`.
pub(crate) unsafe fn c_str<'a>(p: *const c_char) -> Result<&'a str, wl_status> {
    if p.is_null() {
        return Err(WL_ERR_NULL_POINTER);
    }
    // The length is counted here rather than with `CStr::from_ptr`, which
    // calls the C library's `strlen`: a freestanding program has none. The
    // volatile read keeps LLVM from turning this loop back into `strlen`.
    let mut len = 0usize;
    // SAFETY: the caller promises a NUL-terminated string, so every byte up
    // to and including the NUL is readable.
    while unsafe { p.add(len).read_volatile() } != 0 {
        len += 1;
    }
    // SAFETY: the `len` bytes before the NUL are readable and stay
    // unchanged for 'a, by the caller's promise.
    let bytes = unsafe { core::slice::from_raw_parts(p.cast::<u8>(), len) };
    core::str::from_utf8(bytes).map_err(|_| WL_ERR_BAD_UTF8)
}

/// Reads an optional NUL-terminated UTF-8 string: NULL is `None`.
///
/// # Safety
/// As [`c_str`].
pub(crate) unsafe fn c_str_opt<'a>(p: *const c_char) -> Result<Option<&'a str>, wl_status> {
    if p.is_null() {
        Ok(None)
    } else {
        // SAFETY: forwarded from the caller.
        unsafe { c_str(p) }.map(Some)
    }
}

/// Reads the text of a fixed `char` buffer: it must hold a NUL, and at most
/// `max` bytes before it, in UTF-8.
pub(crate) fn buf_str(buf: &[c_char], max: usize) -> Result<&str, wl_status> {
    let len = buf
        .iter()
        .position(|&c| c == 0)
        .ok_or(WL_ERR_NAME_TOO_LONG)?;
    if len > max {
        return Err(WL_ERR_NAME_TOO_LONG);
    }
    let bytes = buf.get(..len).ok_or(WL_ERR_NAME_TOO_LONG)?;
    // SAFETY: c_char and u8 have the same size and alignment, and every bit
    // pattern is valid for both; the slice is borrowed from `buf`.
    let bytes: &[u8] = unsafe { core::slice::from_raw_parts(bytes.as_ptr().cast(), bytes.len()) };
    core::str::from_utf8(bytes).map_err(|_| WL_ERR_BAD_UTF8)
}

/// Writes `s` and a NUL into `buf`, zeroing the rest.
///
/// # Errors
/// [`WL_ERR_NAME_TOO_LONG`] when `s` and its NUL do not fit; `buf` is then
/// untouched.
pub(crate) fn put_str(buf: &mut [c_char], s: &str) -> Result<(), wl_status> {
    if s.len() >= buf.len() {
        return Err(WL_ERR_NAME_TOO_LONG);
    }
    let mut bytes = s.bytes();
    for slot in buf.iter_mut() {
        *slot = bytes.next().map_or(0, |b| b as c_char);
    }
    Ok(())
}

/// Writes `value` through `out`.
///
/// # Safety
/// `out` is NULL (an error) or valid for a write of `T`.
pub(crate) unsafe fn write_out<T>(out: *mut T, value: T) -> Result<(), wl_status> {
    if out.is_null() {
        return Err(WL_ERR_NULL_POINTER);
    }
    // SAFETY: non-null and, by the caller's promise, valid and aligned.
    unsafe { out.write(value) };
    Ok(())
}

/// Checks that an out-pointer is not NULL before any work is done.
pub(crate) fn need<T>(p: *const T) -> Result<(), wl_status> {
    if p.is_null() {
        Err(WL_ERR_NULL_POINTER)
    } else {
        Ok(())
    }
}

/// Reads a versioned input struct: its first field is `uint32_t struct_size`.
///
/// # Safety
/// `p` is NULL or points to at least `struct_size` readable bytes, and
/// `struct_size` is at least the first field.
pub(crate) unsafe fn read_sized<T: Copy>(p: *const T) -> Result<T, wl_status> {
    if p.is_null() {
        return Err(WL_ERR_NULL_POINTER);
    }
    // SAFETY: every versioned struct begins with a u32, and p is non-null
    // and aligned for T (so for u32).
    let size = unsafe { p.cast::<u32>().read() };
    if (size as usize) < core::mem::size_of::<T>() {
        return Err(WL_ERR_STRUCT_SIZE);
    }
    // SAFETY: the caller says `size` bytes are readable, and size ≥ size_of T.
    Ok(unsafe { p.read() })
}

/// Maps a float that must be finite and ≥ 0 to its status.
pub(crate) fn finite_non_negative(x: f64) -> Result<f64, wl_status> {
    if x.is_nan() {
        Err(WL_ERR_NOT_A_NUMBER)
    } else if x.is_infinite() {
        Err(WL_ERR_INFINITE)
    } else if x < 0.0 {
        Err(WL_ERR_NEGATIVE)
    } else {
        Ok(x)
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
    fn text_helpers_refuse_rather_than_cut() {
        let mut buf = [1 as c_char; 4];
        assert_eq!(put_str(&mut buf, "abcd"), Err(WL_ERR_NAME_TOO_LONG));
        assert_eq!(buf, [1; 4], "untouched on error");
        assert_eq!(put_str(&mut buf, "abc"), Ok(()));
        assert_eq!(buf_str(&buf, 3), Ok("abc"));
        assert_eq!(buf_str(&buf, 2), Err(WL_ERR_NAME_TOO_LONG));
        let no_nul = [b'a' as c_char; 4];
        assert_eq!(buf_str(&no_nul, 8), Err(WL_ERR_NAME_TOO_LONG));
        assert_eq!(finite_non_negative(f64::NAN), Err(WL_ERR_NOT_A_NUMBER));
        assert_eq!(finite_non_negative(f64::NEG_INFINITY), Err(WL_ERR_INFINITE));
        assert_eq!(finite_non_negative(-0.5), Err(WL_ERR_NEGATIVE));
        assert_eq!(finite_non_negative(0.0), Ok(0.0));
    }
}
