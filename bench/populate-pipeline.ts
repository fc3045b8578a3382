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

/** ~50 ms of arithmetic per key, no I/O: measures how well makes use the cores. */
export class Busy extends dj.Computed {
  static definition = `-> Src\n---\nacc : float64`;
  async make(key: Record<string, unknown>) {
    const x = (await Src.restrict(key).fetch1('x')) as number;
    const end = performance.now() + BUSY_MS;
    let acc = x;
    while (performance.now() < end) for (let i = 0; i < 1000; i++) acc = Math.sqrt(acc * acc + i);
    await this.insert1({ ...key, acc });
  }
}
schema.add(Busy);
