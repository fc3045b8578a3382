/**
 * The trivial table of bench/runtime-pipeline.ts as most users write it: a TypeScript module
 * (run with tsx) that imports the built package (dist/), so populate's worker threads register
 * tsx for this module only and load the library as compiled JavaScript. Used by
 * bench/runtime.bench.ts to time the pool's start-up in that layout (run `npm run build` first).
 * The import is dynamic so this file type-checks without a build; its types are the sources'.
 */
type DJ = typeof import('../src/index.js');
const dj = (await import(new URL('../dist/index.js', import.meta.url).href)) as DJ;

if (!process.env.DJ_BACKEND && !dj.config.isSet('database.host')) dj.config.set('database.host', '127.0.0.1');
export const schema = dj.schema(`${process.env.DJ_BENCH_DB ?? 'djbench_runtime'}_ts`, { module: import.meta.url });

export class Src extends dj.Manual {
  static definition = 'src_id : int32\n---\nx : float64';
}
schema.add(Src);

export class Trivial extends dj.Computed {
  static definition = '-> Src\n---\ny : float64';
  async make(key: Record<string, unknown>) {
    const x = (await Src.restrict(key).fetch1('x')) as number;
    await this.insert1({ ...key, y: x * 2 });
  }
}
schema.add(Trivial);
export const closeAll = () => dj.closeAll();
