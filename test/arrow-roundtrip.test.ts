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
  it('char(n) reads without its padding in toArrow and arrowBatches, as in toDicts', async () => {
    const t = await Source.toArrow({ orderBy: 'id' });
    expect([t.getChild('c')!.get(0), t.getChild('c')!.get(1)]).toEqual(['ab', 'abcd']);
    const [b] = await firstBatch(Source.arrowBatches({ orderBy: 'id' }));
    expect(b!.getChild('c')!.get(0)).toBe('ab');
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

