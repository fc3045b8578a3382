/**
 * The embedded PostgreSQL server's life cycle against real binaries: init and connect, the fast
 * path, one server for racing processes, survival of its starter, stale locks, stale pid files
 * after a "reboot", a lost info file, log tails in errors, running as root, and `dj embedded`.
 */
import { execFile, spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync, chmodSync, unlinkSync, cpSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { BackendUnavailableError } from '../../src/errors.js';
import { embeddedServerStatus, ensureEmbeddedServer, stopEmbeddedServer, type EmbeddedServerInfo } from '../../src/adapters/embedded/server.js';
import { linksComplete, locatePackage, preparedBinaries } from '../../src/adapters/embedded/binaries.js';
import { isRoot, serviceAccount } from '../../src/adapters/embedded/os-user.js';
import { bootId, processAlive } from '../../src/adapters/embedded/processes.js';
import { LOCK_FILE, RECORD_FILE, readRecord, writeRecord } from '../../src/adapters/embedded/record.js';
import { runEmbeddedCommand } from '../../src/cli/embedded.js';

const execFileAsync = promisify(execFile);
const root = join(tmpdir(), `djtest_embedded_${process.pid}`);
const dirA = join(root, 'a');
const dirB = join(root, 'b');
const started = new Set<string>();
const extraCleanup: string[] = [];

async function ensure(dir: string, timeoutMs = 45_000): Promise<EmbeddedServerInfo> {
  started.add(dir);
  return ensureEmbeddedServer({ dir, timeoutMs });
}

async function query(info: EmbeddedServerInfo, sql: string): Promise<Record<string, unknown>[]> {
  const client = new pg.Client({ host: info.host, port: info.port, user: info.user, password: info.password, database: info.database });
  await client.connect();
  try {
    return (await client.query(sql)).rows as Record<string, unknown>[];
  } finally {
    await client.end();
  }
}

/** ensureEmbeddedServer in a child process, which exits after printing the info. */
async function inChild(dir: string): Promise<EmbeddedServerInfo> {
  const { stdout } = await execFileAsync(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'embedded-child.ts'), dir], { timeout: 50_000 });
  return JSON.parse(stdout.trim()) as EmbeddedServerInfo;
}

/** ensureEmbeddedServer in a fresh worker thread (TypeScript loaded through tsx's API). */
function inWorker(dir: string): Promise<EmbeddedServerInfo> {
  const boot = `
    const { workerData, parentPort } = require('node:worker_threads');
    (async () => {
      (await import(workerData.tsx)).register();
      const { ensureEmbeddedServer } = await import(workerData.server);
      parentPort.postMessage(await ensureEmbeddedServer({ dir: workerData.dir, timeoutMs: 45000 }));
    })().catch((e) => parentPort.postMessage({ error: String(e && e.stack || e) }));`;
  // require.resolve finds tsx's CommonJS entry; the thread imports its ESM sibling.
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx/esm/api').replace(/\.cjs$/, '.mjs')).href;
  const server = new URL('../../src/adapters/embedded/server.ts', import.meta.url).href;
  return new Promise((resolve, reject) => {
    const w = new Worker(boot, { eval: true, workerData: { tsx, server, dir } });
    w.once('message', (m: EmbeddedServerInfo | { error: string }) => {
      void w.terminate();
      if ('error' in m) reject(new Error(m.error));
      else resolve(m);
    });
    w.once('error', reject);
  });
}

function deadPid(): number {
  return spawnSync(process.execPath, ['-e', '']).pid!;
}

beforeAll(() => mkdirSync(root, { recursive: true }));

afterAll(async () => {
  // Stop every server before removing its files (a running server recreates some); report failures.
  const failures: unknown[] = [];
  for (const dir of started) await stopEmbeddedServer(dir).catch((e: unknown) => failures.push(e));
  for (const p of [root, ...extraCleanup]) rmSync(p, { recursive: true, force: true, maxRetries: 3 });
  if (failures.length) throw new AggregateError(failures, 'could not stop every embedded server');
});

describe('a fresh directory', () => {
  let first: EmbeddedServerInfo;

  it('is initialized and started on first use; a pg client connects with the info', async () => {
    first = await ensure(dirA);
    expect(first).toMatchObject({ dir: dirA, host: '127.0.0.1', user: 'datajoint', database: 'postgres', startedHere: true });
    expect(first.version).toMatch(/^\d+\.\d+/);
    const [row] = await query(first, "SELECT version() AS v, current_setting('server_encoding') AS enc, current_setting('listen_addresses') AS listen");
    expect(row!.v).toContain(`PostgreSQL ${first.version}`);
    expect(row).toMatchObject({ enc: 'UTF8', listen: '127.0.0.1' });
    const record = join(dirA, RECORD_FILE);
    expect(statSync(record).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(record, 'utf8')).password).toBe(first.password);
  });

  it('refuses a wrong password (scram over TCP, not trust)', async () => {
    await expect(query({ ...first, password: 'wrong' }, 'SELECT 1')).rejects.toThrow(/password authentication failed/);
  });

  it('returns the same server on the next call, without taking the lock', async () => {
    // A live holder of the lock would make any call that needs it wait (and time out here).
    writeFileSync(join(dirA, LOCK_FILE), JSON.stringify({ pid: process.pid, thread: 0, boot: bootId(), nonce: 'held' }));
    try {
      expect(await ensure(dirA, 200)).toEqual({ ...first, startedHere: false });
    } finally {
      unlinkSync(join(dirA, LOCK_FILE));
    }
    const concurrent = await Promise.all([ensure(dirA), ensure(dirA), ensure(dirA)]);
    expect(new Set(concurrent.map((i) => i.pid))).toEqual(new Set([first.pid]));
  });

  it('runs as an unprivileged account when we are root', async () => {
    const owner = statSync(`/proc/${first.pid}`).uid;
    if (isRoot()) expect(owner).toBe((await serviceAccount()).uid);
    else expect(owner).toBe(process.getuid!());
    expect(statSync(join(dirA, 'pgdata')).uid).toBe(owner);
  });

  it('stops; status then says not running; ensure starts it again', async () => {
    expect(await stopEmbeddedServer(dirA)).toBe(true);
    expect(processAlive(first.pid)).toBe(false);
    expect(await embeddedServerStatus(dirA)).toEqual({ running: false, dir: dirA, version: first.version });
    expect(await stopEmbeddedServer(dirA)).toBe(false);
    const again = await ensure(dirA);
    expect(again.startedHere).toBe(true);
    expect(again.password).toBe(first.password);
    expect(again.pid).not.toBe(first.pid);
    expect(await query(again, 'SELECT 1 AS one')).toEqual([{ one: 1 }]);
    const status = await embeddedServerStatus(dirA);
    expect(status).toMatchObject({ running: true, dir: dirA, pid: again.pid, port: again.port, version: again.version });
    expect(status.startedAt).toBeInstanceOf(Date);
  });

  it('after a "reboot" ignores the stale info and postmaster.pid, even when their pid and port are taken', async () => {
    const before = (await readRecord(dirA))!;
    await stopEmbeddedServer(dirA);
    // As after a reboot: the old pid now names an unrelated live process (this one), the old port is taken.
    await writeRecord(dirA, { ...before, boot: 'boot-before-the-reboot' });
    const pidFile = join(before.pgdata, 'postmaster.pid');
    writeFileSync(pidFile, `${process.pid}\n${before.pgdata}\n${Math.floor(Date.now() / 1000)}\n${before.port}\n\n127.0.0.1\n  0 0\nready\n`);
    const squatter: Server = createServer();
    await new Promise<void>((ok) => squatter.listen(before.port, '127.0.0.1', ok));
    try {
      expect((await embeddedServerStatus(dirA)).running).toBe(false);
      const info = await ensure(dirA);
      expect(info.startedHere).toBe(true);
      expect(info.port).not.toBe(before.port);
      expect(await query(info, 'SELECT 2 AS two')).toEqual([{ two: 2 }]);
      expect((await readRecord(dirA))!.boot).toBe(bootId());
    } finally {
      squatter.close();
    }
  });

  it('recovers from a lost info file by setting a new password', async () => {
    const before = (await readRecord(dirA))!;
    unlinkSync(join(dirA, RECORD_FILE)); // the server still runs, with a password nobody knows
    const info = await ensure(dirA);
    expect(info.password).not.toBe(before.password);
    expect(await query(info, 'SELECT 3 AS three')).toEqual([{ three: 3 }]);
  });

  it('`dj embedded` reports, stops and starts it', async () => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => undefined);
    try {
      expect(await runEmbeddedCommand('status', { dir: dirA, json: true })).toBe(0);
      expect(JSON.parse(String(log.mock.calls.at(-1)![0]))).toMatchObject({ running: true, dir: dirA });
      expect(await runEmbeddedCommand('stop', { dir: dirA })).toBe(0);
      expect(String(log.mock.calls.at(-1)![0])).toMatch(/stopped/);
      expect(await runEmbeddedCommand('status', { dir: dirA })).toBe(3);
      expect(String(log.mock.calls.at(-1)![0])).toMatch(/not running/);
      expect(await runEmbeddedCommand('start', { dir: dirA, json: true })).toBe(0);
      const started = JSON.parse(String(log.mock.calls.at(-1)![0]));
      expect(started).toMatchObject({ startedHere: true, user: 'datajoint' });
      expect(started.password).toBeUndefined();
    } finally {
      log.mockRestore();
    }
  });
});

describe('bad input', () => {
  it('refuses a missing directory or a bad timeout', async () => {
    await expect(ensureEmbeddedServer({ dir: '' })).rejects.toThrow(/needs a directory/);
    await expect(ensureEmbeddedServer({ dir: dirA, timeoutMs: -1 })).rejects.toThrow(/timeoutMs/);
  });

  it('reports a directory that cannot be created', async () => {
    const file = join(root, 'a-file');
    writeFileSync(file, '');
    const err = await ensureEmbeddedServer({ dir: join(file, 'sub') }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BackendUnavailableError);
    expect((err as Error).message).toMatch(/Cannot create the embedded server directory/);
  });

  it('stop and status of a directory that does not exist', async () => {
    expect(await stopEmbeddedServer(join(root, 'nowhere'))).toBe(false);
    expect(await embeddedServerStatus(join(root, 'nowhere'))).toEqual({ running: false, dir: join(root, 'nowhere') });
    expect(existsSync(join(root, 'nowhere'))).toBe(false);
  });
});

describe('several processes', () => {
  it('two processes and two worker threads racing on a fresh directory get one server', async () => {
    started.add(dirB);
    // allSettled: should one fail, the others still finish before afterAll stops the server.
    const settled = await Promise.allSettled([inChild(dirB), inChild(dirB), inWorker(dirB), inWorker(dirB)]);
    const infos = settled.map((r) => {
      if (r.status === 'rejected') throw r.reason;
      return r.value;
    });
    expect(new Set(infos.map((i) => i.pid)).size).toBe(1);
    expect(new Set(infos.map((i) => i.port)).size).toBe(1);
    expect(infos.filter((i) => i.startedHere)).toHaveLength(1);
    const mine = await ensure(dirB);
    expect(mine).toMatchObject({ pid: infos[0]!.pid, startedHere: false });
    expect(await query(mine, 'SELECT 4 AS four')).toEqual([{ four: 4 }]);
  });

  it('the server outlives the process that started it', async () => {
    await stopEmbeddedServer(dirA);
    const theirs = await inChild(dirA);
    expect(theirs.startedHere).toBe(true); // and that process has exited
    expect(processAlive(theirs.pid)).toBe(true);
    const mine = await ensure(dirA);
    expect(mine).toMatchObject({ pid: theirs.pid, startedHere: false });
    expect(await query(mine, 'SELECT 6 AS six')).toEqual([{ six: 6 }]);
  });

  it('after a crash (kill -9, stale postmaster.pid) starts again with the committed data', async () => {
    const before = await ensure(dirB);
    await query(before, 'CREATE TABLE crash_test (x int); INSERT INTO crash_test VALUES (42)');
    process.kill(before.pid, 'SIGKILL');
    while (processAlive(before.pid)) await sleep(5);
    expect((await embeddedServerStatus(dirB)).running).toBe(false);
    const after = await ensure(dirB);
    expect(after.startedHere).toBe(true);
    expect(await query(after, 'SELECT x FROM crash_test')).toEqual([{ x: 42 }]);
  });
});

describe('a first start killed during initdb', () => {
  it('leaves a cluster no server can run: the next start makes it again, and removes the stray password file', async () => {
    const dirC = join(root, 'c');
    // What initdb leaves when killed early: PG_VERSION and part of a cluster, no server.json.
    mkdirSync(join(dirC, 'pgdata', 'global'), { recursive: true });
    writeFileSync(join(dirC, 'pgdata', 'PG_VERSION'), '18\n');
    writeFileSync(join(dirC, 'pgdata', 'postgresql.conf'), '# initdb was here\n');
    writeFileSync(join(dirC, '.pwfile-999999'), 'secret\n');
    const info = await ensure(dirC);
    expect(await query(info, 'SELECT 4 AS four')).toEqual([{ four: 4 }]);
    expect(existsSync(join(dirC, '.pwfile-999999'))).toBe(false);
  });
});

describe('locks and failures', () => {
  const lockOf = (pid: number) => JSON.stringify({ pid, thread: 0, boot: bootId(), nonce: 'test' });

  // These reuse dirA (each fresh cluster costs seconds of initdb and cleanup).
  it('waits for a live lock holder and times out naming it', async () => {
    await stopEmbeddedServer(dirA);
    writeFileSync(join(dirA, LOCK_FILE), lockOf(process.pid));
    const err = await ensure(dirA, 300).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BackendUnavailableError);
    expect((err as Error).message).toMatch(new RegExp(`Timed out .*held by process ${process.pid}`));
  });

  it('recovers a stale lock whose owner died', async () => {
    writeFileSync(join(dirA, LOCK_FILE), lockOf(deadPid()));
    const info = await ensure(dirA);
    expect(info.startedHere).toBe(true);
    expect(existsSync(join(dirA, LOCK_FILE))).toBe(false);
  });

  it('a failed start carries the tail of the server log', async () => {
    await stopEmbeddedServer(dirA);
    const conf = join(dirA, 'pgdata', 'postgresql.conf');
    const original = readFileSync(conf, 'utf8');
    appendFileSync(conf, '\nbogus_setting_for_test = 1\n');
    try {
      const err = await ensure(dirA).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(BackendUnavailableError);
      expect((err as Error).message).toMatch(/pg_ctl could not start/);
      expect((err as Error).message).toMatch(/server log .*\n[\s\S]*bogus_setting_for_test/);
    } finally {
      writeFileSync(conf, original);
    }
    expect((await ensure(dirA)).startedHere).toBe(true);
  });
});

describe.runIf(isRoot())('as root', () => {
  it('keeps the cluster out of a directory its account cannot reach (a project under /root)', async () => {
    const privateDir = join(root, 'private');
    mkdirSync(privateDir, { recursive: true });
    chmodSync(privateDir, 0o700);
    const dir = join(privateDir, 'proj', '.datajoint', 'embedded');
    const info = await ensure(dir);
    const rec = (await readRecord(dir))!;
    extraCleanup.push(dirname(rec.pgdata));
    expect(rec.pgdata.startsWith('/var/lib/datajoint/embedded/')).toBe(true);
    expect(statSync(`/proc/${info.pid}`).uid).toBe((await serviceAccount()).uid);
    expect(await query(info, 'SELECT 5 AS five')).toEqual([{ five: 5 }]);
  });

  it('hydrates missing library links, and copies binaries the account cannot reach', async () => {
    const pkg = join(root, 'private', 'pkg');
    cpSync(join(locatePackage(), 'native'), join(pkg, 'native'), { recursive: true, verbatimSymlinks: true });
    cpSync(join(locatePackage(), 'package.json'), join(pkg, 'package.json'));
    // As npm 11 leaves them: the symlinks the postinstall script would have made are missing.
    const links = JSON.parse(readFileSync(join(pkg, 'native', 'pg-symlinks.json'), 'utf8')) as Array<{ target: string }>;
    for (const l of links) rmSync(join(pkg, l.target), { force: true });
    expect(linksComplete(pkg)).toBe(false);

    const mine = await preparedBinaries(null, pkg);
    expect(mine.root).toBe(pkg);
    expect(linksComplete(pkg)).toBe(true);

    const account = await serviceAccount();
    const theirs = await preparedBinaries(account, pkg); // pkg is under a 0700 folder
    extraCleanup.push(theirs.root);
    expect(theirs.root.startsWith('/var/lib/datajoint/embedded-postgres/')).toBe(true);
    expect(linksComplete(theirs.root)).toBe(true);
    expect(theirs.version).toBe(mine.version);
  });
});

describe('a connection when another process stops or moves the server', () => {
  it('follows it: starts it again when stopped, finds its new port when restarted elsewhere, and sends the statement again', async () => {
    const { Connection } = await import('../../src/index.js');
    const dir = join(root, 'follow');
    started.add(dir);
    const c = new Connection({ backend: 'embedded', embeddedDir: dir });
    try {
      expect(await c.query('SELECT 1 AS one')).toEqual([{ one: 1 }]);
      // Stopped from outside (as `dj embedded stop` in a shell): the next statement starts it.
      const first = (await readRecord(dir))!;
      expect(await stopEmbeddedServer(dir)).toBe(true);
      await c.execute('CREATE TABLE follow_test (x int)');
      // Stopped again, and its port taken before another process starts it: it moves.
      expect(await stopEmbeddedServer(dir)).toBe(true);
      // Whatever holds the port now answers nothing a PostgreSQL client expects.
      const blocker = createServer((socket) => socket.destroy());
      await new Promise<void>((ok) => blocker.listen(first.port, '127.0.0.1', ok));
      try {
        const moved = await ensureEmbeddedServer({ dir, timeoutMs: 45_000 });
        expect(moved.port).not.toBe(first.port);
        expect(await c.query('SELECT count(*)::int AS n FROM follow_test')).toEqual([{ n: 0 }]);
        await c.transaction(() => c.execute('INSERT INTO follow_test VALUES (1)'));
        expect(await c.query('SELECT x FROM follow_test')).toEqual([{ x: 1 }]);
      } finally {
        blocker.close();
      }
    } finally {
      await c.close();
    }
  });
});
