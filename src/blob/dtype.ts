/**
 * The dtypes of NDArray data: numeric dtype names, the typed array that stores each one, and the
 * two storage orders. Kept apart from NDArray so the transpose helpers (transpose.ts) and the
 * codec can use them without importing the NDArray module back.
 */

/** Numeric dtypes of API.md §7. */
export type NumericDtype =
  | 'bool'
  | 'int8'
  | 'uint8'
  | 'int16'
  | 'uint16'
  | 'int32'
  | 'uint32'
  | 'int64'
  | 'uint64'
  | 'float32'
  | 'float64'
  | 'complex64'
  | 'complex128';

/** `object` arrays hold arbitrary decoded values (numpy object arrays, MATLAB cells). */
export type Dtype = NumericDtype | 'object';

export type TypedArray =
  | Int8Array
  | Uint8Array
  | Uint8ClampedArray
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | BigInt64Array
  | BigUint64Array
  | Float32Array
  | Float64Array;

export type Order = 'F' | 'C';

export type TypedCtor = {
  new (n: number): TypedArray;
  new (buf: ArrayBufferLike, byteOffset: number, length: number): TypedArray;
  readonly BYTES_PER_ELEMENT: number;
};

/** Typed-array constructor holding the (real part of the) data of each numeric dtype. */
export const DTYPE_CTOR: Readonly<Record<NumericDtype, TypedCtor>> = {
  bool: Uint8Array,
  int8: Int8Array,
  uint8: Uint8Array,
  int16: Int16Array,
  uint16: Uint16Array,
  int32: Int32Array,
  uint32: Uint32Array,
  int64: BigInt64Array as unknown as TypedCtor,
  uint64: BigUint64Array as unknown as TypedCtor,
  float32: Float32Array,
  float64: Float64Array,
  complex64: Float32Array,
  complex128: Float64Array,
};

export function isNumericDtype(d: unknown): d is NumericDtype {
  return typeof d === 'string' && Object.prototype.hasOwnProperty.call(DTYPE_CTOR, d);
}

export function isComplexDtype(d: Dtype): d is 'complex64' | 'complex128' {
  return d === 'complex64' || d === 'complex128';
}

function isTypedArray(x: unknown): x is TypedArray {
  return ArrayBuffer.isView(x) && !(x instanceof DataView);
}

/** The dtype a typed array maps to, or undefined for anything else. */
export function dtypeOfTypedArray(x: unknown): NumericDtype | undefined {
  if (!isTypedArray(x)) return undefined;
  if (x instanceof Float64Array) return 'float64';
  if (x instanceof Float32Array) return 'float32';
  if (x instanceof Uint8Array || x instanceof Uint8ClampedArray) return 'uint8';
  if (x instanceof Int8Array) return 'int8';
  if (x instanceof Int16Array) return 'int16';
  if (x instanceof Uint16Array) return 'uint16';
  if (x instanceof Int32Array) return 'int32';
  if (x instanceof Uint32Array) return 'uint32';
  if (x instanceof BigInt64Array) return 'int64';
  if (x instanceof BigUint64Array) return 'uint64';
  return undefined;
}
