/**
 * `decodeBlobs` of toArrow/arrowBatches: `<blob>` and `<blob@store>` columns unpacked into
 * Arrow columns a compute step can use directly. What a column becomes depends on what its
 * non-NULL values hold (its layout):
 * - numeric scalars of one dtype (1-element arrays included) → a plain column of that dtype;
 * - numeric arrays of one dtype → `List<dtype>` of each array's data in stored order, with a
 *   sibling `<name>_shape` column (`List<Int32>`) since a field's metadata cannot vary by row;
 * - anything else (structs, cells, strings, complex, mixed dtypes) → `Binary` of the packed
 *   bytes, which `dj.blob.unpack` reads.
 */
import { Binary, Bool, Field, Float32, Float64, Int16, Int32, Int64, Int8, List, Uint16, Uint32, Uint64, Uint8, makeData, type Data, type DataType } from 'apache-arrow';
import { NDArray, NpScalar, PyFloat, unpack, type NumericDtype, type Order } from '../blob/index.js';
import { DTYPE_CTOR } from '../blob/ndarray.js';
import { codecChain } from '../codecs/registry.js';
import { ARROW_CODEC } from '../codecs/stored-form.js';
import { BLOB_DTYPE, BLOB_ORDER, BLOB_SHAPE, BLOB_SHAPE_OF } from '../expression/arrow-blob-cells.js';
import { DataJointError } from '../errors.js';
import type { Attribute } from '../heading/heading.js';
import { decodeCodecColumn, type FetchSource } from './codec-values.js';

/** Numeric dtypes with an Arrow counterpart (Arrow has no complex type). */
type RealDtype = Exclude<NumericDtype, 'complex64' | 'complex128'>;

export type BlobLayout = { kind: 'scalar'; dtype: RealDtype } | { kind: 'list'; dtype: RealDtype; order: Order } | { kind: 'binary' };

/** A blob column of one batch: the packed bytes and the unpacked values (null for NULL). */
export interface BlobCells {
  packed: (Uint8Array | null)[];
  values: unknown[];
}

const REAL = new Set<string>(['bool', 'int8', 'uint8', 'int16', 'uint16', 'int32', 'uint32', 'int64', 'uint64', 'float32', 'float64']);
const isReal = (d: string): d is RealDtype => REAL.has(d);
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

export function isBlobAttribute(a: Attribute): boolean {
  return a.codec === 'blob';
}

/** For `<blob@store>`: the attribute of the inner chain (`<hash@store>`), whose decode gives the packed bytes. */
const innerAttrs = new WeakMap<Attribute, Attribute>();
function innerAttribute(a: Attribute): Attribute {
  let inner = innerAttrs.get(a);
  if (!inner) {
    const chain = codecChain(a.codec!, a.store);
    inner = { ...a, codec: chain.codecs[1]!, store: chain.store };
    innerAttrs.set(a, inner);
  }
  return inner;
}

/** Unpack column j of the rows. Store-backed values are fetched as `<blob@>` fetches them. */
export async function unpackBlobColumn(a: Attribute, rows: readonly unknown[][], j: number, source: FetchSource): Promise<BlobCells> {
  const stored = rows.map((r) => r[j] ?? null);
  if (a.store !== null) await decodeCodecColumn(innerAttribute(a), stored, false, source);
  const packed = stored.map((v) => {
    if (v === null || v === undefined) return null;
    if (!(v instanceof Uint8Array)) throw new DataJointError(`<blob> column \`${a.name}\`: expected bytes to unpack, got ${typeof v}`);
    return v;
  });
  // typedScalars keeps the dtype of numpy scalars and tells Python floats (PyFloat) from ints.
  return { packed, values: packed.map((b) => (b === null ? null : unpack(b, { typedScalars: true }))) };
}

interface Scalar {
  dtype: RealDtype;
  value: number | bigint | boolean;
  /** A Python int: int64 alone, float64 next to floats (numpy's promotion; JS numbers pack as int when integral). */
  loose?: boolean;
}

function scalarOf(v: unknown): Scalar | null {
  if (typeof v === 'number') return { dtype: 'int64', value: v, loose: true };
  if (typeof v === 'bigint') return v >= INT64_MIN && v <= INT64_MAX ? { dtype: 'int64', value: v } : null;
  if (typeof v === 'boolean') return { dtype: 'bool', value: v };
  if (v instanceof PyFloat) return { dtype: 'float64', value: v.value };
  if (v instanceof NpScalar) return isReal(v.dtype) ? { dtype: v.dtype, value: v.value as number | bigint | boolean } : null;
  if (v instanceof NDArray && isReal(v.dtype) && v.data.length === 1) {
    const x = (v.data as ArrayLike<number | bigint>)[0]!;
    return { dtype: v.dtype, value: v.dtype === 'bool' ? x !== 0 : x };
  }
  return null;
}

const isList = (v: unknown): v is NDArray => v instanceof NDArray && isReal(v.dtype);

/** The layout of one batch's values (toArrow: all rows). A column of only NULLs is Binary. */
export function chooseLayout(values: readonly unknown[]): BlobLayout {
  const scalars = new Set<RealDtype>();
  let allLoose = true;
  let allScalar = true;
  const lists = new Set<string>();
  let allList = true;
  let any = false;
  for (const v of values) {
    if (v === null) continue;
    any = true;
    const s = allScalar ? scalarOf(v) : null;
    if (s) {
      scalars.add(s.dtype);
      if (s.dtype === 'int64' && !s.loose) allLoose = false;
    } else allScalar = false;
    if (allList && isList(v)) lists.add(`${v.dtype}/${v.order}`);
    else allList = false;
    if (!allScalar && !allList) return { kind: 'binary' };
  }
  if (!any) return { kind: 'binary' };
  if (allScalar) {
    if (scalars.size === 1) return { kind: 'scalar', dtype: [...scalars][0]! };
    if (scalars.size === 2 && scalars.has('float64') && scalars.has('int64') && allLoose) return { kind: 'scalar', dtype: 'float64' };
  }
  if (allList && lists.size === 1) {
    const [dtype, order] = [...lists][0]!.split('/') as [RealDtype, Order];
    return { kind: 'list', dtype, order };
  }
  return { kind: 'binary' };
}

function fits(layout: BlobLayout, v: unknown): boolean {
  if (v === null || layout.kind === 'binary') return true;
  if (layout.kind === 'list') return isList(v) && v.dtype === layout.dtype && v.order === layout.order;
  const s = scalarOf(v);
  return !!s && (s.dtype === layout.dtype || (layout.dtype === 'float64' && !!s.loose));
}

function describe(l: BlobLayout): string {
  return l.kind === 'scalar' ? `${l.dtype} scalars` : l.kind === 'list' ? `${l.dtype} arrays (order ${l.order})` : 'mixed or non-numeric values';
}

/**
 * arrowBatches: every batch must keep the schema the first batch set. Throws a DataJointError
 * naming the column when a later batch holds values of another layout.
 */
export function checkLayout(name: string, layout: BlobLayout, values: readonly unknown[]): void {
  if (values.every((v) => fits(layout, v))) return;
  throw new DataJointError(
    `arrowBatches({ decodeBlobs: true }): <blob> column \`${name}\` was typed from the first batch as ${describe(layout)}, ` +
      `but a later batch holds ${describe(chooseLayout(values))}. Batches share one schema, so the column needs one dtype and ` +
      `kind (scalar or array) throughout: use toArrow({ decodeBlobs: true }) (types from all rows) or arrowBatches without decodeBlobs.`,
  );
}

function arrowOf(d: RealDtype): DataType {
  switch (d) {
    case 'bool': return new Bool();
    case 'int8': return new Int8();
    case 'uint8': return new Uint8();
    case 'int16': return new Int16();
    case 'uint16': return new Uint16();
    case 'int32': return new Int32();
    case 'uint32': return new Uint32();
    case 'int64': return new Int64();
    case 'uint64': return new Uint64();
    case 'float32': return new Float32();
    default: return new Float64();
  }
}

/** The schema fields of a blob column: itself, plus `<name>_shape` for arrays. */
export function blobFields(name: string, layout: BlobLayout, nullable: boolean): Field[] {
  // The packed bytes are what `<blob>` stores (for `<blob@>` too): insert copies them as such.
  if (layout.kind === 'binary') return [new Field(name, new Binary(), nullable, new Map([[ARROW_CODEC, '<blob>']]))];
  const meta = new Map<string, string>([[BLOB_DTYPE, layout.dtype]]);
  if (layout.kind === 'scalar') return [new Field(name, arrowOf(layout.dtype), nullable, meta)];
  meta.set(BLOB_ORDER, layout.order);
  meta.set(BLOB_SHAPE, `${name}_shape`);
  return [
    new Field(name, new List(new Field('item', arrowOf(layout.dtype), false)), nullable, meta),
    new Field(`${name}_shape`, new List(new Field('item', new Int32(), false)), nullable, new Map([[BLOB_SHAPE_OF, name]])),
  ];
}

type Base = { length: number; nullCount: number; nullBitmap: Uint8Array | undefined };

function validityOf(values: readonly unknown[]): Base {
  const n = values.length;
  const nulls = values.reduce<number>((k, v) => k + (v === null ? 1 : 0), 0);
  if (!nulls) return { length: n, nullCount: 0, nullBitmap: undefined };
  const bitmap = new Uint8Array((n + 7) >> 3);
  for (let i = 0; i < n; i++) if (values[i] !== null) bitmap[i >> 3]! |= 1 << (i & 7);
  return { length: n, nullCount: nulls, nullBitmap: bitmap };
}

/** Bit-packed booleans (Arrow's Bool layout) of 0/1 bytes. */
function bits(bytes: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array((bytes.length + 7) >> 3);
  for (let i = 0; i < bytes.length; i++) if (bytes[i]) out[i >> 3]! |= 1 << (i & 7);
  return out;
}

/** Arrow list and binary offsets are 32-bit: a batch can hold at most 2^31 - 1 values per column. */
function offsetsOf(lengths: readonly number[], name: string): Int32Array {
  const offsets = new Int32Array(lengths.length + 1);
  let total = 0;
  for (let i = 0; i < lengths.length; i++) {
    total += lengths[i]!;
    if (total > 0x7fffffff) throw new DataJointError(`decodeBlobs: column \`${name}\` holds more than 2^31 - 1 values (array elements or bytes) in one batch; use arrowBatches with a smaller batchSize`);
    offsets[i + 1] = total;
  }
  return offsets;
}

function listData(field: Field, base: Base, offsets: Int32Array, child: Data): Data {
  return makeData({ type: field.type, ...base, valueOffsets: offsets, child } as never);
}

function arraysData(fields: Field[], layout: { dtype: RealDtype }, values: readonly unknown[], base: Base, squeeze: boolean): Data[] {
  const arrays = values as readonly (NDArray | null)[];
  const name = fields[0]!.name;
  const offsets = offsetsOf(arrays.map((a) => (a ? a.data.length : 0)), name);
  const total = offsets[arrays.length]!;
  const present = arrays.filter((a): a is NDArray => a !== null);
  // One array (e.g. a batch of one row) is used as is; otherwise its data is concatenated once.
  let flat = present.length === 1 ? (present[0]!.data as ArrayLike<number | bigint>) : null;
  if (!flat) {
    const out = new DTYPE_CTOR[layout.dtype](total) as unknown as { set(a: ArrayLike<number | bigint>, at: number): void } & ArrayLike<number | bigint>;
    for (let i = 0; i < arrays.length; i++) if (arrays[i]) out.set(arrays[i]!.data as ArrayLike<number | bigint>, offsets[i]!);
    flat = out;
  }
  const itemType = (fields[0]!.type as List).valueType;
  const data = layout.dtype === 'bool' ? bits(flat as ArrayLike<number>) : flat;
  const child = makeData({ type: itemType, length: total, nullCount: 0, data } as never);
  const shapes = arrays.map((a) => (a ? (squeeze ? a.shape.filter((d) => d !== 1) : a.shape) : []));
  const shapeOffsets = offsetsOf(shapes.map((s) => s.length), `${name}_shape`);
  const dims = Int32Array.from(shapes.flat());
  const shapeChild = makeData({ type: (fields[1]!.type as List<Int32>).valueType, length: dims.length, nullCount: 0, data: dims });
  return [listData(fields[0]!, base, offsets, child), listData(fields[1]!, base, shapeOffsets, shapeChild)];
}

function scalarData(field: Field, dtype: RealDtype, values: readonly unknown[], base: Base): Data {
  const n = values.length;
  let data: ArrayLike<unknown>;
  if (dtype === 'bool') {
    data = bits(values.map((v) => (v !== null && scalarOf(v)!.value ? 1 : 0)));
  } else {
    const out = new DTYPE_CTOR[dtype](n);
    const big = dtype === 'int64' || dtype === 'uint64';
    for (let i = 0; i < n; i++) {
      if (values[i] === null) continue;
      const x = scalarOf(values[i])!.value;
      out[i] = big ? BigInt(x as number | bigint) : Number(x);
    }
    data = out;
  }
  return makeData({ type: field.type, ...base, data } as never);
}

function binaryData(field: Field, packed: readonly (Uint8Array | null)[], base: Base): Data {
  const offsets = offsetsOf(packed.map((b) => (b ? b.length : 0)), field.name);
  const data = new Uint8Array(offsets[packed.length]!);
  for (let i = 0; i < packed.length; i++) if (packed[i]) data.set(packed[i]!, offsets[i]!);
  return makeData({ type: field.type, ...base, data, valueOffsets: offsets } as never);
}

/** The Arrow data of a blob column, one per field of `blobFields`. */
export function blobData(fields: Field[], layout: BlobLayout, cells: BlobCells, squeeze: boolean): Data[] {
  const base = validityOf(cells.values);
  if (layout.kind === 'list') return arraysData(fields, layout, cells.values, base, squeeze);
  if (layout.kind === 'scalar') return [scalarData(fields[0]!, layout.dtype, cells.values, base)];
  return [binaryData(fields[0]!, cells.packed, base)];
}
