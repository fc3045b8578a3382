/**
 * The PostgreSQL catalog read back into neutral records, one statement per call (no query per
 * column). Reads pg_catalog rather than information_schema: it reports enum labels in order,
 * constraint columns in key order, index expressions, identity columns and comments, and it is
 * not filtered by privileges on the tables. Unknown schemas and tables give empty results (an
 * error would abort the caller's transaction).
 */
import type { ColumnInfo, ForeignKeyInfo, IndexInfo, Introspector, Row, Session, TableInfo } from '../adapter.js';
import { normalizeDefault } from './defaults.js';

const TABLE_KINDS = `('r', 'p')`;

const COLUMNS_SQL = `
SELECT a.attname AS name,
       format_type(a.atttypid, a.atttypmod) AS ctype,
       NOT a.attnotnull AS nullable,
       pg_get_expr(d.adbin, d.adrelid) AS dflt,
       col_description(c.oid, a.attnum) AS cmt,
       a.attidentity <> '' AS is_identity,
       t.typname AS typname,
       CASE WHEN t.typtype = 'e' THEN ARRAY(
         SELECT e.enumlabel::text FROM pg_enum e WHERE e.enumtypid = t.oid ORDER BY e.enumsortorder) END AS enum_values,
       COALESCE(a.attnum = ANY (pk.indkey::int2[]), false) AS in_key
  FROM pg_class c
  JOIN pg_namespace n ON n.oid = c.relnamespace
  JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
  JOIN pg_type t ON t.oid = a.atttypid
  LEFT JOIN pg_attrdef d ON d.adrelid = c.oid AND d.adnum = a.attnum
  LEFT JOIN pg_index pk ON pk.indrelid = c.oid AND pk.indisprimary
 WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ${TABLE_KINDS}
 ORDER BY a.attnum`;

/** Foreign keys with child and parent columns in key order (WITH ORDINALITY keeps conkey's order). */
const FK_SQL = `
SELECT con.conname AS name, cn.nspname AS cdb, cc.relname AS ctab, pn.nspname AS pdb, pc.relname AS ptab,
       ARRAY(SELECT a.attname::text FROM unnest(con.conkey) WITH ORDINALITY k(attnum, ord)
               JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum ORDER BY k.ord) AS ccols,
       ARRAY(SELECT a.attname::text FROM unnest(con.confkey) WITH ORDINALITY k(attnum, ord)
               JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.attnum ORDER BY k.ord) AS pcols
  FROM pg_constraint con
  JOIN pg_class cc ON cc.oid = con.conrelid JOIN pg_namespace cn ON cn.oid = cc.relnamespace
  JOIN pg_class pc ON pc.oid = con.confrelid JOIN pg_namespace pn ON pn.oid = pc.relnamespace
 WHERE con.contype = 'f'`;

/** Key columns of each index (INCLUDE columns left out); an expression column as `(expr)`. */
const INDEX_SQL = `
SELECT ic.relname AS name, i.indisunique AS uniq, i.indisprimary AS prim,
       ARRAY(SELECT CASE WHEN k.attnum = 0 THEN '(' || pg_get_indexdef(i.indexrelid, k.ord::int, true) || ')'
                         ELSE a.attname::text END
               FROM unnest(i.indkey::int2[]) WITH ORDINALITY k(attnum, ord)
               LEFT JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
              WHERE k.ord <= i.indnkeyatts ORDER BY k.ord) AS cols
  FROM pg_index i
  JOIN pg_class ic ON ic.oid = i.indexrelid
  JOIN pg_class tc ON tc.oid = i.indrelid
  JOIN pg_namespace n ON n.oid = tc.relnamespace
 WHERE n.nspname = $1 AND tc.relname = $2
 ORDER BY i.indisprimary DESC, ic.relname`;

/** The column type as format_type spells it, without ` without time zone` (timestamp(3)). */
function columnType(r: Row): string {
  if (r.enum_values) return String(r.typname);
  return String(r.ctype).toLowerCase().replace(/^(timestamp(?:\(\d\))?|time(?:\(\d\))?) without time zone$/, '$1');
}

function toColumn(r: Row): ColumnInfo {
  const nullable = r.nullable === true;
  const dflt = r.dflt === null ? null : String(r.dflt);
  const serial = dflt !== null && /^nextval\(/i.test(dflt);
  const col: ColumnInfo = {
    name: String(r.name),
    columnType: columnType(r),
    nullable,
    default: normalizeDefault(dflt, nullable),
    comment: r.cmt === null ? '' : String(r.cmt),
    inKey: r.in_key === true,
    autoIncrement: r.is_identity === true || serial,
  };
  if (Array.isArray(r.enum_values)) col.enumValues = r.enum_values.map(String);
  return col;
}

function toForeignKey(r: Row): ForeignKeyInfo {
  const child = (r.ccols as unknown[]).map(String);
  const parent = (r.pcols as unknown[]).map(String);
  return {
    name: String(r.name),
    childDatabase: String(r.cdb),
    childTable: String(r.ctab),
    parentDatabase: String(r.pdb),
    parentTable: String(r.ptab),
    attrMap: child.map((c, i) => [c, parent[i]!] as [string, string]),
  };
}

export const postgresIntrospector: Introspector = {
  async listDatabases(s: Session): Promise<string[]> {
    const rows = await s.query(
      `SELECT nspname AS name FROM pg_namespace
        WHERE nspname NOT LIKE 'pg\\_%' AND nspname NOT IN ('information_schema', 'public') ORDER BY nspname`,
    );
    return rows.map((r) => String(r.name));
  },

  async databaseExists(s: Session, name: string): Promise<boolean> {
    return (await s.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [name])).length > 0;
  },

  async listTables(s: Session, database: string): Promise<TableInfo[]> {
    const rows = await s.query(
      `SELECT c.relname AS name, COALESCE(obj_description(c.oid, 'pg_class'), '') AS comment
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = $1 AND c.relkind IN ${TABLE_KINDS} ORDER BY c.relname`,
      [database],
    );
    return rows.map((r) => ({ name: String(r.name), comment: String(r.comment) }));
  },

  async columns(s: Session, database: string, table: string): Promise<ColumnInfo[]> {
    return (await s.query(COLUMNS_SQL, [database, table])).map(toColumn);
  },

  async foreignKeys(s: Session, database: string, table?: string): Promise<ForeignKeyInfo[]> {
    const rows = table
      ? await s.query(`${FK_SQL} AND cn.nspname = $1 AND cc.relname = $2 ORDER BY cc.relname, con.conname`, [database, table])
      : await s.query(`${FK_SQL} AND cn.nspname = $1 ORDER BY cc.relname, con.conname`, [database]);
    return rows.map(toForeignKey);
  },

  async referencingKeys(s: Session, database: string, table: string): Promise<ForeignKeyInfo[]> {
    const rows = await s.query(`${FK_SQL} AND pn.nspname = $1 AND pc.relname = $2 ORDER BY cn.nspname, cc.relname, con.conname`, [
      database,
      table,
    ]);
    return rows.map(toForeignKey);
  },

  async indexes(s: Session, database: string, table: string): Promise<IndexInfo[]> {
    const rows = await s.query(INDEX_SQL, [database, table]);
    return rows.map((r) => ({
      name: String(r.name),
      unique: r.uniq === true,
      primary: r.prim === true,
      columns: (r.cols as unknown[]).map(String),
    }));
  },
};
