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
