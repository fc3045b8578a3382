/**
 * Fetching (API.md §4, fetch-api.md): toDicts, toArrays (typed arrays), toArrow,
 * arrowBatches, keys, fetch1, count, iteration, orderBy/limit/offset/squeeze, value types,
 * and the preview display.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as arrow from 'apache-arrow';
import { inspect } from 'node:util';
import { BACKEND, dj, freshSchema, cleanup } from './helpers.js';

/** Computed attributes in each dialect's SQL. */
const SQL =
  BACKEND === 'mysql'
    ? { nextDay: 'DATE_ADD(day, INTERVAL 1 DAY)', big: 'CAST(i64 AS SIGNED)', ratio: 'i32 / 2', year: 'YEAR(day)', len: 'CAST(CHAR_LENGTH(name) AS SIGNED)' }
    : { nextDay: 'day + 1', big: 'CAST(i64 AS bigint)', ratio: 'i32 / 2.0', year: 'EXTRACT(YEAR FROM day)::int', len: 'CAST(CHAR_LENGTH(name) AS bigint)' };

let schema: dj.SchemaDecorator;

class Value extends dj.Manual {
  static definition = `
  id : int32
  ---
  i8 : int8
  u8 : uint8
  i16 : int16
  u16 : uint16
  i32 : int32
  u32 : uint32
  i64 : int64
  u64 : uint64
  f32 : float32
  f64 : float64
  dec : decimal(6,2)
  flag : bool
  name : varchar(32)
  kind : enum('a','b')
  day : date
  ts : datetime(3)
  uid : uuid
  doc : json
  raw : bytes
  arr = null : <blob>
  opt = null : float64
  `;
}
class Item extends dj.Manual {
  static definition = `
  item_id : uint32
  ---
  label : varchar(16)
  price : float64
  `;
}

const BIG = 2n ** 62n + 1n;
const UID = '0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0';

beforeAll(async () => {
  schema = await freshSchema('fetchapi');
  schema.add(Value);
  schema.add(Item);
  await Value.insert([
    {
      id: 1, i8: -8, u8: 200, i16: -1600, u16: 60000, i32: -2_000_000_000, u32: 4_000_000_000, i64: BIG, u64: 2n ** 64n - 1n,
      f32: 1.5, f64: Math.PI, dec: '1234.50', flag: true, name: 'héllo wörld', kind: 'a', day: '2024-02-29',
      ts: new Date(Date.UTC(2024, 1, 29, 12, 34, 56, 789)), uid: UID, doc: { a: [1, 2], b: 'x' }, raw: Buffer.from([0, 1, 255]),
      arr: new dj.NDArray({ dtype: 'float64', shape: [1, 3], data: Float64Array.from([1, 2, 3]), order: 'F' }), opt: 7,
    },
    {
      id: 2, i8: 8, u8: 0, i16: 1600, u16: 0, i32: 5, u32: 0, i64: -3, u64: 4,
      f32: -2.25, f64: -0.5, dec: 0, flag: false, name: '', kind: 'b', day: new Date(Date.UTC(1999, 11, 31)),
      ts: '2000-01-01 00:00:00', uid: '00000000-0000-0000-0000-000000000001', doc: [1, null], raw: Buffer.alloc(0),
    },
  ]);
  await Item.insert(Array.from({ length: 25 }, (_, i) => ({ item_id: i + 1, label: `item-${String(i + 1).padStart(2, '0')}`, price: (i * 7) % 11 })));
});
afterAll(() => cleanup(schema));

describe('value types', () => {
  it('toDicts converts each type as API.md §4 lists', async () => {
    const [a, b] = await Value.toDicts({ orderBy: 'id' });
    expect(Object.keys(a!)).toEqual((await Value.heading()).names);
    expect(a).toMatchObject({ id: 1, i8: -8, u8: 200, i16: -1600, u16: 60000, i32: -2_000_000_000, u32: 4_000_000_000, f32: 1.5, f64: Math.PI });
    expect(a!.i64).toBe(BIG); // outside the safe range: bigint
    expect(a!.u64).toBe(2n ** 64n - 1n);
    expect(b!.i64).toBe(-3); // inside: number
    expect(a!.dec).toBe('1234.50');
    expect(b!.dec).toBe('0.00');
    expect(a!.flag).toBe(true);
    expect(b!.flag).toBe(false);
    expect(a!.name).toBe('héllo wörld');
    expect(a!.kind).toBe('a');
    expect(a!.day).toEqual(new Date(Date.UTC(2024, 1, 29)));
    expect(b!.day).toEqual(new Date(Date.UTC(1999, 11, 31)));
    expect(a!.ts).toEqual(new Date(Date.UTC(2024, 1, 29, 12, 34, 56, 789)));
    expect(a!.uid).toBe(UID);
    expect(a!.doc).toEqual({ a: [1, 2], b: 'x' });
    expect(b!.doc).toEqual([1, null]);
    expect(Buffer.isBuffer(a!.raw)).toBe(true);
    expect([...(a!.raw as Buffer)]).toEqual([0, 1, 255]);
    expect(a!.arr).toBeInstanceOf(dj.NDArray);
    expect((a!.arr as dj.NDArray).shape).toEqual([1, 3]);
    expect(b!.arr).toBeNull();
    expect(b!.opt).toBeNull();
  });

  it('squeeze drops singleton dimensions of decoded arrays', async () => {
    const row = await Value.restrict({ id: 1 }).toDicts({ squeeze: true });
    expect((row[0]!.arr as dj.NDArray).shape).toEqual([3]);
    const col = (await Value.restrict({ id: 1 }).toArrays('arr', { squeeze: true })) as unknown[];
    expect((col[0] as dj.NDArray).shape).toEqual([3]);
    // fetch1 takes the options DataJoint Python's fetch1 takes, after the names.
    expect(((await Value.restrict({ id: 1 }).fetch1('arr', { squeeze: true })) as dj.NDArray).shape).toEqual([3]);
    expect(((await Value.restrict({ id: 1 }).fetch1('arr')) as dj.NDArray).shape).not.toEqual([3]);
    expect(((await Value.restrict({ id: 1 }).fetch1({ squeeze: true })).arr as dj.NDArray).shape).toEqual([3]);
    const [id, arr] = (await Value.restrict({ id: 1 }).fetch1('id', 'arr', { squeeze: true })) as [number, dj.NDArray];
    expect([id, arr.shape]).toEqual([1, [3]]);
    await expect(Value.restrict({ id: 1 }).fetch1('id', { limit: 1 } as never)).rejects.toThrow(/fetch1 takes the options squeeze and downloadPath, not limit/);
  });

  it('toArrays gives typed arrays for numeric columns without NULLs', async () => {
    const c = (await Value.toArrays({ orderBy: 'id' })) as Record<string, unknown>;
    expect(c.i8).toEqual(Int8Array.from([-8, 8]));
    expect(c.u8).toEqual(Uint8Array.from([200, 0]));
    expect(c.i16).toEqual(Int16Array.from([-1600, 1600]));
    expect(c.u16).toEqual(Uint16Array.from([60000, 0]));
    expect(c.i32).toEqual(Int32Array.from([-2_000_000_000, 5]));
    expect(c.u32).toEqual(Uint32Array.from([4_000_000_000, 0]));
    expect(c.i64).toEqual(BigInt64Array.from([BIG, -3n]));
    expect(c.u64).toEqual(BigUint64Array.from([2n ** 64n - 1n, 4n]));
    expect(c.f32).toEqual(Float32Array.from([1.5, -2.25]));
    expect(c.f64).toEqual(Float64Array.from([Math.PI, -0.5]));
    expect(c.opt).toEqual([7, null]); // a NULL: plain array
    expect(c.dec).toEqual(['1234.50', '0.00']);
    expect(c.flag).toEqual([true, false]);
    expect(c.day).toEqual([new Date(Date.UTC(2024, 1, 29)), new Date(Date.UTC(1999, 11, 31))]);
    expect(c.uid).toEqual([UID, '00000000-0000-0000-0000-000000000001']);
    const [ids, names] = (await Value.toArrays('id', 'name', { orderBy: 'id DESC' })) as [Int32Array, string[]];
    expect(ids).toEqual(Int32Array.from([2, 1]));
    expect(names).toEqual(['', 'héllo wörld']);
    expect(await Value.toArrays('f64', { orderBy: 'id' })).toEqual(Float64Array.from([Math.PI, -0.5]));
    const keyed = (await Value.toArrays('KEY')) as unknown as Record<string, unknown>;
    expect(Object.keys(keyed)).toEqual(['id']);
    await expect(Value.toArrays('nope')).rejects.toThrow(/not in the query result/);
  });

  it('toArrow builds typed columns', async () => {
    const t = await Value.toArrow({ orderBy: 'id' });
    expect(t.numRows).toBe(2);
    const type = (n: string) => t.schema.fields.find((f) => f.name === n)!.type;
    expect(type('i8')).toBeInstanceOf(arrow.Int8);
    expect(type('u32')).toBeInstanceOf(arrow.Uint32);
    expect(type('i64')).toBeInstanceOf(arrow.Int64);
    expect(type('u64')).toBeInstanceOf(arrow.Uint64);
    expect(type('f32')).toBeInstanceOf(arrow.Float32);
    expect(type('f64')).toBeInstanceOf(arrow.Float64);
    expect(type('flag')).toBeInstanceOf(arrow.Bool);
    expect(type('day')).toBeInstanceOf(arrow.DateDay);
    expect(type('ts')).toBeInstanceOf(arrow.Timestamp);
    expect(type('name')).toBeInstanceOf(arrow.Utf8);
    expect(type('raw')).toBeInstanceOf(arrow.Binary);
    expect(type('arr')).toBeInstanceOf(arrow.Binary);
    const col = (n: string) => t.getChild(n)!.toArray();
    expect(col('i32')).toEqual(Int32Array.from([-2_000_000_000, 5]));
    expect(col('i64')).toEqual(BigInt64Array.from([BIG, -3n]));
    expect(t.getChild('u64')!.get(0)).toBe(2n ** 64n - 1n);
    expect(t.getChild('f64')!.get(0)).toBe(Math.PI);
    expect(t.getChild('flag')!.get(0)).toBe(true);
    expect(t.getChild('flag')!.get(1)).toBe(false);
    expect(t.getChild('name')!.get(0)).toBe('héllo wörld');
    expect(t.getChild('name')!.get(1)).toBe('');
    expect(t.getChild('dec')!.get(0)).toBe('1234.50');
    expect(t.getChild('day')!.get(0)).toBe(Date.UTC(2024, 1, 29));
    expect(t.getChild('ts')!.get(0)).toBe(Date.UTC(2024, 1, 29, 12, 34, 56, 789));
    expect(t.getChild('uid')!.get(0)).toBe(UID);
    expect(JSON.parse(t.getChild('doc')!.get(0) as string)).toEqual({ a: [1, 2], b: 'x' });
    expect([...(t.getChild('raw')!.get(0) as Uint8Array)]).toEqual([0, 1, 255]);
    expect(t.getChild('opt')!.get(0)).toBe(7);
    expect(t.getChild('opt')!.get(1)).toBeNull();
    expect(t.getChild('arr')!.get(1)).toBeNull();
    // Computed attributes take their type from the driver.
    const c = await Value.proj({ n: 'i32 + 1', d: SQL.nextDay, s: 'UPPER(name)', x: 'f64 * 2' }).toArrow({ orderBy: 'id' });
    expect(c.getChild('d')!.get(0)).toBe(Date.UTC(2024, 2, 1));
    expect(c.getChild('s')!.get(0)).toBe('HÉLLO WÖRLD');
    expect(c.getChild('x')!.get(1)).toBe(-1);
    expect(Number(c.getChild('n')!.get(1))).toBe(6);
    // An empty result keeps the schema.
    const empty = await Value.restrict(false).toArrow();
    expect(empty.numRows).toBe(0);
    expect(empty.schema.fields.length).toBe((await Value.heading()).names.length);
  });

  it('toArrow keeps the microseconds of datetime(4..6) columns (microsecond timestamps)', async () => {
    class Stamp extends dj.Manual {
      static definition = `stamp_id : int32\n---\nt6 : datetime(6)\nt4 = null : datetime(4)\nt3 : datetime(3)`;
    }
    schema.add(Stamp);
    const micro = (iso: string, extraMicros: number) => Object.assign(new Date(iso), { extraMicros });
    await Stamp.insert([
      { stamp_id: 1, t6: micro('2024-01-02T03:04:05.123Z', 456), t4: micro('2024-01-02T03:04:05.123Z', 400), t3: new Date('2024-01-02T03:04:05.123Z') },
      { stamp_id: 2, t6: micro('1969-12-31T23:59:59.999Z', 1), t3: new Date('1969-12-31T23:59:59.999Z') },
    ]);
    const expectStamps = (t: arrow.Table) => {
      const field = (n: string) => t.schema.fields.find((f) => f.name === n)!.type as arrow.Timestamp;
      expect([field('t6').unit, field('t4').unit, field('t3').unit]).toEqual([arrow.TimeUnit.MICROSECOND, arrow.TimeUnit.MICROSECOND, arrow.TimeUnit.MILLISECOND]);
      const raw = (n: string) => [...(t.getChild(n)!.data[0]!.values as BigInt64Array)];
      expect(raw('t6')).toEqual([1704164645123456n, -999n]); // 1 µs after the last millisecond of 1969
      expect(raw('t4')[0]).toBe(1704164645123400n);
      expect(t.getChild('t4')!.get(1)).toBeNull();
      expect(raw('t3')).toEqual([1704164645123n, -1n]);
    };
    expectStamps(await Stamp.toArrow({ orderBy: 'stamp_id' }));
    const batches: arrow.Table[] = [];
    for await (const b of Stamp.arrowBatches({ batchSize: 5, orderBy: 'stamp_id' })) batches.push(new arrow.Table(b));
    expectStamps(batches[0]!);
  });

  it('decodes computed attributes by the driver’s column type', async () => {
    const r = await Value.proj({ next_day: SQL.nextDay, big: SQL.big, ratio: SQL.ratio }).toDicts({ orderBy: 'id' });
    expect(r[0]!.next_day).toEqual(new Date(Date.UTC(2024, 2, 1)));
    expect(r[0]!.big).toBe(BIG);
    expect(typeof r[1]!.ratio).toBe('string'); // DECIMAL results are strings, like decimal attributes
    expect(Number(r[1]!.ratio)).toBe(2.5);
    const cols = (await Value.proj({ y: SQL.year, len: SQL.len, half: 'f64 / 2' }).toArrays({ orderBy: 'id' })) as Record<string, unknown>;
    expect(cols.y).toEqual(Float64Array.from([2024, 1999]));
    expect(cols.len).toEqual(BigInt64Array.from([11n, 0n]));
    expect(cols.half).toEqual(Float64Array.from([Math.PI / 2, -0.25]));
  });
});

describe('rows, keys, single rows, counts', () => {
  it('orderBy, limit and offset', async () => {
    const page = await Item.toDicts({ orderBy: 'price DESC, item_id', limit: 3, offset: 2 });
    const all = (await Item.toDicts()).sort((x, y) => (y.price as number) - (x.price as number) || (x.item_id as number) - (y.item_id as number));
    expect(page).toEqual(all.slice(2, 5));
    expect((await Item.keys({ limit: 2 }))).toEqual([{ item_id: 1 }, { item_id: 2 }]);
    expect((await Item.keys({ orderBy: 'KEY DESC', limit: 2 }))).toEqual([{ item_id: 25 }, { item_id: 24 }]);
    expect((await Item.keys({ orderBy: ['label DESC'], limit: 1 }))).toEqual([{ item_id: 25 }]);
    expect((await Item.keys({ offset: 23 }))).toEqual([{ item_id: 24 }, { item_id: 25 }]);
    expect(await Item.toArrays('item_id', { orderBy: 'item_id', limit: 3 })).toEqual(Uint32Array.from([1, 2, 3]));
    await expect(Item.toDicts({ limit: -1 })).rejects.toThrow(TypeError);
  });

  it('fetch1 returns one row, one value, or a tuple; otherwise throws', async () => {
    const one = Item.restrict({ item_id: 3 });
    expect(await one.fetch1()).toEqual({ item_id: 3, label: 'item-03', price: 3 });
    expect(await one.fetch1('label')).toBe('item-03');
    expect(await one.fetch1('label', 'price')).toEqual(['item-03', 3]);
    await expect(Item.fetch1()).rejects.toThrow(/exactly one row/);
    await expect(Item.restrict(false).fetch1()).rejects.toThrow(/no rows/);
    await expect(one.fetch1('nope')).rejects.toBeInstanceOf(dj.DataJointError);
  });

  it('count and isEmpty', async () => {
    expect(await Item.count()).toBe(25);
    expect(await Item.restrict('price > 5').count()).toBe((await Item.toDicts()).filter((r) => (r.price as number) > 5).length);
    expect(await Item.restrict(dj.top(4)).count()).toBe(4);
    expect(await Item.restrict(false).isEmpty()).toBe(true);
  });

  it('iterates rows from one cursor, and arrowBatches streams batches', async () => {
    const seen: number[] = [];
    for await (const row of Item.restrict('item_id <= 5')) seen.push(row.item_id as number);
    expect(seen.sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5]);
    const ordered: unknown[] = [];
    for await (const row of new Item().iterate({ orderBy: 'item_id DESC', limit: 3 })) ordered.push(row.item_id);
    expect(ordered).toEqual([25, 24, 23]);
    // Leaving early releases the cursor; the connection stays usable.
    for await (const row of new Item()) {
      expect(row.item_id).toBeDefined();
      break;
    }
    expect(await Item.count()).toBe(25);
    const batches: arrow.RecordBatch[] = [];
    for await (const b of Item.arrowBatches({ batchSize: 10, orderBy: 'item_id' })) batches.push(b);
    expect(batches.map((b) => b.numRows)).toEqual([10, 10, 5]);
    const whole = new arrow.Table(batches);
    expect(whole.getChild('item_id')!.toArray()).toEqual(Uint32Array.from({ length: 25 }, (_, i) => i + 1));
    expect(whole.getChild('label')!.get(24)).toBe('item-25');
    const vb: arrow.RecordBatch[] = [];
    for await (const b of Value.arrowBatches({ batchSize: 1, orderBy: 'id' })) vb.push(b);
    expect(vb.length).toBe(2);
    expect(vb[1]!.getChild('i64')!.get(0)).toBe(-3n);
  });
});

describe('preview', () => {
  it('shows the first rows like DataJoint’s table display, limited by display.limit', async () => {
    const text = await dj.config.override({ 'display.limit': 3 }, () => Item.proj('label').preview());
    const lines = text.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^\*item_id\s+label/);
    expect(lines[1]).toMatch(/^\+-+\+ \+-+\+/);
    expect(lines.slice(2, 5).map((l) => l.trim().split(/\s+/))).toEqual([
      ['1', 'item-01'],
      ['2', 'item-02'],
      ['3', 'item-03'],
    ]);
    expect(lines[5]).toBe('   ...');
    expect(lines[6]).toBe(' (Total: 25)');
    const expr = Item.proj('*').restrict({ item_id: 2 });
    const p = await expr.preview();
    expect(p).not.toContain('...');
    expect(await Value.restrict({ id: 1 }).preview()).toContain('=BLOB=');
    // String(expr) and console.log render the same display synchronously.
    expect(String(expr)).toBe(p);
    expect(inspect(expr)).toBe(p);
    const agg = Item.restrict('price > 3').aggr(Item.proj({ other: 'label' }), { n: 'count(*)' }).restrict(dj.top(2, ['n DESC', 'item_id']));
    expect(String(agg)).toBe(await agg.preview());
    const limited = await dj.config.override({ 'display.limit': 2 }, async () => String(Item.proj('label')));
    expect(limited).toContain('   ...');
    expect(limited).toContain(' (Total: 25)');
  });
});
