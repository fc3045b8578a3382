/**
 * `dj status <db_name> [--json]` (API.md §8): per table of one schema, its tier and row count,
 * and for auto-populated tables the jobs by status. Jobs are read from the `~~` jobs tables that
 * exist; none is created (status is read-only), so a table never populated with reserveJobs
 * shows zero jobs. Tables are listed parents first, parts after their masters, as the schema
 * diagram orders them.
 */
import { conn as sharedConnection, type Connection } from '../connection/connection.js';
import { Diagram } from '../diagram/diagram.js';
import { parseTableName, type TierName } from '../table/names.js';

/** Jobs of one auto-populated table, by status. */
export interface JobCounts {
  pending: number;
  reserved: number;
  success: number;
  error: number;
  ignore: number;
}

/** One table's line of `dj status`. */
export interface TableStatus {
  /** Class name (`Session`, `Session.Trial`); the SQL name for tables outside DataJoint's naming. */
  table: string;
  fullTableName: string;
  tier: TierName | 'unknown';
  rows: number;
  /** Only for auto-populated (computed, imported) tables. */
  jobs?: JobCounts;
}

export interface StatusCommandOptions {
  /** Print JSON (`TableStatus[]`) instead of a table. */
  json?: boolean;
  /** Connection to read from (default: the shared `dj.conn()`). */
  connection?: Connection;
  /** Where output goes (default: process.stdout). */
  out?: (text: string) => void;
  /** Where error messages go (default: process.stderr). */
  err?: (text: string) => void;
}

const JOB_STATUSES = ['pending', 'reserved', 'success', 'error', 'ignore'] as const;

/** The jobs table of an auto-populated table (`__analysis` → `~~analysis`), named as populate/jobs.ts names it. */
const jobsTableOf = (tableName: string) => `~~${tableName.replace(/^[#_]+/, '')}`;

/** Status of every table of `database` (which must exist), parents first. */
export async function schemaStatus(connection: Connection, database: string): Promise<TableStatus[]> {
  const d = connection.dialect;
  const all = new Set((await connection.catalog.listTables(database)).map((t) => t.name));
  const byFullName = new Map([...all].filter((n) => !n.startsWith('~')).map((n) => [d.fullName(database, n), n]));
  const ordered = (await new Diagram({ database, connection }).nodes()).filter((f) => byFullName.has(f));
  const out: TableStatus[] = [];
  for (const fullTableName of ordered) {
    const name = byFullName.get(fullTableName)!;
    const parsed = parseTableName(name);
    const masterClass = parsed?.master ? parseTableName(parsed.master)?.className : null;
    const rows = Number((await connection.query(`SELECT COUNT(*) AS n FROM ${fullTableName}`))[0]!.n);
    const status: TableStatus = {
      table: parsed ? (masterClass ? `${masterClass}.${parsed.className}` : parsed.className) : name,
      fullTableName,
      tier: parsed?.tier ?? 'unknown',
      rows,
    };
    if (parsed?.tier === 'computed' || parsed?.tier === 'imported') status.jobs = await jobCounts(connection, database, name, all);
    out.push(status);
  }
  return out;
}

async function jobCounts(connection: Connection, database: string, tableName: string, tables: Set<string>): Promise<JobCounts> {
  const counts: JobCounts = { pending: 0, reserved: 0, success: 0, error: 0, ignore: 0 };
  const jobs = jobsTableOf(tableName);
  if (!tables.has(jobs)) return counts;
  const rows = await connection.query(`SELECT status, COUNT(*) AS n FROM ${connection.dialect.fullName(database, jobs)} GROUP BY status`);
  for (const r of rows) {
    const s = String(r.status) as keyof JobCounts;
    if (s in counts) counts[s] = Number(r.n);
  }
  return counts;
}

/** A plain-text table: names left-aligned, numbers right-aligned; jobs columns empty for tables without jobs. */
export function formatStatus(database: string, tables: TableStatus[]): string {
  if (!tables.length) return `schema ${database}: no tables\n`;
  const auto = tables.some((t) => t.jobs);
  const header = ['table', 'tier', 'rows', ...(auto ? JOB_STATUSES : [])];
  const body = tables.map((t) => [t.table, t.tier, String(t.rows), ...(auto ? JOB_STATUSES.map((s) => (t.jobs ? String(t.jobs[s]) : '')) : [])]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((r) => r[i]!.length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i < 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!)))
      .join('  ')
      .trimEnd();
  const rows = tables.reduce((a, t) => a + t.rows, 0);
  return [`schema ${database}: ${tables.length} tables, ${rows} rows`, line(header), ...body.map(line)].join('\n') + '\n';
}

/** Run the command; resolves to the exit code (0 on success, 1 on a reported error). */
export async function runStatusCommand(database: string, opts: StatusCommandOptions = {}): Promise<number> {
  const out = opts.out ?? ((t: string) => void process.stdout.write(t));
  const err = opts.err ?? ((t: string) => void process.stderr.write(t));
  try {
    const connection = opts.connection ?? sharedConnection();
    if (!(await connection.catalog.databaseExists(database))) {
      err(`dj status: schema "${database}" does not exist\n`);
      return 1;
    }
    const tables = await schemaStatus(connection, database);
    out(opts.json ? `${JSON.stringify(tables, null, 2)}\n` : formatStatus(database, tables));
    return 0;
  } catch (e) {
    err(`dj status: ${(e as Error).message}\n`);
    return 1;
  }
}
