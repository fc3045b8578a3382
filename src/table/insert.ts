/**
 * Row normalization and SQL generation for insert (API.md §5). Every row of an in-memory input
 * is converted and checked before the first statement is sent. Codec values are encoded
 * through their codec chains; store-backed ones upload several rows' objects at once (the
 * store's `concurrency`), after every row passed the cheap checks, and objects that only a
 * failed insert's rows owned are removed again.
 */
import { DataJointError, MissingAttributeError, UnknownAttributeError } from '../errors.js';
import type { Attribute, Heading } from '../heading/heading.js';
import type { Dialect, SqlValue } from '../adapters/adapter.js';
import { encodeScalar, encodeValue, isPaddedChar, keyValueForCodecs, storedValue } from '../fetch/convert.js';
import { arrowRows, isArrowTable } from '../expression/arrow-rows.js';
import type { CodecContext } from '../codecs/codec.js';
import { codecPipeline, transferLimit } from '../codecs/pipeline.js';
import { StoredForm } from '../codecs/stored-form.js';
import { transcode } from '../codecs/transcode.js';
import type { ValueKind } from '../heading/kinds.js';
import { parallelMap } from '../stores/parallel.js';
import { getStore } from '../stores/registry.js';

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

/** Normalize any accepted in-memory input for `heading` to an array of objects or arrays. */
export function inMemoryRows(rows: unknown, heading: Heading): RowInput[] | null {
  if (Array.isArray(rows)) return rows as RowInput[];
  if (isArrowTable(rows)) {
    const isJson = (a: Attribute | undefined) => a?.kind === 'json' && !a.codec;
    return arrowRows(rows, { intoJson: (name) => isJson(heading.get(name)), intoCodec: (name) => !!heading.get(name)?.codec });
  }
  return null;
}

/** Where rows go: codecs build object paths from it. */
export interface InsertTarget {
  /** Database (schema) name. */
  schema: string;
  /** Table name as codecs see it (DataJoint Python passes the SQL table name). */
  table: string;
}

type Mode = 'encode' | 'check' | 'precheck';

/** A problem of a row: collected when `problems` is given (validate), else thrown (insert, at the first). */
function problem(problems: Error[] | undefined, err: Error): void {
  if (!problems) throw err;
  problems.push(err);
}

/** What a heading means for row preparation, computed once per heading (insert1 in a loop pays it once). */
interface Layout {
  columns: Attribute[];
  byName: Map<string, number>;
  hasCodecs: boolean;
  pk: string[];
  keyKinds: Record<string, ValueKind>;
}
const layouts = new WeakMap<Heading, Layout>();
function layoutOf(heading: Heading): Layout {
  let l = layouts.get(heading);
  if (!l) {
    const columns = heading.all.filter((a) => !a.expression);
    const pk = heading.primaryKey;
    l = {
      columns,
      byName: new Map(columns.map((a, i) => [a.name, i])),
      hasCodecs: columns.some((a) => a.codec),
      pk,
      // Booleans stay untyped: DataJoint Python puts a user's True in a path as "True".
      keyKinds: Object.fromEntries(pk.map((k) => [k, heading.get(k)!.kind]).filter(([, kind]) => kind !== 'bool')),
    };
    layouts.set(heading, l);
  }
  return l;
}

export class RowPreparer {
  readonly columns: Attribute[];
  readonly #byName: Map<string, number>;
  readonly #hasCodecs: boolean;
  readonly #pk: string[];
  readonly #keyKinds: Record<string, ValueKind>;
  /** Objects written for rows of this insert that no other row can share. */
  readonly #written: Array<{ store: string | null; path: string; isDir: boolean }> = [];

  constructor(
    private readonly heading: Heading,
    private readonly opts: InsertOptions,
    private readonly target: InsertTarget | null = null,
  ) {
    const layout = layoutOf(heading);
    this.columns = layout.columns;
    this.#byName = layout.byName;
    this.#hasCodecs = layout.hasCodecs;
    this.#pk = layout.pk;
    this.#keyKinds = layout.keyKinds;
  }

  /** Whether rows of this heading can write to an object store (they have codec columns). */
  get mayWriteObjects(): boolean {
    return this.#hasCodecs;
  }

  /** Convert one row; throws a DataJointError subclass naming the problem. */
  prepare(row: RowInput): Promise<PreparedRow> {
    return this.#convert(row, 'encode');
  }

  /**
   * Every problem `prepare` would meet in one row, without writing anything to a store
   * (`validate()`): each unknown, missing or wrong attribute, where `prepare` stops at the first.
   */
  async problems(row: RowInput): Promise<Error[]> {
    const problems: Error[] = [];
    try {
      await this.#convert(row, 'check', problems);
    } catch (err) {
      problems.push(err as Error);
    }
    return problems;
  }

  /**
   * Convert many rows. With store-backed codecs, every row first passes the cheap checks (so a
   * bad row found late has not left uploads behind), then rows are encoded several at once.
   * Error messages name the row when there are several.
   */
  async prepareAll(rows: readonly RowInput[]): Promise<PreparedRow[]> {
    const named = <T>(i: number, p: Promise<T>): Promise<T> =>
      p.catch((err: unknown) => {
        if (err instanceof DataJointError && rows.length > 1) err.message = `Row ${i}: ${err.message}`;
        throw err;
      });
    if (!this.#hasCodecs) {
      // No codec: conversion is synchronous (no promise per row).
      const out: PreparedRow[] = new Array(rows.length);
      for (let i = 0; i < rows.length; i++) {
        try {
          out[i] = { values: this.#scalars(rows[i]!).values };
        } catch (err) {
          if (err instanceof DataJointError && rows.length > 1) err.message = `Row ${i}: ${err.message}`;
          throw err;
        }
      }
      return out;
    }
    const limit = await this.#transferLimit();
    if (limit <= 1) {
      const out: PreparedRow[] = new Array(rows.length);
      for (let i = 0; i < rows.length; i++) out[i] = await named(i, this.prepare(rows[i]!));
      return out;
    }
    for (let i = 0; i < rows.length; i++) await named(i, this.#convert(rows[i]!, 'precheck'));
    return parallelMap(rows, limit, (r, i) => named(i, this.prepare(r)));
  }

  /** Remove the objects that only this insert's rows owned (after the insert failed). Best effort. */
  async discardObjects(): Promise<void> {
    const all = this.#written.splice(0);
    await Promise.all(
      all.map(async (w) => {
        const store = await getStore(w.store);
        await (w.isDir ? store.deletePrefix(w.path).then(() => store.delete(`${w.path}.manifest.json`)) : store.delete(w.path));
      }).map((p) => p.catch(() => undefined)),
    );
  }

  /** Transfers to keep in flight: the largest store concurrency among store-backed columns, else 1. */
  async #transferLimit(): Promise<number> {
    let limit = 1;
    for (const a of this.columns) if (a.codec) limit = Math.max(limit, transferLimit(await codecPipeline(a)));
    return limit;
  }

  /** `problems`: collect each problem there and go on (validate), instead of throwing the first. */
  async #convert(row: RowInput, mode: Mode, problems?: Error[]): Promise<PreparedRow> {
    const { values, raw, codecAt } = this.#scalars(row, problems);
    if (codecAt.length && !problems?.length) {
      const key: Record<string, unknown> = {};
      for (const k of this.#pk) {
        const i = this.#byName.get(k)!;
        key[k] = keyValueForCodecs(this.columns[i]!, raw[i]);
      }
      const ctx: CodecContext = { key, keyKinds: this.#keyKinds, schema: this.target?.schema, table: this.target?.table, written: (w) => this.#written.push(w) };
      for (const i of codecAt) {
        if (!problems) values[i] = await this.#codec(this.columns[i]!, raw[i], mode, ctx);
        else await this.#codec(this.columns[i]!, raw[i], mode, ctx).catch((e: unknown) => problems.push(e as Error));
      }
    }
    return { values };
  }

  /**
   * The synchronous part of converting a row: every attribute but codec ones, whose indices are
   * returned for the caller to encode (asynchronously: codecs may write to stores).
   */
  #scalars(row: RowInput, problems?: Error[]): { values: Array<SqlValue | undefined>; raw: unknown[]; codecAt: number[] } {
    const n = this.columns.length;
    const values = new Array<SqlValue | undefined>(n).fill(undefined);
    const present = new Array<boolean>(n).fill(false);
    const raw = new Array<unknown>(n);
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
      for (const k in row) {
        if (!Object.prototype.hasOwnProperty.call(row, k)) continue;
        const idx = this.#byName.get(k);
        if (idx === undefined) {
          if (this.opts.ignoreExtraFields) continue;
          problem(problems, new UnknownAttributeError(`Attribute \`${k}\` is not in the table (${this.heading.names.join(', ')})`));
          continue;
        }
        raw[idx] = (row as Record<string, unknown>)[k];
        present[idx] = true;
      }
    } else {
      throw new DataJointError(`A row must be an object or an array, got ${row === null ? 'null' : typeof row}`);
    }
    const codecAt: number[] = [];
    for (let i = 0; i < n; i++) {
      const a = this.columns[i]!;
      // As in DataJoint Python, a missing value, null (or NaN for a number) means DEFAULT.
      if (!present[i] || isNullValue(a, raw[i])) {
        const what = present[i] ? 'cannot be NULL' : 'is missing';
        // A key attribute with a default (`created = CURRENT_TIMESTAMP : datetime(6)`, as the 2.0
        // docs show) takes it from the server, as DataJoint Python's insert leaves it out.
        if (a.inKey && !a.autoIncrement && a.default === null) problem(problems, new MissingAttributeError(`Primary key attribute \`${a.name}\` ${what}`));
        else if (a.default === null && !a.nullable && !a.autoIncrement) problem(problems, new MissingAttributeError(`Attribute \`${a.name}\` ${what} and has no default`));
        continue; // DEFAULT
      }
      if (a.codec && raw[i] !== null) codecAt.push(i);
      else if (!problems) values[i] = encodeScalar(a, raw[i]);
      else {
        try {
          values[i] = encodeScalar(a, raw[i]);
        } catch (err) {
          problems.push(err as Error);
        }
      }
    }
    return { values, raw, codecAt };
  }

  /** A codec value, encoded (or only checked); errors name the attribute, as scalar errors do. */
  async #codec(a: Attribute, value: unknown, mode: Mode, ctx: CodecContext): Promise<SqlValue | undefined> {
    try {
      if (value instanceof StoredForm) {
        // A stored value copied from a codec column (toArrow): into the target's chain, not encoded as a value.
        const stored = await transcode(value, await codecPipeline(a), { ...ctx, field: a.name, attribute: a.name }, mode !== 'encode');
        return mode === 'encode' ? storedValue(a, stored) : undefined;
      }
      if (mode === 'encode') return await encodeValue(a, value, ctx);
      const pipeline = await codecPipeline(a);
      if (mode === 'precheck') await pipeline.precheck(value);
      else {
        const stored = await pipeline.check(value, { ...ctx, field: a.name, attribute: a.name, written: undefined });
        if (!pipeline.external) storedValue(a, stored);
      }
      return undefined;
    } catch (err) {
      if (err instanceof Error && !err.message.includes(`\`${a.name}\``)) err.message = `Attribute \`${a.name}\` (${a.type}): ${err.message}`;
      throw err;
    }
  }
}

/** INSERT heads and tails by table, columns and policy (a loop of insert1 builds each once). */
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
