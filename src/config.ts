/**
 * Configuration (API.md §1). Sources, highest first: DJ_* environment variables, `.secrets/`
 * files, `datajoint.json` (searched from the working directory upward), defaults.
 * Values set in code with `config.set` sit above the file sources but below nothing:
 * an explicit call is the user's latest word.
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { AsyncLocalStorage } from 'node:async_hooks';
import { DataJointError } from './errors.js';

export type ConfigValue = string | number | boolean | null | ConfigValue[] | { [key: string]: ConfigValue };
type Tree = { [key: string]: ConfigValue };

const DEFAULTS: Record<string, ConfigValue> = {
  'database.host': null,
  'database.port': null,
  'database.user': 'root',
  'database.password': '',
  'database.backend': null,
  'database.reconnect': true,
  'database.use_tls': false,
  'database.pool_size': 4,
  /** PostgreSQL: the database that holds the DataJoint schemas. */
  'database.name': 'postgres',
  /** Seconds to wait for a free pooled connection. */
  'database.acquire_timeout': 30,
  /** Embedded backend: data directory (default .datajoint/embedded beside datajoint.json, else in the working directory). */
  'database.embedded.dir': null,
  'safemode': true,
  'loglevel': 'INFO',
  'display.limit': 12,
  'display.width': 14,
  'display.show_tuple_count': true,
  /** Diagram layout direction: 'TB' (top to bottom) or 'LR'. */
  'display.diagram_direction': 'TB',
  /** Milliseconds the synchronous preview (String(expr)) waits for its helper thread. */
  'display.preview_timeout': 30_000,
  'download_path': '.',
  'stores': {},
  /** <filepath@>: files up to this many bytes get a checksum on insert (null: every file). */
  'filepath_checksum_size_limit': 256 * 1024 * 1024,
  'jobs.auto_refresh': true,
  'jobs.keep_completed': false,
  'jobs.stale_timeout': 3600,
  'jobs.default_priority': 5,
  'jobs.add_job_metadata': false,
  'jobs.allow_new_pk_fields_in_computed_tables': false,
  'jobs.version_method': null,
  /** Seconds populate waits, after SIGINT/SIGTERM, for the make in progress to stop before it exits anyway. */
  'populate.grace_period': 10,
  /**
   * With `processes: N`, start the worker threads only once the work left would pay for their
   * start-up; until they are up, and for calls too short to pay for them, make keys in this
   * thread. Off by default: API.md §6 has every make of such a call run on a worker thread.
   */
  'populate.adaptive_start': false,
  /**
   * With `processes: N` and a TypeScript table module, compile the module (and the local modules
   * it imports, file by file) to JavaScript with esbuild for the worker threads to import: each
   * thread then starts without tsx's loader. False: threads load the module through tsx.
   */
  'populate.compile_typescript': true,
  'blob.compress': true,
};

/** Environment variables and the keys they set. */
const ENV_KEYS: Record<string, string> = {
  DJ_HOST: 'database.host',
  DJ_PORT: 'database.port',
  DJ_USER: 'database.user',
  DJ_PASS: 'database.password',
  DJ_BACKEND: 'database.backend',
  DJ_DATABASE_NAME: 'database.name',
  DJ_EMBEDDED_DIR: 'database.embedded.dir',
  DJ_SAFEMODE: 'safemode',
  DJ_LOGLEVEL: 'loglevel',
  DJ_DOWNLOAD_PATH: 'download_path',
  // Every jobs.* and populate.* setting, as DataJoint Python's settings read DJ_JOBS_*:
  // DJ_JOBS_KEEP_COMPLETED, DJ_JOBS_VERSION_METHOD, DJ_POPULATE_GRACE_PERIOD, …
  ...Object.fromEntries(
    Object.keys(DEFAULTS)
      .filter((k) => /^(jobs|populate)\.[a-z_]+$/.test(k))
      .map((k) => [`DJ_${k.replace('.', '_').toUpperCase()}`, k]),
  ),
};

function isTree(v: unknown): v is Tree {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function getPath(tree: Tree, key: string): ConfigValue | undefined {
  let node: ConfigValue | undefined = tree;
  for (const part of key.split('.')) {
    if (!isTree(node) || !(part in node)) return undefined;
    node = node[part];
  }
  return node;
}

function setPath(tree: Tree, key: string, value: ConfigValue): void {
  const parts = key.split('.');
  let node = tree;
  for (const part of parts.slice(0, -1)) {
    const next = node[part];
    if (!isTree(next)) node[part] = {};
    node = node[part] as Tree;
  }
  const last = parts[parts.length - 1]!;
  node[last] = isTree(value) ? mergeInto(isTree(node[last]) ? (node[last] as Tree) : {}, value) : value;
}

/** Merge `src` (which may hold dotted keys at any level) into `dst`. */
function mergeInto(dst: Tree, src: Tree): Tree {
  for (const [k, v] of Object.entries(src)) setPath(dst, k, v);
  return dst;
}

/** Coerce a string from the environment or a secrets file to the type of the default. */
function coerce(key: string, raw: string): ConfigValue {
  const def = DEFAULTS[key];
  if (typeof def === 'boolean') {
    // Anything else is refused, not read as false: DJ_SAFEMODE=nope must not turn safemode off.
    if (/^(1|true|yes|on)$/i.test(raw.trim())) return true;
    if (/^(0|false|no|off)$/i.test(raw.trim())) return false;
    throw new DataJointError(`Configuration ${key} must be true or false (1/0, yes/no, on/off), got "${raw}"`);
  }
  if (typeof def === 'number' || key === 'database.port') {
    const n = Number(raw.trim());
    if (!Number.isFinite(n)) throw new DataJointError(`Configuration ${key} must be a number, got "${raw}"`);
    return n;
  }
  return raw.trim();
}

function findUp(start: string, name: string): string | null {
  let dir = resolve(start);
  for (;;) {
    const candidate = join(dir, name);
    if (existsSync(candidate)) return candidate;
    const parent = dirname(dir);
    if (parent === dir) return null;
    dir = parent;
  }
}

export class Config {
  #file: Tree = {};
  #secrets: Tree = {};
  /** Secrets files that could not be read, by setting: reading the setting (or a group holding it) throws. */
  readonly #unreadable = new Map<string, DataJointError>();
  #env: Tree = {};
  #explicit: Tree = {};
  #overrides = new AsyncLocalStorage<Tree[]>();
  /** Path of the datajoint.json that was loaded, if any. */
  filePath: string | null = null;

  constructor(opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}) {
    this.reload(opts);
  }

  /** Re-read every source (used by tests and after changing the working directory). */
  reload(opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): void {
    const cwd = opts.cwd ?? process.cwd();
    const env = opts.env ?? process.env;
    this.#file = {};
    this.#secrets = {};
    this.#unreadable.clear();
    this.#env = {};
    this.#explicit = {};
    this.filePath = findUp(cwd, 'datajoint.json');
    if (this.filePath) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(readFileSync(this.filePath, 'utf8'));
      } catch (err) {
        throw new DataJointError(`Cannot parse ${this.filePath}: ${(err as Error).message}`, { cause: err });
      }
      if (!isTree(parsed)) throw new DataJointError(`${this.filePath} must hold a JSON object`);
      mergeInto(this.#file, parsed);
    }
    const secretsDir = findSecrets(cwd, this.filePath);
    if (secretsDir) {
      for (const name of readdirSync(secretsDir)) {
        const p = join(secretsDir, name);
        // A secret that cannot be read is said as such when its setting is read, not as a
        // setting that is missing (nor at import, for scripts that never use it).
        let text: string;
        try {
          if (statSync(p).isDirectory()) throw new Error('it is a folder, not a file holding the value');
          text = readFileSync(p, 'utf8');
        } catch (err) {
          this.#unreadable.set(name, new DataJointError(`Cannot read the secret ${p} (${name}): ${(err as Error).message}`, { cause: err }));
          continue;
        }
        setPath(this.#secrets, name, coerce(name, text));
      }
    }
    for (const [envName, key] of Object.entries(ENV_KEYS)) {
      const raw = env[envName];
      if (raw !== undefined && raw !== '') setPath(this.#env, key, coerce(key, raw));
    }
  }

  /** Value of a dotted key; `undefined` only for keys nobody set and with no default. */
  get<T extends ConfigValue = ConfigValue>(key: string): T {
    for (const [name, err] of this.#unreadable) if (name === key || name.startsWith(`${key}.`)) throw err;
    const layers = [...(this.#overrides.getStore() ?? []).slice().reverse(), this.#env, this.#explicit, this.#secrets, this.#file];
    for (const layer of layers) {
      const v = getPath(layer, key);
      if (v !== undefined) return (isTree(v) ? this.#mergedTree(key) : v) as T;
    }
    const d = DEFAULTS[key];
    if (d !== undefined) return d as T;
    // A group of settings nobody set (`jobs`, `display`): its defaults, as one object.
    if (Object.keys(DEFAULTS).some((k) => k.startsWith(`${key}.`))) return this.#mergedTree(key) as T;
    return undefined as unknown as T;
  }

  /** Whether any source (not the defaults) sets the key. */
  isSet(key: string): boolean {
    const layers = [...(this.#overrides.getStore() ?? []), this.#env, this.#explicit, this.#secrets, this.#file];
    return layers.some((l) => getPath(l, key) !== undefined && getPath(l, key) !== null);
  }

  /** Object-valued keys (like `stores`) merge across sources, higher sources winning per entry. */
  #mergedTree(key: string): Tree {
    const out: Tree = {};
    const base = DEFAULTS[key];
    if (isTree(base)) mergeInto(out, structuredClone(base));
    for (const [k, v] of Object.entries(DEFAULTS)) if (k.startsWith(`${key}.`)) setPath(out, k.slice(key.length + 1), structuredClone(v));
    for (const layer of [this.#file, this.#secrets, this.#explicit, this.#env, ...(this.#overrides.getStore() ?? [])]) {
      const v = getPath(layer, key);
      if (isTree(v)) mergeInto(out, structuredClone(v));
    }
    return out;
  }

  /**
   * Set a key (or, with an object value, each key under it; under `stores`, an object replaces
   * what code set there before, as in DataJoint Python). Inside an `override` scope that
   * set the key, the scope's value changes and the old one comes back when the scope ends, as
   * in DataJoint Python; any other key is set for good.
   */
  set(key: string, value: ConfigValue): void {
    const scopes = [...(this.#overrides.getStore() ?? [])].reverse();
    // A store's settings (or all stores) given as an object replace what code set before, as
    // `dj.config['stores'] = …` does in DataJoint Python: a setting left out must not stay and
    // keep shaping the paths of new objects.
    if (isTree(value) && (key === 'stores' || key.startsWith('stores.')) && !scopes.some((layer) => getPath(layer, key) !== undefined)) deletePath(this.#explicit, key);
    for (const [leaf, v] of leavesOf(key, value)) {
      checkType(leaf, v);
      const scope = scopes.find((layer) => getPath(layer, leaf) !== undefined);
      if (scope) {
        setPath(scope, leaf, v);
        continue;
      }
      setPath(this.#explicit, leaf, v);
      // An explicit set beats the environment for this key (the user said so in code); the
      // environment's other keys under the same branch still apply.
      deletePath(this.#env, leaf);
    }
  }

  /** Run `fn` with some keys temporarily changed; the change is scoped to this async context. */
  async override<T>(values: Record<string, ConfigValue>, fn: () => Promise<T> | T): Promise<T> {
    const layer: Tree = {};
    mergeInto(layer, values);
    const stack = [...(this.#overrides.getStore() ?? []), layer];
    return this.#overrides.run(stack, async () => fn());
  }

  /** Plain snapshot of every known key (for workers that need the same settings). */
  snapshot(): Tree {
    const out: Tree = {};
    for (const key of new Set([...Object.keys(DEFAULTS), ...flatKeys(this.#file), ...flatKeys(this.#secrets), ...flatKeys(this.#explicit), ...flatKeys(this.#env)])) {
      const v = this.get(key);
      if (v !== undefined) setPath(out, key, v);
    }
    return out;
  }
}

function deletePath(tree: Tree, key: string): void {
  const parts = key.split('.');
  let node: ConfigValue | undefined = tree;
  for (const part of parts.slice(0, -1)) {
    if (!isTree(node)) return;
    node = node[part];
  }
  if (isTree(node)) delete node[parts[parts.length - 1]!];
}

/** A value of a setting whose default is a number or a boolean must be one too (or null). */
function checkType(key: string, value: ConfigValue): void {
  const def = DEFAULTS[key];
  if (value === null || (typeof def !== 'number' && typeof def !== 'boolean')) return;
  if (typeof value !== typeof def || (typeof value === 'number' && Number.isNaN(value)))
    throw new DataJointError(`Configuration ${key} must be a ${typeof def}, got ${typeof value === 'string' ? JSON.stringify(value) : String(value)}`);
}

/** The (dotted key, value) pairs that setting `value` at `key` sets: objects down to their leaves
 *  (`stores` is one value, merged as a whole). An empty object sets nothing. */
function leavesOf(key: string, value: ConfigValue): Array<[string, ConfigValue]> {
  if (!isTree(value) || key === 'stores') return [[key, value]];
  return Object.entries(value).flatMap(([k, v]) => leavesOf(`${key}.${k}`, v));
}

function flatKeys(tree: Tree, prefix = ''): string[] {
  const out: string[] = [];
  for (const [k, v] of Object.entries(tree)) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (isTree(v) && key !== 'stores') out.push(...flatKeys(v, key));
    else out.push(key);
  }
  return out;
}

/** `.secrets/` beside the config file, else in the working directory. */
function findSecrets(cwd: string, configFile: string | null): string | null {
  const candidates = [configFile ? join(dirname(configFile), '.secrets') : null, join(cwd, '.secrets')];
  for (const c of candidates) if (c && existsSync(c) && statSync(c).isDirectory()) return c;
  return null;
}

export const config = new Config();

// In a populate worker thread, the parent's settings arrive before the table module is imported
// (workers/populate-worker.mjs), so a module that connects on import (a pipeline activating its
// Elements) already reaches the parent's database.
const inherited = (globalThis as { [k: symbol]: unknown })[Symbol.for('datajoint.workerConfig')];
if (isTree(inherited)) for (const [k, v] of Object.entries(inherited)) config.set(k, v);
