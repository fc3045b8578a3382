/**
 * Driver results → JS values, column by column. Rows arrive from the driver as arrays
 * (rowsAsArray), so nothing builds per-row objects unless rows are asked for.
 */
import type { Attribute } from '../heading/heading.js';
import { decoderFor } from './convert.js';

/** What the driver reports about a result column (mysql2 FieldPacket subset). */
export interface FieldInfo {
  name: string;
  /** MySQL protocol type code (e.g. 10 DATE, 12 DATETIME, 8 LONGLONG, 246 NEWDECIMAL, 245 JSON). */
  columnType: number;
  /** Character set id; 63 means binary. */
  characterSet: number;
}

export const MYSQL_TYPE = {
  DECIMAL: 0, TINY: 1, SHORT: 2, LONG: 3, FLOAT: 4, DOUBLE: 5, NULL: 6, TIMESTAMP: 7, LONGLONG: 8, INT24: 9,
  DATE: 10, TIME: 11, DATETIME: 12, YEAR: 13, NEWDATE: 14, VARCHAR: 15, BIT: 16, JSON: 245, NEWDECIMAL: 246,
  ENUM: 247, SET: 248, TINY_BLOB: 249, MEDIUM_BLOB: 250, LONG_BLOB: 251, BLOB: 252, VAR_STRING: 253, STRING: 254,
} as const;

/** Field descriptions attached to a queryArrays result by the MySQL adapter, if any. */
export function fieldsOf(result: object): FieldInfo[] | undefined {
  const f = (result as { fields?: unknown }).fields;
  return Array.isArray(f) ? (f as FieldInfo[]) : undefined;
}

export type Decoder = (v: unknown) => unknown;

/**
 * The value kind of an attribute; for a computed attribute of unknown type (kind 'other'),
 * the kind the driver's column type implies.
 */
export function effectiveKind(a: Attribute, field?: FieldInfo): Attribute['kind'] {
  if (a.kind !== 'other' || a.codec || !field) return a.kind;
  switch (field.columnType) {
    case MYSQL_TYPE.TINY:
    case MYSQL_TYPE.SHORT:
    case MYSQL_TYPE.LONG:
    case MYSQL_TYPE.INT24:
    case MYSQL_TYPE.YEAR:
      return 'int';
    case MYSQL_TYPE.LONGLONG:
      return 'bigint';
    case MYSQL_TYPE.FLOAT:
    case MYSQL_TYPE.DOUBLE:
      return 'float';
    case MYSQL_TYPE.DECIMAL:
    case MYSQL_TYPE.NEWDECIMAL:
      return 'decimal';
    case MYSQL_TYPE.DATE:
    case MYSQL_TYPE.NEWDATE:
      return 'date';
    case MYSQL_TYPE.DATETIME:
    case MYSQL_TYPE.TIMESTAMP:
      return 'datetime';
    case MYSQL_TYPE.TIME:
      return 'time';
    case MYSQL_TYPE.JSON:
      return 'json';
    default:
      return field.characterSet === 63 ? 'bytes' : 'string';
  }
}

/** Converter for one result column (codecs excluded: they decode asynchronously). */
export function columnDecoder(a: Attribute, field?: FieldInfo): Decoder | null {
  const kind = effectiveKind(a, field);
  return kind === a.kind ? decoderFor(a) : decoderFor({ ...a, kind });
}

/** `(row: unknown[]) => object` with the given keys, compiled once so rows share one shape. */
export function rowFactory(names: readonly string[]): (r: unknown[]) => Record<string, unknown> {
  if (names.some((n) => n === '__proto__' || !/^[A-Za-z_$][A-Za-z0-9_$]*$/.test(n))) {
    return (r) => {
      const o: Record<string, unknown> = {};
      for (let j = 0; j < names.length; j++) Object.defineProperty(o, names[j]!, { value: r[j], enumerable: true, writable: true, configurable: true });
      return o;
    };
  }
  const body = `return {${names.map((n, j) => `${JSON.stringify(n)}: r[${j}]`).join(', ')}};`;
  return new Function('r', body) as (r: unknown[]) => Record<string, unknown>;
}

/** Apply per-column decoders to row arrays in place. */
export function decodeRowsInPlace(rows: unknown[][], decoders: ReadonlyArray<Decoder | null>): void {
  const active: Array<[number, Decoder]> = [];
  decoders.forEach((d, j) => d && active.push([j, d]));
  if (!active.length) return;
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i]!;
    for (let k = 0; k < active.length; k++) {
      const [j, d] = active[k]!;
      r[j] = d(r[j]);
    }
  }
}
