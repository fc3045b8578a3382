/**
 * The main job (examples/imaging/, `npm run demo`) end to end, on the embedded backend by
 * default (DJ_BENCH_BACKENDS=mysql,postgresql,embedded for more), each backend in its own
 * process so that its peak RSS is its own. Reports, per backend: end-to-end seconds and peak
 * RSS; acquisition MB/s (simulating the frames and writing them into Zarr through stagedInsert1); the analysis with processes 1 and N
 * and the speedup; and the overhead of running the analysis as a DataJoint pipeline, per make:
 * the processes-1 time minus the time its makeCompute calls took (measured in the same run, so a
 * busy machine slows both alike), and as a ratio against the same analysis functions called
 * directly on movies already in memory (no database, no store, no Zarr). The speedup is set
 * against the same analysis on 1 and N plain worker threads without DataJoint: what the machine
 * gives a CPU-bound job at that moment (a shared machine gives less than N).
 *   npx tsx bench/main-job.bench.ts     (DJ_BENCH_SCANS, DJ_BENCH_FRAMES, DJ_BENCH_SIZE,
 *                                        DJ_BENCH_PROCESSES to change the sizes)
 */
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import * as dj from '../src/index.js';
import { machine, perBackend } from './common.js';

const env = (name: string, d: number) => Math.max(1, Number(process.env[name] ?? d) || d);

interface Result {
  seconds: number;
  peakRssMB: number;
  acquireMBps: number;
  p1: number;
  pN: number;
  processes: number;
  speedup: number;
  identical: boolean;
  direct: number;
  directN: number;
  compute: number;
  makes: number;
  load: number;
}

/** Seconds for `n` plain worker threads to analyse the movies (dealt round-robin), start-up excluded. */
async function plainThreads(n: number, movies: Array<{ data: Uint16Array }>, work: Record<string, unknown>): Promise<number> {
  const workers = Array.from({ length: n }, () => new Worker(new URL('./imaging-worker.mjs', import.meta.url)));
  try {
    await Promise.all(workers.map((w) => once(w, 'message')));
    const t0 = performance.now();
    await Promise.all(
      workers.map((w, i) => {
        w.postMessage({ ...work, movies: movies.filter((_, k) => k % n === i) });
        return once(w, 'message');
      }),
    );
    return (performance.now() - t0) / 1000;
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}

async function child(): Promise<Result> {
  process.env.DJ_IMAGING_SCHEMA = `djbench_mainjob_${process.pid}`;
  const root = mkdtempSync(join(tmpdir(), 'djbench_mainjob_'));
  mkdirSync(join(root, 'store'));
  dj.config.set('stores', { default: 'main', main: { protocol: 'file', location: join(root, 'store') } });
  const { DEFAULTS, runMainJob } = await import('../examples/imaging/job.js');
  const { schema, MAX_SHIFT, SegmentationParam, MotionCorrection, Segmentation, Fluorescence } = await import('../examples/imaging/pipeline.js');
  // Time every makeCompute that runs in this thread (all of them with processes: 1).
  let computeSeconds = 0;
  for (const cls of [MotionCorrection, Segmentation, Fluorescence]) {
    const proto = cls.prototype as unknown as { makeCompute(...a: unknown[]): unknown };
    const compute = proto.makeCompute;
    proto.makeCompute = function (this: unknown, ...a: unknown[]) {
      const t0 = performance.now();
      try {
        return compute.apply(this, a);
      } finally {
        computeSeconds += (performance.now() - t0) / 1000;
      }
    };
  }
  const opts = {
    ...DEFAULTS,
    scans: env('DJ_BENCH_SCANS', DEFAULTS.scans),
    frames: env('DJ_BENCH_FRAMES', DEFAULTS.frames),
    size: env('DJ_BENCH_SIZE', DEFAULTS.size),
  };
  const processes = env('DJ_BENCH_PROCESSES', Math.max(2, availableParallelism()));
  try {
    const r = await runMainJob({ ...opts, processes, outDir: null, progress: false, log: (l) => process.stderr.write(`  ${l}\n`) });
    // Baselines: the same analysis on the same movies in memory, without DataJoint, on 1 and
    // on N plain worker threads (started before the clock starts).
    const { simulate } = await import('../examples/imaging/synth.js');
    const movies = Array.from({ length: opts.scans }, (_, s) => {
      const spec = { frames: opts.frames, height: opts.size, width: opts.size, fps: opts.fps, cells: opts.cells, maxShift: opts.maxShift, seed: 1000 + s };
      return { data: simulate(spec).render(0, opts.frames), frames: opts.frames, height: opts.size, width: opts.size };
    });
    const [p] = SegmentationParam.contents as Array<[number, number, number, number, number]>;
    const work = { maxShift: MAX_SHIFT, params: { corrThreshold: p![1], minArea: p![2], maxRadius: p![3], growFraction: p![4] }, fps: opts.fps };
    const direct = await plainThreads(1, movies, work);
    const directN = await plainThreads(processes, movies, work);
    const [one, many] = r.runs as [(typeof r.runs)[0], (typeof r.runs)[0]];
    return {
      seconds: r.seconds,
      peakRssMB: r.peakRssMB,
      acquireMBps: r.rawBytes / 2 ** 20 / r.acquireSeconds,
      p1: one.seconds,
      pN: many.seconds,
      processes,
      speedup: r.speedup,
      identical: r.identical,
      direct,
      directN,
      compute: computeSeconds,
      makes: 3 * opts.scans,
      load: loadavg()[0]!,
    };
  } finally {
    await schema.drop({ prompt: false }).catch(() => {});
    rmSync(root, { recursive: true, force: true });
  }
}

const results = await perBackend(import.meta.url, () => child(), 'embedded');
if (results) {
  console.log(machine(`load average ${loadavg()[0]!.toFixed(1)} at the end`));
  console.log(
    `main job: ${env('DJ_BENCH_SCANS', 8)} scans × ${env('DJ_BENCH_FRAMES', 500)} frames of ${env('DJ_BENCH_SIZE', 128)}² px, ` +
      `3 three-part tables (MotionCorrection, Segmentation, Fluorescence)\n`,
  );
  console.log('backend     end-to-end  peak RSS  simulate+write  processes 1  processes N     speedup  identical  overhead per make  load');
  for (const [b, r] of Object.entries(results)) {
    const overheadMs = ((r.p1 - r.compute) / r.makes) * 1000;
    console.log(
      `${b.padEnd(11)} ${r.seconds.toFixed(1).padStart(8)} s ${r.peakRssMB.toFixed(0).padStart(6)} MB ${r.acquireMBps.toFixed(0).padStart(9)} MB/s ` +
        `${r.p1.toFixed(2).padStart(9)} s  ${r.pN.toFixed(2).padStart(7)} s (${r.processes}) ×${r.speedup.toFixed(2).padStart(5)}  ${String(r.identical).padEnd(9)} ` +
        `${overheadMs.toFixed(0).padStart(12)} ms     ${r.load.toFixed(1)}`,
    );
  }
  console.log('\nbaseline: the same analysis without DataJoint (movies in memory, plain worker threads, start-up excluded)');
  console.log('backend     1 thread   N threads  plain speedup  DataJoint speedup / plain   processes 1 / 1 thread');
  for (const [b, r] of Object.entries(results)) {
    const plain = r.direct / r.directN;
    console.log(
      `${b.padEnd(11)} ${r.direct.toFixed(2).padStart(6)} s  ${r.directN.toFixed(2).padStart(7)} s  ×${plain.toFixed(2).padStart(12)}  ` +
        `${(r.speedup / plain).toFixed(2).padStart(25)}   ×${(r.p1 / r.direct).toFixed(2).padStart(20)}`,
    );
  }
  console.log('\nplain speedup: what this machine gives the analysis itself on N threads right now (busy cores lower it);');
  console.log('overhead per make: (processes 1 − its makeCompute time) / makes: reading the Zarr movie twice (fetch, and again for the');
  console.log('  change check) and hashing it twice, blobs, inserts, transactions, job bookkeeping.');
}
