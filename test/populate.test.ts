import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dj, cleanup } from './helpers.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const db = `djtest_populate_${process.pid}`;
process.env.DJ_TEST_PIPELINE_DB = db;
const { schema, Source, Param, Result, Spectrum, Doubled } = await import('./fixtures/pipeline.js');

const N = 12;
async function reset() {
  for (const t of [Result.Detail, Result, Spectrum, Doubled]) await t.deleteQuick();
  await Result.jobs.drop();
  await Source.deleteQuick();
  await Source.insert(Array.from({ length: N }, (_, i) => ({ source_id: i, value: i + 0.5 })));
}

/** Run the child populate script; resolves with its parsed result line and exit code. */
function child(processes: number, reserve: boolean, onReady?: (p: ReturnType<typeof spawn>) => void) {
  return new Promise<{ code: number | null; signal: NodeJS.Signals | null; result: Record<string, number> | null; stderr: string }>((resolve) => {
    const p = spawn(process.execPath, ['--import', 'tsx', 'test/fixtures/populate-child.ts', db, String(processes), reserve ? '1' : '0'], { cwd: root });
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => {
      out += d;
      if (onReady && out.includes('READY')) {
        const f = onReady;
        onReady = undefined;
        f(p);
      }
    });
    p.stderr.on('data', (d) => (err += d));
    p.on('close', (code, signal) => {
      const line = out.split('\n').find((l) => l.startsWith('{'));
      resolve({ code, signal, result: line ? JSON.parse(line) : null, stderr: err });
    });
  });
}

beforeAll(async () => {
  await schema.drop({ prompt: false });
  await schema.declare();
});
beforeEach(reset);
afterAll(() => cleanup(schema));

describe('populate', () => {
  it('computes every missing key once, with parts, and reports progress', async () => {
    expect(await Result.progress()).toEqual({ remaining: 2 * N, total: 2 * N });
    const r = await Result.populate();
    expect(r).toEqual({ success: 2 * N, error: 0, skip: 0, errors: [] });
    expect(await Result.count()).toBe(2 * N);
    expect(await Result.Detail.count()).toBe(6 * N);
    expect(await Result.restrict({ source_id: 3, param_id: 2 }).fetch1('product')).toBe(3.5 * 3);
    expect(await Result.progress()).toEqual({ remaining: 0, total: 2 * N });
    expect(await Result.populate()).toMatchObject({ success: 0, error: 0 });
  });

  it('honours restrict, maxCalls (attempts only) and makeKwargs', async () => {
    // A restricted table refuses, as in DataJoint Python: the restriction would be ignored.
    await expect(Result.restrict({ param_id: 1 }).populate()).rejects.toThrow(/Cannot call populate on a restricted table: pass the condition as Result\.populate\(\{ restrict: condition \}\)/);
    expect(await Result.count()).toBe(0);
    expect(await Result.populate({ restrict: { param_id: 1 } })).toMatchObject({ success: N });
    expect(await Result.restrict({ param_id: 2 }).count()).toBe(0);
    expect(await Result.populate({ restrict: 'source_id < 3', maxCalls: 2, makeKwargs: { offset: 100 } })).toMatchObject({ success: 2 });
    expect(await Result.count()).toBe(N + 2);
    const products = (await Result.restrict({ param_id: 2 }).toArrays('product')) as Float64Array;
    expect([...products].every((p) => p >= 100)).toBe(true);
    // restrict by a parent's secondary attribute through the key source
    expect(await Result.populate({ restrict: 'factor = 3', maxCalls: 1 })).toMatchObject({ success: 1 });
    // A failing key does not count against maxCalls' budget for others: errors count as attempts.
    await Source.update1({ source_id: 5, fail: true });
    const r = await Result.populate({ restrict: { source_id: 5 }, maxCalls: 10, suppressErrors: true });
    expect(r).toMatchObject({ success: 0, error: 1 });
  });

  it('refuses a processes or maxCalls that is not a count, before making anything', async () => {
    await Result.deleteQuick();
    for (const processes of [0, -2, 1.5, Number.NaN, Number.POSITIVE_INFINITY, '2' as unknown as number]) {
      const err = await Result.populate({ processes }).catch((e: unknown) => e);
      expect(err, String(processes)).toBeInstanceOf(dj.DataJointError);
      expect((err as Error).message).toMatch(/^processes must be a positive integer \(the number of worker threads\), got /);
    }
    await expect(Result.populate({ processes: '2' as unknown as number })).rejects.toThrow(/got '2'$/);
    for (const maxCalls of [-1, 2.5]) await expect(Result.populate({ maxCalls })).rejects.toThrow(new RegExp(`^maxCalls must be a non-negative integer, got ${maxCalls}$`));
    expect(await Result.count()).toBe(0);
  });

  it('refuses an unknown option (a Python spelling names the camelCase one) before making anything', async () => {
    await Result.deleteQuick();
    const bad = (o: unknown) => Result.populate(o as dj.PopulateOptions).then(
      (r) => new Error(`accepted: ${JSON.stringify(r)}`),
      (e: unknown) => e as Error,
    );
    const snake = await bad({ reserve_jobs: true });
    expect(snake).toBeInstanceOf(dj.DataJointError);
    expect(snake.message).toMatch(/^Result\.populate: unknown option reserve_jobs: did you mean reserveJobs\? \(the options are restrict, suppressErrors, reserveJobs, maxCalls, /);
    expect((await bad({ max_calls: 1, bogus: 1 })).message).toMatch(/unknown options max_calls: did you mean maxCalls\?; bogus \(/);
    expect((await bad({ bogus: 1 })).message).toMatch(/unknown option bogus \(the options are /);
    // Python's populate(Session & cond), ported as populate(restriction):
    expect((await bad(Source.restrict({ source_id: 1 }))).message).toMatch(/^Result\.populate takes an options object \(pass a restriction as \{ restrict: \.\.\. \}\)/);
    expect((await bad(Source)).message).toMatch(/takes an options object/);
    expect(await Result.count()).toBe(0);
    expect(await Result.populate({ restrict: { source_id: 1 }, suppressErrors: undefined })).toMatchObject({ success: 2 });
  });

  it('stops on the first error, or collects errors with suppressErrors; failed makes leave nothing', async () => {
    await Source.update1({ source_id: 2, fail: true });
    await expect(Result.populate({ restrict: { source_id: 2 } })).rejects.toThrow(/failing on purpose for source 2/);
    const r = await Result.populate({ suppressErrors: true });
    expect(r.success).toBe(2 * (N - 1));
    expect(r.error).toBe(2);
    expect(r.errors.map((e) => e.key)).toEqual([{ source_id: 2, param_id: 1 }, { source_id: 2, param_id: 2 }]);
    expect(r.errors[0]!.error).toBeInstanceOf(Error);
    expect(r.errors[0]!.error.stack).toContain('make');
    expect(await Result.restrict({ source_id: 2 }).count()).toBe(0);
    expect(await Result.Detail.restrict({ source_id: 2 }).count()).toBe(0);
  });

  it('runs the three-part and generator forms', async () => {
    expect(await Spectrum.populate()).toMatchObject({ success: N });
    const total = (await Spectrum.restrict({ source_id: 1 }).fetch1('total')) as number;
    let expected = 0;
    for (let i = 0; i < 1000; i++) expected += Math.sin(i * 1.5) ** 2;
    expect(total).toBeCloseTo(expected, 9);
    expect(await Doubled.populate()).toMatchObject({ success: N });
    expect(await Doubled.restrict({ source_id: 4 }).fetch1('doubled')).toBe(9);
  });

  it('refuses to insert when the fetched data changed during compute', async () => {
    class Fragile extends dj.Computed {
      static definition = `-> Source\n---\nv : float64`;
      async makeFetch(key: Record<string, unknown>) {
        return Source.restrict(key).fetch1('value');
      }
      async makeCompute(key: Record<string, unknown>, v: unknown) {
        // Someone changes the input while we compute (through another connection).
        const other = new dj.Connection();
        await other.execute(`UPDATE ${Source.fullTableName} SET value = value + 1 WHERE source_id = ${other.dialect.param(1)}`, [key.source_id as number]);
        await other.close();
        return (v as number) * 2;
      }
      async makeInsert(key: Record<string, unknown>, v: unknown) {
        await this.insert1({ ...key, v: v as number });
      }
    }
    schema.add(Fragile);
    const r = await Fragile.populate({ restrict: { source_id: 0 }, suppressErrors: true });
    expect(r.error).toBe(1);
    expect(r.errors[0]!.error).toBeInstanceOf(dj.FetchedDataChanged);
    expect(r.errors[0]!.error.message).toMatch(/fetched data has changed/);
    expect(await Fragile.count()).toBe(0);
    await Fragile.drop({ prompt: false });
  });

  it('commits plain makes in groups; a deadlock in a group redoes its keys one by one', async () => {
    let thrown = 0;
    const calls = new Map<number, number>();
    class Grouped extends dj.Computed {
      static definition = `-> Source\n---\nv : float64`;
      async make(key: Record<string, unknown>) {
        const id = key.source_id as number;
        calls.set(id, (calls.get(id) ?? 0) + 1);
        await this.insert1({ ...key, v: id });
        // The server's deadlock error, once, in the middle of the first group.
        if (id === 5 && thrown++ === 0) throw new dj.errors.DeadlockError('Deadlock found when trying to get lock');
      }
    }
    schema.add(Grouped);
    try {
      const r = await Grouped.populate();
      expect(r).toEqual({ success: N, error: 0, skip: 0, errors: [] });
      expect(await Grouped.count()).toBe(N);
      expect(await Grouped.restrict({ source_id: 5 }).fetch1('v')).toBe(5);
      // Keys of the rolled-back group ran again (groups grow 1, 2, 4…: key 5 shares one); the others once.
      expect(calls.get(5)).toBe(2);
      const twice = [...calls.entries()].filter(([, n]) => n === 2).map(([k]) => k);
      expect(twice.length).toBeGreaterThan(1);
      expect([...calls.values()].every((n) => n >= 1)).toBe(true);
      expect(calls.size).toBe(N);
    } finally {
      await Grouped.drop({ prompt: false });
    }
  });

  it('slow makes commit alone; a failure undoes only its key; a key made elsewhere after the look-ahead check is a skip', async () => {
    const calls = new Map<number, number>();
    class Slow extends dj.Computed {
      static definition = `-> Source\n---\nv : float64\nby : varchar(8)`;
      async make(key: Record<string, unknown>) {
        const id = key.source_id as number;
        calls.set(id, (calls.get(id) ?? 0) + 1);
        // Slow enough for groups of one (each key its own transaction, no savepoint).
        await new Promise((r) => setTimeout(r, 60));
        await this.insert1({ ...key, v: id, by: 'make' });
        if (id === 3) throw new Error('key 3 fails after inserting');
        // Another populate makes key 5 meanwhile: well before then this loop has checked key 5
        // (it checks the next keys while a make runs), so it runs 5's make and meets a duplicate.
        if (id === 4) {
          await new Promise((r) => setTimeout(r, 300));
          await this.connection.outsideTransaction(() => Slow.insert1({ source_id: 5, v: 5, by: 'other' }, { allowDirectInsert: true }));
        }
      }
    }
    schema.add(Slow);
    try {
      const r = await Slow.populate({ restrict: 'source_id < 8', suppressErrors: true });
      expect(r).toMatchObject({ success: 6, error: 1, skip: 1 });
      expect(r.errors.map((e) => e.key)).toEqual([{ source_id: 3 }]);
      expect(r.errors[0]!.error.message).toBe('key 3 fails after inserting');
      expect(((await Slow.toArrays('source_id')) as Int32Array | number[]).length).toBe(7);
      expect(await Slow.restrict({ source_id: 3 }).count()).toBe(0);
      expect(await Slow.restrict({ source_id: 5 }).fetch1('by')).toBe('other');
      expect(calls.get(5)).toBe(1);
      expect([...calls.values()].every((n) => n === 1)).toBe(true);
      expect(calls.size).toBe(8);
    } finally {
      await Slow.drop({ prompt: false });
    }
  });

  it('records hidden job metadata when jobs.add_job_metadata is on', async () => {
    class Timed extends dj.Computed {
      static definition = `-> Source\n---\nv : float64`;
      async make(key: Record<string, unknown>) {
        await new Promise((r) => setTimeout(r, 20));
        await this.insert1({ ...key, v: 1 });
      }
    }
    schema.add(Timed);
    try {
      await dj.config.override({ 'jobs.add_job_metadata': true, 'jobs.version': 'v1.2' }, async () => {
        await Timed.populate({ restrict: 'source_id < 3' });
      });
      expect(await Timed.toDicts({ orderBy: 'KEY' })).toEqual([0, 1, 2].map((i) => ({ source_id: i, v: 1 })));
      // Hidden attributes are fetched when named (spec: to_arrays('result', '_job_duration')).
      const [start, duration, version] = (await Timed.toArrays('_job_start_time', '_job_duration', '_job_version')) as [Date[], Float64Array, string[]];
      expect(version).toEqual(['v1.2', 'v1.2', 'v1.2']);
      for (const d of duration) expect(d).toBeGreaterThanOrEqual(0.015);
      for (const t of start) expect(Math.abs(t.getTime() - Date.now())).toBeLessThan(120_000);
      expect(await Timed.restrict('_job_duration >= 0.015').count()).toBe(3);
      // Named, a hidden attribute is projected (and then visible); unnamed it stays out.
      expect(Object.keys((await Timed.proj('_job_version').toDicts())[0]!)).toEqual(['source_id', '_job_version']);
      expect(Object.keys(await Timed.restrict({ source_id: 0 }).fetch1())).toEqual(['source_id', 'v']);
      expect(await Timed.restrict({ source_id: 0 }).fetch1('_job_version')).toBe('v1.2');
      // jobs.version = 'git' records the checkout's short hash.
      await Timed.delete({ prompt: false });
      await dj.config.override({ 'jobs.version': 'git' }, () => Timed.populate({ restrict: { source_id: 0 } }));
      const { execFileSync } = await import('node:child_process');
      const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
      expect(await Timed.restrict({ source_id: 0 }).fetch1('_job_version')).toBe(head);
    } finally {
      await Timed.drop({ prompt: false });
    }
  });

  it('produces the same rows with processes: 2 as with processes: 1', async () => {
    await Result.populate({ processes: 1 });
    const one = await Result.toDicts({ orderBy: 'KEY' });
    const detailsOne = await Result.Detail.toDicts({ orderBy: 'KEY' });
    await Result.delete({ prompt: false });
    const r = await Result.populate({ processes: 2 });
    expect(r).toMatchObject({ success: 2 * N, error: 0 });
    const two = await Result.toDicts({ orderBy: 'KEY' });
    const strip = (rows: Record<string, unknown>[]) => rows.map(({ worker: _w, ...rest }) => rest);
    expect(strip(two)).toEqual(strip(one));
    expect(await Result.Detail.toDicts({ orderBy: 'KEY' })).toEqual(detailsOne);
    // Makes really ran on worker threads.
    const workers = new Set(two.map((row) => row.worker));
    expect([...workers].every((w) => w !== 'thread-0')).toBe(true);
    // Errors in workers carry key and stack back.
    await Result.delete({ prompt: false });
    await Source.update1({ source_id: 7, fail: true });
    const r2 = await Result.populate({ processes: 2, suppressErrors: true });
    expect(r2.error).toBe(2);
    expect(r2.errors[0]!.key).toMatchObject({ source_id: 7 });
    expect(r2.errors[0]!.error.message).toMatch(/failing on purpose/);
    expect(r2.errors[0]!.error.stack).toMatch(/pipeline\.ts/);
    // The three-part compute runs on the pool too.
    expect(await Spectrum.populate({ processes: 2 })).toMatchObject({ success: N });
  });

  it('requires the table module for processes > 1', async () => {
    class Local extends dj.Computed {
      static definition = `-> Source\n---\nx : float64`;
      async make() {}
    }
    dj.schema(db, { context: { Source } }).add(Local); // a schema without `module`
    await expect(Local.populate({ processes: 2 })).rejects.toThrow(/runs Local\.make on worker threads.*module: import\.meta\.url/);
    await Local.drop({ prompt: false });
    // A three-part make's worker-thread step is makeCompute, and the message says so.
    class LocalThree extends dj.Computed {
      static definition = `-> Source\n---\nx : float64`;
      async makeFetch() {
        return 1;
      }
      makeCompute() {
        return 2;
      }
      async makeInsert() {}
    }
    dj.schema(db, { context: { Source } }).add(LocalThree);
    await expect(LocalThree.populate({ processes: 2 })).rejects.toThrow(/runs LocalThree\.makeCompute on worker threads/);
    await LocalThree.drop({ prompt: false });
  });
});

describe('jobs', () => {
  it('reserves, completes, records errors (truncated) and ignores', async () => {
    await Source.update1({ source_id: 1, fail: true });
    const jobs = Result.jobs;
    expect(jobs.tableName).toBe('~~result');
    expect(await jobs.refresh()).toMatchObject({ added: 2 * N });
    expect(await jobs.progress()).toMatchObject({ pending: 2 * N, total: 2 * N });
    await jobs.ignore({ source_id: 0, param_id: 1 });
    const r = await Result.populate({ reserveJobs: true, suppressErrors: true });
    expect(r).toMatchObject({ success: 2 * N - 3, error: 2 });
    const p = await jobs.progress();
    expect(p).toMatchObject({ pending: 0, reserved: 0, error: 2, ignore: 1, success: 0 });
    const err = (await jobs.errors.toDicts({ orderBy: 'KEY' }))[0]!;
    expect(err).toMatchObject({ source_id: 1, param_id: 1, status: 'error' });
    expect((err.error_message as string).length).toBe(2047);
    expect(err.error_message).toMatch(/^Error: failing on purpose/);
    expect(String(err.error_stack)).toMatch(/at .*make/);
    expect(err.host).not.toBe('');
    expect(err.pid).toBe(process.pid);
    expect(await Result.restrict({ source_id: 0, param_id: 1 }).count()).toBe(0);
    // keep_completed keeps success rows; errors can be cleared and retried.
    await Source.update1({ source_id: 1, fail: false });
    await jobs.errors.deleteQuick();
    await dj.config.override({ 'jobs.keep_completed': true }, async () => {
      expect(await Result.populate({ reserveJobs: true })).toMatchObject({ success: 2 });
    });
    expect(await jobs.completed.count()).toBe(2);
    expect(await jobs.completed.restrict('duration >= 0').count()).toBe(2);
  });

  it('schedules with delay and priority, removes stale jobs and recovers orphans', async () => {
    const jobs = Result.jobs;
    await jobs.refresh({ restrict: { param_id: 1 }, priority: 1 });
    await jobs.refresh({ restrict: { param_id: 2 }, delay: 3600 });
    expect(await Result.populate({ reserveJobs: true, refresh: false })).toMatchObject({ success: N });
    expect(await Result.restrict({ param_id: 2 }).count()).toBe(0); // scheduled for later
    expect(await jobs.pending.count()).toBe(N);
    // priority filter: only priority <= 0 runs (none).
    await jobs.pending.deleteQuick();
    await jobs.refresh({ priority: 3 });
    expect(await Result.populate({ reserveJobs: true, refresh: false, priority: 2 })).toMatchObject({ success: 0 });
    // Stale: upstream rows deleted → their pending jobs go away on refresh.
    await Source.restrict('source_id >= 6').delete({ prompt: false });
    const conn = dj.conn();
    await conn.execute(`UPDATE ${jobs.fullTableName} SET created_time = ${conn.dialect.addSeconds(conn.dialect.now(6), -7200)}`);
    const rr = await jobs.refresh({ staleTimeout: 3600 });
    expect(rr.removed).toBe(6);
    // Orphan: a reservation whose worker died long ago returns to pending.
    await conn.execute(`UPDATE ${jobs.fullTableName} SET status='reserved', reserved_time = ${conn.dialect.addSeconds(conn.dialect.now(6), -7200)}, pid=1 WHERE source_id = 0`);
    expect(await jobs.reserved.count()).toBe(1);
    expect((await jobs.refresh({ orphanTimeout: 3600 })).orphaned).toBe(1);
    expect(await Result.populate({ reserveJobs: true })).toMatchObject({ success: 6, error: 0 });
    expect(await jobs.progress()).toMatchObject({ pending: 0, reserved: 0 });
  });

  it('shares one jobs table between two concurrent populating processes: no key twice, none lost', async () => {
    await Source.restrict('source_id >= 0').delete({ prompt: false });
    await Source.insert(Array.from({ length: 40 }, (_, i) => ({ source_id: i, value: i, delay_ms: 20 })));
    const [a, b] = await Promise.all([child(1, true), child(1, true)]);
    expect(a.code).toBe(0);
    expect(b.code).toBe(0);
    expect([...(a.result!.messages as unknown as string[]), ...(b.result!.messages as unknown as string[])]).toEqual([]);
    expect(a.result!.error + b.result!.error).toBe(0);
    expect(a.result!.success + b.result!.success).toBe(80);
    expect(a.result!.success).toBeGreaterThan(0);
    expect(b.result!.success).toBeGreaterThan(0);
    expect(await Result.count()).toBe(80);
    expect(await Result.Detail.count()).toBe(240);
    expect(await Result.jobs.progress()).toMatchObject({ pending: 0, reserved: 0, error: 0 });
  });

  it('SIGTERM mid-populate rolls back the open make, marks its job error and exits cleanly', async () => {
    await Source.restrict('source_id >= 0').delete({ prompt: false });
    await Source.insert(Array.from({ length: 6 }, (_, i) => ({ source_id: i, value: i, delay_ms: 400 })));
    // SIGTERM once a make has committed (so one is surely in flight next), however slow the start.
    const done = child(1, true, (p) => {
      const poll = setInterval(() => {
        void Result.count().then((n) => {
          if (n > 0) {
            clearInterval(poll);
            setTimeout(() => p.kill('SIGTERM'), 100);
          }
        }, () => {});
      }, 50);
    });
    const r = await done;
    expect(r.code).toBe(143);
    expect(r.stderr).toMatch(/interrupted by SIGTERM/);
    // No partial rows: every master has all its parts.
    const masters = await Result.count();
    expect(masters).toBeGreaterThan(0);
    expect(masters).toBeLessThan(12);
    expect(await Result.Detail.count()).toBe(3 * masters);
    const p = await Result.jobs.progress();
    expect(p.reserved).toBe(0);
    expect(p.error).toBe(1);
    expect((await Result.jobs.errors.toDicts())[0]!.error_message).toMatch(/interrupted by SIGTERM/);
  });
});
