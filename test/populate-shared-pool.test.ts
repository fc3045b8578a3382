/**
 * populate({ processes: N }) keeps one pool of N threads for every table module: a second
 * module's populate runs on the threads the first one started (each thread imports the new
 * module on its first task), so its first call pays no thread start-up; results as in-process.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanup } from './helpers.js';

process.env.DJ_TEST_SHARED_POOL_DB = `djtest_sharedpool_${process.pid}`;
const a = await import('./fixtures/shared-pool-a.js');
const b = await import('./fixtures/shared-pool-b.js');
const { closePools } = await import('../src/populate/pool.js');

const N = 12;
beforeAll(async () => {
  for (const s of [a.schema, b.schema]) await s.drop({ prompt: false });
  await a.ItemA.insert(Array.from({ length: N }, (_, i) => ({ item_id: i })));
  await b.ItemB.insert(Array.from({ length: N }, (_, i) => ({ item_id: i })));
});
afterAll(async () => {
  await closePools();
  await cleanup(a.schema, b.schema);
});

const threadsOf = async (t: { toArrays(attr: string): Promise<unknown> }) => new Set(Array.from((await t.toArrays('thread')) as ArrayLike<number>));

describe('one pool for every table module', () => {
  it("a second module's populate runs on the first module's threads", async () => {
    expect(await a.MadeA.populate({ processes: 2 })).toMatchObject({ success: N, error: 0 });
    const first = await threadsOf(a.MadeA);
    expect(first.has(0)).toBe(false); // worker threads, not this one
    expect(first.size).toBeLessThanOrEqual(2);

    expect(await b.MadeB.populate({ processes: 2 })).toMatchObject({ success: N, error: 0 });
    const second = await threadsOf(b.MadeB);
    expect(second.size).toBeGreaterThan(0);
    for (const id of second) expect(first.has(id), `thread ${id} of module B is not one of module A's ${[...first]}`).toBe(true);
    expect(await b.MadeB.count()).toBe(N);

    // Back to the first module, and a different thread count gets a pool of its own.
    await a.MadeA.deleteQuick();
    expect(await a.MadeA.populate({ processes: 2 })).toMatchObject({ success: N, error: 0 });
    for (const id of await threadsOf(a.MadeA)) expect(first.has(id)).toBe(true);
    await b.MadeB.deleteQuick();
    expect(await b.MadeB.populate({ processes: 3 })).toMatchObject({ success: N, error: 0 });
    for (const id of await threadsOf(b.MadeB)) expect(first.has(id)).toBe(false);
  });
});
