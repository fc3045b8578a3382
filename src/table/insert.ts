/**
 * SQL generation for insert (API.md §5): the accepted inputs read as rows, and the INSERT
 * statements for prepared rows (row-preparer.ts converts and checks every row of an in-memory
 * input before the first statement is sent).
 */
import type { Attribute, Heading } from '../heading/heading.js';
import type { Dialect, SqlValue } from '../adapters/adapter.js';
import { arrowRows, isArrowTable } from '../expression/arrow-rows.js';
import { isPaddedChar } from '../fetch/convert.js';
import type { PreparedRow, RowInput } from './row-preparer.js';

/** Is `rows` an async iterable (and not an array)? */
export function isAsyncIterable(x: unknown): x is AsyncIterable<RowInput> {
  return typeof x === 'object' && x !== null && typeof (x as AsyncIterable<unknown>)[Symbol.asyncIterator] === 'function' && !Array.isArray(x);
}

/** Normalize any accepted in-memory input for `heading` to an array of objects or arrays. */
export function inMemoryRows(rows: unknown, heading: Heading): RowInput[] | null {
  if (Array.isArray(rows)) return rows as RowInput[];
  if (isArrowTable(rows)) {
    const isJson = (a: Attribute | undefined) => a?.kind === 'json' && !a.codec;
    return arrowRows(rows, { intoJson: (name) => isJson(heading.get(name)), intoCodec: (name) => !!heading.get(name)?.codec });
  }
  return null;
}

const clauses = new Map<string, { head: string; tail: string }>();
function insertClause(dialect: Dialect, table: string, names: string[], policy: 'error' | 'skip' | 'replace', primaryKey: string[], allColumns: string[]) {
  const id = `${dialect.name}\u0000${table}\u0000${policy}\u0000${names.join('\u0000')}\u0000${primaryKey.join('\u0000')}\u0001${allColumns.join('\u0000')}`;
  let c = clauses.get(id);
  if (!c) {
    if (clauses.size > 4096) clauses.clear();
    c = dialect.insert(table, names, policy, primaryKey, allColumns);
    clauses.set(id, c);
  }
  return c;
}

/** One INSERT statement with its bound parameters. */
export interface Statement {
  sql: string;
  params: SqlValue[];
  /** Rows the statement inserts (or, with replace, inserts or replaces). */
  rows: number;
}

/** A bound key value as text that tells values of different types apart. */
function keyText(v: SqlValue | undefined, a: Attribute): string {
  if (v instanceof Uint8Array) return `b${Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('hex')}`;
  if (v instanceof Date) return `d${v.getTime()}`;
  // Values the server takes for one key: 1 and 1.00 in a decimal, 'ab' and 'ab  ' in a char(n).
  if (typeof v === 'string' && a.kind === 'decimal') return `n${canonicalDecimal(v)}`;
  if (typeof v === 'string' && isPaddedChar(a)) return `s${v.replace(/ +$/, '')}`;
  return `${typeof v}${String(v)}`;
}

/** Decimal text without leading zeros, trailing fraction zeros or a sign on zero: `-01.50` → `-1.5`. */
function canonicalDecimal(text: string): string {
  const m = /^\s*([-+]?)0*(\d*)(?:\.(\d*?)0*)?\s*$/.exec(text);
  if (!m) return text;
  const whole = m[2] || '0';
  const frac = m[3] ?? '';
  const sign = m[1] === '-' && (whole !== '0' || frac !== '') ? '-' : '';
  return `${sign}${whole}${frac ? `.${frac}` : ''}`;
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
    for (const _r of rows) yield { sql: dialect.insertDefaults(table), params: [], rows: 1 };
    return;
  }
  const kinds = idx.map((i) => columns[i]!.kind);
  const { head, tail } = insertClause(dialect, table, names, policy, primaryKey, columns.map((a) => a.name));
  // Rows are collected as bound values (undefined: DEFAULT) and rendered when a statement is
  // full, so placeholders are numbered from 1 in every statement.
  let batch: Array<Array<SqlValue | undefined>> = [];
  let count = 0;
  let size = 0;
  // With replace, a row whose key an earlier row of the same statement has goes into the next
  // statement: one statement may not change a row twice on PostgreSQL (ON CONFLICT DO UPDATE),
  // and statement by statement the last row wins on every backend, as MySQL's REPLACE does.
  const keyAt = policy === 'replace' ? primaryKey.map((k) => names.indexOf(k)) : [];
  const keysInBatch = keyAt.length && keyAt.every((j) => j >= 0) ? new Set<string>() : null;
  const flush = (): Statement => {
    const params: SqlValue[] = [];
    const tuples = batch.map((vals) => `(${vals.map((v) => (v === undefined ? 'DEFAULT' : (params.push(v), dialect.param(params.length)))).join(',')})`);
    const rows = batch.length;
    batch = [];
    count = 0;
    size = 0;
    keysInBatch?.clear();
    return { sql: head + tuples.join(',') + tail, params, rows };
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
    const key = keysInBatch && keyAt.map((j) => keyText(vals[j], columns[idx[j]!]!)).join('\u0000');
    if (batch.length && (size + rowSize > maxBytes || count + n > maxParams || (key !== null && keysInBatch!.has(key)))) yield flush();
    if (key !== null) keysInBatch!.add(key);
    batch.push(vals);
    count += n;
    size += rowSize;
  }
  if (batch.length) yield flush();
}
