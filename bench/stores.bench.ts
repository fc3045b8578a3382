/**
 * Object-store transfers: N × 1 MiB puts then gets (default N = 1000), one at a time and 8 in
 * flight, through the file store and the S3 store, each beside a baseline in the same process:
 * plain `fs.promises.writeFile/readFile` for files, bare SDK `PutObject/GetObject` for S3
 * (s3rver in a child process, so the server does not share this process's event loop).
 * The file store also runs with `fsync: false`, to show what durable publication costs.
 *   npx tsx bench/stores.bench.ts    (DJ_BENCH_N=200 for a quicker run, DJ_BENCH_REPS=3 for medians)
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Bench } from 'tinybench';
import { FileStore } from '../src/stores/file.js';
import { parallelMap } from '../src/stores/parallel.js';
import { S3Store } from '../src/stores/s3.js';
import type { ObjectStore } from '../src/stores/store.js';
import { machine } from './common.js';

const N = Number(process.env.DJ_BENCH_N ?? 1000);
const MiB = 1 << 20;
const payload = randomBytes(MiB);
const keys = Array.from({ length: N }, (_, i) => `bench/${String(i % 32).padStart(2, '0')}/obj-${i}.bin`);

interface Case {
  name: string;
  put: (key: string) => Promise<unknown>;
  get: (key: string) => Promise<unknown>;
}

/** MB/s of N puts, then N gets, at `inflight` (one timed pass each). */
async function measure(c: Case, inflight: number): Promise<{ put: number; get: number }> {
  const bench = new Bench({ iterations: 1, warmupIterations: 0, time: 0 });
  bench.add('put', async () => void (await parallelMap(keys, inflight, c.put)));
  bench.add('get', async () => void (await parallelMap(keys, inflight, c.get)));
  await bench.run();
  const mbps = (name: string) => {
    const r = bench.tasks.find((x) => x.name === name)!.result as { latency: { mean: number } };
    return (N * MiB) / 1e6 / (r.latency.mean / 1000);
  };
  return { put: mbps('put'), get: mbps('get') };
}

const REPS = Number(process.env.DJ_BENCH_REPS ?? 1);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

function storeCase(name: string, s: ObjectStore): Case {
  return { name, put: (k) => s.put(k, payload), get: (k) => s.get(k) };
}

async function startS3rver(dir: string): Promise<{ port: number; stop: () => void }> {
  const script = `
    const S3rver = require('s3rver');
    new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: ${JSON.stringify(dir)}, configureBuckets: [{ name: 'bench' }] })
      .run().then(({ port }) => console.log(port));`;
  const child = spawn(process.execPath, ['-e', script], { cwd: process.cwd(), stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout.once('data', (d: Buffer) => resolve(Number(d.toString().trim())));
    child.once('exit', (code) => reject(new Error(`s3rver exited with ${code}`)));
  });
  return { port, stop: () => child.kill() };
}

const rows: Array<Record<string, string | number>> = [];
function report(group: string, name: string, r1: { put: number; get: number }, r8: { put: number; get: number }, base?: { r1: { put: number; get: number }; r8: { put: number; get: number } }) {
  for (const op of ['put', 'get'] as const) {
    rows.push({
      case: `${group}: ${name}`,
      op,
      'MB/s, 1 in flight': Math.round(r1[op]),
      'MB/s, 8 in flight': Math.round(r8[op]),
      '8 vs 1': (r8[op] / r1[op]).toFixed(2),
      'vs baseline (1)': base ? (r1[op] / base.r1[op]).toFixed(2) : '—',
      'vs baseline (8)': base ? (r8[op] / base.r8[op]).toFixed(2) : '—',
    });
  }
}

/**
 * Every case at 1 and at 8 in flight; cases alternate within each repetition so that a busy
 * moment of the (shared) machine does not land on one case only. Medians over repetitions.
 */
async function runGroup(group: string, cases: Case[], reset: () => Promise<void>): Promise<void> {
  const results = new Map<string, { r1: { put: number[]; get: number[] }; r8: { put: number[]; get: number[] } }>();
  for (const c of cases) results.set(c.name, { r1: { put: [], get: [] }, r8: { put: [], get: [] } });
  for (const level of [1, 8] as const) {
    for (let rep = 0; rep < REPS; rep++) {
      for (const c of cases) {
        await reset();
        const r = await measure(c, level);
        const slot = results.get(c.name)![level === 1 ? 'r1' : 'r8'];
        slot.put.push(r.put);
        slot.get.push(r.get);
      }
    }
  }
  const med = (x: { put: number[]; get: number[] }) => ({ put: median(x.put), get: median(x.get) });
  const base = results.get(cases[0]!.name)!;
  const b = { r1: med(base.r1), r8: med(base.r8) };
  for (const c of cases) {
    const r = results.get(c.name)!;
    report(group, c.name, med(r.r1), med(r.r8), c === cases[0] ? undefined : b);
  }
}

const work = mkdtempSync(join(tmpdir(), 'djbench_stores_'));
try {
  // File store
  const root = join(work, 'files');
  mkdirSync(root);
  const raw: Case = {
    name: 'raw fs writeFile/readFile',
    put: async (k) => {
      const p = join(root, k);
      await writeFile(p, payload).catch(async () => {
        mkdirSync(join(p, '..'), { recursive: true });
        await writeFile(p, payload);
      });
    },
    get: (k) => readFile(join(root, k)),
  };
  const resetFiles = async () => {
    rmSync(root, { recursive: true, force: true });
    mkdirSync(root);
  };
  await runGroup('file', [
    raw,
    storeCase('FileStore (tmp + fsync + rename)', new FileStore({ name: 'bench', location: root })),
    storeCase('FileStore, fsync: false', new FileStore({ name: 'bench', location: root, fsync: false })),
  ], resetFiles);
  rmSync(root, { recursive: true, force: true });

  // S3 store on s3rver
  const s3dir = join(work, 's3rver');
  mkdirSync(s3dir);
  const server = await startS3rver(s3dir);
  const endpoint = `http://127.0.0.1:${server.port}`;
  const store = new S3Store({ name: 'bench', endpoint, bucket: 'bench', location: 'b', accessKey: 'S3RVER', secretKey: 'S3RVER' });
  const sdk = await import('@aws-sdk/client-s3');
  const client = new sdk.S3Client({
    endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED',
  });
  const rawS3: Case = {
    name: 'raw SDK PutObject/GetObject',
    put: (k) => client.send(new sdk.PutObjectCommand({ Bucket: 'bench', Key: `b/${k}`, Body: payload })),
    get: async (k) => (await client.send(new sdk.GetObjectCommand({ Bucket: 'bench', Key: `b/${k}` }))).Body!.transformToByteArray(),
  };
  try {
    await runGroup('s3', [rawS3, storeCase('S3Store', store)], async () => void (await store.deletePrefix('bench')));
  } finally {
    await store.close();
    client.destroy();
    server.stop();
  }

  console.log(machine(`N = ${N} objects of 1 MiB; "vs baseline" > 1 means faster than the baseline`));
  console.table(rows);
} finally {
  rmSync(work, { recursive: true, force: true });
}
