/**
 * Insert throughput (issue: relational core). Same process, same server:
 *   - dj insert of 100,000 rows (int32, float64, varchar(32)) in one call
 *   - dj insert1 loop of 2,000 rows
 *   - baselines: raw mysql2 multi-row INSERT of the same 100,000 rows (batches of 10,000), and a
 *     raw mysql2 single-row INSERT loop of 2,000 rows (each autocommitted, like insert1)
 * Run: npx tsx bench/insert.bench.ts   (DJ_HOST etc. as for the tests)
 */
import { Bench } from 'tinybench';
import * as dj from '../src/index.js';
import { useDefaultHost, rawConnection, machine, run } from './common.js';

useDefaultHost();
const schema = dj.schema(`djbench_insert_${process.pid}`);
class Row3 extends dj.Manual {
  static definition = `id : int32\n---\nx : float64\nlabel : varchar(32)`;
}
schema.add(Row3);

const N = 100_000;
const LOOP = 2_000;
const rows = Array.from({ length: N }, (_, i) => ({ id: i, x: Math.random(), label: `label-${i.toString(36)}` }));

async function main() {
  await schema.drop({ prompt: false });
  await Row3.declare();
  const raw = await rawConnection();
  const table = Row3.fullTableName;

  const bench = new Bench({ iterations: 5, warmupIterations: 1, time: 0 });
  bench
    .add('raw mysql2 multi-row INSERT, 100k rows', async () => {
      for (let i = 0; i < N; i += 10_000) {
        await raw.query(`INSERT INTO ${table} (id,x,label) VALUES ?`, [rows.slice(i, i + 10_000).map((r) => [r.id, r.x, r.label])]);
      }
    }, { beforeEach: async () => void (await raw.query(`DELETE FROM ${table}`)) })
    .add('dj insert(), 100k rows in one call', async () => {
      await Row3.insert(rows);
    }, { beforeEach: async () => void (await raw.query(`DELETE FROM ${table}`)) })
    .add('raw mysql2 single-row INSERT loop, 2,000 rows', async () => {
      for (let i = 0; i < LOOP; i++) await raw.query(`INSERT INTO ${table} (id,x,label) VALUES (?,?,?)`, [rows[i]!.id, rows[i]!.x, rows[i]!.label]);
    }, { beforeEach: async () => void (await raw.query(`DELETE FROM ${table}`)) })
    .add('dj insert1() loop, 2,000 rows', async () => {
      for (let i = 0; i < LOOP; i++) await Row3.insert1(rows[i]!);
    }, { beforeEach: async () => void (await raw.query(`DELETE FROM ${table}`)) });
  await bench.run();

  const rate = (name: string, n: number) => {
    const t = bench.tasks.find((x) => x.name === name)!;
    const ms = (t.result as { latency?: { mean: number } }).latency?.mean ?? NaN;
    return { ms, rowsPerSec: n / (ms / 1000) };
  };
  const base = rate('raw mysql2 multi-row INSERT, 100k rows', N);
  const one = rate('dj insert(), 100k rows in one call', N);
  const loop = rate('dj insert1() loop, 2,000 rows', LOOP);
  const rawLoop = rate('raw mysql2 single-row INSERT loop, 2,000 rows', LOOP);
  console.log(machine());
  console.table([
    { case: 'raw mysql2 (baseline)', 'rows/s': Math.round(base.rowsPerSec), 'mean ms': base.ms.toFixed(1), 'vs baseline': '1.00' },
    { case: 'dj insert 100k', 'rows/s': Math.round(one.rowsPerSec), 'mean ms': one.ms.toFixed(1), 'vs baseline': (one.rowsPerSec / base.rowsPerSec).toFixed(2) },
    { case: 'raw mysql2 single-row loop 2k (baseline)', 'rows/s': Math.round(rawLoop.rowsPerSec), 'mean ms': rawLoop.ms.toFixed(1), 'vs baseline': '1.00' },
    { case: 'dj insert1 loop 2k', 'rows/s': Math.round(loop.rowsPerSec), 'mean ms': loop.ms.toFixed(1), 'vs baseline': (loop.rowsPerSec / rawLoop.rowsPerSec).toFixed(2) },
  ]);
  await raw.end();
  await schema.drop({ prompt: false });
}
run(main);
