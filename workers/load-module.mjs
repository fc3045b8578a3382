// Loads a table module: in populate's worker threads (populate-worker.mjs) and in the
// `dj populate` command. Plain JS with no import of datajoint itself, like the worker entry.
// A TypeScript module needs tsx's loader registered in the thread that imports it (loader
// hooks do not cross threads), so it is registered here, once per thread, and only when a
// TypeScript module is loaded: JavaScript modules never need tsx.

let tsLoader = null;

/** Whether `url` names a TypeScript module (.ts .mts .cts .tsx). */
export function isTypeScript(url) {
  return /\.(m|c)?tsx?$/.test(url);
}

/**
 * Import `url` (a file URL or a package specifier), registering tsx first for TypeScript.
 * `preload`: a JavaScript module the TypeScript one is known to import (populate passes the
 * entry of the compiled datajoint package it runs from), imported before tsx's loader is
 * registered: once it is, every import goes through tsx's hooks thread, and the library's
 * hundred-odd modules took 270-490 ms per thread that way against about 120 without.
 */
export async function loadModule(url, preload) {
  if (!isTypeScript(url)) return import(url);
  // A failure here is left to the module's own import, which reports it in its context.
  if (preload && !tsLoader) await import(preload).catch(() => {});
  tsLoader ??= import('tsx/esm/api').then(
    (m) => m.register(),
    () => {
      tsLoader = null;
      throw new Error(`The table module ${url} is TypeScript: install tsx (npm i -D tsx) so it can be loaded, or point at compiled JavaScript`);
    },
  );
  return tsLoader.then(() => import(url));
}
