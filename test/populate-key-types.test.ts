/**
 * populate on a table keyed by uuid, datetime, date and a large int64: its bookkeeping queries
 * read those columns raw (bytes, text) while the keys it deals are fetched (decoded), and must
 * still see which keys are reserved and which are done. They did not: with reserveJobs, keys
 * reserved in groups stayed pending and were counted as skipped, and concurrent populates
 * reported each other's keys as DuplicateError failures.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanup } from './helpers.js';

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

  it('two populates at once: each skips what the other made, neither reports a failure', async () => {
    await Analysis.deleteQuick();
    const [a, b] = await Promise.all([Analysis.populate(), Analysis.populate()]);
    expect(a.error + b.error).toBe(0);
    expect(a.success + b.success).toBe(N);
    expect(await Analysis.count()).toBe(N);
  });
});
