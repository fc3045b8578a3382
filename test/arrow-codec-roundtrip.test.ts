/**
 * Arrow round trip of codec columns: `Twin.insert(await Source.toArrow())` (and arrowBatches)
 * copies `<blob>`, `<blob@>`, `<npy@>` and `<object@>` values instead of packing their stored
 * form (packed bytes, JSON metadata text) again as a value; toArrow marks such columns with
 * `datajoint.codec`. With `decodeBlobs`, List columns rebuild their arrays. A Binary column a
 * user built (no marker) into a `<blob>` attribute still means a uint8 array.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as arrow from 'apache-arrow';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dj, freshSchema, cleanup, manualTable } from './helpers.js';

const { NDArray, NpScalar } = dj.blob;

let schema: dj.SchemaDecorator;
let root: string;
let Source: typeof dj.Manual;
let Twin: typeof dj.Manual;
let Arrays: typeof dj.Manual;
let ArraysTwin: typeof dj.Manual;
let Stores: typeof dj.Manual;
let StoresTwin: typeof dj.Manual;
let Refs: typeof dj.Manual;
let RefsTwin: typeof dj.Manual;

const codecs = `
id : int32
---
b = null : <blob>
e = null : <blob@>
`;
const arrays = `
id : int32
---
vec = null : <blob>
mat = null : <blob>
ints = null : <blob>
n32 = null : <blob>
f = null : <blob>
mixed = null : <blob>
ext = null : <blob@>
`;
const stores = `
id : int32
---
n = null : <npy@>
o = null : <object@>
`;
const refs = `
id : int32
---
a = null : <attach>
a2 = null : <attach@>
h = null : <hash@>
fp = null : <filepath@>
`;

const f64 = (...v: number[]) => Float64Array.from(v);
const mat = (shape: number[], data: number[], order: 'F' | 'C' = 'F') => new NDArray({ dtype: 'float64', shape, data, order });

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), `djtest_arrowcodec_${process.pid}_`));
  dj.config.set('stores', { default: 'main', main: { protocol: 'file', location: join(root, 'store'), fsync: false } });
  dj.config.set('download_path', join(root, 'downloads'));
  mkdirSync(join(root, 'store', 'raw'), { recursive: true });
  writeFileSync(join(root, 'store', 'raw', 'f.dat'), 'filepath data');
  writeFileSync(join(root, 'att.txt'), 'attached');
  schema = await freshSchema('arrowcodec');
  Source = manualTable(schema, 'Source', codecs);
  Twin = manualTable(schema, 'Twin', codecs);
  Arrays = manualTable(schema, 'Arrays', arrays);
  ArraysTwin = manualTable(schema, 'ArraysTwin', arrays);
  Stores = manualTable(schema, 'Stores', stores);
  StoresTwin = manualTable(schema, 'StoresTwin', stores);
  Refs = manualTable(schema, 'Refs', refs);
  RefsTwin = manualTable(schema, 'RefsTwin', refs);
  await Source.insert([
    { id: 1, b: f64(1, 2, 3), e: { a: 1, s: 'text' } },
    { id: 2, b: 'hello', e: mat([2, 2], [1, 2, 3, 4]) },
    { id: 3, b: new Uint8Array([7, 8, 9]), e: Int32Array.from([5, -6]) },
    { id: 4 },
  ]);
  await Arrays.insert([
    { id: 1, vec: f64(1, 2, 3), mat: mat([2, 3], [1, 2, 3, 4, 5, 6]), ints: Int32Array.from([7, -8]), n32: new NpScalar('int32', 5), f: 1.5, mixed: f64(1), ext: f64(0.5, 1.5) },
    { id: 2, vec: f64(4), mat: mat([2, 2], [1, 2, 3, 4], 'C'), ints: Int32Array.from([1, 2, 3]), n32: new NpScalar('int32', -6), f: 3, mixed: 'text', ext: f64(9) },
    { id: 3, mat: mat([1, 4], [9, 8, 7, 6]), f: -4 },
  ]);
  await Stores.insert([
    { id: 1, n: new NDArray({ dtype: 'int16', shape: [2, 3], data: [1, 2, 3, 4, 5, 6] }), o: { data: Buffer.from('object bytes'), ext: '.txt' } },
    { id: 2 },
  ]);
  await Refs.insert([{ id: 1, a: join(root, 'att.txt'), a2: join(root, 'att.txt'), h: Buffer.from('hashed'), fp: 'raw/f.dat' }, { id: 2 }]);
});
afterAll(async () => {
  await cleanup(schema);
  rmSync(root, { recursive: true, force: true });
});

const field = (t: { schema: arrow.Schema }, name: string) => t.schema.fields.find((f) => f.name === name)!;

describe('Arrow round trip of codec columns', () => {
  it('Twin.insert(await Source.toArrow()) copies <blob> and <blob@> values', async () => {
    await Twin.deleteQuick();
    const t = await Source.toArrow({ orderBy: 'id' });
    expect(field(t, 'b').metadata.get('datajoint.codec')).toBe('<blob>');
    expect(field(t, 'e').metadata.get('datajoint.codec')).toBe('<blob@>');
    await Twin.insert(t);
    const got = await Twin.toDicts({ orderBy: 'id' });
    expect(got).toEqual(await Source.toDicts({ orderBy: 'id' }));
    expect(got[0]!.b).toBeInstanceOf(NDArray);
    expect(got[1]!.e).toBeInstanceOf(NDArray);
    // The <blob> bytes are copied as they are (no unpack and pack again).
    const bytes = async (T: typeof dj.Manual) => (await T.toArrow({ orderBy: 'id' })).getChild('b')!.toArray();
    expect(await bytes(Twin)).toEqual(await bytes(Source));
  });

  it('insert from arrowBatches copies codec columns too', async () => {
    await Twin.deleteQuick();
    for await (const b of Source.arrowBatches({ batchSize: 3, orderBy: 'id' })) await Twin.insert(new arrow.Table(b));
    expect(await Twin.toDicts({ orderBy: 'id' })).toEqual(await Source.toDicts({ orderBy: 'id' }));
  });

  it('a marked column goes into another codec chain: <blob> ↔ <blob@>', async () => {
    await Twin.deleteQuick();
    const t = await Source.toArrow({ orderBy: 'id' });
    // Swap the columns: b (<blob> bytes) goes into e (<blob@>), e (<blob@> metadata) into b.
    const swapped = new arrow.Table({ id: t.getChild('id')!, b: t.getChild('e')!, e: t.getChild('b')! });
    const schemaSwapped = new arrow.Schema(swapped.schema.fields.map((f) => (f.name === 'id' ? f : new arrow.Field(f.name, f.type, true, field(t, f.name === 'b' ? 'e' : 'b').metadata))));
    await Twin.insert(new arrow.Table(swapped.batches.map((b) => new arrow.RecordBatch(schemaSwapped, b.data))));
    const src = await Source.toDicts({ orderBy: 'id' });
    const got = await Twin.toDicts({ orderBy: 'id' });
    expect(got.map((r) => r.b)).toEqual(src.map((r) => r.e));
    expect(got.map((r) => r.e)).toEqual(src.map((r) => r.b));
  });

  it('decodeBlobs: List columns rebuild their arrays (dtype, shape, order); scalars keep their values', async () => {
    await ArraysTwin.deleteQuick();
    const t = await Arrays.toArrow({ orderBy: 'id', decodeBlobs: true });
    expect(field(t, 'mat').type).toBeInstanceOf(arrow.List);
    expect(field(t, 'mixed').metadata.get('datajoint.codec')).toBe('<blob>');
    await ArraysTwin.insert(t);
    const got = await ArraysTwin.toDicts({ orderBy: 'id' });
    expect(got).toEqual(await Arrays.toDicts({ orderBy: 'id' }));
    expect((got[1]!.mat as InstanceType<typeof NDArray>).shape).toEqual([2, 2]);
    // The int32 scalar keeps its dtype for Python readers.
    expect(field(await ArraysTwin.toArrow({ decodeBlobs: true }), 'n32').metadata.get('datajoint.dtype')).toBe('int32');
    for await (const b of Arrays.arrowBatches({ batchSize: 2, orderBy: 'id', decodeBlobs: true })) {
      await ArraysTwin.insert(new arrow.Table(b), { replace: true });
    }
    expect(await ArraysTwin.toDicts({ orderBy: 'id' })).toEqual(await Arrays.toDicts({ orderBy: 'id' }));
  });

  it('<npy@> and <object@> values are copied', async () => {
    await StoresTwin.deleteQuick();
    await StoresTwin.insert(await Stores.toArrow({ orderBy: 'id' }));
    const [a, b] = await StoresTwin.toDicts({ orderBy: 'id' });
    const n = a!.n as { load(): Promise<InstanceType<typeof NDArray>> };
    const arr = await n.load();
    expect(arr.dtype).toBe('int16');
    expect(arr.shape).toEqual([2, 3]);
    expect(Array.from(arr.data as Int16Array)).toEqual([1, 2, 3, 4, 5, 6]);
    const o = a!.o as { read(): Promise<Uint8Array> };
    expect(Buffer.from(await o.read()).toString()).toBe('object bytes');
    expect(b!.n).toBeNull();
  });

  it('<attach>, <attach@>, <hash@> and <filepath@> values are copied (the filepath reference as it was)', async () => {
    await RefsTwin.deleteQuick();
    await RefsTwin.insert(await Refs.toArrow({ orderBy: 'id' }));
    // toEqual compares the <filepath@> ObjectRef's metadata too: the same timestamp and hash.
    expect(await RefsTwin.toDicts({ orderBy: 'id' })).toEqual(await Refs.toDicts({ orderBy: 'id' }));
  });

  it('a Binary column without the marker into <blob> still means a uint8 array, next to a marked one', async () => {
    await Twin.deleteQuick();
    const src = await Source.toArrow({ orderBy: 'id' });
    // b: bytes a user built (no marker); e: Source's marked <blob> bytes of row 1.
    const plain = new arrow.Table({ id: arrow.makeVector(Int32Array.from([1])), b: arrow.vectorFromArray([new Uint8Array([1, 2, 250])], new arrow.Binary()), e: src.getChild('b')!.slice(0, 1) });
    const fields = plain.schema.fields.map((f) => (f.name === 'e' ? new arrow.Field('e', f.type, true, field(src, 'b').metadata) : f));
    await Twin.insert(new arrow.Table(plain.batches.map((x) => new arrow.RecordBatch(new arrow.Schema(fields), x.data))));
    const row = await Twin.fetch1();
    const v = row.b as InstanceType<typeof NDArray>;
    expect(v).toBeInstanceOf(NDArray);
    expect(v.dtype).toBe('uint8');
    expect(Array.from(v.data as Uint8Array)).toEqual([1, 2, 250]);
    expect(row.e).toEqual((await Source.restrict({ id: 1 }).fetch1()).b);
  });

  it('a List column a user built into <blob> stores each row\'s numbers (a typed array), not an Arrow Vector', async () => {
    await Twin.deleteQuick();
    const lists = arrow.vectorFromArray([[1, 2.5, 3], [4], null], new arrow.List(new arrow.Field('item', new arrow.Float64(), true)));
    await Twin.insert(new arrow.Table({ id: arrow.makeVector(Int32Array.from([1, 2, 3])), b: lists }));
    const rows = await Twin.toDicts({ orderBy: 'id' });
    expect(rows.map((r) => (r.b === null ? null : Array.from((r.b as InstanceType<typeof NDArray>).data as Float64Array)))).toEqual([[1, 2.5, 3], [4], null]);
    expect((rows[0]!.b as InstanceType<typeof NDArray>).dtype).toBe('float64');
  });

  it('validate() accepts toArrow output; a marked column whose bytes are no blob is refused, naming it', async () => {
    await Twin.deleteQuick();
    const t = await Source.toArrow({ orderBy: 'id' });
    expect((await Twin.validate(t)).isValid).toBe(true);
    const bad = new arrow.Table({ id: arrow.makeVector(Int32Array.from([9])), b: arrow.vectorFromArray([new Uint8Array([1, 2, 3])], new arrow.Binary()) });
    const marked = new arrow.Schema(bad.schema.fields.map((f) => (f.name === 'b' ? new arrow.Field('b', f.type, true, new Map([['datajoint.codec', '<blob>']])) : f)));
    const badMarked = new arrow.Table(bad.batches.map((x) => new arrow.RecordBatch(marked, x.data)));
    await expect(Twin.insert(badMarked)).rejects.toThrow(dj.AttributeTypeError);
    await expect(Twin.insert(badMarked)).rejects.toThrow(/`b`.*blob/);
    const v = await Twin.validate(badMarked);
    expect(v.isValid).toBe(false);
    expect(await Twin.count()).toBe(0);
  });
});
