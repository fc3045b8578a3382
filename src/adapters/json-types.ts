/**
 * The cast types a JSON path value may ask for (`car.length:float`), in neutral form, for the
 * dialects' `jsonValue`. DataJoint Python passes the text to MySQL's `RETURNING`; we accept
 * MySQL's cast names and the DataJoint core names and let each dialect spell them.
 */
import { DataJointError } from '../errors.js';

export type JsonCast =
  | { kind: 'float' | 'double' | 'signed' | 'unsigned' | 'date' | 'datetime' | 'time' | 'bool' | 'number' }
  | { kind: 'decimal'; precision: number | null; scale: number | null }
  | { kind: 'char' | 'varchar'; length: number };

const SIMPLE: Record<string, JsonCast['kind']> = {
  float: 'float',
  float32: 'float',
  real: 'float',
  double: 'double',
  float64: 'double',
  signed: 'signed',
  int: 'signed',
  integer: 'signed',
  int8: 'signed',
  int16: 'signed',
  int32: 'signed',
  int64: 'signed',
  unsigned: 'unsigned',
  uint8: 'unsigned',
  uint16: 'unsigned',
  uint32: 'unsigned',
  uint64: 'unsigned',
  date: 'date',
  datetime: 'datetime',
  time: 'time',
  bool: 'bool',
  boolean: 'bool',
  number: 'number',
};

/** Parse a cast type (lower case, no spaces); throws DataJointError naming the accepted ones. */
export function parseJsonCast(type: string): JsonCast {
  const simple = SIMPLE[type];
  if (simple) return { kind: simple } as JsonCast;
  let m = /^decimal(?:\((\d+)(?:,(\d+))?\))?$/.exec(type);
  if (m) return { kind: 'decimal', precision: m[1] ? Number(m[1]) : null, scale: m[2] ? Number(m[2]) : null };
  m = /^(char|varchar)\((\d+)\)$/.exec(type);
  if (m) return { kind: m[1] as 'char' | 'varchar', length: Number(m[2]) };
  throw new DataJointError(
    `Unsupported type "${type}" for a JSON path value: use float, double, decimal(p,s), signed, unsigned, char(n), varchar(n), date, datetime, time or bool`,
  );
}
