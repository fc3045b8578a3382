/**
 * Fault injection: connections killed from another session (issue 9, items 5, 7 and 9) during a
 * stream, a long fetch, a make (alone and in a group commit), a chunked insert and a cascading
 * delete. Expected: nothing half-written, no hang, LostConnectionError where the work is lost,
 * and populate redoing what a lost connection rolled back (reporting only real failures).
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { dj, freshSchema, cleanup } from '../helpers.js';
import { killRunning, sleepCondition } from '../support/faults.js';

let schema: dj.SchemaDecorator;
const killer = () => dj.conn();

class Num extends dj.Manual {
  static definition = `n : int32`;
}
class Parent extends dj.Manual {
  static definition = `parent_id : int32\n---\nnote = '' : varchar(16)`;
}
class Child extends dj.Manual {
  static definition = `-> Parent\nchild_id : int32`;
}
class GrandChild extends dj.Manual {
  static definition = `-> Child\ngc_id : int32`;
}

/** Keys whose make kills its own transaction's session (from another session) on its first call. */
const killOnce = new Set<number>();
/** Keys whose make kills its session every time. */
const killAlways = new Set<number>();
const calls = new Map<number, number>();
async function maybeKill(t: dj.Table, id: number): Promise<void> {
  calls.set(id, (calls.get(id) ?? 0) + 1);
  if (killAlways.has(id) || (killOnce.has(id) && calls.get(id) === 1)) {
    await killer().killSession(await t.connection.connectionId());
  }
}
class Square extends dj.Computed {
  static definition = `-> Num\n---\nsq : int32`;
  static Digit = class extends dj.Part {
    static definition = `-> master\npos : int32\n---\nd : int32`;
  };
  async make(key: Record<string, unknown>) {
    const n = key.n as number;
    await this.insert1({ ...key, sq: n * n });
    await maybeKill(this, n);
    await Square.Digit.insert([...String(n)].map((d, pos) => ({ ...key, pos, d: Number(d) })));
  }
}
class Cube extends dj.Computed {
  static definition = `-> Num\n---\ncube : int32`;
  async *make(key: Record<string, unknown>) {
    const n = key.n as number;
    yield n;
    const cube = n * n * n;
    yield cube;
    await this.insert1({ ...key, cube });
    await maybeKill(this, n);
  }
}
class Half extends dj.Computed {
  static definition = `-> Num\n---\nhalf : float64`;
  async makeFetch(key: Record<string, unknown>) {
    return key.n as number;
  }
  makeCompute(_key: unknown, n: number) {
    return n / 2;
  }
  async makeInsert(key: Record<string, unknown>, half: number) {
    await this.insert1({ ...key, half });
    await maybeKill(this, key.n as number);
  }
}

beforeAll(async () => {
  schema = await freshSchema('fkill');
  for (const c of [Num, Parent, Child, GrandChild, Square, Cube, Half]) schema.add(c);
  await schema.declare();
  await Num.insert(Array.from({ length: 1000 }, (_, i) => [i]));
});
afterAll(() => cleanup(schema));
beforeEach(() => {
  killOnce.clear();
  killAlways.clear();
  calls.clear();
});

/** A million rows streamed by the server (a cross join), found by `marker`. */
function million(marker: string): dj.QueryExpression {
  return Num.proj({ a: 'n' }).join(Num.proj({ b: 'n' })).restrict(`'${marker}' = '${marker}'`);
}

describe('a stream whose connection is killed', () => {
  for (const where of ['pooled', 'in a transaction'] as const) {
    it(`ends with LostConnectionError, never hangs (${where})`, async () => {
      const marker = `stream_${where === 'pooled' ? 'p' : 't'}_${process.pid}`;
      const c = new dj.Connection();
      const run = async () => {
        let n = 0;
        for await (const batch of c.stream(await million(marker).sql(), undefined, { batchRows: 1000 })) {
          n += batch.rows.length;
          if (n === 20_000) await killRunning(killer(), marker);
          if (n % 100_000 === 0) await new Promise((r) => setImmediate(r));
        }
        return n;
      };
      const t0 = Date.now();
      const outcome = await (where === 'pooled' ? run() : c.transaction(run)).then(
        (n) => ({ n }),
        (e: Error) => ({ e }),
      );
      expect(outcome).toHaveProperty('e');
      expect((outcome as { e: Error }).e).toBeInstanceOf(dj.errors.LostConnectionError);
      expect(Date.now() - t0).toBeLessThan(30_000);
      // The connection is usable afterwards (a new session).
      expect(Number((await c.query('SELECT 1 AS one'))[0]!.one)).toBe(1);
      await c.close();
    });
  }

  it('for await over a query expression ends with LostConnectionError too', async () => {
    const marker = `stream_x_${process.pid}`;
    let n = 0;
    const t0 = Date.now();
    await expect(
      (async () => {
        for await (const _row of million(marker)) if (++n === 5_000) await killRunning(killer(), marker);
      })(),
    ).rejects.toBeInstanceOf(dj.errors.LostConnectionError);
    expect(n).toBeLessThan(1_000_000);
    expect(Date.now() - t0).toBeLessThan(30_000);
  });
});

describe('a long fetch whose connection is killed', () => {
  it('is read again on a new connection outside a transaction (a read is safe to repeat)', async () => {
    const marker = `fetch_${process.pid}`;
    const c = new dj.Connection();
    // One row, so that the server sleeps once (it may evaluate the condition per row).
    const query = Num.restrict({ n: 7 }).restrict(sleepCondition(c, 1.5, marker));
    const fetching = c.query(await query.sql());
    const killed = await killRunning(killer(), marker);
    expect(await fetching).toEqual([{ n: 7 }]);
    expect(await c.connectionId()).not.toBe(killed);
    await c.close();
  });

  it('fails with LostConnectionError inside a transaction (its work is gone)', async () => {
    const marker = `fetchtx_${process.pid}`;
    const c = new dj.Connection();
    const sql = await Num.restrict({ n: 7 }).restrict(sleepCondition(c, 1.5, marker)).sql();
    // Settled into a value at once: the rejection may come before the kill helper returns.
    const tx = c.transaction(() => c.query(sql)).then(() => null, (e: unknown) => e);
    await killRunning(killer(), marker);
    expect(await tx).toBeInstanceOf(dj.errors.LostConnectionError);
    await c.close();
  });
});

describe('populate whose connection is killed during a make', () => {
  beforeEach(async () => {
    for (const t of [Square.Digit, Square, Cube, Half]) await t.deleteQuick();
    for (const t of [Square, Cube, Half]) await t.jobs.drop();
  });

  it('redoes a group commit the kill rolled back; reports no failure; leaves no partial rows', async () => {
    killOnce.add(37);
    const r = await Square.populate({ restrict: 'n < 120' });
    expect(r).toEqual({ success: 120, error: 0, skip: 0, errors: [] });
    expect(await Square.count()).toBe(120);
    // Every master has all its parts.
    const digits = Array.from({ length: 120 }, (_, n) => String(n).length).reduce((a, b) => a + b, 0);
    expect(await Square.Digit.count()).toBe(digits);
    expect(calls.get(37)).toBe(2);
  });

  it('with reserveJobs too: the jobs end up complete, none reserved or error', async () => {
    killOnce.add(5).add(70);
    const r = await Square.populate({ restrict: 'n < 100', reserveJobs: true });
    expect(r).toMatchObject({ success: 100, error: 0 });
    expect(await Square.jobs.progress()).toMatchObject({ pending: 0, reserved: 0, error: 0 });
  });

  it('redoes a generator or three-part make whose transaction was killed', async () => {
    killOnce.add(3);
    expect(await Cube.populate({ restrict: 'n < 10' })).toEqual({ success: 10, error: 0, skip: 0, errors: [] });
    expect(await Cube.restrict({ n: 3 }).fetch1('cube')).toBe(27);
    calls.clear();
    killOnce.add(4);
    expect(await Half.populate({ restrict: 'n < 10', reserveJobs: true })).toMatchObject({ success: 10, error: 0 });
    expect(calls.get(4)).toBe(2);
    expect(await Half.jobs.progress()).toMatchObject({ reserved: 0, error: 0 });
  });

  it('reports a key that loses its connection every time as LostConnectionError, and only that key', async () => {
    killAlways.add(8);
    const r = await Square.populate({ restrict: 'n < 20', reserveJobs: true, suppressErrors: true });
    expect(r.success).toBe(19);
    expect(r.error).toBe(1);
    expect(r.errors[0]!.key).toEqual({ n: 8 });
    expect(r.errors[0]!.error).toBeInstanceOf(dj.errors.LostConnectionError);
    expect(calls.get(8)).toBe(4); // once in a group commit, then alone: three times
    expect(await Square.jobs.progress()).toMatchObject({ reserved: 0, error: 1 });
    expect(await Square.restrict({ n: 8 }).count()).toBe(0);
  });
});

describe('a chunked insert whose connection is killed', () => {
  it('keeps whole chunks only and fails with LostConnectionError (never DuplicateError)', async () => {
    const c = new dj.Connection({ poolSize: 1 });
    const s = dj.schema(schema.database, { connection: c });
    class Bulk extends dj.Manual {
      static definition = `bulk_id : int32`;
    }
    s.add(Bulk);
    await Bulk.declare();
    // Inserting row 3,500 takes 2 s (a trigger): the fourth chunk's statement is in flight then.
    const conn = dj.conn();
    if (conn.dialect.name === 'mysql') {
      await conn.execute(`CREATE TRIGGER ${conn.dialect.quoteId(schema.database)}.slow_bulk BEFORE INSERT ON ${Bulk.fullTableName} FOR EACH ROW SET @slept_in_bulk = IF(NEW.bulk_id = 3500, SLEEP(2), 0)`);
    } else {
      const fn = `${conn.dialect.quoteId(schema.database)}.slow_insert`;
      await conn.execute(`CREATE FUNCTION ${fn}() RETURNS trigger AS $$ BEGIN IF NEW.bulk_id = 3500 THEN PERFORM pg_sleep(2); END IF; RETURN NEW; END $$ LANGUAGE plpgsql`);
      await conn.execute(`CREATE TRIGGER slow_bulk BEFORE INSERT ON ${Bulk.fullTableName} FOR EACH ROW EXECUTE FUNCTION ${fn}()`);
    }
    const inserting = Bulk.insert(Array.from({ length: 5_000 }, (_, i) => ({ bulk_id: i })), { chunkSize: 1_000 }).then(() => null, (e: unknown) => e);
    // The slow statement: the one running for a second already (every chunk shows the same text).
    await killRunning(killer(), conn.dialect.name === 'mysql' ? 'slept_in_bulk' : `INSERT INTO ${Bulk.fullTableName}`, { minSeconds: 1 });
    expect(await inserting).toBeInstanceOf(dj.errors.LostConnectionError);
    expect(await Bulk.count()).toBe(3_000); // three whole chunks; the fourth rolled back whole
    // Without chunkSize the whole stream is one transaction: a kill undoes all of it.
    await Bulk.deleteQuick();
    async function* more() {
      for (let i = 0; i < 25_000; i++) {
        // Two batches of 10,000 rows are written in the insert's transaction by now.
        if (i === 20_000) await killer().killSession(c.transactionConnectionId()!);
        yield { bulk_id: i };
      }
    }
    await expect(Bulk.insert(more())).rejects.toBeInstanceOf(dj.errors.LostConnectionError);
    expect(await Bulk.count()).toBe(0);
    await Bulk.drop({ prompt: false });
    await c.close();
  });
});

describe('a cascading delete whose connection is killed', () => {
  it('deletes nothing: the descendants already deleted come back with the rollback', async () => {
    await Parent.insert([{ parent_id: 1 }, { parent_id: 2 }]);
    await Child.insert([1, 2].flatMap((p) => [1, 2, 3].map((c) => ({ parent_id: p, child_id: c }))));
    await GrandChild.insert([1, 2].flatMap((p) => [1, 2, 3].map((c) => ({ parent_id: p, child_id: c, gc_id: 1 }))));
    // Deleting a child row takes 0.3 s (a trigger): the cascade has deleted the grandchildren
    // (children first) and is in the middle of the children when the kill lands.
    const conn = dj.conn();
    if (conn.dialect.name === 'mysql') {
      await conn.execute(`CREATE TRIGGER ${conn.dialect.quoteId(schema.database)}.slow_child BEFORE DELETE ON ${Child.fullTableName} FOR EACH ROW SET @slept_in_child = SLEEP(0.3)`);
    } else {
      const fn = `${conn.dialect.quoteId(schema.database)}.slow_delete`;
      await conn.execute(`CREATE FUNCTION ${fn}() RETURNS trigger AS $$ BEGIN PERFORM pg_sleep(0.3); RETURN OLD; END $$ LANGUAGE plpgsql`);
      await conn.execute(`CREATE TRIGGER slow_child BEFORE DELETE ON ${Child.fullTableName} FOR EACH ROW EXECUTE FUNCTION ${fn}()`);
    }
    const deleting = Parent.restrict({ parent_id: 1 }).delete({ prompt: false }).then(() => null, (e: unknown) => e);
    // MariaDB lists the trigger's statement as the one running; PostgreSQL the DELETE.
    await killRunning(killer(), conn.dialect.name === 'mysql' ? 'slept_in_child' : `DELETE FROM ${Child.fullTableName} WHERE`);
    expect(await deleting).toBeInstanceOf(dj.errors.LostConnectionError);
    expect(await Parent.count()).toBe(2);
    expect(await Child.count()).toBe(6);
    expect(await GrandChild.count()).toBe(6);
    // And the delete works when left alone.
    expect(await Parent.restrict({ parent_id: 1 }).delete({ prompt: false })).toBe(1);
    expect([await Child.count(), await GrandChild.count()]).toEqual([3, 3]);
  });
});
