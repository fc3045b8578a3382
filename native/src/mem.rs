//! Page-fault overlap for large output buffers.
//!
//! Touching freshly allocated memory costs a page fault per 4 KiB page; in virtual machines
//! that is ~1.5-2 µs each, ~45 ms for 100 MB, a sizeable share of inflating that much. On
//! Linux ≥ 5.14, `madvise(MADV_POPULATE_WRITE)` faults a range in without changing its
//! contents, so a helper thread can populate the output ahead of the thread that writes it.
//! (Transparent huge pages were measured too: with THP defrag set to `madvise`, fresh
//! mappings stalled for hundreds of milliseconds in compaction; they are not used.)
//! Elsewhere this does nothing.
//!
//! The helper populates only as far as its owner allows and raises the limit as it goes (the
//! inflater: twice the output produced so far), and it can be stopped at any time (it checks
//! between steps), so a writer that fails early on corrupt input does not wait for, or pay
//! memory for, pages it will never write.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;

/// Regions smaller than this are not worth a helper thread.
pub const PREFAULT_MIN: usize = 8 << 20;
/// Bytes populated per `madvise` call; also how long a stop request may wait (~1 ms).
const STEP: usize = 2 << 20;

#[cfg(target_os = "linux")]
mod sys {
    use std::os::raw::{c_int, c_long, c_void};
    extern "C" {
        pub fn madvise(addr: *mut c_void, len: usize, advice: c_int) -> c_int;
        pub fn sysconf(name: c_int) -> c_long;
    }
    pub const MADV_POPULATE_WRITE: c_int = 23;
    pub const SC_PAGESIZE: c_int = 30;
}

/// A helper thread populating a memory region from its start, up to a limit that the owner
/// raises as it goes (`allow`). Dropping it ends the work and joins the thread: the region
/// must stay allocated until then, which owners guarantee by dropping the `Prefault` before
/// they free the memory.
pub struct Prefault {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
    base: usize,
}

struct Shared {
    /// Address up to which the helper may populate.
    end: AtomicUsize,
    stop: AtomicBool,
}

impl Prefault {
    /// Start populating `region`, its first `allowed` bytes for now. `None` when the region
    /// is small or the platform has no suitable call.
    #[allow(unused_variables)]
    pub fn start(region: &mut [u8], allowed: usize) -> Option<Prefault> {
        #[cfg(target_os = "linux")]
        if region.len() >= PREFAULT_MIN {
            // SAFETY: sysconf has no preconditions.
            let page = unsafe { sys::sysconf(sys::SC_PAGESIZE) }.max(4096) as usize;
            let base = region.as_ptr() as usize;
            let start = base.next_multiple_of(page);
            let region_end = (base + region.len()) & !(page - 1);
            let shared = Arc::new(Shared { end: AtomicUsize::new(base + allowed.min(region.len())), stop: AtomicBool::new(false) });
            let sh = Arc::clone(&shared);
            // The helper only passes addresses to the kernel; it never reads or writes the
            // memory from Rust, so the owner keeps exclusive access to the region.
            let thread = std::thread::Builder::new()
                .name("dj-prefault".into())
                .spawn(move || {
                    let mut at = start;
                    while at < region_end && !sh.stop.load(Ordering::Acquire) {
                        let end = (sh.end.load(Ordering::Acquire) & !(page - 1)).min(region_end);
                        if at >= end {
                            // Caught up with what the owner allows: wait for `allow` or drop.
                            std::thread::park();
                            continue;
                        }
                        let len = STEP.min(end - at);
                        // SAFETY: [at, at+len) lies inside the region, which stays allocated
                        // until this thread is joined; POPULATE_WRITE does not change contents.
                        // An error (old kernel: EINVAL) just ends the prefetching.
                        if unsafe { sys::madvise(at as *mut _, len, sys::MADV_POPULATE_WRITE) } != 0 {
                            break;
                        }
                        at += len;
                    }
                })
                .ok()?;
            return Some(Prefault { shared, thread: Some(thread), base });
        }
        None
    }

    /// Let the helper populate the region's first `allowed` bytes.
    pub fn allow(&self, allowed: usize) {
        self.shared.end.store(self.base + allowed, Ordering::Release);
        if let Some(t) = &self.thread {
            t.thread().unpark();
        }
    }
}

impl Drop for Prefault {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::Release);
        if let Some(t) = self.thread.take() {
            t.thread().unpark();
            let _ = t.join();
        }
    }
}

/// Run `write(out)` while a helper thread pre-faults `out` from its start onwards.
#[cfg(test)]
pub fn with_prefault<R>(out: &mut [u8], write: impl FnOnce(&mut [u8]) -> R) -> R {
    let helper = Prefault::start(out, usize::MAX);
    let r = write(out);
    drop(helper);
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writer_sees_its_own_writes() {
        for len in [10usize, PREFAULT_MIN + 12345] {
            let mut v = vec![0u8; len];
            let sum = with_prefault(&mut v, |o| {
                for (i, x) in o.iter_mut().enumerate() {
                    *x = i as u8;
                }
                o.iter().map(|&x| x as u64).sum::<u64>()
            });
            assert_eq!(sum, (0..len).map(|i| (i as u8) as u64).sum::<u64>());
        }
    }

    #[test]
    fn stop_returns_quickly() {
        let mut v: Vec<u8> = Vec::with_capacity(256 << 20);
        // SAFETY: only the prefault helper touches the spare capacity (it never reads it).
        let region = unsafe { std::slice::from_raw_parts_mut(v.as_mut_ptr(), v.capacity()) };
        let t = std::time::Instant::now();
        let p = Prefault::start(region, usize::MAX);
        drop(p);
        assert!(t.elapsed().as_millis() < 100, "stop took {:?}", t.elapsed());
        v.clear();
    }
}

#[cfg(test)]
mod timing {
    use super::*;
    use std::time::Instant;

    #[test]
    #[ignore]
    fn timing_fresh_fill() {
        let n = 100 << 20;
        for _ in 0..3 {
            let mut a = vec![0u8; n];
            let t = Instant::now();
            a.fill(1);
            let plain = t.elapsed().as_secs_f64() * 1e3;
            let mut b = vec![0u8; n];
            let t = Instant::now();
            with_prefault(&mut b, |o| o.fill(1));
            let pf = t.elapsed().as_secs_f64() * 1e3;
            std::hint::black_box((&a[..1], &b[..1]));
            println!("fresh 100MB fill: plain {plain:.1} ms, with prefault thread {pf:.1} ms");
        }
    }
}
