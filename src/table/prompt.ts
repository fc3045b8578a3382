/**
 * The safemode prompt: one place that decides whether a destructive operation (delete, drop,
 * schema drop) asks the user first, and asks.
 *
 * Without a terminal nobody can answer, and proceeding silently would make safemode a no-op
 * exactly where it matters most (scripts, cron jobs, notebooks piping stdin). So a prompt that
 * is due but cannot be shown refuses the operation; `prompt: false` or `safemode: false` opt out.
 */
import { config } from '../config.js';
import { DataJointError } from '../errors.js';

/** Whether a terminal is attached on both ends (the question is shown and answered there). */
export function hasTerminal(): boolean {
  return process.stdin.isTTY === true && process.stdout.isTTY === true;
}

/**
 * Whether to ask before `what`: an explicit `prompt` option wins, else the `safemode` setting.
 * When asking is due but there is no terminal, throws a DataJointError saying how to proceed.
 */
export function shouldPrompt(prompt: boolean | undefined, what = 'this operation'): boolean {
  if (!(prompt ?? Boolean(config.get('safemode')))) return false;
  if (hasTerminal()) return true;
  const why = prompt === true ? 'prompt: true was passed' : 'safemode is on';
  throw new DataJointError(
    `Refusing ${what} without a terminal to confirm it (${why}). Pass { prompt: false } to proceed without asking, or turn safemode off (dj.config.set('safemode', false) or DJ_SAFEMODE=false).`,
  );
}

/** Print `lines`, ask `question` ([yes, No]), and return whether the answer was "yes". */
export async function confirm(question: string, lines: readonly string[] = []): Promise<boolean> {
  for (const l of lines) process.stdout.write(`${l}\n`);
  const { createInterface } = await import('node:readline/promises');
  const rl = createInterface({ input: process.stdin, output: process.stdout });
  try {
    return (await rl.question(`${question} [yes, No]: `)).trim().toLowerCase() === 'yes';
  } finally {
    rl.close();
  }
}
