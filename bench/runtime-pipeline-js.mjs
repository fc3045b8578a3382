// The trivial table of bench/runtime-pipeline.ts as a user ships it: compiled JavaScript that
// imports the built package (dist/), so populate's worker threads load no TypeScript. Used by
// bench/runtime.bench.ts to time the pool's start-up without tsx (run `npm run build` first).
import { closeAll, closePools, layoutSchema, trivialTables } from './runtime-trivial-tables.mjs';

export const schema = layoutSchema('js', import.meta.url);
export const { Src, Trivial } = trivialTables(schema);
export { closeAll, closePools };
