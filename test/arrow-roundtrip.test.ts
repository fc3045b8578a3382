/**
 * Arrow round trip (API.md §4, §5): `Twin.insert(await Source.toArrow())` stores the rows
 * Source holds, for every core type, on every backend; toArrow and arrowBatches mark json
 * columns as JSON (Arrow's canonical `arrow.json` extension) with the same text everywhere.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as arrow from 'apache-arrow';
import { dj, freshSchema, cleanup, manualTable } from './helpers.js';

let schema: dj.SchemaDecorator;
let Source: typeof dj.Manual;
let Twin: typeof dj.Manual;

const definition = `
id : int32
---
i8 = null : int8
u8 = null : uint8
i16 = null : int16
u16 = null : uint16
i32 = null : int32
u32 = null : uint32
i64 = null : int64
u64 = null : uint64
f32 = null : float32
f64 = null : float64
dec = null : decimal(8,3)
flag = null : bool
c = null : char(4)
vc = null : varchar(16)
kind = null : enum('x','y')
day = null : date
dt = null : datetime
dt3 = null : datetime(3)
dt6 = null : datetime(6)
uid = null : uuid
raw = null : bytes
j = null : json
`;

const micro = (iso: string, extraMicros: number) => new dj.blob.DateTime(new Date(iso), extraMicros);

const rows = [
  {
    id: 1, i8: -128, u8: 255, i16: -32768, u16: 65535, i32: -2147483648, u32: 4294967295, i64: 2n ** 62n + 3n, u64: 2n ** 64n - 2n,
    f32: 1.5, f64: Math.PI, dec: '-12345.678', flag: true, c: 'ab', vc: 'héllo', kind: 'x', day: '2024-02-29',
    dt: '2024-01-02 03:04:05', dt3: '2024-01-02 03:04:05.678', dt6: micro('2024-01-01T00:00:00.123Z', 456),
    uid: '0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0', raw: Buffer.from([0, 1, 255]), j: { a: 1, b: [1, 2, { c: 'd' }] },
  },
  { id: 2, i64: -(2n ** 60n), flag: false, c: 'abcd', vc: '', day: '1969-12-31', dt6: micro('1969-12-31T23:59:59.999Z', 1), raw: Buffer.alloc(0), j: [1, 'two', null, { x: true }] },
  { id: 3, j: 'text' },
  { id: 4, j: 42.5, dt6: '2000-01-01 00:00:00.000001' },
  { id: 5, j: '{"a":1}' }, // a JSON string that reads like an object stays a string
  { id: 6 }, // NULL everywhere
];

beforeAll(async () => {
  schema = await freshSchema('arrowrt');
  Source = manualTable(schema, 'Source', definition);
  Twin = manualTable(schema, 'Twin', definition);
  await Source.insert(rows);
});
afterAll(() => cleanup(schema));

describe('Arrow round trip', () => {
  it('Twin.insert(await Source.toArrow()) stores what Source holds, every core type', async () => {
    await Twin.deleteQuick();
    expect(await Twin.insert(await Source.toArrow())).toBe(rows.length);
    const expected = await Source.toDicts({ orderBy: 'id' });
    const got = await Twin.toDicts({ orderBy: 'id' });
    expect(got).toEqual(expected);
    // toEqual does not compare a DateTime's extra microseconds: compare them and the JSON values directly.
    const micros = (rs: Array<Record<string, unknown>>) => rs.map((r) => (r.dt6 instanceof dj.blob.DateTime ? r.dt6.microsecond : r.dt6 instanceof Date ? r.dt6.getUTCMilliseconds() * 1000 : r.dt6));
    expect(micros(got)).toEqual([123456, 999001, null, 1, null, null]);
    expect(got.map((r) => r.j)).toEqual([rows[0]!.j, rows[1]!.j, 'text', 42.5, '{"a":1}', null]);
    expect(got[0]!.c).toBe('ab');
    expect(got[0]!.i64).toBe(2n ** 62n + 3n);
  });

  it('insert from arrowBatches round-trips too', async () => {
    await Twin.deleteQuick();
    for await (const b of Source.arrowBatches({ batchSize: 4, orderBy: 'id' })) await Twin.insert(new arrow.Table(b));
    expect(await Twin.toDicts({ orderBy: 'id' })).toEqual(await Source.toDicts({ orderBy: 'id' }));
    expect(await Twin.restrict({ dt6: '2024-01-01 00:00:00.123456' }).count()).toBe(1);
  });

  it('json columns are marked arrow.json and hold the same text on every backend', async () => {
    const t = await Source.toArrow({ orderBy: 'id' });
    const field = t.schema.fields.find((f) => f.name === 'j')!;
    expect(field.type).toBeInstanceOf(arrow.Utf8);
    expect(field.metadata.get('ARROW:extension:name')).toBe('arrow.json');
    expect(t.getChild('j')!.toArray()).toEqual(['{"a":1,"b":[1,2,{"c":"d"}]}', '[1,"two",null,{"x":true}]', '"text"', '42.5', '"{\\"a\\":1}"', null]);
    // Other string columns carry no marker.
    expect(t.schema.fields.find((f) => f.name === 'vc')!.metadata.size).toBe(0);
    for await (const b of Source.arrowBatches({ batchSize: 2, orderBy: 'id' })) {
      expect(b.schema.fields.find((f) => f.name === 'j')!.metadata.get('ARROW:extension:name')).toBe('arrow.json');
    }
  });

  it('char(n) reads without its padding in toArrow and arrowBatches, as in toDicts', async () => {
    const t = await Source.toArrow({ orderBy: 'id' });
    expect([t.getChild('c')!.get(0), t.getChild('c')!.get(1)]).toEqual(['ab', 'abcd']);
    const [b] = await firstBatch(Source.arrowBatches({ orderBy: 'id' }));
    expect(b!.getChild('c')!.get(0)).toBe('ab');
  });

  it('a plain Utf8 column into a json attribute stays a JSON string; a marked one is parsed', async () => {
    await Twin.deleteQuick();
    const plain = arrow.tableFromArrays({ id: Int32Array.from([1]), j: ['{"a":1}'] });
    await Twin.insert(plain);
    expect(await Twin.fetch1('j')).toBe('{"a":1}');
    await Twin.deleteQuick();
    const marked = withJsonMarker(plain, 'j');
    await Twin.insert(marked);
    expect(await Twin.fetch1('j')).toEqual({ a: 1 });
    // Into a string attribute, a marked column keeps its text.
    await Twin.deleteQuick();
    const vc = withJsonMarker(arrow.tableFromArrays({ id: Int32Array.from([1]), vc: ['{"a":1}'] }), 'vc');
    await Twin.insert(vc);
    expect(await Twin.fetch1('vc')).toBe('{"a":1}');
  });

  it('a marked json column holding text that is not JSON is refused, naming the attribute', async () => {
    await Twin.deleteQuick();
    const bad = withJsonMarker(arrow.tableFromArrays({ id: Int32Array.from([1]), j: ['{nope'] }), 'j');
    await expect(Twin.insert(bad)).rejects.toThrow(dj.AttributeTypeError);
    await expect(Twin.insert(bad)).rejects.toThrow(/`j`.*JSON/);
    expect(await Twin.count()).toBe(0);
    const second = withJsonMarker(arrow.tableFromArrays({ id: Int32Array.from([1, 2]), j: ['[1]', 'nope'] }), 'j');
    await expect(Twin.insert(second)).rejects.toThrow(/^Row 1: Attribute `j`/);
    const v = await Twin.validate(second);
    expect(v.isValid).toBe(false);
    expect(v.errors).toEqual([{ row: 1, field: 'j', message: expect.stringMatching(/not JSON/) }]);
    expect((await Twin.validate(withJsonMarker(arrow.tableFromArrays({ id: Int32Array.from([1]), j: ['[1]'] }), 'j'))).isValid).toBe(true);
  });

  it('inserts Timestamp columns at their unit: microseconds and nanoseconds keep their microseconds', async () => {
    await Twin.deleteQuick();
    const us = 1704067200123456n; // 2024-01-01 00:00:00.123456
    const stamps = (type: arrow.Timestamp, values: bigint[]) =>
      arrow.makeVector(arrow.makeData({ type, length: values.length, nullCount: 0, data: BigInt64Array.from(values) }));
    const t = new arrow.Table({
      id: arrow.makeVector(Int32Array.from([1, 2, 3])),
      dt6: stamps(new arrow.TimestampNanosecond(), [us * 1000n + 789n, -1001n, 0n]),
      dt3: stamps(new arrow.TimestampMicrosecond(), [us, -1n, 5n]),
    });
    await Twin.insert(t);
    expect(await Twin.restrict({ dt6: '2024-01-01 00:00:00.123456' }).count()).toBe(1);
    const r = await Twin.toDicts({ orderBy: 'id' });
    expect((r[1]!.dt6 as dj.blob.DateTime).microsecond).toBe(999998); // -1.001 µs floors to -2 µs: never later than given
    expect(r[1]!.dt6).toEqual(new Date(-1));
    expect(r[0]!.dt3).toEqual(new Date(Date.UTC(2024, 0, 1, 0, 0, 0, 123)));
    expect(r[1]!.dt3).toEqual(new Date(-1));
  });
});

async function firstBatch(it: AsyncIterable<arrow.RecordBatch>): Promise<arrow.Table[]> {
  for await (const b of it) return [new arrow.Table(b)];
  return [];
}

/** `t` with column `name` marked as Arrow's canonical JSON extension type. */
function withJsonMarker(t: arrow.Table, name: string): arrow.Table {
  const fields = t.schema.fields.map((f) => (f.name === name ? new arrow.Field(f.name, f.type, f.nullable, new Map([['ARROW:extension:name', 'arrow.json']])) : f));
  const schema = new arrow.Schema(fields);
  return new arrow.Table(t.batches.map((b) => new arrow.RecordBatch(schema, b.data)));
}
