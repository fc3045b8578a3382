import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tableFromArrays } from 'apache-arrow';
import { dj, freshSchema, cleanup } from './helpers.js';

let schema: dj.SchemaDecorator;

class Subject extends dj.Manual {
  static definition = `
  subject_id : int32
  ---
  species = 'mouse' : varchar(32)
  dob = null : date
  `;
}
class AllTypes extends dj.Manual {
  static definition = `
  id : uint16
  ---
  i8 = null : int8
  u8 = null : uint8
  i64 = null : int64
  u64 = null : uint64
  f32 = null : float32
  f64 = null : float64
  flag = null : bool
  uid = null : uuid
  doc = null : json
  raw = null : bytes
  day = null : date
  ts = null : datetime(3)
  code = null : char(3)
  kind = null : enum('a','b')
  amount = null : decimal(10,3)
  created = CURRENT_TIMESTAMP : datetime
  `;
}

beforeAll(async () => {
  schema = await freshSchema('data');
  schema.add(Subject);
  schema.add(AllTypes);
});
afterAll(() => cleanup(schema));

describe('insert', () => {
  it('inserts objects, arrays of arrays, Arrow tables, async iterables and queries', async () => {
    await Subject.insert1({ subject_id: 1 });
    await Subject.insert([[2, 'rat', '2020-02-02'], [3, 'fly', null]]);
    await Subject.insert(tableFromArrays({ subject_id: Int32Array.from([4, 5]), species: ['zebrafish', 'worm'] }));
    async function* gen() {
      for (let i = 6; i < 9; i++) yield { subject_id: i, species: 'gen' };
    }
    await Subject.insert(gen());
    expect(await Subject.count()).toBe(8);
    expect(await Subject.restrict({ subject_id: 1 }).fetch1('species')).toBe('mouse');
    expect(await Subject.restrict({ subject_id: 2 }).fetch1('dob')).toEqual(new Date('2020-02-02T00:00:00Z'));
    class Copy extends dj.Manual {
      static definition = `subject_id : int32\n---\nspecies : varchar(32)`;
    }
    schema.add(Copy);
    expect(await Copy.insert(Subject.restrict('subject_id > 5'), { ignoreExtraFields: true })).toBe(3);
    await expect(Copy.insert(Subject)).rejects.toBeInstanceOf(dj.errors.UnknownAttributeError);
    expect(await Copy.count()).toBe(3);
  });

  it('handles duplicates: error, skipDuplicates, replace', async () => {
    await expect(Subject.insert1({ subject_id: 1 })).rejects.toBeInstanceOf(dj.DuplicateError);
    await Subject.insert1({ subject_id: 1, species: 'other' }, { skipDuplicates: true });
    expect(await Subject.restrict({ subject_id: 1 }).fetch1('species')).toBe('mouse');
    await Subject.insert1({ subject_id: 1, species: 'other' }, { replace: true });
    expect(await Subject.restrict({ subject_id: 1 }).fetch1('species')).toBe('other');
  });

  it('rejects unknown and missing attributes and wrong types before writing anything', async () => {
    const before = await Subject.count();
    await expect(Subject.insert1({ subject_id: 100, nope: 1 })).rejects.toBeInstanceOf(dj.UnknownAttributeError);
    await expect(Subject.insert1({ species: 'x' })).rejects.toBeInstanceOf(dj.MissingAttributeError);
    // The bad row is the last one: nothing of the batch may be written.
    const batch = [{ subject_id: 101 }, { subject_id: 102 }, { subject_id: 'x103' }];
    await expect(Subject.insert(batch)).rejects.toThrow(/Row 2: Attribute `subject_id` \(int32\) expects an integer/);
    await expect(Subject.insert([{ subject_id: 104, dob: 'yesterday' }])).rejects.toThrow(/expects a Date or an ISO date/);
    await expect(Subject.insert([{ subject_id: 2 ** 31 }])).rejects.toThrow(/integer in \[-2147483648, 2147483647\]/);
    await expect(Subject.insert([[105]])).rejects.toBeInstanceOf(dj.MissingAttributeError);
    expect(await Subject.insert1({ subject_id: 106, nope: 1 }, { ignoreExtraFields: true })).toBe(1);
    expect(await Subject.count()).toBe(before + 1);
  });

  it('rolls back a multi-statement insert that fails midway', async () => {
    class Wide extends dj.Manual {
      static definition = `id : int32\n---\ntxt : varchar(600)`;
    }
    schema.add(Wide);
    const rows = Array.from({ length: 20000 }, (_, i) => ({ id: i, txt: 'x'.repeat(500) }));
    rows.push({ id: 5, txt: 'duplicate of an early row, in a later statement' });
    await expect(Wide.insert(rows)).rejects.toBeInstanceOf(dj.DuplicateError);
    expect(await Wide.count()).toBe(0);
    // With chunkSize, completed chunks stay committed.
    await expect(Wide.insert(rows, { chunkSize: 10000 })).rejects.toBeInstanceOf(dj.DuplicateError);
    expect(await Wide.count()).toBe(20000);
    // A failing async iterable rolls back everything it wrote.
    async function* bad() {
      for (let i = 100000; i < 115000; i++) yield { id: i, txt: 'y' };
      throw new Error('source failed');
    }
    await expect(Wide.insert(bad())).rejects.toThrow('source failed');
    expect(await Wide.count()).toBe(20000);
  });

  it('converts every core type both ways', async () => {
    const uid = '0b1e5c7a-8d2f-4b6e-9a3c-1d2e3f4a5b6c';
    await AllTypes.insert1({
      id: 1, i8: -128, u8: 255, i64: 2n ** 62n, u64: 2n ** 64n - 1n, f32: 1.5, f64: Math.PI, flag: true, uid,
      doc: { a: [1, 2, { b: null }], s: 'é' }, raw: Buffer.from([0, 1, 2, 255]), day: new Date('2024-03-04T00:00:00Z'),
      ts: '2024-03-04T05:06:07.891Z', code: 'abc', kind: 'b', amount: '1234567.125',
    });
    await AllTypes.insert1({ id: 2, i64: 5, u64: 7, flag: false, amount: 2.5, ts: new Date(Date.UTC(2020, 0, 1, 12, 0, 0, 250)) });
    const [r1, r2] = await AllTypes.toDicts({ orderBy: 'id' });
    expect(r1).toMatchObject({
      id: 1, i8: -128, u8: 255, i64: 2n ** 62n, u64: 2n ** 64n - 1n, f32: 1.5, f64: Math.PI, flag: true, uid,
      doc: { a: [1, 2, { b: null }], s: 'é' }, raw: Buffer.from([0, 1, 2, 255]), day: new Date('2024-03-04T00:00:00Z'),
      ts: new Date('2024-03-04T05:06:07.891Z'), code: 'abc', kind: 'b', amount: '1234567.125',
    });
    expect(r1!.created).toBeInstanceOf(Date);
    expect(Math.abs((r1!.created as Date).getTime() - Date.now())).toBeLessThan(120_000);
    expect(r2).toMatchObject({ i64: 5, u64: 7, flag: false, amount: '2.500', ts: new Date(Date.UTC(2020, 0, 1, 12, 0, 0, 250)), doc: null, uid: null });
    const bad: Array<[Record<string, unknown>, RegExp]> = [
      [{ id: 3, u8: 256 }, /uint8/],
      [{ id: 3, u8: -1 }, /uint8/],
      [{ id: 3, i64: 1.5 }, /int64/],
      [{ id: 3, u64: -1n }, /uint64/],
      [{ id: 3, f64: 'pi' }, /expects a number/],
      [{ id: 3, flag: 'yes' }, /expects a boolean/],
      [{ id: 3, uid: 'not-a-uuid' }, /UUID/],
      [{ id: 3, doc: { big: 1n, f() {} } }, /json/],
      [{ id: 3, raw: 'text' }, /Buffer/],
      [{ id: 3, kind: 'c' }, /one of 'a', 'b'/],
      [{ id: 3, amount: '12abc' }, /decimal/],
      [{ id: 3, code: 7 }, /expects a string/],
      [{ id: 3, ts: 'soon' }, /ISO datetime/],
    ];
    for (const [row, re] of bad) {
      const p = AllTypes.insert1(row);
      await expect(p, JSON.stringify(row, (_k, v) => (typeof v === 'bigint' ? String(v) : v))).rejects.toThrow(re);
    }
    expect(await AllTypes.count()).toBe(2);
  });

  it('round-trips large binary values with every other type in the same statement', async () => {
    // 3 × 200 KB of bytes: on MySQL this statement goes over the binary protocol.
    const big = (seed: number) => Buffer.from(Array.from({ length: 200_000 }, (_, i) => (i * 31 + seed) & 255));
    const rows = [100, 101, 102].map((id, k) => ({
      id,
      i64: k === 0 ? 2n ** 62n : -5,
      u64: 2n ** 64n - 1n,
      flag: k === 1,
      uid: '0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f' + k,
      doc: { k, s: "it's \\ \"q\"" },
      raw: big(k),
      day: '0050-03-01',
      ts: new Date(Date.UTC(2024, 1, 29, 12, 0, 0, 123)),
      code: 'ab',
      amount: '12.5',
    }));
    await AllTypes.insert(rows);
    const back = await AllTypes.restrict('id >= 100').toDicts({ orderBy: 'id' });
    for (let k = 0; k < 3; k++) {
      const r = back[k]!;
      expect(Buffer.compare(r.raw as Buffer, rows[k]!.raw)).toBe(0);
      expect(r).toMatchObject({ id: 100 + k, i64: rows[k]!.i64, u64: 2n ** 64n - 1n, flag: k === 1, uid: rows[k]!.uid, doc: rows[k]!.doc, code: 'ab', amount: '12.500' });
      expect((r.day as Date).toISOString().slice(0, 10)).toBe('0050-03-01');
      expect((r.ts as Date).getTime()).toBe(rows[k]!.ts.getTime());
    }
    await AllTypes.restrict('id >= 100').delete({ prompt: false });
  });

  it('validates rows without writing', async () => {
    const r = await Subject.validate([{ subject_id: 500 }, { subject_id: 'x' }, { species: 'y' }, { subject_id: 501, extra: 1 }]);
    expect(r.isValid).toBe(false);
    expect(r.errors.map((e) => [e.row, e.field])).toEqual([[1, 'subject_id'], [2, 'subject_id'], [3, 'extra']]);
    expect((await Subject.validate([{ subject_id: 502 }])).isValid).toBe(true);
    expect(await Subject.restrict({ subject_id: 500 }).count()).toBe(0);
    // Every problem of a row, as DataJoint Python lists them, not only the first.
    const many = await Subject.validate([{ subject_id: 'x', species: 'a'.repeat(40), dob: 'not a date', extra: 1, other: 2 }, { species: 3 }]);
    expect(many.errors.map((e) => [e.row, e.field])).toEqual([
      [0, 'extra'],
      [0, 'other'],
      [0, 'subject_id'],
      [0, 'species'],
      [0, 'dob'],
      [1, 'subject_id'],
      [1, 'species'],
    ]);
    expect(many.rowsChecked).toBe(2);
    expect(many.summary().split('\n')[0]).toMatch(/^Row 0, field 'extra': Attribute `extra` is not in the table/);
    expect((await Subject.validate([{ subject_id: 503 }])).summary()).toBe('All 1 row(s) passed validation');
  });
});

describe('update1', () => {
  it('updates secondary attributes of one existing row', async () => {
    await Subject.insert1({ subject_id: 200, species: 'a' });
    expect(await Subject.update1({ subject_id: 200, species: 'b', dob: '2021-01-01' })).toBe(1);
    expect(await Subject.restrict({ subject_id: 200 }).fetch1('species', 'dob')).toEqual(['b', new Date('2021-01-01T00:00:00Z')]);
    await Subject.update1({ subject_id: 200, dob: null });
    expect(await Subject.restrict({ subject_id: 200 }).fetch1('dob')).toBeNull();
    await expect(Subject.update1({ species: 'c' })).rejects.toBeInstanceOf(dj.MissingAttributeError);
    await expect(Subject.update1({ subject_id: 99999, species: 'c' })).rejects.toThrow(/no row with key/);
    await expect(Subject.update1({ subject_id: 200, nope: 1 })).rejects.toBeInstanceOf(dj.UnknownAttributeError);
    await expect(Subject.update1({ subject_id: 200 })).rejects.toThrow(/no secondary attributes/);
    await expect(Subject.restrict({ subject_id: 200 }).update1({ subject_id: 200, species: 'x' })).rejects.toBeInstanceOf(dj.DataJointError);
    await expect(Subject.update1({ subject_id: 200, species: 5 })).rejects.toThrow(/expects a string/);
    expect(await Subject.restrict({ subject_id: 200 }).fetch1('species')).toBe('b');
  });
});

describe('restriction minimum and fetch', () => {
  it('restricts by objects, strings, arrays, booleans and negation', async () => {
    await Subject.insert([{ subject_id: 300, species: 'q' }, { subject_id: 301, species: 'q' }, { subject_id: 302, species: 'r' }], { skipDuplicates: true });
    const q = Subject.restrict('subject_id >= 300 AND subject_id < 303');
    expect(await q.restrict({ species: 'q' }).count()).toBe(2);
    expect(await q.restrict([{ subject_id: 300 }, { subject_id: 302 }]).count()).toBe(2);
    expect(await q.restrict([]).count()).toBe(0);
    expect(await q.restrict(true).count()).toBe(3);
    expect(await q.restrict(false).count()).toBe(0);
    expect(await q.restrict(dj.not({ species: 'q' })).count()).toBe(1);
    expect(await q.minus({ species: 'q' }).count()).toBe(1);
    expect(await q.restrict({ unrelated: 1 }).count()).toBe(3);
    expect((await q.keys({ orderBy: 'subject_id DESC', limit: 2 })).map((k) => k.subject_id)).toEqual([302, 301]);
    await expect(q.fetch1()).rejects.toThrow(/exactly one row/);
    await expect(q.restrict(false).fetch1()).rejects.toThrow(/no rows/);
    await expect(Subject.restrict('no_such_column = 1').count()).rejects.toBeInstanceOf(dj.UnknownAttributeError);
    await expect(Subject.restrict('subject_id = = 1').count()).rejects.toBeInstanceOf(dj.QuerySyntaxError);
    const rows: unknown[] = [];
    for await (const r of q) rows.push(r);
    expect(rows).toHaveLength(3);
  });
});
