/**
 * Values crossing the node-postgres boundary: how result text is parsed (per pool, never by
 * changing the global `pg.types`), which value kind a result column's type OID has, and how
 * bound parameters are prepared.
 *
 * Dates, times and JSON come back as the server's text: the core decodes them (a bare JSON
 * string such as `"a"` must survive, and a timestamp has no zone to guess). int8 becomes a
 * number when it is exactly representable and stays decimal text otherwise; numeric stays text.
 */
import type { ValueKind } from '../../heading/kinds.js';
import type { SqlValue } from '../adapter.js';
import { AttributeTypeError, DataJointError } from '../../errors.js';
import { pgDatetimeText } from './timestamps.js';
import { mib } from '../row-bytes.js';

/** Built-in type OIDs (pg_type.oid, fixed across PostgreSQL versions). */
export const OID = {
  bool: 16,
  bytea: 17,
  char: 18,
  name: 19,
  int8: 20,
  int2: 21,
  int4: 23,
  text: 25,
  oid: 26,
  json: 114,
  float4: 700,
  float8: 701,
  bpchar: 1042,
  varchar: 1043,
  date: 1082,
  time: 1083,
  timestamp: 1114,
  timestamptz: 1184,
  timetz: 1266,
  numeric: 1700,
  uuid: 2950,
  jsonb: 3802,
} as const;

const KIND_BY_OID = new Map<number, ValueKind>([
  [OID.bool, 'bool'],
  [OID.int2, 'int'],
  [OID.int4, 'int'],
  [OID.oid, 'int'],
  [OID.int8, 'bigint'],
  [OID.float4, 'float'],
  [OID.float8, 'float'],
  [OID.numeric, 'decimal'],
  [OID.date, 'date'],
  [OID.timestamp, 'datetime'],
  [OID.timestamptz, 'datetime'],
  [OID.time, 'time'],
  [OID.timetz, 'time'],
  [OID.uuid, 'uuid'],
  [OID.json, 'json'],
  [OID.jsonb, 'json'],
  [OID.bytea, 'bytes'],
]);

/** The value kind of a result column's type; enums, text and unknown types are strings. */
export function kindOfOid(oid: number): ValueKind {
  return KIND_BY_OID.get(oid) ?? 'string';
}

const raw = (s: string): string => s;

/** int8 → number when exactly representable, else its decimal text (the core makes a bigint). */
export function parseInt8(s: string): number | string {
  const n = Number(s);
  return Number.isSafeInteger(n) ? n : s;
}

const TEXT_PARSERS = new Map<number, (s: string) => unknown>([
  [OID.int8, parseInt8],
  [OID.numeric, raw],
  [OID.date, raw],
  [OID.timestamp, raw],
  [OID.timestamptz, raw],
  [OID.time, raw],
  [OID.timetz, raw],
  [OID.json, raw],
  [OID.jsonb, raw],
]);

type Parser = (value: string) => unknown;
type GetTypeParser = (oid: number, format?: 'text' | 'binary') => Parser;

/**
 * A `types` object for a pg pool/cursor: our parsers for the OIDs above, pg's own for the rest
 * (bytea → Buffer, bool, int2/int4, float4/float8, uuid, arrays, …).
 */
export function typeParsers(fallback: GetTypeParser): { getTypeParser: GetTypeParser } {
  return {
    getTypeParser(oid: number, format: 'text' | 'binary' = 'text'): Parser {
      if (format === 'text') {
        const p = TEXT_PARSERS.get(oid);
        if (p) return p;
      }
      return fallback(oid, format);
    },
  };
}

/**
 * Parameters as pg sends them. A Date becomes UTC text with a four-digit year: pg's own
 * conversion would use the client's local zone, which a `timestamp` column silently drops.
 */
export function toPgParams(params: readonly SqlValue[] | undefined): unknown[] | undefined {
  if (!params || params.length === 0) return undefined;
  return params.map((v) => {
    if (v instanceof Date) return pgDatetimeText(v);
    if (v instanceof Uint8Array && v.byteLength > MAX_READABLE_BYTEA) throw unreadableBytea(v.byteLength);
    // PostgreSQL's text cannot hold NUL: the server would refuse it with an encoding error.
    if (typeof v === 'string' && v.includes('\u0000')) throw new AttributeTypeError(`PostgreSQL text cannot hold the character U+0000 (NUL), found in ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)}: remove it, or store the value as bytes`);
    return v;
  });
}

/**
 * The largest bytea value that can be read back. PostgreSQL sends bytea in results as hex text
 * (2 characters a byte), and Node cannot hold a string over 2^29 − 24 characters: a larger value
 * would be stored, and reading it would end the process inside the driver (ERR_STRING_TOO_LONG).
 */
export const MAX_READABLE_BYTEA = Math.floor((0x1fffffe8 - 2) / 2);
function unreadableBytea(bytes: number): DataJointError {
  return new DataJointError(
    `A value of ${mib(bytes)} is over the ${mib(MAX_READABLE_BYTEA)} a PostgreSQL bytea column can give back here (results carry bytea as hex text, and Node's strings hold at most 512 MiB): keep values this large in an object store (<blob@store>, <object@store>)`,
  );
}
