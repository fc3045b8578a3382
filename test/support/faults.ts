/**
 * Tools of the fault-injection suite (test/faults/): finding a server session by what it runs,
 * killing it from another session, a statement that takes a while on the server, and waiting
 * for a condition. Test code may speak each backend's SQL (the library may not outside
 * src/adapters).
 */
import type { Connection } from '../../src/connection/connection.js';

export interface SessionFilter {
  /** Only sessions waiting on a lock. */
  waitingOnLock?: boolean;
  /** Only statements running for at least this many seconds (a slow one among many fast ones). */
  minSeconds?: number;
}

/** Server ids of other sessions whose current statement contains `marker`. */
export async function sessionsRunning(conn: Connection, marker: string, opts: SessionFilter = {}): Promise<number[]> {
  const seconds = Math.trunc(opts.minSeconds ?? 0);
  if (conn.dialect.name === 'mysql') {
    const rows = await conn.query(
      `SELECT ID AS id FROM information_schema.PROCESSLIST WHERE INFO LIKE ? AND INFO NOT LIKE '%PROCESSLIST%' AND ID <> CONNECTION_ID() AND TIME >= ${seconds}${opts.waitingOnLock ? " AND STATE LIKE '%lock%'" : ''}`,
      [`%${marker}%`],
    );
    return rows.map((r) => Number(r.id));
  }
  const rows = await conn.query(
    `SELECT pid AS id FROM pg_stat_activity WHERE query LIKE $1 AND query NOT LIKE '%pg_stat_activity%' AND pid <> pg_backend_pid() AND state = 'active' AND now() - query_start >= make_interval(secs => ${seconds})${opts.waitingOnLock ? " AND wait_event_type = 'Lock'" : ''}`,
    [`%${marker}%`],
  );
  return rows.map((r) => Number(r.id));
}

/** Poll `check` until it returns a truthy value (or fail after `timeoutMs`). */
export async function waitFor<T>(check: () => Promise<T> | T, timeoutMs = 10_000, what = 'condition'): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Wait for a session running `marker` and kill it from another session; returns its id. */
export async function killRunning(conn: Connection, marker: string, opts: SessionFilter & { timeoutMs?: number } = {}): Promise<number> {
  const id = await waitFor(async () => (await sessionsRunning(conn, marker, opts))[0] ?? null, opts.timeoutMs ?? 15_000, `a session running ${marker}`);
  await conn.killSession(id);
  return id;
}

/** A restriction that makes the server sleep once for `seconds` (marked so the session can be found). */
export function sleepCondition(conn: Connection, seconds: number, marker: string): string {
  return conn.dialect.name === 'mysql' ? `(SELECT SLEEP(${seconds})) = 0 AND '${marker}' = '${marker}'` : `(SELECT pg_sleep(${seconds}))::text = '' AND '${marker}' = '${marker}'`;
}

/** Resolves after `ms`. */
export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Where the test backend's server listens and how to log in, so that a proxy can sit in front
 * of it. The embedded backend's server is reached with the PostgreSQL driver it uses anyway.
 */
export async function serverAddress(): Promise<{ backend: 'mysql' | 'postgresql'; host: string; port: number; user: string; password: string; database?: string }> {
  const backend = process.env.DJ_BACKEND ?? 'mysql';
  if (backend === 'embedded') {
    const { ensureEmbeddedServer } = await import('../../src/adapters/embedded/server.js');
    const s = await ensureEmbeddedServer({ dir: process.env.DJ_EMBEDDED_DIR! });
    return { backend: 'postgresql', host: s.host, port: s.port, user: s.user, password: s.password, database: s.database };
  }
  return {
    backend: backend as 'mysql' | 'postgresql',
    host: process.env.DJ_HOST ?? '127.0.0.1',
    port: Number(process.env.DJ_PORT ?? (backend === 'mysql' ? 3306 : 5432)),
    user: process.env.DJ_USER ?? 'root',
    password: process.env.DJ_PASS ?? '',
  };
}
