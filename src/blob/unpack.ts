/**
 * Pure-TypeScript blob decoder (docs/blob-format.md).
 *
 * Every length read from the blob is checked against the bytes that remain (within the current
 * ITEM) before anything is allocated, so corrupt input raises BlobError instead of crashing or
 * allocating huge buffers. Numeric array data is returned as a view on the input when aligned,
 * otherwise with exactly one copy.
 */
import { constants as bufferConstants } from 'node:buffer';
import { BlobError, DataJointError } from '../errors.js';
import { zlibDecompress } from './compress.js';
import { Complex, DTYPE_CTOR, NDArray, type NumericDtype, type TypedArray, type TypedCtor } from './ndarray.js';
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
  datetime64Item,
  setOwn,
  utcMs,
  type Datetime64Unit,
  type RecField,
} from './types.js';

export interface UnpackOptions {
  /** Drop size-1 axes of arrays and turn 0-d results into scalars (upstream `squeeze=True`). */
  squeeze?: boolean;
  /** Read every LEN as u32 (blobs written by the 32-bit mYm MEX). */
  dims32?: boolean;
  /**
   * Keep scalar types: numpy scalars / 0-d arrays decode to NpScalar and Python floats to
   * PyFloat, so re-packing gives the same bytes. Default false: plain JS numbers.
   */
  typedScalars?: boolean;
}

// Containers may nest 1000 deep (the encoder's limit); +1 for the innermost leaf element.
const MAX_DEPTH = 1001;
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
// deflate cannot expand data by more than ~1032x; a larger claimed size is corrupt.
const MAX_INFLATE_RATIO = 1040;

const CLASS_DTYPE: Readonly<Record<number, NumericDtype>> = {
  3: 'bool',
  6: 'float64',
  7: 'float32',
  8: 'int8',
  9: 'uint8',
  10: 'int16',
  11: 'uint16',
  12: 'int32',
  13: 'uint32',
  14: 'int64',
  15: 'uint64',
};
const CLASS_NAMES: Readonly<Record<number, string>> = { 0: 'UNKNOWN', 1: 'CELL', 2: 'STRUCT', 16: 'FUNCTION' };


const utf8 = new TextDecoder('utf-8', { fatal: true });

function toSafe(v: bigint): number | bigint {
  return v >= -9007199254740991n && v <= 9007199254740991n ? Number(v) : v;
}

function swapBytes(b: Uint8Array, w: number): void {
  for (let i = 0; i + w <= b.length; i += w) {
    for (let a = i, z = i + w - 1; a < z; a++, z--) {
      const t = b[a]!;
      b[a] = b[z]!;
      b[z] = t;
    }
  }
}

class Reader {
  private pos: number;
  /** End of the current ITEM (or of the blob): nothing may be read past it. */
  private end: number;
  private depth = 0;
  private readonly dv: DataView;
  private readonly lenSize: 4 | 8;
  private readonly squeeze: boolean;
  private readonly typed: boolean;

  constructor(
    private readonly u8: Uint8Array,
    start: number,
    opts: UnpackOptions,
  ) {
    this.pos = start;
    this.end = u8.length;
    this.dv = new DataView(u8.buffer, u8.byteOffset, u8.byteLength);
    this.lenSize = opts.dims32 ? 4 : 8;
    this.squeeze = !!opts.squeeze;
    this.typed = !!opts.typedScalars;
  }

  get atEnd(): boolean {
    return this.pos === this.u8.length;
  }

  // --- primitive reads --------------------------------------------------------------------

  private need(n: number, what: string): void {
    if (n > this.end - this.pos) {
      throw new BlobError(
        `Blob is truncated or corrupt: ${what} needs ${n} bytes at offset ${this.pos}, only ${this.end - this.pos} remain`,
      );
    }
  }
  private byte(): number {
    this.need(1, 'a byte');
    return this.u8[this.pos++]!;
  }
  private u16(): number {
    this.need(2, 'a u16');
    const x = this.dv.getUint16(this.pos, true);
    this.pos += 2;
    return x;
  }
  private u32(): number {
    this.need(4, 'a u32');
    const x = this.dv.getUint32(this.pos, true);
    this.pos += 4;
    return x;
  }
  private f64(): number {
    this.need(8, 'a float64');
    const x = this.dv.getFloat64(this.pos, true);
    this.pos += 8;
    return x;
  }
  /** A LEN field (u64, or u32 in 32-bit mode) as a safe integer. */
  private len(what: string): number {
    if (this.lenSize === 4) return this.u32();
    this.need(8, what);
    const lo = this.dv.getUint32(this.pos, true);
    const hi = this.dv.getUint32(this.pos + 4, true);
    if (hi >= 0x20_0000) throw new BlobError(`Blob is corrupt: ${what} ${hi * 2 ** 32 + lo} is implausibly large`);
    this.pos += 8;
    return hi * 0x1_0000_0000 + lo;
  }
  /** A count of things that take at least `minBytes` each; checked against what remains. */
  private count(what: string, minBytes: number): number {
    const n = this.len(what);
    if (n * minBytes > this.end - this.pos) {
      throw new BlobError(`Blob is truncated or corrupt: ${what} ${n} does not fit in the ${this.end - this.pos} remaining bytes`);
    }
    return n;
  }
  private slice(n: number): Uint8Array {
    const s = this.u8.subarray(this.pos, this.pos + n);
    this.pos += n;
    return s;
  }

  // --- elements ---------------------------------------------------------------------------

  /** ITEM: LEN n followed by one element that must use exactly n bytes. */
  private item(): unknown {
    const n = this.len('item length');
    this.need(n, 'an item');
    const outer = this.end;
    this.end = this.pos + n;
    const v = this.elem();
    if (this.pos !== this.end) {
      throw new BlobError(`Blob is corrupt: an item used ${n - (this.end - this.pos)} of its ${n} bytes`);
    }
    this.end = outer;
    return v;
  }

  elem(): unknown {
    if (++this.depth > MAX_DEPTH) throw new BlobError(`Blob is nested more than ${MAX_DEPTH - 1} levels deep`);
    const code = this.byte();
    let v: unknown;
    switch (code) {
      case 0xff:
        v = null;
        break;
      case 0x01:
      case 0x02:
      case 0x03: {
        const n = this.count('element count', this.lenSize + 1);
        const items: unknown[] = code === 0x01 ? new Tuple() : [];
        for (let i = 0; i < n; i++) items.push(this.item());
        v = code === 0x03 ? new Set(items) : items;
        break;
      }
      case 0x04:
        v = this.dict();
        break;
      case 0x05: {
        const n = this.count('string length', 1);
        try {
          v = utf8.decode(this.slice(n));
        } catch (e) {
          throw new BlobError('Blob is corrupt: a string is not valid UTF-8', { cause: e });
        }
        break;
      }
      case 0x06: {
        const n = this.count('bytes length', 1);
        const s = this.slice(n);
        v = Buffer.from(s.buffer, s.byteOffset, s.byteLength);
        break;
      }
      case 0x0a:
        v = this.int();
        break;
      case 0x0b:
        v = this.byte() !== 0;
        break;
      case 0x0c: {
        const re = this.f64();
        v = new Complex(re, this.f64());
        break;
      }
      case 0x0d: {
        const x = this.f64();
        v = this.typed ? new PyFloat(x) : x;
        break;
      }
      case 0x64: {
        const n = this.count('decimal length', 1);
        const s = Buffer.from(this.slice(n)).toString('latin1');
        if (!DECIMAL_RE.test(s)) throw new BlobError(`Blob is corrupt: invalid decimal text ${JSON.stringify(s.slice(0, 40))}`);
        v = new Decimal(s);
        break;
      }
      case 0x74:
        v = this.datetime();
        break;
      case 0x75:
        this.need(16, 'a UUID');
        v = new UUID(this.slice(16));
        break;
      case 0x41:
        v = this.array(false);
        break;
      case 0x46:
        v = this.rec();
        break;
      case 0x53:
        v = this.struct();
        break;
      case 0x43:
        v = this.cell();
        break;
      case 0x50:
        throw new BlobError('datajoint-python does not yet support sparse arrays. Issue (#590)');
      default: {
        const c = code >= 0x20 && code < 0x7f ? String.fromCharCode(code) : `\\x${code.toString(16).padStart(2, '0')}`;
        throw new BlobError(`Unknown data structure code "${c}". Upgrade datajoint.`);
      }
    }
    this.depth--;
    return v;
  }

  private dict(): unknown {
    const n = this.count('dict size', 2 * (this.lenSize + 1));
    const keys: unknown[] = [];
    const vals: unknown[] = [];
    let allStrings = true;
    for (let i = 0; i < n; i++) {
      const k = this.item();
      if (typeof k !== 'string') allStrings = false;
      keys.push(k);
      vals.push(this.item());
    }
    if (allStrings) {
      const o: Record<string, unknown> = {};
      for (let i = 0; i < n; i++) setOwn(o, keys[i] as string, vals[i]);
      return o;
    }
    const m = new Map<unknown, unknown>();
    for (let i = 0; i < n; i++) m.set(keys[i], vals[i]);
    return m;
  }

  /** Python int: u16 byte count, then little-endian two's complement. */
  private int(): number | bigint {
    const n = this.u16();
    this.need(n, 'an integer');
    const b = this.u8;
    const p = this.pos;
    this.pos += n;
    if (n === 0) return 0;
    const negative = (b[p + n - 1]! & 0x80) !== 0;
    if (n <= 6) {
      // Fits a double exactly: no bigint needed.
      let x = 0;
      for (let i = n - 1; i >= 0; i--) x = x * 256 + b[p + i]!;
      return negative ? x - 2 ** (8 * n) : x;
    }
    let hex = '';
    for (let i = n - 1; i >= 0; i--) hex += b[p + i]!.toString(16).padStart(2, '0');
    let x = BigInt('0x' + hex);
    if (negative) x -= 1n << BigInt(8 * n);
    return toSafe(x);
  }

  private datetime(): Date | DateOnly | TimeOfDay | null {
    this.need(12, 'a datetime');
    const date = this.dv.getInt32(this.pos, true);
    const lo = this.dv.getUint32(this.pos + 4, true);
    const hi = this.dv.getInt32(this.pos + 8, true);
    this.pos += 12;
    const time = hi * 0x1_0000_0000 + lo;
    let y = 0,
      mo = 0,
      d = 0,
      h = 0,
      mi = 0,
      s = 0,
      us = 0;
    if (date >= 0) {
      y = Math.floor(date / 10000);
      mo = Math.floor(date / 100) % 100;
      d = date % 100;
      if (y < 1 || y > 9999 || mo < 1 || mo > 12 || d < 1 || d > new Date(utcMs(y, mo + 1, 0)).getUTCDate()) {
        throw new BlobError(`Blob is corrupt: invalid date ${date}`);
      }
    }
    if (time >= 0) {
      us = time % 1_000_000;
      const t = Math.floor(time / 1_000_000);
      s = t % 100;
      mi = Math.floor(t / 100) % 100;
      h = Math.floor(t / 10000);
      if (h > 23 || mi > 59 || s > 59) throw new BlobError(`Blob is corrupt: invalid time ${time}`);
    }
    if (date >= 0 && time >= 0) {
      const ms = utcMs(y, mo, d, h, mi, s, Math.floor(us / 1000));
      return us % 1000 ? new DateTime(ms, us % 1000) : new Date(ms);
    }
    if (date >= 0) return new DateOnly(y, mo, d);
    if (time >= 0) return new TimeOfDay(h, mi, s, us);
    return null;
  }

  // --- arrays -----------------------------------------------------------------------------

  private shape(): number[] {
    const ndim = this.count('ndim', this.lenSize);
    const shape: number[] = [];
    for (let i = 0; i < ndim; i++) shape.push(this.len('dimension'));
    return shape;
  }

  /** Number of elements of `shape`, ensuring `size * minBytes` fits in what remains. */
  private elements(shape: readonly number[], minBytes: number, what: string): number {
    let n = 1;
    for (const d of shape) n *= d;
    if (n === 0) return 0;
    if (!(n * minBytes <= this.end - this.pos)) {
      throw new BlobError(
        `Blob is truncated or corrupt: ${what} of shape [${shape.join(', ')}] does not fit in the ${this.end - this.pos} remaining bytes`,
      );
    }
    return n;
  }

  /** `n` elements of a numeric type: a view when aligned, else exactly one copy. */
  private typedArray(Ctor: TypedCtor, n: number): TypedArray {
    const w = Ctor.BYTES_PER_ELEMENT;
    const nbytes = n * w;
    this.need(nbytes, 'array data');
    const abs = this.u8.byteOffset + this.pos;
    this.pos += nbytes;
    if (LITTLE_ENDIAN && abs % w === 0) return new Ctor(this.u8.buffer, abs, n);
    const copy = this.u8.buffer.slice(abs, abs + nbytes);
    if (!LITTLE_ENDIAN) swapBytes(new Uint8Array(copy), w);
    return new Ctor(copy, 0, n);
  }

  /**
   * `A` element. `keepArray` (fields of structured arrays) returns arrays even when 0-d;
   * otherwise 0-d arrays become scalars (numpy scalars).
   */
  private array(keepArray: boolean): NDArray | CharArray | unknown {
    const shape = this.shape();
    const classId = this.u32();
    const complex = this.u32() !== 0;
    const sq = this.squeeze ? shape.filter((d) => d !== 1) : shape;
    const scalar = !keepArray && sq.length === 0;

    const dtype = CLASS_DTYPE[classId];
    if (dtype) {
      const n = this.elements(shape, DTYPE_CTOR[dtype].BYTES_PER_ELEMENT * (complex ? 2 : 1), 'array');
      let data: TypedArray;
      let dt: NumericDtype = dtype;
      if (complex) {
        if (dtype === 'bool') throw new BlobError('Blob is corrupt: a logical array cannot be complex');
        const parts = this.typedArray(DTYPE_CTOR[dtype], 2 * n);
        dt = dtype === 'float32' ? 'complex64' : 'complex128';
        data = dt === 'complex64' ? new Float32Array(2 * n) : new Float64Array(2 * n);
        // The blob stores all real parts, then all imaginary parts; NDArray interleaves.
        const out = data as Float64Array;
        for (let i = 0; i < n; i++) {
          out[2 * i] = Number(parts[i]);
          out[2 * i + 1] = Number(parts[n + i]);
        }
      } else if (dtype === 'bool') {
        this.need(n, 'array data');
        const src = this.slice(n);
        const out = new Uint8Array(n);
        for (let i = 0; i < n; i++) out[i] = src[i] ? 1 : 0;
        data = out;
      } else {
        data = this.typedArray(DTYPE_CTOR[dtype], n);
      }
      const arr = new NDArray({ dtype: dt, shape: sq, data });
      return scalar ? this.scalar(arr, dt) : arr;
    }
    if (complex) throw new BlobError(`Blob is corrupt: array class ${classId} cannot be complex`);
    if (classId === 4) {
      const n = this.elements(shape, 2, 'char array');
      const data = this.typedArray(Uint16Array as unknown as TypedCtor, n) as Uint16Array;
      const c = new CharArray({ shape: sq, data });
      // Upstream reads a 1-D or one-row char array as one string; squeezing that gives a str.
      if (this.squeeze && !keepArray && (isCharRow(shape) || sq.length === 0)) return c.toString();
      if (!keepArray && shape.length === 0) return c.toString();
      return c;
    }
    if (classId === 5) {
      const n = this.elements(shape, this.lenSize + 1, 'object array');
      const data: unknown[] = [];
      for (let i = 0; i < n; i++) data.push(this.item());
      return scalar ? data[0] : new NDArray({ dtype: 'object', shape: sq, data });
    }
    if (classId >= 65536 && classId < 65536 + DATETIME64_UNITS.length) {
      const unit = DATETIME64_UNITS[classId - 65536]!;
      const n = this.elements(shape, 8, 'datetime64 array');
      const data = this.typedArray(BigInt64Array as unknown as TypedCtor, n) as BigInt64Array;
      if (scalar) {
        if (this.typed && !this.squeeze) return new NpScalar(`datetime64[${unit}]`, data[0]!);
        return datetime64Item(data[0]!, unit as Datetime64Unit);
      }
      return new Datetime64Array({ unit, shape: sq, data });
    }
    const name = CLASS_NAMES[classId];
    throw new BlobError(`Cannot decode an array of class ${name ? `${name} (${classId})` : classId}`);
  }

  /** The single element of a 0-d numeric array, as numpy scalar (`typed`) or JS value. */
  private scalar(a: NDArray, dtype: NumericDtype): unknown {
    const x = a.get(...a.shape.map(() => 0));
    const v = typeof x === 'bigint' && !this.typed ? toSafe(x) : x;
    if (!this.typed) return v;
    // Squeezing calls numpy's .item(): a Python scalar, so floats become PyFloat, not NpScalar.
    if (this.squeeze) return dtype === 'float32' || dtype === 'float64' ? new PyFloat(v as number) : v;
    return new NpScalar(dtype, v as number | bigint | boolean | Complex);
  }

  /** Field names: a u32 count, then NUL-terminated UTF-8 names. */
  private names(): string[] {
    const nf = this.u32();
    if (nf > this.end - this.pos) throw new BlobError(`Blob is corrupt: ${nf} field names do not fit in the remaining bytes`);
    const names: string[] = [];
    for (let i = 0; i < nf; i++) {
      const rel = this.u8.subarray(this.pos, this.end).indexOf(0);
      if (rel < 0) throw new BlobError('Blob is truncated or corrupt: unterminated field name');
      const z = this.pos + rel;
      let name: string;
      try {
        name = utf8.decode(this.u8.subarray(this.pos, z));
      } catch (e) {
        throw new BlobError('Blob is corrupt: a field name is not valid UTF-8', { cause: e });
      }
      this.pos = z + 1;
      names.push(name);
    }
    if (new Set(names).size !== names.length) throw new BlobError('Blob is corrupt: duplicate field names');
    return names;
  }

  /** `F`: numpy structured array, one whole array per field with no length prefix. */
  private rec(): RecArray | null {
    const names = this.names();
    if (names.length === 0) return null; // upstream: np.array(None)
    const fields: Array<{ name: string; value: RecField }> = [];
    for (const name of names) {
      this.need(1, 'a field');
      const code = this.u8[this.pos]!;
      let value: unknown;
      if (code === 0x41) {
        this.pos++;
        value = this.array(true);
      } else if (code === 0x46) {
        this.pos++;
        // Nested structured fields recurse without going through elem(): count them here.
        if (++this.depth > MAX_DEPTH) throw new BlobError(`Blob is nested more than ${MAX_DEPTH - 1} levels deep`);
        value = this.rec();
        this.depth--;
        if (value === null) throw new BlobError('Blob is corrupt: a nested structured field has no fields');
      } else {
        throw new BlobError(`Blob is corrupt: field "${name}" of a structured array is not an array`);
      }
      fields.push({ name, value: value as RecField });
    }
    return new RecArray(fields);
  }

  /** `S`: MATLAB struct array; values element by element (F order), field by field. */
  private struct(): MatStruct {
    const shape = this.shape();
    const fields = this.names();
    const n = fields.length ? this.elements(shape, fields.length * (this.lenSize + 1), 'struct array') : checkedSize(shape);
    const values: unknown[] = [];
    for (let i = 0; i < n * fields.length; i++) values.push(this.item());
    return new MatStruct({ shape: this.squeeze ? shape.filter((d) => d !== 1) : shape, fields, values });
  }

  /** `C`: MATLAB cell array. An empty cell comes back with shape [0], as upstream. */
  private cell(): MatCell {
    const shape = this.shape();
    const n = this.elements(shape, this.lenSize + 1, 'cell array');
    const data: unknown[] = [];
    for (let i = 0; i < n; i++) data.push(this.item());
    const out = n === 0 ? [0] : this.squeeze ? shape.filter((d) => d !== 1) : shape;
    return new MatCell({ shape: out, data });
  }
}

function isCharRow(shape: readonly number[]): boolean {
  return shape.length === 1 || (shape.length === 2 && shape[0] === 1);
}

function checkedSize(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  if (!Number.isSafeInteger(n)) throw new BlobError(`Blob is corrupt: shape [${shape.join(', ')}] is too large`);
  return n;
}

function startsWith(b: Uint8Array, s: string): boolean {
  if (b.length < s.length) return false;
  for (let i = 0; i < s.length; i++) if (b[i] !== s.charCodeAt(i)) return false;
  return true;
}

/** Deserialize a DataJoint blob (pure TypeScript implementation). */
export function unpackTs(bytes: Uint8Array, opts: UnpackOptions = {}): unknown {
  if (!(bytes instanceof Uint8Array)) throw new BlobError('unpack expects a Buffer or Uint8Array');
  let blob = bytes;
  if (startsWith(blob, 'ZL123\0')) {
    const hdr = opts.dims32 ? 10 : 14;
    if (blob.length < hdr) throw new BlobError('Blob is truncated: incomplete compression header');
    const dv = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
    const size = opts.dims32 ? dv.getUint32(6, true) : dv.getUint32(6, true) + dv.getUint32(10, true) * 0x1_0000_0000;
    const zlen = blob.length - hdr;
    if (size > bufferConstants.MAX_LENGTH || size > zlen * MAX_INFLATE_RATIO + 1024) {
      throw new BlobError(`Blob size mismatch: header claims ${size} bytes from ${zlen} compressed bytes`);
    }
    let inflated: Uint8Array;
    try {
      inflated = zlibDecompress(blob.subarray(hdr), size);
    } catch (e) {
      throw new BlobError(`Blob decompression failed: ${(e as Error).message}`, { cause: e });
    }
    if (inflated.length !== size) throw new BlobError('Blob size mismatch');
    blob = inflated;
  }
  // Upstream reads the header up to the first NUL and returns None for unknown protocols.
  if (!startsWith(blob, 'mYm\0') && !startsWith(blob, 'dj0\0')) return null;
  const r = new Reader(blob, 4, opts);
  let v: unknown;
  try {
    v = r.elem();
  } catch (e) {
    if (e instanceof BlobError) throw e;
    // A wrapper constructor refusing a value, or the stack running out: still a corrupt blob.
    if (e instanceof DataJointError || e instanceof RangeError) {
      throw new BlobError(`Blob could not be decoded: ${e.message}`, { cause: e });
    }
    throw e;
  }
  if (!r.atEnd) throw new BlobError('Blob length check failed! Invalid blob');
  return v;
}
