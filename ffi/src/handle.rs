//! Tagged handles: how a stale, foreign or uninitialised pointer is caught.
//!
//! Every object behind a handle begins with a `u64` tag, a magic number per
//! type, written when the object is made and cleared when it is freed or
//! released. Every call checks it. With `std` the library also records every
//! live handle in a registry and consults it *before* reading the tag, so a
//! handle whose heap memory has already been returned to the allocator is
//! refused without touching that memory (a double free is an error, not a
//! use-after-free).

use crate::status::{WL_ERR_BAD_HANDLE, WL_ERR_NULL_POINTER, wl_status};

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
