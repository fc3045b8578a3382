/**
 * Reads that run once more when a table they read was altered by another process since its
 * heading was cached (table/heading-cache.ts has replaced the heading by then). A SELECT
 * changes nothing, so outside a transaction running it again on the current definitions is
 * safe. Inside one the TableChangedError stands: the transaction's earlier statements saw the
 * old definitions, and only its author can tell whether running it again is right.
 */
import type { TableChangedError } from '../errors.js';
import type { Connection } from '../connection/connection.js';
import { staleHeadingError } from '../table/heading-cache.js';
import type { TableId } from '../table/graph.js';

interface Readable {
  readonly connection: Connection;
}

/** The tables an expression reads: its own, or its operands' (found by shape: tables live above this module). */
function tablesOf(e: unknown, out: TableId[] = []): TableId[] {
  const x = e as { operands?: unknown; database?: unknown; tableName?: unknown };
  if (Array.isArray(x.operands)) for (const o of x.operands) tablesOf(o, out);
  else
    try {
      if (typeof x.database === 'string' && typeof x.tableName === 'string') out.push({ database: x.database, name: x.tableName });
    } catch {
      // A class not registered with a schema has no database: it reads nothing cached.
    }
  return out;
}

/**
 * `err` as a TableChangedError when a table `e` reads changed, else null. The server's unknown
 * columns were explained by the connection already; this looks at those found before any
 * statement was sent (`fetch1('new_attr')`).
 */
const changed = (e: Readable, err: unknown): Promise<TableChangedError | null> => staleHeadingError(e.connection, tablesOf(e), err);

/** Run `read`; once more if the tables it read were found changed (outside a transaction). */
export async function freshRead<T>(e: Readable, read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (err) {
    const c = await changed(e, err);
    if (!c) throw err;
    if (e.connection.inTransaction) throw c;
    return read();
  }
}

/** A stream that starts once more if it failed before its first item because its tables changed. */
export async function* freshStream<T>(e: Readable, stream: () => AsyncIterable<T>): AsyncGenerator<T> {
  let started = false;
  try {
    for await (const x of stream()) {
      started = true;
      yield x;
    }
    return;
  } catch (err) {
    if (started) throw err;
    const c = await changed(e, err);
    if (!c) throw err;
    if (e.connection.inTransaction) throw c;
  }
  yield* stream();
}
