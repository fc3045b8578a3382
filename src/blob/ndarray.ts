/**
 * `dj.NDArray`: an n-dimensional numeric (or object) array as stored in DataJoint blobs.
 *
 * Blobs store arrays in Fortran (column-major) order, so decoded arrays keep `order: 'F'` and
 * their `data` is the stored bytes (often a zero-copy view on the blob). `order: 'C'` arrays are
 * accepted for packing and transposed on the way out.
 */
import { DataJointError } from '../errors.js';
import { DTYPE_CTOR, dtypeOfTypedArray, isComplexDtype, isNumericDtype, type Dtype, type NumericDtype, type Order, type TypedArray } from './dtype.js';
import { transposeData } from './transpose.js';

export {
  DTYPE_CTOR,
  dtypeOfTypedArray,
  isComplexDtype,
  isNumericDtype,
  type Dtype,
  type NumericDtype,
  type Order,
  type TypedArray,
  type TypedCtor,
} from './dtype.js';
export { transposeData, transposeInto } from './transpose.js';

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

export interface NDArrayInit<D extends Dtype = Dtype> {
  dtype: D;
  shape: readonly number[];
  /** A typed array of the dtype's kind, or a plain array (converted on construction). */
  data: DataForDtype[D] | ArrayLike<unknown>;
  order?: Order;
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
