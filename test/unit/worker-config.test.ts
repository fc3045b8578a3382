/**
 * A populate worker thread gets the parent's settings before it imports the table module
 * (workers/populate-worker.mjs sets them on a global that src/config.ts reads when loaded), so a
 * pipeline module that activates its Elements on import connects where the parent does, even
 * when the parent configured the connection in code rather than in the environment.
 */
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));

function configIn(prelude: string): Record<string, unknown> {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('DJ_')));
  const code = `${prelude}; const { config } = await import('./src/config.ts'); console.log(JSON.stringify({ host: config.get('database.host'), backend: config.get('database.backend'), safemode: config.get('safemode') }));`;
  const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { cwd: root, env, encoding: 'utf8' });
  return JSON.parse(out.trim().split('\n').pop()!);
}

describe('worker configuration', () => {
  it('applies the settings a worker received before the library was imported', () => {
    const got = configIn(`globalThis[Symbol.for('datajoint.workerConfig')] = { database: { host: 'db.example:3307', backend: 'mysql' }, safemode: false }`);
    expect(got).toEqual({ host: 'db.example:3307', backend: 'mysql', safemode: false });
  });
  it('leaves the configuration alone outside a worker', () => {
    expect(configIn('')).toMatchObject({ safemode: true });
  });
});
