/**
 * toArrow / arrowBatches with `decodeBlobs`: numeric `<blob>` (and `<blob@store>`) columns
 * come out as plain numeric or List columns (with a `<name>_shape` column), everything else
 * as Binary of the packed bytes; arrowBatches keeps one schema or says why it cannot.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as arrow from 'apache-arrow';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dj, freshSchema, cleanup } from './helpers.js';

const { NDArray, NpScalar } = dj.blob;

let schema: dj.SchemaDecorator;
let root: string;

class Sig extends dj.Manual {
  static definition = `
  id : int32
  ---
  vec = null : <blob>
  mat = null : <blob>
  ints = null : <blob>
  num = null : <blob>
  n32 = null : <blob>
  flag = null : <blob>
  bits = null : <blob>
  mixed = null : <blob>
  info = null : <blob>
  ext = null : <blob@>
  `;
}
/** float64 arrays first, int32 arrays after: one dtype per batch, two across batches. */
class Drift extends dj.Manual {
  static definition = `
  id : int32
  ---
  x : <blob>
  `;
}

const f64 = (...v: number[]) => Float64Array.from(v);
const mat = (shape: number[], data: number[], order: 'F' | 'C' = 'F') => new NDArray({ dtype: 'float64', shape, data, order });

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), `djtest_arrowblobs_${process.pid}_`));
  dj.config.set('stores', { default: 'main', main: { protocol: 'file', location: root, fsync: false } });
  schema = await freshSchema('arrowblobs');
  schema.add(Sig);
  schema.add(Drift);
  await Sig.insert([
    { id: 1, vec: f64(1, 2, 3), mat: mat([2, 3], [1, 2, 3, 4, 5, 6]), ints: Int32Array.from([7, -8]), num: 1.5, n32: new NpScalar('int32', 5), flag: true, bits: new NDArray({ dtype: 'bool', shape: [3], data: [1, 0, 1] }), mixed: f64(1), info: { a: 1 }, ext: f64(0.5, 1.5) },
    // A C-ordered input is stored (and decoded) in F order: [[1, 2], [3, 4]] → data 1, 3, 2, 4.
    { id: 2, vec: f64(4), mat: mat([2, 2], [1, 2, 3, 4], 'C'), ints: Int32Array.from([1, 2, 3]), num: mat([1, 1], [2.25]), n32: new NpScalar('int32', -6), flag: false, bits: new NDArray({ dtype: 'bool', shape: [2], data: [0, 1] }), mixed: Int32Array.from([2]), info: 'text', ext: f64(9) },
    { id: 3, vec: null, mat: mat([1, 4], [9, 8, 7, 6]), ints: null, num: 3, n32: null, flag: null, mixed: null, info: null, ext: null },
    { id: 4, vec: f64(), mat: mat([3, 1], [0, -1, -2]), ints: new Int32Array(0), num: -4, n32: new NpScalar('int32', 0), flag: true, mixed: null, info: [1, 'two'], ext: f64(2, 3, 4) },
  ]);
  await Drift.insert([
    { id: 1, x: f64(1, 2) },
    { id: 2, x: f64(3) },
    { id: 3, x: Int32Array.from([4, 5]) },
  ]);
});
afterAll(async () => {
  await cleanup(schema);
  rmSync(root, { recursive: true, force: true });
});

const field = (t: { schema: arrow.Schema }, name: string) => t.schema.fields.find((f) => f.name === name)!;
const list = (t: arrow.Table | arrow.RecordBatch, name: string, i: number): unknown => {
  const v = t.getChild(name)!.get(i) as arrow.Vector | null;
  return v === null ? null : v.toArray();
};

describe('toArrow({ decodeBlobs: true })', () => {
  it('turns 1-D float64 arrays into List<Float64> with their shapes, NULL kept', async () => {
    const t = await Sig.toArrow({ orderBy: 'id', decodeBlobs: true });
    const f = field(t, 'vec');
    expect(f.type).toBeInstanceOf(arrow.List);
    expect((f.type as arrow.List).valueType).toBeInstanceOf(arrow.Float64);
    expect(f.metadata.get('datajoint.dtype')).toBe('float64');
    expect(f.metadata.get('datajoint.order')).toBe('F');
    expect(f.metadata.get('datajoint.shape')).toBe('vec_shape');
    expect(list(t, 'vec', 0)).toEqual(f64(1, 2, 3));
    expect(list(t, 'vec', 1)).toEqual(f64(4));
    expect(list(t, 'vec', 2)).toBeNull();
    expect(list(t, 'vec', 3)).toEqual(f64());
    expect(field(t, 'vec_shape').type).toBeInstanceOf(arrow.List);
    expect([0, 1, 2, 3].map((i) => list(t, 'vec_shape', i))).toEqual([Int32Array.from([3]), Int32Array.from([1]), null, Int32Array.from([0])]);
    // The shape column sits right after its data column.
    const names = t.schema.fields.map((x) => x.name);
    expect(names.indexOf('vec_shape')).toBe(names.indexOf('vec') + 1);
  });

  it('keeps the shape and F order of 2-D arrays, and squeezes shapes with squeeze', async () => {
    const t = await Sig.toArrow({ orderBy: 'id', decodeBlobs: true });
    expect(list(t, 'mat', 0)).toEqual(f64(1, 2, 3, 4, 5, 6));
    expect(list(t, 'mat', 1)).toEqual(f64(1, 3, 2, 4));
    expect([0, 1, 2, 3].map((i) => Array.from(list(t, 'mat_shape', i) as Int32Array))).toEqual([[2, 3], [2, 2], [1, 4], [3, 1]]);
    // Rebuilding an NDArray from a row gives back the stored value.
    const back = new NDArray({ dtype: 'float64', shape: Array.from(list(t, 'mat_shape', 1) as Int32Array), data: list(t, 'mat', 1) as Float64Array, order: field(t, 'mat').metadata.get('datajoint.order') as 'F' });
    expect(back.toOrder('C').data).toEqual(f64(1, 2, 3, 4));
    const s = await Sig.toArrow({ orderBy: 'id', decodeBlobs: true, squeeze: true });
    expect([0, 1, 2, 3].map((i) => Array.from(list(s, 'mat_shape', i) as Int32Array))).toEqual([[2, 3], [2, 2], [4], [3]]);
    expect(list(s, 'mat', 2)).toEqual(f64(9, 8, 7, 6));
  });

  it('types int32 arrays as List<Int32>, scalars as plain columns, booleans as Bool', async () => {
    const t = await Sig.toArrow({ orderBy: 'id', decodeBlobs: true });
    expect((field(t, 'ints').type as arrow.List).valueType).toBeInstanceOf(arrow.Int32);
    expect(list(t, 'ints', 0)).toEqual(Int32Array.from([7, -8]));
    expect(list(t, 'ints', 1)).toEqual(Int32Array.from([1, 2, 3]));
    expect(list(t, 'ints', 2)).toBeNull();
    // A Python float, a MATLAB 1×1 double and integral JS numbers (Python ints) → Float64.
    expect(field(t, 'num').type).toBeInstanceOf(arrow.Float64);
    expect(field(t, 'num').metadata.get('datajoint.dtype')).toBe('float64');
    expect(t.getChild('num')!.toArray()).toEqual(f64(1.5, 2.25, 3, -4));
    expect(t.schema.fields.some((x) => x.name === 'num_shape')).toBe(false);
    const ints = await Sig.restrict('id >= 3').toArrow({ orderBy: 'id', decodeBlobs: true });
    expect(ints.getChild('num')!.toArray()).toEqual(BigInt64Array.from([3n, -4n])); // Python ints alone: Int64
    expect(field(t, 'n32').type).toBeInstanceOf(arrow.Int32);
    expect([0, 1, 2, 3].map((i) => t.getChild('n32')!.get(i))).toEqual([5, -6, null, 0]);
    expect(field(t, 'flag').type).toBeInstanceOf(arrow.Bool);
    expect([0, 1, 2, 3].map((i) => t.getChild('flag')!.get(i))).toEqual([true, false, null, true]);
    // Bool arrays: List<Bool>, bit-packed.
    expect((field(t, 'bits').type as arrow.List).valueType).toBeInstanceOf(arrow.Bool);
    expect([...(t.getChild('bits')!.get(0) as arrow.Vector)]).toEqual([true, false, true]);
    expect([...(t.getChild('bits')!.get(1) as arrow.Vector)]).toEqual([false, true]);
    expect(t.getChild('bits')!.get(2)).toBeNull();
  });

  it('leaves mixed dtypes and structs as Binary of the packed bytes', async () => {
    const t = await Sig.toArrow({ orderBy: 'id', decodeBlobs: true });
    expect(field(t, 'mixed').type).toBeInstanceOf(arrow.Binary);
    expect(field(t, 'info').type).toBeInstanceOf(arrow.Binary);
    expect(t.schema.fields.some((x) => x.name === 'info_shape' || x.name === 'mixed_shape')).toBe(false);
    const info = [0, 1, 2, 3].map((i) => t.getChild('info')!.get(i) as Uint8Array | null);
    expect(info[2]).toBeNull();
    expect(dj.blob.unpack(info[0]!)).toEqual({ a: 1 });
    expect(dj.blob.unpack(info[1]!)).toBe('text');
    expect(dj.blob.unpack(info[3]!)).toEqual([1, 'two']);
    const mixed = t.getChild('mixed')!.get(1) as Uint8Array;
    expect((dj.blob.unpack(mixed) as InstanceType<typeof NDArray>).data).toEqual(Int32Array.from([2]));
    // The bytes are those the table holds.
    const raw = await Sig.restrict({ id: 1 }).toArrow();
    expect(t.getChild('info')!.get(0)).toEqual(raw.getChild('info')!.get(0));
  });

  it('decodes <blob@store> columns through the store', async () => {
    const t = await Sig.toArrow({ orderBy: 'id', decodeBlobs: true });
    expect((field(t, 'ext').type as arrow.List).valueType).toBeInstanceOf(arrow.Float64);
    expect([0, 1, 2, 3].map((i) => list(t, 'ext', i))).toEqual([f64(0.5, 1.5), f64(9), null, f64(2, 3, 4)]);
    expect(list(t, 'ext_shape', 3)).toEqual(Int32Array.from([3]));
  });

  it('without decodeBlobs keeps Binary columns of the packed bytes', async () => {
    const t = await Sig.toArrow({ orderBy: 'id' });
    for (const n of ['vec', 'mat', 'ints', 'num', 'n32', 'flag', 'mixed', 'info']) expect(field(t, n).type).toBeInstanceOf(arrow.Binary);
    expect(t.schema.fields.some((x) => x.name.endsWith('_shape'))).toBe(false);
    expect(field(t, 'ext').type).not.toBeInstanceOf(arrow.List);
    expect((dj.blob.unpack(t.getChild('vec')!.get(0) as Uint8Array) as InstanceType<typeof NDArray>).data).toEqual(f64(1, 2, 3));
  });

  it('types a column from all rows, and an empty result as Binary', async () => {
    const t = await Drift.toArrow({ decodeBlobs: true });
    expect(field(t, 'x').type).toBeInstanceOf(arrow.Binary);
    const e = await Sig.restrict(false).toArrow({ decodeBlobs: true });
    expect(e.numRows).toBe(0);
    expect(field(e, 'vec').type).toBeInstanceOf(arrow.Binary);
  });

  it('refuses a result whose attribute would clash with a shape column', async () => {
    await expect(Sig.proj('vec', { vec_shape: 'mat' }).toArrow({ decodeBlobs: true })).rejects.toThrow(/vec_shape/);
  });
});

describe('arrowBatches({ decodeBlobs: true })', () => {
  it('gives every batch the schema of the first', async () => {
    const batches: arrow.RecordBatch[] = [];
    for await (const b of Sig.arrowBatches({ batchSize: 2, orderBy: 'id', decodeBlobs: true })) batches.push(b);
    expect(batches.map((b) => b.numRows)).toEqual([2, 2]);
    // Batch 2 alone would type `num` (Python ints only) as Int64.
    const sig = (s: arrow.Schema) => s.fields.map((f) => `${f.name}:${String(f.type)}:${JSON.stringify([...f.metadata])}`);
    expect(sig(batches[1]!.schema)).toEqual(sig(batches[0]!.schema));
    expect(field(batches[1]!, 'num').type).toBeInstanceOf(arrow.Float64);
    const whole = new arrow.Table(batches);
    expect(field(whole, 'vec').type).toBeInstanceOf(arrow.List);
    expect([0, 1, 2, 3].map((i) => list(whole, 'vec', i))).toEqual([f64(1, 2, 3), f64(4), null, f64()]);
    expect(list(whole, 'mat_shape', 2)).toEqual(Int32Array.from([1, 4]));
    expect(whole.getChild('num')!.toArray()).toEqual(f64(1.5, 2.25, 3, -4));
    expect(list(whole, 'ext', 3)).toEqual(f64(2, 3, 4));
    // Equal to toArrow's table, column by column.
    const t = await Sig.toArrow({ orderBy: 'id', decodeBlobs: true });
    expect(sig(whole.schema)).toEqual(sig(t.schema));
  });

  it('throws a DataJointError naming the column when a later batch holds another dtype', async () => {
    const run = async () => {
      for await (const _ of Drift.arrowBatches({ batchSize: 2, orderBy: 'id', decodeBlobs: true })) void _;
    };
    await expect(run()).rejects.toThrow(dj.DataJointError);
    await expect(run()).rejects.toThrow(/column `x`.*float64 arrays.*int32 arrays.*toArrow/s);
    // One batch holding all rows sees both dtypes: Binary, no error.
    const one: arrow.RecordBatch[] = [];
    for await (const b of Drift.arrowBatches({ batchSize: 10, decodeBlobs: true })) one.push(b);
    expect(field(one[0]!, 'x').type).toBeInstanceOf(arrow.Binary);
  });
});
