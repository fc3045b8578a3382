/**
 * Schema: a database plus the table classes registered on it (API.md §2). Declaration is lazy
 * and concurrency-safe: the first operation on a table declares it (parents and parts too),
 * once per process, with CREATE TABLE IF NOT EXISTS so other processes may race harmlessly.
 */
import { DataJointError, DeclarationError, MissingTableError } from '../errors.js';
import { config } from '../config.js';
import { type Connection, conn as sharedConn } from '../connection/connection.js';
import { compileDefinition, type ParentRef } from '../declare/compile.js';
import type { Heading } from '../heading/heading.js';
import { Table, type SchemaLike, type TableClass, dropTables } from '../table/table.js';
import { FreeTable, Lookup, Manual, Part, Computed, Imported, loadHeading } from '../table/tiers.js';
import { parseTableName } from '../table/names.js';
import { descendants } from '../table/graph.js';

export interface SchemaOptions {
  connection?: Connection;
  /** Classes or modules for resolving `-> name` references: `{ lab }` allows `-> lab.Subject`. */
  context?: Record<string, unknown>;
  /** `import.meta.url` of the module defining the tables (lets worker threads import it). */
  module?: string;
  /** Create the database if missing (default true). */
  createSchema?: boolean;
}

const LINEAGE_DDL = (full: string) =>
  `CREATE TABLE IF NOT EXISTS ${full} (
  table_name VARCHAR(64) NOT NULL,
  attribute_name VARCHAR(64) NOT NULL,
  lineage VARCHAR(255) NOT NULL,
  PRIMARY KEY (table_name, attribute_name)
) ENGINE=InnoDB COMMENT='DataJoint attribute lineage'`;

function warn(message: string): void {
  process.emitWarning(message, { type: 'DataJointWarning' });
}

function isTableClass(x: unknown): x is TableClass {
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

export class Schema implements SchemaLike {
  readonly database: string;
  readonly context: Record<string, unknown>;
  readonly module: string | null;
  private readonly _connection: Connection | null;
  private readonly registry = new Map<string, TableClass>();
  private readonly declaring = new WeakMap<TableClass, Promise<void>>();
  private readonly headings = new Map<string, Promise<Heading>>();
  private ready: Promise<void> | null = null;
  private readonly createSchema: boolean;

  constructor(database: string, opts: SchemaOptions = {}) {
    if (!/^[A-Za-z0-9_$-]{1,64}$/.test(database)) throw new DataJointError(`Invalid schema name "${database}"`);
    this.database = database;
    this.context = opts.context ?? {};
    this.module = opts.module ?? null;
    this._connection = opts.connection ?? null;
    this.createSchema = opts.createSchema ?? true;
    registry().add(this);
  }

  get connection(): Connection {
    return this._connection ?? sharedConn();
  }

  /** Register a table class (the `@schema` decorator does the same). */
  add<C extends abstract new (...args: never[]) => unknown>(cls: C): C {
    const c = cls as unknown as TableClass;
    if (!isTableClass(c)) throw new DataJointError(`schema.add expects a table class (extending dj.Manual, dj.Lookup, dj.Computed, dj.Imported), got ${String(cls)}`);
    if (c.prototype instanceof Part) throw new DataJointError(`Part table ${c.name} is registered through its master, not on its own`);
    Object.defineProperty(c, '_schema', { value: this, writable: true, configurable: true, enumerable: false });
    this.registry.set(c.name, c);
    return cls;
  }

  /** Registered classes by name (masters; parts reachable as their static properties). */
  get tables(): Record<string, TableClass> {
    return Object.fromEntries(this.registry);
  }

  private attachParts(cls: TableClass): Array<[string, TableClass]> {
    const parts = partsOfClass(cls);
    for (const [, p] of parts) {
      Object.defineProperty(p, '_master', { value: cls, writable: true, configurable: true, enumerable: false });
      Object.defineProperty(p, '_schema', { value: this, writable: true, configurable: true, enumerable: false });
    }
    return parts;
  }

  /** Create the database and the ~lineage table once. */
  private ensureDatabase(): Promise<void> {
    if (!this.ready) {
      this.ready = (async () => {
        const conn = this.connection;
        if (!(await conn.adapter.databaseExists(this.database))) {
          if (!this.createSchema) throw new DataJointError(`Schema ${this.database} does not exist`);
          await conn.adapter.createDatabase(this.database);
        }
        await conn.execute(LINEAGE_DDL(conn.dialect.fullName(this.database, '~lineage')));
      })().catch((err) => {
        this.ready = null;
        throw err;
      });
    }
    return this.ready;
  }

  async ensureDeclared(cls: TableClass): Promise<void> {
    return this.ensureDeclaredWithin(cls, []);
  }

  private async declareClass(cls: TableClass, stack: TableClass[]): Promise<void> {
    if (stack.includes(cls)) throw new DeclarationError(`Circular foreign key reference: ${[...stack, cls].map((c) => c.name).join(' -> ')}`);
    await this.ensureDatabase();
    const conn = this.connection;
    const isPart = cls.prototype instanceof Part;
    if (!isPart) this.attachParts(cls);
    const tableName = cls.tableName;
    const exists = (await conn.adapter.columns(this.database, tableName)).length > 0;
    if (!exists) {
      const definition = cls.definition;
      if (typeof definition !== 'string' || !definition.trim())
        throw new DeclarationError(`Table ${cls.name} has no definition (static definition = \`...\`) and does not exist in ${this.database}`);
      const tier = isPart ? 'part' : cls.tier;
      const hidden =
        (tier === 'computed' || tier === 'imported') && config.get('jobs.add_job_metadata')
          ? ['_job_start_time = null : datetime(3)', '_job_duration = null : float32', "_job_version = '' : varchar(64)"]
          : [];
      const compiled = await compileDefinition(definition, {
        database: this.database,
        tableName,
        tier,
        dialect: conn.dialect,
        resolve: (ref, line) => this.resolveReference(ref, line, cls, [...stack, cls]),
        allowNewPkInComputed: Boolean(config.get('jobs.allow_new_pk_fields_in_computed_tables')),
        hiddenAttributes: hidden,
        warn,
      });
      if (isPart && cls._master) {
        const masterName = cls._master.tableName;
        if (!compiled.parents.some((p) => p.parent.database === this.database && p.parent.tableName === masterName && p.inKey))
          throw new DeclarationError(`Part table ${cls.name} must reference its master with "-> master" in its primary key`);
      }
      await conn.execute(compiled.sql);
      await this.writeLineage(tableName, compiled.lineage);
      this.invalidate(tableName);
    }
    if (!isPart) {
      for (const [, part] of partsOfClass(cls)) await this.declareClass(part, [...stack, cls]);
      if (cls.prototype instanceof Lookup && Array.isArray(cls.contents) && cls.contents.length) {
        // Through a FreeTable: the class itself is still waiting for this declaration to finish.
        await FreeTable.create(conn, this.database, cls.tableName, this).insert(cls.contents, { skipDuplicates: true });
      }
    }
  }

  private async writeLineage(tableName: string, lineage: Array<[string, string]>): Promise<void> {
    const conn = this.connection;
    const full = conn.dialect.fullName(this.database, '~lineage');
    await conn.transaction(async () => {
      await conn.execute(`DELETE FROM ${full} WHERE table_name = ?`, [tableName]);
      if (lineage.length)
        await conn.execute(
          `INSERT INTO ${full} (table_name, attribute_name, lineage) VALUES ${lineage.map(() => '(?,?,?)').join(',')}`,
          lineage.flatMap(([a, l]) => [tableName, a, l]),
        );
    });
  }

  /** After tables were dropped: forget their lineage, headings and declared state. */
  async forgetTables(tableNames: string[]): Promise<void> {
    if (!tableNames.length) return;
    const dropped = new Set(tableNames);
    for (const n of tableNames) this.headings.delete(n);
    for (const cls of this.registry.values()) {
      if (dropped.has(cls.tableName)) this.declaring.delete(cls);
      for (const [, p] of partsOfClass(cls)) if (p._master && dropped.has(p.tableName)) this.declaring.delete(p);
    }
    const conn = this.connection;
    await conn
      .execute(`DELETE FROM ${conn.dialect.fullName(this.database, '~lineage')} WHERE table_name IN (${tableNames.map(() => '?').join(',')})`, tableNames)
      .catch(() => {});
  }

  /** Resolve `-> ref` to a declared parent: registry, `master`, then context (dotted paths). */
  private async resolveReference(ref: string, line: string, child: TableClass, stack: TableClass[]): Promise<ParentRef> {
    let target: unknown;
    if (ref === 'master') {
      target = child._master;
      if (!target) throw new DeclarationError(`"-> master" is only valid in a part table, in line: "${line}"`);
    } else {
      const path = ref.split('.');
      const head = path[0]!;
      target = child._master && partsOfClass(child._master).find(([k]) => k === head)?.[1];
      target ??= this.registry.get(head);
      target ??= this.context[head];
      if (!target && child._master?.name === head) target = child._master;
      for (const p of path.slice(1)) {
        target = target != null ? (target as Record<string, unknown>)[p] : undefined;
      }
      if (target instanceof Schema || (target && typeof target === 'object' && (target as { tables?: unknown }).tables)) target = undefined;
    }
    if (!isTableClass(target) && !(target instanceof Table))
      throw new DeclarationError(`Foreign key reference could not be resolved: "${ref}" in line: "${line}" (register the class on this schema or pass it in options.context)`);
    if (isTableClass(target)) {
      const s = target._schema ?? target._master?._schema;
      if (!s) throw new DeclarationError(`Foreign key reference "${ref}" names a class that is not registered with a schema, in line: "${line}"`);
      if (s === this) {
        if (stack.includes(target)) {
          // A master is created before its parts, so a part's "-> master" finds it in place.
          if (!(await this.connection.adapter.columns(this.database, target.tableName)).length)
            throw new DeclarationError(`Circular foreign key reference in line: "${line}"`);
        } else if (target.prototype instanceof Part) await this.declareClass(target, stack);
        else await this.ensureDeclaredWithin(target, stack);
      } else await s.ensureDeclared(target);
      return { database: (s as SchemaLike).database, tableName: target.tableName, heading: await s.headingOf(target.tableName) };
    }
    const t = target as Table;
    return { database: t.database, tableName: t.tableName, heading: await t.tableHeading() };
  }

  /** Declare once per process; concurrent callers share the promise. `stack`: classes being declared above. */
  private async ensureDeclaredWithin(cls: TableClass, stack: TableClass[]): Promise<void> {
    let p = this.declaring.get(cls);
    if (!p) {
      p = this.declareClass(cls, stack).catch((err) => {
        this.declaring.delete(cls);
        throw err;
      });
      this.declaring.set(cls, p);
    }
    return p;
  }

  headingOf(tableName: string): Promise<Heading> {
    let h = this.headings.get(tableName);
    if (!h) {
      h = loadHeading(this.connection, this.database, tableName).catch((err) => {
        this.headings.delete(tableName);
        throw err;
      });
      this.headings.set(tableName, h);
    }
    return h;
  }

  invalidate(tableName?: string): void {
    if (tableName === undefined) this.headings.clear();
    else this.headings.delete(tableName);
  }

  classNameOf(database: string, tableName: string): string | null {
    for (const cls of this.registry.values()) {
      if (database === this.database && cls.tableName === tableName) return cls.name;
      for (const [k, p] of partsOfClass(cls)) if (database === this.database && p._master && p.tableName === tableName) return `${cls.name}.${k}`;
    }
    return null;
  }

  /** Declare every registered table now. */
  async declare(): Promise<void> {
    for (const cls of this.registry.values()) await this.ensureDeclared(cls);
  }

  async exists(): Promise<boolean> {
    return this.connection.adapter.databaseExists(this.database);
  }

  /** SQL names of the tables in this schema (hidden `~` tables excluded). */
  async listTables(): Promise<string[]> {
    const tables = await this.connection.adapter.listTables(this.database);
    return tables.map((t) => t.name).filter((n) => !n.startsWith('~'));
  }

  /** A FreeTable for a table of this schema by SQL name or class name. */
  async getTable(name: string): Promise<FreeTable> {
    const names = await this.listTables();
    let sqlName = names.find((n) => n === name);
    if (!sqlName) {
      sqlName = names.find((n) => {
        const p = parseTableName(n);
        if (!p) return false;
        if (p.master) {
          const m = parseTableName(p.master);
          return `${m?.className}.${p.className}` === name;
        }
        return p.className === name;
      });
    }
    if (!sqlName) {
      throw new MissingTableError(`Table ${name} is not in schema ${this.database}`);
    }
    return FreeTable.create(this.connection, this.database, sqlName, this);
  }

  /** Drop the whole schema (database). */
  async drop(opts: { prompt?: boolean } = {}): Promise<void> {
    const conn = this.connection;
    if (!(await conn.adapter.databaseExists(this.database))) return;
    const prompt = (opts.prompt ?? Boolean(config.get('safemode'))) && process.stdin.isTTY === true && process.stdout.isTTY === true;
    if (prompt) {
      const { createInterface } = await import('node:readline/promises');
      const rl = createInterface({ input: process.stdin, output: process.stdout });
      const answer = (await rl.question(`Proceed to delete entire schema \`${this.database}\`? [yes, No]: `)).trim().toLowerCase();
      rl.close();
      if (answer !== 'yes') return;
    }
    // Tables in other schemas that depend on this one go first.
    const tables = await this.listTables();
    const external = new Set<string>();
    for (const t of tables)
      for (const fk of await conn.adapter.referencingKeys(this.database, t)) if (fk.childDatabase !== this.database) external.add(`${fk.childDatabase}\u0000${fk.childTable}`);
    if (external.size)
      await dropTables(conn, [...external].map((k) => ({ database: k.split('\u0000')[0]!, name: k.split('\u0000')[1]! })), false);
    await conn.adapter.dropDatabase(this.database);
    this.ready = null;
    this.headings.clear();
    for (const cls of this.registry.values()) {
      this.declaring.delete(cls);
      for (const [, p] of partsOfClass(cls)) this.declaring.delete(p);
    }
  }

  /** Recompute ~lineage for every table from foreign keys (parents' lineage first). */
  async rebuildLineage(): Promise<void> {
    const conn = this.connection;
    await this.ensureDatabase();
    const tables = await this.listTables();
    const order = (await descendants(conn, tables.map((name) => ({ database: this.database, name })), false)).filter((t) => t.database === this.database);
    const lineageOf = new Map<string, Map<string, string>>();
    const parentLineage = async (db: string, table: string, attr: string): Promise<string> => {
      if (db === this.database) return lineageOf.get(table)?.get(attr) ?? `${db}.${table}.${attr}`;
      const rows = await conn
        .query(`SELECT lineage FROM ${conn.dialect.fullName(db, '~lineage')} WHERE table_name = ? AND attribute_name = ?`, [table, attr])
        .catch(() => []);
      return rows.length ? String(rows[0]!.lineage) : `${db}.${table}.${attr}`;
    };
    for (const t of order) {
      const cols = await conn.adapter.columns(this.database, t.name);
      const fks = await conn.adapter.foreignKeys(this.database, t.name);
      const map = new Map<string, string>();
      for (const fk of fks) for (const [c, p] of fk.attrMap) if (!map.has(c)) map.set(c, await parentLineage(fk.parentDatabase, fk.parentTable, p));
      for (const c of cols) if (c.inKey && !map.has(c.name)) map.set(c.name, `${this.database}.${t.name}.${c.name}`);
      lineageOf.set(t.name, map);
      await this.writeLineage(t.name, [...map.entries()]);
    }
    this.invalidate();
  }

  /** Lineage entries: `schema.table.attribute` → origin. */
  async lineage(): Promise<Record<string, string>> {
    const conn = this.connection;
    const rows = await conn.query(`SELECT table_name AS t, attribute_name AS a, lineage AS l FROM ${conn.dialect.fullName(this.database, '~lineage')}`).catch(() => []);
    return Object.fromEntries(rows.map((r) => [`${this.database}.${r.t}.${r.a}`, String(r.l)]));
  }

  toString(): string {
    return `Schema(${this.database})`;
  }
}

/**
 * Schemas created in this thread, on a global so that every copy of the library loaded in the
 * thread (and populate's worker entry, which imports none) can find table classes by name.
 */
interface SchemaRegistry {
  add(s: Schema): void;
  findTable(database: string, className: string): TableClass | undefined;
}
function registry(): SchemaRegistry {
  const g = globalThis as { [k: symbol]: SchemaRegistry | undefined };
  const key = Symbol.for('datajoint.registry');
  if (!g[key]) {
    const schemas: Array<{ database: string; tables: Record<string, TableClass> }> = [];
    g[key] = {
      add: (s) => void schemas.push(s),
      findTable: (database, className) => {
        for (let i = schemas.length - 1; i >= 0; i--) if (schemas[i]!.database === database && schemas[i]!.tables[className]) return schemas[i]!.tables[className];
        return undefined;
      },
    };
  }
  return g[key]!;
}

/** A schema that is also usable as a class decorator: `@schema class X extends dj.Manual {}`. */
export type SchemaDecorator = Schema & (<C extends abstract new (...args: never[]) => unknown>(cls: C, context?: unknown) => C);

export function schema(database: string, opts: SchemaOptions = {}): SchemaDecorator {
  const s = new Schema(database, opts);
  const decorate = (cls: abstract new (...args: never[]) => unknown) => s.add(cls);
  return new Proxy(decorate, {
    apply: (_t, _this, args: unknown[]) => s.add(args[0] as abstract new (...args: never[]) => unknown),
    get: (_t, prop) => {
      const v = Reflect.get(s, prop, s);
      return typeof v === 'function' ? v.bind(s) : v;
    },
    set: (_t, prop, value) => Reflect.set(s, prop, value, s),
    has: (_t, prop) => prop in s,
    getPrototypeOf: () => Schema.prototype,
  }) as unknown as SchemaDecorator;
}

/**
 * Table classes for an existing database, made from the catalog: `lab.Session`,
 * `lab.Session.Trial`. Works for schemas declared by any DataJoint client.
 */
export async function virtualSchema(database: string, opts: { connection?: Connection; createSchema?: boolean } = {}): Promise<Record<string, TableClass> & { schema: Schema }> {
  const s = new Schema(database, { connection: opts.connection, createSchema: false });
  if (!(await s.exists())) {
    throw new DataJointError(`Schema ${database} does not exist`);
  }
  const names = await s.listTables();
  const out: Record<string, TableClass> = {};
  const base = { manual: Manual, lookup: Lookup, computed: Computed, imported: Imported } as const;
  const masters = new Map<string, TableClass>();
  for (const n of names) {
    const p = parseTableName(n);
    if (!p || p.tier === 'part') continue;
    const Base = base[p.tier];
    const cls = { [p.className]: class extends Base {} }[p.className] as unknown as TableClass;
    Object.defineProperty(cls, '_sqlName', { value: n, configurable: true, writable: true });
    s.add(cls);
    masters.set(n, cls);
    out[p.className] = cls;
  }
  for (const n of names) {
    const p = parseTableName(n);
    if (!p || p.tier !== 'part') continue;
    const master = masters.get(p.master!);
    if (!master) continue;
    const cls = { [p.className]: class extends Part {} }[p.className] as unknown as TableClass;
    Object.defineProperty(cls, '_sqlName', { value: n, configurable: true, writable: true });
    Object.defineProperty(cls, '_master', { value: master, configurable: true, writable: true });
    Object.defineProperty(cls, '_schema', { value: s, configurable: true, writable: true });
    Object.defineProperty(master, p.className, { value: cls, configurable: true, writable: true, enumerable: true });
  }
  Object.defineProperty(out, 'schema', { value: s, enumerable: false });
  return out as Record<string, TableClass> & { schema: Schema };
}
