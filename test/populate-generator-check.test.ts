/**
 * A generator make's change check compares what its first yield yields (as DataJoint Python's
 * does): one with a bare first `yield` has nothing to compare, so its inputs are not checked.
 * populate makes its keys and says so, once per table class and thread, as a DataJointWarning,
 * in-process and on worker threads alike.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { cleanup } from './helpers.js';

process.env.DJ_TEST_HAZARDS_DB = `djtest_generator_check_${process.pid}`;
const fx = await import('./fixtures/transfer-hazards.js');
const KEYS = 4;
const WARNING = /DataJointWarning: BareYields\.make's first yield yields nothing, so populate cannot check that the data it fetched did not change before the insert/;

beforeAll(() => fx.freshSources(KEYS));
afterAll(() => cleanup(fx.schema));

describe('a generator make with bare yields', () => {
  it('processes 1: is made, with one warning that its inputs are not checked', async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error) => void warnings.push(`${w.name}: ${w.message}`);
    process.on('warning', onWarning);
    try {
      expect(await fx.BareYields.populate({ processes: 1 })).toMatchObject({ success: KEYS, error: 0 });
      await new Promise((res) => setImmediate(res));
    } finally {
      process.off('warning', onWarning);
    }
    expect(warnings.filter((w) => WARNING.test(w))).toHaveLength(1);
    expect((await fx.BareYields.toDicts({ orderBy: 'KEY' })).map((r) => r.scaled)).toEqual([2, 4, 6, 8]);
  });

  it('processes 2: is made, and the worker threads say so too (on stderr)', async () => {
    await fx.BareYields.delete({ prompt: false });
    const written: string[] = [];
    const write = process.stderr.write.bind(process.stderr);
    const spy = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array, ...rest: unknown[]) => {
      written.push(String(chunk));
      return write(chunk, ...(rest as []));
    });
    try {
      expect(await fx.BareYields.populate({ processes: 2 })).toMatchObject({ success: KEYS, error: 0 });
      // A worker's stderr reaches this thread asynchronously.
      for (let i = 0; i < 40 && !WARNING.test(written.join('')); i++) await new Promise((res) => setTimeout(res, 50));
    } finally {
      spy.mockRestore();
    }
    const said = written.join('').split('\n').filter((line) => WARNING.test(line));
    expect(said.length).toBeGreaterThanOrEqual(1);
    expect(said.length).toBeLessThanOrEqual(2); // once per thread
    expect(await fx.BareYields.count()).toBe(KEYS);
  });
});
