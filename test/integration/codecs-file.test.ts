/**
 * Store-backed codecs on file stores (temporary directories), on this project's backend: the
 * shared suite of test/support/codec-suite.ts.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dj } from '../helpers.js';
import { codecSuite } from '../support/codec-suite.js';

let root: string;

codecSuite('file', {
  async configure() {
    root = mkdtempSync(join(tmpdir(), `djtest_codecs_file_${process.pid}_`));
    dj.config.set('stores', {
      default: 'main',
      main: { protocol: 'file', location: join(root, 'main'), fsync: false },
      cold: { protocol: 'file', location: join(root, 'cold'), fsync: false },
    });
    const { mkdirSync } = await import('node:fs');
    mkdirSync(join(root, 'main'));
    mkdirSync(join(root, 'cold'));
  },
  broken: () => ({ protocol: 'file', location: join(root, 'no-such-mount') }),
  async teardown() {
    rmSync(root, { recursive: true, force: true });
  },
});
