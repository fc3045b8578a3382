// Dropping schemas and tables: what a drop may take with it (only its own data), and that what
// was dropped on purpose stays dropped until the class itself is used again.
import { afterAll, describe, expect, it } from 'vitest';
import { dj, freshSchema, cleanup } from './helpers.js';

const made: dj.SchemaDecorator[] = [];
const fresh = async (name: string) => {
  const s = await freshSchema(name);
  made.push(s);
  return s;
};
const exists = async (s: dj.SchemaDecorator) => (await dj.listSchemas()).includes(s.database);

afterAll(async () => {
  await cleanup(...made);
});

describe('schema.drop', () => {
  it('refuses while a table of another schema references it, naming that table; nothing is dropped', async () => {
    const up = await fresh('drop_up');
    const down = await fresh('drop_down');
    class Subject extends dj.Manual {
      static definition = 'subject_id : int32';
    }
    up.add(Subject);
    class Session extends dj.Manual {
      static definition = '-> Subject\nsession_idx : int16';
    }
    class Unrelated extends dj.Manual {
      static definition = 'u : int32';
    }
    const downstream = dj.schema(down.database, { context: { Subject } });
    downstream.add(Session);
    downstream.add(Unrelated);
    await Subject.insert1({ subject_id: 1 });
    await Session.insert1({ subject_id: 1, session_idx: 1 });
    await Unrelated.insert1({ u: 1 });

    const err = await up.drop({ prompt: false }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(dj.errors.IntegrityError);
    expect((err as Error).message).toMatch(/other schemas reference it/);
    expect((err as Error).message).toContain('session');
    expect(await exists(up)).toBe(true);
    expect((await downstream.listTables()).sort()).toEqual(['session', 'unrelated']);
    expect(await Session.count()).toBe(1);
    expect(await Subject.count()).toBe(1);

    // Downstream first, then the schema it referenced.
    await downstream.drop({ prompt: false });
    await up.drop({ prompt: false });
    expect(await exists(up)).toBe(false);
    expect(await exists(downstream)).toBe(false);
  });

  it('a dropped schema is not created again by another schema’s transaction (rebuildLineage, a cascading delete)', async () => {
    const a = await fresh('drop_gone');
    const b = await fresh('drop_other');
    class Gone extends dj.Manual {
      static definition = 'gone_id : int32';
    }
    a.add(Gone);
    await Gone.insert1({ gone_id: 1 });
    await a.drop({ prompt: false });
    expect(await exists(a)).toBe(false);

    class Other extends dj.Manual {
      static definition = 'other_id : int32';
    }
    b.add(Other);
    await Other.insert1({ other_id: 1 });
    await b.rebuildLineage();
    await Other.delete({ prompt: false });
    await dj.conn().transaction(async () => {
      await Other.insert1({ other_id: 2 });
    });
    expect(await exists(a)).toBe(false);

    // The class's own use declares it again, as any first use does.
    await Gone.insert1({ gone_id: 2 });
    expect(await exists(a)).toBe(true);
    expect(await Gone.count()).toBe(1);
  });

  it('a dropped table is not created again by a later transaction; its own use declares it', async () => {
    const s = await fresh('drop_table');
    class Kept extends dj.Manual {
      static definition = 'kept_id : int32';
    }
    class Dropped extends dj.Manual {
      static definition = 'dropped_id : int32';
    }
    s.add(Kept);
    s.add(Dropped);
    await Dropped.insert1({ dropped_id: 1 });
    await Dropped.drop({ prompt: false });
    expect(await s.listTables()).not.toContain('dropped');
    await dj.conn().transaction(async () => {
      await Kept.insert1({ kept_id: 1 });
    });
    expect(await s.listTables()).toEqual(['kept']);
    expect(await Dropped.count()).toBe(0);
    expect((await s.listTables()).sort()).toEqual(['dropped', 'kept']);
  });
});
