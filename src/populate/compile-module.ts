/**
 * TypeScript table modules compiled for populate's worker threads. A thread that imports a
 * TypeScript module through tsx pays for tsx's loader (its own hooks thread, and every import
 * through it): 0.4-0.9 s for two threads starting together, against 0.1 s for compiled
 * JavaScript (measured on a 2-core machine; bench/runtime.bench.ts). So the main thread compiles
 * the module and the local modules it imports, file by file (compile-file.ts), with esbuild
 * (which tsx runs on, so it is there wherever tsx is), and the threads import the JavaScript.
 * One compiled file per source file: a module two table modules import is still evaluated
 * once per thread (its codecs registered once), as under tsx. Packages stay imports, resolved
 * as before; each file's `import.meta.url` is its own source's, so `dj.schema(..., { module:
 * import.meta.url })` and paths built from it mean what they meant; source maps point stack
 * traces at the TypeScript lines.
 *
 * The output lives in node_modules/.cache/datajoint/workers beside the module (so packages
 * resolve from there as from the module). Each compiled file has a stamp of its source (time,
 * size) and the local files it imports, and is compiled again only when its source changed;
 * each is written to a temporary name and renamed into place (processes starting together
 * never read a half-written one). Anything a compiled file could run differently from tsx (no
 * esbuild, no node_modules above the module, CommonJS, an `import()` of a computed path,
 * `import.meta.resolve`, a package that would resolve elsewhere, a build error) leaves the
 * module to tsx in the threads, as before; `populate.compile_typescript` false always does.
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { config } from '../config.js';
import { isTypeScript } from '../../workers/load-module.mjs';
import { type Esbuild, type OutputOf, compileFile, NotCompiled } from './compile-file.js';

/** Bumped when the compile options change, so older output is not reused. */
const FORMAT = 4;

/** What is kept beside a compiled file: the stamp of its source as compiled, and its local imports. */
interface Stamp {
  format: string;
  mtimeMs: number;
  size: number;
  deps: string[];
}

const compiled = new Map<string, Promise<string | null>>();

/**
 * The file URL of the compiled JavaScript worker threads import for the table module at
 * `moduleUrl`, or null when they import the module itself (JavaScript, or left to tsx). Checked
 * once per module and process; files are compiled again only when their sources change.
 */
export function workerModule(moduleUrl: string): Promise<string | null> {
  if (!moduleUrl.startsWith('file:') || !isTypeScript(moduleUrl) || config.get('populate.compile_typescript') === false) return Promise.resolve(null);
  let p = compiled.get(moduleUrl);
  if (!p) {
    p = compileForWorkers(fileURLToPath(moduleUrl)).catch(() => null);
    compiled.set(moduleUrl, p);
  }
  return p;
}

/**
 * Compile the module `file` and every local module it imports, or find them compiled and
 * current: the compiled entry's file URL, or null when the module is left to tsx.
 */
export async function compileForWorkers(file: string): Promise<string | null> {
  const cache = cacheDir(file);
  const esbuild = cache && (await loadEsbuild(file));
  if (!cache || !esbuild) return null;
  await mkdir(cache, { recursive: true });
  const format = `${FORMAT} esbuild ${esbuild.version} node ${process.versions.node}`;
  const outputOf = (source: string) => path.join(cache, `${path.basename(source).replace(/\.[^.]+$/, '')}-${createHash('sha256').update(source).digest('hex').slice(0, 16)}.mjs`);
  const types = new Map<string, Promise<boolean>>();
  // Each file once; its imports are queued as they are known (imports may be circular).
  const queued = new Set<string>();
  const work: Array<Promise<void>> = [];
  const visit = (source: string): void => {
    if (queued.has(source)) return;
    queued.add(source);
    const p = (async () => {
      const out = outputOf(source);
      const deps = (await current(source, out, format)) ?? (await build(esbuild, source, out, format, outputOf, cache, types));
      deps.forEach(visit);
    })();
    p.catch(() => {}); // awaited below; a failure of one leaves the others unobserved otherwise
    work.push(p);
  };
  visit(file);
  try {
    for (let i = 0; i < work.length; i++) await work[i]; // `work` grows while this runs
  } catch (e) {
    if (e instanceof NotCompiled || (e as { errors?: unknown[] }).errors) return null; // esbuild's own errors carry `errors`
    throw e;
  }
  return pathToFileURL(outputOf(file)).href;
}

/** The local imports of `source`'s compiled file when it is current (its source unchanged), else null. */
async function current(source: string, out: string, format: string): Promise<string[] | null> {
  const stamp = JSON.parse(await readFile(`${out}.json`, 'utf8').catch(() => 'null')) as Stamp | null;
  if (!stamp || stamp.format !== format || !existsSync(out)) return null;
  const s = await stat(source).catch(() => null);
  return s && s.mtimeMs === stamp.mtimeMs && s.size === stamp.size ? stamp.deps : null;
}

/** Compile `source` into `out` (with its map and stamp); its local imports. */
async function build(esbuild: Esbuild, source: string, out: string, format: string, outputOf: OutputOf, cache: string, types: Map<string, Promise<boolean>>): Promise<string[]> {
  const c = await compileFile(esbuild, source, outputOf, cache, types);
  const stamp: Stamp = { format, mtimeMs: c.mtimeMs, size: c.size, deps: c.deps };
  // The map and the code first, the stamp last: a stamp never vouches for files not yet there.
  await writeAtomically(`${out}.map`, c.map);
  await writeAtomically(out, c.code);
  await writeAtomically(`${out}.json`, JSON.stringify(stamp));
  return c.deps;
}

async function writeAtomically(file: string, text: string): Promise<void> {
  const tmp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
  await writeFile(tmp, text);
  await rename(tmp, file);
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
