//! Without `std` (firmware): no unwinding to catch (the library has no
//! panicking paths, and the firmware profile aborts), no heap, and a small
//! handle table that costs 1 KiB of static memory.

use core::ptr::NonNull;

use crate::status::{WL_ERR_NOT_SUPPORTED, WL_OK, wl_status};

/// Live objects the handle table holds (composers and meters in caller storage).
pub(crate) const HANDLE_SLOTS: usize = 64;

/// Runs an entry point's body.
#[inline]
pub(crate) fn guard(f: impl FnOnce() -> Result<(), wl_status>) -> wl_status {
    match f() {
        Ok(()) => WL_OK,
        Err(s) => s,
    }
}

/// There is no heap: every `*_new` ends here with [`WL_ERR_NOT_SUPPORTED`].
pub(crate) fn to_heap<T>(obj: T) -> Result<NonNull<T>, wl_status> {
    drop(obj);
    Err(WL_ERR_NOT_SUPPORTED)
}

/// Never called: nothing is ever on the heap.
///
/// # Safety
/// None needed; it does nothing.
pub(crate) unsafe fn drop_heap<T>(p: NonNull<T>) {
    let _ = p;
}
