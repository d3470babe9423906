//! Pointers from C, checked once.
//!
//! Each entry point turns its raw arguments into these types in one
//! `unsafe` block, whose SAFETY comment is the function's own contract;
//! everything after works on checked values. The order of the checks is
//! the same everywhere: the handle, then the inputs, then the outputs, all
//! before any work, so an output error never leaves work half done.

use core::ffi::c_char;
use core::marker::PhantomData;
use core::mem::{align_of, size_of};
use core::ptr::NonNull;

use crate::status::{
    WL_ERR_BAD_UTF8, WL_ERR_CAPACITY, WL_ERR_NAME_TOO_LONG, WL_ERR_NULL_POINTER,
    WL_ERR_STRUCT_SIZE, wl_status,
};

/// Fails with [`WL_ERR_NULL_POINTER`] when `p` is NULL.
pub(crate) fn need<T>(p: *const T) -> Result<NonNull<T>, wl_status> {
    NonNull::new(p.cast_mut()).ok_or(WL_ERR_NULL_POINTER)
}

/// Reads a NUL-terminated UTF-8 string.
///
/// # Safety
/// `p` is NULL or points to a NUL-terminated string that stays valid and
/// unchanged for `'a`.
pub(crate) unsafe fn text<'a>(p: *const c_char) -> Result<&'a str, wl_status> {
    let p = need(p)?;
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
    let bytes = unsafe { core::slice::from_raw_parts(p.as_ptr().cast::<u8>(), len) };
    core::str::from_utf8(bytes).map_err(|_| WL_ERR_BAD_UTF8)
}

/// Reads an optional NUL-terminated UTF-8 string: NULL is `None`.
///
/// # Safety
/// As [`text`].
pub(crate) unsafe fn opt_text<'a>(p: *const c_char) -> Result<Option<&'a str>, wl_status> {
    if p.is_null() {
        Ok(None)
    } else {
        // SAFETY: the caller's promise is the one `text` needs.
        unsafe { text(p) }.map(Some)
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

/// A struct that crosses the ABI with `uint32_t struct_size` as its first
/// field, so that it can grow at its end in later versions.
///
/// # Safety
/// The implementor is `#[repr(C)]`, begins with a `u32` `struct_size`, and
/// every bit pattern of every field is valid (numbers, raw pointers, `char`
/// arrays), so it may be filled from any bytes.
pub(crate) unsafe trait Versioned: Copy {
    /// Its size in ABI 1.0: the `WL_*_SIZE_V1` constant, the least
    /// `struct_size` accepted.
    const SIZE_V1: u32;
    /// What the fields a caller's older struct lacks read as (an input), or
    /// start as (an output): the documented defaults.
    fn defaults() -> Self;
}

/// Checks a `struct_size`: at least the 1.0 size. Returns the bytes to read
/// or write, never more than this library's struct.
fn sized<T: Versioned>(struct_size: u32) -> Result<usize, wl_status> {
    if struct_size < T::SIZE_V1 {
        return Err(WL_ERR_STRUCT_SIZE);
    }
    Ok((struct_size as usize).min(size_of::<T>()))
}

/// Reads a versioned input struct: the first `struct_size` bytes (at most
/// this library's size), the rest from [`Versioned::defaults`].
///
/// # Safety
/// `p` is NULL or points to a `T` whose first field, `struct_size`, says how
/// many bytes are readable.
pub(crate) unsafe fn read_in<T: Versioned>(p: *const T) -> Result<T, wl_status> {
    let p = need(p)?;
    // SAFETY: non-NULL and, by the caller's promise, begins with a readable u32.
    let n = sized::<T>(unsafe { p.cast::<u32>().read() })?;
    // SAFETY: `n` ≤ struct_size bytes are readable (the caller's promise)
    // and ≤ size_of::<T>() fit in `value`.
    Ok(unsafe { read_prefix(p.cast(), n) })
}

/// A `T` of `defaults` with its first `n` bytes copied from `src`.
///
/// # Safety
/// `src` has `n` readable bytes, `n ≤ size_of::<T>()`.
unsafe fn read_prefix<T: Versioned>(src: NonNull<u8>, n: usize) -> T {
    let mut value = T::defaults();
    // SAFETY: `n` readable bytes at `src` (the caller's promise) into a
    // separate local that has room for them; any bytes make a valid T (the
    // trait's contract).
    unsafe {
        core::ptr::copy_nonoverlapping(
            src.as_ptr(),
            core::ptr::from_mut(&mut value).cast::<u8>(),
            n,
        );
    }
    value
}

/// Reads an array of versioned input structs whose stride is the first
/// element's `struct_size`, which every element must repeat.
#[derive(Debug, Clone, Copy)]
pub(crate) struct InArray<'a, T> {
    first: Option<NonNull<u8>>,
    count: usize,
    stride: usize,
    _borrow: PhantomData<&'a T>,
}

impl<'a, T: Versioned> InArray<'a, T> {
    /// Checks `count` elements at `p` (NULL allowed when `count` is 0).
    ///
    /// # Errors
    /// [`WL_ERR_NULL_POINTER`], [`WL_ERR_STRUCT_SIZE`] (a first `struct_size`
    /// below the 1.0 size or not a multiple of the alignment).
    ///
    /// # Safety
    /// `p` is NULL or points to `count` elements of `p->struct_size` bytes
    /// each, readable for `'a`.
    pub(crate) unsafe fn new(p: *const T, count: usize) -> Result<Self, wl_status> {
        if count == 0 {
            return Ok(InArray {
                first: None,
                count,
                stride: 0,
                _borrow: PhantomData,
            });
        }
        let p = need(p)?;
        // SAFETY: the first element begins with its readable u32 struct_size.
        let stride = unsafe { p.cast::<u32>().read() };
        sized::<T>(stride)?;
        let stride = stride as usize;
        if !stride.is_multiple_of(align_of::<T>()) {
            return Err(WL_ERR_STRUCT_SIZE);
        }
        Ok(InArray {
            first: Some(p.cast()),
            count,
            stride,
            _borrow: PhantomData,
        })
    }

    /// Number of elements.
    pub(crate) fn len(&self) -> usize {
        self.count
    }

    /// Element `i`.
    ///
    /// # Errors
    /// [`WL_ERR_STRUCT_SIZE`] when its `struct_size` is not the stride.
    pub(crate) fn get(&self, i: usize) -> Result<Option<T>, wl_status> {
        let Some(first) = self.first.filter(|_| i < self.count) else {
            return Ok(None);
        };
        let n = self.stride.min(size_of::<T>());
        // SAFETY: i < count, so the element lies inside the caller's array
        // of `count` strides (the promise of `new`), readable for 'a.
        let value: T = unsafe { read_prefix(first.add(i * self.stride), n) };
        // SAFETY: `T: Versioned` begins with its u32 struct_size.
        let size = unsafe { core::ptr::from_ref(&value).cast::<u32>().read() };
        if size as usize != self.stride {
            return Err(WL_ERR_STRUCT_SIZE);
        }
        Ok(Some(value))
    }
}

/// An out-pointer, checked not NULL, written once.
#[derive(Debug)]
pub(crate) struct Out<'a, T> {
    p: NonNull<T>,
    _borrow: PhantomData<&'a mut T>,
}

impl<T> Out<'_, T> {
    /// Checks `p`.
    ///
    /// # Errors
    /// [`WL_ERR_NULL_POINTER`].
    ///
    /// # Safety
    /// `p` is NULL or valid and aligned for a write of `T`.
    pub(crate) unsafe fn new(p: *mut T) -> Result<Self, wl_status> {
        Ok(Out {
            p: need(p)?,
            _borrow: PhantomData,
        })
    }

    /// Writes the result.
    pub(crate) fn write(self, value: T) -> Result<(), wl_status> {
        // SAFETY: non-NULL and writable (the promise of `new`).
        unsafe { self.p.write(value) };
        Ok(())
    }
}

/// An output array: plain (stride `sizeof(T)`) or versioned (stride the
/// first element's caller-set `struct_size`; each element gets at most
/// that many bytes, its `struct_size` set to what was written).
#[derive(Debug)]
pub(crate) struct OutArray<'a, T> {
    first: Option<NonNull<u8>>,
    capacity: usize,
    stride: usize,
    _borrow: PhantomData<&'a mut T>,
}

impl<'a, T> OutArray<'a, T> {
    /// Checks an array of `capacity` plain elements (NULL allowed when 0).
    ///
    /// # Errors
    /// [`WL_ERR_NULL_POINTER`].
    ///
    /// # Safety
    /// `p` is NULL or has `capacity` writable elements for `'a`.
    pub(crate) unsafe fn plain(p: *mut T, capacity: usize) -> Result<Self, wl_status> {
        let first = if capacity == 0 {
            None
        } else {
            Some(need(p)?.cast())
        };
        Ok(OutArray {
            first,
            capacity,
            stride: size_of::<T>(),
            _borrow: PhantomData,
        })
    }

    /// Fails with [`WL_ERR_CAPACITY`] when `n` elements do not fit.
    pub(crate) fn room_for(&self, n: usize) -> Result<(), wl_status> {
        if n > self.capacity {
            Err(WL_ERR_CAPACITY)
        } else {
            Ok(())
        }
    }

    /// Writes element `i` (< capacity, else [`WL_ERR_CAPACITY`]).
    pub(crate) fn write(&mut self, i: usize, value: T) -> Result<(), wl_status> {
        let first = self
            .first
            .filter(|_| i < self.capacity)
            .ok_or(WL_ERR_CAPACITY)?;
        let n = self.stride.min(size_of::<T>());
        // SAFETY: i < capacity elements of `stride` bytes are writable (the
        // promise of the constructor); at most `n` ≤ stride bytes are
        // written, from a separate local.
        unsafe {
            core::ptr::copy_nonoverlapping(
                core::ptr::from_ref(&value).cast::<u8>(),
                first.as_ptr().add(i * self.stride),
                n,
            );
        }
        Ok(())
    }
}

impl<'a, T: Versioned> OutArray<'a, T> {
    /// Checks an array of `capacity` versioned elements (NULL allowed when
    /// 0); the first element's `struct_size` gives the stride.
    ///
    /// # Errors
    /// [`WL_ERR_NULL_POINTER`], [`WL_ERR_STRUCT_SIZE`].
    ///
    /// # Safety
    /// `p` is NULL or has `capacity` writable elements of `p->struct_size`
    /// bytes for `'a`, the first with `struct_size` set.
    pub(crate) unsafe fn sized(p: *mut T, capacity: usize) -> Result<Self, wl_status> {
        if capacity == 0 {
            // SAFETY: nothing is written with no capacity.
            return unsafe { Self::plain(p, 0) };
        }
        let first = need(p)?;
        // SAFETY: the first element's struct_size is set and readable.
        let stride = unsafe { first.cast::<u32>().read() };
        sized::<T>(stride)?;
        let stride = stride as usize;
        if !stride.is_multiple_of(align_of::<T>()) {
            return Err(WL_ERR_STRUCT_SIZE);
        }
        Ok(OutArray {
            first: Some(first.cast()),
            capacity,
            stride,
            _borrow: PhantomData,
        })
    }

    /// Writes element `i` with its `struct_size` set to the bytes written.
    pub(crate) fn write_sized(&mut self, i: usize, mut value: T) -> Result<(), wl_status> {
        let n = self.stride.min(size_of::<T>());
        // SAFETY: `T: Versioned` begins with its u32 struct_size.
        unsafe {
            core::ptr::from_mut(&mut value)
                .cast::<u32>()
                .write(n as u32);
        }
        self.write(i, value)
    }
}

/// A versioned output struct: the caller sets `struct_size`, the library
/// writes no more than that many bytes.
#[derive(Debug)]
pub(crate) struct OutSized<'a, T>(OutArray<'a, T>);

impl<T: Versioned> OutSized<'_, T> {
    /// Checks `p` and its `struct_size`.
    ///
    /// # Errors
    /// [`WL_ERR_NULL_POINTER`], [`WL_ERR_STRUCT_SIZE`].
    ///
    /// # Safety
    /// `p` is NULL or points to `p->struct_size` writable bytes, with
    /// `struct_size` set.
    pub(crate) unsafe fn new(p: *mut T) -> Result<Self, wl_status> {
        // SAFETY: the caller's promise, for an array of one.
        unsafe { OutArray::sized(need(p)?.as_ptr(), 1) }.map(OutSized)
    }

    /// Writes the result.
    pub(crate) fn write(mut self, value: T) -> Result<(), wl_status> {
        self.0.write_sized(0, value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
    }

    #[derive(Debug, Clone, Copy, PartialEq)]
    #[repr(C)]
    struct V2 {
        struct_size: u32,
        a: u32,
        /// Added "after 1.0": defaults to 9.
        b: u64,
    }
    // SAFETY: repr(C), struct_size first, plain numbers.
    unsafe impl Versioned for V2 {
        const SIZE_V1: u32 = 8;
        fn defaults() -> Self {
            V2 {
                struct_size: 0,
                a: 0,
                b: 9,
            }
        }
    }

    #[test]
    fn an_older_struct_reads_with_defaults_and_a_newer_one_is_cut() {
        // A 1.0 caller: 8 bytes, `b` unknown to it.
        let old = [8u32, 5u32];
        // SAFETY: 8 readable bytes with struct_size 8.
        let got = unsafe { read_in(old.as_ptr().cast::<V2>()) };
        assert_eq!(
            got,
            Ok(V2 {
                struct_size: 8,
                a: 5,
                b: 9
            })
        );
        // Too small for 1.0.
        let tiny = [4u32, 5u32];
        // SAFETY: as above.
        let got = unsafe { read_in(tiny.as_ptr().cast::<V2>()) };
        assert_eq!(got, Err(WL_ERR_STRUCT_SIZE));
        // A newer caller: 24 bytes; the library reads its 16.
        let newer = [24u64, 7, 99];
        // SAFETY: 24 readable bytes.
        let got = unsafe { read_in(newer.as_ptr().cast::<V2>()) }.unwrap();
        assert_eq!((got.a, got.b), (0, 7));
        // Output: a 1.0 caller's 8 bytes get 8 bytes, the rest untouched.
        let mut out = [8u32, 0, 0xAAAA_AAAA, 0xAAAA_AAAA];
        // SAFETY: 16 writable bytes, struct_size 8 set.
        let o = unsafe { OutSized::new(out.as_mut_ptr().cast::<V2>()) }.unwrap();
        o.write(V2 {
            struct_size: 0,
            a: 3,
            b: 4,
        })
        .unwrap();
        assert_eq!(out, [8, 3, 0xAAAA_AAAA, 0xAAAA_AAAA]);
    }
}
