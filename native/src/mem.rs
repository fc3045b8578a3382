//! Page-fault overlap for large output buffers.
//!
//! Touching freshly allocated memory costs a page fault per 4 KiB page; in virtual machines
//! that is ~1.5-2 µs each, ~45 ms for 100 MB, a sizeable share of inflating that much. On
//! Linux ≥ 5.14, `madvise(MADV_POPULATE_WRITE)` faults a range in without changing its
//! contents, so a helper thread can populate the output ahead of the thread that writes it.
//! (Transparent huge pages were measured too: with THP defrag set to `madvise`, fresh
//! mappings stalled for hundreds of milliseconds in compaction; they are not used.)
//! Elsewhere this runs the writer alone.

/// Outputs smaller than this are not worth a helper thread.
pub const PREFAULT_MIN: usize = 8 << 20;

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

/// Run `write(out)` while another thread pre-faults `out` from its start onwards.
pub fn with_prefault<R>(out: &mut [u8], write: impl FnOnce(&mut [u8]) -> R) -> R {
    #[cfg(target_os = "linux")]
    if out.len() >= PREFAULT_MIN {
        // SAFETY: sysconf has no preconditions.
        let page = unsafe { sys::sysconf(sys::SC_PAGESIZE) }.max(4096) as usize;
        let start = (out.as_ptr() as usize).next_multiple_of(page);
        let end = (out.as_ptr() as usize + out.len()) & !(page - 1);
        // The helper only passes addresses to the kernel; it never reads or writes the
        // memory from Rust, so `write` keeps exclusive access to `out`.
        return std::thread::scope(|s| {
            s.spawn(move || {
                const STEP: usize = 4 << 20;
                let mut at = start;
                while at < end {
                    let len = STEP.min(end - at);
                    // SAFETY: [at, at+len) lies inside `out`; POPULATE_WRITE does not change
                    // contents. An error (old kernel: EINVAL) just ends the prefetching.
                    if unsafe { sys::madvise(at as *mut _, len, sys::MADV_POPULATE_WRITE) } != 0 {
                        break;
                    }
                    at += len;
                }
            });
            write(out)
        });
    }
    write(out)
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
