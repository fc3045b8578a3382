/**
 * The native addon itself (native/datajoint.node), loaded directly so that these tests run
 * whenever it is built, whatever DJ_NATIVE says. They are skipped, with the reason in the
 * suite name, only when the addon has not been built (`npm run build:native`).
 */
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import zlib from 'node:zlib';
import { describe, expect, test } from 'vitest';
import type { NativeAddon } from '../src/native/index.js';

const addonPath = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'native', 'datajoint.node');
const built = existsSync(addonPath);
const addon: NativeAddon | null = built ? (createRequire(import.meta.url)(addonPath) as NativeAddon) : null;
const suite = built ? 'native addon' : `native addon (SKIPPED: ${addonPath} not built; run npm run build:native)`;
if (!built) console.warn(`[native-addon.test] skipped: ${addonPath} is not built (npm run build:native)`);

/** Deterministic pseudo-random bytes. */
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

function nodeMd5(b: Uint8Array): string {
  return crypto.createHash('md5').update(b).digest('hex');
}

function floats(n: number, f: (i: number) => number): Buffer {
  const a = new Float64Array(n);
  for (let i = 0; i < n; i++) a[i] = f(i);
  return Buffer.from(a.buffer);
}

const SIZES = [0, 1, 3, 55, 56, 63, 64, 65, 127, 1000, 4096, 65_537, 1 << 20, (3 << 20) + 7];

describe.skipIf(!built)(suite, () => {
  const a = addon as NativeAddon;

  describe('md5', () => {
    test.each(SIZES)('one-shot matches node:crypto for %i bytes', (n) => {
      const b = prng(n, n + 1);
      expect(a.md5(b).toString('hex')).toBe(nodeMd5(b));
    });

    test('accepts any view or ArrayBuffer, honouring offsets', () => {
      const b = prng(1000, 5);
      const view = new Uint8Array(b.buffer, b.byteOffset + 10, 500);
      expect(a.md5(view).toString('hex')).toBe(nodeMd5(view));
      const f32 = new Float32Array(b.buffer, b.byteOffset + 4 * 3, 100);
      expect(a.md5(f32).toString('hex')).toBe(nodeMd5(new Uint8Array(f32.buffer, f32.byteOffset, 400)));
      const dv = new DataView(b.buffer, b.byteOffset + 1, 77);
      expect(a.md5(dv).toString('hex')).toBe(nodeMd5(new Uint8Array(dv.buffer, dv.byteOffset, 77)));
      const ab = new Uint8Array(b).buffer;
      expect(a.md5(ab).toString('hex')).toBe(nodeMd5(b));
    });

    test('streaming in random chunk sizes matches one-shot', () => {
      for (const n of [0, 1, 100, 4097, 300_001]) {
        const b = prng(n, 7 * n + 3);
        const r = prng(64, n);
        const h = new a.Md5();
        let at = 0;
        let k = 0;
        while (at < n) {
          const step = Math.min(n - at, (r[k++ % 64] ?? 0) * 37 + (k % 3));
          h.update(b.subarray(at, at + step));
          at += step;
        }
        h.update(Buffer.alloc(0));
        expect(h.digest().toString('hex')).toBe(nodeMd5(b));
      }
    });

    test('digest can be taken once; update after digest throws', () => {
      const h = new a.Md5();
      h.update(Buffer.from('abc'));
      expect(h.digest().toString('hex')).toBe('900150983cd24fb0d6963f7d28e17f72');
      expect(() => h.digest()).toThrow(/Digest already called/);
      expect(() => h.update(Buffer.from('x'))).toThrow(/Digest already called/);
    });

    test('md5Many matches one-by-one digests, in order', () => {
      const bufs = SIZES.map((n, i) => prng(n, 100 + i));
      const all = a.md5Many(bufs);
      expect(all.length).toBe(16 * bufs.length);
      bufs.forEach((b, i) => expect(all.subarray(16 * i, 16 * i + 16).toString('hex')).toBe(nodeMd5(b)));
      expect(a.md5Many([]).length).toBe(0);
    });

    test('bad arguments throw TypeError, not crash', () => {
      expect(() => a.md5(42 as never)).toThrow(TypeError);
      expect(() => a.md5(undefined as never)).toThrow(TypeError);
      expect(() => a.md5Many('x' as never)).toThrow(TypeError);
      expect(() => a.md5Many([Buffer.alloc(1), 'x'] as never)).toThrow(/buffers\[1\]/);
    });
  });

  describe('zlib', () => {
    const samples: [string, Buffer][] = [
      ['empty', Buffer.alloc(0)],
      ['tiny', Buffer.from('hello hello hello')],
      ['random 1.5 MB', prng(1_500_000, 11)],
      ['zeros 3 MB', Buffer.alloc(3 << 20)],
      ['float64 random 2 MB', floats(1 << 18, () => Math.random())],
      ['float64 ramp 1 MB', floats(1 << 17, (i) => i)],
      ['text-like', Buffer.from('the quick brown fox jumps over the lazy dog; '.repeat(50_000))],
    ];

    test.each(samples)('deflate output inflates with node:zlib (%s)', (_name, d) => {
      for (const level of [0, 1, 2, 6, 9]) {
        const z = a.deflate(d, level);
        expect(zlib.inflateSync(z).equals(d)).toBe(true);
      }
      const z = a.deflateAdaptive(d) as Buffer;
      expect(zlib.inflateSync(z).equals(d)).toBe(true);
    });

    test.each(samples)('node:zlib output inflates natively (%s)', (_name, d) => {
      for (const level of [0, 1, 6, 9]) {
        const z = zlib.deflateSync(d, { level });
        const out = a.inflate(z, d.length);
        expect(Buffer.from(out.buffer, out.byteOffset, out.byteLength).equals(d)).toBe(true);
      }
    });

    test('inflate with a byte offset places the result in a fresh ArrayBuffer', () => {
      const d = floats(100_000, (i) => Math.sin(i));
      const out = a.inflate(zlib.deflateSync(d), d.length, 3);
      expect(out.byteOffset).toBe(3);
      expect(out.buffer.byteLength).toBe(d.length + 3);
      expect(Buffer.from(out.buffer, 3, d.length).equals(d)).toBe(true);
    });

    test('adaptive deflate stores incompressible data and honours the limit', () => {
      const d = floats(1 << 19, () => Math.random()); // 4 MB
      const z = a.deflateAdaptive(d, 2) as Buffer;
      expect(z.length).toBeGreaterThan(d.length); // stored blocks
      expect(zlib.inflateSync(z).equals(d)).toBe(true);
      expect(a.deflateAdaptive(d, 2, d.length - 14)).toBeNull();
      const zeros = Buffer.alloc(4 << 20);
      const zz = a.deflateAdaptive(zeros, 2, zeros.length - 14) as Buffer;
      expect(zz.length).toBeLessThan(zeros.length / 100);
      expect(zlib.inflateSync(zz).equals(zeros)).toBe(true);
    });

    test('corrupt, truncated or mis-sized input throws coded errors', () => {
      const d = Buffer.from('the quick brown fox jumps over the lazy dog; '.repeat(2000));
      const z = zlib.deflateSync(d);
      const codeOf = (f: () => unknown) => {
        try {
          f();
        } catch (e) {
          return (e as { code?: string }).code;
        }
        return 'no error';
      };
      expect(codeOf(() => a.inflate(z, d.length - 1))).toBe('DJ_ZLIB_SIZE');
      expect(codeOf(() => a.inflate(z, d.length + 1))).toBe('DJ_ZLIB_SIZE');
      expect(codeOf(() => a.inflate(z.subarray(0, z.length >> 1), d.length))).toBe('DJ_ZLIB_DATA');
      expect(codeOf(() => a.inflate(Buffer.from('not a zlib stream'), 10))).toBe('DJ_ZLIB_DATA');
      const bad = Buffer.from(z);
      bad[bad.length - 1]! ^= 1;
      expect(codeOf(() => a.inflate(bad, d.length))).toBe('DJ_ZLIB_DATA');
      // A size far beyond what the stream could hold is refused before allocating.
      expect(codeOf(() => a.inflate(z, 2 ** 52))).toBe('DJ_ZLIB_SIZE');
      expect(() => a.inflate(z, -1)).toThrow(RangeError);
      expect(() => a.deflate(d, 10)).toThrow(RangeError);
    });

    test('bytes after the end of the stream are refused', () => {
      const d = Buffer.from('abc'.repeat(1000));
      const z = Buffer.concat([zlib.deflateSync(d), Buffer.from([0])]);
      expect(() => a.inflate(z, d.length)).toThrow(expect.objectContaining({ code: 'DJ_ZLIB_DATA', message: expect.stringMatching(/trailing/) }));
    });

    test('a declared size far beyond the real output costs neither time nor memory', () => {
      // Junk with a valid zlib header claiming 1 GB (the most 1 MB could honestly inflate
      // to), and a real 1 MB stream claiming 1 GB: both fail at once, touching ~nothing.
      const junk = prng(1 << 20, 21);
      junk[0] = 0x78;
      junk[1] = 0x9c;
      const real = zlib.deflateSync(prng(1 << 20, 22));
      for (const z of [junk, real]) {
        const rss0 = process.memoryUsage.rss();
        const t0 = performance.now();
        expect(() => a.inflate(z, 1 << 30, 3)).toThrow(expect.objectContaining({ code: expect.stringMatching(/^DJ_ZLIB_(DATA|SIZE)$/) }));
        expect(performance.now() - t0).toBeLessThan(300);
        expect(process.memoryUsage.rss() - rss0).toBeLessThan(64 << 20);
      }
    });

    test('outputs of a long synchronous loop are freed by garbage collection', () => {
      // The results are ordinary V8-owned buffers: they do not wait for the event loop.
      const d = prng(1 << 20, 23);
      const z = zlib.deflateSync(d, { level: 1 });
      const rss0 = process.memoryUsage.rss();
      for (let i = 0; i < 400; i++) {
        a.inflate(z, d.length, 3);
        a.deflateAdaptive(d, 2);
      }
      // 400 × (1 MB + 1 MB) = 800 MB if nothing were freed before the loop ends.
      expect(process.memoryUsage.rss() - rss0).toBeLessThan(200 << 20);
    });

    test('fuzzed streams never crash the process', () => {
      const d = Buffer.concat([prng(20_000, 3), Buffer.from('abcabcabc'.repeat(3000))]);
      const z = zlib.deflateSync(d);
      const noise = prng(30_000, 9);
      let errors = 0;
      for (let i = 0; i < 3000; i++) {
        const bad = Buffer.from(z);
        const at = 2 + (((noise[i]! << 8) | noise[i + 1]!) % (bad.length - 2));
        bad[at]! ^= noise[i + 2]! | 1;
        try {
          a.inflate(bad, d.length);
        } catch (e) {
          expect(['DJ_ZLIB_DATA', 'DJ_ZLIB_SIZE']).toContain((e as { code?: string }).code);
          errors++;
        }
      }
      expect(errors).toBeGreaterThan(2900);
    });

    const python = spawnSync('python3', ['-c', 'import zlib'], { encoding: 'utf8' });
    test.skipIf(python.status !== 0)('Python zlib.decompress reads the parallel/adaptive streams', () => {
      const d = Buffer.concat([floats(1 << 18, () => Math.random()), Buffer.alloc(3 << 20), prng(100_000, 4)]);
      for (const z of [a.deflateAdaptive(d) as Buffer, a.deflate(d, 6), a.deflate(d, 1)]) {
        const r = spawnSync(
          'python3',
          ['-c', 'import sys, zlib, hashlib; sys.stdout.write(hashlib.md5(zlib.decompress(sys.stdin.buffer.read())).hexdigest())'],
          { input: z, encoding: 'utf8', maxBuffer: 1 << 20 },
        );
        expect(r.stderr).toBe('');
        expect(r.stdout).toBe(nodeMd5(d));
      }
    });
  });

  describe('numeric reordering', () => {
    test('reverseAxes turns C order into F order', () => {
      // 2×3 int16 [[0,1,2],[3,4,5]] → F order 0,3,1,4,2,5 (docs/blob-format.md §4)
      const src = new Int16Array([0, 1, 2, 3, 4, 5]);
      const dst = new Int16Array(6);
      a.reverseAxes(src, dst, [2, 3], 2);
      expect([...dst]).toEqual([0, 3, 1, 4, 2, 5]);
      // 3-D against a naive index computation.
      const shape = [3, 4, 5];
      const c = new Float64Array(60).map((_, i) => i);
      const f = new Float64Array(60);
      a.reverseAxes(c, f, shape, 8);
      for (let i = 0; i < 3; i++)
        for (let j = 0; j < 4; j++)
          for (let k = 0; k < 5; k++) expect(f[i + 3 * j + 12 * k]).toBe(c[i * 20 + j * 5 + k]);
    });

    test('complex split/join round-trips', () => {
      const inter = new Float64Array([1, -1, 2, -2, 3, -3]);
      const planar = new Float64Array(6);
      a.splitComplex(inter, planar, 8);
      expect([...planar]).toEqual([1, 2, 3, -1, -2, -3]);
      const back = new Float64Array(6);
      a.joinComplex(planar, back, 8);
      expect([...back]).toEqual([...inter]);
    });

    test('argument checks', () => {
      const b = new Uint8Array(16);
      expect(() => a.reverseAxes(b, b, [4, 4], 1)).toThrow(/overlap/);
      expect(() => a.reverseAxes(b, new Uint8Array(16), [4, 3], 1)).toThrow(RangeError);
      expect(() => a.splitComplex(b, new Uint8Array(16), 3)).toThrow(RangeError);
    });
  });

  describe('worker threads', () => {
    const workerCode = `
      const { parentPort, workerData } = require('node:worker_threads');
      const addon = require(workerData.path);
      const data = Buffer.alloc(1 << 20, workerData.fill);
      const h = new addon.Md5();
      h.update(data);
      const z = addon.deflate(data, 6);
      const back = addon.inflate(z, data.length);
      parentPort.postMessage({
        md5: addon.md5(data).toString('hex'),
        streamed: h.digest().toString('hex'),
        many: addon.md5Many([data, data]).toString('hex'),
        roundtrip: Buffer.from(back.buffer, back.byteOffset, back.byteLength).equals(data),
      });
    `;

    function runWorker(fill: number): Promise<Record<string, unknown>> {
      return new Promise((resolve, reject) => {
        const w = new Worker(workerCode, { eval: true, workerData: { path: addonPath, fill } });
        w.once('message', (m) => {
          resolve(m as Record<string, unknown>);
          void w.terminate();
        });
        w.once('error', reject);
      });
    }

    test('loads and works in several workers at once, and after they exit', async () => {
      const results = await Promise.all([1, 2, 3, 4].map(runWorker));
      results.forEach((r, i) => {
        const expected = nodeMd5(Buffer.alloc(1 << 20, i + 1));
        expect(r).toEqual({ md5: expected, streamed: expected, many: expected + expected, roundtrip: true });
      });
      // The main thread's instance is unaffected by the workers' environments going away.
      expect(a.md5(Buffer.from('abc')).toString('hex')).toBe('900150983cd24fb0d6963f7d28e17f72');
      const again = await runWorker(9);
      expect(again.md5).toBe(nodeMd5(Buffer.alloc(1 << 20, 9)));
    });
  });
});
