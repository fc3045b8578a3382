/**
 * Data a table module keeps and its makeFetch or makeCompute returns on every call, with
 * populate({ processes: 1 | 2 }) (API.md §6). Moving it to another thread detaches the module's
 * own copy, so with processes 2 the keys fail, but each with a DataJointError (DetachedData)
 * that names the step and says to return a new array or a copy, never V8's "Cannot perform
 * Construct on a detached ArrayBuffer" or "[object Object]". Small Buffers from Node's shared
 * pool are copied, never moved: their slab neighbours stay intact.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dj, cleanup } from './helpers.js';

process.env.DJ_TEST_HAZARDS_DB = `djtest_kept_data_${process.pid}`;
const fx = await import('./fixtures/transfer-hazards.js');
const KEYS = 4;

beforeAll(() => fx.freshSources(KEYS));
afterAll(() => cleanup(fx.schema));

// In this order: processes 1 first, since with 2 the module's array ends up detached.
describe.each([1, 2])('populate with processes %i', (processes) => {
  it('makeFetch returning an array the module keeps: made in-process; with threads, a clear DetachedData per key', async () => {
    await fx.FromModule.delete({ prompt: false });
    const r = await fx.FromModule.populate({ processes, suppressErrors: true });
    if (processes === 1) {
      expect(r).toMatchObject({ success: KEYS, error: 0 });
      expect(fx.calibration.byteLength).toBe(8000);
      const rows = await fx.FromModule.toDicts({ orderBy: 'KEY' });
      expect(rows.map((row) => [row.total, row.label])).toEqual(Array.from({ length: KEYS }, (_, i) => [499500 * (1 + i), 'calib']));
      return;
    }
    expect(r).toMatchObject({ success: 0, error: KEYS });
    for (const { error } of r.errors) {
      expect(error).toBeInstanceOf(dj.DetachedData);
      expect(error).toBeInstanceOf(dj.UnsendableValue);
      // Detached by an earlier key, or (keys fetched at once) still being moved by another key in flight.
      expect(error.message).toMatch(
        /^FromModule\.makeFetch returned data that an earlier call already moved away: it holds (a Float64Array that is detached \(length 0: its memory was moved to another thread\)|an array that the makeFetch of another key in flight returned too)\. .* Return a new array from each call, or a copy of the one kept \(kept\.slice\(\)/,
      );
    }
  });

  it('makeCompute returning an array the module keeps: each thread’s first key made, the others fail with a clear DetachedData', async () => {
    await fx.ComputeFromModule.delete({ prompt: false });
    const r = await fx.ComputeFromModule.populate({ processes, suppressErrors: true });
    expect(r.success + r.error).toBe(KEYS);
    if (processes === 1) expect(r.error).toBe(0);
    else expect(r.success).toBeGreaterThanOrEqual(1);
    for (const { error } of r.errors) {
      expect(error).toBeInstanceOf(dj.DetachedData);
      expect(error.message).toMatch(/^ComputeFromModule\.makeCompute returned data that an earlier call already moved away: it holds a Float64Array that is detached/);
    }
    expect((await fx.ComputeFromModule.toDicts()).map((row) => row.total)).toEqual(Array(r.success).fill(10));
  });
});

describe('kept data returned by fetches that finish together', () => {
  it('fails every key with DetachedData, not Piscina\'s "Unable to deserialize cloned data"', async () => {
    const r = await fx.InstantFromModule.populate({ processes: 2, suppressErrors: true });
    expect(r).toMatchObject({ success: 0, error: KEYS });
    for (const { error } of r.errors) {
      expect(error).toBeInstanceOf(dj.DetachedData);
      expect(error.message).toMatch(/^InstantFromModule\.makeFetch returned data that an earlier call already moved away/);
    }
  });
});

describe('small pooled Buffers', () => {
  it('are copied to the worker, never moved: the module’s Buffer and its slab neighbour stay intact', async () => {
    expect(fx.label.buffer).toBe(fx.neighbour.buffer); // both in Node's shared 8 KiB slab
    await fx.PooledLabel.delete({ prompt: false });
    const r = await fx.PooledLabel.populate({ processes: 2 });
    expect(r).toMatchObject({ success: KEYS, error: 0 });
    expect(fx.label.toString()).toBe('calib');
    expect(fx.neighbour.toString()).toBe('neighbour');
    expect(fx.label.buffer.byteLength).toBe(Buffer.poolSize);
    expect((await fx.PooledLabel.toDicts({ orderBy: 'KEY' })).map((row) => row.label)).toEqual(Array.from({ length: KEYS }, (_, i) => `calib-${i}`));
  });
});
