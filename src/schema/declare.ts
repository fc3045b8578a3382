/**
 * Lazy declaration (API.md §2): the first operation on a table declares it, its parents first
 * and its parts after it, once per process. Concurrent declarations are safe: on MySQL
 * `CREATE TABLE IF NOT EXISTS` is atomic; where DDL is transactional (PostgreSQL) the table,
 * its comments, indexes and lineage commit together under a declaration lock.
 *
 * DDL never runs inside an open transaction on a backend whose DDL commits implicitly (MySQL):
 * it would commit the caller's work. Such a declaration is refused with advice instead.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { config } from '../config.js';
import { AccessError, BackendUnavailableError, DataJointError, DeadlockError, DeclarationError, LostConnectionError, MissingTableError, PoolTimeoutError, QuerySyntaxError } from '../errors.js';
import type { Connection } from '../connection/connection.js';
import { type CompiledTable, compileDefinition, type ParentRef } from '../declare/compile.js';
import { parseDefinition } from '../declare/parse.js';
import { resolveType } from '../heading/types.js';
import type { Dialect, TableSpec } from '../adapters/adapter.js';
import { Heading } from '../heading/heading.js';
import { Table, type TableClass } from '../table/table.js';
import { FreeTable } from '../table/free-table.js';
import { Lookup, Part } from '../table/tiers.js';
import { forgetLineage, writeLineage } from './lineage.js';

/** What declaration needs from its schema. */
export interface DeclarationHost {
  readonly database: string;
  readonly connection: Connection;
  readonly context: Record<string, unknown>;
  readonly createSchema: boolean;
  /** `false`: never create a table (they must exist). */
  readonly createTables?: boolean;
  /** Classes of an activated Element's linking module: a last place to resolve `-> Name`. */
  readonly linkingModule?: Readonly<Record<string, unknown>> | null;
  classByName(name: string): TableClass | undefined;
  headingOf(tableName: string): Promise<Heading>;
  invalidate(tableName?: string): void;
  /** Declare a class of another schema (cross-schema foreign keys). */
  ensureDeclared(cls: TableClass): Promise<void>;
}

/**
 * Set while a declaration runs: transactions it opens (PostgreSQL DDL, Lookup contents) must not
 * wait for the declaration of registered tables, which may be waiting for them.
 */
export const declaring = new AsyncLocalStorage<true>();

function warn(message: string): void {
  process.emitWarning(message, { type: 'DataJointWarning' });
}

export function isTableClass(x: unknown): x is TableClass {
  return typeof x === 'function' && (x as typeof Table).prototype instanceof Table;
}

/**
 * A CREATE the server refused for what the definition says (a default its type cannot hold, a
 * type it does not know) as a DeclarationError; errors of the connection or of privileges stand.
 */
function refusedDefinition(err: unknown, className: string, fullName: string, spec: TableSpec, dialect: Dialect): unknown {
  if (!(err instanceof DataJointError) || err instanceof DeclarationError) return err;
  for (const cls of [LostConnectionError, DeadlockError, AccessError, PoolTimeoutError, BackendUnavailableError]) if (err instanceof cls) return err;
  // MariaDB has no functional indexes, which an index on an expression or a JSON path needs.
  const hint =
    err instanceof QuerySyntaxError && dialect.name === 'mysql' && spec.indexes.some((ix) => ix.columns.some((c) => c.startsWith('(')))
      ? ' (an index on an expression or a JSON path needs functional indexes: MySQL 8.0.13+ and PostgreSQL have them, MariaDB does not)'
      : '';
  return new DeclarationError(`Declaration error: the server refused the definition of ${className} (${fullName})${hint}: ${err.message}`, { cause: err });
}

/**
 * Throws the DeclarationError a definition's syntax or attribute types would give at compile
 * time (what needs no database: references and the rest are checked when it is compiled).
 */
function readableDefinition(cls: TableClass, dialect: Dialect): void {
  for (const line of parseDefinition(definitionOf(cls)).lines) if (line.kind === 'attribute') resolveType(line.type, line.line, dialect);
}

/** The class's definition text; a DeclarationError when it has none. */
function definitionOf(cls: TableClass): string {
  const definition = cls.definition;
  if (typeof definition !== 'string' || !definition.trim()) throw new DeclarationError(`Table ${cls.name} has no definition (static definition = \`...\`)`);
  return definition;
}

/** Part classes of a master: static properties holding Part subclasses. */
export function partsOfClass(cls: TableClass): Array<[string, TableClass]> {
  const out: Array<[string, TableClass]> = [];
  for (const key of Object.getOwnPropertyNames(cls)) {
    if (key === 'prototype' || key === '_master') continue;
    const desc = Object.getOwnPropertyDescriptor(cls, key);
    const v = desc && 'value' in desc ? desc.value : undefined;
    if (isTableClass(v) && v.prototype instanceof Part) out.push([key, v]);
  }
  return out;
}

/** Job metadata columns of auto-populated tables (jobs.add_job_metadata), as DataJoint Python adds them. */
const JOB_METADATA = ['_job_start_time = null : datetime(3)', '_job_duration = null : float32', "_job_version = '' : varchar(64)"];

export class Declarer {
  readonly #host: DeclarationHost;
  readonly #declaring = new WeakMap<TableClass, Promise<void>>();
  #databaseReady: Promise<void> | null = null;

  constructor(host: DeclarationHost) {
    this.#host = host;
  }

  /** Declare once per process; concurrent callers share the promise. `stack`: classes being declared above. */
  ensureDeclared(cls: TableClass, stack: TableClass[] = []): Promise<void> {
    let p = this.#declaring.get(cls);
    if (!p) {
      p = declaring.run(true, () => this.#declareClass(cls, stack)).catch((err) => {
        this.#declaring.delete(cls);
        throw err;
      });
      this.#declaring.set(cls, p);
    }
    return p;
  }

  /** Forget declared state (after tables or the schema were dropped). */
  forget(classes: Iterable<TableClass>, database = false): void {
    for (const c of classes) this.#declaring.delete(c);
    if (database) this.#databaseReady = null;
  }

  /** Create the database (schema) if missing, once. */
  #ensureDatabase(): Promise<void> {
    this.#databaseReady ??= (async () => {
      const conn = this.#host.connection;
      if (await conn.catalog.databaseExists(this.#host.database)) return;
      if (!this.#host.createSchema) throw new DataJointError(`Schema ${this.#host.database} does not exist (createSchema is off)`);
      try {
        await conn.executeAll(conn.dialect.createDatabase(this.#host.database));
      } catch (err) {
        // Another process created it at the same moment (PostgreSQL's CREATE SCHEMA IF NOT
        // EXISTS then fails on the catalog's unique index): what was asked for is there.
        if (!(await conn.catalog.databaseExists(this.#host.database).catch(() => false))) throw err;
      }
    })().catch((err) => {
      this.#databaseReady = null;
      throw err;
    });
    return this.#databaseReady;
  }

  async #declareClass(cls: TableClass, stack: TableClass[]): Promise<void> {
    if (stack.includes(cls)) throw new DeclarationError(`Circular foreign key reference: ${[...stack, cls].map((c) => c.name).join(' -> ')}`);
    const host = this.#host;
    const conn = host.connection;
    const isPart = cls.prototype instanceof Part;
    // A part used before its master: declaring the master declares its parts, in order (a part
    // may reference its master and its siblings, which must exist first).
    if (isPart && cls._master && !stack.includes(cls._master)) {
      await this.ensureDeclared(cls._master, stack);
      if ((await conn.catalog.columns(host.database, cls.tableName)).length) return;
      stack = [...stack, cls._master]; // the part alone was dropped since: declare it again
    }
    if (!isPart) attachParts(cls, host);
    const tableName = cls.tableName;
    if (!(await conn.catalog.columns(host.database, tableName)).length) {
      // A part whose definition cannot even be read would fail after its master was created,
      // leaving the master without it: such mistakes are found before anything is created.
      if (!isPart)
        for (const [name, part] of partsOfClass(cls)) {
          readableDefinition(part, conn.dialect);
          // The master-part spec: a part has no parts (a class nested in it was never declared).
          const nested = partsOfClass(part).map(([k]) => `${cls.name}.${name}.${k}`);
          if (nested.length) throw new DeclarationError(`Part tables cannot have parts of their own: ${nested.join(', ')}. Make ${nested.length > 1 ? 'them parts' : 'it a part'} of ${cls.name}, or a table referencing ${cls.name}.${name}.`);
        }
      await this.#create(cls, isPart, stack);
    }
    if (!isPart) {
      for (const [, part] of partsOfClass(cls)) await this.#declareClass(part, [...stack, cls]);
      if (cls.prototype instanceof Lookup && host.createTables !== false && Array.isArray(cls.contents) && cls.contents.length) {
        // Through a FreeTable: the class itself is still waiting for this declaration to finish.
        // As DataJoint Python does, only when the contents outnumber the rows: a reader without
        // INSERT privilege (or a table already filled) sends no INSERT.
        const table = FreeTable.create(conn, host.database, tableName, host as never);
        if (cls.contents.length > (await table.count())) await table.insert(cls.contents, { skipDuplicates: true });
      }
    }
  }

  /** The class's current definition compiled (parents resolved and declared; nothing of its own created). */
  compile(cls: TableClass, stack: TableClass[] = []): Promise<CompiledTable> {
    const definition = definitionOf(cls);
    const tier = cls.prototype instanceof Part ? 'part' : cls.tier;
    return compileDefinition(definition, {
      database: this.#host.database,
      tableName: cls.tableName,
      tier,
      dialect: this.#host.connection.dialect,
      resolve: (ref, line) => this.#resolveReference(ref, line, cls, [...stack, cls]),
      allowNewPkInComputed: Boolean(config.get('jobs.allow_new_pk_fields_in_computed_tables')),
      hiddenAttributes: (tier === 'computed' || tier === 'imported') && config.get('jobs.add_job_metadata') ? JOB_METADATA : [],
      warn,
    });
  }

  async #create(cls: TableClass, isPart: boolean, stack: TableClass[]): Promise<void> {
    const host = this.#host;
    const conn = host.connection;
    if (host.createTables === false)
      throw new MissingTableError(`Table ${cls.name} (${conn.dialect.fullName(host.database, cls.tableName)}) does not exist, and its schema has createTables: false, so it is not created`);
    const definition = cls.definition;
    // A table of a virtual schema dropped since, or a class written without a definition for a
    // table that is not there: missing, as DataJoint Python says (nothing to declare it from).
    if (typeof definition !== 'string' || !definition.trim())
      throw new MissingTableError(`Table ${cls.name} (${conn.dialect.fullName(host.database, cls.tableName)}) does not exist, and there is no definition to declare it from (static definition = \`...\`)`);
    if (conn.inTransaction && !conn.dialect.capabilities.transactionalDdl)
      throw new DataJointError(
        `Table ${cls.name} is not declared yet, and declaring it inside a transaction would commit the transaction (MySQL commits DDL implicitly). Declare it before the transaction begins: await ${cls.name}.declare() or await schema.declare().`,
      );
    await this.#ensureDatabase();
    const compiled = await this.compile(cls, stack);
    if (isPart && cls._master) {
      // DataJoint Python allows the reference below `---`, and even none at all (then the part
      // is not deleted with its master's rows): warn about the latter only.
      const masterName = cls._master.tableName;
      const masterKey = (await host.headingOf(masterName)).primaryKey;
      const direct = compiled.parents.some((p) => p.parent.database === host.database && p.parent.tableName === masterName);
      if (!direct && !masterKey.every((k) => compiled.heading.has(k)))
        warn(`Part table ${cls._master.name}.${cls.name} does not reference its master: add "-> master" so its rows belong to master rows`);
    }
    const lock = conn.dialect.declarationLock(`${host.database}.${cls.tableName}`);
    const create = () => conn.executeAll(compiled.statements).catch((err: unknown) => Promise.reject(refusedDefinition(err, cls.name, conn.dialect.fullName(host.database, cls.tableName), compiled.spec, conn.dialect)));
    if (conn.dialect.capabilities.transactionalDdl) {
      await conn.transaction(async () => {
        if (lock) await conn.execute(lock);
        await create();
        await writeLineage(conn, host.database, cls.tableName, compiled.lineage);
      });
    } else {
      // MySQL commits CREATE TABLE at once, so the lineage goes first: another process never
      // sees the table without it, and a process stopped between the two leaves entries of a
      // table that does not exist (the next declaration writes them again), never a table
      // without lineage. A CREATE the server refuses takes its entries back.
      await writeLineage(conn, host.database, cls.tableName, compiled.lineage);
      try {
        await create();
      } catch (err) {
        if (!(await conn.catalog.columns(host.database, cls.tableName).catch(() => [null])).length) await forgetLineage(conn, host.database, [cls.tableName]).catch(() => {});
        throw err;
      }
    }
    host.invalidate(cls.tableName);
  }

  /**
   * Resolve `-> ref` to a declared parent, with DataJoint Python's names: in a part, `master`
   * (also `master.Sibling`) and the master's class name; then the schema's classes and the
   * context (dotted paths), so `-> Type` is the schema's `Type` even where the master has a
   * part named `Type`. A sibling part named bare is the last resort (a TypeScript convenience).
   */
  async #resolveReference(ref: string, line: string, child: TableClass, stack: TableClass[]): Promise<ParentRef> {
    const host = this.#host;
    const path = ref.split('.');
    const head = path[0]!;
    const master = child._master;
    let target: unknown;
    if (head === 'master') {
      if (!master) throw new DeclarationError(`"-> master" is only valid in a part table, in line: "${line}"`);
      target = master;
    } else if (master && master.name === head) target = master;
    target ??= host.classByName(head);
    target ??= host.context[head];
    target ??= host.linkingModule?.[head];
    if (target === undefined && master && path.length === 1) target = partsOfClass(master).find(([k, p]) => k === head && p !== child)?.[1];
    for (const p of path.slice(1)) target = target != null ? (target as Record<string, unknown>)[p] : undefined;
    if (target && typeof target === 'object' && (target as { tables?: unknown }).tables) target = undefined;
    if (!isTableClass(target) && !(target instanceof Table))
      throw new DeclarationError(`Foreign key reference could not be resolved: "${ref}" in line: "${line}" (register the class on this schema, pass it in options.context, or provide it in the linkingModule given to activate)`);
    if (target === child) throw new DeclarationError(`A table cannot reference itself, in line: "${line}"`);
    if (isTableClass(target)) {
      const s = target._schema ?? target._master?._schema;
      if (!s) throw new DeclarationError(`Foreign key reference "${ref}" names a class that is not registered with a schema, in line: "${line}"`);
      if ((s as unknown) === host) {
        if (stack.includes(target)) {
          // A master is created before its parts, so a part's "-> master" finds it in place.
          if (!(await host.connection.catalog.columns(host.database, target.tableName)).length)
            throw new DeclarationError(`Circular foreign key reference in line: "${line}"`);
        } else if (target.prototype instanceof Part && target._master && stack.includes(target._master)) await this.#declareClass(target, stack);
        else await this.ensureDeclared(target, stack);
      } else await s.ensureDeclared(target);
      const heading = await s.headingOf(target.tableName);
      const compileParent = (s as unknown) === host ? () => this.compile(target as TableClass, stack) : s.compile ? () => s.compile!(target as TableClass) : null;
      return { database: s.database, tableName: target.tableName, heading: await withKeyLineage(heading, compileParent) };
    }
    const t = target as Table;
    return { database: t.database, tableName: t.tableName, heading: await t.tableHeading() };
  }
}

/**
 * A parent's heading with the lineage of its primary key complete. A parent declared by a
 * program that wrote no lineage, or on MySQL by one that wrote it after CREATE TABLE (which
 * commits at once) and is still between the two, has entries missing: they then come from the
 * parent's own definition, compiled as its declaration compiles it, rather than taking the
 * parent as the origin (which would give the child a wrong lineage and fail later joins'
 * semantic check).
 */
async function withKeyLineage(heading: Heading, compileParent: (() => Promise<CompiledTable>) | null): Promise<Heading> {
  if (!compileParent || !heading.all.some((a) => a.inKey && !a.lineage)) return heading;
  const compiled = await compileParent().catch(() => null);
  if (!compiled) return heading;
  const lineage = new Map(compiled.lineage);
  return new Heading(
    heading.all.map((a) => (a.inKey && !a.lineage && lineage.has(a.name) ? { ...a, lineage: lineage.get(a.name)! } : a)),
    { lineageAvailable: heading.lineageAvailable },
  );
}

/** Give a master's part classes their master and schema. */
export function attachParts(cls: TableClass, schema: unknown): Array<[string, TableClass]> {
  const parts = partsOfClass(cls);
  for (const [, p] of parts) {
    Object.defineProperty(p, '_master', { value: cls, writable: true, configurable: true, enumerable: false });
    Object.defineProperty(p, '_schema', { value: schema, writable: true, configurable: true, enumerable: false });
  }
  return parts;
}
