/**
 * The jobs table's declaration: one `~~name` table per auto-populated table, whose primary key
 * is the table's foreign-key-derived primary key, declared from the definition DataJoint
 * Python 2.3 uses, through the same compiler as user tables (so both libraries share queues).
 *
 * With DataJoint Python's secondary index on (status, priority, scheduled_time), as a table it
 * declared has. Job rows are changed by primary key only, after a plain read (jobs.ts), so each
 * change locks its own row. An earlier version, whose refresh and reservations scanned with
 * locking reads, left the index out because group commits of concurrent workers then waited
 * on each other's gap locks; measured again with those reads gone (2026-12-03, 3 workers and
 * 3,000 trivial keys on MariaDB, 3 runs each): 0 deadlocks with the index, 2-6 without, same
 * time. A table Python created (`priority` without a default) works as well: every column is
 * written.
 *
 * Also the jobs table as a table (JobsTable), and the shapes of the jobs API's options and results.
 */
import { DataJointError } from '../errors.js';
import type { Connection } from '../connection/connection.js';
import { compileDefinition } from '../declare/compile.js';
import type { Heading } from '../heading/heading.js';
import type { QueryExpression } from '../expression/expression.js';
import type { Row } from '../fetch/fetch.js';
import { FreeTable } from '../table/free-table.js';
import { keysCondition } from '../table/keys.js';
import { loadHeading } from '../table/load-heading.js';
import { dropGeneration } from '../table/drop-generation.js';
import type { DeleteOptions } from '../table/delete.js';
import type { DropOptions } from '../table/drop.js';
import { keyIdentity, type KeyIdentity } from './key-id.js';

export const MAX_ERROR_MESSAGE = 2047;

/** The jobs table's definition (DataJoint Python 2.3's), for the given key attribute lines. */
export function jobsDefinition(title: string, keyLines: string[]): string {
  return `# Job queue for ${title}
${keyLines.join('\n')}
---
status : enum('pending','reserved','success','error','ignore')
priority : int8
created_time = CURRENT_TIMESTAMP(3) : datetime(3)
scheduled_time = CURRENT_TIMESTAMP(3) : datetime(3)
reserved_time = null : datetime(3)
completed_time = null : datetime(3)
duration = null : float64
error_message = '' : varchar(${MAX_ERROR_MESSAGE})
error_stack = null : <blob>
user = '' : varchar(255)
host = '' : varchar(255)
pid = 0 : int32
connection_id = 0 : int64
version = '' : varchar(64)
index(status, priority, scheduled_time)
`;
}

/** The jobs table's columns besides the key (jobsDefinition). */
const JOB_COLUMNS = ['status', 'priority', 'created_time', 'scheduled_time', 'reserved_time', 'completed_time', 'duration', 'error_message', 'error_stack', 'user', 'host', 'pid', 'connection_id', 'version'];

/** What declaring a jobs table needs from its auto-populated table. */
export interface JobsTarget {
  connection: Connection;
  database: string;
  tableName: string;
  tableHeading(): Promise<Heading>;
}

/** Create the jobs table `tableName` for `owner` if missing; resolves to its heading. */
export async function declareJobsTable(owner: JobsTarget, tableName: string): Promise<Heading> {
  const conn = owner.connection;
  const { database } = owner;
  if (!(await conn.catalog.columns(database, tableName)).length) {
    const target = await owner.tableHeading();
    const fks = await conn.catalog.foreignKeys(database, owner.tableName);
    const fromFk = new Set(fks.filter((fk) => fk.attrMap.every(([c]) => target.get(c)?.inKey)).flatMap((fk) => fk.attrMap.map(([c]) => c)));
    const keys = target.primaryKey.filter((k) => fromFk.has(k));
    const jobKeys = keys.length ? keys : target.primaryKey;
    // The jobs table's own columns are DataJoint Python's: a key attribute of the same name
    // (say `host`) cannot be in it, there or here.
    const clash = jobKeys.filter((k) => JOB_COLUMNS.includes(k));
    if (clash.length)
      throw new DataJointError(
        `${owner.tableName} cannot have a jobs table: its key attribute${clash.length > 1 ? 's' : ''} ${clash.map((k) => `\`${k}\``).join(', ')} ${clash.length > 1 ? 'have' : 'has'} the name of a jobs table column (${JOB_COLUMNS.join(', ')}; DataJoint Python's layout). Rename the attribute upstream, or populate without reserveJobs.`,
      );
    const keyLines = jobKeys.map((k) => `${k} : ${target.get(k)!.type}`);
    const compiled = await compileDefinition(jobsDefinition(conn.dialect.fullName(database, owner.tableName), keyLines), {
      database,
      tableName,
      tier: 'manual',
      dialect: conn.dialect,
      resolve: () => Promise.reject(new DataJointError('a jobs table has no foreign keys')),
    });
    if (conn.inTransaction && !conn.dialect.capabilities.transactionalDdl)
      throw new DataJointError(`The jobs table ${conn.dialect.fullName(database, tableName)} does not exist yet and cannot be created inside a transaction (MySQL would commit it)`);
    const lock = conn.dialect.declarationLock(`${database}.${tableName}`);
    if (conn.dialect.capabilities.transactionalDdl)
      await conn.transaction(async () => {
        if (lock) await conn.execute(lock);
        await conn.executeAll(compiled.statements);
      });
    else await conn.executeAll(compiled.statements);
  }
  return loadHeading(conn, database, tableName);
}

/** What the jobs table needs from its auto-populated table. */
export interface JobsOwner {
  connection: Connection;
  database: string;
  tableName: string;
  tableHeading(): Promise<Heading>;
  /** Keys that should exist (the key source restricted, projected to its key), as an expression. */
  keySourceExpression(restrict?: unknown): Promise<QueryExpression>;
  /** The target table itself as an expression. */
  selfExpression(): QueryExpression;
}

/** What a jobs table and its restrictions share (a restriction is a copy of the Jobs object). */
interface QueueState {
  readonly owner: JobsOwner;
  declared: Promise<Heading> | null;
  /** dropGeneration() when `declared` began: after a drop since, the table may be gone. */
  declaredAt: number;
  heading: Heading | null;
  identity: KeyIdentity | null;
}

/**
 * The jobs table of an auto-populated table as a table: restricted, fetched, deleted from
 * (`Analysis.jobs.restrict(cond).delete()`) as any other, and declared on first use, a query
 * included. Jobs (jobs.ts) adds the queue's operations.
 */
export class JobsTable extends FreeTable {
  /** Plain (not #private) state: restrictions are copies made without the constructor. */
  readonly _queue: QueueState;

  constructor(owner: JobsOwner) {
    super();
    this._queue = { owner, declared: null, declaredAt: 0, heading: null, identity: null };
    this._fconnection = owner.connection;
    this._fdatabase = owner.database;
    this._ftable = `~~${owner.tableName.replace(/^[#_]+/, '')}`; // `~~analysis` for `__analysis`
    this._ftier = 'manual';
  }

  protected get owner(): JobsOwner {
    return this._queue.owner;
  }
  protected get conn(): Connection {
    return this.connection;
  }
  /** The job key attributes (the target's foreign-key-derived primary key). */
  protected get pk(): string[] {
    return this._queue.heading!.primaryKey;
  }
  /** Job keys as text, for raw rows and fetched keys alike (made once per jobs heading). */
  protected get identity(): KeyIdentity {
    return (this._queue.identity ??= keyIdentity(this._queue.heading!, this.pk));
  }

  /**
   * Create the jobs table if missing; resolves to its heading. Checked again after any drop in
   * this process (a dropped schema takes its jobs tables with it), so the next use declares it
   * anew instead of finding it missing.
   */
  ensureDeclared(): Promise<Heading> {
    const q = this._queue;
    if (q.declared && q.declaredAt === dropGeneration()) return q.declared;
    q.declaredAt = dropGeneration();
    const declared = declareJobsTable(q.owner, this.tableName)
      .then((h) => {
        q.identity = null;
        return (q.heading = h);
      })
      .catch((err) => {
        if (q.declared === declared) q.declared = null;
        throw err;
      });
    return (q.declared = declared);
  }
  /** Create the jobs table if missing. */
  override async declare(): Promise<void> {
    await this.ensureDeclared();
  }
  /** The jobs table's heading; the table is declared on first use (a query of it included). */
  override tableHeading(): Promise<Heading> {
    return this.ensureDeclared();
  }

  /** The whole jobs table as a query expression (this one's restrictions left out). */
  table(): FreeTable {
    return FreeTable.create(this.conn, this.database, this.tableName);
  }
  private byStatus(status: string): this {
    return this.restrict({ status });
  }
  get pending(): this {
    return this.byStatus('pending');
  }
  get reserved(): this {
    return this.byStatus('reserved');
  }
  get errors(): this {
    return this.byStatus('error');
  }
  get ignored(): this {
    return this.byStatus('ignore');
  }
  get completed(): this {
    return this.byStatus('success');
  }

  /** WHERE text selecting jobs by key (values encoded like the table's own). */
  protected keyWhere(keys: Row[]): string {
    return keysCondition(this.conn, this._queue.heading!, keys.map((k) => Object.fromEntries(this.pk.map((a) => [a, k[a]]))));
  }
  protected col(name: string): string {
    return this.conn.dialect.quoteId(name);
  }
  /** Job times are on the server's clock, as DataJoint Python keeps them (Dialect.serverNow). */
  protected get now(): string {
    return this.conn.dialect.serverNow(3);
  }

  /**
   * Delete jobs (`Analysis.jobs.errors.delete()` to retry failed keys) without a prompt, as
   * DataJoint Python's jobs table does: jobs are bookkeeping, not data, and nothing depends on
   * them, so safemode's question would only stop the scripts that clear errors.
   */
  override delete(_opts: DeleteOptions = {}): Promise<number> {
    return this.deleteQuick();
  }

  /** Drop the jobs table (e.g. when the table is dropped), without a prompt: it holds no data of its own. */
  override async drop(_opts: DropOptions = {}): Promise<void> {
    if (this.isRestricted) throw new DataJointError('drop() cannot be applied to a restricted table');
    await this.conn.execute(this.conn.dialect.dropTable(this.database, this.tableName));
    this._queue.declared = null;
  }
}

/** Options of Jobs.refresh (API.md §6). */
export interface RefreshOptions {
  restrict?: unknown;
  priority?: number;
  /** Seconds from now before the new jobs may run. */
  delay?: number;
  /** Seconds: pending jobs older than this whose key left the key source are removed (0: none are). */
  staleTimeout?: number;
  /** Seconds: reserved jobs older than this (crashed workers) go back to pending (0 or absent: none do, as in DataJoint Python). */
  orphanTimeout?: number;
}

export interface RefreshResult {
  added: number;
  removed: number;
  orphaned: number;
  /** Jobs marked success whose rows are gone, pending again (DataJoint Python's `re_pended`). */
  rePended: number;
}

export interface JobsProgress {
  pending: number;
  reserved: number;
  success: number;
  error: number;
  ignore: number;
  total: number;
}
