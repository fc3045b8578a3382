/**
 * Fault injection on populate's worker threads (issue 9, items 2, 8 and 11): a worker that dies
 * (process.exit, an uncaught exception in a timer, out of memory) fails only the key it was
 * making, with its error class (WorkerCrashedError for the thread's own end), and no job stays
 * reserved; a process started with flags a worker thread refuses still starts its threads;
 * errors thrown by makes on workers keep their classes; a module that calls
 * populate({ processes: 2 }) at its top level does not make every worker populate again; a
 * three-part make with processes: 2 on a small pool never hangs.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dj, cleanup } from '../helpers.js';
import { startChild } from '../support/children.js';
import { closePools } from '../../src/populate/pool.js';

const db = `djtest_fwork_${process.pid}`;
process.env.DJ_TEST_FAULTS_DB = db;
const logDir = mkdtempSync(join(tmpdir(), 'djfaults-work-'));
// Read by test/fixtures/dying-threads.ts, also on worker threads: set before any thread starts
// (a thread gets a copy of the environment as it was then).
process.env.DJ_TEST_DYING_DB = `djtest_fdying_${process.pid}`;
process.env.DJ_TEST_DYING_MARKER = join(logDir, 'dying-marker');
const { schema, Source, Plain, Three } = await import('../fixtures/faults-pipeline.js');

beforeAll(async () => {
  await schema.drop({ prompt: false });
  await schema.declare();
});
afterAll(async () => {
  rmSync(logDir, { recursive: true, force: true });
  await cleanup(schema);
});

async function reset(n: number, settings: (i: number) => Record<string, unknown> = () => ({})): Promise<void> {
  for (const t of [Plain, Three]) {
    await t.Part.deleteQuick();
    await t.deleteQuick();
    await t.jobs.drop();
  }
  await Source.deleteQuick();
  await Source.insert(Array.from({ length: n }, (_, i) => ({ source_id: i, ...settings(i) })));
}

describe('a worker thread that dies', () => {
  it('fails only the key it was making (its error class kept); the rest of its chunk is made; no job stays reserved', async () => {
    const settings: Record<number, Record<string, unknown>> = { 3: { crash: 'exit' }, 6: { crash: 'timer' }, 7: { crash: 'etimer' }, 8: { fail: 'RangeError' }, 9: { fail: 'IntegrityError' } };
    await reset(16, (i) => settings[i] ?? {});
    const r = await Plain.populate({ processes: 2, reserveJobs: true, suppressErrors: true });
    const byKey = new Map(r.errors.map((e) => [e.key.source_id as number, e.error]));
    expect([...byKey.keys()].sort((a, b) => a - b)).toEqual([3, 6, 7, 8, 9]);
    expect(r.success).toBe(11);
    expect(byKey.get(3)!.message).toMatch(/a populate worker thread died while making this key: .*exited with code: 3/);
    expect(byKey.get(3)).toBeInstanceOf(dj.WorkerCrashedError);
    expect(byKey.get(3)).toBeInstanceOf(dj.DataJointError);
    expect(byKey.get(6)).toBeInstanceOf(TypeError);
    expect(byKey.get(6)!.message).toMatch(/died while making this key: boom in a timer/);
    // A plain Error is the make's own too, not the thread's end.
    expect(byKey.get(7)!.constructor).toBe(Error);
    expect(byKey.get(7)!.message).toMatch(/died while making this key: plain boom in a timer/);
    expect(byKey.get(8)).toBeInstanceOf(RangeError);
    expect(byKey.get(9)).toBeInstanceOf(dj.errors.IntegrityError);
    expect(byKey.get(9)!.stack).toMatch(/faults-pipeline\.ts/);
    expect(await Plain.count()).toBe(11);
    expect(await Plain.Part.count()).toBe(33);
    const p = await Plain.jobs.progress();
    expect(p).toMatchObject({ pending: 0, reserved: 0, error: 5 });
    expect((await Plain.jobs.errors.keys({ orderBy: 'source_id' })).map((k) => k.source_id)).toEqual([3, 6, 7, 8, 9]);
    expect(await Plain.jobs.errors.restrict({ source_id: 6 }).fetch1('error_message')).toMatch(/^TypeError: a populate worker thread died/);
    expect(await Plain.jobs.errors.restrict({ source_id: 7 }).fetch1('error_message')).toMatch(/^Error: a populate worker thread died/);
  });

  it('a make it failed earlier in the same chunk is still reported, with its class, and not made again', async () => {
    // The first four chunks hold one key each (nothing measured yet); the fifth, from key 4,
    // several. In it key 5 fails, key 6 (150 ms) ends its group, which commits 5's job error,
    // and key 7 kills the thread in the next group, taking the chunk's result with it.
    const settings: Record<number, Record<string, unknown>> = { 5: { fail: 'RangeError' }, 6: { delay_ms: 150 }, 7: { crash: 'exit' } };
    await reset(30, (i) => settings[i] ?? {});
    const r = await Plain.populate({ processes: 2, reserveJobs: true, suppressErrors: true });
    const byKey = new Map(r.errors.map((e) => [e.key.source_id as number, e.error]));
    expect([...byKey.keys()].sort((a, b) => a - b)).toEqual([5, 7]);
    expect(byKey.get(5)).toBeInstanceOf(RangeError);
    expect(byKey.get(5)!.message).toBe('out of range on purpose');
    expect(r.success).toBe(28);
    expect(await Plain.jobs.progress()).toMatchObject({ pending: 0, reserved: 0, error: 2 });
  });

  it("counts as made only the keys it made: later keys of its chunk that another populate made meanwhile are not", async () => {
    // Key 7 stalls its thread for 2 s, then kills it; meanwhile a second populate (reserving
    // too) makes the keys of that chunk the thread had not reserved yet.
    await reset(40, (i) => (i === 7 ? { crash: 'lateexit', delay_ms: 2000 } : i > 7 ? { delay_ms: 20 } : {}));
    const first = Plain.populate({ processes: 2, reserveJobs: true, suppressErrors: true });
    // Once a thread holds key 7 (it is then stalled there).
    while ((await Plain.jobs.reserved.restrict({ source_id: 7 }).count()) === 0) await new Promise((r) => setTimeout(r, 20));
    const second = await Plain.populate({ reserveJobs: true, suppressErrors: true });
    const r = await first;
    expect(r.errors.map((e) => e.key), JSON.stringify({ r: { ...r, errors: r.errors.map((e) => [e.key, e.error.message]) }, second: { ...second, errors: second.errors.map((e) => [e.key, e.error.message]) } })).toEqual([{ source_id: 7 }]);
    expect(second.success).toBeGreaterThan(0);
    // Each key made is counted by the call that made it, once.
    expect(r.success + second.success).toBe(await Plain.count());
    expect(await Plain.count()).toBe(39);
  });

  it('in direct mode too (no jobs table): the others are made, the culprit reported', async () => {
    await reset(10, (i) => (i === 4 ? { crash: 'timer' } : {}));
    const r = await Plain.populate({ processes: 2, suppressErrors: true });
    expect(r.success).toBe(9);
    expect(r.errors.map((e) => e.key)).toEqual([{ source_id: 4 }]);
    expect(await Plain.count()).toBe(9);
  });
});

describe('a process started with V8 and per-process Node flags', () => {
  it('starts its worker threads (a Worker refuses those flags: they are left out, and still hold), and a make that fills the heap fails alone', async () => {
    // --max-old-space-size is V8's, so the threads' heaps are held to it too: key 2 fills its
    // thread's heap and kills that thread only.
    await reset(12, (i) => (i === 2 ? { crash: 'oom' } : {}));
    const child = startChild('test/fixtures/faults-child.ts', [db, 'plain', '2', '1'], { execArgv: ['--max-old-space-size=256', '--expose-gc', '--stack-size=1500', '--title=dj-pipeline'], deadlineMs: 120_000 });
    const out = await child.done;
    expect(out.hung, out.stderr).toBe(false);
    expect(out.code, out.stderr).toBe(0);
    expect(out.result).toMatchObject({ success: 11, error: 1 });
    expect((out.result!.errors as string[])[0]).toMatch(/^WorkerCrashedError: a populate worker thread died while making this key: .*memory/);
    expect(await Plain.count()).toBe(11);
    expect(await Plain.Part.count()).toBe(33);
    expect(await Plain.jobs.progress()).toMatchObject({ pending: 0, reserved: 0, error: 1 });
    expect(await Plain.jobs.errors.fetch1('error_message')).toMatch(/^WorkerCrashedError: /);
  });
});

describe('worker threads that die again as they start', () => {
  it('fail the keys they never reached after a few deaths instead of dealing them forever', async () => {
    const dying = await import('../fixtures/dying-threads.js');
    try {
      await dying.schema.drop({ prompt: false });
      await dying.Seed.insert(Array.from({ length: 6 }, (_, i) => ({ seed_id: i })));
      const r = await dying.Doomed.populate({ processes: 2, reserveJobs: true, suppressErrors: true });
      expect(r).toMatchObject({ success: 0, error: 6 });
      for (const e of r.errors) expect(e.error).toBeInstanceOf(dj.WorkerCrashedError);
      const messages = r.errors.map((e) => e.error.message);
      expect(messages.some((m) => /died while making this key: .*code:? 4/.test(m))).toBe(true);
      expect(messages.some((m) => /died 3 times before making this key: .*code:? 5/.test(m))).toBe(true);
      expect(await dying.Doomed.count()).toBe(0);
      expect(await dying.Doomed.jobs.progress()).toMatchObject({ pending: 0, reserved: 0, error: 6 });
    } finally {
      await dying.schema.drop({ prompt: false });
      await closePools(); // its threads would import the module again, and end
    }
  }, 120_000);
});

describe('populate({ processes: 2 }) at the top level of the table module', () => {
  it('runs once: on the worker threads it returns at once', async () => {
    const database = `djtest_ftop_${process.pid}`;
    const child = startChild('test/fixtures/toplevel-populate.ts', [], { env: { DJ_TEST_TOPLEVEL_DB: database }, deadlineMs: 90_000 });
    const out = await child.done;
    const drop = dj.schema(database);
    try {
      expect(out.hung, out.stderr).toBe(false);
      expect(out.code, out.stderr).toBe(0);
      const lines = out.stdout.split('\n').filter((l) => l.startsWith('RESULT'));
      const main = lines.filter((l) => l.includes('thread=0 '));
      const workers = lines.filter((l) => !l.includes('thread=0 '));
      expect(main).toHaveLength(1);
      expect(main[0]).toContain('{"success":40,"error":0,"skip":0}');
      expect(workers.length).toBeGreaterThan(0);
      for (const w of workers) {
        expect(w).toContain('{"success":0,"error":0,"skip":0}');
        expect(Number(/ms=(\d+)/.exec(w)![1])).toBeLessThan(1_000);
      }
    } finally {
      await drop.drop({ prompt: false });
    }
  });
});

describe('a three-part make with processes: 2 on a small pool', () => {
  it('never hangs, in fresh processes, three times', async () => {
    for (let run = 0; run < 3; run++) {
      await reset(16);
      const child = startChild('test/fixtures/faults-child.ts', [db, 'three', '2', run % 2 ? '1' : '0', '2'], { env: { DJ_TEST_FAULTS_LOG: logDir }, deadlineMs: 60_000 });
      const out = await child.done;
      expect(out.hung, `run ${run} hung: ${out.stderr}`).toBe(false);
      expect(out.code, out.stderr).toBe(0);
      expect(out.result).toMatchObject({ success: 16, error: 0 });
      expect(await Three.count()).toBe(16);
      expect(await Three.Part.count()).toBe(48);
    }
  });
});
