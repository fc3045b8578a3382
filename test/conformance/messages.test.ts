/**
 * Issue 10 §9: messages and edges. A server that refuses the connection says "cannot connect
 * to host:port" (a ConnectError, not "Lost connection"); duplicate, fetch1 and integrity errors
 * name the table (fetch1 with the row count, as DataJoint Python's "N tuples found"), without
 * doubled prefixes; a too-long varchar is caught before anything is written.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dj, freshSchema, cleanup } from '../helpers.js';

let schema: dj.SchemaDecorator;

class Parent extends dj.Manual {
  static definition = `
  parent_id : int32
  ---
  name : varchar(4)
  code = 'ab' : char(2)
  `;
}
class Child extends dj.Manual {
  static definition = `
  -> Parent
  child_id : int32
  `;
}

beforeAll(async () => {
  schema = await freshSchema('messages');
  schema.add(Parent);
  schema.add(Child);
  await Parent.insert1({ parent_id: 1, name: 'a' });
  await Child.insert1({ parent_id: 1, child_id: 1 });
});
afterAll(() => cleanup(schema));

describe('a server that refuses the connection', () => {
  it.each(['mysql', 'postgresql'] as const)('%s: ConnectError "cannot connect to host:port"', async (backend) => {
    const c = new dj.Connection({ backend, host: '127.0.0.1', port: 1, user: 'nobody', password: '' });
    const err = await c.query('SELECT 1').catch((e: unknown) => e);
    await c.close();
    expect(err).toBeInstanceOf(dj.errors.ConnectError);
    expect((err as Error).message).toMatch(/^cannot connect to 127\.0\.0\.1:1\b/);
    expect((err as Error).message).not.toMatch(/Lost connection/i);
  });
});

describe('errors name the table', () => {
  it('a duplicate names the table, once', async () => {
    const err = (await Parent.insert1({ parent_id: 1, name: 'b' }).catch((e: unknown) => e)) as Error;
    expect(err).toBeInstanceOf(dj.DuplicateError);
    expect(err.message).toContain(Parent.fullTableName);
    expect(err.message).not.toMatch(/Duplicate entry:? .*Duplicate entry/i);
    const upd = (await Parent.insert(Parent.proj('name', 'code'), {}).catch((e: unknown) => e)) as Error;
    expect(upd).toBeInstanceOf(dj.DuplicateError);
    expect(upd.message).toContain(Parent.fullTableName);
  });

  it('a foreign-key violation names the table', async () => {
    const err = (await Child.insert1({ parent_id: 9, child_id: 1 }).catch((e: unknown) => e)) as Error;
    expect(err).toBeInstanceOf(dj.IntegrityError);
    expect(err.message).toContain(Child.fullTableName);
    const del = (await Parent.restrict({ parent_id: 1 }).deleteQuick().catch((e: unknown) => e)) as Error;
    expect(del).toBeInstanceOf(dj.IntegrityError);
    expect(del.message).toContain(Child.fullTableName);
  });

  it('fetch1 names the table and the number of rows', async () => {
    await expect(Parent.restrict({ parent_id: 5 }).fetch1()).rejects.toThrow(`fetch1 requires exactly one row, but ${Parent.fullTableName} has no rows`);
    await Parent.insert1({ parent_id: 2, name: 'b' });
    await Parent.insert1({ parent_id: 3, name: 'c' });
    await expect(Parent.fetch1('name')).rejects.toThrow(`fetch1 requires exactly one row, but ${Parent.fullTableName} has 3 rows`);
    await expect(Parent.proj('name').fetch1()).rejects.toThrow('fetch1 requires exactly one row, but the query has 3 rows');
  });
});

describe('a too-long varchar', () => {
  it('is refused before anything is written, naming the attribute and the limit', async () => {
    const before = await Parent.count();
    await expect(Parent.insert([{ parent_id: 10, name: 'ok' }, { parent_id: 11, name: 'toolong' }])).rejects.toThrow(
      /Row 1: Attribute `name` \(varchar\(4\)\) takes at most 4 characters, got 7/,
    );
    await expect(Parent.insert1({ parent_id: 12, name: 'x', code: 'abc' })).rejects.toThrow(/`code` \(char\(2\)\) takes at most 2 characters/);
    await expect(Parent.update1({ parent_id: 1, name: 'toolong' })).rejects.toThrow(dj.DataJointError);
    expect(await Parent.count()).toBe(before);
    expect(await Parent.restrict({ parent_id: 1 }).fetch1('name')).toBe('a');
    // Characters, not bytes or UTF-16 units.
    await Parent.insert1({ parent_id: 13, name: 'ñ😀ü' });
    expect(await Parent.restrict({ parent_id: 13 }).fetch1('name')).toBe('ñ😀ü');
    expect((await Parent.validate([{ parent_id: 14, name: 'fiver' }])).errors[0]!.field).toBe('name');
  });
});

