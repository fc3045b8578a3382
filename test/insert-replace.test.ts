// insert({ replace: true }) means one thing on every backend: the stored row becomes exactly the
// row given (omitted attributes take their defaults), updated in place (rows of dependent
// tables stay), and a clash with another row on a secondary unique index is a DuplicateError.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { dj, freshSchema, cleanup } from './helpers.js';

let schema: dj.SchemaDecorator;
class Probe extends dj.Manual {
  static definition = `
    probe_id : int32
    ---
    name : varchar(16)
    score = 5 : int32
    note = null : varchar(16)
    code = null : int32
    unique index (code)
    `;
}
class Shank extends dj.Manual {
  static definition = `
    -> Probe
    shank : int32
    `;
}
class Source extends dj.Manual {
  static definition = 'probe_id : int32\n---\nname : varchar(16)';
}

beforeAll(async () => {
  schema = await freshSchema('insert_replace');
  for (const c of [Probe, Shank, Source]) schema.add(c);
});
afterAll(async () => {
  await cleanup(schema);
});
beforeEach(async () => {
  for (const t of [Shank, Probe, Source]) await t.deleteQuick();
});

const rows = () => Probe.toDicts({ orderBy: 'probe_id' });

describe('insert with replace', () => {
  it('resets attributes the row omits to their defaults', async () => {
    await Probe.insert1({ probe_id: 1, name: 'a', score: 9, note: 'old', code: 10 });
    await Probe.insert1({ probe_id: 1, name: 'b' }, { replace: true });
    expect(await rows()).toEqual([{ probe_id: 1, name: 'b', score: 5, note: null, code: null }]);
  });

  it('resets them per row when some rows of a batch give them', async () => {
    await Probe.insert([
      { probe_id: 1, name: 'a', score: 9, note: 'old', code: 10 },
      { probe_id: 2, name: 'b', score: 8, note: 'old', code: 20 },
    ]);
    await Probe.insert(
      [
        { probe_id: 1, name: 'c', note: 'new' },
        { probe_id: 2, name: 'd', score: 1 },
      ],
      { replace: true },
    );
    expect(await rows()).toEqual([
      { probe_id: 1, name: 'c', score: 5, note: 'new', code: null },
      { probe_id: 2, name: 'd', score: 1, note: null, code: null },
    ]);
  });

  it('replaces a row that has rows in a dependent table, which stay', async () => {
    await Probe.insert1({ probe_id: 1, name: 'a', score: 9 });
    await Shank.insert([{ probe_id: 1, shank: 0 }, { probe_id: 1, shank: 1 }]);
    await Probe.insert1({ probe_id: 1, name: 'b' }, { replace: true });
    expect(await rows()).toEqual([{ probe_id: 1, name: 'b', score: 5, note: null, code: null }]);
    expect(await Shank.count()).toBe(2);
  });

  it('refuses a row that meets another row on a secondary unique index', async () => {
    await Probe.insert([
      { probe_id: 1, name: 'a', code: 10 },
      { probe_id: 2, name: 'b', code: 20 },
    ]);
    const before = await rows();
    // A new key whose code another row has, and an existing key given another row's code.
    await expect(Probe.insert1({ probe_id: 3, name: 'c', code: 20 }, { replace: true })).rejects.toBeInstanceOf(dj.DuplicateError);
    await expect(Probe.insert1({ probe_id: 1, name: 'c', code: 20 }, { replace: true })).rejects.toBeInstanceOf(dj.DuplicateError);
    expect(await rows()).toEqual(before);
    // Its own value is no clash.
    await Probe.insert1({ probe_id: 2, name: 'd', code: 20 }, { replace: true });
    expect((await rows())[1]).toEqual({ probe_id: 2, name: 'd', score: 5, note: null, code: 20 });
  });

  it('keeps the last of rows with one key, defaults included', async () => {
    await Probe.insert1({ probe_id: 1, name: 'a', score: 9, code: 10 });
    await Probe.insert(
      [
        { probe_id: 1, name: 'b', score: 7, note: 'x' },
        { probe_id: 2, name: 'c', score: 6 },
        { probe_id: 1, name: 'd' },
      ],
      { replace: true },
    );
    expect(await rows()).toEqual([
      { probe_id: 1, name: 'd', score: 5, note: null, code: null },
      { probe_id: 2, name: 'c', score: 6, note: null, code: null },
    ]);
  });

  it('from a query: omitted attributes take their defaults, dependents stay', async () => {
    await Probe.insert1({ probe_id: 1, name: 'a', score: 9, note: 'old' });
    await Shank.insert1({ probe_id: 1, shank: 0 });
    await Source.insert([{ probe_id: 1, name: 'q1' }, { probe_id: 2, name: 'q2' }]);
    await Probe.insert(Source, { replace: true });
    expect(await rows()).toEqual([
      { probe_id: 1, name: 'q1', score: 5, note: null, code: null },
      { probe_id: 2, name: 'q2', score: 5, note: null, code: null },
    ]);
    expect(await Shank.count()).toBe(1);
  });

  it('from a query that yields one key twice: PostgreSQL refuses with DuplicateError (MySQL keeps one of them)', async () => {
    await Probe.insert([{ probe_id: 1, name: 'a' }]);
    await Shank.insert([{ probe_id: 1, shank: 0 }, { probe_id: 1, shank: 1 }]);
    const twice = Shank.proj({ name: "'x'" });
    if (dj.conn().dialect.name === 'mysql') {
      await Probe.insert(twice, { replace: true, ignoreExtraFields: true });
      expect(await Probe.count()).toBe(1);
    } else {
      await expect(Probe.insert(twice, { replace: true, ignoreExtraFields: true })).rejects.toThrow(dj.DuplicateError);
      await expect(Probe.insert(twice, { replace: true, ignoreExtraFields: true })).rejects.toThrow(/hold one primary key twice/);
    }
  });
});

describe('the count insert returns: rows written, on every backend', () => {
  it('a skipped duplicate counts 0, a replaced row 1, from rows and from a query', async () => {
    expect(await Probe.insert([{ probe_id: 1, name: 'a' }, { probe_id: 2, name: 'b' }])).toBe(2);
    expect(await Probe.insert([{ probe_id: 1, name: 'x' }, { probe_id: 2, name: 'x' }, { probe_id: 3, name: 'c' }], { skipDuplicates: true })).toBe(1);
    expect(await Probe.insert([{ probe_id: 1, name: 'r' }, { probe_id: 4, name: 'd' }], { replace: true })).toBe(2);
    await Source.insert([{ probe_id: 1, name: 'q1' }, { probe_id: 2, name: 'q2' }, { probe_id: 5, name: 'q5' }]);
    // MySQL's affected rows said 5 (an updated row counts 2) and 3 (a skipped one counts 1).
    expect(await Probe.insert(Source, { replace: true })).toBe(3);
    await Source.insert1({ probe_id: 6, name: 'q6' });
    // MySQL does not tell the rows an INSERT … SELECT skipped: they count there (README).
    expect(await Probe.insert(Source, { skipDuplicates: true })).toBe(dj.conn().dialect.name === 'mysql' ? 4 : 1);
    expect(await Probe.count()).toBe(6);
  });
});
