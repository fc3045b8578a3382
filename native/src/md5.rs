//! MD5: one-shot, streaming and many-buffers-in-parallel.
//!
//! The compression function comes from the `md-5` crate; on x86/x86_64 its `asm` feature is
//! enabled (see Cargo.toml), which is what makes it as fast as OpenSSL's (node:crypto's) MD5.

use md5::{Digest, Md5};
use rayon::prelude::*;

/// MD5 of one buffer.
pub fn digest(data: &[u8]) -> [u8; 16] {
    Md5::digest(data).into()
}

/// MD5 of every buffer, computed in parallel on the rayon pool. The result holds the digests
/// back to back, in input order (16 bytes each).
pub fn digest_many(buffers: &[&[u8]]) -> Vec<u8> {
    let digests: Vec<[u8; 16]> = if buffers.len() <= 1 {
        buffers.iter().map(|b| digest(b)).collect()
    } else {
        // One task per buffer: digests are independent and a buffer is the natural unit.
        buffers.par_iter().with_max_len(1).map(|b| digest(b)).collect()
    };
    digests.concat()
}

/// Incremental MD5 (`update` any number of times, then `finish` once).
pub struct Streaming {
    hasher: Option<Md5>,
}

impl Streaming {
    pub fn new() -> Self {
        Streaming { hasher: Some(Md5::new()) }
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
        self.hasher.take().map(|h| h.finalize().into())
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
        let bufs: Vec<Vec<u8>> = (0..9).map(|i| vec![i as u8; i * 1000]).collect();
        let refs: Vec<&[u8]> = bufs.iter().map(|b| b.as_slice()).collect();
        let many = digest_many(&refs);
        for (i, b) in refs.iter().enumerate() {
            assert_eq!(&many[i * 16..i * 16 + 16], &digest(b));
        }
    }
}
