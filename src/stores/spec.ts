/**
 * Checking one store's settings and applying defaults, as DataJoint Python's
 * `Config.get_store_spec` does: required keys per protocol, no unknown keys, section prefixes
 * that do not nest. Pure (no I/O), so `validate()`-style callers can use it freely.
 */
import type { ConfigValue } from '../config.js';
import { DataJointError } from '../errors.js';

/** A store's settings after checking, with every default filled in. */
export interface StoreSpec {
  name: string;
  protocol: string;
  /** Directory (file) or key prefix in the bucket (s3); `''` allowed for s3. */
  location: string;
  endpoint: string | null;
  bucket: string | null;
  accessKey: string | null;
  secretKey: string | null;
  /** HTTPS for an S3 endpoint given without scheme (default true, as in DataJoint Python). */
  secure: boolean;
  region: string | null;
  /** Transfers kept in flight against this store (default 8). */
  concurrency: number;
  /** Folder levels for hash-addressed paths, e.g. `[2, 2]`; null for a flat layout. */
  subfolding: number[] | null;
  /** Primary-key attributes that lead schema-addressed paths, e.g. `'{subject_id}'`. */
  partitionPattern: string | null;
  /** Length of the random token in schema-addressed file names (4–16, default 8). */
  tokenLength: number;
  /** Section of hash-addressed objects (default `_hash`). */
  hashPrefix: string;
  /** Section of schema-addressed objects (default `_schema`). */
  schemaPrefix: string;
  /** If set, `<filepath@>` paths must lie under it. */
  filepathPrefix: string | null;
  /** Flush file-store objects to disk before publishing them (default true). */
  fsync: boolean;
  partSize: number | null;
  partConcurrency: number | null;
}

/** Setting names: DataJoint Python's spelling first, camelCase accepted as well. */
const ALIASES: Record<string, string> = {
  accessKey: 'access_key',
  secretKey: 'secret_key',
  tokenLength: 'token_length',
  partitionPattern: 'partition_pattern',
  hashPrefix: 'hash_prefix',
  schemaPrefix: 'schema_prefix',
  filepathPrefix: 'filepath_prefix',
  partSize: 'part_size',
  partConcurrency: 'part_concurrency',
};

const COMMON = ['protocol', 'location', 'subfolding', 'partition_pattern', 'token_length', 'hash_prefix', 'schema_prefix', 'filepath_prefix', 'stage', 'concurrency'];
const ALLOWED: Record<string, string[]> = {
  file: [...COMMON, 'fsync'],
  s3: [...COMMON, 'endpoint', 'bucket', 'access_key', 'secret_key', 'secure', 'region', 'proxy_server', 'part_size', 'part_concurrency'],
};
const REQUIRED: Record<string, string[]> = {
  file: ['protocol', 'location'],
  s3: ['protocol', 'endpoint', 'bucket', 'access_key', 'secret_key'],
};

function str(settings: Record<string, ConfigValue>, key: string, where: string): string | null {
  const v = settings[key];
  if (v === undefined || v === null) return null;
  if (typeof v !== 'string') throw new DataJointError(`${where}.${key} must be a string, got ${JSON.stringify(v)}`);
  return v;
}

function int(settings: Record<string, ConfigValue>, key: string, where: string, min: number): number | null {
  const v = settings[key];
  if (v === undefined || v === null) return null;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) throw new DataJointError(`${where}.${key} must be an integer ≥ ${min}, got ${JSON.stringify(v)}`);
  return v;
}

function bool(settings: Record<string, ConfigValue>, key: string, where: string, def: boolean): boolean {
  const v = settings[key];
  if (v === undefined || v === null) return def;
  if (typeof v !== 'boolean') throw new DataJointError(`${where}.${key} must be true or false, got ${JSON.stringify(v)}`);
  return v;
}

/** Check `raw` (the object under `stores.<name>`) and fill in defaults. */
export function normalizeStoreSpec(name: string, raw: Record<string, ConfigValue>, protocols: string[] = ['file', 's3']): StoreSpec {
  const where = `stores.${name}`;
  const s: Record<string, ConfigValue> = {};
  for (const [k, v] of Object.entries(raw)) {
    const key = ALIASES[k] ?? k;
    if (key in s && s[key] !== v) throw new DataJointError(`${where} sets both ${key} and ${k}`);
    s[key] = v;
  }
  // The configuration reference's default: a store given only its location is a folder.
  if (s.protocol === undefined || s.protocol === null || s.protocol === '') s.protocol = 'file';
  const protocol = str(s, 'protocol', where)!.toLowerCase();
  if (!protocols.includes(protocol)) throw new DataJointError(`${where}.protocol "${protocol}" is not supported (one of ${protocols.join(', ')})`);

  const required = REQUIRED[protocol] ?? ['protocol', 'location'];
  const missing = required.filter((k) => s[k] === undefined || s[k] === null || s[k] === '');
  if (missing.length) throw new DataJointError(`${where} is missing: ${missing.join(', ')}`);
  const allowed = ALLOWED[protocol];
  if (allowed) {
    const unknown = Object.keys(s).filter((k) => !allowed.includes(k));
    if (unknown.length) throw new DataJointError(`${where} has unknown setting(s): ${unknown.join(', ')} (allowed: ${allowed.join(', ')})`);
  }

  const subfolding = s['subfolding'];
  if (subfolding !== undefined && subfolding !== null) {
    if (!Array.isArray(subfolding) || !subfolding.every((n) => typeof n === 'number' && Number.isInteger(n) && n > 0) || subfolding.reduce<number>((a, n) => a + (n as number), 0) > 26) {
      throw new DataJointError(`${where}.subfolding must be a list of positive integers (at most 26 characters in all), e.g. [2, 2]; got ${JSON.stringify(subfolding)}`);
    }
  }
  // DataJoint Python clamps the token length to 4…16 rather than refusing it.
  const tokenLength = Math.max(4, Math.min(16, int(s, 'token_length', where, 1) ?? 8));

  const spec: StoreSpec = {
    name,
    protocol,
    location: str(s, 'location', where) ?? '',
    endpoint: str(s, 'endpoint', where),
    bucket: str(s, 'bucket', where),
    accessKey: str(s, 'access_key', where),
    secretKey: str(s, 'secret_key', where),
    secure: bool(s, 'secure', where, true),
    region: str(s, 'region', where),
    concurrency: int(s, 'concurrency', where, 1) ?? 8,
    subfolding: Array.isArray(subfolding) && subfolding.length ? (subfolding as number[]) : null,
    partitionPattern: str(s, 'partition_pattern', where) || null,
    tokenLength,
    hashPrefix: str(s, 'hash_prefix', where) || '_hash',
    schemaPrefix: str(s, 'schema_prefix', where) || '_schema',
    filepathPrefix: str(s, 'filepath_prefix', where) || null,
    fsync: bool(s, 'fsync', where, true),
    partSize: int(s, 'part_size', where, 5 * 1024 * 1024),
    partConcurrency: int(s, 'part_concurrency', where, 1),
  };
  checkPrefixes(where, spec);
  return spec;
}

/** The store's sections must not nest, or gc and `<filepath@>` checks would confuse them. */
function checkPrefixes(where: string, spec: StoreSpec): void {
  const named: Array<[string, string]> = [
    ['hash_prefix', spec.hashPrefix],
    ['schema_prefix', spec.schemaPrefix],
  ];
  if (spec.filepathPrefix) named.push(['filepath_prefix', spec.filepathPrefix]);
  const norm = named.map(([k, p]) => [k, p.replace(/^\/+|\/+$/g, '') + '/'] as const);
  for (let i = 0; i < norm.length; i++) {
    for (let j = i + 1; j < norm.length; j++) {
      const [a, pa] = norm[i]!;
      const [b, pb] = norm[j]!;
      if (pa.startsWith(pb) || pb.startsWith(pa)) {
        throw new DataJointError(`${where}: ${a} "${named[i]![1]}" and ${b} "${named[j]![1]}" overlap; store sections must not nest`);
      }
    }
  }
}
