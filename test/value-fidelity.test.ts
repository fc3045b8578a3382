/**
 * Values that came back wrong without an error (an independent audit, value fidelity): float32
 * read with six digits on MySQL, a year-0 date stored on MariaDB and read back as NULL, years
 * 1–99 read by toArrow as 1901–1999, and a key attribute's CURRENT_TIMESTAMP default refused.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKEND, dj, freshSchema, cleanup, manualTable } from './helpers.js';

let schema: dj.SchemaDecorator;
const SINGLE = 'single_id : int32\n---\nx : float32\ny = null : float32';
const DATED = 'dated_id : int32\n---\nd : date\nt : datetime(3)';
let Single: typeof dj.Manual, SingleCopy: typeof dj.Manual, Dated: typeof dj.Manual, DatedCopy: typeof dj.Manual;
let Big: typeof dj.Manual, Doc: typeof dj.Manual, Raw: typeof dj.Manual, Stamped: typeof dj.Manual;

const SINGLES = [16777216, 123456.789, 0.123456789, 3.4028234663852886e38, 1.5e-40, -0.5, 1 / 3];

beforeAll(async () => {
  schema = await freshSchema('fidelity');
  Single = manualTable(schema, 'Single', SINGLE);
  SingleCopy = manualTable(schema, 'SingleCopy', SINGLE);
  Dated = manualTable(schema, 'Dated', DATED);
  DatedCopy = manualTable(schema, 'DatedCopy', DATED);
  Big = manualTable(schema, 'Big', 'big_id : int32\n---\nv : <blob>');
  Doc = manualTable(schema, 'Doc', 'doc_id : int32\n---\nj : json');
  Raw = manualTable(schema, 'Raw', 'raw_id : int32\n---\nbytes_value : bytes');
  Stamped = manualTable(schema, 'Stamped', 'created = CURRENT_TIMESTAMP : datetime(6)\n---\ndata : int32');
});
afterAll(() => cleanup(schema));

describe('float32', () => {
  it('reads back the float32 stored, in every fetch and through a query', async () => {
    await Single.insert(SINGLES.map((x, i) => ({ single_id: i, x, y: i % 2 ? x : null })));
    const stored = SINGLES.map(Math.fround);
    const rows = await Single.toDicts({ orderBy: 'single_id' });
    expect(rows.map((r) => r.x)).toEqual(stored); // MySQL gave 16777200, 123457, 0.123457…
    expect(rows.map((r) => r.y)).toEqual(stored.map((x, i) => (i % 2 ? x : null)));
    expect(Array.from((await Single.toArrays('x', { orderBy: 'single_id' })) as Float32Array)).toEqual(stored);
    expect(await Single.restrict({ single_id: 1 }).fetch1('x')).toBe(Math.fround(123456.789));
    // Through a projection, a join and an insert from a query, the value stays the same float.
    const joined = await Single.proj({ x2: 'x' }).join(Single.proj('x')).toDicts({ orderBy: 'single_id' });
    expect(joined.map((r) => r.x)).toEqual(stored);
    await SingleCopy.insert(Single);
    expect((await SingleCopy.toDicts({ orderBy: 'single_id' })).map((r) => r.x)).toEqual(stored);
  });
});

describe('dates', () => {
  it('refuses year 0, which MariaDB stored and read back as NULL', async () => {
    await expect(Dated.insert1({ dated_id: 1, d: '0000-01-01', t: '2020-01-01 00:00:00' })).rejects.toThrow(dj.errors.AttributeTypeError);
    await expect(Dated.insert1({ dated_id: 1, d: '2020-01-01', t: '0000-06-15 12:00:00' })).rejects.toThrow(/a date from year 1 to 9999/);
    await expect(Dated.insert1({ dated_id: 1, d: new Date(Date.UTC(2000, 0, 1) - 2001 * 365.25 * 86_400_000), t: '2020-01-01 00:00:00' })).rejects.toThrow(/year 1 to 9999/);
    expect(await Dated.count()).toBe(0);
  });

  it('keeps years 1–99 through toArrow (it read them as 1901–1999)', async () => {
    await Dated.insert([
      { dated_id: 1, d: '0001-01-01', t: '0099-12-31 23:59:59.500' },
      { dated_id: 2, d: '0050-06-15', t: '0004-02-29 12:00:00.000' },
      { dated_id: 3, d: '2024-02-29', t: '9999-12-31 23:59:59.999' },
    ]);
    const table = await Dated.toArrow();
    const years = Array.from({ length: table.numRows }, (_, i) => new Date(table.getChild('d')!.get(i) as number).getUTCFullYear());
    expect(years.sort((a, b) => a - b)).toEqual([1, 50, 2024]);
    await DatedCopy.insert(table);
    expect(await DatedCopy.toDicts({ orderBy: 'dated_id' })).toEqual(await Dated.toDicts({ orderBy: 'dated_id' }));
  });
});

describe('a key attribute with a default', () => {
  it('takes CURRENT_TIMESTAMP from the server when left out, as the 2.0 docs show', async () => {
    const before = Date.now();
    await Stamped.insert1({ data: 1 });
    const row = await Stamped.fetch1();
    expect(row.data).toBe(1);
    expect(row.created).toBeInstanceOf(Date);
    expect(Math.abs((row.created as Date).getTime() - before)).toBeLessThan(60_000);
  });
});

describe.runIf(BACKEND === 'mysql')("a value over the server's max_allowed_packet", () => {
  it('is refused before it is sent, clearly, and the connection goes on (the server reset it: a "lost connection")', async () => {
    const [row] = await dj.conn().query('SELECT @@max_allowed_packet AS m');
    const max = Number(row!.m);
    if (max > 256 * 2 ** 20) return; // a server configured for such values stores them
    // Noise: a blob is stored compressed when that is smaller.
    const v = Float64Array.from({ length: Math.ceil((max + 2 ** 20) / 8) }, (_, i) => Math.sin(i * 12.9898) * 43758.5453);
    const err = await Big.insert1({ big_id: 1, v }).then(() => null, (e: unknown) => e as Error);
    expect(err).toBeInstanceOf(dj.DataJointError);
    expect(err).not.toBeInstanceOf(dj.errors.LostConnectionError);
    expect(err!.message).toMatch(/exceed the MySQL server's max_allowed_packet \(\d+\.\d MiB\)/);
    expect(await Big.count()).toBe(0);
    await Big.insert1({ big_id: 2, v: new Float64Array(1000).fill(2) });
    expect(await Big.count()).toBe(1);
  });

  it('is refused as well when it is text (a statement sent over the text protocol)', async () => {
    const [row] = await dj.conn().query('SELECT @@max_allowed_packet AS m');
    const max = Number(row!.m);
    if (max > 256 * 2 ** 20) return;
    const err = await Doc.insert1({ doc_id: 1, j: { text: 'x'.repeat(max + 2 ** 20) } }).then(() => null, (e: unknown) => e as Error);
    expect(err).toBeInstanceOf(dj.DataJointError);
    expect(err).not.toBeInstanceOf(dj.errors.LostConnectionError);
    expect(err!.message).toMatch(/exceed the MySQL server's max_allowed_packet/);
    await Doc.insert1({ doc_id: 2, j: { text: 'short' } });
    expect(await Doc.fetch1('j')).toEqual({ text: 'short' });
  });
});

describe.runIf(BACKEND !== 'mysql')('a bytea value too large to read back', () => {
  it('is refused at insert: PostgreSQL stored it, and reading it ended the process', async () => {
    const { MAX_READABLE_BYTEA } = await import('../src/adapters/postgres/values.js');
    const err = await Raw.insert1({ raw_id: 1, bytes_value: Buffer.alloc(MAX_READABLE_BYTEA + 1) }).then(() => null, (e: unknown) => e as Error);
    expect(err).toBeInstanceOf(dj.DataJointError);
    expect(err!.message).toMatch(/over the 256\.0 MiB a PostgreSQL bytea column can give back.*object store/);
    expect(await Raw.count()).toBe(0);
  });
});

describe.runIf(BACKEND !== 'mysql')('text with U+0000 on PostgreSQL', () => {
  it('is refused as a value error naming the character (the server refused it with an encoding error, read as an IntegrityError)', async () => {
    const Texted = manualTable(schema, 'Texted', 'texted_id : int32\n---\nlabel : varchar(32)');
    await expect(Texted.insert1({ texted_id: 1, label: 'a\u0000b' })).rejects.toThrow(dj.errors.AttributeTypeError);
    await expect(Texted.insert1({ texted_id: 1, label: 'a\u0000b' })).rejects.toThrow(/cannot hold the character U\+0000/);
    expect(await Texted.count()).toBe(0);
    await Texted.insert1({ texted_id: 2, label: 'a\\u0000b' }); // the six characters, not NUL
    expect(await Texted.restrict({ texted_id: 2 }).fetch1('label')).toBe('a\\u0000b');
  });
});
