//! Handles: a generation-tagged slot table, checked without a lock.
//!
//! A handle (`wl_composer *`, `wl_meter *`, `wl_monitor *`, `wl_timeline *`) is not the
//! object's address but a number: a slot of a static table, the slot's
//! generation, the object's kind and whether it lives on the heap. The slot
//! holds the same word and the object's address while the object is live.
//! Checking a handle is one atomic load and a comparison: a freed or
//! released handle (its slot was cleared, or reused under a new
//! generation), a handle of another kind, or any other number is refused
//! with [`WL_ERR_BAD_HANDLE`] without the object's memory being read, so a
//! double free is an error and never a use after free.
//!
//! Ending an object clears its slot with a compare-and-swap, so of two
//! threads ending the same handle exactly one succeeds.
//!
//! Generations wrap after 2^47 reuses of one slot on 64-bit targets (2^15
//! on 32-bit ones); only a handle kept that long after its object ended could
//! be taken for a new one.

use core::cell::{Cell, UnsafeCell};
use core::ops::{Deref, DerefMut};
use core::ptr::NonNull;
use core::sync::atomic::{AtomicPtr, AtomicUsize, Ordering};

use crate::platform::HANDLE_SLOTS;
use crate::status::{
    WL_ERR_BAD_HANDLE, WL_ERR_BUSY, WL_ERR_NOT_SUPPORTED, WL_ERR_NULL_POINTER,
    WL_ERR_TOO_MANY_OBJECTS, WL_ERR_WRONG_STORAGE, wl_status,
};

/// What a handle refers to. `0` marks a free slot, [`RESERVED`] one being filled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(usize)]
pub(crate) enum Kind {
    /// A `wl_composer`.
    Composer = 1,
    /// A `wl_meter`.
    Meter = 2,
    /// A `wl_monitor`.
    Monitor = 3,
    /// A `wl_timeline`.
    Timeline = 4,
}

/// Low bits of a handle: the slot index + 1, so no handle is NULL.
const INDEX_BITS: u32 = 13;
const INDEX_MASK: usize = (1 << INDEX_BITS) - 1;
/// Bits of a slot word below the generation: the kind and the heap bit.
const KIND_MASK: usize = 0b111;
const HEAP_BIT: usize = 0b1000;
const TAG_BITS: u32 = 4;
/// The kind field of a slot being filled.
const RESERVED: usize = KIND_MASK;
/// Generations use what the index and tag leave of a `usize`.
const GEN_MASK: usize = usize::MAX >> (INDEX_BITS + TAG_BITS);

const _: () = assert!(HANDLE_SLOTS < INDEX_MASK);

/// One entry of the table.
#[derive(Debug)]
struct Slot {
    /// `generation << TAG_BITS | heap | kind`; kind 0 when free.
    word: AtomicUsize,
    /// The object, while the word says live.
    object: AtomicPtr<u8>,
}

static TABLE: [Slot; HANDLE_SLOTS] = [const {
    Slot {
        word: AtomicUsize::new(0),
        object: AtomicPtr::new(core::ptr::null_mut()),
    }
}; HANDLE_SLOTS];

/// An object that lives behind a handle.
pub(crate) trait Object {
    /// Its kind.
    const KIND: Kind;
    /// False in builds where no such object can be made (the monitor
    /// without `std`): its handles are then answered with
    /// [`WL_ERR_NOT_SUPPORTED`].
    const AVAILABLE: bool = true;
    /// Whether a call is running inside the object, so it cannot end now.
    fn busy(&self) -> bool;
}

/// Splits a handle into its slot and the word the slot must hold.
fn decode(h: usize, kind: Kind) -> Result<(&'static Slot, usize), wl_status> {
    let word = h >> INDEX_BITS;
    if word & KIND_MASK != kind as usize {
        return Err(WL_ERR_BAD_HANDLE);
    }
    let index = (h & INDEX_MASK).wrapping_sub(1);
    let slot = TABLE.get(index).ok_or(WL_ERR_BAD_HANDLE)?;
    Ok((slot, word))
}

/// The live `T` behind handle `h`: the one way from a handle to its object.
///
/// # Errors
/// [`WL_ERR_NULL_POINTER`], [`WL_ERR_BAD_HANDLE`] (not a live `T`),
/// [`WL_ERR_NOT_SUPPORTED`] (no `T` can exist in this build).
pub(crate) fn get<'a, T: Object, H>(h: *const H) -> Result<&'a T, wl_status> {
    if h.is_null() {
        return Err(WL_ERR_NULL_POINTER);
    }
    if !T::AVAILABLE {
        return Err(WL_ERR_NOT_SUPPORTED);
    }
    let (slot, word) = decode(h as usize, T::KIND)?;
    if slot.word.load(Ordering::Acquire) != word {
        return Err(WL_ERR_BAD_HANDLE);
    }
    let object = slot.object.load(Ordering::Relaxed).cast::<T>();
    // SAFETY: the slot holds this handle's word, so `object` is the live T
    // that `Reservation::publish` stored (the Acquire load above pairs with
    // its Release store). It stays live until `end` clears the slot, and
    // every entry point's contract forbids ending an object while another
    // call uses it.
    Ok(unsafe { &*object })
}

/// A claimed slot, not yet published; dropping it frees the slot again.
#[derive(Debug)]
pub(crate) struct Reservation {
    slot: &'static Slot,
    index: usize,
    generation: usize,
}

/// Claims a free slot, so that making an object can fail before anything
/// is written.
///
/// # Errors
/// [`WL_ERR_TOO_MANY_OBJECTS`] when every slot is in use.
pub(crate) fn reserve() -> Result<Reservation, wl_status> {
    for (index, slot) in TABLE.iter().enumerate() {
        let word = slot.word.load(Ordering::Relaxed);
        if word & KIND_MASK != 0 {
            continue;
        }
        let generation = ((word >> TAG_BITS) + 1) & GEN_MASK;
        let reserved = generation << TAG_BITS | RESERVED;
        if slot
            .word
            .compare_exchange(word, reserved, Ordering::Acquire, Ordering::Relaxed)
            .is_ok()
        {
            return Ok(Reservation {
                slot,
                index,
                generation,
            });
        }
    }
    Err(WL_ERR_TOO_MANY_OBJECTS)
}

impl Reservation {
    /// Makes `object` reachable and returns its handle.
    pub(crate) fn publish<T: Object, H>(self, object: NonNull<T>, heap: bool) -> *mut H {
        let heap_bit = if heap { HEAP_BIT } else { 0 };
        let word = self.generation << TAG_BITS | heap_bit | T::KIND as usize;
        self.slot
            .object
            .store(object.as_ptr().cast(), Ordering::Relaxed);
        self.slot.word.store(word, Ordering::Release);
        let handle = word << INDEX_BITS | (self.index + 1);
        core::mem::forget(self);
        // A handle is a number that C keeps in a pointer-typed variable.
        core::ptr::without_provenance_mut(handle)
    }
}

impl Drop for Reservation {
    fn drop(&mut self) {
        // Back to free, keeping the generation so it is not handed out twice.
        self.slot
            .word
            .store(self.generation << TAG_BITS, Ordering::Release);
    }
}

/// Ends the live `T` behind `h`: checks it was made the way the caller
/// expects (`heap` for a free, caller storage for a release) and is not
/// busy, clears its slot, and returns it for the caller to drop.
///
/// # Errors
/// [`WL_ERR_NULL_POINTER`], [`WL_ERR_BAD_HANDLE`] (already ended, not a
/// `T`, or ended by another thread meanwhile), [`WL_ERR_NOT_SUPPORTED`],
/// [`WL_ERR_WRONG_STORAGE`], [`WL_ERR_BUSY`].
pub(crate) fn end<T: Object, H>(h: *const H, heap: bool) -> Result<NonNull<T>, wl_status> {
    let object = get::<T, H>(h)?;
    let (slot, word) = decode(h as usize, T::KIND)?;
    if (word & HEAP_BIT != 0) != heap {
        return Err(WL_ERR_WRONG_STORAGE);
    }
    if object.busy() {
        return Err(WL_ERR_BUSY);
    }
    let free = (word >> TAG_BITS) << TAG_BITS;
    slot.word
        .compare_exchange(word, free, Ordering::AcqRel, Ordering::Relaxed)
        .map_err(|_| WL_ERR_BAD_HANDLE)?;
    Ok(NonNull::from(object))
}

/// A value that one call at a time may change, through a shared reference.
///
/// Objects are reached as `&T` (see [`get`]); the part a call changes sits
/// in an `Exclusive`, and [`Exclusive::enter`] hands out the only mutable
/// borrow. A call made from inside (a record callback calling back into its
/// composer) finds it busy and gets [`WL_ERR_BUSY`] rather than a second
/// mutable borrow.
#[derive(Debug)]
pub(crate) struct Exclusive<T> {
    busy: Cell<bool>,
    value: UnsafeCell<T>,
}

impl<T> Exclusive<T> {
    /// Wraps `value`, idle.
    pub(crate) const fn new(value: T) -> Self {
        Exclusive {
            busy: Cell::new(false),
            value: UnsafeCell::new(value),
        }
    }

    /// Whether a borrow is held.
    pub(crate) fn is_busy(&self) -> bool {
        self.busy.get()
    }

    /// The mutable borrow, held until the returned guard drops.
    ///
    /// # Errors
    /// [`WL_ERR_BUSY`] while another borrow is held.
    pub(crate) fn enter(&self) -> Result<Entered<'_, T>, wl_status> {
        if self.busy.replace(true) {
            Err(WL_ERR_BUSY)
        } else {
            Ok(Entered { owner: self })
        }
    }
}

/// The borrow [`Exclusive::enter`] gives.
#[derive(Debug)]
pub(crate) struct Entered<'a, T> {
    owner: &'a Exclusive<T>,
}

impl<T> Deref for Entered<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: `busy` was false and is now true for this guard's life, so
        // no other `Entered` of this value exists (the type is not Sync, and
        // objects are used from one thread at a time by contract).
        unsafe { &*self.owner.value.get() }
    }
}

impl<T> DerefMut for Entered<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as in `deref`; `&mut self` makes this borrow unique.
        unsafe { &mut *self.owner.value.get() }
    }
}

impl<T> Drop for Entered<'_, T> {
    fn drop(&mut self) {
        self.owner.busy.set(false);
    }
}

/// Checks the caller's storage for a `T`: not NULL, at least
/// `size_of::<T>()` bytes, aligned for `T`.
///
/// # Errors
/// [`WL_ERR_NULL_POINTER`], [`WL_ERR_STORAGE_TOO_SMALL`],
/// [`WL_ERR_STORAGE_MISALIGNED`], in that order.
pub(crate) fn storage_for<T>(
    memory: *mut core::ffi::c_void,
    len: usize,
) -> Result<NonNull<T>, wl_status> {
    let p = crate::ptr::need(memory)?;
    if len < core::mem::size_of::<T>() {
        return Err(crate::status::WL_ERR_STORAGE_TOO_SMALL);
    }
    if !(p.as_ptr() as usize).is_multiple_of(core::mem::align_of::<T>()) {
        return Err(crate::status::WL_ERR_STORAGE_MISALIGNED);
    }
    Ok(p.cast())
}

/// Moves `object` into checked caller storage and returns its handle; the
/// storage is untouched when the table is full.
///
/// # Safety
/// `storage` came from [`storage_for`] on memory the caller lets the
/// library use until the object is released.
pub(crate) unsafe fn place<T: Object, H>(
    storage: NonNull<T>,
    object: T,
) -> Result<*mut H, wl_status> {
    let slot = reserve()?;
    // SAFETY: size and alignment were checked by `storage_for`, and the
    // memory is the library's to write (the caller's promise).
    unsafe { storage.write(object) };
    Ok(slot.publish(storage, false))
}

/// Moves `object` to the heap and returns its handle
/// ([`WL_ERR_NOT_SUPPORTED`] without `std`).
pub(crate) fn place_on_heap<T: Object, H>(object: T) -> Result<*mut H, wl_status> {
    let slot = reserve()?;
    let p = crate::platform::to_heap(object)?;
    Ok(slot.publish(p, true))
}

/// Ends and drops a heap object: the body of every `*_free`.
///
/// # Errors
/// As [`end`].
pub(crate) fn free<T: Object, H>(h: *const H) -> Result<(), wl_status> {
    let p = end::<T, H>(h, true)?;
    // SAFETY: heap objects come from `place_on_heap`, and `end` cleared the
    // slot, so this is the one drop.
    unsafe { crate::platform::drop_heap(p) };
    Ok(())
}

/// Ends an object in caller storage and drops it in place, so the storage
/// is the caller's again: the body of every `*_release`.
///
/// # Errors
/// As [`end`].
pub(crate) fn release<T: Object, H>(h: *const H) -> Result<(), wl_status> {
    let p = end::<T, H>(h, false)?;
    // SAFETY: the object was written by `place` and `end` cleared its slot,
    // so this is the one drop; the storage itself stays the caller's.
    unsafe { core::ptr::drop_in_place(p.as_ptr()) };
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Thing(Exclusive<u32>);
    impl Object for Thing {
        const KIND: Kind = Kind::Meter;
        fn busy(&self) -> bool {
            self.0.is_busy()
        }
    }

    #[test]
    fn a_handle_outlives_nothing() {
        let mut storage = Thing(Exclusive::new(7));
        let ptr = NonNull::from(&mut storage);
        let h: *mut u8 = reserve().unwrap().publish(ptr, false);
        assert_eq!(get::<Thing, u8>(h).map(|t| *t.0.enter().unwrap()), Ok(7));
        // Another kind, a heap free of caller storage, a busy object.
        assert_eq!(
            get::<crate::compose::ComposerObj, u8>(h).err(),
            Some(WL_ERR_BAD_HANDLE)
        );
        assert_eq!(end::<Thing, u8>(h, true).err(), Some(WL_ERR_WRONG_STORAGE));
        {
            let _inside = get::<Thing, u8>(h).unwrap().0.enter().unwrap();
            assert_eq!(end::<Thing, u8>(h, false).err(), Some(WL_ERR_BUSY));
        }
        assert!(end::<Thing, u8>(h, false).is_ok());
        // Ended: refused, twice, and after its slot is reused.
        assert_eq!(get::<Thing, u8>(h).err(), Some(WL_ERR_BAD_HANDLE));
        assert_eq!(end::<Thing, u8>(h, false).err(), Some(WL_ERR_BAD_HANDLE));
        let again: *mut u8 = reserve().unwrap().publish(ptr, false);
        assert_ne!(again, h);
        assert_eq!(get::<Thing, u8>(h).err(), Some(WL_ERR_BAD_HANDLE));
        assert!(end::<Thing, u8>(again, false).is_ok());
        // Numbers that were never handles.
        for n in [1usize, 0x1000, usize::MAX, 0xdead_beef_0000] {
            let p: *const u8 = core::ptr::without_provenance(n);
            assert_eq!(get::<Thing, u8>(p).err(), Some(WL_ERR_BAD_HANDLE));
        }
        assert_eq!(
            get::<Thing, u8>(core::ptr::null()).err(),
            Some(WL_ERR_NULL_POINTER)
        );
    }

    #[test]
    fn a_dropped_reservation_frees_its_slot() {
        let r = reserve().unwrap();
        let index = r.index;
        drop(r);
        let word = TABLE[index].word.load(Ordering::Relaxed);
        assert_eq!(word & KIND_MASK, 0);
    }
}
