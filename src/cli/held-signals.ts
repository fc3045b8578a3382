/**
 * SIGINT and SIGTERM held while the command loads (main.ts), before the sub-command can handle
 * them. No imports: this runs before the rest of the library is loaded.
 */
const SIGNALS = ['SIGINT', 'SIGTERM'] as const;
let held: NodeJS.Signals | null = null;
const hold = (s: NodeJS.Signals) => {
  held ??= s;
};

/** From now on, keep the first SIGINT/SIGTERM instead of ending the process. */
export function holdSignals(): void {
  for (const s of SIGNALS) process.on(s, hold);
}

/** Stop holding signals (their default action applies again); returns the first one held, if any. */
export function releaseSignals(): NodeJS.Signals | null {
  for (const s of SIGNALS) process.off(s, hold);
  const s = held;
  held = null;
  return s;
}
