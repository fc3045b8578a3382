/**
 * Fetch (API.md §4, spec: fetch API): rows, columns and single values out of a query
 * expression. Results come from the driver as row arrays; conversion is per column (one
 * decoder per attribute, built once per fetch). Fetch options orderBy/limit/offset act as a
 * further dj.top that inherits the expression's ordering (query-algebra §12.6).
 */
import { DataJointError, UnknownAttributeError } from '../errors.js';
import type { Attribute } from '../heading/heading.js';
import type { State } from '../expression/state.js';
import { selectSql } from '../expression/state.js';
import { Top, applyTop } from '../expression/top.js';
import type { Connection } from '../connection/connection.js';
import { decodeCodec } from './convert.js';
import { decodeCodecColumn, decodeCodecRows, type FetchSource } from './codec-values.js';
import type { ArrayResult, FieldInfo } from '../adapters/adapter.js';
import { type Decoder, columnDecoder, decodeRowsInPlace, effectiveKind, rowFactory } from './columns.js';
import { config } from '../config.js';
import type { TypedArray } from '../blob/ndarray.js';
import { DTYPE_CTOR, type NumericDtype } from '../blob/dtype.js';

export type Row = Record<string, unknown>;
/** A fetched column: a typed array for numeric types without NULLs, otherwise a plain array. */
export type Column = Exclude<TypedArray, Uint8ClampedArray> | unknown[];

export interface FetchOptions {
  /** `'KEY'`, `'name DESC'`, or several; inherits a dj.top's ordering when omitted. */
  orderBy?: string | string[];
  limit?: number;
  offset?: number;
  /** Drop singleton dimensions of decoded arrays. */
  squeeze?: boolean;
  /** Where attachment/filepath codecs put files (overrides `download_path`). */
  downloadPath?: string;
}

/** Options of fetch1 (DataJoint Python's `fetch1(*attrs, squeeze=, download_path=)`), after the attribute names. */
export type Fetch1Options = Pick<FetchOptions, 'squeeze' | 'downloadPath'>;

/** Options of toArrays: the fetch options, and whether to return the primary keys too. */
export interface ArraysOptions extends FetchOptions {
  /**
   * With attribute names: also return the rows' primary keys (objects) first, as DataJoint
   * Python's `to_arrays(*attrs, include_key=True)` does: `[keys, a, b]`.
   */
  includeKey?: boolean;
}

export interface Fetchable {
  readonly connection: Connection;
  compileState(): Promise<State>;
}

/** The state to fetch: the expression's, with the fetch options applied as a further Top. */
export async function fetchState(e: Fetchable, opts: FetchOptions): Promise<State> {
  const state = await e.compileState();
  if (opts.orderBy === undefined && opts.limit === undefined && opts.offset === undefined) return state;
  if (opts.limit !== undefined && (typeof opts.limit !== 'number' || !Number.isInteger(opts.limit) || opts.limit < 0))
    throw new TypeError(`limit must be a non-negative integer, got ${String(opts.limit)}`);
  const t = new Top(opts.limit ?? null, opts.orderBy ?? null, opts.offset ?? 0);
  return applyTop(state, t, e.connection.dialect);
}

/** Run `fn` with `download_path` overridden when the fetch asks for it. */
function withDownloadPath<T>(opts: FetchOptions, fn: () => Promise<T>): Promise<T> {
  return opts.downloadPath ? config.override({ download_path: opts.downloadPath }, fn) : fn();
}

/** The table a query reads, when it reads one (codecs see it in their context). */
export function sourceOf(state: State): FetchSource {
  return state.table ? { schema: state.table.database, table: state.table.name } : {};
}

/** Run a SELECT as row arrays with the driver's field descriptions. */
function selectArrays(e: Fetchable, state: State, names: readonly string[]): Promise<ArrayResult> {
  return e.connection.queryArrays(selectSql(state, e.connection.dialect, names));
}

/** Keys a driver could not set as plain properties of a row object. */
const UNSAFE_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/** Rows (objects in heading order) of the given attributes. */
async function rowsOf(e: Fetchable, state: State, attrs: readonly Attribute[], opts: FetchOptions): Promise<Row[]> {
  const names = attrs.map((a) => a.name);
  let rows: Row[];
  if (attrs.every((a) => a.kind !== 'other' && !UNSAFE_KEYS.has(a.name))) {
    // Every type is known: the driver builds the row objects itself (one allocation per row,
    // where arrays then objects would be two), and only the columns that need it are decoded.
    rows = await e.connection.query(selectSql(state, e.connection.dialect, names));
    // No attributes (dj.U().restrict(T)): the SELECT names a constant, which is no attribute.
    if (!names.length) rows = rows.map(() => ({}));
    const active = attrs.flatMap((a) => {
      const d = a.codec ? null : columnDecoder(a);
      return d ? [[a.name, d] as const] : [];
    });
    if (active.length)
      for (let i = 0; i < rows.length; i++) {
        const r = rows[i]!;
        for (let k = 0; k < active.length; k++) {
          const [name, d] = active[k]!;
          r[name] = d(r[name]);
        }
      }
  } else {
    // Computed attributes take their kind from the driver's field descriptions.
    const { rows: raw, fields } = await selectArrays(e, state, names);
    decodeRowsInPlace(raw, attrs.map((a, j) => (a.codec ? null : columnDecoder(a, fields?.[j]))));
    const make = rowFactory(names);
    rows = new Array(raw.length);
    for (let i = 0; i < raw.length; i++) rows[i] = make(raw[i]!);
  }
  if (attrs.some((a) => a.codec)) await withDownloadPath(opts, () => decodeCodecRows(rows, attrs, state.heading.primaryKey, opts.squeeze ?? false, sourceOf(state)));
  return rows;
}

export async function toDicts(e: Fetchable, opts: FetchOptions = {}): Promise<Row[]> {
  const state = await fetchState(e, opts);
  return rowsOf(e, state, state.heading.visible, opts);
}

export async function keys(e: Fetchable, opts: FetchOptions = {}): Promise<Row[]> {
  const state = await fetchState(e, opts);
  return rowsOf(e, state, state.heading.primaryKey.map((k) => state.heading.get(k)!), opts);
}

type TypedCtor = new (n: number) => Exclude<Column, unknown[]>;
/** Core numeric types fetched into typed arrays of their own width (bool stays a plain array). */
const TYPED_CORE = new Set(['int8', 'uint8', 'int16', 'uint16', 'int32', 'uint32', 'int64', 'uint64', 'float32', 'float64']);

/** Typed-array constructor for a numeric attribute, or null. */
export function typedCtorFor(a: Attribute, field?: FieldInfo): TypedCtor | null {
  if (a.codec) return null;
  if (TYPED_CORE.has(a.type)) return DTYPE_CTOR[a.type as NumericDtype] as unknown as TypedCtor;
  if (a.kind === 'int') return a.unsigned ? Uint32Array : Int32Array; // native tinyint … int, year
  const kind = effectiveKind(a, field);
  if (kind === 'float') return Float64Array;
  if (kind === 'bigint') return a.unsigned ? BigUint64Array : BigInt64Array;
  if (kind === 'int') return Float64Array; // a computed integer of unknown sign and width
  return null;
}

/**
 * Column `j` of row arrays: a typed array for numeric types without NULLs (filled directly),
 * otherwise a plain array of decoded values.
 */
export function columnOf(rows: readonly unknown[][], j: number, a: Attribute, field?: FieldInfo): Column {
  const n = rows.length;
  const Typed = typedCtorFor(a, field);
  if (Typed) {
    const col = new Typed(n);
    let i = 0;
    if (col instanceof BigInt64Array || col instanceof BigUint64Array) {
      for (; i < n; i++) {
        const v = rows[i]![j];
        if (v === null) break;
        col[i] = typeof v === 'bigint' ? v : BigInt(v as number | string);
      }
    } else {
      const c = col as Float64Array;
      for (; i < n; i++) {
        const v = rows[i]![j];
        if (v === null) break;
        c[i] = typeof v === 'number' ? v : Number(v);
      }
    }
    if (i === n) return col;
  }
  const dec = a.codec ? null : columnDecoder(a, field);
  const out = new Array<unknown>(n);
  for (let i = 0; i < n; i++) out[i] = dec ? dec(rows[i]![j]) : rows[i]![j];
  return out;
}

export async function toArrays(e: Fetchable, args: ReadonlyArray<string | ArraysOptions>): Promise<Record<string, Column> | Column | Column[]> {
  const names = args.filter((x): x is string => typeof x === 'string');
  const objs = args.filter((x): x is ArraysOptions => typeof x === 'object' && x !== null);
  if (objs.length > 1) throw new DataJointError('toArrays takes attribute names and at most one options object');
  const opts = objs[0] ?? {};
  const state = await fetchState(e, opts);
  const includeKey = opts.includeKey === true && names.length > 0;
  const pk = state.heading.primaryKey;
  const requested = names.length ? names.flatMap((n) => (n === 'KEY' ? pk : [n])) : state.heading.names;
  // The keys come from the same SELECT as the columns, so rows and keys stay aligned.
  const wanted = includeKey ? [...requested, ...pk.filter((k) => !requested.includes(k))] : requested;
  // Named hidden attributes are fetched (spec: to_arrays('_job_start_time', …)).
  for (const n of wanted) if (!state.heading.has(n)) throw new UnknownAttributeError(`Attribute \`${n}\` is not in the query result (${state.heading.names.join(', ')})`);
  const unique = [...new Set(wanted)];
  const attrs = unique.map((n) => state.heading.get(n)!);
  const { rows, fields } = await selectArrays(e, state, unique);
  const out: Record<string, Column> = {};
  for (let j = 0; j < attrs.length; j++) {
    const a = attrs[j]!;
    let col = columnOf(rows, j, a, fields?.[j]);
    if (a.codec) {
      const values = col as unknown[];
      await withDownloadPath(opts, () => decodeCodecColumn(a, values, opts.squeeze ?? false, sourceOf(state)));
      col = values;
    }
    out[a.name] = col;
  }
  if (includeKey) {
    // Decoded as keys() decodes them (numbers, not the bigint of a typed column).
    const at = pk.map((k) => unique.indexOf(k));
    const decoders = at.map((j) => columnDecoder(attrs[j]!, fields?.[j]));
    const keys = rows.map((r) => Object.fromEntries(pk.map((k, i) => [k, decoders[i] ? decoders[i]!(r[at[i]!]) : r[at[i]!]])));
    return [keys, ...requested.map((n) => out[n]!)];
  }
  if (names.length === 1 && names[0] !== 'KEY') return out[names[0]!]!;
  if (names.length > 1) return requested.map((n) => out[n]!);
  return out;
}

/** The first `n` rows in primary-key order (DataJoint Python's `head`). */
export function head(e: Fetchable, n = 25, opts: FetchOptions = {}): Promise<Row[]> {
  return toDicts(e, { ...opts, orderBy: 'KEY', limit: n });
}

/** The last `n` rows, still in primary-key order (DataJoint Python's `tail`). */
export async function tail(e: Fetchable, n = 25, opts: FetchOptions = {}): Promise<Row[]> {
  return (await toDicts(e, { ...opts, orderBy: 'KEY DESC', limit: n })).reverse();
}

/** fetch1's arguments: attribute names, then its options object if there is one. */
export function fetch1Arguments(given: ReadonlyArray<string | Fetch1Options | undefined>): { attrs: string[]; opts: Fetch1Options } {
  const args = given[given.length - 1] === undefined ? given.slice(0, -1) : given; // fetch1(undefined): no options
  const last = args[args.length - 1];
  const opts = last !== null && typeof last === 'object' ? last : {};
  const attrs = opts === last ? args.slice(0, -1) : args;
  for (const a of attrs) if (typeof a !== 'string') throw new DataJointError(`fetch1 takes attribute names, then an options object last, got ${a === null ? 'null' : typeof a} among the names`);
  const unknown = Object.keys(opts).filter((k) => k !== 'squeeze' && k !== 'downloadPath');
  if (unknown.length) throw new DataJointError(`fetch1 takes the options squeeze and downloadPath, not ${unknown.join(', ')}`);
  return { attrs: attrs as string[], opts };
}

export async function fetch1(e: Fetchable, attrs: readonly string[], opts: Fetch1Options = {}): Promise<unknown> {
  const state = await e.compileState();
  for (const n of attrs) if (!state.heading.has(n)) throw new UnknownAttributeError(`Attribute \`${n}\` is not in the query result (${state.heading.names.join(', ')})`);
  // Two rows are enough to tell "exactly one" from "more than one".
  const limited = applyTop(state, new Top(2, null, 0), e.connection.dialect);
  // Named attributes are fetched as named (hidden ones included); otherwise the visible row.
  const wanted = attrs.length ? [...new Set(attrs)].map((n) => state.heading.get(n)!) : state.heading.visible;
  const rows = await rowsOf(e, limited, wanted, opts);
  if (rows.length !== 1) {
    // Name the table (or say it is a query) and how many rows there are, as DataJoint Python does.
    const table = (e as { fullTableName?: unknown }).fullTableName;
    const what = typeof table === 'string' ? table : 'the query';
    const n = rows.length === 0 ? 0 : await count(e);
    throw new DataJointError(`fetch1 requires exactly one row, but ${what} has ${n === 0 ? 'no rows' : `${n} rows`}`);
  }
  const row = rows[0]!;
  if (attrs.length === 0) return row;
  if (attrs.length === 1) return row[attrs[0]!];
  return attrs.map((n) => row[n]);
}

export async function count(e: Fetchable): Promise<number> {
  const state = await e.compileState();
  const dialect = e.connection.dialect;
  let sql: string;
  if (!state.groupBy && !state.distinct && !state.top) {
    // Rows of a well-formed expression are unique by primary key: count them in place.
    sql = `SELECT COUNT(*) AS n FROM ${state.from}${state.where.length ? ` WHERE ${state.where.join(' AND ')}` : ''}`;
  } else {
    const names = state.distinct || state.groupBy ? state.heading.names : state.heading.primaryKey;
    sql = `SELECT COUNT(*) AS n FROM (${selectSql(state, dialect, names)}) AS ${dialect.quoteId('$count')}`;
  }
  const rows = await e.connection.query(sql);
  return Number(rows[0]!.n);
}

/**
 * `for await (const row of expr)`: rows decoded from one cursor, read in batches. The iterator
 * is written by hand: an async generator yielding row by row costs several microtasks per row,
 * where this hands out buffered rows as already-resolved promises.
 */
export function iterate(e: Fetchable, opts: FetchOptions): AsyncIterable<Row> {
  return {
    [Symbol.asyncIterator](): AsyncIterator<Row> {
      let batches: AsyncIterator<ArrayResult> | null = null;
      let buffer: Row[] = [];
      let i = 0;
      let make: ((r: unknown[]) => Row) | null = null;
      let decoders: Array<Decoder | null> | null = null;
      let attrs: Attribute[] = [];
      let pk: readonly string[] = [];
      let source: FetchSource | null = null;
      const refill = async (): Promise<IteratorResult<Row>> => {
        if (!batches) {
          const state = await fetchState(e, opts);
          attrs = state.heading.visible;
          pk = state.heading.primaryKey;
          source = sourceOf(state);
          make = rowFactory(attrs.map((a) => a.name));
          // Larger batches: fewer cursor round trips (PostgreSQL reads each batch with one), still bounded memory.
          batches = e.connection.stream(selectSql(state, e.connection.dialect, attrs.map((a) => a.name)), undefined, { batchRows: 4096 })[Symbol.asyncIterator]();
        }
        for (;;) {
          const next = await batches.next();
          if (next.done) return { done: true, value: undefined };
          const batch = next.value;
          if (!batch.rows.length) continue;
          decoders ??= attrs.map((a, j) => (a.codec ? null : columnDecoder(a, batch.fields[j])));
          decodeRowsInPlace(batch.rows, decoders);
          buffer = batch.rows.map(make!);
          i = 0;
          if (attrs.some((a) => a.codec)) await withDownloadPath(opts, () => decodeCodecRows(buffer, attrs, pk, opts.squeeze ?? false, source!));
          return { done: false, value: buffer[i++]! };
        }
      };
      return {
        next: () => (i < buffer.length ? Promise.resolve({ done: false, value: buffer[i++]! }) : refill()),
        return: async () => {
          buffer = [];
          await batches?.return?.();
          return { done: true, value: undefined };
        },
      };
    },
  };
}

/** Preview text like DataJoint's table display, limited by display.limit. */
export async function preview(e: Fetchable, opts: { limit?: number; width?: number } = {}): Promise<string> {
  const limit = opts.limit ?? Number(config.get('display.limit') ?? 12);
  const width = opts.width ?? Number(config.get('display.width') ?? 14);
  const state = await e.compileState();
  const heading = state.heading;
  const columns = heading.visible;
  // Blobs and other bytes are not fetched for display.
  const shown = columns.filter((a) => !a.codec && a.kind !== 'bytes');
  const limited = applyTop(state, new Top(limit + 1, null, 0), e.connection.dialect);
  const rows = await rowsOf(e, limited, shown, {});
  const hasMore = rows.length > limit;
  const body = rows.slice(0, limit);
  const cell = (a: Attribute, r: Row): string => {
    if (a.codec || a.kind === 'bytes') return '=BLOB=';
    const v = r[a.name];
    if (v === null || v === undefined) return 'NULL';
    if (v instanceof Date) {
      const iso = v.toISOString();
      return a.kind === 'date' ? iso.slice(0, 10) : iso.replace('T', ' ').replace(/\.000Z$|Z$/, '');
    }
    if (typeof v === 'object') return JSON.stringify(v);
    return String(v);
  };
  const cells = body.map((r) => columns.map((a) => cell(a, r)));
  const header = columns.map((a) => (a.inKey ? `*${a.name}` : a.name));
  const widths = header.map((h, j) => Math.min(Math.max(h.length, ...cells.map((c) => c[j]!.length)) + 4, Math.max(width, h.length + 1)));
  const fit = (s: string, w: number) => (s.length > w ? s.slice(0, w) : s.padEnd(w));
  const lines = [
    header.map((h, j) => fit(h, widths[j]!)).join(' '),
    widths.map((w) => `+${'-'.repeat(Math.max(w - 2, 0))}+`).join(' '),
    ...cells.map((c) => c.map((s, j) => fit(s, widths[j]!)).join(' ')),
  ];
  if (hasMore) lines.push('   ...');
  if (config.get('display.show_tuple_count') !== false) lines.push(` (Total: ${await count(e)})`);
  return lines.join('\n') + '\n';
}

export { decodeCodec };
