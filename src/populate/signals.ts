/**
 * SIGINT/SIGTERM during populate. The first signal stops populate: it aborts the make in
 * progress (the caller kills its transaction's session or terminates its threads, so the server
 * rolls the work back), lets the key loop wind down and exit with 130/143. Two things bound
 * the wait: a grace period (`populate.grace_period` seconds) after which the process exits even
 * if a make never returns, and a second signal, which exits at once. Messages state only what is
 * known: what was in progress, and (checked against the table) whether it committed.
 */
import { DataJointError } from '../errors.js';
import { config } from '../config.js';
import { closeAll } from '../connection/connection.js';

/** Thrown into populate's key loop when SIGINT/SIGTERM interrupted it. */
export class PopulateInterrupted extends DataJointError {}

export interface InterruptHooks {
  /** Abort the work in progress (kill open transactions, terminate threads). Must not throw. */
  abort(signal: NodeJS.Signals): void;
  /**
   * Bookkeeping before a forced exit (grace period over, or a second signal): mark the job in
   * progress, release the others; returns lines to print. Bounded by a timeout.
   */
  beforeForcedExit(signal: NodeJS.Signals, why: string): Promise<string[]>;
}

export const exitCode = (s: NodeJS.Signals): number => (s === 'SIGINT' ? 130 : 143);

/** `p`, or `fallback` after `ms` (for bookkeeping that must not hold up an exit). */
export function within<T>(p: Promise<T>, ms: number, fallback: T): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([p.catch(() => fallback), new Promise<T>((r) => (timer = setTimeout(() => r(fallback), ms)))]).finally(() => clearTimeout(timer));
}

function say(text: string): void {
  process.stderr.write(`${text}\n`);
}

/** Signal handling for one populate call; `dispose()` when populate returns. */
export class Interrupts {
  signal: NodeJS.Signals | null = null;
  readonly #hooks: InterruptHooks;
  readonly #graceMs: number;
  readonly #handlers: Array<[NodeJS.Signals, () => void]> = [];
  #grace: NodeJS.Timeout | null = null;
  #forcing = false;

  constructor(hooks: InterruptHooks) {
    this.#hooks = hooks;
    const seconds = Number(config.get('populate.grace_period') ?? 10);
    this.#graceMs = Number.isFinite(seconds) && seconds >= 0 ? seconds * 1000 : 10_000;
    for (const s of ['SIGINT', 'SIGTERM'] as const) {
      const h = () => this.#onSignal(s);
      process.on(s, h);
      this.#handlers.push([s, h]);
    }
  }

  #onSignal(s: NodeJS.Signals): void {
    if (this.signal) {
      // "At once": bookkeeping gets a short budget only (what it could not do is said).
      void this.#forceExit(s, `${s} received again`, 1_500, 500);
      return;
    }
    this.signal = s;
    say(`\npopulate: ${s} received: stopping after aborting the make in progress, if any (send ${s} again to exit at once).`);
    this.#hooks.abort(s);
    // Ref'd on purpose: a make that never returns must not keep the process waiting forever,
    // and with nothing else pending the process would otherwise exit without any bookkeeping.
    this.#grace = setTimeout(() => void this.#forceExit(s, `the make in progress did not stop within ${this.#graceMs / 1000} s`, 3_000, 2_000), this.#graceMs);
  }

  /** Throw PopulateInterrupted when a signal arrived (called between makes and before a transaction opens). */
  check(): void {
    if (this.signal) throw this.error();
  }

  error(cause?: unknown): PopulateInterrupted {
    return new PopulateInterrupted(`populate interrupted by ${this.signal ?? 'a signal'}`, cause === undefined ? undefined : { cause });
  }

  dispose(): void {
    for (const [s, h] of this.#handlers) process.off(s, h);
    if (this.#grace) clearTimeout(this.#grace);
  }

  /** After an interrupted populate wound down: print what happened, close, exit. */
  async exit(lines: string[]): Promise<never> {
    const s = this.signal ?? 'SIGTERM';
    this.dispose();
    say(`populate: interrupted by ${s}. ${lines.join(' ')}`.trimEnd());
    await within(closeAll(), 5_000, undefined);
    process.exit(exitCode(s));
  }

  /** Exit now, after at most `bookkeepingMs` of job bookkeeping and `closeMs` of closing connections. */
  async #forceExit(s: NodeJS.Signals, why: string, bookkeepingMs: number, closeMs: number): Promise<void> {
    if (this.#forcing) {
      process.exit(exitCode(this.signal ?? s)); // a third signal: no more waiting at all
    }
    this.#forcing = true;
    this.dispose();
    const lines = await within(this.#hooks.beforeForcedExit(this.signal ?? s, why), bookkeepingMs, [
      'Job bookkeeping did not finish in time: jobs still reserved by this process can be recovered with jobs.refresh({ orphanTimeout }).',
    ]);
    say(`populate: exiting now (${why}). ${lines.join(' ')} An open transaction is rolled back by the server when this process's connections close.`);
    await within(closeAll(), closeMs, undefined);
    process.exit(exitCode(this.signal ?? s));
  }
}
