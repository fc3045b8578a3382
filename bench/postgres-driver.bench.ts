/**
 * The PostgreSQL adapter's overhead over node-postgres: fetching 100,000 rows of mixed types
 * (int, bigint, numeric, text, timestamp, jsonb, bytea) as arrays. Baseline: a plain pg.Client
 * in the same process with the adapter's type parsers (timestamps and JSON as text, as the core
 * wants them); pg's default parsers (Date objects, parsed JSON) are shown for reference. Then
 * the adapter in one result (`queryArrays`) and through its cursor in batches (`stream`,
 * bounded memory). Ratios, not absolute times, are what to compare across machines.
 * Run: npx tsx bench/postgres-driver.bench.ts   (DJ_PG_HOST, DJ_PG_PORT, DJ_PG_USER to override)
 */
import pg from 'pg';
import { Bench } from 'tinybench';
import { postgres } from '../src/adapters/postgres/index.js';
import { typeParsers } from '../src/adapters/postgres/values.js';
import { machine } from './common.js';

const ROWS = 100_000;
const host = process.env.DJ_PG_HOST ?? '127.0.0.1';
const port = Number(process.env.DJ_PG_PORT ?? 5432);
const user = process.env.DJ_PG_USER ?? 'postgres';
const schema = `djbench_pgdriver_${process.pid}`;

async function main(): Promise<void> {
  const adapter = await postgres.connect({ host, port, user, password: '', poolSize: 2 });
  const raw = new pg.Client({ host, port, user, database: 'postgres', options: '-c TimeZone=UTC' });
  await raw.connect();
  const getTypeParser = pg.types.getTypeParser as (oid: number, format?: 'text' | 'binary') => (value: string) => unknown;
  const same = new pg.Client({ host, port, user, database: 'postgres', options: '-c TimeZone=UTC', types: typeParsers(getTypeParser) });
  await same.connect();
  const table = `"${schema}"."t"`;
  try {
    await raw.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE; CREATE SCHEMA "${schema}"`);
    await raw.query(`CREATE TABLE ${table} (id integer PRIMARY KEY, big bigint, amount numeric(10,2), name varchar(32),
                       at timestamp(3), doc jsonb, raw bytea)`);
    await raw.query(`INSERT INTO ${table} SELECT g, g::bigint * 1000003, g / 7.0, md5(g::text), TIMESTAMP '2020-01-01' + g * INTERVAL '1 second',
                       jsonb_build_object('g', g), decode(md5(g::text), 'hex') FROM generate_series(1, ${ROWS}) g`);
    const sql = `SELECT * FROM ${table}`;
    let check = 0;
    const bench = new Bench({ iterations: 10, warmupIterations: 2, time: 0 });
    bench
      .add('raw pg.Client, same parsers (baseline)', async () => {
        check += (await same.query({ text: sql, rowMode: 'array' })).rows.length;
      })
      .add('raw pg.Client, default parsers', async () => {
        check += (await raw.query({ text: sql, rowMode: 'array' })).rows.length;
      })
      .add('adapter queryArrays (pooled)', async () => {
        check += (await adapter.pooled().queryArrays(sql)).rows.length;
      })
      .add('adapter stream, batches of 1024', async () => {
        for await (const b of adapter.pooled().stream(sql)) check += b.rows.length;
      })
      .add('adapter stream, batches of 16384', async () => {
        for await (const b of adapter.pooled().stream(sql, [], { batchRows: 16384 })) check += b.rows.length;
      });
    await bench.run();
    const mean = (name: string) => (bench.tasks.find((t) => t.name === name)!.result as { latency: { mean: number } }).latency.mean;
    const base = mean('raw pg.Client, same parsers (baseline)');
    console.log(machine(`PostgreSQL at ${host}:${port}; ${ROWS} rows × 7 columns; check ${check}`));
    console.table(bench.tasks.map((t) => ({ case: t.name, 'ms/fetch': mean(t.name).toFixed(1), 'vs raw pg': (mean(t.name) / base).toFixed(2) })));
  } finally {
    await raw.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch(() => {});
    await raw.end();
    await same.end();
    await adapter.close();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
