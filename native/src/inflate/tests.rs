//! Unit tests and micro-benchmarks of the inflater.

use super::*;
use crate::outbuf::Window;
use crate::zlib::{deflate, DeflateOptions};

fn rng(n: usize, seed: u64) -> Vec<u8> {
    let mut s = seed | 1;
    (0..n)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            (s >> 32) as u8
        })
        .collect()
}

/// Text-like data with many matches of all lengths and distances.
fn wordy(n: usize, seed: u64) -> Vec<u8> {
    let r = rng(n, seed);
    let words: [&[u8]; 8] = [b"alpha ", b"be ", b"gamma-delta ", b"e", b"\n", b"zeta ", b"0123456789", b"  "];
    let mut v = Vec::with_capacity(n + 16);
    let mut i = 0;
    while v.len() < n {
        v.extend_from_slice(words[(r[i % n] & 7) as usize]);
        if r[(i * 7) % n] < 10 {
            v.push(r[(i * 13) % n]);
        }
        i += 1;
    }
    v.truncate(n);
    v
}

fn check(data: &[u8]) {
    for level in [0u8, 1, 2, 6, 9] {
        let z = miniz_oxide::deflate::compress_to_vec_zlib(data, level);
        let mut out = vec![0u8; data.len()];
        inflate_zlib(&z, &mut out).unwrap_or_else(|e| panic!("level {level}: {e:?}"));
        assert!(out == data, "level {level}");
        // Our own parallel/adaptive writer's streams.
        let z = deflate(data, DeflateOptions { level, adaptive: level == 2, limit: None }).unwrap();
        inflate_zlib(&z, &mut out).unwrap();
        assert!(out == data);
    }
}

#[test]
fn roundtrips() {
    check(b"");
    check(b"a");
    check(&[0u8; 1000]);
    check(&rng(100_000, 1));
    check(&wordy(300_000, 2));
    let mut mixed = rng(50_000, 3);
    mixed.extend(wordy(50_000, 4));
    mixed.extend(vec![7u8; 70_000]);
    mixed.extend((0..60_000u32).flat_map(|i| (i % 300).to_le_bytes()));
    check(&mixed);
    // Fixed-Huffman blocks (miniz uses them for small inputs).
    check(b"hello hello hello hello");
}

#[test]
fn size_and_corruption_errors() {
    let data = wordy(20_000, 5);
    let z = miniz_oxide::deflate::compress_to_vec_zlib(&data, 6);
    let mut small = vec![0u8; data.len() - 1];
    assert_eq!(inflate_zlib(&z, &mut small), Err(Error::SizeMismatch));
    let mut big = vec![0u8; data.len() + 1];
    assert_eq!(inflate_zlib(&z, &mut big), Err(Error::SizeMismatch));
    let mut out = vec![0u8; data.len()];
    for cut in [0, 1, 2, 3, 10, z.len() / 2, z.len() - 5, z.len() - 1] {
        assert!(inflate_zlib(&z[..cut], &mut out).is_err(), "cut {cut}");
    }
    let mut bad = z.clone();
    let k = bad.len() - 2;
    bad[k] ^= 0x40;
    assert_eq!(inflate_zlib(&bad, &mut out), Err(Error::Corrupt("incorrect data check")));
    assert!(inflate_zlib(b"\x78\x9c\xff\xff\xff\xff", &mut out).is_err());
    assert!(inflate_zlib(b"\x1f\x8b\x08\x00", &mut out).is_err());
}

#[test]
fn fuzz_never_panics() {
    let data = wordy(30_000, 6);
    let z = miniz_oxide::deflate::compress_to_vec_zlib(&data, 6);
    let noise = rng(200_000, 7);
    let mut out = vec![0u8; data.len()];
    for i in 0..2000 {
        let mut bad = z.clone();
        // Flip 1-3 bytes somewhere in the stream body.
        for j in 0..1 + i % 3 {
            let at = 2 + (noise[i * 3 + j] as usize * 131 + i * 17) % (bad.len() - 2);
            bad[at] ^= noise[i * 5 + j] | 1;
        }
        let _ = inflate_zlib(&bad, &mut out);
    }
    // Random garbage with a valid header.
    for i in 0..500 {
        let mut g = vec![0x78, 0x9c];
        g.extend_from_slice(&noise[i * 300..i * 300 + 300]);
        let _ = inflate_zlib(&g, &mut out);
    }
}

fn grow_inflate(z: &[u8], limit: usize) -> Result<Vec<u8>> {
    let mut out = vec![0u8; limit];
    inflate_zlib_into(z, &mut Window::new(&mut out, z.len()))?;
    Ok(out)
}

#[test]
fn growing_output_roundtrips() {
    // Highly compressible data grows the window many times, mid-block (zeros: one block
    // holds far more than the first window).
    let mut mixed = wordy(200_000, 8);
    mixed.extend(vec![0u8; 3 << 20]);
    mixed.extend(rng(300_000, 9));
    mixed.extend(vec![7u8; 1 << 20]);
    for data in [vec![], b"x".to_vec(), vec![0u8; 5 << 20], wordy(400_000, 10), mixed] {
        for level in [0u8, 1, 6, 9] {
            let z = miniz_oxide::deflate::compress_to_vec_zlib(&data, level);
            let back = grow_inflate(&z, data.len()).unwrap_or_else(|e| panic!("level {level}: {e:?}"));
            assert!(back == data, "level {level}, {} bytes", data.len());
            assert_eq!(grow_inflate(&z, data.len() + 1), Err(Error::SizeMismatch));
            if !data.is_empty() {
                assert_eq!(grow_inflate(&z, data.len() - 1), Err(Error::SizeMismatch));
            }
        }
    }
}

#[test]
fn trailing_bytes_are_rejected() {
    let data = wordy(10_000, 11);
    let mut z = miniz_oxide::deflate::compress_to_vec_zlib(&data, 6);
    let mut out = vec![0u8; data.len()];
    inflate_zlib(&z, &mut out).unwrap();
    z.push(0);
    assert_eq!(inflate_zlib(&z, &mut out), Err(Error::Corrupt("trailing bytes after the zlib stream")));
}

#[test]
fn junk_claiming_a_huge_size_fails_fast() {
    // 1 MB of noise with a valid zlib header, declared to inflate to 1 GB: the window stays at
    // its first size (4 × input), the error comes back at once, and the rest of the (lazily
    // allocated) output is never touched.
    let mut junk = rng(1 << 20, 12);
    junk[0] = 0x78;
    junk[1] = 0x9c;
    let mut out: Vec<u8> = Vec::with_capacity(1 << 30);
    // SAFETY: the inflater only reads bytes it wrote; the buffer is not read afterwards.
    let out = unsafe { std::slice::from_raw_parts_mut(out.as_mut_ptr(), 1 << 30) };
    let t = std::time::Instant::now();
    let mut w = Window::new(out, junk.len());
    assert!(inflate_zlib_into(&junk, &mut w).is_err());
    assert_eq!(w.window().len(), 4 << 20);
    assert!(t.elapsed().as_millis() < 200, "took {:?}", t.elapsed());
    // A real stream whose header claims more than it holds stops at the real size.
    let z = miniz_oxide::deflate::compress_to_vec_zlib(&vec![1u8; 1 << 20], 6);
    let mut w = Window::new(out, z.len());
    assert_eq!(inflate_zlib_into(&z, &mut w), Err(Error::SizeMismatch));
    assert!(w.window().len() <= 2 << 20);
}

mod timing {
    //! `cargo test --release -- --ignored --nocapture timing` prints throughputs.
    use super::*;
    use std::time::Instant;

    fn best<F: FnMut()>(mut f: F) -> f64 {
        (0..5)
            .map(|_| {
                let t = Instant::now();
                f();
                t.elapsed().as_secs_f64()
            })
            .fold(f64::INFINITY, f64::min)
    }

    #[test]
    #[ignore]
    fn timing_inflate() {
        let n = 32 << 20;
        let mut s = 0x9E3779B97F4A7C15u64;
        let rand: Vec<u8> = (0..n / 8)
            .flat_map(|_| {
                s ^= s << 13;
                s ^= s >> 7;
                s ^= s << 17;
                ((s >> 11) as f64 / (1u64 << 53) as f64).to_le_bytes()
            })
            .collect();
        let round2: Vec<u8> = rand
            .chunks(8)
            .flat_map(|c| ((f64::from_le_bytes(c.try_into().unwrap()) * 10000.0).round() / 100.0).to_le_bytes())
            .collect();
        for (name, data) in [("random", &rand), ("round2", &round2), ("zeros", &vec![0u8; n])] {
            let z = miniz_oxide::deflate::compress_to_vec_zlib(data, 6);
            let mut out = vec![0u8; n];
            let ours = best(|| inflate_zlib(&z, &mut out).unwrap());
            assert!(&out == data);
            let mz = best(|| crate::zlib::inflate_into(&z, &mut out).unwrap());
            let ad = best(|| {
                std::hint::black_box(crate::zlib::adler32(1, &out));
            });
            let mb = |t: f64| n as f64 / 1e6 / t;
            println!("{name}: ours {:.0} MB/s, miniz {:.0} MB/s, adler {:.0} MB/s", mb(ours), mb(mz), mb(ad));
        }
    }
}

mod timing_prefault {
    use super::*;
    use std::time::Instant;

    #[test]
    #[ignore]
    fn timing_prefault_ab() {
        let n = 100 << 20;
        let mut s = 0x9E3779B97F4A7C15u64;
        let rand: Vec<u8> = (0..n / 8)
            .flat_map(|_| {
                s ^= s << 13;
                s ^= s >> 7;
                s ^= s << 17;
                ((s >> 11) as f64 / (1u64 << 53) as f64).to_le_bytes()
            })
            .collect();
        let z = miniz_oxide::deflate::compress_to_vec_zlib(&rand, 6);
        for _ in 0..4 {
            let mut a = vec![0u8; n];
            let t = Instant::now();
            inflate_zlib(&z, &mut a).unwrap();
            let plain = t.elapsed().as_secs_f64();
            drop(a);
            let mut b = vec![0u8; n];
            let t = Instant::now();
            crate::mem::with_prefault(&mut b, |o| inflate_zlib(&z, o)).unwrap();
            let pf = t.elapsed().as_secs_f64();
            drop(b);
            println!("fresh inflate 100MB random: plain {:.0} MB/s, prefault {:.0} MB/s", n as f64 / 1e6 / plain, n as f64 / 1e6 / pf);
        }
    }
}

mod timing_window {
    //! `cargo test --release -- --ignored --nocapture timing_window`: inflating into a growing
    //! window vs. into an output pre-faulted whole up front (the design before the window).
    use super::*;
    use std::time::Instant;

    #[test]
    #[ignore]
    fn timing_window() {
        let n = 100 << 20;
        let mut s = 0x9E3779B97F4A7C15u64;
        let floats: Vec<u8> = (0..n / 8)
            .flat_map(|_| {
                s ^= s << 13;
                s ^= s >> 7;
                s ^= s << 17;
                ((s >> 11) as f64 / (1u64 << 53) as f64).to_le_bytes()
            })
            .collect();
        let zeros = vec![0u8; n];
        for (name, data) in [("float64 random", &floats), ("zeros", &zeros)] {
            let z = miniz_oxide::deflate::compress_to_vec_zlib(data, 6);
            let (mut whole, mut window) = (f64::INFINITY, f64::INFINITY);
            for round in 0..9 {
                for first in [round % 2 == 0, round % 2 == 1] {
                    // A fresh allocation each time, as the addon gets from V8.
                    let mut out: Vec<u8> = Vec::with_capacity(n);
                    // SAFETY: the inflater only reads bytes it wrote.
                    let buf = unsafe { std::slice::from_raw_parts_mut(out.as_mut_ptr(), n) };
                    let t = Instant::now();
                    if first {
                        crate::mem::with_prefault(buf, |o| inflate_zlib(&z, o)).unwrap();
                        whole = whole.min(t.elapsed().as_secs_f64());
                    } else {
                        inflate_zlib_into(&z, &mut Window::new(buf, z.len())).unwrap();
                        window = window.min(t.elapsed().as_secs_f64());
                    }
                    drop(out);
                }
            }
            let mb = |s: f64| n as f64 / 1e6 / s;
            println!("{name}: whole output pre-faulted {:.0} MB/s, growing window {:.0} MB/s", mb(whole), mb(window));
        }
    }
}
