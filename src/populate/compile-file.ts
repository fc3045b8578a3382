/**
 * One source file of a TypeScript table module compiled to a JavaScript ES module for
 * populate's worker threads (compile-module.ts walks the files). Only that file's code is in
 * its output: the local modules it imports become imports of their own compiled files (so
 * each module is evaluated once per thread, whichever table modules import it, as under tsx),
 * packages stay imports of the same packages, and `import.meta` is the source file's. Whatever
 * a compiled file could run differently from tsx throws NotCompiled: the module is then left to
 * tsx.
 */
import { stat, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** The part of esbuild's API used here (esbuild is tsx's dependency, not ours: no types from it). */
export interface Esbuild {
  version: string;
  build(options: Record<string, unknown>): Promise<{ outputFiles: Array<{ path: string; text: string }>; warnings: Array<{ id: string; location: { file: string } | null }> }>;
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
  resolve(p: string, o: { kind: string; resolveDir: string; importer?: string; pluginData?: unknown }): Promise<{ path: string; external?: boolean; errors: unknown[] }>;
}

/** A reason the module is left to tsx. */
export class NotCompiled extends Error {}

/** A compiled file: its code, its source map, the local files it imports, and its source's stamp as read. */
export interface CompiledFile {
  code: string;
  map: string;
  deps: string[];
  mtimeMs: number;
  size: number;
}

/** Where the compiled file of `source` lives (one per source file, by its path). */
export type OutputOf = (source: string) => string;

/** Private to the plugin's own esbuild.resolve calls (they must not come back to it). */
const OWN = Symbol('datajoint-compile-resolve');
/** This library's own files (its sources in a checkout of the repository): their computed imports load JavaScript only. */
const LIBRARY = ['src', 'dist', 'workers'].map((d) => fileURLToPath(new URL(`../../${d}/`, import.meta.url)));
const ours = (file: string) => LIBRARY.some((d) => file.startsWith(d));
/** esbuild's messages about code a compiled file could not run as tsx runs it. */
const CANNOT_COMPILE = { 'unsupported-dynamic-import': 'warning', 'unsupported-require-call': 'warning' } as const;
/** Files compiled as modules of their own; anything else a module imports (JSON) is inlined. */
const SOURCE = /\.[cm]?[jt]sx?$/;

/** Whether `file` is an ES module to Node (and tsx): by its extension, else its package.json's type. */
async function isEsm(file: string, types: Map<string, Promise<boolean>>): Promise<boolean> {
  if (/\.m[jt]sx?$/.test(file)) return true;
  if (/\.c[jt]sx?$/.test(file)) return false;
  const dir = path.dirname(file);
  let known = types.get(dir);
  if (!known) {
    known = readFile(path.join(dir, 'package.json'), 'utf8').then(
      (text) => (JSON.parse(text) as { type?: string }).type === 'module',
      () => (path.dirname(dir) === dir ? false : isEsm(path.join(path.dirname(dir), 'x.js'), types)),
    );
    types.set(dir, known);
  }
  return known;
}

/**
 * Compile `file`. `outputOf` names where each local file's compiled counterpart is (imports
 * point there); `cache` is a directory packages must resolve from as they do from the file.
 */
export async function compileFile(esbuild: Esbuild, file: string, outputOf: OutputOf, cache: string, types: Map<string, Promise<boolean>>): Promise<CompiledFile> {
  const before = await stat(file); // stamped before it is read: an edit meanwhile is seen next time
  const text = await readFile(file, 'utf8');
  if (!(await isEsm(file, types))) throw new NotCompiled(`${file} is CommonJS`);
  if (!ours(file) && text.includes('import.meta.resolve')) throw new NotCompiled(`${file} uses import.meta.resolve`);
  const deps: string[] = [];
  const out = outputOf(file);
  const result = await esbuild.build({
    entryPoints: [file],
    bundle: true, // to have esbuild resolve every import; each resolves to an external below
    format: 'esm',
    platform: 'node',
    target: `node${process.versions.node}`,
    // esbuild binds a class that refers to itself as `_Name` (a class `Analysis` with a method
    // using `Analysis.Peak` would be named `_Analysis`): tables are named after their classes.
    keepNames: true,
    sourcemap: 'linked',
    sourcesContent: false,
    outfile: out,
    write: false,
    logLevel: 'silent',
    logOverride: CANNOT_COMPILE,
    plugins: [{ name: 'datajoint-compile', setup: (b: PluginBuild) => plugin(b, esbuild, file, text, outputOf, cache, deps) }],
  });
  if (result.warnings.some((w) => w.id in CANNOT_COMPILE && !ours(file))) throw new NotCompiled(`${file} imports a computed path`);
  const code = result.outputFiles.find((f) => f.path === out)?.text;
  const map = result.outputFiles.find((f) => f.path === `${out}.map`)?.text;
  if (code === undefined || map === undefined) throw new NotCompiled(`esbuild gave no output for ${file}`);
  return { code, map, deps, mtimeMs: before.mtimeMs, size: before.size };
}

function plugin(b: PluginBuild, esbuild: Esbuild, file: string, text: string, outputOf: OutputOf, cache: string, deps: string[]): void {
  const checked = new Map<string, string>();
  b.onResolve({ filter: /.*/ }, async (a) => {
    if (a.pluginData === OWN || a.kind === 'entry-point' || a.path.startsWith('node:')) return undefined;
    const found = await b.resolve(a.path, { kind: a.kind, resolveDir: a.resolveDir, importer: a.importer, pluginData: OWN });
    const local = a.path.startsWith('.') || path.isAbsolute(a.path) || a.path.startsWith('file:');
    // A package that is not installed stays an import that fails where it runs, as under tsx
    // (an optional one may sit in a try); a local file that is missing is tsx's to report.
    if (found.errors.length) {
      if (local) throw new NotCompiled(`${a.path}, imported by ${a.importer}, cannot be resolved`);
      return { path: a.path, external: true };
    }
    if (found.external) return { path: a.path, external: true }; // a Node built-in
    if (local) {
      if (!SOURCE.test(found.path)) return undefined; // JSON and the like: inlined
      deps.push(found.path);
      return { path: pathToFileURL(outputOf(found.path)).href, external: true };
    }
    // A package (or a subpath import): it stays an import. The output lives elsewhere than the
    // file, so the package must resolve from there to what it resolves to from the file.
    const there = checked.get(a.path) ?? (await b.resolve(a.path, { kind: a.kind, resolveDir: cache, pluginData: OWN })).path;
    checked.set(a.path, there);
    if (found.path !== there) throw new NotCompiled(`${a.path} resolves to ${found.path} from ${a.importer}, not to ${there}`);
    return { path: a.path, external: true };
  });
  b.onLoad({ filter: SOURCE }, async ({ path: loaded }) => {
    if (loaded !== file) return undefined;
    const loader = /\.[cm]?tsx?$/.test(file) ? (file.endsWith('x') ? 'tsx' : 'ts') : file.endsWith('x') ? 'jsx' : 'js';
    if (!text.includes('import.meta')) return { contents: text, loader };
    // The file's own import.meta (the compiled file's would be its own URL), with an inline
    // map the output's source map follows back to the source.
    const define = { 'import.meta.url': JSON.stringify(pathToFileURL(file).href), 'import.meta.filename': JSON.stringify(file), 'import.meta.dirname': JSON.stringify(path.dirname(file)) };
    const js = await esbuild.transform(text, { loader, format: 'esm', define, sourcemap: 'inline', sourcefile: file, target: `node${process.versions.node}` });
    return { contents: js.code, loader: 'js', resolveDir: path.dirname(file) };
  });
}
