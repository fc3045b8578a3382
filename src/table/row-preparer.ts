/**
 * Row preparation for insert, update and validate (API.md §5): each row of the input converted
 * to the table's columns and checked (unknown, missing and wrong attributes), codec values
 * encoded through their chains; store-backed ones upload several rows' objects at once (the
 * store's `concurrency`) after every row passed the cheap checks, and objects that only a failed
 * insert's rows owned are removed again. The statements are insert.ts's.
 */
import { DataJointError, MissingAttributeError, UnknownAttributeError } from '../errors.js';
import type { Attribute, Heading } from '../heading/heading.js';
import type { SqlValue } from '../adapters/adapter.js';
import { encodeScalar, encodeValue, keyValueForCodecs, storedValue } from '../fetch/convert.js';
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
