/**
 * An embedded server's adapter that follows the server. Another process may stop the server
 * (`dj embedded stop`) or restart it on another port (its old one taken meanwhile); a pool made
 * for the old address would then fail every statement with ConnectError for the rest of the
 * process. Here a connection that cannot be made looks the server up again (starting it when it
 * is down, as a first connection does) and moves to a new pool. Nothing ran on a connection
 * that could not be made, so the statement is sent again, a write included; a session already
 * held (a transaction) is never re-run: only acquiring one is.
 */
import { ConnectError } from '../../errors.js';
import type { Adapter, ArrayResult, Session, SqlValue, StreamOptions } from '../adapter.js';

export function following(first: Adapter, reconnect: () => Promise<Adapter>): Adapter {
  let current = first;
  let moving: Promise<Adapter> | null = null;
  /** The adapter to use after `failed` could not connect: a new one, made once for all callers. */
  const moveFrom = (failed: Adapter): Promise<Adapter> => {
    if (current !== failed) return Promise.resolve(current);
    moving ??= reconnect()
      .then((next) => {
        current = next;
        void failed.close().catch(() => {});
        return next;
      })
      .finally(() => (moving = null));
    return moving;
  };
  const pooledOf = new WeakMap<Adapter, Session>();
  const pooledSession = (a: Adapter): Session => {
    let s = pooledOf.get(a);
    if (!s) pooledOf.set(a, (s = a.pooled()));
    return s;
  };
  /** Run one statement on a pooled connection, once more on the new pool if none could be made. */
  const statement = async <T>(run: (s: Session) => Promise<T>): Promise<T> => {
    const a = current;
    try {
      return await run(pooledSession(a));
    } catch (err) {
      if (!(err instanceof ConnectError)) throw err;
      return run(pooledSession(await moveFrom(a)));
    }
  };
  const pooled: Session = {
    query: (sql: string, params?: readonly SqlValue[]) => statement((s) => s.query(sql, params)),
    queryArrays: (sql: string, params?: readonly SqlValue[]) => statement((s) => s.queryArrays(sql, params)),
    execute: (sql: string, params?: readonly SqlValue[]) => statement((s) => s.execute(sql, params)),
    async *stream(sql: string, params?: readonly SqlValue[], opts?: StreamOptions): AsyncIterable<ArrayResult> {
      const a = current;
      let started = false;
      try {
        for await (const batch of pooledSession(a).stream(sql, params, opts)) {
          started = true;
          yield batch;
        }
      } catch (err) {
        if (started || !(err instanceof ConnectError)) throw err;
        yield* pooledSession(await moveFrom(a)).stream(sql, params, opts);
      }
    },
    connectionId: 0,
    transactionAborted: false,
  };
  return {
    ...first,
    pooled: () => pooled,
    async withSession<T>(fn: (s: Session) => Promise<T>): Promise<T> {
      const a = current;
      let held = false;
      try {
        return await a.withSession((s) => {
          held = true;
          return fn(s);
        });
      } catch (err) {
        if (held || !(err instanceof ConnectError)) throw err;
        return (await moveFrom(a)).withSession(fn);
      }
    },
    close: async () => {
      await moving?.catch(() => null);
      await current.close();
    },
  };
}
