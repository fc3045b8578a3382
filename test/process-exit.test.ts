/**
 * A script ends when its work does: idle pooled connections must not keep Node's event loop
 * alive. Before, the README's first sample never exited on MariaDB (mysql2's idle sockets) and
 * lingered about 11 s on PostgreSQL (pg's idle timeout).
 */
import { describe, it, expect, afterAll } from 'vitest';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dj } from './helpers.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const db = `djtest_exit_${process.pid}`;

afterAll(async () => {
  await dj.conn().executeAll(dj.conn().dialect.dropDatabase(db));
});

/** Run a fixture script; the limit is generous for a slow start (tsx, an embedded server) yet under pg's 10 s idle timeout. */
function run(script: string, args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string; ms: number }> {
  const started = Date.now();
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', script, ...args], { cwd: root, timeout: 8_000, killSignal: 'SIGKILL', env: { ...process.env, ...env } }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? null) : 0, stdout, stderr, ms: Date.now() - started }),
    );
  });
}

describe('process exit', () => {
  it('a script that never closes its connection exits when its work is done', async () => {
    const { code, stdout, stderr, ms } = await run('test/fixtures/readme-first.ts', [db]);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(JSON.parse(stdout.trim())).toEqual([{ subject_id: 1, species: 'mouse', dob: new Date('2024-01-15T00:00:00Z').toISOString() }]);
    expect(ms).toBeLessThan(8_000);
  }, 20_000);

  it('so does one that populated on worker threads (the kept pool does not hold it)', async () => {
    const { code, stdout, stderr, ms } = await run('test/fixtures/exit-populate.ts', [], { DJ_TEST_EXIT_DB: `${db}_pool` });
    await dj.conn().executeAll(dj.conn().dialect.dropDatabase(`${db}_pool`));
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(JSON.parse(stdout.trim())).toMatchObject({ success: 20, error: 0 });
    expect(ms).toBeLessThan(8_000);
  }, 20_000);
});
