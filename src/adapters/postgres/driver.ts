/**
 * The PostgreSQL backend on a node-postgres pool: per-statement pooled sessions, held sessions
 * for transactions, a bounded wait for a free connection, and transactions as plain SQL.
 *
 * Every connection starts with ISO dates and standard_conforming_strings on (in the startup
 * packet, so no extra round trip) and sets TimeZone UTC first thing: set so, not in the startup
 * packet, the server's own zone stays readable (pg_settings.reset_val) for the clock of jobs
 * tables shared with DataJoint Python (dialect.serverNow). `BEGIN` is READ COMMITTED: a conditional UPDATE
 * that lost a race affects 0 rows instead of failing with a serialization error, which the
 * job reservation relies on.
 *
 * A client goes back to the pool only in a clean state: one whose connection failed, or that
 * is still inside a transaction (the caller neither committed nor rolled back), is destroyed.
 */
import pg from 'pg';
import type { PoolClient } from 'pg';
import { ABORTED_AT_FAILED_STATEMENT, ConnectError, KEEP_THE_REST_ADVICE, LostConnectionError, PoolTimeoutError, TransactionAbortedError } from '../../errors.js';
import type { Adapter, ConnectOptions, Session } from '../adapter.js';
import { postgresDialect } from './dialect.js';
import { createPostgresErrors } from './errors.js';
import { postgresIntrospector } from './introspector.js';
import { PgSession, type Lease } from './session.js';
import { quoteId } from './types.js';
import { typeParsers } from './values.js';

const SESSION_SETTINGS = '-c DateStyle=ISO,MDY -c IntervalStyle=postgres -c standard_conforming_strings=on';

/** Private node-postgres client fields read defensively (absent in other versions). */
interface ClientInternals {
  processID?: number | null;
  /** ReadyForQuery status: 'I' idle, 'T' in a transaction, 'E' in a failed transaction. */
  _txStatus?: string | null;
}

export function createPostgresAdapter(opts: ConnectOptions): Adapter {
  const target = `${opts.host}:${opts.port}`;
  const errors = createPostgresErrors(target);
  const poolSize = opts.poolSize ?? 4;
  const acquireTimeout = opts.acquireTimeout ?? 30_000;
  const types = typeParsers(pg.types.getTypeParser as (oid: number, format?: 'text' | 'binary') => (value: string) => unknown);
  const pool = new pg.Pool({
    host: opts.host,
    port: opts.port,
    user: opts.user,
    password: opts.password,
    database: opts.database ?? 'postgres',
    max: poolSize,
    // Bounds both the wait for a free pooled client and the connection attempt itself.
    connectionTimeoutMillis: acquireTimeout,
    keepAlive: true,
    // Idle clients don't keep the process alive: a script ends when its work does, not when
    // the pool's idle timeout (10 s) closes them.
    allowExitOnIdle: true,
    ssl: opts.useTls ? true : undefined,
    application_name: 'datajoint',
    options: SESSION_SETTINGS,
    types,
  });
  // An idle client whose connection dies is dropped by the pool; the event must have a listener.
  pool.on('error', () => {});
  // Queued before any query of the client's first user; a failure means the connection is gone,
  // which that query then reports.
  pool.on('connect', (client) => void client.query("SET TimeZone TO 'UTC'").catch(() => {}));

  async function acquire(): Promise<Lease> {
    let client: PoolClient;
    try {
      client = await pool.connect();
    } catch (err) {
      if (/timeout exceeded when trying to connect/i.test((err as Error)?.message ?? ''))
        throw new PoolTimeoutError(
          `No database connection became free within ${acquireTimeout} ms: all ${pool.totalCount} of ${poolSize} pooled ` +
            `connections to ${target} are held (${pool.waitingCount} other requests waiting). Open transactions or unfinished ` +
            `streams hold connections; finish them or raise the pool size.`,
          { cause: err },
        );
      // No statement was sent: whatever ended the handshake (a refusal, a reset from whatever
      // holds the port now), nothing ran, which is what ConnectError says.
      // A server answering in another protocol (MySQL's greeting on its port) fails the handshake
      // with pg's "Received unexpected … message from backend": say which server was expected.
      if (/unexpected .* message from backend/i.test((err as Error)?.message ?? ''))
        throw new ConnectError(`cannot connect to ${target}: the server there does not speak PostgreSQL's protocol (${(err as Error).message}); is it a MySQL server? DJ_BACKEND=mysql selects MySQL`, { cause: err });
      const e = errors.translateError(err);
      throw e instanceof LostConnectionError && !(e instanceof ConnectError) ? new ConnectError(e.message, { cause: err }) : e;
    }
    let failed = false;
    // A checked-out client has no pool listener: without ours a dying connection would crash the process.
    const onError = () => {
      failed = true;
    };
    client.on('error', onError);
    let released = false;
    return {
      client,
      broken: () => failed,
      done(broken: boolean) {
        if (released) return;
        released = true;
        client.removeListener('error', onError);
        const tx = (client as unknown as ClientInternals)._txStatus;
        const dirty = broken || failed || (tx !== undefined && tx !== null && tx !== 'I');
        client.release(dirty ? true : undefined);
      },
    };
  }

  function processId(client: PoolClient): number {
    return Number((client as unknown as ClientInternals).processID ?? 0);
  }

  const pooledSession = new PgSession(acquire, errors, types, 0);

  const run = (s: Session, sql: string) => s.execute(sql).then(() => undefined);

  return {
    backend: 'postgresql',
    dialect: postgresDialect,
    introspector: postgresIntrospector,
    errors,

    pooled: () => pooledSession,
    async withSession<T>(fn: (s: Session) => Promise<T>): Promise<T> {
      const lease = await acquire();
      let broken = false;
      const held: Lease = {
        client: lease.client,
        broken: lease.broken,
        done: (b) => {
          broken ||= b;
        },
      };
      const session = new PgSession(async () => held, errors, types, processId(lease.client), true);
      try {
        return await fn(session);
      } finally {
        lease.done(broken);
      }
    },
    begin: (s) => run(s, 'BEGIN'),
    async commit(s) {
      // PostgreSQL answers the COMMIT of an aborted transaction with ROLLBACK, not an error.
      const tag = s instanceof PgSession ? await s.command('COMMIT') : (await run(s, 'COMMIT'), 'COMMIT');
      if (tag === 'ROLLBACK')
        throw new TransactionAbortedError(
          `The transaction was rolled back, nothing of it was saved: a statement in it failed, and ${ABORTED_AT_FAILED_STATEMENT} ` +
            `(the COMMIT was answered with ROLLBACK). ${KEEP_THE_REST_ADVICE}`,
        );
    },
    rollback: (s) => run(s, 'ROLLBACK'),
    savepoint: (s, name) => run(s, `SAVEPOINT ${quoteId(name)}`),
    rollbackTo: (s, name) => run(s, `ROLLBACK TO SAVEPOINT ${quoteId(name)}`),
    release: (s, name) => run(s, `RELEASE SAVEPOINT ${quoteId(name)}`),
    async close() {
      if (!pool.ended && !pool.ending) await pool.end();
    },
  };
}
