/**
 * The compute runtime (populate({ processes: N })) on this machine, ratios from one run; the
 * first-call and CPU-bound ratios are medians of ROUNDS interleaved rounds, each against its own
 * processes-1 call, shown with their range (one call apart, this machine varies by ±20–30%):
 *   - trivial make (fetch1 + insert1), processes 2 vs 1: on a first call (pool start-up
 *     included: threads, module imports, connections) and with the pool kept from a call before;
 *   - the trivial make's ceiling on this machine: the same SELECT and INSERT with the raw driver
 *     on bare worker threads, two against one, from a cold start and warm (no library);
 *   - the same first call with tables laid out as users ship them, a TypeScript or a JavaScript
 *     module importing the built package (needs `npm run build`), as the only call of a new
 *     process (a script run once: neither thread's code compiled by an earlier call), and with
 *     populate.adaptive_start
 *     (threads started only when the work pays for them; keys made here until they are up);
 *   - populate's own cost per key: populate (processes 1) against the cheapest loop doing the
 *     same make's work (fetch1 + insert1, 64 keys per transaction), interleaved pairs, median;
 *   - CPU-bound make (~50 ms of fixed arithmetic per key): speedup of 2 over 1, against the same
 *     arithmetic on two bare worker threads (this machine's ceiling), and the time per key beyond
 *     the arithmetic, beside the same work done in a plain loop without populate (what the
 *     database's round trips cost by themselves);
 *   - I/O-bound make (1 MB <blob> in, 1 MB <blob> out): processes 2 vs 1, against the same bytes
 *     moved by the raw driver on two connections against one (what the server allows);
 *   - three-part make moving 16 MB per key (fetch → compute on a worker → insert): MB/s with
 *     processes 1 and 2, against a plain copy of the same bytes, and the hand-off alone: moving
 *     16 MB to a worker and back (transfer) against structured-clone copies.
 * The backend is MariaDB unless DJ_BENCH_BACKENDS names others (mysql,postgresql,embedded).
 *   npx tsx bench/runtime.bench.ts     (DJ_BENCH_SCALE=0.5 for a shorter run)
 */
import { Worker } from 'node:worker_threads';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { machine, perBackend, rawDriverConfig } from './common.js';
import { rawTrivial } from './runtime-trivial-raw.mjs';

const scale = Number(process.env.DJ_BENCH_SCALE ?? 1) || 1;
const TRIVIAL_KEYS = Math.round(2000 * scale);
const BUSY_KEYS = Math.round(100 * scale);
const IO_KEYS = Math.round(60 * scale);
const BIG_KEYS = Math.max(4, Math.round(8 * scale));

/** Rounds of interleaved calls each ratio is the median of (this machine's noise is ±20–30%). */
const ROUNDS = 3;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
/** A median ratio with the range of its rounds. */
interface Ratio {
  median: number;
  min: number;
  max: number;
}
const ratioOf = (xs: number[]): Ratio => ({ median: median(xs), min: Math.min(...xs), max: Math.max(...xs) });
const showRatio = (r: Ratio) => `${r.median.toFixed(2)}× (${r.min.toFixed(2)}…${r.max.toFixed(2)})`;

/** Keys/s (medians) with processes 1, 2 on a first call, 2 on a kept pool; the first call's extra ms. */
interface Calls {
  p1: number;
  p2First: number;
  p2Warm: number;
  /** p2 on a cold pool against p1, and p2 on the pool kept from it, round by round. */
  firstRatio: Ratio;
  warmRatio: Ratio;
  /** The kept pool's fourth call (its threads' code compiled further by the calls before). */
  p2Later?: number;
  startupMs: number;
}
interface Out {
  trivial: Calls;
  /** The trivial make with the raw driver on bare threads, 2 vs 1: warm, and from a cold start; keys/s on one warm thread. */
  trivialRaw: { warm: Ratio; cold: Ratio; keysPerSecond: number };
  /** The same with populate.adaptive_start. */
  adaptive: Calls;
  /** populate p1 − the cheapest equivalent loop, µs per key: median and range of the pairs. */
  ownCost: { medianUs: number; minUs: number; maxUs: number; populateUs: number; loopUs: number };
  /** The trivial case's first call with tables importing the built package (empty: no dist/). */
  layouts: Array<Calls & { name: string }>;
  /** A second table module's first call on the pool another module started (null: no dist/). */
  secondModule: Calls | null;
  /** The JavaScript layout's call as the only one of a new process, p2 against p1 (null: no dist/). */
  freshProcess: { p1: number; p2: number; ratio: Ratio } | null;
  busy: { speedup: Ratio; p1: number; p2: number; p2First: number; p2FirstAdaptive: number; bareRatio: number; workMs: number; overheadP1Ms: number; overheadP2Ms: number; loopOverheadMs: number };
  /** Keys/s of populate p1, p2 and of the raw driver on 1, 2 connections (medians), with the rounds' ratios. */
  io: { p1: number; p2: number; ratio: Ratio; raw1: number; raw2: number; rawRatio: Ratio };
  big: { p1MBps: number; p2MBps: number; copyMBps: number; transferMs: number; cloneMs: number };
}

const secs = async (fn: () => Promise<unknown>) => {
  const t0 = performance.now();
  await fn();
  return (performance.now() - t0) / 1000;
};
const log = (s: string) => process.stderr.write(`  ${s}\n`);

interface Countable {
  deleteQuick(): Promise<number>;
  populate(opts: { processes: number }): Promise<unknown>;
  count(): Promise<number>;
}
/** Seconds to populate the trivial table (emptied first) with `processes`; every key made. */
const timeTrivial = (table: Countable) => async (processes: number) => {
  await table.deleteQuick();
  const s = await secs(() => table.populate({ processes }));
  if ((await table.count()) !== TRIVIAL_KEYS) throw new Error('trivial: keys missed');
  return s;
};
/**
 * After one p1 call that warms the server's caches and this thread's JIT (as on any later run),
 * ROUNDS rounds of: p1; p2 on a cold pool (its threads stopped first: start-up included); p2
 * again on the pool that call started. Each round gives a first-call and a kept-pool ratio
 * against its own p1; the medians are reported with their range, and what the first call cost
 * beyond the kept pool's.
 */
async function firstCall(run: (processes: number) => Promise<number>, coldPool: () => Promise<void>): Promise<Calls> {
  await run(1);
  const p1: number[] = [];
  const first: number[] = [];
  const warm: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    p1.push(await run(1));
    await coldPool();
    first.push(await run(2));
    warm.push(await run(2));
  }
  return {
    p1: TRIVIAL_KEYS / median(p1),
    p2First: TRIVIAL_KEYS / median(first),
    p2Warm: TRIVIAL_KEYS / median(warm),
    firstRatio: ratioOf(p1.map((s, i) => s / first[i]!)),
    warmRatio: ratioOf(p1.map((s, i) => s / warm[i]!)),
    startupMs: median(first.map((s, i) => s - warm[i]!)) * 1000,
  };
}

async function child(backend: string): Promise<Out> {
  process.env.DJ_BENCH_DB = `djbench_runtime_${process.pid}`;
  const dj = await import('../src/index.js');
  const { closePools } = await import('../src/populate/pool.js');
  const { packForTransfer, unpackTransferred } = await import('../src/populate/transfer.js');
  const { rawIo } = await import('./runtime-io-raw.js');
  const { schema, Src, Trivial, Busy, Signal, Filtered, RawOut, Volume, Scaled, IO_BYTES, BIG_BYTES, SLABS, work, BUSY_ITERATIONS } = await import('./runtime-pipeline.js');
  await schema.drop({ prompt: false });
  log(`${backend}: filling (${TRIVIAL_KEYS} keys, ${IO_KEYS} × 1 MB, ${BIG_KEYS} × 16 MB)`);
  await Src.insert(Array.from({ length: TRIVIAL_KEYS }, (_, i) => ({ src_id: i, x: i })));
  const noise = (n: number, seed: number) => Float64Array.from({ length: n }, (_, i) => Math.sin(i * 0.001 + seed) + ((i * 2654435761) % 1000) / 1e6);
  for (let i = 0; i < IO_KEYS; i++) await Signal.insert1({ sig_id: i, samples: dj.NDArray.from(noise(IO_BYTES / 8, i)) });
  for (let i = 0; i < BIG_KEYS; i++) {
    await Volume.insert1({ vol_id: i });
    for (let slab = 0; slab < SLABS; slab++) await Volume.Slab.insert1({ vol_id: i, slab, voxels: dj.NDArray.from(noise(BIG_BYTES / 8 / SLABS, i * SLABS + slab)) });
  }

  const trivial: Calls = await firstCall(timeTrivial(Trivial), closePools);
  await timeTrivial(Trivial)(2);
  trivial.p2Later = TRIVIAL_KEYS / (await timeTrivial(Trivial)(2));
  log(`trivial: p1 ${trivial.p1.toFixed(0)} keys/s, p2 first ${trivial.p2First.toFixed(0)}, p2 warm ${trivial.p2Warm.toFixed(0)}`);
  // This machine's ceiling for the trivial make: the raw driver on bare threads, no library.
  const rawT = await rawTrivial(backend, await rawDriverConfig(backend), TRIVIAL_KEYS, Src.fullTableName, Trivial.fullTableName);
  const rawRounds: Array<[number, number, number, number]> = [];
  for (let i = 0; i < ROUNDS; i++) rawRounds.push([await rawT.warm(1), await rawT.warm(2), await rawT.cold(1), await rawT.cold(2)]);
  await rawT.close();
  const trivialRaw = {
    warm: ratioOf(rawRounds.map((r) => r[0] / r[1])),
    cold: ratioOf(rawRounds.map((r) => r[2] / r[3])),
    keysPerSecond: TRIVIAL_KEYS / median(rawRounds.map((r) => r[0])),
  };
  log(`trivial, raw driver on bare threads: 2 vs 1 warm ${showRatio(trivialRaw.warm)}, cold start ${showRatio(trivialRaw.cold)}`);
  // Adaptive start's pools are apart from the others: the setting is part of their key.
  const adaptiveStart = { 'populate.adaptive_start': true };
  const adaptive = await dj.config.override(adaptiveStart, () => firstCall(timeTrivial(Trivial), closePools));
  log(`trivial, adaptive start: p1 ${adaptive.p1.toFixed(0)} keys/s, p2 first ${adaptive.p2First.toFixed(0)}, p2 again ${adaptive.p2Warm.toFixed(0)}`);

  // populate's own cost per key: the trivial make's work (fetch1 + insert1) done by populate and
  // by the cheapest loop that keeps each make's writes in a transaction (64 keys per commit).
  const conn = dj.conn();
  const loopTrivial = async () => {
    await Trivial.deleteQuick();
    return secs(async () => {
      for (let g = 0; g < TRIVIAL_KEYS; g += 64)
        await conn.transaction(async () => {
          for (let i = g; i < Math.min(TRIVIAL_KEYS, g + 64); i++) {
            const x = (await Src.restrict({ src_id: i }).fetch1('x')) as number;
            await Trivial.insert1({ src_id: i, y: x * 2 }, { allowDirectInsert: true });
          }
        });
    });
  };
  const run1 = timeTrivial(Trivial);
  await loopTrivial();
  const pairs: Array<[number, number]> = [];
  for (let i = 0; i < 5; i++) pairs.push([await run1(1), await loopTrivial()]);
  const us = (s: number) => (s * 1e6) / TRIVIAL_KEYS;
  const diffs = pairs.map(([p, l]) => us(p) - us(l)).sort((a, b) => a - b);
  const ownCost = { medianUs: diffs[2]!, minUs: diffs[0]!, maxUs: diffs[4]!, populateUs: us(pairs.map((p) => p[0]).sort()[2]!), loopUs: us(pairs.map((p) => p[1]).sort()[2]!) };
  log(`populate's own cost: ${ownCost.medianUs.toFixed(0)} µs/key (${ownCost.minUs.toFixed(0)}…${ownCost.maxUs.toFixed(0)})`);

  // The same first call as users lay out their code: tables in TypeScript (run with tsx) or in
  // compiled JavaScript, importing the built package (dist/). The worker threads then load the
  // library as JavaScript, and tsx (for a TypeScript module) for that module only.
  const layouts: Out['layouts'] = [];
  let secondModule: Out['secondModule'] = null;
  let freshProcess: Out['freshProcess'] = null;
  if (existsSync(new URL('../dist/index.js', import.meta.url))) {
    type Layout = typeof import('./runtime-pipeline-js.mjs');
    const modules: Layout[] = [];
    for (const [name, load] of [
      ['JavaScript module, built package', () => import('./runtime-pipeline-js.mjs')],
      ['TypeScript module, built package', () => import('./runtime-pipeline-ts.js')],
    ] as const) {
      const m = (await load()) as Layout;
      modules.push(m);
      // Each layout from a cold pool: one pool serves every module of the package's copy.
      await m.closeAll();
      await m.schema.drop({ prompt: false });
      await m.Src.insert(Array.from({ length: TRIVIAL_KEYS }, (_, i) => ({ src_id: i, x: i })));
      const l = await firstCall(timeTrivial(m.Trivial), m.closePools);
      layouts.push({ name, ...l });
      log(`${name}: p1 ${l.p1.toFixed(0)} keys/s, p2 first ${l.p2First.toFixed(0)} (start-up ${l.startupMs.toFixed(0)} ms), p2 warm ${l.p2Warm.toFixed(0)}`);
    }
    // A second module's first call: the JavaScript module on the threads the TypeScript one
    // started (they import it on its first task), against its own warm call and p1.
    const run = timeTrivial(modules[0]!.Trivial);
    const first = await run(2);
    const warm = await run(2);
    const p1 = await run(1);
    const one = (r: number): Ratio => ({ median: r, min: r, max: r });
    secondModule = { p1: TRIVIAL_KEYS / p1, p2First: TRIVIAL_KEYS / first, p2Warm: TRIVIAL_KEYS / warm, firstRatio: one(p1 / first), warmRatio: one(p1 / warm), startupMs: (first - warm) * 1000 };
    // A script run once: each call in a new process (import, connect, one populate), p1 and p2
    // in turns, so neither thread's code is compiled by a call before it.
    const { execFileSync } = await import('node:child_process');
    const fresh = (processes: number) => {
      const out = execFileSync(process.execPath, [new URL('./runtime-fresh-call.mjs', import.meta.url).pathname, String(processes)], { encoding: 'utf8', env: process.env, stdio: ['ignore', 'pipe', 'inherit'] });
      const r = JSON.parse(out.trim().split('\n').pop()!) as { seconds: number; made: number };
      if (r.made !== TRIVIAL_KEYS) throw new Error('fresh call: keys missed');
      return r.seconds;
    };
    const freshRounds: Array<[number, number]> = [];
    for (let i = 0; i < ROUNDS; i++) freshRounds.push([fresh(1), fresh(2)]);
    freshProcess = { p1: TRIVIAL_KEYS / median(freshRounds.map((r) => r[0])), p2: TRIVIAL_KEYS / median(freshRounds.map((r) => r[1])), ratio: ratioOf(freshRounds.map(([a, b]) => a / b)) };
    log(`a new process's only call: p1 ${freshProcess.p1.toFixed(0)} keys/s, p2 ${freshProcess.p2.toFixed(0)}: ${showRatio(freshProcess.ratio)}`);
    log(`second module: p1 ${secondModule.p1.toFixed(0)} keys/s, p2 first ${secondModule.p2First.toFixed(0)} (start-up ${secondModule.startupMs.toFixed(0)} ms), p2 warm ${secondModule.p2Warm.toFixed(0)}`);
    for (const m of modules) await m.schema.drop({ prompt: false });
    // The built package's pools and connections (this copy's pools stay: the cases below use them).
    await modules[0]!.closeAll();
  } else log('no dist/: run `npm run build` to also time the first call with the built package');

  // CPU-bound: each make records how long its arithmetic took; populate's overhead per key is
  // the rest of the threads' time (wall × processes − arithmetic), whatever the machine's speed.
  const busy = async (processes: number) => {
    await Busy.deleteQuick();
    const s = await secs(() => Busy.populate({ processes, restrict: `src_id < ${BUSY_KEYS}` }));
    const workMs = ((await Busy.toArrays('work_ms')) as Float64Array).reduce((a, b) => a + b, 0);
    return { s, workMs, overheadMs: (s * 1000 * processes - workMs) / BUSY_KEYS };
  };
  // Interleaved rounds on a kept pool whose threads have made a few of these keys before.
  await Busy.populate({ processes: 2, restrict: 'src_id < 4' });
  const busyRounds: Array<[Awaited<ReturnType<typeof busy>>, Awaited<ReturnType<typeof busy>>]> = [];
  for (let i = 0; i < ROUNDS; i++) busyRounds.push([await busy(1), await busy(2)]);
  const speedup = ratioOf(busyRounds.map(([a, b]) => a.s / b.s));
  // The round whose speedup is the median one gives the times per key.
  const [bu1, bu2] = busyRounds.find(([a, b]) => a.s / b.s === speedup.median)!;
  // The same with the pool's start-up in it (threads, module imports, connections).
  await closePools();
  const bu2First = await busy(2);
  const bu2FirstAdaptive = await dj.config.override(adaptiveStart, async () => {
    await closePools();
    return busy(2);
  });
  // This machine's ceiling: the same arithmetic on one and on two bare worker threads.
  const bare = async (threads: number) => {
    const code = `const { parentPort, workerData: [n, its] } = require('node:worker_threads');
      ${work.toString()}
      parentPort.on('message', () => { let a = 0; for (let k = 0; k < n; k++) a += work(k, its); parentPort.postMessage(a); });`;
    const ws = Array.from({ length: threads }, (_, i) => new Worker(code, { eval: true, workerData: [Math.floor(BUSY_KEYS / threads) + (i < BUSY_KEYS % threads ? 1 : 0), BUSY_ITERATIONS] }));
    await Promise.all(ws.map((w) => once(w, 'online')));
    const s = await secs(() => Promise.all(ws.map((w) => (w.postMessage(0), once(w, 'message')))));
    await Promise.all(ws.map((w) => w.terminate()));
    return s;
  };
  const bareRatio = (await bare(1)) / (await bare(2));
  // The same work without populate: fetch1, the arithmetic, insert1, one transaction per key.
  // What it costs beyond the arithmetic is the database's share, which populate cannot remove.
  await Busy.deleteQuick();
  let loopWork = 0;
  const loopS = await secs(async () => {
    for (let i = 0; i < BUSY_KEYS; i++)
      await conn.transaction(async () => {
        const x = (await Src.restrict({ src_id: i }).fetch1('x')) as number;
        const w0 = performance.now();
        const acc = work(x, BUSY_ITERATIONS);
        const ms = performance.now() - w0;
        loopWork += ms;
        await Busy.insert1({ src_id: i, acc, work_ms: ms }, { allowDirectInsert: true });
      });
  });
  const loopOverheadMs = (loopS * 1000 - loopWork) / BUSY_KEYS;
  const [b1, b2, workMs] = [bu1.s, bu2.s, bu1.workMs / BUSY_KEYS];
  log(`CPU-bound: speedup ${showRatio(speedup)}; median round p1 ${b1.toFixed(2)} s, p2 ${b2.toFixed(2)} s, p2 first call ${bu2First.s.toFixed(2)} s (work ${workMs.toFixed(1)} ms/key)`);

  const io = async (processes: number) => {
    await Filtered.deleteQuick();
    return secs(() => Filtered.populate({ processes }));
  };
  await io(2); // pool for this module's Filtered warmed, like every case's p2 here
  // The same bytes through the raw driver on one and two connections, interleaved with populate.
  const raw = await rawIo(backend, IO_KEYS, { table: Signal.fullTableName, column: 'samples' }, { table: RawOut.fullTableName, column: 'filtered' });
  const ioRounds: Array<[number, number, number, number]> = [];
  for (let i = 0; i < ROUNDS; i++) ioRounds.push([await io(1), await io(2), await raw.run(1), await raw.run(2)]);
  await raw.close();
  const [io1, io2, raw1, raw2] = [0, 1, 2, 3].map((k) => median(ioRounds.map((r) => r[k]!)));
  const ioRatio = ratioOf(ioRounds.map((r) => r[0] / r[1]));
  const rawRatio = ratioOf(ioRounds.map((r) => r[2] / r[3]));
  log(`I/O-bound: p1 ${io1!.toFixed(2)} s, p2 ${io2!.toFixed(2)} s: ${showRatio(ioRatio)}; raw driver 1 connection ${raw1!.toFixed(2)} s, 2 ${raw2!.toFixed(2)} s: ${showRatio(rawRatio)}`);

  const big = async (processes: number) => {
    await Scaled.Slab.deleteQuick();
    await Scaled.deleteQuick();
    return secs(() => Scaled.populate({ processes }));
  };
  await Scaled.populate({ processes: 2, restrict: 'vol_id < 0' }); // start the pool
  const g1 = await big(1);
  const g2 = await big(2);
  const mb = (BIG_KEYS * BIG_BYTES) / 2 ** 20;
  // A plain copy of the same bytes, and the hand-off alone through a real worker.
  const src = noise(BIG_BYTES / 8, 1);
  let copyMs = Infinity;
  for (let i = 0; i < 6; i++) {
    const c0 = performance.now();
    src.slice();
    copyMs = Math.min(copyMs, performance.now() - c0);
  }
  const copyMBps = BIG_BYTES / 2 ** 20 / (copyMs / 1000);
  const echo = new Worker('const { parentPort } = require("node:worker_threads"); parentPort.on("message", ([v, t]) => parentPort.postMessage(v, t));', { eval: true });
  const roundTrip = async (transfer: boolean) => {
    const nd = dj.NDArray.from(noise(BIG_BYTES / 8, 2));
    const t = performance.now();
    const p = transfer ? await packForTransfer(nd) : { value: structuredClone(nd), transferList: [] };
    echo.postMessage([p.value, p.transferList], p.transferList);
    const [back] = (await once(echo, 'message')) as [unknown];
    if (transfer) await unpackTransferred(back);
    return performance.now() - t;
  };
  let transferMs = Infinity;
  let cloneMs = Infinity;
  for (let i = 0; i < 5; i++) {
    transferMs = Math.min(transferMs, await roundTrip(true));
    cloneMs = Math.min(cloneMs, await roundTrip(false));
  }
  await echo.terminate();
  log(`16 MB three-part: p1 ${(mb / g1).toFixed(0)} MB/s, p2 ${(mb / g2).toFixed(0)} MB/s; copy ${copyMBps.toFixed(0)} MB/s`);
  await schema.drop({ prompt: false });
  return {
    trivial,
    trivialRaw,
    adaptive,
    ownCost,
    layouts,
    secondModule,
    freshProcess,
    busy: { speedup, p1: BUSY_KEYS / b1, p2: BUSY_KEYS / b2, p2First: BUSY_KEYS / bu2First.s, p2FirstAdaptive: BUSY_KEYS / bu2FirstAdaptive.s, bareRatio, workMs, overheadP1Ms: bu1.overheadMs, overheadP2Ms: bu2.overheadMs, loopOverheadMs },
    io: { p1: IO_KEYS / io1!, p2: IO_KEYS / io2!, ratio: ioRatio, raw1: IO_KEYS / raw1!, raw2: IO_KEYS / raw2!, rawRatio },
    big: { p1MBps: mb / g1, p2MBps: mb / g2, copyMBps, transferMs, cloneMs },
  };
}

const results = await perBackend(import.meta.url, child, 'mysql');
if (results) {
  console.log(machine());
  const rows: Array<Record<string, string>> = [];
  for (const [b, r] of Object.entries(results)) {
    const x = (a: number, c: number) => `${(a / c).toFixed(2)}×`;
    rows.push({ backend: b, case: `trivial make, ${TRIVIAL_KEYS} keys, p2 vs p1, first call (pool start-up ${r.trivial.startupMs.toFixed(0)} ms; median of ${ROUNDS} rounds)`, result: `${r.trivial.p2First.toFixed(0)} vs ${r.trivial.p1.toFixed(0)} keys/s`, ratio: showRatio(r.trivial.firstRatio), target: '≥ 1.0×' });
    rows.push({ backend: b, case: `  the same make with the raw driver on bare threads (no library), 2 vs 1: from a cold start (threads started, connected, code compiled); warm`, result: `${r.trivialRaw.keysPerSecond.toFixed(0)} keys/s on one warm thread`, ratio: `${showRatio(r.trivialRaw.cold)}; ${showRatio(r.trivialRaw.warm)}`, target: 'ceiling' });
    rows.push({ backend: b, case: `  the same, first call with populate.adaptive_start (opt-in; threads only when the work pays for them)`, result: `${r.adaptive.p2First.toFixed(0)} vs ${r.adaptive.p1.toFixed(0)} keys/s`, ratio: showRatio(r.adaptive.firstRatio), target: '≥ 1.0×' });
    for (const l of r.layouts)
      rows.push({ backend: b, case: `  the same, ${l.name} (pool start-up ${l.startupMs.toFixed(0)} ms; kept pool ${l.warmRatio.median.toFixed(2)}×)`, result: `${l.p2First.toFixed(0)} vs ${l.p1.toFixed(0)} keys/s`, ratio: showRatio(l.firstRatio), target: '≥ 1.0×' });
    if (r.freshProcess)
      rows.push({ backend: b, case: `  the same, JavaScript module, the only call of a new process (import, connect, populate; neither thread warmed by a call before)`, result: `${r.freshProcess.p2.toFixed(0)} vs ${r.freshProcess.p1.toFixed(0)} keys/s`, ratio: showRatio(r.freshProcess.ratio), target: '≥ 1.0×' });
    if (r.secondModule)
      rows.push({ backend: b, case: `  the same, a second table module's first call on the pool the first one started (start-up ${r.secondModule.startupMs.toFixed(0)} ms)`, result: `${r.secondModule.p2First.toFixed(0)} vs ${r.secondModule.p1.toFixed(0)} keys/s`, ratio: x(r.secondModule.p2First, r.secondModule.p1), target: '≥ 1.0×' });
    rows.push({ backend: b, case: `populate's own cost per key: p1 − the cheapest loop of the same fetch1 + insert1 (median of 5 pairs)`, result: `${r.ownCost.medianUs.toFixed(0)} µs (${r.ownCost.minUs.toFixed(0)}…${r.ownCost.maxUs.toFixed(0)}); ${r.ownCost.populateUs.toFixed(0)} vs ${r.ownCost.loopUs.toFixed(0)} µs/key`, ratio: `${(5500 / Math.max(1, r.ownCost.medianUs)).toFixed(0)}× less than Python's 5.5 ms`, target: '≤ 0.55 ms' });
    rows.push({ backend: b, case: 'trivial make, p2 vs p1, pool kept from a call before', result: `${r.trivial.p2Warm.toFixed(0)} vs ${r.trivial.p1.toFixed(0)} keys/s`, ratio: showRatio(r.trivial.warmRatio), target: '≥ 1.0×' });
    rows.push({ backend: b, case: '  the same, the kept pool\'s fourth call', result: `${r.trivial.p2Later!.toFixed(0)} vs ${r.trivial.p1.toFixed(0)} keys/s`, ratio: x(r.trivial.p2Later!, r.trivial.p1), target: '≥ 1.0×' });
    rows.push({ backend: b, case: `CPU-bound make (${r.busy.workMs.toFixed(0)} ms/key), ${BUSY_KEYS} keys, speedup p2 vs p1 (kept pool; median of ${ROUNDS} rounds)`, result: `${r.busy.p2.toFixed(1)} vs ${r.busy.p1.toFixed(1)} keys/s`, ratio: `${showRatio(r.busy.speedup)}; bare threads ${r.busy.bareRatio.toFixed(2)}×`, target: '≥ 1.9×' });
    rows.push({ backend: b, case: '  the same, first call (pool start-up included); with adaptive start', result: `${r.busy.p2First.toFixed(1)}; ${r.busy.p2FirstAdaptive.toFixed(1)} vs ${r.busy.p1.toFixed(1)} keys/s`, ratio: `${x(r.busy.p2First, r.busy.p1)}; ${x(r.busy.p2FirstAdaptive, r.busy.p1)}`, target: '≥ 1.0×' });
    rows.push({ backend: b, case: 'time per key beyond the arithmetic (threads × wall − the makes\' own arithmetic), p1 / p2', result: `${r.busy.overheadP1Ms.toFixed(2)} / ${r.busy.overheadP2Ms.toFixed(2)} ms`, ratio: `${(5.5 / Math.max(0.01, r.busy.overheadP1Ms)).toFixed(1)}× less than Python's 5.5 ms`, target: '' });
    rows.push({ backend: b, case: 'the same per key in a plain loop (fetch1, arithmetic, insert1; a transaction each)', result: `${r.busy.loopOverheadMs.toFixed(2)} ms`, ratio: `populate p1 − loop: ${(r.busy.overheadP1Ms - r.busy.loopOverheadMs).toFixed(2)} ms`, target: '' });
    rows.push({ backend: b, case: `I/O-bound make (1 MB blob in, 1 MB out), ${IO_KEYS} keys, p2 vs p1 (median of ${ROUNDS} rounds)`, result: `${r.io.p2.toFixed(1)} vs ${r.io.p1.toFixed(1)} keys/s`, ratio: showRatio(r.io.ratio), target: '≥ 1.2×' });
    rows.push({ backend: b, case: '  the same bytes with the raw driver (SELECT, copy, INSERT; a transaction each), 2 connections vs 1: the ceiling', result: `${r.io.raw2.toFixed(1)} vs ${r.io.raw1.toFixed(1)} keys/s`, ratio: showRatio(r.io.rawRatio), target: '' });
    rows.push({ backend: b, case: `three-part make, 16 MB per key, ${BIG_KEYS} keys: MB/s p1, p2`, result: `${r.big.p1MBps.toFixed(0)}, ${r.big.p2MBps.toFixed(0)} MB/s`, ratio: `p2/p1 ${x(r.big.p2MBps, r.big.p1MBps)}; ${x(r.big.p2MBps, r.big.copyMBps)} of a plain copy (${r.big.copyMBps.toFixed(0)} MB/s)`, target: '' });
    rows.push({ backend: b, case: '16 MB NDArray to a worker and back: transfer vs structured clone', result: `${r.big.transferMs.toFixed(2)} vs ${r.big.cloneMs.toFixed(2)} ms`, ratio: `${(r.big.cloneMs / r.big.transferMs).toFixed(0)}× faster`, target: '' });
  }
  console.table(rows);
}
