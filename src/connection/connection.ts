/**
 * Connection: the adapter for the configured backend plus transaction scoping.
 * Queries issued inside `transaction(fn)` (at any async depth) run on the transaction's own
 * session, found through AsyncLocalStorage, so user code never passes a handle around.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { config } from '../config.js';
import { DataJointError, LostConnectionError } from '../errors.js';
import type { Adapter, ConnectOptions, ExecResult, Row, Session, SqlValue } from './adapter.js';
import { MysqlAdapter } from './mysql.js';

export interface ConnectionOptions extends Partial<ConnectOptions> {
  backend?: 'mysql' | 'postgresql' | 'embedded';
  /** Re-issue a statement once when the connection was lost outside a transaction. */
  reconnect?: boolean;
}

interface TxState {
  session: Session;
  depth: number;
}

const openConnections = new Set<Connection>();

export class Connection {
  readonly adapter: Adapter;
  readonly options: Required<Pick<ConnectOptions, 'host' | 'port' | 'user'>> & { backend: string };
  readonly #tx = new AsyncLocalStorage<TxState>();
  #reconnect: boolean;
  #closed = false;
  #savepointCounter = 0;
  /** Sessions of open top-level transactions (for aborting them from a signal handler). */
  readonly #openTx = new Set<Session>();

  constructor(opts: ConnectionOptions = {}) {
    const backend = opts.backend ?? (config.get<string | null>('database.backend') as ConnectionOptions['backend']) ?? 'mysql';
    let hostSetting = opts.host ?? config.get<string | null>('database.host') ?? 'localhost';
    let port = opts.port ?? (config.get<number | null>('database.port') as number | null) ?? undefined;
    const m = /^(.*):(\d+)$/.exec(hostSetting);
    if (m && !hostSetting.startsWith('[')) {
      hostSetting = m[1]!;
      port ??= Number(m[2]);
    }
    const user = opts.user ?? String(config.get('database.user') ?? 'root');
    const password = opts.password ?? String(config.get('database.password') ?? '');
    this.#reconnect = opts.reconnect ?? Boolean(config.get('database.reconnect'));
    if (backend === 'mysql') {
      port ??= 3306;
      this.adapter = new MysqlAdapter({
        host: hostSetting,
        port,
        user,
        password,
        poolSize: opts.poolSize ?? Number(config.get('database.pool_size') ?? 4),
        useTls: opts.useTls ?? Boolean(config.get('database.use_tls')),
      });
    } else {
      throw new DataJointError(
        `database.backend '${backend}' is not available in this version; use 'mysql' (set DJ_BACKEND=mysql or database.backend)`,
      );
    }
    this.options = { host: hostSetting, port, user, backend };
    openConnections.add(this);
  }

  get dialect() {
    return this.adapter.dialect;
  }

  /** Whether the caller is inside `transaction()`. */
  get inTransaction(): boolean {
    return this.#tx.getStore() !== undefined;
  }

  /** The session queries should run on right now. */
  private session(): Session {
    if (this.#closed) throw new DataJointError('The connection is closed');
    return this.#tx.getStore()?.session ?? this.adapter.pooled();
  }

  /** Run a statement, retrying once on a lost connection when that is safe (outside a transaction). */
  private async retrying<T>(op: (s: Session) => Promise<T>): Promise<T> {
    const inTx = this.inTransaction;
    try {
      return await op(this.session());
    } catch (err) {
      if (!inTx && this.#reconnect && this.adapter.isConnectionLost(err)) {
        try {
          return await op(this.session());
        } catch (err2) {
          throw this.adapter.isConnectionLost(err2) && !(err2 instanceof LostConnectionError)
            ? new LostConnectionError(String((err2 as Error).message), { cause: err2 })
            : err2;
        }
      }
      throw err;
    }
  }

  query(sql: string, params?: readonly SqlValue[]): Promise<Row[]> {
    return this.retrying((s) => s.query(sql, params));
  }
  queryArrays(sql: string, params?: readonly SqlValue[]): Promise<{ rows: unknown[][]; columns: string[] }> {
    return this.retrying((s) => s.queryArrays(sql, params));
  }
  execute(sql: string, params?: readonly SqlValue[]): Promise<ExecResult> {
    return this.retrying((s) => s.execute(sql, params));
  }
  stream(sql: string, params?: readonly SqlValue[]): AsyncIterable<Row> {
    return this.session().stream(sql, params);
  }

  /**
   * Commit on return, roll back on throw. Nested calls become savepoints, so an inner failure
   * that the caller catches undoes only the inner work.
   */
  async transaction<T>(fn: () => Promise<T> | T): Promise<T> {
    const outer = this.#tx.getStore();
    if (outer) {
      const name = `dj_sp_${++this.#savepointCounter}`;
      // SAVEPOINT and RELEASE travel with the neighbouring statements (the session keeps order).
      const saved = this.adapter.savepoint(outer.session, name);
      saved.catch(() => {});
      try {
        const result = await this.#tx.run({ session: outer.session, depth: outer.depth + 1 }, fn);
        await saved;
        this.adapter.release(outer.session, name).catch(() => {});
        return result;
      } catch (err) {
        await saved.catch(() => {});
        await this.adapter.rollbackTo(outer.session, name).catch(() => {});
        throw err;
      }
    }
    if (this.#closed) throw new DataJointError('The connection is closed');
    return this.adapter.withSession(async (session) => {
      // BEGIN is not awaited on its own: the session runs statements in order, so it goes out
      // with the first statement of fn (one round trip less). A failed BEGIN fails that statement
      // too (the connection is gone), and is rethrown below in any case.
      const begun = this.adapter.begin(session);
      begun.catch(() => {});
      this.#openTx.add(session);
      let result: T;
      try {
        result = await this.#tx.run({ session, depth: 1 }, fn);
        await begun;
      } catch (err) {
        await this.adapter.rollback(session).catch(() => {});
        throw err;
      } finally {
        this.#openTx.delete(session);
      }
      await this.adapter.commit(session);
      return result;
    });
  }

  /** Run fn outside any enclosing transaction: its statements autocommit on a pooled session. */
  outsideTransaction<T>(fn: () => Promise<T> | T): Promise<T> {
    return Promise.resolve(this.#tx.exit(fn));
  }

  /** Server connection id of an open top-level transaction (any async context), or null. */
  transactionConnectionId(): number | null {
    for (const s of this.#openTx) return s.connectionId;
    return null;
  }

  #sessionId: Promise<number> | null = null;
  /** A server connection id of this connection's pool, looked up once (for job records). */
  sessionId(): Promise<number> {
    this.#sessionId ??= this.connectionId().catch((e) => {
      this.#sessionId = null;
      throw e;
    });
    return this.#sessionId;
  }

  /** Server connection id of the session in use (the transaction's, when inside one). */
  async connectionId(): Promise<number> {
    const rows = await this.query('SELECT CONNECTION_ID() AS id');
    return Number(rows[0]!.id);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    openConnections.delete(this);
    await this.adapter.close();
  }

  get closed(): boolean {
    return this.#closed;
  }
}

let shared: Connection | null = null;

/** The shared connection, created on first use from the configuration. */
export function conn(opts?: ConnectionOptions): Connection {
  if (!shared || shared.closed) shared = new Connection(opts);
  return shared;
}

const closeHooks = new Set<() => Promise<void>>();
/** Register cleanup to run on closeAll() (e.g. populate's worker pools). */
export function onCloseAll(fn: () => Promise<void>): void {
  closeHooks.add(fn);
}

/** Close every connection the library opened (and worker pools it started). */
export async function closeAll(): Promise<void> {
  await Promise.all([...closeHooks].map((f) => f().catch(() => {})));
  await Promise.all([...openConnections].map((c) => c.close()));
  shared = null;
}

export async function listSchemas(connection: Connection = conn()): Promise<string[]> {
  return connection.adapter.listDatabases();
}
