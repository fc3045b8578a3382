//! zlib (RFC 1950) streams: parallel, adaptive deflate, and Adler-32. (Inflate is in `inflate`.)
//!
//! Deflate splits the input into `CHUNK`-sized pieces and compresses them on the rayon pool
//! as raw deflate, each ending byte-aligned (sync flush: an empty stored block), and
//! concatenates them between one zlib header and one Adler-32 trailer (combined from the
//! per-chunk checksums). The result is one ordinary zlib stream that any inflater, including
//! Python's `zlib.decompress`, reads. Chunks do not share a window, which costs well under
//! 0.1% of ratio at 1 MiB chunks.
//!
//! In the adaptive mode each chunk is first probed (a fast level-1 compression of a small
//! sample). Chunks that would not shrink enough are written as stored blocks, which costs a
//! copy instead of a slow and useless compression of incompressible data (random float64
//! compresses by only ~5%). The encoder of the blob format keeps the uncompressed blob when the
//! stream is not smaller, and the adaptive mode can say so up front (`limit`) without
//! producing anything.

use miniz_oxide::deflate::core::{
    compress_to_output, create_comp_flags_from_zip_params, CompressorOxide, TDEFLFlush,
    TDEFLStatus,
};
#[cfg(test)]
use miniz_oxide::inflate::{
    core::{decompress, inflate_flags, DecompressorOxide},
    TINFLStatus,
};
use rayon::prelude::*;

/// Size of the independently compressed pieces.
pub const CHUNK: usize = 1 << 20;
/// Bytes sampled from a chunk to decide whether it is worth compressing.
const PROBE_LEN: usize = 16 << 10;
/// Chunks shorter than this are compressed without probing.
const PROBE_MIN: usize = 64 << 10;
/// A chunk whose sample compresses to more than this fraction is stored.
const STORE_ABOVE: f64 = 0.90;
/// A chunk whose sample compresses below this fraction is nearly constant: the fast level-1
/// path already shrinks it to a few per mille, so the requested level would only cost time.
const FAST_BELOW: f64 = 0.03;

// ---------------------------------------------------------------------------------------
// Adler-32

const ADLER_MOD: u32 = 65521;
/// Largest n such that 255 n (n+1) / 2 + (n+1) (MOD-1) fits in u32 (from zlib).
const ADLER_NMAX: usize = 5552;

/// Adler-32 of `data`, continuing from `adler` (start with 1).
pub fn adler32(adler: u32, data: &[u8]) -> u32 {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU supports AVX2 (checked just above).
            return unsafe { adler32_avx2(adler, data) };
        }
    }
    adler32_lanes(adler, data)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn adler32_avx2(adler: u32, data: &[u8]) -> u32 {
    adler32_lanes(adler, data)
}

/// Lane-parallel Adler-32 that compilers vectorize: 32 lanes each keep a byte sum `va[j]`
/// and `vp[j]`, the sum of `va[j]` before each 32-byte group. For a block of K groups,
/// b += 32·K·a + Σ_j (32·vp[j] + (32 − j)·va[j]) and a += Σ_j va[j].
#[inline(always)]
fn adler32_lanes(adler: u32, data: &[u8]) -> u32 {
    const LANES: usize = 32;
    // Keeps every lane sum within u32: 255·K²/2 < 2^32 for K = 5536/32 = 173 groups.
    const BLOCK: usize = 173 * LANES;
    let mut a = (adler & 0xffff) as u64;
    let mut b = (adler >> 16) as u64;
    let mut blocks = data.chunks_exact(BLOCK);
    let mut tail_start = 0;
    for block in &mut blocks {
        let mut va = [0u32; LANES];
        let mut vp = [0u32; LANES];
        for g in block.chunks_exact(LANES) {
            for j in 0..LANES {
                vp[j] += va[j];
                va[j] += g[j] as u32;
            }
        }
        let k = (BLOCK / LANES) as u64;
        let mut sa = 0u64;
        let mut sb = 0u64;
        for j in 0..LANES {
            sa += va[j] as u64;
            sb += LANES as u64 * vp[j] as u64 + (LANES - j) as u64 * va[j] as u64;
        }
        b = (b + LANES as u64 * k * a + sb) % ADLER_MOD as u64;
        a = (a + sa) % ADLER_MOD as u64;
        tail_start += BLOCK;
    }
    let mut a = a as u32;
    let mut b = b as u32;
    for chunk in data[tail_start..].chunks(ADLER_NMAX) {
        for &x in chunk {
            a += x as u32;
            b += a;
        }
        a %= ADLER_MOD;
        b %= ADLER_MOD;
    }
    (b << 16) | a
}

/// Adler-32 (from 1) of a large buffer, computed in pieces on the rayon pool and combined.
pub fn adler32_parallel(data: &[u8]) -> u32 {
    const PIECE: usize = 4 << 20;
    if data.len() < 2 * PIECE {
        return adler32(1, data);
    }
    let pieces: Vec<(u32, usize)> = data.par_chunks(PIECE).map(|c| (adler32(1, c), c.len())).collect();
    pieces.iter().skip(1).fold(pieces[0].0, |acc, &(a, len)| adler32_combine(acc, a, len))
}

/// Adler-32 of the concatenation A‖B from adler(A), adler(B) and len(B) (zlib's formula).
pub fn adler32_combine(adler1: u32, adler2: u32, len2: usize) -> u32 {
    let rem = (len2 % ADLER_MOD as usize) as u64;
    let m = ADLER_MOD as u64;
    let a1 = (adler1 & 0xffff) as u64;
    let b1 = (adler1 >> 16) as u64;
    let a2 = (adler2 & 0xffff) as u64;
    let b2 = (adler2 >> 16) as u64;
    // a = a1 + a2 - 1 ; b = b1 + b2 + rem*(a1 - 1)   (all mod m)
    let a = (a1 + a2 + m - 1) % m;
    let b = (b1 + b2 + rem * a1 + m * m - rem) % m;
    ((b << 16) | a) as u32
}

// ---------------------------------------------------------------------------------------
// Deflate

/// How a chunk gets encoded.
#[derive(Clone, Copy, PartialEq, Debug)]
enum Plan {
    Store,
    Level(u8),
}

/// Zlib header bytes for a level (the FLEVEL bits are informative only).
fn zlib_header(level: u8) -> [u8; 2] {
    match level {
        0 | 1 => [0x78, 0x01],
        2..=5 => [0x78, 0x5e],
        6 => [0x78, 0x9c],
        _ => [0x78, 0xda],
    }
}

fn raw_flags(level: u8) -> u32 {
    create_comp_flags_from_zip_params(level as i32, -15, 0)
}

/// Raw-deflate `input` onto `out`, ending with a sync flush (byte-aligned) or, for the last
/// chunk, with the final block.
fn deflate_raw(level: u8, input: &[u8], last: bool, out: &mut Vec<u8>) {
    let mut c = CompressorOxide::new(raw_flags(level));
    let flush = if last { TDEFLFlush::Finish } else { TDEFLFlush::Sync };
    let (status, consumed) = compress_to_output(&mut c, input, flush, |piece| {
        out.extend_from_slice(piece);
        true
    });
    let ok = if last {
        status == TDEFLStatus::Done
    } else {
        status == TDEFLStatus::Okay || status == TDEFLStatus::Done
    };
    assert!(ok && consumed == input.len(), "deflate failed: {status:?}");
}

/// Write `input` as stored blocks (the stream is byte-aligned here) into `dst`, which is
/// exactly `stored_len(input.len())` bytes long.
fn store_raw_into(input: &[u8], last: bool, dst: &mut [u8]) {
    debug_assert_eq!(dst.len(), stored_len(input.len()));
    if input.is_empty() {
        dst.copy_from_slice(&[u8::from(last), 0, 0, 0xff, 0xff]);
        return;
    }
    let n = input.len().div_ceil(0xffff);
    let mut at = 0;
    for (i, piece) in input.chunks(0xffff).enumerate() {
        let len = piece.len() as u16;
        dst[at] = u8::from(last && i + 1 == n);
        dst[at + 1..at + 3].copy_from_slice(&len.to_le_bytes());
        dst[at + 3..at + 5].copy_from_slice(&(!len).to_le_bytes());
        dst[at + 5..at + 5 + piece.len()].copy_from_slice(piece);
        at += 5 + piece.len();
    }
}

fn stored_len(len: usize) -> usize {
    len + 5 * len.div_ceil(0xffff).max(1)
}

/// Fraction to which a fast compression shrinks a sample from the middle of `chunk`.
fn probe(chunk: &[u8]) -> f64 {
    let start = (chunk.len() - PROBE_LEN) / 2;
    let sample = &chunk[start..start + PROBE_LEN];
    let mut c = CompressorOxide::new(raw_flags(1));
    let mut n = 0usize;
    compress_to_output(&mut c, sample, TDEFLFlush::Finish, |piece| {
        n += piece.len();
        true
    });
    n as f64 / PROBE_LEN as f64
}

fn plan_chunk(chunk: &[u8], level: u8, adaptive: bool) -> Plan {
    if level == 0 {
        return Plan::Store;
    }
    if !adaptive || chunk.len() < PROBE_MIN {
        return Plan::Level(level);
    }
    let r = probe(chunk);
    if r > STORE_ABOVE {
        Plan::Store
    } else if r < FAST_BELOW {
        Plan::Level(1)
    } else {
        Plan::Level(level)
    }
}

/// Options of [`deflate`].
#[derive(Clone, Copy, Debug)]
pub struct DeflateOptions {
    /// 0 (store) ..= 9. Level 1 is miniz's fast greedy compressor.
    pub level: u8,
    /// Probe chunks and store those that do not compress (see module docs).
    pub adaptive: bool,
    /// Give up (return `None`) unless the stream is shorter than this many bytes.
    pub limit: Option<usize>,
}

/// Compress `data` into one zlib stream.
#[cfg(test)]
pub fn deflate(data: &[u8], opts: DeflateOptions) -> Option<Vec<u8>> {
    deflate_parts(&[data], opts)
}

/// Compress the concatenation of `parts` into one zlib stream, without concatenating them
/// (chunks never span two parts; the stream is the same kind either way).
#[cfg(test)]
pub fn deflate_parts(parts: &[&[u8]], opts: DeflateOptions) -> Option<Vec<u8>> {
    let enc = encode_parts(parts, opts)?;
    let mut out = vec![0u8; enc.len()];
    enc.write_into(&mut out);
    Some(out)
}

/// A zlib stream compressed chunk by chunk but not yet assembled: its length is known, so the
/// caller can provide the output buffer (e.g. one owned by JS) and have it written in place.
pub struct Encoded<'a> {
    level: u8,
    chunks: Vec<&'a [u8]>,
    /// Per chunk: its compressed bytes (`None`: stored, copied from the input when writing)
    /// and its Adler-32.
    encoded: Vec<(Option<Vec<u8>>, u32)>,
    total: usize,
}

/// Plan and compress the chunks of the concatenation of `parts`; `None` when `opts.limit`
/// says the stream would not be short enough.
pub fn encode_parts<'a>(parts: &[&'a [u8]], opts: DeflateOptions) -> Option<Encoded<'a>> {
    let level = opts.level.min(9);
    let total_len: usize = parts.iter().map(|p| p.len()).sum();
    let mut chunks: Vec<&[u8]> = parts.iter().filter(|p| !p.is_empty()).flat_map(|p| p.chunks(CHUNK)).collect();
    if chunks.is_empty() {
        chunks.push(&[]);
    }
    let n = chunks.len();
    let parallel = n > 1;

    let plans: Vec<Plan> = if parallel {
        chunks.par_iter().map(|c| plan_chunk(c, level, opts.adaptive)).collect()
    } else {
        chunks.iter().map(|c| plan_chunk(c, level, opts.adaptive)).collect()
    };
    if let Some(limit) = opts.limit {
        // Everything stored: the stream cannot be shorter than the input.
        if plans.iter().all(|p| *p == Plan::Store) && 6 + stored_len(total_len) >= limit {
            return None;
        }
    }

    // Compress (not store) the chunks that pay, in parallel; each yields its bytes and its
    // Adler-32. Stored chunks are copied straight from the input during assembly.
    let encode = |i: usize| -> (Option<Vec<u8>>, u32) {
        let chunk = chunks[i];
        let last = i + 1 == n;
        match plans[i] {
            Plan::Store => (None, adler32(1, chunk)),
            Plan::Level(l) => {
                let mut out = Vec::with_capacity(chunk.len() / 4 + 64);
                deflate_raw(l, chunk, last, &mut out);
                (Some(out), adler32(1, chunk))
            }
        }
    };
    let encoded: Vec<(Option<Vec<u8>>, u32)> = if parallel {
        (0..n).into_par_iter().with_max_len(1).map(encode).collect()
    } else {
        (0..n).map(encode).collect()
    };

    let total: usize = 6 + encoded
        .iter()
        .zip(&chunks)
        .map(|((bytes, _), c)| bytes.as_ref().map_or_else(|| stored_len(c.len()), |b| b.len()))
        .sum::<usize>();
    if let Some(limit) = opts.limit {
        if total >= limit {
            return None;
        }
    }
    Some(Encoded { level, chunks, encoded, total })
}

impl Encoded<'_> {
    /// Length of the zlib stream.
    pub fn len(&self) -> usize {
        self.total
    }

    /// Write the stream into `out` (exactly `len()` bytes; its contents may be uninitialised).
    /// Every chunk writes its own slice in parallel, which also spreads the page faults of a
    /// large fresh buffer.
    pub fn write_into(&self, out: &mut [u8]) {
        let (total, n, chunks, encoded) = (self.total, self.chunks.len(), &self.chunks, &self.encoded);
        assert_eq!(out.len(), total);
        out[..2].copy_from_slice(&zlib_header(self.level));
        {
            let mut slices: Vec<&mut [u8]> = Vec::with_capacity(n);
            let mut rest = &mut out[2..total - 4];
            for ((bytes, _), chunk) in encoded.iter().zip(chunks) {
                let len = bytes.as_ref().map_or_else(|| stored_len(chunk.len()), |b| b.len());
                let (head, tail) = rest.split_at_mut(len);
                slices.push(head);
                rest = tail;
            }
            let write = |(i, dst): (usize, &mut &mut [u8])| match &encoded[i].0 {
                Some(b) => dst.copy_from_slice(b),
                None => store_raw_into(chunks[i], i + 1 == n, dst),
            };
            if n > 1 {
                slices.par_iter_mut().enumerate().with_max_len(1).for_each(write);
            } else {
                slices.iter_mut().enumerate().for_each(write);
            }
        }
        let mut adler = encoded[0].1;
        for ((_, a), chunk) in encoded.iter().zip(chunks).skip(1) {
            adler = adler32_combine(adler, *a, chunk.len());
        }
        out[total - 4..].copy_from_slice(&adler.to_be_bytes());
    }
}

// ---------------------------------------------------------------------------------------
// Reference inflate (miniz), used by the tests to cross-check the streams and our inflater.

#[cfg(test)]
#[derive(Debug, PartialEq)]
pub enum InflateError {
    /// The stream is not valid zlib (bad header, bad block, checksum mismatch, truncated).
    Corrupt(&'static str),
    /// The stream is valid but inflates to a different number of bytes than expected.
    SizeMismatch,
}

/// Inflate a zlib stream whose decompressed size must be exactly `out.len()`.
#[cfg(test)]
pub fn inflate_into(input: &[u8], out: &mut [u8]) -> Result<(), InflateError> {
    let mut d = DecompressorOxide::new();
    let flags = inflate_flags::TINFL_FLAG_PARSE_ZLIB_HEADER
        | inflate_flags::TINFL_FLAG_USING_NON_WRAPPING_OUTPUT_BUF
        | inflate_flags::TINFL_FLAG_COMPUTE_ADLER32;
    let (status, _consumed, written) = decompress(&mut d, input, out, 0, flags);
    match status {
        TINFLStatus::Done if written == out.len() => Ok(()),
        TINFLStatus::Done => Err(InflateError::SizeMismatch),
        TINFLStatus::HasMoreOutput => Err(InflateError::SizeMismatch),
        TINFLStatus::NeedsMoreInput | TINFLStatus::FailedCannotMakeProgress => {
            Err(InflateError::Corrupt("truncated zlib stream"))
        }
        TINFLStatus::Adler32Mismatch => Err(InflateError::Corrupt("zlib checksum mismatch")),
        _ => Err(InflateError::Corrupt("invalid zlib stream")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rng_bytes(n: usize, seed: u64) -> Vec<u8> {
        let mut s = seed | 1;
        (0..n)
            .map(|_| {
                s ^= s << 13;
                s ^= s >> 7;
                s ^= s << 17;
                (s >> 24) as u8
            })
            .collect()
    }

    fn roundtrip(data: &[u8], opts: DeflateOptions) -> Vec<u8> {
        let z = deflate(data, opts).expect("no limit");
        let mut back = vec![0u8; data.len()];
        inflate_into(&z, &mut back).unwrap();
        assert_eq!(back, data);
        // miniz's own one-shot inflater (with checksum check) agrees.
        assert_eq!(miniz_oxide::inflate::decompress_to_vec_zlib(&z).unwrap(), data);
        z
    }

    #[test]
    fn adler_matches_reference_and_combines() {
        let d = rng_bytes(100_000, 7);
        let naive = {
            let (mut a, mut b) = (1u32, 0u32);
            for &x in &d {
                a = (a + x as u32) % ADLER_MOD;
                b = (b + a) % ADLER_MOD;
            }
            (b << 16) | a
        };
        assert_eq!(adler32(1, &d), naive);
        assert_eq!(adler32(1, &[]), 1);
        for split in [0, 1, 17, 5552, 65521, 65522, 99_999, 100_000] {
            let (x, y) = d.split_at(split);
            assert_eq!(adler32_combine(adler32(1, x), adler32(1, y), y.len()), naive, "{split}");
        }
        let big: Vec<u8> = (0..9 * (4 << 20) + 77).map(|i: usize| (i * 7 + i / 13) as u8).collect();
        assert_eq!(adler32_parallel(&big), adler32(1, &big));
        let ff = vec![0xffu8; 200_000];
        assert_eq!(adler32(adler32(1, &ff[..77]), &ff[77..]), adler32(1, &ff));
    }

    #[test]
    fn streams_roundtrip() {
        let all = |level, adaptive| DeflateOptions { level, adaptive, limit: None };
        for len in [0usize, 1, 1000, 65535, 65536, CHUNK - 1, CHUNK, 3 * CHUNK + 12345] {
            let mut d = rng_bytes(len, len as u64 + 1);
            // Make half of it compressible.
            for x in d.iter_mut().take(len / 2) {
                *x = 0;
            }
            for level in [0u8, 1, 2, 6, 9] {
                roundtrip(&d, all(level, false));
                roundtrip(&d, all(level, true));
            }
        }
    }

    #[test]
    fn parts_equal_concatenation() {
        let a = rng_bytes(CHUNK + 100, 1);
        let b = vec![0u8; 2 * CHUNK + 5];
        let c = b"tail".to_vec();
        let all = [a.clone(), b.clone(), c.clone()].concat();
        for adaptive in [false, true] {
            let opts = DeflateOptions { level: 2, adaptive, limit: None };
            let z = deflate_parts(&[&a, &[], &b, &c], opts).unwrap();
            assert_eq!(miniz_oxide::inflate::decompress_to_vec_zlib(&z).unwrap(), all);
        }
        let z = deflate_parts(&[&[], &[]], DeflateOptions { level: 6, adaptive: true, limit: None }).unwrap();
        assert!(miniz_oxide::inflate::decompress_to_vec_zlib(&z).unwrap().is_empty());
    }

    #[test]
    fn adaptive_stores_random_and_limit_gives_up() {
        let d = rng_bytes(4 * CHUNK, 3);
        let z = roundtrip(&d, DeflateOptions { level: 6, adaptive: true, limit: None });
        assert_eq!(z.len(), 6 + stored_len(CHUNK) * 4);
        assert!(deflate(&d, DeflateOptions { level: 6, adaptive: true, limit: Some(d.len()) })
            .is_none());
        let zeros = vec![0u8; 4 * CHUNK];
        let z = roundtrip(&zeros, DeflateOptions { level: 6, adaptive: true, limit: None });
        assert!(z.len() < zeros.len() / 100);
    }

    #[test]
    fn inflate_errors() {
        let d = rng_bytes(10_000, 9);
        let z = deflate(&d, DeflateOptions { level: 6, adaptive: false, limit: None }).unwrap();
        let mut out = vec![0u8; d.len()];
        let mut bad = z.clone();
        let k = bad.len() - 1;
        bad[k] ^= 1;
        assert!(matches!(inflate_into(&bad, &mut out), Err(InflateError::Corrupt(_))));
        assert!(matches!(inflate_into(&z[..z.len() / 2], &mut out), Err(InflateError::Corrupt(_))));
        assert!(matches!(inflate_into(b"not zlib", &mut out), Err(InflateError::Corrupt(_))));
        let mut small = vec![0u8; d.len() - 1];
        assert_eq!(inflate_into(&z, &mut small), Err(InflateError::SizeMismatch));
        let mut big = vec![0u8; d.len() + 1];
        assert_eq!(inflate_into(&z, &mut big), Err(InflateError::SizeMismatch));
    }
}
