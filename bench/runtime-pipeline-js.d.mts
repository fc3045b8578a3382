// Types of bench/runtime-pipeline-js.mjs (the compiled-JavaScript layout of the trivial table).
import type { LayoutSchema, LayoutTable } from './runtime-trivial-tables.mjs';
export const schema: LayoutSchema;
export const Src: LayoutTable;
export const Trivial: LayoutTable;
export function closeAll(): Promise<void>;
export function closePools(): Promise<void>;
