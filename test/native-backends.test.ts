/**
 * src/hash.ts and src/blob/compress.ts on both backends: each module set is imported afresh
 * with DJ_NATIVE=0 (pure TypeScript) and with the default loader (native addon when built).
 * The native half is skipped, with a printed reason, only when the addon is not built.
 */
import crypto from 'node:crypto';
import zlib from 'node:zlib';
import { afterAll, describe, expect, test, vi } from 'vitest';

type HashMod = typeof import('../src/hash.js');
type CompressMod = typeof import('../src/blob/compress.js');
type NativeMod = typeof import('../src/native/index.js');
type ErrorsMod = typeof import('../src/errors.js');

async function loadModules(djNative: string | undefined): Promise<{ hash: HashMod; compress: CompressMod; loader: NativeMod; errors: ErrorsMod }> {
  vi.resetModules();
  const saved = process.env.DJ_NATIVE;
  if (djNative === undefined) delete process.env.DJ_NATIVE;
  else process.env.DJ_NATIVE = djNative;
  try {
    const loader = await import('../src/native/index.js');
    const hash = await import('../src/hash.js');
    const compress = await import('../src/blob/compress.js');
    // The error classes of this module graph (resetModules gives each graph its own).
    const errors = await import('../src/errors.js');
    return { hash, compress, loader, errors };
  } finally {
    if (saved === undefined) delete process.env.DJ_NATIVE;
    else process.env.DJ_NATIVE = saved;
  }
}

const ts = await loadModules('0');
const nat = await loadModules(undefined);
afterAll(() => vi.resetModules());

if (nat.loader.native === null) {
  console.warn(`[native-backends.test] native half skipped: ${nat.loader.nativeLoadError?.message}`);
}

function prng(n: number, seed: number): Buffer {
  const out = Buffer.allocUnsafe(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    out[i] = s & 0xff;
  }
  return out;
}

const md5hex = (b: Uint8Array | string) => crypto.createHash('md5').update(b).digest('hex');

test('loader reports the backends', () => {
  expect(ts.loader.backend).toBe('typescript');
  expect(ts.loader.native).toBeNull();
  expect(ts.loader.nativeLoadError?.message).toMatch(/DJ_NATIVE=0/);
  if (nat.loader.native) {
    expect(nat.loader.backend).toBe('native');
    expect(nat.loader.nativeLoadError).toBeNull();
  } else {
    expect(nat.loader.backend).toBe('typescript');
  }
});

const backends = [
  { name: 'typescript', mods: ts, skip: false },
  {
    name: 'native',
    mods: nat,
    skip: nat.loader.native === null,
  },
];

for (const { name, mods, skip } of backends) {
  const { hash, compress } = mods;
  const { BlobError, DataJointError } = mods.errors;
  const label = skip ? `${name} backend (SKIPPED: addon not built)` : `${name} backend`;

  describe.skipIf(skip)(label, () => {
    describe('hash', () => {
      test.each([0, 1, 63, 64, 1023, 1024, 1025, 100_000, (2 << 20) + 3])('md5 of %i random bytes', (n) => {
        const b = prng(n, n + 17);
        expect(hash.md5(b, 'hex')).toBe(md5hex(b));
        expect(hash.md5(b).equals(Buffer.from(md5hex(b), 'hex'))).toBe(true);
      });

      test('strings, views and encodings', () => {
        expect(hash.md5('')).toEqual(Buffer.from('d41d8cd98f00b204e9800998ecf8427e', 'hex'));
        expect(hash.md5('héllo wörld', 'hex')).toBe(md5hex('héllo wörld'));
        const b = prng(5000, 1);
        const f64 = new Float64Array(b.buffer, b.byteOffset + 8, 300);
        expect(hash.md5(f64, 'base64')).toBe(crypto.createHash('md5').update(b.subarray(8, 8 + 2400)).digest('base64'));
        expect(hash.md5(new Uint8Array(b).buffer, 'hex')).toBe(md5hex(b));
        expect(() => hash.md5(42 as never)).toThrow(TypeError);
      });

      test('streaming in random chunks equals one-shot', () => {
        for (const n of [0, 10, 4096, 250_001]) {
          const b = prng(n, n);
          const h = hash.createMd5();
          let at = 0;
          let step = 1;
          while (at < n) {
            h.update(b.subarray(at, at + step));
            at += step;
            step = (step * 7 + 3) % 9000;
          }
          expect(h.digest('hex')).toBe(md5hex(b));
        }
        const h = hash.createMd5().update('ab').update(Buffer.from('c'));
        expect(h.digest().toString('hex')).toBe('900150983cd24fb0d6963f7d28e17f72');
        expect(() => h.digest()).toThrow();
        expect(hash.createMd5().update('616263', 'hex').digest('hex')).toBe('900150983cd24fb0d6963f7d28e17f72');
      });

      test('md5Many', () => {
        const bufs = [0, 5, 1024, 70_000, 1 << 20].map((n, i) => prng(n, i + 1));
        expect(hash.md5Many(bufs, 'hex')).toEqual(bufs.map((b) => md5hex(b)));
        const raw = hash.md5Many([...bufs, 'text']);
        expect(raw.map((d) => d.toString('hex'))).toEqual([...bufs.map((b) => md5hex(b)), md5hex('text')]);
        expect(hash.md5Many([])).toEqual([]);
      });
    });

    describe('zlib', () => {
      const f64 = (n: number, f: (i: number) => number) => {
        const a = new Float64Array(n);
        for (let i = 0; i < n; i++) a[i] = f(i);
        return Buffer.from(a.buffer);
      };
      const samples: [string, Buffer][] = [
        ['empty', Buffer.alloc(0)],
        ['1 KB text', Buffer.from('abcdefgh'.repeat(128))],
        ['random 600 KB', prng(600_000, 3)],
        ['zeros 2 MB', Buffer.alloc(2 << 20)],
        ['float64 random 2 MB', f64(1 << 18, () => Math.random())],
        ['float64 rounded 2 MB', f64(1 << 18, () => Math.round(Math.random() * 1000) / 10)],
      ];

      test.each(samples)('zlibCompress output is a zlib stream node:zlib reads (%s)', (_n, d) => {
        const z = compress.zlibCompress(d);
        expect(zlib.inflateSync(z).equals(d)).toBe(true);
        expect(compress.zlibDecompress(z, d.length).equals(d)).toBe(true);
      });

      test.each(samples)('zlibDecompress reads node:zlib streams (%s)', (_n, d) => {
        for (const level of [1, 6]) {
          expect(compress.zlibDecompress(zlib.deflateSync(d, { level }), d.length).equals(d)).toBe(true);
        }
      });

      test('zlibCompressIfSmaller skips what does not compress', () => {
        const rand = f64(1 << 18, () => Math.random());
        expect(compress.zlibCompressIfSmaller(rand, rand.length - 14)).toBeNull();
        const zeros = Buffer.alloc(1 << 20);
        const z = compress.zlibCompressIfSmaller(zeros, zeros.length - 14);
        expect(z).not.toBeNull();
        expect(zlib.inflateSync(z as Buffer).equals(zeros)).toBe(true);
        expect(compress.zlibCompressIfSmaller(zeros, 10)).toBeNull();
        expect(compress.zlibCompressIfSmaller(zeros, 0)).toBeNull();
      });

      test('decompress with a byte offset', () => {
        const d = f64(10_000, (i) => i % 7);
        const out = compress.zlibDecompress(zlib.deflateSync(d), d.length);
        expect(out.equals(d)).toBe(true);
        if (name === 'native') expect(out.byteOffset % 8).toBe(compress.INFLATE_BYTE_OFFSET);
        const at0 = compress.zlibDecompress(zlib.deflateSync(d), d.length, 0);
        expect(at0.byteOffset).toBe(0);
        expect(at0.equals(d)).toBe(true);
      });

      test('zlibCompressIfSmaller compresses a list of pieces as their concatenation', () => {
        const pieces = [Buffer.from('mYm\0A'), Buffer.alloc(3 << 20), prng(1000, 1), Buffer.alloc(0)];
        const z = compress.zlibCompressIfSmaller(pieces, Infinity) as Buffer;
        expect(zlib.inflateSync(z).equals(Buffer.concat(pieces))).toBe(true);
        const rand = [Buffer.from('hdr'), f64(1 << 18, () => Math.random())];
        expect(compress.zlibCompressIfSmaller(rand, 3 + (1 << 21) - 14)).toBeNull();
      });

      test('corrupt or mis-sized streams throw BlobError and never crash', () => {
        const d = Buffer.concat([prng(10_000, 5), Buffer.from('xyz'.repeat(5000))]);
        const z = zlib.deflateSync(d);
        const expectBlobError = (f: () => unknown) => {
          let err: unknown;
          try {
            f();
          } catch (e) {
            err = e;
          }
          expect(err).toBeInstanceOf(BlobError);
          expect(err).toBeInstanceOf(DataJointError);
        };
        expectBlobError(() => compress.zlibDecompress(z, d.length - 1));
        expectBlobError(() => compress.zlibDecompress(z, d.length + 1));
        expectBlobError(() => compress.zlibDecompress(z.subarray(0, 100), d.length));
        expectBlobError(() => compress.zlibDecompress(Buffer.from('garbage garbage'), 15));
        expectBlobError(() => compress.zlibDecompress(z, -5));
        const noise = prng(3000, 11);
        for (let i = 0; i < 500; i++) {
          const bad = Buffer.from(z);
          bad[2 + ((noise[i]! * 257 + noise[i + 1]!) % (bad.length - 2))]! ^= noise[i + 2]! | 1;
          try {
            expect(compress.zlibDecompress(bad, d.length).length).toBe(d.length);
          } catch (e) {
            expect(e).toBeInstanceOf(BlobError);
          }
        }
      });
    });
  });
}

describe.skipIf(nat.loader.native === null)('transposeNative (src/native/numeric.ts)', () => {
  test('matches the TypeScript transposeInto in both directions', async () => {
    const { transposeNative } = await import('../src/native/numeric.js');
    const { transposeInto } = await import('../src/blob/ndarray.js');
    const shapes = [[17, 31], [300, 2], [5, 7, 9], [2, 3, 4, 5, 3], [1, 400], [33, 1, 12]];
    for (const shape of shapes) {
      const n = shape.reduce((a, b) => a * b, 1);
      for (const [make, width] of [
        [(k: number) => new Float64Array(k), 1],
        [(k: number) => new Float64Array(k), 2],
        [(k: number) => new Int16Array(k), 1],
        [(k: number) => new Uint8Array(k), 1],
      ] as const) {
        const src = make(n * width);
        for (let i = 0; i < src.length; i++) src[i] = (i * 7) % 127;
        for (const from of ['C', 'F'] as const) {
          const want = make(n * width);
          const got = make(n * width);
          transposeInto(src, want, shape, from, width);
          const used = transposeNative(src, got, shape, from, width);
          if (used) expect([...got]).toEqual([...want]);
          else expect(n * width).toBeLessThan(256);
        }
      }
    }
  });
});

describe.skipIf(nat.loader.native === null)('hash.ts path choice', () => {
  /** hash.ts imported over a loader whose addon reports `md5Impl`, with md5 calls counted. */
  async function hashOver(md5Impl: 'asm' | 'rust') {
    const real = nat.loader.native!;
    const calls: number[] = [];
    const addon = {
      ...real,
      md5Impl,
      md5: (b: ArrayBufferView | ArrayBuffer) => {
        calls.push(b.byteLength);
        return real.md5(b);
      },
    };
    vi.resetModules();
    vi.doMock('../src/native/index.js', () => ({ native: addon, backend: 'native', nativeLoadError: null }));
    try {
      return { hash: await import('../src/hash.js'), calls };
    } finally {
      vi.doUnmock('../src/native/index.js');
    }
  }

  test('current addons hash every size natively; stale ones (md-5 assembly) only small inputs', async () => {
    const small = prng(100, 1);
    const large = prng(100_000, 2);
    for (const [impl, largeNatively] of [
      ['rust', true],
      ['asm', false],
    ] as const) {
      const { hash, calls } = await hashOver(impl);
      expect(hash.md5(small, 'hex')).toBe(md5hex(small));
      expect(hash.md5(large, 'hex')).toBe(md5hex(large));
      expect(hash.md5Many([large], 'hex')).toEqual([md5hex(large)]);
      expect(calls.includes(100_000)).toBe(largeNatively);
      expect(calls).toContain(100);
    }
  });
});
