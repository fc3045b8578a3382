/**
 * The I/O-bound case of bench/runtime.bench.ts done with the raw driver: per key, SELECT the
 * 1 MB blob, copy it, and INSERT the copy in a transaction of its own, on one connection or
 * shared out over two. What two connections gain here is what the server and this machine
 * allow for these bytes, whatever populate does: the ceiling its p2/p1 is read against.
 */
import { rawDriverConfig } from './common.js';

export interface RawIo {
  /** Seconds to move every key's bytes with `connections` connections (the output table emptied first). */
  run(connections: 1 | 2): Promise<number>;
  close(): Promise<void>;
}

interface Client {
  query(sql: string, params?: unknown[]): Promise<Buffer | null>;
  end(): Promise<void>;
}

async function connect(backend: string): Promise<Client> {
  const cfg = await rawDriverConfig(backend);
  if (backend === 'mysql') {
    const mysql = (await import('mysql2/promise')).default;
    const c = await mysql.createConnection({ host: cfg.host, port: cfg.port, user: cfg.user, password: cfg.password });
    return {
      query: async (sql, params) => {
        const [rows] = await c.query(sql, params);
        return Array.isArray(rows) && rows.length ? (Object.values(rows[0] as object)[0] as Buffer) : null;
      },
      end: () => c.end(),
    };
  }
  const pg = (await import('pg')).default;
  const c = new pg.Client(cfg);
  await c.connect();
  return {
    query: async (sql, params) => {
      const r = await c.query(sql.replace(/\?/g, (_, i: number) => `$${sql.slice(0, i).split('?').length}`), params);
      return r.rows.length ? (Object.values(r.rows[0] as object)[0] as Buffer) : null;
    },
    end: () => c.end(),
  };
}

/** `source`/`target`: full table names (sig_id, then the blob column) as the library quotes them. */
export async function rawIo(backend: string, keys: number, source: { table: string; column: string }, target: { table: string; column: string }): Promise<RawIo> {
  const clients = [await connect(backend), await connect(backend)];
  const q = backend === 'mysql' ? (s: string) => `\`${s}\`` : (s: string) => `"${s}"`;
  return {
    async run(connections) {
      await clients[0]!.query(`DELETE FROM ${target.table}`);
      let next = 0;
      const t0 = performance.now();
      await Promise.all(
        clients.slice(0, connections).map(async (c) => {
          for (let id = next++; id < keys; id = next++) {
            const bytes = await c.query(`SELECT ${q(source.column)} FROM ${source.table} WHERE sig_id = ?`, [id]);
            const out = Buffer.from(bytes!);
            await c.query('BEGIN');
            await c.query(`INSERT INTO ${target.table} (sig_id, ${q(target.column)}) VALUES (?, ?)`, [id, out]);
            await c.query('COMMIT');
          }
        }),
      );
      return (performance.now() - t0) / 1000;
    },
    close: async () => void (await Promise.all(clients.map((c) => c.end()))),
  };
}
