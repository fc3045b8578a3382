/**
 * Jobs 2.0 (spec: autopopulate §9–12): one `~~name` jobs table per auto-populated table, whose
 * primary key is the table's own. Reservation is one atomic UPDATE checked by affected rows.
 */
import { hostname } from 'node:os';
import { DataJointError } from '../errors.js';
import { config } from '../config.js';
import { pack } from '../blob/index.js';
import type { Connection } from '../connection/connection.js';
import type { Heading } from '../heading/heading.js';
import type { QueryExpression } from '../expression/expression.js';
import { FreeTable } from '../table/tiers.js';
import { keysCondition } from '../table/table.js';
import type { Row } from '../fetch/fetch.js';
import { encodeScalar } from '../fetch/convert.js';
import { jobVersion } from './version.js';

export const MAX_ERROR_MESSAGE = 2047;

export interface RefreshOptions {
  restrict?: unknown;
  priority?: number;
  /** Seconds from now before the new jobs may run. */
  delay?: number;
  /** Seconds: pending jobs older than this whose key left the key source are removed. */
  staleTimeout?: number;
  /** Seconds: reserved jobs older than this (crashed workers) go back to pending. */
  orphanTimeout?: number;
}

export interface RefreshResult {
  added: number;
  removed: number;
  orphaned: number;
  /** Jobs marked success whose rows are gone (re-queued as pending). */
  resubmitted: number;
}

export interface JobsProgress {
  pending: number;
  reserved: number;
  success: number;
  error: number;
  ignore: number;
  total: number;
}

/** What the jobs table needs from its auto-populated table. */
export interface JobsOwner {
  connection: Connection;
  database: string;
  tableName: string;
  tableHeading(): Promise<Heading>;
  /** Keys that should exist (key source restricted), as an expression. */
  keySourceExpression(restrict?: unknown): Promise<QueryExpression>;
  /** The target table itself as an expression. */
  selfExpression(): QueryExpression;
}

export class Jobs {
  readonly #owner: JobsOwner;
  #declared: Promise<void> | null = null;
  #pk: string[] = [];

  constructor(owner: JobsOwner) {
    this.#owner = owner;
  }

  /** `~~analysis` for `__analysis`. */
  get tableName(): string {
    return `~~${this.#owner.tableName.replace(/^[#_]+/, '')}`;
  }
  get fullTableName(): string {
    return this.#owner.connection.dialect.fullName(this.#owner.database, this.tableName);
  }
  private get conn(): Connection {
    return this.#owner.connection;
  }

  /** Create the jobs table if missing (its key columns copy the table's key types). */
  declare(): Promise<void> {
    if (!this.#declared) {
      // No secondary index on status: job rows are changed by primary key only, so each change
      // locks its own row and never a gap that another worker's reservation needs.
      this.#declared = (async () => {
        const heading = await this.#owner.tableHeading();
        const d = this.conn.dialect;
        this.#pk = heading.primaryKey;
        this.#heading = heading;
        const keyCols = heading.primaryKey.map((k) => {
          const a = heading.get(k)!;
          return `${d.quoteId(k)} ${a.sqlType} NOT NULL${d.columnComment(a.core ? `:${a.type}:${a.comment}` : a.comment)}`;
        });
        await this.conn.execute(`CREATE TABLE IF NOT EXISTS ${this.fullTableName} (
  ${keyCols.join(',\n  ')},
  status enum('pending','reserved','success','error','ignore') NOT NULL COMMENT ':enum:',
  priority tinyint unsigned NOT NULL DEFAULT 5 COMMENT ':uint8:lower is more urgent',
  created_time datetime(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) COMMENT ':datetime(6):',
  scheduled_time datetime(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) COMMENT ':datetime(6):run on or after',
  reserved_time datetime(6) DEFAULT NULL COMMENT ':datetime(6):',
  completed_time datetime(6) DEFAULT NULL COMMENT ':datetime(6):',
  duration double DEFAULT NULL COMMENT ':float64:seconds',
  error_message varchar(${MAX_ERROR_MESSAGE}) NOT NULL DEFAULT '' COMMENT ':varchar(${MAX_ERROR_MESSAGE}):',
  error_stack longblob DEFAULT NULL COMMENT ':<blob>:',
  user varchar(255) NOT NULL DEFAULT '' COMMENT ':varchar(255):',
  host varchar(255) NOT NULL DEFAULT '' COMMENT ':varchar(255):',
  pid int unsigned NOT NULL DEFAULT 0 COMMENT ':uint32:',
  connection_id bigint unsigned NOT NULL DEFAULT 0 COMMENT ':uint64:',
  version varchar(255) NOT NULL DEFAULT '' COMMENT ':varchar(255):',
  PRIMARY KEY (${heading.primaryKey.map((k) => d.quoteId(k)).join(',')})
) ENGINE=InnoDB COMMENT='jobs of ${this.#owner.tableName}'`);
      })().catch((err) => {
        this.#declared = null;
        throw err;
      });
    }
    return this.#declared;
  }

  /** The jobs table as a query expression. */
  table(): FreeTable {
    return FreeTable.create(this.conn, this.#owner.database, this.tableName);
  }
  private byStatus(status: string): FreeTable {
    return this.table().restrict({ status });
  }
  get pending(): FreeTable {
    return this.byStatus('pending');
  }
  get reserved(): FreeTable {
    return this.byStatus('reserved');
  }
  get errors(): FreeTable {
    return this.byStatus('error');
  }
  get ignored(): FreeTable {
    return this.byStatus('ignore');
  }
  get completed(): FreeTable {
    return this.byStatus('success');
  }

  #heading: Heading | null = null;
  /** WHERE text selecting one job by key (values encoded like the table's own). */
  private keyWhere(key: Row): string {
    return keysCondition(this.conn, this.#heading!, [key]);
  }

  /** Sync the queue with the key source: add pending jobs, drop stale ones, recover orphans. */
  async refresh(opts: RefreshOptions = {}): Promise<RefreshResult> {
    await this.declare();
    const conn = this.conn;
    const d = conn.dialect;
    const priority = opts.priority ?? Number(config.get('jobs.default_priority') ?? 5);
    if (!Number.isInteger(priority) || priority < 0 || priority > 255) throw new DataJointError('priority must be an integer in 0..255');
    const delay = opts.delay ?? 0;
    const ks = await this.#owner.keySourceExpression(opts.restrict);
    const todo = ks.minus(this.#owner.selfExpression(), { semanticCheck: false });
    const pk = this.#pk.map((k) => d.quoteId(k)).join(',');
    // INSERT … SELECT of the missing keys that have no job yet, done by the server.
    const todoSql = await todo.sql(this.#pk);
    const added = (
      await conn.execute(
        `INSERT IGNORE INTO ${this.fullTableName} (${pk}, status, priority, created_time, scheduled_time)
         SELECT ${pk}, 'pending', ${priority}, NOW(6), NOW(6) + INTERVAL ${Number(delay)} SECOND FROM (${todoSql}) AS \`$todo\``,
      )
    ).affectedRows;
    // Stale: pending (or error) jobs whose key is no longer to be computed.
    const staleTimeout = opts.staleTimeout ?? Number(config.get('jobs.stale_timeout') ?? 3600);
    const allTodo = await (await this.#owner.keySourceExpression()).minus(this.#owner.selfExpression(), { semanticCheck: false }).sql(this.#pk);
    const removed = (
      await conn.execute(
        `DELETE FROM ${this.fullTableName} WHERE status IN ('pending','error') AND created_time < NOW(6) - INTERVAL ${Number(staleTimeout)} SECOND
           AND (${pk}) NOT IN (SELECT * FROM (${allTodo}) AS \`$st\`)`,
      )
    ).affectedRows;
    let orphaned = 0;
    if (opts.orphanTimeout !== undefined) {
      orphaned = (
        await conn.execute(
          `UPDATE ${this.fullTableName} SET status='pending', reserved_time=NULL, host='', pid=0, connection_id=0
            WHERE status='reserved' AND reserved_time < NOW(6) - INTERVAL ${Number(opts.orphanTimeout)} SECOND`,
        )
      ).affectedRows;
    }
    // Success records whose rows were deleted since: compute them again.
    const selfSql = await this.#owner.selfExpression().sql(this.#pk);
    const resubmitted = (
      await conn.execute(
        `UPDATE ${this.fullTableName} SET status='pending', scheduled_time=NOW(6), completed_time=NULL
          WHERE status='success' AND (${pk}) NOT IN (SELECT * FROM (${selfSql}) AS \`$self\`)`,
      )
    ).affectedRows;
    return { added, removed, orphaned, resubmitted };
  }

  /** Keys of pending jobs that are due, most urgent first. */
  async pendingKeys(opts: { priority?: number; limit?: number; restrict?: unknown } = {}): Promise<Row[]> {
    await this.declare();
    let q = this.table().restrict({ status: 'pending' }).restrict('scheduled_time <= NOW(6)');
    if (opts.priority !== undefined) q = q.restrict(`priority <= ${Number(opts.priority)}`);
    if (opts.restrict !== undefined) q = q.restrict(await this.#owner.keySourceExpression(opts.restrict), { semanticCheck: false });
    return q.keys({ orderBy: ['priority', 'scheduled_time'], ...(opts.limit !== undefined ? { limit: opts.limit } : {}) });
  }

  /** Atomically take a pending job; false when another worker has it (or it is not due). */
  async reserve(key: Row, connectionId: number): Promise<boolean> {
    await this.declare();
    const r = await this.conn.execute(
      `UPDATE ${this.fullTableName} SET status='reserved', reserved_time=NOW(6), user=CURRENT_USER(), host=?, pid=?, connection_id=?, version=?
        WHERE ${this.keyWhere(key)} AND status='pending' AND scheduled_time <= NOW(6)`,
      [hostname(), process.pid, connectionId, jobVersion()],
    );
    return r.affectedRows === 1;
  }

  /**
   * Reserve several pending jobs at once (one UPDATE, one SELECT); returns the keys this
   * process got, in the given order. Others may have taken some meanwhile.
   */
  async reserveMany(keys: Row[], connectionId: number): Promise<Row[]> {
    if (keys.length === 1) return (await this.reserve(keys[0]!, connectionId)) ? keys : [];
    if (!keys.length) return [];
    await this.declare();
    const d = this.conn.dialect;
    const pkCols = this.#pk.map((k) => d.quoteId(k)).join(',');
    const id = (r: Row) => JSON.stringify(this.#pk.map((k) => String(r[k])));
    // A non-locking read first: update only rows still pending, never rows another worker holds
    // (its group commit may be completing them), so two workers cannot deadlock here.
    const open = await this.conn.query(
      `SELECT ${pkCols} FROM ${this.fullTableName} WHERE ${keysCondition(this.conn, this.#heading!, keys)} AND status='pending' AND scheduled_time <= NOW(6)`,
    );
    if (!open.length) return [];
    const openIds = new Set(open.map(id));
    const candidates = keys.filter((k) => openIds.has(id(k)));
    const where = keysCondition(this.conn, this.#heading!, candidates);
    const host = hostname();
    for (let attempt = 0; ; attempt++) {
      try {
        await this.conn.execute(
          `UPDATE ${this.fullTableName} SET status='reserved', reserved_time=NOW(6), user=CURRENT_USER(), host=?, pid=?, connection_id=?, version=?
            WHERE ${where} AND status='pending' AND scheduled_time <= NOW(6)`,
          [host, process.pid, connectionId, jobVersion()],
        );
        break;
      } catch (err) {
        // Chosen as a deadlock victim: the statement was rolled back whole, so retry it.
        if (attempt < 5 && this.conn.adapter.isDeadlock(err)) {
          await new Promise((r) => setTimeout(r, 5 + Math.random() * 20 * (attempt + 1)));
          continue;
        }
        throw err;
      }
    }
    const rows = await this.conn.query(
      `SELECT ${pkCols} FROM ${this.fullTableName} WHERE ${where} AND status='reserved' AND host=? AND pid=? AND connection_id=?`,
      [host, process.pid, connectionId],
    );
    const mine = new Set(rows.map(id));
    return candidates.filter((k) => mine.has(id(k)));
  }

  /** Mark a reserved job done: kept as success or deleted (jobs.keep_completed). */
  async complete(key: Row, durationSec: number): Promise<void> {
    await this.declare();
    if (config.get('jobs.keep_completed')) {
      await this.conn.execute(`UPDATE ${this.fullTableName} SET status='success', completed_time=NOW(6), duration=?, error_message='', error_stack=NULL WHERE ${this.keyWhere(key)}`, [durationSec]);
    } else {
      await this.conn.execute(`DELETE FROM ${this.fullTableName} WHERE ${this.keyWhere(key)}`);
    }
  }

  /** Put reserved jobs back to pending (their work was rolled back before it committed). */
  async release(keys: Row[]): Promise<void> {
    if (!keys.length) return;
    await this.declare();
    await this.conn.execute(
      `UPDATE ${this.fullTableName} SET status='pending', reserved_time=NULL WHERE status='reserved' AND ${keysCondition(this.conn, this.#heading!, keys)}`,
    );
  }

  /** Record a failure (inserting the job row if it did not exist, as in direct mode). */
  async error(key: Row, err: unknown, durationSec: number, connectionId: number): Promise<void> {
    await this.declare();
    const e = err instanceof Error ? err : new Error(String(err));
    const message = `${e.name}: ${e.message}`.slice(0, MAX_ERROR_MESSAGE);
    const stack = pack(String(e.stack ?? message));
    const version = jobVersion();
    // An UPDATE by primary key locks only this job's row (an INSERT … ON DUPLICATE KEY UPDATE
    // would take gap locks that a concurrent group commit may hold); insert only when missing.
    const updated = await this.conn.execute(
      `UPDATE ${this.fullTableName} SET status='error', completed_time=NOW(6), duration=?, error_message=?, error_stack=?, host=?, pid=?, connection_id=?, version=?
        WHERE ${this.keyWhere(key)}`,
      [durationSec, message, stack, hostname(), process.pid, connectionId, version],
    );
    if (updated.affectedRows > 0) return;
    const d = this.conn.dialect;
    const cols = this.#pk.map((k) => d.quoteId(k));
    const vals = this.#pk.map((k) => d.literal(encodeScalar(this.#heading!.get(k)!, key[k])));
    await this.conn.execute(
      `INSERT INTO ${this.fullTableName} (${cols.join(',')}, status, reserved_time, completed_time, duration, error_message, error_stack, user, host, pid, connection_id, version)
       VALUES (${vals.join(',')}, 'error', NOW(6), NOW(6), ?, ?, ?, CURRENT_USER(), ?, ?, ?, ?)`,
      [durationSec, message, stack, hostname(), process.pid, connectionId, version],
    );
  }

  /** Mark a key to be skipped by populate. */
  async ignore(key: Row): Promise<void> {
    await this.declare();
    const d = this.conn.dialect;
    const heading = await this.#owner.tableHeading();
    for (const k of this.#pk) if (!(k in key)) throw new DataJointError(`ignore: the key must include \`${k}\``);
    const cols = this.#pk.map((k) => d.quoteId(k));
    const cond = keysCondition(this.conn, heading, [key]);
    const exists = await this.conn.query(`SELECT 1 FROM ${this.fullTableName} WHERE ${cond}`);
    if (exists.length) await this.conn.execute(`UPDATE ${this.fullTableName} SET status='ignore' WHERE ${cond}`);
    else {
        const vals = this.#pk.map((k) => d.literal(encodeScalar(heading.get(k)!, key[k])));
      await this.conn.execute(`INSERT INTO ${this.fullTableName} (${cols.join(',')}, status) VALUES (${vals.join(',')}, 'ignore')`);
    }
  }

  async progress(): Promise<JobsProgress> {
    await this.declare();
    const rows = await this.conn.query(`SELECT status, COUNT(*) AS n FROM ${this.fullTableName} GROUP BY status`);
    const out: JobsProgress = { pending: 0, reserved: 0, success: 0, error: 0, ignore: 0, total: 0 };
    for (const r of rows) {
      out[String(r.status) as keyof JobsProgress] = Number(r.n);
      out.total += Number(r.n);
    }
    return out;
  }

  /** Drop the jobs table (e.g. when the table is dropped). */
  async drop(): Promise<void> {
    await this.conn.execute(`DROP TABLE IF EXISTS ${this.fullTableName}`);
    this.#declared = null;
  }
}
