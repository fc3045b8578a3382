/**
 * `<blob@>` through the whole library against the store alone, on a file store and on S3
 * (s3rver in a child process), in one run:
 *   - N × 1 MiB rows (default N = 1000, in inserts of 100 rows) inserted, then fetched with
 *     toArrays, against N × 1 MiB raw `store.put`/`store.get` at the same concurrency (8);
 *   - the main thread's CPU cost of `<blob@>` alone (pack + MD5, MD5 check + unpack), which
 *     bounds the codec path wherever the store is faster than that;
 *   - 8 transfers in flight against one at a time (`concurrency: 1`), on S3 on localhost (where
 *     s3rver's own CPU is the limit) and on S3 behind a proxy that adds DJ_BENCH_DELAY_MS
 *     (default 20) each way, as a store in a cloud region would;
 *   - `dj.gc` over 10,000 small objects (half of them orphaned): the dry run, then collection.
 * Ratios above 1 mean faster than the baseline. The database is the DJ_* backend (MariaDB on
 * 127.0.0.1 when nothing is set). Progress goes to stderr.
 *   npx tsx bench/codecs.bench.ts        (DJ_BENCH_N=200 for a quicker run)
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as dj from '../src/index.js';
import { pack, unpack } from '../src/blob/index.js';
import { contentHash } from '../src/stores/layout.js';
import { gc } from '../src/stores/gc.js';
import { parallelMap } from '../src/stores/parallel.js';
import { getStore } from '../src/stores/registry.js';
import { machine, run, useDefaultHost } from './common.js';

const N = Number(process.env.DJ_BENCH_N ?? 1000);
const GC_N = Number(process.env.DJ_BENCH_GC_N ?? 10_000);
const BATCH = 100;
const MiB = 1 << 20;
const base = new Float64Array(randomBytes(MiB).buffer.slice(0));
for (let i = 0; i < base.length; i++) if (!Number.isFinite(base[i])) base[i] = i; // random bits may be NaN

/** A distinct 1 MiB float64 array per row. */
function value(i: number): InstanceType<typeof dj.NDArray> {
  const data = base.slice();
  data[0] = i;
  return new dj.NDArray({ dtype: 'float64', shape: [data.length], data });
}

const seconds = (t0: bigint) => Number(process.hrtime.bigint() - t0) / 1e9;
const progress = (msg: string) => process.stderr.write(`  … ${msg}\n`);

/**
 * s3rver in a child process, plus a TCP proxy in front of it that delays every packet by
 * `delayMs` each way: a store across a network (real S3 is tens of ms away), where transfers
 * in flight overlap their latency. Both live in the child, off this process's event loop.
 */
async function startS3rver(dir: string, delayMs: number): Promise<{ port: number; slowPort: number; stop: () => void }> {
  const script = `
    const S3rver = require('s3rver');
    const net = require('node:net');
    new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: ${JSON.stringify(dir)}, configureBuckets: [{ name: 'bench' }] })
      .run().then(({ port }) => {
        const proxy = net.createServer((client) => {
          const upstream = net.connect(port, '127.0.0.1');
          const relay = (from, to) => {
            from.on('data', (d) => setTimeout(() => to.write(d), ${delayMs}));
            from.on('end', () => setTimeout(() => to.end(), ${delayMs}));
            from.on('error', () => to.destroy());
          };
          relay(client, upstream);
          relay(upstream, client);
        });
        proxy.listen(0, '127.0.0.1', () => console.log(port + ' ' + proxy.address().port));
      });`;
  const child = spawn(process.execPath, ['-e', script], { cwd: process.cwd(), stdio: ['ignore', 'pipe', 'inherit'] });
  const [port, slowPort] = await new Promise<number[]>((resolve, reject) => {
    child.stdout.once('data', (d: Buffer) => resolve(d.toString().trim().split(' ').map(Number)));
    child.once('exit', (code) => reject(new Error(`s3rver exited with ${code}`)));
  });
  return { port: port!, slowPort: slowPort!, stop: () => child.kill() };
}

/** What the main thread spends per row on `<blob@>` alone (pack with compression + MD5 on insert, MD5 + unpack on fetch). */
function cpuFloor(): { insert: number; fetch: number } {
  const rows = Math.min(N, 200);
  let t0 = process.hrtime.bigint();
  let packed = pack(value(0), { compress: true });
  for (let i = 0; i < rows; i++) contentHash((packed = pack(value(i), { compress: true })));
  const ins = seconds(t0);
  t0 = process.hrtime.bigint();
  for (let i = 0; i < rows; i++) {
    contentHash(packed);
    unpack(packed);
  }
  return { insert: (rows * MiB) / 1e6 / ins, fetch: (rows * MiB) / 1e6 / seconds(t0) };
}

/** One way of storing N × 1 MiB values; batches are prepared untimed, then written and read timed. */
interface Case {
  name: string;
  reset(): Promise<void>;
  prepare(at: number, count: number): unknown;
  write(prepared: unknown): Promise<void>;
  read(at: number, count: number): Promise<void>;
}

/** Through a `<blob@…>` table: insert, then toArrays of the rows. */
function codecCase(name: string, table: typeof dj.Manual): Case {
  return {
    name,
    reset: async () => void (await table.deleteQuick()),
    prepare: (at, count) => Array.from({ length: count }, (_, j) => ({ id: at + j, data: value(at + j) })),
    write: async (rows) => void (await table.insert(rows as object[])),
    read: async (at, count) => {
      const got = (await table.restrict(`id >= ${at} and id < ${at + count}`).toArrays('data')) as unknown[];
      if (got.length !== count) throw new Error('fetch returned the wrong number of rows');
    },
  };
}

/** The store alone: the same bytes (a packed blob) put and got, `limit` in flight. */
async function rawCase(name: string, storeName: string, limit: number): Promise<Case> {
  const store = await getStore(storeName);
  const payload = pack(value(0), { compress: true });
  const keys = (at: number, count: number) => Array.from({ length: count }, (_, j) => `raw/${at + j}`);
  return {
    name,
    reset: async () => void (await store.deletePrefix('raw')),
    prepare: keys,
    write: async (k) => void (await parallelMap(k as string[], limit, (key) => store.put(key, payload))),
    read: async (at, count) => void (await parallelMap(keys(at, count), limit, (key) => store.get(key))),
  };
}

/**
 * MB/s of each case, writing then reading n values in batches of 100, the cases taking turns
 * batch by batch: on a shared machine a busy moment then slows every case alike.
 */
async function compare(label: string, cases: Case[], n = N): Promise<Array<{ insert: number; fetch: number }>> {
  const w = cases.map(() => 0);
  const r = cases.map(() => 0);
  for (const c of cases) await c.reset();
  for (let at = 0; at < n; at += BATCH) {
    const count = Math.min(BATCH, n - at);
    for (let k = 0; k < cases.length; k++) {
      const prepared = cases[k]!.prepare(at, count);
      const t0 = process.hrtime.bigint();
      await cases[k]!.write(prepared);
      w[k] += seconds(t0);
    }
    if ((at / BATCH) % 5 === 4) progress(`${label}: wrote ${at + count} of ${n}`);
  }
  for (let at = 0; at < n; at += BATCH) {
    const count = Math.min(BATCH, n - at);
    for (let k = 0; k < cases.length; k++) {
      const t0 = process.hrtime.bigint();
      await cases[k]!.read(at, count);
      r[k] += seconds(t0);
    }
  }
  for (const c of cases) await c.reset();
  return cases.map((_, k) => ({ insert: (n * MiB) / 1e6 / w[k]!, fetch: (n * MiB) / 1e6 / r[k]! }));
}

async function gcBench(table: typeof dj.Manual, database: string): Promise<Record<string, number>> {
  await table.deleteQuick();
  await gc({ schemas: [database], dryRun: false }); // what the other cases left behind
  progress(`gc: inserting ${GC_N} small objects`);
  for (let at = 0; at < GC_N; at += 1000) {
    await table.insert(Array.from({ length: Math.min(1000, GC_N - at) }, (_, j) => ({ id: at + j, data: `object ${at + j}` })));
  }
  await table.restrict(`id % 2 = 1`).deleteQuick();
  let t0 = process.hrtime.bigint();
  const scan = await gc({ schemas: [database] });
  const scanS = seconds(t0);
  t0 = process.hrtime.bigint();
  const collected = await gc({ schemas: [database], dryRun: false });
  const collectS = seconds(t0);
  if (scan.orphaned !== GC_N / 2 || collected.deleted !== GC_N / 2) throw new Error(`gc found ${scan.orphaned}, deleted ${collected.deleted}`);
  return { objects: GC_N, 'dry run s': +scanS.toFixed(2), 'objects/s (dry run)': Math.round(GC_N / scanS), 'collect s': +collectS.toFixed(2), deleted: collected.deleted };
}

const DELAY_MS = Number(process.env.DJ_BENCH_DELAY_MS ?? 20);

run(async () => {
  useDefaultHost();
  const work = mkdtempSync(join(tmpdir(), 'djbench_codecs_'));
  mkdirSync(join(work, 'files'));
  const s3 = await startS3rver(join(work, 's3'), DELAY_MS);
  const s3store = { protocol: 's3', endpoint: `127.0.0.1:${s3.port}`, bucket: 'bench', location: 'b', access_key: 'S3RVER', secret_key: 'S3RVER', secure: false };
  const far = { ...s3store, endpoint: `127.0.0.1:${s3.slowPort}`, location: 'far' };
  dj.config.set('stores', {
    default: 'files',
    files: { protocol: 'file', location: join(work, 'files') },
    s3: s3store,
    s3serial: { ...s3store, location: 'serial', concurrency: 1 },
    far,
    farserial: { ...far, location: 'farserial', concurrency: 1 },
  });
  const schema = dj.schema(`djbench_codecs_${process.pid}`);
  const blobTable = (store: string) =>
    class extends dj.Manual {
      static definition = `id : int32\n---\ndata : <blob@${store}>`;
    };
  const FileBlobs = class FileBlobs extends blobTable('') {};
  const S3Blobs = class S3Blobs extends blobTable('s3') {};
  const S3SerialBlobs = class S3SerialBlobs extends blobTable('s3serial') {};
  const FarBlobs = class FarBlobs extends blobTable('far') {};
  const FarSerialBlobs = class FarSerialBlobs extends blobTable('farserial') {};
  const Small = class Small extends blobTable('') {};
  for (const t of [FileBlobs, S3Blobs, S3SerialBlobs, FarBlobs, FarSerialBlobs, Small]) schema.add(t);
  const table: Array<Record<string, string | number>> = [];
  const row = (c: string, r: { insert: number; fetch: number }, b?: { insert: number; fetch: number }) =>
    table.push({
      case: c,
      'insert MB/s': Math.round(r.insert),
      'fetch MB/s': Math.round(r.fetch),
      'insert ratio': b ? +(r.insert / b.insert).toFixed(2) : '—',
      'fetch ratio': b ? +(r.fetch / b.fetch).toFixed(2) : '—',
    });
  try {
    row('CPU of <blob@> alone (pack+md5 / md5+unpack), main thread', cpuFloor());
    const [fileRaw, fileCodec] = await compare('file store', [await rawCase('raw', 'files', 8), codecCase('codec', FileBlobs)]);
    row('file: raw store.put/get, 8 in flight (baseline)', fileRaw!);
    row('file: <blob@> insert/toArrays (ratio: vs baseline)', fileCodec!, fileRaw);
    const [s3Raw, s3Codec, s3Serial] = await compare('S3', [await rawCase('raw', 's3', 8), codecCase('codec', S3Blobs), codecCase('serial', S3SerialBlobs)]);
    row('s3: raw store.put/get, 8 in flight (baseline)', s3Raw!);
    row('s3: <blob@> insert/toArrays (ratio: vs baseline)', s3Codec!, s3Raw);
    row('s3: <blob@>, one at a time', s3Serial!);
    row('s3: <blob@>, 8 in flight (ratio: vs one at a time)', s3Codec!, s3Serial);
    const nFar = Math.min(N, 200);
    const [farRaw, farSerial, farCodec] = await compare(`S3 +${DELAY_MS} ms`, [await rawCase('raw', 'far', 8), codecCase('serial', FarSerialBlobs), codecCase('codec', FarBlobs)], nFar);
    row(`s3 +${DELAY_MS} ms each way: raw store.put/get, 8 in flight (baseline)`, farRaw!);
    row(`s3 +${DELAY_MS} ms each way: <blob@> (ratio: vs baseline)`, farCodec!, farRaw);
    row(`s3 +${DELAY_MS} ms each way: <blob@>, one at a time`, farSerial!);
    row(`s3 +${DELAY_MS} ms each way: 8 in flight (ratio: vs one at a time)`, farCodec!, farSerial);
    console.log(machine(`N = ${N} rows of 1 MiB (float64 arrays) per case (${nFar} across the delayed link); MB/s of payload`));
    console.table(table);
    const g = await gcBench(Small, schema.database);
    console.log('dj.gc over a file store:');
    console.table([g]);
  } finally {
    await schema.drop({ prompt: false }).catch(() => undefined);
    s3.stop();
    rmSync(work, { recursive: true, force: true });
  }
});
