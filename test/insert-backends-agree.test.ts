// Inserts whose outcome the servers would decide differently, made the same on every backend:
// replace with one key twice in a batch, and fractions of a second beyond a datetime's precision.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dj, freshSchema, cleanup } from './helpers.js';

let schema: dj.SchemaDecorator;
class Reading extends dj.Manual {
  static definition = 'reading_id : int32\n---\nvalue : float64\nnote = "" : varchar(16)';
}
class Priced extends dj.Manual {
  static definition = 'price : decimal(6,2)\n---\nnote : varchar(8)';
}
class Coded extends dj.Manual {
  static definition = 'code : char(4)\n---\nnote : varchar(8)';
}
class Stamp extends dj.Manual {
  static definition = 'stamp_id : int32\n---\nat : datetime(0)\nat_ms = null : datetime(3)';
}

beforeAll(async () => {
  schema = await freshSchema('insert_agree');
  schema.add(Reading);
  schema.add(Stamp);
  schema.add(Priced);
  schema.add(Coded);
});
afterAll(async () => {
  await cleanup(schema);
});

describe('insert with replace', () => {
  it('one key twice in a batch: the last row wins, in one call', async () => {
    await Reading.insert([{ reading_id: 1, value: 0.5, note: 'old' }]);
    await Reading.insert(
      [
        { reading_id: 1, value: 1, note: 'first' },
        { reading_id: 2, value: 2 },
        { reading_id: 1, value: 3, note: 'last' },
        { reading_id: 2, value: 4, note: 'again' },
        { reading_id: 3, value: 5 },
      ],
      { replace: true },
    );
    expect(await Reading.toDicts({ orderBy: 'reading_id' })).toEqual([
      { reading_id: 1, value: 3, note: 'last' },
      { reading_id: 2, value: 4, note: 'again' },
      { reading_id: 3, value: 5, note: '' },
    ]);
  });
});

describe('insert with replace, one key written two ways', () => {
  it('a decimal key as 1 and 1.00, a char(n) key with and without its padding: the last row wins', async () => {
    await Priced.insert([{ price: 1, note: 'a' }, { price: '001.50', note: 'b' }, { price: '1.00', note: 'c' }, { price: '1.5', note: 'd' }], { replace: true });
    expect((await Priced.toDicts({ orderBy: 'price' })).map((r) => [Number(r.price), r.note])).toEqual([
      [1, 'c'],
      [1.5, 'd'],
    ]);
    await Coded.insert([{ code: 'ab', note: 'a' }, { code: 'ab  ', note: 'b' }], { replace: true });
    expect(await Coded.toDicts()).toEqual([{ code: 'ab', note: 'b' }]);
  });
});

describe('datetime beyond its precision', () => {
  it('is cut to the column’s digits, never rounded up, from a Date or from text', async () => {
    await Stamp.insert([
      { stamp_id: 1, at: new Date('2024-01-15T10:20:30.999Z'), at_ms: new Date('2024-12-31T23:59:59.9996Z') },
      { stamp_id: 2, at: '2024-12-31 23:59:59.75', at_ms: '2024-01-15T10:20:30.123456' },
      { stamp_id: 3, at: '2024-01-15T10:20:30.5+01:00', at_ms: '2024-01-15 10:20:30' },
    ]);
    const rows = await Stamp.toDicts({ orderBy: 'stamp_id' });
    expect(rows.map((r) => [(r.at as Date).toISOString(), (r.at_ms as Date).toISOString()])).toEqual([
      ['2024-01-15T10:20:30.000Z', '2024-12-31T23:59:59.999Z'],
      ['2024-12-31T23:59:59.000Z', '2024-01-15T10:20:30.123Z'],
      ['2024-01-15T09:20:30.000Z', '2024-01-15T10:20:30.000Z'],
    ]);
    // The stored value is what a restriction by the cut value finds.
    expect(await Stamp.restrict({ at: new Date('2024-12-31T23:59:59Z') }).keys()).toEqual([{ stamp_id: 2 }]);
  });
});
