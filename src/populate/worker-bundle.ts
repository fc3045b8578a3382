/**
 * TypeScript table modules compiled for populate's worker threads. A thread that imports a
 * TypeScript module through tsx pays for tsx's loader (its own hooks thread, and every import
 * through it): 0.4-0.9 s for two threads starting together, against 0.1 s for compiled
 * JavaScript (measured on a 2-core machine; bench/runtime.bench.ts). So the main thread compiles
 * the module once with esbuild (which tsx runs on, so it is there wherever tsx is), with the
 * local modules it imports, into JavaScript the threads import directly. Packages stay imports,
 * resolved as before; lazily imported modules stay lazy (code splitting); class names are kept
 * (tables are named after them); each file's `import.meta.url` is its own source's, so
 * `dj.schema(..., { module: import.meta.url })` and paths built from it mean what they meant;
 * source maps point stack traces at the TypeScript lines.
 *
 * The output lives in node_modules/.cache/datajoint/workers beside the module (so packages
 * resolve from there as from the module), reused while no input file changed, written to a
 * fresh directory that is then renamed into place (processes starting together never read a
 * half-written one). Anything this cannot do the same as tsx (no esbuild, no node_modules above
 * the module, an `import()` of a computed path, a package that would resolve elsewhere, a build
 * error) leaves the module to tsx in the threads, as before; `populate.worker_bundle` false
 * always does.
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { config } from '../config.js';

/** Bumped when the build options below change, so older output is not reused. */
const FORMAT = 2;
/** Output directories of a module older than this (and not current) are removed. */
const PRUNE_AFTER_MS = 24 * 3600_000;

/** The part of esbuild's API used here (esbuild is tsx's dependency, not ours: no types from it). */
interface Esbuild {
  version: string;
  build(options: Record<string, unknown>): Promise<{ outputFiles: Array<{ path: string; contents: Uint8Array }>; metafile: { inputs: Record<string, unknown> }; warnings: Array<{ id: string; location: { file: string } | null }> }>;
  transform(code: string, options: Record<string, unknown>): Promise<{ code: string }>;
}
interface ResolveArgs {
  path: string;
  importer: string;
  resolveDir: string;
  kind: string;
  pluginData?: unknown;
}
interface PluginBuild {
  onResolve(o: { filter: RegExp }, f: (a: ResolveArgs) => unknown): void;
  onLoad(o: { filter: RegExp }, f: (a: { path: string }) => unknown): void;
  resolve(p: string, o: { kind: string; resolveDir: string; pluginData?: unknown }): Promise<{ path: string; errors: unknown[] }>;
}

/** What a build records to be reused: its inputs as they were, and where its output is. */
interface Manifest {
  stamp: string;
  inputs: Array<[file: string, mtimeMs: number, size: number]>;
  dir: string;
  entry: string;
}

/** Whether `url` names a TypeScript module (.ts .mts .cts .tsx). */
const isTypeScript = (url: string) => /\.(m|c)?tsx?$/.test(url);

/** A reason the module is left to tsx (the build itself is fine; the module needs tsx's semantics). */
class NotBundled extends Error {}

const built = new Map<string, Promise<string | null>>();

/**
 * The file URL of the compiled JavaScript worker threads import for the table module at
 * `moduleUrl`, or null when they import the module itself (JavaScript, or left to tsx). Built
 * once per module and process, and reused across processes while its input files are unchanged.
 */
export function workerBundle(moduleUrl: string): Promise<string | null> {
  if (!moduleUrl.startsWith('file:') || !isTypeScript(moduleUrl) || config.get('populate.worker_bundle') === false) return Promise.resolve(null);
  let p = built.get(moduleUrl);
  if (!p) {
    p = compileForWorkers(fileURLToPath(moduleUrl)).catch(() => null);
    built.set(moduleUrl, p);
  }
  return p;
}

/**
 * Compile the TypeScript module `file` for worker threads (or find its output of an earlier
 * build still current): the output entry's file URL, or null when the module is left to tsx.
 */
export async function compileForWorkers(file: string): Promise<string | null> {
  const cache = cacheDir(file);
  const esbuild = cache && (await loadEsbuild(file));
  if (!cache || !esbuild) return null;
  const id = createHash('sha256').update(file).digest('hex').slice(0, 16);
  const stamp = `${FORMAT} esbuild ${esbuild.version} node ${process.versions.node}`;
  const manifestFile = path.join(cache, `${id}.json`);
  const reused = await upToDate(manifestFile, stamp, cache);
  if (reused) return reused;
  await mkdir(cache, { recursive: true });

  const tmp = path.join(cache, `${id}-tmp-${randomBytes(6).toString('hex')}`);
  let result;
  /** Each source file as it was read for this build: its modification time and size. */
  const seen = new Map<string, [mtimeMs: number, size: number]>();
  try {
    result = await esbuild.build({
      entryPoints: [file],
      bundle: true,
      splitting: true,
      format: 'esm',
      platform: 'node',
      target: `node${process.versions.node}`,
      keepNames: true,
      sourcemap: 'linked',
      sourcesContent: false,
      outdir: tmp,
      entryNames: '[name]',
      chunkNames: 'chunk-[hash]',
      // ES modules by their extension: no package.json above node_modules/.cache says so (and
      // Node before 20.19 does not guess from the syntax).
      outExtension: { '.js': '.mjs' },
      write: false,
      metafile: true,
      logLevel: 'silent',
      logOverride: CANNOT_BUNDLE,
      plugins: [{ name: 'datajoint-worker', setup: (b: PluginBuild) => setup(b, esbuild, cache, seen) }],
    });
  } catch (e) {
    if (e instanceof NotBundled || (e as { errors?: unknown[] }).errors) return null;
    throw e;
  }
  // An import() of a computed path (a relative one would resolve from the bundle, a TypeScript
  // one needs tsx), or a require() the bundle cannot keep: only the library's own are known safe.
  if (result.warnings.some((w) => w.id in CANNOT_BUNDLE && !ours(path.resolve(w.location?.file ?? '')))) return null;
  await mkdir(tmp, { recursive: true });
  await Promise.all(result.outputFiles.map((f) => writeFile(f.path, f.contents)));
  const hash = createHash('sha256');
  for (const f of [...result.outputFiles].sort((a, b) => a.path.localeCompare(b.path))) hash.update(f.path.slice(tmp.length)).update(f.contents);
  const dir = `${id}-${hash.digest('hex').slice(0, 16)}`;
  // Another process may have built the same output meanwhile: theirs is as good as ours.
  await rename(tmp, path.join(cache, dir)).catch(() => rm(tmp, { recursive: true, force: true }));
  const entry = `${path.basename(file).replace(/\.[^.]+$/, '')}.mjs`;
  // A file changed while the build ran is then seen changed by the next check (its stamp is from
  // before it was read); files the plugin did not load (JSON) are stamped now.
  const inputs = await Promise.all(
    Object.keys(result.metafile.inputs).map(async (f): Promise<Manifest['inputs'][number]> => {
      const abs = path.resolve(f);
      const known = seen.get(abs);
      if (known) return [abs, ...known];
      const s = await stat(abs);
      return [abs, s.mtimeMs, s.size];
    }),
  );
  const manifest: Manifest = { stamp, inputs, dir, entry };
  const tmpManifest = `${manifestFile}.${randomBytes(6).toString('hex')}`;
  await writeFile(tmpManifest, JSON.stringify(manifest));
  await rename(tmpManifest, manifestFile);
  await prune(cache, id, dir);
  return pathToFileURL(path.join(cache, dir, entry)).href;
}

/** node_modules/.cache/datajoint/workers in the nearest node_modules above `file`, or null. */
function cacheDir(file: string): string | null {
  for (let dir = path.dirname(file); ; dir = path.dirname(dir)) {
    const nm = path.join(dir, 'node_modules');
    if (existsSync(nm)) return path.join(nm, '.cache', 'datajoint', 'workers');
    if (path.dirname(dir) === dir) return null;
  }
}

/** esbuild: the project's, else tsx's (the one that runs the module in this thread), else null. */
async function loadEsbuild(file: string): Promise<Esbuild | null> {
  for (const from of [file, fileURLToPath(import.meta.url)]) {
    const req = createRequire(from);
    for (const find of [() => req.resolve('esbuild'), () => createRequire(req.resolve('tsx/package.json')).resolve('esbuild')]) {
      try {
        const mod = (await import(pathToFileURL(find()).href)) as Esbuild & { default?: Esbuild };
        return typeof mod.build === 'function' ? mod : (mod.default ?? null);
      } catch {
        // not there: the next place
      }
    }
  }
  return null;
}

/** The output of the last build, if its stamp matches and no input changed since. */
async function upToDate(manifestFile: string, stamp: string, cache: string): Promise<string | null> {
  const m = JSON.parse(await readFile(manifestFile, 'utf8').catch(() => 'null')) as Manifest | null;
  if (!m || m.stamp !== stamp) return null;
  const entry = path.join(cache, m.dir, m.entry);
  if (!existsSync(entry)) return null;
  const same = await Promise.all(m.inputs.map(([f, mtime, size]) => stat(f).then((s) => s.mtimeMs === mtime && s.size === size, () => false)));
  return same.every(Boolean) ? pathToFileURL(entry).href : null;
}

/** Remove this module's earlier output directories and abandoned temporary ones, once old. */
async function prune(cache: string, id: string, current: string): Promise<void> {
  const now = Date.now();
  for (const name of await readdir(cache).catch(() => [])) {
    if (!name.startsWith(`${id}-`) || name === current || name.endsWith('.json')) continue;
    const full = path.join(cache, name);
    const s = await stat(full).catch(() => null);
    if (s && now - s.mtimeMs > PRUNE_AFTER_MS) await rm(full, { recursive: true, force: true }).catch(() => {});
  }
}

/** Private to the plugin's own esbuild.resolve calls (they must not come back to it). */
const OWN = Symbol('datajoint-worker-resolve');
/** This library's own files (its sources in a checkout of the repository): their computed imports load JavaScript only. */
const LIBRARY = ['src', 'dist', 'workers'].map((d) => fileURLToPath(new URL(`../../${d}/`, import.meta.url)));
const ours = (file: string) => LIBRARY.some((d) => file.startsWith(d));

/** The esbuild messages of code a thread could not run from the bundle as tsx runs it. */
const CANNOT_BUNDLE = { 'unsupported-dynamic-import': 'warning', 'unsupported-require-call': 'warning' } as const;

/** Whether `file` is an ES module to Node (and tsx): by its extension, else its package.json's type. */
async function isEsm(file: string, types: Map<string, Promise<boolean>>): Promise<boolean> {
  if (/\.m[jt]sx?$/.test(file)) return true;
  if (/\.c[jt]sx?$/.test(file)) return false;
  const dir = path.dirname(file);
  let known = types.get(dir);
  if (!known) {
    known = readFile(path.join(dir, 'package.json'), 'utf8').then(
      (text) => (JSON.parse(text) as { type?: string }).type === 'module',
      () => (path.dirname(dir) === dir ? Promise.resolve(false) : isEsm(path.join(path.dirname(dir), 'x.js'), types)),
    );
    types.set(dir, known);
  }
  return known;
}

function setup(b: PluginBuild, esbuild: Esbuild, cache: string, seen: Map<string, [number, number]>): void {
  // Packages stay imports. The output lives elsewhere than the module, so each package must
  // resolve from there to what it resolves to from the file importing it.
  const checked = new Map<string, string>();
  b.onResolve({ filter: /^[^./#]/ }, async (a) => {
    if (a.pluginData === OWN || path.isAbsolute(a.path) || a.path.startsWith('node:')) return undefined;
    const from = await b.resolve(a.path, { kind: a.kind, resolveDir: a.resolveDir, pluginData: OWN });
    const there = checked.get(a.path) ?? (await b.resolve(a.path, { kind: a.kind, resolveDir: cache, pluginData: OWN })).path;
    checked.set(a.path, there);
    if (from.errors.length === 0 && from.path !== there) throw new NotBundled(`${a.path} resolves to ${from.path} from ${a.importer}, not to ${there}`);
    return { path: a.path, external: true };
  });
  const types = new Map<string, Promise<boolean>>();
  b.onLoad({ filter: /\.[cm]?[jt]sx?$/ }, async ({ path: file }) => {
    const before = await stat(file);
    seen.set(file, [before.mtimeMs, before.size]);
    const text = await readFile(file, 'utf8');
    // CommonJS keeps its own require and module scope only under tsx; import.meta.resolve
    // would resolve from the bundle.
    if (!(await isEsm(file, types))) throw new NotBundled(`${file} is CommonJS`);
    if (!ours(file) && text.includes('import.meta.resolve')) throw new NotBundled(`${file} uses import.meta.resolve`);
    const loader = /\.[cm]?tsx?$/.test(file) ? (file.endsWith('x') ? 'tsx' : 'ts') : file.endsWith('x') ? 'jsx' : 'js';
    if (!text.includes('import.meta')) return { contents: text, loader };
    // Each file's own import.meta (the bundle's would be the output file's), as an inline map
    // the bundle's source map follows back to the file.
    const define = { 'import.meta.url': JSON.stringify(pathToFileURL(file).href), 'import.meta.filename': JSON.stringify(file), 'import.meta.dirname': JSON.stringify(path.dirname(file)) };
    const out = await esbuild.transform(text, { loader, format: 'esm', define, sourcemap: 'inline', sourcefile: file, target: `node${process.versions.node}` });
    return { contents: out.code, loader: 'js', resolveDir: path.dirname(file) };
  });
}
