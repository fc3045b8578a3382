/**
 * Pure-TypeScript blob encoder (docs/blob-format.md).
 *
 * Two passes over the value: `Measurer` (pack-measure.ts) computes the exact size (and records
 * every ITEM length, string byte length, ... in a plan, in traversal order), then `Writer`
 * (pack-write.ts) fills ONE preallocated Buffer. Big numeric arrays are copied with a single
 * memcpy. What both passes decide about a value (its element kind, class ids, the checks) is in
 * pack-classify.ts; this module allocates the output, writes the protocol header and compresses.
 */
import { BlobError } from '../errors.js';
import { zlibCompressIfSmaller } from './compress.js';
import { dtypeOfTypedArray, type TypedArray } from './dtype.js';
import { NDArray } from './ndarray.js';
import { LEN } from './pack-classify.js';
import { Measurer } from './pack-measure.js';
import { Writer } from './pack-write.js';

export { CLASS_CHAR, CLASS_DATETIME64, CLASS_ID, CLASS_VOID } from './pack-classify.js';

export interface PackOptions {
  /** Wrap in `ZL123\0` + zlib when larger than 1000 bytes and it helps (default true). */
  compress?: boolean;
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
