/**
 * The info file `server.json` in the embedded server's directory: connection details (with the
 * password, hence mode 0600), where the cluster lives, and which postmaster serves it since when.
 * Every thread and process reads it on each `ensureEmbeddedServer`; only the lock holder writes
 * it, by writing a temporary file and renaming it, so readers never see half a record.
 */
import { chmod, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BackendUnavailableError } from '../../errors.js';
import { bootId, isPostmasterOf } from './processes.js';

export const RECORD_FILE = 'server.json';
export const LOCK_FILE = 'server.lock';

export interface ServerRecord {
  dir: string;
  host: string;
  port: number;
  user: string;
  password: string;
  database: string;
  /** Data directory of the cluster (normally `<dir>/pgdata`). */
  pgdata: string;
  version: string;
  /** Postmaster pid while running, null after a stop. */
  pid: number | null;
  /** ISO time of the last start, null after a stop. */
  startedAt: string | null;
  /** Boot id of the machine when the server was started (a pid means nothing after a reboot). */
  boot: string | null;
}

/** The record, or null when there is none (or it is unreadable garbage). */
export async function readRecord(dir: string): Promise<ServerRecord | null> {
  const path = join(dir, RECORD_FILE);
  let raw: string;
  try {
    raw = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return null;
    if (code === 'EACCES' || code === 'EPERM') {
      throw new BackendUnavailableError(`Cannot read ${path}: the embedded server in ${dir} belongs to another OS user.`, { cause: err });
    }
    throw err;
  }
  try {
    const rec = JSON.parse(raw) as ServerRecord;
    return typeof rec.password === 'string' && typeof rec.pgdata === 'string' ? rec : null;
  } catch {
    return null;
  }
}

export async function writeRecord(dir: string, rec: ServerRecord): Promise<void> {
  const path = join(dir, RECORD_FILE);
  const tmp = `${path}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
  try {
    await writeFile(tmp, JSON.stringify(rec, null, 2) + '\n', { mode: 0o600 });
    await chmod(tmp, 0o600); // whatever the umask
    await rename(tmp, path);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
}

/** Whether the record names a postmaster that is alive now (same boot, pid serving its pgdata). */
export function isRunning(rec: ServerRecord): rec is ServerRecord & { pid: number } {
  if (rec.pid === null) return false;
  if (rec.boot && bootId() && rec.boot !== bootId()) return false;
  return isPostmasterOf(rec.pid, rec.pgdata);
}
