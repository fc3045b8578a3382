/**
 * `A` elements of the blob decoder (unpack.ts): numeric, logical and complex arrays, MATLAB char
 * arrays, object arrays and numpy datetime64 arrays. Numeric array data is returned as a view on
 * the input when aligned, otherwise with exactly one copy; 0-d arrays become scalars unless the
 * caller keeps them as arrays (fields of structured arrays).
 */
import { BlobError } from '../errors.js';
import { DTYPE_CTOR, type NumericDtype, type TypedArray, type TypedCtor } from './dtype.js';
import { NDArray, type Complex } from './ndarray.js';
import {
  CharArray,
  DATETIME64_UNITS,
  Datetime64Array,
  NpScalar,
  PyFloat,
  datetime64Item,
  type Datetime64Unit,
} from './types.js';
import { toSafe, type BlobReader } from './unpack-read.js';

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

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

function swapBytes(b: Uint8Array, w: number): void {
  for (let i = 0; i + w <= b.length; i += w) {
    for (let a = i, z = i + w - 1; a < z; a++, z--) {
      const t = b[a]!;
      b[a] = b[z]!;
      b[z] = t;
    }
  }
}

/** `n` elements of a numeric type: a view when aligned, else exactly one copy. */
function typedArray(r: BlobReader, Ctor: TypedCtor, n: number): TypedArray {
  const w = Ctor.BYTES_PER_ELEMENT;
  const nbytes = n * w;
  r.need(nbytes, 'array data');
  const abs = r.u8.byteOffset + r.pos;
  r.pos += nbytes;
  if (LITTLE_ENDIAN && abs % w === 0) return new Ctor(r.u8.buffer, abs, n);
  const copy = r.u8.buffer.slice(abs, abs + nbytes);
  if (!LITTLE_ENDIAN) swapBytes(new Uint8Array(copy), w);
  return new Ctor(copy, 0, n);
}

/**
 * `A` element. `keepArray` (fields of structured arrays) returns arrays even when 0-d;
 * otherwise 0-d arrays become scalars (numpy scalars).
 */
export function readArray(r: BlobReader, keepArray: boolean): NDArray | CharArray | unknown {
  const shape = r.shape();
  const classId = r.u32();
  const complex = r.u32() !== 0;
  const sq = r.squeeze ? shape.filter((d) => d !== 1) : shape;
  const scalar = !keepArray && sq.length === 0;

  const dtype = CLASS_DTYPE[classId];
  if (dtype) {
    const n = r.elements(shape, DTYPE_CTOR[dtype].BYTES_PER_ELEMENT * (complex ? 2 : 1), 'array');
    let data: TypedArray;
    let dt: NumericDtype = dtype;
    if (complex) {
      if (dtype === 'bool') throw new BlobError('Blob is corrupt: a logical array cannot be complex');
      const parts = typedArray(r, DTYPE_CTOR[dtype], 2 * n);
      dt = dtype === 'float32' ? 'complex64' : 'complex128';
      data = dt === 'complex64' ? new Float32Array(2 * n) : new Float64Array(2 * n);
      // The blob stores all real parts, then all imaginary parts; NDArray interleaves.
      const out = data as Float64Array;
      for (let i = 0; i < n; i++) {
        out[2 * i] = Number(parts[i]);
        out[2 * i + 1] = Number(parts[n + i]);
      }
    } else if (dtype === 'bool') {
      r.need(n, 'array data');
      const src = r.slice(n);
      const out = new Uint8Array(n);
      for (let i = 0; i < n; i++) out[i] = src[i] ? 1 : 0;
      data = out;
    } else {
      data = typedArray(r, DTYPE_CTOR[dtype], n);
    }
    const arr = new NDArray({ dtype: dt, shape: sq, data });
    return scalar ? numpyScalar(r, arr, dt) : arr;
  }
  if (complex) throw new BlobError(`Blob is corrupt: array class ${classId} cannot be complex`);
  if (classId === 4) {
    const n = r.elements(shape, 2, 'char array');
    const data = typedArray(r, Uint16Array as unknown as TypedCtor, n) as Uint16Array;
    const c = new CharArray({ shape: sq, data });
    // Upstream reads a 1-D or one-row char array as one string; squeezing that gives a str.
    if (r.squeeze && !keepArray && (isCharRow(shape) || sq.length === 0)) return c.toString();
    if (!keepArray && shape.length === 0) return c.toString();
    return c;
  }
  if (classId === 5) {
    const n = r.elements(shape, r.lenSize + 1, 'object array');
    const data: unknown[] = [];
    for (let i = 0; i < n; i++) data.push(r.item());
    return scalar ? data[0] : new NDArray({ dtype: 'object', shape: sq, data });
  }
  if (classId >= 65536 && classId < 65536 + DATETIME64_UNITS.length) {
    const unit = DATETIME64_UNITS[classId - 65536]!;
    const n = r.elements(shape, 8, 'datetime64 array');
    const data = typedArray(r, BigInt64Array as unknown as TypedCtor, n) as BigInt64Array;
    if (scalar) {
      if (r.typed && !r.squeeze) return new NpScalar(`datetime64[${unit}]`, data[0]!);
      return datetime64Item(data[0]!, unit as Datetime64Unit);
    }
    return new Datetime64Array({ unit, shape: sq, data });
  }
  const name = CLASS_NAMES[classId];
  throw new BlobError(`Cannot decode an array of class ${name ? `${name} (${classId})` : classId}`);
}

/** The single element of a 0-d numeric array, as numpy scalar (`typed`) or JS value. */
function numpyScalar(r: BlobReader, a: NDArray, dtype: NumericDtype): unknown {
  const x = a.get(...a.shape.map(() => 0));
  const v = typeof x === 'bigint' && !r.typed ? toSafe(x) : x;
  if (!r.typed) return v;
  // Squeezing calls numpy's .item(): a Python scalar, so floats become PyFloat, not NpScalar.
  if (r.squeeze) return dtype === 'float32' || dtype === 'float64' ? new PyFloat(v as number) : v;
  return new NpScalar(dtype, v as number | bigint | boolean | Complex);
}

function isCharRow(shape: readonly number[]): boolean {
  return shape.length === 1 || (shape.length === 2 && shape[0] === 1);
}
