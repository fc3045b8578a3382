/**
 * TypeScript table modules compiled for populate's worker threads (src/populate/compile-module.ts):
 * what a thread imports from the output must behave as the module does under tsx, and whatever
 * the output could not do the same is left to tsx (null). Projects are built in temporary
 * directories; each output is imported by a plain worker thread, with no tsx and no vitest.
 */
import { mkdtempSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import { config } from '../../src/config.js';
import { compileForWorkers, workerModule } from '../../src/populate/compile-module.js';

/** A project directory with the given files (and node_modules, where the output goes). */
function project(files: Record<string, string>, { nodeModules = true } = {}): string {
  const root = mkdtempSync(path.join(tmpdir(), 'dj-compile-'));
  if (nodeModules) mkdirSync(path.join(root, 'node_modules'));
  writeFileSync(path.join(root, 'package.json'), JSON.stringify({ type: 'module' }));
  for (const [name, text] of Object.entries(files)) write(root, name, text);
  return root;
}
function write(root: string, name: string, text: string): void {
  mkdirSync(path.dirname(path.join(root, name)), { recursive: true });
  writeFileSync(path.join(root, name), text);
}

/** In a fresh worker thread: import `url` (and `also`, in turn), then evaluate `expr` with the first module as `m`. */
function inThread(url: string, expr: string, also: string[] = []): Promise<unknown> {
  const code = `const { parentPort, workerData } = require('node:worker_threads');
    (async () => { const m = await import(workerData.url); for (const u of workerData.also) await import(u); return ${expr}; })()
      .then(async (v) => parentPort.postMessage(await v)).catch((e) => parentPort.postMessage({ failed: String(e) }));`;
  return new Promise((resolve, reject) => {
    const w = new Worker(code, { eval: true, workerData: { url, also } });
    w.once('message', (m) => void w.terminate().then(() => resolve(m)));
    w.once('error', reject);
  });
}

const cacheFiles = (root: string) => readdirSync(path.join(root, 'node_modules', '.cache', 'datajoint', 'workers'));
/** Modification times of the compiled files' stamps, by name. */
const stamps = (root: string) => Object.fromEntries(cacheFiles(root).filter((n) => n.endsWith('.json')).map((n) => [n, statSync(path.join(root, 'node_modules/.cache/datajoint/workers', n)).mtimeMs]));

const MODULE = `
import * as other from './lib/other.js';
import { Thing as OtherThing } from './lib/other.js';
export class Thing { readonly kind = 'main'; }
export const urls = { main: import.meta.url, other: other.url };
export const dirs = { main: import.meta.dirname, file: import.meta.filename, other: other.dir };
export const names = [Thing.name, OtherThing.name];
export const lazy = () => import('./lib/lazy.js');
export const value: number = other.value;
`;
const OTHER = `
export class Thing { readonly kind = 'other'; }
export const url: string = import.meta.url;
export const dir: string = import.meta.dirname;
export const value: number = 1;
`;
// The lazily imported module imports a package: that import must stay lazy too.
const LAZY = `import { answer as a } from 'lazy-pkg';\n(globalThis as { lazyRan?: boolean }).lazyRan = true;\nexport const answer: number = a;\n`;
/** The project of MODULE, with the package its lazy module imports. */
function pipelineProject(): string {
  const root = project({ 'pipeline.ts': MODULE, 'lib/other.ts': OTHER, 'lib/lazy.ts': LAZY });
  write(root, 'node_modules/lazy-pkg/package.json', JSON.stringify({ name: 'lazy-pkg', type: 'module', exports: './index.js' }));
  write(root, 'node_modules/lazy-pkg/index.js', `globalThis.lazyPkgRan = true;\nexport const answer = 42;\n`);
  return root;
}

describe('compileForWorkers', () => {
  afterEach(() => config.set('populate.compile_typescript', true));

  it('compiles a module and the local modules it imports into JavaScript a plain thread imports, each file keeping its own import.meta and class names', async () => {
    const root = pipelineProject();
    const url = await compileForWorkers(path.join(root, 'pipeline.ts'));
    expect(url).toMatch(/^file:.*\/node_modules\/\.cache\/datajoint\/workers\/pipeline-[0-9a-f]{16}\.mjs$/);
    const seen = (await inThread(url!, `({ urls: m.urls, dirs: m.dirs, names: m.names, value: m.value, lazyBefore: [globalThis.lazyRan ?? false, globalThis.lazyPkgRan ?? false], answer: (await m.lazy()).answer, lazyAfter: globalThis.lazyRan })`)) as Record<string, unknown>;
    expect(seen).toEqual({
      urls: { main: pathToFileURL(path.join(root, 'pipeline.ts')).href, other: pathToFileURL(path.join(root, 'lib/other.ts')).href },
      dirs: { main: root, file: path.join(root, 'pipeline.ts'), other: path.join(root, 'lib') },
      names: ['Thing', 'Thing'],
      value: 1,
      // A module imported lazily stays lazy.
      lazyBefore: [false, false],
      answer: 42,
      lazyAfter: true,
    });
  });

  it('compiles a file again only when its source changed', async () => {
    const root = pipelineProject();
    const file = path.join(root, 'pipeline.ts');
    const first = await compileForWorkers(file);
    const built = stamps(root);
    expect(Object.keys(built)).toHaveLength(3); // one compiled file per source file
    await new Promise((r) => setTimeout(r, 20));
    expect(await compileForWorkers(file)).toBe(first);
    expect(stamps(root)).toEqual(built); // nothing compiled again
    write(root, 'lib/other.ts', OTHER.replace('value: number = 1', 'value: number = 2'));
    expect(await compileForWorkers(file)).toBe(first);
    const after = stamps(root);
    const changed = Object.keys(after).filter((n) => after[n] !== built[n]);
    expect(changed).toEqual([expect.stringMatching(/^other-/)]);
    expect(await inThread(first!, 'm.value')).toBe(2);
  });

  it('a module two table modules import is evaluated once per thread, as under tsx', async () => {
    const shared = `(globalThis as { sharedRuns?: number }).sharedRuns = ((globalThis as { sharedRuns?: number }).sharedRuns ?? 0) + 1;\nexport class Codec {}\n`;
    const root = project({ 'a.ts': `import { Codec } from './shared.js';\nexport const A = Codec;\n`, 'b.ts': `import { Codec } from './shared.js';\nexport const B = Codec;\n`, 'shared.ts': shared });
    const [a, b] = [await compileForWorkers(path.join(root, 'a.ts')), await compileForWorkers(path.join(root, 'b.ts'))];
    expect(await inThread(a!, '[globalThis.sharedRuns, m.A === (await import(workerData.also[0])).B]', [b!])).toEqual([1, true]);
  });

  it('keeps the name of a class that refers to itself (tables are named after their classes)', async () => {
    const root = project({
      'm.ts': `export class Analysis {\n  static Peak = class {\n    static master = 'x';\n  };\n  make(): string {\n    return Analysis.Peak.master;\n  }\n}\n`,
    });
    const url = await compileForWorkers(path.join(root, 'm.ts'));
    expect(await inThread(url!, '[m.Analysis.name, new m.Analysis().make()]')).toEqual(['Analysis', 'x']);
  });

  it('modules that import each other', async () => {
    const root = project({ 'a.ts': `import { b } from './b.js';\nexport const a = () => 'a' + b();\n`, 'b.ts': `import { a } from './a.js';\nexport const b = () => 'b';\nexport const viaA = () => a();\n` });
    const url = await compileForWorkers(path.join(root, 'a.ts'));
    expect(await inThread(url!, 'm.a()')).toBe('ab');
  });

  it('processes compiling one module at once each get a complete output, and leave nothing half-written', async () => {
    const root = pipelineProject();
    const urls = await Promise.all(Array.from({ length: 4 }, () => compileForWorkers(path.join(root, 'pipeline.ts'))));
    expect(new Set(urls).size).toBe(1);
    expect(cacheFiles(root).filter((n) => n.endsWith('.tmp'))).toEqual([]);
    expect(await inThread(urls[0]!, 'm.value')).toBe(1);
  });

  it('keeps packages as imports, resolved as from the module', async () => {
    const root = project({ 'pipeline.ts': `import { version } from 'pkg';\nexport const v: string = version;\n` });
    write(root, 'node_modules/pkg/package.json', JSON.stringify({ name: 'pkg', type: 'module', exports: './index.js' }));
    write(root, 'node_modules/pkg/index.js', `export const version = 'top';\n`);
    const url = await compileForWorkers(path.join(root, 'pipeline.ts'));
    expect(await inThread(url!, 'm.v')).toBe('top');
  });

  it('an .mts module of a project without "type": "module" compiles to an ES module Node loads', async () => {
    const root = project({ 'm.mts': `export const a: number = 1;\nexport const url: string = import.meta.url;\n` });
    writeFileSync(path.join(root, 'package.json'), '{}');
    const url = await compileForWorkers(path.join(root, 'm.mts'));
    expect(await inThread(url!, '[m.a, m.url]')).toEqual([1, pathToFileURL(path.join(root, 'm.mts')).href]);
  });

  describe('leaves to tsx a module the output would run differently', () => {
    const cases: Array<[string, () => string]> = [
      ['an import() of a computed path', () => path.join(project({ 'm.ts': `const name = './x.js';\nexport const load = () => import(name);\n` }), 'm.ts')],
      ['import.meta.resolve', () => path.join(project({ 'm.ts': `export const r = import.meta.resolve('./x.js');\n` }), 'm.ts')],
      [
        'CommonJS (no "type": "module")',
        () => {
          const root = project({ 'm.ts': `export const a = 1;\n` });
          writeFileSync(path.join(root, 'package.json'), '{}');
          return path.join(root, 'm.ts');
        },
      ],
      ['a .cts module', () => path.join(project({ 'm.cts': `export const a = 1;\n` }), 'm.cts')],
      ['a syntax error', () => path.join(project({ 'm.ts': `export const a = ;\n` }), 'm.ts')],
      ['no node_modules above it', () => path.join(project({ 'm.ts': `export const a = 1;\n` }, { nodeModules: false }), 'm.ts')],
      [
        'a package its import would find elsewhere than the output does',
        () => {
          const root = project({ 'm.ts': `export { v } from './sub/b.js';\n`, 'sub/b.ts': `import { version } from 'pkg';\nexport const v = version;\n` });
          for (const [dir, version] of [['node_modules/pkg', 'top'], ['sub/node_modules/pkg', 'nested']] as const) {
            write(root, `${dir}/package.json`, JSON.stringify({ name: 'pkg', type: 'module', exports: './index.js' }));
            write(root, `${dir}/index.js`, `export const version = '${version}';\n`);
          }
          return path.join(root, 'm.ts');
        },
      ],
    ];
    for (const [what, make] of cases) it(what, async () => expect(await compileForWorkers(make())).toBeNull());
  });

  it('workerModule: only TypeScript file modules, and not when populate.compile_typescript is false', async () => {
    const root = project({ 'm.ts': `export const a = 1;\n`, 'n.ts': `export const a = 1;\n`, 'j.js': `export const a = 1;\n` });
    expect(await workerModule(pathToFileURL(path.join(root, 'j.js')).href)).toBeNull();
    expect(await workerModule('some-package')).toBeNull();
    expect(await workerModule(pathToFileURL(path.join(root, 'm.ts')).href)).toMatch(/\/m-[0-9a-f]{16}\.mjs$/);
    config.set('populate.compile_typescript', false);
    expect(await workerModule(pathToFileURL(path.join(root, 'n.ts')).href)).toBeNull();
  });
});
