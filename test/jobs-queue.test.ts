/**
 * The jobs queue (issue 9, items 10 and 15): a jobs table declared by DataJoint Python (its
 * index, `priority` without a default) works for every operation; `orphanTimeout: 0` and
 * `staleTimeout: 0` take nothing away, as in DataJoint Python; a refresh that keeps
 * deadlocking does not escape suppressErrors; the jobs of a key loop cut short (a signal, a
 * stopped pool) are settled: the key it was on → error unless it committed, the rest → pending.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { dj, freshSchema, cleanup } from './helpers.js';
import { compileDefinition } from '../src/declare/compile.js';
import { jobsDefinition } from '../src/populate/jobs-table.js';
import { retryOnDeadlock } from '../src/connection/retry.js';
import { settleCutShort } from '../src/populate/cut-short.js';
import type { AutoPopulateLike } from '../src/populate/keys-to-make.js';

let schema: dj.SchemaDecorator;
class Subject extends dj.Manual {
  static definition = `
  subject_id : int32
  ---
  fail = 0 : bool
  `;
}
class Score extends dj.Computed {
  static definition = `
  -> Subject
  ---
  score : float64
  `;
  async make(key: Record<string, unknown>) {
    if ((await Subject.restrict(key).fetch1('fail')) as boolean) throw new RangeError(`bad subject ${key.subject_id}`);
    await this.insert1({ ...key, score: (key.subject_id as number) * 2 });
  }
}

beforeAll(async () => {
  schema = await freshSchema('jobsq');
  schema.add(Subject);
  schema.add(Score);
  await schema.declare();
});
beforeEach(async () => {
  await Score.deleteQuick();
  await Score.jobs.drop();
  await Subject.deleteQuick();
  await Subject.insert([1, 2, 3, 4].map((i) => ({ subject_id: i, fail: i === 3 })));
});
afterAll(() => cleanup(schema));

/** Declare `~~score` by hand as DataJoint Python 2.3 does: its index, `priority` with no default. */
async function declareAsPython(): Promise<void> {
  const conn = dj.conn();
  const python = jobsDefinition(Score.fullTableName, ['subject_id : int32']) + 'INDEX (status, priority, scheduled_time)\n';
  const compiled = await compileDefinition(python, {
    database: schema.database,
    tableName: '~~score',
    tier: 'manual',
    dialect: conn.dialect,
    resolve: () => Promise.reject(new Error('no references')),
  });
  await conn.executeAll(compiled.statements);
  const priority = (await conn.catalog.columns(schema.database, '~~score')).find((c) => c.name === 'priority')!;
  expect(priority.default).toBeNull(); // as Python declares it
  expect(priority.nullable).toBe(false);
  expect((await conn.catalog.indexes(schema.database, '~~score')).some((i) => !i.primary && i.columns.join() === 'status,priority,scheduled_time')).toBe(true);
}

describe('a jobs table declared by DataJoint Python', () => {
  it('takes ignore, refresh, reservation, completion and error bookkeeping', async () => {
    await declareAsPython();
    const jobs = Score.jobs;
    await jobs.ignore({ subject_id: 4 });
    await jobs.ignore({ subject_id: 9 }); // not in the key source: still recorded
    expect(await jobs.refresh()).toMatchObject({ added: 3 });
    const r = await Score.populate({ reserveJobs: true, suppressErrors: true });
    expect(r).toMatchObject({ success: 2, error: 1 });
    expect(r.errors[0]!.error).toBeInstanceOf(RangeError);
    expect(await jobs.progress()).toMatchObject({ pending: 0, reserved: 0, error: 1, ignore: 2 });
    const rows = await jobs.table().toDicts({ orderBy: 'subject_id' });
    expect(rows.map((row) => [row.subject_id, row.status, row.priority])).toEqual([
      [3, 'error', 5],
      [4, 'ignore', 5],
      [9, 'ignore', 5],
    ]);
    expect(rows[0]!.error_message).toBe('RangeError: bad subject 3');
    // Error bookkeeping for a key without a job row (direct mode writes the row whole).
    await jobs.errors.deleteQuick();
    await jobs.error({ subject_id: 3 }, new Error('by hand'), 0.5, 0);
    expect(await jobs.errors.fetch1('priority')).toBe(5);
    // keep_completed: success rows keep their priority too.
    await dj.config.override({ 'jobs.keep_completed': true }, async () => {
      await Subject.update1({ subject_id: 3, fail: false });
      await jobs.errors.deleteQuick();
      expect(await Score.populate({ reserveJobs: true })).toMatchObject({ success: 1 });
    });
    expect(await jobs.completed.fetch1('priority')).toBe(5);
  });
});

describe('refresh timeouts of 0 (as DataJoint Python means them)', () => {
  it('orphanTimeout: 0 takes no reservation from a live worker; staleTimeout: 0 removes nothing', async () => {
    const jobs = Score.jobs;
    await jobs.refresh();
    const conn = dj.conn();
    const id = await conn.sessionId();
    expect(await jobs.reserve({ subject_id: 1 }, id)).toBe(true);
    // Old reservations are recovered only by a positive timeout.
    await conn.execute(`UPDATE ${jobs.fullTableName} SET reserved_time = ${conn.dialect.addSeconds(conn.dialect.now(3), -10)} WHERE subject_id = 1`);
    expect(await jobs.refresh({ orphanTimeout: 0 })).toMatchObject({ orphaned: 0 });
    expect(await jobs.reserved.count()).toBe(1);
    expect(await jobs.refresh({ orphanTimeout: 5 })).toMatchObject({ orphaned: 1 });
    expect(await jobs.reserved.count()).toBe(0);
    // Stale: keys that left the key source stay queued with staleTimeout 0.
    await Subject.restrict({ subject_id: 2 }).delete({ prompt: false });
    await conn.execute(`UPDATE ${jobs.fullTableName} SET created_time = ${conn.dialect.addSeconds(conn.dialect.now(3), -10)}`);
    expect(await jobs.refresh({ staleTimeout: 0 })).toMatchObject({ removed: 0 });
    expect(await jobs.refresh({ staleTimeout: 5 })).toMatchObject({ removed: 1 });
  });
});

describe('connection_id of jobs written for a key loop that is gone', () => {
  it('an error keeps the id of the session that reserved the job; an inserted error or ignore gets the writing session\'s (never 0)', async () => {
    const jobs = Score.jobs;
    await jobs.refresh();
    const idOf = async (subject_id: number) => Number(await jobs.table().restrict({ subject_id }).fetch1('connection_id'));
    // Reserved by another session (a worker thread, a process's pooled session) and settled here.
    expect(await jobs.reserve({ subject_id: 1 }, 987_654)).toBe(true);
    await jobs.error({ subject_id: 1 }, new Error('interrupted'), 0);
    expect(await jobs.errors.restrict({ subject_id: 1 }).count()).toBe(1);
    expect(await idOf(1)).toBe(987_654);
    await jobs.error({ subject_id: 42 }, new Error('gave up'), 0);
    expect(await idOf(42)).toBeGreaterThan(0);
    await jobs.ignore({ subject_id: 43 });
    expect(await idOf(43)).toBeGreaterThan(0);
    // Given explicitly (the key loop's own session), it is written as given.
    await jobs.error({ subject_id: 44 }, new Error('failed'), 0, 123);
    expect(await idOf(44)).toBe(123);
  });
});

describe('refresh under deadlocks', () => {
  it('retries a statement the server rolled back as a deadlock victim', async () => {
    let calls = 0;
    const r = await retryOnDeadlock(async () => {
      if (++calls < 3) throw new dj.errors.DeadlockError('Deadlock found when trying to get lock');
      return 'ok';
    });
    expect([r, calls]).toEqual(['ok', 3]);
    await expect(retryOnDeadlock(async () => Promise.reject(new dj.errors.DuplicateError('dup')))).rejects.toThrow(dj.errors.DuplicateError);
    await expect(retryOnDeadlock(async () => Promise.reject(new dj.errors.DeadlockError('always')), 2)).rejects.toThrow(/always/);
  });

  it('a refresh that still deadlocks does not escape suppressErrors; without it, it is a DeadlockError', async () => {
    const jobs = Score.jobs;
    const refresh = jobs.refresh;
    jobs.refresh = () => Promise.reject(new dj.errors.DeadlockError('Deadlock found when trying to get lock (refresh)'));
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.message);
    process.on('warning', onWarning);
    try {
      await expect(Score.populate({ reserveJobs: true })).rejects.toThrow(dj.errors.DeadlockError);
      await refresh.call(jobs); // the queue as another worker left it
      const r = await Score.populate({ reserveJobs: true, suppressErrors: true });
      expect(r).toMatchObject({ success: 3, error: 1 });
      await new Promise((res) => setImmediate(res));
      expect(warnings.some((w) => /refresh kept deadlocking/.test(w))).toBe(true);
    } finally {
      jobs.refresh = refresh;
      process.off('warning', onWarning);
    }
  });
});

describe('a job whose key left the key source (its upstream rows were deleted)', () => {
  it('is not dealt while its rows are gone, is no error, and is made once they come back', async () => {
    await Score.jobs.refresh();
    await Subject.restrict({ subject_id: 2 }).delete({ prompt: false });
    const r = await Score.populate({ reserveJobs: true, suppressErrors: true });
    expect(r).toMatchObject({ success: 2, error: 1 }); // 1 and 4 made, 3 fails on purpose
    expect(r.errors.map((e) => e.key.subject_id)).toEqual([3]);
    expect(await Score.jobs.progress()).toMatchObject({ pending: 1, error: 1 });
    await Subject.insert1({ subject_id: 2 });
    expect(await Score.populate({ reserveJobs: true, suppressErrors: true })).toMatchObject({ success: 1, error: 0 });
    expect(await Score.restrict({ subject_id: 2 }).count()).toBe(1);
  });

  it('a make that fails because its rows were deleted while it ran is skipped, and its job waits for them', async () => {
    class Vanishing extends dj.Computed {
      static definition = '-> Subject\n---\nv : int32';
      async make(key: Record<string, unknown>) {
        // Another session deletes the upstream row after the key was dealt.
        if (key.subject_id === 1) await dj.conn().outsideTransaction(() => Subject.restrict(key).delete({ prompt: false }));
        const fail = (await Subject.restrict(key).fetch1('fail')) as boolean;
        await this.insert1({ ...key, v: fail ? 1 : 0 });
      }
    }
    schema.add(Vanishing);
    try {
      for (const reserveJobs of [true, false]) {
        const r = await Vanishing.populate({ reserveJobs, suppressErrors: true });
        expect(r, `reserveJobs: ${reserveJobs}`).toMatchObject({ success: 3, error: 0, skip: 1 });
        if (reserveJobs) expect(await Vanishing.jobs.progress()).toMatchObject({ pending: 1, error: 0 });
        await Vanishing.deleteQuick();
        await Subject.insert1({ subject_id: 1 });
      }
    } finally {
      await Vanishing.drop({ prompt: false });
    }
  });
});

describe('refresh beside a group commit in progress', () => {
  it('locks only the jobs it changes: it does not wait for a transaction holding other job rows, and still does its work', async () => {
    const jobs = Score.jobs;
    await jobs.refresh();
    expect(await jobs.reserve({ subject_id: 1 }, 1)).toBe(true);
    // Another worker's group commit: key 1 made and its job completed, not yet committed.
    let finish!: () => void;
    const held = new Promise<void>((r) => (finish = r));
    let locked!: () => void;
    const holding = new Promise<void>((r) => (locked = r));
    const group = dj.conn().transaction(async () => {
      await Score.insert1({ subject_id: 1, score: 2 }, { allowDirectInsert: true });
      await jobs.complete({ subject_id: 1 }, 0.1);
      locked();
      await held;
    });
    await Promise.race([holding, group]);
    // Meanwhile: a new key to add, a stale-looking job (whose key is not to be made) and a
    // completed job whose row was deleted, each found and changed without touching key 1's job.
    await Subject.insert1({ subject_id: 5 });
    await jobs.error({ subject_id: 77 }, new Error('gone upstream'), 0);
    await new Promise((r) => setTimeout(r, 20));
    let refreshed: Awaited<ReturnType<typeof jobs.refresh>> | 'waited' = 'waited';
    try {
      refreshed = await Promise.race([jobs.refresh({ staleTimeout: 0.01 }), new Promise<'waited'>((r) => setTimeout(() => r('waited'), 8_000))]);
    } finally {
      finish();
      await group;
    }
    expect(refreshed).toMatchObject({ added: 1, removed: 1 });
    // Key 1's job was completed (deleted: jobs.keep_completed is off); 2-5 wait.
    expect(await jobs.progress()).toMatchObject({ pending: 4, reserved: 0, error: 0, total: 4 });
  });
});

describe('the jobs of a key loop cut short', () => {
  /** Keys 1-4 reserved by this session, key 1 made and its job completed as a make commits it. */
  async function loopCutAfterKey1() {
    const jobs = Score.jobs;
    await jobs.refresh();
    const keys = [1, 2, 3, 4].map((subject_id) => ({ subject_id }));
    expect(await jobs.reserveMany(keys, await dj.conn().sessionId())).toHaveLength(4);
    await Score.insert1({ subject_id: 1, score: 2 }, { allowDirectInsert: true });
    await jobs.complete(keys[0]!, 0);
    return { jobs, keys, table: new Score() as unknown as AutoPopulateLike };
  }
  const statuses = async () => (await Score.jobs.table().toDicts({ orderBy: 'subject_id' })).map((r) => [r.subject_id, r.status]);

  it('the key it was on committed (cut between two makes): every other key it held is pending again', async () => {
    // A worker cut after committing key 1 and reserving the next group reports key 1 as its
    // current key; the others were left reserved before this was mended.
    const { keys, table } = await loopCutAfterKey1();
    await settleCutShort(table, keys[0], keys, new dj.PopulateInterrupted('populate interrupted by SIGTERM'));
    expect(await statuses()).toEqual([
      [2, 'pending'],
      [3, 'pending'],
      [4, 'pending'],
    ]);
  });

  it('the key it was on did not commit: it is the error, the others are pending, a committed key keeps its job', async () => {
    const { jobs, keys, table } = await loopCutAfterKey1();
    await settleCutShort(table, keys[2], keys, new dj.PopulateInterrupted('populate interrupted by SIGINT'));
    expect(await statuses()).toEqual([
      [2, 'pending'],
      [3, 'error'],
      [4, 'pending'],
    ]);
    expect((await jobs.errors.toDicts()).map((r) => r.error_message)).toEqual(['PopulateInterrupted: populate interrupted by SIGINT']);
  });

  it('cut before its first make: every key it held is pending again', async () => {
    const { keys, table } = await loopCutAfterKey1();
    await settleCutShort(table, undefined, keys.slice(1), new dj.PopulateInterrupted('populate interrupted by SIGTERM'));
    expect(await statuses()).toEqual([
      [2, 'pending'],
      [3, 'pending'],
      [4, 'pending'],
    ]);
  });
});
