import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { BACKEND, dj, freshSchema, cleanup } from './helpers.js';

let schema: dj.SchemaDecorator;

class Lab extends dj.Manual {
  static definition = `lab : varchar(16)`;
}
class Subject extends dj.Manual {
  static definition = `
  -> Lab
  subject_id : int32
  `;
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
    ---
    ok : bool
    `;
  };
}
class Scan extends dj.Manual {
  static definition = `
  -> Session
  scan_idx : uint8
  ---
  -> [nullable] Lab.proj(reviewer_lab='lab')
  `;
  static Frame = class extends dj.Part {
    static definition = `
    -> master
    -> Session.Trial
    frame : uint32
    `;
  };
}

async function load() {
  await Lab.insert([['a'], ['b']]);
  await Subject.insert([['a', 1], ['a', 2], ['b', 3]]);
  await Session.insert([['a', 1, 1], ['a', 1, 2], ['a', 2, 1], ['b', 3, 1]]);
  await Session.Trial.insert([
    ['a', 1, 1, 1, true], ['a', 1, 1, 2, false], ['a', 1, 2, 1, true], ['a', 2, 1, 1, true], ['b', 3, 1, 1, true],
  ]);
  await Scan.insert([['a', 1, 1, 0, null], ['b', 3, 1, 0, 'a']]);
  await Scan.Frame.insert([
    ['a', 1, 1, 0, 1, 0], ['a', 1, 1, 0, 2, 1], ['b', 3, 1, 0, 1, 0],
  ]);
}

async function counts() {
  return {
    lab: await Lab.count(), subject: await Subject.count(), session: await Session.count(),
    trial: await Session.Trial.count(), scan: await Scan.count(), frame: await Scan.Frame.count(),
  };
}

beforeAll(async () => {
  schema = await freshSchema('delete');
  for (const c of [Lab, Subject, Session, Scan]) schema.add(c);
  await schema.declare();
});
beforeEach(async () => {
  for (const t of [Scan.Frame, Scan, Session.Trial, Session, Subject, Lab]) await t.deleteQuick();
  await load();
});
afterAll(() => cleanup(schema));

describe('delete', () => {
  it('cascades over several levels, through parts and renamed foreign keys, in one transaction', async () => {
    expect(await counts()).toEqual({ lab: 2, subject: 3, session: 4, trial: 5, scan: 2, frame: 3 });
    // Deleting subject a/1 removes its sessions, trials, scans and frames.
    expect(await Subject.restrict({ lab: 'a', subject_id: 1 }).delete({ prompt: false })).toBe(1);
    expect(await counts()).toEqual({ lab: 2, subject: 2, session: 2, trial: 2, scan: 1, frame: 1 });
    // Deleting lab a also removes scans that reference it as reviewer (renamed FK) and their frames.
    expect(await Lab.restrict({ lab: 'a' }).delete({ prompt: false })).toBe(1);
    expect(await counts()).toEqual({ lab: 1, subject: 1, session: 1, trial: 1, scan: 0, frame: 0 });
    expect(await Lab.delete({ prompt: false })).toBe(1);
    expect(await counts()).toEqual({ lab: 0, subject: 0, session: 0, trial: 0, scan: 0, frame: 0 });
  });

  it('restricts by another query and returns 0 when nothing matches', async () => {
    expect(await Session.restrict(Scan).delete({ prompt: false })).toBe(2);
    expect(await counts()).toEqual({ lab: 2, subject: 3, session: 2, trial: 2, scan: 0, frame: 0 });
    expect(await Session.restrict({ session_idx: 99 }).delete({ prompt: false })).toBe(0);
  });

  it('enforces part integrity, or cascades to the master, or ignores it', async () => {
    await expect(Session.Trial.restrict({ trial_idx: 2 }).delete({ prompt: false })).rejects.toBeInstanceOf(dj.IntegrityError);
    await expect(Session.Trial.delete({ prompt: false })).rejects.toThrow(/without their master rows/);
    expect(await counts()).toEqual({ lab: 2, subject: 3, session: 4, trial: 5, scan: 2, frame: 3 });
    // Deleting a trial row referenced by a Frame part (of another master) cascades there too.
    expect(await Session.Trial.restrict({ lab: 'a', subject_id: 1, session_idx: 1, trial_idx: 2 }).delete({ prompt: false, partIntegrity: 'ignore' })).toBe(1);
    expect(await counts()).toEqual({ lab: 2, subject: 3, session: 4, trial: 4, scan: 2, frame: 2 });
    // cascade: the master rows of the deleted parts go too (with all their parts).
    expect(await Session.Trial.restrict({ lab: 'b' }).delete({ prompt: false, partIntegrity: 'cascade' })).toBe(1);
    expect(await counts()).toEqual({ lab: 2, subject: 3, session: 3, trial: 3, scan: 1, frame: 1 });
    await expect(Session.delete({ partIntegrity: 'sometimes' as never })).rejects.toThrow(/partIntegrity/);
  });

  it('rolls back every level when a statement fails midway', async () => {
    // A table outside the cascade's view (no FK) whose trigger fails deletion of session rows.
    const conn = dj.conn();
    const db = schema.database;
    const session = conn.dialect.fullName(db, 'session');
    if (BACKEND === 'mysql')
      await conn.execute(`CREATE TRIGGER \`${db}\`.block_session BEFORE DELETE ON ${session} FOR EACH ROW
        BEGIN IF OLD.lab = 'b' THEN SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'blocked'; END IF; END`);
    else {
      await conn.execute(`CREATE OR REPLACE FUNCTION "${db}".block_session() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN IF OLD.lab = 'b' THEN RAISE EXCEPTION 'blocked'; END IF; RETURN OLD; END $$`);
      await conn.execute(`CREATE TRIGGER block_session BEFORE DELETE ON ${session} FOR EACH ROW EXECUTE FUNCTION "${db}".block_session()`);
    }
    try {
      await expect(Lab.delete({ prompt: false })).rejects.toThrow(/blocked/);
      expect(await counts()).toEqual({ lab: 2, subject: 3, session: 4, trial: 5, scan: 2, frame: 3 });
    } finally {
      await conn.execute(BACKEND === 'mysql' ? `DROP TRIGGER \`${db}\`.block_session` : `DROP TRIGGER block_session ON ${session}`);
    }
  });

  it('deleteQuick does not cascade and fails on referenced rows', async () => {
    await expect(Subject.restrict({ subject_id: 1 }).deleteQuick()).rejects.toBeInstanceOf(dj.IntegrityError);
    expect(await Scan.Frame.restrict({ frame: 1 }).deleteQuick()).toBe(1);
    expect(await counts()).toEqual({ lab: 2, subject: 3, session: 4, trial: 5, scan: 2, frame: 2 });
  });

  it('deleteQuick and delete respect a Top: only the rows it selects go', async () => {
    expect(await Scan.Frame.restrict(dj.top(1, 'frame DESC')).deleteQuick()).toBe(1);
    expect(await Scan.Frame.count()).toBe(2);
    expect(await Session.Trial.restrict(dj.top(2, 'KEY')).restrict({ ok: true }).delete({ prompt: false, partIntegrity: 'ignore' })).toBe(1);
    expect(await Session.Trial.count()).toBe(4);
  });

  it('refuses inserts with missing parents', async () => {
    await expect(Session.insert1(['zzz', 1, 1])).rejects.toBeInstanceOf(dj.IntegrityError);
    await expect(Session.Trial.insert1(['a', 1, 9, 1, true])).rejects.toThrow(/Foreign key constraint/);
  });

  it('deleteQuick of a referenced row is a ReferencedRowError (an IntegrityError)', async () => {
    const err = await Subject.restrict({ subject_id: 1 }).deleteQuick().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(dj.ReferencedRowError);
    expect(err).toBeInstanceOf(dj.IntegrityError);
  });

  it('a row inserted under a row being deleted (another session, committed meanwhile) is deleted with it', async () => {
    // Another session (a make) inserts a session of subject 2 and holds its transaction open.
    let finish!: () => void;
    const held = new Promise<void>((r) => (finish = r));
    let inserted!: () => void;
    const holding = new Promise<void>((r) => (inserted = r));
    const other = dj.conn().transaction(async () => {
      await Session.insert1(['a', 2, 9]);
      inserted();
      await held;
    });
    await Promise.race([holding, other]);
    // The delete plans without the uncommitted session; it commits while the delete runs.
    const deleting = Subject.restrict({ subject_id: 2 }).delete({ prompt: false });
    setTimeout(finish, 300);
    await other;
    expect(await deleting).toBe(1);
    expect(await Session.restrict({ subject_id: 2 }).count()).toBe(0);
    expect(await Subject.restrict({ subject_id: 2 }).count()).toBe(0);
  });

  it('joins the caller transaction when already inside one', async () => {
    const conn = dj.conn();
    await expect(
      conn.transaction(async () => {
        await Subject.restrict({ subject_id: 2 }).delete({ prompt: false });
        expect(await Subject.count()).toBe(2);
        throw new Error('abort');
      }),
    ).rejects.toThrow('abort');
    expect(await counts()).toEqual({ lab: 2, subject: 3, session: 4, trial: 5, scan: 2, frame: 3 });
  });
});

describe('drop', () => {
  it('drops a master with its parts and dependents; a part cannot be dropped alone', async () => {
    const s = await freshSchema('drop');
    class A extends dj.Manual {
      static definition = `a : int32`;
      static P = class extends dj.Part {
        static definition = `-> master\np : int32`;
      };
    }
    class B extends dj.Manual {
      static definition = `-> A\nb : int32`;
    }
    s.add(A);
    s.add(B);
    await s.declare();
    expect((await s.listTables()).sort()).toEqual(['a', 'a__p', 'b']);
    await expect(A.P.drop({ prompt: false })).rejects.toThrow(/Cannot drop part table/);
    await A.restrict({ a: 1 }).drop().catch((e: Error) => expect(e.message).toMatch(/restricted/));
    await A.drop({ prompt: false });
    expect(await s.listTables()).toEqual([]);
    expect(Object.keys(await s.lineage())).toEqual([]);
    // Declared again lazily on next use.
    await B.insert([], {});
    expect((await s.listTables()).sort()).toEqual(['a', 'a__p', 'b']);
    await s.drop({ prompt: false });
    expect(await dj.listSchemas()).not.toContain(s.database);
  });
});
