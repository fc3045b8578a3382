/**
 * The store layout and metadata of DataJoint Python 2.x, pinned with concrete examples. The
 * expected strings were produced by Python itself (hashlib + base64, urllib.parse.quote,
 * repr, strftime, json.dumps) following datajoint-python's hash_registry.py, storage.py and
 * builtin_codecs; see docs/store-layout.md.
 */
import { describe, expect, test } from 'vitest';
import { DataJointError } from '../../src/errors.js';
import {
  base32,
  contentHash,
  encodePkValue,
  generateToken,
  hashPath,
  isContentHash,
  manifestPath,
  objectPath,
  partitionAttributes,
  subfold,
  TOKEN_ALPHABET,
} from '../../src/stores/layout.js';
import {
  filepathMetadata,
  folderManifest,
  hashMetadata,
  manifestText,
  metadataJson,
  npyMetadata,
  objectMetadata,
  parseMetadata,
  stagedObjectMetadata,
} from '../../src/stores/metadata.js';
import { pythonFloatRepr, pythonIsoformat, pythonJsonDumps, pythonQuote } from '../../src/stores/python-text.js';
import { normalizeStoreSpec } from '../../src/stores/spec.js';

describe('content hash: base32 of MD5, lowercase, no padding', () => {
  test.each([
    ['', '2qoyzwmpaczaj2mabgmoz6ccpy'],
    ['hello', 'lvauakv4jmvhnolrtwiraf6fsi'],
    ['DataJoint', '7zn3yf7gjncdv7rsvopkpnnt4q'],
  ])('%j → %s', (text, hash) => {
    expect(contentHash(Buffer.from(text))).toBe(hash);
    expect(isContentHash(hash)).toBe(true);
  });

  test('binary content (bytes 0…255)', () => {
    expect(contentHash(Uint8Array.from({ length: 256 }, (_, i) => i))).toBe('4leglw2bmk7nsy57vkppnlay6a');
  });

  test('base32 follows RFC 4648 test vectors (lowercase, unpadded)', () => {
    const vectors: Array<[string, string]> = [['', ''], ['f', 'my'], ['fo', 'mzxq'], ['foo', 'mzxw6'], ['foob', 'mzxw6yq'], ['fooba', 'mzxw6ytb'], ['foobar', 'mzxw6ytboi']];
    for (const [text, b32] of vectors) expect(base32(Buffer.from(text))).toBe(b32);
  });
});

describe('hash-addressed paths', () => {
  const h = 'lvauakv4jmvhnolrtwiraf6fsi';
  test('flat: _hash/{schema}/{hash}', () => {
    expect(hashPath(h, 'lab')).toBe(`_hash/lab/${h}`);
  });
  test('subfolding [2, 2] and [1, 3]', () => {
    expect(hashPath(h, 'lab', { subfolding: [2, 2] })).toBe(`_hash/lab/lv/au/${h}`);
    expect(hashPath(h, 'lab', { subfolding: [1, 3] })).toBe(`_hash/lab/l/vau/${h}`);
    expect(subfold('abcdefgh', [2, 3])).toEqual(['ab', 'cde']);
  });
  test('a configured hash_prefix replaces _hash', () => {
    expect(hashPath(h, 'lab', { hashPrefix: 'blobs/' })).toBe(`blobs/lab/${h}`);
  });
  test('refuses malformed hashes and schema names', () => {
    expect(() => hashPath('ABC', 'lab')).toThrow(DataJointError);
    expect(() => hashPath(h.toUpperCase(), 'lab')).toThrow(/26 lowercase/);
    expect(() => hashPath(h, 'a/b')).toThrow(/schema/);
    expect(() => hashPath(h, '')).toThrow(/schema/);
  });
});

describe('primary-key values in paths (encode_pk_value)', () => {
  test.each<[unknown, string, string?]>([
    [42, '42'],
    [-5, '-5'],
    [2.5, '2.5'],
    [5, '5.0', 'float'],
    [1e16, '1e+16', 'float'],
    [10n, '10'],
    ['mouse_1', 'mouse_1'],
    ['a b', 'a b'],
    ['naïve café', 'naïve café'],
    ['a/b c', 'a%2Fb%20c'],
    ['x'.repeat(120), `${'x'.repeat(50)}_fb98667f`],
    ['é'.repeat(101), `${'%C3%A9'.repeat(50)}_86919ab3`],
    [new Date(Date.UTC(2024, 0, 15, 9, 5, 3)), '2024-01-15T09-05-03'],
    [new Date(Date.UTC(2024, 0, 15, 9, 5, 3)), '2024-01-15T09-05-03', 'datetime'],
    [new Date(Date.UTC(2024, 0, 15)), '2024-01-15', 'date'],
    [true, 'True'],
    [true, '1', 'bool'],
  ])('%s → %s', (value, expected, kind) => {
    expect(encodePkValue(value, kind as never)).toBe(expected);
  });

  test('null and invalid dates are refused', () => {
    expect(() => encodePkValue(null)).toThrow(DataJointError);
    expect(() => encodePkValue(new Date(Number.NaN))).toThrow(DataJointError);
  });
});

describe('schema-addressed paths', () => {
  test('_schema/{schema}/{table}/{k=v}…/{field}_{token}{ext}', () => {
    const { path, token } = objectPath({
      schema: 'lab',
      table: 'Recording',
      field: 'neural_data',
      primaryKey: { subject_id: 42, session_id: 100 },
      ext: '.zarr',
      token: 'AbC-_123',
    });
    expect(token).toBe('AbC-_123');
    expect(path).toBe('_schema/lab/Recording/subject_id=42/session_id=100/neural_data_AbC-_123.zarr');
  });

  test('extension without dot, no extension, string and date keys', () => {
    const base = { schema: 'lab', table: 'Session', field: 'raw', token: 'tok12345' };
    expect(objectPath({ ...base, primaryKey: { id: 1 }, ext: 'npy' }).path).toBe('_schema/lab/Session/id=1/raw_tok12345.npy');
    expect(objectPath({ ...base, primaryKey: { id: 1 } }).path).toBe('_schema/lab/Session/id=1/raw_tok12345');
    expect(
      objectPath({ ...base, primaryKey: { subject: 'M/7', day: new Date(Date.UTC(2024, 0, 15)) }, kinds: { day: 'date' } }).path,
    ).toBe('_schema/lab/Session/subject=M%2F7/day=2024-01-15/raw_tok12345');
  });

  test('partition attributes lead, after the section prefix; both pattern spellings', () => {
    const input = {
      schema: 'lab',
      table: 'Recording',
      field: 'data',
      primaryKey: { subject_id: 42, session_date: '2024-01-15', session_id: 100 },
      ext: '.dat',
      token: 'x8a7b2c4',
    };
    const expected = '_schema/subject_id=42/session_date=2024-01-15/lab/Recording/session_id=100/data_x8a7b2c4.dat';
    expect(objectPath({ ...input, partitionPattern: '{subject_id}/{session_date}' }).path).toBe(expected);
    expect(objectPath({ ...input, partitionPattern: 'subject_id/session_date' }).path).toBe(expected);
    // Attributes the table does not have are ignored.
    expect(objectPath({ ...input, partitionPattern: '{animal}' }).path).toBe('_schema/lab/Recording/subject_id=42/session_date=2024-01-15/session_id=100/data_x8a7b2c4.dat');
    expect(partitionAttributes('{a}/{b}/{a}')).toEqual(['a', 'b']);
  });

  test('custom schema_prefix', () => {
    expect(objectPath({ schema: 's', table: 'T', field: 'f', primaryKey: { id: 1 }, token: 'abcd', schemaPrefix: 'arrays' }).path).toBe('arrays/s/T/id=1/f_abcd');
  });

  test('random tokens: URL-safe alphabet, length clamped to 4…16, unique', () => {
    expect(generateToken()).toHaveLength(8);
    expect(generateToken(2)).toHaveLength(4);
    expect(generateToken(40)).toHaveLength(16);
    const tokens = Array.from({ length: 200 }, () => generateToken());
    expect(new Set(tokens).size).toBe(200);
    for (const t of tokens) for (const c of t) expect(TOKEN_ALPHABET).toContain(c);
    const { path, token } = objectPath({ schema: 's', table: 'T', field: 'f', primaryKey: { id: 1 }, tokenLength: 12 });
    expect(token).toHaveLength(12);
    expect(path.endsWith(`/f_${token}`)).toBe(true);
  });

  test('refuses names that would break the path', () => {
    expect(() => objectPath({ schema: 'a/b', table: 'T', field: 'f', primaryKey: {} })).toThrow(/schema/);
    expect(() => objectPath({ schema: 's', table: '..', field: 'f', primaryKey: {} })).toThrow(/table/);
    expect(() => objectPath({ schema: 's', table: 'T', field: 'f', primaryKey: {}, ext: './x' })).toThrow(/extension/);
  });

  test('manifest beside a folder object', () => {
    expect(manifestPath('_schema/lab/T/id=1/f_abcd.zarr')).toBe('_schema/lab/T/id=1/f_abcd.zarr.manifest.json');
  });
});

describe('JSON metadata per codec, as Python stores it', () => {
  const when = new Date(Date.UTC(2025, 0, 15, 10, 30, 0, 123));
  test('<hash@> / <blob@> / <attach@>: hash, path, schema, store, size', () => {
    const m = hashMetadata({ hash: 'lvauakv4jmvhnolrtwiraf6fsi', path: '_hash/lab/lvauakv4jmvhnolrtwiraf6fsi', schema: 'lab', store: null, size: 5 });
    expect(metadataJson(m)).toBe('{"hash": "lvauakv4jmvhnolrtwiraf6fsi", "path": "_hash/lab/lvauakv4jmvhnolrtwiraf6fsi", "schema": "lab", "store": null, "size": 5}');
  });

  test('<object@>: path, store, size, ext, is_dir, item_count, timestamp', () => {
    const m = objectMetadata({
      path: '_schema/lab/Recording/subject_id=42/session_id=100/neural_data_AbC-_123.zarr',
      store: 'main',
      size: 1234,
      ext: '.zarr',
      isDir: true,
      itemCount: 3,
      timestamp: when,
    });
    expect(metadataJson(m)).toBe(
      '{"path": "_schema/lab/Recording/subject_id=42/session_id=100/neural_data_AbC-_123.zarr", "store": "main", "size": 1234, "ext": ".zarr", "is_dir": true, "item_count": 3, "timestamp": "2025-01-15T10:30:00.123000+00:00"}',
    );
  });

  test('staged <object@>, <filepath@>, <npy@>', () => {
    expect(stagedObjectMetadata({ path: 'p.dat', size: 3, ext: '.dat', isDir: false, mimeType: 'application/octet-stream', timestamp: when })).toEqual({
      path: 'p.dat', size: 3, hash: null, ext: '.dat', is_dir: false, timestamp: '2025-01-15T10:30:00.123000+00:00', mime_type: 'application/octet-stream',
    });
    expect(stagedObjectMetadata({ path: 'p.zarr', size: 9, ext: '.zarr', isDir: true, itemCount: 4, timestamp: when }).item_count).toBe(4);
    expect(metadataJson(filepathMetadata({ path: 'raw/a.bin', store: 'acq', size: 10, timestamp: new Date(Date.UTC(2025, 0, 15, 10, 30)) }))).toBe(
      '{"path": "raw/a.bin", "store": "acq", "size": 10, "is_dir": false, "timestamp": "2025-01-15T10:30:00+00:00"}',
    );
    expect(metadataJson(npyMetadata({ path: 'x.npy', store: null, dtype: 'float64', shape: [1000, 32] }))).toBe(
      '{"path": "x.npy", "store": null, "dtype": "float64", "shape": [1000, 32]}',
    );
  });

  test('folder manifest text equals json.dumps(manifest, indent=2)', () => {
    const m = folderManifest([{ path: 'sub/é.txt', size: 22 }, { path: 'a.txt', size: 1 }], new Date(Date.UTC(2025, 0, 15, 10, 30)));
    expect(manifestText(m)).toBe(
      '{\n  "files": [\n    {\n      "path": "a.txt",\n      "size": 1\n    },\n    {\n      "path": "sub/\\u00e9.txt",\n      "size": 22\n    }\n  ],\n  "total_size": 23,\n  "item_count": 2,\n  "created": "2025-01-15T10:30:00+00:00"\n}',
    );
  });

  test('parseMetadata takes MySQL text or PostgreSQL objects, refuses junk', () => {
    expect(parseMetadata('{"path": "a", "size": 1}')).toEqual({ path: 'a', size: 1 });
    expect(parseMetadata({ path: 'a' })).toEqual({ path: 'a' });
    expect(() => parseMetadata('{oops')).toThrow(/not valid JSON/);
    expect(() => parseMetadata({ size: 1 })).toThrow(/path/);
    expect(() => parseMetadata([1])).toThrow(DataJointError);
  });
});

describe('Python text helpers', () => {
  test.each([
    [1, '1.0'], [0.1, '0.1'], [1e16, '1e+16'], [1e-5, '1e-05'], [1e-4, '0.0001'], [123456789012345678, '1.2345678901234568e+17'],
    [-0, '-0.0'], [1.5e300, '1.5e+300'], [2.5e-7, '2.5e-07'], [1e22, '1e+22'], [12345.678, '12345.678'], [-2.5, '-2.5'],
  ])('repr(%d) = %s', (x, text) => {
    expect(pythonFloatRepr(x)).toBe(text);
  });

  test('quote(s, safe="")', () => {
    expect(pythonQuote("a b/c~d!*'()é")).toBe('a%20b%2Fc~d%21%2A%27%28%29%C3%A9');
  });

  test('json.dumps escapes like Python (ensure_ascii)', () => {
    expect(pythonJsonDumps({ a: 'é\u2028x', b: [1, 2], c: null, d: true, e: 1.5, f: '\x7f\x01\n' })).toBe(
      '{"a": "\\u00e9\\u2028x", "b": [1, 2], "c": null, "d": true, "e": 1.5, "f": "\\u007f\\u0001\\n"}',
    );
    expect(pythonJsonDumps({ s: '😀' })).toBe('{"s": "\\ud83d\\ude00"}');
    expect(pythonJsonDumps({ e: [], o: {} }, 2)).toBe('{\n  "e": [],\n  "o": {}\n}');
  });

  test('isoformat of UTC times', () => {
    expect(pythonIsoformat(new Date(Date.UTC(2025, 0, 2, 3, 4, 5)))).toBe('2025-01-02T03:04:05+00:00');
    expect(pythonIsoformat(new Date(Date.UTC(2025, 0, 2, 3, 4, 5, 120)))).toBe('2025-01-02T03:04:05.120000+00:00');
  });
});

describe('store settings (get_store_spec rules)', () => {
  test('defaults as in DataJoint Python', () => {
    const s = normalizeStoreSpec('main', { protocol: 'file', location: '/data' });
    expect(s).toMatchObject({ protocol: 'file', location: '/data', subfolding: null, tokenLength: 8, hashPrefix: '_hash', schemaPrefix: '_schema', filepathPrefix: null, concurrency: 8 });
  });

  test('Python and camelCase spellings', () => {
    const py = normalizeStoreSpec('s', { protocol: 's3', endpoint: 'h:9000', bucket: 'b', location: '', access_key: 'A', secret_key: 'S', token_length: 12, subfolding: [2, 2] });
    const js = normalizeStoreSpec('s', { protocol: 's3', endpoint: 'h:9000', bucket: 'b', location: '', accessKey: 'A', secretKey: 'S', tokenLength: 12, subfolding: [2, 2] });
    expect(js).toEqual(py);
    expect(py).toMatchObject({ accessKey: 'A', secretKey: 'S', tokenLength: 12, subfolding: [2, 2], secure: true });
  });

  test('errors name the missing or wrong key', () => {
    // No protocol: file, the configuration reference's default.
    expect(normalizeStoreSpec('m', { location: '/x' })).toMatchObject({ protocol: 'file', location: '/x' });
    expect(() => normalizeStoreSpec('m', {})).toThrow(/stores\.m is missing: location/);
    expect(() => normalizeStoreSpec('m', { protocol: 'file' })).toThrow(/stores\.m is missing: location/);
    expect(() => normalizeStoreSpec('m', { protocol: 's3', endpoint: 'e', bucket: 'b' })).toThrow(/missing: access_key, secret_key/);
    expect(() => normalizeStoreSpec('m', { protocol: 'ftp', location: '/x' })).toThrow(/not supported/);
    expect(() => normalizeStoreSpec('m', { protocol: 'file', location: '/x', acess_key: 'k' })).toThrow(/unknown setting\(s\): acess_key/);
    expect(() => normalizeStoreSpec('m', { protocol: 'file', location: '/x', subfolding: [2, 0] })).toThrow(/subfolding/);
    expect(() => normalizeStoreSpec('m', { protocol: 'file', location: '/x', concurrency: 0 })).toThrow(/concurrency/);
    expect(() => normalizeStoreSpec('m', { protocol: 'file', location: '/x', hash_prefix: 'data', schema_prefix: 'data/arrays' })).toThrow(/overlap/);
    expect(() => normalizeStoreSpec('m', { protocol: 's3', endpoint: 'e', bucket: 'b', access_key: 'a', accessKey: 'b', secret_key: 's' })).toThrow(/both access_key and accessKey/);
  });
});
