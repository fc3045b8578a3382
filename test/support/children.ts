/**
 * Child processes of the fault-injection suite: run a fixture with tsx, watch its output, send
 * it signals, and bound its run time (a child still running at the deadline is killed and
 * reported as hung, never waited on forever).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));

export interface ChildOutcome {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** The last JSON line printed on stdout. */
  result: Record<string, unknown> | null;
  /** Killed at the deadline. */
  hung: boolean;
  ms: number;
}

export interface RunningChild {
  proc: ChildProcess;
  /** Output so far. */
  stdout(): string;
  stderr(): string;
  /** Resolves once stdout contains `text`. */
  printed(text: string): Promise<void>;
  done: Promise<ChildOutcome>;
}

/** Start `node [execArgv] --import tsx <fixture> ...args`, killed with SIGKILL after `deadlineMs`. */
export function startChild(fixture: string, args: string[], opts: { env?: Record<string, string>; deadlineMs?: number; execArgv?: string[] } = {}): RunningChild {
  const t0 = Date.now();
  const proc = spawn(process.execPath, [...(opts.execArgv ?? []), '--import', 'tsx', fixture, ...args], { cwd: root, env: { ...process.env, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  const waiters: Array<{ text: string; resolve: () => void }> = [];
  proc.stdout!.on('data', (d) => {
    out += d;
    for (const w of [...waiters]) if (out.includes(w.text)) waiters.splice(waiters.indexOf(w), 1) && w.resolve();
  });
  proc.stderr!.on('data', (d) => (err += d));
  let hung = false;
  const deadline = setTimeout(() => {
    hung = true;
    proc.kill('SIGKILL');
  }, opts.deadlineMs ?? 90_000);
  const done = new Promise<ChildOutcome>((resolve) => {
    proc.on('close', (code, signal) => {
      clearTimeout(deadline);
      const line = out.split('\n').filter((l) => l.startsWith('{')).pop();
      resolve({ code, signal, stdout: out, stderr: err, result: line ? JSON.parse(line) : null, hung, ms: Date.now() - t0 });
    });
  });
  return {
    proc,
    stdout: () => out,
    stderr: () => err,
    printed: (text) => (out.includes(text) ? Promise.resolve() : new Promise((resolve) => waiters.push({ text, resolve }))),
    done,
  };
}
