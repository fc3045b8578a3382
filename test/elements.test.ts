/**
 * Deferred schemas (API.md §2, DataJoint Elements): `dj.schema()` without a name, use before
 * activation, `activate` with a linking module, re-activation, `createTables: false` (nothing
 * created, checked with a SELECT-only user), and the example pipeline of examples/elements/
 * activated into three databases and populated on worker threads.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dj } from './helpers.js';
import { createUser, dropUser, grant } from './support/users.js';

const prefix = `djtest_el_${process.pid}_`;
/** The example pipeline's databases get their own prefix. */
const examplePrefix = `${prefix}ex_`;
const databases = [
  ...['lab', 's1', 's2', 'other', 'ro', 'missing'].map((n) => prefix + n),
  ...['lab', 'session', 'analysis'].map((n) => examplePrefix + n),
];

/** A fresh copy of a session Element: a deferred schema whose Session references an unknown `Subject`. */
function sessionElement() {
  const schema = dj.schema();
  class Session extends dj.Manual {
    static definition = `
    -> Subject
    session_idx : uint16
    `;
  }
  class Kind extends dj.Lookup {
    static definition = `kind : varchar(8)`;
    static contents = [['rest'], ['task']];
  }
  schema.add(Session);
  schema.add(Kind);
  return { schema, Session, Kind };
}

const lab = dj.schema(`${prefix}lab`);
class Subject extends dj.Manual {
  static definition = `subject : varchar(16)`;
}
lab.add(Subject);

async function dropAll(): Promise<void> {
  const conn = dj.conn();
  // Children first: the analysis element references the session element, which references lab.
  for (const db of [...databases].reverse()) await conn.executeAll(conn.dialect.dropDatabase(db));
}

beforeAll(dropAll);
afterAll(async () => {
  await dropAll().catch(() => {});
  await dj.closeAll();
});

describe('before activation', () => {
  it('registers classes but every use throws DataJointError saying the schema must be activated', async () => {
    const { schema, Session } = sessionElement();
    expect(schema.isActivated).toBe(false);
    expect(Object.keys(schema.tables).sort()).toEqual(['Kind', 'Session']);
    expect(String(schema)).toBe('Schema(<not activated>)');
    const activated = /schema must be activated/;
    expect(() => schema.database).toThrow(activated);
    expect(() => schema.connection).toThrow(dj.DataJointError);
    expect(() => Session.fullTableName).toThrow(activated);
    expect(() => Session.database).toThrow(activated);
    await expect(Session.insert1({ subject: 'a', session_idx: 1 })).rejects.toThrow(activated);
    await expect(Session.toDicts()).rejects.toThrow(activated);
    await expect(Session.count()).rejects.toBeInstanceOf(dj.DataJointError);
    expect(() => Session.describe()).toThrow(activated);
    await expect(schema.declare()).rejects.toThrow(activated);
    await expect(schema.listTables()).rejects.toThrow(activated);
    await expect(schema.drop({ prompt: false })).rejects.toThrow(activated);
    expect(() => new dj.Diagram(schema)).toThrow(activated);
    expect(() => new dj.Diagram(Session)).toThrow(activated);
    // The message names the tables, so the user knows which schema it is.
    expect(() => schema.database).toThrow(/Session, Kind/);
  });

  it('accepts options without a name (dj.schema({ ... }))', () => {
    const s = dj.schema({ createTables: false });
    expect(s.isActivated).toBe(false);
    expect(s.createTables).toBe(false);
    expect(() => dj.schema('')).toThrow(/Invalid schema name/);
  });
});

describe('activate', () => {
  it('declares the tables, resolving -> Subject through the linking module', async () => {
    const { schema, Session, Kind } = sessionElement();
    await schema.activate(`${prefix}s1`, { linkingModule: { Subject } });
    expect(schema.isActivated).toBe(true);
    expect(schema.database).toBe(`${prefix}s1`);
    expect((await schema.listTables()).sort()).toEqual(['#kind', 'session']);
    const fks = await dj.conn().catalog.foreignKeys(`${prefix}s1`, 'session');
    expect(fks.map((fk) => [fk.parentDatabase, fk.parentTable])).toEqual([[`${prefix}lab`, 'subject']]);
    expect(await Kind.count()).toBe(2);
    await Subject.insert1({ subject: 'm1' });
    await Session.insert1({ subject: 'm1', session_idx: 1 });
    expect(await Session.toDicts()).toEqual([{ subject: 'm1', session_idx: 1 }]);
    await expect(Session.insert1({ subject: 'nobody', session_idx: 1 })).rejects.toBeInstanceOf(dj.IntegrityError);

    // Again under the same name: nothing happens. Under another: an error, and the first binding stays.
    await schema.activate(`${prefix}s1`, { linkingModule: { Subject } });
    await expect(schema.activate(`${prefix}other`)).rejects.toThrow(/already activated as `.*s1`/);
    expect(schema.database).toBe(`${prefix}s1`);
    expect(await dj.conn().catalog.databaseExists(`${prefix}other`)).toBe(false);
    expect(await Session.count()).toBe(1);
  });

  it('shares one activation between concurrent calls with the same name', async () => {
    const { schema, Session } = sessionElement();
    const name = `${prefix}s2`;
    await Promise.all([schema.activate(name, { linkingModule: { Subject } }), schema.activate(name), schema.activate(name)]);
    expect(await Session.count()).toBe(0);
  });

  it('rejects a bad name or linking module, and leaves a failed activation unactivated', async () => {
    const { schema, Session } = sessionElement();
    await expect(schema.activate('bad name!')).rejects.toThrow(/Invalid schema name/);
    await expect(schema.activate(`${prefix}other`, { linkingModule: 5 as unknown as object })).rejects.toThrow(/linkingModule must be an object/);
    expect(schema.isActivated).toBe(false);
    // Without the linking module, `-> Subject` cannot be resolved: the error says where it was looked for.
    const err = await schema.activate(`${prefix}other`).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(dj.DeclarationError);
    expect((err as Error).message).toMatch(/"Subject".*linkingModule/);
    expect(schema.isActivated).toBe(false);
    expect(() => Session.fullTableName).toThrow(/must be activated/);
    // A retry (under any name) starts afresh.
    await schema.activate(`${prefix}other`, { linkingModule: { Subject } });
    expect(await schema.listTables()).toContain('session');
    expect(await Session.count()).toBe(0);
  });
});

describe('createTables: false', () => {
  it('creates no schema: activation of a missing database fails clearly', async () => {
    const { schema } = sessionElement();
    await expect(schema.activate(`${prefix}missing`, { linkingModule: { Subject }, createTables: false })).rejects.toThrow(/does not exist: with createTables: false nothing is created/);
    expect(schema.isActivated).toBe(false);
    expect(schema.createTables).toBe(true); // the failed call's options are not kept
    expect(await dj.conn().catalog.databaseExists(`${prefix}missing`)).toBe(false);
  });

  it('creates no table: using a missing one fails with MissingTableError', async () => {
    const conn = dj.conn();
    const db = `${prefix}ro`;
    await conn.executeAll(conn.dialect.createDatabase(db));
    const { schema, Session, Kind } = sessionElement();
    await schema.activate(db, { linkingModule: { Subject }, createTables: false });
    const err = await Session.count().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(dj.MissingTableError);
    expect((err as Error).message).toMatch(/Session .* does not exist, and its schema has createTables: false/);
    await expect(Kind.toDicts()).rejects.toBeInstanceOf(dj.MissingTableError);
    expect((await conn.catalog.listTables(db)).map((t) => t.name)).toEqual([]);
  });

  it('works for a SELECT-only user on existing tables (no CREATE, no lookup contents written)', async () => {
    const conn = dj.conn();
    const db = `${prefix}ro`;
    // The owner declares the tables; then a lookup row is removed, which a reader must not restore.
    const owner = sessionElement();
    await owner.schema.activate(db, { linkingModule: { Subject } });
    await Subject.insert1({ subject: 'r1' }, { skipDuplicates: true });
    await owner.Session.insert1({ subject: 'r1', session_idx: 7 });
    await owner.Kind.restrict({ kind: 'task' }).delete({ prompt: false });
    const user = `dj_el_ro_${process.pid}`;
    await createUser(conn, user, 'pw');
    try {
      await grant(conn, user, db, 'select');
      const reader = new dj.Connection({ user, password: 'pw' });
      try {
        const { schema, Session, Kind } = sessionElement();
        await schema.activate(db, { linkingModule: { Subject }, createTables: false, connection: reader });
        expect(await Session.toDicts()).toEqual([{ subject: 'r1', session_idx: 7 }]);
        expect(await Kind.toDicts()).toEqual([{ kind: 'rest' }]);
        // The reader really cannot write: had activation tried to create or insert, it would have failed.
        await expect(Kind.insert1({ kind: 'x' })).rejects.toBeInstanceOf(dj.AccessError);
      } finally {
        await reader.close();
      }
    } finally {
      await dropUser(conn, user);
    }
  });
});

describe('the example pipeline (examples/elements)', () => {
  let p: typeof import('../examples/elements/pipeline.js');

  beforeAll(async () => {
    process.env.DJ_ELEMENTS_PREFIX = examplePrefix;
    p = await import('../examples/elements/pipeline.js');
  });

  it('activates two Elements into one pipeline through the linking module', async () => {
    expect(p.schemas.map((s) => s.database)).toEqual([`${examplePrefix}lab`, `${examplePrefix}session`, `${examplePrefix}analysis`]);
    expect(p.schemas.every((s) => s.isActivated)).toBe(true);
    const edges = await new dj.Diagram(p.schemas[0]!).add(p.schemas[1]!).add(p.schemas[2]!).edges();
    const name = (db: string, t: string) => dj.conn().dialect.fullName(examplePrefix + db, t);
    const pairs = edges.map((e) => `${e.parent} -> ${e.child}`);
    expect(pairs).toContain(`${name('lab', 'subject')} -> ${name('session', 'session')}`);
    expect(pairs).toContain(`${name('session', 'session')} -> ${name('analysis', 'analysis_task')}`);
    expect(pairs).toContain(`${name('analysis', '#analysis_param_set')} -> ${name('analysis', 'analysis_task')}`);
  });

  // Each worker thread imports the pipeline module, which activates the Elements on import.
  it('populates the analysis Element on worker threads (processes: 2) as in process', async () => {
    await p.Subject.insert([{ subject: 'w1' }, { subject: 'w2' }], { skipDuplicates: true });
    await p.Session.insert([
      { subject: 'w1', session_datetime: '2024-05-01 09:00:00' },
      { subject: 'w2', session_datetime: '2024-05-02 09:30:00' },
    ]);
    await p.AnalysisTask.insert(p.Session.proj().join(p.AnalysisParamSet.proj()));
    const r = await p.Analysis.populate({ processes: 2 });
    expect(r).toMatchObject({ success: 4, error: 0 });
    const parallel = await p.Analysis.toDicts({ orderBy: 'KEY' });
    const peaks = await p.Analysis.Peak.count();
    expect(peaks).toBeGreaterThan(0);
    await p.Analysis.delete({ prompt: false });
    expect(await p.Analysis.populate()).toMatchObject({ success: 4 });
    expect(await p.Analysis.toDicts({ orderBy: 'KEY' })).toEqual(parallel);
    expect(await p.Analysis.Peak.count()).toBe(peaks);
  });
});
