/**
 * Core DataJoint types ↔ PostgreSQL column types, both directions, following DataJoint
 * Python 2.3 so both read each other's schemas.
 *
 * PostgreSQL has no tinyint and no unsigned integers: int8 and the unsigned types are stored
 * in the next wider signed type with a CHECK on the range (the `:uintN:` column comment gives
 * the core type back). Enums are schema-level types named `enum_<first 8 hex of md5 of the
 * values sorted and joined with '_'>`, exactly as Python names them, so a value set declared by
 * either client maps to the same type. Pure text: no driver import.
 */
import { createHash } from 'node:crypto';
import type { ColumnInfo, StorageType } from '../adapter.js';
import type { ValueKind } from '../../heading/kinds.js';

const CORE_SQL: Record<string, string> = {
  int8: 'smallint',
  int16: 'smallint',
  int32: 'integer',
  int64: 'bigint',
  uint8: 'smallint',
  uint16: 'integer',
  uint32: 'bigint',
  uint64: 'numeric(20)',
  float32: 'real',
  float64: 'double precision',
  bool: 'boolean',
  uuid: 'uuid',
  json: 'jsonb',
  bytes: 'bytea',
  date: 'date',
};

/** Value ranges the storage type does not enforce by itself. */
const CHECKED_RANGE: Record<string, [string, string]> = {
  int8: ['-128', '127'],
  uint8: ['0', '255'],
  uint16: ['0', '65535'],
  uint32: ['0', '4294967295'],
  uint64: ['0', '18446744073709551615'],
};

/** Catalog types (format_type spelling) that name exactly one core type. */
const SQL_CORE: Record<string, string> = {
  smallint: 'int16',
  integer: 'int32',
  bigint: 'int64',
  real: 'float32',
  'double precision': 'float64',
  // Spellings a definition may use for the same types (the catalog says real, double precision).
  float4: 'float32',
  float8: 'float64',
  float: 'float64',
  boolean: 'bool',
  uuid: 'uuid',
  jsonb: 'json',
  json: 'json',
  bytea: 'bytes',
  date: 'date',
};

/** Quote a string as an SQL literal (`'` doubled; sessions run with standard_conforming_strings). */
export function quoteString(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

/** Quote an identifier (`"` doubled). */
export function quoteId(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** Values of `enum('a','it''s')` in declared order (quotes `'` or `"`, doubled quotes inside). */
export function parseEnumValues(type: string): string[] {
  const m = /^\s*enum\s*\((.*)\)\s*$/is.exec(type);
  if (!m) return [];
  const values: string[] = [];
  const body = m[1]!;
  const re = /\s*(['"])((?:(?!\1).|\1\1)*)\1\s*(,|$)/sy;
  let match: RegExpExecArray | null;
  while (re.lastIndex < body.length && (match = re.exec(body))) {
    const q = match[1]!;
    values.push(match[2]!.split(q + q).join(q));
  }
  return values;
}

/** Compare by Unicode code point, as Python's `sorted()` does (JS sorts UTF-16 code units). */
function byCodePoint(a: string, b: string): number {
  const x = Array.from(a, (c) => c.codePointAt(0)!);
  const y = Array.from(b, (c) => c.codePointAt(0)!);
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i]! - y[i]!;
  return x.length - y.length;
}

/** The enum type's name for a value set: `enum_` + first 8 hex of md5(sorted values joined by `_`). */
export function enumTypeName(values: readonly string[]): string {
  const joined = [...values].sort(byCodePoint).join('_');
  return `enum_${createHash('md5').update(joined, 'utf8').digest('hex').slice(0, 8)}`;
}

/** Enum values of a storage type: given, or parsed from `enum(...)` text. */
export function enumValuesOf(t: StorageType): string[] {
  return t.enumValues ?? parseEnumValues(t.type);
}

export function isEnum(t: StorageType): boolean {
  return t.core && /^\s*enum\s*\(/i.test(t.type);
}

/** The SQL column type storing a resolved type; `database` qualifies enum types. */
export function postgresSqlType(t: StorageType, database: string): string {
  if (!t.core) return t.type;
  const type = t.type.trim().toLowerCase();
  const direct = CORE_SQL[type];
  if (direct) return direct;
  if (isEnum(t)) return `${quoteId(database)}.${quoteId(enumTypeName(enumValuesOf(t)))}`;
  // As DataJoint Python declares it: `datetime` is a bare timestamp, which keeps 6 fractional
  // digits on PostgreSQL (MySQL's datetime keeps none); the spec maps it so too.
  const dt = /^datetime\s*(?:\(\s*(\d)\s*\))?$/.exec(type);
  if (dt) return dt[1] === undefined ? 'timestamp' : `timestamp(${dt[1]})`;
  const dec = /^decimal\s*(\(.*\))?$/.exec(type);
  if (dec) return `numeric${dec[1] ? dec[1].replace(/\s+/g, '') : ''}`;
  // char(n), varchar(n) are spelled the same.
  return t.type;
}

/** ` CHECK (...)` for core types whose storage type is wider than their range, else ''. */
export function rangeCheck(column: string, t: StorageType): string {
  const r = t.core ? CHECKED_RANGE[t.type.trim().toLowerCase()] : undefined;
  return r ? ` CHECK (${quoteId(column)} BETWEEN ${r[0]} AND ${r[1]})` : '';
}

/** Whether a core type can carry an identity (auto-increment) column. */
export function identityCapable(sqlType: string): boolean {
  return /^(smallint|int2|integer|int|int4|bigint|int8)$/i.test(sqlType.trim());
}

/**
 * The core type of a catalog column declared without a `:type:` comment (DataJoint Python
 * does not comment foreign-key attributes), or null when no core type maps to it.
 */
export function postgresCoreTypeOf(col: ColumnInfo): string | null {
  if (col.enumValues) return `enum(${col.enumValues.map(quoteString).join(',')})`;
  const ct = col.columnType.toLowerCase().trim().replace(/\s+without time zone$/, '');
  if (SQL_CORE[ct]) return SQL_CORE[ct]!;
  let m = /^timestamp(?:\((\d)\))?$/.exec(ct);
  // A bare timestamp keeps 6 fractional digits.
  if (m) return `datetime(${m[1] ?? 6})`.replace('datetime(0)', 'datetime');
  if ((m = /^(?:character varying|varchar)\((\d+)\)$/.exec(ct))) return `varchar(${m[1]})`;
  if ((m = /^(?:character|char|bpchar)\((\d+)\)$/.exec(ct))) return `char(${m[1]})`;
  if ((m = /^numeric\((\d+)(?:,\s*(\d+))?\)$/.exec(ct))) return `decimal(${m[1]},${m[2] ?? 0})`;
  return null;
}

/** PostgreSQL column types accepted as native passthrough attribute types. */
export function postgresNativeType(s: string): { kind: ValueKind; unsigned: boolean } | null {
  const base = (kind: ValueKind) => ({ kind, unsigned: false });
  if (/^(smallint|int2|integer|int|int4|smallserial|serial)( auto_increment)?$/.test(s)) return base('int');
  if (/^(bigint|int8|bigserial)( auto_increment)?$/.test(s)) return base('bigint');
  if (/^(real|float4|double precision|float8|float(\s*\(\s*\d+\s*\))?)$/.test(s)) return base('float');
  if (/^(numeric|decimal)(\s*\(\s*\d+\s*(,\s*\d+\s*)?\))?$/.test(s)) return base('decimal');
  if (/^(text|citext|name|(character varying|varchar|character|char)(\s*\(\s*\d+\s*\))?)$/.test(s)) return base('string');
  if (s === 'bytea') return base('bytes');
  if (/^(boolean|bool)$/.test(s)) return base('bool');
  if (/^timestamp(\s*\(\s*\d\s*\))?( without time zone)?$/.test(s)) return base('datetime');
  if (/^time(\s*\(\s*\d\s*\))?( without time zone)?$/.test(s)) return base('time');
  if (/^(jsonb|json)$/.test(s)) return base('json');
  if (s === 'uuid') return base('uuid');
  return null;
}
