//! MD5: one-shot, streaming and many-buffers-in-parallel, over the compression function in
//! `md5core` (as fast as OpenSSL's assembly; the `md-5` crate, with or without its assembly,
//! was ~20% slower).

use crate::md5core::{self, Md5};
use rayon::prelude::*;

/// MD5 of one buffer.
pub fn digest(data: &[u8]) -> [u8; 16] {
    md5core::digest(data)
}

/// Below this many bytes in total, `digest_many` hashes on the calling thread: handing work to
/// the pool costs more than it saves.
const PARALLEL_MIN_BYTES: usize = 256 << 10;
/// Bytes of work per pool task (many small buffers are hashed a batch per task).
const TASK_BYTES: usize = 256 << 10;

/// MD5 of every buffer, in parallel on the rayon pool when there is enough work. The result
/// holds the digests back to back, in input order (16 bytes each).
pub fn digest_many(buffers: &[&[u8]]) -> Vec<u8> {
    let total: usize = buffers.iter().map(|b| b.len()).sum();
    let digests: Vec<[u8; 16]> = if buffers.len() <= 1 || total < PARALLEL_MIN_BYTES {
        buffers.iter().map(|b| digest(b)).collect()
    } else {
        let per_task = (buffers.len() * TASK_BYTES / total).max(1);
        buffers.par_iter().with_min_len(per_task).map(|b| digest(b)).collect()
    };
    digests.concat()
}

/// Incremental MD5 (`update` any number of times, then `finish` once).
pub struct Streaming {
    hasher: Option<Md5>,
}

impl Streaming {
    pub fn new() -> Self {
        Streaming { hasher: Some(Md5::default()) }
    }

    /// Feed more data. Returns false when the digest was already taken.
    pub fn update(&mut self, data: &[u8]) -> bool {
        match self.hasher.as_mut() {
            Some(h) => {
                h.update(data);
                true
            }
            None => false,
        }
    }

    /// The digest; `None` when it was already taken.
    pub fn finish(&mut self) -> Option<[u8; 16]> {
        self.hasher.take().map(Md5::finish)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(d: &[u8]) -> String {
        d.iter().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn known_vectors() {
        assert_eq!(hex(&digest(b"")), "d41d8cd98f00b204e9800998ecf8427e");
        assert_eq!(hex(&digest(b"abc")), "900150983cd24fb0d6963f7d28e17f72");
        let mut s = Streaming::new();
        assert!(s.update(b"a"));
        assert!(s.update(b"bc"));
        assert_eq!(hex(&s.finish().unwrap()), "900150983cd24fb0d6963f7d28e17f72");
        assert!(s.finish().is_none());
        assert!(!s.update(b"x"));
    }

    #[test]
    fn many_matches_one_by_one() {
        // Few bytes (hashed on this thread), many small buffers and a few large ones (pool).
        for (count, step) in [(9usize, 1000usize), (3000, 97), (9, 100_000)] {
            let bufs: Vec<Vec<u8>> = (0..count).map(|i| vec![i as u8; (i * step) % 300_000]).collect();
            let refs: Vec<&[u8]> = bufs.iter().map(|b| b.as_slice()).collect();
            let many = digest_many(&refs);
            assert_eq!(many.len(), 16 * count);
            for (i, b) in refs.iter().enumerate() {
                assert_eq!(&many[i * 16..i * 16 + 16], &digest(b));
            }
        }
        assert!(digest_many(&[]).is_empty());
    }
}
