/**
 * Pure-TypeScript blob encoder (docs/blob-format.md).
 *
 * Two passes over the value: `measure` computes the exact size (and records every ITEM length,
 * string byte length, ... in a plan, in traversal order), then `write` fills ONE preallocated
 * Buffer. Big numeric arrays are copied with a single memcpy.
 */
import { BlobError } from '../errors.js';
import { zlibCompressIfSmaller } from './compress.js';
import {
  Complex,
  DTYPE_CTOR,
  NDArray,
  dtypeOfTypedArray,
  isComplexDtype,
  transposeData,
  transposeInto,
  type NumericDtype,
  type TypedArray,
} from './ndarray.js';
import {
  CharArray,
  DATETIME64_UNITS,
  DateOnly,
  DateTime,
  Datetime64Array,
  Decimal,
  DECIMAL_RE,
  MatCell,
  MatStruct,
  NpScalar,
  PyFloat,
  RecArray,
  TimeOfDay,
  Tuple,
  UUID,
  parseDatetime64Dtype,
} from './types.js';

export interface PackOptions {
  /** Wrap in `ZL123\0` + zlib when larger than 1000 bytes and it helps (default true). */
  compress?: boolean;
}

const LEN = 8; // the encoder always writes 64-bit LEN fields, like upstream
const MAX_DEPTH = 1000;
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

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

/** Element width in bytes of the (real part of the) data of each dtype. */
const ITEMSIZE: Readonly<Record<NumericDtype, number>> = {
  bool: 1,
  int8: 1,
  uint8: 1,
  int16: 2,
  uint16: 2,
  int32: 4,
  uint32: 4,
  int64: 8,
  uint64: 8,
  float32: 4,
  float64: 8,
  complex64: 4,
  complex128: 8,
};

const enum K {
  None,
  Bool,
  IntNum,
  IntBig,
  Float,
  Complex,
  Str,
  Bytes,
  Decimal,
  Uuid,
  DateTime,
  Date,
  Time,
  NDArray,
  Typed,
  Char,
  NpScalar,
  Rec,
  Struct,
  Cell,
  Tuple,
  List,
  Set,
  Map,
  Object,
}

function typeName(v: unknown): string {
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
function classify(v: unknown): K {
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
function intByteCount(v: number): number {
  const a = Math.abs(v);
  const hi = Math.floor(a / 0x1_0000_0000);
  const bits = hi ? 64 - Math.clz32(hi) : 32 - Math.clz32(a >>> 0);
  return (bits >> 3) + 1;
}

function bigintHex(v: bigint): { n: number; hex: string } {
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
function checkedData(a: NDArray): TypedArray | unknown[] {
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

function arrayClassId(a: NDArray): number {
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
function utf8Length(s: string, what: string): number {
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

function checkName(name: string): void {
  if (name.includes('\0')) throw new BlobError(`Field name ${JSON.stringify(name)} contains a NUL character`);
}

/** Date/time fields of a `t` element, validated to Python's datetime range. */
function dateParts(d: Date): { date: number; time: number } {
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

// ---------------------------------------------------------------------------------------------
// Pass 1: measure

class Measurer {
  /** Sizes recorded in traversal order (ITEM lengths, string byte lengths), replayed by Writer. */
  readonly plan: number[] = [];
  matlab = true;
  private readonly path = new Set<object>();
  private depth = 0;

  private enter(o: object): void {
    if (this.path.has(o)) throw new BlobError('Cannot pack a value that contains itself (circular reference)');
    if (++this.depth > MAX_DEPTH) throw new BlobError(`Value is nested more than ${MAX_DEPTH} levels deep`);
    this.path.add(o);
  }
  private leave(o: object): void {
    this.path.delete(o);
    this.depth--;
  }

  /** Size of ITEM(v) (LEN prefix + element); records the element size in the plan. */
  item(v: unknown): number {
    const slot = this.plan.length;
    this.plan.push(0);
    const n = this.elem(v);
    this.plan[slot] = n;
    return LEN + n;
  }

  str(s: string): number {
    const n = utf8Length(s, 'string');
    this.plan.push(n);
    return 1 + LEN + n;
  }

  /** Size of the element for `v`. */
  elem(v: unknown): number {
    const kind = classify(v);
    // Only structs, cells and (checked below) arrays with ndim >= 1 are MATLAB-compatible.
    if (kind !== K.Struct && kind !== K.Cell && kind !== K.NDArray && kind !== K.Typed && kind !== K.Char) this.matlab = false;
    switch (kind) {
      case K.None:
        return 1;
      case K.Bool:
        return 2;
      case K.IntNum:
        return 3 + intByteCount(v as number);
      case K.IntBig:
        return 3 + bigintHex(v as bigint).n;
      case K.Float:
        return 9;
      case K.Complex:
        return 17;
      case K.Str:
        return this.str(v as string);
      case K.Bytes:
        return 1 + LEN + (v as ArrayBuffer | ArrayBufferView).byteLength;
      case K.Decimal: {
        const s = (v as Decimal).value;
        if (!DECIMAL_RE.test(s)) throw new BlobError(`Invalid decimal "${s}"`);
        return 1 + LEN + s.length;
      }
      case K.Uuid:
        return 17;
      case K.DateTime:
      case K.Date:
        dateParts(v as Date);
        return 13;
      case K.Time:
        return 13;
      case K.NDArray:
        return this.ndarray(v as NDArray);
      case K.Typed: {
        const t = v as TypedArray;
        if (!dtypeOfTypedArray(t)) throw new BlobError(`Packing object of type ${typeName(v)} currently not supported!`);
        return 1 + 2 * LEN + 8 + t.byteLength;
      }
      case K.Char: {
        const c = v as CharArray;
        if (c.shape.length === 0) this.matlab = false;
        return 1 + LEN * (1 + c.shape.length) + 8 + 2 * c.data.length;
      }
      case K.NpScalar:
        return this.npScalarSize(v as NpScalar);
      case K.Rec:
        return this.rec(v as RecArray);
      case K.Struct:
        return this.struct(v as MatStruct);
      case K.Cell: {
        const c = (v as MatCell).toOrder('F');
        const data = checkedData(c) as unknown[];
        this.enter(v as object);
        let n = 1 + LEN * (1 + c.shape.length);
        for (let i = 0; i < data.length; i++) n += this.item(data[i]);
        this.leave(v as object);
        return n;
      }
      case K.Tuple:
      case K.List: {
        const a = v as unknown[];
        this.enter(a);
        let n = 1 + LEN;
        for (let i = 0; i < a.length; i++) n += this.item(a[i]);
        this.leave(a);
        return n;
      }
      case K.Set: {
        const s = v as Set<unknown>;
        this.enter(s);
        let n = 1 + LEN;
        for (const x of s) n += this.item(x);
        this.leave(s);
        return n;
      }
      case K.Map: {
        const m = v as Map<unknown, unknown>;
        this.enter(m);
        let n = 1 + LEN;
        for (const [k, x] of m) n += this.item(k) + this.item(x);
        this.leave(m);
        return n;
      }
      case K.Object: {
        const o = v as Record<string, unknown>;
        this.enter(o);
        let n = 1 + LEN;
        for (const k of Object.keys(o)) n += this.item(k) + this.item(o[k]);
        this.leave(o);
        return n;
      }
    }
  }

  private ndarray(a: NDArray): number {
    const data = checkedData(a);
    if (a.shape.length === 0 || a.dtype === 'object' || a instanceof Datetime64Array) this.matlab = false;
    let n = 1 + LEN * (1 + a.shape.length) + 8;
    if (a.dtype !== 'object') return n + (data as TypedArray).byteLength;
    const items = a.order === 'F' ? (data as unknown[]) : (a.toOrder('F').data as unknown[]);
    this.enter(a);
    for (let i = 0; i < items.length; i++) n += this.item(items[i]);
    this.leave(a);
    return n;
  }

  private npScalarSize(s: NpScalar): number {
    const unit = parseDatetime64Dtype(s.dtype);
    const width = unit ? 8 : ITEMSIZE[s.dtype as NumericDtype] * (isComplexDtype(s.dtype as NumericDtype) ? 2 : 1);
    return 1 + LEN + 8 + width;
  }

  private names(fields: readonly string[]): number {
    let n = 4;
    for (const f of fields) {
      checkName(f);
      const b = utf8Length(f, 'field name');
      this.plan.push(b);
      n += b + 1; // UTF-8 bytes + NUL
    }
    return n;
  }

  private rec(r: RecArray): number {
    this.enter(r);
    let n = 1 + this.names(r.fields.map((f) => f.name));
    for (const f of r.fields) n += this.elem(f.value);
    this.leave(r);
    return n;
  }

  private struct(s: MatStruct): number {
    const nf = s.fields.length;
    let size = 1;
    for (const d of s.shape) size *= d;
    if (s.values.length !== size * nf) throw new BlobError('MatStruct values do not match its shape and fields');
    this.enter(s);
    let n = 1 + LEN * (1 + s.shape.length) + this.names(s.fields);
    for (let i = 0; i < s.values.length; i++) n += this.item(s.values[i]);
    this.leave(s);
    return n;
  }
}

// ---------------------------------------------------------------------------------------------
// Pass 2: write

class Writer {
  private pos = 0;
  private k = 0;
  private readonly dv: DataView;
  constructor(
    readonly buf: Buffer,
    private readonly plan: number[],
  ) {
    this.dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  get offset(): number {
    return this.pos;
  }

  bytes(b: Uint8Array): void {
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }
  u8(x: number): void {
    this.buf[this.pos++] = x;
  }
  u32(x: number): void {
    this.dv.setUint32(this.pos, x, true);
    this.pos += 4;
  }
  len(x: number): void {
    this.dv.setUint32(this.pos, x >>> 0, true);
    this.dv.setUint32(this.pos + 4, Math.floor(x / 0x1_0000_0000), true);
    this.pos += 8;
  }
  f64(x: number): void {
    this.dv.setFloat64(this.pos, x, true);
    this.pos += 8;
  }
  i64(x: number): void {
    const hi = Math.floor(x / 0x1_0000_0000);
    this.dv.setUint32(this.pos, x - hi * 0x1_0000_0000, true);
    this.dv.setInt32(this.pos + 4, hi, true);
    this.pos += 8;
  }

  item(v: unknown): void {
    const n = this.plan[this.k++]!;
    this.len(n);
    const start = this.pos;
    this.elem(v);
    if (this.pos - start !== n) throw new BlobError('Value changed while it was being packed');
  }

  utf8(s: string): number {
    const n = this.plan[this.k++]!;
    if (this.buf.write(s, this.pos, n, 'utf8') !== n) throw new BlobError('Value changed while it was being packed');
    this.pos += n;
    return n;
  }

  elem(v: unknown): void {
    switch (classify(v)) {
      case K.None:
        return this.u8(0xff);
      case K.Bool:
        this.u8(0x0b);
        return this.u8(v ? 1 : 0);
      case K.IntNum: {
        let x = v as number;
        const n = intByteCount(x);
        this.u8(0x0a);
        this.dv.setUint16(this.pos, n, true);
        this.pos += 2;
        for (let i = 0; i < n; i++) {
          // Floor division keeps two's-complement bytes exact for every safe integer.
          this.buf[this.pos++] = ((x % 256) + 256) % 256;
          x = Math.floor(x / 256);
        }
        return;
      }
      case K.IntBig: {
        const { n, hex } = bigintHex(v as bigint);
        this.u8(0x0a);
        this.dv.setUint16(this.pos, n, true);
        this.pos += 2;
        for (let i = 0; i < n; i++) this.buf[this.pos++] = parseInt(hex.substr(2 * (n - 1 - i), 2), 16);
        return;
      }
      case K.Float:
        this.u8(0x0d);
        return this.f64(v instanceof PyFloat ? v.value : (v as number));
      case K.Complex:
        this.u8(0x0c);
        this.f64((v as Complex).re);
        return this.f64((v as Complex).im);
      case K.Str:
        this.u8(0x05);
        this.len(this.plan[this.k]!);
        this.utf8(v as string);
        return;
      case K.Bytes: {
        const b = v as ArrayBuffer | ArrayBufferView;
        const u = ArrayBuffer.isView(b) ? new Uint8Array(b.buffer, b.byteOffset, b.byteLength) : new Uint8Array(b);
        this.u8(0x06);
        this.len(u.length);
        return this.bytes(u);
      }
      case K.Decimal: {
        const s = (v as Decimal).value;
        this.u8(0x64);
        this.len(s.length);
        this.pos += this.buf.write(s, this.pos, 'latin1');
        return;
      }
      case K.Uuid:
        this.u8(0x75);
        return this.bytes((v as UUID).bytes);
      case K.DateTime:
      case K.Date: {
        const { date, time } = dateParts(v as Date);
        this.u8(0x74);
        this.dv.setInt32(this.pos, date, true);
        this.pos += 4;
        return this.i64(time);
      }
      case K.Time: {
        const t = v as TimeOfDay;
        this.u8(0x74);
        this.dv.setInt32(this.pos, -1, true);
        this.pos += 4;
        return this.i64(((t.hour * 100 + t.minute) * 100 + t.second) * 1_000_000 + t.microsecond);
      }
      case K.NDArray:
        return this.ndarray(v as NDArray);
      case K.Typed: {
        const t = v as TypedArray;
        const dtype = dtypeOfTypedArray(t)!;
        this.arrayHeader([t.length], CLASS_ID[dtype], 0);
        return this.numeric(t, dtype);
      }
      case K.Char:
        return this.char(v as CharArray);
      case K.NpScalar:
        return this.npScalar(v as NpScalar);
      case K.Rec: {
        const r = v as RecArray;
        this.u8(0x46);
        this.names(r.fields.map((f) => f.name));
        for (const f of r.fields) this.elem(f.value);
        return;
      }
      case K.Struct: {
        const s = v as MatStruct;
        this.u8(0x53);
        this.shape(s.shape);
        this.names(s.fields);
        for (let i = 0; i < s.values.length; i++) this.item(s.values[i]);
        return;
      }
      case K.Cell: {
        const c = (v as MatCell).toOrder('F');
        this.u8(0x43);
        this.shape(c.shape);
        const data = c.data;
        for (let i = 0; i < data.length; i++) this.item(data[i]);
        return;
      }
      case K.Tuple:
      case K.List: {
        const a = v as unknown[];
        this.u8(v instanceof Tuple ? 0x01 : 0x02);
        this.len(a.length);
        for (let i = 0; i < a.length; i++) this.item(a[i]);
        return;
      }
      case K.Set: {
        const s = v as Set<unknown>;
        this.u8(0x03);
        this.len(s.size);
        for (const x of s) this.item(x);
        return;
      }
      case K.Map: {
        const m = v as Map<unknown, unknown>;
        this.u8(0x04);
        this.len(m.size);
        for (const [key, x] of m) {
          this.item(key);
          this.item(x);
        }
        return;
      }
      case K.Object: {
        const o = v as Record<string, unknown>;
        const keys = Object.keys(o);
        this.u8(0x04);
        this.len(keys.length);
        for (const key of keys) {
          this.item(key);
          this.item(o[key]);
        }
        return;
      }
    }
  }

  private shape(shape: readonly number[]): void {
    this.len(shape.length);
    for (const d of shape) this.len(d);
  }

  private names(fields: readonly string[]): void {
    this.u32(fields.length);
    for (const f of fields) {
      this.utf8(f);
      this.u8(0);
    }
  }

  private arrayHeader(shape: readonly number[], classId: number, complex: number): void {
    this.u8(0x41);
    this.shape(shape);
    this.u32(classId);
    this.u32(complex);
  }

  private ndarray(a: NDArray): void {
    const cplx = isComplexDtype(a.dtype) ? 1 : 0;
    this.arrayHeader(a.shape, arrayClassId(a), cplx);
    if (a.dtype === 'object') {
      const items = (a.order === 'F' ? a : a.toOrder('F')).data as unknown[];
      for (let i = 0; i < items.length; i++) this.item(items[i]);
      return;
    }
    const data = a.data as TypedArray;
    if (a.order === 'C' && !cplx && a.dtype !== 'bool' && LITTLE_ENDIAN) {
      // Transpose straight into the output when it is aligned for the element type.
      const abs = this.buf.byteOffset + this.pos;
      const w = data.BYTES_PER_ELEMENT;
      if (abs % w === 0) {
        const Ctor = data.constructor as new (b: ArrayBufferLike, o: number, n: number) => TypedArray;
        transposeInto(data, new Ctor(this.buf.buffer, abs, data.length), a.shape, 'C', 1);
        this.pos += data.byteLength;
        return;
      }
    }
    this.numeric((a.order === 'F' ? a : a.toOrder('F')).data as TypedArray, a.dtype);
  }

  /** Write numeric data (F order) as the blob stores it: split re/im for complex, 0/1 for bool. */
  private numeric(data: TypedArray, dtype: NumericDtype): void {
    if (dtype === 'bool') {
      for (let i = 0; i < data.length; i++) this.buf[this.pos++] = data[i] ? 1 : 0;
      return;
    }
    if (isComplexDtype(dtype)) {
      const src = data as Float32Array | Float64Array;
      const n = src.length / 2;
      const w = dtype === 'complex128' ? 8 : 4;
      const abs = this.buf.byteOffset + this.pos;
      if (LITTLE_ENDIAN && abs % w === 0) {
        const dst = w === 8 ? new Float64Array(this.buf.buffer, abs, 2 * n) : new Float32Array(this.buf.buffer, abs, 2 * n);
        for (let i = 0; i < n; i++) {
          dst[i] = src[2 * i]!;
          dst[n + i] = src[2 * i + 1]!;
        }
      } else {
        for (let i = 0; i < n; i++) {
          if (w === 8) {
            this.dv.setFloat64(this.pos + 8 * i, src[2 * i]!, true);
            this.dv.setFloat64(this.pos + 8 * (n + i), src[2 * i + 1]!, true);
          } else {
            this.dv.setFloat32(this.pos + 4 * i, src[2 * i]!, true);
            this.dv.setFloat32(this.pos + 4 * (n + i), src[2 * i + 1]!, true);
          }
        }
      }
      this.pos += 2 * n * w;
      return;
    }
    const start = this.pos;
    this.bytes(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    if (!LITTLE_ENDIAN) swapBytes(this.buf, start, this.pos, data.BYTES_PER_ELEMENT);
  }

  private char(c: CharArray): void {
    this.arrayHeader(c.shape, CLASS_CHAR, 0);
    // Upstream writes char data in C order (its decoder reads F order); match it byte for byte.
    const data = c.shape.filter((d) => d !== 1).length > 1 ? transposeData(c.data, c.shape, 'F', 1) : c.data;
    for (let i = 0; i < data.length; i++) {
      this.dv.setUint16(this.pos, data[i]!, true);
      this.pos += 2;
    }
  }

  private npScalar(s: NpScalar): void {
    const unit = parseDatetime64Dtype(s.dtype);
    if (unit) {
      this.arrayHeader([], CLASS_DATETIME64 + DATETIME64_UNITS.indexOf(unit), 0);
      return this.i64big(BigInt(s.value as number | bigint));
    }
    const dtype = s.dtype as NumericDtype;
    const cplx = isComplexDtype(dtype);
    this.arrayHeader([], CLASS_ID[dtype], cplx ? 1 : 0);
    const v = s.value;
    if (cplx) {
      const c = v as Complex;
      const d = dtype === 'complex128' ? new Float64Array([c.re, c.im]) : new Float32Array([c.re, c.im]);
      return this.numeric(d, dtype);
    }
    if (dtype === 'int64' || dtype === 'uint64') {
      const Ctor = dtype === 'int64' ? BigInt64Array : BigUint64Array;
      return this.numeric(Ctor.of(BigInt(v as number | bigint)), dtype);
    }
    const Ctor = DTYPE_CTOR[dtype] as unknown as { of(x: number): TypedArray };
    this.numeric(Ctor.of(typeof v === 'boolean' ? (v ? 1 : 0) : Number(v)), dtype);
  }

  private i64big(x: bigint): void {
    this.dv.setBigInt64(this.pos, BigInt.asIntN(64, x), true);
    this.pos += 8;
  }
}

function swapBytes(b: Uint8Array, start: number, end: number, w: number): void {
  if (w === 1) return;
  for (let i = start; i < end; i += w) {
    for (let a = i, z = i + w - 1; a < z; a++, z--) {
      const t = b[a]!;
      b[a] = b[z]!;
      b[z] = t;
    }
  }
}

const ZL = Buffer.from('ZL123\0', 'latin1');

/**
 * Output buffer for a blob of `size` bytes. When the blob is one big numeric array, place it so
 * that the array data is aligned for its element type: unpacking such a Buffer in-process is
 * then zero-copy, and a C-order array can be transposed straight into it.
 */
function allocOutput(value: unknown, size: number): Buffer {
  const data = value instanceof NDArray && value.dtype !== 'object' ? (value.data as TypedArray) : dtypeOfTypedArray(value) ? (value as TypedArray) : null;
  if (!data || data.byteLength < 4096) return Buffer.allocUnsafe(size);
  const ndim = value instanceof NDArray ? value.shape.length : 1;
  const dataAt = 4 + 1 + LEN * (1 + ndim) + 8;
  const w = data.BYTES_PER_ELEMENT;
  const shift = (w - (dataAt % w)) % w;
  return Buffer.allocUnsafeSlow(size + shift).subarray(shift);
}

/** Serialize `value` as a DataJoint blob (pure TypeScript implementation). */
export function packTs(value: unknown, opts: PackOptions = {}): Buffer {
  const m = new Measurer();
  const size = 4 + m.elem(value);
  const buf = allocOutput(value, size);
  buf.write(m.matlab ? 'mYm\0' : 'dj0\0', 0, 'latin1');
  const w = new Writer(buf.subarray(4), m.plan);
  try {
    w.elem(value);
  } catch (e) {
    if (e instanceof RangeError) throw new BlobError('Value changed while it was being packed', { cause: e });
    throw e;
  }
  if (w.offset !== size - 4) throw new BlobError('Value changed while it was being packed');
  if (opts.compress === false || size <= 1000) return buf;
  // Compressed only when smaller, as DataJoint Python does; the adaptive compressor gives up
  // early on data that will not shrink instead of deflating all of it.
  const z = zlibCompressIfSmaller(buf, size - ZL.length - 8);
  if (z === null || ZL.length + 8 + z.length >= size) return buf;
  const out = Buffer.allocUnsafe(ZL.length + 8 + z.length);
  ZL.copy(out, 0);
  out.writeUInt32LE(size >>> 0, 6);
  out.writeUInt32LE(Math.floor(size / 0x1_0000_0000), 10);
  out.set(z, 14);
  return out;
}

/** The protocol the encoder would choose for `value`: 'mYm' when MATLAB-compatible, else 'dj0'. */
export function protocolOf(value: unknown): 'mYm' | 'dj0' {
  const m = new Measurer();
  m.elem(value);
  return m.matlab ? 'mYm' : 'dj0';
}
