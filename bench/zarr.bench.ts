/**
 * A 1 GiB Zarr v3 array (float32, 16 MiB chunks) written through `stagedInsert1` against
 * zarrita writing the same array, the same way, to the same store directly (a plain zarrita
 * store over the same ObjectStore); each case in its own process, so its peak RSS is its own.
 * Then 10 chunks read lazily through `ObjectRef.zarr()` (counting the bytes it reads) against
 * zarrita reading them through a plain read-only store. Writes go in slabs of two chunks (what a make() computing a large
 * array piece by piece does), so memory stays bounded whatever the array's size.
 *   npx tsx bench/zarr.bench.ts        (DJ_BENCH_ZARR_MB=256 for a smaller array, DJ_BENCH_REPS=1,
 *                                       DJ_BENCH_ZARR_CODEC=gzip to compress chunks)
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as zarr from 'zarrita';
import * as dj from '../src/index.js';
import { getStore } from '../src/stores/registry.js';
import type { ObjectStore } from '../src/stores/store.js';
import { registerZarrCodecs } from '../src/objects/zarr-codecs.js';
import { machine, useDefaultHost } from './common.js';

const MB = Number(process.env.DJ_BENCH_ZARR_MB ?? 1024);
const COLS = 262_144; // one row: 1 MiB of float32
const CHUNK_ROWS = 16; // 16 MiB chunks
const ROWS = Math.max(CHUNK_ROWS, Math.round(MB / CHUNK_ROWS) * CHUNK_ROWS);
const SLAB = 2 * CHUNK_ROWS;
const REPS = Number(process.env.DJ_BENCH_REPS ?? 3);
const CODEC = process.env.DJ_BENCH_ZARR_CODEC === 'gzip' ? [{ name: 'bytes', configuration: { endian: 'little' } }, { name: 'gzip', configuration: { level: 1 } }] : undefined;

const seconds = (t0: bigint) => Number(process.hrtime.bigint() - t0) / 1e9;
const progress = (msg: string) => process.stderr.write(`  … ${msg}\n`);

/** A plain zarrita store over a folder of an ObjectStore: the "zarrita alone" baseline. */
function plainStore(store: ObjectStore, root: string) {
  const p = (key: string) => `${root}${key}`;
  return {
    async get(key: `/${string}`) {
      return store.get(p(key)).then((b) => new Uint8Array(b.buffer, b.byteOffset, b.byteLength), () => undefined);
    },
    async set(key: `/${string}`, value: Uint8Array) {
      await store.put(p(key), value);
    },
  };
}

/** Write the array slab by slab into `location` (a zarrita store). */
async function writeArray(location: zarr.Mutable, label: string): Promise<void> {
  const arr = await zarr.create(location, { shape: [ROWS, COLS], chunkShape: [CHUNK_ROWS, COLS], dtype: 'float32', codecs: CODEC as never });
  const slab = new Float32Array(SLAB * COLS);
  for (let r = 0; r < ROWS; r += SLAB) {
    for (let i = 0; i < slab.length; i += 4096) slab.fill(r + i / 4096, i, i + 4096); // compressible, distinct per slab
    await zarr.set(arr, [zarr.slice(r, r + SLAB), null], { data: slab, shape: [SLAB, COLS], stride: [COLS, 1] });
    if ((r / SLAB) % 8 === 7) progress(`${label}: ${((r + SLAB) * COLS * 4) >> 20} of ${MB} MiB`);
  }
}

/** Open the array, then read chunks 0, k, 2k, … (10 of them); returns seconds. */
async function readChunks(open: () => Promise<unknown>): Promise<number> {
  const t0 = process.hrtime.bigint();
  const arr = (await open()) as zarr.Array<'float32', zarr.Readable>;
  const step = Math.max(1, Math.floor(ROWS / CHUNK_ROWS / 10));
  for (let c = 0; c < 10; c++) {
    const row = ((c * step) % (ROWS / CHUNK_ROWS)) * CHUNK_ROWS;
    const got = await zarr.get(arr, [zarr.slice(row, row + CHUNK_ROWS), null]);
    if (got.data.length !== CHUNK_ROWS * COLS) throw new Error('short read');
  }
  return seconds(t0);
}

/** Count what is read from `store` (to show that a lazy read fetches only the chunks it needs). */
function countReads(store: ObjectStore): { bytes: number } {
  const counter = { bytes: 0 };
  const get = store.get.bind(store);
  store.get = async (path: string) => {
    const b = await get(path);
    counter.bytes += b.length;
    return b;
  };
  return counter;
}

/** One case, in a child process: prints one JSON line. */
async function child(kind: 'staged' | 'zarrita', dir: string): Promise<void> {
  useDefaultHost();
  dj.config.set('stores', { default: 'main', main: { protocol: 'file', location: dir } });
  await registerZarrCodecs();
  const store = await getStore('main');
  const out: Record<string, number> = {};
  if (kind === 'staged') {
    const schema = dj.schema(`djbench_zarr_${process.pid}`);
    class Movie extends dj.Manual {
      static definition = 'movie_id : int32\n---\nframes : <object@>';
    }
    schema.add(Movie);
    await Movie.declare();
    try {
      const t0 = process.hrtime.bigint();
      await Movie.stagedInsert1(async (staged) => {
        staged.rec.movie_id = 1;
        await writeArray(staged.store('frames', '.zarr') as zarr.Mutable, 'stagedInsert1');
      });
      out.write = seconds(t0);
      const ref = (await Movie.fetch1('frames')) as InstanceType<typeof dj.ObjectRef>;
      const counter = countReads(store);
      out.read = await readChunks(() => ref.zarr({ kind: 'array' }));
      out.readMB = counter.bytes / 1e6;
    } finally {
      await schema.drop({ prompt: false }).catch(() => undefined);
      await dj.closeAll();
      await store.deletePrefix('_schema');
    }
  } else {
    const t0 = process.hrtime.bigint();
    await writeArray(plainStore(store, 'plain/frames.zarr') as zarr.Mutable, 'zarrita alone');
    out.write = seconds(t0);
    out.read = await readChunks(() => zarr.open(plainStore(store, 'plain/frames.zarr') as zarr.Readable, { kind: 'array' }));
    await store.deletePrefix('plain');
  }
  out.maxRssMB = process.resourceUsage().maxRSS / 1024;
  console.log(JSON.stringify(out));
}

function runCase(kind: string, dir: string): Record<string, number> {
  const r = spawnSync(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--case', kind, dir], { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${kind} case failed (${r.status})`);
  const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as Record<string, number>;
  progress(`${kind}: ${JSON.stringify(out)}`);
  return out;
}

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'djbench_zarr_'));
  mkdirSync(join(work, 'store'));
  try {
    const size = (ROWS * COLS * 4) / 1e6;
    // The cases take turns, so that disk write-back or a busy neighbour hits both alike; medians.
    const runs: Record<string, Array<Record<string, number>>> = { zarrita: [], staged: [] };
    for (let rep = 0; rep < REPS; rep++) {
      for (const kind of rep % 2 ? ['staged', 'zarrita'] : ['zarrita', 'staged']) runs[kind]!.push(runCase(kind, join(work, 'store')));
    }
    const med = (rs: Array<Record<string, number>>) =>
      Object.fromEntries(Object.keys(rs[0]!).map((k) => [k, [...rs.map((r) => r[k]!)].sort((a, b) => a - b)[Math.floor(rs.length / 2)]!]));
    const base = med(runs.zarrita!);
    const staged = med(runs.staged!);
    base.maxRssMB = Math.max(...runs.zarrita!.map((r) => r.maxRssMB!));
    staged.maxRssMB = Math.max(...runs.staged!.map((r) => r.maxRssMB!));
    console.log(machine(`${(size / 1e3).toFixed(2)} GB float32 array, 16 MiB chunks${CODEC ? ', gzip level 1' : ', uncompressed'}, file store (fsync on); medians of ${REPS} runs each, peak RSS the largest`));
    console.table([
      { case: 'zarrita alone, plain store (baseline)', 'write s': +base.write!.toFixed(2), 'MB/s': Math.round(size / base.write!), ratio: '—', 'peak RSS MB': Math.round(base.maxRssMB!) },
      { case: 'stagedInsert1 (write, manifest, insert)', 'write s': +staged.write!.toFixed(2), 'MB/s': Math.round(size / staged.write!), ratio: +(base.write! / staged.write!).toFixed(2), 'peak RSS MB': Math.round(staged.maxRssMB!) },
    ]);
    console.table([
      { case: 'zarrita, plain read store: open + 10 chunks (baseline)', ms: Math.round(base.read! * 1000), 'MB read': '—', ratio: '—' },
      { case: 'ObjectRef.zarr(): open + 10 chunks', ms: Math.round(staged.read! * 1000), 'MB read': `${Math.round(staged.readMB!)} of ${Math.round(size)}`, ratio: +(base.read! / staged.read!).toFixed(2) },
    ]);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

const at = process.argv.indexOf('--case');
if (at > 0) child(process.argv[at + 1] as 'staged' | 'zarrita', process.argv[at + 2]!).catch((e) => (console.error(e), process.exit(1)));
else main().catch((e) => (console.error(e), process.exit(1)));
