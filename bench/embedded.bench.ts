/**
 * Embedded PostgreSQL server life cycle (issue: embedded backend). In one process, on a fresh
 * directory under the OS temp dir:
 *   - first use: initdb + start (timed once per round, ROUNDS rounds on fresh directories)
 *   - start of an initialized, stopped server; fast shutdown
 *   - ensureEmbeddedServer while the server runs (the call every thread and process makes), as a
 *     ratio to its floor, one read of the info file, and to what follows it, a pg connect + SELECT 1
 *   - memory of the idle server: RSS of the postmaster, and RSS / PSS summed over its processes
 *     (RSS counts shared buffers once per process; PSS shares them out)
 * Run: npx tsx bench/embedded.bench.ts
 */
import { readFileSync, readdirSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { Bench } from 'tinybench';
import { ensureEmbeddedServer, stopEmbeddedServer } from '../src/adapters/embedded/server.js';
import { RECORD_FILE } from '../src/adapters/embedded/record.js';

const ROUNDS = 2;
const STARTS = 5;
const root = join(tmpdir(), `djbench_embedded_${process.pid}`);

async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const t = performance.now();
  const r = await fn();
  return [r, performance.now() - t];
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** kB of a /proc/<pid>/status or smaps_rollup field. */
function procKb(pid: number, file: string, field: string): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/${file}`, 'utf8'));
  return m ? Number(m[1]) : 0;
}

function serverProcesses(postmaster: number): number[] {
  const kids = readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .filter((d) => {
      try {
        const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
        return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === postmaster;
      } catch {
        return false;
      }
    })
    .map(Number);
  return [postmaster, ...kids];
}

async function main() {
  const inits: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    const dir = join(root, `init${i}`);
    const [, ms] = await timed(() => ensureEmbeddedServer({ dir }));
    inits.push(ms);
    if (i < ROUNDS - 1) await stopEmbeddedServer(dir);
  }
  const dir = join(root, `init${ROUNDS - 1}`);

  const starts: number[] = [];
  const stops: number[] = [];
  for (let i = 0; i < STARTS; i++) {
    stops.push((await timed(() => stopEmbeddedServer(dir)))[1]);
    starts.push((await timed(() => ensureEmbeddedServer({ dir })))[1]);
  }
  const info = await ensureEmbeddedServer({ dir });
  const client = () => new pg.Client({ host: info.host, port: info.port, user: info.user, password: info.password, database: info.database });

  const bench = new Bench({ time: 1000, warmupTime: 200 });
  bench
    .add('baseline: readFile(server.json)', async () => void (await readFile(join(dir, RECORD_FILE), 'utf8')))
    .add('ensureEmbeddedServer (running)', async () => void (await ensureEmbeddedServer({ dir })))
    .add('pg connect + SELECT 1 + end', async () => {
      const c = client();
      await c.connect();
      await c.query('SELECT 1');
      await c.end();
    });
  await bench.run();
  const mean = (name: string) => (bench.tasks.find((t) => t.name === name)!.result as { latency?: { mean: number } }).latency?.mean ?? NaN;
  const base = mean('baseline: readFile(server.json)');

  // Let the connections of the benchmark go away, then measure the idle server.
  await new Promise((r) => setTimeout(r, 500));
  const procs = serverProcesses(info.pid);
  const rss = procs.reduce((s, p) => s + procKb(p, 'status', 'VmRSS'), 0);
  const pss = procs.reduce((s, p) => s + procKb(p, 'smaps_rollup', 'Pss'), 0);

  console.log(`machine: ${cpus().length} × ${cpus()[0]?.model}, node ${process.version}; PostgreSQL ${info.version}`);
  console.table([
    { case: 'first use (initdb + start)', 'ms': inits.map((x) => x.toFixed(0)).join(', ') },
    { case: `start (stopped → running), median of ${STARTS}`, 'ms': median(starts).toFixed(0) },
    { case: `stop (fast shutdown), median of ${STARTS}`, 'ms': median(stops).toFixed(0) },
  ]);
  console.table(
    bench.tasks.map((t) => ({ case: t.name, 'mean ms': mean(t.name).toFixed(3), 'vs baseline': (mean(t.name) / base).toFixed(2) })),
  );
  console.table([
    { memory: 'postmaster RSS', MB: (procKb(info.pid, 'status', 'VmRSS') / 1024).toFixed(1) },
    { memory: `RSS summed over ${procs.length} server processes`, MB: (rss / 1024).toFixed(1) },
    { memory: `PSS summed over ${procs.length} server processes`, MB: (pss / 1024).toFixed(1) },
  ]);
}

main()
  .catch((e) => {
    console.error(e);
    process.exitCode = 1;
  })
  .finally(async () => {
    for (let i = 0; i < ROUNDS; i++) await stopEmbeddedServer(join(root, `init${i}`)).catch(() => undefined);
    rmSync(root, { recursive: true, force: true });
  });
