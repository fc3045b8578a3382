/**
 * Arrow output (API.md §4): `toArrow()` → apache-arrow Table, `arrowBatches()` → RecordBatches
 * streamed from one server-side cursor. Columns are built straight from the driver's row
 * arrays into Arrow buffers (arrow-columns.ts); no row objects are made. The Arrow type of a
 * column depends only on its attribute (and, for computed attributes, the driver's column
 * type), so every batch has the same schema.
 * With `decodeBlobs`, `<blob>` columns are unpacked into typed columns (arrow-blobs.ts); their
 * type then depends on the values, so arrowBatches fixes it from the first batch.
 */
import {
  Binary,
  Bool,
  DateDay,
  Field,
  Float32,
  Float64,
  Int16,
  Int32,
  Int64,
  Int8,
  RecordBatch,
  Schema,
  Struct,
  Table,
  TimestampMicrosecond,
  TimestampMillisecond,
  Uint16,
  Uint32,
  Uint64,
  Uint8,
  Utf8,
  makeData,
  type DataType,
} from 'apache-arrow';
import { type Attribute, datetimeDigits } from '../heading/heading.js';
import { selectSql, type State } from '../expression/state.js';
import { effectiveKind, type FieldInfo } from './columns.js';
import { fetchState, sourceOf, type FetchOptions, type Fetchable } from './fetch.js';
import { type BlobCells, type BlobLayout, blobData, blobFields, checkLayout, chooseLayout, isBlobAttribute, unpackBlobColumn } from './arrow-blobs.js';
import type { FetchSource } from './codec-values.js';
import { DataJointError } from '../errors.js';
import { isPaddedChar } from './convert.js';
import { type ColumnPlan, type Kind, columnData } from './arrow-columns.js';
import { ARROW_CODEC, codecSpec } from '../codecs/stored-form.js';
import { ARROW_EXTENSION_METADATA, ARROW_EXTENSION_NAME, ARROW_JSON } from '../expression/arrow-rows.js';

export interface ArrowOptions extends FetchOptions {
  /** Rows per RecordBatch for arrowBatches (default 65,536). */
  batchSize?: number;
  /**
   * Unpack `<blob>` and `<blob@store>` columns into Arrow columns (default false: `Binary`
   * columns of the packed bytes, or for `<blob@store>` the stored JSON text). Per column, by
   * what its non-NULL values hold:
   * - numeric scalars of one dtype (numbers, numpy scalars, 1-element arrays) → a plain
   *   column of that dtype (`Float64`, `Int32`, `Bool`, …); Python ints mixed with floats
   *   → `Float64`;
   * - numeric arrays of one dtype → `List<dtype>` of each array's data in stored order,
   *   plus a column `<name>_shape` (`List<Int32>`) of each row's shape (squeezed with
   *   `squeeze`); the field metadata holds `datajoint.dtype` and `datajoint.order`
   *   (`'F'`, the order blobs store);
   * - anything else (structs, cells, strings, complex, mixed dtypes) → `Binary` of the
   *   packed bytes, for `dj.blob.unpack`.
   * toArrow types a column from all rows. arrowBatches types it from the first batch (a
   * column all NULL there stays `Binary`) and throws a DataJointError if a later batch
   * holds another dtype or kind: use a consistent dtype, or toArrow.
   *
   * Codec columns in their stored form (without decodeBlobs, or its `Binary` fallback) carry
   * field metadata `datajoint.codec`: the attribute's codec spec (`<blob>`, `<blob@store>`,
   * `<npy@>`, …; `<blob>` for decodeBlobs' packed bytes). Inserting the table copies such
   * columns as stored values (an identical in-table chain unchanged, otherwise decoded by the
   * source's codecs and encoded by the target's), so `T2.insert(await T.toArrow())` copies
   * rows; a `Binary` column without the marker into a `<blob>` attribute stores a uint8 array.
   * decodeBlobs' `List` columns go back into `<blob>` attributes as NDArrays of their dtype,
   * order and `<name>_shape` shape (lossy only where the layout was: a 1-element array read as
   * a scalar, shapes cut by `squeeze`).
   */
  decodeBlobs?: boolean;
}

const INT_KINDS: Record<string, Kind> = { int8: 'i8', uint8: 'u8', int16: 'i16', uint16: 'u16', int32: 'i32', uint32: 'u32', int64: 'i64', uint64: 'u64', float32: 'f32', float64: 'f64' };

function arrowKind(a: Attribute, field?: FieldInfo): Kind {
  // Codec columns carry their stored form (bytes or JSON text): decoding them needs the codec.
  if (!a.codec && INT_KINDS[a.type]) return INT_KINDS[a.type]!;
  const kind = effectiveKind(a, field);
  switch (kind) {
    case 'int':
      // Declared native integers fit 32 bits; a computed one has unknown sign and width.
      if (a.kind === 'other') return 'i64';
      return a.unsigned ? 'u32' : 'i32';
    case 'bigint':
      return a.unsigned ? 'u64' : 'i64';
    case 'float':
      return 'f64';
    case 'bool':
      return 'bool';
    case 'date':
      return 'date';
    case 'datetime':
      // datetime(4) to datetime(6) hold digits a millisecond timestamp would drop.
      return datetimeDigits(a) > 3 ? 'timestamp_us' : 'timestamp';
    case 'uuid':
      return 'uuid';
    case 'bytes':
      return 'binary';
    case 'json':
      // A codec's stored JSON text is its stored form, not the attribute's value.
      return a.codec ? 'utf8' : 'json';
    case 'string':
      return !a.codec && isPaddedChar(a) ? 'char' : 'utf8';
    default:
      return 'utf8';
  }
}

function arrowType(k: Kind): DataType {
  switch (k) {
    case 'i8': return new Int8();
    case 'u8': return new Uint8();
    case 'i16': return new Int16();
    case 'u16': return new Uint16();
    case 'i32': return new Int32();
    case 'u32': return new Uint32();
    case 'i64': return new Int64();
    case 'u64': return new Uint64();
    case 'f32': return new Float32();
    case 'f64': return new Float64();
    case 'bool': return new Bool();
    case 'date': return new DateDay();
    case 'timestamp': return new TimestampMillisecond('UTC');
    case 'timestamp_us': return new TimestampMicrosecond('UTC');
    case 'binary': return new Binary();
    default: return new Utf8();
  }
}

/**
 * Field metadata of Arrow's canonical JSON extension type (storage Utf8): readers know the
 * text is JSON, and insert parses such a column into a json attribute.
 */
function jsonMetadata(): Map<string, string> {
  return new Map([[ARROW_EXTENSION_NAME, ARROW_JSON], [ARROW_EXTENSION_METADATA, '']]);
}

function planColumns(attrs: readonly Attribute[], fields: readonly FieldInfo[] | undefined): ColumnPlan[] {
  return attrs.map((a, j) => {
    const kind = arrowKind(a, fields?.[j]);
    return { name: a.name, kind, type: arrowType(kind), nullable: !a.inKey || a.nullable, codec: a.codec ? codecSpec(a.codec, a.store) : undefined };
  });
}

/** The decoded blob columns of one batch (decodeBlobs), by column index. */
type Blobs = Map<number, BlobCells>;

function schemaOf(plans: readonly ColumnPlan[], layouts?: ReadonlyMap<number, BlobLayout>): Schema {
  const fields = plans.flatMap((p, j) => {
    const layout = layouts?.get(j);
    if (layout) return blobFields(p.name, layout, p.nullable);
    const metadata = p.codec ? new Map([[ARROW_CODEC, p.codec]]) : p.kind === 'json' ? jsonMetadata() : undefined;
    return [new Field(p.name, p.type, p.nullable, metadata)];
  });
  const seen = new Set<string>();
  for (const f of fields) {
    if (seen.has(f.name)) throw new DataJointError(`decodeBlobs adds the column \`${f.name}\` for array shapes, but the result already has an attribute of that name: rename one with proj()`);
    seen.add(f.name);
  }
  return new Schema(fields);
}

/** Unpack the blob columns of a batch (an empty map without decodeBlobs). */
async function unpackBlobs(attrs: readonly Attribute[], rows: readonly unknown[][], opts: ArrowOptions, source: FetchSource): Promise<Blobs> {
  const out: Blobs = new Map();
  if (!opts.decodeBlobs) return out;
  for (let j = 0; j < attrs.length; j++) if (isBlobAttribute(attrs[j]!)) out.set(j, await unpackBlobColumn(attrs[j]!, rows, j, source));
  return out;
}

function layoutsOf(blobs: Blobs): Map<number, BlobLayout> {
  return new Map([...blobs].map(([j, cells]) => [j, chooseLayout(cells.values)]));
}

/** One RecordBatch from row arrays (and the batch's unpacked blob columns). */
function batchOf(schema: Schema, plans: readonly ColumnPlan[], rows: readonly unknown[][], blobs: Blobs, layouts: ReadonlyMap<number, BlobLayout>, squeeze: boolean): RecordBatch {
  let f = 0;
  const children = plans.flatMap((p, j) => {
    const cells = blobs.get(j);
    if (!cells) {
      f++;
      return [columnData(rows, j, p)];
    }
    const layout = layouts.get(j)!;
    checkLayout(p.name, layout, cells.values);
    const fields = schema.fields.slice(f, (f += layout.kind === 'list' ? 2 : 1));
    return blobData(fields, layout, cells, squeeze);
  });
  const data = makeData({ type: new Struct(schema.fields), length: rows.length, nullCount: 0, children });
  return new RecordBatch(schema, data);
}

async function stateAndAttrs(e: Fetchable, opts: FetchOptions): Promise<{ state: State; attrs: Attribute[] }> {
  const state = await fetchState(e, opts);
  return { state, attrs: state.heading.visible };
}

export async function toArrow(e: Fetchable, opts: ArrowOptions = {}): Promise<Table> {
  const { state, attrs } = await stateAndAttrs(e, opts);
  const res = await e.connection.queryArrays(selectSql(state, e.connection.dialect, attrs.map((a) => a.name)));
  const plans = planColumns(attrs, res.fields);
  // The whole result is at hand, so each blob column is typed from all its rows.
  const blobs = await unpackBlobs(attrs, res.rows, opts, sourceOf(state));
  const layouts = layoutsOf(blobs);
  const schema = schemaOf(plans, layouts);
  if (!res.rows.length) return new Table(schema);
  return new Table([batchOf(schema, plans, res.rows, blobs, layouts, !!opts.squeeze)]);
}

export function arrowBatches(e: Fetchable, opts: ArrowOptions = {}): AsyncIterable<RecordBatch> {
  const size = opts.batchSize ?? 65_536;
  if (!Number.isInteger(size) || size <= 0) throw new TypeError(`batchSize must be a positive integer, got ${String(opts.batchSize)}`);
  return {
    async *[Symbol.asyncIterator]() {
      const { state, attrs } = await stateAndAttrs(e, opts);
      const source = sourceOf(state);
      let plans: ColumnPlan[] | null = null;
      let schema: Schema | null = null;
      // Blob column types come from the first batch; later batches must fit them.
      let layouts: Map<number, BlobLayout> | null = null;
      let fields: FieldInfo[] = [];
      let batch: unknown[][] = [];
      const emit = async (rows: unknown[][]): Promise<RecordBatch> => {
        const blobs = await unpackBlobs(attrs, rows, opts, source);
        plans ??= planColumns(attrs, fields);
        layouts ??= layoutsOf(blobs);
        schema ??= schemaOf(plans, layouts);
        return batchOf(schema, plans, rows, blobs, layouts, !!opts.squeeze);
      };
      for await (const chunk of e.connection.stream(selectSql(state, e.connection.dialect, attrs.map((a) => a.name)), undefined, { batchRows: Math.min(size, 4096) })) {
        fields = chunk.fields;
        for (const r of chunk.rows) batch.push(r);
        if (batch.length >= size) yield await emit(batch.splice(0, size));
      }
      if (batch.length) yield await emit(batch);
      else if (!schema) await emit([]); // an empty result still builds (and checks) the schema
    },
  };
}
