/**
 * Fault injection under contention (issue 9, "Must show"): 3 processes × 2 worker threads share
 * one jobs queue of 1,000 keys (DJ_TEST_STRESS_KEYS), with reserveJobs, three times
 * (DJ_TEST_STRESS_RUNS). The processes start together, so their refreshes, declarations,
 * reservations and group commits collide. Every key must be computed exactly once, with all its
 * parts, no job left behind, no process hung; the figures are printed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cleanup } from '../helpers.js';
import { startChild } from '../support/children.js';

const db = `djtest_fstress_${process.pid}`;
process.env.DJ_TEST_FAULTS_DB = db;
const KEYS = Number(process.env.DJ_TEST_STRESS_KEYS ?? 1000);
const RUNS = Number(process.env.DJ_TEST_STRESS_RUNS ?? 3);
const PROCESSES = 3;
const THREADS = 2;
const logDir = mkdtempSync(join(tmpdir(), 'djfaults-stress-'));
const { schema, Source, Plain } = await import('../fixtures/faults-pipeline.js');

beforeAll(async () => {
  await schema.drop({ prompt: false });
  await Source.declare();
  await Plain.declare();
});
afterAll(async () => {
  rmSync(logDir, { recursive: true, force: true });
  await cleanup(schema);
});

interface Figures {
  run: number;
  seconds: number;
  committedTwice: number;
  lost: number;
  partial: number;
  hung: number;
  madeMoreThanOnce: number;
  reportedErrors: number;
  jobsLeft: number;
  perProcess: number[];
}

describe(`${PROCESSES} processes × ${THREADS} threads × ${KEYS} keys with reserveJobs`, () => {
  it(`computes every key exactly once, ${RUNS} times`, async () => {
    const all: Figures[] = [];
    for (let run = 1; run <= RUNS; run++) {
      await Plain.Part.deleteQuick();
      await Plain.deleteQuick();
      await Plain.jobs.drop(); // the processes race to declare it, too
      await Source.deleteQuick();
      await Source.insert(Array.from({ length: KEYS }, (_, i) => ({ source_id: i })));
      for (const f of readdirSync(logDir)) rmSync(join(logDir, f));

      const t0 = Date.now();
      const children = Array.from({ length: PROCESSES }, () =>
        startChild('test/fixtures/faults-child.ts', [db, 'plain', String(THREADS), '1'], { env: { DJ_TEST_FAULTS_LOG: logDir }, deadlineMs: 150_000 }),
      );
      const outs = await Promise.all(children.map((c) => c.done));
      const seconds = (Date.now() - t0) / 1000;

      const made = new Map<number, number>();
      for (const f of readdirSync(logDir))
        for (const line of readFileSync(join(logDir, f), 'utf8').split('\n').filter(Boolean)) {
          const id = Number(line.split(' ')[1]);
          made.set(id, (made.get(id) ?? 0) + 1);
        }
      const rows = (await Plain.keys()).map((k) => k.source_id as number);
      const parts = await Plain.Part.toArrays('source_id');
      const partsPer = new Map<number, number>();
      for (const id of parts as Int32Array | number[]) partsPer.set(Number(id), (partsPer.get(Number(id)) ?? 0) + 1);
      const jobs = await Plain.jobs.progress();
      const figures: Figures = {
        run,
        seconds,
        committedTwice: rows.length - new Set(rows).size,
        lost: KEYS - new Set(rows).size,
        partial: rows.filter((id) => partsPer.get(id) !== 3).length + [...partsPer.keys()].filter((id) => !rows.includes(id)).length,
        hung: outs.filter((o) => o.hung).length,
        madeMoreThanOnce: [...made.values()].filter((n) => n > 1).length,
        reportedErrors: outs.reduce((s, o) => s + Number(o.result?.error ?? 0), 0),
        jobsLeft: jobs.total,
        perProcess: outs.map((o) => Number(o.result?.success ?? -1)),
      };
      all.push(figures);
      console.log(`stress run ${run}: ${JSON.stringify(figures)}`);
      for (const o of outs) expect(o.code, o.stderr).toBe(0);
      expect(figures).toMatchObject({ committedTwice: 0, lost: 0, partial: 0, hung: 0, reportedErrors: 0, jobsLeft: 0 });
      expect(figures.perProcess.reduce((a, b) => a + b, 0)).toBe(KEYS);
    }
    const sum = (k: keyof Figures) => all.reduce((s, f) => s + (f[k] as number), 0);
    console.log(
      `stress total over ${RUNS} runs of ${KEYS} keys: computed twice ${sum('committedTwice')}, lost ${sum('lost')}, partial rows ${sum('partial')}, hangs ${sum('hung')}, makes redone after a rollback ${sum('madeMoreThanOnce')}`,
    );
  }, 600_000);
});
