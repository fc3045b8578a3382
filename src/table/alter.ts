/**
 * alter() (API.md §2, DataJoint Python's Table.alter and declare.alter): brings a table's
 * secondary attributes and table comment in line with its class's current definition. The
 * definition is compiled as for declaration and compared with the catalog: attributes are
 * added, dropped, changed, or renamed when the new comment starts with `{old_name}`; a change
 * of the primary key, the foreign keys or the indexes is refused, as in DataJoint Python.
 * Hidden attributes (job metadata) are left alone. The dialect writes the ALTER statements.
 */
import { DataJointError, IntegrityError, MissingAttributeError, ReferencedRowError } from '../errors.js';
import type { AlterChange, ColumnInfo, ColumnSpec, ForeignKeyInfo, IndexInfo } from '../adapters/adapter.js';
import type { Connection } from '../connection/connection.js';
import type { CompiledTable } from '../declare/compile.js';
import type { Heading } from '../heading/heading.js';
import { confirm, shouldPrompt } from './prompt.js';
import { loadHeading } from './load-heading.js';

export interface AlterOptions {
  /** Show the SQL and ask before running it (default: the `safemode` setting, on a terminal). */
  prompt?: boolean;
}

/** What alter needs from the table. */
export interface AlterTarget {
  readonly connection: Connection;
  readonly database: string;
  readonly tableName: string;
  readonly fullTableName: string;
  /** The class's current definition, compiled. */
  compile(): Promise<CompiledTable>;
  /** The table's heading as declared now (read from the catalog afresh). */
  currentHeading(): Promise<Heading>;
}

/** `{old}` at the start of a user comment (after the `:type:` prefix) renames `old`. */
const RENAME = /^(:[^:]*:)?\{\s*(\w+)\s*\}\s*/;

const fkKey = (cols: readonly string[], db: string, table: string, refs: readonly string[]) => `${db}.${table}(${cols.join(',')}->${refs.join(',')})`;

/**
 * Declared indexes, without those that only serve foreign keys (implied by `->` lines). An
 * expression (a JSON path's) is compared as an expression only: the server gives it back in its
 * own spelling (PostgreSQL's deparsed text), which never equals the text that created it.
 */
function ownIndexes(indexes: ReadonlyArray<{ columns: string[]; unique: boolean; primary?: boolean }>, fkColumns: string[][]): Set<string> {
  const fk = new Set(fkColumns.map((c) => c.join(',')));
  const column = (c: string) => (c.startsWith('(') ? '(expression)' : c);
  return new Set(indexes.filter((i) => !i.primary && !fk.has(i.columns.join(','))).map((i) => `${i.unique ? 'unique ' : ''}(${i.columns.map(column).join(',')})`));
}

const sameSet = (a: Set<string>, b: Set<string>) => a.size === b.size && [...a].every((x) => b.has(x));

/** The ALTER statements that bring the table in line with the definition ([] when nothing changes). */
export async function alterStatements(t: AlterTarget): Promise<string[]> {
  const conn = t.connection;
  const compiled = await t.compile();
  const spec = compiled.spec;
  const [heading, columns, fks, indexes, tables] = await Promise.all([
    t.currentHeading(),
    conn.catalog.columns(t.database, t.tableName),
    conn.catalog.foreignKeys(t.database, t.tableName),
    conn.catalog.indexes(t.database, t.tableName),
    conn.catalog.listTables(t.database),
  ]);
  refuseStructuralChanges(t, compiled, heading, fks, indexes);

  const fkColumns = new Set([...spec.foreignKeys.flatMap((f) => f.columns), ...fks.flatMap((f) => f.attrMap.map(([c]) => c))]);
  const plain = (name: string) => !spec.primaryKey.includes(name) && !fkColumns.has(name) && !name.startsWith('_');
  const oldColumns = new Map(columns.filter((c) => plain(c.name)).map((c) => [c.name, c]));
  const changes: AlterChange[] = [];
  const kept = new Set<string>();
  let previous: string | null = null;
  for (const spec0 of spec.columns) {
    if (!plain(spec0.name)) {
      previous = spec0.name;
      continue;
    }
    const m = RENAME.exec(spec0.comment);
    const column: ColumnSpec = m ? { ...spec0, comment: (m[1] ?? '') + spec0.comment.slice(m[0].length) } : spec0;
    // A rename already done (the old name gone, the new one there) is not done again.
    const from = m && !(oldColumns.has(column.name) && !oldColumns.has(m[2]!)) ? m[2]! : column.name;
    if (m && from !== column.name && !oldColumns.has(from)) throw new DataJointError(`alter: attribute \`${from}\` (renamed to \`${column.name}\`) is not a secondary attribute of ${t.fullTableName}`);
    if (kept.has(from)) throw new DataJointError(`alter: attribute \`${from}\` is renamed twice`);
    const old = oldColumns.get(from);
    if (!old) changes.push({ kind: 'add', column, after: previous });
    else {
      kept.add(from);
      if (from !== column.name || differs(old, column, compiled.heading, heading)) changes.push({ kind: 'modify', from, column });
    }
    previous = column.name;
  }
  if (!conn.dialect.capabilities.placesAddedColumns) warnMisplacedAdds(t, spec.columns, changes);
  const drops: AlterChange[] = [...oldColumns.keys()].filter((n) => !kept.has(n)).map((name) => ({ kind: 'drop', name }));
  const comment = tables.find((x) => x.name === t.tableName)?.comment ?? '';
  if (spec.comment !== comment) changes.push({ kind: 'comment', comment: spec.comment });
  return conn.dialect.alterTable(t.database, t.tableName, [...drops, ...changes]);
}

/**
 * Where ALTER TABLE can only append (PostgreSQL), an attribute added before existing ones lands
 * after them, as DataJoint Python's alter leaves it too: the heading (and the order of rows given
 * as arrays) then follows the table, not the definition. Said, so that nobody finds out from
 * values in the wrong columns.
 */
function warnMisplacedAdds(t: AlterTarget, columns: ReadonlyArray<{ name: string }>, changes: AlterChange[]): void {
  const added = new Set(changes.flatMap((c) => (c.kind === 'add' ? [c.column.name] : [])));
  const visible = columns.map((c) => c.name).filter((n) => !n.startsWith('_'));
  const firstAdd = visible.findIndex((n) => added.has(n));
  const later = firstAdd < 0 ? [] : visible.slice(firstAdd).filter((n) => !added.has(n));
  if (!later.length) return;
  const moved = visible.slice(firstAdd).filter((n) => added.has(n));
  process.emitWarning(
    `alter adds ${moved.map((n) => `\`${n}\``).join(', ')} at the end of ${t.fullTableName}, after ${later.map((n) => `\`${n}\``).join(', ')}: this backend cannot place a new column, so the table's attribute order (its heading, and the order of values in rows given as arrays) is no longer the definition's`,
    { type: 'DataJointWarning' },
  );
}

/** Whether a column differs from its new definition (type, nullability, default, comment). */
function differs(old: ColumnInfo, column: ColumnSpec, next: Heading, current: Heading): boolean {
  const a = current.get(old.name)!;
  const b = next.get(column.name)!;
  return a.type !== b.type || old.nullable !== column.nullable || (old.default ?? null) !== (column.nullable ? null : column.default) || old.comment !== column.comment;
}

function refuseStructuralChanges(t: AlterTarget, compiled: CompiledTable, heading: Heading, fks: ForeignKeyInfo[], indexes: IndexInfo[]): void {
  const spec = compiled.spec;
  const pkNow = heading.primaryKey.map((k) => `${k}:${heading.get(k)!.type}`).join(',');
  const pkNew = spec.primaryKey.map((k) => `${k}:${compiled.heading.get(k)!.type}`).join(',');
  if (pkNow !== pkNew) throw new DataJointError(`alter cannot change the primary key of ${t.fullTableName} (${pkNow} → ${pkNew})`);
  const fkNow = new Set(fks.map((f) => fkKey(f.attrMap.map(([c]) => c), f.parentDatabase, f.parentTable, f.attrMap.map(([, p]) => p))));
  const fkNew = new Set(spec.foreignKeys.map((f) => fkKey(f.columns, f.refDatabase, f.refTable, f.refColumns)));
  if (!sameSet(fkNow, fkNew)) throw new DataJointError(`alter cannot change the foreign keys of ${t.fullTableName}`);
  const fkColumns = spec.foreignKeys.map((f) => f.columns);
  // A foreign key's options are its columns' nullability and a unique index on exactly them.
  const options = (nullable: (c: string) => boolean, ixs: ReadonlyArray<{ columns: string[]; unique: boolean; primary?: boolean }>) => {
    const unique = new Set(ixs.filter((i) => i.unique && !i.primary).map((i) => i.columns.join(',')));
    return new Set(fkColumns.map((cols) => `${cols.join(',')}:${cols.some(nullable) ? 'nullable' : ''}:${unique.has(cols.join(',')) ? 'unique' : ''}`));
  };
  const optionsNow = options((c) => heading.get(c)?.nullable ?? false, indexes);
  const optionsNew = options((c) => compiled.heading.get(c)?.nullable ?? false, spec.indexes);
  if (!sameSet(optionsNow, optionsNew)) throw new DataJointError(`alter cannot change the options (nullable, unique) of the foreign keys of ${t.fullTableName}`);
  if (!sameSet(ownIndexes(indexes, fkColumns), ownIndexes(spec.indexes, fkColumns)))
    throw new DataJointError(`alter cannot change the indexes of ${t.fullTableName}`);
}

/** Alter the table; returns the statements run ([] when nothing changed or the user declined). */
export async function alterTable(t: AlterTarget, opts: AlterOptions = {}): Promise<string[]> {
  const conn = t.connection;
  if (conn.inTransaction) throw new DataJointError('alter() cannot run inside a transaction (e.g. inside a make): the definition change is DDL');
  const statements = await alterStatements(t);
  if (!statements.length) return [];
  if (shouldPrompt(opts.prompt, `to alter ${t.fullTableName}`) && !(await confirm(`${statements.join(';\n')}\n\nExecute?`))) return [];
  try {
    if (conn.dialect.capabilities.transactionalDdl) await conn.transaction(() => conn.executeAll(statements));
    else await conn.executeAll(statements);
  } catch (err) {
    throw requiredWithoutValue(err, t.fullTableName);
  }
  return statements;
}

/**
 * An ALTER refused because rows hold no value for an attribute it makes required (added without a
 * default, or made NOT NULL while NULLs are stored): PostgreSQL refuses an added one too, where
 * MySQL fills it with its type's zero. Said as what to change, as an IntegrityError on every
 * backend (the server's own class was MissingAttributeError, an insert's, on PostgreSQL).
 */
function requiredWithoutValue(err: unknown, table: string): unknown {
  if (!(err instanceof MissingAttributeError || err instanceof IntegrityError) || err instanceof ReferencedRowError) return err;
  return new IntegrityError(
    `alter cannot change ${table}: rows of it hold no value for an attribute the new definition requires (added without a default, or made not nullable). Give the attribute a default (\`x = 0 : int32\`) or keep it nullable (\`x = null : int32\`), or fill its values first. The server said: ${err.message}`,
    { cause: err },
  );
}

/** What alter() needs from a table instance, its schema and its class (table.ts). */
interface AlterableTable {
  readonly connection: Connection;
  readonly database: string;
  readonly tableName: string;
  readonly fullTableName: string;
  declare(): Promise<void>;
}
interface AlterSchema {
  compile?(cls: never): Promise<CompiledTable>;
  invalidate(tableName?: string): void;
}

/** alter() of a table class: its definition compiled by its schema, compared with the catalog. */
export async function alterClassTable<C>(t: AlterableTable, schema: AlterSchema | null, cls: C & { definition?: unknown }, opts: AlterOptions): Promise<string[]> {
  const compile = schema?.compile as ((c: C) => Promise<CompiledTable>) | undefined;
  if (!schema || !compile || typeof cls.definition !== 'string') throw new DataJointError(`alter() needs a table class with a definition; ${t.fullTableName} has none here`);
  await t.declare();
  const result = await alterTable(
    {
      connection: t.connection,
      database: t.database,
      tableName: t.tableName,
      fullTableName: t.fullTableName,
      compile: () => compile.call(schema, cls),
      currentHeading: () => loadHeading(t.connection, t.database, t.tableName),
    },
    opts,
  );
  schema.invalidate(t.tableName);
  return result;
}
