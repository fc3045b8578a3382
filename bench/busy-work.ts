/**
 * A fixed amount of arithmetic per key for the CPU-bound populate benches, the same in every
 * thread. A wall-clock spin would not do: two threads on one busy core would each still
 * "finish" in 50 ms. The iteration count that takes about BUSY_MS is measured once, by the first
 * thread that loads this module, and handed to worker threads through the environment (they
 * inherit it), so every key costs the same work whichever thread runs it.
 */
export const BUSY_MS = 50;

export function work(x: number, iterations: number): number {
  let acc = x;
  for (let i = 0; i < iterations; i++) acc = Math.sqrt(acc * acc + (i & 1023));
  return acc;
}

function busyIterations(): number {
  const known = Number(process.env.DJ_BENCH_BUSY_ITERATIONS);
  if (known > 0) return known;
  work(1, 2_000_000); // warm the JIT first
  const probe = 4_000_000;
  const t0 = performance.now();
  work(1, probe);
  const n = Math.round((probe * BUSY_MS) / (performance.now() - t0));
  process.env.DJ_BENCH_BUSY_ITERATIONS = String(n);
  return n;
}
export const BUSY_ITERATIONS = busyIterations();
