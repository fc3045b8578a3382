/**
 * dj.blob.pack / unpack throughput, native backend vs pure TypeScript (issue: blob serialization).
 * Cases: 100 MB float64 random, 100 MB float64 zeros, 1,000,000 int32, 10,000 small dicts; each
 * packed with compress on and off, then unpacked. The backend is chosen when the library loads,
 * so the TypeScript figures come from this same script re-run with DJ_NATIVE=0 in a child
 * process; the table shows both and their ratio.
 *   npx tsx bench/blob.bench.ts          (DJ_BENCH_MB=20 for smaller arrays)
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import v8 from 'node:v8';
import vm from 'node:vm';
import { Bench } from 'tinybench';
import * as dj from '../src/index.js';
import { machine } from './common.js';

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;
const MB = Number(process.env.DJ_BENCH_MB ?? 100);
const N64 = Math.floor((MB * 2 ** 20) / 8);

function cases(): Array<{ name: string; value: unknown }> {
  const rand = new Float64Array(N64);
  for (let i = 0; i < N64; i++) rand[i] = Math.random();
  const ints = Int32Array.from({ length: 1_000_000 }, (_, i) => (i * 2654435761) | 0);
  const dicts = Array.from({ length: 10_000 }, (_, i) => ({ id: i, name: `item-${i}`, score: i / 7, ok: i % 2 === 0 }));
  const nd = (data: Float64Array | Int32Array, dtype: 'float64' | 'int32') => new dj.NDArray({ dtype, shape: [data.length], data, order: 'F' });
  return [
    { name: `${MB} MB float64 random`, value: nd(rand, 'float64') },
    { name: `${MB} MB float64 zeros`, value: nd(new Float64Array(N64), 'float64') },
    { name: '1,000,000 int32', value: nd(ints, 'int32') },
    { name: '10,000 small dicts', value: dicts },
  ];
}

interface Result {
  case: string;
  op: string;
  mbps: number;
  bytes: number;
}

async function measure(): Promise<Result[]> {
  const out: Result[] = [];
  for (const c of cases()) {
    for (const compress of [false, true]) {
      const packed = dj.blob.pack(c.value, { compress });
      // Throughput is counted on the uncompressed blob size, so compress on/off compare directly.
      const size = dj.blob.pack(c.value, { compress: false }).length;
      const bench = new Bench({ iterations: 3, warmupIterations: 1, time: 0 });
      bench.add('pack', () => void dj.blob.pack(c.value, { compress }), { beforeEach: () => gc() });
      bench.add('unpack', () => void dj.blob.unpack(packed), { beforeEach: () => gc() });
      await bench.run();
      for (const t of bench.tasks) {
        const ms = (t.result as { latency: { p50?: number; mean: number } }).latency.p50 ?? (t.result as { latency: { mean: number } }).latency.mean;
        out.push({ case: c.name, op: `${t.name}, compress ${compress ? 'on' : 'off'}`, mbps: size / 1e6 / (ms / 1000), bytes: packed.length });
      }
    }
  }
  return out;
}

if (process.env.DJ_BENCH_CHILD) {
  process.stdout.write(JSON.stringify({ backend: dj.blob.backend, results: await measure() }));
} else {
  const here = fileURLToPath(import.meta.url);
  const native = { backend: dj.blob.backend, results: await measure() };
  const ts = spawnSync(process.execPath, ['--import', 'tsx', here], { env: { ...process.env, DJ_NATIVE: '0', DJ_BENCH_CHILD: '1' }, encoding: 'utf8', maxBuffer: 1 << 24 });
  const tsResults = JSON.parse(ts.stdout.trim().split('\n').pop()!) as { backend: string; results: Result[] };
  console.log(machine(`backends: ${native.backend} vs ${tsResults.backend}; MB/s counted on the uncompressed blob size`));
  console.table(
    native.results.map((r, i) => ({
      case: r.case,
      op: r.op,
      'blob bytes': r.bytes,
      [`${native.backend} MB/s`]: Math.round(r.mbps),
      'typescript MB/s': Math.round(tsResults.results[i]!.mbps),
      'native / ts': (r.mbps / tsResults.results[i]!.mbps).toFixed(2),
    })),
  );
}
