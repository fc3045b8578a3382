/**
 * Issue 10 §6: the API.md names that were missing: alter() (scenarios of DataJoint Python's
 * test_alter.py and schema_alter.py), parents/children/ancestors/descendants/parts (ordered as
 * its dependencies.py orders them), head/tail, toArrays(..., { includeKey: true }). Behaviour
 * read from DataJoint Python's sources; no Python runtime with DataJoint is available here.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKEND, dj, freshSchema, cleanup } from '../helpers.js';

let schema: dj.SchemaDecorator;

class Subject extends dj.Manual {
  static definition = `
  subject_id : int32
  `;
}
class User extends dj.Lookup {
  static definition = `
  username : varchar(16)
  `;
  static contents = [['alice']];
}
const ORIGINAL = `  # information about experiments
  -> Subject
  experiment_id : int16  # experiment number for this subject
  ---
  experiment_date : date  # date when experiment was started
  -> [nullable] User
  data_path = "" : varchar(255)  # file path to recorded data
  notes = "" : varchar(2048)  # e.g. purpose of experiment
  entry_time = CURRENT_TIMESTAMP : datetime  # automatic timestamp
  `;
const DEFINITION1 = `  # Experiment
  -> Subject
  experiment_id : int16  # experiment number for this subject
  ---
  data_path : int32  # some number
  extra = null : <blob>  # just testing
  -> [nullable] User
  subject_notes = null : varchar(2048)  # {notes} e.g. purpose of experiment
  entry_time = CURRENT_TIMESTAMP : datetime  # automatic timestamp
  `;
class Experiment extends dj.Manual {
  static definition = ORIGINAL;
}
class Parent extends dj.Manual {
  static definition = `
  parent_id : int32
  `;
  static Child = class extends dj.Part {
    static definition = `
    -> Parent
    `;
  };
  static Grandchild = class extends dj.Part {
    static definition = `
    -> master.Child
    `;
  };
}
class Item extends dj.Manual {
  static definition = `
  item_id : int32
  ---
  a : int32
  b : varchar(8)
  `;
}

beforeAll(async () => {
  schema = await freshSchema('apinames');
  for (const c of [Subject, User, Experiment, Parent, Item]) schema.add(c);
  await schema.declare();
  await Item.insert(Array.from({ length: 30 }, (_, i) => ({ item_id: i + 1, a: 100 - i, b: `b${i + 1}` })));
});
afterAll(() => cleanup(schema));

/** The table as the server shows it: SHOW CREATE TABLE on MySQL, catalog reads on PostgreSQL. */
async function shape(t: { fullTableName: string; database: string; tableName: string }): Promise<unknown> {
  const conn = dj.conn();
  if (BACKEND === 'mysql') return (await conn.query(`SHOW CREATE TABLE ${t.fullTableName}`))[0]!['Create Table'];
  // PostgreSQL cannot place a column: compare the columns as a set.
  const cols = await conn.catalog.columns(t.database, t.tableName);
  const table = (await conn.catalog.listTables(t.database)).find((x) => x.name === t.tableName);
  return { comment: table?.comment, columns: [...cols].sort((x, y) => x.name.localeCompare(y.name)) };
}

describe('alter()', () => {
  it('changes, adds, drops and renames secondary attributes and the comment, and restores them', async () => {
    const original = await shape(Experiment);
    Experiment.definition = DEFINITION1;
    const statements = await Experiment.alter({ prompt: false });
    expect(statements.length).toBeGreaterThan(0);
    const altered = await shape(Experiment);
    expect(altered).not.toEqual(original);
    const h = await Experiment.heading();
    expect(h.secondaryAttributes).toEqual(expect.arrayContaining(['data_path', 'extra', 'username', 'subject_notes', 'entry_time']));
    expect(h.secondaryAttributes).not.toContain('notes');
    expect(h.secondaryAttributes).not.toContain('experiment_date');
    expect(h.attributes.data_path!.type).toBe('int32');
    expect(h.attributes.subject_notes!.comment).toBe('e.g. purpose of experiment');
    expect(await Experiment.describe()).toMatch(/^# Experiment$/m);
    // Nothing more to do: alter() again changes nothing.
    expect(await Experiment.alter({ prompt: false })).toEqual([]);
    Experiment.definition = ORIGINAL;
    await Experiment.alter({ prompt: false });
    expect(await shape(Experiment)).toEqual(original);
  });

  it('keeps the data of a renamed attribute', async () => {
    await Subject.insert1({ subject_id: 1 }, { skipDuplicates: true });
    await Experiment.insert1({ subject_id: 1, experiment_id: 1, experiment_date: '2024-01-01', notes: 'keep me' });
    Experiment.definition = ORIGINAL.replace('notes = "" : varchar(2048)  # e.g.', 'remarks = "" : varchar(2048)  # {notes} e.g.');
    await Experiment.alter({ prompt: false });
    expect(await Experiment.fetch1('remarks')).toBe('keep me');
    // Renamed back: the data stays (without `{remarks}`, remarks would be dropped and notes added).
    Experiment.definition = ORIGINAL.replace('# e.g. purpose', '# {remarks} e.g. purpose');
    expect((await Experiment.alter({ prompt: false })).length).toBeGreaterThan(0);
    expect(await Experiment.fetch1('notes')).toBe('keep me');
    Experiment.definition = ORIGINAL;
    expect(await Experiment.alter({ prompt: false })).toEqual([]);
    await Experiment.delete({ prompt: false });
  });

  it('alters part tables (DataJoint Python issue 936), referenced as -> Parent and -> master.Child', async () => {
    for (const [part, attr] of [[Parent.Child, 'child_id'], [Parent.Grandchild, 'grandchild_id']] as const) {
      const before = await shape(part);
      const definition = part.definition!;
      part.definition = `${definition}\n---\n${attr} = null : int32\n`;
      await part.alter({ prompt: false });
      expect((await part.heading()).secondaryAttributes).toEqual([attr]);
      part.definition = definition;
      await part.alter({ prompt: false });
      expect(await shape(part)).toEqual(before);
    }
  });

  it('refuses changes of the primary key, foreign keys and indexes, changing nothing', async () => {
    const before = await shape(Item);
    const definition = Item.definition;
    for (const changed of [
      definition.replace('item_id : int32', 'item_id : int64'),
      definition.replace('---', 'extra_key : int32\n---'),
      `${definition}\n-> [nullable] Subject\n`,
      `${definition}\nindex(a)\n`,
    ]) {
      Item.definition = changed;
      await expect(Item.alter({ prompt: false })).rejects.toThrow(/alter cannot change the (primary key|foreign keys|indexes)/);
    }
    Item.definition = definition;
    expect(await shape(Item)).toEqual(before);
    await expect(dj.conn().transaction(() => Item.alter({ prompt: false }))).rejects.toThrow(/inside a transaction/);
  });
});

describe('parents, children, ancestors, descendants, parts', () => {
  const n = (t: { fullTableName: string }) => t.fullTableName;

  it('lists full table names in DataJoint Python’s order', async () => {
    expect(await Experiment.parents()).toEqual(expect.arrayContaining([n(Subject), n(User)]));
    expect(await Experiment.parents({ primary: true })).toEqual([n(Subject)]);
    expect(await Experiment.parents({ primary: false })).toEqual([n(User)]);
    expect(await Subject.children()).toEqual([n(Experiment)]);
    expect(await Parent.children()).toEqual([n(Parent.Child)]);
    expect(await Parent.Child.children()).toEqual([n(Parent.Grandchild)]);
    expect(await Parent.parts()).toEqual(expect.arrayContaining([n(Parent.Child), n(Parent.Grandchild)]));
    expect(await Parent.parts()).toHaveLength(2);
    expect(await Parent.descendants()).toEqual([n(Parent), n(Parent.Child), n(Parent.Grandchild)]);
    // Ancestors: the table itself first, then its ancestors nearest first.
    expect(await Parent.Grandchild.ancestors()).toEqual([n(Parent.Grandchild), n(Parent.Child), n(Parent)]);
    expect(await Item.ancestors()).toEqual([n(Item)]);
  });

  it('returns FreeTables with { asObjects: true }', async () => {
    const tables: dj.FreeTable[] = await Subject.descendants({ asObjects: true });
    expect(tables.map((t) => t.fullTableName)).toEqual([n(Subject), n(Experiment)]);
    expect(tables[1]).toBeInstanceOf(dj.FreeTable);
    expect(await tables[1]!.count()).toBe(0);
    const parents = await new Experiment().parents({ asObjects: true });
    expect(parents.every((p) => p instanceof dj.FreeTable)).toBe(true);
  });
});

describe('head and tail', () => {
  it('give the first and last rows in primary-key order', async () => {
    expect((await Item.head()).map((r) => r.item_id)).toEqual(Array.from({ length: 25 }, (_, i) => i + 1));
    expect((await Item.head(3)).map((r) => r.item_id)).toEqual([1, 2, 3]);
    expect((await Item.tail(3)).map((r) => r.item_id)).toEqual([28, 29, 30]);
    expect((await Item.restrict('item_id < 10').tail(2)).map((r) => r.item_id)).toEqual([8, 9]);
    expect((await Item.tail()).length).toBe(25);
  });
});

describe('toArrays(..., { includeKey: true })', () => {
  it('returns the primary keys first, aligned with the columns', async () => {
    const [keys, a, b] = await Item.restrict('item_id <= 3').toArrays('a', 'b', { includeKey: true, orderBy: 'a' });
    expect(keys).toEqual([{ item_id: 3 }, { item_id: 2 }, { item_id: 1 }]);
    expect(a).toEqual(Int32Array.from([98, 99, 100]));
    expect(b).toEqual(['b3', 'b2', 'b1']);
    const [keys1, a1] = await Item.restrict({ item_id: 5 }).toArrays('a', { includeKey: true });
    expect(keys1).toEqual([{ item_id: 5 }]);
    expect(a1).toEqual(Int32Array.from([96]));
    // Without attribute names every column is returned anyway, keys included.
    expect(Object.keys(await Item.restrict({ item_id: 5 }).toArrays({ includeKey: true }))).toEqual(['item_id', 'a', 'b']);
  });
});
