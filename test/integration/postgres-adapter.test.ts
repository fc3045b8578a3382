/**
 * The PostgreSQL adapter against the real server at 127.0.0.1:5432 (user postgres, database
 * postgres), used directly, without the core: DDL and the catalog read back, values of every
 * core type both ways, error classes, transactions and savepoints, streaming (early break, a
 * terminated backend), pool exhaustion, concurrent declarations and an unreachable server.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Adapter, ColumnSpec, Session, SqlValue, StorageType, TableSpec } from '../../src/adapters/adapter.js';
import { postgres } from '../../src/adapters/postgres/index.js';
import * as E from '../../src/errors.js';

const HOST = process.env.DJ_PG_HOST ?? '127.0.0.1';
const PORT = Number(process.env.DJ_PG_PORT ?? 5432);
const USER = process.env.DJ_PG_USER ?? 'postgres';
const DB = `djtest_pgadapter_${process.pid}`;

const connect = (extra: Partial<Parameters<typeof postgres.connect>[0]> = {}) =>
  postgres.connect({ host: HOST, port: PORT, user: USER, password: process.env.DJ_PG_PASS ?? '', ...extra });

let a: Adapter;
const d = postgres.dialect;
const q = (sql: string, params?: SqlValue[]) => a.pooled().query(sql, params);
const full = (t: string) => d.fullName(DB, t);

const T = (type: string, kind: StorageType['kind'], core = true): StorageType => ({ type, kind, core });
const col = (name: string, type: StorageType, extra: Partial<ColumnSpec> = {}): ColumnSpec => ({
  name,
  type,
  nullable: false,
  default: null,
  comment: type.core ? `:${type.type}:${name} here` : `${name} here`,
  autoIncrement: false,
  ...extra,
});

/** Declare a table as the core will: in a transaction, under the declaration lock. */
async function declare(spec: TableSpec, adapter: Adapter = a): Promise<void> {
  await adapter.withSession(async (s) => {
    await adapter.begin(s);
    try {
      await s.execute(d.declarationLock(d.fullName(spec.database, spec.name))!);
      for (const stmt of d.createTable(spec)) await s.execute(stmt);
      await adapter.commit(s);
    } catch (err) {
      await adapter.rollback(s);
      throw err;
    }
  });
}

const parent: TableSpec = {
  database: DB,
  name: 'parent',
  comment: "the parent's table",
  primaryKey: ['pid', 'sex'],
  foreignKeys: [],
  indexes: [{ columns: ['label'], unique: true }],
  columns: [
    col('pid', T('int8', 'int')),
    col('sex', T("enum('F','M','U')", 'enum')),
    col('label', T('varchar(16)', 'string'), { default: "'it''s'" }),
  ],
};

const child: TableSpec = {
  database: DB,
  name: 'child',
  comment: 'every core type',
  primaryKey: ['cid'],
  foreignKeys: [{ columns: ['pid', 'sex'], refDatabase: DB, refTable: 'parent', refColumns: ['pid', 'sex'] }],
  indexes: [{ columns: ['i16', 'i32'], unique: false }],
  columns: [
    col('cid', T('int32', 'int'), { autoIncrement: true }),
    col('pid', T('int8', 'int')),
    col('sex', T("enum('F','M','U')", 'enum'), { default: "'U'" }),
    col('i16', T('int16', 'int'), { default: '-5' }),
    col('i32', T('int32', 'int')),
    col('i64', T('int64', 'bigint')),
    col('u8', T('uint8', 'int')),
    col('u16', T('uint16', 'int')),
    col('u32', T('uint32', 'int')),
    col('u64', T('uint64', 'bigint')),
    col('f32', T('float32', 'float'), { default: '-1.5' }),
    col('f64', T('float64', 'float')),
    col('flag', T('bool', 'bool'), { default: 'TRUE' }),
    col('uid', T('uuid', 'uuid')),
    col('doc', T('json', 'json'), { nullable: true, default: 'NULL' }),
    col('raw', T('bytes', 'bytes'), { nullable: true, default: 'NULL' }),
    col('day', T('date', 'date')),
    col('at', T('datetime', 'datetime'), { default: 'CURRENT_TIMESTAMP' }),
    col('at3', T('datetime(3)', 'datetime'), { default: 'CURRENT_TIMESTAMP(3)' }),
    col('code', T('char(4)', 'string')),
    col('name', T('varchar(32)', 'string'), { default: "'x'" }),
    col('amount', T('decimal(10,2)', 'decimal'), { default: '0.00' }),
    col('note', T('text', 'string', false), { nullable: true, default: 'NULL' }),
  ],
};

const names = (cols: ColumnSpec[]) => cols.map((c) => c.name);
const kindByName = Object.fromEntries(child.columns.map((c) => [c.name, c.type]));

beforeAll(async () => {
  a = await connect({ poolSize: 4 });
  for (const s of d.dropDatabase(DB)) await a.pooled().execute(s);
  for (const s of d.createDatabase(DB)) await a.pooled().execute(s);
  await declare(parent);
  await declare(child);
});

afterAll(async () => {
  if (!a) return;
  for (const s of d.dropDatabase(DB)) await a.pooled().execute(s).catch(() => {});
  await a.close();
});

describe('catalog', () => {
  it('lists the schema and its tables with comments', async () => {
    const s = a.pooled();
    expect(await a.introspector.listDatabases(s)).toContain(DB);
    expect(await a.introspector.listDatabases(s)).not.toContain('public');
    expect(await a.introspector.databaseExists(s, DB)).toBe(true);
    expect(await a.introspector.databaseExists(s, `${DB}_nope`)).toBe(false);
    expect(await a.introspector.listTables(s, DB)).toEqual([
      { name: 'child', comment: 'every core type' },
      { name: 'parent', comment: "the parent's table" },
    ]);
  });

  it('reads every column back: type, nullability, default, comment, key, identity', async () => {
    const cols = await a.introspector.columns(a.pooled(), DB, 'child');
    expect(cols.map((c) => c.name)).toEqual(names(child.columns));
    const byName = Object.fromEntries(cols.map((c) => [c.name, c]));
    const expected: Record<string, [string, string | null]> = {
      cid: ['integer', null],
      pid: ['smallint', null],
      sex: [expect.stringMatching(/^enum_[0-9a-f]{8}$/) as unknown as string, "'U'"],
      i16: ['smallint', '-5'],
      i32: ['integer', null],
      i64: ['bigint', null],
      u8: ['smallint', null],
      u16: ['integer', null],
      u32: ['bigint', null],
      u64: ['numeric(20,0)', null],
      f32: ['real', '-1.5'],
      f64: ['double precision', null],
      flag: ['boolean', 'TRUE'],
      uid: ['uuid', null],
      doc: ['jsonb', null],
      raw: ['bytea', null],
      day: ['date', null],
      at: ['timestamp', 'CURRENT_TIMESTAMP'],
      at3: ['timestamp(3)', 'CURRENT_TIMESTAMP(3)'],
      code: ['character(4)', null],
      name: ['character varying(32)', "'x'"],
      amount: ['numeric(10,2)', '0.00'],
      note: ['text', null],
    };
    for (const c of child.columns) {
      const got = byName[c.name]!;
      expect(got.columnType, c.name).toEqual(expected[c.name]![0]);
      expect(got.default, c.name).toBe(expected[c.name]![1]);
      expect(got.nullable, c.name).toBe(c.nullable);
      expect(got.comment, c.name).toBe(c.comment);
      expect(got.inKey, c.name).toBe(c.name === 'cid');
      expect(got.autoIncrement, c.name).toBe(c.name === 'cid');
    }
    expect(byName.sex!.enumValues).toEqual(['F', 'M', 'U']);
    expect(byName.pid!.enumValues).toBeUndefined();
  });

  it('maps uncommented catalog types back to core types', async () => {
    const cols = await a.introspector.columns(a.pooled(), DB, 'child');
    const core = Object.fromEntries(cols.map((c) => [c.name, d.coreTypeOf(c)]));
    expect(core).toMatchObject({
      cid: 'int32',
      i64: 'int64',
      f32: 'float32',
      f64: 'float64',
      flag: 'bool',
      uid: 'uuid',
      doc: 'json',
      raw: 'bytes',
      day: 'date',
      at: 'datetime(6)', // a bare timestamp keeps 6 digits
      at3: 'datetime(3)',
      code: 'char(4)',
      name: 'varchar(32)',
      amount: 'decimal(10,2)',
      sex: "enum('F','M','U')",
      note: null,
    });
    expect(kindByName.sex).toBeDefined();
  });

  it('reads foreign keys in column order, from both ends', async () => {
    const fk = {
      name: 'child_pid_sex_fkey',
      childDatabase: DB,
      childTable: 'child',
      parentDatabase: DB,
      parentTable: 'parent',
      attrMap: [
        ['pid', 'pid'],
        ['sex', 'sex'],
      ],
    };
    expect(await a.introspector.foreignKeys(a.pooled(), DB, 'child')).toEqual([fk]);
    expect(await a.introspector.foreignKeys(a.pooled(), DB)).toEqual([fk]);
    expect(await a.introspector.foreignKeys(a.pooled(), DB, 'parent')).toEqual([]);
    expect(await a.introspector.referencingKeys(a.pooled(), DB, 'parent')).toEqual([fk]);
  });

  it('reads indexes: the primary key flagged, declared ones and the foreign key index', async () => {
    expect(await a.introspector.indexes(a.pooled(), DB, 'child')).toEqual([
      { name: 'child_pkey', unique: true, primary: true, columns: ['cid'] },
      { name: 'idx_child_i16_i32', unique: false, primary: false, columns: ['i16', 'i32'] },
      { name: 'idx_child_pid_sex', unique: false, primary: false, columns: ['pid', 'sex'] },
    ]);
    expect(await a.introspector.indexes(a.pooled(), DB, 'parent')).toEqual([
      { name: 'parent_pkey', unique: true, primary: true, columns: ['pid', 'sex'] },
      { name: 'idx_parent_label', unique: true, primary: false, columns: ['label'] },
    ]);
  });

  it('gives empty results for unknown tables and schemas', async () => {
    const s = a.pooled();
    expect(await a.introspector.columns(s, DB, 'nope')).toEqual([]);
    expect(await a.introspector.indexes(s, DB, 'nope')).toEqual([]);
    expect(await a.introspector.foreignKeys(s, 'nope_schema')).toEqual([]);
    expect(await a.introspector.referencingKeys(s, DB, 'nope')).toEqual([]);
    expect(await a.introspector.listTables(s, 'nope_schema')).toEqual([]);
  });

  it('declaring again is a no-op', async () => {
    await declare(child);
    expect(await a.introspector.indexes(a.pooled(), DB, 'child')).toHaveLength(3);
  });
});

describe('values', () => {
  const uuid = '0123abcd-4567-89ef-0123-456789abcdef';
  const y50 = new Date(Date.UTC(2000, 2, 4, 5, 6, 7, 890));
  y50.setUTCFullYear(50);
  const row: Record<string, SqlValue> = {
    pid: 1,
    sex: 'M',
    i16: -32768,
    i32: 2147483647,
    i64: 2n ** 63n - 1n,
    u8: 255,
    u16: 65535,
    u32: 4294967295,
    u64: 2n ** 64n - 1n,
    f32: 1.5,
    f64: -2.25e-300,
    flag: 1,
    uid: Buffer.from(uuid.replace(/-/g, ''), 'hex'),
    doc: '"a bare string"',
    raw: Buffer.from([0, 1, 2, 255]),
    day: '0050-03-04',
    at: y50,
    at3: '2024-02-29 23:59:58.123',
    code: 'ab',
    name: "it's \\ \"x\"",
    amount: '12.50',
    note: 'native',
  };

  beforeAll(async () => {
    await a.pooled().execute(`INSERT INTO ${full('parent')} ("pid", "sex", "label") VALUES ($1, $2, $3), ($4, $5, DEFAULT)`, [1, 'M', 'one', 2, 'F']);
    const cols = Object.keys(row);
    const { head, tail } = d.insert(full('child'), cols, 'error', ['cid']);
    const values = cols.map((c) => d.bindValue(kindByName[c]!.kind, row[c]!));
    const r = await a.pooled().execute(`${head}(${cols.map((_, i) => d.param(i + 1)).join(', ')})${tail}`, values);
    expect(r.affectedRows).toBe(1);
  });

  it('reads every type back with the conventions the core decodes', async () => {
    const [got] = await q(`SELECT * FROM ${full('child')}`);
    expect(got).toEqual({
      cid: 1,
      pid: 1,
      sex: 'M',
      i16: -32768,
      i32: 2147483647,
      i64: '9223372036854775807',
      u8: 255,
      u16: 65535,
      u32: 4294967295,
      u64: '18446744073709551615',
      f32: 1.5,
      f64: -2.25e-300,
      flag: true,
      uid: uuid,
      doc: '"a bare string"',
      raw: Buffer.from([0, 1, 2, 255]),
      day: '0050-03-04',
      at: '0050-03-04 05:06:07.89', // datetime is a bare timestamp (6 digits), as in DataJoint Python
      at3: '2024-02-29 23:59:58.123',
      code: 'ab  ',
      name: "it's \\ \"x\"",
      amount: '12.50',
      note: 'native',
    });
  });

  it('reports value kinds of result columns (computed ones too)', async () => {
    const r = await a.pooled().queryArrays(
      `SELECT cid, i64, u64, f32, flag, uid, doc, raw, day, at3, sex, name, amount, count(*) OVER () AS n, max(day) OVER () AS last
         FROM ${full('child')}`,
    );
    expect(r.fields.map((f) => [f.name, f.kind])).toEqual([
      ['cid', 'int'],
      ['i64', 'bigint'],
      ['u64', 'decimal'],
      ['f32', 'float'],
      ['flag', 'bool'],
      ['uid', 'uuid'],
      ['doc', 'json'],
      ['raw', 'bytes'],
      ['day', 'date'],
      ['at3', 'datetime'],
      ['sex', 'string'],
      ['name', 'string'],
      ['amount', 'decimal'],
      ['n', 'bigint'],
      ['last', 'date'],
    ]);
    expect(r.rows).toHaveLength(1);
    expect(r.rows[0]![13]).toBe(1);
  });

  it('keeps int8 beyond 2^53 exact and small int8 as numbers', async () => {
    const r = await a.pooled().queryArrays('SELECT $1::bigint AS big, $2::bigint AS small, -9007199254740993::bigint AS neg', [2n ** 53n + 1n, 42]);
    expect(r.rows[0]).toEqual(['9007199254740993', 42, '-9007199254740993']);
  });

  it('normalizes JSON on the server and returns its text', async () => {
    const [r] = await q(`SELECT $1::jsonb AS j, 'null'::jsonb AS n, '"x"'::json AS s`, ['{"b": 1, "a": [1,2]}']);
    expect(r).toEqual({ j: '{"a": [1, 2], "b": 1}', n: 'null', s: '"x"' });
  });

  it('round-trips hostile literals inlined into SQL', async () => {
    const hostile = "'; DROP TABLE x; -- \\' \\\\ $1 $$ \"";
    const bytes = Buffer.from([39, 92, 0, 255]);
    const [r] = await q(`SELECT ${d.literal(hostile)} AS s, ${d.literal(bytes)} AS b, ${d.literal(y50)}::timestamp(3) AS t, ${d.literal(true)} AS f`);
    expect(r).toEqual({ s: hostile, b: bytes, t: '0050-03-04 05:06:07.89', f: true });
  });

  it('binds Date parameters as UTC whatever the client zone', async () => {
    const [r] = await q('SELECT $1::timestamp(3) AS t, $2::date AS day', [new Date('2021-06-30T23:30:00.250Z'), y50]);
    expect(r).toEqual({ t: '2021-06-30 23:30:00.25', day: '0050-03-04' });
  });

  it('takes now() and CURRENT_TIMESTAMP defaults in UTC even in a session set to another zone', async () => {
    await a.withSession(async (s) => {
      await s.execute(`SET TimeZone = 'America/New_York'`);
      const [r] = await s.query(`SELECT ${d.now(3)}::text AS now`);
      expect(Math.abs(new Date(String(r!.now).replace(' ', 'T') + 'Z').getTime() - Date.now())).toBeLessThan(60_000);
      await s.execute('RESET TimeZone');
    });
    const [r] = await q(`SELECT at3 FROM ${full('child')}`);
    expect(typeof r!.at3).toBe('string');
  });

  it('refuses out-of-range values of narrowed and unsigned types', async () => {
    const upd = (c: string, v: SqlValue) => a.pooled().execute(`UPDATE ${full('child')} SET ${d.quoteId(c)} = $1`, [v]);
    await expect(upd('u8', 256)).rejects.toThrow(E.IntegrityError);
    await expect(upd('u8', -1)).rejects.toThrow(/Invalid value/);
    await expect(upd('u64', 2n ** 64n)).rejects.toThrow(E.IntegrityError);
    await expect(upd('u32', -1)).rejects.toThrow(E.IntegrityError);
    await expect(upd('i16', 40000)).rejects.toThrow(E.IntegrityError);
    await expect(upd('name', 'x'.repeat(33))).rejects.toThrow(E.IntegrityError);
    await expect(upd('sex', 'X')).rejects.toThrow(E.IntegrityError);
    await expect(upd('day', 'not a date')).rejects.toThrow(E.IntegrityError);
  });
});

describe('errors', () => {
  it('maps duplicate, foreign key, NOT NULL and CHECK violations', async () => {
    const ins = (sql: string, p: SqlValue[]) => a.pooled().execute(sql, p);
    const dup = ins(`INSERT INTO ${full('parent')} ("pid", "sex", "label") VALUES ($1, $2, $3)`, [1, 'M', 'new']);
    await expect(dup).rejects.toThrow(E.DuplicateError);
    await expect(ins(`INSERT INTO ${full('parent')} ("pid", "sex", "label") VALUES ($1, $2, $3)`, [1, 'M', 'new'])).rejects.toThrow(
      /"parent".*parent_pkey/,
    );
    await expect(ins(`INSERT INTO ${full('parent')} ("pid", "sex", "label") VALUES ($1, $2, $3)`, [3, 'F', "it's"])).rejects.toThrow(
      /idx_parent_label/,
    );
    await expect(a.pooled().execute(`DELETE FROM ${full('parent')} WHERE pid = 1`)).rejects.toThrow(E.IntegrityError);
    await expect(a.pooled().execute(`UPDATE ${full('child')} SET pid = 99`)).rejects.toThrow(/Foreign key/);
    await expect(ins(`INSERT INTO ${full('parent')} ("pid", "sex", "label") VALUES ($1, $2, $3)`, [null, 'F', 'n'])).rejects.toThrow(
      E.MissingAttributeError,
    );
    await expect(ins(`INSERT INTO ${full('parent')} ("pid", "sex", "label") VALUES ($1, $2, $3)`, [200, 'F', 'z'])).rejects.toThrow(
      E.IntegrityError,
    );
  });

  it('maps unknown columns, missing tables and syntax errors, with the SQL', async () => {
    await expect(q(`SELECT nope FROM ${full('parent')}`)).rejects.toThrow(E.UnknownAttributeError);
    await expect(q(`SELECT * FROM ${full('nope')}`)).rejects.toThrow(E.MissingTableError);
    await expect(q(`SELECT * FROM "nope_${process.pid}"."t"`)).rejects.toThrow(E.MissingTableError);
    const err = await q('SELEC 1').then(() => new Error('no error'), (e: unknown) => e as Error);
    expect(err).toBeInstanceOf(E.QuerySyntaxError);
    expect(err.message).toContain('SQL: SELEC 1');
    await expect(q(`SELECT 'a' + 1`)).rejects.toThrow(E.DataJointError);
    await expect(q('SELECT nosuchfunction(1)')).rejects.toThrow(E.QuerySyntaxError);
  });

  it('skips or replaces rows whose primary key exists, but not other unique violations', async () => {
    const cols = ['pid', 'sex', 'label'];
    const run = (policy: 'skip' | 'replace', values: SqlValue[]) => {
      const { head, tail } = d.insert(full('parent'), cols, policy, parent.primaryKey);
      return a.pooled().execute(`${head}($1, $2, $3)${tail}`, values);
    };
    expect((await run('skip', [2, 'F', 'other'])).affectedRows).toBe(0);
    expect((await q(`SELECT label FROM ${full('parent')} WHERE pid = 2`))[0]!.label).toBe("it's");
    expect((await run('replace', [2, 'F', 'replaced'])).affectedRows).toBe(1);
    expect((await q(`SELECT label FROM ${full('parent')} WHERE pid = 2`))[0]!.label).toBe('replaced');
    await expect(run('skip', [9, 'F', 'replaced'])).rejects.toThrow(E.DuplicateError);
  });
});

describe('transactions', () => {
  it('rolls back to a savepoint after an error and keeps the transaction usable', async () => {
    await a.withSession(async (s) => {
      await a.begin(s);
      await s.execute(`INSERT INTO ${full('parent')} ("pid", "sex", "label") VALUES (10, 'F', 'ten')`);
      await a.savepoint(s, 'sp 1');
      await expect(s.execute(`INSERT INTO ${full('parent')} ("pid", "sex", "label") VALUES (10, 'F', 'again')`)).rejects.toThrow(E.DuplicateError);
      // Without the savepoint the transaction would now refuse every statement.
      await a.rollbackTo(s, 'sp 1');
      await s.execute(`INSERT INTO ${full('parent')} ("pid", "sex", "label") VALUES (11, 'F', 'eleven')`);
      await a.release(s, 'sp 1');
      await a.commit(s);
    });
    expect((await q(`SELECT pid FROM ${full('parent')} WHERE pid >= 10 ORDER BY pid`)).map((r) => r.pid)).toEqual([10, 11]);
  });

  it('rolls back DDL with the transaction', async () => {
    const spec: TableSpec = { ...parent, name: 'rolled_back', indexes: [] };
    await a.withSession(async (s) => {
      await a.begin(s);
      for (const stmt of d.createTable(spec)) await s.execute(stmt);
      expect(await a.introspector.columns(s, DB, 'rolled_back')).toHaveLength(3);
      await a.rollback(s);
    });
    expect(await a.introspector.columns(a.pooled(), DB, 'rolled_back')).toEqual([]);
  });

  it('holds one connection per session and reports its backend pid', async () => {
    await a.withSession(async (s) => {
      const [r] = await s.query(`SELECT ${d.connectionIdExpr} AS pid`);
      expect(s.connectionId).toBe(r!.pid);
      expect(s.connectionId).toBeGreaterThan(0);
    });
    expect(a.pooled().connectionId).toBe(0);
  });

  it('never returns a client still inside a transaction to the pool', async () => {
    await expect(
      a.withSession(async (s) => {
        await a.begin(s);
        await s.execute(`INSERT INTO ${full('parent')} ("pid", "sex", "label") VALUES (20, 'F', 'twenty')`);
        throw new Error('caller forgot to roll back');
      }),
    ).rejects.toThrow('caller forgot');
    // Every pooled client (all four held at once) starts a fresh transaction per statement:
    // the dirty one was destroyed, and its insert rolled back with it. (A client still inside
    // the caller's transaction would have a transaction id assigned by its INSERT; comparing
    // now() with statement_timestamp() does not tell, as the extended protocol sets the
    // statement's timestamp again at Bind.)
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let holding = 0;
    const held = [1, 2, 3, 4].map(() =>
      a.withSession(async (s) => {
        const [r] = await s.query('SELECT pg_current_xact_id_if_assigned() IS NULL AS fresh');
        if (++holding === 4) release();
        await gate;
        return r!.fresh;
      }),
    );
    expect(await Promise.all(held)).toEqual([true, true, true, true]);
    expect(await q(`SELECT 1 FROM ${full('parent')} WHERE pid = 20`)).toEqual([]);
  });

  it('READ COMMITTED: a conditional update that lost a race affects no rows', async () => {
    await a.pooled().execute(`INSERT INTO ${full('parent')} ("pid", "sex", "label") VALUES (30, 'F', 'pending')`);
    const claim = `UPDATE ${full('parent')} SET label = 'reserved' WHERE pid = 30 AND label = 'pending'`;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let claimed!: () => void;
    const firstClaimed = new Promise<void>((r) => (claimed = r));
    const first = a.withSession(async (s) => {
      await a.begin(s);
      const r = await s.execute(claim);
      claimed();
      await gate;
      await a.commit(s);
      return r.affectedRows;
    });
    await firstClaimed;
    // The second claim waits on the first one's row lock, then finds the row taken.
    const second = a.withSession(async (s) => {
      await a.begin(s);
      const r = await s.execute(claim);
      await a.commit(s);
      return r.affectedRows;
    });
    await new Promise((r) => setTimeout(r, 100));
    release();
    expect(await Promise.all([first, second])).toEqual([1, 0]);
  });
});

describe('streaming', () => {
  const ROWS = 200_000;
  const series = `SELECT g AS i, md5(g::text) AS h FROM generate_series(1, ${ROWS}) g`;

  it('reads a large result in batches of the requested size', async () => {
    let n = 0;
    let batches = 0;
    let fields: string[] = [];
    for await (const b of a.pooled().stream(series, [], { batchRows: 5000 })) {
      batches++;
      n += b.rows.length;
      fields = b.fields.map((f) => `${f.name}:${f.kind}`);
      expect(b.rows.length).toBeLessThanOrEqual(5000);
    }
    expect(n).toBe(ROWS);
    expect(batches).toBe(ROWS / 5000);
    expect(fields).toEqual(['i:int', 'h:string']);
  });

  it('yields the columns of an empty result once', async () => {
    const out = [];
    for await (const b of a.pooled().stream('SELECT 1::int AS x WHERE false')) out.push(b);
    expect(out).toEqual([{ rows: [], fields: [{ name: 'x', kind: 'int' }] }]);
  });

  it('binds parameters in a stream and translates its errors', async () => {
    const got: unknown[][] = [];
    const sql = `SELECT $1::int + g AS v, TIMESTAMP '0050-01-02 03:04:05.5' AS t, '{"a": 1}'::jsonb AS j, 9007199254740993::bigint AS b
                   FROM generate_series(1, 3) g`;
    for await (const b of a.pooled().stream(sql, [10])) got.push(...b.rows);
    // The pool's parsers apply to cursors too: text timestamps and JSON, exact int8.
    const rest = ['0050-01-02 03:04:05.5', '{"a": 1}', '9007199254740993'];
    expect(got).toEqual([
      [11, ...rest],
      [12, ...rest],
      [13, ...rest],
    ]);
    const bad = async () => {
      for await (const _ of a.pooled().stream('SELECT nope FROM generate_series(1, 3) g')) void _;
    };
    await expect(bad()).rejects.toThrow(E.UnknownAttributeError);
  });

  it('an early break closes the cursor and gives the connection back', async () => {
    for (let round = 0; round < 6; round++) {
      for await (const b of a.pooled().stream(series, [], { batchRows: 100 })) {
        expect(b.rows).toHaveLength(100);
        break;
      }
    }
    // Six broken-off streams on a pool of four: all connections came back and work.
    const r = await Promise.all([1, 2, 3, 4, 5].map((i) => q('SELECT $1::int AS i', [i])));
    expect(r.map((x) => x[0]!.i)).toEqual([1, 2, 3, 4, 5]);
  });

  it('an early break inside a transaction leaves the session usable', async () => {
    await a.withSession(async (s) => {
      await a.begin(s);
      for await (const _ of s.stream(series, [], { batchRows: 10 })) break;
      expect(await s.query('SELECT 7 AS x')).toEqual([{ x: 7 }]);
      await a.commit(s);
    });
  });

  it('ends with LostConnectionError when the backend is terminated midway (never hangs)', async () => {
    const t0 = Date.now();
    let n = 0;
    const err = await a
      .withSession(async (s) => {
        for await (const b of s.stream(series, [], { batchRows: 1000 })) {
          n += b.rows.length;
          if (n === 1000) {
            const [r] = await a.pooled().query(d.killSession(s.connectionId));
            expect(r!.pg_terminate_backend).toBe(true);
          }
        }
      })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(E.LostConnectionError);
    expect(n).toBeLessThan(ROWS);
    expect(Date.now() - t0).toBeLessThan(20_000);
    // The dead client was discarded: the adapter still works.
    expect(await q('SELECT 1 AS one')).toEqual([{ one: 1 }]);
  });

  it('a query on a terminated held session fails with LostConnectionError', async () => {
    const err = await a
      .withSession(async (s) => {
        await a.pooled().query(d.killSession(s.connectionId));
        await new Promise((r) => setTimeout(r, 200));
        await s.query('SELECT 1');
      })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(E.LostConnectionError);
    expect(await q('SELECT 2 AS two')).toEqual([{ two: 2 }]);
  });
});

describe('pool and connections', () => {
  it('fails with PoolTimeoutError when every connection is held', async () => {
    const small = await connect({ poolSize: 2, acquireTimeout: 300 });
    try {
      let release!: () => void;
      const gate = new Promise<void>((r) => (release = r));
      let holding = 0;
      let allHeld!: () => void;
      const held = new Promise<void>((r) => (allHeld = r));
      const holders = [1, 2].map(() =>
        small.withSession(async () => {
          if (++holding === 2) allHeld();
          await gate;
        }),
      );
      await held;
      const t0 = Date.now();
      const err = await small.pooled().query('SELECT 1').then(() => new Error('no error'), (e: unknown) => e as Error);
      expect(err).toBeInstanceOf(E.PoolTimeoutError);
      expect(err.message).toMatch(/within 300 ms: all 2 of 2 pooled connections/);
      expect(Date.now() - t0).toBeLessThan(5000);
      release();
      await Promise.all(holders);
      expect(await small.pooled().query('SELECT 1 AS ok')).toEqual([{ ok: 1 }]);
    } finally {
      await small.close();
    }
  });

  it('serializes concurrent declarations of one table with the declaration lock', async () => {
    const other = await connect({ poolSize: 2 });
    try {
      const spec: TableSpec = {
        ...child,
        name: 'raced',
        foreignKeys: [],
        columns: child.columns.map((c) => (c.name === 'sex' ? { ...c, type: T("enum('raced_a','raced_b')", 'enum'), default: "'raced_a'" } : c)),
      };
      for (let i = 0; i < 3; i++) {
        const name = `raced_${i}`;
        await Promise.all([declare({ ...spec, name }), declare({ ...spec, name }, other), declare({ ...spec, name })]);
        expect(await a.introspector.columns(a.pooled(), DB, name)).toHaveLength(spec.columns.length);
      }
    } finally {
      await other.close();
    }
  });

  it('fails with ConnectError naming host and port when nothing listens', async () => {
    const dead = await connect({ port: 1, acquireTimeout: 2000 });
    try {
      const err = await dead.pooled().query('SELECT 1').then(() => new Error('no error'), (e: unknown) => e as Error);
      expect(err).toBeInstanceOf(E.ConnectError);
      expect(err.message).toMatch(/^cannot connect to 127\.0\.0\.1:1/);
    } finally {
      await dead.close();
    }
  });

  it("fails with ConnectError saying so when the port has a MySQL server (this machine's MariaDB)", async () => {
    const mysql = await connect({ port: Number(process.env.DJ_MYSQL_PORT ?? 3306), acquireTimeout: 5000 });
    try {
      const err = await mysql.pooled().query('SELECT 1').then(() => new Error('no error'), (e: unknown) => e as Error);
      expect(err).toBeInstanceOf(E.ConnectError);
      expect(err.message).toMatch(/does not speak PostgreSQL's protocol .*is it a MySQL server\? DJ_BACKEND=mysql/);
    } finally {
      await mysql.close();
    }
  });

  it('fails with ConnectError for a database that does not exist', async () => {
    const nowhere = await connect({ database: `nope_${process.pid}` });
    try {
      await expect(nowhere.pooled().query('SELECT 1')).rejects.toThrow(/^cannot connect to .*does not exist/);
    } finally {
      await nowhere.close();
    }
  });

  it('refuses an unknown role with AccessError', async () => {
    const nobody = await connect({ user: `nobody_${process.pid}` });
    try {
      await expect(nobody.pooled().query('SELECT 1')).rejects.toThrow(E.AccessError);
    } finally {
      await nobody.close();
    }
  });
});
