/**
 * MD5: the native addon and the public API (src/hash.ts) against node:crypto (OpenSSL), in one
 * process, as ratios to node:crypto (> 1 = faster). Cases:
 *  - one buffer of 16 B … 100 MB (target: the API ≥ 1.0× node:crypto at 100 MB);
 *  - 10,000 × 4 KB: node:crypto one by one (baseline) vs native one by one, native md5Many
 *    (parallel), and the API (md5 in a loop, md5Many);
 *  - streaming in 64 KB updates; strings.
 *
 *   npm run bench -- md5            (DJ_BENCH_MB=20 for a smaller "large" case)
 *   DJ_NATIVE=0 npm run bench -- md5   (the API on its node:crypto path)
 */
import crypto from 'node:crypto';
import os from 'node:os';
import { Bench } from 'tinybench';
import * as hash from '../src/hash.js';
import { backend, native, nativeLoadError } from '../src/native/index.js';

const MB = 1 << 20;
const LARGE = Math.round(Number(process.env.DJ_BENCH_MB ?? 100) * MB);

interface Row {
  name: string;
  fn: () => unknown;
}

function median(t: Bench['tasks'][number]): number {
  const r = t.result as { state: string; latency?: { p50?: number; mean: number }; error?: unknown };
  if (r.state !== 'completed' || !r.latency) throw new Error(`${t.name}: ${String(r.error ?? r.state)}`);
  return r.latency.p50 ?? r.latency.mean;
}

/** Run `rows` (the first is the baseline) and print ms, MB/s and the ratio to the baseline. */
async function group(title: string, bytes: number, rows: Row[], time = 400): Promise<number[]> {
  const bench = new Bench({ time, warmupTime: 100, iterations: 5 });
  for (const r of rows) bench.add(r.name, r.fn);
  await bench.run();
  const ms = bench.tasks.map(median);
  console.log(`\n## ${title}`);
  console.log('| task | time | MB/s | vs node:crypto |');
  console.log('|---|---:|---:|---:|');
  rows.forEach((r, i) => {
    const t = ms[i]!;
    const time = t >= 1 ? `${t.toFixed(1)} ms` : `${(t * 1000).toFixed(2)} µs`;
    console.log(`| ${i === 0 ? `${r.name} *` : r.name} | ${time} | ${(bytes / 1e6 / (t / 1000)).toFixed(0)} | ${(ms[0]! / t).toFixed(2)}× |`);
  });
  return ms.map((t) => ms[0]! / t);
}

console.log('# MD5 benchmark');
console.log(
  `node ${process.version}, ${os.cpus().length} × ${os.cpus()[0]?.model ?? '?'}, API backend: ${backend}` +
    (native ? ` (addon v${native.version}, md5: ${native.md5Impl})` : ` (${nativeLoadError?.message})`),
);

const data = crypto.randomBytes(Math.max(LARGE, 40 * MB));
const nat = native;
const rows = (r: Array<Row | false | null>): Row[] => r.filter((x): x is Row => !!x);

// --- one buffer, across sizes --------------------------------------------------------------

const summary: string[] = [];
for (const n of [16, 256, 4096, 64 * 1024, MB, 16 * MB, LARGE]) {
  const b = data.subarray(0, n);
  // Small inputs are timed in batches so that the timer's resolution does not matter.
  const reps = Math.max(1, Math.floor(MB / Math.max(n, 1024)));
  const loop = (f: (x: Buffer) => unknown) => () => {
    for (let i = 0; i < reps; i++) f(b);
  };
  const label = n >= MB ? `${n / MB} MB` : n >= 1024 ? `${n / 1024} KB` : `${n} B`;
  const ratios = await group(
    `one buffer of ${label}${reps > 1 ? ` (× ${reps} per sample)` : ''}`,
    n * reps,
    rows([
      { name: 'node:crypto hash()', fn: loop((x) => crypto.hash('md5', x, 'buffer')) },
      { name: 'node:crypto createHash', fn: loop((x) => crypto.createHash('md5').update(x).digest()) },
      nat && { name: 'native md5', fn: loop((x) => nat.md5(x)) },
      { name: 'hash.md5 (API)', fn: loop((x) => hash.md5(x)) },
    ]),
    n >= 16 * MB ? 1500 : 400,
  );
  summary.push(`${label}: API ${ratios[ratios.length - 1]!.toFixed(2)}×`);
}

// --- many small buffers ----------------------------------------------------------------------

const COUNT = 10_000;
const SMALL = 4096;
const smalls = Array.from({ length: COUNT }, (_, i) => data.subarray(i * SMALL, (i + 1) * SMALL));
const manyRatios = await group(
  `${COUNT} × 4 KB`,
  COUNT * SMALL,
  rows([
    { name: 'node:crypto hash(), one by one', fn: () => smalls.map((b) => crypto.hash('md5', b, 'buffer')) },
    nat && { name: 'native md5, one by one', fn: () => smalls.map((b) => nat.md5(b)) },
    nat && { name: 'native md5Many (parallel)', fn: () => nat.md5Many(smalls) },
    { name: 'hash.md5 (API), one by one', fn: () => smalls.map((b) => hash.md5(b)) },
    { name: 'hash.md5Many (API)', fn: () => hash.md5Many(smalls) },
  ]),
  1000,
);
summary.push(`${COUNT} × 4 KB: API one by one ${manyRatios[manyRatios.length - 2]!.toFixed(2)}×, API md5Many ${manyRatios[manyRatios.length - 1]!.toFixed(2)}×`);

const eight = Array.from({ length: 8 }, (_, i) => data.subarray(i * 4 * MB, (i + 1) * 4 * MB));
const bigRatios = await group(
  '8 × 4 MB',
  32 * MB,
  rows([
    { name: 'node:crypto hash(), one by one', fn: () => eight.map((b) => crypto.hash('md5', b, 'buffer')) },
    nat && { name: 'native md5Many (parallel)', fn: () => nat.md5Many(eight) },
    { name: 'hash.md5Many (API)', fn: () => hash.md5Many(eight) },
  ]),
  1000,
);
summary.push(`8 × 4 MB: API md5Many ${bigRatios[bigRatios.length - 1]!.toFixed(2)}×`);

// --- streaming and strings -----------------------------------------------------------------------

const CHUNK = 64 * 1024;
const streamed = data.subarray(0, 32 * MB);
const feed = (h: { update(b: Buffer): unknown }) => {
  for (let i = 0; i < streamed.length; i += CHUNK) h.update(streamed.subarray(i, i + CHUNK));
};
await group(
  'streaming, 32 MB in 64 KB updates',
  streamed.length,
  rows([
    { name: 'node:crypto createHash', fn: () => { const h = crypto.createHash('md5'); feed(h); return h.digest(); } },
    nat && { name: 'native Md5', fn: () => { const h = new nat.Md5(); feed(h); return h.digest(); } },
    { name: 'hash.createMd5 (API)', fn: () => { const h = hash.createMd5(); feed(h); return h.digest(); } },
  ]),
);

for (const len of [32, 4096]) {
  const s = 'é'.repeat(len / 2);
  const reps = Math.floor(MB / len);
  await group(
    `string of ${len} UTF-8 bytes (× ${reps})`,
    len * reps,
    [
      { name: 'node:crypto hash(string)', fn: () => { for (let i = 0; i < reps; i++) crypto.hash('md5', s, 'buffer'); } },
      { name: 'hash.md5 (API)', fn: () => { for (let i = 0; i < reps; i++) hash.md5(s); } },
    ],
  );
}

console.log(`\nAPI vs node:crypto: ${summary.join('; ')}`);
