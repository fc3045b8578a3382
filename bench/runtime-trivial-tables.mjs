// The trivial table of bench/runtime-pipeline.ts for the two layouts users ship
// (runtime-pipeline-js.mjs: compiled JavaScript; runtime-pipeline-ts.ts: TypeScript run with tsx),
// both importing the built package (dist/). Each layout module creates its own schema with its
// own URL, so populate's worker threads import that module: its layout is what gets timed.
import * as dj from '../dist/index.js';

if (!process.env.DJ_BACKEND && !dj.config.isSet('database.host')) dj.config.set('database.host', '127.0.0.1');

/** The schema `<bench database>_<suffix>` whose tables the module at `moduleUrl` defines. */
export function layoutSchema(suffix, moduleUrl) {
  return dj.schema(`${process.env.DJ_BENCH_DB ?? 'djbench_runtime'}_${suffix}`, { module: moduleUrl });
}

/** Src and Trivial (fetch1 + insert1 per key), declared in `schema`. */
export function trivialTables(schema) {
  class Src extends dj.Manual {
    static definition = 'src_id : int32\n---\nx : float64';
  }
  schema.add(Src);
  class Trivial extends dj.Computed {
    static definition = '-> Src\n---\ny : float64';
    async make(key) {
      const x = await Src.restrict(key).fetch1('x');
      await this.insert1({ ...key, y: x * 2 });
    }
  }
  schema.add(Trivial);
  return { Src, Trivial };
}

export const closeAll = () => dj.closeAll();
/** Stop the built package's populate pools only (its connections stay): the next call starts cold. */
export const closePools = async () => (await import('../dist/populate/pool.js')).closePools();
