/** Tables for bench/populate.bench.ts (a module, so populate's worker threads can import it). */
import * as dj from '../src/index.js';
import { useDefaultHost } from './common.js';
import { BUSY_ITERATIONS, BUSY_MS, work } from './busy-work.js';

export { BUSY_ITERATIONS, BUSY_MS, work };

useDefaultHost();
export const schema = dj.schema(process.env.DJ_BENCH_DB ?? 'djbench_populate', { module: import.meta.url });

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


/** ~50 ms of arithmetic per key (a fixed amount of it), no I/O: measures how well makes use the cores. */
export class Busy extends dj.Computed {
  static definition = `-> Src\n---\nacc : float64`;
  async make(key: Record<string, unknown>) {
    const x = (await Src.restrict(key).fetch1('x')) as number;
    await this.insert1({ ...key, acc: work(x, BUSY_ITERATIONS) });
  }
}
schema.add(Busy);
