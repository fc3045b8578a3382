/**
 * The jobs table is a table (spec: autopopulate, `(Analysis.jobs & cond).delete()`,
 * `Analysis.jobs.to_dicts()`): `Analysis.jobs` is restricted, fetched, joined, iterated and
 * deleted from like any table, declared on first use, while its queue operations (refresh,
 * progress, ignore, the status views, drop) keep working.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { dj, freshSchema, cleanup } from './helpers.js';

type Key = Record<string, unknown>;
let schema: dj.SchemaDecorator;

class Src extends dj.Manual {
  static definition = `src_id : int32\n---\nlabel : varchar(16)`;
}
class Analysis extends dj.Computed {
  static definition = `-> Src\n---\nv : int32`;
  async make(key: Key) {
    if (key.src_id === 3) throw new Error('failing on purpose');
    await this.insert1({ ...key, v: 1 });
  }
}

const ids = (rows: Key[]) => rows.map((r) => r.src_id).sort();

beforeAll(async () => {
  schema = await freshSchema('jobstable');
  schema.add(Src);
  schema.add(Analysis);
  await Src.insert([1, 2, 3, 4].map((src_id) => ({ src_id, label: `s${src_id}` })));
});
beforeEach(async () => {
  await Analysis.deleteQuick();
  await Analysis.jobs.drop();
});
afterAll(() => cleanup(schema));

describe('Analysis.jobs as a table', () => {
  it('is a table: declared on first use, then fetched, restricted, projected, joined and iterated', async () => {
    const jobs = Analysis.jobs;
    expect(jobs).toBeInstanceOf(dj.QueryExpression);
    expect(jobs).toBeInstanceOf(dj.FreeTable);
    expect(await jobs.toDicts()).toEqual([]); // the table did not exist: created by the query
    expect(await jobs.count()).toBe(0);
    expect(await jobs.refresh()).toMatchObject({ added: 4 });
    expect(await jobs.count()).toBe(4);
    expect((await jobs.heading()).primaryKey).toEqual(['src_id']);
    expect(ids(await jobs.keys())).toEqual([1, 2, 3, 4]);
    expect(await jobs.restrict({ src_id: 2 }).fetch1('status')).toBe('pending');
    expect(await jobs.minus({ src_id: 2 }).count()).toBe(3);
    expect(await jobs.restrict('src_id > 2').proj('status').toDicts({ orderBy: 'src_id' })).toEqual([
      { src_id: 3, status: 'pending' },
      { src_id: 4, status: 'pending' },
    ]);
    // Its key has no lineage (it has no foreign keys, as in DataJoint Python): matched by name.
    expect(await jobs.join(Src, { semanticCheck: false }).restrict({ label: 's4' }).fetch1('src_id')).toBe(4);
    expect(await Src.restrict(jobs.restrict('src_id < 3'), { semanticCheck: false }).count()).toBe(2);
    expect([...((await jobs.toArrays('src_id', { orderBy: 'src_id' })) as Int32Array)]).toEqual([1, 2, 3, 4]);
    expect(await jobs.head(1)).toHaveLength(1);
    expect(await jobs.tail(2)).toHaveLength(2);
    const seen: unknown[] = [];
    for await (const row of jobs) seen.push(row.src_id);
    expect(seen.sort()).toEqual([1, 2, 3, 4]);
  });

  it('deletes by restriction; the status views, progress, ignore and populate keep working', async () => {
    const jobs = Analysis.jobs;
    await jobs.refresh();
    expect(await jobs.restrict({ src_id: 1 }).delete({ prompt: false })).toBe(1);
    expect(await jobs.restrict({ src_id: 2 }).deleteQuick()).toBe(1);
    expect(ids(await jobs.pending.keys())).toEqual([3, 4]);
    await jobs.ignore({ src_id: 4 });
    expect(ids(await jobs.ignored.keys())).toEqual([4]);
    // A status view restricts what it is taken from.
    expect(await jobs.restrict({ src_id: 4 }).pending.count()).toBe(0);
    expect(await jobs.progress()).toMatchObject({ pending: 1, ignore: 1, total: 2 });
    const r = await Analysis.populate({ reserveJobs: true, refresh: false, suppressErrors: true });
    expect(r).toMatchObject({ success: 0, error: 1 });
    expect(await jobs.errors.fetch1('error_message')).toMatch(/^Error: failing on purpose/);
    // Cleared as the docs do it, with safemode on and no terminal: a jobs table never asks (as in
    // DataJoint Python, whose jobs table deletes quick), or a worker script could not retry.
    dj.config.set('safemode', true);
    try {
      expect(await jobs.errors.delete()).toBe(1);
    } finally {
      dj.config.set('safemode', false);
    }
    expect(await jobs.refresh()).toMatchObject({ added: 3 }); // 1, 2, 3 again; 4 stays ignored
    expect(await Analysis.populate({ reserveJobs: true, suppressErrors: true })).toMatchObject({ success: 2, error: 1 });
    // Rows deleted after their jobs completed are pending again (DataJoint Python's re_pended).
    dj.config.set('jobs.keep_completed', true);
    try {
      await Analysis.deleteQuick();
      await Analysis.populate({ reserveJobs: true, suppressErrors: true }); // kept as success now
      const made = await Analysis.count();
      expect(made).toBeGreaterThan(0);
      await Analysis.deleteQuick();
      expect(await jobs.refresh()).toMatchObject({ rePended: made });
    } finally {
      dj.config.set('jobs.keep_completed', false);
    }
  });

  it('refresh and progress refuse options they do not know (the Python spelling names ours)', async () => {
    await expect(Analysis.jobs.refresh({ orphan_timeout: 3600 } as never)).rejects.toThrow(/jobs\.refresh: unknown option orphan_timeout: did you mean orphanTimeout\?/);
    await expect(Analysis.progress({ displa: true } as never)).rejects.toThrow(/Analysis\.progress: unknown option displa/);
    const said: string[] = [];
    const spy = vi.spyOn(console, 'log').mockImplementation((line: string) => void said.push(line));
    try {
      expect(await Analysis.progress({ display: true })).toEqual({ remaining: 4, total: 4 });
    } finally {
      spy.mockRestore();
    }
    expect(said).toHaveLength(1);
    expect(said[0]).toMatch(/^Analysis +Completed 0 of 4 \(0\.0%\)/);
  });

  it('drops whole only, and is declared again when next used', async () => {
    const jobs = Analysis.jobs;
    await jobs.refresh();
    await expect(jobs.restrict({ src_id: 1 }).drop()).rejects.toThrow(/cannot be applied to a restricted table/);
    expect(await jobs.count()).toBe(4);
    await jobs.drop();
    expect(await jobs.count()).toBe(0);
    expect(await jobs.refresh()).toMatchObject({ added: 4 });
  });
});

describe('a key attribute named like a jobs table column', () => {
  class Probe extends dj.Manual {
    static definition = `host : varchar(32)\n---\nn : int32`;
  }
  class ProbeSummary extends dj.Computed {
    static definition = `-> Probe\n---\ntotal : int32`;
    async make(key: Key) {
      await this.insert1({ ...key, total: 1 });
    }
  }
  it('is refused with an error naming the attribute and the jobs columns, and populate without jobs still works', async () => {
    schema.add(Probe);
    schema.add(ProbeSummary);
    await Probe.insert1({ host: 'rig1', n: 1 });
    await expect(ProbeSummary.populate({ reserveJobs: true })).rejects.toThrow(/key attribute `host` has the name of a jobs table column \(status, priority.*host.*\)/);
    await expect(ProbeSummary.jobs.progress()).rejects.toThrow(dj.DataJointError);
    expect(await ProbeSummary.populate()).toMatchObject({ success: 1, error: 0 });
  });
});
