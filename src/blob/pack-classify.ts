/**
 * What the encoder (pack.ts) decides about a value before writing it, shared by both passes
 * (pack-measure.ts, pack-write.ts): which element it packs as (`classify`), the blob class ids
 * and element widths of the dtypes, integer and date encodings, and the checks that refuse
 * values the format cannot hold (bad shapes, lone surrogates, NULs in field names, dates out of
 * range) before any byte is written.
 */
import { BlobError } from '../errors.js';
import { DTYPE_CTOR, isComplexDtype, type NumericDtype, type TypedArray } from './dtype.js';
import { Complex, NDArray } from './ndarray.js';
import {
  CharArray,
  DATETIME64_UNITS,
  DateOnly,
  DateTime,
  Datetime64Array,
  Decimal,
  MatCell,
  MatStruct,
  NpScalar,
  PyFloat,
  RecArray,
  TimeOfDay,
  Tuple,
  UUID,
} from './types.js';

/** Width of a LEN field: the encoder always writes 64-bit LEN fields, like upstream. */
export const LEN = 8;

/** Blob class ids of the numeric dtypes (complex dtypes use their real part's class). */
export const CLASS_ID: Readonly<Record<NumericDtype, number>> = {
  bool: 3,
  float64: 6,
  float32: 7,
  int8: 8,
  uint8: 9,
  int16: 10,
  uint16: 11,
  int32: 12,
  uint32: 13,
  int64: 14,
  uint64: 15,
  complex128: 6,
  complex64: 7,
};
export const CLASS_CHAR = 4;
export const CLASS_VOID = 5;
export const CLASS_DATETIME64 = 65536;

/**
 * The kinds of element a JS value packs as; `classify` maps a value to its kind and both passes
 * switch on it. A plain object rather than a `const enum`: under `isolatedModules` a const enum
 * that other modules import is emitted and read like any object, so it would only look inlined.
 */
export const K = {
  None: 0,
  Bool: 1,
  IntNum: 2,
  IntBig: 3,
  Float: 4,
  Complex: 5,
  Str: 6,
  Bytes: 7,
  Decimal: 8,
  Uuid: 9,
  DateTime: 10,
  Date: 11,
  Time: 12,
  NDArray: 13,
  Typed: 14,
  Char: 15,
  NpScalar: 16,
  Rec: 17,
  Struct: 18,
  Cell: 19,
  Tuple: 20,
  List: 21,
  Set: 22,
  Map: 23,
  Object: 24,
} as const;
export type K = (typeof K)[keyof typeof K];

/** The type name of `v` for error messages (its constructor's name for objects). */
export function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (typeof v !== 'object') return typeof v;
  const c = (v as { constructor?: { name?: unknown } }).constructor;
  return typeof c?.name === 'string' ? c.name : 'Object';
}

function isPlainObject(v: object): boolean {
  const p = Object.getPrototypeOf(v) as unknown;
  return p === Object.prototype || p === null;
}

/** Which element a JS value packs as (the order matters: subclasses before their bases). */
export function classify(v: unknown): K {
  switch (typeof v) {
    case 'undefined':
      return K.None;
    case 'boolean':
      return K.Bool;
    case 'number':
      // Safe integers are Python ints; anything else (fractions, NaN, ±Inf, -0, huge) is a float.
      return Number.isSafeInteger(v) && !Object.is(v, -0) ? K.IntNum : K.Float;
    case 'bigint':
      return K.IntBig;
    case 'string':
      return K.Str;
    case 'object':
      break;
    default:
      throw new BlobError(`Packing object of type ${typeof v} currently not supported!`);
  }
  if (v === null) return K.None;
  if (v instanceof MatCell) return K.Cell;
  if (v instanceof NDArray) return K.NDArray;
  if (v instanceof MatStruct) return K.Struct;
  if (v instanceof CharArray) return K.Char;
  if (v instanceof RecArray) return K.Rec;
  if (v instanceof NpScalar) return K.NpScalar;
  if (v instanceof PyFloat) return K.Float;
  if (v instanceof Complex) return K.Complex;
  if (v instanceof Tuple) return K.Tuple;
  if (Array.isArray(v)) return K.List;
  if (Buffer.isBuffer(v) || v instanceof ArrayBuffer || v instanceof DataView) return K.Bytes;
  if (typeof SharedArrayBuffer !== 'undefined' && v instanceof SharedArrayBuffer) return K.Bytes;
  if (ArrayBuffer.isView(v)) return K.Typed;
  if (v instanceof DateOnly) return K.Date;
  if (v instanceof Date) return K.DateTime;
  if (v instanceof TimeOfDay) return K.Time;
  if (v instanceof Decimal) return K.Decimal;
  if (v instanceof UUID) return K.Uuid;
  if (v instanceof Map) return K.Map;
  if (v instanceof Set) return K.Set;
  if (isPlainObject(v)) return K.Object;
  throw new BlobError(`Packing object of type ${typeName(v)} currently not supported!`);
}

/** Two's-complement byte count upstream uses: floor(bit_length(|v|) / 8) + 1. */
export function intByteCount(v: number): number {
  const a = Math.abs(v);
  const hi = Math.floor(a / 0x1_0000_0000);
  const bits = hi ? 64 - Math.clz32(hi) : 32 - Math.clz32(a >>> 0);
  return (bits >> 3) + 1;
}

export function bigintHex(v: bigint): { n: number; hex: string } {
  const a = v < 0n ? -v : v;
  let bits = 0;
  if (a !== 0n) {
    const h = a.toString(16);
    bits = (h.length - 1) * 4 + (32 - Math.clz32(parseInt(h[0]!, 16)));
  }
  const n = (bits >> 3) + 1;
  if (n > 65535) throw new BlobError('Integers are limited to 65535 bytes');
  const hex = BigInt.asUintN(8 * n, v)
    .toString(16)
    .padStart(2 * n, '0');
  return { n, hex };
}

/** Validated (dtype-checked) numeric data of an NDArray or typed array. */
export function checkedData(a: NDArray): TypedArray | unknown[] {
  const data = a.data as TypedArray | unknown[];
  let size = 1;
  for (const d of a.shape) {
    if (!Number.isSafeInteger(d) || d < 0) throw new BlobError(`Invalid array dimension ${String(d)}`);
    size *= d;
  }
  if (a.dtype === 'object') {
    if (!Array.isArray(data) || data.length !== size) throw new BlobError('Object NDArray data does not match its shape');
    return data;
  }
  const ctor = DTYPE_CTOR[a.dtype];
  if (!ctor) throw new BlobError(`Cannot pack NDArray of dtype "${String(a.dtype)}"`);
  const want = isComplexDtype(a.dtype) ? 2 * size : size;
  if (!(data instanceof ctor) || data.length !== want) {
    throw new BlobError(`NDArray data does not match dtype ${a.dtype} and shape [${a.shape.join(', ')}]`);
  }
  return data;
}

export function arrayClassId(a: NDArray): number {
  if (a instanceof Datetime64Array) return CLASS_DATETIME64 + DATETIME64_UNITS.indexOf(a.unit);
  return a.dtype === 'object' ? CLASS_VOID : CLASS_ID[a.dtype];
}

/** A UTF-16 surrogate without its partner. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * UTF-8 byte length of `s`, refusing strings with lone surrogates. UTF-8 cannot encode them:
 * Buffer would silently write U+FFFD instead (so the blob would not round-trip), and DataJoint
 * Python's `str.encode()` raises UnicodeEncodeError for the same strings. `what` names the
 * string in the error.
 */
export function utf8Length(s: string, what: string): number {
  if (!(s as { isWellFormed?: () => boolean }).isWellFormed?.() && LONE_SURROGATE.test(s)) {
    const at = s.search(LONE_SURROGATE);
    const unit = s.charCodeAt(at).toString(16).toUpperCase();
    throw new BlobError(
      `Cannot pack a ${what} containing a lone UTF-16 surrogate (U+${unit} at index ${at}): ` +
        'UTF-8 cannot encode it (pack binary data as a Buffer instead)',
    );
  }
  return Buffer.byteLength(s, 'utf8');
}

export function checkName(name: string): void {
  if (name.includes('\0')) throw new BlobError(`Field name ${JSON.stringify(name)} contains a NUL character`);
}

/** Date/time fields of a `t` element, validated to Python's datetime range. */
export function dateParts(d: Date): { date: number; time: number } {
  const t = d.getTime();
  if (Number.isNaN(t)) throw new BlobError('Cannot pack an invalid Date');
  const y = d.getUTCFullYear();
  if (y < 1 || y > 9999) throw new BlobError(`Year ${y} is outside the datetime range 1..9999`);
  const date = (y * 100 + d.getUTCMonth() + 1) * 100 + d.getUTCDate();
  if (d instanceof DateOnly) return { date, time: -1 };
  const us = d.getUTCMilliseconds() * 1000 + (d instanceof DateTime ? d.extraMicros : 0);
  const time = ((d.getUTCHours() * 100 + d.getUTCMinutes()) * 100 + d.getUTCSeconds()) * 1_000_000 + us;
  return { date, time };
}
