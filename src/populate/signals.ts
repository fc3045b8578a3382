/**
 * SIGINT/SIGTERM during populate. The first signal stops populate: it aborts the make in
 * progress (the caller kills its transaction's session or terminates its threads, so the server
 * rolls the work back), lets the key loop wind down and exit with 130/143. Two things bound
 * the wait: a grace period (`populate.grace_period` seconds) after which the process exits even
 * if a make never returns, and a second signal, which exits at once. Messages state only what is
 * known: what was in progress, and (checked against the table) whether it committed.
 *
 * Drain mode is for a process that runs populate as a worker (`dj populate`): it owns the
 * signals for its whole run, between populate calls too. The first signal only stops dealing
 * new keys: the makes in flight finish and commit, populate returns normally (jobs not started
 * are released) and the worker exits. When the grace period passes first, the makes still in
 * flight are aborted as above (rolled back, their jobs marked error, the rest released) and
 * populate throws PopulateInterrupted to the worker instead of exiting. A second signal exits
 * at once.
 */
import { DataJointError } from '../errors.js';
import { config } from '../config.js';
import { closeAll } from '../connection/connection.js';
import type { PopulateResult } from './options.js';

/** Thrown into populate's key loop when SIGINT/SIGTERM interrupted it. */
export class PopulateInterrupted extends DataJointError {
  /** What the interrupted call did before it stopped (its makes that committed), when known. */
  outcome?: PopulateResult;
}

export interface InterruptHooks {
  /** Abort the work in progress (kill open transactions, terminate threads). Must not throw. */
  abort(signal: NodeJS.Signals): void;
  /**
   * Bookkeeping before a forced exit (grace period over, or a second signal): mark the job in
   * progress, release the others; returns lines to print. Bounded by a timeout.
   */
  beforeForcedExit(signal: NodeJS.Signals, why: string): Promise<string[]>;
  /** Drain mode: the signal asked for no new keys (tell the worker threads). Must not throw. */
  drain?(signal: NodeJS.Signals): void;
  /** What the call has committed so far (a worker's count, when the process exits before populate returns). */
  outcome?(): PopulateResult;
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

/** `populate.grace_period` in milliseconds (10 s when unset or invalid). */
function gracePeriodMs(): number {
  const seconds = Number(config.get('populate.grace_period') ?? 10);
  return Number.isFinite(seconds) && seconds >= 0 ? seconds * 1000 : 10_000;
}

/** Drain mode: how long aborted makes get to unwind before the process exits anyway. */
const UNWIND_MS = 2_000;

/** Signal handling for one populate call; `dispose()` when populate returns. */
export class Interrupts {
  /** The signal that interrupted populate: the makes in progress are being aborted. */
  signal: NodeJS.Signals | null = null;
  /** Drain mode: the signal that asked populate to deal no new keys (the makes in flight finish). */
  draining: NodeJS.Signals | null = null;
  readonly #hooks: InterruptHooks;
  readonly #graceMs = gracePeriodMs();
  readonly #handlers: Array<[NodeJS.Signals, () => void]> = [];
  readonly #drain: Drain | null;
  #grace: NodeJS.Timeout | null = null;
  #forcing = false;
  /**
   * Keeps the process alive while populate runs. Idle pooled connections don't (a script ends
   * when its work does), so a make awaiting something that holds no handle of its own would
   * otherwise let Node exit mid-call, its job still reserved, instead of waiting or being
   * interrupted.
   */
  readonly #alive = setInterval(() => {}, 1 << 30);

  constructor(hooks: InterruptHooks) {
    this.#hooks = hooks;
    this.#drain = Drain.active;
    if (this.#drain) {
      this.#drain.attach(this);
      return;
    }
    for (const s of ['SIGINT', 'SIGTERM'] as const) {
      const h = () => this.#onSignal(s);
      process.on(s, h);
      this.#handlers.push([s, h]);
    }
  }

  /** Whether populate must deal no new keys (a signal arrived, in drain mode or not). */
  get stopping(): boolean {
    return this.signal !== null || this.draining !== null;
  }

  #onSignal(s: NodeJS.Signals): void {
    if (this.signal) {
      this.forceExit(s);
      return;
    }
    say(`\npopulate: ${s} received: stopping after aborting the make in progress, if any (send ${s} again to exit at once).`);
    this.#interrupt(s, this.#graceMs, `the make in progress did not stop within ${this.#graceMs / 1000} s`, 2_000);
  }

  /**
   * Abort the makes in progress; exit anyway when they have not wound down after `windowMs`
   * (then with up to 3 s of job bookkeeping and `closeMs` of closing connections).
   */
  #interrupt(s: NodeJS.Signals, windowMs: number, why: string, closeMs: number): void {
    this.signal = s;
    this.#hooks.abort(s);
    // Ref'd on purpose: a make that never returns must not keep the process waiting forever,
    // and with nothing else pending the process would otherwise exit without any bookkeeping.
    this.#grace = setTimeout(() => void this.#forceExit(s, why, 3_000, closeMs, this.#drain?.stoppedCode(s) ?? exitCode(s)), windowMs);
  }

  /** Drain mode (called by Drain): deal no new keys. */
  drain(s: NodeJS.Signals): void {
    if (this.draining) return;
    this.draining = s;
    this.#hooks.drain?.(s);
  }

  /** Drain mode (called by Drain): the grace period is over, abort what is still in flight. */
  escalate(s: NodeJS.Signals): void {
    if (this.signal) return;
    say(`populate: the grace period (${this.#graceMs / 1000} s, populate.grace_period) is over: aborting the make in progress.`);
    // Closing waits on the connection the stuck make holds (its pool never gets it back), and
    // exiting closes it just as well: the worker's exit is not held up for it.
    this.#interrupt(s, UNWIND_MS, `the make in progress did not stop within ${UNWIND_MS / 1000} s of being aborted`, 500);
  }

  /** A second signal: exit now, after at most 1.5 s of job bookkeeping ("at once": what it could not do is said). */
  forceExit(s: NodeJS.Signals): void {
    const code = exitCode(this.signal ?? this.draining ?? s);
    if (!this.signal) {
      // Drain mode: the makes in flight were left to finish, not aborted. Abort them now, so
      // what was in progress is known (and its jobs settled) before the exit.
      this.signal = s;
      this.#hooks.abort(s);
    }
    void this.#forceExit(s, `${s} received again`, 1_500, 500, code);
  }

  /** Throw PopulateInterrupted when a signal arrived (called between makes and before a transaction opens). */
  check(): void {
    if (this.signal) throw this.error();
  }

  error(cause?: unknown): PopulateInterrupted {
    return new PopulateInterrupted(`populate interrupted by ${this.signal ?? 'a signal'}`, cause === undefined ? undefined : { cause });
  }

  dispose(): void {
    clearInterval(this.#alive);
    for (const [s, h] of this.#handlers) process.off(s, h);
    this.#drain?.detach(this);
    if (this.#grace) clearTimeout(this.#grace);
  }

  /**
   * After an interrupted populate wound down: print what happened, close, exit. In drain mode
   * the worker owns the process: this throws PopulateInterrupted to it instead, with what the
   * call did (`outcome`) for the worker's count.
   */
  async exit(lines: string[], outcome?: PopulateResult): Promise<never> {
    const s = this.signal ?? 'SIGTERM';
    this.dispose();
    say(`populate: interrupted by ${s}. ${lines.join(' ')}`.trimEnd());
    if (this.#drain) throw Object.assign(this.error(), { outcome });
    await within(closeAll(), 5_000, undefined);
    process.exit(exitCode(s));
  }

  /** Exit now, after at most `bookkeepingMs` of job bookkeeping and `closeMs` of closing connections. */
  async #forceExit(s: NodeJS.Signals, why: string, bookkeepingMs: number, closeMs: number, code: number): Promise<void> {
    if (this.#forcing) {
      process.exit(exitCode(this.signal ?? s)); // a third signal: no more waiting at all
    }
    this.#forcing = true;
    this.dispose();
    const lines = await within(this.#hooks.beforeForcedExit(this.signal ?? s, why), bookkeepingMs, [
      'Job bookkeeping did not finish in time: jobs still reserved by this process can be recovered with jobs.refresh({ orphanTimeout }).',
    ]);
    say(`populate: exiting now (${why}). ${lines.join(' ')} An open transaction is rolled back by the server when this process's connections close.`);
    // A worker says its summary, the makes of this call included, before the process ends.
    try {
      this.#drain?.lastWords?.(this.#hooks.outcome?.() ?? null);
    } catch {
      // Nothing said: the exit goes on.
    }
    await within(closeAll(), closeMs, undefined);
    process.exit(code);
  }
}

export interface DrainOptions {
  /** Exit code after a signal stopped the worker cleanly or by the grace period (default 0). */
  stoppedCode?: (signal: NodeJS.Signals) => number;
  /** Who is speaking in messages (default `populate`). */
  name?: string;
}

/**
 * Drain mode for this process (see the header), from `Drain.start()` to `stop()`. The worker
 * checks `signal` between populate calls and sleeps with `sleep()`, which a signal cuts short.
 */
export class Drain {
  static #active: Drain | null = null;
  /** The drain mode in force, if any (populate's Interrupts attach to it). */
  static get active(): Drain | null {
    return Drain.#active;
  }
  /** Enter drain mode: SIGINT/SIGTERM are handled here until `stop()`. */
  static start(opts: DrainOptions = {}): Drain {
    if (Drain.#active) throw new DataJointError('Drain mode is already on in this process');
    Drain.#active = new Drain(opts);
    return Drain.#active;
  }

  /** The first signal received: stop taking work. */
  signal: NodeJS.Signals | null = null;
  /**
   * Said when a forced exit ends the process inside a populate call (grace period over, second
   * signal), given what that call committed so far: the worker's summary, which it could not
   * say after populate returned.
   */
  lastWords: ((call: PopulateResult | null) => void) | null = null;
  readonly #opts: DrainOptions;
  readonly #graceMs = gracePeriodMs();
  readonly #attached = new Set<Interrupts>();
  readonly #wakers = new Set<() => void>();
  readonly #handlers: Array<[NodeJS.Signals, () => void]> = [];
  readonly #timers: NodeJS.Timeout[] = [];
  #graceOver = false;
  #signals = 0;

  private constructor(opts: DrainOptions) {
    this.#opts = opts;
    for (const s of ['SIGINT', 'SIGTERM'] as const) {
      const h = () => this.#onSignal(s);
      process.on(s, h);
      this.#handlers.push([s, h]);
    }
  }

  /** Act on a signal received before drain mode began (held while the command loaded). */
  deliver(s: NodeJS.Signals): void {
    this.#onSignal(s);
  }

  /** The exit code after a stop by `s` that was not a second signal. */
  stoppedCode(s: NodeJS.Signals): number {
    return this.#opts.stoppedCode?.(s) ?? 0;
  }

  #onSignal(s: NodeJS.Signals): void {
    this.#signals++;
    if (this.signal) {
      if (this.#attached.size) for (const i of this.#attached) i.forceExit(s);
      else void this.#exit(this.#signals > 2 ? 0 : 500, exitCode(this.signal), `${s} received again`);
      return;
    }
    this.signal = s;
    const name = this.#opts.name ?? 'populate';
    say(`\n${name}: ${s} received: dealing no new keys; the make(s) in flight finish within ${this.#graceMs / 1000} s (populate.grace_period) or are rolled back, then it exits (send ${s} again to exit at once).`);
    for (const i of this.#attached) i.drain(s);
    for (const wake of this.#wakers) wake();
    this.#timers.push(setTimeout(() => this.#onGraceOver(s), this.#graceMs));
  }

  #onGraceOver(s: NodeJS.Signals): void {
    this.#graceOver = true;
    for (const i of this.#attached) i.escalate(s);
    // The attached populate calls exit by themselves if their makes do not unwind (within about
    // UNWIND_MS + 7 s, bookkeeping and closing included). Between populate calls (e.g. while
    // refreshing jobs) the worker exits once that returns; a statement that never returns must
    // not keep it either.
    this.#timers.push(setTimeout(() => void this.#exit(500, this.stoppedCode(s), 'the worker did not stop in time'), UNWIND_MS + 8_000));
  }

  async #exit(closeMs: number, code: number, why: string): Promise<void> {
    say(`${this.#opts.name ?? 'populate'}: exiting now (${why}).`);
    if (closeMs) await within(closeAll(), closeMs, undefined);
    process.exit(code);
  }

  /** @internal A populate call's signal handling joins the drain. */
  attach(i: Interrupts): void {
    this.#attached.add(i);
    if (this.signal) i.drain(this.signal);
    if (this.signal && this.#graceOver) i.escalate(this.signal);
  }
  /** @internal */
  detach(i: Interrupts): void {
    this.#attached.delete(i);
  }

  /** Wait `ms` milliseconds, or less when a signal arrives. */
  sleep(ms: number): Promise<void> {
    if (this.signal) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#wakers.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.#wakers.add(done);
    });
  }

  /** Leave drain mode: the signals get their default handling back. */
  stop(): void {
    for (const [s, h] of this.#handlers) process.off(s, h);
    for (const t of this.#timers) clearTimeout(t);
    for (const wake of this.#wakers) wake();
    if (Drain.#active === this) Drain.#active = null;
  }
}

/**
 * A stop flag shared with worker threads: set once populate must start no new make (a drain or
 * an abort), read by each thread's key loop before every key, so a thread finishes the make it
 * is on and starts none of the keys it was given after (nor any task still queued for it).
 */
export function sharedStopFlag(): Int32Array {
  return new Int32Array(new SharedArrayBuffer(4));
}
export const raiseStopFlag = (flag: Int32Array): void => void Atomics.store(flag, 0, 1);

/** A worker thread's view of `flag` as the key loop's interrupts: stopping, never aborting (the main thread aborts by ending the thread). */
export function stopFlagInterrupts(flag: Int32Array): Pick<Interrupts, 'signal' | 'stopping' | 'error'> {
  return {
    signal: null,
    get stopping() {
      return Atomics.load(flag, 0) !== 0;
    },
    error: (cause?: unknown) => new PopulateInterrupted('populate stopped by a signal', cause === undefined ? undefined : { cause }),
  };
}
