/**
 * Robustness and differential tests for the blob codec:
 *  - corrupted/truncated vectors decode or raise BlobError, nothing else (no crash, no hang,
 *    no huge allocation);
 *  - random values survive pack → unpack (deep equality) and re-packing gives identical bytes.
 */
import { describe, expect, test } from 'vitest';
import { BlobError } from '../src/errors.js';
import { packTs, unpackTs } from '../src/blob/index.js';
import { loadVectors } from './blob-helpers.js';
import { gen, rng, same } from './blob-gen.js';

/** Decode must return a value or throw BlobError; anything else fails the test. */
function decodeOrBlobError(b: Uint8Array, opts: { dims32?: boolean; squeeze?: boolean } = {}): 'ok' | 'error' {
  try {
    unpackTs(b, opts);
    return 'ok';
  } catch (e) {
    if (e instanceof BlobError) return 'error';
    throw new Error(`non-BlobError for ${Buffer.from(b).toString('hex').slice(0, 200)} ${JSON.stringify(opts)}: ${String(e)}`, {
      cause: e,
    });
  }
}

const vectors = loadVectors();
const blobs = vectors.flatMap((v) => {
  const out = [{ name: v.name, bytes: Buffer.from(v.blob_hex, 'hex'), dims32: !!v.options?.use_32bit_dims, valid: v.expected.kind !== 'error' }];
  if (v.uncompressed_hex) out.push({ name: `${v.name}/raw`, bytes: Buffer.from(v.uncompressed_hex, 'hex'), dims32: false, valid: true });
  return out;
});

describe('corrupt input', () => {
  test('every truncation of every vector raises BlobError (or reads as unknown protocol)', () => {
    // A strict prefix of a valid blob cannot be valid: parsing it follows the same path.
    for (const { name, bytes, dims32 } of blobs.filter((b) => b.valid)) {
      for (let n = 0; n < bytes.length; n++) {
        const prefix = bytes.subarray(0, n);
        let r: unknown;
        try {
          r = unpackTs(prefix, { dims32 });
        } catch (e) {
          expect(e, `${name}[:${n}]`).toBeInstanceOf(BlobError);
          continue;
        }
        // Only a cut inside the 4-byte protocol / ZL123 header can "succeed" (as None, like upstream).
        expect(r, `${name}[:${n}]`).toBeNull();
        expect(n, `${name}[:${n}]`).toBeLessThan(6);
      }
    }
  });

  test('random byte flips, insertions, deletions and length overwrites', () => {
    const rand = rng(12345);
    const int = (n: number): number => Math.floor(rand() * n);
    let errors = 0;
    let decoded = 0;
    for (const { bytes, dims32 } of blobs) {
      for (let iter = 0; iter < 150; iter++) {
        const b = Buffer.from(bytes);
        let m: Buffer = b;
        switch (int(5)) {
          case 0: // flip 1-3 random bytes
            for (let k = 1 + int(3); k > 0; k--) b[int(b.length)] = int(256);
            break;
          case 1: // flip one bit
            b[int(b.length)]! ^= 1 << int(8);
            break;
          case 2: {
            // overwrite 8 bytes with a huge or boundary length
            const pos = int(Math.max(1, b.length - 8));
            const big = [0xffffffffffffffffn, 0x0020000000000000n, 0x001fffffffffffffn, 0xffffffffn, 0x7fffffffn, 1n << 40n][int(6)]!;
            if (pos + 8 <= b.length) b.writeBigUInt64LE(big, pos);
            break;
          }
          case 3: {
            // delete or duplicate a random slice
            const i = int(b.length);
            const j = i + int(Math.min(16, b.length - i) + 1);
            m = rand() < 0.5 ? Buffer.concat([b.subarray(0, i), b.subarray(j)]) : Buffer.concat([b.subarray(0, j), b.subarray(i)]);
            break;
          }
          case 4: // random garbage after the protocol
            m = Buffer.concat([b.subarray(0, 4), Buffer.from(Array.from({ length: int(64) }, () => int(256)))]);
            break;
        }
        for (const opts of [{ dims32 }, { dims32: !dims32 }, { dims32, squeeze: true }]) {
          if (decodeOrBlobError(m, opts) === 'ok') decoded++;
          else errors++;
        }
      }
    }
    expect(errors).toBeGreaterThan(0);
    expect(decoded).toBeGreaterThan(0);
  });

  const le64 = (n: bigint): Buffer => {
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(n);
    return b;
  };
  const u32 = (n: number): Buffer => {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(n);
    return b;
  };
  const blob = (...parts: Array<Buffer | string>): Buffer =>
    Buffer.concat([Buffer.from('dj0\0', 'latin1'), ...parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'latin1') : p))]);

  test.each([
    ['array with 2^50 float64 elements', blob('A', le64(1n), le64(1n << 50n), u32(6), u32(0))],
    ['array with shape product overflow', blob('A', le64(3n), le64(1n << 40n), le64(1n << 40n), le64(1n << 40n), u32(6), u32(0))],
    ['array with 2^60 ndim', blob('A', le64(1n << 60n))],
    ['list with 2^52 items', blob('\x02', le64(1n << 52n))],
    ['string of 2^40 bytes', blob('\x05', le64(1n << 40n), 'abc')],
    ['item longer than the blob', blob('\x02', le64(1n), le64(1000n), '\xff')],
    ['item shorter than its element', blob('\x02', le64(1n), le64(1n), '\x0d', le64(0n))],
    ['object array of 2^40 items', blob('A', le64(1n), le64(1n << 40n), u32(5), u32(0))],
    ['cell of 2^30 x 2^30', blob('C', le64(2n), le64(1n << 30n), le64(1n << 30n))],
    ['struct with 0 fields and an overflowing shape', blob('S', le64(2n), le64(1n << 52n), le64(1n << 52n), u32(0))],
    ['struct with 2^31 fields', blob('S', le64(1n), le64(1n), u32(0x80000000))],
    ['recarray field name without NUL', blob('F', u32(1), 'abc')],
    ['recarray field that is not an array', blob('F', u32(1), 'a\0', '\xff')],
    ['integer claiming 65535 bytes', blob('\x0a', Buffer.from([0xff, 0xff]), '\x01')],
    ['invalid UTF-8 string', blob('\x05', le64(2n), Buffer.from([0xc3, 0x28]))],
    ['invalid decimal', blob('d', le64(3n), 'abc')],
    ['invalid date', blob('t', u32(20241345), le64(0n))],
    ['unsupported array class', blob('A', le64(0n), u32(16), u32(0))],
    ['complex char array', blob('A', le64(1n), le64(1n), u32(4), u32(1), '\0\0\0\0')],
    ['ZL123 claiming 2^50 bytes', Buffer.concat([Buffer.from('ZL123\0', 'latin1'), le64(1n << 50n), Buffer.from([0x78, 0x9c, 3, 0])])],
    ['ZL123 with a short size', Buffer.concat([Buffer.from('ZL123\0', 'latin1'), le64(3n), Buffer.from('789ccbcd05000', 'hex')])],
    ['ZL123 with a garbage stream', Buffer.concat([Buffer.from('ZL123\0', 'latin1'), le64(10n), Buffer.from('not zlib')])],
    ['100k nested lists', blob(...Array.from({ length: 100_000 }, () => Buffer.concat([Buffer.from([2]), le64(1n), le64(1n)])))],
  ])('%s → BlobError, fast', (_name, b) => {
    const t0 = performance.now();
    expect(() => unpackTs(b)).toThrow(BlobError);
    expect(performance.now() - t0).toBeLessThan(500);
  });

  test('trailing bytes fail the length check; unknown protocols read as null', () => {
    const good = packTs([1, 2], { compress: false });
    expect(() => unpackTs(Buffer.concat([good, Buffer.from([0])]))).toThrow('Blob length check failed! Invalid blob');
    expect(unpackTs(Buffer.from('xyz\0\xff', 'latin1'))).toBeNull();
    expect(unpackTs(Buffer.alloc(0))).toBeNull();
  });
});

describe('random round trips', () => {
  test('pack → unpack → deep equal, and re-pack is byte-identical', () => {
    for (let seed = 1; seed <= 1500; seed++) {
      const v = gen(seed)(0);
      const packed = packTs(v);
      const back = unpackTs(packed, { typedScalars: true });
      const diff = same(v, back);
      if (diff) throw new Error(`seed ${seed}: ${diff}`);
      const raw = packTs(v, { compress: false });
      expect(packTs(back, { compress: false }).equals(raw), `seed ${seed}`).toBe(true);
      // squeeze must never fail on our own output either
      expect(decodeOrBlobError(packed, { squeeze: true }), `seed ${seed}`).toBe('ok');
    }
  });

  test('random values survive mutation fuzzing of their blobs', () => {
    const rand = rng(99);
    for (let seed = 2000; seed < 2300; seed++) {
      const b = packTs(gen(seed)(0), { compress: false });
      for (let k = 0; k < 20; k++) {
        const m = Buffer.from(b);
        m[Math.floor(rand() * m.length)] = Math.floor(rand() * 256);
        decodeOrBlobError(m);
        decodeOrBlobError(m, { squeeze: true });
      }
    }
  });
});
