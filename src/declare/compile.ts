/**
 * Compile a parsed definition into a neutral `TableSpec` (which the dialect renders as DDL),
 * the resulting heading, and the lineage of every attribute. Parent tables are resolved
 * through the caller's `resolve` (schema registry, then context).
 */
import { DeclarationError } from '../errors.js';
import type { ColumnSpec, Dialect, ForeignKeySpec, IndexSpec, TableSpec } from '../adapters/adapter.js';
import { quoteDefault, timestampDefault } from '../adapters/defaults.js';
import { type Attribute, Heading, attributeFromType } from '../heading/heading.js';
import { resolveType } from '../heading/types.js';
import { checkDecimal, checkDefault } from './check-type.js';
import { parseJsonPath } from '../expression/json-path.js';
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
  /** Hidden attributes appended at the end (e.g. job metadata), as definition lines. */
  hiddenAttributes?: string[];
  warn?: (message: string) => void;
  /**
   * Write the `:type:` prefix into column comments (default true). Off only for system tables
   * that DataJoint Python declares without it (`~lineage`), so both produce the same table.
   */
  typeComments?: boolean;
}

export interface CompiledTable {
  spec: TableSpec;
  /** DDL that creates the table (the dialect's rendering of `spec`). */
  statements: string[];
  heading: Heading;
  comment: string;
  /** attribute → lineage, for attributes that have one. */
  lineage: Array<[attribute: string, lineage: string]>;
  parents: Array<{ parent: ParentRef; attrMap: Array<[child: string, parent: string]>; inKey: boolean }>;
}

function fail(message: string, line: string): never {
  throw new DeclarationError(`${message} in line: "${line}"`);
}

/**
 * A default as written in a definition → neutral default text (`'text'` with `'` doubled,
 * numbers, TRUE/FALSE, CURRENT_TIMESTAMP[(n)], NULL), or null when there is none. Quoted text
 * may use `''` or a backslash to escape its quote; unquoted text must be a number or keyword.
 */
export function normalizeDefault(written: string | null, line: string): string | null {
  if (written === null) return null;
  const d = written.trim();
  const upper = d.toUpperCase();
  if (upper === 'NULL') return 'NULL';
  const ts = /^CURRENT_TIMESTAMP(?:\((\d?)\))?$/.exec(upper);
  if (ts) return timestampDefault(ts[1] ? Number(ts[1]) : null);
  if (upper === 'TRUE' || upper === 'FALSE') return upper;
  if (/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(d)) return d;
  const quoted = /^(['"])(.*)\1$/s.exec(d);
  if (!quoted) fail(`Declaration error: the default value ${d} must be quoted (or be a number, NULL, TRUE, FALSE or CURRENT_TIMESTAMP)`, line);
  const q = quoted[1]!;
  let value = '';
  const body = quoted[2]!;
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (c === '\\' && i + 1 < body.length) value += body[++i];
    else if (c === q && body[i + 1] === q) value += body[i++];
    else if (c === q) fail('Declaration error: unbalanced quotes in the default value', line);
    else value += c;
  }
  return quoteDefault(value);
}

export async function compileDefinition(definition: string, opts: CompileOptions): Promise<CompiledTable> {
  const parsed: ParsedDefinition = parseDefinition(definition);
  const { dialect } = opts;
  const attributes: Attribute[] = [];
  const columns = new Map<string, ColumnSpec>();
  const foreignKeys: ForeignKeySpec[] = [];
  const indexes: IndexSpec[] = [];
  const lineage: Array<[string, string]> = [];
  const parents: CompiledTable['parents'] = [];
  const fkAttributes = new Set<string>();

  const maxName = dialect.capabilities.maxIdentifierLength;
  if (Buffer.byteLength(opts.tableName) > maxName) throw new DeclarationError(`Table name exceeds max length of ${maxName}: ${opts.tableName}`);

  const addColumn = (a: Attribute, spec: Omit<ColumnSpec, 'name'>, line: string) => {
    if (columns.has(a.name)) fail(`Declaration error: attribute \`${a.name}\` is declared more than once`, line);
    if (Buffer.byteLength(a.name) > maxName) fail(`Declaration error: attribute name exceeds max length of ${maxName}`, line);
    attributes.push(a);
    columns.set(a.name, { name: a.name, ...spec });
  };
  const storage = (a: { type: string; kind: Attribute['kind']; core: boolean; enumValues?: string[]; codec: string | null; dtype?: string }) => {
    // A codec is stored as its dtype (bytes, json, …), through the same type map.
    const t = a.codec ? resolveType(a.dtype ?? 'bytes') : a;
    // `int auto_increment` is stored as `int` with the column's autoIncrement flag.
    const type = t.core ? t.type : t.type.replace(/\s+auto_increment\b/i, '');
    return { type, kind: t.kind, core: t.core, enumValues: t.enumValues };
  };

  const compileAttribute = (line: AttributeLine) => {
    const t = resolveType(line.type, line.line, dialect);
    if (!t.core || t.native) {
      // A server's own float spellings mean different sizes on each (`real`: MySQL double,
      // PostgreSQL single precision): say which values this one holds.
      const holds = t.native ? null : dialect.coreTypeOf({ name: line.name, columnType: t.type.toLowerCase().trim(), nullable: false, default: null, comment: '', inKey: false, autoIncrement: false });
      const declaredAs = t.native ? ` (declared as ${t.type} on ${dialect.name})` : holds ? ` (on ${dialect.name} it holds the values of ${holds})` : '';
      opts.warn?.(`Native type "${t.native ?? t.type}" used for attribute \`${line.name}\`; consider a core DataJoint type${declaredAs} (line: "${line.line}")`);
    }
    const dflt = normalizeDefault(line.default, line.line);
    const nullable = dflt === 'NULL';
    if (nullable && line.inKey) fail('Primary key attributes cannot be nullable', line.line);
    if (dflt !== null && !nullable && (t.codec !== null || t.kind === 'bytes' || t.kind === 'json'))
      fail(`Declaration error: default value for ${t.codec ? `<${t.codec}>` : t.kind === 'json' ? 'json' : 'blob'} can only be NULL`, line.line);
    if (t.kind === 'uuid' && dflt !== null && !nullable) fail('Declaration error: default value for uuid can only be NULL', line.line);
    if (t.codec && line.inKey) fail(`Declaration error: codec attributes cannot be in the primary key`, line.line);
    // As DataJoint Python refuses them. A blob is a bytes type without a length (bytes, MySQL's
    // blobs, PostgreSQL's bytea); binary(n) keys stay allowed where the server has them.
    if (line.inKey && (t.kind === 'json' || (t.kind === 'bytes' && !t.type.includes('('))))
      fail('Declaration error: Blob or JSON attributes are not allowed in the primary key', line.line);
    const written = t.native ?? (t.core ? '' : t.type);
    const autoIncrement = /\bauto_increment\b/i.test(written);
    const a = attributeFromType(line.name, t, {
      inKey: line.inKey,
      nullable,
      default: nullable ? null : dflt,
      comment: line.comment,
      autoIncrement,
      lineage: line.inKey ? `${opts.database}.${opts.tableName}.${line.name}` : null,
    });
    checkDecimal(a, line.line);
    checkDefault(a, line.line);
    // The `:type:` prefix spells the type as written, as DataJoint Python writes it
    // (`:enum('hit', 'miss'):`); readers parse any spelling.
    // Another backend's native type declared as a core type is recorded as that core type.
    const typeComment = t.core && opts.typeComments !== false ? `:${t.native ? t.type : line.type.trim()}:${line.comment}` : line.comment;
    addColumn(a, { type: storage(t), nullable, default: nullable ? null : dflt, comment: typeComment, autoIncrement }, line.line);
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
        if (existing.type !== p.type) fail(`Declaration error: attribute \`${name}\` is inherited with conflicting types`, line.line);
        continue;
      }
      const parentLineage = p.lineage ?? `${parent.database}.${parent.tableName}.${p.name}`;
      if (!p.lineage)
        opts.warn?.(
          `Lineage for \`${parent.database}\`.\`${parent.tableName}\`.\`${p.name}\` not found (parent schema's ~lineage table may be missing or incomplete). Using it as origin. Once the parent schema's lineage is rebuilt, run schema.rebuildLineage() on this schema to correct the lineage.`,
        );
      const a: Attribute = { ...p, name, inKey: line.inKey, nullable: line.nullable, default: null, lineage: parentLineage, autoIncrement: false, expression: null, isHidden: false };
      const comment = p.core ? `:${p.type}:${p.comment}` : p.comment;
      addColumn(a, { type: storage(p), nullable: line.nullable, default: null, comment, autoIncrement: false }, line.line);
      fkAttributes.add(name);
      lineage.push([name, parentLineage]);
    }
    parents.push({ parent, attrMap, inKey: line.inKey });
    foreignKeys.push({ columns: attrMap.map(([c]) => c), refDatabase: parent.database, refTable: parent.tableName, refColumns: attrMap.map(([, p]) => p) });
    if (line.unique) indexes.push({ columns: attrMap.map(([c]) => c), unique: true });
  };

  for (const line of parsed.lines) {
    if (line.kind === 'attribute') compileAttribute(line);
    else if (line.kind === 'foreignKey') await compileForeignKey(line);
  }
  // Hidden attributes are declared as DataJoint Python declares its job metadata: nullable,
  // with their default (NULL or, e.g., ''), and without a `:type:` comment.
  for (const text of opts.hiddenAttributes ?? []) {
    const m = /^(_[a-z0-9_]+)\s*(=\s*[^:]+)?:\s*(.+)$/.exec(text);
    if (!m) throw new DeclarationError(`Invalid hidden attribute definition: ${text}`);
    const t = resolveType(m[3]!.replace(/#.*$/, '').trim(), text, dialect);
    const written = normalizeDefault(m[2] ? m[2].slice(1).trim() : 'NULL', text);
    const dflt = written === 'NULL' ? null : written;
    const a = attributeFromType(m[1]!, t, { nullable: true, default: dflt, isHidden: true });
    addColumn(a, { type: storage(t), nullable: true, default: dflt, comment: '', autoIncrement: false }, text);
  }
  /** An index column as the dialect takes it: an attribute, or an expression in parentheses. */
  const indexColumn = (c: string, line: string): string => {
    if (c.startsWith('(')) return dialect.userSql(c); // `(YEAR(birth_date))` runs on PostgreSQL too
    const path = parseJsonPath(c);
    const name = path ? path.attr : c;
    if (!columns.has(name)) fail(`Declaration error: index attribute \`${name}\` is not in the table`, line);
    if (!path) return c;
    // A JSON path (`car.length:decimal(4,1)`), as DataJoint Python indexes it: an index on the
    // expression that restrictions by that path use (MySQL 8's functional index, PostgreSQL's
    // expression index).
    const a = attributes.find((x) => x.name === name)!;
    if (a.kind !== 'json' || a.codec) fail(`Declaration error: index on JSON path "${c}": \`${name}\` is ${a.type}, not json`, line);
    return `(${dialect.jsonValue(dialect.quoteId(name), path.path, path.type)})`;
  };
  for (const line of parsed.lines) {
    if (line.kind !== 'index') continue;
    indexes.push({ columns: line.columns.map((c) => indexColumn(c, line.line)), unique: line.unique });
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

  const spec: TableSpec = {
    database: opts.database,
    name: opts.tableName,
    comment: parsed.comment,
    columns: attributes.map((a) => columns.get(a.name)!),
    primaryKey,
    foreignKeys,
    indexes,
  };
  return { spec, statements: dialect.createTable(spec), heading: new Heading(attributes), comment: parsed.comment, lineage, parents };
}
