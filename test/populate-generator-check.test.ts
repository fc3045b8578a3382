/**
 * A generator make's change check compares what its first yield yields (as DataJoint Python's
 * does): one with a bare first `yield` has nothing to compare, so its inputs are not checked.
 * populate makes its keys and says so once per process, as a DataJointWarning on the calling
 * thread (a worker thread's warning comes back with its chunk's result).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanup } from './helpers.js';

process.env.DJ_TEST_HAZARDS_DB = `djtest_generator_check_${process.pid}`;
const fx = await import('./fixtures/transfer-hazards.js');
const KEYS = 4;
const WARNING = /DataJointWarning: BareYields\.make's first yield yields nothing, so populate cannot check that the data it fetched did not change before the insert/;

beforeAll(() => fx.freshSources(KEYS));
afterAll(() => cleanup(fx.schema));

/** The DataJointWarnings `process.on('warning')` sees while `run` runs. */
async function warningsDuring(run: () => Promise<unknown>): Promise<string[]> {
  const warnings: string[] = [];
  const onWarning = (w: Error) => void warnings.push(`${w.name}: ${w.message}`);
  process.on('warning', onWarning);
  try {
    await run();
    await new Promise((res) => setImmediate(res));
  } finally {
    process.off('warning', onWarning);
  }
  return warnings.filter((w) => WARNING.test(w));
}

describe('a generator make with bare yields', () => {
  it('processes 2: is made, and the calling thread says once that its inputs are not checked (not each worker)', async () => {
    const said = await warningsDuring(async () => expect(await fx.BareYields.populate({ processes: 2 })).toMatchObject({ success: KEYS, error: 0 }));
    expect(said).toHaveLength(1);
    expect((await fx.BareYields.toDicts({ orderBy: 'KEY' })).map((r) => r.scaled)).toEqual([2, 4, 6, 8]);
  });

  it('processes 1: is made; the warning was said once for the process already', async () => {
    await fx.BareYields.delete({ prompt: false });
    const said = await warningsDuring(async () => expect(await fx.BareYields.populate({ processes: 1 })).toMatchObject({ success: KEYS, error: 0 }));
    expect(said).toHaveLength(0);
    expect((await fx.BareYields.toDicts({ orderBy: 'KEY' })).map((r) => r.scaled)).toEqual([2, 4, 6, 8]);
  });
});
