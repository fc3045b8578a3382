/**
 * Staged inserts on a file store and an S3 server (s3rver), on this project's backend: a
 * gzip-compressed Zarr v3 array written with zarrita straight into the store and read back
 * lazily, a streamed file, DataJoint Python's staged metadata and layout, and cleanup on every
 * kind of failure (callback, unfinished stream, insert, bad arguments).
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import * as zarr from 'zarrita';
import { BACKEND, cleanup, dj, freshSchema } from '../helpers.js';
import { closeStores, getStore } from '../../src/stores/registry.js';
import type { ObjectStore } from '../../src/stores/store.js';

interface S3rverInstance {
  run(): Promise<{ address: string; port: number }>;
  close(): Promise<void>;
  httpServer: Server;
}
const S3rver = createRequire(import.meta.url)('s3rver') as new (options: Record<string, unknown>) => S3rverInstance;

let schema: dj.SchemaDecorator;
let db: string;
let root: string;
let server: S3rverInstance;

class Recording extends dj.Manual {
  static definition = `
  subject_id : int32
  session_id : int32
  ---
  frames = null : <object@>
  notes = null : <object@>
  cloud_frames = null : <object@cloud>
  label = '' : varchar(32)
  `;
}

async function list(store: ObjectStore, prefix: string): Promise<string[]> {
  const out: string[] = [];
  for await (const e of store.list(prefix)) out.push(e.path);
  return out.sort();
}

async function rawMetadata(column: string, subject: number): Promise<Record<string, unknown>> {
  const c = dj.conn();
  const [row] = await c.query(`SELECT ${c.dialect.quoteId(column)} AS v FROM ${Recording.fullTableName} WHERE ${c.dialect.quoteId('subject_id')}=${subject}`);
  const v = row!.v;
  return (typeof v === 'string' ? JSON.parse(v) : v) as Record<string, unknown>;
}

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), `djtest_staged_${process.pid}_`));
  mkdirSync(join(root, 'main'));
  server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: join(root, 's3'), configureBuckets: [{ name: 'staged' }] });
  const { port } = await server.run();
  dj.config.set('stores', {
    default: 'main',
    main: { protocol: 'file', location: join(root, 'main'), fsync: false },
    cloud: { protocol: 's3', endpoint: `127.0.0.1:${port}`, bucket: 'staged', location: 'lab', access_key: 'S3RVER', secret_key: 'S3RVER', secure: false },
  });
  schema = await freshSchema('staged');
  db = `djtest_staged_${process.pid}`;
  schema.add(Recording);
});

afterAll(async () => {
  await cleanup(schema);
  await closeStores();
  await server?.close();
  rmSync(root, { recursive: true, force: true });
});

const frames = Uint16Array.from({ length: 64 * 48 }, (_, i) => i % 1000);

describe.each([
  ['file', 'frames', 'main'],
  ['s3', 'cloud_frames', 'cloud'],
] as const)('a Zarr array on the %s store', (_label, field, storeName) => {
  const subject = storeName === 'main' ? 1 : 2;

  test('is written compressed through staged.store and read back lazily', async () => {
    const result = await Recording.stagedInsert1(async (staged) => {
      Object.assign(staged.rec, { subject_id: subject, session_id: 7, label: 'zarr' });
      const arr = await zarr.create(staged.store(field, '.zarr'), {
        shape: [64, 48],
        chunkShape: [16, 48],
        dtype: 'uint16',
        codecs: [{ name: 'bytes', configuration: { endian: 'little' } }, { name: 'gzip', configuration: { level: 5 } }],
      });
      await zarr.set(arr, null, { data: frames, shape: [64, 48], stride: [48, 1] });
      return 'done';
    });
    expect(result).toBe('done');

    const ref = (await Recording.restrict({ subject_id: subject }).fetch1(field)) as InstanceType<typeof dj.ObjectRef>;
    expect(ref.isDir).toBe(true);
    expect(ref.store).toBe(storeName);
    expect(ref.path).toMatch(new RegExp(`^_schema/${db}/Recording/subject_id=${subject}/session_id=7/${field}_[A-Za-z0-9_-]{8}\\.zarr$`));
    expect(ref.itemCount).toBe(5); // zarr.json + 4 chunks
    expect(await ref.verify()).toBe(true);

    const store = await getStore(storeName);
    const chunk = await store.get(`${ref.path}/c/0/0`);
    expect([chunk[0], chunk[1]]).toEqual([0x1f, 0x8b]); // gzip
    expect(chunk.length).toBeLessThan(16 * 48 * 2);
    expect(await store.has(`${ref.path}.manifest.json`)).toBe(true);

    const arr = (await ref.zarr({ kind: 'array' })) as zarr.Array<'uint16', never>;
    expect(arr.shape).toEqual([64, 48]);
    const row = await zarr.get(arr, [20, null]);
    expect(Array.from(row.data as Uint16Array)).toEqual(Array.from(frames.subarray(20 * 48, 21 * 48)));

    const m = await rawMetadata(field, subject);
    const keys = ['path', 'size', 'hash', 'ext', 'is_dir', 'timestamp', 'item_count', ...(storeName === 'cloud' ? ['store'] : [])];
    expect(BACKEND === 'mysql' ? Object.keys(m) : Object.keys(m).sort()).toEqual(BACKEND === 'mysql' ? keys : [...keys].sort());
    expect(m).toMatchObject({ path: ref.path, hash: null, ext: '.zarr', is_dir: true, item_count: 5 });
  });
});

describe('staged files and failures', () => {
  test('staged.open streams a file; its metadata has size and mime type', async () => {
    await Recording.stagedInsert1(async (staged) => {
      Object.assign(staged.rec, { subject_id: 3, session_id: 1 });
      const out = staged.open('notes', '.txt');
      out.write('hello ');
      out.end('world');
      await new Promise((resolve) => out.on('finish', resolve));
    });
    const ref = (await Recording.restrict({ subject_id: 3 }).fetch1('notes')) as InstanceType<typeof dj.ObjectRef>;
    expect((await ref.read()).toString()).toBe('hello world');
    expect(ref.path).toMatch(/\/Recording\/subject_id=3\/session_id=1\/notes_[A-Za-z0-9_-]{8}\.txt$/);
    expect(await rawMetadata('notes', 3)).toMatchObject({ size: 11, hash: null, ext: '.txt', is_dir: false, mime_type: 'text/plain' });
  });

  test('a failing callback removes what it wrote and inserts nothing', async () => {
    const main = await getStore('main');
    const cloud = await getStore('cloud');
    await expect(
      Recording.stagedInsert1(async (staged) => {
        Object.assign(staged.rec, { subject_id: 4, session_id: 1 });
        const arr = await zarr.create(staged.store('frames', '.zarr'), { shape: [4], chunkShape: [2], dtype: 'int32' });
        await zarr.set(arr, null, { data: Int32Array.from([1, 2, 3, 4]), shape: [4], stride: [1] });
        const a2 = await zarr.create(staged.store('cloud_frames', '.zarr'), { shape: [4], chunkShape: [2], dtype: 'int32' });
        await zarr.set(a2, null, { data: Int32Array.from([1, 2, 3, 4]), shape: [4], stride: [1] });
        const out = staged.open('notes', '.bin');
        out.write(Buffer.alloc(100));
        throw new Error('analysis crashed');
      }),
    ).rejects.toThrow('analysis crashed');
    expect(await Recording.restrict({ subject_id: 4 }).count()).toBe(0);
    expect(await list(main, `_schema/${db}/Recording/subject_id=4`)).toEqual([]);
    expect(await list(cloud, `_schema/${db}/Recording/subject_id=4`)).toEqual([]);
  });

  test('a failing insert removes the objects too', async () => {
    const main = await getStore('main');
    await expect(
      Recording.stagedInsert1(async (staged) => {
        Object.assign(staged.rec, { subject_id: 1, session_id: 7 }); // already inserted above
        const arr = await zarr.create(staged.store('frames', '.zarr'), { shape: [2], chunkShape: [2], dtype: 'int32' });
        await zarr.set(arr, null, { data: Int32Array.from([5, 6]), shape: [2], stride: [1] });
      }),
    ).rejects.toBeInstanceOf(dj.DuplicateError);
    const kept = (await Recording.restrict({ subject_id: 1 }).fetch1('frames')) as InstanceType<typeof dj.ObjectRef>;
    const left = await list(main, `_schema/${db}/Recording/subject_id=1/session_id=7`);
    expect(left.every((p) => p.startsWith(kept.path))).toBe(true); // only the first insert's object
  });

  test('a staged.open stream that fails (a pipeline whose source throws, destroy(err)) rejects stagedInsert1 and removes the file', async () => {
    const main = await getStore('main');
    async function* failingSource() {
      yield Buffer.alloc(1000, 1);
      throw new Error('source failed');
    }
    await expect(
      Recording.stagedInsert1(async (staged) => {
        Object.assign(staged.rec, { subject_id: 8, session_id: 1 });
        await pipeline(Readable.from(failingSource()), staged.open('notes', '.bin'));
      }),
    ).rejects.toThrow('source failed');
    await expect(
      Recording.stagedInsert1(async (staged) => {
        Object.assign(staged.rec, { subject_id: 8, session_id: 2 });
        const out = staged.open('notes', '.bin');
        out.on('error', () => undefined); // the user's own listener: the error still fails the insert
        out.write(Buffer.alloc(10));
        out.destroy(new Error('writer gave up'));
        throw new Error('writer gave up');
      }),
    ).rejects.toThrow('writer gave up');
    expect(await Recording.restrict({ subject_id: 8 }).count()).toBe(0);
    expect(await list(main, `_schema/${db}/Recording/subject_id=8`)).toEqual([]);
  });

  test("changing staged.rec's primary key after open() is refused; nothing is left", async () => {
    const main = await getStore('main');
    await expect(
      Recording.stagedInsert1(async (staged) => {
        Object.assign(staged.rec, { subject_id: 9, session_id: 1 });
        const out = staged.open('notes', '.txt');
        out.end('filed under session 1');
        await new Promise((resolve) => out.on('finish', resolve));
        staged.rec.session_id = 2;
      }),
    ).rejects.toThrow(/primary key changed \(session_id: 1 → 2\)/);
    expect(await Recording.restrict({ subject_id: 9 }).count()).toBe(0);
    expect(await list(main, `_schema/${db}/Recording/subject_id=9`)).toEqual([]);
  });

  test('a stream left open fails the insert; bad fields and missing keys are refused', async () => {
    const main = await getStore('main');
    await expect(
      Recording.stagedInsert1((staged) => {
        Object.assign(staged.rec, { subject_id: 5, session_id: 1 });
        staged.open('notes', '.bin').write('never ended');
      }),
    ).rejects.toThrow(/was not ended/);
    expect(await list(main, `_schema/${db}/Recording/subject_id=5`)).toEqual([]);
    expect(await Recording.restrict({ subject_id: 5 }).count()).toBe(0);

    await expect(Recording.stagedInsert1((staged) => void staged.store('frames', '.zarr'))).rejects.toThrow(/missing: subject_id, session_id/);
    await expect(
      Recording.stagedInsert1((staged) => {
        Object.assign(staged.rec, { subject_id: 6, session_id: 1 });
        staged.store('label');
      }),
    ).rejects.toThrow(/not an <object@> attribute/);
    await expect(
      Recording.stagedInsert1((staged) => {
        Object.assign(staged.rec, { subject_id: 6, session_id: 1 });
        staged.store('frames', '.zarr');
      }),
    ).rejects.toThrow(/Nothing was written/);
  });
});

describe('objects written inside a transaction that is rolled back', () => {
  const main = () => getStore('main');
  // A staged insert's folder is named by the class, an insert's by the table (as in DataJoint Python).
  const underKey = async (subject: number) => (await list(await main(), `_schema/${db}`)).filter((p) => p.includes(`/subject_id=${subject}/`));

  test('a staged insert and an <object@> insert in a transaction that fails leave no object; a nested one undoes only its own', async () => {
    const conn = dj.conn();
    await expect(
      conn.transaction(async () => {
        await Recording.stagedInsert1(async (staged) => {
          Object.assign(staged.rec, { subject_id: 20, session_id: 1 });
          staged.open('notes', '.txt').end('staged, then rolled back');
        });
        await Recording.insert1({ subject_id: 21, session_id: 1, notes: Buffer.from('inserted, then rolled back') });
        expect([await underKey(20), await underKey(21)].map((l) => l.length)).toEqual([1, 1]);
        throw new Error('a later step failed');
      }),
    ).rejects.toThrow('a later step failed');
    expect(await Recording.restrict('subject_id IN (20, 21)').count()).toBe(0);
    expect([...(await underKey(20)), ...(await underKey(21))]).toEqual([]);

    await conn.transaction(async () => {
      await Recording.insert1({ subject_id: 22, session_id: 1, notes: Buffer.from('kept') });
      await conn
        .transaction(async () => {
          await Recording.insert1({ subject_id: 23, session_id: 1, notes: Buffer.from('undone with its savepoint') });
          throw new Error('inner failure');
        })
        .catch(() => undefined);
    });
    expect(await underKey(23)).toEqual([]);
    expect((await underKey(22)).length).toBe(1);
    const kept = (await Recording.restrict({ subject_id: 22 }).fetch1('notes')) as InstanceType<typeof dj.ObjectRef>;
    expect((await kept.read()).toString()).toBe('kept');
  });

  test('update1 of a row that does not exist uploads nothing', async () => {
    await expect(Recording.update1({ subject_id: 24, session_id: 1, notes: Buffer.alloc(1 << 16) })).rejects.toThrow(/no row with key/);
    expect(await underKey(24)).toEqual([]);
  });
});

describe('objects of a make that fails', () => {
  test('a make that throws after its staged insert and its part insert leaves no object; one that succeeds keeps them', async () => {
    class Analysis extends dj.Computed {
      static definition = `
      -> Recording
      ---
      raw : <object@>
      `;
      static Extra = class extends dj.Part {
        static definition = `
        -> master
        ---
        note : <object@>
        `;
      };
      async make(key: Record<string, unknown>) {
        await Analysis.stagedInsert1(async (staged) => {
          Object.assign(staged.rec, key);
          staged.open('raw', '.dat').end('data');
        });
        await Analysis.Extra.insert1({ ...key, note: Buffer.from('part') });
        if (key.subject_id === 3) throw new Error('a later step failed');
      }
    }
    schema.add(Analysis);
    await Analysis.declare();
    const r = await Analysis.populate({ suppressErrors: true });
    expect(r.error).toBe(1);
    expect(r.success).toBeGreaterThan(0);
    const store = await getStore('main');
    const left = (await list(store, `_schema/${db}`)).filter((p) => /analysis/i.test(p));
    expect(left.filter((p) => p.includes('/subject_id=3/'))).toEqual([]);
    // Two objects per key made.
    expect(left.filter((p) => !p.endsWith('.manifest.json'))).toHaveLength(2 * r.success);
  });
});
