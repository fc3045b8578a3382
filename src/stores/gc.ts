/**
 * `dj.gc`: find (and, with `dryRun: false`, remove) store objects that no row references.
 * Deleting rows never removes objects (content-addressed ones may be shared by other rows, and
 * a path-addressed one may still be read), so stores accumulate orphans; this collects them,
 * as DataJoint Python's `dj.gc.collect` does.
 *
 * References: every value of every store-backed codec column (`<blob@>`, `<attach@>`,
 * `<hash@>`, `<object@>`, `<npy@>`, `<filepath@>`, custom codecs chained to them) in every
 * schema the connection can see, as the spec's collector scans all tables: a row of another
 * schema may reference an object in these schemas' sections (a row copied there, with its
 * `<object@>` value or from `toArrow`), and must not lose it. Each value's metadata names its
 * path and store. Candidates, per store: the files of
 * the given schemas' sections only, `_hash/{schema}/…` (files named by a content hash) and
 * `_schema/[partition/]{schema}/…` (depth ≥ 3 below the section); so objects of schemas not
 * scanned, `<filepath@>` files and anything else in the store are never touched. A candidate is
 * kept when it is a referenced path, lies under one (folders, e.g. Zarr), or is a referenced
 * folder's manifest.
 *
 * Also candidates: partial writes that no writer has touched for an hour (a file store's
 * temporary files of a process killed mid-write); a live writer's file keeps changing.
 *
 * A schema given that no longer exists (dropped, with its objects left in the stores, as a drop
 * leaves them) is collected too: all its sections in every configured store are candidates.
 *
 * Caveat (as in DataJoint Python): an object uploaded by an insert whose row is not committed
 * yet looks orphaned; run collection (`dryRun: false`) when no inserts are in progress.
 *
 * Measured (bench/codecs.bench.ts): 10,000 objects on a file store, half orphaned: the dry run
 * in ~1 s, collection in ~2 s.
 */
import { codecPipeline } from '../codecs/pipeline.js';
import { hasCodec } from '../codecs/registry.js';
import { conn as defaultConnection, type Connection } from '../connection/connection.js';
import { DataJointError, MissingTableError } from '../errors.js';
import { attributeFromColumn } from '../heading/heading.js';
import { isContentHash } from './layout.js';
import { parseMetadata } from './metadata.js';
import { parallelMap } from './parallel.js';
import { configuredStoreNames, getStore, resolveStoreName, storeSpec } from './registry.js';

/** A schema to scan: a `dj.schema(...)` object or a database name. */
export type GcSchema = string | { readonly database: string; readonly connection?: Connection };

export interface GcOptions {
  /** Schemas whose rows are the references, and whose store sections are cleaned. */
  schemas: GcSchema | GcSchema[];
  /** Stores to clean (default: every store the schemas' columns use). */
  stores?: string | string[];
  /** Only report what would be removed (default true). */
  dryRun?: boolean;
  /** Connection to read the schemas with (default: the schemas', else `dj.conn()`). */
  connection?: Connection;
}

export interface GcResult {
  /** Distinct store objects that rows of the given schemas reference (in the cleaned stores). */
  referenced: number;
  /** Stored files that no row references. */
  orphaned: number;
  /** Files removed (0 in a dry run). */
  deleted: number;
  /** Bytes of the orphaned files (freed unless a dry run). */
  bytes: number;
  /** The orphaned files. */
  orphans: Array<{ store: string; path: string; size: number }>;
}

/** The references of values whose store is not known here: kept in every store. */
const ANY_STORE = '\0any';

/** Referenced paths per store name. */
type References = Map<string, Set<string>>;

/** What the rows reference: in the schemas cleaned (`own`), in every other schema (`others`). */
interface Scan {
  own: References;
  others: References;
  /** The stores the cleaned schemas' columns use. */
  used: Set<string>;
}

/** Scan the schemas to clean, then every other schema the connection can see. */
async function scanReferences(conn: Connection, databases: string[]): Promise<Scan> {
  const scan: Scan = { own: new Map(), others: new Map(), used: new Set() };
  for (const db of databases) await scanSchema(conn, db, true, scan);
  for (const db of await conn.catalog.listDatabases()) {
    if (databases.includes(db)) continue;
    // A schema or table dropped while gc reads it holds no references any more.
    await scanSchema(conn, db, false, scan).catch((err: unknown) => {
      if (!(err instanceof MissingTableError)) throw err;
    });
  }
  return scan;
}

async function scanSchema(conn: Connection, db: string, own: boolean, scan: Scan): Promise<void> {
  const d = conn.dialect;
  const refs = own ? scan.own : scan.others;
  for (const table of await conn.catalog.listTables(db)) {
    for (const col of await conn.catalog.columns(db, table.name)) {
      const a = attributeFromColumn(col, null, d);
      if (!a.codec) continue;
      // A codec this process does not know (e.g. a Python user's) still references objects
      // when it stores them (`<name@store>`): its values are read as standard metadata (a
      // `path`), or gc stops.
      const known = hasCodec(a.codec);
      if (!known && a.store === null) continue;
      const pipeline = known ? await codecPipeline(a) : null;
      if (pipeline && !pipeline.external) continue;
      const attrStore = storeOf(pipeline ? pipeline.chain.store || null : a.store || null, own);
      if (own) scan.used.add(attrStore);
      const sql = `SELECT ${d.quoteId(a.name)} FROM ${d.fullName(db, table.name)} WHERE ${d.quoteId(a.name)} IS NOT NULL`;
      for await (const batch of conn.stream(sql)) {
        for (const [value] of batch.rows) {
          let found: Array<{ path: string; store?: string | null }>;
          try {
            found = pipeline?.innermost.referencedPaths?.(value) ?? [parseMetadata<{ path: string; store?: string | null }>(value)];
          } catch (err) {
            // Another schema's codec this process cannot read (another project's): its values
            // point into that schema's own sections, which gc does not clean.
            if (!own) continue;
            // Better no collection than deleting what an unreadable value points at.
            const hint = known ? '' : ` (codec <${a.codec}> is not registered here: register it, then run gc again)`;
            throw new DataJointError(`gc: cannot read the store reference in ${d.fullName(db, table.name)}.${a.name}${hint}: ${(err as Error).message}`, { cause: err });
          }
          for (const r of found) {
            const store = r.store === undefined ? attrStore : storeOf(r.store, own);
            if (!refs.has(store)) refs.set(store, new Set());
            refs.get(store)!.add(r.path);
          }
        }
      }
    }
  }
}

/**
 * The store a reference names (null: the default store). Another schema's reference to a
 * default store this process has not configured counts for every store cleaned: it may point
 * at any of them, and gc never deletes what a row may reference.
 */
function storeOf(name: string | null, own: boolean): string {
  if (own || name) return resolveStoreName(name);
  try {
    return resolveStoreName(null);
  } catch {
    return ANY_STORE;
  }
}

/** Whether a stored file belongs to a referenced object (itself, a file inside it, or its manifest). */
function covered(path: string, referenced: Set<string>): boolean {
  const p = path.endsWith('.manifest.json') ? path.slice(0, -'.manifest.json'.length) : path;
  if (referenced.has(p)) return true;
  for (let i = p.lastIndexOf('/'); i > 0; i = p.lastIndexOf('/', i - 1)) if (referenced.has(p.slice(0, i))) return true;
  return false;
}

/** Files of the scanned schemas' sections in one store. */
async function candidates(storeName: string, databases: string[]): Promise<Array<{ path: string; size: number }>> {
  const spec = storeSpec(storeName);
  const store = await getStore(storeName);
  const out: Array<{ path: string; size: number }> = [];
  const hashPrefix = spec.hashPrefix.replace(/^\/+|\/+$/g, '');
  const schemaPrefix = spec.schemaPrefix.replace(/^\/+|\/+$/g, '');
  const dbs = new Set(databases);
  for (const db of databases) {
    for await (const e of store.list(`${hashPrefix}/${db}`)) if (isContentHash(e.path.slice(e.path.lastIndexOf('/') + 1))) out.push(e);
  }
  // Partitioned layouts put key folders (`k=v`) before the schema: scan the section and skip them.
  const sections = spec.partitionPattern ? [schemaPrefix] : databases.map((db) => `${schemaPrefix}/${db}`);
  const inScannedSchema = (path: string) => {
    const parts = path.slice(schemaPrefix.length + 1).split('/');
    let i = 0;
    while (i < parts.length && parts[i]!.includes('=')) i++;
    return dbs.has(parts[i]!) && parts.length - i >= 3;
  };
  for (const section of sections) {
    for await (const e of store.list(section)) if (inScannedSchema(e.path)) out.push(e);
  }
  // Partial writes of writers that died (a file store's temporary files): referenced by nothing.
  if (store.listAbandoned) {
    for (const db of databases) for await (const e of store.listAbandoned(`${hashPrefix}/${db}`, ABANDONED_MS)) out.push(e);
    for (const section of sections) for await (const e of store.listAbandoned(section, ABANDONED_MS)) if (inScannedSchema(e.path)) out.push(e);
  }
  return out;
}

/** A partial write not written to for this long is abandoned (its writer died): one hour. */
const ABANDONED_MS = 3_600_000;

/** Find, and unless `dryRun` (default true) remove, store objects that no row of `schemas` references. */
export async function gc(options: GcOptions): Promise<GcResult> {
  if (!options || options.schemas === undefined) throw new DataJointError('gc needs { schemas }: the schemas whose rows reference the objects');
  const schemas = Array.isArray(options.schemas) ? options.schemas : [options.schemas];
  if (!schemas.length) throw new DataJointError('gc needs at least one schema');
  const databases = schemas.map((s) => (typeof s === 'string' ? s : s.database));
  const first = schemas.find((s): s is Exclude<GcSchema, string> => typeof s !== 'string' && !!s.connection);
  const conn = options.connection ?? first?.connection ?? defaultConnection();
  // A schema dropped after its objects were written: nothing of its own references them any
  // more, so its sections hold only orphans (but what rows of other schemas reference).
  const dropped: string[] = [];
  for (const db of databases) if (!(await conn.catalog.databaseExists(db))) dropped.push(db);
  const dryRun = options.dryRun ?? true;

  const { own, others, used } = await scanReferences(conn, databases);
  // Which stores a dropped schema used cannot be read from its columns any more: every store.
  const defaultStores = dropped.length ? [...new Set([...used, ...configuredStoreNames()])] : [...used];
  const stores = options.stores === undefined ? defaultStores : (Array.isArray(options.stores) ? options.stores : [options.stores]).map((s) => resolveStoreName(s));
  const result: GcResult = { referenced: 0, orphaned: 0, deleted: 0, bytes: 0, orphans: [] };
  for (const storeName of stores) {
    const referenced = own.get(storeName) ?? new Set<string>();
    result.referenced += referenced.size;
    // Kept as well: what rows of other schemas reference in these sections (copied rows).
    const kept = new Set([...referenced, ...(others.get(storeName) ?? []), ...(others.get(ANY_STORE) ?? [])]);
    const orphans = (await candidates(storeName, databases)).filter((c) => !covered(c.path, kept));
    for (const o of orphans) {
      result.orphans.push({ store: storeName, path: o.path, size: o.size });
      result.bytes += o.size;
    }
    result.orphaned += orphans.length;
    if (!dryRun && orphans.length) {
      const store = await getStore(storeName);
      await parallelMap(orphans, store.concurrency, async (o) => {
        await store.delete(o.path);
        result.deleted++;
      });
    }
  }
  return result;
}
