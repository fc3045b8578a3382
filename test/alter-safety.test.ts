// alter() never loses data nor claims a change it did not make: narrowing a column below its
// values is refused on every backend, two attributes can swap names, and a foreign key's
// options (nullable, unique) are among the structural changes it refuses.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKEND, dj, freshSchema, cleanup } from './helpers.js';

let schema: dj.SchemaDecorator;
class Parent extends dj.Manual {
  static definition = 'parent_id : int32';
}
class Note extends dj.Manual {
  static definition = 'note_id : int32\n---\nname : varchar(10)\na = 0 : int32\nb = 0 : int32';
}
class Child extends dj.Manual {
  static definition = 'child_id : int32\n---\n-> [nullable] Parent\nremark = "" : varchar(8)';
}

beforeAll(async () => {
  schema = await freshSchema('alter_safety');
  schema.add(Parent);
  schema.add(Note);
  schema.add(Child);
  await schema.declare(); // as defined above: each test then changes a definition and alters
  await Note.insert1({ note_id: 1, name: 'hello', a: 10, b: 20 });
});
afterAll(async () => {
  await cleanup(schema);
});

describe('alter()', () => {
  it('refuses to narrow a column below a value it holds, and changes nothing', async () => {
    const original = Note.definition;
    Note.definition = original.replace('varchar(10)', 'varchar(3)');
    const err = await Note.alter({ prompt: false }).catch((e: unknown) => e);
    Note.definition = original;
    expect(err).toBeInstanceOf(dj.DataJointError);
    expect(await Note.fetch1('name')).toBe('hello');
    expect((await Note.heading()).attributes.name!.type).toBe('varchar(10)');
    // Wide enough for every value: done.
    Note.definition = original.replace('varchar(10)', 'varchar(5)');
    expect((await Note.alter({ prompt: false })).length).toBeGreaterThan(0);
    expect(await Note.fetch1('name')).toBe('hello');
    Note.definition = original;
    await Note.alter({ prompt: false });
  });

  it('says what to change when rows hold no value for an attribute the definition makes required', async () => {
    const original = Note.definition;
    try {
      // Added without a default: MySQL fills the rows with the type's zero (as for DataJoint
      // Python); PostgreSQL refuses.
      Note.definition = `${original}\nextra : int32`;
      if (BACKEND === 'mysql') {
        await Note.alter({ prompt: false });
        expect(await Note.fetch1('extra')).toBe(0);
      } else {
        const err = (await Note.alter({ prompt: false }).then(() => null, (e: unknown) => e)) as Error | null;
        expect(err).toBeInstanceOf(dj.errors.IntegrityError);
        expect(err!.message).toMatch(/alter cannot change .*note.*: rows of it hold no value for an attribute the new definition requires .*Give the attribute a default/);
        expect(Object.keys((await Note.heading()).attributes)).not.toContain('extra');
      }
      // Nullable with NULLs stored, then made required: refused alike on every backend.
      Note.definition = `${original}\nlater = null : int32`;
      await Note.alter({ prompt: false });
      Note.definition = `${original}\nlater : int32`;
      const err = (await Note.alter({ prompt: false }).then(() => null, (e: unknown) => e)) as Error | null;
      expect(err).toBeInstanceOf(dj.errors.IntegrityError);
      expect(err!.message).toMatch(/rows of it hold no value for an attribute the new definition requires/);
      expect(await Note.fetch1('later')).toBeNull();
    } finally {
      Note.definition = original;
      await Note.alter({ prompt: false });
    }
  });

  it('swaps the names of two attributes, keeping each one’s values', async () => {
    const original = Note.definition;
    Note.definition = original.replace('a = 0 : int32\nb = 0 : int32', 'b = 0 : int32  # {a}\na = 0 : int32  # {b}');
    await Note.alter({ prompt: false });
    expect(await Note.toDicts()).toEqual([{ note_id: 1, name: 'hello', b: 10, a: 20 }]);
    Note.definition = original.replace('a = 0 : int32\nb = 0 : int32', 'a = 0 : int32  # {b}\nb = 0 : int32  # {a}');
    await Note.alter({ prompt: false });
    expect(await Note.toDicts()).toEqual([{ note_id: 1, name: 'hello', a: 10, b: 20 }]);
    Note.definition = original;
    expect(await Note.alter({ prompt: false })).toEqual([]);
  });

  it('adds an attribute where the definition puts it, or, where the server can only append (PostgreSQL), at the end and says so', async () => {
    const original = Note.definition;
    Note.definition = original.replace('a = 0 : int32\n', 'a = 0 : int32\nmid = 0 : int32\n');
    const warnings: string[] = [];
    const listen = (w: Error) => void warnings.push(w.message);
    process.on('warning', listen);
    try {
      await Note.alter({ prompt: false });
      await new Promise((r) => setImmediate(r)); // warnings are emitted on the next tick
    } finally {
      process.off('warning', listen);
    }
    const order = BACKEND === 'mysql' ? ['note_id', 'name', 'a', 'mid', 'b'] : ['note_id', 'name', 'a', 'b', 'mid'];
    expect((await Note.heading()).names).toEqual(order);
    if (BACKEND === 'mysql') expect(warnings.filter((w) => w.includes('cannot place'))).toEqual([]);
    else expect(warnings).toContainEqual(expect.stringMatching(/alter adds `mid` at the end of .*, after `b`: this backend cannot place a new column/));
    // Rows given as arrays follow the table's order, whichever it is.
    await Note.insert([[2, 'rows', 1, 2, 3]]);
    expect(await Note.restrict({ note_id: 2 }).toDicts()).toEqual([Object.fromEntries(order.map((k, i) => [k, [2, 'rows', 1, 2, 3][i]]))]);
    await Note.restrict({ note_id: 2 }).delete({ prompt: false });
    Note.definition = original;
    await Note.alter({ prompt: false });
    expect((await Note.heading()).names).toEqual(['note_id', 'name', 'a', 'b']);
  });

  it('refuses to change the options of a foreign key (it said nothing and changed nothing)', async () => {
    const original = Child.definition;
    for (const options of ['', '[nullable, unique] ', '[unique] ']) {
      Child.definition = original.replace('[nullable] ', options);
      await expect(Child.alter({ prompt: false })).rejects.toThrow(/cannot change the options \(nullable, unique\) of the foreign keys/);
    }
    Child.definition = original;
    expect(await Child.alter({ prompt: false })).toEqual([]);
    expect(await Child.describe()).toContain('-> [nullable] Parent');
  });
});
