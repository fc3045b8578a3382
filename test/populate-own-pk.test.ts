/**
 * populate of a Computed table that adds a primary-key attribute of its own (with
 * jobs.allow_new_pk_fields_in_computed_tables): its key source is its parents' key, make gets
 * keys of that, and a key counts as done once any of its rows exists. Before, the default key
 * source selected the table's own attribute from the parents (populate failed with an unknown
 * column), make got `unit: undefined`, and done keys were never found done (so concurrent
 * populates reported each other's keys as DuplicateError failures).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanup } from './helpers.js';

process.env.DJ_TEST_OWN_PK_DB = `djtest_ownpk_${process.pid}`;
const { schema, Recording, Unit } = await import('./fixtures/own-pk.js');
const N = 30;

describe('a Computed table with a primary-key attribute of its own', () => {
  beforeAll(async () => {
    await schema.drop({ prompt: false });
    await Recording.insert(Array.from({ length: N }, (_, rec) => ({ rec })));
  });
  afterAll(() => cleanup(schema));

  it('populates from its parents\' keys, several rows per key', async () => {
    expect(await Unit.progress()).toEqual({ remaining: N, total: N });
    expect(await Unit.populate()).toMatchObject({ success: N, error: 0 });
    expect(await Unit.count()).toBe(3 * N);
    expect(await Unit.progress()).toEqual({ remaining: 0, total: N });
    expect(await Unit.populate()).toMatchObject({ success: 0, error: 0 });
  });

  it('two populates at once, on threads too: each key made once, no failure', async () => {
    for (const processes of [1, 2]) {
      await Unit.deleteQuick();
      const [a, b] = await Promise.all([Unit.populate({ processes, suppressErrors: true }), Unit.populate({ processes, suppressErrors: true })]);
      expect(a.errors.concat(b.errors)).toEqual([]);
      expect(a.success + b.success).toBe(N);
      expect(await Unit.count()).toBe(3 * N);
    }
  });

  it('with reserveJobs on two threads', async () => {
    await Unit.deleteQuick();
    expect(await Unit.populate({ processes: 2, reserveJobs: true })).toMatchObject({ success: N, error: 0, skip: 0 });
    expect(await Unit.jobs.progress()).toMatchObject({ pending: 0, reserved: 0, error: 0 });
  });
});
