/**
 * `dj.blob`: DataJoint blob serialization, byte-compatible with DataJoint Python and MATLAB
 * (docs/blob-format.md). The value mapping is documented in docs/blob-mapping.md.
 *
 * `pack`/`unpack` dispatch to a backend. The default is the pure-TypeScript codec (`packTs` /
 * `unpackTs`, always exported so tests can target it); a native addon can take over through
 * `setBlobBackend` without changing callers.
 */
import { packTs, type PackOptions } from './pack.js';
import { unpackTs, type UnpackOptions } from './unpack.js';

export { packTs, protocolOf, type PackOptions } from './pack.js';
/** Which implementation serves the hot paths: 'native' (Rust addon) or 'typescript'. */
export { backend } from '../native/index.js';
export { unpackTs, type UnpackOptions } from './unpack.js';
export {
  NDArray,
  Complex,
  transposeData,
  type Dtype,
  type NumericDtype,
  type TypedArray,
  type Order,
  type NDArrayInit,
  type DataForDtype,
  type ElementForDtype,
} from './ndarray.js';
export {
  Tuple,
  PyFloat,
  NpScalar,
  Decimal,
  UUID,
  DateOnly,
  DateTime,
  TimeOfDay,
  Datetime64Array,
  CharArray,
  MatCell,
  MatStruct,
  RecArray,
  DATETIME64_UNITS,
  datetime64Item,
  type Datetime64Unit,
  type Datetime64Dtype,
  type ScalarDtype,
  type RecField,
} from './types.js';

export interface BlobBackend {
  pack(value: unknown, opts: PackOptions): Buffer;
  unpack(bytes: Uint8Array, opts: UnpackOptions): unknown;
}

const tsBackend: BlobBackend = { pack: packTs, unpack: unpackTs };
let backend: BlobBackend = tsBackend;

/**
 * Replace the codec (e.g. with a native addon). Pass only the functions it implements; the rest
 * stay pure TypeScript. `setBlobBackend(null)` restores the TypeScript codec.
 */
export function setBlobBackend(b: Partial<BlobBackend> | null): void {
  backend = b ? { pack: b.pack ?? packTs, unpack: b.unpack ?? unpackTs } : tsBackend;
}

/** Serialize a value as a DataJoint blob. `compress` (default true) applies zlib above 1000 bytes when it helps. */
export function pack(value: unknown, opts: PackOptions = {}): Buffer {
  return backend.pack(value, opts);
}

/**
 * Deserialize a DataJoint blob. `squeeze` drops size-1 axes (0-d results become scalars);
 * `dims32` reads blobs written by the 32-bit mYm MEX. Arrays may share memory with `bytes`.
 */
export function unpack(bytes: Uint8Array, opts: UnpackOptions = {}): unknown {
  return backend.unpack(bytes, opts);
}
