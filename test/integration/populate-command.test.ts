/**
 * `dj populate` (API.md §8) as users run it: child processes of `node --import tsx
 * src/cli/main.ts populate test/fixtures/worker-pipeline.ts ...` against this project's backend.
 * Three workers on one schema make every key exactly once (the table, the jobs table and the
 * makes' own log agree) and each exits 0 within 5 s of SIGTERM, idle or mid-make (the make in
 * flight finishes; past the grace period it is rolled back and its job marked error); the
 * same with worker threads; --max-calls across tables; upstream first (through a part table);
 * clear errors for a bad module, an unknown table and bad options; a looping worker started
 * while its server is unreachable waits for it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type AddressInfo } from 'node:net';
import { BACKEND, cleanup } from '../helpers.js';
import { startChild, type ChildOutcome, type RunningChild } from '../support/children.js';
import { serverAddress, waitFor } from '../support/faults.js';
import { FaultProxy } from '../support/proxy.js';

const db = `djtest_workercli_${process.pid}`;
process.env.DJ_TEST_WORKER_DB = db;
const logDir = mkdtempSync(join(tmpdir(), 'dj-worker-'));
const startsDir = mkdtempSync(join(tmpdir(), 'dj-worker-starts-'));
const { schema, Source, Step, Summary } = await import('../fixtures/worker-pipeline.js');
const two = await import('../fixtures/worker-pipeline-two.js');
const FIXTURE = 'test/fixtures/worker-pipeline.ts';

beforeAll(async () => {
  await two.schema.drop({ prompt: false });
  await schema.drop({ prompt: false });
  await schema.declare();
});
afterAll(async () => {
  rmSync(logDir, { recursive: true, force: true });
  rmSync(startsDir, { recursive: true, force: true });
  await cleanup(schema, two.schema);
});

/** Sources with these settings; computed tables, their jobs tables and the make log emptied. */
async function reset(sources: Array<Record<string, unknown>> = []): Promise<void> {
  if (await two.schema.connection.catalog.databaseExists(two.schema.database)) await two.schema.drop({ prompt: false });
  await Summary.deleteQuick();
  await Step.Piece.deleteQuick();
  await Step.deleteQuick();
  await Summary.jobs.drop();
  await Step.jobs.drop();
  await Source.deleteQuick();
  if (sources.length) await Source.insert(sources);
  for (const f of readdirSync(logDir)) rmSync(join(logDir, f));
  for (const f of readdirSync(startsDir)) rmSync(join(startsDir, f));
}

/** Makes logged so far: `<Table> <source_id>` lines, per process id. */
function logged(): Map<number, string[]> {
  const byPid = new Map<number, string[]>();
  for (const f of readdirSync(logDir)) {
    const pid = Number(f.split('-')[0]);
    byPid.set(pid, [...(byPid.get(pid) ?? []), ...readFileSync(join(logDir, f), 'utf8').split('\n').filter(Boolean)]);
  }
  return byPid;
}
const allLogged = () => [...logged().values()].flat();
/** Makes logged with the time they started (ms), in every process and thread. */
const starts = () =>
  readdirSync(startsDir).flatMap((f) =>
    readFileSync(join(startsDir, f), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => ({ make: l.split(' ').slice(0, 2).join(' '), at: Number(l.split(' ')[2]) })),
  );

/** `dj populate <fixture> ...args` in a child process (jobs kept as 'success' so they can be counted). */
function djPopulate(args: string[], env: Record<string, string> = {}): RunningChild {
  return startChild('src/cli/main.ts', ['populate', FIXTURE, ...args], { env: { DJ_TEST_WORKER_LOG: logDir, DJ_TEST_WORKER_STARTS: startsDir, DJ_JOBS_KEEP_COMPLETED: 'true', ...env }, deadlineMs: 90_000 });
}
const worker = (env: Record<string, string> = {}, extra: string[] = []) => djPopulate(['--reserve-jobs', '--loop', '--idle', '1', ...extra], env);

/** SIGTERM to each child; resolves to each outcome and how long after its signal it ended. */
async function terminate(children: RunningChild[]): Promise<Array<ChildOutcome & { afterSignal: number }>> {
  return Promise.all(
    children.map(async (c) => {
      const t0 = Date.now();
      c.proc.kill('SIGTERM');
      const out = await c.done;
      return { ...out, afterSignal: Date.now() - t0 };
    }),
  );
}

function expectCleanExit(out: ChildOutcome & { afterSignal: number }): void {
  expect(out.hung).toBe(false);
  expect(out.code, out.stderr).toBe(0);
  expect(out.afterSignal, out.stderr).toBeLessThan(5_000);
  expect(out.stdout).toMatch(/dj populate: stopped by SIGTERM( \(.*\))?: \d+ made/);
}

/** Every line in `lines` occurs exactly once. */
function expectOnce(lines: string[], expected: string[]): void {
  expect([...lines].sort()).toEqual([...expected].sort());
}

/**
 * Each of `expected` was made (logged as its make started), each by one process only. A make
 * logged twice by one process is a redo, not a second make: the server rolled its transaction
 * back as a deadlock victim (a group commit's makes are then redone one by one, key-loop.ts),
 * which workers committing side by side on MariaDB can meet, however rarely.
 */
function expectMadeByOneProcessEach(expected: string[]): void {
  const makers = new Map<string, Set<number>>();
  for (const [pid, lines] of logged()) for (const l of lines) makers.set(l, (makers.get(l) ?? new Set()).add(pid));
  expect([...makers.keys()].sort()).toEqual([...expected].sort());
  expect([...makers].filter(([, pids]) => pids.size > 1).map(([l, pids]) => `${l} by ${[...pids].join(', ')}`)).toEqual([]);
}

const ids = (n: number, from = 0) => Array.from({ length: n }, (_, i) => from + i);

describe('three workers on one schema', () => {
  it('make every key exactly once, share the work, and each exits 0 within 5 s of SIGTERM while idle', async () => {
    await reset();
    const workers = [worker(), worker(), worker()];
    try {
      // All three are polling before any key exists, so all three compete for the keys.
      for (const w of workers) await w.printed('idle: nothing to make');
      await Source.insert(ids(24).map((source_id) => ({ source_id, delay_ms: 250 })));
      await waitFor(async () => (await Summary.count()) === 24, 90_000, 'every key made by the workers');
    } finally {
      const outs = await terminate(workers);
      for (const out of outs) expectCleanExit(out);
    }
    expect(await Step.count()).toBe(24);
    expect(await Step.Piece.count()).toBe(24);
    // Every key was made by one process only: no two workers made the same key.
    expectMadeByOneProcessEach([...ids(24).map((i) => `Step ${i}`), ...ids(24).map((i) => `Summary ${i}`)]);
    const makers = [...logged().entries()].filter(([, lines]) => lines.some((l) => l.startsWith('Step')));
    expect(makers.length, JSON.stringify([...logged()])).toBeGreaterThan(1);
    for (const T of [Step, Summary]) expect(await T.jobs.progress()).toMatchObject({ pending: 0, reserved: 0, error: 0, success: 24 });
  });

  it('mid-make: each finishes its make in flight, starts no other, and exits 0 within 5 s of SIGTERM', async () => {
    await reset();
    const workers = [worker(), worker(), worker()];
    let outs: Array<ChildOutcome & { afterSignal: number }> = [];
    try {
      for (const w of workers) await w.printed('idle: nothing to make');
      // Enough work that no worker runs out before the slowest has started (on a busy machine).
      await Source.insert(ids(30).map((source_id) => ({ source_id, delay_ms: 1_500 })));
      // Each worker has a make in flight (logged as it starts, before its master row is written).
      await waitFor(() => workers.every((w) => (logged().get(w.proc.pid!) ?? []).length > 0), 60_000, 'a make in flight in every worker');
    } finally {
      outs = await terminate(workers);
    }
    for (const out of outs) expectCleanExit(out);
    // What started finished and committed; nothing else was started; the rest is pending again.
    const started = allLogged();
    expect(new Set(started).size).toBe(started.length);
    const made = (await Step.keys()).map((k) => `Step ${k.source_id}`);
    expectOnce(made, started);
    expect(await Step.Piece.count()).toBe(made.length);
    expect(await Step.jobs.progress()).toMatchObject({ reserved: 0, error: 0, success: made.length, pending: 30 - made.length });
  });
});

describe('one worker', () => {
  it('past the grace period rolls the make in flight back, marks its job error and exits 0 within 5 s of SIGTERM', async () => {
    await reset([{ source_id: 1, delay_ms: 60_000 }]);
    const w = worker({ DJ_POPULATE_GRACE_PERIOD: '1' });
    await waitFor(() => allLogged().includes('Step 1'), 30_000, 'the make in flight');
    const [out] = await terminate([w]);
    expect(out!.code, out!.stderr).toBe(0);
    expect(out!.afterSignal, out!.stderr).toBeLessThan(5_000);
    expect(out!.stderr).toContain('grace period (1 s, populate.grace_period) is over');
    expect(await Step.count()).toBe(0);
    expect(await Step.jobs.progress()).toMatchObject({ reserved: 0, error: 1 });
    expect(String(await Step.jobs.errors.fetch1('error_message'))).toContain('SIGTERM');
  });

  it.each([[[]], [['--processes', '2']]])('past the grace period, counts the makes the interrupted call committed before it (%j)', async (extra: string[]) => {
    // Makes of 150 ms commit one by one; the fourth never ends on its own.
    await reset([...ids(3).map((source_id) => ({ source_id, delay_ms: 150 })), { source_id: 3, delay_ms: 60_000 }]);
    const w = worker({ DJ_POPULATE_GRACE_PERIOD: '1' }, extra);
    await waitFor(() => allLogged().includes('Step 3'), 30_000, 'the long make in flight');
    const [out] = await terminate([w]);
    expect(out!.code, out!.stderr).toBe(0);
    expect(await Step.count()).toBe(3);
    expect(out!.stdout).toMatch(/Step: 3 made, 0 failed/);
    expect(out!.stdout).toMatch(/dj populate: stopped by SIGTERM \(a make past the grace period was rolled back\): 3 made, 0 failed/);
  });

  it('with worker threads (--processes 2): drains the threads (no make starts after SIGTERM) and exits 0 within 5 s', async () => {
    await reset();
    const w = worker({}, ['--processes', '2']);
    await w.printed('idle: nothing to make');
    await Source.insert(ids(6).map((source_id) => ({ source_id, delay_ms: 2_000 })));
    await waitFor(() => allLogged().length >= 2, 30_000, 'makes in flight on both threads');
    const signalled = Date.now();
    const [out] = await terminate([w]);
    expectCleanExit(out!);
    expectNoMakeAfter(signalled);
    const made = (await Step.keys()).map((k) => `Step ${k.source_id}`);
    expectOnce(made, allLogged());
    expect(await Step.jobs.progress()).toMatchObject({ reserved: 0, error: 0, pending: 6 - made.length });
  });
});

describe('a signal while the command loads', () => {
  it('stops a worker cleanly (exit 0 under --loop, its summary said); another command ends as the signal ends it', async () => {
    await reset(ids(2).map((source_id) => ({ source_id })));
    const out = await startChild('test/fixtures/early-signal.ts', ['populate', FIXTURE, '--reserve-jobs', '--loop', '--idle', '1'], { deadlineMs: 60_000 }).done;
    expect(out.hung).toBe(false);
    expect(out.code, out.stderr).toBe(0);
    expect(out.stdout).toMatch(/dj populate: stopped by SIGTERM: 0 made/);
    expect(await Step.count()).toBe(0);
    const status = await startChild('test/fixtures/early-signal.ts', ['status', db], { deadlineMs: 60_000 }).done;
    expect([status.code, status.signal]).toEqual([null, 'SIGTERM']);
  });
});

describe('a second SIGTERM', () => {
  it('while the threads drain (--processes 2): exits at once, names the makes in progress, marks their jobs error and puts the rest back', async () => {
    await reset();
    const w = worker({ DJ_POPULATE_GRACE_PERIOD: '60' }, ['--processes', '2', '--reserve-jobs']);
    await w.printed('idle: nothing to make');
    await Source.insert(ids(6).map((source_id) => ({ source_id, delay_ms: 30_000 })));
    await waitFor(() => allLogged().length >= 2, 30_000, 'makes in flight on both threads');
    w.proc.kill('SIGTERM');
    await waitFor(() => w.stderr().includes('dealing no new keys'), 10_000, 'the drain said');
    const signalled = Date.now();
    w.proc.kill('SIGTERM');
    const out = await w.done;
    expect(Date.now() - signalled, out.stderr).toBeLessThan(5_000);
    expect(out.stderr).not.toMatch(/No make was in progress/);
    const inFlight = allLogged().map((l) => Number(l.split(' ')[1]));
    expect(out.stderr).toMatch(/In progress when the signal arrived and not committed/);
    expect(await Step.count()).toBe(0);
    expect((await Step.jobs.errors.keys()).map((k) => k.source_id).sort()).toEqual(inFlight.sort());
    expect(await Step.jobs.progress()).toMatchObject({ reserved: 0, error: inFlight.length });
  });
});

/**
 * Every make started before the signal (a thread takes no key of its chunk, nor a chunk queued
 * for it, once the drain began). The makes take 2 s, so a make started after its thread finished
 * one is well after the signal; 300 ms cover the signal's delivery.
 */
function expectNoMakeAfter(signalled: number): void {
  const late = starts().filter((s) => s.at > signalled + 300);
  expect(late.map((s) => `${s.make} started ${s.at - signalled} ms after SIGTERM`)).toEqual([]);
}

/** A TCP port nothing listens on yet; `open()` then forwards it to the test's server. */
async function lateServer(): Promise<{ port: number; open(): Promise<void>; close(): Promise<void> }> {
  const probe = createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  const port = (probe.address() as AddressInfo).port;
  await new Promise((r) => probe.close(r));
  let proxy: FaultProxy | null = null;
  return {
    port,
    async open() {
      const server = await serverAddress();
      proxy = await FaultProxy.start(server.host, server.port, port);
    },
    close: async () => proxy?.close(),
  };
}

// The embedded server is started by the worker itself: there is no address to make unreachable.
describe.skipIf(BACKEND === 'embedded')('a looping worker started before its server', () => {
  it('says the database is unavailable, retries every idle period, then works once it answers', async () => {
    await reset(ids(3).map((source_id) => ({ source_id })));
    const server = await lateServer();
    try {
      const w = worker({ DJ_PORT: String(server.port) });
      await waitFor(() => w.stderr().split('the database is unavailable').length > 2, 30_000, 'two attempts reported');
      expect(w.stderr()).toMatch(/dj populate: the database is unavailable \(.+\); trying again in 1 s/);
      expect(await Step.count()).toBe(0);
      await server.open();
      await waitFor(async () => (await Summary.count()) === 3, 30_000, 'every key made once the server answers');
      const [out] = await terminate([w]);
      expectCleanExit(out!);
      expectOnce(allLogged(), [...ids(3).map((i) => `Step ${i}`), ...ids(3).map((i) => `Summary ${i}`)]);
    } finally {
      await server.close();
    }
  });

  it('exits 0 within 5 s of SIGTERM while it waits', async () => {
    const server = await lateServer();
    const w = worker({ DJ_PORT: String(server.port) });
    await waitFor(() => w.stderr().includes('the database is unavailable'), 30_000, 'an attempt reported');
    const [out] = await terminate([w]);
    expectCleanExit(out!);
  });

  it('without --loop, exits 1 at once with the connection error', async () => {
    const server = await lateServer();
    const out = await djPopulate([], { DJ_PORT: String(server.port) }).done;
    expect(out.code).toBe(1);
    expect(out.stderr).toMatch(/^dj populate: cannot connect to .+:\d+/m);
  });
});

describe.skipIf(BACKEND === 'embedded')('a looping worker whose server goes away mid-round', () => {
  // The server answers through a proxy that then cuts every connection and refuses new ones for
  // a while, as a restart does. Nothing may be failed for it, and nothing left reserved.
  for (const processes of [1, 2]) {
    it(`waits it out and makes every key (--processes ${processes}), no key failed or left reserved`, async () => {
      const n = 40;
      await reset(ids(n).map((source_id) => ({ source_id, delay_ms: 60 })));
      const server = await serverAddress();
      const proxy = await FaultProxy.start(server.host, server.port);
      try {
        const w = worker({ DJ_PORT: String(proxy.port) }, ['--processes', String(processes)]);
        await waitFor(async () => (await Step.count()) >= 5, 30_000, 'some keys made');
        proxy.outage();
        await waitFor(() => w.stderr().includes('the database is unavailable'), 30_000, 'the outage reported');
        await new Promise((r) => setTimeout(r, 1_500)); // an idle period or more without a server
        proxy.restore();
        await waitFor(async () => (await Summary.count()) === n, 60_000, 'every key made after the outage');
        const [out] = await terminate([w]);
        expectCleanExit(out!);
        expect(out!.stderr).toMatch(/dj populate: the database is unavailable \((Lost connection|cannot connect).*\); trying again in 1 s/);
        expect(out!.stdout).not.toMatch(/[1-9]\d* failed/);
        // The only worker made every key of both tables once: the counts it prints say so, keys
        // made in a round the outage cut short included (they were lost from the totals).
        expect(out!.stdout).toMatch(new RegExp(`dj populate: stopped by SIGTERM: ${2 * n} made, 0 failed`));
        const perTable = [...out!.stdout.matchAll(/Z (Step|Summary): (\d+) made/g)];
        for (const table of ['Step', 'Summary']) expect(perTable.filter((m) => m[1] === table).reduce((sum, m) => sum + Number(m[2]), 0), out!.stdout).toBe(n);
        expect(await Step.count()).toBe(n);
        expect(await Step.Piece.count()).toBe(n);
        expect(await Step.jobs.progress()).toMatchObject({ reserved: 0, error: 0, pending: 0 });
      } finally {
        await proxy.close();
      }
    });
  }
});

describe('a single run', () => {
  it('populates upstream first (through a part table) and counts --max-calls across tables', async () => {
    await reset(ids(3).map((source_id) => ({ source_id })));
    const out = await djPopulate(['--max-calls', '5']).done;
    expect(out.code, out.stderr).toBe(0);
    expect(await Step.count()).toBe(3);
    expect(await Summary.count()).toBe(2);
    const lines = allLogged();
    expect(lines.slice(0, 3).every((l) => l.startsWith('Step'))).toBe(true);
    expect(out.stdout).toMatch(/Step: 3 made, 0 failed, 0 skipped in [\d.]+ s \([\d.]+ keys\/s\); 0 of 3 keys left\n.*Summary: 2 made, 0 failed, 0 skipped .*; 1 of 3 keys left\n.*dj populate: max-calls reached: 5 made/);
    // A named table only; a failing make is reported and gives exit code 1.
    await Source.insert1({ source_id: 3, fail: true });
    const named = await djPopulate(['Summary']).done;
    expect(named.code, named.stderr).toBe(0);
    expect(await Summary.count()).toBe(3);
    expect(named.stdout).not.toMatch(/Step:/);
    const failing = await djPopulate(['--reserve-jobs']).done;
    expect(failing.code).toBe(1);
    expect(failing.stderr).toContain('dj populate: Step {"source_id":3} failed: Error: source 3 fails on purpose');
    expect(await Step.jobs.progress()).toMatchObject({ error: 1, reserved: 0 });
  });

  it('populates every schema a module defines or imports, upstream first across them', async () => {
    await reset(ids(2).map((source_id) => ({ source_id })));
    const out = await startChild('src/cli/main.ts', ['populate', 'test/fixtures/worker-pipeline-two.ts'], { env: { DJ_TEST_WORKER_LOG: logDir }, deadlineMs: 60_000 }).done;
    expect(out.code, out.stderr).toBe(0);
    expect(out.stdout).toContain(`Step, Summary, Report from ${db}_report, ${db}`);
    expect(out.stdout).toMatch(/Step: 2 made[^\n]*\n.*Summary: 2 made[^\n]*\n.*Report: 2 made/);
    expect(await two.Report.toArrays('line', { orderBy: 'source_id' })).toEqual(['total 1', 'total 2']);
  });

  it('stops at SIGTERM after the make in flight with exit code 143 (the run did not finish)', async () => {
    await reset(ids(4).map((source_id) => ({ source_id, delay_ms: 1_000 })));
    const run = djPopulate(['Step']);
    await waitFor(() => allLogged().length > 0, 30_000, 'a make in flight');
    const [out] = await terminate([run]);
    expect(out!.code, out!.stderr).toBe(143);
    expect(out!.afterSignal).toBeLessThan(5_000);
    expect((await Step.keys()).map((k) => `Step ${k.source_id}`).sort()).toEqual(allLogged().sort());
  });

  it('with worker threads (--processes 2): stops at SIGTERM after the makes in flight, starts none after, exit code 143', async () => {
    await reset(ids(6).map((source_id) => ({ source_id, delay_ms: 2_000 })));
    const run = djPopulate(['Step', '--reserve-jobs', '--processes', '2']);
    await waitFor(() => allLogged().length >= 2, 30_000, 'makes in flight on both threads');
    const signalled = Date.now();
    const [out] = await terminate([run]);
    expect(out!.code, out!.stderr).toBe(143);
    expect(out!.afterSignal).toBeLessThan(5_000);
    expectNoMakeAfter(signalled);
    const made = (await Step.keys()).map((k) => `Step ${k.source_id}`);
    expectOnce(made, allLogged());
    expect(await Step.jobs.progress()).toMatchObject({ reserved: 0, error: 0, pending: 6 - made.length });
  });
});

describe('errors', () => {
  const dj = (...args: string[]) => startChild('src/cli/main.ts', args, { deadlineMs: 60_000 }).done;
  it('says clearly what is wrong with the module, a table name or an option', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['populate', './no/such/pipeline.ts'], /dj populate: Module \.\/no\/such\/pipeline\.ts not found \(no file .*no\/such\/pipeline\.ts\)/],
      [['populate', 'no-such-package-dj-test'], /dj populate: Cannot find the package no-such-package-dj-test/],
      [['populate', 'test/support/faults.ts'], /dj populate: test\/support\/faults\.ts defines no DataJoint schema/],
      [['populate', FIXTURE, 'Nope'], new RegExp(`dj populate: No table Nope in the schemas of ${FIXTURE} \\(${db}\\): its auto-populated tables: Step, Summary`)],
      [['populate', FIXTURE, 'Source'], /dj populate: Table Source is not auto-populated .*: its auto-populated tables: Step, Summary/],
      [['populate', FIXTURE, '--processes', '0'], /dj populate: --processes must be a positive integer, got "0"/],
      [['populate', FIXTURE, '--max-calls', 'many'], /dj populate: --max-calls must be a non-negative integer, got "many"/],
      [['populate', FIXTURE, '--idle', '5'], /dj populate: --idle only applies with --loop/],
    ];
    const outs = await Promise.all(cases.map(([args]) => dj(...args)));
    cases.forEach(([args, re], i) => {
      expect(outs[i]!.code, args.join(' ')).toBe(1);
      expect(outs[i]!.stderr, args.join(' ')).toMatch(re);
    });
  });
});
