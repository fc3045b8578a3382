/**
 * The OS account that runs the embedded server. PostgreSQL refuses to run as root, so a root
 * process runs initdb/pg_ctl/postgres as an unprivileged account: the owner of an existing data
 * directory, else a dedicated system user `datajoint` that is created once (useradd, or adduser
 * where useradd is missing). That account must be able to reach the binaries and the data
 * directory; `canTraverse` tells (a project under /root is out of its reach), and the callers then
 * fall back to folders under `serviceHome()`.
 */
import { execFile } from 'node:child_process';
import { stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { promisify } from 'node:util';
import { BackendUnavailableError } from '../../errors.js';
import type { RunAs } from './processes.js';

const execFileAsync = promisify(execFile);

/** Name of the system account created to run the server when the library runs as root. */
export const SERVICE_USER = 'datajoint';

export function isRoot(): boolean {
  return process.getuid?.() === 0;
}

/** Root-owned home for what the service account needs outside the project (binaries, data). */
export function serviceHome(): string {
  return '/var/lib/datajoint';
}

async function lookupUser(name: string): Promise<RunAs | null> {
  try {
    const [u, g] = await Promise.all([execFileAsync('id', ['-u', name]), execFileAsync('id', ['-g', name])]);
    const uid = Number.parseInt(u.stdout, 10);
    const gid = Number.parseInt(g.stdout, 10);
    return Number.isInteger(uid) && Number.isInteger(gid) ? { uid, gid } : null;
  } catch {
    return null;
  }
}

/** Ways to create a system user with its own group and no login, tried in order. */
function creationCommands(name: string): Array<[string, string[]]> {
  const home = serviceHome();
  return [
    ['useradd', ['--system', '--user-group', '--no-create-home', '--home-dir', home, '--shell', '/usr/sbin/nologin', '--comment', 'DataJoint embedded PostgreSQL', name]],
    ['adduser', ['--system', '--group', '--no-create-home', '--home', home, '--shell', '/usr/sbin/nologin', name]],
    ['adduser', ['-S', '-D', '-H', '-h', home, '-s', '/sbin/nologin', name]], // BusyBox
  ];
}

let serviceAccountPromise: Promise<RunAs> | null = null;

/** The `datajoint` account's ids, creating the account on first use. Root only. */
export function serviceAccount(): Promise<RunAs> {
  serviceAccountPromise ??= (async () => {
    const existing = await lookupUser(SERVICE_USER);
    if (existing) return existing;
    const failures: string[] = [];
    for (const [cmd, args] of creationCommands(SERVICE_USER)) {
      try {
        await execFileAsync(cmd, args);
      } catch (err) {
        // Another process may have created it at the same moment: the lookup below decides.
        failures.push(`${cmd}: ${((err as { stderr?: string }).stderr ?? (err as Error).message).trim()}`);
      }
      const created = await lookupUser(SERVICE_USER);
      if (created) return created;
    }
    throw new BackendUnavailableError(
      `PostgreSQL does not run as root, and the OS user "${SERVICE_USER}" to run the embedded server could not be created ` +
        `(${failures.join('; ')}). Create that user yourself, run as a non-root user, or use a database server ` +
        `(database.backend 'mysql' or 'postgresql' with database.host / DJ_HOST).`,
    );
  })();
  serviceAccountPromise.catch(() => (serviceAccountPromise = null));
  return serviceAccountPromise;
}

/**
 * Whether `ids` may search (`x`) `path` and every directory above it, judged from mode bits and
 * owners (supplementary groups and ACLs are ignored, so the answer errs on "no").
 */
export async function canTraverse(path: string, ids: RunAs): Promise<boolean> {
  if (ids.uid === 0) return true;
  for (let dir = resolve(path); ; dir = dirname(dir)) {
    let st;
    try {
      st = await stat(dir);
    } catch {
      return false;
    }
    const bits = st.uid === ids.uid ? 0o100 : st.gid === ids.gid ? 0o010 : 0o001;
    if ((st.mode & bits) === 0) return false;
    if (dirname(dir) === dir) return true;
  }
}

/**
 * Who runs the server: nobody special when we are not root; as root, the owner of an existing data
 * directory (so one made by a normal user keeps working), else the service account.
 */
export async function serverAccount(pgdata: string | null): Promise<RunAs | null> {
  if (!isRoot()) return null;
  if (pgdata) {
    const st = await stat(pgdata).catch(() => null);
    if (st && st.uid !== 0) return { uid: st.uid, gid: st.gid };
  }
  return serviceAccount();
}
