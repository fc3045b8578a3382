/**
 * Errors of populate's makes as the caller sees them, with processes 1 and 2 alike (API.md §6):
 * an error of the user's own class keeps its name, message, stack, cause and own fields across
 * the thread boundary (its class cannot cross: it arrives as a DataJointError of that name), a
 * thrown non-Error reads as what was thrown (not "[object Object]"), and a makeCompute that
 * ends its worker thread fails its key with a WorkerCrashedError, recorded in the jobs table.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dj, cleanup } from './helpers.js';

process.env.DJ_TEST_HAZARDS_DB = `djtest_worker_errors_${process.pid}`;
const fx = await import('./fixtures/transfer-hazards.js');
const KEYS = 4;

beforeAll(() => fx.freshSources(KEYS));
afterAll(() => cleanup(fx.schema));

describe.each([1, 2])('populate with processes %i', (processes) => {
  it.each(['Faulty', 'FaultyCompute'] as const)('%s: an error of the user’s class keeps name, message, stack, cause and its own fields', async (name) => {
    const r = await fx[name].populate({ processes, suppressErrors: true, restrict: 'src_id = 1' });
    expect(r.error).toBe(1);
    const err = r.errors[0]!.error as Error & { code?: unknown; details?: unknown };
    // In-process it is the very error; from a worker thread, a DataJointError named like it.
    expect(err).toBeInstanceOf(processes === 1 ? fx.CalibrationError : dj.DataJointError);
    expect(err.name).toBe('CalibrationError');
    expect(err.message).toBe('channel 1 out of range');
    expect(err.code).toBe('E_CALIB');
    expect(err.details).toEqual({ channel: 1, limits: [0, 10] });
    expect(err.stack).toMatch(/transfer-hazards\.ts/);
    expect(err.cause).toBeInstanceOf(RangeError);
    expect((err.cause as Error).message).toBe('gain 12 > 10');
  });

  it('a thrown non-Error reads as what was thrown, not [object Object]', async () => {
    const r = await fx.ThrowsObject.populate({ processes, suppressErrors: true, restrict: 'src_id = 2', reserveJobs: true });
    expect(r.error).toBe(1);
    const err = r.errors[0]!.error;
    expect(err).toBeInstanceOf(dj.DataJointError);
    expect(err.message).toBe("an object was thrown, not an Error: { reason: 'bad gain', src: 2 }");
    expect(err.cause).toEqual({ reason: 'bad gain', src: 2 });
    const job = await fx.ThrowsObject.jobs.errors.toDicts();
    expect(job.map((j) => j.error_message)).toEqual([expect.stringContaining("{ reason: 'bad gain', src: 2 }")]);
    await fx.ThrowsObject.jobs.delete({ prompt: false });
  });
});

describe('a makeCompute that ends its worker thread', () => {
  it('fails its key with WorkerCrashedError, recorded in the jobs table; the other keys are made', async () => {
    await fx.FaultyCompute.delete({ prompt: false });
    const r = await fx.FaultyCompute.populate({ processes: 2, suppressErrors: true, reserveJobs: true });
    expect(r).toMatchObject({ success: KEYS - 2, error: 2 });
    const byId = new Map(r.errors.map((e) => [Number(e.key.src_id), e.error]));
    expect(byId.get(0)).toBeInstanceOf(dj.WorkerCrashedError);
    expect(byId.get(0)!.message).toMatch(/died while running FaultyCompute\.makeCompute for this key: worker exited with code: 3/);
    expect(byId.get(1)!.name).toBe('CalibrationError');
    const jobs = await fx.FaultyCompute.jobs.errors.toDicts({ orderBy: 'src_id' });
    expect(jobs.map((j) => [Number(j.src_id), j.error_message])).toEqual([
      [0, expect.stringMatching(/^WorkerCrashedError: a populate worker thread died while running FaultyCompute\.makeCompute/)],
      [1, expect.stringMatching(/channel 1 out of range/)],
    ]);
  });
});
