/**
 * dj.Diagram.cascade(T.restrict(c)): the diagram of what a delete would reach and its counts,
 * read without deleting, equal to what the delete then removes (both use the planner in
 * src/table/cascade.ts). Two schemas: renamed and cross-schema keys, parts, a part of a part's
 * master referenced from another master's part. The safemode prompt prints the same counts
 * before it asks.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dj, freshSchema, cleanup } from './helpers.js';

const root = fileURLToPath(new URL('..', import.meta.url));
let lab: dj.SchemaDecorator;
let review: dj.SchemaDecorator;

class Subject extends dj.Manual {
  static definition = `subject_id : int32`;
}
class Session extends dj.Manual {
  static definition = `
  -> Subject
  session_idx : uint16
  `;
  static Trial = class extends dj.Part {
    static definition = `
    -> master
    trial_idx : uint16
    `;
  };
}
class Recording extends dj.Imported {
  static definition = `
  -> Session
  ---
  path : varchar(64)
  `;
}
class Analysis extends dj.Computed {
  static definition = `
  -> Recording
  ---
  score : float64
  `;
  static Detail = class extends dj.Part {
    static definition = `
    -> master
    -> Session.Trial
    `;
  };
}
class Pairing extends dj.Manual {
  static definition = `
  -> Subject
  -> Subject.proj(partner_id='subject_id')
  `;
}
class Review extends dj.Manual {
  static definition = `
  -> Session
  reviewer : varchar(16)
  `;
}

const allTables = () => [Subject, Session, Session.Trial, Recording, Analysis, Analysis.Detail, Pairing, Review];

async function rowCounts(): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const T of allTables()) out[T.fullTableName] = await T.count();
  return out;
}

async function fill(): Promise<void> {
  for (const T of allTables().reverse()) await T.deleteQuick();
  await Subject.insert([[1], [2], [3]]);
  await Session.insert([[1, 1], [1, 2], [2, 1], [3, 1]]);
  await Session.Trial.insert([[1, 1, 1], [1, 1, 2], [1, 2, 1], [2, 1, 1], [3, 1, 1]]);
  await Recording.insert([[1, 1, 'a'], [1, 2, 'b'], [2, 1, 'c']], { allowDirectInsert: true });
  await Analysis.insert([[1, 1, 0.5], [2, 1, 0.7]], { allowDirectInsert: true });
  await Analysis.Detail.insert([[1, 1, 1], [1, 1, 2], [2, 1, 1]], { allowDirectInsert: true });
  await Pairing.insert([[1, 2], [2, 3], [3, 1]]);
  await Review.insert([[1, 1, 'ann'], [2, 1, 'bob']]);
}

/** Delete through `run`, and compare what each table lost with what the cascade counted before. */
async function expectCountsMatchDelete(diagram: dj.Diagram, run: () => Promise<number>) {
  const counts = await diagram.counts();
  const before = await rowCounts();
  // Counting deleted nothing.
  expect(await diagram.counts()).toEqual(counts);
  expect(await rowCounts()).toEqual(before);
  const deletedHere = await run();
  const after = await rowCounts();
  for (const [name, n] of Object.entries(before)) expect(n - after[name]!, name).toBe(counts[name] ?? 0);
  return { counts, deletedHere };
}

beforeAll(async () => {
  lab = await freshSchema('cascade');
  review = await freshSchema('cascade_review', { context: { Session } });
  for (const T of [Subject, Session, Recording, Analysis, Pairing]) lab.add(T);
  review.add(Review);
  await lab.declare();
  await review.declare();
});
beforeEach(fill);
afterAll(() => cleanup(lab, review));

describe('Diagram.cascade', () => {
  it('reaches what a delete reaches, with 0 counts included, and the counts equal what delete removes', async () => {
    const d = dj.Diagram.cascade(Subject.restrict({ subject_id: 1 }));
    const name = (T: { fullTableName: string }) => T.fullTableName;
    expect(new Set(await d.nodes())).toEqual(new Set(allTables().map(name)));
    const expected = {
      [name(Subject)]: 1,
      [name(Session)]: 2,
      [name(Session.Trial)]: 3,
      [name(Recording)]: 2,
      [name(Analysis)]: 1,
      [name(Analysis.Detail)]: 2,
      [name(Pairing)]: 2, // as subject 1 and as partner 1
      [name(Review)]: 1,
    };
    expect(await d.counts()).toEqual(expected);
    // Parents come before children in the counts, as the plan orders them.
    const order = Object.keys(await d.counts());
    expect(order.indexOf(name(Subject))).toBeLessThan(order.indexOf(name(Session)));
    expect(order.indexOf(name(Recording))).toBeLessThan(order.indexOf(name(Analysis.Detail)));
    const { deletedHere } = await expectCountsMatchDelete(d, () => Subject.restrict({ subject_id: 1 }).delete({ prompt: false }));
    expect(deletedHere).toBe(1);
  });

  it('lists reached tables whose rows are not affected with 0', async () => {
    const d = dj.Diagram.cascade(Subject.restrict({ subject_id: 3 }));
    const counts = await d.counts();
    expect(counts[Recording.fullTableName]).toBe(0);
    expect(counts[Analysis.Detail.fullTableName]).toBe(0);
    expect(counts[Session.Trial.fullTableName]).toBe(1);
    expect(Object.keys(counts)).toHaveLength(allTables().length);
    await expectCountsMatchDelete(d, () => Subject.restrict({ subject_id: 3 }).delete({ prompt: false }));
  });

  it('starts below the root: ancestors and unrelated tables are not part of the diagram', async () => {
    const d = dj.Diagram.cascade(Recording.restrict({ subject_id: 1, session_idx: 2 }));
    expect(new Set(await d.nodes())).toEqual(new Set([Recording, Analysis, Analysis.Detail].map((T) => T.fullTableName)));
    expect(await d.counts()).toEqual({ [Recording.fullTableName]: 1, [Analysis.fullTableName]: 0, [Analysis.Detail.fullTableName]: 0 });
    await expectCountsMatchDelete(d, () => Recording.restrict({ subject_id: 1, session_idx: 2 }).delete({ prompt: false }));
  });

  it('handles a restriction by another query, a string condition, and a whole table class', async () => {
    const byQuery = Session.restrict(Review.restrict({ reviewer: 'bob' }));
    await expectCountsMatchDelete(dj.Diagram.cascade(byQuery), () => byQuery.delete({ prompt: false }));
    await fill();
    const byString = Session.restrict('session_idx > 1');
    await expectCountsMatchDelete(dj.Diagram.cascade(byString), () => byString.delete({ prompt: false }));
    await fill();
    const all = dj.Diagram.cascade(Subject);
    expect((await all.counts())[Subject.fullTableName]).toBe(3);
    const { counts } = await expectCountsMatchDelete(all, () => Subject.delete({ prompt: false }));
    expect(Object.values(counts).reduce((a, b) => a + b)).toBe(3 + 4 + 5 + 3 + 2 + 3 + 3 + 2);
  });

  it('applies part integrity as delete does', async () => {
    const trial = Session.Trial.restrict({ subject_id: 1, session_idx: 1, trial_idx: 1 });
    // 'enforce': the counts are refused exactly as the delete is.
    await expect(dj.Diagram.cascade(trial).counts()).rejects.toBeInstanceOf(dj.IntegrityError);
    await expect(trial.delete({ prompt: false })).rejects.toBeInstanceOf(dj.IntegrityError);
    // 'cascade': the masters of reached part rows are deleted too, with everything below them.
    const d = dj.Diagram.cascade(trial, { partIntegrity: 'cascade' });
    const { counts } = await expectCountsMatchDelete(d, () => trial.delete({ prompt: false, partIntegrity: 'cascade' }));
    expect(counts[Session.fullTableName]).toBe(1);
    expect(counts[Analysis.fullTableName]).toBe(1);
    await fill();
    const ignore = dj.Diagram.cascade(trial, { partIntegrity: 'ignore' });
    // Its Analysis.Detail row goes; its Analysis master stays (Detail references the trial, not the other way).
    expect(await ignore.counts()).toEqual({ [Session.Trial.fullTableName]: 1, [Analysis.Detail.fullTableName]: 1 });
    await expectCountsMatchDelete(ignore, () => trial.delete({ prompt: false, partIntegrity: 'ignore' }));
  });

  it('is a diagram: it draws, combines, and its rows are read when asked', async () => {
    const d = dj.Diagram.cascade(Session.restrict({ subject_id: 2 }));
    expect(await d.toDot()).toContain('Session');
    expect(await d.nodes()).not.toContain(Subject.fullTableName);
    expect(await d.add(new dj.Diagram(Subject)).nodes()).toContain(Subject.fullTableName);
    await Session.Trial.insert1([2, 1, 9]);
    expect((await d.counts())[Session.Trial.fullTableName]).toBe(2);
  });

  it('refuses what it cannot plan, clearly', async () => {
    expect(() => dj.Diagram.cascade(Subject.join(Session) as never)).toThrow(/expects a table or a restricted table/);
    expect(() => dj.Diagram.cascade(42 as never)).toThrow(dj.DataJointError);
    // A schema is named as one (it read "got class undefined"); a level given as text says so.
    expect(() => dj.Diagram.cascade(lab as never)).toThrow(`got the schema ${lab.database}`);
    expect(() => new dj.Diagram(Subject).up('2' as never)).toThrow("got '2' (a string)");
    expect(() => dj.Diagram.cascade(Subject, { partIntegrity: 'nope' as never })).toThrow(/partIntegrity/);
    await expect(new dj.Diagram(lab).counts()).rejects.toThrow(/Diagram.cascade/);
  });
});

const hasScript = spawnSync('script', ['--version']).status === 0;

describe.skipIf(!hasScript)('the delete prompt', () => {
  it('prints the cascade counts before it asks, and deletes nothing unless told "yes"', async () => {
    const s = await freshSchema('cascade_prompt');
    class Thing extends dj.Manual {
      static definition = `thing_id : int32`;
    }
    s.add(Thing);
    try {
      await Thing.insert([[1], [2]]);
      const cmd = `${process.execPath} --import tsx test/fixtures/prompt-delete.ts ${s.database}`;
      const out = execFileSync('script', ['-qec', cmd, '/dev/null'], { cwd: root, input: 'no\n', encoding: 'utf8', timeout: 60_000 });
      const counted = out.indexOf(`Deleting 2 rows from ${Thing.fullTableName}`);
      expect(counted).toBeGreaterThanOrEqual(0);
      expect(counted).toBeLessThan(out.indexOf('Commit deletes?'));
      expect(out).toContain('RESULT deleted=0 left=2');
      expect(await Thing.count()).toBe(2);
    } finally {
      await s.drop({ prompt: false });
    }
  });
});
