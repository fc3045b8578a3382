/**
 * A table module that worker threads cannot import: populate({ processes: 2 }) fails at once
 * with a DataJointError that says so, computes nothing, and leaves no job reserved.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { dj, cleanup } from './helpers.js';

process.env.DJ_TEST_UNLOADABLE_DB = `djtest_unloadable_${process.pid}`;
const { schema, Item, Doubled } = await import('./fixtures/worker-unloadable.js');

describe('a table module the workers cannot load', () => {
  afterAll(() => cleanup(schema));

  it('stops populate with a clear error, for plain and reserved populates alike', async () => {
    await schema.drop({ prompt: false });
    await Item.insert(Array.from({ length: 6 }, (_, i) => ({ item_id: i })));
    for (const reserveJobs of [false, true]) {
      const t0 = Date.now();
      const err = await Doubled.populate({ processes: 2, reserveJobs, suppressErrors: true }).then(
        () => null,
        (e: unknown) => e as Error,
      );
      expect(err).toBeInstanceOf(dj.DataJointError);
      expect(err!.message).toMatch(/worker threads could not load the table module: importing .*worker-unloadable\.ts failed: this module refuses to load on a worker thread/);
      expect(Date.now() - t0).toBeLessThan(30_000);
      expect(await Doubled.count()).toBe(0);
    }
    expect((await Doubled.jobs.progress()).reserved).toBe(0);
    // In process, the same table populates.
    expect(await Doubled.populate()).toMatchObject({ success: 6, error: 0 });
  });
});
