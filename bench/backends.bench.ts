/**
 * The same work on every backend, each against its own raw driver in the same process
 * (issue: backends). One child process per backend (its DJ_* environment selects it):
 *   - one insert() of 100,000 rows (int32, float64, varchar(32)) vs the raw driver's multi-row
 *     INSERT of the same rows (batches of 10,000; bound parameters on PostgreSQL)
 *   - toDicts() and toArrays() of 100,000 rows vs the raw driver's SELECT (row objects)
 *   - populate of a trivial make (fetch1 + insert1) with processes 1 and 2, with and without
 *     reserveJobs, 2,000 keys
 * Run: npx tsx bench/backends.bench.ts   (DJ_BENCH_BACKENDS=mysql,postgresql,embedded;
 * servers as for the tests: MariaDB 127.0.0.1:3306 root, PostgreSQL 127.0.0.1:5432 postgres)
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Bench } from 'tinybench';
import { machine } from './common.js';

const BACKEND_ENV: Record<string, Record<string, string>> = {
  mysql: { DJ_BACKEND: 'mysql', DJ_HOST: '127.0.0.1', DJ_PORT: '3306', DJ_USER: 'root', DJ_PASS: '' },
  postgresql: { DJ_BACKEND: 'postgresql', DJ_HOST: '127.0.0.1', DJ_PORT: '5432', DJ_USER: 'postgres', DJ_PASS: '' },
  embedded: { DJ_BACKEND: 'embedded' },
};

const N = 100_000;
const KEYS = 2_000;

type Result = Record<string, number>;

/** Raw baselines per driver: insert the rows, select them as objects. */
interface Raw {
  insert(table: string, rows: Array<[number, number, string]>): Promise<void>;
  select(sql: string): Promise<number>;
  close(): Promise<void>;
}

async function rawDriver(backend: string): Promise<Raw> {
  const dj = await import('../src/index.js');
  if (backend === 'mysql') {
    const mysql = (await import('mysql2/promise')).default;
    const { host, port, user } = dj.conn().options;
    const c = await mysql.createConnection({ host, port, user, password: '', supportBigNumbers: true });
    return {
      insert: async (table, rows) => {
        for (let i = 0; i < rows.length; i += 10_000) await c.query(`INSERT INTO ${table} (id,x,label) VALUES ?`, [rows.slice(i, i + 10_000)]);
      },
      select: async (sql) => ((await c.query(sql))[0] as unknown[]).length,
      close: () => c.end(),
    };
  }
  const pg = (await import('pg')).default;
  const info = backend === 'embedded' ? await dj.embedded.start() : { ...dj.conn().options, password: '', database: 'postgres' };
  const c = new pg.Client({ host: info.host, port: info.port, user: info.user, password: info.password, database: info.database });
  await c.connect();
  return {
    insert: async (table, rows) => {
      for (let i = 0; i < rows.length; i += 10_000) {
        const batch = rows.slice(i, i + 10_000);
        const tuples = batch.map((_, j) => `($${3 * j + 1},$${3 * j + 2},$${3 * j + 3})`).join(',');
        await c.query(`INSERT INTO ${table} (id,x,label) VALUES ${tuples}`, batch.flat());
      }
    },
    select: async (sql) => (await c.query(sql)).rows.length,
    close: () => c.end(),
  };
}

async function child(backend: string): Promise<void> {
  process.env.DJ_BENCH_DB = `djbench_backends_${process.pid}`;
  const dj = await import('../src/index.js');
  const { schema, Src, Trivial } = await import('./populate-pipeline.js');
  class Row3 extends dj.Manual {
    static definition = `id : int32\n---\nx : float64\nlabel : varchar(32)`;
  }
  schema.add(Row3);
  await schema.drop({ prompt: false });
  await Row3.declare();
  const raw = await rawDriver(backend);
  const table = Row3.fullTableName;
  const rows = Array.from({ length: N }, (_, i) => ({ id: i, x: Math.random(), label: `label-${i.toString(36)}` }));
  const tuples = rows.map((r) => [r.id, r.x, r.label] as [number, number, string]);
  const clear = async () => void (await Row3.deleteQuick());
  const out: Result = {};
  const mean = (b: Bench, name: string) => (b.tasks.find((t) => t.name === name)!.result as { latency: { mean: number } }).latency.mean;

  const ins = new Bench({ iterations: 5, warmupIterations: 1, time: 0, throws: true });
  ins.add('raw', async () => void (await raw.insert(table, tuples)), { beforeEach: clear });
  ins.add('dj', async () => void (await Row3.insert(rows)), { beforeEach: clear });
  await ins.run();
  out.insertRaw = N / (mean(ins, 'raw') / 1000);
  out.insertDj = N / (mean(ins, 'dj') / 1000);
  process.stderr.write(`  [${backend}] insert done\n`);

  const sql = `SELECT id, x, label FROM ${table}`;
  const fetch = new Bench({ iterations: 10, warmupIterations: 2, time: 0, throws: true });
  fetch.add('raw', async () => void (await raw.select(sql)));
  fetch.add('toDicts', async () => void (await Row3.toDicts()));
  fetch.add('toArrays', async () => void (await Row3.toArrays()));
  await fetch.run();
  out.fetchRaw = N / (mean(fetch, 'raw') / 1000);
  out.toDicts = N / (mean(fetch, 'toDicts') / 1000);
  out.toArrays = N / (mean(fetch, 'toArrays') / 1000);
  process.stderr.write(`  [${backend}] fetch done\n`);

  await Src.insert(Array.from({ length: KEYS }, (_, i) => ({ src_id: i, x: i })));
  for (const reserveJobs of [false, true])
    for (const processes of [1, 2]) {
      await Trivial.deleteQuick();
      await Trivial.jobs.table().deleteQuick().catch(() => 0);
      const t0 = performance.now();
      await Trivial.populate({ processes, reserveJobs });
      const s = (performance.now() - t0) / 1000;
      if ((await Trivial.count()) !== KEYS) throw new Error('populate missed keys');
      out[`populate p${processes}${reserveJobs ? ' reserve' : ''}`] = KEYS / s;
      process.stderr.write(`  [${backend}] populate processes ${processes}${reserveJobs ? ', reserveJobs' : ''} done\n`);
    }
  await raw.close();
  await schema.drop({ prompt: false });
  await dj.closeAll();
  console.log(JSON.stringify(out));
}

async function main(): Promise<void> {
  const backends = (process.env.DJ_BENCH_BACKENDS ?? 'mysql,postgresql,embedded').split(',');
  const results: Record<string, Result> = {};
  for (const b of backends) {
    process.stderr.write(`${b}…\n`);
    const r = spawnSync(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--child', b], {
      env: { ...process.env, ...BACKEND_ENV[b] },
      stdio: ['ignore', 'pipe', 'inherit'],
      encoding: 'utf8',
    });
    if (r.status !== 0) throw new Error(`${b} failed:\n${r.stdout}`);
    results[b] = JSON.parse(r.stdout.trim().split('\n').pop()!);
  }
  console.log(machine(`${N} rows of (int32, float64, varchar(32)); populate of ${KEYS} keys`));
  const rows = Object.entries(results).flatMap(([b, r]) => [
    { backend: b, case: 'insert 100k', 'rows/s': Math.round(r.insertDj!), 'raw driver': Math.round(r.insertRaw!), 'vs raw': (r.insertDj! / r.insertRaw!).toFixed(2) },
    { backend: b, case: 'toDicts 100k', 'rows/s': Math.round(r.toDicts!), 'raw driver': Math.round(r.fetchRaw!), 'vs raw': (r.toDicts! / r.fetchRaw!).toFixed(2) },
    { backend: b, case: 'toArrays 100k', 'rows/s': Math.round(r.toArrays!), 'raw driver': Math.round(r.fetchRaw!), 'vs raw': (r.toArrays! / r.fetchRaw!).toFixed(2) },
    ...Object.keys(r)
      .filter((k) => k.startsWith('populate'))
      .map((k) => ({ backend: b, case: `${k.replace('populate p', 'populate, processes ')}`, 'rows/s': Math.round(r[k]!), 'raw driver': '', 'vs raw': '' })),
  ]);
  console.table(rows);
  if (results.embedded && results.postgresql) {
    const e = results.embedded;
    const p = results.postgresql;
    console.log(
      `embedded vs PostgreSQL server (time ratio; ≤ 1.5 targeted): insert ${(p.insertDj! / e.insertDj!).toFixed(2)}, toDicts ${(p.toDicts! / e.toDicts!).toFixed(2)}, populate p1 ${(p['populate p1']! / e['populate p1']!).toFixed(2)}`,
    );
  }
  console.log('targets: insert and fetch ≥ 0.7× the raw driver; populate on PostgreSQL ≥ 1,500 keys/s with processes 1');
}

if (process.argv[2] === '--child') await child(process.argv[3]!);
else await main();
