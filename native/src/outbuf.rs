//! Output of the inflater: a window onto the output buffer that grows as output is produced.
//!
//! A blob's compressed header declares the inflated size, but corrupt or hostile input can
//! declare anything (1 MB of junk claiming 1 GB). The output buffer is allocated at the
//! declared size but *uncommitted* (an uninitialised allocation that large is mapped lazily by
//! the OS: it costs address space, not memory), and only the window may be written or
//! pre-faulted. The window starts at what the compressed data can plausibly justify (a few
//! times its own length) and doubles only when the decoder has filled it, so the memory
//! actually touched is bounded by the output really produced (at most 2×, plus the first
//! window), and junk fails before it costs anything.
//!
//! (Growing a Rust-owned buffer and handing it to JS as an external buffer was tried and
//! rejected: Node 20 frees external buffers only when the event loop turns, so a synchronous
//! loop over many blobs would hold all of them.)
//!
//! A helper thread (`mem::Prefault`) pre-faults the window ahead of the decoder, which hides
//! page-fault cost for large outputs; it may go only as far as the window reaches, and is
//! stopped when decoding ends (or fails).

use crate::mem::Prefault;

/// Where inflated bytes go: a window that may grow up to `limit()` bytes.
pub trait Sink {
    /// The writable window (its length is the current capacity; bytes beyond those produced
    /// are scratch the decoder may overwrite).
    fn window(&mut self) -> &mut [u8];
    /// Make the window at least `need` bytes long (`need` > current length); false when
    /// `need` exceeds the limit.
    fn grow(&mut self, need: usize) -> bool;
    /// The most bytes the output may hold.
    fn limit(&self) -> usize;
}

/// A caller-provided buffer of exactly the expected size, all of it writable at once.
#[cfg(test)]
pub struct Fixed<'a>(pub &'a mut [u8]);

#[cfg(test)]
impl Sink for Fixed<'_> {
    fn window(&mut self) -> &mut [u8] {
        self.0
    }
    fn grow(&mut self, _need: usize) -> bool {
        false
    }
    fn limit(&self) -> usize {
        self.0.len()
    }
}

/// Smallest first window (small blobs are written without growing).
const MIN_WINDOW: usize = 64 << 10;
/// First window = this × compressed length: covers typical numeric data (ratio ≤ 4) at once,
/// so honest data of that kind is pre-faulted and written exactly as without a window.
const INPUT_FACTOR: usize = 4;

/// A growing window onto `out` (the whole declared output, possibly uncommitted memory).
pub struct Window<'a> {
    // Declared first so that the helper is stopped before anything else is dropped.
    prefault: Option<Prefault>,
    out: &'a mut [u8],
    cap: usize,
}

impl<'a> Window<'a> {
    /// A window onto `out` for a stream of `input_len` compressed bytes.
    pub fn new(out: &'a mut [u8], input_len: usize) -> Window<'a> {
        let cap = out.len().min(MIN_WINDOW.max(input_len.saturating_mul(INPUT_FACTOR)));
        // One helper for the whole output, allowed only as far as the window reaches.
        let prefault = Prefault::start(out, cap);
        Window { prefault, out, cap }
    }
}

impl Sink for Window<'_> {
    fn window(&mut self) -> &mut [u8] {
        &mut self.out[..self.cap]
    }

    fn grow(&mut self, need: usize) -> bool {
        if need > self.out.len() {
            return false;
        }
        self.cap = need.max(self.cap.saturating_mul(2)).min(self.out.len());
        if let Some(p) = &self.prefault {
            p.allow(self.cap);
        }
        true
    }

    fn limit(&self) -> usize {
        self.out.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_by_doubling_up_to_the_limit() {
        let mut buf = vec![0u8; 1_000_000];
        let mut w = Window::new(&mut buf, 10);
        assert_eq!(w.window().len(), MIN_WINDOW);
        w.window()[..5].copy_from_slice(b"hello");
        assert!(w.grow(MIN_WINDOW + 1));
        assert_eq!(w.window().len(), 2 * MIN_WINDOW);
        assert_eq!(&w.window()[..5], b"hello");
        assert!(w.grow(900_000));
        assert_eq!(w.window().len(), 900_000);
        assert!(w.grow(999_999));
        assert_eq!(w.window().len(), 1_000_000);
        assert!(!w.grow(1_000_001));
    }

    #[test]
    fn first_window_follows_the_input() {
        let mut small = vec![0u8; 10];
        assert_eq!(Window::new(&mut small, 1 << 20).window().len(), 10);
        let mut big = vec![0u8; 64 << 20];
        assert_eq!(Window::new(&mut big, 1 << 20).window().len(), 4 << 20);
        assert_eq!(Window::new(&mut big, 0).window().len(), MIN_WINDOW);
    }
}
