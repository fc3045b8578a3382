/**
 * Fetch (API.md §4): rows, columns and single values out of a query expression.
 * Conversion is per column: one decoder per attribute, built once per fetch.
 */
import { DataJointError } from '../errors.js';
import type { Attribute, Heading } from '../heading/heading.js';
import type { State } from '../expression/state.js';
import { selectSql } from '../expression/state.js';
import type { Connection } from '../connection/connection.js';
import { decodeCodec, decoderFor } from './convert.js';
import { config } from '../config.js';

export type Row = Record<string, unknown>;
export type Column =
  | Float64Array
  | Float32Array
  | Int8Array
  | Uint8Array
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | BigInt64Array
  | BigUint64Array
  | unknown[];

export interface FetchOptions {
  orderBy?: string | string[];
  limit?: number;
  offset?: number;
  squeeze?: boolean;
  downloadPath?: string;
}

interface Fetchable {
  readonly connection: Connection;
  compileState(): Promise<State>;
}

/** ORDER BY items from user text; 'KEY' expands to the primary key. */
export function orderByItems(orderBy: string | string[] | undefined | null, heading: Heading, quote: (n: string) => string): string[] {
  if (orderBy === undefined || orderBy === null) return [];
  const items = Array.isArray(orderBy) ? orderBy : [orderBy];
  const out: string[] = [];
  for (const item of items) {
    for (const part of item.split(',').map((p) => p.trim()).filter(Boolean)) {
      const m = /^(KEY)(\s+(ASC|DESC))?$/i.exec(part);
      if (m && m[1] === 'KEY') {
        out.push(...heading.primaryKey.map((k) => `${quote(k)}${m[2] ? ` ${m[3]!.toUpperCase()}` : ''}`));
        continue;
      }
      const a = /^([a-z_][a-z0-9_]*)(\s+(ASC|DESC))?$/i.exec(part);
      if (a && heading.has(a[1]!)) out.push(`${quote(a[1]!)}${a[2] ? ` ${a[3]!.toUpperCase()}` : ''}`);
      else out.push(part);
    }
  }
  return out;
}

function statementFor(e: Fetchable, state: State, names: string[], opts: FetchOptions): string {
  const dialect = e.connection.dialect;
  const orderBy = orderByItems(opts.orderBy, state.heading, (n) => dialect.quoteId(n));
  const extra: { orderBy?: string[]; limit?: number | null; offset?: number } = {};
  if (orderBy.length) extra.orderBy = orderBy;
  if (opts.limit !== undefined || opts.offset !== undefined) {
    if (state.top) {
      // A fetch limit on a Top applies to the Top's result.
      const inner = selectSql(state, dialect, names);
      const sql = `SELECT * FROM (${inner}) AS \`$f\`${orderBy.length ? ` ORDER BY ${orderBy.join(',')}` : ''}${dialect.limitClause(opts.limit ?? null, opts.offset ?? 0)}`;
      return sql;
    }
    extra.limit = opts.limit ?? null;
    extra.offset = opts.offset ?? 0;
    if (!orderBy.length && extra.limit !== null) extra.orderBy = orderByItems('KEY', state.heading, (n) => dialect.quoteId(n));
  }
  return selectSql(state, dialect, names, extra);
}

/** Row decoder for the given attributes; async only when a codec is involved. */
export function rowDecoder(attrs: Attribute[]): { sync: (r: Row) => Row; codecs: Attribute[] } {
  const decs = attrs.map((a) => [a.name, decoderFor(a)] as const).filter(([, d]) => d !== null) as Array<[string, (v: unknown) => unknown]>;
  const sync = (r: Row) => {
    for (const [n, d] of decs) r[n] = d(r[n]);
    return r;
  };
  return { sync, codecs: attrs.filter((a) => a.codec) };
}

async function decodeRows(rows: Row[], attrs: Attribute[], pk: string[]): Promise<Row[]> {
  const { sync, codecs } = rowDecoder(attrs);
  for (const r of rows) sync(r);
  if (codecs.length) {
    for (const r of rows) {
      const key = Object.fromEntries(pk.filter((k) => k in r).map((k) => [k, r[k]]));
      for (const a of codecs) r[a.name] = await decodeCodec(a, r[a.name], key);
    }
  }
  return rows;
}

function squeezeValue(v: unknown): unknown {
  // Drop singleton dimensions of decoded arrays (DataJoint's `squeeze`).
  const nd = v as { shape?: number[]; data?: unknown; dtype?: string; order?: string; constructor: { new (o: object): unknown } } | null;
  if (nd && Array.isArray(nd.shape) && nd.data !== undefined && typeof nd.dtype === 'string') {
    const shape = nd.shape.filter((d) => d !== 1);
    if (shape.length === 0 && (nd.data as ArrayLike<unknown>).length === 1) return (nd.data as ArrayLike<unknown>)[0];
    return new nd.constructor({ dtype: nd.dtype, shape, data: nd.data, order: nd.order });
  }
  return v;
}

export async function toDicts(e: Fetchable, opts: FetchOptions = {}): Promise<Row[]> {
  const state = await e.compileState();
  const attrs = state.heading.visible;
  const rows = await e.connection.query(statementFor(e, state, attrs.map((a) => a.name), opts));
  await decodeRows(rows, attrs, state.heading.primaryKey);
  if (opts.squeeze) for (const r of rows) for (const a of attrs) if (a.codec) r[a.name] = squeezeValue(r[a.name]);
  return rows;
}

export async function keys(e: Fetchable, opts: FetchOptions = {}): Promise<Row[]> {
  const state = await e.compileState();
  const pk = state.heading.primaryKey;
  const attrs = pk.map((k) => state.heading.get(k)!);
  const rows = await e.connection.query(statementFor(e, state, pk, opts));
  return decodeRows(rows, attrs, pk);
}

const TYPED: Record<string, (n: number) => Column> = {
  int8: (n) => new Int8Array(n),
  uint8: (n) => new Uint8Array(n),
  int16: (n) => new Int16Array(n),
  uint16: (n) => new Uint16Array(n),
  int32: (n) => new Int32Array(n),
  uint32: (n) => new Uint32Array(n),
  int64: (n) => new BigInt64Array(n),
  uint64: (n) => new BigUint64Array(n),
  float32: (n) => new Float32Array(n),
  float64: (n) => new Float64Array(n),
};

/** A typed array for a numeric column without NULLs, otherwise a plain array. */
export function toColumn(a: Attribute, values: unknown[]): Column {
  const make = a.codec ? undefined : TYPED[a.type] ?? (a.kind === 'float' ? TYPED.float64 : undefined);
  if (!make || values.some((v) => v === null || v === undefined)) return values;
  const col = make(values.length);
  if (col instanceof BigInt64Array || col instanceof BigUint64Array) {
    for (let i = 0; i < values.length; i++) col[i] = BigInt(values[i] as number | bigint);
  } else {
    (col as Float64Array).set(values as number[]);
  }
  return col;
}

export async function toArrays(e: Fetchable, args: Array<string | FetchOptions>): Promise<Record<string, Column> | Column | Column[]> {
  const names = args.filter((x): x is string => typeof x === 'string');
  const opts = (args.find((x) => typeof x === 'object') ?? {}) as FetchOptions;
  const state = await e.compileState();
  const wanted = names.length ? names.flatMap((n) => (n === 'KEY' ? state.heading.primaryKey : [n])) : state.heading.names;
  for (const n of wanted) if (!state.heading.has(n)) throw new DataJointError(`Attribute \`${n}\` is not in the query result (${state.heading.names.join(', ')})`);
  const attrs = wanted.map((n) => state.heading.get(n)!);
  const { rows, columns } = await e.connection.queryArrays(statementFor(e, state, wanted, opts));
  const out: Record<string, Column> = {};
  for (let j = 0; j < attrs.length; j++) {
    const a = attrs[j]!;
    const dec = decoderFor(a);
    const values = new Array<unknown>(rows.length);
    for (let i = 0; i < rows.length; i++) values[i] = dec ? dec(rows[i]![j]) : rows[i]![j];
    if (a.codec) for (let i = 0; i < values.length; i++) values[i] = await decodeCodec(a, values[i]);
    if (opts.squeeze && a.codec) for (let i = 0; i < values.length; i++) values[i] = squeezeValue(values[i]);
    out[columns[j] ?? a.name] = toColumn(a, values);
  }
  if (names.length === 1 && names[0] !== 'KEY') return out[names[0]!]!;
  if (names.length > 1) return wanted.map((n) => out[n]!);
  return out;
}

export async function fetch1(e: Fetchable, attrs: string[]): Promise<unknown> {
  const state = await e.compileState();
  for (const n of attrs) if (!state.heading.has(n)) throw new DataJointError(`Attribute \`${n}\` is not in the query result (${state.heading.names.join(', ')})`);
  const visible = state.heading.visible;
  const rows = await e.connection.query(statementFor(e, state, visible.map((a) => a.name), { limit: 2 }));
  if (rows.length !== 1)
    throw new DataJointError(rows.length === 0 ? 'fetch1 found no rows: the query result is empty' : 'fetch1 requires exactly one row, but the query returned more than one');
  await decodeRows(rows, visible, state.heading.primaryKey);
  const row = rows[0]!;
  if (attrs.length === 0) return row;
  if (attrs.length === 1) return row[attrs[0]!];
  return attrs.map((n) => row[n]);
}

export async function count(e: Fetchable): Promise<number> {
  const state = await e.compileState();
  const dialect = e.connection.dialect;
  const pk = state.heading.primaryKey;
  const inner = selectSql({ ...state, distinct: state.distinct || state.groupBy === null }, dialect, pk.length ? pk : state.heading.names);
  const rows = await e.connection.query(`SELECT COUNT(*) AS n FROM (${inner}) AS \`$c\``);
  return Number(rows[0]!.n);
}

export function iterate(e: Fetchable, opts: FetchOptions): AsyncIterable<Row> {
  return {
    async *[Symbol.asyncIterator]() {
      const state = await e.compileState();
      const attrs = state.heading.visible;
      const { sync, codecs } = rowDecoder(attrs);
      const pk = state.heading.primaryKey;
      for await (const r of e.connection.stream(statementFor(e, state, attrs.map((a) => a.name), opts))) {
        sync(r);
        if (codecs.length) {
          const key = Object.fromEntries(pk.map((k) => [k, r[k]]));
          for (const a of codecs) r[a.name] = await decodeCodec(a, r[a.name], key);
        }
        yield r;
      }
    },
  };
}

/** Preview text like DataJoint's table display, limited by display.limit. */
export async function preview(e: Fetchable & { count(): Promise<number> }, limit = Number(config.get('display.limit') ?? 12)): Promise<string> {
  const state = await e.compileState();
  const rows = await toDicts(e, { limit: limit + 1 });
  const names = state.heading.names;
  const cell = (v: unknown) => {
    if (v === null || v === undefined) return 'NULL';
    if (v instanceof Date) return v.toISOString().replace('T', ' ').replace(/\.000Z$/, '').replace(/Z$/, '');
    if (typeof v === 'object') return '=BLOB=';
    return String(v);
  };
  const shown = rows.slice(0, limit).map((r) => names.map((n) => cell(r[n])));
  const header = names.map((n) => (state.heading.get(n)!.inKey ? `*${n}` : n));
  const widths = header.map((h, j) => Math.min(Math.max(h.length, ...shown.map((r) => r[j]!.length)), 40));
  const fmt = (cells: string[]) => cells.map((c, j) => (c.length > widths[j]! ? c.slice(0, widths[j]! - 1) + '…' : c.padEnd(widths[j]!))).join('  ');
  const lines = [fmt(header), widths.map((w) => '-'.repeat(w)).join('  '), ...shown.map(fmt)];
  if (rows.length > limit) lines.push('...');
  lines.push(` (Total: ${await e.count()})`);
  return lines.join('\n');
}
