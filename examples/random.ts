/** Seeded randomness for the examples: every run (and every worker thread) draws the same numbers. */

/** Mulberry32: a small, fast, seedable PRNG of 32-bit integers. */
export function rng32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
}

/** Uniform deviates in [0, 1). */
export function rng(seed: number): () => number {
  const next = rng32(seed);
  return () => next() / 4294967296;
}
