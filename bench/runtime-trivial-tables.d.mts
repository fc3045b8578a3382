// Types of bench/runtime-trivial-tables.mjs (it imports the built package, which may not exist
// when the sources are type-checked).
export interface LayoutTable {
  insert(rows: Array<Record<string, unknown>>): Promise<number>;
  deleteQuick(): Promise<number>;
  populate(opts?: { processes?: number }): Promise<unknown>;
  count(): Promise<number>;
}
export interface LayoutSchema {
  drop(opts: { prompt: boolean }): Promise<void>;
}
export function layoutSchema(suffix: string, moduleUrl: string): LayoutSchema;
export function trivialTables(schema: LayoutSchema): { Src: LayoutTable; Trivial: LayoutTable };
export function closeAll(): Promise<void>;
export function closePools(): Promise<void>;
