/**
 * The NumPy `.npy` file format (version 1.0, and reading 2.0/3.0): a magic string, a header
 * dict (`{'descr': '<f8', 'fortran_order': False, 'shape': (3, 4), }`) padded so the data
 * starts at a multiple of 64 bytes, then the raw data. Written the way `numpy.save` writes it
 * (little-endian), so `<npy@>` files are indistinguishable from DataJoint Python's; read also
 * when big-endian, and float16 as float32.
 */
import { DTYPE_CTOR, NDArray, type NumericDtype, type TypedArray } from '../../blob/ndarray.js';
import { DataJointError } from '../../errors.js';

const MAGIC = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]); // \x93NUMPY

/** NumPy type strings of our dtypes (little-endian; one-byte types have no byte order). */
const DESCR: Record<NumericDtype, string> = {
  bool: '|b1',
  int8: '|i1',
  uint8: '|u1',
  int16: '<i2',
  uint16: '<u2',
  int32: '<i4',
  uint32: '<u4',
  int64: '<i8',
  uint64: '<u8',
  float32: '<f4',
  float64: '<f8',
  complex64: '<c8',
  complex128: '<c16',
};
const BY_DESCR = new Map(Object.entries(DESCR).map(([d, s]) => [s.slice(1), d as NumericDtype]));

/** A typed array as a 1-D NDArray of its own dtype. */
function asNDArray(value: unknown): NDArray {
  if (value instanceof NDArray) return value;
  if (ArrayBuffer.isView(value) && !(value instanceof DataView)) return NDArray.from(value as TypedArray);
  throw new DataJointError(`<npy@> expects a dj.NDArray or a typed array, got ${value === null ? 'null' : typeof value === 'object' ? value.constructor?.name : typeof value}`);
}

/** Check that `value` can be written as `.npy`; returns it as an NDArray. */
export function npyArray(value: unknown): NDArray {
  const arr = asNDArray(value);
  if (arr.dtype === 'object') throw new DataJointError('<npy@> cannot store arrays of dtype object');
  return arr;
}

/** Python's repr of a shape tuple: `()`, `(3,)`, `(3, 4)`. */
function pyShape(shape: readonly number[]): string {
  return shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
}

/** `.npy` bytes of an array, as `numpy.save(f, a)` writes them. */
export function encodeNpy(value: unknown): { bytes: Buffer; dtype: NumericDtype; shape: number[] } {
  const arr = npyArray(value);
  const dtype = arr.dtype as NumericDtype;
  // numpy writes fortran_order True only for arrays that are F- but not C-contiguous (ndim ≥ 2).
  const fortran = arr.order === 'F' && arr.shape.filter((d) => d !== 1).length > 1;
  let header = `{'descr': '${DESCR[dtype]}', 'fortran_order': ${fortran ? 'True' : 'False'}, 'shape': ${pyShape(arr.shape)}, }`;
  // numpy leaves room to grow the first (C) or last (F) axis in place: 21 digits in all.
  if (arr.shape.length) header += ' '.repeat(Math.max(0, 21 - String(arr.shape[fortran ? arr.shape.length - 1 : 0]).length));
  // …and pads so that the data starts at a multiple of 64 bytes (always at least one space).
  const hlen = header.length + 1;
  header += ' '.repeat(64 - ((MAGIC.length + 2 + 2 + hlen) % 64)) + '\n';
  const data = arr.data as TypedArray;
  const body = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const head = Buffer.alloc(MAGIC.length + 4);
  MAGIC.copy(head);
  head[6] = 1; // version 1.0
  head[7] = 0;
  head.writeUInt16LE(header.length, 8);
  return { bytes: Buffer.concat([head, Buffer.from(header, 'latin1'), body]), dtype, shape: [...arr.shape] };
}

/** Parse `.npy` bytes into an NDArray (a view on the bytes when they are aligned). */
export function decodeNpy(bytes: Uint8Array): NDArray {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf.length < 10 || !buf.subarray(0, 6).equals(MAGIC)) throw new DataJointError('Not a .npy file (bad magic)');
  const major = buf[6]!;
  const headerLen = major === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
  const start = major === 1 ? 10 : 12;
  const header = buf.subarray(start, start + headerLen).toString(major >= 3 ? 'utf8' : 'latin1');
  const descr = /'descr':\s*'([<>|=])(\w+)'/.exec(header);
  const fortran = /'fortran_order':\s*(True|False)/.exec(header);
  const shape = /'shape':\s*\(([^)]*)\)/.exec(header);
  if (!descr || !fortran || !shape) throw new DataJointError(`Unreadable .npy header: ${header.trim()}`);
  const dims = shape[1]!.split(',').map((s) => s.trim()).filter(Boolean).map(Number);
  const order = fortran[1] === 'True' ? 'F' : 'C';
  let data = buf.subarray(start + headerLen);
  // Half precision (numpy's float16) has no typed array on Node 20: read as float32, exactly.
  if (descr[2] === 'f2') return new NDArray({ dtype: 'float32', shape: dims, data: halfToFloat32(data, descr[1] === '>'), order });
  const dtype = BY_DESCR.get(descr[2]!);
  if (!dtype) throw new DataJointError(`.npy dtype ${descr[1]}${descr[2]} is not supported (numeric and bool arrays are)`);
  const Ctor = DTYPE_CTOR[dtype];
  // Big-endian data (numpy keeps '>' of an array it saves): a byte-swapped copy.
  if (descr[1] === '>' && Ctor.BYTES_PER_ELEMENT > 1) data = swapped(data, Ctor.BYTES_PER_ELEMENT); // complex: per part
  const count = data.length / Ctor.BYTES_PER_ELEMENT;
  const aligned = data.byteOffset % Ctor.BYTES_PER_ELEMENT === 0;
  const typed = aligned ? new Ctor(data.buffer, data.byteOffset, count) : new Ctor(Uint8Array.from(data).buffer, 0, count);
  return new NDArray({ dtype, shape: dims, data: typed, order });
}

/** A copy of `data` with each `size`-byte number's bytes reversed. */
function swapped(data: Buffer, size: number): Buffer {
  const copy = Buffer.from(data);
  if (size === 2) copy.swap16();
  else if (size === 4) copy.swap32();
  else copy.swap64();
  return copy;
}

/** IEEE half-precision numbers as float32 (every half is exactly a float32). */
function halfToFloat32(data: Buffer, bigEndian: boolean): Float32Array {
  const out = new Float32Array(data.length >> 1);
  for (let i = 0; i < out.length; i++) {
    const h = bigEndian ? data.readUInt16BE(2 * i) : data.readUInt16LE(2 * i);
    const sign = h & 0x8000 ? -1 : 1;
    const exp = (h >> 10) & 0x1f;
    const frac = h & 0x3ff;
    out[i] = exp === 0 ? sign * frac * 2 ** -24 : exp === 31 ? (frac ? NaN : sign * Infinity) : sign * (1 + frac / 1024) * 2 ** (exp - 15);
  }
  return out;
}
