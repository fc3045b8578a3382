import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BACKEND, dj, freshSchema, cleanup } from './helpers.js';
import { Config } from '../src/config.js';
import { createUser } from './support/users.js';

let schema: dj.SchemaDecorator;
class Item extends dj.Manual {
  static definition = `item_id : int32\n---\nlabel = '' : varchar(16)`;
}

beforeAll(async () => {
  schema = await freshSchema('conn');
  schema.add(Item);
  await Item.declare();
});
afterAll(() => cleanup(schema));

describe('the backend', () => {
  it('is named by the connection (the setting left unset reads back as null)', () => {
    expect(dj.conn().backend).toBe(BACKEND);
  });
});

describe('transactions', () => {
  it('commits on return and rolls back fully on throw', async () => {
    const conn = dj.conn();
    await conn.transaction(async () => {
      await Item.insert1({ item_id: 1 });
      await Item.insert1({ item_id: 2 });
    });
    expect(await Item.count()).toBe(2);
    await expect(
      conn.transaction(async () => {
        await Item.insert1({ item_id: 3 });
        await Item.insert1({ item_id: 1 }); // duplicate: fails midway
      }),
    ).rejects.toBeInstanceOf(dj.DuplicateError);
    expect(await Item.count()).toBe(2);
  });

  it('isolates a transaction from concurrent statements and nests with savepoints', async () => {
    const conn = dj.conn();
    await conn.transaction(async () => {
      await Item.insert1({ item_id: 10 });
      // Another connection does not see the uncommitted row.
      const other = new dj.Connection();
      const rows = await other.query(`SELECT COUNT(*) AS n FROM ${Item.fullTableName} WHERE item_id = 10`);
      expect(Number(rows[0]!.n)).toBe(0);
      await other.close();
      // An inner failure that the caller catches undoes only the inner work.
      await conn.transaction(async () => {
        await Item.insert1({ item_id: 11 });
        throw new Error('inner');
      }).catch(() => {});
      await conn.transaction(async () => Item.insert1({ item_id: 12 }));
      expect(conn.inTransaction).toBe(true);
    });
    expect((await Item.keys({ orderBy: 'item_id' })).map((k) => k.item_id)).toEqual([1, 2, 10, 12]);
  });
});

describe('errors and reconnection', () => {
  it('translates server errors into DataJointError subclasses', async () => {
    const conn = dj.conn();
    await expect(conn.query('SELECT * FROM no_such_db.no_such_table')).rejects.toBeInstanceOf(dj.MissingTableError);
    await expect(conn.query('SELEC 1')).rejects.toBeInstanceOf(dj.QuerySyntaxError);
    await expect(conn.query(`SELECT nope FROM ${Item.fullTableName}`)).rejects.toBeInstanceOf(dj.UnknownAttributeError);
    await createUser(conn, 'dj_limited', 'pw');
    const limited = new dj.Connection({ user: 'dj_limited', password: 'pw' });
    await expect(limited.query(`SELECT * FROM ${Item.fullTableName}`)).rejects.toBeInstanceOf(dj.AccessError);
    await limited.close();
    // The local PostgreSQL trusts every password: there an unknown role is the refused login.
    const wrong = new dj.Connection(conn.dialect.name === 'mysql' ? { user: 'dj_limited', password: 'wrong' } : { user: 'dj_no_such_role', password: 'x' });
    await expect(wrong.query('SELECT 1')).rejects.toBeInstanceOf(dj.AccessError);
    await wrong.close();
    // A user MariaDB refuses with its own error (1698, as for 'nobody') is an access failure too.
    if (conn.dialect.name === 'mysql') {
      const nobody = new dj.Connection({ user: 'nobody', password: '' });
      await expect(nobody.query('SELECT 1')).rejects.toBeInstanceOf(dj.AccessError);
      await nobody.close();
    }
  });

  // The embedded backend has no host to get wrong: it finds (or starts) its own server.
  it.skipIf(BACKEND === 'embedded')('reports an unreachable server as LostConnectionError', async () => {
    const c = new dj.Connection({ host: '127.0.0.1', port: 1, reconnect: true });
    await expect(c.query('SELECT 1')).rejects.toBeInstanceOf(dj.LostConnectionError);
    await c.close();
  });

  it('reconnects outside a transaction after the server kills the connection', async () => {
    const c = new dj.Connection({ poolSize: 1 });
    const id = await c.connectionId();
    await dj.conn().execute(c.dialect.killSession(id));
    await new Promise((r) => setTimeout(r, 100));
    expect(await c.connectionId()).not.toBe(id);
    // Inside a transaction a lost connection is an error, never a silent retry.
    await expect(
      c.transaction(async () => {
        const tid = await c.connectionId();
        await dj.conn().execute(c.dialect.killSession(tid));
        await new Promise((r) => setTimeout(r, 100));
        await c.query('SELECT 1');
      }),
    ).rejects.toBeInstanceOf(dj.LostConnectionError);
    expect(Number((await c.query('SELECT 1 AS one'))[0]!.one)).toBe(1);
    await c.close();
    await expect(c.query('SELECT 1')).rejects.toThrow(/closed/);
  });

  it('lists schemas', async () => {
    expect(await dj.listSchemas()).toContain(schema.database);
  });
});

describe('config', () => {
  it('reads datajoint.json upward, .secrets, environment, with the right precedence', () => {
    const root = mkdtempSync(join(tmpdir(), 'djcfg-'));
    const sub = join(root, 'a', 'b');
    mkdirSync(sub, { recursive: true });
    writeFileSync(join(root, 'datajoint.json'), JSON.stringify({ 'database.host': 'filehost', database: { port: 3307 }, 'display.limit': 5, stores: { main: { protocol: 'file', location: '/x' } }, jobs: { keep_completed: true } }));
    mkdirSync(join(root, '.secrets'));
    writeFileSync(join(root, '.secrets', 'database.password'), 'secretpw\n');
    writeFileSync(join(root, '.secrets', 'database.user'), 'fileuser');
    const c = new Config({ cwd: sub, env: { DJ_USER: 'envuser', DJ_PORT: '3310' } });
    expect(c.filePath).toBe(join(root, 'datajoint.json'));
    expect(c.get('database.host')).toBe('filehost');
    expect(c.get('database.port')).toBe(3310); // env beats file
    expect(c.get('database.user')).toBe('envuser'); // env beats secrets
    expect(c.get('database.password')).toBe('secretpw'); // secrets beat defaults
    expect(c.get('display.limit')).toBe(5);
    expect(c.get('jobs.keep_completed')).toBe(true);
    expect(c.get('stores')).toEqual({ main: { protocol: 'file', location: '/x' } });
    expect(c.get('stores.main.location')).toBe('/x');
    expect(c.get('safemode')).toBe(true); // default
    c.set('display.limit', 7);
    expect(c.get('display.limit')).toBe(7);
  });

  it('overrides values in a scope, including across awaits, and restores them', async () => {
    const c = new Config({ cwd: tmpdir(), env: {} });
    expect(c.get('jobs.keep_completed')).toBe(false);
    const inner = await c.override({ 'jobs.keep_completed': true, stores: { s: { protocol: 'file' } } }, async () => {
      await new Promise((r) => setTimeout(r, 5));
      return [c.get('jobs.keep_completed'), c.get('stores.s.protocol'), await c.override({ 'jobs.keep_completed': false }, () => c.get('jobs.keep_completed'))];
    });
    expect(inner).toEqual([true, 'file', false]);
    expect(c.get('jobs.keep_completed')).toBe(false);
    expect(c.get('stores')).toEqual({});
  });

  it('rejects a malformed datajoint.json and bad numbers clearly', () => {
    const root = mkdtempSync(join(tmpdir(), 'djcfg-'));
    writeFileSync(join(root, 'datajoint.json'), '{ nope');
    expect(() => new Config({ cwd: root, env: {} })).toThrow(dj.DataJointError);
    expect(() => new Config({ cwd: tmpdir(), env: { DJ_PORT: 'abc' } })).toThrow(/must be a number/);
  });
});
