/**
 * The safemode prompt: one place that decides whether a destructive operation (delete, drop,
 * schema drop) asks the user first, and asks.
 */
import { config } from '../config.js';

/** Whether to ask: an explicit `prompt` option wins, else the `safemode` setting; only on a terminal. */
export function shouldPrompt(prompt: boolean | undefined): boolean {
  return (prompt ?? Boolean(config.get('safemode'))) && process.stdin.isTTY === true && process.stdout.isTTY === true;
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
