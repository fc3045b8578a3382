/** The Node flags populate's worker threads start with: the parent's, minus tsx's loader. */
import { describe, expect, test } from 'vitest';
import { workerExecArgv } from '../../src/populate/pool-threads.js';

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
    expect(workerExecArgv(argv)).toEqual(['--max-old-space-size=4096', '--import', './instrument.mjs', '--enable-source-maps']);
  });
  test('leaves flags that only mention tsx elsewhere, and an empty list, alone', () => {
    expect(workerExecArgv(['--import', './tsxish.mjs', '--title=tsx'])).toEqual(['--import', './tsxish.mjs', '--title=tsx']);
    expect(workerExecArgv([])).toEqual([]);
  });
});
