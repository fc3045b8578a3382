/**
 * One PostgreSQL cluster on disk and its postmaster: initdb, start (pg_ctl, detached, on a free
 * TCP port of 127.0.0.1), fast shutdown, and recovery of a lost superuser password. Callers hold
 * the directory's lock. Failures carry the tail of the tool output or of the server log.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { appendFile, chown, mkdir, readFile, rename, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { BackendUnavailableError } from '../../errors.js';
import type { PgBinaries } from './binaries.js';
import { fileTail, isPostmasterOf, outputTail, pidExists, processAlive, runTool, type RunAs } from './processes.js';

export const SUPERUSER = 'datajoint';
export const DATABASE = 'postgres';
const LOG_ROTATE_BYTES = 10 * 1024 * 1024;

export interface Cluster {
  pgdata: string;
  /** Server log (pg_ctl -l); lives next to pgdata. */
  log: string;
  bins: PgBinaries;
  runAs: RunAs | null;
}

/** The first line of our settings in postgresql.conf: its presence marks a finished init. */
const SETTINGS_MARK = '# --- DataJoint embedded server ---';
/** Settings written once into postgresql.conf; the port is given at each start instead. */
const SETTINGS = `
${SETTINGS_MARK}
listen_addresses = '127.0.0.1'
# TCP only: no socket files in /tmp to collide with other servers.
unix_socket_directories = ''
# Pools of several processes and worker threads share this server.
max_connections = 200
`;

/**
 * Whether `pgdata` holds a cluster initCluster finished: initdb writes PG_VERSION early, so a
 * first start killed during initdb left one that no server can run (and no password can be
 * set on); our settings go in last. Such leftovers hold no data and are made again.
 */
export function isInitialized(pgdata: string): boolean {
  if (!existsSync(join(pgdata, 'PG_VERSION'))) return false;
  try {
    return readFileSync(join(pgdata, 'postgresql.conf'), 'utf8').includes(SETTINGS_MARK);
  } catch {
    return false;
  }
}

async function giveTo(path: string, runAs: RunAs | null): Promise<void> {
  if (runAs) await chown(path, runAs.uid, runAs.gid);
}

/** A file only the server account can read, removed afterwards. */
async function withSecretFile<T>(path: string, content: string, runAs: RunAs | null, fn: () => Promise<T>): Promise<T> {
  await writeFile(path, content, { mode: 0o600 });
  try {
    await giveTo(path, runAs);
    return await fn();
  } finally {
    await unlink(path).catch(() => undefined);
  }
}

/** Run initdb: UTF8, builtin C.UTF-8 collation (no OS locale needed), scram-sha-256 everywhere. */
export async function initCluster(c: Cluster, password: string): Promise<void> {
  if (existsSync(c.pgdata)) await rm(c.pgdata, { recursive: true, force: true }); // a failed init's leftovers
  const parent = join(c.pgdata, '..');
  // Password files of inits killed before they could remove them (the caller holds the lock: no
  // other init of this directory is running).
  for (const f of readdirSync(parent)) if (f.startsWith('.pwfile-')) await unlink(join(parent, f)).catch(() => undefined);
  await mkdir(c.pgdata, { recursive: true, mode: 0o700 });
  await giveTo(c.pgdata, c.runAs);
  const pwfile = join(parent, `.pwfile-${process.pid}`);
  const out = await withSecretFile(pwfile, `${password}\n`, c.runAs, () =>
    runTool(
      c.bins.initdb,
      ['-D', c.pgdata, '-U', SUPERUSER, `--pwfile=${pwfile}`, '-E', 'UTF8', '--locale=C', '--locale-provider=builtin', '--builtin-locale=C.UTF-8', '--auth-local=scram-sha-256', '--auth-host=scram-sha-256', '--no-instructions'],
      { runAs: c.runAs, timeoutMs: 300_000 },
    ),
  );
  if (out.code !== 0) {
    throw new BackendUnavailableError(`initdb could not create the embedded PostgreSQL cluster in ${c.pgdata} (exit ${out.code ?? out.signal}):\n${outputTail(out)}`);
  }
  await appendFile(join(c.pgdata, 'postgresql.conf'), SETTINGS);
}

export interface PostmasterPid {
  pid: number;
  port: number;
  startedAt: Date;
}

/** pid, start time and port from postmaster.pid (lines 1, 3 and 4), or null. */
export async function readPostmasterPid(pgdata: string): Promise<PostmasterPid | null> {
  const text = await readFile(join(pgdata, 'postmaster.pid'), 'utf8').catch(() => null);
  if (!text) return null;
  const [pid, , started, port] = text.split('\n').map((l) => Number.parseInt(l, 10));
  if (!Number.isInteger(pid) || !Number.isInteger(port)) return null;
  return { pid: pid!, port: port!, startedAt: Number.isInteger(started) ? new Date(started! * 1000) : new Date() };
}

function listenable(port: number): Promise<number | null> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(null));
    srv.listen({ port, host: '127.0.0.1', exclusive: true }, () => {
      const addr = srv.address();
      srv.close(() => resolve(typeof addr === 'object' && addr ? addr.port : null));
    });
  });
}

/** `preferred` if it is free, else a port the OS picks. */
export async function freePort(preferred?: number): Promise<number> {
  const port = (preferred && (await listenable(preferred))) || (await listenable(0));
  if (!port) throw new BackendUnavailableError('No free TCP port on 127.0.0.1 for the embedded PostgreSQL server.');
  return port;
}

/**
 * Start the postmaster detached (it outlives us) and wait until it accepts connections.
 * A postmaster already serving pgdata is adopted (`adopted: true`).
 */
export async function startCluster(c: Cluster, preferredPort: number | undefined, deadline: number): Promise<PostmasterPid & { adopted: boolean }> {
  const old = await readPostmasterPid(c.pgdata);
  if (old && isPostmasterOf(old.pid, c.pgdata)) return { ...old, adopted: true };
  // A vanished pid PostgreSQL handles itself (checking that no orphaned backend still uses the old
  // shared memory). It refuses to start while the pid exists: an unrelated process after a reboot,
  // or the old postmaster as an unreaped zombie (its backends died with it: PR_SET_PDEATHSIG).
  if (old && pidExists(old.pid)) await unlink(join(c.pgdata, 'postmaster.pid'));
  const logSize = (await stat(c.log).catch(() => null))?.size ?? 0;
  if (logSize > LOG_ROTATE_BYTES) await rename(c.log, `${c.log}.old`);
  if (!existsSync(c.log)) await writeFile(c.log, '', { mode: 0o600 });
  await giveTo(c.log, c.runAs);

  let port = await freePort(preferredPort);
  for (let attempt = 1; ; attempt++) {
    const waitS = Math.max(5, Math.ceil((deadline - Date.now()) / 1000));
    const out = await runTool(c.bins.pgCtl, ['start', '-D', c.pgdata, '-l', c.log, '-w', '-t', String(waitS), '-s', '-o', `-p ${port}`], {
      runAs: c.runAs,
      timeoutMs: (waitS + 10) * 1000,
      detached: true,
    });
    const started = await readPostmasterPid(c.pgdata);
    if (out.code === 0 && started) return { ...started, adopted: false };
    const tail = await fileTail(c.log);
    // Another program took the port between our probe and the bind: try another one.
    if (/could not bind|Address already in use/i.test(tail) && attempt < 3) {
      port = await freePort();
      continue;
    }
    throw new BackendUnavailableError(
      `pg_ctl could not start the embedded PostgreSQL server for ${c.pgdata} (exit ${out.code ?? out.signal}): ${outputTail(out, 5)}\n` +
        `--- server log ${c.log} (tail) ---\n${tail}`,
    );
  }
}

/** Fast shutdown (SIGINT: roll back open transactions, then exit); immediate after timeoutMs. */
export async function stopPostmaster(pid: number, pgdata: string, timeoutMs = 30_000): Promise<void> {
  const gone = () => !processAlive(pid);
  const waitUntilGone = async (ms: number) => {
    for (const end = Date.now() + ms; Date.now() < end; ) {
      if (gone()) return true;
      await sleep(20);
    }
    return gone();
  };
  const signal = (sig: NodeJS.Signals) => {
    try {
      process.kill(pid, sig);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err; // ESRCH: it just exited
    }
  };
  signal('SIGINT');
  if (await waitUntilGone(timeoutMs)) return;
  signal('SIGQUIT');
  if (!(await waitUntilGone(10_000))) throw new BackendUnavailableError(`The embedded PostgreSQL server (pid ${pid}, ${pgdata}) did not stop.`);
}

/**
 * Give the superuser a new password with the server stopped (single-user mode), for a cluster
 * whose info file was lost: the data stays usable without knowing the old password.
 */
export async function resetPassword(c: Cluster, password: string): Promise<void> {
  const out = await runTool(c.bins.postgres, ['--single', '-D', c.pgdata, DATABASE], {
    runAs: c.runAs,
    timeoutMs: 120_000,
    input: `ALTER ROLE "${SUPERUSER}" WITH PASSWORD '${password}';\n`,
  });
  if (out.code !== 0 || /ERROR|FATAL/.test(out.stderr)) {
    throw new BackendUnavailableError(`Could not reset the password of the embedded PostgreSQL server in ${c.pgdata}:\n${outputTail(out)}`);
  }
}
