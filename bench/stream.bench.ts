/**
 * Streaming 1,000,000 rows (issue: performance #3): `for await (const row of T)` against
 * `toDicts()` (time) and against the raw driver's own row stream (time and peak RSS). Each case
 * runs in a fresh process so that its peak RSS is its own; one table per backend.
 * Run: npx tsx bench/stream.bench.ts   (DJ_BENCH_BACKENDS=mysql,postgresql)
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import * as dj from '../src/index.js';
import { BACKEND_ENV, machine, rawDriverConfig } from './common.js';

const N = Number(process.env.DJ_BENCH_ROWS ?? 1_000_000);
const DB = 'djbench_stream';

function table() {
  const schema = dj.schema(DB);
  class Row3 extends dj.Manual {
    static definition = `id : int32\n---\nx : float64\nlabel : varchar(32)`;
  }
  schema.add(Row3);
  return { schema, Row3 };
}

/** One measured case in this process: prints { ms, rssMB }. */
async function runCase(backend: string, which: string): Promise<void> {
  const { Row3 } = table();
  await Row3.declare();
  const before = process.memoryUsage().rss;
  const t0 = performance.now();
  let n = 0;
  if (which === 'toDicts') n = (await Row3.toDicts()).length;
  else if (which === 'forAwait') for await (const _row of Row3) n++;
  else {
    const cfg = await rawDriverConfig(backend);
    const sql = `SELECT id, x, label FROM ${Row3.fullTableName}`;
    if (backend === 'mysql') {
      const mysql = (await import('mysql2')).default;
      const c = mysql.createConnection({ host: cfg.host, port: cfg.port, user: cfg.user, password: cfg.password });
      for await (const _row of c.query(sql).stream({ highWaterMark: 1024 })) n++;
      c.end();
    } else {
      const pg = (await import('pg')).default;
      const Cursor = (await import('pg-cursor')).default;
      const c = new pg.Client(cfg);
      await c.connect();
      const cursor = c.query(new Cursor(sql));
      for (;;) {
        const rows = await cursor.read(1024);
        if (!rows.length) break;
        n += rows.length;
      }
      await cursor.close();
      await c.end();
    }
  }
  const ms = performance.now() - t0;
  if (n !== N) throw new Error(`${which}: ${n} rows, expected ${N}`);
  console.log(JSON.stringify({ ms, rssMB: process.resourceUsage().maxRSS / 1024, baseMB: before / 2 ** 20 }));
  await dj.closeAll();
}

async function main(): Promise<void> {
  const out: Array<Record<string, string>> = [];
  for (const backend of (process.env.DJ_BENCH_BACKENDS ?? 'mysql,postgresql').split(',')) {
    const env = { ...process.env, ...BACKEND_ENV[backend] };
    const child = (args: string[]) => {
      const r = spawnSync(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), ...args], { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
      if (r.status !== 0) throw new Error(`${args.join(' ')} failed`);
      return JSON.parse(r.stdout.trim().split('\n').pop()!) as { ms: number; rssMB: number; baseMB: number };
    };
    process.stderr.write(`${backend}: filling ${N} rows…\n`);
    child(['--fill', backend]);
    const cases = ['raw', 'toDicts', 'forAwait'];
    const best: Record<string, { ms: number; rssMB: number; baseMB: number }> = {};
    for (let round = 0; round < 3; round++)
      for (const c of cases) {
        const r = child(['--case', backend, c]);
        if (!best[c] || r.ms < best[c].ms) best[c] = { ...r, rssMB: Math.min(r.rssMB, best[c]?.rssMB ?? Infinity) };
        process.stderr.write(`  [${backend}] ${c}: ${r.ms.toFixed(0)} ms, peak RSS ${r.rssMB.toFixed(0)} MB\n`);
      }
    child(['--drop', backend]);
    const raw = best.raw!;
    out.push(
      ...cases.map((c) => ({
        backend,
        case: c === 'raw' ? 'raw driver stream' : c === 'toDicts' ? 'toDicts()' : 'for await',
        'rows/s': String(Math.round(N / (best[c]!.ms / 1000))),
        'peak RSS MB': best[c]!.rssMB.toFixed(0),
        'RSS vs raw stream': (best[c]!.rssMB / raw.rssMB).toFixed(2),
        'speed vs toDicts': (best.toDicts!.ms / best[c]!.ms).toFixed(2),
      })),
    );
  }
  console.log(machine(`${N} rows of (int32, float64, varchar(32)), best of 3, each case in a fresh process`));
  console.table(out);
  console.log('targets: for await ≥ 0.8× toDicts, peak RSS ≤ 1.5× the raw driver stream');
}

const [mode, backend, which] = process.argv.slice(2);
if (mode === '--case') await runCase(backend!, which!);
else if (mode === '--fill' || mode === '--drop') {
  const { schema, Row3 } = table();
  dj.config.set('safemode', false);
  await schema.drop({ prompt: false });
  if (mode === '--fill') {
    await Row3.declare();
    for (let i = 0; i < N; i += 100_000)
      await Row3.insert(Array.from({ length: Math.min(100_000, N - i) }, (_, j) => ({ id: i + j, x: Math.random(), label: `label-${(i + j).toString(36)}` })));
  }
  console.log('{"ms":0,"rssMB":0,"baseMB":0}');
  await dj.closeAll();
} else await main();
