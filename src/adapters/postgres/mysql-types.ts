/**
 * MySQL's native types written in definitions declared on PostgreSQL. Definitions written for
 * MySQL (and the spec's own examples) use `tinyint unsigned`, `int unsigned auto_increment`,
 * `double`, `mediumblob`…, which PostgreSQL does not know. Each one with an equivalent is
 * declared as the core type holding the same values (so it inserts, fetches and range-checks
 * as on MySQL: `tinyint unsigned` becomes uint8, a smallint with CHECK 0..255); the rest are
 * refused with the reason. Spellings PostgreSQL knows itself (`int`, `float`, `text`,
 * `timestamp`…) never get here: they are PostgreSQL's native types. Pure text.
 */
import type { ForeignNativeType } from '../adapter.js';

/** MySQL integer type → [core type of the signed range, core type of the unsigned range]. */
const INTEGERS: Record<string, [signed: string, unsigned: string]> = {
  tinyint: ['int8', 'uint8'],
  smallint: ['int16', 'uint16'],
  // 24 bits; the next core type holds its range.
  mediumint: ['int32', 'uint32'],
  int: ['int32', 'uint32'],
  integer: ['int32', 'uint32'],
  bigint: ['int64', 'uint64'],
};

const INTEGER = /^(tinyint|smallint|mediumint|int|integer|bigint)(?:\s*\(\s*\d+\s*\))?( unsigned)?( zerofill)?( auto_increment)?$/;

/** How PostgreSQL declares a MySQL spelling of a native type, or null if `s` is not one. */
export function mysqlTypeOnPostgres(s: string): ForeignNativeType | null {
  const int = INTEGER.exec(s);
  if (int) {
    // ZEROFILL implies UNSIGNED on MySQL; the padding itself is display only.
    const [signed, unsigned] = INTEGERS[int[1]!]!;
    return { declareAs: int[2] || int[3] ? unsigned : signed };
  }
  // MySQL YEAR holds 1901..2155 (and 0); PostgreSQL has no year type.
  if (/^year(\s*\(\s*4\s*\))?$/.test(s)) return { declareAs: 'int16' };
  if (/^double(\s*\(\s*\d+\s*,\s*\d+\s*\))?$/.test(s)) return { declareAs: 'float64' };
  if (/^float\s*\(\s*\d+\s*,\s*\d+\s*\)$/.test(s)) return { declareAs: 'float32' };
  if (/^(tinyblob|blob|mediumblob|longblob)$/.test(s)) return { declareAs: 'bytes' };
  if (/^(tinytext|mediumtext|longtext)$/.test(s)) return { declareAs: 'text' };
  if (/^(float|double|real|decimal|numeric)\b.* unsigned( zerofill)?$/.test(s))
    return { refused: 'PostgreSQL has no unsigned floating-point or decimal types; use float32, float64 or decimal(n,f)' };
  if (/^(binary|varbinary)\s*\(\s*\d+\s*\)$/.test(s))
    return { refused: 'PostgreSQL has no fixed-length binary type; use bytes (or uuid for 16-byte ids)' };
  if (/^bit\s*\(\s*\d+\s*\)$/.test(s)) return { refused: "PostgreSQL's bit(n) is a bit string, not MySQL's bit field; use an unsigned integer type" };
  if (/^set\s*\(.*\)$/.test(s)) return { refused: 'PostgreSQL has no set type; use a part table or json' };
  return null;
}
