/**
 * Insert of the columns `decodeBlobs` makes (fetch/arrow-blobs.ts) back into `<blob>`
 * attributes: a `List<dtype>` column with its `<name>_shape` sibling becomes NDArrays of the
 * dtype, shape and order its field metadata names; a scalar column keeps its dtype (numpy
 * scalars for the dtypes a JS number cannot stand for). Without this a List cell would be
 * stored as an Arrow vector object.
 */
import { NDArray, NpScalar, type NumericDtype, type Order } from '../blob/index.js';
import { DTYPE_CTOR, isNumericDtype } from '../blob/dtype.js';
import { AttributeTypeError } from '../errors.js';

/** Field metadata that decodeBlobs writes. */
export const BLOB_DTYPE = 'datajoint.dtype';
export const BLOB_ORDER = 'datajoint.order';
export const BLOB_SHAPE = 'datajoint.shape';
export const BLOB_SHAPE_OF = 'datajoint.shape_of';

interface VectorLike {
  toArray(): ArrayLike<unknown>;
}
interface Column {
  get(i: number): unknown;
}
interface Field {
  name: string;
  metadata?: ReadonlyMap<string, string>;
}

function dtypeOf(f: Field): NumericDtype {
  const d = f.metadata!.get(BLOB_DTYPE)!;
  if (!isNumericDtype(d) || d === 'complex64' || d === 'complex128') throw new AttributeTypeError(`Arrow column \`${f.name}\` has ${BLOB_DTYPE} ${JSON.stringify(d)}, which is not a real numeric dtype`);
  return d;
}

/** Typed data of a list cell in `dtype` (booleans as 0/1 bytes, as NDArray keeps them). */
function dataOf(dtype: NumericDtype, cell: VectorLike): ArrayLike<number | bigint> {
  const items = cell.toArray();
  if (dtype === 'bool') return Uint8Array.from(Array.from(items, (x) => (x ? 1 : 0)));
  const Ctor = DTYPE_CTOR[dtype] as unknown as { from(a: ArrayLike<unknown>): ArrayLike<number | bigint> };
  return Ctor.from(items);
}

/** A scalar as the value it was unpacked from: JS numbers for float64 and int64 (Python float and int), numpy scalars otherwise. */
function scalarOf(dtype: NumericDtype, v: unknown): unknown {
  if (v === null || v === undefined) return null;
  switch (dtype) {
    case 'float64':
    case 'bool':
      return v;
    case 'int64':
      return typeof v === 'bigint' && Number.isSafeInteger(Number(v)) ? Number(v) : v;
    default:
      return new NpScalar(dtype, dtype === 'uint64' ? BigInt(v as number | bigint) : Number(v));
  }
}

/**
 * The reader of a decodeBlobs column going into a codec attribute; `shapeCol` is its
 * `<name>_shape` sibling (null if absent: each array is then 1-D).
 */
export function blobCellReader(f: Field, col: Column, shapeCol: Column | null): (i: number) => unknown {
  const dtype = dtypeOf(f);
  const order = (f.metadata!.get(BLOB_ORDER) ?? null) as Order | null;
  if (order === null) return (i) => scalarOf(dtype, col.get(i));
  return (i) => {
    const cell = col.get(i) as VectorLike | null;
    if (cell === null || cell === undefined) return null;
    const data = dataOf(dtype, cell);
    const shapeCell = shapeCol?.get(i) as VectorLike | null | undefined;
    const shape = shapeCell ? Array.from(shapeCell.toArray(), Number) : [data.length];
    return new NDArray({ dtype, shape, data: data as never, order });
  };
}
