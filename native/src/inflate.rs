//! A fast inflater for zlib streams whose decompressed size is declared up front.
//!
//! DataJoint blobs carry their uncompressed size, so the decoder writes straight into one
//! output buffer of that size, through a `Sink` (see `outbuf`): a window onto it that grows as
//! output is actually produced, so that a corrupt header claiming a huge size costs only what
//! the data really inflates to. Compared with
//! zlib/miniz, most of the speed comes from (1) a 64-bit bit buffer refilled with one unaligned
//! 8-byte load, (2) one table lookup per literal/length code (11-bit root tables with
//! second-level subtables for longer codes), and (3) match copies done 8 bytes at a time,
//! allowed to run past the match end because the fast loop keeps a safety margin at the end of
//! the window. Near the end of input or of the window a careful loop with full checks takes
//! over; when the window is full it hands the pending literal or match back to the driver,
//! which grows the window and resumes the block. Malformed input yields an error, never a
//! panic or an out-of-bounds access.

#[cfg(test)]
use crate::outbuf::Fixed;
use crate::outbuf::Sink;
use crate::zlib::adler32_parallel;

#[derive(Debug, PartialEq, Eq, Clone, Copy)]
pub enum Error {
    /// Not a valid zlib/deflate stream (or a checksum mismatch).
    Corrupt(&'static str),
    /// The stream ended before the final block.
    Truncated,
    /// The stream inflates to more or fewer bytes than declared.
    SizeMismatch,
}

type Result<T> = std::result::Result<T, Error>;

// Table entries and Huffman table construction live in `tables`.
mod tables;
use tables::*;

// --- bit reader -------------------------------------------------------------------------------

struct Bits<'a> {
    input: &'a [u8],
    /// Next byte of `input` to load into `buf` (may pass the end by `overrun` phantom zero bytes).
    pos: usize,
    buf: u64,
    /// Valid bits in `buf` (bits above may hold already-loaded data; they are ignored).
    left: u32,
    overrun: usize,
}

impl<'a> Bits<'a> {
    /// Careful refill: byte by byte, past the end with zero bytes (counted in `overrun`).
    #[inline]
    fn refill_slow(&mut self) -> Result<()> {
        while self.left <= 56 {
            let byte = match self.input.get(self.pos) {
                Some(&b) => b,
                None => {
                    self.overrun += 1;
                    // More than 8 phantom bytes means we are decoding beyond any real data.
                    if self.overrun > 8 {
                        return Err(Error::Truncated);
                    }
                    0
                }
            };
            // Clear stale high bits before OR-ing (the fast path may have left some).
            self.buf &= (1u64 << self.left) - 1;
            self.buf |= (byte as u64) << self.left;
            self.pos += 1;
            self.left += 8;
        }
        Ok(())
    }

    #[inline(always)]
    fn peek(&self, n: u32) -> u32 {
        (self.buf & ((1u64 << n) - 1)) as u32
    }

    #[inline(always)]
    fn consume(&mut self, n: u32) {
        debug_assert!(n <= self.left);
        self.buf >>= n;
        self.left -= n;
    }

    /// Consume the code length held in the low 5 bits of a table entry. The shift uses the
    /// whole entry as its count (bits 5..=7 are zero, and shifts take the count mod 64), which
    /// keeps the masking off the critical path of the decode loop.
    #[inline(always)]
    fn consume_entry(&mut self, e: u32) {
        debug_assert!(e & 0xe0 == 0 && (e & 0x1f) <= self.left);
        self.buf = self.buf.wrapping_shr(e);
        self.left -= e & 0x1f;
    }

    #[inline(always)]
    fn take(&mut self, n: u32) -> u32 {
        let v = self.peek(n);
        self.consume(n);
        v
    }

    /// Byte position of the first bit not consumed yet, after dropping bits up to a byte
    /// boundary. Resets the buffer so that reading can continue directly from `input`.
    fn align_and_rewind(&mut self) -> Result<usize> {
        let drop = self.left & 7;
        self.consume(drop);
        let unread = (self.left / 8) as usize;
        let pos = self.pos - unread;
        if pos > self.input.len() {
            return Err(Error::Truncated);
        }
        self.pos = pos;
        self.buf = 0;
        self.left = 0;
        self.overrun = 0;
        Ok(pos)
    }
}

// --- decoding -----------------------------------------------------------------------------------

/// Tables of the current block.
struct Tables {
    lit: Vec<u32>,
    dist: Vec<u32>,
    pre: Vec<u32>,
    lens: Vec<u8>,
}

/// Decode one table lookup (root + optional subtable). Needs ≥ 15 valid bits.
#[inline(always)]
fn lookup(bits: &mut Bits, table: &[u32], root_bits: u32) -> u32 {
    // SAFETY-free: indices are masked to the table sizes built by `build`.
    let mut e = table[bits.peek(root_bits) as usize];
    if e & F_SUB != 0 {
        bits.consume(root_bits);
        let sub = (e >> 8) & 0xf;
        e = table[(e >> 16) as usize + bits.peek(sub) as usize];
    }
    bits.consume_entry(e);
    e
}

fn read_dynamic_tables(bits: &mut Bits, t: &mut Tables) -> Result<()> {
    bits.refill_slow()?;
    let hlit = bits.take(5) as usize + 257;
    let hdist = bits.take(5) as usize + 1;
    let hclen = bits.take(4) as usize + 4;
    if hlit > 286 || hdist > 30 {
        return Err(Error::Corrupt("too many length or distance codes"));
    }
    let mut pre_lens = [0u8; 19];
    for &i in PRECODE_ORDER.iter().take(hclen) {
        bits.refill_slow()?;
        pre_lens[i] = bits.take(3) as u8;
    }
    build(&mut t.pre, &pre_lens, PRECODE_BITS, Kind::Precode)?;

    let total = hlit + hdist;
    t.lens.clear();
    t.lens.resize(total, 0);
    let mut i = 0;
    while i < total {
        bits.refill_slow()?;
        let e = t.pre[bits.peek(PRECODE_BITS) as usize];
        if e & F_INVALID != 0 || (e & 0x1f) == 0 {
            return Err(Error::Corrupt("invalid code length code"));
        }
        bits.consume(e & 0x1f);
        let sym = e >> 16;
        let (value, repeat) = match sym {
            0..=15 => (sym as u8, 1),
            16 => {
                if i == 0 {
                    return Err(Error::Corrupt("repeat of no previous code length"));
                }
                (t.lens[i - 1], 3 + bits.take(2) as usize)
            }
            17 => (0, 3 + bits.take(3) as usize),
            _ => (0, 11 + bits.take(7) as usize),
        };
        if i + repeat > total {
            return Err(Error::Corrupt("code lengths overflow"));
        }
        t.lens[i..i + repeat].fill(value);
        i += repeat;
    }
    if t.lens[256] == 0 {
        return Err(Error::Corrupt("missing end-of-block code"));
    }
    let (ll, dl) = t.lens.split_at(hlit);
    build(&mut t.lit, ll, LIT_BITS, Kind::LitLen)?;
    build(&mut t.dist, dl, DIST_BITS, Kind::Dist)?;
    Ok(())
}

fn fixed_tables(t: &mut Tables) -> Result<()> {
    let mut l = [0u8; 288];
    l[..144].fill(8);
    l[144..256].fill(9);
    l[256..280].fill(7);
    l[280..].fill(8);
    build(&mut t.lit, &l, LIT_BITS, Kind::LitLen)?;
    build(&mut t.dist, &[5u8; 30], DIST_BITS, Kind::Dist)?;
    Ok(())
}

/// Bytes of output the fast loop keeps free: a maximal match plus the 8-byte copy overshoot.
const OUT_MARGIN: usize = 258 + 16;
/// Bytes of input the fast loop keeps available (one refill per symbol, at most 8 bytes each).
const IN_MARGIN: usize = 16;

/// Copy a match of `len` bytes from `dist` bytes back, exactly (careful path).
#[inline]
fn copy_match_exact(out: &mut [u8], op: usize, dist: usize, len: usize) {
    if dist >= len {
        out.copy_within(op - dist..op - dist + len, op);
    } else {
        for k in 0..len {
            out[op + k] = out[op + k - dist];
        }
    }
}

/// Output that did not fit in the window when `decode_block` stopped.
#[derive(Clone, Copy)]
enum Pending {
    Literal(u8),
    /// A match whose distance was already checked against the output position.
    Match { len: usize, dist: usize },
}

impl Pending {
    fn len(self) -> usize {
        match self {
            Pending::Literal(_) => 1,
            Pending::Match { len, .. } => len,
        }
    }
    /// Write it at `op` (the window must hold `op + self.len()` bytes).
    fn write(self, out: &mut [u8], op: usize) {
        match self {
            Pending::Literal(b) => out[op] = b,
            Pending::Match { len, dist } => copy_match_exact(out, op, dist, len),
        }
    }
}

/// Why `decode_block` returned.
enum Stop {
    /// The block ended; the output position.
    EndOfBlock(usize),
    /// The window is full at `op`; `pending` still has to be written there, then the block
    /// continues (the bit reader and the tables hold its state).
    Full { op: usize, pending: Pending },
}

/// Decode the Huffman-coded data of one block into `out` (the current window) from `op` on.
#[inline(always)]
fn decode_block(bits: &mut Bits, t: &Tables, out: &mut [u8], mut op: usize) -> Result<Stop> {
    let lit = t.lit.as_slice();
    let dist_t = t.dist.as_slice();
    let out_len = out.len();
    let outp = out.as_mut_ptr();

    // Fast loop: the margins guarantee that every read and write below stays in bounds.
    // The bit reader lives in locals here (so that output stores, which could alias it as
    // far as the compiler knows, do not force it through memory), and the next root entry is
    // looked up as soon as the previous code is consumed, so refills and output stores
    // overlap with the lookup.
    let input = bits.input;
    let in_len = input.len();
    let inp = input.as_ptr();
    let mut buf = bits.buf;
    let mut left = bits.left;
    let mut pos = bits.pos;
    const LMASK: u64 = (1 << LIT_BITS) - 1;
    const DMASK: u64 = (1 << DIST_BITS) - 1;
    // SAFETY (macros below): `refill` needs pos + 8 <= in_len (loop condition, with ≤ 2
    // refills of ≤ 7 bytes per iteration inside IN_MARGIN); table indices are masked to the
    // root sizes or bounded by subtable construction.
    macro_rules! refill {
        () => {{
            let w = unsafe { (inp.add(pos) as *const u64).read_unaligned() };
            buf |= u64::from_le(w) << left;
            pos += ((63 - left) >> 3) as usize;
            left |= 56;
        }};
    }
    macro_rules! consume {
        ($e:expr) => {{
            let e: u32 = $e;
            buf = buf.wrapping_shr(e);
            left -= e & 0x1f;
        }};
    }
    macro_rules! bitsn {
        ($n:expr) => {
            (buf & ((1u64 << $n) - 1)) as u32
        };
    }
    macro_rules! root {
        () => {
            unsafe { *lit.get_unchecked((buf & LMASK) as usize) }
        };
    }
    let fast: Option<Result<Stop>> = 'fast: {
        if !(pos + IN_MARGIN <= in_len && op + OUT_MARGIN <= out_len) {
            break 'fast None;
        }
        refill!();
        let mut e = root!();
        while pos + IN_MARGIN <= in_len && op + OUT_MARGIN <= out_len {
            if e & F_LITERAL != 0 {
                // Up to three literals per refill: ≥ 56 bits, ≤ 15 per code, ≥ 11 left for
                // the next root lookup.
                consume!(e);
                let l1 = (e >> 16) as u8;
                e = root!();
                // SAFETY: op + OUT_MARGIN <= out_len.
                unsafe { *outp.add(op) = l1 };
                op += 1;
                if e & F_LITERAL != 0 {
                    consume!(e);
                    let l2 = (e >> 16) as u8;
                    e = root!();
                    unsafe { *outp.add(op) = l2 };
                    op += 1;
                    if e & F_LITERAL != 0 {
                        consume!(e);
                        let l3 = (e >> 16) as u8;
                        e = root!();
                        unsafe { *outp.add(op) = l3 };
                        op += 1;
                    }
                }
                refill!();
                continue;
            }
            refill!();
            if e & F_SUB != 0 {
                consume!(LIT_BITS);
                let sub = (e >> 8) & 0xf;
                e = unsafe { *lit.get_unchecked((e >> 16) as usize + bitsn!(sub) as usize) };
                if e & F_LITERAL != 0 {
                    consume!(e);
                    unsafe { *outp.add(op) = (e >> 16) as u8 };
                    op += 1;
                    e = root!();
                    continue;
                }
            }
            consume!(e);
            if e & (F_EOB | F_INVALID) != 0 {
                if e & F_EOB != 0 {
                    break 'fast Some(Ok(Stop::EndOfBlock(op)));
                }
                break 'fast Some(Err(Error::Corrupt("invalid literal/length code")));
            }
            // Length (≤ 15 + 5 bits) and distance (≤ 15 + 13 bits) fit in the ≥ 56 bits.
            let extra = (e >> 8) & 0xf;
            let len = (e >> 16) as usize + bitsn!(extra) as usize;
            consume!(extra);
            let mut d = unsafe { *dist_t.get_unchecked((buf & DMASK) as usize) };
            if d & F_SUB != 0 {
                consume!(DIST_BITS);
                let sub = (d >> 8) & 0xf;
                d = unsafe { *dist_t.get_unchecked((d >> 16) as usize + bitsn!(sub) as usize) };
            }
            consume!(d);
            if d & F_INVALID != 0 {
                break 'fast Some(Err(Error::Corrupt("invalid distance code")));
            }
            let dextra = (d >> 8) & 0xf;
            let dist = (d >> 16) as usize + bitsn!(dextra) as usize;
            consume!(dextra);
            if dist > op {
                break 'fast Some(Err(Error::Corrupt("distance too far back")));
            }
            // SAFETY: op + len + 8 <= op + OUT_MARGIN <= out_len, and op - dist >= 0.
            unsafe {
                let dst = outp.add(op);
                let src = outp.add(op - dist);
                if dist >= 8 {
                    // Word copies; each read is of bytes already written (dist ≥ 8).
                    let mut k = 0;
                    while k < len {
                        (dst.add(k) as *mut u64).write_unaligned((src.add(k) as *const u64).read_unaligned());
                        k += 8;
                    }
                } else if dist == 1 {
                    std::ptr::write_bytes(dst, *src, len);
                } else {
                    for k in 0..len {
                        *dst.add(k) = *src.add(k);
                    }
                }
            }
            op += len;
            refill!();
            e = root!();
        }
        None
    };
    bits.buf = buf;
    bits.left = left;
    bits.pos = pos;
    if let Some(r) = fast {
        return r;
    }

    // Careful loop.
    loop {
        bits.refill_slow()?;
        let e = lookup(bits, lit, LIT_BITS);
        if e & F_LITERAL != 0 {
            if op >= out_len {
                return Ok(Stop::Full { op, pending: Pending::Literal((e >> 16) as u8) });
            }
            out[op] = (e >> 16) as u8;
            op += 1;
            continue;
        }
        if e & F_EOB != 0 {
            return Ok(Stop::EndOfBlock(op));
        }
        if e & F_INVALID != 0 {
            return Err(Error::Corrupt("invalid literal/length code"));
        }
        let len = (e >> 16) as usize + bits.take((e >> 8) & 0xf) as usize;
        bits.refill_slow()?;
        let d = lookup(bits, dist_t, DIST_BITS);
        if d & F_INVALID != 0 {
            return Err(Error::Corrupt("invalid distance code"));
        }
        let dist = (d >> 16) as usize + bits.take((d >> 8) & 0xf) as usize;
        if dist > op {
            return Err(Error::Corrupt("distance too far back"));
        }
        if op + len > out_len {
            return Ok(Stop::Full { op, pending: Pending::Match { len, dist } });
        }
        copy_match_exact(out, op, dist, len);
        op += len;
    }
}

/// Inflate the zlib stream `input` into `out`, which must be exactly the decompressed size.
/// (A BMI2 build of the decoder was measured: no faster, so there is one portable build.)
#[cfg(test)]
pub fn inflate_zlib(input: &[u8], out: &mut [u8]) -> Result<()> {
    inflate_zlib_into(input, &mut Fixed(out)).map(|_| ())
}

/// Decode the Huffman-coded data of one block into `out`, growing it when it is full.
fn huffman_block<S: Sink>(bits: &mut Bits, t: &Tables, out: &mut S, mut op: usize) -> Result<usize> {
    loop {
        match decode_block(bits, t, out.window(), op)? {
            Stop::EndOfBlock(end) => return Ok(end),
            Stop::Full { op: at, pending } => {
                op = at + pending.len();
                if !out.grow(op) {
                    return Err(Error::SizeMismatch);
                }
                pending.write(out.window(), at);
            }
        }
    }
}

/// Inflate the zlib stream `input` into `out`, which grows as output is produced but never
/// beyond `out.limit()`; the stream must produce exactly that many bytes. Verifies the zlib
/// header and the Adler-32 trailer, and that nothing follows the trailer. Returns the number
/// of bytes written (= the limit).
pub fn inflate_zlib_into<S: Sink>(input: &[u8], out: &mut S) -> Result<usize> {
    if input.len() < 2 {
        return Err(Error::Truncated);
    }
    let (cmf, flg) = (input[0], input[1]);
    if cmf & 0x0f != 8 || cmf >> 4 > 7 || (cmf as u16 * 256 + flg as u16) % 31 != 0 {
        return Err(Error::Corrupt("incorrect zlib header"));
    }
    if flg & 0x20 != 0 {
        return Err(Error::Corrupt("zlib preset dictionary not supported"));
    }
    let mut bits = Bits { input, pos: 2, buf: 0, left: 0, overrun: 0 };
    let mut t = Tables { lit: Vec::new(), dist: Vec::new(), pre: Vec::new(), lens: Vec::new() };
    let mut op = 0usize;
    let mut fixed_built = false;
    loop {
        bits.refill_slow()?;
        let last = bits.take(1) == 1;
        match bits.take(2) {
            0 => {
                let p = bits.align_and_rewind()?;
                let hdr = input.get(p..p + 4).ok_or(Error::Truncated)?;
                let len = u16::from_le_bytes([hdr[0], hdr[1]]) as usize;
                let nlen = u16::from_le_bytes([hdr[2], hdr[3]]) as usize;
                if len != !nlen & 0xffff {
                    return Err(Error::Corrupt("stored block length check failed"));
                }
                let data = input.get(p + 4..p + 4 + len).ok_or(Error::Truncated)?;
                if op + len > out.window().len() && !out.grow(op + len) {
                    return Err(Error::SizeMismatch);
                }
                out.window()[op..op + len].copy_from_slice(data);
                op += len;
                bits.pos = p + 4 + len;
            }
            1 => {
                if !fixed_built {
                    fixed_tables(&mut t)?;
                    fixed_built = true;
                }
                op = huffman_block(&mut bits, &t, out, op)?;
            }
            2 => {
                read_dynamic_tables(&mut bits, &mut t)?;
                fixed_built = false;
                op = huffman_block(&mut bits, &t, out, op)?;
            }
            _ => return Err(Error::Corrupt("invalid block type")),
        }
        if last {
            break;
        }
    }
    let p = bits.align_and_rewind()?;
    let trailer = input.get(p..p + 4).ok_or(Error::Truncated)?;
    if op != out.limit() {
        return Err(Error::SizeMismatch);
    }
    if p + 4 != input.len() {
        return Err(Error::Corrupt("trailing bytes after the zlib stream"));
    }
    let expected = u32::from_be_bytes([trailer[0], trailer[1], trailer[2], trailer[3]]);
    if adler32_parallel(&out.window()[..op]) != expected {
        return Err(Error::Corrupt("incorrect data check"));
    }
    Ok(op)
}

#[cfg(test)]
mod tests;
