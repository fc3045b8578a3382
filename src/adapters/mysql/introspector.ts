/**
 * The MySQL/MariaDB catalog (information_schema) read into neutral records. Every look-up runs
 * on the session it is given (a transaction's own, inside one).
 */
import type { ColumnInfo, ForeignKeyInfo, IndexInfo, Introspector, Row, Session, TableInfo } from '../adapter.js';
import { quoteDefault, timestampDefault } from '../defaults.js';

const SYSTEM = new Set(['information_schema', 'mysql', 'performance_schema', 'sys']);

/**
 * information_schema reports defaults differently on MySQL 8 (the raw value) and MariaDB (an SQL
 * literal, 'NULL' for nullable columns without default). Normalize to neutral definition text.
 */
export function normalizeDefault(raw: string | null, nullable: boolean): string | null {
  if (raw === null) return null;
  if (raw === 'NULL') return nullable ? null : 'NULL';
  const ts = /^current_timestamp(?:\((\d*)\))?$/i.exec(raw);
  if (ts) return timestampDefault(ts[1] ? Number(ts[1]) : null);
  if (/^-?\d+(\.\d+)?(e[+-]?\d+)?$/i.test(raw)) return raw;
  // MariaDB: a quoted literal with '' and backslash escapes.
  const quoted = /^'(.*)'$/s.exec(raw);
  if (quoted) return quoteDefault(quoted[1]!.replace(/''/g, "'").replace(/\\(.)/gs, (_m, c: string) => ({ n: '\n', t: '\t', r: '\r', '0': '\0' })[c] ?? c));
  return quoteDefault(raw);
}

function groupKeys(rows: Row[]): ForeignKeyInfo[] {
  const out = new Map<string, ForeignKeyInfo>();
  for (const r of rows) {
    const id = `${r.cdb}.${r.ctab}.${r.name}`;
    let fk = out.get(id);
    if (!fk) {
      fk = { name: String(r.name), childDatabase: String(r.cdb), childTable: String(r.ctab), parentDatabase: String(r.pdb), parentTable: String(r.ptab), attrMap: [] };
      out.set(id, fk);
    }
    fk.attrMap.push([String(r.ccol), String(r.pcol)]);
  }
  return [...out.values()];
}

const FK_COLUMNS = `SELECT constraint_name AS name, table_schema AS cdb, table_name AS ctab, column_name AS ccol,
        referenced_table_schema AS pdb, referenced_table_name AS ptab, referenced_column_name AS pcol
   FROM information_schema.key_column_usage`;

export const mysqlIntrospector: Introspector = {
  async listDatabases(s: Session): Promise<string[]> {
    const rows = await s.query('SELECT schema_name AS name FROM information_schema.schemata');
    return rows.map((r) => String(r.name)).filter((n) => !SYSTEM.has(n));
  },
  async databaseExists(s, name) {
    return (await s.query('SELECT 1 FROM information_schema.schemata WHERE schema_name = ?', [name])).length > 0;
  },
  async listTables(s, database): Promise<TableInfo[]> {
    const rows = await s.query(
      "SELECT table_name AS name, table_comment AS comment FROM information_schema.tables WHERE table_schema = ? AND table_type = 'BASE TABLE' ORDER BY table_name",
      [database],
    );
    return rows.map((r) => ({ name: String(r.name), comment: String(r.comment ?? '') }));
  },
  async columns(s, database, table): Promise<ColumnInfo[]> {
    const rows = await s.query(
      `SELECT column_name AS name, column_type AS ctype, is_nullable AS nullable, column_default AS dflt,
              column_comment AS cmt, column_key AS ckey, extra AS extra
         FROM information_schema.columns WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position`,
      [database, table],
    );
    if (!rows.length) return [];
    const pk = new Set(
      (await s.query(
        "SELECT column_name AS name FROM information_schema.key_column_usage WHERE table_schema = ? AND table_name = ? AND constraint_name = 'PRIMARY'",
        [database, table],
      )).map((r) => String(r.name)),
    );
    return rows.map((r) => ({
      name: String(r.name),
      columnType: String(r.ctype).toLowerCase(),
      nullable: r.nullable === 'YES',
      default: normalizeDefault(r.dflt as string | null, r.nullable === 'YES'),
      comment: String(r.cmt ?? ''),
      inKey: pk.has(String(r.name)),
      autoIncrement: /auto_increment/i.test(String(r.extra ?? '')),
    }));
  },
  async foreignKeys(s, database, table) {
    const rows = await s.query(
      `${FK_COLUMNS} WHERE table_schema = ? ${table ? 'AND table_name = ?' : ''} AND referenced_table_name IS NOT NULL
        ORDER BY table_name, constraint_name, ordinal_position`,
      table ? [database, table] : [database],
    );
    return groupKeys(rows);
  },
  async referencingKeys(s, database, table) {
    const rows = await s.query(
      `${FK_COLUMNS} WHERE referenced_table_schema = ? AND referenced_table_name = ?
        ORDER BY table_schema, table_name, constraint_name, ordinal_position`,
      [database, table],
    );
    return groupKeys(rows);
  },
  async indexes(s, database, table): Promise<IndexInfo[]> {
    // MariaDB has no `expression` column in statistics: select it only where it exists.
    const hasExpr = (await s.query(
      "SELECT 1 FROM information_schema.columns WHERE table_schema = 'information_schema' AND table_name = 'STATISTICS' AND column_name = 'EXPRESSION'",
    )).length > 0;
    const rows = await s.query(
      `SELECT index_name AS name, non_unique AS nu, column_name AS col${hasExpr ? ', expression AS expr' : ''}
         FROM information_schema.statistics WHERE table_schema = ? AND table_name = ?
        ORDER BY index_name, seq_in_index`,
      [database, table],
    );
    const out = new Map<string, IndexInfo>();
    for (const r of rows) {
      const name = String(r.name);
      let ix = out.get(name);
      if (!ix) out.set(name, (ix = { name, unique: Number(r.nu) === 0, primary: name === 'PRIMARY', columns: [] }));
      ix.columns.push(r.col != null ? String(r.col) : `(${String(r.expr)})`);
    }
    return [...out.values()];
  },
};
