/**
 * Stores by name, from the `stores` configuration:
 *
 *   { "stores": { "default": "main",
 *                 "main": { "protocol": "file", "location": "/data/dj" },
 *                 "raw":  { "protocol": "s3", "endpoint": "minio:9000", "bucket": "lab",
 *                           "location": "raw", "access_key": "…", "secret_key": "…" } } }
 *
 * `getStore()` / `getStore('')` / `getStore(null)` is the default store. Each protocol's module
 * is imported on first use (so the S3 SDK loads only for S3 stores), and there is one instance
 * per store; when the configuration of a store changes, the next `getStore` builds a new one.
 * Keys follow DataJoint Python (`access_key`, `subfolding`, `token_length`, …); camelCase
 * spellings are accepted too. Unknown keys are refused, as DataJoint Python refuses them, so
 * a typo cannot silently drop a setting.
 */
import { config, type ConfigValue } from '../config.js';
import { DataJointError } from '../errors.js';
import { onCloseAll } from '../connection/connection.js';
import type { ObjectStore } from './store.js';
import { normalizeStoreSpec, type StoreSpec } from './spec.js';

export type { StoreSpec } from './spec.js';

/** Builds a store from its checked settings; registered per protocol. */
export type StoreFactory = (spec: StoreSpec) => Promise<ObjectStore>;

const protocols = new Map<string, StoreFactory>([
  [
    'file',
    async (s) => (await import('./file.js')).createStore({ name: s.name, location: s.location, concurrency: s.concurrency, fsync: s.fsync }),
  ],
  [
    's3',
    async (s) =>
      (await import('./s3.js')).createStore({
        name: s.name,
        endpoint: s.endpoint!,
        bucket: s.bucket!,
        location: s.location,
        accessKey: s.accessKey!,
        secretKey: s.secretKey!,
        secure: s.secure,
        region: s.region ?? undefined,
        concurrency: s.concurrency,
        partSize: s.partSize ?? undefined,
        partConcurrency: s.partConcurrency ?? undefined,
      }),
  ],
]);

/** Add (or replace) a protocol, e.g. `registerStoreProtocol('gcs', async (spec) => new GcsStore(spec))`. */
export function registerStoreProtocol(protocol: string, factory: StoreFactory): void {
  protocols.set(protocol.toLowerCase(), factory);
}

/** Protocols that can be configured. */
export function storeProtocols(): string[] {
  return [...protocols.keys()];
}

function isTree(v: unknown): v is Record<string, ConfigValue> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The store name `name` refers to: itself, or `stores.default` for `''`/null/undefined. */
export function resolveStoreName(name?: string | null): string {
  if (name !== undefined && name !== null && name !== '') return name;
  const stores = config.get('stores');
  const def = isTree(stores) ? stores['default'] : undefined;
  if (def === undefined || def === null || def === '') {
    throw new DataJointError('No store named and stores.default is not configured: set stores.default to the name of a store');
  }
  if (typeof def !== 'string') throw new DataJointError(`stores.default must be the name of a store, got ${JSON.stringify(def)}`);
  return def;
}

/** The names of the stores configured (settings such as `stores.default` left out). */
export function configuredStoreNames(): string[] {
  const stores = config.get('stores');
  return isTree(stores) ? Object.entries(stores).filter(([k, v]) => k !== 'default' && k !== 'filepath_default' && isTree(v)).map(([k]) => k) : [];
}

/** The checked settings of a store (defaults applied), without connecting to it. */
export function storeSpec(name?: string | null): StoreSpec {
  const resolved = resolveStoreName(name);
  if (resolved === 'default' || resolved === 'filepath_default') {
    throw new DataJointError(`"${resolved}" is a setting of stores, not a store name`);
  }
  const stores = config.get('stores');
  const raw = isTree(stores) ? stores[resolved] : undefined;
  if (raw === undefined || raw === null) {
    const known = isTree(stores) ? Object.keys(stores).filter((k) => k !== 'default' && k !== 'filepath_default') : [];
    throw new DataJointError(`Store "${resolved}" is not configured (configured stores: ${known.length ? known.join(', ') : 'none'})`);
  }
  if (!isTree(raw)) throw new DataJointError(`stores.${resolved} must be an object of settings`);
  return normalizeStoreSpec(resolved, raw, storeProtocols());
}

interface CacheEntry {
  fingerprint: string;
  store: Promise<ObjectStore>;
}
const cache = new Map<string, CacheEntry>();

/**
 * The store called `name` (the default store for `''`, null or nothing). Throws a
 * DataJointError for an unknown store or a bad configuration, naming what is wrong.
 */
export async function getStore(name?: string | null): Promise<ObjectStore> {
  const spec = storeSpec(name);
  const fingerprint = JSON.stringify(spec);
  const hit = cache.get(spec.name);
  if (hit && hit.fingerprint === fingerprint) return hit.store;
  // A changed configuration gets a new instance. The old one is not closed: work started under
  // the old settings (another async context, a scoped override) may still be using it.
  const factory = protocols.get(spec.protocol);
  if (!factory) throw new DataJointError(`Store "${spec.name}": unsupported protocol "${spec.protocol}"`);
  const store = factory(spec);
  const entry = { fingerprint, store };
  // dj.closeAll() closes stores too (their sockets would keep the process alive).
  if (cache.size === 0) onCloseAll(closeStores);
  cache.set(spec.name, entry);
  store.catch(() => {
    if (cache.get(spec.name) === entry) cache.delete(spec.name);
  });
  return store;
}

/** Close every store built so far (their connections) and forget them. */
export async function closeStores(): Promise<void> {
  const all = [...cache.values()];
  cache.clear();
  await Promise.all(all.map(async (e) => (await e.store.catch(() => null))?.close()));
}
