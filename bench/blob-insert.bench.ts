/**
 * `<blob>` inserts of 1,000 × 1 MB (issue: performance #1) on each backend, against the raw
 * driver inserting the same packed bytes over its binary path (mysql2 prepared statements,
 * pg bound parameters), in the same process. Rows go in batches of 8, as the library's
 * 4 MB-per-statement batching does.
 * Run: npx tsx bench/blob-insert.bench.ts   (DJ_BENCH_BACKENDS=mysql,postgresql)
 */
import * as dj from '../src/index.js';
import { machine, perBackend, rawDriverConfig } from './common.js';

const ROWS = Number(process.env.DJ_BENCH_ROWS ?? 1000);
const MB = 1 << 20;

interface Out {
  rawMBps: number;
  djMBps: number;
  packMBps: number;
}

async function child(backend: string): Promise<Out> {
  const schema = dj.schema(`djbench_blobins_${process.pid}`);
  class Blobs extends dj.Manual {
    static definition = `id : int32\n---\ndata : <blob>`;
  }
  class Raw extends dj.Manual {
    static definition = `id : int32\n---\ndata : bytes`;
  }
  schema.add(Blobs);
  schema.add(Raw);
  await schema.drop({ prompt: false });
  await schema.declare();
  // 1 MB of float64 per row (random, so compression cannot help).
  const arrays = Array.from({ length: 16 }, () => Float64Array.from({ length: MB / 8 }, Math.random));
  const t0 = performance.now();
  const packed = arrays.map((a) => dj.blob.pack(a, { compress: false }));
  const packMBps = (16 * MB) / MB / ((performance.now() - t0) / 1000);
  const total = ROWS * packed[0]!.length;
  const cfg = await rawDriverConfig(backend);
  let rawInsert: (ids: number[]) => Promise<void>;
  let close: () => Promise<void>;
  const table = Raw.fullTableName;
  if (backend === 'mysql') {
    const mysql = (await import('mysql2/promise')).default;
    const c = await mysql.createConnection({ host: cfg.host, port: cfg.port, user: cfg.user, password: cfg.password });
    rawInsert = async (ids) => void (await c.execute(`INSERT INTO ${table} (id, data) VALUES ${ids.map(() => '(?,?)').join(',')}`, ids.flatMap((id) => [id, packed[id % 16]!])));
    close = () => c.end();
  } else {
    const pg = (await import('pg')).default;
    const c = new pg.Client(cfg);
    await c.connect();
    rawInsert = async (ids) => void (await c.query(`INSERT INTO ${table} (id, data) VALUES ${ids.map((_, i) => `($${2 * i + 1},$${2 * i + 2})`).join(',')}`, ids.flatMap((id) => [id, packed[id % 16]!])));
    close = () => c.end();
  }
  const batches = (n: number) => Array.from({ length: Math.ceil(n / 8) }, (_, b) => Array.from({ length: Math.min(8, n - 8 * b) }, (_, i) => 8 * b + i));
  const timeIt = async (fn: () => Promise<void>) => {
    const s = performance.now();
    await fn();
    return (performance.now() - s) / 1000;
  };
  const best = { raw: Infinity, dj: Infinity };
  for (let round = 0; round < 3; round++) {
    await Raw.deleteQuick();
    best.raw = Math.min(best.raw, await timeIt(async () => {
      for (const ids of batches(ROWS)) await rawInsert(ids);
    }));
    await Blobs.deleteQuick();
    best.dj = Math.min(best.dj, await timeIt(async () => {
      for (const ids of batches(ROWS)) await Blobs.insert(ids.map((id) => ({ id, data: arrays[id % 16] })));
    }));
    process.stderr.write(`  [${backend}] round ${round + 1}: raw ${(total / MB / best.raw).toFixed(0)} MB/s, dj ${(total / MB / best.dj).toFixed(0)} MB/s\n`);
  }
  await close();
  await schema.drop({ prompt: false });
  return { rawMBps: total / MB / best.raw, djMBps: total / MB / best.dj, packMBps };
}

const results = await perBackend(import.meta.url, child, 'mysql,postgresql');
if (results) {
  console.log(machine(`${ROWS} rows × 1 MB <blob> (float64 arrays, uncompressible), best of 3`));
  console.table(Object.entries(results).map(([b, r]) => ({ backend: b, 'dj insert MB/s': r.djMBps.toFixed(0), 'raw driver MB/s': r.rawMBps.toFixed(0), 'vs raw': (r.djMBps / r.rawMBps).toFixed(2), 'pack MB/s': r.packMBps.toFixed(0) })));
  console.log('target: ≥ 0.8× the raw driver (DataJoint Python 2.3 inserts 1 MB blobs at ~9 MB/s here)');
}
