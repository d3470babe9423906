//! With `std`: `catch_unwind` at the boundary, `Box` for heap objects.

use core::ptr::NonNull;

use crate::status::{WL_ERR_PANIC, WL_OK, wl_status};

/// Live objects the handle table holds (composers, meters, monitors).
pub(crate) const HANDLE_SLOTS: usize = 4096;

/// Runs an entry point's body; a panic becomes [`WL_ERR_PANIC`] instead of
/// unwinding into C, which would be undefined behaviour.
#[inline]
pub(crate) fn guard(f: impl FnOnce() -> Result<(), wl_status>) -> wl_status {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
        Ok(Ok(())) => WL_OK,
        Ok(Err(s)) => s,
        Err(_) => WL_ERR_PANIC,
    }
}

/// Moves `obj` to the heap.
pub(crate) fn to_heap<T>(obj: T) -> Result<NonNull<T>, wl_status> {
    Ok(NonNull::from(Box::leak(Box::new(obj))))
}

/// Drops an object made by [`to_heap`].
///
/// # Safety
/// `p` came from [`to_heap`] and is dropped once.
pub(crate) unsafe fn drop_heap<T>(p: NonNull<T>) {
    // SAFETY: `p` is a leaked Box (the caller's promise), reclaimed once.
    drop(unsafe { Box::from_raw(p.as_ptr()) });
}
