/** describe(): definition text equivalent to a table as declared, read back from the catalog. */
import type { Connection } from '../connection/connection.js';
import type { Heading } from '../heading/heading.js';
import { masterOf } from './graph.js';
import { parseTableName, type TierName } from './names.js';

/** What describe needs to know about the table. */
export interface DescribeTarget {
  readonly connection: Connection;
  readonly database: string;
  readonly tableName: string;
  readonly tier: TierName;
  tableHeading(): Promise<Heading>;
  /** Class name registered for an SQL table name, when known. */
  classNameOf?(database: string, tableName: string): string | null;
}

export async function describeTable(t: DescribeTarget): Promise<string> {
  const heading = await t.tableHeading();
  const conn = t.connection;
  const [tables, fks, indexes] = await Promise.all([
    conn.catalog.listTables(t.database),
    conn.catalog.foreignKeys(t.database, t.tableName),
    conn.catalog.indexes(t.database, t.tableName),
  ]);
  const comment = tables.find((x) => x.name === t.tableName)?.comment ?? '';
  const nativeType = new Map<string, string>();
  if (heading.all.some((a) => a.autoIncrement))
    for (const c of await conn.catalog.columns(t.database, t.tableName)) if (c.autoIncrement) nativeType.set(c.name, c.columnType.replace(/\(\d+\)/, ''));
  const lines: string[] = [];
  if (comment) lines.push(`# ${comment}`);
  const fkOf = new Map<string, (typeof fks)[number]>();
  for (const fk of fks) for (const [c] of fk.attrMap) if (!fkOf.has(c)) fkOf.set(c, fk);
  const emitted = new Set<string>();
  const master = masterOf({ database: t.database, name: t.tableName });
  let separator = false;
  for (const a of heading.all) {
    if (a.isHidden) continue;
    if (!a.inKey && !separator) {
      lines.push('---');
      separator = true;
    }
    const fk = fkOf.get(a.name);
    if (fk) {
      if (emitted.has(fk.name)) continue;
      emitted.add(fk.name);
      const isMaster = t.tier === 'part' && master && fk.parentTable === master.name && fk.parentDatabase === master.database;
      let ref = isMaster ? 'master' : (t.classNameOf?.(fk.parentDatabase, fk.parentTable) ?? parseTableName(fk.parentTable)?.className ?? fk.parentTable);
      if (!isMaster && fk.parentDatabase !== t.database) ref = `${fk.parentDatabase}.${ref}`;
      const renames = fk.attrMap.filter(([c, p]) => c !== p);
      if (renames.length) ref += `.proj(${renames.map(([c, p]) => `${c}='${p}'`).join(', ')})`;
      const opts: string[] = [];
      if (fk.attrMap.some(([c]) => heading.get(c)?.nullable)) opts.push('nullable');
      const fkCols = fk.attrMap.map(([c]) => c).join(',');
      if (indexes.some((i) => i.unique && !i.primary && i.columns.join(',') === fkCols)) opts.push('unique');
      lines.push(`-> ${opts.length ? `[${opts.join(', ')}] ` : ''}${ref}`);
      continue;
    }
    const dflt = a.nullable ? ' = null' : a.default !== null ? ` = ${definitionDefault(a.default)}` : '';
    // Auto-increment is a native feature: written back with the column's native type.
    const type = a.autoIncrement ? `${nativeType.get(a.name) ?? a.type} auto_increment` : a.type;
    lines.push(`${a.name}${dflt} : ${type}${a.comment ? `  # ${a.comment}` : ''}`);
  }
  for (const idx of indexes) {
    if (idx.primary) continue;
    const cols = idx.columns.join(',');
    // Indexes the server (or the dialect) creates for foreign keys are implied by the -> lines.
    if (fks.some((fk) => fk.attrMap.map(([c]) => c).join(',') === cols || (!idx.unique && fk.name === idx.name))) continue;
    // An expression (PostgreSQL prints one over several lines) on one line, as a definition needs it.
    lines.push(`${idx.unique ? 'unique ' : ''}index(${idx.columns.map((c) => c.replace(/\s+/g, ' ')).join(', ')})`);
  }
  return lines.join('\n') + '\n';
}

/**
 * A default as a definition spells it: a backslash in a quoted text default is written doubled,
 * since the definition parser reads `\x` as an escaped `x` (describe() output must declare the
 * same table again).
 */
function definitionDefault(d: string): string {
  return /^'.*'$/s.test(d) ? d.replace(/\\/g, '\\\\') : d;
}
