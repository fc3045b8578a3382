/** Shared scaffolding of the database benchmarks: connection settings, baseline driver, output. */
import { cpus } from 'node:os';
import mysql from 'mysql2/promise';
import * as dj from '../src/index.js';

/** Benchmarks use DJ_HOST etc. like the tests; 127.0.0.1 when nothing is configured. */
export function useDefaultHost(): void {
  if (!dj.config.isSet('database.host')) dj.config.set('database.host', '127.0.0.1');
}

/** A plain mysql2 connection with the same settings: the in-process baseline. */
export function rawConnection(): Promise<mysql.Connection> {
  const { host, port, user } = dj.conn().options; // host:port in DJ_HOST already split
  return mysql.createConnection({ host, port, user, password: String(dj.config.get('database.password') ?? ''), supportBigNumbers: true });
}

/** One line naming the machine, for the report. */
export function machine(extra = ''): string {
  return `machine: ${cpus().length} × ${cpus()[0]?.model}, node ${process.version}${extra ? `; ${extra}` : ''}`;
}

/** Run a benchmark's main, closing connections on the way out either way. */
export function run(main: () => Promise<void>): void {
  main()
    .then(() => dj.closeAll())
    .catch(async (e) => {
      console.error(e);
      await dj.closeAll();
      process.exit(1);
    });
}

/** The DJ_* environment of each backend (servers as for the tests). */
export const BACKEND_ENV: Record<string, Record<string, string>> = {
  mysql: { DJ_BACKEND: 'mysql', DJ_HOST: process.env.DJ_MYSQL_HOST ?? '127.0.0.1', DJ_PORT: process.env.DJ_MYSQL_PORT ?? '3306', DJ_USER: process.env.DJ_MYSQL_USER ?? 'root', DJ_PASS: process.env.DJ_MYSQL_PASS ?? '' },
  postgresql: { DJ_BACKEND: 'postgresql', DJ_HOST: process.env.DJ_PG_HOST ?? '127.0.0.1', DJ_PORT: process.env.DJ_PG_PORT ?? '5432', DJ_USER: process.env.DJ_PG_USER ?? 'postgres', DJ_PASS: process.env.DJ_PG_PASS ?? '' },
  embedded: { DJ_BACKEND: 'embedded' },
};

/**
 * Run `childMain` once per backend (DJ_BENCH_BACKENDS, default all three), each in its own
 * process with that backend's environment; each child prints one JSON line, returned by backend.
 */
export async function perBackend<T>(moduleUrl: string, childMain: (backend: string) => Promise<T>, defaults = 'mysql,postgresql,embedded'): Promise<Record<string, T> | null> {
  if (process.argv[2] === '--child') {
    const out = await childMain(process.argv[3]!);
    console.log(JSON.stringify(out, (_k, v) => (typeof v === 'bigint' ? Number(v) : v)));
    await dj.closeAll();
    return null;
  }
  const { spawnSync } = await import('node:child_process');
  const { fileURLToPath } = await import('node:url');
  const results: Record<string, T> = {};
  for (const b of (process.env.DJ_BENCH_BACKENDS ?? defaults).split(',')) {
    process.stderr.write(`${b}…\n`);
    const r = spawnSync(process.execPath, ['--import', 'tsx', fileURLToPath(moduleUrl), '--child', b], {
      env: { ...process.env, ...BACKEND_ENV[b] },
      stdio: ['ignore', 'pipe', 'inherit'],
      encoding: 'utf8',
      maxBuffer: 64 << 20,
    });
    if (r.status !== 0) throw new Error(`${b} failed:\n${r.stdout.slice(-2000)}`);
    results[b] = JSON.parse(r.stdout.trim().split('\n').pop()!) as T;
  }
  return results;
}

/** Raw drivers of a backend for baselines: mysql2 (promise API) or pg, connected like the library. */
export async function rawDriverConfig(backend: string): Promise<{ host: string; port: number; user: string; password: string; database: string }> {
  if (backend === 'embedded') {
    const s = await dj.embedded.start();
    return { host: s.host, port: s.port, user: s.user, password: s.password, database: s.database };
  }
  const { host, port, user } = dj.conn().options;
  return { host, port, user, password: String(dj.config.get('database.password') ?? ''), database: 'postgres' };
}
