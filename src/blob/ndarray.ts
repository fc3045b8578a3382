/**
 * `dj.NDArray`: an n-dimensional numeric (or object) array as stored in DataJoint blobs.
 *
 * Blobs store arrays in Fortran (column-major) order, so decoded arrays keep `order: 'F'` and
 * their `data` is the stored bytes (often a zero-copy view on the blob). `order: 'C'` arrays are
 * accepted for packing and transposed on the way out.
 */
import { transposeNative } from '../native/numeric.js';
import { DataJointError } from '../errors.js';

/**
 * A complex number (Python `complex`, numpy complex scalars, elements of complex arrays).
 * Lives here rather than in types.ts so ndarray.ts has no import cycle.
 */
export class Complex {
  constructor(
    readonly re: number,
    readonly im: number,
  ) {}
  toString(): string {
    return `${this.re}${this.im < 0 || Object.is(this.im, -0) ? '-' : '+'}${Math.abs(this.im)}j`;
  }
}

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

/** The `data` type that goes with each dtype. Complex data is interleaved re, im. */
export interface DataForDtype {
  bool: Uint8Array;
  int8: Int8Array;
  uint8: Uint8Array;
  int16: Int16Array;
  uint16: Uint16Array;
  int32: Int32Array;
  uint32: Uint32Array;
  int64: BigInt64Array;
  uint64: BigUint64Array;
  float32: Float32Array;
  float64: Float64Array;
  complex64: Float32Array;
  complex128: Float64Array;
  object: unknown[];
}

/** Element type returned by `get()`. */
export interface ElementForDtype {
  bool: boolean;
  int8: number;
  uint8: number;
  int16: number;
  uint16: number;
  int32: number;
  uint32: number;
  int64: bigint;
  uint64: bigint;
  float32: number;
  float64: number;
  complex64: Complex;
  complex128: Complex;
  object: unknown;
}

export type Order = 'F' | 'C';

export interface NDArrayInit<D extends Dtype = Dtype> {
  dtype: D;
  shape: readonly number[];
  /** A typed array of the dtype's kind, or a plain array (converted on construction). */
  data: DataForDtype[D] | ArrayLike<unknown>;
  order?: Order;
}

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

/** Product of a shape; throws on non-integer or negative entries. */
export function shapeSize(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) {
    if (!Number.isSafeInteger(d) || d < 0) throw new DataJointError(`Invalid array dimension ${String(d)}`);
    n *= d;
  }
  if (!Number.isSafeInteger(n)) throw new DataJointError('Array size exceeds the safe integer range');
  return n;
}

function isTypedArray(x: unknown): x is TypedArray {
  return ArrayBuffer.isView(x) && !(x instanceof DataView);
}

/** Convert user data to the canonical storage for `dtype` (no copy when it already is). */
function normalizeData(dtype: Dtype, data: unknown, size: number): TypedArray | unknown[] {
  if (dtype === 'object') {
    if (Array.isArray(data)) return data;
    if (data != null && typeof (data as ArrayLike<unknown>).length === 'number') {
      return Array.from(data as ArrayLike<unknown>);
    }
    throw new DataJointError('NDArray of dtype object needs an array of values');
  }
  const Ctor = DTYPE_CTOR[dtype];
  if (data instanceof Ctor && !(dtype === 'uint8' && data instanceof Uint8ClampedArray)) {
    if (dtype === 'bool') {
      // bool data must hold 0/1 only; normalize in place only when needed (no copy).
      const u = data as Uint8Array;
      for (let i = 0; i < u.length; i++) {
        if (u[i]! > 1) return Uint8Array.from(u, (v) => (v ? 1 : 0));
      }
    }
    return data as TypedArray;
  }
  if (data == null || typeof (data as ArrayLike<unknown>).length !== 'number') {
    throw new DataJointError(`NDArray data must be a typed array or an array, got ${typeof data}`);
  }
  const src = data as ArrayLike<unknown>;
  const cplx = isComplexDtype(dtype);
  // Complex data given as Complex objects / [re, im] pairs is interleaved here.
  if (cplx && src.length === size && size > 0 && typeof src[0] === 'object') {
    const out = new (Ctor as Float64ArrayConstructor)(2 * size);
    for (let i = 0; i < size; i++) {
      const v = src[i];
      if (v instanceof Complex) {
        out[2 * i] = v.re;
        out[2 * i + 1] = v.im;
      } else if (Array.isArray(v) && v.length === 2) {
        out[2 * i] = Number(v[0]);
        out[2 * i + 1] = Number(v[1]);
      } else {
        throw new DataJointError('Complex NDArray data must be interleaved numbers, Complex, or [re, im] pairs');
      }
    }
    return out;
  }
  if (dtype === 'int64' || dtype === 'uint64') {
    const out = dtype === 'int64' ? new BigInt64Array(src.length) : new BigUint64Array(src.length);
    for (let i = 0; i < src.length; i++) {
      const v = src[i];
      out[i] = typeof v === 'bigint' ? v : BigInt(v as number);
    }
    return out;
  }
  const out = new Ctor(src.length) as Exclude<TypedArray, BigInt64Array | BigUint64Array>;
  for (let i = 0; i < src.length; i++) {
    const v = src[i];
    out[i] = dtype === 'bool' ? (v ? 1 : 0) : Number(v as number);
  }
  return out;
}

export class NDArray<D extends Dtype = Dtype> {
  readonly dtype: D;
  readonly shape: number[];
  readonly data: DataForDtype[D];
  readonly order: Order;

  constructor(init: NDArrayInit<D>) {
    const { dtype, shape } = init;
    if (dtype !== 'object' && !isNumericDtype(dtype)) throw new DataJointError(`Unknown NDArray dtype "${String(dtype)}"`);
    if (!Array.isArray(shape)) throw new DataJointError('NDArray shape must be an array of dimensions');
    const order = init.order ?? 'F';
    if (order !== 'F' && order !== 'C') throw new DataJointError(`NDArray order must be 'F' or 'C'`);
    const size = shapeSize(shape);
    const data = normalizeData(dtype, init.data, size);
    const expected = isComplexDtype(dtype) ? 2 * size : size;
    if (data.length !== expected) {
      throw new DataJointError(
        `NDArray data length ${data.length} does not match shape [${shape.join(', ')}] (expected ${expected})`,
      );
    }
    this.dtype = dtype;
    this.shape = shape.slice();
    this.data = data as DataForDtype[D];
    this.order = order;
  }

  /** A 1-D array over a typed array (no copy). Uint8ClampedArray becomes uint8. */
  static from(values: TypedArray | readonly number[] | readonly boolean[] | readonly bigint[]): NDArray {
    const dtype = dtypeOfTypedArray(values);
    if (dtype) {
      const data = values instanceof Uint8ClampedArray ? new Uint8Array(values.buffer, values.byteOffset, values.length) : values;
      return new NDArray({ dtype, shape: [values.length], data: data as TypedArray });
    }
    const arr = values as readonly unknown[];
    const dt: NumericDtype =
      arr.length > 0 && typeof arr[0] === 'boolean' ? 'bool' : arr.length > 0 && typeof arr[0] === 'bigint' ? 'int64' : 'float64';
    return new NDArray({ dtype: dt, shape: [arr.length], data: arr });
  }

  get ndim(): number {
    return this.shape.length;
  }

  /** Number of elements. */
  get size(): number {
    let n = 1;
    for (const d of this.shape) n *= d;
    return n;
  }

  /** Linear position in `data` (in elements) of the element at `idx`, honouring `order`. */
  offsetOf(idx: readonly number[]): number {
    const shape = this.shape;
    if (idx.length === 1 && shape.length !== 1) {
      // A single index addresses the flat data (in storage order), like MATLAB linear indexing.
      const i = idx[0]!;
      if (!Number.isInteger(i) || i < 0 || i >= this.size) throw new RangeError(`Index ${i} out of range`);
      return i;
    }
    if (idx.length !== shape.length) throw new RangeError(`Expected ${shape.length} indices, got ${idx.length}`);
    let off = 0;
    let stride = 1;
    for (let k = 0; k < shape.length; k++) {
      const axis = this.order === 'F' ? k : shape.length - 1 - k;
      const i = idx[axis]!;
      if (!Number.isInteger(i) || i < 0 || i >= shape[axis]!) {
        throw new RangeError(`Index ${i} out of range for axis ${axis} of size ${shape[axis]}`);
      }
      off += i * stride;
      stride *= shape[axis]!;
    }
    return off;
  }

  /** Element at the given indices (one per axis, or one linear index in storage order). */
  get(...idx: number[]): ElementForDtype[D] {
    const off = this.offsetOf(idx);
    const data = this.data as TypedArray | unknown[];
    if (this.dtype === 'bool') return ((data as Uint8Array)[off] !== 0) as ElementForDtype[D];
    if (isComplexDtype(this.dtype)) {
      const f = data as Float64Array;
      return new Complex(f[2 * off]!, f[2 * off + 1]!) as ElementForDtype[D];
    }
    return data[off] as ElementForDtype[D];
  }

  /** Same data with every size-1 axis dropped (no copy: storage order is unaffected). */
  squeeze(): this {
    return this.withShape(this.shape.filter((d) => d !== 1));
  }

  /** Same data with another shape of equal size (no copy). Keeps the subclass. */
  reshape(shape: readonly number[]): this {
    if (shapeSize(shape) !== this.size) throw new DataJointError('reshape must keep the number of elements');
    return this.withShape(shape);
  }

  /** This array in the requested storage order (copies only when the order changes). */
  toOrder(order: Order): this {
    if (order === this.order) return this;
    const c = this.withShape(this.shape);
    // With at most one non-unit axis both orders share one layout: relabel only.
    if (this.shape.filter((d) => d !== 1).length > 1) {
      const width = isComplexDtype(this.dtype) ? 2 : 1;
      (c as { data: unknown }).data = transposeData(this.data as TypedArray | unknown[], this.shape, this.order, width);
    }
    (c as { order: Order }).order = order;
    return c;
  }

  /** Elements as a plain nested JS array (row-major nesting: `a[i][j]`). */
  toNested(): unknown {
    if (this.shape.length === 0) return this.get();
    const rec = (prefix: number[]): unknown[] => {
      const axis = prefix.length;
      const out: unknown[] = [];
      for (let i = 0; i < this.shape[axis]!; i++) {
        const idx = [...prefix, i];
        out.push(axis + 1 === this.shape.length ? this.get(...idx) : rec(idx));
      }
      return out;
    };
    return rec([]);
  }

  private withShape(shape: readonly number[]): this {
    const c = Object.create(Object.getPrototypeOf(this) as object) as this;
    Object.assign(c, this);
    (c as { shape: number[] }).shape = shape.slice();
    return c;
  }
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

/**
 * Copy `data` (stored in `from` order for `shape`) into the other order. `width` is the
 * number of data slots per element (2 for interleaved complex).
 */
export function transposeData<T extends TypedArray | unknown[]>(data: T, shape: readonly number[], from: Order, width: number): T {
  const n = data.length;
  const out = (Array.isArray(data) ? new Array<unknown>(n) : new (data.constructor as new (n: number) => TypedArray)(n)) as T;
  transposeInto(data, out, shape, from, width);
  return out;
}

/** Like transposeData, writing into `out` (same length as `data`). */
export function transposeInto(data: TypedArray | unknown[], out: TypedArray | unknown[], shape: readonly number[], from: Order, width: number): void {
  if (transposeNative(data, out, shape, from, width)) return;
  const n = data.length;
  const nd = shape.length;
  if (nd === 2) {
    // C [R, C] is row-major R×C; F [R, C] is row-major C×R. Either way: a blocked 2-D transpose.
    const [r, c] = from === 'C' ? [shape[0]!, shape[1]!] : [shape[1]!, shape[0]!];
    transpose2d(data as unknown as Indexable, out as unknown as Indexable, r, c, width);
    return;
  }
  // Walk destination positions in order, tracking the source offset with strides.
  const srcStride = new Array<number>(nd);
  let s = 1;
  if (from === 'C') {
    for (let k = nd - 1; k >= 0; k--) {
      srcStride[k] = s;
      s *= shape[k]!;
    }
  } else {
    for (let k = 0; k < nd; k++) {
      srcStride[k] = s;
      s *= shape[k]!;
    }
  }
  // Destination order: the fastest axis is 0 for F, nd-1 for C.
  const axes = from === 'C' ? [...Array(nd).keys()] : [...Array(nd).keys()].reverse();
  const counter = new Array<number>(nd).fill(0);
  const size = n / width;
  let src = 0;
  const o = out as unknown as { [i: number]: unknown };
  const d = data as unknown as { readonly [i: number]: unknown };
  for (let dst = 0; dst < size; dst++) {
    for (let w = 0; w < width; w++) o[dst * width + w] = d[src * width + w];
    for (const ax of axes) {
      counter[ax]!++;
      src += srcStride[ax]!;
      if (counter[ax]! < shape[ax]!) break;
      src -= srcStride[ax]! * shape[ax]!;
      counter[ax] = 0;
    }
  }
}

type Indexable = { [i: number]: unknown };

/** dst[(j * rows + i) * w + k] = src[(i * cols + j) * w + k], in cache-friendly 64×64 tiles. */
function transpose2d(src: Indexable, dst: Indexable, rows: number, cols: number, w: number): void {
  const B = 64;
  for (let i0 = 0; i0 < rows; i0 += B) {
    const i1 = Math.min(i0 + B, rows);
    for (let j0 = 0; j0 < cols; j0 += B) {
      const j1 = Math.min(j0 + B, cols);
      for (let j = j0; j < j1; j++) {
        // Walk a tile column: contiguous writes, reads strided by one source row.
        let d = (j * rows + i0) * w;
        let s = (i0 * cols + j) * w;
        const step = cols * w;
        if (w === 1) {
          for (let i = i0; i < i1; i++, d++, s += step) dst[d] = src[s];
        } else {
          for (let i = i0; i < i1; i++, d += 2, s += step) {
            dst[d] = src[s];
            dst[d + 1] = src[s + 1];
          }
        }
      }
    }
  }
}
