/**
 * populate() throughput (issue: populate and the worker pool). Same process, same server.
 *   - trivial make (fetch1 + insert1): keys/s with processes 1 and 2, with and without reserveJobs
 *   - CPU-bound make (~50 ms of work per key, 200 keys): speedup of processes 2 over 1
 *   - framework overhead per key: populate time minus the time of the same work done in a
 *     plain loop (fetch1 + insert1 in a transaction), divided by the number of keys
 * Run: npx tsx bench/populate.bench.ts
 */
import * as dj from '../src/index.js';
import { machine, run } from './common.js';

process.env.DJ_BENCH_DB ??= `djbench_populate_${process.pid}`;
const { schema, Src, Trivial, Busy, BUSY_MS } = await import('./populate-pipeline.js');

const TRIVIAL_KEYS = 2000;
const BUSY_KEYS = 200;

async function time(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return (performance.now() - t0) / 1000;
}

async function main() {
  await schema.drop({ prompt: false });
  await Src.insert(Array.from({ length: TRIVIAL_KEYS }, (_, i) => ({ src_id: i, x: i })));
  const rows: Array<Record<string, string | number>> = [];
  // Steady state as users see it: the jobs table stays; its rows and the results go.
  const clear = async () => {
    await Trivial.deleteQuick();
    await Trivial.jobs.table().deleteQuick().catch(() => 0);
  };

  // Baseline: the same work without populate (a loop of transactions with fetch1 + insert1).
  await clear();
  const keys = await Src.keys();
  const conn = dj.conn();
  const base = await time(async () => {
    for (const key of keys)
      await conn.transaction(async () => {
        const x = (await Src.restrict(key).fetch1('x')) as number;
        await Trivial.insert1({ ...key, y: x * 2 }, { allowDirectInsert: true });
      });
  });
  rows.push({ case: 'baseline loop (fetch1+insert1 per transaction)', processes: 1, 'keys/s': Math.round(TRIVIAL_KEYS / base), 'vs baseline': '1.00' });

  for (const reserveJobs of [false, true]) {
    for (const processes of [1, 2]) {
      await clear();
      const s = await time(() => Trivial.populate({ processes, reserveJobs }));
      if ((await Trivial.count()) !== TRIVIAL_KEYS) throw new Error('populate missed keys');
      rows.push({ case: `trivial make${reserveJobs ? ', reserveJobs' : ''}`, processes, 'keys/s': Math.round(TRIVIAL_KEYS / s), 'vs baseline': (base / s).toFixed(2) });
    }
  }
  // The framework's own cost: make does the same as the baseline loop body.
  await clear();
  const pop1 = await time(() => Trivial.populate());
  const overheadMs = ((pop1 - base) / TRIVIAL_KEYS) * 1000;

  const busyKeys = { src_id: BUSY_KEYS } as const;
  void busyKeys;
  const busy: number[] = [];
  for (const processes of [1, 2]) {
    await Busy.deleteQuick();
    busy.push(await time(() => Busy.populate({ processes, restrict: `src_id < ${BUSY_KEYS}` })));
    rows.push({ case: `CPU-bound make (~${BUSY_MS} ms/key, ${BUSY_KEYS} keys)`, processes, 'keys/s': (BUSY_KEYS / busy.at(-1)!).toFixed(1), 'vs baseline': '' });
  }
  console.log(machine());
  console.table(rows);
  console.log(`CPU-bound speedup, processes 2 vs 1: ${(busy[0]! / busy[1]!).toFixed(2)}×`);
  console.log(`framework overhead per key (populate vs the same work in a plain loop): ${overheadMs.toFixed(3)} ms`);
  await schema.drop({ prompt: false });
}
run(main);
