/**
 * Hostile-input suite for the blob decoder, on both backends (pure TypeScript, DJ_NATIVE=0,
 * and the native addon, whose inflater serves the compressed path).
 *
 * 1. Mutation fuzzing: valid blobs of every element type (the test vectors, random values from
 *    blob-gen, a few large arrays; raw and ZL123-compressed) are mutated: bit flips, byte
 *    writes, truncations, LEN/count rewrites, splices, trailing bytes, compressed-size
 *    rewrites, and mutations of the inner blob behind a valid zlib stream. Every input must
 *    decode or throw BlobError: never another error class, a crash, a hang or a big allocation.
 *    Values that decode must re-pack or throw BlobError. Both backends must agree on which
 *    inputs decode.
 * 2. Hand-made hostile headers: huge dims and counts, deep nesting, sizes far beyond the data,
 *    zlib bombs inside and beyond the declared size, negative/overflowing lengths.
 *
 * Measured and printed: mutations run, slowest case, largest RSS growth; asserted: sane bounds.
 * Reproducible (seeded). DJ_FUZZ_MUTATIONS (default 100000 per backend) and DJ_FUZZ_SEED
 * change the run, e.g. `DJ_FUZZ_MUTATIONS=2000000 npx vitest run test/unit/blob-fuzz-hostile.test.ts`.
 */
import v8 from 'node:v8';
import vm from 'node:vm';
import zlib from 'node:zlib';
import { afterAll, describe, expect, test, vi } from 'vitest';
import { packTs } from '../../src/blob/index.js';
import { gen, rng } from '../blob-gen.js';
import { loadVectors } from '../blob-helpers.js';

type BlobMod = typeof import('../../src/blob/index.js');
type NativeMod = typeof import('../../src/native/index.js');
type ErrorsMod = typeof import('../../src/errors.js');
interface Backend {
  name: string;
  blob: BlobMod;
  loader: NativeMod;
  errors: ErrorsMod;
}

/** A fresh module graph with DJ_NATIVE set as given (undefined: the default loader). */
async function loadBackend(name: string, djNative: string | undefined): Promise<Backend> {
  vi.resetModules();
  const saved = process.env.DJ_NATIVE;
  if (djNative === undefined) delete process.env.DJ_NATIVE;
  else process.env.DJ_NATIVE = djNative;
  try {
    const loader = await import('../../src/native/index.js');
    const blob = await import('../../src/blob/index.js');
    const errors = await import('../../src/errors.js');
    return { name, blob, loader, errors };
  } finally {
    if (saved === undefined) delete process.env.DJ_NATIVE;
    else process.env.DJ_NATIVE = saved;
  }
}

const ts = await loadBackend('typescript', '0');
const nat = await loadBackend('native', undefined);
afterAll(() => vi.resetModules());
const nativeMissing = nat.loader.native === null;
if (nativeMissing) console.warn(`[blob-fuzz-hostile] native half skipped: ${nat.loader.nativeLoadError?.message}`);
const backends = nativeMissing ? [ts] : [ts, nat];

const MUTATIONS = Number(process.env.DJ_FUZZ_MUTATIONS ?? 100_000);
const SEED = Number(process.env.DJ_FUZZ_SEED ?? 20240601);
const MB = 1 << 20;
/** Bounds (generous: CI machines are shared). */
const MAX_RSS_GROWTH = 256 * MB;
const MAX_CASE_MS = 2000;

// --- measurement ----------------------------------------------------------------------------

v8.setFlagsFromString('--expose-gc');
const rss = (): number => process.memoryUsage.rss();
const gc = vm.runInNewContext('gc') as () => void;
const stats = {
  baseRss: 0,
  maxRssGrowth: 0,
  peak0: process.resourceUsage().maxRSS * 1024,
  slowest: { mutation: { ms: 0, what: '' }, hostile: { ms: 0, what: '' } },
  /** The slowest mutations seen (a single time may be a GC pause; these are re-timed). */
  slowMutations: [] as Array<{ ms: number; what: string; rerun: () => void }>,
};
function sampleRss(): void {
  stats.maxRssGrowth = Math.max(stats.maxRssGrowth, rss() - stats.baseRss);
}
function timed(what: string, kind: 'mutation' | 'hostile', f: () => void): number {
  const t0 = performance.now();
  f();
  const ms = performance.now() - t0;
  if (kind === 'mutation') {
    const slow = stats.slowMutations;
    if (slow.length < 8 || ms > slow[slow.length - 1]!.ms) {
      slow.push({ ms, what, rerun: f });
      slow.sort((a, b) => b.ms - a.ms);
      slow.length = Math.min(slow.length, 8);
    }
  } else if (ms > stats.slowest[kind].ms) stats.slowest[kind] = { ms, what };
  return ms;
}

/** The slowest mutation, as the best of three runs of each of the slowest single timings. */
function retimeSlowest(): void {
  for (const s of stats.slowMutations) {
    let best = Infinity;
    for (let k = 0; k < 3; k++) {
      const t0 = performance.now();
      s.rerun();
      best = Math.min(best, performance.now() - t0);
    }
    if (best > stats.slowest.mutation.ms) stats.slowest.mutation = { ms: best, what: s.what };
  }
}

afterAll(() => {
  const peak = process.resourceUsage().maxRSS * 1024 - stats.peak0;
  const { mutation, hostile } = stats.slowest;
  console.log(
    `[blob-fuzz-hostile] seed ${SEED}: ${MUTATIONS} mutations run on each of ${backends.map((b) => b.name).join(', ')}; ` +
      `slowest mutation ${mutation.ms.toFixed(1)} ms, best of 3 (${mutation.what}); slowest hostile header ${hostile.ms.toFixed(1)} ms (${hostile.what}); ` +
      `largest RSS growth ${(stats.maxRssGrowth / MB).toFixed(1)} MB (sampled), peak RSS +${(peak / MB).toFixed(1)} MB`,
  );
});

type Outcome = 'ok' | 'error';
interface Opts {
  dims32?: boolean;
  squeeze?: boolean;
  typedScalars?: boolean;
}

/** Decode; anything but a value or a BlobError fails with a reproducible description. */
function decode(b: Backend, bytes: Uint8Array, opts: Opts, what: string): Outcome {
  let value: unknown;
  try {
    value = b.blob.unpack(bytes, opts);
  } catch (e) {
    if (e instanceof b.errors.BlobError) return 'error';
    throw new Error(
      `${b.name}: ${what} ${JSON.stringify(opts)} threw ${(e as Error)?.constructor?.name}: ${String(e)}\n` +
        `input (${bytes.length} bytes): ${Buffer.from(bytes.subarray(0, 256)).toString('hex')}`,
      { cause: e },
    );
  }
  // What decodes must re-pack (or be refused with BlobError), never crash the encoder.
  try {
    b.blob.pack(value, { compress: false });
  } catch (e) {
    if (!(e instanceof b.errors.BlobError)) {
      throw new Error(`${b.name}: re-packing the decoded ${what} threw ${String(e)}: ${Buffer.from(bytes.subarray(0, 256)).toString('hex')}`, {
        cause: e,
      });
    }
  }
  return 'ok';
}

// --- corpus -----------------------------------------------------------------------------------

const ZL = Buffer.from('ZL123\0', 'latin1');
function zl(raw: Uint8Array, level: number, dims32 = false): Buffer {
  const size = Buffer.alloc(dims32 ? 4 : 8);
  if (dims32) size.writeUInt32LE(raw.length);
  else size.writeBigUInt64LE(BigInt(raw.length));
  return Buffer.concat([ZL, size, zlib.deflateSync(raw, { level })]);
}

interface Seed {
  name: string;
  /** Uncompressed blob (protocol + element). */
  raw: Buffer;
  dims32: boolean;
}

/** Valid blobs of every element type: the vectors, random values, and a few larger arrays. */
function corpus(): Seed[] {
  const out: Seed[] = [];
  for (const v of loadVectors()) {
    if (v.expected.kind === 'error') continue;
    const dims32 = !!v.options?.use_32bit_dims;
    const raw = Buffer.from(v.uncompressed_hex ?? v.blob_hex, 'hex');
    if (raw.subarray(0, 5).toString('latin1') === 'ZL123') continue; // compressed without raw hex
    out.push({ name: `vector ${v.name}`, raw, dims32 });
  }
  // Packed by the TypeScript encoder of the static module graph (the classes blob-gen uses), so
  // both backends fuzz identical bytes.
  for (let s = 1; s <= 400; s++) out.push({ name: `gen(${s})`, raw: packTs(gen(s)(0), { compress: false }), dims32: false });
  const big = new Float64Array(20_000).map((_, i) => Math.round(Math.sin(i) * 100) / 10);
  out.push({ name: 'float64[20000]', raw: packTs(big, { compress: false }), dims32: false });
  out.push({ name: 'list of 3000 strings', raw: packTs(Array.from({ length: 3000 }, (_, i) => `item ${i} ✓`), { compress: false }), dims32: false });
  return out;
}

const seeds = corpus();

// --- mutations ----------------------------------------------------------------------------------

/** ZL123 blobs of every seed at levels 1, 6 and 9, made once (before the RSS baseline). */
const zlCache = new Map(seeds.map((s) => [s, [1, 6, 9].map((level) => zl(s.raw, level, s.dims32))] as const));
const compressed = (s: Seed, level: 1 | 6 | 9): Buffer => zlCache.get(s)![level === 1 ? 0 : level === 6 ? 1 : 2]!;

gc();
stats.baseRss = rss();

const INTERESTING_LEN = [0n, 1n, 2n, 0x7fn, 0xffn, 0xffffn, 0x7fffffffn, 0xffffffffn, 1n << 32n, (1n << 53n) - 1n, 1n << 53n, 1n << 63n, (1n << 64n) - 1n];

/**
 * The `i`-th mutated input of a seeded stream: deterministic, so both backends see the same
 * inputs and a failure names its (seed, i).
 */
function* mutations(seed: number, count: number): Generator<{ bytes: Buffer; opts: Opts; what: string }> {
  const rand = rng(seed);
  const int = (n: number): number => Math.floor(rand() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;
  const lenValue = (real: number): bigint => (rand() < 0.7 ? pick(INTERESTING_LEN) : BigInt(Math.max(0, real + int(17) - 8)));

  /** One structural mutation of `b` (returns a new buffer). */
  const mutate = (b: Buffer, dims32: boolean): { m: Buffer; op: string } => {
    const m = Buffer.from(b);
    const at = () => int(Math.max(1, m.length));
    switch (int(7)) {
      case 0: {
        for (let k = 1 + int(4); k > 0; k--) m[at()]! ^= 1 << int(8);
        return { m, op: 'bit flips' };
      }
      case 1: {
        for (let k = 1 + int(3); k > 0; k--) m[at()] = pick([0, 0xff, 0x7f, 0x80, 1, int(256)]);
        return { m, op: 'byte writes' };
      }
      case 2:
        return { m: m.subarray(0, int(m.length)), op: 'truncation' };
      case 3: {
        // A LEN (or u32 count) rewritten: at a random offset, or right after a type code.
        const w = dims32 || rand() < 0.25 ? 4 : 8;
        let p = int(Math.max(1, m.length - w));
        if (rand() < 0.5) {
          const codes = [];
          for (let i = 4; i + 1 + w <= m.length; i++) if ([0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x41, 0x43, 0x53, 0x64].includes(m[i]!)) codes.push(i + 1);
          if (codes.length) p = pick(codes);
        }
        if (p + w > m.length) return { m, op: 'length rewrite (no room)' };
        const v = lenValue(m.length - p);
        if (w === 8) m.writeBigUInt64LE(v & ((1n << 64n) - 1n), p);
        else m.writeUInt32LE(Number(v & 0xffffffffn), p);
        return { m, op: `length rewrite @${p}` };
      }
      case 4: {
        // Splice: a slice of another seed inserted or overwritten here.
        const other = pick(seeds).raw;
        const i = int(other.length);
        const piece = other.subarray(i, i + 1 + int(64));
        const p = at();
        const cut = rand() < 0.5 ? 0 : Math.min(piece.length, m.length - p);
        return { m: Buffer.concat([m.subarray(0, p), piece, m.subarray(p + cut)]), op: 'splice' };
      }
      case 5: {
        // Delete or duplicate a range.
        const i = at();
        const j = Math.min(m.length, i + 1 + int(32));
        return rand() < 0.5
          ? { m: Buffer.concat([m.subarray(0, i), m.subarray(j)]), op: 'delete' }
          : { m: Buffer.concat([m.subarray(0, j), m.subarray(i)]), op: 'duplicate' };
      }
      default:
        return { m: Buffer.concat([m, Buffer.from(Array.from({ length: 1 + int(8) }, () => int(256)))]), op: 'trailing bytes' };
    }
  };

  for (let i = 0; i < count; i++) {
    const s = pick(seeds);
    const opts: Opts = { dims32: s.dims32 !== rand() < 0.05, squeeze: rand() < 0.3, typedScalars: rand() < 0.2 };
    const kind = int(10);
    let bytes: Buffer;
    let op: string;
    if (kind < 5) {
      ({ m: bytes, op } = mutate(s.raw, s.dims32));
    } else if (kind < 8) {
      // Mutated inner blob behind a valid zlib stream: the decoder sees it after inflating.
      const inner = mutate(s.raw, s.dims32);
      bytes = zl(inner.m, pick([1, 1, 6, 9]), s.dims32);
      op = `compressed(${inner.op})`;
    } else if (kind < 9) {
      // Mutated zlib stream or compressed-size field.
      const z = compressed(s, pick([1, 6, 9] as const));
      const hdr = s.dims32 ? 10 : 14;
      if (rand() < 0.3) {
        bytes = Buffer.from(z);
        const v = pick([0n, BigInt(s.raw.length - 1), BigInt(s.raw.length + 1), BigInt(2 * s.raw.length), BigInt((z.length - hdr) * 1040), ...INTERESTING_LEN]);
        if (s.dims32) bytes.writeUInt32LE(Number(v & 0xffffffffn), 6);
        else bytes.writeBigUInt64LE(v & ((1n << 64n) - 1n), 6);
        op = 'compressed size rewrite';
      } else {
        const body = mutate(z.subarray(hdr), false);
        bytes = Buffer.concat([z.subarray(0, hdr), body.m]);
        op = `zlib stream ${body.op}`;
      }
    } else {
      // Valid stream, header mutations (bit flips etc. anywhere, including ZL123 and size).
      ({ m: bytes, op } = mutate(compressed(s, 6), false));
      op = `compressed blob ${op}`;
    }
    yield { bytes, opts, what: `mutation #${i} (seed ${seed}) of ${s.name}: ${op}` };
  }
}

// --- the tests ----------------------------------------------------------------------------------

test(`mutation fuzzing: every input decodes or throws BlobError on ${backends.map((b) => b.name).join(' and ')}, alike`, async () => {
  // Each input goes to every backend in turn (generated once); their outcomes must agree.
  const ok = new Map(backends.map((b) => [b.name, 0]));
  let differ = 0;
  let firstDiffer = '';
  let i = 0;
  for (const { bytes, opts, what } of mutations(SEED, MUTATIONS)) {
    const results = backends.map((b) => {
      let r = 'error' as Outcome;
      timed(`${b.name} ${what}`, 'mutation', () => {
        r = decode(b, bytes, opts, what);
      });
      if (r === 'ok') ok.set(b.name, ok.get(b.name)! + 1);
      return r;
    });
    if (results.some((r) => r !== results[0])) {
      if (!differ++) firstDiffer = `${what}: ${backends.map((b, k) => `${b.name} ${results[k]}`).join(', ')}`;
    }
    if (++i % 512 === 0) sampleRss();
    if (i % 1024 === 0) {
      // Let the event loop turn: node:zlib frees a failed inflateSync's buffers only then.
      await new Promise((r) => setImmediate(r));
      // Collect now and then, so that the RSS figures show what decoding holds, not how
      // lazily V8 returns garbage (a large allocation still shows in the maxRSS peak).
      if (i % 8192 === 0) gc();
    }
  }
  sampleRss();
  retimeSlowest();
  expect(i).toBe(MUTATIONS);
  expect(differ, `backends disagree on ${differ} inputs, first ${firstDiffer}`).toBe(0);
  for (const n of ok.values()) {
    // The mutations must exercise both outcomes substantially.
    expect(n).toBeGreaterThan(MUTATIONS * 0.05);
    expect(MUTATIONS - n).toBeGreaterThan(MUTATIONS * 0.3);
  }
  expect(stats.slowest.mutation.ms).toBeLessThan(MAX_CASE_MS);
  expect(stats.maxRssGrowth).toBeLessThan(MAX_RSS_GROWTH);
  // ~15 s per 100,000 on 2 shared cores; generous for loaded CI machines and long runs.
}, Math.max(180_000, MUTATIONS * 3));

// --- hand-made hostile headers -----------------------------------------------------------------

const le64 = (n: bigint): Buffer => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(n & ((1n << 64n) - 1n));
  return b;
};
const u32 = (n: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n >>> 0);
  return b;
};
const u16 = (n: number): Buffer => {
  const b = Buffer.alloc(2);
  b.writeUInt16LE(n);
  return b;
};
const dj0 = (...parts: Array<Buffer | string>): Buffer =>
  Buffer.concat([Buffer.from('dj0\0', 'latin1'), ...parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'latin1') : p))]);
const zlWith = (size: bigint, stream: Buffer): Buffer => Buffer.concat([ZL, le64(size), stream]);
const repeat = (n: number, f: () => Buffer): Buffer => Buffer.concat(Array.from({ length: n }, f));

/** 1 MB of noise behind a valid zlib header. */
function junkStream(): Buffer {
  const r = rng(7);
  const b = Buffer.alloc(MB);
  for (let i = 0; i < b.length; i++) b[i] = Math.floor(r() * 256);
  b[0] = 0x78;
  b[1] = 0x9c;
  return b;
}
/** zlib stream of `n` zero bytes (deflate's best ratio, ~1030:1). */
const zerosStream = (n: number): Buffer => zlib.deflateSync(Buffer.alloc(n), { level: 9 });
/** A valid bytes blob of `n` zeros: a bomb whose declared size is honest. */
const bytesBlobStream = (n: number): { z: Buffer; size: number } => {
  const raw = Buffer.concat([dj0('\x06', le64(BigInt(n))), Buffer.alloc(n)]);
  return { z: zlib.deflateSync(raw, { level: 9 }), size: raw.length };
};

type Expect = 'error' | 'ok' | 'either';
const hostile: Array<[string, () => Buffer, Expect, Opts?]> = [
  // huge dims
  ['array with 2^50 float64 elements', () => dj0('A', le64(1n), le64(1n << 50n), u32(6), u32(0)), 'error'],
  ['array with shape product overflowing 2^64', () => dj0('A', le64(3n), le64(1n << 40n), le64(1n << 40n), le64(1n << 40n), u32(6), u32(0)), 'error'],
  ['array with a zero dim and huge others', () => dj0('A', le64(3n), le64(0n), le64((1n << 53n) - 1n), le64((1n << 53n) - 1n), u32(6), u32(0)), 'ok'],
  ['array with 2^60 dims', () => dj0('A', le64(1n << 60n)), 'error'],
  ['array with 2^64-1 dims', () => dj0('A', le64((1n << 64n) - 1n)), 'error'],
  ['32-bit dims: array of 2^32-1 int8', () => Buffer.concat([Buffer.from('mYm\0A', 'latin1'), u32(1), u32(0xffffffff), u32(8), u32(0)]), 'error', { dims32: true }],
  ['char array of 2^40 chars', () => dj0('A', le64(2n), le64(1n), le64(1n << 40n), u32(4), u32(0)), 'error'],
  ['datetime64 array of 2^45 elements', () => dj0('A', le64(1n), le64(1n << 45n), u32(65536 + 3), u32(0)), 'error'],
  ['complex float64 array claiming 2^59 elements', () => dj0('A', le64(1n), le64(1n << 59n), u32(6), u32(1)), 'error'],
  // huge counts
  ['list with 2^52 items', () => dj0('\x02', le64(1n << 52n)), 'error'],
  ['tuple with 2^64-1 items', () => dj0('\x01', le64((1n << 64n) - 1n)), 'error'],
  ['set with 2^32 items', () => dj0('\x03', le64(1n << 32n), le64(1n), '\xff'), 'error'],
  ['dict with 2^40 pairs', () => dj0('\x04', le64(1n << 40n)), 'error'],
  ['object array of 2^40 items', () => dj0('A', le64(1n), le64(1n << 40n), u32(5), u32(0)), 'error'],
  ['cell of 2^30 × 2^30', () => dj0('C', le64(2n), le64(1n << 30n), le64(1n << 30n)), 'error'],
  ['struct with 2^31 fields', () => dj0('S', le64(1n), le64(1n), u32(0x80000000)), 'error'],
  ['struct with 0 fields and 2^50 elements', () => dj0('S', le64(1n), le64(1n << 50n), u32(0)), 'either'],
  ['struct with 0 fields and an overflowing shape', () => dj0('S', le64(2n), le64(1n << 52n), le64(1n << 52n), u32(0)), 'error'],
  ['recarray with 2^32-1 fields', () => dj0('F', u32(0xffffffff), 'a\0'), 'error'],
  ['recarray with 100k empty field names', () => dj0('F', u32(100_000), Buffer.alloc(100_000)), 'error'],
  // deep nesting
  ['100k nested lists', () => dj0(repeat(100_000, () => Buffer.concat([Buffer.from([2]), le64(1n), le64(1n)]))), 'error'],
  ['100k nested dicts', () => dj0(repeat(100_000, () => Buffer.concat([Buffer.from([4]), le64(1n), le64(1n), Buffer.from([0xff]), le64(1n)]))), 'error'],
  ['100k nested cells', () => dj0(repeat(100_000, () => Buffer.concat([Buffer.from('C'), le64(1n), le64(1n), le64(1n)]))), 'error'],
  ['100k nested object arrays', () => dj0(repeat(100_000, () => Buffer.concat([Buffer.from('A'), le64(1n), le64(1n), u32(5), u32(0), le64(1n)]))), 'error'],
  ['100k nested recarrays', () => dj0(repeat(100_000, () => Buffer.concat([Buffer.from('F'), u32(1), Buffer.from('a\0')]))), 'error'],
  ['1000 nested lists (the limit) then None', () => {
    // Each level's ITEM length must cover everything inside it.
    let inner = Buffer.from([0xff]);
    for (let i = 0; i < 999; i++) inner = Buffer.concat([Buffer.from([2]), le64(1n), le64(BigInt(inner.length)), inner]);
    return dj0(inner);
  }, 'ok'],
  // claimed sizes far beyond the data
  ['string of 2^40 bytes', () => dj0('\x05', le64(1n << 40n), 'abc'), 'error'],
  ['bytes of 2^63 bytes', () => dj0('\x06', le64(1n << 63n), 'abc'), 'error'],
  ['decimal of 2^50 chars', () => dj0('d', le64(1n << 50n), '1.5'), 'error'],
  ['item longer than the blob', () => dj0('\x02', le64(1n), le64(1000n), '\xff'), 'error'],
  ['integer claiming 65535 bytes', () => dj0('\x0a', u16(0xffff), '\x01'), 'error'],
  ['integer of 65535 bytes (legal)', () => dj0('\x0a', u16(0xffff), Buffer.alloc(0xffff, 0x5a)), 'ok'],
  ['ZL123 claiming 2^50 bytes', () => zlWith(1n << 50n, Buffer.from([0x78, 0x9c, 3, 0])), 'error'],
  ['ZL123 claiming 2^64-1 bytes', () => zlWith((1n << 64n) - 1n, Buffer.from([0x78, 0x9c, 3, 0])), 'error'],
  ['ZL123: 1 MB of junk claiming 1 GB', () => zlWith(1n << 30n, junkStream()), 'error'],
  ['ZL123: 1 MB of junk claiming the largest plausible size', () => zlWith(BigInt(MB * 1040), junkStream()), 'error'],
  ['ZL123: 1 MB of zeros declared as 1 GB (short output)', () => zlWith(1n << 30n, zerosStream(MB)), 'error'],
  ['ZL123: real stream with trailing garbage', () => Buffer.concat([zl(dj0('\x05', le64(3n), 'abc'), 6), Buffer.from('junk')]), 'error'],
  ['ZL123 inside ZL123', () => zl(zl(dj0('\xff'), 6), 6), 'ok'],
  ['ZL123 with an empty stream', () => zlWith(0n, zlib.deflateSync(Buffer.alloc(0))), 'ok'],
  ['ZL123 truncated header', () => Buffer.from('ZL123\0\x01\x02', 'latin1'), 'error'],
  // zlib bombs
  ['zlib bomb beyond the declared size: 64 MB of zeros declared as 1 MB', () => zlWith(BigInt(MB), zerosStream(64 * MB)), 'error'],
  ['zlib bomb within the declared size: 32 MB bytes blob, honest', () => {
    const { z, size } = bytesBlobStream(32 * MB);
    return zlWith(BigInt(size), z);
  }, 'ok'],
  ['zlib bomb within the declared size: 32 MB of zeros (no protocol)', () => zlWith(BigInt(32 * MB), zerosStream(32 * MB)), 'ok'],
  ['zlib bomb with a corrupt checksum', () => {
    const { z, size } = bytesBlobStream(32 * MB);
    z[z.length - 1]! ^= 1;
    return zlWith(BigInt(size), z);
  }, 'error'],
  ['zlib bomb cut in the middle', () => {
    const { z, size } = bytesBlobStream(32 * MB);
    return zlWith(BigInt(size), z.subarray(0, z.length >> 1));
  }, 'error'],
  // negative / overflowing lengths
  ['item length -1', () => dj0('\x02', le64(1n), le64(-1n), '\xff'), 'error'],
  ['string length -1', () => dj0('\x05', le64(-1n), 'abc'), 'error'],
  ['ndim -1', () => dj0('A', le64(-1n)), 'error'],
  ['dimension -2', () => dj0('A', le64(1n), le64(-2n), u32(6), u32(0)), 'error'],
  ['32-bit dims: item length 0xFFFFFFFF', () => Buffer.concat([Buffer.from('dj0\0\x02', 'latin1'), u32(1), u32(0xffffffff), Buffer.from([0xff])]), 'error', { dims32: true }],
  ['32-bit dims: ZL123 claiming 4 GB', () => Buffer.concat([ZL, u32(0xffffffff), Buffer.from([0x78, 0x9c, 3, 0])]), 'error', { dims32: true }],
  ['datetime with negative date and time other than -1', () => dj0('t', u32(-5), le64(-7n)), 'either'],
  ['datetime with time 2^63-1', () => dj0('t', u32(20240101), le64((1n << 63n) - 1n)), 'error'],
];

/** Inputs are built once and shared by the backends (building the bombs costs memory too). */
const built = new Map<string, Buffer>();
const input = (name: string, make: () => Buffer): Buffer => {
  if (!built.has(name)) built.set(name, make());
  return built.get(name)!;
};

describe.each(backends.map((b) => [b.name, b] as const))('hostile headers, %s backend', (_n, b) => {
  test.each(hostile)('%s', (name, make, expected, opts = {}) => {
    const bytes = input(name, make);
    let r = 'error' as Outcome;
    gc();
    const before = rss();
    const ms = timed(`${b.name}: ${name}`, 'hostile', () => {
      r = decode(b, bytes, opts, `hostile input "${name}"`);
    });
    const grown = rss() - before;
    stats.maxRssGrowth = Math.max(stats.maxRssGrowth, grown);
    if (expected !== 'either') expect(r).toBe(expected);
    expect(ms).toBeLessThan(MAX_CASE_MS);
    expect(grown).toBeLessThan(MAX_RSS_GROWTH);
  });
});

test('peak RSS of the whole suite stays bounded', () => {
  const peakGrowth = process.resourceUsage().maxRSS * 1024 - stats.peak0;
  expect(peakGrowth).toBeLessThan(MAX_RSS_GROWTH);
  expect(stats.maxRssGrowth).toBeLessThan(MAX_RSS_GROWTH);
});
