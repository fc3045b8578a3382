/**
 * A database shared with DataJoint Python 2.3, as Python leaves it (tables and rows written with
 * the SQL Python sends):
 * - `datetime` on PostgreSQL is a bare timestamp (6 fractional digits), declared so here too;
 *   a Python-declared column's values keep their microseconds in restrictions and inserts;
 * - jobs tables keep their times on the server's clock (Python's sessions set no time zone):
 *   on a server that does not run in UTC, a job Python queued is due now here, and the times a
 *   worker here writes are the ones Python compares with;
 * - the jobs table has Python's index on (status, priority, scheduled_time).
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKEND, cleanup, dj, freshSchema } from './helpers.js';

const isPostgres = BACKEND !== 'mysql';
let schema: dj.SchemaDecorator;

/** Src (one row) and Twice, whose make doubles its x, declared in `s`. */
async function srcAndTwice(s: dj.SchemaDecorator) {
  class Src extends dj.Manual {
    static definition = 'src_id : int32\n---\nx : float64';
  }
  class Twice extends dj.Computed {
    static definition = '-> Src\n---\ny : float64';
    async make(key: dj.Row) {
      const x = (await Src.restrict(key).fetch1('x')) as number;
      await this.insert1({ ...key, y: 2 * x });
    }
  }
  s.add(Src);
  s.add(Twice);
  await Src.insert1({ src_id: 1, x: 1 });
  return Twice;
}
let Twice: Awaited<ReturnType<typeof srcAndTwice>>;
class Stamp extends dj.Manual {
  static definition = 'stamp_id : int32\n---\nat : datetime';
}

beforeAll(async () => {
  schema = await freshSchema('pyshared');
  Twice = await srcAndTwice(schema);
  schema.add(Stamp);
});
afterAll(() => cleanup(schema));

const q = (name: string) => (isPostgres ? `"${name}"` : `\`${name}\``);

describe('datetime as DataJoint Python declares it', () => {
  it('declared here, keeps what Python’s declaration keeps: 6 fractional digits on PostgreSQL, none on MySQL', async () => {
    await Stamp.insert1({ stamp_id: 1, at: '2024-01-01 10:00:02.5' });
    const at = (await Stamp.restrict({ stamp_id: 1 }).fetch1('at')) as Date;
    expect(at.toISOString()).toBe(isPostgres ? '2024-01-01T10:00:02.500Z' : '2024-01-01T10:00:02.000Z');
    expect(await Stamp.restrict({ at }).count()).toBe(1);
  });

  it.runIf(isPostgres)('a bare timestamp declared by Python: fetched keys find their rows, inserts keep the microseconds', async () => {
    const c = dj.conn();
    const table = `${q(schema.database)}.${q('recording')}`;
    await c.execute(`CREATE TABLE ${table} (rec_time timestamp NOT NULL, label varchar(16) NOT NULL, PRIMARY KEY (rec_time))`);
    await c.execute(`COMMENT ON COLUMN ${table}.rec_time IS ':datetime:recording start'`);
    await c.execute(`INSERT INTO ${table} VALUES ('2024-01-01 10:00:00.123456', 'a'), ('2024-01-01 10:00:01', 'b')`);
    const Recording = await schema.getTable('Recording');
    const keys = await Recording.keys({ orderBy: 'rec_time' });
    expect(keys).toHaveLength(2);
    for (const key of keys) expect(await Recording.restrict(key).count()).toBe(1);
    expect(await Recording.restrict(keys[0]!).fetch1('label')).toBe('a');
    await Recording.insert1({ rec_time: '2024-01-01 10:00:02.500', label: 'c' });
    const rows = await c.query(`SELECT to_char(rec_time, 'HH24:MI:SS.US') AS t FROM ${table} WHERE label = 'c'`);
    expect(rows).toEqual([{ t: '10:00:02.500000' }]);
  });
});

describe('the jobs table', () => {
  it('has DataJoint Python’s index on (status, priority, scheduled_time)', async () => {
    await Twice.jobs.refresh();
    const jobsTable = Twice.jobs.tableName;
    const rows = isPostgres
      ? await dj.conn().query(`SELECT indexdef AS def FROM pg_indexes WHERE schemaname = '${schema.database}' AND tablename = '${jobsTable}'`)
      : await dj.conn().query(`SELECT GROUP_CONCAT(column_name ORDER BY seq_in_index) AS def FROM information_schema.statistics WHERE table_schema = '${schema.database}' AND table_name = '${jobsTable}' AND index_name <> 'PRIMARY' GROUP BY index_name`);
    expect(rows.map((r) => String(r.def).replace(/"/g, ''))).toContainEqual(isPostgres ? expect.stringMatching(/\(status, priority, scheduled_time\)$/) : 'status,priority,scheduled_time');
  });

  it('keeps its times on the server’s clock, which a session that sets no time zone reads', async () => {
    // As a session of DataJoint Python sees the server (MySQL: the server's global zone).
    const v = (await dj.conn().query(`SELECT ${dj.conn().dialect.serverNow(3)} AS t`))[0]!.t;
    const t = v instanceof Date ? v : asDate(v);
    const raw = await rawSession();
    try {
      const local = await raw.now();
      expect(Math.abs(t.getTime() - local.getTime())).toBeLessThan(5_000);
    } finally {
      await raw.end();
    }
  });
});

const asDate = (s: unknown) => new Date(String(s).replace(' ', 'T') + 'Z');

/** A session as DataJoint Python opens one: no time zone of its own. Its `now()` is CURRENT_TIMESTAMP(3) read as zoneless text. */
async function rawSession(user?: string): Promise<{ now(): Promise<Date>; query(sql: string): Promise<Array<Record<string, unknown>>>; end(): Promise<void> }> {
  const host = String(dj.config.get('database.host') ?? '127.0.0.1');
  if (isPostgres) {
    const port = Number(dj.config.get('database.port') ?? 5432);
    const client = new pg.Client({ host, port, user: user ?? String(dj.config.get('database.user') ?? 'postgres'), password: String(dj.config.get('database.password') ?? ''), database: 'postgres' });
    await client.connect();
    return {
      now: async () => asDate((await client.query(`SELECT to_char(CURRENT_TIMESTAMP(3)::timestamp, 'YYYY-MM-DD HH24:MI:SS.MS') AS t`)).rows[0].t),
      query: async (sql) => (await client.query(sql)).rows,
      end: () => client.end(),
    };
  }
  const mysql = (await import('mysql2/promise')).default;
  const c = await mysql.createConnection({ host, port: Number(dj.config.get('database.port') ?? 3306), user: String(dj.config.get('database.user') ?? 'root'), password: String(dj.config.get('database.password') ?? ''), dateStrings: true });
  return {
    now: async () => asDate(((await c.query('SELECT CURRENT_TIMESTAMP(3) AS t')) as unknown as [Array<{ t: string }>])[0][0]!.t),
    query: async (sql) => ((await c.query(sql)) as unknown as [Array<Record<string, unknown>>])[0],
    end: () => c.end(),
  };
}

// Needs a role of its own whose sessions default to another zone: PostgreSQL only (the
// embedded server's login is its own), and no server-wide setting other test files would see.
describe.runIf(BACKEND === 'postgresql')('jobs shared with DataJoint Python on a server that does not run in UTC', () => {
  const role = `djtest_tz_${process.pid}`;
  let conn: dj.Connection;
  let py: Awaited<ReturnType<typeof rawSession>>;
  let tokyo: dj.SchemaDecorator;
  let TzTwice: typeof Twice;
  let jobsTable: string;
  beforeAll(async () => {
    const admin = dj.conn();
    await admin.execute(`DROP ROLE IF EXISTS ${role}`);
    await admin.execute(`CREATE ROLE ${role} LOGIN SUPERUSER`);
    await admin.execute(`ALTER ROLE ${role} SET timezone = 'Asia/Tokyo'`);
    conn = new dj.Connection({ user: role });
    tokyo = dj.schema(`${schema.database}_tz`, { connection: conn });
    await tokyo.drop({ prompt: false });
    TzTwice = await srcAndTwice(tokyo);
    py = await rawSession(role);
    jobsTable = `"${tokyo.database}"."${TzTwice.jobs.tableName}"`;
  });
  afterAll(async () => {
    await py?.end();
    await tokyo?.drop({ prompt: false });
    await conn?.close();
    await dj.conn().execute(`DROP ROLE IF EXISTS ${role}`);
  });

  it('a job Python queued is due now here, and Python finds this worker’s job times on its own clock', async () => {
    await TzTwice.deleteQuick();
    await TzTwice.jobs.refresh();
    await py.query(`DELETE FROM ${jobsTable}`);
    // Python queues a job: scheduled now, on its session's clock (Tokyo here).
    await py.query(`INSERT INTO ${jobsTable} (src_id, status, priority, created_time, scheduled_time) VALUES (1, 'pending', 5, CURRENT_TIMESTAMP(3), CURRENT_TIMESTAMP(3))`);
    await dj.config.override({ 'jobs.keep_completed': true }, async () => {
      expect(await TzTwice.populate({ reserveJobs: true, refresh: false })).toMatchObject({ success: 1, error: 0 });
    });
    // The completed job's times are Python's now, not nine hours before it.
    const [row] = await py.query(`SELECT EXTRACT(EPOCH FROM (CURRENT_TIMESTAMP(3)::timestamp - reserved_time)) AS age, EXTRACT(EPOCH FROM (CURRENT_TIMESTAMP(3)::timestamp - completed_time)) AS done FROM ${jobsTable} WHERE src_id = 1`);
    expect(Math.abs(Number(row!.age))).toBeLessThan(60);
    expect(Math.abs(Number(row!.done))).toBeLessThan(60);
    // A job this worker queues is due for Python at once, and not yet stale or orphaned to it.
    await TzTwice.deleteQuick();
    await py.query(`DELETE FROM ${jobsTable}`);
    expect(await TzTwice.jobs.refresh()).toMatchObject({ added: 1 });
    const [due] = await py.query(`SELECT count(*)::int AS n FROM ${jobsTable} WHERE status = 'pending' AND scheduled_time <= CURRENT_TIMESTAMP(3) AND created_time > CURRENT_TIMESTAMP(3) - INTERVAL '60 seconds'`);
    expect(due!.n).toBe(1);
  });
});
