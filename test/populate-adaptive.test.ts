/**
 * populate.adaptive_start: with processes: N, a call whose work is too short to pay for
 * starting worker threads makes its keys in this thread and starts none; a longer one starts
 * them once it has measured that, making keys here until they are up; a pool already up is
 * used at once. Off (the default), every make of such a call runs on a worker thread.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanup, dj } from './helpers.js';

process.env.DJ_TEST_ADAPTIVE_DB = `djtest_adaptive_${process.pid}`;
const { schema, Item, Made } = await import('./fixtures/adaptive-tables.js');
const { closePools } = await import('../src/populate/pool.js');
const { keptPool } = await import('../src/populate/pool-threads.js');

const SHORT = 12; // trivial keys: item_id 0..11
const LONG = 50; // 100 ms each: item_id 100..149, 5 s in one thread (threads start in 1-3 s here)
// 2.5 s each: item_id 200..207. Long enough that starting threads pays even when this process
// measured their start-up at several seconds (a loaded machine: the model then rightly keeps
// makes of 1 s here, and the test saw all 8 made on this thread).
const SLOW = 8;
const SLOW_MS = 2500;
beforeAll(async () => {
  await schema.drop({ prompt: false });
  await Item.insert(Array.from({ length: SHORT }, (_, i) => ({ item_id: i, ms: 0 })));
  await Item.insert(Array.from({ length: LONG }, (_, i) => ({ item_id: 100 + i, ms: 100 })));
  await Item.insert(Array.from({ length: SLOW }, (_, i) => ({ item_id: 200 + i, ms: SLOW_MS })));
  dj.config.set('populate.adaptive_start', true);
});
afterAll(async () => {
  dj.config.set('populate.adaptive_start', false);
  await closePools();
  await cleanup(schema);
});

const threads = async (restrict: string) => Array.from((await Made.restrict(restrict).toArrays('thread')) as ArrayLike<number>);

describe('populate.adaptive_start', () => {
  it('a short call makes its keys in this thread and starts no worker thread', async () => {
    await closePools();
    expect(await Made.populate({ processes: 2, restrict: 'item_id < 100' })).toMatchObject({ success: SHORT, error: 0, skip: 0 });
    expect(await threads('item_id < 100')).toEqual(Array(SHORT).fill(0));
    expect(keptPool(2, dj.config.snapshot())).toBeNull();
    // With reserved jobs too: every job completed, none left reserved or pending.
    await Made.deleteQuick();
    expect(await Made.populate({ processes: 2, restrict: 'item_id < 100', reserveJobs: true })).toMatchObject({ success: SHORT, error: 0 });
    expect(await Made.jobs.progress()).toMatchObject({ reserved: 0, pending: 0, error: 0 });
    expect(keptPool(2, dj.config.snapshot())).toBeNull();
  });

  it('a long call starts the threads after measuring, and makes keys here until they are up', async () => {
    await closePools();
    const long = 'item_id >= 100 and item_id < 200';
    const r = await Made.populate({ processes: 2, restrict: long });
    expect(r).toMatchObject({ success: LONG, error: 0, skip: 0 });
    const ids = await threads(long);
    expect(ids).toHaveLength(LONG); // every key made once
    expect(ids.filter((id) => id === 0).length).toBeGreaterThan(0); // the measurement, at least
    expect(ids.filter((id) => id !== 0).length, `${ids.filter((id) => id === 0).length} of ${LONG} keys made here`).toBeGreaterThan(0); // the threads took over
    expect(keptPool(2, dj.config.snapshot())).not.toBeNull();
  });

  it('a pool already up is used at once, even for a short call', async () => {
    await Made.restrict('item_id < 100').delete();
    expect(await Made.populate({ processes: 2, restrict: 'item_id < 100' })).toMatchObject({ success: SHORT, error: 0 });
    const ids = await threads('item_id < 100');
    expect(ids).toHaveLength(SHORT);
    expect(ids.includes(0)).toBe(false);
  });

  it('off (the default), a short call makes every key on a worker thread', async () => {
    await dj.config.override({ 'populate.adaptive_start': false }, async () => {
      await Made.deleteQuick();
      expect(await Made.populate({ processes: 2, restrict: 'item_id < 100' })).toMatchObject({ success: SHORT, error: 0 });
      const ids = await threads('item_id < 100');
      expect(ids).toHaveLength(SHORT);
      expect(ids.includes(0)).toBe(false);
    });
  });

  it('slow makes: decides on the first key, then makes none here while the threads start (a make computing here would hold up their start)', async () => {
    await closePools();
    const slow = 'item_id >= 200';
    expect(await Made.populate({ processes: 2, restrict: slow })).toMatchObject({ success: SLOW, error: 0, skip: 0 });
    const ids = await threads(slow);
    expect(ids).toHaveLength(SLOW);
    expect(ids.filter((id) => id === 0)).toEqual([0]); // the measurement only
  });
});
