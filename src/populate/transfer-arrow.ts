/**
 * Apache-arrow objects across threads (see transfer.ts). An Arrow column is a tree of Data
 * nodes, each a few typed arrays (offsets, values, validity, type ids) plus children; those
 * arrays move as they are. Their types are class instances that structured clone would strip,
 * so the schema travels as Arrow IPC (a schema message, no data) and every Data node is rebuilt
 * over the moved arrays with its type taken from the schema. Loaded only for values that hold
 * Arrow data.
 */
import { Data, RecordBatch, Schema, Field, Struct, Table, Vector, tableFromIPC, tableToIPC, type DataType } from 'apache-arrow';
import type { ArrowDataLike, ArrowKind, Packer } from './transfer.js';

/** One Data node as sent: its typed arrays and children, no type. */
interface PackedData {
  offset: number;
  length: number;
  nullCount: number;
  buffers: [ArrayBufferView | undefined, ArrayBufferView | undefined, ArrayBufferView | undefined, ArrayBufferView | undefined];
  variadic: ArrayBufferView[];
  children: PackedData[];
  dictionary?: PackedData[];
}

export interface PackedArrow {
  kind: ArrowKind;
  /** The schema as an Arrow IPC stream with no record batches. */
  schema: Uint8Array;
  data: PackedData[];
}

const schemaBytes = new WeakMap<Schema, Uint8Array>();
function schemaToIPC(schema: Schema): Uint8Array {
  let bytes = schemaBytes.get(schema);
  if (!bytes) schemaBytes.set(schema, (bytes = tableToIPC(new Table(schema), 'stream')));
  return bytes;
}

export function packArrow(o: object, kind: ArrowKind, packer: Packer): Omit<PackedArrow, never> {
  const schema = kind === 'vector' ? new Schema([new Field('v', (o as Vector).type, true)]) : (o as Table | RecordBatch).schema;
  const datas = kind === 'table' ? (o as Table).batches.map((b) => b.data) : kind === 'batch' ? [(o as RecordBatch).data] : (o as Vector).data;
  const view = (v: ArrayBufferView | undefined) => (v ? packer.view(v) : undefined);
  const packData = (d: ArrowDataLike): PackedData => ({
    offset: d.offset,
    length: d.length,
    nullCount: d.nullCount,
    buffers: [view(d.valueOffsets), view(d.values), view(d.nullBitmap), view(d.typeIds)],
    variadic: (d.variadicBuffers ?? []).map((b) => packer.view(b)),
    children: (d.children ?? []).map(packData),
    dictionary: d.dictionary ? d.dictionary.data.map(packData) : undefined,
  });
  return { kind, schema: schemaToIPC(schema), data: (datas as unknown as ArrowDataLike[]).map(packData) };
}

function rebuild(type: DataType, p: PackedData): Data {
  const children = p.children.map((c, i) => rebuild((type.children[i] as Field).type, c));
  const dictType = (type as { dictionary?: DataType }).dictionary;
  const dictionary = p.dictionary && dictType ? new Vector(p.dictionary.map((d) => rebuild(dictType, d))) : undefined;
  return new Data(type, p.offset, p.length, p.nullCount, p.buffers as never, children, dictionary, p.variadic as Uint8Array[]);
}

export function unpackArrow(p: PackedArrow): Table | RecordBatch | Vector {
  const schema = tableFromIPC(p.schema).schema;
  if (p.kind === 'vector') return new Vector(p.data.map((d) => rebuild(schema.fields[0]!.type as DataType, d)));
  const struct = new Struct(schema.fields);
  const batches = p.data.map((d) => new RecordBatch(schema, rebuild(struct, d) as Data<Struct>));
  return p.kind === 'batch' ? batches[0]! : new Table(schema, batches);
}
