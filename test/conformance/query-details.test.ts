/**
 * Issue 10 §7: query details as in DataJoint Python (expression.py, condition.py): only `KEY`
 * orders by the primary key (`key` and `select` are attributes); an unknown attribute in
 * toArrays/fetch1 is an UnknownAttributeError; a union of keys alone needs no lineage match;
 * JSON paths in restrictions (`{ 'car.length': 100 }`) and projections (`'car.length:float'`).
 * Read from DataJoint Python's sources; no Python runtime with DataJoint is available here.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dj, freshSchema, cleanup } from '../helpers.js';

let schema: dj.SchemaDecorator;

class Word extends dj.Manual {
  static definition = `
  id : int32
  ---
  key : int32
  select : varchar(8)
  `;
}
class Left extends dj.Manual {
  static definition = `
  id : int32
  `;
}
class Right extends dj.Manual {
  static definition = `
  id : int32
  `;
}
class LeftX extends dj.Manual {
  static definition = `
  id : int32
  ---
  a : int32
  `;
}
class RightX extends dj.Manual {
  static definition = `
  id : int32
  ---
  b : int32
  `;
}
class Car extends dj.Manual {
  static definition = `
  car_id : int32
  ---
  car = null : json
  label = '' : varchar(16)
  `;
}

/** Values of mixed JSON types at one path: where the backends' JSON functions differ. */
class Gadget extends dj.Manual {
  static definition = `
  gadget_id : int32
  ---
  info : json
  `;
}

beforeAll(async () => {
  schema = await freshSchema('qdetails');
  for (const c of [Word, Left, Right, LeftX, RightX, Car, Gadget]) schema.add(c);
  await Gadget.insert([
    { gadget_id: 1, info: { ok: true, spec: { v: 1 } } },
    { gadget_id: 2, info: { ok: false, spec: [1, 2] } },
    { gadget_id: 3, info: { ok: 1, spec: null } },
    { gadget_id: 4, info: { ok: 'yes' } },
    { gadget_id: 5, info: { ok: 0, spec: 'flat' } },
    { gadget_id: 6, info: { ok: 'TRUE', n: 1.5, day: '2024-01-15' } },
    { gadget_id: 7, info: { ok: 'no', n: 'abc', day: 'soon' } },
    { gadget_id: 8, info: { n: true } },
    { gadget_id: 9, info: { n: -2.5 } },
  ]);
  await Word.insert([
    { id: 1, key: 30, select: 'b' },
    { id: 2, key: 10, select: 'c' },
    { id: 3, key: 20, select: 'a' },
  ]);
  await Left.insert([{ id: 1 }, { id: 2 }]);
  await Right.insert([{ id: 2 }, { id: 3 }]);
  await LeftX.insert1({ id: 1, a: 1 });
  await RightX.insert1({ id: 2, b: 2 });
  await Car.insert([
    { car_id: 1, car: { length: 100, name: 'mini', tags: [1, 2], spec: { seats: 4 }, electric: true } },
    { car_id: 2, car: { length: 250.5, name: 'bus', tags: [3], spec: { seats: 40 }, electric: false } },
    { car_id: 3, car: null },
  ]);
});
afterAll(() => cleanup(schema));

describe('ordering: only KEY means the primary key', () => {
  it('orders by attributes named key and select', async () => {
    expect((await Word.toDicts({ orderBy: 'key' })).map((r) => r.id)).toEqual([2, 3, 1]);
    expect((await Word.toDicts({ orderBy: 'key DESC' })).map((r) => r.id)).toEqual([1, 3, 2]);
    expect((await Word.toDicts({ orderBy: 'select' })).map((r) => r.id)).toEqual([3, 1, 2]);
    expect((await Word.toDicts({ orderBy: ['select DESC'] })).map((r) => r.id)).toEqual([2, 1, 3]);
    expect((await Word.restrict(dj.top(1, 'key')).fetch1('id'))).toBe(2);
  });

  it('KEY (and KEY DESC) is the primary key', async () => {
    expect((await Word.toDicts({ orderBy: 'KEY DESC' })).map((r) => r.id)).toEqual([3, 2, 1]);
    expect((await Word.toDicts({ orderBy: 'KEY', limit: 2 })).map((r) => r.id)).toEqual([1, 2]);
  });
});

describe('unknown attributes', () => {
  it('toArrays and fetch1 raise UnknownAttributeError', async () => {
    await expect(Word.toArrays('nope')).rejects.toThrow(dj.UnknownAttributeError);
    await expect(Word.toArrays('id', 'nope')).rejects.toThrow(dj.UnknownAttributeError);
    await expect(Word.restrict({ id: 1 }).fetch1('nope')).rejects.toThrow(dj.UnknownAttributeError);
    await expect(Word.restrict({ id: 1 }).fetch1('key', 'nope')).rejects.toThrow(/Attribute `nope` is not in the query result/);
  });
});

describe('union of tables whose primary keys have the same names but different lineage', () => {
  it('works for keys alone, as a plain UNION', async () => {
    expect((await Left.union(Right).toArrays('id', { orderBy: 'id' }))).toEqual(Int32Array.from([1, 2, 3]));
    expect(await Left.union(Right).count()).toBe(3);
  });

  it('with secondary attributes, the left joins match by lineage (as in DataJoint Python)', async () => {
    await expect(LeftX.union(RightX).toDicts()).rejects.toThrow(/different lineages/);
  });
});

describe('JSON paths', () => {
  it('restrict by values inside a json attribute: numbers, text, nested keys, array indexes, booleans', async () => {
    const ids = async (cond: unknown) => (await Car.restrict(cond).keys({ orderBy: 'car_id' })).map((k) => k.car_id);
    expect(await ids({ 'car.length': 100 })).toEqual([1]);
    expect(await ids({ 'car.length': 250.5 })).toEqual([2]);
    expect(await ids({ 'car.name': 'bus' })).toEqual([2]);
    expect(await ids({ 'car.spec.seats': 40 })).toEqual([2]);
    expect(await ids({ 'car.tags[1]': 2 })).toEqual([1]);
    expect(await ids({ 'car.electric': true })).toEqual([1]);
    expect(await ids({ 'car.electric': false })).toEqual([2]);
    expect(await ids({ 'car.length:float': 100, label: '' })).toEqual([1]);
    expect(await ids({ 'car.name': null })).toEqual([3]);
    expect(await ids([{ 'car.length': 100 }, { 'car.name': 'bus' }])).toEqual([1, 2]);
    // A row without the value matches nothing, so minus keeps it, as the spec's A - B says
    // (DataJoint Python's NOT drops it: SQL's unknown).
    expect((await Car.minus({ 'car.length': 100 }).keys({ orderBy: 'car_id' })).map((k) => k.car_id)).toEqual([2, 3]);
  });

  it('project values out of a json attribute, cast or as text', async () => {
    const rows = await Car.proj({ length: 'car.length:float', name: 'car.name', seats: 'car.spec.seats:signed' }).toDicts({ orderBy: 'car_id' });
    expect(rows.map((r) => [r.car_id, r.length, r.name, r.seats === null ? null : Number(r.seats)])).toEqual([
      [1, 100, 'mini', 4],
      [2, 250.5, 'bus', 40],
      [3, null, null, null],
    ]);
    const wide = await Car.proj({ length: 'car.length:decimal(6,1)' }).restrict('length > 200').fetch1('length');
    expect(String(wide)).toBe('250.5');
  });

  it('agree on every backend where their JSON functions differ', async () => {
    const ids = async (cond: unknown) => (await Gadget.restrict(cond).keys({ orderBy: 'gadget_id' })).map((k) => k.gadget_id);
    // null: the path is missing or holds JSON null; an object or an array there is a value
    // (MariaDB's JSON_VALUE is NULL for both).
    expect(await ids({ 'info.spec': null })).toEqual([3, 4, 6, 7, 8, 9]);
    expect(await ids({ 'info.spec.v': null })).toEqual([2, 3, 4, 5, 6, 7, 8, 9]);
    // A boolean compares as a boolean whatever the cast (PostgreSQL refused numeric = boolean),
    // and text that is no boolean matches neither (PostgreSQL failed the whole query on 'yes').
    expect(await ids({ 'info.ok:unsigned': true })).toEqual([1, 3]);
    expect(await ids({ 'info.ok:signed': false })).toEqual([2, 5]);
    expect(await ids({ 'info.ok': true })).toEqual([1, 3]);
    expect(await ids({ 'info.ok:bool': false })).toEqual([2, 5]);
    expect(await ids({ 'info.ok': false })).toEqual([2, 5]);
  });

  it('a cast reads only values of its shape: other rows match nothing and never fail the query', async () => {
    const ids = async (cond: unknown) => (await Gadget.restrict(cond).keys({ orderBy: 'gadget_id' })).map((k) => k.gadget_id);
    // PostgreSQL failed all of these ("invalid input syntax for type numeric: \"abc\"").
    expect(await ids({ 'info.n': 1.5 })).toEqual([6]);
    expect(await ids({ 'info.n:float': 1.5 })).toEqual([6]);
    expect(await ids({ 'info.n:decimal(4,1)': 1.5 })).toEqual([6]);
    // A fraction is cut, as by MySQL's CAST AS SIGNED; JSON true reads as 1, as MariaDB reads it.
    expect(await ids({ 'info.n:signed': 1 })).toEqual([6, 8]);
    expect(await ids({ 'info.n': 1 })).toEqual([8]);
    expect(await ids({ 'info.n:signed': -2 })).toEqual([9]);
    expect(await Gadget.restrict({ 'info.day:date': '2024-01-15' }).count()).toBe(1);
    const days = await Gadget.proj({ d: 'info.day:date' }).restrict({ gadget_id: 7 }).fetch1('d');
    expect(days).toBeNull();
  });

  it('refuses paths into non-json attributes, wildcards and unsupported types, clearly', async () => {
    await expect(Car.restrict({ 'label.x': 1 }).toDicts()).rejects.toThrow(/attribute `label` is varchar\(16\), not json/);
    await expect(Car.restrict({ 'car.tags[*]': 1 }).toDicts()).rejects.toThrow(/wildcards/);
    await expect(Car.proj({ l: 'car.length:blob' }).toDicts()).rejects.toThrow(/Unsupported type "blob" for a JSON path value/);
    await expect(Car.restrict({ 'car.spec': { seats: 4 } }).toDicts()).rejects.toThrow(/compare with a number, string, boolean or null/);
    // A dotted key whose attribute is not in the query is ignored, like any unknown key.
    expect(await Car.restrict({ 'nope.x': 1 }).count()).toBe(3);
  });
});
