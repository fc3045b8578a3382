/**
 * The store-backed codecs end to end, against whatever stores `setup` configures (a file
 * store, an S3 server): every built-in codec through insert and fetch, DataJoint Python's
 * layout and column JSON, deduplication, validate() writing nothing, deletes keeping shared
 * objects, failed inserts leaving no rows pointing at objects (and no objects only they owned),
 * missing objects and unreachable stores, and a custom codec chained to `<blob@>`.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { BACKEND, cleanup, dj, freshSchema } from '../helpers.js';
import { getStore } from '../../src/stores/registry.js';
import { contentHash } from '../../src/stores/layout.js';
import { pack } from '../../src/blob/index.js';
import type { ObjectStore } from '../../src/stores/store.js';
import { NpyRef } from '../../src/codecs/builtin/npy.js';
import { unregisterCodec } from '../../src/codecs/registry.js';

export interface StoreSetup {
  /** Configure `stores` with stores `main` (the default) and `cold`; called in beforeAll. */
  configure(): Promise<void>;
  /** Configure a store `broken` that cannot be reached. */
  broken(): Record<string, unknown>;
  teardown?(): Promise<void>;
}

async function list(store: ObjectStore, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  for await (const e of store.list(prefix)) out.push(e.path);
  return out.sort();
}

async function columnJson(table: { fullTableName: string }, column: string, where = ''): Promise<unknown[]> {
  const conn = dj.conn();
  const rows = await conn.query(`SELECT ${conn.dialect.quoteId(column)} AS v FROM ${table.fullTableName}${where ? ` WHERE ${where}` : ''}`);
  return rows.map((r) => r.v);
}
/** Key order survives only where the column keeps the JSON text (MariaDB); PostgreSQL's JSONB sorts keys. */
const keysOf = (m: object) => (BACKEND === 'mysql' ? Object.keys(m) : Object.keys(m).sort());
const expectedKeys = (keys: string[]) => (BACKEND === 'mysql' ? keys : [...keys].sort());
const parsed = (v: unknown) => (typeof v === 'string' ? JSON.parse(v) : Buffer.isBuffer(v) ? JSON.parse(v.toString()) : v) as Record<string, unknown>;

export function codecSuite(label: string, setup: StoreSetup): void {
  let schema: dj.SchemaDecorator;
  let db: string;
  let main: ObjectStore;
  let cold: ObjectStore;
  let local: string;

  class Blobs extends dj.Manual {
    static definition = `
    id : int32
    ---
    data : <blob@>
    archive = null : <blob@cold>
    raw = null : <hash@>
    `;
  }
  class Files extends dj.Manual {
    static definition = `
    id : int32
    ---
    inline = null : <attach>
    stored = null : <attach@>
    `;
  }
  class Recording extends dj.Manual {
    static definition = `
    subject_id : int32
    session_date : date
    ---
    raw = null : <object@>
    frames = null : <object@cold>
    `;
  }
  class Refs extends dj.Manual {
    static definition = `
    id : int32
    ---
    file : <filepath@>
    `;
  }
  class Waves extends dj.Manual {
    static definition = `
    id : int32
    ---
    wave : <npy@>
    `;
  }
  class Net extends dj.Manual {
    static definition = `
    id : int32
    ---
    graph : <graph@>
    `;
  }

  class GraphCodec extends dj.Codec {
    readonly name = 'graph';
    getDtype(): string {
      return '<blob>';
    }
    encode(g: unknown): unknown {
      return { edges: (g as { edges: string[][] }).edges.map((e) => e.join('-')) };
    }
    decode(s: unknown): unknown {
      return { edges: (s as { edges: string[] }).edges.map((e) => e.split('-')) };
    }
  }

  beforeAll(async () => {
    await setup.configure();
    dj.registerCodec(new GraphCodec());
    local = mkdtempSync(join(tmpdir(), `djtest_codec_local_${process.pid}_`));
    schema = await freshSchema(`codecs_${label}`);
    db = `djtest_codecs_${label}_${process.pid}`;
    for (const t of [Blobs, Files, Recording, Refs, Waves, Net]) schema.add(t);
    main = await getStore('main');
    cold = await getStore('cold');
  });
  afterAll(async () => {
    unregisterCodec('graph');
    await cleanup(schema);
    await setup.teardown?.();
    rmSync(local, { recursive: true, force: true });
  });

  describe(`<blob@> and <hash@> on ${label}`, () => {
    test('round trip, DataJoint Python layout and column JSON, deduplication', async () => {
      const arr = new dj.NDArray({ dtype: 'float64', shape: [2, 3], data: Float64Array.from([1, 2, 3, 4, 5, 6]), order: 'F' });
      await Blobs.insert([
        { id: 1, data: arr, archive: { a: 1 }, raw: Buffer.from('hello') },
        { id: 2, data: arr }, // same content: stored once
      ]);
      const packed = pack(arr, { compress: true });
      const hash = contentHash(packed);
      expect(await list(main, `_hash/${db}`)).toEqual([`_hash/${db}/${contentHash('hello')}`, `_hash/${db}/${hash}`].sort());
      expect(await list(cold, '_hash')).toEqual([`_hash/${db}/${contentHash(pack({ a: 1 }, { compress: true }))}`]);

      const [m] = await columnJson(Blobs, 'data', `${dj.conn().dialect.quoteId('id')}=1`);
      expect(keysOf(parsed(m))).toEqual(expectedKeys(['hash', 'path', 'schema', 'store', 'size']));
      expect(parsed(m)).toEqual({ hash, path: `_hash/${db}/${hash}`, schema: db, store: null, size: packed.length });
      if (BACKEND === 'mysql') {
        // MariaDB keeps the text: exactly json.dumps(metadata) as DataJoint Python writes it.
        expect(m).toBe(`{"hash": "${hash}", "path": "_hash/${db}/${hash}", "schema": "${db}", "store": null, "size": ${packed.length}}`);
      }
      expect(parsed((await columnJson(Blobs, 'archive', `${dj.conn().dialect.quoteId('id')}=1`))[0]).store).toBe('cold');

      const rows = await Blobs.toDicts({ orderBy: 'id' });
      expect((rows[0]!.data as InstanceType<typeof dj.NDArray>).shape).toEqual([2, 3]);
      expect(Array.from((rows[1]!.data as InstanceType<typeof dj.NDArray>).data as Float64Array)).toEqual([1, 2, 3, 4, 5, 6]);
      expect(rows[0]!.archive).toEqual({ a: 1 });
      expect(Buffer.from(rows[0]!.raw as Buffer).toString()).toBe('hello');
      expect(rows[1]!.raw).toBeNull();
      expect(await Blobs.restrict({ id: 1 }).fetch1('raw')).toEqual(Buffer.from('hello'));
      expect(await Blobs.toArrays('archive', { orderBy: 'id' })).toEqual([{ a: 1 }, null]);
    });

    test('deleting rows never removes objects that other rows share', async () => {
      const before = await list(main, `_hash/${db}`);
      await Blobs.restrict({ id: 2 }).delete();
      expect(await list(main, `_hash/${db}`)).toEqual(before);
      expect((await Blobs.restrict({ id: 1 }).fetch1('data')) as object).toBeInstanceOf(dj.NDArray);
      await Blobs.insert1({ id: 2, data: [1, 2] });
    });

    test('a corrupted object fails its hash check; a missing one is MissingExternalFile', async () => {
      await Blobs.insert1({ id: 10, data: 'to be corrupted' });
      const m = parsed((await columnJson(Blobs, 'data', `${dj.conn().dialect.quoteId('id')}=10`))[0]);
      await main.put(m.path as string, Buffer.from('garbage'));
      await expect(Blobs.restrict({ id: 10 }).fetch1('data')).rejects.toThrow(/Hash mismatch/);
      await main.delete(m.path as string);
      await expect(Blobs.restrict({ id: 10 }).fetch1('data')).rejects.toBeInstanceOf(dj.MissingExternalFile);
      await Blobs.restrict({ id: 10 }).delete();
    });

    test('many rows go up and come back several at once', async () => {
      const rows = Array.from({ length: 40 }, (_, i) => ({ id: 100 + i, data: Buffer.alloc(1000, i) }));
      await Blobs.insert(rows);
      const got = await Blobs.restrict('id >= 100').toArrays('data', { orderBy: 'id' });
      expect((got as unknown[]).map((b) => (b as Buffer)[0])).toEqual(rows.map((_, i) => i));
      await Blobs.restrict('id >= 100').delete();
    });
  });

  describe(`<attach> and <attach@> on ${label}`, () => {
    test('files keep their names and are written into downloadPath on fetch', async () => {
      const src = join(local, 'notes.txt');
      writeFileSync(src, 'first version');
      await Files.insert1({ id: 1, inline: src, stored: src });
      const out = join(local, 'out');
      const row = await Files.restrict({ id: 1 }).toDicts({ downloadPath: out });
      expect(row[0]!.inline).toBe(join(out, 'notes.txt'));
      expect(row[0]!.stored).toBe(join(out, 'notes.txt')); // same content: same file
      expect(readFileSync(join(out, 'notes.txt'), 'utf8')).toBe('first version');
      const m = parsed((await columnJson(Files, 'stored'))[0]);
      const stored = await main.get(m.path as string);
      expect(stored.toString()).toBe('notes.txt\0first version'); // DataJoint Python's attachment bytes

      writeFileSync(src, 'second version');
      await Files.insert1({ id: 2, stored: src });
      expect(await Files.restrict({ id: 2 }).toArrays('stored', { downloadPath: out })).toEqual([join(out, 'notes_1.txt')]);
      expect(readFileSync(join(out, 'notes_1.txt'), 'utf8')).toBe('second version');
      await expect(Files.insert1({ id: 3, stored: join(local, 'nope.txt') })).rejects.toThrow(/not found/);
    });
  });

  describe(`<object@> on ${label}`, () => {
    test('a file, a folder (with manifest), bytes and a stream, at schema-addressed paths', async () => {
      const file = join(local, 'trace.dat');
      writeFileSync(file, 'trace bytes');
      const folder = join(local, 'frames');
      mkdirSync(join(folder, 'sub'), { recursive: true });
      writeFileSync(join(folder, 'a.txt'), 'A');
      writeFileSync(join(folder, 'sub', 'b.txt'), 'BB');
      await Recording.insert([
        { subject_id: 42, session_date: '2024-01-15', raw: file, frames: folder },
        { subject_id: 43, session_date: '2024-01-16', raw: Buffer.from('bytes'), frames: { data: Readable.from([Buffer.from('str'), Buffer.from('eam')]), ext: 'bin' } },
      ]);
      const refs = await Recording.toDicts({ orderBy: 'subject_id' });
      const raw = refs[0]!.raw as InstanceType<typeof dj.ObjectRef>;
      expect(raw).toBeInstanceOf(dj.ObjectRef);
      expect(raw.path).toMatch(new RegExp(`^_schema/${db}/recording/subject_id=42/session_date=2024-01-15/raw_[A-Za-z0-9_-]{8}\\.dat$`));
      expect(raw.store).toBe('main');
      expect((await raw.read()).toString()).toBe('trace bytes');
      const frames = refs[0]!.frames as InstanceType<typeof dj.ObjectRef>;
      expect(frames.isDir).toBe(true);
      expect(frames.store).toBe('cold');
      expect(await frames.listdir()).toEqual(['a.txt', 'sub']);
      expect(await frames.verify()).toBe(true);
      expect(JSON.parse((await cold.get(`${frames.path}.manifest.json`)).toString()).files).toEqual([
        { path: 'a.txt', size: 1 },
        { path: 'sub/b.txt', size: 2 },
      ]);
      const m = parsed((await columnJson(Recording, 'frames', `${dj.conn().dialect.quoteId('subject_id')}=42`))[0]);
      expect(keysOf(m)).toEqual(expectedKeys(['path', 'store', 'size', 'ext', 'is_dir', 'item_count', 'timestamp']));
      expect(m).toMatchObject({ store: 'cold', size: 3, ext: null, is_dir: true, item_count: 2 });
      expect((await (refs[1]!.raw as InstanceType<typeof dj.ObjectRef>).read()).toString()).toBe('bytes');
      const streamed = refs[1]!.frames as InstanceType<typeof dj.ObjectRef>;
      expect(streamed.path.endsWith('.bin')).toBe(true);
      expect((await streamed.read()).toString()).toBe('stream');
      const dl = await frames.download(join(local, 'dl'));
      expect(readFileSync(join(dl, 'sub', 'b.txt'), 'utf8')).toBe('BB');
    });

    test('update1 writes a new object under a new token', async () => {
      const before = (await Recording.restrict({ subject_id: 43 }).fetch1('raw')) as InstanceType<typeof dj.ObjectRef>;
      await Recording.update1({ subject_id: 43, session_date: '2024-01-16', raw: Buffer.from('new bytes') });
      const after = (await Recording.restrict({ subject_id: 43 }).fetch1('raw')) as InstanceType<typeof dj.ObjectRef>;
      expect(after.path).not.toBe(before.path);
      expect((await after.read()).toString()).toBe('new bytes');
      expect((await before.read()).toString()).toBe('bytes'); // the old object stays for gc
    });

    test('a failed insert removes the objects only its rows owned, and leaves no row', async () => {
      const prefix = `_schema/${db}/recording/subject_id=44`;
      await expect(
        Recording.insert([
          { subject_id: 44, session_date: '2024-01-17', raw: Buffer.from('x') },
          { subject_id: 42, session_date: '2024-01-15', raw: Buffer.from('dup') }, // duplicate key: the INSERT fails
        ]),
      ).rejects.toBeInstanceOf(dj.DuplicateError);
      expect(await Recording.restrict({ subject_id: 44 }).count()).toBe(0);
      expect(await list(main, prefix)).toEqual([]);
      // The same from an async iterable (a stream of rows is one transaction).
      async function* rows() {
        yield { subject_id: 45, session_date: '2024-01-17', raw: Buffer.from('y') };
        yield { subject_id: 42, session_date: '2024-01-15', raw: Buffer.from('dup') };
      }
      await expect(Recording.insert(rows())).rejects.toBeInstanceOf(dj.DuplicateError);
      expect(await Recording.restrict({ subject_id: 45 }).count()).toBe(0);
      expect(await list(main, `_schema/${db}/recording/subject_id=45`)).toEqual([]);
    });

    test('a bad value in a late row is caught before anything is uploaded', async () => {
      const n = (await list(main)).length;
      await expect(
        Recording.insert([
          { subject_id: 50, session_date: '2024-01-17', raw: Buffer.from('x') },
          { subject_id: 51, session_date: '2024-01-17', raw: 12345 },
        ]),
      ).rejects.toThrow(/Row 1: Attribute `raw` \(<object@>\): <object@> expects/);
      expect((await list(main)).length).toBe(n);
      await expect(Recording.insert1({ subject_id: 52, session_date: '2024-01-17', raw: join(local, 'missing') })).rejects.toThrow(/Source path not found/);
    });

    test('metadata given instead of data must name an object in the store', async () => {
      const ref = (await Recording.restrict({ subject_id: 42 }).fetch1('raw')) as InstanceType<typeof dj.ObjectRef>;
      const frames = (await Recording.restrict({ subject_id: 42 }).fetch1('frames')) as InstanceType<typeof dj.ObjectRef>;
      // Another row's metadata (an ObjectRef's or its dict) is taken: the object is there.
      await Recording.insert1({ subject_id: 70, session_date: '2024-01-19', raw: { ...ref.metadata }, frames: { ...frames.metadata } });
      expect((await ((await Recording.restrict({ subject_id: 70 }).fetch1('raw')) as InstanceType<typeof dj.ObjectRef>).read()).toString()).toBe('trace bytes');
      // A bad path, or one naming nothing, would break every later fetch of the table.
      for (const path of ['../escape.bin', '/abs/x.bin', 'a//b.bin']) {
        await expect(Recording.insert1({ subject_id: 71, session_date: '2024-01-19', raw: { ...ref.metadata, path } })).rejects.toThrow(/Attribute `raw`.*Invalid store object path/);
      }
      await expect(Recording.insert1({ subject_id: 71, session_date: '2024-01-19', raw: { ...ref.metadata, path: 'no/such/object.bin' } })).rejects.toThrow(
        /Attribute `raw`.*not in store main: no\/such\/object\.bin/,
      );
      await expect(Recording.insert1({ subject_id: 71, session_date: '2024-01-19', frames: { ...frames.metadata, path: `${frames.path}_gone` } })).rejects.toThrow(/a folder that is not in store cold/);
      // An ObjectRef whose object is gone, given as it is or through toArrow, is refused too.
      await Recording.insert1({ subject_id: 73, session_date: '2024-01-19', raw: Buffer.from('soon gone') });
      const gone = (await Recording.restrict({ subject_id: 73 }).fetch1('raw')) as InstanceType<typeof dj.ObjectRef>;
      const asArrow = await Recording.restrict({ subject_id: 73 }).toArrow();
      await main.delete(gone.path);
      await Recording.restrict({ subject_id: 73 }).delete({ prompt: false });
      await expect(Recording.insert1({ subject_id: 71, session_date: '2024-01-19', raw: gone })).rejects.toThrow(/Attribute `raw`.*not in store main/);
      await expect(Recording.insert(asArrow)).rejects.toThrow(/Attribute `raw`.*not in store main/);
      expect(await Recording.restrict({ subject_id: 71 }).count()).toBe(0);
      expect((await Recording.toDicts()).length).toBeGreaterThan(0); // the table still fetches
      await Recording.restrict({ subject_id: 70 }).delete({ prompt: false });
    });

    test('an empty folder is stored, as its manifest with item_count 0 (as DataJoint Python)', async () => {
      const empty = join(local, 'empty-folder');
      mkdirSync(empty, { recursive: true });
      await Recording.insert1({ subject_id: 72, session_date: '2024-01-19', frames: empty });
      const ref = (await Recording.restrict({ subject_id: 72 }).fetch1('frames')) as InstanceType<typeof dj.ObjectRef>;
      expect(ref.isDir).toBe(true);
      expect(ref.itemCount).toBe(0);
      expect(await ref.listdir()).toEqual([]);
      expect(await ref.exists()).toBe(true);
      expect(await ref.verify()).toBe(true);
      const dl = await ref.download(join(local, 'dl-empty'));
      expect(readdirSync(dl)).toEqual([]);
      await Recording.restrict({ subject_id: 72 }).delete({ prompt: false });
    });

    test('an upload that fails half-way leaves no row and no object', async () => {
      const failing = new Readable({
        read() {
          this.push(Buffer.alloc(1000));
          this.destroy(new Error('disk unplugged'));
        },
      });
      await expect(Recording.insert1({ subject_id: 60, session_date: '2024-01-18', raw: { data: failing, ext: '.bin' } })).rejects.toThrow(/disk unplugged/);
      expect(await Recording.restrict({ subject_id: 60 }).count()).toBe(0);
      expect(await list(main, `_schema/${db}/recording/subject_id=60`)).toEqual([]);
    });
  });

  describe(`<filepath@> and <npy@> on ${label}`, () => {
    test('filepath references a file already in the store, with size and checksum', async () => {
      await main.put('acquired/session1/data.bin', Buffer.from('acquired bytes'));
      await Refs.insert1({ id: 1, file: 'acquired/session1/data.bin' });
      const ref = (await Refs.restrict({ id: 1 }).fetch1('file')) as InstanceType<typeof dj.ObjectRef>;
      expect(ref).toBeInstanceOf(dj.ObjectRef);
      expect((await ref.read()).toString()).toBe('acquired bytes');
      const m = parsed((await columnJson(Refs, 'file'))[0]);
      expect(keysOf(m)).toEqual(expectedKeys(['path', 'store', 'size', 'is_dir', 'timestamp', 'hash']));
      expect(m).toMatchObject({ path: 'acquired/session1/data.bin', store: null, size: 14, is_dir: false, hash: contentHash('acquired bytes') });
      await main.put('acquired/session1/data.bin', Buffer.from('changed bytes!'));
      await expect(ref.verify()).rejects.toThrow(/Hash mismatch/);
      await expect(Refs.insert1({ id: 2, file: 'acquired/none.bin' })).rejects.toBeInstanceOf(dj.MissingExternalFile);
      await expect(Refs.insert1({ id: 3, file: `_hash/${db}/x` })).rejects.toThrow(/managed by DataJoint/);
      await dj.config.override({ filepath_checksum_size_limit: 4 }, async () => {
        await Refs.insert1({ id: 4, file: 'acquired/session1/data.bin' });
      });
      expect(parsed((await columnJson(Refs, 'file', `${dj.conn().dialect.quoteId('id')}=4`))[0]).hash).toBeUndefined();
    });

    test('npy stores a standard .npy file and fetches a lazy NpyRef', async () => {
      const wave = new dj.NDArray({ dtype: 'float32', shape: [3, 2], data: Float32Array.from([1, 2, 3, 4, 5, 6]), order: 'C' });
      await Waves.insert1({ id: 1, wave });
      const ref = (await Waves.fetch1('wave')) as NpyRef;
      expect(ref).toBeInstanceOf(NpyRef);
      expect(ref.shape).toEqual([3, 2]);
      expect(ref.dtype).toBe('float32');
      expect(ref.path).toMatch(new RegExp(`^_schema/${db}/waves/id=1/wave_[A-Za-z0-9_-]{8}\\.npy$`));
      const bytes = await main.get(ref.path);
      expect(bytes.subarray(0, 10)).toEqual(Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, 118, 0]));
      expect(bytes.subarray(10, 128).toString('latin1')).toMatch(/^\{'descr': '<f4', 'fortran_order': False, 'shape': \(3, 2\), \} +\n$/);
      const loaded = await ref.load();
      expect(loaded.shape).toEqual([3, 2]);
      expect(Array.from(loaded.data as Float32Array)).toEqual([1, 2, 3, 4, 5, 6]);
      expect(parsed((await columnJson(Waves, 'wave'))[0])).toEqual({ path: ref.path, store: null, dtype: 'float32', shape: [3, 2] });
    });
  });

  describe(`integrity on ${label}`, () => {
    test('validate() checks every codec value and writes nothing to a store', async () => {
      const before = [...(await list(main)), ...(await list(cold))];
      const file = join(local, 'v.txt');
      writeFileSync(file, 'v');
      const ok = await Recording.validate([{ subject_id: 70, session_date: '2024-02-01', raw: file, frames: Buffer.from('f') }]);
      expect(ok).toMatchObject({ isValid: true, errors: [], rowsChecked: 1 });
      const blobs = await Blobs.validate([{ id: 70, data: [1, 2, 3], raw: Buffer.from('x') }, { id: 71, data: 1, raw: 'not bytes' }]);
      expect(blobs.isValid).toBe(false);
      expect(blobs.errors).toEqual([expect.objectContaining({ row: 1, field: 'raw', message: expect.stringMatching(/<hash@> expects a Buffer/) })]);
      expect((await Files.validate([{ id: 9, stored: 7 }])).errors[0]!.message).toMatch(/<attach> expects the path/);
      expect([...(await list(main)), ...(await list(cold))]).toEqual(before);
    });

    test('a store that cannot be reached is BucketInaccessible', async () => {
      class Broken extends dj.Manual {
        static definition = `
        id : int32
        ---
        data : <blob@broken>
        `;
      }
      schema.add(Broken);
      await dj.config.override({ stores: { broken: setup.broken() } as never }, async () => {
        await expect(Broken.insert1({ id: 1, data: [1] })).rejects.toBeInstanceOf(dj.BucketInaccessible);
        expect(await Broken.count()).toBe(0);
      });
    });

    test('a custom codec chained to <blob@> runs the whole chain', async () => {
      await Net.insert1({ id: 1, graph: { edges: [['a', 'b'], ['b', 'c']] } });
      expect(await Net.fetch1('graph')).toEqual({ edges: [['a', 'b'], ['b', 'c']] });
      const m = parsed((await columnJson(Net, 'graph'))[0]);
      expect(m.path).toBe(`_hash/${db}/${m.hash}`);
      expect(await main.has(m.path as string)).toBe(true);
    });
  });
}
