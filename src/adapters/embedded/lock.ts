/**
 * A lock file that serializes the start and stop of one embedded server across the threads and
 * processes of a machine. It is created with O_EXCL and holds its owner (pid, thread, boot id);
 * the owner touches it every few seconds. A lock is stale when its owner is dead, it was written
 * before the last reboot, or its heartbeat stopped (a terminated worker thread leaves a live pid
 * behind). Breaking a stale lock is itself guarded by a second O_EXCL file, so two waiters can't
 * both break it and then remove each other's fresh lock.
 */
import { randomBytes } from 'node:crypto';
import { readFile, stat, unlink, utimes, writeFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { threadId } from 'node:worker_threads';
import { BackendUnavailableError } from '../../errors.js';
import { bootId, processAlive } from './processes.js';

const HEARTBEAT_MS = 2_000;
/** A lock whose heartbeat is older than this is stale even if its pid lives. */
export const LOCK_STALE_MS = 30_000;
/** A lock file whose content cannot be parsed (its writer died mid-write) is stale after this. */
const UNREADABLE_STALE_MS = 5_000;
const BREAKER_STALE_MS = 10_000;

export interface LockOwner {
  pid: number;
  thread: number;
  boot: string | null;
  nonce: string;
}

interface Holder {
  raw: string;
  owner: LockOwner | null;
  ageMs: number;
}

async function inspect(path: string): Promise<Holder | null> {
  try {
    const [raw, st] = await Promise.all([readFile(path, 'utf8'), stat(path)]);
    let owner: LockOwner | null = null;
    try {
      const parsed = JSON.parse(raw) as Partial<LockOwner>;
      if (typeof parsed.pid === 'number') owner = parsed as LockOwner;
    } catch {
      owner = null;
    }
    return { raw, owner, ageMs: Date.now() - st.mtimeMs };
  } catch {
    return null; // released meanwhile
  }
}

/** Why a held lock may be taken over, or null when its owner is still at work. */
export function staleReason(h: { owner: LockOwner | null; ageMs: number }): string | null {
  if (!h.owner) return h.ageMs > UNREADABLE_STALE_MS ? 'unreadable' : null;
  if (h.owner.boot && bootId() && h.owner.boot !== bootId()) return 'written before the last reboot';
  if (!processAlive(h.owner.pid)) return `owner process ${h.owner.pid} is gone`;
  if (h.ageMs > LOCK_STALE_MS) return `no heartbeat for ${Math.round(h.ageMs / 1000)} s`;
  return null;
}

async function breakLock(path: string, staleRaw: string): Promise<void> {
  const breaker = `${path}.break`;
  try {
    await writeFile(breaker, String(process.pid), { flag: 'wx', mode: 0o600 });
  } catch {
    const st = await stat(breaker).catch(() => null);
    if (st && Date.now() - st.mtimeMs > BREAKER_STALE_MS) await unlink(breaker).catch(() => undefined);
    return; // someone else is breaking it; wait and look again
  }
  try {
    // Only remove the lock we judged stale, not a fresh one created since.
    if ((await readFile(path, 'utf8').catch(() => null)) === staleRaw) await unlink(path).catch(() => undefined);
  } finally {
    await unlink(breaker).catch(() => undefined);
  }
}

/**
 * Run `fn` while holding the lock file `path`. Waits (polling) for a live holder until `deadline`
 * (epoch ms), then fails with BackendUnavailableError naming the holder.
 */
export async function withLock<T>(path: string, deadline: number, fn: () => Promise<T>): Promise<T> {
  const me: LockOwner = { pid: process.pid, thread: threadId, boot: bootId(), nonce: randomBytes(8).toString('hex') };
  const token = JSON.stringify(me);
  for (;;) {
    try {
      await writeFile(path, token, { flag: 'wx', mode: 0o600 });
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw new BackendUnavailableError(`Cannot create the embedded server lock ${path}: ${(err as Error).message}`, { cause: err });
      }
    }
    const holder = await inspect(path);
    if (holder && staleReason(holder)) {
      await breakLock(path, holder.raw);
      continue;
    }
    if (Date.now() > deadline) {
      const who = holder?.owner ? `process ${holder.owner.pid} (thread ${holder.owner.thread})` : 'another process';
      throw new BackendUnavailableError(`Timed out waiting for the embedded server lock ${path}, held by ${who}.`);
    }
    await sleep(15 + Math.random() * 35);
  }
  const heartbeat = setInterval(() => {
    const now = new Date();
    utimes(path, now, now).catch(() => undefined);
  }, HEARTBEAT_MS);
  heartbeat.unref();
  try {
    return await fn();
  } finally {
    clearInterval(heartbeat);
    if ((await readFile(path, 'utf8').catch(() => null)) === token) await unlink(path).catch(() => undefined);
  }
}
