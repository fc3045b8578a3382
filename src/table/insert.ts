/**
 * Row normalization and SQL generation for insert (API.md §5). Every row of an in-memory input
 * is converted and checked before the first statement is sent.
 */
import { DataJointError, MissingAttributeError, UnknownAttributeError } from '../errors.js';
import type { Attribute, Heading } from '../heading/heading.js';
import type { Dialect, SqlValue } from '../adapters/adapter.js';
import { encodeScalar, encodeValue } from '../fetch/convert.js';
import { arrowRows, isArrowTable } from '../expression/condition.js';

export interface InsertOptions {
  replace?: boolean;
  skipDuplicates?: boolean;
  ignoreExtraFields?: boolean;
  allowDirectInsert?: boolean;
  /** Rows per transaction; by default the whole insert is one transaction. */
  chunkSize?: number;
}

/** A row converted for SQL: values in `columns` order; `undefined` means DEFAULT. */
export interface PreparedRow {
  values: Array<SqlValue | undefined>;
}

export type RowInput = Record<string, unknown> | unknown[];

const NUMERIC = new Set(['int', 'bigint', 'float', 'decimal']);

/**
 * Whether a value stands for "no value", which inserts and updates store as the attribute's
 * DEFAULT (DataJoint Python's `__make_placeholder`): null, undefined, and NaN for a number.
 */
export function isNullValue(a: Attribute, v: unknown): boolean {
  return v === null || v === undefined || (typeof v === 'number' && Number.isNaN(v) && NUMERIC.has(a.kind) && !a.codec);
}

/** Is `rows` an async iterable (and not an array)? */
export function isAsyncIterable(x: unknown): x is AsyncIterable<RowInput> {
  return typeof x === 'object' && x !== null && typeof (x as AsyncIterable<unknown>)[Symbol.asyncIterator] === 'function' && !Array.isArray(x);
}

/** Normalize any accepted in-memory input to an array of objects or arrays. */
export function inMemoryRows(rows: unknown): RowInput[] | null {
  if (Array.isArray(rows)) return rows as RowInput[];
  if (isArrowTable(rows)) return arrowRows(rows);
  return null;
}

export class RowPreparer {
  readonly columns: Attribute[];
  readonly #byName: Map<string, number>;
  readonly #hasCodecs: boolean;
  readonly #pk: string[];

  constructor(
    private readonly heading: Heading,
    private readonly opts: InsertOptions,
  ) {
    this.columns = heading.all.filter((a) => !a.expression);
    this.#byName = new Map(this.columns.map((a, i) => [a.name, i]));
    this.#hasCodecs = this.columns.some((a) => a.codec);
    this.#pk = heading.primaryKey;
  }

  /** Convert one row; throws a DataJointError subclass naming the problem. */
  async prepare(row: RowInput): Promise<PreparedRow> {
    const values = new Array<SqlValue | undefined>(this.columns.length).fill(undefined);
    const present = new Array<boolean>(this.columns.length).fill(false);
    const raw = new Array<unknown>(this.columns.length);
    if (Array.isArray(row)) {
      const visible = this.columns.filter((a) => !a.isHidden);
      if (row.length > visible.length) throw new DataJointError(`Row has ${row.length} values but the table has ${visible.length} attributes`);
      if (row.length < visible.length && !this.opts.ignoreExtraFields)
        throw new MissingAttributeError(`Row has ${row.length} values; the table has ${visible.length} attributes (${visible.map((a) => a.name).join(', ')})`);
      row.forEach((v, i) => {
        const idx = this.#byName.get(visible[i]!.name)!;
        raw[idx] = v;
        present[idx] = true;
      });
    } else if (typeof row === 'object' && row !== null) {
      for (const k of Object.keys(row)) {
        const idx = this.#byName.get(k);
        if (idx === undefined) {
          if (this.opts.ignoreExtraFields) continue;
          throw new UnknownAttributeError(`Attribute \`${k}\` is not in the table (${this.heading.names.join(', ')})`);
        }
        raw[idx] = (row as Record<string, unknown>)[k];
        present[idx] = true;
      }
    } else {
      throw new DataJointError(`A row must be an object or an array, got ${row === null ? 'null' : typeof row}`);
    }
    let key: Record<string, unknown> | undefined;
    if (this.#hasCodecs) {
      key = {};
      for (const k of this.#pk) key[k] = raw[this.#byName.get(k)!];
    }
    for (let i = 0; i < this.columns.length; i++) {
      const a = this.columns[i]!;
      // As in DataJoint Python, a missing value, null (or NaN for a number) means DEFAULT.
      if (!present[i] || isNullValue(a, raw[i])) {
        const what = present[i] ? 'cannot be NULL' : 'is missing';
        if (a.inKey && !a.autoIncrement) throw new MissingAttributeError(`Primary key attribute \`${a.name}\` ${what}`);
        if (a.default === null && !a.nullable && !a.autoIncrement) throw new MissingAttributeError(`Attribute \`${a.name}\` ${what} and has no default`);
        continue; // DEFAULT
      }
      values[i] = a.codec ? await encodeValue(a, raw[i], key) : encodeScalar(a, raw[i]);
    }
    return { values };
  }
}

/** One INSERT statement with its bound parameters. */
export interface Statement {
  sql: string;
  params: SqlValue[];
}

/** Rough wire size of a bound value (for keeping statements under the packet limit). */
function sizeOf(v: SqlValue): number {
  if (typeof v === 'string') return v.length + 2;
  if (v instanceof Uint8Array) return v.byteLength;
  return 8;
}

/**
 * Multi-row INSERT statements for prepared rows, values bound as parameters, each statement
 * kept under `maxBytes` of values and `maxParams` parameters (PostgreSQL allows 65,535).
 */
export function* insertStatements(
  dialect: Dialect,
  table: string,
  columns: Attribute[],
  rows: PreparedRow[],
  policy: 'error' | 'skip' | 'replace',
  primaryKey: string[],
  maxBytes = 4 << 20,
  maxParams = 65_535,
): Generator<Statement> {
  // Only columns that some row sets; the rest take their defaults.
  const used = columns.map((_, i) => rows.some((r) => r.values[i] !== undefined));
  const idx = columns.map((_, i) => i).filter((i) => used[i]);
  const names = idx.map((i) => columns[i]!.name);
  if (names.length === 0) {
    // All defaults: one statement per row.
    for (const _r of rows) yield { sql: dialect.insertDefaults(table), params: [] };
    return;
  }
  const kinds = idx.map((i) => columns[i]!.kind);
  const { head, tail } = dialect.insert(table, names, policy, primaryKey);
  // Rows are collected as bound values (undefined: DEFAULT) and rendered when a statement is
  // full, so placeholders are numbered from 1 in every statement.
  let batch: Array<Array<SqlValue | undefined>> = [];
  let count = 0;
  let size = 0;
  const flush = (): Statement => {
    const params: SqlValue[] = [];
    const tuples = batch.map((vals) => `(${vals.map((v) => (v === undefined ? 'DEFAULT' : (params.push(v), dialect.param(params.length)))).join(',')})`);
    batch = [];
    count = 0;
    size = 0;
    return { sql: head + tuples.join(',') + tail, params };
  };
  for (const r of rows) {
    const vals = new Array<SqlValue | undefined>(idx.length).fill(undefined);
    let n = 0;
    let rowSize = 0;
    for (let j = 0; j < idx.length; j++) {
      const v = r.values[idx[j]!];
      if (v === undefined) continue;
      const bound = dialect.bindValue(kinds[j]!, v);
      vals[j] = bound;
      n++;
      rowSize += sizeOf(bound);
    }
    if (batch.length && (size + rowSize > maxBytes || count + n > maxParams)) yield flush();
    batch.push(vals);
    count += n;
    size += rowSize;
  }
  if (batch.length) yield flush();
}
