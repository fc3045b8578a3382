/**
 * Fault injection: a TCP proxy drops the server's acknowledgement of a statement that ran (issue
 * 9, item 7): an INSERT, a COMMIT (alone and of a group commit), a job reservation (one and
 * many) and error bookkeeping. Nothing may be re-sent that is not safe to repeat: insert1
 * reports LostConnectionError (never DuplicateError for its own row), populate finds what
 * committed instead of redoing it or calling it a failure, and no job stays reserved.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { dj, cleanup } from '../helpers.js';
import { FaultProxy } from '../support/proxy.js';
import { serverAddress } from '../support/faults.js';

const database = `djtest_lostack_${process.pid}`;
let proxy: FaultProxy;
let c: dj.Connection;
let schema: dj.SchemaDecorator;
/** `db`.`table` or "db"."table": the statement's target as either dialect quotes it. */
const target = (table: string) => `[\`"]${database}[\`"]\\.[\`"]${table.replace(/[~]/g, '\\$&')}[\`"]`;

const calls = new Map<string, number>();
const count = (what: string, n: number) => calls.set(`${what}:${n}`, (calls.get(`${what}:${n}`) ?? 0) + 1);

class Item extends dj.Manual {
  static definition = `item_id : int32\n---\nfail = 0 : bool`;
}
/** Plain make: group commits. */
class Plain extends dj.Computed {
  static definition = `-> Item\n---\nv : int32`;
  async make(key: Record<string, unknown>) {
    count('plain', key.item_id as number);
    await this.insert1({ ...key, v: 1 });
  }
}
/** Generator make: one transaction per make, one reservation per key. */
class Gen extends dj.Computed {
  static definition = `-> Item\n---\nv : int32`;
  async *make(key: Record<string, unknown>) {
    const fail = (await Item.restrict(key).fetch1('fail')) as boolean;
    yield fail;
    yield 2;
    // Counted here: populate runs the fetch part twice (the second time to check the inputs).
    count('gen', key.item_id as number);
    if (fail) throw new Error(`item ${key.item_id} fails`);
    await this.insert1({ ...key, v: 2 });
  }
}

beforeAll(async () => {
  const at = await serverAddress();
  proxy = await FaultProxy.start(at.host, at.port);
  c = new dj.Connection({ ...at, host: '127.0.0.1', port: proxy.port });
  schema = dj.schema(database, { connection: c });
  await schema.drop({ prompt: false });
  for (const t of [Item, Plain, Gen]) schema.add(t);
  await schema.declare();
  await Item.insert(Array.from({ length: 30 }, (_, i) => ({ item_id: i })));
});
afterAll(async () => {
  await schema.drop({ prompt: false }).catch(() => {});
  await c.close();
  await proxy.close();
  await cleanup();
});
beforeEach(async () => {
  calls.clear();
  for (const t of [Plain, Gen]) {
    await t.deleteQuick();
    await t.jobs.drop();
    await t.jobs.declare();
  }
  expect(proxy.armed).toBe(0);
});

const madeOnce = (what: string, n: number) => Array.from({ length: n }, (_, i) => calls.get(`${what}:${i}`) ?? 0).every((x) => x === 1);

describe('a lost acknowledgement', () => {
  it('of an INSERT: insert1 fails with LostConnectionError, not DuplicateError, and the row is there', async () => {
    const dropped = proxy.dropReplyTo(new RegExp(`INSERT INTO ${target('item')}`));
    await expect(Item.insert1({ item_id: 100 })).rejects.toBeInstanceOf(dj.errors.LostConnectionError);
    await dropped;
    expect(await Item.restrict({ item_id: 100 }).count()).toBe(1);
    // Several statements commit together: a lost COMMIT reply is a LostConnectionError too.
    const commit = proxy.dropReplyTo(/COMMIT/);
    await expect(c.transaction(() => Item.insert([{ item_id: 101 }, { item_id: 102 }]))).rejects.toBeInstanceOf(dj.errors.LostConnectionError);
    await commit;
    expect(await Item.restrict('item_id > 100').count()).toBe(2);
    await Item.restrict('item_id >= 100').delete({ prompt: false });
  });

  it("of a make's COMMIT: populate finds it committed (no redo, no error, job complete)", async () => {
    const dropped = proxy.dropReplyTo(/COMMIT/);
    const r = await Gen.populate({ reserveJobs: true, restrict: 'item_id < 10' });
    await dropped;
    expect(r).toEqual({ success: 10, error: 0, skip: 0, errors: [] });
    expect(await Gen.count()).toBe(10);
    expect(madeOnce('gen', 10)).toBe(true);
    expect(await Gen.jobs.progress()).toMatchObject({ pending: 0, reserved: 0, error: 0 });
  });

  it("of a group commit's COMMIT: its makes count as made, once", async () => {
    const dropped = proxy.dropReplyTo(/COMMIT/);
    const r = await Plain.populate({ reserveJobs: true });
    await dropped;
    expect(r).toEqual({ success: 30, error: 0, skip: 0, errors: [] });
    expect(madeOnce('plain', 30)).toBe(true);
    expect(await Plain.jobs.progress()).toMatchObject({ pending: 0, reserved: 0, error: 0 });
  });

  // Ran but its reply was lost, or cut off before it reached the server (then it is run again).
  it.each([
    ['whose reply was lost: the worker learns it holds them', (p: RegExp) => proxy.dropReplyTo(p)],
    ['cut off before it reached the server: taken again', (p: RegExp) => proxy.cutBefore(p)],
  ])('a reservation (one job, then several) %s; every key made once, none left pending or reserved', async (_, fault) => {
    const one = fault(new RegExp(`UPDATE ${target('~~gen')} SET status='reserved'`));
    expect(await Gen.populate({ reserveJobs: true, restrict: 'item_id < 5' })).toMatchObject({ success: 5, error: 0, skip: 0 });
    await one;
    expect(madeOnce('gen', 5)).toBe(true);
    expect(await Gen.jobs.progress()).toMatchObject({ pending: 0, reserved: 0 });
    // The first group reserves one key; the second group's reservation (two keys) meets the fault
    // too (and, cut off, so does its first run again).
    const many = fault(new RegExp(`UPDATE ${target('~~plain')} SET status='reserved'`));
    const second = fault(new RegExp(`UPDATE ${target('~~plain')} SET status='reserved'`));
    expect(await Plain.populate({ reserveJobs: true })).toMatchObject({ success: 30, error: 0, skip: 0 });
    await Promise.all([many, second]);
    expect(madeOnce('plain', 30)).toBe(true);
    expect(await Plain.jobs.progress()).toMatchObject({ pending: 0, reserved: 0 });
  });

  it("of a failure's bookkeeping: recorded once, as the make's own error", async () => {
    await Item.update1({ item_id: 3, fail: true });
    const dropped = proxy.dropReplyTo(new RegExp(`UPDATE ${target('~~gen')} SET [^;]*status='error'`));
    const r = await Gen.populate({ reserveJobs: true, restrict: 'item_id < 6', suppressErrors: true });
    await dropped;
    expect(r.success).toBe(5);
    expect(r.error).toBe(1);
    expect(r.errors[0]!.error.message).toBe('item 3 fails');
    expect(await Gen.jobs.progress()).toMatchObject({ reserved: 0, error: 1 });
    expect(await Gen.jobs.errors.fetch1('error_message')).toBe('Error: item 3 fails');
    await Item.update1({ item_id: 3, fail: false });
  });
});
