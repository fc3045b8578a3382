/**
 * The trivial table of bench/runtime-pipeline.ts as most users write it: a TypeScript module
 * (run with tsx) that imports the built package (dist/), so populate's worker threads register
 * tsx for this module only and load the library as compiled JavaScript. Used by
 * bench/runtime.bench.ts to time the pool's start-up in that layout (run `npm run build` first).
 */
import { closeAll, closePools, layoutSchema, trivialTables } from './runtime-trivial-tables.mjs';

export const schema = layoutSchema('ts', import.meta.url);
export const { Src, Trivial } = trivialTables(schema);
export { closeAll, closePools };
