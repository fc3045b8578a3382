// Types of bench/runtime-pipeline-js.mjs (the compiled-JavaScript twin of the runtime pipeline).
interface JsTable {
  insert(rows: Array<Record<string, unknown>>): Promise<number>;
  deleteQuick(): Promise<number>;
  populate(opts?: { processes?: number }): Promise<unknown>;
}
export const schema: { drop(opts: { prompt: boolean }): Promise<void> };
export const Src: JsTable;
export const Trivial: JsTable;
export function closeAll(): Promise<void>;
