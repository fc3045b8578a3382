/**
 * Class-level mirrors of the query operators and fetches on table classes (API.md §2:
 * `Subject.join(Session)` ≡ `new Subject().join(Session)`), for the methods that table.ts
 * does not already mirror. Installed on Table once, when this module is first imported
 * (index.ts re-exports from it).
 */
import { Table } from '../table/table.js';
import type { AggrArg, Operand, ProjArg, JoinOptions, RestrictOptions, QueryExpression } from './expression.js';
import type { FetchOptions, Row } from '../fetch/fetch.js';
import type { ArrowOptions } from '../fetch/arrow.js';
import type { RecordBatch, Table as ArrowTable } from 'apache-arrow';

declare module '../table/table.js' {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Table {
    function join(this: new () => Table, other: Operand, opts?: JoinOptions): QueryExpression;
    function extend(this: new () => Table, other: Operand, opts?: RestrictOptions): QueryExpression;
    function proj(this: new () => Table, ...args: ProjArg[]): QueryExpression;
    function aggr(this: new () => Table, group: Operand, ...args: AggrArg[]): QueryExpression;
    function union(this: new () => Table, other: Operand): QueryExpression;
    function toArrow(this: new () => Table, opts?: ArrowOptions): Promise<ArrowTable>;
    function arrowBatches(this: new () => Table, opts?: ArrowOptions): AsyncIterable<RecordBatch>;
    function iterate(this: new () => Table, opts?: FetchOptions): AsyncIterable<Row>;
    function preview(this: new () => Table, opts?: { limit?: number; width?: number }): Promise<string>;
    function isEmpty(this: new () => Table): Promise<boolean>;
  }
}

const MIRRORED = ['join', 'extend', 'proj', 'aggr', 'union', 'toArrow', 'arrowBatches', 'iterate', 'preview', 'isEmpty'] as const;

for (const name of MIRRORED) {
  if (Object.prototype.hasOwnProperty.call(Table, name)) continue; // table.ts defines it itself
  Object.defineProperty(Table, name, {
    configurable: true,
    writable: true,
    value: function (this: new () => Table, ...args: unknown[]) {
      const inst = new this() as unknown as Record<string, (...a: unknown[]) => unknown>;
      return inst[name]!(...args);
    },
  });
}

// `for await (const row of Subject)` streams the table's rows, like an instance does.
if (!Object.prototype.hasOwnProperty.call(Table, Symbol.asyncIterator)) {
  Object.defineProperty(Table, Symbol.asyncIterator, {
    configurable: true,
    writable: true,
    value: function (this: new () => Table) {
      return new this()[Symbol.asyncIterator]();
    },
  });
}

export const tableStaticsInstalled = true;
