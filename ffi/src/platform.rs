//! What differs between a build with `std` and one without, in one place:
//! the panic boundary, heap objects and the size of the handle table. The
//! rest of the library is written once against these few items.

#[cfg(feature = "std")]
#[path = "platform/hosted.rs"]
mod imp;

#[cfg(not(feature = "std"))]
#[path = "platform/bare.rs"]
mod imp;

pub(crate) use imp::{HANDLE_SLOTS, drop_heap, guard, to_heap};
