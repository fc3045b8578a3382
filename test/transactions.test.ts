/**
 * Transactions and DDL, populate's preconditions and the pool (issue 9, items 1, 2 and 11).
 * - Registered tables are declared before a transaction begins, so a transaction that first
 *   touches one rolls back whole (MySQL would otherwise commit it with the DDL; PostgreSQL
 *   would roll the new table back while the library believes it exists).
 * - populate inside a transaction or a make is refused, as in DataJoint Python.
 * - A full pool fails with PoolTimeoutError, and work inside a transaction never needs a
 *   second pooled connection.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKEND, dj, freshSchema, cleanup } from './helpers.js';

let schema: dj.SchemaDecorator;
let tiny: dj.Connection;
let tinySchema: dj.SchemaDecorator;

class Item extends dj.Manual {
  static definition = `item_id : int32\n---\nlabel = '' : varchar(32)`;
}
class Side extends dj.Manual {
  static definition = `side_id : int32\n---\nnote : varchar(32)`;
}
class SideLog extends dj.Manual {
  static definition = `log_id : int32`;
}
class Doubled extends dj.Computed {
  static definition = `-> Item\n---\nv : int32`;
  async make(key: Record<string, unknown>) {
    const id = key.item_id as number;
    // The first make of the run touches SideLog, which nothing has declared yet.
    await SideLog.insert1({ log_id: id });
    if (id === 2) throw new Error('make 2 fails after writing to SideLog');
    await this.insert1({ ...key, v: 2 * id });
  }
}

beforeAll(async () => {
  schema = await freshSchema('tx');
  schema.add(Item);
  await Item.declare();
});
afterAll(async () => {
  await tinySchema?.drop({ prompt: false }).catch(() => {});
  await tiny?.close();
  await cleanup(schema);
});

describe('DDL never runs inside a transaction', () => {
  it('a transaction that first touches a registered table rolls back whole, and the table stays', async () => {
    schema.add(Side); // registered, never used: not declared yet
    const conn = dj.conn();
    expect(await conn.catalog.columns(schema.database, 'side')).toEqual([]);
    await expect(
      conn.transaction(async () => {
        await Item.insert1({ item_id: 100 });
        await Side.insert1({ side_id: 1, note: 'inside' });
        throw new Error('roll back');
      }),
    ).rejects.toThrow('roll back');
    expect(await Item.restrict({ item_id: 100 }).count()).toBe(0);
    expect(await Side.count()).toBe(0); // MySQL would have committed it with CREATE TABLE
    await Side.insert1({ side_id: 2, note: 'after' }); // and the table is really there
    expect(await Side.count()).toBe(1);
  });

  it('a failing make that first touches a side table leaves no rows in it', async () => {
    schema.add(SideLog);
    schema.add(Doubled);
    await Item.insert([{ item_id: 1 }, { item_id: 2 }, { item_id: 3 }]);
    const r = await Doubled.populate({ suppressErrors: true });
    expect(r).toMatchObject({ success: 2, error: 1 });
    expect((await SideLog.keys({ orderBy: 'log_id' })).map((k) => k.log_id)).toEqual([1, 3]);
    expect(await Doubled.count()).toBe(2);
  });

  it('a table registered inside a transaction is refused clearly on MySQL (declared in it on PostgreSQL)', async () => {
    class Late extends dj.Manual {
      static definition = `late_id : int32`;
    }
    const conn = dj.conn();
    const attempt = conn.transaction(async () => {
      schema.add(Late);
      await Late.insert1({ late_id: 1 });
    });
    if (BACKEND === 'mysql') {
      await expect(attempt).rejects.toThrow(/declaring it inside a transaction would commit the transaction.*Declare it before the transaction begins/);
      expect(await conn.catalog.columns(schema.database, 'late')).toEqual([]);
    } else {
      await attempt;
      expect(await Late.count()).toBe(1);
    }
  });
});

describe('populate refuses to run where DataJoint Python refuses', () => {
  it('inside a transaction', async () => {
    await expect(dj.conn().transaction(() => Doubled.populate())).rejects.toThrow(/^Populate cannot be called during a transaction/);
  });

  it('inside a make (plain, or a three-part fetch), without recursing', async () => {
    let calls = 0;
    class Recursive extends dj.Computed {
      static definition = `-> Item\n---\nv : int32`;
      async make(key: Record<string, unknown>) {
        calls++;
        await Recursive.populate(); // its own table: would recurse without bound
        await this.insert1({ ...key, v: 1 });
      }
    }
    class FetchPopulates extends dj.Computed {
      static definition = `-> Item\n---\nv : int32`;
      async makeFetch() {
        await Doubled.populate();
        return 1;
      }
      makeCompute(_k: unknown, f: number) {
        return f;
      }
      async makeInsert(key: Record<string, unknown>, v: number) {
        await this.insert1({ ...key, v });
      }
    }
    schema.add(Recursive);
    schema.add(FetchPopulates);
    const r = await Recursive.populate({ restrict: { item_id: 1 }, suppressErrors: true });
    expect(r.error).toBe(1);
    expect(r.errors[0]!.error.message).toMatch(/Populate cannot be called (during a transaction|inside a make)/);
    expect(calls).toBe(1);
    const f = await FetchPopulates.populate({ restrict: { item_id: 1 }, suppressErrors: true });
    expect(f.errors[0]!.error.message).toMatch(/Populate cannot be called inside a make \(Doubled\.populate called from FetchPopulates\.make\)/);
    expect(await Recursive.count()).toBe(0);
  });
});

describe('the pool', () => {
  it('fails with PoolTimeoutError when every pooled connection is held by a transaction', async () => {
    const c = new dj.Connection({ poolSize: 2, acquireTimeout: 300 });
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const txs = [0, 1].map(() => c.transaction(async () => {
      await c.query('SELECT 1');
      await held;
    }));
    await new Promise((r) => setTimeout(r, 100));
    const t0 = Date.now();
    await expect(c.query('SELECT 1')).rejects.toBeInstanceOf(dj.errors.PoolTimeoutError);
    expect(Date.now() - t0).toBeLessThan(5_000);
    release();
    await Promise.all(txs);
    expect(Number((await c.query('SELECT 1 AS one'))[0]!.one)).toBe(1);
    await c.close();
  });

  it('inside a transaction, catalog look-ups, declarations of parts and populate bookkeeping use its session', async () => {
    tiny = new dj.Connection({ poolSize: 1, acquireTimeout: 2_000 });
    tinySchema = dj.schema(`djtest_txtiny_${process.pid}`, { connection: tiny });
    await tinySchema.drop({ prompt: false });
    class Thing extends dj.Manual {
      static definition = `thing_id : int32\n---\nfail = 0 : bool`;
    }
    class Copy extends dj.Computed {
      static definition = `-> Thing`;
      static Part = class extends dj.Part {
        static definition = `-> master\nk : int32`;
      };
      async make(key: Record<string, unknown>) {
        if ((await Thing.restrict(key).fetch1('fail')) as boolean) throw new Error('fails');
        await this.insert1(key);
        await Copy.Part.insert1({ ...key, k: 1 });
      }
    }
    tinySchema.add(Thing);
    tinySchema.add(Copy);
    await Thing.insert(Array.from({ length: 20 }, (_, i) => ({ thing_id: i, fail: i % 7 === 3 })));
    const t0 = Date.now();
    const r = await Copy.populate({ reserveJobs: true, suppressErrors: true });
    expect(r).toMatchObject({ success: 17, error: 3 });
    expect(Date.now() - t0).toBeLessThan(20_000);
    expect(await Copy.jobs.progress()).toMatchObject({ reserved: 0, pending: 0, error: 3 });
    await tiny.transaction(async () => {
      // A fresh table object's heading comes from the catalog, on this transaction's session.
      const free = await tinySchema.getTable('thing');
      expect(await free.count()).toBe(20);
      expect((await tiny.catalog.foreignKeys(tinySchema.database)).length).toBeGreaterThan(0);
    });
  });
});
