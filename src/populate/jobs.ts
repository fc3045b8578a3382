/**
 * Jobs 2.0 (spec: autopopulate §9–12): the queue of an auto-populated table in its `~~name`
 * jobs table (a table of its own, declared on first use: jobs-table.ts). Reservation is one
 * atomic conditional UPDATE checked by affected rows. Every column is written explicitly, so
 * tables declared by DataJoint Python (whose `priority` has no default) work too. Statements are retried only where that is safe
 * (retry.ts); a reservation whose reply was lost finds out with a read whether it took.
 */
import { hostname } from 'node:os';
import { DataJointError, LostConnectionError, toError } from '../errors.js';
import { config } from '../config.js';
import { pack } from '../blob/index.js';
import { Bindings } from '../adapters/bind.js';
import type { Row } from '../fetch/fetch.js';
import { encodeScalar } from '../fetch/convert.js';
import { jobVersion } from './version.js';
import { idempotent, retryOnDeadlock } from '../connection/retry.js';
import { JobsTable, MAX_ERROR_MESSAGE, type JobsProgress, type RefreshOptions, type RefreshResult } from './jobs-table.js';
import { releaseLater, releaseRemembered } from './outage.js';
import { checkOptions } from './options.js';
import type { QueryExpression } from '../expression/expression.js';

export { JobsTable, MAX_ERROR_MESSAGE, type JobsOwner, type JobsProgress, type RefreshOptions, type RefreshResult } from './jobs-table.js';

const TRUNCATION = '...truncated';

const REFRESH_OPTION_NAMES = Object.keys({ restrict: true, priority: true, delay: true, staleTimeout: true, orphanTimeout: true } satisfies Record<keyof RefreshOptions, true>);
/** Runs of a reservation UPDATE after it lost its connection, before the loss is reported. */
const RESERVE_TRIES = 3;

/**
 * The jobs table of an auto-populated table (`Analysis.jobs`): a table as any other (JobsTable),
 * and the queue's operations (refresh, reserve, complete, error, ignore, progress…).
 */
export class Jobs extends JobsTable {
  /**
   * Sync the queue with the key source: add pending jobs, drop stale ones, recover orphans.
   * Each change is found by a plain (non-locking) read first and then written by key, so a
   * refresh locks only the job rows it changes, and one that changes nothing writes nothing.
   * On MariaDB a single statement such as `DELETE … WHERE … NOT IN (SELECT …)` locks every row
   * it scans: each idle worker's refresh then fought the other workers' group commits for their
   * job rows, and a deadlock victim's group of makes had to be redone. (PostgreSQL's reads
   * never lock: there new jobs go in with one INSERT … SELECT.)
   */
  async refresh(opts: RefreshOptions = {}): Promise<RefreshResult> {
    checkOptions(opts, REFRESH_OPTION_NAMES, 'jobs.refresh');
    await this.ensureDeclared();
    const d = this.conn.dialect;
    const priority = opts.priority ?? Number(config.get('jobs.default_priority'));
    if (!Number.isInteger(priority) || priority < -128 || priority > 127) throw new DataJointError('priority must be an integer in -128..127 (lower is more urgent)');
    const delay = Number(opts.delay ?? 0);
    const self = this.owner.selfExpression();
    const noCheck = { semanticCheck: false };
    // Missing keys that have no job yet.
    const todo = (await this.owner.keySourceExpression(opts.restrict)).minus(self, noCheck).minus(this.table(), noCheck);
    const pending = `'pending', ${priority}, ${this.now}, ${d.addSeconds(this.now, delay)}, '', '', 0, 0, ''`;
    const added = d.capabilities.lockingReadsInWrites ? await this.addPending(await todo.keys(), pending) : await this.addPendingFrom(todo, pending);
    // Stale: pending (or error) jobs whose key is no longer to be computed.
    const staleTimeout = Number(opts.staleTimeout ?? config.get('jobs.stale_timeout'));
    let removed = 0;
    if (staleTimeout > 0) {
      const old = `status IN ('pending','error') AND created_time < ${d.addSeconds(this.now, -staleTimeout)}`;
      const allTodo = (await this.owner.keySourceExpression()).minus(self, noCheck);
      removed = await this.changeByKey(this.table().restrict(old).minus(allTodo, noCheck), (where) => `DELETE FROM ${this.fullTableName} WHERE ${where} AND ${old}`);
    }
    // Orphans: reservations older than the timeout, whose workers are presumed dead. As in
    // DataJoint Python, 0 (like absent) recovers none: it must never take jobs from live workers.
    let orphaned = 0;
    const orphanTimeout = Number(opts.orphanTimeout ?? 0);
    if (orphanTimeout > 0) {
      const old = `status='reserved' AND reserved_time < ${d.addSeconds(this.now, -orphanTimeout)}`;
      orphaned = await this.changeByKey(
        this.table().restrict(old),
        (where) => `UPDATE ${this.fullTableName} SET status='pending', reserved_time=NULL, host='', pid=0, connection_id=0 WHERE ${where} AND ${old}`,
      );
    }
    // Success records whose rows were deleted since: compute them again.
    const rePended = await this.changeByKey(
      this.table().restrict({ status: 'success' }).minus(self.proj(), noCheck),
      (where) => `UPDATE ${this.fullTableName} SET status='pending', scheduled_time=${this.now}, completed_time=NULL WHERE ${where} AND status='success'`,
    );
    return { added, removed, orphaned, rePended };
  }

  /**
   * Run `statement` on the jobs `found` selects (read without locks), in slices; its own
   * condition is checked again there, as the rows may have changed since the read. Each
   * statement runs on its own (autocommit): a deadlock rolls back only that statement, which is
   * then safe to run again. Returns the rows changed.
   */
  private async changeByKey(found: QueryExpression, statement: (where: string) => string): Promise<number> {
    const keys = await found.keys();
    let n = 0;
    for (let i = 0; i < keys.length; i += this.sliceRows) {
      const where = this.keyWhere(keys.slice(i, i + this.sliceRows));
      n += (await retryOnDeadlock(() => this.conn.execute(statement(where)))).affectedRows;
    }
    return n;
  }

  /**
   * Insert pending jobs (`values` after the key) for `keys`, read without locks; a job another
   * worker added meanwhile is skipped. Returns the jobs added.
   */
  private async addPending(keys: Row[], values: string): Promise<number> {
    const d = this.conn.dialect;
    const heading = this._queue.heading!;
    const { head, tail } = d.insert(this.fullTableName, this.pendingColumns, 'skip', this.pk);
    let n = 0;
    for (let i = 0; i < keys.length; i += this.sliceRows) {
      const b = new Bindings(d);
      const rows = keys.slice(i, i + this.sliceRows).map((key) => `(${this.pk.map((k) => b.add(encodeScalar(heading.get(k)!, key[k]), heading.get(k)!.kind)).join(',')}, ${values})`);
      const r = await retryOnDeadlock(() => this.conn.execute(head + rows.join(',') + tail, b.values));
      // MySQL counts a skipped duplicate as an affected row; its Records less Duplicates do not.
      n += r.written ? r.written.records - r.written.duplicates : r.affectedRows;
    }
    return n;
  }

  /**
   * The same as one INSERT … SELECT of `todo`, where the server's reads lock nothing (about 5×
   * faster on PostgreSQL than keys sent back, whose rows each repeat the time expressions).
   */
  private async addPendingFrom(todo: QueryExpression, values: string): Promise<number> {
    const d = this.conn.dialect;
    const { head, tail } = d.insert(this.fullTableName, this.pendingColumns, 'skip', this.pk);
    const pk = this.pk.map((k) => this.col(k)).join(',');
    const sql = `${head.replace(/ VALUES $/, ' ')}SELECT ${pk}, ${values} FROM (${await todo.sql(this.pk)})${d.derivedAlias('$todo')}${tail}`;
    return (await retryOnDeadlock(() => this.conn.execute(sql))).affectedRows;
  }

  private get pendingColumns(): string[] {
    return [...this.pk, 'status', 'priority', 'created_time', 'scheduled_time', 'user', 'host', 'pid', 'connection_id', 'version'];
  }

  /** Keys per statement of a refresh: well under every server's limit on bound parameters. */
  private get sliceRows(): number {
    return Math.max(1, Math.min(1000, Math.floor(20_000 / Math.max(1, this.pk.length))));
  }

  /** Whether `key` is in the key source (still to be computed, or computed). */
  async inKeySource(key: Row): Promise<boolean> {
    const ks = await this.owner.keySourceExpression();
    return (await ks.restrict(Object.fromEntries(this.pk.map((k) => [k, key[k]]))).count()) > 0;
  }

  /** Keys of pending jobs that are due and in the key source, most urgent first. */
  async pendingKeys(opts: { priority?: number; limit?: number; restrict?: unknown } = {}): Promise<Row[]> {
    await this.ensureDeclared();
    let q = this.table().restrict({ status: 'pending' }).restrict(`scheduled_time <= ${this.now}`);
    if (opts.priority !== undefined) q = q.restrict(`priority <= ${Number(opts.priority)}`);
    // Jobs whose key left the key source (its upstream rows were deleted) are not dealt: their
    // makes would fail. They wait for the rows to come back, or for a refresh to remove them.
    q = q.restrict(await this.owner.keySourceExpression(opts.restrict), { semanticCheck: false });
    return q.keys({ orderBy: ['priority', 'scheduled_time'], ...(opts.limit !== undefined ? { limit: opts.limit } : {}) });
  }

  /** `SET status='reserved', …` of a reservation, with its bound values. */
  private reservation(b: Bindings, connectionId: number): string {
    const d = this.conn.dialect;
    return `status='reserved', reserved_time=${this.now}, ${this.col('user')}=${d.currentUser}, host=${b.add(hostname())}, pid=${b.add(process.pid)}, connection_id=${b.add(connectionId)}, version=${b.add(jobVersion())}`;
  }

  /**
   * Atomically take a pending job; false when another worker has it (or it is not due). When
   * the connection is lost before the reply, the UPDATE may or may not have run: a read (safe to
   * retry) tells whether this worker holds the job, so it is never left reserved and unmade.
   */
  async reserve(key: Row, connectionId: number): Promise<boolean> {
    await this.ensureDeclared();
    try {
      const r = await retryOnDeadlock(() => this.reserveWhere(this.keyWhere([key]), connectionId));
      return r.affectedRows === 1;
    } catch (err) {
      if (!(err instanceof LostConnectionError)) throw err;
      return (await this.takeAfterLoss([key], this.keyWhere([key]), connectionId)).length === 1;
    }
  }

  /**
   * After a reservation UPDATE lost its connection: it ran or it did not. Run once more, which
   * takes what is still pending and leaves what the first one took (reserved now) alone, then
   * read which this worker holds. Without the second run a job whose UPDATE never reached the
   * server stayed pending and its key counted as taken by another worker: a skip, made by no one.
   */
  private async takeAfterLoss(keys: Row[], where: string, connectionId: number): Promise<Row[]> {
    // A connection that keeps dying is an error to report, not keys to skip.
    for (let tries = 1; ; tries++) {
      try {
        await retryOnDeadlock(() => this.reserveWhere(where, connectionId));
        break;
      } catch (err) {
        if (!(err instanceof LostConnectionError) || tries >= RESERVE_TRIES) throw err;
      }
    }
    return this.heldBy(keys, connectionId);
  }

  /** The reservation UPDATE of the pending, due jobs selected by `where` (bindings made afresh for each try). */
  private reserveWhere(where: string, connectionId: number) {
    const b = new Bindings(this.conn.dialect);
    return this.conn.execute(`UPDATE ${this.fullTableName} SET ${this.reservation(b, connectionId)} WHERE ${where} AND status='pending' AND scheduled_time <= ${this.now}`, b.values);
  }

  /** The keys of `keys` whose jobs this worker (host, pid, connection id) holds reserved. */
  private async heldBy(keys: Row[], connectionId: number): Promise<Row[]> {
    const pkCols = this.pk.map((k) => this.col(k)).join(',');
    const id = this.identity;
    const b = new Bindings(this.conn.dialect);
    const rows = await this.conn.query(
      `SELECT ${pkCols} FROM ${this.fullTableName} WHERE ${this.keyWhere(keys)} AND status='reserved' AND ${this.byThisProcess(b)} AND connection_id=${b.add(connectionId)}`,
      b.values,
    );
    const mine = new Set(rows.map(id.ofRaw));
    return keys.filter((k) => mine.has(id.ofKey(k)));
  }

  /**
   * Reserve several pending jobs at once (one UPDATE, one SELECT); returns the keys this
   * process got, in the given order. Others may have taken some meanwhile.
   */
  async reserveMany(keys: Row[], connectionId: number): Promise<Row[]> {
    if (keys.length === 1) return (await this.reserve(keys[0]!, connectionId)) ? keys : [];
    if (!keys.length) return [];
    await this.ensureDeclared();
    const pkCols = this.pk.map((k) => this.col(k)).join(',');
    const id = this.identity;
    // A non-locking read first: update only rows still pending, never rows another worker holds
    // (its group commit may be completing them), so two workers cannot deadlock here.
    const open = await this.conn.query(`SELECT ${pkCols} FROM ${this.fullTableName} WHERE ${this.keyWhere(keys)} AND status='pending' AND scheduled_time <= ${this.now}`);
    if (!open.length) return [];
    const openIds = new Set(open.map(id.ofRaw));
    const candidates = keys.filter((k) => openIds.has(id.ofKey(k)));
    const where = this.keyWhere(candidates);
    try {
      // A deadlock victim's statement was rolled back whole: retried.
      await retryOnDeadlock(() => this.reserveWhere(where, connectionId));
    } catch (err) {
      if (!(err instanceof LostConnectionError)) throw err;
      return this.takeAfterLoss(candidates, where, connectionId);
    }
    return this.heldBy(candidates, connectionId);
  }

  /**
   * Run an idempotent change: once more after a lost connection, unless inside a transaction
   * (whose work is gone with its connection: the caller redoes the whole transaction).
   */
  private change(fn: () => Promise<void>): Promise<void> {
    return this.conn.inTransaction ? fn() : idempotent(fn);
  }

  /** Mark a reserved job done: kept as success or deleted (jobs.keep_completed). */
  async complete(key: Row, durationSec: number): Promise<void> {
    await this.ensureDeclared();
    return this.change(() => this.writeCompletion(key, durationSec));
  }
  private async writeCompletion(key: Row, durationSec: number): Promise<void> {
    if (config.get('jobs.keep_completed')) {
      const b = new Bindings(this.conn.dialect);
      await this.conn.execute(
        `UPDATE ${this.fullTableName} SET status='success', completed_time=${this.now}, duration=${b.add(durationSec)}, error_message='', error_stack=NULL WHERE ${this.keyWhere([key])}`,
        b.values,
      );
    } else {
      await this.conn.execute(`DELETE FROM ${this.fullTableName} WHERE ${this.keyWhere([key])}`);
    }
  }

  /**
   * Put reserved jobs back to pending (their work was rolled back before it committed); with
   * `ownOnly`, only those this host and process reserved.
   */
  async release(keys: Row[], { ownOnly = false } = {}): Promise<void> {
    if (!keys.length) return;
    await this.ensureDeclared();
    const b = new Bindings(this.conn.dialect);
    const own = ownOnly ? ` AND ${this.byThisProcess(b)}` : '';
    await idempotent(() => this.conn.execute(`UPDATE ${this.fullTableName} SET status='pending', reserved_time=NULL WHERE status='reserved'${own} AND ${this.keyWhere(keys)}`, b.values));
  }
  /** The condition on jobs this host and process wrote (its values bound to `b`, in text order). */
  private byThisProcess(b: Bindings): string {
    return `host=${b.add(hostname())} AND pid=${b.add(process.pid)}`;
  }
  /** Where this jobs table is (its server and name): outage.ts remembers keys by it. */
  private get where(): string {
    return `${this.conn.options.host}:${this.conn.options.port}/${this.fullTableName}`;
  }
  /** Keys this process reserved but could not release (the database was unreachable), for releaseRemembered. */
  releaseLater(keys: readonly Row[]): void {
    releaseLater(this.where, keys);
  }
  /** Release the jobs releaseLater remembered that this process still holds (a committed key's job is completed). */
  releaseRemembered(): Promise<void> {
    return releaseRemembered(this.where, (keys) => this.release(keys, { ownOnly: true }));
  }

  /** Mark every job still reserved by this process as an error (its workers were stopped). */
  async failReservedByThisProcess(message: string): Promise<number> {
    await this.ensureDeclared();
    const b = new Bindings(this.conn.dialect);
    const sql = `UPDATE ${this.fullTableName} SET status='error', error_message=${b.add(message.slice(0, MAX_ERROR_MESSAGE))}, completed_time=${this.now} WHERE status='reserved' AND ${this.byThisProcess(b)}`;
    return (await idempotent(() => this.conn.execute(sql, b.values))).affectedRows;
  }

  /**
   * Insert a job row with every column given (tables declared by Python have no priority
   * default). `extra` adds columns; it binds its values after the standard ones, so that
   * positional placeholders (MySQL's `?`) follow the order of the text.
   */
  private async insertJob(key: Row, status: string, connectionId: number | undefined, extra: (b: Bindings) => Record<string, string> = () => ({})): Promise<void> {
    const d = this.conn.dialect;
    const heading = this._queue.heading!;
    const b = new Bindings(d);
    const vals = [
      ...this.pk.map((k) => b.add(encodeScalar(heading.get(k)!, key[k]), heading.get(k)!.kind)),
      b.add(status),
      b.add(Number(config.get('jobs.default_priority'))),
      this.now,
      this.now,
      d.currentUser,
      b.add(hostname()),
      b.add(process.pid),
      this.connectionIdSql(b, connectionId),
      b.add(jobVersion()),
    ];
    const set = extra(b);
    vals.push(...Object.values(set));
    const cols = [...this.pk, 'status', 'priority', 'created_time', 'scheduled_time', 'user', 'host', 'pid', 'connection_id', 'version', ...Object.keys(set)];
    await this.conn.execute(`INSERT INTO ${this.fullTableName} (${cols.map((c) => this.col(c)).join(',')}) VALUES (${vals.join(',')})`, b.values);
  }

  /** `connectionId` bound to `b`, or (when not given) the server's id of the session writing. */
  private connectionIdSql(b: Bindings, connectionId: number | undefined): string {
    return connectionId === undefined ? this.conn.dialect.connectionIdExpr : b.add(connectionId);
  }

  /**
   * Record a failure (inserting the job row if it did not exist, as in direct mode). As a whole
   * idempotent: a second run finds the row the first one wrote. `connectionId` is the session
   * that reserved and ran the job; settling a job for a key loop that is gone (a forced exit, a
   * dead worker thread) leaves it out: a job still reserved keeps the id of the session that
   * reserved it, and any other gets the id of the session writing the error (never 0).
   */
  async error(key: Row, err: unknown, durationSec: number, connectionId?: number): Promise<void> {
    await this.ensureDeclared();
    return this.change(() => this.writeError(key, err, durationSec, connectionId));
  }
  private async writeError(key: Row, err: unknown, durationSec: number, connectionId: number | undefined): Promise<void> {
    const e = toError(err);
    let message = `${e.name}: ${e.message}`;
    if (message.length > MAX_ERROR_MESSAGE) message = message.slice(0, MAX_ERROR_MESSAGE - TRUNCATION.length) + TRUNCATION;
    const stack = pack(String(e.stack ?? message));
    // An UPDATE by primary key locks only this job's row (an INSERT … ON DUPLICATE KEY UPDATE
    // would take gap locks that a concurrent group commit may hold); insert only when missing.
    const b = new Bindings(this.conn.dialect);
    // connection_id comes first: MySQL assigns a single-table UPDATE's columns left to right, so
    // a later assignment would see status already 'error' (PostgreSQL sees the old row in all).
    const id = connectionId === undefined ? `CASE WHEN status='reserved' THEN connection_id ELSE ${this.conn.dialect.connectionIdExpr} END` : b.add(connectionId);
    const set = `connection_id=${id}, status='error', completed_time=${this.now}, duration=${b.add(durationSec)}, error_message=${b.add(message)}, error_stack=${b.add(stack, 'bytes')}, host=${b.add(hostname())}, pid=${b.add(process.pid)}, version=${b.add(jobVersion())}`;
    const updated = await this.conn.execute(`UPDATE ${this.fullTableName} SET ${set} WHERE ${this.keyWhere([key])}`, b.values);
    if (updated.affectedRows > 0) return;
    await this.insertJob(key, 'error', connectionId, (ib) => ({
      reserved_time: this.now,
      completed_time: this.now,
      duration: ib.add(durationSec),
      error_message: ib.add(message),
      error_stack: ib.add(stack, 'bytes'),
    }));
  }

  /** Mark a key to be skipped by populate. */
  async ignore(key: Row): Promise<void> {
    await this.ensureDeclared();
    for (const k of this.pk) if (!(k in key)) throw new DataJointError(`ignore: the key must include \`${k}\``);
    const cond = this.keyWhere([key]);
    return this.change(async () => {
      const exists = await this.conn.query(`SELECT 1 FROM ${this.fullTableName} WHERE ${cond}`);
      if (exists.length) await this.conn.execute(`UPDATE ${this.fullTableName} SET status='ignore' WHERE ${cond}`);
      else await this.insertJob(key, 'ignore', undefined);
    });
  }

  async progress(): Promise<JobsProgress> {
    await this.ensureDeclared();
    const rows = await this.conn.query(`SELECT status, COUNT(*) AS n FROM ${this.fullTableName} GROUP BY status`);
    const out: JobsProgress = { pending: 0, reserved: 0, success: 0, error: 0, ignore: 0, total: 0 };
    for (const r of rows) {
      out[String(r.status) as keyof JobsProgress] = Number(r.n);
      out.total += Number(r.n);
    }
    return out;
  }
}
