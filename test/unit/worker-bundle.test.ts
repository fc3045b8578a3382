/**
 * TypeScript table modules compiled for populate's worker threads (src/populate/worker-bundle.ts):
 * what a thread imports from the output must behave as the module does under tsx, and whatever
 * the output could not do the same is left to tsx (null). Projects are built in temporary
 * directories; each output is imported by a plain worker thread, with no tsx and no vitest.
 */
import { mkdtempSync, mkdirSync, readdirSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import { config } from '../../src/config.js';
import { compileForWorkers, workerBundle } from '../../src/populate/worker-bundle.js';

/** A project directory with the given files (and node_modules, where the output goes). */
function project(files: Record<string, string>, { nodeModules = true } = {}): string {
  const root = mkdtempSync(path.join(tmpdir(), 'dj-bundle-'));
  if (nodeModules) mkdirSync(path.join(root, 'node_modules'));
  writeFileSync(path.join(root, 'package.json'), JSON.stringify({ type: 'module' }));
  for (const [name, text] of Object.entries(files)) write(root, name, text);
  return root;
}
function write(root: string, name: string, text: string): void {
  mkdirSync(path.dirname(path.join(root, name)), { recursive: true });
  writeFileSync(path.join(root, name), text);
}

/** In a fresh worker thread: import `url`, then evaluate `expr` with the module as `m`. */
function inThread(url: string, expr: string): Promise<unknown> {
  const code = `const { parentPort, workerData } = require('node:worker_threads');
    import(workerData.url).then(async (m) => parentPort.postMessage(await (${expr}))).catch((e) => parentPort.postMessage({ failed: String(e) }));`;
  return new Promise((resolve, reject) => {
    const w = new Worker(code, { eval: true, workerData: { url } });
    w.once('message', (m) => void w.terminate().then(() => resolve(m)));
    w.once('error', reject);
  });
}

const outputs = (root: string) => readdirSync(path.join(root, 'node_modules', '.cache', 'datajoint', 'workers')).filter((n) => !n.endsWith('.json'));

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
  afterEach(() => config.set('populate.worker_bundle', true));

  it('compiles a module and the local modules it imports into JavaScript a plain thread imports, each file keeping its own import.meta and class names', async () => {
    const root = pipelineProject();
    const url = await compileForWorkers(path.join(root, 'pipeline.ts'));
    expect(url).toMatch(/^file:.*\/node_modules\/\.cache\/datajoint\/workers\/[0-9a-f]+-[0-9a-f]+\/pipeline\.mjs$/);
    const seen = (await inThread(url!, `({ urls: m.urls, dirs: m.dirs, names: m.names, value: m.value, lazyBefore: [globalThis.lazyRan ?? false, globalThis.lazyPkgRan ?? false], answer: (await m.lazy()).answer, lazyAfter: globalThis.lazyRan })`)) as Record<string, unknown>;
    expect(seen).toEqual({
      urls: { main: pathToFileURL(path.join(root, 'pipeline.ts')).href, other: pathToFileURL(path.join(root, 'lib/other.ts')).href },
      dirs: { main: root, file: path.join(root, 'pipeline.ts'), other: path.join(root, 'lib') },
      // Both classes are top-level `Thing`s of one bundle: one is renamed, its name is kept.
      names: ['Thing', 'Thing'],
      value: 1,
      // A module imported lazily stays lazy.
      lazyBefore: [false, false],
      answer: 42,
      lazyAfter: true,
    });
  });

  it('reuses its output while no input changed, and builds again when one did', async () => {
    const root = pipelineProject();
    const file = path.join(root, 'pipeline.ts');
    const first = await compileForWorkers(file);
    const manifest = () => readdirSync(path.join(root, 'node_modules/.cache/datajoint/workers')).filter((n) => n.endsWith('.json')).map((n) => statSync(path.join(root, 'node_modules/.cache/datajoint/workers', n)).mtimeMs);
    const built = manifest();
    await new Promise((r) => setTimeout(r, 20));
    expect(await compileForWorkers(file)).toBe(first);
    expect(manifest()).toEqual(built); // not built again
    write(root, 'lib/other.ts', OTHER.replace('value: number = 1', 'value: number = 2'));
    const second = await compileForWorkers(file);
    expect(second).not.toBe(first);
    expect(await inThread(second!, 'm.value')).toBe(2);
    expect(outputs(root)).toHaveLength(2); // the first is kept a day: a running process may still load its chunks
  });

  it('removes outputs of the module older than a day', async () => {
    const root = pipelineProject();
    const file = path.join(root, 'pipeline.ts');
    const old = path.dirname(new URL((await compileForWorkers(file))!).pathname);
    const twoDaysAgo = new Date(Date.now() - 2 * 24 * 3600_000);
    utimesSync(old, twoDaysAgo, twoDaysAgo);
    write(root, 'lib/other.ts', OTHER.replace('value: number = 1', 'value: number = 3'));
    const current = await compileForWorkers(file);
    expect(outputs(root)).toEqual([path.basename(path.dirname(new URL(current!).pathname))]);
  });

  it('processes compiling one module at once each get a complete output, and leave nothing half-written', async () => {
    const root = pipelineProject();
    const urls = await Promise.all(Array.from({ length: 4 }, () => compileForWorkers(path.join(root, 'pipeline.ts'))));
    expect(new Set(urls).size).toBe(1);
    expect(outputs(root).some((n) => n.includes('-tmp-'))).toBe(false);
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

  it('workerBundle: only TypeScript file modules, and not when populate.worker_bundle is false', async () => {
    const root = project({ 'm.ts': `export const a = 1;\n`, 'n.ts': `export const a = 1;\n`, 'j.js': `export const a = 1;\n` });
    expect(await workerBundle(pathToFileURL(path.join(root, 'j.js')).href)).toBeNull();
    expect(await workerBundle('some-package')).toBeNull();
    expect(await workerBundle(pathToFileURL(path.join(root, 'm.ts')).href)).toMatch(/\/m\.mjs$/);
    config.set('populate.worker_bundle', false);
    expect(await workerBundle(pathToFileURL(path.join(root, 'n.ts')).href)).toBeNull();
  });
});
