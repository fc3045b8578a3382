/**
 * populate on a table keyed by uuid, datetime (to the microsecond), date and a large int64: its bookkeeping queries
 * read those columns raw (bytes, text) while the keys it deals are fetched (decoded), and must
 * still see which keys are reserved and which are done. They did not: with reserveJobs, keys
 * reserved in groups stayed pending and were counted as skipped, and concurrent populates
 * reported each other's keys as DuplicateError failures; and a datetime(6) key fetched as a
 * millisecond Date matched no row (now a dj.blob.DateTime carrying the microseconds, also
 * across threads).
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanup, dj } from './helpers.js';

process.env.DJ_TEST_KEY_TYPES_DB = `djtest_keytypes_${process.pid}`;
const { schema, Session, Analysis } = await import('./fixtures/key-types.js');
const N = 40;

describe('populate on keys whose raw and fetched forms differ', () => {
  beforeAll(async () => {
    await schema.drop({ prompt: false });
    await Session.insert(
      Array.from({ length: N }, (_, i) => ({
        session_uuid: randomUUID(),
        session_time: new Date(Date.UTC(2024, 4, 1, 9, 0, i % 7, 100 + i)),
        precise: `2024-05-01 09:00:00.123${String(100 + (i % 5)).padStart(3, '0')}`, // equal to the millisecond
        counter: 2n ** 60n + BigInt(i), // beyond 2^53: the same double for neighbours
        day: new Date(Date.UTC(2024, 4, 1 + (i % 3))),
        weight: i,
      })),
    );
  });
  afterAll(() => cleanup(schema));

  for (const processes of [1, 2]) {
    it(`reserveJobs makes every key, none left pending (processes: ${processes})`, async () => {
      await Analysis.deleteQuick();
      await Analysis.jobs.drop();
      const r = await Analysis.populate({ reserveJobs: true, processes });
      expect(r).toMatchObject({ success: N, error: 0, skip: 0 });
      expect(await Analysis.count()).toBe(N);
      expect(await Analysis.jobs.progress()).toMatchObject({ pending: 0, reserved: 0, error: 0 });
      expect(await Analysis.progress()).toEqual({ remaining: 0, total: N });
    });
  }

  it('fetched keys restrict to their own rows, microseconds included', async () => {
    const keys = await Session.keys();
    expect(new Set(keys.map((k) => (k.precise as dj.blob.DateTime).microsecond)).size).toBe(5);
    for (const k of keys.slice(0, 6)) expect(await Session.restrict(k).count()).toBe(1);
    expect(await Session.restrict({ precise: '2024-05-01 09:00:00.123102' }).count()).toBe(N / 5);
  });

  it('two populates at once: each skips what the other made, neither reports a failure', async () => {
    await Analysis.deleteQuick();
    const [a, b] = await Promise.all([Analysis.populate(), Analysis.populate()]);
    expect(a.error + b.error).toBe(0);
    expect(a.success + b.success).toBe(N);
    expect(await Analysis.count()).toBe(N);
  });
});
