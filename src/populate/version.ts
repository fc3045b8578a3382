/**
 * The code version recorded with each job and in `_job_version`: `jobs.version` (a string),
 * or the git short hash of the working directory when it (or `jobs.version_method`) is 'git'.
 */
import { execFileSync } from 'node:child_process';
import { config } from '../config.js';

const gitHashes = new Map<string, string>();

function gitShortHash(cwd: string): string {
  let h = gitHashes.get(cwd);
  if (h === undefined) {
    try {
      h = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    } catch {
      h = ''; // not a git checkout, or no git: recorded as empty
    }
    gitHashes.set(cwd, h);
  }
  return h;
}

export function jobVersion(): string {
  const version = config.get<string | null>('jobs.version');
  const method = config.get<string | null>('jobs.version_method');
  if (version === 'git' || method === 'git') return gitShortHash(process.cwd()).slice(0, 64);
  return String(version ?? '').slice(0, 64);
}
