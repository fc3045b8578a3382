/**
 * The codec registry without a server: built-ins known by dtype and loaded on first use,
 * registration rules, chains (dtype → codec → … → core type, with the store propagated),
 * cycles, and the documented custom-codec recipe: a codec whose dtype is `<blob>` runs the
 * whole chain on encode and decode.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, test } from 'vitest';
import { attributeFromType } from '../../src/heading/heading.js';
import { resolveType } from '../../src/heading/types.js';
import { Codec, type CodecContext } from '../../src/codecs/codec.js';
import { getCodec, listCodecs, registerCodec, unregisterCodec } from '../../src/codecs/registry.js';
import { codecChain, hasCodec, loadCodec, parseCodecSpec } from '../../src/codecs/registry.js';
import { build, codecPipeline } from '../../src/codecs/pipeline.js';
import { decodeCodec, encodeValue } from '../../src/fetch/convert.js';
import { DataJointError, DeclarationError } from '../../src/errors.js';
import { NDArray } from '../../src/blob/index.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** The custom-codec recipe of the docs: a graph stored through <blob>. */
class GraphCodec extends Codec {
  readonly name = 'graph';
  seen: CodecContext[] = [];
  getDtype(isExternal: boolean): string {
    return isExternal ? '<blob>' : '<blob>';
  }
  validate(value: unknown): void {
    if (!value || typeof value !== 'object' || !Array.isArray((value as { edges?: unknown }).edges)) throw new DataJointError('a graph needs edges');
  }
  encode(graph: unknown, ctx: CodecContext): unknown {
    this.seen.push(ctx);
    const g = graph as { nodes: string[]; edges: Array<[string, string]> };
    return { nodes: g.nodes, edges: g.edges.map(([a, b]) => `${a}->${b}`) };
  }
  decode(stored: unknown): unknown {
    const s = stored as { nodes: string[]; edges: string[] };
    return { nodes: s.nodes, edges: s.edges.map((e) => e.split('->')) };
  }
}

const registered: string[] = [];
function register<C extends Codec>(c: C, opts?: { replace?: boolean }): C {
  registerCodec(c, opts);
  registered.push(c.name);
  return c;
}
afterEach(() => {
  for (const n of registered.splice(0)) if (hasCodec(n)) unregisterCodec(n);
});

describe('built-ins', () => {
  test('are listed and known by dtype before they are loaded', () => {
    expect(listCodecs()).toEqual(expect.arrayContaining(['attach', 'blob', 'filepath', 'hash', 'npy', 'object']));
    expect(getCodec('<blob@cold>').name).toBe('blob');
    expect(getCodec('blob').getDtype(false)).toBe('bytes');
    expect(getCodec('<blob>').getDtype(true)).toBe('<hash>');
    expect(() => getCodec('hash').getDtype(false)).toThrow(/requires a store/);
  });

  test('a stand-in from getCodec loads the codec when used', async () => {
    const packed = (await getCodec('blob').encode([1, 2, 3], {})) as Buffer;
    expect(Buffer.isBuffer(packed)).toBe(true);
    expect(await getCodec('blob').decode(packed, {})).toEqual([1, 2, 3]);
    expect(getCodec('blob')).toBe(await loadCodec('blob')); // once loaded, the codec itself
  });

  test('importing the package loads no built-in codec implementation', () => {
    const out = execFileSync(
      process.execPath,
      ['--import', 'tsx', '--import', './test/fixtures/record-loads.mjs', '--input-type=module', '-e',
        "await import('./src/index.ts'); await new Promise((r) => setTimeout(r, 50)); console.log(JSON.stringify([...globalThis.__loadedModules]))"],
      { cwd: root, encoding: 'utf8' },
    );
    const loaded: string[] = JSON.parse(out.trim().split('\n').pop()!);
    expect(loaded.filter((u) => u.includes('/src/codecs/builtin/') || u.includes('/src/stores/file') || u.includes('/src/objects/upload'))).toEqual([]);
  });
});

describe('chains', () => {
  test('follow dtypes to the core type, propagating the store', () => {
    expect(codecChain('blob', null)).toEqual({ codecs: ['blob'], store: null, dtype: 'bytes' });
    expect(codecChain('blob', '')).toEqual({ codecs: ['blob', 'hash'], store: '', dtype: 'json' });
    expect(codecChain('attach', 'cold')).toEqual({ codecs: ['attach', 'hash'], store: 'cold', dtype: 'json' });
    register(new GraphCodec());
    expect(codecChain('graph', null)).toEqual({ codecs: ['graph', 'blob'], store: null, dtype: 'bytes' });
    expect(codecChain('graph', 'cold')).toEqual({ codecs: ['graph', 'blob', 'hash'], store: 'cold', dtype: 'json' });
  });

  test('an inner dtype that names a store overrides the outer one', () => {
    register(
      new (class extends Codec {
        readonly name = 'archived';
        getDtype = () => '<blob@archive>';
        encode = (v: unknown) => v;
        decode = (v: unknown) => v;
      })(),
    );
    expect(codecChain('archived', null)).toEqual({ codecs: ['archived', 'blob', 'hash'], store: 'archive', dtype: 'json' });
  });

  test('declarations store a chained codec as its core type', () => {
    register(new GraphCodec());
    expect(resolveType('<graph>')).toMatchObject({ type: '<graph>', codec: 'graph', store: null, dtype: 'bytes', kind: 'bytes' });
    expect(resolveType('<graph@>')).toMatchObject({ type: '<graph@>', codec: 'graph', store: '', dtype: 'json', kind: 'json' });
    expect(() => resolveType('<hash>', 'h : <hash>')).toThrow(DeclarationError);
    expect(() => resolveType('<nope>')).toThrow(/unknown codec/);
  });

  test('circular chains are refused', () => {
    const loop = (name: string, next: string) =>
      new (class extends Codec {
        readonly name = name;
        getDtype = () => `<${next}>`;
        encode = (v: unknown) => v;
        decode = (v: unknown) => v;
      })();
    register(loop('ping', 'pong'));
    register(loop('pong', 'ping'));
    expect(() => codecChain('ping', null)).toThrow(/Circular codec reference: <ping> → <pong> → <ping>/);
    expect(() => resolveType('<ping>', 'x : <ping>')).toThrow(DeclarationError);
  });
});

describe('registration', () => {
  test('names are checked, duplicates refused unless replaced, re-registration is a no-op', () => {
    const g = register(new GraphCodec());
    expect(() => registerCodec(new GraphCodec())).not.toThrow(); // same class: idempotent
    const other = new (class extends Codec {
      readonly name = 'graph';
      getDtype = () => 'json';
      encode = (v: unknown) => v;
      decode = (v: unknown) => v;
    })();
    expect(() => registerCodec(other)).toThrow(/already registered/);
    expect(registerCodec(other, { replace: true })).toBe(other);
    expect(getCodec('graph')).toBe(other);
    expect(g).toBeInstanceOf(GraphCodec);
    expect(() => registerCodec({ name: 'Bad Name', getDtype: () => 'json', encode: (v) => v, decode: (v) => v })).toThrow(/lower-case/);
    expect(() => registerCodec({ name: 'nodecode', getDtype: () => 'json', encode: (v: unknown) => v } as never)).toThrow(/decode/);
    expect(() => registerCodec({ name: 'blob', getDtype: () => 'json', encode: (v) => v, decode: (v) => v })).toThrow(/already registered/);
  });

  test('a class can be registered directly', () => {
    const c = registerCodec(GraphCodec);
    registered.push('graph');
    expect(c).toBeInstanceOf(GraphCodec);
  });

  test('codec specs parse with and without brackets and stores', () => {
    expect(parseCodecSpec('<blob@cold>')).toEqual({ name: 'blob', store: 'cold' });
    expect(parseCodecSpec('<blob@>')).toEqual({ name: 'blob', store: '' });
    expect(parseCodecSpec('Blob')).toEqual({ name: 'blob', store: null });
    expect(() => parseCodecSpec('<a b>')).toThrow(DataJointError);
  });
});

describe('running a chain', () => {
  const attr = (type: string, name = 'g') => attributeFromType(name, resolveType(type));

  test('the custom-codec recipe: <graph> → <blob> → bytes and back', async () => {
    const g = register(new GraphCodec());
    const a = attr('<graph>');
    const value = { nodes: ['a', 'b'], edges: [['a', 'b']] as Array<[string, string]> };
    const stored = await encodeValue(a, value, { key: { id: 1 }, schema: 'lab', table: 'net' });
    expect(Buffer.isBuffer(stored)).toBe(true); // packed by <blob>, not the graph's plain object
    expect(g.seen[0]).toMatchObject({ key: { id: 1 }, schema: 'lab', table: 'net', field: 'g', storeName: null });
    expect(await decodeCodec(a, stored)).toEqual(value);
    await expect(encodeValue(a, { nodes: [] })).rejects.toThrow(/needs edges/);
  });

  test('JSON dtypes are written as DataJoint Python writes them', async () => {
    register(
      new (class extends Codec {
        readonly name = 'meta';
        getDtype = () => 'json';
        encode = (v: unknown) => v;
        decode = (v: unknown) => v;
      })(),
    );
    const a = attr('<meta>');
    expect(await encodeValue(a, { b: 1, a: [1.5, 'é'] })).toBe('{"b": 1, "a": [1.5, "\\u00e9"]}');
    expect(await decodeCodec(a, '{"b": 1}')).toEqual({ b: 1 }); // MySQL returns JSON text
    expect(await decodeCodec(a, { b: 1 })).toEqual({ b: 1 }); // PostgreSQL an object
  });

  test('check() validates the storing codec of an external chain without encoding it', async () => {
    const p = await build('blob', 'cold');
    let encoded = 0;
    const hash = await loadCodec('hash');
    const original = hash.encode;
    (hash as { encode: unknown }).encode = (...args: unknown[]) => (encoded++, (original as (...a: unknown[]) => unknown).apply(hash, args));
    try {
      await expect(p.check(new NDArray({ dtype: 'float64', shape: [2], data: [1, 2] }), { schema: 'lab' })).rejects.toThrow(/Store "cold" is not configured|stores.default/);
    } finally {
      (hash as { encode: unknown }).encode = original;
    }
    expect(encoded).toBe(0);
    expect(p.external).toBe(true);
    expect((await codecPipeline(attr('<blob>'))).external).toBe(false);
  });
});
