/**
 * The 'file' store (atomic publish, error mapping, listing and deletion by folder), the store
 * registry over `stores` settings, and the bounded parallel map.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync, existsSync, readFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { config } from '../../src/config.js';
import { BucketInaccessible, DataJointError, MissingExternalFile } from '../../src/errors.js';
import { FileStore } from '../../src/stores/file.js';
import { Limiter, parallelMap } from '../../src/stores/parallel.js';
import { closeStores, getStore, storeSpec } from '../../src/stores/registry.js';

let dir: string;
let store: FileStore;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), `djtest_store_${process.pid}_`));
  store = new FileStore({ name: 'main', location: dir });
});
afterAll(async () => {
  await closeStores();
  rmSync(dir, { recursive: true, force: true });
});

async function collect(iter: AsyncIterable<{ path: string; size: number }>) {
  const out = [];
  for await (const e of iter) out.push(e);
  return out.sort((a, b) => a.path.localeCompare(b.path));
}

async function streamText(r: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of r) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString();
}

/** A stream that yields `parts` and then fails, like a dropped upload. */
function failingStream(parts: string[]): Readable {
  return Readable.from(
    (async function* () {
      for (const p of parts) yield Buffer.from(p);
      throw new Error('source broke');
    })(),
  );
}

describe('file store: objects', () => {
  test('put/get bytes, typed-array views and streams', async () => {
    await store.put('a/b/one.bin', Buffer.from('hello'));
    expect((await store.get('a/b/one.bin')).toString()).toBe('hello');
    const backing = new Uint8Array([0, 1, 2, 3, 4, 5]);
    await store.put('a/view.bin', backing.subarray(2, 5));
    expect([...(await store.get('a/view.bin'))]).toEqual([2, 3, 4]);
    await store.put('a/stream.txt', Readable.from([Buffer.from('ab'), Buffer.from('cd')]));
    expect((await store.get('a/stream.txt')).toString()).toBe('abcd');
    await store.put('a/empty', Buffer.alloc(0));
    expect(await store.size('a/empty')).toBe(0);
  });

  test('byte ranges, including the end and past it', async () => {
    await store.put('r.bin', Buffer.from('0123456789'));
    expect((await store.getRange('r.bin', 2, 3)).toString()).toBe('234');
    expect((await store.getRange('r.bin', 8, 10)).toString()).toBe('89');
    expect((await store.getRange('r.bin', 20, 5)).length).toBe(0);
    expect((await store.getRange('r.bin', 0, 0)).length).toBe(0);
    await expect(store.getRange('r.bin', -1, 2)).rejects.toThrow(DataJointError);
    await expect(store.getRange('r.bin', 0, 1.5)).rejects.toThrow(DataJointError);
  });

  test('open streams the object; has and size', async () => {
    const big = Buffer.alloc(3 * 1024 * 1024 + 17, 7);
    await store.put('big.bin', big);
    const chunks: Buffer[] = [];
    for await (const c of store.open('big.bin')) chunks.push(c as Buffer);
    expect(chunks.length).toBeGreaterThan(1); // streamed, not one read
    expect(Buffer.concat(chunks).equals(big)).toBe(true);
    expect(await store.has('big.bin')).toBe(true);
    expect(await store.has('nope.bin')).toBe(false);
    expect(await store.has('a')).toBe(false); // a folder is not an object
    expect(await store.size('big.bin')).toBe(big.length);
  });

  test('putFile copies a local file; a missing local file is a DataJointError', async () => {
    const local = join(dir, '..', `djtest_local_${process.pid}.dat`);
    writeFileSync(local, 'local bytes');
    try {
      await store.putFile('files/x.dat', local);
      expect((await store.get('files/x.dat')).toString()).toBe('local bytes');
    } finally {
      rmSync(local, { force: true });
    }
    await expect(store.putFile('files/y.dat', local)).rejects.toThrow(/Cannot read local file/);
  });

  test('overwrite replaces the object whole', async () => {
    await store.put('over.txt', Buffer.from('old'));
    await store.put('over.txt', Buffer.from('new content'));
    expect((await store.get('over.txt')).toString()).toBe('new content');
  });

  test('missing objects are MissingExternalFile everywhere', async () => {
    await expect(store.get('missing/x')).rejects.toBeInstanceOf(MissingExternalFile);
    await expect(store.size('missing/x')).rejects.toBeInstanceOf(MissingExternalFile);
    await expect(store.getRange('missing/x', 0, 1)).rejects.toBeInstanceOf(MissingExternalFile);
    await expect(streamText(store.open('missing/x'))).rejects.toBeInstanceOf(MissingExternalFile);
    await expect(store.size('a')).rejects.toBeInstanceOf(MissingExternalFile); // a folder
    await expect(store.get('a')).rejects.toBeInstanceOf(MissingExternalFile);
    await expect(streamText(store.open('a'))).rejects.toBeInstanceOf(MissingExternalFile);
    await store.delete('missing/x'); // deleting nothing is fine
  });

  test('bad paths are refused before touching the disk', async () => {
    for (const p of ['', '/abs', '../escape', 'a/../../b', 'a//b', 'a/./b', 'a\\b']) {
      await expect(store.get(p)).rejects.toThrow(DataJointError);
      await expect(store.put(p, Buffer.from('x'))).rejects.toThrow(DataJointError);
    }
    await expect(store.put('ok', 'text' as never)).rejects.toThrow(/expects a Buffer/);
  });
});

describe('file store: atomic publish', () => {
  test('a write that fails half-way leaves no object and no litter', async () => {
    await expect(store.put('atomic/new.bin', failingStream(['part1', 'part2']))).rejects.toThrow('source broke');
    expect(await store.has('atomic/new.bin')).toBe(false);
    expect(readdirSync(join(dir, 'atomic'))).toEqual([]);
  });

  test('a failed overwrite keeps the previous object intact', async () => {
    await store.put('atomic/keep.bin', Buffer.from('previous'));
    await expect(store.put('atomic/keep.bin', failingStream(['partial']))).rejects.toThrow('source broke');
    expect((await store.get('atomic/keep.bin')).toString()).toBe('previous');
  });

  test('readers never see a write in progress', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const slow = Readable.from(
      (async function* () {
        yield Buffer.from('first half ');
        await gate;
        yield Buffer.from('second half');
      })(),
    );
    const writing = store.put('atomic/slow.txt', slow);
    await new Promise((r) => setTimeout(r, 50));
    expect(await store.has('atomic/slow.txt')).toBe(false);
    expect((await collect(store.list('atomic'))).map((e) => e.path)).not.toContain('atomic/slow.txt'); // the temporary is hidden
    release();
    await writing;
    expect((await store.get('atomic/slow.txt')).toString()).toBe('first half second half');
  });
});

describe('file store: listing and deletion by folder', () => {
  test('list walks a folder (not a name prefix) and reports sizes', async () => {
    await store.put('L/x/1', Buffer.from('1'));
    await store.put('L/x/sub/2', Buffer.from('22'));
    await store.put('L/xy/3', Buffer.from('333'));
    expect(await collect(store.list('L/x'))).toEqual([
      { path: 'L/x/1', size: 1 },
      { path: 'L/x/sub/2', size: 2 },
    ]);
    expect((await collect(store.list('L/x/'))).length).toBe(2);
    expect((await collect(store.list('L'))).length).toBe(3);
    expect(await collect(store.list('L/none'))).toEqual([]);
    expect((await collect(store.list(''))).some((e) => e.path === 'L/xy/3')).toBe(true);
  });

  test('deletePrefix removes a folder, not its name-prefixed siblings; delete prunes empty folders', async () => {
    expect(await store.deletePrefix('L/x')).toBe(2);
    expect(existsSync(join(dir, 'L', 'x'))).toBe(false);
    expect(await store.has('L/xy/3')).toBe(true);
    await store.delete('L/xy/3');
    expect(existsSync(join(dir, 'L'))).toBe(false); // emptied folders go too
    expect(existsSync(dir)).toBe(true); // never the root
  });

  test('deletePrefix("") empties the store but keeps its root', async () => {
    const sub = mkdtempSync(join(dir, 'root_'));
    const s = new FileStore({ name: 'tmp', location: sub });
    await s.put('p/q', Buffer.from('x'));
    await s.put('r', Buffer.from('y'));
    expect(await s.deletePrefix('')).toBe(2);
    expect(readdirSync(sub)).toEqual([]);
  });
});

describe('file store: inaccessible locations', () => {
  test('a missing location is BucketInaccessible, not an empty store', async () => {
    const s = new FileStore({ name: 'gone', location: join(dir, 'does-not-exist') });
    await expect(s.get('x')).rejects.toBeInstanceOf(BucketInaccessible);
    await expect(s.put('x', Buffer.from('1'))).rejects.toBeInstanceOf(BucketInaccessible);
    await expect(collect(s.list(''))).rejects.toBeInstanceOf(BucketInaccessible);
    expect(existsSync(join(dir, 'does-not-exist'))).toBe(false);
  });

  test.skipIf(process.getuid?.() === 0)('an unwritable location is BucketInaccessible', async () => {
    const ro = mkdtempSync(join(dir, 'ro_'));
    chmodSync(ro, 0o500);
    try {
      await expect(new FileStore({ name: 'ro', location: ro }).put('x', Buffer.from('1'))).rejects.toBeInstanceOf(BucketInaccessible);
    } finally {
      chmodSync(ro, 0o700);
    }
  });
});

describe('registry', () => {
  test('default store, named stores, one instance per configuration', async () => {
    await config.override({ stores: { default: 'main', main: { protocol: 'file', location: dir }, other: { protocol: 'file', location: dir, concurrency: 3 } } }, async () => {
      const a = await getStore();
      expect(a.name).toBe('main');
      expect(await getStore('')).toBe(a);
      expect(await getStore(null)).toBe(a);
      expect(await getStore('main')).toBe(a);
      const o = await getStore('other');
      expect(o).not.toBe(a);
      expect(o.concurrency).toBe(3);
      expect(a.concurrency).toBe(8);
      await a.put('reg/x', Buffer.from('via registry'));
      expect((await store.get('reg/x')).toString()).toBe('via registry');
    });
  });

  test('a changed configuration builds a new instance', async () => {
    const first = await config.override({ stores: { default: 'main', main: { protocol: 'file', location: dir } } }, () => getStore());
    const again = await config.override({ stores: { default: 'main', main: { protocol: 'file', location: dir } } }, () => getStore());
    expect(again).toBe(first);
    const changed = await config.override({ stores: { default: 'main', main: { protocol: 'file', location: dir, concurrency: 2 } } }, () => getStore());
    expect(changed).not.toBe(first);
    expect(changed.concurrency).toBe(2);
  });

  test('clear errors for unknown stores and bad settings', async () => {
    await config.override({ stores: { main: { protocol: 'file', location: dir } } }, async () => {
      await expect(getStore()).rejects.toThrow(/stores\.default is not configured/);
      await expect(getStore('nope')).rejects.toThrow(/Store "nope" is not configured \(configured stores: main\)/);
      await expect(getStore('default')).rejects.toThrow(/not a store name/);
    });
    await config.override({ stores: { default: 'bad', bad: { protocol: 's3', endpoint: 'h', bucket: 'b' } } }, async () => {
      await expect(getStore()).rejects.toThrow(/stores\.bad is missing: access_key, secret_key/);
      expect(() => storeSpec('bad')).toThrow(DataJointError);
    });
    await config.override({ stores: { default: 42 } }, async () => {
      await expect(getStore()).rejects.toThrow(/stores\.default must be the name of a store/);
    });
  });

  test('the S3 SDK is not loaded for file stores', () => {
    const root = fileURLToPath(new URL('../..', import.meta.url));
    const script = `
      import { createRequire } from 'node:module';
      import { config } from './src/config.js';
      import { getStore } from './src/stores/registry.js';
      config.set('stores', { default: 'f', f: { protocol: 'file', location: ${JSON.stringify(dir)} }, s: { protocol: 's3', endpoint: '127.0.0.1:1', bucket: 'b', access_key: 'a', secret_key: 's' } });
      const f = await getStore();
      await f.has('x');
      await getStore('s'); // building an S3 store object does not load the SDK either
      const loaded = Object.keys(createRequire(import.meta.url).cache).some((k) => k.includes('client-s3'));
      console.log(JSON.stringify({ loaded }));`;
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: root, encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout.trim())).toEqual({ loaded: false });
  });
});

describe('parallelMap and Limiter', () => {
  test('keeps order and never exceeds the limit', async () => {
    let active = 0;
    let peak = 0;
    const out = await parallelMap(Array.from({ length: 40 }, (_, i) => i), 5, async (x) => {
      peak = Math.max(peak, ++active);
      await new Promise((r) => setTimeout(r, 1 + (x % 3)));
      active--;
      return x * 2;
    });
    expect(out).toEqual(Array.from({ length: 40 }, (_, i) => i * 2));
    expect(peak).toBe(5);
  });

  test('async sources are pulled lazily, a few ahead at most', async () => {
    let pulled = 0;
    async function* src() {
      for (let i = 0; i < 20; i++) {
        pulled++;
        yield i;
      }
    }
    let maxAhead = 0;
    let done = 0;
    await parallelMap(src(), 3, async () => {
      maxAhead = Math.max(maxAhead, pulled - done);
      await new Promise((r) => setTimeout(r, 2));
      done++;
    });
    expect(pulled).toBe(20);
    expect(maxAhead).toBeLessThanOrEqual(3);
  });

  test('the first error stops new work and is rethrown after in-flight calls settle', async () => {
    const started: number[] = [];
    let settled = 0;
    await expect(
      parallelMap(Array.from({ length: 50 }, (_, i) => i), 4, async (x) => {
        started.push(x);
        await new Promise((r) => setTimeout(r, 5));
        settled++;
        if (x === 2) throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(started.length).toBeLessThan(12);
    expect(settled).toBe(started.length);
  });

  test('bad limits are refused', async () => {
    await expect(parallelMap([1], 0, async () => 1)).rejects.toThrow(DataJointError);
    expect(() => new Limiter(1.5)).toThrow(DataJointError);
  });

  test('Limiter bounds runs started independently', async () => {
    const lim = new Limiter(2);
    let peak = 0;
    await Promise.all(
      Array.from({ length: 10 }, () =>
        lim.run(async () => {
          peak = Math.max(peak, lim.active);
          await new Promise((r) => setTimeout(r, 2));
        }),
      ),
    );
    expect(peak).toBe(2);
    expect(lim.active).toBe(0);
  });
});

test('the temporary file name cannot collide with a stored object', async () => {
  // Objects whose names look like our temporaries are still listed when they are not hidden.
  await store.put('names/djtmp-not-hidden', Buffer.from('x'));
  expect((await collect(store.list('names'))).map((e) => e.path)).toEqual(['names/djtmp-not-hidden']);
  expect(readFileSync(join(dir, 'names', 'djtmp-not-hidden'), 'utf8')).toBe('x');
});
