/**
 * Issue 10 §2: part tables as DataJoint Python allows them. Scenarios from DataJoint Python
 * 2.3's integration tests (test_cascade_integrity.py: a part referencing its master below
 * `---`; the enforce check rolling back) and from its declaration context (a part's
 * definition sees `master`, the master's class name and the module's names: `-> master.PartA`
 * reaches a sibling, `-> Type` the module's `Type`). No Python runtime with DataJoint is
 * available here: behaviour read from its sources and tests.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dj, freshSchema, cleanup } from '../helpers.js';

let schema: dj.SchemaDecorator;

class Session extends dj.Manual {
  static definition = `
  session : int32
  `;
  // Declared out of dependency order on purpose: PartC needs PartB, which needs PartA.
  static PartC = class extends dj.Part {
    static definition = `
    -> master.PartB
    c_idx : int32
    `;
  };
  static PartA = class extends dj.Part {
    static definition = `
    -> master
    a_idx : int32
    `;
  };
  static PartB = class extends dj.Part {
    static definition = `
    -> master.PartA
    b_idx : int32
    `;
  };
  static PartR = class extends dj.Part {
    static definition = `
    -> master
    r_idx : int32
    ---
    -> master.PartA.proj(ref_a='a_idx')
    `;
  };
}

class Ext extends dj.Manual {
  static definition = `
  ext_id : int32
  `;
}

/** A part whose reference to its master is below `---` (Python's test_upward_u3_nonprimary_master_fk). */
class Holder extends dj.Manual {
  static definition = `
  master_id : int32
  `;
  static P = class extends dj.Part {
    static definition = `
    -> Ext
    part_id : int32
    ---
    -> master
    `;
  };
}

class Type extends dj.Lookup {
  static definition = `
  type_id : int32
  ---
  type_name : varchar(16)
  `;
  static contents = [
    [1, 'one'],
    [2, 'two'],
  ];
}

/** A master with a part named like a schema table: `-> Type` means the schema's Type. */
class Experiment extends dj.Manual {
  static definition = `
  experiment_id : int32
  ---
  -> Type
  `;
  static Type = class extends dj.Part {
    static definition = `
    -> master
    -> Type
    ---
    weight : float64
    `;
  };
}

/** Used only through its part first (no other call touches Visit before). */
class Visit extends dj.Manual {
  static definition = `
  visit_id : int32
  `;
  static Stop = class extends dj.Part {
    static definition = `
    -> master
    stop_idx : int32
    `;
  };
}

beforeAll(async () => {
  schema = await freshSchema('parts');
  for (const c of [Session, Ext, Holder, Type, Experiment, Visit]) schema.add(c);
});
afterAll(() => cleanup(schema));

async function fillSessions() {
  await Session.insert([{ session: 1 }, { session: 2 }]);
  await Session.PartA.insert([
    { session: 1, a_idx: 1 },
    { session: 1, a_idx: 2 },
    { session: 2, a_idx: 1 },
  ]);
  await Session.PartB.insert([
    { session: 1, a_idx: 1, b_idx: 1 },
    { session: 2, a_idx: 1, b_idx: 1 },
  ]);
  await Session.PartC.insert([
    { session: 1, a_idx: 1, b_idx: 1, c_idx: 1 },
    { session: 2, a_idx: 1, b_idx: 1, c_idx: 1 },
  ]);
  await Session.PartR.insert([
    { session: 1, r_idx: 1, ref_a: 2 },
    { session: 2, r_idx: 1, ref_a: 1 },
  ]);
}

const counts = async () => [await Session.count(), await Session.PartA.count(), await Session.PartB.count(), await Session.PartC.count(), await Session.PartR.count()];

describe('sibling parts (-> master.PartA), renamed, chains of three', () => {
  it('declares the parts in dependency order with their foreign keys', async () => {
    await Session.declare();
    expect(await Session.PartB.parents()).toEqual([Session.PartA.fullTableName]);
    expect(await Session.PartC.parents()).toEqual([Session.PartB.fullTableName]);
    expect((await Session.PartR.heading()).primaryKey).toEqual(['session', 'r_idx']);
    expect((await Session.PartR.heading()).secondaryAttributes).toEqual(['ref_a']);
    expect(await Session.PartB.describe()).toMatch(/-> Session\.PartA\n/);
    expect(await Session.PartR.describe()).toMatch(/-> Session\.PartA\.proj\(ref_a='a_idx'\)/);
  });

  it('refuses rows whose sibling row is missing', async () => {
    await Session.insert1({ session: 9 });
    await expect(Session.PartB.insert1({ session: 9, a_idx: 1, b_idx: 1 })).rejects.toThrow(dj.IntegrityError);
    await Session.restrict({ session: 9 }).delete({ prompt: false });
  });

  it('deleting master rows cascades through every part and chain', async () => {
    await fillSessions();
    expect(await Session.restrict({ session: 1 }).delete({ prompt: false })).toBe(1);
    expect(await counts()).toEqual([1, 1, 1, 1, 1]);
    await Session.delete({ prompt: false });
    expect(await counts()).toEqual([0, 0, 0, 0, 0]);
  });

  it('part integrity: enforce refuses (and rolls back), ignore deletes parts only, cascade deletes their masters', async () => {
    await fillSessions();
    await expect(Session.PartA.restrict({ session: 1, a_idx: 1 }).delete({ prompt: false })).rejects.toThrow(dj.IntegrityError);
    expect(await counts()).toEqual([2, 3, 2, 2, 2]);
    // ignore: PartA (1,2) goes with what references it (PartR row ref_a=2), masters stay.
    expect(await Session.PartA.restrict({ session: 1, a_idx: 2 }).delete({ prompt: false, partIntegrity: 'ignore' })).toBe(1);
    expect(await counts()).toEqual([2, 2, 2, 2, 1]);
    // cascade: deleting a chain's tail row deletes its master, hence every part row of session 2.
    await Session.PartC.restrict({ session: 2 }).delete({ prompt: false, partIntegrity: 'cascade' });
    expect(await Session.keys()).toEqual([{ session: 1 }]);
    expect(await counts()).toEqual([1, 1, 1, 1, 0]);
    await Session.delete({ prompt: false });
  });
});

describe('a part referencing its master below ---', () => {
  it('declares and inserts', async () => {
    await Ext.insert([{ ext_id: 1 }, { ext_id: 2 }]);
    await Holder.insert([{ master_id: 1 }, { master_id: 2 }]);
    await Holder.P.insert([
      { ext_id: 1, part_id: 10, master_id: 1 },
      { ext_id: 2, part_id: 20, master_id: 2 },
    ]);
    expect((await Holder.P.heading()).primaryKey).toEqual(['ext_id', 'part_id']);
    expect(await Holder.P.describe()).toMatch(/---\n-> master\n/);
  });

  it('enforce: a cascade that reaches the part but not its master raises and deletes nothing', async () => {
    await expect(Ext.restrict({ ext_id: 1 }).delete({ prompt: false })).rejects.toThrow(dj.IntegrityError);
    expect([await Ext.count(), await Holder.count(), await Holder.P.count()]).toEqual([2, 2, 2]);
  });

  it('cascade: only the master of the reached part row is deleted', async () => {
    await Ext.restrict({ ext_id: 1 }).delete({ prompt: false, partIntegrity: 'cascade' });
    expect(await Holder.keys()).toEqual([{ master_id: 2 }]);
    expect(await Holder.P.keys()).toEqual([{ ext_id: 2, part_id: 20 }]);
    expect(await Ext.keys()).toEqual([{ ext_id: 2 }]);
  });
});

describe('-> Type inside a master that has a part named Type', () => {
  it('resolves to the schema table Type, in the master and in the part', async () => {
    await Experiment.declare();
    expect(Experiment.Type.tableName).toBe('experiment__type');
    expect(await Experiment.parents()).toEqual([Type.fullTableName]);
    expect((await Experiment.Type.parents()).sort()).toEqual([Experiment.fullTableName, Type.fullTableName].sort());
    await Experiment.insert1({ experiment_id: 1, type_id: 2 });
    await Experiment.Type.insert1({ experiment_id: 1, type_id: 1, weight: 0.5 });
    expect(await Experiment.Type.join(Type).fetch1('type_name')).toBe('one');
  });
});

describe('a part used before its master was touched', () => {
  it('Visit.Stop.count() as the first call declares the master and its parts', async () => {
    expect(await Visit.Stop.count()).toBe(0);
    expect(await schema.listTables()).toEqual(expect.arrayContaining(['visit', 'visit__stop']));
    await Visit.insert1({ visit_id: 1 });
    await Visit.Stop.insert1({ visit_id: 1, stop_idx: 1 });
    expect(await Visit.Stop.fetch1('stop_idx')).toBe(1);
  });

  it('a part dropped alone is declared again on its next use', async () => {
    await Visit.Stop.drop({ prompt: false, partIntegrity: 'ignore' });
    expect(await schema.listTables()).not.toContain('visit__stop');
    expect(await Visit.Stop.count()).toBe(0);
    expect(await schema.listTables()).toContain('visit__stop');
  });
});

describe('drop({ partIntegrity }) accepts only enforce and ignore', () => {
  it('refuses cascade, a typo, and a part alone under enforce, dropping nothing', async () => {
    const before = await schema.listTables();
    await expect(Session.PartA.drop({ prompt: false, partIntegrity: 'cascade' as never })).rejects.toThrow(/partIntegrity must be 'enforce' or 'ignore'/);
    await expect(Session.drop({ prompt: false, partIntegrity: 'ignroe' as never })).rejects.toThrow(/partIntegrity must be 'enforce' or 'ignore'/);
    await expect(Session.PartA.drop({ prompt: false })).rejects.toThrow(/Cannot drop part table/);
    const free = await schema.getTable('Session.PartA');
    await expect(free.drop({ prompt: false, partIntegrity: 'cascade' as never })).rejects.toThrow(/partIntegrity must be 'enforce' or 'ignore'/);
    expect(await schema.listTables()).toEqual(before);
  });
});
