/**
 * Make data crossing threads (src/populate/transfer.ts): packed, sent with a real transfer
 * (structuredClone with a transfer list detaches exactly as postMessage does), unpacked.
 */
import { describe, expect, test } from 'vitest';
import { MessageChannel } from 'node:worker_threads';
import { tableFromArrays, tableFromIPC, tableToIPC, vectorFromArray, Dictionary, Int32, Utf8, List, Field, Float64, type Table, type RecordBatch, type Vector } from 'apache-arrow';
import { NDArray } from '../../src/blob/ndarray.js';
import { packForTransfer, unpackTransferred } from '../../src/populate/transfer.js';

async function send<T>(value: T): Promise<T> {
  const { value: packed, transferList } = await packForTransfer(value);
  return (await unpackTransferred(structuredClone(packed, { transfer: transferList }))) as T;
}

describe('transfer between threads', () => {
  test('typed arrays move: the sender is detached, the receiver has the same values', async () => {
    const a = Float64Array.from({ length: 1000 }, (_, i) => i / 3);
    const copy = a.slice();
    const got = await send({ a, nested: [{ b: new Int16Array([1, -2, 3]) }] });
    expect(a.byteLength).toBe(0);
    expect(got.a).toBeInstanceOf(Float64Array);
    expect(got.a).toEqual(copy);
    expect(got.nested[0]!.b).toEqual(new Int16Array([1, -2, 3]));
  });

  test('a large Buffer moves and is a Buffer again; a small pooled Buffer is copied, its slab kept', async () => {
    const big = Buffer.alloc(1 << 20, 7);
    const small = Buffer.from('hello'); // a view into Node's shared 8 KiB pool
    const neighbour = Buffer.from('neighbour'); // same slab: must stay readable
    const got = await send({ big, small });
    expect(big.byteLength).toBe(0);
    expect(Buffer.isBuffer(got.big)).toBe(true);
    expect(got.big.length).toBe(1 << 20);
    expect(got.big[12345]).toBe(7);
    expect(Buffer.isBuffer(got.small)).toBe(true);
    expect(got.small.toString()).toBe('hello');
    expect(small.toString()).toBe('hello');
    expect(neighbour.toString()).toBe('neighbour');
  });

  test('a small view into a large buffer is copied, the large buffer stays with the sender', async () => {
    const whole = new Float32Array(1 << 16).fill(1.5);
    const part = whole.subarray(10, 20);
    const got = await send({ part });
    expect(whole.length).toBe(1 << 16);
    expect(got.part).toEqual(new Float32Array(10).fill(1.5));
    expect(got.part.buffer.byteLength).toBe(40);
  });

  test('NDArray arrives as an NDArray over the moved data', async () => {
    const data = Float64Array.from({ length: 12 }, (_, i) => i);
    const nd = new NDArray({ dtype: 'float64', shape: [3, 4], data, order: 'C' });
    const got = await send([nd]);
    expect(data.byteLength).toBe(0);
    expect(got[0]).toBeInstanceOf(NDArray);
    expect(got[0]!.shape).toEqual([3, 4]);
    expect(got[0]!.order).toBe('C');
    expect(Array.from(got[0]!.data as Float64Array)).toEqual(Array.from({ length: 12 }, (_, i) => i));
  });

  test('an Arrow Table arrives as a real Table over the moved column buffers', async () => {
    const x = Float64Array.from({ length: 5000 }, (_, i) => Math.sin(i));
    const t = tableFromArrays({ x, id: Int32Array.from({ length: 5000 }, (_, i) => i), name: Array.from({ length: 5000 }, (_, i) => (i % 7 ? `n${i}` : null)) });
    const expected = t.toArray().map((r) => r.toJSON());
    const xBuf = t.getChild('x')!.data[0]!.values;
    const got = await send({ table: t });
    expect(xBuf.byteLength).toBe(0); // moved, not copied
    expect(got.table.constructor.name).toBe('Table');
    expect(got.table.numRows).toBe(5000);
    expect(got.table.schema.fields.map((f) => `${f.name}:${f.type}`)).toEqual(t.schema.fields.map((f) => `${f.name}:${f.type}`));
    expect(got.table.toArray().map((r) => r.toJSON())).toEqual(expected);
    expect(got.table.getChild('name')!.nullCount).toBe(715);
  });

  test('Arrow read from IPC (one body buffer), with lists and dictionaries, RecordBatch and Vector', async () => {
    const dict = vectorFromArray(['a', 'b', 'a', null, 'c'], new Dictionary(new Utf8(), new Int32()));
    const lists = vectorFromArray([[1, 2], [], null, [3], [4, 5, 6]], new List(new Field('item', new Float64(), true)));
    const src = tableFromArrays({ k: Int32Array.from([1, 2, 3, 4, 5]) }).assign(new (tableFromArrays({ k: new Int32Array(0) }).constructor as typeof Table)({ d: dict, l: lists }));
    const t = tableFromIPC(tableToIPC(src));
    const expected = JSON.stringify(t.toArray().map((r) => r.toJSON()));
    const got = await send({ t, batch: t.batches[0] as RecordBatch, vec: t.getChild('l') as Vector });
    expect(JSON.stringify(got.t.toArray().map((r) => r.toJSON()))).toBe(expected);
    expect(got.t.getChild('d')!.get(2)).toBe('a');
    expect(got.batch.numRows).toBe(5);
    expect(got.vec.get(4)!.toArray()).toEqual(new Float64Array([4, 5, 6]));
  });

  test('plain values, Maps, Dates, bigints, cycles and SharedArrayBuffers', async () => {
    const sab = new Int32Array(new SharedArrayBuffer(16));
    const cyc: Record<string, unknown> = { n: 1 };
    cyc.self = cyc;
    const got = await send({ m: new Map([['a', new Uint8Array([1, 2])]]), d: new Date(5), b: 2n ** 70n, sab, cyc, s: 'x' });
    sab[0] = 42;
    expect(got.sab[0]).toBe(42); // shared, not copied
    expect(got.m.get('a')).toEqual(new Uint8Array([1, 2]));
    expect(got.d.getTime()).toBe(5);
    expect(got.b).toBe(2n ** 70n);
    expect((got.cyc as { self: unknown }).self).toBe(got.cyc);
  });

  test('a value with nothing to transfer is sent as it is', async () => {
    const v = { a: 1, b: ['x', { c: null }] };
    const packed = await packForTransfer(v);
    expect(packed.value).toBe(v);
    expect(packed.transferList).toEqual([]);
  });

  test('works through a real MessagePort', async () => {
    const { port1, port2 } = new MessageChannel();
    const a = new Float64Array([1, 2, 3]);
    const { value, transferList } = await packForTransfer({ a, buf: Buffer.alloc(10000, 1) });
    const got = new Promise<unknown>((resolve) => port2.once('message', resolve));
    port1.postMessage(value, transferList);
    const v = (await unpackTransferred(await got)) as { a: Float64Array; buf: Buffer };
    port1.close();
    expect(a.byteLength).toBe(0);
    expect(v.a).toEqual(new Float64Array([1, 2, 3]));
    expect(Buffer.isBuffer(v.buf)).toBe(true);
  });
});
