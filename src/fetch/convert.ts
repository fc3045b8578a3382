/**
 * Value conversion between JS and SQL for each attribute kind (API.md §4, §5).
 * Encoding validates before anything is written; decoding builds one converter per column.
 */
import { AttributeTypeError, MissingAttributeError } from '../errors.js';
import { type Attribute, datetimeDigits } from '../heading/heading.js';
import type { SqlValue } from '../adapters/adapter.js';
import type { CodecContext } from '../codecs/codec.js';
import { codecPipeline } from '../codecs/pipeline.js';
import { pythonJsonDumps, type JsonValue } from '../stores/python-text.js';
import { utcDateText, utcDatetimeText } from '../connection/datetime.js';
import { DateTime } from '../blob/time.js';

const INT_RANGE: Record<string, [number, number]> = {
  int8: [-128, 127],
  uint8: [0, 255],
  int16: [-32768, 32767],
  uint16: [0, 65535],
  int32: [-2147483648, 2147483647],
  uint32: [0, 4294967295],
};
const BIG_RANGE: Record<string, [bigint, bigint]> = {
  int64: [-(2n ** 63n), 2n ** 63n - 1n],
  uint64: [0n, 2n ** 64n - 1n],
};

const UUID_RE = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;
const DATE_RE = /^\d{4}-\d{2}-\d{2}$/;
const DATETIME_RE = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?)?(Z|[+-]\d{2}:?\d{2})?$/;

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (typeof v === 'object') return v.constructor?.name ?? 'object';
  return `${typeof v} ${typeof v === 'string' ? JSON.stringify(v.length > 40 ? v.slice(0, 40) + '…' : v) : String(v)}`;
}

/**
 * A lone UTF-16 surrogate cannot be stored as UTF-8: drivers silently replace it by U+FFFD, so
 * the row would hold a different string than the one given (and a restriction would match a
 * different one). Refuse it instead. (`isWellFormed` is ES2024; Node 20 has it.)
 */
const isWellFormed = (s: string): boolean => (s as string & { isWellFormed(): boolean }).isWellFormed();

function loneSurrogate(s: string): number {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) i++;
    else if (c >= 0xd800 && c <= 0xdfff) return i;
  }
  return -1;
}

/** Throw AttributeTypeError when `s` holds a lone surrogate (returns `s` otherwise). */
function wellFormed(a: Attribute, s: string, where = ''): string {
  if (isWellFormed(s)) return s;
  const at = loneSurrogate(s);
  const code = s.charCodeAt(at).toString(16).toUpperCase();
  throw new AttributeTypeError(
    `Attribute \`${a.name}\` (${a.type}): the string${where} has a lone UTF-16 surrogate U+${code} at index ${at}, which cannot be stored as UTF-8 (it would be replaced by U+FFFD). Fix the string (e.g. s.toWellFormed()) before inserting.`,
  );
}

function bad(a: Attribute, v: unknown, expected: string): never {
  throw new AttributeTypeError(`Attribute \`${a.name}\` (${a.type}) expects ${expected}, got ${describe(v)}`);
}

/** `8-4-4-4-12` lower-case hex of a UUID given with or without dashes. */
function canonicalUuid(s: string): string {
  const h = s.replace(/-/g, '').toLowerCase();
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

export function bufferToUuid(b: Uint8Array): string {
  const h = Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** Decimal number text: `3`, `-2.5`, `.5`, `1e-3` (not `NaN`, `Infinity`, hex or empty). */
const NUMBER_TEXT = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;

/**
 * JS value → SQL parameter value for a non-codec attribute (codecs encode first, see encodeValue).
 * Throws AttributeTypeError for values of the wrong type.
 */
export function encodeScalar(a: Attribute, v: unknown): SqlValue {
  if (v === null || v === undefined) {
    if (!a.nullable) throw new MissingAttributeError(`Attribute \`${a.name}\` cannot be NULL`);
    return null;
  }
  switch (a.kind) {
    case 'int': {
      if (typeof v === 'bigint') v = Number(v);
      if (typeof v === 'boolean') v = v ? 1 : 0;
      if (typeof v === 'string' && /^-?\d+$/.test(v.trim())) v = Number(v);
      if (typeof v !== 'number' || !Number.isInteger(v)) bad(a, v, 'an integer');
      const r = INT_RANGE[a.type];
      if (r && ((v as number) < r[0] || (v as number) > r[1])) bad(a, v, `an integer in [${r[0]}, ${r[1]}]`);
      return v as number;
    }
    case 'bigint': {
      let b: bigint;
      if (typeof v === 'bigint') b = v;
      else if (typeof v === 'number') {
        if (!Number.isSafeInteger(v)) bad(a, v, 'a safe integer or a bigint');
        b = BigInt(v);
      } else if (typeof v === 'string' && /^-?\d+$/.test(v.trim())) b = BigInt(v.trim());
      else bad(a, v, 'an integer or bigint');
      const r = BIG_RANGE[a.type];
      if (r && (b < r[0] || b > r[1])) bad(a, v, `an integer in [${r[0]}, ${r[1]}]`);
      return b;
    }
    case 'float':
      if (typeof v === 'bigint') return Number(v);
      // Number text is taken, as for integers (a CSV column, a form field); 'NaN' and '' are not.
      if (typeof v === 'string' && NUMBER_TEXT.test(v.trim())) v = Number(v);
      if (typeof v !== 'number') bad(a, v, 'a number');
      if (Number.isNaN(v)) {
        if (!a.nullable) bad(a, v, 'a number (NaN is stored as NULL and the attribute is not nullable)');
        return null;
      }
      if (!Number.isFinite(v)) bad(a, v, 'a finite number');
      return v;
    case 'decimal':
      if (typeof v === 'number') {
        if (!Number.isFinite(v)) bad(a, v, 'a finite number or a decimal string');
        return String(v);
      }
      if (typeof v === 'bigint') return v.toString();
      if (typeof v !== 'string' || !/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(v.trim())) bad(a, v, 'a decimal string or number');
      return v.trim();
    case 'bool':
      if (typeof v === 'boolean') return v;
      if (v === 0 || v === 1) return v === 1;
      bad(a, v, 'a boolean');
    // falls through (bad() never returns)
    case 'string': {
      if (typeof v !== 'string') bad(a, v, 'a string');
      wellFormed(a, v as string);
      // The server would refuse (or, in a lax SQL mode, cut) a longer value: caught before writing.
      const max = a.core ? /^(?:var)?char\((\d+)\)$/.exec(a.type) : null;
      if (max) {
        const n = [...(v as string)].length;
        if (n > Number(max[1])) throw new AttributeTypeError(`Attribute \`${a.name}\` (${a.type}) takes at most ${max[1]} characters, got ${n}`);
      }
      return v as string;
    }
    case 'enum':
      if (typeof v !== 'string') bad(a, v, 'a string');
      if (a.enumValues && !a.enumValues.includes(v)) bad(a, v, `one of ${a.enumValues.map((x) => `'${x}'`).join(', ')}`);
      return v;
    case 'date':
      return inYearRange(a, v, dateText(a, v));
    case 'datetime':
      return inYearRange(a, v, datetimeText(a, v));
    case 'uuid':
      // The canonical text form; the dialect binds it as its uuid type needs (16 bytes on MySQL).
      if (typeof v === 'string' && UUID_RE.test(v.trim())) return canonicalUuid(v.trim());
      if (v instanceof Uint8Array && v.length === 16) return bufferToUuid(v);
      bad(a, v, 'a UUID string');
    // falls through
    case 'json': {
      let text: string | undefined;
      try {
        // Values JSON cannot hold would be dropped or altered silently by JSON.stringify: refuse them.
        text = JSON.stringify(v, (k, x) => {
          if (typeof x === 'bigint' || typeof x === 'function' || typeof x === 'symbol') throw new TypeError(`${typeof x} is not JSON`);
          // JSON text escapes a lone surrogate, but the servers refuse or mangle it: refuse it here.
          if (!isWellFormed(k)) wellFormed(a, k, ' of a JSON key');
          if (typeof x === 'string') wellFormed(a, x, ' in the JSON value');
          if (typeof x === 'number' && !Number.isFinite(x)) throw new TypeError(`${x} is not JSON`);
          return x;
        });
      } catch (err) {
        if (err instanceof AttributeTypeError) throw err;
        bad(a, v, `a JSON-serializable value (${(err as Error).message})`);
      }
      if (text === undefined) bad(a, v, 'a JSON-serializable value');
      return text;
    }
    case 'bytes':
      if (v instanceof Uint8Array) return v;
      if (v instanceof ArrayBuffer) return Buffer.from(v);
      bad(a, v, 'a Buffer or Uint8Array');
    // falls through
    case 'time':
      if (typeof v === 'string') return wellFormed(a, v);
      if (typeof v === 'number') return v;
      bad(a, v, "a time string ('HH:MM:SS')");
    // falls through
    default:
      if (typeof v === 'string') return wellFormed(a, v);
      if (typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean' || v instanceof Date || v instanceof Uint8Array) return v;
      bad(a, v, 'a string, number, Date or Buffer');
  }
}

/**
 * Full insert-side conversion: the codec chain (if any), then scalar encoding of its dtype.
 * `ctx` tells codecs where the value goes (schema, table, key); the attribute fills in `field`.
 */
export async function encodeValue(a: Attribute, v: unknown, ctx: CodecContext = {}): Promise<SqlValue> {
  if (a.codec && v !== null && v !== undefined) {
    const pipeline = await codecPipeline(a);
    return storedValue(a, await pipeline.encode(v, { ...ctx, field: a.name, attribute: a.name }));
  }
  return encodeScalar(a, v);
}

/**
 * A key value as codecs see it (object paths are built from it): date and datetime text
 * becomes the Date the database will hold (zone-less text is UTC), so a row inserted with
 * `'2024-01-15 09:05:03'` gets the path a DataJoint Python user's `datetime` gets
 * (`…/started=2024-01-15T09-05-03/…`). Other values, and text that is no date, pass unchanged.
 */
export function keyValueForCodecs(a: Attribute, v: unknown): unknown {
  if ((a.kind !== 'date' && a.kind !== 'datetime') || typeof v !== 'string') return v;
  try {
    const text = encodeScalar(a, v) as string;
    const d = new Date(a.kind === 'date' ? `${text}T00:00:00Z` : `${text.replace(' ', 'T')}Z`);
    return Number.isNaN(d.getTime()) ? v : d;
  } catch {
    return v; // the value's own check reports it
  }
}

/** A codec's output as a SQL value; JSON as DataJoint Python writes it (`json.dumps`) when it is plain JSON. */
export function storedValue(a: Attribute, stored: unknown): SqlValue {
  if (a.kind === 'json' && isPlainJson(stored)) return pythonJsonDumps(stored as JsonValue);
  return encodeScalar(a, stored);
}

function isPlainJson(v: unknown, depth = 0): boolean {
  if (depth > 64) return false;
  if (v === null || typeof v === 'string' || typeof v === 'boolean') return true;
  if (typeof v === 'number') return Number.isFinite(v);
  if (Array.isArray(v)) return v.every((x) => isPlainJson(x, depth + 1));
  if (typeof v !== 'object' || Object.getPrototypeOf(v) !== Object.prototype) return false;
  return Object.values(v as object).every((x) => x === undefined || isPlainJson(x, depth + 1));
}

type Decoder = (v: unknown) => unknown;

/**
 * Datetime text cut to a core column's fraction digits (`datetime(p)`, 0 without, or what the
 * column keeps: heading.ts datetimeDigits). The servers
 * disagree on the digits beyond (MariaDB cuts them, MySQL 8 and PostgreSQL round), so they are
 * cut here and every backend stores the same value: never a time later than the one given.
 */
function toPrecision(text: string, a: Attribute): string {
  const dot = text.indexOf('.', 16);
  // A native type keeps its server's default precision (microseconds for PostgreSQL's timestamp).
  if (dot < 0 || !a.core) return text;
  const digits = datetimeDigits(a);
  return digits ? text.slice(0, dot + 1 + digits) : text.slice(0, dot);
}

function parseDateTime(s: string): Date {
  // 'YYYY-MM-DD HH:MM:SS[.ffffff]' in UTC. A Date keeps milliseconds; the microseconds of a
  // datetime(6) beyond them go in a DateTime, so the value restricts and inserts as it was.
  const d = new Date(s.length > 10 ? s.replace(' ', 'T') + 'Z' : s + 'T00:00:00Z');
  // 'YYYY-MM-DD HH:MM:SS.mmm' is 23 characters: only longer text has digits beyond the millisecond.
  const micros = s.length > 23 ? /\.\d{3}(\d{1,3})/.exec(s) : null;
  const extra = micros ? Number(micros[1]!.padEnd(3, '0')) : 0;
  return extra > 0 && !Number.isNaN(d.getTime()) ? new DateTime(d, extra) : d;
}

function dateText(a: Attribute, v: unknown): string {
  if (v instanceof Date) {
    if (Number.isNaN(v.getTime())) bad(a, v, 'a valid Date');
    return utcDateText(v);
  }
  if (typeof v === 'string' && DATE_RE.test(v.trim())) return v.trim();
  if (typeof v === 'string' && DATETIME_RE.test(v.trim()) && !Number.isNaN(Date.parse(v))) return utcDateText(new Date(v));
  return bad(a, v, "a Date or an ISO date string ('YYYY-MM-DD')");
}

function datetimeText(a: Attribute, v: unknown): string {
  if (v instanceof Date) {
    if (Number.isNaN(v.getTime())) bad(a, v, 'a valid Date');
    return toPrecision(utcDatetimeText(v), a);
  }
  if (typeof v === 'string' && DATETIME_RE.test(v.trim())) {
    const s = v.trim();
    // Zone-less text is taken as UTC, like the Date values fetched back.
    const hasZone = /(Z|[+-]\d{2}:?\d{2})$/.test(s) && s.length > 10;
    if (!hasZone) return toPrecision(s.replace('T', ' '), a);
    const d = new Date(s);
    if (Number.isNaN(d.getTime())) bad(a, v, 'a valid ISO datetime');
    // A Date keeps milliseconds; the digits beyond them (a zone offset is whole minutes) go along.
    const micros = /\.\d{3}(\d{1,3})/.exec(s);
    const extra = micros ? Number(micros[1]!.padEnd(3, '0')) : 0;
    return toPrecision(utcDatetimeText(extra > 0 ? new DateTime(d, extra) : d), a);
  }
  return bad(a, v, 'a Date or an ISO datetime string');
}

/**
 * Dates from year 1 to 9999, as both servers' types hold them. MariaDB accepts year 0
 * ('0000-01-01') and reads it back as NULL, even from a NOT NULL column; PostgreSQL refuses it.
 */
function inYearRange(a: Attribute, v: unknown, text: string): string {
  const year = /^(\d{4})-/.exec(text)?.[1];
  if (!year || year === '0000') bad(a, v, 'a date from year 1 to 9999');
  return text;
}

/** Whether an attribute is a char(n), which reads without its padding on every backend (MySQL strips it; PostgreSQL pads). */
export const isPaddedChar = (a: Attribute): boolean => a.kind === 'string' && a.type.startsWith('char(');
/** A char(n) value without its padding. */
export const unpadChar = (v: string): string => v.replace(/ +$/, '');

/** Converter from the driver's value to the JS value for one attribute (codecs excluded). */
export function decoderFor(a: Attribute): Decoder | null {
  if (isPaddedChar(a)) return (v) => (typeof v === 'string' ? unpadChar(v) : v);
  switch (a.kind) {
    case 'int':
    case 'float':
    case 'string':
    case 'enum':
    case 'decimal':
    case 'time':
      // A float32 reads as the float32 it is (as in toArrays' Float32Array), whatever decimal
      // text the server printed for it: PostgreSQL prints the shortest one (0.12345679 for
      // 0.12345679104328156), so the same row would otherwise give two numbers.
      if (a.type === 'float32') return (v) => (typeof v === 'string' || typeof v === 'number' ? Math.fround(Number(v)) : v);
      return a.kind === 'float' ? (v) => (typeof v === 'string' ? Number(v) : v) : null;
    case 'bigint':
      // Drivers give 64-bit integers as numbers when safe, else as decimal text (PostgreSQL's
      // numeric(20) for uint64 always as text): a number when it fits, else a bigint.
      return (v) => {
        if (typeof v !== 'string') return v;
        const n = Number(v);
        return Number.isSafeInteger(n) ? n : BigInt(v);
      };
    case 'bool':
      return (v) => (v === null ? null : Boolean(Number(v)));
    case 'date':
    case 'datetime':
      return (v) => (typeof v === 'string' ? (v.startsWith('0000') ? null : parseDateTime(v)) : v);
    case 'uuid':
      return (v) => (v instanceof Uint8Array ? bufferToUuid(v) : v);
    case 'json':
      return (v) => (typeof v === 'string' ? JSON.parse(v) : v);
    default:
      return null;
  }
}

/** Codec decode of one fetched value (null passes through): the dtype's driver value, then the chain, innermost first. */
export async function decodeCodec(a: Attribute, v: unknown, ctx: CodecContext = {}): Promise<unknown> {
  if (v === null || v === undefined || !a.codec) return v;
  const pipeline = await codecPipeline(a);
  const scalar = decoderFor(a);
  return pipeline.decode(scalar ? scalar(v) : v, { ...ctx, field: a.name, attribute: a.name });
}
