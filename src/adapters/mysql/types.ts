/**
 * Core DataJoint types ↔ MySQL column types, both directions. Declaration maps a core type to
 * its column type; reading a table declared by a client that wrote no `:type:` comment maps
 * the column type back (an unsigned or fixed-width integer, `binary(16)` for uuid, …).
 */
import type { ColumnInfo, StorageType } from '../adapter.js';
import type { ValueKind } from '../../heading/kinds.js';

const CORE_SQL: Record<string, string> = {
  int8: 'tinyint',
  uint8: 'tinyint unsigned',
  int16: 'smallint',
  uint16: 'smallint unsigned',
  int32: 'int',
  uint32: 'int unsigned',
  int64: 'bigint',
  uint64: 'bigint unsigned',
  float32: 'float',
  float64: 'double',
  bool: 'tinyint',
  uuid: 'binary(16)',
  bytes: 'longblob',
  json: 'json',
  date: 'date',
};

/** Column types that name exactly one core type. */
const SQL_CORE: Record<string, string> = {
  tinyint: 'int8',
  'tinyint unsigned': 'uint8',
  smallint: 'int16',
  'smallint unsigned': 'uint16',
  int: 'int32',
  'int unsigned': 'uint32',
  bigint: 'int64',
  'bigint unsigned': 'uint64',
  float: 'float32',
  double: 'float64',
  // Spellings a definition may use for the same types (the catalog says float, double).
  real: 'float64',
  'double precision': 'float64',
  date: 'date',
  json: 'json',
  longblob: 'bytes',
  'binary(16)': 'uuid',
};

export function mysqlSqlType(t: StorageType): string {
  if (!t.core) return t.type;
  const direct = CORE_SQL[t.type];
  if (direct) return direct;
  // char(n), varchar(n), datetime(n), decimal(p,s) and enum('a','b') are spelled the same.
  return t.type;
}

export function mysqlCoreTypeOf(col: ColumnInfo): string | null {
  const ct = col.columnType.toLowerCase().trim();
  // Display widths (`int(11)`) are cosmetic and dropped by MySQL 8 anyway.
  const stripped = ct.replace(/^(tinyint|smallint|mediumint|int|bigint)\(\d+\)/, '$1');
  if (SQL_CORE[stripped]) return SQL_CORE[stripped]!;
  if (/^(var)?char\(\d+\)$|^datetime(\(\d\))?$|^decimal\(\d+,\d+\)$|^enum\(/.test(ct)) return ct;
  return null;
}

/** MySQL column types accepted as native passthrough attribute types. */
export function mysqlNativeType(s: string): { kind: ValueKind; unsigned: boolean } | null {
  const base = (kind: ValueKind, unsigned = false) => ({ kind, unsigned });
  const m = /^(tinyint|smallint|mediumint|int|integer|bigint)(?:\s*\(\d+\))?( unsigned)?( zerofill)?( auto_increment)?$/.exec(s);
  if (m) return base(m[1] === 'bigint' ? 'bigint' : 'int', !!m[2]);
  if (s === 'serial') return base('bigint', true);
  if (/^(float|double|real|double precision)(\s*\(\s*\d+\s*(,\s*\d+\s*)?\))?( unsigned)?$/.test(s)) return base('float');
  if (/^(numeric|decimal)(\s*\(\s*\d+\s*(,\s*\d+\s*)?\))?( unsigned)?$/.test(s)) return base('decimal');
  if (/^(tinytext|text|mediumtext|longtext)$/.test(s)) return base('string');
  if (/^(tinyblob|blob|mediumblob|longblob)$/.test(s)) return base('bytes');
  if (/^(binary|varbinary)\s*\(\s*\d+\s*\)$/.test(s)) return base('bytes');
  if (/^timestamp(\s*\(\s*\d\s*\))?$/.test(s)) return base('datetime');
  if (/^time(\s*\(\s*\d\s*\))?$/.test(s)) return base('time');
  if (/^year(\(\d\))?$/.test(s)) return base('int');
  if (/^bit\s*\(\s*\d+\s*\)$/.test(s)) return base('bytes');
  if (/^(char|varchar)\s*\(\s*\d+\s*\)/.test(s)) return base('string');
  if (/^set\s*\(.*\)$/.test(s)) return base('string');
  return null;
}
