/**
 * Compile a parsed definition into CREATE TABLE SQL, the resulting heading, and the lineage of
 * every attribute. Parent tables are resolved through the caller's `resolve` (schema registry,
 * then context).
 */
import { DeclarationError } from '../errors.js';
import type { Dialect } from '../connection/adapter.js';
import { type Attribute, Heading, attributeFromType } from '../heading/heading.js';
import { resolveType } from '../heading/types.js';
import { type AttributeLine, type ForeignKeyLine, type ParsedDefinition, parseDefinition } from './parse.js';

export type Tier = 'manual' | 'lookup' | 'imported' | 'computed' | 'part';

export interface ParentRef {
  database: string;
  tableName: string;
  heading: Heading;
}

export interface CompileOptions {
  database: string;
  tableName: string;
  tier: Tier;
  dialect: Dialect;
  resolve: (ref: string, line: string) => Promise<ParentRef>;
  allowNewPkInComputed?: boolean;
  /** Hidden attributes appended at the end (e.g. job metadata): definition lines. */
  hiddenAttributes?: string[];
  warn?: (message: string) => void;
}

export interface CompiledTable {
  sql: string;
  heading: Heading;
  comment: string;
  /** attribute → lineage, for attributes that have one. */
  lineage: Array<[attribute: string, lineage: string]>;
  parents: Array<{ parent: ParentRef; attrMap: Array<[child: string, parent: string]>; inKey: boolean }>;
}

const CONSTANT_DEFAULTS = new Set(['NULL', 'CURRENT_TIMESTAMP']);

function fail(message: string, line: string): never {
  throw new DeclarationError(`${message} in line: "${line}"`);
}

/** SQL text of a default value as written in a definition. */
function defaultSql(a: AttributeLine, dialect: Dialect): string | null {
  const d = a.default;
  if (d === null) return null;
  const upper = d.toUpperCase();
  if (upper === 'NULL') return 'NULL';
  if (/^CURRENT_TIMESTAMP(\(\d?\))?$/.test(upper)) return upper.replace(/\(\)$/, '');
  if (upper === 'TRUE') return '1';
  if (upper === 'FALSE') return '0';
  if (/^-?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(d)) return d;
  const quoted = /^(['"])(.*)\1$/s.exec(d);
  const text = quoted ? quoted[2]!.replace(/\\(.)/g, '$1') : d;
  return dialect.literal(text);
}

export async function compileDefinition(definition: string, opts: CompileOptions): Promise<CompiledTable> {
  const parsed: ParsedDefinition = parseDefinition(definition);
  const { dialect } = opts;
  const q = (n: string) => dialect.quoteId(n);
  const attributes: Attribute[] = [];
  const columnSql = new Map<string, string>();
  const fkSql: string[] = [];
  const indexSql: string[] = [];
  const lineage: Array<[string, string]> = [];
  const parents: CompiledTable['parents'] = [];
  const fkAttributes = new Set<string>();

  if (opts.tableName.length > 64) throw new DeclarationError(`Table name exceeds max length of 64: ${opts.tableName}`);

  const addColumn = (a: Attribute, sql: string, line: string) => {
    if (attributes.some((x) => x.name === a.name)) fail(`Declaration error: attribute \`${a.name}\` is declared more than once`, line);
    attributes.push(a);
    columnSql.set(a.name, sql);
  };

  const compileAttribute = (line: AttributeLine) => {
    const t = resolveType(line.type, line.line);
    if (!t.core) opts.warn?.(`Native type "${t.type}" used for attribute \`${line.name}\`; consider a core DataJoint type (line: "${line.line}")`);
    const dflt = defaultSql(line, dialect);
    const nullable = dflt === 'NULL';
    if (nullable && line.inKey) fail('Primary key attributes cannot be nullable', line.line);
    if (dflt !== null && !nullable && (t.codec !== null || t.kind === 'bytes' || t.kind === 'json'))
      fail(`Declaration error: default value for ${t.codec ? `<${t.codec}>` : t.kind === 'json' ? 'json' : 'blob'} can only be NULL`, line.line);
    if (t.kind === 'uuid' && dflt !== null && !nullable) fail('Declaration error: default value for uuid can only be NULL', line.line);
    if (t.codec && line.inKey) fail(`Declaration error: codec attributes cannot be in the primary key`, line.line);
    const a = attributeFromType(line.name, t, {
      inKey: line.inKey,
      nullable,
      default: nullable ? null : dflt,
      comment: line.comment,
      lineage: line.inKey ? `${opts.database}.${opts.tableName}.${line.name}` : null,
    });
    const comment = t.core ? `:${t.type}:${line.comment}` : line.comment;
    const sql = `${q(line.name)} ${t.sqlType} ${nullable ? 'DEFAULT NULL' : 'NOT NULL'}${dflt !== null && !nullable ? ` DEFAULT ${dflt}` : ''}${dialect.columnComment(comment)}`;
    addColumn(a, sql, line.line);
    if (a.lineage) lineage.push([a.name, a.lineage]);
  };

  const compileForeignKey = async (line: ForeignKeyLine) => {
    const parent = await opts.resolve(line.ref, line.line);
    const pk = parent.heading.all.filter((a) => a.inKey);
    for (const newName of Object.keys(line.renames)) {
      const old = line.renames[newName]!;
      if (!pk.some((a) => a.name === old)) fail(`Declaration error: \`${old}\` is not a primary key attribute of ${line.ref}`, line.line);
    }
    const byOld = new Map(Object.entries(line.renames).map(([n, o]) => [o, n]));
    const attrMap: Array<[string, string]> = [];
    for (const p of pk) {
      const name = byOld.get(p.name) ?? p.name;
      attrMap.push([name, p.name]);
      const existing = attributes.find((a) => a.name === name);
      if (existing) {
        // Shared by two references (e.g. both parents carry subject_id): one column serves both.
        if (existing.sqlType !== p.sqlType) fail(`Declaration error: attribute \`${name}\` is inherited with conflicting types`, line.line);
        continue;
      }
      const parentLineage = p.lineage ?? `${parent.database}.${parent.tableName}.${p.name}`;
      if (!p.lineage)
        opts.warn?.(
          `Lineage for \`${parent.database}\`.\`${parent.tableName}\`.\`${p.name}\` not found (parent schema's ~lineage table may be missing or incomplete). Using it as origin. Once the parent schema's lineage is rebuilt, run schema.rebuildLineage() on this schema to correct the lineage.`,
        );
      const a: Attribute = {
        ...p,
        name,
        inKey: line.inKey,
        nullable: line.nullable,
        default: null,
        lineage: parentLineage,
        autoIncrement: false,
        expression: null,
        isHidden: false,
      };
      const comment = p.core ? `:${p.type}:${p.comment}` : p.comment;
      addColumn(a, `${q(name)} ${p.sqlType} ${line.nullable ? 'DEFAULT NULL' : 'NOT NULL'}${dialect.columnComment(comment)}`, line.line);
      fkAttributes.add(name);
      lineage.push([name, parentLineage]);
    }
    parents.push({ parent, attrMap, inKey: line.inKey });
    fkSql.push(
      `FOREIGN KEY (${attrMap.map(([c]) => q(c)).join(',')}) REFERENCES ${dialect.fullName(parent.database, parent.tableName)} (${attrMap
        .map(([, p]) => q(p))
        .join(',')}) ON UPDATE CASCADE ON DELETE RESTRICT`,
    );
    if (line.unique) indexSql.push(`UNIQUE INDEX (${attrMap.map(([c]) => q(c)).join(',')})`);
  };

  for (const line of parsed.lines) {
    if (line.kind === 'attribute') compileAttribute(line);
    else if (line.kind === 'foreignKey') await compileForeignKey(line);
  }
  for (const text of opts.hiddenAttributes ?? []) {
    const m = /^(_[a-z0-9_]+)\s*(=\s*[^:]+)?:\s*(.+)$/.exec(text);
    if (!m) throw new DeclarationError(`Invalid hidden attribute definition: ${text}`);
    const t = resolveType(m[3]!.replace(/#.*$/, '').trim());
    const dflt = m[2] ? m[2].slice(1).trim() : 'NULL';
    const a = attributeFromType(m[1]!, t, { nullable: dflt.toUpperCase() === 'NULL', default: dflt.toUpperCase() === 'NULL' ? null : dflt, isHidden: true });
    addColumn(a, `${q(a.name)} ${t.sqlType} ${a.nullable ? 'DEFAULT NULL' : `NOT NULL DEFAULT ${dflt}`}${dialect.columnComment(`:${t.type}:`)}`, text);
  }
  for (const line of parsed.lines) {
    if (line.kind !== 'index') continue;
    for (const c of line.columns)
      if (!c.startsWith('(') && !attributes.some((a) => a.name === c)) fail(`Declaration error: index attribute \`${c}\` is not in the table`, line.line);
    indexSql.push(`${line.unique ? 'UNIQUE ' : ''}INDEX (${line.columns.map((c) => (c.startsWith('(') ? c : q(c))).join(',')})`);
  }

  const primaryKey = attributes.filter((a) => a.inKey).map((a) => a.name);
  if (primaryKey.length === 0) throw new DeclarationError(`Table must have a primary key: ${opts.tableName}`);
  if ((opts.tier === 'computed' || opts.tier === 'imported') && !opts.allowNewPkInComputed) {
    const own = primaryKey.filter((n) => !fkAttributes.has(n));
    if (own.length)
      throw new DeclarationError(
        `Auto-populated table ${opts.tableName} has primary key attribute(s) ${own.map((n) => `\`${n}\``).join(', ')} not inherited from a foreign key. The primary key of Computed and Imported tables must come from foreign keys (set jobs.allow_new_pk_fields_in_computed_tables to override).`,
      );
  }

  const body = [
    ...attributes.map((a) => columnSql.get(a.name)!),
    `PRIMARY KEY (${primaryKey.map(q).join(',')})`,
    ...fkSql,
    ...indexSql,
  ];
  const sql = `CREATE TABLE IF NOT EXISTS ${dialect.fullName(opts.database, opts.tableName)} (\n  ${body.join(',\n  ')}\n)${dialect.createTableSuffix(parsed.comment)}`;
  return { sql, heading: new Heading(attributes), comment: parsed.comment, lineage, parents };
}
