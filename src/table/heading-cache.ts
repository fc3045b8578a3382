/**
 * Cached headings (a table's columns as this process read them from the catalog). A heading is
 * read once and then trusted: checking the catalog before every statement would double the
 * round trips of small queries. Another process may alter the table meanwhile (`alter()`, raw
 * DDL); the first statement built from the old heading then fails with an unknown column, and
 * only then, on that error path, is the catalog read again: every cached table the statement
 * names is compared with its current definition, and one that changed is replaced in every
 * cache that holds it (so the next call builds its SQL from the current columns) and the error
 * becomes a TableChangedError saying so. Reads outside a transaction run once more on their own
 * (expression/fresh-read.ts); writes do not, their caller decides.
 */
import { TableChangedError, UnknownAttributeError } from '../errors.js';
import { type Connection, onUnknownColumn } from '../connection/connection.js';
import type { Heading } from '../heading/heading.js';
import { loadHeading } from './load-heading.js';
import type { TableId } from './graph.js';

interface Entry {
  readonly conn: Connection;
  readonly database: string;
  readonly table: string;
  readonly heading: Promise<Heading>;
}

const keyOf = (database: string, table: string): string => `${database}\0${table}`;

/** Every cache alive, so that a table found changed is replaced in each of them. */
const caches = new Set<WeakRef<HeadingCache>>();

/** Headings by table, each read once (a failed read is not kept). */
export class HeadingCache {
  readonly #entries = new Map<string, Entry>();

  constructor() {
    caches.add(new WeakRef(this));
  }

  get(conn: Connection, database: string, table: string): Promise<Heading> {
    const k = keyOf(database, table);
    const held = this.#entries.get(k);
    if (held && held.conn === conn) return held.heading;
    return this.#load(k, conn, database, table);
  }

  #load(k: string, conn: Connection, database: string, table: string, heading = loadHeading(conn, database, table)): Promise<Heading> {
    const entry: Entry = { conn, database, table, heading };
    heading.catch(() => {
      if (this.#entries.get(k) === entry) this.#entries.delete(k);
    });
    this.#entries.set(k, entry);
    return heading;
  }

  /** Forget the headings of `tables` of `database` (all of that database without `tables`; everything without either). */
  forget(database?: string, tables?: readonly string[]): void {
    if (database === undefined) this.#entries.clear();
    else if (tables) for (const t of tables) this.#entries.delete(keyOf(database, t));
    else for (const [k, e] of this.#entries) if (e.database === database) this.#entries.delete(k);
  }

  /** @internal The entry of a table on `conn`, if cached. */
  entry(conn: Connection, k: string): Entry | undefined {
    const e = this.#entries.get(k);
    return e && e.conn === conn ? e : undefined;
  }

  /** @internal Entries on `conn`. */
  *entriesOn(conn: Connection): Iterable<Entry> {
    for (const e of this.#entries.values()) if (e.conn === conn) yield e;
  }

  /** @internal Put the current heading in place of `old` (forget it when the table cannot be read). */
  replace(old: Entry, current: Promise<Heading> | null): void {
    const k = keyOf(old.database, old.table);
    if (this.#entries.get(k) !== old) return; // replaced or forgotten meanwhile
    if (current) this.#load(k, old.conn, old.database, old.table, current);
    else this.#entries.delete(k);
  }
}

function* liveCaches(): Iterable<HeadingCache> {
  for (const ref of caches) {
    const c = ref.deref();
    if (c) yield c;
    else caches.delete(ref);
  }
}

/** What the statements see of a heading: a change elsewhere (a comment) leaves the SQL valid. */
const signature = (h: Heading): string => JSON.stringify(h.all.map((a) => [a.name, a.type, a.nullable, a.default, a.inKey]));

interface Change {
  table: TableId;
  before: readonly string[];
  /** null: the table can no longer be read (dropped). */
  after: readonly string[] | null;
}

/** Of `tables`, the cached ones whose columns changed; each is replaced by its current heading in every cache. */
async function changedTables(conn: Connection, tables: readonly TableId[]): Promise<Change[]> {
  const changes: Change[] = [];
  const seen = new Set<string>();
  for (const t of tables) {
    const k = keyOf(t.database, t.name);
    if (seen.has(k)) continue;
    seen.add(k);
    const held = [...liveCaches()].flatMap((cache) => {
      const entry = cache.entry(conn, k);
      return entry ? [{ cache, entry }] : [];
    });
    if (!held.length) continue;
    const current = loadHeading(conn, t.database, t.name);
    const after = await current.catch(() => null);
    let before: Heading | null = null;
    for (const { cache, entry } of held) {
      const old = await entry.heading.catch(() => null);
      if (!old || (after && signature(old) === signature(after))) continue;
      before ??= old;
      cache.replace(entry, after ? current : null);
    }
    if (before) changes.push({ table: t, before: before.names, after: after?.names ?? null });
  }
  return changes;
}

/**
 * When any of `tables` changed since its heading was cached: a TableChangedError for `err`
 * (their headings now current); else null. A failure to look is no answer (null).
 */
export async function tableChangedError(conn: Connection, tables: readonly TableId[], err: Error): Promise<TableChangedError | null> {
  const changes = await changedTables(conn, tables).catch(() => []);
  if (!changes.length) return null;
  const what = changes
    .map(({ table, before, after }) => {
      const name = conn.dialect.fullName(table.database, table.name);
      return after ? `${name} (attributes now ${after.join(', ')}; were ${before.join(', ')})` : `${name} (it can no longer be read)`;
    })
    .join(' and ');
  const one = changes.length === 1;
  return new TableChangedError(
    `Table${one ? '' : 's'} ${what} ${one ? 'was' : 'were'} changed by another process after this process read ${one ? 'its definition' : 'their definitions'}. ` +
      `The definition${one ? ' has' : 's have'} been reloaded: run the call again. The server said: ${err.message}`,
    { cause: err },
  );
}

/**
 * For an attribute a cached heading lacked, found before any statement was sent (`err` has no
 * server error as its cause): a TableChangedError when one of `tables` was altered elsewhere
 * (their headings now current); `err` itself when it is one already; else null.
 */
export async function staleHeadingError(conn: Connection, tables: readonly TableId[], err: unknown): Promise<TableChangedError | null> {
  if (err instanceof TableChangedError) return err;
  if (!(err instanceof UnknownAttributeError) || err.cause !== undefined) return null;
  return tableChangedError(conn, tables, err);
}

/** Cached tables on `conn` that `sql` names (by their full, quoted name). */
function tablesNamedIn(conn: Connection, sql: string): TableId[] {
  const out: TableId[] = [];
  for (const cache of liveCaches())
    for (const e of cache.entriesOn(conn)) if (sql.includes(conn.dialect.fullName(e.database, e.table))) out.push({ database: e.database, name: e.table });
  return out;
}

// The server's unknown column: a table the statement names may have been altered elsewhere.
onUnknownColumn(async (conn: Connection, sql: string, err: UnknownAttributeError) => (await tableChangedError(conn, tablesNamedIn(conn, sql), err)) ?? err);
