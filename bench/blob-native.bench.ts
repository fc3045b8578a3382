/**
 * Native addon vs. the JavaScript baselines it replaces, in one process, on the same data.
 * Every group has a baseline (first row, marked *) and reports each task as median time,
 * MB/s and speed relative to that baseline; compressors also report output size / input size.
 *
 *   npx tsx bench/blob-native.bench.ts            # 100 MB data sets
 *   DJ_BENCH_MB=20 npx tsx bench/blob-native.bench.ts
 *   DJ_BENCH_ONLY=md5,inflate npx tsx bench/blob-native.bench.ts   # some groups
 *   DJ_NATIVE=0 npx tsx bench/blob-native.bench.ts  # the blob rows on the pure-TypeScript path
 *
 * Garbage is collected before every iteration (the runs allocate 100 MB buffers; without it,
 * when V8 happens to free earlier ones dominates the variance).
 *
 * Data: float64 uniform random in [0, 1) (what numpy.random.rand gives; zlib shrinks it by only
 * ~5%) and zeros. "Python-style" streams are node:zlib level 6, which is what DataJoint Python
 * (zlib.compress, default level) writes.
 */
import crypto from 'node:crypto';
import os from 'node:os';
import zlib from 'node:zlib';
import * as fflate from 'fflate';
import * as lz4 from 'lz4-napi';
import v8 from 'node:v8';
import vm from 'node:vm';
import { Bench } from 'tinybench';
import { native, backend, nativeLoadError } from '../src/native/index.js';
import * as hash from '../src/hash.js';
import { zlibCompress, zlibCompressIfSmaller, zlibDecompress } from '../src/blob/compress.js';

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

const MB = 1 << 20;
const SIZE = Math.round(Number(process.env.DJ_BENCH_MB ?? 100) * MB) & ~7;
const ONLY = process.env.DJ_BENCH_ONLY?.split(',');
const want = (g: string) => !ONLY || ONLY.includes(g);

// ---------------------------------------------------------------------------------------------

interface Row {
  name: string;
  fn: () => unknown;
  /** Bytes produced (for a ratio column), measured once. */
  out?: () => number;
}

const fmtMB = (n: number) => (n >= MB ? `${(n / MB).toFixed(n % MB ? 1 : 0)} MB` : n >= 1024 ? `${(n / 1024).toFixed(0)} KB` : `${n} B`);

/** Run `rows` (the first is the baseline) on `bytes` bytes of input each and print a table. */
async function group(title: string, bytes: number, rows: Row[], iterations = 3): Promise<void> {
  const bench = new Bench({ iterations, time: 0, warmupIterations: 1, warmupTime: 0 });
  for (const r of rows) bench.add(r.name, r.fn, { beforeEach: () => gc() });
  await bench.run();
  const medians = bench.tasks.map((t) => {
    const res = t.result as { state: string; latency?: { p50?: number; mean: number }; error?: unknown };
    if (res.state !== 'completed' || !res.latency) throw new Error(`${t.name}: ${String(res.error ?? res.state)}`);
    return res.latency.p50 ?? res.latency.mean;
  });
  const base = medians[0]!;
  console.log(`\n## ${title}  (input ${fmtMB(bytes)}, median of ${iterations})`);
  console.log(`| task | ms | MB/s | vs baseline | out/in |`);
  console.log(`|---|---:|---:|---:|---:|`);
  rows.forEach((r, i) => {
    const ms = medians[i]!;
    const ratio = r.out ? (r.out() / bytes).toFixed(4) : '';
    const speed = base / ms;
    console.log(
      `| ${i === 0 ? `${r.name} *` : r.name} | ${ms.toFixed(ms < 1 ? 4 : 1)} | ${((bytes / 1e6) / (ms / 1000)).toFixed(0)} | ${speed.toFixed(2)}× | ${ratio} |`,
    );
  });
}

/** Output length of a compressor run once (null counts as "not produced"). */
const lenOf = (f: () => Uint8Array | null) => () => f()?.length ?? 0;

// ---------------------------------------------------------------------------------------------

function randomFloat64(bytes: number): Buffer {
  const a = new Float64Array(bytes / 8);
  for (let i = 0; i < a.length; i++) a[i] = Math.random();
  return Buffer.from(a.buffer);
}

console.log(`# datajoint native addon benchmark`);
console.log(
  `node ${process.version}, ${os.cpus().length} × ${os.cpus()[0]?.model ?? '?'}, backend: ${backend}` +
    (native ? ` (addon v${native.version}, md5: ${native.md5Impl})` : ` (${nativeLoadError?.message})`),
);
if (!native) console.log('Native rows are skipped: build the addon with `npm run build:native`.');

const rand = randomFloat64(SIZE);
const zeros = Buffer.alloc(SIZE);
const nat = native;
const withNative = (rows: (Row | false | null)[]) => rows.filter((r): r is Row => !!r);

// --- MD5 -----------------------------------------------------------------------------------

if (want('md5')) {
  await group(
    'MD5 one-shot',
    SIZE,
    withNative([
      { name: 'node:crypto createHash', fn: () => crypto.createHash('md5').update(rand).digest() },
      { name: 'node:crypto hash()', fn: () => crypto.hash('md5', rand, 'buffer') },
      nat && { name: 'native md5', fn: () => nat.md5(rand) },
      { name: 'hash.md5 (API)', fn: () => hash.md5(rand) },
    ]),
    5,
  );

  const chunk = 64 * 1024;
  await group(
    'MD5 streaming, 64 KB updates',
    SIZE,
    withNative([
      {
        name: 'node:crypto Hash',
        fn: () => {
          const h = crypto.createHash('md5');
          for (let i = 0; i < SIZE; i += chunk) h.update(rand.subarray(i, i + chunk));
          return h.digest();
        },
      },
      nat && {
        name: 'native Md5',
        fn: () => {
          const h = new nat.Md5();
          for (let i = 0; i < SIZE; i += chunk) h.update(rand.subarray(i, i + chunk));
          return h.digest();
        },
      },
    ]),
    5,
  );

  for (const n of [64, 1024, 16 * 1024, 256 * 1024]) {
    const b = rand.subarray(0, n);
    const reps = Math.max(1, Math.floor((4 * MB) / n));
    await group(
      `MD5 of small buffers: ${reps} × ${fmtMB(n)}`,
      n * reps,
      withNative([
        { name: 'node:crypto hash()', fn: () => { for (let i = 0; i < reps; i++) crypto.hash('md5', b, 'buffer'); } },
        { name: 'node:crypto createHash', fn: () => { for (let i = 0; i < reps; i++) crypto.createHash('md5').update(b).digest(); } },
        nat && { name: 'native md5', fn: () => { for (let i = 0; i < reps; i++) nat.md5(b); } },
        { name: 'hash.md5 (API)', fn: () => { for (let i = 0; i < reps; i++) hash.md5(b); } },
      ]),
      20,
    );
  }

  const bufs = Array.from({ length: 8 }, (_, i) => rand.subarray((i * SIZE) / 8, ((i + 1) * SIZE) / 8));
  const many = 16 * MB;
  const eight = Array.from({ length: 8 }, (_, i) => (SIZE >= 8 * many ? rand.subarray(i * many, (i + 1) * many) : bufs[i]!));
  const manyBytes = eight.reduce((s, b) => s + b.length, 0);
  await group(
    `md5Many: 8 × ${fmtMB(eight[0]!.length)}`,
    manyBytes,
    withNative([
      { name: 'node:crypto, sequential', fn: () => eight.map((b) => crypto.hash('md5', b, 'buffer')) },
      nat && { name: 'native md5, sequential', fn: () => eight.map((b) => nat.md5(b)) },
      nat && { name: 'native md5Many (parallel)', fn: () => nat.md5Many(eight) },
      { name: 'hash.md5Many (API)', fn: () => hash.md5Many(eight) },
    ]),
    5,
  );
}

// --- zlib / lz4 ------------------------------------------------------------------------------

for (const [label, data] of [
  ['float64 random', rand],
  ['zeros', zeros],
] as const) {
  if (want('deflate')) {
    const slow = label === 'float64 random';
    await group(
      `deflate, ${label}`,
      SIZE,
      withNative([
        { name: 'node:zlib level 6 (= Python)', fn: () => zlib.deflateSync(data, { level: 6 }), out: lenOf(() => zlib.deflateSync(data, { level: 6 })) },
        { name: 'node:zlib level 1', fn: () => zlib.deflateSync(data, { level: 1 }), out: lenOf(() => zlib.deflateSync(data, { level: 1 })) },
        { name: 'fflate level 1', fn: () => fflate.zlibSync(data, { level: 1 }), out: lenOf(() => fflate.zlibSync(data, { level: 1 })) },
        !slow && { name: 'fflate level 6', fn: () => fflate.zlibSync(data, { level: 6 }), out: lenOf(() => fflate.zlibSync(data, { level: 6 })) },
        nat && { name: 'native level 1 (parallel)', fn: () => nat.deflate(data, 1), out: lenOf(() => nat.deflate(data, 1)) },
        nat && { name: 'native level 6 (parallel)', fn: () => nat.deflate(data, 6), out: lenOf(() => nat.deflate(data, 6)) },
        nat && { name: 'native adaptive (level 2)', fn: () => nat.deflateAdaptive(data, 2), out: lenOf(() => nat.deflateAdaptive(data, 2)) },
        { name: 'zlibCompress (API)', fn: () => zlibCompress(data), out: lenOf(() => zlibCompress(data)) },
        { name: 'zlibCompressIfSmaller (API)', fn: () => zlibCompressIfSmaller(data, SIZE - 14), out: lenOf(() => zlibCompressIfSmaller(data, SIZE - 14)) },
      ]),
      slow ? 2 : 3,
    );
  }
  if (want('inflate')) {
    const z6 = zlib.deflateSync(data, { level: 6 });
    await group(
      `inflate, ${label}, Python-style level-6 stream (${fmtMB(z6.length)})`,
      SIZE,
      withNative([
        { name: 'node:zlib inflateSync', fn: () => zlib.inflateSync(z6) },
        { name: 'fflate unzlibSync', fn: () => fflate.unzlibSync(z6, { out: new Uint8Array(SIZE) }) },
        nat && { name: 'native inflate', fn: () => nat.inflate(z6, SIZE) },
        { name: 'zlibDecompress (API)', fn: () => zlibDecompress(z6, SIZE) },
      ]),
      5,
    );
  }
  if (want('lz4')) {
    const l = lz4.compressSync(data);
    const z1 = zlib.deflateSync(data, { level: 1 });
    await group(
      `lz4-napi vs zlib, ${label} (baseline: node:zlib level 1)`,
      SIZE,
      withNative([
        { name: 'node:zlib deflate level 1', fn: () => zlib.deflateSync(data, { level: 1 }), out: () => z1.length },
        { name: 'lz4-napi compressSync', fn: () => lz4.compressSync(data), out: () => l.length },
        nat && { name: 'native adaptive deflate', fn: () => nat.deflateAdaptive(data, 2), out: lenOf(() => nat.deflateAdaptive(data, 2)) },
      ]),
      3,
    );
    await group(
      `lz4-napi vs zlib decompression, ${label} (baseline: node:zlib inflate of level 1)`,
      SIZE,
      withNative([
        { name: 'node:zlib inflateSync', fn: () => zlib.inflateSync(z1) },
        { name: 'lz4-napi uncompressSync', fn: () => lz4.uncompressSync(l) },
        nat && { name: 'native inflate', fn: () => nat.inflate(z1, SIZE) },
      ]),
      5,
    );
  }
}

// --- numeric reordering ------------------------------------------------------------------------

if (want('numeric')) {
  const { transposeInto } = await import('../src/blob/ndarray.js');
  const f64 = new Float64Array(rand.buffer, rand.byteOffset, SIZE / 8);
  const out = new Float64Array(SIZE / 8);
  const cols = 4096;
  const rows = SIZE / 8 / cols;
  await group(
    `C → F order, 2-D float64 ${rows} × ${cols}`,
    SIZE,
    withNative([
      { name: 'TS transposeInto (blob/ndarray)', fn: () => transposeInto(f64, out, [rows, cols], 'C', 1) },
      nat && { name: 'native reverseAxes', fn: () => nat.reverseAxes(f64, out, [rows, cols], 8) },
    ]),
    5,
  );
  const d3 = [rows / 8, 64, 64 * 8];
  await group(
    `C → F order, 3-D float64 ${d3.join(' × ')}`,
    SIZE,
    withNative([
      { name: 'TS transposeInto (blob/ndarray)', fn: () => transposeInto(f64, out, d3, 'C', 1) },
      nat && { name: 'native reverseAxes', fn: () => nat.reverseAxes(f64, out, d3, 8) },
    ]),
    3,
  );
  const u8 = new Uint8Array(rand.buffer, rand.byteOffset, SIZE);
  const u8out = new Uint8Array(SIZE);
  await group(
    `C → F order, 2-D uint8 ${SIZE / 8192} × 8192`,
    SIZE,
    withNative([
      { name: 'TS transposeInto (blob/ndarray)', fn: () => transposeInto(u8, u8out, [SIZE / 8192, 8192], 'C', 1) },
      nat && { name: 'native reverseAxes', fn: () => nat.reverseAxes(u8, u8out, [SIZE / 8192, 8192], 1) },
    ]),
    5,
  );
  const n = SIZE / 16;
  await group(
    `complex128 interleaved → planar (${n} elements)`,
    SIZE,
    withNative([
      {
        name: 'TS loop',
        fn: () => {
          for (let i = 0; i < n; i++) {
            out[i] = f64[2 * i]!;
            out[n + i] = f64[2 * i + 1]!;
          }
        },
      },
      nat && { name: 'native splitComplex', fn: () => nat.splitComplex(f64, out, 8) },
    ]),
    5,
  );
  await group(
    `plain copy of a typed array (what F-ordered numeric pack/unpack does)`,
    SIZE,
    [
      { name: 'TypedArray.set', fn: () => out.set(f64) },
      { name: 'Buffer.copy', fn: () => rand.copy(Buffer.from(out.buffer)) },
    ],
    5,
  );
}

// --- dj.blob end to end ------------------------------------------------------------------------

if (want('blob')) {
  const blob = await import('../src/blob/index.js');
  const arr = new Float64Array(rand.buffer, rand.byteOffset, SIZE / 8);
  const zarr = new Float64Array(SIZE / 8);
  const packedRand = blob.pack(arr, { compress: true });
  const packedZeros = blob.pack(zarr, { compress: true });
  const raw = blob.pack(arr, { compress: false });
  const header = Buffer.alloc(14);
  header.write('ZL123\0', 0, 'latin1');
  header.writeBigUInt64LE(BigInt(raw.length), 6);
  const pythonRand = Buffer.concat([header, zlib.deflateSync(raw, { level: 6 })]);
  console.log(
    `\nblob sizes: random ${fmtMB(packedRand.length)} (${packedRand.subarray(0, 5).toString('latin1') === 'ZL123' ? 'compressed' : 'stored raw'}), ` +
      `zeros ${fmtMB(packedZeros.length)}, Python-style compressed random ${fmtMB(pythonRand.length)}`,
  );
  await group(
    `dj.blob.pack(float64 array, compress) — baseline: raw pack (no compression)`,
    SIZE,
    [
      { name: 'pack random, compress: false', fn: () => blob.pack(arr, { compress: false }) },
      { name: 'pack random, compress: true', fn: () => blob.pack(arr, { compress: true }), out: () => packedRand.length },
      { name: 'pack zeros, compress: true', fn: () => blob.pack(zarr, { compress: true }), out: () => packedZeros.length },
    ],
    5,
  );
  await group(
    `dj.blob.unpack — baseline: unpack of the uncompressed blob`,
    SIZE,
    [
      { name: 'unpack raw random', fn: () => blob.unpack(raw) },
      { name: 'unpack pack(random, compress)', fn: () => blob.unpack(packedRand) },
      { name: 'unpack pack(zeros, compress)', fn: () => blob.unpack(packedZeros) },
      { name: 'unpack Python-style compressed random', fn: () => blob.unpack(pythonRand) },
    ],
    5,
  );
}
