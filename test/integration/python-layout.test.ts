/**
 * Interoperability with DataJoint Python 2.x, on this project's backend and a file store:
 * objects land at the paths Python computes for the same inputs (values from Python's
 * `compute_hash`, `build_hash_path`, `build_object_path`/`encode_pk_value`), the columns hold
 * the JSON Python writes (exact text where the column keeps text), and rows written the way
 * Python writes them (its key order and separators, its staged metadata without `store`) read
 * back here.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { BACKEND, cleanup, dj, freshSchema } from '../helpers.js';
import { getStore } from '../../src/stores/registry.js';

let schema: dj.SchemaDecorator;
let db: string;
let root: string;

class Session extends dj.Manual {
  static definition = `
  subject_id : int32
  session_date : date
  started : datetime
  gain : float64
  site : varchar(64)
  ---
  raw = null : <hash@>
  trace = null : <object@>
  `;
}

const KEY = { subject_id: 42, session_date: '2024-01-15', started: '2024-01-15 09:05:03', gain: 5, site: 'a/b:c' };
// encode_pk_value: ints plainly, dates ISO, datetimes with dashes, floats by repr, unsafe strings quoted.
const KEY_PATH = 'subject_id=42/session_date=2024-01-15/started=2024-01-15T09-05-03/gain=5.0/site=a%2Fb%3Ac';
const q = (s: string) => dj.conn().dialect.quoteId(s);

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), `djtest_pylayout_${process.pid}_`));
  mkdirSync(join(root, 'store'));
  dj.config.set('stores', { default: 'main', main: { protocol: 'file', location: join(root, 'store'), fsync: false } });
  schema = await freshSchema('pylayout');
  db = `djtest_pylayout_${process.pid}`;
  schema.add(Session);
});
afterAll(async () => {
  await cleanup(schema);
  rmSync(root, { recursive: true, force: true });
});

test("paths and column JSON are DataJoint Python's", async () => {
  const file = join(root, 'trace.dat');
  writeFileSync(file, 'trace');
  await Session.insert1({ ...KEY, raw: Buffer.from('hello'), trace: file });
  const c = dj.conn();
  const [row] = await c.query(`SELECT ${q('raw')} AS raw, ${q('trace')} AS trace FROM ${Session.fullTableName}`);
  const json = (v: unknown) => (typeof v === 'string' ? JSON.parse(v) : v) as Record<string, unknown>;
  // md5("hello") in base32, lower case, unpadded: Python's compute_hash.
  const hashPath = `_hash/${db}/lvauakv4jmvhnolrtwiraf6fsi`;
  expect(json(row!.raw)).toEqual({ hash: 'lvauakv4jmvhnolrtwiraf6fsi', path: hashPath, schema: db, store: null, size: 5 });
  const trace = json(row!.trace);
  expect(trace.path).toMatch(new RegExp(`^_schema/${db}/session/${KEY_PATH.replace(/[.%]/g, '\\$&')}/trace_[A-Za-z0-9_-]{8}\\.dat$`));
  expect(trace).toMatchObject({ store: null, size: 5, ext: '.dat', is_dir: false, item_count: null });
  expect(trace.timestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?\+00:00$/);
  if (BACKEND === 'mysql') {
    expect(row!.raw).toBe(`{"hash": "lvauakv4jmvhnolrtwiraf6fsi", "path": "${hashPath}", "schema": "${db}", "store": null, "size": 5}`);
    expect(row!.trace).toBe(
      `{"path": "${trace.path}", "store": null, "size": 5, "ext": ".dat", "is_dir": false, "item_count": null, "timestamp": "${trace.timestamp}"}`,
    );
  }
  const store = await getStore('main');
  expect((await store.get(hashPath)).toString()).toBe('hello');
  expect((await store.get(trace.path as string)).toString()).toBe('trace');
});

test('rows and objects written by DataJoint Python read back', async () => {
  const store = await getStore('main');
  // What Python's put_hash writes, and a staged insert's metadata (no store key, hash null).
  const content = Buffer.from('written by python');
  const hash = '4ony4udcj4siq3f3ho7cdbbrdy'; // base32(md5(content)), computed with Python
  const hashPath = `_hash/${db}/${hash}`;
  const objPath = `_schema/${db}/Session/subject_id=7/session_date=2024-02-01/started=2024-02-01T00-00-00/gain=1.5/site=x/trace_Py0bject.zarr`;
  await store.put(hashPath, content);
  await store.put(`${objPath}/zarr.json`, Buffer.from('{}'));
  await store.put(`${objPath}.manifest.json`, Buffer.from(JSON.stringify({ files: [{ path: 'zarr.json', size: 2 }], total_size: 2, item_count: 1, created: '2025-01-15T10:30:00+00:00' }, null, 2)));
  const rawJson = `{"hash": "${hash}", "path": "${hashPath}", "schema": "${db}", "store": null, "size": ${content.length}}`;
  const stagedJson = `{"path": "${objPath}", "size": 2, "hash": null, "ext": ".zarr", "is_dir": true, "timestamp": "2025-01-15T10:30:00.123000+00:00", "item_count": 1}`;
  const cols = ['subject_id', 'session_date', 'started', 'gain', 'site', 'raw', 'trace'].map(q).join(', ');
  const d = dj.conn().dialect;
  await dj.conn().execute(
    `INSERT INTO ${Session.fullTableName} (${cols}) VALUES (7, '2024-02-01', '2024-02-01 00:00:00', 1.5, 'x', ${d.param(1)}, ${d.param(2)})`,
    [rawJson, stagedJson],
  );
  const row = await Session.restrict({ subject_id: 7 }).fetch1();
  expect(Buffer.from(row.raw as Buffer).toString()).toBe('written by python');
  const ref = row.trace as InstanceType<typeof dj.ObjectRef>;
  expect(ref.isDir).toBe(true);
  expect(ref.store).toBe('main');
  expect(await ref.listdir()).toEqual(['zarr.json']);
  expect(await ref.verify()).toBe(true);
});
