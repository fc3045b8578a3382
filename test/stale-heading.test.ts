// A table altered by another process (here: another connection with its own schema object)
// after this process cached its heading: the first statement built from the old heading finds
// out, the heading is reloaded, reads outside a transaction simply work, and writes fail once
// with a TableChangedError saying to run them again (then they work).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dj, freshSchema, cleanup, manualTable } from './helpers.js';

let schema: dj.SchemaDecorator;
const BEFORE = 'id : int32\n---\nkeep : int32\ngone = 0 : int32';
const AFTER = 'id : int32\n---\nkeep : int32\nextra = 5 : int32';

/** A table declared with BEFORE and one row, its heading cached in this process. */
async function cachedTable(name: string): Promise<typeof dj.Manual> {
  const T = manualTable(schema, name, BEFORE);
  await T.insert1({ id: 1, keep: 1, gone: 2 });
  expect((await T.heading()).names).toEqual(['id', 'keep', 'gone']);
  return T;
}

/** Alter the table of class `name` to `definition` through another connection and schema object. */
async function alterElsewhere(name: string, definition: string): Promise<void> {
  const other = new dj.Connection();
  try {
    const s = dj.schema(schema.database, { connection: other });
    await manualTable(s, name, definition).alter({ prompt: false });
  } finally {
    await other.close();
  }
}

beforeAll(async () => {
  schema = await freshSchema('stale_heading');
});
afterAll(async () => {
  await cleanup(schema);
});

describe('a table altered by another process', () => {
  it('is read with its current attributes (the read runs again on the reloaded heading)', async () => {
    const T = await cachedTable('ReadAgain');
    await alterElsewhere('ReadAgain', AFTER);
    expect(await T.toDicts()).toEqual([{ id: 1, keep: 1, extra: 5 }]);
    expect((await T.heading()).names).toEqual(['id', 'keep', 'extra']);
    expect(await T.restrict({ id: 1 }).fetch1('keep')).toBe(1);
  });

  it('gives an attribute added there to fetch1, proj and restrictions', async () => {
    const T = await cachedTable('NewAttr');
    await alterElsewhere('NewAttr', AFTER);
    expect(await T.restrict({ id: 1 }).fetch1('extra')).toBe(5);
    expect(await T.restrict('extra = 5').proj('extra').toDicts()).toEqual([{ id: 1, extra: 5 }]);
  });

  it('refuses a write naming a dropped column once, saying why, then writes', async () => {
    const T = await cachedTable('WriteDropped');
    await alterElsewhere('WriteDropped', AFTER);
    const err = await T.insert1({ id: 2, keep: 2, gone: 3 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(dj.TableChangedError);
    expect(err).toBeInstanceOf(dj.UnknownAttributeError);
    expect((err as Error).message).toMatch(/changed by another process/);
    expect((err as Error).message).toMatch(/reloaded: run the call again/);
    expect(await T.count()).toBe(1); // nothing written, and not run again behind the caller's back
    await T.insert1({ id: 2, keep: 2, extra: 7 });
    expect(await T.restrict({ id: 2 }).fetch1('extra')).toBe(7);
  });

  it('refuses a write of an attribute added there once (the heading lacked it), then writes', async () => {
    const T = await cachedTable('WriteAdded');
    await alterElsewhere('WriteAdded', AFTER);
    await expect(T.insert1({ id: 2, keep: 2, extra: 9 })).rejects.toThrow(dj.TableChangedError);
    await T.insert1({ id: 2, keep: 2, extra: 9 });
    expect(await T.restrict({ id: 2 }).fetch1('extra')).toBe(9);
    await T.update1({ id: 2, extra: 10 });
    expect(await T.restrict({ id: 2 }).fetch1('extra')).toBe(10);
  });

  it('does not run a read again inside a transaction, and works after it', async () => {
    const T = await cachedTable('InTransaction');
    await alterElsewhere('InTransaction', AFTER);
    const conn = dj.conn();
    const err = await conn.transaction(() => T.toDicts()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(dj.TableChangedError);
    expect(await T.toDicts()).toEqual([{ id: 1, keep: 1, extra: 5 }]);
  });

  it('follows a renamed attribute', async () => {
    const T = await cachedTable('Renamed');
    await alterElsewhere('Renamed', 'id : int32\n---\nkeep : int32\nkept = 0 : int32  # {gone}');
    expect(await T.toDicts()).toEqual([{ id: 1, keep: 1, kept: 2 }]);
  });

  it('is read afresh by schema.getTable()', async () => {
    await cachedTable('GetTable');
    await alterElsewhere('GetTable', AFTER);
    const t = await schema.getTable('GetTable');
    expect((await t.heading()).names).toEqual(['id', 'keep', 'extra']);
  });

  it('leaves an unknown column that is the caller’s own an UnknownAttributeError', async () => {
    const T = await cachedTable('Typo');
    const err = await T.restrict('nosuch = 1').toDicts().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(dj.UnknownAttributeError);
    expect(err).not.toBeInstanceOf(dj.TableChangedError);
    const own = await T.restrict({ id: 1 }).fetch1('nosuch').catch((e: unknown) => e);
    expect(own).toBeInstanceOf(dj.UnknownAttributeError);
    expect(own).not.toBeInstanceOf(dj.TableChangedError);
  });
});
