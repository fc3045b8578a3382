// The trivial table of bench/runtime-pipeline.ts as a user ships it: compiled JavaScript that
// imports the built package (dist/), so populate's worker threads load no TypeScript. Used by
// bench/runtime.bench.ts to time the pool's start-up without tsx (run `npm run build` first).
import * as dj from '../dist/index.js';

if (!process.env.DJ_BACKEND && !dj.config.isSet('database.host')) dj.config.set('database.host', '127.0.0.1');
export const schema = dj.schema(`${process.env.DJ_BENCH_DB ?? 'djbench_runtime'}_js`, { module: import.meta.url });

export class Src extends dj.Manual {
  static definition = 'src_id : int32\n---\nx : float64';
}
schema.add(Src);

export class Trivial extends dj.Computed {
  static definition = '-> Src\n---\ny : float64';
  async make(key) {
    const x = await Src.restrict(key).fetch1('x');
    await this.insert1({ ...key, y: x * 2 });
  }
}
schema.add(Trivial);
export const closeAll = () => dj.closeAll();
