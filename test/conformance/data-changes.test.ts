/**
 * Issue 10 §3–§4: table names as DataJoint Python derives them, and data changes as in
 * DataJoint Python (test_insert.py, test_skip_duplicates.py, autoincrement in schema.py):
 * an INSERT … SELECT with skipDuplicates, chunkSize refused for a query, native
 * `int auto_increment`. Read from its sources and tests; no Python runtime with DataJoint here.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dj, freshSchema, cleanup } from '../helpers.js';

let schema: dj.SchemaDecorator;

class ProcessedEMG extends dj.Manual {
  static definition = `
  emg_id : int32
  ---
  value : float64
  `;
}
class IJ extends dj.Lookup {
  static definition = `
  i : int32
  j : int32
  `;
  static contents = [[1, 2]];
}
class Source extends dj.Manual {
  static definition = `
  id : int32
  ---
  name : varchar(16)
  `;
}
class Target extends dj.Manual {
  static definition = `
  id : int32
  ---
  name : varchar(16)
  `;
}
class Counter extends dj.Manual {
  static definition = `
  # auto-incremented ids, as DataJoint Python's test schema declares them
  id : int auto_increment
  ---
  note = '' : varchar(16)
  `;
}

// Registered tables are declared before the first transaction begins (no DDL inside one), so
// a declaration's warnings may come before the test that declares the table: collected from the start.
const warnings: string[] = [];
const onWarning = (w: Error) => warnings.push(w.message);

beforeAll(async () => {
  process.on('warning', onWarning);
  schema = await freshSchema('changes');
  for (const c of [ProcessedEMG, IJ, Source, Target, Counter]) schema.add(c);
});
afterAll(async () => {
  process.off('warning', onWarning);
  await cleanup(schema);
});

describe('table names derived as DataJoint Python derives them', () => {
  it('ProcessedEMG → processed_e_m_g, IJ → #i_j, and back to the class names', async () => {
    expect(ProcessedEMG.tableName).toBe('processed_e_m_g');
    expect(IJ.tableName).toBe('#i_j');
    await ProcessedEMG.insert1({ emg_id: 1, value: 0.5 });
    await IJ.declare();
    expect(await schema.listTables()).toEqual(expect.arrayContaining(['processed_e_m_g', '#i_j']));
    const vs = await dj.virtualSchema(schema.database);
    expect(Object.keys(vs)).toEqual(expect.arrayContaining(['ProcessedEMG', 'IJ']));
    expect(await vs.ProcessedEMG!.fetch1('value')).toBe(0.5);
    expect((await schema.getTable('ProcessedEMG')).tableName).toBe('processed_e_m_g');
  });
});

describe('insert from a query', () => {
  it('skipDuplicates skips rows whose primary key exists, also in INSERT … SELECT', async () => {
    await Source.insert([
      { id: 1, name: 'a' },
      { id: 2, name: 'b' },
      { id: 3, name: 'c' },
    ]);
    await Target.insert1({ id: 2, name: 'kept' });
    expect(await Target.insert(Source, { skipDuplicates: true })).toBeGreaterThanOrEqual(2);
    expect(await Target.toDicts({ orderBy: 'id' })).toEqual([
      { id: 1, name: 'a' },
      { id: 2, name: 'kept' },
      { id: 3, name: 'c' },
    ]);
    // Again: everything exists, nothing changes, no error.
    await Target.insert(Source.restrict('id > 1'), { skipDuplicates: true });
    expect(await Target.count()).toBe(3);
    await expect(Target.insert(Source)).rejects.toThrow(dj.DuplicateError);
  });

  it('inserting a table into itself through a query with skipDuplicates is a no-op', async () => {
    await Target.insert(Target, { skipDuplicates: true });
    expect(await Target.count()).toBe(3);
  });

  it('replace overwrites rows from a query', async () => {
    await Target.insert(Source.restrict({ id: 2 }), { replace: true });
    expect(await Target.restrict({ id: 2 }).fetch1('name')).toBe('b');
  });

  it('chunkSize with a query is an error and writes nothing', async () => {
    await Target.delete({ prompt: false });
    await expect(Target.insert(Source, { chunkSize: 1 })).rejects.toThrow(/chunkSize does not apply to a query/);
    expect(await Target.count()).toBe(0);
  });
});

describe('native int auto_increment', () => {
  it('declares with a warning', async () => {
    await Counter.declare();
    await new Promise((r) => setImmediate(r));
    expect(warnings.some((w) => /Native type "int auto_increment"/.test(w))).toBe(true);
    expect((await Counter.heading()).attributes.id!.autoIncrement).toBe(true);
  });

  it('insert1({}) yields ids 1, 2, 3; an explicit id is kept; null means the next id', async () => {
    await Counter.insert1({});
    await Counter.insert1({});
    await Counter.insert1({ note: 'third' });
    expect(await Counter.toArrays('id')).toEqual(Int32Array.from([1, 2, 3]));
    await Counter.insert1({ id: 10, note: 'explicit' });
    expect(await Counter.restrict({ id: 10 }).fetch1('note')).toBe('explicit');
    await Counter.insert1({ id: null, note: 'next' });
    expect(await Counter.count()).toBe(5);
    expect(await Counter.restrict({ note: 'next' }).fetch1('id')).toBeGreaterThan(3);
  });

  it('describe() gives the definition back', async () => {
    // The native type as the server reports it (int on MySQL, integer on PostgreSQL): it declares again.
    expect(await Counter.describe()).toMatch(/^id : (int|integer) auto_increment$/m);
  });
});
