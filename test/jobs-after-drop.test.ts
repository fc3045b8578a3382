/**
 * A dropped schema takes its jobs tables (`~~name`) with it: the next use declares them again,
 * as it does the schema's own tables, in this process and on populate's worker threads.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { dj, cleanup } from './helpers.js';

const db = `djtest_jobsdrop_${process.pid}`;
process.env.DJ_TEST_PIPELINE_DB = db;
const { schema, Source, Doubled } = await import('./fixtures/pipeline.js');

afterAll(() => cleanup(schema));

const sources = [1, 2, 3].map((source_id) => ({ source_id, value: source_id }));

describe('jobs tables after schema.drop()', () => {
  for (const processes of [1, 2])
    it(`are declared again on next use (populate with reserveJobs, processes: ${processes}; refresh, progress, count)`, async () => {
      for (let round = 1; round <= 2; round++) {
        await schema.drop({ prompt: false });
        await Source.insert(sources);
        const r = await Doubled.populate({ reserveJobs: true, processes });
        expect([round, r.success, r.error]).toEqual([round, 3, 0]);
        expect(await Doubled.jobs.refresh()).toMatchObject({ added: 0 });
        expect(await Doubled.jobs.progress()).toMatchObject({ pending: 0, reserved: 0, error: 0 });
        expect(await Doubled.jobs.count()).toBe(0);
      }
    });

  it('and after Table.drop() the jobs table still works once the table is used again', async () => {
    await schema.drop({ prompt: false });
    await Source.insert(sources);
    await Doubled.jobs.refresh();
    expect(await Doubled.jobs.count()).toBe(3);
    await Doubled.drop({ prompt: false });
    expect((await Doubled.populate({ reserveJobs: true })).success).toBe(3);
    expect(await Doubled.jobs.count()).toBe(0);
  });
});
