/**
 * populate({ processes: N }) moves three-part make data between threads (API.md §6): the
 * buffers makeFetch returned are detached on the sending side, makeCompute receives real
 * Arrow tables, NDArrays and Buffers, its result comes back the same way, makeInsert gets
 * intact re-fetched data, and the rows are the same as with processes: 1.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dj, cleanup } from './helpers.js';

process.env.DJ_TEST_TRANSFER_DB = `djtest_transfer_${process.pid}`;
const { schema, Recording, Features, sent } = await import('./fixtures/transfer-pipeline.js');
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
