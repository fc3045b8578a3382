/**
 * `dj.gc` on file stores, on this project's backend: what deleted and updated rows leave behind
 * is found (dry run) and removed; shared content, folders with their manifests, `<filepath@>`
 * files, other schemas' objects and partitioned layouts are kept; bad arguments are refused.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { cleanup, dj, freshSchema } from '../helpers.js';
import { gc } from '../../src/stores/gc.js';
import { unregisterCodec } from '../../src/codecs/registry.js';
import { getStore } from '../../src/stores/registry.js';
import type { ObjectStore } from '../../src/stores/store.js';

let a: dj.SchemaDecorator;
let b: dj.SchemaDecorator;
let root: string;
let main: ObjectStore;

class Blobs extends dj.Manual {
  static definition = `
  id : int32
  ---
  data : <blob@>
  `;
}
class Objects extends dj.Manual {
  static definition = `
  subject_id : int32
  ---
  obj : <object@>
  parted = null : <object@parted>
  `;
}
class Refs extends dj.Manual {
  static definition = `
  id : int32
  ---
  file : <filepath@>
  `;
}
class Other extends dj.Manual {
  static definition = `
  id : int32
  ---
  data : <blob@>
  `;
}

async function files(store: ObjectStore): Promise<string[]> {
  const out: string[] = [];
  for await (const e of store.list('')) out.push(e.path);
  return out.sort();
}

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), `djtest_gc_${process.pid}_`));
  for (const d of ['main', 'parted', 'local/folder']) mkdirSync(join(root, d), { recursive: true });
  writeFileSync(join(root, 'local/folder/a.txt'), 'A');
  writeFileSync(join(root, 'local/folder/b.txt'), 'BB');
  dj.config.set('stores', {
    default: 'main',
    main: { protocol: 'file', location: join(root, 'main'), fsync: false },
    parted: { protocol: 'file', location: join(root, 'parted'), fsync: false, partition_pattern: '{subject_id}' },
  });
  a = await freshSchema('gc_a');
  b = await freshSchema('gc_b');
  a.add(Blobs);
  a.add(Objects);
  a.add(Refs);
  b.add(Other);
  main = await getStore('main');
});
afterAll(async () => {
  await cleanup(a, b);
  rmSync(root, { recursive: true, force: true });
});

describe('dj.gc', () => {
  test('nothing is orphaned while every object is referenced', async () => {
    await Blobs.insert([
      { id: 1, data: 'shared' },
      { id: 2, data: 'shared' },
      { id: 3, data: 'only three' },
    ]);
    await Objects.insert([
      { subject_id: 1, obj: join(root, 'local/folder'), parted: Buffer.from('p1') },
      { subject_id: 2, obj: Buffer.from('two'), parted: Buffer.from('p2') },
    ]);
    await main.put('raw/acquired.bin', Buffer.from('acquired'));
    await Refs.insert1({ id: 1, file: 'raw/acquired.bin' });
    await Other.insert1({ id: 1, data: 'in the other schema' });
    const r = await gc({ schemas: [a] });
    expect(r).toMatchObject({ orphaned: 0, deleted: 0, bytes: 0 });
    // 2 distinct blobs + 2 objects + 1 file reference in main; 2 objects in parted.
    expect(r.referenced).toBe(7);
  });

  test('a dry run reports what deleted and replaced rows left behind, and removes nothing', async () => {
    await Blobs.restrict({ id: 1 }).delete(); // "shared" is still held by row 2
    await Blobs.restrict({ id: 3 }).delete();
    await Objects.restrict({ subject_id: 1 }).delete(); // a folder: its files and manifest
    await Objects.update1({ subject_id: 2, obj: Buffer.from('two, again') }); // the old object
    await Refs.restrict({ id: 1 }).delete(); // filepath files are never collected
    const before = await files(main);
    const r = await gc({ schemas: [a], dryRun: true });
    const paths = r.orphans.map((o) => o.path.replace(/(obj|parted)_[A-Za-z0-9_-]{8}/, '$1_TOKEN')).sort();
    const dbA = a.database;
    expect(paths).toEqual(
      [
        `_hash/${dbA}/${r.orphans.find((o) => o.path.startsWith('_hash'))!.path.split('/').pop()}`,
        `_schema/${dbA}/objects/subject_id=1/obj_TOKEN/a.txt`,
        `_schema/${dbA}/objects/subject_id=1/obj_TOKEN/b.txt`,
        `_schema/${dbA}/objects/subject_id=1/obj_TOKEN.manifest.json`,
        `_schema/${dbA}/objects/subject_id=2/obj_TOKEN`,
        `_schema/subject_id=1/${dbA}/objects/parted_TOKEN`,
      ].sort(),
    );
    expect(r.orphaned).toBe(6);
    expect(r.deleted).toBe(0);
    expect(r.bytes).toBe(r.orphans.reduce((s, o) => s + o.size, 0));
    expect(await files(main)).toEqual(before);
  });

  test('collection removes exactly the orphans; every remaining row still reads', async () => {
    const r = await gc({ schemas: a, dryRun: false });
    expect(r.deleted).toBe(6);
    expect((await gc({ schemas: [a] })).orphaned).toBe(0);
    expect(await Blobs.fetch1('data')).toBe('shared');
    const obj = (await Objects.fetch1('obj')) as InstanceType<typeof dj.ObjectRef>;
    expect((await obj.read()).toString()).toBe('two, again');
    expect(await main.has('raw/acquired.bin')).toBe(true);
    expect(await Other.fetch1('data')).toBe('in the other schema'); // other schemas are not touched
  });

  test('scanning one store, by name or by schema name', async () => {
    await Objects.restrict({ subject_id: 2 }).delete();
    const onlyParted = await gc({ schemas: a.database, stores: 'parted' });
    expect(onlyParted.orphans.map((o) => o.store)).toEqual(['parted']);
    expect((await gc({ schemas: [a], stores: ['main'] })).orphans.every((o) => o.store === 'main')).toBe(true);
  });

  test("a codec this process does not know keeps its objects; unreadable references stop gc", async () => {
    class Wrapped extends dj.Codec {
      readonly name = 'gcwrapped';
      getDtype(): string {
        return '<blob>';
      }
      encode(v: unknown): unknown {
        return { wrapped: v };
      }
      decode(s: unknown): unknown {
        return (s as { wrapped: unknown }).wrapped;
      }
    }
    class Opaque extends dj.Codec {
      readonly name = 'gcopaque';
      getDtype(external: boolean): string {
        if (!external) throw new dj.DataJointError('<gcopaque> needs @');
        return 'json';
      }
      encode(v: unknown): unknown {
        return { note: v };
      }
      decode(s: unknown): unknown {
        return s;
      }
    }
    class Custom extends dj.Manual {
      static definition = `
      id : int32
      ---
      w : <gcwrapped@>
      `;
    }
    class Notes extends dj.Manual {
      static definition = `
      id : int32
      ---
      n : <gcopaque@>
      `;
    }
    dj.registerCodec(new Wrapped());
    b.add(Custom);
    b.add(Notes);
    await Custom.insert1({ id: 1, w: 'kept by a codec gc does not know' });
    unregisterCodec('gcwrapped');
    const r = await gc({ schemas: [b], dryRun: false });
    expect(r.deleted).toBe(0);
    expect(r.referenced).toBe(2); // Other's blob and Custom's
    dj.registerCodec(new Wrapped());
    expect(await Custom.fetch1('w')).toBe('kept by a codec gc does not know');

    dj.registerCodec(new Opaque());
    await Notes.insert1({ id: 1, n: 'no path here' });
    unregisterCodec('gcopaque');
    await expect(gc({ schemas: [b] })).rejects.toThrow(/codec <gcopaque> is not registered here/);
    await Notes.deleteQuick();
    unregisterCodec('gcwrapped');
  });

  test('bad arguments are refused', async () => {
    await expect(gc({} as never)).rejects.toThrow(/needs \{ schemas \}/);
    await expect(gc({ schemas: [] })).rejects.toThrow(/at least one schema/);
    // A schema that does not exist has nothing of its own to keep: its sections (empty here) are candidates.
    expect(await gc({ schemas: ['djtest_no_such_schema_gc'] })).toMatchObject({ referenced: 0, orphaned: 0 });
    await expect(gc({ schemas: [a], stores: ['nowhere'] })).rejects.toThrow(/not configured/);
  });
});

describe('dj.gc and rows of other schemas', () => {
  test("an object of the cleaned schema that a row of another schema references (a copied row) is kept, until that row is deleted", async () => {
    class Raw extends dj.Manual {
      static definition = 'id : int32\n---\no : <object@>';
    }
    class Copy extends dj.Manual {
      static definition = 'id : int32\n---\no : <object@>';
    }
    a.add(Raw);
    b.add(Copy);
    await Raw.insert1({ id: 1, o: Buffer.from('precious') });
    await Raw.insert1({ id: 2, o: Buffer.from('copied as a reference') });
    await Copy.insert(await Raw.restrict({ id: 1 }).toArrow());
    await Copy.insert1({ id: 2, o: await Raw.restrict({ id: 2 }).fetch1('o') });
    await Raw.deleteQuick();
    const r = await gc({ schemas: [a], dryRun: false });
    expect(r.orphans.filter((o) => o.path.includes('/raw/'))).toEqual([]);
    const read = async (id: number) => (await ((await Copy.restrict({ id }).fetch1('o')) as InstanceType<typeof dj.ObjectRef>).read()).toString();
    expect([await read(1), await read(2)]).toEqual(['precious', 'copied as a reference']);
    // The copies gone, nothing references them: collected.
    await Copy.deleteQuick();
    expect((await gc({ schemas: [a], dryRun: false })).orphans.filter((o) => o.path.includes('/raw/'))).toHaveLength(2);
  });
});

describe('dj.gc and partial writes', () => {
  test('a temporary file a dead writer left (untouched for over an hour) is removed; a fresh one (a live writer) is not', async () => {
    const dir = join(root, 'main', '_schema', a.database, 'objects', 'subject_id=9');
    mkdirSync(dir, { recursive: true });
    const dead = join(dir, '.obj_AbCdEfGh.djtmp-0123456789ab');
    const live = join(dir, '.obj_ZyXwVuTs.djtmp-ba9876543210');
    writeFileSync(dead, Buffer.alloc(1000));
    writeFileSync(live, Buffer.alloc(10));
    const twoHoursAgo = new Date(Date.now() - 2 * 3_600_000);
    utimesSync(dead, twoHoursAgo, twoHoursAgo);
    const dry = await gc({ schemas: [a], stores: 'main' });
    const temps = dry.orphans.filter((o) => o.path.includes('.djtmp-'));
    expect(temps).toEqual([{ store: 'main', path: `_schema/${a.database}/objects/subject_id=9/.obj_AbCdEfGh.djtmp-0123456789ab`, size: 1000 }]);
    await gc({ schemas: [a], stores: 'main', dryRun: false });
    expect([existsSync(dead), existsSync(live)]).toEqual([false, true]);
    rmSync(live);
  });
});

describe('dj.gc after schema.drop()', () => {
  test('collects what the dropped schema left in every store, and keeps what other schemas reference', async () => {
    const gone = await freshSchema('gc_dropped');
    class Kept extends dj.Manual {
      static definition = 'id : int32\n---\nb : <blob@>\no : <object@>\np = null : <object@parted>';
    }
    gone.add(Kept);
    await Kept.insert([
      { id: 1, b: 'dropped blob', o: Buffer.from('dropped object'), p: Buffer.from('dropped parted') },
      { id: 2, b: 'copied blob', o: Buffer.from('copied object') },
    ]);
    // A row of another schema references one of its objects (copied with its stored value).
    await Other.insert1({ id: 7, data: 'copied blob' });
    const database = gone.database;
    await gone.drop({ prompt: false });
    const dry = await gc({ schemas: [database] });
    const paths = dry.orphans.map((o) => `${o.store}:${o.path}`);
    expect(paths.filter((p) => p.startsWith('main:_schema/'))).toHaveLength(2);
    expect(paths.filter((p) => p.startsWith('parted:'))).toHaveLength(1);
    expect(paths.filter((p) => p.startsWith('main:_hash/'))).toHaveLength(2); // the other schema's copy is under its own section
    expect((await gc({ schemas: [database], dryRun: false })).deleted).toBe(dry.orphaned);
    expect((await gc({ schemas: [database] })).orphaned).toBe(0);
    expect(await Other.restrict({ id: 7 }).fetch1('data')).toBe('copied blob');
    await Other.restrict({ id: 7 }).delete({ prompt: false });
  });
});
