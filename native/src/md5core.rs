//! The MD5 compression function, scheduled for a short dependency chain.
//!
//! MD5 is one long chain of dependent steps; its speed is the latency of that chain. Each step
//! computes `a = b + rotl(a + f(b, c, d) + x[k] + t, s)` where `b` comes from the step just
//! before, `c` from two steps back and `d` from three. So everything except the part of `f`
//! that needs `b` can be computed early, off the chain:
//! * round 1: `f = ((c ^ d) & b) ^ d`: `c ^ d` early, then and + xor on the chain;
//! * round 2: `f = (b & d) | (c & !d)`: the two halves never overlap, so `|` is `+` and
//!   `c & !d` is added to `a` early; on the chain only `b & d` and one add;
//! * round 3: `f = b ^ c ^ d`: `c ^ d` early, one xor on the chain;
//! * round 4: `f = c ^ (b | !d)`: `!d` early, or + xor on the chain;
//! and `a + x[k] + t` is always summed before `f` arrives. This is the schedule of OpenSSL's
//! assembly; the `md-5` crate's (Nayuki's) assembly puts a three-operand `lea` on the chain
//! instead and measured ~20% slower than OpenSSL here (bench/md5.bench.ts).

const S: [[u32; 4]; 4] = [[7, 12, 17, 22], [5, 9, 14, 20], [4, 11, 16, 23], [6, 10, 15, 21]];

/// `T[i] = floor(abs(sin(i + 1)) * 2^32)`.
const T: [u32; 64] = [
    0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee, 0xf57c0faf, 0x4787c62a, 0xa8304613, 0xfd469501,
    0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be, 0x6b901122, 0xfd987193, 0xa679438e, 0x49b40821,
    0xf61e2562, 0xc040b340, 0x265e5a51, 0xe9b6c7aa, 0xd62f105d, 0x02441453, 0xd8a1e681, 0xe7d3fbc8,
    0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed, 0xa9e3e905, 0xfcefa3f8, 0x676f02d9, 0x8d2a4c8a,
    0xfffa3942, 0x8771f681, 0x6d9d6122, 0xfde5380c, 0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70,
    0x289b7ec6, 0xeaa127fa, 0xd4ef3085, 0x04881d05, 0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665,
    0xf4292244, 0x432aff97, 0xab9423a7, 0xfc93a039, 0x655b59c3, 0x8f0ccc92, 0xffeff47d, 0x85845dd1,
    0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1, 0xf7537e82, 0xbd3af235, 0x2ad7d2bb, 0xeb86d391,
];

/// `x`, opaque to the optimiser: an empty `asm!` that "may change" the register. It emits no
/// instruction, but stops LLVM from re-associating the early sums into the dependency chain
/// (it otherwise moves the `+ t` constant after `f`, adding a cycle to every step).
#[inline(always)]
fn opaque(mut x: u32) -> u32 {
    // SAFETY: the assembly is a comment; it reads and writes only the register holding `x`.
    #[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
    unsafe {
        core::arch::asm!("/* {0:e} */", inout(reg) x, options(pure, nomem, nostack, preserves_flags));
    }
    #[cfg(target_arch = "aarch64")]
    unsafe {
        core::arch::asm!("/* {0:w} */", inout(reg) x, options(pure, nomem, nostack, preserves_flags));
    }
    x
}

/// The initial state.
pub const INIT: [u32; 4] = [0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476];

/// Run the compression function over every 64-byte block of `blocks` (whose length must be a
/// multiple of 64).
pub fn compress(state: &mut [u32; 4], blocks: &[u8]) {
    debug_assert!(blocks.len() % 64 == 0);
    let [mut a, mut b, mut c, mut d] = *state;
    for block in blocks.chunks_exact(64) {
        let mut x = [0u32; 16];
        for (w, bytes) in x.iter_mut().zip(block.chunks_exact(4)) {
            *w = u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
        }
        let (a0, b0, c0, d0) = (a, b, c, d);

        macro_rules! step {
            ($round:tt, $a:ident, $b:ident, $c:ident, $d:ident, $i:expr, $k:expr) => {{
                let early = opaque($a.wrapping_add(x[$k]).wrapping_add(T[$i]));
                let s = S[$i / 16][$i % 4];
                $a = step!(@f $round, early, $b, $c, $d).rotate_left(s).wrapping_add($b);
            }};
            (@f 0, $e:ident, $b:ident, $c:ident, $d:ident) => { $e.wrapping_add((($c ^ $d) & $b) ^ $d) };
            (@f 1, $e:ident, $b:ident, $c:ident, $d:ident) => { opaque($e.wrapping_add($c & !$d)).wrapping_add($b & $d) };
            (@f 2, $e:ident, $b:ident, $c:ident, $d:ident) => { $e.wrapping_add(($c ^ $d) ^ $b) };
            (@f 3, $e:ident, $b:ident, $c:ident, $d:ident) => { $e.wrapping_add(($b | !$d) ^ $c) };
        }
        macro_rules! four {
            ($round:tt, $i:expr, $k0:expr, $k1:expr, $k2:expr, $k3:expr) => {
                step!($round, a, b, c, d, $i, $k0);
                step!($round, d, a, b, c, $i + 1, $k1);
                step!($round, c, d, a, b, $i + 2, $k2);
                step!($round, b, c, d, a, $i + 3, $k3);
            };
        }
        four!(0, 0, 0, 1, 2, 3);
        four!(0, 4, 4, 5, 6, 7);
        four!(0, 8, 8, 9, 10, 11);
        four!(0, 12, 12, 13, 14, 15);
        four!(1, 16, 1, 6, 11, 0);
        four!(1, 20, 5, 10, 15, 4);
        four!(1, 24, 9, 14, 3, 8);
        four!(1, 28, 13, 2, 7, 12);
        four!(2, 32, 5, 8, 11, 14);
        four!(2, 36, 1, 4, 7, 10);
        four!(2, 40, 13, 0, 3, 6);
        four!(2, 44, 9, 12, 15, 2);
        four!(3, 48, 0, 7, 14, 5);
        four!(3, 52, 12, 3, 10, 1);
        four!(3, 56, 8, 15, 6, 13);
        four!(3, 60, 4, 11, 2, 9);

        a = a.wrapping_add(a0);
        b = b.wrapping_add(b0);
        c = c.wrapping_add(c0);
        d = d.wrapping_add(d0);
    }
    *state = [a, b, c, d];
}

/// Incremental MD5 over `compress`.
#[derive(Clone)]
pub struct Md5 {
    state: [u32; 4],
    /// Bytes fed so far.
    len: u64,
    buf: [u8; 64],
    buffered: usize,
}

impl Default for Md5 {
    fn default() -> Self {
        Md5 { state: INIT, len: 0, buf: [0; 64], buffered: 0 }
    }
}

impl Md5 {
    pub fn update(&mut self, mut data: &[u8]) {
        self.len = self.len.wrapping_add(data.len() as u64);
        if self.buffered > 0 {
            let take = (64 - self.buffered).min(data.len());
            self.buf[self.buffered..self.buffered + take].copy_from_slice(&data[..take]);
            self.buffered += take;
            data = &data[take..];
            if self.buffered < 64 {
                return;
            }
            compress(&mut self.state, &self.buf);
            self.buffered = 0;
        }
        let whole = data.len() & !63;
        compress(&mut self.state, &data[..whole]);
        let rest = &data[whole..];
        self.buf[..rest.len()].copy_from_slice(rest);
        self.buffered = rest.len();
    }

    pub fn finish(mut self) -> [u8; 16] {
        let bits = self.len.wrapping_mul(8);
        // Padding: 0x80, zeros up to 56 mod 64, then the bit length (little-endian).
        let mut pad = [0u8; 72];
        pad[0] = 0x80;
        let n = if self.buffered < 56 { 56 - self.buffered } else { 120 - self.buffered };
        self.update(&pad[..n]);
        self.update(&bits.to_le_bytes());
        debug_assert_eq!(self.buffered, 0);
        let mut out = [0u8; 16];
        for (o, w) in out.chunks_exact_mut(4).zip(self.state) {
            o.copy_from_slice(&w.to_le_bytes());
        }
        out
    }
}

/// MD5 of one buffer.
pub fn digest(data: &[u8]) -> [u8; 16] {
    let mut h = Md5::default();
    h.update(data);
    h.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use md5::Digest;

    fn hex(d: &[u8]) -> String {
        d.iter().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn rfc1321_vectors() {
        let cases: [(&[u8], &str); 7] = [
            (b"", "d41d8cd98f00b204e9800998ecf8427e"),
            (b"a", "0cc175b9c0f1b6a831c399e269772661"),
            (b"abc", "900150983cd24fb0d6963f7d28e17f72"),
            (b"message digest", "f96b697d7cb7938d525a2f31aaf161d0"),
            (b"abcdefghijklmnopqrstuvwxyz", "c3fcd3d76192e4007dfb496cca67e13b"),
            (b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", "d174ab98d277d9f5a5611c2c9f419d9f"),
            (
                b"12345678901234567890123456789012345678901234567890123456789012345678901234567890",
                "57edf4a22be3c955ac49da2e2107b67a",
            ),
        ];
        for (input, want) in cases {
            assert_eq!(hex(&digest(input)), want);
        }
    }

    #[test]
    fn matches_the_md5_crate_at_every_length_and_split() {
        let data: Vec<u8> = (0..3000u32).map(|i| (i.wrapping_mul(2654435761) >> 24) as u8).collect();
        for n in 0..300 {
            assert_eq!(digest(&data[..n]), <[u8; 16]>::from(md5::Md5::digest(&data[..n])), "length {n}");
        }
        for split in [0, 1, 63, 64, 65, 127, 1000] {
            let mut h = Md5::default();
            h.update(&data[..split]);
            h.update(&data[split..]);
            assert_eq!(h.finish(), <[u8; 16]>::from(md5::Md5::digest(&data)), "split {split}");
        }
    }
}

#[cfg(test)]
mod timing {
    //! `cargo test --release -- --ignored --nocapture timing_md5` compares with the md-5 crate.
    use super::*;
    use md5::Digest;
    use std::time::Instant;

    #[test]
    #[ignore]
    fn timing_md5() {
        let data = vec![0x5au8; 64 << 20];
        for _ in 0..3 {
            let t = Instant::now();
            std::hint::black_box(digest(&data));
            let ours = t.elapsed().as_secs_f64();
            let t = Instant::now();
            std::hint::black_box(md5::Md5::digest(&data));
            let crate_ = t.elapsed().as_secs_f64();
            let mb = |s: f64| data.len() as f64 / 1e6 / s;
            println!("md5 64 MB: ours {:.0} MB/s, md-5 crate {:.0} MB/s", mb(ours), mb(crate_));
        }
    }
}
