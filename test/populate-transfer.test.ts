/**
 * populate({ processes: N }) moves three-part make data between threads (API.md §6): the
 * buffers makeFetch returned are detached on the sending side, makeCompute receives real
 * Arrow tables, NDArrays and Buffers, its result comes back the same way, makeInsert gets
 * intact re-fetched data, and the rows are the same as with processes: 1.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dj, cleanup } from './helpers.js';

process.env.DJ_TEST_TRANSFER_DB = `djtest_transfer_${process.pid}`;
const { schema, Recording, Features, Misfit, sent } = await import('./fixtures/transfer-pipeline.js');
process.env.DJ_TEST_OBJREF_DB = `djtest_objref_${process.pid}`;
const objref = await import('./fixtures/objectref-transfer.js');
const KEYS = 6;

describe('three-part make data moves between threads', () => {
  beforeAll(async () => {
    await schema.drop({ prompt: false });
    await Recording.insert(Array.from({ length: KEYS }, (_, i) => ({ rec_id: i, gain: 1 + i / 4 })));
  });
  afterAll(() => cleanup(schema));

  it('computes the same rows with processes 1 and 2; with 2 the fetched buffers moved', async () => {
    expect(await Features.populate()).toMatchObject({ success: KEYS, error: 0 });
    const one = await Features.toDicts({ orderBy: 'KEY' });
    // In-process: nothing crossed a thread, nothing is detached.
    expect(sent.every((f) => f.raw.byteLength === 100_000 && f.meta.samples.getChild('v')!.data[0]!.values.byteLength > 0)).toBe(true);
    expect(one.every((r) => r.seen_compute === 'Table,NDArray,Buffer,Float32Array,main')).toBe(true);

    await Features.delete({ prompt: false });
    sent.length = 0;
    expect(await Features.populate({ processes: 2 })).toMatchObject({ success: KEYS, error: 0 });
    const two = await Features.toDicts({ orderBy: 'KEY' });
    const strip = (rows: Record<string, unknown>[]) => rows.map(({ seen_compute: _s, ...rest }) => rest);
    expect(strip(two)).toEqual(strip(one));
    // makeCompute ran on worker threads and received real instances over the moved memory.
    expect(two.map((r) => r.seen_compute)).toEqual(Array(KEYS).fill('Table,NDArray,Buffer,Float32Array,worker'));
    // Its result came back as real instances; makeInsert got the re-fetched, intact data.
    expect(two.map((r) => r.seen_insert)).toEqual(Array(KEYS).fill('NDArray,Table,100,intact'));
    // The sending side's buffers are detached: they were transferred, not copied.
    // (makeFetch runs twice per key: once for the compute, moved to the worker, and once
    // inside makeInsert's transaction for the change check, kept here.)
    expect(sent).toHaveLength(2 * KEYS);
    const moved = sent.filter((f) => f.raw.byteLength === 0);
    expect(moved).toHaveLength(KEYS);
    for (const f of moved) {
      expect(f.weights[0]!.byteLength).toBe(0);
      expect((f.image.data as Float32Array).byteLength).toBe(0);
      expect(f.meta.samples.getChild('v')!.data[0]!.values.byteLength).toBe(0);
    }
  });

  it("reports a compute step's failure on the worker with its class, and a result that cannot come back as UnsendableValue", async () => {
    const r = await Misfit.populate({ processes: 2, suppressErrors: true, restrict: 'rec_id < 3' });
    expect(r).toMatchObject({ success: 0, error: 3 });
    const byId = new Map(r.errors.map((e) => [Number(e.key.rec_id), e.error]));
    expect(byId.get(0)).toBeInstanceOf(dj.UnsendableValue);
    expect(byId.get(0)!.message).toMatch(/Misfit\.makeCompute returned a value its worker thread cannot send back: it holds a function \(callback\)/);
    expect(byId.get(1)).toBeInstanceOf(dj.UnsendableValue);
    expect(byId.get(1)!.message).toMatch(/a Promise \(is an await missing\?\)/);
    expect(byId.get(2)).toBeInstanceOf(RangeError);
    expect(byId.get(2)!.message).toBe('compute out of range for 2');
    expect(byId.get(2)!.stack).toMatch(/transfer-pipeline\.ts/);
    expect(await Misfit.count()).toBe(0);
  });

  it('refuses makeKwargs the worker threads cannot receive, at once and for every key alike', async () => {
    const err = await Features.populate({ processes: 2, makeKwargs: { scale: 2, onDone: () => 1 } }).then(
      () => null,
      (e: unknown) => e as Error,
    );
    expect(err).toBeInstanceOf(dj.UnsendableValue);
    expect(err!.message).toMatch(/sends makeKwargs to its worker threads, which cannot receive them/);
  });

  it('refuses a makeFetch result that cannot cross threads, with a clear error', async () => {
    class Unsendable extends dj.Computed {
      static definition = `-> Recording\n---\nx : float64`;
      async makeFetch() {
        return { callback: () => 1 };
      }
      makeCompute() {
        return 1;
      }
      async makeInsert(key: Record<string, unknown>, x: number) {
        await this.insert1({ ...key, x });
      }
    }
    schema.add(Unsendable);
    try {
      const r = await Unsendable.populate({ processes: 2, suppressErrors: true, maxCalls: 1 });
      expect(r.error).toBe(1);
      expect(r.errors[0]!.error).toBeInstanceOf(dj.DataJointError);
      expect(r.errors[0]!.error.message).toMatch(/cannot be sent to a worker thread/);
    } finally {
      await Unsendable.drop({ prompt: false });
    }
  });
});

describe('an ObjectRef crosses threads as an ObjectRef', () => {
  let root: string;
  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'djtest_objref_'));
    dj.config.set('stores', { default: 'main', main: { protocol: 'file', location: root } });
    await objref.schema.drop({ prompt: false });
    await objref.Raw.insert([1, 2, 3].map((i) => ({ raw_id: i, data: Buffer.alloc(100 * i, i) })));
  });
  afterAll(async () => {
    await cleanup(objref.schema);
    rmSync(root, { recursive: true, force: true });
  });

  it("makeCompute reads an <object@> value makeFetch returned, and hands it back, with processes 1 and 2", async () => {
    expect(await objref.Summed.populate()).toMatchObject({ success: 3, error: 0 });
    const one = await objref.Summed.toDicts({ orderBy: 'raw_id' });
    await objref.Summed.delete({ prompt: false });
    // It used to arrive on the worker as a plain object: "f.ref.read is not a function".
    expect(await objref.Summed.populate({ processes: 2 })).toMatchObject({ success: 3, error: 0 });
    const two = await objref.Summed.toDicts({ orderBy: 'raw_id' });
    const expected = [1, 2, 3].map((i) => ({ raw_id: i, n: 100 * i, total: 100 * i * i, back_is_ref: 1 }));
    expect(one.map(({ read_on: _r, ...rest }) => ({ ...rest, back_is_ref: Number(rest.back_is_ref) }))).toEqual(expected);
    expect(two.map(({ read_on: _r, ...rest }) => ({ ...rest, back_is_ref: Number(rest.back_is_ref) }))).toEqual(expected);
    expect(one.map((r) => r.read_on)).toEqual(['main', 'main', 'main']);
    expect(two.map((r) => r.read_on)).toEqual(['worker', 'worker', 'worker']);
  });
});
