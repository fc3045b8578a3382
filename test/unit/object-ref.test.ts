/**
 * ObjectRef over a file store: files and folders, verification against metadata and manifests,
 * downloads, and a Zarr array written with zarrita then read lazily through `zarr()`.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import * as zarr from 'zarrita';
import { config } from '../../src/config.js';
import { DataJointError, IntegrityError, MissingExternalFile } from '../../src/errors.js';
import { ObjectRef } from '../../src/objects/object-ref.js';
import { FileStore } from '../../src/stores/file.js';
import { contentHash, manifestPath } from '../../src/stores/layout.js';
import { folderManifest, manifestText, objectMetadata } from '../../src/stores/metadata.js';
import { closeStores } from '../../src/stores/registry.js';
import type { ObjectStore } from '../../src/stores/store.js';

let dir: string;
let out: string;
let store: FileStore;

const FILE = '_schema/lab/Recording/id=1/raw_AAAAAAAA.dat';
const FOLDER = '_schema/lab/Recording/id=1/files_BBBBBBBB';
const content = Buffer.from('the recorded bytes');

/** Record which paths each read method was asked for. */
function spy(s: ObjectStore) {
  const reads: string[] = [];
  const wrapped = Object.create(s) as ObjectStore;
  wrapped.get = (p) => (reads.push(`get ${p}`), s.get(p));
  wrapped.getRange = (p, o, l) => (reads.push(`range ${p}`), s.getRange(p, o, l));
  return { store: wrapped, reads };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), `djtest_objref_${process.pid}_`));
  out = mkdtempSync(join(tmpdir(), `djtest_objref_out_${process.pid}_`));
  store = new FileStore({ name: 'main', location: dir });
  await store.put(FILE, content);
  const files = [
    { path: 'a.txt', data: 'alpha' },
    { path: 'b.txt', data: 'bravo!' },
    { path: 'sub/c.txt', data: 'charlie' },
  ];
  for (const f of files) await store.put(`${FOLDER}/${f.path}`, Buffer.from(f.data));
  const manifest = folderManifest(files.map((f) => ({ path: f.path, size: f.data.length })));
  await store.put(manifestPath(FOLDER), Buffer.from(manifestText(manifest)));
});
afterAll(async () => {
  await closeStores();
  rmSync(dir, { recursive: true, force: true });
  rmSync(out, { recursive: true, force: true });
});

const fileRef = () =>
  new ObjectRef(objectMetadata({ path: FILE, store: 'main', size: content.length, ext: '.dat', isDir: false, itemCount: null, timestamp: new Date(Date.UTC(2025, 0, 15)) }), store);
const folderRef = () => new ObjectRef({ path: FOLDER, store: 'main', size: 18, ext: null, is_dir: true, item_count: 3 }, store);

describe('file objects', () => {
  test('fields come from the metadata without I/O', () => {
    const r = fileRef();
    expect(r).toMatchObject({ path: FILE, store: 'main', size: content.length, isDir: false, ext: '.dat', itemCount: null });
    expect(r.timestamp?.toISOString()).toBe('2025-01-15T00:00:00.000Z');
    expect(String(r)).toBe(FILE);
    expect(r.toJSON().path).toBe(FILE);
  });

  test('read, open, exists', async () => {
    const r = fileRef();
    expect((await r.read()).equals(content)).toBe(true);
    const chunks: Buffer[] = [];
    for await (const c of r.open()) chunks.push(c as Buffer);
    expect(Buffer.concat(chunks).equals(content)).toBe(true);
    expect(await r.exists()).toBe(true);
  });

  test('download writes dir/<name> and returns it', async () => {
    const local = await fileRef().download(out);
    expect(local).toBe(join(out, 'raw_AAAAAAAA.dat'));
    expect(readFileSync(local).equals(content)).toBe(true);
    expect(readdirSync(out).some((n) => n.endsWith('.part'))).toBe(false);
  });

  test('verify checks size and, when recorded, the content hash', async () => {
    expect(await fileRef().verify()).toBe(true);
    const withHash = new ObjectRef({ path: FILE, size: content.length, hash: contentHash(content), is_dir: false }, store);
    expect(await withHash.verify()).toBe(true);
    const badSize = new ObjectRef({ path: FILE, size: 3, is_dir: false }, store);
    await expect(badSize.verify()).rejects.toThrow(IntegrityError);
    await expect(badSize.verify()).rejects.toThrow(/Size mismatch.*expected 3, got 18/);
    const badHash = new ObjectRef({ path: FILE, size: null, hash: contentHash('other'), is_dir: false }, store);
    await expect(badHash.verify()).rejects.toThrow(/Hash mismatch/);
  });

  test('a missing object: MissingExternalFile on read, false from exists', async () => {
    const gone = new ObjectRef({ path: '_schema/lab/T/id=9/x_CCCC.dat', size: 1, is_dir: false }, store);
    await expect(gone.read()).rejects.toBeInstanceOf(MissingExternalFile);
    await expect(gone.verify()).rejects.toBeInstanceOf(MissingExternalFile);
    await expect(gone.download(out)).rejects.toBeInstanceOf(MissingExternalFile);
    expect(existsSync(join(out, 'x_CCCC.dat'))).toBe(false);
    expect(await gone.exists()).toBe(false);
  });

  test('folder-only operations are refused on files', async () => {
    const r = fileRef();
    await expect(r.listdir()).rejects.toThrow(/Cannot listdir\(\) a file/);
    expect(() => r.open('x')).toThrow(/subpath on a file/);
  });
});

describe('folder objects', () => {
  test('listdir, at the root and in a sub-folder', async () => {
    expect(await folderRef().listdir()).toEqual(['a.txt', 'b.txt', 'sub']);
    expect(await folderRef().listdir('sub')).toEqual(['c.txt']);
    await expect(folderRef().listdir('nope')).rejects.toBeInstanceOf(MissingExternalFile);
  });

  test('open and exists inside the folder', async () => {
    const r = folderRef();
    let text = '';
    for await (const c of r.open('sub/c.txt')) text += c.toString();
    expect(text).toBe('charlie');
    expect(await r.exists()).toBe(true);
    expect(await r.exists('sub')).toBe(true);
    expect(await r.exists('sub/c.txt')).toBe(true);
    expect(await r.exists('zzz')).toBe(false);
  });

  test('reading a folder as a file, and escaping subpaths, are refused', async () => {
    const r = folderRef();
    await expect(r.read()).rejects.toThrow(DataJointError);
    expect(() => r.open()).toThrow(/Cannot open\(\) a folder/);
    expect(() => r.open('../id=2/x')).toThrow(DataJointError);
  });

  test('download copies the tree, or one file of it', async () => {
    const local = await folderRef().download(out);
    expect(local).toBe(join(out, 'files_BBBBBBBB'));
    expect(readFileSync(join(local, 'sub', 'c.txt'), 'utf8')).toBe('charlie');
    expect(readdirSync(local).sort()).toEqual(['a.txt', 'b.txt', 'sub']);
    const one = await folderRef().download(join(out, 'single'), 'b.txt');
    expect(readFileSync(one, 'utf8')).toBe('bravo!');
  });

  test('verify against the manifest', async () => {
    expect(await folderRef().verify()).toBe(true);
    await store.put(`${FOLDER}/b.txt`, Buffer.from('tampered'));
    await store.delete(`${FOLDER}/a.txt`);
    try {
      await expect(folderRef().verify()).rejects.toThrow(/missing file: a.txt\nsize mismatch for b.txt: expected 6, got 8/);
    } finally {
      await store.put(`${FOLDER}/a.txt`, Buffer.from('alpha'));
      await store.put(`${FOLDER}/b.txt`, Buffer.from('bravo!'));
    }
    const noManifest = new ObjectRef({ path: '_schema/lab/Recording/id=1', is_dir: true }, store);
    await expect(noManifest.verify()).rejects.toThrow(/Manifest missing/);
  });
});

describe('construction', () => {
  test('fromJson takes the column text; load() opens the store it names (null = default)', async () => {
    const text = JSON.stringify({ path: FILE, store: null, size: content.length, is_dir: false });
    expect((await ObjectRef.fromJson(text, store).read()).equals(content)).toBe(true);
    await config.override({ stores: { default: 'main', main: { protocol: 'file', location: dir } } }, async () => {
      const r = await ObjectRef.load(text);
      expect(r.store).toBe('main');
      expect((await r.read()).equals(content)).toBe(true);
    });
  });

  test('bad metadata is refused', () => {
    expect(() => ObjectRef.fromJson('{"size": 1}', store)).toThrow(/path/);
    expect(() => ObjectRef.fromJson({ path: '../../etc/passwd' }, store)).toThrow(DataJointError);
  });
});

describe('Zarr through zarrStore() / zarr()', () => {
  const ZPATH = '_schema/lab/Imaging/id=1/frames_ZZZZZZZZ.zarr';

  beforeAll(async () => {
    // Write a 40×30 float32 array in 10×10 chunks with zarrita, straight into the file store.
    const writable = {
      get: async (key: string) => {
        try {
          return new Uint8Array(await store.get(ZPATH + key));
        } catch (err) {
          if (err instanceof MissingExternalFile) return undefined;
          throw err;
        }
      },
      set: async (key: string, value: Uint8Array) => store.put(ZPATH + key, value),
    };
    // zarrita 0.7.5 decodes gzip but cannot encode it: raw little-endian chunks.
    const arr = await zarr.create(zarr.root(writable), { shape: [40, 30], chunkShape: [10, 10], dtype: 'float32', codecs: [{ name: 'bytes', configuration: { endian: 'little' } }] });
    const data = Float32Array.from({ length: 40 * 30 }, (_, i) => i);
    await zarr.set(arr, null, { data, shape: [40, 30], stride: [30, 1] });
  });

  test('opens the array and reads a region, fetching only the chunks it needs', async () => {
    const { store: watched, reads } = spy(store);
    const ref = new ObjectRef({ path: ZPATH, store: 'main', size: null, ext: '.zarr', is_dir: true }, watched);
    const arr = await ref.zarr({ kind: 'array' });
    expect(arr.kind).toBe('array');
    expect((arr as zarr.Array<'float32'>).shape).toEqual([40, 30]);
    reads.length = 0;
    const region = await zarr.get(arr as zarr.Array<'float32', never>, [zarr.slice(12, 14), zarr.slice(0, 3)]);
    expect(region.shape).toEqual([2, 3]);
    expect([...(region.data as Float32Array)]).toEqual([360, 361, 362, 390, 391, 392]);
    expect(reads).toEqual([`get ${ZPATH}/c/1/0`]); // one chunk of twelve
  });

  test('zarr() on an object that is not Zarr (or not of the kind asked for) throws a DataJointError naming it', async () => {
    await store.put('_schema/lab/Imaging/id=2/frames_NOTZARR', Buffer.from('not zarr'));
    const plain = new ObjectRef({ path: '_schema/lab/Imaging/id=2/frames_NOTZARR', store: 'main', is_dir: false }, store);
    const err = await plain.zarr().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DataJointError);
    expect((err as Error).message).toMatch(/main:_schema\/lab\/Imaging\/id=2\/frames_NOTZARR is not a Zarr array or group/);
    const array = new ObjectRef({ path: ZPATH, store: 'main', is_dir: true }, store);
    await expect(array.zarr({ kind: 'group' })).rejects.toThrow(/is not a Zarr group/);
  });

  test('zarrStore: missing keys are undefined, ranges and suffixes read bytes', async () => {
    const zs = new ObjectRef({ path: ZPATH, is_dir: true }, store).zarrStore();
    expect(await zs.get('/nope.json')).toBeUndefined();
    const meta = await zs.get('/zarr.json');
    expect(JSON.parse(Buffer.from(meta!).toString()).node_type).toBe('array');
    const head = await zs.getRange('/zarr.json', { offset: 0, length: 1 });
    expect(Buffer.from(head!).toString()).toBe('{');
    const tail = await zs.getRange('/zarr.json', { suffixLength: 1 });
    expect(Buffer.from(tail!).toString()).toBe('}');
    expect(await zs.getRange('/nope', { suffixLength: 4 })).toBeUndefined();
  });
});
