/**
 * Connection: one backend's adapter (loaded on first use) plus transaction scoping. Statements
 * issued inside `transaction(fn)` (at any async depth) run on the transaction's own session,
 * found through AsyncLocalStorage, so user code never passes a handle around; catalog look-ups
 * follow the same rule. No SQL text is written here: it all comes from the dialect.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { DataJointError, LostConnectionError, TableChangedError, UnknownAttributeError } from '../errors.js';
import type { Adapter, ArrayResult, BackendName, ConnectOptions, Dialect, ExecResult, Introspector, Row, Session, SqlValue, StreamOptions } from '../adapters/adapter.js';
import { backend as backendEntry } from '../adapters/registry.js';
import { type ConnectionOptions, resolveSettings } from './settings.js';
import { beforeTransactionHooks, unknownColumnHook } from './hooks.js';
import { type TxScope, abortedBefore, childScope, endsTransaction, noteFailure, noteSavepointFailure, rolledBack, runUndo, settled, statementSession, takeTurn, topScope } from './transaction.js';

export type { ConnectionOptions } from './settings.js';
export { onBeforeTransaction, onUnknownColumn } from './hooks.js';

/** Catalog look-ups bound to a connection: each runs on the current session. */
export type Catalog = { [K in keyof Introspector]: Introspector[K] extends (s: Session, ...a: infer A) => infer R ? (...a: A) => R : never };

const openConnections = new Set<Connection>();

/** Options of {@link Connection.transaction}. */
export interface TransactionOptions {
  /**
   * @internal For a nested call: leave its savepoint to the outer COMMIT instead of releasing it
   * (one round trip less). Populate's group commit uses it for the at most 64 makes of a group;
   * many unreleased savepoints in one transaction would cost the server.
   */
  keepSavepoint?: boolean;
}

export class Connection {
  readonly backend: BackendName;
  readonly dialect: Dialect;
  readonly options: Readonly<ConnectOptions> & { backend: BackendName };
  readonly #connect: ConnectOptions;
  readonly #tx = new AsyncLocalStorage<TxScope>();
  readonly #reconnect: boolean;
  #adapter: Adapter | null = null;
  #adapterPromise: Promise<Adapter> | null = null;
  #pooled: Session | null = null;
  #closed = false;
  #savepointCounter = 0;
  /** Sessions of open top-level transactions (for aborting them from a signal handler). */
  readonly #openTx = new Set<Session>();
  #catalog: Catalog | null = null;
  /** Set while before-transaction hooks run (their own transactions do not run them again). */
  readonly #inHooks = new AsyncLocalStorage<true>();

  constructor(opts: ConnectionOptions = {}) {
    const settings = resolveSettings(opts);
    this.backend = settings.backend;
    this.dialect = backendEntry(settings.backend).dialect;
    this.#connect = settings.connect;
    this.#reconnect = settings.reconnect;
    const { password: _password, ...shown } = settings.connect;
    this.options = { ...shown, password: '', backend: settings.backend };
    openConnections.add(this);
  }

  /** The backend's adapter, connecting (and loading its driver) on first use. */
  adapter(): Promise<Adapter> {
    if (this.#closed) return Promise.reject(new DataJointError('The connection is closed'));
    if (this.#adapter) return Promise.resolve(this.#adapter);
    this.#adapterPromise ??= backendEntry(this.backend)
      .connect(this.#connect)
      .then((a) => {
        if (this.#closed) {
          void a.close();
          throw new DataJointError('The connection is closed');
        }
        return (this.#adapter = a);
      })
      .catch((err) => {
        this.#adapterPromise = null;
        throw err;
      });
    return this.#adapterPromise;
  }

  /** Whether the caller is inside `transaction()`. */
  get inTransaction(): boolean {
    return this.#tx.getStore() !== undefined;
  }

  /** The pooled session for statements outside a transaction. */
  private async pooledSession(): Promise<Session> {
    if (this.#closed) throw new DataJointError('The connection is closed');
    if (this.#adapter && this.#pooled) return this.#pooled;
    const a = await this.adapter();
    return (this.#pooled ??= a.pooled());
  }

  /** Run a statement (#runOn), an unknown column in `sql` explained (#explain). */
  private async run<T>(op: (s: Session) => Promise<T>, retry: boolean, sql?: string): Promise<T> {
    try {
      return await this.#runOn(op, retry);
    } catch (err) {
      throw await this.#explain(err, sql);
    }
  }

  /**
   * An unknown column reported for `sql`, explained by the registered hook. It looks outside
   * any transaction: a PostgreSQL transaction refuses every statement after a failed one.
   */
  async #explain(err: unknown, sql: string | undefined): Promise<unknown> {
    const hook = unknownColumnHook();
    if (!hook || sql === undefined || !(err instanceof UnknownAttributeError) || err instanceof TableChangedError) return err;
    return this.#tx.exit(() => hook(this, sql, err)).catch(() => err);
  }

  /**
   * Run a statement on the current session: inside a transaction on its session (once its
   * level is free, keeping a failure that aborted it); outside, on a pooled one, a read
   * retried once on a lost connection (inside, the transaction's work is gone with its
   * connection, so it must fail as a whole).
   */
  async #runOn<T>(op: (s: Session) => Promise<T>, retry: boolean): Promise<T> {
    const scope = this.#tx.getStore();
    if (scope) {
      const session = await statementSession(scope);
      try {
        return await op(session);
      } catch (err) {
        noteFailure(scope.tx, err);
        throw err;
      }
    }
    try {
      return await op(await this.pooledSession());
    } catch (err) {
      if (!retry || !this.#reconnect || !(err instanceof LostConnectionError)) throw err;
      return op(await this.pooledSession());
    }
  }

  query(sql: string, params?: readonly SqlValue[]): Promise<Row[]> {
    return this.run((s) => s.query(sql, params), true, sql);
  }
  queryArrays(sql: string, params?: readonly SqlValue[]): Promise<ArrayResult> {
    return this.run((s) => s.queryArrays(sql, params), true, sql);
  }
  /** A statement that changes something: never re-sent (it may have run before the connection died). */
  execute(sql: string, params?: readonly SqlValue[]): Promise<ExecResult> {
    return this.run((s) => s.execute(sql, params), false, sql);
  }
  /** Row batches from one server-side cursor. */
  async *stream(sql: string, params?: readonly SqlValue[], opts?: StreamOptions): AsyncIterable<ArrayResult> {
    const scope = this.#tx.getStore();
    const session = scope ? await statementSession(scope) : await this.pooledSession();
    try {
      yield* session.stream(sql, params, opts);
    } catch (err) {
      if (scope) noteFailure(scope.tx, err);
      throw await this.#explain(err, sql);
    }
  }

  /** Catalog look-ups (tables, columns, keys, indexes) on the current session. */
  get catalog(): Catalog {
    if (!this.#catalog) {
      const bind =
        <K extends keyof Introspector>(k: K) =>
        (...args: unknown[]) =>
          this.run(async (s) => ((await this.adapter()).introspector[k] as (s: Session, ...a: unknown[]) => Promise<unknown>)(s, ...args), true);
      this.#catalog = {
        listDatabases: bind('listDatabases'),
        databaseExists: bind('databaseExists'),
        listTables: bind('listTables'),
        columns: bind('columns'),
        foreignKeys: bind('foreignKeys'),
        referencingKeys: bind('referencingKeys'),
        indexes: bind('indexes'),
      } as Catalog;
    }
    return this.#catalog;
  }

  /** Run DDL statements in order (each may be several for one object, e.g. PostgreSQL comments). */
  async executeAll(statements: readonly string[]): Promise<void> {
    for (const sql of statements) await this.execute(sql);
  }

  /**
   * Commit on return, roll back on throw. Nested calls become savepoints, so an inner failure
   * that the caller catches undoes only the inner work; nested calls started together run one
   * after another (see transaction.ts). Where a failed statement aborts the whole transaction
   * (PostgreSQL), a transaction in which one failed rejects with TransactionAbortedError even
   * when the function caught the statement's error and returned.
   */
  async transaction<T>(fn: () => Promise<T> | T, opts: TransactionOptions = {}): Promise<T> {
    const outer = this.#tx.getStore();
    const adapter = await this.adapter();
    if (outer) return this.#nested(adapter, outer, fn, opts);
    if (beforeTransactionHooks.size && !this.#inHooks.getStore())
      await this.#inHooks.run(true, async () => {
        for (const hook of beforeTransactionHooks) await hook(this).catch(() => {});
      });
    return adapter.withSession(async (session) => {
      // BEGIN is not awaited on its own: the session runs statements in order, so it goes out
      // with the first statement of fn (one round trip less). A failed BEGIN fails that statement
      // too (the connection is gone), and is rethrown below in any case.
      const begun = adapter.begin(session);
      begun.catch(() => {});
      this.#openTx.add(session);
      const scope = topScope(session);
      let result: T;
      try {
        result = await this.#tx.run(scope, fn);
        await settled(scope); // nested transactions the function did not wait for
        await begun;
        if (scope.tx.failure) throw rolledBack(scope.tx, false);
      } catch (err) {
        await adapter.rollback(session).catch(() => {});
        await runUndo(scope);
        throw err;
      } finally {
        this.#openTx.delete(session);
      }
      try {
        await adapter.commit(session);
      } catch (err) {
        // A lost reply leaves the outcome unknown: what the work left outside stays.
        if (!(err instanceof LostConnectionError)) await runUndo(scope);
        throw err;
      }
      return result;
    });
  }

  /** A nested transaction: a savepoint, in its turn among the nested transactions of its level. */
  async #nested<T>(adapter: Adapter, parent: TxScope, fn: () => Promise<T> | T, opts: TransactionOptions): Promise<T> {
    const tx = parent.tx;
    const done = await takeTurn(parent);
    try {
      if (tx.failure) throw abortedBefore(tx);
      const name = `dj_sp_${++this.#savepointCounter}`;
      // SAVEPOINT and RELEASE travel with the neighbouring statements (the session keeps order).
      const saved = adapter.savepoint(tx.session, name);
      saved.catch(() => {});
      const scope = childScope(parent);
      let result: T;
      try {
        result = await this.#tx.run(scope, fn);
        await settled(scope);
        await saved;
        if (tx.failure) throw rolledBack(tx, true);
      } catch (err) {
        const savepointSet = await saved.then(
          () => true,
          (e: unknown) => {
            // Refused in a transaction aborted before it, a rollback further out recovers;
            // otherwise the nested work ran without a savepoint and cannot be undone alone.
            if (tx.session.transactionAborted) noteFailure(tx, e);
            else noteSavepointFailure(tx, e);
            return false;
          },
        );
        // Undone with the savepoint, or else with the whole transaction.
        if (!savepointSet) parent.undo.push(...scope.undo.splice(0));
        if (savepointSet) {
          try {
            await adapter.rollbackTo(tx.session, name);
            await runUndo(scope);
            // Rolling back to a savepoint set before the failure ends the aborted state.
            if (!tx.final) tx.failure = null;
          } catch (rollbackErr) {
            // A lost connection or a deadlock (MySQL rolls the whole transaction back) took
            // the savepoint with it: that is the error to report, and to refuse the rest with.
            parent.undo.push(...scope.undo.splice(0));
            const gone = endsTransaction(err) ? err : rollbackErr;
            noteSavepointFailure(tx, gone);
            throw gone === err ? err : abortedBefore(tx);
          }
        }
        throw err;
      }
      if (!opts.keepSavepoint) adapter.release(tx.session, name).catch((e: unknown) => noteSavepointFailure(tx, e));
      // Kept with the enclosing level: undone if it is rolled back.
      parent.undo.push(...scope.undo);
      return result;
    } finally {
      done();
    }
  }

  /**
   * Inside a transaction: run `undo` if the work done so far at this level is rolled back (the
   * transaction, or the nested one it runs in, fails), to remove what it left outside the
   * database, such as store objects only its rows point at. Not run when the transaction
   * commits, or when a lost COMMIT reply leaves the outcome unknown. Outside a transaction, a
   * no-op: the caller's statement has committed.
   */
  onRollback(undo: () => Promise<void>): void {
    this.#tx.getStore()?.undo.push(undo);
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

  /**
   * End the server sessions of every open top-level transaction (any async context): the
   * server rolls them back and their statements fail with LostConnectionError. For stopping
   * work from outside it (a signal handler); never throws.
   */
  async abortTransactions(): Promise<void> {
    const ids = [...this.#openTx].map((s) => s.connectionId).filter((id) => id > 0);
    await Promise.all(ids.map((id) => this.killSession(id).catch(() => {})));
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
    const rows = await this.query(`SELECT ${this.dialect.connectionIdExpr} AS id`);
    return Number(rows[0]!.id);
  }

  /** End another session of the server (it rolls back); from a fresh single-connection pool. */
  async killSession(connectionId: number): Promise<void> {
    const killer = new Connection({ ...this.#connect, backend: this.backend, poolSize: 1, reconnect: false });
    try {
      await killer.execute(this.dialect.killSession(connectionId));
    } finally {
      await killer.close();
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    openConnections.delete(this);
    const a = this.#adapter ?? (await this.#adapterPromise?.catch(() => null));
    await a?.close();
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
  return connection.catalog.listDatabases();
}
