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
import { DataJointError, DeclarationError } from '../errors.js';
import type { Connection } from '../connection/connection.js';
import { compileDefinition, type ParentRef } from '../declare/compile.js';
import type { Heading } from '../heading/heading.js';
import { Table, type TableClass } from '../table/table.js';
import { FreeTable } from '../table/free-table.js';
import { Lookup, Part } from '../table/tiers.js';
import { writeLineage } from './lineage.js';

/** What declaration needs from its schema. */
export interface DeclarationHost {
  readonly database: string;
  readonly connection: Connection;
  readonly context: Record<string, unknown>;
  readonly createSchema: boolean;
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
      await conn.executeAll(conn.dialect.createDatabase(this.#host.database));
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
    if (!isPart) attachParts(cls, host);
    const tableName = cls.tableName;
    if (!(await conn.catalog.columns(host.database, tableName)).length) await this.#create(cls, isPart, stack);
    if (!isPart) {
      for (const [, part] of partsOfClass(cls)) await this.#declareClass(part, [...stack, cls]);
      if (cls.prototype instanceof Lookup && Array.isArray(cls.contents) && cls.contents.length) {
        // Through a FreeTable: the class itself is still waiting for this declaration to finish.
        await FreeTable.create(conn, host.database, tableName, host as never).insert(cls.contents, { skipDuplicates: true });
      }
    }
  }

  async #create(cls: TableClass, isPart: boolean, stack: TableClass[]): Promise<void> {
    const host = this.#host;
    const conn = host.connection;
    const definition = cls.definition;
    if (typeof definition !== 'string' || !definition.trim())
      throw new DeclarationError(`Table ${cls.name} has no definition (static definition = \`...\`) and does not exist in ${host.database}`);
    if (conn.inTransaction && !conn.dialect.capabilities.transactionalDdl)
      throw new DataJointError(
        `Table ${cls.name} is not declared yet, and declaring it inside a transaction would commit the transaction (MySQL commits DDL implicitly). Declare it before the transaction begins: await ${cls.name}.declare() or await schema.declare().`,
      );
    await this.#ensureDatabase();
    const tier = isPart ? 'part' : cls.tier;
    const compiled = await compileDefinition(definition, {
      database: host.database,
      tableName: cls.tableName,
      tier,
      dialect: conn.dialect,
      resolve: (ref, line) => this.#resolveReference(ref, line, cls, [...stack, cls]),
      allowNewPkInComputed: Boolean(config.get('jobs.allow_new_pk_fields_in_computed_tables')),
      hiddenAttributes: (tier === 'computed' || tier === 'imported') && config.get('jobs.add_job_metadata') ? JOB_METADATA : [],
      warn,
    });
    if (isPart && cls._master) {
      const masterName = cls._master.tableName;
      if (!compiled.parents.some((p) => p.parent.database === host.database && p.parent.tableName === masterName && p.inKey))
        throw new DeclarationError(`Part table ${cls.name} must reference its master with "-> master" in its primary key`);
    }
    const lock = conn.dialect.declarationLock(`${host.database}.${cls.tableName}`);
    if (conn.dialect.capabilities.transactionalDdl) {
      await conn.transaction(async () => {
        if (lock) await conn.execute(lock);
        await conn.executeAll(compiled.statements);
        await writeLineage(conn, host.database, cls.tableName, compiled.lineage);
      });
    } else {
      await conn.executeAll(compiled.statements);
      await writeLineage(conn, host.database, cls.tableName, compiled.lineage);
    }
    host.invalidate(cls.tableName);
  }

  /** Resolve `-> ref` to a declared parent: registry, `master`, then context (dotted paths). */
  async #resolveReference(ref: string, line: string, child: TableClass, stack: TableClass[]): Promise<ParentRef> {
    const host = this.#host;
    let target: unknown;
    if (ref === 'master') {
      target = child._master;
      if (!target) throw new DeclarationError(`"-> master" is only valid in a part table, in line: "${line}"`);
    } else {
      const path = ref.split('.');
      const head = path[0]!;
      target = child._master && partsOfClass(child._master).find(([k]) => k === head)?.[1];
      target ??= host.classByName(head);
      target ??= host.context[head];
      if (!target && child._master?.name === head) target = child._master;
      for (const p of path.slice(1)) target = target != null ? (target as Record<string, unknown>)[p] : undefined;
      if (target && typeof target === 'object' && (target as { tables?: unknown }).tables) target = undefined;
    }
    if (!isTableClass(target) && !(target instanceof Table))
      throw new DeclarationError(`Foreign key reference could not be resolved: "${ref}" in line: "${line}" (register the class on this schema or pass it in options.context)`);
    if (isTableClass(target)) {
      const s = target._schema ?? target._master?._schema;
      if (!s) throw new DeclarationError(`Foreign key reference "${ref}" names a class that is not registered with a schema, in line: "${line}"`);
      if ((s as unknown) === host) {
        if (stack.includes(target)) {
          // A master is created before its parts, so a part's "-> master" finds it in place.
          if (!(await host.connection.catalog.columns(host.database, target.tableName)).length)
            throw new DeclarationError(`Circular foreign key reference in line: "${line}"`);
        } else if (target.prototype instanceof Part) await this.#declareClass(target, stack);
        else await this.ensureDeclared(target, stack);
      } else await s.ensureDeclared(target);
      return { database: s.database, tableName: target.tableName, heading: await s.headingOf(target.tableName) };
    }
    const t = target as Table;
    return { database: t.database, tableName: t.tableName, heading: await t.tableHeading() };
  }
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
