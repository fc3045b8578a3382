/**
 * Restriction by a long list of composite keys. PostgreSQL rewrites `(a,b) IN ((1,2),…)` into a
 * nested OR, one level per key, and 20,000 keys exceed its stack ("stack depth limit
 * exceeded"); a list of mixed key sets or NULLs used to become thousands of ORs (minutes of
 * JIT compiling there). Every operation that takes the list must work, with the same rows as
 * the short-list form.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dj, freshSchema, cleanup, manualTable } from './helpers.js';

const ROWS = 22_000;
let schema: dj.SchemaDecorator;
let Rec: typeof dj.Manual;
let Child: typeof dj.Manual;
let Item: typeof dj.Manual;

/** `2020-01-01` plus `i % 400` days. */
function dateOf(i: number): string {
  return new Date(Date.UTC(2020, 0, 1) + (i % 400) * 86_400_000).toISOString().slice(0, 10);
}
const noteOf = (i: number): string | null => (i % 3 === 0 ? null : `n${i}`);

/** 20,000 keys: 19,000 of existing rows (3000…21999), 1,000 of none. */
const recKeys = Array.from({ length: 20_000 }, (_, j) => ({ rec_id: 3000 + j, rec_date: dateOf(3000 + j) }));
const itemKeys = Array.from({ length: 20_000 }, (_, j) => ({ item_id: 3000 + j, code: `c${(3000 + j) % 97}` }));
const EXPECTED = ROWS - 3000;

async function ids(q: dj.QueryExpression, attr: string): Promise<number[]> {
  return (await q.toDicts()).map((r) => Number(r[attr])).sort((a, b) => a - b);
}

beforeAll(async () => {
  schema = await freshSchema('restrict_many');
  Rec = manualTable(schema, 'Rec', 'rec_id : int32\nrec_date : date\n---\nnote = null : varchar(16)');
  Child = manualTable(schema, 'Child', '-> Rec\nn : int16');
  Item = manualTable(schema, 'Item', 'item_id : int32\ncode : varchar(16)');
  await Rec.insert(Array.from({ length: ROWS }, (_, i) => ({ rec_id: i, rec_date: dateOf(i), note: noteOf(i) })));
  await Child.insert(Array.from({ length: ROWS / 10 }, (_, k) => ({ rec_id: k * 10, rec_date: dateOf(k * 10), n: 1 })));
  await Item.insert(Array.from({ length: ROWS }, (_, i) => ({ item_id: i, code: `c${i % 97}` })));
}, 120_000);

afterAll(async () => {
  await cleanup(schema);
});

describe('restriction by 20,000 composite keys', () => {
  it('counts and fetches the rows of the keys (int + date)', async () => {
    const q = Rec.restrict(recKeys);
    expect(await q.count()).toBe(EXPECTED);
    const got = await ids(q, 'rec_id');
    expect(got).toEqual(Array.from({ length: EXPECTED }, (_, j) => 3000 + j));
    // The anti-restriction is the rest.
    expect(await Rec.restrict(dj.not(recKeys)).count()).toBe(3000);
    // The same as the short-list form, key list by key list.
    for (const start of [3000, 21_950]) {
      const few = recKeys.filter((k) => k.rec_id >= start && k.rec_id < start + 60);
      expect(await ids(Rec.restrict(few), 'rec_id')).toEqual(got.filter((i) => i >= start && i < start + 60));
    }
  });

  it('counts what a cascading delete would reach', async () => {
    // The keys are materialized as literals: an OR of 19,000 equalities took 16 s on MariaDB.
    const started = Date.now();
    const counts = await dj.Diagram.cascade(Rec.restrict(recKeys)).counts();
    expect(Date.now() - started).toBeLessThan(8000);
    expect(counts[Rec.fullTableName]).toBe(EXPECTED);
    expect(counts[Child.fullTableName]).toBe(1900);
  });

  it('counts, fetches and deletes by int + varchar keys (deleteQuick)', async () => {
    const q = Item.restrict(itemKeys);
    expect(await q.count()).toBe(EXPECTED);
    expect((await q.toDicts()).length).toBe(EXPECTED);
    const started = Date.now();
    expect(await q.deleteQuick()).toBe(EXPECTED);
    expect(Date.now() - started).toBeLessThan(8000);
    expect(await Item.count()).toBe(3000);
  });

  it('deletes with the cascade into the child table', async () => {
    expect(await Rec.restrict(recKeys).delete()).toBe(EXPECTED);
    expect(await Rec.count()).toBe(3000);
    expect(await Child.count()).toBe(300);
  });
});

describe('restriction by keys of other types', () => {
  it('an enum in the key', async () => {
    const Tag = manualTable(schema, 'Tag', "tag_id : int32\nside : enum('left','right')");
    await Tag.insert(Array.from({ length: 400 }, (_, i) => ({ tag_id: i >> 1, side: i % 2 ? 'right' : 'left' })));
    const keys = Array.from({ length: 150 }, (_, i) => ({ tag_id: i, side: i % 3 ? 'right' : 'left' }));
    expect((await Tag.restrict(keys).toDicts()).map((r) => `${r.tag_id}${r.side}`).sort()).toEqual(keys.map((k) => `${k.tag_id}${k.side}`).sort());
    expect(await Tag.restrict(keys).delete()).toBe(150);
  });
});

describe('restriction by a list of mixed key sets and NULLs', () => {
  it('5,000 keys of three shapes give the rows of each, quickly', async () => {
    // Fresh rows (the tests above deleted most of them).
    await Child.deleteQuick();
    await Rec.deleteQuick();
    await Rec.insert(Array.from({ length: 8000 }, (_, i) => ({ rec_id: i, rec_date: dateOf(i), note: noteOf(i) })));
    const keys: Array<Record<string, unknown>> = [];
    for (let i = 0; i < 5000; i++) {
      const date = i % 7 === 0 ? dateOf(i + 1) : dateOf(i); // every 7th: a date of no row
      if (i % 5 === 0) keys.push({ rec_id: i }); // fewer attributes: any date
      else if (i % 3 === 0) keys.push({ rec_id: i, rec_date: date, note: null });
      else if (i % 4 === 0) keys.push({ rec_id: i, note: `n${i}` });
      else keys.push({ rec_date: date, rec_id: i }); // another key order, same key set
    }
    const matches = (i: number): boolean => {
      if (i % 5 === 0) return true;
      if (i % 3 === 0) return i % 7 !== 0 && noteOf(i) === null;
      if (i % 4 === 0) return true;
      return i % 7 !== 0;
    };
    const expected = Array.from({ length: 5000 }, (_, i) => i).filter(matches);

    const started = Date.now();
    const q = Rec.restrict(keys);
    expect(await q.count()).toBe(expected.length);
    const got = await ids(q, 'rec_id');
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(got).toEqual(expected);

    // The short-list form (under 100 keys at a time) selects the same rows.
    const short: number[] = [];
    for (let s = 0; s < keys.length; s += 99) short.push(...(await ids(Rec.restrict(keys.slice(s, s + 99)), 'rec_id')));
    expect(short.sort((a, b) => a - b)).toEqual(expected);

    expect(await Rec.restrict(keys).deleteQuick()).toBe(expected.length);
    expect(await Rec.count()).toBe(8000 - expected.length);
  });
});

describe('part integrity with thousands of orphaned masters', () => {
  it("deleting 15,000 part rows with partIntegrity: 'cascade' deletes their masters (int + date keys)", async () => {
    class Session extends dj.Manual {
      static definition = 'session_id : int32\nsession_date : date';
      static Trial = class extends dj.Part {
        static definition = '-> master\ntrial : int16';
      };
    }
    schema.add(Session);
    await Session.declare();
    await Session.insert(Array.from({ length: 16_000 }, (_, i) => ({ session_id: i, session_date: dateOf(i) })));
    await Session.Trial.insert(Array.from({ length: 16_000 }, (_, i) => ({ session_id: i, session_date: dateOf(i), trial: 1 })));
    // Restricted by a column outside the key list: the masters to add come from the orphans' keys.
    expect(await Session.Trial.restrict('session_id < 15000').delete({ partIntegrity: 'cascade' })).toBeGreaterThanOrEqual(15_000);
    expect(await Session.count()).toBe(1000);
    expect(await Session.Trial.count()).toBe(1000);
    expect(await ids(new Session(), 'session_id')).toEqual(Array.from({ length: 1000 }, (_, i) => 15_000 + i));
  });
});
