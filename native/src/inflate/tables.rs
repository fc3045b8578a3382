//! Decode tables of the inflater: the packed entry format and their construction from code
//! lengths (root tables with second-level subtables for long codes).

use super::{Error, Result};

// --- table entries --------------------------------------------------------------------------
//
// u32 entry:  bits 0..=4   number of bits to consume (code length; root bits for a subtable link)
//             bits 8..=11  extra bits (length/distance) or subtable index bits
//             bit  12      literal          bit 13  end of block
//             bit  14      subtable link    bit 15  invalid code
//             bits 16..=31 value: literal byte / length base / distance base / subtable offset

pub(super) const F_LITERAL: u32 = 1 << 12;
pub(super) const F_EOB: u32 = 1 << 13;
pub(super) const F_SUB: u32 = 1 << 14;
pub(super) const F_INVALID: u32 = 1 << 15;
pub(super) const INVALID_ENTRY: u32 = F_INVALID;

pub(super) const LIT_BITS: u32 = 11;
pub(super) const DIST_BITS: u32 = 8;
pub(super) const PRECODE_BITS: u32 = 7;

#[inline(always)]
pub(super) fn entry(value: u32, flags: u32, extra: u32, len: u32) -> u32 {
    (value << 16) | flags | (extra << 8) | len
}

pub(super) const LEN_BASE: [u16; 29] = [
    3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131,
    163, 195, 227, 258,
];
pub(super) const LEN_EXTRA: [u8; 29] =
    [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0];
pub(super) const DIST_BASE: [u16; 30] = [
    1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537,
    2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577,
];
pub(super) const DIST_EXTRA: [u8; 30] =
    [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13];
pub(super) const PRECODE_ORDER: [usize; 19] = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15];

#[derive(Clone, Copy, PartialEq)]
pub(super) enum Kind {
    LitLen,
    Dist,
    Precode,
}

pub(super) fn symbol_entry(kind: Kind, sym: usize, len: u32) -> u32 {
    match kind {
        Kind::LitLen => match sym {
            0..=255 => entry(sym as u32, F_LITERAL, 0, len),
            256 => entry(0, F_EOB, 0, len),
            257..=285 => entry(LEN_BASE[sym - 257] as u32, 0, LEN_EXTRA[sym - 257] as u32, len),
            _ => entry(0, F_INVALID, 0, len),
        },
        Kind::Dist => match sym {
            0..=29 => entry(DIST_BASE[sym] as u32, 0, DIST_EXTRA[sym] as u32, len),
            _ => entry(0, F_INVALID, 0, len),
        },
        Kind::Precode => entry(sym as u32, 0, 0, len),
    }
}

/// Build a decode table (root of `1 << root_bits` entries followed by subtables) from code
/// lengths. Over-subscribed codes are an error; incomplete codes are accepted (as zlib does for
/// the degenerate one-code case and libdeflate in general): their unused entries decode as
/// invalid and fail when met.
pub(super) fn build(table: &mut Vec<u32>, lens: &[u8], root_bits: u32, kind: Kind) -> Result<()> {
    let mut count = [0u16; 16];
    for &l in lens {
        count[l as usize] += 1;
    }
    count[0] = 0;
    // Kraft check: left > 0 incomplete (allowed), < 0 over-subscribed (error).
    let mut left: i32 = 1;
    for c in &count[1..] {
        left = (left << 1) - *c as i32;
        if left < 0 {
            return Err(Error::Corrupt("over-subscribed Huffman code"));
        }
    }
    // First canonical code of each length.
    let mut next = [0u32; 16];
    let mut code = 0u32;
    for len in 1..16 {
        code = (code + count[len - 1] as u32) << 1;
        next[len] = code;
    }
    let root_size = 1usize << root_bits;
    table.clear();
    table.resize(root_size, INVALID_ENTRY);

    // Symbols in canonical order (by length, then symbol) with their bit-reversed codes.
    let mut syms: Vec<(u32, u32, usize)> = Vec::with_capacity(lens.len());
    for (sym, &l) in lens.iter().enumerate() {
        if l == 0 {
            continue;
        }
        let l = l as u32;
        let c = next[l as usize];
        next[l as usize] += 1;
        let rev = c.reverse_bits() >> (32 - l);
        syms.push((l, rev, sym));
    }

    // Root entries for short codes.
    for &(l, rev, sym) in &syms {
        if l <= root_bits {
            let e = symbol_entry(kind, sym, l);
            let mut i = rev as usize;
            while i < root_size {
                table[i] = e;
                i += 1 << l;
            }
        }
    }
    // Subtables for long codes: one per root prefix, sized by the longest code using it.
    if syms.iter().any(|&(l, _, _)| l > root_bits) {
        let mask = root_size as u32 - 1;
        let mut sub_bits = vec![0u32; root_size];
        for &(l, rev, _) in &syms {
            if l > root_bits {
                let p = (rev & mask) as usize;
                sub_bits[p] = sub_bits[p].max(l - root_bits);
            }
        }
        let mut sub_start = vec![0usize; root_size];
        for p in 0..root_size {
            if sub_bits[p] > 0 {
                let start = table.len();
                if start >= 1 << 16 {
                    return Err(Error::Corrupt("Huffman table too large"));
                }
                sub_start[p] = start;
                table.resize(start + (1 << sub_bits[p]), INVALID_ENTRY);
                table[p] = entry(start as u32, F_SUB, sub_bits[p], root_bits);
            }
        }
        for &(l, rev, sym) in &syms {
            if l > root_bits {
                let p = (rev & mask) as usize;
                let sl = l - root_bits;
                let e = symbol_entry(kind, sym, sl);
                let base = sub_start[p];
                let mut i = (rev >> root_bits) as usize;
                while i < 1 << sub_bits[p] {
                    table[base + i] = e;
                    i += 1 << sl;
                }
            }
        }
    }
    Ok(())
}

