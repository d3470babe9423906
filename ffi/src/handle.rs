//! Tagged handles: how a stale, foreign or uninitialised pointer is caught.
//!
//! Every object behind a handle begins with a `u64` tag, a magic number per
//! type, written when the object is made and cleared when it is freed or
//! released. Every call checks it. With `std` the library also records every
//! live handle in a registry and consults it *before* reading the tag, so a
//! handle whose heap memory has already been returned to the allocator is
//! refused without touching that memory (a double free is an error, not a
//! use-after-free).

use core::ffi::c_void;
use core::mem::{align_of, size_of};

use crate::status::{
    WL_ERR_BAD_HANDLE, WL_ERR_BUSY, WL_ERR_NULL_POINTER, WL_ERR_STORAGE_MISALIGNED,
    WL_ERR_STORAGE_TOO_SMALL, WL_ERR_WRONG_STORAGE, wl_status,
};
use crate::{need, write_out};

/// Tag of a live `wl_hardware` value.
pub(crate) const TAG_HARDWARE: u64 = 0x574c_4857_5f31_0001;
/// Tag of a live composer.
pub(crate) const TAG_COMPOSER: u64 = 0x574c_434f_4d50_0002;
/// Tag of a live meter.
pub(crate) const TAG_METER: u64 = 0x574c_4d45_5452_0003;
/// Tag of a live monitor.
#[cfg(feature = "std")]
pub(crate) const TAG_MONITOR: u64 = 0x574c_4d4f_4e49_0004;

#[cfg(feature = "std")]
mod registry {
    use std::collections::BTreeMap;
    use std::sync::{Mutex, PoisonError};

    static LIVE: Mutex<BTreeMap<usize, u64>> = Mutex::new(BTreeMap::new());

    fn live() -> std::sync::MutexGuard<'static, BTreeMap<usize, u64>> {
        LIVE.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn insert(addr: usize, tag: u64) {
        live().insert(addr, tag);
    }

    pub(crate) fn contains(addr: usize, tag: u64) -> bool {
        live().get(&addr) == Some(&tag)
    }

    pub(crate) fn remove(addr: usize, tag: u64) -> bool {
        let mut map = live();
        if map.get(&addr) == Some(&tag) {
            map.remove(&addr);
            true
        } else {
            false
        }
    }
}

#[cfg(not(feature = "std"))]
mod registry {
    pub(crate) fn insert(_addr: usize, _tag: u64) {}
    pub(crate) fn contains(_addr: usize, _tag: u64) -> bool {
        true
    }
    pub(crate) fn remove(_addr: usize, _tag: u64) -> bool {
        true
    }
}

/// Records a freshly made object as live.
pub(crate) fn register<T>(p: *const T, tag: u64) {
    registry::insert(p as usize, tag);
}

/// Forgets a live object; false when it was not live with this tag.
pub(crate) fn unregister<T>(p: *const T, tag: u64) -> bool {
    registry::remove(p as usize, tag)
}

/// Checks that `p` points to a live object of type `tag`.
///
/// # Safety
/// `p` is NULL, or a pointer the library handed out (possibly freed since,
/// when built with `std`), or points to at least 8 readable bytes.
pub(crate) unsafe fn check<T>(p: *const T, tag: u64) -> Result<(), wl_status> {
    if p.is_null() {
        return Err(WL_ERR_NULL_POINTER);
    }
    if !(p as usize).is_multiple_of(core::mem::align_of::<u64>()) {
        return Err(WL_ERR_BAD_HANDLE);
    }
    if !registry::contains(p as usize, tag) {
        return Err(WL_ERR_BAD_HANDLE);
    }
    // SAFETY: non-null, aligned for u64, and every tagged object begins
    // with its u64 tag; with std the registry says the object is live.
    let found = unsafe { p.cast::<u64>().read() };
    if found == tag {
        Ok(())
    } else {
        Err(WL_ERR_BAD_HANDLE)
    }
}

/// An object behind a handle.
///
/// Composers, meters and monitors share one life cycle: made in caller
/// storage (`*_init`) or on the heap (`*_new`), registered, checked on
/// every call, and ended by `*_release` or `*_free`, which clear the tag.
/// This trait lets those steps be written once.
///
/// # Safety
/// An implementor is `#[repr(C)]` and its first field is its `u64` tag,
/// equal to [`Tagged::TAG`] while the object is live: [`check`] reads it,
/// and [`free_heap`] and [`release_in_place`] clear it, through a pointer
/// to the object cast to `*const u64`.
pub(crate) unsafe trait Tagged: Sized {
    /// The tag of a live object of this type.
    const TAG: u64;

    /// Whether the object was made on the heap (by `*_new`), and whether a
    /// call is running inside it (a callback calling back).
    ///
    /// # Safety
    /// `p` points to a live object. The implementation reads only the
    /// fields it needs, without borrowing the whole object, because a call
    /// running inside it may hold a mutable borrow of another field.
    unsafe fn storage(p: *const Self) -> Storage;
}

/// Where a tagged object lives and whether it is in use (see [`Tagged`]).
pub(crate) struct Storage {
    /// Made on the heap by `*_new` (else in caller storage by `*_init`).
    pub(crate) heap: bool,
    /// A call is running inside the object.
    pub(crate) busy: bool,
}

/// Checks the caller's storage for a `T`: non-NULL, at least `size_of::<T>()`
/// bytes, aligned for `T`.
///
/// # Errors
/// [`WL_ERR_NULL_POINTER`], [`WL_ERR_STORAGE_TOO_SMALL`],
/// [`WL_ERR_STORAGE_MISALIGNED`], in that order.
pub(crate) fn storage_for<T>(memory: *mut c_void, len: usize) -> Result<*mut T, wl_status> {
    need(memory)?;
    if len < size_of::<T>() {
        return Err(WL_ERR_STORAGE_TOO_SMALL);
    }
    if !(memory as usize).is_multiple_of(align_of::<T>()) {
        return Err(WL_ERR_STORAGE_MISALIGNED);
    }
    Ok(memory.cast::<T>())
}

/// Moves `obj` into storage checked by [`storage_for`], registers it and
/// writes its handle (`p` as an `H`) to `out`.
///
/// # Safety
/// `p` came from [`storage_for`] and its storage stays the caller's; `out`
/// is NULL or writable.
pub(crate) unsafe fn place<T: Tagged, H>(
    p: *mut T,
    obj: T,
    out: *mut *mut H,
) -> Result<(), wl_status> {
    // SAFETY: size and alignment were checked by `storage_for`.
    unsafe { p.write(obj) };
    register(p, T::TAG);
    // SAFETY: forwarded from the caller.
    unsafe { write_out(out, p.cast::<H>()) }
}

/// Moves `obj` to the heap, registers it and writes its handle to `out`.
///
/// # Safety
/// `out` is NULL or writable.
#[cfg(feature = "std")]
pub(crate) unsafe fn place_on_heap<T: Tagged, H>(
    obj: T,
    out: *mut *mut H,
) -> Result<(), wl_status> {
    let p = Box::into_raw(Box::new(obj));
    register(p, T::TAG);
    // SAFETY: forwarded from the caller.
    unsafe { write_out(out, p.cast::<H>()) }
}

/// Checks that `p` is a live, idle `T` made the way the caller expects
/// (`heap` for a free, caller storage for a release).
///
/// # Safety
/// As [`check`].
unsafe fn check_ending<T: Tagged>(p: *mut T, heap: bool) -> Result<(), wl_status> {
    // SAFETY: forwarded from the caller.
    unsafe { check(p.cast_const(), T::TAG) }?;
    // SAFETY: the tag check says a live T is here.
    let storage = unsafe { T::storage(p) };
    if storage.busy {
        return Err(WL_ERR_BUSY);
    }
    if storage.heap != heap {
        return Err(WL_ERR_WRONG_STORAGE);
    }
    Ok(())
}

/// Frees a `T` made on the heap, after clearing its tag: the body of every
/// `*_free`.
///
/// # Errors
/// [`WL_ERR_NULL_POINTER`], [`WL_ERR_BAD_HANDLE`] (freed already, not a
/// `T`, or freed by another thread meanwhile), [`WL_ERR_BUSY`],
/// [`WL_ERR_WRONG_STORAGE`] (made in caller storage); without `std`, where
/// nothing is made on the heap, [`crate::status::WL_ERR_NOT_SUPPORTED`]
/// after those checks.
///
/// # Safety
/// As [`check`].
pub(crate) unsafe fn free_heap<T: Tagged>(p: *mut T) -> Result<(), wl_status> {
    // SAFETY: forwarded from the caller.
    unsafe { check_ending(p, true) }?;
    #[cfg(feature = "std")]
    {
        if !unregister(p, T::TAG) {
            return Err(WL_ERR_BAD_HANDLE);
        }
        // SAFETY: heap objects come from Box::into_raw in `place_on_heap`,
        // and the registry entry was live until now, so no other free can
        // reach this one; the tag is the first field by the trait's contract.
        unsafe {
            p.cast::<u64>().write(0);
            drop(Box::from_raw(p));
        }
        Ok(())
    }
    #[cfg(not(feature = "std"))]
    {
        Err(crate::status::WL_ERR_NOT_SUPPORTED)
    }
}

/// Ends a `T` made in caller storage: drops it in place and clears its
/// tag, so its storage is the caller's again. The body of every
/// `*_release`.
///
/// # Errors
/// [`WL_ERR_NULL_POINTER`], [`WL_ERR_BAD_HANDLE`], [`WL_ERR_BUSY`],
/// [`WL_ERR_WRONG_STORAGE`] (a heap object).
///
/// # Safety
/// As [`check`].
pub(crate) unsafe fn release_in_place<T: Tagged>(p: *mut T) -> Result<(), wl_status> {
    // SAFETY: forwarded from the caller.
    unsafe { check_ending(p, false) }?;
    unregister(p, T::TAG);
    // SAFETY: the object is live and not busy; drop it in place (it owns
    // nothing outside the storage) and clear the tag, its first field by
    // the trait's contract.
    unsafe {
        core::ptr::drop_in_place(p);
        p.cast::<u64>().write(0);
    }
    Ok(())
}
