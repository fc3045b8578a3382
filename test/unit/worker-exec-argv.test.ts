/** The Node flags populate's worker threads start with: the parent's, minus tsx's loader and the flags a worker refuses. */
import { describe, expect, test } from 'vitest';
import { Worker } from 'node:worker_threads';
import { once } from 'node:events';
import { withoutTsx, workerExecArgv } from '../../src/populate/pool-threads.js';

describe('workerExecArgv', () => {
  test("drops tsx's --require/--import pairs and --import=tsx, keeps every other flag", () => {
    const argv = [
      '--require', '/app/node_modules/tsx/dist/preflight.cjs',
      '--import', 'file:///app/node_modules/tsx/dist/loader.mjs',
      '--max-old-space-size=4096',
      '--import=tsx',
      '--import', 'tsx',
      '--import', './instrument.mjs',
      '-r', 'C:\\app\\node_modules\\tsx\\dist\\preflight.cjs',
      '--enable-source-maps',
    ];
    expect(withoutTsx(argv)).toEqual(['--max-old-space-size=4096', '--import', './instrument.mjs', '--enable-source-maps']);
  });
  test('leaves flags that only mention tsx elsewhere, and an empty list, alone', () => {
    expect(withoutTsx(['--import', './tsxish.mjs', '--title=tsx'])).toEqual(['--import', './tsxish.mjs', '--title=tsx']);
    expect(withoutTsx([])).toEqual([]);
    expect(workerExecArgv([])).toEqual([]);
  });
  test('drops the V8 and per-process flags a worker thread refuses (a pool given one could not start), keeps the rest with their values', async () => {
    const argv = ['--max-old-space-size=4096', '--expose-gc', '--enable-source-maps', '--stack-size=2000', '--import', './instrument.mjs', '--title=pipeline', '--conditions', 'development', '--v8-pool-size=2', '--no-warnings', '--import', 'tsx'];
    const kept = workerExecArgv(argv);
    expect(kept).toEqual(['--enable-source-maps', '--import', './instrument.mjs', '--conditions', 'development', '--no-warnings']);
    // What is kept, a worker thread does start with; what was dropped, it refuses.
    const w = new Worker('require("node:worker_threads").parentPort.postMessage(process.execArgv)', { eval: true, execArgv: kept.filter((a) => a !== '--import' && a !== './instrument.mjs') });
    const [seen] = (await once(w, 'message')) as [string[]];
    await w.terminate();
    expect(seen).toContain('--enable-source-maps');
    expect(() => new Worker('', { eval: true, execArgv: ['--max-old-space-size=4096'] })).toThrow(expect.objectContaining({ code: 'ERR_WORKER_INVALID_EXEC_ARGV' }));
  });
});
