/**
 * workers/load-module.mjs as populate's worker threads use it: a TypeScript table module is
 * loaded with tsx, and the compiled library it imports (`preload`) is imported before tsx's
 * loader is registered (through the loader's hooks thread it cost 2-4× as much), once.
 */
import { Worker } from 'node:worker_threads';
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';

const loader = new URL('../../workers/load-module.mjs', import.meta.url).href;
const fixture = (name: string) => new URL(`../fixtures/preload/${name}`, import.meta.url).href;

/** Run loadModule in a fresh thread (tsx's registration is per thread) and return its log. */
async function inThread(calls: Array<[string, string?]>): Promise<{ log: string[]; error?: string }> {
  const code = `
    const { parentPort, workerData } = require('node:worker_threads');
    (async () => {
      const { loadModule } = await import(workerData.loader);
      try {
        for (const [url, preload] of workerData.calls) await loadModule(url, preload);
        parentPort.postMessage({ log: globalThis.__djPreloadLog ?? [] });
      } catch (e) {
        parentPort.postMessage({ log: globalThis.__djPreloadLog ?? [], error: String(e && e.message) });
      }
    })();`;
  const w = new Worker(code, { eval: true, workerData: { loader, calls } });
  const [msg] = (await once(w, 'message')) as [{ log: string[]; error?: string }];
  await w.terminate();
  return msg;
}

describe('loadModule with a preload', () => {
  it('imports the preload before registering tsx, then the TypeScript module over it', async () => {
    const r = await inThread([[fixture('tables.ts'), fixture('library.mjs')]]);
    expect(r.error).toBeUndefined();
    expect(r.log).toEqual(['library (tsx inactive)', 'module (answer 42)']);
  });

  it('without a preload, the library is loaded through tsx by the module itself', async () => {
    const r = await inThread([[fixture('tables.ts')]]);
    expect(r.error).toBeUndefined();
    expect(r.log).toEqual(['library (tsx active)', 'module (answer 42)']);
  });

  it('a preload that fails to import is left to the module, which reports its own error', async () => {
    const r = await inThread([[fixture('tables.ts'), fixture('missing.mjs')]]);
    expect(r.error).toBeUndefined();
    expect(r.log).toEqual(['library (tsx active)', 'module (answer 42)']);
  });

  it('a JavaScript module needs no preload and no tsx', async () => {
    const r = await inThread([[fixture('library.mjs'), fixture('missing.mjs')]]);
    expect(r.error).toBeUndefined();
    expect(r.log).toEqual(['library (tsx inactive)']);
  });
});
