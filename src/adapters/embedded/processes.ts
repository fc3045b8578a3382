/**
 * Process helpers for the embedded server: run a PostgreSQL tool (optionally as another OS user)
 * and collect its output, tell whether a pid still names a live process or a live postmaster of a
 * given data directory, and read the machine's boot id. Liveness checks are synchronous and cheap
 * because `ensureEmbeddedServer` runs them on every call, in every thread and process.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { open } from 'node:fs/promises';

/** The OS account a tool runs as (only set when we are root: PostgreSQL refuses to run as root). */
export interface RunAs {
  uid: number;
  gid: number;
}

export interface ToolResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Environment for the tools: no PG* variables of the caller (PGPORT, PGDATA…) and English messages. */
function toolEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('PG')) env[k] = v;
  env.LC_ALL = 'C';
  env.LANG = 'C';
  return env;
}

/**
 * Run `cmd args` to completion. `detached` puts the tool in its own session so that a Ctrl-C aimed
 * at the caller does not reach a server it is starting. Spawn failures (ENOENT, EACCES) reject.
 */
export function runTool(
  cmd: string,
  args: string[],
  opts: { runAs: RunAs | null; timeoutMs: number; detached?: boolean; input?: string },
): Promise<ToolResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      // '/' so that a tool running as another user never starts in a directory it cannot read.
      cwd: '/',
      env: toolEnv(),
      detached: opts.detached ?? false,
      stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
      ...(opts.runAs ? { uid: opts.runAs.uid, gid: opts.runAs.gid } : {}),
    });
    let stdout = '';
    let stderr = '';
    child.stdout?.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr?.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    if (opts.input !== undefined) child.stdin?.end(opts.input);
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** Whether a process `pid` exists, zombies included (what PostgreSQL's own check, kill(pid, 0), sees). */
export function pidExists(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'; // exists, but not ours to signal
  }
}

/**
 * Whether `pid` names a live process. Zombies count as dead: a detached postmaster is reparented
 * to PID 1, and some container inits reap their adopted children late or never.
 */
export function processAlive(pid: number): boolean {
  if (!pidExists(pid)) return false;
  if (process.platform !== 'linux') return true;
  try {
    // /proc/<pid>/stat: "pid (comm) S ..." - the state follows the last ')'.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/**
 * Whether `pid` is a live postmaster serving `pgdata`. After a reboot the pid in an old info file
 * or postmaster.pid may belong to an unrelated process, so on Linux the command line must name the
 * data directory too (pg_ctl starts `postgres -D <pgdata> ...`).
 */
export function isPostmasterOf(pid: number, pgdata: string): boolean {
  if (!processAlive(pid)) return false;
  if (process.platform !== 'linux') return true;
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').includes(pgdata);
  } catch {
    return false;
  }
}

let cachedBootId: string | null | undefined;

/** An id that changes with every boot of the machine (Linux), else null. */
export function bootId(): string | null {
  if (cachedBootId === undefined) {
    try {
      cachedBootId = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim() || null;
    } catch {
      cachedBootId = null;
    }
  }
  return cachedBootId;
}

/** The last `lines` lines of a (log) file, '' when it cannot be read. */
export async function fileTail(path: string, lines = 20): Promise<string> {
  try {
    const fh = await open(path, 'r');
    try {
      const { size } = await fh.stat();
      const len = Math.min(size, 8192);
      const buf = Buffer.alloc(len);
      await fh.read(buf, 0, len, size - len);
      return buf.toString('utf8').trimEnd().split('\n').slice(-lines).join('\n');
    } finally {
      await fh.close();
    }
  } catch {
    return '';
  }
}

/** The last lines of a tool's stderr/stdout, for error messages. */
export function outputTail(r: ToolResult, lines = 15): string {
  return `${r.stderr}\n${r.stdout}`.trim().split('\n').slice(-lines).join('\n');
}
