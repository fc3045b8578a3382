/**
 * Drain mode (src/populate/signals.ts) in-process, with signals delivered by process.emit (the
 * handlers run, no real signal is sent): populate's Interrupts join the drain instead of
 * handling signals themselves, the first signal stops dealing keys without aborting anything,
 * the grace period escalates to an abort, exit() throws to the worker instead of exiting, and
 * stop() gives the signals back. Also the command line's pure parts (src/cli/populate.ts).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { config } from '../../src/config.js';
import { Drain, Interrupts, PopulateInterrupted, type InterruptHooks, raiseStopFlag, sharedStopFlag, stopFlagInterrupts } from '../../src/populate/signals.js';
import { formatReport, moduleUrl, workerOptions } from '../../src/cli/populate.js';

const listeners = () => process.listenerCount('SIGTERM') + process.listenerCount('SIGINT');
const hooks = () => {
  const aborted: string[] = [];
  return { aborted, abort: (s: NodeJS.Signals) => void aborted.push(s), beforeForcedExit: async () => [] };
};
const grace = config.get('populate.grace_period');
let cleanups: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanups.reverse()) c();
  cleanups = [];
  config.set('populate.grace_period', grace as number);
});
function startDrain(): Drain {
  const d = Drain.start();
  cleanups.push(() => d.stop());
  return d;
}
function interrupts(h: InterruptHooks = hooks()): Interrupts {
  const i = new Interrupts(h);
  cleanups.push(() => i.dispose());
  return i;
}

describe('drain mode', () => {
  it('owns the signals: populate calls join it instead of listening themselves', () => {
    const before = listeners();
    const d = startDrain();
    expect(Drain.active).toBe(d);
    expect(listeners()).toBe(before + 2);
    interrupts();
    expect(listeners()).toBe(before + 2);
    expect(() => Drain.start()).toThrow(/already on/);
    d.stop();
    expect(Drain.active).toBe(null);
    expect(listeners()).toBe(before);
  });

  it('a first signal stops dealing keys, aborts nothing and wakes a sleeping worker', async () => {
    const d = startDrain();
    const h = hooks();
    const i = interrupts(h);
    expect(i.stopping).toBe(false);
    const t0 = performance.now();
    const nap = d.sleep(10_000);
    process.emit('SIGTERM', 'SIGTERM');
    await nap;
    expect(performance.now() - t0).toBeLessThan(1_000);
    expect(d.signal).toBe('SIGTERM');
    expect(i.draining).toBe('SIGTERM');
    expect(i.stopping).toBe(true);
    expect(i.signal).toBe(null); // not interrupted: the make in flight goes on
    expect(() => i.check()).not.toThrow();
    expect(h.aborted).toEqual([]);
    // A populate call that starts after the signal deals nothing either; sleeping returns at once.
    expect(interrupts().stopping).toBe(true);
    await d.sleep(10_000);
  });

  it('past the grace period aborts what is in flight, and exit() throws to the worker instead of exiting', async () => {
    config.set('populate.grace_period', 0.05);
    startDrain();
    const h = hooks();
    const i = interrupts(h);
    process.emit('SIGINT', 'SIGINT');
    expect(h.aborted).toEqual([]);
    await new Promise((r) => setTimeout(r, 150));
    expect(h.aborted).toEqual(['SIGINT']);
    expect(i.signal).toBe('SIGINT');
    expect(() => i.check()).toThrow(PopulateInterrupted);
    await expect(i.exit(['1 make(s) committed in this run.'])).rejects.toThrow(/populate interrupted by SIGINT/);
  });

  it('tells worker threads once (the drain hook raises a stop flag they read), also for a populate call that starts after the signal', () => {
    startDrain();
    const flag = sharedStopFlag();
    const drained: string[] = [];
    interrupts({ ...hooks(), drain: (s: NodeJS.Signals) => (raiseStopFlag(flag), void drained.push(s)) });
    const onThread = stopFlagInterrupts(flag);
    expect(onThread.stopping).toBe(false);
    process.emit('SIGTERM', 'SIGTERM');
    expect(drained).toEqual(['SIGTERM']);
    expect(onThread.stopping).toBe(true);
    expect(onThread.signal).toBe(null); // a thread only stops taking keys; the main thread aborts
    const late: string[] = [];
    interrupts({ ...hooks(), drain: (s: NodeJS.Signals) => void late.push(s) });
    expect(late).toEqual(['SIGTERM']);
    expect(drained).toEqual(['SIGTERM']);
  });

  it('leaves populate alone when off: its own handlers, removed on dispose', () => {
    const before = listeners();
    const i = new Interrupts(hooks());
    expect(listeners()).toBe(before + 2);
    i.dispose();
    expect(listeners()).toBe(before);
  });
});

describe('dj populate arguments', () => {
  it('takes paths relative to the working directory, else package specifiers', () => {
    const dir = mkdtempSync(join(tmpdir(), 'dj-cli-unit-'));
    try {
      writeFileSync(join(dir, 'pipeline.ts'), '');
      writeFileSync(join(dir, 'pipeline'), '');
      const url = (p: string) => pathToFileURL(join(dir, p)).href;
      expect(moduleUrl('pipeline.ts', dir)).toBe(url('pipeline.ts'));
      expect(moduleUrl('./pipeline.ts', dir)).toBe(url('pipeline.ts'));
      expect(moduleUrl('pipeline', dir)).toBe(url('pipeline'));
      expect(moduleUrl('@lab/pipeline', dir)).toBe('@lab/pipeline');
      expect(moduleUrl('lab-pipeline/tables', dir)).toBe('lab-pipeline/tables');
      expect(moduleUrl('file:///x/y.js', dir)).toBe('file:///x/y.js');
      expect(() => moduleUrl('./missing.js', dir)).toThrow(/Module \.\/missing\.js not found \(no file .*missing\.js\)/);
      expect(() => moduleUrl('missing.ts', dir)).toThrow(/not found/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('checks the numbers', () => {
    expect(workerOptions({ processes: '4', maxCalls: '0', loop: true, idle: '0.5', reserveJobs: true })).toEqual({ processes: 4, maxCalls: 0, loop: true, idleSeconds: 0.5, reserveJobs: true });
    expect(workerOptions({})).toEqual({ processes: undefined, maxCalls: undefined, loop: false, idleSeconds: undefined, reserveJobs: false });
    expect(() => workerOptions({ processes: '0' })).toThrow('--processes must be a positive integer, got "0"');
    expect(() => workerOptions({ processes: '1.5' })).toThrow(/--processes/);
    expect(() => workerOptions({ maxCalls: '-1' })).toThrow('--max-calls must be a non-negative integer, got "-1"');
    expect(() => workerOptions({ loop: true, idle: 'soon' })).toThrow(/--idle must be a number of seconds/);
    expect(() => workerOptions({ idle: '3' })).toThrow('--idle only applies with --loop');
  });

  it('reports a table in one line', () => {
    const result = { success: 6, error: 1, skip: 2, errors: [] };
    expect(formatReport({ label: 'Analysis', result, seconds: 2, remaining: 3, total: 12 })).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ Analysis: 6 made, 1 failed, 2 skipped in 2\.0 s \(3\.0 keys\/s\); 3 of 12 keys left$/);
    expect(formatReport({ label: 'A', result, seconds: 0, remaining: NaN, total: NaN })).toMatch(/A: 6 made, 1 failed, 2 skipped in 0\.0 s$/);
  });
});
