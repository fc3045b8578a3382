/**
 * populate({ processes: N }) keeps one pool of N threads for every table module: a second
 * module's populate runs on the threads the first one started (each thread imports the new
 * module on its first task), so its first call pays no thread start-up; results as in-process.
 * Calls made under other settings get a pool of their own.
 */
import { availableParallelism } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanup, dj } from './helpers.js';

process.env.DJ_TEST_SHARED_POOL_DB = `djtest_sharedpool_${process.pid}`;
const a = await import('./fixtures/shared-pool-a.js');
const b = await import('./fixtures/shared-pool-b.js');
const { closePools } = await import('../src/populate/pool.js');
const { keptPool } = await import('../src/populate/pool-threads.js');

const N = 12;
beforeAll(async () => {
  for (const s of [a.schema, b.schema]) await s.drop({ prompt: false });
  await a.Item.insert(Array.from({ length: N }, (_, i) => ({ item_id: i })));
  await b.Item.insert(Array.from({ length: N }, (_, i) => ({ item_id: i })));
});
afterAll(async () => {
  await closePools();
  await cleanup(a.schema, b.schema);
});

const threadsOf = async (t: { toArrays(attr: string): Promise<unknown> }) => new Set(Array.from((await t.toArrays('thread')) as ArrayLike<number>));

describe('one pool for every table module', () => {
  it("a second module's populate runs on the first module's threads", async () => {
    expect(await a.Made.populate({ processes: 2 })).toMatchObject({ success: N, error: 0 });
    const first = await threadsOf(a.Made);
    expect(first.has(0)).toBe(false); // worker threads, not this one
    expect(first.size).toBeLessThanOrEqual(2);

    expect(await b.Made.populate({ processes: 2 })).toMatchObject({ success: N, error: 0 });
    const second = await threadsOf(b.Made);
    expect(second.size).toBeGreaterThan(0);
    for (const id of second) expect(first.has(id), `thread ${id} of module B is not one of module A's ${[...first]}`).toBe(true);
    expect(await b.Made.count()).toBe(N);
    // The module both table modules import was evaluated once in each thread, as under tsx.
    for (const t of [a.Made, b.Made]) expect(new Set(Array.from((await t.toArrays('loads')) as Int32Array))).toEqual(new Set([1]));

    // Back to the first module, and a different thread count gets a pool of its own.
    await a.Made.deleteQuick();
    expect(await a.Made.populate({ processes: 2 })).toMatchObject({ success: N, error: 0 });
    for (const id of await threadsOf(a.Made)) expect(first.has(id)).toBe(true);
    // A thread count the cores cannot run is capped at them (DataJoint Python caps at cpu_count):
    // no pool of 64 threads and 64 connections; on this machine's cores, the pool above if 2.
    await b.Made.deleteQuick();
    expect(await b.Made.populate({ processes: 64 })).toMatchObject({ success: N, error: 0 });
    const cores = availableParallelism();
    expect(keptPool(64, dj.config.snapshot())).toBeNull();
    expect(keptPool(Math.min(64, cores), dj.config.snapshot())?.threads.length).toBe(Math.min(64, cores));
    for (const id of await threadsOf(b.Made)) expect(first.has(id)).toBe(cores === 2);
  });

  it('other settings get threads of their own (a thread keeps the settings of its first task)', async () => {
    await a.Made.deleteQuick();
    expect(await a.Made.populate({ processes: 2 })).toMatchObject({ success: N, error: 0 });
    const before = await threadsOf(a.Made);
    const limit = dj.config.get('display.limit');
    dj.config.set('display.limit', 7);
    try {
      await b.Made.deleteQuick();
      expect(await b.Made.populate({ processes: 2 })).toMatchObject({ success: N, error: 0 });
      for (const id of await threadsOf(b.Made)) expect(before.has(id)).toBe(false);
    } finally {
      dj.config.set('display.limit', limit as number);
    }
    await b.Made.deleteQuick();
    expect(await b.Made.populate({ processes: 2 })).toMatchObject({ success: N, error: 0 });
    for (const id of await threadsOf(b.Made)) expect(before.has(id)).toBe(true);
  });
});
