//! Output buffers for the inflater: a fixed slice, or one that grows as output is produced.
//!
//! A blob's compressed header declares the inflated size, but corrupt or hostile input can
//! declare anything (1 MB of junk claiming 1 GB). Allocating and pre-faulting the declared size
//! up front made such input cost the full claim in memory and time. `GrowBuf` starts from what
//! the compressed data can plausibly justify (a few times its own length) and doubles only when
//! the decoder has actually filled it, never beyond the declared size, so the memory touched is
//! bounded by the output really produced (at most 2×, plus the initial few × input).
//!
//! Growth uses `realloc`, which for large blocks remaps pages instead of copying. Regions that
//! the output has justified are pre-faulted by a helper thread (`mem::Prefault`) while the
//! decoder writes, as before; the helper is stopped before every reallocation and at the end.

use crate::mem::Prefault;

/// Why the output cannot take more bytes.
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
pub enum Full {
    /// More than the declared (maximum) size was asked for.
    Limit,
    /// The allocator refused the memory.
    NoMemory,
}

/// Where inflated bytes go: a window that may grow up to `limit()` bytes.
pub trait Sink {
    /// The writable window (its length is the current capacity; bytes beyond those produced
    /// are scratch the decoder may overwrite).
    fn window(&mut self) -> &mut [u8];
    /// Make the window at least `need` bytes long (`need` > current length).
    fn grow(&mut self, need: usize) -> Result<(), Full>;
    /// The most bytes the output may hold.
    fn limit(&self) -> usize;
}

/// A caller-provided buffer of exactly the expected size; it never grows.
#[cfg(test)]
pub struct Fixed<'a>(pub &'a mut [u8]);

#[cfg(test)]
impl Sink for Fixed<'_> {
    fn window(&mut self) -> &mut [u8] {
        self.0
    }
    fn grow(&mut self, _need: usize) -> Result<(), Full> {
        Err(Full::Limit)
    }
    fn limit(&self) -> usize {
        self.0.len()
    }
}

/// Smallest first window (avoids several tiny reallocations for small blobs).
const MIN_WINDOW: usize = 64 << 10;
/// First window = this × compressed length: covers typical numeric data (ratio ≤ 4) in one
/// allocation, so the fast path for honest data is unchanged.
const INPUT_FACTOR: usize = 4;

/// A growing output of at most `limit` bytes, placed `offset` bytes into its allocation (so a
/// JS view can start at a chosen alignment). The leading `offset` bytes are zeroed on `finish`.
pub struct GrowBuf {
    // Declared first so that it is dropped (the helper stopped) before `vec` is freed.
    prefault: Option<Prefault>,
    vec: Vec<u8>,
    offset: usize,
    cap: usize,
    limit: usize,
}

impl GrowBuf {
    /// An output for a stream of `input_len` compressed bytes declared to inflate to `limit`.
    pub fn new(limit: usize, offset: usize, input_len: usize) -> Result<GrowBuf, Full> {
        let first = limit.min(MIN_WINDOW.max(input_len.saturating_mul(INPUT_FACTOR)));
        let mut b = GrowBuf { prefault: None, vec: Vec::new(), offset, cap: 0, limit };
        b.resize(first)?;
        Ok(b)
    }

    /// Reallocate to a window of `cap` bytes and pre-fault the part not yet written (the new
    /// part is at most the size of what was already produced, or the first window).
    fn resize(&mut self, cap: usize) -> Result<(), Full> {
        drop(self.prefault.take());
        let total = self.offset.checked_add(cap).ok_or(Full::NoMemory)?;
        self.vec.try_reserve_exact(total).map_err(|_| Full::NoMemory)?;
        let old = self.cap;
        self.cap = cap;
        let fresh = &mut self.window()[old..];
        self.prefault = Prefault::start(fresh);
        Ok(())
    }

    /// The first `len` bytes of output (everything before `offset` zeroed), as a Vec of
    /// `offset + len` bytes.
    pub fn finish(mut self, len: usize) -> Vec<u8> {
        assert!(len <= self.cap);
        drop(self.prefault.take());
        let mut v = std::mem::take(&mut self.vec);
        // SAFETY: capacity ≥ offset + cap ≥ offset + len; the decoder wrote bytes
        // [offset, offset + len) and the prefix is written just below, before any read.
        unsafe {
            std::ptr::write_bytes(v.as_mut_ptr(), 0, self.offset);
            v.set_len(self.offset + len);
        }
        v
    }
}

impl Sink for GrowBuf {
    fn window(&mut self) -> &mut [u8] {
        // SAFETY: the Vec's capacity is at least offset + cap. The bytes may be uninitialised;
        // the decoder only reads bytes it wrote before (distances are checked against the
        // output position), and `finish` exposes only written bytes.
        unsafe { std::slice::from_raw_parts_mut(self.vec.as_mut_ptr().add(self.offset), self.cap) }
    }

    fn grow(&mut self, need: usize) -> Result<(), Full> {
        if need > self.limit {
            return Err(Full::Limit);
        }
        self.resize(need.max(self.cap.saturating_mul(2)).min(self.limit))
    }

    fn limit(&self) -> usize {
        self.limit
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_by_doubling_up_to_the_limit() {
        let mut b = GrowBuf::new(1_000_000, 3, 10).unwrap();
        assert_eq!(b.window().len(), MIN_WINDOW);
        b.window()[..5].copy_from_slice(b"hello");
        b.grow(MIN_WINDOW + 1).unwrap();
        assert_eq!(b.window().len(), 2 * MIN_WINDOW);
        assert_eq!(&b.window()[..5], b"hello");
        b.grow(900_000).unwrap();
        assert_eq!(b.window().len(), 900_000);
        b.grow(999_999).unwrap();
        assert_eq!(b.window().len(), 1_000_000);
        assert_eq!(b.grow(1_000_001), Err(Full::Limit));
        let v = b.finish(5);
        assert_eq!(&v[..], b"\0\0\0hello");
    }

    #[test]
    fn first_window_follows_the_input() {
        assert_eq!(GrowBuf::new(10, 0, 1 << 20).unwrap().window().len(), 10);
        assert_eq!(GrowBuf::new(1 << 30, 0, 1 << 20).unwrap().window().len(), 4 << 20);
        assert_eq!(GrowBuf::new(1 << 30, 0, 0).unwrap().window().len(), MIN_WINDOW);
    }

    #[test]
    fn refused_allocation_is_an_error() {
        let mut b = GrowBuf::new(usize::MAX / 2, 0, 0).unwrap();
        assert_eq!(b.grow(usize::MAX / 2), Err(Full::NoMemory));
    }
}
