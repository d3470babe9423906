//! A fixed-capacity double-ended queue of small `Copy` values.
//!
//! The timeline keeps its groups of free domains here: pushed at the back
//! when kernels end, taken from the back when kernels start, dropped from
//! the front as they age. `heapless::Deque` does the same job, but its
//! general bookkeeping (a `full` flag, front and back indices that wrap
//! separately) cost the oracle about 80 instructions per kernel; a head and
//! a length, with the one wrap a power-of-two capacity makes a mask, do it
//! in a few.

/// A double-ended queue of at most `N` values, in place.
#[derive(Clone)]
pub(crate) struct Ring<T: Copy, const N: usize> {
    buf: [T; N],
    /// Position of the front value in `buf`.
    head: usize,
    len: usize,
}

impl<T: Copy, const N: usize> Ring<T, N> {
    /// An empty queue; `fill` only initialises the storage.
    pub(crate) const fn new(fill: T) -> Self {
        Ring {
            buf: [fill; N],
            head: 0,
            len: 0,
        }
    }

    /// Position in `buf` of the `i`-th value from the front (`i < N`).
    #[inline(always)]
    fn slot(&self, i: usize) -> usize {
        let j = self.head + i;
        if N.is_power_of_two() {
            // The usual capacity: a mask, which also tells the compiler the
            // index is in bounds.
            j & (N - 1)
        } else if j >= N {
            // head < N and i < N: one subtraction undoes the wrap.
            j - N
        } else {
            j
        }
    }

    #[inline(always)]
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// The `i`-th value from the front.
    #[inline(always)]
    pub(crate) fn get(&self, i: usize) -> Option<T> {
        if i < self.len {
            self.buf.get(self.slot(i)).copied()
        } else {
            None
        }
    }

    #[inline(always)]
    pub(crate) fn front(&self) -> Option<T> {
        self.get(0)
    }

    #[inline(always)]
    pub(crate) fn back_mut(&mut self) -> Option<&mut T> {
        let i = self.len.checked_sub(1)?;
        let at = self.slot(i);
        self.buf.get_mut(at)
    }

    /// Adds `v` at the back; `false` (and nothing changes) when full.
    #[inline(always)]
    pub(crate) fn push_back(&mut self, v: T) -> bool {
        if self.len >= N {
            return false;
        }
        let at = self.slot(self.len);
        match self.buf.get_mut(at) {
            Some(x) => {
                *x = v;
                self.len += 1;
                true
            }
            None => false,
        }
    }

    #[inline(always)]
    pub(crate) fn pop_back(&mut self) -> Option<T> {
        let v = self.get(self.len.checked_sub(1)?)?;
        self.len -= 1;
        Some(v)
    }

    #[inline(always)]
    pub(crate) fn pop_front(&mut self) -> Option<T> {
        let v = self.front()?;
        self.head = self.slot(1);
        self.len -= 1;
        Some(v)
    }
}

/// The values, front first (not the storage past them).
impl<T: Copy + core::fmt::Debug, const N: usize> core::fmt::Debug for Ring<T, N> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_list()
            .entries((0..self.len).filter_map(|i| self.get(i)))
            .finish()
    }
}

/// Equal when they hold the same values in the same order, wherever in the
/// storage they sit and whatever the storage holds past them.
impl<T: Copy + PartialEq, const N: usize> PartialEq for Ring<T, N> {
    fn eq(&self, other: &Self) -> bool {
        self.len == other.len && (0..self.len).all(|i| self.get(i) == other.get(i))
    }
}

#[cfg(test)]
mod tests {
    use super::Ring;

    /// Against a model (a `heapless::Deque`), through wraps at every
    /// position: the same values come out at both ends, and a full ring
    /// refuses a push and stays as it was. `N` = 4 takes the masked index,
    /// `N` = 5 the subtracted one.
    fn behaves_as_a_deque<const N: usize>() {
        let mut ring: Ring<u32, N> = Ring::new(0);
        let mut model: heapless::Deque<u32, N> = heapless::Deque::new();
        // A fixed pseudo-random walk of pushes and pops at both ends.
        let mut x: u32 = 12345;
        for step in 0..2000u32 {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            match (x >> 16) % 4 {
                0 | 1 => {
                    let before = ring.clone();
                    let pushed = ring.push_back(step);
                    assert_eq!(pushed, model.push_back(step).is_ok());
                    if !pushed {
                        assert_eq!(ring, before);
                        assert_eq!(ring.len(), N);
                    }
                }
                2 => assert_eq!(ring.pop_front(), model.pop_front()),
                _ => assert_eq!(ring.pop_back(), model.pop_back()),
            }
            assert_eq!(ring.len(), model.len());
            for i in 0..N + 1 {
                assert_eq!(ring.get(i), model.iter().nth(i).copied());
            }
            assert_eq!(ring.back_mut().copied(), model.back().copied());
        }
    }

    #[test]
    fn behaves_as_a_deque_through_wraps() {
        behaves_as_a_deque::<4>();
        behaves_as_a_deque::<5>();
        behaves_as_a_deque::<1>();
    }

    #[test]
    fn equality_is_by_contents_not_storage() {
        // Same values [7, 8], one stored from position 0, one from 3.
        let mut a: Ring<u32, 4> = Ring::new(0);
        a.push_back(7);
        a.push_back(8);
        let mut b: Ring<u32, 4> = Ring::new(9);
        for v in [1, 2, 3] {
            b.push_back(v);
        }
        for _ in 0..3 {
            b.pop_front();
        }
        b.push_back(7);
        b.push_back(8);
        assert_eq!(a, b);
        b.pop_back();
        assert_ne!(a, b);
    }
}
