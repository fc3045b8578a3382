/** Tables for bench/populate.bench.ts (a module, so populate's worker threads can import it). */
import * as dj from '../src/index.js';
import { useDefaultHost } from './common.js';

useDefaultHost();
export const schema = dj.schema(process.env.DJ_BENCH_DB ?? 'djbench_populate', { module: import.meta.url });
export const BUSY_MS = 50;

export class Src extends dj.Manual {
  static definition = `src_id : int32\n---\nx : float64`;
}
schema.add(Src);

export class Trivial extends dj.Computed {
  static definition = `-> Src\n---\ny : float64`;
  async make(key: Record<string, unknown>) {
    const x = (await Src.restrict(key).fetch1('x')) as number;
    await this.insert1({ ...key, y: x * 2 });
  }
}
schema.add(Trivial);

/** A fixed amount of arithmetic (the same in every thread). */
function work(x: number, iterations: number): number {
  let acc = x;
  for (let i = 0; i < iterations; i++) acc = Math.sqrt(acc * acc + (i & 1023));
  return acc;
}

/**
 * Iterations of `work` that take about BUSY_MS here, measured once by the first thread that
 * loads this module and handed to worker threads through the environment (they inherit it), so
 * every key costs the same CPU work whichever thread runs it. A wall-clock spin would not: two
 * threads on one busy core would each still "finish" in 50 ms.
 */
function busyIterations(): number {
  const known = Number(process.env.DJ_BENCH_BUSY_ITERATIONS);
  if (known > 0) return known;
  const probe = 2_000_000;
  const t0 = performance.now();
  work(1, probe);
  const n = Math.round((probe * BUSY_MS) / (performance.now() - t0));
  process.env.DJ_BENCH_BUSY_ITERATIONS = String(n);
  return n;
}
export const BUSY_ITERATIONS = busyIterations();

/** ~50 ms of arithmetic per key (a fixed amount of it), no I/O: measures how well makes use the cores. */
export class Busy extends dj.Computed {
  static definition = `-> Src\n---\nacc : float64`;
  async make(key: Record<string, unknown>) {
    const x = (await Src.restrict(key).fetch1('x')) as number;
    await this.insert1({ ...key, acc: work(x, BUSY_ITERATIONS) });
  }
}
schema.add(Busy);
