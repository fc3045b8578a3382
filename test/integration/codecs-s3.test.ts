/**
 * Store-backed codecs on S3 stores (s3rver started here on 127.0.0.1, a random port and a
 * temporary directory), on this project's backend: the shared suite of
 * test/support/codec-suite.ts. The unreachable store is an S3 endpoint nobody listens on.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dj } from '../helpers.js';
import { closeStores } from '../../src/stores/registry.js';
import { codecSuite } from '../support/codec-suite.js';

interface S3rverInstance {
  run(): Promise<{ address: string; port: number }>;
  close(): Promise<void>;
  httpServer: Server;
}
const S3rver = createRequire(import.meta.url)('s3rver') as new (options: Record<string, unknown>) => S3rverInstance;

let server: S3rverInstance;
let dir: string;
const s3 = (endpoint: string, location: string) => ({
  protocol: 's3',
  endpoint,
  bucket: 'djcodecs',
  location,
  access_key: 'S3RVER',
  secret_key: 'S3RVER',
  secure: false,
});

codecSuite('s3', {
  async configure() {
    dir = mkdtempSync(join(tmpdir(), `djtest_codecs_s3_${process.pid}_`));
    server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: dir, configureBuckets: [{ name: 'djcodecs' }] });
    const { port } = await server.run();
    dj.config.set('stores', { default: 'main', main: s3(`127.0.0.1:${port}`, 'main'), cold: s3(`127.0.0.1:${port}`, 'cold') });
  },
  // Port 9 (discard) on localhost: connection refused.
  broken: () => ({ ...s3('127.0.0.1:9', 'x'), bucket: 'none' }),
  async teardown() {
    await closeStores();
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  },
});
