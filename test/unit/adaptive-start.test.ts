/**
 * populate.adaptive_start's decision (src/populate/adaptive-start.ts): when the calling thread,
 * having measured its own makes, starts the worker threads. The cases are the ones measured on
 * 2 cores (the module's comment): the threads must start where they won a first call and stay
 * off where they lost it.
 */
import { describe, expect, it } from 'vitest';
import { ChunkRate, LONG_CHUNK_MS, RAMP_MS, threadsPayOff, type StartCase } from '../../src/populate/adaptive-start.js';

const onTwoCores = (keysLeft: number, msPerKey: number, startMs = 400, processes = 2): StartCase => ({ keysLeft, msPerKey, processes, cores: 2, startMs });

describe('threadsPayOff', () => {
  it('keeps trivial makes (0.4 ms a key) on the calling thread where fresh threads lost: 2,000 to 20,000 keys', () => {
    for (const keys of [2_000, 5_000, 10_000, 20_000]) expect(threadsPayOff(onTwoCores(keys, 0.4)), `${keys} keys`).toBe(false);
  });

  it('starts threads for trivial makes only when the call is far longer than their cold keys', () => {
    expect(threadsPayOff(onTwoCores(100_000, 0.4))).toBe(true);
  });

  it('starts threads for makes with work of their own where they won', () => {
    expect(threadsPayOff(onTwoCores(2_000, 1.6))).toBe(true); // 1.08-1.10x
    expect(threadsPayOff(onTwoCores(1_000, 2.4))).toBe(true); // 1.22-1.24x
    expect(threadsPayOff(onTwoCores(500, 5.5))).toBe(true); // 1.33-1.61x
    expect(threadsPayOff(onTwoCores(100, 50, 1_000))).toBe(true); // 1.24-1.35x
  });

  it('never starts threads for less work than their start-up', () => {
    expect(threadsPayOff(onTwoCores(12, 0.5))).toBe(false);
    expect(threadsPayOff(onTwoCores(10, 100, 1_000))).toBe(false); // 1 s of work, 0.5 s to gain
    expect(threadsPayOff(onTwoCores(30, 100, 1_000))).toBe(true);
  });

  it('counts threads beyond the cores as nothing, and starts none without a key, a measurement or a second thread', () => {
    // 4 threads on 2 cores gain what 2 do, and pay for 4 threads' cold keys no more than 2 do.
    expect(threadsPayOff({ ...onTwoCores(20_000, 0.4), processes: 4 })).toBe(false);
    expect(threadsPayOff({ ...onTwoCores(30, 100, 1_000), processes: 4 })).toBe(true);
    expect(threadsPayOff(onTwoCores(0, 50))).toBe(false);
    expect(threadsPayOff(onTwoCores(1_000, 0))).toBe(false);
    expect(threadsPayOff(onTwoCores(1_000, Number.NaN))).toBe(false);
    expect(threadsPayOff({ ...onTwoCores(1_000, 50), cores: 1 })).toBe(false);
  });
});

describe('ChunkRate', () => {
  it('is 0 before any chunk and ignores empty chunks', () => {
    const r = new ChunkRate();
    expect(r.msPerKey).toBe(0);
    r.record(10, 0);
    expect(r.msPerKey).toBe(0);
    expect(r.totalMs).toBe(0);
    expect(r.settled).toBe(false);
  });

  it('counts the chunks of a call\'s first RAMP_MS as time, not as a rate (its first queries, its first small groups)', () => {
    const r = new ChunkRate();
    r.record(4.5, 1);
    expect(r.msPerKey).toBe(0);
    expect(r.latestMsPerKey).toBe(4.5);
    r.record(RAMP_MS - 10, 40); // starts at 4.5 ms: still the ramp
    expect(r.msPerKey).toBe(0);
    expect(r.latestMsPerKey).toBeCloseTo((RAMP_MS - 10) / 40);
    expect(r.totalMs).toBeCloseTo(RAMP_MS - 5.5);
    r.record(20, 20); // starts at RAMP_MS - 5.5: the ramp's last chunk
    expect(r.msPerKey).toBe(0);
    r.record(40, 100); // starts after RAMP_MS
    expect(r.msPerKey).toBeCloseTo(0.4);
  });

  it('takes the median of the last three chunks: one slow chunk does not move it', () => {
    const r = new ChunkRate();
    r.record(RAMP_MS, 20);
    r.record(100, 250); // 0.4
    expect(r.msPerKey).toBeCloseTo(0.4);
    r.record(100, 200); // 0.5
    expect(r.msPerKey).toBeCloseTo(0.45);
    expect(r.settled).toBe(false);
    r.record(250, 250); // 1.0: a pause
    expect(r.msPerKey).toBeCloseTo(0.5);
    expect(r.settled).toBe(true);
    expect(r.totalMs).toBe(RAMP_MS + 450);
  });

  it('decides on one long chunk: slow makes do not keep the threads waiting for three keys', () => {
    const r = new ChunkRate();
    r.record(LONG_CHUNK_MS + 500, 1); // a call's first key, of a 1.5 s make
    expect(r.settled).toBe(true);
    expect(r.msPerKey).toBe(LONG_CHUNK_MS + 500);
    const short = new ChunkRate();
    short.record(RAMP_MS, 1);
    short.record(LONG_CHUNK_MS - 1, 10);
    expect(short.settled).toBe(false);
  });

  it('follows a thread whose code warms up: the oldest chunks drop out', () => {
    const r = new ChunkRate();
    for (const perKey of [5, 3, 2, 1.2, 0.6, 0.45, 0.4]) r.record(perKey * 100, 100); // from 0.5 ms on: after the ramp
    expect(r.msPerKey).toBeCloseTo(0.45);
  });
});
