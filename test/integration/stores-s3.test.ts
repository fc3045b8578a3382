/**
 * The 's3' store against a real S3 server (s3rver, started here on 127.0.0.1 with a random port
 * and a temporary directory): objects, ranges, streams, listing and deletion by folder,
 * multipart uploads checked byte for byte, error mapping, and the concurrency bound.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { config } from '../../src/config.js';
import { BucketInaccessible, DataJointError, MissingExternalFile } from '../../src/errors.js';
import { ObjectRef } from '../../src/objects/object-ref.js';
import { parallelMap } from '../../src/stores/parallel.js';
import { closeStores, getStore } from '../../src/stores/registry.js';
import { S3Store, type S3StoreOptions } from '../../src/stores/s3.js';

interface S3rverInstance {
  run(): Promise<{ address: string; port: number }>;
  close(): Promise<void>;
  httpServer: Server;
}
const S3rver = createRequire(import.meta.url)('s3rver') as new (options: Record<string, unknown>) => S3rverInstance;

const BUCKET = `djtest-${process.pid}`;
const MiB = 1 << 20;
let server: S3rverInstance;
let endpoint: string;
let dataDir: string;
const stores: S3Store[] = [];

/** Requests being served right now, and the most seen at once. */
const inflight = { now: 0, peak: 0, reset() { this.peak = this.now; } };

function s3(extra: Partial<S3StoreOptions> = {}): S3Store {
  const s = new S3Store({ name: 'cloud', endpoint, bucket: BUCKET, location: 'dj/test', accessKey: 'S3RVER', secretKey: 'S3RVER', secure: false, ...extra });
  stores.push(s);
  return s;
}

const md5 = (b: Uint8Array) => createHash('md5').update(b).digest('hex');

async function drain(r: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of r) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

async function paths(iter: AsyncIterable<{ path: string; size: number }>) {
  const out: string[] = [];
  for await (const e of iter) out.push(`${e.path}:${e.size}`);
  return out.sort();
}

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), `djtest_s3rver_${process.pid}_`));
  server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: dataDir, configureBuckets: [{ name: BUCKET }] });
  const { port } = await server.run();
  endpoint = `127.0.0.1:${port}`;
  server.httpServer.on('request', (_req, res) => {
    inflight.peak = Math.max(inflight.peak, ++inflight.now);
    res.on('close', () => inflight.now--);
  });
});

afterAll(async () => {
  await Promise.all(stores.map((s) => s.close()));
  await closeStores();
  await server?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('objects', () => {
  test('put/get, ranges, streams, has, size', async () => {
    const s = s3();
    await s.put('a/b/one.txt', Buffer.from('hello s3'));
    expect((await s.get('a/b/one.txt')).toString()).toBe('hello s3');
    expect((await s.getRange('a/b/one.txt', 6, 2)).toString()).toBe('s3');
    expect((await s.getRange('a/b/one.txt', 6, 100)).toString()).toBe('s3');
    expect((await s.getRange('a/b/one.txt', 0, 0)).length).toBe(0);
    expect((await drain(s.open('a/b/one.txt'))).toString()).toBe('hello s3');
    expect(await s.has('a/b/one.txt')).toBe(true);
    expect(await s.has('a/b/two.txt')).toBe(false);
    expect(await s.size('a/b/one.txt')).toBe(8);
    const view = new Uint8Array([9, 8, 7, 6]).subarray(1, 3);
    await s.put('view.bin', view);
    expect([...(await s.get('view.bin'))]).toEqual([8, 7]);
    await s.put('stream.txt', Readable.from([Buffer.from('ab'), Buffer.from('cd')]));
    expect((await s.get('stream.txt')).toString()).toBe('abcd');
    await s.put('empty', Readable.from([]));
    expect(await s.size('empty')).toBe(0);
  });

  test('keys live under the location prefix; list and deletePrefix work by folder', async () => {
    const s = s3({ location: '/lab/raw/' });
    await s.put('L/x/1', Buffer.from('1'));
    await s.put('L/x/sub/2', Buffer.from('22'));
    await s.put('L/xy/3', Buffer.from('333'));
    expect(s.key('L/x/1')).toBe('lab/raw/L/x/1');
    expect(await paths(s.list('L/x'))).toEqual(['L/x/1:1', 'L/x/sub/2:2']);
    expect(await paths(s.list(''))).toEqual(['L/x/1:1', 'L/x/sub/2:2', 'L/xy/3:3']);
    const atRoot = s3({ location: '' });
    expect((await paths(atRoot.list('lab/raw/L'))).length).toBe(3);
    expect(await s.deletePrefix('L/x')).toBe(2);
    expect(await paths(s.list('L'))).toEqual(['L/xy/3:3']);
    await s.delete('L/xy/3');
    await s.delete('L/xy/3'); // again: no error
    expect(await paths(s.list(''))).toEqual([]);
  });

  test('putFile, small (one request) and large (multipart from the file)', async () => {
    const s = s3({ partSize: 5 * MiB });
    const local = join(dataDir, '..', `djtest_s3_local_${process.pid}.bin`);
    const big = randomBytes(12 * MiB + 5);
    try {
      writeFileSync(local, 'small file');
      await s.putFile('files/small.txt', local);
      expect((await s.get('files/small.txt')).toString()).toBe('small file');
      writeFileSync(local, big);
      await s.putFile('files/big.bin', local);
      expect(md5(await s.get('files/big.bin'))).toBe(md5(big));
    } finally {
      rmSync(local, { force: true });
    }
    await expect(s.putFile('files/none', local)).rejects.toThrow(/Cannot read local file/);
  });

  test('bad paths are refused', async () => {
    const s = s3();
    await expect(s.get('../x')).rejects.toThrow(DataJointError);
    await expect(s.put('/abs', Buffer.from('x'))).rejects.toThrow(DataJointError);
  });
});

describe('multipart uploads', () => {
  const big = randomBytes(40 * MiB + 123);

  test('a ~40 MB stream goes up in parts and comes back byte for byte', async () => {
    const s = s3({ partSize: 5 * MiB, partConcurrency: 3 });
    // Odd-sized chunks so parts must be re-assembled across chunk boundaries.
    const chunks = Readable.from((function* () {
      for (let at = 0; at < big.length; at += 777_777) yield big.subarray(at, at + 777_777);
    })());
    inflight.reset();
    await s.put('mp/stream.bin', chunks);
    expect(inflight.peak).toBeLessThanOrEqual(3);
    const back = await s.get('mp/stream.bin');
    expect(back.length).toBe(big.length);
    expect(back.equals(big)).toBe(true);
    expect(md5(await drain(s.open('mp/stream.bin')))).toBe(md5(big));
    expect((await s.getRange('mp/stream.bin', 20 * MiB - 3, 6)).equals(big.subarray(20 * MiB - 3, 20 * MiB + 3))).toBe(true);
  });

  test('a ~40 MB buffer (multipart from slices)', async () => {
    const s = s3({ partSize: 8 * MiB });
    await s.put('mp/buffer.bin', big);
    expect(md5(await s.get('mp/buffer.bin'))).toBe(md5(big));
  });

  test('a failing source aborts the upload: no object appears', async () => {
    const s = s3({ partSize: 5 * MiB });
    const broken = Readable.from((async function* () {
      yield big.subarray(0, 6 * MiB);
      yield big.subarray(6 * MiB, 12 * MiB);
      throw new Error('source broke');
    })());
    const err = await s.put('mp/broken.bin', broken).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect(err).not.toBeInstanceOf(DataJointError); // the caller's own error, as thrown
    expect((err as Error).message).toBe('source broke');
    expect(await s.has('mp/broken.bin')).toBe(false);
  });

  test('part sizes below S3’s minimum are refused', () => {
    expect(() => s3({ partSize: 1024 })).toThrow(/at least 5 MiB/);
  });
});

describe('errors', () => {
  test('a missing key is MissingExternalFile', async () => {
    const s = s3();
    await expect(s.get('no/such.key')).rejects.toBeInstanceOf(MissingExternalFile);
    await expect(s.size('no/such.key')).rejects.toBeInstanceOf(MissingExternalFile);
    await expect(s.getRange('no/such.key', 0, 4)).rejects.toBeInstanceOf(MissingExternalFile);
    await expect(s.getRange('no/such.key', 0, 0)).rejects.toBeInstanceOf(MissingExternalFile);
    await expect(drain(s.open('no/such.key'))).rejects.toBeInstanceOf(MissingExternalFile);
  });

  test('a missing bucket is BucketInaccessible', async () => {
    const s = s3({ bucket: `djtest-missing-${process.pid}` });
    await expect(s.get('x')).rejects.toBeInstanceOf(BucketInaccessible);
    await expect(s.get('x')).rejects.toThrow(/does not exist/);
    await expect(s.put('x', Buffer.from('1'))).rejects.toBeInstanceOf(BucketInaccessible);
    await expect(s.has('x')).rejects.toBeInstanceOf(BucketInaccessible);
    await expect(paths(s.list(''))).rejects.toBeInstanceOf(BucketInaccessible);
  });

  test('refused credentials are BucketInaccessible', async () => {
    // s3rver checks the access key (not V4 signatures): an unknown key is refused with 403.
    const s = s3({ accessKey: 'NOBODY' });
    await expect(s.get('a/b/one.txt')).rejects.toBeInstanceOf(BucketInaccessible);
  });

  test('an unreachable endpoint is BucketInaccessible', async () => {
    const s = s3({ endpoint: 'http://127.0.0.1:9', maxAttempts: 1 });
    await expect(s.get('x')).rejects.toBeInstanceOf(BucketInaccessible);
    await expect(s.get('x')).rejects.toThrow(/ECONNREFUSED/);
  });
});

describe('concurrency', () => {
  test('transfers through parallelMap keep at most store.concurrency requests in flight', async () => {
    const s = s3({ concurrency: 3 });
    const payload = randomBytes(256 * 1024);
    await s.get('view.bin').catch(() => undefined); // bucket check done before measuring
    inflight.reset();
    await parallelMap(Array.from({ length: 24 }, (_, i) => i), s.concurrency, (i) => s.put(`conc/${i}.bin`, payload));
    expect(inflight.peak).toBeLessThanOrEqual(3);
    expect(inflight.peak).toBeGreaterThanOrEqual(2); // and they do overlap
    inflight.reset();
    const got = await parallelMap(Array.from({ length: 24 }, (_, i) => i), s.concurrency, (i) => s.get(`conc/${i}.bin`));
    expect(inflight.peak).toBeLessThanOrEqual(3);
    expect(got.every((b) => b.equals(payload))).toBe(true);
  });
});

describe('through the registry and ObjectRef', () => {
  test('an s3 store from the `stores` settings (DataJoint Python spellings)', async () => {
    await config.override(
      { stores: { default: 'cloud', cloud: { protocol: 's3', endpoint, bucket: BUCKET, location: 'reg', access_key: 'S3RVER', secret_key: 'S3RVER', secure: false, concurrency: 4 } } },
      async () => {
        const s = await getStore();
        expect(s.protocol).toBe('s3');
        expect(s.concurrency).toBe(4);
        await s.put('_schema/lab/T/id=1/f_TOKEN123/a.txt', Buffer.from('in a folder'));
        const ref = await ObjectRef.load({ path: '_schema/lab/T/id=1/f_TOKEN123', store: null, is_dir: true });
        expect(await ref.listdir()).toEqual(['a.txt']);
        expect((await drain(ref.open('a.txt'))).toString()).toBe('in a folder');
        expect(await ref.exists('a.txt')).toBe(true);
      },
    );
  });
});
